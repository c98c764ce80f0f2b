"""Model selection: accuracy by cross-validation with the regularisation chosen inside each
training fold.

:func:`cross_validate_text` runs on raw texts (any scikit-learn classifier or pipeline that
takes them); the command line's ``cv`` runs it on text and on LIBSVM rows.
"""

import numbers
import time

import numpy as np
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_scalar, validate_data

from ._constants import GRID, LOSSES, fit_solver
from ._path import (
    PATH_FACTOR,
    PATH_PATIENCE,
    best_choice,
    c_min,
    fold_parts,
    path_Cs,
    run_path,
)
from ._validation import (
    check_labels,
    check_real,
    checked_csr,
    checked_sample_weight,
    class_weighted,
)
from .linear_model import LinearClassifier

__all__ = ["GRID", "LinearClassifierCV", "cross_validate_text", "fit_fold"]


def cross_validate_text(estimator, texts, y, *, folds=10, grid="auto", param="classifier__C",
                        inner_folds=3, random_state=0, progress=None):
    """Accuracy of any classifier on raw texts by stratified k-fold cross-validation.

    In each training fold, ``param`` is chosen by a stratified ``inner_folds``-fold search
    (accuracy, the first best value on ties), the estimator is refitted on the whole
    training fold and scored on the held-out fold. With ``grid='auto'`` and ``param`` the C
    of a :class:`~fasttext_lin.LinearClassifier`, the search is
    :class:`LinearClassifierCV`'s warm-started path (the classifier's loss, intercept and
    class weights; solver 'auto'), run on the features the pipeline's earlier steps compute
    once per training fold; otherwise it is a
    :class:`~sklearn.model_selection.GridSearchCV` over ``grid`` (``GRID`` for 'auto'),
    which refits the whole pipeline in each inner fold.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier or pipeline that takes raw texts (it is cloned).
    texts : sequence of str
    y : array-like of shape (n_documents,)
    folds : int, default=10
        Outer folds.
    grid : 'auto', sequence, scalar or None, default='auto'
        Values of ``param`` to search; one value sets it without a search; None keeps the
        estimator's own (a classifier that chooses its C itself, as
        :class:`LinearClassifierCV` or ``NBSVM(C='auto')``, reports its choice).
    param : str, default='classifier__C'
        The parameter searched, e.g. ``'linearsvc__C'`` for ``make_pipeline(...,
        LinearSVC())``.
    inner_folds : int, default=3
        Folds of the inner search.
    random_state : int, default=0
        Seeds the shuffles of the outer and inner folds.
    progress : callable or None, default=None
        Called after each outer fold as ``progress(fold, accuracy, chosen)`` (``fold``
        counts from 1).

    Returns
    -------
    sklearn.utils.Bunch
        ``fold_accuracy`` (ndarray of shape (folds,)), ``fold_chosen`` (list: the value of
        ``param`` used in each fold, None if the estimator has no such parameter),
        ``mean_accuracy``, ``std_accuracy`` (population
        standard deviation over the folds), ``wall_time`` (seconds), ``param``.
    """
    texts = np.asarray(texts, dtype=object)
    y = np.asarray(y)
    if texts.ndim != 1 or texts.shape[0] != y.shape[0]:
        raise ValueError(f"cross_validate_text: {texts.shape[0]} texts but {y.shape[0]} "
                         "labels; pass one label per text.")
    if isinstance(grid, str) and grid == "auto":
        estimator, values = _with_path(estimator, param, _inner(inner_folds, random_state))
    else:
        values = None if grid is None else list(np.atleast_1d(grid).tolist())
    if values is not None and not values:
        raise ValueError("cross_validate_text: grid is empty; pass values or None.")
    start = time.perf_counter()
    outer = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    accuracy, chosen = [], []
    for fold, (train, test) in enumerate(outer.split(texts, y), start=1):
        model, value = fit_fold(estimator, texts[train], y[train], param, values,
                                 inner_folds, random_state)
        accuracy.append(float(np.mean(model.predict(texts[test]) == y[test])))
        chosen.append(value)
        if progress is not None:
            progress(fold, accuracy[-1], value)
    accuracy = np.asarray(accuracy)
    return Bunch(fold_accuracy=accuracy, fold_chosen=chosen,
                 mean_accuracy=float(accuracy.mean()), std_accuracy=float(accuracy.std()),
                 wall_time=time.perf_counter() - start, param=param)


def fit_fold(estimator, texts, y, param, values, inner_folds, random_state):
    """The estimator fitted on one training fold, and the value of ``param`` it used
    (searched among ``values`` by stratified ``inner_folds`` folds; None: the estimator's
    own, or the C it chose itself)."""
    if values is None or len(values) == 1:
        model = clone(estimator)
        if values is not None:
            model.set_params(**{param: values[0]})
        model.fit(texts, y)
        owner = _owner(model, param)
        chosen = getattr(owner, "C_", None) if param.endswith("C") else None
        return model, model.get_params().get(param) if chosen is None else chosen
    search = GridSearchCV(clone(estimator), {param: values},
                          cv=_inner(inner_folds, random_state), scoring="accuracy")
    search.fit(texts, y)
    return search.best_estimator_, search.best_params_[param]


def _inner(inner_folds, random_state):
    """The folds of the inner search."""
    return StratifiedKFold(inner_folds, shuffle=True, random_state=random_state)


def _owner(estimator, param):
    """The step of ``estimator`` that ``param`` (``'step__name'``) belongs to, or None."""
    path = param.rpartition("__")[0]
    return estimator.get_params().get(path) if path else estimator


def _with_path(estimator, param, inner):
    """``(estimator, values)`` of ``grid='auto'``: a LinearClassifier whose C is ``param``
    replaced by the LinearClassifierCV that searches it (values None), else the estimator
    and ``GRID``."""
    owner = _owner(estimator, param)
    if not (param.rpartition("__")[2] == "C" and type(owner) is LinearClassifier):
        return estimator, list(GRID)
    path = LinearClassifierCV(
        losses=owner.loss, cv=inner, fit_intercept=owner.fit_intercept,
        intercept_scaling=owner.intercept_scaling, class_weight=owner.class_weight,
        random_state=owner.random_state, n_jobs=owner.n_jobs)
    name = param.rpartition("__")[0]
    return (clone(estimator).set_params(**{name: path}) if name else path), None


class LinearClassifierCV(ClassifierMixin, BaseEstimator):
    """:class:`~fasttext_lin.LinearClassifier` with C (and the loss) chosen by
    cross-validation along a warm-started regularisation path.

    For each loss, the path runs from strong to weak regularisation, ``C_k = C_min
    factor^k``, where ``C_min`` (:func:`fasttext_lin._path.c_min`) is computed from the
    data: the largest C at which every hinge problem is in its linear regime (all dual
    variables at their bounds, ``w = C sum_i s_i y_i x_i``): below it the hinge model's
    predictions do not change. Log loss and softmax start there too (their model only tends
    to that direction as C goes to 0). On each fold, each C starts from the previous C's
    solution (``warm_start``: the 'cd' duals, or the weights). With ``Cs='auto'`` a loss's
    path stops after ``n_iter_no_change`` steps without a mean CV score above its best so far
    (up to 2^49 C_min); steps that score exactly as the first C did, before any improvement,
    do not count (near ``C_min`` the predictions barely change). liblinear's ``-C`` search
    runs such a path with factor 2 (and stops when the weights stop changing, or at C =
    1024).

    The (loss, C) of the best mean score is chosen, the first on ties (losses in the order
    of ``losses``, then increasing C), and the model is refitted at it on all the data. A
    'cd' refit starts from the folds' dual variables at that C, each row's mean over the
    folds that trained on it (:func:`fold_mean_duals`); the other solvers start from zero.

    Parameters
    ----------
    Cs : 'auto', int or array-like of float, default='auto'
        'auto': the path from ``C_min`` by ``factor``, stopped as above. An int: that many
        points of the path, all run. An array: those values (run in increasing order, each
        warm-started from the smaller one), all run.
    losses : 'auto', str or sequence of str, default='auto'
        The losses compared (see :class:`LinearClassifier`). 'auto': 'hinge' and 'log_loss'
        for two classes; for more, 'hinge' and 'softmax' when X has fewer features than
        rows, else 'hinge' alone (:func:`auto_losses`).
    cv : int, cross-validation generator or iterable, default=5
        As :func:`sklearn.model_selection.check_cv` takes it (an int: ``StratifiedKFold``
        without shuffling, as ``LogisticRegressionCV``).
    scoring : str, callable or None, default=None
        A scikit-learn scorer; None is accuracy. Scores are unweighted.
    factor : float, default=4.0
        Ratio of consecutive Cs of the path, > 1.
    n_iter_no_change : int, default=3
        ``Cs='auto'``: path steps without improvement before a loss's path stops (with the
        default factor, 64 times past the best C).
    solver : {'auto', 'cd', 'sgd'}, default='auto'
        :class:`LinearClassifier`'s (the exact solver of each loss where it has one).
    tol, max_iter, fit_intercept, intercept_scaling, class_weight, random_state
        Passed to every :class:`LinearClassifier` fitted (defaults as its own; ``tol`` is
        the relative duality gap of the exact solvers), ``tol`` to the refit only. An int
        ``cv`` needs as many samples of each class.
    path_tol : float or None, default=1e-2
        ``tol`` of the fits on the folds, whose held-out scores alone are used (None:
        ``tol``). At a relative duality gap of 1e-2 a few held-out predictions may differ
        from the optimum's, at a fraction of the passes; None gives the scores of the
        optimum, to ``tol``.
    n_jobs : int or None, default=None
        Threads: over the classes of a one-vs-rest fit, else over the folds' fits of each
        path step; then the refit's. The chosen model does not depend on it (one-vs-rest
        models do not, the other fits on folds run on one thread each, the refit with
        ``parallel='deterministic'``).
    verbose : int, default=0
        Print the mean score at each path step.

    Attributes
    ----------
    C_ : float
    loss_ : str
    best_score_ : float
        Mean CV score at (``loss_``, ``C_``).
    best_estimator_ : LinearClassifier
        Refitted on all the data at the choice.
    C_min_ : float
        Where the path starts (with ``Cs='auto'`` or an int).
    Cs_ : dict
        loss -> ndarray of the Cs run.
    cv_results_ : dict of ndarray
        One entry per (loss, C) run, as ``GridSearchCV``'s: ``param_C``, ``param_loss``,
        ``params``, ``split{k}_test_score``, ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``, ``mean_fit_time``, ``std_fit_time``, ``mean_score_time``,
        ``std_score_time`` (times of one fold's fit, in seconds).
    classes_, coef_, intercept_, n_iter_, n_features_in_
        Those of ``best_estimator_`` (``n_features_in_`` and ``feature_names_in_`` are set
        by this estimator's own fit).
    """

    def __init__(self, Cs="auto", *, losses="auto", cv=5, scoring=None, factor=PATH_FACTOR,
                 n_iter_no_change=PATH_PATIENCE, solver="auto", tol=1e-3, path_tol=1e-2,
                 max_iter=1000, fit_intercept=True, intercept_scaling=1.0, class_weight=None,
                 n_jobs=None, random_state=None, verbose=0):
        self.Cs = Cs
        self.losses = losses
        self.cv = cv
        self.scoring = scoring
        self.factor = factor
        self.n_iter_no_change = n_iter_no_change
        self.solver = solver
        self.tol = tol
        self.path_tol = path_tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Run the path on the folds, choose (loss, C), refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Converted to CSR once; the folds' rows are selected from it.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits (the scores are unweighted).

        Returns
        -------
        self
        """
        base, losses = self._checked_params()
        check_labels(y)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             accept_large_sparse=True)
        check_classification_targets(y)
        X = checked_csr(X)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes, got "
                             f"one class: every label in y is {classes[0].tolist()!r}.")
        weight = checked_sample_weight(y, sample_weight)
        losses = auto_losses(classes.shape[0], X.shape) if losses is None else losses
        for loss in losses:
            base.set_params(loss=loss).check_params()
        _check_class_counts(self.cv, y)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y))
        self.C_min_ = c_min(X, y, classes, class_weighted(weight, y, classes, self.class_weight),
                            float(self.intercept_scaling) if self.fit_intercept else 0.0)
        Cs, patience = path_Cs(self.C_min_, self.Cs, self.factor, self.n_iter_no_change)
        # Each fold's rows are selected once and shared by its losses and Cs.
        on_folds = clone(base).set_params(
            tol=self.tol if self.path_tol is None else self.path_tol)
        starts = {}
        results = run_path(on_folds, fold_parts(X, y, weight, folds), losses, Cs, patience,
                           check_scoring(base, scoring=self.scoring), self.n_jobs,
                           self.verbose, starts)
        self.cv_results_ = _cv_results(results, len(folds))
        self.Cs_ = {loss: np.array([r[0] for r in rows]) for loss, rows in results.items()}
        self.loss_, self.C_, self.best_score_ = best_choice(results)
        self.best_score_ = float(self.best_score_)
        refit = clone(base).set_params(loss=self.loss_, C=self.C_, n_jobs=self.n_jobs)
        if fit_solver(self.solver, self.loss_, X.shape) == "sgd":
            # SGD's threads on one model (Hogwild) would make the choice's model vary.
            refit.set_params(parallel="deterministic")
        start = fold_mean_duals(starts.get(self.loss_, ()), folds, X.shape[0])
        if start is not None:
            refit.set_params(warm_start=True).dual_coef_ = start
        self.best_estimator_ = refit.fit(X, y, sample_weight=weight)
        self.best_estimator_.set_params(warm_start=base.warm_start)
        return self

    def check_params(self):
        """Check every parameter, without data: raise ``ValueError`` (or ``TypeError``) naming
        the parameter, its value and the valid range (``fit`` checks them too)."""
        base, losses = self._checked_params()
        for loss in losses or _AUTO_LOSSES:
            base.set_params(loss=loss).check_params()

    def _checked_params(self):
        """The LinearClassifier fitted on the folds (parameters checked) and the losses
        (None for 'auto')."""
        losses = self.losses
        if isinstance(losses, str) and losses == "auto":
            losses = None
        else:
            losses = [losses] if isinstance(losses, str) else list(losses)
            if not losses or len(set(losses)) < len(losses) or not set(losses) <= set(LOSSES):
                raise ValueError(f"losses={self.losses!r} is invalid: give 'auto', a loss or "
                                 f"a list of distinct losses among {list(LOSSES)}.")
        if isinstance(self.Cs, str):
            if self.Cs != "auto":
                raise ValueError(f"Cs={self.Cs!r} is invalid: give 'auto', an int number of "
                                 "path points or a list of Cs > 0.")
        elif isinstance(self.Cs, numbers.Integral):
            check_scalar(self.Cs, "Cs", numbers.Integral, min_val=1)
        else:
            values = np.asarray(self.Cs, dtype=np.float64).ravel()
            if values.size == 0 or not np.all(np.isfinite(values) & (values > 0)):
                raise ValueError(f"Cs={self.Cs!r} is invalid: give 'auto', an int number of "
                                 "path points or a non-empty list of finite Cs > 0.")
        check_real(self.factor, "factor", min_val=1.0, include_boundaries="neither")
        check_scalar(self.n_iter_no_change, "n_iter_no_change", numbers.Integral, min_val=1)
        if self.path_tol is not None:
            check_real(self.path_tol, "path_tol", min_val=0.0, include_boundaries="neither")
        base = LinearClassifier(
            solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            fit_intercept=self.fit_intercept, intercept_scaling=self.intercept_scaling,
            class_weight=self.class_weight, random_state=self._seed(), verbose=0, n_jobs=1)
        base.check_params()
        return base, losses

    def _seed(self):
        """One int seed for every fit, so that all folds and the refit share it."""
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # -- the chosen classifier's API --------------------------------------------------------

    def _checked(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                             accept_large_sparse=True, reset=False)

    def decision_function(self, X):
        """``best_estimator_``'s :meth:`LinearClassifier.decision_function`."""
        X = self._checked(X)
        return self.best_estimator_.decision_function(X)

    def predict(self, X):
        """``best_estimator_``'s :meth:`LinearClassifier.predict`."""
        X = self._checked(X)
        return self.best_estimator_.predict(X)

    @available_if(lambda self: hasattr(self.best_estimator_, "predict_proba"))
    def predict_proba(self, X):
        """``best_estimator_``'s :meth:`LinearClassifier.predict_proba` (a loss with
        probabilities was chosen)."""
        X = self._checked(X)
        return self.best_estimator_.predict_proba(X)

    @available_if(lambda self: hasattr(self.best_estimator_, "predict_log_proba"))
    def predict_log_proba(self, X):
        """``best_estimator_``'s :meth:`LinearClassifier.predict_log_proba`."""
        X = self._checked(X)
        return self.best_estimator_.predict_log_proba(X)

    @property
    def classes_(self):
        return self.best_estimator_.classes_

    @property
    def coef_(self):
        return self.best_estimator_.coef_

    @property
    def intercept_(self):
        return self.best_estimator_.intercept_

    @property
    def n_iter_(self):
        return self.best_estimator_.n_iter_


def _check_class_counts(cv, y):
    """Refuse an int ``cv`` above the count of the smallest class (stratified folds)."""
    if not isinstance(cv, numbers.Integral):
        return
    labels, counts = np.unique(y, return_counts=True)
    if counts.min() < cv:
        raise ValueError(f"cv={cv} stratified folds need {cv} samples of each class, but class "
                         f"{labels[counts.argmin()].tolist()!r} has {counts.min()}: give a "
                         "smaller cv, or fit a LinearClassifier at a fixed C.")


# Every loss that LinearClassifierCV's losses='auto' may compare.
_AUTO_LOSSES = ("hinge", "log_loss", "softmax")


def auto_losses(n_classes, shape):
    """The losses :class:`LinearClassifierCV` compares with ``losses='auto'`` for
    ``n_classes`` classes on X of ``shape`` ``(n_samples, n_features)``.

    Two classes: 'hinge' and 'log_loss'. More: 'hinge' and 'softmax' on tall X, where the
    multinomial model often wins; on wide X (``n_features >= n_samples``, text) 'hinge'
    alone: there the softmax's Newton fit of ``n_features * n_classes`` weights costs many
    one-vs-rest hinge fits and did not win on 20 Newsgroups. Give ``losses`` to compare
    others.
    """
    if n_classes == 2:
        return ("hinge", "log_loss")
    return ("hinge", "softmax") if shape[1] < shape[0] else ("hinge",)


def fold_mean_duals(duals, folds, n_samples):
    """A start for the refit on all ``n_samples`` rows from the folds' dual variables at the
    chosen C: each row's mean over the folds that trained on it (0 where none did). None
    when a fold has none (not 'cd') or solved other problems (a class missing from it)."""
    if not duals or any(dual is None or dual.shape != duals[0].shape[:1] + (train.shape[0],)
                        for dual, (train, _) in zip(duals, folds)):
        return None
    total = np.zeros((duals[0].shape[0], n_samples))
    count = np.zeros(n_samples)
    for dual, (train, _) in zip(duals, folds):
        total[:, train] += dual
        count[train] += 1
    return total / np.maximum(count, 1)


def _cv_results(results, n_folds):
    """GridSearchCV's ``cv_results_`` of :func:`~fasttext_lin._path.run_path`'s rows."""
    rows = [(loss, *row) for loss, runs in results.items() for row in runs]
    scores = np.array([row[2] for row in rows])
    out = {"param_C": np.array([row[1] for row in rows]),
           "param_loss": np.array([row[0] for row in rows], dtype=object),
           "params": [{"C": row[1], "loss": row[0]} for row in rows]}
    for k in range(n_folds):
        out[f"split{k}_test_score"] = scores[:, k]
    out["mean_test_score"] = scores.mean(axis=1)
    out["std_test_score"] = scores.std(axis=1)
    out["rank_test_score"] = rankdata(-out["mean_test_score"], method="min").astype(np.int32)
    for name, column in (("fit", 3), ("score", 4)):
        times = np.array([row[column] for row in rows])
        out[f"mean_{name}_time"], out[f"std_{name}_time"] = times.mean(axis=1), times.std(axis=1)
    return out

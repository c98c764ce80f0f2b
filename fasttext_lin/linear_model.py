"""Linear classifiers trained by SGD with jitted epochs, following scikit-learn's API."""

import numbers
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from scipy.optimize import minimize
from scipy.special import expit, log_expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, check_scalar, validate_data

from . import _sgd_kernels as K
from . import _softmax_kernels as S
from . import _threads
from ._constants import LOSSES, PARALLEL_MODES, PROBA_LOSSES
from ._validation import check_labels

# As the error messages show them.
_PROBA_LOSSES, _LOSSES, _PARALLEL_MODES = PROBA_LOSSES, list(LOSSES), PARALLEL_MODES

# Stop lowering the 'adaptive' step below this, as scikit-learn does.
_MIN_ADAPTIVE_ETA = 1e-6
# Held-out folds of probability=True, as SVC's (libsvm's) and CalibratedClassifierCV's default.
_CALIBRATION_FOLDS = 5
# Features per block when the softmax solution is read out (_SoftmaxState.solution).
_SOLUTION_BLOCK = 4096
# SGDClassifier's damping of the intercept's steps on sparse X (sklearn.linear_model._base).
_SPARSE_INTERCEPT_DECAY = 0.01


class LinearClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier (SVM, logistic regression, ...) trained by SGD on sparse data.

    Minimises ``(1/n) sum_i s_i L(y_i, w.x_i + b) + alpha/2 ||w||^2`` by SGD, where
    ``s_i`` is the sample weight times the class weight. Multi-class problems are
    solved one-vs-rest, but for 'softmax', which trains one multinomial model of all
    the classes. The parameters follow :class:`sklearn.linear_model.SGDClassifier`.

    Parameters
    ----------
    loss : {'hinge', 'squared_hinge', 'log_loss', 'modified_huber', 'squared_error', \
'softmax'}
        The loss ``L``. 'hinge' is the linear SVM, 'log_loss' logistic regression,
        'softmax' multinomial logistic regression: ``L = log sum_k exp(z_k) - z_y`` with
        ``z_k = w_k.x + b_k``, one weight vector per class, regularised by
        ``alpha/2 ||W||^2`` over all of them (``LogisticRegression``'s multinomial objective
        divided by ``C n`` when ``C`` is given). With two classes it trains the two weight
        vectors and exposes, as scikit-learn's binary models do, ``coef_ = w_1 - w_0`` and
        ``intercept_ = b_1 - b_0`` (one row): the sigmoid of that score is the softmax
        probability of ``classes_[1]``. At the optimum ``w_0 = -w_1``, so the two-class
        softmax at ``alpha`` is 'log_loss' at ``alpha / 2``.
    alpha : float, default=1e-4
        L2 regularisation strength, finite and >= 0 (> 0 for 'optimal'); ignored when
        ``C`` is given.
    C : float, default=None
        LinearSVC-style regularisation: when given, ``alpha = 1 / (C * n_samples)``
        (``n_samples`` of the batch in :meth:`partial_fit`), which must be a finite float
        > 0: ``C`` finite and > 0 with ``C * n_samples`` between about 5.6e-309 and
        1.8e308. At equal ``C`` the objective is LinearSVC's / liblinear's
        ``1/2 ||w||^2 + C sum_i s_i L_i`` divided by ``C n``, so both have the same
        minimiser (liblinear also regularises its intercept; use a bias column and
        ``fit_intercept=False`` to compare like with like).
    learning_rate : {'optimal', 'constant', 'invscaling', 'adaptive'}, default='optimal'
        Step size at step ``t``: 'optimal' ``1 / (alpha (t0 + t - 1))`` with Bottou's
        heuristic ``t0``, capped so that the first step stays below
        ``1 / (curvature max_i s_i ||x_i||^2)`` for the smooth losses (curvature 1/2 for
        'softmax', 1/4 for 'log_loss'); 'constant' ``eta0``; 'invscaling' ``eta0 / t**power_t``;
        'adaptive' ``eta0``, divided by 5 each time ``n_iter_no_change`` epochs pass
        without improving the objective by ``tol``.
    eta0 : float, default=0.01
        Initial step for 'constant', 'invscaling' and 'adaptive'.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=1000
        Maximum number of epochs.
    tol : float or None, default=1e-3
        Stop when the epoch's objective has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; None runs ``max_iter`` epochs.
    n_iter_no_change : int, default=5
        See ``tol``.
    shuffle : bool, default=True
        Visit the rows in a fresh random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.
    fit_intercept : bool, default=True
        Learn an unregularised intercept.
    intercept_decay : 'auto' or float, default='auto'
        The intercept's step is the weights' step times this, in (0, 1]. 'auto' is
        SGDClassifier's rule for its losses: 0.01 (``SPARSE_INTERCEPT_DECAY``) when X is a
        sparse matrix, 1.0 for a dense array. On sparse rows the intercept moves at every
        row, a weight only at the rows holding its feature: undamped, it drifts (one-vs-rest
        with many classes: 0.34 vs 0.64 test accuracy in tests/test_multiclass_edge.py).
        'softmax' (no SGDClassifier counterpart) keeps 1.0: its intercepts are not
        one-vs-rest, and damping them slowed its convergence to LogisticRegression's
        optimum 4-5x (dna, pendigits, bench/bench_multiclass.py).
    average : bool or int, default=False
        Average the weights over the steps (averaged SGD); an int starts averaging
        after that many samples.
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes (finite, >= 0), multiplied into the sample weights.
    warm_start : bool, default=False
        Start :meth:`fit` from the previous solution (X must have its feature count).
    n_jobs : int or None, default=None
        Threads (the epoch kernels release the GIL); None is 1, -1 all cores. A model of
        one problem (two classes, or 'softmax') is trained on ``n_jobs`` threads as
        ``parallel`` says. A one-vs-rest multi-class fit trains its problems on
        ``n_jobs`` threads at the same time, each problem on one thread; each has its own
        seed, drawn before the threads start, so that model does not depend on ``n_jobs``.
    parallel : {'hogwild', 'deterministic'}, default='hogwild'
        How several threads train one model; each epoch's rows are shuffled first.
        'hogwild': each thread runs SGD on its contiguous slice of the shuffled rows,
        sharing the weights, intercepts, L2 scale and step count without locks (Hogwild;
        at least 1024 rows a thread, so smaller epochs run on fewer threads, down to one);
        every 16384 rows per thread the threads meet to add up their averaging sums and
        fold the scale. Averaged SGD then keeps its sum lazily per feature (one more
        float64 per feature), which a lost update cannot derail. The model depends on the
        threads' timing, hence on ``n_jobs`` and the run; with one thread it is the serial
        model.
        'deterministic': iterative parameter mixing: the shuffled rows are cut into
        ``min(8, max(1, n // 2048))`` blocks (``n`` rows in the epoch), each block runs
        serial SGD from the same weights on a private copy, and the epoch ends with the
        mean of the blocks' weights, summed in block order. The model depends on the seed
        only, not on ``n_jobs`` (bit for bit); its step count ``t_`` advances by the
        largest block's length each epoch, and averaging sums the weights after every step of
        every block. With one block it is serial SGD (up to rounding).
    verbose : int, default=0
        Print one line per epoch when > 0.
    probability : bool, default=False
        Give 'hinge', 'squared_hinge' and 'squared_error' models probabilities, as
        ``SVC(probability=True)`` does: :meth:`fit` first trains the model on 5 stratified
        folds, ``StratifiedKFold(5, shuffle=True, random_state=random_state)``, fits Platt's
        sigmoid ``p_k = expit(a_k s_k + b_k)`` of each one-vs-rest score ``s_k`` to the
        held-out scores, then trains the model on all the data (6 fits in all). Each
        sigmoid maximises the (sample-weighted) likelihood of Platt's smoothed targets
        ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)`` by L-BFGS, as scikit-learn does: the
        probabilities are ``CalibratedClassifierCV(LinearClassifier(...), method='sigmoid',
        cv=StratifiedKFold(5, shuffle=True, random_state=random_state), ensemble=False)``'s
        (to the solvers' tolerance). Multi-class probabilities are normalised to sum to 1,
        binary ones are ``[1 - p, p]``. The sigmoid has its own intercept, so near the
        decision boundary the most probable class may differ from :meth:`predict`'s, as
        with SVC. Each class needs at least 5 samples, and :meth:`partial_fit` is
        unavailable (the calibration needs held-out folds). Ignored by 'log_loss',
        'modified_huber' and 'softmax', which have probabilities of their own.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        One row for two classes (the score of ``classes_[1]``), else one per class.
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Epochs run by the last :meth:`fit` (the largest over one-vs-rest problems).
    t_ : int
        Steps taken plus one, the ``t`` of the learning-rate schedule.
    n_features_in_ : int
    calibration_ : ndarray of shape (1, 2) or (n_classes, 2)
        Only with ``probability=True`` and a loss without probabilities of its own: the
        slope ``a_k`` and intercept ``b_k`` of the sigmoid of each row of ``coef_``.
    """

    def __init__(
        self, loss="hinge", *, alpha=1e-4, C=None, learning_rate="optimal", eta0=0.01,
        power_t=0.5, max_iter=1000, tol=1e-3, n_iter_no_change=5, shuffle=True,
        random_state=None, fit_intercept=True, intercept_decay="auto", average=False,
        class_weight=None, warm_start=False, n_jobs=None, parallel="hogwild", verbose=0,
        probability=False,
    ):
        self.loss = loss
        self.alpha = alpha
        self.C = C
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.intercept_decay = intercept_decay
        self.average = average
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.parallel = parallel
        self.verbose = verbose
        self.probability = probability

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Hogwild threads race: the model depends on their timing.
        tags.non_deterministic = self.parallel == "hogwild" and self.n_jobs not in (None, 1)
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model by ``max_iter`` epochs of SGD at most.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR with float32 or float64 values is used without a copy.
        y : array-like of shape (n_samples,)
            Labels: all str (without NUL characters) or all numbers.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._check_params()
        decay = self._intercept_decay(X)
        X, y = self._validate_input(X, y, reset=True)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, got one class: "
                f"every label in y is {classes[0].tolist()!r}."
            )
        weight = _checked_sample_weight(y, sample_weight)
        calibration = self._platt(X, y, classes, weight, decay) if self._calibrates() else None
        sgd = self._zeros(classes, X)
        warm = (self.warm_start and hasattr(self, "_sgd") and type(self._sgd) is type(sgd)
                and np.array_equal(classes, self.classes_))
        if warm:
            sgd.set_solution(*self._sgd.solution())
        self._run(X, y, classes, weight, sgd, self.max_iter, decay)
        if calibration is not None:
            self.calibration_ = calibration
        return self

    @available_if(lambda self: _without_calibration(self))
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over a batch, continuing from the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All the classes; required at the first call, ignored later.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._check_params()
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # A batch's class counts are not the data's (a batch may miss a class).
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: pass a dict, e.g. "
                "dict(zip(classes, compute_class_weight('balanced', classes=classes, y=y))) "
                "with y a large enough sample of all the training labels, or use fit."
            )
        first = not hasattr(self, "classes_")
        decay = self._intercept_decay(X)
        X, y = self._validate_input(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be given at the first call to partial_fit.")
            check_labels(classes, "classes")
            classes = np.unique(np.asarray(classes))
            if classes.shape[0] < 2:
                raise ValueError(f"classes must hold at least 2 classes; got {classes!r}.")
            sgd = self._zeros(classes, X)
        else:
            classes = self.classes_
            if type(self._sgd) is not _state_class(self.loss):
                raise ValueError(
                    f"loss={self.loss!r} cannot continue a model trained with another loss "
                    "('softmax' keeps one model of all classes, the others one per class); "
                    "call fit to start again."
                )
            sgd = self._sgd.copy(bool(self.average))
        unseen = np.setdiff1d(y, classes)
        if unseen.size:
            raise ValueError(
                f"y holds label(s) {unseen.tolist()} not in classes {classes.tolist()} "
                "given at the first call to partial_fit."
            )
        self._run(X, y, classes, _checked_sample_weight(y, sample_weight), sgd, 1, decay)
        return self

    def decision_function(self, X):
        """Signed scores ``X @ coef_.T + intercept_``.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          accept_large_sparse=True, reset=False)
        if sp.issparse(X):
            X = _checked_csr(X)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class of each row.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        best = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[best]

    @available_if(lambda self: _has_probabilities(self))
    def predict_proba(self, X):
        """Class probabilities (losses 'log_loss', 'modified_huber', 'softmax', or any
        loss with ``probability=True``).

        'softmax' gives the softmax of the class scores. One-vs-rest scores are turned
        into per-class probabilities (sigmoid for 'log_loss', ``(clip(d, -1, 1) + 1) / 2``
        for 'modified_huber', the fitted Platt sigmoid ``expit(a_k d + b_k)`` with
        ``probability=True``) and normalised.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if self.loss == "softmax":
            return np.exp(self.predict_log_proba(X))
        scores = self.decision_function(X)
        if self.loss == "log_loss":
            prob = expit(scores)
        elif self.loss == "modified_huber":
            prob = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        else:
            if not hasattr(self, "calibration_"):
                raise NotFittedError(
                    f"This {type(self).__name__} was fitted with probability=False: call fit "
                    "again with probability=True to calibrate its probabilities."
                )
            slope, intercept = self.calibration_.T
            prob = expit(scores * slope + intercept)
        if prob.ndim == 1:
            return np.column_stack([1.0 - prob, prob])
        total = prob.sum(axis=1, keepdims=True)
        # All one-vs-rest scores at -1 (modified huber): no information, uniform.
        empty = total[:, 0] == 0.0
        prob[empty] = 1.0
        total[empty] = prob.shape[1]
        return prob / total

    @available_if(lambda self: _has_probabilities(self))
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (for 'softmax' the log-softmax of the scores)."""
        if self.loss != "softmax":
            return np.log(self.predict_proba(X))
        scores = self.decision_function(X)
        if scores.ndim == 1:
            # Two classes: the score is z_1 - z_0, and softmax is shift-invariant.
            scores = np.column_stack([np.zeros_like(scores), scores])
        return log_softmax(scores, axis=1)

    # -- internals ---------------------------------------------------------------------------

    def _check_params(self):
        if self.loss not in _LOSSES:
            raise ValueError(f"loss={self.loss!r} is not one of {_LOSSES}.")
        if self.learning_rate not in K.SCHEDULE_CODES:
            raise ValueError(
                f"learning_rate={self.learning_rate!r} is not one of {sorted(K.SCHEDULE_CODES)}."
            )
        _check_real(self.alpha, "alpha", min_val=0.0)
        if self.C is not None:
            _check_real(self.C, "C", min_val=0.0, include_boundaries="neither")
        elif self.learning_rate == "optimal" and self.alpha == 0.0:
            raise ValueError("alpha must be > 0 with learning_rate='optimal'; "
                             "give alpha > 0 or choose another learning_rate.")
        if self.learning_rate != "optimal":
            _check_real(self.eta0, "eta0", min_val=0.0, include_boundaries="neither")
        _check_real(self.power_t, "power_t")
        check_scalar(self.max_iter, "max_iter", numbers.Integral, min_val=1)
        if self.tol is not None:
            _check_real(self.tol, "tol")
        if not (isinstance(self.intercept_decay, str) and self.intercept_decay == "auto"):
            _check_real(self.intercept_decay, "intercept_decay", min_val=0.0, max_val=1.0,
                        include_boundaries="right")
        check_scalar(self.n_iter_no_change, "n_iter_no_change", numbers.Integral, min_val=1)
        if not isinstance(self.average, numbers.Integral):
            raise ValueError(f"average={self.average!r} is invalid: give True, False or the "
                             "int number of samples after which averaging starts.")
        check_scalar(int(self.average), "average", numbers.Integral, min_val=0)
        check_scalar(self.verbose, "verbose", numbers.Integral, min_val=0)
        if self.n_jobs is not None:
            check_scalar(self.n_jobs, "n_jobs", numbers.Integral)
            if self.n_jobs == 0:
                raise ValueError("n_jobs=0 runs nothing: give a number of threads >= 1, "
                                 "-1 for all cores, or None for one.")
        if self.parallel not in _PARALLEL_MODES:
            raise ValueError(f"parallel={self.parallel!r} is not one of {list(_PARALLEL_MODES)}.")
        for name in ("shuffle", "fit_intercept", "warm_start", "probability"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name}={getattr(self, name)!r} must be True or False.")
        _check_class_weight(self.class_weight)

    def _calibrates(self):
        """Whether fit calibrates probabilities (Platt) for want of the loss's own."""
        return bool(self.probability) and self.loss not in _PROBA_LOSSES

    def _intercept_decay(self, X):
        """The intercept decay of a fit on ``X`` as given (before conversion to CSR)."""
        if isinstance(self.intercept_decay, str):
            sparse = sp.issparse(X) and self.loss != "softmax"
            return _SPARSE_INTERCEPT_DECAY if sparse else 1.0
        return float(self.intercept_decay)

    def _platt(self, X, y, classes, weight, decay):
        """Platt's ``(a_k, b_k)`` of each one-vs-rest score, fitted to the scores of
        models trained on the other folds; shape (1, 2) or (n_classes, 2).

        ``weight`` (the sample weights) weighs the fold fits and the sigmoid fits; the
        class weights, as in CalibratedClassifierCV, only the fold fits. The folds, CSR
        rows, use the intercept decay ``decay`` of the input.
        """
        # Imported here: scikit-learn's model_selection (and metrics) cost every start
        # about 0.17 s, for probability=True only.
        from sklearn.model_selection import StratifiedKFold

        _, counts = np.unique(y, return_counts=True)
        if counts.min() < _CALIBRATION_FOLDS:
            raise ValueError(
                f"probability=True calibrates on {_CALIBRATION_FOLDS} stratified folds, but "
                f"class {classes[counts.argmin()].tolist()!r} has only {counts.min()} "
                f"sample(s): give at least {_CALIBRATION_FOLDS} per class, or set "
                "probability=False."
            )
        folds = StratifiedKFold(_CALIBRATION_FOLDS, shuffle=True,
                                random_state=self.random_state)
        base = clone(self).set_params(probability=False, intercept_decay=decay)
        positive = classes[-1:] if classes.shape[0] == 2 else classes
        scores = np.empty((y.shape[0], positive.shape[0]))
        # cross_val_predict's loop, but for sample_weight, which it passes on only when
        # metadata routing is off (or requested).
        for train, test in folds.split(X, y):
            fold = clone(base).fit(X[train], y[train], sample_weight=weight[train])
            scores[test] = fold.decision_function(X[test]).reshape(test.shape[0], -1)
        return np.array([_fit_sigmoid(s, y == label, weight)
                         for s, label in zip(scores.T, positive)])

    def _zeros(self, classes, X):
        return _state_class(self.loss).zeros(classes.shape[0], X.shape[1], X.dtype,
                                             bool(self.average))

    def _validate_input(self, X, y, reset):
        """Checked ``(X, y)``: X as CSR (:func:`_checked_csr`), y as classification labels.

        With ``reset`` and ``warm_start`` on a fitted model, X must keep the model's
        feature count, else the model is left as it was and the error says what to do.
        """
        check_labels(y)
        warm = reset and self.warm_start and hasattr(self, "coef_")
        kept = {name: vars(self)[name] for name in ("n_features_in_", "feature_names_in_")
                if warm and name in vars(self)}
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
            accept_large_sparse=True, reset=reset,
        )
        n_features = self.coef_.shape[1] if warm else X.shape[1]
        if X.shape[1] != n_features:
            vars(self).pop("feature_names_in_", None)
            vars(self).update(kept)
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{n_features} features as input: warm_start=True continues the model "
                f"fitted on {n_features} features; give X with {n_features} columns, or set "
                "warm_start=False to start again."
            )
        check_classification_targets(y)
        return _checked_csr(X), y

    def _class_weighted(self, y, classes, weight):
        """The sample weights ``weight`` times the class weights."""
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=classes, y=y)
            weight = weight * per_class[np.searchsorted(classes, y)]
            if not weight.any():
                raise ValueError(
                    f"class_weight={self.class_weight!r} gives every sample weight 0: nothing "
                    "to learn; give a weight > 0 to a class present in y."
                )
        return weight

    def _alpha(self, n_samples):
        """The L2 strength of a fit on ``n_samples`` rows: ``alpha``, or ``1 / (C n)``."""
        if self.C is None:
            return float(self.alpha)
        with np.errstate(over="ignore", divide="ignore"):
            alpha = float(1.0 / (np.float64(self.C) * n_samples))
        if not 0.0 < alpha < np.inf:
            big = np.finfo(np.float64).max
            raise ValueError(
                f"C={self.C!r} gives alpha = 1 / (C * n_samples) = {alpha} for n_samples="
                f"{n_samples}: give C between {1.0 / big / n_samples:.3g} and "
                f"{big / n_samples:.3g}."
            )
        return alpha

    def _run(self, X, y, classes, weight, sgd, max_epochs, decay):
        """Train every problem of ``sgd`` (one-vs-rest, or the softmax model) on the checked
        sample weights ``weight``, intercept decay ``decay``; publish the model if all went
        well."""
        weight = self._class_weighted(y, classes, weight)
        alpha = self._alpha(X.shape[0])
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=sgd.n_problems
        )
        csr = (_unsigned(X.indptr), _unsigned(X.indices), X.data)
        optimal_t0 = 0.0
        if self.learning_rate == "optimal":
            optimal_t0 = _optimal_t0(self.loss, alpha, csr, weight)
            if not 0.0 < optimal_t0 < np.inf:
                raise ValueError(
                    f"learning_rate='optimal' has no usable first step for alpha={alpha:.3g} "
                    f"and rows with s_i ||x_i||^2 up to "
                    f"{K.max_weighted_squared_norm(csr[0], csr[2], weight):.3g}: scale the "
                    "features (or sample weights) down, or choose another learning_rate."
                )
        if self.loss == "softmax":
            targets = [np.searchsorted(classes, y)]
        else:
            positive = classes[-1:] if classes.shape[0] == 2 else classes
            targets = (np.where(y == label, 1.0, -1.0) for label in positive)
        # One problem: its threads train it. Several: threads over the problems, each on
        # one thread (problem k only touches row k of the state: they share nothing they
        # write).
        n_threads = effective_n_jobs(self.n_jobs) if sgd.n_problems == 1 else 1
        with ThreadPoolExecutor(n_threads) if n_threads > 1 else nullcontext() as pool:
            epochs = Parallel(n_jobs=self.n_jobs if n_threads == 1 else 1, prefer="threads")(
                delayed(self._epochs)(
                    csr, target, weight, alpha, optimal_t0, decay,
                    _threads.make_runner(self.parallel, sgd, k, n_threads, pool), k, seeds[k],
                    max_epochs,
                )
                for k, target in enumerate(targets)
            )
        n_iter = max(epochs)
        # A calibration belongs to the weights it was fitted to.
        vars(self).pop("calibration_", None)
        self.classes_ = classes
        self._sgd = sgd
        self.coef_, self.intercept_ = sgd.coef_intercept()
        self.n_iter_ = n_iter
        self.t_ = int(sgd.state[0, K.T])

    def _epochs(self, csr, target, weight, alpha, optimal_t0, decay, runner, k, seed,
                max_epochs):
        """Run the epochs of problem ``k`` by ``runner`` (``_threads.make_runner``) on CSR
        arrays; return how many ran."""
        n = target.shape[0]
        loss = K.LOSS_CODES.get(self.loss)  # None for 'softmax': its kernel has one loss
        schedule = K.SCHEDULE_CODES[self.learning_rate]
        eta0 = float(self.eta0)
        intercept_decay = decay if self.fit_intercept else 0.0
        average_start = max(1, int(self.average)) if self.average else -1
        rng = np.random.default_rng(seed)
        order = np.arange(n, dtype=np.uintp)
        # The objective is needed to stop on tol and to report; it costs an exp
        # and a log a row for log_loss.
        track_loss = self.tol is not None or bool(self.verbose)
        best, stale = np.inf, 0
        for epoch in range(1, max_epochs + 1):
            if self.shuffle:
                rng.shuffle(order)
            start = time.perf_counter()
            sumloss = runner(csr, target, weight, order, (
                loss, schedule, alpha, eta0, float(self.power_t), optimal_t0,
                intercept_decay, average_start, track_loss,
            ))
            objective = sumloss / n + 0.5 * alpha * runner.sgd.squared_norm(k)
            if not np.isfinite(objective + np.sum(runner.sgd.intercepts(k))):
                remedy = ("lower eta0 or use learning_rate='optimal'" if schedule != K.OPTIMAL
                          else "raise alpha (lower C)")
                raise ValueError(
                    f"The weights became non-finite in epoch {epoch} (loss={self.loss!r}, "
                    f"learning_rate={self.learning_rate!r}, eta0={self.eta0}): the steps are "
                    f"too large. To fix it, {remedy}, or scale the features."
                )
            if self.verbose:
                print(f"-- Problem {k + 1}, epoch {epoch}: objective {objective:.6g}, "
                      f"norm {np.sqrt(runner.sgd.squared_norm(k)):.4g}, "
                      f"{time.perf_counter() - start:.3f} s")
            if self.tol is None:
                continue
            stale = stale + 1 if objective > best - self.tol else 0
            best = min(best, objective)
            if stale >= self.n_iter_no_change:
                if schedule == K.ADAPTIVE and eta0 > _MIN_ADAPTIVE_ETA:
                    eta0 /= 5.0
                    stale = 0
                else:
                    return epoch
        if self.tol is not None and max_epochs > 1:
            warnings.warn(
                f"Maximum number of epochs ({max_epochs}) reached before the objective "
                "stopped improving by tol; raise max_iter or tol.", ConvergenceWarning,
            )
        return max_epochs


def _checked_sample_weight(y, sample_weight):
    """``sample_weight`` as float64 weights, one per sample (ones for None), checked."""
    if sample_weight is None:
        return np.ones(y.shape[0])
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.shape != y.shape:
        raise ValueError(
            f"sample_weight has shape {weight.shape}, expected {y.shape} (one per sample)."
        )
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if not weight.any():
        raise ValueError("sample_weight is zero for every sample: nothing to learn.")
    return weight


def _check_real(value, name, min_val=None, max_val=None, include_boundaries="both"):
    """Refuse ``value`` unless it is a finite real number within the bounds.

    ``check_scalar``'s checks and messages; nan, inf and bools refused too (a comparison
    with nan is false, so nan passes any bound).
    """
    check_scalar(value, name, numbers.Real, min_val=min_val, max_val=max_val,
                 include_boundaries=include_boundaries)
    if isinstance(value, (bool, np.bool_)) or not np.isfinite(value):
        closed_low = include_boundaries in ("both", "left")
        closed_high = include_boundaries in ("both", "right")
        bounds = "".join([
            "" if min_val is None else f" {'>=' if closed_low else '>'} {min_val}",
            " and" if min_val is not None and max_val is not None else "",
            "" if max_val is None else f" {'<=' if closed_high else '<'} {max_val}",
        ])
        raise ValueError(f"{name}={value!r} is invalid: give a finite number{bounds}.")


def _check_class_weight(class_weight):
    """Refuse a ``class_weight`` other than None, 'balanced' or a dict of finite weights
    >= 0 (a negative weight would turn its class's loss into a gain)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight={class_weight!r} is invalid: give None, 'balanced' "
                         "or a dict {class: weight}.")
    for label, value in class_weight.items():
        if not (isinstance(value, numbers.Real) and np.isfinite(value) and value >= 0):
            raise ValueError(
                f"class_weight[{label!r}]={value!r} is invalid: class weights must be finite "
                "numbers >= 0, as sample weights are."
            )


def _has_probabilities(est):
    if est.loss in _PROBA_LOSSES or est.probability:
        return True
    # available_if chains this message to its AttributeError.
    raise AttributeError(
        f"loss={est.loss!r} gives no probabilities: set probability=True to calibrate them "
        f"(Platt scaling on held-out folds), or use a loss among {list(_PROBA_LOSSES)}."
    )


def _without_calibration(est):
    if not est._calibrates():
        return True
    raise AttributeError(
        f"partial_fit is unavailable with probability=True and loss={est.loss!r}: the "
        "calibration is fitted on held-out folds by fit; use fit, or probability=False."
    )


def _fit_sigmoid(score, positive, weight):
    """Platt's ``(a, b)``: ``expit(a * score + b)`` fitted to the smoothed targets.

    Maximises ``sum_i w_i [t_i log p_i + (1 - t_i) log(1 - p_i)]`` with Platt's targets
    ``t_i = (N+ + 1) / (N+ + 2)`` for positives, ``1 / (N- + 2)`` for the others (``N``
    weighted counts), by L-BFGS from his starting point, as
    ``sklearn.calibration._sigmoid_calibration`` does (whose ``A, B`` are ``-a, -b``).
    That function is private, and ``LogisticRegression`` takes no soft targets (short of
    doubling the rows) and changes how its penalty is switched off across versions: scipy's
    minimiser on the 2-parameter likelihood is the stable public route.
    """
    n_pos, n_neg = weight[positive].sum(), weight[~positive].sum()
    target = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    # Scores on the unit scale keep L-BFGS's steps well sized; a is rescaled at the end.
    scale = max(1.0, float(np.abs(score).max()))
    unit = score / scale

    def loss_grad(ab):
        z = ab[0] * unit + ab[1]
        loss = -np.dot(weight, target * log_expit(z) + (1.0 - target) * log_expit(-z))
        g = weight * (expit(z) - target)
        return loss, np.array([np.dot(g, unit), g.sum()])

    start = np.array([0.0, np.log((n_pos + 1.0) / (n_neg + 1.0))])
    ab = minimize(loss_grad, start, method="L-BFGS-B", jac=True,
                  options={"gtol": 1e-10, "ftol": 64 * np.finfo(float).eps}).x
    return ab[0] / scale, ab[1]


def _checked_csr(X):
    """``X`` as CSR whose indptr and indices are known to be in range.

    The kernels (and scipy's products) trust them: a hand-built CSR with an index
    out of range is refused here, in one vectorised pass.
    """
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    X.check_format(full_check=True)
    return X


def _unsigned(index_array):
    """View non-negative integers as unsigned, without a copy.

    Numba checks a signed index for wraparound (negative indexing) at every access;
    an unsigned one needs no check, which halves the epoch time on wide data
    (bench/bench_epoch.py, lever f).
    """
    return index_array.view(np.dtype(f"u{index_array.dtype.itemsize}"))


def _optimal_t0(loss, alpha, csr, sample_weight):
    """Offset of the 'optimal' schedule ``1 / (alpha (t0 + t - 1))`` for loss ``loss`` (a name).

    Bottou's heuristic makes the first step about the typical weight size; for a
    smooth loss the steps are also kept below ``1 / (curvature * max s_i ||x_i||^2)``,
    beyond which a step overshoots and SGD diverges. The softmax gradient in each score,
    ``p_k - 1[y=k]``, is below 1 in size, and its curvature is at most 1/2
    (``_softmax_kernels.CURVATURE``). Returns inf when no step is stable (rows so large
    that the bound underflows).
    """
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    if loss == "softmax":
        derivative, curvature = 1.0, S.CURVATURE
    else:
        code = K.LOSS_CODES[loss]
        derivative, curvature = abs(K.loss_derivative(code, -typw, 1.0)), K.CURVATURE[code]
    initial_eta = typw / max(1.0, derivative)
    indptr, _, data = csr
    largest = K.max_weighted_squared_norm(indptr, data, sample_weight)
    stable_eta = 1.0 / max(curvature * largest, 1e-300)
    first = min(initial_eta, stable_eta) * alpha
    # inf (no usable step) when the rows are too large for any step to be stable.
    return 1.0 / first if first > 0.0 else np.inf


def _state_class(loss):
    """The class holding the SGD variables of a model trained with ``loss``."""
    return _SoftmaxState if loss == "softmax" else _SGDState


class _SGDState:
    """The SGD variables of each one-vs-rest problem, kept across partial_fit calls.

    ``v`` (n_problems, n_features) unscaled weights in X's dtype; ``u`` (float64) the
    averaging accumulator, 0 columns wide when not averaging; ``state`` the kernel's
    scalars per problem.
    """

    def __init__(self, v, u, state):
        self.v, self.u, self.state = v, u, state

    @property
    def n_problems(self):
        return self.state.shape[0]

    @staticmethod
    def shapes(n_classes, n_features):
        """Shapes of ``v`` and ``state`` for ``n_classes`` classes and ``n_features`` features."""
        n_problems = 1 if n_classes == 2 else n_classes
        return (n_problems, n_features), (n_problems, K.STATE_SIZE)

    @classmethod
    def zeros(cls, n_classes, n_features, dtype, average):
        v_shape, state_shape = cls.shapes(n_classes, n_features)
        state = np.zeros(state_shape)
        state[:, K.SCALE] = 1.0
        state[:, K.T] = 1.0
        u = np.zeros(v_shape if average else (v_shape[0], 0))
        return cls(np.zeros(v_shape, dtype=dtype), u, state)

    def copy(self, average):
        """A copy to work on, with an averaging accumulator if ``average`` needs one."""
        u = self.u.copy()
        if average and u.shape != self.v.shape:
            u = np.zeros(self.v.shape)
        return type(self)(self.v.copy(), u, self.state.copy())

    def views(self, k):
        """``(v, u, state)`` of problem ``k``: 1-D views of its weights, and its row of
        the state as a 2-D view (the layout :mod:`._threads` works on)."""
        return self.v[k], self.u[k], self.state[k:k + 1]

    @staticmethod
    def run(csr, target, weight, rows, v, u, state, params):
        """Run one serial epoch over ``rows`` (:func:`_sgd_kernels.sgd_epoch`, whose
        arguments from ``loss`` on are ``params``); return the loss sum."""
        return K.sgd_epoch(*csr, target, weight, rows, v, u, state[0], *params)

    @staticmethod
    def run_segment(csr, target, weight, rows, v, u, last, state, local, out, params):
        """Run one thread's Hogwild segment (:func:`_sgd_kernels.sgd_segment`)."""
        K.sgd_segment(*csr, target, weight, rows, v, u, last, state[0], local, out, *params)

    def squared_norm(self, k):
        return float(self.state[k, K.SCALE] ** 2 * K.squared_sum(self.v[k]))

    def intercepts(self, k):
        return self.state[k, K.INTERCEPT]

    def set_solution(self, coef, intercept):
        """Start from ``coef`` and ``intercept`` (as :meth:`solution` returns them)."""
        self.v[:] = coef
        self.state[:, K.INTERCEPT] = intercept

    def solution(self):
        """Return ``(coef, intercept)``: the averaged weights where averaging ran.

        ``coef`` is filled one row at a time: beside ``v`` and ``u`` it takes ``coef`` and
        temporaries of one row, not several of ``v``'s size.
        """
        state = self.state
        coef = np.empty_like(self.v)
        intercept = state[:, K.INTERCEPT].copy()
        for k in range(coef.shape[0]):
            n = state[k, K.AVG_N]
            if n > 0:
                coef[k] = (self.u[k] + state[k, K.AVG_C] * self.v[k]) / n
                intercept[k] = state[k, K.AVG_INTERCEPT] / n
            else:
                coef[k] = self.v[k] * state[k, K.SCALE]
        return coef, intercept

    def coef_intercept(self):
        """Return the estimator's ``(coef_, intercept_)``."""
        return self.solution()


class _SoftmaxState(_SGDState):
    """The SGD variables of a softmax model, kept across partial_fit calls.

    ``v`` (n_features, n_classes) unscaled feature-major weights in X's dtype; ``u``
    (float64) laid out as ``v``, 0 columns wide when not averaging; ``state``
    (n_classes, STATE_SIZE) the intercepts and the shared scalars, as
    :func:`_softmax_kernels.softmax_epoch` keeps them.
    """

    n_problems = 1

    @staticmethod
    def shapes(n_classes, n_features):
        return (n_features, n_classes), (n_classes, K.STATE_SIZE)

    def views(self, k):
        return self.v.reshape(-1), self.u.reshape(-1), self.state

    @staticmethod
    def run(csr, target, weight, rows, v, u, state, params):
        """As :meth:`_SGDState.run` (``params[0]``, the loss, is unused); return the
        cross-entropy sum."""
        return S.softmax_epoch(*csr, target, weight, rows, v, u, state, *params[1:])

    @staticmethod
    def run_segment(csr, target, weight, rows, v, u, last, state, local, out, params):
        S.softmax_segment(*csr, target, weight, rows, v, u, last, state, local, out,
                          *params[1:])

    def squared_norm(self, k):
        return float(self.state[0, K.SCALE] ** 2 * K.squared_sum(self.v.reshape(-1)))

    def intercepts(self, k):
        return self.state[:, K.INTERCEPT]

    def set_solution(self, coef, intercept):
        self.v[:] = coef.T
        self.state[:, K.INTERCEPT] = intercept

    def solution(self):
        """Return ``(W, b)``, W (n_classes, n_features): the averaged ones if averaging ran."""
        state = self.state
        n, c, scale = state[0, K.AVG_N], state[0, K.AVG_C], state[0, K.SCALE]
        coef = np.empty(self.v.shape[::-1], dtype=self.v.dtype)
        # Blocks of features: the temporaries stay _SOLUTION_BLOCK x n_classes.
        for start in range(0, self.v.shape[0], _SOLUTION_BLOCK):
            block = slice(start, start + _SOLUTION_BLOCK)
            if n > 0:
                coef[:, block] = ((self.u[block] + c * self.v[block]) / n).T
            else:
                coef[:, block] = (self.v[block] * scale).T
        if n > 0:
            return coef, state[:, K.AVG_INTERCEPT] / n
        return coef, state[:, K.INTERCEPT].copy()

    def coef_intercept(self):
        """Return ``(coef_, intercept_)``: ``W`` and ``b``, or for two classes the single
        row ``w_1 - w_0`` and ``b_1 - b_0`` (scikit-learn's binary convention)."""
        coef, intercept = self.solution()
        if coef.shape[0] == 2:
            return coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        return coef, intercept

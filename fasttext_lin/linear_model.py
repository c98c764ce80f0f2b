"""Linear classifiers following scikit-learn's API: parameters, validation of the input, and
dispatch to a solver (:mod:`._sgd`), which trains a model state (:mod:`._state`)."""

import inspect
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_scalar, validate_data

from ._calibration import calibrates, fit_platt
from ._calibration import probabilities as platt_probabilities
from ._cd import LOSSES as CD_LOSSES
from ._cd import train as cd_train
from ._constants import (
    BIAS_FEATURE_SOLVERS,
    LOSSES,
    PARALLEL_MODES,
    PROBA_LOSSES,
    SCHEDULES,
    SGD_PARAMS,
    SOLVERS,
    fit_solver,
)
from ._duality import estimator_duality_gap
from ._newton import LOSSES as NEWTON_LOSSES
from ._newton import train as newton_train
from ._sgd import train as sgd_train
from ._state import state_class
from ._validation import (
    check_class_weight,
    check_labels,
    check_real,
    checked_csr,
    checked_sample_weight,
    class_weighted,
)

# As the error messages show them.
_PROBA_LOSSES, _LOSSES, _PARALLEL_MODES = PROBA_LOSSES, list(LOSSES), PARALLEL_MODES
# The solvers, by name: each trains a ModelState in place (see _sgd.train). A second solver
# is one module and one entry here.
_SOLVERS = {"sgd": sgd_train, "cd": cd_train, "newton": newton_train}
# SGDClassifier's damping of the intercept's steps on sparse X (sklearn.linear_model._base).
_SPARSE_INTERCEPT_DECAY = 0.01


class LinearClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier (SVM, logistic regression, ...) on sparse data: exact or by SGD.

    Minimises ``(1/n) sum_i s_i L(y_i, w.x_i + b) + alpha/2 ||w||^2``, where ``s_i`` is
    the sample weight times the class weight. By default (``solver='auto'``) :meth:`fit`
    solves it exactly, to the relative duality gap ``tol``, for a loss that has an exact
    solver (dual coordinate descent for 'hinge', 'squared_hinge' and 'log_loss' on wide
    data, a trust-region Newton method for 'softmax' and 'log_loss' on tall data), and by
    SGD for the others; :meth:`partial_fit` always runs SGD epochs, and ``solver='sgd'``
    runs SGD in :meth:`fit` too. Multi-class problems are solved one-vs-rest, but for
    'softmax', which trains one multinomial model of all the classes. The parameters follow
    :class:`sklearn.linear_model.SGDClassifier`.

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
        Maximum number of epochs ('sgd'), passes over the rows ('cd') or Newton
        iterations ('newton').
    tol : float or None, default=1e-3
        'sgd': stop when the epoch's objective has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; None runs ``max_iter`` epochs. 'cd' and 'newton': stop
        when the relative duality gap ``(P(w) - D(alpha)) / P(w)`` of each problem is at
        most ``tol`` (None: 1e-4), which certifies ``P(w) - P* <= tol P(w)``; a
        ``ConvergenceWarning`` naming the gap reached when ``max_iter`` passes or
        iterations end first.
    n_iter_no_change : int, default=5
        See ``tol``.
    shuffle : bool, default=True
        Visit the rows in a fresh random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.
    fit_intercept : bool, default=True
        Learn an intercept: unregularised with 'sgd'; with the exact solvers ('cd',
        'newton', or 'auto' on a loss that has one), as liblinear, a regularised bias
        feature of value ``intercept_scaling`` (X is not copied).
    intercept_scaling : float, default=1.0
        Exact solvers only: the value of the bias feature, finite and > 0; ``intercept_`` is its
        weight times ``intercept_scaling``, so a larger value regularises the intercept less.
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
        How several threads train one model ('sgd'; and 'cd' for a binary model, see
        ``solver``); each epoch's rows are shuffled first.
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
        Print one line per epoch when > 0 ('cd': the pass, primal, dual and relative gap
        at each gap check; 'newton': the same at each iteration); 'sgd' with
        ``verbose >= 2`` also prints each problem's primal, dual and relative gap after each
        epoch (:meth:`duality_gap`'s, one more pass over X per epoch and problem).
    solver : {'sgd', 'cd', 'newton', 'auto'}, default='auto'
        'sgd': stochastic gradient descent, any loss, as the parameters above say.
        'auto': :meth:`fit` runs the loss's exact solver ('cd' for 'hinge' and
        'squared_hinge', 'newton' for 'softmax', and for 'log_loss' 'newton' when X has
        fewer features than rows, else 'cd') and 'sgd' for a loss without one
        ('modified_huber', 'squared_error'). Log loss's rule follows measurements: on tall
        data the dual's passes converge slowly, more so as C grows, while a Newton step
        over few features is cheap; on wide text data 'cd' is as fast or faster;
        :meth:`partial_fit` runs SGD epochs (continuing from the model ``fit`` left), as
        streaming and Dask training do. When ``fit`` runs an exact solver, the SGD
        parameters ``learning_rate``, ``eta0``, ``power_t``, ``n_iter_no_change``,
        ``shuffle``, ``intercept_decay``, ``average`` and ``parallel`` (but for 'cd') are
        unused: one ``UserWarning`` per fit names those set away from their defaults (set
        ``solver='sgd'`` to use them). An exact solver needs a finite ``C``: ``alpha=0``
        with ``C=None`` is refused.
        'cd': dual coordinate descent for 'hinge' and 'squared_hinge' (Hsieh et al.,
        ICML 2008, with liblinear's shrinking) and 'log_loss' (Yu, Huang and Lin, Machine
        Learning 2011: a few Newton steps per dual variable): the exact optimum of liblinear's
        ``1/2 ||w||^2 + C sum_i s_i L_i`` (``C = 1 / (alpha n)`` when ``C`` is None), to the
        relative duality gap ``tol``. Each pass visits the rows in a fresh random order
        (``random_state``); sample and class weights bound the dual variables (``C s_i``);
        one-vs-rest problems run on ``n_jobs`` threads, each with its own seed (the model
        does not depend on ``n_jobs``). A binary model with ``parallel='hogwild'`` (the
        default) and at least 1024 rows and 2^22 nonzeros a thread is trained on ``n_jobs``
        threads: each pass's shuffled rows are cut into one slice per thread, whose dual
        variables the thread updates while sharing ``w`` without locks (asynchronous dual
        coordinate descent, PASSCoDe), each change added atomically so that none is lost;
        the 4096 columns most frequent in a sample of the rows (and the bias) gather each
        thread's changes privately and publish them every 1024 updated rows, so threads do
        not fight over the weights nearly every row holds. This runs on a copy of X (its hot
        columns first in each row: X's memory once more). The gap ``tol`` certifies is
        exact as on one thread; the path to it, hence the model within that gap, depends
        on the threads' timing. ``parallel='deterministic'`` trains it on one thread.
        ``warm_start`` continues from ``dual_coef_``.
        'newton': for 'softmax' and 'log_loss', a trust-region Newton method with
        preconditioned conjugate gradients (liblinear's TRON) on the primal problem
        ``1/2 ||W||^2 + C sum_i s_i L_i`` (multinomial for 'softmax', one binary problem
        per class, one-vs-rest, for 'log_loss'), to the relative duality gap ``tol``
        (the gap at the dual point of the loss's derivative, the softmax or sigmoid
        probabilities, is ``1/2 ||grad P(W)||^2``). With at most 256 variables
        (``(n_features + 1) n_classes`` for 'softmax', ``n_features + 1`` per 'log_loss'
        problem) it builds the Hessian by BLAS (one thread) and factors it, else
        multiplies by it over the rows. Deterministic: the model does not depend on
        ``n_jobs`` (one-vs-rest problems run on ``n_jobs`` threads); ``warm_start``
        continues from the previous weights. With two classes 'softmax'
        trains both weight vectors (at the optimum ``w_0 = -w_1``).
        ``learning_rate``, ``eta0``, ``power_t``, ``n_iter_no_change``, ``shuffle``,
        ``intercept_decay`` and ``average`` are SGD's and unused by 'cd' and 'newton'
        (``parallel`` too, but for 'cd' on a binary model); :meth:`partial_fit`
        needs 'sgd'.
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
        Epochs, passes or Newton iterations run by the last :meth:`fit` (the largest over
        one-vs-rest problems).
    t_ : int
        Steps taken plus one, the ``t`` of the learning-rate schedule.
    n_features_in_ : int
    calibration_ : ndarray of shape (1, 2) or (n_classes, 2)
        Only with ``probability=True`` and a loss without probabilities of its own: the
        slope ``a_k`` and intercept ``b_k`` of the sigmoid of each row of ``coef_``.
    dual_coef_ : ndarray of shape (n_problems, n_samples)
        'cd' only: the dual variables ``alpha`` of the last :meth:`fit`, one row per
        binary problem (one for two classes, else one per class), ``w = sum_i alpha_i
        y_i x_i`` with ``y_i = +-1``; ``warm_start`` continues from them when X has as many
        rows (clipped to the new bounds; for 'log_loss' strictly inside them, where its
        optimum ``alpha_i = C s_i expit(-y_i w.x_i)`` lies). Not stored in model files.
    sgd_state_ : BinaryState or SoftmaxState
        The SGD variables that :meth:`partial_fit` and ``warm_start`` continue from, and
        that model files store with ``state=True`` (``fasttext_lin._state``).
    """

    def __init__(
        self, loss="hinge", *, alpha=1e-4, C=None, learning_rate="optimal", eta0=0.01,
        power_t=0.5, max_iter=1000, tol=1e-3, n_iter_no_change=5, shuffle=True,
        random_state=None, fit_intercept=True, intercept_decay="auto", average=False,
        class_weight=None, warm_start=False, n_jobs=None, parallel="hogwild", verbose=0,
        probability=False, solver="auto", intercept_scaling=1.0,
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
        self.solver = solver
        self.intercept_scaling = intercept_scaling

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # Hogwild threads race (SGD's, and those of one 'cd' problem): the model depends on
        # their timing.
        tags.non_deterministic = (_uses_parallel(fit_solver(self.solver, self.loss))
                                  and self.parallel == "hogwild"
                                  and self.n_jobs not in (None, 1))
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model by ``solver``: ``max_iter`` epochs of SGD, passes of CD or Newton
        iterations at most.

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
        self.check_params()
        decay = self._intercept_decay(X)
        X, y = self._validate_input(X, y, reset=True)
        solver = fit_solver(self.solver, self.loss, X.shape)
        _check_exact_problem(self, solver)
        _warn_unused_sgd_params(self, solver)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, got one class: "
                f"every label in y is {classes[0].tolist()!r}."
            )
        weight = checked_sample_weight(y, sample_weight)
        calibration = (fit_platt(self, X, y, classes, weight, decay, solver)
                       if calibrates(self.loss, self.probability) else None)
        sgd = self._zeros(classes, X)
        warm = (self.warm_start and hasattr(self, "sgd_state_")
                and type(self.sgd_state_) is type(sgd) and np.array_equal(classes, self.classes_))
        # 'cd' starts from its dual variables (dual_coef_), the others from the weights.
        if warm and solver != "cd":
            sgd.set_solution(*self.sgd_state_.solution())
        self._run(X, y, classes, weight, sgd, self.max_iter, decay, solver)
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
        self.check_params()
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
            if type(self.sgd_state_) is not state_class(self.loss):
                raise ValueError(
                    f"loss={self.loss!r} cannot continue a model trained with another loss "
                    "('softmax' keeps one model of all classes, the others one per class); "
                    "call fit to start again."
                )
            sgd = self.sgd_state_.copy(bool(self.average))
        unseen = np.setdiff1d(y, classes)
        if unseen.size:
            raise ValueError(
                f"y holds label(s) {unseen.tolist()} not in classes {classes.tolist()} "
                "given at the first call to partial_fit."
            )
        self._run(X, y, classes, checked_sample_weight(y, sample_weight), sgd, 1, decay, "sgd")
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
            X = checked_csr(X)
        scores = linear_scores(X, self.coef_) + self.intercept_
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
            prob = platt_probabilities(scores, self.calibration_)
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

    @property
    def dual_coef_(self):
        # A property over a private name: model files do not store the dual variables (the
        # size of X's rows), and their writer refuses public fitted attributes it cannot store.
        if "_dual_coef" not in vars(self):
            raise AttributeError("dual_coef_ is set by fit with solver='cd'.")
        return self._dual_coef

    @dual_coef_.setter
    def dual_coef_(self, value):
        self._dual_coef = value

    def duality_gap(self, X, y, sample_weight=None):
        """Primal value, a dual value and their gap: how far the model is from the optimum.

        The problem is ``P(w, b) = 1/2 ||w||^2 + C sum_i s_i L(y_i, w.x_i + b)``, with ``s_i``
        the sample weights times the class weights (as :meth:`fit` uses them) and ``C`` the
        model's; a model given ``alpha`` instead has ``C = 1 / (alpha n_samples)``, its SGD
        objective times ``1 / alpha`` (the same minimiser). The dual point is built from the
        model alone (the loss derivatives at the margins, clipped to the dual's domain; see
        ``fasttext_lin._duality``), so the gap certifies any model, however trained:
        ``0 <= P(w, b) - P* <= gap``; a 'cd' model also offers its own dual variables
        (``dual_coef_``, when X has as many rows), and the larger dual counts, so its gap
        is the one its ``tol`` certifies. One-vs-rest models have one problem per class, and
        the sums bound the sum of their suboptimalities; 'softmax' has the multinomial
        problem (two classes: the pair ``(-coef_/2, coef_/2)``). With ``fit_intercept``
        and 'sgd' the intercept is unregularised and the dual point is shrunk onto the
        dual's equality constraint, so the gap certifies ``(w, b)`` jointly; with an exact
        solver (``solver`` as :meth:`fit` resolves it) it is the weight of the bias feature
        ``intercept_scaling``, regularised, as that solver solves it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, each in ``classes_``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        DualityGap
            A named tuple: ``primal``, ``dual``, ``gap`` (sums over the problems),
            ``relative_gap`` (``gap / max(|primal|, tiny)``), ``primals``, ``duals``,
            ``gaps`` (arrays, one entry per problem) and ``C``.
        """
        return estimator_duality_gap(self, X, y, sample_weight)

    # -- internals ---------------------------------------------------------------------------

    def check_params(self):
        """Check every parameter, without data: raise ``ValueError`` (or ``TypeError``) naming
        the parameter, its value and the valid range. ``fit`` and ``partial_fit`` call it; a
        model file's loader and the command line call it before any data is read."""
        if self.loss not in _LOSSES:
            raise ValueError(f"loss={self.loss!r} is not one of {_LOSSES}.")
        if self.learning_rate not in SCHEDULES:
            raise ValueError(
                f"learning_rate={self.learning_rate!r} is not one of {sorted(SCHEDULES)}."
            )
        check_real(self.alpha, "alpha", min_val=0.0)
        if self.C is not None:
            check_real(self.C, "C", min_val=0.0, include_boundaries="neither")
        elif self.learning_rate == "optimal" and self.alpha == 0.0:
            raise ValueError("alpha must be > 0 with learning_rate='optimal'; "
                             "give alpha > 0 or choose another learning_rate.")
        if self.learning_rate != "optimal":
            check_real(self.eta0, "eta0", min_val=0.0, include_boundaries="neither")
        check_real(self.power_t, "power_t")
        check_scalar(self.max_iter, "max_iter", numbers.Integral, min_val=1)
        if self.tol is not None:
            check_real(self.tol, "tol")
        if not (isinstance(self.intercept_decay, str) and self.intercept_decay == "auto"):
            check_real(self.intercept_decay, "intercept_decay", min_val=0.0, max_val=1.0,
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
        if self.solver not in SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not one of {list(SOLVERS)}.")
        if self.solver == "cd" and self.loss not in CD_LOSSES:
            names = ", ".join(map(repr, CD_LOSSES[:-1])) + f" or {CD_LOSSES[-1]!r}"
            fix = ("use solver='newton'" if self.loss == "softmax"
                   else "choose one of them, or solver='sgd'")
            raise ValueError(f"solver='cd' trains loss {names}, not loss={self.loss!r}: "
                             f"{fix}.")
        if self.solver == "newton" and self.loss not in NEWTON_LOSSES:
            raise ValueError(f"solver='newton' trains loss='softmax' and 'log_loss', not "
                             f"loss={self.loss!r}: use solver='cd' or 'sgd'.")
        if self.solver in BIAS_FEATURE_SOLVERS:
            _check_exact_problem(self, self.solver)
        check_real(self.intercept_scaling, "intercept_scaling", min_val=0.0,
                    include_boundaries="neither")
        for name in ("shuffle", "fit_intercept", "warm_start", "probability"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name}={getattr(self, name)!r} must be True or False.")
        check_class_weight(self.class_weight)

    def _intercept_decay(self, X):
        """The intercept decay of a fit on ``X`` as given (before conversion to CSR)."""
        if isinstance(self.intercept_decay, str):
            sparse = sp.issparse(X) and self.loss != "softmax"
            return _SPARSE_INTERCEPT_DECAY if sparse else 1.0
        return float(self.intercept_decay)

    def _zeros(self, classes, X):
        return state_class(self.loss).zeros(classes.shape[0], X.shape[1], X.dtype,
                                            bool(self.average))

    def _validate_input(self, X, y, reset):
        """Checked ``(X, y)``: X as CSR (:func:`~fasttext_lin._validation.checked_csr`), y as
        classification labels.

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
        return checked_csr(X), y

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

    def _run(self, X, y, classes, weight, sgd, max_epochs, decay, solver):
        """Train every problem of ``sgd`` (a ModelState) on the checked sample weights
        ``weight``, intercept decay ``decay``, by ``solver`` (a key of ``_SOLVERS``); publish
        the model if all went well."""
        weight = class_weighted(weight, y, classes, self.class_weight)
        alpha = self._alpha(X.shape[0])
        # The dual variables belong to the 'cd' fit that sets them.
        if solver != "cd":
            vars(self).pop("_dual_coef", None)
        n_iter = _SOLVERS[solver](self, X, y, classes, weight, alpha, decay, sgd,
                                       max_epochs)
        # A calibration belongs to the weights it was fitted to.
        vars(self).pop("calibration_", None)
        self.classes_ = classes
        self.sgd_state_ = sgd
        self.coef_, self.intercept_ = sgd.coef_intercept()
        self.n_iter_ = n_iter
        self.t_ = sgd.t


def linear_scores(X, coef):
    """``X @ coef.T`` as a dense array of shape (n_samples, n_rows of coef).

    A sparse X with fewer nonzeros than ``coef`` has columns (a batch of documents against
    a wide one-vs-rest model) is multiplied by one row of ``coef`` at a time: the single
    product would first copy all of ``coef`` feature-major.
    """
    if sp.issparse(X) and coef.shape[0] > 1 and X.nnz < coef.shape[1]:
        return np.column_stack([X @ row for row in coef])
    return safe_sparse_dot(X, coef.T, dense_output=True)


def _check_exact_problem(est, solver):
    """Refuse ``alpha=0`` without ``C`` for an exact ``solver`` (as ``fit`` resolves it)."""
    if solver != "sgd" and est.C is None and est.alpha == 0.0:
        # C = 1 / (alpha n) is infinite: a hard margin, whose dual variables have no bound.
        raise ValueError(
            f"alpha=0 with C=None asks solver={est.solver!r} (the exact solver {solver!r}) "
            "for a hard margin, C = 1 / (alpha n_samples) = inf, which its dual cannot "
            "bound: give alpha > 0 or a finite C, or set solver='sgd'."
        )


def _warn_unused_sgd_params(est, solver):
    """One UserWarning naming the SGD parameters set away from their defaults when
    ``solver='auto'`` resolves to an exact ``solver``, which does not use them."""
    if est.solver != "auto" or solver == "sgd":
        return
    defaults = inspect.signature(type(est).__init__).parameters
    changed = [f"{name}={getattr(est, name)!r}" for name in SGD_PARAMS
               if getattr(est, name) != defaults[name].default
               and not (name == "parallel" and _uses_parallel(solver))]
    if changed:
        warnings.warn(
            f"{', '.join(changed)}: SGD parameter(s) that solver='auto' does not use, as it "
            f"fits loss={est.loss!r} by the exact solver {solver!r}; they apply to "
            "solver='sgd': set solver='sgd' to use them, or leave them at their defaults.",
            UserWarning, stacklevel=3,
        )


def _uses_parallel(solver):
    """Whether ``solver`` trains one problem on threads as ``parallel`` says."""
    return solver in ("sgd", "cd")


def _has_probabilities(est):
    if est.loss in _PROBA_LOSSES or est.probability:
        return True
    # available_if chains this message to its AttributeError.
    raise AttributeError(
        f"loss={est.loss!r} gives no probabilities: set probability=True to calibrate them "
        f"(Platt scaling on held-out folds), or use a loss among {list(_PROBA_LOSSES)}."
    )


def _without_calibration(est):
    if est.solver not in ("sgd", "auto"):
        # available_if chains this message to its AttributeError.
        raise AttributeError(f"partial_fit runs SGD epochs, not solver={est.solver!r}: set "
                             "solver='sgd' or 'auto', or use fit.")
    if not calibrates(est.loss, est.probability):
        return True
    raise AttributeError(
        f"partial_fit is unavailable with probability=True and loss={est.loss!r}: the "
        "calibration is fitted on held-out folds by fit; use fit, or probability=False."
    )

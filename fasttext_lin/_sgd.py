"""The SGD solver of :class:`~fasttext_lin.LinearClassifier`: epochs, learning-rate
schedules, stopping, and the threads (one-vs-rest problems side by side, or one problem on
several threads through :mod:`._threads`) over the jitted kernels."""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from joblib import effective_n_jobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from . import _sgd_kernels as K
from . import _softmax_kernels as S
from ._duality import duality_gap
from ._state import EpochParams
from ._threads import make_runner
from ._validation import unsigned_csr

# Stop lowering the 'adaptive' step below this, as scikit-learn does.
MIN_ADAPTIVE_ETA = 1e-6


def train(est, X, y, classes, weight, alpha, decay, state, max_epochs):
    """Train every problem of ``state`` (one-vs-rest, or the softmax model) in place.

    Parameters
    ----------
    est : LinearClassifier
        Its checked parameters (loss, schedule, stopping, averaging, threads, seed).
    X : scipy.sparse.csr_matrix
        Checked CSR rows (float32 or float64).
    y : ndarray of shape (n_samples,)
        Labels, all in ``classes`` (sorted).
    weight : ndarray of float64
        Per-row weights: sample weights times class weights.
    alpha : float
        The L2 strength.
    decay : float
        The intercept decay (the intercept's step over the weights').
    state : ModelState
        The model to continue; trained in place.
    max_epochs : int

    Returns
    -------
    int
        Epochs run (the largest over one-vs-rest problems).
    """
    seeds = check_random_state(est.random_state).randint(
        np.iinfo(np.int32).max, size=state.n_problems
    )
    csr = unsigned_csr(X)
    t0 = 0.0
    if est.learning_rate == "optimal":
        t0 = optimal_t0(est.loss, alpha, csr, weight)
        if not 0.0 < t0 < np.inf:
            raise ValueError(
                f"learning_rate='optimal' has no usable first step for alpha={alpha:.3g} "
                f"and rows with s_i ||x_i||^2 up to "
                f"{K.max_weighted_squared_norm(csr[0], csr[2], weight):.3g}: scale the "
                "features (or sample weights) down, or choose another learning_rate."
            )
    params = EpochParams(
        loss=K.LOSS_CODES.get(est.loss),  # None for 'softmax': its kernel has one loss
        schedule=K.SCHEDULE_CODES[est.learning_rate], alpha=alpha, eta0=float(est.eta0),
        power_t=float(est.power_t), optimal_t0=t0,
        intercept_decay=decay if est.fit_intercept else 0.0,
        average_start=max(1, int(est.average)) if est.average else -1,
        # The objective is needed to stop on tol and to report; it costs an exp and a log
        # a row for log_loss.
        track_loss=est.tol is not None or bool(est.verbose),
    )
    if est.loss == "softmax":
        targets = [np.searchsorted(classes, y)]
    else:
        positive = classes[-1:] if classes.shape[0] == 2 else classes
        targets = (np.where(y == label, 1.0, -1.0) for label in positive)
    # One problem: its threads train it. Several: threads over the problems, each on
    # one thread (problem k only touches row k of the state: they share nothing they
    # write).
    n_threads = effective_n_jobs(est.n_jobs) if state.n_problems == 1 else 1
    gap = _gap_of(X, y, classes, weight, alpha, est, state) if est.verbose >= 2 else None
    with ThreadPoolExecutor(n_threads) if n_threads > 1 else nullcontext() as pool:
        epochs = Parallel(n_jobs=est.n_jobs if n_threads == 1 else 1, prefer="threads")(
            delayed(_epochs)(
                est, csr, target, weight, params,
                make_runner(est.parallel, state, k, n_threads, pool), k, seeds[k], max_epochs,
                gap,
            )
            for k, target in enumerate(targets)
        )
    return max(epochs)


def _gap_of(X, y, classes, weight, alpha, est, state):
    """A function of ``k``: the duality gap (:func:`._duality.duality_gap`) of problem ``k``
    at the model ``state`` holds now, or None when ``alpha`` is 0 (no finite C)."""
    if alpha == 0.0:
        return lambda k: None
    C, free = 1.0 / (alpha * X.shape[0]), bool(est.fit_intercept)

    def gap(k):
        coef, intercept = state.coef_intercept()
        if est.loss == "softmax":
            return duality_gap(X, y, classes, coef, intercept, C, weight, est.loss, free)
        positive = classes[-1] if classes.shape[0] == 2 else classes[k]
        return duality_gap(X, np.where(y == positive, 1.0, -1.0), np.array([-1.0, 1.0]),
                           coef[k:k + 1], intercept[k:k + 1], C, weight, est.loss, free)

    return gap


def _epochs(est, csr, target, weight, params, runner, k, seed, max_epochs, gap=None):
    """Run the epochs of problem ``k`` by ``runner`` (:func:`._threads.make_runner`);
    return how many ran. With ``gap`` (see :func:`_gap_of`), print the problem's duality
    gap after each epoch."""
    n = target.shape[0]
    rng = np.random.default_rng(seed)
    order = np.arange(n, dtype=np.uintp)
    best, stale = np.inf, 0
    for epoch in range(1, max_epochs + 1):
        if est.shuffle:
            rng.shuffle(order)
        start = time.perf_counter()
        sumloss = runner(csr, target, weight, order, params)
        objective = sumloss / n + 0.5 * params.alpha * runner.sgd.squared_norm(k)
        if not np.isfinite(objective + np.sum(runner.sgd.intercepts(k))):
            remedy = ("lower eta0 or use learning_rate='optimal'"
                      if params.schedule != K.OPTIMAL else "raise alpha (lower C)")
            raise ValueError(
                f"The weights became non-finite in epoch {epoch} (loss={est.loss!r}, "
                f"learning_rate={est.learning_rate!r}, eta0={est.eta0}): the steps are "
                f"too large. To fix it, {remedy}, or scale the features."
            )
        if est.verbose:
            print(f"-- Problem {k + 1}, epoch {epoch}: objective {objective:.6g}, "
                  f"norm {np.sqrt(runner.sgd.squared_norm(k)):.4g}, "
                  f"{time.perf_counter() - start:.3f} s")
        certificate = gap(k) if gap is not None else None
        if certificate is not None:
            print(f"-- Problem {k + 1}, epoch {epoch}: primal {certificate.primal:.10g}, "
                  f"dual {certificate.dual:.10g}, relative gap {certificate.relative_gap:.3g}")
        if est.tol is None:
            continue
        stale = stale + 1 if objective > best - est.tol else 0
        best = min(best, objective)
        if stale >= est.n_iter_no_change:
            if params.schedule == K.ADAPTIVE and params.eta0 > MIN_ADAPTIVE_ETA:
                params = params._replace(eta0=params.eta0 / 5.0)
                stale = 0
            else:
                return epoch
    if est.tol is not None and max_epochs > 1:
        warnings.warn(
            f"Maximum number of epochs ({max_epochs}) reached before the objective "
            "stopped improving by tol; raise max_iter or tol.", ConvergenceWarning,
        )
    return max_epochs


def optimal_t0(loss, alpha, csr, sample_weight):
    """Offset of the 'optimal' schedule ``1 / (alpha (t0 + t - 1))`` for ``loss`` (a name).

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

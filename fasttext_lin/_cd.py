"""The dual coordinate descent solver of :class:`~fasttext_lin.LinearClassifier`
(``solver='cd'``) for the hinge, the squared hinge and log loss: passes, shrinking, the
duality-gap stop and the one-vs-rest threads, over the kernels of :mod:`._cd_kernels` and
:mod:`._cd_logistic_kernels`.

It solves liblinear's problem ``min_w 1/2 ||w||^2 + C sum_i s_i loss(y_i w.x_i)`` in its
dual, with ``C = 1 / (alpha n)``, the intercept as a regularised bias feature of value
``intercept_scaling``. Each pass visits the rows in a fresh random order. The hinges (Hsieh
et al., ICML 2008) move each dual variable to its optimum in one step; rows whose bound
holds are shrunk away as liblinear does, and all rows come back when the active ones have
converged. Log loss (Yu, Huang and Lin, Machine Learning 2011) keeps every dual variable
strictly inside ``(0, C s_i)`` and moves it by a few Newton steps; nothing is shrunk. The
solver stops when the relative duality gap ``(P(w) - D(alpha)) / P(w)`` is at most ``tol``.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._cd_kernels import cd_pass, primal_dual, rebuild_weights, squared_row_norms
from ._cd_logistic_kernels import logistic_pass, logistic_primal_gap

# The losses this solver trains.
LOSSES = ("hinge", "squared_hinge", "log_loss")
# tol's value when tol=None: the relative duality gap to reach.
DEFAULT_TOL = 1e-4
# The projected-gradient spread at which the active rows count as converged (liblinear's
# default stop), and its factor each time all rows converge with the gap still above tol.
FIRST_SPREAD, SPREAD_FACTOR = 0.1, 0.1
# The gap costs one sweep over all rows: check it when the active rows converge, else
# after passes that visited this many times X's nonzeros (at most 1/GAP_EVERY extra work).
GAP_EVERY = 5
# Log loss: a new dual variable starts min(INSIDE c_i, INSIDE_MAX) inside its bounds.
INSIDE, INSIDE_MAX = 1e-3, 1e-8
# Log loss: the Newton steps' first slope tolerance, and its floor (lower still when tol is).
NEWTON_TOL_FIRST, NEWTON_TOL_MIN = 1e-2, 1e-8
# Log loss: the pass at which the gap is checked even if the passes' estimate is above tol.
LATEST_CHECK = 8


def train(est, X, y, classes, weight, alpha, decay, state, max_epochs):
    """Train every binary problem of ``state`` (a BinaryState) to its optimum, in place.

    The arguments are those of :func:`._sgd.train` (``decay`` is unused); ``est.dual_coef_``
    is set to the dual variables, one row per problem, and with ``est.warm_start`` a
    previous ``dual_coef_`` of the same shape is the starting point (clipped to the new
    bounds). Returns the passes run (the largest over the problems).
    """
    n, n_features = X.shape
    # est.C itself when given: 1 / (alpha n) may round it, and alpha_i = C s_i is tested.
    C = float(est.C) if est.C is not None else 1.0 / (alpha * n)
    squared = est.loss == "squared_hinge"
    bias = float(est.intercept_scaling) if est.fit_intercept else 0.0
    csr = (_unsigned(X.indptr), _unsigned(X.indices), X.data)
    positive = classes[-1:] if classes.shape[0] == 2 else classes
    previous = getattr(est, "dual_coef_", None) if est.warm_start else None
    if previous is None or previous.shape != (positive.shape[0], n):
        previous = np.zeros((positive.shape[0], n))
    seeds = check_random_state(est.random_state).randint(
        np.iinfo(np.int32).max, size=positive.shape[0]
    )
    tol = DEFAULT_TOL if est.tol is None else float(est.tol)
    cost = C * weight
    if est.loss == "log_loss":
        solve, start = _solve_logistic, _logistic_start
        problem = (csr, n_features, cost, squared_row_norms(X.indptr, X.data, bias), bias,
                   tol, max_epochs, est.verbose)
    else:
        upper, diag = _bounds(cost, squared)
        qd = squared_row_norms(X.indptr, X.data, bias) + diag
        problem = (csr, n_features, upper, diag, qd, cost, bias, squared, tol, max_epochs,
                   est.verbose)
        solve, start = _solve, lambda alpha, _: np.minimum(alpha, upper)
    # Each problem has its own seed, drawn above: the model does not depend on n_jobs.
    results = Parallel(n_jobs=est.n_jobs, prefer="threads")(
        delayed(solve)(problem, np.where(y == label, 1.0, -1.0), start(previous[k], cost),
                       seeds[k], k)
        for k, label in enumerate(positive)
    )
    coef = np.empty((len(results), n_features))
    intercept = np.empty(len(results))
    for k, (w, _, _) in enumerate(results):
        coef[k], intercept[k] = w[:n_features], w[n_features] * bias
    state.set_solution(coef, intercept)
    est.dual_coef_ = np.stack([dual for _, dual, _ in results])
    return max(passes for _, _, passes in results)


def _bounds(cost, squared):
    """Per-row ``(upper, diag)`` of the dual for ``cost_i = C s_i``; rows of weight 0 get
    ``upper = 0`` (their alpha stays 0) and ``diag = 0``."""
    used = cost > 0.0
    if not squared:
        return cost.copy(), np.zeros_like(cost)
    upper = np.where(used, np.inf, 0.0)
    diag = np.zeros_like(cost)
    diag[used] = 0.5 / cost[used]
    return upper, diag


def _solve(problem, y, alpha, seed, k):
    """Solve one binary problem from the dual point ``alpha`` (feasible; updated in place).

    Returns ``(w, alpha, passes)``, ``w`` of length ``n_features + 1`` (the bias weight last).
    """
    csr, n_features, upper, diag, qd, cost, bias, squared, tol, max_passes, verbose = problem
    w = np.zeros(n_features + 1)
    rebuild_weights(*csr, y, alpha, w, bias)
    rng = np.random.default_rng(seed)
    # Rows of weight 0 keep alpha = 0: they never enter the passes.
    index = np.flatnonzero(upper > 0.0).astype(np.intp)
    n_rows, active = index.shape[0], index.shape[0]
    gap_work = int(csr[0][-1]) + csr[0].shape[0]  # a Python int: no unsigned wraparound
    pg_max, pg_min, spread, work, gap = np.inf, -np.inf, FIRST_SPREAD, 0, np.inf
    for done in range(1, max_passes + 1):
        start = time.perf_counter()
        rng.shuffle(index[:active])
        active, new_max, new_min, visited = cd_pass(
            *csr, y, upper, diag, qd, alpha, w, bias, index, active, pg_max, pg_min
        )
        work += visited
        settled = new_max - new_min <= spread
        if settled or work >= GAP_EVERY * gap_work or done == max_passes:
            work = 0
            primal, dual = primal_dual(*csr, y, cost, diag, alpha, w, bias, squared)
            gap = _relative_gap(primal, primal - dual, done, k, cost * (qd - diag))
            if verbose:
                print(f"-- Problem {k + 1}, pass {done}: primal {primal:.10g}, dual "
                      f"{dual:.10g}, relative gap {gap:.3g}, {active} active rows, "
                      f"{time.perf_counter() - start:.3f} s")
            if gap <= tol:
                return w, alpha, done
        if settled:
            if active == n_rows:
                spread *= SPREAD_FACTOR
            active, pg_max, pg_min = n_rows, np.inf, -np.inf
        else:
            pg_max = new_max if new_max > 0.0 else np.inf
            pg_min = new_min if new_min < 0.0 else -np.inf
    warnings.warn(
        f"solver='cd' stopped at max_iter={max_passes} passes with a relative duality gap "
        f"of {gap:.3g} (problem {k + 1}), above tol={tol:g}; raise max_iter or tol.",
        ConvergenceWarning,
    )
    return w, alpha, max_passes


def _logistic_start(alpha, cost):
    """``alpha`` moved strictly inside the log-loss dual's ``(0, cost_i)`` (liblinear's
    starting point ``min(1e-3 cost_i, 1e-8)`` from a bound); 0 on rows of cost 0."""
    margin = np.minimum(INSIDE * cost, INSIDE_MAX)
    return np.where(cost > 0.0, np.clip(alpha, margin, cost - margin), 0.0)


def _solve_logistic(problem, y, alpha, seed, k):
    """Solve one binary log-loss problem from ``alpha`` (strictly inside its bounds on the
    rows of positive cost; updated in place), as :func:`_solve` does the hinge's.

    Each pass visits every row of positive cost; a row's Newton steps stop at the slope
    ``newton_tol``, which drops tenfold (down to ``NEWTON_TOL_MIN``) after each pass that
    took few steps (liblinear's rule). The exact gap costs a sweep over X: it is checked
    when the pass's own estimate of the gap reaches ``tol`` (relative to the last primal
    value, or to ``P(0)`` before the first check), and at the latest after twice the
    passes of the last check (first after ``LATEST_CHECK``).
    """
    csr, n_features, cost, qd, bias, tol, max_passes, verbose = problem
    rest = np.where(cost > 0.0, cost - alpha, 0.0)
    w = np.zeros(n_features + 1)
    rebuild_weights(*csr, y, alpha, w, bias)
    rng = np.random.default_rng(seed)
    index = np.flatnonzero(cost > 0.0).astype(np.intp)
    newton_tol, newton_min = NEWTON_TOL_FIRST, min(NEWTON_TOL_MIN, tol)
    scale, latest, gap = np.log(2.0) * cost.sum(), LATEST_CHECK, np.inf
    for done in range(1, max_passes + 1):
        start = time.perf_counter()
        rng.shuffle(index)
        steps, _, estimate = logistic_pass(*csr, y, cost, qd, alpha, rest, w, bias, index,
                                           newton_tol)
        if steps <= index.shape[0] // 10:
            newton_tol = max(newton_min, 0.1 * newton_tol)
        if estimate > tol * scale and done < latest and done < max_passes:
            continue
        primal, absolute = logistic_primal_gap(*csr, y, cost, alpha, rest, w, bias, index)
        gap = _relative_gap(primal, absolute, done, k, cost * qd)
        if verbose:
            print(f"-- Problem {k + 1}, pass {done}: primal {primal:.10g}, dual "
                  f"{primal - absolute:.10g}, relative gap {gap:.3g}, estimated during the "
                  f"pass {estimate / primal:.3g}, Newton tol {newton_tol:.0e}, "
                  f"{time.perf_counter() - start:.3f} s")
        if gap <= tol:
            return w, alpha, done
        scale, latest = primal, 2 * done
    warnings.warn(
        f"solver='cd' stopped at max_iter={max_passes} passes with a relative duality gap "
        f"of {gap:.3g} (problem {k + 1}), above tol={tol:g}; raise max_iter or tol.",
        ConvergenceWarning,
    )
    return w, alpha, max_passes


def _relative_gap(primal, gap, done, k, curvature):
    """``gap / primal``; a ValueError naming the pass, the problem and the largest
    ``C s_i ||x_i||^2`` (``curvature``, per row) when it is not finite."""
    relative = gap / max(primal, np.finfo(np.float64).tiny)
    if not np.isfinite(relative):
        # The solution scales with C s_i ||x_i||^2: too large a C or too large rows.
        raise ValueError(
            f"The duality gap became non-finite in pass {done} (problem {k + 1}): "
            f"C s_i ||x_i||^2 is up to {np.max(curvature):.3g}, too large for solver='cd'; "
            "lower C (raise alpha), or scale the features (or sample weights) down."
        )
    return relative


def _unsigned(index_array):
    """View non-negative integers as unsigned, without a copy: Numba checks a signed index
    for wraparound at every access, an unsigned one needs no check."""
    return index_array.view(np.dtype(f"u{index_array.dtype.itemsize}"))

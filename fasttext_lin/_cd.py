"""The dual coordinate descent solver of :class:`~fasttext_lin.LinearClassifier`
(``solver='cd'``) for the hinge, the squared hinge and log loss: passes, shrinking, the
duality-gap stop and the threads (one-vs-rest problems side by side, or one problem's rows
split, :mod:`._cd_threads`), over the kernels of :mod:`._cd_kernels` and
:mod:`._cd_logistic_kernels`.

It solves liblinear's problem ``min_w 1/2 ||w||^2 + C sum_i s_i loss(y_i w.x_i)`` in its
dual, with ``C = 1 / (alpha n)``, the intercept as a regularised bias feature of value
``intercept_scaling``. Each pass visits the rows in a fresh random order. The hinges (Hsieh
et al., ICML 2008) move each dual variable to its optimum in one step; rows whose bound
holds are shrunk away as liblinear does. A sweep over all rows in order, when the active ones
have converged (or after a fixed amount of work), computes the duality gap and sets the
active rows anew from every row's projected gradient; Newton steps on the free rows cross
the flat directions the passes crawl along. Log loss (Yu, Huang and Lin, Machine Learning
2011) keeps every dual variable strictly inside ``(0, C s_i)`` and moves it by a few Newton
steps; nothing is shrunk. The solver stops when the relative duality gap
``(P(w) - D(alpha)) / P(w)`` is at most ``tol``.
"""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from joblib import effective_n_jobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._cd_kernels import squared_row_norms
from ._cd_threads import RowThreads, Serial, on_threads
from ._constants import EXACT_TOL
from ._validation import unsigned_csr

# The losses this solver trains.
LOSSES = ("hinge", "squared_hinge", "log_loss")
# The projected-gradient spread at which the active rows count as converged (liblinear's
# default stop), and its factor each time all rows have converged with the gap above tol.
FIRST_SPREAD, SPREAD_FACTOR = 0.1, 0.1
# A row at a bound is shrunk when its gradient is beyond SHRINK times the last extreme
# projected gradient (liblinear: 1). 0 shrinks every row that its bound holds: a row shrunk
# too soon comes back at the next sweep, which costs little.
SHRINK = 0.0
# The gap sweep (over all rows in order, so cheap next to a shuffled pass) also brings back
# the rows whose bound no longer holds: run it when the active rows converge, else after
# passes that visited this many times X's nonzeros.
GAP_EVERY = 2
# Conjugate-gradient iterations of the Newton step on the free rows, taken after each sweep
# and every FACE_EVERY passes once all rows have converged to FIRST_SPREAD (before, the free
# rows are not yet the right ones). Passes crawl along the nearly flat directions of
# near-duplicate rows (a9a, 20 Newsgroups); conjugate gradients cross them.
FACE_ITERATIONS, FACE_EVERY = 10, 10
# A Newton step costs about FACE_COST * FACE_ITERATIONS reads of the free rows' nonzeros; it
# is taken only once the passes since the last one have read as many. Along a path of
# growing C, a warm start's free rows are many (20 Newsgroups one-vs-rest: 40% of the rows)
# and a step on them at once cost more than it saved.
FACE_COST = 2
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
    csr = unsigned_csr(X)
    positive = classes[-1:] if classes.shape[0] == 2 else classes
    previous = getattr(est, "dual_coef_", None) if est.warm_start else None
    if previous is None or previous.shape != (positive.shape[0], n):
        previous = np.zeros((positive.shape[0], n))
    seeds = check_random_state(est.random_state).randint(
        np.iinfo(np.int32).max, size=positive.shape[0]
    )
    tol = EXACT_TOL if est.tol is None else float(est.tol)
    cost = C * weight
    # One problem with parallel='hogwild': its passes and sweeps run on the
    # threads (their timing moves the path, not the certified gap). Several: each problem
    # has its own seed, drawn above, and runs on one thread: the model does not depend on
    # n_jobs.
    n_threads = effective_n_jobs(est.n_jobs)
    threaded = (positive.shape[0] == 1 and est.parallel == "hogwild"
                and on_threads(n, X.nnz, n_threads))
    with ThreadPoolExecutor(n_threads) if threaded else nullcontext() as pool:
        if threaded:
            # The threads solve it on a copy of X whose hot columns come first.
            threads = RowThreads(pool, n_threads, csr, n_features, bias)
            csr, n_weights, norms = threads.csr, threads.n_weights, threads.norms
        else:
            threads, n_weights = Serial(), n_features + 1
            norms = squared_row_norms(X.indptr, X.data, bias)
        if est.loss == "log_loss":
            solve, start = _solve_logistic, _logistic_start
            problem = (csr, n_weights - 1, cost, norms, bias, tol, max_epochs, est.verbose)
        else:
            upper, diag = _bounds(cost, squared)
            problem = (csr, n_weights - 1, upper, diag, norms + diag, cost, bias, squared, tol,
                       max_epochs, est.verbose)
            solve, start = _solve, lambda alpha, _: np.minimum(alpha, upper)
        # One problem runs here: a pool for it costs more than a small fit.
        problems_jobs = est.n_jobs if positive.shape[0] > 1 and not threaded else 1
        results = Parallel(n_jobs=problems_jobs, prefer="threads")(
            delayed(solve)(problem, np.where(y == label, 1.0, -1.0),
                           start(previous[k], cost), seeds[k], k, threads)
            for k, label in enumerate(positive)
        )
    for k, (w, _, _) in enumerate(results):
        w = threads.weights_of(w)
        state.set_problem(k, w[:n_features], w[n_features] * bias)
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


def _solve(problem, y, alpha, seed, k, threads):
    """Solve one binary problem from the dual point ``alpha`` (feasible; updated in place),
    its kernels run by ``threads`` (a :class:`._cd_threads.Serial` or ``RowThreads``).

    Passes run on the active rows (:func:`._cd_kernels.cd_passes`) until they converge to
    the current spread or have done ``GAP_EVERY`` sweeps' worth of work; then a sweep over
    all rows (:func:`._cd_kernels.gap_and_screen`) gives the gap and the new active rows, and
    the spread tightens if every row has converged to it. Once it has, a Newton step on the
    free rows (``threads.face_newton``) follows each sweep and every FACE_EVERY
    passes, once the passes since the last step have done as much work as it costs
    (FACE_COST). Returns ``(w, alpha, passes)``, ``w`` of length ``n_features + 1`` (the
    bias weight last).
    """
    csr, n_features, upper, diag, qd, _, bias, _, tol, max_passes, _ = problem
    w = np.zeros(n_features + 1)
    threads.rebuild(csr, y, alpha, w, bias)
    state = np.array([seed], dtype=np.uint64)
    # Rows of weight 0 keep alpha = 0: they never enter the passes.
    index = np.flatnonzero(upper > 0.0).astype(np.intp)
    # np.zeros leaves the pages unwritten (calloc); zeros_like writes all of n_features.
    gradient, scratch = np.empty(y.shape[0]), np.zeros((threads.count, w.shape[0]))
    if threads.count > 1:
        # Fault the pages in here: threads that fault pages in at once wait on each other.
        scratch[:] = 0.0
    bounds = np.array([np.inf, -np.inf])
    active, spread, done, gap = index.shape[0], FIRST_SPREAD, 0, np.inf
    budget = GAP_EVERY * (int(csr[0][-1]) + csr[0].shape[0])  # Python ints: no wraparound
    # A warm start is swept first: it may be optimal already, and its rows at their bounds
    # are shrunk before the first pass. Its free rows are nearly the right ones: it takes
    # Newton steps as soon as the passes have paid for one, as if all rows had converged
    # once.
    sweep, start, work, since_face = bool(np.any(alpha)), time.perf_counter(), 0, 0
    if sweep:
        spread *= SPREAD_FACTOR
    while True:
        if sweep:
            gap, active, all_spread = _sweep(problem, y, alpha, w, index, gradient, bounds,
                                             done, k, start, threads)
            if gap <= tol:
                return w, alpha, done
            if all_spread <= spread:
                spread *= SPREAD_FACTOR
            start, work = time.perf_counter(), 0
        if done == max_passes:
            break
        if spread < FIRST_SPREAD:
            # Free rows are never shrunk: they are among the active ones.
            rows = index[:active]
            free = np.sort(rows[(alpha[rows] > 0.0) & (alpha[rows] < upper[rows])])
            cost = FACE_COST * FACE_ITERATIONS * int(np.sum(csr[0][free + 1] - csr[0][free]))
            if since_face >= cost:
                threads.face_newton(csr, y, upper, diag, bias, alpha, w, free,
                                    FACE_ITERATIONS, scratch)
                since_face = 0
        # Between sweeps, once the free rows are the right ones, a Newton step on them every
        # FACE_EVERY passes.
        cap = min(max_passes - done, FACE_EVERY if spread < FIRST_SPREAD else max_passes)
        active, passes, visited, settled = threads.passes(
            csr, y, upper, diag, qd, alpha, w, bias, index, active, bounds, spread, SHRINK,
            budget - work, cap, state
        )
        done, work, since_face = done + passes, work + visited, since_face + visited
        sweep = settled or work >= budget or done == max_passes
    _warn_max_iter(max_passes, gap, k, tol)
    return w, alpha, max_passes


def _sweep(problem, y, alpha, w, index, gradient, bounds, done, k, start, threads):
    """Run ``threads.sweep`` (:func:`._cd_kernels.gap_and_screen`: it sets ``index``'s
    active rows, ``gradient`` and ``bounds``); print it with ``verbose``. Returns ``(gap,
    active, spread)``, the gap relative to the primal, the spread of all the rows' projected
    gradients."""
    csr, _, upper, diag, qd, cost, bias, squared, _, _, verbose = problem
    primal, dual, active, spread = threads.sweep(
        csr, y, cost, upper, diag, alpha, w, bias, squared, index, gradient, bounds, SHRINK
    )
    gap = _relative_gap(primal, primal - dual, done, k, lambda: cost * (qd - diag))
    if verbose:
        print(f"-- Problem {k + 1}, pass {done}: primal {primal:.10g}, dual {dual:.10g}, "
              f"relative gap {gap:.3g}, {active} active rows, "
              f"{time.perf_counter() - start:.3f} s")
    return gap, active, spread


def _logistic_start(alpha, cost):
    """``alpha`` moved strictly inside the log-loss dual's ``(0, cost_i)`` (liblinear's
    starting point ``min(1e-3 cost_i, 1e-8)`` from a bound); 0 on rows of cost 0."""
    margin = np.minimum(INSIDE * cost, INSIDE_MAX)
    return np.where(cost > 0.0, np.clip(alpha, margin, cost - margin), 0.0)


def _solve_logistic(problem, y, alpha, seed, k, threads):
    """Solve one binary log-loss problem from ``alpha`` (strictly inside its bounds on the
    rows of positive cost; updated in place), as :func:`_solve` does the hinge's, its
    passes and gap sweeps run by ``threads``.

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
    threads.rebuild(csr, y, alpha, w, bias)
    rng = np.random.default_rng(seed)
    index = np.flatnonzero(cost > 0.0).astype(np.intp)
    newton_tol, newton_min = NEWTON_TOL_FIRST, min(NEWTON_TOL_MIN, tol)
    scale, latest, gap = np.log(2.0) * cost.sum(), LATEST_CHECK, np.inf
    for done in range(1, max_passes + 1):
        start = time.perf_counter()
        rng.shuffle(index)
        steps, _, estimate = threads.logistic_pass(csr, y, cost, qd, alpha, rest, w, bias,
                                                   index, newton_tol)
        if steps <= index.shape[0] // 10:
            newton_tol = max(newton_min, 0.1 * newton_tol)
        if estimate > tol * scale and done < latest and done < max_passes:
            continue
        primal, absolute = threads.logistic_gap(csr, y, cost, alpha, rest, w, bias, index)
        gap = _relative_gap(primal, absolute, done, k, lambda: cost * qd)
        if verbose:
            print(f"-- Problem {k + 1}, pass {done}: primal {primal:.10g}, dual "
                  f"{primal - absolute:.10g}, relative gap {gap:.3g}, estimated during the "
                  f"pass {estimate / primal:.3g}, Newton tol {newton_tol:.0e}, "
                  f"{time.perf_counter() - start:.3f} s")
        if gap <= tol:
            return w, alpha, done
        scale, latest = primal, 2 * done
    _warn_max_iter(max_passes, gap, k, tol)
    return w, alpha, max_passes


def _warn_max_iter(max_passes, gap, k, tol):
    """The ConvergenceWarning of a problem that ran ``max_passes`` passes above ``tol``."""
    warnings.warn(
        f"solver='cd' stopped at max_iter={max_passes} passes with a relative duality gap "
        f"of {gap:.3g} (problem {k + 1}), above tol={tol:g}; raise max_iter or tol.",
        ConvergenceWarning,
    )


def _relative_gap(primal, gap, done, k, curvature):
    """``gap / primal``; a ValueError naming the pass, the problem and the largest
    ``C s_i ||x_i||^2`` (``curvature()``, per row: computed only then) when it is not
    finite."""
    relative = gap / max(primal, np.finfo(np.float64).tiny)
    if not np.isfinite(relative):
        # The solution scales with C s_i ||x_i||^2: too large a C or too large rows.
        raise ValueError(
            f"The duality gap became non-finite in pass {done} (problem {k + 1}): "
            f"C s_i ||x_i||^2 is up to {np.max(curvature()):.3g}, too large for solver='cd'; "
            "lower C (raise alpha), or scale the features (or sample weights) down."
        )
    return relative

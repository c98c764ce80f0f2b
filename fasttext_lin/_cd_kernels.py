"""Jitted kernels of the dual coordinate descent solver (:mod:`._cd`) on CSR rows.

The problem is the dual of ``min_w 1/2 ||w||^2 + C sum_i s_i loss(y_i w.x_i)`` for the hinge
and the squared hinge (Hsieh et al., ICML 2008; liblinear's ``solve_l2r_l1l2_svc``)::

    max_alpha  sum_i alpha_i - 1/2 ||w(alpha)||^2 - 1/2 sum_i diag_i alpha_i^2,
    0 <= alpha_i <= upper_i,   w(alpha) = sum_i alpha_i y_i x_i,

with ``upper_i = C s_i, diag_i = 0`` for the hinge and ``upper_i = inf,
diag_i = 1 / (2 C s_i)`` for the squared hinge: one pass kernel serves both losses.
The intercept is a regularised bias feature: every row has an implicit extra column of value
``bias`` whose weight is ``w[n_features]`` (``bias = 0`` for none), so X is never copied.

The kernels trust their inputs: the Python side checks dtypes and allocates; the passes
shuffle with a splitmix64 generator whose state the Python side seeds and keeps.
"""

import numpy as np
from numba import njit

from ._sgd_steps import atomic_add, prefetch

# Rows ahead of the current one whose nonzeros and scalars a pass prefetches (their row
# pointers twice as far ahead): a shuffled pass is bound by the latency of fetching rows.
ROWS_AHEAD = 16
# Rows whose entries outnumber a vector's length / DENSE_SHARE touch it densely: one
# sequential sweep over the whole vector costs less than that many scattered accesses.
DENSE_SHARE = 8


@njit(cache=True, inline="always")
def _margin(indptr, indices, data, i, w, bias):
    """``w.x_i`` with the bias column."""
    z = bias * w[w.shape[0] - 1]
    for p in range(indptr[i], indptr[i + 1]):
        z += w[indices[p]] * data[p]
    return z


@njit(cache=True, nogil=True)
def squared_row_norms(indptr, data, bias):
    """``||x_i||^2 + bias^2`` per row, float64."""
    n = indptr.shape[0] - 1
    out = np.empty(n)
    for i in range(n):
        out[i] = _squared_norm(indptr, data, i, bias)
    return out


@njit(cache=True, inline="always")
def _squared_norm(indptr, data, i, bias):
    """``||x_i||^2 + bias^2``, summed in float64."""
    s = bias * bias
    for p in range(indptr[i], indptr[i + 1]):
        s += float(data[p]) * data[p]
    return s


@njit(cache=True, nogil=True)
def rebuild_weights(indptr, indices, data, y, alpha, w, bias):
    """Set ``w = sum_i alpha_i y_i x_i`` (the primal point of a dual one)."""
    w[:] = 0.0
    last = w.shape[0] - 1
    for i in range(y.shape[0]):
        d = alpha[i] * y[i]
        if d != 0.0:
            for p in range(indptr[i], indptr[i + 1]):
                w[indices[p]] += d * data[p]
            w[last] += d * bias


@njit(cache=True, inline="always")
def _projected(g, a, upper, pg_max_old, pg_min_old):
    """``(shrink, pg)`` of a row at ``alpha = a`` with gradient ``g``: its projected gradient,
    and whether liblinear's rule shrinks it (at a bound, ``g`` beyond the old extreme)."""
    if a == 0.0:
        return g > pg_max_old, min(g, 0.0)
    if a == upper:
        return g < pg_min_old, max(g, 0.0)
    return False, g


@njit(cache=True, inline="always")
def _prefetch_ahead(indptr, indices, data, y, upper, diag, qd, alpha, index, s, active):
    """Prefetch the row visited ``ROWS_AHEAD`` steps after step ``s`` (its nonzeros, one
    hint per 8 of them, and its scalars), and the row pointers of the one ``2 ROWS_AHEAD``
    after (shrinking may reorder them: only a wasted hint)."""
    if s + 2 * ROWS_AHEAD < active:
        prefetch(indptr, index[s + 2 * ROWS_AHEAD])
    if s + ROWS_AHEAD < active:
        j = index[s + ROWS_AHEAD]
        start, stop = indptr[j], indptr[j + 1]
        for p in range(start, stop, 8):
            prefetch(indices, p)
            prefetch(data, p)
        if stop > start:
            prefetch(indices, stop - 1)
            prefetch(data, stop - 1)
        prefetch(alpha, j)
        prefetch(y, j)
        prefetch(upper, j)
        prefetch(diag, j)
        prefetch(qd, j)


@njit(cache=True, inline="always")
def _own_margin(indptr, indices, data, split, i, w, own, bias):
    """``w.x_i`` with the bias column, where this thread's unpublished changes ``own`` add to
    the hot columns (the row's first entries, up to ``split[i]``) and to the bias (last)."""
    n_hot = own.shape[0] - 1
    z = bias * (w[w.shape[0] - 1] + own[n_hot])
    for p in range(indptr[i], split[i]):
        j = indices[p]
        z += (w[j] + own[j]) * data[p]
    for p in range(split[i], indptr[i + 1]):
        z += w[indices[p]] * data[p]
    return z


@njit(cache=True, inline="always")
def own_add(indptr, indices, data, split, i, d, w, own, bias, shared, since, every):
    """``w + own += d x_i`` (the bias column too), the hot columns' share into ``own``, the
    others' into ``w`` (atomically if ``shared``); :func:`publish` once ``since + 1`` rows
    have been added since the last. Returns the new ``since``."""
    for p in range(indptr[i], split[i]):
        own[indices[p]] += d * data[p]
    if shared:
        for p in range(split[i], indptr[i + 1]):
            atomic_add(w, indices[p], d * data[p])
    else:
        for p in range(split[i], indptr[i + 1]):
            w[indices[p]] += d * data[p]
    own[own.shape[0] - 1] += d * bias
    if since + 1 == every:
        publish(w, own)
        return 0
    return since + 1


@njit(cache=True, nogil=True)
def publish(w, own):
    """Add this thread's unpublished changes ``own`` (hot columns ``0..n_hot-1``, the bias
    last) to the shared ``w`` atomically, and clear them."""
    n_hot = own.shape[0] - 1
    for j in range(n_hot):
        if own[j] != 0.0:
            atomic_add(w, j, own[j])
            own[j] = 0.0
    if own[n_hot] != 0.0:
        atomic_add(w, w.shape[0] - 1, own[n_hot])
        own[n_hot] = 0.0


@njit(cache=True, nogil=True)
def cd_pass(indptr, indices, data, split, y, upper, diag, qd, alpha, w, bias, index, active,
            pg_max_old, pg_min_old, own, every, shared):
    """One pass of dual coordinate descent over ``index[:active]`` in that order.

    Each row's entries before ``split[i]`` are in hot columns (ids below ``n_hot =
    own.shape[0] - 1``; ``split = indptr[:-1]`` for none): their changes, and the bias's,
    gather in this thread's ``own`` and reach ``w`` (:func:`publish`) after every ``every``
    updated rows and at the end; the others go to ``w`` directly, atomically if ``shared``
    (other threads update ``w`` too). One thread alone sees the same ``w + own`` as if
    every change went to ``w``; threads sharing ``w`` see each other's hot changes at most
    ``every`` rows late, never fight over those cache lines, and lose no update.

    Rows whose projected gradient says their bound will hold (liblinear's shrinking, by the
    previous pass's bounds ``pg_max_old`` and ``pg_min_old``) are swapped past the active
    end. Returns ``(active, pg_max, pg_min, nnz)``: the new active count, the extreme
    projected gradients of this pass, and the nonzeros visited (the pass's work).
    """
    pg_max, pg_min = -np.inf, np.inf
    work = 0
    s = 0
    since = 0
    while s < active:
        _prefetch_ahead(indptr, indices, data, y, upper, diag, qd, alpha, index, s, active)
        i = index[s]
        work += indptr[i + 1] - indptr[i]
        a = alpha[i]
        g = y[i] * _own_margin(indptr, indices, data, split, i, w, own, bias) - 1.0 + a * diag[i]
        shrink, pg = _projected(g, a, upper[i], pg_max_old, pg_min_old)
        if shrink:
            active -= 1
            index[s], index[active] = index[active], index[s]
            continue
        pg_max = max(pg_max, pg)
        pg_min = min(pg_min, pg)
        if abs(pg) > 1e-12:
            # An empty row without bias (hinge: qd = 0, g = -1) is optimal at its bound.
            new = min(max(a - g / qd[i], 0.0), upper[i]) if qd[i] > 0.0 else upper[i]
            alpha[i] = new
            since = own_add(indptr, indices, data, split, i, (new - a) * y[i], w, own, bias,
                            shared, since, every)
        s += 1
    publish(w, own)
    return active, pg_max, pg_min, work


@njit(cache=True, nogil=True)
def split_hot(indptr, indices, data, code, n_hot, bias, lo, hi, out_indices, out_data, split,
              norms):
    """Rows ``lo <= i < hi`` of X with their columns renumbered for :func:`cd_pass` on
    threads: column ``j`` becomes ``code[j]``, a hot one if ``code[j] < n_hot``; each row's
    hot entries come first, the others after them from ``split[i]``, each in their order.
    Sets ``norms[i]`` to :func:`squared_row_norms`' value on the way."""
    for i in range(lo, hi):
        # Signed positions: unsigned and signed integers together would make floats.
        head = cold = np.int64(indptr[i])
        for p in range(indptr[i], indptr[i + 1]):
            cold += code[indices[p]] < n_hot
        norms[i] = _squared_norm(indptr, data, i, bias)
        split[i] = cold
        for p in range(indptr[i], indptr[i + 1]):
            c = code[indices[p]]
            hot = c < n_hot
            # No branch: whether an entry is hot is a coin toss that the predictor loses.
            q = head if hot else cold
            out_indices[q] = c
            out_data[q] = data[p]
            head += hot
            cold += 1 - hot


@njit(cache=True, inline="always")
def _random(state):
    """The next 64-bit output of splitmix64 (Steele et al., 2014); advances ``state[0]``."""
    z = state[0] + np.uint64(0x9E3779B97F4A7C15)
    state[0] = z
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def shuffle(index, n, state):
    """Shuffle ``index[:n]`` in place (Fisher-Yates) with the generator ``state``."""
    for k in range(n - 1, 0, -1):
        # 53 random bits as a fraction of k + 1: uniform to 2^-53 relative.
        j = int((_random(state) >> np.uint64(11)) * (k + 1.0) * 2.0**-53)
        index[k], index[j] = index[j], index[k]


@njit(cache=True, inline="always")
def thresholds(pg_max, pg_min, shrink):
    """The next pass's shrinking bounds from this pass's extremes, ``shrink`` times them
    (liblinear: 1); none on a side whose extreme has the bound's sign."""
    return (shrink * pg_max if pg_max > 0.0 else np.inf,
            shrink * pg_min if pg_min < 0.0 else -np.inf)


@njit(cache=True, nogil=True)
def cd_passes(indptr, indices, data, y, upper, diag, qd, alpha, w, bias, index, active,
              bounds, spread, shrink, budget, max_passes, state):
    """Passes of :func:`cd_pass` (one thread, no hot columns), each over ``index[:active]``
    freshly shuffled, until one has a projected-gradient spread at most ``spread``, or the
    passes have visited at least ``budget`` nonzeros, or ``max_passes`` ran.

    ``bounds`` holds the shrinking bounds ``(pg_max_old, pg_min_old)`` and is updated to the
    next pass's (:func:`thresholds` with ``shrink``). Returns ``(active, passes, work,
    settled)``: the nonzeros visited, and whether the last pass's spread was within
    ``spread``.
    """
    work = 0
    # No hot columns: only the bias gathers in ``own``, published at each pass's end.
    own = np.zeros(1)
    for done in range(1, max_passes + 1):
        shuffle(index, active, state)
        active, pg_max, pg_min, visited = cd_pass(
            indptr, indices, data, indptr[:-1], y, upper, diag, qd, alpha, w, bias, index,
            active, bounds[0], bounds[1], own, -1, False
        )
        work += visited
        bounds[0], bounds[1] = thresholds(pg_max, pg_min, shrink)
        if pg_max - pg_min <= spread or work >= budget:
            return active, done, work, pg_max - pg_min <= spread
    return active, max_passes, work, False


@njit(cache=True, nogil=True)
def add_rows(indptr, indices, data, y, bias, rows, coef, u):
    """``u += sum_k coef_k y_i x_i`` over the rows ``i = rows[k]`` (the bias column last)."""
    last = u.shape[0] - 1
    for k in range(rows.shape[0]):
        i = rows[k]
        c = coef[k] * y[i]
        if c != 0.0:
            for p in range(indptr[i], indptr[i + 1]):
                u[indices[p]] += c * data[p]
            u[last] += c * bias


@njit(cache=True, nogil=True)
def row_margins(indptr, indices, data, y, bias, rows, w, out):
    """``out[k] = y_i w.x_i`` (the bias column last) for the rows ``i = rows[k]``."""
    for k in range(rows.shape[0]):
        i = rows[k]
        out[k] = y[i] * _margin(indptr, indices, data, i, w, bias)


@njit(cache=True, nogil=True)
def summed_margins(indptr, indices, data, y, bias, rows, parts, out):
    """``out[k] = y_i x_i.u`` for the rows ``i = rows[k]``, ``u`` the sum of ``parts``'
    rows (one per thread; the bias column last)."""
    last = parts.shape[1] - 1
    for k in range(rows.shape[0]):
        i = rows[k]
        z = 0.0
        for m in range(parts.shape[0]):
            z += bias * parts[m, last]
            for p in range(indptr[i], indptr[i + 1]):
                z += parts[m, indices[p]] * data[p]
        out[k] = y[i] * z


@njit(cache=True, nogil=True)
def fold_parts(parts, lo, hi):
    """Add the other rows of ``parts`` to its first on the columns ``lo <= j < hi``, and
    zero them there."""
    for m in range(1, parts.shape[0]):
        for j in range(lo, hi):
            parts[0, j] += parts[m, j]
            parts[m, j] = 0.0


@njit(cache=True, nogil=True)
def clear_rows(indptr, indices, rows, u):
    """Set ``u`` back to zeros, given that it is zero but on the columns of the rows
    ``rows`` and the bias column: those columns one by one, or all of ``u`` at once when
    the rows touch it densely (``DENSE_SHARE``)."""
    entries = 0
    for k in range(rows.shape[0]):
        entries += indptr[rows[k] + 1] - indptr[rows[k]]
    if entries > u.shape[0] // DENSE_SHARE:
        u[:] = 0.0
        return
    for k in range(rows.shape[0]):
        i = rows[k]
        for p in range(indptr[i], indptr[i + 1]):
            u[indices[p]] = 0.0
    u[u.shape[0] - 1] = 0.0


@njit(cache=True, nogil=True)
def dot(a, b):
    """``a.b`` in a plain loop: a BLAS call may wake threads that the machine does not have."""
    total = 0.0
    for j in range(a.shape[0]):
        total += a[j] * b[j]
    return total


@njit(cache=True, inline="always")
def _hinge(cost, y, z, squared):
    """``cost * loss(y z)`` for the hinge or the squared hinge."""
    xi = max(0.0, 1.0 - y * z)
    return cost * (xi * xi if squared else xi)


@njit(cache=True, nogil=True)
def primal_dual(indptr, indices, data, y, cost, diag, alpha, w, bias, squared):
    """``(primal, dual)`` of the problem at ``w`` and ``alpha``; ``cost_i = C s_i``.

    ``squared`` selects the squared hinge. ``w`` is taken as ``w(alpha)``.
    """
    loss = 0.0
    quadratic = 0.0
    for i in range(y.shape[0]):
        loss += _hinge(cost[i], y[i], _margin(indptr, indices, data, i, w, bias), squared)
        quadratic += diag[i] * alpha[i] * alpha[i]
    half_norm = 0.5 * dot(w, w)
    return half_norm + loss, np.sum(alpha) - half_norm - 0.5 * quadratic


@njit(cache=True, nogil=True)
def sweep_rows(indptr, indices, data, y, cost, upper, diag, alpha, w, bias, squared, gradient,
               lo, hi):
    """The rows ``lo <= i < hi``' share of :func:`gap_and_screen`: sets ``gradient[i]``
    (``y_i w.x_i - 1 + diag_i alpha_i``) and returns ``(loss, quadratic, pg_max, pg_min)``,
    the sums of ``cost_i loss(y_i w.x_i)`` and ``diag_i alpha_i^2`` and the extreme
    projected gradients of the rows of positive ``upper``."""
    loss = 0.0
    quadratic = 0.0
    pg_max, pg_min = -np.inf, np.inf
    for i in range(lo, hi):
        z = _margin(indptr, indices, data, i, w, bias)
        a = alpha[i]
        loss += _hinge(cost[i], y[i], z, squared)
        quadratic += diag[i] * a * a
        gradient[i] = y[i] * z - 1.0 + a * diag[i]
        if upper[i] > 0.0:
            pg = _projected(gradient[i], a, upper[i], np.inf, -np.inf)[1]
            pg_max = max(pg_max, pg)
            pg_min = min(pg_min, pg)
    return loss, quadratic, pg_max, pg_min


@njit(cache=True, nogil=True)
def screen_rows(upper, alpha, gradient, index, bounds, pg_max, pg_min, shrink):
    """Set the active rows from every row's ``gradient`` and the extremes ``pg_max``,
    ``pg_min`` of all of them (:func:`sweep_rows`): ``bounds`` becomes
    ``thresholds(pg_max, pg_min, shrink)`` and ``index`` the rows of positive ``upper``,
    first those these bounds do not shrink, in order. Returns their count."""
    bounds[0], bounds[1] = thresholds(pg_max, pg_min, shrink)
    active, rest = 0, index.shape[0]
    for i in range(upper.shape[0]):
        if upper[i] > 0.0:
            if _projected(gradient[i], alpha[i], upper[i], bounds[0], bounds[1])[0]:
                rest -= 1
                index[rest] = i
            else:
                index[active] = i
                active += 1
    return active


@njit(cache=True, nogil=True)
def gap_and_screen(indptr, indices, data, y, cost, upper, diag, alpha, w, bias, squared,
                   index, gradient, bounds, shrink):
    """:func:`primal_dual` in one sweep over the rows in order, which also sets the active
    rows from every row's projected gradient at ``w``.

    ``index`` receives the rows of positive ``upper``: first those the bounds
    ``thresholds(pg_max, pg_min, shrink)`` of all the rows' extremes do not shrink, in
    order. ``gradient`` (length n) is scratch; ``bounds`` is set to those bounds. Returns
    ``(primal, dual, active, spread)``, ``spread = pg_max - pg_min`` over all rows.
    """
    loss, quadratic, pg_max, pg_min = sweep_rows(
        indptr, indices, data, y, cost, upper, diag, alpha, w, bias, squared, gradient, 0,
        y.shape[0]
    )
    active = screen_rows(upper, alpha, gradient, index, bounds, pg_max, pg_min, shrink)
    return dual_objectives(loss, quadratic, alpha, w) + (active, pg_max - pg_min)


@njit(cache=True, nogil=True)
def dual_objectives(loss, quadratic, alpha, w):
    """``(primal, dual)`` from the sums of :func:`sweep_rows` over all rows."""
    half_norm = 0.5 * dot(w, w)
    return half_norm + loss, np.sum(alpha) - half_norm - 0.5 * quadratic


# ``w.x_i`` with the bias column, and with a thread's own changes, for the log-loss kernels
# (:mod:`._cd_logistic_kernels`).
row_margin, own_margin = _margin, _own_margin

"""Jitted kernels of the dual coordinate descent solver (:mod:`._cd`) on CSR rows.

The problem is the dual of ``min_w 1/2 ||w||^2 + C sum_i s_i loss(y_i w.x_i)`` for the hinge
and the squared hinge (Hsieh et al., ICML 2008; liblinear's ``solve_l2r_l1l2_svc``)::

    max_alpha  sum_i alpha_i - 1/2 ||w(alpha)||^2 - 1/2 sum_i diag_i alpha_i^2,
    0 <= alpha_i <= upper_i,   w(alpha) = sum_i alpha_i y_i x_i,

with ``upper_i = C s_i, diag_i = 0`` for the hinge and ``upper_i = inf,
diag_i = 1 / (2 C s_i)`` for the squared hinge: one pass kernel serves both losses.
The intercept is a regularised bias feature: every row has an implicit extra column of value
``bias`` whose weight is ``w[n_features]`` (``bias = 0`` for none), so X is never copied.

The kernels trust their inputs: the Python side checks dtypes, allocates, and shuffles.
"""

import numpy as np
from numba import njit


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
        s = bias * bias
        for p in range(indptr[i], indptr[i + 1]):
            s += float(data[p]) * data[p]
        out[i] = s
    return out


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


@njit(cache=True, nogil=True)
def cd_pass(indptr, indices, data, y, upper, diag, qd, alpha, w, bias, index, active,
            pg_max_old, pg_min_old):
    """One pass of dual coordinate descent over ``index[:active]`` in that order.

    Rows whose projected gradient says their bound will hold (liblinear's shrinking, by the
    previous pass's bounds ``pg_max_old`` and ``pg_min_old``) are swapped past the active
    end. Returns ``(active, pg_max, pg_min, nnz)``: the new active count, the extreme
    projected gradients of this pass, and the nonzeros visited (the pass's work).
    """
    last = w.shape[0] - 1
    pg_max, pg_min = -np.inf, np.inf
    work = 0
    s = 0
    while s < active:
        i = index[s]
        start, stop = indptr[i], indptr[i + 1]
        work += stop - start
        a = alpha[i]
        g = y[i] * _margin(indptr, indices, data, i, w, bias) - 1.0 + a * diag[i]
        pg = 0.0
        if a == 0.0:
            if g > pg_max_old:
                active -= 1
                index[s], index[active] = index[active], index[s]
                continue
            if g < 0.0:
                pg = g
        elif a == upper[i]:
            if g < pg_min_old:
                active -= 1
                index[s], index[active] = index[active], index[s]
                continue
            if g > 0.0:
                pg = g
        else:
            pg = g
        pg_max = max(pg_max, pg)
        pg_min = min(pg_min, pg)
        if abs(pg) > 1e-12:
            # An empty row without bias (hinge: qd = 0, g = -1) is optimal at its bound.
            new = min(max(a - g / qd[i], 0.0), upper[i]) if qd[i] > 0.0 else upper[i]
            alpha[i] = new
            d = (new - a) * y[i]
            for p in range(start, stop):
                w[indices[p]] += d * data[p]
            w[last] += d * bias
        s += 1
    return active, pg_max, pg_min, work


@njit(cache=True, nogil=True)
def primal_dual(indptr, indices, data, y, cost, diag, alpha, w, bias, squared):
    """``(primal, dual)`` of the problem at ``w`` and ``alpha``; ``cost_i = C s_i``.

    ``squared`` selects the squared hinge. ``w`` is taken as ``w(alpha)``.
    """
    loss = 0.0
    linear = 0.0
    quadratic = 0.0
    for i in range(y.shape[0]):
        xi = max(0.0, 1.0 - y[i] * _margin(indptr, indices, data, i, w, bias))
        loss += cost[i] * (xi * xi if squared else xi)
        a = alpha[i]
        linear += a
        quadratic += diag[i] * a * a
    half_norm = 0.5 * np.dot(w, w)
    return half_norm + loss, linear - half_norm - 0.5 * quadratic


# ``w.x_i`` with the bias column, for the log-loss kernels (:mod:`._cd_logistic_kernels`).
row_margin = _margin

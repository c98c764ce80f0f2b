"""Jitted kernels of the dual coordinate descent solver (:mod:`._cd`) for log loss.

The problem is the dual of ``min_w 1/2 ||w||^2 + C sum_i s_i log(1 + exp(-y_i w.x_i))``
(Yu, Huang and Lin, Machine Learning 2011; liblinear's ``solve_l2r_lr_dual``)::

    max_alpha  -1/2 ||w(alpha)||^2 - sum_i [alpha_i log(alpha_i / c_i)
                                           + (c_i - alpha_i) log((c_i - alpha_i) / c_i)],
    0 < alpha_i < c_i = C s_i,   w(alpha) = sum_i alpha_i y_i x_i.

Each coordinate's one-variable problem is solved by a few Newton steps. Near a bound the
step needs ``c_i - alpha_i`` to full relative precision, which ``c_i - alpha_i`` computed
by subtraction lacks: the kernels keep both ``alpha_i`` and ``rest_i = c_i - alpha_i`` and
solve for the smaller of the two (the paper's swap of ``alpha`` and ``C - alpha``).
Rows of ``c_i = 0`` are never visited and add nothing. The intercept is the bias feature of
:mod:`._cd_kernels` (weight ``w[n_features]``, value ``bias``, 0 for none).

The kernels trust their inputs: the Python side checks dtypes, allocates, and shuffles.
"""

import numpy as np
from numba import njit

from ._cd_kernels import own_add, own_margin, publish, row_margin

# Newton steps per coordinate at most, and the factor that pulls a step which would leave
# (0, c) back towards 0 (liblinear's max_inner_iter and eta).
MAX_NEWTON, PULL = 100, 0.1


@njit(cache=True, inline="always")
def _subproblem_slope(z, old, qd, b, c):
    """The derivative at ``z`` of ``z log z + (c - z) log(c - z) + qd/2 (z - old)^2
    + b (z - old)``."""
    return qd * (z - old) + b + np.log(z / (c - z))


@njit(cache=True, nogil=True)
def logistic_pass(indptr, indices, data, split, y, cost, qd, alpha, rest, w, bias, index, tol,
                  own, every, shared):
    """One pass of dual coordinate descent over the rows ``index`` in that order.

    Each row's variable moves to where its slope is below ``tol`` in absolute value (at
    most ``MAX_NEWTON`` Newton steps); ``alpha``, ``rest`` and ``w`` are updated in place,
    the hot columns' changes gathered in ``own`` and published as
    :func:`._cd_kernels.cd_pass` does (``split``, ``own``, ``every``, ``shared``: its
    arguments). Returns ``(steps, slope_max, estimate)``: the Newton steps taken, the
    largest absolute slope at the rows' variables before their steps (0 at the optimum),
    and an estimate of the duality gap during the pass from those slopes (to second order;
    free, where the exact gap costs a sweep).
    """
    steps = 0
    slope_max = 0.0
    estimate = 0.0
    since = 0
    for s in range(index.shape[0]):
        i = index[s]
        c = cost[i]
        b = y[i] * own_margin(indptr, indices, data, split, i, w, own, bias)
        # The slope of the alpha problem at alpha = c / 2 says on which half the solution
        # lies; solve for the variable (alpha or rest) that is small there.
        sign, old, other = 1.0, alpha[i], rest[i]
        if 0.5 * qd[i] * (rest[i] - alpha[i]) + b < 0.0:
            sign, old, other = -1.0, rest[i], alpha[i]
        b *= sign
        # The solution is below c / 2: start a variable above it from well below.
        z = 0.1 * old if other < 0.5 * c else old
        g = _subproblem_slope(z, old, qd[i], b, c)
        # The slope at the variable itself (c - old may round to 0: other may not).
        start = g if z == old else b + np.log(old / other)
        slope_max = max(slope_max, abs(start))
        n_steps = 0
        while n_steps <= MAX_NEWTON and abs(g) >= tol:
            # c / (c - z) / z: the product (c - z) z underflows at tiny C.
            trial = z - g / (qd[i] + c / (c - z) / z)
            z = trial if trial > 0.0 else PULL * z
            g = _subproblem_slope(z, old, qd[i], b, c)
            n_steps += 1
        steps += n_steps
        if n_steps > 0:
            if sign > 0.0:
                alpha[i], rest[i] = z, c - z
            else:
                alpha[i], rest[i] = c - z, z
            since = own_add(indptr, indices, data, split, i, sign * (z - old) * y[i], w, own,
                            bias, shared, since, every)
        # The row's term of the gap before its steps, c KL(alpha / c || expit(-z)), is
        # about alpha rest / (2 c) start^2 at the variable's new value (near expit(-z)).
        estimate += 0.5 * alpha[i] * rest[i] / c * start * start
    publish(w, own)
    return steps, slope_max, estimate


@njit(cache=True, inline="always")
def _xlogx_over(x, c):
    """``x log(x / c)``, 0 at ``x = 0``."""
    return x * np.log(x / c) if x > 0.0 else 0.0


@njit(cache=True, nogil=True)
def logistic_primal_gap(indptr, indices, data, y, cost, alpha, rest, w, bias, index):
    """``(primal, gap)``: ``P(w)`` and ``P(w) - D(alpha)`` over the rows ``index`` (those of
    ``c_i > 0``), ``w`` taken as ``w(alpha)``: :func:`logistic_sums` and ``1/2 ||w||^2``."""
    loss, gap = logistic_sums(indptr, indices, data, y, cost, alpha, rest, w, bias, index)
    return 0.5 * np.dot(w, w) + loss, gap


@njit(cache=True, nogil=True)
def logistic_sums(indptr, indices, data, y, cost, alpha, rest, w, bias, index):
    """``(loss, gap)`` over the rows ``index``: ``sum_i c_i l(z_i)`` and the gap's terms.

    The gap is summed as ``sum_i c_i l(z_i) + alpha_i log(alpha_i / c_i) + rest_i
    log(rest_i / c_i) + alpha_i z_i`` (``z_i = y_i w.x_i``): terms that are each >= 0 (the
    Fenchel-Young inequality) and tend to 0, where ``P - D`` would subtract two large sums.
    """
    loss = 0.0
    gap = 0.0
    for s in range(index.shape[0]):
        i = index[s]
        c = cost[i]
        z = y[i] * row_margin(indptr, indices, data, i, w, bias)
        # log(1 + exp(-z)) without overflow.
        term = c * (np.log1p(np.exp(-abs(z))) + max(-z, 0.0))
        loss += term
        gap += term + _xlogx_over(alpha[i], c) + _xlogx_over(rest[i], c) + alpha[i] * z
    return loss, gap

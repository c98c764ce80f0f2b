"""Jitted kernels of the binary log-loss Newton solver (:mod:`._newton`) on CSR rows.

The problem is ``P(w) = 1/2 ||w||^2 + sum_i c_i log(1 + exp(-z_i))`` with
``z_i = y_i w.x_i``, ``y_i`` in {-1, +1} and ``c_i = C s_i``; ``w`` has ``n_features + 1``
entries, the last the weight of an implicit bias column of value ``bias`` (0: no
intercept), as in :mod:`._cd_kernels`, whose ``row_margin`` computes ``w.x_i``. The loss
part of the Hessian is ``sum_i d_i x_i x_i^T`` with ``d_i = c_i sigma(z_i) sigma(-z_i)``,
which :func:`loss_gradient` stores per row for the other kernels.

Each kernel works on the rows ``start <= i < stop`` and adds their part to its output, as
the kernels of :mod:`._multinomial_kernels` do. The kernels trust their inputs.
"""

import numpy as np
from numba import njit

from ._cd_kernels import row_margin


@njit(cache=True, inline="always")
def _scatter(indptr, indices, data, i, t, bias, out):
    """``out += t x_i`` with the bias column."""
    for p in range(indptr[i], indptr[i + 1]):
        out[indices[p]] += t * data[p]
    out[out.shape[0] - 1] += t * bias


@njit(cache=True, nogil=True)
def loss_gradient(indptr, indices, data, y, cost, w, bias, start, stop, curvature, grad):
    """Loss sum ``sum_i c_i log(1 + exp(-z_i))`` of the rows ``[start, stop)``;
    ``grad += -sum_i c_i sigma(-z_i) y_i x_i`` and ``curvature[i] = d_i`` for those rows.

    Rows of cost 0 are skipped: their ``curvature`` stays as it is (0 where allocated).
    """
    total = 0.0
    for i in range(start, stop):
        c = cost[i]
        if c == 0.0:
            continue
        z = y[i] * row_margin(indptr, indices, data, i, w, bias)
        # exp(-|z|) <= 1: the loss and sigma(-z) without overflow for large |z|.
        e = np.exp(-abs(z))
        total += c * (np.log1p(e) + max(-z, 0.0))
        tail = e / (1.0 + e) if z >= 0.0 else 1.0 / (1.0 + e)
        curvature[i] = c * e / ((1.0 + e) * (1.0 + e))
        _scatter(indptr, indices, data, i, -c * tail * y[i], bias, grad)
    return total


@njit(cache=True, nogil=True)
def hessian_product(indptr, indices, data, curvature, v, bias, start, stop, out):
    """``out += sum_i d_i (x_i.v) x_i`` over the rows ``[start, stop)``: the loss part of
    the Hessian times ``v``. Rows of ``d_i = 0`` (cost 0, or beyond float64's sigmoid)
    are skipped."""
    for i in range(start, stop):
        if curvature[i] == 0.0:
            continue
        u = curvature[i] * row_margin(indptr, indices, data, i, v, bias)
        _scatter(indptr, indices, data, i, u, bias, out)


@njit(cache=True, nogil=True)
def hessian_diagonal(indptr, indices, data, curvature, bias, start, stop, out):
    """``out += sum_i d_i x_ij^2``, the loss part of the Hessian's diagonal, over the rows
    ``[start, stop)`` (those of ``d_i = 0`` skipped)."""
    last = out.shape[0] - 1
    for i in range(start, stop):
        d = curvature[i]
        if d == 0.0:
            continue
        for p in range(indptr[i], indptr[i + 1]):
            # float64 before squaring: float32 data would square in float32.
            x = np.float64(data[p])
            out[indices[p]] += d * x * x
        out[last] += d * bias * bias


@njit(cache=True, nogil=True)
def hessian_upper(indptr, indices, data, curvature, bias, start, stop, out):
    """``out += sum_i d_i x_i x_i^T`` over the rows ``[start, stop)``, on and above the
    diagonal only (``out`` square, of side ``n_features + 1``; row indices sorted): the loss
    part of the explicit Hessian, in ``sum_i nnz_i^2`` steps where dense rows would take
    ``n_features^2``."""
    last = out.shape[0] - 1
    for i in range(start, stop):
        d = curvature[i]
        if d == 0.0:
            continue
        end = indptr[i + 1]
        for p in range(indptr[i], end):
            j = indices[p]
            t = d * np.float64(data[p])
            for q in range(p, end):
                out[j, indices[q]] += t * data[q]
            out[j, last] += t * bias
        out[last, last] += d * bias * bias

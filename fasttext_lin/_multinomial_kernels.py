"""Jitted kernels of the multinomial Newton solver (:mod:`._newton`) on CSR rows.

The problem is ``P(W) = 1/2 ||W||^2 + sum_i c_i (log sum_k exp(z_ik) - z_{i y_i})`` with
``z_i = x_i W``, ``c_i = C s_i`` and ``W`` of shape ``(n_features + 1, n_classes)``,
feature-major (a row's features touch contiguous rows of ``W``). Its last row is the weight
of an implicit bias column of value ``bias`` in every row (0: no intercept), so X is never
copied.

Each kernel works on the rows ``start <= i < stop`` and adds their part to its output, so
the Python side can split the rows into blocks and add the blocks up in a fixed order. The
kernels trust their inputs: the Python side checks dtypes and allocates.
"""

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _scores(indptr, indices, data, i, W, bias, z):
    """``z = x_i W`` with the bias column."""
    last = W.shape[0] - 1
    for k in range(W.shape[1]):
        z[k] = bias * W[last, k]
    for p in range(indptr[i], indptr[i + 1]):
        j, x = indices[p], data[p]
        for k in range(W.shape[1]):
            z[k] += x * W[j, k]


@njit(cache=True, inline="always")
def _scatter(indptr, indices, data, i, t, bias, out):
    """``out += x_i^T t`` with the bias column."""
    last = out.shape[0] - 1
    for p in range(indptr[i], indptr[i + 1]):
        j, x = indices[p], data[p]
        for k in range(out.shape[1]):
            out[j, k] += x * t[k]
    for k in range(out.shape[1]):
        out[last, k] += bias * t[k]


@njit(cache=True, nogil=True)
def loss_gradient(indptr, indices, data, target, cost, W, bias, start, stop, prob, grad):
    """Loss sum ``sum_i c_i L_i`` of the rows ``[start, stop)``; ``grad += sum_i c_i x_i^T
    (p_i - e_{y_i})`` and ``prob[i] = p_i`` (the softmax of ``z_i``) for those rows.

    Rows of cost 0 are skipped (their ``prob`` row is left as it is).
    """
    n_classes = W.shape[1]
    z = np.empty(n_classes)
    total = 0.0
    for i in range(start, stop):
        c = cost[i]
        if c == 0.0:
            continue
        _scores(indptr, indices, data, i, W, bias, z)
        y = target[i]
        top, zy = z.max(), z[y]
        norm = 0.0
        for k in range(n_classes):
            z[k] = np.exp(z[k] - top)
            norm += z[k]
        # log sum exp(z) - z_y with the max subtracted: no overflow for large |z|.
        total += c * (np.log(norm) + top - zy)
        for k in range(n_classes):
            z[k] /= norm
            prob[i, k] = z[k]
            z[k] *= c
        z[y] -= c
        _scatter(indptr, indices, data, i, z, bias, grad)
    return total


@njit(cache=True, nogil=True)
def hessian_product(indptr, indices, data, cost, prob, V, bias, start, stop, out):
    """``out += sum_i c_i x_i^T (p_i * u_i - p_i (p_i . u_i))``, ``u_i = x_i V``, over the
    rows ``[start, stop)``: the loss part of the Hessian times ``V`` (the Hessian is the
    identity plus this)."""
    n_classes = V.shape[1]
    u = np.empty(n_classes)
    for i in range(start, stop):
        c = cost[i]
        if c == 0.0:
            continue
        _scores(indptr, indices, data, i, V, bias, u)
        mean = 0.0
        for k in range(n_classes):
            mean += prob[i, k] * u[k]
        for k in range(n_classes):
            u[k] = c * prob[i, k] * (u[k] - mean)
        _scatter(indptr, indices, data, i, u, bias, out)


@njit(cache=True, nogil=True)
def hessian_diagonal(indptr, indices, data, cost, prob, bias, start, stop, out):
    """``out += sum_i c_i p_ik (1 - p_ik) x_ij^2``, the loss part of the Hessian's diagonal,
    over the rows ``[start, stop)``."""
    n_classes = prob.shape[1]
    t = np.empty(n_classes)
    last = out.shape[0] - 1
    for i in range(start, stop):
        c = cost[i]
        if c == 0.0:
            continue
        for k in range(n_classes):
            t[k] = c * prob[i, k] * (1.0 - prob[i, k])
        for p in range(indptr[i], indptr[i + 1]):
            # float64 before squaring: float32 data would square in float32.
            j, x = indices[p], np.float64(data[p])
            for k in range(n_classes):
                out[j, k] += x * x * t[k]
        for k in range(n_classes):
            out[last, k] += bias * bias * t[k]


# -- conjugate-gradient vector updates: one pass each over the (flattened) variables ---------

@njit(cache=True, nogil=True)
def cg_curvatures(s, d, Hd, M):
    """``(d.Hd, s.M.d, d.M.d)``, ``M`` a diagonal."""
    dHd, sMd, dMd = 0.0, 0.0, 0.0
    for j in range(d.shape[0]):
        dHd += d[j] * Hd[j]
        md = M[j] * d[j]
        sMd += s[j] * md
        dMd += d[j] * md
    return dHd, sMd, dMd


@njit(cache=True, nogil=True)
def cg_step(s, r, z, d, Hd, M, a):
    """``s += a d``, ``r -= a Hd``, ``z = r / M``; return ``r.z``."""
    rz = 0.0
    for j in range(d.shape[0]):
        s[j] += a * d[j]
        r[j] -= a * Hd[j]
        z[j] = r[j] / M[j]
        rz += r[j] * z[j]
    return rz


@njit(cache=True, nogil=True)
def cg_direction(d, z, beta):
    """``d = z + beta d``."""
    for j in range(d.shape[0]):
        d[j] = z[j] + beta * d[j]

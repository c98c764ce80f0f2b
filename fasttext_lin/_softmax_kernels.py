"""Jitted SGD epoch for the multinomial (softmax) cross-entropy on CSR data.

Minimises ``(1/n) sum_i s_i CE_i + alpha/2 ||W||^2`` with
``CE_i = log sum_k exp(z_k) - z_{y_i}`` and ``z_k = w_k . x_i + b_k``, the binary kernel's
convention (:mod:`._sgd_kernels`). One step on row ``i`` is
``W <- (1 - eta alpha) W - eta s_i (p - e_{y_i}) x_i^T`` with ``p = softmax(z)``; the
intercepts ``b`` take the same step, without shrinkage, times ``intercept_decay``.

The weights are stored feature-major, ``W^T = scale * v`` with ``v`` of shape
``(n_features, n_classes)`` flattened: the K weights of a feature are contiguous, so a row
with ``m`` nonzeros reads and writes ``m`` runs of K numbers. One L2 scale serves all of W,
and averaging keeps ``u + c v`` as the binary kernel does (same helpers, same fold rule).

The ``state`` array has one row per class, laid out as the binary kernel's: row ``k`` holds
class k's intercept and intercept sum (slots ``INTERCEPT`` and ``AVG_INTERCEPT``); the
scalars shared by all classes (``SCALE``, ``T``, ``AVG_C``, ``AVG_N``) are read from row 0
and written to every row.
"""

import numpy as np
from numba import njit

from ._sgd_kernels import (
    _MIN_SCALE,
    _MIN_SCALE_AVERAGING,
    _PREFETCH_ROWS,
    AVG_C,
    AVG_INTERCEPT,
    AVG_N,
    AVG_STEPS,
    DONE,
    INTERCEPT,
    LOSS_SUM,
    SCALE,
    T,
    _SYNC_ROWS,
    _lazy_average_add,
    _prefetch_row,
    _publish,
    fold_scale,
    learning_rate,
)

# Largest second derivative of CE_i along a unit direction of the scores z: the Hessian
# diag(p) - p p^T has eigenvalues at most 1/2 (reached by two classes at p = 1/2). Along W
# the Hessian is that times x x^T, so a step below 1 / (CURVATURE s_i ||x_i||^2) cannot
# overshoot, as for the binary losses (``_sgd_kernels.CURVATURE``).
CURVATURE = 0.5


@njit(cache=True, inline="always")
def _probabilities(indptr, indices, data, i, label, v, scale, intercept, z):
    """Fill ``z`` with ``p = softmax(z)`` of row ``i``; return its cross-entropy.

    The max score is subtracted before ``exp``, and the cross-entropy is taken as
    ``max + log sum_k exp(z_k - max) - z_label``: finite for any finite scores.
    """
    n_classes = z.shape[0]
    for c in range(n_classes):
        z[c] = 0.0
    for j in range(indptr[i], indptr[i + 1]):
        base = indices[j] * n_classes
        x = data[j]
        for c in range(n_classes):
            z[c] += x * v[base + c]
    top = -np.inf
    for c in range(n_classes):
        z[c] = z[c] * scale + intercept[c]
        top = max(top, z[c])
    true_score = z[label]
    total = 0.0
    for c in range(n_classes):
        z[c] = np.exp(z[c] - top)
        total += z[c]
    for c in range(n_classes):
        z[c] /= total
    return top + np.log(total) - true_score


@njit(cache=True, inline="always")
def _softmax_add(indptr, indices, data, i, v, u, z, inv_scale, avg_c, averaging):
    """``v += outer(x_i, z) / scale`` (feature-major); when ``averaging``, also
    ``u -= avg_c outer(x_i, z) / scale`` (``u + c v`` as in :mod:`._sgd_kernels`)."""
    n_classes = z.shape[0]
    for j in range(indptr[i], indptr[i + 1]):
        base = indices[j] * n_classes
        x = data[j] * inv_scale
        if averaging:
            ux = avg_c * x
            for c in range(n_classes):
                v[base + c] += z[c] * x
                u[base + c] -= z[c] * ux
        else:
            for c in range(n_classes):
                v[base + c] += z[c] * x


@njit(cache=True, nogil=True)
def softmax_epoch(
    indptr, indices, data, y, sample_weight, order, v, u, state,
    schedule, alpha, eta0, power_t, optimal_t0, intercept_decay, average_start, track_loss,
):
    """Run one softmax SGD epoch over the rows in ``order``; return the weighted loss sum.

    Parameters
    ----------
    indptr, indices, data : ndarray
        CSR arrays of X (any integer / float dtypes).
    y : ndarray of int
        Class of each row, in ``0 .. n_classes - 1``.
    sample_weight : ndarray of float64
        Per-row weights.
    order : ndarray of int
        Rows to visit, in visiting order.
    v : ndarray of shape (n_features * n_classes,)
        Unscaled feature-major weights, ``W[k, f] = state[0, SCALE] * v[f * n_classes + k]``;
        updated in place.
    u : ndarray of float64
        Averaging accumulator, laid out as ``v`` (length 0 when not averaging).
    state : ndarray of float64, shape (n_classes, STATE_SIZE)
        Intercepts, their sums and the shared scalars (module docstring); updated in place.
    schedule : int
        Code from ``SCHEDULE_CODES``.
    alpha, eta0, power_t, optimal_t0 : float
        L2 strength and learning-rate parameters.
    intercept_decay : float
        The intercepts' steps are the weights' times this (as in :func:`._sgd_kernels.sgd_epoch`);
        0 keeps them fixed.
    average_start : int
        Average the weights from this step on; negative disables averaging.
    track_loss : bool
        Sum the cross-entropies (before each step); else return 0.
    """
    n_classes = state.shape[0]
    scale = state[0, SCALE]
    t = state[0, T]
    avg_c = state[0, AVG_C]
    avg_n = state[0, AVG_N]
    averaging = average_start >= 0
    min_scale = _MIN_SCALE_AVERAGING if averaging else _MIN_SCALE
    # Scores, then probabilities, then steps of the current row.
    z = np.empty(n_classes)
    intercept = state[:, INTERCEPT]
    sumloss = 0.0
    n_rows = order.shape[0]
    for k in range(n_rows):
        if k + _PREFETCH_ROWS < n_rows:
            _prefetch_row(indptr, indices, data, order[k + _PREFETCH_ROWS])
        i = order[k]
        label = y[i]
        cross_entropy = _probabilities(indptr, indices, data, i, label, v, scale, intercept, z)
        if track_loss:
            sumloss += sample_weight[i] * cross_entropy
        eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
        if alpha > 0.0:
            shrink = 1.0 - eta * alpha
            if shrink <= 0.0:
                # The step wipes the weights out: fold, then zero them.
                state[0, SCALE] = scale
                state[0, AVG_C] = avg_c
                fold_scale(v, u, state[0])
                v[:] = 0.0
                avg_c = 0.0
                shrink = 1.0
            scale *= shrink
        weight = -eta * sample_weight[i]
        for c in range(n_classes):
            z[c] *= weight
        z[label] -= weight
        avg_step = averaging and t >= average_start
        _softmax_add(indptr, indices, data, i, v, u, z, 1.0 / scale, avg_c, avg_step)
        if intercept_decay != 0.0:
            for c in range(n_classes):
                state[c, INTERCEPT] += intercept_decay * z[c]
        if avg_step:
            avg_c += scale
            avg_n += 1.0
            for c in range(n_classes):
                state[c, AVG_INTERCEPT] += state[c, INTERCEPT]
        if scale < min_scale:
            state[0, SCALE] = scale
            state[0, AVG_C] = avg_c
            fold_scale(v, u, state[0])
            scale = 1.0
            avg_c = 0.0
        t += 1.0
    for c in range(n_classes):
        state[c, SCALE] = scale
        state[c, T] = t
        state[c, AVG_C] = avg_c
        state[c, AVG_N] = avg_n
    return sumloss


@njit(cache=True, nogil=True)
def softmax_segment(
    indptr, indices, data, y, sample_weight, rows, v, u, last, state, local, out,
    schedule, alpha, eta0, power_t, optimal_t0, intercept_decay, average_start, track_loss,
):
    """Run one thread's share of a Hogwild segment of softmax SGD.

    The softmax counterpart of :func:`._sgd_kernels.sgd_segment` (same sharing, averaging
    and stopping rules): the arguments are :func:`softmax_epoch`'s, with ``last``
    (n_features,) the lazy average's (length 0 when not averaging), ``state``
    (n_classes, STATE_SIZE) shared, its common scalars in row 0 only (the caller copies
    them to the other rows), and ``local`` of shape (4, n_classes): row 0 filled with the
    sums of the intercepts over this thread's averaged steps; rows 1-3 scratch (the row's
    probabilities, the local intercepts and their changes since the last publish).
    """
    n_classes = state.shape[0]
    averaging = average_start >= 0
    min_scale = _MIN_SCALE_AVERAGING if averaging else _MIN_SCALE
    int_sum, z, intercept, int_delta = local[0], local[1], local[2], local[3]
    int_sum[:] = 0.0
    avg_steps, sumloss = 0.0, 0.0
    # Local copies of the shared scalars, and this thread's changes since it last published.
    t, scale, avg_c = state[0, T], state[0, SCALE], state[0, AVG_C]
    intercept[:] = state[:, INTERCEPT]
    int_delta[:] = 0.0
    steps, shrinks, c_delta = 0, 1.0, 0.0
    n_rows = rows.shape[0]
    done = n_rows
    for k in range(n_rows):
        if steps == _SYNC_ROWS:
            _publish_softmax(state, steps, shrinks, int_delta, c_delta)
            t, scale, avg_c = state[0, T], state[0, SCALE], state[0, AVG_C]
            intercept[:] = state[:, INTERCEPT]
            int_delta[:] = 0.0
            steps, shrinks, c_delta = 0, 1.0, 0.0
        if k > 0 and scale < min_scale:
            done = k
            break
        if k + _PREFETCH_ROWS < n_rows:
            _prefetch_row(indptr, indices, data, rows[k + _PREFETCH_ROWS])
        i = rows[k]
        label = y[i]
        cross_entropy = _probabilities(indptr, indices, data, i, label, v, scale, intercept, z)
        if track_loss:
            sumloss += sample_weight[i] * cross_entropy
        eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
        if alpha > 0.0:
            shrink = 1.0 - eta * alpha
            scale *= shrink
            shrinks *= shrink
        weight = -eta * sample_weight[i]
        for c in range(n_classes):
            z[c] *= weight
        z[label] -= weight
        avg_step = averaging and t >= average_start
        if avg_step:
            _lazy_average_add(indptr, indices, data, i, v, u, last, z, 1.0 / scale, avg_c)
        else:
            _softmax_add(indptr, indices, data, i, v, u, z, 1.0 / scale, 0.0, False)
        if intercept_decay != 0.0:
            for c in range(n_classes):
                intercept[c] += intercept_decay * z[c]
                int_delta[c] += intercept_decay * z[c]
        if avg_step:
            avg_c += scale
            c_delta += scale
            avg_steps += 1.0
            for c in range(n_classes):
                int_sum[c] += intercept[c]
        t += 1.0
        steps += 1
    _publish_softmax(state, steps, shrinks, int_delta, c_delta)
    out[DONE] = done
    out[AVG_STEPS] = avg_steps
    out[LOSS_SUM] = sumloss


@njit(cache=True, inline="always")
def _publish_softmax(state, steps, shrinks, int_delta, c_delta):
    """``_sgd_kernels._publish`` for the softmax state: the common scalars in row 0, one
    intercept a class."""
    _publish(state[0], steps, shrinks, int_delta[0], c_delta)
    for c in range(1, state.shape[0]):
        state[c, INTERCEPT] += int_delta[c]

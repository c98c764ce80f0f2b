"""Jitted SGD epoch for the multinomial (softmax) cross-entropy on CSR data.

Minimises ``(1/n) sum_i s_i CE_i + alpha/2 ||W||^2`` with
``CE_i = log sum_k exp(z_k) - z_{y_i}`` and ``z_k = w_k . x_i + b_k``, the binary kernel's
convention (:mod:`._sgd_kernels`). One step on row ``i`` is
``W <- (1 - eta alpha) W - eta s_i (p - e_{y_i}) x_i^T`` with ``p = softmax(z)``; the
intercepts ``b`` take the same step, without shrinkage, times ``intercept_decay``.

The weights are stored feature-major, ``W^T = scale * v`` with ``v`` of shape
``(n_features, n_classes)`` flattened: the K weights of a feature are contiguous, so a row
with ``m`` nonzeros reads and writes ``m`` runs of K numbers. One L2 scale serves all of W,
and averaging keeps ``u + c v`` as the binary kernel does: both are built from the per-row
steps of :mod:`._sgd_steps` (the same fold, shrink, publish and averaging rules).

The ``state`` array has one row per class, laid out as the binary kernel's: row ``k`` holds
class k's intercept and intercept sum (slots ``INTERCEPT`` and ``AVG_INTERCEPT``); the
scalars shared by all classes (``SCALE``, ``T``, ``AVG_C``, ``AVG_N``) are read from row 0
and written to every row.
"""

import numpy as np
from numba import njit

from ._sgd_steps import (
    AVG_C,
    AVG_INTERCEPT,
    AVG_N,
    AVG_STEPS,
    DONE,
    INTERCEPT,
    LOSS_SUM,
    PREFETCH_ROWS,
    SCALE,
    SYNC_ROWS,
    T,
    fold,
    hogwild_close,
    hogwild_shrink,
    lazy_average_add,
    learning_rate,
    min_scale,
    prefetch_row,
    publish,
    serial_close,
    serial_shrink,
    wipe,
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


@njit(cache=True, inline="always")
def _softmax_step(indptr, indices, data, i, label, row_weight, v, scale, intercept, t, z,
                  sumloss, schedule, alpha, eta0, power_t, optimal_t0, track_loss):
    """The gradient of row ``i`` (class ``label``, weight ``row_weight``): fill ``z`` with
    the step of each class's score, ``-eta s_i (p - e_{y_i})`` (before the L2 shrink);
    return ``(eta, sumloss)``, ``sumloss`` with the row's weighted cross-entropy added when
    ``track_loss``."""
    cross_entropy = _probabilities(indptr, indices, data, i, label, v, scale, intercept, z)
    if track_loss:
        sumloss += row_weight * cross_entropy
    eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
    weight = -eta * row_weight
    for c in range(z.shape[0]):
        z[c] *= weight
    z[label] -= weight
    return eta, sumloss


@njit(cache=True, inline="always")
def _add_scaled(target, z, factor):
    """``target += factor * z``, skipped when ``factor`` is 0."""
    if factor != 0.0:
        for c in range(z.shape[0]):
            target[c] += factor * z[c]


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
    shared = state[0]
    scale, t, avg_c, avg_n = shared[SCALE], shared[T], shared[AVG_C], shared[AVG_N]
    floor = min_scale(average_start)
    averaging = average_start >= 0
    sumloss = 0.0
    # Scores, then probabilities, then steps of the current row.
    z = np.empty(n_classes)
    intercept, avg_intercept = state[:, INTERCEPT], state[:, AVG_INTERCEPT]
    n_rows = order.shape[0]
    for k in range(n_rows):
        i = order[k]
        if k + PREFETCH_ROWS < n_rows:
            prefetch_row(indptr, indices, data, order[k + PREFETCH_ROWS])
        eta, sumloss = _softmax_step(
            indptr, indices, data, i, y[i], sample_weight[i], v, scale, intercept, t, z,
            sumloss, schedule, alpha, eta0, power_t, optimal_t0, track_loss)
        scale, wiped = serial_shrink(scale, eta, alpha)
        if wiped:
            avg_c = wipe(v, u, shared, scale, avg_c)
        averaging_now = averaging and t >= average_start
        _softmax_add(indptr, indices, data, i, v, u, z, 1.0 / scale, avg_c, averaging_now)
        _add_scaled(intercept, z, intercept_decay)
        if averaging_now:
            _add_scaled(avg_intercept, intercept, 1.0)
        avg_c, avg_n, t = serial_close(scale, avg_c, avg_n, t, averaging_now)
        if scale < floor:
            scale, avg_c = fold(v, u, shared, scale, avg_c)
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
    floor = min_scale(average_start)
    averaging = average_start >= 0
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
        if steps == SYNC_ROWS:
            _publish_softmax(state, steps, shrinks, int_delta, c_delta)
            t, scale, avg_c = state[0, T], state[0, SCALE], state[0, AVG_C]
            intercept[:] = state[:, INTERCEPT]
            int_delta[:] = 0.0
            steps, shrinks, c_delta = 0, 1.0, 0.0
        if k > 0 and scale < floor:
            done = k
            break
        if k + PREFETCH_ROWS < n_rows:
            prefetch_row(indptr, indices, data, rows[k + PREFETCH_ROWS])
        i = rows[k]
        eta, sumloss = _softmax_step(
            indptr, indices, data, i, y[i], sample_weight[i], v, scale, intercept, t, z,
            sumloss, schedule, alpha, eta0, power_t, optimal_t0, track_loss)
        scale, shrinks = hogwild_shrink(scale, shrinks, eta, alpha)
        averaging_now = averaging and t >= average_start
        if averaging_now:
            lazy_average_add(indptr, indices, data, i, v, u, last, z, 1.0 / scale, avg_c)
        else:
            _softmax_add(indptr, indices, data, i, v, u, z, 1.0 / scale, 0.0, False)
        _add_scaled(intercept, z, intercept_decay)
        _add_scaled(int_delta, z, intercept_decay)
        if averaging_now:
            _add_scaled(int_sum, intercept, 1.0)
        avg_c, c_delta, avg_steps, t, steps = hogwild_close(scale, avg_c, c_delta, avg_steps,
                                                            t, steps, averaging_now)
    _publish_softmax(state, steps, shrinks, int_delta, c_delta)
    out[DONE] = done
    out[AVG_STEPS] = avg_steps
    out[LOSS_SUM] = sumloss


@njit(cache=True, inline="always")
def _publish_softmax(state, steps, shrinks, int_delta, c_delta):
    """:func:`._sgd_steps.publish` for the softmax state: the common scalars in row 0, one
    intercept a class."""
    publish(state[0], steps, shrinks, int_delta[0], c_delta)
    for c in range(1, state.shape[0]):
        state[c, INTERCEPT] += int_delta[c]

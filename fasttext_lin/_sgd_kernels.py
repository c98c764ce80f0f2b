"""Jitted SGD epochs for binary (and regression) linear models on CSR data.

The multinomial (softmax) epoch lives in :mod:`._softmax_kernels`; both are built from the
per-row steps of :mod:`._sgd_steps`, which also holds the state layout, the schedules and
the scale-folding helpers (imported here under the same names as before).

The kernels trust their inputs: the Python layer (``linear_model``) validates
dtypes, shapes and values, owns allocation and randomness, and calls one epoch
at a time. Weights are kept as ``w = scale * v`` so that the L2 shrink of a step
is one multiplication (Bottou's trick); only the row's features are touched.

Averaged SGD keeps the running sum of the weights as ``u + c * v``: a step that
adds ``delta`` to ``v`` (sparse) subtracts ``c * delta`` from ``u`` and adds the
new scale to ``c``, so averaging costs one more write per nonzero.
"""

import numpy as np
from numba import njit

from ._sgd_steps import (  # noqa: F401 (the state layout and helpers the Python side reads)
    ADAPTIVE,
    AVG_C,
    AVG_INTERCEPT,
    AVG_N,
    AVG_STEPS,
    CONSTANT,
    DONE,
    INTERCEPT,
    INVSCALING,
    LOSS_SUM,
    MIN_SCALE,
    MIN_SCALE_AVERAGING,
    OPTIMAL,
    PREFETCH_ROWS,
    SCALE,
    SCHEDULE_CODES,
    SEGMENT_SIZE,
    STATE_SIZE,
    SYNC_ROWS,
    T,
    fold,
    fold_scale,
    hogwild_close,
    hogwild_shrink,
    lazy_average_add,
    learning_rate,
    min_scale,
    prefetch_row,
    publish,
    serial_close,
    serial_shrink,
    settle_average,
    wipe,
)

HINGE, SQUARED_HINGE, LOG_LOSS, MODIFIED_HUBER, SQUARED_ERROR = range(5)
LOSS_CODES = {
    "hinge": HINGE,
    "squared_hinge": SQUARED_HINGE,
    "log_loss": LOG_LOSS,
    "modified_huber": MODIFIED_HUBER,
    "squared_error": SQUARED_ERROR,
}

# Old private names, kept while the thread runner (``_MIN_SCALE*``) and bench_epoch.py
# (``_prefetch_row``; ``_PREFETCH_ROWS``, which its prefetch lever patches in a copy of
# ``sgd_epoch``'s globals) still read them.
_MIN_SCALE = MIN_SCALE
_MIN_SCALE_AVERAGING = MIN_SCALE_AVERAGING
_PREFETCH_ROWS = PREFETCH_ROWS
_prefetch_row = prefetch_row


@njit(cache=True, inline="always")
def _row_dot(indptr, indices, data, i, v):
    """``x_i . v`` for row ``i`` of a CSR matrix."""
    dot = 0.0
    for j in range(indptr[i], indptr[i + 1]):
        dot += data[j] * v[indices[j]]
    return dot


@njit(cache=True, inline="always")
def _row_add(indptr, indices, data, i, v, u, coef, avg_c, averaging):
    """``v += coef x_i``; when ``averaging``, also ``u -= avg_c coef x_i`` (module docstring)."""
    if averaging:
        ucoef = avg_c * coef
        for j in range(indptr[i], indptr[i + 1]):
            v[indices[j]] += coef * data[j]
            u[indices[j]] -= ucoef * data[j]
    else:
        for j in range(indptr[i], indptr[i + 1]):
            v[indices[j]] += coef * data[j]


@njit(cache=True, inline="always")
def loss_value(loss, p, y):
    """Loss of prediction ``p`` for target ``y`` (y in {-1, +1} but for squared error)."""
    if loss == HINGE:
        return max(0.0, 1.0 - p * y)
    if loss == SQUARED_HINGE:
        z = 1.0 - p * y
        return z * z if z > 0.0 else 0.0
    if loss == LOG_LOSS:
        z = p * y
        if z > 18.0:
            return np.exp(-z)
        if z < -18.0:
            return -z
        return np.log1p(np.exp(-z))
    if loss == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    return 0.5 * (p - y) * (p - y)


@njit(cache=True, inline="always")
def loss_derivative(loss, p, y):
    """Derivative of :func:`loss_value` with respect to ``p``."""
    if loss == HINGE:
        # Strictly inside the margin only: no step at margin exactly 1.
        return -y if p * y < 1.0 else 0.0
    if loss == SQUARED_HINGE:
        z = 1.0 - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    if loss == LOG_LOSS:
        z = p * y
        if z > 18.0:
            return -y * np.exp(-z)
        if z < -18.0:
            return -y
        return -y / (1.0 + np.exp(z))
    if loss == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        if z >= -1.0:
            return -2.0 * y * (1.0 - z)
        return -4.0 * y
    return p - y


# Largest second derivative of each loss in p (0: not smooth, steps stay bounded).
CURVATURE = {HINGE: 0.0, SQUARED_HINGE: 2.0, LOG_LOSS: 0.25, MODIFIED_HUBER: 2.0,
             SQUARED_ERROR: 1.0}


@njit(cache=True, nogil=True)
def squared_sum(values):
    """``sum(values ** 2)`` of a 1-D array, in float64.

    Not ``np.dot``: a BLAS call per epoch stalled for milliseconds when its threads
    waited for a core on a busy machine (bench/results/text.md).
    """
    total = 0.0
    for x in values:
        total += np.float64(x) * np.float64(x)
    return total


@njit(cache=True, nogil=True)
def max_weighted_squared_norm(indptr, data, sample_weight):
    """Largest ``s_i ||x_i||^2`` over the rows of a CSR matrix."""
    best = 0.0
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            total += data[j] * data[j]
        best = max(best, sample_weight[i] * total)
    return best


@njit(cache=True, inline="always")
def _binary_step(indptr, indices, data, y, sample_weight, i, v, scale, intercept, t, sumloss,
                 loss, schedule, alpha, eta0, power_t, optimal_t0, track_loss):
    """The gradient of row ``i``: return ``(eta, step, sumloss)``, ``step`` the change that
    row ``i`` asks of its prediction (before the L2 shrink) and ``sumloss`` with the row's
    weighted loss added when ``track_loss``."""
    p = _row_dot(indptr, indices, data, i, v) * scale + intercept
    eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
    if track_loss:
        sumloss += sample_weight[i] * loss_value(loss, p, y[i])
    return eta, -eta * sample_weight[i] * loss_derivative(loss, p, y[i]), sumloss


@njit(cache=True, nogil=True)
def sgd_epoch(
    indptr, indices, data, y, sample_weight, order, v, u, state,
    loss, schedule, alpha, eta0, power_t, optimal_t0, intercept_decay, average_start,
    track_loss,
):
    """Run one SGD epoch over the rows in ``order``; return the weighted loss sum.

    Parameters
    ----------
    indptr, indices, data : ndarray
        CSR arrays of X (any integer / float dtypes).
    y, sample_weight : ndarray of float64
        Targets (+-1 for classification) and per-row weights.
    order : ndarray of int
        Rows to visit, in visiting order.
    v : ndarray
        Unscaled weights, updated in place (``w = state[SCALE] * v``).
    u : ndarray of float64
        Averaging accumulator (length 0 when not averaging), updated in place.
    state : ndarray of float64
        Scale, intercept, step count and averaging scalars, updated in place.
    loss, schedule : int
        Codes from ``LOSS_CODES`` and ``SCHEDULE_CODES``.
    alpha, eta0, power_t, optimal_t0 : float
        L2 strength and learning-rate parameters.
    intercept_decay : float
        The intercept's step is the weights' step times this (scikit-learn's
        ``SPARSE_INTERCEPT_DECAY`` 0.01 damps it on sparse data); 0 keeps it fixed.
    average_start : int
        Average the weights from this step on; negative disables averaging.
    track_loss : bool
        Sum the losses (before each step); else return 0 and save their cost.
    """
    scale, intercept, t = state[SCALE], state[INTERCEPT], state[T]
    avg_c, avg_intercept, avg_n = state[AVG_C], state[AVG_INTERCEPT], state[AVG_N]
    floor = min_scale(average_start)
    averaging = average_start >= 0
    sumloss = 0.0
    n_rows = order.shape[0]
    for k in range(n_rows):
        i = order[k]
        if k + _PREFETCH_ROWS < n_rows:
            prefetch_row(indptr, indices, data, order[k + _PREFETCH_ROWS])
        eta, step, sumloss = _binary_step(
            indptr, indices, data, y, sample_weight, i, v, scale, intercept, t, sumloss,
            loss, schedule, alpha, eta0, power_t, optimal_t0, track_loss)
        scale, wiped = serial_shrink(scale, eta, alpha)
        if wiped:
            avg_c = wipe(v, u, state, scale, avg_c)
        averaging_now = averaging and t >= average_start
        if step != 0.0:
            _row_add(indptr, indices, data, i, v, u, step / scale, avg_c, averaging_now)
            intercept += intercept_decay * step
        if averaging_now:
            avg_intercept += intercept
        avg_c, avg_n, t = serial_close(scale, avg_c, avg_n, t, averaging_now)
        if scale < floor:
            scale, avg_c = fold(v, u, state, scale, avg_c)
    state[SCALE], state[INTERCEPT], state[T] = scale, intercept, t
    state[AVG_C], state[AVG_INTERCEPT], state[AVG_N] = avg_c, avg_intercept, avg_n
    return sumloss


@njit(cache=True, nogil=True)
def sgd_segment(
    indptr, indices, data, y, sample_weight, rows, v, u, last, state, local, out,
    loss, schedule, alpha, eta0, power_t, optimal_t0, intercept_decay, average_start,
    track_loss,
):
    """Run one thread's share of a Hogwild segment: SGD steps on ``rows`` into the weights
    and scalars that all the threads share, without locks; ``_threads.Hogwild`` runs it.

    The threads share ``v``, ``u``, ``last`` and ``state``'s scale, intercept, step count
    and scale sum. Each thread works on local copies of these scalars and, every
    ``SYNC_ROWS`` rows, adds its changes to the shared ones and reloads them
    (``_sgd_steps.publish``): the threads' schedules, weights and scales then agree to within a few
    dozen steps whatever their relative speed, without writing one contended cache line
    every row; a racing publish may lose one batch of changes, never more. The averaged
    sums of the intercept and the count of averaged steps stay thread-local, in ``local``
    and ``out``.
    Averaged steps keep the average's sum in the lazy form of ``_sgd_steps.lazy_average_add``.
    The segment never folds the scale (that rescales all of ``v``, which only a barrier
    may do): it stops before a step from a scale below the fold threshold, and
    ``out[DONE]`` says how many rows ran. The caller never gives a step whose shrink
    ``1 - eta alpha`` is <= 0 (a serial epoch handles those).

    Parameters
    ----------
    indptr, indices, data, y, sample_weight, v, u, loss, schedule, alpha, eta0, power_t, \
optimal_t0, intercept_decay, average_start, track_loss :
        As :func:`sgd_epoch`.
    rows : ndarray of int
        This thread's rows, in visiting order.
    last : ndarray of float64
        Per feature, the scale sum at which its share of ``u`` was last brought up to date
        (``_sgd_steps.lazy_average_add``); length 0 when not averaging.
    state : ndarray of float64, shape (STATE_SIZE,)
        The shared scalars; ``AVG_INTERCEPT`` and ``AVG_N`` are neither read nor written.
    local : ndarray of float64, shape (2, 1) or more rows
        Row 0 is filled with the sum of the intercept over this thread's averaged steps;
        row 1 is scratch.
    out : ndarray of float64, shape (SEGMENT_SIZE,)
        Filled with the rows done, the count of averaged steps and the loss sum.
    """
    floor = min_scale(average_start)
    averaging = average_start >= 0
    avg_steps, int_sum, sumloss = 0.0, 0.0, 0.0
    # Local copies of the shared scalars, and this thread's changes since it last published.
    t, scale, intercept, avg_c = state[T], state[SCALE], state[INTERCEPT], state[AVG_C]
    steps, shrinks, int_delta, c_delta = 0, 1.0, 0.0, 0.0
    n_rows = rows.shape[0]
    done = n_rows
    for k in range(n_rows):
        if steps == SYNC_ROWS:
            publish(state, steps, shrinks, int_delta, c_delta)
            t, scale, intercept, avg_c = state[T], state[SCALE], state[INTERCEPT], state[AVG_C]
            steps, shrinks, int_delta, c_delta = 0, 1.0, 0.0, 0.0
        if k > 0 and scale < floor:
            done = k
            break
        if k + PREFETCH_ROWS < n_rows:
            prefetch_row(indptr, indices, data, rows[k + PREFETCH_ROWS])
        i = rows[k]
        eta, step, sumloss = _binary_step(
            indptr, indices, data, y, sample_weight, i, v, scale, intercept, t, sumloss,
            loss, schedule, alpha, eta0, power_t, optimal_t0, track_loss)
        scale, shrinks = hogwild_shrink(scale, shrinks, eta, alpha)
        averaging_now = averaging and t >= average_start
        if step != 0.0:
            if averaging_now:
                local[1, 0] = step
                lazy_average_add(indptr, indices, data, i, v, u, last, local[1], 1.0 / scale,
                                 avg_c)
            else:
                _row_add(indptr, indices, data, i, v, u, step / scale, 0.0, False)
            intercept += intercept_decay * step
            int_delta += intercept_decay * step
        if averaging_now:
            int_sum += intercept
        avg_c, c_delta, avg_steps, t, steps = hogwild_close(scale, avg_c, c_delta, avg_steps,
                                                            t, steps, averaging_now)
    publish(state, steps, shrinks, int_delta, c_delta)
    local[0, 0] = int_sum
    out[DONE] = done
    out[AVG_STEPS] = avg_steps
    out[LOSS_SUM] = sumloss


@njit(cache=True, nogil=True)
def add_block(acc, u, v_block, u_block, scale, avg_c):
    """Add one block's weights ``scale * v_block`` to ``acc``, and the sum of its averaged
    weights ``u_block + avg_c * v_block`` to ``u`` (length 0 when not averaging)."""
    for j in range(v_block.shape[0]):
        acc[j] += scale * v_block[j]
    for j in range(u.shape[0]):
        u[j] += u_block[j] + avg_c * v_block[j]

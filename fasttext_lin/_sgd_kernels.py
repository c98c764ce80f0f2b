"""Jitted SGD epochs for binary (and regression) linear models on CSR data.

The multinomial (softmax) epoch lives in :mod:`._softmax_kernels` and shares this module's
schedule, prefetch and scale-folding helpers.

The kernels trust their inputs: the Python layer (``linear_model``) validates
dtypes, shapes and values, owns allocation and randomness, and calls one epoch
at a time. Weights are kept as ``w = scale * v`` so that the L2 shrink of a step
is one multiplication (Bottou's trick); only the row's features are touched.

Averaged SGD keeps the running sum of the weights as ``u + c * v``: a step that
adds ``delta`` to ``v`` (sparse) subtracts ``c * delta`` from ``u`` and adds the
new scale to ``c``, so averaging costs one more write per nonzero.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

HINGE, SQUARED_HINGE, LOG_LOSS, MODIFIED_HUBER, SQUARED_ERROR = range(5)
LOSS_CODES = {
    "hinge": HINGE,
    "squared_hinge": SQUARED_HINGE,
    "log_loss": LOG_LOSS,
    "modified_huber": MODIFIED_HUBER,
    "squared_error": SQUARED_ERROR,
}
CONSTANT, OPTIMAL, INVSCALING, ADAPTIVE = range(4)
SCHEDULE_CODES = {
    "constant": CONSTANT,
    "optimal": OPTIMAL,
    "invscaling": INVSCALING,
    "adaptive": ADAPTIVE,
}

# Slots of the float64 ``state`` array that carries scalars across epochs.
SCALE, INTERCEPT, T, AVG_C, AVG_INTERCEPT, AVG_N = range(6)
STATE_SIZE = 6

# Below this the scale is folded into ``v`` before it underflows. The average
# ``(u + c v) / n`` cancels digits in proportion to (mean scale / scale), so
# averaging folds sooner to keep it exact to about 1e-12.
_MIN_SCALE = 1e-9
_MIN_SCALE_AVERAGING = 1e-4
# Rows ahead whose nonzeros are prefetched: visiting rows in shuffled order
# is bound by the latency of fetching each row (bench/bench_epoch.py).
_PREFETCH_ROWS = 4
# Array elements per 64-byte cache line, for the narrowest (4-byte) dtypes.
_LINE = 16


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array[index]`` into cache (``llvm.prefetch``)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, ary, [args[1]], wraparound=False, boundscheck=False
        )
        byte_ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read access, high temporal locality, data cache
        builder.call(fn, [byte_ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True, inline="always")
def _prefetch_row(indptr, indices, data, row):
    for j in range(indptr[row], indptr[row + 1], _LINE):
        _prefetch(indices, j)
        _prefetch(data, j)


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
def _lazy_average_add(indptr, indices, data, i, v, u, last, z, inv_scale, avg_c):
    """``v += outer(x_i, z) * inv_scale`` (feature-major, ``len(z)`` weights a feature),
    first bringing the average's sum of each touched feature up to date.

    The sum of the weights over the steps is ``u + (c - last_f) v`` for feature ``f``:
    its weights count ``c - last_f`` scales since they last changed. Before ``v_f``
    changes, ``u_f += (avg_c - last_f) v_f`` and ``last_f = avg_c``. A racing thread can
    only misplace one such interval (``u - c delta`` would misplace ``c delta``: a whole
    history), which is why Hogwild segments average this way.
    """
    n = z.shape[0]
    for j in range(indptr[i], indptr[i + 1]):
        f = indices[j]
        gap = avg_c - last[f]
        last[f] = avg_c
        base = f * n
        x = data[j] * inv_scale
        for c in range(n):
            u[base + c] += gap * v[base + c]
            v[base + c] += z[c] * x


@njit(cache=True, nogil=True)
def settle_average(v, u, last):
    """Turn the lazy form ``u + (c - last) v`` of the average's sum back into ``u + c v``
    (``len(v) // len(last)`` weights a feature) and zero ``last``."""
    n = v.shape[0] // max(1, last.shape[0])
    for f in range(last.shape[0]):
        for c in range(f * n, (f + 1) * n):
            u[c] -= last[f] * v[c]
        last[f] = 0.0


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
def learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0):
    """Step size at step ``t`` (1-based), as in scikit-learn's SGD."""
    if schedule == OPTIMAL:
        # (t - 1) first: a t0 below t's rounding (large alpha) still gives step 1.
        return 1.0 / (alpha * ((t - 1.0) + optimal_t0))
    if schedule == INVSCALING:
        return eta0 / t**power_t
    return eta0


@njit(cache=True, nogil=True)
def fold_scale(v, u, state):
    """Fold the scale into ``v`` (and the average's ``c * v`` into ``u``)."""
    c = state[AVG_C]
    if c != 0.0:
        for j in range(v.shape[0]):
            u[j] += c * v[j]
        state[AVG_C] = 0.0
    scale = state[SCALE]
    for j in range(v.shape[0]):
        v[j] *= scale
    state[SCALE] = 1.0


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
    scale = state[SCALE]
    intercept = state[INTERCEPT]
    t = state[T]
    avg_c = state[AVG_C]
    avg_intercept = state[AVG_INTERCEPT]
    avg_n = state[AVG_N]
    averaging = average_start >= 0
    min_scale = _MIN_SCALE_AVERAGING if averaging else _MIN_SCALE
    sumloss = 0.0
    n_rows = order.shape[0]
    for k in range(n_rows):
        if k + _PREFETCH_ROWS < n_rows:
            _prefetch_row(indptr, indices, data, order[k + _PREFETCH_ROWS])
        i = order[k]
        p = _row_dot(indptr, indices, data, i, v) * scale + intercept
        eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
        if track_loss:
            sumloss += sample_weight[i] * loss_value(loss, p, y[i])
        step = -eta * sample_weight[i] * loss_derivative(loss, p, y[i])
        if alpha > 0.0:
            shrink = 1.0 - eta * alpha
            if shrink <= 0.0:
                # The step wipes the weights out: fold, then zero them.
                state[SCALE] = scale
                state[AVG_C] = avg_c
                fold_scale(v, u, state)
                v[:] = 0.0
                avg_c = 0.0
                shrink = 1.0
            scale *= shrink
        if step != 0.0:
            coef = step / scale
            _row_add(indptr, indices, data, i, v, u, coef, avg_c,
                     averaging and t >= average_start)
            intercept += intercept_decay * step
        if averaging and t >= average_start:
            avg_c += scale
            avg_intercept += intercept
            avg_n += 1.0
        if scale < min_scale:
            state[SCALE] = scale
            state[AVG_C] = avg_c
            fold_scale(v, u, state)
            scale = 1.0
            avg_c = 0.0
        t += 1.0
    state[SCALE] = scale
    state[INTERCEPT] = intercept
    state[T] = t
    state[AVG_C] = avg_c
    state[AVG_INTERCEPT] = avg_intercept
    state[AVG_N] = avg_n
    return sumloss


# Slots of a thread's ``out`` array after a Hogwild segment (``sgd_segment``).
DONE, AVG_STEPS, LOSS_SUM = range(3)
SEGMENT_SIZE = 3


# Rows a Hogwild thread runs on local copies of the shared scalars before publishing.
_SYNC_ROWS = 32


@njit(cache=True, inline="always")
def _publish(state, steps, shrinks, int_delta, c_delta):
    """Add a thread's changes since its last publish to the shared scalars of ``state``
    (each a short read-modify-write)."""
    state[T] += steps
    state[SCALE] *= shrinks
    state[INTERCEPT] += int_delta
    state[AVG_C] += c_delta


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
    ``_SYNC_ROWS`` rows, adds its changes to the shared ones and reloads them
    (``_publish``): the threads' schedules, weights and scales then agree to within a few
    dozen steps whatever their relative speed, without writing one contended cache line
    every row; a racing publish may lose one batch of changes, never more. The averaged
    sums of the intercept and the count of averaged steps stay thread-local, in ``local``
    and ``out``.
    Averaged steps keep the average's sum in the lazy form of ``_lazy_average_add``.
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
        (``_lazy_average_add``); length 0 when not averaging.
    state : ndarray of float64, shape (STATE_SIZE,)
        The shared scalars; ``AVG_INTERCEPT`` and ``AVG_N`` are neither read nor written.
    local : ndarray of float64, shape (2, 1) or more rows
        Row 0 is filled with the sum of the intercept over this thread's averaged steps;
        row 1 is scratch.
    out : ndarray of float64, shape (SEGMENT_SIZE,)
        Filled with the rows done, the count of averaged steps and the loss sum.
    """
    averaging = average_start >= 0
    min_scale = _MIN_SCALE_AVERAGING if averaging else _MIN_SCALE
    avg_steps, int_sum, sumloss = 0.0, 0.0, 0.0
    # Local copies of the shared scalars, and this thread's changes since it last published.
    t, scale, intercept, avg_c = state[T], state[SCALE], state[INTERCEPT], state[AVG_C]
    steps, shrinks, int_delta, c_delta = 0, 1.0, 0.0, 0.0
    n_rows = rows.shape[0]
    done = n_rows
    for k in range(n_rows):
        if steps == _SYNC_ROWS:
            _publish(state, steps, shrinks, int_delta, c_delta)
            t, scale, intercept, avg_c = state[T], state[SCALE], state[INTERCEPT], state[AVG_C]
            steps, shrinks, int_delta, c_delta = 0, 1.0, 0.0, 0.0
        if k > 0 and scale < min_scale:
            done = k
            break
        if k + _PREFETCH_ROWS < n_rows:
            _prefetch_row(indptr, indices, data, rows[k + _PREFETCH_ROWS])
        i = rows[k]
        p = _row_dot(indptr, indices, data, i, v) * scale + intercept
        eta = learning_rate(schedule, t, eta0, alpha, power_t, optimal_t0)
        if track_loss:
            sumloss += sample_weight[i] * loss_value(loss, p, y[i])
        step = -eta * sample_weight[i] * loss_derivative(loss, p, y[i])
        if alpha > 0.0:
            shrink = 1.0 - eta * alpha
            scale *= shrink
            shrinks *= shrink
        averaging_now = averaging and t >= average_start
        if step != 0.0:
            if averaging_now:
                local[1, 0] = step
                _lazy_average_add(indptr, indices, data, i, v, u, last, local[1], 1.0 / scale,
                                  avg_c)
            else:
                _row_add(indptr, indices, data, i, v, u, step / scale, 0.0, False)
            intercept += intercept_decay * step
            int_delta += intercept_decay * step
        if averaging_now:
            avg_c += scale
            c_delta += scale
            int_sum += intercept
            avg_steps += 1.0
        t += 1.0
        steps += 1
    _publish(state, steps, shrinks, int_delta, c_delta)
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

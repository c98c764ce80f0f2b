"""Per-row steps shared by the SGD kernels: the state layout and the scalar bookkeeping of
one step, for the binary (:mod:`._sgd_kernels`) and the softmax (:mod:`._softmax_kernels`)
epochs, each in a serial and a Hogwild variant; and the intrinsics (``prefetch``,
``atomic_add``) that the dual coordinate descent kernels use too.

A kernel's loop is a row step (its loss's gradient) between the helpers here, which take
and return the scalars they update (``inline="always"``: the loop compiles as if written
out). The variants differ only in which helpers a step calls: a serial epoch wipes the
weights out when a shrink is <= 0 (``serial_shrink``, ``wipe``) and folds the scale into
them when it gets small (``serial_close``, ``fold``); a Hogwild segment keeps local copies
of the shared scalars, publishes its changes every ``SYNC_ROWS`` rows (``publish``) and
stops before the scale gets small (``hogwild_shrink``, ``hogwild_close``).

The helpers that every row runs take and return scalars; those that take the weight arrays
(``wipe``, ``fold``) run only in their rare branch. An inlined helper holds a reference to
each array it is given, and when its body may call a function that can fail (a fold),
Numba's reference pruning keeps the increment and decrement: atomic operations on every
row.

Weights are kept as ``w = scale * v`` so that the L2 shrink of a step is one
multiplication (Bottou's trick). Averaged SGD keeps the running sum of the weights as
``u + c * v``: a step that adds ``delta`` to ``v`` subtracts ``c * delta`` from ``u`` and
adds the new scale to ``c``; Hogwild segments keep it lazily (``lazy_average_add``).
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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
# Slots of a thread's ``out`` array after a Hogwild segment.
DONE, AVG_STEPS, LOSS_SUM = range(3)
SEGMENT_SIZE = 3

# Below this the scale is folded into ``v`` before it underflows. The average
# ``(u + c v) / n`` cancels digits in proportion to (mean scale / scale), so
# averaging folds sooner to keep it exact to about 1e-12.
MIN_SCALE = 1e-9
MIN_SCALE_AVERAGING = 1e-4
# Rows ahead whose nonzeros are prefetched: visiting rows in shuffled order
# is bound by the latency of fetching each row (bench/bench_epoch.py).
PREFETCH_ROWS = 4
# Rows a Hogwild thread runs on local copies of the shared scalars before publishing.
SYNC_ROWS = 32
# Array elements per 64-byte cache line, for the narrowest (4-byte) dtypes.
_LINE = 16


@intrinsic
def prefetch(typingctx, array, index):
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


@intrinsic
def atomic_add(typingctx, array, index, value):
    """``array[index] += value`` as one atomic read-modify-write (``atomicrmw fadd``): no
    other thread's update of the element is lost, at the price of a locked instruction."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        ary = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, ary, [args[1]], wraparound=False, boundscheck=False
        )
        builder.atomic_rmw("fadd", ptr, args[2], "monotonic")
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@njit(cache=True, inline="always")
def prefetch_row(indptr, indices, data, row):
    """Prefetch the nonzeros (indices and values) of CSR row ``row``."""
    for j in range(indptr[row], indptr[row + 1], _LINE):
        prefetch(indices, j)
        prefetch(data, j)


@njit(cache=True, inline="always")
def min_scale(average_start):
    """The scale below which a serial epoch folds (and a Hogwild segment stops)."""
    return MIN_SCALE_AVERAGING if average_start >= 0 else MIN_SCALE


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


@njit(cache=True, inline="always")
def fold(v, u, state, scale, avg_c):
    """:func:`fold_scale` from the local ``scale`` and ``avg_c``; return their new values."""
    state[SCALE] = scale
    state[AVG_C] = avg_c
    fold_scale(v, u, state)
    return 1.0, 0.0


@njit(cache=True, inline="always")
def serial_shrink(scale, eta, alpha):
    """Apply a serial step's L2 shrink ``1 - eta alpha`` to ``scale``; return
    ``(scale, wiped)``. A shrink <= 0 wipes the weights out: ``scale`` is returned as it
    is, ``wiped`` is true and the caller calls :func:`wipe`."""
    if alpha > 0.0:
        shrink = 1.0 - eta * alpha
        if shrink <= 0.0:
            return scale, True
        return scale * shrink, False
    return scale, False


@njit(cache=True, inline="always")
def wipe(v, u, state, scale, avg_c):
    """Fold the scale (``state`` is the row of the shared scalars), then zero ``v``; return
    the new ``avg_c``."""
    fold(v, u, state, scale, avg_c)
    v[:] = 0.0
    return 0.0


@njit(cache=True, inline="always")
def serial_close(scale, avg_c, avg_n, t, averaging_now):
    """End a serial step: count it in the average; return ``(avg_c, avg_n, t)``. The
    caller then folds a scale below :func:`min_scale` (:func:`fold`)."""
    if averaging_now:
        avg_c += scale
        avg_n += 1.0
    return avg_c, avg_n, t + 1.0


@njit(cache=True, inline="always")
def hogwild_shrink(scale, shrinks, eta, alpha):
    """Apply a Hogwild step's L2 shrink (never <= 0: the caller runs those serially) to the
    local scale and to the product of shrinks since the last publish."""
    if alpha > 0.0:
        shrink = 1.0 - eta * alpha
        return scale * shrink, shrinks * shrink
    return scale, shrinks


@njit(cache=True, inline="always")
def hogwild_close(scale, avg_c, c_delta, avg_steps, t, steps, averaging_now):
    """End a Hogwild step: count it in the average; return
    ``(avg_c, c_delta, avg_steps, t, steps)``."""
    if averaging_now:
        avg_c += scale
        c_delta += scale
        avg_steps += 1.0
    return avg_c, c_delta, avg_steps, t + 1.0, steps + 1


@njit(cache=True, inline="always")
def publish(state, steps, shrinks, int_delta, c_delta):
    """Add a thread's changes since its last publish to the shared scalars of ``state``
    (each a short read-modify-write)."""
    state[T] += steps
    state[SCALE] *= shrinks
    state[INTERCEPT] += int_delta
    state[AVG_C] += c_delta


@njit(cache=True, inline="always")
def lazy_average_add(indptr, indices, data, i, v, u, last, z, inv_scale, avg_c):
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

"""One SGD problem on several threads: Hogwild segments, or deterministic parameter mixing.

A problem is a weight vector of a binary (or one-vs-rest) model, or the softmax model,
given by its :class:`._state.ModelState` and number ``k``: ``views(k)`` gives
``(v, u, state)`` with ``v`` and ``u`` 1-D and ``state`` 2-D (one row, or one per softmax
class, the shared scalars in every row), ``run`` its serial epoch and ``run_segment`` its
Hogwild segment kernel. Each runner here is called once per epoch with the rows in visiting
order and an :class:`._state.EpochParams`, and returns the loss sum, as the serial kernel
does.
"""

import numpy as np

from . import _sgd_kernels as K
from ._state import mix, restart_averaging

# Rows a thread runs between two Hogwild barriers: about 8 ms at 5 ns/nnz and 100 nnz a
# row, where a barrier (thread hand-over and merge) costs tens of microseconds.
SEGMENT_ROWS = 1 << 14
# Hogwild gives each thread at least this many rows of an epoch (fewer threads, down to
# one, on smaller sets): below it a thread's work is not worth its hand-over.
MIN_THREAD_ROWS = 1 << 10
# Deterministic mode: at most this many blocks, each of at least this many rows.
MAX_BLOCKS = 8
MIN_BLOCK_ROWS = 1 << 11


# Each thread's scratch starts on its own block of this many bytes: a thread writes its
# scratch every step, and two threads writing one cache line (64 bytes; the adjacent-line
# prefetcher pairs them) would pass it back and forth between the cores at every step.
CACHE_PAD = 128


def per_thread(n_threads, shape):
    """Zeroed float64 scratch of shape ``(n_threads, *shape)``, each thread's slab on
    ``CACHE_PAD``-aligned bytes of its own (a view of a padded buffer)."""
    size = int(np.prod(shape, dtype=np.int64))
    stride = -(-size * 8 // CACHE_PAD) * CACHE_PAD // 8  # floats per slab, padded
    buffer = np.zeros(n_threads * stride + CACHE_PAD // 8)
    start = (-buffer.ctypes.data % CACHE_PAD) // 8
    slabs = buffer[start:start + n_threads * stride].reshape(n_threads, stride)
    return slabs[:, :size].reshape(n_threads, *shape)


def even_cuts(n, parts):
    """The ``parts + 1`` bounds of ``parts`` slices of ``range(n)`` as even as integers allow."""
    return [n * j // parts for j in range(parts + 1)]


def n_blocks(n_rows):
    """Number of blocks of the deterministic mode for an epoch over ``n_rows`` rows.

    It depends on ``n_rows`` only, never on the number of threads, so the model does not.
    """
    return int(min(MAX_BLOCKS, max(1, n_rows // MIN_BLOCK_ROWS)))


def make_runner(mode, sgd, k, n_threads, pool):
    """The epoch runner of problem ``k`` of ``sgd`` for ``mode`` ('hogwild' or
    'deterministic') on ``n_threads`` threads of ``pool`` (None for one thread)."""
    cls = Hogwild if mode == "hogwild" else Mixing
    return cls(sgd, k, n_threads, pool)


def _map(pool, fn, args):
    """``[fn(*a) for a in args]``, on the threads of ``pool`` if there is one."""
    if pool is None or len(args) == 1:
        return [fn(*a) for a in args]
    return [f.result() for f in [pool.submit(fn, *a) for a in args]]


def _fold(v, u, state):
    """Fold the shared scale into ``v`` (and the average's ``c v`` into ``u``)."""
    K.fold_scale(v, u, state[0])
    state[:, K.SCALE] = 1.0
    state[:, K.AVG_C] = 0.0


class Hogwild:
    """Lock-free epochs: each thread steps through its slice of the rows, sharing the
    weights and the scalars (L2 scale, intercepts, step count, averaging's scale sum)
    without locks.

    The epoch's rows (already shuffled) are cut into one contiguous slice per thread; the
    threads run segments of up to ``SEGMENT_ROWS`` of their rows
    (:func:`._sgd_kernels.sgd_segment`), then meet at a barrier that adds up their
    thread-local sums (averaged intercepts, averaged steps, loss), sets the step count to
    the steps taken and folds the scale if it got small. Each thread gets at least
    ``MIN_THREAD_ROWS`` rows. One thread (so any epoch of fewer than
    ``2 * MIN_THREAD_ROWS`` rows), or an epoch in which a step's L2 shrink
    ``1 - eta alpha`` is <= 0, runs the serial epoch: on one thread the model is the
    serial one, bit for bit.
    """

    def __init__(self, sgd, k, n_threads, pool):
        self.sgd, self.pool = sgd, pool
        self.v, self.u, self.state = sgd.views(k)
        self.n_threads = n_threads
        self.out = per_thread(n_threads, (K.SEGMENT_SIZE,))
        self.local = per_thread(n_threads, (4, self.state.shape[0]))
        # Lazy averaging's per-feature scale sums (_sgd_kernels._lazy_average_add).
        self.last = np.zeros(self.u.shape[0] // self.state.shape[0])

    def __call__(self, csr, target, weight, order, params):
        n = order.shape[0]
        threads = max(1, min(self.n_threads, n // MIN_THREAD_ROWS))
        if threads == 1 or self._wipes(n, params):
            return self.sgd.run(csr, target, weight, order, self.v, self.u, self.state, params)
        cuts = even_cuts(n, threads)
        pos, ends = cuts[:-1], cuts[1:]
        sumloss = 0.0
        while True:
            live = [j for j in range(threads) if pos[j] < ends[j]]
            if not live:
                K.settle_average(self.v, self.u, self.last)
                return sumloss
            rows = [order[pos[j]:min(pos[j] + SEGMENT_ROWS, ends[j])] for j in live]
            t = self.state[0, K.T]
            _map(self.pool, self.sgd.run_segment, [
                (csr, target, weight, r, self.v, self.u, self.last, self.state, self.local[m],
                 self.out[m], params) for m, r in enumerate(rows)
            ])
            done = self.out[:len(live), K.DONE].astype(np.intp)
            sumloss += self._merge(len(live), t, params,
                                   any(d < r.shape[0] for d, r in zip(done, rows)))
            for m, j in enumerate(live):
                pos[j] += done[m]

    def _wipes(self, n, params):
        """Whether a step of the epoch has a shrink ``1 - eta alpha`` <= 0 (the steps are
        monotone in t, so the first and last tell)."""
        p, t = params, self.state[0, K.T]
        return p.alpha * max(
            K.learning_rate(p.schedule, step, p.eta0, p.alpha, p.power_t, p.optimal_t0)
            for step in (t, t + n - 1)) >= 1.0

    def _merge(self, threads, t, params, stopped):
        """Add up the thread-local sums of a segment of ``threads`` threads that started at
        step ``t``; fold the scale if a thread stopped for it; return the loss sum."""
        state, out, local = self.state, self.out[:threads], self.local[:threads]
        # A racing write may have lost a count: the step count is the steps taken.
        state[:, K.T] = t + out[:, K.DONE].sum()
        state[:, K.SCALE] = state[0, K.SCALE]
        state[:, K.AVG_C] = state[0, K.AVG_C]
        state[:, K.AVG_INTERCEPT] += local[:, 0].sum(axis=0)
        state[:, K.AVG_N] += out[:, K.AVG_STEPS].sum()
        if stopped or state[0, K.SCALE] < params.min_scale():
            K.settle_average(self.v, self.u, self.last)
            _fold(self.v, self.u, state)
        return float(out[:, K.LOSS_SUM].sum())


class Mixing:
    """Deterministic epochs by iterative parameter mixing.

    The epoch's rows (already shuffled) are cut into ``n_blocks(n)`` contiguous blocks;
    each block runs the serial SGD epoch from the same weights on a thread's private copy,
    and :func:`mix` averages the blocks' weights and intercepts in block order. Neither the
    blocks nor the order of the sums depend on the number of threads, so neither does the
    model. Each block continues the step count ``t``, which then advances by the largest
    block's length; averaging (``average``) sums the weights after every step of every
    block. Copies are allocated once, one per thread.
    """

    def __init__(self, sgd, k, n_threads, pool):
        self.sgd, self.pool = sgd, pool
        self.v, self.u, self.state = sgd.views(k)
        n_threads = min(n_threads, MAX_BLOCKS)
        self.v_blocks = np.empty((n_threads, *self.v.shape), dtype=self.v.dtype)
        self.u_blocks = np.empty((n_threads, *self.u.shape))
        self.state_blocks = per_thread(n_threads, self.state.shape)
        self.acc = np.empty(self.v.shape)

    def __call__(self, csr, target, weight, order, params):
        _fold(self.v, self.u, self.state)
        return mix(self.v, self.u, self.state, self._blocks(csr, target, weight, order, params),
                   self.acc)

    def _blocks(self, csr, target, weight, order, params):
        """Yield ``(v_b, u_b, state_b, loss_b)`` of each block in block order (the buffers
        are reused by the next wave of blocks: consume each before asking for the next)."""
        blocks = np.array_split(order, n_blocks(order.shape[0]))
        n_threads = self.v_blocks.shape[0]
        for first in range(0, len(blocks), n_threads):
            wave = blocks[first:first + n_threads]
            losses = _map(self.pool, self._run_block, [
                (csr, target, weight, rows, m, params) for m, rows in enumerate(wave)
            ])
            for m, loss in enumerate(losses):
                yield self.v_blocks[m], self.u_blocks[m], self.state_blocks[m], loss

    def _run_block(self, csr, target, weight, rows, m, params):
        v, u, state = self.v_blocks[m], self.u_blocks[m], self.state_blocks[m]
        np.copyto(v, self.v)
        state[:] = self.state
        restart_averaging(u, state)
        return self.sgd.run(csr, target, weight, rows, v, u, state, params)

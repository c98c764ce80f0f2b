"""One dual coordinate descent problem (:mod:`._cd`) on the calling thread or on several.

:class:`Serial` runs the kernels of :mod:`._cd_kernels` as they are. :class:`RowThreads`
runs them over contiguous slices of the rows, one per thread of a pool, on a copy of X:

- a pass shuffles the active rows, cuts them into slices and runs :func:`cd_pass` (or
  :func:`logistic_pass`) on each slice at the same time, the threads sharing ``w`` without
  locks (asynchronous dual coordinate descent, PASSCoDe: Hsieh, Yu and Dhillon, ICML 2015).
  A dual variable belongs to one slice, so ``alpha`` stays exact;
- the columns that nearly every row holds (the bias, stop words) would be written by both
  threads at nearly every step, their cache lines passed back and forth between the cores:
  the copy of X renumbers the most frequent columns to ``0..n_hot-1`` and puts them first
  in each row, and each thread gathers its changes to them privately, adding them to ``w``
  every ``PUBLISH_ROWS`` updated rows (the threads see each other's changes there a little
  late);
- every change reaches ``w`` by an atomic addition (PASSCoDe-Atomic), the other columns'
  at once: no update is lost, so ``w`` stays ``w(alpha) = sum_i alpha_i y_i x_i`` (up to
  rounding, as on one thread) and the duality gap is certified as on one thread;
- the sweep that measures the gap and screens the rows, and the products of the Newton
  step on the free rows, run over row slices too, each thread summing its rows; the sums
  and extremes are combined in slice order.

The optimum is unique in ``w``, so any number of threads ends within the same relative gap
of it; the path there, the dual point and the last bits of ``w`` depend on the threads'
timing.
"""

from itertools import pairwise

import numpy as np

from ._cd_kernels import (
    DENSE_SHARE,
    add_rows,
    cd_pass,
    cd_passes,
    clear_rows,
    dot,
    dual_objectives,
    fold_parts,
    gap_and_screen,
    rebuild_weights,
    row_margins,
    screen_rows,
    shuffle,
    split_hot,
    summed_margins,
    sweep_rows,
    thresholds,
)
from ._cd_logistic_kernels import logistic_pass, logistic_primal_gap, logistic_sums
from ._threads import MIN_THREAD_ROWS, _map, even_cuts, per_thread

# The columns a thread's passes keep apart (changes gathered per thread, published every
# PUBLISH_ROWS updated rows): the HOT_COLUMNS most frequent in a sample of HOT_SAMPLE_ROWS
# rows.
HOT_COLUMNS, HOT_SAMPLE_ROWS, PUBLISH_ROWS = 4096, 4096, 1024
# The least nonzeros a thread's slice of X holds for the problem to run on threads.
MIN_THREAD_NONZEROS = 1 << 22


def on_threads(n_rows, nnz, count):
    """Whether one problem of ``n_rows`` rows and ``nnz`` nonzeros runs on ``count``
    threads: a thread's slice of all the rows holds at least ``MIN_THREAD_ROWS`` rows and
    ``MIN_THREAD_NONZEROS`` nonzeros (below, the copy of X and the threads' hand-overs
    cost about what they gain: bench/results/cd_threads.md)."""
    return count > 1 and n_rows >= count * MIN_THREAD_ROWS and nnz >= count * MIN_THREAD_NONZEROS


class _Rows:
    """What :class:`Serial` and :class:`RowThreads` share: the Newton step on the free rows,
    its products over ``count`` slices of them (one thread each, or the calling thread)."""

    pool, count = None, 1

    def rebuild(self, csr, y, alpha, w, bias):
        """:func:`._cd_kernels.rebuild_weights` (on the calling thread)."""
        rebuild_weights(*csr, y, alpha, w, bias)

    def _cuts(self, n):
        """``count + 1`` slice bounds over ``n`` items, or None when a slice would hold
        fewer than ``MIN_THREAD_ROWS``."""
        if n < self.count * MIN_THREAD_ROWS:
            return None
        return even_cuts(n, self.count)

    def _parts(self, n):
        """``count`` slices of ``n`` rows, or one when a slice would hold fewer than
        ``MIN_THREAD_ROWS``."""
        return list(pairwise(self._cuts(n) or [0, n]))

    def _product(self, csr, y, diag, bias, rows, v, scratch, out):
        """``out = (Q_FF + diag_F) v`` for the rows ``F = rows``, ``Q_jk = y_j y_k
        x_j.x_k``: each slice's rows add ``v_k y_i x_i`` into a row of ``scratch`` (zeros
        on entry and on return), then each slice's ``y_i x_i`` meets their sum. When the
        rows touch ``scratch`` densely (``DENSE_SHARE``), the threads first fold its rows
        into the first, column slice by column slice: one scattered read an entry then
        instead of one an entry and thread."""
        parts = self._parts(rows.shape[0])
        _map(self.pool, add_rows, [(*csr, y, bias, rows[lo:hi], v[lo:hi], scratch[m])
                                   for m, (lo, hi) in enumerate(parts)])
        summed, width = scratch[:len(parts)], scratch.shape[1]
        # The row of scratch that holds each slice's columns.
        holders = list(summed)
        if len(parts) > 1 and np.sum(csr[0][rows + 1] - csr[0][rows]) > width // DENSE_SHARE:
            _map(self.pool, fold_parts, [(summed, lo, hi) for lo, hi in self._parts(width)])
            summed, holders = scratch[:1], [scratch[0]] * len(parts)
        _map(self.pool, summed_margins, [(*csr, y, bias, rows[lo:hi], summed, out[lo:hi])
                                         for lo, hi in parts])
        _map(self.pool, clear_rows, [(csr[0], csr[1], rows[lo:hi], holders[m])
                                     for m, (lo, hi) in enumerate(parts)])
        out += diag[rows] * v

    def face_newton(self, csr, y, upper, diag, bias, alpha, w, rows, iterations, scratch):
        """A Newton step on the dual restricted to the rows ``rows`` (the others held), by
        ``iterations`` of conjugate gradients on ``(Q_FF + diag_F) step = -gradient_F``
        (the gradient ``y_i w.x_i - 1 + diag_i alpha_i``), then projected on the bounds and
        halved (at most 8 times) until it raises the dual.

        ``alpha`` and ``w`` move in place; ``scratch`` (``count`` rows of ``w``'s length)
        is zeros on entry and on return. Returns whether the step was taken. Passes crawl
        along the nearly flat directions of near-duplicate rows; conjugate gradients cross
        them in a few products. Every product visits the rows' nonzeros only, never all of
        ``w``.
        """
        m = rows.shape[0]
        margin, product = np.empty(m), np.empty(m)
        _map(self.pool, row_margins, [(*csr, y, bias, rows[lo:hi], w, margin[lo:hi])
                                      for lo, hi in self._parts(m)])
        a, top, d = alpha[rows], upper[rows], diag[rows]
        residual = 1.0 - margin - d * a
        direction, step = residual.copy(), np.zeros(m)
        norm = start = dot(residual, residual)
        for _ in range(iterations):
            self._product(csr, y, diag, bias, rows, direction, scratch, product)
            curvature = dot(direction, product)
            if not curvature > 0.0 or norm <= 1e-24 * start:
                break
            length = norm / curvature
            step += length * direction
            residual -= length * product
            norm, previous = dot(residual, residual), norm
            direction = residual + (norm / previous) * direction
        for _ in range(8):
            change = np.minimum(np.maximum(a + step, 0.0), top) - a
            # The dual's change: sum(change) - 1/2 change' diag change - w.u - 1/2 ||u||^2
            # with u = sum_k change_k y_i x_i, where w.u = change.margin and ||u||^2 =
            # change' Q_FF change.
            self._product(csr, y, diag, bias, rows, change, scratch, product)
            gain = (change.sum() - dot(d * (a + 0.5 * change), change) - dot(change, margin)
                    - 0.5 * (dot(change, product) - dot(d * change, change)))
            if gain > 0.0:
                alpha[rows] = a + change
                add_rows(*csr, y, bias, rows, change, w)
                return True
            step *= 0.5
        return False


class Serial(_Rows):
    """The kernels of one problem, on the calling thread."""

    def logistic_pass(self, csr, y, cost, qd, alpha, rest, w, bias, index, tol):
        """:func:`._cd_logistic_kernels.logistic_pass` over ``index`` (no hot columns)."""
        return logistic_pass(*csr, csr[0][:-1], y, cost, qd, alpha, rest, w, bias, index, tol,
                             np.zeros(1), -1, False)

    def logistic_gap(self, csr, y, cost, alpha, rest, w, bias, index):
        """:func:`._cd_logistic_kernels.logistic_primal_gap`."""
        return logistic_primal_gap(*csr, y, cost, alpha, rest, w, bias, index)

    def passes(self, csr, y, upper, diag, qd, alpha, w, bias, index, active, bounds, spread,
               shrink, budget, max_passes, state):
        """:func:`._cd_kernels.cd_passes`."""
        return cd_passes(*csr, y, upper, diag, qd, alpha, w, bias, index, active, bounds,
                         spread, shrink, budget, max_passes, state)

    def weights_of(self, w):
        """``w`` itself: the rows are X's."""
        return w

    def sweep(self, csr, y, cost, upper, diag, alpha, w, bias, squared, index, gradient,
              bounds, shrink):
        """:func:`._cd_kernels.gap_and_screen`."""
        return gap_and_screen(*csr, y, cost, upper, diag, alpha, w, bias, squared, index,
                              gradient, bounds, shrink)


class RowThreads(_Rows):
    """The kernels of one problem over row slices on the ``count`` threads of ``pool``,
    with the contracts of :class:`Serial`'s, on a copy of X (``csr``, ``split``) whose hot
    columns come first (:meth:`weights_of` maps its ``n_weights`` weights back to X's
    columns).

    The hot columns are the ``HOT_COLUMNS`` most frequent among ``HOT_SAMPLE_ROWS`` rows
    evenly spaced over X (all rows if fewer): those that nearly every row holds (stop words,
    the bias) would otherwise be written by both threads at every step.
    """

    def __init__(self, pool, count, csr, n_features, bias):
        self.pool, self.count = pool, count
        indptr, indices, data = csr
        n = indptr.shape[0] - 1
        rows = np.unique(np.linspace(0, n - 1, min(n, HOT_SAMPLE_ROWS)).astype(np.intp))
        starts = indptr[rows].astype(np.intp)
        lengths = indptr[rows + 1].astype(np.intp) - starts
        # The positions of the sample's entries, row after row.
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        counts = np.bincount(indices[np.arange(int(lengths.sum())) + offsets],
                             minlength=n_features)
        seen = np.flatnonzero(counts)
        self.hot = seen[np.argsort(-counts[seen], kind="stable")[:HOT_COLUMNS]]
        n_hot = self.hot.shape[0]
        # The copy's column of each of X's: the hot ones 0..n_hot-1, the others after them
        # (unsigned, as X's: a signed index costs the kernels a wraparound check).
        dtype = np.uint32 if n_hot + n_features <= np.iinfo(np.uint32).max else np.uint64
        code = np.arange(n_hot, n_hot + n_features, dtype=dtype)
        code[self.hot] = np.arange(n_hot, dtype=dtype)
        out_indices, out_data = np.empty(indices.shape[0], dtype=dtype), np.empty_like(data)
        self.split = np.empty(n, dtype=indptr.dtype)
        # ``||x_i||^2 + bias^2`` per row, as :func:`._cd_kernels.squared_row_norms` gives.
        self.norms = np.empty(n)
        slices = self._row_slices(indptr) or [(0, n)]
        _map(pool, split_hot, [(indptr, indices, data, code, n_hot, bias, lo, hi, out_indices,
                                out_data, self.split, self.norms) for lo, hi in slices])
        self.csr = (indptr, out_indices, out_data)
        self.n_features, self.n_weights = n_features, n_hot + n_features + 1
        # Each thread's unpublished changes of the hot columns and the bias.
        self.own = per_thread(count, (n_hot + 1,))
        self.free = list(self.own)

    def weights_of(self, w):
        """X's ``n_features + 1`` weights (the bias last) of the copy's weights ``w``."""
        n_hot = self.hot.shape[0]
        out = np.empty(self.n_features + 1)
        out[:-1] = w[n_hot:n_hot + self.n_features]
        out[self.hot] = w[:n_hot]
        out[-1] = w[-1]
        return out

    def passes(self, csr, y, upper, diag, qd, alpha, w, bias, index, active, bounds, spread,
               shrink, budget, max_passes, state):
        """:meth:`Serial.passes` on the copy ``csr``, each pass over ``index[:active]``
        (freshly shuffled) cut into one slice per thread, each thread publishing its hot
        changes every ``PUBLISH_ROWS`` updated rows; the rows a slice shrinks go past the
        new active end."""
        work = 0
        for done in range(1, max_passes + 1):
            shuffle(index, active, state)
            cuts = self._cuts(active)
            if cuts is None:
                active, pg_max, pg_min, visited = cd_pass(
                    *csr, self.split, y, upper, diag, qd, alpha, w, bias, index, active,
                    bounds[0], bounds[1], self.own[0], -1, False
                )
            else:
                slices = list(pairwise(cuts))
                results = _map(self.pool, self._shared_slice, [
                    (cd_pass, *csr, self.split, y, upper, diag, qd, alpha, w, bias,
                     index[lo:hi], hi - lo, bounds[0], bounds[1]) for lo, hi in slices
                ])
                kept = [index[lo:lo + r[0]] for (lo, _), r in zip(slices, results)]
                shrunk = [index[lo + r[0]:hi] for (lo, hi), r in zip(slices, results)]
                index[:active] = np.concatenate(kept + shrunk)
                active = sum(r[0] for r in results)
                pg_max = max(r[1] for r in results)
                pg_min = min(r[2] for r in results)
                visited = sum(r[3] for r in results)
            work += visited
            bounds[0], bounds[1] = thresholds(pg_max, pg_min, shrink)
            if pg_max - pg_min <= spread or work >= budget:
                return active, done, work, pg_max - pg_min <= spread
        return active, max_passes, work, False

    def _shared_slice(self, kernel, *args):
        """``kernel`` (:func:`cd_pass` or :func:`logistic_pass`) over one slice on the
        shared ``w``, with a free ``own`` buffer (all zeros between calls: a pass publishes
        all its changes before it returns)."""
        own = self.free.pop()
        try:
            return kernel(*args, own, PUBLISH_ROWS, True)
        finally:
            self.free.append(own)

    def logistic_pass(self, csr, y, cost, qd, alpha, rest, w, bias, index, tol):
        """:meth:`Serial.logistic_pass` on the copy ``csr``, ``index`` cut into one slice
        per thread as :meth:`passes` does."""
        cuts = self._cuts(index.shape[0])
        if cuts is None:
            return logistic_pass(*csr, self.split, y, cost, qd, alpha, rest, w, bias, index,
                                 tol, self.own[0], -1, False)
        results = _map(self.pool, self._shared_slice, [
            (logistic_pass, *csr, self.split, y, cost, qd, alpha, rest, w, bias,
             index[lo:hi], tol) for lo, hi in pairwise(cuts)
        ])
        return (sum(r[0] for r in results), max(r[1] for r in results),
                sum(r[2] for r in results))

    def logistic_gap(self, csr, y, cost, alpha, rest, w, bias, index):
        """:meth:`Serial.logistic_gap`, each thread summing a slice of ``index``."""
        cuts = self._cuts(index.shape[0])
        if cuts is None:
            return logistic_primal_gap(*csr, y, cost, alpha, rest, w, bias, index)
        parts = _map(self.pool, logistic_sums, [
            (*csr, y, cost, alpha, rest, w, bias, index[lo:hi]) for lo, hi in pairwise(cuts)
        ])
        return 0.5 * dot(w, w) + sum(p[0] for p in parts), sum(p[1] for p in parts)

    def _row_slices(self, indptr):
        """Slices of all the rows with about as many nonzeros each, or None (too few rows)."""
        n = indptr.shape[0] - 1
        if self._cuts(n) is None:
            return None
        nnz = int(indptr[-1])
        cuts = np.searchsorted(indptr, even_cuts(nnz, self.count)[:-1])
        return list(pairwise([*np.minimum(cuts, n).tolist(), n]))

    def sweep(self, csr, y, cost, upper, diag, alpha, w, bias, squared, index, gradient,
              bounds, shrink):
        """:meth:`Serial.sweep`, each thread sweeping a slice of the rows."""
        slices = self._row_slices(csr[0])
        if slices is None:
            return gap_and_screen(*csr, y, cost, upper, diag, alpha, w, bias, squared, index,
                                  gradient, bounds, shrink)
        parts = _map(self.pool, sweep_rows, [
            (*csr, y, cost, upper, diag, alpha, w, bias, squared, gradient, lo, hi)
            for lo, hi in slices
        ])
        loss = sum(part[0] for part in parts)
        quadratic = sum(part[1] for part in parts)
        pg_max = max(part[2] for part in parts)
        pg_min = min(part[3] for part in parts)
        active = screen_rows(upper, alpha, gradient, index, bounds, pg_max, pg_min, shrink)
        return dual_objectives(loss, quadratic, alpha, w) + (active, pg_max - pg_min)

"""One CSR from chunks of consecutive documents counted on threads, each chunk in its place.

Threads take chunks in order, by ticket, and count each into scratch arrays of their own. A
chunk's place in the output is known as soon as the sizes of all earlier chunks are: the
thread that learns it copies the chunk there, outside the lock, while the others count. The
matrix is written once: no per-thread blocks to concatenate, so no second copy in memory.
"""

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["OrderedRows"]

# Room of the output at the first chunk's density, times this: pages never written cost
# address space, not memory. Chunks beyond the room are placed once all are counted.
_ROOM_FACTOR = 1.5


class OrderedRows:
    """The CSR of the documents cut at ``cuts`` (chunk ``k``: documents
    ``cuts[k]:cuts[k + 1]``), filled by :meth:`fill`."""

    def __init__(self, cuts):
        self.cuts = cuts
        n_chunks = len(cuts) - 1
        self.indptr = np.zeros(cuts[-1] + 1, dtype=np.int64)
        self._sizes = [0] * n_chunks
        self._offsets = [0] * (n_chunks + 1)
        self._resolved = 0  # chunks before this one have their offset
        self._waiting = {}  # counted chunk -> (indices, data), offset not yet known
        self._late = {}  # chunk -> (indices, data), beyond the room: placed at the end
        self._spare = []  # scratch arrays of placed chunks, for the next chunks to reuse
        self._lock = threading.Lock()
        self._indices = self._data = None

    def fill(self, count_chunk, n_threads):
        """Count every chunk on ``n_threads`` threads; return ``(indptr, indices, data)``.

        ``count_chunk(k, indptr, indices, data)`` counts chunk ``k`` into the scratch
        arrays ``indices`` and ``data`` from entry 0 and writes its rows' ends, relative
        to the chunk, to ``indptr[1:]`` (a view of the output's); it returns
        ``(indices, data, nnz)``, the arrays enlarged if they were too small. The first
        error raised is that of the earliest chunk that fails, as counting in one pass
        would raise it.
        """
        n_chunks = len(self.cuts) - 1
        tickets = itertools.count()
        failed = []  # (chunk, exception)

        def work():
            indices, data = np.empty(0, dtype=np.int32), np.empty(0)
            for k in tickets:
                if k >= n_chunks or (failed and k > min(j for j, _ in failed)):
                    return
                lo, hi = self.cuts[k], self.cuts[k + 1]
                try:
                    indices, data, nnz = count_chunk(k, self.indptr[lo: hi + 1], indices, data)
                except Exception as exc:  # noqa: BLE001 - raised below, in chunk order
                    failed.append((k, exc))
                    return
                if not self._put(k, indices, data, nnz):
                    # kept until its place is known: the next chunk counts into other
                    # scratch, one a placed chunk left if there is one (warm in the cache)
                    indices, data = self._take_spare(indices, data)

        with ThreadPoolExecutor(n_threads) as pool:
            for future in [pool.submit(work) for _ in range(n_threads)]:
                future.result()
        if failed:
            raise min(failed, key=lambda item: item[0])[1]
        return self._result()

    def _put(self, k, indices, data, nnz):
        """Hand in chunk ``k``'s ``nnz`` entries; place it and every chunk whose offset it
        settles. Returns whether chunk ``k`` was placed (its scratch free to reuse)."""
        with self._lock:
            self._sizes[k] = nnz
            self._waiting[k] = (indices, data)
            if self._indices is None:
                self._make_room(k)
            ready = []
            while self._resolved in self._waiting:
                j = self._resolved
                self._offsets[j + 1] = self._offsets[j] + self._sizes[j]
                self._resolved += 1
                if self._offsets[j + 1] <= self._indices.shape[0]:
                    ready.append((j, *self._waiting.pop(j)))
                else:
                    self._late[j] = self._waiting.pop(j)
        for j, chunk_indices, chunk_data in ready:  # disjoint places: no lock needed
            self._place(j, chunk_indices, chunk_data, self._indices, self._data)
            if j != k:
                self._spare.append((chunk_indices, chunk_data))
        return any(j == k for j, _, _ in ready)

    def _take_spare(self, indices, data):
        try:
            return self._spare.pop()  # atomic: no lock needed
        except IndexError:
            return np.empty_like(indices), np.empty_like(data)

    def _make_room(self, k):
        n_docs = self.cuts[k + 1] - self.cuts[k]
        per_doc = max(self._sizes[k], 1) / n_docs
        room = int(per_doc * self.cuts[-1] * _ROOM_FACTOR) + 1024
        self._indices = np.empty(room, dtype=self._waiting[k][0].dtype)
        self._data = np.empty(room, dtype=self._waiting[k][1].dtype)

    def _place(self, j, chunk_indices, chunk_data, indices, data):
        lo, hi = self.cuts[j], self.cuts[j + 1]
        start, stop = self._offsets[j], self._offsets[j + 1]
        indices[start:stop] = chunk_indices[: stop - start]
        data[start:stop] = chunk_data[: stop - start]
        self.indptr[lo + 1: hi + 1] += start

    def _result(self):
        total = self._offsets[-1]
        indices, data = self._indices, self._data
        if self._late:
            # the room ran out: one larger copy, then the chunks beyond it
            placed = self._offsets[min(self._late)]
            indices = np.empty(total, dtype=indices.dtype)
            data = np.empty(total, dtype=data.dtype)
            indices[:placed] = self._indices[:placed]
            data[:placed] = self._data[:placed]
            for j, (chunk_indices, chunk_data) in sorted(self._late.items()):
                self._place(j, chunk_indices, chunk_data, indices, data)
        return self.indptr, indices[:total], data[:total]

"""OrderedRows: chunks counted on threads in any order give the CSR of one pass."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin import _ordered_rows
from fasttext_lin._ordered_rows import OrderedRows


def _chunk_rows(k, n_docs):
    """Chunk k's rows: document d of the chunk has (k + d) % 4 entries."""
    lengths = [(k + d) % 4 for d in range(n_docs)]
    values = np.arange(sum(lengths)) + 1000 * k
    return np.cumsum(lengths), values.astype(np.int32), values.astype(np.float64) / 2


def _one_pass(cuts):
    indptr, indices, data = [0], [], []
    for k in range(len(cuts) - 1):
        ends, ind, dat = _chunk_rows(k, cuts[k + 1] - cuts[k])
        indptr.extend((ends + indptr[-1]).tolist())
        indices.append(ind)
        data.append(dat)
    return np.array(indptr), np.concatenate(indices), np.concatenate(data)


def _counter(cuts, delays, fail=()):
    def count_chunk(k, indptr, indices, data):
        time.sleep(delays[k % len(delays)])  # finish the chunks out of order
        if k in fail:
            raise ValueError(f"chunk {k}")
        ends, ind, dat = _chunk_rows(k, cuts[k + 1] - cuts[k])
        indptr[1:] = ends
        n = ind.shape[0]
        if indices.shape[0] < n:
            indices, data = np.empty(2 * n, dtype=np.int32), np.empty(2 * n)
        indices[:n], data[:n] = ind, dat
        indices[n:n + 2], data[n:n + 2] = -1, np.nan  # scratch beyond the chunk: not copied
        return indices, data, n
    return count_chunk


@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=12),
       delays=st.lists(st.sampled_from([0.0, 0.0005, 0.002]), min_size=1, max_size=4),
       n_threads=st.integers(1, 4), room=st.sampled_from([1e-3, 0.5, 1.5]))
@settings(max_examples=60, deadline=None)
def test_any_order_gives_the_one_pass_csr(sizes, delays, n_threads, room):
    cuts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    old, _ordered_rows._ROOM_FACTOR = _ordered_rows._ROOM_FACTOR, room  # small: chunks placed late
    try:
        got = OrderedRows(cuts).fill(_counter(cuts, delays), n_threads)
    finally:
        _ordered_rows._ROOM_FACTOR = old
    for a, b in zip(got, _one_pass(cuts)):
        np.testing.assert_array_equal(a, b)


def test_room_running_out_places_the_late_chunks(monkeypatch):
    monkeypatch.setattr(_ordered_rows, "_ROOM_FACTOR", 1e-6)
    cuts = list(range(0, 5000, 500)) + [5000]  # room: 1024 entries, ~7500 needed
    rows = OrderedRows(cuts)
    got = rows.fill(_counter(cuts, [0.0]), 2)
    assert rows._late  # the path under test was taken
    for a, b in zip(got, _one_pass(cuts)):
        np.testing.assert_array_equal(a, b)


def test_the_earliest_failing_chunk_is_raised():
    cuts = list(range(0, 40, 2)) + [40]
    # chunk 3 fails late (it sleeps longest); chunk 7 fails first
    delays = [0.0, 0.0, 0.0, 0.05, 0.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="chunk 3"):
        OrderedRows(cuts).fill(_counter(cuts, delays, fail={3, 7}), 2)

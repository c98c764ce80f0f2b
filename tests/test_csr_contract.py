"""The one CSR contract of the kernels (fasttext_lin._validation)."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin._validation import INT32_MAX, checked_csr, csr_contract


@st.composite
def csr_arrays(draw):
    n_rows = draw(st.integers(1, 6))
    n_columns = draw(st.integers(1, 8))
    rows = [draw(st.lists(st.integers(0, n_columns - 1), max_size=n_columns, unique=True))
            for _ in range(n_rows)]
    indptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    indices = np.array([c for r in rows for c in r], dtype=np.int64)
    data = np.arange(1, indices.shape[0] + 1, dtype=np.float64)
    return indptr, indices, data, n_columns


@settings(max_examples=100, deadline=None)
@given(csr_arrays())
def test_contract_is_the_same_matrix_sorted_with_int32_indices(arrays):
    indptr, indices, data, n_columns = arrays
    X = csr_contract(indptr, indices, data, n_columns)
    reference = sp.csr_matrix((data, indices, indptr), shape=(indptr.shape[0] - 1, n_columns))
    np.testing.assert_array_equal(X.toarray(), reference.toarray())
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    for row in range(X.shape[0]):
        assert np.all(np.diff(X.indices[X.indptr[row]:X.indptr[row + 1]]) > 0)
    assert X.has_sorted_indices


def test_data_keeps_its_dtype_unless_asked_and_is_not_copied():
    indptr = np.array([0, 2], dtype=np.int32)
    indices = np.array([0, 3], dtype=np.int32)
    data = np.array([1.0, 2.0], dtype=np.float32)
    X = csr_contract(indptr, indices, data, 4, sorted_indices=True)
    assert X.dtype == np.float32 and np.shares_memory(X.data, data)
    assert np.shares_memory(X.indices, indices)
    assert csr_contract(indptr, indices, data, 4, dtype=np.float64).dtype == np.float64


def test_indices_widen_only_past_int32():
    indptr = np.array([0, 1], dtype=np.int64)
    indices = np.array([5], dtype=np.int64)
    data = np.ones(1)
    assert csr_contract(indptr, indices, data, INT32_MAX).indices.dtype == np.int32
    wide = csr_contract(indptr, indices, data, INT32_MAX + 1)
    assert wide.indices.dtype == np.int64 and wide.shape == (1, INT32_MAX + 1)


def test_checked_csr_refuses_an_index_out_of_range():
    X = sp.csr_matrix((np.ones(1), np.array([1], dtype=np.int32), np.array([0, 1])),
                      shape=(1, 3))
    X.indices[0] = 7  # as a hand-built matrix may hold
    with pytest.raises(ValueError, match="indices must be < 3"):
        checked_csr(X)

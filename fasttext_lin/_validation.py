"""Checks shared at the package's boundaries: labels, and the one CSR contract of the kernels.

The kernels take CSR as ``(indptr, indices, data)`` and trust it: sorted indices, int32
``indptr`` and ``indices`` (int64 only when the number of nonzeros or of columns does not fit
in int32), float32 or float64 data. :func:`csr_contract` builds such a matrix, once, where data
enters (a reader, the featurizer); :func:`checked_csr` checks a matrix a user built by hand.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["INT32_MAX", "check_labels", "checked_csr", "csr_contract"]

INT32_MAX = int(np.iinfo(np.int32).max)


def csr_contract(indptr, indices, data, n_columns, *, dtype=None, sorted_indices=False):
    """A CSR matrix in the kernels' contract, without copies where the arrays already fit.

    Parameters
    ----------
    indptr, indices, data : ndarray
        The CSR arrays.
    n_columns : int
    dtype : numpy dtype, optional
        Of the data; default: ``data``'s own.
    sorted_indices : bool, default=False
        True if every row's indices are known to be sorted (then they are not checked);
        otherwise unsorted rows are sorted, in a copy.

    Returns
    -------
    scipy.sparse.csr_matrix
        int32 ``indptr`` and ``indices`` unless the nonzeros or ``n_columns`` exceed
        int32's range (then int64), sorted indices.
    """
    index_dtype = np.int32 if max(indices.shape[0], n_columns) <= INT32_MAX else np.int64
    X = sp.csr_matrix(
        (data if dtype is None else data.astype(dtype, copy=False),
         indices.astype(index_dtype, copy=False), indptr.astype(index_dtype, copy=False)),
        shape=(indptr.shape[0] - 1, n_columns), copy=False,
    )
    if sorted_indices:
        X.has_sorted_indices = True
    elif not X.has_sorted_indices:
        X = X.sorted_indices()  # a sorted copy: the caller's arrays stay as they were
    return X


def checked_csr(X):
    """``X`` as CSR whose indptr and indices are known to be in range.

    The kernels (and scipy's products) trust them: a hand-built CSR with an index out of
    range is refused here, in one vectorised pass.
    """
    if not sp.issparse(X):
        X = sp.csr_matrix(X)
    X.check_format(full_check=True)
    return X


def check_labels(y, name="y"):
    """Refuse labels that numpy would reorder badly or change: str mixed with other types
    (numpy cannot sort them, or turns them all into str), and str holding a NUL character
    (numpy's str arrays drop trailing NULs, so ``classes_`` would not be the labels given).

    Arrays of a non-object dtype are numpy's already and pass as they are.
    """
    if isinstance(y, np.ndarray) and y.dtype != object:
        return
    labels = np.asarray(y, dtype=object)
    if labels.ndim != 1:
        return  # validate_data names the shape
    types = set(map(type, labels))
    texts = {t for t in types if issubclass(t, str)}
    if texts and texts != types:
        text = next(v for v in labels if isinstance(v, str))
        other = next(v for v in labels if not isinstance(v, str))
        raise ValueError(
            f"{name} mixes labels of type str ({text!r}) and {type(other).__name__} "
            f"({other!r}): convert all labels to str, e.g. [str(label) for label in {name}]."
        )
    if texts and "\x00" in "".join(labels):
        label = next(v for v in labels if "\x00" in v)
        raise ValueError(
            f"{name} holds the label {label!r}: labels must not contain NUL characters "
            "(numpy drops trailing ones, so the classes would not be the labels given); "
            "remove them, e.g. label.replace('\\x00', '')."
        )

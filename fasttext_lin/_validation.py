"""Checks shared at the package's boundaries: labels, and the one CSR contract of the kernels.

The kernels take CSR as ``(indptr, indices, data)`` and trust it: sorted indices, int32
``indptr`` and ``indices`` (int64 only when the number of nonzeros or of columns does not fit
in int32), float32 or float64 data. :func:`csr_contract` builds such a matrix, once, where data
enters (a reader, the featurizer); :func:`checked_csr` checks a matrix a user built by hand.
"""

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["INT32_MAX", "check_class_weight", "check_labels", "check_real", "checked_csr",
           "checked_sample_weight", "class_weighted", "csr_contract"]

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


def class_weighted(weight, y, classes, class_weight):
    """The sample weights ``weight`` times the class weights of ``class_weight`` (None,
    'balanced' or a dict); refused when every product is 0."""
    if class_weight is None:
        return weight
    from sklearn.utils.class_weight import compute_class_weight

    per_class = compute_class_weight(class_weight, classes=classes, y=y)
    weight = weight * per_class[np.searchsorted(classes, y)]
    if not weight.any():
        raise ValueError(
            f"class_weight={class_weight!r} gives every sample weight 0: nothing "
            "to learn; give a weight > 0 to a class present in y."
        )
    return weight


def checked_sample_weight(y, sample_weight):
    """``sample_weight`` as float64 weights, one per sample (ones for None), checked."""
    if sample_weight is None:
        return np.ones(y.shape[0])
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.shape != y.shape:
        raise ValueError(
            f"sample_weight has shape {weight.shape}, expected {y.shape} (one per sample)."
        )
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if not weight.any():
        raise ValueError("sample_weight is zero for every sample: nothing to learn.")
    return weight


def check_real(value, name, min_val=None, max_val=None, include_boundaries="both"):
    """Refuse ``value`` unless it is a finite real number within the bounds.

    ``check_scalar``'s checks and messages; nan, inf and bools refused too (a comparison
    with nan is false, so nan passes any bound).
    """
    from sklearn.utils.validation import check_scalar

    check_scalar(value, name, numbers.Real, min_val=min_val, max_val=max_val,
                 include_boundaries=include_boundaries)
    if isinstance(value, (bool, np.bool_)) or not np.isfinite(value):
        closed_low = include_boundaries in ("both", "left")
        closed_high = include_boundaries in ("both", "right")
        bounds = "".join([
            "" if min_val is None else f" {'>=' if closed_low else '>'} {min_val}",
            " and" if min_val is not None and max_val is not None else "",
            "" if max_val is None else f" {'<=' if closed_high else '<'} {max_val}",
        ])
        raise ValueError(f"{name}={value!r} is invalid: give a finite number{bounds}.")


def check_class_weight(class_weight):
    """Refuse a ``class_weight`` other than None, 'balanced' or a dict of finite weights
    >= 0 (a negative weight would turn its class's loss into a gain)."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight={class_weight!r} is invalid: give None, 'balanced' "
                         "or a dict {class: weight}.")
    for label, value in class_weight.items():
        if not (isinstance(value, numbers.Real) and np.isfinite(value) and value >= 0):
            raise ValueError(
                f"class_weight[{label!r}]={value!r} is invalid: class weights must be finite "
                "numbers >= 0, as sample weights are."
            )


def unsigned_csr(X):
    """``(indptr, indices, data)`` of a checked CSR matrix, the index arrays viewed as
    unsigned without a copy: Numba checks a signed index for wraparound (negative
    indexing) at every access, an unsigned one needs no check."""
    return tuple(a.view(np.dtype(f"u{a.dtype.itemsize}")) for a in (X.indptr, X.indices)) + (
        X.data,)

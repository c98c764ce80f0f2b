"""LIBSVM files: a checked loader, and the line at fault when a file is malformed.

``load_libsvm`` and ``load_libsvm_files`` wrap :func:`sklearn.datasets.load_svmlight_files` and
return CSR matrices in the project's data contract (int32 indices, sorted, float32 or float64).
scikit-learn's parse errors carry no line number, so when it fails the file is read again in plain
Python, with the same rules, to name the first bad line.
"""

import contextlib
import errno
import itertools
import numbers
import os

import numpy as np
from sklearn.datasets import load_svmlight_files

from .._validation import INT32_MAX, csr_contract
from ._open import CompressedFileError, open_binary

__all__ = ["check_class_labels", "load_libsvm", "load_libsvm_files", "row_problem"]

# Widest X a file may imply without an explicit n_features: more than any set of the LIBSVM page
# (kdd2012: 54,686,452 features); beyond it the weights of one class take over 512 MiB.
_MAX_INFERRED_WIDTH = 1 << 26


def load_libsvm(path, n_features=None, dtype=np.float64):
    """Load one LIBSVM file as a CSR matrix and a label vector.

    Parameters
    ----------
    path : str or os.PathLike
        File in LIBSVM format: ``label index:value ...`` per line, 1-based increasing indices.
        ``#`` starts a comment; blank lines are skipped; LF and CRLF line endings both work;
        ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.
    n_features : int, optional
        Width of ``X``. Default: the largest index in the file, which may not exceed 2**26
        (67,108,864; wider than any set of the LIBSVM page): a wider file needs ``n_features``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of ``X.data``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_features)
        Sorted int32 ``indices`` and ``indptr`` (int64 only beyond 2**31 - 1 entries).
    y : numpy.ndarray of shape (n_rows,)
        Labels as float64, whole or not: :func:`check_class_labels` checks they are classes.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file has no data rows, a malformed line, a non-finite label or value, an index
        above ``n_features`` (or above 2**26 without it), or if a compressed file is truncated,
        corrupt or misnamed; the message starts with ``path:line:`` (or ``path:``).
    """
    X, y = load_libsvm_files([path], n_features=n_features, dtype=dtype)
    return X, y


def load_libsvm_files(paths, n_features=None, dtype=np.float64):
    """Load several LIBSVM files (e.g. train and test) with one common width.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        LIBSVM files; see :func:`load_libsvm` for the format.
    n_features : int, optional
        Width of every ``X``. Default: the largest index over all the files.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of every ``X.data``.

    Returns
    -------
    list
        ``[X1, y1, X2, y2, ...]`` as :func:`load_libsvm` returns them, all ``X`` equally wide.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        As :func:`load_libsvm`, naming the first file and line at fault.
    """
    paths = [os.fspath(path) for path in paths]
    dtype = _check_arguments(paths, n_features, dtype)
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, "LIBSVM file not found", path)
    parsed = _parse(paths, dtype)
    width = parsed[0][0].shape[1] if n_features is None else n_features
    result = []
    for path, (X, y) in zip(paths, parsed):
        _check_content(path, X, y, n_features)
        if n_features is None:
            _check_width(path, X)
        result += [csr_contract(X.indptr, X.indices, X.data, width), y]
    return result


def check_class_labels(y, path):
    """Check that the labels of a LIBSVM file are classes (whole numbers), not regression targets.

    Parameters
    ----------
    y : array-like of float
        Labels as :func:`load_libsvm` returns them, in file order.
    path : str or os.PathLike
        The file they come from, for the message.

    Raises
    ------
    ValueError
        At the first label that is not a whole number; the message starts with ``path:line:``,
        shows the label as written and says what to do.
    """
    y = np.asarray(y, dtype=np.float64)
    bad = np.flatnonzero(y != np.round(y))
    if bad.size:
        lineno, tokens = _row_at(os.fspath(path), int(bad[0]))
        raise ValueError(f"{os.fspath(path)}:{lineno}: label {_show(tokens[0])} is not a whole "
                         "number: the file holds regression targets, and the classifiers need "
                         "classes; map the labels to classes (e.g. round them) in a copy of the "
                         "file")


def _check_arguments(paths, n_features, dtype):
    if not paths:
        raise ValueError("paths is empty: pass at least one LIBSVM file")
    if n_features is not None and (not isinstance(n_features, numbers.Integral)
                                   or isinstance(n_features, bool) or n_features < 1):
        raise ValueError(f"n_features must be a positive integer or None, got {n_features!r}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dtype}")
    return dtype


def _parse(paths, dtype):
    """Run scikit-learn's parser; on failure point at the first malformed line."""
    try:
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(open_binary(path)) for path in paths]
            # zero_based=False: LIBSVM is 1-based; "auto" would silently accept index 0.
            flat = load_svmlight_files(files, dtype=dtype, zero_based=False)
    except CompressedFileError:
        raise
    except (ValueError, OverflowError) as exc:
        for path in paths:
            found = _first_malformed_line(path)
            if found is not None:
                lineno, problem = found
                raise ValueError(f"{path}:{lineno}: {problem}") from exc
        raise ValueError(f"{', '.join(paths)}: {exc}") from exc
    return list(zip(flat[0::2], flat[1::2]))


def _check_content(path, X, y, n_features):
    """Reject what the parser accepts but a classifier cannot use."""
    if X.shape[0] == 0:
        raise ValueError(f"{path}: no data rows (empty file)")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        row = bad[0]
        raise ValueError(f"{path}:{_line_of_row(path, row)}: label {y[row]} is not finite")
    bad = np.flatnonzero(~np.isfinite(X.data))
    if bad.size:
        pos = bad[0]
        raise ValueError(f"{_where(path, X, pos)}: value of feature {X.indices[pos] + 1} is "
                         f"{X.data[pos]} as {X.dtype}, not a finite number")
    if n_features is not None:
        bad = np.flatnonzero(X.indices >= n_features)
        if bad.size:
            pos = bad[0]
            raise ValueError(f"{_where(path, X, pos)}: feature index {X.indices[pos] + 1} exceeds "
                             f"n_features={n_features}; pass a larger n_features (--n-features "
                             "N), or None to use the largest index in the files")


def _check_width(path, X):
    """Refuse a width the weights could hardly hold, before any weight is allocated."""
    widest = int(X.indices.max()) + 1 if X.nnz else 0
    if widest > _MAX_INFERRED_WIDTH:
        gib = widest * np.dtype(np.float64).itemsize / 2**30
        raise ValueError(f"{_where(path, X, int(np.argmax(X.indices)))}: feature index {widest} "
                         f"would make {widest} columns ({gib:.1f} GiB of weights per class); "
                         "an index this large is most often a corrupt line: fix the line, or "
                         f"pass n_features={widest} (--n-features {widest}) if the width is meant")


# ---------------------------------------------------------------------------------------------
# Finding the line at fault: the same rules as sklearn's _svmlight_format_fast.pyx, in Python.


def _data_lines(path):
    """Yield ``(line_number, tokens)`` for each line sklearn's parser treats as a data row."""
    with open_binary(path) as f:
        yield from _rows_of(f)


def _rows_of(f):
    for lineno, line in enumerate(f, start=1):
        tokens = line.split(b"#", 1)[0].split()
        if tokens:
            yield lineno, tokens


def _row_at(path, row):
    """``(line_number, tokens)`` of data row ``row`` (0-based) of ``path``."""
    return next(itertools.islice(_data_lines(path), row, None))


def _line_of_row(path, row):
    return _row_at(path, row)[0]


def _where(path, X, pos):
    """``path:line`` of the stored entry at position ``pos`` of ``X.data``."""
    row = int(np.searchsorted(X.indptr, pos, side="right")) - 1
    return f"{path}:{_line_of_row(path, row)}"


def _first_malformed_line(path):
    with open_binary(path) as f:
        for lineno, tokens in _rows_of(f):
            problem = row_problem(tokens)
            if problem is not None:
                # A corrupt compressed stream garbles lines before its checksum, at its end,
                # says so: read on, so that the corruption is named rather than the line.
                f.read()
                return lineno, problem
    return None


def _show(token):
    return "'" + token.decode("utf-8", "backslashreplace") + "'"


def row_problem(tokens):
    """What scikit-learn's parser rejects in one LIBSVM row, or None.

    ``tokens`` are the row's whitespace-separated byte strings, comment removed (label first);
    the checks run in the parser's order, so the problem named is the one it stopped at.
    """
    label, features = tokens[0], tokens[1:]
    try:
        float(label)
    except ValueError:
        if b"," in label:
            return (f"label {_show(label)} lists several labels (multi-label LIBSVM); the "
                    "classifiers take one label a line: keep one label a line")
        return f"label {_show(label)} is not a number"
    # sklearn skips a leading svmlight query id, checking only that it has a colon.
    if features and features[0].startswith(b"qid") and b":" in features[0]:
        features = features[1:]
    previous = 0
    for token in features:
        index_text, colon, value = token.partition(b":")
        if not colon:
            return f"expected 'index:value', got {_show(token)}"
        try:
            index = int(index_text)
        except ValueError:
            return f"feature index {_show(index_text)} in {_show(token)} is not an integer"
        if index < 1:
            return f"feature index {index} is not >= 1 (LIBSVM indices are 1-based)"
        if index > INT32_MAX:
            return f"feature index {index} is too large (at most {INT32_MAX})"
        if index <= previous:
            return (f"indices are not increasing ({previous} then {index}); each row must list "
                    "its features by increasing index, without repeats")
        try:
            float(value)
        except ValueError:
            return f"value {_show(value)} of feature {index} is not a number"
        previous = index
    return None


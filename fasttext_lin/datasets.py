"""LIBSVM data: a checked loader over scikit-learn's parser, and the named sets of the LIBSVM page.

``load_libsvm`` and ``load_libsvm_files`` wrap :func:`sklearn.datasets.load_svmlight_files` and
return CSR matrices in the project's data contract (int32 indices, sorted, float32 or float64).
scikit-learn's parse errors carry no line number, so when it fails the file is read again in plain
Python, with the same rules, to name the first bad line. ``fetch_libsvm`` finds a named set under
the data home, downloads what is missing from the LIBSVM data page and verifies every file.
"""

import bz2
import errno
import gzip
import hashlib
import http.client
import itertools
import numbers
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_files
from sklearn.utils import Bunch

_INT32_MAX = int(np.iinfo(np.int32).max)
_DATA_HOME_ENV = "FASTTEXT_LIN_DATA"
_BASE_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets"
# Seconds per blocking socket operation: fail fast when offline instead of hanging a test run.
_TIMEOUT = 10


# ---------------------------------------------------------------------------------------------
# Loading


def load_libsvm(path, n_features=None, dtype=np.float64):
    """Load one LIBSVM file as a CSR matrix and a label vector.

    Parameters
    ----------
    path : str or os.PathLike
        File in LIBSVM format: ``label index:value ...`` per line, 1-based increasing indices.
        ``#`` starts a comment; blank lines are skipped; LF and CRLF line endings both work;
        ``.gz`` and ``.bz2`` files are decompressed.
    n_features : int, optional
        Width of ``X``. Default: the largest index in the file.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Dtype of ``X.data``.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_features)
        Sorted int32 ``indices`` and ``indptr`` (int64 only beyond 2**31 - 1 entries).
    y : numpy.ndarray of shape (n_rows,)
        Labels as float64.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file has no data rows, a malformed line, a non-finite label or value, or an
        index above ``n_features``; the message starts with ``path:line:``.
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
        result += [_to_contract(X, width), y]
    return result


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
        # zero_based=False: LIBSVM is 1-based; sklearn's "auto" would silently accept index 0.
        flat = load_svmlight_files(paths, dtype=dtype, zero_based=False)
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
                             f"n_features={n_features}; pass a larger n_features, or None to use "
                             "the largest index in the files")


def _to_contract(X, width):
    """CSR with sorted int32 indices, as the kernels expect (int64 only when int32 overflows)."""
    index_dtype = np.int32 if max(X.nnz, width) <= _INT32_MAX else np.int64
    out = sp.csr_matrix((X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype)),
                        shape=(X.shape[0], width))
    out.sort_indices()
    return out


# ---------------------------------------------------------------------------------------------
# Finding the line at fault: the same rules as sklearn's _svmlight_format_fast.pyx, in Python.


def _open_binary(path):
    # sklearn decompresses by extension; read the same bytes it read.
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    if path.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def _data_lines(path):
    """Yield ``(line_number, tokens)`` for each line sklearn treats as a data row."""
    with _open_binary(path) as f:
        for lineno, line in enumerate(f, start=1):
            tokens = line.split(b"#", 1)[0].split()
            if tokens:
                yield lineno, tokens


def _line_of_row(path, row):
    return next(itertools.islice(_data_lines(path), row, None))[0]


def _where(path, X, pos):
    """``path:line`` of the stored entry at position ``pos`` of ``X.data``."""
    row = int(np.searchsorted(X.indptr, pos, side="right")) - 1
    return f"{path}:{_line_of_row(path, row)}"


def _first_malformed_line(path):
    for lineno, tokens in _data_lines(path):
        problem = _row_problem(tokens)
        if problem is not None:
            return lineno, problem
    return None


def _show(token):
    return "'" + token.decode("utf-8", "backslashreplace") + "'"


def _row_problem(tokens):
    """What sklearn's parser rejects in one row, or None; checks in the parser's order."""
    label, features = tokens[0], tokens[1:]
    try:
        float(label)
    except ValueError:
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
        if index > _INT32_MAX:
            return f"feature index {index} is too large (at most {_INT32_MAX})"
        if index <= previous:
            return (f"indices are not increasing ({previous} then {index}); each row must list "
                    "its features by increasing index, without repeats")
        try:
            float(value)
        except ValueError:
            return f"value {_show(value)} of feature {index} is not a number"
        previous = index
    return None


# ---------------------------------------------------------------------------------------------
# Named data sets


@dataclass(frozen=True)
class _LibsvmSet:
    """A named set of the LIBSVM data page: its files and what they must hold."""

    name: str
    folder: str  # subfolder of the LIBSVM page in the download URL
    train_file: str
    test_file: str
    n_train: int
    n_test: int
    n_features: int
    n_classes: int


_SETS = {s.name: s for s in [
    # name, folder in the URL, train file, test file, rows train, rows test, n_features, n_classes
    _LibsvmSet("a1a",       "binary",     "a1a",       "a1a.t",       1605,  30956, 123, 2),
    _LibsvmSet("a2a",       "binary",     "a2a",       "a2a.t",       2265,  30296, 123, 2),
    _LibsvmSet("a3a",       "binary",     "a3a",       "a3a.t",       3185,  29376, 123, 2),
    _LibsvmSet("a4a",       "binary",     "a4a",       "a4a.t",       4781,  27780, 123, 2),
    _LibsvmSet("a5a",       "binary",     "a5a",       "a5a.t",       6414,  26147, 123, 2),
    _LibsvmSet("a6a",       "binary",     "a6a",       "a6a.t",       11220, 21341, 123, 2),
    _LibsvmSet("a7a",       "binary",     "a7a",       "a7a.t",       16100, 16461, 123, 2),
    _LibsvmSet("a8a",       "binary",     "a8a",       "a8a.t",       22696, 9865,  123, 2),
    _LibsvmSet("a9a",       "binary",     "a9a",       "a9a.t",       32561, 16281, 123, 2),
    _LibsvmSet("w1a",       "binary",     "w1a",       "w1a.t",       2477,  47272, 300, 2),
    _LibsvmSet("w2a",       "binary",     "w2a",       "w2a.t",       3470,  46279, 300, 2),
    _LibsvmSet("w3a",       "binary",     "w3a",       "w3a.t",       4912,  44837, 300, 2),
    _LibsvmSet("w4a",       "binary",     "w4a",       "w4a.t",       7366,  42383, 300, 2),
    _LibsvmSet("w5a",       "binary",     "w5a",       "w5a.t",       9888,  39861, 300, 2),
    _LibsvmSet("w6a",       "binary",     "w6a",       "w6a.t",       17188, 32561, 300, 2),
    _LibsvmSet("w7a",       "binary",     "w7a",       "w7a.t",       24692, 24995, 300, 2),
    _LibsvmSet("w8a",       "binary",     "w8a",       "w8a.t",       49749, 14951, 300, 2),
    _LibsvmSet("dna",       "multiclass", "dna.scale", "dna.scale.t", 2000,  1186,  180, 3),
    _LibsvmSet("pendigits", "multiclass", "pendigits", "pendigits.t", 7494,  3498,  16,  10),
]}

# sha256 of the files verified byte for byte (see shared/data/sources/*.SOURCE.txt); the other
# files are checked by row count and largest index only.
_SHA256 = {
    "a1a": "eb54c45f1bdb51286f803dd092eb8202b44637a858fc6c4e533a2d64a0d94b4e",
    "a1a.t": "b98244653c31ac5b151097866216831b962cb5a2857c91e8b276cdfcc4c44771",
    "a9a": "f5d5ffd8d865ff41328e7ee043e4b020816914ff6843ff15b98905ddbedce906",
    "a9a.t": "7d8c09f1120d9ff231d85caba98956906033f3c4d53e2b15ab7ef83710de6a76",
    "dna.scale": "f74937ccb8908628058ae1819d4d46c960ce64383f622c994d4f2e6e21026494",
    "dna.scale.t": "d2eeed170e4e38ae2aba6aa4cd27a8ca4ecceb01a7751e8e509bb4e1a6bcef39",
    "pendigits": "6e8a2f318a24d97d26a9c381642621dc955fed73ec44c4d417bd7afbb47ed67c",
    "pendigits.t": "5ddb2f034e1c5ca8a47b8a7e78510f8a9d68015cf40a5031534c693fba9773d3",
}


def get_data_home(data_home=None):
    """Folder that holds the data sets, as ``<data_home>/libsvm/<file>``.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Used as given (``~`` expanded). Default: the environment variable ``FASTTEXT_LIN_DATA``
        if set, else ``$XDG_CACHE_HOME/fasttext_lin``, else ``~/.cache/fasttext_lin``.

    Returns
    -------
    pathlib.Path
        The folder; it is not created here.
    """
    if data_home is None:
        data_home = os.environ.get(_DATA_HOME_ENV) or _user_cache_home()
    return Path(data_home).expanduser()


def _user_cache_home():
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "fasttext_lin"


def fetch_libsvm(name, data_home=None, download=True):
    """Load a named LIBSVM data set, downloading missing files, and verify it.

    Files live at ``<data_home>/libsvm/<file>``. A missing file is downloaded from the LIBSVM
    data page and only kept once verified. Every file, present or downloaded, must match its
    known sha256 (where known), its expected row count and the set's number of features.

    Parameters
    ----------
    name : str
        One of a1a ... a9a, w1a ... w8a, dna, pendigits.
    data_home : str or os.PathLike, optional
        See :func:`get_data_home`.
    download : bool, default=True
        If False, never use the network: a missing file is an error.

    Returns
    -------
    sklearn.utils.Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (as :func:`load_libsvm`, both ``X``
        ``n_features`` wide), ``n_features``, ``n_classes``, ``name``, ``train_path``,
        ``test_path``.

    Raises
    ------
    ValueError
        If the name is unknown or a file fails verification.
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message says where to get it and
        where to put it.
    """
    spec = _SETS.get(name)
    if spec is None:
        raise ValueError(f"unknown LIBSVM data set {name!r}; known sets: {', '.join(_SETS)}")
    folder = get_data_home(data_home) / "libsvm"
    X_train, y_train = _fetch_file(spec, spec.train_file, spec.n_train, folder, download)
    X_test, y_test = _fetch_file(spec, spec.test_file, spec.n_test, folder, download)
    return Bunch(X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                 n_features=spec.n_features, n_classes=spec.n_classes, name=spec.name,
                 train_path=folder / spec.train_file, test_path=folder / spec.test_file)


def _fetch_file(spec, filename, n_rows, folder, download):
    path = folder / filename
    url = f"{_BASE_URL}/{spec.folder}/{filename}"
    if path.exists():
        try:
            return _verified_load(path, str(path), spec, filename, n_rows)
        except ValueError as exc:
            raise ValueError(f"{exc}. This is not the expected {spec.name} file: delete {path} "
                             f"to download it again from {url}") from exc
    if not download:
        raise FileNotFoundError(_missing_message(path, url, "download=False"))
    try:
        return _download(url, path, lambda tmp: _verified_load(tmp, url, spec, filename, n_rows))
    except ValueError as exc:
        raise ValueError(f"the download of {filename} failed verification and was not saved: "
                         f"{exc}. Try again later, or put a correct copy at {path}") from exc


def _verified_load(path, shown, spec, filename, n_rows):
    """Load one file of ``spec``; ``shown`` names it in messages (its URL while downloading)."""
    expected = _SHA256.get(filename)
    if expected is not None:
        found = _sha256(path)
        if found != expected:
            raise ValueError(f"{shown}: sha256 is {found}, expected {expected}")
    X, y = load_libsvm(path, n_features=spec.n_features)
    if X.shape[0] != n_rows:
        raise ValueError(f"{shown}: {X.shape[0]} data rows, expected {n_rows}")
    return X, y


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url, path, verify):
    """Fetch ``url`` into a temporary file beside ``path``; keep it as ``path`` once verified.

    ``os.replace`` is atomic within a folder, so ``path`` is either absent or complete and
    verified, even if the process dies mid-download.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(url, out, path)
        result = verify(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return result


def _copy_url(url, out, path):
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            shutil.copyfileobj(response, out)
    except (OSError, http.client.HTTPException) as exc:
        raise FileNotFoundError(_missing_message(path, url, f"download failed: {exc}")) from exc


def _missing_message(path, url, reason):
    return (f"LIBSVM file {path.name} is missing from {path.parent} ({reason}). Download {url} "
            f"and save it as {path}, or set {_DATA_HOME_ENV} to a folder that holds "
            f"libsvm/{path.name}")

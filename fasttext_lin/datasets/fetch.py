"""The named LIBSVM sets: find, download, verify and load them, with checked binary copies.

Each file is looked for where :func:`~fasttext_lin.datasets.registry.find_files` says (the data
home, the copies shipped with the package, the per-user cache), else downloaded from the LIBSVM
data page into the data home. A parsed file is kept as a checked binary copy (``.npz``, no
pickle), which later loads read in milliseconds instead of parsing the text again.
"""

import functools
import hashlib
import zipfile

import numpy as np
import scipy.sparse as sp
from sklearn.utils import Bunch

from .._io import OutputPathError, atomic_writer
from . import download as _download
from ._open import content_sha256
from .libsvm import load_libsvm
from .registry import LIBSVM_SPECS, find_files, is_shipped, user_cache_home

__all__ = ["fetch_libsvm", "read_binary"]

_BINARY_ARRAYS = {"data": np.float64, "indices": np.int32, "indptr": np.int32, "y": np.float64}


def fetch_libsvm(name, data_home=None, download=True, subset="all"):
    """Load a named LIBSVM data set, downloading missing files, and verify it.

    A file is read from ``<data_home>/libsvm/<file>``, else from the copy shipped with the
    package (a9a), else downloaded from the LIBSVM data page into the data home and only kept
    once verified (the order is in :mod:`fasttext_lin.datasets.registry`). Every file, present,
    shipped or downloaded, must match its known sha256 (where known), its expected row count
    and the set's number of features.

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
        ``test_path`` (a shipped copy's path ends in ``.xz``).

    Raises
    ------
    ValueError
        If the name or subset is unknown, or a file fails verification.
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message says where to get it and
        where to put it.
    """
    spec = LIBSVM_SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown LIBSVM data set {name!r}; known sets: "
                         f"{', '.join(LIBSVM_SPECS)}")
    if subset not in ("all", "train", "test"):
        raise ValueError(f"subset={subset!r} is invalid; expected 'all', 'train' or 'test'")
    data = Bunch(n_features=spec.n_features, n_classes=spec.n_classes, name=spec.name)
    for split, file in (("train", spec.train), ("test", spec.test)):
        found, home = find_files([f"libsvm/{file.file}"], data_home)
        path = found[0] if found else home / "libsvm" / file.file
        loaded = (_fetch_file(spec, file, path, found is not None, download)
                  if subset in ("all", split) else (None, None))
        data.update({f"X_{split}": loaded[0], f"y_{split}": loaded[1], f"{split}_path": path})
    return data


def _fetch_file(spec, file, path, present, download):
    if present:
        try:
            return _cached_load(path, spec, file)
        except ValueError as exc:
            fix = ("reinstall fasttext_lin" if is_shipped(path) else
                   f"delete {path} to download it again from {file.url}")
            raise ValueError(f"{exc}. This is not the expected {spec.name} file: {fix}") from exc
    if not download:
        raise FileNotFoundError(_missing_message(path, file.url, "download=False"))
    try:
        return _download.download(file.url, path,
                                  lambda tmp: _verified_load(tmp, file.url, spec, file),
                                  functools.partial(_missing_message, path, file.url))
    except ValueError as exc:
        raise ValueError(f"the download of {file.file} failed verification and was not saved: "
                         f"{exc}. Try again later, or put a correct copy at {path}") from exc


def _verified_load(path, shown, spec, file):
    """Load one file of ``spec``; ``shown`` names it in messages (its URL while downloading)."""
    _download.check_sha256(path, file.sha256, shown)
    return _load_rows(path, shown, spec, file.rows)


def _load_rows(path, shown, spec, n_rows):
    X, y = load_libsvm(path, n_features=spec.n_features)
    if X.shape[0] != n_rows:
        raise ValueError(f"{shown}: {X.shape[0]} data rows, expected {n_rows}")
    return X, y


def _missing_message(path, url, reason):
    return _download.missing_message(f"LIBSVM file {path.name} is", path.parent, reason,
                                      f"Download {url} and save it as {path}",
                                      f"libsvm/{path.name}")


# ---------------------------------------------------------------------------------------------
# Binary copies of the parsed named sets


def _cached_load(path, spec, file):
    """Load a present file of ``spec`` from its binary copy, parsing it only without one."""
    digest = content_sha256(path)
    _download.check_sha256(path, file.sha256, str(path), found=digest)
    binary = user_cache_home() / "libsvm-npz" / f"{file.file}.{digest[:32]}.npz"
    loaded = read_binary(binary, spec.n_features, file.rows)
    if loaded is None:
        loaded = _load_rows(path, str(path), spec, file.rows)
        _write_binary(binary, *loaded)
    return loaded


def _arrays_sha256(arrays):
    digest = hashlib.sha256()
    for name in _BINARY_ARRAYS:
        digest.update(np.ascontiguousarray(arrays[name]).data)
    return digest.hexdigest()


def read_binary(path, n_features, n_rows):
    """``(X, y)`` from a binary copy that passes every check, else None (absent or bad).

    Checked: the zip's checksums, the dtypes, the sha256 of the arrays stored with them, and
    the CSR structure for ``n_rows`` rows of ``n_features`` columns with sorted indices.
    """
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
        with atomic_writer(path, what="binary copy of a data set") as out:
            np.savez(out, sha256=np.array(_arrays_sha256(arrays)), **arrays)
    except (OSError, OutputPathError):
        pass

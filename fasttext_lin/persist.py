"""Save and load models without pickle: one zip of ``.npy`` arrays and a JSON description.

Two estimators can be stored: :class:`~fasttext_lin.LinearClassifier` (with its SGD state,
so that ``partial_fit`` continues after loading) and :class:`~fasttext_lin.NBSVM`.
Loading never executes code from the file: arrays are read with
``np.load(..., allow_pickle=False)``, the estimator class is looked up in a fixed table
(never imported by name), and every array is checked against the metadata (shape, dtype,
SHA-256) and against the others before a model is built.

File layout (``format_version`` 2)
----------------------------------
A zip archive as :func:`numpy.savez` writes it, with the members::

    metadata.json          UTF-8 JSON, below
    coef_.npy              (K, d) float32 or float64, finite; K = 1 for two classes, else
                           n_classes
    intercept_.npy         (K,) float64, finite
    classes_.npy           (n_classes,) bool, int, float, unicode or bytes (never object)
    feature_names_in_.npy  (d,) unicode; only for a model fitted on named columns
    extra/<name>.npy       the arrays given in ``extra["arrays"]``

and the estimator's own arrays. A ``LinearClassifier``::

    sgd_v.npy              (K, d) coef_'s dtype: the unscaled SGD weights
    sgd_u.npy              (K, d) float64, or (K, 0) when never averaged: the averaging sums
    sgd_state.npy          (K, 6) float64: the kernel's scalars (scale, intercept, t, ...)
    calibration_.npy       (K, 2) float64, finite: the Platt sigmoids' slopes and
                           intercepts; present exactly when the model was fitted with
                           probability=True and a loss without probabilities of its own

but for ``loss="softmax"``, whose one model of all classes keeps feature-major weights and
one state row per class (two for two classes, although coef_ then has one row)::

    sgd_v.npy              (d, n_classes) coef_'s dtype
    sgd_u.npy              (d, n_classes) float64, or (d, 0) when never averaged
    sgd_state.npy          (n_classes, 6) float64

An ``NBSVM``::

    ratios_.npy            (K, d) float64, finite: the log-count ratios of each model

``metadata.json``::

    {"format": "fasttext_lin-model", "format_version": 2, "package_version": "0.1.0",
     "estimator": "LinearClassifier",
     "params": {"loss": "hinge", ..., "class_weight": {"__pairs__": [[0, 1.0], [1, 3.0]]}},
     "fitted": {"n_iter_": 7, "t_": 2101, "n_features_in_": 20},
     "arrays": {"coef_": {"shape": [1, 20], "dtype": "<f8", "sha256": "9f86..."}, ...},
     "object_arrays": ["classes_"],
     "extra": {}}

``fitted`` holds the estimator's integer attributes: ``n_iter_``, ``t_`` and
``n_features_in_`` for a ``LinearClassifier``, ``n_iter_`` and ``n_features_in_`` for an
``NBSVM``. ``params`` is ``get_params()``; a dict value is stored as ``{"__pairs__": [[key, value],
...]}`` so that its keys keep their type (``class_weight={0: 1.0}`` stays an int key), a
tuple comes back as a list. ``object_arrays`` names the arrays that were object arrays of
``str`` and are stored as unicode (they come back as object arrays).

Version 2 added the ``LinearClassifier`` parameter ``probability`` and its
``calibration_.npy``; files of version 1 still load (as ``probability=False`` models), and
an older fasttext_lin refuses a version 2 file with a request to upgrade.

Extra: data stored beside the model
-----------------------------------
``extra`` is a dict with two optional keys: ``"arrays"``, a dict of name -> ndarray
(bool, numbers, unicode or bytes; a name is letters, digits, ``_ . -``, with ``/`` to
namespace it), and ``"metadata"``, a dict of JSON values with ``str`` keys. The arrays are
checksummed and validated like the model's. ``load_model(path, return_extra=True)``
gives back ``{"arrays": {...}, "metadata": {...}}`` (both empty if nothing was stored).
A featurizer stores itself under its own namespace, e.g. a ``BagOfWords``::

    extra = {"arrays": {"featurizer/terms": terms, "featurizer/term_ids": ids},
             "metadata": {"featurizer": {"class": "BagOfWords",
                                         "params": _params_to_json(bow.get_params())}}}

and rebuilds itself from ``extra["metadata"]["featurizer"]`` with :func:`_params_from_json`
and the arrays. A large vocabulary is best stored as one uint8 array of UTF-8 bytes plus
int64 offsets: a unicode array takes 4 bytes per character of its longest string.

Errors
------
``save_model``: ``ValueError("cannot save model to '<path>': <problem>")`` for values a
model file cannot hold; nothing is written (an existing file at the path is untouched).
``load_model``: ``FileNotFoundError("model file not found: '<path>'")``, and
:class:`ModelFileError` (a ``ValueError``) ``"cannot load model from '<path>': <problem>"``
for a truncated, corrupted or foreign file.
"""

import contextlib
import hashlib
import json
import os
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from numpy.lib import format as _npy
from sklearn.utils.validation import check_is_fitted

from . import _sgd_kernels as K
from .linear_model import LinearClassifier, _state_class
from .nbsvm import NBSVM

FORMAT = "fasttext_lin-model"
FORMAT_VERSION = 2
METADATA_MEMBER = "metadata.json"
EXTRA_PREFIX = "extra/"

_SHARED_ARRAYS = ("coef_", "intercept_", "classes_")
_OPTIONAL_ARRAYS = ("feature_names_in_",)
_STORABLE_KINDS = "biufUS"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_METADATA_BYTES = 64 << 20
_PAIRS = "__pairs__"


class ModelFileError(ValueError):
    """A model file that cannot be loaded: truncated, corrupted or not a fasttext_lin model."""


class _Problem(Exception):
    """What is wrong with a model (to save) or a model file (to load); the caller adds the path."""


# -- the estimators a file may hold -----------------------------------------------------------

class _Kind(NamedTuple):
    """What one estimator class stores beyond the shared arrays, and how it comes back."""

    cls: type
    arrays: tuple  # its own arrays, all required
    optional: tuple  # its own arrays that a fitted estimator may lack
    fitted: tuple  # its int fitted attributes, in metadata "fitted"
    own_arrays: Callable  # estimator -> {name: value} of ``arrays``
    check: Callable  # (arrays, fitted, params) -> None: ``arrays`` against coef_; raises _Problem
    restore: Callable  # (estimator, arrays) -> None: sets the fitted state from ``arrays``
    check_params: Callable  # estimator -> None: raises TypeError or ValueError


def _linear_arrays(est):
    if not hasattr(est, "_sgd"):
        raise _Problem("the estimator has no SGD state (_sgd); fit it with fit or partial_fit.")
    arrays = {"sgd_v": est._sgd.v, "sgd_u": est._sgd.u, "sgd_state": est._sgd.state}
    if hasattr(est, "calibration_"):
        arrays["calibration_"] = est.calibration_
    _check_calibration(est, "calibration_" in arrays)
    return arrays


def _check_calibration(est, present):
    """A calibration is there exactly when the parameters of ``est`` call for one."""
    if est._calibrates() and not present:
        raise _Problem(f"probability=True with loss={est.loss!r}, but no calibration_: the "
                       "parameters were changed after fit; fit the model again.")
    if present and not est._calibrates():
        raise _Problem(f"calibration_ is present, but probability={est.probability!r} and "
                       f"loss={est.loss!r} do not calibrate; fit the model again.")


def _check_linear(arrays, fitted, params):
    coef = arrays["coef_"]
    # The parameters' values (the loss, ...) are checked once the estimator is built.
    _check_calibration(LinearClassifier(loss=params.get("loss", "hinge"),
                                        probability=params.get("probability", False)),
                       "calibration_" in arrays)
    if "calibration_" in arrays:
        _expect(arrays, "calibration_", [(coef.shape[0], 2)], np.float64, "coef_")
        _expect_finite(arrays, "calibration_")
    v_shape, state_shape = _state_class(params.get("loss")).shapes(
        arrays["classes_"].shape[0], coef.shape[1])
    _expect(arrays, "sgd_v", [v_shape], coef.dtype, "coef_")
    _expect(arrays, "sgd_u", [v_shape, (v_shape[0], 0)], np.float64, "coef_")
    _expect(arrays, "sgd_state", [state_shape], np.float64, "coef_")
    t = int(arrays["sgd_state"][0, K.T])
    if fitted["t_"] != t:
        raise _Problem(f"t_={fitted['t_']} but the SGD state says {t}.")


def _restore_linear(est, arrays):
    est._sgd = _state_class(est.loss)(arrays["sgd_v"], arrays["sgd_u"], arrays["sgd_state"])
    if "calibration_" in arrays:
        est.calibration_ = arrays["calibration_"]


def _check_nbsvm(arrays, fitted, params):
    _expect(arrays, "ratios_", [arrays["coef_"].shape], np.float64, "coef_")
    _expect_finite(arrays, "ratios_")


def _restore_nbsvm(est, arrays):
    est.ratios_ = arrays["ratios_"]


def _check_nbsvm_params(est):
    est._check_params()
    # NBSVM hands these to the LinearClassifier of each class, which checks them at fit:
    # a file must not carry values that only fail at the next fit.
    LinearClassifier(loss=est.loss, C=est.C, average=est.average)._check_params()


# The only classes a file may name: never import a class by a name read from a file.
_KINDS = {
    "LinearClassifier": _Kind(LinearClassifier, ("sgd_v", "sgd_u", "sgd_state"),
                              ("calibration_",),
                              ("n_iter_", "t_", "n_features_in_"), _linear_arrays,
                              _check_linear, _restore_linear, LinearClassifier._check_params),
    "NBSVM": _Kind(NBSVM, ("ratios_",), (), ("n_iter_", "n_features_in_"),
                   lambda est: {"ratios_": est.ratios_}, _check_nbsvm, _restore_nbsvm,
                   _check_nbsvm_params),
}


# -- save -------------------------------------------------------------------------------------

def save_model(path, estimator, extra=None, *, compress=False):
    """Write a fitted estimator (and optional extra data) to one file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (by convention ``.npz``); replaced if it exists.
    estimator : LinearClassifier or NBSVM
        A fitted estimator; a ``LinearClassifier`` with its SGD state, so that
        :meth:`partial_fit` can continue after :func:`load_model`.
    extra : dict or None, default=None
        ``{"arrays": {name: ndarray}, "metadata": {json}}``, both keys optional: data
        stored beside the model (a featurizer's vocabulary and parameters); see the module
        docstring.
    compress : bool, default=False
        Deflate the members (smaller, slower to write and read).

    Raises
    ------
    TypeError
        If ``estimator`` is not a :class:`LinearClassifier` or an :class:`NBSVM`.
    ValueError
        If it is not fitted or holds a value a model file cannot hold without pickle
        (e.g. ``random_state`` a ``RandomState``); the message names the value and the fix.
    """
    path = os.fspath(path)
    kind = _KINDS.get(type(estimator).__name__)
    if kind is None or type(estimator) is not kind.cls:
        raise TypeError(
            f"save_model stores {' and '.join(_KINDS)} only; got {type(estimator).__name__} "
            "(a subclass would come back as its base class)."
        )
    check_is_fitted(estimator)
    try:
        arrays, object_arrays = _estimator_arrays(estimator, kind)
        extra_arrays, extra_metadata = _check_extra(extra)
        arrays.update({EXTRA_PREFIX + name: a for name, a in extra_arrays.items()})
        metadata = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": _package_version(),
            "estimator": type(estimator).__name__,
            "params": _params_to_json(estimator.get_params(deep=False)),
            "fitted": {name: int(getattr(estimator, name)) for name in kind.fitted},
            "arrays": {name: _describe(a) for name, a in arrays.items()},
            "object_arrays": object_arrays,
            "extra": extra_metadata,
        }
        blob = json.dumps(metadata, indent=1).encode("utf-8")
    except _Problem as exc:
        raise ValueError(f"cannot save model to '{path}': {exc}") from None
    _write_atomic(path, blob, arrays, compress)


def _estimator_arrays(est, kind):
    stored = set(_SHARED_ARRAYS + _OPTIONAL_ARRAYS + kind.arrays + kind.optional + kind.fitted)
    unknown = sorted(name for name in vars(est)
                     if name.endswith("_") and not name.startswith("_") and name not in stored)
    if unknown:
        # A fitted attribute added to the estimator would otherwise be dropped silently.
        raise _Problem(f"the {kind.cls.__name__} has fitted attribute(s) {unknown} that "
                       "save_model does not know how to store.")
    arrays, object_arrays = {}, []
    named = {name: getattr(est, name) for name in _SHARED_ARRAYS}
    named.update(kind.own_arrays(est))
    if hasattr(est, "feature_names_in_"):
        named["feature_names_in_"] = est.feature_names_in_
    for name, value in named.items():
        array, was_object = _storable(name, value)
        arrays[name] = array
        if was_object:
            object_arrays.append(name)
    return arrays, object_arrays


def _storable(name, value):
    """Return ``(array, was_object)``: ``value`` as a contiguous array storable without pickle."""
    array = np.asarray(value)
    if array.dtype.kind == "O":
        items = array.ravel().tolist()
        if not all(isinstance(item, str) for item in items):
            kinds = sorted({type(item).__name__ for item in items})
            raise _Problem(f"{name} is an object array holding {', '.join(kinds)}; only numbers "
                           "and strings can be stored (convert it to a numeric or str array).")
        text = np.array(items, dtype=str).reshape(array.shape)
        # Unicode arrays drop trailing NUL characters: refuse rather than change a label.
        if text.ravel().tolist() != items:
            raise _Problem(f"{name} holds strings ending in NUL characters, which a unicode "
                           "array cannot hold.")
        return np.ascontiguousarray(text), True
    if array.dtype.kind not in _STORABLE_KINDS:
        raise _Problem(f"{name} has dtype {array.dtype}; only bool, int, uint, float, unicode "
                       "and bytes arrays can be stored.")
    return np.ascontiguousarray(array), False


def _check_extra(extra):
    if extra is None:
        return {}, {}
    if not isinstance(extra, Mapping):
        raise _Problem(f"extra must be a dict with keys 'arrays' and 'metadata', got "
                       f"{type(extra).__name__}.")
    unknown = sorted(set(extra) - {"arrays", "metadata"}, key=str)
    if unknown:
        raise _Problem(f"extra has unknown key(s) {unknown}; use 'arrays' and 'metadata'.")
    arrays, metadata = extra.get("arrays") or {}, extra.get("metadata") or {}
    if not isinstance(arrays, Mapping) or not isinstance(metadata, Mapping):
        raise _Problem("extra['arrays'] and extra['metadata'] must be dicts.")
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _Problem(f"extra array name {name!r} is not letters, digits, '_', '.', '-' "
                           "in '/'-separated parts.")
        if not isinstance(value, np.ndarray):
            raise _Problem(f"extra['arrays'][{name!r}] is a {type(value).__name__}, not an "
                           "ndarray.")
        checked[name], was_object = _storable(f"extra['arrays'][{name!r}]", value)
        if was_object:
            raise _Problem(f"extra['arrays'][{name!r}] is an object array; give a unicode "
                           "array (np.asarray(values, dtype=str)).")
    try:
        same = json.loads(json.dumps(metadata)) == metadata
    except (TypeError, ValueError) as exc:
        raise _Problem(f"extra['metadata'] is not JSON-able: {exc}.") from None
    if not same:
        raise _Problem("extra['metadata'] does not survive JSON unchanged (non-str dict keys "
                       "or tuples?); give str keys and lists.")
    return checked, dict(metadata)


def _describe(array):
    return {"shape": list(array.shape), "dtype": array.dtype.str, "sha256": _sha256(array)}


def _sha256(array):
    return hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest()


def _package_version():
    # Imported late: the package's __init__ may import this module.
    from . import __version__
    return __version__


def _params_to_json(params):
    """Encode ``get_params()`` as JSON values; dicts become ``{"__pairs__": [[k, v], ...]}``."""
    return {name: _to_json(value, name) for name, value in params.items()}


def _to_json(value, where, key=False):
    if isinstance(value, np.generic) and value.dtype.kind in "biufUS":
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if not key and isinstance(value, (list, tuple)):
        return [_to_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if not key and isinstance(value, Mapping):
        return {_PAIRS: [[_to_json(k, f"{where} key {k!r}", key=True),
                          _to_json(v, f"{where}[{k!r}]")] for k, v in value.items()]}
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    raise _Problem(
        f"parameter {where}={shown} is a {type(value).__name__}, which a model file cannot "
        "hold without pickle (JSON values only: None, bool, int, float, str, and lists and "
        "dicts of them); set it to such a value with set_params before save_model "
        "(e.g. random_state=0)."
    )


# -- atomic write -----------------------------------------------------------------------------

def _write_atomic(path, metadata_blob, arrays, compress):
    """Write the zip to a temporary file beside ``path``, fsync it, rename it over ``path``."""
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open applies the umask to 0o666, as open() would for the final file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_zip(fh, metadata_blob, arrays, compress)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _write_zip(fh, metadata_blob, arrays, compress):
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, "w", compression=compression, allowZip64=True) as archive:
        archive.writestr(METADATA_MEMBER, metadata_blob)
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                _npy.write_array(member, array, allow_pickle=False)


def _fsync_folder(folder):
    # Makes the rename durable on POSIX; folders cannot be opened this way on Windows.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- load -------------------------------------------------------------------------------------

def load_model(path, *, return_extra=False):
    """Read a model written by :func:`save_model`, validating everything first.

    Parameters
    ----------
    path : str or os.PathLike
    return_extra : bool, default=False
        Also return the extra data: ``{"arrays": {name: ndarray}, "metadata": {...}}``
        (both empty when nothing was stored).

    Returns
    -------
    estimator : LinearClassifier or NBSVM
        Fitted: predictions equal the saved model's; a ``LinearClassifier`` has its SGD
        state, so :meth:`partial_fit` continues as it would have.
    extra : dict
        Only when ``return_extra`` is true.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        A ``ValueError`` ``"cannot load model from '<path>': <problem>"`` for a truncated,
        corrupted, foreign or newer-format file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: '{path}'")
    # Opened outside the try: a permission error is not a damaged file.
    with open(path, "rb") as fh:
        head = fh.read(len(_ZIP_MAGIC))
    try:
        if head != _ZIP_MAGIC:
            raise _Problem(f"not a zip archive, so not a fasttext_lin model file (it starts "
                           f"with {head!r}, a model file with {_ZIP_MAGIC!r}).")
        with np.load(path, allow_pickle=False) as npz:
            estimator, extra = _load(npz)
    except _Problem as exc:
        raise ModelFileError(f"cannot load model from '{path}': {exc}") from None
    # What zipfile and numpy raise on damaged bytes (a flipped bit can turn a member
    # "encrypted" (RuntimeError), an unknown compression (NotImplementedError) or a seek
    # before the start (OSError)).
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, KeyError, TypeError,
            ValueError, OSError, RuntimeError, NotImplementedError) as exc:
        kind = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
        raise ModelFileError(
            f"cannot load model from '{path}': the file is truncated or corrupted "
            f"({kind}: {exc})."
        ) from exc
    return (estimator, extra) if return_extra else estimator


def _load(npz):
    names = npz.zip.namelist()
    if len(set(names)) != len(names):
        raise _Problem("the archive holds a member twice.")
    metadata = _read_metadata(npz.zip, names)
    kind = _check_header(metadata)
    specs = _require(metadata, "arrays", dict)
    _check_members(specs, names, kind)
    arrays = {name: _read_array(npz, name, spec) for name, spec in specs.items()}
    fitted = _check_fitted(_require(metadata, "fitted", dict), kind)
    params = _params_from_json(_require(metadata, "params", dict))
    _check_consistency(arrays, fitted, params, kind)
    object_arrays = _require(metadata, "object_arrays", list)
    if not set(object_arrays) <= {"classes_", "feature_names_in_"}:
        raise _Problem(f"object_arrays={object_arrays!r} names arrays that cannot be objects.")
    extra = {"arrays": {name[len(EXTRA_PREFIX):]: arrays.pop(name) for name in list(arrays)
                        if name.startswith(EXTRA_PREFIX)},
             "metadata": _require(metadata, "extra", dict)}
    estimator = _build(kind, params, arrays, fitted, object_arrays)
    return estimator, extra


def _read_metadata(archive, names):
    if METADATA_MEMBER not in names:
        raise _Problem(f"no {METADATA_MEMBER} member: not a fasttext_lin model file.")
    if archive.getinfo(METADATA_MEMBER).file_size > _MAX_METADATA_BYTES:
        raise _Problem(f"{METADATA_MEMBER} is larger than {_MAX_METADATA_BYTES} bytes.")
    try:
        metadata = json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _Problem(f"{METADATA_MEMBER} is not UTF-8 ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise _Problem(f"{METADATA_MEMBER} is not valid JSON ({exc}).") from None
    if not isinstance(metadata, dict):
        raise _Problem(f"{METADATA_MEMBER} holds a {type(metadata).__name__}, not an object.")
    return metadata


def _check_header(metadata):
    """Check format name and version; return the :class:`_Kind` of the estimator it names."""
    if metadata.get("format") != FORMAT:
        raise _Problem(f"not a fasttext_lin model file (format {metadata.get('format')!r}, "
                       f"expected {FORMAT!r}).")
    version = _require(metadata, "format_version", int)
    if version > FORMAT_VERSION:
        raise _Problem(f"model file written by a newer fasttext_lin (format {version} > "
                       f"{FORMAT_VERSION}): upgrade fasttext_lin (this is "
                       f"{_package_version()}) to load it.")
    if version < 1:
        raise _Problem(f"unknown format_version {version}.")
    _require(metadata, "package_version", str)
    name = _require(metadata, "estimator", str)
    if name not in _KINDS:
        raise _Problem(f"unknown estimator class {name!r} (this fasttext_lin knows "
                       f"{', '.join(_KINDS)}).")
    return _KINDS[name]


def _require(mapping, key, kind, where=METADATA_MEMBER):
    if key not in mapping:
        raise _Problem(f"{where} has no {key!r}.")
    value = mapping[key]
    # bool is an int in Python, never in a model file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Problem(f"{where}[{key!r}] is {value!r}, expected {kind.__name__}.")
    return value


def _check_members(specs, names, kind):
    required = _SHARED_ARRAYS + kind.arrays
    for name in required:
        if name not in specs:
            raise _Problem(f"missing array {name!r} ({METADATA_MEMBER} does not list it).")
    for name in specs:
        extra_name = name[len(EXTRA_PREFIX):] if name.startswith(EXTRA_PREFIX) else None
        if name not in required + _OPTIONAL_ARRAYS + kind.optional and not (
                extra_name and _NAME.fullmatch(extra_name)):
            raise _Problem(f"unknown array {name!r} in {METADATA_MEMBER}.")
        if name + ".npy" not in names:
            raise _Problem(f"missing array {name!r} (no member {name}.npy in the archive).")
    expected = {METADATA_MEMBER} | {name + ".npy" for name in specs}
    unexpected = sorted(set(names) - expected)
    if unexpected:
        raise _Problem(f"unexpected member(s) {unexpected} (not listed in {METADATA_MEMBER}).")


def _read_array(npz, name, spec):
    """Read one member after checking its .npy header and size against ``spec``."""
    where = f"{METADATA_MEMBER} arrays[{name!r}]"
    if not isinstance(spec, dict):
        raise _Problem(f"{where} is {spec!r}, expected an object.")
    shape = _require(spec, "shape", list, where)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise _Problem(f"{where}['shape'] is {shape!r}, expected non-negative ints.")
    shape = tuple(shape)
    dtype = _dtype(_require(spec, "dtype", str, where), where)
    digest = _require(spec, "sha256", str, where)
    member = name + ".npy"
    with npz.zip.open(member) as fh:
        version = _npy.read_magic(fh)
        if version == (1, 0):
            header = _npy.read_array_header_1_0(fh)
        elif version == (2, 0):
            header = _npy.read_array_header_2_0(fh)
        else:
            raise _Problem(f"{member} is .npy version {version}, expected (1, 0) or (2, 0).")
        data_start = fh.tell()
    if header[0] != shape or header[2] != dtype:
        raise _Problem(f"array {name!r} has shape {header[0]} and dtype {header[2]} in "
                       f"{member}, but {METADATA_MEMBER} says {shape} and {dtype}.")
    # Checked before reading so that a forged header cannot make us allocate a huge array.
    expected_size = data_start + dtype.itemsize * int(np.prod(shape))
    size = npz.zip.getinfo(member).file_size
    if size != expected_size:
        raise _Problem(f"{member} holds {size} bytes, expected "
                       f"{expected_size} for shape {shape} and dtype {dtype}.")
    array = npz[name]
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
        raise _Problem(f"{member} does not hold a {dtype} array of shape {shape}.")
    array = np.ascontiguousarray(array)
    if _sha256(array) != digest:
        raise _Problem(f"checksum mismatch for array {name!r}: the file is corrupted.")
    return array


def _dtype(text, where):
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        raise _Problem(f"{where}['dtype'] is {text!r}, not a NumPy dtype.") from None
    if dtype.kind not in _STORABLE_KINDS or dtype.names is not None:
        raise _Problem(f"{where}['dtype'] is {text!r}; a model file holds only bool, int, "
                       "uint, float, unicode and bytes arrays.")
    return dtype


def _check_fitted(fitted, kind):
    where = f"{METADATA_MEMBER} fitted"
    unknown = sorted(set(fitted) - set(kind.fitted))
    if unknown:
        raise _Problem(f"{where} has unknown entries {unknown} for {kind.cls.__name__}.")
    return {name: _require(fitted, name, int, where) for name in kind.fitted}


def _check_consistency(arrays, fitted, params, kind):
    """Check the arrays' shapes and dtypes against each other and the fitted scalars."""
    coef, classes = arrays["coef_"], arrays["classes_"]
    if coef.ndim != 2 or coef.dtype not in (np.float32, np.float64):
        raise _Problem(f"coef_ has shape {coef.shape} and dtype {coef.dtype}, expected a 2-D "
                       "float32 or float64 array.")
    n_problems, n_features = coef.shape
    if classes.ndim != 1 or classes.shape[0] < 2:
        raise _Problem(f"classes_ has shape {classes.shape}, expected (n_classes,) with "
                       "n_classes >= 2.")
    if np.unique(classes).shape[0] != classes.shape[0]:
        raise _Problem("classes_ holds a class twice.")
    expected_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
    if n_problems != expected_problems:
        raise _Problem(f"coef_ has {n_problems} row(s) for {classes.shape[0]} classes, "
                       f"expected {expected_problems}.")
    _expect(arrays, "intercept_", [(n_problems,)], np.float64, "coef_")
    for name in ("coef_", "intercept_"):
        _expect_finite(arrays, name)
    if "feature_names_in_" in arrays:
        _expect(arrays, "feature_names_in_", [(n_features,)], None, "coef_")
    if fitted["n_features_in_"] != n_features:
        raise _Problem(f"n_features_in_={fitted['n_features_in_']} but coef_ has "
                       f"{n_features} columns.")
    kind.check(arrays, fitted, params)


def _expect(arrays, name, shapes, dtype, reference):
    array = arrays[name]
    if array.shape not in shapes:
        wanted = " or ".join(str(s) for s in shapes)
        raise _Problem(f"shape mismatch: {name} has shape {array.shape}, expected {wanted} "
                       f"to match {reference} {arrays[reference].shape}.")
    if dtype is not None and array.dtype != dtype:
        raise _Problem(f"{name} has dtype {array.dtype}, expected {np.dtype(dtype)}.")


def _expect_finite(arrays, name):
    if not np.isfinite(arrays[name]).all():
        raise _Problem(f"{name} holds NaN or infinite values: the model is broken; refit it.")


def _build(kind, params, arrays, fitted, object_arrays):
    known = kind.cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise _Problem(f"unknown parameter(s) {unknown} for {kind.cls.__name__}.")
    estimator = kind.cls(**params)
    try:
        _check_params(estimator)
    except (TypeError, ValueError) as exc:
        raise _Problem(f"invalid parameters: {exc}") from None
    for name in object_arrays:
        if name in arrays:
            arrays[name] = arrays[name].astype(object)
    for name in _SHARED_ARRAYS:
        setattr(estimator, name, arrays[name])
    kind.restore(estimator, arrays)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    if "feature_names_in_" in arrays:
        estimator.feature_names_in_ = arrays["feature_names_in_"].astype(object)
    return estimator


def _check_params(estimator):
    """Check the parameters of a storable estimator, all of them, before any fit."""
    _KINDS[type(estimator).__name__].check_params(estimator)


def _params_from_json(params):
    """Inverse of :func:`_params_to_json`."""
    return {name: _from_json(value, name) for name, value in params.items()}


def _from_json(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_from_json(item, f"{where}[{i}]") for i, item in enumerate(value)]
    pairs = value.get(_PAIRS) if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2
            and (pair[0] is None or isinstance(pair[0], (bool, int, float, str)))
            for pair in pairs):
        raise _Problem(f"parameter {where}={value!r} in {METADATA_MEMBER} is not a JSON value "
                       f"this format writes (dicts are {{{_PAIRS!r}: [[key, value], ...]}}).")
    return {key: _from_json(item, f"{where}[{key!r}]") for key, item in pairs}

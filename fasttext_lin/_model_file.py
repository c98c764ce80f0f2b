"""The model file format: one zip of ``.npy`` arrays and a JSON description, read without pickle.

:mod:`fasttext_lin.persist` maps an estimator to arrays and back; this module writes and
reads the file. Loading never executes code from the file: arrays are read with
``np.load(..., allow_pickle=False)``, and every array is checked against the metadata (shape,
dtype, SHA-256, the zip member's declared size) before any member is inflated.

The file
--------
A zip archive as :func:`numpy.savez_compressed` writes it (members deflated unless
``compress=False``): ``metadata.json`` (UTF-8 JSON, below), one ``<name>.npy`` member per
array, and ``extra/<name>.npy`` for the arrays stored beside the model. ``metadata.json``::

    {"format": "fasttext_lin-model", "format_version": 3, "package_version": "0.1.0",
     "estimator": "LinearClassifier",
     "params": {"loss": "hinge", ..., "class_weight": {"__pairs__": [[0, 1.0], [1, 3.0]]}},
     "fitted": {"n_iter_": 7, "t_": 2101, "n_features_in_": 20},
     "arrays": {"coef_": {"shape": [1, 20], "dtype": "<f8", "sha256": "9f86..."}, ...},
     "object_arrays": ["classes_"],
     "quantized": {},
     "extra": {}}

``estimator``, ``params``, ``fitted`` and ``object_arrays`` are the estimator's (see
:mod:`fasttext_lin.persist`). A dict value of ``params`` is stored as ``{"__pairs__": [[key,
value], ...]}`` so that its keys keep their type (``class_weight={0: 1.0}`` stays an int
key); a tuple comes back as a list (:func:`params_to_json`, :func:`params_from_json`).
``arrays`` lists every member but ``metadata.json``, ``extra/`` ones included.

``quantized`` says which arrays are stored in fewer bits: ``{"coef_": {"weights": "int8",
"dtype": "<f8"}}`` with ``coef_.npy`` int8 codes and ``coef_scale.npy`` (K,) float64,
finite, >= 0, each row's scale (the row is ``codes * scale``), or ``{"coef_": {"weights":
"float16", "dtype": "<f4"}}`` with ``coef_.npy`` float16. Reading gives ``coef_`` back in
``dtype``. Version 3 added ``quantized``; an older fasttext_lin refuses a newer file with a
request to upgrade.

Extra: data stored beside the model
-----------------------------------
``extra`` is a dict with two optional keys: ``"arrays"``, a dict of name -> ndarray
(bool, numbers, unicode or bytes; a name is letters, digits, ``_ . -``, with ``/`` to
namespace it), and ``"metadata"``, a dict of JSON values with ``str`` keys. The arrays are
checksummed and validated like the model's. A large vocabulary is best stored as one uint8
array of UTF-8 bytes plus offsets: a unicode array takes 4 bytes per character of its
longest string.

Errors
------
Writing: :class:`Problem` for values a model file cannot hold, which :func:`saving` turns
into ``ValueError("cannot save model to '<path>': <problem>")``. Reading:
``FileNotFoundError("model file not found: '<path>'")``, and :class:`ModelFileError` (a
``ValueError``) ``"cannot load model from '<path>': <problem>"`` for a truncated, corrupted
or foreign file.
"""

import hashlib
import json
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from ._io import atomic_writer

__all__ = ["EXTRA_PREFIX", "FORMAT", "FORMAT_VERSION", "METADATA_MEMBER", "WEIGHTS", "WHAT",
           "Declared", "ModelFile", "ModelFileError", "Problem", "describe", "loading",
           "open_model_file", "params_from_json", "params_to_json", "quantize", "require",
           "saving", "storable", "write_model_file"]

FORMAT = "fasttext_lin-model"
FORMAT_VERSION = 3
METADATA_MEMBER = "metadata.json"
EXTRA_PREFIX = "extra/"
WHAT = "model file"
# The stored types of quantized weights.
WEIGHTS = ("float16", "int8")

_SCALE = "coef_scale"
_STORABLE_KINDS = "biufUS"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
_ZIP_MAGIC = b"PK\x03\x04"
_MAX_METADATA_BYTES = 64 << 20
# numpy refuses .npy headers beyond 10000 bytes (max_header_size); with magic and length.
_MAX_NPY_HEADER = 10000 + 12
# Deflate cannot inflate beyond about 1032 bytes per compressed byte.
_MAX_DEFLATE_RATIO = 1032
_PAIRS = "__pairs__"
# What zipfile and numpy raise on damaged bytes (a flipped bit can turn a member "encrypted"
# (RuntimeError), an unknown compression (NotImplementedError) or a seek before the start
# (OSError)).
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, struct.error, KeyError, TypeError,
           ValueError, OSError, RuntimeError, NotImplementedError)


class ModelFileError(ValueError):
    """A model file that cannot be loaded: truncated, corrupted or not a fasttext_lin model."""


class Problem(Exception):
    """What is wrong with a model (to save) or a model file (to load); the caller adds the
    path (:func:`saving`, :func:`loading`)."""


class Declared(NamedTuple):
    """An array as metadata.json declares it: checked against the others before reading."""

    shape: tuple
    dtype: np.dtype


@contextmanager
def saving(path):
    """Turn a :class:`Problem` raised inside into ``ValueError("cannot save model to
    '<path>': <problem>")``."""
    try:
        yield
    except Problem as exc:
        raise ValueError(f"cannot save model to '{os.fspath(path)}': {exc}") from None


@contextmanager
def loading(path):
    """Turn a :class:`Problem` raised inside into a :class:`ModelFileError` naming ``path``."""
    try:
        yield
    except Problem as exc:
        raise ModelFileError(f"cannot load model from '{os.fspath(path)}': {exc}") from None


def require(mapping, key, kind, where=METADATA_MEMBER):
    """``mapping[key]``, checked to be a ``kind`` (an int is never a bool); raises
    :class:`Problem` naming ``where``."""
    if key not in mapping:
        raise Problem(f"{where} has no {key!r}.")
    value = mapping[key]
    # bool is an int in Python, never in a model file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Problem(f"{where}[{key!r}] is {value!r}, expected {kind.__name__}.")
    return value


# -- values -----------------------------------------------------------------------------------

def params_to_json(params):
    """Encode ``get_params()`` as JSON values; dicts become ``{"__pairs__": [[k, v], ...]}``.

    Raises :class:`Problem` for a value JSON cannot hold (a ``RandomState``, ...)."""
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
    raise Problem(
        f"parameter {where}={shown} is a {type(value).__name__}, which a model file cannot "
        "hold without pickle (JSON values only: None, bool, int, float, str, and lists and "
        "dicts of them); set it to such a value with set_params before save_model "
        "(e.g. random_state=0)."
    )


def params_from_json(params):
    """Inverse of :func:`params_to_json`; raises :class:`Problem` for a value it never
    writes."""
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
        raise Problem(f"parameter {where}={value!r} in {METADATA_MEMBER} is not a JSON value "
                      f"this format writes (dicts are {{{_PAIRS!r}: [[key, value], ...]}}).")
    return {key: _from_json(item, f"{where}[{key!r}]") for key, item in pairs}


def storable(name, value):
    """Return ``(array, was_object)``: ``value`` as a contiguous array storable without
    pickle (an object array of ``str`` as unicode); raises :class:`Problem`."""
    array = np.asarray(value)
    if array.dtype.kind == "O":
        items = array.ravel().tolist()
        if not all(isinstance(item, str) for item in items):
            kinds = sorted({type(item).__name__ for item in items})
            raise Problem(f"{name} is an object array holding {', '.join(kinds)}; only numbers "
                          "and strings can be stored (convert it to a numeric or str array).")
        text = np.array(items, dtype=str).reshape(array.shape)
        # Unicode arrays drop trailing NUL characters: refuse rather than change a label.
        if text.ravel().tolist() != items:
            raise Problem(f"{name} holds strings ending in NUL characters, which a unicode "
                          "array cannot hold.")
        return np.ascontiguousarray(text), True
    if array.dtype.kind not in _STORABLE_KINDS:
        raise Problem(f"{name} has dtype {array.dtype}; only bool, int, uint, float, unicode "
                      "and bytes arrays can be stored.")
    return np.ascontiguousarray(array), False


def describe(array):
    """The entry of ``array`` in metadata.json ``arrays``: shape, dtype and SHA-256."""
    return {"shape": list(array.shape), "dtype": array.dtype.str, "sha256": _sha256(array)}


def _sha256(array):
    return hashlib.sha256(array.reshape(-1).view(np.uint8)).hexdigest()


def _package_version():
    # Imported late: the package's __init__ may import this module.
    from . import __version__
    return __version__


# -- write ------------------------------------------------------------------------------------

def quantize(arrays, weights, prune):
    """Replace ``arrays["coef_"]`` by its ``weights`` codes (and ``coef_scale``), rows pruned
    at ``prune`` times their largest magnitude; return ``(quantized metadata, pruned)``,
    ``pruned`` the fraction of the weights that pruning set to zero."""
    coef = arrays["coef_"]
    magnitude = np.abs(coef)
    cut = magnitude <= prune * magnitude.max(axis=1, keepdims=True)
    pruned = float(np.count_nonzero(cut & (coef != 0)) / max(coef.size, 1))
    kept = np.where(cut, 0.0, coef).astype(np.float64)
    if weights == "float16":
        if np.abs(kept).max(initial=0.0) > np.finfo(np.float16).max:
            raise Problem(f"coef_ holds weights beyond float16's range "
                          f"({np.finfo(np.float16).max:g}); quantize with weights='int8'.")
        arrays["coef_"] = kept.astype(np.float16)
    else:
        scale = np.abs(kept).max(axis=1, initial=0.0) / 127.0
        codes = np.rint(kept / np.where(scale > 0, scale, 1.0)[:, None])
        arrays["coef_"] = np.clip(codes, -127, 127).astype(np.int8)
        arrays[_SCALE] = scale
    return {"coef_": {"weights": weights, "dtype": coef.dtype.str}}, pruned


def write_model_file(path, description, arrays, *, extra=None, quantized=None, compress=True):
    """Write one model file atomically.

    Parameters
    ----------
    path : str or os.PathLike
        A target :func:`~fasttext_lin._io.check_output_path` accepted.
    description : dict
        The estimator's entries of metadata.json: ``estimator``, ``params`` (JSON values),
        ``fitted`` and ``object_arrays``.
    arrays : dict of str -> ndarray
        The estimator's arrays, each as :func:`storable` gives it.
    extra : dict or None, default=None
        ``{"arrays": {name: ndarray}, "metadata": {json}}``, both keys optional.
    quantized : dict or None, default=None
        metadata.json ``quantized``, as :func:`quantize` returns it.
    compress : bool, default=True
        Deflate the members.

    Raises
    ------
    Problem
        For an ``extra`` a model file cannot hold; nothing is written then.
    """
    extra_arrays, extra_metadata = _check_extra(extra)
    arrays = {**arrays, **{EXTRA_PREFIX + name: a for name, a in extra_arrays.items()}}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION,
                "package_version": _package_version(), **description,
                "arrays": {name: describe(a) for name, a in arrays.items()},
                "quantized": quantized or {}, "extra": extra_metadata}
    blob = json.dumps(metadata, indent=1).encode("utf-8")
    with atomic_writer(path, what=WHAT) as fh:
        compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with zipfile.ZipFile(fh, "w", compression=compression, allowZip64=True) as archive:
            archive.writestr(METADATA_MEMBER, blob)
            for name, array in arrays.items():
                with archive.open(name + ".npy", "w", force_zip64=True) as member:
                    npy_format.write_array(member, array, allow_pickle=False)


def _check_extra(extra):
    if extra is None:
        return {}, {}
    if not isinstance(extra, Mapping):
        raise Problem(f"extra must be a dict with keys 'arrays' and 'metadata', got "
                      f"{type(extra).__name__}.")
    unknown = sorted(set(extra) - {"arrays", "metadata"}, key=str)
    if unknown:
        raise Problem(f"extra has unknown key(s) {unknown}; use 'arrays' and 'metadata'.")
    arrays, metadata = extra.get("arrays") or {}, extra.get("metadata") or {}
    if not isinstance(arrays, Mapping) or not isinstance(metadata, Mapping):
        raise Problem("extra['arrays'] and extra['metadata'] must be dicts.")
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise Problem(f"extra array name {name!r} is not letters, digits, '_', '.', '-' "
                          "in '/'-separated parts.")
        if not isinstance(value, np.ndarray):
            raise Problem(f"extra['arrays'][{name!r}] is a {type(value).__name__}, not an "
                          "ndarray.")
        checked[name], was_object = storable(f"extra['arrays'][{name!r}]", value)
        if was_object:
            raise Problem(f"extra['arrays'][{name!r}] is an object array; give a unicode "
                          "array (np.asarray(values, dtype=str)).")
    try:
        same = json.loads(json.dumps(metadata)) == metadata
    except (TypeError, ValueError) as exc:
        raise Problem(f"extra['metadata'] is not JSON-able: {exc}.") from None
    if not same:
        raise Problem("extra['metadata'] does not survive JSON unchanged (non-str dict keys "
                      "or tuples?); give str keys and lists.")
    return checked, dict(metadata)


# -- read -------------------------------------------------------------------------------------

@contextmanager
def open_model_file(path):
    """Open a model file and check its metadata; yield a :class:`ModelFile`.

    A :class:`Problem` raised inside the block becomes a :class:`ModelFileError` naming
    ``path``, and so does what zipfile, zlib and numpy raise on damaged bytes.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        ``"cannot load model from '<path>': <problem>"``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: '{path}'")
    # Opened outside the try: a permission error is not a damaged file.
    with open(path, "rb") as fh:
        head = fh.read(len(_ZIP_MAGIC))
    try:
        with loading(path):
            if head != _ZIP_MAGIC:
                raise Problem(f"not a zip archive, so not a fasttext_lin model file (it starts "
                              f"with {head!r}, a model file with {_ZIP_MAGIC!r}).")
            with np.load(path, allow_pickle=False) as npz:
                yield ModelFile(npz)
    except ModelFileError:
        raise
    except _DAMAGE as exc:
        kind = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
        raise ModelFileError(
            f"cannot load model from '{path}': the file is truncated or corrupted "
            f"({kind}: {exc})."
        ) from exc


class ModelFile:
    """An open model file: its metadata checked, its arrays not yet inflated.

    Attributes
    ----------
    metadata : dict
        metadata.json; the format entries are checked, the estimator's are not.
    version : int
        ``format_version``.
    declared : dict of str -> Declared
        The model's arrays (not the extra ones) as metadata.json declares them, a quantized
        one with the dtype it is read back in; every one has its member.
    """

    def __init__(self, npz):
        self._npz = npz
        names = npz.zip.namelist()
        if len(set(names)) != len(names):
            raise Problem("the archive holds a member twice.")
        self.metadata = _read_metadata(npz.zip, names)
        self.version = _check_format(self.metadata)
        self._specs = require(self.metadata, "arrays", dict)
        self._quantized = _check_quantized(
            require(self.metadata, "quantized", dict) if self.version >= 3 else {})
        _check_members(self._specs, names, self._quantized)
        self._declared = {name: _declared(name, spec) for name, spec in self._specs.items()}
        scale = {_SCALE} if self._quantized.get("coef_", ("",))[0] == "int8" else set()
        self.declared = {name: array for name, array in
                         _dequantized_shapes(self._declared, self._quantized).items()
                         if not name.startswith(EXTRA_PREFIX) and name not in scale}

    def read_arrays(self):
        """Inflate and check every array; return ``(arrays, extra)``: the model's arrays
        (quantized ones dequantized) and ``{"arrays": {...}, "metadata": {...}}``."""
        zip_file = self._npz.zip
        for name, array in self._declared.items():
            _check_member_size(zip_file.getinfo(name + ".npy"), array)
        arrays = {name: _read_array(self._npz, name, array, self._specs[name]["sha256"])
                  for name, array in self._declared.items()}
        _dequantize(arrays, self._quantized)
        extra = {"arrays": {name[len(EXTRA_PREFIX):]: arrays.pop(name) for name in list(arrays)
                            if name.startswith(EXTRA_PREFIX)},
                 "metadata": require(self.metadata, "extra", dict)}
        return arrays, extra


def _read_metadata(archive, names):
    if METADATA_MEMBER not in names:
        raise Problem(f"no {METADATA_MEMBER} member: not a fasttext_lin model file.")
    if archive.getinfo(METADATA_MEMBER).file_size > _MAX_METADATA_BYTES:
        raise Problem(f"{METADATA_MEMBER} is larger than {_MAX_METADATA_BYTES} bytes.")
    try:
        metadata = json.loads(archive.read(METADATA_MEMBER).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Problem(f"{METADATA_MEMBER} is not UTF-8 ({exc}).") from None
    except json.JSONDecodeError as exc:
        raise Problem(f"{METADATA_MEMBER} is not valid JSON ({exc}).") from None
    if not isinstance(metadata, dict):
        raise Problem(f"{METADATA_MEMBER} holds a {type(metadata).__name__}, not an object.")
    return metadata


def _check_format(metadata):
    """Check the format's name and version; return the version."""
    if metadata.get("format") != FORMAT:
        raise Problem(f"not a fasttext_lin model file (format {metadata.get('format')!r}, "
                      f"expected {FORMAT!r}).")
    version = require(metadata, "format_version", int)
    if version > FORMAT_VERSION:
        raise Problem(f"model file written by a newer fasttext_lin (format {version} > "
                      f"{FORMAT_VERSION}): upgrade fasttext_lin (this is "
                      f"{_package_version()}) to load it.")
    if version < 1:
        raise Problem(f"unknown format_version {version}.")
    require(metadata, "package_version", str)
    return version


def _check_quantized(quantized):
    """``quantized`` of metadata.json checked: {name: (weights, dtype)}."""
    checked = {}
    for name, spec in quantized.items():
        where = f"{METADATA_MEMBER} quantized[{name!r}]"
        if name != "coef_" or not isinstance(spec, dict):
            raise Problem(f"{where} is {spec!r}; only coef_ is quantized, as an object.")
        weights = require(spec, "weights", str, where)
        dtype = _dtype(require(spec, "dtype", str, where), where)
        if weights not in WEIGHTS or dtype not in (np.float32, np.float64):
            raise Problem(f"{where} is {spec!r}; expected weights in {list(WEIGHTS)} and "
                          "dtype float32 or float64.")
        checked[name] = (weights, dtype)
    return checked


def _check_members(specs, names, quantized):
    """Every listed array has its member and no member is unlisted; the int8 scale is there."""
    if quantized.get("coef_", ("",))[0] == "int8" and _SCALE not in specs:
        raise Problem(f"missing array {_SCALE!r} ({METADATA_MEMBER} does not list it).")
    for name in specs:
        if name.startswith(EXTRA_PREFIX) and not _NAME.fullmatch(name[len(EXTRA_PREFIX):]):
            raise Problem(f"unknown array {name!r} in {METADATA_MEMBER}.")
        if name + ".npy" not in names:
            raise Problem(f"missing array {name!r} (no member {name}.npy in the archive).")
    expected = {METADATA_MEMBER} | {name + ".npy" for name in specs}
    unexpected = sorted(set(names) - expected)
    if unexpected:
        raise Problem(f"unexpected member(s) {unexpected} (not listed in {METADATA_MEMBER}).")


def _declared(name, spec):
    """The shape and dtype ``spec`` (an entry of metadata.json arrays) declares, checked."""
    where = f"{METADATA_MEMBER} arrays[{name!r}]"
    if not isinstance(spec, dict):
        raise Problem(f"{where} is {spec!r}, expected an object.")
    shape = require(spec, "shape", list, where)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise Problem(f"{where}['shape'] is {shape!r}, expected non-negative ints.")
    require(spec, "sha256", str, where)
    return Declared(tuple(shape), _dtype(require(spec, "dtype", str, where), where))


def _dequantized_shapes(declared, quantized):
    """``declared`` with a quantized array's codes checked and given its loaded dtype."""
    shapes = dict(declared)
    for name, (weights, dtype) in quantized.items():
        codes = declared.get(name)
        if codes is None:
            continue  # the estimator's check names the missing array
        if codes.dtype != np.dtype(weights):
            raise Problem(f"{name} is quantized as {weights} but stored as {codes.dtype}.")
        shapes[name] = Declared(codes.shape, dtype)
        if weights == "int8":
            rows = codes.shape[:1]
            if declared[_SCALE] != (rows, np.dtype(np.float64)):
                raise Problem(f"{_SCALE} has shape {declared[_SCALE].shape} and dtype "
                              f"{declared[_SCALE].dtype}, expected {rows} float64 to match "
                              f"{name} {codes.shape}.")
    return shapes


def _check_member_size(info, array):
    """Refuse a member whose declared uncompressed size its shape cannot explain, or that
    its compressed bytes cannot inflate to, before it is inflated."""
    data = array.dtype.itemsize * math.prod(array.shape)
    size = info.file_size
    if not data < size <= data + _MAX_NPY_HEADER:
        raise Problem(f"{info.filename} declares {size} bytes uncompressed, but its shape "
                      f"{array.shape} and dtype {array.dtype} take {data} bytes and a "
                      "header: the file is corrupted.")
    stored = info.compress_type == zipfile.ZIP_STORED
    if size > (1 if stored else _MAX_DEFLATE_RATIO) * info.compress_size + (0 if stored else 64):
        raise Problem(f"{info.filename} declares {size} bytes uncompressed from "
                      f"{info.compress_size} stored bytes, more than they can hold: the file "
                      "is corrupted.")


def _read_array(npz, name, declared, digest):
    """Read one member after checking its .npy header and size against ``declared``."""
    shape, dtype = declared
    member = name + ".npy"
    with npz.zip.open(member) as fh:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            header = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            header = npy_format.read_array_header_2_0(fh)
        else:
            raise Problem(f"{member} is .npy version {version}, expected (1, 0) or (2, 0).")
        data_start = fh.tell()
    if header[0] != shape or header[2] != dtype:
        raise Problem(f"array {name!r} has shape {header[0]} and dtype {header[2]} in "
                      f"{member}, but {METADATA_MEMBER} says {shape} and {dtype}.")
    expected_size = data_start + dtype.itemsize * math.prod(shape)
    size = npz.zip.getinfo(member).file_size
    if size != expected_size:
        raise Problem(f"{member} holds {size} bytes, expected "
                      f"{expected_size} for shape {shape} and dtype {dtype}.")
    array = npz[name]
    if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
        raise Problem(f"{member} does not hold a {dtype} array of shape {shape}.")
    array = np.ascontiguousarray(array)
    if _sha256(array) != digest:
        raise Problem(f"checksum mismatch for array {name!r}: the file is corrupted.")
    return array


def _dequantize(arrays, quantized):
    """Replace the quantized arrays of ``arrays`` by their values, in their saved dtype."""
    for name, (weights, dtype) in quantized.items():
        codes = arrays[name]
        if weights == "float16":
            arrays[name] = codes.astype(dtype)
            continue
        scale = arrays.pop(_SCALE)
        if not (np.isfinite(scale).all() and (scale >= 0).all()):
            raise Problem(f"{_SCALE} holds a negative, NaN or infinite scale: the file is "
                          "corrupted.")
        arrays[name] = (codes * scale[:, None]).astype(dtype)


def _dtype(text, where):
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        raise Problem(f"{where}['dtype'] is {text!r}, not a NumPy dtype.") from None
    if dtype.kind not in _STORABLE_KINDS or dtype.names is not None:
        raise Problem(f"{where}['dtype'] is {text!r}; a model file holds only bool, int, "
                      "uint, float, unicode and bytes arrays.")
    return dtype

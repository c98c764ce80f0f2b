"""Save and load models without pickle: one zip of ``.npy`` arrays and a JSON description.

Two estimators can be stored: :class:`~fasttext_lin.LinearClassifier` and
:class:`~fasttext_lin.NBSVM`. A file holds what prediction needs (the solution ``coef_``,
``intercept_``, the classes, a calibration); a ``LinearClassifier``'s SGD state only when
asked (``save_model(..., state=True)``). Loading never executes code from the file: arrays are
read with ``np.load(..., allow_pickle=False)``, the estimator class is looked up in a fixed
table (never imported by name), and every array is checked against the metadata (shape, dtype,
SHA-256, the zip member's declared size) and the shapes against each other before any member
is inflated.

File layout (``format_version`` 3)
----------------------------------
A zip archive as :func:`numpy.savez_compressed` writes it (members deflated unless
``compress=False``), with the members::

    metadata.json          UTF-8 JSON, below
    coef_.npy              (K, d) float32 or float64, finite; K = 1 for two classes, else
                           n_classes; int8 or float16 in a quantized file (below)
    intercept_.npy         (K,) float64, finite
    classes_.npy           (n_classes,) bool, int, float, unicode or bytes (never object)
    feature_names_in_.npy  (d,) unicode; only for a model fitted on named columns
    extra/<name>.npy       the arrays given in ``extra["arrays"]``

and the estimator's own arrays. A ``LinearClassifier``::

    calibration_.npy       (K, 2) float64, finite: the Platt sigmoids' slopes and
                           intercepts; present exactly when the model was fitted with
                           probability=True and a loss without probabilities of its own
    sgd_v.npy              (K, d) coef_'s dtype: the unscaled SGD weights   } only with
    sgd_u.npy              (K, d) float64, or (K, 0) when never averaged    } state=True,
    sgd_state.npy          (K, 6) float64: the kernel's scalars              } all three

but for ``loss="softmax"``, whose one model of all classes keeps feature-major weights and
one state row per class (two for two classes, although coef_ then has one row)::

    sgd_v.npy              (d, n_classes) coef_'s dtype
    sgd_u.npy              (d, n_classes) float64, or (d, 0) when never averaged
    sgd_state.npy          (n_classes, 6) float64

An ``NBSVM``::

    ratios_.npy            (K, d) float64, finite: the log-count ratios of each model

A ``LinearClassifier`` loaded without its SGD state continues from its solution:
:meth:`partial_fit` and a ``warm_start`` :meth:`fit` start from ``coef_`` and ``intercept_``
(for a two-class softmax model, the classes' weights ``-coef_ / 2`` and ``coef_ / 2``), with
the step count ``t_`` kept and the averaging restarted, so that after
:meth:`partial_fit` an averaged model's ``coef_`` averages the new steps only. With the state,
:meth:`partial_fit` continues exactly as the saved model would have.

``metadata.json``::

    {"format": "fasttext_lin-model", "format_version": 3, "package_version": "0.1.0",
     "estimator": "LinearClassifier",
     "params": {"loss": "hinge", ..., "class_weight": {"__pairs__": [[0, 1.0], [1, 3.0]]}},
     "fitted": {"n_iter_": 7, "t_": 2101, "n_features_in_": 20},
     "arrays": {"coef_": {"shape": [1, 20], "dtype": "<f8", "sha256": "9f86..."}, ...},
     "object_arrays": ["classes_"],
     "quantized": {},
     "extra": {}}

``fitted`` holds the estimator's integer attributes: ``n_iter_``, ``t_`` and
``n_features_in_`` for a ``LinearClassifier``, ``n_iter_`` and ``n_features_in_`` for an
``NBSVM``. ``params`` is ``get_params()``; a dict value is stored as ``{"__pairs__": [[key, value],
...]}`` so that its keys keep their type (``class_weight={0: 1.0}`` stays an int key), a
tuple comes back as a list. ``object_arrays`` names the arrays that were object arrays of
``str`` and are stored as unicode (they come back as object arrays).

A file written by :func:`quantize_model` stores ``coef_`` in fewer bits and says so in
``quantized``: ``{"coef_": {"weights": "int8", "dtype": "<f8"}}`` with ``coef_.npy`` int8
codes and ``coef_scale.npy`` (K,) float64, finite, >= 0, each row's scale (the row is
``codes * scale``), or ``{"coef_": {"weights": "float16", "dtype": "<f4"}}`` with
``coef_.npy`` float16. :func:`load_model` gives back ``coef_`` in ``dtype``.

Version 3 made the SGD state optional and added ``quantized``; version 2 added the
``LinearClassifier`` parameter ``probability`` and its ``calibration_.npy``. Files of
versions 1 and 2 (which always hold the SGD state) still load, version 1 as
``probability=False`` models; an older fasttext_lin refuses a newer file with a request to
upgrade.

Extra: data stored beside the model
-----------------------------------
``extra`` is a dict with two optional keys: ``"arrays"``, a dict of name -> ndarray
(bool, numbers, unicode or bytes; a name is letters, digits, ``_ . -``, with ``/`` to
namespace it), and ``"metadata"``, a dict of JSON values with ``str`` keys. The arrays are
checksummed and validated like the model's. ``load_model(path, return_extra=True)``
gives back ``{"arrays": {...}, "metadata": {...}}`` (both empty if nothing was stored).
A featurizer stores itself under its own namespace ``featurizer`` (arrays
``featurizer/<name>``, ``extra["metadata"]["featurizer"]``; see
:mod:`fasttext_lin.text_model`) and rebuilds itself from them with :func:`_params_from_json`.
A large vocabulary is best stored as one uint8 array of UTF-8 bytes plus offsets: a unicode
array takes 4 bytes per character of its longest string.

Errors
------
``save_model``: ``ValueError("cannot save model to '<path>': <problem>")`` for values a
model file cannot hold, and :class:`~fasttext_lin._io.OutputPathError` (a ``ValueError``)
for a target that is not a regular file (a device, a FIFO, a folder); nothing is written
(an existing file at the path is untouched). ``load_model``:
``FileNotFoundError("model file not found: '<path>'")``, and :class:`ModelFileError` (a
``ValueError``) ``"cannot load model from '<path>': <problem>"`` for a truncated,
corrupted or foreign file.
"""

import hashlib
import json
import math
import numbers
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from numpy.lib import format as _npy
from sklearn.utils.validation import check_is_fitted

from . import _sgd_kernels as K
from ._io import atomic_writer, check_output_path
from .linear_model import LinearClassifier, _state_class
from .nbsvm import NBSVM

__all__ = ["ModelFileError", "WEIGHTS", "load_model", "quantize_model", "save_model"]

FORMAT = "fasttext_lin-model"
FORMAT_VERSION = 3
METADATA_MEMBER = "metadata.json"
EXTRA_PREFIX = "extra/"
WHAT = "model file"
# The stored types of quantize_model's weights.
WEIGHTS = ("float16", "int8")

_SHARED_ARRAYS = ("coef_", "intercept_", "classes_")
_OPTIONAL_ARRAYS = ("feature_names_in_",)
_STATE_ARRAYS = ("sgd_v", "sgd_u", "sgd_state")
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


class ModelFileError(ValueError):
    """A model file that cannot be loaded: truncated, corrupted or not a fasttext_lin model."""


class _Problem(Exception):
    """What is wrong with a model (to save) or a model file (to load); the caller adds the path."""


class _Declared(NamedTuple):
    """An array as metadata.json declares it: checked against the others before reading."""

    shape: tuple
    dtype: np.dtype


# -- the estimators a file may hold -----------------------------------------------------------

class _Kind(NamedTuple):
    """What one estimator class stores beyond the shared arrays, and how it comes back."""

    cls: type
    arrays: tuple  # its own arrays, all required
    optional: tuple  # its own arrays that a fitted estimator may lack
    state: tuple  # its SGD state: all stored with state=True, or none
    fitted: tuple  # its int fitted attributes, in metadata "fitted"
    own_arrays: Callable  # (estimator, state) -> {name: value} of its own arrays
    check: Callable  # (arrays, params) -> None: shapes and dtypes against coef_; raises _Problem
    restore: Callable  # (estimator, arrays) -> None: sets the fitted state; raises _Problem
    check_params: Callable  # estimator -> None: raises TypeError or ValueError


def _linear_arrays(est, state):
    arrays = {}
    if state:
        if not hasattr(est, "_sgd"):
            raise _Problem("the estimator has no SGD state (_sgd) to store: fit it with fit "
                           "or partial_fit, or save it with state=False.")
        arrays.update(sgd_v=est._sgd.v, sgd_u=est._sgd.u, sgd_state=est._sgd.state)
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


def _check_linear(arrays, params):
    coef = arrays["coef_"]
    # The parameters' values (the loss, ...) are checked once the estimator is built.
    _check_calibration(LinearClassifier(loss=params.get("loss", "hinge"),
                                        probability=params.get("probability", False)),
                       "calibration_" in arrays)
    if "calibration_" in arrays:
        _expect(arrays, "calibration_", [(coef.shape[0], 2)], np.float64, "coef_")
    if "sgd_v" in arrays:
        v_shape, state_shape = _state_class(params.get("loss")).shapes(
            arrays["classes_"].shape[0], coef.shape[1])
        _expect(arrays, "sgd_v", [v_shape], coef.dtype, "coef_")
        _expect(arrays, "sgd_u", [v_shape, (v_shape[0], 0)], np.float64, "coef_")
        _expect(arrays, "sgd_state", [state_shape], np.float64, "coef_")


def _restore_linear(est, arrays):
    if "calibration_" in arrays:
        _expect_finite(arrays, "calibration_")
        est.calibration_ = arrays["calibration_"]
    if "sgd_v" not in arrays:
        est._sgd = _state_from_solution(est, arrays["coef_"], arrays["intercept_"])
        return
    t = int(arrays["sgd_state"][0, K.T])
    if est.t_ != t:
        raise _Problem(f"t_={est.t_} but the SGD state says {t}.")
    est._sgd = _state_class(est.loss)(arrays["sgd_v"], arrays["sgd_u"], arrays["sgd_state"])


def _state_from_solution(est, coef, intercept):
    """An SGD state that starts from ``coef`` and ``intercept``: the step count ``t_`` kept,
    no averaging yet."""
    n_classes = est.classes_.shape[0]
    sgd = _state_class(est.loss).zeros(n_classes, coef.shape[1], coef.dtype, False)
    if est.loss == "softmax" and n_classes == 2:
        # coef_ is w_1 - w_0: the L2-smallest pair of class weights giving it.
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept, intercept] / 2
    sgd.set_solution(coef, intercept)
    sgd.state[:, K.T] = est.t_
    return sgd


def _check_nbsvm(arrays, params):
    _expect(arrays, "ratios_", [arrays["coef_"].shape], np.float64, "coef_")


def _restore_nbsvm(est, arrays):
    _expect_finite(arrays, "ratios_")
    est.ratios_ = arrays["ratios_"]


def _check_nbsvm_params(est):
    est._check_params()
    # NBSVM hands these to the LinearClassifier of each class, which checks them at fit:
    # a file must not carry values that only fail at the next fit.
    LinearClassifier(loss=est.loss, C=est.C, average=est.average)._check_params()


# The only classes a file may name: never import a class by a name read from a file.
_KINDS = {
    "LinearClassifier": _Kind(LinearClassifier, (), ("calibration_",), _STATE_ARRAYS,
                              ("n_iter_", "t_", "n_features_in_"), _linear_arrays,
                              _check_linear, _restore_linear, LinearClassifier._check_params),
    "NBSVM": _Kind(NBSVM, ("ratios_",), (), (), ("n_iter_", "n_features_in_"),
                   lambda est, state: {"ratios_": est.ratios_}, _check_nbsvm, _restore_nbsvm,
                   _check_nbsvm_params),
}


# -- save -------------------------------------------------------------------------------------

def save_model(path, estimator, extra=None, *, compress=True, state=False):
    """Write a fitted estimator (and optional extra data) to one file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (by convention ``.npz``); replaced if it exists, refused if it is
        not a regular file (a device, a FIFO, a folder).
    estimator : LinearClassifier or NBSVM
        A fitted estimator.
    extra : dict or None, default=None
        ``{"arrays": {name: ndarray}, "metadata": {json}}``, both keys optional: data
        stored beside the model (a featurizer's vocabulary and parameters); see the module
        docstring.
    compress : bool, default=True
        Deflate the members (smaller, a little slower to write and read).
    state : bool, default=False
        Also store a ``LinearClassifier``'s SGD state, so that :meth:`partial_fit` after
        :func:`load_model` continues exactly as it would have; without it, a loaded model
        continues from its solution (see the module docstring). An ``NBSVM`` has none.

    Raises
    ------
    TypeError
        If ``estimator`` is not a :class:`LinearClassifier` or an :class:`NBSVM`.
    ValueError
        If it is not fitted or holds a value a model file cannot hold without pickle
        (e.g. ``random_state`` a ``RandomState``), or ``path`` cannot be written; the
        message names the value and the fix.
    """
    _save(path, estimator, extra, compress=compress, state=state)


def _save(path, estimator, extra, *, compress=True, state=False, weights=None, prune=0.0):
    """:func:`save_model`, with ``coef_`` quantized to ``weights`` if given; return the
    fraction of the weights that pruning set to zero."""
    path = os.fspath(path)
    kind = _KINDS.get(type(estimator).__name__)
    if kind is None or type(estimator) is not kind.cls:
        raise TypeError(
            f"save_model stores {' and '.join(_KINDS)} only; got {type(estimator).__name__} "
            "(a subclass would come back as its base class)."
        )
    check_is_fitted(estimator)
    check_output_path(path, what=WHAT)
    try:
        arrays, object_arrays = _estimator_arrays(estimator, kind, state)
        quantized, pruned = _quantize(arrays, weights, prune) if weights else ({}, 0.0)
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
            "quantized": quantized,
            "extra": extra_metadata,
        }
        blob = json.dumps(metadata, indent=1).encode("utf-8")
    except _Problem as exc:
        raise ValueError(f"cannot save model to '{path}': {exc}") from None
    with atomic_writer(path, what=WHAT) as fh:
        _write_zip(fh, blob, arrays, compress)
    return pruned


def _quantize(arrays, weights, prune):
    """Replace ``arrays["coef_"]`` by its ``weights`` codes (and ``coef_scale``), rows pruned
    at ``prune`` times their largest magnitude; return ``(quantized metadata, pruned)``."""
    coef = arrays["coef_"]
    magnitude = np.abs(coef)
    cut = magnitude <= prune * magnitude.max(axis=1, keepdims=True)
    pruned = float(np.count_nonzero(cut & (coef != 0)) / max(coef.size, 1))
    kept = np.where(cut, 0.0, coef).astype(np.float64)
    if weights == "float16":
        if np.abs(kept).max(initial=0.0) > np.finfo(np.float16).max:
            raise _Problem(f"coef_ holds weights beyond float16's range "
                           f"({np.finfo(np.float16).max:g}); quantize with weights='int8'.")
        arrays["coef_"] = kept.astype(np.float16)
    else:
        scale = np.abs(kept).max(axis=1, initial=0.0) / 127.0
        codes = np.rint(kept / np.where(scale > 0, scale, 1.0)[:, None])
        arrays["coef_"] = np.clip(codes, -127, 127).astype(np.int8)
        arrays[_SCALE] = scale
    return {"coef_": {"weights": weights, "dtype": coef.dtype.str}}, pruned


def quantize_model(source, output, *, weights="float16", prune=0.0):
    """Write a smaller copy of a model file, its weights stored in fewer bits.

    :func:`load_model` (and :func:`~fasttext_lin.text_model.load_text_model` for a text
    model) read the copy like any model file, with ``coef_`` dequantized into the saved
    model's dtype. The copy holds no SGD state (see :func:`save_model`).

    Parameters
    ----------
    source : str or os.PathLike
        A model file of :func:`save_model` or of
        :func:`~fasttext_lin.text_model.save_text_model`.
    output : str or os.PathLike
        The file to write; not ``source``, nor a device, a FIFO or a folder.
    weights : {'float16', 'int8'}, default='float16'
        'float16': half-precision weights (the predictions of the full model, but for
        scores within float16's rounding of zero); 'int8': each row of ``coef_`` as int8
        codes times one float64 scale (its largest magnitude / 127, symmetric): smaller,
        and more predictions move.
    prune : float in [0, 1), default=0.0
        First set to zero the weights with ``|w| <= prune * max|w|`` of their row.

    Returns
    -------
    dict
        ``{"bytes_before": int, "bytes_after": int, "weights": str, "pruned": float}``:
        the two files' sizes, ``weights``, and the fraction of the weights pruning set to
        zero.

    Raises
    ------
    ValueError
        For a bad ``weights`` or ``prune``, an ``output`` that cannot be written (an
        :class:`~fasttext_lin._io.OutputPathError`), or a ``source`` that is not a model
        file (a :class:`ModelFileError`).
    FileNotFoundError
        If ``source`` does not exist.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"quantize_model: weights={weights!r} is invalid; expected one of "
                         f"{', '.join(map(repr, WEIGHTS))}.")
    if (not isinstance(prune, numbers.Real) or isinstance(prune, bool)
            or not 0.0 <= prune < 1.0):
        raise ValueError(f"quantize_model: prune={prune!r} is invalid; expected a number in "
                         "[0, 1) (e.g. 0.01 zeroes the weights below 1% of their row's "
                         "largest).")
    check_output_path(output, inputs=[source], what=WHAT)
    estimator, extra = load_model(source, return_extra=True)
    if "featurizer" in extra["metadata"]:
        # Imported late: text_model imports this module. Rewrites an older file's
        # vocabulary in the current layout.
        from .text_model import _current_extra
        extra = _current_extra(extra, estimator, source)
    pruned = _save(output, estimator, extra, weights=weights, prune=float(prune))
    return {"bytes_before": os.path.getsize(source), "bytes_after": os.path.getsize(output),
            "weights": weights, "pruned": pruned}


def _estimator_arrays(est, kind, state):
    stored = set(_SHARED_ARRAYS + _OPTIONAL_ARRAYS + kind.arrays + kind.optional + kind.fitted)
    unknown = sorted(name for name in vars(est)
                     if name.endswith("_") and not name.startswith("_") and name not in stored)
    if unknown:
        # A fitted attribute added to the estimator would otherwise be dropped silently.
        raise _Problem(f"the {kind.cls.__name__} has fitted attribute(s) {unknown} that "
                       "save_model does not know how to store.")
    arrays, object_arrays = {}, []
    named = {name: getattr(est, name) for name in _SHARED_ARRAYS}
    named.update(kind.own_arrays(est, state))
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


# -- write ------------------------------------------------------------------------------------

def _write_zip(fh, metadata_blob, arrays, compress):
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, "w", compression=compression, allowZip64=True) as archive:
        archive.writestr(METADATA_MEMBER, metadata_blob)
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                _npy.write_array(member, array, allow_pickle=False)


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
        Fitted: predictions equal the saved model's (a quantized file's: those of its
        dequantized ``coef_``). A ``LinearClassifier`` saved with ``state=True``
        continues in :meth:`partial_fit` as it would have; one saved without continues
        from its solution, with the averaging restarted (see the module docstring).
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
    kind, version = _check_header(metadata)
    specs = _require(metadata, "arrays", dict)
    quantized = _check_quantized(_require(metadata, "quantized", dict) if version >= 3 else {})
    _check_members(specs, names, kind, version, quantized)
    declared = {name: _declared(name, spec) for name, spec in specs.items()}
    fitted = _check_fitted(_require(metadata, "fitted", dict), kind)
    params = _params_from_json(_require(metadata, "params", dict))
    # Every shape against the others and every member's declared size against its shape,
    # before any member is inflated.
    _check_shapes(_dequantized_shapes(declared, quantized), fitted, params, kind)
    for name, array in declared.items():
        _check_member_size(npz.zip.getinfo(name + ".npy"), array)
    arrays = {name: _read_array(npz, name, array, specs[name]["sha256"])
              for name, array in declared.items()}
    _dequantize(arrays, quantized)
    _check_values(arrays)
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
    """Check format name and version; return the :class:`_Kind` of the estimator it names
    and the version."""
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
    return _KINDS[name], version


def _require(mapping, key, kind, where=METADATA_MEMBER):
    if key not in mapping:
        raise _Problem(f"{where} has no {key!r}.")
    value = mapping[key]
    # bool is an int in Python, never in a model file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Problem(f"{where}[{key!r}] is {value!r}, expected {kind.__name__}.")
    return value


def _check_quantized(quantized):
    """``quantized`` of metadata.json checked: {name: (weights, dtype)}."""
    checked = {}
    for name, spec in quantized.items():
        where = f"{METADATA_MEMBER} quantized[{name!r}]"
        if name != "coef_" or not isinstance(spec, dict):
            raise _Problem(f"{where} is {spec!r}; only coef_ is quantized, as an object.")
        weights = _require(spec, "weights", str, where)
        dtype = _dtype(_require(spec, "dtype", str, where), where)
        if weights not in WEIGHTS or dtype not in (np.float32, np.float64):
            raise _Problem(f"{where} is {spec!r}; expected weights in {list(WEIGHTS)} and "
                           "dtype float32 or float64.")
        checked[name] = (weights, dtype)
    return checked


def _check_members(specs, names, kind, version, quantized):
    required = _SHARED_ARRAYS + kind.arrays
    # Files before version 3 always hold the SGD state.
    required += kind.state if version < 3 else ()
    scale = (_SCALE,) if quantized.get("coef_", ("",))[0] == "int8" else ()
    for name in required + scale:
        if name not in specs:
            raise _Problem(f"missing array {name!r} ({METADATA_MEMBER} does not list it).")
    state = [name for name in kind.state if name in specs]
    if state and len(state) != len(kind.state):
        raise _Problem(f"the file holds part of the SGD state ({', '.join(state)}), not all "
                       f"of {', '.join(kind.state)}.")
    known = required + scale + _OPTIONAL_ARRAYS + kind.optional + kind.state
    for name in specs:
        extra_name = name[len(EXTRA_PREFIX):] if name.startswith(EXTRA_PREFIX) else None
        if name not in known and not (extra_name and _NAME.fullmatch(extra_name)):
            raise _Problem(f"unknown array {name!r} in {METADATA_MEMBER}.")
        if name + ".npy" not in names:
            raise _Problem(f"missing array {name!r} (no member {name}.npy in the archive).")
    expected = {METADATA_MEMBER} | {name + ".npy" for name in specs}
    unexpected = sorted(set(names) - expected)
    if unexpected:
        raise _Problem(f"unexpected member(s) {unexpected} (not listed in {METADATA_MEMBER}).")


def _declared(name, spec):
    """The shape and dtype ``spec`` (an entry of metadata.json arrays) declares, checked."""
    where = f"{METADATA_MEMBER} arrays[{name!r}]"
    if not isinstance(spec, dict):
        raise _Problem(f"{where} is {spec!r}, expected an object.")
    shape = _require(spec, "shape", list, where)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise _Problem(f"{where}['shape'] is {shape!r}, expected non-negative ints.")
    _require(spec, "sha256", str, where)
    return _Declared(tuple(shape), _dtype(_require(spec, "dtype", str, where), where))


def _dequantized_shapes(declared, quantized):
    """``declared`` with a quantized array's codes checked and given its loaded dtype."""
    shapes = dict(declared)
    for name, (weights, dtype) in quantized.items():
        codes = declared[name]
        if codes.dtype != np.dtype(weights):
            raise _Problem(f"{name} is quantized as {weights} but stored as {codes.dtype}.")
        shapes[name] = _Declared(codes.shape, dtype)
        if weights == "int8":
            rows = codes.shape[:1]
            if declared[_SCALE] != (rows, np.dtype(np.float64)):
                raise _Problem(f"{_SCALE} has shape {declared[_SCALE].shape} and dtype "
                               f"{declared[_SCALE].dtype}, expected {rows} float64 to match "
                               f"{name} {codes.shape}.")
    return shapes


def _check_member_size(info, array):
    """Refuse a member whose declared uncompressed size its shape cannot explain, or that
    its compressed bytes cannot inflate to, before it is inflated."""
    data = array.dtype.itemsize * math.prod(array.shape)
    size = info.file_size
    if not data < size <= data + _MAX_NPY_HEADER:
        raise _Problem(f"{info.filename} declares {size} bytes uncompressed, but its shape "
                       f"{array.shape} and dtype {array.dtype} take {data} bytes and a "
                       "header: the file is corrupted.")
    stored = info.compress_type == zipfile.ZIP_STORED
    if size > (1 if stored else _MAX_DEFLATE_RATIO) * info.compress_size + (0 if stored else 64):
        raise _Problem(f"{info.filename} declares {size} bytes uncompressed from "
                       f"{info.compress_size} stored bytes, more than they can hold: the file "
                       "is corrupted.")


def _read_array(npz, name, declared, digest):
    """Read one member after checking its .npy header and size against ``declared``."""
    shape, dtype = declared
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
    expected_size = data_start + dtype.itemsize * math.prod(shape)
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


def _dequantize(arrays, quantized):
    """Replace the quantized arrays of ``arrays`` by their values, in their saved dtype."""
    for name, (weights, dtype) in quantized.items():
        codes = arrays[name]
        if weights == "float16":
            arrays[name] = codes.astype(dtype)
            continue
        scale = arrays.pop(_SCALE)
        if not (np.isfinite(scale).all() and (scale >= 0).all()):
            raise _Problem(f"{_SCALE} holds a negative, NaN or infinite scale: the file is "
                           "corrupted.")
        arrays[name] = (codes * scale[:, None]).astype(dtype)


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


def _check_shapes(arrays, fitted, params, kind):
    """Check the arrays' shapes and dtypes (arrays, or as declared) against each other and
    the fitted scalars."""
    coef, classes = arrays["coef_"], arrays["classes_"]
    if len(coef.shape) != 2 or coef.dtype not in (np.float32, np.float64):
        raise _Problem(f"coef_ has shape {coef.shape} and dtype {coef.dtype}, expected a 2-D "
                       "float32 or float64 array.")
    n_problems, n_features = coef.shape
    if len(classes.shape) != 1 or classes.shape[0] < 2:
        raise _Problem(f"classes_ has shape {classes.shape}, expected (n_classes,) with "
                       "n_classes >= 2.")
    expected_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
    if n_problems != expected_problems:
        raise _Problem(f"coef_ has {n_problems} row(s) for {classes.shape[0]} classes, "
                       f"expected {expected_problems}.")
    _expect(arrays, "intercept_", [(n_problems,)], np.float64, "coef_")
    if "feature_names_in_" in arrays:
        _expect(arrays, "feature_names_in_", [(n_features,)], None, "coef_")
    if fitted["n_features_in_"] != n_features:
        raise _Problem(f"n_features_in_={fitted['n_features_in_']} but coef_ has "
                       f"{n_features} columns.")
    kind.check(arrays, params)


def _check_values(arrays):
    """Check the shared arrays' values (the estimator's own are checked as it is restored)."""
    if np.unique(arrays["classes_"]).shape[0] != arrays["classes_"].shape[0]:
        raise _Problem("classes_ holds a class twice.")
    for name in ("coef_", "intercept_"):
        _expect_finite(arrays, name)


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
    for name, value in fitted.items():
        setattr(estimator, name, value)
    kind.restore(estimator, arrays)
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

"""Save and load models without pickle: an estimator to its arrays and back.

Two estimators can be stored: :class:`~fasttext_lin.LinearClassifier` and
:class:`~fasttext_lin.NBSVM`. A file holds what prediction needs (the solution ``coef_``,
``intercept_``, the classes, a calibration); a ``LinearClassifier``'s SGD state only when
asked (``save_model(..., state=True)``). The file itself (one zip of ``.npy`` arrays and a
``metadata.json``, quantized weights, extra data, the checks of every member before it is
inflated) is :mod:`fasttext_lin._model_file`'s. This module maps an estimator to its arrays
and back: the estimator class is looked up in a fixed table (never imported by name), and the
arrays' shapes are checked against each other before any member is inflated.

Arrays (``format_version`` 3)
-----------------------------
::

    coef_.npy              (K, d) float32 or float64, finite; K = 1 for two classes, else
                           n_classes; int8 or float16 in a quantized file
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

In ``metadata.json``, ``estimator`` is the class name, ``params`` its ``get_params()``, and
``fitted`` holds its integer attributes: ``n_iter_``, ``t_`` and ``n_features_in_`` for a
``LinearClassifier``, ``n_iter_`` and ``n_features_in_`` for an ``NBSVM``.
``object_arrays`` names the arrays that were object arrays of ``str`` and are stored as
unicode (they come back as object arrays).

Version 3 made the SGD state optional and added quantized weights
(:func:`fasttext_lin.quantize.quantize_model`);
version 2 added the ``LinearClassifier`` parameter ``probability`` and its
``calibration_.npy``. Files of versions 1 and 2 (which always hold the SGD state) still
load, version 1 as ``probability=False`` models.

``load_model(path, return_extra=True)`` gives back the extra data ``{"arrays": {...},
"metadata": {...}}`` (both empty if nothing was stored). A featurizer stores itself under
its own namespace ``featurizer`` (see :mod:`fasttext_lin.text_model`).

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

import numbers
import os
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._calibration import calibrates
from ._io import check_output_path
from ._model_file import (
    FORMAT_VERSION,
    METADATA_MEMBER,
    WEIGHTS,
    WHAT,
    ModelFileError,
    open_model_file,
    params_from_json,
    params_to_json,
    quantize,
    require,
    saving,
    storable,
    write_model_file,
)
from ._model_file import Problem as _Problem
from ._state import state_class
from .linear_model import LinearClassifier
from .nbsvm import NBSVM

__all__ = ["FORMAT_VERSION", "ModelFileError", "WEIGHTS", "check_quantization", "load_model",
           "save_model"]

_SHARED_ARRAYS = ("coef_", "intercept_", "classes_")
_OPTIONAL_ARRAYS = ("feature_names_in_",)
# The SGD state's arrays (ModelState.to_arrays), stored as sgd_<name>.
_STATE_NAMES = ("v", "u", "state")
_STATE_ARRAYS = tuple("sgd_" + name for name in _STATE_NAMES)
# The fitted attribute holding that state: stored as those arrays with state=True, else
# rebuilt from coef_ and intercept_ at load.
_STATE_ATTRIBUTE = "sgd_state_"


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


def _linear_arrays(est, state):
    arrays = {}
    if state:
        if not hasattr(est, "sgd_state_"):
            raise _Problem("the estimator has no SGD state (sgd_state_) to store: fit it with "
                           "fit or partial_fit, or save it with state=False.")
        arrays.update({"sgd_" + name: value
                       for name, value in est.sgd_state_.to_arrays().items()})
    if hasattr(est, "calibration_"):
        arrays["calibration_"] = est.calibration_
    _check_calibration(est, "calibration_" in arrays)
    return arrays


def _check_calibration(est, present):
    """A calibration is there exactly when the parameters of ``est`` call for one."""
    calibrated = calibrates(est.loss, est.probability)
    if calibrated and not present:
        raise _Problem(f"probability=True with loss={est.loss!r}, but no calibration_: the "
                       "parameters were changed after fit; fit the model again.")
    if present and not calibrated:
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
        v_shape, state_shape = state_class(params.get("loss")).shapes(
            arrays["classes_"].shape[0], coef.shape[1])
        _expect(arrays, "sgd_v", [v_shape], coef.dtype, "coef_")
        _expect(arrays, "sgd_u", [v_shape, (v_shape[0], 0)], np.float64, "coef_")
        _expect(arrays, "sgd_state", [state_shape], np.float64, "coef_")


def _restore_linear(est, arrays):
    if "calibration_" in arrays:
        _expect_finite(arrays, "calibration_")
        est.calibration_ = arrays["calibration_"]
    cls = state_class(est.loss)
    if "sgd_v" not in arrays:
        # A model saved without its state continues from coef_ and intercept_ at step t_.
        est.sgd_state_ = cls.from_solution(arrays["coef_"], arrays["intercept_"],
                                           est.classes_.shape[0], est.t_)
        return
    state = cls.from_arrays({name: arrays["sgd_" + name] for name in _STATE_NAMES})
    if est.t_ != state.t:
        raise _Problem(f"t_={est.t_} but the SGD state says {state.t}.")
    est.sgd_state_ = state


def _check_nbsvm(arrays, params):
    _expect(arrays, "ratios_", [arrays["coef_"].shape], np.float64, "coef_")
    if "C_" in arrays:
        _expect(arrays, "C_", [arrays["coef_"].shape[:1]], np.float64, "coef_")


def _restore_nbsvm(est, arrays):
    _expect_finite(arrays, "ratios_")
    est.ratios_ = arrays["ratios_"]
    if "C_" in arrays:
        est.C_ = arrays["C_"]


# The only classes a file may name: never import a class by a name read from a file.
_KINDS = {
    "LinearClassifier": _Kind(LinearClassifier, (), ("calibration_",), _STATE_ARRAYS,
                              ("n_iter_", "t_", "n_features_in_"), _linear_arrays,
                              _check_linear, _restore_linear),
    "NBSVM": _Kind(NBSVM, ("ratios_",), ("C_",), (), ("n_iter_", "n_features_in_"),
                   lambda est, state: {"ratios_": est.ratios_,
                                       **({"C_": est.C_} if hasattr(est, "C_") else {})},
                   _check_nbsvm, _restore_nbsvm),
}


# -- save -------------------------------------------------------------------------------------

def save_model(path, estimator, extra=None, *, compress=True, state=False, weights=None,
               prune=0.0):
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
    weights : {None, 'float16', 'int8'}, default=None
        Store ``coef_`` quantized (see :func:`fasttext_lin.quantize.quantize_model`);
        None: in its own dtype.
    prune : float in [0, 1), default=0.0
        With ``weights``: first set to zero the weights with ``|w| <= prune * max|w|`` of
        their row.

    Returns
    -------
    float
        The fraction of the weights that ``prune`` set to zero (0.0 without ``weights``).

    Raises
    ------
    TypeError
        If ``estimator`` is not a :class:`LinearClassifier` or an :class:`NBSVM`.
    ValueError
        If it is not fitted or holds a value a model file cannot hold without pickle
        (e.g. ``random_state`` a ``RandomState``), or ``path`` cannot be written; the
        message names the value and the fix.
    """
    path = os.fspath(path)
    if weights is not None:
        check_quantization(weights, prune, "save_model")
    kind = _KINDS.get(type(estimator).__name__)
    if kind is None or type(estimator) is not kind.cls:
        raise TypeError(
            f"save_model stores {' and '.join(_KINDS)} only; got {type(estimator).__name__} "
            "(a subclass would come back as its base class)."
        )
    check_is_fitted(estimator)
    check_output_path(path, what=WHAT)
    with saving(path):
        arrays, object_arrays = _estimator_arrays(estimator, kind, state)
        quantized, pruned = quantize(arrays, weights, float(prune)) if weights else ({}, 0.0)
        description = {
            "estimator": type(estimator).__name__,
            "params": params_to_json(estimator.get_params(deep=False)),
            "fitted": {name: int(getattr(estimator, name)) for name in kind.fitted},
            "object_arrays": object_arrays,
        }
        write_model_file(path, description, arrays, extra=extra, quantized=quantized,
                         compress=compress)
    return pruned


def check_quantization(weights, prune, caller):
    """Refuse a ``weights`` not in :data:`WEIGHTS` or a ``prune`` outside [0, 1), in one
    line that names ``caller``."""
    if weights not in WEIGHTS:
        raise ValueError(f"{caller}: weights={weights!r} is invalid; expected one of "
                         f"{', '.join(map(repr, WEIGHTS))}.")
    if (not isinstance(prune, numbers.Real) or isinstance(prune, bool)
            or not 0.0 <= prune < 1.0):
        raise ValueError(f"{caller}: prune={prune!r} is invalid; expected a number in "
                         "[0, 1) (e.g. 0.01 zeroes the weights below 1% of their row's "
                         "largest).")


def _estimator_arrays(est, kind, state):
    stored = set(_SHARED_ARRAYS + _OPTIONAL_ARRAYS + kind.arrays + kind.optional + kind.fitted)
    if kind.state:
        stored.add(_STATE_ATTRIBUTE)
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
        array, was_object = storable(name, value)
        arrays[name] = array
        if was_object:
            object_arrays.append(name)
    return arrays, object_arrays


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
    with open_model_file(path) as model_file:
        estimator, extra = _load(model_file)
    return (estimator, extra) if return_extra else estimator


def _load(model_file):
    metadata, declared = model_file.metadata, model_file.declared
    kind = _kind(metadata)
    _check_names(declared, kind, model_file.version)
    fitted = _check_fitted(require(metadata, "fitted", dict), kind)
    params = params_from_json(require(metadata, "params", dict))
    # Every shape against the others before any member is inflated.
    _check_shapes(declared, fitted, params, kind)
    arrays, extra = model_file.read_arrays()
    _check_values(arrays)
    object_arrays = require(metadata, "object_arrays", list)
    if not set(object_arrays) <= {"classes_", "feature_names_in_"}:
        raise _Problem(f"object_arrays={object_arrays!r} names arrays that cannot be objects.")
    return _build(kind, params, arrays, fitted, object_arrays), extra


def _kind(metadata):
    """The :class:`_Kind` of the estimator ``metadata`` names."""
    name = require(metadata, "estimator", str)
    if name not in _KINDS:
        raise _Problem(f"unknown estimator class {name!r} (this fasttext_lin knows "
                       f"{', '.join(_KINDS)}).")
    return _KINDS[name]


def _check_names(names, kind, version):
    """The model's arrays (not the extra ones) are those ``kind`` stores."""
    required = _SHARED_ARRAYS + kind.arrays
    # Files before version 3 always hold the SGD state.
    required += kind.state if version < 3 else ()
    for name in required:
        if name not in names:
            raise _Problem(f"missing array {name!r} ({METADATA_MEMBER} does not list it).")
    state = [name for name in kind.state if name in names]
    if state and len(state) != len(kind.state):
        raise _Problem(f"the file holds part of the SGD state ({', '.join(state)}), not all "
                       f"of {', '.join(kind.state)}.")
    known = required + _OPTIONAL_ARRAYS + kind.optional + kind.state
    for name in names:
        if name not in known:
            raise _Problem(f"unknown array {name!r} in {METADATA_MEMBER}.")


def _check_fitted(fitted, kind):
    where = f"{METADATA_MEMBER} fitted"
    unknown = sorted(set(fitted) - set(kind.fitted))
    if unknown:
        raise _Problem(f"{where} has unknown entries {unknown} for {kind.cls.__name__}.")
    return {name: require(fitted, name, int, where) for name in kind.fitted}


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


# Parameters whose default changed, with the value that files written before they existed
# were trained with: such a file lacks the parameter and must not get the new default.
_LEGACY_PARAMS = {LinearClassifier: {"solver": "sgd"}}


def _build(kind, params, arrays, fitted, object_arrays):
    params = {**_LEGACY_PARAMS.get(kind.cls, {}), **params}
    known = kind.cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise _Problem(f"unknown parameter(s) {unknown} for {kind.cls.__name__}.")
    estimator = kind.cls(**params)
    try:
        estimator.check_params()
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



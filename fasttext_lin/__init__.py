"""Fast linear classifiers on sparse data: Numba-jitted SGD behind scikit-learn estimators.

The public names are imported on first use (PEP 562), so that ``import fasttext_lin`` and the
command line's start cost no scikit-learn or Numba import until a name is needed.
"""

import importlib

__all__ = ["BagOfWords", "LinearClassifier", "LinearClassifierCV", "NBSVM",
           "cross_validate_text", "load_model", "load_text_model", "quantize_model",
           "save_model", "save_text_model", "text_pipeline"]
__version__ = "0.1.0"

# Public name -> the module that defines it.
_HOME = {"BagOfWords": "featurize", "LinearClassifier": "linear_model", "NBSVM": "nbsvm",
         "LinearClassifierCV": "model_selection",
         "load_model": "persist", "save_model": "persist", "quantize_model": "quantize",
         "cross_validate_text": "model_selection", "load_text_model": "text_model",
         "save_text_model": "text_model", "text_pipeline": "text_model"}


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f"module 'fasttext_lin' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

"""Fast linear classifiers on sparse data: Numba-jitted SGD behind scikit-learn estimators."""

from .linear_model import LinearClassifier

__all__ = ["LinearClassifier"]
__version__ = "0.1.0"

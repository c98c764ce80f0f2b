"""Fast linear classifiers on sparse data: Numba-jitted SGD behind scikit-learn estimators."""

from .featurize import BagOfWords
from .linear_model import LinearClassifier
from .nbsvm import NBSVM
from .persist import load_model, save_model

__all__ = ["BagOfWords", "LinearClassifier", "NBSVM", "load_model", "save_model"]
__version__ = "0.1.0"

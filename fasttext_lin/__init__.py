"""Fast linear classifiers on sparse data: Numba-jitted SGD behind scikit-learn estimators."""

from .featurize import BagOfWords
from .linear_model import LinearClassifier
from .nbsvm import NBSVM
from .persist import load_model, save_model
from .text_model import cross_validate_text, load_text_model, save_text_model, text_pipeline

__all__ = ["BagOfWords", "LinearClassifier", "NBSVM", "cross_validate_text", "load_model",
           "load_text_model", "save_model", "save_text_model", "text_pipeline"]
__version__ = "0.1.0"

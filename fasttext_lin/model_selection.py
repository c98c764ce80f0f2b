"""Model selection: accuracy by cross-validation with the regularisation chosen inside each
training fold.

:func:`cross_validate_text` runs on raw texts (any scikit-learn classifier or pipeline that
takes them); the command line's ``cv`` runs it on text and on LIBSVM rows.
"""

import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils import Bunch

from ._constants import GRID

__all__ = ["GRID", "cross_validate_text", "fit_fold"]


def cross_validate_text(estimator, texts, y, *, folds=10, grid=GRID, param="classifier__C",
                        inner_folds=3, random_state=0, progress=None):
    """Accuracy of any classifier on raw texts by stratified k-fold cross-validation.

    In each training fold, ``param`` is chosen among ``grid`` by a stratified
    ``inner_folds``-fold grid search (:class:`~sklearn.model_selection.GridSearchCV`,
    accuracy, the first best value on ties), then the estimator is refitted on the whole
    training fold and scored on the held-out fold.

    Parameters
    ----------
    estimator : classifier
        Any scikit-learn classifier or pipeline that takes raw texts (it is cloned).
    texts : sequence of str
    y : array-like of shape (n_documents,)
    folds : int, default=10
        Outer folds.
    grid : sequence, scalar or None, default=GRID
        Values of ``param`` to search; one value sets it without a search; None keeps the
        estimator's own.
    param : str, default='classifier__C'
        The parameter searched, e.g. ``'linearsvc__C'`` for ``make_pipeline(...,
        LinearSVC())``.
    inner_folds : int, default=3
        Folds of the inner search.
    random_state : int, default=0
        Seeds the shuffles of the outer and inner folds.
    progress : callable or None, default=None
        Called after each outer fold as ``progress(fold, accuracy, chosen)`` (``fold``
        counts from 1).

    Returns
    -------
    sklearn.utils.Bunch
        ``fold_accuracy`` (ndarray of shape (folds,)), ``fold_chosen`` (list: the value of
        ``param`` used in each fold, None if the estimator has no such parameter),
        ``mean_accuracy``, ``std_accuracy`` (population
        standard deviation over the folds), ``wall_time`` (seconds), ``param``.
    """
    texts = np.asarray(texts, dtype=object)
    y = np.asarray(y)
    if texts.ndim != 1 or texts.shape[0] != y.shape[0]:
        raise ValueError(f"cross_validate_text: {texts.shape[0]} texts but {y.shape[0]} "
                         "labels; pass one label per text.")
    values = None if grid is None else list(np.atleast_1d(grid).tolist())
    if values is not None and not values:
        raise ValueError("cross_validate_text: grid is empty; pass values or None.")
    start = time.perf_counter()
    outer = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    accuracy, chosen = [], []
    for fold, (train, test) in enumerate(outer.split(texts, y), start=1):
        model, value = fit_fold(estimator, texts[train], y[train], param, values,
                                 inner_folds, random_state)
        accuracy.append(float(np.mean(model.predict(texts[test]) == y[test])))
        chosen.append(value)
        if progress is not None:
            progress(fold, accuracy[-1], value)
    accuracy = np.asarray(accuracy)
    return Bunch(fold_accuracy=accuracy, fold_chosen=chosen,
                 mean_accuracy=float(accuracy.mean()), std_accuracy=float(accuracy.std()),
                 wall_time=time.perf_counter() - start, param=param)


def fit_fold(estimator, texts, y, param, values, inner_folds, random_state):
    """The estimator fitted on one training fold, and the value of ``param`` it used."""
    if values is None or len(values) == 1:
        model = clone(estimator)
        if values is not None:
            model.set_params(**{param: values[0]})
        return model.fit(texts, y), model.get_params().get(param)
    inner = StratifiedKFold(inner_folds, shuffle=True, random_state=random_state)
    search = GridSearchCV(clone(estimator), {param: values}, cv=inner, scoring="accuracy")
    search.fit(texts, y)
    return search.best_estimator_, search.best_params_[param]

"""NB-SVM (Wang and Manning, 2012): a linear model on naive-Bayes-scaled binary features,
interpolated with naive Bayes."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import check_cv
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, validate_data

from ._naive_bayes import log_count_ratios
from ._path import N_ITER_NO_CHANGE, best_choice, c_min, path_Cs, run_path
from ._validation import check_labels
from .linear_model import LinearClassifier

__all__ = ["NBSVM"]

_NORMS = ("l2", None)


class NBSVM(ClassifierMixin, BaseEstimator):
    """NB-SVM: SGD on naive-Bayes-scaled binary features, interpolated with naive Bayes.

    For each class ``k`` (one model for two classes), the features are binarised
    (``x > 0``), scaled by the log-count ratios ``r_k``
    (:func:`~fasttext_lin.featurize.log_count_ratios`), optionally scaled to unit norm,
    and a binary :class:`LinearClassifier` learns
    ``w_k`` and an intercept ``b_k``; the weights are then interpolated with their mean
    magnitude, ``w'_k = (1 - beta) mean|w_k| + beta w_k``, which moves the model
    towards multinomial naive Bayes (whose score is ``r_k . x``). This is the NB-SVM
    of Wang and Manning (2012), "Baselines and bigrams", with SGD in place of
    liblinear and optional row normalisation.

    The intercept is interpolated alike, ``b'_k = beta b_k``, so that a row's score is
    ``beta`` times the linear model's plus ``(1 - beta) mean|w_k|`` times the naive-Bayes
    score of its scaled row, which has no class prior (the ratios are normalised per
    class, and a prior measured worse); an unscaled ``b_k`` would shift every score and,
    on unbalanced classes, predict the minority class.

    Parameters
    ----------
    C : float or 'auto', default=1.0
        Regularisation of each binary model (see :class:`LinearClassifier`). 'auto': each
        binary model's C is chosen along :class:`~fasttext_lin.LinearClassifierCV`'s
        warm-started path (from its ``C_min``, factor 2, its stopping rule) by the held-out
        accuracy of the interpolated model on ``cv`` folds, each fold's rows scaled by the
        ratios of its training rows; the model at the choice is then trained on all rows
        by ``LinearClassifier(solver='auto')`` (the loss's exact solver where it has one:
        ``max_iter`` and ``average`` are not used). The choices are in ``C_``.
    beta : float in (0, 1] or 'auto', default='auto'
        Interpolation weight of the learned weights; 1 is no interpolation. 'auto' is
        Wang and Manning's 0.25 for two classes and 1 for more: measured on 20
        Newsgroups (unigrams, C=1), one-vs-rest interpolation costs accuracy (74.5% at
        0.25, 85.1% at 0.5, 86.2% at 1), as the naive-Bayes scores of the classes'
        one-vs-rest models are not on one scale.
    nb_alpha : float, default=1.0
        Smoothing count of the log-count ratios.
    norm : {'l2', None}, default='l2'
        Scale each scaled row to unit Euclidean norm.
    loss : str, default='hinge'
        Loss of the binary models (see :class:`LinearClassifier`; not 'softmax').
    max_iter : int, default=30
        Epochs of each binary model (run in full: no early stop).
    average : bool, default=True
        Averaged SGD.
    n_jobs : int or None, default=None
        Threads that fit the classes' models at the same time (None is 1, -1 all cores);
        the model does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.
    cv : int, cross-validation generator or iterable, default=5
        ``C='auto'``: the folds of each model's search.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    ratios_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Log-count ratios of each model (of ``classes_[1]`` for two classes).
    coef_ : ndarray of the shape of ``ratios_``
        Interpolated weights times the ratios: the weights of the binarised features.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        ``beta`` times the intercepts of the binary models.
    n_iter_ : int
        Epochs (or passes) run by the binary models, the largest.
    n_features_in_ : int
    C_ : ndarray of shape (n_models,)
        ``C='auto'`` only: the C chosen for each model.
    """

    def __init__(self, C=1.0, *, beta="auto", nb_alpha=1.0, norm="l2", loss="hinge",
                 max_iter=30, average=True, n_jobs=None, random_state=None, cv=5):
        self.C = C
        self.beta = beta
        self.nb_alpha = nb_alpha
        self.norm = norm
        self.loss = loss
        self.max_iter = max_iter
        self.average = average
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.cv = cv

    def check_params(self):
        """Check every parameter, without data: raise ``ValueError`` (or ``TypeError``) naming
        the parameter, its value and the valid range. ``fit`` and ``partial_fit`` call it; a
        model file's loader and the command line call it before any data is read."""
        if not (self.beta == "auto" or isinstance(self.beta, Real) and 0 < self.beta <= 1):
            raise ValueError(f"NBSVM: beta={self.beta!r} is invalid; expected 'auto' or a "
                             "number in (0, 1].")
        if not (isinstance(self.nb_alpha, Real) and self.nb_alpha > 0):
            raise ValueError(f"NBSVM: nb_alpha={self.nb_alpha!r} is invalid; expected a "
                             "number > 0.")
        if self.norm not in _NORMS:
            raise ValueError(f"NBSVM: norm={self.norm!r} is invalid; expected 'l2' or None.")
        if not (isinstance(self.max_iter, Integral) and self.max_iter >= 1):
            raise ValueError(f"NBSVM: max_iter={self.max_iter!r} is invalid; expected an "
                             "int >= 1.")
        if self.loss == "softmax":
            raise ValueError("NBSVM: loss='softmax' is invalid; each NB-SVM model is binary: "
                             "use 'hinge', 'squared_hinge', 'log_loss' or 'modified_huber'.")
        self._binary_model().check_params()  # C, loss, average

    def _auto(self):
        return isinstance(self.C, str) and self.C == "auto"

    def _binary_model(self):
        # NB-SVM's models run max_iter epochs of SGD, whatever LinearClassifier's default.
        return LinearClassifier(loss=self.loss, C=None if self._auto() else self.C,
                                solver="sgd", max_iter=self.max_iter, tol=None,
                                average=self.average, random_state=self.random_state)

    def fit(self, X, y):
        """Fit one scaled, interpolated linear model per class (one for two classes).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative features (counts or binary); only ``x > 0`` matters.
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : NBSVM
        """
        self.check_params()
        check_labels(y)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        check_classification_targets(y)
        B = _binary(X)
        classes, codes = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(f"NBSVM: needs at least two classes in y, got one class: "
                             f"{classes.tolist()}.")
        ratios = log_count_ratios(B, codes, classes.shape[0], self.nb_alpha)
        models = [1] if classes.shape[0] == 2 else range(classes.shape[0])
        beta = self.beta if self.beta != "auto" else (0.25 if classes.shape[0] == 2 else 1.0)
        folds = self._fold_ratios(B, codes, classes.shape[0]) if self._auto() else None
        fits = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(self._fit_one)(B, ratios[k], codes == k, beta, k, folds) for k in models)
        self.classes_ = classes
        self.ratios_ = ratios[models]
        self.coef_ = np.stack([fit[0] for fit in fits])
        self.intercept_ = np.array([fit[1] for fit in fits])
        self.n_iter_ = max(fit[2] for fit in fits)
        vars(self).pop("C_", None)
        if self._auto():
            self.C_ = np.array([fit[3] for fit in fits])
        return self

    def _fit_one(self, B, r, target, beta, k, folds):
        """Interpolated weights on ``B``, intercept, iterations and C of class ``k``'s model
        (C searched on ``folds`` when given)."""
        Z = self._scaled(B, r)
        if folds is None:
            C, clf = self.C, self._binary_model().fit(Z, target)
        else:
            C, clf = self._searched(B, Z, target, beta, k, folds)
        w = _interpolated(clf.coef_[0], beta)
        return r * w, beta * clf.intercept_[0], clf.n_iter_, C

    def _fold_ratios(self, B, codes, n_classes):
        """``(train, test, ratios)`` of each fold of ``cv``: the ratios of the training rows
        (computed on all rows, the ratios would carry the held-out labels)."""
        folds = check_cv(self.cv, codes, classifier=True).split(B, codes)
        return [(train, test, log_count_ratios(B[train], codes[train], n_classes,
                                               self.nb_alpha)) for train, test in folds]

    def _searched(self, B, Z, target, beta, k, folds):
        """``C='auto'``: the C of the best held-out accuracy of the interpolated model along
        the warm-started path, and the model at it on ``Z``."""
        base = LinearClassifier(loss=self.loss, solver="auto", random_state=self.random_state,
                                parallel="deterministic")
        ones = np.ones(target.shape[0])
        parts = [(self._scaled(B[train], ratios[k]), target[train], ones[train],
                  self._scaled(B[test], ratios[k]), target[test]) for train, test, ratios in folds]
        Cs, patience = path_Cs(c_min(Z, target, np.array([False, True]), ones, 1.0), "auto",
                               2.0, N_ITER_NO_CHANGE)
        results = run_path(base, parts, [self.loss], Cs, patience, _Interpolated(beta), None)
        C = best_choice(results)[1]
        return C, base.set_params(C=C).fit(Z, target)

    def _scaled(self, B, r):
        Z = B @ sp.diags(r)
        if self.norm == "l2":
            norms = np.sqrt(np.asarray(Z.multiply(Z).sum(axis=1)).ravel())
            Z = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ Z
        return sp.csr_matrix(Z)

    def decision_function(self, X):
        """Scores of each model: ``(x_bin . coef_k) / ||x_bin * r_k|| + intercept_k``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          reset=False)
        B = _binary(X)
        scores = np.asarray(B @ self.coef_.T)
        if self.norm == "l2":
            # B is 0/1, so ||B_i * r_k||^2 = B_i . r_k^2
            norms = np.sqrt(np.asarray(B @ (self.ratios_ ** 2).T))
            scores /= np.where(norms > 0, norms, 1.0)
        scores += self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class of each row.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        best = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[best]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        # Only x > 0 is seen: dense continuous data (scikit-learn's check blobs) binarise
        # to all ones. The model is for sparse counts.
        tags.classifier_tags.poor_score = True
        return tags


def _interpolated(w, beta):
    """Wang and Manning's interpolation of the weights ``w`` with their mean magnitude."""
    return (1.0 - beta) * np.abs(w).mean() + beta * w


class _Interpolated:
    """The held-out accuracy of the interpolated model of a binary LinearClassifier on scaled
    rows: what ``C='auto'`` chooses C by."""

    def __init__(self, beta):
        self.beta = beta

    def __call__(self, model, Z, target):
        w = _interpolated(model.coef_[0], self.beta)
        scores = Z @ w + self.beta * model.intercept_[0]
        return float(np.mean(model.classes_[(scores > 0).astype(np.intp)] == target))


def _binary(X):
    """``X > 0`` as a float64 CSR matrix; negative values are an error."""
    X = sp.csr_matrix(X)
    if X.data.size and X.data.min() < 0:
        raise ValueError("NBSVM: Negative values in data passed to X; it takes counts or binary "
                         "features (e.g. BagOfWords(weighting='binary', norm=None)).")
    B = sp.csr_matrix(((X.data > 0).astype(np.float64), X.indices, X.indptr), shape=X.shape)
    B.eliminate_zeros()
    return B

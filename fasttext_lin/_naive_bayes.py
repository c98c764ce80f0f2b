"""Naive-Bayes log-count ratios of binary features: NB weighting and NB-SVM."""

import numpy as np

__all__ = ["log_count_ratios"]


def log_count_ratios(B, codes, n_classes, alpha):
    """One-vs-rest naive-Bayes log-count ratios of binary features.

    Parameters
    ----------
    B : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Binary (0/1) features.
    codes : ndarray of shape (n_samples,)
        Class index of each row, in ``0 .. n_classes - 1``.
    n_classes : int
    alpha : float
        Smoothing count added to every feature's count in every class.

    Returns
    -------
    ratios : ndarray of shape (n_classes, n_features)
        ``r_k = log((p_k / ||p_k||_1) / (q_k / ||q_k||_1))`` with ``p_k`` the count of
        rows of class ``k`` holding each feature plus ``alpha``, ``q_k`` the same over the
        other classes.
    """
    n_features = B.shape[1]
    rows = np.repeat(codes, np.diff(B.indptr))
    counts = np.bincount(rows * n_features + B.indices, weights=B.data,
                         minlength=n_classes * n_features).reshape(n_classes, n_features)
    p = counts + alpha
    q = counts.sum(axis=0) - counts + alpha
    return np.log(p / p.sum(axis=1, keepdims=True)) - np.log(q / q.sum(axis=1, keepdims=True))

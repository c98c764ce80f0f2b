"""Platt calibration of ``LinearClassifier(probability=True)``: sigmoids of the one-vs-rest
scores, fitted to scores held out by stratified folds."""

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import clone

from ._constants import PROBA_LOSSES

# Held-out folds, as SVC's (libsvm's) and CalibratedClassifierCV's default.
FOLDS = 5


def calibrates(loss, probability):
    """Whether a fit with ``loss`` and ``probability`` calibrates probabilities (Platt) for
    want of the loss's own."""
    return bool(probability) and loss not in PROBA_LOSSES


def fit_platt(estimator, X, y, classes, weight, decay, solver):
    """Platt's ``(a_k, b_k)`` of each one-vs-rest score of ``estimator``'s model, fitted to
    the scores of models trained on the other folds; shape (1, 2) or (n_classes, 2).

    ``X`` is checked CSR, ``y`` the labels of ``classes``. ``weight`` (the sample weights)
    weighs the fold fits and the sigmoid fits; the class weights, as in
    CalibratedClassifierCV, only the fold fits. The folds use the intercept decay ``decay``
    of the input and the solver ``solver`` that ``fit`` resolved (so they warn of nothing
    that ``fit`` has not).
    """
    # Imported here: scikit-learn's model_selection (and metrics) cost every start
    # about 0.17 s, for probability=True only.
    from sklearn.model_selection import StratifiedKFold

    _, counts = np.unique(y, return_counts=True)
    if counts.min() < FOLDS:
        raise ValueError(
            f"probability=True calibrates on {FOLDS} stratified folds, but "
            f"class {classes[counts.argmin()].tolist()!r} has only {counts.min()} "
            f"sample(s): give at least {FOLDS} per class, or set probability=False."
        )
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=estimator.random_state)
    base = clone(estimator).set_params(probability=False, intercept_decay=decay, solver=solver)
    positive = classes[-1:] if classes.shape[0] == 2 else classes
    scores = np.empty((y.shape[0], positive.shape[0]))
    # cross_val_predict's loop, but for sample_weight, which it passes on only when
    # metadata routing is off (or requested).
    for train, test in folds.split(X, y):
        fold = clone(base).fit(X[train], y[train], sample_weight=weight[train])
        scores[test] = fold.decision_function(X[test]).reshape(test.shape[0], -1)
    return np.array([fit_sigmoid(s, y == label, weight)
                     for s, label in zip(scores.T, positive)])


def fit_sigmoid(score, positive, weight):
    """Platt's ``(a, b)``: ``expit(a * score + b)`` fitted to the smoothed targets.

    Maximises ``sum_i w_i [t_i log p_i + (1 - t_i) log(1 - p_i)]`` with Platt's targets
    ``t_i = (N+ + 1) / (N+ + 2)`` for positives, ``1 / (N- + 2)`` for the others (``N``
    weighted counts), by L-BFGS from his starting point, as
    ``sklearn.calibration._sigmoid_calibration`` does (whose ``A, B`` are ``-a, -b``).
    That function is private, and ``LogisticRegression`` takes no soft targets (short of
    doubling the rows) and changes how its penalty is switched off across versions: scipy's
    minimiser on the 2-parameter likelihood is the stable public route.
    """
    n_pos, n_neg = weight[positive].sum(), weight[~positive].sum()
    target = np.where(positive, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    # Scores on the unit scale keep L-BFGS's steps well sized; a is rescaled at the end.
    scale = max(1.0, float(np.abs(score).max()))
    unit = score / scale

    def loss_grad(ab):
        z = ab[0] * unit + ab[1]
        loss = -np.dot(weight, target * log_expit(z) + (1.0 - target) * log_expit(-z))
        g = weight * (expit(z) - target)
        return loss, np.array([np.dot(g, unit), g.sum()])

    start = np.array([0.0, np.log((n_pos + 1.0) / (n_neg + 1.0))])
    ab = minimize(loss_grad, start, method="L-BFGS-B", jac=True,
                  options={"gtol": 1e-10, "ftol": 64 * np.finfo(float).eps}).x
    return ab[0] / scale, ab[1]


def probabilities(scores, calibration):
    """Platt's ``expit(a_k s_k + b_k)`` of the scores, ``calibration`` the rows
    ``(a_k, b_k)``."""
    slope, intercept = calibration.T
    return expit(scores * slope + intercept)

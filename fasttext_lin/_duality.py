"""Duality gaps of linear models: a certificate of how far a model is from the optimum.

The primal of one binary problem, with ``c_i = C s_i`` and the margin
``z_i = y_i (w.x_i + b)``, ``y_i`` in {-1, +1}::

    P(w, b) = 1/2 ||w||^2 + sum_i c_i l(z_i)

Writing each loss through its convex conjugate, ``c l(z) = max_a [-c a z - c l*(-a)]``,
and minimising over ``w`` (``w = sum_i c_i a_i y_i x_i``) gives the dual::

    D(a) = -sum_i c_i phi(a_i) - 1/2 ||sum_i c_i a_i y_i x_i||^2,   phi(a) = l*(-a)

(``alpha_i = c_i a_i`` in the usual notation). An unregularised intercept ``b`` adds the
constraint ``sum_i c_i a_i y_i = 0``. Per loss (as the SGD kernels define them):

=============== ============================ ============================ =============
loss            l(z)                         phi(a) = l*(-a)              domain of a
=============== ============================ ============================ =============
hinge           max(0, 1 - z)                -a                           [0, 1]
squared_hinge   max(0, 1 - z)^2              -a + a^2/4                   [0, inf)
log_loss        log(1 + exp(-z))             a log a + (1-a) log(1-a)     [0, 1]
modified_huber  0, (1-z)^2, -4z              -a + a^2/4                   [0, 4]
squared_error   (1 - z)^2 / 2                -a + a^2/2                   all reals
=============== ============================ ============================ =============

(modified_huber is the squared hinge whose conjugate is cut to slopes of at most 4.)
Every ``a`` in the domain (and, with an intercept, on the constraint) gives
``D(a) <= P* <= P(w, b)``, so ``P - D`` bounds the suboptimality ``P - P*``.

Softmax, ``L_i = log sum_k exp(z_ik) - z_iy`` with ``z_ik = w_k.x_i + b_k``: the
conjugate of log-sum-exp is the negative entropy on the simplex, and::

    D(q) = sum_i c_i H(q_i) - 1/2 ||sum_i c_i (q_i - e_{y_i}) x_i^T||^2,   q_i in the simplex

with ``H`` the entropy; unregularised intercepts add ``sum_i c_i (q_ik - e_{y_i, k}) = 0``
for every class ``k``.

The dual point is built from the model alone: ``a_i = -l'(z_i)`` clipped to the domain (the
optimality condition, so the gap closes at the optimum), ``q_i`` the softmax probabilities.
The hinge's derivative is a step, so at the optimum the rows on the margin need the values
between 0 and 1 that rebuild ``w``: a second dual point sets those of the rows with
``|z_i - 1| <= MARGIN_BAND`` by bounded least squares on ``w = sum_i c_i a_i y_i x_i``, and
the better of the two points is kept (both are feasible). Each point ``a`` is then replaced
by the best ``theta a``, ``theta`` in [0, 1] (a concave search in one variable): far from
the optimum ``a`` rebuilds ``w`` with too large a norm.

With an intercept the dual point is made feasible by shrinking, which keeps every ``a`` in
its domain (the domains are intervals holding 0): in a binary problem the larger of the two
sums ``sum_{y_i=+1} c_i a_i`` and ``sum_{y_i=-1} c_i a_i`` is scaled down to the smaller
(squared_error, whose domain is all reals: ``y_i m`` is subtracted from the ``a_i``
instead); in softmax the rows of class ``m`` move to ``e_m + t_m (p_i - e_m)`` with ``t``
the stationary distribution of the generator matrix whose row ``m`` sums ``c_i (p_i - e_m)``
over the rows of class ``m`` (nonnegative and in its null space; scaled so that
``max t = 1``). For two classes that is the binary rule.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.optimize import lsq_linear, minimize_scalar
from scipy.special import entr, expit, logsumexp, softmax
from sklearn.utils.validation import check_is_fitted, validate_data

from ._constants import BIAS_FEATURE_SOLVERS, fit_solver
from ._validation import check_labels, checked_csr, checked_sample_weight, class_weighted

# Hinge rows whose margin is this close to 1 get their dual values by least squares. When
# those rows hold more than MARGIN_NNZ nonzeros, the solve stops after MARGIN_ITERATIONS
# trust-region steps of at most MARGIN_LSMR_ITERATIONS LSMR iterations: any values within
# the bounds give a dual point, so an early stop only loosens the bound, where an unbounded
# solve on wide X (1.2M features, thousands of rows on the margin) runs for tens of minutes.
MARGIN_BAND = 1e-2
MARGIN_NNZ = 10**5
MARGIN_ITERATIONS, MARGIN_LSMR_ITERATIONS = 5, 20
# The denominator of the relative gap when the primal is 0.
_TINY = np.finfo(np.float64).tiny
_MARGIN_LOSSES = ("hinge", "squared_hinge", "log_loss", "modified_huber", "squared_error")


class DualityGap(NamedTuple):
    """Primal and dual values of a model's problem and their gap.

    ``primal``, ``dual`` and ``gap`` are sums over the model's problems (one for two
    classes or 'softmax', one per class for one-vs-rest); ``primals``, ``duals`` and
    ``gaps`` hold them per problem. ``relative_gap`` is ``gap / max(|primal|, tiny)``;
    ``C`` the ``C`` of the problem.
    """

    primal: float
    dual: float
    gap: float
    relative_gap: float
    primals: np.ndarray
    duals: np.ndarray
    gaps: np.ndarray
    C: float


def duality_gap(X, y, classes, coef, intercept, C, weight, loss, fit_intercept,
                dual_coef=None):
    """Primal, dual and gap of ``1/2 ||W||^2 + C sum_i s_i loss_i`` at the model
    ``(coef, intercept)``.

    Parameters
    ----------
    X : CSR matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Labels, each in ``classes``.
    classes : ndarray of shape (n_classes,)
        Sorted; two classes score ``classes[1]``.
    coef : ndarray of shape (1, n_features) or (n_classes, n_features)
        As ``LinearClassifier.coef_``: for two classes one row (with 'softmax' the
        difference ``w_1 - w_0``, scored as the L2-smallest pair ``(-coef/2, coef/2)``).
    intercept : ndarray of shape (1,) or (n_classes,)
    C : float
    weight : ndarray of shape (n_samples,)
        ``s_i``, the sample weights times the class weights.
    loss : str
    fit_intercept : bool
        Whether the intercept is free (unregularised): the dual then has its equality
        constraint.
    dual_coef : ndarray of shape (n_problems, n_samples), default=None
        Margin losses without a free intercept: a solver's dual variables ``alpha_i``
        (``w = sum_i alpha_i y_i x_i``), one row per binary problem. Clipped to the dual's
        domain for ``C s_i``, they are a second dual point; the larger dual counts (any
        feasible point bounds the optimum from below).

    Returns
    -------
    DualityGap
    """
    c = C * np.asarray(weight, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    if loss == "softmax":
        target = np.searchsorted(classes, y)
        if coef.shape[0] == 1:
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept, intercept] / 2
        pairs = [_softmax_pair(X, target, coef, intercept, c, fit_intercept)]
    elif loss in _MARGIN_LOSSES:
        positive = classes[1:] if coef.shape[0] == 1 else classes
        pairs = [_margin_pair(X, np.where(y == label, 1.0, -1.0), coef[k], intercept[k], c,
                              loss, fit_intercept,
                              None if dual_coef is None else dual_coef[k])
                 for k, label in enumerate(positive)]
    else:
        raise ValueError(f"duality_gap: loss={loss!r} has no dual here; give one of "
                         f"{list(_MARGIN_LOSSES) + ['softmax']}.")
    primals, duals = (np.array(values) for values in zip(*pairs))
    gaps = primals - duals
    primal, dual, gap = float(primals.sum()), float(duals.sum()), float(gaps.sum())
    return DualityGap(primal, dual, gap, gap / max(abs(primal), _TINY), primals, duals, gaps,
                      float(C))


def _margin_pair(X, y, w, b, c, loss, fit_intercept, alpha=None):
    """``(P, D)`` of one binary problem with targets ``y`` in {-1, +1}; ``alpha``, when
    given, a solver's dual variables, a second dual point (without a free intercept)."""
    z = y * (X @ w + b)
    primal = 0.5 * w @ w + c @ _loss(loss, z)
    a = _derivative_point(loss, z)
    dual = _margin_dual(X, y, a, c, loss, fit_intercept)
    if alpha is not None and not fit_intercept:
        own = np.divide(alpha, c, out=np.zeros_like(c), where=c > 0.0)
        own = np.clip(own, 0.0, np.inf if loss == "squared_hinge" else 1.0)
        dual = max(dual, _margin_dual(X, y, own, c, loss, False))
    if loss == "hinge" and alpha is None:
        # A solver's own dual variables rebuild w already: no least squares for them.
        refined = _margin_rows(X, y, w, a, c, z, fit_intercept)
        if refined is not None:
            dual = max(dual, _margin_dual(X, y, refined, c, loss, fit_intercept))
    return primal, dual


def _loss(loss, z):
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - z)
    if loss == "squared_hinge":
        return np.maximum(0.0, 1.0 - z) ** 2
    if loss == "log_loss":
        return np.logaddexp(0.0, -z)
    if loss == "modified_huber":
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))
    return 0.5 * (1.0 - z) ** 2


def _derivative_point(loss, z):
    """``a = -l'(z)`` in the loss's dual domain (the kernels' derivative: hinge's is 0 at
    margin 1)."""
    if loss == "hinge":
        return (z < 1.0).astype(np.float64)
    if loss == "squared_hinge":
        return 2.0 * np.maximum(0.0, 1.0 - z)
    if loss == "log_loss":
        return expit(-z)
    if loss == "modified_huber":
        return np.clip(2.0 * (1.0 - z), 0.0, 4.0)
    return 1.0 - z


def _conjugate(loss, a):
    """``phi(a) = l*(-a)`` on the domain (see the module docstring)."""
    if loss == "hinge":
        return -a
    if loss in ("squared_hinge", "modified_huber"):
        return -a + 0.25 * a * a
    if loss == "log_loss":
        return -entr(a) - entr(1.0 - a)
    return -a + 0.5 * a * a


def _margin_dual(X, y, a, c, loss, fit_intercept):
    """``D(theta a)`` at the best ``theta`` in [0, 1], ``a`` first made feasible for the
    intercept's constraint."""
    if fit_intercept:
        a = _balanced(y, a, c, loss)
    v = X.T @ (c * a * y)
    return _ray_max(lambda theta: c @ _conjugate(loss, theta * a), v @ v)


def _ray_max(conjugate_sum, squared_norm):
    """``max D(theta)`` over ``theta`` in [0, 1] (the point ``theta a`` stays feasible:
    the domains are convex and hold 0), ``D(theta) = -conjugate_sum(theta) - theta^2/2
    squared_norm``, concave. A noisy model's ``a`` rebuilds ``w`` with too large a norm;
    shrinking it is often worth far more than its loss in the linear term."""
    def minus_dual(theta):
        return conjugate_sum(theta) + 0.5 * theta * theta * squared_norm

    best = minimize_scalar(minus_dual, bounds=(0.0, 1.0), method="bounded",
                           options={"xatol": 1e-12})
    return -min(best.fun, minus_dual(1.0))


def _balanced(y, a, c, loss):
    """``a`` moved onto ``sum_i c_i a_i y_i = 0``, within the domain."""
    if loss == "squared_error":
        return a - y * ((c * a) @ y / c.sum())
    pos, neg = (c * a)[y > 0].sum(), (c * a)[y < 0].sum()
    a = a.copy()
    if pos > neg:
        a[y > 0] *= neg / pos
    elif neg > pos:
        a[y < 0] *= pos / neg
    return a


def _margin_rows(X, y, w, a, c, z, fit_intercept):
    """Hinge: ``a`` with the rows on the margin set by bounded least squares so that
    ``sum_i c_i a_i y_i x_i`` (and, with an intercept, ``sum_i c_i a_i y_i``) matches ``w``
    (and 0); None when no row is on the margin."""
    band = (np.abs(z - 1.0) <= MARGIN_BAND) & (c > 0)
    if not band.any():
        return None
    fixed = np.where(band, 0.0, c * a * y)
    rows = sp.csr_matrix(X[band].multiply(y[band][:, None]))
    # Only the features of the band's rows can be matched: the rest of the residual is
    # constant, and wide X would make every iteration's vectors n_features long.
    used = np.unique(rows.indices)
    rhs = (w - X.T @ fixed)[used]
    A = rows[:, used].T.tocsr()
    if fit_intercept:
        A = sp.vstack([A, sp.csr_matrix(y[band])]).tocsr()
        rhs = np.r_[rhs, -fixed.sum()]
    large = A.nnz > MARGIN_NNZ
    alpha = lsq_linear(A, rhs, bounds=(0.0, c[band]), lsmr_tol="auto",
                       max_iter=MARGIN_ITERATIONS if large else None,
                       lsmr_maxiter=MARGIN_LSMR_ITERATIONS if large else None).x
    refined = a.copy()
    refined[band] = np.clip(alpha / c[band], 0.0, 1.0)
    return refined


def _softmax_pair(X, target, W, b, c, fit_intercept):
    """``(P, D)`` of the multinomial problem, ``W`` of shape (n_classes, n_features)."""
    scores = np.asarray(X @ W.T) + b
    rows = np.arange(target.shape[0])
    primal = 0.5 * np.sum(W * W) + c @ (logsumexp(scores, axis=1) - scores[rows, target])
    q = softmax(scores, axis=1)
    onehot = np.zeros_like(q)
    onehot[rows, target] = 1.0
    if fit_intercept:
        t = _stationary(c, q - onehot, target, W.shape[0])
        q = onehot + t[target][:, None] * (q - onehot)
    direction = q - onehot
    G = X.T @ (c[:, None] * direction)
    # entr: -q log q, 0 at q = 0.
    dual = _ray_max(lambda theta: -(c @ entr(onehot + theta * direction).sum(axis=1)),
                    np.sum(G * G))
    return primal, dual


def _stationary(c, direction, target, n_classes):
    """Scales ``t`` >= 0 of the rows of each class, max 1, with
    ``sum_i c_i t_{y_i} direction_i = 0`` (the stationary distribution of a generator)."""
    B = np.zeros((n_classes, n_classes))
    np.add.at(B, target, c[:, None] * direction)
    # Row m of B sums to 0 with only its diagonal <= 0: a generator; t B = 0.
    system = np.vstack([B.T, np.ones(n_classes)])
    t = np.linalg.lstsq(system, np.r_[np.zeros(n_classes), 1.0], rcond=None)[0]
    t = np.maximum(t, 0.0)
    return t / t.max()


def estimator_duality_gap(est, X, y, sample_weight=None):
    """:meth:`fasttext_lin.LinearClassifier.duality_gap`: the estimator's problem checked and
    built from its public attributes, then :func:`duality_gap`."""
    check_is_fitted(est)
    X = validate_data(est, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                      accept_large_sparse=True, reset=False)
    X = checked_csr(X)
    check_labels(y)
    y = np.asarray(y)
    unseen = np.setdiff1d(y, est.classes_)
    if unseen.size or y.shape != (X.shape[0],):
        raise ValueError(f"y must hold one label of classes_ {est.classes_.tolist()} per "
                         f"row of X; got shape {y.shape} and label(s) {unseen.tolist()}.")
    weight = class_weighted(checked_sample_weight(y, sample_weight), y, est.classes_,
                            est.class_weight)
    if est.C is not None:
        C = float(est.C)
    elif est.alpha > 0:
        C = 1.0 / (float(est.alpha) * X.shape[0])
    else:
        raise ValueError("duality_gap needs a regularised problem: alpha=0 and C=None "
                         "have no finite C; give alpha > 0 or C.")
    coef, intercept, free = est.coef_, est.intercept_, bool(est.fit_intercept)
    # A 'cd' model's own dual variables, when X has its rows: a second dual point.
    own = vars(est).get("_dual_coef")
    if own is not None and own.shape != (coef.shape[0], X.shape[0]):
        own = None
    if free and fit_solver(est.solver, est.loss) in BIAS_FEATURE_SOLVERS:
        # These solvers regularise the intercept as the weight of a bias feature.
        scale = float(est.intercept_scaling)
        X = sp.hstack([X, np.full((X.shape[0], 1), scale, dtype=X.dtype)], format="csr")
        coef = np.hstack([coef, intercept[:, None] / scale])
        intercept, free = np.zeros_like(intercept), False
    return duality_gap(X, y, est.classes_, coef, intercept, C, weight, est.loss, free,
                       None if est.loss == "softmax" else own)

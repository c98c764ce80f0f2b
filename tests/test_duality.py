"""Duality gaps (fasttext_lin._duality, LinearClassifier.duality_gap): exact checks against
optima found by other solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.datasets import load_svmlight_file
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC

from fasttext_lin import LinearClassifier
from fasttext_lin._duality import duality_gap

SMOOTH = ("squared_hinge", "log_loss", "modified_huber", "squared_error")


def naive_loss(loss, z):
    """The losses of margin ``z``, written out as in the SGD kernels."""
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - z)
    if loss == "squared_hinge":
        return np.maximum(0.0, 1.0 - z) ** 2
    if loss == "log_loss":
        return np.log1p(np.exp(-z))
    if loss == "modified_huber":
        return np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
    return 0.5 * (1.0 - z) ** 2


def naive_primal(X, y, W, b, c, loss):
    """``1/2 ||W||^2 + sum_i c_i loss_i`` of a binary (``y`` in {0, 1}, one row) or a
    softmax model (``y`` class indices)."""
    scores = np.asarray(X @ W.T) + b
    if loss == "softmax":
        data = logsumexp(scores, axis=1) - scores[np.arange(len(y)), y]
    else:
        data = naive_loss(loss, np.where(y == 1, 1.0, -1.0) * scores[:, 0])
    return 0.5 * np.sum(W * W) + c @ data


def problem(seed, n=30, d=4, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.8)
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    return sp.csr_matrix(X), y, 0.3 + rng.random(n)


def hinge_optimum(X, y, c, fit_intercept):
    """``(w, b, P*)`` of the hinge problem from its dual, a QP solved by SLSQP:
    ``max sum a - 1/2 ||Z^T a||^2`` over ``0 <= a <= c`` (and ``sum_i a_i y_i = 0`` with
    a free intercept); strong duality makes its maximum ``P*``."""
    signs = np.where(y == 1, 1.0, -1.0)
    Z = X.multiply(signs[:, None]).tocsr().toarray()

    def minus_dual(a):
        v = Z.T @ a
        return 0.5 * v @ v - a.sum(), Z @ v - 1.0

    constraints = ([{"type": "eq", "fun": lambda a: a @ signs, "jac": lambda a: signs}]
                   if fit_intercept else [])
    a = minimize(minus_dual, np.zeros(len(y)), jac=True, method="SLSQP", bounds=list(zip(
        np.zeros(len(y)), c)), constraints=constraints,
        options={"ftol": 1e-15, "maxiter": 10**4}).x
    w = Z.T @ a
    free = (a > 1e-6 * c) & (a < (1 - 1e-6) * c)
    b = np.mean(signs[free] - X[free] @ w) if fit_intercept and free.any() else 0.0
    return w[None, :], np.array([b]), naive_primal(X, y, w[None, :], b, c, "hinge")


def optimum(X, y, c, loss, fit_intercept):
    """``(W, b, P*)``: L-BFGS-B to 1e-12 (smooth losses), a QP (hinge)."""
    if loss == "hinge":
        return hinge_optimum(X, y, c, fit_intercept)
    rows = y.max() + 1 if loss == "softmax" else 1
    d = X.shape[1]

    def split(theta):
        return theta[:rows * d].reshape(rows, d), (theta[rows * d:] if fit_intercept
                                                   else np.zeros(rows))

    size = rows * d + (rows if fit_intercept else 0)
    best = minimize(lambda theta: naive_primal(X, y, *split(theta), c, loss), np.zeros(size),
                    method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10**5})
    return (*split(best.x), best.fun)


def shell(loss, coef, intercept, classes, C=1.0, fit_intercept=False):
    """A LinearClassifier holding a model found elsewhere; with ``fit_intercept``, a free
    intercept (the problem of solver='sgd')."""
    model = LinearClassifier(loss=loss, C=C, fit_intercept=fit_intercept, solver="sgd")
    model.coef_, model.intercept_ = np.atleast_2d(coef), np.atleast_1d(intercept)
    model.classes_, model.n_features_in_ = classes, model.coef_.shape[1]
    return model


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("loss", ["hinge", *SMOOTH, "softmax"])
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_gap_bounds_suboptimality_of_any_model(loss, fit_intercept, seed):
    n_classes = 3 if loss == "softmax" else 2
    X, y, c = problem(seed, n_classes=n_classes)
    best = optimum(X, y, c, loss, fit_intercept)[2]
    rng = np.random.default_rng(seed)
    rows = n_classes if loss == "softmax" else 1
    for scale in (0.1, 1.0, 5.0):
        W = scale * rng.normal(size=(rows, X.shape[1]))
        b = scale * rng.normal(size=rows) if fit_intercept else np.zeros(rows)
        g = duality_gap(X, y, np.arange(n_classes), W, b, 1.0, c, loss, fit_intercept)
        primal = naive_primal(X, y, W, b, c, loss)
        assert g.primal == pytest.approx(primal, rel=1e-12)
        assert g.gap >= 0.0
        assert g.gap >= primal - best - 1e-9 * abs(best)
        assert g.gap == pytest.approx(g.primal - g.dual)


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_hinge_margin_rows_on_wide_x_stay_a_bound_when_the_solve_is_cut(monkeypatch,
                                                                       fit_intercept):
    # Wide X, many rows on the margin: the least-squares solve is cut short (forced here by
    # a zero nonzero budget); its point is still feasible, so the gap still bounds.
    from fasttext_lin import _duality

    X, y, c = problem(11, n=40, d=200)
    w, b, best = hinge_optimum(X, y, c, fit_intercept)
    full = duality_gap(X, y, np.arange(2), w, b, 1.0, c, "hinge", fit_intercept)
    monkeypatch.setattr(_duality, "MARGIN_NNZ", 0)
    monkeypatch.setattr(_duality, "MARGIN_ITERATIONS", 1)
    monkeypatch.setattr(_duality, "MARGIN_LSMR_ITERATIONS", 1)
    cut = duality_gap(X, y, np.arange(2), w, b, 1.0, c, "hinge", fit_intercept)
    assert cut.primal == full.primal == pytest.approx(best, rel=1e-9)
    assert cut.gap >= full.gap - 1e-12 * abs(best)
    assert cut.dual <= best + 1e-9 * abs(best)
    assert abs(full.relative_gap) < 1e-5  # the QP's own accuracy


def test_hinge_margin_rows_match_only_the_features_they_hold():
    # Features that no margin row holds cannot be matched: leaving them out of the least
    # squares gives the same point as the solve over every feature.
    from scipy.optimize import lsq_linear

    from fasttext_lin._duality import _margin_rows

    X, y, c = problem(12, n=40, d=6)
    X = sp.hstack([X, sp.csr_matrix((40, 50))]).tocsr()  # 50 features no row holds
    w, _, _ = hinge_optimum(X, y, c, False)
    w = w[0] + np.r_[np.zeros(6), np.linspace(-1, 1, 50)]  # a residual on those features
    signs = np.where(y == 1, 1.0, -1.0)
    z = signs * (X @ w)
    a = (z < 1.0).astype(float)
    refined = _margin_rows(X, signs, w, a, c, z, False)
    band = (np.abs(z - 1.0) <= 1e-2) & (c > 0)
    assert band.sum() >= 3
    fixed = np.where(band, 0.0, c * a * signs)
    A = X[band].multiply(signs[band][:, None]).T.toarray()
    reference = lsq_linear(A, w - X.T @ fixed, bounds=(0.0, c[band]), method="bvls").x
    np.testing.assert_allclose(refined[band] * c[band], reference, atol=1e-7)
    np.testing.assert_array_equal(refined[~band], a[~band])


def bias_column(X):
    return sp.hstack([X, np.ones((X.shape[0], 1))]).tocsr()


# liblinear may warn at these tolerances; its gap is then below 1e-12 (seeded).
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "log_loss"])
def test_gap_closes_at_liblinear_optimum(loss):
    X, y, _ = problem(1, n=60, d=5)
    X = bias_column(X)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    if loss == "log_loss":
        peer = LogisticRegression(solver="liblinear", C=0.7, fit_intercept=False, tol=1e-12,
                                  max_iter=10**6)
    else:
        # Seeded: liblinear's dual CD permutes rows at random, and at tol 1e-12 its hinge run
        # can end at max_iter away from the optimum (relative gap 1.5e-2 seen unseeded).
        peer = LinearSVC(loss=loss, C=0.7, fit_intercept=False, tol=1e-10, max_iter=10**6,
                         random_state=0)
    peer.fit(X, y)
    g = shell(loss, peer.coef_, 0.0, peer.classes_, C=0.7).duality_gap(X, y)
    assert -1e-12 < g.relative_gap < 1e-6


def test_softmax_gap_closes_at_lbfgs_optimum():
    X, y, _ = problem(2, n=60, d=5, n_classes=3)
    peer = LogisticRegression(C=0.7, tol=1e-12, max_iter=10**5).fit(X, y)
    g = shell("softmax", peer.coef_, peer.intercept_, peer.classes_, C=0.7,
              fit_intercept=True).duality_gap(X, y)
    assert -1e-12 < g.relative_gap < 1e-6


def test_hinge_gap_closes_with_free_intercept():
    X, y, _ = problem(3, n=60, d=5)
    peer = SVC(kernel="linear", C=0.7, tol=1e-10).fit(X.toarray(), y)
    g = shell("hinge", peer.coef_, peer.intercept_, peer.classes_, C=0.7,
              fit_intercept=True).duality_gap(X, y)
    assert -1e-12 < g.relative_gap < 1e-6


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "squared_error", "softmax"])
@pytest.mark.parametrize("shift", [-0.3, 0.3])
def test_free_intercept_moved_from_the_optimum(loss, shift):
    # Near the joint optimum with b moved, the dual point off its equality constraint
    # would overshoot P* on one side of the shift.
    n_classes = 3 if loss == "softmax" else 2
    X, y, c = problem(8, n=60, d=4, n_classes=n_classes)
    y = np.where(np.arange(60) % 4 == 0, 0, y)
    W, b, _ = optimum(X, y, c, loss, True)
    classes = np.arange(n_classes)
    best = duality_gap(X, y, classes, W, b, 1.0, c, loss, True)
    assert abs(best.relative_gap) < 1e-6
    moved = b + shift * (np.arange(len(b)) == 0)
    g = duality_gap(X, y, classes, W, moved, 1.0, c, loss, True)
    assert g.primal > best.primal
    assert g.gap >= g.primal - best.primal
    if loss == "squared_error":
        # a = 1 - z moves by y_i shift: back on the constraint it is the optimum's.
        assert g.dual == pytest.approx(best.primal, rel=1e-9)


def test_two_class_softmax_is_scored_as_the_symmetric_pair():
    X, y, c = problem(9, n=50, d=4)
    W, b, best = optimum(X, y, c, "softmax", True)
    model = shell("softmax", W[1] - W[0], b[1] - b[0], np.arange(2), fit_intercept=True)
    g = model.duality_gap(X, y, sample_weight=c)
    assert g.primal == pytest.approx(best, rel=1e-9)
    assert abs(g.relative_gap) < 1e-6


@pytest.fixture(scope="module")
def a9a(tiny_data):
    X, y = load_svmlight_file(str(tiny_data / "a9a" / "a9a"), n_features=123)
    return X.tocsr(), y


@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_sgd_model_gap_bounds_its_suboptimality(a9a, loss):
    # The free intercept puts the dual on its equality constraint.
    X, y = a9a
    model = LinearClassifier(loss=loss, solver="sgd", C=1.0, max_iter=3, tol=None,
                             random_state=0)
    model.fit(X, y)
    if loss == "hinge":
        peer = SVC(kernel="linear", C=1.0, tol=1e-10).fit(X.toarray(), y)
    else:
        peer = LogisticRegression(C=1.0, tol=1e-12, max_iter=10**5).fit(X, y)
    best = shell(loss, peer.coef_, peer.intercept_, peer.classes_,
                 fit_intercept=True).duality_gap(X, y)
    assert best.relative_gap < 1e-6
    g = model.duality_gap(X, y)
    assert g.primal - best.primal <= g.gap
    assert g.primal > best.primal


def test_weights_are_duplicated_rows():
    X, y, _ = problem(4, n=40, d=4, n_classes=3)
    times = np.arange(40) % 3
    class_weight = {0: 1, 1: 2, 2: 1}
    model = LinearClassifier(loss="log_loss", C=0.5, max_iter=5, tol=None, random_state=0,
                             class_weight=class_weight).fit(X, y, sample_weight=times)
    weighted = model.duality_gap(X, y, sample_weight=times)
    repeat = np.repeat(np.arange(40), times * np.where(y == 1, 2, 1))
    duplicated = model.set_params(class_weight=None).duality_gap(X[repeat], y[repeat])
    for name in ("primals", "duals", "gaps"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(duplicated, name),
                                   rtol=1e-9)


def test_one_vs_rest_is_one_problem_per_class():
    X, y, c = problem(5, n=40, d=4, n_classes=3)
    rng = np.random.default_rng(5)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    g = duality_gap(X, y, np.arange(3), W, b, 1.0, c, "squared_hinge", True)
    for k in range(3):
        alone = duality_gap(X, (y == k).astype(int), np.arange(2), W[k:k + 1], b[k:k + 1], 1.0,
                            c, "squared_hinge", True)
        assert g.primals[k] == alone.primal and g.duals[k] == alone.dual
    assert g.gap == pytest.approx(g.gaps.sum()) and g.primal == pytest.approx(g.primals.sum())


def test_alpha_is_C_of_one_over_alpha_n():
    X, y, _ = problem(6, n=50, d=4)
    model = LinearClassifier(loss="log_loss", solver="sgd", alpha=0.01, max_iter=5, tol=None,
                             random_state=0).fit(X, y)
    g = model.duality_gap(X, y)
    assert g.C == pytest.approx(1.0 / (0.01 * 50))
    assert g.primal == pytest.approx(
        naive_primal(X, y, model.coef_, model.intercept_, g.C * np.ones(50), "log_loss"))


def test_refusals():
    X, y, _ = problem(7)
    model = LinearClassifier(solver="sgd", alpha=0.0, learning_rate="constant", max_iter=2,
                             tol=None).fit(X, y)
    with pytest.raises(ValueError, match="alpha=0 and C=None"):
        model.duality_gap(X, y)
    model.set_params(alpha=1e-3)
    with pytest.raises(ValueError, match="one label of classes_"):
        model.duality_gap(X, y + 5)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "log_loss"])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_cd_model_gap_is_below_its_tol(a9a, fit_intercept, loss):
    X, y = a9a
    model = LinearClassifier(loss, solver="cd", C=1.0, tol=1e-6, fit_intercept=fit_intercept,
                             max_iter=10**5, random_state=0).fit(X, y)
    assert 0.0 <= model.duality_gap(X, y).relative_gap <= 1e-6
    # The model's own dual variables are the certificate: from w alone log loss's is looser.
    alone = LinearClassifier(loss, solver="cd", C=1.0, fit_intercept=False)
    alone.classes_, alone.n_features_in_ = model.classes_, X.shape[1] + fit_intercept
    alone.coef_ = np.hstack([model.coef_, model.intercept_[:, None]] if fit_intercept
                            else [model.coef_])
    alone.intercept_ = np.zeros(1)
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr") if fit_intercept else X
    assert alone.duality_gap(Xb, y).primal == pytest.approx(model.duality_gap(X, y).primal)
    if loss == "log_loss":
        assert alone.duality_gap(Xb, y).relative_gap > 10 * model.duality_gap(X, y).relative_gap


def test_own_dual_variables_certify_any_data_of_as_many_rows(a9a):
    # Any feasible dual point bounds the optimum: the certificate holds for other data too.
    X, y = a9a
    model = LinearClassifier("log_loss", solver="cd", C=1.0, tol=1e-6, random_state=0,
                             fit_intercept=False).fit(X, y)
    other = X[::-1]
    best = LinearClassifier("log_loss", solver="cd", C=1.0, tol=1e-10, random_state=0,
                            fit_intercept=False).fit(other, y).duality_gap(other, y)
    g = model.duality_gap(other, y)
    assert g.primal - best.primal <= g.gap + 1e-9 * best.primal
    assert g.dual <= best.primal + 1e-9 * best.primal
    # Halved weights halve the bounds C s_i: the dual variables are clipped to them.
    half = np.full(X.shape[0], 0.5)
    hinge = LinearClassifier(solver="cd", C=1.0, tol=1e-6, random_state=0,
                             fit_intercept=False).fit(X, y)
    best = LinearClassifier(solver="cd", C=1.0, tol=1e-10, random_state=0, fit_intercept=False,
                            max_iter=10**5).fit(X, y, sample_weight=half)
    optimum = best.duality_gap(X, y, sample_weight=half).primal
    assert hinge.duality_gap(X, y, sample_weight=half).dual <= optimum * (1 + 1e-9)


@pytest.mark.parametrize("loss", ["log_loss", "softmax"])
def test_sgd_verbose_prints_each_epochs_gap(capsys, loss):
    X, y, _ = problem(7, n=60, d=5, n_classes=3)
    model = LinearClassifier(loss=loss, solver="sgd", C=1.0, max_iter=3, tol=None,
                             random_state=0, verbose=2).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if "relative gap" in line]
    n_problems = 1 if loss == "softmax" else 3
    assert len(lines) == 3 * n_problems
    final = model.duality_gap(X, y)
    for k in range(n_problems):
        last = [line for line in lines if f"Problem {k + 1}, epoch 3:" in line]
        primal = float(last[0].split("primal ")[1].split(",")[0])
        dual = float(last[0].split("dual ")[1].split(",")[0])
        assert primal == pytest.approx(final.primals[k], rel=1e-9)
        assert dual == pytest.approx(final.duals[k], rel=1e-9)

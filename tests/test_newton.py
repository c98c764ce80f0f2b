"""solver='newton': the trust-region Newton solver of loss='softmax' and 'log_loss'
(fasttext_lin._newton)."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_logistic, naive_multinomial
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from fasttext_lin import LinearClassifier
from fasttext_lin import _logistic_kernels as LK
from fasttext_lin import _multinomial_kernels as MK
from fasttext_lin._duality import duality_gap
from fasttext_lin._newton import EXPLICIT_VARIABLES, _Logistic, _Multinomial
from fasttext_lin.persist import load_model, save_model

DATA = Path(__file__).parent / "data"


def _newton(loss="softmax", **params):
    params = {"C": 1.0, "tol": 1e-12, "max_iter": 1000, **params}
    return LinearClassifier(loss, solver="newton", **params)


def _with_bias(X, bias=1.0):
    X = sp.hstack([X, np.full((X.shape[0], 1), bias)], format="csr")
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def _dna():
    """180 binary features, 3 classes: more variables than EXPLICIT_VARIABLES."""
    X, y = load_svmlight_file(DATA / "dna" / "dna.scale", n_features=180)
    return X.tocsr(), y


def _small():
    """6 features, 3 classes: the explicit Hessian."""
    return _random(0, n=300)


def _random(seed, n=40, n_features=6, n_classes=3, density=0.5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.normal(size=k)).astype(dtype)
    y = np.arange(n) % n_classes
    return X, y


def _lbfgs(X, y, C):
    return LogisticRegression(C=C, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y)


# -- the kernels against the NumPy reference ---------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [0.0, 1.5])
def test_kernels_match_naive(dtype, bias):
    X, y = _random(0, dtype=dtype)
    rng = np.random.default_rng(1)
    W, V = rng.normal(size=(2, X.shape[1] + 1, 3))
    cost = rng.uniform(0.0, 2.0, X.shape[0])
    cost[3] = 0.0
    value, grad, hessian = naive_multinomial(
        _with_bias(X, bias).toarray().astype(np.float64), y, W, cost)
    csr = (X.indptr, X.indices, X.data)
    prob, out = np.zeros((X.shape[0], 3)), W.copy()
    loss = MK.loss_gradient(*csr, y, cost, W, bias, 0, X.shape[0], prob, out)
    assert loss + 0.5 * np.sum(W * W) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(out, grad, rtol=1e-10, atol=1e-12)
    product = V.copy()
    MK.hessian_product(*csr, cost, prob, V, bias, 0, X.shape[0], product)
    np.testing.assert_allclose(product.reshape(-1), hessian @ V.reshape(-1), rtol=1e-10,
                               atol=1e-12)
    diagonal = np.ones_like(W)
    MK.hessian_diagonal(*csr, cost, prob, bias, 0, X.shape[0], diagonal)
    np.testing.assert_allclose(diagonal.reshape(-1), np.diag(hessian), rtol=1e-10)
    # The explicit Hessian of small problems, built from blocks of rows.
    problem = _Multinomial(X, y, cost, bias, 3)
    problem.value_gradient(W)
    problem.accept()
    assert problem.explicit
    np.testing.assert_allclose(problem._explicit_hessian(), hessian, rtol=1e-10, atol=1e-12)
    # Its Newton step: the model's minimiser when the trust region holds it.
    s, r, boundary, _ = problem.step(grad, np.inf)
    np.testing.assert_allclose(s.reshape(-1), -np.linalg.solve(hessian, grad.reshape(-1)),
                               rtol=1e-8, atol=1e-12)
    assert not boundary and np.abs(r).max() <= 1e-10


def test_cg_kernels_match_numpy():
    s, r, d, Hd = np.random.default_rng(7).normal(size=(4, 50))
    M = np.random.default_rng(8).uniform(1.0, 3.0, 50)
    curvatures = MK.cg_curvatures(s, d, Hd, M)
    np.testing.assert_allclose(curvatures, [d @ Hd, s @ (M * d), d @ (M * d)], rtol=1e-12)
    s2, r2, z2 = s.copy(), r.copy(), np.empty(50)
    rz = MK.cg_step(s2, r2, z2, d, Hd, M, 0.3)
    np.testing.assert_allclose(s2, s + 0.3 * d, rtol=1e-12)
    np.testing.assert_allclose(r2, r - 0.3 * Hd, rtol=1e-12)
    np.testing.assert_allclose(z2, r2 / M, rtol=1e-12)
    assert rz == pytest.approx(r2 @ z2, rel=1e-12)
    d2 = d.copy()
    MK.cg_direction(d2, z2, 0.7)
    np.testing.assert_allclose(d2, z2 + 0.7 * d, rtol=1e-12)


def test_the_gap_is_half_the_squared_gradient():
    """At the softmax probabilities the multinomial dual of fasttext_lin._duality is
    ``P - 1/2 ||grad P||^2`` (Fenchel-Young holds with equality): the solver's stop."""
    X, y = _random(4)
    Xb = _with_bias(X).toarray()
    W = np.random.default_rng(5).normal(size=(Xb.shape[1], 3))
    cost = np.random.default_rng(6).uniform(0.0, 2.0, X.shape[0])
    value, grad, _ = naive_multinomial(Xb, y, W, cost)
    z = Xb @ W
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    G = Xb.T @ (cost[:, None] * (p - np.eye(3)[y]))
    dual = cost @ -(p * np.log(p)).sum(axis=1) - 0.5 * np.sum(G * G)
    assert value - dual == pytest.approx(0.5 * np.sum(grad * grad), rel=1e-10)


def test_explicit_hessian_and_products_give_one_optimum(monkeypatch):
    X, y = _small()
    explicit = _newton().fit(X, y)
    monkeypatch.setattr("fasttext_lin._newton.EXPLICIT_VARIABLES", 0)
    products = _newton().fit(X, y)
    # P is 1-strongly convex: ||W - W*|| <= ||grad|| = sqrt(2 gap) <= sqrt(2e-12 * 322).
    np.testing.assert_allclose(products.coef_, explicit.coef_, atol=2e-5)


def test_kernels_skip_the_rows_outside_the_range():
    X, y = _random(2)
    W = np.random.default_rng(3).normal(size=(X.shape[1] + 1, 3))
    cost = np.ones(X.shape[0])
    csr = (X.indptr, X.indices, X.data)
    parts = []
    for start, stop in [(0, 15), (15, X.shape[0])]:
        grad = np.zeros_like(W)
        loss = MK.loss_gradient(*csr, y, cost, W, 1.0, start, stop, np.zeros((40, 3)), grad)
        parts.append((loss, grad))
    whole = np.zeros_like(W)
    loss = MK.loss_gradient(*csr, y, cost, W, 1.0, 0, X.shape[0], np.zeros((40, 3)), whole)
    assert parts[0][0] + parts[1][0] == pytest.approx(loss)
    np.testing.assert_allclose(parts[0][1] + parts[1][1], whole)


# -- the optimum -----------------------------------------------------------------------------

@pytest.mark.parametrize("load", [_small, _dna], ids=["explicit-hessian", "hessian-products"])
def test_equals_lbfgs_multinomial(load):
    X, y = load()
    Xb = _with_bias(X)
    ours = _newton(fit_intercept=False).fit(Xb, y)
    ref = _lbfgs(Xb, y, 1.0)
    # lbfgs stops on its relative decrease (ftol) a few 1e-7 from the optimum.
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_array_equal(ours.intercept_, 0.0)
    assert (X.shape[1] + 1) * 3 <= EXPLICIT_VARIABLES or load is _dna


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_intercept_is_the_bias_feature(loss):
    """fit_intercept: the weight of an implicit column of value intercept_scaling, X not
    copied, as 'cd' does."""
    X, y = _dna()
    ours = _newton(loss, intercept_scaling=2.0).fit(X, y)
    column = _newton(loss, fit_intercept=False).fit(_with_bias(X, 2.0), y)
    np.testing.assert_allclose(ours.coef_, column.coef_[:, :-1], atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, 2.0 * column.coef_[:, -1], atol=1e-10)


@pytest.mark.parametrize("solver", ["liblinear", "lbfgs"])
def test_two_classes_are_logistic_regression_at_twice_C(solver):
    X, y = _dna()
    keep = y != 3
    X, y = _with_bias(X[keep]), y[keep]
    ours = _newton(C=0.5, fit_intercept=False).fit(X, y)
    W, _ = ours.sgd_state_.solution()
    np.testing.assert_allclose(W[1], -W[0], atol=1e-9)
    np.testing.assert_allclose(ours.coef_[0], W[1] - W[0])
    ref = LogisticRegression(C=1.0, solver=solver, fit_intercept=False, tol=1e-12,
                             max_iter=100000, random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("tol", [1e-3, 1e-8])
@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_relative_gap_is_at_most_tol(loss, tol):
    X, y = _dna()
    weight = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    model = _newton(loss, tol=tol, class_weight={1: 2.0}).fit(X, y, sample_weight=weight)
    gap = model.duality_gap(X, y, sample_weight=weight)
    # Every one-vs-rest problem certified on its own (its primal, not the sum's).
    assert 0.0 <= gap.relative_gap and np.all(gap.gaps <= tol * gap.primals)


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_sample_weights_are_repeated_rows(loss):
    X, y = _dna()
    counts = np.random.default_rng(0).integers(0, 3, X.shape[0])
    weighted = _newton(loss).fit(X, y, sample_weight=counts.astype(float))
    rows = np.repeat(np.arange(X.shape[0]), counts)
    repeated = _newton(loss).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-8)


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_warm_start_takes_fewer_iterations(loss):
    X, y = _dna()
    cold = _newton(loss, C=1.1).fit(X, y)
    warm = _newton(loss, C=1.0, warm_start=True).fit(X, y)
    warm.set_params(C=1.1).fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-5)


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_float32_rows_are_used_as_they_are(loss):
    X, y = _dna()
    X32 = X.astype(np.float32)
    ours = _newton(loss).fit(X32, y)
    assert ours.coef_.dtype == np.float32
    ref = _newton(loss).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_the_model_does_not_depend_on_n_jobs(loss):
    X, y = _dna()
    one, two = _newton(loss, n_jobs=1).fit(X, y), _newton(loss, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_classes=st.integers(2, 4),
       C=st.floats(0.01, 100.0), bias=st.sampled_from([0.0, 1.0]))
def test_gradient_vanishes_at_the_solution(seed, n_classes, C, bias):
    X, y = _random(seed, n_classes=n_classes)
    rng = np.random.default_rng(seed)
    weight = rng.uniform(0.0, 2.0, X.shape[0])
    model = _newton(C=C, fit_intercept=bias > 0, tol=1e-10).fit(X, y, sample_weight=weight)
    W, b = model.sgd_state_.solution()
    Wb = np.vstack([W.T, b / bias if bias else np.zeros(n_classes)])
    value, grad, _ = naive_multinomial(_with_bias(X, bias).toarray(), y, Wb, C * weight)
    # The certificate: P - D = 1/2 ||grad||^2 <= tol P.
    assert 0.5 * np.sum(grad * grad) <= 1.01e-10 * value


# -- the stop, the report, the errors ---------------------------------------------------------

def test_max_iter_warns_naming_the_gap():
    X, y = _dna()
    with pytest.warns(ConvergenceWarning, match=r"max_iter=1 iterations with a relative "
                                                r"duality gap of \S+, above tol=1e-12"):
        _newton(max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _newton(tol=1e-6).fit(X, y)


def test_verbose_prints_primal_dual_and_gap(capsys):
    X, y = _dna()
    model = _newton(tol=1e-4, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == model.n_iter_ + 1
    last = lines[-1]
    assert last.startswith(f"-- Newton iteration {model.n_iter_}: primal ")
    primal = float(last.split("primal ")[1].split(",")[0])
    dual = float(last.split("dual ")[1].split(",")[0])
    gap = model.duality_gap(X, y)
    assert primal == pytest.approx(gap.primal, rel=1e-9)
    # The ray search of duality_gap may only improve on the solver's dual point.
    assert gap.dual >= dual - 1e-9 * abs(dual)


def test_errors_name_the_solver_for_the_loss():
    X, y = _dna()
    with pytest.raises(ValueError, match=r"^solver='newton' trains loss='softmax' and "
                                         r"'log_loss', not loss='hinge': use solver='cd' "
                                         r"or 'sgd'\.$"):
        LinearClassifier("hinge", solver="newton").fit(X, y)
    with pytest.raises(ValueError, match=r"not loss='softmax': use solver='newton'\.$"):
        LinearClassifier("softmax", solver="cd").fit(X, y)


def test_model_files_keep_the_solver(tmp_path):
    X, y = _dna()
    model = _newton(tol=1e-6, intercept_scaling=2.0).fit(X, y)
    save_model(tmp_path / "newton.npz", model)
    loaded = load_model(tmp_path / "newton.npz")
    assert loaded.solver == "newton" and loaded.intercept_scaling == 2.0
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_partial_fit_needs_sgd():
    assert not hasattr(_newton(), "partial_fit")


# -- log loss ----------------------------------------------------------------------------------

def _logistic(**params):
    return _newton("log_loss", **params)


def _dna_binary():
    X, y = _dna()
    keep = y != 3
    return X[keep], y[keep]


def _liblinear(X, y, C=1.0):
    return LogisticRegression(C=C, solver="liblinear", fit_intercept=False, tol=1e-12,
                              max_iter=100000).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [0.0, 1.5])
def test_logistic_kernels_match_naive(dtype, bias):
    X, labels = _random(0, dtype=dtype, n_classes=2)
    X.sort_indices()  # the estimator's contract: hessian_upper needs sorted rows
    y = np.where(labels == 1, 1.0, -1.0)
    rng = np.random.default_rng(1)
    w, v = 2.0 * rng.normal(size=(2, X.shape[1] + 1))
    cost = rng.uniform(0.0, 2.0, X.shape[0])
    cost[3] = 0.0
    value, grad, hessian = naive_logistic(_with_bias(X, bias).toarray().astype(np.float64), y,
                                          w, cost)
    csr = (X.indptr, X.indices, X.data)
    curvature, out = np.zeros(X.shape[0]), w.copy()
    loss = LK.loss_gradient(*csr, y, cost, w, bias, 0, X.shape[0], curvature, out)
    assert loss + 0.5 * w @ w == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(out, grad, rtol=1e-10, atol=1e-12)
    assert curvature[3] == 0.0
    product = v.copy()
    LK.hessian_product(*csr, curvature, v, bias, 0, X.shape[0], product)
    np.testing.assert_allclose(product, hessian @ v, rtol=1e-10, atol=1e-12)
    diagonal = np.ones_like(w)
    LK.hessian_diagonal(*csr, curvature, bias, 0, X.shape[0], diagonal)
    np.testing.assert_allclose(diagonal, np.diag(hessian), rtol=1e-10)
    problem = _Logistic(X, y, cost, bias)
    problem.value_gradient(w)
    problem.accept()
    assert problem.explicit
    np.testing.assert_allclose(problem._explicit_hessian(), hessian, rtol=1e-10, atol=1e-12)
    s, r, boundary, _ = problem.step(grad, np.inf)
    np.testing.assert_allclose(s, -np.linalg.solve(hessian, grad), rtol=1e-8, atol=1e-12)
    assert not boundary and np.abs(r).max() <= 1e-10


def test_logistic_kernels_do_not_overflow():
    X = sp.csr_matrix(np.array([[800.0], [-800.0]]))
    y, cost, w = np.array([1.0, 1.0]), np.ones(2), np.array([1.0, 0.0])
    curvature, grad = np.zeros(2), np.zeros(2)
    loss = LK.loss_gradient(X.indptr, X.indices, X.data, y, cost, w, 0.0, 0, 2, curvature,
                            grad)
    assert loss == pytest.approx(800.0) and np.isfinite(grad).all()
    # Row 2: z = -800, sigma(-z) = 1, so -c sigma(-z) y x = 800; row 1 adds sigma(-800) = 0.
    np.testing.assert_allclose(grad, [800.0, 0.0])
    np.testing.assert_array_equal(curvature, 0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.0, 3.0))
def test_logistic_gap_is_half_the_squared_gradient(seed, scale):
    """At ``a_i = sigma(-z_i)`` the log-loss dual of fasttext_lin._duality is
    ``P - 1/2 ||grad P||^2`` (Fenchel-Young holds with equality), for any ``w``: the solver's
    stop; duality_gap, which also searches the ray ``theta a``, can only certify more."""
    X, labels = _random(seed, n_classes=2)
    Xb = _with_bias(X)
    y = np.where(labels == 1, 1.0, -1.0)
    rng = np.random.default_rng(seed)
    w = scale * rng.normal(size=Xb.shape[1])
    cost = rng.uniform(0.0, 2.0, X.shape[0])
    value, grad, _ = naive_logistic(Xb.toarray(), y, w, cost)
    a = 1.0 / (1.0 + np.exp(y * (Xb @ w)))
    u = Xb.T @ (cost * a * y)
    entropy = -(a * np.log(a) + (1.0 - a) * np.log(1.0 - a))
    dual = cost @ entropy - 0.5 * u @ u
    half = 0.5 * grad @ grad
    assert value - dual == pytest.approx(half, rel=1e-8, abs=1e-12)
    gap = duality_gap(Xb, labels, np.array([0, 1]), w[None], np.zeros(1), 1.0, cost,
                      "log_loss", False)
    assert gap.primal == pytest.approx(value, rel=1e-12)
    assert -1e-12 <= gap.gap <= half * (1.0 + 1e-8) + 1e-12


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit-hessian", "products"])
@pytest.mark.parametrize("C", [0.1, 10.0])
def test_logistic_equals_liblinear(monkeypatch, explicit, C):
    if not explicit:
        monkeypatch.setattr("fasttext_lin._newton.EXPLICIT_VARIABLES", 0)
    X, y = _dna_binary()
    Xb = _with_bias(X)
    ours = _logistic(C=C, fit_intercept=False).fit(Xb, y)
    np.testing.assert_allclose(ours.coef_, _liblinear(Xb, y, C).coef_, atol=1e-6)
    np.testing.assert_array_equal(ours.intercept_, 0.0)


def test_logistic_one_vs_rest_equals_liblinear_per_class():
    X, y = _dna()
    Xb = _with_bias(X)
    ours = _logistic(fit_intercept=False).fit(Xb, y)
    for k, label in enumerate(ours.classes_):
        ref = _liblinear(Xb, (y == label).astype(int))
        np.testing.assert_allclose(ours.coef_[k], ref.coef_[0], atol=1e-6)


def test_logistic_max_iter_warns_naming_the_problem():
    X, y = _dna()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _logistic(max_iter=1).fit(X, y)
    messages = sorted(str(w.message) for w in caught if w.category is ConvergenceWarning)
    assert len(messages) == 3
    for k, message in enumerate(messages):
        assert re.fullmatch(r"solver='newton' stopped at max_iter=1 iterations with a relative "
                            rf"duality gap of \S+ \(problem {k + 1}\), above tol=1e-12; raise "
                            r"max_iter or tol\.", message)


def test_a_hessian_that_rounding_made_indefinite_falls_back_to_products():
    # Separable rows at a huge C: I + C (curvature) is the identity lost to rounding, and
    # its Cholesky factorisation fails; the fit goes on with products and the diagonal
    # preconditioner and still separates the classes.
    rng = np.random.default_rng(0)
    centers = np.array([[8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 8.0]])
    y = np.repeat(np.arange(3), 20)
    X = sp.csr_matrix(centers[y] + rng.normal(size=(60, 3)))
    model = LinearClassifier("softmax", C=1e20, solver="newton", max_iter=30, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.score(X, y) == 1.0

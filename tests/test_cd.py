"""solver='cd': dual coordinate descent for the hinge and the squared hinge (fasttext_lin._cd)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from fasttext_lin import LinearClassifier
from fasttext_lin.persist import load_model, save_model

DATA = Path(__file__).parent / "data"
LOSSES = ["hinge", "squared_hinge"]


def _cd(loss="hinge", **params):
    params = {"C": 1.0, "tol": 1e-12, "max_iter": 10**6, "random_state": 0, **params}
    return LinearClassifier(loss, solver="cd", **params)


def _a9a(name="a9a", bias=False):
    X, y = load_svmlight_file(DATA / "a9a" / name, n_features=123)
    if bias:
        X = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    return X.tocsr(), y


def _linearsvc(loss, **params):
    # liblinear's projected-gradient stop is never met at tol=1e-12 on the hinge (10**6 passes
    # on the a9a fixture); at 1e-10 its coef is within 1e-10 of the optimum.
    return LinearSVC(loss=loss, dual=True, C=1.0, tol=1e-10, max_iter=10**6, random_state=0,
                     **params)


def _int32(X):
    X = X.copy()
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def _primal_dual(X, y, coef, intercept, alpha, cost, loss, bias):
    """The problem's primal and dual values, in NumPy, the bias column appended."""
    w = np.append(coef, intercept / bias if bias else 0.0)
    Xb = sp.hstack([X, np.full((X.shape[0], 1), bias)], format="csr")
    slack = np.maximum(0.0, 1.0 - y * (Xb @ w))
    squared = loss == "squared_hinge"
    primal = 0.5 * w @ w + cost @ (slack**2 if squared else slack)
    used = cost > 0
    quadratic = np.sum(alpha[used] ** 2 / (2.0 * cost[used])) if squared else 0.0
    return primal, alpha.sum() - 0.5 * w @ w - 0.5 * quadratic


@st.composite
def problems(draw):
    n = draw(st.integers(4, 30))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.7)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    y[:2] = [-1.0, 1.0]
    C = draw(st.sampled_from([0.01, 0.1, 1.0, 10.0]))
    return sp.csr_matrix(X), y, C


@settings(max_examples=40, deadline=None)
@given(problems())
def test_hinge_kkt_at_the_solution(problem):
    X, y, C = problem
    model = _cd(C=C, tol=1e-10, fit_intercept=False).fit(X, y)
    w, alpha = model.coef_.ravel(), model.dual_coef_.ravel()
    margin = y * (X @ w)
    eps = 1e-6 * max(1.0, C * X.shape[0])
    assert np.all((alpha >= 0) & (alpha <= C))
    assert np.all(margin[alpha == 0] >= 1 - eps)
    inside = (alpha > 0) & (alpha < C)
    assert np.all(np.abs(margin[inside] - 1) <= eps)
    assert np.all(margin[alpha == C] <= 1 + eps)
    np.testing.assert_allclose(w, X.T @ (alpha * y), atol=1e-9)


@pytest.mark.parametrize("loss", LOSSES)
def test_equals_linearsvc_with_a_bias_column(loss):
    X, y = _a9a(bias=True)
    ours = _cd(loss, fit_intercept=False).fit(X, y)
    theirs = _linearsvc(loss, fit_intercept=False).fit(_int32(X), y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    assert ours.intercept_ == 0.0


@pytest.mark.parametrize("loss", LOSSES)
def test_intercept_is_liblinears_regularised_bias(loss):
    X, y = _a9a()
    ours = _cd(loss).fit(X, y)
    theirs = _linearsvc(loss, intercept_scaling=1).fit(_int32(X), y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
    # A larger bias value is the same model with a weaker pull on the intercept.
    scaled = _cd(loss, intercept_scaling=10.0).fit(X, y)
    theirs = _linearsvc(loss, intercept_scaling=10.0).fit(_int32(X), y)
    np.testing.assert_allclose(scaled.intercept_, theirs.intercept_, atol=1e-5)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-8])
def test_relative_gap_at_return_is_at_most_tol(loss, tol):
    X, y = _a9a()
    weight = np.random.default_rng(0).uniform(0.0, 2.0, size=y.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = _cd(loss, tol=tol, C=0.5, intercept_scaling=2.0).fit(X, y, sample_weight=weight)
    primal, dual = _primal_dual(X, y, model.coef_.ravel(), model.intercept_[0],
                                model.dual_coef_.ravel(), 0.5 * weight, loss, 2.0)
    assert 0.0 <= primal - dual <= tol * primal


@pytest.mark.parametrize("loss", LOSSES)
def test_integer_weights_are_duplicated_rows(loss):
    X, y = _a9a()
    weight = np.random.default_rng(1).integers(0, 4, size=y.shape[0])
    rows = np.repeat(np.arange(y.shape[0]), weight)
    weighted = _cd(loss).fit(X, y, sample_weight=weight)
    duplicated = _cd(loss).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, duplicated.coef_, atol=1e-6)
    np.testing.assert_allclose(weighted.intercept_, duplicated.intercept_, atol=1e-6)
    # A class weight is the same weight on every row of the class.
    by_class = _cd(loss, class_weight={-1.0: 1.0, 1.0: 3.0}).fit(X, y)
    by_row = _cd(loss).fit(X, y, sample_weight=np.where(y > 0, 3.0, 1.0))
    np.testing.assert_allclose(by_class.coef_, by_row.coef_, atol=1e-6)


def test_one_vs_rest_is_one_binary_problem_per_class_and_independent_of_n_jobs():
    X, _ = _a9a()
    y = np.arange(X.shape[0]) % 3
    ovr = _cd(tol=1e-10).fit(X, y)
    assert ovr.coef_.shape == (3, X.shape[1]) and ovr.dual_coef_.shape == (3, X.shape[0])
    for k in range(3):
        binary = _cd(tol=1e-10).fit(X, np.where(y == k, 1, -1))
        np.testing.assert_allclose(ovr.coef_[k], binary.coef_[0], atol=1e-5)
    threaded = _cd(tol=1e-10, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(threaded.coef_, ovr.coef_)
    np.testing.assert_array_equal(threaded.dual_coef_, ovr.dual_coef_)


def test_float32_input_reaches_the_float64_optimum():
    X, y = _a9a()
    X32 = X.astype(np.float32)
    single = _cd().fit(X32, y)
    double = _cd().fit(X32.astype(np.float64), y)
    np.testing.assert_allclose(single.coef_, double.coef_, atol=1e-5)
    np.testing.assert_allclose(single.dual_coef_, double.dual_coef_, atol=1e-5)


@pytest.mark.parametrize("loss", LOSSES)
def test_warm_start_from_a_smaller_c_continues(loss):
    X, y = _a9a()
    model = _cd(loss, C=0.3, tol=1e-8, warm_start=True).fit(X, y)
    warm = model.set_params(C=1.0).fit(X, y)
    cold = _cd(loss, C=1.0, tol=1e-8).fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-3)
    # The model continues from its own optimum at once.
    again = warm.fit(X, y)
    assert again.n_iter_ <= 2


def test_max_iter_warns_with_the_gap_reached_and_tol_none_is_1e_4(capsys):
    X, y = _a9a()
    with pytest.warns(ConvergenceWarning, match="relative duality gap of"):
        _cd(max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = _cd(tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert "primal" in lines[-1] and "dual" in lines[-1]
    assert float(lines[-1].split("relative gap ")[1].split(",")[0]) <= 1e-4
    assert model.n_iter_ < 10**6


def test_parameters_are_checked():
    X, y = _a9a()
    with pytest.raises(ValueError, match="solver='bogus' is not one of"):
        LinearClassifier(solver="bogus").fit(X, y)
    with pytest.raises(ValueError, match="solver='cd' trains loss 'hinge' or 'squared_hinge'"):
        LinearClassifier("log_loss", solver="cd").fit(X, y)
    with pytest.raises(ValueError, match="intercept_scaling == 0.0, must be > 0.0"):
        LinearClassifier(solver="cd", intercept_scaling=0.0).fit(X, y)
    with pytest.raises(AttributeError) as unavailable:
        LinearClassifier(solver="cd").partial_fit(X, y, classes=[-1.0, 1.0])
    assert "partial_fit runs SGD epochs" in str(unavailable.value.__cause__)
    assert not hasattr(LinearClassifier(solver="cd"), "partial_fit")


def test_sgd_fit_drops_the_dual_variables():
    X, y = _a9a()
    model = _cd().fit(X, y)
    assert not hasattr(model.set_params(solver="sgd").fit(X, y), "dual_coef_")


def test_model_files_keep_the_solver(tmp_path):
    X, y = _a9a()
    model = _cd(intercept_scaling=3.0).fit(X, y)
    save_model(tmp_path / "cd.npz", model)
    loaded = load_model(tmp_path / "cd.npz")
    assert loaded.get_params()["solver"] == "cd" and loaded.intercept_scaling == 3.0
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    # Files written before the parameter existed load as SGD models.
    old = load_model(DATA / "models" / "a1a_linear_v2.npz")
    assert old.solver == "sgd" and old.intercept_scaling == 1.0


def test_a9a_accuracy_is_linearsvcs(shared_data):
    train, test = shared_data / "libsvm" / "a9a", shared_data / "libsvm" / "a9a.t"
    X, y = load_svmlight_file(train, n_features=123)
    Xt, yt = load_svmlight_file(test, n_features=123)
    ours = _cd(tol=1e-4).fit(X, y).score(Xt, yt)
    theirs = LinearSVC(loss="hinge", dual=True, C=1.0, max_iter=10**4,
                       random_state=0).fit(_int32(X), y)
    assert abs(ours - theirs.score(_int32(Xt), yt)) <= 0.002


def test_auto_fits_with_the_exact_solver_and_continues_with_sgd():
    X, y = _a9a()
    exact = _cd(tol=1e-6).fit(X, y)
    auto = LinearClassifier(**{**exact.get_params(), "solver": "auto"}).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, exact.coef_)
    np.testing.assert_array_equal(auto.dual_coef_, exact.dual_coef_)
    # A loss without an exact solver: 'auto' is SGD.
    params = {"alpha": 1e-3, "max_iter": 5, "tol": None, "random_state": 0}
    sgd = LinearClassifier("modified_huber", **params).fit(X, y)
    np.testing.assert_array_equal(
        LinearClassifier("modified_huber", solver="auto", **params).fit(X, y).coef_, sgd.coef_)
    # partial_fit runs one SGD epoch from the exact solution: the model moves, and stays near.
    before = auto.coef_.copy()
    auto.partial_fit(X, y)
    assert not np.array_equal(auto.coef_, before) and auto.score(X, y) > 0.75
    assert not hasattr(auto, "dual_coef_")

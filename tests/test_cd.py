"""solver='cd': dual coordinate descent for the hinge, the squared hinge and log loss
(fasttext_lin._cd)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_logistic_dual_pass
from scipy.special import expit
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from fasttext_lin import LinearClassifier
from fasttext_lin._cd_kernels import split_hot, squared_row_norms
from fasttext_lin._cd_logistic_kernels import logistic_pass, logistic_primal_gap
from fasttext_lin._duality import _conjugate
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
    # The squared hinge's primal is 1-strongly convex: a relative gap of tol=1e-12 (P near 90)
    # bounds ||w - w*|| by sqrt(2 tol P) ~ 1.4e-5 only; the hinge's free face is solved to ~0.
    atol = 1e-6 if loss == "hinge" else 1e-5
    np.testing.assert_allclose(weighted.coef_, duplicated.coef_, atol=atol)
    np.testing.assert_allclose(weighted.intercept_, duplicated.intercept_, atol=atol)
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
    model = _cd(loss, C=0.8, tol=1e-8, warm_start=True).fit(X, y)
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
    with pytest.raises(ValueError, match="solver='cd' trains loss 'hinge', 'squared_hinge' or "
                       "'log_loss', not loss='modified_huber'"):
        LinearClassifier("modified_huber", solver="cd").fit(X, y)
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


# Log loss (fasttext_lin._cd_logistic_kernels): the dual of Yu, Huang and Lin with Newton steps.

def _liblinear_logistic(C=1.0, **params):
    # liblinear's primal trust-region Newton, far below our tol at 1e-12.
    return LogisticRegression(solver="liblinear", C=C, tol=1e-12, max_iter=10**5,
                              random_state=0, **params)


def _random_problem(seed, n=40, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.7)
    y = np.where(X @ rng.normal(size=d) + rng.normal(size=n) > 0, 1.0, -1.0)
    y[:2] = [-1.0, 1.0]
    return sp.csr_matrix(X), y


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("seed, C", [(0, 0.1), (1, 1.0), (2, 10.0)])
def test_log_loss_equals_liblinear_on_random_problems(seed, C, fit_intercept):
    X, y = _random_problem(seed)
    ours = _cd("log_loss", C=C, fit_intercept=fit_intercept, intercept_scaling=2.0).fit(X, y)
    theirs = _liblinear_logistic(C, fit_intercept=fit_intercept,
                                 intercept_scaling=2.0).fit(_int32(X), y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)


@pytest.mark.parametrize("bias_column", [False, True])
def test_log_loss_equals_liblinear_on_a9a(bias_column):
    X, y = _a9a(bias=bias_column)
    ours = _cd("log_loss", fit_intercept=not bias_column).fit(X, y)
    theirs = _liblinear_logistic(fit_intercept=not bias_column).fit(_int32(X), y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(problems())
def test_log_loss_kkt_at_the_solution(problem):
    X, y, C = problem
    weight = np.random.default_rng(int(C * 100) + X.shape[0]).uniform(0.5, 2.0, y.shape[0])
    model = _cd("log_loss", C=C, tol=1e-10).fit(X, y, sample_weight=weight)
    w = np.append(model.coef_.ravel(), model.intercept_[0])  # intercept_scaling 1
    alpha = model.dual_coef_.ravel()
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    cost = C * weight
    assert np.all((alpha > 0) & (alpha < cost))
    # The primal-dual link: alpha_i = C s_i sigma(-y_i w.x_i), w = sum_i alpha_i y_i x_i.
    np.testing.assert_allclose(alpha, cost * expit(-y * (Xb @ w)), rtol=1e-4,
                               atol=1e-6 * cost.max())
    np.testing.assert_allclose(w, Xb.T @ (alpha * y), atol=1e-9 * max(1.0, cost.sum()))


@pytest.mark.parametrize("hot, every, shared", [(0, -1, False), (2, 1, True), (3, 2, False)])
def test_log_loss_pass_is_the_exact_coordinate_minimisation(hot, every, shared):
    X, y = _random_problem(3, n=25, d=4)
    ours = X.tocsr()
    cost = np.random.default_rng(0).uniform(0.5, 3.0, y.shape[0])
    alpha = cost * np.random.default_rng(1).uniform(0.01, 0.99, y.shape[0])
    order = np.random.default_rng(2).permutation(y.shape[0])
    w_naive, alpha_naive = naive_logistic_dual_pass(X.toarray(), y, cost, alpha, order, 0.5)
    qd = squared_row_norms(ours.indptr, ours.data, 0.5)
    # The pass on the copy whose first ``hot`` columns (by id) come first in each row: its
    # weights are the hot columns', then the others' shifted by ``hot``, then the bias.
    slot = np.where(np.arange(4) < hot, np.arange(4), -1).astype(np.int32)
    indices, data = np.empty_like(ours.indices), np.empty_like(ours.data)
    split, norms = np.empty(25, dtype=ours.indptr.dtype), np.empty(25)
    code = np.where(slot >= 0, slot, hot + np.arange(4)).astype(np.int32)
    split_hot(ours.indptr, ours.indices, ours.data, code, hot, 0.5, 0, 25, indices, data, split,
              norms)
    w = np.concatenate([np.zeros(hot), ours.T @ (alpha * y), [0.5 * (alpha @ y)]])
    w[:hot], w[hot:2 * hot] = w[hot:2 * hot].copy(), 0.0
    alpha, rest, own = alpha.copy(), cost - alpha, np.zeros(hot + 1)
    logistic_pass(ours.indptr, indices, data, split, y, cost, qd, alpha, rest, w, 0.5, order,
                  1e-13, own, every, shared)
    assert not own.any()
    np.testing.assert_allclose(alpha, alpha_naive, rtol=1e-10)
    np.testing.assert_allclose(rest, cost - alpha_naive, rtol=1e-9)
    assert not w[hot:2 * hot].any()
    w = np.append(w[:hot], w[2 * hot:])  # X's columns
    np.testing.assert_allclose(w, w_naive, atol=1e-10)
    # The gap kernel: P(w) - D(alpha) with fasttext_lin._duality's conjugate.
    primal, gap = logistic_primal_gap(ours.indptr, ours.indices, ours.data, y, cost, alpha,
                                      rest, w, 0.5, np.arange(y.shape[0]))
    Xb = np.hstack([X.toarray(), np.full((y.shape[0], 1), 0.5)])
    expected = 0.5 * w @ w + cost @ np.logaddexp(0.0, -y * (Xb @ w))
    np.testing.assert_allclose(primal, expected, rtol=1e-12)
    np.testing.assert_allclose(gap, expected - _log_loss_dual(Xb, y, alpha, cost), rtol=1e-8)


def _log_loss_dual(X, y, alpha, cost):
    """D(alpha) of the log-loss problem with fasttext_lin._duality's conjugate."""
    v = X.T @ (alpha * y)
    return -0.5 * v @ v - cost @ _conjugate("log_loss", alpha / cost)


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-8])
def test_log_loss_relative_gap_at_return_is_at_most_tol(tol):
    X, y = _a9a()
    weight = np.random.default_rng(0).uniform(0.0, 2.0, size=y.shape[0])
    weight[::7] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = _cd("log_loss", tol=tol, C=0.5, intercept_scaling=2.0).fit(
            X, y, sample_weight=weight)
    # The solver's certificate, P(coef_) - D(dual_coef_), recomputed in NumPy.
    certificate = model.duality_gap(X, y, sample_weight=weight)
    Xb = sp.hstack([X, np.full((X.shape[0], 1), 2.0)], format="csr")
    used = weight > 0
    dual = _log_loss_dual(Xb[used], y[used], model.dual_coef_[0][used], 0.5 * weight[used])
    assert 0.0 <= certificate.primal - dual <= tol * certificate.primal
    assert np.all(model.dual_coef_[0][~used] == 0.0)
    # duality_gap's own dual point, built from coef_ alone, is a looser certificate for log
    # loss (about 1/2 ||grad P||^2), but still one: above the true suboptimality.
    optimum = _cd("log_loss", tol=1e-12, C=0.5, intercept_scaling=2.0).fit(
        X, y, sample_weight=weight).duality_gap(X, y, sample_weight=weight).primal
    assert certificate.gap >= certificate.primal - optimum >= 0.0


def test_log_loss_integer_weights_are_duplicated_rows():
    X, y = _a9a()
    weight = np.random.default_rng(1).integers(0, 4, size=y.shape[0])
    rows = np.repeat(np.arange(y.shape[0]), weight)
    weighted = _cd("log_loss").fit(X, y, sample_weight=weight)
    duplicated = _cd("log_loss").fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, duplicated.coef_, atol=1e-6)
    np.testing.assert_allclose(weighted.intercept_, duplicated.intercept_, atol=1e-6)
    by_class = _cd("log_loss", class_weight={-1.0: 1.0, 1.0: 3.0}).fit(X, y)
    by_row = _cd("log_loss").fit(X, y, sample_weight=np.where(y > 0, 3.0, 1.0))
    np.testing.assert_allclose(by_class.coef_, by_row.coef_, atol=1e-6)


def test_log_loss_warm_start_takes_fewer_passes_to_the_same_optimum():
    X, y = _a9a()
    model = _cd("log_loss", C=0.3, tol=1e-10, warm_start=True).fit(X, y)
    warm = model.set_params(C=1.0).fit(X, y)
    cold = _cd("log_loss", C=1.0, tol=1e-10).fit(X, y)
    assert warm.n_iter_ < cold.n_iter_
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-5)
    # From its own optimum, one pass certifies it (the start is clipped inside the bounds).
    again = warm.set_params(tol=1e-8).fit(X, y)
    assert again.n_iter_ == 1
    # A hinge solution (alpha on its bounds) is a valid start too.
    hinge = _cd("hinge", tol=1e-4, warm_start=True).fit(X, y)
    from_hinge = hinge.set_params(loss="log_loss", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(from_hinge.coef_, cold.coef_, atol=1e-5)


def test_log_loss_float32_input_reaches_the_float64_optimum():
    X, y = _a9a()
    X32 = X.astype(np.float32)
    single = _cd("log_loss").fit(X32, y)
    double = _cd("log_loss").fit(X32.astype(np.float64), y)
    np.testing.assert_allclose(single.coef_, double.coef_, atol=1e-6)
    np.testing.assert_allclose(single.dual_coef_, double.dual_coef_, atol=1e-6)


def test_log_loss_one_vs_rest_in_threads_and_predict_proba():
    X, _ = _a9a()
    y = np.arange(X.shape[0]) % 3
    ovr = _cd("log_loss").fit(X, y)
    threaded = _cd("log_loss", n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(threaded.coef_, ovr.coef_)
    binary = _cd("log_loss").fit(X, np.where(y == 1, 1, -1))
    np.testing.assert_allclose(ovr.coef_[1], binary.coef_[0], atol=1e-5)
    proba = ovr.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Two classes: the sigmoid of the score, as LogisticRegression's.
    X2, y2 = _a9a()
    ours = _cd("log_loss").fit(X2, y2)
    theirs = _liblinear_logistic(intercept_scaling=1.0).fit(_int32(X2), y2)
    np.testing.assert_allclose(ours.predict_proba(X2), theirs.predict_proba(_int32(X2)),
                               atol=1e-6)


def test_log_loss_max_iter_warns_and_verbose_prints_the_gap(capsys):
    X, y = _a9a()
    with pytest.warns(ConvergenceWarning, match="relative duality gap of"):
        _cd("log_loss", max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _cd("log_loss", tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert "primal" in lines[-1] and "dual" in lines[-1]
    assert float(lines[-1].split("relative gap ")[1].split(",")[0]) <= 1e-4


def test_log_loss_pass_keeps_the_small_side_of_a_variable_at_its_bound():
    # alpha = c - 1e-20 rounds to c: the pass solves for rest = 1e-20 and never divides by
    # c - alpha (a ZeroDivisionError in Numba), and leaves alpha + rest = c.
    X = sp.csr_matrix(np.array([[1.0, 0.5], [-1.0, 2.0], [0.5, 0.5]]))
    y = np.array([1.0, -1.0, -1.0])
    cost = np.array([1.0, 2.0, 1.0])
    alpha, rest = np.array([0.3, 2.0, 1.0]), np.array([0.7, 1e-20, 1e-300])
    w = np.append(X.T @ (alpha * y), 0.0)
    qd = squared_row_norms(X.indptr, X.data, 0.0)
    for order in ([0, 1, 2], [2, 1, 0]):
        logistic_pass(X.indptr, X.indices, X.data, X.indptr[:-1], y, cost, qd, alpha, rest, w,
                      0.0, np.array(order), 1e-10, np.zeros(1), -1, False)
    assert np.all((rest > 0) & np.isfinite(w))
    np.testing.assert_allclose(alpha + rest, cost)
    np.testing.assert_allclose(w[:2], X.T @ (alpha * y))

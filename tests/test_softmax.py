"""Softmax (multinomial) SGD: the kernel against the maths and a NumPy reference, the estimator
against the two-class logistic model and LogisticRegression."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_softmax_sgd
from scipy.special import log_softmax
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MaxAbsScaler

from fasttext_lin import LinearClassifier
from fasttext_lin import _sgd_kernels as K
from fasttext_lin import _softmax_kernels as S
from fasttext_lin._sgd import optimal_t0
from fasttext_lin.datasets import fetch_libsvm


def new_state(n_features, n_classes, average, dtype=np.float64):
    """Zero weights ``v`` (feature-major), ``u`` and ``state``, as the estimator starts."""
    v = np.zeros((n_features, n_classes), dtype=dtype)
    u = np.zeros((n_features, n_classes if average else 0))
    state = np.zeros((n_classes, K.STATE_SIZE))
    state[:, [K.SCALE, K.T]] = 1.0
    return v, u, state


def epoch(X, y, order, v, u, state, schedule="constant", alpha=0.0, eta0=0.1, power_t=0.5,
          optimal_t0=1.0, intercept_decay=1.0, average_start=-1, sample_weight=None):
    """One kernel epoch over ``order`` on CSR ``X``; return the loss sum."""
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    return S.softmax_epoch(
        X.indptr.astype(np.uint32), X.indices.astype(np.uint32), X.data,
        np.asarray(y, dtype=np.intp), sample_weight, np.asarray(order, dtype=np.uintp),
        v.reshape(-1), u.reshape(-1), state, K.SCHEDULE_CODES[schedule], alpha, eta0, power_t,
        optimal_t0, intercept_decay, average_start, True,
    )


def weights(v, u, state):
    """``(W, b, W_avg, b_avg)`` of the kernel's variables, W of shape (n_classes, n_features)."""
    W = (state[0, K.SCALE] * v).T
    b = state[:, K.INTERCEPT].copy()
    n = state[0, K.AVG_N]
    if n == 0:
        return W, b, None, None
    return W, b, (u + state[0, K.AVG_C] * v).T / n, state[:, K.AVG_INTERCEPT] / n


def run_kernel(X, y, n_classes, orders, dtype=np.float64, **params):
    """Train with the kernel, one call per order; return ``(W, b, W_avg, b_avg, loss)``."""
    X = sp.csr_matrix(X, dtype=dtype)
    v, u, state = new_state(X.shape[1], n_classes, params.get("average_start", -1) >= 0, dtype)
    loss = sum(epoch(X, y, order, v, u, state, **params) for order in orders)
    return (*weights(v, u, state), loss)


@st.composite
def softmax_problems(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 8))
    n_classes = draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < draw(st.floats(0.1, 1.0)))
    schedule = draw(st.sampled_from(sorted(K.SCHEDULE_CODES)))
    # alpha * eta up to 0.9 x 4: the scale shrinks fast, folds, or is wiped out.
    alpha = draw(st.sampled_from([1e-3, 0.1, 1.9, 4.0] + ([] if schedule == "optimal" else [0.0])))
    eta0 = draw(st.sampled_from([0.01, 0.1, 0.5]))
    return dict(
        X=X, y=rng.integers(0, n_classes, size=n), n_classes=n_classes,
        orders=[rng.permutation(n) for _ in range(draw(st.integers(1, 3)))],
        schedule=schedule, alpha=alpha, eta0=eta0, power_t=draw(st.sampled_from([0.25, 0.5])),
        optimal_t0=1.0 / (alpha * eta0) if alpha else 1.0,
        intercept_decay=draw(st.sampled_from([0.0, 0.01, 1.0])),
        average_start=draw(st.sampled_from([-1, 1, 3])),
        sample_weight=rng.uniform(0.2, 2.0, size=n) if draw(st.booleans()) else None,
    )


def assert_same(got, want, atol=1e-10):
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=atol)


@settings(max_examples=300, deadline=None)
@given(softmax_problems())
def test_kernel_equals_numpy_reference(problem):
    assert_same(run_kernel(**problem), naive_softmax_sgd(**problem))


@pytest.mark.parametrize("average_start", [-1, 1])
def test_l2_scale_folding_matches_reference(average_start):
    # alpha * eta = 0.9 shrinks the scale 10x a step: it crosses the fold threshold (1e-9,
    # 1e-4 when averaging) several times an epoch.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6)) * (rng.random((30, 6)) < 0.5)
    problem = dict(X=X, y=rng.integers(0, 4, size=30), n_classes=4,
                   orders=[rng.permutation(30) for _ in range(2)], alpha=1.8, eta0=0.5,
                   average_start=average_start)
    assert_same(run_kernel(**problem), naive_softmax_sgd(**problem), atol=1e-12)


def test_large_scores_stay_finite():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    v, u, state = new_state(2, 3, False)
    v[:] = [[800.0, -800.0, 0.0], [0.0, 900.0, -900.0]]
    loss = epoch(X, [1, 0], [0, 1], v, u, state, eta0=1e-3)
    # CE of row 0 is 1600 (score 800 against -800), of row 1 about 900 (0 against 900).
    np.testing.assert_allclose(loss, 1600.0 + 900.0, rtol=1e-6)
    assert np.isfinite(v).all() and np.isfinite(state).all()


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("average_start", [-1, 1])
def test_two_class_softmax_steps_are_logistic_steps(alpha, average_start):
    """With two classes, softmax SGD at step eps/2 and L2 alpha is logistic SGD at step eps
    and L2 alpha/2 on ``delta = w_1 - w_0``: the shrink factors agree (1 - eps alpha/2) and
    ``p_1 - 1[y=1]`` is the log loss derivative at ``z = delta . x``, applied with opposite
    signs to w_1 and w_0. Checked after every step."""
    rng = np.random.default_rng(3)
    n, d, eps = 40, 7, 0.3
    X = sp.csr_matrix(rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.6))
    y = rng.integers(0, 2, size=n)
    weight = rng.uniform(0.5, 2.0, size=n)
    v, u, state = new_state(d, 2, average_start >= 0)
    lv = np.zeros(d)
    lu = np.zeros(d if average_start >= 0 else 0)
    lstate = np.zeros(K.STATE_SIZE)
    lstate[[K.SCALE, K.T]] = 1.0
    indptr, indices = X.indptr.astype(np.uint32), X.indices.astype(np.uint32)
    for i in rng.permutation(n):
        row = np.array([i], dtype=np.uintp)
        epoch(X, y, row, v, u, state, alpha=alpha, eta0=eps / 2, sample_weight=weight,
              average_start=average_start)
        K.sgd_epoch(indptr, indices, X.data, 2.0 * y - 1.0, weight, row, lv, lu, lstate,
                    K.LOG_LOSS, K.CONSTANT, alpha / 2, eps, 0.5, 1.0, 1.0, average_start, True)
        W, b, W_avg, b_avg = weights(v, u, state)
        np.testing.assert_allclose(W[1] - W[0], lstate[K.SCALE] * lv, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b[1] - b[0], lstate[K.INTERCEPT], rtol=0, atol=1e-10)
        if average_start >= 0:
            n_avg = lstate[K.AVG_N]
            np.testing.assert_allclose(W_avg[1] - W_avg[0],
                                       (lu + lstate[K.AVG_C] * lv) / n_avg, atol=1e-10)
            np.testing.assert_allclose(b_avg[1] - b_avg[0], lstate[K.AVG_INTERCEPT] / n_avg,
                                       atol=1e-10)


def test_kernel_step_is_the_gradient_of_cross_entropy_plus_l2():
    """One step from W is ``W - eta grad`` with ``grad_k = (p_k - 1[y=k]) x + 2 lambda w_k``
    the gradient of ``CE + lambda ||W||^2`` (``lambda = alpha / 2``), checked against central
    finite differences; the intercepts' step against those of CE in b."""
    rng = np.random.default_rng(5)
    n_classes, d, alpha, eta = 4, 6, 0.2, 1e-2
    x = rng.normal(size=d)
    x[[1, 4]] = 0.0
    label = 2
    W0, b0 = rng.normal(size=(n_classes, d)), rng.normal(size=n_classes)

    def objective(W, b):
        z = W @ x + b
        return -log_softmax(z)[label] + alpha / 2 * np.sum(W * W)

    h = 1e-6
    grad_W = np.zeros_like(W0)
    for k in range(n_classes):
        for f in range(d):
            step = np.zeros_like(W0)
            step[k, f] = h
            grad_W[k, f] = (objective(W0 + step, b0) - objective(W0 - step, b0)) / (2 * h)
    grad_b = np.array([(objective(W0, b0 + h * e) - objective(W0, b0 - h * e)) / (2 * h)
                       for e in np.eye(n_classes)])
    z = W0 @ x + b0
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    formula = np.outer(p - np.eye(n_classes)[label], x) + alpha * W0
    np.testing.assert_allclose(formula, grad_W, atol=1e-8)

    v, u, state = new_state(d, n_classes, False)
    v[:] = W0.T
    state[:, K.INTERCEPT] = b0
    epoch(sp.csr_matrix(x), [label], [0], v, u, state, alpha=alpha, eta0=eta)
    W1, b1, _, _ = weights(v, u, state)
    np.testing.assert_allclose((W0 - W1) / eta, grad_W, atol=1e-7)
    np.testing.assert_allclose((b0 - b1) / eta, grad_b, atol=1e-7)


# -- the estimator ------------------------------------------------------------------------------

def blobs(n_classes, n=300, seed=0):
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10,
                               n_classes=n_classes, random_state=seed)
    return sp.csr_matrix(X), y


def full_scores(clf, X):
    """Scores of every class from the full softmax weights (the SGD state)."""
    W, b = clf.sgd_state_.solution()
    return X @ W.T + b


@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_predict_proba_is_the_softmax_of_the_class_scores(n_classes, average):
    X, y = blobs(n_classes)
    clf = LinearClassifier(loss="softmax", average=average, random_state=0).fit(X, y)
    Z = full_scores(clf, X)
    np.testing.assert_allclose(clf.predict_log_proba(X), log_softmax(Z, axis=1), atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    if n_classes == 2:
        # One row, as scikit-learn's binary models: the score of classes_[1] against classes_[0].
        assert clf.coef_.shape == (1, 20) and clf.intercept_.shape == (1,)
        np.testing.assert_allclose(clf.decision_function(X), Z[:, 1] - Z[:, 0], atol=1e-12)
    else:
        np.testing.assert_allclose(clf.decision_function(X), Z, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[Z.argmax(axis=1)])


def test_adding_one_vector_to_every_class_leaves_predict_proba_unchanged():
    X, y = blobs(3)
    clf = LinearClassifier(loss="softmax", random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    rng = np.random.default_rng(0)
    clf.coef_ = clf.coef_ + 10 * rng.normal(size=20)
    clf.intercept_ = clf.intercept_ + 7.0
    np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-9, atol=1e-12)


def test_log_proba_is_finite_for_huge_scores():
    X, y = blobs(3)
    clf = LinearClassifier(loss="softmax", random_state=0).fit(X, y)
    clf.coef_ = clf.coef_ * 1e6
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all() and (log_proba <= 0).all()
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_class_weight_multiplies_sample_weight():
    X, y = blobs(3)
    params = dict(loss="softmax", random_state=0, max_iter=5, tol=None)
    balanced = LinearClassifier(class_weight={0: 2.0, 1: 0.5, 2: 1.0}, **params)
    by_hand = LinearClassifier(**params).fit(X, y, sample_weight=np.array([2.0, 0.5, 1.0])[y])
    np.testing.assert_array_equal(balanced.fit(X, y).coef_, by_hand.coef_)


def test_warm_start_starts_from_the_previous_solution():
    X, y = blobs(3)
    params = dict(loss="softmax", solver="sgd", max_iter=1, tol=None, random_state=0,
                  learning_rate="constant", alpha=0.0)
    clf = LinearClassifier(warm_start=True, eta0=0.1, **params)
    first = clf.fit(X, y).coef_.copy()
    clf.set_params(eta0=1e-12)
    np.testing.assert_allclose(clf.fit(X, y).coef_, first, atol=1e-9)
    # A model of another loss is not a start: the fit is cold.
    clf.set_params(loss="log_loss").fit(X, y)
    assert np.abs(clf.coef_).max() < 1e-9


def test_error_changing_loss_between_partial_fits():
    X, y = blobs(3)
    clf = LinearClassifier(loss="log_loss").partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="loss='softmax' cannot continue a model trained with "
                                         "another loss .* call fit"):
        clf.set_params(loss="softmax").partial_fit(X, y)


def test_error_diverging_learning_rate_names_the_epoch():
    X, y = blobs(3)
    clf = LinearClassifier(loss="softmax", solver="sgd", learning_rate="constant", eta0=1e305,
                           alpha=0.0)
    with pytest.raises(ValueError, match="non-finite in epoch 1 .*'softmax'.* lower eta0"):
        clf.fit(X * 1e3, y)
    assert not hasattr(clf, "coef_")


def test_optimal_schedule_starts_below_the_curvature_cap():
    X, y = blobs(3)
    X = X * 30.0
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=y.shape[0])
    alpha = 1e-6
    csr = (X.indptr, X.indices, X.data)
    first_eta = 1.0 / (alpha * optimal_t0("softmax", alpha, csr, weight))
    largest = np.max(weight * np.asarray(X.multiply(X).sum(axis=1)).ravel())
    np.testing.assert_allclose(first_eta, 1.0 / (S.CURVATURE * largest))
    clf = LinearClassifier(loss="softmax", alpha=alpha, max_iter=3, tol=None, random_state=0)
    assert np.isfinite(clf.fit(X, y, sample_weight=weight).coef_).all()


# -- real data ----------------------------------------------------------------------------------

def scaled(name, shared_data):
    data = fetch_libsvm(name, data_home=shared_data, download=False)
    scaler = MaxAbsScaler().fit(data.X_train)
    return (scaler.transform(data.X_train).tocsr(), data.y_train,
            scaler.transform(data.X_test).tocsr(), data.y_test)


def objective(clf, X, y, alpha):
    """``(1/n) sum_i CE_i + alpha/2 ||W||^2`` of a softmax model of three classes or more."""
    log_proba = clf.predict_log_proba(X)[np.arange(y.shape[0]), np.searchsorted(clf.classes_, y)]
    return -log_proba.mean() + alpha / 2 * np.sum(clf.coef_ ** 2)


def test_objective_decreases_over_epochs_on_dna(shared_data):
    X, y, _, _ = scaled("dna", shared_data)
    clf = LinearClassifier(loss="softmax", C=1.0, random_state=0)
    values = [np.log(3)]  # the objective at zero weights
    for _ in range(20):
        values.append(objective(clf.partial_fit(X, y, classes=[1, 2, 3]), X, y,
                                1.0 / X.shape[0]))
    assert np.all(np.diff(values) < 0), values
    # LogisticRegression's optimum at C=1 is 0.0796 (lbfgs, tol 1e-10).
    assert values[-1] < 0.09


@pytest.mark.parametrize("name", ["dna", "pendigits"])
def test_accuracy_within_one_point_of_logistic_regression(name, shared_data):
    X, y, X_test, y_test = scaled(name, shared_data)
    reference = LogisticRegression(C=1.0, max_iter=1000).fit(X, y).score(X_test, y_test)
    clf = LinearClassifier(loss="softmax", C=1.0, random_state=0).fit(X, y)
    assert abs(clf.score(X_test, y_test) - reference) <= 0.01

"""Softmax (multinomial) SGD: the kernel against the maths and a NumPy reference, the estimator
against the two-class logistic model and LogisticRegression."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import MaxAbsScaler

from fasttext_lin import LinearClassifier
from fasttext_lin import _sgd_kernels as K
from fasttext_lin import _softmax_kernels as S
from fasttext_lin.datasets import fetch_libsvm
from naive import naive_softmax_sgd


def new_state(n_features, n_classes, average, dtype=np.float64):
    """Zero weights ``v`` (feature-major), ``u`` and ``state``, as the estimator starts."""
    v = np.zeros((n_features, n_classes), dtype=dtype)
    u = np.zeros((n_features, n_classes if average else 0))
    state = np.zeros((n_classes, K.STATE_SIZE))
    state[:, [K.SCALE, K.T]] = 1.0
    return v, u, state


def epoch(X, y, order, v, u, state, schedule="constant", alpha=0.0, eta0=0.1, power_t=0.5,
          optimal_t0=1.0, fit_intercept=True, average_start=-1, sample_weight=None):
    """One kernel epoch over ``order`` on CSR ``X``; return the loss sum."""
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    return S.softmax_epoch(
        X.indptr.astype(np.uint32), X.indices.astype(np.uint32), X.data,
        np.asarray(y, dtype=np.intp), sample_weight, np.asarray(order, dtype=np.uintp),
        v.reshape(-1), u.reshape(-1), state, K.SCHEDULE_CODES[schedule], alpha, eta0, power_t,
        optimal_t0, fit_intercept, average_start, True,
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
        fit_intercept=draw(st.booleans()), average_start=draw(st.sampled_from([-1, 1, 3])),
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
                    K.LOG_LOSS, K.CONSTANT, alpha / 2, eps, 0.5, 1.0, True, average_start, True)
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

"""The jitted SGD epoch against the maths and against a plain NumPy reference."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_sgd

from fasttext_lin import _sgd_kernels as K


def run_kernel(X, y, orders, loss, schedule="constant", alpha=0.0, eta0=0.1, power_t=0.5,
               optimal_t0=1.0, intercept_decay=1.0, average_start=-1, sample_weight=None,
               dtype=np.float64):
    """Train with the kernel, one call per order; return ``(w, b, w_avg, b_avg)``."""
    X = sp.csr_matrix(X, dtype=dtype)
    sample_weight = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    v = np.zeros(X.shape[1], dtype=dtype)
    u = np.zeros(X.shape[1] if average_start >= 0 else 0)
    state = np.zeros(K.STATE_SIZE)
    state[[K.SCALE, K.T]] = 1.0
    for order in orders:
        # Unsigned index arrays, as the estimator passes them.
        K.sgd_epoch(X.indptr.astype(np.uint32), X.indices.astype(np.uint32), X.data,
                    np.asarray(y, dtype=np.float64), sample_weight,
                    np.asarray(order, dtype=np.uintp), v, u, state,
                    K.LOSS_CODES[loss], K.SCHEDULE_CODES[schedule], alpha, eta0, power_t,
                    optimal_t0, intercept_decay, average_start, True)
    w = state[K.SCALE] * v
    if state[K.AVG_N] == 0:
        return w, state[K.INTERCEPT], None, None
    w_avg = (u + state[K.AVG_C] * v) / state[K.AVG_N]
    return w, state[K.INTERCEPT], w_avg, state[K.AVG_INTERCEPT] / state[K.AVG_N]


def test_hinge_worked_example():
    # Columns: bias, pretty, good, bad, plot, not, scenery.
    vocab = ["bias", "pretty", "good", "bad", "plot", "not", "scenery"]
    docs = [("not good", -1), ("pretty bad", -1), ("good plot", 1), ("pretty scenery", 1)]
    X = np.zeros((4, 7))
    X[:, 0] = 1.0
    for i, (text, _) in enumerate(docs):
        for word in text.split():
            X[i, vocab.index(word)] += 1
    y = [label for _, label in docs]
    w, b, _, _ = run_kernel(X, y, [range(4)], "hinge", eta0=0.1, intercept_decay=0.0)
    expected = dict(bias=0, pretty=0, good=0, bad=-0.1, plot=0.1, not_=-0.1, scenery=0.1)
    np.testing.assert_allclose(w, list(expected.values()), rtol=0, atol=1e-12)
    assert b == 0.0


def test_hinge_takes_no_step_at_margin_exactly_one():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # After rows 0 and 1 (margin 0, steps of 1.0): w = [1, -1]; row 2 has margin exactly 1.
    w, _, _, _ = run_kernel(X, [1, -1, 1], [range(3)], "hinge", eta0=1.0, intercept_decay=0.0)
    np.testing.assert_array_equal(w, [1.0, -1.0])
    # Just inside the margin, the step is taken.
    X[2, 0] = 0.999
    w, _, _, _ = run_kernel(X, [1, -1, 1], [range(3)], "hinge", eta0=1.0, intercept_decay=0.0)
    np.testing.assert_allclose(w, [1.999, -1.0])


@st.composite
def sgd_problems(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < draw(st.floats(0.1, 1.0)))
    loss = draw(st.sampled_from(sorted(K.LOSS_CODES)))
    y = rng.normal(size=n) if loss == "squared_error" else rng.choice([-1.0, 1.0], size=n)
    n_epochs = draw(st.integers(1, 3))
    schedule = draw(st.sampled_from(sorted(K.SCHEDULE_CODES)))
    alpha = draw(st.sampled_from([1e-3, 0.1, 1.9, 4.0] + ([] if schedule == "optimal" else [0.0])))
    eta0 = draw(st.sampled_from([0.01, 0.1, 0.5]))
    return dict(
        X=X, y=y, orders=[rng.permutation(n) for _ in range(n_epochs)], loss=loss,
        schedule=schedule, alpha=alpha, eta0=eta0,
        power_t=draw(st.sampled_from([0.25, 0.5])),
        # 'optimal' starts at the step eta0, as Python's heuristic sets it up.
        optimal_t0=1.0 / (alpha * eta0) if alpha else 1.0,
        intercept_decay=draw(st.sampled_from([0.0, 0.01, 1.0])),
        average_start=draw(st.sampled_from([-1, 1, 3])),
        sample_weight=rng.uniform(0.2, 2.0, size=n),
    )


@settings(max_examples=300, deadline=None)
@given(sgd_problems())
def test_kernel_equals_numpy_reference(problem):
    got = run_kernel(**problem)
    want = naive_sgd(**problem)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("loss", sorted(K.LOSS_CODES))
@pytest.mark.parametrize("average_start", [-1, 1])
def test_l2_scale_folding_matches_reference(loss, average_start):
    # alpha * eta = 0.9 shrinks the scale by 10x a step: it crosses 1e-9 (the fold
    # threshold) within each epoch.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 6)) * (rng.random((30, 6)) < 0.5)
    y = rng.normal(size=30) if loss == "squared_error" else rng.choice([-1.0, 1.0], size=30)
    problem = dict(X=X, y=y, orders=[rng.permutation(30) for _ in range(2)], loss=loss,
                   alpha=1.8, eta0=0.5, average_start=average_start)
    for g, w in zip(run_kernel(**problem), naive_sgd(**problem)):
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_float32_weights_follow_float64_closely():
    rng = np.random.default_rng(1)
    X = rng.random((50, 10)) * (rng.random((50, 10)) < 0.4)
    y = rng.choice([-1.0, 1.0], size=50)
    args = dict(orders=[rng.permutation(50)], loss="log_loss", alpha=1e-2, average_start=1)
    w64 = run_kernel(X, y, **args)[2]
    w32 = run_kernel(X, y, dtype=np.float32, **args)[2]
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


def test_squared_error_sgd_converges_to_ridge_solution():
    rng = np.random.default_rng(0)
    n, d, lam = 200, 5, 0.1
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    w_star = np.linalg.solve(X.T @ X + n * lam * np.eye(d), X.T @ y)

    def objective(w):
        return np.sum((X @ w - y) ** 2) / (2 * n) + lam / 2 * w @ w

    # w* is the minimiser: zero gradient, and every nearby point is worse.
    np.testing.assert_allclose(X.T @ (X @ w_star - y) / n + lam * w_star, 0, atol=1e-12)
    for direction in rng.normal(size=(20, d)):
        assert objective(w_star + 1e-3 * direction) > objective(w_star)

    orders = [rng.permutation(n) for _ in range(300)]
    _, _, w_avg, _ = run_kernel(X, y, orders, "squared_error", schedule="optimal", alpha=lam,
                                optimal_t0=1.0 / (lam * 0.05), intercept_decay=0.0,
                                average_start=1)
    assert np.linalg.norm(w_avg - w_star) / np.linalg.norm(w_star) <= 1e-3


def test_max_weighted_squared_norm():
    X = sp.csr_matrix(np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]]))
    assert K.max_weighted_squared_norm(X.indptr, X.data, np.ones(3)) == 25.0
    assert K.max_weighted_squared_norm(X.indptr, X.data, np.array([1.0, 1.0, 20.0])) == 40.0



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_sum_is_numpy_sum_of_squares(dtype):
    values = np.random.default_rng(0).normal(size=1001).astype(dtype)
    expected = np.sum(values.astype(np.float64) ** 2)
    assert K.squared_sum(values) == pytest.approx(expected, rel=1e-12)
    assert K.squared_sum(values[:0]) == 0.0

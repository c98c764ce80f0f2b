"""The kernels of solver='cd' (fasttext_lin._cd_kernels) against NumPy references."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_gap_and_screen

from fasttext_lin import _cd_threads
from fasttext_lin._cd_kernels import add_rows, clear_rows, gap_and_screen, primal_dual, shuffle


@st.composite
def dual_points(draw):
    """A random problem and a feasible dual point with rows at both bounds and inside."""
    n, d = draw(st.integers(2, 25)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    X = sp.csr_matrix(rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.7))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    squared = draw(st.booleans())
    cost = rng.choice([0.0, 0.5, 2.0], size=n)
    upper = np.where(cost > 0, np.inf if squared else cost, 0.0)
    diag = np.where(cost > 0, 0.5 / np.where(cost > 0, cost, 1.0), 0.0) if squared else 0 * cost
    alpha = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0.0, 2.0, n) * (cost > 0))
    if not squared:
        alpha = np.where(rng.random(n) < 0.3, upper, np.minimum(alpha, upper))
    bias = draw(st.sampled_from([0.0, 1.0, 3.0]))
    w = np.append(X.T @ (alpha * y), bias * (alpha * y).sum())
    return X, y, cost, upper, diag, alpha, w, bias, squared


@settings(max_examples=60, deadline=None)
@given(dual_points(), st.sampled_from([0.0, 0.5, 1.0]))
def test_gap_and_screen_is_the_numpy_sweep(point, shrink):
    X, y, cost, upper, diag, alpha, w, bias, squared = point
    index = np.zeros(int((upper > 0).sum()), dtype=np.intp)
    gradient, bounds = np.empty(y.shape[0]), np.empty(2)
    primal, dual, active, spread = gap_and_screen(
        X.indptr, X.indices, X.data, y, cost, upper, diag, alpha, w, bias, squared, index,
        gradient, bounds, shrink
    )
    want = naive_gap_and_screen(X, y, cost, upper, diag, alpha, w, bias, squared, shrink)
    np.testing.assert_allclose([primal, dual], want[:2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(index[:active], want[2])
    np.testing.assert_array_equal(np.sort(index), np.flatnonzero(upper > 0))
    if index.shape[0]:
        np.testing.assert_allclose(spread, want[3], rtol=1e-12, atol=1e-12)
    assert (primal, dual) == primal_dual(X.indptr, X.indices, X.data, y, cost, diag, alpha, w,
                                         bias, squared)


class _TwoSlices(_cd_threads._Rows):
    """The face Newton step's products over two slices of the rows (however few), in
    turn."""

    count = 2

    def _parts(self, n):
        return [(0, n // 2), (n // 2, n)]


def _face_newton(threads, X, y, upper, diag, bias, alpha, w, rows, iterations):
    """Run ``threads.face_newton``; return ``(taken, scratch)``."""
    scratch = np.zeros((threads.count, w.shape[0]))
    taken = threads.face_newton((X.indptr, X.indices, X.data), y, upper, diag, bias, alpha, w,
                                rows, iterations, scratch)
    return taken, scratch


@settings(max_examples=60, deadline=None)
@given(dual_points(), st.integers(0, 30), st.sampled_from([_cd_threads.Serial, _TwoSlices]))
def test_face_newton_raises_the_dual_within_the_bounds(point, iterations, threads):
    X, y, cost, upper, diag, alpha, w, bias, squared = point
    rows = np.flatnonzero((alpha > 0) & (alpha < upper))
    before = primal_dual(X.indptr, X.indices, X.data, y, cost, diag, alpha, w, bias, squared)[1]
    moved = alpha.copy()
    taken, scratch = _face_newton(threads(), X, y, upper, diag, bias, moved, w, rows,
                                  iterations)
    after = primal_dual(X.indptr, X.indices, X.data, y, cost, diag, moved, w, bias, squared)[1]
    assert not scratch.any()
    assert np.all((moved >= 0) & (moved <= upper))
    np.testing.assert_array_equal(np.delete(moved, rows), np.delete(alpha, rows))
    np.testing.assert_allclose(w, np.append(X.T @ (moved * y), bias * (moved * y).sum()),
                               atol=1e-9)
    assert after > before if taken else np.array_equal(moved, alpha)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.integers(1, 300), st.sampled_from([0.01, 0.3]),
       st.sampled_from([_cd_threads.Serial, _TwoSlices]), st.integers(0, 2**31 - 1))
def test_product_is_the_numpy_product(n, d, density, threads, seed):
    # Sparse rows over many columns keep one row of scratch per slice; denser ones fold
    # the slices' rows first.
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng)
    y, diag = np.where(rng.random(n) < 0.5, -1.0, 1.0), rng.uniform(0.0, 1.0, n)
    rows = np.sort(rng.choice(n, rng.integers(1, n + 1), replace=False))
    v = rng.normal(size=rows.size)
    scratch, out = np.zeros((2, d + 1)), np.empty(rows.size)
    threads()._product((X.indptr, X.indices, X.data), y, diag, 0.5, rows, v, scratch, out)
    Z = y[rows, None] * np.hstack([X[rows].toarray(), np.full((rows.size, 1), 0.5)])
    np.testing.assert_allclose(out, Z @ (Z.T @ v) + diag[rows] * v, rtol=1e-10, atol=1e-12)
    assert not scratch.any()


def test_face_newton_solves_a_free_face_exactly():
    # Squared hinge (small C: a large diag), every row free: the face is the whole dual,
    # a linear system that conjugate gradients solve in at most 8 steps.
    rng = np.random.default_rng(0)
    X, y = sp.csr_matrix(rng.normal(size=(8, 5))), np.array([1.0, -1.0] * 4)
    upper, diag = np.full(8, np.inf), np.full(8, 5.0)
    alpha = np.full(8, 1e-3)
    w = np.append(X.T @ (alpha * y), 0.0)
    _face_newton(_cd_threads.Serial(), X, y, upper, diag, 0.0, alpha, w, np.arange(8), 50)
    Q = (y[:, None] * X.toarray()) @ (y[:, None] * X.toarray()).T + np.diag(diag)
    optimum = np.linalg.solve(Q, np.ones(8))
    assert np.all(optimum > 0)
    np.testing.assert_allclose(alpha, optimum, rtol=1e-8)


@given(st.integers(0, 200), st.integers(0, 2**63 - 1))
def test_shuffle_is_a_seeded_permutation(n, seed):
    index = np.arange(n, dtype=np.intp) * 3
    first, state = index.copy(), np.array([seed], dtype=np.uint64)
    shuffle(first, n, state)
    np.testing.assert_array_equal(np.sort(first), index)
    again = index.copy()
    shuffle(again, n, np.array([seed], dtype=np.uint64))
    np.testing.assert_array_equal(again, first)
    # The state advanced: the next shuffle is a new draw from the same stream.
    assert state[0] != seed or n <= 1


def test_shuffle_draws_every_order_evenly():
    counts = {}
    state = np.array([12345], dtype=np.uint64)
    for _ in range(6000):
        index = np.arange(3, dtype=np.intp)
        shuffle(index, 3, state)
        counts[tuple(index)] = counts.get(tuple(index), 0) + 1
    assert len(counts) == 6 and all(800 < c < 1200 for c in counts.values())


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 30), st.integers(1, 400), st.sampled_from([0.01, 0.05, 0.3]),
       st.integers(0, 2**31 - 1))
def test_clear_rows_leaves_zeros_after_add_rows(n, d, density, seed):
    # Few entries over many columns clear one by one; more sweep all of u.
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng)
    rows = np.sort(rng.choice(n, rng.integers(1, n + 1), replace=False))
    u = np.zeros(d + 1)
    add_rows(X.indptr, X.indices, X.data, np.ones(n), 0.5, rows, rng.uniform(1, 2, rows.size), u)
    # u is nonzero on the rows' columns (positive coefficients and data) and the bias.
    np.testing.assert_array_equal(u[:-1] != 0, np.asarray(X[rows].sum(axis=0)).ravel() != 0)
    assert u[-1] != 0
    clear_rows(X.indptr, X.indices, rows, u)
    assert not u.any()

"""One 'cd' problem on several threads (fasttext_lin._cd_threads): the hot-column copy of X,
the pass kernel with per-thread changes, the atomic publish, and the certified optimum."""

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_svmlight_file
from sklearn.exceptions import ConvergenceWarning

from fasttext_lin import LinearClassifier
from fasttext_lin import _cd_threads
from fasttext_lin._cd_kernels import (
    cd_pass,
    gap_and_screen,
    rebuild_weights,
    split_hot,
    squared_row_norms,
)
from fasttext_lin._cd_threads import RowThreads, Serial
from fasttext_lin._sgd_steps import atomic_add

DATA = Path(__file__).parent / "data"


def _a9a():
    X, y = load_svmlight_file(DATA / "a9a" / "a9a", n_features=123)
    return X.tocsr(), y


@pytest.fixture
def small_slices(monkeypatch):
    """Threads on the 300-row fixture: slices of 16 rows, 5 hot columns, publishing every 3
    updated rows."""
    monkeypatch.setattr(_cd_threads, "MIN_THREAD_ROWS", 16)
    monkeypatch.setattr(_cd_threads, "MIN_THREAD_NONZEROS", 16)
    monkeypatch.setattr(_cd_threads, "HOT_COLUMNS", 5)
    monkeypatch.setattr(_cd_threads, "PUBLISH_ROWS", 3)


@st.composite
def csr_and_slots(draw):
    n, d = draw(st.integers(1, 12)), draw(st.integers(1, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    X = sp.csr_matrix(rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.6))
    hot = rng.permutation(d)[:draw(st.integers(0, d))]
    slot = np.full(d, -1, dtype=np.int32)
    slot[hot] = np.arange(hot.shape[0], dtype=np.int32)
    return X, slot, hot.shape[0]


def _code(slot, n_hot):
    """The copy's column of each column: its slot if hot, else ``n_hot`` past its own."""
    return np.where(slot >= 0, slot, n_hot + np.arange(slot.shape[0])).astype(np.int32)


@settings(max_examples=60, deadline=None)
@given(csr_and_slots())
def test_split_hot_renumbers_and_puts_hot_entries_first(case):
    X, slot, n_hot = case
    indices, data = np.empty_like(X.indices), np.empty_like(X.data)
    split = np.empty(X.shape[0], dtype=X.indptr.dtype)
    norms = np.empty(X.shape[0])
    split_hot(X.indptr, X.indices, X.data, _code(slot, n_hot), n_hot, 2.0, 0, X.shape[0],
              indices, data, split, norms)
    np.testing.assert_array_equal(norms, squared_row_norms(X.indptr, X.data, 2.0))
    for i in range(X.shape[0]):
        start, stop = X.indptr[i], X.indptr[i + 1]
        row = X.indices[start:stop]
        want = np.where(slot[row] >= 0, slot[row], n_hot + row)
        n_row_hot = int((slot[row] >= 0).sum())
        assert split[i] == start + n_row_hot
        # The hot entries in order, then the others in order.
        np.testing.assert_array_equal(indices[start:split[i]], want[slot[row] >= 0])
        np.testing.assert_array_equal(indices[split[i]:stop], want[slot[row] < 0])
        got = dict(zip(indices[start:stop].tolist(), data[start:stop].tolist()))
        assert got == dict(zip(want.tolist(), X.data[start:stop].tolist()))


def _naive_pass(X, y, upper, diag, alpha, order, bias):
    """One pass of dual coordinate descent for the hinges in NumPy, no shrinking: ``(w,
    alpha)``, ``w`` with the bias weight last."""
    Xb = np.hstack([X.toarray(), np.full((X.shape[0], 1), bias)])
    alpha = alpha.copy()
    w = Xb.T @ (alpha * y)
    for i in order:
        qd = Xb[i] @ Xb[i] + diag[i]
        g = y[i] * (Xb[i] @ w) - 1.0 + diag[i] * alpha[i]
        new = min(max(alpha[i] - g / qd, 0.0), upper[i]) if qd > 0 else upper[i]
        w += (new - alpha[i]) * y[i] * Xb[i]
        alpha[i] = new
    return w, alpha


@settings(max_examples=60, deadline=None)
@given(csr_and_slots(), st.integers(0, 2**31 - 1), st.sampled_from([1, 2, -1]),
       st.booleans(), st.sampled_from([0.0, 1.0]), st.booleans())
def test_pass_with_hot_columns_is_the_numpy_pass(case, seed, every, squared, bias, shared):
    X, slot, n_hot = case
    n, d = X.shape
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    upper = np.full(n, np.inf) if squared else rng.choice([0.5, 2.0], size=n)
    diag = np.full(n, 0.25) if squared else np.zeros(n)
    alpha = np.minimum(rng.uniform(0.0, 1.0, n), upper)
    order = rng.permutation(n)
    want_w, want_alpha = _naive_pass(X, y, upper, diag, alpha, order, bias)

    indices, data = np.empty_like(X.indices), np.empty_like(X.data)
    split, norms = np.empty(n, dtype=X.indptr.dtype), np.empty(n)
    split_hot(X.indptr, X.indices, X.data, _code(slot, n_hot), n_hot, bias, 0, n, indices, data,
              split, norms)
    w = np.zeros(n_hot + d + 1)
    rebuild_weights(X.indptr, indices, data, y, alpha, w, bias)
    qd = norms + diag
    own = np.zeros(n_hot + 1)
    got_alpha = alpha.copy()
    active, _, _, work = cd_pass(X.indptr, indices, data, split, y, upper, diag, qd, got_alpha,
                                 w, bias, order.astype(np.intp), n, np.inf, -np.inf, own, every,
                                 shared)
    assert active == n and work == X.nnz
    assert not own.any()  # all published
    np.testing.assert_allclose(got_alpha, want_alpha, rtol=1e-10, atol=1e-12)
    hot = np.flatnonzero(slot >= 0)
    back = w[n_hot:n_hot + d].copy()
    back[hot] = w[slot[hot]]
    np.testing.assert_allclose(np.append(back, w[-1]), want_w, rtol=1e-10, atol=1e-12)


def test_atomic_add_loses_no_update_between_threads():
    from numba import njit

    @njit(nogil=True)
    def hammer(w, times):
        for _ in range(times):
            atomic_add(w, 0, 1.0)

    w = np.zeros(1)
    hammer(w, 1)
    w[0] = 0.0
    # Long enough for the threads to overlap: a plain add (which the compiler may keep in a
    # register for the whole loop) then loses one thread's sum.
    times = 5 * 10**6
    threads = [threading.Thread(target=hammer, args=(w, times)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert w[0] == 2 * times


def _row_threads(X, count=2):
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(count)
    X = X.tocsr()
    return pool, RowThreads(pool, count, (X.indptr, X.indices, X.data), X.shape[1], 1.0)


def test_row_threads_sweep_and_weights_are_the_serial_ones(small_slices):
    X, y = _a9a()
    y = np.where(y > 0, 1.0, -1.0)
    rng = np.random.default_rng(0)
    n, d = X.shape
    alpha = rng.uniform(0.0, 1.0, n) * (rng.random(n) < 0.6)
    cost = upper = np.ones(n)
    diag, bias = np.zeros(n), 1.0
    pool, threads = _row_threads(X)
    with pool:
        assert threads.hot.shape[0] == 5 and threads.n_weights == 5 + d + 1
        np.testing.assert_array_equal(threads.norms, squared_row_norms(X.indptr, X.data, 1.0))
        w = np.zeros(threads.n_weights)
        threads.rebuild(threads.csr, y, alpha, w, bias)
        want = np.zeros(d + 1)
        Serial().rebuild((X.indptr, X.indices, X.data), y, alpha, want, bias)
        np.testing.assert_allclose(threads.weights_of(w), want, rtol=1e-12, atol=1e-12)
        index, gradient, bounds = np.empty(n, dtype=np.intp), np.empty(n), np.empty(2)
        got = threads.sweep(threads.csr, y, cost, upper, diag, alpha, w, bias, False, index,
                            gradient, bounds, 0.0)
        index2, gradient2, bounds2 = np.empty(n, dtype=np.intp), np.empty(n), np.empty(2)
        expected = gap_and_screen(X.indptr, X.indices, X.data, y, cost, upper, diag, alpha,
                                  want, bias, False, index2, gradient2, bounds2, 0.0)
        np.testing.assert_allclose(got[:2], expected[:2], rtol=1e-12)
        assert got[2] == expected[2]
        np.testing.assert_array_equal(index[:got[2]], index2[:expected[2]])
        np.testing.assert_allclose(gradient, gradient2, rtol=1e-12, atol=1e-12)


def _gap(model, X, y, loss):
    """The relative duality gap of a binary 'cd' model at its own dual variables, in NumPy
    (bias 1), and its primal; checks that its weights are those of its dual variables (no
    update lost)."""
    w = np.append(model.coef_.ravel(), model.intercept_[0])
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    yy = np.where(y == model.classes_[1], 1.0, -1.0)
    alpha = model.dual_coef_.ravel()
    np.testing.assert_allclose(w, Xb.T @ (alpha * yy), atol=1e-8)
    z = yy * (Xb @ w)
    if loss == "log_loss":
        primal = 0.5 * w @ w + np.logaddexp(0.0, -z).sum()
        dual = -0.5 * w @ w - np.sum(alpha * np.log(alpha) + (1 - alpha) * np.log(1 - alpha))
    else:
        slack = np.maximum(0.0, 1.0 - z)
        squared = loss == "squared_hinge"
        primal = 0.5 * w @ w + (slack**2 if squared else slack).sum()
        dual = alpha.sum() - 0.5 * w @ w - (0.25 * alpha @ alpha if squared else 0.0)
    return (primal - dual) / primal, primal


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "log_loss"])
def test_two_threads_reach_the_certified_optimum(small_slices, monkeypatch, capsys, loss):
    X, y = _a9a()
    calls = []
    original = RowThreads._shared_slice

    def spy(self, *args):
        calls.append(threading.get_ident())
        return original(self, *args)

    monkeypatch.setattr(RowThreads, "_shared_slice", spy)
    tol = 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        serial = LinearClassifier(loss, solver="cd", C=1.0, tol=tol, random_state=0).fit(X, y)
        assert not calls
        capsys.readouterr()
        two = LinearClassifier(loss, solver="cd", C=1.0, tol=tol, random_state=0,
                               n_jobs=2, verbose=1).fit(X, y)
    assert len(calls) > 2  # the passes ran on slices
    gap, primal = _gap(two, X, y, loss)
    assert 0.0 <= gap <= tol
    # The gap the threads measured at the end (printed to 3 digits) is the model's.
    last = capsys.readouterr().out.strip().splitlines()[-1]
    measured = float(last.split("relative gap ")[1].split(",")[0])
    np.testing.assert_allclose(measured, gap, rtol=5e-3, atol=1e-15)
    alpha = two.dual_coef_.ravel()
    assert np.all(alpha >= 0.0) and (loss == "squared_hinge" or np.all(alpha <= 1.0))
    # Both within tol * P of the optimum: ||w - w*||^2 <= 2 (P(w) - P*) (1-strongly convex).
    distance = np.linalg.norm(np.append(two.coef_ - serial.coef_, two.intercept_
                                        - serial.intercept_))
    assert distance <= 2.0 * np.sqrt(2.0 * tol * primal)


def test_two_threads_with_weights_and_a_warm_start(small_slices):
    X, y = _a9a()
    weight = np.random.default_rng(1).uniform(0.0, 2.0, size=y.shape[0])
    model = LinearClassifier("hinge", solver="cd", C=0.1, tol=1e-6, random_state=0, n_jobs=2,
                             warm_start=True).fit(X, y, sample_weight=weight)
    model.set_params(C=1.0).fit(X, y, sample_weight=weight)
    serial = LinearClassifier("hinge", solver="cd", C=1.0, tol=1e-10,
                              random_state=0).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.coef_, serial.coef_, atol=5e-2)
    alpha = model.dual_coef_.ravel()
    assert np.all((alpha >= 0.0) & (alpha <= weight + 1e-12))
    assert np.all(alpha[weight == 0.0] == 0.0)


def test_deterministic_or_few_rows_train_on_one_thread(monkeypatch):
    X, y = _a9a()

    def refuse(*args, **kwargs):
        raise AssertionError("RowThreads used")

    monkeypatch.setattr(_cd_threads.RowThreads, "__init__", refuse)
    params = {"C": 1.0, "tol": 1e-6, "random_state": 0}
    one = LinearClassifier("hinge", solver="cd", **params).fit(X, y)
    # 300 rows: fewer than 1024 a thread.
    few = LinearClassifier("hinge", solver="cd", n_jobs=2, **params).fit(X, y)
    with warnings.catch_warnings():
        # solver='auto' fits by 'cd', which uses parallel: no warning that it is unused.
        warnings.simplefilter("error", UserWarning)
        det = LinearClassifier("hinge", n_jobs=2, parallel="deterministic", **params).fit(X, y)
    for other in (few, det):
        np.testing.assert_array_equal(other.coef_, one.coef_)
        np.testing.assert_array_equal(other.dual_coef_, one.dual_coef_)


def test_threaded_cd_is_tagged_non_deterministic():
    tags = LinearClassifier("hinge", n_jobs=2).__sklearn_tags__()
    assert tags.non_deterministic
    assert not LinearClassifier("hinge", n_jobs=2,
                                parallel="deterministic").__sklearn_tags__().non_deterministic
    assert not LinearClassifier("softmax", n_jobs=2).__sklearn_tags__().non_deterministic


def test_passes_on_threads_keep_w_the_weights_of_alpha(small_slices):
    X, y = _a9a()
    y = np.where(y > 0, 1.0, -1.0)
    n, d = X.shape
    upper, diag = np.ones(n), np.zeros(n)
    pool, threads = _row_threads(X)
    with pool:
        alpha, w = np.zeros(n), np.zeros(threads.n_weights)
        qd = threads.norms + diag
        index, bounds = np.arange(n, dtype=np.intp), np.array([np.inf, -np.inf])
        active, passes, work, _ = threads.passes(
            threads.csr, y, upper, diag, qd, alpha, w, 1.0, index, n, bounds, -1.0, 0.0,
            np.iinfo(np.int64).max, 20, np.array([7], dtype=np.uint64))
        assert passes == 20 and work > 0 and 0 < active <= n
        np.testing.assert_array_equal(np.sort(index), np.arange(n))
        assert not threads.own.any()  # every change published
        want = np.zeros(threads.n_weights)
        rebuild_weights(*threads.csr, y, alpha, want, 1.0)
        np.testing.assert_allclose(w, want, rtol=1e-10, atol=1e-12)
        assert np.all((alpha >= 0.0) & (alpha <= 1.0)) and alpha.any()

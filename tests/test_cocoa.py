"""CoCoA+ in one process: a block's round against a plain NumPy CoCoA+ step, and rounds of
all the blocks reaching the optimum of ``solver='cd'``."""

import numpy as np
import pytest
import scipy.sparse as sp

from fasttext_lin import LinearClassifier, _cocoa
from fasttext_lin._cd_kernels import shuffle


def _problem(n=40, d=7, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.4, random_state=seed, format="csr")
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return X, y


def _reference_round(X, y, alpha, w, K, bias, C, squared, passes, seed):
    """CoCoA+'s local step as the paper writes it, in NumPy: coordinate maximisation of
    ``sum_i (alpha_i + d_i) - w.u - K/2 ||u||^2 (- 1/2 sum diag_i (alpha_i + d_i)^2)``, in
    the kernel's row order, over the rows that liblinear's shrinking (factor 0) keeps: first
    those whose bound the gradient at ``w`` does not hold, then, pass by pass, those whose
    bound the gradient at their visit does not hold. Returns the new alpha and ``sum_i
    alpha_i y_i x_i``."""
    Xb = np.hstack([X.toarray(), np.full((X.shape[0], 1), bias)])
    upper, diag = (np.inf, 0.5 / C) if squared else (C, 0.0)
    alpha, u = alpha.copy(), np.zeros_like(w)

    def shrunk(a, g, hi, lo):
        """(shrink, projected gradient) of a row (the kernel's ``_projected``)."""
        if a == 0.0:
            return g > hi, min(g, 0.0)
        if a == upper:
            return g < lo, max(g, 0.0)
        return False, g

    def bounds(pg):
        return (0.0 if max(pg) > 0.0 else np.inf), (0.0 if min(pg) < 0.0 else -np.inf)

    g = y * (Xb @ w) - 1.0 + diag * alpha
    hi, lo = bounds([shrunk(a, gi, np.inf, -np.inf)[1] for a, gi in zip(alpha, g)])
    index = np.array([i for i in range(X.shape[0]) if not shrunk(alpha[i], g[i], hi, lo)[0]])
    active = index.shape[0]
    state = np.array([seed], dtype=np.uint64)
    for _ in range(passes):
        shuffle(index, active, state)
        s, seen = 0, []
        while s < active:
            i = index[s]
            g = y[i] * Xb[i] @ (w + K * u) - 1.0 + diag * alpha[i]
            shrink, pg = shrunk(alpha[i], g, hi, lo)
            if shrink:
                active -= 1
                index[s], index[active] = index[active], index[s]
                continue
            seen.append(pg)
            if abs(pg) > 1e-12:
                new = min(max(alpha[i] - g / (K * Xb[i] @ Xb[i] + diag), 0.0), upper)
                u += (new - alpha[i]) * y[i] * Xb[i]
                alpha[i] = new
            s += 1
        hi, lo = bounds(seen)
    return alpha, (alpha * y) @ Xb


@pytest.mark.parametrize("beta", [0.0, 0.6])
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("K", [1, 3])
def test_a_block_round_is_the_numpy_cocoa_step(squared, K, beta):
    X, y = _problem()
    labels = np.where(y > 0, "b", "a")
    rng = np.random.default_rng(1)
    C, bias, passes = 0.7, 1.5, 2
    w = rng.normal(size=(1, X.shape[1] + 1))
    alpha = rng.uniform(0, C, size=X.shape[0])
    # Rows at the bounds: those the gradient pushes outward are shrunk.
    alpha[:8] = 0.0
    alpha[8:16] = 0.0 if squared else C
    block = _cocoa.make_block([(X[:25], labels[:25]), (X[25:], labels[25:])], K, bias)
    spec = _cocoa.Spec(K, bias, C, squared, passes, np.array(["b"]))
    key = ("test", 0, 0)
    previous = rng.uniform(0, C, size=X.shape[0])
    _cocoa._DUALS[key] = _cocoa.Duals(4, alpha[None].copy(), None, previous[None].copy())
    try:
        weights, sums, reset = _cocoa.run_round(block, key, 4, w, np.array([True]), [11],
                                                spec, np.array([beta]))
        kept = _cocoa._DUALS[key]
    finally:
        _cocoa.drop("test")
    reached, _ = _reference_round(X, y, alpha, w[0], K, bias, C, squared, passes, 11)
    # The momentum step from where the passes left the duals, projected on the box.
    want_alpha = np.clip(reached + beta * (reached - previous), 0.0, np.inf if squared else C)
    want_weights = want_alpha * y @ np.hstack([X.toarray(), np.full((X.shape[0], 1), bias)])
    assert not reset and kept.rounds == 5
    np.testing.assert_allclose(kept.alpha[0], want_alpha, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kept.solved[0], reached, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kept.start[0], alpha)
    np.testing.assert_allclose(weights[0], want_weights, rtol=1e-10, atol=1e-12)
    # The partial sums at the start: the loss at w and the dual's separable part.
    margins = y * (X @ w[0, :-1] + bias * w[0, -1])
    hinge = np.maximum(0.0, 1.0 - margins)
    loss = C * np.sum(hinge**2 if squared else hinge)

    def separable(a):
        return a.sum() - (0.5 * np.sum(a**2) / (2 * C) if squared else 0.0)

    # ... and the dual's separable part at the end.
    np.testing.assert_allclose(sums[0], [loss, separable(alpha), separable(want_alpha)],
                               rtol=1e-10)


def test_a_block_without_its_duals_starts_again_from_zero():
    X, y = _problem()
    block = _cocoa.make_block([(X, y)], 2, 1.0)
    spec = _cocoa.Spec(2, 1.0, 1.0, False, 1, np.array([1.0]))
    w = np.ones((1, X.shape[1] + 1))
    key = ("test", 0, 0)
    try:
        _cocoa._DUALS[key] = _cocoa.Duals(2, np.full((1, X.shape[0]), 0.5), None, None)
        # Expected after 3 rounds, found after 2: stale, so reset.
        _, sums, reset = _cocoa.run_round(block, key, 3, w, np.array([True]), [0], spec)
        assert reset and sums[0, 1] == 0.0
        assert _cocoa.last_start(key, 4) is not None and _cocoa.last_start(key, 3) is None
    finally:
        _cocoa.drop("test")
    assert key not in _cocoa._DUALS


def _rounds(blocks, spec, rounds, accelerate=False):
    """CoCoA+ rounds in one process, as the driver runs them; the weights at the last
    round's start, and the relative gaps and the dual values at each round's start."""
    w = np.zeros((len(spec.positive), blocks[0].n_features + 1))
    t = np.ones(w.shape[0])
    gaps, duals = [], []
    try:
        for r in range(rounds):
            beta, t_next = _cocoa.extrapolation(t)
            results = [_cocoa.run_round(b, ("test", k, 0), r, w,
                                        np.ones(w.shape[0], dtype=bool), [r] * w.shape[0], spec,
                                        beta if accelerate else 0.0 * beta)
                       for k, b in enumerate(blocks)]
            sums = np.sum([s for _, s, _ in results], axis=0)
            gaps.append(_cocoa._relative_gaps(w, sums[:, :2], r))
            start = w
            duals.append(sums[:, 1] - 0.5 * np.sum(w * w, axis=1))
            w = np.sum([weights for weights, _, _ in results], axis=0)
            t = _cocoa.restarted(t_next, duals[-1], sums[:, 2] - 0.5 * np.sum(w * w, axis=1))
    finally:
        _cocoa.drop("test")
    return start, np.array(gaps), np.array(duals)


@pytest.mark.parametrize("K", [1, 2, 4])
def test_rounds_reach_the_one_process_optimum(tiny_data, K):
    from fasttext_lin.datasets import load_libsvm

    X, y = load_libsvm(tiny_data / "a9a" / "a9a", n_features=123)
    parts = [(X[i:i + 75], y[i:i + 75]) for i in range(0, 300, 75)]
    blocks = [_cocoa.make_block(parts[k::K], K, 1.0) for k in range(K)]
    spec = _cocoa.Spec(K, 1.0, 1.0, False, 5, np.array([1.0]))
    w, gaps, duals = _rounds(blocks, spec, 150)
    alone = LinearClassifier(solver="cd", loss="hinge", C=1.0, tol=1e-10).fit(X, y)
    optimum = alone.duality_gap(X, y).primal
    model = LinearClassifier(solver="cd", loss="hinge", C=1.0).fit(X, y)
    model.coef_, model.intercept_ = w[:, :-1], w[:, -1]
    primal = model.duality_gap(X, y).primal
    assert gaps[0, 0] == 1.0 and gaps[-1, 0] < 2e-2
    # sigma' = K makes every round raise the dual (Ma et al., Lemma 3).
    assert np.all(np.diff(duals[:, 0]) >= -1e-9 * np.abs(duals[1:, 0]))
    # The gap bounds the primal's distance from the optimum, and ||w - w*||^2 / 2 by it.
    assert 0.0 <= primal - optimum <= gaps[-1, 0] * primal
    distance = np.linalg.norm(np.r_[w[0, :-1] - alone.coef_[0],
                                    w[0, -1] - alone.intercept_[0]])
    assert distance <= np.sqrt(2.0 * gaps[-1, 0] * primal)


def test_one_vs_rest_rounds_train_every_class(tiny_data):
    from fasttext_lin.datasets import load_libsvm

    X, y = load_libsvm(tiny_data / "dna" / "dna.scale", n_features=180)
    parts = [(X[i:i + 50], y[i:i + 50]) for i in range(0, 200, 50)]
    blocks = [_cocoa.make_block(parts[k::2], 2, 1.0) for k in range(2)]
    spec = _cocoa.Spec(2, 1.0, 0.1, True, 3, np.unique(y))
    w, gaps, duals = _rounds(blocks, spec, 60)
    alone = LinearClassifier(solver="cd", loss="squared_hinge", C=0.1, tol=1e-10).fit(X, y)
    assert gaps.shape == (60, 3) and np.all(gaps[-1] < 3e-2)
    assert np.all(np.diff(duals, axis=0) >= -1e-9 * np.abs(duals[1:]))
    for k in range(3):
        distance = np.linalg.norm(np.r_[w[k, :-1] - alone.coef_[k],
                                        w[k, -1] - alone.intercept_[k]])
        primal = alone.duality_gap(X, y).primals[k]
        assert distance <= np.sqrt(2.0 * gaps[-1, k] * primal * (1 + 1e-6))


def test_nesterov_sequence_and_its_restart():
    beta, t_next = _cocoa.extrapolation(np.array([1.0, 2.0]))
    np.testing.assert_allclose(t_next, [(1 + 5**0.5) / 2, (1 + 17**0.5) / 2])
    np.testing.assert_allclose(beta, [0.0, 1.0 / t_next[1]])
    np.testing.assert_array_equal(
        _cocoa.restarted(np.array([3.0, 3.0, 3.0]), np.array([1.0, 1.0, 1.0]),
                         np.array([0.5, 1.0, 2.0])), [1.0, 3.0, 3.0])


def test_acceleration_reaches_the_same_optimum_in_fewer_rounds(tiny_data):
    from fasttext_lin.datasets import load_libsvm

    X, y = load_libsvm(tiny_data / "a9a" / "a9a", n_features=123)
    parts = [(X[i:i + 75], y[i:i + 75]) for i in range(0, 300, 75)]
    blocks = [_cocoa.make_block(parts[k::4], 4, 1.0) for k in range(4)]
    spec = _cocoa.Spec(4, 1.0, 1.0, False, 1, np.array([1.0]))
    alone = LinearClassifier(solver="cd", loss="hinge", C=1.0, tol=1e-10).fit(X, y)
    first = {}
    for accelerate in (False, True):
        w, gaps, _ = _rounds(blocks, spec, 300, accelerate)
        below = np.flatnonzero(gaps[:, 0] <= 1e-3)
        first[accelerate] = below[0] if below.size else np.inf
        primal = alone.duality_gap(X, y).primal
        distance = np.linalg.norm(np.r_[w[0, :-1] - alone.coef_[0],
                                        w[0, -1] - alone.intercept_[0]])
        # Every round's duals are feasible: the last gap bounds the distance to w*.
        assert distance <= np.sqrt(2.0 * gaps[-1, 0] * primal * (1 + 1e-6))
    assert first[True] < 0.5 * first[False]

"""The multi-class bench's helpers: the objective it compares and the bar verdicts it prints."""

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import log_loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_multiclass as bm  # noqa: E402


def test_softmax_objective_is_mean_cross_entropy_plus_l2_without_intercepts():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    z = X @ W.T + b
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    alpha = 0.3
    expected = log_loss(y, p, labels=[0, 1, 2]) + alpha / 2 * np.sum(W ** 2)
    assert bm.softmax_objective(W, b, X, y, alpha) == pytest.approx(expected, rel=1e-12)
    # The intercepts are not regularised; large scores do not overflow (max subtracted).
    assert bm.softmax_objective(W, b + 5.0, X, y, 0.0) == pytest.approx(
        bm.softmax_objective(W, b, X, y, 0.0))
    assert np.isfinite(bm.softmax_objective(1e3 * W, b, X, y, 0.0))


def test_softmax_objective_is_minimised_by_lbfgs_at_alpha_one_over_C_n():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4))
    y = np.argmax(X[:, :3] + 0.5 * rng.normal(size=(60, 3)), axis=1)
    C = 0.5
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, y)
    alpha = 1.0 / (C * len(y))
    opt = bm.softmax_objective(ref.coef_, ref.intercept_, X, y, alpha)
    for eps in (1e-3, -1e-3):
        assert bm.softmax_objective(ref.coef_ + eps, ref.intercept_, X, y, alpha) > opt
    assert bm.relative_gap(1.001 * opt, opt) == pytest.approx(1e-3)


def _fake(ours_acc, ours_s, lbfgs_acc, lbfgs_s, svc_acc, gap, speedup, identical=True):
    run = lambda acc, s: {"accuracy": acc, "fit_median": s}  # noqa: E731
    return {"bar": bm.BAR, "sets": {"dna": {
        "methods": {bm.HEADLINE: run(ours_acc, ours_s), "lr-lbfgs": run(lbfgs_acc, lbfgs_s),
                    "linearsvc": run(svc_acc, 0.1)},
        "objective": {"C": 1.0, "epochs": {"10": {"gap": 1.0}, "100": {"gap": gap}}}}},
        "ovr_threads": {"set": "20newsgroups", "speedup": speedup, "identical": identical,
                        "n_jobs_1": {"fit_median": 2.0}, "n_jobs_2": {"fit_median": 2 / speedup}}}


def test_bar_verdicts_pass_and_fail_on_the_figures():
    verdicts = [v for v, _ in bm.bar_verdicts(_fake(0.948, 0.1, 0.95, 0.4, 0.951, 5e-4, 1.8))]
    assert verdicts == ["PASS", "PASS", "PASS"]
    # 0.4 points below the best peer (LinearSVC); time 1/2 lbfgs's; gap at the LAST epoch
    # count decides; identical models are required as well as the speed-up.
    verdicts = [v for v, _ in bm.bar_verdicts(_fake(0.947, 0.1, 0.95, 0.4, 0.951, 2e-3, 1.8,
                                                    identical=False))]
    assert verdicts == ["FAIL", "FAIL", "FAIL"]
    assert bm.bar_verdicts(_fake(0.96, 0.2, 0.95, 0.4, 0.95, 5e-4, 1.8))[0][0] == "FAIL"
    assert bm.bar_verdicts(_fake(0.96, 0.1, 0.95, 0.4, 0.95, 5e-4, 1.6))[2][0] == "FAIL"

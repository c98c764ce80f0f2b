"""bench/bench_solvers.py: its objective, its peers' weights, and a smoke run on tiny data."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_solvers as bs
from _harness import installed


def _problem(name, n, d, n_classes, seed=0):
    """A seeded sparse set whose labels come from a hidden linear model."""
    rng = np.random.default_rng(seed)
    X = sp.random(2 * n, d, density=0.3, format="csr", random_state=seed)
    scores = X @ rng.normal(size=(d, n_classes)) + 0.3 * rng.normal(size=(2 * n, n_classes))
    labels = np.argmax(scores, axis=1) + 1  # labels 1..K, coded 0..K-1 by make_problem
    return bs.make_problem(name, X[:n], labels[:n], X[n:], labels[n:], notes="test")


def test_make_problem_codes_labels_and_appends_an_int32_bias_column():
    p = _problem("t", 30, 6, 3)
    assert p.X.shape == (30, 7) and p.X_test.shape == (30, 7)
    assert p.X.indices.dtype == np.int32 and p.X.indptr.dtype == np.int32
    assert np.all(p.X[:, -1].toarray() == 1.0)
    assert set(np.unique(p.y)) <= {0.0, 1.0, 2.0} and p.n_classes == 3
    binary = _problem("b", 30, 6, 2)
    assert set(np.unique(binary.y)) == {-1.0, 1.0}


def test_primal_is_liblinears_objective_per_loss():
    p = _problem("b", 80, 5, 2)
    rng = np.random.default_rng(1)
    w = rng.normal(size=p.X.shape[1])
    margin = p.y * (p.X @ w)
    assert bs.primal(w, p.X, p.y, "hinge", C=2.0) == pytest.approx(
        0.5 * w @ w + 2.0 * np.maximum(0, 1 - margin).sum())
    assert bs.primal(w, p.X, p.y, "log_loss") == pytest.approx(
        0.5 * w @ w + np.log1p(np.exp(-margin)).sum())
    # One-vs-rest hinge: the sum of the classes' binary problems.
    m = _problem("m", 80, 5, 3)
    W = rng.normal(size=(3, m.X.shape[1]))
    assert bs.primal(W, m.X, m.y, "hinge") == pytest.approx(sum(
        bs.primal(W[k], m.X, np.where(m.y == k, 1.0, -1.0), "hinge") for k in range(3)))


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "softmax"])
def test_the_reference_minimises_primal(loss):
    p = _problem("m", 120, 5, 2 if loss == "log_loss" else 3)
    ref = bs.reference_estimator(loss).fit(p.X, p.y)
    W = np.atleast_2d(ref.coef_)
    optimum = bs.primal(W, p.X, p.y, loss)
    for step in (1e-3, -1e-3):
        assert bs.primal(W + step, p.X, p.y, loss) > optimum
    assert bs.relative_gap(1.01 * optimum, optimum) == pytest.approx(0.01)


def test_time_to_gap_is_the_fastest_point_at_or_below_the_target():
    points = [{"seconds": 0.5, "gap": 1e-3}, {"seconds": 0.2, "gap": 1e-5},
              {"seconds": 0.9, "gap": 1e-7}]
    assert bs.time_to_gap(points, 1e-2) == 0.2
    assert bs.time_to_gap(points, 1e-6) == 0.9
    assert bs.time_to_gap(points, 1e-8) is None


def test_a_refused_or_missing_solver_is_skipped_with_its_reason():
    refuses = bs.Solver("x", ("softmax",), None, "tol", [], {},
                        check=bs._ours_check(solver="no-such-solver"))
    assert "refuses it: solver='no-such-solver'" in bs.skip_reason(refuses, "softmax")
    missing = bs.Solver("y", ("hinge",), None, "tol", [], {}, needs="no_such_module_here")
    assert bs.skip_reason(missing, "hinge").startswith("no_such_module_here is not installed")
    ours_sgd = next(s for s in bs.solvers() if s.name == "ours sgd")
    assert bs.skip_reason(ours_sgd, "hinge") is None


def _tight_peer(name, loss, p):
    solver = next(s for s in bs.solvers() if s.name == name)
    rung = {"eps": 1e-6} if name == "liblinear-official" else {"tol": 1e-8, "max_iter": 10**5}
    return bs.fit_point(solver, loss, p, rung)[1]


@pytest.mark.skipif(not installed("liblinear"), reason="liblinear-official is not installed")
@pytest.mark.parametrize("n_classes", [2, 3])
def test_liblinear_official_weights_are_in_class_order(n_classes):
    p = _problem("m", 150, 6, n_classes)
    W = _tight_peer("liblinear-official", "hinge", p)
    ref = LinearSVC(loss="hinge", C=1.0, fit_intercept=False, tol=1e-10, max_iter=10**6,
                    random_state=0).fit(p.X, p.y)
    assert W.shape == ref.coef_.shape
    assert bs.primal(W, p.X, p.y, "hinge") == pytest.approx(
        bs.primal(ref.coef_, p.X, p.y, "hinge"), rel=1e-4)


def _without_snapml(monkeypatch):
    """The benchmark's solvers but snapml's (see test_snapml_regularizer_is_one_over_C)."""
    every = bs.solvers
    monkeypatch.setattr(bs, "solvers", lambda: [s for s in every() if "snapml" not in s.name])


def _snapml_regularizer_is_one_over_C():
    p = _problem("b", 150, 6, 2)
    W = _tight_peer("snapml 1 thread", "log_loss", p)
    ref = LogisticRegression(solver="liblinear", C=1.0, fit_intercept=False,
                             tol=1e-10).fit(p.X, p.y)
    assert bs.primal(W, p.X, p.y, "log_loss") == pytest.approx(
        bs.primal(ref.coef_, p.X, p.y, "log_loss"), rel=1e-4)


@pytest.mark.skipif(not installed("snapml"), reason="snapml is not installed")
def test_snapml_regularizer_is_one_over_C():
    # In a process of its own: importing snapml turns subnormal floats off (flush to zero)
    # for the whole process, which the other tests' tiny values would then meet.
    code = ("import sys; sys.path.insert(0, 'tests'); "
            "import test_bench_solvers as t; t._snapml_regularizer_is_one_over_C()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=False)
    assert run.returncode == 0, run.stderr


def test_smoke_run_writes_curves_report_and_plot(tmp_path, monkeypatch):
    _without_snapml(monkeypatch)
    problems = [_problem("tiny-binary", 200, 8, 2), _problem("tiny-3", 200, 8, 3, seed=1)]
    result = bs.run_benchmark([], quick=True, repeats=1, fit_budget=5.0, out=tmp_path,
                              problems=problems, progress=lambda line: None)
    folder = tmp_path / "solvers"
    for name in ("solvers.json", "solvers.md", "solvers.png", "reference.json"):
        assert (folder / name).stat().st_size > 0
    assert json.loads((folder / "solvers.json").read_text())["sets"].keys() == {
        "tiny-binary", "tiny-3"}
    assert set(result["sets"]["tiny-binary"]["losses"]) == {"hinge", "log_loss"}
    assert set(result["sets"]["tiny-3"]["losses"]) == {"hinge", "softmax"}
    for info in result["sets"].values():
        for run in info["losses"].values():
            assert {"ours sgd", "ours sgd averaged"} <= set(run["curves"])
            for curve in run["curves"].values():
                for point in curve["points"] + [curve["default"]]:
                    # P* is the optimum: no solver goes below it beyond the reference's slack.
                    assert point["gap"] > -1e-6
                    assert point["seconds"] >= 0 and 0 <= point["accuracy"] <= 1
    hinge = result["sets"]["tiny-binary"]["losses"]["hinge"]["curves"]["LinearSVC"]
    assert hinge["best_gap"] < 1e-2
    report = (folder / "solvers.md").read_text()
    assert "tiny-3, softmax" in report and "--quick smoke run" in report
    assert len(json.loads((folder / "reference.json").read_text())) == 4


def test_reference_is_read_from_the_cache(monkeypatch):
    p, cache = _problem("b", 60, 5, 2), {}
    first = bs.reference(p, "hinge", cache, quick=False)

    def refit(loss):
        raise AssertionError("P* refitted although cached")

    monkeypatch.setattr(bs, "reference_estimator", refit)
    assert bs.reference(p, "hinge", cache, quick=False) is first
    other = _problem("b", 60, 5, 2, seed=3)  # other data: another key
    with pytest.raises(AssertionError, match="refitted"):
        bs.reference(other, "hinge", cache, quick=False)


def test_main_quick_on_the_shipped_a9a(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTTEXT_LIN_DATA", str(tmp_path / "no-data"))  # the shipped copy
    _without_snapml(monkeypatch)
    assert bs.main(["--quick", "--sets", "a9a", "--repeats", "1", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "solvers" / "solvers.json").read_text())
    run = result["sets"]["a9a"]["losses"]["hinge"]
    assert run["reference"]["accuracy"] > 0.8 and "ours cd" in run["curves"]

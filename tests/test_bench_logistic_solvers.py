"""bench/bench_logistic_solvers.py: a smoke run on tiny data, and its --top-features cut."""

import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_logistic_solvers as bl
import bench_solvers as bs


def _problem(name, quick=False):
    rng = np.random.default_rng(0)
    X = sp.random(120, 8, density=0.4, format="csr", random_state=0)
    labels = (X @ rng.normal(size=8) + 0.3 * rng.normal(size=120) > 0).astype(int)
    return bs.make_problem(name, X[:80], labels[:80], X[80:], labels[80:], notes="test")


def test_top_features_keeps_the_most_frequent_and_the_bias_column():
    p = _problem("t")
    counts = np.bincount(p.X.indices, minlength=p.X.shape[1])[:-1]
    top = bl._top_features(p, 3)
    assert top.name == "t-top3" and top.X.shape == (80, 4)
    np.testing.assert_array_equal(top.X[:, -1].toarray(), 1.0)
    kept = np.sort(np.argsort(-counts, kind="stable")[:3])
    np.testing.assert_array_equal(top.X[:, :3].toarray(), p.X[:, kept].toarray())
    assert top.X.indices.dtype == np.int32


def test_run_times_each_method_and_reaches_the_optimum(monkeypatch, capsys):
    monkeypatch.setattr(bl, "load_problem", _problem)
    rows = bl.run(["tiny"], [1.0], repeats=1, top=0)
    assert [row[2] for row in rows] == ["cd", "newton", "liblinear"]
    for name, C, _, seconds, ratio, primal_gap, certified, _ in rows:
        assert name == "tiny" and C == 1.0 and seconds > 0 and ratio > 0
        assert -1e-9 <= primal_gap <= certified + 1e-9
    assert rows[2][4] == 1.0
    assert "| tiny | 1 | newton |" in capsys.readouterr().out

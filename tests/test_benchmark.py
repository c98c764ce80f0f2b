"""Tests of fasttext_lin.cli.bench_protocol and bench_report: the LIBSVM reference protocol, on
a1a with a small grid."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

from fasttext_lin.cli import bench_protocol as benchmark
from fasttext_lin.cli.bench_protocol import (
    MODELS,
    primal_objective,
    run_libsvm_benchmark,
    with_bias_column,
)
from fasttext_lin.cli.bench_report import format_table, write_results


@pytest.fixture(scope="module")
def a1a_results(shared_data):
    lines = []
    results = run_libsvm_benchmark(
        ["a1a", "a5a"], repeats=1, progress=lines.append, grid=(0.1, 1.0),
        data_home=shared_data, download=False, jit=False, max_epochs=20,
    )
    return results, lines


def test_structure(a1a_results):
    results, lines = a1a_results
    json.dumps(results)  # JSON-able as it is
    assert {"protocol", "machine", "jit", "sets"} <= set(results)
    assert results["machine"]["cores"] >= 1 and results["machine"]["numba"]
    assert "skipped" in results["sets"]["a5a"]
    assert any(line.startswith("a5a: skipped") for line in lines)
    a1a = results["sets"]["a1a"]
    assert (a1a["n_train"], a1a["n_test"], a1a["n_features"]) == (1605, 30956, 123)
    assert list(a1a["models"]) == list(MODELS)
    for r in a1a["models"].values():
        assert r["C_star"] in (0.1, 1.0)
        assert set(r["cv_accuracy"]) == {"0.1", "1"}
        assert 0.8 < r["test_accuracy"] < 0.9
        assert len(r["fit_times_s"]) == 1 and r["fit_time_median_s"] > 0
        assert r["time_ratio_vs_linearsvc"] > 0 and r["time_ratio_vs_linearsvc_same_C"] > 0
    assert a1a["models"]["LinearSVC"]["time_ratio_vs_linearsvc"] == 1.0


def test_objective_study(a1a_results):
    results, _ = a1a_results
    study = results["sets"]["a1a"]["objective"]
    assert set(study) == {"hinge", "squared_hinge", "log_loss"}
    for cases in study.values():
        assert any(case["is_C_star"] for case in cases)
        assert any(case["C"] == 1.0 for case in cases)
        for case in cases:
            assert [run["epochs"] for run in case["runs"]][0] == 10
            assert case["liblinear"]["objective"] > 0
            # SGD after 10+ epochs is near, and never meaningfully below, liblinear's optimum.
            assert -1e-6 < case["best_gap"] < 0.2


def test_write_results(a1a_results, tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs the bench extra (matplotlib)")
    results, _ = a1a_results
    paths = write_results(results, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["libsvm.json", "libsvm.md", "libsvm.png"]
    assert json.loads(paths[0].read_text())["sets"]["a1a"]["n_train"] == 1605
    assert paths[1].read_text() == format_table(results) + "\n"
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary file left behind


def test_format_table(a1a_results):
    table = format_table(a1a_results[0])
    assert "## a1a" in table and "Skipped" in table
    for model in MODELS:
        assert f"| {model} |" in table


def test_primal_objective_matches_definition():
    X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    y = np.array([1.0, -1.0, 1.0])
    w = np.array([0.5, -0.25, 0.1])
    Xb = with_bias_column(X)
    assert Xb.indices.dtype == np.int32 and Xb.shape == (3, 3)
    margins = y * (Xb.toarray() @ w)  # 0.6, 0.4, 0.35
    assert np.allclose(margins, [0.6, 0.4, 0.35])
    half_norm = 0.5 * (0.25 + 0.0625 + 0.01)  # 1/2 ||w||^2, the bias weight included
    assert primal_objective(w, Xb, y, "hinge", 2.0) == pytest.approx(
        half_norm + 2.0 * (0.4 + 0.6 + 0.65))
    assert primal_objective(w, Xb, y, "squared_hinge", 2.0) == pytest.approx(
        half_norm + 2.0 * (0.4**2 + 0.6**2 + 0.65**2))
    # log(1 + e^-m) for m = 0.6, 0.4, 0.35: 0.43748795, 0.51301525, 0.53338216.
    assert primal_objective(w, Xb, y, "log_loss", 2.0) == pytest.approx(
        half_norm + 2.0 * (0.4374879505 + 0.5130152524 + 0.5333821554), rel=1e-10)


def test_suffix_average_start():
    assert benchmark.suffix_average_start(20, 100) == 1001
    assert benchmark.suffix_average_start(1, 100) == 1


def test_missing_matplotlib_message(monkeypatch, a1a_results, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"fasttext_lin\[bench\]"):
        write_results(a1a_results[0], tmp_path)
    # The JSON and the table are written before the plot fails.
    assert (tmp_path / "libsvm.json").exists() and (tmp_path / "libsvm.md").exists()


def test_measure_jit_in_fresh_processes(shared_data):
    estimator = benchmark.our_estimator("hinge", 1.0, n_samples=1605, epochs=2)
    jit = benchmark.measure_jit("a1a", shared_data, estimator, fits=2)
    assert jit["estimator"]["max_iter"] == 2
    cold, warm = jit["cold_process"]["fit_times_s"], jit["warm_process"]["fit_times_s"]
    assert len(cold) == len(warm) == 2 and min(cold + warm) > 0
    # The first fit's extra time over the next one: compiling (empty cache) or loading the
    # cache. Speed itself is the benchmark's to show, not a unit test's.
    assert jit["compile_s"] == cold[0] - cold[1] and jit["cache_load_s"] == warm[0] - warm[1]
    assert jit["import_fasttext_lin_s"] > 0 and jit["import_fasttext_lin_first_s"] > 0

"""Smoke tests of bench/bench_scaling.py's functions on tiny sets (seconds)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_scaling as bs  # noqa: E402
import synthetic  # noqa: E402
from _harness import installed, write_bench_results  # noqa: E402


def test_plan_scales_the_previous_time_by_nonzeros():
    assert bs.plan("x", {}, 1e6, 3, 60) == (3, None)
    assert bs.plan("x", {"x": (1.0, 1e6)}, 1e7, 3, 60) == (3, None)
    n, reason = bs.plan("x", {"x": (3.0, 1e6)}, 1e7, 3, 60)
    assert n == 2 and "predicted 30 s" in reason
    n, reason = bs.plan("x", {"x": (10.0, 1e6)}, 1e7, 3, 60)
    assert n == 0 and reason.startswith("skipped: predicted 100 s")


def test_time_to_target_takes_the_fastest_point_within_the_tolerance():
    points = [{"seconds": 0.1, "accuracy": 0.80}, {"seconds": 0.3, "accuracy": 0.8491},
              {"seconds": 0.2, "accuracy": 0.8489}]
    assert bs.time_to_target(points, 0.85) == 0.3
    assert bs.time_to_target(points, 0.90) is None


def test_text_files_hold_the_rows_features_and_labels(tmp_path):
    X = sp.csr_matrix(np.array([[0, 0.5, 0, 0.25], [1.0, 0, 0, 0]], dtype=np.float32))
    y = np.array([1.0, -1.0])
    bs.write_vw(tmp_path / "a.vw", X, y)
    assert (tmp_path / "a.vw").read_text() == "1 |f 1:0.5 3:0.25\n-1 |f 0:1\n"
    lines = bs.fasttext_rows(X)
    assert lines == ["f1 f3", "f0"]
    bs.write_fasttext(tmp_path / "a.txt", lines, y)
    assert (tmp_path / "a.txt").read_text() == "__label__1 f1 f3\n__label__-1 f0\n"


@pytest.mark.skipif(not installed("vowpalwabbit"),
                    reason="vowpalwabbit is not installed (pip install -e '.[bench]')")
def test_vw_learns_a_separable_file(tmp_path):
    rng = np.random.default_rng(0)
    X = sp.random(400, 50, density=0.2, format="csr", random_state=0, dtype=np.float32)
    w = rng.normal(size=50)
    y = np.where(X @ w > 0, 1.0, -1.0)
    bs.write_vw(tmp_path / "d.vw", X, y)
    model = bs.vw_fit(tmp_path / "d.vw", 10, tmp_path, ["--loss_function", "logistic"])
    pred = np.where(bs.vw_predict(model, tmp_path / "d.vw", tmp_path) > 0, 1.0, -1.0)
    assert np.mean(pred == y) > 0.9


@pytest.fixture
def tiny_set(tmp_path, monkeypatch):
    """A 3000-row synthetic set cached in ``tmp_path`` (also for child processes)."""
    monkeypatch.setenv("FASTTEXT_LIN_BENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(synthetic, "CACHE", tmp_path)
    synthetic.load_or_make(3000, nnz_per_row=25)
    return {"rows": 3000, "nnz_per_row": 25}


def test_a_job_runs_in_a_fresh_process(tiny_set):
    out = bs.run_job({"config": "ours, 1 thread", "set": tiny_set, "loss": "hinge",
                      "epochs": 2, "files": None, "nnz": 0})
    assert out["seconds"] > 0 and out["test_accuracy"] > 0.55
    assert abs(out["nnz"] - 2700 * 25) < 2000  # 25 a row on average
    assert 0 <= out["extra_peak_bytes"] < 2**30 and out["weight_bytes"] == 4 * 2**20


def test_bar_configs_summarize_and_report(tmp_path, tiny_set, monkeypatch):
    # In this process, to stay fast: the memory figures are then not the fit's alone.
    monkeypatch.setattr(bs, "run_job", bs.measure)
    spec = tiny_set
    records = bs.run_set(spec, list(bs.BAR_CONFIGS), "hinge", 2, 1, 60, {}, None,
                         lambda message: None)
    for name, rec in records.items():
        if rec["note"]:
            assert not rec["runs"] and rec["note"].startswith("skipped")
            continue
        assert rec["ns_per_nnz"]["median"] > 0 and rec["test_accuracy"] > 0.55
        assert rec["memory_ratio"] >= rec["runs"][0]["csr_bytes"] / (
            rec["runs"][0]["csr_bytes"] + rec["runs"][0]["weight_bytes"])
    assert records["ours, 1 thread"]["runs"] and records["SGDClassifier"]["runs"]
    result = {"machine": bs.machine_info(),
              "params": {"epochs": 2, "repeats": 1, "tta_repeats": 1, "bar_set": spec},
              "scaling": [{"set": spec, "nnz": 75000, "configs": {
                  name: records.get(name, {"runs": [], "note": "skipped: not run here"})
                  for name in bs.CONFIGS}}],
              "bar_set": {"hinge": records}, "tta": {}}
    result["bars"] = bs.bars(result)
    assert "2 threads (hinge)" in result["bars"]
    write_bench_results(tmp_path, "scaling", result, bs.report, bs.plot)
    text = (tmp_path / "scaling.md").read_text()
    assert "| ours, 1 thread |" in text and "## Bars" in text
    assert (tmp_path / "scaling.png").stat().st_size > 0

"""The 'cd' threads bench on a tiny synthetic set: both thread counts certify the gap, the
breakdown times the solver's steps and puts the originals back, and the report is written."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_cd_threads as bc  # noqa: E402
import synthetic  # noqa: E402

from fasttext_lin import _cd, _cd_threads  # noqa: E402


def test_tiny_run_certifies_both_and_reports(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic, "CACHE", tmp_path / "cache")
    # Threads on a tiny set: slices of 64 rows, whatever their nonzeros.
    monkeypatch.setattr(_cd_threads, "MIN_THREAD_ROWS", 64)
    monkeypatch.setattr(_cd_threads, "MIN_THREAD_NONZEROS", 1)
    steps = {name: getattr(_cd_threads.RowThreads, name) for name in ("passes", "sweep")}
    assert bc.main(["--repeats", "1", "--rows", "3000", "--out", str(tmp_path)]) in (0, None)
    result = json.loads((tmp_path / "cd_threads.json").read_text())
    assert result["rows"] == 3000 and result["test_rows"] == 300
    for name, quality in result["quality"].items():
        assert quality["test_accuracy"] > 0.55, name
        if "ours" in name:
            assert 0.0 <= quality["relative_gap"] <= bc.TOL, name
    two = result["breakdown"]["hinge: ours, 2 threads"]
    assert two["passes"] > 0 and two["copy of X, hot columns first (threads)"] > 0
    assert result["breakdown"]["hinge: ours, 1 thread"]["row norms (one thread)"] > 0
    for loss, distance in result["distance"].items():
        assert distance["distance"] <= 2 * distance["bound_each"], loss
    # The wrappers are gone.
    assert {name: getattr(_cd_threads.RowThreads, name) for name in steps} == steps
    assert _cd.squared_row_norms.__name__ == "squared_row_norms"
    report = (tmp_path / "cd_threads.md").read_text()
    assert "| hinge: ours, 2 threads |" in report and "Where one fit's time goes" in report

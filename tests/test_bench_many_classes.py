"""The many-classes bench's helpers on a tiny set: the generator, the bound, one measured fit
in a child process, and the written results."""

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_many_classes as bm  # noqa: E402
from _harness import write_bench_results  # noqa: E402

TINY = {"n_rows": 300, "n_features": 3000, "draws": 40}


def test_sector_like_set_is_seeded_normalised_and_balanced():
    X, y = bm.make_sector_like(6, **TINY)
    again, y_again = bm.make_sector_like(6, **TINY)
    assert (X != again).nnz == 0 and np.array_equal(y, y_again)
    assert (X != bm.make_sector_like(6, seed=1, **TINY)[0]).nnz > 0
    assert X.shape == (300, 3000) and X.indices.dtype == np.int32 and X.has_sorted_indices
    assert np.bincount(y).tolist() == [50] * 6
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)), 1.0)
    assert 25 < X.nnz / X.shape[0] <= 40  # repeated draws fold into one nonzero


def test_topic_words_make_the_classes_learnable():
    X, y = bm.make_sector_like(6, topic_share=0.3, **TINY)
    model = LinearSVC().fit(X[:200], y[:200])
    assert np.mean(model.predict(X[200:]) == y[200:]) > 0.8  # chance: 1/6


def test_memory_bound():
    assert bm.memory_bound(100, 1000, 8, False, 10) == 800_000 + 120
    assert bm.memory_bound(100, 1000, 8, True, 10) == 1_600_000 + 120


@pytest.fixture(scope="module")
def measured():
    X, y = bm.make_sector_like(5, topic_share=0.3, **TINY)
    n = int(bm.TRAIN_SHARE * X.shape[0])
    return X, {m: bm.measure(m, X[:n], y[:n], X[n:], y[n:], epochs=3, repeats=2)
               for m in ("softmax", "linearsvc")}


def _peak_resettable():
    """Whether this process may reset its peak RSS (Linux ``/proc/self/clear_refs``)."""
    try:
        open("/proc/self/clear_refs", "w").close()
    except OSError:
        return False
    return True


def test_a_child_process_returns_the_measures(tmp_path):
    # 400,000 features: the averaged softmax holds 5 x 400,000 float64 weights twice (32 MB),
    # more than the child's pages left free by its warm-up, so the fit shows in its RSS peak.
    n_classes, n_features = 5, 400_000
    X, y = bm.make_sector_like(n_classes, topic_share=0.3, **(TINY | {"n_features": n_features}))
    bm.save_set(tmp_path / "set.npz", X, y)
    run = bm.run_child({"data": str(tmp_path / "set.npz"), "epochs": 3, "repeats": 1,
                        "method": "softmax"})
    assert run["accuracy"] > 0.8 and run["n_iter"] == 3
    assert run["peak_reset"] is _peak_resettable()
    weights = n_classes * n_features * 8
    assert run["traced_peak_bytes"] >= 2 * weights
    if run["peak_reset"]:  # else the peak may predate the fit
        assert run["rss_peak_bytes"] >= weights


def test_measure_gives_accuracy_time_and_both_peaks(measured):
    X, runs = measured
    ours, svc = runs["softmax"], runs["linearsvc"]
    n_train = int(bm.TRAIN_SHARE * X.shape[0])
    assert ours["bound_bytes"] == bm.memory_bound(5, 3000, 8, True, X[:n_train].nnz)
    assert svc["bound_bytes"] == bm.memory_bound(5, 3000, 8, False, X[:n_train].nnz)
    for run in runs.values():
        assert run["accuracy"] > 0.8 and len(run["fit_seconds"]) == 2
        assert run["fit_median"] == pytest.approx(np.median(run["fit_seconds"]))
        assert run["peak_reset"] is _peak_resettable()
        # KiB from /proc as bytes; the ratio to the bound of the same run.
        assert isinstance(run["rss_peak_bytes"], int) and run["rss_peak_bytes"] % 1024 == 0
        assert run["rss_ratio"] == run["rss_peak_bytes"] / run["bound_bytes"]
    assert ours["n_iter"] == 3
    # The weights (5 x 3000 x 8 bytes, x2 averaged) are allocated by NumPy: traced.
    assert ours["traced_peak_bytes"] >= 2 * 5 * 3000 * 8
    assert ours["traced_ratio"] == ours["traced_peak_bytes"] / ours["bound_bytes"]
    assert svc["traced_peak_bytes"] is None and svc["traced_ratio"] is None


def test_results_are_written_and_reported(measured, tmp_path):
    X, runs = measured
    result = {"machine": {"cpu": "cpu", "cores": 2, "numpy": "n", "scikit-learn": "s",
                          "numba": "b", "date": "d"},
              "params": {"rows": 300, "features": 3000, "epochs": 3, "repeats": 2, "C": 1.0,
                         "train_share": bm.TRAIN_SHARE},
              "sets": {"5": {"nnz_per_row": X.nnz / X.shape[0], "methods": runs}}}
    write_bench_results(tmp_path, "many_classes", result, bm.report, bm.plot)
    md = (tmp_path / "many_classes.md").read_text()
    assert "| 5 |" in md and "`softmax`" in md and "`linearsvc`" in md
    assert (tmp_path / "many_classes.png").stat().st_size > 0
    assert bm.main(["--report-only", "--out", str(tmp_path)]) == 0

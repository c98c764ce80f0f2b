"""Smoke tests of bench/bench_text.py's helpers: text normalisation, runs, the bar, the report."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_text as bt  # noqa: E402


def _toy_corpus(protocol):
    rng = np.random.default_rng(0)
    words = {"pos": ["good", "great", "fine", "nice"], "neg": ["bad", "awful", "poor", "sad"]}
    y = np.array(["pos", "neg"] * 30)
    texts = [" ".join(rng.choice(words[label], 5)) + " the film" for label in y]
    if protocol == "cv":
        return {"protocol": "cv", "texts": texts, "y": y, "folds": 3}
    return {"protocol": "split", "texts": texts[:40], "y": y[:40], "texts_test": texts[40:],
            "y_test": y[40:]}


def test_fasttext_line_is_one_normalised_line():
    assert bt.fasttext_line("Don't!\nIt's   GOOD,\tok<br />(x)") == \
        "don ' t ! it ' s good , ok ( x )"
    assert "\n" not in bt.fasttext_line("a\r\nb\x0bc")


@pytest.mark.parametrize("protocol", ["cv", "split"])
def test_sklearn_api_run_follows_the_protocol(protocol, monkeypatch):
    monkeypatch.setattr(bt, "GRID", (1.0, 10.0))  # two values keep the test quick
    data = _toy_corpus(protocol)
    run = bt.summarise(bt.run_sklearn_api("sklearn-tfidf-svc", data))
    n_folds = 3 if protocol == "cv" else 1
    assert len(run["fold_accuracy"]) == len(run["fold_seconds"]) == n_folds
    assert all(c in bt.GRID for c in run["fold_chosen"])
    assert run["mean_accuracy"] == 1.0  # the two classes share no word but "the film"
    assert run["cached"] is True
    # Times are measured, not predicted: each fold and the whole run took some time.
    assert all(seconds > 0 for seconds in run["fold_seconds"]) and run["wall_time"] > 0


def test_fasttext_run_uses_the_same_outer_folds():
    pytest.importorskip("fasttext", reason="fastText (fasttext-wheel) comes with the bench "
                                           "extra: pip install -e '.[bench]'")
    data = _toy_corpus("cv")
    run = bt.run_fasttext("fasttext-default", data)
    assert len(run["fold_accuracy"]) == 3 and len(run["fasttext_split"]) == 3
    assert all(0.0 <= a <= 1.0 for a in run["fold_accuracy"])
    sizes = [len(test) for _, test in bt._folds("cv", data["texts"], data["y"], 3)]
    assert sizes == [20, 20, 20]


def _fake(corpus, method, family, accuracy, seconds):
    return bt.summarise({"corpus": corpus, "method": method, "family": family,
                         "fold_accuracy": [accuracy - 0.01, accuracy + 0.01],
                         "fold_chosen": [1.0, 10.0] if family != "fasttext" else [None, None],
                         "fold_seconds": [seconds / 2, seconds / 2], "wall_time": seconds,
                         "cached": family != "fasttext" or None,
                         "load_average_before": [1.0], "load_average_after": [1.0],
                         "fasttext_split": [{"write": 0.1, "train": 1, "predict": 0.1}] * 2})


def _fake_result(ours_accuracy, ours_seconds):
    runs = [_fake("rt-polarity", "sklearn-tfidf-svc", "sklearn", 0.78, 50.0),
            _fake("rt-polarity", "sklearn-count-svc", "sklearn", 0.77, 40.0),
            _fake("rt-polarity", "fasttext-default", "fasttext", 0.76, 10.0),
            _fake("rt-polarity", "ours-nbsvm", "ours", ours_accuracy, ours_seconds)]
    machine = {"cpu": "cpu", "cores": 2, "python": "3", "numpy": "2", "scipy": "1",
               "scikit-learn": "1", "numba": "0", "date": "today", "load_average": [1, 1, 1]}
    return {"machine": machine, "git": None, "bar": bt.BAR, "runs": runs, "skipped": [],
            "params": {"corpora": ["rt-polarity"], "methods": [r["method"] for r in runs],
                       "quick": False, "explicit_methods": False, "inner_folds": 3,
                       "grid": list(bt.GRID), "fasttext_threads": 2, "fasttext_seed": 0},
            "methods": {r["method"]: bt.METHODS[r["method"]] for r in runs},
            "corpora": {"rt-polarity": {"protocol": "cv", "n_train": 100, "n_test": 0,
                                        "folds": 2, "n_classes": 2, "warmup_seconds": 0.1}}}


def test_bar_needs_both_accuracy_within_points_and_less_time():
    ok = bt.bar_verdict(_fake_result(0.7781, 9.0), "rt-polarity", "ours-nbsvm")
    assert ok["passed"] and [c["peer"] for c in ok["checks"]] == ["sklearn-tfidf-svc",
                                                                  "fasttext-default"]
    assert ok["checks"][0]["points"] == pytest.approx(-0.19)
    too_inaccurate = bt.bar_verdict(_fake_result(0.7779, 9.0), "rt-polarity", "ours-nbsvm")
    assert not too_inaccurate["passed"] and not too_inaccurate["checks"][0]["accuracy_ok"]
    too_slow = bt.bar_verdict(_fake_result(0.80, 11.0), "rt-polarity", "ours-nbsvm")
    assert not too_slow["passed"] and too_slow["checks"][0]["time_ok"]
    assert not too_slow["checks"][1]["time_ok"]


def test_report_and_plot_render_from_the_json(tmp_path):
    result = json.loads(json.dumps(_fake_result(0.79, 5.0)))
    bt.write_results(result, tmp_path)
    md = (tmp_path / "text.md").read_text()
    assert "| `ours-nbsvm` | 79.00 ± 1.00 | 5.0 |" in md
    assert "+1.00 / 0.10" in md  # ours vs sklearn-tfidf-svc: points / time ratio
    assert "rt-polarity, `ours-nbsvm`: **PASS**" in md
    assert (tmp_path / "text.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "text.json").read_text())["runs"][0]["method"]

"""bench/bench_end_to_end.py: the CLI's output parsed, and the bar judged from the result."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_end_to_end as be

TRAIN_OUT = ("C chosen: 1.51567, loss hinge (3-fold CV accuracy 0.8947; 11 points of the "
             "warm-started C path)\ncorpus: 20newsgroups (train split): 11314 rows\n")
TEST_OUT = "corpus: 20newsgroups (test split): 7532 rows\naccuracy: 0.8672\n"


def test_ours_runs_train_then_test_and_reads_their_output(monkeypatch, tmp_path):
    calls = []

    def fake_cli(*args):
        calls.append(args)
        return TRAIN_OUT if args[0] == "train" else TEST_OUT

    monkeypatch.setattr(be, "cli", fake_cli)
    row = be.ours("20newsgroups", 2, tmp_path)
    assert [call[0] for call in calls] == ["train", "test"]
    assert calls[0][:5] == ("train", "20newsgroups", "--ngrams", "2", "--threads")
    assert row["accuracy"] == 0.8672 and row["seconds"] > 0
    assert row["chosen"].startswith("C chosen: 1.51567, loss hinge")


def _result(ours_seconds, ours_accuracy):
    method = lambda s, a: {"seconds": [s], "median_seconds": s, "accuracy": [a],  # noqa: E731
                           "chosen": [None]}
    return {"machine": {}, "load_before": None, "load_after": None, "corpus": "c",
            "repeats": 1, "fasttext_params": be.FASTTEXT, "bar": be.BAR,
            "methods": {"ours-threads-2": method(ours_seconds, ours_accuracy),
                        "fasttext": method(40.0, 0.5)}}


def test_the_bar_needs_the_accuracy_and_less_time_than_fasttext():
    assert "- ours-threads-2: met" in be.report(_result(30.0, 0.87))
    assert "- ours-threads-2: NOT met" in be.report(_result(50.0, 0.87))
    assert "- ours-threads-2: NOT met" in be.report(_result(30.0, 0.86))
    assert "| ours-threads-2 | 30.0 | 30.0 | 87.00% | 0.75 |" in be.report(_result(30.0, 0.87))

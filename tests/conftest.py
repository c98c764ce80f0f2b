"""Shared pytest fixtures."""

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def shared_data():
    """Folder of real data sets (``libsvm/``, ``text/``), kept beside the project checkout."""
    from_env = os.environ.get("FASTTEXT_LIN_DATA")
    if from_env and Path(from_env).is_dir():
        return Path(from_env)
    beside_checkout = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if beside_checkout.is_dir():
        return beside_checkout
    pytest.skip("shared data directory not found: set FASTTEXT_LIN_DATA to ../shared/data")


@pytest.fixture(scope="session")
def tiny_data():
    """Folder of tiny real fixtures cut from the public sets (``tests/data``, see its README):
    real data for tests whose point does not need the full set."""
    return Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def write_libsvm():
    """A function writing ``n`` seeded rows of ``per_row`` of ``d`` features to a LIBSVM
    file, labelled -1/+1 by a hidden linear model."""

    def write(path, n, d=20, per_row=5, seed=0):
        rng = np.random.default_rng(seed)
        w = rng.normal(size=d)
        with open(path, "w") as f:
            for _ in range(n):
                cols = np.sort(rng.choice(d, size=per_row, replace=False))
                vals = rng.random(per_row)
                label = 1 if vals @ w[cols] > 0 else -1
                f.write(f"{label} " + " ".join(f"{c + 1}:{v:.4f}" for c, v in zip(cols, vals))
                        + "\n")

    return write


def two_class_reviews(n=60, seed=0):
    """A small two-class corpus a linear model separates, with an empty document."""
    good = ["good", "great", "fine film", "lovely", "superb acting", "a joy"]
    bad = ["bad", "awful", "boring film", "dull", "poor acting", "a mess"]
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = ("pos", "neg")[i % 2]
        words = rng.choice(good if label == "pos" else bad, size=3).tolist()
        texts.append(" ".join(words + rng.choice(["the", "movie", "plot"], 2).tolist()))
        labels.append(label)
    texts[5] = ""
    return texts, np.array(labels)


@pytest.fixture(scope="module")
def data():
    """``(texts, labels)`` of :func:`two_class_reviews`."""
    return two_class_reviews()


@pytest.fixture(scope="session")
def make_reviews():
    """:func:`two_class_reviews` itself, for a test that needs another size or seed."""
    return two_class_reviews

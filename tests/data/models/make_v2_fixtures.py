"""Make the format-2 model files of this folder (run once, at commit 982bb37).

Run from the repository root with FASTTEXT_LIN_DATA pointing at the data folder:
``python tests/data/models/make_v2_fixtures.py``. It overwrites the fixtures: run it only to
remake them with the code of that commit (README.md).
"""

import json
import os
from pathlib import Path

import numpy as np

from fasttext_lin import LinearClassifier, persist
from fasttext_lin.datasets import load_libsvm
from fasttext_lin.text_model import _featurizer_extra, text_pipeline

HERE = Path(__file__).parent
DATA = Path(os.environ["FASTTEXT_LIN_DATA"])
TEXTS = ["a gorgeous , witty , seductive movie .", "the plot is nothing but boilerplate clichés",
         "", "not bad at all", "zzz unseen words only"]


def rt_polarity(n):
    folder = DATA / "text" / "rt-polarity"
    lines = {label: (folder / f"rt-polarity.{label}").read_text("latin-1").splitlines()[:n]
             for label in ("pos", "neg")}
    return lines["pos"] + lines["neg"], ["pos"] * n + ["neg"] * n


def text_model(name, texts, y, **params):
    pipe = text_pipeline(**params).fit(texts, y)
    bow, clf = pipe.steps[0][1], pipe.steps[1][1]
    # save_text_model with deflated members, to keep the fixture small.
    persist.save_model(HERE / name, clf, extra=_featurizer_extra(bow), compress=True)
    return {"inputs": TEXTS, "predict": pipe.predict(TEXTS).tolist(),
            "decision_function": pipe.decision_function(TEXTS).tolist()}


def libsvm_model(name, data, n_features, clf):
    X, labels = load_libsvm(DATA / "libsvm" / data, n_features=n_features)
    X, labels = X[:400], labels[:400]
    clf.fit(X, labels)
    persist.save_model(HERE / name, clf)
    # Rows of each class among the first 400.
    rows = np.concatenate([np.flatnonzero(labels == c)[:3] for c in clf.classes_])
    return {"rows": rows.tolist(), "n_features": n_features, "data": data,
            "predict": clf.predict(X[rows]).tolist(),
            "decision_function": clf.decision_function(X[rows]).tolist()}


def main():
    expected = {}
    texts, y = rt_polarity(150)
    expected["text_linear_v2.npz"] = text_model("text_linear_v2.npz", texts, y, ngrams=2)
    expected["text_nbsvm_hashed_v2.npz"] = text_model(
        "text_nbsvm_hashed_v2.npz", texts, y, model="nbsvm", ngrams=2, n_features=4096)
    expected["a1a_linear_v2.npz"] = libsvm_model(
        "a1a_linear_v2.npz", "a1a", 123, LinearClassifier("hinge", C=1.0, max_iter=5, tol=None,
                                                          average=True, random_state=0))
    expected["dna_softmax_v2.npz"] = libsvm_model(
        "dna_softmax_v2.npz", "dna.scale", 180, LinearClassifier("softmax", C=1.0, max_iter=5,
                                                                 tol=None, random_state=0))
    (HERE / "expected_v2.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()

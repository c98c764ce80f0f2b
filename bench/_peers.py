"""The file-reading peers, Vowpal Wabbit and fastText: their input formats, fits and
predictions, as the bench scripts run them."""

import re
from pathlib import Path

import numpy as np


def fasttext_line(text):
    """``text`` on one line, normalised as fastText's classification example does."""
    text = text.lower().replace("<br />", " ")
    text = re.sub(r"[\";:]", " ", text)
    text = re.sub(r"([.,()!?'])", r" \1 ", text)
    return " ".join(text.split())


def fasttext_rows(X):
    """Each row of ``X`` as a line of tokens ``f<index>`` (fastText weighs tokens alike)."""
    return [" ".join(f"f{j}" for j in X.indices[X.indptr[i]:X.indptr[i + 1]].tolist())
            for i in range(X.shape[0])]


def write_fasttext(path, lines, y):
    """``__label__<y> <line>`` lines, fastText's supervised input."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line, label in zip(lines, np.asarray(y).tolist()):
            f.write(f"__label__{label:g} {line}\n")


def fasttext_fit(train, threads, seed=0, **params):
    """``fasttext.train_supervised`` on the file ``train``, quietly."""
    import fasttext

    return fasttext.train_supervised(input=str(train), thread=threads, seed=seed, verbose=0,
                                     **params)


def fasttext_labels(model, lines):
    """The label each of ``lines`` gets, as floats."""
    labels, _ = model.predict(lines)
    return np.array([float(label[0][len("__label__"):]) for label in labels])


def write_vw(path, X, y):
    """Rows of CSR ``X`` as Vowpal Wabbit lines ``label |f index:value ...``."""
    with open(path, "w") as f:
        for i, label in enumerate(y.tolist()):
            a, b = X.indptr[i], X.indptr[i + 1]
            pairs = " ".join(f"{j}:{v:.6g}" for j, v in zip(X.indices[a:b].tolist(),
                                                             X.data[a:b].tolist()))
            f.write(f"{label:g} |f {pairs}\n")


def vw_fit(train, epochs, folder, extra=()):
    """Train VW on the file ``train``; return the model path."""
    from vowpalwabbit import Workspace

    model = Path(folder) / "model.vw"
    Workspace(arg_list=["-d", str(train), "--passes", str(epochs), "-c", "-k", "--cache_file",
                        str(Path(folder) / "cache.vw"), "--holdout_off", "--quiet",
                        "-f", str(model), *extra]).finish()
    return model


def vw_predict(model, test, folder):
    """VW's raw predictions of the file ``test``."""
    from vowpalwabbit import Workspace

    preds = Path(folder) / "preds.txt"
    Workspace(arg_list=["-d", str(test), "-t", "-i", str(model), "-p", str(preds),
                        "--quiet"]).finish()
    return np.loadtxt(preds, ndmin=1)

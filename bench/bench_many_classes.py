"""Many classes (issue 4): accuracy, fit time and peak memory against the K x d weights bound.

A seeded synthetic sector-like set (``make_sector_like``): ``--rows`` documents (default
10,000; the first 80% train, the rest test) over ``--features`` words (default 60,000), each
about 150 word draws with about 100 distinct words: 95% from a Zipf background shared by all
classes, 5% from the class's own 300 topic words (Zipf-weighted, drawn once per class from
outside the 1,000 most frequent words; with 105 classes LinearSVC scores about 94% on it, as
on the real sector set). Rows are ``log1p(count)``, scaled to unit norm.
Classes: ``--classes`` (default 105, as the sector set, 300 and 1000).

Methods, each at ``C=1`` (no search) and ``--epochs`` epochs (default 5, ``tol=None``):

- ``softmax``: ``LinearClassifier(loss="softmax", C=1, average=True, random_state=0)``
- ``ovr-hinge-1`` / ``ovr-hinge-2``: ``LinearClassifier(loss="hinge", ...)`` with ``n_jobs``
  1 / 2 (one-vs-rest)
- ``linearsvc``: ``LinearSVC(C=1)`` (liblinear, one-vs-rest), for reference

Every fit runs in a fresh child process that loads the set (a ``.npz`` the parent wrote to a
temporary folder), warms up on 300 rows x 1,000 columns (JIT cache load), then resets its
peak RSS (``/proc/self/clear_refs``) and times ``--repeats`` fits (median reported); the
RSS peak of the fit is ``VmHWM`` during the first fit minus ``VmRSS`` before it (what the
process added: the weights, temporaries, numba's and liblinear's C allocations). One more,
untimed, fit of ours runs under ``tracemalloc``: the peak of the Python (NumPy) allocations,
which does not see allocations made inside the jitted kernels (nor liblinear's, which is why
LinearSVC has no traced figure).

Both peaks are set next to the bound of the issue: ``K x d x itemsize`` (x2 with averaging:
the weights and their average) + ``12 nnz`` (float64 values and int32 indices of the
training set), and the ratio peak / bound. The training set itself is loaded before the
fit and is not part of either peak. BLAS is held to one thread.

Usage::

    flock /tmp/fasttext_lin_bench.lock python bench/bench_many_classes.py \
        [--classes 105 300 1000] [--rows 10000] [--features 60000] [--epochs 5] \
        [--repeats 1] [--out DIR]
    python bench/bench_many_classes.py --report-only [--out DIR]

Writes ``many_classes.json`` (machine, versions, git state, every figure),
``many_classes.md`` and ``many_classes.png`` to ``--out`` (default ``bench/results``).
"""

import gc
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402
from _harness import (  # noqa: E402
    arguments,
    child_result,
    finish,
    fmt_git,
    fmt_load,
    machine_info,
    one_blas_thread,
    parse,
    pyplot,
    reset_peak,
    save_png,
    status_kib,
)

CLASSES = (105, 300, 1000)
METHODS = ("softmax", "ovr-hinge-1", "ovr-hinge-2", "linearsvc")
AVERAGED = {"softmax": True, "ovr-hinge-1": True, "ovr-hinge-2": True, "linearsvc": False}
TRAIN_SHARE = 0.8
WARMUP_SHAPE = (300, 1000)
C = 1.0


# -- the set ----------------------------------------------------------------------------------

def make_sector_like(n_classes, n_rows=10_000, n_features=60_000, draws=150, topic_share=0.05,
                     topic_words=300, common_words=1000, seed=0):
    """Return ``(X, y)``: a seeded sector-like bag-of-words set.

    Parameters
    ----------
    n_classes : int
        Number of classes; row ``i`` is of class ``i % n_classes`` before the shuffle.
    n_rows, n_features : int
        Shape of ``X``.
    draws : int
        Word draws per row (Poisson mean); repeated words make about 100 distinct ones.
    topic_share : float
        Share of a row's draws taken from its class's topic words.
    topic_words : int
        Words of each class's topic, drawn once per class among the words of rank
        ``common_words`` and beyond.
    common_words : int
        Most frequent words, kept out of the topics.
    seed : int
        The set depends on the seed only.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_rows, n_features), float64
        ``log1p(count)`` of each word, rows scaled to unit Euclidean norm.
    y : ndarray of int64 of shape (n_rows,)
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n_rows) % n_classes)
    lengths = np.maximum(rng.poisson(draws, n_rows), 1)
    rows = np.repeat(np.arange(n_rows), lengths)
    zipf = 1.0 / np.arange(1, n_features + 1) ** 1.05
    words = rng.choice(n_features, size=rows.size, p=zipf / zipf.sum())
    topics = rng.integers(common_words, n_features, (n_classes, topic_words))
    in_topic = rng.random(rows.size) < topic_share
    topic_zipf = 1.0 / np.arange(1, topic_words + 1)
    slot = rng.choice(topic_words, size=int(in_topic.sum()), p=topic_zipf / topic_zipf.sum())
    words[in_topic] = topics[y[rows[in_topic]], slot]
    X = sp.csr_matrix((np.ones(rows.size), (rows, words)), shape=(n_rows, n_features))
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.add.reduceat(X.data ** 2, X.indptr[:-1]))
    X.data /= np.repeat(norms, np.diff(X.indptr))
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, y


def memory_bound(n_classes, n_features, itemsize, averaged, nnz):
    """The issue's bound in bytes: ``K d itemsize`` (x2 averaged) + ``12 nnz``."""
    return n_classes * n_features * itemsize * (2 if averaged else 1) + 12 * nnz


# -- one fit in a child process ---------------------------------------------------------------

def make_model(method, epochs):
    """A fresh estimator of ``method`` (one of METHODS), ``epochs`` epochs for ours."""
    from sklearn.svm import LinearSVC

    from fasttext_lin.linear_model import LinearClassifier

    if method == "linearsvc":
        return LinearSVC(C=C)
    loss = "softmax" if method == "softmax" else "hinge"
    return LinearClassifier(loss, C=C, solver="sgd", average=True, max_iter=epochs, tol=None,
                            random_state=0, n_jobs=2 if method == "ovr-hinge-2" else 1)


def measure(method, X, y, X_test, y_test, epochs, repeats=1):
    """Fit ``method`` ``repeats`` times (timed, RSS peak of the first) and once under
    tracemalloc; return the figures as a dict."""
    make_model(method, epochs).fit(X[: WARMUP_SHAPE[0], : WARMUP_SHAPE[1]], y[: WARMUP_SHAPE[0]])
    gc.collect()
    peak_reset = reset_peak()
    seconds = []
    for r in range(repeats):
        rss_before = status_kib("VmRSS")
        model = make_model(method, epochs)
        start = time.perf_counter()
        model.fit(X, y)
        seconds.append(time.perf_counter() - start)
        if r == 0:
            rss_peak = (status_kib("VmHWM") - rss_before) * 1024
            accuracy = float(np.mean(model.predict(X_test) == y_test))
            n_iter = int(np.max(getattr(model, "n_iter_", 0)))
        del model
        gc.collect()
    traced_peak = None if method == "linearsvc" else traced_fit_peak(make_model(method, epochs),
                                                                      X, y)
    bound = memory_bound(len(np.unique(y)), X.shape[1], X.dtype.itemsize, AVERAGED[method],
                         X.nnz)
    return {"accuracy": accuracy, "fit_seconds": seconds,
            "fit_median": float(np.median(seconds)), "n_iter": n_iter,
            "peak_reset": peak_reset, "rss_peak_bytes": rss_peak,
            "traced_peak_bytes": traced_peak, "bound_bytes": bound,
            "rss_ratio": rss_peak / bound,
            "traced_ratio": None if traced_peak is None else traced_peak / bound}


def traced_fit_peak(model, X, y):
    """Peak bytes of the Python allocations (tracemalloc) of ``model.fit(X, y)``."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        model.fit(X, y)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def child(spec):
    with np.load(spec["data"]) as f:
        X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        y = f["y"]
    n_train = int(TRAIN_SHARE * X.shape[0])
    with one_blas_thread():
        out = measure(spec["method"], X[:n_train], y[:n_train], X[n_train:], y[n_train:],
                      spec["epochs"], spec["repeats"])
    child_result(out)


def run_child(spec):
    """:func:`child` in a fresh process; its record."""
    return _harness.run_child(__file__, spec)


def save_set(path, X, y):
    """The set as a plain ``.npz`` (no pickle) for the children."""
    np.savez(path, data=X.data, indices=X.indices, indptr=X.indptr, shape=np.array(X.shape),
             y=y)


# -- the run ----------------------------------------------------------------------------------

def run(args):
    start_run = time.perf_counter()
    result = {"machine": machine_info(),
              "params": {"rows": args.rows, "features": args.features, "epochs": args.epochs,
                         "repeats": args.repeats, "C": C, "train_share": TRAIN_SHARE},
              "sets": {}}
    with tempfile.TemporaryDirectory(prefix="bench_many_classes_") as tmp:
        for k in args.classes:
            start = time.perf_counter()
            X, y = make_sector_like(k, args.rows, args.features)
            path = Path(tmp) / f"sector_{k}.npz"
            save_set(path, X, y)
            n_train = int(TRAIN_SHARE * X.shape[0])
            info = {"n_classes": k, "shape": list(X.shape), "nnz_train": int(X[:n_train].nnz),
                    "nnz_per_row": X.nnz / X.shape[0],
                    "make_seconds": time.perf_counter() - start, "methods": {}}
            for method in args.methods:
                spec = {"data": str(path), "method": method, "epochs": args.epochs,
                        "repeats": args.repeats}
                info["methods"][method] = run_child(spec)
                r = info["methods"][method]
                print(f"K={k} {method}: accuracy {r['accuracy']:.4f}, fit {r['fit_median']:.2f}"
                      f" s, RSS +{r['rss_peak_bytes'] / 2**20:.0f} MiB "
                      f"({r['rss_ratio']:.2f}x bound)", file=sys.stderr)
            result["sets"][str(k)] = info
    result["wall_seconds"] = time.perf_counter() - start_run
    return result


def _mib(n):
    return f"{n / 2**20:.0f}"


def _traced(run):
    if run["traced_peak_bytes"] is None:
        return "-"
    return f"{_mib(run['traced_peak_bytes'])} ({run['traced_ratio']:.2f})"


def report(result):
    p, m = result["params"], result["machine"]
    lines = [
        "# Many classes: memory against the K x d weights bound", "",
        f"Synthetic sector-like sets, {p['rows']} rows ({p['train_share']:.0%} train) x "
        f"{p['features']} features; C={p['C']:g}, {p['epochs']} epochs for ours; "
        f"fit time = median of {p['repeats']} fit(s) in a fresh process per method. "
        f"Bound = K x d x 8 bytes (x2 averaged) + 12 nnz of the training set. "
        f"RSS peak: VmHWM minus VmRSS before the fit; traced: tracemalloc peak (Python/NumPy "
        f"allocations only).", "",
        f"Machine: {m['cpu']}, {m['cores']} cores (shared), load average "
        f"{fmt_load(m.get('load_average'))}; numpy {m['numpy']}, scikit-learn "
        f"{m['scikit-learn']}, numba {m['numba']}; commit {fmt_git(m.get('git'))}; {m['date']}; "
        f"whole run {result.get('wall_seconds', float('nan')):.0f} s.", "",
        "| K | nnz/row | method | accuracy % | fit s | bound MiB | RSS peak MiB (x bound) "
        "| traced peak MiB (x bound) |",
        "|---|---|---|---|---|---|---|---|"]
    for k, info in result["sets"].items():
        for method, r in info["methods"].items():
            lines.append(
                f"| {k} | {info['nnz_per_row']:.0f} | `{method}` | {100 * r['accuracy']:.2f} | "
                f"{r['fit_median']:.2f} | {_mib(r['bound_bytes'])} | "
                f"{_mib(r['rss_peak_bytes'])} ({r['rss_ratio']:.2f}) | "
                f"{_traced(r)} |")
    lines += ["", "LinearSVC keeps no average (bound x1); liblinear allocates in C, seen by the "
              "RSS peak only (no traced figure)."]
    return "\n".join(lines) + "\n"


def plot(result, path):
    sets = list(result["sets"])
    methods = list(next(iter(result["sets"].values()))["methods"])
    fig, axes = pyplot().subplots(1, 3, figsize=(15, 4.5))
    width = 0.8 / len(methods)
    for j, method in enumerate(methods):
        runs = [result["sets"][k]["methods"][method] for k in sets]
        x = np.arange(len(sets)) + (j - len(methods) / 2 + 0.5) * width
        axes[0].bar(x, [100 * r["accuracy"] for r in runs], width, label=method)
        axes[1].bar(x, [r["fit_median"] for r in runs], width, label=method)
        axes[2].bar(x, [r["rss_ratio"] for r in runs], width, label=method)
    axes[2].axhline(1.0, color="k", lw=0.8)
    titles = ("test accuracy %", "fit time (s, log)", "RSS peak / (K d 8 (x2 avg) + 12 nnz)")
    for ax, title in zip(axes, titles):
        ax.set_xticks(np.arange(len(sets)), [f"K={k}" for k in sets])
        ax.set_title(title)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path)


def main(argv=None):
    parser = arguments(__doc__, stem="many_classes", repeats=1, report_only=True, child=True)
    parser.add_argument("--classes", type=int, nargs="+", default=list(CLASSES))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parse(parser, argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    return finish(args, "many_classes", lambda: run(args), report, plot)


if __name__ == "__main__":
    sys.exit(main())

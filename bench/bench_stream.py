"""Out-of-core streaming and Dask: peak memory, throughput, speed-up and accuracy.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data flock /tmp/fasttext_lin_bench.lock \\
        python bench/bench_stream.py [--rows 1000000 10000000] [--passes 2] \\
        [--chunk-size 200000] [--dask-chunk-size 1000000] [--repeats 2] [--quick] \\
        [--out bench/results]

1. A synthetic text corpus on disk (not committed; cached under ``bench/.cache/stream``):
   the rows of ``bench/synthetic.py``'s 10M-row set with 25 nonzeros a row (2^20 Zipf
   feature ids, labels from a hidden linear model), each written as a fastText line
   ``__label__<y> f<id> f<id> ...``; the first ``--rows`` rows are a training file each,
   the last 100k rows the test file (so "10M" trains on 9.9M rows).
2. Streaming (:func:`fasttext_lin.stream.stream_fit`, hashing ``BagOfWords(2**20,
   weighting='binary', bias=True)``, ``LinearClassifier(loss='log_loss', alpha=1e-6,
   average=True)``, ``--passes`` passes of ``--chunk-size`` lines) on each training file, in a
   fresh process: peak RSS added by training (``VmHWM`` after ``clear_refs``, the process's
   RSS after imports and a warm-up fit on 2,000 rows subtracted), wall time, rows per second,
   test accuracy.
3. Dask (:mod:`fasttext_lin.dask`) on the largest file, ``LocalCluster`` of 1 and 2 worker
   processes (one thread each), partitions of ``--dask-chunk-size`` lines, the same model and
   passes: wall time from the files to the model (featurizing on the workers included; the
   cluster started and warmed up before the clock), accuracy; runs alternate 1, 2, 1, 2.
4. Accuracy of the Dask model (2 workers, 2 groups) against the single-process model (same
   parameters, ``ACCURACY_PASSES`` epochs and rounds): a9a (LIBSVM file, 4 partitions, C=0.1,
   hinge) and 20 Newsgroups (hashing ``BagOfWords(2**18, weighting='binary', bias=True)``:
   20 classes x 2^20 weights would make each round move 20 x 2^20 x 16 bytes each way;
   one-vs-rest hinge, C=1, 4 partitions of a bag of texts; its training
   split is sorted by class, so the documents are shuffled once before partitioning, as
   parameter mixing assumes partitions drawn alike: a partition of two classes teaches a
   one-vs-rest model nothing about the other 18).

Writes ``stream.json``, ``stream.md`` and ``stream.png`` to ``--out``.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    arguments,
    atomic_file,
    child_result,
    finish,
    fmt_git,
    fmt_load,
    load_average,
    machine_info,
    median,
    parse,
    peak_rss_bytes,
    pyplot,
    reset_peak_rss,
    rss_bytes,
    run_child,
    save_png,
)
from synthetic import CACHE, load_or_make  # noqa: E402

SET_ROWS, NNZ_PER_ROW, TEST_ROWS = 10_000_000, 25, 100_000
QUICK_SET_ROWS = 200_000
ROWS = (1_000_000, 10_000_000)
WARMUP_ROWS = 2000
ALPHA = 1e-6
# Epochs of the single-process model and rounds of the Dask one in the accuracy pairs.
ACCURACY_PASSES = 20
BAR = {"rss_growth_max": 0.10, "dask_accuracy_points": 0.2, "dask_speedup_min": 1.6}


# -- the corpus ---------------------------------------------------------------------------

@njit(cache=True)
def _fasttext_lines(indptr, indices, labels):
    """The rows as fastText lines ``__label__<0|1> f<id> ...\\n``, one uint8 buffer."""
    prefix = np.frombuffer(b"__label__", dtype=np.uint8)
    size = 0
    for i in range(labels.shape[0]):
        size += 12 + 9 * (indptr[i + 1] - indptr[i])
    out = np.empty(size, dtype=np.uint8)
    pos = 0
    digits = np.empty(20, dtype=np.uint8)
    for i in range(labels.shape[0]):
        out[pos:pos + 9] = prefix
        out[pos + 9] = 49 if labels[i] > 0 else 48
        pos += 10
        for p in range(indptr[i], indptr[i + 1]):
            out[pos] = 32
            out[pos + 1] = 102  # 'f'
            pos += 2
            j, n = indices[p], 0
            while True:
                digits[n] = 48 + j % 10
                j //= 10
                n += 1
                if j == 0:
                    break
            for q in range(n):
                out[pos + q] = digits[n - 1 - q]
            pos += n
        out[pos] = 10
        pos += 1
    return out[:pos]


def _write_rows(path, X, y, start, stop, block=500_000):
    """Write rows ``start:stop`` of ``X, y`` as fastText lines, atomically."""
    with atomic_file(path, what="corpus file") as f:
        for a in range(start, stop, block):
            b = min(a + block, stop)
            indptr = X.indptr[a:b + 1] - X.indptr[a]
            indices = X.indices[X.indptr[a]:X.indptr[b]]
            f.write(_fasttext_lines(indptr, indices, y[a:b]).tobytes())


def corpus_files(rows, set_rows):
    """The training file of each size in ``rows`` and the test file; written once."""
    folder = CACHE / "stream" / f"{set_rows}"
    folder.mkdir(parents=True, exist_ok=True)
    train = {r: folder / f"train_{min(r, set_rows - TEST_ROWS)}.txt" for r in rows}
    test = folder / "test.txt"
    missing = [p for p in [*train.values(), test] if not p.exists()]
    if missing:
        X, y = load_or_make(set_rows, nnz_per_row=NNZ_PER_ROW)
        for r, path in train.items():
            if not path.exists():
                _write_rows(path, X, y, 0, min(r, set_rows - TEST_ROWS))
        if not test.exists():
            _write_rows(test, X, y, set_rows - TEST_ROWS, set_rows)
    return {r: str(p) for r, p in train.items()}, str(test)


# -- the runs, each in a fresh process -------------------------------------------------------

def _model():
    from fasttext_lin import BagOfWords, LinearClassifier

    return (BagOfWords(1 << 20, weighting="binary", bias=True),
            LinearClassifier(loss="log_loss", alpha=ALPHA, average=True))


def _test_accuracy(pipe, test):
    from fasttext_lin.datasets import read_fasttext

    texts, labels = read_fasttext(test)
    return float(pipe.score(texts, labels))


def _warmup_file(train, folder):
    path = Path(folder) / "warmup.txt"
    with open(train, "rb") as src, open(path, "wb") as dst:
        dst.writelines(line for _, line in zip(range(WARMUP_ROWS), src))
    return str(path)


def child_stream(job):
    from fasttext_lin.stream import stream_fit

    bow, clf = _model()
    fit = dict(format="fasttext", chunk_size=job["chunk_size"], classifier=clf,
               featurizer=bow, random_state=0)
    with tempfile.TemporaryDirectory() as folder:
        stream_fit(_warmup_file(job["train"], folder), passes=1, **fit)
    reset_peak_rss()
    base = rss_bytes()
    start = time.perf_counter()
    pipe = stream_fit(job["train"], passes=job["passes"], **fit)
    seconds = time.perf_counter() - start
    peak = peak_rss_bytes() - base
    return {"seconds": seconds, "peak_rss_added": peak, "rss_before": base,
            "accuracy": _test_accuracy(pipe, job["test"])}


def child_dask(job):
    from distributed import Client, LocalCluster

    from fasttext_lin import dask as fdask

    bow, clf = _model()
    with LocalCluster(n_workers=job["workers"], threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        with tempfile.TemporaryDirectory() as folder:
            warm = fdask.featurize([_warmup_file(job["train"], folder)], featurizer=bow,
                                   chunk_size=WARMUP_ROWS // 2)
            fdask.fit(warm, client=client, classifier=clf, passes=1)
        start = time.perf_counter()
        parts = fdask.featurize([job["train"]], featurizer=bow, chunk_size=job["chunk_size"])
        pipe = fdask.fit(parts, client=client, classifier=clf, passes=job["passes"],
                         random_state=0)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "partitions": len(parts.parts),
            "accuracy": _test_accuracy(pipe, job["test"])}


# -- accuracy of the Dask model against one process ----------------------------------------

def accuracy_pairs(passes, quick):
    """Dask vs single-process test accuracy on a9a and 20 Newsgroups."""
    import dask.bag as db
    from distributed import Client, LocalCluster

    from fasttext_lin import BagOfWords, LinearClassifier
    from fasttext_lin import dask as fdask
    from fasttext_lin.datasets import fetch_corpus, fetch_libsvm, get_data_home

    result = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        a9a = fetch_libsvm("a9a", download=False)
        clf = LinearClassifier(loss="hinge", C=0.1, solver="sgd", average=True)
        alone = LinearClassifier(**clf.get_params()).set_params(
            max_iter=passes, tol=None, random_state=0).fit(a9a.X_train, a9a.y_train)
        path = Path(get_data_home()) / "libsvm" / "a9a"
        parts = fdask.featurize([path], format="libsvm", n_features=a9a.X_train.shape[1],
                                chunk_size=-(-a9a.X_train.shape[0] // 4))
        spread = fdask.fit(parts, client=client, classifier=clf, passes=passes, random_state=0)
        result["a9a"] = {"single": float(alone.score(a9a.X_test, a9a.y_test)),
                         "dask": float(spread.score(a9a.X_test, a9a.y_test)),
                         "partitions": len(parts.parts)}
        news = fetch_corpus("20newsgroups", download=False)
        order = np.random.default_rng(0).permutation(len(news.y_train))
        if quick:
            order = order[:3000]
        texts = [news.texts_train[i] for i in order]
        y = np.asarray(news.y_train)[order]
        bow = BagOfWords(1 << 18, weighting="binary", bias=True)
        clf = LinearClassifier(loss="hinge", C=1.0, solver="sgd", average=True)
        alone = LinearClassifier(**clf.get_params()).set_params(
            max_iter=passes, tol=None, random_state=0).fit(bow.fit_transform(texts), y)
        X_test = bow.transform(list(news.texts_test))
        bag = fdask.featurize(db.from_sequence(texts, npartitions=4),
                              db.from_sequence(y.tolist(), npartitions=4), featurizer=bow)
        spread = fdask.fit(bag, client=client, classifier=clf, passes=passes, random_state=0)
        result["20newsgroups"] = {"single": float(alone.score(X_test, news.y_test)),
                                  "dask": float(spread[-1].score(X_test, news.y_test)),
                                  "partitions": 4}
    return result


# -- the benchmark -------------------------------------------------------------------------

def run_benchmark(rows, passes, chunk_size, dask_chunk_size, repeats, quick, progress=print):
    set_rows = QUICK_SET_ROWS if quick else SET_ROWS
    rows = ([set_rows // 4, set_rows - TEST_ROWS] if quick
            else [min(r, set_rows - TEST_ROWS) for r in rows])
    machine = machine_info()
    result = {"machine": machine, "git": machine["git"], "bar": BAR,
              "params": {"rows": rows, "passes": passes, "chunk_size": chunk_size,
                         "dask_chunk_size": dask_chunk_size,
                         "repeats": repeats, "quick": quick, "set_rows": set_rows,
                         "nnz_per_row": NNZ_PER_ROW, "test_rows": TEST_ROWS, "alpha": ALPHA,
                         "command": " ".join(["python bench/bench_stream.py", *sys.argv[1:]])}}
    result["machine"]["load_average_start"] = load_average()
    start = time.perf_counter()
    train, test = corpus_files(rows, set_rows)
    result["corpus_seconds"] = time.perf_counter() - start
    result["files"] = {str(r): {"bytes": os.path.getsize(p)} for r, p in train.items()}
    progress(f"corpus ready in {result['corpus_seconds']:.0f} s: "
             + ", ".join(f"{r} rows {os.path.getsize(p) / 1e9:.2f} GB" for r, p in train.items()))
    result["stream"] = {}
    for r, path in train.items():
        job = {"kind": "stream", "train": path, "test": test, "passes": passes,
               "chunk_size": chunk_size}
        runs = [run_child(__file__, job) for _ in range(repeats)]
        result["stream"][str(r)] = {"runs": runs, "rows": r,
                                    "bytes": os.path.getsize(path)}
        med = median([x["seconds"] for x in runs])
        progress(f"stream {r} rows: {med:.1f} s, {passes * r / med / 1e3:.0f}k rows/s, peak "
                 f"+{max(x['peak_rss_added'] for x in runs) / 2**20:.0f} MiB, accuracy "
                 f"{runs[0]['accuracy']:.4f}")
    largest = max(train)
    result["dask"] = {"rows": largest, "runs": {"1": [], "2": []}}
    for _ in range(repeats):
        for workers in (1, 2):
            run = run_child(__file__, {"kind": "dask", "workers": workers, "train": train[largest],
                             "test": test, "passes": passes, "chunk_size": dask_chunk_size})
            result["dask"]["runs"][str(workers)].append(run)
            progress(f"dask {workers} worker(s), {largest} rows: {run['seconds']:.1f} s, "
                     f"accuracy {run['accuracy']:.4f}")
    result["accuracy"] = accuracy_pairs(ACCURACY_PASSES, quick)
    for name, acc in result["accuracy"].items():
        progress(f"{name}: single process {acc['single']:.4f}, dask {acc['dask']:.4f}")
    result["total_seconds"] = time.perf_counter() - start
    result["machine"]["load_average_end"] = load_average()
    return result


def bar_verdicts(result):
    bar, lines = result["bar"], []
    stream = result["stream"]
    sizes = sorted(stream, key=int)
    if len(sizes) > 1:
        peak = {s: max(r["peak_rss_added"] + r["rss_before"] for r in stream[s]["runs"])
                for s in sizes}
        growth = peak[sizes[-1]] / peak[sizes[0]] - 1
        lines.append(("PASS" if abs(growth) <= bar["rss_growth_max"] else "FAIL",
                      f"streaming peak RSS {peak[sizes[0]] / 2**20:.0f} MiB at {sizes[0]} rows, "
                      f"{peak[sizes[-1]] / 2**20:.0f} MiB at {sizes[-1]} rows: "
                      f"{100 * growth:+.1f}% (within 10%)"))
    for name, acc in result.get("accuracy", {}).items():
        gap = 100 * (acc["dask"] - acc["single"])
        lines.append(("PASS" if abs(gap) <= bar["dask_accuracy_points"] else "FAIL",
                      f"{name}: Dask {100 * acc['dask']:.2f} % vs one process "
                      f"{100 * acc['single']:.2f} % ({gap:+.2f} points; within 0.2)"))
    runs = result.get("dask", {}).get("runs", {})
    if runs.get("1") and runs.get("2"):
        one = median([r["seconds"] for r in runs["1"]])
        two = median([r["seconds"] for r in runs["2"]])
        lines.append(("PASS" if one / two >= bar["dask_speedup_min"] else "FAIL",
                      f"Dask on {result['dask']['rows']} rows: 1 worker {one:.1f} s, 2 workers "
                      f"{two:.1f} s: {one / two:.2f}x (at least 1.6x)"))
    return lines


def report(result):
    mc, p = result["machine"], result["params"]
    lines = ["# Streaming and Dask (bench/bench_stream.py)", "",
             f"{mc.get('cpu')}, {mc.get('cores')} cores (shared: times are noisy); load average "
             f"{fmt_load(mc['load_average_start'])} at start, "
             f"{fmt_load(mc.get('load_average_end'))} at end; Python "
             f"{mc.get('python')}, numba {mc.get('numba')}; {mc.get('date')}; commit "
             f"{fmt_git(result.get('git'))}.", "",
             f"Corpus: synthetic fastText lines, {p['nnz_per_row']} feature ids a row, test = "
             f"last {p['test_rows']} rows of a {p['set_rows']}-row set; hashing "
             f"BagOfWords(2**20, binary, bias) + LinearClassifier(log_loss, alpha={p['alpha']:g}"
             f", average); {p['passes']} passes; streaming chunks of {p['chunk_size']} lines, "
             f"Dask partitions of {p['dask_chunk_size']}; {p['repeats']} repeat(s). "
             f"Command: `{p['command']}`.", "",
             "## Streaming, one process", "",
             "| training rows | file GB | wall s (median) | rows/s (passes x rows / s) | "
             "peak RSS added MiB (max) | RSS before MiB | test accuracy |",
             "|---|---|---|---|---|---|---|"]
    for size, s in sorted(result["stream"].items(), key=lambda kv: int(kv[0])):
        med = median([r["seconds"] for r in s["runs"]])
        lines.append(f"| {int(size):,} | {s['bytes'] / 1e9:.2f} | {med:.1f} | "
                     f"{p['passes'] * int(size) / med:,.0f} | "
                     f"{max(r['peak_rss_added'] for r in s['runs']) / 2**20:.0f} | "
                     f"{s['runs'][0]['rss_before'] / 2**20:.0f} | {s['runs'][0]['accuracy']:.4f} |")
    d = result.get("dask")
    if d:
        lines += ["", f"## Dask, {d['rows']:,} training rows", "",
                  "| workers | wall s per run | median | partitions | test accuracy |",
                  "|---|---|---|---|---|"]
        for workers, runs in d["runs"].items():
            if runs:
                seconds = ", ".join(f"{r['seconds']:.1f}" for r in runs)
                lines.append(f"| {workers} | {seconds} | "
                             f"{np.median([r['seconds'] for r in runs]):.1f} | "
                             f"{runs[0]['partitions']} | {runs[0]['accuracy']:.4f} |")
    if result.get("accuracy"):
        lines += ["", f"## Dask model vs one process ({ACCURACY_PASSES} epochs / rounds, 2 "
                  "workers)", "",
                  "| set | one process % | Dask % | partitions |", "|---|---|---|---|"]
        for name, acc in result["accuracy"].items():
            lines.append(f"| {name} | {100 * acc['single']:.2f} | {100 * acc['dask']:.2f} | "
                         f"{acc['partitions']} |")
    lines += ["", "## The issue's bars", ""]
    lines += [f"- **{v}** {text}" for v, text in bar_verdicts(result)]
    return "\n".join(lines) + "\n"


def plot(result, path):
    fig, axes = pyplot().subplots(1, 2, figsize=(11, 4))
    sizes = sorted(result["stream"], key=int)
    peak = [max(r["peak_rss_added"] + r["rss_before"] for r in result["stream"][s]["runs"])
            / 2**20 for s in sizes]
    axes[0].plot([int(s) for s in sizes], peak, "o-")
    axes[0].set_xscale("log")
    axes[0].set_ylim(0, max(peak) * 1.3)
    axes[0].set(xlabel="training rows (file)", ylabel="peak RSS, MiB",
                title="streaming: peak memory against file size")
    runs = result.get("dask", {}).get("runs", {})
    workers = [w for w in runs if runs[w]]
    axes[1].bar(workers, [median([r["seconds"] for r in runs[w]]) for w in workers])
    axes[1].set(xlabel="Dask workers", ylabel="wall s (median)",
                title=f"Dask on {result.get('dask', {}).get('rows', 0):,} rows")
    fig.tight_layout()
    save_png(fig, path)


def main(argv=None):
    parser = arguments(__doc__, stem="stream", out=None, repeats=2, data=True, child=True,
                       quick="a 200k-row set, written to a temporary results folder")
    parser.add_argument("--rows", type=int, nargs="+", default=list(ROWS))
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=200_000)
    parser.add_argument("--dask-chunk-size", type=int, default=1_000_000)
    args = parse(parser, argv)
    if args.child:
        job = json.loads(args.child)
        child_result((child_stream if job["kind"] == "stream" else child_dask)(job))
        return 0
    return finish(args, "stream", lambda: run_benchmark(
        args.rows, args.passes, args.chunk_size, args.dask_chunk_size, args.repeats,
        args.quick), report, plot)


if __name__ == "__main__":
    sys.exit(main())

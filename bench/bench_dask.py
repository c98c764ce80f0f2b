"""CoCoA+ on Dask (``fasttext_lin.dask.fit`` with ``solver='cd'``): the gap round by round,
plain and accelerated, against one process.

Three studies (``--studies``), each on a LocalCluster of worker processes of one thread:

- ``a9a``: liblinear's ``P(w) = 1/2 ||w||^2 + C sum_i hinge_i`` at ``C = 1`` with a bias
  column and ``fit_intercept=False`` (as ``bench_solvers.py`` sets it), the training set
  written as 4 LIBSVM part files, ``--workers`` workers and as many groups, each
  ``--local-passes``, plain CoCoA+ and accelerated (``--modes``). After each round the model's
  primal gap ``(P(w) - P*) / P*`` (``P*``: ``LinearSVC(loss='hinge', fit_intercept=False,
  tol=1e-10)`` on the same float64 CSR with int32 indices) and the certified relative
  duality gap are recorded with the rounds' own seconds (the driver's evaluation is not
  counted): rounds and seconds to primal gaps 1e-3 and 1e-4, test accuracy against one
  process's ``solver='cd'``.
- ``news``: 20 Newsgroups through a hashing ``BagOfWords(2**18, weighting='count',
  bias=True)`` (2^18: every round moves 20 one-vs-rest weight vectors each way), the training
  split shuffled once and cut into 4 partitions of a bag of texts, one-vs-rest hinge, C=1,
  2 workers and groups, to each relative duality gap of ``--news-tol`` (``--news-modes``,
  accelerated by default: plain CoCoA+ ran 2,000 rounds to 1.1e-2); test accuracy against
  ``LinearClassifier(solver='cd', tol=1e-4)`` in one process on the same features.
- ``synthetic``: ``bench/synthetic.py``'s set of ``--synthetic-rows`` rows, 25 nonzeros a row
  (the last 10% held out), hinge at ``--synthetic-C``, the training rows as 8 partition
  files (``.npz`` under ``bench/.cache/dask_parts``, loaded by the workers), 2 groups (so the
  rounds are the same whatever the workers) on 1 and then 2 workers, to a relative duality
  gap of 1e-3, accelerated: wall time of ``fit`` (blocks built on the workers included) and
  the rounds' own seconds, against one process's ``solver='cd'`` at the same tol.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_dask.py \
        [--studies a9a news synthetic] [--workers 2] [--local-passes 1 5] \
        [--modes accelerated plain] [--max-rounds 3000] [--synthetic-rows 10000000] [--out DIR]
    python bench/bench_dask.py --report-only [--out DIR]

Writes ``dask.json`` and ``dask.md`` to ``--out`` (default ``bench/results``).
"""

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402
from _harness import (  # noqa: E402
    arguments,
    finish,
    fmt_git,
    fmt_load,
    load_average,
    machine_info,
    parse,
    read_results,
)
from bench_solvers import with_bias_column  # noqa: E402

STEM = "dask"
C = 1.0
PARTS = 4
GAPS = (1e-3, 1e-4)
MODES = {"accelerated": True, "plain": False}
NEWS_FEATURES = 1 << 18
SYNTHETIC_NNZ = 25
SYNTHETIC_PARTS = 8
SYNTHETIC_GROUPS = 2
SYNTHETIC_TOL = 1e-3


def _primal(Xb, y, coef):
    return 0.5 * float(coef @ coef) + C * float(np.maximum(0.0, 1.0 - y * (Xb @ coef)).sum())


def _first(curve, gap, column, key="primal_gap"):
    """The first round of ``curve`` at or below ``gap``: its ``column`` (None if none)."""
    for point in curve:
        if point[key] is not None and point[key] <= gap:
            return point[column]
    return None


def _thin(curve):
    return curve[::max(1, len(curve) // 200)] + curve[-1:]


def _cluster(workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", memory_limit=0)
    return cluster, Client(cluster)


def _timed(fit):
    """Run ``fit(callback)`` (a CoCoA+ fit); return the model and its record: wall seconds,
    the rounds' own seconds, the load before, and the certified gap round by round."""
    curve, total = [], [0.0]

    def record(round_, progress):
        total[0] += progress.seconds
        curve.append({"round": round_, "seconds": total[0],
                      "duality_gap": progress.relative_gap})

    load = load_average()
    start = time.perf_counter()
    model = fit(record)
    return model, {"wall_seconds": time.perf_counter() - start, "round_seconds": total[0],
                   "load": load, "curve": _thin(curve)}


def study_a9a(args):
    from sklearn.datasets import dump_svmlight_file
    from sklearn.svm import LinearSVC

    from fasttext_lin import LinearClassifier
    from fasttext_lin import dask as fdask
    from fasttext_lin.datasets import load_libsvm_files

    home = Path(os.environ.get("FASTTEXT_LIN_DATA", "shared/data")) / "libsvm"
    X, y, X_test, y_test = load_libsvm_files([home / "a9a", home / "a9a.t"], n_features=123)
    Xb, Xb_test = with_bias_column(X), with_bias_column(X_test)
    start = time.perf_counter()
    reference = LinearSVC(loss="hinge", C=C, fit_intercept=False, tol=1e-10, max_iter=100_000,
                          random_state=0).fit(Xb, y)
    reference_seconds = time.perf_counter() - start
    optimum = _primal(Xb, y, reference.coef_[0])
    alone = LinearClassifier(solver="cd", loss="hinge", C=C, fit_intercept=False,
                             tol=1e-4).fit(Xb, y)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for k, rows in enumerate(np.array_split(np.arange(Xb.shape[0]), PARTS)):
            paths.append(Path(folder) / f"part-{k}.svm")
            dump_svmlight_file(Xb[rows], y[rows], str(paths[-1]), zero_based=False)
        cluster, client = _cluster(args.workers)
        with cluster, client:
            parts = fdask.featurize(paths, format="libsvm", n_features=Xb.shape[1],
                                    chunk_size=10**9)
            clf = LinearClassifier(solver="cd", loss="hinge", C=C, fit_intercept=False,
                                   tol=1e-6)
            for mode in args.modes:
                for local_passes in args.local_passes:
                    curve, seconds = [], 0.0

                    def record(round_, progress):
                        nonlocal seconds
                        seconds += progress.seconds
                        gap = (_primal(Xb, y, progress.model.coef_[0]) - optimum) / optimum
                        curve.append({"round": round_, "seconds": seconds, "primal_gap": gap,
                                      "duality_gap": progress.relative_gap})

                    load = load_average()
                    model = fdask.fit(parts, client=client, classifier=clf,
                                      passes=args.max_rounds, local_passes=local_passes,
                                      accelerate=MODES[mode], random_state=0,
                                      callback=record, progress=False)
                    runs.append({"mode": mode, "local_passes": local_passes,
                                 "rounds": model.n_iter_, "load": load, "curve": _thin(curve),
                                 "test_accuracy": model.score(Xb_test, y_test),
                                 **{f"rounds_to_{g:g}": _first(curve, g, "round") for g in GAPS},
                                 **{f"seconds_to_{g:g}": _first(curve, g, "seconds")
                                    for g in GAPS}})
                    print(f"a9a {mode}, local_passes={local_passes}: {model.n_iter_} rounds, "
                          f"final primal gap {curve[-1]['primal_gap']:.3g}", file=sys.stderr)
    return {"C": C, "parts": PARTS, "workers": args.workers, "optimum": optimum,
            "reference_seconds": reference_seconds,
            "one_process_test_accuracy": alone.score(Xb_test, y_test), "runs": runs}


def study_news(args):
    import dask.bag as db

    from fasttext_lin import BagOfWords, LinearClassifier
    from fasttext_lin import dask as fdask
    from fasttext_lin.datasets import fetch_corpus

    news = fetch_corpus("20newsgroups", download=False)
    order = np.random.default_rng(0).permutation(len(news.y_train))
    texts = [news.texts_train[i] for i in order]
    y = np.asarray(news.y_train)[order]
    bow = BagOfWords(NEWS_FEATURES, weighting="count", bias=True)
    X, X_test = bow.fit_transform(texts), bow.transform(list(news.texts_test))
    clf = LinearClassifier(solver="cd", loss="hinge", C=C)
    start = time.perf_counter()
    alone = LinearClassifier(**clf.get_params()).set_params(tol=1e-4).fit(X, y)
    alone_seconds = time.perf_counter() - start
    runs = []
    cluster, client = _cluster(2)
    with cluster, client:
        bag = fdask.featurize(db.from_sequence(texts, npartitions=PARTS),
                              db.from_sequence(y.tolist(), npartitions=PARTS), featurizer=bow)
        for mode, tol in [(m, t) for t in args.news_tol for m in args.news_modes]:
            clf.set_params(tol=tol)
            model, timing = _timed(lambda record: fdask.fit(
                bag, client=client, classifier=clf, passes=args.max_rounds,
                accelerate=MODES[mode], random_state=0, callback=record, progress=False))
            runs.append({"mode": mode, "tol": tol, "rounds": model[-1].n_iter_, **timing,
                         "test_accuracy": float(model.score(list(news.texts_test),
                                                            news.y_test))})
            print(f"news {mode}: {model[-1].n_iter_} rounds, {timing['wall_seconds']:.1f} s, "
                  f"accuracy {runs[-1]['test_accuracy']:.4f}", file=sys.stderr)
    return {"C": C, "n_features": NEWS_FEATURES, "parts": PARTS, "workers": 2,
            "one_process_seconds": alone_seconds,
            "one_process_test_accuracy": float(alone.score(X_test, news.y_test)),
            "runs": runs}


def _load_part(path):
    """One partition file's ``(X, y)``."""
    import scipy.sparse as sp

    with np.load(path) as f:
        X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        return X, f["y"]


def study_synthetic(args):
    from dask import delayed

    from fasttext_lin import LinearClassifier
    from fasttext_lin import dask as fdask

    X, y = synthetic.load_or_make(args.synthetic_rows, nnz_per_row=SYNTHETIC_NNZ)
    X_train, y_train, X_test, y_test = synthetic.split(X, y)
    folder = synthetic.CACHE / "dask_parts" / f"{args.synthetic_rows}_{SYNTHETIC_NNZ}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    bounds = np.linspace(0, X_train.shape[0], SYNTHETIC_PARTS + 1).astype(np.int64)
    for k in range(SYNTHETIC_PARTS):
        path = folder / f"part-{k}.npz"
        if not path.exists():
            part = X_train[bounds[k]:bounds[k + 1]]
            tmp = folder / f"part-{k}.tmp.npz"
            np.savez(tmp, data=part.data, indices=part.indices, indptr=part.indptr,
                     shape=np.array(part.shape), y=y_train[bounds[k]:bounds[k + 1]])
            os.replace(tmp, path)
        paths.append(str(path))
    clf = LinearClassifier(solver="cd", loss="hinge", C=args.synthetic_C, tol=SYNTHETIC_TOL)
    start = time.perf_counter()
    alone = LinearClassifier(**clf.get_params()).fit(X_train, y_train)
    alone_seconds = time.perf_counter() - start
    alone_accuracy = float(alone.score(X_test, y_test))
    del alone
    runs = []
    for workers in (1, 2):
        cluster, client = _cluster(workers)
        with cluster, client:
            parts = fdask.Partitions([delayed(_load_part, pure=True)(p) for p in paths], None)
            model, timing = _timed(lambda record: fdask.fit(
                parts, client=client, classifier=clf, passes=args.max_rounds,
                groups=SYNTHETIC_GROUPS, random_state=0, callback=record, progress=False))
            runs.append({"workers": workers, "rounds": model.n_iter_, **timing,
                         "test_accuracy": float(model.score(X_test, y_test))})
            print(f"synthetic, {workers} worker(s): {model.n_iter_} rounds, "
                  f"{timing['wall_seconds']:.1f} s (rounds {timing['round_seconds']:.1f} s)",
                  file=sys.stderr)
    return {"rows": int(X_train.shape[0]), "nnz": int(X_train.nnz), "C": args.synthetic_C,
            "tol": SYNTHETIC_TOL, "groups": SYNTHETIC_GROUPS, "parts": SYNTHETIC_PARTS,
            "one_process_seconds": alone_seconds, "one_process_test_accuracy": alone_accuracy,
            "runs": runs}


STUDIES = {"a9a": study_a9a, "news": study_news, "synthetic": study_synthetic}


def run(args):
    result = {"machine": machine_info(), "load_before": load_average()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.studies:
            result[name] = STUDIES[name](args)
    if args.keep:
        # Studies not run now, from --out's last results (each then says its own run).
        try:
            last = read_results(args.out, STEM)
        except FileNotFoundError:
            last = {}
        for name in set(STUDIES) - set(args.studies):
            if name in last:
                result[name] = {"machine": last["machine"], **last[name]}
    result["load_after"] = load_average()
    return result


def _cell(value, digits=".1f"):
    return "-" if value is None else format(value, digits)


def report(result):
    lines = ["# CoCoA+ on Dask (bench/bench_dask.py)", "",
             f"git {fmt_git(result['machine']['git'])}; load {fmt_load(result.get('load_before'))}"
             f" at start, {fmt_load(result.get('load_after'))} at end. Seconds are the rounds' "
             "own (the driver's per-round evaluation excluded) unless said.", ""]
    a9a = result.get("a9a")
    if a9a:
        lines += [f"## a9a, hinge, C={a9a['C']:g}, {a9a['parts']} part files, {a9a['workers']} "
                  "workers", "",
                  f"P* = {a9a['optimum']:.10g} (LinearSVC tol 1e-10, "
                  f"{a9a['reference_seconds']:.1f} s); one process 'cd' test accuracy "
                  f"{a9a['one_process_test_accuracy']:.4f}.", "",
                  "| mode | local passes | rounds run | final primal gap | rounds to 1e-3 | "
                  "s to 1e-3 | rounds to 1e-4 | s to 1e-4 | test accuracy | load |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in a9a["runs"]:
            lines.append(
                f"| {r.get('mode', 'plain')} | {r['local_passes']} | {r['rounds']} | "
                f"{r['curve'][-1]['primal_gap']:.3g} | {_cell(r['rounds_to_0.001'], 'd')} | "
                f"{_cell(r['seconds_to_0.001'])} | {_cell(r['rounds_to_0.0001'], 'd')} | "
                f"{_cell(r['seconds_to_0.0001'])} | {r['test_accuracy']:.4f} | "
                f"{fmt_load(r['load'])} |")
        lines.append("")
    news = result.get("news")
    if news:
        lines += [f"## 20 Newsgroups, hashing 2^{int(np.log2(news['n_features']))}, one-vs-rest "
                  f"hinge, C={news['C']:g}, {news['parts']} partitions, {news['workers']} workers",
                  "",
                  f"One process (tol 1e-4): {100 * news['one_process_test_accuracy']:.2f}% in "
                  f"{news['one_process_seconds']:.1f} s.", "",
                  "| mode | tol (relative gap) | rounds | wall s | rounds' s | test accuracy | "
                  "vs one process | load |", "|---|---|---|---|---|---|---|---|"]
        for r in news["runs"]:
            delta = 100 * (r["test_accuracy"] - news["one_process_test_accuracy"])
            lines.append(f"| {r['mode']} | {r['tol']:g} | {r['rounds']} | "
                         f"{r['wall_seconds']:.1f} | "
                         f"{r['round_seconds']:.1f} | {100 * r['test_accuracy']:.2f}% | "
                         f"{delta:+.2f} points | {fmt_load(r['load'])} |")
        lines.append("")
    syn = result.get("synthetic")
    if syn:
        lines += [f"## Synthetic, {syn['rows']:,} training rows ({syn['nnz']:,} nonzeros), hinge,"
                  f" C={syn['C']:g}, {syn['parts']} partition files, {syn['groups']} groups, to "
                  f"relative gap {syn['tol']:g}", "",
                  *([f"Run at git {fmt_git(syn['machine']['git'])} on "
                     f"{syn['machine'].get('date', '?')}.", ""] if "machine" in syn else []),
                  f"One process ('cd', same tol): {syn['one_process_seconds']:.1f} s, "
                  f"{100 * syn['one_process_test_accuracy']:.2f}%.", "",
                  "| workers | rounds | wall s (fit) | rounds' s | test accuracy | 1 worker / this "
                  "(wall) | load |", "|---|---|---|---|---|---|---|"]
        one = syn["runs"][0]["wall_seconds"]
        for r in syn["runs"]:
            lines.append(f"| {r['workers']} | {r['rounds']} | {r['wall_seconds']:.1f} | "
                         f"{r['round_seconds']:.1f} | {100 * r['test_accuracy']:.2f}% | "
                         f"{one / r['wall_seconds']:.2f}x | {fmt_load(r['load'])} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, report_only=True, data=True)
    parser.add_argument("--studies", nargs="+", choices=sorted(STUDIES),
                        default=["a9a", "news", "synthetic"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--local-passes", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--modes", nargs="+", choices=sorted(MODES),
                        default=["accelerated", "plain"])
    parser.add_argument("--max-rounds", type=int, default=3000)
    parser.add_argument("--news-tol", type=float, nargs="+", default=[1e-2, 1e-3])
    parser.add_argument("--news-modes", nargs="+", choices=sorted(MODES),
                        default=["accelerated"])
    parser.add_argument("--synthetic-rows", type=int, default=10_000_000)
    parser.add_argument("--synthetic-C", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true",
                        help="keep the studies not run from --out's last results")
    args = parse(parser, argv)
    return finish(args, STEM, lambda: run(args), report)


if __name__ == "__main__":
    sys.exit(main())

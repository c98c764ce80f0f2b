"""CoCoA+ on Dask (``fasttext_lin.dask.fit`` with ``solver='cd'``): the primal gap against
liblinear's optimum, round by round.

The problem is liblinear's ``P(w) = 1/2 ||w||^2 + C sum_i hinge_i`` at ``C = 1`` on a9a with a
bias column and ``fit_intercept=False`` (as ``bench_solvers.py`` sets it), the training set
written as 4 LIBSVM part files; ``P*`` is ``LinearSVC(loss='hinge', fit_intercept=False,
tol=1e-10)`` on the same float64 CSR with int32 indices. A LocalCluster of ``--workers``
worker processes (one thread each) runs CoCoA+ with ``groups`` = workers and each
``--local-passes``; after each round the model's primal gap ``(P(w) - P*) / P*`` and the
certified relative duality gap are recorded with the rounds' own seconds (the driver's
evaluation is not counted). The report gives the rounds and seconds to primal gaps 1e-3 and
1e-4, and the test accuracy against one process's ``solver='cd'``.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_dask.py \
        [--workers 2] [--local-passes 1 2 5] [--max-rounds 3000] [--out DIR]
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
from _harness import arguments, finish, fmt_git, fmt_load, load_average, machine_info, parse
from bench_solvers import with_bias_column  # noqa: E402

STEM = "dask"
C = 1.0
PARTS = 4
GAPS = (1e-3, 1e-4)


def _primal(Xb, y, coef):
    return 0.5 * float(coef @ coef) + C * float(np.maximum(0.0, 1.0 - y * (Xb @ coef)).sum())


def _first(curve, gap, column):
    """The first round of ``curve`` at or below ``gap``: its ``column`` (None if none)."""
    for point in curve:
        if point["primal_gap"] <= gap:
            return point[column]
    return None


def run(args):
    from distributed import Client, LocalCluster
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
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = []
        for k, rows in enumerate(np.array_split(np.arange(Xb.shape[0]), PARTS)):
            paths.append(Path(folder) / f"part-{k}.svm")
            dump_svmlight_file(Xb[rows], y[rows], str(paths[-1]), zero_based=False)
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            parts = fdask.featurize(paths, format="libsvm", n_features=Xb.shape[1],
                                    chunk_size=10**9)
            clf = LinearClassifier(solver="cd", loss="hinge", C=C, fit_intercept=False,
                                   tol=1e-6)
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
                                  random_state=0, callback=record, progress=False)
                runs.append({"local_passes": local_passes, "rounds": model.n_iter_,
                             "load": load, "curve": curve[::max(1, len(curve) // 200)]
                             + curve[-1:],
                             "test_accuracy": model.score(Xb_test, y_test),
                             **{f"rounds_to_{g:g}": _first(curve, g, "round") for g in GAPS},
                             **{f"seconds_to_{g:g}": _first(curve, g, "seconds")
                                for g in GAPS}})
                print(f"local_passes={local_passes}: {model.n_iter_} rounds, final primal gap "
                      f"{curve[-1]['primal_gap']:.3g}", file=sys.stderr)
    return {"machine": machine_info(), "set": "a9a", "C": C, "parts": PARTS,
            "workers": args.workers, "optimum": optimum,
            "reference_seconds": reference_seconds,
            "one_process_test_accuracy": alone.score(Xb_test, y_test), "runs": runs}


def report(result):
    lines = [f"# CoCoA+ on Dask: a9a, hinge, C={result['C']:g}, {result['parts']} part files, "
             f"{result['workers']} workers", "",
             f"git {fmt_git(result['machine']['git'])}; P* = {result['optimum']:.10g} "
             f"(LinearSVC tol 1e-10, {result['reference_seconds']:.1f} s); one process "
             f"'cd' test accuracy {result['one_process_test_accuracy']:.4f}.", "",
             "| local passes | rounds run | final primal gap | rounds to 1e-3 | s to 1e-3 | "
             "rounds to 1e-4 | s to 1e-4 | test accuracy | load |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(value, digits=".1f"):
        return "-" if value is None else format(value, digits)

    for run_ in result["runs"]:
        lines.append(
            f"| {run_['local_passes']} | {run_['rounds']} | "
            f"{run_['curve'][-1]['primal_gap']:.3g} | {cell(run_['rounds_to_0.001'], 'd')} | "
            f"{cell(run_['seconds_to_0.001'])} | {cell(run_['rounds_to_0.0001'], 'd')} | "
            f"{cell(run_['seconds_to_0.0001'])} | {run_['test_accuracy']:.4f} | "
            f"{fmt_load(run_['load'])} |")
    lines += ["", "Seconds are the rounds' own (the driver's per-round evaluation excluded). "
              "The machine may be shared: see the load column."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, report_only=True, data=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--local-passes", type=int, nargs="+", default=[1, 2, 5])
    parser.add_argument("--max-rounds", type=int, default=3000)
    args = parse(parser, argv)
    return finish(args, STEM, lambda: run(args), report)


if __name__ == "__main__":
    sys.exit(main())

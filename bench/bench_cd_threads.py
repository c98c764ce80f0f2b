"""One exact 'cd' model on 2 threads against 1: the speed issue's bar for the exact solver.

On the synthetic reviews (``bench/synthetic.py``, 100 nonzeros a row, 2^20 features,
float32; ``--rows`` training rows and a tenth as many more held out), ``--repeats``
interleaved rounds fit ``LinearClassifier(solver='cd', C=1, tol=1e-4)`` with ``n_jobs=1``
and ``n_jobs=2`` (hinge, squared hinge and log loss), and liblinear's ``LinearSVC`` (dual,
the same problem, its own default stop) for scale. Reported: median seconds, the median of the
per-round ratios, the passes, the relative duality gap each model certifies (computed
afresh by ``duality_gap``, not read from the solver) and the test accuracy; the distance
between the two models against the bound ``sqrt(2 tol P)`` that a certified gap gives each
of them (the primal is 1-strongly convex); and where the time of one fit goes, from one
extra fit of each (its steps timed by wrappers, so it runs a little slower than the timed
rounds).

Usage::

    python bench/bench_cd_threads.py [--repeats 9] [--rows 200000] [--out DIR]
    python bench/bench_cd_threads.py --report-only [--out DIR]

Writes ``cd_threads.json`` and ``cd_threads.md`` to ``--out``.
"""

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402
from _harness import arguments, finish, fmt_git, fmt_load, load_average, machine_info, parse  # noqa: E402,E501

STEM = "cd_threads"
C, TOL = 1.0, 1e-4
LOSSES = ("hinge", "squared_hinge", "log_loss")
# The steps of a fit timed by the breakdown: (module, classes or None, method) of
# fasttext_lin's modules.
THREADS = ("Serial", "RowThreads")
STEPS = {
    "passes": [("_cd_threads", THREADS, "passes"), ("_cd_threads", THREADS, "logistic_pass")],
    "gap sweeps": [("_cd_threads", THREADS, "sweep"), ("_cd_threads", THREADS, "logistic_gap")],
    "Newton steps on the free rows": [("_cd_threads", THREADS, "face_newton")],
    "copy of X, hot columns first (threads)": [("_cd_threads", ("RowThreads",), "__init__")],
    "row norms (one thread)": [("_cd", (None,), "squared_row_norms")],
}


def _int32(X):
    X = X.copy()
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return X


def _breakdown(make, X, y):
    """Seconds of each of STEPS in one fit of ``make()``, and the fit's total."""
    import importlib

    spent, originals = Counter(), []
    for name, module, owners, attribute in ((name, *step) for name, steps in STEPS.items()
                                            for step in steps):
        module = importlib.import_module(f"fasttext_lin.{module}")
        for owner in owners:
            target = module if owner is None else getattr(module, owner)
            original = getattr(target, attribute)

            def timed(*args, _original=original, _name=name, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    spent[_name] += time.perf_counter() - start

            originals.append((target, attribute, original))
            setattr(target, attribute, timed)
    try:
        start = time.perf_counter()
        make().fit(X, y)
        total = time.perf_counter() - start
    finally:
        for target, attribute, original in originals:
            setattr(target, attribute, original)
    return {"total": total, **{name: spent[name] for name in STEPS}}


def run(args):
    from sklearn.svm import LinearSVC

    from fasttext_lin import LinearClassifier

    X, y = synthetic.load_or_make(args.rows + args.rows // 10)
    X_train, y_train, X_test, y_test = synthetic.split(X, y, test_fraction=1 / 11)
    fits = {}
    for loss in LOSSES:
        for n_jobs in (1, 2):
            fits[f"{loss}: ours, {n_jobs} thread{'s' * (n_jobs > 1)}"] = (
                lambda loss=loss, n_jobs=n_jobs: LinearClassifier(
                    loss=loss, solver="cd", C=C, tol=TOL, random_state=0, n_jobs=n_jobs))
    fits["hinge: LinearSVC (liblinear, dual, its default tol)"] = lambda: LinearSVC(
        loss="hinge", C=C, dual=True, max_iter=10_000, random_state=0)
    X_int32 = _int32(X_train)
    data = {name: (X_int32 if "LinearSVC" in name else X_train) for name in fits}
    for name, make in fits.items():  # warm-up: compile or load the kernels
        make().fit(data[name][:8192], y_train[:8192])
    load_before = load_average()
    seconds = {name: [] for name in fits}
    models = {}
    for _ in range(args.repeats):
        for name, make in fits.items():
            model = make()
            start = time.perf_counter()
            model.fit(data[name], y_train)
            seconds[name].append(time.perf_counter() - start)
            models[name] = model
    load_after = load_average()
    quality = {}
    for name, model in models.items():
        entry = {"test_accuracy": float(model.score(X_test, y_test))}
        if "ours" in name:
            gap = model.duality_gap(X_train, y_train)
            entry.update(passes=int(model.n_iter_), relative_gap=float(gap.relative_gap),
                         primal=float(gap.primal))
        quality[name] = entry
    distance = {}
    for loss in LOSSES:
        one, two = models[f"{loss}: ours, 1 thread"], models[f"{loss}: ours, 2 threads"]
        delta = np.append(one.coef_ - two.coef_, one.intercept_ - two.intercept_)
        primal = quality[f"{loss}: ours, 1 thread"]["primal"]
        distance[loss] = {"distance": float(np.linalg.norm(delta)),
                          "bound_each": float(np.sqrt(2 * TOL * primal))}
    breakdown = {name: _breakdown(make, X_train, y_train)
                 for name, make in fits.items() if "ours" in name}
    return {"machine": machine_info(), "load_before": load_before, "load_after": load_after,
            "rows": X_train.shape[0], "test_rows": X_test.shape[0], "nnz": int(X_train.nnz),
            "C": C, "tol": TOL, "repeats": args.repeats, "seconds": seconds,
            "quality": quality, "distance": distance, "breakdown": breakdown}


def _ratio(slow, fast):
    return float(np.median(np.asarray(slow) / np.asarray(fast)))


def report(result):
    seconds, quality = result["seconds"], result["quality"]
    lines = [f"# One 'cd' model on 2 threads ({result['rows']:,} synthetic rows, "
             f"{result['nnz']:,} nonzeros, 2^20 features; C={result['C']:g}, "
             f"tol={result['tol']:g})", "",
             f"git {fmt_git(result['machine'].get('git'))}; load "
             f"{fmt_load(result['load_before'])} at start, {fmt_load(result['load_after'])} "
             f"at end; medians of {result['repeats']} interleaved rounds; speed-up: median of "
             "the per-round ratios; the gap is recomputed from the model by `duality_gap`.",
             "", "| fit | seconds | 1 thread / this | passes | certified relative gap | "
             "test accuracy |", "|---|---|---|---|---|---|"]
    for name, times in seconds.items():
        loss = name.split(":")[0]
        one = seconds.get(f"{loss}: ours, 1 thread")
        q = quality[name]
        gap = f"{q['relative_gap']:.2e}" if "relative_gap" in q else "-"
        lines.append(f"| {name} | {np.median(times):.3f} | {_ratio(one, times):.2f}x | "
                     f"{q.get('passes', '-')} | {gap} | {100 * q['test_accuracy']:.2f}% |")
    lines += ["", "Distance between the 1- and 2-thread models (each within `sqrt(2 tol P)` "
              "of the optimum):", ""]
    for loss, d in result["distance"].items():
        lines.append(f"- {loss}: {d['distance']:.3g} (bound {2 * d['bound_each']:.3g})")
    lines += ["", "Where one fit's time goes (seconds; one extra fit each, steps timed by "
              "wrappers):", ""]
    steps = list(STEPS)
    lines += ["| fit | total | " + " | ".join(steps) + " |",
              "|---|---|" + "---|" * len(steps)]
    for name, parts in result["breakdown"].items():
        lines.append(f"| {name} | {parts['total']:.3f} | "
                     + " | ".join(f"{parts[step]:.3f}" for step in steps) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, repeats=9, report_only=True)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parse(parser, argv)
    return finish(args, STEM, lambda: run(args), report)


if __name__ == "__main__":
    sys.exit(main())

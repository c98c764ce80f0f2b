"""Softmax to the optimum: solver='newton' against LogisticRegression(lbfgs), C=1, bias column.

The problem is ``1/2 ||W||^2 + C sum_i (log sum_k exp(z_ik) - z_iy)`` with ``C = 1``, a
bias column appended to X (value 1) and no free intercept (``fit_intercept=False`` for
both: scikit-learn does not regularise its intercept). Sets: LIBSVM ``dna`` and
``pendigits`` as distributed (unscaled), and, with ``--newsgroups``, 20 Newsgroups (all 20
classes) featurized by ``BagOfWords(sublinear_tf=True, bias=True)`` (unigrams; featurizing
not timed). Peers get int32 indices.

Methods, interleaved in each repeat (one warm-up fit of each first):

- ``newton``: ``LinearClassifier("softmax", solver="newton", C=1, fit_intercept=False,
  tol=TOL)``
- ``lbfgs``: ``LogisticRegression(C=1, fit_intercept=False)`` at its defaults (tol 1e-4,
  max_iter 100)

The reference optimum is ``LogisticRegression(C=1, fit_intercept=False, tol=1e-12,
max_iter=100000)`` (untimed; on 20 Newsgroups our own fit at tol 1e-10 instead, an lbfgs run
to 1e-12 taking minutes). Reported: median fit seconds, the relative primal gap
``(P - P_ref) / P_ref``, the certified relative duality gap (``duality_gap``) and test
accuracy. BLAS is held to one thread for every method.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_newton.py [--repeats 5] \
        [--newsgroups] [--out DIR]
    python bench/bench_newton.py --report-only [--out DIR]
"""

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    arguments,
    finish,
    fmt_git,
    fmt_load,
    load_average,
    machine_info,
    median,
    one_blas_thread,
    parse,
    time_calls,
)

STEM = "newton"
TOL = 1e-6
BAR = {"primal_gap_max": 1e-6, "time_ratio_max": 1.0}


def load(name):
    """``(X_train, y_train, X_test, y_test)`` with the bias column, int32 indices."""
    import scipy.sparse as sp

    if name == "20newsgroups":
        from fasttext_lin import BagOfWords
        from fasttext_lin.datasets import fetch_corpus

        d = fetch_corpus(name, download=False)
        bow = BagOfWords(sublinear_tf=True, bias=True)
        Xtr = bow.fit_transform(list(d.texts_train))
        splits = Xtr, d.y_train, bow.transform(list(d.texts_test)), d.y_test
    else:
        from fasttext_lin.datasets import fetch_libsvm

        d = fetch_libsvm(name, download=False)
        Xtr = sp.hstack([d.X_train, np.ones((d.X_train.shape[0], 1))], format="csr")
        Xte = sp.hstack([d.X_test, np.ones((d.X_test.shape[0], 1))], format="csr")
        splits = Xtr, d.y_train, Xte, d.y_test
    Xtr, ytr, Xte, yte = splits
    for X in (Xtr, Xte):
        X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return Xtr, np.asarray(ytr), Xte, np.asarray(yte)


def make(method, tol=TOL):
    from sklearn.linear_model import LogisticRegression

    from fasttext_lin import LinearClassifier

    if method == "newton":
        return LinearClassifier("softmax", solver="newton", C=1.0, fit_intercept=False, tol=tol)
    if method == "lbfgs":
        return LogisticRegression(C=1.0, fit_intercept=False)
    if method == "reference":
        return LogisticRegression(C=1.0, fit_intercept=False, tol=1e-12, max_iter=100000)
    raise ValueError(f"unknown method {method!r}")


def primal(model, X, y):
    """The problem's primal value at ``model``'s coefficients."""
    from fasttext_lin._duality import duality_gap

    coef = np.asarray(model.coef_, dtype=np.float64)
    return duality_gap(X, y, model.classes_, coef, np.zeros(coef.shape[0]), 1.0,
                       np.ones(X.shape[0]), "softmax", False).primal


def measure(name, repeats):
    Xtr, ytr, Xte, yte = load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "20newsgroups":
            reference = make("newton", tol=1e-10).fit(Xtr, ytr)
        else:
            reference = make("reference").fit(Xtr, ytr)
        best = primal(reference, Xtr, ytr)
        models, times = {}, {"newton": [], "lbfgs": []}
        for method in times:
            make(method).fit(Xtr, ytr)  # warm-up: the JIT cache, page faults
        for _ in range(repeats):
            for method in times:
                seconds, models[method] = time_calls(lambda m=method: make(m).fit(Xtr, ytr), 1)
                times[method] += seconds
    rows = {}
    for method, model in models.items():
        rows[method] = {
            "fit_seconds": times[method], "fit_median": median(times[method]),
            "primal_gap": (primal(model, Xtr, ytr) - best) / abs(best),
            "accuracy": float(np.mean(model.predict(Xte) == yte)),
            "n_iter": int(np.max(model.n_iter_)),
        }
    rows["newton"]["certified_gap"] = models["newton"].duality_gap(Xtr, ytr).relative_gap
    ratio = rows["newton"]["fit_median"] / rows["lbfgs"]["fit_median"]
    return {"shape": list(Xtr.shape), "nnz": int(Xtr.nnz), "reference_primal": best,
            "methods": rows, "time_ratio": ratio,
            "bar_met": bool(rows["newton"]["primal_gap"] <= BAR["primal_gap_max"]
                            and ratio < BAR["time_ratio_max"])}


def run(args):
    sets = ["dna", "pendigits"] + (["20newsgroups"] if args.newsgroups else [])
    load_before = load_average()
    with one_blas_thread():
        results = {name: measure(name, args.repeats) for name in sets}
    return {"machine": machine_info(), "load_before": load_before, "load_after": load_average(),
            "repeats": args.repeats, "tol": TOL, "bar": BAR, "sets": results}


def report(result):
    lines = [
        "# solver='newton' vs LogisticRegression(lbfgs), softmax, C=1, bias column",
        "",
        (f"Commit {fmt_git(result['machine'].get('git'))}; load "
         f"{fmt_load(result['load_before'])} -> {fmt_load(result['load_after'])}; median of "
         f"{result['repeats']} interleaved fits; newton at tol={result['tol']:g}, lbfgs at its "
         "defaults."),
        "",
        ("| set | method | fit s (median) | relative primal gap | certified gap | test acc | "
         "iterations |"),
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["sets"].items():
        for method, m in r["methods"].items():
            certified = f"{m['certified_gap']:.2g}" if "certified_gap" in m else ""
            lines.append(f"| {name} | {method} | {m['fit_median']:.3f} | {m['primal_gap']:.2g} "
                         f"| {certified} | {m['accuracy']:.4f} | {m['n_iter']} |")
    lines += ["", ("Bar: newton's relative primal gap <= 1e-6 in less time than lbfgs at its "
                   "default tol.")]
    for name, r in result["sets"].items():
        lines.append(f"- {name}: time ratio newton / lbfgs {r['time_ratio']:.2f}, "
                     f"{'met' if r['bar_met'] else 'NOT met'}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, repeats=5, report_only=True, data=True)
    parser.add_argument("--newsgroups", action="store_true",
                        help="also 20 Newsgroups, all 20 classes (minutes)")
    args = parse(parser, argv)
    return finish(args, STEM, lambda: run(args), report)


if __name__ == "__main__":
    sys.exit(main())

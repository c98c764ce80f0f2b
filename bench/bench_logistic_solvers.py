"""Log loss to the optimum: solver='cd' against solver='newton', and liblinear's primal TRON.

The problem is ``1/2 ||w||^2 + C sum_i log(1 + exp(-y_i w.x_i))`` with a bias column
appended to X (value 1) and no free intercept, on the sets of ``bench_solvers.py``
(``load_problem``: a9a and a1a MaxAbs-scaled, 20 Newsgroups tf-idf classes 0-9 vs 10-19,
rt-polarity NB features), at each C of ``--C``. Methods, interleaved in each repeat (one
untimed warm-up fit of each first, so compilation is not timed):

- ``cd``, ``newton``: ``LinearClassifier("log_loss", solver=..., C=C, fit_intercept=False,
  tol=1e-6)``
- ``liblinear``: ``LogisticRegression(solver="liblinear", C=C, fit_intercept=False)`` at
  its default tol (1e-4)

Reported per (set, C, method): the median fit seconds, the time ratio to liblinear's, the
relative primal gap ``(P - P*) / P*`` against ``solver='newton'`` at tol 1e-12 (untimed),
the relative duality gap that ``fasttext_lin._duality.duality_gap`` certifies from the
weights alone (for the peer too; 'cd' certifies its own stop with its dual variables,
which this does not see), and the iterations. BLAS is held to one thread.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_logistic_solvers.py \
        [--sets a9a a1a 20ng-binary rt-polarity-nb] [--C 0.1 1 10] [--repeats 3] \
        [--top-features K]

``--top-features K`` keeps each set's K most frequent features (and the bias column): the
same rows, a tall shape between a9a's and the text sets'.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_solvers import load_problem

TOL = 1e-6


def _methods(C):
    from sklearn.linear_model import LogisticRegression

    from fasttext_lin import LinearClassifier

    def ours(solver):
        return lambda: LinearClassifier("log_loss", solver=solver, C=C, fit_intercept=False,
                                        tol=TOL, max_iter=10000)

    return {"cd": ours("cd"), "newton": ours("newton"),
            "liblinear": lambda: LogisticRegression(solver="liblinear", C=C,
                                                    fit_intercept=False)}


def _gap(model, problem, C):
    """``duality_gap`` of the model's weights."""
    from fasttext_lin._duality import duality_gap

    classes = np.array([-1.0, 1.0])
    return duality_gap(problem.X, problem.y, classes, model.coef_, np.zeros(1), C,
                       np.ones(problem.X.shape[0]), "log_loss", False)


def _top_features(problem, k):
    """``problem`` with its ``k`` most frequent features and the bias column (the last)."""
    import dataclasses

    X = problem.X
    counts = np.bincount(X.indices[X.indices < X.shape[1] - 1], minlength=X.shape[1] - 1)
    keep = np.r_[np.sort(np.argsort(-counts, kind="stable")[:k]), X.shape[1] - 1]
    X = X[:, keep].tocsr()
    X.sort_indices()
    X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    return dataclasses.replace(problem, name=f"{problem.name}-top{k}", X=X)


def run(sets, Cs, repeats, top):
    rows = []
    for name in sets:
        problem = load_problem(name, quick=False)
        if top:
            problem = _top_features(problem, top)
        name = problem.name
        X, y = problem.X, problem.y
        print(f"# {name}: {X.shape[0]} rows x {X.shape[1]} features (bias column included), "
              f"{X.nnz / X.shape[0]:.1f} nonzeros per row", flush=True)
        for C in Cs:
            methods = _methods(C)
            models = {key: make().fit(X, y) for key, make in methods.items()}  # warm-up
            seconds = {key: [] for key in methods}
            for _ in range(repeats):
                for key, make in methods.items():
                    start = time.perf_counter()
                    models[key] = make().fit(X, y)
                    seconds[key].append(time.perf_counter() - start)
            from fasttext_lin import LinearClassifier

            best = _gap(LinearClassifier("log_loss", solver="newton", C=C, fit_intercept=False,
                                         tol=1e-12, max_iter=10000).fit(X, y), problem, C)
            base = np.median(seconds["liblinear"])
            for key in methods:
                median = float(np.median(seconds[key]))
                gap = _gap(models[key], problem, C)
                row = (name, C, key, median, median / base,
                       (gap.primal - best.primal) / best.primal, gap.relative_gap,
                       int(np.max(models[key].n_iter_)))
                rows.append(row)
                print("| {} | {:g} | {} | {:.3f} | {:.2f} | {:.1e} | {:.1e} | {} |".format(*row),
                      flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["a9a", "a1a", "20ng-binary",
                                                      "rt-polarity-nb"])
    parser.add_argument("--C", nargs="+", type=float, default=[0.1, 1.0, 10.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--top-features", type=int, default=0)
    args = parser.parse_args(argv)
    print("| set | C | method | median s | / liblinear | (P - P*) / P* | duality_gap, relative "
          "| iterations |")
    print("|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1, user_api="blas"):
        run(args.sets, args.C, args.repeats, args.top_features)


if __name__ == "__main__":
    main()

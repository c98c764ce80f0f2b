"""Solvers to the optimum: relative primal gap against time, ours against the peers.

Every problem is liblinear's ``P(w) = 1/2 ||W||^2 + C sum_i loss_i`` at ``C = 1``, a bias
column appended to X and ``fit_intercept=False`` everywhere, so that every solver minimises
the same function. Losses: ``hinge`` (binary, or one-vs-rest: the sum of the classes'
binary problems), ``log_loss`` (binary) and ``softmax`` (multinomial, ``loss_i =
logsumexp(z_i) - z_{i,y_i}``). The reference optimum ``P*``: liblinear at ``tol=1e-10``
(``LinearSVC(loss='hinge')``, ``LogisticRegression(solver='liblinear')``) or
``LogisticRegression(solver='lbfgs', tol=1e-12)`` for softmax, cached in
``<out>/solvers/reference.json`` (``--recompute-reference`` refits it). The curve of a
solver is ``(P(w) - P*) / P*`` against fit seconds; "time to 1e-2 / 1e-4 / 1e-6" is the
fastest point of the curve at or below that gap.

No peer has a progress callback that leaves its timing alone, so every curve is a ladder:
one fresh fit per rung (``tol`` or ``max_iter``; the ``how`` column of the report), timed
on its own, ``--repeats`` times with the solvers interleaved (median seconds). A ladder
stops once the gap is below ``STOP_GAP``, a fit takes more than ``--fit-budget`` seconds,
or (a ``tol`` ladder) two rungs lower the best gap by less than 1 % (a solver stuck on its own
cap). Each solver's
default setting is one more point. Test accuracy is that of the point's model; "at the
optimum" is the reference's. BLAS is held to one thread; compile and warm-up fits are
untimed.

Sets: ``a9a``, ``a1a``, ``dna``, ``pendigits`` (LIBSVM, their test splits, scaled by
``MaxAbsScaler`` fitted on the training part), ``20ng-binary`` (20 Newsgroups, classes 0-9
against 10-19) and ``20ng`` (all 20), both ``BagOfWords(sublinear_tf=True)`` tf-idf fitted
on the training split, ``rt-polarity-nb`` (``BagOfWords(weighting='nb', ngram_range=(1, 2))``,
NB-SVM's features, on a seeded 90/10 split: the corpus has no test split) and
``synthetic-1m`` (``bench/synthetic.py``, 1M rows x 2^20 features, the last 10 % as test).

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_solvers.py \
        [--sets a9a a1a dna pendigits] [--repeats 3] [--fit-budget 30] [--quick] [--out DIR]
    python bench/bench_solvers.py --report-only [--out DIR]

The full benchmark (every set; 20 Newsgroups all-class and ``synthetic-1m`` take the most)::

    FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_solvers.py --sets a9a a1a dna \
        pendigits 20ng-binary 20ng rt-polarity-nb synthetic-1m

Writes ``solvers.json`` (machine, versions, git state, every point), ``solvers.md`` and
``solvers.png`` to ``<out>/solvers/`` (``--out`` defaults to ``bench/results``; with
``--quick``, a smoke run on 2,000-row subsamples with short ladders, a new temporary folder).
Peers that are not installed (``snapml``, ``liblinear-official``: ``pip install -e
'.[bench]'``) and pairs that the installed ``LinearClassifier`` refuses (its
``check_params``) are skipped, each with its reason in the report.
"""

import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (
    arguments,
    finish,
    fmt_git,
    fmt_load,
    installed,
    load_average,
    machine_info,
    median,
    one_blas_thread,
    package_version,
    parse,
    pyplot,
    save_png,
    write_bench_results,
    write_text,
)

STEM = "solvers"
LIBSVM_SETS = ("a9a", "a1a", "dna", "pendigits")
SETS = LIBSVM_SETS + ("20ng-binary", "20ng", "rt-polarity-nb", "synthetic-1m")
C = 1.0
TARGETS = (1e-2, 1e-4, 1e-6)
# A ladder stops below this gap: the smallest target is then reached with room to spare.
STOP_GAP = 1e-7
# ... or when two rungs in a row improve the gap by less than this fraction.
PLATEAU = 0.01
REF_TOL = {"hinge": 1e-10, "log_loss": 1e-10, "softmax": 1e-12}
REF_MAX_ITER = 10**6
QUICK_ROWS, QUICK_TEST_ROWS, QUICK_RUNGS, QUICK_SYNTHETIC_ROWS = 2000, 1000, 3, 20_000
RANDOM_STATE = 0
TOLS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)
EPOCHS = (1, 2, 5, 10, 20, 50, 100, 200)
BINARY_LOSSES, MULTICLASS_LOSSES = ("hinge", "log_loss"), ("hinge", "softmax")


# -- objective -------------------------------------------------------------------------------

def primal(W, X, y, loss, C=C):
    """``1/2 ||W||^2 + C sum_i loss_i`` of the weights ``W`` (one row per problem).

    Binary: ``y`` in {-1, +1} and one row. 'hinge' with more rows: one-vs-rest, ``y`` the
    class codes 0..K-1, the sum of the K binary problems. 'softmax': ``y`` the class codes.
    """
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    Z = np.asarray(X @ W.T)
    if loss == "softmax":
        zmax = Z.max(axis=1)
        lse = np.log(np.exp(Z - zmax[:, None]).sum(axis=1)) + zmax
        losses = lse - Z[np.arange(Z.shape[0]), y.astype(np.int64)]
    else:
        signs = y[:, None] if W.shape[0] == 1 else np.where(
            y[:, None] == np.arange(W.shape[0]), 1.0, -1.0)
        margin = signs * Z
        losses = (np.maximum(0.0, 1.0 - margin) if loss == "hinge"
                  else np.logaddexp(0.0, -margin))
    return float(0.5 * np.sum(W * W) + C * losses.sum())


def accuracy(W, X, y):
    """Test accuracy of ``W``: sign of the one score (y in {-1, +1}) or argmax (codes)."""
    scores = np.asarray(X @ np.atleast_2d(W).T)
    if scores.shape[1] == 1:
        return float(np.mean(np.where(scores[:, 0] > 0, 1.0, -1.0) == y))
    return float(np.mean(np.argmax(scores, axis=1) == y))


def relative_gap(value, optimum):
    return float((value - optimum) / abs(optimum))


def time_to_gap(points, target):
    """The fastest median seconds among ``points`` whose gap is at most ``target``, or None."""
    times = [p["seconds"] for p in points if p["gap"] <= target]
    return min(times) if times else None


# -- solvers ---------------------------------------------------------------------------------

@dataclass
class Solver:
    """One (solver, loss) entry: how to build it at a rung, and how its curve is made.

    ``make(loss, n_samples, **rung)`` returns an object with ``fit(X, y)``; ``weights(model,
    n_classes)`` its weights, one row per problem in class-code order (one row, scoring +1,
    for two classes). ``ladder`` is the list of rungs (keyword dicts), loosest first;
    ``default`` the solver's default setting.
    """

    name: str
    losses: tuple
    make: object
    how: str
    ladder: list
    default: dict
    weights: object = None
    needs: str = None  # the module that must be importable
    check: object = None  # raises ValueError when the installed package refuses the pair
    # Stop a ladder whose best gap stalls (a tol ladder on a capped solver); SGD's gap may
    # rise for some epochs before it falls, so its epoch ladders run to their end.
    plateau_stop: bool = True


def _coef(model, n_classes):
    return np.asarray(model.coef_, dtype=np.float64).reshape(-1, model.coef_.shape[-1])


def _ours(loss, n_samples, **params):
    from fasttext_lin import LinearClassifier

    return LinearClassifier(loss, C=C, fit_intercept=False, random_state=RANDOM_STATE,
                            **params)


def _ours_check(**fixed):
    def check(loss):
        _ours(loss, 1, **fixed).check_params()
    return check


def _sgd_classifier(loss, n_samples, **params):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss=loss, alpha=1.0 / (C * n_samples), fit_intercept=False,
                         random_state=RANDOM_STATE, **params)


def _linearsvc(loss, n_samples, **params):
    from sklearn.svm import LinearSVC

    return LinearSVC(loss="hinge", C=C, dual=True, fit_intercept=False,
                     random_state=RANDOM_STATE, **params)


def _logistic(solver):
    def make(loss, n_samples, **params):
        from sklearn.linear_model import LogisticRegression

        extra = {"random_state": RANDOM_STATE} if solver in ("liblinear", "saga") else {}
        return LogisticRegression(solver=solver, C=C, fit_intercept=False, **extra, **params)
    return make


def _snapml(n_jobs):
    def make(loss, n_samples, **params):
        # Importing snapml turns subnormal floats off (flush to zero) for the whole process.
        import snapml

        kind = snapml.SupportVectorMachine if loss == "hinge" else snapml.LogisticRegression
        # Snap ML minimises sum_i loss_i + regularizer/2 ||w||^2: regularizer = 1/C.
        return kind(regularizer=1.0 / C, fit_intercept=False, n_jobs=n_jobs,
                    random_state=RANDOM_STATE, **params)
    return make


class LiblinearOfficial:
    """The official LIBLINEAR binding as an estimator: ``fit`` times ``train`` alone.

    Its ``problem`` (the rows copied to LIBLINEAR's nodes) is built once per (X, y) by
    :meth:`prepare`, untimed, as a caller of ``train`` on one data set would.
    """

    _cached = (None, None, None)  # (X, y, problem): the last data prepared

    def __init__(self, s, eps):
        self.s, self.eps = s, eps

    @classmethod
    def prepare(cls, X, y):
        from liblinear.liblinearutil import problem

        if cls._cached[0] is not X or cls._cached[1] is not y:
            cls._cached = (X, y, problem(y, X))
        return cls._cached[2]

    def fit(self, X, y):
        from liblinear.liblinearutil import parameter, train

        eps = "" if self.eps is None else f" -e {self.eps}"
        self.model_ = train(self.prepare(X, y), parameter(f"-s {self.s} -c {C}{eps} -q"))
        return self

    def weights(self, n_classes):
        labels = [int(label) for label in self.model_.get_labels()]
        rows = [np.asarray(self.model_.get_decfun(i)[0]) for i in range(len(labels))]
        if n_classes == 2:  # one w, scoring the first label LIBLINEAR saw
            return (rows[0] if labels[0] == 1 else -rows[0])[None, :]
        return np.vstack([rows[labels.index(k)] for k in range(n_classes)])


def _liblinear_official(loss, n_samples, eps=None):
    """-s 3 / -s 0 with LIBLINEAR's default eps (0.1 / 0.01) when ``eps`` is None."""
    # -s 3: L2-regularised hinge, dual CD; -s 0: L2-regularised logistic, primal Newton.
    return LiblinearOfficial(3 if loss == "hinge" else 0, eps)


def solvers():
    """Every (solver, losses) entry of the benchmark, ours first."""
    # Rungs by tol lift the iteration caps, so that tol decides; the default point keeps them.
    tols = [{"tol": t, "max_iter": 10**5} for t in TOLS]
    epochs = [{"max_iter": e, "tol": None} for e in EPOCHS]
    by_tol, by_epochs = "tol (max_iter 1e5)", "max_iter epochs, tol=None"

    def ours(**fixed):
        return lambda loss, n, **p: _ours(loss, n, **fixed, **p)

    entries = [
        Solver("ours cd", ("hinge", "log_loss"), ours(solver="cd"), by_tol, tols, {},
               check=_ours_check(solver="cd")),
        Solver("ours newton", ("log_loss", "softmax"), ours(solver="newton"), by_tol, tols, {},
               check=_ours_check(solver="newton")),
        Solver("ours sgd", ("hinge", "log_loss", "softmax"), ours(solver="sgd"), by_epochs,
               epochs, {}, check=_ours_check(solver="sgd"), plateau_stop=False),
        Solver("ours sgd averaged", ("hinge", "log_loss", "softmax"),
               ours(solver="sgd", average=True), by_epochs, epochs, {},
               check=_ours_check(solver="sgd", average=True), plateau_stop=False),
        Solver("LinearSVC", ("hinge",), _linearsvc, by_tol, tols, {}),
        Solver("LR liblinear", ("log_loss",), _logistic("liblinear"), by_tol, tols, {}),
        Solver("LR lbfgs", ("log_loss", "softmax"), _logistic("lbfgs"), by_tol, tols, {}),
        Solver("LR saga", ("log_loss", "softmax"), _logistic("saga"), by_tol, tols, {}),
        Solver("SGDClassifier", ("hinge", "log_loss"), _sgd_classifier, by_epochs, epochs, {},
               plateau_stop=False),
    ]
    for n_jobs in (1, 2):
        entries.append(Solver(f"snapml {n_jobs} thread{'s' if n_jobs > 1 else ''}",
                              ("hinge", "log_loss"), _snapml(n_jobs), by_tol, tols, {},
                              needs="snapml"))
    entries.append(Solver(
        "liblinear-official", ("hinge", "log_loss"), _liblinear_official,
        "-e eps (LIBLINEAR's own iteration caps)", [{"eps": t} for t in TOLS], {},
        weights=lambda model, k: model.weights(k), needs="liblinear"))
    return entries


def skip_reason(solver, loss):
    """Why ``solver`` cannot run ``loss`` here, or None."""
    if solver.needs and not installed(solver.needs):
        return f"{solver.needs} is not installed (pip install -e '.[bench]')"
    if solver.check is not None:
        try:
            solver.check(loss)
        except (ValueError, TypeError) as exc:
            return f"the installed package refuses it: {exc}"
    return None


# -- data ------------------------------------------------------------------------------------

@dataclass
class Problem:
    """One set's training and test parts: X with the bias column (CSR, float64, sorted
    int32 indices: liblinear refuses int64), y as +-1 (two classes) or codes 0..K-1."""

    name: str
    X: object
    y: np.ndarray
    X_test: object
    y_test: np.ndarray
    n_classes: int
    notes: str = ""


def with_bias_column(X):
    """``[X, 1]`` as float64 CSR with sorted int32 indices (the one matrix every solver gets)."""
    Xb = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr", dtype=np.float64)
    Xb = sp.csr_matrix((Xb.data, Xb.indices.astype(np.int32), Xb.indptr.astype(np.int32)),
                       shape=Xb.shape)
    Xb.sort_indices()
    return Xb


def make_problem(name, X, labels, X_test, labels_test, quick=False, notes=""):
    """A :class:`Problem` from raw parts: labels coded, bias column, ``--quick`` subsample."""
    classes = np.unique(labels)
    codes, codes_test = np.searchsorted(classes, labels), np.searchsorted(classes, labels_test)
    if quick:
        rng = np.random.default_rng(RANDOM_STATE)
        keep = np.sort(rng.permutation(X.shape[0])[:QUICK_ROWS])
        keep_test = np.sort(rng.permutation(X_test.shape[0])[:QUICK_TEST_ROWS])
        X, codes = X[keep], codes[keep]
        X_test, codes_test = X_test[keep_test], codes_test[keep_test]
    if len(classes) == 2:
        codes, codes_test = 2.0 * codes - 1.0, 2.0 * codes_test - 1.0
    return Problem(name, with_bias_column(X), codes.astype(np.float64),
                   with_bias_column(X_test), codes_test.astype(np.float64), len(classes), notes)


def load_problem(name, quick):
    """The named set as a :class:`Problem` (featurizing and scaling untimed)."""
    from sklearn.preprocessing import MaxAbsScaler

    if name in LIBSVM_SETS:
        from fasttext_lin.datasets import fetch_libsvm

        d = fetch_libsvm(name, download=False)
        scaler = MaxAbsScaler().fit(d.X_train)
        return make_problem(name, scaler.transform(d.X_train), d.y_train,
                            scaler.transform(d.X_test), d.y_test, quick,
                            "LIBSVM train -> test, MaxAbsScaler")
    if name in ("20ng-binary", "20ng"):
        return _newsgroups(name, quick)
    if name == "rt-polarity-nb":
        return _rt_polarity(quick)
    if name == "synthetic-1m":
        import synthetic

        # --quick takes its subsample from a 20,000-row set: generating 1M rows is no smoke.
        rows = QUICK_SYNTHETIC_ROWS if quick else 1_000_000
        X, y, X_test, y_test = synthetic.split(*synthetic.load_or_make(rows))
        return make_problem(name, X, y, X_test, y_test, quick,
                            f"bench/synthetic.py, {rows:,} rows x 2^20, last 10 % as test")
    raise ValueError(f"unknown set {name!r}; expected one of {SETS}")


def _newsgroups(name, quick):
    from fasttext_lin import BagOfWords
    from fasttext_lin.datasets import fetch_corpus

    d = fetch_corpus("20newsgroups", download=False)
    y, y_test = np.asarray(d.y_train), np.asarray(d.y_test)
    if name == "20ng-binary":
        y, y_test = (np.searchsorted(d.classes, labels) >= 10 for labels in (y, y_test))
    bow = BagOfWords(sublinear_tf=True)
    return make_problem(name, bow.fit_transform(list(d.texts_train)), y,
                        bow.transform(list(d.texts_test)), y_test, quick,
                        "BagOfWords(sublinear_tf=True) tf-idf, train -> test"
                        + (", classes 0-9 vs 10-19" if name == "20ng-binary" else ""))


def _rt_polarity(quick):
    from fasttext_lin import BagOfWords
    from fasttext_lin.datasets import fetch_corpus

    d = fetch_corpus("rt-polarity", download=False)
    texts, y = np.asarray(d.texts_train, dtype=object), np.asarray(d.y_train)
    order = np.random.default_rng(RANDOM_STATE).permutation(len(y))
    cut = len(y) - len(y) // 10
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    bow = BagOfWords(weighting="nb", ngram_range=(1, 2))
    X = bow.fit_transform(list(texts[train]), y[train])
    return make_problem("rt-polarity-nb", X, y[train], bow.transform(list(texts[test])), y[test],
                        quick, "BagOfWords(weighting='nb', ngram_range=(1, 2)), seeded 90/10 split")


# -- reference -------------------------------------------------------------------------------

def reference_estimator(loss):
    """The tight solver whose objective is taken for ``P*``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if loss == "hinge":
        return LinearSVC(loss="hinge", C=C, fit_intercept=False, tol=REF_TOL[loss],
                         max_iter=REF_MAX_ITER, random_state=RANDOM_STATE)
    solver = "lbfgs" if loss == "softmax" else "liblinear"
    return LogisticRegression(solver=solver, C=C, fit_intercept=False, tol=REF_TOL[loss],
                              max_iter=REF_MAX_ITER, random_state=RANDOM_STATE)


def reference_key(problem, loss, quick):
    return (f"{problem.name}/{loss}/C={C:g}/{problem.X.shape[0]}x{problem.X.shape[1]}/"
            f"nnz={problem.X.nnz}/sum={float(problem.X.data.sum()):.10g}"
            + ("/quick" if quick else ""))


def reference(problem, loss, cache, quick):
    """``{"objective", "seconds", "n_iter", "accuracy", "model"}`` of ``P*``, from ``cache``
    (a dict, updated) unless missing."""
    key = reference_key(problem, loss, quick)
    if key not in cache:
        model = reference_estimator(loss)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(problem.X, problem.y)
        seconds = time.perf_counter() - start
        W = _coef(model, problem.n_classes)
        cache[key] = {"objective": primal(W, problem.X, problem.y, loss), "seconds": seconds,
                      "n_iter": int(np.max(model.n_iter_)), "tol": REF_TOL[loss],
                      "accuracy": accuracy(W, problem.X_test, problem.y_test),
                      "model": type(model).__name__ + (
                          f"({model.solver})" if hasattr(model, "solver") else "(hinge)")}
    return cache[key]


# -- runs ------------------------------------------------------------------------------------

def fit_point(solver, loss, problem, rung):
    """One timed fresh fit at ``rung``: ``(seconds, weights)``."""
    model = solver.make(loss, problem.X.shape[0], **rung)
    if isinstance(model, LiblinearOfficial):
        LiblinearOfficial.prepare(problem.X, problem.y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(problem.X, problem.y)
        seconds = time.perf_counter() - start
    weights = (solver.weights or _coef)(model, problem.n_classes)
    return seconds, weights


def _point(rung, seconds, W, problem, loss, optimum):
    value = primal(W, problem.X, problem.y, loss)
    return {"rung": rung, "seconds_runs": [seconds], "objective": value,
            "gap": relative_gap(value, optimum),
            "accuracy": accuracy(W, problem.X_test, problem.y_test)}


def climb(solver, loss, problem, optimum, fit_budget, rungs):
    """The first run of ``solver``'s ladder, stopping as the module docstring says."""
    points = []
    for rung in rungs:
        seconds, W = fit_point(solver, loss, problem, rung)
        points.append(_point(rung, seconds, W, problem, loss, optimum))
        best = np.minimum.accumulate([p["gap"] for p in points])
        stuck = solver.plateau_stop and len(best) >= 3 and best[-1] > (1 - PLATEAU) * best[-3]
        if best[-1] <= STOP_GAP or seconds > fit_budget or stuck:
            break
    return points


def run_problem(problem, loss, entries, repeats, fit_budget, ref, quick=False, progress=print):
    """Every entry's curve and default point on one (set, loss): interleaved repeats."""
    rungs_of = {s.name: s.ladder[:QUICK_RUNGS] if quick else s.ladder for s in entries}
    curves, skipped = {}, {}
    for solver in entries:
        if loss not in solver.losses:
            continue
        reason = skip_reason(solver, loss)
        if reason:
            skipped[solver.name] = reason
            progress(f"   {solver.name:22s} skipped: {reason}")
            continue
        fit_point(solver, loss, problem, rungs_of[solver.name][0])  # compile / warm up
        curves[solver.name] = {"how": solver.how, "points": [], "default": None}
    optimum = ref["objective"]
    by_name = {s.name: s for s in entries}
    for rep in range(repeats):
        for name, curve in curves.items():
            solver = by_name[name]
            if rep == 0:
                curve["points"] = climb(solver, loss, problem, optimum, fit_budget,
                                        rungs_of[name])
                seconds, W = fit_point(solver, loss, problem, solver.default)
                curve["default"] = _point(solver.default, seconds, W, problem, loss, optimum)
                continue
            for point in curve["points"] + [curve["default"]]:
                point["seconds_runs"].append(fit_point(solver, loss, problem, point["rung"])[0])
    for name, curve in curves.items():
        for point in curve["points"] + [curve["default"]]:
            point["seconds"] = median(point["seconds_runs"])
        curve["time_to"] = {f"{t:g}": time_to_gap(curve["points"] + [curve["default"]], t)
                            for t in TARGETS}
        curve["best_gap"] = min(p["gap"] for p in curve["points"])
        d = curve["default"]
        progress(f"   {name:22s} default {d['gap']:9.2e} / {d['seconds']:.3f} s; "
                 + ", ".join(f"to {t}: " + (f"{s:.3f} s" if s is not None else "-")
                             for t, s in curve["time_to"].items()))
    return {"curves": curves, "skipped": skipped}


def run_benchmark(sets, quick, repeats, fit_budget, out, note="", recompute=False,
                  problems=None, progress=print):
    """Run every set (``problems``: preloaded :class:`Problem` objects instead of names)."""
    machine = machine_info(snapml=package_version("snapml"),
                           liblinear_official=package_version("liblinear-official"))
    folder = Path(out) / STEM
    cache_path = folder / "reference.json"
    import json

    cache = {} if recompute or not cache_path.exists() else json.loads(cache_path.read_text())
    result = {"machine": machine, "git": machine["git"], "note": note,
              "params": {"sets": list(sets), "quick": quick, "repeats": repeats,
                         "fit_budget": fit_budget, "C": C, "targets": list(TARGETS),
                         "stop_gap": STOP_GAP, "plateau": PLATEAU, "ref_tol": REF_TOL,
                         "command": "FASTTEXT_LIN_DATA=... python bench/bench_solvers.py "
                                    + shlex.join(sys.argv[1:])},
              "sets": {}}
    result["machine"]["load_average_start"] = load_average()
    entries = solvers()
    start = time.perf_counter()
    for item in problems or sets:
        problem = item if isinstance(item, Problem) else load_problem(item, quick)
        info = {"n_train": problem.X.shape[0], "n_test": problem.X_test.shape[0],
                "n_features": problem.X.shape[1], "nnz": int(problem.X.nnz),
                "n_classes": problem.n_classes, "notes": problem.notes, "losses": {}}
        result["sets"][problem.name] = info
        progress(f"== {problem.name}: {info['n_train']} x {info['n_features']} "
                 f"(bias column included), {info['n_classes']} classes")
        for loss in BINARY_LOSSES if problem.n_classes == 2 else MULTICLASS_LOSSES:
            ref = reference(problem, loss, cache, quick)
            folder.mkdir(parents=True, exist_ok=True)
            write_text(cache_path, json.dumps(cache, indent=1) + "\n")
            progress(f" - {loss}: P* {ref['objective']:.8g} ({ref['model']}, "
                     f"{ref['seconds']:.2f} s), test accuracy {100 * ref['accuracy']:.2f} %")
            load = load_average()
            run = run_problem(problem, loss, entries, repeats, fit_budget, ref, quick, progress)
            info["losses"][loss] = dict(run, reference=ref, load_average_before=load,
                                        load_average_after=load_average())
        result["total_seconds"] = time.perf_counter() - start
        result["machine"]["load_average_end"] = load_average()
        write_results(result, out)  # partial results survive an interrupted run
    return result


# -- report ----------------------------------------------------------------------------------

def _fmt_s(value):
    return "-" if value is None else f"{value:.3f}"


def _fmt_rung(rung):
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in rung.items()) or "defaults"


def report(result):
    mc, params = result["machine"], result["params"]
    lines = ["# Solvers to the optimum: relative primal gap against time", "",
             (f"Machine: {mc.get('cpu')}, {mc.get('cores')} cores; load average at start "
             f"{fmt_load(mc.get('load_average_start'))}, at end "
             f"{fmt_load(mc.get('load_average_end'))}. Python {mc.get('python')}, numpy "
             f"{mc.get('numpy')}, scipy {mc.get('scipy')}, scikit-learn {mc.get('scikit-learn')}, "
             f"numba {mc.get('numba')}, snapml {mc.get('snapml')}, liblinear-official "
             f"{mc.get('liblinear_official')}; {mc.get('date')}. Commit "
             f"{fmt_git(result.get('git'))}. Total {result.get('total_seconds', 0):.0f} s."), ""]
    if result.get("note"):
        lines += [f"**{result['note']}**", ""]
    lines += [f"Command: `{params['command']}`"
              + (" (**--quick smoke run: subsampled, not results**)" if params["quick"] else ""),
              "",
              (f"Problem: `1/2 ||W||^2 + C sum_i loss_i`, C = {params['C']:g}, a bias column "
               "appended, `fit_intercept=False` for every solver (one-vs-rest hinge: the sum of "
               "the classes' problems). Gap = `(P(w) - P*) / P*`, `P*` from the reference row. "
               "Every curve is a ladder of fresh fits (the `how` column: the parameter "
               f"stepped), each timed alone, median of {params['repeats']} interleaved runs; "
               "none uses a callback (the scikit-learn solvers and LIBLINEAR have none, Snap "
               "ML's training history slows its training). A ladder stops below a gap of "
               f"{params['stop_gap']:g}, after a fit longer than {params['fit_budget']:g} s, or "
               "(tol ladders) when two rungs lower the best gap by < "
               f"{100 * params['plateau']:g} %. `to 1e-k`: the fastest point at or below that "
               "gap (a ladder's granularity makes it an upper bound). `default`: the solver's "
               "default setting (the star in the plot). Accuracy: test split, of the model at "
               "the ladder's last rung. BLAS: 1 thread; warm-up (JIT) fits untimed; "
               "liblinear-official's `problem` built untimed."), "",
              ("Every solver gets the same float64 CSR with int32 indices (LinearSVC and "
               "LogisticRegression(liblinear) refuse the int64 indices that "
               "`load_svmlight_file` returns with scikit-learn 1.9 and scipy 1.17). Snap ML: "
               "`regularizer = 1/C`. liblinear-official: `-s 3` (hinge, dual CD) and `-s 0` "
               "(logistic, primal Newton), no `-B`; LIBLINEAR's own iteration caps, which no "
               "option lifts, end its curves."), ""]
    for name, info in result["sets"].items():
        lines += [f"## {name}", "",
                  (f"{info['n_train']} training x {info['n_features']} features (bias column "
                  f"included), {info['nnz']} nonzeros, {info['n_test']} test, "
                  f"{info['n_classes']} classes; {info['notes']}."), ""]
        for loss, run in info["losses"].items():
            ref = run["reference"]
            lines += [f"### {name}, {loss}", "",
                      (f"P* = {ref['objective']:.10g}: {ref['model']} at tol {ref['tol']:g}, "
                      f"{ref['n_iter']} iterations, {ref['seconds']:.2f} s; test accuracy at the "
                      f"optimum **{100 * ref['accuracy']:.2f} %**. Load "
                      f"{fmt_load(run['load_average_before'])} / "
                      f"{fmt_load(run['load_average_after'])}."), "",
                      ("| solver | how | default: gap / s | to 1e-2 s | to 1e-4 s | to 1e-6 s | "
                      "best gap (rung) | accuracy % |"), "|---|---|---|---|---|---|---|---|"]
            for solver, curve in run["curves"].items():
                d, last = curve["default"], curve["points"][-1]
                best = min(curve["points"], key=lambda p: p["gap"])
                t = curve["time_to"]
                lines.append(
                    f"| {solver} | {curve['how']} | {d['gap']:.1e} / {d['seconds']:.3f} | "
                    f"{_fmt_s(t['0.01'])} | {_fmt_s(t['0.0001'])} | {_fmt_s(t['1e-06'])} | "
                    f"{best['gap']:.1e} ({_fmt_rung(best['rung'])}) | "
                    f"{100 * last['accuracy']:.2f} |")
            for solver, reason in run["skipped"].items():
                lines.append(f"\n- {solver} skipped: {reason}")
            lines.append("")
    return "\n".join(lines) + "\n"


def plot(result, path):
    panels = [(name, loss, run) for name, info in result["sets"].items()
              for loss, run in info["losses"].items()]
    if not panels:
        return
    cols = min(2, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = pyplot().subplots(rows, cols, figsize=(6.5 * cols, 4.2 * rows), squeeze=False)
    names = list(dict.fromkeys(s for _, _, run in panels for s in run["curves"]))
    tab20 = pyplot().get_cmap("tab20")
    colours = {s: tab20([*range(0, 20, 2), *range(1, 20, 2)][i % 20])
               for i, s in enumerate(names)}
    handles = {}
    for ax, (name, loss, run) in zip(axes.flat, panels):
        for solver, curve in run["curves"].items():
            pts = sorted(curve["points"] + [curve["default"]], key=lambda p: p["seconds"])
            seconds = [p["seconds"] for p in pts]
            gaps = [max(p["gap"], 1e-12) for p in pts]
            style = "-" if solver.startswith("ours") else "--"
            # The line: the best gap reached by a fit of at most that many seconds.
            (line,) = ax.step(seconds, np.minimum.accumulate(gaps), style, where="post",
                              color=colours[solver], lw=1.8 if style == "-" else 1.2)
            ax.plot(seconds, gaps, "o", ms=2.5, color=colours[solver])
            d = curve["default"]
            ax.plot([d["seconds"]], [max(d["gap"], 1e-12)], "*", ms=9, color=colours[solver])
            handles.setdefault(solver, line)
        for target in TARGETS:
            ax.axhline(target, color="grey", lw=0.5, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name}, {loss} (C=1)", fontsize=10)
        ax.set_xlabel("fit seconds")
        ax.set_ylabel("(P - P*) / P*")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.legend(list(handles.values()), list(handles), loc="lower center",
               ncol=min(6, len(handles)), fontsize=8, title="star: the solver's defaults; "
               "dots: ladder fits; line: best gap within that time", title_fontsize=8)
    fig.tight_layout(rect=(0, 0.06 if rows > 1 else 0.12, 1, 1))
    save_png(fig, path)


def write_results(result, out):
    write_bench_results(Path(out) / STEM, STEM, result, report, plot)


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, out=None, repeats=3, report_only=True, data=True,
                       quick="smoke run: 2,000-row subsamples, 3 rungs a ladder")
    parser.add_argument("--sets", nargs="+", default=list(LIBSVM_SETS), choices=list(SETS),
                        help=f"sets (default: {' '.join(LIBSVM_SETS)})")
    parser.add_argument("--fit-budget", type=float, default=30.0,
                        help="stop a ladder after a fit longer than this (seconds; default 30)")
    parser.add_argument("--note", default="", help="a line shown at the top of the report")
    parser.add_argument("--recompute-reference", action="store_true",
                        help="refit P* even when <out>/solvers/reference.json holds it")
    args = parse(parser, argv)

    def run():
        with one_blas_thread():
            return run_benchmark(args.sets, args.quick, args.repeats, args.fit_budget, args.out,
                                 args.note, args.recompute_reference)

    return finish(_Nested(args), STEM, run, report, plot)


class _Nested:
    """``args`` with ``out`` moved to ``<out>/solvers`` for :func:`_harness.finish`."""

    def __init__(self, args):
        self.__dict__.update(vars(args))
        self.out = Path(args.out) / STEM


if __name__ == "__main__":
    sys.exit(main())

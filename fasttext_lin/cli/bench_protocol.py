"""The reference protocol on LIBSVM sets, run by the ``bench`` command: :class:`LinearClassifier`
against liblinear.

For each set, as the course assignment behind the project does it for LinearSVC:

1. 3-fold stratified seeded cross-validation (``StratifiedKFold(3, shuffle=True,
   random_state=0)``) over ``C`` in ``GRID`` for LinearSVC, LogisticRegression(liblinear) and
   LinearClassifier with the hinge, squared hinge and log losses; ``C*`` per model by mean CV
   accuracy (the smallest ``C`` on ties); refit on the whole training set; test accuracy.
2. Fit time at ``C*``: all models in turn, one warm-up fit each, then ``repeats`` rounds of one
   fit per model, so that each peer ratio comes from the same rounds of a noisy machine. Numba's
   compile time and its cache-load time are measured apart, in fresh subprocesses.
3. Primal objective against liblinear at each of our models' ``C*``, at its liblinear peer's
   ``C*`` (LinearSVC's for the hinge losses) and at ``C=1``, like with like: a constant bias
   column, ``fit_intercept=False`` on both, ``P(w) = 1/2 ||w||^2 + C sum_i loss_i``; the
   reference is liblinear run to ``tol=1e-8``. LinearClassifier runs a ladder of epoch counts
   until the relative gap reaches ``GAP_TARGET``.

Settings of LinearClassifier (``OUR_EPOCHS`` in :mod:`fasttext_lin._constants`,
:func:`fasttext_lin.cli.libsvm.our_estimator`, what ``train`` fits on LIBSVM data):
learning_rate='optimal' (``1 / (alpha (t0 + t))``), a fixed number of epochs (``tol=None``),
and the average of the weights over the last half of the steps
(``average=(max_iter // 2) * n_samples + 1``, suffix averaging). Measured on a1a and a9a
when choosing them:

- Accuracy: CV and test accuracy at C* stay within about 0.1 point of each other for 5 to 50
  epochs, with averaging from the first step or over the last half, and below the noise of the
  C* choice itself. So the epochs are set by cost and by the objective, not by accuracy.
- Objective: averaging from the first step (``average=True``) gives, at equal epochs, a 3 to
  10 times larger gap to liblinear's optimum than suffix averaging: it keeps the early,
  far-off iterates in the average. The estimator's default stopping (``tol=1e-3``) ends the
  hinge fits 1e-2 to 1e-1 away from the optimum (reported as "defaults" in the results).
- The epochs needed for a given gap grow about linearly with C (SGD's ``O(1 / (alpha T))``
  with ``alpha = 1 / (C n)``): hinge on a9a needs about 30 epochs at C=0.1, 300 at C=1.
  'invscaling' with ``eta0=3`` needs only 30 at C=1 on a9a but is slower than 'optimal' on
  a1a, and blows up for the squared hinge at ``eta0 >= 1`` (gap 1e+7 on a1a at C=1):
  'optimal' needs no tuning.
- The log loss reaches a 1e-4 gap in 10 epochs at C=0.1 but an epoch costs about three times
  the hinge's (6 against 2 ms on a9a), hence 10 epochs for it and 20 for the hinge losses.

The results are a JSON-able dict; :func:`fasttext_lin.cli.bench_report.write_results` writes
``libsvm.json``, ``libsvm.md`` and ``libsvm.png``.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp

from .._constants import EPOCH_LADDER, GRID, OUR_EPOCHS
from .libsvm import our_estimator, suffix_average_start

__all__ = ["EPOCH_LADDER", "GAP_TARGET", "GRID", "LINEARSVC", "MODELS", "OUR_EPOCHS", "c_key",
           "machine_info", "measure_jit", "our_estimator", "our_name", "primal_objective",
           "run_libsvm_benchmark", "suffix_average_start", "with_bias_column"]

GAP_TARGET = 1e-3
# liblinear's reference solutions: tight tolerance, and room for dual coordinate descent.
_REF_TOL = 1e-8
_REF_MAX_ITER = 100_000
LINEARSVC = "LinearSVC"
_LOGREG = "LogisticRegression"
_OUR_LOSSES = ("hinge", "squared_hinge", "log_loss")
# The liblinear solver of the same objective as each of our losses.
_PEER_OF_LOSS = {"hinge": LINEARSVC + "(hinge)", "squared_hinge": LINEARSVC,
                 "log_loss": _LOGREG}


def our_name(loss):
    """Name of LinearClassifier with ``loss`` in the results."""
    return f"LinearClassifier({loss})"


MODELS = (LINEARSVC, _LOGREG) + tuple(our_name(loss) for loss in _OUR_LOSSES)


def _estimator(model, C, n_samples):
    """Estimator ``model`` of the accuracy protocol (scikit-learn defaults for liblinear)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if model == LINEARSVC:
        return LinearSVC(C=C, random_state=0)
    if model == _LOGREG:
        return LogisticRegression(C=C, solver="liblinear")
    return our_estimator(model[len("LinearClassifier("):-1], C, n_samples)


def _reference(loss, C):
    """liblinear solving our ``loss`` tightly, without intercept (X carries a bias column)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if loss == "log_loss":
        return LogisticRegression(C=C, solver="liblinear", fit_intercept=False, tol=_REF_TOL,
                                  max_iter=_REF_MAX_ITER)
    return LinearSVC(loss=loss, C=C, fit_intercept=False, tol=_REF_TOL,
                     max_iter=_REF_MAX_ITER, random_state=0)


def _settings(estimator):
    """The non-default parameters of ``estimator``, JSON-able."""
    defaults = type(estimator)().get_params()
    return {key: value for key, value in estimator.get_params().items()
            if value != defaults[key]}


def _n_iter(estimator):
    return int(np.max(estimator.n_iter_))


def _accuracy(estimator, X, y):
    return float(np.mean(estimator.predict(X) == y))


# ---------------------------------------------------------------------------------------------
# Step 1: cross-validation, C*, test accuracy


def _cross_validate(model, X, y, folds, grid):
    """Mean CV accuracy of ``model`` at each C of ``grid``."""
    scores = {}
    for C in grid:
        fold_scores = []
        for train, test in folds:
            estimator = _estimator(model, C, train.shape[0]).fit(X[train], y[train])
            fold_scores.append(_accuracy(estimator, X[test], y[test]))
        scores[C] = float(np.mean(fold_scores))
    return scores


def _select(model, data, folds, grid):
    """CV over ``grid``, ``C*``, refit at every C, test accuracy at ``C*``."""
    X, y = data.X_train, data.y_train
    scores = _cross_validate(model, X, y, folds, grid)
    c_star = max(grid, key=lambda C: (scores[C], -C))
    test = {}
    for C in grid:
        estimator = _estimator(model, C, X.shape[0]).fit(X, y)
        test[C] = _accuracy(estimator, data.X_test, data.y_test)
        if C == c_star:
            final = estimator
    return {
        "C_star": c_star,
        "cv_accuracy": {c_key(C): scores[C] for C in grid},
        "test_accuracy": test[c_star],
        "test_accuracy_per_C": {c_key(C): test[C] for C in grid},
        "n_iter": _n_iter(final),
        "settings": _settings(final),
    }


def c_key(C):
    """How a value of C keys the results (``0.1``, ``1``, ``100``)."""
    return f"{C:g}"


# ---------------------------------------------------------------------------------------------
# Step 2: fit times


def _time_fit(estimator, X, y):
    from sklearn.base import clone

    estimator = clone(estimator)
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def _fit_times(candidates, X, y, repeats):
    """Fit times of each ``{label: estimator}``: a warm-up, then ``repeats`` rounds."""
    times = {label: [] for label in candidates}
    for estimator in candidates.values():
        _time_fit(estimator, X, y)
    for _ in range(repeats):
        for label, estimator in candidates.items():
            times[label].append(_time_fit(estimator, X, y))
    return times


def _add_fit_times(models, X, y, repeats):
    """Time every model at its ``C*``, and LinearSVC at every model's ``C*`` for the ratios."""
    from sklearn.svm import LinearSVC

    n = X.shape[0]
    candidates = {model: _estimator(model, r["C_star"], n) for model, r in models.items()}
    for C in {r["C_star"] for r in models.values()}:
        candidates[("svc", C)] = LinearSVC(C=C, random_state=0)
    times = _fit_times(candidates, X, y, repeats)
    svc = float(np.median(times[LINEARSVC]))
    for model, r in models.items():
        median = float(np.median(times[model]))
        same_c = float(np.median(times[("svc", r["C_star"])]))
        r.update(fit_time_median_s=median, fit_times_s=times[model],
                 time_ratio_vs_linearsvc=median / svc,
                 time_ratio_vs_linearsvc_same_C=median / same_c)


# ---------------------------------------------------------------------------------------------
# Step 3: primal objective against liblinear


def with_bias_column(X):
    """``[X, 1]`` as CSR with sorted int32 indices (liblinear rejects int64 indices)."""
    Xb = sp.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)], format="csr")
    Xb = sp.csr_matrix((Xb.data, Xb.indices.astype(np.int32), Xb.indptr.astype(np.int32)),
                       shape=Xb.shape)
    Xb.sort_indices()
    return Xb


def primal_objective(w, X, y, loss, C):
    """liblinear's primal ``1/2 ||w||^2 + C sum_i loss(y_i w.x_i)``, labels in {-1, +1}."""
    margin = y * (X @ w)
    if loss == "hinge":
        losses = np.maximum(0.0, 1.0 - margin)
    elif loss == "squared_hinge":
        losses = np.maximum(0.0, 1.0 - margin) ** 2
    else:
        losses = np.logaddexp(0.0, -margin)
    return float(0.5 * w @ w + C * losses.sum())


def _fit_quietly(estimator, X, y):
    """Fit, ignoring ConvergenceWarning (the iterations are reported); return seconds."""
    from sklearn.exceptions import ConvergenceWarning

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return time.perf_counter() - start


def _epoch_ladder(loss, C, Xb, y, gap, max_epochs, time_budget):
    """Fits of ``EPOCH_LADDER`` epochs while the gap is above ``GAP_TARGET``.

    Stops at the first epoch count (not below the protocol's) whose gap reaches the target,
    at ``max_epochs``, or once our fits took ``time_budget`` seconds.
    """
    protocol_epochs = OUR_EPOCHS[loss]
    runs, spent = [], 0.0
    for epochs in [e for e in EPOCH_LADDER if e <= max(max_epochs, protocol_epochs)]:
        estimator = our_estimator(loss, C, Xb.shape[0], epochs=epochs, fit_intercept=False)
        elapsed = _fit_quietly(estimator, Xb, y)
        spent += elapsed
        runs.append({"epochs": epochs, "fit_time_s": elapsed, "gap": gap(estimator)})
        if (runs[-1]["gap"] <= GAP_TARGET and epochs >= protocol_epochs) or spent > time_budget:
            break
    return runs


def _objective_case(loss, C, Xb, y, max_epochs, time_budget):
    """Gap of LinearClassifier against liblinear at one C, over the epoch ladder."""
    from ..linear_model import LinearClassifier

    reference = _reference(loss, C)
    ref_time = _fit_quietly(reference, Xb, y)
    p_ref = primal_objective(reference.coef_.ravel(), Xb, y, loss, C)

    def gap(estimator):
        return (primal_objective(estimator.coef_.ravel(), Xb, y, loss, C) - p_ref) / p_ref

    runs = _epoch_ladder(loss, C, Xb, y, gap, max_epochs, time_budget)
    reached = next((run for run in runs if run["gap"] <= GAP_TARGET), None)
    # SGD's defaults (averaged), against the epoch ladder above.
    default = LinearClassifier(loss=loss, C=C, solver="sgd", average=True, random_state=0,
                               fit_intercept=False)
    _fit_quietly(default, Xb, y)
    return {
        "C": C,
        "liblinear": {"model": _PEER_OF_LOSS[loss], "objective": p_ref, "fit_time_s": ref_time,
                      "n_iter": _n_iter(reference), "tol": _REF_TOL,
                      "converged": _n_iter(reference) < _REF_MAX_ITER},
        "runs": runs,
        "best_gap": min(run["gap"] for run in runs),
        "epochs_to_target": reached["epochs"] if reached else None,
        "time_to_target_s": reached["fit_time_s"] if reached else None,
        "protocol_gap": next((run["gap"] for run in runs if run["epochs"] == OUR_EPOCHS[loss]),
                             None),
        "default_settings": {"settings": _settings(default), "epochs": default.n_iter_,
                             "gap": gap(default)},
    }


def _objective_study(models, data, max_epochs, time_budget, progress):
    """Objective gaps of each of our losses at its ``C*``, its peer's ``C*`` and ``C=1``."""
    Xb = with_bias_column(data.X_train)
    y = np.where(data.y_train == np.max(data.y_train), 1.0, -1.0)
    study = {}
    for loss in _OUR_LOSSES:
        c_star = models[our_name(loss)]["C_star"]
        peer = _LOGREG if loss == "log_loss" else LINEARSVC
        peer_c_star = models[peer]["C_star"]
        cases = []
        for C in sorted({c_star, peer_c_star, 1.0}):
            case = _objective_case(loss, C, Xb, y, max_epochs, time_budget)
            case["is_C_star"] = C == c_star
            case["is_peer_C_star"] = C == peer_c_star
            cases.append(case)
            progress(f"  objective {loss} C={C:g}: gap {case['best_gap']:.2e} after "
                     f"{case['runs'][-1]['epochs']} epochs")
        study[loss] = cases
    return study


# ---------------------------------------------------------------------------------------------
# JIT compile and cache load, in fresh processes

_JIT_PROBE = r"""
import json, sys, time
start = time.perf_counter()
import fasttext_lin
import_s = time.perf_counter() - start
from fasttext_lin import LinearClassifier
from fasttext_lin.datasets import fetch_libsvm
name, data_home, params, fits = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
data = fetch_libsvm(name, data_home=data_home or None, download=False)
times = []
for _ in range(fits):
    estimator = LinearClassifier(**params)
    start = time.perf_counter()
    estimator.fit(data.X_train, data.y_train)
    times.append(time.perf_counter() - start)
print(json.dumps({"import_s": import_s, "fit_times_s": times}))
"""


def _probe(name, data_home, params, fits, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    args = [sys.executable, "-c", _JIT_PROBE, name, str(data_home or ""), json.dumps(params),
            str(fits)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"JIT probe subprocess failed (exit {done.returncode}):\n"
                           f"{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_jit(name, data_home, estimator, fits=5):
    """Compile and cache-load time of ``estimator.fit`` on set ``name``'s training data.

    Two fresh interpreters share an empty ``NUMBA_CACHE_DIR``: in the first, the first fit
    minus the median of the next ``fits - 1`` is the compile time; in the second, the same
    difference is the time to load the cached machine code. Both report ``import fasttext_lin``.

    Returns
    -------
    dict
    """
    params = {key: value for key, value in estimator.get_params().items()}
    with tempfile.TemporaryDirectory(prefix="fasttext_lin_jit_") as cache_dir:
        cold = _probe(name, data_home, params, fits, cache_dir)
        warm = _probe(name, data_home, params, fits, cache_dir)

    def first_extra(run):
        return run["fit_times_s"][0] - float(np.median(run["fit_times_s"][1:]))

    return {
        "set": name, "estimator": _settings(estimator),
        "compile_s": first_extra(cold), "cache_load_s": first_extra(warm),
        "steady_fit_s": float(np.median(cold["fit_times_s"][1:] + warm["fit_times_s"][1:])),
        "import_fasttext_lin_s": warm["import_s"],
        "import_fasttext_lin_first_s": cold["import_s"],
        "cold_process": cold, "warm_process": warm,
    }


# ---------------------------------------------------------------------------------------------
# The whole benchmark


def machine_info():
    """CPU, cores, versions and date, for the results."""
    import numba
    import scipy
    import sklearn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "numpy": np.__version__,
        "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
        "numba": numba.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average": _load_average(),
        "env": {key: os.environ[key] for key in sorted(os.environ)
                if key.startswith(("OPENBLAS_", "NUMBA_", "OMP_"))},
    }


def _load_average():
    """1, 5 and 15-minute load averages, or None where the OS does not tell."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def run_libsvm_benchmark(names, repeats=5, progress=print, *, grid=GRID,
                         data_home=None, download=True, jit=True, objective=True,
                         max_epochs=EPOCH_LADDER[-1], time_budget=120.0):
    """Run the reference protocol on LIBSVM sets; see the module docstring.

    Parameters
    ----------
    names : sequence of str
        LIBSVM set names (see :func:`fasttext_lin.datasets.fetch_libsvm`). A set whose files
        are missing is skipped with the reason in the results.
    repeats : int, default=5
        Timed fits per model at ``C*``, after one warm-up fit.
    progress : callable, default=print
        Called with one line of text per step; ``None`` to stay silent.
    grid : sequence of float, default=GRID
        The values of C cross-validated.
    data_home : str or os.PathLike, optional
        See :func:`fasttext_lin.datasets.get_data_home`.
    download : bool, default=True
        Passed to ``fetch_libsvm``.
    jit : bool, default=True
        Measure compile and cache-load times in fresh subprocesses (on the first set).
    objective : bool, default=True
        Run the objective study against liblinear.
    max_epochs : int, default=5000
        Largest epoch count of the objective study.
    time_budget : float, default=120
        Seconds of our fits after which the objective study stops adding epochs, per case.

    Returns
    -------
    dict
        ``protocol``, ``machine``, ``jit`` and ``sets``: per set, per model ``C_star``,
        ``cv_accuracy``, ``test_accuracy``, fit times and ratios; per loss, objective gaps.
    """
    from ..datasets import fetch_libsvm

    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    progress = progress or (lambda line: None)
    results = {
        "benchmark": "libsvm-reference-protocol",
        "protocol": _protocol(grid, repeats, max_epochs),
        "machine": machine_info(),
        "jit": None,
        "sets": {},
    }
    for name in names:
        try:
            data = fetch_libsvm(name, data_home=data_home, download=download)
        except (FileNotFoundError, ValueError) as exc:
            progress(f"{name}: skipped ({exc})")
            results["sets"][name] = {"skipped": str(exc)}
            continue
        results["sets"][name] = _run_set(data, repeats, grid, objective, max_epochs,
                                         time_budget, progress)
        if jit and results["jit"] is None:
            progress(f"{name}: JIT compile and cache-load times in fresh processes")
            n = data.X_train.shape[0]
            loss = "hinge"
            c_star = results["sets"][name]["models"][our_name(loss)]["C_star"]
            results["jit"] = measure_jit(name, data_home, our_estimator(loss, c_star, n))
    return results


def _protocol(grid, repeats, max_epochs):
    return {
        "grid": list(grid),
        "cv": "StratifiedKFold(n_splits=3, shuffle=True, random_state=0), mean accuracy; "
              "ties go to the smallest C",
        "repeats": repeats,
        "timing": "one warm-up fit per model, then repeats rounds of one fit per model; "
                  "medians",
        "our_settings": {loss: {"learning_rate": "optimal", "max_iter": OUR_EPOCHS[loss],
                                "tol": None, "average": "(max_iter // 2) * n_samples + 1",
                                "random_state": 0} for loss in _OUR_LOSSES},
        "objective": {"form": "0.5 ||w||^2 + C sum_i loss_i, bias column appended, "
                              "fit_intercept=False on both",
                      "gap": "(P_ours - P_liblinear) / P_liblinear", "target": GAP_TARGET,
                      "epoch_ladder": [e for e in EPOCH_LADDER if e <= max_epochs],
                      "liblinear_tol": _REF_TOL, "liblinear_max_iter": _REF_MAX_ITER},
    }


def _run_set(data, repeats, grid, objective, max_epochs, time_budget, progress):
    from sklearn.model_selection import StratifiedKFold

    X, y = data.X_train, data.y_train
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    models = {}
    for model in MODELS:
        start = time.perf_counter()
        models[model] = _select(model, data, folds, grid)
        progress(f"{data.name}: {model}: C*={models[model]['C_star']:g}, test accuracy "
                 f"{100 * models[model]['test_accuracy']:.2f}% "
                 f"({time.perf_counter() - start:.1f} s)")
    progress(f"{data.name}: timing {repeats} fits per model at C*")
    load_before = _load_average()
    _add_fit_times(models, X, y, repeats)
    result = {
        "n_train": X.shape[0], "n_test": data.X_test.shape[0], "n_features": X.shape[1],
        "nnz_train": int(X.nnz), "models": models, "objective": None,
        # Other processes on the machine slow the fits: keep the load they put on it.
        "load_average_during_timing": [load_before, _load_average()],
    }
    if objective and data.n_classes == 2:
        result["objective"] = _objective_study(models, data, max_epochs, time_budget, progress)
    return result

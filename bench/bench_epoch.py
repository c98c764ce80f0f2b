"""Nanoseconds per nonzero per epoch: LinearClassifier, its kernel's levers, SGDClassifier.

Usage::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_epoch.py \\
        [--rows 1000000] [--epochs 5] [--repeats 3] [--quick] [--report-only] \\
        [--out bench/results]

(the two OpenBLAS variables slow numpy on this machine: unset for this command only,
as the project's performance notes were measured.)

On the synthetic set of ``bench/synthetic.py`` (float32 values, int32 indices; the
last 10% of the rows held out for test) it measures, interleaved in each repeat so
that the shared machine's noise hits every configuration alike:

- the estimators: scikit-learn ``SGDClassifier`` and ``LinearClassifier`` with the
  same parameters (loss hinge and log_loss, ``max_iter=epochs``, ``tol=None``,
  ``alpha=1e-6``, ``random_state=0``; ours damps the intercept's step by 0.01 on this
  sparse set, as ``SGDClassifier``), fit seconds / (epochs * nnz), test accuracy,
  and the ratio ours / sklearn within each repeat. scikit-learn 1.9 trains float32
  input in float32 (``_plain_sgd32``), so it is timed on the float32 set as given and
  on a float64 copy, the conversion (what ``validate_data`` would do) timed apart.
  Ours is warmed up on a small slice first: its compile (or cache load) time is
  reported apart;
- the kernel levers, each by calling ``_sgd_kernels.sgd_epoch`` directly (hinge,
  'optimal' schedule, from zero weights) and changing one thing against the
  estimator's own setting (float32 weights, fresh shuffle per epoch, features as
  given, prefetch ``PREFETCH_ROWS`` = 4 rows ahead, unsigned views of the index
  arrays, intercept step damped by 0.01): (a) float64 weights and values, (b) storage
  order and a block shuffle (random order of blocks of 32 rows, random order within),
  (c) features renumbered by document frequency, (d) row prefetching off or at other
  distances. (d) uses private copies of ``sgd_epoch``: the same bytecode compiled with
  its module's globals but the prefetch distance patched (the global named
  ``*PREFETCH_ROWS`` that ``sgd_epoch`` reads in its own loop; 2**62 turns prefetching
  off, since ``k + distance < n_rows`` is then never true); a copy at 4 rows is the
  control that the copy equals the package kernel. (f) the package kernel given the
  signed index arrays (int32 ``indptr`` / ``indices``, intp order) instead of the
  unsigned views the estimator passes: Numba then checks every index for wraparound
  (checked bit-identical results). (g) the intercept on the sparse path: a constant
  column appended to every row (``fasttext_lin.cli.bench_protocol.with_bias_column``),
  ``intercept_decay=0`` (no separate intercept), against the kernel's scalar intercept.
  Two diagnostics bound the update's share: the dot products alone, prefetched the same
  way, in the baseline and in storage order;
- (e) the estimator's Python overhead per epoch (fit time minus kernel time, split
  into setup, between-epoch gaps and finish, by wrapping ``sgd_epoch``) and what the
  Python side allocates between kernel calls (tracemalloc, in an extra untimed fit).

Writes ``epoch.json`` (machine, versions, every run), ``epoch.md`` (tables) and
``epoch.png`` (ns/nnz per configuration, scikit-learn as reference lines) to ``--out``;
``--quick`` (a smoke run: 20,000 rows, 2 epochs, 1 repeat) writes them to a new temporary
folder unless ``--out`` is given.
"""

import inspect
import os
import sys
import time
import tracemalloc
import types
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numba  # noqa: E402
from _harness import arguments, finish, load_average, parse, pyplot, save_png, spread  # noqa: E402
from _harness import machine_info as base_machine_info  # noqa: E402
from numba import njit  # noqa: E402
from synthetic import load_or_make, split  # noqa: E402

import fasttext_lin  # noqa: E402
from fasttext_lin import (
    LinearClassifier,  # noqa: E402
    _sgd,  # noqa: E402
)
from fasttext_lin import _sgd_kernels as K  # noqa: E402
from fasttext_lin._sgd_steps import (  # noqa: E402
    INTERCEPT,
    OPTIMAL,
    PREFETCH_ROWS,
    SCALE,
    STATE_SIZE,
    T,
    prefetch_row,
)
from fasttext_lin.cli.bench_protocol import with_bias_column  # noqa: E402

ALPHA = 1e-6
TEST_FRACTION = 0.1
BLOCK = 32
# Prefetch distance that disables prefetching: ``k + it < n_rows`` never holds.
NO_PREFETCH = 1 << 62
# The estimator's intercept_decay='auto' on sparse X (SGDClassifier's SPARSE_INTERCEPT_DECAY).
SPARSE_INTERCEPT_DECAY = 0.01
QUICK = {"rows": 20_000, "epochs": 2, "repeats": 1}
LOSSES = ("hinge", "log_loss")


# -- data -----------------------------------------------------------------------------------

def renumber_by_frequency(X):
    """Return ``(X', rank)``: feature ``f`` becomes ``rank[f]``, the most frequent 0."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    by_frequency = np.argsort(-df, kind="stable")
    rank = np.empty(X.shape[1], dtype=np.int32)
    rank[by_frequency] = np.arange(X.shape[1], dtype=np.int32)
    return renumbered(X, rank), rank


def renumbered(X, rank):
    """``X`` with feature ``f`` moved to ``rank[f]``, rows sorted again."""
    out = sp.csr_matrix((X.data.copy(), rank[X.indices], X.indptr.copy()), shape=X.shape)
    out.has_sorted_indices = False
    out.sort_indices()
    return out


def shuffled_order(rng, n):
    return rng.permutation(n).astype(np.intp)


def storage_order(rng, n):
    return np.arange(n, dtype=np.intp)


def block_shuffled_order(rng, n, block=BLOCK):
    """Blocks of ``block`` consecutive rows in random order, random order within each."""
    n_blocks = -(-n // block)
    starts = rng.permutation(n_blocks).astype(np.intp) * block
    within = rng.random((n_blocks, block)).argsort(axis=1)
    order = (starts[:, None] + within).ravel()
    return order[order < n]


ORDERS = {"shuffled": shuffled_order, "storage": storage_order,
          f"block{BLOCK}": block_shuffled_order}


# -- kernels --------------------------------------------------------------------------------

def kernel_with_prefetch(rows):
    """A private copy of ``sgd_epoch``: same bytecode, its prefetch distance ``rows``.

    The distance is the module global named ``*PREFETCH_ROWS`` that ``sgd_epoch`` reads in
    its own loop; a kernel that reads none (its loop moved into an inlined helper of
    another module) stops the benchmark rather than time a copy that patches nothing.
    """
    source = K.sgd_epoch.py_func
    names = [name for name in source.__code__.co_names if name.endswith("PREFETCH_ROWS")]
    if not names:
        raise RuntimeError("sgd_epoch reads no global named *PREFETCH_ROWS: lever (d) cannot "
                           "patch its prefetch distance; drop the prefetch-* kernels from "
                           "LEVERS and make_kernels.")
    module_globals = vars(K) | dict.fromkeys(names, rows)
    function = types.FunctionType(source.__code__, module_globals, source.__name__)
    return njit(nogil=True)(function)


@njit(nogil=True)
def _dot_only(indptr, indices, data, y, sample_weight, order, v, u, state, *args):
    """Diagnostic: the kernel's row prefetch and dot products, no update."""
    total = 0.0
    n_rows = order.shape[0]
    for k in range(n_rows):
        if k + PREFETCH_ROWS < n_rows:
            prefetch_row(indptr, indices, data, order[k + PREFETCH_ROWS])
        i = order[k]
        dot = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            dot += data[j] * v[indices[j]]
        total += dot
    return total


def new_state(n_features, dtype):
    state = np.zeros(STATE_SIZE)
    state[SCALE] = 1.0
    state[T] = 1.0
    return np.zeros(n_features, dtype=dtype), np.zeros(0), state


def unsigned(index_array):
    """The same non-negative integers viewed as unsigned (no copy)."""
    return index_array.view(np.dtype(f"u{index_array.dtype.itemsize}"))


def kernel_args(**values):
    """``sgd_epoch``'s positional arguments, by name, in the order the package declares.

    ``track_loss=False`` as the estimator passes it with ``tol=None``; an argument
    unknown here stops the benchmark rather than guess it.
    """
    names = list(inspect.signature(K.sgd_epoch.py_func).parameters)
    missing = [name for name in names if name not in values]
    if missing:
        raise RuntimeError(f"sgd_epoch takes {missing} that bench_epoch.py does not set: "
                           "add them to the call in run_kernel.")
    return [values[name] for name in names]


def run_kernel(kernel, X, y, epochs, order_kind, seed, signed=False,
               intercept_decay=SPARSE_INTERCEPT_DECAY):
    """Run ``epochs`` hinge epochs from zero weights; return timings and ``(w, b)``.

    The index arrays (``indptr``, ``indices``, ``order``) are passed as unsigned views,
    as the estimator passes them, unless ``signed`` (lever f: the signed arrays).
    ``intercept_decay=0`` (no intercept) with a bias column in ``X`` is lever g.
    """
    rng = np.random.default_rng(seed)
    v, u, state = new_state(X.shape[1], X.data.dtype)
    weight = np.ones(X.shape[0])
    loss = K.HINGE
    index = (lambda a: a) if signed else unsigned
    indptr, indices = index(X.indptr), index(X.indices)
    optimal_t0 = _sgd.optimal_t0("hinge", ALPHA, (indptr, indices, X.data), weight)
    kernel_seconds, order_seconds = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        order = index(ORDERS[order_kind](rng, X.shape[0]))
        mid = time.perf_counter()
        kernel(*kernel_args(
            indptr=indptr, indices=indices, data=X.data, y=y, sample_weight=weight, order=order,
            v=v, u=u, state=state, loss=loss, schedule=OPTIMAL, alpha=ALPHA, eta0=0.01,
            power_t=0.5, optimal_t0=optimal_t0, intercept_decay=intercept_decay,
            average_start=-1, track_loss=False))
        kernel_seconds.append(time.perf_counter() - mid)
        order_seconds.append(mid - start)
    return kernel_seconds, order_seconds, v * state[SCALE], state[INTERCEPT]


def accuracy(X, y, w, b):
    scores = X @ w.astype(np.float64) + b
    return float(np.mean(np.where(scores > 0, 1.0, -1.0) == y))


# -- estimators -----------------------------------------------------------------------------

class KernelTimer:
    """Wrap ``sgd_epoch`` as the estimator sees it; record call times (and allocations)."""

    def __init__(self, trace_memory=False):
        self.trace_memory = trace_memory
        self.calls = []
        self.python_peaks = []

    def __enter__(self):
        self.kernel = K.sgd_epoch

        def timed(*args):
            if self.trace_memory and self.calls:
                current, peak = tracemalloc.get_traced_memory()
                self.python_peaks.append(peak - self._after)
            start = time.perf_counter()
            result = self.kernel(*args)
            self.calls.append((start, time.perf_counter()))
            if self.trace_memory:
                tracemalloc.reset_peak()
                self._after = tracemalloc.get_traced_memory()[0]
            return result

        K.sgd_epoch = timed
        return self

    def __exit__(self, *exc):
        K.sgd_epoch = self.kernel


def ours_configs():
    """Our estimator's configurations: as shipped, and without renumbering if it has it."""
    configs = {"ours LinearClassifier, f32": {}}
    if "renumber_features" in LinearClassifier().get_params():
        configs["ours LinearClassifier, f32, renumber_features=False"] = {
            "renumber_features": False}
    return configs


def fit_ours(loss, X, y, epochs, **params):
    model = LinearClassifier(loss=loss, solver="sgd", alpha=ALPHA, max_iter=epochs, tol=None,
                             random_state=0, **params)
    with KernelTimer() as timer:
        start = time.perf_counter()
        model.fit(X, y)
        end = time.perf_counter()
    calls = timer.calls
    kernel = sum(b - a for a, b in calls)
    gaps = [calls[i + 1][0] - calls[i][1] for i in range(len(calls) - 1)]
    overhead = {"setup_s": calls[0][0] - start, "between_epochs_s": gaps,
                "finish_s": end - calls[-1][1], "kernel_s": kernel}
    return end - start, model, overhead


def fit_sklearn(loss, X, y, epochs):
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(loss=loss, alpha=ALPHA, max_iter=epochs, tol=None, random_state=0)
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model


def run_ours(runs, loss, repeat, X_train, y_train, X_test, y_test, epochs):
    """Fit each of our configurations once; append their records to ``runs``."""
    denominator = epochs * X_train.nnz / 1e9
    for config, params in ours_configs().items():
        seconds, model, overhead = fit_ours(loss, X_train, y_train, epochs, **params)
        runs.append({"kind": "estimator", "config": config, "loss": loss,
                     "repeat": repeat, "seconds": seconds, "ns_per_nnz": seconds / denominator,
                     "kernel_ns_per_nnz": overhead["kernel_s"] / denominator,
                     "test_accuracy": float(model.score(X_test, y_test)), "overhead": overhead})
        print(f"  {config} {loss}: {runs[-1]['ns_per_nnz']:.2f} ns/nnz, "
              f"acc {runs[-1]['test_accuracy']:.4f}", flush=True)


def python_allocations(X, y, epochs):
    """Bytes the estimator's Python code allocates between kernel calls (peak, per epoch)."""
    model = LinearClassifier(loss="hinge", solver="sgd", alpha=ALPHA, max_iter=epochs,
                             tol=None, random_state=0)
    tracemalloc.start()
    try:
        with KernelTimer(trace_memory=True) as timer:
            model.fit(X, y)
    finally:
        tracemalloc.stop()
    return timer.python_peaks


# -- reporting ------------------------------------------------------------------------------

def machine_info():
    """The harness's machine information plus what this benchmark also records."""
    return base_machine_info(usable_cores=len(os.sched_getaffinity(0)),
                             llvmlite=__import__("llvmlite").__version__,
                             fasttext_lin=fasttext_lin.__version__,
                             numba_threads=numba.get_num_threads())


# -- main -----------------------------------------------------------------------------------

LEVERS = [
    # name, lever, data, kernel, order, signed index arrays
    ("baseline: f32, shuffled, prefetch 4, unsigned", "estimator's setting", "f32", "package",
     "shuffled", False),
    ("(a) f64 weights + values", "a", "f64", "package", "shuffled", False),
    ("(b) storage order", "b", "f32", "package", "storage", False),
    (f"(b) block shuffle ({BLOCK})", "b", "f32", "package", f"block{BLOCK}", False),
    ("(c) renumbered by frequency", "c", "f32r", "package", "shuffled", False),
    ("(d) no prefetch", "d", "f32", "prefetch-off", "shuffled", False),
    ("(d) copy, prefetch 4 (control)", "d", "f32", "prefetch-4", "shuffled", False),
    ("(d) prefetch 2", "d", "f32", "prefetch-2", "shuffled", False),
    ("(d) prefetch 8", "d", "f32", "prefetch-8", "shuffled", False),
    ("(d) prefetch 16", "d", "f32", "prefetch-16", "shuffled", False),
    ("(d) no prefetch, storage order", "d", "f32", "prefetch-off", "storage", False),
    ("(f) signed index arrays", "f", "f32", "package", "shuffled", True),
    ("(f) signed index arrays, storage order", "f", "f32", "package", "storage", True),
    ("(g) intercept as a bias column (on the sparse path)", "g", "f32b", "package", "shuffled",
     False),
    (f"combined: renumbered, block shuffle ({BLOCK})", "combined", "f32r", "package",
     f"block{BLOCK}", False),
    ("combined: renumbered, storage order", "combined", "f32r", "package", "storage", False),
    ("diagnostic: dot products only, shuffled", "diagnostic", "f32", "dot-only", "shuffled",
     False),
    ("diagnostic: dot products only, storage", "diagnostic", "f32", "dot-only", "storage",
     False),
]


def make_kernels():
    kernels = {"package": K.sgd_epoch, "dot-only": _dot_only,
               "prefetch-off": kernel_with_prefetch(NO_PREFETCH)}
    for rows in (2, 4, 8, 16):
        kernels[f"prefetch-{rows}"] = kernel_with_prefetch(rows)
    return kernels


def warm_up(data, y_train, kernels):
    """Compile (or load) every kernel specialisation on a small slice; return seconds.

    Also checks that each private copy of ``sgd_epoch`` gives bit-identical weights.
    """
    seconds = {}
    small = slice(0, 2000)
    for loss in LOSSES:
        hits = sum(K.sgd_epoch.stats.cache_hits.values())
        n_signatures = len(K.sgd_epoch.signatures)
        start = time.perf_counter()
        LinearClassifier(loss=loss, solver="sgd", alpha=ALPHA, max_iter=1, tol=None).fit(
            data["f32"][small], y_train[small])
        new = len(K.sgd_epoch.signatures) > n_signatures
        seconds[f"ours first fit ({loss})"] = {
            "seconds": time.perf_counter() - start,
            "sgd_epoch_cache_hit": (sum(K.sgd_epoch.stats.cache_hits.values()) > hits) if new
            else "already loaded (loss is an integer argument)",
        }
    reference = {}
    for name, kernel in kernels.items():
        for kind in ("f32", "f64", "f32r"):
            start = time.perf_counter()
            _, _, w, b = run_kernel(kernel, data[kind][small], y_train[small], 2, "shuffled", 0)
            entry = seconds.setdefault(f"kernel {name}", {"seconds": 0.0})
            entry["seconds"] += time.perf_counter() - start
            if name == "package":
                reference[kind] = (w, b)
            elif name != "dot-only":
                same = np.array_equal(w, reference[kind][0]) and b == reference[kind][1]
                entry["same_result_as_package"] = entry.get("same_result_as_package",
                                                            True) and bool(same)
    start = time.perf_counter()
    _, _, w, b = run_kernel(kernels["package"], data["f32"][small], y_train[small], 2,
                            "shuffled", 0, signed=True)
    seconds["kernel package, signed index arrays"] = {
        "seconds": time.perf_counter() - start,
        "same_result_as_package": bool(np.array_equal(w, reference["f32"][0])
                                       and b == reference["f32"][1])}
    return seconds


def run(args):
    """The whole benchmark as ``args`` asks; return the result dictionary."""
    info = machine_info()

    start = time.perf_counter()
    X, y = load_or_make(args.rows)
    load_seconds = time.perf_counter() - start
    X_train, y_train, X_test, y_test = split(X, y, TEST_FRACTION)
    nnz = X_train.nnz
    print(f"train {X_train.shape[0]} rows, {nnz} nonzeros ({nnz / X_train.shape[0]:.1f} a row); "
          f"test {X_test.shape[0]} rows", flush=True)
    prep = {"load_or_make_s": load_seconds}
    start = time.perf_counter()
    X_train64 = X_train.astype(np.float64)
    prep["to_float64_s"] = time.perf_counter() - start
    start = time.perf_counter()
    X_train_r, rank = renumber_by_frequency(X_train)
    prep["renumber_s"] = time.perf_counter() - start
    start = time.perf_counter()
    X_train_b = with_bias_column(X_train)
    prep["bias_column_s"] = time.perf_counter() - start
    data = {"f32": X_train, "f64": X_train64, "f32r": X_train_r, "f32b": X_train_b}
    tests = {"f32": X_test, "f64": X_test, "f32r": renumbered(X_test, rank),
             "f32b": with_bias_column(X_test)}

    start = time.perf_counter()
    kernels = make_kernels()
    first_calls = warm_up(data, y_train, kernels)
    prep["warm_up_total_s"] = time.perf_counter() - start
    print("warm-up:", {k: round(v["seconds"], 2) for k, v in first_calls.items()}, flush=True)

    runs = []
    denominator = args.epochs * nnz / 1e9
    for repeat in range(args.repeats):
        start = time.perf_counter()
        X64 = X_train.astype(np.float64)
        conversion = time.perf_counter() - start
        del X64
        for loss in LOSSES:
            # ours last in even repeats, first in odd ones: drifts in the machine's
            # speed do not always favour the same side.
            if repeat % 2:
                run_ours(runs, loss, repeat, X_train, y_train, X_test, y_test, args.epochs)
            for name, inputs in (("sklearn SGDClassifier, f32 input", X_train),
                                 ("sklearn SGDClassifier, f64 input", X_train64)):
                seconds, model = fit_sklearn(loss, inputs, y_train, args.epochs)
                record = {"kind": "estimator", "config": name, "loss": loss, "repeat": repeat,
                          "seconds": seconds, "ns_per_nnz": seconds / denominator,
                          "test_accuracy": float(model.score(X_test, y_test))}
                if "f64" in name:
                    record["f64_conversion_s"] = conversion
                runs.append(record)
                print(f"  {name} {loss}: {record['ns_per_nnz']:.2f} ns/nnz, "
                      f"acc {record['test_accuracy']:.4f}", flush=True)
            if not repeat % 2:
                run_ours(runs, loss, repeat, X_train, y_train, X_test, y_test, args.epochs)
        for name, lever, kind, kernel, order, signed in LEVERS:
            kernel_s, order_s, w, b = run_kernel(kernels[kernel], data[kind], y_train,
                                                 args.epochs, order, seed=repeat, signed=signed,
                                                 intercept_decay=0.0 if kind == "f32b"
                                                 else SPARSE_INTERCEPT_DECAY)
            acc = accuracy(tests[kind], y_test, w, b) if kernel != "dot-only" else None
            runs.append({"kind": "kernel", "config": name, "lever": lever, "data": kind,
                         "kernel": kernel, "order": order, "signed_indices": signed,
                         "repeat": repeat,
                         "epoch_seconds": kernel_s, "order_seconds": order_s,
                         "ns_per_nnz": sum(kernel_s) / denominator, "test_accuracy": acc})
            print(f"  {name}: {runs[-1]['ns_per_nnz']:.2f} ns/nnz", flush=True)
    allocations = python_allocations(X_train, y_train, args.epochs)
    info["load_average_end"] = load_average()
    info["sgd_epoch_signatures"] = [str(s) for s in K.sgd_epoch.signatures]

    result = {"machine": info, "params": vars(args) | {"out": str(args.out), "alpha": ALPHA,
                                                        "test_fraction": TEST_FRACTION,
                                                        "block": BLOCK},
              "data": {"rows": X.shape[0], "features": X.shape[1], "nnz": X.nnz,
                       "train_rows": X_train.shape[0], "train_nnz": nnz,
                       "dtype": str(X.dtype), "index_dtype": str(X.indices.dtype)},
              "preprocessing": prep, "first_calls": first_calls,
              "python_alloc_between_kernel_calls_bytes": allocations, "runs": runs}
    result["summary"] = summarize_runs(runs, args.repeats)
    return result


def main(argv=None):
    parser = arguments(__doc__, stem="epoch", out=None, repeats=3, report_only=True,
                       quick="a smoke run: {rows} rows, {epochs} epochs, {repeats} repeat "
                             "(overrides --rows, --epochs, --repeats)".format(**QUICK))
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows of the synthetic set (default 1000000)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per fit (default 5)")
    args = parse(parser, argv)
    if args.quick:
        vars(args).update(QUICK)
    return finish(args, "epoch", lambda: run(args), markdown, plot)


def by_repeat(runs, **match):
    rows = [r for r in runs if all(r.get(k) == v for k, v in match.items())]
    return {r["repeat"]: r for r in rows}


def summarize_runs(runs, repeats):
    """Medians over repeats; ratios are medians of per-repeat ratios (same-run peers)."""
    summary = {"estimators": [], "levers": []}
    for loss in LOSSES:
        ref32 = by_repeat(runs, config="sklearn SGDClassifier, f32 input", loss=loss)
        ref64 = by_repeat(runs, config="sklearn SGDClassifier, f64 input", loss=loss)
        for config in ("sklearn SGDClassifier, f32 input", "sklearn SGDClassifier, f64 input",
                       *ours_configs()):
            rows = by_repeat(runs, config=config, loss=loss)
            entry = {"config": config, "loss": loss,
                     "ns_per_nnz": spread([r["ns_per_nnz"] for r in rows.values()]),
                     "test_accuracy": spread([r["test_accuracy"] for r in rows.values()]),
                     "vs_sklearn_f32": float(np.median(
                         [rows[k]["ns_per_nnz"] / ref32[k]["ns_per_nnz"] for k in rows])),
                     "vs_sklearn_f64": float(np.median(
                         [rows[k]["ns_per_nnz"] / ref64[k]["ns_per_nnz"] for k in rows]))}
            if config.startswith("ours"):
                entry["kernel_ns_per_nnz"] = spread(
                    [r["kernel_ns_per_nnz"] for r in rows.values()])
                gaps = [g for r in rows.values() for g in r["overhead"]["between_epochs_s"]]
                kernel_fit = [r["overhead"]["kernel_s"] for r in rows.values()]
                entry["python_overhead"] = {
                    "setup_s": spread([r["overhead"]["setup_s"] for r in rows.values()]),
                    "between_epochs_s": spread(gaps),
                    "finish_s": spread([r["overhead"]["finish_s"] for r in rows.values()]),
                    "kernel_s_per_fit": spread(kernel_fit),
                }
            if config.endswith("f64 input"):
                entry["f64_conversion_s"] = spread(
                    [r["f64_conversion_s"] for r in rows.values()])
            summary["estimators"].append(entry)
    base = by_repeat(runs, config=LEVERS[0][0])
    for name, lever, *_ in LEVERS:
        rows = by_repeat(runs, config=name)
        accs = [r["test_accuracy"] for r in rows.values() if r["test_accuracy"] is not None]
        summary["levers"].append({
            "config": name, "lever": lever,
            "ns_per_nnz": spread([r["ns_per_nnz"] for r in rows.values()]),
            "vs_baseline": float(np.median(
                [rows[k]["ns_per_nnz"] / base[k]["ns_per_nnz"] for k in rows])),
            "order_ms_per_epoch": 1e3 * float(np.median(
                [s for r in rows.values() for s in r["order_seconds"]])),
            "test_accuracy": spread(accs) if accs else None,
        })
    return summary


def _load_1min(machine, key, old_key):
    """1-minute load average under ``key`` (or ``old_key``, as older results name it)."""
    load = machine.get(key, machine.get(old_key))
    return f"{load[0]:.2f}" if load else "?"


def markdown(result):
    s = result["summary"]
    m = result["machine"]
    git = m.get("git") or {}
    d = result["data"]
    p = result["params"]
    lines = [
        "# ns per nonzero per epoch (bench/bench_epoch.py)",
        "",
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
        f"scipy {m['scipy']}, scikit-learn {m['scikit-learn']}, numba {m['numba']}; "
        f"{m['date']}; package at {git.get('commit', '?')[:7]}"
        f"{' (modified)' if git.get('package_modified') else ''}; "
        f"load average {_load_1min(m, 'load_average', 'loadavg_start')} at start, "
        f"{_load_1min(m, 'load_average_end', 'loadavg_end')} at end (shared machine).",
        "",
        f"Synthetic set: {d['rows']} rows x {d['features']} features, {d['nnz']} nonzeros "
        f"({d['nnz'] / d['rows']:.1f} a row), {d['dtype']} values, {d['index_dtype']} indices; "
        f"train {d['train_rows']} rows / {d['train_nnz']} nonzeros, test the last "
        f"{p['test_fraction']:.0%}. {p['epochs']} epochs, alpha={p['alpha']}, medians of "
        f"{p['repeats']} repeats [min-max]; ratios are medians of the per-repeat ratios.",
        "",
        "## Estimators (fit time / (epochs x nnz))",
        "",
        "| loss | estimator | ns/nnz/epoch | ours / sklearn f32 | ours / sklearn f64 "
        "| test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for e in s["estimators"]:
        ns = e["ns_per_nnz"]
        lines.append(
            f"| {e['loss']} | {e['config']} | {ns['median']:.2f} [{ns['min']:.2f}-{ns['max']:.2f}]"
            f" | {e['vs_sklearn_f32']:.2f} | {e['vs_sklearn_f64']:.2f} "
            f"| {e['test_accuracy']['median']:.4f} |")
    ours = [e for e in s["estimators"] if e["config"].startswith("ours")]
    conv = [e for e in s["estimators"] if "f64_conversion_s" in e][0]["f64_conversion_s"]
    lines += [
        "",
        f"scikit-learn {m['scikit-learn']} keeps float32 input in float32 (`_plain_sgd32`); the "
        f"f64 rows are fit on a float64 copy, whose conversion (`X.astype(float64)`, what "
        f"`validate_data` would do) took {conv['median']:.2f} s apart from the fit "
        f"({1e9 * conv['median'] / (p['epochs'] * d['train_nnz']):.2f} ns/nnz/epoch if "
        f"spread over {p['epochs']} epochs).",
        "",
        "### (e) Our estimator: kernel vs Python",
        "",
        "| loss | estimator | kernel ns/nnz/epoch | setup s | between epochs ms | finish ms "
        "| kernel s/fit |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in ours:
        o = e["python_overhead"]
        lines.append(
            f"| {e['loss']} | {e['config']} | {e['kernel_ns_per_nnz']['median']:.2f} "
            f"| {o['setup_s']['median']:.3f} | {1e3 * o['between_epochs_s']['median']:.1f} "
            f"[{1e3 * o['between_epochs_s']['min']:.1f}-{1e3 * o['between_epochs_s']['max']:.1f}]"
            f" | {1e3 * o['finish_s']['median']:.1f} | {o['kernel_s_per_fit']['median']:.2f} |")
    alloc = result["python_alloc_between_kernel_calls_bytes"]
    lines += [
        "",
        "Setup is validation, `optimal_t0` (a pass over the data), targets and weights; "
        "between epochs the in-place shuffle, the objective and the finiteness check. "
        f"Peak Python allocation between kernel calls (tracemalloc): "
        f"{', '.join(str(a) for a in alloc)} bytes.",
        "",
        "## Kernel levers (`sgd_epoch` called directly, hinge, from zero weights)",
        "",
        "| configuration | ns/nnz/epoch | vs baseline | order ms/epoch | test accuracy |",
        "|---|---|---|---|---|",
    ]
    for e in s["levers"]:
        ns = e["ns_per_nnz"]
        acc = f"{e['test_accuracy']['median']:.4f}" if e["test_accuracy"] else "-"
        lines.append(f"| {e['config']} | {ns['median']:.2f} [{ns['min']:.2f}-{ns['max']:.2f}] "
                     f"| {e['vs_baseline']:.2f} | {e['order_ms_per_epoch']:.1f} | {acc} |")
    prep = result["preprocessing"]
    lines += [
        "",
        "Lever (c) renumbers the features and re-sorts each row's indices (scipy "
        "`sort_indices`), the test set with the training set's numbering. Lever (g) puts the "
        "intercept on the sparse path: a constant column appended to every row, "
        "`intercept_decay=0` (the kernel's own intercept is a scalar updated apart).",
        "",
        "Order ms/epoch: building the visiting order (not in the kernel time). One-off costs: "
        f"renumbering features by frequency {prep['renumber_s']:.2f} s, float64 copy "
        f"{prep['to_float64_s']:.2f} s, bias column {prep.get('bias_column_s', 0):.2f} s.",
        "",
        "## First calls (compile or cache load), excluded above",
        "",
        "| what | seconds | sgd_epoch cache hit | private copy: same weights as package |",
        "|---|---|---|---|",
    ]
    for name, v in result["first_calls"].items():
        lines.append(f"| {name} | {v['seconds']:.2f} | {v.get('sgd_epoch_cache_hit', '-')} "
                     f"| {v.get('same_result_as_package', '-')} |")
    lines += ["", "Kernel rows: the package kernel (cached) over float32, float64 and renumbered "
              "slices; private copies compile (no cache); the last row a new specialisation "
              "(signed index types) of the package kernel."]
    return "\n".join(lines) + "\n"


def plot(result, path):
    plt = pyplot()
    s = result["summary"]
    labels, values, lows, highs, colors = [], [], [], [], []
    for e in s["estimators"]:
        if e["config"].startswith("ours"):
            labels.append(e["config"].replace("ours ", "").replace(", f32", "")
                          + f" ({e['loss']})")
            colors.append("tab:blue")
        else:
            labels.append(f"{e['config'].replace('SGDClassifier, ', '')} ({e['loss']})")
            colors.append("tab:gray")
        ns = e["ns_per_nnz"]
        values.append(ns["median"])
        lows.append(ns["median"] - ns["min"])
        highs.append(ns["max"] - ns["median"])
    for e in s["levers"]:
        labels.append(f"kernel {e['config']}")
        colors.append("tab:orange" if e["lever"] != "diagnostic" else "tab:green")
        ns = e["ns_per_nnz"]
        values.append(ns["median"])
        lows.append(ns["median"] - ns["min"])
        highs.append(ns["max"] - ns["median"])
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(labels) + 1.5))
    ypos = np.arange(len(labels))[::-1]
    ax.barh(ypos, values, xerr=[lows, highs], color=colors, capsize=2)
    ax.set_yticks(ypos, labels, fontsize=8)
    references = [e for e in s["estimators"] if e["config"] == "sklearn SGDClassifier, f32 input"]
    for e, style in zip(references, ("--", ":")):
        ax.axvline(e["ns_per_nnz"]["median"], color="black", linestyle=style, linewidth=1,
                   label=f"sklearn {e['loss']}, f32 input: {e['ns_per_nnz']['median']:.1f}")
    for y, v, high in zip(ypos, values, highs):
        ax.text(v + high, y, f" {v:.1f}", va="center", fontsize=7)
    ax.set_xlabel("ns per nonzero per epoch (median; bars min-max)")
    m = result["machine"]
    ax.set_title(f"{result['data']['rows']} rows synthetic set, {result['params']['epochs']} "
                 f"epochs; {m['cpu']}, {m['cores']} cores", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_png(fig, path)


if __name__ == "__main__":
    sys.exit(main())

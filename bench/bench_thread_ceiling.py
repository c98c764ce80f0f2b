"""What a second thread can gain on this machine: memory-bound ceilings against Hogwild.

On the Hogwild bar set of the speed issue (``bench/synthetic.py``, 300k rows, 60 nonzeros a
row, 2^20 features, float32; the last 10% held out), one process times, interleaved in each
of ``--repeats`` rounds (medians, and the median of the per-round ratios):

1. Ceilings of the machine: read-only dot products ``x_i . w`` over every row, one thread
   against two threads on the two halves (shared read-only ``w``), the rows in shuffled order
   (the access pattern of an SGD epoch) and in storage order; and a loop with no memory
   traffic, for the cores themselves.
2. The Hogwild segment kernel (``_sgd_kernels.sgd_segment``, the rows in segments of
   ``_threads.SEGMENT_ROWS`` a thread between barriers) on two threads, the weights shared
   (Hogwild) or one private copy a thread (no write sharing: not a usable model, an upper
   bound for what removing contention can give), against the serial epoch
   (``sgd_epoch``); hinge and log loss, one epoch from zero weights.
3. The fit the bar measures: ``LinearClassifier(solver='sgd', n_jobs=1)`` and ``n_jobs=2``
   (Hogwild) against ``SGDClassifier``, 5 epochs, alpha 1e-6, ``tol=None``.

Usage::

    python bench/bench_thread_ceiling.py [--repeats 9] [--rows 300000] [--out DIR]
    python bench/bench_thread_ceiling.py --report-only [--out DIR]

Writes ``thread_ceiling.json`` and ``thread_ceiling.md`` to ``--out``.
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402
from _harness import arguments, finish, fmt_git, fmt_load, load_average, machine_info, parse  # noqa: E402,E501

STEM = "thread_ceiling"
NNZ_PER_ROW = 60
ALPHA = 1e-6
EPOCHS = 5
LOSSES = ("hinge", "log_loss")


def _kernels():
    from numba import njit

    @njit(cache=True, nogil=True)
    def dots(indptr, indices, data, order, w):
        total = 0.0
        for k in range(order.shape[0]):
            i = order[k]
            d = 0.0
            for j in range(indptr[i], indptr[i + 1]):
                d += data[j] * w[indices[j]]
            total += d
        return total

    @njit(cache=True, nogil=True)
    def spin(steps):
        x = 1.0
        for _ in range(steps):
            x = x * 1.0000001 + 1e-9
        return x

    return dots, spin


def _timed(pool, calls):
    """Seconds to run ``calls`` (``(fn, args)`` pairs): the first on this thread, the others
    on ``pool``."""
    start = time.perf_counter()
    futures = [pool.submit(fn, *args) for fn, args in calls[1:]]
    calls[0][0](*calls[0][1])
    for f in futures:
        f.result()
    return time.perf_counter() - start


def run(args):
    from sklearn.linear_model import SGDClassifier

    from fasttext_lin import LinearClassifier
    from fasttext_lin import _sgd_kernels as K
    from fasttext_lin._sgd import optimal_t0
    from fasttext_lin._threads import SEGMENT_ROWS, per_thread
    from fasttext_lin._validation import unsigned_csr

    X, y = synthetic.load_or_make(args.rows, nnz_per_row=NNZ_PER_ROW)
    X_train, y_train, X_test, y_test = synthetic.split(X, y)
    csr = unsigned_csr(X_train)
    n, d = X_train.shape
    half = n // 2
    order = np.random.default_rng(0).permutation(n).astype(np.uintp)
    storage = np.arange(n, dtype=np.uintp)
    w = np.random.default_rng(1).random(d).astype(np.float32)
    target = np.where(y_train == y_train.max(), 1.0, -1.0)
    weight = np.ones(n)
    dots, spin = _kernels()
    pool = ThreadPoolExecutor(1)
    load_before = load_average()

    def fresh():
        state = np.zeros(K.STATE_SIZE)
        state[K.SCALE] = state[K.T] = 1.0
        return np.zeros(d, dtype=np.float32), state

    epoch_params = {loss: (K.LOSS_CODES[loss], K.SCHEDULE_CODES["optimal"], ALPHA, 0.0, 0.5,
                           optimal_t0(loss, ALPHA, csr, weight), 0.01, -1, False)
                    for loss in LOSSES}

    def serial(loss):
        v, state = fresh()
        return [(K.sgd_epoch, (*csr, target, weight, order, v, np.zeros(0), state,
                               *epoch_params[loss]))]

    def segments(loss, private):
        v, state = fresh()
        copies = [(v, state), fresh() if private else (v, state)]
        local, out = per_thread(2, (4, 1)), per_thread(2, (K.SEGMENT_SIZE,))
        params, no_average = epoch_params[loss], np.zeros(0)

        def thread(m):
            rows = order[m * half:(m + 1) * half if m == 0 else n]
            vm, sm = copies[m]
            for a in range(0, rows.shape[0], SEGMENT_ROWS):
                K.sgd_segment(*csr, target, weight, rows[a:a + SEGMENT_ROWS], vm, no_average,
                              no_average, sm, local[m], out[m], *params)
        return [(thread, (0,)), (thread, (1,))]

    def two(fn, rows, *extra):
        return [(fn, (*csr, rows[:half], w, *extra)), (fn, (*csr, rows[half:], w, *extra))]

    spin_steps = 30_000_000
    cases = {
        "no memory traffic (spin loop)": ([(spin, (spin_steps,))],
                                          [(spin, (spin_steps // 2,))] * 2),
        "read-only dot products, shuffled rows": ([(dots, (*csr, order, w))], two(dots, order)),
        "read-only dot products, storage order": ([(dots, (*csr, storage, w))],
                                                  two(dots, storage)),
    }
    for loss in LOSSES:
        cases[f"{loss} SGD epoch, shared weights (Hogwild)"] = (
            lambda loss=loss: serial(loss), lambda loss=loss: segments(loss, False))
        cases[f"{loss} SGD epoch, private weights (no sharing; bound)"] = (
            lambda loss=loss: serial(loss), lambda loss=loss: segments(loss, True))

    def calls(spec):
        return spec() if callable(spec) else spec

    fits = {}
    for loss in LOSSES:
        fits[f"{loss}: ours, 1 thread"] = lambda loss=loss: LinearClassifier(
            loss=loss, solver="sgd", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=0,
            n_jobs=1)
        fits[f"{loss}: ours, 2 threads, hogwild"] = lambda loss=loss: LinearClassifier(
            loss=loss, solver="sgd", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=0,
            n_jobs=2, parallel="hogwild")
        fits[f"{loss}: SGDClassifier"] = lambda loss=loss: SGDClassifier(
            loss=loss, alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=0)
    for make in fits.values():  # warm-up: compile or load the kernels
        make().fit(X_train[:4096], y_train[:4096])
    for one, two_ in cases.values():
        _timed(pool, calls(one))
        _timed(pool, calls(two_))
    kernel_times = {name: {"one": [], "two": []} for name in cases}
    fit_times = {name: [] for name in fits}
    accuracy = {}
    for _ in range(args.repeats):
        for name, (one, two_) in cases.items():
            kernel_times[name]["one"].append(_timed(pool, calls(one)))
            kernel_times[name]["two"].append(_timed(pool, calls(two_)))
        for name, make in fits.items():
            model = make()
            start = time.perf_counter()
            model.fit(X_train, y_train)
            fit_times[name].append(time.perf_counter() - start)
            accuracy[name] = float(model.score(X_test, y_test))
    pool.shutdown()
    return {"machine": machine_info(), "load_before": load_before, "load_after": load_average(),
            "rows": args.rows, "nnz_per_row": NNZ_PER_ROW, "repeats": args.repeats,
            "epochs": EPOCHS, "alpha": ALPHA, "kernels": kernel_times, "fits": fit_times,
            "accuracy": accuracy}


def _ratio(slow, fast):
    return float(np.median(np.asarray(slow) / np.asarray(fast)))


def report(result):
    lines = [f"# What a second thread gains on this machine ({result['rows']:,} rows x "
             f"{result['nnz_per_row']} nonzeros, 2^20 features)", "",
             f"git {fmt_git(result['machine'].get('git'))}; load {fmt_load(result['load_before'])}"
             f" at start, {fmt_load(result['load_after'])} at end; medians of "
             f"{result['repeats']} interleaved rounds; speed-up: median of the per-round "
             "ratios.", "",
             "| loop | 1 thread ms | 2 threads ms | speed-up |", "|---|---|---|---|"]
    for name, t in result["kernels"].items():
        lines.append(f"| {name} | {1e3 * np.median(t['one']):.1f} | "
                     f"{1e3 * np.median(t['two']):.1f} | {_ratio(t['one'], t['two']):.2f}x |")
    lines += ["", f"Fits, {result['epochs']} epochs, alpha {result['alpha']:g}, tol=None:", "",
              "| fit | seconds | test accuracy | 1 thread / this | SGDClassifier / this |",
              "|---|---|---|---|---|"]
    fits = result["fits"]
    for name, seconds in fits.items():
        loss = name.split(":")[0]
        one, sgd = fits[f"{loss}: ours, 1 thread"], fits[f"{loss}: SGDClassifier"]
        lines.append(f"| {name} | {np.median(seconds):.3f} | {100 * result['accuracy'][name]:.2f}%"
                     f" | {_ratio(one, seconds):.2f}x | {_ratio(sgd, seconds):.2f}x |")
    lines += ["", "The private-weights rows train two unrelated half models: not a usable "
              "model, the bound of what ending the write sharing could give."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = arguments(__doc__, stem=STEM, repeats=9, report_only=True)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parse(parser, argv)
    return finish(args, STEM, lambda: run(args), report)


if __name__ == "__main__":
    sys.exit(main())

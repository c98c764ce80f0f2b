"""Cold start: import time, first-call compile, and cache load in a second process.

Usage::

    python bench/bench_coldstart.py [--repeats 3] [--rows 2000] [--out bench/results]

Each repeat makes an empty ``NUMBA_CACHE_DIR`` and runs two fresh Python processes on
it, one after the other. Each process times ``import numba`` and ``import
fasttext_lin`` (and checks that the import compiled nothing: no ``numba:compile``
event, every dispatcher of the package without signatures), then a first
``LinearClassifier.fit`` on a small sparse float32 set (hinge, 1 epoch), then
steady fits (median). The first process compiles and writes the cache; the second
should only load it. Numba's ``numba:compile`` events give each kernel's share of
the first call (compile or cache load), and the dispatchers' ``stats`` say whether
each kernel came from the cache.

Writes ``coldstart.json`` and ``coldstart.md`` to ``--out``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_state, write_atomic  # noqa: E402

STEADY_FITS = 5
# As wide as hashed text features: the estimator then takes its renumbering path too.
N_FEATURES = 1 << 20
NNZ_PER_ROW = 20


def child(rows):
    """Run in a fresh process; print a JSON record of its timings."""
    start = time.perf_counter()
    import numba
    from numba.core import event

    numba_import = time.perf_counter() - start
    with event.install_recorder("numba:compile") as during_import:
        start = time.perf_counter()
        import fasttext_lin  # noqa: F401
        from fasttext_lin import LinearClassifier

        package_import = time.perf_counter() - start
    import_events = len(during_import.buffer)
    dispatchers = _package_dispatchers()
    compiled_at_import = {name: len(d.signatures) for name, d in dispatchers.items()
                          if d.signatures}
    sgd_epoch_signatures = len(fasttext_lin._sgd_kernels.sgd_epoch.signatures)

    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    # Not scipy.sparse.random: it permutes rows x columns ids (10 s here).
    indices = np.sort(rng.integers(0, N_FEATURES, size=(rows, NNZ_PER_ROW)), axis=1)
    X = sp.csr_matrix((rng.random(indices.size, dtype=np.float32),
                       indices.ravel().astype(np.int32),
                       np.arange(0, indices.size + 1, NNZ_PER_ROW, dtype=np.int32)),
                      shape=(rows, N_FEATURES))
    X.sum_duplicates()
    y = rng.integers(0, 2, size=rows)
    model = LinearClassifier(loss="hinge", max_iter=1, tol=None, random_state=0)

    load_seconds = _time_cache_loads(dispatchers)
    with event.install_recorder("numba:compile") as recorder:
        start = time.perf_counter()
        model.fit(X, y)
        first_fit = time.perf_counter() - start
    steady = []
    for _ in range(STEADY_FITS):
        start = time.perf_counter()
        model.fit(X, y)
        steady.append(time.perf_counter() - start)
    print(json.dumps({
        "numba_import_s": numba_import,
        "fasttext_lin_import_s": package_import,
        "compile_events_during_import": import_events,
        "dispatchers_with_signatures_after_import": compiled_at_import,
        "sgd_epoch_signatures_after_import": sgd_epoch_signatures,
        "first_fit_s": first_fit,
        "steady_fit_s": steady,
        "compile_events_first_fit": _compile_seconds(recorder.buffer),
        "cache_load_attempts_first_fit": load_seconds,
        "cache": {name: {"hits": sum(d.stats.cache_hits.values()),
                         "misses": sum(d.stats.cache_misses.values()),
                         "signatures": len(d.signatures)}
                  for name, d in dispatchers.items() if d.signatures},
        "numba": numba.__version__,
    }))


def _package_dispatchers():
    """Every Numba dispatcher defined in a loaded ``fasttext_lin`` module, by name."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] != "fasttext_lin" or module is None:
            continue
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module_name:
                found[f"{module_name}.{name}"] = value
    return found


def _time_cache_loads(dispatchers):
    """Wrap each dispatcher's cache lookup; return {name: [seconds, loaded?] per attempt}.

    Numba fires no event for a cache load, so the lookup itself is timed.
    """
    attempts = {}
    for name, dispatcher in dispatchers.items():
        cache = dispatcher._cache
        load = cache.load_overload

        def timed(sig, target_context, _load=load, _name=name):
            start = time.perf_counter()
            result = _load(sig, target_context)
            attempts.setdefault(_name, []).append(
                [time.perf_counter() - start, result is not None])
            return result

        cache.load_overload = timed
    return attempts


def _compile_seconds(buffer):
    """Seconds per dispatcher from ``numba:compile`` (start, end) event pairs.

    Nested compiles (a kernel compiling the functions it calls) count in both.
    """
    starts, seconds = {}, {}
    for timestamp, ev in buffer:
        key = str(ev.data["dispatcher"].py_func.__qualname__) + str(ev.data["args"])
        if ev.is_start:
            starts[key] = timestamp
        elif key in starts:
            name = ev.data["dispatcher"].py_func.__qualname__
            seconds[name] = seconds.get(name, 0.0) + timestamp - starts.pop(key)
    return seconds


def run_child(cache_dir, rows):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", "--rows", str(rows)],
                          env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"child process failed ({done.returncode}):\n{done.stderr}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["process_wall_s"] = wall
    return record


def _median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def summarize(pairs):
    def row(key, which):
        return _median([p[which][key] for p in pairs])

    out = {}
    for which in ("first_process", "second_process"):
        out[which] = {
            "numba_import_s": row("numba_import_s", which),
            "fasttext_lin_import_s": row("fasttext_lin_import_s", which),
            "first_fit_s": row("first_fit_s", which),
            "steady_fit_s": _median([_median(p[which]["steady_fit_s"]) for p in pairs]),
            "process_wall_s": row("process_wall_s", which),
            "sgd_epoch_compile_event_s": _median(
                [p[which]["compile_events_first_fit"].get("sgd_epoch", 0.0) for p in pairs]),
            "sgd_epoch_cache_lookup_s": _median([sum(
                a[0] for a in p[which]["cache_load_attempts_first_fit"].get(
                    "fasttext_lin._sgd_kernels.sgd_epoch", [])) for p in pairs]),
            "import_compiled_nothing": all(
                p[which]["compile_events_during_import"] == 0
                and p[which]["sgd_epoch_signatures_after_import"] == 0
                and not p[which]["dispatchers_with_signatures_after_import"] for p in pairs),
            "sgd_epoch_cache_hits": [p[which]["cache"].get(
                "fasttext_lin._sgd_kernels.sgd_epoch", {}).get("hits") for p in pairs],
        }
    return out


def markdown(result):
    m = result["machine"]
    s = result["summary"]
    lines = [
        "# Cold start (bench/bench_coldstart.py)",
        "",
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, numba {m['numba']}; {m['date']}; "
        f"package at {(m.get('git') or {}).get('commit', '?')[:7]}"
        f"{' (modified)' if (m.get('git') or {}).get('package_modified') else ''}. "
        f"Medians of {result['params']['repeats']} pairs of fresh processes, each pair on an "
        f"empty NUMBA_CACHE_DIR; first fit: LinearClassifier(hinge, 1 epoch) on "
        f"{result['params']['rows']} x {N_FEATURES} float32 CSR, {NNZ_PER_ROW} nonzeros a row.",
        "",
        "| | first process (empty cache: compiles) | second process (same cache) |",
        "|---|---|---|",
    ]
    a, b = s["first_process"], s["second_process"]
    rows = [
        ("import numba, s", "numba_import_s", "{:.3f}"),
        ("import fasttext_lin (after numba), s", "fasttext_lin_import_s", "{:.3f}"),
        ("first fit, s", "first_fit_s", "{:.3f}"),
        ("  of which sgd_epoch compile / load event, s", "sgd_epoch_compile_event_s", "{:.3f}"),
        ("  of which sgd_epoch cache lookup (load or miss), s", "sgd_epoch_cache_lookup_s",
         "{:.3f}"),
        ("steady fit (median of later fits), s", "steady_fit_s", "{:.4f}"),
        ("whole process wall, s", "process_wall_s", "{:.2f}"),
        ("import compiled nothing", "import_compiled_nothing", "{}"),
        ("sgd_epoch cache hits per repeat", "sgd_epoch_cache_hits", "{}"),
    ]
    for label, key, fmt in rows:
        lines.append(f"| {label} | {fmt.format(a[key])} | {fmt.format(b[key])} |")
    first = result["pairs"][0]
    lines += ["", "Per-kernel `numba:compile` event seconds in the first fit (repeat 0; nested "
              "compiles count in their caller too):", "",
              "| kernel | first process | second process |", "|---|---|---|"]
    names = sorted(set(first["first_process"]["compile_events_first_fit"])
                   | set(first["second_process"]["compile_events_first_fit"]))
    for name in names:
        lines.append(
            f"| {name} | {first['first_process']['compile_events_first_fit'].get(name, 0):.3f} "
            f"| {first['second_process']['compile_events_first_fit'].get(name, 0):.3f} |")
    lines += ["", "Cache hits / misses and lookup seconds per dispatcher (repeat 0):", "",
              "| dispatcher | first process hits / misses | lookup s | second process hits / "
              "misses | lookup s |", "|---|---|---|---|---|"]
    for name in sorted(first["second_process"]["cache"]):
        cells = []
        for which in ("first_process", "second_process"):
            c = first[which]["cache"].get(name, {"hits": 0, "misses": 0})
            lookup = sum(a[0] for a in first[which]["cache_load_attempts_first_fit"].get(name, []))
            cells += [f"{c['hits']} / {c['misses']}", f"{lookup:.3f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.rows)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
            first = run_child(cache_dir, args.rows)
            files = sorted(str(p.relative_to(cache_dir)) for p in Path(cache_dir).rglob("*")
                           if p.is_file())
            second = run_child(cache_dir, args.rows)
        pairs.append({"first_process": first, "second_process": second, "cache_files": files})
        print(f"repeat {repeat}: first fit {first['first_fit_s']:.3f} s, second process first "
              f"fit {second['first_fit_s']:.3f} s, steady {_median(second['steady_fit_s']):.4f} s",
              flush=True)
    # Imported here, not at the top: the --child runs of this file time the package import.
    from fasttext_lin.benchmark import machine_info

    result = {
        "machine": machine_info() | {"git": git_state()},
        "params": {"repeats": args.repeats, "rows": args.rows, "steady_fits": STEADY_FITS},
        "summary": summarize(pairs),
        "pairs": pairs,
    }
    write_atomic(args.out / "coldstart.json", json.dumps(result, indent=1))
    write_atomic(args.out / "coldstart.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()

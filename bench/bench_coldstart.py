"""Cold start: import time, first-call compile, and cache load in a second process.

Usage::

    flock /tmp/fasttext_lin_bench.lock python bench/bench_coldstart.py [--repeats 3]
        [--rows 2000] [--cli-runs 5] [--data-home DIR] [--out bench/results]

Each repeat makes an empty ``NUMBA_CACHE_DIR`` and runs two fresh Python processes on
it, one after the other. Each process times ``import numba`` and ``import
fasttext_lin`` (and checks that the import compiled nothing: no ``numba:compile``
event, every dispatcher of the package without signatures), then a first
``LinearClassifier.fit`` on a small sparse float32 set (hinge, 1 epoch), then
steady fits (median). The first process compiles and writes the cache; the second
should only load it. Numba's ``numba:compile`` events give each kernel's share of
the first call (compile or cache load), and the dispatchers' ``stats`` say whether
each kernel came from the cache.

Then the command a user runs: ``fasttext-lin train a9a -o MODEL --verbose`` in fresh
processes on a warm kernel cache (a temporary ``NUMBA_CACHE_DIR`` and per-user cache,
warmed by one untimed run that compiles the kernels and writes a9a's binary copy), timed
``--cli-runs`` times from outside (process wall) with the command's own stage times. In the
same rounds, as references: ``python -c pass``, and a process that only imports numpy,
scipy.sparse, numba and sklearn.base (what LinearClassifier needs before any work); and
the same train command with ``OPENBLAS_NUM_THREADS=1`` (information: the OpenBLAS thread
pools' shutdown at process exit).

Writes ``coldstart.json`` and ``coldstart.md`` to ``--out``.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    arguments,
    child_result,
    fmt_git,
    fmt_load,
    load_average,
    machine_info,
    median,
    parse,
    run_child,
    write_bench_results,
)

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
    from fasttext_lin.cli.timings import package_dispatchers

    dispatchers = package_dispatchers()
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
    model = LinearClassifier(loss="hinge", solver="sgd", max_iter=1, tol=None,
                             random_state=0)

    load_seconds = _time_cachefmt_load(dispatchers)
    with event.install_recorder("numba:compile") as recorder:
        start = time.perf_counter()
        model.fit(X, y)
        first_fit = time.perf_counter() - start
    steady = []
    for _ in range(STEADY_FITS):
        start = time.perf_counter()
        model.fit(X, y)
        steady.append(time.perf_counter() - start)
    child_result({
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
    })


def _time_cachefmt_load(dispatchers):
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


def fresh_process(cache_dir, rows):
    """:func:`child` in a fresh process on the kernel cache ``cache_dir``; its record and
    the process's wall time."""
    start = time.perf_counter()
    record = run_child(__file__, {"rows": rows}, dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir)))
    return record | {"process_wall_s": time.perf_counter() - start}


# The command timed, its references, and the environment each runs with (beside the caches).
CLI_CASES = {
    "train_a9a": ("cli", {}),
    "train_a9a_openblas_1_thread": ("cli", {"OPENBLAS_NUM_THREADS": "1"}),
    "train_a9a_without_pandas": ("cli", {}),
    "python_pass": ("python", {}),
    "import_floor": ("python", {}),
}
_PYTHON_CODE = {"python_pass": "pass",
                "import_floor": "import numpy, scipy.sparse, numba, sklearn.base"}


_NO_PANDAS = """import sys


class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError("No module named 'pandas'", name=name)


sys.meta_path.insert(0, NoPandas())
"""


def _cli_command(case, model):
    argv = ["train", "a9a", "-o", str(model), "--verbose"]
    if case == "train_a9a_without_pandas":
        # As on an install of the runtime dependencies only (pandas is a test extra):
        # scikit-learn imports pandas only if it can.
        return [sys.executable, "-c", _NO_PANDAS + "from fasttext_lin.cli import main\n"
                f"sys.exit(main({argv!r}))"]
    script = Path(sys.executable).with_name("fasttext-lin")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fasttext_lin.cli"]
    return command + argv


def _run_case(case, env, model):
    kind, extra = CLI_CASES[case]
    command = (_cli_command(case, model) if kind == "cli"
               else [sys.executable, "-c", _PYTHON_CODE[case]])
    start = time.perf_counter()
    done = subprocess.run(command, env=dict(env, **extra), capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return {"wall_s": wall, "stages": _stages(done.stderr), "kernels": _kernels_line(done.stderr)}


def _stages(stderr):
    """``{stage: seconds}`` from the ``time: <stage>: <seconds> s`` lines of --verbose."""
    stages = {}
    for line in stderr.splitlines():
        if line.startswith("time: "):
            _, stage, rest = line.split(": ", 2)
            stages[stage] = float(rest.split(" s")[0])
    return stages


def _kernels_line(stderr):
    return next((line for line in stderr.splitlines() if line.startswith("time: kernels")),
                None)


def cli_rounds(runs):
    """Warm the caches with one run, then ``runs`` rounds of every case, interleaved."""
    with tempfile.TemporaryDirectory(prefix="coldstart-cli-") as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba"),
                   XDG_CACHE_HOME=str(Path(tmp) / "user-cache"))
        model = Path(tmp) / "a9a.npz"
        warm_up = _run_case("train_a9a", env, model)
        rounds = []
        for i in range(runs):
            rounds.append({case: _run_case(case, env, model) for case in CLI_CASES})
            print(f"cli round {i}: train a9a {rounds[-1]['train_a9a']['wall_s']:.2f} s wall",
                  flush=True)
    return {"warm_up": warm_up, "rounds": rounds}


def summarize_cli(cli):
    rounds = cli["rounds"]
    out = {case: {"wall_s": median([r[case]["wall_s"] for r in rounds]),
                  "wall_all_s": [r[case]["wall_s"] for r in rounds]} for case in CLI_CASES}
    for case, (kind, _) in CLI_CASES.items():
        if kind == "cli":
            stages = rounds[0][case]["stages"]
            out[case]["stages_s"] = {stage: median([r[case]["stages"][stage] for r in rounds])
                                     for stage in stages}
            out[case]["exit_s"] = median([r[case]["wall_s"] - r[case]["stages"]["total"]
                                           for r in rounds])
    return out


def summarize(pairs):
    def row(key, which):
        return median([p[which][key] for p in pairs])

    out = {}
    for which in ("first_process", "second_process"):
        out[which] = {
            "numba_import_s": row("numba_import_s", which),
            "fasttext_lin_import_s": row("fasttext_lin_import_s", which),
            "first_fit_s": row("first_fit_s", which),
            "steady_fit_s": median([median(p[which]["steady_fit_s"]) for p in pairs]),
            "process_wall_s": row("process_wall_s", which),
            "sgd_epoch_compile_event_s": median(
                [p[which]["compile_events_first_fit"].get("sgd_epoch", 0.0) for p in pairs]),
            "sgd_epoch_cache_lookup_s": median([sum(
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
        f"package at {fmt_git(m.get('git'), 7)}. "
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
        ("import fasttext_lin, LinearClassifier (after numba), s", "fasttext_lin_import_s",
         "{:.3f}"),
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
    if "cli" in result:
        lines += cli_markdown(result)
    return "\n".join(lines) + "\n"


def cli_markdown(result):
    s, cli = result["cli_summary"], result["cli"]
    train = s["train_a9a"]
    lines = ["", "## `fasttext-lin train a9a -o MODEL --verbose`, warm kernel cache", "",
             f"Fresh processes; medians of {len(cli['rounds'])} rounds, each round running every "
             "row once, in this order. Load average (1, 5, 15 min) before these rounds "
             f"{fmt_load(result['machine']['load_before_cli'])}, after them "
             f"{fmt_load(result['machine']['load_average'])} (2 cores, shared). "
             "Bar: under 1.5 s wall.", "",
             "| process | wall, s (median) | runs, s |", "|---|---|---|"]
    labels = {"train_a9a": "`fasttext-lin train a9a -o m.npz --verbose`",
              "train_a9a_openblas_1_thread": "the same, OPENBLAS_NUM_THREADS=1 (information)",
              "train_a9a_without_pandas": "the same, pandas not importable (information)",
              "python_pass": "`python -c pass`",
              "import_floor": "`python -c 'import numpy, scipy.sparse, numba, sklearn.base'`"}
    for case, label in labels.items():
        runs = ", ".join(f"{w:.2f}" for w in s[case]["wall_all_s"])
        lines.append(f"| {label} | {s[case]['wall_s']:.2f} | {runs} |")
    variants = ["train_a9a", "train_a9a_openblas_1_thread", "train_a9a_without_pandas"]
    lines += ["", "Stages of the train command (its --verbose lines, medians; 'import' counts "
              "from the process start, 'total' is the process age when the command is done; "
              "'process exit' is the wall time after it, interpreter shutdown):", "",
              "| stage | s | OPENBLAS_NUM_THREADS=1, s | without pandas, s |",
              "|---|---|---|---|"]
    for stage in list(train["stages_s"]) + ["exit"]:
        cells = [s[v]["exit_s"] if stage == "exit" else s[v]["stages_s"][stage]
                 for v in variants]
        lines.append(f"| {'process exit' if stage == 'exit' else stage} | "
                     + " | ".join(f"{c:.3f}" for c in cells) + " |")
    lines += ["", f"Kernels line of the last round: `{cli['rounds'][-1]['train_a9a']['kernels']}`"
              f"; of the warm-up run (compiles): `{cli['warm_up']['kernels']}`."]
    return lines


def main(argv=None):
    parser = arguments(__doc__, stem="coldstart", repeats=3, data=True, child=True)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--cli-runs", type=int, default=5,
                        help="rounds of the fasttext-lin train a9a timing (0: skip it)")
    args = parse(parser, argv)
    if args.child:
        child(json.loads(args.child)["rows"])
        return
    pairs = []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
            first = fresh_process(cache_dir, args.rows)
            files = sorted(str(p.relative_to(cache_dir)) for p in Path(cache_dir).rglob("*")
                           if p.is_file())
            second = fresh_process(cache_dir, args.rows)
        pairs.append({"first_process": first, "second_process": second, "cache_files": files})
        print(f"repeat {repeat}: first fit {first['first_fit_s']:.3f} s, second process first "
              f"fit {second['first_fit_s']:.3f} s, steady {median(second['steady_fit_s']):.4f} s",
              flush=True)
    load_before_cli = load_average()
    cli = cli_rounds(args.cli_runs) if args.cli_runs else None
    result = {
        "machine": machine_info(load_before_cli=load_before_cli),
        "params": {"repeats": args.repeats, "rows": args.rows, "steady_fits": STEADY_FITS,
                   "cli_runs": args.cli_runs},
        "summary": summarize(pairs),
        "pairs": pairs,
    }
    if cli:
        result |= {"cli": cli, "cli_summary": summarize_cli(cli)}
    write_bench_results(args.out, "coldstart", result, markdown)
    print(markdown(result))


if __name__ == "__main__":
    main()

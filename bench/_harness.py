"""What every bench script shares: arguments, machine and versions, memory probes, medians,
child processes, and results written atomically as JSON, a Markdown table and a PNG.

A script keeps only its question (its data, its configurations, its table); it imports
shared pieces from here, never from another script. Nothing heavy is imported at module
level: ``bench_coldstart.py`` imports this module in the child processes whose import times
it measures.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


# -- arguments --------------------------------------------------------------------------------

def arguments(doc, *, stem=None, out=RESULTS, repeats=None, quick=None, report_only=False,
              data=False, child=False):
    """An argument parser with the options the scripts share; a script adds its own.

    Parameters
    ----------
    doc : str
        The script's docstring; its first line describes the command.
    stem : str, optional
        Name of the results files (``<stem>.json``, ``.md``, ``.png``), for the help texts.
    out : pathlib.Path or None, default=RESULTS
        Default of ``--out``; None: a new temporary folder with ``--quick``, else
        :data:`RESULTS` (see :func:`parse`).
    repeats : int, optional
        Default of ``--repeats`` (timed runs, at least 1); None: no such option.
    quick : str, optional
        Help of ``--quick`` (a smoke run); None: no such option.
    report_only : bool, default=False
        Add ``--report-only``: rewrite the report (and plot) from ``--out``'s JSON.
    data : bool, default=False
        Add ``--data-home DIR``: the folder of the named data sets (exported to this process
        and its children as ``FASTTEXT_LIN_DATA``).
    child : bool, default=False
        Add the hidden ``--child SPEC`` (JSON) that :func:`run_child` passes.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    files = f" for {stem}.json, .md, .png" if stem else ""
    where = "default: bench/results; with --quick a new temporary folder" if out is None else (
        f"default: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    parser.add_argument("--out", type=Path, default=out, help=f"results folder{files} ({where})")
    if repeats is not None:
        parser.add_argument("--repeats", type=int, default=repeats,
                            help=f"timed runs, median reported (>= 1; default {repeats})")
    if quick is not None:
        parser.add_argument("--quick", action="store_true", help=quick)
    if report_only:
        parser.add_argument("--report-only", action="store_true",
                            help="rewrite the report from --out's JSON, running nothing")
    if data:
        parser.add_argument("--data-home", type=Path,
                            help="folder of the named data sets (default: $FASTTEXT_LIN_DATA, "
                                 "then the per-user cache)")
    if child:
        parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser


def parse(parser, argv=None):
    """``parser.parse_args(argv)``, with ``--repeats`` checked, ``--out`` resolved and
    ``--data-home`` exported."""
    args = parser.parse_args(argv)
    if getattr(args, "repeats", 1) < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    if getattr(args, "data_home", None):
        os.environ["FASTTEXT_LIN_DATA"] = str(args.data_home)
    if args.out is None:
        quick = getattr(args, "quick", False) and not getattr(args, "report_only", False)
        name = Path(parser.prog).stem
        args.out = Path(tempfile.mkdtemp(prefix=f"{name}_quick_")) if quick else RESULTS
    return args


# -- machine, versions, load ------------------------------------------------------------------

def machine_info(**extra):
    """CPU, cores, versions, date, load average and thread variables (the library's
    :func:`fasttext_lin.cli.bench_protocol.machine_info`), and the checkout's git state.

    ``extra`` entries are added as given.
    """
    from fasttext_lin.cli.bench_protocol import machine_info as library_machine_info

    return library_machine_info() | {"git": git_state()} | extra


def load_average():
    """1, 5 and 15-minute load averages, or None where the OS does not tell."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def fmt_load(load):
    """``1.2/0.9/0.8``, or ``?`` when unknown."""
    return "?" if not load else "/".join(f"{x:.1f}" for x in load)


def git_state():
    """Return the checkout's commit and whether ``fasttext_lin/`` differs from it, or None."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "fasttext_lin"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "package_modified": bool(dirty)}


def fmt_git(state, digits=10):
    """``abc1234567 (package modified)``, or ``?`` when unknown."""
    state = state or {}
    return (state.get("commit") or "?")[:digits] + (
        " (package modified)" if state.get("package_modified") else "")


def package_version(distribution):
    """The installed version of ``distribution``, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def installed(module):
    """Whether ``module`` (an optional peer) can be imported here."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def one_blas_thread():
    """A context in which BLAS and OpenMP pools use one thread (threaded OpenBLAS calls on
    small vectors stall for milliseconds when the cores are shared)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


# -- memory (Linux /proc) ---------------------------------------------------------------------

def status_kib(field):
    """``VmRSS`` (current) or ``VmHWM`` (peak) of this process, in KiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    """Reset the peak RSS to the current RSS; return whether the kernel allowed it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def reset_peak_rss():
    """Make the high-water mark the current RSS, or raise OSError if the kernel refuses."""
    if not reset_peak():
        raise OSError("cannot reset the peak RSS: /proc/self/clear_refs is not writable")


def rss_bytes():
    """The process's resident set size, in bytes."""
    return status_kib("VmRSS") * 1024


def peak_rss_bytes():
    """The process's RSS high-water mark (``VmHWM``), which :func:`reset_peak` resets.

    Not ``resource.getrusage``'s ``ru_maxrss``: it also keeps the mark of threads that have
    exited (``signal->maxrss``), which ``clear_refs`` leaves, and a child started through
    ``vfork`` inherits its parent's.
    """
    return status_kib("VmHWM") * 1024


# -- times ------------------------------------------------------------------------------------

def median(values):
    """The median of ``values`` (no numpy: the cold-start children time their imports)."""
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def spread(values):
    """``{"median", "min", "max", "n"}`` of ``values``, as floats."""
    values = [float(v) for v in values]
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}


def time_calls(call, repeats):
    """Call ``call()`` ``repeats`` times; return the seconds of each call and the last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - start)
    return seconds, result


# -- child processes --------------------------------------------------------------------------

def run_child(script, spec, env=None):
    """Run ``python script --child JSON(spec)`` in a fresh process; return its JSON record.

    The child prints the record as the last line of its standard output
    (:func:`child_result`); a failure raises RuntimeError with the end of its stderr.
    """
    proc = subprocess.run([sys.executable, str(script), "--child", json.dumps(spec)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {spec} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_result(record):
    """Print a child's ``record`` for :func:`run_child`."""
    print(json.dumps(record), flush=True)


# -- results ----------------------------------------------------------------------------------

def atomic_file(path, what="benchmark result"):
    """A binary file that replaces ``path`` only once it is whole (the package's writer)."""
    from fasttext_lin._io import atomic_writer

    return atomic_writer(path, what=what)


def write_text(path, text):
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(path) as f:
        f.write(text.encode("utf-8"))


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure, path):
    """Save a matplotlib ``figure`` as PNG at ``path`` atomically, then close it."""
    with atomic_file(path, what="benchmark plot") as f:
        figure.savefig(f, format="png", dpi=110)
    pyplot().close(figure)


def read_results(out, stem):
    """The result dictionary of ``out/<stem>.json``."""
    return json.loads((Path(out) / f"{stem}.json").read_text())


def write_bench_results(out, stem, result, report, plot=None, *, data=True):
    """``<stem>.json`` (when ``data``), ``<stem>.md`` (``report(result)``) and, with ``plot``,
    ``<stem>.png`` (``plot(result, path)``) in folder ``out``, each written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if data:
        write_text(out / f"{stem}.json", json.dumps(result, indent=1) + "\n")
    write_text(out / f"{stem}.md", report(result))
    if plot is not None:
        plot(result, out / f"{stem}.png")


def finish(args, stem, run, report, plot=None):
    """The end of a script's ``main``: run (or, with ``--report-only``, read) the result,
    write it to ``args.out``, print the report; return the exit code.

    ``run()`` returns the result dictionary; a FileNotFoundError (a data set missing) prints
    one line and returns 1.
    """
    report_only = getattr(args, "report_only", False)
    if report_only:
        result = read_results(args.out, stem)
    else:
        try:
            result = run()
        except FileNotFoundError as exc:
            print(f"bench_{stem}: {exc} (set FASTTEXT_LIN_DATA)", file=sys.stderr)
            return 1
    write_bench_results(args.out, stem, result, report, plot, data=not report_only)
    print(report(result))
    if not report_only:
        print(f"results written to {args.out}")
    return 0

"""Helpers shared by the bench scripts: the checkout's git state and atomic writes.

Kept free of numpy and the package: ``bench_coldstart.py`` imports it in the child
processes whose import times it measures.
"""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def write_atomic(path, text):
    """Write ``text`` to ``path`` through a temporary file renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_png_atomic(figure, path):
    """Save a matplotlib ``figure`` as PNG at ``path`` through a temporary file."""
    tmp = path.with_name(path.name + ".tmp")
    figure.savefig(tmp, format="png", dpi=110)
    os.replace(tmp, path)


def write_bench_results(out, stem, result, report, plot):
    """``<stem>.json``, ``<stem>.md`` (``report(result)``) and ``<stem>.png``
    (``plot(result, path)``) in folder ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / f"{stem}.json", json.dumps(result, indent=1) + "\n")
    write_atomic(out / f"{stem}.md", report(result))
    plot(result, out / f"{stem}.png")


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

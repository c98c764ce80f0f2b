"""The LIBSVM protocol's results as Markdown tables, a plot, and files (``libsvm.json``,
``libsvm.md``, ``libsvm.png``)."""

import json
from pathlib import Path

import numpy as np

from .._io import atomic_writer
from .bench_protocol import GAP_TARGET, LINEARSVC, MODELS, c_key, our_name

__all__ = ["format_table", "plot_results", "write_results"]


def format_table(results):
    """Markdown tables of the results: accuracy and time per model, objective gaps per loss.

    Parameters
    ----------
    results : dict
        As :func:`fasttext_lin.cli.bench_protocol.run_libsvm_benchmark` returns it.

    Returns
    -------
    str
    """
    lines = ["# LIBSVM reference protocol: LinearClassifier against liblinear", ""]
    lines += _machine_lines(results)
    for name, result in results["sets"].items():
        lines += [f"## {name}", ""]
        if "skipped" in result:
            lines += [f"Skipped: {result['skipped']}", ""]
            continue
        lines += [f"{result['n_train']} training rows, {result['n_test']} test rows, "
                  f"{result['n_features']} features.{_load_text(result)}", ""]
        lines += _model_table(result["models"])
        if result.get("objective"):
            lines += _objective_table(result["objective"])
        lines += _check_lines(result)
    return "\n".join(lines)


def _check_lines(result):
    """The issue's bars, per set: accuracy near LinearSVC's, gap at C*, speed."""
    models = result["models"]
    svc = models[LINEARSVC]["test_accuracy"]
    lines = []
    for loss in ("hinge", "log_loss"):
        diff = 100 * (models[our_name(loss)]["test_accuracy"] - svc)
        verdict = ("within 0.3" if abs(diff) <= 0.3 else
                   "more than 0.3 above" if diff > 0 else "more than 0.3 below")
        lines.append(f"- {loss}: test accuracy {diff:+.2f} points from LinearSVC's ({verdict})")
    for loss, cases in (result.get("objective") or {}).items():
        case = next(case for case in cases if case["is_C_star"])
        reached = case["epochs_to_target"]
        lines.append(f"- {loss} at C*={case['C']:g}: gap {_gap(case['best_gap'])}, "
                     + (f"<= {GAP_TARGET:g} after {reached} epochs"
                        f" ({case['time_to_target_s']:.3f} s)" if reached
                        else f"> {GAP_TARGET:g} after {case['runs'][-1]['epochs']} epochs"))
    for model in MODELS[2:]:
        lines.append(f"- {model}: fit at C* {models[model]['time_ratio_vs_linearsvc']:.2f} x "
                     "LinearSVC's time")
    return ["Checks:", ""] + lines + [""]


def _load_text(result):
    loads = result.get("load_average_during_timing")
    if not loads or None in loads:
        return ""
    return (f" Load average (1 min) while timing: {loads[0][0]:.2f} before, "
            f"{loads[1][0]:.2f} after.")


def _machine_lines(results):
    m = results["machine"]
    lines = [f"{m['date']}; {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy "
             f"{m['numpy']}, scipy {m['scipy']}, scikit-learn {m['scikit-learn']}, numba "
             f"{m['numba']}. Fit times: medians of {results['protocol']['repeats']} fits after "
             "a warm-up, all models in turn; the ratio is to LinearSVC's median at its C* "
             "(< 1: faster).", ""]
    jit = results.get("jit")
    if jit:
        lines += [f"Numba: compile {jit['compile_s']:.2f} s in a fresh process with an empty "
                  f"cache, {jit['cache_load_s']:.2f} s to load the cache in the next process; "
                  f"`import fasttext_lin` {jit['import_fasttext_lin_s']:.2f} s "
                  f"({jit['import_fasttext_lin_first_s']:.2f} s the first time).", ""]
    settings = results["protocol"]["our_settings"]
    epochs = ", ".join(f"{loss} {s['max_iter']}" for loss, s in settings.items())
    lines += [f"LinearClassifier: learning_rate='optimal', tol=None, max_iter ({epochs}), "
              "weights averaged over the last half of the steps, random_state=0.", ""]
    return lines


def _model_table(models):
    svc = models[LINEARSVC]["test_accuracy"]
    lines = ["| model | C* | CV accuracy at C* | test accuracy | vs LinearSVC (points) "
             "| fit at C* (s) | time / LinearSVC | iterations |",
             "|---|---|---|---|---|---|---|---|"]
    for model, r in models.items():
        cv = r["cv_accuracy"][c_key(r["C_star"])]
        lines.append(
            f"| {model} | {r['C_star']:g} | {100 * cv:.2f}% | {100 * r['test_accuracy']:.2f}% "
            f"| {100 * (r['test_accuracy'] - svc):+.2f} | {r['fit_time_median_s']:.4f} "
            f"| {r['time_ratio_vs_linearsvc']:.2f} | {r['n_iter']} |")
    return lines + [""]


def _objective_table(study):
    lines = ["Primal objective against liblinear (bias column, no intercept): relative gap "
             "`(P_ours - P_lib) / P_lib`.", "",
             "| loss | C | liblinear peer | gap, protocol epochs | epochs to gap <= 1e-3 "
             "| that fit (s, one run) | best gap (epochs) | gap, defaults + average=True |",
             "|---|---|---|---|---|---|---|---|"]
    for loss, cases in study.items():
        for case in cases:
            star = ((" (C*)" if case["is_C_star"] else "")
                    + (" (peer's C*)" if case["is_peer_C_star"] else ""))
            best = min(case["runs"], key=lambda run: run["gap"])
            reached = case["epochs_to_target"]
            protocol = case["protocol_gap"]
            default = case["default_settings"]
            lines.append(
                f"| {loss} | {case['C']:g}{star} | {case['liblinear']['model']} "
                f"| {_gap(protocol)} | {reached if reached else 'not reached'} "
                f"| {_seconds(case['time_to_target_s'])} | {_gap(best['gap'])} "
                f"({best['epochs']}) | {_gap(default['gap'])} ({default['epochs']} epochs) |")
    return lines + [""]


def _gap(value):
    return "n/a" if value is None else f"{value:.1e}"


def _seconds(value):
    return "n/a" if value is None else f"{value:.3f}"


def plot_results(results, path):
    """Test accuracy against fit time (log x), one point per model, one panel per set, as PNG
    to ``path`` (a path or a binary file).

    Raises
    ------
    ImportError
        If matplotlib (the ``bench`` extra) is not installed.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting the benchmark needs matplotlib: pip install "
                          "'fasttext_lin[bench]' (or pip install matplotlib)") from exc
    sets = {name: r for name, r in results["sets"].items() if "models" in r}
    fig = Figure(figsize=(5.5 * max(1, len(sets)), 4.5), layout="constrained")
    axes = fig.subplots(1, max(1, len(sets)), squeeze=False)[0]
    for ax, (name, result) in zip(axes, sets.items()):
        for model, r in result["models"].items():
            ax.scatter(r["fit_time_median_s"], 100 * r["test_accuracy"],
                       label=f"{model}, C*={r['C_star']:g}",
                       marker="s" if "LinearClassifier" not in model else "o")
        ax.set_xscale("log")
        ax.set_title(f"{name} (C* per model by 3-fold CV)")
        ax.set_xlabel("fit time at C*, median (s)")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.savefig(path, format="png", dpi=110)


def write_results(results, out_dir):
    """Write ``libsvm.json``, ``libsvm.md`` and ``libsvm.png`` to ``out_dir``, each atomically.

    Each file is written to a temporary file in ``out_dir`` and renamed over the target
    (:func:`fasttext_lin._io.atomic_writer`), so a reader never sees a half-written file. The
    JSON and Markdown are written before the plot, which needs matplotlib.

    Returns
    -------
    list of pathlib.Path
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "libsvm.json", out_dir / "libsvm.md", out_dir / "libsvm.png"]
    text = json.dumps(results, indent=1, default=_json_default) + "\n"
    with atomic_writer(paths[0], what="results file") as out:
        out.write(text.encode())
    with atomic_writer(paths[1], what="results file") as out:
        out.write((format_table(results) + "\n").encode())
    with atomic_writer(paths[2], what="results file") as out:
        plot_results(results, out)
    return paths


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

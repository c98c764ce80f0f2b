"""Scaling: time per epoch and peak memory against nonzeros, and time-to-accuracy curves.

Usage::

    FASTTEXT_LIN_DATA=/work/shared/data flock /tmp/fasttext_lin_bench.lock \\
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_scaling.py \\
        [--sizes 10000 100000 1000000 10000000] [--repeats 3] [--budget 60] [--quick] \\
        [--out bench/results]

(the two OpenBLAS variables slow numpy on this machine: unset for this command only.)

1. Scaling, on ``bench/synthetic.py`` sets of ``--sizes`` rows with ``NNZ_PER_ROW`` nonzeros a
   row (2^20 features, float32, cached under ``bench/.cache``; the 10M set is 2 GB there), the
   last 10% held out for test. Every fit runs in a fresh subprocess that imports and warms up
   its library on 4096 rows (enough for a 2-thread Hogwild epoch), loads the set, resets its
   peak RSS (``/proc/self/clear_refs``) and records the high-water mark minus the RSS after
   loading (``VmHWM``, not ``getrusage``: see ``peak_rss_bytes``), the memory the fit adds to
   the loaded data. Configurations, interleaved
   in each repeat: ours (``LinearClassifier``; 1 thread, 2 threads hogwild and deterministic,
   when the estimator has the ``parallel`` parameter), ``SGDClassifier`` (same loss, epochs,
   alpha, ``tol=None``), ``LinearSVC`` (C=1; not epoch-based: its ns/nnz is per fit), Vowpal
   Wabbit (Python package, ``--loss_function logistic --passes E``, reading a text file written
   from the same rows, untimed; its time includes parsing it into its cache) and fastText
   (``epoch=E``, 1 and 2 threads, a text file of the rows' feature ids; it reads the file every
   epoch). A configuration whose predicted time (its seconds at the previous size scaled by
   nonzeros) exceeds ``--budget`` gets fewer repeats or is skipped, with the prediction
   recorded; file peers are skipped above ``--max-file-rows``.
2. The issue's bars on the 1M-row, 100-a-row set of ``bench_epoch.py`` (same protocol, hinge
   and log_loss): 2-thread speed-up, ratio to SGDClassifier, accuracy, deterministic weights
   identical on 1 and 2 threads (sha1 of ``coef_`` and ``intercept_``).
3. Time-to-accuracy on a9a (ours at the C* of ``bench/results/libsvm.json``, LinearSVC at its
   C*=0.1 with a tol ladder, the default tol being the target) and 20 Newsgroups (TfidfVectorizer
   unigrams, fitted once, untimed; C=1; fastText on the raw texts, lr=1.0): wall time of fits
   with increasing epochs or passes.

Writes ``scaling.json``, ``scaling.md``, ``scaling.png`` (ns/nnz and memory against nonzeros)
and ``scaling_tta.png`` (accuracy against time) to ``--out``.
"""

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic  # noqa: E402
from _harness import (  # noqa: E402
    arguments,
    child_result,
    finish,
    fmt_load,
    installed,
    load_average,
    median,
    package_version,
    parse,
    peak_rss_bytes,
    pyplot,
    reset_peak_rss,
    rss_bytes,
    run_child,
    save_png,
    spread,
    time_calls,
)
from _harness import machine_info as base_machine_info  # noqa: E402
from _peers import (  # noqa: E402
    fasttext_fit,
    fasttext_labels,
    fasttext_line,
    fasttext_rows,
    vw_fit,
    vw_predict,
    write_fasttext,
    write_vw,
)
from synthetic import load_or_make, split  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
NNZ_PER_ROW = 25
BAR_SET = {"rows": 1_000_000, "nnz_per_row": 100}
EPOCHS = 5
ALPHA = 1e-6
SCALING_LOSS = "log_loss"
BAR_LOSSES = ("hinge", "log_loss")
# The warm-up fit's rows: at least 2 * MIN_THREAD_ROWS (2048), so that a 2-thread Hogwild
# warm-up runs (compiles or loads) the segment kernel before the timed fit, not in it.
WARMUP_ROWS = 4096
FILE_PEERS = ("vw", "fasttext")
# fastText's supervised tutorial's learning rate (bench_text.py): its default, 0.1, was at
# 12% accuracy after 5 epochs on 20 Newsgroups (55% after 20).
FASTTEXT_20NEWS = {"lr": 1.0}

# name: (peer, threads, extra parameters)
CONFIGS = {
    "ours, 1 thread": ("ours", 1, {}),
    "ours, 2 threads, hogwild": ("ours", 2, {"parallel": "hogwild"}),
    "ours, 1 thread, deterministic": ("ours", 1, {"parallel": "deterministic"}),
    "ours, 2 threads, deterministic": ("ours", 2, {"parallel": "deterministic"}),
    "SGDClassifier": ("sgd", 1, {}),
    "LinearSVC": ("linearsvc", 1, {}),
    "VW": ("vw", 1, {}),
    "fastText, 1 thread": ("fasttext", 1, {}),
    "fastText, 2 threads": ("fasttext", 2, {}),
}
BAR_CONFIGS = ("ours, 1 thread", "ours, 2 threads, hogwild", "ours, 1 thread, deterministic",
               "ours, 2 threads, deterministic", "SGDClassifier")


# -- data and text files --------------------------------------------------------------------

def set_kwargs(spec):
    """``load_or_make`` keywords of a set (none for 100 a row: the cache key of bench_epoch)."""
    return {} if spec["nnz_per_row"] == 100 else {"nnz_per_row": spec["nnz_per_row"]}


def load_split(spec):
    """Train / test split of a synthetic set, as in ``bench_epoch.split``."""
    X, y = load_or_make(spec["rows"], **set_kwargs(spec))
    return split(X, y)


def text_files(spec, folder):
    """Write the set's train/test files for the file peers; return paths and seconds."""
    X_train, y_train, X_test, y_test = load_split(spec)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths = {"vw_train": folder / "train.vw", "vw_test": folder / "test.vw",
             "ft_train": folder / "train.txt", "ft_test": folder / "test.txt"}
    write_vw(paths["vw_train"], X_train, y_train)
    write_vw(paths["vw_test"], X_test, y_test)
    write_fasttext(paths["ft_train"], fasttext_rows(X_train), y_train)
    paths["ft_test"].write_text("\n".join(fasttext_rows(X_test)) + "\n")
    return {k: str(v) for k, v in paths.items()}, time.perf_counter() - start


# -- peers ----------------------------------------------------------------------------------

def has_parallel():
    """Whether ``LinearClassifier`` takes the one-model multi-thread ``parallel`` parameter."""
    from fasttext_lin import LinearClassifier

    return "parallel" in LinearClassifier().get_params()


def estimator(peer, loss, epochs, threads, params):
    """The in-memory peer, as this benchmark runs it."""
    if peer == "ours":
        from fasttext_lin import LinearClassifier

        return LinearClassifier(loss=loss, solver="sgd", alpha=ALPHA, max_iter=epochs,
                                tol=None, random_state=0, n_jobs=threads, **params)
    if peer == "sgd":
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(loss=loss, alpha=ALPHA, max_iter=epochs, tol=None, random_state=0)
    from sklearn.svm import LinearSVC

    return LinearSVC(C=1.0, random_state=0)


def digest(model):
    """sha1 of the model's ``coef_`` and ``intercept_`` bytes."""
    h = hashlib.sha1(np.ascontiguousarray(model.coef_).tobytes())
    h.update(np.ascontiguousarray(model.intercept_).tobytes())
    return h.hexdigest()


# -- one measured fit (in a fresh process) --------------------------------------------------

def measure(job):
    """Fit one configuration on one set; return seconds, accuracy, memory (bytes)."""
    peer, threads, params = CONFIGS[job["config"]]
    loss, epochs = job["loss"], job["epochs"]
    if peer in FILE_PEERS:
        return measure_file_peer(job, peer, threads, epochs)
    X_train, y_train, X_test, y_test = load_split(job["set"])
    warm = slice(0, min(WARMUP_ROWS, X_train.shape[0]))
    estimator(peer, loss, 1, threads, params).fit(X_train[warm], y_train[warm])
    data_bytes = sum(a.nbytes for a in (X_train.data, X_train.indices, X_train.indptr))
    reset_peak_rss()
    baseline = rss_bytes()
    model = estimator(peer, loss, epochs, threads, params)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "extra_peak_bytes": peak_rss_bytes() - baseline,
            "csr_bytes": data_bytes, "weight_bytes": int(np.asarray(model.coef_).nbytes),
            "test_accuracy": float(model.score(X_test, y_test)), "digest": digest(model),
            "nnz": int(X_train.nnz)}


def measure_file_peer(job, peer, threads, epochs):
    files = job["files"]
    reset_peak_rss()
    baseline = rss_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        if peer == "vw":
            model = vw_fit(files["vw_train"], epochs, tmp, ["--loss_function", "logistic",
                                                            "-b", "20"])
        else:
            model = fasttext_fit(files["ft_train"], threads, epoch=epochs)
        seconds = time.perf_counter() - start
        extra = peak_rss_bytes() - baseline
        y_test = np.array([float(line.split(" ", 1)[0]) for line in open(files["vw_test"])])
        if peer == "vw":
            pred = np.where(vw_predict(model, files["vw_test"], tmp) > 0, 1.0, -1.0)
        else:
            pred = fasttext_labels(model, Path(files["ft_test"]).read_text().splitlines())
    return {"seconds": seconds, "extra_peak_bytes": extra,
            "test_accuracy": float(np.mean(pred == y_test)), "nnz": job["nnz"]}


def run_job(job):
    """``measure(job)`` in a fresh Python process (its memory apart from this one's)."""
    return run_child(__file__, job)


# -- the scaling and bar runs ---------------------------------------------------------------

def plan(config, previous, nnz, repeats, budget):
    """Repeats for ``config`` at ``nnz`` nonzeros, from its seconds at the previous size.

    Returns ``(repeats, reason)``: 0 repeats and a reason when one predicted fit exceeds
    ``budget`` seconds; fewer repeats when all of them would.
    """
    if config not in previous:
        return repeats, None
    seconds, prev_nnz = previous[config]
    predicted = seconds * nnz / prev_nnz
    if predicted > budget:
        return 0, (f"skipped: predicted {predicted:.0f} s a fit ({seconds:.1f} s at "
                   f"{prev_nnz:.3g} nnz, scaled by nonzeros) > budget {budget:g} s")
    n = int(min(repeats, max(1, budget // predicted)))
    return n, (f"{n} repeat(s): predicted {predicted:.0f} s a fit" if n < repeats else None)


def available(configs):
    """Configurations that can run here, and the reason of each one that cannot."""
    missing = {}
    parallel = has_parallel()
    for name in configs:
        peer, _, params = CONFIGS[name]
        module = {"vw": "vowpalwabbit", "fasttext": "fasttext"}.get(peer)
        if module and not installed(module):
            missing[name] = f"skipped: package {module!r} is not installed"
        elif "parallel" in params and not parallel:
            missing[name] = "skipped: LinearClassifier has no 'parallel' parameter at this commit"
    return [c for c in configs if c not in missing], missing


def run_set(spec, configs, loss, epochs, repeats, budget, previous, files, progress):
    """Run every configuration ``repeats`` times, interleaved; return records by config."""
    runnable, skipped = available(configs)
    nnz = spec["rows"] * spec["nnz_per_row"] * 0.9
    counts = {}
    for name in runnable:
        counts[name], reason = plan(name, previous, nnz, repeats, budget)
        if files is None and CONFIGS[name][0] in FILE_PEERS:
            counts[name], reason = 0, ("skipped: above --max-file-rows (writing the text "
                                       "files is not timed but costs the run's budget)")
        if reason:
            skipped[name] = reason
    records = {name: {"runs": [], "note": skipped.get(name)} for name in configs}
    for repeat in range(repeats):
        for name in runnable:
            if repeat >= counts[name]:
                continue
            job = {"config": name, "set": spec, "loss": loss, "epochs": epochs,
                   "files": files, "nnz": int(nnz)}
            out = run_job(job)
            records[name]["runs"].append(out)
            progress(f"  {spec['rows']} rows, {name}: {out['seconds']:.2f} s, "
                     f"acc {out['test_accuracy']:.4f}, +{out['extra_peak_bytes'] / 2**20:.0f} MiB")
    for name, rec in records.items():
        rec.update(summarize(rec["runs"], epochs))
    return records


def summarize(runs, epochs):
    """Medians over the runs (ns per nonzero per epoch, seconds, memory, accuracy)."""
    if not runs:
        return {}
    ns = [1e9 * r["seconds"] / (epochs * r["nnz"]) for r in runs]
    out = {"ns_per_nnz": spread(ns), "seconds": spread([r["seconds"] for r in runs]),
           "extra_peak_bytes": float(median([r["extra_peak_bytes"] for r in runs])),
           "test_accuracy": float(median([r["test_accuracy"] for r in runs]))}
    if "csr_bytes" in runs[0]:
        base = runs[0]["csr_bytes"] + runs[0]["weight_bytes"]
        out["memory_ratio"] = (runs[0]["csr_bytes"] + out["extra_peak_bytes"]) / base
        out["digests"] = sorted({r["digest"] for r in runs})
    return out


def scaling(sizes, repeats, budget, max_file_rows, epochs, progress):
    """The scaling study over ``sizes``; return one entry per size."""
    results, previous = [], {}
    for rows in sizes:
        spec = {"rows": rows, "nnz_per_row": NNZ_PER_ROW}
        start = time.perf_counter()
        X, _ = load_or_make(rows, **set_kwargs(spec))
        entry = {"set": spec, "nnz": int(X.nnz), "load_or_make_s": time.perf_counter() - start}
        del X
        files = None
        if rows <= max_file_rows and any(installed(m) for m in ("vowpalwabbit", "fasttext")):
            files, entry["text_files_s"] = text_files(
                spec, synthetic.CACHE / "scaling" / f"{rows}_{NNZ_PER_ROW}")
        progress(f"{rows} rows: {entry['nnz']} nonzeros")
        entry["configs"] = run_set(spec, list(CONFIGS), SCALING_LOSS, epochs, repeats, budget,
                                   previous, files, progress)
        for name, rec in entry["configs"].items():
            if rec["runs"]:
                previous[name] = (rec["seconds"]["median"], int(entry["nnz"] * 0.9))
        results.append(entry)
    return results


def bar_study(spec, repeats, budget, epochs, progress):
    """The bar configurations on the bar set, per loss."""
    return {loss: run_set(spec, list(BAR_CONFIGS), loss, epochs, repeats, budget, {}, None,
                          progress) for loss in BAR_LOSSES}


# -- time to accuracy -----------------------------------------------------------------------

def timed(fit, repeats):
    """Median seconds of ``repeats`` calls of ``fit()`` and its last result."""
    seconds, result = time_calls(fit, repeats)
    return median(seconds), result


def curve(make, ladder, X_train, y_train, X_test, y_test, repeats):
    """(seconds, accuracy, step) of in-memory estimators ``make(step)`` along ``ladder``."""
    make(ladder[0]).fit(X_train, y_train)  # warm-up: imports, kernels
    points = []
    for step in ladder:
        seconds, model = timed(lambda: make(step).fit(X_train, y_train), repeats)
        points.append({"step": step, "seconds": seconds,
                       "accuracy": float(model.score(X_test, y_test))})
    return points


def file_curve(fit, predict, ladder, y_test, repeats):
    points = []
    for step in ladder:
        seconds, model = timed(lambda: fit(step), repeats)
        points.append({"step": step, "seconds": seconds,
                       "accuracy": float(np.mean(predict(model) == y_test))})
    return points


def time_to_target(points, target, tolerance=1e-3):
    """Least time of a point whose accuracy is at least ``target - tolerance``, or None."""
    hits = [p["seconds"] for p in points if p["accuracy"] >= target - tolerance]
    return min(hits) if hits else None


def our_c_star(loss):
    """Our model's C* on a9a from ``bench/results/libsvm.json`` (1.0 if it is missing)."""
    path = Path(__file__).resolve().parent / "results" / "libsvm.json"
    try:
        models = json.loads(path.read_text())["sets"]["a9a"]["models"]
        return float(models[f"LinearClassifier({loss})"]["C_star"])
    except (OSError, KeyError):
        return 1.0


def tta_a9a(repeats, quick, tmp):
    """Time-to-accuracy curves on a9a; LinearSVC at C*=0.1, default tol, is the target."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.svm import LinearSVC

    from fasttext_lin.cli.bench_protocol import our_estimator
    from fasttext_lin.datasets import fetch_libsvm

    d = fetch_libsvm("a9a")
    Xtr, ytr, Xte, yte = d.X_train, d.y_train, d.X_test, d.y_test
    n = Xtr.shape[0]
    epochs = (1, 2, 3) if quick else (1, 2, 3, 5, 8, 13, 20, 30)
    curves = {}
    for loss in ("hinge", "log_loss"):
        C = our_c_star(loss)
        for threads, params in ((1, {}), (2, {"parallel": "hogwild"})):
            if params and not has_parallel():
                continue
            name = f"ours {loss} C={C:g}, {threads} thread{'s' * (threads > 1)}"

            def make(e, loss=loss, C=C, threads=threads, params=params):
                return our_estimator(loss, C, n, epochs=e).set_params(n_jobs=threads, **params)

            curves[name] = curve(make, epochs, Xtr, ytr, Xte, yte, repeats)
    curves["SGDClassifier hinge C=0.1"] = curve(
        lambda e: SGDClassifier(alpha=1 / (0.1 * n), max_iter=e, tol=None, random_state=0),
        epochs, Xtr, ytr, Xte, yte, repeats)
    curves["LinearSVC C=0.1 (tol ladder)"] = curve(
        lambda t: LinearSVC(C=0.1, tol=t, random_state=0), (1e-1, 1e-2, 1e-3, 1e-4),
        Xtr, ytr, Xte, yte, repeats)
    curves.update(file_peer_curves(Xtr, ytr, Xte, yte, file_epochs(quick), repeats, tmp,
                                   ("-b", "18")))
    target = curves["LinearSVC C=0.1 (tol ladder)"][-1]
    return {"n_train": n, "target": target, "curves": curves}


def tta_20news(repeats, quick, tmp):
    """Time-to-accuracy curves on 20 Newsgroups (tf-idf unigrams, featurized untimed)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.svm import LinearSVC

    from fasttext_lin.cli.bench_protocol import our_estimator
    from fasttext_lin.datasets import fetch_corpus

    d = fetch_corpus("20newsgroups")
    classes = {c: k for k, c in enumerate(d.classes)}
    ytr = np.array([classes[c] + 1.0 for c in d.y_train])
    yte = np.array([classes[c] + 1.0 for c in d.y_test])
    start = time.perf_counter()
    vec = TfidfVectorizer(dtype=np.float32)
    Xtr = vec.fit_transform(d.texts_train)
    Xte = vec.transform(d.texts_test)
    for X in (Xtr, Xte):
        X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
    featurize = time.perf_counter() - start
    n = Xtr.shape[0]
    epochs = (1, 2) if quick else (1, 2, 3, 5, 8, 13, 20)
    curves = {}
    for threads in (1, 2):
        curves[f"ours hinge C=1, OvR on {threads} thread{'s' * (threads > 1)}"] = curve(
            lambda e, t=threads: our_estimator("hinge", 1.0, n, epochs=e).set_params(n_jobs=t),
            epochs, Xtr, ytr, Xte, yte, repeats)
    curves["SGDClassifier hinge C=1"] = curve(
        lambda e: SGDClassifier(alpha=1 / n, max_iter=e, tol=None, random_state=0),
        epochs, Xtr, ytr, Xte, yte, repeats)
    curves["LinearSVC C=1 (tol ladder)"] = curve(
        lambda t: LinearSVC(C=1.0, tol=t, random_state=0), (1e-1, 1e-2, 1e-3, 1e-4),
        Xtr, ytr, Xte, yte, repeats)
    texts = (d.texts_train, d.texts_test)
    curves.update(file_peer_curves(Xtr, ytr, Xte, yte, file_epochs(quick), repeats, tmp,
                                   ("--oaa", str(len(classes)), "-b", "20"), texts,
                                   FASTTEXT_20NEWS))
    target = curves["LinearSVC C=1 (tol ladder)"][-1]
    return {"n_train": n, "n_features": Xtr.shape[1], "featurize_s": featurize,
            "target": target, "curves": curves}


def file_epochs(quick):
    """Epochs (passes) of VW and fastText: a shorter ladder (fastText's epochs are slow)."""
    return (1, 2) if quick else (1, 2, 5, 10)


def file_peer_curves(Xtr, ytr, Xte, yte, epochs, repeats, tmp, vw_args, texts=None,
                     fasttext_params=None):
    """VW (logistic, or one-against-all) and fastText (1 and 2 threads) curves.

    Both read the training rows in one random order (20 Newsgroups is stored class by
    class; they do not shuffle). fastText reads the raw texts when ``texts`` is given (as
    bench_text.py), else the rows' feature ids.
    """
    tmp = Path(tmp)
    curves = {}
    multiclass = "--oaa" in vw_args
    order = np.random.default_rng(0).permutation(Xtr.shape[0])
    if installed("vowpalwabbit"):
        write_vw(tmp / "train.vw", Xtr[order], ytr[order])
        write_vw(tmp / "test.vw", Xte, yte)
        loss = () if multiclass else ("--loss_function", "logistic")
        raw = (lambda s: s) if multiclass else (lambda s: np.where(s > 0, 1.0, -1.0))
        curves["VW" + (" --oaa" if multiclass else " logistic")] = file_curve(
            lambda p: vw_fit(tmp / "train.vw", p, tmp, [*loss, *vw_args]),
            lambda m: raw(vw_predict(m, tmp / "test.vw", tmp)), epochs, yte, repeats)
    if installed("fasttext"):
        if texts:
            train = [fasttext_line(t) for t in texts[0]]
            test = [fasttext_line(t) for t in texts[1]]
        else:
            train, test = fasttext_rows(Xtr), fasttext_rows(Xte)
        write_fasttext(tmp / "train.txt", [train[i] for i in order], ytr[order])
        for threads in (1, 2):
            curves[f"fastText, {threads} thread{'s' * (threads > 1)}"] = file_curve(
                lambda e, t=threads: fasttext_fit(tmp / "train.txt", t, epoch=e,
                                                  **(fasttext_params or {})),
                lambda m: fasttext_labels(m, test), epochs, yte, repeats)
    return curves


def tta_summary(study):
    """Per curve: time to the target accuracy and LinearSVC's fit time over it."""
    target = study["target"]
    out = {}
    for name, points in study["curves"].items():
        t = time_to_target(points, target["accuracy"])
        out[name] = {"seconds_to_target": t,
                     "speedup_vs_target_fit": target["seconds"] / t if t else None}
    return out


# -- bars -----------------------------------------------------------------------------------

def paired_ratio(slow, fast):
    """Median over repeats of ``slow`` seconds / ``fast`` seconds (runs of the same repeat)."""
    pairs = list(zip(slow["runs"], fast["runs"]))
    return float(np.median([a["seconds"] / b["seconds"] for a, b in pairs])) if pairs else None


def bars(result):
    """The issue's bars that this benchmark measures: name -> (passed or None, text)."""
    out = {}
    for loss, configs in result.get("bar_set", {}).items():
        one, two = configs["ours, 1 thread"], configs["ours, 2 threads, hogwild"]
        sgd = configs["SGDClassifier"]
        if not two["runs"]:
            out[f"2 threads ({loss})"] = (None, two["note"])
        else:
            own, vs_sgd = paired_ratio(one, two), paired_ratio(sgd, two)
            gap = 100 * abs(two["test_accuracy"] - one["test_accuracy"])
            out[f"2 threads ({loss})"] = (
                own >= 1.8 and vs_sgd >= 2.5 and gap <= 0.1,
                f"hogwild 2 threads {own:.2f}x its 1-thread epoch (>= 1.8), {vs_sgd:.2f}x "
                f"SGDClassifier's (>= 2.5); accuracy {100 * two['test_accuracy']:.2f}% vs "
                f"{100 * one['test_accuracy']:.2f}% ({gap:.2f} points, <= 0.1)")
        d1, d2 = (configs[f"ours, {t}, deterministic"] for t in ("1 thread", "2 threads"))
        if d1["runs"] and d2["runs"]:
            same = len(set(d1["digests"]) | set(d2["digests"])) == 1
            out[f"deterministic ({loss})"] = (
                same, f"{len(d1['runs']) + len(d2['runs'])} fits, sha1 of weights "
                f"{'all equal' if same else 'differ'}; 2 threads "
                f"{paired_ratio(d1, d2):.2f}x the 1-thread deterministic fit")
    a9a = result.get("tta", {}).get("a9a")
    if a9a:
        best = max((v["speedup_vs_target_fit"] or 0, k) for k, v in a9a["summary"].items()
                   if k.startswith("ours"))
        out["a9a time to LinearSVC's accuracy"] = (
            best[0] >= 10, f"{best[1]}: {best[0]:.1f}x less than LinearSVC's "
            f"{a9a['target']['seconds']:.3f} s fit (>= 10); target "
            f"{100 * a9a['target']['accuracy']:.2f}% - 0.1 point")
    sizes = [e for e in result.get("scaling", []) if e["set"]["rows"] >= 100_000]
    for name in (c for c in CONFIGS if c.startswith("ours")):
        ns = [e["configs"][name]["ns_per_nnz"]["median"] for e in sizes
              if e["configs"][name]["runs"]]
        if len(ns) >= 2:
            spread = max(ns) / min(ns)
            out[f"flat cost, {name}"] = (
                spread <= 1.5, f"ns/nnz/epoch {', '.join(f'{v:.2f}' for v in ns)} over "
                f"{len(ns)} sizes >= 100k rows: max/min {spread:.2f} (<= 1.5)")
        mem = [e["configs"][name].get("memory_ratio") for e in sizes
               if e["configs"][name]["runs"]]
        if mem:
            out[f"memory, {name}"] = (
                max(mem) <= 1.3, f"(CSR + extra peak) / (CSR + weights) "
                f"{', '.join(f'{v:.2f}' for v in mem)} (<= 1.3)")
    return out


# -- report ---------------------------------------------------------------------------------

def _imported_from(machine):
    """Where ``fasttext_lin`` came from, when not from this checkout."""
    path = Path(machine.get("package_file", Path(__file__).resolve().parents[1]))
    inside = Path(__file__).resolve().parents[1] in path.resolve().parents
    return "" if inside else f", package imported from {path.parent}"


def _cell(rec):
    if not rec["runs"]:
        return "skipped"
    ns = rec["ns_per_nnz"]
    return (f"{ns['median']:.2f} [{ns['min']:.2f}-{ns['max']:.2f}] "
            f"/ {rec['extra_peak_bytes'] / 2**20:.0f} / {100 * rec['test_accuracy']:.2f}")


def report(result):
    """Markdown tables of the results."""
    m, p = result["machine"], result["params"]
    git = m.get("git") or {}
    lines = [
        "# Scaling: time per epoch and peak memory against nonzeros (bench/bench_scaling.py)",
        "",
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
        f"scikit-learn {m['scikit-learn']}, numba {m['numba']}, vowpalwabbit "
        f"{m.get('vowpalwabbit')}, fasttext-wheel {m.get('fasttext')}; {m['date']}; package at "
        f"{git.get('commit', '?')[:7]}{' (modified)' if git.get('package_modified') else ''}"
        f"{_imported_from(m)}; "
        f"load average (1, 5, 15 min) {fmt_load(m['load_average'])} at start, "
        f"{fmt_load(m.get('load_average_end'))} at end (shared machine).",
        "",
        f"Synthetic sets of `bench/synthetic.py`, {NNZ_PER_ROW} nonzeros a row, 2^20 features, "
        f"float32; last 10% test. Loss {SCALING_LOSS} (VW logistic, fastText softmax), "
        f"{p['epochs']} epochs, alpha={ALPHA}; medians of up to {p['repeats']} fits [min-max], "
        "each in a fresh process. Cell: ns per nonzero per epoch (LinearSVC: per fit) / extra "
        "peak RSS over the loaded data, MiB / test accuracy %.",
        "",
    ]
    scaling_rows = result.get("scaling", [])
    if scaling_rows:
        lines += ["| configuration | " + " | ".join(
            f"{e['set']['rows']:,} rows ({e['nnz'] / 1e6:.3g}M nnz)" for e in scaling_rows) + " |",
                  "|---|" + "---|" * len(scaling_rows)]
        for name in CONFIGS:
            lines.append(f"| {name} | " + " | ".join(_cell(e["configs"][name])
                                                    for e in scaling_rows) + " |")
        notes = [f"- {e['set']['rows']:,} rows, {name}: {rec['note']}" for e in scaling_rows
                 for name, rec in e["configs"].items() if rec["note"]]
        files = [f"{e['set']['rows']:,} rows {e['text_files_s']:.1f} s" for e in scaling_rows
                 if "text_files_s" in e]
        lines += ["", "Notes:", *notes,
                  "- VW and fastText read text files written from the same rows (untimed: "
                  + ", ".join(files) + "); their times include parsing them.", ""]
    for loss, configs in result.get("bar_set", {}).items():
        spec = p["bar_set"]
        lines += [f"## Bar set: {spec['rows']:,} rows, {spec['nnz_per_row']} a row, {loss}", "",
                  "| configuration | ns/nnz/epoch | fit s | extra peak MiB | "
                  "(CSR+extra)/(CSR+w) | test accuracy | fits |", "|---|---|---|---|---|---|---|"]
        for name, rec in configs.items():
            if not rec["runs"]:
                lines.append(f"| {name} | {rec['note']} | | | | | 0 |")
                continue
            lines.append(f"| {name} | {_cell(rec).split(' / ')[0]} | "
                         f"{rec['seconds']['median']:.2f} | "
                         f"{rec['extra_peak_bytes'] / 2**20:.0f} | {rec['memory_ratio']:.2f} | "
                         f"{100 * rec['test_accuracy']:.2f}% | {len(rec['runs'])} |")
        lines.append("")
    for corpus, study in result.get("tta", {}).items():
        t = study["target"]
        lines += [f"## Time to accuracy: {corpus}", "",
                  f"Target: LinearSVC's default-tol fit, {100 * t['accuracy']:.2f}% in "
                  f"{t['seconds']:.3f} s (median of {p['tta_repeats']}); reached when within "
                  "0.1 point. Points: epochs (passes; LinearSVC: tol), seconds, accuracy %.", "",
                  "| curve | time to target s | LinearSVC fit / that | points |",
                  "|---|---|---|---|"]
        for name, points in study["curves"].items():
            s = study["summary"][name]
            pts = ", ".join(f"{q['step']:g}: {q['seconds']:.3f} s {100 * q['accuracy']:.2f}"
                            for q in points)
            reach = f"{s['seconds_to_target']:.3f}" if s["seconds_to_target"] else "not reached"
            ratio = f"{s['speedup_vs_target_fit']:.1f}" if s["speedup_vs_target_fit"] else "-"
            lines.append(f"| {name} | {reach} | {ratio} | {pts} |")
        lines.append("")
    lines += ["## Bars", ""]
    for name, (passed, text) in result["bars"].items():
        verdict = {True: "pass", False: "FAIL", None: "not measured"}[passed]
        lines.append(f"- {name}: **{verdict}**: {text}")
    lines += ["", "Item 2's kernel levers (float32 weights, renumbering by frequency, allocation "
              "between epochs, intercept off the sparse path) are measured by "
              "`bench/bench_epoch.py`: see `epoch.md`."]
    return "\n".join(lines) + "\n"


_COLORS = {"ours": "tab:blue", "sgd": "tab:gray", "linearsvc": "black", "vw": "tab:green",
           "fasttext": "tab:orange"}


def _style(name):
    peer = "ours" if name.startswith("ours") else next(
        (p for p, k in (("sgd", "SGD"), ("linearsvc", "LinearSVC"), ("vw", "VW"),
                        ("fasttext", "fastText")) if name.startswith(k)), "ours")
    return {"color": _COLORS[peer], "linestyle": "--" if "2 threads" in name else "-",
            "marker": "s" if "deterministic" in name else "o"}


def plot(result, path):
    """scaling.png (ns/nnz and memory against nonzeros) and scaling_tta.png (curves)."""
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name in CONFIGS:
        pts = [(e["nnz"], e["configs"][name]) for e in result.get("scaling", [])
               if e["configs"][name]["runs"]]
        if not pts:
            continue
        x = [n for n, _ in pts]
        ax1.plot(x, [r["ns_per_nnz"]["median"] for _, r in pts], label=name, **_style(name))
        ax2.plot(x, [r["extra_peak_bytes"] / 2**20 for _, r in pts], label=name, **_style(name))
    ax1.set(xscale="log", yscale="log", xlabel="training nonzeros (whole set)",
            ylabel="ns per nonzero per epoch (median)")
    ax2.set(xscale="log", yscale="log", xlabel="training nonzeros (whole set)",
            ylabel="peak RSS added by the fit, MiB")
    ax1.legend(fontsize=7)
    m = result["machine"]
    fig.suptitle(f"Synthetic sets, {NNZ_PER_ROW} nnz a row, {result['params']['epochs']} epochs; "
                 f"{m['cpu']}, {m['cores']} cores", fontsize=9)
    fig.tight_layout()
    save_png(fig, path)
    studies = result.get("tta", {})
    if not studies:
        return
    fig, axes = plt.subplots(1, len(studies), figsize=(6 * len(studies), 4.8), squeeze=False)
    for ax, (corpus, study) in zip(axes[0], studies.items()):
        for name, points in study["curves"].items():
            ax.plot([q["seconds"] for q in points], [100 * q["accuracy"] for q in points],
                    label=name, **_style(name))
        t = study["target"]
        ax.axhline(100 * t["accuracy"] - 0.1, color="black", linewidth=0.8, linestyle=":",
                   label="LinearSVC accuracy - 0.1 point")
        ax.axvline(t["seconds"], color="black", linewidth=0.8, linestyle="-.",
                   label="LinearSVC fit time")
        low = 100 * t["accuracy"] - 3
        ax.set(xscale="log", xlabel="fit wall time, s (median)", ylabel="test accuracy %",
               title=corpus, ylim=(low, None))
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path.with_name(path.stem + "_tta.png"))


# -- main -----------------------------------------------------------------------------------

def machine_info():
    """The harness's machine record, the package's origin and the file peers' versions."""
    import fasttext_lin

    return base_machine_info(package_file=fasttext_lin.__file__, has_parallel=has_parallel(),
                             vowpalwabbit=package_version("vowpalwabbit"),
                             fasttext=package_version("fasttext-wheel"))


def run(args, progress=print):
    """The whole benchmark as ``args`` asks; return the result dictionary."""
    result = {"machine": machine_info(),
              "params": {"sizes": args.sizes, "repeats": args.repeats, "budget_s": args.budget,
                         "epochs": args.epochs, "max_file_rows": args.max_file_rows,
                         "bar_set": args.bar_set, "tta_repeats": args.tta_repeats,
                         "nnz_per_row": NNZ_PER_ROW, "alpha": ALPHA, "quick": args.quick}}
    result["scaling"] = scaling(args.sizes, args.repeats, args.budget, args.max_file_rows,
                                args.epochs, progress)
    if args.bar_set["rows"]:
        result["bar_set"] = bar_study(args.bar_set, args.repeats, args.budget, args.epochs,
                                      progress)
    result["tta"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, study in (("a9a", tta_a9a), ("20 Newsgroups", tta_20news)):
            if corpus in args.skip_tta:
                continue
            progress(f"time to accuracy: {corpus}")
            result["tta"][corpus] = study(args.tta_repeats, args.quick, tmp)
            result["tta"][corpus]["summary"] = tta_summary(result["tta"][corpus])
    result["machine"]["load_average_end"] = load_average()
    result["bars"] = bars(result)
    return result


def parse_args(argv):
    parser = arguments(__doc__, stem="scaling", repeats=3, data=True, child=True,
                       quick="sizes 5000 20000, bar set 20000 rows, 1 repeat, short ladders")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds a fit may take before it gets fewer repeats or is skipped")
    parser.add_argument("--max-file-rows", type=int, default=1_000_000,
                        help="largest set converted to text for VW and fastText")
    parser.add_argument("--bar-rows", type=int, default=BAR_SET["rows"],
                        help="rows of the bar set (0: no bar study)")
    parser.add_argument("--tta-repeats", type=int, default=3)
    parser.add_argument("--skip-tta", nargs="*", default=[], choices=["a9a", "20 Newsgroups"])
    args = parse(parser, argv)
    if args.quick:
        args.sizes, args.repeats, args.tta_repeats = [5000, 20000], 1, 1
        args.bar_rows = min(args.bar_rows, 20000)
    if min(args.sizes) < 100:
        parser.error(f"--sizes must be >= 100 rows, got {args.sizes}")
    args.bar_set = {"rows": args.bar_rows, "nnz_per_row": BAR_SET["nnz_per_row"]}
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child_result(measure(json.loads(args.child)))
        return 0
    return finish(args, "scaling", lambda: run(args), report, plot)


if __name__ == "__main__":
    sys.exit(main())

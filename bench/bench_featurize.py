"""Featurizer throughput and peak memory: BagOfWords against scikit-learn's vectorizers.

Usage::

    FASTTEXT_LIN_DATA=../shared/data python bench/bench_featurize.py \\
        [--docs 200000] [--seed 0] [--repeats 3] [--corpora 20newsgroups synthetic] \\
        [--ngrams unigrams 1-2-grams] [--threads 1 2] [--out bench/results]
    python bench/bench_featurize.py --report-only   # rewrite .md / .png from the .json

About 10 minutes for the defaults on 2 shared cores (CountVectorizer on 1-2-grams is
most of it); ``--docs 20000 --repeats 1`` takes about 1.5 minutes.

Corpora: (a) 20 Newsgroups "bydate", train + test (``fetch_corpus("20newsgroups")``,
never downloaded here), (b) ``--docs`` synthetic reviews of ``bench/synthetic_text.py``
(seeded; written once to a temporary file, one review a line, that every child reads).

Pairs, each for unigrams and 1-2-grams:

- hashing: ``BagOfWords(n_features=2**20, weighting='count', norm=None)`` against
  ``HashingVectorizer(n_features=2**20, norm=None, alternate_sign=True)``;
- vocabulary: ``BagOfWords(weighting='count', norm=None)`` against ``CountVectorizer()``,
  both ``fit_transform`` (CountVectorizer's alphabetical sort of the vocabulary is in
  its time; ours numbers terms by first occurrence).

Ours runs once per ``--threads`` value (``BagOfWords(n_jobs=...)``: chunks of documents
counted on threads, each copied to its place in the output), the peer once
(scikit-learn's vectorizers use one thread); the table gives each n_jobs' ratio to the
peer and to our one-thread run, all from the same run. Each configuration runs in a
fresh child process: it loads the corpus, imports, warms up on the first 500 documents
(that first call's time, which holds the JIT compile or cache load and BagOfWords'
code-point table, is reported apart), makes one untimed full pass (a process's first
touch of that much memory costs a varying extra on a virtual machine), then times
``--repeats`` full passes and keeps the median. Peak memory: the child resets its peak
RSS (``/proc/self/clear_refs``)
after loading, importing and warming up, and reports the peak RSS at the end of the
first timed pass minus the RSS at that reset: the extra peak memory of featurizing.
The peak is ``VmHWM`` of ``/proc/self/status``, not ``getrusage``'s ``ru_maxrss``
(also recorded): ``subprocess`` starts the child with ``vfork``, so ``ru_maxrss``
inherits the parent's peak (the generated corpus), which a reset does not clear.

Our one-thread children also time the steps apart (median of the repeats): the code
points (``join_code_points`` over the chunks: validating, joining, Latin-1 / UTF-32
encoding; it calls ``str.lower`` only on text beyond Latin-1, which the kernels
otherwise lower-case through a table), the counting kernel, and the CSR wrap-up;
hashing children also time the hashing kernel's stages (token layout, MurmurHash3,
sorting each row's ids) with a jitted copy of its loop built from the package's own
helpers.

The two matrices of a pair are compared in the same run through a fingerprint
(sha256 of indptr, int32 indices and float64 data with sorted indices; in vocabulary
mode after renumbering the columns by sorted feature name), both as produced and
after dropping explicit zeros; a mismatch is printed loudly and recorded.

Writes ``featurize.json`` (machine, versions, git state, every run), ``featurize.md``
(table, the issue's bar, the time split) and ``featurize.png`` (MB/s bars, log scale)
to ``--out``, atomically. MB are 10**6 bytes of UTF-8 text.
"""

import gc
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    arguments,
    child_result,
    finish,
    fmt_git,
    load_average,
    machine_info,
    parse,
    pyplot,
    reset_peak,
    run_child,
    save_png,
    status_kib,
)

HASH_FEATURES = 2**20
WARMUP_DOCS = 500
NGRAMS = {"unigrams": (1, 1), "1-2-grams": (1, 2)}
# (mode, ours, peer) in the order they run.
PAIRS = (("hashing", "BagOfWords", "HashingVectorizer"),
         ("vocabulary", "BagOfWords", "CountVectorizer"))
BAR = ("featurizer >= 10x HashingVectorizer's throughput and >= 100 MB/s on one thread on "
       "the synthetic corpus, unigrams and 1-2-grams, peak memory no more than scikit-learn's; "
       "n_jobs=2 >= 1.8x its one thread")


# -- child ----------------------------------------------------------------------------------

def _load_texts(spec):
    if spec["corpus"] == "20newsgroups":
        from fasttext_lin.datasets import fetch_corpus

        b = fetch_corpus("20newsgroups", download=False)
        return list(b.texts_train) + list(b.texts_test)
    with open(spec["path"], encoding="utf-8", newline="\n") as f:
        return [line[:-1] for line in f]


def _make(spec):
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

    from fasttext_lin import BagOfWords

    ngram = tuple(spec["ngram_range"])
    if spec["impl"] == "BagOfWords":
        n_features = HASH_FEATURES if spec["mode"] == "hashing" else None
        return BagOfWords(n_features=n_features, ngram_range=ngram, weighting="count",
                          norm=None, alternate_sign=True, n_jobs=spec.get("n_jobs", 1))
    if spec["impl"] == "HashingVectorizer":
        return HashingVectorizer(n_features=HASH_FEATURES, ngram_range=ngram, norm=None,
                                 alternate_sign=True)
    return CountVectorizer(ngram_range=ngram)


def _fingerprint(X, names):
    """sha256 of the canonical CSR (columns by sorted name when ``names`` is given)."""
    import scipy.sparse as sp

    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    if names is not None:
        order = np.argsort(np.asarray(names, dtype=object).astype(str), kind="stable")
        rank = np.empty(order.shape[0], dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        X = sp.csr_matrix((X.data, rank[X.indices], X.indptr), shape=X.shape)
    X.has_sorted_indices = False
    X.sort_indices()
    out = {}
    for label in ("as_is", "zeros_dropped"):
        if label == "zeros_dropped":
            X.eliminate_zeros()
        h = hashlib.sha256()
        h.update(repr(X.shape).encode())
        for part, dtype in ((X.indptr, np.int64), (X.indices, np.int32), (X.data, np.float64)):
            h.update(np.ascontiguousarray(part, dtype=dtype).tobytes())
        out[label] = {"sha256": h.hexdigest(), "nnz": int(X.nnz), "sum": float(X.data.sum()),
                      "shape": list(X.shape)}
    return out


def _split_times(est, texts):
    """Seconds of the steps of our fit_transform: code points, kernel, wrap-up.

    The counting joins and encodes its chunks as it goes: the time spent in
    ``join_code_points`` is timed there and taken out of the kernel's.
    """
    from fasttext_lin import featurize

    join = featurize.join_code_points
    spent, dtypes = [0.0], set()

    def timed_join(*args):
        t0 = time.perf_counter()
        out = join(*args)
        spent[0] += time.perf_counter() - t0
        dtypes.add(str(out[0].dtype))
        return out

    gc.collect()
    est.check_params()
    featurize.join_code_points = timed_join
    try:
        t4 = time.perf_counter()
        if est.n_features is not None:
            indptr, indices, data = est._count_hashed(texts)
        else:
            indptr, indices, data = est._learn_vocabulary(texts)
            est.n_features_out_ = est._n_keys
        t5 = time.perf_counter()
    finally:
        featurize.join_code_points = join
    if est.n_features is not None:
        est.n_features_out_ = est.n_features
    est._finish(indptr, indices, data)
    t6 = time.perf_counter()
    return {"code_points": spent[0], "kernel": t5 - t4 - spent[0], "finish": t6 - t5,
            "code_dtype": "/".join(sorted(dtypes))}


def _stage_kernel():
    """A jitted copy of ``count_hashing``'s document loop that stops after a stage.

    Stage 0: token layout only (n-grams; unigrams are hashed as they are read, with no
    layout); 1: + MurmurHash3 of every n-gram; 2: + sorting the row's ids (what
    ``_emit_row`` does first; its run-length count is the rest). Built from the
    package's own inlined helpers, so it measures their cost.
    """
    from numba import njit

    from fasttext_lin import _text_kernels as k

    @njit
    def stages(codes, doc_ptr, is_word, lower, stage, min_n, max_n, n_features):
        n_docs = doc_ptr.shape[0] - 1
        longest = k._longest_doc(doc_ptr)
        max_tok = (longest + 1) // 3 + 1
        buf = np.empty(5 * longest + 8, dtype=np.uint8)
        tok_lo = np.empty(max_tok, dtype=np.int64)
        tok_hi = np.empty(max_tok, dtype=np.int64)
        row = np.empty(max_tok * (max_n - min_n + 1) + 1, dtype=np.int64)
        spare = np.empty_like(row)
        counts = np.empty(2 * row.shape[0] + 2, dtype=np.int64)
        class_low, utf8_low = k._latin1_tables(is_word, lower)
        check = 0  # keeps every stage's work observable
        for d in range(n_docs):
            if max_n == 1:
                m = k._hash_words(codes, doc_ptr[d], doc_ptr[d + 1], is_word, class_low, 2,
                                  utf8_low, n_features, True, row)
            else:
                n_tok = k._layout_tokens(codes, doc_ptr[d], doc_ptr[d + 1], is_word,
                                         class_low, 2, lower, utf8_low, buf, tok_lo, tok_hi,
                                         True)
                check += n_tok
                if stage == 0:
                    continue
                m = k._hash_row(buf, tok_lo, tok_hi, n_tok, min_n, max_n, n_features, True,
                                row)
            if stage == 1:
                check += row[m - 1] if m else 0
                continue
            check += k._sort_ids(row, m, spare, counts, 2 * n_features)[0] if m else 0
        return check

    return stages


def _kernel_stages(spec, texts):
    """Median seconds of the hashing kernel's stages (see ``_stage_kernel``), over the
    whole corpus in one call (the featurizer counts it in chunks)."""
    from fasttext_lin import _text_kernels as k
    from fasttext_lin import _tokens

    stages = _stage_kernel()
    codes, doc_ptr = _tokens.document_code_points(texts, True)
    table = _tokens.word_table()
    lower = _tokens.lower_table(True).astype(codes.dtype)
    min_n, max_n = spec["ngram_range"]
    n = min(WARMUP_DOCS, doc_ptr.shape[0] - 1)
    stages(codes[: doc_ptr[n]], doc_ptr[: n + 1], table, lower, 2, min_n, max_n,
           HASH_FEATURES)
    lengths = np.diff(doc_ptr)
    out = {"layout": None}  # unigrams: no layout stage
    named = ((0, "layout"), (1, "layout+murmur"), (2, "layout+murmur+sort"))
    for stage, name in named[1 if max_n == 1 else 0:]:
        times = []
        for _ in range(spec["repeats"]):
            t0 = time.perf_counter()
            stages(codes, doc_ptr, table, lower, stage, min_n, max_n, HASH_FEATURES)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))

    def full_kernel(indices, data):
        return k.count_hashing(codes, doc_ptr, table, 2, lower, min_n, max_n,
                               HASH_FEATURES, True, np.zeros(doc_ptr.shape[0], dtype=np.int64),
                               indices, data, 0)

    nnz = full_kernel(np.empty(0, dtype=np.int32), np.empty(0))[2]
    times = []
    for _ in range(spec["repeats"]):
        indices, data = np.empty(nnz, dtype=np.int32), np.empty(nnz)  # room, as the chunks have
        t0 = time.perf_counter()
        full_kernel(indices, data)
        times.append(time.perf_counter() - t0)
    out["full kernel"] = float(np.median(times))
    out["insertion_sort_max"] = int(k._INSERTION_SORT_MAX)
    out["mean_doc_chars"] = float(lengths.mean())
    return out


def child(spec):
    t_start = time.perf_counter()
    texts = _load_texts(spec)
    _make(spec)  # imports
    t_loaded = time.perf_counter()
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    est = _make(spec)
    t0 = time.perf_counter()
    est.fit_transform(texts[:WARMUP_DOCS])
    first_call = time.perf_counter() - t0
    # One untimed full pass: the first touch of this much memory in a process costs a
    # varying extra on a virtual machine, which no later pass pays.
    est.fit_transform(texts)
    del est
    gc.collect()
    peak_reset = reset_peak()
    rss_base = status_kib("VmRSS")  # the peak is now this RSS
    maxrss_base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, peaks = [], []
    for r in range(spec["repeats"]):
        if r:
            reset_peak()
        base = status_kib("VmRSS")
        est = _make(spec)
        t0 = time.perf_counter()
        X = est.fit_transform(texts)
        seconds.append(time.perf_counter() - t0)
        peaks.append({"rss_before_kib": base, "hwm_kib": status_kib("VmHWM"),
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
        if r < spec["repeats"] - 1:
            del X, est
            gc.collect()
    out = {"seconds": seconds, "median_seconds": float(np.median(seconds)),
           "first_call_seconds": first_call, "load_import_seconds": t_loaded - t_start,
           "n_docs": len(texts), "n_bytes": n_bytes, "peak_reset": peak_reset,
           "rss_base_kib": rss_base, "maxrss_at_base_kib": maxrss_base, "peaks": peaks,
           "extra_peak_mib": (peaks[0]["hwm_kib"] - rss_base) / 1024,
           "extra_peak_maxrss_mib": (peaks[0]["maxrss_kib"] - rss_base) / 1024,
           "shape": list(X.shape), "nnz": int(X.nnz)}
    names = None
    if spec["mode"] == "vocabulary":
        names = est.get_feature_names_out()
    out["fingerprint"] = _fingerprint(X, names)
    del X, est
    gc.collect()
    if spec["impl"] == "BagOfWords" and spec.get("n_jobs", 1) == 1:
        splits = [_split_times(_make(spec), texts) for _ in range(spec["repeats"])]
        out["split"] = {k: (float(np.median([s[k] for s in splits]))
                            if k != "code_dtype" else splits[0][k]) for k in splits[0]}
        out["split_runs"] = splits
        if spec["mode"] == "hashing":
            out["kernel_stages"] = _kernel_stages(spec, texts)
    child_result(out)


# -- parent ---------------------------------------------------------------------------------

def compare(a, b):
    """Return 'identical', 'equal after dropping explicit zeros' or 'MISMATCH'."""
    if a["fingerprint"]["as_is"]["sha256"] == b["fingerprint"]["as_is"]["sha256"]:
        return "identical"
    if a["fingerprint"]["zeros_dropped"]["sha256"] == b["fingerprint"]["zeros_dropped"]["sha256"]:
        return "equal after dropping explicit zeros"
    return "MISMATCH"


def main(argv=None):
    parser = arguments(__doc__, stem="featurize", repeats=3, report_only=True, data=True,
                       child=True)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpora", nargs="+", default=["20newsgroups", "synthetic"],
                        choices=["20newsgroups", "synthetic"])
    parser.add_argument("--ngrams", nargs="+", default=list(NGRAMS), choices=list(NGRAMS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2],
                        help="BagOfWords n_jobs values to time (default 1 2)")
    args = parse(parser, argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    return finish(args, "featurize", lambda: run(args), report, plot)


def run(args):
    """Every pair on every corpus and n-gram range, each side in a child; the result."""
    from synthetic_text import make_reviews

    # BagOfWords' threads are its own (n_jobs), not Numba's or BLAS's.
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    machine = machine_info()
    result = {"machine": machine, "git": machine["git"],
              "params": {"docs": args.docs, "seed": args.seed, "repeats": args.repeats,
                         "hash_features": HASH_FEATURES, "warmup_docs": WARMUP_DOCS,
                         "corpora": args.corpora, "ngrams": args.ngrams,
                         "threads": args.threads,
                         "child_env": {k: env[k] for k in ("NUMBA_NUM_THREADS",
                                                           "OMP_NUM_THREADS",
                                                           "OPENBLAS_NUM_THREADS")}},
              "bar": BAR, "runs": [], "checks": []}
    with tempfile.TemporaryDirectory(prefix="bench_featurize_") as tmp:
        corpus_path = {}
        if "synthetic" in args.corpora:
            t0 = time.perf_counter()
            texts, _ = make_reviews(args.docs, args.seed)
            path = Path(tmp) / "synthetic.txt"
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(texts) + "\n")
            result["params"]["synthetic_seconds"] = time.perf_counter() - t0
            corpus_path["synthetic"] = str(path)
            del texts
        for corpus in args.corpora:
            for ngram in args.ngrams:
                for mode, ours, peer in PAIRS:
                    pair = {}
                    for impl, n_jobs in [(ours, n) for n in args.threads] + [(peer, 1)]:
                        spec = {"corpus": corpus, "ngrams": ngram,
                                "ngram_range": NGRAMS[ngram], "mode": mode, "impl": impl,
                                "n_jobs": n_jobs,
                                "repeats": args.repeats, "path": corpus_path.get(corpus)}
                        print(f"{corpus:12s} {ngram:9s} {mode:10s} {impl:18s} "
                              f"n_jobs={n_jobs}", end=" ", flush=True)
                        run = run_child(__file__, spec, env)
                        run.update(spec)
                        run["mb_per_s"] = run["n_bytes"] / 1e6 / run["median_seconds"]
                        run["docs_per_s"] = run["n_docs"] / run["median_seconds"]
                        print(f"{run['mb_per_s']:7.2f} MB/s  +{run['extra_peak_mib']:7.1f} MiB"
                              f"  first call {run['first_call_seconds']:.2f} s", flush=True)
                        result["runs"].append(run)
                        pair.setdefault(impl, run)  # ours: its first n_jobs
                        if impl == ours and compare(run, pair[ours]) != "identical":
                            print(f"!!!!! MISMATCH: n_jobs={n_jobs} differs from "
                                  f"n_jobs={pair[ours]['n_jobs']}", flush=True)
                            result["checks"].append({
                                "corpus": corpus, "ngrams": ngram, "mode": mode,
                                "verdict": "MISMATCH", "n_jobs": n_jobs,
                                "ours": run["fingerprint"], "peer": pair[ours]["fingerprint"]})
                    verdict = compare(pair[ours], pair[peer])
                    check = {"corpus": corpus, "ngrams": ngram, "mode": mode,
                             "verdict": verdict,
                             "ours": pair[ours]["fingerprint"], "peer": pair[peer]["fingerprint"]}
                    result["checks"].append(check)
                    if verdict == "MISMATCH":
                        print(f"!!!!! MISMATCH: {corpus} {ngram} {mode}: BagOfWords "
                              f"{pair[ours]['fingerprint']['zeros_dropped']} vs {peer} "
                              f"{pair[peer]['fingerprint']['zeros_dropped']}", flush=True)
                    else:
                        print(f"  check: {verdict}", flush=True)
    result["machine"]["load_average_end"] = load_average()
    return result


def _find(result, corpus, ngram, mode, impl, n_jobs=1):
    for r in result["runs"]:
        if ((r["corpus"], r["ngrams"], r["mode"], r["impl"], r.get("n_jobs", 1))
                == (corpus, ngram, mode, impl, n_jobs)):
            return r
    return None


def _peer_of(run):
    return {"hashing": "HashingVectorizer", "vocabulary": "CountVectorizer"}[run["mode"]]


def report(result):
    m, p = result["machine"], result["params"]
    git = result["git"] or {}
    lines = [
        "# Featurizer throughput and peak memory: BagOfWords vs scikit-learn",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores (shared, noisy); load average at start "
        f"{m['load_average']}, at end {m.get('load_average_end')}. Python {m['python']}, "
        f"numpy {m['numpy']}, scipy {m['scipy']}, scikit-learn {m['scikit-learn']}, "
        f"numba {m['numba']}; {m['date']}. Commit {fmt_git(git)}.",
        "",
        f"Command: `FASTTEXT_LIN_DATA=/work/shared/data python bench/bench_featurize.py "
        f"--docs {p['docs']} --seed {p['seed']} --repeats {p['repeats']} "
        f"--corpora {' '.join(p['corpora'])} --ngrams {' '.join(p['ngrams'])} "
        f"--threads {' '.join(map(str, p.get('threads', [1, 2])))}`",
        "",
        "Each row is a fresh process; n_jobs = BagOfWords' threads (the peers run one); "
        "median of "
        f"{p['repeats']} `fit_transform` passes after a warm-up on {p['warmup_docs']} "
        "documents and one untimed full pass. MB = 10^6 bytes of UTF-8 text. Extra peak = "
        "peak RSS (`VmHWM`) over the first "
        "timed pass minus the RSS after loading, importing and warming up (peak reset "
        "through `/proc/self/clear_refs`; `ru_maxrss` would include the parent's peak, "
        "inherited through vfork). Ratio = ours / peer (MB/s: higher is better; "
        "memory: lower is better), from the same run. Hashing: n_features = 2^20, "
        "alternate_sign, norm=None, counts; vocabulary: counts, CountVectorizer defaults.",
        "",
        "| corpus | n-grams | mode | featurizer | n_jobs | MB/s | docs/s | extra peak MiB | "
        "MB/s ratio to peer | MB/s ratio to ours at n_jobs=1 | memory ratio to peer | "
        "first call s | output check |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    checks = {(c["corpus"], c["ngrams"], c["mode"]): c["verdict"] for c in result["checks"]}
    for r in result["runs"]:
        ours = r["impl"] == "BagOfWords"
        peer = _find(result, r["corpus"], r["ngrams"], r["mode"], _peer_of(r)) if ours else None
        ratio = f"{r['mb_per_s'] / peer['mb_per_s']:.2f}x" if peer else "-"
        one = _find(result, r["corpus"], r["ngrams"], r["mode"], r["impl"]) if ours else None
        scaling = f"{r['mb_per_s'] / one['mb_per_s']:.2f}x" if one else "-"
        mem = (f"{r['extra_peak_mib'] / peer['extra_peak_mib']:.2f}"
               if peer and peer["extra_peak_mib"] > 0 else "-")
        corpus = r["corpus"]
        if corpus == "synthetic":
            corpus = f"synthetic {r['n_docs'] // 1000}k"
        lines.append(
            f"| {corpus} ({r['n_bytes'] / 1e6:.1f} MB) | {r['ngrams']} | {r['mode']} | "
            f"{r['impl']} | {r.get('n_jobs', 1)} | {r['mb_per_s']:.2f} | "
            f"{r['docs_per_s'] / 1e3:.1f}k | "
            f"{r['extra_peak_mib']:.0f} | {ratio} | {scaling} | {mem} | "
            f"{r['first_call_seconds']:.2f} | "
            f"{checks.get((r['corpus'], r['ngrams'], r['mode'])) if ours else ''} |")
    lines += ["", "## The issue's bar", "", f"> {BAR}", ""]
    lines += _bar_verdicts(result)
    lines += _limits(result)
    lines += ["", "## Where our time goes (median seconds of the steps, run apart)", "",
              "| corpus | n-grams | mode | total | code points | kernel | "
              "CSR wrap-up | kernel alone MB/s | code dtype |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        if "split" not in r:
            continue
        s = r["split"]
        lines.append(
            f"| {r['corpus']} | {r['ngrams']} | {r['mode']} | {r['median_seconds']:.2f} | "
            f"{s['code_points']:.2f} | {s['kernel']:.2f} | {s['finish']:.2f} | "
            f"{r['n_bytes'] / 1e6 / s['kernel']:.0f} | {s['code_dtype']} |")
    lines += ["", "code points = `join_code_points` over the chunks of documents (validates, "
              "joins and encodes; lower-cases only text beyond Latin-1, the kernels "
              "lower-case the rest); kernel = the rest of the counting.", ""]
    held = [r for r in result["runs"] if "code_points_extra_peak_mib" in r.get("split", {})]
    if held:
        lines += ["Memory of the code points alone (peak over the call, and what it leaves "
                  "held, in MiB):", "",
                  "| corpus | n-grams | mode | code points peak MiB | held after MiB | "
                  "whole fit_transform extra peak MiB |", "|---|---|---|---|---|---|"]
    for r in held:  # results of earlier versions, which joined the whole corpus at once
        s = r["split"]
        lines.append(f"| {r['corpus']} | {r['ngrams']} | {r['mode']} | "
                     f"{s['code_points_extra_peak_mib']:.0f} | {s['code_points_held_mib']:.0f}"
                     f" | {r['extra_peak_mib']:.0f} |")
    staged = [r for r in result["runs"] if "kernel_stages" in r]
    if staged:
        lines += ["", "## Inside the hashing kernel (median seconds, cumulative stages)", "",
                  "A jitted copy of `count_hashing`'s loop built from the package's own helpers, "
                  "stopped after each stage; the differences are each stage's cost. Run over "
                  "the whole corpus in one call (the featurizer counts it in chunks, which "
                  "keeps the code points in cache); unigrams are hashed as their characters "
                  "are read, with no layout.", "",
                  "| corpus | n-grams | layout | + MurmurHash3 | + sort row ids | full kernel | "
                  "layout % | hash % | sort % | emit + rest % |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in staged:
            k = r["kernel_stages"]
            a, b, c, f = (k["layout"], k["layout+murmur"], k["layout+murmur+sort"],
                          k["full kernel"])
            if a is None:  # unigrams: hashed as they are read, no layout of their own
                lines.append(f"| {r['corpus']} | {r['ngrams']} | (none) | {b:.3f} | {c:.3f} | "
                             f"{f:.3f} | - | {100 * b / f:.0f} (with the scan) | "
                             f"{100 * (c - b) / f:.0f} | {100 * (f - c) / f:.0f} |")
                continue
            lines.append(f"| {r['corpus']} | {r['ngrams']} | {a:.3f} | {b:.3f} | {c:.3f} | "
                         f"{f:.3f} | {100 * a / f:.0f} | {100 * (b - a) / f:.0f} | "
                         f"{100 * (c - b) / f:.0f} | {100 * (f - c) / f:.0f} |")
    bad = [c for c in result["checks"] if c["verdict"] == "MISMATCH"]
    lines += ["", "## Output checks", ""]
    if bad:
        lines.append("**MISMATCH** between BagOfWords and its peer in: "
                     + "; ".join(f"{c['corpus']} {c['ngrams']} {c['mode']}" for c in bad))
    else:
        lines.append("Every pair gave equal matrices (see the table's last column).")
    return "\n".join(lines) + "\n"


def _bar_verdicts(result):
    out = []
    for ngram in result["params"]["ngrams"]:
        hb = _find(result, "synthetic", ngram, "hashing", "BagOfWords")
        hv = _find(result, "synthetic", ngram, "hashing", "HashingVectorizer")
        vb = _find(result, "synthetic", ngram, "vocabulary", "BagOfWords")
        cv = _find(result, "synthetic", ngram, "vocabulary", "CountVectorizer")
        if not (hb and hv):
            out.append(f"- {ngram}: synthetic corpus not run.")
            continue
        ratio = hb["mb_per_s"] / hv["mb_per_s"]
        yes = {True: "met", False: "NOT met"}
        out.append(f"- {ngram}, hashing: {hb['mb_per_s']:.1f} MB/s = {ratio:.1f}x "
                   f"HashingVectorizer: 10x {yes[ratio >= 10]}; 100 MB/s "
                   f"{yes[hb['mb_per_s'] >= 100]}; memory {hb['extra_peak_mib']:.0f} vs "
                   f"{hv['extra_peak_mib']:.0f} MiB: "
                   f"{yes[hb['extra_peak_mib'] <= hv['extra_peak_mib']]}.")
        h2 = _find(result, "synthetic", ngram, "hashing", "BagOfWords", 2)
        if h2:
            out.append(f"- {ngram}, hashing, n_jobs=2: {h2['mb_per_s']:.1f} MB/s = "
                       f"{h2['mb_per_s'] / hb['mb_per_s']:.2f}x its one thread: 1.8x "
                       f"{yes[h2['mb_per_s'] >= 1.8 * hb['mb_per_s']]}; "
                       f"{h2['mb_per_s'] / hv['mb_per_s']:.1f}x HashingVectorizer.")
        if vb and cv:
            out.append(f"- {ngram}, vocabulary: {vb['mb_per_s']:.1f} MB/s = "
                       f"{vb['mb_per_s'] / hv['mb_per_s']:.1f}x HashingVectorizer "
                       f"({vb['mb_per_s'] / cv['mb_per_s']:.1f}x CountVectorizer): 10x HV "
                       f"{yes[vb['mb_per_s'] >= 10 * hv['mb_per_s']]}; 100 MB/s "
                       f"{yes[vb['mb_per_s'] >= 100]}; memory {vb['extra_peak_mib']:.0f} vs "
                       f"CountVectorizer {cv['extra_peak_mib']:.0f} MiB: "
                       f"{yes[vb['extra_peak_mib'] <= cv['extra_peak_mib']]}.")
    return out


def _limits(result):
    """What keeps our synthetic-corpus runs from the bar, from this run's measurements."""
    out = ["", "What limits it (synthetic corpus, measured in this run; tables below):", ""]
    for r in result["runs"]:
        if r["corpus"] != "synthetic" or "split" not in r:
            continue
        s = r["split"]
        prep = s["code_points"]
        total = prep + s["kernel"] + s["finish"]
        peer = _find(result, "synthetic", r["ngrams"], r["mode"], _peer_of(r))
        text = (f"- {r['ngrams']}, {r['mode']}: of {total:.2f} s, code points "
                f"{prep:.2f} s ({100 * prep / total:.0f}%), kernel {s['kernel']:.2f} s "
                f"({100 * s['kernel'] / total:.0f}%; "
                f"{r['n_bytes'] / 1e6 / s['kernel']:.0f} MB/s alone, so the kernel alone "
                f"{'reaches' if r['n_bytes'] / 1e6 / s['kernel'] >= 100 else 'misses'} "
                f"100 MB/s)")
        k = r.get("kernel_stages")
        if k:
            f = k["full kernel"]
            sort = 100 * (k["layout+murmur+sort"] - k["layout+murmur"]) / f
            if k["layout"] is None:
                text += (f"; inside it scanning and MurmurHash3 together "
                         f"{100 * k['layout+murmur'] / f:.0f}%, sorting the row ids {sort:.0f}%")
            else:
                text += (f"; inside it layout {100 * k['layout'] / f:.0f}%, MurmurHash3 "
                         f"{100 * (k['layout+murmur'] - k['layout']) / f:.0f}%, sorting the "
                         f"row ids {sort:.0f}%")
        if "code_points_extra_peak_mib" in s and peer:
            text += (f". Memory: `_code_points` alone peaks at "
                     f"+{s['code_points_extra_peak_mib']:.0f} MiB (the joined text and its "
                     f"encoding live together), "
                     f"{100 * s['code_points_extra_peak_mib'] / peer['extra_peak_mib']:.0f}% "
                     f"of {peer['impl']}'s whole extra peak")
        out.append(text + ".")
    return out if len(out) > 3 else []


def plot(result, path):
    runs = result["runs"]
    labels = [f"{r['corpus']} {r['ngrams']} {r['mode']}: {r['impl']}"
              + (f" n_jobs={r['n_jobs']}" if r.get("n_jobs", 1) != 1 else "") for r in runs]
    values = [r["mb_per_s"] for r in runs]
    colors = ["tab:blue" if r["impl"] == "BagOfWords" else "tab:gray" for r in runs]
    fig, ax = pyplot().subplots(figsize=(10, 0.35 * len(labels) + 1.5))
    ypos = np.arange(len(labels))[::-1]
    ax.barh(ypos, values, color=colors)
    ax.set_yticks(ypos, labels, fontsize=8)
    ax.set_xscale("log")
    ax.axvline(100, color="black", linestyle="--", linewidth=1, label="bar: 100 MB/s")
    for y, v in zip(ypos, values):
        ax.text(v, y, f" {v:.1f}", va="center", fontsize=7)
    ax.set_xlabel("MB/s of UTF-8 text (median of repeats; log scale)")
    m = result["machine"]
    ax.set_title(f"fit_transform throughput; {m['cpu']}, {m['cores']} cores",
                 fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_png(fig, path)


if __name__ == "__main__":
    main()

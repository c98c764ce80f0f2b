"""The ``fasttext-lin`` command line: thin subcommands over the library.

Text classification::

    fasttext-lin train CORPUS -o MODEL [--model linear|nbsvm] [--probability]
                       [featurizer and trainer options]
    fasttext-lin test MODEL CORPUS
    fasttext-lin predict MODEL [FILE|-] [--proba --k K]
    fasttext-lin cv CORPUS [--model linear|nbsvm] [--folds 10] [--grid C ...]

``--model linear`` (the default) is a BagOfWords with a bias column + LinearClassifier,
``--model nbsvm`` binary features + NBSVM (:func:`fasttext_lin.text_model.text_pipeline`).

CORPUS is a named corpus (``rt-polarity``, ``sst2``, ``ag_news``, ``20newsgroups``) or a
path: a fastText file (``__label__X text`` lines; ``.txt``, ``.ft``), a ``label sentence``
file as SST, TREC and MR ship (``1 a fine , funny film``: ``--format label-text``), a CSV or
TSV file (``.csv``, ``.tsv``), or a folder with one subfolder of documents per class. One
file per class, one document per line (as ``rt-polarity.pos`` / ``.neg``), is given with
``--class LABEL=PATH`` for each class in place of CORPUS.

LIBSVM data sets::

    fasttext-lin train DATA -o MODEL [--loss ... --C ... --epochs ... --seed ... --threads ...]
    fasttext-lin test MODEL DATA
    fasttext-lin predict MODEL [FILE|-] [--proba --k K]
    fasttext-lin cv DATA [--folds 10] [--grid C ...]

DATA is LIBSVM when it is a named LIBSVM set (``a9a``, ``dna``, ...: its train split for
``train`` and ``cv``, its test split for ``test``), a file ending in ``.libsvm`` or ``.svm``,
or any file given with ``--format libsvm``; ``train`` then fits a LinearClassifier (with an
intercept) on the features as they are, and ``cv`` cross-validates the same. ``predict``
with such a model reads ``index:value ...`` rows, a leading label ignored. Labels print as
written (``1``, ``-1``).

Model files::

    fasttext-lin quantize MODEL -o OUT [--weights float16|int8] [--prune F] [--test DATA]

Every command writing a file checks it first (not an input, a device, a FIFO or a folder;
its folder writable), before any work. Every error is one line on stderr, with a non-zero
exit status; ``-q`` silences progress bars and messages, not results. A first run's Numba
compilation is reported as such on stderr, and left out of the times printed.

``train --verbose`` (and ``test --verbose``) print to stderr the wall time of each stage:
Python start and imports, data load, kernel compile or cache load, training, saving.
"""

import argparse
import contextlib
import importlib
import itertools
import os
import re
import sys
import time

from . import __version__

_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "softmax")
_FORMATS = ("fasttext", "label-text", "csv", "tsv", "lines", "folders", "libsvm")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "fasttext", ".ft": "fasttext",
               ".libsvm": "libsvm", ".svm": "libsvm"}
# Text-only options (destination: flag, default): LIBSVM data refuses other values.
_TEXT_ONLY = {"model_type": ("--model", "linear"), "ngrams": ("--ngrams", 1),
              "weighting": ("--weighting", None), "tokenizer": ("--tokenizer", "default"),
              "hash": ("--hash", None), "min_df": ("--min-df", 1), "beta": ("--beta", None),
              "classes": ("--class", None)}
_PREDICT_CHUNK = 10_000  # documents featurized and written at a time
_FORMAT_HINT = "; a .svm or .libsvm file, or --format libsvm"


def _fetch(args):
    from .datasets import fetch_libsvm

    for name in args.names:
        data = fetch_libsvm(name, data_home=args.data_home)
        print(f"{name}: train {data.X_train.shape[0]} rows ({data.train_path}), "
              f"test {data.X_test.shape[0]} rows ({data.test_path}), "
              f"{data.n_features} features")
    return 0


def _bench(args):
    from .benchmark import format_table, run_libsvm_benchmark, write_results

    if args.out and os.path.exists(args.out):
        from ._io import check_output_path

        # Before the long run: a folder whose results file can be written (write_results
        # creates a missing folder).
        if not os.path.isdir(args.out):
            raise ValueError(f"--out {args.out}: not a folder; give a folder for the results")
        check_output_path(os.path.join(args.out, "libsvm.json"), what="results file")
    progress = (lambda message: print(message, file=sys.stderr)) if not args.quiet else None
    results = run_libsvm_benchmark(
        args.names, repeats=args.repeats, progress=progress, grid=args.grid,
        data_home=args.data_home, jit=not args.no_jit, max_epochs=args.max_epochs,
    )
    print(format_table(results))
    if args.out:
        for path in write_results(results, args.out):
            if not args.quiet:
                print(f"wrote {path}", file=sys.stderr)
    skipped = [f"{name}: {result['skipped']}" for name, result in results["sets"].items()
               if "skipped" in result]
    if skipped:
        # The sets that ran are printed, but the run is incomplete: not a success.
        raise ValueError(f"{len(skipped)} of {len(results['sets'])} set(s) skipped, no results "
                         f"for them: {'; '.join(skipped)}")
    return 0


# -- text: corpora ----------------------------------------------------------------------------

def _read_corpus(args, split):
    """``(texts, labels, shown)`` of the corpus the arguments name; ``split`` of a named one."""
    from . import datasets

    if args.classes:
        if args.corpus is not None or args.format not in (None, "lines"):
            raise ValueError("--class LABEL=PATH gives the corpus as one file per class: "
                             "give no CORPUS and no other --format")
        paths = dict(_label_path(pair) for pair in args.classes)
        if len(paths) < len(args.classes):
            raise ValueError("--class: a label is given twice; give each class once")
        texts, labels = datasets.read_file_per_class(paths, **_codec(args))
        return texts, labels, ", ".join(paths.values())
    if args.corpus is None:
        raise ValueError("give a CORPUS (a file, folder or corpus name) or --class LABEL=PATH "
                         "for each class")
    if os.path.exists(args.corpus):
        return (*_read_path(args, args.format or _guess_format(args.corpus)), args.corpus)
    if args.corpus in datasets.CORPORA:
        return _named_split(datasets.fetch_corpus(args.corpus, data_home=args.data_home), split)
    raise FileNotFoundError(f"no such file or folder: '{args.corpus}' (nor a corpus name: "
                            f"{', '.join(datasets.CORPORA)})")


def _read_path(args, kind):
    """``(texts, labels)`` of the file or folder CORPUS in format ``kind``."""
    from . import datasets

    if kind == "folders":
        return datasets.read_folder_per_class(args.corpus, **_codec(args))
    if kind == "fasttext":
        return datasets.read_fasttext(args.corpus, label_prefix=args.label_prefix,
                                      **_codec(args))
    if kind in ("csv", "tsv"):
        columns = [_column(c) for c in [args.label_column] + args.text_columns]
        named = any(isinstance(c, str) for c in columns)
        return datasets.read_delimited(
            args.corpus, columns[0], columns[1:], delimiter="," if kind == "csv" else "\t",
            header=True if named and args.header is None else args.header,
            quoting=args.quoting, **_codec(args))
    if kind == "label-text":
        return datasets.read_label_text(args.corpus, **_codec(args))
    raise ValueError("--format lines reads one file per class: give --class LABEL=PATH "
                     "for each class in place of CORPUS")


def _named_split(data, split):
    """The ``split`` of a named corpus, or its only split."""
    present = [s for s in ("train", "dev", "test") if data[f"texts_{s}"] is not None]
    if data[f"texts_{split}"] is None and len(present) > 1:
        raise ValueError(f"corpus {data.name} has no {split} split (it has {', '.join(present)})")
    chosen = split if data[f"texts_{split}"] is not None else present[0]
    return data[f"texts_{chosen}"], data[f"y_{chosen}"], f"{data.name} ({chosen} split)"


def _guess_format(path):
    if os.path.isdir(path):
        return "folders"
    extension = os.path.splitext(path)[1].lower()
    if extension not in _EXTENSIONS:
        raise ValueError(f"cannot tell the format of '{path}' from its extension: pass "
                         f"--format ({', '.join(_FORMATS)})")
    return _EXTENSIONS[extension]


def _label_path(pair):
    label, sep, path = pair.partition("=")
    if not sep or not label or not path:
        raise ValueError(f"--class {pair!r}: expected LABEL=PATH, e.g. pos=rt-polarity.pos")
    return label, path


def _column(text):
    """A column index (a number) or a header name."""
    return int(text) if text.lstrip("-").isdigit() else text


def _codec(args):
    return {"encoding": args.encoding, "errors": args.encoding_errors}


def _progress(args, **kwargs):
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal.
    return tqdm(disable=True if args.quiet else None, file=sys.stderr, leave=False, **kwargs)


def _pipeline(args, C=1.0):
    from .text_model import text_pipeline

    return text_pipeline(model=args.model_type, ngrams=args.ngrams, weighting=args.weighting,
                         tokenizer=args.tokenizer, n_features=args.hash, min_df=args.min_df,
                         loss=args.loss, C=C, beta=args.beta, epochs=args.epochs,
                         random_state=args.seed, probability=args.probability,
                         n_jobs=args.threads, parallel=args.parallel)


def _classifier_line(classifier):
    """What trains: ``classifier: NBSVM (beta 0.25, hinge, 30 epochs, averaged)``."""
    beta = f"beta {classifier.beta}, " if hasattr(classifier, "beta") else ""
    averaged = ", averaged" if classifier.average else ""
    calibrated = (", probabilities by Platt scaling on held-out folds"
                  if hasattr(classifier, "calibration_") else "")
    return (f"classifier: {type(classifier).__name__} ({beta}{classifier.loss}, "
            f"{classifier.max_iter} epochs{averaged}{calibrated})")


def _check_output(args, output, *inputs):
    """Refuse ``-o`` before any work: not a regular file, one of the inputs, or unwritable.

    The inputs are ``inputs`` and the data the arguments name (CORPUS, each ``--class``
    file); a named set's cached files are not given by the user and are left out.
    """
    from ._io import check_output_path

    given = [*inputs, args.corpus, *(_label_path(pair)[1] for pair in args.classes or ())]
    check_output_path(output, inputs=[path for path in given if path is not None],
                      what="model file")


# -- --verbose: where the time goes ---------------------------------------------------------

class _Timings:
    """Wall time of a command's stages, printed to stderr as ``time: <stage>: ...`` lines.

    Parameters
    ----------
    verbose : bool
        Print the lines at :meth:`report`; otherwise only measure.
    quiet : bool, default=False
        Without ``verbose``: no ``compiling kernels`` line either.

    Attributes
    ----------
    compiled : bool
        Whether the last :meth:`kernels` block compiled kernels (rather than load them from
        Numba's cache): the command's time lines then leave that time out.
    """

    def __init__(self, verbose, quiet=False):
        self.verbose, self.quiet = verbose, quiet
        self.lines = []
        self.compiled = False
        self._lock_timer = None

    def kernel_seconds(self):
        """Seconds the last :meth:`kernels` block has held Numba's compiler lock so far."""
        timer = self._lock_timer
        return timer.duration if timer is not None and timer.done else 0.0

    def without_compile(self, seconds, kernel_seconds):
        """``seconds`` less ``kernel_seconds`` if the last :meth:`kernels` block compiled
        (the compilation is reported apart); a cache load stays in."""
        return seconds - kernel_seconds if self.compiled else seconds

    @contextlib.contextmanager
    def __call__(self, stage):
        start = time.perf_counter()
        yield
        self.lines.append(f"{stage}: {time.perf_counter() - start:.3f} s")

    @contextlib.contextmanager
    def imports(self):
        """Time the command's imports; with /proc, from the start of the Python process."""
        start = time.perf_counter()
        yield
        since_start = _process_age()
        if since_start is None:
            self.lines.append(f"import: {time.perf_counter() - start:.3f} s (this command's "
                              "imports)")
        else:
            self.lines.append(f"import: {since_start:.3f} s (Python start and all imports, "
                              "since the process started)")

    @contextlib.contextmanager
    def kernels(self, stage="train"):
        """Split the time of the block into Numba compile or cache load, and ``stage``.

        The compile or cache load time is the time Numba holds its compiler lock (the
        ``numba:compiler_lock`` event); the package's dispatchers' cache hits and misses
        and the ``numba:compile`` events say which of the two it was. A compilation is
        noted in :attr:`compiled` and, without ``verbose`` (whose lines say it) or
        ``quiet``, reported on stderr as it ends: a first run's wait is not a slow command.
        """
        from numba.core import event

        before = _kernel_cache_stats()
        start = time.perf_counter()
        # A listener read as the block runs (install_timer reports only at its end).
        self._lock_timer = event.TimingListener()
        with event.install_listener("numba:compiler_lock", self._lock_timer), \
                event.install_recorder("numba:compile") as compiles:
            yield
        total = time.perf_counter() - start
        kernels = self.kernel_seconds()
        hits, misses = (after - earlier for after, earlier in
                        zip(_kernel_cache_stats(), before))
        n_compiles = sum(1 for _, ev in compiles.buffer if ev.is_start)
        what = ("compile" if misses or n_compiles else "cache load") if kernels else "none"
        self.compiled = what == "compile"
        if self.compiled:
            if not (self.verbose or self.quiet):
                print(f"compiling kernels, first run only: {kernels:.1f} s", file=sys.stderr)
        self.lines.append(f"kernels: {kernels:.3f} s {what} ({hits} loaded from Numba's cache, "
                          f"{misses} compiled; {n_compiles} numba:compile events)")
        self.lines.append(f"{stage}: {total - kernels:.3f} s (without the kernels' compile or "
                          "cache load)")

    def report(self):
        """Print the lines to stderr, and the whole wall time so far, if verbose."""
        if not self.verbose:
            return
        age = _process_age()
        lines = self.lines + ([f"total: {age:.3f} s since the process started"]
                              if age is not None else [])
        print("\n".join("time: " + line for line in lines), file=sys.stderr)


def _process_age():
    """Seconds since this process started (Linux /proc, 10 ms steps), or None."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            # Field 22, counted after the command name, which may hold spaces.
            ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _kernel_cache_stats():
    """``(cache hits, cache misses)`` summed over the package's Numba dispatchers."""
    hits = misses = 0
    for dispatcher in _package_dispatchers().values():
        hits += sum(dispatcher.stats.cache_hits.values())
        misses += sum(dispatcher.stats.cache_misses.values())
    return hits, misses


def _package_dispatchers():
    """Every Numba dispatcher defined in a loaded ``fasttext_lin`` module, by qualified name."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] != __package__ or module is None:
            continue
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module_name:
                found[f"{module_name}.{name}"] = value
    return found


# -- text: subcommands ------------------------------------------------------------------------

def _train(args):
    _check_output(args, args.output)
    timings = _Timings(args.verbose, args.quiet)
    if args.stream:
        return _train_stream(args, timings)
    if _is_libsvm(args):
        return _train_libsvm(args, timings)
    with timings.imports():
        from .text_model import save_text_model

    pipeline = _pipeline(args, args.C)
    with _progress(args, total=3, desc="read corpus") as bar:
        with timings("load"):
            texts, y, shown = _read_corpus(args, "train")
        bar.update()
        bar.set_description("featurize")
        start = time.perf_counter()
        with timings.kernels():
            X = pipeline[0].fit_transform(texts, y)
            featurized, in_featurize = time.perf_counter(), timings.kernel_seconds()
            bar.update()
            bar.set_description("fit")
            pipeline[1].fit(X, y)
            end = time.perf_counter()
        bar.update()
    featurize = timings.without_compile(featurized - start, in_featurize)
    fit = timings.without_compile(end - featurized, timings.kernel_seconds() - in_featurize)
    featurizer, classes = pipeline[0], pipeline[1].classes_
    print(f"corpus: {shown}: {len(texts)} rows, {len(classes)} classes "
          f"({_shown_labels(classes)})")
    print(f"features: {X.shape[1]} ({'hashed' if args.hash else 'vocabulary'}, "
          f"1-{args.ngrams}-grams, {featurizer.weighting}, "
          f"{'bias column' if featurizer.bias else 'no bias column'})")
    print(_classifier_line(pipeline[1]))
    print(f"train time: {featurize + fit:.2f} s (featurize {featurize:.2f} s, "
          f"fit {fit:.2f} s)")
    print(f"training accuracy: {pipeline[1].score(X, y):.4f}")
    with timings("save"):
        save_text_model(args.output, pipeline)
    print(f"model: {args.output}")
    timings.report()
    return 0


def _train_libsvm(args, timings):
    """``train`` on LIBSVM data: a LinearClassifier as the LIBSVM benchmark runs it."""
    _check_libsvm_options(args)
    with timings.imports():
        from .persist import save_model

    with timings("load"):
        X, y, shown = _read_libsvm(args, "train")
    classifier = _libsvm_classifier(args, args.C, X.shape[0]).set_params(
        probability=args.probability)
    start = time.perf_counter()
    with timings.kernels():
        classifier.fit(X, y)
    seconds = timings.without_compile(time.perf_counter() - start, timings.kernel_seconds())
    print(f"data: {shown}: {X.shape[0]} rows, {X.shape[1]} features, "
          f"{len(classifier.classes_)} classes ({_shown_labels(classifier.classes_)})")
    print(_classifier_line(classifier))
    print(f"train time: {seconds:.2f} s")
    print(f"training accuracy: {classifier.score(X, y):.4f}")
    with timings("save"):
        save_model(args.output, classifier)
    print(f"model: {args.output}")
    timings.report()
    return 0


def _libsvm_classifier(args, C, n_samples):
    """The LinearClassifier ``train`` and ``cv`` fit on LIBSVM data: the LIBSVM benchmark's
    (its epochs, averaged over the last half for ``n_samples`` rows), with the options."""
    from .benchmark import our_estimator

    return our_estimator(args.loss, C, n_samples, epochs=args.epochs).set_params(
        random_state=args.seed, n_jobs=args.threads, parallel=args.parallel)


def _refuse_text_options(args):
    given = [flag for name, (flag, default) in _TEXT_ONLY.items()
             if getattr(args, name) != default]
    if given:
        raise ValueError(f"{', '.join(given)}: text featurizer option(s), but {args.corpus} is "
                         "LIBSVM data (numeric features): drop them")


def _check_libsvm_options(args):
    """Refuse, before any data is read, options that do not apply to LIBSVM data, and a
    loss without default epochs (see :func:`_libsvm_classifier`) but no ``--epochs``."""
    from .benchmark import OUR_EPOCHS

    _refuse_text_options(args)
    if args.epochs is None and args.loss not in OUR_EPOCHS:
        raise ValueError(f"--loss {args.loss} on LIBSVM data: give --epochs (default epochs "
                         f"are set for {', '.join(OUR_EPOCHS)} only)")


def _train_stream(args, timings):
    """``train --stream``: :func:`fasttext_lin.stream.stream_fit` on a fastText or LIBSVM
    file."""
    if args.probability:
        raise ValueError("--probability needs held-out folds in memory: drop it or --stream")
    libsvm = _is_libsvm(args)
    path, n_features = _stream_source(args, libsvm)
    with timings.imports():
        from .stream import stream_fit

    if libsvm:
        _refuse_text_options(args)
        from .linear_model import LinearClassifier

        read = dict(format="libsvm", n_features=n_features, classifier=LinearClassifier(
            loss=args.loss, C=args.C, average=True, n_jobs=args.threads,
            parallel=args.parallel))
    else:
        if args.format not in (None, "fasttext") or args.model_type != "linear":
            raise ValueError("--stream trains --model linear on a fastText or LIBSVM file")
        # Hashing, and no weights learned from the whole corpus: a stream sees it once.
        pipeline = _pipeline(argparse.Namespace(**{
            **vars(args), "hash": args.hash or 1 << 20, "weighting": args.weighting or "binary"}),
            args.C)
        read = dict(format="fasttext", featurizer=pipeline[0], classifier=pipeline[1],
                    label_prefix=args.label_prefix, encoding=args.encoding,
                    errors=args.encoding_errors)
    start = time.perf_counter()
    with timings.kernels():
        model = stream_fit(path, chunk_size=args.chunk_size, passes=args.epochs or 5,
                           random_state=args.seed, progress=not args.quiet, **read)
    seconds = timings.without_compile(time.perf_counter() - start, timings.kernel_seconds())
    classifier = model if libsvm else model[-1]
    print(f"data: {path}, streamed in chunks of {args.chunk_size} lines: "
          f"{len(classifier.classes_)} classes ({_shown_labels(classifier.classes_)})")
    print(_classifier_line(classifier))
    print(f"train time: {seconds:.2f} s ({classifier.n_iter_} passes)")
    with timings("save"):
        if libsvm:
            from .persist import save_model

            save_model(args.output, model)
        else:
            from .text_model import save_text_model

            save_text_model(args.output, model)
    print(f"model: {args.output}")
    timings.report()
    return 0


def _stream_source(args, libsvm):
    """``(path, n_features)`` of the file to stream (a named LIBSVM set's train file)."""
    if args.classes or args.corpus is None:
        raise ValueError("--stream reads one fastText or LIBSVM file: give it as CORPUS")
    if libsvm and _is_libsvm_name(args.corpus):
        from .datasets import fetch_libsvm

        # A named set is small: fetching verifies (or downloads) its file.
        data = fetch_libsvm(args.corpus, data_home=args.data_home, subset="train")
        return str(data.train_path), args.n_features or data.n_features
    if not os.path.isfile(args.corpus):
        raise ValueError(f"--stream reads one fastText or LIBSVM file; '{args.corpus}' is not "
                         "a file")
    if libsvm and args.n_features is None:
        raise ValueError("--stream on a LIBSVM file needs --n-features (the file does not say "
                         "how many features there are)")
    return args.corpus, args.n_features


def _is_libsvm(args):
    """Whether the data argument is LIBSVM data (see the module docstring)."""
    if args.format == "libsvm" and args.corpus is None:
        raise ValueError("--format libsvm: give the LIBSVM file or set name as DATA")
    if args.format is not None or args.corpus is None:
        return args.format == "libsvm"
    if os.path.exists(args.corpus):
        return _EXTENSIONS.get(os.path.splitext(args.corpus)[1].lower()) == "libsvm"
    return _is_libsvm_name(args.corpus)


def _is_libsvm_name(data):
    from .datasets import LIBSVM_SETS

    return data in LIBSVM_SETS and not os.path.exists(data)


def _read_libsvm(args, split):
    """``(X, y, shown)``: the ``split`` of a named LIBSVM set, or the LIBSVM file given
    (``--n-features`` wide if given; its labels must be classes, not regression targets)."""
    from . import datasets

    if _is_libsvm_name(args.corpus):
        data = datasets.fetch_libsvm(args.corpus, data_home=args.data_home, subset=split)
        return (data[f"X_{split}"], data[f"y_{split}"],
                f"{data.name} ({split} split, {data[f'{split}_path']})")
    X, y = datasets.load_libsvm(args.corpus, n_features=getattr(args, "n_features", None))
    datasets.check_class_labels(y, args.corpus)
    return X, y, args.corpus


def _to_width(X, n_features, where):
    """``X`` as a model of ``n_features`` features takes it: features beyond the model's
    are ignored, as liblinear's predict does, with a note on stderr naming ``where(row)``
    of the first such row; missing ones are zero."""
    import numpy as np
    import scipy.sparse as sp

    if X.shape[1] > n_features:
        beyond = X[:, n_features:]
        rows = np.flatnonzero(np.diff(beyond.indptr))
        if rows.size:
            first = n_features + beyond[rows[0]].indices.min() + 1
            print(f"note: {where(rows[0])}: feature {first} is beyond the model's {n_features}; "
                  f"{rows.size} row(s) have such features, ignored (as liblinear does)",
                  file=sys.stderr)
        X = sp.csr_matrix(X[:, :n_features])
    X.resize(X.shape[0], n_features)
    return X


def _shown_labels(labels, limit=10):
    shown = ", ".join(_label_strings(labels[:limit]))
    return shown + (", ..." if len(labels) > limit else "")


def _label_strings(labels):
    """Labels as a user wrote them: the float labels of LIBSVM files without a needless
    ``.0`` (``1``, ``-1``, ``0.5``); other labels as ``str`` gives them.

    Returns
    -------
    list of str
    """
    import numpy as np

    labels = np.asarray(labels)
    if labels.dtype.kind != "f":
        return labels.astype(str).tolist()
    return [str(int(v)) if v.is_integer() else str(v) for v in labels.tolist()]


def _test(args):
    timings = _Timings(args.verbose, args.quiet)
    libsvm = _is_libsvm(args)
    with timings.imports():
        importlib.import_module(".persist" if libsvm else ".text_model", __package__)

    with timings("load"):
        model = _load_model(args.model, libsvm, _data_name(args), _FORMAT_HINT)
        X, y, shown = _test_data(args, libsvm, model)
    with _progress(args, total=1, desc="predict") as bar, timings.kernels("predict"):
        predicted = model.predict(X)
        bar.update()
    print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows")
    _report(y, predicted, model.classes_)
    timings.report()
    return 0


def _test_data(args, libsvm, model):
    """``(X, y, shown)``: the test split the arguments name, as ``model`` takes it; labels
    the model never saw are refused."""
    import numpy as np

    if libsvm:
        X, y, shown = _read_libsvm(args, "test")
        X = _to_width(X, model.n_features_in_, lambda row: f"{shown}, row {row + 1}")
    else:
        X, y, shown = _read_corpus(args, "test")
    unseen = ~np.isin(y, model.classes_)
    if unseen.any():
        raise ValueError(f"{shown}: {int(unseen.sum())} of {len(y)} rows have labels the model "
                         f"never saw: {_shown_labels(np.unique(y[unseen]))} (model classes: "
                         f"{_shown_labels(model.classes_)})")
    return X, y, shown


def _data_name(args):
    """The data the arguments name, for messages."""
    if args.classes:
        return ", ".join(_label_path(pair)[1] for pair in args.classes)
    return args.corpus


def _load_model(path, libsvm, data, hint=""):
    """The model file ``path`` for ``data``: a LinearClassifier or NBSVM on LIBSVM data
    (``libsvm``), a text pipeline otherwise; the other kind is refused, saying which is which
    (and ``hint``: how to say that ``data`` is LIBSVM).
    """
    from .persist import ModelFileError, load_model

    if not libsvm:
        from .text_model import load_text_model

        try:
            return load_text_model(path)
        except ModelFileError:
            if load_model(path, return_extra=True)[1]["metadata"]:
                raise
            raise ValueError(f"{path} is a model of LIBSVM data (numeric features, no "
                             f"featurizer) but {data} is read as text: give it LIBSVM data "
                             f"('label index:value ...' lines{hint}), or a model trained on "
                             "text") from None
    model, extra = load_model(path, return_extra=True)
    if extra["metadata"]:
        raise ValueError(f"{path} is a text model (it holds a featurizer) but {data} is LIBSVM "
                         "data (numeric features): give it text, or a model trained on LIBSVM "
                         "data")
    return model


def _report(y, predicted, classes):
    """Accuracy, scikit-learn's classification report and the confusion matrix."""
    import numpy as np
    from sklearn.metrics import classification_report, confusion_matrix

    names = _label_strings(classes)
    print(f"accuracy: {np.mean(predicted == y):.4f}")
    print(classification_report(y, predicted, labels=classes, target_names=names, digits=4,
                                zero_division=0))
    print("confusion matrix (rows: true label, columns: predicted label):")
    print(_matrix_table(confusion_matrix(y, predicted, labels=classes), names))


def _matrix_table(matrix, names):
    width = max(max(map(len, names)), len(str(matrix.max())))
    lines = [" " * width + " " + " ".join(name.rjust(width) for name in names)]
    lines += [name.rjust(width) + " " + " ".join(str(v).rjust(width) for v in row)
              for name, row in zip(names, matrix)]
    return "\n".join(lines)


def _predict(args):
    import numpy as np

    if args.k is not None and not args.proba:
        raise ValueError(f"--k {args.k} needs --proba (it is how many labels are printed with "
                         "their probabilities): add --proba, or drop --k")
    k = 1 if args.k is None else args.k
    if k < 1:
        raise ValueError(f"--k {k}: give a number of labels >= 1")
    from .datasets import decode_part, split_lines

    # Decoding nothing checks the encoding and the errors handler, before any input is read.
    decode_part(b"", "", args.encoding, args.encoding_errors, 1, 0)
    name = "<stdin>" if args.input in (None, "-") else args.input
    chunks = _raw_chunks(args.input, name)
    first = next(chunks, None)
    libsvm = _looks_libsvm(name, first[2] if first else [])
    timings = _Timings(verbose=False, quiet=args.quiet)
    model = _load_model(args.model, libsvm, name)
    if args.proba:
        _check_proba(model if libsvm else model[-1])
    classes = _label_strings(model.classes_)
    k = min(k, len(classes))
    with timings.kernels("predict"):
        for lineno, offset, lines in itertools.chain([first] if first else [], chunks):
            X = (_libsvm_rows(lines, name, lineno, model.n_features_in_) if libsvm else
                 split_lines(decode_part(b"".join(lines), name, args.encoding,
                                         args.encoding_errors, lineno, offset)))
            if args.proba:
                proba = model.predict_proba(X)
                best = np.argsort(-proba, axis=1, kind="stable")[:, :k]
                out = ["\t".join(f"{classes[j]}\t{row[j]:.6g}" for j in order)
                       for row, order in zip(proba, best)]
            else:
                out = _label_strings(model.predict(X))
            sys.stdout.write("\n".join(out) + "\n")
    return 0


def _check_proba(classifier):
    """Refuse ``--proba`` for a classifier without probabilities, saying how to get them."""
    from .linear_model import _PROBA_LOSSES
    from .nbsvm import NBSVM

    if isinstance(classifier, NBSVM):
        raise ValueError("an NBSVM model has no probabilities (it gives scores only): drop "
                         "--proba, or train with --model linear --loss log_loss for --proba")
    if not hasattr(classifier, "predict_proba"):
        raise ValueError(f"the model's loss {classifier.loss!r} gives no probabilities: train "
                         "it with --probability to calibrate them, or with --loss "
                         f"{' or '.join(_PROBA_LOSSES)}, for --proba")


def _raw_chunks(path, name):
    """``(first line number, its byte offset, lines)``: at most ``_PREDICT_CHUNK`` raw lines
    of the input at a time (standard input for None or ``-``)."""
    stream = open(path, "rb") if name != "<stdin>" else contextlib.nullcontext(
        sys.stdin.buffer)
    with stream as stream:
        first, offset, chunk = 1, 0, []
        for lineno, raw in enumerate(stream, start=1):
            chunk.append(raw)
            if len(chunk) == _PREDICT_CHUNK:
                yield first, offset, chunk
                first, offset, chunk = lineno + 1, offset + sum(map(len, chunk)), []
        if chunk:
            yield first, offset, chunk


# A LIBSVM row, with or without its label: "[label] index:value ...", then a comment.
_LIBSVM_ROW = re.compile(rb"\s*(?:[^\s:]+\s+)?\d+:\S+(?:\s+\d+:\S+)*\s*(?:#.*)?")


def _looks_libsvm(name, lines):
    """Whether the input is LIBSVM data: by its extension, else by its first non-blank line."""
    if _EXTENSIONS.get(os.path.splitext(name)[1].lower()) == "libsvm":
        return True
    line = next((raw for raw in lines if raw.strip()), b"")
    return _LIBSVM_ROW.fullmatch(line.rstrip(b"\r\n")) is not None


def _libsvm_rows(lines, name, first_line, n_features):
    """CSR rows of LIBSVM lines for a model of ``n_features`` features.

    Labels are optional and ignored; every line is one row (a blank or comment line: a row
    without features); features beyond the model's are ignored, as liblinear does. An error
    names ``name`` and the line.
    """
    import tempfile

    from .datasets import load_libsvm

    # load_libsvm reads files, labelled: give it one, line for line.
    rows = []
    for raw in lines:
        tokens = raw.split(b"#", 1)[0].split()
        features = tokens[0 if tokens and b":" in tokens[0] else 1:]
        rows.append(b" ".join([b"0", *features]))
    with tempfile.NamedTemporaryFile(suffix=".libsvm") as tmp:
        tmp.write(b"\n".join(rows) + b"\n")
        tmp.flush()
        try:
            X, _ = load_libsvm(tmp.name)
        except ValueError as exc:
            where, _, problem = str(exc).removeprefix(tmp.name + ":").partition(": ")
            line = first_line + int(where) - 1 if where.isdigit() else first_line
            raise ValueError(f"{name}:{line}: {problem}; the model was trained on LIBSVM data: "
                             "give it lines 'index:value ...' or 'label index:value ...'"
                             ) from None
    return _to_width(X, n_features, lambda row: f"{name}:{first_line + row}")


def _cv(args):
    from .text_model import cross_validate_text

    timings = _Timings(verbose=False, quiet=args.quiet)
    libsvm = _is_libsvm(args)
    if libsvm:
        _check_libsvm_options(args)
        X, y, shown = _read_libsvm(args, "train")
        # The training folds' size sets where the averaging starts, as train does.
        estimator = _rows_of(X, _libsvm_classifier(args, 1.0, len(y) - len(y) // args.folds))
        data = range(len(y))
    else:
        estimator = _pipeline(args)
        data, y, shown = _read_corpus(args, "train")
    grid = args.grid[0] if len(args.grid) == 1 else args.grid
    with _progress(args, total=args.folds, desc="folds") as bar, timings.kernels("cv"):
        def progress(fold, accuracy, chosen):
            bar.set_postfix(accuracy=f"{accuracy:.4f}", refresh=False)
            bar.update()

        result = cross_validate_text(estimator, data, y, folds=args.folds, grid=grid,
                                     inner_folds=args.inner_folds, random_state=args.seed,
                                     progress=progress)
    seconds = timings.without_compile(result.wall_time, timings.kernel_seconds())
    how = (f"C chosen among {', '.join(f'{c:g}' for c in args.grid)} by "
           f"{args.inner_folds}-fold CV inside each training fold" if len(args.grid) > 1
           else f"C={args.grid[0]:g}")
    print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows; "
          f"{args.folds}-fold cross-validation, {how}")
    print(_classifier_line(estimator[-1]))
    for fold, (accuracy, C) in enumerate(zip(result.fold_accuracy, result.fold_chosen), 1):
        print(f"fold {fold}: accuracy {accuracy:.4f} (C={C:g})")
    print(f"accuracy: {result.mean_accuracy:.4f} ± {result.std_accuracy:.4f} "
          f"({seconds:.1f} s)")
    return 0


def _rows_of(X, classifier):
    """``classifier`` as a pipeline over row numbers of ``X``: ``cross_validate_text``'s folds
    and search, made for texts, then run on LIBSVM rows."""
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    def rows(numbers):
        # A closure, not X.__getitem__: cloning the pipeline then shares X, not copies it.
        return X[np.asarray(numbers, dtype=np.intp)]

    return Pipeline([("rows", FunctionTransformer(rows)), ("classifier", classifier)])


def _quantize(args):
    """``quantize``: :func:`fasttext_lin.persist.quantize_model`, then the sizes and, with
    test data, the accuracy of both models on it."""
    import numpy as np

    from .persist import quantize_model

    _check_output(args, args.output, args.model)
    timings = _Timings(verbose=False, quiet=args.quiet)
    test = args.corpus is not None or bool(args.classes)
    if test:
        # Read the data (and refuse a mismatch) before anything is written.
        libsvm = _is_libsvm(args)
        before = _load_model(args.model, libsvm, _data_name(args), _FORMAT_HINT)
        X, y, shown = _test_data(args, libsvm, before)
    result = quantize_model(args.model, args.output, weights=args.weights, prune=args.prune)
    print(f"model: {args.model}: {_size(result['bytes_before'])}")
    ratio = result["bytes_after"] / result["bytes_before"]
    print(f"quantized: {args.output}: {_size(result['bytes_after'])} ({ratio:.1%} of the size), "
          f"{result['weights']} weights, {result['pruned']:.1%} of the weights pruned to 0")
    if test:
        after = _load_model(args.output, libsvm, shown)
        with timings.kernels("predict"):
            accuracy = [float(np.mean(model.predict(X) == y)) for model in (before, after)]
        print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows")
        print(f"accuracy: {accuracy[0]:.4f} before, {accuracy[1]:.4f} after "
              f"({100 * (accuracy[1] - accuracy[0]):+.2f} points)")
    return 0


def _size(n_bytes):
    return f"{n_bytes / 1e6:.2f} MB" if n_bytes >= 100_000 else f"{n_bytes} bytes"


# -- the parser -------------------------------------------------------------------------------

def _data_home_option(parser):
    parser.add_argument("--data-home", help="data directory (default: $FASTTEXT_LIN_DATA, "
                                            "then the per-user cache folder)")


def _positive(kind):
    finite = "finite " if kind is float else ""

    def parse(text):
        value = kind(text)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text}: expected a {finite}number > 0")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _encoding_options(parser):
    parser.add_argument("--encoding", default="utf-8",
                        help="text encoding (default %(default)s; e.g. latin-1)")
    parser.add_argument("--encoding-errors", default="strict",
                        help="decoding errors: strict (default), replace or ignore")


def _corpus_options(parser):
    parser.add_argument("--format", choices=_FORMATS,
                        help="format of CORPUS (default: from its extension: .csv, .tsv, "
                             ".txt/.ft = fasttext, .libsvm/.svm = libsvm; a folder = one "
                             "subfolder per class; a LIBSVM set name = libsvm); label-text: "
                             "'label sentence' lines, as SST, TREC and MR ship")
    parser.add_argument("--class", dest="classes", action="append", metavar="LABEL=PATH",
                        help="one file per class, one document per line (format 'lines'); "
                             "repeat for each class, without CORPUS")
    parser.add_argument("--label-column", default="0",
                        help="csv/tsv: label column, an index from 0 or a header name "
                             "(default 0)")
    parser.add_argument("--text-columns", nargs="+", default=["1"], metavar="COLUMN",
                        help="csv/tsv: text column(s), joined by a space (default 1)")
    parser.add_argument("--header", action=argparse.BooleanOptionalAction,
                        help="csv/tsv: the first record names the columns (implied by "
                             "column names); --no-header: it is a document (default: a "
                             "document, refused if it looks like a header)")
    parser.add_argument("--quoting", action=argparse.BooleanOptionalAction,
                        help="csv/tsv: '\"' quotes fields (default for csv); --no-quoting: "
                             "quotes are plain text (default for tsv)")
    parser.add_argument("--label-prefix", default="__label__",
                        help="fasttext: prefix of the label tokens (default %(default)s)")
    _encoding_options(parser)
    _data_home_option(parser)


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text}: expected a number in [0, 1)")
    return value


_fraction.__name__ = "float"


class _LazyChoices:
    """Choices read from a module when argparse first looks at them (a value given, an error,
    --help): building the parser then imports no text module and no scikit-learn."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def _values(self):
        return getattr(importlib.import_module(self.module, __package__), self.name)

    def __contains__(self, value):
        return value in self._values()

    def __iter__(self):
        return iter(self._values())


def _model_options(parser, with_C):
    group = parser.add_argument_group("featurizer and trainer")
    # metavar: argparse would otherwise list the choices as the parser is built.
    group.add_argument("--model", dest="model_type", default="linear", metavar="MODEL",
                       choices=_LazyChoices(".text_model", "MODELS"),
                       help="linear: BagOfWords (bias column) + LinearClassifier (default); "
                            "nbsvm: binary features + NBSVM (Wang and Manning's NB-SVM)")
    group.add_argument("--ngrams", type=_positive(int), default=1,
                       help="word n-grams of lengths 1 to N (default 1)")
    group.add_argument("--weighting", choices=("binary", "count", "tfidf", "nb"),
                       help="feature values (default tfidf; --model nbsvm takes binary only)")
    group.add_argument("--tokenizer", choices=("default", "whitespace"), default="default",
                       help="default: runs of 2+ word characters; whitespace: fastText-like")
    group.add_argument("--hash", type=_positive(int), metavar="N",
                       help="hash n-grams into N columns (default: learn a vocabulary)")
    group.add_argument("--min-df", type=_positive(int), default=1,
                       help="keep terms in at least this many documents (default 1)")
    group.add_argument("--loss", choices=_LOSSES, default="hinge",
                       help="hinge: linear SVM (default; train --probability gives it "
                            "probabilities); log_loss: logistic regression (one-vs-rest); "
                            "softmax: multinomial logistic regression")
    if with_C:
        group.add_argument("--C", type=_positive(float), default=1.0,
                           help="regularisation as LinearSVC's C (default 1)")
    group.add_argument("--beta", type=_positive(float),
                       help="--model nbsvm: interpolation weight in (0, 1] (default: "
                            "NBSVM's, 0.25 for two classes)")
    group.add_argument("--epochs", type=_positive(int),
                       help="SGD epochs (default 10; 30 with --model nbsvm; LIBSVM data: "
                            "the LIBSVM benchmark's, 20 for the hinge losses, 10 for log_loss, "
                            "averaged over the last half)")
    group.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    group.add_argument("--threads", type=_positive(int), default=1,
                       help="threads (default 1): within one model for binary and softmax "
                            "(Hogwild: the model then varies from run to run), over classes "
                            "for one-vs-rest (same model for any value)")
    group.add_argument("--parallel", choices=("hogwild", "deterministic"), default="hogwild",
                       help="--threads within one model: hogwild (default; lock-free, the "
                            "model varies from run to run) or deterministic (parameter mixing "
                            "over fixed blocks: the same model for any --threads)")
    _quiet_option(parser)


def _n_features_option(parser):
    parser.add_argument("--n-features", type=_positive(int), metavar="N",
                        help="a LIBSVM file's number of features (default: its largest index; "
                             "needed with --stream; a named set's is known)")


def _quiet_option(parser):
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar, no progress or compile messages on stderr; "
                             "results, notes on the data and errors still print")


def _verbose_option(parser):
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print to stderr the wall time of each stage: Python start and "
                             "imports, data load, Numba kernel compile or cache load, "
                             "training or predicting, saving")


def _text_parsers(commands):
    from .benchmark import GRID

    corpus_help = ("a file, a folder of class folders, a corpus name (rt-polarity, ...), or "
                   "LIBSVM data: a set name (a9a, ...) or a file with --format libsvm")
    train = commands.add_parser("train", help="train a classifier on a text corpus or LIBSVM "
                                              "data and save it")
    train.add_argument("corpus", nargs="?", metavar="CORPUS", help=corpus_help)
    train.add_argument("-o", "--output", required=True, metavar="MODEL",
                       help="model file to write")
    train.add_argument("--probability", action="store_true",
                       help="--model linear with --loss hinge or squared_hinge: calibrate "
                            "probabilities for predict --proba (Platt scaling on 5 "
                            "held-out folds: 6 fits)")
    stream = train.add_argument_group("out of core")
    stream.add_argument("--stream", action="store_true",
                        help="read a fastText or LIBSVM file in chunks of lines, never whole: "
                             "memory holds one chunk and the model; text is hashed (--hash, "
                             "default 2^20), weighting binary or count (default binary); "
                             "--epochs passes (default 5)")
    stream.add_argument("--chunk-size", type=_positive(int), default=100_000, metavar="N",
                        help="--stream: lines a chunk (default %(default)s)")
    _n_features_option(stream)
    _corpus_options(train)
    _model_options(train, with_C=True)
    _verbose_option(train)
    train.set_defaults(run=_train)

    test = commands.add_parser("test", help="accuracy, per-class scores and confusion matrix")
    test.add_argument("model", metavar="MODEL")
    test.add_argument("corpus", nargs="?", metavar="CORPUS",
                      help=corpus_help + "; its test split")
    _corpus_options(test)
    _quiet_option(test)
    _verbose_option(test)
    test.set_defaults(run=_test)

    predict = commands.add_parser("predict", help="label one document (or LIBSVM row) per "
                                                  "line")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("input", nargs="?", metavar="FILE",
                         help="one document per line, or for a model of LIBSVM data one row "
                              "per line ('index:value ...', a leading label is ignored); - or "
                              "none: standard input")
    predict.add_argument("--proba", action="store_true",
                         help="print the K best labels with probabilities, tab-separated")
    predict.add_argument("--k", type=int,
                         help="--proba: how many labels to print (default 1)")
    _encoding_options(predict)
    _quiet_option(predict)
    predict.set_defaults(run=_predict)

    cv = commands.add_parser("cv", help="k-fold cross-validation, C chosen in each fold")
    cv.add_argument("corpus", nargs="?", metavar="CORPUS", help=corpus_help)
    cv.add_argument("--folds", type=_positive(int), default=10, help="folds (default 10)")
    cv.add_argument("--grid", type=_positive(float), nargs="+", default=list(GRID),
                    metavar="C", help="values of C (default: %(default)s); one value: no "
                                      "search")
    cv.add_argument("--inner-folds", type=_positive(int), default=3,
                    help="folds of the search for C in each training fold (default 3)")
    _n_features_option(cv)
    _corpus_options(cv)
    _model_options(cv, with_C=False)
    cv.set_defaults(run=_cv, probability=False)

    quantize = commands.add_parser(
        "quantize", help="write a smaller copy of a model file (fewer bits a weight, pruning); "
                         "with --test, the accuracy it costs")
    quantize.add_argument("model", metavar="MODEL")
    quantize.add_argument("-o", "--output", required=True, metavar="OUT",
                          help="model file to write")
    quantize.add_argument("--weights", default="float16", metavar="{float16,int8}",
                          choices=_LazyChoices(".persist", "WEIGHTS"),
                          help="float16: half precision (default); int8: 8-bit codes and one "
                               "scale per class (smaller; more predictions move)")
    quantize.add_argument("--prune", type=_fraction, default=0.0, metavar="F",
                          help="first set to 0 the weights below F times the largest of their "
                               "class, in [0, 1) (default 0)")
    quantize.add_argument("--test", dest="corpus", metavar="DATA",
                          help="test data, as test takes it (" + corpus_help + "; its test "
                               "split): print the accuracy before and after")
    _corpus_options(quantize)
    _quiet_option(quantize)
    quantize.set_defaults(run=_quantize)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error, as every other error: the command, the
    problem, and where the usage is."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    from .benchmark import EPOCH_LADDER, GRID

    parser = _Parser(
        prog="fasttext-lin", description="Fast linear classifiers on sparse data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "fetch", help="download (if missing) and verify named LIBSVM data sets")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a, a5a, w8a, dna")
    _data_home_option(fetch)
    _quiet_option(fetch)
    fetch.set_defaults(run=_fetch)

    bench = commands.add_parser(
        "bench", help="benchmark against LinearSVC / liblinear on named LIBSVM sets")
    bench.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a a1a")
    bench.add_argument("--repeats", type=int, default=5,
                       help="timed fits per model, after a warm-up (default 5)")
    bench.add_argument("--grid", type=float, nargs="+", default=GRID, metavar="C",
                       help="values of C to cross-validate (default: %(default)s)")
    bench.add_argument("--max-epochs", type=int, default=EPOCH_LADDER[-1],
                       help="largest epoch count tried in the objective study against "
                            "liblinear (default %(default)s)")
    bench.add_argument("--no-jit", action="store_true",
                       help="skip timing JIT compile and cache load in fresh processes")
    bench.add_argument("--out", help="also write JSON, Markdown and PNG results here")
    _data_home_option(bench)
    _quiet_option(bench)
    bench.set_defaults(run=_bench)
    _text_parsers(commands)
    return parser


# The library names its keyword, then the flag: "pass encoding='latin-1' (--encoding latin-1)",
# "a larger n_features (--n-features N)".
_KEYWORD_THEN_FLAG = re.compile(
    r"\b(?:\w+=(?:'[^']*'|\"[^\"]*\"|[^\s,;()]+)|[a-z]+_\w+) \((--[^()]*)\)")


def _flag_wording(message):
    """``message`` as the command line's user reads it: the flag, without the library
    keyword before it."""
    return _KEYWORD_THEN_FLAG.sub(r"\1", message)


def main(argv=None):
    """Run the command line; return the exit status.

    A user's mistake (bad argument, missing or malformed file, unknown data set)
    prints one line to stderr and returns 1, without a traceback.
    """
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ImportError, OSError, ValueError) as error:
        print(f"fasttext-lin {args.command}: error: {_flag_wording(str(error))}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fasttext-lin {args.command}: interrupted", file=sys.stderr)
        return 130


def console():
    """The ``fasttext-lin`` command: :func:`main`, then exit without the interpreter's
    teardown (half a second after numba and scikit-learn are loaded; the model file is
    already written and closed)."""
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = status or 1
    os._exit(status)


if __name__ == "__main__":
    console()

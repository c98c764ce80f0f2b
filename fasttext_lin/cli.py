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
path: a fastText file (``__label__X text`` lines; ``.txt``, ``.ft``), a CSV or TSV file
(``.csv``, ``.tsv``), or a folder with one subfolder of documents per class. One file
per class, one document per line (as ``rt-polarity.pos`` / ``.neg``), is given with
``--class LABEL=PATH`` for each class in place of CORPUS.

LIBSVM data sets::

    fasttext-lin train DATA -o MODEL [--loss ... --C ... --epochs ... --seed ... --threads ...]
    fasttext-lin test MODEL DATA

DATA is LIBSVM when it is a named LIBSVM set (``a9a``, ``dna``, ...: its train split for
``train``, its test split for ``test``), a file ending in ``.libsvm`` or ``.svm``, or any file
given with ``--format libsvm``; ``train`` then fits a LinearClassifier (with an intercept) on
the features as they are.

``train --verbose`` (and ``test --verbose``) print to stderr the wall time of each stage:
Python start and imports, data load, kernel compile or cache load, training, saving.
"""

import argparse
import contextlib
import importlib
import os
import sys
import time

from . import __version__

_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "softmax")
_FORMATS = ("fasttext", "csv", "tsv", "lines", "folders", "libsvm")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "fasttext", ".ft": "fasttext",
               ".libsvm": "libsvm", ".svm": "libsvm"}
# Text-only options (destination: flag, default): LIBSVM data refuses other values.
_TEXT_ONLY = {"model_type": ("--model", "linear"), "ngrams": ("--ngrams", 1),
              "weighting": ("--weighting", None), "tokenizer": ("--tokenizer", "default"),
              "hash": ("--hash", None), "min_df": ("--min-df", 1), "beta": ("--beta", None),
              "classes": ("--class", None)}
_PREDICT_CHUNK = 10_000  # documents featurized and written at a time


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

    progress = (lambda message: print(message, file=sys.stderr)) if not args.quiet else None
    results = run_libsvm_benchmark(
        args.names, repeats=args.repeats, progress=progress, grid=args.grid,
        data_home=args.data_home, jit=not args.no_jit, max_epochs=args.max_epochs,
    )
    print(format_table(results))
    if args.out:
        for path in write_results(results, args.out):
            print(f"wrote {path}", file=sys.stderr)
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
        header = args.header or any(isinstance(c, str) for c in columns)
        return datasets.read_delimited(
            args.corpus, columns[0], columns[1:], delimiter="," if kind == "csv" else "\t",
            header=header, **_codec(args))
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


# -- --verbose: where the time goes ---------------------------------------------------------

class _Timings:
    """Wall time of a command's stages, printed to stderr as ``time: <stage>: ...`` lines.

    Parameters
    ----------
    verbose : bool
        Print the lines at :meth:`report`; otherwise only measure.
    """

    def __init__(self, verbose):
        self.verbose = verbose
        self.lines = []

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
        and the ``numba:compile`` events say which of the two it was.
        """
        from numba.core import event

        locked = []
        before = _kernel_cache_stats()
        start = time.perf_counter()
        with event.install_timer("numba:compiler_lock", locked.append), \
                event.install_recorder("numba:compile") as compiles:
            yield
        total = time.perf_counter() - start
        kernels = sum(locked)
        hits, misses = (after - earlier for after, earlier in
                        zip(_kernel_cache_stats(), before))
        n_compiles = sum(1 for _, ev in compiles.buffer if ev.is_start)
        what = ("compile" if misses or n_compiles else "cache load") if kernels else "none"
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
    timings = _Timings(args.verbose)
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write the model to '{args.output}': no folder "
                                f"'{folder}'")
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
            featurized = time.perf_counter()
            bar.update()
            bar.set_description("fit")
            pipeline[1].fit(X, y)
            end = time.perf_counter()
        bar.update()
    featurizer, classes = pipeline[0], pipeline[1].classes_
    print(f"corpus: {shown}: {len(texts)} rows, {len(classes)} classes "
          f"({_shown_labels(classes)})")
    print(f"features: {X.shape[1]} ({'hashed' if args.hash else 'vocabulary'}, "
          f"1-{args.ngrams}-grams, {featurizer.weighting}, "
          f"{'bias column' if featurizer.bias else 'no bias column'})")
    print(_classifier_line(pipeline[1]))
    print(f"train time: {end - start:.2f} s (featurize {featurized - start:.2f} s, "
          f"fit {end - featurized:.2f} s)")
    print(f"training accuracy: {pipeline[1].score(X, y):.4f}")
    with timings("save"):
        save_text_model(args.output, pipeline)
    print(f"model: {args.output}")
    timings.report()
    return 0


def _train_libsvm(args, timings):
    """``train`` on LIBSVM data: a LinearClassifier as the LIBSVM benchmark runs it."""
    _refuse_text_options(args)
    if args.epochs is None and args.loss not in _benchmark_epochs():
        raise ValueError(f"--loss {args.loss} on LIBSVM data: give --epochs (default epochs "
                         f"are set for {', '.join(_benchmark_epochs())} only)")
    with timings.imports():
        from .benchmark import our_estimator
        from .persist import save_model

    with timings("load"):
        X, y, shown = _read_libsvm(args, "train")
    classifier = our_estimator(args.loss, args.C, X.shape[0], epochs=args.epochs).set_params(
        random_state=args.seed, probability=args.probability, n_jobs=args.threads,
        parallel=args.parallel)
    start = time.perf_counter()
    with timings.kernels():
        classifier.fit(X, y)
    end = time.perf_counter()
    print(f"data: {shown}: {X.shape[0]} rows, {X.shape[1]} features, "
          f"{len(classifier.classes_)} classes ({_shown_labels(classifier.classes_)})")
    print(_classifier_line(classifier))
    print(f"train time: {end - start:.2f} s")
    print(f"training accuracy: {classifier.score(X, y):.4f}")
    with timings("save"):
        save_model(args.output, classifier)
    print(f"model: {args.output}")
    timings.report()
    return 0


def _refuse_text_options(args):
    given = [flag for name, (flag, default) in _TEXT_ONLY.items()
             if getattr(args, name) != default]
    if given:
        raise ValueError(f"{', '.join(given)}: text featurizer option(s), but {args.corpus} is "
                         "LIBSVM data (numeric features): drop them")


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
    seconds = time.perf_counter() - start
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


def _benchmark_epochs():
    from .benchmark import OUR_EPOCHS

    return OUR_EPOCHS


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


def _read_libsvm(args, split, n_features=None):
    """``(X, y, shown)``: the ``split`` of a named LIBSVM set, or the LIBSVM file given."""
    from . import datasets

    if _is_libsvm_name(args.corpus):
        data = datasets.fetch_libsvm(args.corpus, data_home=args.data_home, subset=split)
        return (data[f"X_{split}"], data[f"y_{split}"],
                f"{data.name} ({split} split, {data[f'{split}_path']})")
    X, y = datasets.load_libsvm(args.corpus, n_features=n_features)
    return X, y, args.corpus


def _shown_labels(labels, limit=10):
    shown = ", ".join(map(str, labels[:limit]))
    return shown + (", ..." if len(labels) > limit else "")


def _test(args):
    timings = _Timings(args.verbose)
    libsvm = _is_libsvm(args)
    with timings.imports():
        import numpy as np

        importlib.import_module(".persist" if libsvm else ".text_model", __package__)

    with timings("load"):
        model = _load_libsvm_model(args.model) if libsvm else _load_text_model(args.model)
        if libsvm:
            X, y, shown = _read_libsvm(args, "test", n_features=model.n_features_in_)
        else:
            X, y, shown = _read_corpus(args, "test")
    classes = model.classes_
    unseen = ~np.isin(y, classes)
    if unseen.any():
        raise ValueError(f"{shown}: {int(unseen.sum())} of {len(y)} rows have labels the model "
                         f"never saw: {_shown_labels(np.unique(y[unseen]))} (model classes: "
                         f"{_shown_labels(classes)})")
    with _progress(args, total=1, desc="predict") as bar, timings.kernels("predict"):
        predicted = model.predict(X)
        bar.update()
    print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows")
    _report(y, predicted, classes)
    timings.report()
    return 0


def _load_libsvm_model(path):
    """A model file of ``train`` on LIBSVM data; a text model is refused."""
    from .persist import load_model

    model, extra = load_model(path, return_extra=True)
    if extra["metadata"]:
        raise ValueError(f"{path} is a text model (it holds a featurizer): test it on a text "
                         "corpus, not on LIBSVM data")
    return model


def _load_text_model(path):
    from .text_model import load_text_model

    return load_text_model(path)


def _report(y, predicted, classes):
    """Accuracy, scikit-learn's classification report and the confusion matrix."""
    import numpy as np
    from sklearn.metrics import classification_report, confusion_matrix

    print(f"accuracy: {np.mean(predicted == y):.4f}")
    print(classification_report(y, predicted, labels=classes, digits=4, zero_division=0))
    print("confusion matrix (rows: true label, columns: predicted label):")
    print(_matrix_table(confusion_matrix(y, predicted, labels=classes), classes))


def _matrix_table(matrix, labels):
    names = [str(label) for label in labels]
    width = max(max(map(len, names)), len(str(matrix.max())))
    lines = [" " * width + " " + " ".join(name.rjust(width) for name in names)]
    lines += [name.rjust(width) + " " + " ".join(str(v).rjust(width) for v in row)
              for name, row in zip(names, matrix)]
    return "\n".join(lines)


def _predict(args):
    import numpy as np

    from .linear_model import _PROBA_LOSSES
    from .nbsvm import NBSVM
    from .text_model import load_text_model

    if args.k < 1:
        raise ValueError(f"--k {args.k}: give a number of labels >= 1")
    model = load_text_model(args.model)
    if args.proba and isinstance(model[-1], NBSVM):
        raise ValueError("an NBSVM model has no probabilities (it gives scores only): drop "
                         "--proba, or train with --model linear --loss log_loss for --proba")
    if args.proba and not hasattr(model, "predict_proba"):
        raise ValueError(f"the model's loss {model[-1].loss!r} gives no probabilities: train "
                         "it with --probability to calibrate them, or with --loss "
                         f"{' or '.join(_PROBA_LOSSES)}, for --proba")
    classes = model.classes_.astype(str)
    k = min(args.k, len(classes))
    for chunk in _chunks(args):
        if args.proba:
            proba = model.predict_proba(chunk)
            best = np.argsort(-proba, axis=1, kind="stable")[:, :k]
            lines = ["\t".join(f"{classes[j]}\t{row[j]:.6g}" for j in order)
                     for row, order in zip(proba, best)]
        else:
            lines = model.predict(chunk).astype(str).tolist()
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _chunks(args):
    """Lists of at most ``_PREDICT_CHUNK`` decoded lines of the input."""
    from .datasets import _check_codec

    _check_codec(args.encoding, args.encoding_errors)
    name = "<stdin>" if args.input in (None, "-") else args.input
    stream = open(args.input, "rb") if name != "<stdin>" else contextlib.nullcontext(
        sys.stdin.buffer)
    with stream as stream:
        chunk = []
        for lineno, raw in enumerate(stream, start=1):
            chunk.append(_decoded(raw, name, lineno, args.encoding, args.encoding_errors))
            if len(chunk) == _PREDICT_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _decoded(raw, name, lineno, encoding, errors):
    """One input line without its line end; a decoding error names the line."""
    try:
        text = raw.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}:{lineno}: cannot decode byte 0x{raw[exc.start]:02x} at byte "
                         f"{exc.start} of the line as {encoding}: {exc.reason}; pass "
                         "--encoding latin-1 if the input is Latin-1, or "
                         "--encoding-errors replace") from exc
    return text.rstrip("\r\n")


def _cv(args):
    from .text_model import cross_validate_text

    pipeline = _pipeline(args)
    texts, y, shown = _read_corpus(args, "train")
    grid = args.grid[0] if len(args.grid) == 1 else args.grid
    with _progress(args, total=args.folds, desc="folds") as bar:
        def progress(fold, accuracy, chosen):
            bar.set_postfix(accuracy=f"{accuracy:.4f}", refresh=False)
            bar.update()

        result = cross_validate_text(pipeline, texts, y, folds=args.folds, grid=grid,
                                     inner_folds=args.inner_folds, random_state=args.seed,
                                     progress=progress)
    how = (f"C chosen among {', '.join(f'{c:g}' for c in args.grid)} by "
           f"{args.inner_folds}-fold CV inside each training fold" if len(args.grid) > 1
           else f"C={args.grid[0]:g}")
    print(f"corpus: {shown}: {len(y)} rows; {args.folds}-fold cross-validation, {how}")
    print(_classifier_line(pipeline[1]))
    for fold, (accuracy, C) in enumerate(zip(result.fold_accuracy, result.fold_chosen), 1):
        print(f"fold {fold}: accuracy {accuracy:.4f} (C={C:g})")
    print(f"accuracy: {result.mean_accuracy:.4f} ± {result.std_accuracy:.4f} "
          f"({result.wall_time:.1f} s)")
    return 0


# -- the parser -------------------------------------------------------------------------------

def _data_home_option(parser):
    parser.add_argument("--data-home", help="data directory (default: $FASTTEXT_LIN_DATA, "
                                            "then the per-user cache folder)")


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text}: expected a number > 0")
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
                             "subfolder per class; a LIBSVM set name = libsvm)")
    parser.add_argument("--class", dest="classes", action="append", metavar="LABEL=PATH",
                        help="one file per class, one document per line (format 'lines'); "
                             "repeat for each class, without CORPUS")
    parser.add_argument("--label-column", default="0",
                        help="csv/tsv: label column, an index from 0 or a header name "
                             "(default 0)")
    parser.add_argument("--text-columns", nargs="+", default=["1"], metavar="COLUMN",
                        help="csv/tsv: text column(s), joined by a space (default 1)")
    parser.add_argument("--header", action="store_true",
                        help="csv/tsv: the first record names the columns (implied by "
                             "column names)")
    parser.add_argument("--label-prefix", default="__label__",
                        help="fasttext: prefix of the label tokens (default %(default)s)")
    _encoding_options(parser)
    _data_home_option(parser)


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
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


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
    stream.add_argument("--n-features", type=_positive(int), metavar="N",
                        help="--stream on a LIBSVM file: its number of features (a named "
                             "set's is known)")
    _corpus_options(train)
    _model_options(train, with_C=True)
    _verbose_option(train)
    train.set_defaults(run=_train)

    test = commands.add_parser("test", help="accuracy, per-class scores and confusion matrix")
    test.add_argument("model", metavar="MODEL")
    test.add_argument("corpus", nargs="?", metavar="CORPUS",
                      help=corpus_help + "; its test split")
    _corpus_options(test)
    test.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _verbose_option(test)
    test.set_defaults(run=_test)

    predict = commands.add_parser("predict", help="label one document per line")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("input", nargs="?", metavar="FILE",
                         help="one document per line; - or none: standard input")
    predict.add_argument("--proba", action="store_true",
                         help="print the K best labels with probabilities, tab-separated")
    predict.add_argument("--k", type=int, default=1, help="labels printed with --proba")
    _encoding_options(predict)
    predict.set_defaults(run=_predict)

    cv = commands.add_parser("cv", help="k-fold cross-validation, C chosen in each fold")
    cv.add_argument("corpus", nargs="?", metavar="CORPUS", help=corpus_help)
    cv.add_argument("--folds", type=_positive(int), default=10, help="folds (default 10)")
    cv.add_argument("--grid", type=_positive(float), nargs="+", default=list(GRID),
                    metavar="C", help="values of C (default: %(default)s); one value: no "
                                      "search")
    cv.add_argument("--inner-folds", type=_positive(int), default=3,
                    help="folds of the search for C in each training fold (default 3)")
    _corpus_options(cv)
    _model_options(cv, with_C=False)
    cv.set_defaults(run=_cv, probability=False)


def _parser():
    from .benchmark import EPOCH_LADDER, GRID

    parser = argparse.ArgumentParser(
        prog="fasttext-lin", description="Fast linear classifiers on sparse data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "fetch", help="download (if missing) and verify named LIBSVM data sets")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a, a5a, w8a, dna")
    _data_home_option(fetch)
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
    bench.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    bench.set_defaults(run=_bench)
    _text_parsers(commands)
    return parser


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
        print(f"fasttext-lin {args.command}: error: {error}", file=sys.stderr)
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

"""The ``train`` command: a text pipeline, a LinearClassifier on LIBSVM data, or either
streamed from a file in chunks (``--stream``)."""

import argparse
import os
import shutil
import time

from .libsvm import (
    check_libsvm_options,
    is_libsvm,
    is_libsvm_name,
    libsvm_classifier,
    read_libsvm,
    refuse_text_options,
)
from .report import classifier_line, progress_bar, shown_labels
from .text import build_pipeline, label_path, read_corpus
from .timings import Timings


def check_output(args, output, *inputs):
    """Refuse ``-o`` before any work: not a regular file, one of the inputs, or unwritable.

    The inputs are ``inputs`` and the data the arguments name (CORPUS, each ``--class``
    file); a named set's cached files are not given by the user and are left out.
    """
    from .._io import check_output_path

    given = [*inputs, args.corpus, *(label_path(pair)[1] for pair in args.classes or ())]
    check_output_path(output, inputs=[path for path in given if path is not None],
                      what="model file")


def train(args):
    """``train``: fit the model the options describe on the data given, save it."""
    check_output(args, args.output)
    if args.probability and args.C == "auto" and args.model_type == "linear" and not args.stream:
        raise ValueError("--probability calibrates a model of one C: give --C a number "
                         "(e.g. --C 1)")
    timings = Timings(args.verbose, args.quiet)
    if args.stream:
        return _train_stream(args, timings)
    if is_libsvm(args):
        return _train_libsvm(args, timings)
    with timings.imports():
        from ..text_model import save_text_model

    pipeline = build_pipeline(args, args.C)
    with progress_bar(args, total=3, desc="read corpus") as bar:
        with timings("load"):
            texts, y, shown = read_corpus(args, "train")
        bar.update()
        bar.set_description("featurize")
        start = time.perf_counter()
        with timings.kernels():
            fit_folds(pipeline[1], y)
            X = pipeline[0].fit_transform(texts, y)
            featurized, in_featurize = time.perf_counter(), timings.kernel_seconds()
            bar.update()
            bar.set_description("fit")
            pipeline[1].fit(X, y)
            end = time.perf_counter()
        bar.update()
    pipeline.steps[-1] = ("classifier", chosen(pipeline[1]))
    featurize = timings.without_compile(featurized - start, in_featurize)
    fit = timings.without_compile(end - featurized, timings.kernel_seconds() - in_featurize)
    featurizer, classes = pipeline[0], pipeline[1].classes_
    print(f"corpus: {shown}: {len(texts)} rows, {len(classes)} classes "
          f"({shown_labels(classes)})")
    print(f"features: {X.shape[1]} ({'hashed' if args.hash else 'vocabulary'}, "
          f"1-{args.ngrams}-grams, {featurizer.weighting}, "
          f"{'bias column' if featurizer.bias else 'no bias column'})")
    return _report_and_save(
        args, timings, pipeline[1], f"{featurize + fit:.2f} s (featurize {featurize:.2f} s, "
        f"fit {fit:.2f} s)", lambda: save_text_model(args.output, pipeline), (X, y))


def _train_libsvm(args, timings):
    """``train`` on LIBSVM data: a LinearClassifier as the LIBSVM benchmark runs it."""
    check_libsvm_options(args, args.C)
    with timings.imports():
        from ..persist import save_model

    with timings("load"):
        X, y, shown = read_libsvm(args, "train")
    classifier = libsvm_classifier(args, args.C, X.shape[0])
    if args.probability:
        classifier.set_params(probability=True)
    fit_folds(classifier, y)
    start = time.perf_counter()
    with timings.kernels():
        classifier.fit(X, y)
    seconds = timings.without_compile(time.perf_counter() - start, timings.kernel_seconds())
    classifier = chosen(classifier)
    print(f"data: {shown}: {X.shape[0]} rows, {X.shape[1]} features, "
          f"{len(classifier.classes_)} classes ({shown_labels(classifier.classes_)})")
    return _report_and_save(args, timings, classifier, f"{seconds:.2f} s",
                            lambda: save_model(args.output, classifier), (X, y))


def _train_stream(args, timings):
    """``train --stream``: :func:`fasttext_lin.stream.stream_fit` on a fastText or LIBSVM
    file."""
    if args.probability:
        raise ValueError("--probability needs held-out folds in memory: drop it or --stream")
    if args.solver == "cd":
        raise ValueError("--solver cd: --stream runs SGD epochs over chunks; give --solver "
                         "sgd or auto, or drop --stream")
    libsvm = is_libsvm(args)
    path, n_features = _stream_source(args, libsvm)
    with timings.imports():
        from ..stream import stream_fit

    if libsvm:
        refuse_text_options(args)
        from ..linear_model import LinearClassifier

        read = dict(format="libsvm", n_features=n_features, classifier=LinearClassifier(
            loss=args.loss or "hinge", C=stream_C(args), solver="sgd", average=True,
            n_jobs=args.threads,
            parallel=args.parallel))
    else:
        if args.format not in (None, "fasttext") or args.model_type != "linear":
            raise ValueError("--stream trains --model linear on a fastText or LIBSVM file")
        # Hashing, and no weights learned from the whole corpus: a stream sees it once.
        pipeline = build_pipeline(argparse.Namespace(**{
            **vars(args), "hash": args.hash or 1 << 20, "weighting": args.weighting or "binary",
            "solver": "sgd"}), stream_C(args))
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
          f"{len(classifier.classes_)} classes ({shown_labels(classifier.classes_)})")
    if libsvm:
        from ..persist import save_model as save
    else:
        from ..text_model import save_text_model as save
    return _report_and_save(args, timings, classifier,
                            f"{seconds:.2f} s ({classifier.n_iter_} passes)",
                            lambda: save(args.output, model))


def stream_C(args):
    """The C of ``--stream``: a stream cannot hold the folds of a search, so auto is 1."""
    return 1.0 if args.C == "auto" else args.C


def fit_folds(classifier, y):
    """Set the folds of a classifier that searches its C (``--C auto``) for labels ``y``: its
    own ``cv`` (an int), or fewer on a corpus with fewer rows of a class (at least 2 are
    needed)."""
    import numpy as np

    if "cv" not in classifier.get_params():
        return
    labels, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"--C auto chooses C by cross-validation, which needs 2 rows of each "
                         f"class, but class {labels[counts.argmin()]} has 1: give --C a "
                         "number (e.g. --C 1)")
    classifier.set_params(cv=int(min(classifier.get_params()["cv"], counts.min())))


def chosen(classifier):
    """The classifier to save: a LinearClassifierCV's ``best_estimator_`` (its choice printed),
    an NBSVM that chose its C (printed), else ``classifier``."""
    if hasattr(classifier, "best_estimator_"):
        print(f"C chosen: {classifier.C_:.6g}, loss {classifier.loss_} ({classifier.cv}-fold "
              f"CV accuracy {classifier.best_score_:.4f}; "
              f"{len(classifier.cv_results_['param_C'])} points of the warm-started C path)")
        return classifier.best_estimator_
    if hasattr(classifier, "C_"):
        print(f"C chosen: {c_text(classifier.C_)}")
    return classifier


def c_text(C):
    """A C as printed: a number, or one per model."""
    import numpy as np

    return ", ".join(f"{c:.4g}" for c in np.atleast_1d(C))


def _report_and_save(args, timings, classifier, train_time, save, training_data=None):
    """Print what trained, its time and training accuracy, save the model; exit status 0."""
    print(classifier_line(classifier))
    print(f"train time: {train_time}")
    if training_data is not None:
        print(f"training accuracy: {classifier.score(*training_data):.4f}")
    with timings("save"):
        save()
    print(f"model: {args.output}")
    timings.report()
    return 0


def _plain(path, data_home):
    """``path``, or for a compressed copy (one shipped with the package) a decompressed copy
    in the data folder: a stream reads byte ranges."""
    from .._io import atomic_writer
    from ..datasets import get_data_home, is_compressed, open_binary

    if not is_compressed(path):
        return str(path)
    plain = get_data_home(data_home) / "libsvm" / os.path.splitext(os.path.basename(path))[0]
    if not plain.is_file():
        plain.parent.mkdir(parents=True, exist_ok=True)
        with open_binary(path) as source, atomic_writer(plain, what="data file") as target:
            shutil.copyfileobj(source, target, 1 << 20)
    return str(plain)


def _stream_source(args, libsvm):
    """``(path, n_features)`` of the file to stream (a named LIBSVM set's train file)."""
    if args.classes or args.corpus is None:
        raise ValueError("--stream reads one fastText or LIBSVM file: give it as CORPUS")
    if libsvm and is_libsvm_name(args.corpus):
        from ..datasets import fetch_libsvm

        # A named set is small: fetching verifies (or downloads) its file.
        data = fetch_libsvm(args.corpus, data_home=args.data_home, subset="train")
        return _plain(data.train_path, args.data_home), args.n_features or data.n_features
    if not os.path.isfile(args.corpus):
        raise ValueError(f"--stream reads one fastText or LIBSVM file; '{args.corpus}' is not "
                         "a file")
    if libsvm and args.n_features is None:
        raise ValueError("--stream on a LIBSVM file needs --n-features (the file does not say "
                         "how many features there are)")
    return args.corpus, args.n_features



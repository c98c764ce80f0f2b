"""The ``test``, ``cv`` and ``quantize`` commands, and the model file a command reads for its
data (a text model for text, a LIBSVM model for LIBSVM data)."""

import importlib

from .libsvm import (
    FORMAT_HINT,
    check_libsvm_options,
    is_libsvm,
    libsvm_classifier,
    read_libsvm,
    rows_of,
    to_width,
)
from .report import classifier_line, print_report, progress_bar, shown_labels, size_text
from .text import build_pipeline, label_path, read_corpus
from .timings import Timings
from .train import check_output


def test(args):
    """``test``: accuracy, per-class scores and the confusion matrix on test data."""
    timings = Timings(args.verbose, args.quiet)
    libsvm = is_libsvm(args)
    with timings.imports():
        importlib.import_module("..persist" if libsvm else "..text_model", __package__)

    with timings("load"):
        model = open_model(args.model, libsvm, data_name(args), FORMAT_HINT, args.threads)
        X, y, shown = test_data(args, libsvm, model)
    with progress_bar(args, total=1, desc="predict") as bar, timings.kernels("predict"):
        predicted = model.predict(X)
        bar.update()
    print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows")
    print_report(y, predicted, model.classes_)
    timings.report()
    return 0


def test_data(args, libsvm, model):
    """``(X, y, shown)``: the test split the arguments name, as ``model`` takes it; labels
    the model never saw are refused."""
    import numpy as np

    if libsvm:
        X, y, shown = read_libsvm(args, "test")
        X = to_width(X, model.n_features_in_, lambda row: f"{shown}, row {row + 1}")
    else:
        X, y, shown = read_corpus(args, "test")
    unseen = ~np.isin(y, model.classes_)
    if unseen.any():
        raise ValueError(f"{shown}: {int(unseen.sum())} of {len(y)} rows have labels the model "
                         f"never saw: {shown_labels(np.unique(y[unseen]))} (model classes: "
                         f"{shown_labels(model.classes_)})")
    return X, y, shown


def data_name(args):
    """The data the arguments name, for messages."""
    if args.classes:
        return ", ".join(label_path(pair)[1] for pair in args.classes)
    return args.corpus


def open_model(path, libsvm, data, hint="", threads=1):
    """The model file ``path`` for ``data``: a LinearClassifier or NBSVM on LIBSVM data
    (``libsvm``), a text pipeline otherwise (its featurizer on ``threads`` threads); the
    other kind is refused, saying which is which (and ``hint``: how to say that ``data`` is
    LIBSVM).
    """
    from ..persist import ModelFileError, load_model

    if not libsvm:
        from ..text_model import load_text_model

        try:
            pipeline = load_text_model(path)
            pipeline[0].set_params(n_jobs=threads)
            return pipeline
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


def cv(args):
    """``cv``: k-fold cross-validation, C chosen inside each training fold (``--C auto``: the
    warm-started path; ``--grid``: a grid search) or fixed (``--C`` a number)."""
    from ..text_model import cross_validate_text
    from .train import c_text

    if args.grid and args.C != "auto":
        raise ValueError(f"--C {args.C:g} and --grid: give one value of C, or the values to "
                         "search, not both")
    # The estimator is built at a fixed C that the grid then sets in each fold.
    C = 1.0 if args.grid else args.C
    timings = Timings(verbose=False, quiet=args.quiet)
    libsvm = is_libsvm(args)
    if libsvm:
        check_libsvm_options(args, C)
        X, y, shown = read_libsvm(args, "train")
        # The training folds' size sets where the averaging starts, as train does.
        estimator = rows_of(X, libsvm_classifier(args, C, len(y) - len(y) // args.folds))
        data = range(len(y))
    else:
        estimator = build_pipeline(args, C)
        data, y, shown = read_corpus(args, "train")
    if C == "auto":
        from sklearn.model_selection import StratifiedKFold

        estimator.set_params(classifier__cv=StratifiedKFold(
            args.inner_folds, shuffle=True, random_state=args.seed))
        grid = None
        how = (f"C chosen by {args.inner_folds}-fold CV along the warm-started path inside "
               "each training fold")
    else:
        grid = args.grid or [C]
        how = (f"C chosen among {', '.join(f'{c:g}' for c in grid)} by "
               f"{args.inner_folds}-fold CV inside each training fold" if len(grid) > 1
               else f"C={grid[0]:g}")
        grid = grid[0] if len(grid) == 1 else grid
    with progress_bar(args, total=args.folds, desc="folds") as bar, timings.kernels("cv"):
        def progress(fold, accuracy, chosen):
            bar.set_postfix(accuracy=f"{accuracy:.4f}", refresh=False)
            bar.update()

        result = cross_validate_text(estimator, data, y, folds=args.folds, grid=grid,
                                     inner_folds=args.inner_folds, random_state=args.seed,
                                     progress=progress)
    seconds = timings.without_compile(result.wall_time, timings.kernel_seconds())
    print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows; "
          f"{args.folds}-fold cross-validation, {how}")
    print(classifier_line(estimator[-1]))
    for fold, (accuracy, C) in enumerate(zip(result.fold_accuracy, result.fold_chosen), 1):
        print(f"fold {fold}: accuracy {accuracy:.4f} (C={c_text(C)})")
    print(f"accuracy: {result.mean_accuracy:.4f} ± {result.std_accuracy:.4f} "
          f"({seconds:.1f} s)")
    return 0


def quantize(args):
    """``quantize``: :func:`fasttext_lin.quantize.quantize_model`, then the sizes and, with
    test data, the accuracy of both models on it."""
    import numpy as np

    from ..quantize import quantize_model

    check_output(args, args.output, args.model)
    timings = Timings(verbose=False, quiet=args.quiet)
    test = args.corpus is not None or bool(args.classes)
    if test:
        # Read the data (and refuse a mismatch) before anything is written.
        libsvm = is_libsvm(args)
        before = open_model(args.model, libsvm, data_name(args), FORMAT_HINT)
        X, y, shown = test_data(args, libsvm, before)
    result = quantize_model(args.model, args.output, weights=args.weights, prune=args.prune)
    print(f"model: {args.model}: {size_text(result['bytes_before'])}")
    ratio = result["bytes_after"] / result["bytes_before"]
    print(f"quantized: {args.output}: {size_text(result['bytes_after'])} ({ratio:.1%} of the "
          "size), "
          f"{result['weights']} weights, {result['pruned']:.1%} of the weights pruned to 0")
    if test:
        after = open_model(args.output, libsvm, shown)
        with timings.kernels("predict"):
            accuracy = [float(np.mean(model.predict(X) == y)) for model in (before, after)]
        print(f"{'data' if libsvm else 'corpus'}: {shown}: {len(y)} rows")
        print(f"accuracy: {accuracy[0]:.4f} before, {accuracy[1]:.4f} after "
              f"({100 * (accuracy[1] - accuracy[0]):+.2f} points)")
    return 0



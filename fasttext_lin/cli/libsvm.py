"""LIBSVM data on the command line: what is LIBSVM data, its rows as a model takes them, and
the LinearClassifier ``train`` and ``cv`` fit on it."""

import os
import re
import sys

from .._constants import OUR_EPOCHS, fit_solver
from .text import EXTENSIONS, check_solver

# Text-only options (destination: flag, default): LIBSVM data refuses other values.
_TEXT_ONLY = {"model_type": ("--model", "linear"), "ngrams": ("--ngrams", 1),
              "weighting": ("--weighting", None), "tokenizer": ("--tokenizer", "default"),
              "hash": ("--hash", None), "min_df": ("--min-df", 1), "beta": ("--beta", None),
              "classes": ("--class", None)}
# How a message says that data is LIBSVM.
FORMAT_HINT = "; a .svm or .libsvm file, or --format libsvm"


def suffix_average_start(epochs, n_samples):
    """``average`` value that averages the weights over the last half of ``epochs`` epochs."""
    return (epochs // 2) * n_samples + 1


def our_estimator(loss, C, n_samples, epochs=None, fit_intercept=True, solver="sgd"):
    """LinearClassifier as ``train`` fits it on LIBSVM data (and the LIBSVM protocol runs it):
    with ``solver='sgd'``, learning_rate='optimal', fixed epochs (``tol=None``), weights
    averaged over the last half; with a solver that ``fit`` resolves to an exact one, its
    defaults (the relative duality gap ``tol``).

    Parameters
    ----------
    loss : {'hinge', 'squared_hinge', 'log_loss'}
        Or another loss, with ``epochs``.
    C : float
    n_samples : int
        Rows of the training set it will be fitted on (sets where the averaging starts).
    epochs : int, optional
        Default ``OUR_EPOCHS[loss]`` (:mod:`fasttext_lin._constants`).
    fit_intercept : bool, default=True
    solver : {'sgd', 'cd', 'auto'}, default='sgd'
        An exact solver takes no ``epochs`` (and ignores ``n_samples``).

    Returns
    -------
    LinearClassifier
    """
    from ..linear_model import LinearClassifier

    if fit_solver(solver, loss) != "sgd":
        if epochs is not None:
            raise ValueError(f"epochs={epochs!r} sets SGD epochs, but solver={solver!r} fits "
                             f"loss={loss!r} by an exact solver: give solver='sgd'.")
        return LinearClassifier(loss=loss, C=C, solver=solver, random_state=0,
                                fit_intercept=fit_intercept)
    epochs = OUR_EPOCHS[loss] if epochs is None else epochs
    return LinearClassifier(
        loss=loss, C=C, solver="sgd", learning_rate="optimal", max_iter=epochs, tol=None,
        average=suffix_average_start(epochs, n_samples), random_state=0,
        fit_intercept=fit_intercept,
    )


def libsvm_classifier(args, C, n_samples):
    """The classifier ``train`` and ``cv`` fit on LIBSVM data: for a number ``C``,
    :func:`our_estimator` (by ``--solver``; SGD averaged over the last half for ``n_samples``
    rows) with the options; for ``C='auto'``, a LinearClassifierCV (the loss chosen too unless
    given)."""
    if C == "auto":
        from ..model_selection import LinearClassifierCV

        return LinearClassifierCV(losses=args.loss or "auto", solver=args.solver,
                                  random_state=args.seed, n_jobs=args.threads,
                                  **({} if args.epochs is None else {"max_iter": args.epochs}))
    return our_estimator(args.loss or "hinge", C, n_samples, epochs=args.epochs,
                         solver=args.solver).set_params(
        random_state=args.seed, n_jobs=args.threads, parallel=args.parallel)


def refuse_text_options(args):
    """Refuse text featurizer options given with LIBSVM data."""
    given = [flag for name, (flag, default) in _TEXT_ONLY.items()
             if getattr(args, name) != default]
    if given:
        raise ValueError(f"{', '.join(given)}: text featurizer option(s), but {args.corpus} is "
                         "LIBSVM data (numeric features): drop them")


def check_libsvm_options(args, C):
    """Refuse, before any data is read, options that do not apply to LIBSVM data, SGD
    options for an exact solver, and with a number ``C`` an SGD loss without default epochs
    (see :func:`libsvm_classifier`) but no ``--epochs``."""
    refuse_text_options(args)
    check_solver(args)
    loss = args.loss or "hinge"
    if (C != "auto" and args.epochs is None and loss not in OUR_EPOCHS
            and fit_solver(args.solver, loss) == "sgd"):
        raise ValueError(f"--loss {args.loss} on LIBSVM data: give --epochs (default epochs "
                         f"are set for {', '.join(OUR_EPOCHS)} only)")


def is_libsvm(args):
    """Whether the data argument is LIBSVM data (see :mod:`fasttext_lin.cli`)."""
    if args.format == "libsvm" and args.corpus is None:
        raise ValueError("--format libsvm: give the LIBSVM file or set name as DATA")
    if args.format is not None or args.corpus is None:
        return args.format == "libsvm"
    if os.path.exists(args.corpus):
        return EXTENSIONS.get(os.path.splitext(args.corpus)[1].lower()) == "libsvm"
    return is_libsvm_name(args.corpus)


def is_libsvm_name(data):
    """Whether ``data`` names a LIBSVM set (and no file of that name exists)."""
    from ..datasets import LIBSVM_SETS

    return data in LIBSVM_SETS and not os.path.exists(data)


def read_libsvm(args, split):
    """``(X, y, shown)``: the ``split`` of a named LIBSVM set, or the LIBSVM file given
    (``--n-features`` wide if given; its labels must be classes, not regression targets)."""
    from .. import datasets

    if is_libsvm_name(args.corpus):
        data = datasets.fetch_libsvm(args.corpus, data_home=args.data_home, subset=split)
        return (data[f"X_{split}"], data[f"y_{split}"],
                f"{data.name} ({split} split, {data[f'{split}_path']})")
    X, y = datasets.load_libsvm(args.corpus, n_features=getattr(args, "n_features", None))
    datasets.check_class_labels(y, args.corpus)
    return X, y, args.corpus


def to_width(X, n_features, where):
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


# A LIBSVM row, with or without its label: "[label] index:value ...", then a comment.
_LIBSVM_ROW = re.compile(rb"\s*(?:[^\s:]+\s+)?\d+:\S+(?:\s+\d+:\S+)*\s*(?:#.*)?")


def looks_libsvm(name, lines):
    """Whether the input is LIBSVM data: by its extension, else by its first non-blank line."""
    if EXTENSIONS.get(os.path.splitext(name)[1].lower()) == "libsvm":
        return True
    line = next((raw for raw in lines if raw.strip()), b"")
    return _LIBSVM_ROW.fullmatch(line.rstrip(b"\r\n")) is not None


def libsvm_rows(lines, name, first_line, n_features):
    """CSR rows of LIBSVM lines for a model of ``n_features`` features.

    Labels are optional and ignored; every line is one row (a blank or comment line: a row
    without features); features beyond the model's are ignored, as liblinear does. An error
    names ``name`` and the line.
    """
    import tempfile

    from ..datasets import load_libsvm

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
    return to_width(X, n_features, lambda row: f"{name}:{first_line + row}")


def rows_of(X, classifier):
    """``classifier`` as a pipeline over row numbers of ``X``: ``cross_validate_text``'s folds
    and search, made for texts, then run on LIBSVM rows."""
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    def rows(numbers):
        # A closure, not X.__getitem__: cloning the pipeline then shares X, not copies it.
        return X[np.asarray(numbers, dtype=np.intp)]

    return Pipeline([("rows", FunctionTransformer(rows)), ("classifier", classifier)])


"""Text corpora as the command line names them: a file, a folder, a corpus name or one file a


class (``--class LABEL=PATH``), and the text pipeline the options describe."""

import os

FORMATS = ("fasttext", "label-text", "csv", "tsv", "lines", "folders", "libsvm")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".txt": "fasttext", ".ft": "fasttext",
              ".libsvm": "libsvm", ".svm": "libsvm"}


def read_corpus(args, split):
    """``(texts, labels, shown)`` of the corpus the arguments name; ``split`` of a named one."""
    from .. import datasets

    if args.classes:
        if args.corpus is not None or args.format not in (None, "lines"):
            raise ValueError("--class LABEL=PATH gives the corpus as one file per class: "
                             "give no CORPUS and no other --format")
        paths = dict(label_path(pair) for pair in args.classes)
        if len(paths) < len(args.classes):
            raise ValueError("--class: a label is given twice; give each class once")
        texts, labels = datasets.read_file_per_class(paths, **codec(args))
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
    from .. import datasets

    if kind == "folders":
        return datasets.read_folder_per_class(args.corpus, **codec(args))
    if kind == "fasttext":
        return datasets.read_fasttext(args.corpus, label_prefix=args.label_prefix,
                                      **codec(args))
    if kind in ("csv", "tsv"):
        columns = [_column(c) for c in [args.label_column] + args.text_columns]
        named = any(isinstance(c, str) for c in columns)
        return datasets.read_delimited(
            args.corpus, columns[0], columns[1:], delimiter="," if kind == "csv" else "\t",
            header=True if named and args.header is None else args.header,
            quoting=args.quoting, **codec(args))
    if kind == "label-text":
        return datasets.read_label_text(args.corpus, **codec(args))
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
    """The format of CORPUS ``path``, from its extension (a folder: 'folders')."""
    if os.path.isdir(path):
        return "folders"
    extension = os.path.splitext(path)[1].lower()
    if extension not in EXTENSIONS:
        raise ValueError(f"cannot tell the format of '{path}' from its extension: pass "
                         f"--format ({', '.join(FORMATS)})")
    return EXTENSIONS[extension]


def label_path(pair):
    """``(label, path)`` of a ``--class LABEL=PATH`` value."""
    label, sep, path = pair.partition("=")
    if not sep or not label or not path:
        raise ValueError(f"--class {pair!r}: expected LABEL=PATH, e.g. pos=rt-polarity.pos")
    return label, path


def _column(text):
    """A column index (a number) or a header name."""
    return int(text) if text.lstrip("-").isdigit() else text


def codec(args):
    """The ``encoding`` and ``errors`` keywords of the library's readers."""
    return {"encoding": args.encoding, "errors": args.encoding_errors}


def build_pipeline(args, C=1.0):
    """The text pipeline the options describe (:func:`fasttext_lin.text_model.text_pipeline`)."""
    from ..text_model import text_pipeline

    check_solver(args)
    return text_pipeline(model=args.model_type, ngrams=args.ngrams, weighting=args.weighting,
                         tokenizer=args.tokenizer, n_features=args.hash, min_df=args.min_df,
                         loss=args.loss, C=C, beta=args.beta, epochs=args.epochs,
                         random_state=args.seed, probability=args.probability,
                         n_jobs=args.threads, parallel=args.parallel, solver=args.solver)


def check_solver(args):
    """Refuse, before any data is read, ``--solver cd`` for a model that runs SGD
    (``--model nbsvm``), and SGD options (``--epochs``, ``--parallel``) for a linear model
    that ``--solver`` (default auto) fits by an exact solver."""
    from .._constants import fit_solver

    if args.model_type != "linear":
        if args.solver == "cd":
            raise ValueError("--solver cd: --model nbsvm runs SGD; give --solver sgd or auto, "
                             "or --model linear")
        return
    loss = args.loss or "hinge"
    solver = fit_solver(args.solver, loss)
    given = " and ".join(flag for flag, value, default in (
        ("--epochs", args.epochs, None), ("--parallel", args.parallel, "hogwild"))
        if value != default)
    if solver != "sgd" and given:
        raise ValueError(f"{given}: SGD option(s), but --solver {args.solver} fits --loss "
                         f"{loss} by its exact solver ({solver}), which stops at its "
                         f"duality gap: add --solver sgd, or drop {given}")


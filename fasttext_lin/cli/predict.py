"""The ``predict`` command: labels for documents or LIBSVM rows, read and written in chunks."""

import contextlib
import itertools
import sys

from .._constants import PROBA_LOSSES
from .evaluate import open_model
from .libsvm import libsvm_rows, looks_libsvm
from .report import label_strings
from .timings import Timings

_PREDICT_CHUNK = 10_000  # documents featurized and written at a time


def predict(args):
    """``predict``: one label (or the ``--k`` best with probabilities) per input line."""
    import numpy as np

    if args.k is not None and not args.proba:
        raise ValueError(f"--k {args.k} needs --proba (it is how many labels are printed with "
                         "their probabilities): add --proba, or drop --k")
    k = 1 if args.k is None else args.k
    if k < 1:
        raise ValueError(f"--k {k}: give a number of labels >= 1")
    from ..datasets import decode_part, split_lines

    # Decoding nothing checks the encoding and the errors handler, before any input is read.
    decode_part(b"", "", args.encoding, args.encoding_errors, 1, 0)
    name = "<stdin>" if args.input in (None, "-") else args.input
    chunks = _raw_chunks(args.input, name)
    first = next(chunks, None)
    libsvm = looks_libsvm(name, first[2] if first else [])
    timings = Timings(verbose=False, quiet=args.quiet)
    model = open_model(args.model, libsvm, name, threads=args.threads)
    if args.proba:
        _check_proba(model if libsvm else model[-1])
    classes = label_strings(model.classes_)
    k = min(k, len(classes))
    with timings.kernels("predict"):
        for lineno, offset, lines in itertools.chain([first] if first else [], chunks):
            X = (libsvm_rows(lines, name, lineno, model.n_features_in_) if libsvm else
                 split_lines(decode_part(b"".join(lines), name, args.encoding,
                                         args.encoding_errors, lineno, offset)))
            if args.proba:
                proba = model.predict_proba(X)
                best = np.argsort(-proba, axis=1, kind="stable")[:, :k]
                out = ["\t".join(f"{classes[j]}\t{row[j]:.6g}" for j in order)
                       for row, order in zip(proba, best)]
            else:
                out = label_strings(model.predict(X))
            sys.stdout.write("\n".join(out) + "\n")
    return 0


def _check_proba(classifier):
    """Refuse ``--proba`` for a classifier without probabilities, saying how to get them."""
    from ..nbsvm import NBSVM

    if isinstance(classifier, NBSVM):
        raise ValueError("an NBSVM model has no probabilities (it gives scores only): drop "
                         "--proba, or train with --model linear --loss log_loss for --proba")
    if not hasattr(classifier, "predict_proba"):
        raise ValueError(f"the model's loss {classifier.loss!r} gives no probabilities: train "
                         "it with --probability to calibrate them, or with --loss "
                         f"{' or '.join(PROBA_LOSSES)}, for --proba")


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


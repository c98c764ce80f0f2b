"""Out-of-core training: a LIBSVM file or a fastText-format corpus read in chunks of lines.

One cheap pass over the bytes (:func:`index_lines`) finds where every chunk of
``chunk_size`` lines starts, how many lines there are and which labels occur; then each
pass of :func:`stream_fit` visits the chunks in a fresh random order, parses one chunk
(LIBSVM through :func:`sklearn.datasets.load_svmlight_file`'s ``offset`` and ``length``,
text through the hashing :class:`~fasttext_lin.BagOfWords`) and runs one
:meth:`LinearClassifier.partial_fit` epoch over its rows in a fresh random order. Memory
holds one chunk, its features and the model, whatever the size of the file.
"""

import io
import os
import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from . import datasets
from ._validation import csr_contract
from .featurize import BagOfWords
from .linear_model import LinearClassifier

FORMATS = ("libsvm", "fasttext")
# Bytes read at a time by the index pass.
_BLOCK = 1 << 24


@dataclass(frozen=True)
class LineIndex:
    """Where the chunks of a line-based file start, from :func:`index_lines`.

    Attributes
    ----------
    path : str
    format : {'libsvm', 'fasttext'}
    offsets : numpy.ndarray of shape (n_chunks + 1,)
        Byte offset of each chunk's first line, then the file's size.
    first_lines : numpy.ndarray of shape (n_chunks,)
        Line number (from 1) of each chunk's first line.
    n_lines : int
        Lines in the file (blank and comment lines included).
    n_rows : int
        Labelled lines: the rows.
    labels : numpy.ndarray
        The distinct labels of the file, sorted: floats for LIBSVM, strings for text.
    """

    path: str
    format: str
    offsets: np.ndarray
    first_lines: np.ndarray
    n_lines: int
    n_rows: int
    labels: np.ndarray

    @property
    def n_chunks(self):
        return self.first_lines.shape[0]


def index_lines(path, chunk_size, format="libsvm", label_prefix="__label__",
                encoding="utf-8"):
    """Split a file into chunks of ``chunk_size`` lines in one pass over its bytes.

    Parameters
    ----------
    path : str or os.PathLike
        An uncompressed LIBSVM file or fastText-format corpus (see
        :func:`fasttext_lin.datasets.read_fasttext`), one row per line.
    chunk_size : int
        Lines a chunk; the last chunk may be shorter.
    format : {'libsvm', 'fasttext'}, default='libsvm'
    label_prefix : str, default='__label__'
        The fastText label prefix; ignored for LIBSVM.
    encoding : str, default='utf-8'
        Decodes the fastText labels.

    Returns
    -------
    LineIndex

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is compressed or holds no labelled line, or on a bad argument.
    """
    path = os.fspath(path)
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if datasets.is_compressed(path):
        raise ValueError(f"{path}: streaming reads byte ranges of the file, which a compressed "
                         "file does not allow: decompress it first")
    label = _label_pattern(format, label_prefix)
    starts, found = [0], set()
    n_lines = n_rows = pos = 0
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            # Line n_lines + k + 1 ends at newlines[k]; a chunk starts after every
            # chunk_size-th line.
            ends = np.arange(chunk_size - n_lines % chunk_size - 1, newlines.shape[0],
                             chunk_size)
            starts.extend((pos + newlines[ends] + 1).tolist())
            n_lines += newlines.shape[0]
            # Labels sit at line starts: search whole lines only, keep the partial last one.
            cut = newlines[-1] + 1 if newlines.shape[0] else 0
            n_rows += _add_labels(label, tail + block[:cut], found)
            tail = tail + block[cut:] if not cut else block[cut:]
            pos += len(block)
    n_rows += _add_labels(label, tail, found)
    if tail:
        n_lines += 1
    if starts[-1] == pos:
        starts.pop()  # the file ends with a newline: no chunk starts there
    if not found:
        raise ValueError(f"{path}: no labelled line: expected {_describe(format, label_prefix)}")
    first_lines = np.arange(len(starts), dtype=np.int64) * chunk_size + 1
    return LineIndex(path, format, np.asarray(starts + [pos], dtype=np.int64), first_lines,
                     n_lines, n_rows, _labels(found, format, encoding, path))


def _add_labels(pattern, lines, found):
    """Add the labels of whole ``lines`` to the set ``found``; return how many there were."""
    labels = pattern.findall(lines)
    found.update(labels)
    return len(labels)


def _label_pattern(format, label_prefix):
    if format == "libsvm":
        return re.compile(rb"(?m)^[ \t]*([^\s#]+)")
    return re.compile(rb"(?m)^[ \t\v\f]*" + re.escape(label_prefix.encode())
                      + rb"([^ \t\v\f\r\n]+)")


def _describe(format, label_prefix):
    return ("'label index:value ...' lines" if format == "libsvm"
            else f"'{label_prefix}<label> text' lines")


def _labels(found, format, encoding, path):
    if format == "fasttext":
        return np.unique([raw.decode(encoding, "replace") for raw in found])
    values = []
    for raw in found:
        try:
            values.append(float(raw))
        except ValueError:
            raise ValueError(f"{path}: label {raw.decode('utf-8', 'replace')!r} is not a "
                             "number (LIBSVM labels are numbers)") from None
    return np.unique(values)


def read_chunk(index, k, *, n_features=None, featurizer=None, label_prefix="__label__",
               encoding="utf-8", errors="strict", dtype=np.float64):
    """The rows of chunk ``k`` of ``index`` as ``(X, y)``.

    LIBSVM rows are parsed by :func:`sklearn.datasets.load_svmlight_file` at the chunk's
    ``offset`` and ``length`` (``n_features`` wide); text rows are featurised by
    ``featurizer``. Errors name the file's line.

    Returns
    -------
    X : scipy.sparse.csr_matrix
    y : numpy.ndarray
    """
    start, stop = int(index.offsets[k]), int(index.offsets[k + 1])
    first_line = int(index.first_lines[k])
    if index.format == "libsvm":
        return _libsvm_chunk(index.path, start, stop, first_line, n_features, dtype)
    with open(index.path, "rb") as f:
        f.seek(start)
        raw = f.read(stop - start)
    text = datasets.decode_part(raw, index.path, encoding, errors, first_line, start)
    texts, labels = datasets.fasttext_records(datasets.split_lines(text), index.path,
                                              label_prefix, first_line)
    return featurizer.transform(texts), np.asarray(labels, dtype=str)


def _libsvm_chunk(path, start, stop, first_line, n_features, dtype):
    from sklearn.datasets import load_svmlight_file

    # The parser skips the line in progress at `offset`, then reads lines until one ends
    # beyond `offset + length`: point it at the newline before the chunk and stop the length
    # on the chunk's last newline.
    offset = max(start - 1, 0)
    length = stop - 1 - offset
    if length <= 0:  # a chunk of one empty line
        return sp.csr_matrix((0, n_features), dtype=dtype), np.empty(0)
    try:
        X, y = load_svmlight_file(path, n_features=n_features, dtype=dtype, zero_based=False,
                                  offset=offset, length=length)
    except (ValueError, OverflowError) as exc:
        for lineno, tokens in _chunk_rows(path, start, stop, first_line):
            problem = datasets.libsvm.row_problem(tokens) or _too_wide(tokens, n_features)
            if problem is not None:
                raise ValueError(f"{path}:{lineno}: {problem}") from exc
        raise ValueError(f"{path}:{first_line}: {exc}") from exc
    bad_rows = np.flatnonzero(~np.isfinite(y))
    if not bad_rows.size:
        row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        bad_rows = row_of[~np.isfinite(X.data)]
    if bad_rows.size:
        lineno, _ = next(r for i, r in enumerate(_chunk_rows(path, start, stop, first_line))
                         if i == bad_rows[0])
        raise ValueError(f"{path}:{lineno}: a label or value is not a finite number")
    return csr_contract(X.indptr, X.indices, X.data, n_features), y


def _too_wide(tokens, n_features):
    features = [t for t in tokens[1:] if not t.startswith(b"qid")]
    if features and int(features[-1].partition(b":")[0]) > n_features:
        return (f"feature index {int(features[-1].partition(b':')[0])} exceeds "
                f"n_features={n_features}")
    return None


def _chunk_rows(path, start, stop, first_line):
    """``(line number, tokens)`` of the data rows between two byte offsets."""
    with open(path, "rb") as f:
        f.seek(start)
        lines = io.BytesIO(f.read(stop - start))
    for lineno, line in enumerate(lines, start=first_line):
        tokens = line.split(b"#", 1)[0].split()
        if tokens:
            yield lineno, tokens


def stream_fit(path, *, format="libsvm", chunk_size=100_000, passes=5, classifier=None,
               featurizer=None, n_features=None, label_prefix="__label__", encoding="utf-8",
               errors="strict", random_state=None, progress=False):
    """Train a linear classifier on a file too large for memory, one chunk at a time.

    Each pass visits the chunks in a fresh random order and runs one SGD epoch over each
    chunk's rows, in a fresh random order too (:meth:`LinearClassifier.partial_fit`).

    Parameters
    ----------
    path : str or os.PathLike
        An uncompressed LIBSVM file or fastText-format corpus, one row per line.
    format : {'libsvm', 'fasttext'}, default='libsvm'
    chunk_size : int, default=100_000
        Lines read, featurised and trained at a time: memory holds one chunk.
    passes : int, default=5
        Epochs over the whole file.
    classifier : LinearClassifier, default=None
        The model's parameters (a fitted one is not reused: it is cloned). ``C`` refers to
        the whole file: ``alpha = 1 / (C * n_rows)``. Default:
        ``LinearClassifier(average=True)``.
    featurizer : BagOfWords, default=None
        Text only: a hashing featurizer that learns nothing (``n_features`` set,
        ``weighting`` 'binary' or 'count'), as a stream cannot learn a vocabulary or idf
        weights before training. Default: ``BagOfWords(2**20, weighting='count',
        bias=True)`` on the classifier's ``n_jobs`` threads.
    n_features : int, default=None
        LIBSVM only, required: the width of the rows (a LIBSVM file does not say).
    label_prefix, encoding, errors : str
        Text only: see :func:`fasttext_lin.datasets.read_fasttext`.
    random_state : int or None, default=None
        Seeds the chunk orders and the row orders.
    progress : bool, default=False
        Show a progress bar (rows and rows per second) on stderr, if it is a terminal.

    Returns
    -------
    LinearClassifier, or sklearn.pipeline.Pipeline
        The classifier for LIBSVM; for text, a pipeline of the featurizer and the classifier
        (:func:`fasttext_lin.text_model.save_text_model` saves it).
    """
    if isinstance(passes, bool) or not isinstance(passes, (int, np.integer)) or passes < 1:
        raise ValueError(f"passes must be a positive integer, got {passes!r}")
    if format == "libsvm":
        if n_features is None:
            raise ValueError("n_features is required to stream a LIBSVM file: pass the number "
                             "of features (a LIBSVM file does not say how many there are)")
        read = dict(n_features=n_features)
    else:
        featurizer = streaming_featurizer(featurizer, getattr(classifier, "n_jobs", None))
        read = dict(featurizer=featurizer, label_prefix=label_prefix, encoding=encoding,
                    errors=errors)
    model = streaming_classifier(classifier).set_params(max_iter=passes)
    index = index_lines(path, chunk_size, format, label_prefix, encoding)
    if index.labels.shape[0] < 2:
        raise ValueError(f"{index.path}: every row has the label {index.labels[0].item()!r}: a "
                         "classifier needs at least two classes")
    if model.C is not None:
        # partial_fit would read C against one chunk's rows; C refers to the whole file.
        model.set_params(alpha=1.0 / (model.C * index.n_rows), C=None)
    rng = np.random.default_rng(random_state)
    bar = _progress_bar(progress, passes * index.n_rows)
    try:
        for _ in range(passes):
            for k in rng.permutation(index.n_chunks):
                X, y = read_chunk(index, k, **read)
                if not y.shape[0]:
                    continue  # only blank or comment lines
                model.set_params(random_state=int(rng.integers(np.iinfo(np.int32).max)))
                model.partial_fit(X, y, classes=index.labels)
                bar.update(y.shape[0])
    finally:
        bar.close()
    model.n_iter_ = passes
    if format == "libsvm":
        return model
    from sklearn.pipeline import Pipeline

    from .text_model import STEPS

    return Pipeline(list(zip(STEPS, (featurizer, model))))


def streaming_featurizer(featurizer, n_jobs=None):
    """A fitted copy of ``featurizer`` (default ``BagOfWords(2**20, weighting='count',
    bias=True, n_jobs=n_jobs)``) that learns nothing, so each chunk is featurised alone;
    ValueError otherwise."""
    featurizer = (BagOfWords(1 << 20, weighting="count", bias=True, n_jobs=n_jobs)
                  if featurizer is None else clone(featurizer))
    if featurizer.n_features is None or featurizer.weighting not in ("binary", "count"):
        raise ValueError(
            "streaming needs a featurizer that learns nothing: BagOfWords with n_features set "
            f"(hashing) and weighting 'binary' or 'count'; got n_features="
            f"{featurizer.n_features!r}, weighting={featurizer.weighting!r}")
    return featurizer.fit([""])


def streaming_classifier(classifier):
    """An unfitted clone of ``classifier`` (default ``LinearClassifier(average=True)``) with
    ``solver='sgd'``: streaming and Dask run SGD epochs (``partial_fit``), which is what
    ``solver='auto'`` means there, and the model says so (its :meth:`duality_gap` certifies
    the SGD problem, with a free intercept). TypeError if it is not a LinearClassifier,
    ValueError for ``solver='cd'``."""
    model = LinearClassifier(average=True) if classifier is None else clone(classifier)
    if not isinstance(model, LinearClassifier):
        raise TypeError(f"classifier must be a LinearClassifier, got {type(model).__name__}")
    if model.solver not in ("sgd", "auto"):
        raise ValueError(f"solver={model.solver!r}: streaming and Dask training run SGD "
                         "epochs over chunks (partial_fit); give solver='sgd' or 'auto'.")
    return model.set_params(solver="sgd")


def _progress_bar(enabled, total):
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal.
    return tqdm(total=total, unit="rows", unit_scale=True, disable=None if enabled else True,
                desc="training", leave=False)

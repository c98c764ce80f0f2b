"""Text corpora readers: fastText, label-text, CSV/TSV, one file or one folder per class.

Every reader returns ``(texts, labels)``, names file, line and byte offset in every error, and
never drops or merges a row silently. Every reader decodes a whole file at once (the corpora are
megabytes), so a decoding error gives its byte offset in the file, from which the line is counted.
Lines end at ``\\n`` only, with one trailing ``\\r`` removed: a stray ``\\r`` or ``\\x0c`` inside
a line never splits a document. ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.
"""

import codecs
import csv
import errno
import io
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from ._open import open_binary

__all__ = ["decode_part", "fasttext_records", "read_delimited", "read_fasttext",
           "read_file_per_class", "read_folder", "read_folder_per_class", "read_label_text",
           "read_lines", "split_lines"]

_BLANK = " \t\v\f"
_TOKEN = re.compile(f"[{_BLANK}]*([^{_BLANK}]+)[{_BLANK}]*")


def read_fasttext(path, encoding="utf-8", errors="strict", label_prefix="__label__"):
    """Read a fastText-format corpus: ``__label__X text`` per line.

    Parameters
    ----------
    path : str or os.PathLike
        One document per line: a leading ``<label_prefix><label>`` token, then the text. A
        line with two different labels is refused (the classifiers take one label a line); a
        label repeated is read once. Blank lines are skipped, as fastText does; LF and CRLF
        line endings both work; ``.gz``, ``.bz2`` and ``.xz`` files are decompressed.
    encoding : str, default="utf-8"
        Any ASCII-compatible codec, e.g. ``"latin-1"``. A UTF-8 byte-order mark is skipped.
    errors : str, default="strict"
        Decoding error handler, e.g. ``"replace"``.
    label_prefix : str, default="__label__"
        Prefix that marks a label token. With ``""`` the first token of each line is the label
        (:func:`read_label_text` reads that layout and refuses a line without text).

    Returns
    -------
    texts : list of str
        The text after the labels; may be ``""``.
    labels : numpy.ndarray of str
        The label of each line.

    Raises
    ------
    ValueError
        If a line has no label, an empty one, two different labels or a label holding NUL,
        if a byte cannot be decoded, or if the file holds no document; the message starts
        with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    texts, labels = fasttext_records(read_lines(path, encoding, errors), path, label_prefix)
    return _corpus(texts, labels, path)


def fasttext_records(lines, path, label_prefix="__label__", first_line=1):
    """``(texts, labels)`` of fastText-format lines, blank lines skipped.

    Parameters
    ----------
    lines : iterable of str
        Decoded lines without their line ends.
    path : str
        File the lines come from, for error messages.
    label_prefix : str, default="__label__"
        See :func:`read_fasttext`.
    first_line : int, default=1
        Line number of the first line in the file, for error messages.

    Returns
    -------
    texts : list of str
    labels : list of str

    Raises
    ------
    ValueError
        As :func:`read_fasttext`; the message starts with ``path:line:``.
    """
    return _label_records(lines, path, label_prefix, first_line, need_text=False)


def _label_records(lines, path, label_prefix, first_line, need_text):
    """``(texts, labels)`` of ``<label> <text>`` lines; ``need_text``: refuse a label alone."""
    texts, labels = [], []
    for lineno, line in enumerate(lines, start=first_line):
        if not line.strip(_BLANK):
            continue
        found, text = _split_labels(line, label_prefix)
        if not found or not found[0]:
            problem = "empty label" if found else "no label"
            raise ValueError(f"{path}:{lineno}: {problem}: a line must start with "
                             f"'{label_prefix}<label>', got {_clip(line)}")
        if len(found) > 1:
            raise ValueError(f"{path}:{lineno}: this line has {len(found)} labels "
                             f"({', '.join(map(repr, found))}) and the classifiers take one: "
                             "keep one label a line")
        if need_text and not text.strip(_BLANK):
            raise ValueError(f"{path}:{lineno}: a label ({found[0]!r}) and no text: a line must "
                             "be '<label> <text>'; add the text or remove the line")
        _check_label(found[0], f"{path}:{lineno}")
        texts.append(text)
        labels.append(found[0])
    return texts, labels


def _split_labels(line, prefix):
    """``(distinct labels, text)`` of one line: its leading label tokens, and the rest."""
    found, pos = [], 0
    while (match := _TOKEN.match(line, pos)) and match.group(1).startswith(prefix):
        found.append(match.group(1)[len(prefix):])
        pos = match.end()
        if not prefix:  # without a prefix, only the first token is a label
            break
    return list(dict.fromkeys(found)), line[pos:]


def _check_label(label, where):
    # numpy's str arrays drop trailing NULs: such a label would silently change.
    if "\0" in label:
        raise ValueError(f"{where}: label {label!r} holds a NUL character, which a label cannot "
                         "hold: remove it")
    if "\n" in label or "\r" in label:
        raise ValueError(f"{where}: label {_clip(label)} spans lines (a stray quote?): a label "
                         "is one line; " + _QUOTE_FIX)


def _clip(text, width=60):
    """``repr`` of at most ``width`` characters of ``text``, for messages."""
    return repr(text[:width]) + ("..." if len(text) > width else "")


def read_label_text(path, encoding="utf-8", errors="strict"):
    """Read a ``label sentence`` corpus: the first token of a line is its label, the rest its text.

    The layout of SST-2 (``stsa.binary.*``), TREC and MR files, e.g. ``1 a fine , funny film``.

    Parameters
    ----------
    path : str or os.PathLike
        One document per line. Tokens are separated by spaces or tabs; the label is the first
        one, the text is the rest of the line after the blanks that follow it. Blank lines are
        skipped; LF and CRLF line endings both work; compressed files are decompressed.
    encoding, errors : str
        As :func:`read_fasttext`.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a line holds a label and no text, a label holds NUL, a byte cannot be decoded, or
        the file holds no document; the message starts with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    lines = read_lines(path, encoding, errors)
    texts, labels = _label_records(lines, path, "", 1, need_text=True)
    return _corpus(texts, labels, path)


def read_delimited(path, label_column, text_columns, delimiter=",", header=None,
                   encoding="utf-8", errors="strict", quoting=None):
    """Read a CSV or TSV corpus, one record a line or, in quoted fields, over several lines.

    Rows are never lost silently. With quotes, a field is quoted when it starts with ``"``;
    it may then hold delimiters and newlines, and ``""`` stands for one quote. A quote left
    open to the end of the file, or text after a closing quote, is an error naming the line
    the record starts on. Without ``quoting`` set, a quoted field that holds a line shaped
    like a record of the file (as many fields, a known label in the label column) is taken
    for a stray quote and refused. Without ``header`` set, a first record whose label occurs
    nowhere else and looks like a column name is refused as a likely header.

    Parameters
    ----------
    path : str or os.PathLike
        Delimited file; empty lines (records) are skipped; compressed files are decompressed.
        A field may be of any length.
    label_column : int or str
        0-based index of the label column, or its name when ``header`` is True.
    text_columns : int, str or sequence of them
        Column(s) holding the text; several are joined with one space (e.g. AG News
        ``title`` and ``description``).
    delimiter : str, default=","
        One character; ``"\t"`` for TSV.
    header : {None, False, True}, default=None
        True if the first record names the columns (it is not a document), False if it is a
        document; None: a document, unless it looks like a header (then an error).
    encoding, errors : str
        As :func:`read_fasttext`.
    quoting : {None, False, True}, default=None
        True: ``"`` quotes fields, as in CSV. False: quotes are plain text and a record is one
        line, as in TSV. None: True for CSV, False for a tab delimiter, and a quoted field
        that swallows record-shaped lines is refused.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a record lacks a column, has an empty label or one holding NUL, a quote is left
        open or followed by text, a field swallows records, the first record looks like an
        undeclared header, a byte cannot be decoded, a column name is not in the header, or
        the file holds no document; the message starts with ``path:line:`` (or ``path:``).
    """
    path = os.fspath(path)
    columns = [text_columns] if isinstance(text_columns, (int, str)) else list(text_columns)
    if not columns:
        raise ValueError("text_columns is empty: name at least one text column")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    quotes = delimiter != "\t" if quoting is None else bool(quoting)
    records = _delimited_records(_read_text(path, encoding, errors), path, delimiter, quotes)
    wanted = [label_column] + columns
    if header:
        lineno, names = records.pop(0) if records else (1, [])
        wanted = [_column_index(column, names, path, lineno) for column in wanted]
    elif not all(isinstance(c, int) and not isinstance(c, bool) for c in wanted):
        raise ValueError(f"columns must be integers without a header, got label_column="
                         f"{label_column!r}, text_columns={text_columns!r}; pass header=True "
                         "(--header) to name them")
    texts, labels = [], []
    for lineno, record in records:
        for role, column in zip(["label"] + ["text"] * len(columns), wanted):
            if not -len(record) <= column < len(record):
                raise ValueError(f"{path}:{lineno}: no {role} column {column}: the record has "
                                 f"{len(record)} field(s) [{', '.join(map(_clip, record[:4]))}]")
        if record[wanted[0]] == "":
            raise ValueError(f"{path}:{lineno}: empty label in column {wanted[0]}")
        _check_label(record[wanted[0]], f"{path}:{lineno}")
        labels.append(record[wanted[0]])
        texts.append(" ".join(record[column] for column in wanted[1:]))
    if quotes and quoting is None:
        _check_swallowed(records, wanted[0], labels, path, delimiter)
    if header is None:
        _check_header(records, wanted[0], labels, path)
    return _corpus(texts, labels, path)


def _delimited_records(text, path, delimiter, quotes):
    """``[(first line, fields)]`` of the non-empty records of ``text``."""
    if not quotes:
        return [(lineno, line.split(delimiter))
                for lineno, line in enumerate(split_lines(text), start=1) if line]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    # A field may be as long as the file (the module's default limit is 128 KiB).
    old = csv.field_size_limit(min(max(csv.field_size_limit(), len(text) + 1), 2**31 - 1))
    try:
        return list(_numbered_records(reader, path, text))
    finally:
        csv.field_size_limit(old)


def _numbered_records(reader, path, text):
    """Yield ``(first line, fields)`` of each non-empty record; csv errors name the line."""
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if record:
                yield start, record
    except csv.Error as exc:
        raise ValueError(_quote_problem(path, text, end + 1, reader.line_num, exc)) from exc


_QUOTE_FIX = ("pass quoting=False (--no-quoting) if quotes are plain text in this file, else "
              "remove the stray quote or double it (\"\")")


def _quote_problem(path, text, start, stop, exc):
    """One line on the csv error ``exc`` in the record from line ``start`` to ``stop``."""
    shown = _clip(text.split("\n", start)[start - 1].removesuffix("\r"))
    if "end of data" in str(exc):
        return (f"{path}:{start}: a quote opens a field on this line and never closes: "
                f"{shown}; {_QUOTE_FIX}")
    if "expected after" in str(exc):
        closes = "" if stop == start else f" closes on line {stop} and"
        return (f"{path}:{start}: a field quoted on this line{closes} has text after its closing "
                f"quote: {shown}; {_QUOTE_FIX}")
    return f"{path}:{stop}: {exc}"


def _check_swallowed(records, column, labels, path, delimiter):
    """Refuse a quoted field holding a line shaped like a record: the mark of a stray quote."""
    if not records:
        return
    width = Counter(len(record) for _, record in records).most_common(1)[0][0]
    if not -width <= column < width:
        return
    known = set(labels)
    numeric = all(_INTEGER.fullmatch(label) for label in known)
    for lineno, record in records:
        if not any("\n" in field for field in record):
            continue
        for k, field in enumerate(record):
            segments = field.split("\n")
            # the record's first line, split on every delimiter, is also a record's shape
            widths = (width, k + segments[0].count(delimiter) + 1)
            for offset, segment in enumerate(segments[1:], start=1):
                # a line inside the field, or its last one, which the fields after it end
                after = record[k + 1:] if offset == len(segments) - 1 else []
                parts = segment.count(delimiter) + 1 + len(after)
                if parts not in widths or not -parts <= column < parts:
                    continue
                label = (segment.removesuffix("\r").split(delimiter) + after)[column]
                if label in known or numeric and _INTEGER.fullmatch(label):
                    opened = lineno + sum(f.count("\n") for f in record[:k])
                    raise ValueError(
                        f"{path}:{opened}: a field quoted on this line runs over line "
                        f"{opened + offset}, which looks like a record of its own: "
                        f"{_clip(segment)}; {_QUOTE_FIX}, or pass quoting=True (--quoting) if "
                        "the field is meant")


_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
# First-record labels taken for a column name (compared in lower case).
_HEADER_NAMES = frozenset({"label", "labels", "class", "class index", "category", "target", "y",
                           "sentiment", "polarity", "tag", "topic", "rating", "score", "stars"})


def _check_header(records, column, labels, path):
    """Refuse a first record that looks like an undeclared header line."""
    if len(labels) < 2 or labels[0] in labels[1:]:
        return
    first, rest = labels[0], labels[1:]
    if first.strip().lower() in _HEADER_NAMES:
        why = "a usual column name"
    elif all(_INTEGER.fullmatch(label) for label in rest) and not _INTEGER.fullmatch(first):
        why = "not a number like every other label"
    elif min(Counter(rest).values()) > 1:
        why = "the only label seen once"
    else:
        return
    raise ValueError(f"{path}:{records[0][0]}: this first record looks like a header: its label "
                     f"{first!r} occurs nowhere else in column {column} and is {why}; pass "
                     "header=True (--header) to skip it, or header=False (--no-header) to read "
                     "it as a document")


def _column_index(column, names, path, lineno):
    if isinstance(column, str):
        if column not in names:
            raise ValueError(f"{path}:{lineno}: no column named {column!r} in the header "
                             f"{names!r}")
        return names.index(column)
    return column


def read_file_per_class(paths_by_label, encoding="utf-8", errors="strict"):
    """Read one file per class, one document per line (e.g. ``rt-polarity.pos`` / ``.neg``).

    Parameters
    ----------
    paths_by_label : dict
        ``{label: path}``; documents come in the dict's order, then line order. Every line is
        a document; blank lines (empty or only spaces and tabs) are skipped, as fastText
        skips them. A label is used as ``str(label)``; compressed files are decompressed.
    encoding, errors : str
        As :func:`read_fasttext`; rt-polarity needs ``encoding="latin-1"``.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str

    Raises
    ------
    ValueError
        If a byte cannot be decoded (``path:line:`` and byte offset), a label holds NUL, or
        the files hold no document.
    """
    if not paths_by_label:
        raise ValueError("paths_by_label is empty: pass {label: path} for at least one class")
    texts, labels = [], []
    for label, path in paths_by_label.items():
        _check_label(str(label), f"the label of {os.fspath(path)}")
        lines = [line for line in read_lines(os.fspath(path), encoding, errors)
                 if line.strip(_BLANK)]
        texts += lines
        labels += [str(label)] * len(lines)
    return _corpus(texts, labels, ", ".join(os.fspath(p) for p in paths_by_label.values()))


def read_folder_per_class(folder, encoding="utf-8", errors="strict"):
    """Read one document per file, one subfolder per class (e.g. 20 Newsgroups bydate).

    Parameters
    ----------
    folder : str or os.PathLike
        Holds ``<class>/<document>`` files. Classes and files are read in sorted name order;
        names starting with ``.`` and anything but regular files inside a class folder are
        ignored. A file's whole content, decoded, is the document.
    encoding, errors : str
        As :func:`read_fasttext`; 20 Newsgroups needs ``encoding="latin-1"``.

    Returns
    -------
    texts : list of str
    labels : numpy.ndarray of str
        The subfolder names.

    Raises
    ------
    FileNotFoundError
        If ``folder`` does not exist.
    ValueError
        If a byte cannot be decoded (``path:line:`` and byte offset) or there is no document.
    """
    return read_folder(folder, encoding, errors)


def read_folder(folder, encoding="utf-8", errors="strict", seen=None):
    """:func:`read_folder_per_class`, calling ``seen(path, raw_bytes)`` for every file read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "corpus folder not found", os.fspath(folder))
    _check_codec(encoding, errors)
    texts, labels = [], []
    for class_dir in _visible(folder):
        if not class_dir.is_dir():
            continue
        for path in _visible(class_dir):
            if path.is_file():
                raw = path.read_bytes()
                if seen is not None:
                    seen(path, raw)
                texts.append(_decode(raw, os.fspath(path), encoding, errors))
                labels.append(class_dir.name)
    return _corpus(texts, labels, f"{folder}/<class>/<file>")


def _visible(folder):
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")),
                  key=lambda p: p.name)


def _corpus(texts, labels, where):
    if not texts:
        raise ValueError(f"{where}: no documents (empty corpus)")
    return texts, np.asarray(labels, dtype=str)


def read_lines(path, encoding, errors):
    """The decoded lines of a file, without their ``\\n`` or ``\\r\\n``; errors as
    :func:`read_fasttext`'s."""
    return split_lines(_read_text(path, encoding, errors))


def split_lines(text):
    """The lines of decoded text, without their ``\\n`` or ``\\r\\n``."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start a new one
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _read_text(path, encoding, errors):
    _check_codec(encoding, errors)
    with open_binary(path) as f:
        return _decode(f.read(), path, encoding, errors)


def _check_codec(encoding, errors):
    try:
        codecs.lookup_error(errors)
        ascii_compatible = "\n\r\t ,\"".encode(encoding) == b"\n\r\t ,\""
    except LookupError as exc:
        raise ValueError(f"unknown encoding or errors handler: {exc}") from exc
    if not ascii_compatible:
        raise ValueError(f"encoding {encoding!r} is not ASCII-compatible; the readers split "
                         "lines on byte 0x0a: recode the file to UTF-8")


def decode_part(raw, path, encoding, errors, first_line, first_byte):
    """Decode the bytes of a text file from line ``first_line`` (at byte ``first_byte``) on.

    An error names the file's line and byte, as :func:`read_fasttext`'s do.
    """
    _check_codec(encoding, errors)
    return _decode(raw, path, encoding, errors, first_line, first_byte)


def _decode(raw, path, encoding, errors, first_line=1, first_byte=0):
    """Decode a whole file; an error names the line and the byte offset of the bad byte."""
    try:
        text = raw.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + first_line
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1)
        raise ValueError(
            f"{path}:{line}: cannot decode byte 0x{raw[exc.start]:02x} at byte {column} of the "
            f"line (byte {first_byte + exc.start} of the file) as {encoding}: {exc.reason}; pass "
            "encoding='latin-1' (--encoding latin-1) if the file is Latin-1, or errors='replace' "
            "(--encoding-errors replace)") from exc
    if first_byte == 0 and text.startswith("\ufeff") and codecs.lookup(encoding).name == "utf-8":
        text = text[1:]
    return text


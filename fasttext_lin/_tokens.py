"""Documents to code points, and the character tables the tokenising kernels read.

:func:`document_code_points` joins validated documents into one code-point array with offsets
(``uint8`` for Latin-1 text, else ``uint32``); :func:`tokenizer` gives the kernels'
character classes, minimum token length and Latin-1 lower-casing table for a token pattern.
"""

import functools
import unicodedata

import numpy as np

__all__ = ["document_code_points", "documents", "join_code_points", "lower_table", "tokenizer",
           "whitespace_table", "word_table"]


@functools.cache
def word_table():
    """``uint8`` table over all code points: 1 where ``re``'s Unicode ``\\w`` matches.

    Python's ``re`` counts a character as ``\\w`` when ``str.isalnum()`` or it is '_'.
    Built once per process (about 0.1 s).
    """
    every_char = "".join(map(chr, range(0x110000)))
    table = np.fromiter(map(str.isalnum, every_char), dtype=np.uint8, count=0x110000)
    table[ord("_")] = 1
    return table


@functools.cache
def whitespace_table():
    """``uint8`` table over all code points: 0 for white space, 2 for punctuation and
    symbols (Unicode categories P* and S*, each a token by itself), 1 for the rest.

    Built once per process (about 0.3 s).
    """
    kinds = {"P": 2, "S": 2}
    table = np.fromiter((0 if chr(c).isspace() else kinds.get(unicodedata.category(chr(c))[0], 1)
                         for c in range(0x110000)), dtype=np.uint8, count=0x110000)
    return table


def tokenizer(token_pattern, codes, lowercase):
    """The kernels' ``(char_class, min_len, lower)`` for a ``token_pattern`` and codes.

    ``lower`` maps the code points below 256 (of ``codes``' dtype): Latin-1
    lower-casing, or the identity.
    """
    char_class, min_len = (word_table(), 2) if token_pattern == "default" else (
        whitespace_table(), 1)
    return char_class, min_len, lower_table(lowercase).astype(codes.dtype)


@functools.cache
def lower_table(lowercase):
    """``str.lower`` of the 256 Latin-1 code points (each stays one Latin-1 character)."""
    latin1 = "".join(map(chr, range(256)))
    return np.frombuffer((latin1.lower() if lowercase else latin1).encode("latin-1"),
                         dtype=np.uint8)


def documents(raw_documents, check_items=True):
    """The documents as a list of str, validated.

    With ``check_items=False`` the items are left as they are: :func:`join_code_points`
    checks them as it joins them (which costs nothing when they are all str).
    """
    if isinstance(raw_documents, (str, bytes)):
        raise ValueError(
            "BagOfWords: an iterable over raw text documents is expected, a single "
            f"{type(raw_documents).__name__} was received; wrap it in a list: [text]."
        )
    texts = list(raw_documents)
    if not texts:
        raise ValueError(
            "BagOfWords: the corpus is empty (0 documents); pass at least one document."
        )
    if check_items and not all(type(doc) is str for doc in texts):
        texts = _as_str(texts, 0)
    return texts


def _as_str(texts, first):
    """The items of ``texts`` as str, bytes decoded from UTF-8; an item of another type, or
    bytes that are not UTF-8, is refused with its index (``first`` + its place)."""
    out = []
    for i, doc in enumerate(texts, first):
        if isinstance(doc, bytes):
            try:
                doc = doc.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"BagOfWords: document {i} is bytes that are not UTF-8 "
                                 f"({exc.reason} at byte {exc.start}); decode it first.") from None
        elif not isinstance(doc, str):
            raise ValueError(
                f"BagOfWords: document {i} is a {type(doc).__name__}, not a str or bytes; "
                "pass the texts themselves (replace missing values by '')."
            )
        out.append(doc)
    return out


def document_code_points(raw_documents, lowercase):
    """:func:`join_code_points` of the validated documents."""
    return join_code_points(documents(raw_documents), lowercase)


def join_code_points(texts, lowercase, first=0):
    """The list ``texts`` as one code-point array and ``int64`` offsets (``n + 1``).

    Items that are not str are decoded (bytes) or refused as by :func:`documents`, named
    by their index counted from ``first``. The code points are ``uint8`` when all are
    below 256, else ``uint32``. Latin-1 text is not lower-cased here (the kernels map it
    through :func:`lower_table`); other text is, with ``str.lower`` when ``lowercase``.
    Either way the kernels see the same lower-cased characters, so a corpus cut into
    blocks gives the same features.
    """
    try:
        joined = "".join(texts)  # fails on an item that is not a str
    except TypeError:
        texts = _as_str(texts, first)
        joined = "".join(texts)
    try:
        # Most corpora are Latin-1: one byte per code point encodes 5x faster than UTF-32
        # (a failed attempt stops at the first wider character).
        codes = np.frombuffer(joined.encode("latin-1"), dtype=np.uint8)
    except UnicodeEncodeError:
        if lowercase:
            texts = [doc.lower() for doc in texts]  # may change lengths: before the offsets
            joined = "".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    doc_ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.array(list(map(len, texts)), dtype=np.int64), out=doc_ptr[1:])
    return codes, doc_ptr

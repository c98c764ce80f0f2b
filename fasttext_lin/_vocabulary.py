"""A vocabulary as stored arrays: the terms in UTF-8 with offsets, checked, its table rebuilt.

:meth:`~fasttext_lin.featurize.BagOfWords.to_arrays` and
:meth:`~fasttext_lin.featurize.BagOfWords.from_arrays` store and rebuild a learned
vocabulary through these functions. The kernels' table keeps the terms as UTF-32 code points
(``key_codes``, with code-point offsets ``key_ptr``); a file keeps them as UTF-8 bytes with
byte offsets, a quarter of the size for most text (lone surrogates as 'surrogatepass'). Every
function raises ``ValueError`` naming what is wrong with the stored arrays.
"""

from numbers import Integral

import numpy as np

from . import _text_kernels as _k

__all__ = ["checked_table", "code_points", "decode_keys", "fitted_int", "term_array", "utf8"]

_MAX_CODE_POINT = 0x10FFFF


def utf8(key_codes, key_ptr):
    """The terms given as code points and code-point offsets, as UTF-8 bytes (uint8) and
    byte offsets (int64)."""
    codes = np.ascontiguousarray(key_codes, dtype=np.uint32)
    blob = codes.tobytes().decode("utf-32-le", "surrogatepass").encode("utf-8", "surrogatepass")
    width = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
    ends = np.concatenate([[0], np.cumsum(width, dtype=np.int64)])
    return np.frombuffer(blob, dtype=np.uint8), ends[np.asarray(key_ptr, dtype=np.int64)]


def code_points(key_utf8, key_ptr):
    """Inverse of :func:`utf8`, checked: ``(key_codes, key_ptr)`` in code points."""
    if key_utf8.dtype != np.uint8 or key_utf8.ndim != 1:
        raise ValueError(f"featurizer key_utf8 has dtype {key_utf8.dtype} and "
                         f"{key_utf8.ndim} dimension(s), expected 1-D uint8.")
    if key_ptr.ndim != 1 or key_ptr.shape[0] < 1 or key_ptr.dtype != np.int64:
        raise ValueError(f"featurizer key_ptr has shape {key_ptr.shape} and dtype "
                         f"{key_ptr.dtype}, expected 1-D int64.")
    _check_offsets(key_ptr, key_utf8.shape[0], "key_utf8")
    try:
        text = key_utf8.tobytes().decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ValueError(f"featurizer key_utf8 is not UTF-8 ({exc}).") from None
    # A term starts on the first byte of a character (not a continuation byte 10xxxxxx).
    starts = np.append((key_utf8 & 0xC0) != 0x80, True)
    if not starts[key_ptr].all():
        raise ValueError("featurizer key_ptr cuts a character of key_utf8 in two.")
    # A term's offset in code points: the characters that start before its first byte.
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return codes, np.searchsorted(np.flatnonzero(starts[:-1]), key_ptr).astype(np.int64)


def _check_offsets(key_ptr, length, terms):
    if key_ptr[0] != 0 or np.any(np.diff(key_ptr) < 0) or key_ptr[-1] != length:
        raise ValueError(f"featurizer key_ptr does not rise from 0 to len({terms})={length}.")


def checked_table(key_codes, key_ptr, n_keys):
    """The vocabulary's hash table ``(table, key_codes, key_ptr)`` rebuilt from its terms,
    checked: ``n_keys`` distinct terms of valid code points."""
    if n_keys < 1 or key_ptr.dtype != np.int64 or key_ptr.shape != (n_keys + 1,):
        raise ValueError(f"featurizer key_ptr has shape {key_ptr.shape} and dtype "
                         f"{key_ptr.dtype}, expected ({n_keys + 1},) int64 for "
                         f"n_keys={n_keys} >= 1.")
    if key_codes.dtype != np.uint32 or key_codes.ndim != 1:
        raise ValueError(f"featurizer key_codes has dtype {key_codes.dtype} and "
                         f"{key_codes.ndim} dimension(s), expected 1-D uint32.")
    _check_offsets(key_ptr, key_codes.shape[0], "key_codes")
    if key_codes.shape[0] and key_codes.max() > _MAX_CODE_POINT:
        raise ValueError("featurizer key_codes holds a value beyond the last Unicode "
                         "code point.")
    table, codes, ptr = _k.build_table(key_codes, key_ptr, np.arange(n_keys, dtype=np.int64))
    hashes = table[0::2][table[1::2] != 0]
    # Equal terms have equal hashes: the cheap test settles almost every file (a sort:
    # np.unique hashes 64-bit values an order of magnitude slower).
    hashes = np.sort(hashes)
    if hashes.shape[0] < n_keys or np.any(hashes[1:] == hashes[:-1]):
        text = key_codes.tobytes().decode("utf-32-le", "surrogatepass")
        bounds = key_ptr.tolist()
        terms = {text[bounds[i]: bounds[i + 1]] for i in range(n_keys)}
        if len(terms) < n_keys:
            raise ValueError("featurizer vocabulary holds a term twice.")
    return table, codes, ptr


def term_array(array, name, n_terms):
    """``array``, checked to hold one float64 value per term, none NaN."""
    if array.dtype != np.float64 or array.shape != (n_terms,):
        raise ValueError(f"featurizer {name} has shape {array.shape} and dtype "
                         f"{array.dtype}, expected ({n_terms},) float64.")
    if np.isnan(array).any():
        raise ValueError(f"featurizer {name} holds NaN.")
    return array


def fitted_int(fitted, name):
    """``fitted[name]`` as an int, or ``ValueError`` naming what is missing or wrong."""
    if name not in fitted:
        raise ValueError(f"featurizer fitted has no {name!r}.")
    value = fitted[name]
    # bool is an int in Python, never in a model file.
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise ValueError(f"featurizer fitted[{name!r}] is {value!r}, expected int.")
    return int(value)


def decode_keys(key_codes, key_ptr, n_keys):
    """The first ``n_keys`` keys of a table as Python strings."""
    text = key_codes[: key_ptr[n_keys]].tobytes().decode("utf-32-le", "surrogatepass")
    bounds = key_ptr[: n_keys + 1].tolist()
    return [text[bounds[i]: bounds[i + 1]] for i in range(n_keys)]

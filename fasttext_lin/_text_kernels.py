"""Jitted tokenising, hashing and counting for :class:`fasttext_lin.featurize.BagOfWords`.

The documents arrive as one concatenated array of Unicode code points (``uint32``, or
``uint8`` when all are below 256)
with document offsets ``doc_ptr`` (``int64``, ``n_docs + 1``); ``char_class`` is a
lookup table over all code points: 1 for a word character, 2 for a character that is a
token by itself, 0 for a separator. A token is a maximal run of at least ``min_len``
class-1 characters, or one class-2 character. With 1 where Python's ``re`` counts the
character as ``\\w``, 0 elsewhere and ``min_len=2``, this is exactly what
scikit-learn's ``(?u)\\b\\w\\w+\\b`` finds. Each document's tokens are
laid out in a small buffer, each followed by one space, so that a word n-gram (its
tokens joined by one space, as scikit-learn forms it) is a contiguous slice of the
buffer: it is hashed and compared in place, never built as a string.

Two modes share the same document loop:

* hashing: MurmurHash3 x86_32 (seed 0) of the n-gram's UTF-8 bytes (the buffer holds
  UTF-8), as :class:`sklearn.feature_extraction.text.HashingVectorizer` does;
* vocabulary: an open-addressing hash table keyed by a 64-bit hash of the
  n-gram's code points, with a full comparison of the code points on a hash
  match. The table's keys are kept concatenated (``key_codes``, ``key_ptr``).

Each row's feature ids are collected in a buffer, sorted, and run-length
counted, so the output CSR has sorted indices and summed duplicates.
The kernels trust their inputs: :mod:`fasttext_lin.featurize` validates them.
"""

import numpy as np
from numba import njit

from ._sgd_steps import prefetch

_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0xCC9E2D51)
_C2 = np.uint64(0x1B873593)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
# Rows up to this many n-grams are sorted by insertion alone; longer ones are first
# scattered into about one bucket per id by their value (a counting sort of the high
# bits), which leaves an insertion sort little to move.
_INSERTION_SORT_MAX = 16


# ---------------------------------------------------------------- MurmurHash3 x86_32

@njit(cache=True, inline="always")
def _rotl32(x, r):
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _M32


@njit(cache=True, inline="always")
def _mm_block(h, k):
    k = (k * _C1) & _M32
    k = _rotl32(k, 15)
    k = (k * _C2) & _M32
    h ^= k
    h = _rotl32(h, 13)
    return (h * np.uint64(5) + np.uint64(0xE6546B64)) & _M32


@njit(cache=True, inline="always")
def _utf8(c):
    """Code point ``c`` as UTF-8 (Python's ``str.encode('utf-8')``): ``(bytes, n)``, the
    ``n`` bytes packed little-endian in an unsigned integer."""
    if c < 0x80:
        return np.uint64(c), 1
    if c < 0x800:
        return np.uint64((0xC0 | (c >> 6)) | ((0x80 | (c & 0x3F)) << 8)), 2
    if c < 0x10000:
        return np.uint64((0xE0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3F)) << 8)
                         | ((0x80 | (c & 0x3F)) << 16)), 3
    return np.uint64((0xF0 | (c >> 18)) | ((0x80 | ((c >> 12) & 0x3F)) << 8)
                     | ((0x80 | ((c >> 6) & 0x3F)) << 16) | ((0x80 | (c & 0x3F)) << 24)), 4


@njit(cache=True, inline="always")
def _put_bytes(buf, q, value, n):
    """Write the ``n`` bytes packed in ``value`` (little-endian) at ``buf[q]``; return the end."""
    for t in range(n):
        buf[q] = np.uint8((value >> np.uint64(8 * t)) & np.uint64(0xFF))
        q += np.uint64(1)
    return q


@njit(cache=True, inline="always")
def _murmur_blocks(buf, p, hi, h):
    """MurmurHash3 x86_32 state ``h`` fed the whole 4-byte blocks of ``buf[p:hi]``;
    returns ``(h, p)`` with ``p`` at the first byte not fed."""
    # unsigned positions: no negative-index check
    p = np.uint64(p)
    stop = np.uint64(hi)
    while p + np.uint64(4) <= stop:
        k = (np.uint64(buf[p]) | (np.uint64(buf[p + np.uint64(1)]) << np.uint64(8))
             | (np.uint64(buf[p + np.uint64(2)]) << np.uint64(16))
             | (np.uint64(buf[p + np.uint64(3)]) << np.uint64(24)))
        h = _mm_block(h, k)
        p += np.uint64(4)
    return h, p


@njit(cache=True, inline="always")
def _murmur_final(h, tail, n_tail, length):
    """Signed 32-bit MurmurHash3 x86_32 of a key of ``length`` bytes whose whole blocks
    gave state ``h`` and whose last ``n_tail`` (< 4) bytes are ``tail`` (little-endian),
    as an int64."""
    if n_tail > 0:
        k = (tail * _C1) & _M32
        k = _rotl32(k, 15)
        k = (k * _C2) & _M32
        h ^= k
    h ^= np.uint64(length) & _M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    h ^= h >> np.uint64(16)
    s = np.int64(h)
    if s >= 2147483648:
        s -= 4294967296
    return s


@njit(cache=True, inline="always")
def _murmur_finish(buf, p, hi, h, length):
    """:func:`_murmur_final` of a key whose last bytes ``buf[p:hi]`` (< 4) are not fed."""
    n_tail = np.uint64(hi) - np.uint64(p)
    tail = np.uint64(0)
    for t in range(n_tail):
        tail |= np.uint64(buf[np.uint64(p) + np.uint64(t)]) << np.uint64(8 * t)
    return _murmur_final(h, tail, n_tail, length)


@njit(cache=True, inline="always")
def _murmur_feed(h, tail, n_tail, value, n_bytes):
    """MurmurHash3 x86_32 state ``(h, tail, n_tail)`` fed ``n_bytes`` (<= 4) more bytes
    ``value`` (little-endian): a whole block is mixed in as soon as one is complete."""
    tail |= value << np.uint64(8 * n_tail)
    n_tail += n_bytes
    if n_tail >= 4:
        h = _mm_block(h, tail & _M32)
        tail >>= np.uint64(32)
        n_tail -= 4
    return h, tail, n_tail


@njit(cache=True, inline="always")
def _murmur_bytes(buf, lo, hi):
    """Signed 32-bit MurmurHash3 x86_32, seed 0, of ``buf[lo:hi]`` (as an int64)."""
    h, p = _murmur_blocks(buf, lo, hi, np.uint64(0))
    return _murmur_finish(buf, p, hi, h, hi - lo)


@njit(cache=True)
def murmurhash3_32_codes(codes):
    """Signed MurmurHash3 x86_32, seed 0, of the UTF-8 encoding of code points ``codes``.

    Equals ``sklearn.utils.murmurhash3_32(s, seed=0)`` for the string ``s`` of these code
    points (used by the tests; the counting kernel uses the same two steps).
    """
    buf = np.empty(4 * codes.shape[0] + 1, dtype=np.uint8)
    q = np.uint64(0)
    for i in range(codes.shape[0]):
        value, n = _utf8(codes[i])
        q = _put_bytes(buf, q, value, n)
    return _murmur_bytes(buf, 0, q)


@njit(cache=True, inline="always")
def _hash_index(h, n_features):
    """Column of signed hash ``h``, as scikit-learn's ``_hashing_fast`` computes it."""
    if n_features & (n_features - 1) == 0:
        return abs(h) & (n_features - 1)  # the same column, without a division
    if h == -2147483648:
        return (2147483647 - (n_features - 1)) % n_features
    return abs(h) % n_features


# ---------------------------------------------------------------- 64-bit code-point hash

@njit(cache=True, inline="always")
def _fnv_step(h, c):
    return (h ^ np.uint64(c)) * _FNV_PRIME


@njit(cache=True, inline="always")
def _slot_mix(h):
    """splitmix64 finaliser: FNV's low bits are weak for a power-of-two table."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


# ---------------------------------------------------------------- shared pieces

@njit(cache=True, inline="always")
def _char(codes, p, lower):
    """Code point ``p``, through the 256-entry ``lower`` table when below 256."""
    c = codes[p]
    return lower[c] if c < 256 else c


@njit(cache=True)
def _latin1_tables(char_class, lower):
    """``(class_low, utf8_low)``: for each code point below 256, the class and the
    packed UTF-8 (:func:`_utf8`, its length in bits 32 and up) of its lower-cased form.

    One lookup then replaces two for most characters of most corpora.
    """
    class_low = np.empty(256, dtype=np.uint8)
    utf8_low = np.empty(256, dtype=np.uint64)
    for c in range(256):
        class_low[c] = char_class[lower[c]]
        value, n = _utf8(lower[c])
        utf8_low[c] = value | (np.uint64(n) << np.uint64(32))
    return class_low, utf8_low


@njit(cache=True, inline="always")
def _class(codes, p, char_class, class_low):
    """Class of (lower-cased) code point ``p``."""
    c = codes[p]
    return class_low[c] if c < 256 else char_class[c]


@njit(cache=True, inline="always")
def _char_utf8(codes, p, utf8_low):
    """``(bytes, n)`` of :func:`_utf8` for (lower-cased) code point ``p``."""
    c = codes[p]
    if c < 256:
        packed = utf8_low[c]
        return packed & _M32, np.int64(packed >> np.uint64(32))
    return _utf8(c)


@njit(cache=True, inline="always")
def _next_token(codes, p, stop, char_class, class_low, min_len):
    """``(start, end)`` of the first token of ``codes[p:stop]``; ``(stop, stop)`` if none.

    A token is a maximal run of at least ``min_len`` characters of class 1, or one
    character of class 2; class 0 separates. Positions are unsigned (Numba then skips
    its negative-index check).
    """
    one = np.uint64(1)
    while p < stop:
        kind = _class(codes, p, char_class, class_low)
        if kind == 0:
            p += one
            continue
        r = p + one
        if kind == 1:
            while r < stop and _class(codes, r, char_class, class_low) == 1:
                r += one
            if r - p < np.uint64(min_len):
                p = r
                continue
        return p, r
    return stop, stop


@njit(cache=True, inline="always")
def _layout_tokens(codes, start, stop, char_class, class_low, min_len, lower, utf8_low, buf,
                   tok_lo, tok_hi, utf8):
    """Lay the tokens of ``codes[start:stop]`` out in ``buf``, each followed by one space.

    Code points below 256 are lower-cased here, through ``lower`` (lower-casing Latin-1
    text here costs less than ``str.lower`` before). ``buf`` receives UTF-8 bytes
    (``utf8``) or code points, so that the n-gram of tokens ``i .. j`` is the contiguous
    slice ``buf[tok_lo[i]:tok_hi[j]]``, spelled as scikit-learn joins it. Returns the
    number of tokens.
    """
    one = np.uint64(1)
    n_tok = 0
    q = np.uint64(0)
    p = np.uint64(start)
    stop = np.uint64(stop)
    while p < stop:
        p, r = _next_token(codes, p, stop, char_class, class_low, min_len)
        if p == stop:
            break
        tok_lo[n_tok] = q
        while p < r:
            if utf8:
                value, n = _char_utf8(codes, p, utf8_low)
                q = _put_bytes(buf, q, value, n)
            else:
                buf[q] = _char(codes, p, lower)
                q += one
            p += one
        buf[q] = 32
        tok_hi[n_tok] = q
        n_tok += 1
        q += one
    return n_tok


@njit(cache=True)
def _longest_doc(doc_ptr):
    longest = 0
    for d in range(doc_ptr.shape[0] - 1):
        longest = max(longest, doc_ptr[d + 1] - doc_ptr[d])
    return longest


@njit(cache=True)
def _grow(array, needed):
    """``array`` copied into one at least twice as large, or itself when it has room."""
    if needed <= array.shape[0]:
        return array
    out = np.empty(max(needed, 2 * array.shape[0]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


@njit(cache=True, inline="always")
def _insertion_sort(row, m):
    """Sort ``row[:m]`` in place: for a short row, cheaper than calling a quicksort."""
    for k in range(1, m):
        value = row[k]
        t = k - 1
        while t >= 0 and row[t] > value:
            row[t + 1] = row[t]
            t -= 1
        row[t + 1] = value


@njit(cache=True, inline="always")
def _sort_ids(row, m, spare, counts, top):
    """``row[:m]`` sorted, in ``row`` or in ``spare`` (the one returned).

    Long rows go through a counting sort on ``(id - min) >> shift`` into about ``m``
    buckets (``counts`` holds at least ``2 m + 2`` entries), then an insertion sort that
    only moves ids within a bucket: linear time for spread-out ids such as hashes.
    With ``top > 0`` the ids are known to lie in ``[0, top)`` (hashes: spread over that
    range), which saves finding their range.
    """
    if m <= _INSERTION_SORT_MAX:
        _insertion_sort(row, m)
        return row
    if top > 0:
        lo = 0
        hi = top - 1
    else:
        lo = row[0]
        hi = row[0]
        for k in range(1, m):
            lo = min(lo, row[k])
            hi = max(hi, row[k])
    n_buckets = 1
    while n_buckets < m:
        n_buckets *= 2
    shift = 0
    while ((hi - lo) >> shift) >= n_buckets:
        shift += 1
    n_used = ((hi - lo) >> shift) + 1
    counts[: n_used + 1] = 0
    for k in range(m):
        counts[((row[k] - lo) >> shift) + 1] += 1
    for b in range(n_used):
        counts[b + 1] += counts[b]
    for k in range(m):
        b = (row[k] - lo) >> shift
        spare[counts[b]] = row[k]
        counts[b] += 1
    _insertion_sort(spare, m)
    return spare


@njit(cache=True, inline="always")
def _emit_row(row, m, spare, counts, top, signed, indices, data, nnz):
    """Sort the row's ids (:func:`_sort_ids`), count runs into ``indices``/``data`` at
    ``nnz``; return the new nnz.

    With ``signed`` an id carries its sign in its lowest bit and the value is the sum
    of the signs.
    """
    row = _sort_ids(row, m, spare, counts, top)
    shift = 1 if signed else 0
    k = 0
    while k < m:
        column = row[k] >> shift
        value = 0.0
        while k < m and (row[k] >> shift) == column:
            value += -1.0 if (signed and (row[k] & 1)) else 1.0
            k += 1
        indices[nnz] = column
        data[nnz] = value
        nnz += 1
    return nnz


@njit(cache=True)
def _buffers(doc_ptr, min_len, min_n, max_n):
    """Per-document token and row buffers: ``(longest, tok_lo, tok_hi, row, spare, counts)``
    (``spare`` and ``counts``: :func:`_sort_ids`'s)."""
    longest = _longest_doc(doc_ptr)
    # A token of class 1 takes min_len characters and a separator; one of class 2 may
    # take a single character.
    max_tok = longest + 1 if min_len < 2 else (longest + 1) // 3 + 1
    tok_lo = np.empty(max_tok, dtype=np.int64)
    tok_hi = np.empty(max_tok, dtype=np.int64)
    row = np.empty(max_tok * (max_n - min_n + 1) + 1, dtype=np.int64)
    spare = np.empty_like(row)
    counts = np.empty(2 * row.shape[0] + 2, dtype=np.int64)
    return longest, tok_lo, tok_hi, row, spare, counts


# ---------------------------------------------------------------- hashing mode

@njit(cache=True, inline="always")
def _hash_row(buf, tok_lo, tok_hi, n_tok, min_n, max_n, n_features, alternate_sign, row):
    """Ids of a document's n-grams into ``row`` (column in the high bits, the sign in the
    lowest, so that one sort groups both); returns their number."""
    m = 0
    for i in range(n_tok):
        # The n-grams starting at token i share their first bytes: the whole blocks are
        # fed once, each n-gram finishes from that state (the same hashes).
        h = np.uint64(0)
        p = tok_lo[i]
        for j in range(i, min(i + max_n, n_tok)):
            h, p = _murmur_blocks(buf, p, tok_hi[j], h)
            if j < i + min_n - 1:
                continue
            s = _murmur_finish(buf, p, tok_hi[j], h, tok_hi[j] - tok_lo[i])
            negative = 1 if (alternate_sign and s < 0) else 0
            row[m] = 2 * _hash_index(s, n_features) + negative
            m += 1
    return m


@njit(cache=True, inline="always")
def _hash_words(codes, start, stop, char_class, class_low, min_len, utf8_low, n_features,
                alternate_sign, row):
    """Ids of the tokens of ``codes[start:stop]`` into ``row``, as :func:`_hash_row`'s
    unigrams; returns their number.

    Each token is hashed as its characters are read (MurmurHash3 fed byte by byte), with
    no copy of the token: the path of unigram features.
    """
    one = np.uint64(1)
    m = 0
    p = np.uint64(start)
    stop = np.uint64(stop)
    while p < stop:
        p, r = _next_token(codes, p, stop, char_class, class_low, min_len)
        if p == stop:
            break
        h = np.uint64(0)
        tail = np.uint64(0)
        n_tail = 0
        length = 0
        while p < r:
            value, n = _char_utf8(codes, p, utf8_low)
            h, tail, n_tail = _murmur_feed(h, tail, n_tail, value, n)
            length += n
            p += one
        s = _murmur_final(h, tail, n_tail, length)
        negative = 1 if (alternate_sign and s < 0) else 0
        row[m] = 2 * _hash_index(s, n_features) + negative
        m += 1
    return m


@njit(cache=True, nogil=True)
def count_hashing(codes, doc_ptr, char_class, min_len, lower, min_n, max_n, n_features,
                  alternate_sign, indptr, indices, data, nnz):
    """Hashed n-gram counts of the documents, as HashingVectorizer's, appended to a CSR.

    The rows go to ``indices`` and ``data`` from entry ``nnz`` on, and row ``d``'s end
    to ``indptr[d + 1]`` (``indptr`` holds one entry more than there are documents).
    Returns ``(indices, data, nnz)``: the arrays are new, larger ones when they were
    too small. With ``alternate_sign`` a feature's value is the sum of the signs of the
    n-grams that hash to it (a zero is kept as an explicit entry, as scikit-learn does).
    """
    n_docs = doc_ptr.shape[0] - 1
    longest, tok_lo, tok_hi, row, spare, counts = _buffers(doc_ptr, min_len, min_n, max_n)
    class_low, utf8_low = _latin1_tables(char_class, lower)
    buf = np.empty(5 * longest + 8, dtype=np.uint8)
    for d in range(n_docs):
        if max_n == 1:
            m = _hash_words(codes, doc_ptr[d], doc_ptr[d + 1], char_class, class_low,
                            min_len, utf8_low, n_features, alternate_sign, row)
        else:
            n_tok = _layout_tokens(codes, doc_ptr[d], doc_ptr[d + 1], char_class, class_low,
                                   min_len, lower, utf8_low, buf, tok_lo, tok_hi, True)
            m = _hash_row(buf, tok_lo, tok_hi, n_tok, min_n, max_n, n_features,
                          alternate_sign, row)
        indices = _grow(indices, nnz + m)
        data = _grow(data, nnz + m)
        nnz = _emit_row(row, m, spare, counts, 2 * n_features, True, indices, data, nnz)
        indptr[d + 1] = nnz
    return indices, data, nnz


# ---------------------------------------------------------------- vocabulary mode
# The table is one uint64 array of (hash, id + 1) pairs, 0 marking an empty slot, so
# that a probe reads one cache line.

@njit(cache=True, inline="always")
def _slice_equals(a, a_lo, a_hi, b, b_lo, b_hi):
    if a_hi - a_lo != b_hi - b_lo:
        return False
    p = np.uint64(a_lo)
    q = np.uint64(b_lo)
    stop = np.uint64(a_hi)
    while p < stop:  # unsigned positions: no negative-index check
        if a[p] != b[q]:
            return False
        p += np.uint64(1)
        q += np.uint64(1)
    return True


@njit(cache=True, inline="always")
def _insert_slot(table, mask, h):
    """First empty slot of hash ``h`` (the caller knows the key is absent)."""
    slot = _slot_mix(h) & mask
    while table[2 * slot + 1] != 0:
        slot = (slot + np.uint64(1)) & mask
    return slot


@njit(cache=True)
def _rehash(table, capacity):
    """The table's entries moved into a table of ``capacity`` slots (a power of two)."""
    new = np.zeros(2 * capacity, dtype=np.uint64)
    mask = np.uint64(capacity - 1)
    for s in range(table.shape[0] // 2):
        if table[2 * s + 1] != 0:
            slot = _insert_slot(new, mask, table[2 * s])
            new[2 * slot] = table[2 * s]
            new[2 * slot + 1] = table[2 * s + 1]
    return new


@njit(cache=True, inline="always")
def _find_or_add(table, h, buf, lo, hi, key_codes, key_ptr, n_keys, grow):
    """Id of the key ``buf[lo:hi]`` (hash ``h``) in the table; -1 if absent and not ``grow``.

    With ``grow`` an absent key gets the next id. Returns ``(id, table, key_codes,
    key_ptr, n_keys)``: the arrays are new ones when they grew.
    """
    mask = np.uint64(table.shape[0] // 2 - 1)
    slot = _slot_mix(h) & mask
    while table[2 * slot + 1] != 0:
        if table[2 * slot] == h:
            key = np.int64(table[2 * slot + 1]) - 1
            if _slice_equals(buf, lo, hi, key_codes, key_ptr[key], key_ptr[key + 1]):
                return key, table, key_codes, key_ptr, n_keys
        slot = (slot + np.uint64(1)) & mask
    if not grow:
        return -1, table, key_codes, key_ptr, n_keys
    start = key_ptr[n_keys]
    key_codes = _grow(key_codes, start + hi - lo)
    key_codes[start: start + hi - lo] = buf[lo:hi]
    key_ptr = _grow(key_ptr, n_keys + 2)
    key_ptr[n_keys + 1] = start + hi - lo
    table[2 * slot] = h
    table[2 * slot + 1] = np.uint64(n_keys + 1)
    n_keys += 1
    if 2 * n_keys > table.shape[0] // 2:
        table = _rehash(table, table.shape[0])
    return n_keys - 1, table, key_codes, key_ptr, n_keys


@njit(cache=True, nogil=True)
def count_vocabulary(codes, doc_ptr, char_class, min_len, lower, min_n, max_n, table,
                     key_codes, key_ptr, n_keys, grow, indptr, indices, data, nnz):
    """N-gram counts over the vocabulary in the table, appended to a CSR as
    :func:`count_hashing`'s; with ``grow`` new n-grams are added.

    Returns ``(indices, data, nnz, table, key_codes, key_ptr, n_keys)``: the table
    arrays are new ones when the table grew. Without ``grow`` unknown n-grams are
    skipped. New ids are given in order of first occurrence.
    """
    n_docs = doc_ptr.shape[0] - 1
    longest, tok_lo, tok_hi, row, spare, counts = _buffers(doc_ptr, min_len, min_n, max_n)
    buf = np.empty(2 * longest + 8, dtype=np.uint32)
    gram_hash = np.empty(row.shape[0], dtype=np.uint64)
    gram_lo = np.empty(row.shape[0], dtype=np.int64)
    gram_hi = np.empty(row.shape[0], dtype=np.int64)
    class_low, utf8_low = _latin1_tables(char_class, lower)
    for d in range(n_docs):
        mask = np.uint64(table.shape[0] // 2 - 1)
        n_tok = _layout_tokens(codes, doc_ptr[d], doc_ptr[d + 1], char_class, class_low,
                               min_len, lower, utf8_low, buf, tok_lo, tok_hi, False)
        # Two passes: hash every n-gram of the document and prefetch its slot, then
        # probe; the table's cache misses then overlap instead of following each other.
        n_grams = 0
        for i in range(n_tok):
            h = _FNV_OFFSET
            p = np.uint64(tok_lo[i])
            for j in range(i, min(i + max_n, n_tok)):
                while p < np.uint64(tok_hi[j]):
                    h = _fnv_step(h, buf[p])
                    p += np.uint64(1)
                if j >= i + min_n - 1:
                    gram_hash[n_grams] = h
                    gram_lo[n_grams] = tok_lo[i]
                    gram_hi[n_grams] = tok_hi[j]
                    prefetch(table, 2 * (_slot_mix(h) & mask))
                    n_grams += 1
        m = 0
        for g in range(n_grams):
            found, table, key_codes, key_ptr, n_keys = _find_or_add(
                table, gram_hash[g], buf, gram_lo[g], gram_hi[g], key_codes, key_ptr,
                n_keys, grow)
            if found < 0:
                continue
            row[m] = found
            m += 1
        indices = _grow(indices, nnz + m)
        data = _grow(data, nnz + m)
        nnz = _emit_row(row, m, spare, counts, 0, False, indices, data, nnz)
        indptr[d + 1] = nnz
    return indices, data, nnz, table, key_codes, key_ptr, n_keys


@njit(cache=True, nogil=True)
def find_keys(table, key_codes, key_ptr, new_codes, new_ptr, lo, hi, ids, hashes):
    """For the keys ``new_codes[new_ptr[i]:new_ptr[i + 1]]``, ``lo <= i < hi``: ``hashes[i]``
    their hash and ``ids[i]`` their id in the table, or -1. Reads the table only: threads
    may look up slices of the keys at once."""
    for i in range(lo, hi):
        h = _FNV_OFFSET
        for p in range(new_ptr[i], new_ptr[i + 1]):
            h = _fnv_step(h, new_codes[p])
        hashes[i] = h
        ids[i] = _find_or_add(table, h, new_codes, new_ptr[i], new_ptr[i + 1], key_codes,
                              key_ptr, 0, False)[0]


@njit(cache=True, nogil=True)
def add_missing_keys(table, key_codes, key_ptr, n_keys, new_codes, new_ptr, ids, hashes):
    """Merge new keys into the table after :func:`find_keys` has set their ``ids`` and
    ``hashes``: those of ``ids[i] == -1`` get the next ids, in order (the table and key
    arrays grown once for all of them), so that merging the vocabularies of consecutive
    blocks numbers terms by first occurrence. Returns ``(ids, table, key_codes, key_ptr,
    n_keys)``: the arrays are new ones when they grew."""
    missing, codes = 0, 0
    for i in range(ids.shape[0]):
        if ids[i] < 0:
            missing += 1
            codes += new_ptr[i + 1] - new_ptr[i]
    capacity = table.shape[0] // 2
    while 2 * (n_keys + missing) > capacity:
        capacity *= 2
    if capacity != table.shape[0] // 2:
        table = _rehash(table, capacity)
    key_codes = _grow(key_codes, key_ptr[n_keys] + codes)
    key_ptr = _grow(key_ptr, n_keys + missing + 2)
    for i in range(ids.shape[0]):
        if ids[i] < 0:
            ids[i], table, key_codes, key_ptr, n_keys = _find_or_add(
                table, hashes[i], new_codes, new_ptr[i], new_ptr[i + 1], key_codes, key_ptr,
                n_keys, True)
    return ids, table, key_codes, key_ptr, n_keys


@njit(cache=True, nogil=True)
def renumber_rows(indptr, indices, data, ids):
    """Replace each column ``c`` by ``ids[c]`` (one-to-one) and sort each row again, in place."""
    longest = 0
    for r in range(indptr.shape[0] - 1):
        longest = max(longest, indptr[r + 1] - indptr[r])
    # a key holds the new column in its high bits and the entry's place in the row in its
    # low 32 bits: one sort of the keys orders the columns and tells where each value was
    keys = np.empty(longest + 1, dtype=np.int64)
    spare = np.empty_like(keys)
    counts = np.empty(2 * keys.shape[0] + 2, dtype=np.int64)
    values = np.empty(keys.shape[0], dtype=data.dtype)
    for r in range(indptr.shape[0] - 1):
        lo = indptr[r]
        m = indptr[r + 1] - lo
        for k in range(m):
            keys[k] = (ids[indices[lo + k]] << 32) | k
            values[k] = data[lo + k]
        ordered = _sort_ids(keys, m, spare, counts, 0)
        for k in range(m):
            indices[lo + k] = ordered[k] >> 32
            data[lo + k] = values[ordered[k] & 0xFFFFFFFF]


@njit(cache=True)
def empty_table(capacity):
    """An empty table of ``capacity`` slots (a power of two)."""
    return np.zeros(2 * capacity, dtype=np.uint64)


@njit(cache=True)
def build_table(key_codes, key_ptr, keep):
    """A table over the keys ``keep`` (in that order; key ``keep[r]`` gets id ``r``).

    Returns ``(table, key_codes, key_ptr)`` with the kept keys packed. The caller
    guarantees the kept keys are distinct.
    """
    n = keep.shape[0]
    new_ptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        new_ptr[r + 1] = new_ptr[r] + key_ptr[keep[r] + 1] - key_ptr[keep[r]]
    new_codes = np.empty(max(16, new_ptr[n]), dtype=np.uint32)
    capacity = 16
    while capacity < 2 * n + 2:
        capacity *= 2
    table = np.zeros(2 * capacity, dtype=np.uint64)
    mask = np.uint64(capacity - 1)
    for r in range(n):
        lo = key_ptr[keep[r]]
        h = _FNV_OFFSET
        for p in range(lo, key_ptr[keep[r] + 1]):
            c = key_codes[p]
            new_codes[new_ptr[r] + p - lo] = c
            h = _fnv_step(h, c)
        slot = _insert_slot(table, mask, h)
        table[2 * slot] = h
        table[2 * slot + 1] = np.uint64(r + 1)
    return table, new_codes, new_ptr


# ---------------------------------------------------------------- weighting helpers

@njit(cache=True)
def l2_normalize(indptr, data):
    """Scale each CSR row of ``data`` in place to unit Euclidean norm (empty rows stay)."""
    for i in range(indptr.shape[0] - 1):
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            total += data[j] * data[j]
        if total > 0.0:
            # divide, as scikit-learn's normalize does, for bit-identical results
            norm = np.sqrt(total)
            for j in range(indptr[i], indptr[i + 1]):
                data[j] /= norm


@njit(cache=True)
def prepend_bias(indptr, indices, data):
    """CSR with a constant 1 at column 0 of every row and the other columns shifted by 1."""
    n = indptr.shape[0] - 1
    new_indptr = np.empty(n + 1, dtype=np.int64)
    new_indices = np.empty(indices.shape[0] + n, dtype=np.int32)
    new_data = np.empty(indices.shape[0] + n, dtype=data.dtype)
    new_indptr[0] = 0
    q = 0
    for i in range(n):
        new_indices[q] = 0
        new_data[q] = 1.0
        q += 1
        for j in range(indptr[i], indptr[i + 1]):
            new_indices[q] = indices[j] + 1
            new_data[q] = data[j]
            q += 1
        new_indptr[i + 1] = q
    return new_indptr, new_indices, new_data

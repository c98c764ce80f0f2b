"""Jitted tokenising, hashing and counting for :class:`fasttext_lin.featurize.BagOfWords`.

The documents arrive as one concatenated array of Unicode code points (``uint32``)
with document offsets ``doc_ptr`` (``int64``, ``n_docs + 1``); ``is_word`` is a
lookup table over all code points (1 where Python's ``re`` counts the character
as ``\\w``). A token is a maximal run of at least two word characters, which is
exactly what scikit-learn's ``(?u)\\b\\w\\w+\\b`` finds. A word n-gram is its tokens
joined by one space, as scikit-learn forms them; the kernels never build it as a
string but feed its code points (and the spaces) to a running hash.

Two modes share the same document loop:

* hashing: MurmurHash3 x86_32 (seed 0) of the n-gram's UTF-8 bytes, encoded on
  the fly, as :class:`sklearn.feature_extraction.text.HashingVectorizer` does;
* vocabulary: an open-addressing hash table keyed by a 64-bit hash of the
  n-gram's code points, with a full comparison of the code points on a hash
  match. The table's keys are kept concatenated (``key_codes``, ``key_ptr``).

Each row's feature ids are collected in a buffer, sorted, and run-length
counted, so the output CSR has sorted indices and summed duplicates.
The kernels trust their inputs: :mod:`fasttext_lin.featurize` validates them.
"""

import numpy as np
from numba import njit

_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0xCC9E2D51)
_C2 = np.uint64(0x1B873593)
_SPACE = np.uint32(32)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_EMPTY = -1


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
def _mm_byte(h, carry, n_carry, b):
    """Feed one byte; ``carry`` holds the ``n_carry`` bytes of an incomplete block."""
    carry |= b << (np.uint64(8) * n_carry)
    n_carry += np.uint64(1)
    if n_carry == np.uint64(4):
        h = _mm_block(h, carry)
        carry = np.uint64(0)
        n_carry = np.uint64(0)
    return h, carry, n_carry


@njit(cache=True, inline="always")
def _mm_code_point(h, carry, n_carry, n_bytes, c):
    """Feed code point ``c`` as its UTF-8 bytes (Python's ``str.encode('utf-8')``)."""
    c = np.uint64(c)
    if c < np.uint64(0x80):
        h, carry, n_carry = _mm_byte(h, carry, n_carry, c)
        return h, carry, n_carry, n_bytes + np.uint64(1)
    if c < np.uint64(0x800):
        h, carry, n_carry = _mm_byte(h, carry, n_carry, np.uint64(0xC0) | (c >> np.uint64(6)))
        h, carry, n_carry = _mm_byte(h, carry, n_carry,
                                     np.uint64(0x80) | (c & np.uint64(0x3F)))
        return h, carry, n_carry, n_bytes + np.uint64(2)
    if c < np.uint64(0x10000):
        h, carry, n_carry = _mm_byte(h, carry, n_carry, np.uint64(0xE0) | (c >> np.uint64(12)))
        h, carry, n_carry = _mm_byte(
            h, carry, n_carry, np.uint64(0x80) | ((c >> np.uint64(6)) & np.uint64(0x3F)))
        h, carry, n_carry = _mm_byte(h, carry, n_carry,
                                     np.uint64(0x80) | (c & np.uint64(0x3F)))
        return h, carry, n_carry, n_bytes + np.uint64(3)
    h, carry, n_carry = _mm_byte(h, carry, n_carry, np.uint64(0xF0) | (c >> np.uint64(18)))
    h, carry, n_carry = _mm_byte(
        h, carry, n_carry, np.uint64(0x80) | ((c >> np.uint64(12)) & np.uint64(0x3F)))
    h, carry, n_carry = _mm_byte(
        h, carry, n_carry, np.uint64(0x80) | ((c >> np.uint64(6)) & np.uint64(0x3F)))
    h, carry, n_carry = _mm_byte(h, carry, n_carry, np.uint64(0x80) | (c & np.uint64(0x3F)))
    return h, carry, n_carry, n_bytes + np.uint64(4)


@njit(cache=True, inline="always")
def _mm_finish(h, carry, n_carry, n_bytes):
    """The signed 32-bit MurmurHash3 of the bytes fed so far (as an int64)."""
    if n_carry > np.uint64(0):
        k = (carry * _C1) & _M32
        k = _rotl32(k, 15)
        k = (k * _C2) & _M32
        h ^= k
    h ^= n_bytes & _M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    h ^= h >> np.uint64(16)
    s = np.int64(h)
    if s >= 2147483648:
        s -= 4294967296
    return s


@njit(cache=True)
def murmurhash3_32_codes(codes):
    """Signed MurmurHash3 x86_32, seed 0, of the UTF-8 encoding of code points ``codes``.

    Equals ``sklearn.utils.murmurhash3_32(s, seed=0)`` for the string ``s`` of these code
    points (used by the tests; the counting kernel inlines the same steps).
    """
    h = np.uint64(0)
    carry = np.uint64(0)
    n_carry = np.uint64(0)
    n_bytes = np.uint64(0)
    for i in range(codes.shape[0]):
        h, carry, n_carry, n_bytes = _mm_code_point(h, carry, n_carry, n_bytes, codes[i])
    return _mm_finish(h, carry, n_carry, n_bytes)


@njit(cache=True, inline="always")
def _hash_index(h, n_features):
    """Column of signed hash ``h``, as scikit-learn's ``_hashing_fast`` computes it."""
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
def _tokenize(codes, start, stop, is_word, tok_start, tok_stop):
    """Fill the bounds of the tokens of ``codes[start:stop]``; return their number."""
    n_tokens = 0
    p = start
    while p < stop:
        if is_word[codes[p]]:
            q = p + 1
            while q < stop and is_word[codes[q]]:
                q += 1
            if q - p >= 2:
                tok_start[n_tokens] = p
                tok_stop[n_tokens] = q
                n_tokens += 1
            p = q + 1  # codes[q] is not a word character (or q == stop)
        else:
            p += 1
    return n_tokens


@njit(cache=True)
def _max_tokens_per_doc(doc_ptr):
    """Bound on the tokens of any document: each takes two characters and a separator."""
    longest = 0
    for d in range(doc_ptr.shape[0] - 1):
        longest = max(longest, doc_ptr[d + 1] - doc_ptr[d])
    return (longest + 1) // 3 + 1


@njit(cache=True)
def _grow(array, needed):
    """``array`` copied into one at least twice as large, or itself when it has room."""
    if needed <= array.shape[0]:
        return array
    out = np.empty(max(needed, 2 * array.shape[0]), dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


# ---------------------------------------------------------------- hashing mode

@njit(cache=True)
def count_hashing(codes, doc_ptr, is_word, min_n, max_n, n_features, alternate_sign):
    """CSR ``(indptr, indices, data)`` of hashed n-gram counts, as HashingVectorizer's.

    With ``alternate_sign`` a feature's value is the sum of the signs of the n-grams
    that hash to it (a zero is kept as an explicit entry, as scikit-learn does).
    """
    n_docs = doc_ptr.shape[0] - 1
    max_tok = _max_tokens_per_doc(doc_ptr)
    tok_start = np.empty(max_tok, dtype=np.int64)
    tok_stop = np.empty(max_tok, dtype=np.int64)
    row = np.empty(max_tok * (max_n - min_n + 1) + 1, dtype=np.int64)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    indices = np.empty(max(16, codes.shape[0] // 4), dtype=np.int32)
    data = np.empty(indices.shape[0], dtype=np.float64)
    nnz = 0
    for d in range(n_docs):
        n_tok = _tokenize(codes, doc_ptr[d], doc_ptr[d + 1], is_word, tok_start, tok_stop)
        m = 0
        for i in range(n_tok):
            h = np.uint64(0)
            carry = np.uint64(0)
            n_carry = np.uint64(0)
            n_bytes = np.uint64(0)
            for n in range(1, min(max_n, n_tok - i) + 1):
                if n > 1:
                    h, carry, n_carry, n_bytes = _mm_code_point(h, carry, n_carry, n_bytes,
                                                                _SPACE)
                j = i + n - 1
                for p in range(tok_start[j], tok_stop[j]):
                    h, carry, n_carry, n_bytes = _mm_code_point(h, carry, n_carry, n_bytes,
                                                                codes[p])
                if n >= min_n:
                    s = _mm_finish(h, carry, n_carry, n_bytes)
                    # column in the high bits, sign in the lowest: one sort groups both
                    negative = 1 if (alternate_sign and s < 0) else 0
                    row[m] = 2 * _hash_index(s, n_features) + negative
                    m += 1
        row[:m].sort()
        indices = _grow(indices, nnz + m)
        data = _grow(data, nnz + m)
        k = 0
        while k < m:
            column = row[k] >> 1
            value = 0.0
            while k < m and (row[k] >> 1) == column:
                value += -1.0 if row[k] & 1 else 1.0
                k += 1
            indices[nnz] = column
            data[nnz] = value
            nnz += 1
        indptr[d + 1] = nnz
    return indptr, indices[:nnz].copy(), data[:nnz].copy()


# ---------------------------------------------------------------- vocabulary mode

@njit(cache=True, inline="always")
def _ngram_equals(codes, tok_start, tok_stop, i, n, key_codes, key_lo, key_hi):
    """Whether the n-gram of tokens ``i .. i+n-1`` spells ``key_codes[key_lo:key_hi]``."""
    length = n - 1
    for j in range(i, i + n):
        length += tok_stop[j] - tok_start[j]
    if length != key_hi - key_lo:
        return False
    q = key_lo
    for j in range(i, i + n):
        if j > i:
            if key_codes[q] != _SPACE:
                return False
            q += 1
        for p in range(tok_start[j], tok_stop[j]):
            if codes[p] != key_codes[q]:
                return False
            q += 1
    return True


@njit(cache=True)
def _rehash(table_hash, table_id, capacity):
    """The table's entries moved into a table of ``capacity`` slots (a power of two)."""
    new_hash = np.zeros(capacity, dtype=np.uint64)
    new_id = np.full(capacity, _EMPTY, dtype=np.int64)
    mask = np.uint64(capacity - 1)
    for s in range(table_id.shape[0]):
        if table_id[s] != _EMPTY:
            slot = _slot_mix(table_hash[s]) & mask
            while new_id[slot] != _EMPTY:
                slot = (slot + np.uint64(1)) & mask
            new_hash[slot] = table_hash[s]
            new_id[slot] = table_id[s]
    return new_hash, new_id


@njit(cache=True)
def count_vocabulary(codes, doc_ptr, is_word, min_n, max_n, table_hash, table_id,
                     key_codes, key_ptr, n_keys, grow):
    """CSR n-gram counts over the vocabulary in the table; with ``grow`` new n-grams are added.

    Returns ``(indptr, indices, data, table_hash, table_id, key_codes, key_ptr, n_keys)``:
    the table arrays are new ones when the table grew. Without ``grow`` unknown n-grams
    are skipped. New ids are given in order of first occurrence.
    """
    n_docs = doc_ptr.shape[0] - 1
    max_tok = _max_tokens_per_doc(doc_ptr)
    tok_start = np.empty(max_tok, dtype=np.int64)
    tok_stop = np.empty(max_tok, dtype=np.int64)
    row = np.empty(max_tok * (max_n - min_n + 1) + 1, dtype=np.int64)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    indices = np.empty(max(16, codes.shape[0] // 4), dtype=np.int32)
    data = np.empty(indices.shape[0], dtype=np.float64)
    mask = np.uint64(table_id.shape[0] - 1)
    nnz = 0
    for d in range(n_docs):
        n_tok = _tokenize(codes, doc_ptr[d], doc_ptr[d + 1], is_word, tok_start, tok_stop)
        m = 0
        for i in range(n_tok):
            h = _FNV_OFFSET
            for n in range(1, min(max_n, n_tok - i) + 1):
                if n > 1:
                    h = _fnv_step(h, _SPACE)
                j = i + n - 1
                for p in range(tok_start[j], tok_stop[j]):
                    h = _fnv_step(h, codes[p])
                if n < min_n:
                    continue
                slot = _slot_mix(h) & mask
                found = _EMPTY
                while table_id[slot] != _EMPTY:
                    key = table_id[slot]
                    if table_hash[slot] == h and _ngram_equals(
                            codes, tok_start, tok_stop, i, n,
                            key_codes, key_ptr[key], key_ptr[key + 1]):
                        found = key
                        break
                    slot = (slot + np.uint64(1)) & mask
                if found == _EMPTY:
                    if not grow:
                        continue
                    found = n_keys
                    lo = key_ptr[n_keys]
                    length = n - 1
                    for jj in range(i, i + n):
                        length += tok_stop[jj] - tok_start[jj]
                    key_codes = _grow(key_codes, lo + length)
                    q = lo
                    for jj in range(i, i + n):
                        if jj > i:
                            key_codes[q] = _SPACE
                            q += 1
                        for p in range(tok_start[jj], tok_stop[jj]):
                            key_codes[q] = codes[p]
                            q += 1
                    key_ptr = _grow(key_ptr, n_keys + 2)
                    key_ptr[n_keys + 1] = q
                    table_hash[slot] = h
                    table_id[slot] = n_keys
                    n_keys += 1
                    if 2 * n_keys > table_id.shape[0]:
                        table_hash, table_id = _rehash(table_hash, table_id,
                                                       2 * table_id.shape[0])
                        mask = np.uint64(table_id.shape[0] - 1)
                row[m] = found
                m += 1
        row[:m].sort()
        indices = _grow(indices, nnz + m)
        data = _grow(data, nnz + m)
        k = 0
        while k < m:
            column = row[k]
            value = 0.0
            while k < m and row[k] == column:
                value += 1.0
                k += 1
            indices[nnz] = column
            data[nnz] = value
            nnz += 1
        indptr[d + 1] = nnz
    return (indptr, indices[:nnz].copy(), data[:nnz].copy(),
            table_hash, table_id, key_codes, key_ptr, n_keys)


@njit(cache=True)
def build_table(key_codes, key_ptr, keep):
    """A table over the keys ``keep`` (in that order; key ``keep[r]`` gets id ``r``).

    Returns ``(table_hash, table_id, key_codes, key_ptr)`` with the kept keys packed.
    The caller guarantees the kept keys are distinct.
    """
    n = keep.shape[0]
    new_ptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        new_ptr[r + 1] = new_ptr[r] + key_ptr[keep[r] + 1] - key_ptr[keep[r]]
    new_codes = np.empty(max(16, new_ptr[n]), dtype=np.uint32)
    capacity = 16
    while capacity < 2 * n + 2:
        capacity *= 2
    table_hash = np.zeros(capacity, dtype=np.uint64)
    table_id = np.full(capacity, _EMPTY, dtype=np.int64)
    mask = np.uint64(capacity - 1)
    for r in range(n):
        lo = key_ptr[keep[r]]
        h = _FNV_OFFSET
        for p in range(lo, key_ptr[keep[r] + 1]):
            c = key_codes[p]
            new_codes[new_ptr[r] + p - lo] = c
            h = _fnv_step(h, c)
        slot = _slot_mix(h) & mask
        while table_id[slot] != _EMPTY:
            slot = (slot + np.uint64(1)) & mask
        table_hash[slot] = h
        table_id[slot] = r
    return table_hash, table_id, new_codes, new_ptr


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

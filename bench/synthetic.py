"""Seeded synthetic sparse binary classification sets for benchmarks.

Rows look like l2-normalised bags of words: each row holds about ``nnz_per_row``
distinct feature ids drawn from a Zipf distribution over ``n_features`` ranks
(drawn without replacement within a row, so the mean count is what is asked for
after duplicates would have merged); ranks are scattered over the feature ids by
a random permutation (as hashing does), so frequent features are not already
adjacent in memory. Labels come from a hidden linear model plus noise.

The rows are drawn by a jitted kernel, in parallel over blocks of rows; each row
has its own random stream derived from ``(seed, row)``, so the set depends on the
seed only, not on the number of threads.

Usage::

    python bench/synthetic.py --rows 1000000   # generate, cache and describe
    python bench/synthetic.py --rows 1000000 --check   # also fit a model: learnable?

A data module: the bench scripts import :func:`load_or_make` and :func:`split` from it.
"""

import argparse
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

CACHE = Path(os.environ.get("FASTTEXT_LIN_BENCH_CACHE", Path(__file__).parent / ".cache"))
# Bump when the generator changes what a seed gives: it is part of the cache key.
_GENERATOR_VERSION = 2
# Rows per parallel block of the generator.
_BLOCK_ROWS = 1024


@njit(inline="always")
def _splitmix64(x):
    """One step of splitmix64: return ``(new_state, output)`` (uint64 arithmetic wraps)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    z = x
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x, z ^ (z >> np.uint64(31))


@njit(cache=True)
def _alias_table(weights, scatter):
    """Walker's alias table over ``weights``, as one int64 pair per slot.

    ``table[2k]`` is the chance (times 2**32) that slot ``k`` keeps its own outcome;
    ``table[2k + 1]`` packs that outcome's feature id (low 32 bits) and the alias's
    (high 32 bits), the ranks mapped through ``scatter``. A draw is then one random
    read of 16 bytes, instead of a binary search over the cumulative distribution.
    """
    n = weights.shape[0]
    q = weights * (n / weights.sum())
    alias = np.arange(n)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for k in range(n):
        if q[k] < 1.0:
            small[n_small] = k
            n_small += 1
        else:
            large[n_large] = k
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        a = small[n_small]
        b = large[n_large - 1]
        alias[a] = b
        q[b] -= 1.0 - q[a]
        if q[b] < 1.0:
            n_large -= 1
            small[n_small] = b
            n_small += 1
    for k in range(n_large):
        q[large[k]] = 1.0
    for k in range(n_small):
        # Left over by rounding only: their chance is 1 up to a few ulps.
        q[small[k]] = 1.0
    table = np.empty(2 * n, dtype=np.int64)
    for k in range(n):
        table[2 * k] = min(np.int64(q[k] * 4294967296.0 + 0.5), np.int64(4294967296))
        table[2 * k + 1] = np.int64(scatter[k]) | (np.int64(scatter[alias[k]]) << 32)
    return table


@njit(inline="always")
def _draw_features(table, state, out):
    """Fill ``out`` with features drawn from the alias ``table``; return the new state.

    No branch depends on a loaded value, so the CPU keeps many of these random
    reads in flight (a rejection test in this loop made it 3x slower).
    """
    n_slots = np.uint64(table.shape[0] // 2)
    for k in range(out.shape[0]):
        state, bits = _splitmix64(state)
        # High 32 bits pick the slot (multiply-shift), low 32 bits flip its coin.
        slot = np.int64(((bits >> np.uint64(32)) * n_slots) >> np.uint64(32))
        alias = np.int64(bits & np.uint64(0xFFFFFFFF)) >= table[2 * slot]
        out[k] = (table[2 * slot + 1] >> (32 * np.int64(alias))) & 0xFFFFFFFF
    return state


@njit(cache=True, parallel=True)
def _draw_rows(lengths, first_row, table, seed, set_size, out):
    """Fill row ``r`` of ``out`` with ``lengths[r]`` distinct features, padded by int32 max.

    Each row has its own splitmix64 stream seeded by ``(seed, first_row + r)``; it
    draws candidates in batches and keeps the first ``lengths[r]`` distinct ones,
    found with a small open-addressing set of ``set_size`` (a power of two) slots.
    """
    n_rows, width = out.shape
    n_blocks = (n_rows + _BLOCK_ROWS - 1) // _BLOCK_ROWS
    for b in prange(n_blocks):
        seen = np.full(set_size, -1, dtype=np.int64)
        candidates = np.empty(width + width // 2 + 8, dtype=np.int64)
        for r in range(b * _BLOCK_ROWS, min(n_rows, (b + 1) * _BLOCK_ROWS)):
            state = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(first_row + r)
            state, _ = _splitmix64(state)
            length = lengths[r]
            j = 0
            while j < length:
                # About 1.3 draws per distinct feature at the default Zipf exponent.
                batch = candidates[:min(candidates.shape[0], (length - j) * 3 // 2 + 8)]
                state = _draw_features(table, state, batch)
                for feature in batch:
                    h = (feature * 0x9E3779B1) & (set_size - 1)
                    while seen[h] != -1 and seen[h] != feature:
                        h = (h + 1) & (set_size - 1)
                    if seen[h] == -1:
                        seen[h] = feature
                        out[r, j] = feature
                        j += 1
                        if j == length:
                            break
            for j in range(length):
                h = (out[r, j] * 0x9E3779B1) & (set_size - 1)
                while seen[h] != -1:
                    seen[h] = -1
                    h = (h + 1) & (set_size - 1)
            out[r, length:] = 2147483647


@njit(cache=True, parallel=True)
def _row_dots(indptr, indices, data, w):
    """``X @ w`` for CSR ``X`` without upcasting a float32 ``X``."""
    n_rows = indptr.shape[0] - 1
    out = np.empty(n_rows)
    for i in prange(n_rows):
        total = 0.0
        for j in range(indptr[i], indptr[i + 1]):
            total += data[j] * w[indices[j]]
        out[i] = total
    return out


def make_sparse_classification(
    n_rows, n_features=2**20, nnz_per_row=100, zipf_exponent=1.05, noise=0.1,
    dtype=np.float32, seed=0,
):
    """Return ``(X, y)``: a CSR matrix with sorted int32 indices and +-1 labels.

    Parameters
    ----------
    n_rows, n_features : int
        Shape.
    nnz_per_row : int
        Mean number of (distinct) nonzeros per row: row lengths are Poisson, at least 1.
    zipf_exponent : float
        Exponent ``s`` of the feature-rank distribution ``p(r) ~ r**-s``.
    noise : float
        Standard deviation of the noise added to the hidden model's scores,
        relative to the scores' standard deviation.
    dtype : numpy dtype
        dtype of the values: every row is ``1 / sqrt(row length)`` on its features.
    seed : int
        Seed of everything random.
    """
    if not 0 < nnz_per_row <= n_features / 4:
        raise ValueError(f"nnz_per_row={nnz_per_row} must be in (0, n_features / 4]: rows "
                         "are drawn without replacement by rejection.")
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(nnz_per_row, size=n_rows).clip(1, n_features // 2).astype(np.int64)
    scatter = rng.permutation(n_features).astype(np.int64)
    hidden = rng.standard_normal(n_features)
    noise_draws = rng.standard_normal(n_rows)
    row_seed = int(rng.integers(2**63))
    table = _alias_table(np.arange(1, n_features + 1, dtype=np.float64) ** -zipf_exponent,
                         scatter)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    width = int(lengths.max())
    # Open addressing stays short while the set is at most half full.
    set_size = 1 << (2 * width - 1).bit_length()
    chunk = max(1, (1 << 26) // width)
    for a in range(0, n_rows, chunk):
        b = min(n_rows, a + chunk)
        padded = np.empty((b - a, width), dtype=np.int32)
        _draw_rows(lengths[a:b], a, table, row_seed, set_size, padded)
        # numpy's SIMD sort of short rows is ~50x faster than a per-row sort in Numba.
        padded.sort(axis=1)
        indices[indptr[a]:indptr[b]] = padded[np.arange(width) < lengths[a:b, None]]
    data = np.repeat((1.0 / np.sqrt(lengths)).astype(dtype), lengths)
    if indptr[-1] <= np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    X = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_features))
    X.has_sorted_indices = True
    scores = _row_dots(X.indptr, X.indices, X.data, hidden)
    scores += noise * scores.std() * noise_draws
    y = np.where(scores > np.median(scores), 1.0, -1.0)
    return X, y


def _cache_path(n_rows, seed, kwargs):
    key = repr((_GENERATOR_VERSION, sorted((k, str(v)) for k, v in kwargs.items())))
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return CACHE / f"synthetic_{n_rows}_{seed}_{digest}.npz"


def load_or_make(n_rows, seed=0, **kwargs):
    """Return :func:`make_sparse_classification`'s set, cached on disk under ``CACHE``.

    The cache key holds the generator version and every keyword argument, so a
    changed generator or parameter never returns a stale set.
    """
    path = _cache_path(n_rows, seed, kwargs)
    if path.exists():
        with np.load(path) as f:
            X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
            X.has_sorted_indices = True
            return X, f["y"]
    X, y = make_sparse_classification(n_rows, seed=seed, **kwargs)
    from _harness import atomic_file

    CACHE.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, what="synthetic set") as f:
        np.savez(f, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape, y=y)
    return X, y


def split(X, y, test_fraction=0.1):
    """Train / test CSR views (no copy): the last ``test_fraction`` of the rows is test."""
    n_train = X.shape[0] - int(X.shape[0] * test_fraction)
    cut = X.indptr[n_train]
    train = sp.csr_matrix((X.data[:cut], X.indices[:cut], X.indptr[:n_train + 1]),
                          shape=(n_train, X.shape[1]))
    test = sp.csr_matrix((X.data[cut:], X.indices[cut:], X.indptr[n_train:] - cut),
                         shape=(X.shape[0] - n_train, X.shape[1]))
    for part in (train, test):
        part.has_sorted_indices = True
    return train, y[:n_train], test, y[n_train:]


def _check_learnable(X, y, test_fraction=0.1):
    """Fit scikit-learn's SGDClassifier on a split; return (train, test) accuracy."""
    from sklearn.linear_model import SGDClassifier

    n_test = int(X.shape[0] * test_fraction)
    model = SGDClassifier(loss="hinge", alpha=1e-6, max_iter=5, tol=None, random_state=0)
    model.fit(X[n_test:], y[n_test:])
    return model.score(X[n_test:], y[n_test:]), model.score(X[:n_test], y[:n_test])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true",
                        help="fit SGDClassifier (hinge, 5 epochs) on 90%%, report accuracy")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    X, y = load_or_make(args.rows, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"{X.shape[0]} rows, {X.shape[1]} features, {X.nnz} nonzeros "
          f"({X.nnz / X.shape[0]:.1f} a row), positives {np.mean(y > 0):.3f}, "
          f"{seconds:.1f} s (generated or loaded)")
    if args.check:
        train, test = _check_learnable(X, y)
        print(f"SGDClassifier hinge, 5 epochs: train accuracy {train:.4f}, test {test:.4f}")


if __name__ == "__main__":
    main()

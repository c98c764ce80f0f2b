"""Seeded synthetic sparse binary classification sets for benchmarks.

Rows look like l2-normalised bags of words: each row draws about ``nnz_per_row``
feature ids from a Zipf distribution over ``n_features`` ranks; ranks are
scattered over the feature ids by a random permutation (as hashing does), so
frequent features are not already adjacent in memory. Labels come from a hidden
linear model plus noise.

Usage::

    python bench/synthetic.py --rows 1000000   # generate, cache and describe
"""

import argparse
import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp

CACHE = Path(os.environ.get("FASTTEXT_LIN_BENCH_CACHE", Path(__file__).parent / ".cache"))


def make_sparse_classification(
    n_rows, n_features=2**20, nnz_per_row=100, zipf_exponent=1.05, noise=0.1,
    dtype=np.float32, seed=0,
):
    """Return ``(X, y)``: a CSR matrix with sorted int32 indices and +-1 labels.

    Parameters
    ----------
    n_rows, n_features, nnz_per_row : int
        Shape and mean number of nonzeros per row (before duplicates merge).
    zipf_exponent : float
        Exponent ``s`` of the feature-rank distribution ``p(r) ~ r**-s``.
    noise : float
        Standard deviation of the noise added to the hidden model's scores,
        relative to the scores' standard deviation.
    dtype : numpy dtype
        dtype of the values.
    seed : int
        Seed of everything random.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.poisson(nnz_per_row, size=n_rows).clip(1)
    cdf = np.cumsum(np.arange(1, n_features + 1, dtype=np.float64) ** -zipf_exponent)
    cdf /= cdf[-1]
    scatter = rng.permutation(n_features).astype(np.int32)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    chunk = 1 << 24
    for start in range(0, indices.shape[0], chunk):
        draws = rng.random(min(chunk, indices.shape[0] - start))
        indices[start:start + draws.shape[0]] = scatter[np.searchsorted(cdf, draws)]
    X = sp.csr_matrix(
        (np.ones(indices.shape[0], dtype=dtype), indices, indptr), shape=(n_rows, n_features)
    )
    X.sum_duplicates()
    X.data[:] = 1.0
    row_norm = np.sqrt(np.diff(X.indptr)).astype(dtype)
    X.data /= np.repeat(row_norm, np.diff(X.indptr))
    X.indptr = X.indptr.astype(np.int64 if X.nnz > np.iinfo(np.int32).max else np.int32)
    X.indices = X.indices.astype(np.int32)
    hidden = rng.standard_normal(n_features)
    scores = X @ hidden
    scores += noise * scores.std() * rng.standard_normal(n_rows)
    y = np.where(scores > np.median(scores), 1.0, -1.0)
    return X, y


def load_or_make(n_rows, seed=0, **kwargs):
    """Return :func:`make_sparse_classification`'s set, cached on disk under ``CACHE``."""
    path = CACHE / f"synthetic_{n_rows}_{seed}.npz"
    if path.exists():
        with np.load(path) as f:
            X = sp.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
            return X, f["y"]
    X, y = make_sparse_classification(n_rows, seed=seed, **kwargs)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, data=X.data, indices=X.indices, indptr=X.indptr, shape=X.shape, y=y)
    os.replace(tmp, path)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    X, y = load_or_make(args.rows, seed=args.seed)
    print(f"{X.shape[0]} rows, {X.shape[1]} features, {X.nnz} nonzeros "
          f"({X.nnz / X.shape[0]:.1f} a row), positives {np.mean(y > 0):.3f}")


if __name__ == "__main__":
    main()

"""Seeded synthetic review corpus: made-up words, Zipf frequencies, labels from a hidden model.

Each review is a few sentences of made-up words (syllables drawn at random; the
frequent words are the shortest, as in natural language, so a token of the text
averages about 4.6 letters) whose ranks follow a Zipf law over ``n_words`` words; a
review holds about 52 words (log-normal lengths), about 300 bytes of UTF-8 (200k
reviews: 60 MB). Sentences start with a capital and end with '.', '!' or '?'; some
words carry a comma, 2% of the others are capitalised, and about 1% of the
vowels are 'é', so most reviews are not pure ASCII (which makes ``str.lower``
take its slower path, as on real reviews with accents). The label of a
review is the sign of a hidden linear model over its words (weights drawn once per
word, normal), plus logistic noise (with the defaults, logistic regression on
CountVectorizer features of 16k reviews scores about 0.69 on 4k others), so the
corpus can serve end-to-end benches.

The whole corpus is built with NumPy gathers over byte tables: there is no Python
loop per word, only one ``bytes.decode`` per review. The same seed gives the same
corpus (texts and labels) on every machine with the same NumPy version.

Usage::

    python bench/synthetic_text.py --docs 200000 [--seed 0]   # generate and describe
"""

import argparse
import time

import numpy as np

_CONSONANTS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v",
               "z", "br", "ch", "st", "tr", "pl", "gr", "sh", "th"]
_VOWELS = ["a", "e", "i", "o", "u", "ou", "ai", "ea", "é", "y"]
_VOWEL_WEIGHTS = np.array([8, 8, 7, 7, 4, 2, 2, 2, 0.5, 1.0])
_PUNCT = [" ", ", ", ". ", "! ", "? "]


def _make_words(rng, n_words):
    """``n_words`` distinct made-up words, the shortest first (frequent words are short)."""
    n_draw = int(n_words * 1.6) + 100
    n_syll = rng.choice([1, 2, 3, 4], size=n_draw, p=[0.02, 0.18, 0.42, 0.38])
    cons = rng.integers(0, len(_CONSONANTS), size=(n_draw, 4))
    vow = rng.choice(len(_VOWELS), size=(n_draw, 4), p=_VOWEL_WEIGHTS / _VOWEL_WEIGHTS.sum())
    coda = rng.random(n_draw) < 0.35
    tail = rng.integers(0, len(_CONSONANTS), size=n_draw)
    c = np.array(_CONSONANTS, dtype=object)
    v = np.array(_VOWELS, dtype=object)
    syllables = c[cons] + v[vow]  # object array of str, (n_draw, 4)
    words = syllables[:, 0].copy()
    for k in range(1, 4):
        words = np.where(n_syll > k, words + syllables[:, k], words)
    words = np.where(coda, words + c[tail], words)
    words = list(dict.fromkeys(words.tolist()))  # unique, in drawn order
    if len(words) < n_words:
        raise RuntimeError("synthetic_text: too few distinct words drawn; raise n_draw")
    words = words[:n_words]
    # Stable sort by length with random ties: the Zipf rank 0 gets a short word.
    lengths = np.array([len(w) for w in words]) + rng.random(n_words) * 12.0
    return [words[i] for i in np.argsort(lengths, kind="stable")]


def _byte_table(pieces):
    """Pieces as one padded uint8 table (row per piece) and their byte lengths."""
    encoded = [p.encode("utf-8") for p in pieces]
    lengths = np.array([len(b) for b in encoded], dtype=np.int64)
    table = np.zeros((len(encoded), lengths.max()), dtype=np.uint8)
    for i, b in enumerate(encoded):
        table[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return table, lengths


def make_reviews(n_docs=200_000, seed=0, n_words=50_000, zipf_s=1.05, mean_words=52.0,
                 noise=0.5):
    """Return ``(texts, y)``: ``n_docs`` review strings and 0/1 labels (int8).

    Parameters
    ----------
    n_docs : int
        Number of reviews.
    seed : int
        The corpus depends on the seed only.
    n_words : int
        Vocabulary size (distinct made-up words).
    zipf_s : float
        Zipf exponent: the word of rank ``r`` has probability proportional to
        ``1 / (r + 2.7) ** zipf_s`` (Zipf-Mandelbrot, as word frequencies).
    mean_words : float
        Mean words per review (log-normal, sigma 0.6, at least 3).
    noise : float
        Scale of the logistic noise added to the hidden model's score (relative to
        the score's standard deviation); 0 gives separable labels.
    """
    rng = np.random.default_rng(seed)
    words = _make_words(rng, n_words)
    pieces = words + [w.capitalize() for w in words] + _PUNCT
    table, piece_len = _byte_table(pieces)
    punct0 = 2 * n_words

    sigma = 0.6
    n_tok = np.maximum(3, np.rint(rng.lognormal(np.log(mean_words) - sigma**2 / 2, sigma,
                                                n_docs))).astype(np.int64)
    tok_ptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(n_tok, out=tok_ptr[1:])
    total = int(tok_ptr[-1])
    cdf = np.cumsum(1.0 / (np.arange(n_words) + 2.7) ** zipf_s)
    ids = np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right").astype(np.int64)
    np.minimum(ids, n_words - 1, out=ids)

    # Separator after each word: space, comma, or a sentence end; a review ends a sentence.
    u = rng.random(total)
    sep = np.where(u < 0.07, 1, 0)
    ends = u > 1.0 - 1.0 / 11.0
    last = tok_ptr[1:] - 1
    ends[last] = True
    sep = np.where(ends, 2 + rng.choice(3, size=total, p=[0.8, 0.12, 0.08]), sep)
    # Capitals: first word of a sentence, and 2% of the others.
    starts = np.zeros(total, dtype=bool)
    starts[1:] = ends[:-1]
    starts[tok_ptr[:-1]] = True
    capital = starts | (rng.random(total) < 0.02)
    word_piece = ids + np.where(capital, n_words, 0)

    # Interleave word and separator pieces, then gather their bytes.
    seq = np.empty(2 * total, dtype=np.int64)
    seq[0::2] = word_piece
    seq[1::2] = punct0 + sep
    seq_len = piece_len[seq]
    seq_len[1::2][last] -= 1  # no trailing space at the end of a review
    seq_start = np.zeros(2 * total + 1, dtype=np.int64)
    np.cumsum(seq_len, out=seq_start[1:])
    which = np.repeat(np.arange(2 * total), seq_len)
    offset = np.arange(seq_start[-1]) - seq_start[which]
    flat = table[seq[which], offset].tobytes()
    doc_bytes = seq_start[2 * tok_ptr]
    bounds = doc_bytes.tolist()
    texts = [flat[bounds[i]: bounds[i + 1]].decode("utf-8") for i in range(n_docs)]

    # Hidden linear model over the words (sublinear in the length, as a mean would be).
    weights = rng.standard_normal(n_words)
    score = np.add.reduceat(weights[ids], tok_ptr[:-1]) / np.sqrt(n_tok)
    score = (score - score.mean()) / score.std()
    logistic = rng.logistic(0.0, noise, n_docs) if noise > 0 else 0.0
    y = (score + logistic > 0).astype(np.int8)
    return texts, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    texts, y = make_reviews(args.docs, args.seed)
    seconds = time.perf_counter() - t0
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"{len(texts)} reviews, {n_bytes / 1e6:.1f} MB UTF-8 ({n_bytes / len(texts):.0f} B "
          f"a review), positive rate {y.mean():.3f}, built in {seconds:.1f} s")
    for t, label in zip(texts[:3], y[:3]):
        print(f"[{label}] {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

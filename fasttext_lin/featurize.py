"""Bag-of-words features for text: tokenise, vocabulary or hashing, n-grams, weighting -> CSR.

:class:`BagOfWords` is a thin validated layer over the jitted kernels of
:mod:`fasttext_lin._text_kernels`. The documents are taken a chunk at a time, joined
into one array of code points and tokenised in one kernel call per chunk: there is no
Python loop per token. Its output equals scikit-learn's vectorizers with the same
settings (see the class docstring for the two documented differences).
"""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, column_or_1d

from . import _text_kernels as _k
from ._naive_bayes import log_count_ratios
from ._ordered_rows import OrderedRows
from ._threads import even_cuts
from ._tokens import document_code_points, documents, join_code_points, tokenizer
from ._validation import csr_contract
from ._vocabulary import checked_table, code_points, decode_keys, fitted_int, term_array, utf8

__all__ = ["BagOfWords", "log_count_ratios"]

_WEIGHTINGS = ("binary", "count", "tfidf", "nb")
_TOKEN_PATTERNS = ("default", "whitespace")
_NORMS = ("l2", None)
_BIAS_NAME = "<bias>"  # '<' is never part of a token, so no term can take this name
_TABLE_START = 1024
# The layout of to_arrays; version 1 kept the terms as UTF-32 code points (key_codes).
_ARRAYS_VERSION = 2
# Fitted arrays of one value per term, and the weighting that has each.
_TERM_ARRAYS = {"idf_": "tfidf", "nb_weight_": "nb"}
# Runtime parameters: not stored in a model file (a file does not depend on the machine).
_RUNTIME_PARAMS = ("n_jobs",)
# Vocabulary learning on threads: a block of fewer documents than this costs more in
# thread hand-over and merging than it saves.
_MIN_BLOCK_DOCS = 512
# Documents joined and encoded at a time within a block: their code points stay in the
# cache for the kernel, and the same memory serves every chunk (one large join and
# encoding would page-fault in twice the corpus). On threads each chunk also costs a
# hand-over under the GIL, which smaller chunks pay more often.
_CHUNK_DOCS = 1024


class BagOfWords(TransformerMixin, BaseEstimator):
    """Bag of word n-grams as a sparse matrix: counts, binary or tf-idf, hashed or not.

    Tokens are scikit-learn's default ones (``(?u)\\b\\w\\w+\\b``: runs of at least two
    Unicode word characters) of the lower-cased text; n-grams are tokens joined by one
    space. With ``n_features`` given, n-grams are hashed as
    :class:`~sklearn.feature_extraction.text.HashingVectorizer` does (MurmurHash3 of
    their UTF-8 bytes); otherwise a vocabulary is learned at fit as
    :class:`~sklearn.feature_extraction.text.CountVectorizer` does, or given.

    Parameters
    ----------
    n_features : int or None, default=None
        Number of hashed columns; None learns (or uses) a vocabulary instead.
    lowercase : bool, default=True
        Lower-case each document with ``str.lower`` before tokenising.
    token_pattern : {'default', 'whitespace'}, default='default'
        'default': scikit-learn's default pattern ``(?u)\\b\\w\\w+\\b`` (runs of at
        least two word characters). 'whitespace': fastText-like, runs of characters
        between white space, with each punctuation or symbol character (Unicode
        categories P* and S*) split off as a token of its own: ``"don't!"`` gives
        ``don ' t !``.
    ngram_range : tuple (min_n, max_n), default=(1, 1)
        Lengths of the word n-grams to count.
    alternate_sign : bool, default=True
        Hashing mode only: give each n-gram the sign of its hash, so that collisions
        tend to cancel (as HashingVectorizer does).
    vocabulary : mapping or iterable of str, default=None
        Fixed vocabulary (term -> column, or terms in column order); ``min_df``, ``max_df``
        and ``max_features`` are then ignored.
    min_df, max_df : int or float, default=1 and 1.0
        Keep terms found in at least ``min_df`` and at most ``max_df`` documents (a float
        is a fraction of the documents), as CountVectorizer does.
    max_features : int or None, default=None
        Then keep the ``max_features`` terms of largest total weight (ties broken as
        CountVectorizer breaks them).
    weighting : {'binary', 'count', 'tfidf', 'nb'}, default='tfidf'
        Value of a present n-gram: 1, its count, its (sublinear) count times its idf,
        or its naive-Bayes weight (NB-SVM's log-count ratio, learned from the labels at
        fit; see Notes).
    nb_alpha : float, default=1.0
        With 'nb', the smoothing count added to every term's document counts.
    sublinear_tf : bool, default=False
        With 'tfidf', use ``1 + log(count)`` in place of the count.
    smooth_idf : bool, default=True
        With 'tfidf', ``idf = log((1 + n) / (1 + df)) + 1`` (else ``log(n / df) + 1``).
    norm : {'l2', None}, default='l2'
        Scale each row to unit Euclidean norm.
    bias : bool, default=False
        Add a constant 1 feature at column 0, after the normalisation (so the bias
        does not shrink the other features of long documents, and an empty document
        gets a row with the bias only); the other columns move one to the right.
    dtype : numpy dtype, default=np.float64
        Type of the matrix values.
    n_jobs : int or None, default=None
        Threads that tokenise, hash and count: with hashing or a fixed vocabulary the
        threads take chunks of documents in turn, each copied to its place in the output
        as soon as the earlier chunks' sizes are known; a vocabulary being learned is
        counted per contiguous block of documents, one per thread, then merged in block
        order. None or 1: one thread; -1: all cores (as scikit-learn counts them). The
        output is the same for every value. Not stored in a model file.

    Attributes
    ----------
    n_features_out_ : int
        Number of output columns (including the bias column).
    idf_ : ndarray of shape (n_terms,)
        Inverse document frequencies learned at fit, with ``weighting='tfidf'``.
    nb_weight_ : ndarray of shape (n_terms,)
        Naive-Bayes weights learned at fit, with ``weighting='nb'``.
    vocabulary_ : dict
        Vocabulary mode: term -> column (without the bias offset), built on request.

    Notes
    -----
    Output equals scikit-learn's (CountVectorizer, TfidfVectorizer, HashingVectorizer
    followed by TfidfTransformer) with the same settings, with two differences:

    * a learned vocabulary numbers its terms in order of first occurrence in the
      training documents, not alphabetically (reorder columns with
      :meth:`get_feature_names_out` to compare);
    * hashing with ``alternate_sign`` and ``sublinear_tf`` uses ``sign(x) (1 + log|x|)``
      where scikit-learn takes the log of a negative value (NaN).

    Documents are read as ``str`` (``bytes`` are decoded as UTF-8).

    ``weighting='nb'`` is the feature scaling of NB-SVM (Wang and Manning, 2012): with
    ``p_k`` the number of documents of class ``k`` holding each term plus ``nb_alpha``
    and ``q_k`` the same over the other classes, the log-count ratio is
    ``r_k = log((p_k / ||p_k||_1) / (q_k / ||q_k||_1))``, and a present term is worth
    ``max_k |r_k|``. With two classes that is ``|r|``: NB-SVM's ``r`` up to the sign of
    each column, which a linear model absorbs in the sign of its weight (the L2 penalty
    and the losses are unchanged), so training on it is training NB-SVM's features.
    With more classes the largest one-vs-rest ratio keeps the terms that tell one class
    from the rest. ``fit`` then needs ``y``.
    """

    def __init__(self, n_features=None, *, lowercase=True, token_pattern="default",
                 ngram_range=(1, 1), alternate_sign=True, vocabulary=None, min_df=1,
                 max_df=1.0, max_features=None, weighting="tfidf", sublinear_tf=False,
                 smooth_idf=True, nb_alpha=1.0, norm="l2", bias=False, dtype=np.float64,
                 n_jobs=None):
        self.n_features = n_features
        self.lowercase = lowercase
        self.token_pattern = token_pattern
        self.ngram_range = ngram_range
        self.alternate_sign = alternate_sign
        self.vocabulary = vocabulary
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.weighting = weighting
        self.sublinear_tf = sublinear_tf
        self.smooth_idf = smooth_idf
        self.nb_alpha = nb_alpha
        self.norm = norm
        self.bias = bias
        self.dtype = dtype
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ validation

    def check_params(self):
        """Check every parameter, without data: raise ``ValueError`` (or ``TypeError``) naming
        the parameter, its value and the valid range. ``fit`` and ``partial_fit`` call it; a
        model file's loader and the command line call it before any data is read."""
        def fail(name, expected):
            raise ValueError(
                f"BagOfWords: {name}={getattr(self, name)!r} is invalid; expected {expected}."
            )

        if self.n_features is not None and not (
                isinstance(self.n_features, Integral) and 1 <= self.n_features < 2**31):
            fail("n_features", "None or an int in [1, 2**31)")
        if self.token_pattern not in _TOKEN_PATTERNS:
            fail("token_pattern", f"one of {_TOKEN_PATTERNS}")
        ngram = self.ngram_range
        if not (isinstance(ngram, (tuple, list)) and len(ngram) == 2
                and all(isinstance(v, Integral) for v in ngram) and 1 <= ngram[0] <= ngram[1]):
            fail("ngram_range", "a pair (min_n, max_n) of ints with 1 <= min_n <= max_n")
        if self.weighting not in _WEIGHTINGS:
            fail("weighting", f"one of {_WEIGHTINGS}")
        if not (isinstance(self.nb_alpha, Real) and self.nb_alpha > 0):
            fail("nb_alpha", "a number > 0")
        if self.norm not in _NORMS:
            fail("norm", "'l2' or None")
        for name in ("min_df", "max_df"):
            value = getattr(self, name)
            if isinstance(value, Integral):
                if value < 0:
                    fail(name, "an int >= 0 or a float in [0, 1]")
            elif not (isinstance(value, Real) and 0.0 <= value <= 1.0):
                fail(name, "an int >= 0 or a float in [0, 1]")
        if self.max_features is not None and not (
                isinstance(self.max_features, Integral) and self.max_features >= 1):
            fail("max_features", "None or an int >= 1")
        if self.n_features is not None and self.vocabulary is not None:
            raise ValueError(
                "BagOfWords: n_features (hashing) and vocabulary were both given; "
                "set n_features=None to use the vocabulary, or vocabulary=None to hash."
            )
        if not np.issubdtype(np.dtype(self.dtype), np.floating):
            fail("dtype", "a floating-point dtype such as np.float32 or np.float64")
        if self.n_jobs is not None and not (
                isinstance(self.n_jobs, Integral) and not isinstance(self.n_jobs, bool)
                and self.n_jobs != 0):
            fail("n_jobs", "None or a nonzero int (-1: all cores)")

    # ------------------------------------------------------------ fitting

    def fit(self, raw_documents, y=None):
        """Learn the vocabulary (vocabulary mode), the idf or the naive-Bayes weights.

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents.
        y : array-like of shape (n_documents,), default=None
            Their labels; needed only with ``weighting='nb'``.

        Returns
        -------
        self : BagOfWords
        """
        if self.n_features is not None and self.weighting in ("binary", "count"):
            # Hashing without idf or nb weights learns nothing: validate, skip the counting.
            self.check_params()
            documents(raw_documents)
            self.n_features_out_ = self.n_features + (1 if self.bias else 0)
            return self
        self.fit_transform(raw_documents, y)
        return self

    def fit_transform(self, raw_documents, y=None):
        """Fit, and return the features of the training documents (one featurising pass).

        Parameters
        ----------
        raw_documents : iterable of str
            The training documents.
        y : array-like of shape (n_documents,), default=None
            Their labels; needed only with ``weighting='nb'``.

        Returns
        -------
        X : scipy.sparse.csr_matrix of shape (n_documents, n_features_out_)
        """
        self.check_params()
        texts = documents(raw_documents, check_items=False)  # checked as joined
        n_docs = len(texts)
        if self.weighting == "nb":
            y = self._check_labels(y, n_docs)
        if self.n_features is not None:
            indptr, indices, data = self._count_hashed(texts)
            n_terms = self.n_features
        elif self.vocabulary is not None:
            self._set_fixed_vocabulary()
            indptr, indices, data = self._count_known(texts)
            n_terms = self._n_keys
        else:
            indptr, indices, data = self._learn_vocabulary(texts)
            n_terms = self._n_keys
        if self.weighting in ("binary", "nb"):
            data[:] = 1.0
        if self.weighting == "nb":
            self.nb_weight_ = self._nb_weights(indptr, indices, y, n_terms)
        if self.weighting == "tfidf":
            df = np.bincount(indices, minlength=n_terms).astype(np.float64)
            if self.smooth_idf:
                self.idf_ = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
            else:
                with np.errstate(divide="ignore"):
                    self.idf_ = np.log(n_docs / df) + 1.0
        self.n_features_out_ = n_terms + (1 if self.bias else 0)
        return self._finish(indptr, indices, data)

    def _check_labels(self, y, n_docs):
        if y is None:
            raise ValueError("BagOfWords: weighting='nb' learns from the labels: call "
                             "fit(documents, y) or fit_transform(documents, y).")
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n_docs:
            raise ValueError(f"BagOfWords: {n_docs} documents but {y.shape[0]} labels; "
                             "pass one label per document.")
        if np.unique(y).shape[0] < 2:
            raise ValueError("BagOfWords: weighting='nb' needs at least two classes in y, "
                             f"got only {np.unique(y).tolist()}.")
        return y

    def _nb_weights(self, indptr, indices, y, n_terms):
        """``max_k |r_k|`` of the binarised counts (see the class Notes)."""
        _, codes = np.unique(y, return_inverse=True)
        B = sp.csr_matrix((np.ones(indices.shape[0]), indices, indptr),
                          shape=(indptr.shape[0] - 1, n_terms))
        ratios = log_count_ratios(B, codes, codes.max() + 1, self.nb_alpha)
        return np.abs(ratios).max(axis=0)

    def _learn_vocabulary(self, texts):
        indptr, indices, data, table, key_codes, key_ptr, n_keys = self._count_new(texts)
        if n_keys == 0:
            raise ValueError(
                "BagOfWords: empty vocabulary; the documents contain no token "
                f"(token_pattern={self.token_pattern!r}; check the input texts)."
            )
        if self.weighting in ("binary", "nb"):
            data[:] = 1.0  # max_features then ranks by document frequency, as binary=True does
        n_docs = indptr.shape[0] - 1
        keep = self._kept_terms(indices, data, n_docs, n_keys, key_codes, key_ptr)
        if keep.shape[0] < n_keys:
            remap = np.full(n_keys, -1, dtype=np.int64)
            remap[keep] = np.arange(keep.shape[0])
            new_index = remap[indices]
            kept = new_index >= 0
            rows = np.repeat(np.arange(n_docs), np.diff(indptr))
            indptr = np.zeros_like(indptr)
            np.cumsum(np.bincount(rows[kept], minlength=indptr.shape[0] - 1), out=indptr[1:])
            indices = new_index[kept].astype(np.int32)
            data = data[kept]
            table, key_codes, key_ptr = _k.build_table(key_codes, key_ptr, keep)
            n_keys = keep.shape[0]
        self._table = (table, key_codes, key_ptr)
        self._n_keys = n_keys
        return indptr, indices, data

    def _kept_terms(self, indices, data, n_docs, n_keys, key_codes, key_ptr):
        """Ids of the terms kept by min_df, max_df and max_features, as CountVectorizer's."""
        high = self.max_df if isinstance(self.max_df, Integral) else self.max_df * n_docs
        low = self.min_df if isinstance(self.min_df, Integral) else self.min_df * n_docs
        if high < low:
            raise ValueError(
                f"BagOfWords: max_df={self.max_df!r} allows fewer documents ({high}) than "
                f"min_df={self.min_df!r} requires ({low}); raise max_df or lower min_df."
            )
        df = np.bincount(indices, minlength=n_keys)
        mask = (df <= high) & (df >= low)
        limit = self.max_features
        if limit is not None and mask.sum() > limit:
            # CountVectorizer ranks the terms in alphabetical order with an unstable
            # argsort of the integer totals: do the same for the same tie-breaking.
            names = decode_keys(key_codes, key_ptr, n_keys)
            alpha = np.array(sorted(range(n_keys), key=names.__getitem__), dtype=np.int64)
            tfs = np.rint(np.bincount(indices, weights=data, minlength=n_keys)).astype(np.int64)
            mask_alpha = mask[alpha]
            best = (-tfs[alpha][mask_alpha]).argsort()[:limit]
            mask = np.zeros(n_keys, dtype=bool)
            mask[alpha[np.flatnonzero(mask_alpha)[best]]] = True
        keep = np.flatnonzero(mask)
        if keep.shape[0] == 0:
            raise ValueError(
                "BagOfWords: after pruning, no terms remain; lower min_df or raise max_df."
            )
        return keep

    def _set_fixed_vocabulary(self):
        vocabulary = self.vocabulary
        if not isinstance(vocabulary, Mapping):
            mapping = {}
            for i, term in enumerate(vocabulary):
                if mapping.setdefault(term, i) != i:
                    raise ValueError(f"BagOfWords: duplicate term in vocabulary: {term!r}.")
            vocabulary = mapping
        if not vocabulary:
            raise ValueError("BagOfWords: the vocabulary passed is empty; pass some terms.")
        if sorted(vocabulary.values()) != list(range(len(vocabulary))):
            raise ValueError(
                "BagOfWords: the vocabulary's columns must be 0 .. n_terms - 1, each once."
            )
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        key_codes, key_ptr = document_code_points(terms, lowercase=False)
        key_codes = key_codes.astype(np.uint32)  # the table's keys are always uint32
        keep = np.arange(len(terms), dtype=np.int64)
        self._table = _k.build_table(key_codes, key_ptr, keep)
        self._n_keys = len(terms)

    # ------------------------------------------------------------ transforming

    def transform(self, raw_documents):
        """Features of the documents, with the vocabulary and idf learned at fit.

        Parameters
        ----------
        raw_documents : iterable of str

        Returns
        -------
        X : scipy.sparse.csr_matrix of shape (n_documents, n_features_out_)
            Sorted int32 indices; unknown n-grams are ignored; an empty document gives
            an empty row (the bias only, with ``bias=True``).
        """
        check_is_fitted(self, "n_features_out_")
        texts = documents(raw_documents, check_items=False)  # checked as joined
        if self.n_features is not None:
            indptr, indices, data = self._count_hashed(texts)
        else:
            indptr, indices, data = self._count_known(texts)
        if self.weighting in ("binary", "nb"):
            data[:] = 1.0
        return self._finish(indptr, indices, data)

    def _tokenizer(self, codes):
        return tokenizer(self.token_pattern, codes, self.lowercase)

    def _count_hashed(self, texts):
        min_n, max_n = self.ngram_range

        def count(codes, doc_ptr, *rows):
            return _k.count_hashing(codes, doc_ptr, *self._tokenizer(codes), min_n, max_n,
                                    self.n_features, bool(self.alternate_sign), *rows)

        return self._count_rows(count, texts)

    def _count_known(self, texts):
        min_n, max_n = self.ngram_range

        def count(codes, doc_ptr, *rows):
            return _k.count_vocabulary(codes, doc_ptr, *self._tokenizer(codes), min_n, max_n,
                                       *self._table, self._n_keys, False, *rows)[:3]

        return self._count_rows(count, texts)

    def _count_rows(self, count, texts):
        """CSR ``(indptr, indices, data)`` of ``texts``, by ``count(codes, doc_ptr, indptr,
        indices, data, nnz)`` (see :meth:`_count_block`) of chunks of documents: in one
        pass, or on ``n_jobs`` threads, each chunk copied to its place
        (:class:`._ordered_rows.OrderedRows`)."""
        n_threads = effective_n_jobs(self.n_jobs)
        cuts = list(range(0, len(texts), _CHUNK_DOCS)) + [len(texts)]
        if n_threads == 1 or len(cuts) <= 2:
            return self._count_block(count, texts, 0, len(texts))[0]
        rows = OrderedRows(cuts)

        def count_chunk(k, indptr, indices, data):
            codes, doc_ptr = join_code_points(texts[cuts[k]: cuts[k + 1]], self.lowercase,
                                              cuts[k])
            return count(codes, doc_ptr, indptr, indices, data, 0)

        return rows.fill(count_chunk, min(n_threads, len(cuts) - 1))

    def _count_block(self, count, texts, first, stop, state=()):
        """Rows ``(indptr, indices, data)`` of ``texts[first:stop]``, and the final state.

        ``count(codes, doc_ptr, indptr, indices, data, nnz, *state)`` appends the rows of
        ``_CHUNK_DOCS`` documents to the CSR and returns ``(indices, data, nnz, *state)``.
        After the first chunk the arrays get room for the block at that chunk's density:
        pages never written cost address space, not memory. ``indices`` and ``data`` are
        views of those larger arrays.
        """
        n_docs = stop - first
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        indices, data, nnz = np.empty(0, dtype=np.int32), np.empty(0), 0
        for lo in range(0, n_docs, _CHUNK_DOCS):
            hi = min(n_docs, lo + _CHUNK_DOCS)
            codes, doc_ptr = join_code_points(texts[first + lo: first + hi], self.lowercase,
                                              first + lo)
            indices, data, nnz, *state = count(codes, doc_ptr, indptr[lo: hi + 1], indices,
                                               data, nnz, *state)
            if lo == 0:
                indices, data = _reserve(indices, data, nnz, nnz * n_docs // hi * 5 // 4)
        return (indptr, indices[:nnz], data[:nnz]), state

    def _count_new(self, texts):
        """Counts and a new vocabulary: each thread's block of documents learns its own,
        merged in block order, so that terms are numbered by first occurrence whatever
        ``n_jobs``."""
        min_n, max_n = self.ngram_range

        def count(codes, doc_ptr, indptr, indices, data, nnz, table, key_codes, key_ptr,
                  n_keys):
            return _k.count_vocabulary(codes, doc_ptr, *self._tokenizer(codes), min_n, max_n,
                                       table, key_codes, key_ptr, n_keys, True, indptr,
                                       indices, data, nnz)

        def block(bounds):
            vocabulary = (_k.empty_table(_TABLE_START), np.empty(_TABLE_START, dtype=np.uint32),
                          np.zeros(_TABLE_START, dtype=np.int64), 0)
            return self._count_block(count, texts, *bounds, vocabulary)

        n_threads = effective_n_jobs(self.n_jobs)
        n_blocks = min(n_threads, -(-len(texts) // _MIN_BLOCK_DOCS))
        if n_blocks <= 1:
            rows, vocabulary = block((0, len(texts)))
            return (*rows, *vocabulary)
        cuts = np.linspace(0, len(texts), n_blocks + 1).astype(np.int64).tolist()
        with ThreadPoolExecutor(n_blocks) as pool:
            parts = list(pool.map(block, pairwise(cuts)))
            rows, vocabulary = parts[0]
            for part_rows, keys in parts[1:]:
                ids, *vocabulary = _merge_keys(vocabulary, keys, pool, n_blocks)
                _renumber_rows(part_rows, ids, pool, n_blocks)
            return (*_stack_rows([rows for rows, _ in parts], pool), *vocabulary)

    def _finish(self, indptr, indices, data):
        """Weighting, normalisation, bias and the CSR contract."""
        if self.weighting == "tfidf":
            if self.sublinear_tf:
                nonzero = data != 0.0
                value = data[nonzero]
                data[nonzero] = np.sign(value) * (np.log(np.abs(value)) + 1.0)
            data *= self.idf_[indices]
        if self.weighting == "nb":
            data *= self.nb_weight_[indices]
        if self.norm == "l2":
            _k.l2_normalize(indptr, data)
        n_columns = self.n_features_out_
        if self.bias:
            indptr, indices, data = _k.prepend_bias(indptr, indices, data)
        return csr_contract(indptr, indices, data, n_columns, dtype=self.dtype,
                            sorted_indices=True)

    # ------------------------------------------------------------ names

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        The terms in vocabulary mode, ``'hash<i>'`` in hashing mode, and ``'<bias>'``
        first with ``bias=True``.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self, "n_features_out_")
        if self.n_features is not None:
            names = [f"hash{i}" for i in range(self.n_features)]
        else:
            _, key_codes, key_ptr = self._table
            names = decode_keys(key_codes, key_ptr, self._n_keys)
        if self.bias:
            names = [_BIAS_NAME] + names
        return np.asarray(names, dtype=object)

    @property
    def vocabulary_(self):
        """Term -> column (without the bias offset), vocabulary mode only."""
        check_is_fitted(self, "n_features_out_")
        if self.n_features is not None:
            raise AttributeError("BagOfWords: no vocabulary_ in hashing mode (n_features set).")
        _, key_codes, key_ptr = self._table
        return {t: i for i, t in enumerate(decode_keys(key_codes, key_ptr, self._n_keys))}

    # ------------------------------------------------------------ model files

    def to_arrays(self):
        """The fitted featurizer as plain values and arrays, for a model file.

        Returns
        -------
        state : dict
            ``{"version": 2, "params": get_params() (dtype by its name, without the
            runtime parameter n_jobs), "fitted":
            {"n_features_out_": int, "n_keys": int}}``, ``n_keys`` (the vocabulary's
            size) in vocabulary mode only.
        arrays : dict of str -> ndarray
            Vocabulary mode: ``key_utf8`` (uint8, the terms in UTF-8, lone surrogates as
            'surrogatepass') and ``key_ptr`` (int64, term ``i`` is
            ``key_utf8[key_ptr[i]:key_ptr[i + 1]]``); ``idf_`` or ``nb_weight_`` (float64,
            one value per term) with those weightings.

        Raises
        ------
        ValueError
            If it is not fitted, or has a fitted attribute this layout does not hold.
        """
        if not hasattr(self, "n_features_out_"):
            raise ValueError("the BagOfWords is not fitted; fit the pipeline first.")
        fitted = {name for name in vars(self) if name.endswith("_") and not name.startswith("__")}
        unknown = sorted(fitted - set(_TERM_ARRAYS) - {"n_features_out_"})
        if unknown:
            raise ValueError(f"the BagOfWords has fitted attribute(s) {unknown} that "
                             "save_text_model does not know how to store.")
        params = self.get_params()
        for name in _RUNTIME_PARAMS:
            del params[name]
        params["dtype"] = np.dtype(params["dtype"]).name
        state = {"version": _ARRAYS_VERSION, "params": params,
                 "fitted": {"n_features_out_": int(self.n_features_out_)}}
        arrays = {}
        if self.n_features is None:
            _, key_codes, key_ptr = self._table
            n_keys = int(self._n_keys)
            state["fitted"]["n_keys"] = n_keys
            arrays["key_utf8"], arrays["key_ptr"] = utf8(key_codes[: key_ptr[n_keys]],
                                                         key_ptr[: n_keys + 1])
        for name in _TERM_ARRAYS:
            if hasattr(self, name):
                arrays[name] = np.asarray(getattr(self, name))
        return state, arrays

    @classmethod
    def from_arrays(cls, state, arrays):
        """A fitted BagOfWords from :meth:`to_arrays`'s values, every one checked.

        Parameters
        ----------
        state : dict
            As :meth:`to_arrays` gives it, or as JSON gives it back (``ngram_range`` a
            list). Version 1 (``key_codes``, the terms as uint32 code points, with
            ``key_ptr`` counting code points, in place of ``key_utf8``) still loads.
        arrays : dict of str -> ndarray

        Returns
        -------
        BagOfWords
            Its transform equals the stored one's; the vocabulary's hash table is rebuilt
            from the terms, so it cannot disagree with them.

        Raises
        ------
        ValueError
            Naming what is wrong: a newer version, a parameter, an array's dtype or shape
            against the parameters, a term twice, ...
        """
        missing = sorted({"version", "params", "fitted"} - set(state))
        if missing:
            raise ValueError(f"featurizer has no {missing}.")
        version, fitted = state["version"], state["fitted"]
        if version > _ARRAYS_VERSION:
            raise ValueError(f"featurizer written by a newer fasttext_lin (version {version} "
                             f"> {_ARRAYS_VERSION}): upgrade fasttext_lin to load it.")
        if version < 1:
            raise ValueError(f"unknown featurizer version {version}.")
        # Built here, so that the new instance sets its own fitted state.
        self = cls._from_params(state["params"])
        vocabulary = self.n_features is None
        terms = "key_codes" if version == 1 else "key_utf8"
        expected = {terms, "key_ptr"} if vocabulary else set()
        expected |= {name for name, weighting in _TERM_ARRAYS.items()
                     if weighting == self.weighting}
        if set(arrays) != expected:
            raise ValueError(f"featurizer arrays {sorted(arrays)}, expected "
                             f"{sorted(expected)} for n_features={self.n_features!r} and "
                             f"weighting={self.weighting!r}.")
        n_out = fitted_int(fitted, "n_features_out_")
        if vocabulary:
            n_terms = fitted_int(fitted, "n_keys")
            key_codes, key_ptr = arrays[terms], arrays["key_ptr"]
            if version > 1:
                key_codes, key_ptr = code_points(key_codes, key_ptr)
            self._table = checked_table(key_codes, key_ptr, n_terms)
            self._n_keys = n_terms
        else:
            n_terms = self.n_features
        if n_out != n_terms + (1 if self.bias else 0):
            raise ValueError(f"featurizer n_features_out_={n_out}, expected {n_terms} terms"
                             f"{' + 1 bias column' if self.bias else ''}.")
        self.n_features_out_ = n_out
        for name in expected & set(_TERM_ARRAYS):
            setattr(self, name, term_array(arrays[name], name, n_terms))
        return self

    @classmethod
    def _from_params(cls, params):
        unknown = sorted(set(params) - set(cls().get_params()))
        if unknown:
            raise ValueError(f"unknown BagOfWords parameter(s) {unknown}.")
        params = dict(params)
        try:
            if "dtype" in params:
                params["dtype"] = np.dtype(params["dtype"]).type
            if isinstance(params.get("ngram_range"), list):
                params["ngram_range"] = tuple(params["ngram_range"])
            self = cls(**params)
            self.check_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid BagOfWords parameters: {exc}") from None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _reserve(indices, data, nnz, size):
    """``indices`` and ``data`` with room for ``size`` entries, their first ``nnz`` kept."""
    if size <= indices.shape[0]:
        return indices, data
    more_indices = np.empty(size, dtype=indices.dtype)
    more_data = np.empty(size, dtype=data.dtype)
    more_indices[:nnz] = indices[:nnz]
    more_data[:nnz] = data[:nnz]
    return more_indices, more_data


def _merge_keys(vocabulary, keys, pool, n_threads):
    """A block's ``keys`` merged into ``vocabulary``: all of them looked up on the threads
    of ``pool`` (:func:`._text_kernels.find_keys`), then the new ones added in order
    (:func:`._text_kernels.add_missing_keys`). Returns ``(ids, *vocabulary)``, ``ids`` the
    block's key ids in the merged vocabulary."""
    _, new_codes, new_ptr, n_new = keys
    ids, hashes = np.empty(n_new, dtype=np.int64), np.empty(n_new, dtype=np.uint64)
    table, key_codes, key_ptr, _ = vocabulary
    _on_slices(pool, n_threads, n_new, lambda lo, hi: _k.find_keys(
        table, key_codes, key_ptr, new_codes, new_ptr, lo, hi, ids, hashes))
    return _k.add_missing_keys(*vocabulary, new_codes, new_ptr, ids, hashes)


def _renumber_rows(rows, ids, pool, n_threads):
    """:func:`._text_kernels.renumber_rows` over slices of the rows on the threads of
    ``pool``."""
    indptr, indices, data = rows
    _on_slices(pool, n_threads, indptr.shape[0] - 1, lambda lo, hi: _k.renumber_rows(
        indptr[lo:hi + 1], indices, data, ids))


def _on_slices(pool, parts, n, work):
    """``work(lo, hi)`` on ``parts`` even slices of ``range(n)``, on the threads of
    ``pool``."""
    cuts = even_cuts(n, parts)
    list(pool.map(work, cuts[:-1], cuts[1:]))


def _stack_rows(parts, pool):
    """One CSR ``(indptr, indices, data)`` of the blocks' rows, in order, the blocks'
    entries copied on the threads of ``pool`` (numpy copies arrays without the GIL)."""
    offsets = np.cumsum([0] + [int(part[0][-1]) for part in parts]).tolist()
    indices = np.empty(offsets[-1], dtype=parts[0][1].dtype)
    data = np.empty(offsets[-1], dtype=parts[0][2].dtype)
    indptr = np.concatenate([np.zeros(1, dtype=np.int64)]
                            + [part[0][1:] + offset for part, offset in zip(parts, offsets)])

    def put(part, lo, hi):
        indices[lo:hi] = part[1]
        data[lo:hi] = part[2]

    list(pool.map(put, parts, offsets[:-1], offsets[1:]))
    return indptr, indices, data

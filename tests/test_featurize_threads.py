"""BagOfWords(n_jobs=...): the documents counted in blocks on threads give the one-thread output."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fasttext_lin import featurize
from fasttext_lin.featurize import BagOfWords

# Latin-1 and wider text, punctuation, white space; empty documents are frequent.
ALPHABET = "abcdeXYZéÉüßİσςΣαβ日本語テ0129٣_.,;:!?'-  \t\n"
CORPUS = st.lists(st.text(alphabet=ALPHABET, max_size=30), min_size=1, max_size=12)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
LABELS = np.array([0, 1])


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks and chunks of a few documents, so that tiny corpora are cut as large ones are."""
    monkeypatch.setattr(featurize, "_MIN_BLOCK_DOCS", 1)
    monkeypatch.setattr(featurize, "_CHUNK_DOCS", 2)


def _outputs(params, docs, n_jobs, refit):
    """Everything fitted and produced, as plain values, for ``n_jobs`` threads."""
    est = BagOfWords(**params, n_jobs=n_jobs)
    y = np.resize(LABELS, len(docs)) if params.get("weighting") == "nb" else None
    try:
        X = est.fit_transform(docs, y)
    except ValueError as exc:  # no token, or nothing left after pruning
        return str(exc)
    X2 = est.transform(refit)
    out = {"X": X, "X2": X2, "names": est.get_feature_names_out().tolist()}
    for name in ("idf_", "nb_weight_"):
        if hasattr(est, name):
            out[name] = getattr(est, name)
    return out


def _assert_identical(a, b):
    if isinstance(a, str):
        assert a == b
        return
    assert a.keys() == b.keys()
    for key in a:
        if key in ("X", "X2"):
            for part in ("indptr", "indices", "data"):
                np.testing.assert_array_equal(getattr(a[key], part), getattr(b[key], part))
                assert getattr(a[key], part).dtype == getattr(b[key], part).dtype
            assert a[key].shape == b[key].shape
            assert a[key].has_sorted_indices and b[key].has_sorted_indices
        else:
            np.testing.assert_array_equal(a[key], b[key])


@given(docs=CORPUS, refit=CORPUS, n_features=st.sampled_from([None, 7, 2**10]),
       ngram_range=st.sampled_from([(1, 1), (1, 2), (2, 3)]),
       weighting=st.sampled_from(["binary", "count", "tfidf", "nb"]),
       token_pattern=st.sampled_from(["default", "whitespace"]),
       pruning=st.sampled_from([{}, {"min_df": 2}, {"max_df": 0.6}, {"max_features": 3},
                                {"min_df": 0.2, "max_features": 5}]),
       sublinear_tf=st.booleans(), bias=st.booleans(), n_jobs=st.sampled_from([2, 3, 5]))
@SETTINGS
def test_every_n_jobs_gives_the_one_thread_output(small_blocks, docs, refit, n_features,
                                                  ngram_range, weighting, token_pattern,
                                                  pruning, sublinear_tf, bias, n_jobs):
    params = {"n_features": n_features, "ngram_range": ngram_range, "weighting": weighting,
              "token_pattern": token_pattern, "sublinear_tf": sublinear_tf, "bias": bias}
    if n_features is None:
        params.update(pruning)
    _assert_identical(_outputs(params, docs, 1, refit), _outputs(params, docs, n_jobs, refit))


@given(docs=CORPUS, n_jobs=st.sampled_from([2, 4]))
@SETTINGS
def test_fixed_vocabulary_on_threads(small_blocks, docs, n_jobs):
    params = {"vocabulary": ["ab", "ab cd", "日本語", "xyz", "é"], "ngram_range": (1, 2),
              "weighting": "count", "norm": None}
    _assert_identical(_outputs(params, docs, 1, docs), _outputs(params, docs, n_jobs, docs))


def _spy_blocks(monkeypatch):
    """The (code points, documents) of each block that count_hashing receives."""
    seen = []
    count = featurize._k.count_hashing

    def spy(codes, doc_ptr, *args):
        seen.append((codes.shape[0], doc_ptr.shape[0] - 1))
        return count(codes, doc_ptr, *args)

    monkeypatch.setattr(featurize._k, "count_hashing", spy)
    return seen


def test_chunks_cover_the_documents_once(monkeypatch):
    monkeypatch.setattr(featurize, "_CHUNK_DOCS", 4)
    seen = _spy_blocks(monkeypatch)
    docs = ["ab cd"] * 30 + ["a much longer document here"] * 6
    BagOfWords(n_features=64, n_jobs=3).fit_transform(docs)
    assert len(seen) == 9
    assert sum(n for _, n in seen) == len(docs)
    assert sum(c for c, _ in seen) == sum(map(len, docs))


def test_small_corpus_stays_one_block(monkeypatch):
    seen = _spy_blocks(monkeypatch)
    BagOfWords(n_features=64, n_jobs=4).fit_transform(["ab cd", "ef gh"])
    assert seen == [(10, 2)]


def test_all_cores_and_model_file_params():
    docs = ["the good film", "the bad film"] * 50
    est = BagOfWords(n_jobs=-1).fit(docs)
    state, _ = est.to_arrays()
    assert "n_jobs" not in state["params"]  # a runtime parameter, not the model's
    loaded = BagOfWords.from_arrays(state, est.to_arrays()[1])
    assert loaded.n_jobs is None
    assert (loaded.transform(docs) != est.transform(docs)).nnz == 0


def test_threads_reach_the_featurizer():
    from fasttext_lin.stream import streaming_featurizer
    from fasttext_lin.text_model import text_pipeline

    assert text_pipeline(n_jobs=2)[0].n_jobs == 2
    assert streaming_featurizer(None, 2).n_jobs == 2
    assert streaming_featurizer(BagOfWords(2**10, weighting="count", n_jobs=3), 2).n_jobs == 3


@given(st.lists(st.integers(0, 2**21), max_size=300), st.integers(0, 40))
@settings(max_examples=200, deadline=None)
def test_sort_ids_sorts(ids, shift):
    """The counting + insertion sort of a row's ids equals numpy's sort, whatever the spread."""
    from fasttext_lin._text_kernels import _sort_ids

    row = np.array(ids, dtype=np.int64) << shift
    m = row.shape[0]
    buffer = np.concatenate([row, [7, 7]])  # the kernel sorts row[:m] only
    spare = np.full(m + 2, -1, dtype=np.int64)
    counts = np.empty(2 * (m + 2) + 2, dtype=np.int64)
    out = _sort_ids(buffer.copy(), m, spare, counts, 0)
    np.testing.assert_array_equal(out[:m], np.sort(row))
    # Ids known to lie in [0, top) (hashes) skip the search for their range.
    top = int(row.max()) + 1 if m else 1
    out = _sort_ids(buffer.copy(), m, spare, counts, top)
    np.testing.assert_array_equal(out[:m], np.sort(row))


@given(docs=CORPUS, refit=CORPUS, n_features=st.sampled_from([None, 7]),
       ngram_range=st.sampled_from([(1, 1), (1, 2)]),
       weighting=st.sampled_from(["count", "tfidf"]), chunk=st.integers(1, 3),
       n_jobs=st.sampled_from([1, 2]))
@SETTINGS
def test_chunks_give_the_whole_corpus_output(small_blocks, monkeypatch, docs, refit, n_features,
                                             ngram_range, weighting, chunk, n_jobs):
    """A block counted a few documents at a time (rows appended to one CSR, a vocabulary
    carried from chunk to chunk) gives the output of one chunk."""
    params = {"n_features": n_features, "ngram_range": ngram_range, "weighting": weighting}
    whole = _outputs(params, docs, 1, refit)
    with monkeypatch.context() as m:
        m.setattr(featurize, "_CHUNK_DOCS", chunk)
        _assert_identical(whole, _outputs(params, docs, n_jobs, refit))


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("n_features", [None, 2**8])
def test_a_bad_document_is_named_by_its_index(small_blocks, monkeypatch, n_features, n_jobs):
    monkeypatch.setattr(featurize, "_CHUNK_DOCS", 4)
    docs = ["good film"] * 9 + [None] + ["film"] * 9 + [3]
    with pytest.raises(ValueError, match="document 9 is a NoneType, not a str or bytes"):
        BagOfWords(n_features, n_jobs=n_jobs).fit_transform(docs)
    with pytest.raises(ValueError, match="document 5 is bytes that are not UTF-8"):
        BagOfWords(n_features, n_jobs=n_jobs).fit_transform(["film"] * 5 + [b"caf\xe9"])
    with pytest.raises(ValueError, match="document 1 is a float"):
        BagOfWords(n_features, n_jobs=n_jobs).fit(["film", float("nan")])
    # bytes are decoded wherever they are
    X = BagOfWords(n_features, norm=None, n_jobs=n_jobs).fit_transform(
        ["café film"] * 5 + ["café film".encode()])
    assert (X[0] != X[5]).nnz == 0

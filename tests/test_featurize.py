"""BagOfWords against scikit-learn's vectorizers, and the kernels' building blocks."""

import re
import unicodedata

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks as checks
from sklearn.utils import murmurhash3_32
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from fasttext_lin import LinearClassifier
from fasttext_lin._text_kernels import murmurhash3_32_codes
from fasttext_lin._tokens import whitespace_table as _whitespace_table
from fasttext_lin._tokens import word_table as _word_table
from fasttext_lin.featurize import BagOfWords

# Letters with case (Latin, accented, Greek incl. final sigma, Turkish dotted I),
# CJK, digits (incl. non-ASCII ones), underscore, punctuation and white space.
ALPHABET = ("abcdeXYZéÉüÜßİıσςΣΑΒΓαβγ日本語中文テキ"
            "0129٣²_" ".,;:!?'-()/" "   \t\n")
TEXT = st.text(alphabet=ALPHABET, max_size=40)
CORPUS = st.lists(TEXT, min_size=1, max_size=8)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _codes(text):
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _assert_csr_contract(X, n_rows, dtype=np.float64):
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape[0] == n_rows
    assert X.indices.dtype == np.int32
    assert X.dtype == dtype
    for i in range(n_rows):
        row = X.indices[X.indptr[i]: X.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)


def _assert_same(X, Y, rtol=1e-14):
    """Same matrix, same explicit entries, values equal to the last bit or nearly."""
    assert X.shape == Y.shape
    Y = Y.tocsr()
    Y.sort_indices()
    np.testing.assert_array_equal(X.indptr, Y.indptr)
    np.testing.assert_array_equal(X.indices, Y.indices)
    np.testing.assert_allclose(X.data, Y.data, rtol=rtol, atol=0)


def _reordered(ours, theirs_vocabulary, Y):
    """``Y``'s columns in the order of ``ours``' feature names."""
    names = list(ours.get_feature_names_out())
    assert set(names) == set(theirs_vocabulary)
    return Y.tocsr()[:, [theirs_vocabulary[n] for n in names]]


def _fits_or_both_fail(ours, theirs, docs):
    """Fit both; True when both fit, False when both refuse the corpus (no terms)."""
    try:
        Y = theirs.fit_transform(docs)
    except ValueError:
        with pytest.raises(ValueError):
            ours.fit_transform(docs)
        return None, None
    return ours.fit_transform(docs), Y


# ------------------------------------------------------------------ building blocks

def test_word_table_is_re_unicode_word():
    every_char = "".join(map(chr, range(0x110000)))
    expected = np.zeros(0x110000, dtype=np.uint8)
    expected[[ord(c) for c in re.findall(r"(?u)\w", every_char)]] = 1
    np.testing.assert_array_equal(_word_table(), expected)


@given(st.text())
@SETTINGS
def test_murmurhash_matches_sklearn(text):
    assert murmurhash3_32_codes(_codes(text)) == murmurhash3_32(text, seed=0)


@pytest.mark.parametrize("text", ["", "a", "ab", "abc", "abcd", "abcde", "é", "日本", "😀x"])
def test_murmurhash_short_tails(text):
    assert murmurhash3_32_codes(_codes(text)) == murmurhash3_32(text, seed=0)


# ------------------------------------------------------------------ property tests

@given(CORPUS, st.sampled_from([(1, 1), (1, 2), (2, 2)]), st.sampled_from(["binary", "count"]))
@SETTINGS
def test_counts_match_countvectorizer(docs, ngram_range, weighting):
    ours = BagOfWords(ngram_range=ngram_range, weighting=weighting, norm=None)
    theirs = CountVectorizer(ngram_range=ngram_range, binary=weighting == "binary")
    X, Y = _fits_or_both_fail(ours, theirs, docs)
    if X is None:
        return
    _assert_csr_contract(X, len(docs))
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))
    _assert_same(ours.transform(docs[::-1]),
                 _reordered(ours, theirs.vocabulary_, theirs.transform(docs[::-1])))


@given(CORPUS, st.sampled_from([(1, 1), (1, 2)]), st.booleans(), st.sampled_from(["l2", None]))
@SETTINGS
def test_tfidf_matches_tfidfvectorizer(docs, ngram_range, sublinear_tf, norm):
    ours = BagOfWords(ngram_range=ngram_range, sublinear_tf=sublinear_tf, norm=norm)
    theirs = TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=sublinear_tf, norm=norm)
    X, Y = _fits_or_both_fail(ours, theirs, docs)
    if X is None:
        return
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))


@given(CORPUS, st.sampled_from([(1, 1), (1, 2), (1, 3)]), st.booleans(),
       st.sampled_from(["binary", "count"]), st.sampled_from(["l2", None]))
@SETTINGS
def test_hashing_matches_hashingvectorizer(docs, ngram_range, alternate_sign, weighting, norm):
    # 2**6 columns: many collisions, so summed signs and explicit zeros are exercised
    ours = BagOfWords(2**6, ngram_range=ngram_range, alternate_sign=alternate_sign,
                      weighting=weighting, norm=norm)
    theirs = HashingVectorizer(n_features=2**6, ngram_range=ngram_range,
                               alternate_sign=alternate_sign, binary=weighting == "binary",
                               norm=norm)
    X = ours.fit_transform(docs)
    _assert_csr_contract(X, len(docs))
    _assert_same(X, theirs.transform(docs))


@given(CORPUS, st.sampled_from([(1, 1), (1, 2)]), st.booleans())
@SETTINGS
def test_hashed_tfidf_matches_hashing_then_tfidf(docs, ngram_range, sublinear_tf):
    ours = BagOfWords(2**8, ngram_range=ngram_range, alternate_sign=False,
                      sublinear_tf=sublinear_tf)
    hashed = HashingVectorizer(n_features=2**8, ngram_range=ngram_range, alternate_sign=False,
                               norm=None).transform(docs)
    theirs = TfidfTransformer(sublinear_tf=sublinear_tf).fit(hashed)
    _assert_same(ours.fit_transform(docs), theirs.transform(hashed))


@given(CORPUS, st.integers(1, 3), st.sampled_from([1.0, 0.7, 3]), st.sampled_from([None, 1, 4]))
@SETTINGS
def test_pruning_matches_countvectorizer(docs, min_df, max_df, max_features):
    ours = BagOfWords(min_df=min_df, max_df=max_df, max_features=max_features,
                      weighting="count", norm=None, ngram_range=(1, 2))
    theirs = CountVectorizer(min_df=min_df, max_df=max_df, max_features=max_features,
                             ngram_range=(1, 2))
    X, Y = _fits_or_both_fail(ours, theirs, docs)
    if X is None:
        return
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))


# ------------------------------------------------------------------ the real corpus

@pytest.fixture(scope="module")
def rt_polarity(tiny_data):
    """400 rt-polarity lines (tests/data): real Latin-1 review text, quick to compare."""
    folder = tiny_data / "rt-polarity"
    docs, labels = [], []
    for name, label in (("rt-polarity.pos", 1), ("rt-polarity.neg", 0)):
        with open(folder / name, encoding="latin-1", newline="\n") as f:
            lines = f.read().rstrip("\n").split("\n")  # one per line, nothing else splits
        docs.extend(lines)
        labels.extend([label] * len(lines))
    return docs, np.array(labels)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
@pytest.mark.parametrize("weighting", ["binary", "count", "tfidf"])
def test_rt_polarity_vocabulary(rt_polarity, ngram_range, weighting):
    docs, _ = rt_polarity
    train, test = docs[::2], docs[1::2]
    if weighting == "tfidf":
        ours = BagOfWords(ngram_range=ngram_range, sublinear_tf=True)
        theirs = TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True)
    else:
        ours = BagOfWords(ngram_range=ngram_range, weighting=weighting, norm=None)
        theirs = CountVectorizer(ngram_range=ngram_range, binary=weighting == "binary")
    X, Y = ours.fit_transform(train), theirs.fit_transform(train)
    _assert_csr_contract(X, len(train))
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))
    _assert_same(ours.transform(test), _reordered(ours, theirs.vocabulary_, theirs.transform(test)))


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
@pytest.mark.parametrize("weighting", ["binary", "count"])
def test_rt_polarity_hashing(rt_polarity, ngram_range, weighting):
    docs, _ = rt_polarity
    ours = BagOfWords(2**20, ngram_range=ngram_range, weighting=weighting)
    theirs = HashingVectorizer(ngram_range=ngram_range, binary=weighting == "binary")
    _assert_same(ours.fit_transform(docs), theirs.transform(docs))


def test_rt_polarity_pruning(rt_polarity):
    docs, _ = rt_polarity
    kwargs = dict(min_df=2, max_df=0.5, max_features=5000, ngram_range=(1, 2))
    ours = BagOfWords(weighting="count", norm=None, **kwargs)
    theirs = CountVectorizer(**kwargs)
    X, Y = ours.fit_transform(docs), theirs.fit_transform(docs)
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))


def test_rt_polarity_fixed_vocabulary(rt_polarity):
    docs, _ = rt_polarity
    vocabulary = CountVectorizer(ngram_range=(1, 2), max_features=3000).fit(docs).vocabulary_
    ours = BagOfWords(vocabulary=vocabulary, ngram_range=(1, 2), weighting="count", norm=None)
    theirs = CountVectorizer(vocabulary=vocabulary, ngram_range=(1, 2))
    _assert_same(ours.fit_transform(docs), theirs.fit_transform(docs))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


@pytest.fixture(scope="module", params=["tiny", "full"])
def newsgroups(request, tiny_data):
    """(documents to fit, other documents): 6 + 6 messages of 3 classes (tests/data), or the
    full test split and 2,000 training documents when the shared data is there."""
    from fasttext_lin.datasets import fetch_corpus, read_folder_per_class

    if request.param == "tiny":
        folder = tiny_data / "20newsgroups"
        return tuple(read_folder_per_class(folder / split, encoding="latin-1")[0]
                     for split in ("test", "train"))
    data = fetch_corpus("20newsgroups", data_home=request.getfixturevalue("shared_data"),
                        download=False)
    return data.texts_test, data.texts_train[:2000]


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
def test_20newsgroups_vocabulary(newsgroups, ngram_range):
    """Binary, count and tf-idf equal scikit-learn's: fit on the test split, transform
    2,000 training documents (the counts computed once; TfidfVectorizer is
    CountVectorizer then TfidfTransformer). A row's norm sums its squares in the
    columns' order, which differs: long rows then differ in the last bits."""
    fit_docs, other_docs = newsgroups
    theirs = CountVectorizer(ngram_range=ngram_range)
    counts = {"fit": theirs.fit_transform(fit_docs), "other": theirs.transform(other_docs)}
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts["fit"])
    for weighting in ("binary", "count", "tfidf"):
        ours = BagOfWords(ngram_range=ngram_range, weighting=weighting, sublinear_tf=True,
                          norm="l2" if weighting == "tfidf" else None)
        X = {"fit": ours.fit_transform(fit_docs), "other": ours.transform(other_docs)}
        for split, Y in counts.items():
            if weighting == "binary":
                Y = Y.sign()
            elif weighting == "tfidf":
                Y = tfidf.transform(Y)
            _assert_same(X[split], _reordered(ours, theirs.vocabulary_, Y), rtol=1e-12)


# ------------------------------------------------------------------ edges and API

@pytest.mark.parametrize("n_features", [None, 2**10])
def test_empty_documents_give_empty_rows(n_features):
    docs = ["", "good film", "!!", "a", "good"]
    X = BagOfWords(n_features).fit_transform(docs)
    assert list(np.diff(X.indptr)) == [0, 2, 0, 0, 1]
    Xb = BagOfWords(n_features, bias=True).fit_transform(docs)
    assert Xb.shape[1] == X.shape[1] + 1
    assert list(np.diff(Xb.indptr)) == [1, 3, 1, 1, 2]
    np.testing.assert_array_equal(Xb[:, 0].toarray().ravel(), 1.0)
    # the bias is added after normalisation
    _assert_same(Xb[:, 1:], X)


def test_bias_name_and_fixed_vocabulary_columns():
    bow = BagOfWords(vocabulary=["film", "good"], bias=True, weighting="count", norm=None)
    X = bow.fit_transform(["good good film", "bad"])
    assert list(bow.get_feature_names_out()) == ["<bias>", "film", "good"]
    np.testing.assert_array_equal(X.toarray(), [[1, 1, 2], [1, 0, 0]])


@pytest.mark.parametrize("docs", [[], iter([])])
def test_empty_corpus_is_refused(docs):
    with pytest.raises(ValueError, match="corpus is empty"):
        BagOfWords().fit(docs)


def test_corpus_without_tokens_is_refused():
    with pytest.raises(ValueError, match="empty vocabulary"):
        BagOfWords().fit(["", "a b", "!"])


def test_single_string_is_refused():
    with pytest.raises(ValueError, match="wrap it in a list"):
        BagOfWords().fit("one document")


@pytest.mark.parametrize("params", [dict(ngram_range=(2, 1)), dict(weighting="bm25"),
                                    dict(norm="l1"), dict(token_pattern=r"\S+"),
                                    dict(n_features=0), dict(n_features=8, vocabulary=["a"]),
                                    dict(nb_alpha=0.0), dict(n_jobs=0), dict(n_jobs=1.5)])
def test_invalid_parameters_are_named(params):
    name = next(iter(params))
    with pytest.raises(ValueError, match=name):
        BagOfWords(**params).fit(["some text"])


@pytest.mark.parametrize("params", [dict(), dict(n_features=2**8), dict(weighting="count"),
                                    dict(n_features=2**8, weighting="binary", bias=True),
                                    dict(ngram_range=(1, 2), sublinear_tf=True)])
def test_fit_then_transform_equals_fit_transform(params):
    docs = ["the good film", "The BAD film, the end", "", "good good good"]
    X = BagOfWords(**params).fit_transform(docs)
    _assert_same(BagOfWords(**params).fit(docs).transform(docs), X)


def test_float32_and_bytes():
    X = BagOfWords(dtype=np.float32).fit_transform([b"caf\xc3\xa9 au lait", "caf\u00e9"])
    _assert_csr_contract(X, 2, np.float32)
    assert X.shape[1] == 3


def test_pipeline_grid_search(rt_polarity):
    docs, labels = rt_polarity  # 400 sentences: 5-fold accuracy 0.60-0.63, chance 0.5
    pipe = Pipeline([("bow", BagOfWords(bias=True)),
                     ("clf", LinearClassifier(loss="hinge", fit_intercept=False,
                                              random_state=0, max_iter=5, tol=None))])
    grid = GridSearchCV(pipe, {"bow__ngram_range": [(1, 1), (1, 2)],
                               "bow__n_features": [None, 2**18]}, cv=5)
    grid.fit(docs, labels)
    assert grid.best_score_ > 0.6


# ------------------------------------------------------------------ whitespace tokeniser

def _whitespace_tokens(text):
    """Reference: runs between white space, punctuation and symbols split off."""
    tokens, word = [], ""
    for c in text:
        if c.isspace() or unicodedata.category(c)[0] in "PS":
            tokens += [word] if word else []
            word = ""
            if not c.isspace():
                tokens.append(c)
        else:
            word += c
    return tokens + ([word] if word else [])


def test_whitespace_tokens_example():
    bow = BagOfWords(token_pattern="whitespace", weighting="count", norm=None)
    bow.fit(["Don't stop, 2 x!"])
    assert sorted(bow.get_feature_names_out()) == sorted(["don", "'", "t", "stop", ",", "2",
                                                         "x", "!"])


def test_whitespace_table_classes():
    table = _whitespace_table()
    assert table[ord(" ")] == table[0x3000] == table[ord("\n")] == 0
    assert table[ord("!")] == table[ord("$")] == table[ord("_")] == table[0x300C] == 2
    assert table[ord("a")] == table[ord("7")] == table[0x65E5] == 1


@given(CORPUS, st.sampled_from([(1, 1), (1, 2), (2, 3)]))
@SETTINGS
def test_whitespace_matches_countvectorizer_with_reference_tokenizer(docs, ngram_range):
    ours = BagOfWords(token_pattern="whitespace", ngram_range=ngram_range,
                      weighting="count", norm=None)
    theirs = CountVectorizer(tokenizer=_whitespace_tokens, token_pattern=None,
                             ngram_range=ngram_range)
    X, Y = _fits_or_both_fail(ours, theirs, docs)
    if X is None:
        return
    _assert_csr_contract(X, len(docs))
    _assert_same(X, _reordered(ours, theirs.vocabulary_, Y))


@given(CORPUS, st.sampled_from([(1, 1), (1, 2)]))
@SETTINGS
def test_whitespace_hashing_matches_hashingvectorizer(docs, ngram_range):
    ours = BagOfWords(2**10, token_pattern="whitespace", ngram_range=ngram_range,
                      weighting="count", norm=None)
    theirs = HashingVectorizer(n_features=2**10, tokenizer=_whitespace_tokens,
                               token_pattern=None, ngram_range=ngram_range, norm=None)
    _assert_same(ours.fit_transform(docs), theirs.transform(docs))


# ------------------------------------------------------------------ naive-Bayes weighting

def _nb_reference(docs, y, alpha, ngram_range=(1, 1)):
    """NB-SVM's log-count ratios, one-vs-rest, with dense NumPy, and CountVectorizer."""
    cv = CountVectorizer(binary=True, ngram_range=ngram_range)
    B = cv.fit_transform(docs).toarray().astype(float)
    ratios = []
    for k in np.unique(y):
        p = alpha + B[y == k].sum(axis=0)
        q = alpha + B[y != k].sum(axis=0)
        ratios.append(np.log((p / p.sum()) / (q / q.sum())))
    return cv, B, np.array(ratios)


@given(st.lists(TEXT, min_size=2, max_size=8), st.integers(2, 3),
       st.sampled_from([0.5, 1.0]), st.sampled_from([(1, 1), (1, 2)]))
@SETTINGS
def test_nb_weights_match_reference(docs, n_classes, alpha, ngram_range):
    y = np.arange(len(docs)) % n_classes
    try:
        cv, B, ratios = _nb_reference(docs, y, alpha, ngram_range)
    except ValueError:  # no token at all: both refuse
        with pytest.raises(ValueError):
            BagOfWords(weighting="nb").fit(docs, y)
        return
    ours = BagOfWords(weighting="nb", nb_alpha=alpha, ngram_range=ngram_range, norm=None)
    X = ours.fit_transform(docs, y)
    weight = np.abs(ratios).max(axis=0)
    if n_classes == 2:
        np.testing.assert_allclose(np.abs(ratios[1]), weight, rtol=1e-12)  # r_0 = -r_1
    expected = sp.csr_matrix(B)
    expected.data *= weight[expected.indices]  # a zero weight stays an explicit entry
    _assert_same(X, _reordered(ours, cv.vocabulary_, expected))
    _assert_same(ours.transform(docs), X)


def test_nb_equals_signed_nbsvm_features_for_a_linear_model():
    docs = ["good fun film", "bad dull film", "fun and good", "dull, bad, long",
            "a good plot", "a bad plot", "long but fun", "dull acting"] * 5
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 5)
    bow = BagOfWords(weighting="nb", norm=None)
    X = bow.fit_transform(docs, y)
    cv, _, ratios = _nb_reference(docs, y, 1.0)
    sign = np.sign(ratios[1][[cv.vocabulary_[t] for t in bow.get_feature_names_out()]])
    signed = X.multiply(sign[np.newaxis, :]).tocsr()  # NB-SVM's signed r, our magnitudes
    assert np.any(signed.data < 0) and np.any(signed.data > 0)
    params = dict(loss="hinge", random_state=0, max_iter=5, tol=None)
    ours = LinearClassifier(**params).fit(X, y)
    nbsvm = LinearClassifier(**params).fit(signed, y)
    # flipping a column's sign flips its weight step for step: same decisions, same bits
    np.testing.assert_array_equal(ours.decision_function(X), nbsvm.decision_function(signed))


def test_nb_hashing_is_binary_hashing_times_weights():
    docs = ["good fun film", "bad dull film", "fun and good", "dull bad long"]
    y = ["pos", "neg", "pos", "neg"]
    bow = BagOfWords(2**8, weighting="nb", norm=None)
    X = bow.fit_transform(docs, y)
    B = BagOfWords(2**8, weighting="binary", norm=None).fit_transform(docs)
    _assert_same(X, B.multiply(bow.nb_weight_[np.newaxis, :]).tocsr())
    assert bow.nb_weight_.shape == (2**8,)


@pytest.mark.parametrize("y, message", [(None, "learns from the labels"),
                                        ([1, 1, 1], "at least two classes"),
                                        ([0, 1], "3 documents but 2 labels")])
def test_nb_label_errors(y, message):
    with pytest.raises(ValueError, match=message):
        BagOfWords(weighting="nb").fit(["good film", "bad film", "ok film"], y)


def test_nb_in_pipeline_grid_search(rt_polarity):
    docs, labels = rt_polarity  # 400 sentences: 5-fold accuracy 0.66 at C=1, chance 0.5
    pipe = Pipeline([("bow", BagOfWords(weighting="nb", ngram_range=(1, 2), bias=True)),
                     ("clf", LinearClassifier(loss="hinge", fit_intercept=False,
                                              random_state=0, max_iter=5, tol=None))])
    grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=5).fit(docs, labels)
    assert grid.best_score_ > 0.65


# ------------------------------------------------------------------ scikit-learn's checks

ESTIMATORS = [BagOfWords(), BagOfWords(2**10, ngram_range=(1, 2)), BagOfWords(weighting="nb")]


# BagOfWords's tags say it takes raw documents (input_tags.string, not two_d_array), so
# scikit-learn runs only the checks that hold for any input: its data checks feed numeric 2-D
# arrays. The API checks that take no data run below, then text twins of the data checks.
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_checks_for_text_input(estimator, check):
    check(estimator)


API_CHECKS = [checks.check_estimator_tags_renamed, checks.check_valid_tag_types,
              checks.check_estimator_repr, checks.check_no_attributes_set_in_init,
              checks.check_do_not_raise_errors_in_init_or_set_params, checks.check_mixin_order,
              checks.check_get_params_invariance, checks.check_set_params,
              checks.check_parameters_default_constructible]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
def test_sklearn_api_checks_without_data(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_text_twins_of_sklearn_data_checks(estimator, rt_polarity):
    """fit returns self, keeps its parameters, adds only attributes ending in '_'; transform
    needs a fit; a second fit, a clone and a pickle transform alike."""
    import pickle

    docs, labels = rt_polarity
    bow = clone(estimator)
    with pytest.raises(NotFittedError):
        bow.transform(docs)
    params, attributes = bow.get_params(), set(vars(bow))
    assert bow.fit(docs, labels) is bow
    assert bow.get_params() == params
    added = {name for name in set(vars(bow)) - attributes if not name.startswith("_")}
    assert added and all(name.endswith("_") for name in added)
    check_is_fitted(bow)
    X = bow.transform(docs)
    assert X.shape == (len(docs), len(bow.get_feature_names_out()))
    _assert_same(bow.fit(docs, labels).transform(docs), X, rtol=0)
    _assert_same(clone(estimator).fit(docs, labels).transform(docs), X, rtol=0)
    _assert_same(pickle.loads(pickle.dumps(bow)).transform(docs), X, rtol=0)

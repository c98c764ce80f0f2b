"""NBSVM: the log-count ratios, the interpolation, scikit-learn compatibility, rt-polarity."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.utils.estimator_checks import parametrize_with_checks

from fasttext_lin import NBSVM, BagOfWords, LinearClassifier
from fasttext_lin.featurize import log_count_ratios


@parametrize_with_checks([NBSVM(random_state=0, max_iter=5),
                          NBSVM(beta=1.0, norm=None, loss="log_loss", random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@given(st.integers(2, 9), st.integers(1, 6), st.integers(2, 4), st.sampled_from([0.5, 1.0]),
       st.integers(0, 2**31 - 1))
@settings(max_examples=60, deadline=None)
def test_log_count_ratios_match_dense_reference(n_rows, n_features, n_classes, alpha, seed):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_rows, n_features)) < 0.4).astype(float)
    codes = rng.integers(0, n_classes, n_rows)
    ratios = log_count_ratios(sp.csr_matrix(dense), codes, n_classes, alpha)
    for k in range(n_classes):
        p = alpha + dense[codes == k].sum(axis=0)
        q = alpha + dense[codes != k].sum(axis=0)
        np.testing.assert_allclose(ratios[k], np.log((p / p.sum()) / (q / q.sum())),
                                   rtol=1e-12, atol=1e-12)


def _corpus(seed=0, n=120, n_classes=2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    # class-dependent word frequencies, counts up to 3
    probs = rng.dirichlet(np.ones(30), n_classes)
    X = np.stack([rng.multinomial(6, probs[c]) for c in y]).astype(float)
    return sp.csr_matrix(X), y


@pytest.mark.parametrize("norm", ["l2", None])
@pytest.mark.parametrize("beta", [1.0, 0.25])
def test_model_is_interpolated_sgd_on_scaled_binary_features(norm, beta):
    X, y = _corpus()
    model = NBSVM(C=0.5, beta=beta, norm=norm, max_iter=7, random_state=3).fit(X, y)
    B = (X > 0).astype(float)
    r = log_count_ratios(sp.csr_matrix(B), y, 2, 1.0)[1]
    Z = B @ sp.diags(r)
    Z = normalize(Z) if norm else sp.csr_matrix(Z)
    svm = LinearClassifier(C=0.5, solver="sgd", max_iter=7, tol=None, average=True,
                           random_state=3)
    svm.fit(Z, y == 1)
    w, b = svm.coef_[0], svm.intercept_[0]
    w_bar = np.abs(w).mean()
    np.testing.assert_allclose(model.coef_[0], r * ((1 - beta) * w_bar + beta * w), rtol=1e-12)
    assert model.intercept_[0] == pytest.approx(beta * b, rel=1e-12)
    # the score: beta times the SVM's plus the naive-Bayes score r . x (normalised like the
    # rows) on the scale of the SVM's weights, mean|w|
    nb_score = np.asarray(Z.sum(axis=1)).ravel()
    expected = beta * svm.decision_function(Z) + (1 - beta) * w_bar * nb_score
    np.testing.assert_allclose(model.decision_function(X), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), (expected > 0) * 1)


def _zipf_corpus(share, seed, n=2000, n_words=20000, length=20, signal=0.5):
    """Short documents over a Zipf vocabulary, ``share`` of them of class 1: as in reviews,
    most terms are rare, so the training rows are separable by terms never seen again."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(int)
    zipf = 1.0 / np.arange(1, n_words + 1)
    probs = [zipf * np.exp(rng.normal(0, signal, n_words)) for _ in range(2)]
    words = [rng.choice(n_words, (n, length), p=p / p.sum()) for p in probs]
    rows = np.repeat(np.arange(n), length)
    cols = np.where(y[:, None] == 1, words[1], words[0]).ravel()
    X = sp.csr_matrix((np.ones(n * length), (rows, cols)), shape=(n, n_words))
    return X, y


@pytest.mark.parametrize("share", [0.5, 0.64, 0.8, 0.9])
def test_unbalanced_classes_score_above_the_majority_rate(share):
    """The interpolated intercept keeps NB-SVM above the majority rate where the linear model
    is (the intercept kept from before the interpolation gave 20-61% at 64:36 to 90:10)."""
    X, y = _zipf_corpus(share, seed=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=0)
    majority = max(y_test.mean(), 1 - y_test.mean())
    B_train, B_test = (X_train > 0).astype(float), (X_test > 0).astype(float)
    linear = LinearClassifier(solver="sgd", max_iter=30, tol=None, average=True, random_state=0)
    assert linear.fit(B_train, y_train).score(B_test, y_test) > majority
    assert NBSVM(random_state=0).fit(X_train, y_train).score(X_test, y_test) > majority


def test_multiclass_is_one_model_per_class():
    X, y = _corpus(n_classes=3, n=200)
    model = NBSVM(random_state=0).fit(X, y)
    assert model.coef_.shape == model.ratios_.shape == (3, 30)
    scores = model.decision_function(X)
    np.testing.assert_array_equal(model.predict(X), scores.argmax(axis=1))
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize("params, message", [(dict(beta=0.0), "beta"), (dict(beta="none"), "beta"),
                                             (dict(nb_alpha=-1), "nb_alpha"),
                                             (dict(norm="l1"), "norm"),
                                             (dict(max_iter=0), "max_iter"),
                                             (dict(C=-1.0), "C"), (dict(loss="nope"), "loss"),
                                             (dict(loss="softmax"), "model is binary")])
def test_invalid_parameters_are_named(params, message):
    X, y = _corpus()
    with pytest.raises(ValueError, match=message):
        NBSVM(**params).fit(X, y)


def test_negative_features_and_one_class_are_refused():
    X, y = _corpus()
    with pytest.raises(ValueError, match="Negative values in data"):
        NBSVM().fit(-X, y)
    with pytest.raises(ValueError, match="at least two classes"):
        NBSVM().fit(X, np.zeros_like(y))


def test_rt_polarity_10_fold_reaches_published_nbsvm(shared_data):
    """Wang and Manning's bigram NB-SVM: 79.4% on rt-polarity (10-fold CV)."""
    from fasttext_lin.datasets import fetch_corpus

    data = fetch_corpus("rt-polarity", data_home=shared_data, download=False)
    texts, y = data.texts_train, data.y_train
    pipe = Pipeline([("bagofwords", BagOfWords(ngram_range=(1, 2), weighting="binary",
                                               norm=None)),
                     ("classifier", NBSVM(C=1.0, random_state=0))])
    accuracies = []
    for train, test in StratifiedKFold(10, shuffle=True, random_state=0).split(texts, y):
        pipe.fit([texts[i] for i in train], y[train])
        accuracies.append(pipe.score([texts[i] for i in test], y[test]))
    assert np.mean(accuracies) >= 0.794


@pytest.mark.parametrize("n_classes, beta", [(2, 0.25), (3, 1.0)])
def test_auto_beta_is_wang_manning_for_two_classes_and_none_for_more(n_classes, beta):
    X, y = _corpus(n_classes=n_classes, n=150)
    auto = NBSVM(random_state=0, max_iter=5).fit(X, y)
    fixed = NBSVM(beta=beta, random_state=0, max_iter=5).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, fixed.coef_)


def test_threads_give_the_same_model():
    X, y = _corpus(n_classes=4, n=200)
    one = NBSVM(random_state=0, max_iter=5).fit(X, y)
    two = NBSVM(random_state=0, max_iter=5, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)


def _scaled(B, r):
    return normalize(sp.csr_matrix(B @ sp.diags(r)))


@pytest.mark.parametrize("beta", [0.25, 1.0])
def test_auto_c_is_the_best_interpolated_accuracy_on_folds_with_their_own_ratios(beta):
    X, y = _corpus(seed=4, n=160)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=2).split(X, y))
    model = NBSVM(C="auto", beta=beta, cv=folds, random_state=0).fit(X, y)
    B = sp.csr_matrix((X > 0).astype(float))
    r = log_count_ratios(B, y, 2, 1.0)[1]
    from fasttext_lin import LinearClassifierCV

    # The path's Cs (from the same start), scored by an explicit loop: ratios of the
    # training rows only, the interpolated model's held-out accuracy, cold fits.
    start = LinearClassifierCV(Cs=1, losses="hinge", cv=2).fit(_scaled(B, r), y == 1).C_min_
    means = []
    for C in start * 2.0 ** np.arange(60):
        scores = []
        for train, test in folds:
            rf = log_count_ratios(B[train], y[train], 2, 1.0)[1]
            clf = LinearClassifier(C=C, solver="cd", tol=1e-10, max_iter=100_000,
                                   random_state=0).fit(_scaled(B[train], rf), y[train] == 1)
            w = (1 - beta) * np.abs(clf.coef_[0]).mean() + beta * clf.coef_[0]
            held = _scaled(B[test], rf) @ w + beta * clf.intercept_[0]
            scores.append(np.mean((held > 0) == (y[test] == 1)))
        means.append(np.mean(scores))
        best = int(np.argmax(means))
        if len(means) - 1 - best >= 5:  # the path's stopping rule (no plateau here)
            break
    assert model.C_.shape == (1,)
    assert model.C_[0] == pytest.approx(start * 2.0 ** best)


def test_auto_c_per_class_and_kept_in_the_model_file(tmp_path):
    from fasttext_lin import load_model, save_model

    X, y = _corpus(n=150, n_classes=3)
    model = NBSVM(C="auto", cv=3, random_state=0).fit(X, y)
    assert model.C_.shape == (3,) and np.all(model.C_ > 0)
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.C_, model.C_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert not hasattr(NBSVM(C=1.0).fit(X, y), "C_")

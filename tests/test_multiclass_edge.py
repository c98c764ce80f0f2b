"""Multi-class bad input (issue 4): one class, a class absent from a CV fold or a batch, too few
rows to calibrate, and the memory of a fit with many classes."""

import gc
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
    cross_validate,
)

from fasttext_lin import _sgd_kernels as K
from fasttext_lin._state import BinaryState, SoftmaxState
from fasttext_lin.cli import main
from fasttext_lin.linear_model import LinearClassifier
from fasttext_lin.nbsvm import NBSVM
from fasttext_lin.text_model import cross_validate_text, text_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_many_classes import make_sector_like  # noqa: E402

ESTIMATORS = {
    "softmax": lambda: LinearClassifier("softmax", max_iter=5, tol=None, random_state=0),
    "ovr-hinge": lambda: LinearClassifier("hinge", max_iter=5, tol=None, random_state=0),
    "nbsvm": lambda: NBSVM(max_iter=5, random_state=0),
}
# KFold(5) on RARE_DATA puts both rows of the rare class 2 in the last test fold.
RARE_CLASS, N_ROWS = 2, 40


def rare_class_data(n_features=30):
    """``(X, y)``: 38 rows of classes 0 and 1 told apart by features 0 and 1, then 2 rows of
    class 2 (feature 2) at the end; non-negative, so NBSVM takes it."""
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * ((N_ROWS - 2) // 2) + [RARE_CLASS] * 2)
    X = rng.random((N_ROWS, n_features)) * (rng.random((N_ROWS, n_features)) < 0.2)
    X[np.arange(N_ROWS), y] += 2.0
    return sp.csr_matrix(X), y


# -- one class --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_one_class_is_a_clear_error(name):
    X, _ = rare_class_data()
    with pytest.raises(ValueError, match=r"(at least 2|at least two) classes.*one class"):
        ESTIMATORS[name]().fit(X, np.full(N_ROWS, "spam"))


@pytest.mark.parametrize("loss", ["softmax", "hinge"])
def test_partial_fit_with_one_class_is_a_clear_error(loss):
    X, _ = rare_class_data()
    with pytest.raises(ValueError, match="at least 2 classes"):
        LinearClassifier(loss).partial_fit(X, np.zeros(N_ROWS), classes=[0])


@pytest.mark.parametrize("extra", [["--loss", "softmax"], ["--loss", "hinge"],
                                   ["--model", "nbsvm"]])
def test_cli_train_on_a_one_label_corpus_fails_in_one_line_and_writes_nothing(
        extra, tmp_path, capsys):
    corpus = tmp_path / "one.txt"
    corpus.write_text("".join(f"__label__spam cheap pills number {i}\n" for i in range(12)))
    model = tmp_path / "m.npz"
    status = main(["train", str(corpus), "-o", str(model), "-q", *extra])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err.startswith("fasttext-lin train: error: ") and err.count("\n") == 1
    assert "one class" in err and "'spam'" in err
    assert list(tmp_path.iterdir()) == [corpus]


# -- a class absent from a training fold ------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_a_fold_without_a_class_trains_and_predicts_only_its_classes(name):
    X, y = rare_class_data()
    train, test = list(KFold(5).split(X))[-1]
    assert RARE_CLASS not in y[train] and RARE_CLASS in y[test]
    model = ESTIMATORS[name]().fit(X[train], y[train])
    assert model.classes_.tolist() == [0, 1]
    assert set(model.predict(X).tolist()) <= {0, 1}
    assert np.mean(model.predict(X[train]) == y[train]) > 0.9
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X[test])
        assert proba.shape == (len(test), 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X[test]))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("cv", [KFold(5), StratifiedKFold(5)], ids=["kfold", "stratified"])
def test_cross_validation_with_a_two_row_class(name, cv):
    X, y = rare_class_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cross_validate(ESTIMATORS[name](), X, y, cv=cv, error_score="raise",
                                return_estimator=True)
    messages = [str(w.message) for w in caught]
    if isinstance(cv, StratifiedKFold):
        assert any("least populated class in y has only 2 members" in m for m in messages)
        assert all(e.classes_.tolist() == [0, 1, 2] for e in result["estimator"])
    else:
        assert [e.classes_.tolist() for e in result["estimator"]][-1] == [0, 1]
    assert result["test_score"].mean() >= 0.75


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_cross_val_predict_proba_fills_the_column_of_a_class_a_fold_never_saw(loss):
    X, y = rare_class_data()
    model = LinearClassifier(loss, max_iter=5, tol=None, random_state=0)
    with pytest.warns(RuntimeWarning, match="Number of classes in training fold"):
        proba = cross_val_predict(model, X, y, cv=KFold(5), method="predict_proba")
    assert proba.shape == (N_ROWS, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    last = list(KFold(5).split(X))[-1][1]
    assert np.all(proba[last, RARE_CLASS] == 0.0) and np.all(proba[:32, RARE_CLASS] > 0.0)
    assert np.isfinite(log_loss(y, np.clip(proba, 1e-15, 1.0), labels=[0, 1, 2]))


def labelled_log_loss(labels):
    return make_scorer(log_loss, response_method="predict_proba", greater_is_better=False,
                       labels=labels)


@pytest.mark.parametrize("loss", ["softmax", "log_loss"])
def test_neg_log_loss_on_test_folds_without_a_class(loss):
    """StratifiedKFold(5) with a two-row class: 3 test folds lack it. scikit-learn's
    'neg_log_loss' cannot score them (it passes no labels), for LogisticRegression as for
    ours; a scorer given ``labels`` scores every fold."""
    X, y = rare_class_data()
    cv = StratifiedKFold(5)
    model = LinearClassifier(loss, max_iter=5, tol=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = cross_val_score(model, X, y, cv=cv, scoring="neg_log_loss")
        peer = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="neg_log_loss")
        labelled = cross_val_score(model, X, y, cv=cv, scoring=labelled_log_loss([0, 1, 2]),
                                   error_score="raise")
    assert np.array_equal(np.isnan(ours), np.isnan(peer)) and np.isnan(ours).sum() == 3
    assert np.all(np.isfinite(labelled)) and np.all(labelled < 0)
    np.testing.assert_allclose(labelled[~np.isnan(ours)], ours[~np.isnan(ours)])


@pytest.mark.parametrize("loss", ["softmax", "hinge"])
def test_grid_search_whose_folds_lack_a_class(loss):
    X, y = rare_class_data()
    model = LinearClassifier(loss, max_iter=5, tol=None, random_state=0)
    search = GridSearchCV(model, {"alpha": [1e-4, 1e-2]}, cv=KFold(5), error_score="raise")
    search.fit(X, y)
    assert search.best_estimator_.classes_.tolist() == [0, 1, 2]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("kind", ["softmax", "hinge", "nbsvm"])
def test_cross_validate_text_with_a_two_document_class(kind):
    rng = np.random.default_rng(1)
    words = {"pos": ["good", "great", "superb"], "neg": ["bad", "awful", "dull"],
             "odd": ["weird", "strange", "bizarre"]}
    y = np.array(["pos", "neg"] * 15 + ["odd"] * 2)
    texts = [" ".join(rng.choice(words[label], 3)) + " the film" for label in y]
    pipe = (text_pipeline(model="nbsvm", epochs=5) if kind == "nbsvm"
            else text_pipeline(loss=kind, solver="sgd", epochs=5))
    with pytest.warns(UserWarning, match="least populated class"):
        result = cross_validate_text(pipe, texts, y, folds=5, grid=(0.1, 1.0))
    assert result.fold_accuracy.shape == (5,) and result.mean_accuracy >= 0.8


# -- partial_fit: a batch without a class -----------------------------------------------------

@pytest.mark.parametrize("loss", ["softmax", "hinge"])
def test_partial_fit_on_a_batch_without_a_class_keeps_every_class(loss):
    X, y = rare_class_data()
    first = y != RARE_CLASS
    model = LinearClassifier(loss, random_state=0)
    model.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert model.classes_.tolist() == [0, 1, 2] and model.coef_.shape == (3, X.shape[1])
    scores = model.decision_function(X)
    # Only seen as a negative so far: class 2 scores below the best class everywhere.
    assert np.all(scores[:, RARE_CLASS] < scores.max(axis=1))
    if loss == "softmax":
        assert model.predict_proba(X).shape == (N_ROWS, 3)
    for _ in range(20):
        model.partial_fit(X[~first], y[~first])
    assert model.predict(X[~first]).tolist() == [RARE_CLASS] * 2


def test_partial_fit_balanced_on_a_batch_without_a_class_says_what_to_do():
    X, y = rare_class_data()
    first = y != RARE_CLASS
    with pytest.raises(ValueError, match="class_weight.*partial_fit|partial_fit.*class_weight"):
        LinearClassifier("softmax", class_weight="balanced").partial_fit(
            X[first], y[first], classes=[0, 1, 2])


# -- probability=True: fewer rows than calibration folds --------------------------------------

def test_calibration_with_a_class_below_five_rows_names_the_class_and_count():
    X, y = rare_class_data()
    with pytest.raises(ValueError, match=r"5 stratified folds.*class 2 has only 2 sample"):
        LinearClassifier("hinge", probability=True).fit(X, y)
    y = y.astype(str)
    with pytest.raises(ValueError, match=r"class '2' has only 2 sample"):
        LinearClassifier("squared_hinge", probability=True).fit(X, y)


# -- accuracy with many classes ----------------------------------------------------------------

def test_many_class_one_vs_rest_is_as_accurate_as_sgdclassifier():
    # Measured 0.64 vs 0.60; 0.34 with intercept_decay=1.0, the undamped intercept drifting.
    X, y = make_sector_like(100, n_rows=3000, n_features=10_000)
    n = 2400
    ours = LinearClassifier("hinge", C=1.0, max_iter=5, tol=None, random_state=0)
    peer = SGDClassifier(alpha=1.0 / n, max_iter=5, tol=None, random_state=0)
    scores = [m.fit(X[:n], y[:n]).score(X[n:], y[n:]) for m in (ours, peer)]
    assert scores[0] >= scores[1] - 0.05, scores


# -- memory of a fit with many classes --------------------------------------------------------

N_CLASSES, N_FEATURES, MEM_ROWS, NNZ_PER_ROW = 200, 128, 20_000, 4
# What fit should hold at once, in units of K x d x itemsize: the weights v, the averaging
# accumulator u, and while the solution is read out coef_ (filled by rows or blocks of
# features, test_reading_the_solution_out_takes_one_coef_and_small_blocks): up to 7 is slack.
# Per row: y's class codes or one-vs-rest targets, the sample weights, the visiting order and
# np.unique's sorted copy of y, 8 bytes each (two problems at a time in the threads' queue):
# under 6 x 8 = 48 bytes = NNZ_PER_ROW x 12, so one unit of nnz x 12; the CSR checks of
# validation take O(nnz) more. 7 + 1 = 8 bounds both terms of the unit: a dense (n, d) float64
# array alone is 17x the unit, a dense (n, K) one 27x. Measured (tracemalloc, K=200, d=128,
# n=20,000): 1.00x for softmax, 1.29x for one-vs-rest hinge, 1.56x with n_jobs=2.
MEMORY_CONSTANT = 8


def many_class_data():
    """``(X, y)``: MEM_ROWS rows of NNZ_PER_ROW distinct features near a class's own."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, N_CLASSES, MEM_ROWS)
    window = N_FEATURES // NNZ_PER_ROW
    indices = (y[:, None] * 37 + np.arange(NNZ_PER_ROW) * window
               + rng.integers(0, window, (MEM_ROWS, NNZ_PER_ROW))) % N_FEATURES
    indices.sort(axis=1)
    X = sp.csr_matrix((rng.random(indices.size), indices.ravel().astype(np.int32),
                       np.arange(0, indices.size + 1, NNZ_PER_ROW)), shape=(MEM_ROWS, N_FEATURES))
    return X, y


def peak_bytes(call):
    """Peak of the Python allocations (tracemalloc) made by ``call()``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("loss,n_jobs", [("softmax", None), ("hinge", None), ("hinge", 2)])
def test_fit_memory_is_bounded_by_the_weights_plus_nnz(loss, n_jobs):
    X, y = many_class_data()
    make = lambda: LinearClassifier(loss, solver="sgd", max_iter=2, tol=None,  # noqa: E731
                                    average=True, random_state=0, n_jobs=n_jobs)
    make().fit(X[:500], y[:500])  # compile or load the kernels outside the measure
    unit = N_CLASSES * N_FEATURES * X.dtype.itemsize + X.nnz * 12
    peak = peak_bytes(lambda: make().fit(X, y))
    assert peak <= MEMORY_CONSTANT * unit, f"peak {peak / unit:.2f} x (K d itemsize + 12 nnz)"
    # The bound bites: a dense (n, K) array of scores on top of the fit breaks it.
    assert peak_bytes(lambda: make().fit(X, y).decision_function(X)) > MEMORY_CONSTANT * unit


@pytest.mark.parametrize("state_class", [BinaryState, SoftmaxState])
@pytest.mark.parametrize("averaged", [False, True])
def test_reading_the_solution_out_takes_one_coef_and_small_blocks(state_class, averaged):
    n_classes, n_features = 64, 65536
    v_shape, state_shape = state_class.shapes(n_classes, n_features)
    rng = np.random.default_rng(0)
    state = np.ones(state_shape)
    state[:, K.AVG_N] = 3.0 if averaged else 0.0
    sgd = state_class(rng.normal(size=v_shape), rng.normal(size=v_shape), state)
    coef_bytes = n_classes * n_features * 8
    # Was 4x (one-vs-rest, averaged) and 2x (softmax): whole-size temporaries.
    assert peak_bytes(sgd.solution) <= 1.2 * coef_bytes

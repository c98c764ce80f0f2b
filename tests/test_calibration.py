"""LinearClassifier(probability=True): Platt's sigmoids fitted on held-out folds."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split

from fasttext_lin import LinearClassifier

PARAMS = {"random_state": 0, "max_iter": 10, "tol": None}


def blobs(n_classes=2, n=400, seed=0, flip_y=0.05):
    X, y = make_classification(n_samples=n, n_features=20, n_informative=8,
                               n_classes=n_classes, flip_y=flip_y, random_state=seed)
    return sp.csr_matrix(X), y


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge", "squared_error"])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("dense", [False, True])
def test_probabilities_are_distributions_and_follow_the_scores(n_classes, loss, dense):
    X, y = blobs(n_classes)
    X = X.toarray() if dense else X
    clf = LinearClassifier(loss, probability=True, **PARAMS).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], n_classes)
    assert np.all((proba >= 0.0) & (proba <= 1.0))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert clf.calibration_.shape == (1 if n_classes == 2 else n_classes, 2)
    # A useful score gets a positive slope: the probability rises with the score.
    assert np.all(clf.calibration_[:, 0] > 0)


def test_binary_probability_is_monotone_in_the_decision_value():
    X, y = blobs()
    clf = LinearClassifier(probability=True, **PARAMS).fit(X, y)
    order = np.argsort(clf.decision_function(X), kind="stable")
    positive = clf.predict_proba(X)[order, 1]
    assert np.all(np.diff(positive) >= 0.0)
    assert positive[0] < 0.5 < positive[-1]
    np.testing.assert_allclose(clf.predict_proba(X)[:, 0], 1.0 - clf.predict_proba(X)[:, 1])


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_calibrated_classifier_cv_on_the_same_folds(n_classes, loss, weighted):
    X, y = blobs(n_classes, seed=1)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0]) if weighted else None
    ours = LinearClassifier(loss, probability=True, **PARAMS).fit(X, y, sample_weight=weight)
    reference = CalibratedClassifierCV(
        LinearClassifier(loss, **PARAMS), method="sigmoid",
        cv=StratifiedKFold(5, shuffle=True, random_state=PARAMS["random_state"]),
        ensemble=False,
    ).fit(X, y, sample_weight=weight)
    # The final model is the same fit on all the data ...
    np.testing.assert_array_equal(ours.coef_, reference.calibrated_classifiers_[0].estimator.coef_)
    # ... and the sigmoids agree to the tolerance of the two L-BFGS runs.
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X),
                               rtol=0, atol=1e-6)


def test_held_out_log_loss_beats_a_sigmoid_of_the_raw_score():
    X, y = blobs(n=1000, flip_y=0.2)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                        stratify=y)
    # Averaged SGD: the last iterate of 10 epochs at alpha=1e-4 wanders (held-out log loss
    # 0.50-0.55 of the hinge model as the intercept decay or the seed change).
    params = {**PARAMS, "average": True, "solver": "sgd"}
    clf = LinearClassifier(probability=True, **params).fit(X_train, y_train)
    calibrated = log_loss(y_test, clf.predict_proba(X_test))
    naive = log_loss(y_test, expit(clf.decision_function(X_test)))
    assert calibrated < 0.9 * naive
    # No worse than logistic regression trained by the same SGD.
    logistic = LinearClassifier("log_loss", **params).fit(X_train, y_train)
    assert calibrated < log_loss(y_test, logistic.predict_proba(X_test)) + 0.02


def test_same_seed_same_calibration_and_the_seed_picks_the_folds():
    X, y = blobs()
    a = LinearClassifier(probability=True, **PARAMS).fit(X, y).calibration_
    b = LinearClassifier(probability=True, **PARAMS).fit(X, y).calibration_
    c = LinearClassifier(probability=True, **{**PARAMS, "random_state": 1}).fit(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c.calibration_)


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber", "softmax"])
def test_losses_with_probabilities_ignore_probability(loss):
    X, y = blobs(3)
    own = LinearClassifier(loss, **PARAMS).fit(X, y)
    flagged = LinearClassifier(loss, probability=True, **PARAMS).fit(X, y)
    assert not hasattr(flagged, "calibration_")
    np.testing.assert_array_equal(flagged.predict_proba(X), own.predict_proba(X))
    flagged.partial_fit(X, y)


def test_partial_fit_is_unavailable_and_says_why():
    clf = LinearClassifier(probability=True)
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError) as info:
        clf.partial_fit(*blobs(), classes=[0, 1])
    assert "calibration is fitted on held-out folds by fit" in str(info.value.__cause__)


def test_a_fit_without_probability_drops_the_calibration():
    X, y = blobs()
    clf = LinearClassifier(probability=True, **PARAMS).fit(X, y)
    clf.set_params(probability=False).fit(X, y)
    assert not hasattr(clf, "calibration_") and not hasattr(clf, "predict_proba")
    clf.set_params(probability=True)
    with pytest.raises(NotFittedError, match="fitted with probability=False: call fit again "
                                             "with probability=True"):
        clf.predict_proba(X)


def test_a_class_smaller_than_the_folds_is_refused():
    X, y = blobs()
    y = y.copy()
    y[:4] = 2
    with pytest.raises(ValueError, match=r"probability=True calibrates on 5 stratified folds, "
                                         r"but class 2 has only 4 sample\(s\): give at least "
                                         r"5 per class, or set probability=False\."):
        LinearClassifier(probability=True, **PARAMS).fit(X, y)


def test_probability_must_be_a_bool():
    with pytest.raises(ValueError, match=r"probability='yes' must be True or False\."):
        LinearClassifier(probability="yes").fit(*blobs())


def test_sample_weight_is_checked_before_the_folds_are_fitted(monkeypatch):
    X, y = blobs()
    monkeypatch.setattr("sklearn.model_selection.StratifiedKFold", None)
    with pytest.raises(ValueError, match=r"sample_weight has shape \(3,\), expected \(400,\)"):
        LinearClassifier(probability=True).fit(X, y, sample_weight=[1.0, 2.0, 3.0])


def test_class_weight_weighs_the_fold_fits_not_the_sigmoids():
    X, y = blobs(seed=2)
    params = {**PARAMS, "class_weight": "balanced"}
    ours = LinearClassifier(probability=True, **params).fit(X, y)
    reference = CalibratedClassifierCV(
        LinearClassifier(**params), method="sigmoid",
        cv=StratifiedKFold(5, shuffle=True, random_state=PARAMS["random_state"]),
        ensemble=False,
    ).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X),
                               rtol=0, atol=1e-6)


def test_sample_weight_reaches_the_folds_with_metadata_routing_on():
    X, y = blobs()
    weight = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    plain = LinearClassifier(probability=True, **PARAMS).fit(X, y, sample_weight=weight)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = LinearClassifier(probability=True, **PARAMS).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(routed.calibration_, plain.calibration_)

"""LinearClassifier: scikit-learn compatibility, behaviour, and clear errors on bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from fasttext_lin import LinearClassifier
from fasttext_lin import _sgd_kernels as K
from fasttext_lin._calibration import calibrates
from fasttext_lin._constants import fit_solver

# Checks that SGD cannot pass by design, as for scikit-learn's own SGDClassifier.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "SGD visits each row once per epoch: a row with weight 2 takes one double step, "
        "a repeated row two steps, so the models differ (as for SGDClassifier)."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "SGD visits each row once per epoch: a row with weight 2 takes one double step, "
        "a repeated row two steps, so the models differ (as for SGDClassifier)."
    ),
}
# Exact solvers given alpha: C = 1 / (alpha n_samples) changes with the row count.
ALPHA_FAILED_CHECKS = {name: (
    "alpha gives C = 1 / (alpha n_samples): repeated rows change n_samples, hence the "
    "problem; weighted and repeated rows are the same problem at a given C."
) for name in ("check_sample_weight_equivalence_on_dense_data",
               "check_sample_weight_equivalence_on_sparse_data")}
# Only for models whose probabilities come from the Platt sigmoid (probability=True).
CALIBRATED_FAILED_CHECKS = {
    "check_classifiers_train": (
        "Platt's sigmoid has its own intercept, fitted on held-out folds: argmax of "
        "predict_proba may differ from predict near the decision boundary, as for "
        "SVC(probability=True)."
    ),
    "check_fit2d_1feature": (
        "The check fits 10 samples; calibration needs 5 per class (one per held-out fold) "
        "and says so, as CalibratedClassifierCV(cv=5) does."
    ),
}


# The exact solver stops at a relative duality gap of tol, reached after a number of passes
# that depends on the row order: weighted and repeated rows stop at different points within
# tol, which the check's tolerance on coef_ does not allow (tests/test_cd.py checks the
# equivalence at tight tol).
CD_FAILED_CHECKS = {name: (
    "dual CD stops within tol of the optimum, at a point that depends on the row order: "
    "weighted and repeated rows give models equal within tol, not to the check's precision."
) for name in EXPECTED_FAILED_CHECKS}


def expected_failed_checks(estimator):
    solver = fit_solver(estimator.solver, estimator.loss)
    if solver == "newton":
        # Deterministic and exact: weighted and repeated rows give the same model with C
        # given; alpha's C = 1 / (alpha n) changes with the row count.
        return {} if estimator.C is not None else ALPHA_FAILED_CHECKS
    failed = CD_FAILED_CHECKS if solver == "cd" else EXPECTED_FAILED_CHECKS
    if calibrates(estimator.loss, estimator.probability):
        return failed | CALIBRATED_FAILED_CHECKS
    return failed


@parametrize_with_checks(
    [LinearClassifier(), LinearClassifier(loss="log_loss", solver="sgd", average=True),
     LinearClassifier(loss="modified_huber", C=1.0, learning_rate="adaptive"),
     LinearClassifier(loss="softmax"), LinearClassifier(probability=True),
     LinearClassifier(loss="squared_hinge", solver="sgd", probability=True, average=True),
     LinearClassifier(solver="sgd", n_jobs=2, average=True),
     LinearClassifier(loss="softmax", n_jobs=2, parallel="deterministic"),
     LinearClassifier(solver="cd"), LinearClassifier(solver="cd", loss="squared_hinge", n_jobs=2),
     LinearClassifier(solver="cd", loss="log_loss"),
     LinearClassifier(loss="softmax", solver="newton", C=1.0),
     LinearClassifier(loss="log_loss", solver="newton", C=1.0, n_jobs=2)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def blobs(n=300, n_classes=2, seed=0, dtype=np.float64):
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10,
                               n_classes=n_classes, random_state=seed)
    return sp.csr_matrix(X.astype(dtype)), y


def test_exact_solver_refuses_a_hard_margin():
    X, y = blobs()
    message = (r"^alpha=0 with C=None asks solver='auto' \(the exact solver 'cd'\) for a hard "
               r"margin, C = 1 / \(alpha n_samples\) = inf, which its dual cannot bound: give "
               r"alpha > 0 or a finite C, or set solver='sgd'\.$")
    params = {"alpha": 0.0, "learning_rate": "constant", "max_iter": 2, "tol": None}
    with pytest.raises(ValueError, match=message):
        LinearClassifier(**params).fit(X, y)
    # 'cd' is refused before any data is seen (a model file's loader, the command line).
    with pytest.raises(ValueError, match="asks solver='cd' "):
        LinearClassifier(solver="cd", **params).check_params()
    with pytest.raises(ValueError, match=r"asks solver='auto' \(the exact solver 'newton'\)"):
        LinearClassifier(loss="softmax", **params).fit(X, y)
    # SGD has no dual to bound: partial_fit under 'auto', a loss without an exact solver and
    # 'sgd' run.
    LinearClassifier(**params).partial_fit(X, y, classes=[0, 1])
    LinearClassifier(loss="modified_huber", **params).fit(X, y)
    assert LinearClassifier(solver="sgd", **params).fit(X, y).n_iter_ == 2


def test_auto_names_the_sgd_parameters_it_does_not_use(recwarn):
    X, y = blobs()
    LinearClassifier(random_state=0).fit(X, y)
    LinearClassifier(solver="sgd", average=True, eta0=0.1, max_iter=3, tol=None).fit(X, y)
    LinearClassifier("modified_huber", average=True, max_iter=3, tol=None).fit(X, y)
    LinearClassifier(average=True, max_iter=3, tol=None).partial_fit(X, y, classes=[0, 1])
    assert not [w for w in recwarn if w.category is UserWarning]
    # Once per fit, even with the calibration's 5 fold fits.
    with pytest.warns(UserWarning) as record:
        LinearClassifier(average=True, shuffle=False, learning_rate="adaptive", eta0=0.01,
                         probability=True, random_state=0).fit(X, y)
    assert [str(w.message) for w in record if w.category is UserWarning] == [(
        "learning_rate='adaptive', shuffle=False, average=True: SGD parameter(s) that "
        "solver='auto' does not use, as it fits loss='hinge' by the exact solver 'cd'; they "
        "apply to solver='sgd': set solver='sgd' to use them, or leave them at their defaults."
    )]


def test_worked_hinge_example_through_the_estimator():
    # bias, pretty, good, bad, plot, not, scenery
    X = np.array([[1, 0, 1, 0, 0, 1, 0], [1, 1, 0, 1, 0, 0, 0],
                  [1, 0, 1, 0, 1, 0, 0], [1, 1, 0, 0, 0, 0, 1]], dtype=float)
    clf = LinearClassifier(loss="hinge", solver="sgd", learning_rate="constant", eta0=0.1,
                           alpha=0.0, max_iter=1, tol=None, shuffle=False, fit_intercept=False)
    clf.fit(X, [-1, -1, 1, 1])
    np.testing.assert_allclose(clf.coef_[0], [0, 0, 0, -0.1, 0.1, -0.1, 0.1], atol=1e-12)
    assert clf.n_iter_ == 1 and clf.t_ == 5


def test_C_is_alpha_over_n_samples():
    X, y = blobs()
    by_c = LinearClassifier(C=0.5, random_state=0, tol=None, max_iter=5).fit(X, y)
    by_alpha = LinearClassifier(alpha=1 / (0.5 * X.shape[0]), random_state=0, tol=None,
                                max_iter=5).fit(X, y)
    np.testing.assert_array_equal(by_c.coef_, by_alpha.coef_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csr_input_reaches_the_kernel_without_copies(dtype, monkeypatch):
    X, y = blobs(dtype=dtype)
    seen = []
    epoch = K.sgd_epoch

    def spy(indptr, indices, data, *args):
        seen.append((indptr, indices, data))
        return epoch(indptr, indices, data, *args)

    monkeypatch.setattr(K, "sgd_epoch", spy)
    clf = LinearClassifier(solver="sgd", max_iter=2, tol=None).fit(X, y)
    assert len(seen) == 2
    for indptr, indices, data in seen:
        assert data is X.data
        # Unsigned views of the same memory: no wraparound checks in the kernel.
        assert np.shares_memory(indices, X.indices) and indices.dtype == np.uint32
        assert np.shares_memory(indptr, X.indptr) and indptr.dtype == np.uint32
    assert clf.coef_.dtype == dtype


def test_same_seed_same_model_and_shuffle_changes_it():
    X, y = blobs()
    a = LinearClassifier(random_state=3, max_iter=3, tol=None).fit(X, y).coef_
    b = LinearClassifier(random_state=3, max_iter=3, tol=None).fit(X, y).coef_
    c = LinearClassifier(random_state=4, max_iter=3, tol=None).fit(X, y).coef_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("loss, n_classes", [("log_loss", 2), ("softmax", 3)])
def test_partial_fit_continues_like_fit_epochs(loss, n_classes):
    X, y = blobs(n_classes=n_classes)
    params = dict(loss=loss, solver="sgd", average=True, shuffle=False, tol=None, alpha=1e-3)
    fitted = LinearClassifier(max_iter=3, **params).fit(X, y)
    streamed = LinearClassifier(**params)
    for _ in range(3):
        streamed.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-12)
    assert streamed.t_ == fitted.t_ == 3 * X.shape[0] + 1


def test_class_weight_multiplies_sample_weight():
    X, y = blobs()
    y = np.where(np.arange(y.shape[0]) < 240, 0, 1)
    balanced = LinearClassifier(class_weight="balanced", random_state=0, max_iter=5, tol=None)
    weights = np.where(y == 0, 300 / (2 * 240), 300 / (2 * 60))
    by_hand = LinearClassifier(random_state=0, max_iter=5, tol=None)
    np.testing.assert_allclose(balanced.fit(X, y).coef_,
                               by_hand.fit(X, y, sample_weight=weights).coef_, rtol=1e-12)


@pytest.mark.parametrize("loss", ["log_loss", "modified_huber"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba(loss, n_classes):
    X, y = blobs(n_classes=n_classes)
    clf = LinearClassifier(loss=loss, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # modified_huber clips scores at 1: two scores above 1 tie in predict_proba.
    top2 = np.sort(proba, axis=1)[:, -2:]
    clear = top2[:, 1] > top2[:, 0]
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(clf.classes_[proba[clear].argmax(axis=1)],
                                  clf.predict(X[clear]))
    if loss == "log_loss" and n_classes == 2:
        np.testing.assert_allclose(proba[:, 1], expit(clf.decision_function(X)))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_no_predict_proba_for_hinge_without_probability():
    clf = LinearClassifier(loss="hinge").fit(*blobs())
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError) as info:
        clf.predict_proba(blobs()[0])
    assert "set probability=True" in str(info.value.__cause__)


def test_one_vs_rest_multiclass_learns_as_well_as_liblinear():
    X, y = blobs(n=600, n_classes=4)
    clf = LinearClassifier(loss="hinge", solver="sgd", C=1.0, average=True, random_state=0)
    clf.fit(X[:450], y[:450])
    assert clf.coef_.shape == (4, 20) and clf.intercept_.shape == (4,)
    peer = LinearSVC(loss="hinge", C=1.0, max_iter=10000).fit(X[:450], y[:450])
    assert clf.score(X[450:], y[450:]) >= peer.score(X[450:], y[450:]) - 0.03


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_one_vs_rest_threads_give_the_same_model(n_jobs):
    X, y = blobs(n=400, n_classes=5)
    params = dict(loss="log_loss", solver="sgd", C=1.0, average=True, random_state=0)
    one = LinearClassifier(**params).fit(X, y)
    many = LinearClassifier(n_jobs=n_jobs, **params).fit(X, y)
    np.testing.assert_array_equal(one.coef_, many.coef_)
    np.testing.assert_array_equal(one.intercept_, many.intercept_)
    assert one.n_iter_ == many.n_iter_ and one.t_ == many.t_


def test_warm_start_starts_from_the_previous_solution():
    X, y = blobs()
    params = dict(solver="sgd", max_iter=1, tol=None, random_state=0, learning_rate="constant",
                  alpha=0.0)
    clf = LinearClassifier(warm_start=True, eta0=0.1, **params)
    first = clf.fit(X, y).coef_.copy()
    # With a vanishing step, a warm-started fit stays where it was, a cold one near zero.
    clf.set_params(eta0=1e-12)
    np.testing.assert_allclose(clf.fit(X, y).coef_, first, atol=1e-9)
    cold = LinearClassifier(eta0=1e-12, **params).fit(X, y)
    assert np.abs(cold.coef_).max() < 1e-9 < 1e-3 < np.abs(first).max()


def test_tol_stops_early_and_verbose_reports_epochs(capsys):
    X, y = blobs()
    clf = LinearClassifier(solver="sgd", tol=1e-3, n_iter_no_change=3, max_iter=1000,
                           random_state=0, verbose=1).fit(X, y)
    assert 3 < clf.n_iter_ < 1000
    assert capsys.readouterr().out.count("epoch") == clf.n_iter_


def test_works_in_pipeline_and_grid_search():
    X, y = blobs()
    search = GridSearchCV(make_pipeline(MaxAbsScaler(), LinearClassifier(random_state=0)),
                          {"linearclassifier__C": [0.1, 1.0]}, cv=3).fit(X, y)
    assert search.best_score_ > 0.7


# -- bad input ------------------------------------------------------------------------------


def test_error_lengths_differ():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[300, 299\]"):
        LinearClassifier().fit(X, y[:-1])


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_error_non_finite_X(bad, word):
    X, y = blobs()
    X.data[5] = bad
    with pytest.raises(ValueError, match=f"Input X contains {word}"):
        LinearClassifier().fit(X, y)


def test_error_single_class():
    X, _ = blobs()
    message = "at least 2 classes, got one class: every label in y is 1.0"
    with pytest.raises(ValueError, match=message):
        LinearClassifier().fit(X, np.ones(X.shape[0]))


def test_error_unseen_label_at_partial_fit():
    X, y = blobs()
    clf = LinearClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] not in classes \[0, 1\]"):
        clf.partial_fit(X, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match="classes must be given at the first call"):
        LinearClassifier().partial_fit(X, y)


def test_error_feature_count_mismatch_at_predict():
    X, y = blobs()
    clf = LinearClassifier().fit(X, y)
    with pytest.raises(ValueError, match="X has 19 features, but LinearClassifier is expecting "
                                         "20 features as input"):
        clf.predict(X[:, :19])


@pytest.mark.parametrize("params, message", [
    (dict(alpha=-1.0), "alpha == -1.0, must be >= 0.0"),
    (dict(C=-1.0), "C == -1.0, must be > 0.0"),
    (dict(C=0.0), "C == 0.0, must be > 0.0"),
    (dict(loss="hinge_loss"), "loss='hinge_loss' is not one of"),
    (dict(learning_rate="fast"), "learning_rate='fast' is not one of"),
    (dict(alpha=0.0), "alpha must be > 0 with learning_rate='optimal'"),
    (dict(learning_rate="constant", eta0=0.0), "eta0 == 0.0, must be > 0.0"),
    (dict(intercept_decay=0.0), "intercept_decay == 0.0, must be > 0.0"),
    (dict(intercept_decay=1.5), "intercept_decay == 1.5, must be <= 1.0"),
])
def test_error_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        LinearClassifier(**params).fit(*blobs())


@pytest.mark.parametrize("loss, dense, decay", [("hinge", False, 0.01), ("hinge", True, 1.0),
                                                ("softmax", False, 1.0)])
def test_auto_intercept_decay_is_sgdclassifiers_rule(loss, dense, decay):
    X, y = blobs()
    params = dict(loss=loss, solver="sgd", max_iter=3, tol=None, random_state=0)
    auto = LinearClassifier(**params).fit(X.toarray() if dense else X, y)
    fixed = LinearClassifier(intercept_decay=decay, **params).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, fixed.coef_)
    np.testing.assert_array_equal(auto.intercept_, fixed.intercept_)
    other = LinearClassifier(intercept_decay=1.01 - decay, **params).fit(X, y)
    assert not np.array_equal(auto.intercept_, other.intercept_)


@pytest.mark.parametrize("tol", [1e-3, None])
def test_error_diverging_learning_rate(tol):
    X, y = blobs()
    X = X * 1e3
    clf = LinearClassifier(loss="squared_error", learning_rate="constant", eta0=10.0, tol=tol)
    with pytest.raises(ValueError, match="non-finite in epoch 1 .* lower eta0"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_") and not hasattr(clf, "classes_")


def test_failed_partial_fit_leaves_the_model_as_it_was():
    X, y = blobs()
    clf = LinearClassifier(loss="squared_error", learning_rate="constant", eta0=1e-3)
    clf.partial_fit(X, y, classes=[0, 1])
    coef = clf.coef_.copy()
    clf.set_params(eta0=10.0)
    with pytest.raises(ValueError, match="non-finite in epoch 1"):
        clf.partial_fit(X * 1e3, y)
    np.testing.assert_array_equal(clf.coef_, coef)
    clf.set_params(eta0=1e-3).partial_fit(X, y)
    assert np.isfinite(clf.coef_).all()


def test_error_malformed_csr_is_refused_before_the_kernel():
    X, y = blobs()
    bad = sp.csr_matrix((X.data, X.indices.copy(), X.indptr), shape=X.shape)
    bad.indices[7] = 25
    with pytest.raises(ValueError, match="indices must be < 20"):
        LinearClassifier().fit(bad, y)
    clf = LinearClassifier().fit(X, y)
    with pytest.raises(ValueError, match="indices must be < 20"):
        clf.predict(bad)


def test_error_sample_weight_shape():
    X, y = blobs()
    with pytest.raises(ValueError, match=r"sample_weight has shape \(3,\), expected \(300,\)"):
        LinearClassifier().fit(X, y, sample_weight=[1, 2, 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [3, 400])  # fewer / more nonzeros than coef has columns
def test_linear_scores_by_rows_of_coef_equal_one_product(dtype, n_rows):
    from fasttext_lin.linear_model import linear_scores

    rng = np.random.default_rng(0)
    X = sp.random(n_rows, 500, density=0.02, format="csr", random_state=1, dtype=dtype)
    coef = rng.normal(size=(4, 500))
    assert (X.nnz < coef.shape[1]) == (n_rows == 3)
    got = linear_scores(X, coef)
    np.testing.assert_allclose(got, X.toarray().astype(np.float64) @ coef.T, rtol=1e-6,
                               atol=1e-12)
    assert got.shape == (n_rows, 4) and got.dtype == np.float64
    np.testing.assert_allclose(linear_scores(X, coef[:1]), X.toarray() @ coef[:1].T,
                               rtol=1e-6, atol=1e-12)

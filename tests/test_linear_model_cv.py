"""LinearClassifierCV: the start of the path, the warm path against cold fits, the choice
against scikit-learn's cross_val_score, the stopping rule, threads, weights and errors."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from fasttext_lin import LinearClassifier, LinearClassifierCV

EXACT = dict(solver="cd", tol=1e-10, max_iter=100_000, random_state=0)


def problem(n=200, n_classes=2, seed=0, weights=None):
    X, y = make_classification(n_samples=n, n_features=12, n_informative=6,
                               n_classes=n_classes, weights=weights, random_state=seed)
    return sp.csr_matrix(X), y


def folds_of(X, y, k=3):
    return list(StratifiedKFold(k, shuffle=True, random_state=1).split(X, y))


# A row of weight 2 lies in one fold, a repeated row may lie in two: the folds differ.
_FOLDS_SPLIT_ROWS = "the CV folds split a repeated row, not a row of weight 2"
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": _FOLDS_SPLIT_ROWS,
    "check_sample_weight_equivalence_on_sparse_data": _FOLDS_SPLIT_ROWS,
}
# The check's weights (1000 and 1e-4) must dominate the model; the path's largest Cs give
# even the class of weight 1e-4 a say, and unweighted accuracy may choose them.
EXPECTED_FAILED_PATH_CHECKS = {
    **EXPECTED_FAILED_CHECKS,
    "check_class_weight_classifiers": "C chosen by unweighted accuracy along the whole path",
}


@parametrize_with_checks(
    [LinearClassifierCV(cv=2, random_state=0),
     LinearClassifierCV(Cs=[0.1, 10.0], losses="hinge", cv=3, n_jobs=2, random_state=0)],
    expected_failed_checks=lambda estimator: (
        EXPECTED_FAILED_PATH_CHECKS if estimator.Cs == "auto" else EXPECTED_FAILED_CHECKS),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("case", [
    dict(),
    dict(n_classes=3),
    dict(weights=[0.8], class_weight="balanced"),
    dict(sample_weight=True, intercept_scaling=3.0),
    dict(fit_intercept=False),
])
def test_c_min_is_where_the_hinge_model_stops_being_constant(case):
    case = dict(case)
    X, y = problem(n_classes=case.pop("n_classes", 2), weights=case.pop("weights", None))
    weight = (np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
              if case.pop("sample_weight", False) else None)
    C_min = LinearClassifierCV(Cs=1, losses="hinge", cv=2, **case).fit(
        X, y, sample_weight=weight).C_min_

    def fit(C):
        return LinearClassifier(C=C, **EXACT, **case).fit(X, y, sample_weight=weight)

    s = np.ones(y.shape[0]) if weight is None else weight
    if case.get("class_weight"):
        from sklearn.utils.class_weight import compute_class_weight

        per_class = compute_class_weight("balanced", classes=np.unique(y), y=y)
        s = s * per_class[np.searchsorted(np.unique(y), y)]
    below, lower = fit(0.999 * C_min), fit(0.25 * C_min)
    # Below C_min every dual variable sits at its bound C s_i and w = C v: the scores
    # scale with C, the predictions do not change.
    np.testing.assert_allclose(below.dual_coef_, np.broadcast_to(0.999 * C_min * s,
                                                                  below.dual_coef_.shape),
                               rtol=1e-9)
    np.testing.assert_allclose(below.decision_function(X) / 0.999,
                               lower.decision_function(X) / 0.25, rtol=1e-6, atol=1e-12)
    above = fit(1.01 * C_min)
    slack = 1.01 * C_min * s - above.dual_coef_
    assert slack.max() > 1e-3 * C_min


def test_warm_path_equals_cold_fits_at_each_c():
    X, y = problem(n_classes=3)
    folds = folds_of(X, y)
    seen = []

    def record(model, X_test, y_test):
        seen.append((model.C, model.coef_.copy(), model.intercept_.copy()))
        return model.score(X_test, y_test)

    Cs = [0.003, 0.03, 0.3, 3.0]
    cv = LinearClassifierCV(Cs=Cs, losses="hinge", cv=folds, scoring=record, tol=1e-9,
                            path_tol=None, max_iter=100_000, random_state=0).fit(X, y)
    assert len(seen) == len(Cs) * len(folds)
    for step, C in enumerate(Cs):
        for k, (train, _) in enumerate(folds):
            _, coef, intercept = seen[step * len(folds) + k]
            cold = LinearClassifier(C=C, **{**EXACT, "tol": 1e-9}).fit(X[train], y[train])
            scale = np.abs(cold.coef_).max()
            np.testing.assert_allclose(coef, cold.coef_, atol=1e-3 * scale)
            np.testing.assert_allclose(intercept, cold.intercept_, atol=1e-3 * scale)
    assert cv.cv_results_["param_C"].tolist() == Cs


@pytest.mark.parametrize("weighted", [False, True])
def test_choice_is_what_a_cross_val_score_loop_picks(weighted):
    X, y = problem(n=240, seed=3)
    folds = folds_of(X, y, k=4)
    weight = np.random.default_rng(2).uniform(0.2, 3.0, y.shape[0]) if weighted else None
    Cs, losses = [0.001, 0.01, 0.1, 1.0, 10.0], ["squared_hinge", "hinge"]
    cv = LinearClassifierCV(Cs=Cs, losses=losses, cv=folds, tol=1e-10, path_tol=None,
                            max_iter=100_000, random_state=0).fit(X, y, sample_weight=weight)
    means = []
    for loss in losses:
        for C in Cs:
            model = LinearClassifier(loss=loss, C=C, solver="auto", tol=1e-10,
                                     max_iter=100_000, random_state=0)
            scores = cross_val_score(model, X, y, cv=folds,
                                     params={"sample_weight": weight} if weighted else None)
            means.append(scores.mean())
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"], means, atol=1e-12)
    best = int(np.argmax(means))
    assert (cv.loss_, cv.C_) == (losses[best // len(Cs)], Cs[best % len(Cs)])
    assert cv.best_score_ == pytest.approx(means[best])
    refit = LinearClassifier(loss=cv.loss_, C=cv.C_, **EXACT).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(cv.coef_, refit.coef_, rtol=1e-4, atol=1e-6)
    assert cv.cv_results_["rank_test_score"][best] == 1
    assert [p["loss"] for p in cv.cv_results_["params"]] == [loss for loss in losses for _ in Cs]


def test_path_stops_after_n_iter_no_change_steps_without_improvement():
    X, y = problem()
    C_min = LinearClassifierCV(Cs=1, losses="hinge", cv=2).fit(X, y).C_min_
    # Scripted scores by path step: a plateau at the start (not counted), a best at step
    # 4, then no improvement.
    script = [0.5, 0.5, 0.5, 0.6, 0.7, 0.65, 0.7, 0.69, 0.5, 0.9, 0.9]

    def scripted(model, X_test, y_test):
        return script[round(np.log2(model.C / C_min))]

    cv = LinearClassifierCV(losses="hinge", cv=2, scoring=scripted, factor=2.0,
                            n_iter_no_change=3, random_state=0).fit(X, y)
    np.testing.assert_allclose(cv.Cs_["hinge"], C_min * 2.0 ** np.arange(8))
    assert cv.C_ == pytest.approx(C_min * 2 ** 4) and cv.best_score_ == 0.7
    # factor 4: every other step of the same script.
    quarter = LinearClassifierCV(losses="hinge", cv=2, scoring=scripted, factor=4.0,
                                 n_iter_no_change=1, random_state=0).fit(X, y)
    np.testing.assert_allclose(quarter.Cs_["hinge"], C_min * 4.0 ** np.arange(4))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n_classes", [2, 3])
def test_n_jobs_does_not_change_the_result(n_classes):
    X, y = problem(n=300, n_classes=n_classes)
    kwargs = dict(Cs=4, cv=3, random_state=0, max_iter=30)
    one = LinearClassifierCV(n_jobs=1, **kwargs).fit(X, y)
    two = LinearClassifierCV(n_jobs=2, **kwargs).fit(X, y)
    for key in ("param_C", "mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_array_equal(one.cv_results_[key], two.cv_results_[key])
    assert (one.loss_, one.C_) == (two.loss_, two.C_)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    assert list(one.cv_results_["param_loss"][:1]) == ["hinge"]
    assert set(one.Cs_) == {"hinge", "log_loss" if n_classes == 2 else "softmax"}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_delegates_the_classifier_api():
    X, y = problem(n_classes=3)
    cv = LinearClassifierCV(Cs=[0.1, 1.0], losses=["log_loss"], cv=2, random_state=0)
    cv.fit(X.toarray(), y)
    assert cv.n_features_in_ == 12 and cv.classes_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(cv.predict(X), cv.best_estimator_.predict(X))
    np.testing.assert_allclose(cv.predict_proba(X).sum(axis=1), 1.0)
    assert cv.coef_.shape == (3, 12) and cv.intercept_.shape == (3,)
    hinge = LinearClassifierCV(Cs=[1.0], losses="hinge", cv=2).fit(X, y)
    assert not hasattr(hinge, "predict_proba")


def test_convergence_warnings_of_the_path_come_as_one():
    X, y = problem()
    with pytest.warns(ConvergenceWarning, match=r"^\d+ fit\(s\) on the C path stopped") as w:
        LinearClassifierCV(Cs=[100.0, 1000.0], losses="hinge", cv=2, max_iter=1,
                           tol=1e-12).fit(X, y)
    assert sum("on the C path" in str(x.message) for x in w) == 1


@pytest.mark.parametrize("params, message", [
    (dict(Cs="many"), r"Cs='many' is invalid: give 'auto', an int"),
    (dict(Cs=0), r"Cs == 0, must be >= 1"),
    (dict(Cs=[]), r"Cs=\[\] is invalid"),
    (dict(Cs=[1.0, -1.0]), r"Cs=\[1.0, -1.0\] is invalid"),
    (dict(losses="nope"), r"losses='nope' is invalid: give 'auto', a loss or a list"),
    (dict(losses=["hinge", "hinge"]), r"losses=\['hinge', 'hinge'\] is invalid"),
    (dict(losses=[]), r"losses=\[\] is invalid"),
    (dict(factor=1.0), r"factor == 1.0, must be > 1.0"),
    (dict(n_iter_no_change=0), r"n_iter_no_change == 0, must be >= 1"),
    (dict(solver="lbfgs"), r"solver='lbfgs' is not one of"),
    (dict(solver="cd", losses=["modified_huber"]), r"solver='cd' trains loss"),
])
def test_bad_parameters_are_refused_in_one_line(params, message):
    X, y = problem(n=40)
    with pytest.raises((ValueError, TypeError), match=message) as info:
        LinearClassifierCV(**params).fit(X, y)
    assert "\n" not in str(info.value)


def test_one_class_is_refused():
    X, _ = problem(n=20)
    with pytest.raises(ValueError, match="needs samples of at least 2 classes"):
        LinearClassifierCV().fit(X, np.zeros(20))


@pytest.mark.parametrize("n_classes, n_features, expected", [
    (2, 12, ("hinge", "log_loss")), (2, 400, ("hinge", "log_loss")),
    (3, 12, ("hinge", "softmax")), (3, 300, ("hinge",)), (3, 400, ("hinge",))])
def test_auto_losses_leave_out_softmax_on_wide_multiclass_data(n_classes, n_features,
                                                               expected):
    X, y = make_classification(n_samples=300, n_features=n_features, n_informative=6,
                               n_classes=n_classes, random_state=0)
    model = LinearClassifierCV(Cs=3, cv=3, random_state=0).fit(sp.csr_matrix(X), y)
    assert tuple(model.Cs_) == expected
    assert set(model.cv_results_["param_loss"]) == set(expected)


def test_fits_on_the_folds_stop_at_path_tol_and_the_refit_at_tol():
    X, y = problem()
    tols = []

    def record(model, X_test, y_test):
        tols.append(model.tol)
        return model.score(X_test, y_test)

    cv = LinearClassifierCV(Cs=3, losses="hinge", cv=3, scoring=record, tol=1e-6,
                            random_state=0).fit(X, y)
    assert tols == [1e-2] * 9
    assert cv.best_estimator_.tol == 1e-6
    tols.clear()
    LinearClassifierCV(Cs=3, losses="hinge", cv=3, scoring=record, tol=1e-6, path_tol=None,
                       random_state=0).fit(X, y)
    assert tols == [1e-6] * 9


def test_the_path_and_the_refit_warn_about_nothing(recwarn):
    # The folds' fits and the refit set no SGD parameter that the exact solver leaves unused.
    X, y = problem(n_classes=3)
    LinearClassifierCV(Cs=3, cv=3, n_jobs=2, random_state=0).fit(X, y)
    assert [str(w.message) for w in recwarn] == []


@pytest.mark.parametrize("factor", [2.0, 4.0, 10.0])
def test_the_auto_path_spans_2_to_the_49_whatever_the_factor(factor):
    from fasttext_lin._path import path_Cs

    Cs, patience = path_Cs(1.0, "auto", factor, 3)
    assert patience == 3 and Cs[0] == 1.0
    assert Cs[-1] <= 2.0 ** 49 * (1 + 1e-9) < Cs[-1] * factor


def test_fold_mean_duals_is_each_rows_mean_over_its_training_folds():
    from fasttext_lin.model_selection import fold_mean_duals

    folds = [(np.array([0, 1, 2]), np.array([3])), (np.array([1, 3]), np.array([0, 2]))]
    duals = [np.array([[1.0, 2.0, 3.0]]), np.array([[4.0, 6.0]])]
    np.testing.assert_array_equal(fold_mean_duals(duals, folds, 5), [[1.0, 3.0, 3.0, 6.0, 0.0]])
    assert fold_mean_duals([duals[0], None], folds, 5) is None  # a fold without duals
    assert fold_mean_duals([duals[0], np.ones((2, 2))], folds, 5) is None  # other problems
    assert fold_mean_duals((), folds, 5) is None


@pytest.mark.parametrize("loss,n_classes", [("hinge", 2), ("hinge", 3), ("log_loss", 2)])
def test_the_cd_refit_starts_from_the_folds_duals_and_reaches_the_same_optimum(
        monkeypatch, loss, n_classes):
    from fasttext_lin import linear_model

    starts = []
    train = linear_model._SOLVERS["cd"]

    def recording(est, X, *args):
        starts.append(vars(est).get("_dual_coef") if est.warm_start else None)
        return train(est, X, *args)

    monkeypatch.setitem(linear_model._SOLVERS, "cd", recording)
    X, y = problem(n=400, n_classes=n_classes, seed=4)
    kwargs = dict(Cs=[0.05, 0.5, 5.0], losses=loss, cv=3, solver="cd", tol=1e-8,
                  max_iter=100_000, random_state=0)
    cv = LinearClassifierCV(**kwargs).fit(X, y)
    # The refit (the last fit) started from the folds' mean duals: one per row and problem,
    # within the bounds, each row's from the folds that trained on it.
    start = starts[-1]
    assert start is not None and start.shape == (1 if n_classes == 2 else n_classes, 400)
    assert np.all((start >= 0.0) & (start <= cv.C_)) and np.count_nonzero(start) > 100
    cold = LinearClassifier(loss=cv.loss_, C=cv.C_, **{**EXACT, "tol": 1e-8}).fit(X, y)
    scale = np.abs(cold.coef_).max()
    np.testing.assert_allclose(cv.coef_, cold.coef_, atol=1e-3 * scale)
    assert cv.best_estimator_.duality_gap(X, y).relative_gap <= 1e-8
    assert cv.best_estimator_.warm_start is False

"""LinearClassifier's parameter and label validation at the edges: nan and inf parameters,
extreme C, class weights, warm starts on other data, and labels numpy would change."""

import re

import numpy as np
import pytest
import scipy.sparse as sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin import _sgd_kernels as K
from fasttext_lin.linear_model import LinearClassifier
from fasttext_lin.nbsvm import NBSVM

N_ROWS = 40


def data(n_features=3):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, n_features))
    return X, (X[:, 0] > 0).astype(int)


def fit(X=None, y=None, **params):
    if X is None:
        X, y = data()
    return LinearClassifier(**{"max_iter": 3, "tol": None, "random_state": 0, **params}).fit(X, y)


def raises(message):
    return pytest.raises(ValueError, match="^" + re.escape(message))


@pytest.mark.parametrize("name, value, extra, rule", [
    (name, value, extra, rule) for name, extra, rule in [
        ("alpha", {}, " >= 0.0."), ("C", {}, " > 0.0."),
        ("eta0", {"learning_rate": "constant"}, " > 0.0."),
        ("power_t", {"learning_rate": "invscaling"}, "."), ("tol", {}, "."),
        ("intercept_decay", {}, " > 0.0 and <= 1.0."),
    ] for value in (np.nan, np.inf)
    if (name, value) != ("intercept_decay", np.inf)  # above its bound: check_scalar says so
])
def test_non_finite_parameter_is_refused(name, value, extra, rule):
    with raises(f"{name}={value!r} is invalid: give a finite number{rule}"):
        fit(**{name: value}, **extra)


def test_bool_for_a_number_is_refused():
    with raises("C=True is invalid: give a finite number > 0.0."):
        fit(C=True)


@pytest.mark.parametrize("params, message", [
    (dict(average=2.5), "average=2.5 is invalid: give True, False or the int number of samples"),
    (dict(average=np.nan), "average=nan is invalid"),
    (dict(shuffle="yes"), "shuffle='yes' must be True or False."),
    (dict(fit_intercept=1), "fit_intercept=1 must be True or False."),
    (dict(warm_start=None), "warm_start=None must be True or False."),
    (dict(class_weight="auto"), "class_weight='auto' is invalid: give None, 'balanced' or a dict"),
])
def test_degenerate_parameter_is_refused(params, message):
    with raises(message):
        fit(**params)


def test_verbose_must_be_an_int():
    with pytest.raises(TypeError, match="verbose must be an instance of int"):
        fit(verbose=np.nan)


@pytest.mark.parametrize("C, alpha", [(1e-320, "inf"), (1e308, "0.0")])
def test_C_whose_alpha_overflows_names_the_usable_range(C, alpha):
    big = np.finfo(np.float64).max
    message = (f"C={C!r} gives alpha = 1 / (C * n_samples) = {alpha} for n_samples={N_ROWS}: "
               f"give C between {1.0 / big / N_ROWS:.3g} and {big / N_ROWS:.3g}.")
    with raises(message):
        fit(C=C)
    with raises(message):
        LinearClassifier(C=C).partial_fit(*data(), classes=[0, 1])


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "modified_huber", "squared_error",
                                  "softmax"])
def test_tiny_C_trains_to_zero_weights(loss):
    # alpha = 1/(C n) ~ 2.5e298: the minimiser is w ~ 1/alpha, and the 'optimal' t0
    # (~1e-224) is below the rounding of t: the first step must still be finite.
    clf = fit(C=1e-300, loss=loss, n_jobs=1)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert np.abs(clf.coef_).max() < 1e-290


@settings(max_examples=25, deadline=None)
@given(st.floats(-300, 300), st.sampled_from(["hinge", "log_loss", "softmax"]),
       st.sampled_from(["optimal", "constant", "invscaling"]))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_any_representable_C_trains_or_names_the_fix(log_C, loss, schedule):
    try:
        clf = fit(C=10.0 ** log_C, loss=loss, learning_rate=schedule, solver="sgd")
    except ValueError as error:
        # Weak regularisation may diverge: the per-epoch check names the fix.
        assert str(error).startswith("The weights became non-finite in epoch"), error
    else:
        assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    if loss == "softmax":
        return
    try:
        clf = fit(C=10.0 ** log_C, loss=loss, solver="cd")
    except ValueError as error:
        # Log loss at a huge C leaves float64's range; the error names C and the fix.
        assert re.match(r"The duality gap became non-finite in pass \d+ \(problem 1\): "
                        r"C s_i \|\|x_i\|\|\^2 is up to \S+, too large for solver='cd'; "
                        r"lower C \(raise alpha\)", str(error)), error
        assert log_C > 30, error
        return
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))


def test_optimal_step_at_t1_is_exact_for_t0_below_rounding():
    alpha, t0 = 2.5e298, 1.6e-224
    eta = K.learning_rate(K.OPTIMAL, 1.0, 0.0, alpha, 0.5, t0)
    assert eta == 1.0 / (alpha * t0)


def test_rows_too_large_for_any_stable_step():
    X, y = data()
    with raises("learning_rate='optimal' has no usable first step for alpha=0.0001 and rows "
                "with s_i ||x_i||^2 up to inf: scale the features"):
        fit(X * 1e200, y, loss="log_loss", solver="sgd")
    with raises("The duality gap became non-finite in pass 1 (problem 1): C s_i ||x_i||^2 is "
                "up to inf, too large for solver='cd'; lower C (raise alpha), or scale the "
                "features (or sample weights) down."):
        fit(X * 1e200, y, loss="log_loss", solver="cd")
    for loss in ("log_loss", "softmax"):
        with raises("The objective, its gradient or its Hessian is not finite: C s_i "
                    "||x_i||^2 is too large for solver='newton'; lower C (raise alpha), or "
                    "scale the features (or sample weights) down."):
            fit(X * 1e200, y, loss=loss, solver="newton")


@pytest.mark.parametrize("value", [-1.0, np.nan, np.inf, "a"])
def test_bad_class_weight_names_the_class(value):
    with raises(f"class_weight[0]={value!r} is invalid: class weights must be finite numbers "
                ">= 0"):
        fit(class_weight={0: value, 1: 1.0})


def test_class_weight_zero_for_every_sample_is_refused():
    with raises("class_weight={0: 0.0, 1: 0.0} gives every sample weight 0: nothing to learn"):
        fit(class_weight={0: 0.0, 1: 0.0})
    fit(class_weight={0: 0.0, 1: 1.0})  # one class left out is a weighting, not an error


@pytest.mark.parametrize("loss", ["hinge", "softmax"])
def test_warm_start_on_another_feature_count(loss):
    X, y = data()
    clf = fit(X, y, loss=loss, warm_start=True)
    coef = clf.coef_.copy()
    with raises("X has 2 features, but LinearClassifier is expecting 3 features as input: "
                "warm_start=True continues the model fitted on 3 features; give X with 3 "
                "columns, or set warm_start=False to start again."):
        clf.fit(X[:, :2], y)
    # The model is left as it was, and still predicts.
    assert clf.n_features_in_ == 3
    np.testing.assert_array_equal(clf.coef_, coef)
    assert clf.predict(X).shape == y.shape
    clf.set_params(warm_start=False).fit(X[:, :2], y)
    assert clf.coef_.shape[1] == 2


def test_partial_fit_on_another_feature_count():
    X, y = data()
    clf = LinearClassifier().partial_fit(X, y, classes=[0, 1])
    with raises("X has 2 features, but LinearClassifier is expecting 3 features as input"):
        clf.partial_fit(X[:, :2], y)


def mixed(y, other):
    labels = np.array(["pos", "neg"])[y].astype(object)
    labels[1] = other
    return labels


@pytest.mark.parametrize("as_list", [False, True])
@pytest.mark.parametrize("other, kind", [(1, "int"), (np.int64(1), "int64"),
                                         (np.nan, "float"), (None, "NoneType")])
def test_labels_mixing_str_and_another_type(other, kind, as_list):
    X, y = data()
    labels = mixed(y, other)
    with raises(f"y mixes labels of type str ('neg') and {kind} ({other!r}): convert all "
                "labels to str, e.g. [str(label) for label in y]."):
        fit(X, list(labels) if as_list else labels)


@pytest.mark.parametrize("as_list", [False, True])
def test_labels_with_nul_are_refused(as_list):
    X, y = data()
    labels = mixed(y, "pos\x00")
    with raises("y holds the label 'pos\\x00': labels must not contain NUL characters"):
        fit(X, list(labels) if as_list else labels)


def test_partial_fit_checks_its_labels_and_classes():
    X, y = data()
    labels = np.array(["neg", "pos"])[y]
    with raises("classes mixes labels of type str ('pos') and int (0)"):
        LinearClassifier().partial_fit(X, labels, classes=[0, "pos"])
    with raises("classes holds the label 'neg\\x00'"):
        LinearClassifier().partial_fit(X, labels, classes=["neg\x00", "pos"])
    clf = LinearClassifier().partial_fit(X, labels, classes=["neg", "pos"])
    with raises("y mixes labels of type str"):
        clf.partial_fit(X, mixed(y, 1))


@pytest.mark.parametrize("labels", [
    ["neg", "pos"], np.array(["neg", "pos"]), [0, 1], [0.0, 1.0], [True, False],
    np.array(["neg", "pos"], dtype=object), [np.str_("neg"), "pos"],
])
def test_well_formed_labels_are_kept(labels):
    X, y = data()
    clf = fit(X, np.asarray(labels, dtype=object)[y].tolist())
    assert sorted(clf.classes_.tolist()) == sorted(set(np.asarray(labels).tolist()))


def test_nbsvm_refuses_non_finite_C():
    X, y = data()
    with raises("C=nan is invalid: give a finite number > 0.0."):
        NBSVM(C=np.nan).fit(np.abs(X), y)


@pytest.mark.parametrize("y, match", [
    (["pos", 1, "neg", "pos"], "mixes labels of type str"),
    (["pos\x00", "neg", "neg", "pos\x00"], "NUL"),
])
def test_nbsvm_refuses_the_labels_linear_classifier_refuses(y, match):
    X = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=match):
        NBSVM().fit(X, y)

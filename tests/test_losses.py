"""The binary losses: the kernels' derivative against finite differences of their value, exact
values at hand-computed points, and the objective LinearClassifier reports against a NumPy
computation on the same weights."""

import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fasttext_lin import LinearClassifier
from fasttext_lin._sgd_kernels import LOSS_CODES, loss_derivative, loss_value
from fasttext_lin.datasets import load_libsvm

BINARY = ("hinge", "squared_hinge", "log_loss", "modified_huber", "squared_error")
# Margins z = p y where a loss changes its formula: hinge has a kink at 1; the others are
# smooth there, but a finite difference straddling the change loses its accuracy; log_loss
# switches to its asymptotes beyond |z| = 18, with a jump of about 1.5e-8 at -18.
BREAKS = {"hinge": (1.0,), "squared_hinge": (1.0,), "log_loss": (-18.0, 18.0),
          "modified_huber": (-1.0, 1.0), "squared_error": ()}
H = 1e-6


def _value(loss, p, y):
    return loss_value(LOSS_CODES[loss], p, y)


def _derivative(loss, p, y):
    return loss_derivative(LOSS_CODES[loss], p, y)


@settings(max_examples=300, deadline=None)
@given(loss=st.sampled_from(BINARY), p=st.floats(-40.0, 40.0),
       sign=st.sampled_from([-1.0, 1.0]), target=st.floats(-3.0, 3.0))
def test_derivative_is_the_slope_of_the_loss(loss, p, sign, target):
    y = target if loss == "squared_error" else sign
    assume(all(abs(p * y - z) > 1e-3 for z in BREAKS[loss]))
    slope = (_value(loss, p + H, y) - _value(loss, p - H, y)) / (2 * H)
    # Rounding error of the difference: about 1e-16 |L| / H.
    assert _derivative(loss, p, y) == pytest.approx(slope, rel=1e-6,
                                                    abs=1e-7 * max(1.0, _value(loss, p, y)))


@pytest.mark.parametrize("loss, p, y, value, derivative", [
    ("hinge", 0.25, 1.0, 0.75, -1.0),
    ("hinge", -0.5, -1.0, 0.5, 1.0),
    ("hinge", -1.5, -1.0, 0.0, 0.0),
    ("hinge", 1.0, 1.0, 0.0, 0.0),  # no step exactly on the margin
    ("squared_hinge", 0.25, 1.0, 0.5625, -1.5),
    ("squared_hinge", 0.5, -1.0, 2.25, 3.0),
    ("log_loss", 0.0, 1.0, np.log(2.0), -0.5),
    ("log_loss", np.log(3.0), -1.0, np.log(4.0), 0.75),  # sigmoid(log 3) = 3/4
    ("log_loss", 40.0, 1.0, np.exp(-40.0), -np.exp(-40.0)),
    ("log_loss", 40.0, -1.0, 40.0, 1.0),
    ("modified_huber", 0.0, 1.0, 1.0, -2.0),
    ("modified_huber", -2.0, 1.0, 8.0, -4.0),
    ("modified_huber", 2.0, -1.0, 8.0, 4.0),
    ("modified_huber", 1.5, 1.0, 0.0, 0.0),
    ("squared_error", 2.0, 0.5, 1.125, 1.5),
])
def test_hand_computed_values(loss, p, y, value, derivative):
    assert _value(loss, p, y) == pytest.approx(value, rel=1e-14)
    assert _derivative(loss, p, y) == pytest.approx(derivative, rel=1e-14)


def _numpy_loss(loss, z, y):
    """The loss of score ``z`` for targets ``y`` in {-1, +1}, from the textbook definitions."""
    margin = z * y
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - margin)
    if loss == "squared_hinge":
        return np.maximum(0.0, 1.0 - margin) ** 2
    if loss == "log_loss":
        return np.logaddexp(0.0, -margin)
    if loss == "modified_huber":
        return np.where(margin >= -1.0, np.maximum(0.0, 1.0 - margin) ** 2, -4.0 * margin)
    return 0.5 * (z - y) ** 2


@pytest.fixture(scope="module")
def a9a_head(tiny_data):
    return load_libsvm(tiny_data / "a9a" / "a9a", n_features=123)


@pytest.mark.parametrize("loss", BINARY)
def test_reported_objective_is_the_objective_of_the_weights(loss, a9a_head, capsys):
    """One more epoch of steps too small to move the weights: the objective printed for it is
    the weighted mean loss plus ``alpha/2 ||w||^2`` at the fitted weights."""
    X, y = a9a_head
    weight = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    alpha = 0.01
    clf = LinearClassifier(loss, solver="sgd", alpha=alpha, max_iter=5, tol=None,
                           random_state=0)
    clf.fit(X, y, sample_weight=weight)
    capsys.readouterr()
    clf.set_params(warm_start=True, learning_rate="constant", eta0=1e-12, max_iter=1, verbose=1)
    clf.fit(X, y, sample_weight=weight)
    reported = re.fullmatch(r"-- Problem 1, epoch 1: objective (\S+), .*\n",
                            capsys.readouterr().out)
    w, b = clf.coef_[0], clf.intercept_[0]
    target = np.where(y == clf.classes_[1], 1.0, -1.0)
    expected = np.mean(weight * _numpy_loss(loss, X @ w + b, target)) + 0.5 * alpha * w @ w
    assert 0.5 * alpha * w @ w > 1e-3 * expected  # the penalty term counts
    assert float(reported.group(1)) == pytest.approx(expected, rel=1e-5)  # printed to 6 digits

"""The model state of a linear classifier trained by SGD: its arrays and the few operations
the estimator, the thread runners, model files, streaming and Dask need.

Two siblings implement :class:`ModelState`: :class:`BinaryState`, one weight vector per
binary (one-vs-rest) problem, and :class:`SoftmaxState`, one multinomial model of all the
classes. A state is three arrays, stored in model files as ``sgd_v``, ``sgd_u`` and
``sgd_state``:

- ``v``: the unscaled weights in X's dtype (the weights are ``state[:, SCALE] * v``);
- ``u``: float64, the averaging accumulator, laid out as ``v`` (0 columns wide when not
  averaging);
- ``state``: float64 ``(n_rows, STATE_SIZE)``, the kernels' scalars (scale, intercept, step
  count, averaging sums), the slots named in :mod:`._sgd_kernels`.
"""

from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np

from . import _sgd_kernels as K
from . import _softmax_kernels as S

# Features per block when the softmax solution is read out (SoftmaxState.solution).
SOLUTION_BLOCK = 4096
_AVERAGING_SLOTS = [K.AVG_C, K.AVG_INTERCEPT, K.AVG_N]


class EpochParams(NamedTuple):
    """The scalars of one SGD epoch, as the kernels take them (after the arrays)."""

    loss: int  # a code of _sgd_kernels.LOSS_CODES; unused by the softmax kernels
    schedule: int  # a code of _sgd_kernels.SCHEDULE_CODES
    alpha: float
    eta0: float
    power_t: float
    optimal_t0: float
    intercept_decay: float
    average_start: int  # -1: no averaging
    track_loss: bool

    def min_scale(self):
        """The L2 scale below which the kernels fold it into the weights."""
        return K.MIN_SCALE_AVERAGING if self.average_start >= 0 else K.MIN_SCALE


class ModelState(ABC):
    """The SGD variables of a model, kept across :meth:`partial_fit` calls.

    A model has ``n_problems`` problems, each trained on its own (one-vs-rest), or one
    (the softmax model). Problem ``k`` is seen by the thread runners through
    :meth:`views`, :meth:`run` and :meth:`run_segment`.
    """

    def __init__(self, v, u, state):
        self.v, self.u, self.state = v, u, state

    # -- the layout: each sibling's own -------------------------------------------------------

    n_problems: int

    @staticmethod
    @abstractmethod
    def shapes(n_classes, n_features):
        """Shapes of ``v`` and ``state`` for ``n_classes`` classes and ``n_features``
        features."""

    @abstractmethod
    def views(self, k):
        """``(v, u, state)`` of problem ``k``: ``v`` and ``u`` 1-D views, ``state`` a 2-D
        view (one row, or one per softmax class, the shared scalars in every row)."""

    @staticmethod
    @abstractmethod
    def run(csr, target, weight, rows, v, u, state, params):
        """Run one serial epoch of a problem (its :meth:`views`) over ``rows`` with the
        :class:`EpochParams` ``params``; return the loss sum."""

    @staticmethod
    @abstractmethod
    def run_segment(csr, target, weight, rows, v, u, last, state, local, out, params):
        """Run one thread's Hogwild segment of a problem over ``rows``."""

    @abstractmethod
    def squared_norm(self, k):
        """``||w||^2`` of problem ``k``."""

    @abstractmethod
    def intercepts(self, k):
        """The intercept(s) of problem ``k``."""

    @abstractmethod
    def set_solution(self, coef, intercept):
        """Start from ``coef`` and ``intercept`` (as :meth:`solution` returns them)."""

    @abstractmethod
    def solution(self):
        """Return ``(coef, intercept)``, one row per class or problem: the averaged weights
        where averaging ran."""

    @abstractmethod
    def coef_intercept(self):
        """Return the estimator's ``(coef_, intercept_)``."""

    # -- common to both -----------------------------------------------------------------------

    @classmethod
    def zeros(cls, n_classes, n_features, dtype, average):
        """A model at zero, step count 1, with an averaging accumulator if ``average``."""
        v_shape, state_shape = cls.shapes(n_classes, n_features)
        state = np.zeros(state_shape)
        state[:, K.SCALE] = 1.0
        state[:, K.T] = 1.0
        u = np.zeros(v_shape if average else (v_shape[0], 0))
        return cls(np.zeros(v_shape, dtype=dtype), u, state)

    @classmethod
    def from_solution(cls, coef, intercept, n_classes, t):
        """A state that continues from ``coef`` and ``intercept`` (as the estimator's
        ``coef_`` and ``intercept_``) at step count ``t``, no averaging yet."""
        state = cls.zeros(n_classes, coef.shape[1], coef.dtype, False)
        state.set_solution(coef, intercept)
        state.state[:, K.T] = t
        return state

    @classmethod
    def from_arrays(cls, arrays):
        """The state of :meth:`to_arrays`'s arrays (not copied)."""
        return cls(arrays["v"], arrays["u"], arrays["state"])

    def to_arrays(self):
        """``{"v", "u", "state"}``: the arrays themselves, not copies."""
        return {"v": self.v, "u": self.u, "state": self.state}

    @property
    def t(self):
        """The step count: steps taken plus one."""
        return int(self.state[0, K.T])

    def copy(self, average):
        """A copy to work on, with an averaging accumulator if ``average`` needs one."""
        u = self.u.copy()
        if average and u.shape != self.v.shape:
            u = np.zeros(self.v.shape)
        return type(self)(self.v.copy(), u, self.state.copy())

    def restart_averaging(self):
        """Zero the averaging sums, so that :meth:`mix` can add up several states'."""
        restart_averaging(self.u, self.state)

    def mix(self, states):
        """Set the weights to the mean of ``states``' (each started from these weights, its
        averaging sums restarted), summed in their order: one step of parameter mixing."""
        states = list(states)
        for k in range(self.n_problems):
            v, u, state = self.views(k)
            mix(v, u, state, ((*s.views(k), 0.0) for s in states), np.empty(v.shape))


class BinaryState(ModelState):
    """One weight vector per binary problem: one problem for two classes, else one a class
    (one-vs-rest). ``v`` (n_problems, n_features), ``state`` (n_problems, STATE_SIZE)."""

    @property
    def n_problems(self):
        return self.state.shape[0]

    @staticmethod
    def shapes(n_classes, n_features):
        n_problems = 1 if n_classes == 2 else n_classes
        return (n_problems, n_features), (n_problems, K.STATE_SIZE)

    def views(self, k):
        return self.v[k], self.u[k], self.state[k:k + 1]

    @staticmethod
    def run(csr, target, weight, rows, v, u, state, params):
        return K.sgd_epoch(*csr, target, weight, rows, v, u, state[0], *params)

    @staticmethod
    def run_segment(csr, target, weight, rows, v, u, last, state, local, out, params):
        K.sgd_segment(*csr, target, weight, rows, v, u, last, state[0], local, out, *params)

    def squared_norm(self, k):
        return float(self.state[k, K.SCALE] ** 2 * K.squared_sum(self.v[k]))

    def intercepts(self, k):
        return self.state[k, K.INTERCEPT]

    def set_solution(self, coef, intercept):
        self.v[:] = coef
        self.state[:, K.INTERCEPT] = intercept

    def set_problem(self, k, coef, intercept):
        """Set problem ``k``'s weights and intercept (an exact solver's solution)."""
        self.v[k] = coef
        self.state[k, K.INTERCEPT] = intercept

    def solution(self):
        # coef is filled one row at a time: beside v and u it takes coef and temporaries of
        # one row, not several of v's size.
        state = self.state
        coef = np.empty_like(self.v)
        intercept = state[:, K.INTERCEPT].copy()
        for k in range(coef.shape[0]):
            n = state[k, K.AVG_N]
            if n > 0:
                coef[k] = (self.u[k] + state[k, K.AVG_C] * self.v[k]) / n
                intercept[k] = state[k, K.AVG_INTERCEPT] / n
            else:
                coef[k] = self.v[k] * state[k, K.SCALE]
        return coef, intercept

    def coef_intercept(self):
        # An exact solver's solution (unscaled, unaveraged) is published as v itself: no
        # copy of what may be the largest array of the fit. A published state is never
        # changed in place (partial_fit and warm fits train a copy, or a new state).
        state = self.state
        if np.all(state[:, K.AVG_N] == 0) and np.all(state[:, K.SCALE] == 1.0):
            return self.v, state[:, K.INTERCEPT].copy()
        return self.solution()


class SoftmaxState(ModelState):
    """One multinomial model of all the classes: ``v`` (n_features, n_classes) feature-major,
    ``state`` (n_classes, STATE_SIZE) the intercepts and the shared scalars (the same in
    every row), as :func:`._softmax_kernels.softmax_epoch` keeps them."""

    n_problems = 1

    @staticmethod
    def shapes(n_classes, n_features):
        return (n_features, n_classes), (n_classes, K.STATE_SIZE)

    @classmethod
    def from_solution(cls, coef, intercept, n_classes, t):
        if n_classes == 2:
            # coef_ is w_1 - w_0: the L2-smallest pair of class weights giving it.
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept, intercept] / 2
        return super().from_solution(coef, intercept, n_classes, t)

    def views(self, k):
        return self.v.reshape(-1), self.u.reshape(-1), self.state

    @staticmethod
    def run(csr, target, weight, rows, v, u, state, params):
        return S.softmax_epoch(*csr, target, weight, rows, v, u, state,
                               *_softmax_params(params))

    @staticmethod
    def run_segment(csr, target, weight, rows, v, u, last, state, local, out, params):
        S.softmax_segment(*csr, target, weight, rows, v, u, last, state, local, out,
                          *_softmax_params(params))

    def squared_norm(self, k):
        return float(self.state[0, K.SCALE] ** 2 * K.squared_sum(self.v.reshape(-1)))

    def intercepts(self, k):
        return self.state[:, K.INTERCEPT]

    def set_solution(self, coef, intercept):
        self.v[:] = coef.T
        self.state[:, K.INTERCEPT] = intercept

    def solution(self):
        state = self.state
        n, c, scale = state[0, K.AVG_N], state[0, K.AVG_C], state[0, K.SCALE]
        coef = np.empty(self.v.shape[::-1], dtype=self.v.dtype)
        # Blocks of features: the temporaries stay SOLUTION_BLOCK x n_classes.
        for start in range(0, self.v.shape[0], SOLUTION_BLOCK):
            block = slice(start, start + SOLUTION_BLOCK)
            if n > 0:
                coef[:, block] = ((self.u[block] + c * self.v[block]) / n).T
            else:
                coef[:, block] = (self.v[block] * scale).T
        if n > 0:
            return coef, state[:, K.AVG_INTERCEPT] / n
        return coef, state[:, K.INTERCEPT].copy()

    def coef_intercept(self):
        """``W`` and ``b``, or for two classes the single row ``w_1 - w_0`` and
        ``b_1 - b_0`` (scikit-learn's binary convention)."""
        coef, intercept = self.solution()
        if coef.shape[0] == 2:
            return coef[1:] - coef[:1], intercept[1:] - intercept[:1]
        return coef, intercept


def _softmax_params(params):
    """The softmax kernels' scalars: :class:`EpochParams` but the loss (they have one)."""
    p = params
    return (p.schedule, p.alpha, p.eta0, p.power_t, p.optimal_t0, p.intercept_decay,
            p.average_start, p.track_loss)


def state_class(loss):
    """The :class:`ModelState` sibling of a model trained with ``loss`` (a name)."""
    return SoftmaxState if loss == "softmax" else BinaryState


def restart_averaging(u, state):
    """Zero a problem's averaging sums (``u`` and the averaging slots of ``state``)."""
    u[:] = 0.0
    state[:, _AVERAGING_SLOTS] = 0.0


def mix(v, u, state, blocks, acc):
    """Set a problem's weights to the mean of its blocks' (one step of parameter mixing).

    Parameters
    ----------
    v, u : ndarray
        The shared unscaled weights (scale 1, as every block started from them) and the
        averaging sum (length 0 when not averaging); updated in place.
    state : ndarray of float64, shape (n_rows, STATE_SIZE)
        The shared scalars; updated in place.
    blocks : iterable of (v_b, u_b, state_b, loss_b)
        Each block's SGD variables after its epoch (from ``v``, ``state``, with averaging
        sums started at zero) and loss sum, in block order: the sums run in that order.
    acc : ndarray of float64
        Scratch of ``v``'s shape.

    Returns
    -------
    float
        The blocks' loss sum.
    """
    acc[:] = 0.0
    intercept = np.zeros(state.shape[0])
    sums = np.zeros((state.shape[0], 2))
    steps, sumloss, count = 0.0, 0.0, 0
    for v_b, u_b, state_b, loss_b in blocks:
        K.add_block(acc, u, v_b, u_b, state_b[0, K.SCALE], state_b[0, K.AVG_C])
        intercept += state_b[:, K.INTERCEPT]
        sums += state_b[:, [K.AVG_INTERCEPT, K.AVG_N]]
        steps = max(steps, state_b[0, K.T] - state[0, K.T])
        sumloss += loss_b
        count += 1
    acc /= count
    v[:] = acc
    state[:, K.INTERCEPT] = intercept / count
    state[:, [K.AVG_INTERCEPT, K.AVG_N]] += sums
    state[:, K.T] += steps
    return sumloss

"""The trust-region Newton solver of :class:`~fasttext_lin.LinearClassifier`
(``solver='newton'``) for 'softmax' and 'log_loss': liblinear's TRON (Lin, Weng and
Keerthi, JMLR 2008) with preconditioned conjugate gradients (the diagonal preconditioner
of Hsia, Chiang and Lin, ACML 2018), over the kernels of :mod:`._multinomial_kernels` and
:mod:`._logistic_kernels`.

It solves ``min_W 1/2 ||W||^2 + C sum_i s_i (log sum_k exp(z_ik) - z_{i y_i})`` with
``z_ik = w_k.x_i + b_k`` (softmax), or, per one-vs-rest problem, ``min_w 1/2 ||w||^2 +
C sum_i s_i log(1 + exp(-y_i (w.x_i + b)))`` (log loss), with ``C = 1 / (alpha n)``; the
intercept, as with ``'cd'``, is the weight of a regularised bias feature of value
``intercept_scaling``.

The stop is the duality gap of :mod:`._duality` at the dual point the loss's derivative
gives: the softmax probabilities ``q_i = p_i``, or ``a_i = sigma(-z_i)`` for log loss.
There the Fenchel-Young inequality is an equality (softmax: ``L_i - H(p_i) = (p_i -
e_{y_i}).z_i``; log loss: ``l(z_i) + phi(a_i) = -a_i z_i``), so the dual's weights ``G`` (the
loss part of the gradient, ``G = sum_i c_i x_i^T (p_i - e_{y_i})``, or ``-sum_i c_i a_i y_i
x_i``) give ``P(W) - D = 1/2 ||W + G||^2 = 1/2 ||grad P(W)||^2``: the gap comes with the
gradient, exact to rounding (no difference of two large numbers). The solver stops when
``gap / P(W) <= tol``.
"""

import functools
import time
import warnings

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.linalg.blas import dsyrk as syrk
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import ThreadpoolController

from . import _logistic_kernels as LK
from . import _multinomial_kernels as MK
from ._constants import EXACT_TOL
from ._multinomial_kernels import cg_curvatures, cg_direction, cg_step
from ._validation import unsigned_csr

# The losses this solver trains.
LOSSES = ("softmax", "log_loss")
# Trust-region constants of liblinear's TRON: the ratio actual / predicted reduction below
# which a step is refused (ETA0) and the radius shrinks (ETA1) or may grow (ETA2), and the
# radius factors.
ETA0, ETA1, ETA2 = 1e-4, 0.25, 0.75
SIGMA1, SIGMA2, SIGMA3 = 0.25, 0.5, 4.0
# CG stops when its preconditioned residual is this fraction of the gradient's.
CG_TOL = 0.1
# The preconditioner mixes the identity and the Hessian's diagonal (liblinear's alpha_pcg).
PRECONDITIONER_MIX = 0.01
# Problems with at most this many variables build their Hessian; EXPLICIT_BLOCK bounds the
# entries of the dense temporaries of one block of rows.
EXPLICIT_VARIABLES = 256
EXPLICIT_BLOCK = 1 << 20


def train(est, X, y, classes, weight, alpha, decay, state, max_epochs):
    """Train ``state`` (a SoftmaxState for 'softmax', else a BinaryState for 'log_loss',
    holding the starting point) to the optimum, in place.

    The arguments are those of :func:`._sgd.train` (``decay`` is unused). One-vs-rest
    problems run on ``est.n_jobs`` threads, each independent of the others. Returns the
    Newton iterations run (the largest over the problems).
    """
    n, n_features = X.shape
    C = float(est.C) if est.C is not None else 1.0 / (alpha * n)
    bias = float(est.intercept_scaling) if est.fit_intercept else 0.0
    cost = C * weight
    coef, intercept = state.solution()
    # The starting points, one row per problem (per class for 'softmax'), the bias last.
    start = np.hstack([coef, (intercept / bias if bias else 0.0 * intercept)[:, None]])
    start = start.astype(np.float64)
    tol = EXACT_TOL if est.tol is None else float(est.tol)
    # One BLAS thread: the explicit Hessian's blocks are small, and the model must not
    # depend on the machine's thread count.
    with _controller().limit(limits=1, user_api="blas"):
        if est.loss == "softmax":
            problem = _Multinomial(X, np.searchsorted(classes, y), cost, bias,
                                   classes.shape[0])
            W, done = _tron(problem, start.T.copy(), tol, max_epochs, est.verbose)
            results = [(w, done) for w in W.T]
        else:
            positive = classes[-1:] if classes.shape[0] == 2 else classes

            def solve(k):
                problem = _Logistic(X, np.where(y == positive[k], 1.0, -1.0), cost, bias)
                return _tron(problem, start[k], tol, max_epochs, est.verbose,
                             f" (problem {k + 1})")

            # One problem runs here: starting a pool costs more than a small fit.
            results = ([solve(0)] if positive.shape[0] == 1 else
                       Parallel(n_jobs=est.n_jobs, prefer="threads")(
                           delayed(solve)(k) for k in range(positive.shape[0])))
    W = np.stack([w for w, _ in results])
    state.set_solution(W[:, :n_features], W[:, n_features] * bias)
    return max(done for _, done in results)


@functools.cache
def _controller():
    """The process's thread pools, found once: finding them costs more than a small fit."""
    return ThreadpoolController()


class _Problem:
    """The objective's value and gradient, and the trust-region step, over a loss's kernels
    (the subclasses' ``_loss_gradient``, ``_add_diagonal``, ``_add_product`` and
    ``_explicit_hessian``).

    :meth:`value_gradient` evaluates a trial point; :meth:`accept` makes it the point of
    :meth:`step`, :meth:`radius` and :meth:`norm`. Two ways to a step:

    - products (many variables): CG preconditioned by liblinear's diagonal, multiplying by
      the Hessian over the rows; the trust region is in the diagonal's norm;
    - explicit (at most ``EXPLICIT_VARIABLES`` variables): the Hessian built once per point,
      by the subclass, and factored; the step is the Newton step, cut
      to the trust region in the Hessian's own norm (TRON with the exact preconditioner: its
      CG ends in one step, which counts 1). Products over all the rows would cost more than
      the build.
    """

    def __init__(self, X, cost, bias, shape, curvature_shape):
        self.X = X
        self.csr = unsigned_csr(X)
        self.cost, self.bias = cost, bias
        self.n = X.shape[0]
        # The loss's second derivatives per row at the accepted point and at the trial one.
        self.curvature = np.zeros(curvature_shape)
        self._trial = np.zeros_like(self.curvature)
        self._product = np.empty(shape)
        self.explicit = self._product.size <= EXPLICIT_VARIABLES
        self._metric = None

    def value_gradient(self, W):
        """``(P(W), grad P(W))`` at a trial point."""
        grad = W.copy()
        loss = self._loss_gradient(W, self._trial, grad)
        return 0.5 * np.sum(W * W) + loss, grad

    def accept(self):
        """Move to the last trial point."""
        self.curvature, self._trial = self._trial, self.curvature
        if self.explicit:
            H = self._explicit_hessian()
            _check_finite(H)
            try:
                self._metric = H, cho_factor(H)
                return
            except LinAlgError:
                # I + C (curvature) lost its identity to rounding (C s_i ||x_i||^2 near
                # 1e16 and more, on separable data along a long path): from here on the
                # products and the diagonal preconditioner, which need no factorisation.
                self.explicit = False
        if not self.explicit:
            diag = np.zeros(self._product.shape)
            self._add_diagonal(diag)
            _check_finite(diag)
            # liblinear's preconditioner (1 - a) I + a diag(H), a = PRECONDITIONER_MIX.
            self._metric = 1.0 + PRECONDITIONER_MIX * diag

    def radius(self, g):
        """TRON's first radius: ``||g||`` in the inverse metric."""
        if self.explicit:
            return np.sqrt(np.vdot(g, cho_solve(self._metric[1], g.reshape(-1))))
        return np.sqrt(np.vdot(g, g / self._metric))

    def norm(self, s):
        """``||s||`` in the trust region's metric."""
        if self.explicit:
            v = s.reshape(-1)
            return np.sqrt(v @ self._metric[0] @ v)
        return np.sqrt(np.vdot(s, s * self._metric))

    def step(self, g, delta):
        """``(s, r, boundary, steps)``: an approximate minimiser of the quadratic model within
        ``delta``, ``r = -g - H s``, whether it stopped on the boundary, and its CG steps."""
        if not self.explicit:
            return _truncated_cg(self, g, self._metric, delta)
        H, factor = self._metric
        d = -cho_solve(factor, g.reshape(-1)).reshape(g.shape)
        length = np.sqrt(max(-np.vdot(g, d), 0.0))
        if length <= delta:
            return d, -g - (H @ d.reshape(-1)).reshape(g.shape), False, 1
        a = delta / length
        # H d = -g: the residual of the cut step needs no product.
        return a * d, (a - 1.0) * g, True, 1

    def hessian_product(self, V):
        """``H V`` over the rows at the accepted point; the array returned is overwritten
        by the next call."""
        # One buffer for every product: each is used before the next is asked for.
        out = self._product
        np.copyto(out, V)
        self._add_product(V, out)
        return out

    def _explicit_hessian(self):
        """The Hessian, the variables in ``W.reshape(-1)``'s order."""
        raise NotImplementedError


class _Multinomial(_Problem):
    """Softmax over :mod:`._multinomial_kernels`: ``W`` of shape (n_features + 1, n_classes);
    the curvature is the rows' probabilities. The explicit Hessian is built by BLAS on blocks
    of rows made dense."""

    def __init__(self, X, target, cost, bias, n_classes):
        super().__init__(X, cost, bias, (X.shape[1] + 1, n_classes), (X.shape[0], n_classes))
        self.target = target

    def _loss_gradient(self, W, prob, grad):
        return MK.loss_gradient(*self.csr, self.target, self.cost, W, self.bias, 0, self.n,
                                prob, grad)

    def _add_diagonal(self, out):
        MK.hessian_diagonal(*self.csr, self.cost, self.curvature, self.bias, 0, self.n, out)

    def _add_product(self, V, out):
        MK.hessian_product(*self.csr, self.cost, self.curvature, V, self.bias, 0, self.n, out)

    def _explicit_hessian(self):
        """``I + sum_i c_i (x_i x_i^T) kron (diag(p_i) - p_i p_i^T)``, the variables in
        ``W.reshape(-1)``'s order."""
        n_classes = self.curvature.shape[1]
        size = self._product.size
        H = np.zeros((size, size), order="F")
        diagonal = np.zeros((size // n_classes, n_classes, size // n_classes, n_classes))
        step = max(1, EXPLICIT_BLOCK // size)
        for start in range(0, self.n, step):
            rows = slice(start, min(start + step, self.n))
            root = np.sqrt(self.cost[rows, None])
            prob = self.curvature[rows]
            Xb = np.hstack([self.X[rows].toarray(), np.full((rows.stop - start, 1), self.bias)])
            Y = (Xb[:, :, None] * (root * prob)[:, None, :]).reshape(-1, size)
            # The upper triangle of H - Y^T Y, by BLAS's symmetric rank-k update.
            H = syrk(-1.0, Y, beta=1.0, c=H, trans=1, overwrite_c=True)
            Xb *= root
            for k in range(n_classes):
                diagonal[:, k, :, k] += Xb.T @ (Xb * prob[:, k:k + 1])
        H = np.triu(H) + np.triu(H, 1).T + diagonal.reshape(size, size)
        H[np.diag_indices(size)] += 1.0
        return H


class _Logistic(_Problem):
    """Binary log loss over :mod:`._logistic_kernels`, targets ``y`` in {-1, +1}: ``w`` of
    length n_features + 1; the curvature is ``c_i sigma(z_i) sigma(-z_i)`` per row."""

    def __init__(self, X, y, cost, bias):
        super().__init__(X, cost, bias, (X.shape[1] + 1,), (X.shape[0],))
        self.y = y

    def _loss_gradient(self, w, curvature, grad):
        return LK.loss_gradient(*self.csr, self.y, self.cost, w, self.bias, 0, self.n,
                                curvature, grad)

    def _add_diagonal(self, out):
        LK.hessian_diagonal(*self.csr, self.curvature, self.bias, 0, self.n, out)

    def _add_product(self, v, out):
        LK.hessian_product(*self.csr, self.curvature, v, self.bias, 0, self.n, out)

    def _explicit_hessian(self):
        """``I + sum_i d_i x_i x_i^T`` from the sparse rows."""
        H = np.zeros((self._product.size,) * 2)
        LK.hessian_upper(*self.csr, self.curvature, self.bias, 0, self.n, H)
        H = np.triu(H) + np.triu(H, 1).T
        H[np.diag_indices(H.shape[0])] += 1.0
        return H


def _check_finite(values):
    """Refuse a non-finite Hessian (or its diagonal) in one line that says what to do."""
    if not np.all(np.isfinite(values)):
        raise ValueError("The objective, its gradient or its Hessian is not finite: C s_i "
                         "||x_i||^2 is too large for solver='newton'; lower C (raise alpha), "
                         "or scale the features (or sample weights) down.")


def _tron(problem, W, tol, max_iter, verbose, label=""):
    """Minimise from ``W`` until the relative gap ``1/2 ||grad||^2 / P`` is at most ``tol``;
    return ``(W, iterations)``. ``label`` names the problem in messages."""
    f, g = problem.value_gradient(W)
    problem.accept()
    delta = problem.radius(g)
    gap = _report(verbose, 0, f, g, 0, 0.0, label)
    done = 0
    while gap > tol and done < max_iter:
        start = time.perf_counter()
        s, r, boundary, cg = problem.step(g, delta)
        gs = np.sum(g * s)
        predicted = -0.5 * (gs - np.sum(s * r))
        f_new, g_new = problem.value_gradient(W + s)
        actual = f - f_new
        snorm = problem.norm(s)
        if done == 0:
            delta = min(delta, snorm)
        curvature = f_new - f - gs
        step = SIGMA3 if curvature <= 0 else max(SIGMA1, -0.5 * gs / curvature)
        delta = _radius(delta, step * snorm, actual, predicted, boundary)
        done += 1
        if actual > ETA0 * predicted:
            W, f, g = W + s, f_new, g_new
            problem.accept()
            gap = _report(verbose, done, f, g, cg, time.perf_counter() - start, label)
        elif not np.isfinite(f_new):
            raise ValueError(f"The objective became non-finite at Newton iteration {done}{label}: "
                             "scale the features (or sample weights, or C) down.")
        if predicted <= 0 or (abs(actual) <= 1e-12 * abs(f)
                              and abs(predicted) <= 1e-12 * abs(f)):
            if gap > tol:
                warnings.warn(
                    f"solver='newton' stopped at iteration {done} with a relative duality gap "
                    f"of {gap:.3g}{label}, above tol={tol:g}: no step lowers the objective in "
                    "floating point any more; raise tol.", ConvergenceWarning)
            return W, done
    if gap > tol:
        warnings.warn(
            f"solver='newton' stopped at max_iter={max_iter} iterations with a relative "
            f"duality gap of {gap:.3g}{label}, above tol={tol:g}; raise max_iter or tol.",
            ConvergenceWarning,
        )
    return W, done


def _radius(delta, proposed, actual, predicted, boundary):
    """TRON's new trust-region radius from the step's reduction ratio."""
    if actual < ETA0 * predicted:
        return min(proposed, SIGMA2 * delta)
    if actual < ETA1 * predicted:
        return max(SIGMA1 * delta, min(proposed, SIGMA2 * delta))
    if actual < ETA2 * predicted:
        return max(SIGMA1 * delta, min(proposed, SIGMA3 * delta))
    if boundary:
        return SIGMA3 * delta
    return max(delta, min(proposed, SIGMA3 * delta))


def _truncated_cg(problem, g, M, delta):
    """Preconditioned CG on ``H s = -g`` inside ``||s||_M <= delta`` (at most ``10 g.size``
    steps: rounding may keep the residual above the bar): ``(s, r, boundary,
    iterations)`` with ``r = -g - H s``.

    The vectors are updated in place by fused kernels and ``||s||_M^2`` is tracked, not
    recomputed: on wide problems the passes over them cost as much as the Hessian products.
    """
    shape, g, M = g.shape, g.reshape(-1), M.reshape(-1)
    s = np.zeros_like(g)
    r = -g
    z = r / M
    d = z.copy()
    rz = np.vdot(r, z)
    stop = CG_TOL * np.sqrt(rz)
    sMs, count = 0.0, 0
    while np.sqrt(rz) > stop and count < 10 * g.size:
        count += 1
        Hd = problem.hessian_product(d.reshape(shape)).reshape(-1)
        dHd, sMd, dMd = cg_curvatures(s, d, Hd, M)
        a = rz / dHd
        boundary = sMs + a * (2.0 * sMd + a * dMd) > delta * delta
        if boundary:
            # Step to the boundary along d: the root of ||s + a d||_M = delta.
            root = np.sqrt(sMd * sMd + dMd * (delta * delta - sMs))
            a = (delta * delta - sMs) / (sMd + root) if sMd >= 0 else (root - sMd) / dMd
        rz_new = cg_step(s, r, z, d, Hd, M, a)
        if boundary:
            return s.reshape(shape), r.reshape(shape), True, count
        sMs += a * (2.0 * sMd + a * dMd)
        cg_direction(d, z, rz_new / rz)
        rz = rz_new
    return s.reshape(shape), r.reshape(shape), False, count


def _report(verbose, done, f, g, cg, seconds, label):
    """The relative gap at ``(f, g)``; printed with ``verbose``."""
    gap = 0.5 * np.sum(g * g)
    relative = gap / max(f, np.finfo(np.float64).tiny)
    if verbose:
        print(f"-- Newton iteration {done}{label}: primal {f:.10g}, dual {f - gap:.10g}, relative "
              f"gap {relative:.3g}, {cg} CG steps, {seconds:.3f} s")
    return relative

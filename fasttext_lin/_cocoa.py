"""CoCoA+ (Ma et al., ICML 2015, the adding variant): the hinge and squared-hinge problems of
``solver='cd'`` trained across the blocks of a Dask cluster, dual coordinate descent as the
local solver.

The problem is liblinear's ``min_w 1/2 ||w||^2 + C sum_i loss(y_i w.x_i)``, the intercept a
regularised bias feature of value ``intercept_scaling`` (as :mod:`._cd` solves it in one
process), one-vs-rest for more than two classes. Its dual variables are split by block
(a group of partitions on one worker). A round sends ``w = sum_k A_k alpha_k`` to every
block; block ``k`` improves its subproblem ``sum_{i in k} d_i - w.u_k - (K/2) ||u_k||^2``
(the squared hinge also ``- 1/2 sum diag_i (alpha_i + d_i)^2``), ``u_k = sum_{i in k} d_i
y_i x_i``, by passes of dual coordinate descent over the rows whose bound the gradient at
``w`` does not hold (liblinear's shrinking, checked on every row at each round's start),
keeps ``alpha_k + d`` and returns ``A_k alpha_k``, rebuilt from its dual variables. The
driver sums the blocks' vectors.
Plain CoCoA+ crawls at tight gaps (a round is a damped block-Jacobi step); by default the
rounds are accelerated by extrapolating the dual variables with Nesterov's momentum, restarted
whenever a round lowers the dual (see :func:`train`).

The local step is :func:`._cd_kernels.cd_passes` itself: on the block's rows scaled by
``sqrt(K)`` (data and bias) with the vector ``(w + K u) / sqrt(K)``, its margins are
``x_i.(w + K u)``, its curvature ``K ||x_i||^2 + diag_i`` and its updates add ``K d y_i x_i``
to ``w + K u``: exactly CoCoA+'s coordinate steps.

A block's dual variables stay in its worker's memory between rounds (:data:`_DUALS`); only
``w`` and the blocks' vectors travel. Each round's task also returns the block's partial
sums of the primal and the dual at the round's start; the driver adds the ``1/2 ||w||^2``
terms and stops when every problem's relative gap ``(P(w) - D(alpha)) / P(w)`` is at most
``tol``. A block whose worker died is rebuilt by Dask from its source on another worker,
where its dual variables start again from 0: its old share of ``w`` is dropped with them,
so ``w = sum_k A_k alpha_k`` holds again, and that round certifies nothing.
"""

import time
import uuid
import warnings
from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._cd import SHRINK
from ._cd_kernels import cd_passes, gap_and_screen, rebuild_weights, squared_row_norms
from ._validation import csr_contract

# A block's dual variables on the worker holding it: (run, block, incarnation) -> Duals.
_DUALS = {}
# How often (seconds) the driver checks that the workers of unfinished tasks are alive.
POLL = 0.5

Block = namedtuple("Block", "indptr indices data labels norms sizes n_features")
Block.__doc__ = """A block's rows: CSR arrays (data times ``sqrt(K)``), labels,
``K (||x_i||^2 + bias^2)`` per row, the row counts of its partitions in order, and the
partitions' column count."""

Duals = namedtuple("Duals", "rounds alpha start solved")
Duals.__doc__ = """A block's dual variables after ``rounds`` rounds, a copy of them at the
start of the last round (the point the last partial sums describe), and where the last
round's local passes left them before the extrapolation (the momentum's previous point)."""

Spec = namedtuple("Spec", "blocks bias C squared passes positive")
Spec.__doc__ = """One CoCoA+ problem set: ``blocks`` (K), the unscaled ``bias``, ``C``, the
squared hinge or not, local ``passes`` per round, and the positive label of each problem."""

Progress = namedtuple("Progress", "model relative_gap seconds resets")
Progress.__doc__ = """What ``callback(round, progress)`` receives after each CoCoA+ round:
the model at the round's end, the largest relative duality gap over the problems at the
round's start (NaN when a reset block made it uncertain), the round's seconds, and the
blocks reset so far."""


# -- the one place that calls the kernels of _cd_kernels --------------------------------------

def screened_sums(indptr, indices, data, y, cost, upper, diag, alpha, v, bias, squared,
                  index):
    """``(loss, dual, active, bounds)`` of a block at ``v``: ``sum_i cost_i loss(y_i v.x_i)``,
    ``sum_i alpha_i - 1/2 sum_i diag_i alpha_i^2``, and the rows the passes visit,
    ``index[:active]`` in row order: those of positive ``upper`` whose bound the gradient
    at ``v`` does not hold (liblinear's shrinking by ``SHRINK``, with the ``bounds`` for the
    passes' own shrinking)."""
    bounds = np.empty(2)
    primal, dual, active, _ = gap_and_screen(indptr, indices, data, y, cost, upper, diag,
                                             alpha, v, bias, squared, index,
                                             np.empty(y.shape[0]), bounds, SHRINK)
    half = 0.5 * float(v @ v)
    return primal - half, dual + half, active, bounds


def local_passes(indptr, indices, data, y, upper, diag, qd, alpha, v, bias, index, active,
                 bounds, passes, seed):
    """``passes`` passes of dual coordinate descent over ``index[:active]``, each freshly
    shuffled, shrinking from ``bounds`` as :mod:`._cd` does; ``alpha`` and ``v`` move in
    place."""
    state = np.array([seed], dtype=np.uint64)
    # spread=-1 never counts as settled.
    cd_passes(indptr, indices, data, y, upper, diag, qd, alpha, v, bias, index, active,
              bounds, -1.0, SHRINK, np.iinfo(np.int64).max, passes, state)


def block_weights(indptr, indices, data, y, alpha, bias, out):
    """``out = sum_i alpha_i y_i x_i`` of the given (scaled) rows."""
    rebuild_weights(indptr, indices, data, y, alpha, out, bias)


def row_norms(indptr, data, bias):
    """``||x_i||^2 + bias^2`` per row."""
    return squared_row_norms(indptr, data, bias)


# -- on the workers ---------------------------------------------------------------------------

def make_block(parts, blocks, bias):
    """The :class:`Block` of the partitions ``parts`` (a list of ``(X, y)``) for ``blocks``
    blocks; ValueError if the partitions differ in width."""
    widths = {X.shape[1] for X, _ in parts}
    if len(widths) > 1:
        raise ValueError(f"partitions of different widths {sorted(widths)} cannot train one "
                         "model: give every partition the same n_features")
    X = sp.vstack([X for X, _ in parts], format="csr") if len(parts) > 1 else parts[0][0]
    scale = np.sqrt(blocks)
    X = csr_contract(X.indptr, X.indices, X.data.astype(np.float64) * scale, X.shape[1])
    labels = np.concatenate([np.asarray(y) for _, y in parts])
    norms = row_norms(X.indptr, X.data, bias * scale)
    return Block(X.indptr, X.indices, X.data, labels, norms,
                 np.array([y.shape[0] for _, y in parts]), X.shape[1])


def describe(block):
    """``(classes, partition sizes, n_features)`` of a block."""
    return np.unique(block.labels), block.sizes, block.n_features


def _bounds(C, n, squared):
    """``(cost, upper, diag)`` per row for cost ``C`` on every row."""
    cost = np.full(n, C)
    if squared:
        return cost, np.full(n, np.inf), np.full(n, 0.5 / C)
    return cost, cost, np.zeros(n)


def run_round(block, key, rounds, w, todo, seeds, spec, beta=None):
    """One CoCoA+ round of a block, on the worker holding it.

    ``key`` names the block's dual variables in :data:`_DUALS`; they are used if they have
    run ``rounds`` rounds, else the block starts again from 0 (``reset``). ``w`` (one row per
    problem, the bias weight last) is the current model; problems where ``todo`` is False
    move no further. With ``beta`` (per problem, default 0), the dual variables the local
    passes reach, ``a``, are extrapolated to ``a + beta (a - a_prev)``, ``a_prev`` where the
    previous round's passes left them, then projected on the box of the dual (a reset block
    does not extrapolate). Returns ``(weights, sums, reset)``: ``A_k alpha_k`` per problem
    at the end, per problem the partial sums ``(loss, dual)`` at the start and the dual's
    separable part at the end, and whether the block was reset.
    """
    n = block.labels.shape[0]
    kept = _DUALS.get(key)
    reset = kept is None or kept.rounds != rounds
    alpha = np.zeros((w.shape[0], n)) if reset else kept.alpha
    solved = np.zeros_like(alpha) if reset else kept.solved
    beta = np.zeros(w.shape[0]) if beta is None else beta
    start = alpha.copy()
    scale = np.sqrt(spec.blocks)
    bias = spec.bias * scale
    cost, upper, diag = _bounds(spec.C, n, spec.squared)
    qd = block.norms + diag
    weights, sums = np.zeros_like(w), np.zeros((w.shape[0], 3))
    csr = (block.indptr, block.indices, block.data)
    index = np.empty(n, dtype=np.intp)
    for p in range(w.shape[0]):
        y = np.where(block.labels == spec.positive[p], 1.0, -1.0)
        v = w[p] / scale
        loss, dual, active, bounds = screened_sums(*csr, y, cost, upper, diag, alpha[p], v,
                                                   bias, spec.squared, index)
        sums[p, :2] = loss, dual
        if todo[p] or reset:
            local_passes(*csr, y, upper, diag, qd, alpha[p], v, bias, index, active, bounds,
                         spec.passes, int(seeds[p]))
            reached = alpha[p].copy()
            if beta[p] > 0.0 and not reset:
                alpha[p] += beta[p] * (reached - solved[p])
                np.clip(alpha[p], 0.0, upper, out=alpha[p])
            solved[p] = reached
        sums[p, 2] = alpha[p].sum() - 0.5 * float(diag @ (alpha[p] * alpha[p]))
        block_weights(*csr, y, alpha[p], bias, weights[p])
        weights[p] /= scale
    _DUALS[key] = Duals(rounds + 1, alpha, start, solved)
    return weights, sums, reset


def last_start(key, rounds):
    """The block's dual variables at the start of its round ``rounds`` (None if lost)."""
    kept = _DUALS.get(key)
    return None if kept is None or kept.rounds != rounds else kept.start


def drop(run):
    """Forget the dual variables of the run ``run`` on this worker."""
    for key in [key for key in _DUALS if key[0] == run]:
        del _DUALS[key]


# -- on the driver ----------------------------------------------------------------------------

def train(client, blocks, spec, n_features, *, tol, max_rounds, seed, callback, progress,
          model_of, accelerate=True):
    """Run CoCoA+ rounds on the block futures ``blocks`` until every problem's relative gap
    is at most ``tol`` or ``max_rounds`` rounds ran (then a ConvergenceWarning).

    ``model_of(w, rounds)`` builds the model of weights ``w``; ``callback(round,
    Progress)`` follows each round. With ``accelerate``, the rounds extrapolate the dual
    variables (:func:`run_round`'s ``beta``) by Nesterov's sequence ``beta = (t - 1) /
    t'``, ``t' = (1 + sqrt(1 + 4 t^2)) / 2``, restarted (``t = 1``) for a problem whose
    dual fell over the last round, and for all after a reset (O'Donoghue and Candes'
    adaptive restart); every round's point stays feasible, so its gap still certifies.
    Returns ``(w, duals, rounds)``: ``duals`` a list of each block's dual variables at
    ``w`` (None if a worker lost them at the end). When the rounds run out, ``w`` is the
    round's start of smallest certified gap (the extrapolated rounds are not monotone), and
    the duals are None.
    """
    from tqdm.auto import tqdm

    n_blocks, n_problems = len(blocks), len(spec.positive)
    run = uuid.uuid4().hex
    homes = _Homes(client, n_blocks)
    shares = np.zeros((n_blocks, n_problems, n_features + 1))
    w = np.zeros((n_problems, n_features + 1))
    todo = np.ones(n_problems, dtype=bool)
    t = np.ones(n_problems)
    half = np.zeros(n_problems)  # 1/2 ||w||^2 per problem, of the current w
    seeds = np.random.default_rng(seed)
    resets, gap = 0, np.inf
    best_gap, best_w = np.inf, w
    bar = tqdm(total=max_rounds, unit="round", desc="CoCoA+", leave=False,
               disable=None if progress else True)
    try:
        for round_ in range(max_rounds):
            began = time.perf_counter()
            round_seeds = seeds.integers(np.iinfo(np.int32).max, size=(n_blocks, n_problems))
            beta, t_next = extrapolation(t)
            beta = beta if accelerate else np.zeros(n_problems)
            results = homes.run(lambda k, where: client.submit(
                run_round, blocks[k], (run, k, homes.incarnation[k]), homes.rounds[k], w,
                todo, round_seeds[k], spec, beta, workers=where, allow_other_workers=False,
                pure=False))
            # Certified only if every reset block held no share of w: w = A alpha then.
            certain = all(not reset or not np.any(shares[k])
                          for k, (_, _, reset) in enumerate(results))
            sums = np.sum([sums for _, sums, _ in results], axis=0)
            gaps = _relative_gaps(w, sums[:, :2], round_)
            if certain:
                gap = float(np.max(gaps))
                if gap < best_gap:
                    best_gap, best_w = gap, w
                if gap <= tol:
                    duals = homes.run(lambda k, where: client.submit(
                        last_start, (run, k, homes.incarnation[k]), homes.rounds[k] + 1,
                        workers=where, allow_other_workers=False, pure=False))
                    return w, duals, round_
                todo = gaps > tol
            else:
                todo[:] = True
            for k, (weights, _, reset) in enumerate(results):
                resets += reset
                homes.rounds[k] += 1
                shares[k] = weights
            dual_before = sums[:, 1] - half
            w = np.sum(shares, axis=0)
            half = 0.5 * np.einsum("ij,ij->i", w, w)
            if not np.all(np.isfinite(w)):
                raise ValueError(f"CoCoA+ round {round_ + 1}: the weights became non-finite: "
                                 "lower C, or scale the features down.")
            t = restarted(t_next, dual_before, sums[:, 2] - half) if certain else np.ones(
                n_problems)
            bar.update()
            bar.set_postfix(gap=f"{gap if certain else np.nan:.3g}")
            if callback is not None:
                callback(round_ + 1, Progress(model_of(w, round_ + 1),
                                              gap if certain else np.nan,
                                              time.perf_counter() - began, resets))
    finally:
        bar.close()
        try:
            client.run(drop, run)
        except Exception:  # noqa: BLE001 - a dying worker takes its dual variables along
            pass
    warnings.warn(f"CoCoA+ stopped at {max_rounds} rounds with a relative duality gap of "
                  f"{best_gap:.3g} (the smallest certified, whose model is returned), above "
                  f"tol={tol:g}; raise the rounds (passes), local_passes or tol.",
                  ConvergenceWarning, stacklevel=3)
    return best_w, [None] * n_blocks, max_rounds


def extrapolation(t):
    """Nesterov's ``(beta, t')`` for the sequence's values ``t`` (one a problem, from 1):
    ``t' = (1 + sqrt(1 + 4 t^2)) / 2`` and ``beta = (t - 1) / t'``."""
    t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    return (t - 1.0) / t_next, t_next


def restarted(t_next, dual_before, dual_after):
    """The sequence's next values: ``t_next``, restarted to 1 where a round took the dual
    from ``dual_before`` down to ``dual_after``."""
    return np.where(dual_after < dual_before, 1.0, t_next)


def _relative_gaps(w, sums, round_):
    """Each problem's ``(P - D) / P`` from the blocks' summed ``(loss, dual)``."""
    half = 0.5 * np.einsum("ij,ij->i", w, w)
    primal, dual = half + sums[:, 0], sums[:, 1] - half
    gaps = (primal - dual) / np.maximum(primal, np.finfo(np.float64).tiny)
    if not np.all(np.isfinite(gaps)):
        raise ValueError(f"CoCoA+ round {round_ + 1}: the duality gap became non-finite: "
                         "lower C, or scale the features down.")
    return gaps


class _Homes:
    """Each block's worker; a block whose worker left moves to a live one, as a new
    incarnation whose dual variables start from 0."""

    def __init__(self, client, n_blocks):
        self.client = client
        workers = self._live()
        if not workers:
            raise RuntimeError("the Dask cluster has no workers: start some, or wait for "
                               "them (client.wait_for_workers)")
        self.where = [workers[k % len(workers)] for k in range(n_blocks)]
        self.incarnation = [0] * n_blocks
        self.rounds = [0] * n_blocks

    def _live(self):
        # Asked of the scheduler itself: Client.scheduler_info's cache is refreshed in the
        # background without the workers, and may be read just after.
        identity = self.client.sync(self.client.scheduler.identity, n_workers=-1)
        return sorted(identity["workers"])

    def _move(self, k, live):
        load = {w: self.where.count(w) for w in live}
        self.where[k] = min(live, key=lambda w: (load[w], w))
        self.incarnation[k] += 1
        self.rounds[k] = 0

    def run(self, submit):
        """The results of ``submit(k, worker)`` for every block, in order, gathered at once;
        a task whose worker left is submitted again to a live one, the block moved there."""
        from distributed import wait

        pending = [submit(k, where) for k, where in enumerate(self.where)]
        while True:
            try:
                wait(pending, timeout=POLL)
                return self.client.gather(pending)
            except TimeoutError:
                pass
            # A task restricted to a worker that left waits for it forever: move its block.
            live = self._live()
            if not live:
                raise RuntimeError("the Dask cluster lost all its workers mid-training")
            for k, future in enumerate(pending):
                if not future.done() and self.where[k] not in live:
                    future.cancel()
                    self._move(k, live)
                    pending[k] = submit(k, self.where[k])

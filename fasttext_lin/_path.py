"""The warm-started regularisation path of :class:`~fasttext_lin.LinearClassifierCV`: where it
starts (:func:`c_min`, from the data) and its run (:func:`run_path`): every (loss, fold) keeps
one model that each step refits warm at the next C, the folds on threads.
"""

import numbers
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.parallel import Parallel, delayed

# The widest path Cs='auto' runs: C_min to 2^49 C_min, past any useful C (whatever factor).
MAX_RANGE = 2.0 ** 49
# NBSVM's patience (path steps without improvement, factor 2): liblinear's 5. Underfit, the
# first steps' scores can go down and up again (pendigits' one-vs-rest hinge at factor 2:
# 0.55, 0.65, 0.57, 0.58, 0.62, 0.69, ... 0.93): 3 stopped there.
N_ITER_NO_CHANGE = 5
# LinearClassifierCV's default path: factor 4, patience 3 (64x past the best C): half the
# steps of factor 2 with patience 5.
PATH_FACTOR, PATH_PATIENCE = 4.0, 3


def c_min(X, y, classes, weight, bias):
    """The largest C at which every hinge problem (one-vs-rest, or one for two classes) of
    ``min_w 1/2 ||w||^2 + C sum_i s_i hinge(y_i w.x_i)`` is in its linear regime.

    With ``v = sum_i s_i y_i x_i`` (``x_i`` with the bias feature ``bias`` appended when
    ``bias > 0``), the dual point ``alpha_i = C s_i`` (every row at its bound) is optimal
    exactly while every margin ``C y_i x_i.v`` is at most 1, that is for
    ``C <= 1 / max_i y_i x_i.v``: up to there the model is ``w = C v``, its direction and
    predictions do not change. Rows of weight 0 do not count. A problem with ``v = 0`` (its
    two classes cancel out) has ``w = 0`` at every C and is left out; if all are, the
    result is liblinear's start, ``1 / (n max_i ||x_i||^2)``.

    Parameters
    ----------
    X : CSR matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    classes : ndarray of shape (n_classes,), sorted
    weight : ndarray of shape (n_samples,)
        Sample weights times class weights, ``s_i``.
    bias : float
        The bias feature's value, 0 for none.

    Returns
    -------
    float
    """
    positive = classes[-1:] if classes.shape[0] == 2 else classes
    signs = np.where(y[:, None] == positive[None, :], 1.0, -1.0)  # (n, problems)
    counted = weight > 0.0
    sy = signs * weight[:, None]
    v = np.asarray(X.T @ sy)  # (n_features, problems)
    margins = signs * (np.asarray(X @ v) + bias * bias * sy.sum(axis=0))
    largest = margins[counted].max(axis=0)
    largest = largest[largest > 0.0]
    if largest.size:
        return float(1.0 / largest.max())
    norms = np.asarray(X.multiply(X).sum(axis=1)).ravel() + bias * bias
    return float(1.0 / (X.shape[0] * max(norms.max(), np.finfo(np.float64).tiny)))


def path_Cs(start, Cs, factor, n_iter_no_change):
    """The Cs to run, increasing, and the patience (None: run them all) of
    :class:`~fasttext_lin.LinearClassifierCV`'s ``Cs`` ('auto', an int or values), the path
    starting at ``start``."""
    if isinstance(Cs, str):
        steps = int(np.floor(np.log(MAX_RANGE) / np.log(factor) * (1 + 1e-12))) + 1
        return start * factor ** np.arange(steps), n_iter_no_change
    if isinstance(Cs, numbers.Integral):
        return start * factor ** np.arange(Cs), None
    return np.unique(np.asarray(Cs, dtype=np.float64)), None


def fold_parts(X, y, weight, folds):
    """The rows of each fold, selected once: ``(X_train, y_train, weight_train, X_test,
    y_test)`` per ``(train, test)`` of ``folds``."""
    return [(X[train], y[train], weight[train], X[test], y[test]) for train, test in folds]


def run_path(base, parts, losses, Cs, n_iter_no_change, scorer, n_jobs, verbose=0,
             starts=None):
    """Cross-validated scores of ``base`` (a LinearClassifier) along the C path of each loss.

    Each (loss, fold) has one model, refitted at each C with ``warm_start=True`` on the same
    training rows, so it starts from the previous C's solution (the 'cd' duals, or the
    weights). At each step a one-vs-rest model (more than two classes, a loss other than
    softmax) fits its classes on ``n_jobs`` threads, one fold after another (its model does
    not depend on the threads, and the classes balance them better than a few folds would);
    the other (loss, fold) fits run on ``n_jobs`` threads. A loss's path
    stops after ``n_iter_no_change`` steps without a mean score above its best so far (None:
    never), or at the end of ``Cs``. Steps that score exactly as the first C did, before any
    improvement, are not counted: near ``c_min`` the predictions barely change (a1a scores
    its majority class for 5 doublings of C, then improves by 8 points).

    Parameters
    ----------
    base : LinearClassifier
        Cloned once per (loss, fold), its ``loss`` and ``C`` set.
    parts : list of tuple
        Each fold's ``(X_train, y_train, weight_train, X_test, y_test)`` (:func:`fold_parts`;
        the features may differ between folds).
    losses : sequence of str
    Cs : ndarray
        The path, increasing.
    n_iter_no_change : int or None
    scorer : callable ``scorer(estimator, X, y)``
    n_jobs : int or None
    verbose : int, default=0
    starts : dict or None, default=None
        If a dict, it receives ``loss -> list`` of each fold's ``dual_coef_`` (a copy; None
        for a fold whose model has none) at the loss's best C so far: what a refit at the
        chosen C can start from.

    Returns
    -------
    dict
        loss -> list of ``(C, scores, fit_times, score_times)``, one per C run, each array of
        one entry per fold.
    """
    n_folds = len(parts)
    models = {(loss, k): clone(base).set_params(loss=loss, warm_start=True)
              for loss in losses for k in range(n_folds)}
    one_vs_rest = {loss for loss in losses if loss != "softmax"
                   and all(np.unique(part[1]).shape[0] > 2 for part in parts)}
    for (loss, _), model in models.items():
        if loss in one_vs_rest:
            model.set_params(n_jobs=n_jobs)
    results = {loss: [] for loss in losses}
    best = {loss: -np.inf for loss in losses}
    stale = {loss: 0 for loss in losses}
    first = {}
    active = list(losses)
    # The fits' own ConvergenceWarnings (one per fit and problem) are summed up in one.
    with warnings.catch_warnings(record=True) as caught, \
            Parallel(n_jobs=n_jobs, prefer="threads") as parallel:
        warnings.simplefilter("always", ConvergenceWarning)
        for C in Cs:
            tasks = [(loss, k) for loss in active for k in range(n_folds)]
            shared = [task for task in tasks if task[0] not in one_vs_rest]
            done = dict(zip(shared, parallel(
                delayed(_fit_score)(models[task], C, parts[task[1]], scorer)
                for task in shared)))
            for task in tasks:
                if task not in done:
                    done[task] = _fit_score(models[task], C, parts[task[1]], scorer)
            out = [done[task] for task in tasks]
            for loss in list(active):
                row = np.array([o for task, o in zip(tasks, out) if task[0] == loss]).T
                results[loss].append((float(C), *row))
                mean = row[0].mean()
                if verbose:
                    print(f"-- loss {loss}, C={C:.6g}: mean score {mean:.6f}")
                first.setdefault(loss, mean)
                if mean > best[loss]:
                    stale[loss], best[loss] = 0, mean
                    if starts is not None:
                        starts[loss] = [_dual_copy(models[loss, k]) for k in range(n_folds)]
                elif best[loss] > first[loss] or mean != first[loss]:
                    stale[loss] += 1
                if n_iter_no_change is not None and stale[loss] >= n_iter_no_change:
                    active.remove(loss)
            if not active:
                break
    _summarise(caught)
    return results


def best_choice(results):
    """``(loss, C, mean score)`` of the best mean score of :func:`run_path`'s results, the
    first on ties (losses in their order, then increasing C)."""
    rows = [(loss, C, np.mean(scores)) for loss, runs in results.items()
            for C, scores, *_ in runs]
    return rows[int(np.argmax([row[2] for row in rows]))]


def _summarise(caught):
    """Re-emit the warnings caught during the path, the ConvergenceWarnings as one."""
    unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if unconverged:
        warnings.warn(
            f"{len(unconverged)} fit(s) on the C path stopped before their tol, their scores "
            f"may be off; the first said: {unconverged[0].message}", ConvergenceWarning,
            stacklevel=3)


def _dual_copy(model):
    """A copy of the model's ``dual_coef_`` ('cd'), or None."""
    dual = vars(model).get("_dual_coef")
    return None if dual is None else dual.copy()


def _fit_score(model, C, part, scorer):
    """Refit ``model`` at ``C`` on the training part (warm), score it on the held-out part."""
    X_train, y_train, w_train, X_test, y_test = part
    start = time.perf_counter()
    model.set_params(C=C).fit(X_train, y_train, sample_weight=w_train)
    fitted = time.perf_counter()
    score = scorer(model, X_test, y_test)
    return score, fitted - start, time.perf_counter() - fitted


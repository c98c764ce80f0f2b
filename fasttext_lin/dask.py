"""Train one LinearClassifier across the workers of a Dask cluster: by parameter mixing
(SGD), or by CoCoA+ to the optimum of ``solver='cd'``.

:func:`featurize` turns a dask bag or dataframe of texts, or a list of files, into
partitions of ``(X, y)`` built on the workers (text through a hashing
:class:`~fasttext_lin.BagOfWords`, which learns nothing, so every partition is featurised
alone). :func:`fit` deals the partitions into groups (by default one a worker), builds and
keeps each group on one worker, and runs rounds of iterative parameter mixing: each group
runs SGD over its partitions from the current model on the worker that holds it, and the
model becomes the mean of the groups' models, taken in group order. The model moves with
each round's tasks, by Dask, never by hand. As the groups, their seeds and the order of the
mean do not depend on where the tasks run, a fixed number of groups gives the same model on
any number of workers, and a group that a dying worker takes with it is rebuilt from its
source by Dask, giving the same model again. With ``solver='cd'``, the rounds are CoCoA+
(:mod:`fasttext_lin._cocoa`): the groups keep their dual variables on their workers and
training stops at the classifier's ``tol`` on the global duality gap.

Needs the ``dask`` extra: ``pip install "fasttext_lin[dask]"``.
"""

import copy
import os
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._constants import EXACT_TOL
from ._state import state_class
from .stream import index_lines, read_chunk, streaming_classifier, streaming_featurizer


@dataclass(frozen=True)
class Partitions:
    """Partitions of a data set to train on, from :func:`featurize`.

    Attributes
    ----------
    parts : list of dask.delayed.Delayed
        Each computes one partition's ``(X, y)``.
    featurizer : BagOfWords or None
        The featurizer of text partitions; None for LIBSVM files.
    """

    parts: list
    featurizer: object


def featurize(data, labels=None, *, featurizer=None, text_column="text", label_column="label",
              format="fasttext", chunk_size=100_000, n_features=None,
              label_prefix="__label__", encoding="utf-8", errors="strict"):
    """Describe the partitions of ``(X, y)`` to build on the workers.

    Parameters
    ----------
    data : dask.bag.Bag, dask.dataframe.DataFrame, or list of str or os.PathLike
        A bag of texts (``labels``: a bag of their labels, partitioned alike); a dataframe
        with ``text_column`` and ``label_column``; or files, each cut into partitions of
        ``chunk_size`` lines: fastText-format corpora (``format='fasttext'``) or LIBSVM files
        (``format='libsvm'``, ``n_features`` wide).
    labels : dask.bag.Bag, default=None
        With a bag of texts only.
    featurizer : BagOfWords, default=None
        Texts only: a hashing featurizer that learns nothing (see
        :func:`fasttext_lin.stream.stream_fit`); default ``BagOfWords(2**20,
        weighting='count', bias=True)``, one thread per partition (a worker's threads
        already featurise partitions side by side; give ``n_jobs`` for more).
    text_column, label_column : str
        The columns of a dataframe.
    format : {'fasttext', 'libsvm'}, default='fasttext'
        The format of files.
    chunk_size : int, default=100_000
        Lines of a file per partition.
    n_features : int, default=None
        LIBSVM files only, required.
    label_prefix, encoding, errors : str
        fastText files only; see :func:`fasttext_lin.datasets.read_fasttext`.

    Returns
    -------
    Partitions
    """
    from dask import delayed

    if isinstance(data, (list, tuple)):
        if format == "libsvm":
            if n_features is None:
                raise ValueError("n_features is required with LIBSVM files: pass the number "
                                 "of features (a LIBSVM file does not say)")
            read, featurizer = dict(n_features=n_features), None
        else:
            featurizer = streaming_featurizer(featurizer)
            read = dict(featurizer=featurizer, label_prefix=label_prefix, encoding=encoding,
                        errors=errors)
        parts = []
        for path in data:
            index = index_lines(os.fspath(path), chunk_size, format, label_prefix, encoding)
            parts += [delayed(read_chunk, pure=True)(index, k, **read)
                      for k in range(index.n_chunks)]
        return Partitions(parts, featurizer)
    featurizer = streaming_featurizer(featurizer)
    if hasattr(data, "columns"):
        missing = {text_column, label_column} - set(data.columns)
        if missing:
            raise ValueError(f"the dataframe has no column(s) {sorted(missing)}; pass "
                             "text_column and label_column")
        parts = [delayed(_featurize_frame, pure=True)(frame, featurizer, text_column,
                                                      label_column)
                 for frame in data.to_delayed()]
        return Partitions(parts, featurizer)
    if labels is None:
        raise ValueError("a bag of texts needs labels: a bag of their labels, partitioned "
                         "alike")
    if data.npartitions != labels.npartitions:
        raise ValueError(f"texts and labels must be partitioned alike: {data.npartitions} and "
                         f"{labels.npartitions} partitions")
    parts = [delayed(_featurize_texts, pure=True)(texts, y, featurizer)
             for texts, y in zip(data.to_delayed(), labels.to_delayed())]
    return Partitions(parts, featurizer)


def _featurize_texts(texts, labels, featurizer):
    texts, labels = list(texts), np.asarray(list(labels))
    if len(texts) != labels.shape[0]:
        raise ValueError(f"a partition holds {len(texts)} texts but {labels.shape[0]} labels: "
                         "partition texts and labels alike")
    return featurizer.transform(texts), labels


def _featurize_frame(frame, featurizer, text_column, label_column):
    return (featurizer.transform(frame[text_column].tolist()),
            frame[label_column].to_numpy())


def fit(partitions, *, client=None, classifier=None, passes=None, groups=None,
        random_state=None, callback=None, local_passes=1, accelerate=True, progress=True):
    """Train one model on the partitions, across the workers of a Dask cluster.

    The partitions are dealt into ``groups`` groups (partition ``i`` to group
    ``i % groups``), each kept in one worker's memory. With SGD (``solver='sgd'`` or
    ``'auto'``), a round runs, for each group on the worker holding it, one SGD epoch over
    each of its partitions in turn (in a fresh random order), starting from the current
    model; the model becomes the mean of the groups' models. One group is plain SGD over all
    the data; more groups train in parallel.

    With ``solver='cd'`` (loss 'hinge' or 'squared_hinge'), rounds of CoCoA+ (see
    :mod:`fasttext_lin._cocoa`) reach the optimum that ``LinearClassifier(solver='cd')``
    reaches in one process, whatever the groups: each group keeps its dual variables in its
    worker's memory and improves them by ``local_passes`` passes of dual coordinate descent a
    round; only the weights travel. Training stops when every problem's relative duality gap
    is at most the classifier's ``tol`` (one-vs-rest: one problem a class). A group lost with
    a worker is rebuilt from its source elsewhere, its dual variables start again from 0 and
    its share of the weights is dropped with them; training goes on to the same optimum.

    Parameters
    ----------
    partitions : Partitions
        From :func:`featurize`. Parameter mixing assumes they are drawn alike: shuffle data
        sorted by class before partitioning it.
    client : dask.distributed.Client, default=None
        The cluster to run on; default: the current client (``Client()`` starts a
        ``LocalCluster``; ``Client("tcp://host:8786")`` connects to a running scheduler).
    classifier : LinearClassifier, default=None
        The model's parameters; ``C`` refers to all the rows. Default
        ``LinearClassifier(average=True)``. ``solver='cd'`` trains by CoCoA+ (without
        ``class_weight``); its ``tol`` is the relative duality gap to stop at.
    passes : int, default=None
        Rounds. SGD: exactly this many, each one epoch over every partition (default 5).
        CoCoA+: at most this many, fewer once the gap is within ``tol`` (default the
        classifier's ``max_iter``); if they run out, a ConvergenceWarning says the gap and
        the model is the round's of smallest certified gap (without ``dual_coef_``).
    groups : int, default=None
        Groups trained in parallel; default: the cluster's workers when ``fit`` starts (at
        most one group a partition). The model depends on ``groups`` and ``random_state``
        only: fix ``groups`` to get the same model on any cluster.
    random_state : int or None, default=None
        Seeds the partition orders and each partition's row order in each round.
    callback : callable, default=None
        Called after each round as ``callback(round, model)`` (round from 1); CoCoA+ calls
        ``callback(round, progress)``, ``progress`` a named tuple ``(model, relative_gap,
        seconds, resets)``: the model after the round, the gap at its start (NaN when a
        reset group made it uncertain), the round's seconds and the groups reset so far.
    local_passes : int, default=1
        CoCoA+ only: passes of dual coordinate descent over each group's rows a round. More
        passes do more work between two exchanges of the weights.
    accelerate : bool, default=True
        CoCoA+ only: extrapolate the dual variables between rounds (Nesterov's momentum,
        restarted when a round lowers the dual); False runs plain CoCoA+. Either way every
        round's duals are feasible and the gap certifies the model.
    progress : bool, default=True
        CoCoA+ only: a progress bar of the rounds and the gap (none when stderr is not a
        terminal).

    Returns
    -------
    LinearClassifier, or sklearn.pipeline.Pipeline
        The classifier, behind the featurizer in a pipeline for texts.

    Raises
    ------
    RuntimeError
        If the cluster loses data it cannot rebuild, or a task fails for a reason other
        than bad data (which raises the ValueError naming the file and line); no model is
        returned then.
    """
    from dask import delayed
    from distributed import get_client

    for name, value in (("passes", 1 if passes is None else passes),
                        ("groups", 1 if groups is None else groups),
                        ("local_passes", local_passes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    parts = partitions.parts
    if not parts:
        raise ValueError("no partitions to train on")
    cocoa = classifier is not None and getattr(classifier, "solver", None) == "cd"
    template = _cocoa_classifier(classifier) if cocoa else streaming_classifier(classifier)
    client = get_client() if client is None else client
    # Asked of the scheduler: Client.scheduler_info's cache may be refreshed without workers.
    workers = sorted(client.nthreads())
    groups = min(groups or max(1, len(workers)), len(parts))
    members = [list(range(g, len(parts), groups)) for g in range(groups)]
    if cocoa:
        model = _fit_cocoa(client, parts, members, workers, template,
                           template.max_iter if passes is None else passes, local_passes,
                           random_state, callback, progress, accelerate)
        return _with_featurizer(partitions, model)
    passes = 5 if passes is None else passes
    # A group's partitions are built on one worker, which then trains on them: no data moves
    # between workers, unless that worker dies and Dask rebuilds them elsewhere.
    data = [client.compute(delayed(list)([parts[i] for i in m]),
                           workers=workers[g % len(workers)] if workers else None,
                           allow_other_workers=True)
            for g, m in enumerate(members)]
    seed_rng, order_rng = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(random_state).spawn(2))
    try:
        summaries = [s for group in client.gather(client.map(_summary, data, pure=False))
                     for s in group]
        labels = np.unique(np.concatenate([s[0] for s in summaries]))
        if template.C is not None:
            n_rows = sum(s[1] for s in summaries)
            template.set_params(alpha=1.0 / (template.C * n_rows), C=None)
        model = None
        for round_ in range(1, passes + 1):
            seeds = seed_rng.integers(np.iinfo(np.int32).max, size=len(parts))
            # The model rides in each group's task (not scattered: a broadcast waits for every
            # worker, a dying one too, and a scattered copy lost with its worker is gone).
            start = None if model is None else _light(model)
            tasks = [client.submit(_epoch, start, template, group, labels,
                                   [int(seeds[i]) for i in m], order_rng.permutation(len(m)),
                                   pure=False)
                     for group, m in zip(data, members)]
            model = _mix(client.gather(tasks), model)
            model.n_iter_ = round_
            if callback is not None:
                callback(round_, model)
    except Exception as exc:
        _raise_failure(exc)
    finally:
        client.cancel(data)
    return _with_featurizer(partitions, model)


def _raise_failure(exc):
    """Re-raise a failure of training: bad data (ValueError, TypeError) as it is, anything
    else as a RuntimeError saying that no model was returned."""
    if isinstance(exc, (ValueError, TypeError)):
        raise exc
    raise RuntimeError(f"Dask training failed ({type(exc).__name__}: {exc}); no model was "
                       "returned. Data lost with a worker is rebuilt from its source when "
                       "Dask can; data scattered by hand cannot be.") from exc


def _with_featurizer(partitions, model):
    """``model``, behind the partitions' featurizer in a pipeline if they have one."""
    if partitions.featurizer is None:
        return model
    from sklearn.pipeline import Pipeline

    from .text_model import STEPS

    return Pipeline(list(zip(STEPS, (partitions.featurizer, model))))


def _cocoa_classifier(classifier):
    """An unfitted clone of a ``solver='cd'`` classifier that CoCoA+ trains; ValueError
    otherwise."""
    from .linear_model import LinearClassifier

    if not isinstance(classifier, LinearClassifier):
        raise TypeError(f"classifier must be a LinearClassifier, got "
                        f"{type(classifier).__name__}")
    model = clone(classifier)
    model.check_params()
    if model.loss not in ("hinge", "squared_hinge"):
        raise ValueError(f"Dask training with solver='cd' (CoCoA+) trains loss 'hinge' or "
                         f"'squared_hinge', not loss={model.loss!r}: choose one of them, or "
                         "solver='sgd'.")
    if model.class_weight is not None:
        raise ValueError(f"class_weight={model.class_weight!r}: Dask training with "
                         "solver='cd' takes no class weights; give class_weight=None.")
    if model.C is None and model.alpha == 0.0:
        raise ValueError("alpha=0 with C=None asks solver='cd' for a hard margin (C = inf): "
                         "give alpha > 0 or a finite C.")
    return model


def _fit_cocoa(client, parts, members, workers, template, max_rounds, local_passes,
               random_state, callback, progress, accelerate):
    """Train ``template`` (``solver='cd'``) by CoCoA+ on the partitions ``parts``, dealt
    into the groups ``members``; see :func:`fasttext_lin._cocoa.train`."""
    from dask import delayed

    from . import _cocoa

    bias = float(template.intercept_scaling) if template.fit_intercept else 0.0
    blocks = [client.compute(delayed(_cocoa.make_block)([parts[i] for i in m], len(members),
                                                        bias),
                             workers=workers[g % len(workers)] if workers else None,
                             allow_other_workers=True)
              for g, m in enumerate(members)]
    try:
        described = client.gather(client.map(_cocoa.describe, blocks, pure=False))
        classes = np.unique(np.concatenate([c for c, _, _ in described]))
        widths = {width for _, _, width in described}
        if classes.shape[0] < 2:
            raise ValueError(f"Dask training needs samples of at least 2 classes, got one "
                             f"class: every label is {classes[0].tolist()!r}.")
        if len(widths) > 1:
            raise ValueError(f"partitions of different widths {sorted(widths)} cannot train "
                             "one model: give every partition the same n_features")
        n_features = widths.pop()
        sizes = np.zeros(len(parts), dtype=np.int64)
        for m, (_, block_sizes, _) in zip(members, described):
            sizes[m] = block_sizes
        C = (float(template.C) if template.C is not None
             else 1.0 / (float(template.alpha) * int(sizes.sum())))
        positive = classes[-1:] if classes.shape[0] == 2 else classes
        spec = _cocoa.Spec(len(members), bias, C, template.loss == "squared_hinge",
                           local_passes, positive)
        tol = EXACT_TOL if template.tol is None else float(template.tol)

        def model_of(w, rounds):
            return _cd_model(template, classes, w, bias, rounds)

        w, duals, rounds = _cocoa.train(
            client, blocks, spec, n_features, tol=tol, max_rounds=max_rounds,
            seed=random_state, callback=callback, progress=progress, model_of=model_of,
            accelerate=accelerate)
    except Exception as exc:
        _raise_failure(exc)
    finally:
        client.cancel(blocks)
    model = model_of(w, rounds)
    if all(d is not None for d in duals):
        # The dual variables in the partitions' order, as fit in one process keeps them.
        starts = np.concatenate([[0], np.cumsum(sizes)])
        dual = np.empty((w.shape[0], starts[-1]))
        for m, block in zip(members, duals):
            columns = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in m])
            dual[:, columns] = block
        model.dual_coef_ = dual
    return model


def _cd_model(template, classes, w, bias, rounds):
    """The fitted clone of ``template`` of weights ``w`` (one row per problem, the bias
    feature's weight last)."""
    model = clone(template)
    intercept = w[:, -1] * bias
    state = state_class(model.loss).from_solution(w[:, :-1].copy(), intercept,
                                                  classes.shape[0], 1)
    model.classes_ = classes
    model.n_features_in_ = w.shape[1] - 1
    model.sgd_state_ = state
    model.coef_, model.intercept_ = state.coef_intercept()
    model.n_iter_ = rounds
    model.t_ = state.t
    return model


def _summary(group):
    return [(np.unique(y), y.shape[0]) for _, y in group]


def _epoch(start, template, group, labels, seeds, order):
    """One SGD epoch over each partition of ``group`` in ``order``, from the model
    ``start`` (from zero if None), the averaging sums restarted so that
    :meth:`ModelState.mix` can add them up."""
    model = clone(template) if start is None else copy.deepcopy(start)
    if start is not None:
        model.sgd_state_.restart_averaging()
    for i in order:
        X, y = group[i]
        model.set_params(random_state=seeds[i])
        model.partial_fit(X, y, classes=labels)
    return _light(model)


def _light(model):
    """``model`` without ``coef_`` and ``intercept_``, which its SGD state gives again: a
    third less to move between the workers."""
    light = copy.copy(model)
    del light.coef_, light.intercept_
    return light


def _mix(models, start):
    """The model whose weights are the mean of ``models``' (one round's partitions, from
    ``start``, or from zero if None), in their order."""
    first = models[0]
    model = copy.deepcopy(first if start is None else start)
    if start is None:
        model.sgd_state_ = type(first.sgd_state_).zeros(
            first.classes_.shape[0], first.n_features_in_, first.sgd_state_.v.dtype,
            bool(first.average))
    state = model.sgd_state_
    state.mix(m.sgd_state_ for m in models)
    model.coef_, model.intercept_ = state.coef_intercept()
    model.t_ = state.t
    return model

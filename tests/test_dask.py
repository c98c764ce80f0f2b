"""Dask: featurizing partitions on the workers, parameter mixing, and a worker lost mid-way."""

import os
import warnings

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from fasttext_lin import BagOfWords, LinearClassifier  # noqa: E402
from fasttext_lin import dask as fdask  # noqa: E402
from fasttext_lin.datasets import load_libsvm  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def _parts(path, chunk_size, n_features=30):
    X, y = load_libsvm(path, n_features=n_features)
    return [(X[i:i + chunk_size], y[i:i + chunk_size]) for i in range(0, len(y), chunk_size)]


def _seeds(random_state, passes, n_parts):
    """The partitions' seeds of each round, as fit draws them."""
    rng = np.random.default_rng(np.random.SeedSequence(random_state).spawn(2)[0])
    return [rng.integers(np.iinfo(np.int32).max, size=n_parts) for _ in range(passes)]


@pytest.mark.parametrize("average", [False, True])
def test_a_round_is_the_mean_of_the_groups_epochs(client, tmp_path, average, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 300, d=30)
    clf = LinearClassifier(loss="log_loss", alpha=1e-3, average=average)
    got = fdask.fit(fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100),
                    client=client, classifier=clf, passes=1, groups=3, random_state=3)
    models = [LinearClassifier(**clf.get_params()).set_params(random_state=int(seed))
              .partial_fit(X, y, classes=[-1.0, 1.0])
              for (X, y), seed in zip(_parts(path, 100), _seeds(3, 1, 3)[0])]
    # One partition a group. Averaged SGD sums the weights after every step of every
    # group: the mean of the groups' averages, weighted by their steps (equal here).
    np.testing.assert_allclose(got.coef_, np.mean([m.coef_ for m in models], axis=0),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.intercept_, np.mean([m.intercept_ for m in models], axis=0),
                               rtol=1e-12, atol=1e-15)


def test_one_partition_is_partial_fit_epoch_after_epoch(client, tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 200, d=30)
    clf = LinearClassifier(loss="hinge", alpha=1e-3, average=True)
    got = fdask.fit(fdask.featurize([path], format="libsvm", n_features=30, chunk_size=1000),
                    client=client, classifier=clf, passes=4, random_state=5)
    (X, y), = _parts(path, 1000)
    want = LinearClassifier(**clf.get_params())
    for (seed,) in _seeds(5, 4, 1):
        want.set_params(random_state=int(seed)).partial_fit(X, y, classes=[-1.0, 1.0])
    np.testing.assert_allclose(got.coef_, want.coef_, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got.intercept_, want.intercept_, rtol=1e-10)
    assert got.n_iter_ == 4 and got.t_ == want.t_


def test_one_group_runs_its_partitions_in_turn(client, tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 300, d=30)
    clf = LinearClassifier(loss="log_loss", alpha=1e-3, average=True)
    got = fdask.fit(fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100),
                    client=client, classifier=clf, passes=2, groups=1, random_state=1)
    parts = _parts(path, 100)
    orders = np.random.default_rng(np.random.SeedSequence(1).spawn(2)[1])
    want = LinearClassifier(**clf.get_params())
    for seeds in _seeds(1, 2, 3):
        for i in orders.permutation(3):
            want.set_params(random_state=int(seeds[i])).partial_fit(*parts[i],
                                                                   classes=[-1.0, 1.0])
    np.testing.assert_allclose(got.coef_, want.coef_, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got.intercept_, want.intercept_, rtol=1e-10)


def _texts(n, seed=0):
    rng = np.random.default_rng(seed)
    vocab = {"a": ["good", "great", "fine"], "b": ["bad", "poor", "dull"],
             "c": ["news", "vote", "court"]}
    labels = rng.choice(list(vocab), size=n)
    texts = [" ".join(rng.choice(vocab[y] + ["the", "film", "a"], size=5)) for y in labels]
    return texts, labels


def test_bag_dataframe_and_files_give_the_same_model_on_any_number_of_workers(client,
                                                                               tmp_path):
    texts, labels = _texts(240)
    path = tmp_path / "c.txt"
    path.write_text("".join(f"__label__{y} {t}\n" for t, y in zip(texts, labels)))
    bow = BagOfWords(1 << 10, weighting="binary", bias=True)
    clf = LinearClassifier(loss="softmax", C=1.0, average=True)
    fit = dict(classifier=clf, passes=3, groups=2, random_state=0)
    bag = fdask.fit(fdask.featurize(db.from_sequence(texts, npartitions=3),
                                    db.from_sequence(labels.tolist(), npartitions=3),
                                    featurizer=bow), client=client, **fit)
    frame = dd.from_pandas(pd.DataFrame({"text": texts, "label": labels}), npartitions=3)
    by_frame = fdask.fit(fdask.featurize(frame, featurizer=bow), client=client, **fit)
    by_file = fdask.fit(fdask.featurize([path], featurizer=bow, chunk_size=80), client=client,
                        **fit)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as one, Client(one) as solo:
        alone = fdask.fit(fdask.featurize([path], featurizer=bow, chunk_size=80), client=solo,
                          **fit)
    for other in (by_frame, by_file, alone):
        np.testing.assert_array_equal(other[-1].coef_, bag[-1].coef_)
        np.testing.assert_array_equal(other[-1].intercept_, bag[-1].intercept_)
    assert bag.score(texts, labels) > 0.9


def test_a_worker_killed_mid_training_changes_nothing(client, tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 600, d=30)
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100)
    clf = LinearClassifier(loss="hinge", C=1.0, average=True)
    fit = dict(classifier=clf, passes=4, groups=2, random_state=0)
    clean = fdask.fit(parts, client=client, **fit)
    killed = []

    def kill_one(round_, model):
        if round_ == 1:
            victim = sorted(client.nthreads())[0]  # scheduler_info's cache may be empty
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # noqa: BLE001 - the worker dies before it can answer
                pass
            killed.append(victim)

    again = fdask.fit(parts, client=client, callback=kill_one, **fit)
    assert killed
    np.testing.assert_array_equal(again.coef_, clean.coef_)
    np.testing.assert_array_equal(again.intercept_, clean.intercept_)
    client.wait_for_workers(2, timeout=180)  # the nanny restarts it (slowly under load)


def test_bad_input_fails_with_the_files_line(client, tmp_path, write_libsvm):
    path = tmp_path / "bad.svm"
    write_libsvm(path, 50, d=30)
    lines = path.read_text().splitlines()
    lines[41] = "1 5:1 3:1"
    path.write_text("\n".join(lines) + "\n")
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=20)
    with pytest.raises(ValueError, match="bad.svm:42: indices are not increasing"):
        fdask.fit(parts, client=client, passes=1)
    with pytest.raises(ValueError, match="n_features is required"):
        fdask.featurize([path], format="libsvm")
    texts, labels = _texts(20)
    with pytest.raises(ValueError, match="partitioned alike"):
        fdask.featurize(db.from_sequence(texts, npartitions=2),
                        db.from_sequence(labels.tolist(), npartitions=3))
    with pytest.raises(ValueError, match=r"no column\(s\) \['label'\]"):
        fdask.featurize(dd.from_pandas(pd.DataFrame({"text": texts}), npartitions=2))
    with pytest.raises(ValueError, match="passes must be a positive integer"):
        fdask.fit(parts, client=client, passes=0)


def test_a9a_on_the_cluster_scores_as_in_one_process(client, shared_data):
    from fasttext_lin.datasets import load_libsvm_files

    train, test = shared_data / "libsvm" / "a9a", shared_data / "libsvm" / "a9a.t"
    X, y, X_test, y_test = load_libsvm_files([train, test], n_features=123)
    clf = LinearClassifier(C=0.1, average=True)
    parts = fdask.featurize([train], format="libsvm", n_features=123, chunk_size=8200)
    distributed = fdask.fit(parts, client=client, classifier=clf, passes=5, random_state=0)
    alone = LinearClassifier(C=0.1, solver="sgd", average=True, max_iter=5, tol=None,
                             random_state=0).fit(X, y)
    assert distributed.score(X_test, y_test) == pytest.approx(alone.score(X_test, y_test),
                                                              abs=0.003)


# -- CoCoA+: solver='cd' ---------------------------------------------------------------------

def _distance_bound(model, alone, X, y):
    """``(||w - w*||, sqrt(2 gap))``: the primal is 1-strongly convex in ``(w, bias weight)``,
    so the distance to the optimum is at most ``sqrt(2 (P(w) - P*))``."""
    gap = model.duality_gap(X, y)
    scale = model.intercept_scaling
    distance = np.linalg.norm(np.c_[model.coef_ - alone.coef_,
                                    (model.intercept_ - alone.intercept_)[:, None] / scale])
    return distance, np.sqrt(2.0 * gap.gap)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("groups", [1, 2, 4])
def test_cocoa_reaches_the_one_process_optimum(client, tmp_path, write_libsvm, loss, groups):
    path = tmp_path / "a.svm"
    write_libsvm(path, 400, d=30)
    X, y = load_libsvm(path, n_features=30)
    clf = LinearClassifier(solver="cd", loss=loss, C=1.0, tol=1e-2)
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100)
    seen = []
    model = fdask.fit(parts, client=client, classifier=clf, groups=groups, random_state=0,
                      local_passes=3, callback=lambda r, p: seen.append(p))
    alone = LinearClassifier(solver="cd", loss=loss, C=1.0, tol=1e-10).fit(X, y)
    gap = model.duality_gap(X, y)
    # Certified by the model's own dual variables, kept in the partitions' row order.
    assert model.dual_coef_.shape == (1, 400)
    assert gap.relative_gap <= 1e-2 and model.n_iter_ == len(seen) < 1000
    assert gap.primal >= alone.duality_gap(X, y).primal * (1 - 1e-12)
    distance, bound = _distance_bound(model, alone, X, y)
    assert distance <= bound
    # The callback's gaps: 1 at the start, above tol until the end; the models are fitted.
    assert seen[0].relative_gap == 1.0 and all(p.relative_gap > 1e-2 for p in seen)
    assert [p.model.n_iter_ for p in seen] == list(range(1, len(seen) + 1))
    assert all(p.resets == groups and p.seconds > 0 for p in seen)
    assert model.score(X, y) == pytest.approx(alone.score(X, y), abs=0.03)


def test_cocoa_accelerated_rounds_reach_the_gap_sooner(client, tiny_data):
    path = tiny_data / "a9a" / "a9a"
    parts = fdask.featurize([path], format="libsvm", n_features=123, chunk_size=75)
    clf = LinearClassifier(solver="cd", loss="hinge", C=1.0, tol=1e-3)
    rounds = {}
    for accelerate in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = fdask.fit(parts, client=client, classifier=clf, groups=4, passes=300,
                              accelerate=accelerate, random_state=0, progress=False)
        rounds[accelerate] = model.n_iter_
    # Plain CoCoA+ runs out of its 300 rounds on this problem; the momentum does not.
    assert rounds[True] < 0.5 * rounds[False]


def test_cocoa_one_vs_rest_on_texts(client):
    texts, labels = _texts(240)
    bow = BagOfWords(1 << 10, weighting="binary", bias=True)
    clf = LinearClassifier(solver="cd", loss="squared_hinge", C=0.5, tol=1e-2)
    bag = fdask.featurize(db.from_sequence(texts, npartitions=4),
                          db.from_sequence(labels.tolist(), npartitions=4), featurizer=bow)
    pipe = fdask.fit(bag, client=client, classifier=clf, groups=2, random_state=0,
                     local_passes=2)
    X = pipe[0].transform(texts)
    model = pipe[-1]
    alone = LinearClassifier(**clf.get_params()).set_params(tol=1e-10).fit(X, labels)
    assert list(model.classes_) == ["a", "b", "c"] and model.coef_.shape == (3, 1025)
    assert model.duality_gap(X, labels).relative_gap <= 1e-2
    distance, bound = _distance_bound(model, alone, X, labels)
    assert distance <= bound
    assert pipe.score(texts, labels) == pytest.approx(alone.score(X, labels), abs=0.01)


@pytest.fixture
def own_client():
    """A cluster of two workers for one test that kills one: the others never wait for its
    nanny to restart it."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


def test_cocoa_with_a_worker_killed_ends_at_the_optimum(own_client, tmp_path, write_libsvm):
    client = own_client
    path = tmp_path / "a.svm"
    write_libsvm(path, 400, d=30)
    X, y = load_libsvm(path, n_features=30)
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100)
    clf = LinearClassifier(solver="cd", loss="squared_hinge", C=1.0, tol=1e-2)
    seen = []

    def kill_one(round_, progress):
        seen.append(progress)
        if round_ == 3:
            # nthreads asks the scheduler: scheduler_info may hold no workers (see _cocoa)
            victim = sorted(client.nthreads())[0]
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # noqa: BLE001 - the worker dies before it can answer
                pass

    model = fdask.fit(parts, client=client, classifier=clf, groups=2, random_state=0,
                      local_passes=3, callback=kill_one)
    alone = LinearClassifier(solver="cd", loss="squared_hinge", C=1.0, tol=1e-10).fit(X, y)
    # One block lost its dual variables (two resets at the start, then one more); the round
    # after the loss certified nothing.
    assert seen[-1].resets == 3 and np.isnan([p.relative_gap for p in seen]).sum() == 1
    assert model.duality_gap(X, y).relative_gap <= 1e-2
    distance, bound = _distance_bound(model, alone, X, y)
    assert distance <= bound


def test_cocoa_stops_at_its_rounds_and_refuses_bad_parameters(client, tmp_path,
                                                               write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 200, d=30)
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100)
    clf = LinearClassifier(solver="cd", loss="hinge", C=1.0, tol=1e-6)
    seen = []
    with pytest.warns(ConvergenceWarning, match="stopped at 8 rounds with a relative duality "
                                                "gap of"):
        model = fdask.fit(parts, client=client, classifier=clf, passes=8, groups=2,
                          callback=lambda r, p: seen.append((p.relative_gap, p.model.coef_)))
    assert model.n_iter_ == 8 and not hasattr(model, "dual_coef_")
    # The model returned is the round's start of smallest certified gap: the model after the
    # round before (a callback reports the gap at its round's start).
    best = int(np.argmin([gap for gap, _ in seen]))
    assert best >= 1
    np.testing.assert_array_equal(model.coef_, seen[best - 1][1])
    bad = [(dict(local_passes=0), "local_passes must be a positive integer"),
           (dict(classifier=clf.set_params(loss="log_loss")), "CoCoA.*not loss='log_loss'"),
           (dict(classifier=LinearClassifier(solver="cd", class_weight="balanced")),
            "takes no class weights"),
           (dict(classifier=LinearClassifier(solver="cd", C=-1.0)), "C == -1.0")]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            fdask.fit(parts, client=client, **kwargs)


def _sleep_then_where(seconds):
    import time

    from distributed import get_worker

    time.sleep(seconds)
    return get_worker().address


def test_cocoa_resubmits_a_task_whose_worker_died_mid_round(own_client):
    from fasttext_lin._cocoa import _Homes

    client = own_client
    homes = _Homes(client, 2)
    first = list(homes.where)
    killed = []

    def submit(k, where):
        future = client.submit(_sleep_then_where, 0.5, workers=where,
                               allow_other_workers=False, pure=False)
        if k == 0 and not killed:
            killed.append(where)
            try:
                client.run(os._exit, 1, workers=[where])
            except Exception:  # noqa: BLE001 - the worker dies before it can answer
                pass
        return future

    ran_on = homes.run(submit)
    # Block 0 moved to the live worker, as a new incarnation whose dual variables restart.
    assert ran_on[0] != first[0] and ran_on == homes.where
    assert homes.incarnation == [1, 0] and homes.rounds[0] == 0


def test_cocoa_refuses_a_classifier_of_another_kind(client, tmp_path, write_libsvm):
    from sklearn.svm import LinearSVC

    path = tmp_path / "a.svm"
    write_libsvm(path, 50, d=30)
    parts = fdask.featurize([path], format="libsvm", n_features=30, chunk_size=100)
    with pytest.raises(TypeError, match="must be a LinearClassifier, got LinearSVC"):
        fdask.fit(parts, client=client, classifier=LinearSVC())

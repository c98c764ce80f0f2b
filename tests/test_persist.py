"""persist: round trips without pickle, and a clear error for every kind of bad file."""

import errno
import io
import json
import os
import pickle
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib import format as npy_format
from sklearn.datasets import make_classification

from fasttext_lin import NBSVM, LinearClassifier, quantize
from fasttext_lin import _sgd_kernels as K
from fasttext_lin._io import OutputPathError
from fasttext_lin._model_file import describe
from fasttext_lin._state import state_class
from fasttext_lin.persist import ModelFileError, load_model, save_model

LABELS = {"int": np.array([3, 7, 11]), "str": np.array(["neg", "neutral", "pos"])}


def data(n_classes, dtype, labels, seed=0):
    X, y = make_classification(n_samples=240, n_features=15, n_informative=8,
                               n_classes=n_classes, random_state=seed)
    return sp.csr_matrix(X.astype(dtype)), LABELS[labels][y]


def fitted(n_classes=2, dtype=np.float64, labels="int", **params):
    X, y = data(n_classes, dtype, labels)
    params = {"random_state": 0, "max_iter": 5, "tol": None, **params}
    return LinearClassifier(**params).fit(X, y), X, y


@pytest.fixture
def saved(tmp_path):
    clf, _, _ = fitted(n_classes=3)
    path = tmp_path / "model.npz"
    save_model(path, clf, state=True)
    return path


# -- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["log_loss", "softmax"])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_round_trip_predicts_and_continues_like_the_unsaved_model(
        n_classes, dtype, labels, average, loss, tmp_path):
    # Averaging is SGD's; without it, 'auto' fits log loss by 'cd', partial_fit goes on by SGD.
    clf, X, y = fitted(n_classes, dtype, labels, average=average, loss=loss,
                       solver="sgd" if average else "auto")
    path = tmp_path / "model.npz"
    save_model(path, clf, state=True)
    loaded = load_model(path)

    assert type(loaded) is LinearClassifier
    assert loaded.get_params() == clf.get_params()
    for name in ("coef_", "intercept_", "classes_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(clf, name))
        assert getattr(loaded, name).dtype == getattr(clf, name).dtype
    assert (loaded.n_iter_, loaded.t_, loaded.n_features_in_) == (
        clf.n_iter_, clf.t_, clf.n_features_in_)
    np.testing.assert_array_equal(loaded.decision_function(X), clf.decision_function(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))

    loaded.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:100], y[:100])
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    np.testing.assert_array_equal(loaded.intercept_, clf.intercept_)
    assert loaded.t_ == clf.t_


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_calibrated_round_trip_gives_the_same_probabilities(n_classes, loss, tmp_path):
    clf, X, _ = fitted(n_classes, loss=loss, probability=True)
    save_model(tmp_path / "m.npz", clf)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.get_params() == clf.get_params()
    assert loaded.calibration_.shape == (1 if n_classes == 2 else n_classes, 2)
    np.testing.assert_array_equal(loaded.calibration_, clf.calibration_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["calibration_"], clf.calibration_)


def test_version_1_file_loads_as_an_uncalibrated_model(saved):
    # What fasttext_lin wrote before probability existed.
    with zipfile.ZipFile(saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    del params["probability"]
    rewrite(saved, metadata={"format_version": 1, "params": params})
    loaded = load_model(saved)
    assert loaded.probability is False and not hasattr(loaded, "calibration_")
    assert not hasattr(loaded, "predict_proba")


@pytest.fixture
def calibrated_saved(tmp_path):
    clf, _, _ = fitted(n_classes=3, probability=True)
    path = tmp_path / "calibrated.npz"
    save_model(path, clf)
    return path


@pytest.mark.parametrize("array, message", [
    (np.zeros((2, 2)), r"shape mismatch: calibration_ has shape \(2, 2\), expected \(3, 2\) "
                       r"to match coef_ \(3, 15\)\."),
    (np.zeros((3, 2), dtype=np.float32), r"calibration_ has dtype float32, expected float64\."),
    (np.full((3, 2), np.inf), r"calibration_ holds NaN or infinite values"),
])
def test_bad_calibration_array(array, message, calibrated_saved):
    rewrite(calibrated_saved, arrays={"calibration_": array})
    expect_error(calibrated_saved, message)


def test_calibration_must_agree_with_the_parameters(saved, calibrated_saved):
    with zipfile.ZipFile(calibrated_saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    rewrite(calibrated_saved, metadata={"params": {**params, "probability": False}})
    expect_error(calibrated_saved, r"calibration_ is present, but probability=False and "
                                   r"loss='hinge' do not calibrate; fit the model again\.")
    with zipfile.ZipFile(saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    rewrite(saved, metadata={"params": {**params, "probability": True}})
    expect_error(saved, r"probability=True with loss='hinge', but no calibration_")


def test_save_refuses_a_calibration_its_parameters_contradict(tmp_path):
    clf, _, _ = fitted(probability=True)
    clf.set_params(probability=False)
    with pytest.raises(ValueError, match=r"calibration_ is present, but probability=False"):
        save_model(tmp_path / "m.npz", clf)
    clf, _, _ = fitted()
    clf.set_params(probability=True)
    with pytest.raises(ValueError, match=r"probability=True with loss='hinge', but no "
                                         r"calibration_: the parameters were changed after "
                                         r"fit; fit the model again\."):
        save_model(tmp_path / "m.npz", clf)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "softmax"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_without_state_partial_fit_continues_from_the_solution(n_classes, loss, tmp_path):
    # Without averaging the solution is the SGD iterate: continuing from it, with the
    # step count kept, is continuing the model (a two-class softmax's coef_ is w_1 - w_0,
    # whose steps do not depend on w_0 + w_1).
    clf, X, y = fitted(n_classes, loss=loss, learning_rate="optimal")
    save_model(tmp_path / "m.npz", clf)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.t_ == clf.t_
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    loaded.partial_fit(X[:100], y[:100])
    clf.partial_fit(X[:100], y[:100])
    np.testing.assert_allclose(loaded.coef_, clf.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(loaded.intercept_, clf.intercept_, rtol=1e-9, atol=1e-12)
    assert loaded.t_ == clf.t_


@pytest.mark.parametrize("loss", ["hinge", "softmax"])
def test_without_state_averaging_restarts(loss, tmp_path):
    clf, X, y = fitted(n_classes=3, solver="sgd", average=True, loss=loss)
    save_model(tmp_path / "m.npz", clf)
    averaged, plain = load_model(tmp_path / "m.npz"), load_model(tmp_path / "m.npz")
    # The average of the one step after loading is that step's weights: the averaging
    # restarted from the saved solution, as SGD without averaging takes the step.
    averaged.partial_fit(X[:1], y[:1])
    plain.set_params(average=False).partial_fit(X[:1], y[:1])
    np.testing.assert_allclose(averaged.coef_, plain.coef_, rtol=1e-12)
    assert not np.array_equal(averaged.coef_, clf.coef_)
    clf.partial_fit(X[:1], y[:1])
    assert not np.allclose(averaged.coef_, clf.coef_)


@pytest.mark.parametrize("state", [False, True])
def test_warm_start_fit_after_load_matches(state, tmp_path):
    clf, X, y = fitted(n_classes=3, solver="sgd", warm_start=True, average=True)
    save_model(tmp_path / "m.npz", clf, state=state)
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.fit(X, y).coef_, clf.fit(X, y).coef_)


@pytest.mark.parametrize("class_weight", [{3: 2.0, 7: 0.5}, {np.int64(3): 2.0},
                                          "balanced", None])
def test_class_weight_keeps_its_key_types(class_weight, tmp_path):
    clf, X, y = fitted(n_classes=3, class_weight=class_weight)
    save_model(tmp_path / "m.npz", clf)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.class_weight == class_weight
    if isinstance(class_weight, dict):
        assert all(type(key) is int for key in loaded.class_weight)
    metadata = json.loads(zipfile.ZipFile(tmp_path / "m.npz").read("metadata.json"))
    if isinstance(class_weight, dict):
        assert metadata["params"]["class_weight"] == {
            "__pairs__": [[int(k), v] for k, v in class_weight.items()]}


def test_object_labels_and_feature_names_come_back_as_objects(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = data(2, np.float64, "str")
    frame = pd.DataFrame(X.toarray(), columns=[f"f{i}" for i in range(X.shape[1])])
    clf = LinearClassifier(random_state=0, max_iter=3, tol=None).fit(frame, y.astype(object))
    save_model(tmp_path / "m.npz", clf)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.classes_.dtype == object and loaded.classes_.tolist() == clf.classes_.tolist()
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(frame), clf.predict(frame))
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert np.load(tmp_path / "m.npz", allow_pickle=False)["classes_"].dtype.kind == "U"
        object_arrays = json.loads(archive.read("metadata.json"))["object_arrays"]
    assert object_arrays == ["classes_", "feature_names_in_"]


def test_file_layout(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
        compression = {info.compress_type for info in archive.infolist()}
    assert names == ["metadata.json", "coef_.npy", "intercept_.npy", "classes_.npy",
                     "sgd_v.npy", "sgd_u.npy", "sgd_state.npy"]
    assert compression == {zipfile.ZIP_DEFLATED}
    assert metadata["format"] == "fasttext_lin-model" and metadata["format_version"] == 3
    assert metadata["estimator"] == "LinearClassifier" and metadata["quantized"] == {}
    assert metadata["fitted"]["n_features_in_"] == 15
    assert metadata["arrays"]["coef_"]["shape"] == [3, 15]
    assert metadata["arrays"]["sgd_state"] == {
        "shape": [3, K.STATE_SIZE], "dtype": "<f8",
        "sha256": metadata["arrays"]["sgd_state"]["sha256"]}
    with np.load(saved, allow_pickle=False) as npz:
        assert set(npz.files) >= {"coef_", "intercept_", "classes_"}
    clf, _, _ = fitted(n_classes=3)
    save_model(tmp_path / "plain.npz", clf, compress=False)
    with zipfile.ZipFile(tmp_path / "plain.npz") as archive:
        assert archive.namelist() == ["metadata.json", "coef_.npy", "intercept_.npy",
                                      "classes_.npy"]
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_extra_arrays_and_metadata_round_trip(tmp_path):
    clf, _, _ = fitted()
    terms = np.array(["good", "bad", "not bad"])
    extra = {"arrays": {"featurizer/terms": terms, "featurizer/ids": np.arange(3)},
             "metadata": {"featurizer": {"class": "BagOfWords", "params": {"ngram": [1, 2]}}}}
    save_model(tmp_path / "m.npz", clf, extra=extra, compress=True)
    loaded, back = load_model(tmp_path / "m.npz", return_extra=True)
    assert set(back) == {"arrays", "metadata"}
    assert back["metadata"] == extra["metadata"]
    assert set(back["arrays"]) == set(extra["arrays"])
    for name, array in extra["arrays"].items():
        np.testing.assert_array_equal(back["arrays"][name], array)
        assert back["arrays"][name].dtype == array.dtype
    assert load_model(tmp_path / "m.npz").coef_.shape == clf.coef_.shape


def test_no_extra_gives_empty_extra(saved):
    _, extra = load_model(saved, return_extra=True)
    assert extra == {"arrays": {}, "metadata": {}}


# -- save refuses what it cannot store --------------------------------------------------------

@pytest.mark.parametrize("extra, message", [
    ({"arrays": {"../x": np.zeros(2)}}, r"extra array name '\.\./x'"),
    ({"arrays": {"x": [1, 2]}}, r"extra\['arrays'\]\['x'\] is a list, not an ndarray"),
    ({"arrays": {"x": np.array([{}], dtype=object)}}, r"object array holding dict"),
    ({"metadata": {"x": object()}}, r"extra\['metadata'\] is not JSON-able"),
    ({"metadata": {1: "a"}}, r"does not survive JSON unchanged"),
    ({"vocab": np.zeros(2)}, r"extra has unknown key\(s\) \['vocab'\]"),
])
def test_save_refuses_bad_extra(extra, message, tmp_path):
    clf, _, _ = fitted()
    with pytest.raises(ValueError, match=message):
        save_model(tmp_path / "m.npz", clf, extra=extra)
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_random_state_instance(tmp_path):
    clf, _, _ = fitted()
    clf.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match=r"cannot save model to '.*m\.npz': parameter "
                       r"random_state=RandomState\(MT19937\).* is a RandomState, which a model "
                       r"file cannot hold without pickle .* \(e\.g\. random_state=0\)"):
        save_model(tmp_path / "m.npz", clf)
    assert os.listdir(tmp_path) == []


def test_save_refuses_unfitted_and_foreign_estimators(tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import SGDClassifier
    with pytest.raises(NotFittedError):
        save_model(tmp_path / "m.npz", LinearClassifier())
    with pytest.raises(TypeError, match="save_model stores LinearClassifier and NBSVM only; got "
                                        "SGDClassifier"):
        save_model(tmp_path / "m.npz", SGDClassifier())


# -- atomic write -----------------------------------------------------------------------------

def _fail_mid_write(monkeypatch):
    calls = []
    write_array = npy_format.write_array

    def failing(fh, array, *args, **kwargs):
        calls.append(array.shape)
        if len(calls) == 3:
            fh.write(b"half an array")
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_array(fh, array, *args, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", failing)
    return calls


@pytest.mark.parametrize("failure", ["write", "fsync", "replace", "interrupt"])
def test_failed_write_leaves_the_old_file_and_no_temporary(failure, saved, monkeypatch):
    before = saved.read_bytes()
    clf, _, _ = fitted(n_classes=2)
    if failure == "write":
        _fail_mid_write(monkeypatch)
    elif failure == "fsync":
        monkeypatch.setattr(os, "fsync", _raiser(OSError("fsync failed")))
    elif failure == "replace":
        monkeypatch.setattr(os, "replace", _raiser(OSError("replace failed")))
    else:
        monkeypatch.setattr(npy_format, "write_array", _raiser(KeyboardInterrupt()))
    with pytest.raises((OSError, KeyboardInterrupt)):
        save_model(saved, clf)
    monkeypatch.undo()
    assert os.listdir(saved.parent) == [saved.name]
    assert saved.read_bytes() == before
    assert load_model(saved).coef_.shape == (3, 15)


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    clf, _, _ = fitted()
    calls = _fail_mid_write(monkeypatch)
    # The message names the user's file, not the temporary one beside it.
    with pytest.raises(OSError, match=r"No space left on device \(writing the model file\): "
                                      rf"'{re.escape(str(tmp_path / 'm.npz'))}'"):
        save_model(tmp_path / "m.npz", clf)
    assert len(calls) == 3 and os.listdir(tmp_path) == []


def test_save_replaces_an_existing_model(saved):
    clf, _, _ = fitted(n_classes=2)
    save_model(saved, clf)
    assert load_model(saved).coef_.shape == (1, 15)
    assert os.listdir(saved.parent) == [saved.name]


@pytest.mark.parametrize("target", ["folder", "fifo", "device"])
def test_save_refuses_a_target_that_is_not_a_regular_file(target, tmp_path):
    clf, _, _ = fitted()
    if target == "folder":
        path = tmp_path / "models"
        path.mkdir()
        kind = "a folder"
    elif target == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        kind = r"a FIFO \(named pipe\)"
    else:
        path, kind = Path(os.devnull), "a character device"
    shown = re.escape(str(path))
    with pytest.raises(OutputPathError, match=rf"cannot write the model file '{shown}': it is "
                                              rf"{kind}, not a regular file"):
        save_model(path, clf)
    assert not path.is_file() and not [p for p in os.listdir(path.parent) if ".tmp" in p]


def _raiser(exc):
    def raise_(*args, **kwargs):
        raise exc
    return raise_


# -- load never unpickles ---------------------------------------------------------------------

def _forbid_pickle(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("load_model called pickle")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)


def test_load_never_calls_pickle(saved, monkeypatch):
    _forbid_pickle(monkeypatch)
    load_model(saved)


def test_an_object_array_is_refused_without_unpickling(saved, monkeypatch):
    # A forged member holding a pickled object array, with metadata claiming float64 (and
    # as many bytes as a float64 array: the member's size alone does not give it away).
    forged = np.array([[f"{i:09d}" for i in range(15)]] * 3, dtype=object)
    rewrite(saved, arrays={"coef_": forged},
            keep_metadata=True)
    _forbid_pickle(monkeypatch)
    with pytest.raises(ModelFileError, match=r"array 'coef_' has shape \(3, 15\) and dtype "
                                             r"object in coef_\.npy, but metadata\.json says "
                                             r"\(3, 15\) and float64"):
        load_model(saved)


# -- every bad file, with its message ---------------------------------------------------------

def rewrite(path, *, metadata=None, arrays=None, drop=(), keep_metadata=False):
    """Rewrite the zip at ``path``: change metadata entries, replace or drop members.

    Replaced arrays get fresh metadata (shape, dtype, checksum) unless ``keep_metadata``.
    """
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["metadata.json"])
    for name, array in (arrays or {}).items():
        buffer = _npy_bytes(array)
        members[name + ".npy"] = buffer
        if not keep_metadata:
            meta["arrays"][name] = describe(np.ascontiguousarray(array))
    for name in drop:
        members.pop(name)
    meta.update(metadata or {})
    members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)


def _npy_bytes(array):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def expect_error(path, message):
    with pytest.raises(ModelFileError, match=rf"cannot load model from '{path}': {message}"):
        load_model(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=rf"model file not found: '{path}'"):
        load_model(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "m.npz"
    path.write_text("hello, I am a text file\n")
    expect_error(path, r"not a zip archive, so not a fasttext_lin model file \(it starts with "
                       r"b'hell', a model file with b'PK\\x03\\x04'\)\.")


def test_a_plain_npy_file_is_not_a_model(tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.zeros(3))
    expect_error(path, r"not a zip archive")


def test_empty_file(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"")
    expect_error(path, r"not a zip archive, so not a fasttext_lin model file \(it starts with b''")


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1, 0.001])
def test_truncated_file(keep, saved):
    blob = saved.read_bytes()
    saved.write_bytes(blob[:max(4, int(len(blob) * keep))])
    expect_error(saved, r"the file is truncated or corrupted \(BadZipFile: File is not a zip "
                        r"file\)\.")


@pytest.mark.parametrize("compress, message", [
    (False, r"\(BadZipFile: Bad CRC-32 for file 'coef_\.npy'\)\."),
    (True, r"\((BadZipFile: Bad CRC-32 for file 'coef_\.npy'|zlib\.error: .*)\)\."),
])
def test_flipped_byte_in_an_array_is_caught(compress, message, tmp_path):
    saved = tmp_path / "m.npz"
    save_model(saved, fitted(n_classes=3)[0], compress=compress)
    blob = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo("coef_.npy")
    # Local header (30 bytes + name + extra field), then the member's (compressed) bytes.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    blob[start + info.compress_size - 20] ^= 0x40
    saved.write_bytes(bytes(blob))
    expect_error(saved, r"the file is truncated or corrupted " + message)


@pytest.mark.parametrize("bit", [0x01, 0x80])
@pytest.mark.parametrize("position", range(64))
def test_any_flipped_bit_gives_a_model_file_error_or_the_same_model(position, bit, saved):
    # 64 positions spread over the whole file: zip headers, .npy headers, data, directory.
    reference = load_model(saved)
    blob = bytearray(saved.read_bytes())
    blob[position * len(blob) // 64 + position % 7] ^= bit
    saved.write_bytes(bytes(blob))
    try:
        loaded = load_model(saved)
    except ModelFileError as exc:
        assert str(exc).startswith(f"cannot load model from '{saved}': ")
    else:
        # Some bytes (timestamps, unused header fields) do not change the model.
        np.testing.assert_array_equal(loaded.coef_, reference.coef_)
        np.testing.assert_array_equal(loaded.sgd_state_.state, reference.sgd_state_.state)


def test_tampered_array_fails_its_checksum(saved):
    with np.load(saved, allow_pickle=False) as npz:
        coef = npz["coef_"].copy()
    coef[0, 0] += 1.0
    rewrite(saved, arrays={"coef_": coef}, keep_metadata=True)
    expect_error(saved, r"checksum mismatch for array 'coef_': the file is corrupted\.")


def test_wrong_magic(saved):
    rewrite(saved, metadata={"format": "sklearn-pickle"})
    expect_error(saved, r"not a fasttext_lin model file \(format 'sklearn-pickle', expected "
                        r"'fasttext_lin-model'\)\.")


def test_newer_format_version(saved):
    rewrite(saved, metadata={"format_version": 4})
    expect_error(saved, r"model file written by a newer fasttext_lin \(format 4 > 3\): "
                        r"upgrade fasttext_lin \(this is .*\) to load it\.")


@pytest.mark.parametrize("version, message", [
    (0, r"unknown format_version 0\."),
    ("1", r"metadata\.json\['format_version'\] is '1', expected int\."),
    (True, r"metadata\.json\['format_version'\] is True, expected int\."),
])
def test_bad_format_version(version, message, saved):
    rewrite(saved, metadata={"format_version": version})
    expect_error(saved, message)


def test_unknown_estimator_class(saved):
    rewrite(saved, metadata={"estimator": "os.system"})
    expect_error(saved, r"unknown estimator class 'os\.system' \(this fasttext_lin knows "
                        r"LinearClassifier, NBSVM\)\.")


def test_missing_array_member(saved):
    rewrite(saved, drop=["coef_.npy"])
    expect_error(saved, r"missing array 'coef_' \(no member coef_\.npy in the archive\)\.")


def test_missing_array_in_metadata(saved):
    with zipfile.ZipFile(saved) as archive:
        arrays = json.loads(archive.read("metadata.json"))["arrays"]
    del arrays["coef_"]
    rewrite(saved, metadata={"arrays": arrays}, drop=["coef_.npy"])
    expect_error(saved, r"missing array 'coef_' \(metadata\.json does not list it\)\.")


@pytest.mark.parametrize("version, message", [
    (3, r"the file holds part of the SGD state \(sgd_v, sgd_u\), not all of sgd_v, sgd_u, "
        r"sgd_state\."),
    # Files before version 3 always hold the SGD state.
    (2, r"missing array 'sgd_state' \(metadata\.json does not list it\)\."),
])
def test_missing_part_of_the_sgd_state(version, message, saved):
    with zipfile.ZipFile(saved) as archive:
        arrays = json.loads(archive.read("metadata.json"))["arrays"]
    del arrays["sgd_state"]
    rewrite(saved, metadata={"arrays": arrays, "format_version": version},
            drop=["sgd_state.npy"])
    expect_error(saved, message)


def test_unexpected_member(saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("payload.pkl", b"\x80\x04N.")
    expect_error(saved, r"unexpected member\(s\) \['payload\.pkl'\] \(not listed in "
                        r"metadata\.json\)\.")


def test_missing_metadata(saved):
    rewrite(saved)  # normalise, then drop the metadata by hand
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "metadata.json"}
    with zipfile.ZipFile(saved, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    expect_error(saved, r"no metadata\.json member: not a fasttext_lin model file\.")


def test_metadata_not_json(saved):
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["metadata.json"] = b"{not json"
    with zipfile.ZipFile(saved, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    expect_error(saved, r"metadata\.json is not valid JSON \(Expecting property name")


@pytest.mark.parametrize("name, shape, message", [
    ("intercept_", (4,), r"shape mismatch: intercept_ has shape \(4,\), expected \(3,\) to match "
                         r"coef_ \(3, 15\)\."),
    ("sgd_v", (3, 14), r"shape mismatch: sgd_v has shape \(3, 14\), expected \(3, 15\) to match "
                       r"coef_ \(3, 15\)\."),
    ("sgd_u", (3, 2), r"shape mismatch: sgd_u has shape \(3, 2\), expected \(3, 15\) or "
                      r"\(3, 0\) to match coef_ \(3, 15\)\."),
    ("sgd_state", (3, 5), r"shape mismatch: sgd_state has shape \(3, 5\), expected \(3, 6\)"),
    ("coef_", (2, 15), r"coef_ has 2 row\(s\) for 3 classes, expected 3\."),
    ("coef_", (15,), r"coef_ has shape \(15,\) and dtype float64, expected a 2-D"),
    ("classes_", (1,), r"classes_ has shape \(1,\), expected \(n_classes,\) with n_classes >= 2"),
])
def test_shape_mismatch(name, shape, message, saved):
    rewrite(saved, arrays={name: np.zeros(shape)})
    expect_error(saved, message)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_softmax_state_has_its_own_shapes(n_classes, tmp_path):
    # Feature-major weights (d, n_classes) and a state row per class, also for two classes.
    clf, _, _ = fitted(n_classes, loss="softmax", average=True)
    path = tmp_path / "model.npz"
    save_model(path, clf, state=True)
    with np.load(path) as npz:
        assert npz["sgd_v"].shape == npz["sgd_u"].shape == (15, n_classes)
        assert npz["sgd_state"].shape == (n_classes, K.STATE_SIZE)
        assert npz["coef_"].shape == (1 if n_classes == 2 else 3, 15)
    # The one-vs-rest layout is refused for a softmax model.
    rewrite(path, arrays={"sgd_v": np.zeros((n_classes, 15))})
    expect_error(path, rf"shape mismatch: sgd_v has shape \({n_classes}, 15\), expected "
                       rf"\(15, {n_classes}\)")


def test_n_features_mismatch(saved):
    rewrite(saved, metadata={"fitted": {"n_iter_": 5, "t_": 721, "n_features_in_": 16}})
    expect_error(saved, r"n_features_in_=16 but coef_ has 15 columns\.")


def test_dtype_mismatch(saved):
    rewrite(saved, arrays={"sgd_v": np.zeros((3, 15), dtype=np.float32)})
    expect_error(saved, r"sgd_v has dtype float32, expected float64\.")


def test_metadata_disagrees_with_the_npy_header(saved):
    # Declared shapes are checked against each other first: change a member only.
    rewrite(saved, arrays={"intercept_": np.zeros(3, dtype=np.float32)}, keep_metadata=True)
    expect_error(saved, r"array 'intercept_' has shape \(3,\) and dtype float32 in "
                        r"intercept_\.npy, but metadata\.json says \(3,\) and float64\.")


@pytest.mark.parametrize("dtype", ["|O", "object", "<M8[s]", "f8,i4", "not a dtype"])
def test_metadata_dtypes_outside_the_format_are_refused(dtype, saved):
    with zipfile.ZipFile(saved) as archive:
        arrays = json.loads(archive.read("metadata.json"))["arrays"]
    arrays["coef_"]["dtype"] = dtype
    rewrite(saved, metadata={"arrays": arrays})
    expect_error(saved, rf"metadata\.json arrays\['coef_'\]\['dtype'\] is '{re.escape(dtype)}'")


def test_unknown_parameter(saved):
    with zipfile.ZipFile(saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    rewrite(saved, metadata={"params": {**params, "penalty": "l1"}})
    expect_error(saved, r"unknown parameter\(s\) \['penalty'\] for LinearClassifier\.")


def test_invalid_parameter_value(saved):
    with zipfile.ZipFile(saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    rewrite(saved, metadata={"params": {**params, "loss": "rm -rf"}})
    expect_error(saved, r"invalid parameters: loss='rm -rf' is not one of")


def test_forged_dict_parameter(saved):
    with zipfile.ZipFile(saved) as archive:
        params = json.loads(archive.read("metadata.json"))["params"]
    rewrite(saved, metadata={"params": {**params, "class_weight": {"py/object": "os.system"}}})
    expect_error(saved, r"parameter class_weight=\{'py/object': 'os\.system'\} in metadata\.json "
                        r"is not a JSON value this format writes")


def test_member_size_disagrees_with_its_header(saved):
    with zipfile.ZipFile(saved) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["coef_.npy"] = members["coef_.npy"][:-8]
    with zipfile.ZipFile(saved, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    expect_error(saved, r"coef_\.npy holds \d+ bytes, expected \d+ for shape \(3, 15\) and "
                        r"dtype float64\.")


# -- NBSVM ------------------------------------------------------------------------------------

def nbsvm_fitted(n_classes=2, labels="int", **params):
    X, y = data(n_classes, np.float64, labels)
    X = abs(X)  # NBSVM takes non-negative features
    return NBSVM(random_state=0, max_iter=5, **params).fit(X, y), X


@pytest.fixture
def nbsvm_saved(tmp_path):
    model, _ = nbsvm_fitted(n_classes=3)
    path = tmp_path / "nbsvm.npz"
    save_model(path, model)
    return path


@pytest.mark.parametrize("norm", ["l2", None])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_nbsvm_round_trip_predicts_like_the_unsaved_model(n_classes, labels, norm, tmp_path):
    model, X = nbsvm_fitted(n_classes, labels, beta=0.5, norm=norm, loss="log_loss", C=0.3)
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    assert type(loaded) is NBSVM
    assert loaded.get_params() == model.get_params()
    for name in ("coef_", "intercept_", "classes_", "ratios_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
        assert getattr(loaded, name).dtype == getattr(model, name).dtype
    assert (loaded.n_iter_, loaded.n_features_in_) == (model.n_iter_, model.n_features_in_)
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_nbsvm_file_layout(nbsvm_saved):
    with zipfile.ZipFile(nbsvm_saved) as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
    assert names == ["metadata.json", "coef_.npy", "intercept_.npy", "classes_.npy",
                     "ratios_.npy"]
    assert metadata["estimator"] == "NBSVM"
    assert metadata["fitted"] == {"n_iter_": 5, "n_features_in_": 15}
    assert metadata["arrays"]["ratios_"]["shape"] == [3, 15]
    assert set(metadata["params"]) == set(NBSVM().get_params())


@pytest.mark.parametrize("arrays, message", [
    ({"ratios_": np.zeros((3, 14))}, r"shape mismatch: ratios_ has shape \(3, 14\), expected "
                                     r"\(3, 15\) to match coef_ \(3, 15\)\."),
    ({"ratios_": np.zeros((3, 15), dtype=np.float32)},
     r"ratios_ has dtype float32, expected float64\."),
    ({"ratios_": np.full((3, 15), np.nan)}, r"ratios_ holds NaN or infinite values"),
    ({"coef_": np.full((3, 15), np.inf)}, r"coef_ holds NaN or infinite values"),
    ({"intercept_": np.array([0.0, np.nan, 1.0])}, r"intercept_ holds NaN or infinite values"),
    ({"intercept_": np.zeros(1)}, r"shape mismatch: intercept_ has shape \(1,\), expected "
                                  r"\(3,\)"),
    ({"coef_": np.zeros((1, 15)), "ratios_": np.zeros((1, 15)), "intercept_": np.zeros(1)},
     r"coef_ has 1 row\(s\) for 3 classes, expected 3\."),
])
def test_nbsvm_inconsistent_arrays(arrays, message, nbsvm_saved):
    rewrite(nbsvm_saved, arrays=arrays)
    expect_error(nbsvm_saved, message)


@pytest.mark.parametrize("params, message", [
    ({"beta": 0.0}, r"invalid parameters: NBSVM: beta=0\.0 is invalid"),
    ({"norm": "l1"}, r"invalid parameters: NBSVM: norm='l1' is invalid"),
    ({"loss": "rm -rf"}, r"invalid parameters: loss='rm -rf' is not one of"),
    ({"C": -1.0}, r"invalid parameters: C == -1\.0, must be > 0"),
    ({"sgd_only": 1}, r"unknown parameter\(s\) \['sgd_only'\] for NBSVM\."),
])
def test_nbsvm_invalid_parameters(params, message, nbsvm_saved):
    with zipfile.ZipFile(nbsvm_saved) as archive:
        stored = json.loads(archive.read("metadata.json"))["params"]
    rewrite(nbsvm_saved, metadata={"params": {**stored, **params}})
    expect_error(nbsvm_saved, message)


def test_nbsvm_file_without_ratios_or_with_sgd_state(nbsvm_saved, tmp_path):
    with zipfile.ZipFile(nbsvm_saved) as archive:
        metadata = json.loads(archive.read("metadata.json"))
    arrays = {name: spec for name, spec in metadata["arrays"].items() if name != "ratios_"}
    rewrite(nbsvm_saved, metadata={"arrays": arrays}, drop=["ratios_.npy"])
    expect_error(nbsvm_saved, r"missing array 'ratios_' \(metadata\.json does not list it\)\.")

    linear, _, _ = fitted(n_classes=3)
    path = tmp_path / "linear.npz"
    save_model(path, linear, state=True)
    rewrite(path, metadata={"estimator": "NBSVM"})
    expect_error(path, r"missing array 'ratios_'")
    rewrite(path, metadata={"estimator": "NBSVM"}, arrays={"ratios_": np.zeros((3, 15))})
    expect_error(path, r"unknown array 'sgd_v' in metadata\.json\.")


def test_nbsvm_fitted_scalars_are_its_own(nbsvm_saved):
    rewrite(nbsvm_saved, metadata={"fitted": {"n_iter_": 5, "t_": 3, "n_features_in_": 15}})
    expect_error(nbsvm_saved, r"metadata\.json fitted has unknown entries \['t_'\] for NBSVM\.")
    rewrite(nbsvm_saved, metadata={"fitted": {"n_iter_": 5}})
    expect_error(nbsvm_saved, r"metadata\.json fitted has no 'n_features_in_'\.")


@pytest.mark.parametrize("make", [lambda: fitted()[0], lambda: nbsvm_fitted()[0]])
def test_save_refuses_fitted_state_it_would_drop(make, tmp_path):
    model = make()
    model.scale_ = np.ones(3)
    with pytest.raises(ValueError, match=rf"cannot save model to '.*': the "
                                         rf"{type(model).__name__} has fitted attribute\(s\) "
                                         r"\['scale_'\] that save_model does not know how to "
                                         r"store\."):
        save_model(tmp_path / "m.npz", model)
    assert os.listdir(tmp_path) == []


def test_linear_classifier_with_non_finite_weights_is_refused(saved):
    rewrite(saved, arrays={"coef_": np.full((3, 15), np.nan)})
    expect_error(saved, r"coef_ holds NaN or infinite values: the model is broken; refit it\.")


# -- property: any model shape, dtype and labels round-trips ----------------------------------

label_kinds = st.sampled_from(["int", "float", "str", "bool"])


@st.composite
def models(draw):
    kind = draw(label_kinds)
    n_classes = 2 if kind == "bool" else draw(st.integers(2, 6))
    if kind == "int":
        labels = draw(st.lists(st.integers(-2**40, 2**40), min_size=n_classes,
                               max_size=n_classes, unique=True))
    elif kind == "float":
        labels = draw(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=n_classes,
                               max_size=n_classes, unique=True))
    elif kind == "str":
        labels = draw(st.lists(st.text(st.characters(exclude_characters="\x00"), max_size=8),
                               min_size=n_classes, max_size=n_classes, unique=True))
    else:
        labels = [False, True]
    classes = np.unique(np.array(labels))
    if classes.shape[0] != n_classes:  # e.g. 0.0 and -0.0
        classes = np.arange(n_classes)
    loss = draw(st.sampled_from(["hinge", "softmax"]))
    d = draw(st.integers(1, 12))
    v_shape, state_shape = state_class(loss).shapes(n_classes, d)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    finite = st.floats(-1e6, 1e6, width=32)
    v = draw(hnp.arrays(dtype, v_shape, elements=finite))
    averaged = draw(st.booleans())
    u = draw(hnp.arrays(np.float64, v_shape if averaged else (v_shape[0], 0), elements=finite))
    state = draw(hnp.arrays(np.float64, state_shape, elements=finite))
    if loss == "softmax":
        # The scalars a softmax model shares are the same in every row.
        state[:, [K.SCALE, K.AVG_C]] = state[0, [K.SCALE, K.AVG_C]]
    state[:, K.T] = draw(st.integers(1, 10**6))
    state[:, K.AVG_N] = draw(st.integers(1, 10**6)) if averaged else 0
    calibrated = loss == "hinge" and draw(st.booleans())
    clf = LinearClassifier(loss, average=averaged, random_state=draw(st.integers(0, 2**31 - 1)),
                           probability=calibrated)
    clf.classes_, clf.sgd_state_ = classes, state_class(loss)(v, u, state)
    clf.coef_, clf.intercept_ = clf.sgd_state_.coef_intercept()
    if calibrated:
        clf.calibration_ = draw(hnp.arrays(np.float64, (v_shape[0], 2), elements=finite))
    clf.n_iter_, clf.t_, clf.n_features_in_ = draw(st.integers(1, 100)), int(state[0, K.T]), d
    return clf


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clf=models(), seed=st.integers(0, 2**16))
def test_property_any_model_round_trips(clf, seed, tmp_path):
    path = tmp_path / "m.npz"
    save_model(path, clf, state=True)
    loaded = load_model(path)
    for name in ("coef_", "intercept_", "classes_"):
        original, back = getattr(clf, name), getattr(loaded, name)
        assert back.dtype == original.dtype and back.shape == original.shape
        np.testing.assert_array_equal(back, original)
    for name in ("v", "u", "state"):
        np.testing.assert_array_equal(getattr(loaded.sgd_state_, name),
                                      getattr(clf.sgd_state_, name))
    assert hasattr(loaded, "calibration_") == hasattr(clf, "calibration_")
    if hasattr(clf, "calibration_"):
        np.testing.assert_array_equal(loaded.calibration_, clf.calibration_)
    assert (loaded.n_iter_, loaded.t_, loaded.n_features_in_) == (
        clf.n_iter_, clf.t_, clf.n_features_in_)
    assert loaded.get_params() == clf.get_params()
    X = np.random.default_rng(seed).normal(size=(5, clf.n_features_in_))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


# -- files of format 2 (tests/data/models) ----------------------------------------------------

MODELS = Path(__file__).parent / "data" / "models"
EXPECTED_V2 = json.loads((MODELS / "expected_v2.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED_V2))
def test_format_2_files_still_load_and_predict_the_same(name, shared_data):
    from fasttext_lin.datasets import load_libsvm
    from fasttext_lin.text_model import load_text_model

    expected = EXPECTED_V2[name]
    with zipfile.ZipFile(MODELS / name) as archive:
        assert json.loads(archive.read("metadata.json"))["format_version"] == 2
    if "inputs" in expected:
        model, inputs = load_text_model(MODELS / name), expected["inputs"]
    else:
        model = load_model(MODELS / name)
        X, _ = load_libsvm(shared_data / "libsvm" / expected["data"],
                           n_features=expected["n_features"])
        inputs = X[expected["rows"]]
    np.testing.assert_array_equal(model.predict(inputs), expected["predict"])
    np.testing.assert_allclose(model.decision_function(inputs),
                               expected["decision_function"], rtol=1e-12, atol=1e-15)


def test_format_2_file_keeps_its_state_and_saves_as_format_3(tmp_path):
    model = load_model(MODELS / "a1a_linear_v2.npz")
    assert model.sgd_state_.u.shape == model.sgd_state_.v.shape  # averaged, with its state
    save_model(tmp_path / "m.npz", model, state=True)
    again = load_model(tmp_path / "m.npz")
    for name in ("v", "u", "state"):
        np.testing.assert_array_equal(getattr(again.sgd_state_, name),
                                      getattr(model.sgd_state_, name))


# -- quantize_model ---------------------------------------------------------------------------

@pytest.mark.parametrize("weights", ["int8", "float16"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_quantized_model_loads_dequantized(n_classes, dtype, weights, tmp_path):
    clf, X, y = fitted(n_classes, dtype, probability=True)
    save_model(tmp_path / "m.npz", clf, state=True)
    report = quantize.quantize_model(tmp_path / "m.npz", tmp_path / "q.npz", weights=weights)
    assert report == {"bytes_before": os.path.getsize(tmp_path / "m.npz"),
                      "bytes_after": os.path.getsize(tmp_path / "q.npz"),
                      "weights": weights, "pruned": 0.0}
    loaded = load_model(tmp_path / "q.npz")
    assert loaded.coef_.dtype == dtype and loaded.coef_.shape == clf.coef_.shape
    if weights == "int8":
        # Each row's codes times its scale: off by at most half a step of max|w| / 127.
        step = np.abs(clf.coef_).max(axis=1, keepdims=True) / 127
        assert np.all(np.abs(loaded.coef_ - clf.coef_) <= step / 2 * (1 + 1e-6))
    else:
        np.testing.assert_array_equal(loaded.coef_, clf.coef_.astype(np.float16).astype(dtype))
    np.testing.assert_array_equal(loaded.intercept_, clf.intercept_)
    np.testing.assert_array_equal(loaded.calibration_, clf.calibration_)
    assert np.mean(loaded.predict(X) == clf.predict(X)) > 0.95
    with zipfile.ZipFile(tmp_path / "q.npz") as archive:
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["quantized"] == {"coef_": {"weights": weights, "dtype": np.dtype(dtype).str}}
    assert metadata["arrays"]["coef_"]["dtype"] == np.dtype(weights).str
    assert "sgd_v" not in metadata["arrays"]
    loaded.set_params(probability=False)
    del loaded.calibration_
    loaded.partial_fit(X, y)  # continues from the dequantized solution


def test_pruning_zeroes_the_small_weights_of_each_row(tmp_path):
    clf, _, _ = fitted(n_classes=3)
    save_model(tmp_path / "m.npz", clf)
    report = quantize.quantize_model(tmp_path / "m.npz", tmp_path / "q.npz", weights="float16",
                                    prune=0.5)
    coef = load_model(tmp_path / "q.npz").coef_
    small = np.abs(clf.coef_) <= 0.5 * np.abs(clf.coef_).max(axis=1, keepdims=True)
    assert np.all(coef[small] == 0) and np.all(coef[~small] != 0)
    assert report["pruned"] == pytest.approx(small.mean())


def test_quantize_nbsvm(tmp_path):
    model, X = nbsvm_fitted(n_classes=3)
    save_model(tmp_path / "m.npz", model)
    quantize.quantize_model(tmp_path / "m.npz", tmp_path / "q.npz")
    loaded = load_model(tmp_path / "q.npz")
    np.testing.assert_array_equal(loaded.ratios_, model.ratios_)
    assert np.mean(loaded.predict(X) == model.predict(X)) > 0.95


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "int4"}, r"quantize_model: weights='int4' is invalid; expected one of "
                          r"'float16', 'int8'\."),
    ({"prune": 1.0}, r"quantize_model: prune=1\.0 is invalid; expected a number in \[0, 1\)"),
    ({"prune": -0.1}, r"prune=-0\.1 is invalid"),
    ({"prune": float("nan")}, r"prune=nan is invalid"),
    ({"prune": True}, r"prune=True is invalid"),
    ({"prune": "0.1"}, r"prune='0\.1' is invalid"),
])
def test_quantize_refuses_bad_arguments(kwargs, message, saved, tmp_path):
    with pytest.raises(ValueError, match=message):
        quantize.quantize_model(saved, tmp_path / "q.npz", **kwargs)
    assert not (tmp_path / "q.npz").exists()


def test_quantize_refuses_to_overwrite_its_source_or_a_folder(saved, tmp_path):
    before = saved.read_bytes()
    with pytest.raises(OutputPathError, match=r"it is the input .*which would be lost"):
        quantize.quantize_model(saved, saved)
    assert saved.read_bytes() == before
    with pytest.raises(OutputPathError, match=r"it is a folder, not a regular file"):
        quantize.quantize_model(saved, tmp_path)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        quantize.quantize_model(tmp_path / "absent.npz", tmp_path / "q.npz")


def test_float16_refuses_weights_beyond_its_range(tmp_path):
    clf, _, _ = fitted()
    clf.coef_ = clf.coef_ * 1e6
    clf.coef_[0, 0] = 1e5
    save_model(tmp_path / "m.npz", clf)
    with pytest.raises(ValueError, match=r"beyond float16's range .*weights='int8'"):
        quantize.quantize_model(tmp_path / "m.npz", tmp_path / "q.npz", weights="float16")
    assert not (tmp_path / "q.npz").exists()


@pytest.mark.parametrize("change, message", [
    (lambda m, a: a.__setitem__("coef_scale", -a["coef_scale"]),
     r"coef_scale holds a negative, NaN or infinite scale"),
    (lambda m, a: a.__setitem__("coef_scale", a["coef_scale"][:1]),
     r"coef_scale has shape \(1,\) and dtype float64, expected \(3,\) float64"),
    (lambda m, a: a.__setitem__("coef_", a["coef_"].astype(np.int16)),
     r"coef_ is quantized as int8 but stored as int16"),
    (lambda m, a: m.__setitem__("quantized", {"intercept_": {"weights": "int8"}}),
     r"metadata\.json quantized\['intercept_'\] is \{'weights': 'int8'\}; only coef_ is "
     r"quantized"),
    (lambda m, a: m.__setitem__("quantized", {"coef_": {"weights": "int4", "dtype": "<f8"}}),
     r"metadata\.json quantized\['coef_'\] is .*; expected weights in \['float16', 'int8'\]"),
])
def test_bad_quantized_file(change, message, saved, tmp_path):
    quantize.quantize_model(saved, tmp_path / "q.npz", weights="int8")
    with zipfile.ZipFile(tmp_path / "q.npz") as archive:
        meta = json.loads(archive.read("metadata.json"))
    with np.load(tmp_path / "q.npz") as npz:
        arrays = {"coef_": npz["coef_"], "coef_scale": npz["coef_scale"]}
    change(meta, arrays)
    rewrite(tmp_path / "q.npz", metadata={"quantized": meta["quantized"]}, arrays=arrays)
    expect_error(tmp_path / "q.npz", message)


# -- zip bombs --------------------------------------------------------------------------------

def _set_declared_size(path, member, size):
    """Patch the uncompressed size the zip declares for ``member``: in the central
    directory, which zipfile reads, and in a local header without a zip64 field."""
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    fields = struct.pack("<II", info.CRC, info.compress_size)
    assert blob.count(fields + struct.pack("<I", info.file_size)) >= 1
    path.write_bytes(blob.replace(fields + struct.pack("<I", info.file_size),
                                  fields + struct.pack("<I", size)))


def test_a_member_declaring_more_bytes_than_its_shape_is_refused_before_inflating(
        saved, monkeypatch):
    _set_declared_size(saved, "coef_.npy", 2 << 30)
    opened = []
    real_open = zipfile.ZipFile.open

    def open_(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_)
    expect_error(saved, r"coef_\.npy declares 2147483648 bytes uncompressed, but its shape "
                        r"\(3, 15\) and dtype float64 take 360 bytes and a header: the file "
                        r"is corrupted\.")
    assert "coef_.npy" not in opened


def test_declared_shapes_are_checked_together_before_inflating(saved, monkeypatch):
    # A 2 GiB coef_ as metadata, .npy header and zip all declare it, deflated to 2 MiB,
    # but the fitted scalars say 15 features: refused before it is inflated.
    big = (1, 1 << 28)
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["metadata.json"])
    meta["arrays"]["coef_"] = {"shape": list(big), "dtype": "<f8", "sha256": "0" * 64}
    members["metadata.json"] = json.dumps(meta).encode()
    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                               "shape": big})
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in members.items():
            if name != "coef_.npy":
                archive.writestr(name, blob)
        with archive.open("coef_.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = bytes(1 << 24)
            for _ in range((8 << 28) // len(chunk)):
                member.write(chunk)
    assert saved.stat().st_size < 4 << 20
    monkeypatch.setattr(npy_format, "read_array", _raiser(AssertionError("inflated")))
    expect_error(saved, r"coef_ has 1 row\(s\) for 3 classes, expected 3\.")


def test_a_member_inflating_past_its_declared_size_is_refused(saved):
    # coef_.npy deflated, its stream holding more bytes than the zip declares.
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["coef_.npy"] += bytes(1 << 20)
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    with zipfile.ZipFile(saved) as archive:
        true_size = archive.getinfo("coef_.npy").file_size
    _set_declared_size(saved, "coef_.npy", true_size - (1 << 20))
    with pytest.raises(ModelFileError, match=rf"cannot load model from '{saved}': .*"
                                             r"(Bad CRC-32|truncated or corrupted)"):
        load_model(saved)

"""text_model: the pipeline, text model files (cross-validation: test_model_selection.py)."""

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from fasttext_lin import NBSVM, BagOfWords, LinearClassifier, persist
from fasttext_lin._vocabulary import code_points
from fasttext_lin.persist import ModelFileError, load_model, save_model
from fasttext_lin.quantize import quantize_model
from fasttext_lin.text_model import (
    GRID,
    STEPS,
    featurizer_extra,
    load_text_model,
    save_text_model,
    text_pipeline,
)

# -- the pipeline -----------------------------------------------------------------------------

def test_text_pipeline_maps_its_parameters():
    pipe = text_pipeline(ngrams=3, weighting="count", n_features=64, min_df=2,
                         loss="log_loss", C=0.5, epochs=7, average=False, random_state=4,
                         n_jobs=2, solver="sgd")
    assert [name for name, _ in pipe.steps] == list(STEPS)
    params = pipe.get_params()
    assert params["bagofwords__ngram_range"] == (1, 3)
    assert params["bagofwords__n_features"] == 64 and params["bagofwords__min_df"] == 2
    assert params["bagofwords__weighting"] == "count" and params["bagofwords__bias"] is True
    assert params["classifier__loss"] == "log_loss" and params["classifier__C"] == 0.5
    assert params["classifier__max_iter"] == 7 and params["classifier__tol"] is None
    assert params["classifier__fit_intercept"] is False
    assert params["classifier__average"] is False and params["classifier__random_state"] == 4
    assert params["classifier__n_jobs"] == 2 and params["classifier__solver"] == "sgd"


@pytest.mark.parametrize("params, message", [
    ({"C": 0}, "C == 0"), ({"epochs": 0, "solver": "sgd"}, "max_iter == 0"),
    ({"loss": "perceptron"}, "loss="), ({"model": "nbsvm", "solver": "cd"}, "NBSVM runs SGD"),
    ({"epochs": 5}, "epochs=5 sets SGD epochs, but solver='auto' fits loss='hinge' by its exact"),
    ({"ngrams": 0}, "ngram_range=(1, 0)"), ({"weighting": "bm25"}, "weighting='bm25'"),
    ({"tokenizer": "regex"}, "token_pattern='regex'"), ({"n_features": 0}, "n_features=0"),
])
def test_text_pipeline_checks_values_before_fitting(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        text_pipeline(**params)


def test_text_pipeline_calibrates_on_request():
    pipe = text_pipeline(probability=True, random_state=3)
    assert pipe.get_params()["classifier__probability"] is True
    with pytest.raises(ValueError, match=r"an NBSVM gives scores only: give model='linear', "
                                         r"or no probability\."):
        text_pipeline(model="nbsvm", probability=True)


def test_calibrated_text_model_round_trip(data, tmp_path):
    texts, y = data
    pipe = text_pipeline(probability=True).fit(texts, y)
    proba = pipe.predict_proba(texts)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    save_text_model(tmp_path / "m.npz", pipe)
    loaded = load_text_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.predict_proba(texts), proba)


def test_nbsvm_pipeline_maps_its_parameters():
    pipe = text_pipeline(model="nbsvm", ngrams=2, n_features=64, min_df=2, loss="log_loss",
                         C=0.5, beta=0.5, average=False, random_state=4, n_jobs=2)
    featurizer, classifier = pipe[0], pipe[1]
    assert type(classifier) is NBSVM
    assert (featurizer.weighting, featurizer.norm, featurizer.bias) == ("binary", None, False)
    # signed hashing would give NBSVM negative features
    assert featurizer.alternate_sign is False and featurizer.ngram_range == (1, 2)
    assert classifier.get_params() == NBSVM(
        C=0.5, beta=0.5, loss="log_loss", max_iter=30, average=False,
        random_state=4, n_jobs=2).get_params()
    assert text_pipeline(model="nbsvm", weighting="binary", epochs=5)[1].max_iter == 5


def test_defaults_depend_on_the_model():
    linear, nbsvm = text_pipeline(), text_pipeline(model="nbsvm")
    # The exact solver by default: LinearClassifier's own max_iter and tol (a duality gap).
    assert (linear[0].weighting, linear[1].solver) == ("tfidf", "auto")
    assert linear[1].get_params() == LinearClassifier(C=1.0, random_state=0,
                                                      fit_intercept=False).get_params()
    sgd = text_pipeline(solver="sgd")[1]
    assert (sgd.max_iter, sgd.tol, sgd.average) == (10, None, True)
    assert (nbsvm[0].weighting, nbsvm[1].max_iter) == ("binary", 30)
    assert nbsvm[1].get_params() == NBSVM(max_iter=30, random_state=0).get_params()


@pytest.mark.parametrize("params, message", [
    ({"model": "svm"}, "model='svm' is invalid; expected one of 'linear', 'nbsvm'"),
    ({"weighting": "tfidf"}, "weighting='tfidf' contradicts model='nbsvm', which binarises"),
    ({"weighting": "count"}, "leave weighting unset or give 'binary'"),
    ({"beta": 0}, "beta=0 is invalid"), ({"epochs": 0}, "max_iter=0 is invalid"),
    ({"C": -1}, "C == -1"), ({"loss": "perceptron"}, "loss='perceptron'"),
])
def test_nbsvm_pipeline_checks_values_before_fitting(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        text_pipeline(**{"model": "nbsvm", **params})


def test_beta_needs_nbsvm():
    with pytest.raises(ValueError, match=re.escape("beta=0.5 interpolates the weights of an "
                                                   "NBSVM; give model='nbsvm', or no beta.")):
        text_pipeline(beta=0.5)


def test_text_pipeline_learns_the_corpus(data):
    texts, y = data
    pipe = text_pipeline().fit(texts, y)
    assert pipe.score(texts, y) > 0.9
    assert text_pipeline(model="nbsvm", n_features=256).fit(texts, y).score(texts, y) > 0.9


def test_public_names_without_an_import_cycle():
    import subprocess
    import sys

    import fasttext_lin
    from fasttext_lin import text_model

    for name in ("text_pipeline", "cross_validate_text", "save_text_model", "load_text_model"):
        assert name in fasttext_lin.__all__ and getattr(fasttext_lin, name) is getattr(
            text_model, name)
    # model_selection (which text_model imports) must load first in a fresh interpreter too
    subprocess.run([sys.executable, "-c", "import fasttext_lin.model_selection"], check=True)


def test_grid_is_the_shared_grid():
    from fasttext_lin import _constants
    assert GRID is _constants.GRID


# -- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("n_features", [None, 32])
@pytest.mark.parametrize("weighting", ["binary", "count", "tfidf", "nb"])
@pytest.mark.parametrize("ngrams, tokenizer", [(1, "default"), (2, "whitespace")])
def test_round_trip_transforms_and_predicts_the_same(data, tmp_path, n_features, weighting,
                                                     ngrams, tokenizer):
    texts, y = data
    pipe = text_pipeline(ngrams=ngrams, weighting=weighting, n_features=n_features,
                         tokenizer=tokenizer, loss="log_loss").fit(texts, y)
    path = tmp_path / "model.npz"
    save_text_model(path, pipe)
    loaded = load_text_model(path)
    assert [name for name, _ in loaded.steps] == list(STEPS)
    assert loaded.get_params(deep=True).keys() == pipe.get_params(deep=True).keys()
    for (_, a), (_, b) in zip(loaded.steps, pipe.steps):
        assert a.get_params() == b.get_params()
    unseen = ["a great plot!", "", "unknown words only", "boring, boring film"]
    for docs in (texts, unseen):
        before, after = pipe[0].transform(docs), loaded[0].transform(docs)
        assert (before != after).nnz == 0 and before.shape == after.shape
        np.testing.assert_array_equal(loaded.predict(docs), pipe.predict(docs))
        np.testing.assert_array_equal(loaded.predict_proba(docs), pipe.predict_proba(docs))
    if n_features is None:
        assert loaded[0].vocabulary_ == pipe[0].vocabulary_


def test_round_trip_of_pruned_and_fixed_vocabularies(data, tmp_path):
    texts, y = data
    pruned = text_pipeline(min_df=3).fit(texts, y)
    fixed = text_pipeline()
    fixed.set_params(bagofwords__vocabulary={"good": 0, "bad": 1, "film": 2},
                     bagofwords__dtype=np.float32).fit(texts, y)
    for pipe in (pruned, fixed):
        path = tmp_path / "model.npz"
        save_text_model(path, pipe)
        loaded = load_text_model(path)
        assert loaded[0].get_params() == pipe[0].get_params()
        assert loaded[0].transform(texts).dtype == pipe[0].transform(texts).dtype
        np.testing.assert_array_equal(loaded.decision_function(texts),
                                      pipe.decision_function(texts))
    assert loaded[0].vocabulary_ == {"good": 0, "bad": 1, "film": 2}


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("n_features, ngrams", [(None, 1), (None, 2), (64, 2)])
def test_nbsvm_round_trip_predicts_the_same(data, tmp_path, n_features, ngrams, n_classes):
    texts, y = data
    if n_classes == 3:
        y = np.where(np.arange(len(y)) % 3 == 0, "mixed", y)
    pipe = text_pipeline(model="nbsvm", ngrams=ngrams, n_features=n_features).fit(texts, y)
    path = tmp_path / "model.npz"
    save_text_model(path, pipe)
    loaded = load_text_model(path)
    assert type(loaded[1]) is NBSVM and loaded[1].get_params() == pipe[1].get_params()
    assert loaded[0].get_params() == pipe[0].get_params()
    np.testing.assert_array_equal(loaded[1].ratios_, pipe[1].ratios_)
    for docs in (texts, ["a great plot!", "", "unknown words only", "boring, boring film"]):
        np.testing.assert_array_equal(loaded.decision_function(docs),
                                      pipe.decision_function(docs))
        np.testing.assert_array_equal(loaded.predict(docs), pipe.predict(docs))


def test_loaded_pipeline_refits(data, tmp_path):
    texts, y = data
    pipe = text_pipeline().fit(texts, y)
    save_text_model(tmp_path / "m.npz", pipe)
    loaded = load_text_model(tmp_path / "m.npz").fit(texts, y)
    np.testing.assert_array_equal(loaded.decision_function(texts),
                                  pipe.decision_function(texts))


# -- save errors ------------------------------------------------------------------------------

def test_save_refuses_other_pipelines_and_writes_nothing(data, tmp_path):
    texts, y = data
    path = tmp_path / "m.npz"
    with pytest.raises(TypeError, match="a BagOfWords then a LinearClassifier or an NBSVM"):
        save_text_model(path, make_pipeline(CountVectorizer(), LinearSVC()).fit(texts, y))
    with pytest.raises(TypeError, match="text_pipeline builds one.*got LinearClassifier"):
        save_text_model(path, LinearClassifier())
    with pytest.raises(ValueError, match="not fitted"):
        save_text_model(path, text_pipeline())
    pipe = text_pipeline().fit(texts, y)
    pipe[0].fit(texts[:10])  # a smaller vocabulary than the classifier's
    with pytest.raises(ValueError, match=r"classifier takes \d+ features but the featurizer "
                                         r"gives \d+; fit the pipeline as a whole"):
        save_text_model(path, pipe)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_a_vocabulary_json_cannot_hold(data, tmp_path):
    texts, y = data
    pipe = text_pipeline().set_params(bagofwords__vocabulary=["good", "bad"])
    pipe.fit(texts, y)
    pipe[0].vocabulary = iter(["good", "bad"])
    with pytest.raises(ValueError, match=r"cannot save model to '.*m\.npz'.*vocabulary"):
        save_text_model(tmp_path / "m.npz", pipe)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_unknown_fitted_state(data, tmp_path):
    texts, y = data
    pipe = text_pipeline().fit(texts, y)
    pipe[0].mystery_ = np.ones(3)
    with pytest.raises(ValueError, match=r"\['mystery_'\]"):
        save_text_model(tmp_path / "m.npz", pipe)
    assert list(tmp_path.iterdir()) == []


# -- load errors ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fitted(data):
    texts, y = data
    return text_pipeline(ngrams=2).fit(texts, y)


def save_tampered(path, pipe, change):
    """Save ``pipe`` with its featurizer's extra data changed by ``change(arrays, meta)``."""
    extra = featurizer_extra(pipe[0])
    arrays = {k.split("/", 1)[1]: v.copy() for k, v in extra["arrays"].items()}
    meta = extra["metadata"]["featurizer"]
    change(arrays, meta)
    extra["arrays"] = {f"featurizer/{k}": v for k, v in arrays.items()}
    save_model(path, pipe[1], extra=extra)
    return path


def _set(mapping, key, value):
    mapping[key] = value


def _cut_a_character(arrays):
    # An "é" where the last term starts, the boundary between its two bytes: valid UTF-8
    # as a whole, not term by term.
    utf8, ptr = arrays["key_utf8"], arrays["key_ptr"]
    start = ptr[-2]
    arrays["key_utf8"] = np.insert(utf8, start, np.frombuffer("é".encode(), np.uint8))
    ptr[-2:] += [1, 2]


def _as_version_1(arrays, meta):
    """The featurizer's extra data as format 2 files hold it (terms as code points)."""
    codes, ptr = code_points(arrays.pop("key_utf8"), arrays["key_ptr"])
    arrays["key_codes"], arrays["key_ptr"] = codes.copy(), ptr
    meta["version"] = 1


TAMPERED = {
    "wrong class": (lambda a, m: _set(m, "class", "CountVectorizer"), "is not a BagOfWords"),
    "newer featurizer": (lambda a, m: _set(m, "version", 3), "newer fasttext_lin"),
    "featurizer version 0": (lambda a, m: _set(m, "version", 0),
                             "unknown featurizer version 0"),
    "no params": (lambda a, m: m.pop("params"), "has no 'params'"),
    "unknown parameter": (lambda a, m: _set(m["params"], "stemmer", "porter"),
                          r"unknown BagOfWords parameter\(s\) \['stemmer'\]"),
    "bad parameter": (lambda a, m: _set(m["params"], "weighting", "magic"),
                      "invalid BagOfWords parameters.*weighting='magic'"),
    "bad dtype": (lambda a, m: _set(m["params"], "dtype", "int32"),
                  "invalid BagOfWords parameters.*dtype"),
    "missing idf": (lambda a, m: a.pop("idf_"), r"expected \['idf_', 'key_ptr', 'key_utf8'"),
    "idf shape": (lambda a, m: _set(a, "idf_", a["idf_"][:-1]), r"idf_ has shape"),
    "idf dtype": (lambda a, m: _set(a, "idf_", a["idf_"].astype(np.float32)),
                  "expected .* float64"),
    "idf nan": (lambda a, m: a["idf_"].__setitem__(0, np.nan), "idf_ holds NaN"),
    "n_keys": (lambda a, m: _set(m["fitted"], "n_keys", m["fitted"]["n_keys"] + 1),
               r"key_ptr has shape"),
    "missing n_keys": (lambda a, m: m["fitted"].pop("n_keys"), "has no 'n_keys'"),
    "key_ptr end": (lambda a, m: _set(a, "key_utf8", a["key_utf8"][:-1]),
                    r"does not rise from 0 to len\(key_utf8\)"),
    "key_ptr order": (lambda a, m: a["key_ptr"].__setitem__(2, a["key_ptr"][4]),
                      "does not rise"),
    "key_ptr dtype": (lambda a, m: _set(a, "key_ptr", a["key_ptr"].astype(np.int32)),
                      r"int64"),
    "key_utf8 dtype": (lambda a, m: _set(a, "key_utf8", a["key_utf8"].astype(np.int16)),
                       "expected 1-D uint8"),
    "not utf-8": (lambda a, m: a["key_utf8"].__setitem__(0, 0xFF), "key_utf8 is not UTF-8"),
    "cut character": (lambda a, m: _cut_a_character(a), "cuts a character of key_utf8 in two"),
    # Featurizer version 1 (format 2 files): the terms as code points.
    "v1 key_ptr end": (lambda a, m: _as_version_1(a, m) or _set(a, "key_codes",
                                                               a["key_codes"][:-1]),
                       r"does not rise from 0 to len\(key_codes\)"),
    "v1 key_codes dtype": (lambda a, m: _as_version_1(a, m) or _set(
        a, "key_codes", a["key_codes"].astype(np.int64)), "expected 1-D uint32"),
    "v1 code point": (lambda a, m: _as_version_1(a, m) or a["key_codes"].__setitem__(
        0, 0x110000), "beyond the last Unicode code point"),
    "v1 with utf-8 terms": (lambda a, m: _set(m, "version", 1),
                            r"expected \['idf_', 'key_codes', 'key_ptr'\]"),
    "n_features_out_": (lambda a, m: _set(m["fitted"], "n_features_out_", 5),
                        r"n_features_out_=5, expected \d+ terms \+ 1 bias column"),
    "extra array": (lambda a, m: _set(a, "nb_weight_", np.ones(3)),
                    r"featurizer arrays .*nb_weight_"),
    "nb without weights": (lambda a, m: _set(m["params"], "weighting", "nb"),
                           r"expected \['key_ptr', 'key_utf8', 'nb_weight_'\]"),
}


@pytest.mark.parametrize("name", list(TAMPERED))
def test_load_rejects_an_inconsistent_featurizer(fitted, tmp_path, name):
    change, message = TAMPERED[name]
    path = save_tampered(tmp_path / "bad.npz", fitted, change)
    with pytest.raises(ModelFileError, match=rf"cannot load model from '.*bad\.npz': .*{message}"):
        load_text_model(path)


def test_load_rejects_a_duplicate_term(fitted, tmp_path):
    def duplicate(arrays, meta):
        codes, ptr = arrays["key_utf8"], arrays["key_ptr"]
        first = codes[ptr[0]:ptr[1]]
        arrays["key_utf8"] = np.concatenate([codes, first])
        arrays["key_ptr"] = np.append(ptr, ptr[-1] + first.shape[0])
        arrays["idf_"] = np.append(arrays["idf_"], 1.0)
        meta["fitted"]["n_keys"] += 1
        meta["fitted"]["n_features_out_"] += 1

    with pytest.raises(ModelFileError, match="vocabulary holds a term twice"):
        load_text_model(save_tampered(tmp_path / "bad.npz", fitted, duplicate))


def test_load_rejects_a_featurizer_wider_than_the_classifier(data, fitted, tmp_path):
    texts, y = data
    hashed = text_pipeline(n_features=16).fit(texts, y)
    extra = featurizer_extra(hashed[0])
    save_model(tmp_path / "bad.npz", fitted[1], extra=extra)
    with pytest.raises(ModelFileError, match=r"classifier takes \d+ features but the "
                                             r"featurizer gives 17"):
        load_text_model(tmp_path / "bad.npz")


def test_load_explains_a_model_without_featurizer(fitted, tmp_path):
    save_model(tmp_path / "plain.npz", fitted[1])
    with pytest.raises(ModelFileError, match="without a featurizer .*save_model"):
        load_text_model(tmp_path / "plain.npz")
    assert isinstance(load_model(tmp_path / "plain.npz"), LinearClassifier)


def test_load_rejects_truncated_corrupted_and_newer_files(fitted, tmp_path):
    path = tmp_path / "m.npz"
    save_text_model(path, fitted)
    raw = path.read_bytes()
    (tmp_path / "short.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="short.npz.*truncated or corrupted"):
        load_text_model(tmp_path / "short.npz")

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    idf = "extra/featurizer/idf_.npy"
    flipped = bytearray(members[idf])
    flipped[-1] ^= 0xFF
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = persist.FORMAT_VERSION + 1
    for name, change in [("flip.npz", {idf: bytes(flipped)}),
                         ("newer.npz", {"metadata.json": json.dumps(meta).encode()})]:
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for member, blob in {**members, **change}.items():
                archive.writestr(member, blob)
    with pytest.raises(ModelFileError, match="checksum mismatch for array 'extra/featurizer"):
        load_text_model(tmp_path / "flip.npz")
    with pytest.raises(ModelFileError, match="newer fasttext_lin"):
        load_text_model(tmp_path / "newer.npz")
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_text_model(tmp_path / "absent.npz")


def test_bagofwords_alone_is_not_a_text_model(tmp_path):
    with pytest.raises(TypeError):
        save_text_model(tmp_path / "m.npz", BagOfWords())


def test_round_trip_of_terms_beyond_ascii(tmp_path):
    texts = ["café crème bon", "日本 映画 良い", "😀 great fun", "naïve\ud800 bad",
             "awful 😞 film", "très mauvais"] * 3
    y = ["pos", "pos", "pos", "neg", "neg", "neg"] * 3
    pipe = text_pipeline(ngrams=2, tokenizer="whitespace").fit(texts, y)
    save_text_model(tmp_path / "m.npz", pipe)
    with np.load(tmp_path / "m.npz") as npz:
        utf8 = npz["extra/featurizer/key_utf8"].tobytes()
    assert "日本 映画".encode() in utf8 and "😀".encode() in utf8
    loaded = load_text_model(tmp_path / "m.npz")
    assert (loaded[0].transform(texts) != pipe[0].transform(texts)).nnz == 0
    np.testing.assert_array_equal(loaded.decision_function(texts), pipe.decision_function(texts))


@pytest.mark.parametrize("state", [False, True])
def test_text_model_keeps_the_sgd_state_on_request(state, fitted, tmp_path):
    save_text_model(tmp_path / "m.npz", fitted, state=state)
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        assert ("sgd_v.npy" in archive.namelist()) == state
    loaded = load_text_model(tmp_path / "m.npz")[1]
    assert loaded.sgd_state_.v.shape == fitted[1].sgd_state_.v.shape


def test_quantizing_a_format_2_text_model_rewrites_its_vocabulary(tmp_path):
    source = Path(__file__).parent / "data" / "models" / "text_linear_v2.npz"
    texts = ["a gorgeous , witty , seductive movie .", "not bad at all", ""]
    report = quantize_model(source, tmp_path / "q.npz", weights="float16")
    assert report["bytes_after"] < report["bytes_before"]
    with zipfile.ZipFile(tmp_path / "q.npz") as archive:
        names = archive.namelist()
    assert "extra/featurizer/key_utf8.npy" in names
    assert "extra/featurizer/key_codes.npy" not in names
    old, new = load_text_model(source), load_text_model(tmp_path / "q.npz")
    assert (new[0].transform(texts) != old[0].transform(texts)).nnz == 0
    np.testing.assert_allclose(new.decision_function(texts), old.decision_function(texts),
                               atol=1e-3)

"""Tests of fasttext_lin.datasets: the LIBSVM loader, its error messages, and fetch_libsvm."""

import bz2
import dataclasses
import gzip
import hashlib
import json
import lzma
import os
import re
import urllib.error
import urllib.request

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fasttext_lin import datasets
from fasttext_lin.datasets import (
    fetch_corpus,
    fetch_libsvm,
    get_data_home,
    load_libsvm,
    load_libsvm_files,
    registry,
)

_URL = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets"


def _write(path, text):
    path.write_bytes(text.encode())
    return path


def _assert_contract(X, dtype=np.float64):
    assert isinstance(X, sp.csr_matrix)
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    assert X.has_sorted_indices
    assert X.dtype == dtype


# --- real data sets ---------------------------------------------------------------------------


def test_fetch_a9a(shared_data):
    data = fetch_libsvm("a9a", data_home=shared_data, download=False)
    assert data.X_train.shape == (32561, 123) and data.X_test.shape == (16281, 123)
    assert data.X_train.nnz == 451592 and data.X_test.nnz == 225732
    for X in (data.X_train, data.X_test):
        _assert_contract(X)
    labels, counts = np.unique(data.y_train, return_counts=True)
    assert labels.tolist() == [-1.0, 1.0] and counts.tolist() == [24720, 7841]
    assert np.unique(data.y_test, return_counts=True)[1].tolist() == [12435, 3846]
    assert (data.name, data.n_features, data.n_classes) == ("a9a", 123, 2)
    assert data.train_path == shared_data / "libsvm" / "a9a"


def test_fetch_a1a_has_full_width_though_index_123_is_unused(shared_data):
    data = fetch_libsvm("a1a", data_home=shared_data, download=False)
    assert data.X_train.shape == (1605, 123) and data.X_test.shape == (30956, 123)
    assert data.X_train.indices.max() == 118 and data.X_test.indices.max() == 118
    _assert_contract(data.X_train)
    _assert_contract(data.X_test)
    assert np.unique(data.y_train, return_counts=True)[1].tolist() == [1210, 395]


def test_fetch_dna_with_crlf_line_endings(shared_data):
    assert b"\r\n" in (shared_data / "libsvm" / "dna.scale").read_bytes()[:2000]
    data = fetch_libsvm("dna", data_home=shared_data, download=False)
    assert data.X_train.shape == (2000, 180) and data.X_test.shape == (1186, 180)
    assert np.unique(data.y_train, return_counts=True)[1].tolist() == [464, 485, 1051]


def test_fetch_pendigits(shared_data):
    data = fetch_libsvm("pendigits", data_home=shared_data, download=False)
    assert data.X_train.shape == (7494, 16) and data.X_test.shape == (3498, 16)
    assert np.unique(data.y_train).tolist() == list(range(10))
    assert data.X_train.max() == 100


def test_data_home_from_environment(shared_data, monkeypatch):
    monkeypatch.setenv("FASTTEXT_LIN_DATA", str(shared_data))
    assert fetch_libsvm("a1a", download=False).X_train.shape == (1605, 123)


def test_load_libsvm_files_gives_train_and_test_one_width(shared_data):
    # a1a reaches index 119, a9a.t index 123 (line 1 carries an explicit 123:0)
    X1, y1, X2, y2 = load_libsvm_files([shared_data / "libsvm" / "a1a",
                                        shared_data / "libsvm" / "a9a.t"])
    assert X1.shape == (1605, 123) and X2.shape == (16281, 123)
    assert y1.dtype == np.float64 and len(y2) == 16281


def test_tampered_file_fails_sha256_with_the_fix(shared_data, tmp_path):
    folder = tmp_path / "libsvm"
    folder.mkdir()
    content = bytearray((shared_data / "libsvm" / "a1a").read_bytes())
    content[0:2] = b"+1" if content[0:2] == b"-1" else b"-1"
    (folder / "a1a").write_bytes(bytes(content))
    with pytest.raises(ValueError, match=r"sha256 is [0-9a-f]{64}, expected eb54c45f") as info:
        fetch_libsvm("a1a", data_home=tmp_path, download=False)
    assert f"delete {folder / 'a1a'} to download it again from {_URL}/binary/a1a" in str(info.value)


def test_present_file_without_sha256_is_checked_by_row_count(tmp_path):
    (tmp_path / "libsvm").mkdir()
    _write(tmp_path / "libsvm" / "a5a", "+1 1:1\n-1 2:1\n+1 3:1\n")
    with pytest.raises(ValueError, match=r"a5a: 3 data rows, expected 6414.*delete"):
        fetch_libsvm("a5a", data_home=tmp_path, download=False)


def test_present_file_with_index_beyond_the_set_width(tmp_path):
    (tmp_path / "libsvm").mkdir()
    path = _write(tmp_path / "libsvm" / "a5a", "+1 1:1\n-1 124:1\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:2: feature index 124 exceeds")):
        fetch_libsvm("a5a", data_home=tmp_path, download=False)


def test_missing_file_without_download_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_libsvm("a5a", data_home=tmp_path, download=False)
    message = str(info.value)
    assert "a5a is missing" in message
    assert f"{_URL}/binary/a5a " in message
    assert f"save it as {tmp_path / 'libsvm' / 'a5a'}" in message
    assert "FASTTEXT_LIN_DATA" in message and "libsvm/a5a" in message


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown LIBSVM data set 'a10a'; known sets: a1a, .*w8a"):
        fetch_libsvm("a10a")


# --- downloads, with urllib serving local files -------------------------------------------------


class _FakeResponse:
    """Serves a local file as an HTTP response; records the data folder at the first read."""

    def __init__(self, source, folder, seen):
        self._file = open(source, "rb")
        self._folder = folder
        self._seen = seen

    def read(self, size=-1):
        if not self._seen:
            self._seen.append(sorted(os.listdir(self._folder)))
        return self._file.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


def _serve(monkeypatch, sources, folder):
    """Make urlopen serve ``sources[file name]``; return the URLs asked and folder listings."""
    asked, seen = [], []

    def fake_urlopen(url, timeout):
        asked.append(url)
        assert timeout <= 30
        return _FakeResponse(sources[url.rsplit("/", 1)[1]], folder, seen)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return asked, seen


def test_download_writes_atomically_and_verifies(shared_data, tmp_path, monkeypatch):
    folder = tmp_path / "libsvm"
    sources = {name: shared_data / "libsvm" / name for name in ("a1a", "a1a.t")}
    asked, seen = _serve(monkeypatch, sources, folder)
    data = fetch_libsvm("a1a", data_home=tmp_path)
    assert asked == [f"{_URL}/binary/a1a", f"{_URL}/binary/a1a.t"]
    assert len(seen[0]) == 1 and re.fullmatch(r"\.a1a\..*\.part", seen[0][0])
    assert sorted(os.listdir(folder)) == ["a1a", "a1a.t"]
    assert (folder / "a1a").read_bytes() == sources["a1a"].read_bytes()
    assert data.X_train.shape == (1605, 123)


def test_download_with_wrong_checksum_keeps_nothing(shared_data, tmp_path, monkeypatch):
    folder = tmp_path / "libsvm"
    _serve(monkeypatch, {"a1a": shared_data / "libsvm" / "a9a"}, folder)
    with pytest.raises(ValueError, match=r"download of a1a failed verification and was not saved"
                                         r".*/binary/a1a: sha256 is .*, expected eb54c45f"):
        fetch_libsvm("a1a", data_home=tmp_path)
    assert os.listdir(folder) == []


def test_download_with_wrong_row_count_keeps_nothing(tmp_path, monkeypatch):
    source = _write(tmp_path / "small", "+1 1:1\n-1 2:1\n")
    folder = tmp_path / "home" / "libsvm"
    _serve(monkeypatch, {"w3a": source}, folder)
    with pytest.raises(ValueError, match=r"/binary/w3a: 2 data rows, expected 4912"):
        fetch_libsvm("w3a", data_home=tmp_path / "home")
    assert os.listdir(folder) == []


def test_offline_download_says_where_to_get_the_file(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"download failed: .*no network") as info:
        fetch_libsvm("dna", data_home=tmp_path)
    assert f"Download {_URL}/multiclass/dna.scale and save it as" in str(info.value)
    assert os.listdir(tmp_path / "libsvm") == []


# --- data home --------------------------------------------------------------------------------


def test_get_data_home_order(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTTEXT_LIN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("FASTTEXT_LIN_DATA")
    assert get_data_home() == tmp_path / "xdg" / "fasttext_lin"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / ".cache" / "fasttext_lin"


# --- registry ---------------------------------------------------------------------------------


def test_registry_table_is_consistent():
    names = [f"a{i}a" for i in range(1, 10)] + [f"w{i}a" for i in range(1, 9)]
    assert list(registry.LIBSVM_SPECS) == names + ["dna", "pendigits"]
    assert datasets.LIBSVM_SETS == tuple(registry.LIBSVM_SPECS)
    hashed = 0
    for spec in registry.LIBSVM_SPECS.values():
        assert spec.test.file == spec.train.file + ".t"
        kind = "binary" if spec.n_classes == 2 else "multiclass"
        for file in (spec.train, spec.test):
            assert file.url == f"{_URL}/{kind}/{file.file}"
            hashed += file.sha256 is not None
    assert hashed == 8
    assert (registry.LIBSVM_SPECS["a5a"].train.rows, registry.LIBSVM_SPECS["a5a"].test.rows) == \
        (6414, 26147)


def test_registry_file_and_code_agree():
    """registry.json holds every field the code reads, and nothing the code ignores."""
    raw = json.loads((registry.shipped_home() / "registry.json").read_text(encoding="utf-8"))
    assert set(raw) == {"libsvm", "corpora"}
    assert tuple(raw["libsvm"]) == datasets.LIBSVM_SETS
    assert tuple(raw["corpora"]) == datasets.CORPORA == ("rt-polarity", "sst2", "ag_news",
                                                         "20newsgroups")
    set_keys = {"page", "files", "features", "classes", "citation", "licence"}
    for name, entry in raw["libsvm"].items():
        assert {"page", "files", "features", "classes", "citation"} <= set(entry) <= set_keys
        spec = registry.LIBSVM_SPECS[name]
        for split in ("train", "test"):
            assert registry.LibsvmFile(**entry["files"][split]) == getattr(spec, split)
        assert (spec.n_features, spec.n_classes) == (entry["features"], entry["classes"])
    corpus_fields = {f.name for f in dataclasses.fields(registry.Corpus)}
    for name, entry in raw["corpora"].items():
        spec = registry.CORPUS_SPECS[name]
        assert set(entry) - {"splits", "classes"} <= corpus_fields
        assert [s["rows"] for s in entry["splits"]] == [rows for _, _, rows in spec.splits]
        assert spec.n_classes == entry["classes"] and spec.sha256 == entry.get("sha256", {})
        assert spec.citation
    # sha256 of files seen in shared/data/sources, as the code checked them before the registry
    assert registry.CORPUS_SPECS["rt-polarity"].sha256 == {
        "rt-polarity.pos": "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0",
        "rt-polarity.neg": "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca"}


# --- copies shipped with the package ------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    def offline(url, timeout):
        raise AssertionError(f"no download expected, asked for {url}")

    monkeypatch.setattr(urllib.request, "urlopen", offline)


def test_shipped_copies_match_the_registry():
    shipped = registry.shipped_home()
    files = sorted(p.relative_to(shipped).as_posix() for p in shipped.rglob("*.xz"))
    assert files == ["libsvm/a9a.t.xz", "libsvm/a9a.xz", "text/rt-polarity/rt-polarity.neg.xz",
                     "text/rt-polarity/rt-polarity.pos.xz"]
    expected = {f"libsvm/{f.file}.xz": f.sha256 for spec in registry.LIBSVM_SPECS.values()
                for f in (spec.train, spec.test)}
    for corpus in registry.CORPUS_SPECS.values():
        expected.update({f"text/{corpus.folder}/{name}.xz": digest
                         for name, digest in corpus.sha256.items()})
    for name in files:
        with lzma.open(shipped / name) as f:
            assert hashlib.sha256(f.read()).hexdigest() == expected[name], name


def test_shipped_copies_serve_an_empty_data_home(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("FASTTEXT_LIN_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for download in (False, True):
        data = fetch_libsvm("a9a", download=download)
        assert data.X_train.shape == (32561, 123) and data.X_test.shape == (16281, 123)
        assert data.X_train.nnz == 451592 and data.X_test.nnz == 225732
        assert np.unique(data.y_train, return_counts=True)[1].tolist() == [24720, 7841]
        assert data.train_path == registry.shipped_home() / "libsvm" / "a9a.xz"
        _assert_contract(data.X_train)
    assert len(list((tmp_path / "cache" / "fasttext_lin" / "libsvm-npz").iterdir())) == 2
    assert not (tmp_path / "libsvm").exists()  # nothing was written to the data home
    corpus = fetch_corpus("rt-polarity", download=False)
    assert len(corpus.texts_train) == 10662 and corpus.classes.tolist() == ["neg", "pos"]
    assert np.unique(corpus.y_train, return_counts=True)[1].tolist() == [5331, 5331]
    assert corpus.folder == registry.shipped_home() / "text" / "rt-polarity"


def test_shipped_copies_come_before_the_user_cache(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("FASTTEXT_LIN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "fasttext_lin" / "libsvm").mkdir(parents=True)
    _write(tmp_path / "fasttext_lin" / "libsvm" / "a9a", "+1 1:1\n")  # a wrong copy: unread
    assert fetch_libsvm("a9a", subset="train").X_train.shape == (32561, 123)
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"missing from {tmp_path / 'fasttext_lin' / 'libsvm'}")):
        fetch_libsvm("a5a", download=False)


def test_a_named_data_home_comes_before_the_shipped_copies(tmp_path, no_network):
    (tmp_path / "libsvm").mkdir()
    _write(tmp_path / "libsvm" / "a9a", "+1 1:1\n")
    with pytest.raises(ValueError, match=r"sha256 is .*expected f5d5ffd8.*delete "):
        fetch_libsvm("a9a", data_home=tmp_path)


def test_damaged_shipped_copy_says_reinstall(tmp_path, monkeypatch, no_network):
    shipped = tmp_path / "shipped"
    (shipped / "libsvm").mkdir(parents=True)
    with lzma.open(shipped / "libsvm" / "a9a.t.xz", "wb") as f:
        f.write(b"+1 1:1\n")
    monkeypatch.setattr(registry, "shipped_home", lambda: shipped)
    with pytest.raises(ValueError, match=r"expected 7d8c09f1.*reinstall fasttext_lin"):
        fetch_libsvm("a9a", data_home=tmp_path / "empty", subset="test")


# --- malformed files --------------------------------------------------------------------------

_GOOD = "+1 1:0.5 3:1\n# a comment line\n"

_MALFORMED = [
    ("-1 abc", r"expected 'index:value', got 'abc'"),
    ("-1 0:1", r"feature index 0 is not >= 1 \(LIBSVM indices are 1-based\)"),
    ("-1 -4:1", r"feature index -4 is not >= 1"),
    ("-1 x:1", r"feature index 'x' in 'x:1' is not an integer"),
    ("-1 3:1 2:1", r"indices are not increasing \(3 then 2\)"),
    ("-1 2:1 2:1", r"indices are not increasing \(2 then 2\)"),
    ("-1 3000000000:1", r"feature index 3000000000 is too large \(at most 2147483647\)"),
    ("x 1:1", r"label 'x' is not a number"),
    ("-1 1:abc", r"value 'abc' of feature 1 is not a number"),
    ("-1 1:", r"value '' of feature 1 is not a number"),
    ("-1 1:1 2:nan", r"value of feature 2 is nan as float64, not a finite number"),
    ("-1 7:-inf", r"value of feature 7 is -inf as float64, not a finite number"),
    ("inf 1:1", r"label inf is not finite"),
]


@pytest.mark.parametrize("bad_line, problem", _MALFORMED)
def test_malformed_line_is_named_by_file_and_line(tmp_path, bad_line, problem):
    path = _write(tmp_path / "bad.svm", _GOOD + bad_line + "\n-1 2:1\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: ") + problem):
        load_libsvm(path)


def test_float32_overflow_is_not_finite(tmp_path):
    path = _write(tmp_path / "big.svm", "1 1:1\n\n1 2:1e39\n")
    assert load_libsvm(path)[0][1, 1] == 1e39
    message = f"{path}:3: value of feature 2 is inf as float32"
    with pytest.raises(ValueError, match=re.escape(message)):
        load_libsvm(path, dtype=np.float32)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_compressed_file_error_names_the_line(tmp_path, opener):
    path = tmp_path / ("bad.svm.gz" if opener is gzip.open else "bad.svm.bz2")
    with opener(path, "wb") as f:
        f.write(b"1 1:1\n1 2:1\n1 1:1 1:2\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: indices are not increasing")):
        load_libsvm(path)


def test_svmlight_query_id_is_skipped_like_sklearn_does(tmp_path):
    path = _write(tmp_path / "qid.svm", "1 qid:1 1:1\n2 qid:2 2:1\n")
    X, y = load_libsvm(path)
    assert X.toarray().tolist() == [[1, 0], [0, 1]]
    _write(path, "1 qid:1 1:1\n2 qid:2 2:1\n3 qid:2 2:x\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: value 'x' of feature 2")):
        load_libsvm(path)


def test_parser_error_the_scan_cannot_place_names_the_file(tmp_path, monkeypatch):
    def failing(*args, **kwargs):
        raise ValueError("unexpected parser failure")

    monkeypatch.setattr(datasets.libsvm, "load_svmlight_files", failing)
    path = _write(tmp_path / "ok.svm", "1 1:1\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}: unexpected parser failure")):
        load_libsvm(path)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   \n\r\n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path / "empty.svm", text)
    with pytest.raises(ValueError, match=re.escape(f"{path}: no data rows (empty file)")):
        load_libsvm(path)


def test_missing_file(tmp_path):
    path = tmp_path / "absent.svm"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_libsvm(path)


def test_n_features_too_small(tmp_path):
    path = _write(tmp_path / "wide.svm", "1 1:1\n\n1 2:1 5:1\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: feature index 5 exceeds "
                                                   "n_features=4; pass a larger n_features")):
        load_libsvm(path, n_features=4)
    assert load_libsvm(path, n_features=9)[0].shape == (2, 9)


@pytest.mark.parametrize("kwargs, problem", [
    ({"n_features": 0}, "n_features must be a positive integer"),
    ({"n_features": 2.5}, "n_features must be a positive integer"),
    ({"dtype": np.int64}, "dtype must be numpy.float32 or numpy.float64"),
])
def test_bad_arguments(tmp_path, kwargs, problem):
    path = _write(tmp_path / "ok.svm", "1 1:1\n")
    with pytest.raises(ValueError, match=problem):
        load_libsvm(path, **kwargs)


def test_load_libsvm_files_common_width_and_errors(tmp_path):
    train = _write(tmp_path / "train.svm", "1 1:1 3:2\n-1 2:1\n")
    test = _write(tmp_path / "test.svm", "1 7:1\r\n")
    X1, y1, X2, y2 = load_libsvm_files([train, test], dtype=np.float32)
    assert X1.shape == (2, 7) and X2.shape == (1, 7)
    _assert_contract(X1, np.float32)
    _assert_contract(X2, np.float32)
    assert y1.tolist() == [1, -1] and y2.tolist() == [1]
    assert [X.shape[1] for X in load_libsvm_files([train, test], n_features=10)[::2]] == [10, 10]
    with pytest.raises(ValueError, match=re.escape(f"{test}:1: feature index 7 exceeds")):
        load_libsvm_files([train, test], n_features=5)
    _write(test, "1 7:1\n1 2:1 1:1\n")
    with pytest.raises(ValueError, match=re.escape(f"{test}:2: indices are not increasing")):
        load_libsvm_files([train, test])


# --- properties -------------------------------------------------------------------------------

_finite = st.floats(-1e30, 1e30, allow_nan=False, allow_infinity=False)


@st.composite
def _sparse_problems(draw):
    n_rows, n_cols = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    values = draw(arrays(np.float64, (n_rows, n_cols), elements=_finite))
    stored = draw(arrays(np.bool_, (n_rows, n_cols)))
    labels = draw(arrays(np.float64, n_rows, elements=_finite))
    return values, stored, labels


def _libsvm_lines(values, stored, labels):
    """A plain LIBSVM writer: every stored entry, explicit zeros included."""
    return [" ".join([repr(float(label))] + [f"{j + 1}:{float(values[i, j])!r}"
                                             for j in np.flatnonzero(stored[i])])
            for i, label in enumerate(labels)]


@settings(max_examples=60, deadline=None)
@given(problem=_sparse_problems(), newline=st.sampled_from(["\n", "\r\n"]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_round_trip(tmp_path_factory, problem, newline, dtype):
    values, stored, labels = problem
    path = tmp_path_factory.getbasetemp() / "round_trip.svm"
    _write(path, "# written by the test\n" + "".join(line + " " + newline
                                                      for line in _libsvm_lines(*problem)))
    X, y = load_libsvm(path, n_features=values.shape[1], dtype=dtype)
    _assert_contract(X, dtype)
    assert X.nnz == stored.sum()
    np.testing.assert_array_equal(X.toarray(), np.where(stored, values, 0).astype(dtype))
    np.testing.assert_array_equal(y, labels)


@settings(max_examples=60, deadline=None)
@given(problem=_sparse_problems(), bad_row=st.integers(0, 5),
       bad_token=st.sampled_from(["abc", "0:1", "9:nan", "2:x"]),
       skipped=st.lists(st.sampled_from(["", "   ", "# note"]), max_size=12), data=st.data())
def test_error_line_number_counts_blank_and_comment_lines(tmp_path_factory, problem, bad_row,
                                                          bad_token, skipped, data):
    lines = _libsvm_lines(*problem)
    lines[bad_row % len(lines)] = f"1 {bad_token}"
    for extra in skipped:  # blank and comment lines at random places
        lines.insert(data.draw(st.integers(0, len(lines))), extra)
    bad_line = 1 + next(i for i, line in enumerate(lines) if line == f"1 {bad_token}")
    path = tmp_path_factory.getbasetemp() / "line_number.svm"
    _write(path, "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:{bad_line}: ")):
        load_libsvm(path)

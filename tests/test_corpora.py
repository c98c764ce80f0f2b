"""Tests of the text-corpus readers and fetch_corpus in fasttext_lin.datasets."""

import csv
import dataclasses
import hashlib
import io
import os
import re
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin.datasets import (
    fetch_corpus,
    read_delimited,
    read_fasttext,
    read_file_per_class,
    read_folder_per_class,
    registry,
)


def _write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.fixture(autouse=True)
def _no_shipped_copies(monkeypatch, tmp_path_factory):
    """These tests are about data homes and downloads, which the shipped rt-polarity would
    serve: hide it (tests/test_datasets.py tests the shipped copies)."""
    empty = tmp_path_factory.mktemp("shipped")
    monkeypatch.setattr(registry, "shipped_home", lambda: empty)


# --- read_fasttext ----------------------------------------------------------------------------


def test_fasttext_label_crlf_blank_lines_and_empty_documents(tmp_path):
    path = _write(tmp_path / "a.txt", "__label__pos good film\r\n\n   \r\n__label__neg __label__neg"
                  "\tbad  one \r\n__label__neg\n__label__pos   spaced\tout")
    texts, labels = read_fasttext(path)
    assert texts == ["good film", "bad  one ", "", "spaced\tout"]
    assert labels.tolist() == ["pos", "neg", "neg", "pos"]
    assert labels.dtype.kind == "U"


def test_fasttext_without_prefix_reads_sst2_lines(tmp_path):
    path = _write(tmp_path / "stsa", "1 a fine , funny film\n0 __label__x dull\n")
    texts, labels = read_fasttext(path, label_prefix="")
    assert texts == ["a fine , funny film", "__label__x dull"] and labels.tolist() == ["1", "0"]


@pytest.mark.parametrize("line, problem", [
    ("no label here", "no label"),
    ("  text __label__late", "no label"),
    ("__label__ text", "empty label"),
])
def test_fasttext_line_without_label(tmp_path, line, problem):
    path = _write(tmp_path / "bad.txt", f"__label__a ok\n\n{line}\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}:3: {problem}: a line must start "
                                                   "with '__label__<label>'")):
        read_fasttext(path)


# --- read_delimited ---------------------------------------------------------------------------

_AG_LIKE = ('"3","Fears, for pension","Unions say ""no"",\nthen\\nleave"\r\n'
            '"4","Race","Space, again"\r\n'
            '"1","",""\r\n')


def test_delimited_quoted_commas_newlines_and_joined_columns(tmp_path):
    texts, labels = read_delimited(_write(tmp_path / "test.csv", _AG_LIKE), 0, [1, 2])
    assert texts == ['Fears, for pension Unions say "no",\nthen\\nleave', "Race Space, again", " "]
    assert labels.tolist() == ["3", "4", "1"]


def test_delimited_tsv_with_header_names(tmp_path):
    path = _write(tmp_path / "t.tsv", "text\tlabel\nfine film\tpos\n\nbad, film\tneg\n")
    texts, labels = read_delimited(path, "label", "text", delimiter="\t", header=True)
    assert texts == ["fine film", "bad, film"] and labels.tolist() == ["pos", "neg"]
    with pytest.raises(ValueError, match=re.escape(f"{path}:1: no column named 'y' in the hea")):
        read_delimited(path, "y", "text", delimiter="\t", header=True)
    with pytest.raises(ValueError, match="columns must be integers without a header"):
        read_delimited(path, "label", "text", delimiter="\t")


def test_delimited_missing_column_names_file_line_and_column(tmp_path):
    # the multi-line record starts at line 1, so the short record is on line 4
    path = _write(tmp_path / "short.csv", '"1","a\nb\nc","d"\n"2"\n')
    with pytest.raises(ValueError, match=re.escape(f"{path}:4: no text column 1: the record "
                                                   "has 1 field(s) ['2']")):
        read_delimited(path, 0, [1, 2])
    with pytest.raises(ValueError, match=re.escape(f"{path}:1: no label column 5")):
        read_delimited(path, 5, 1)
    _write(path, '"1","x"\n"","y"\n')
    with pytest.raises(ValueError, match=re.escape(f"{path}:2: empty label in column 0")):
        read_delimited(path, 0, 1)


# --- read_file_per_class and read_folder_per_class --------------------------------------------


def test_file_per_class_skips_blank_lines_and_keeps_order(tmp_path):
    pos = _write(tmp_path / "x.pos", "good\r\n\r\nfine\r\n")
    neg = _write(tmp_path / "x.neg", "bad\n \t\nworse")
    texts, labels = read_file_per_class({"pos": pos, "neg": neg})
    assert texts == ["good", "fine", "bad", "worse"]
    assert labels.tolist() == ["pos"] * 2 + ["neg"] * 2


def test_folder_per_class_is_sorted_and_skips_hidden_files(tmp_path):
    for name, content in [("b/2", "two\r\nlines\n"), ("b/10", ""), ("a/z", "zed"),
                          ("a/.DS_Store", "x"), (".hidden/1", "x")]:
        _write(tmp_path / name, content)
    _write(tmp_path / "README", "not a class")
    texts, labels = read_folder_per_class(tmp_path)
    assert texts == ["zed", "", "two\r\nlines\n"] and labels.tolist() == ["a", "b", "b"]
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        read_folder_per_class(tmp_path / "absent")


# --- encodings --------------------------------------------------------------------------------

_LATIN1 = "cafe ok\nna\xefve x\n".encode("latin-1")


@pytest.mark.parametrize("read, name", [
    (lambda p, **kw: read_file_per_class({"pos": p}, **kw), "x.pos"),
    (lambda p, **kw: read_fasttext(p, label_prefix="", **kw), "x.txt"),
    (lambda p, **kw: read_delimited(p, 0, 1, delimiter=" ", **kw), "x.csv"),
    (lambda p, **kw: read_folder_per_class(p.parent.parent, **kw), "c/x"),
])
def test_invalid_utf8_names_file_line_and_byte(tmp_path, read, name):
    path = _write(tmp_path / name, _LATIN1)
    message = (f"{path}:2: cannot decode byte 0xef at byte 2 of the line (byte 10 of the file) "
               "as utf-8: invalid continuation byte; pass encoding='latin-1' (--encoding "
               "latin-1) if the file is Latin-1, or errors='replace' (--encoding-errors replace)")
    with pytest.raises(ValueError, match=re.escape(message)):
        read(path)
    assert "na\xefve" in _everything(read(path, encoding="latin-1"))
    assert "na\ufffdve" in _everything(read(path, errors="replace"))


def _everything(corpus):
    texts, labels = corpus
    return " ".join(texts + labels.tolist())


def test_utf8_bom_is_skipped_and_codecs_are_checked(tmp_path):
    path = _write(tmp_path / "bom.txt", "\ufeff__label__a text\n".encode("utf-8"))
    assert read_fasttext(path)[1].tolist() == ["a"]
    with pytest.raises(ValueError, match="'utf-16' is not ASCII-compatible"):
        read_fasttext(path, encoding="utf-16")
    with pytest.raises(ValueError, match="unknown encoding or errors handler"):
        read_fasttext(path, errors="nonsense")


@pytest.mark.parametrize("content", ["", "\n\n", " \t\r\n"])
def test_empty_corpus(tmp_path, content):
    path = _write(tmp_path / "empty.txt", content)
    with pytest.raises(ValueError, match=re.escape(f"{path}: no documents (empty corpus)")):
        read_fasttext(path)
    if content.strip("\n") == "":
        with pytest.raises(ValueError, match="no documents"):
            read_delimited(path, 0, 1)
    if content == "":
        with pytest.raises(ValueError, match=re.escape(f"{path}: no documents")):
            read_file_per_class({"a": path})
    (tmp_path / "folder" / "class").mkdir(parents=True)
    with pytest.raises(ValueError, match="folder/<class>/<file>: no documents"):
        read_folder_per_class(tmp_path / "folder")


# --- round trips ------------------------------------------------------------------------------

_labels = st.text("abcXYZ019-", min_size=1, max_size=5)
# fastText texts: no line break, no leading blank (it would be taken as a separator), no leading
# label token; TSV texts: anything but NUL, since the csv module quotes the rest.
_fasttext_texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                          max_size=30).filter(lambda t: t[:1] not in (" ", "\t", "\v", "\f")
                                              and not t.startswith("__label__"))
_tsv_texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                     max_size=30)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(_labels, _fasttext_texts, st.integers(1, 3)),
                     min_size=1, max_size=8),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_fasttext_round_trip(tmp_path_factory, rows, newline):
    # a label repeated on its line is read once
    lines = [" ".join([f"__label__{y}"] * repeats) + " " + text for y, text, repeats in rows]
    path = _write(tmp_path_factory.getbasetemp() / "round.ft", newline.join(lines) + newline)
    texts, labels = read_fasttext(path)
    assert texts == [text for _, text, _ in rows]
    assert labels.tolist() == [y for y, _, _ in rows]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(_labels, _tsv_texts, _tsv_texts), min_size=1, max_size=8))
def test_tsv_round_trip(tmp_path_factory, rows):
    out = io.StringIO(newline="")
    csv.writer(out, delimiter="\t").writerows([y, a, b] for y, a, b in rows)
    path = _write(tmp_path_factory.getbasetemp() / "round.tsv", out.getvalue())
    texts, labels = read_delimited(path, 0, [1, 2], delimiter="\t", header=False, quoting=True)
    assert texts == [f"{a} {b}" for _, a, b in rows]
    assert labels.tolist() == [y for y, _, _ in rows]


# --- the shared corpora -----------------------------------------------------------------------


def _sizes(data):
    return tuple(None if data[f"texts_{s}"] is None else len(data[f"texts_{s}"])
                 for s in ("train", "dev", "test"))


@pytest.mark.parametrize("name, sizes, classes, protocol", [
    ("rt-polarity", (10662, None, None), ["neg", "pos"], "10-fold CV"),
    ("sst2", (6920, 872, 1821), ["0", "1"], "train->test (dev for model selection)"),
    ("ag_news", (None, None, 7600), ["1", "2", "3", "4"], "5-fold CV on the test split"),
    ("20newsgroups", (11314, None, 7532), None, "train->test"),
])
def test_fetch_shared_corpus(shared_data, name, sizes, classes, protocol):
    data = fetch_corpus(name, data_home=shared_data, download=False)
    assert _sizes(data) == sizes and data.name == name
    assert data.protocol.startswith(protocol)
    for split in ("train", "dev", "test"):
        if data[f"texts_{split}"] is not None:
            assert len(data[f"y_{split}"]) == len(data[f"texts_{split}"])
            assert set(data[f"y_{split}"]) <= set(data.classes)
    if classes is not None:
        assert data.classes.tolist() == classes
    else:
        assert len(data.classes) == 20 and "sci.space" in data.classes


def test_rt_polarity_is_latin1_and_balanced(shared_data):
    data = fetch_corpus("rt-polarity", data_home=shared_data, download=False)
    assert np.unique(data.y_train, return_counts=True)[1].tolist() == [5331, 5331]
    assert any("\xe9" in text for text in data.texts_train)


def test_tampered_file_fails_sha256_with_the_fix(shared_data, tmp_path):
    folder = tmp_path / "text" / "sst2"
    for name in ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"):
        _write(folder / name, (shared_data / "text" / "sst2" / name).read_bytes())
    _write(folder / "stsa.binary.dev", b"1 changed\n" * 872)
    with pytest.raises(ValueError, match=re.escape(f"{folder}/stsa.binary.dev: sha256 is ")
                       + r"[0-9a-f]{64}, expected 02fedc82.*delete the file or folder at "
                       + re.escape(f"fault in {folder} to download it again")):
        fetch_corpus("sst2", data_home=tmp_path, download=False)


def _tiny_newsgroups(monkeypatch, tmp_path):
    """A 2-class, 3-document stand-in for 20newsgroups, with its manifest."""
    spec = dataclasses.replace(registry.CORPUS_SPECS["20newsgroups"], n_classes=2, sha256={},
                               splits=(("train", "train", 2), ("test", "test", 1)))
    monkeypatch.setitem(registry.CORPUS_SPECS, "20newsgroups", spec)
    folder = tmp_path / "text" / "20newsgroups"
    files = {"train/a/1": "one", "train/b/2": "two", "test/a/3": "three"}
    for name, text in files.items():
        _write(folder / name, text)
    _write(folder / "MANIFEST.sha256", "".join(f"{hashlib.sha256(t.encode()).hexdigest()}  "
                                               f"./{n}\n" for n, t in files.items()))
    return folder


def test_manifest_checks_every_file(monkeypatch, tmp_path):
    folder = _tiny_newsgroups(monkeypatch, tmp_path)
    assert fetch_corpus("20newsgroups", data_home=tmp_path).texts_test == ["three"]
    _write(folder / "train/b/2", "TWO")
    with pytest.raises(ValueError, match=re.escape(f"{folder}/train/b/2: sha256 is ")):
        fetch_corpus("20newsgroups", data_home=tmp_path)
    (folder / "train/b/2").unlink()
    _write(folder / "train/b/4", "two")
    with pytest.raises(ValueError, match=re.escape(f"{folder}/train/b/4: not listed")):
        fetch_corpus("20newsgroups", data_home=tmp_path)


def test_wrong_count_is_an_error(monkeypatch, tmp_path):
    folder = _tiny_newsgroups(monkeypatch, tmp_path)
    (folder / "MANIFEST.sha256").unlink()
    _write(folder / "test/b/5", "five")
    with pytest.raises(ValueError, match=re.escape(f"{folder}: 2 documents in the test split, "
                                                   "expected 1")):
        fetch_corpus("20newsgroups", data_home=tmp_path)


def test_missing_corpus_without_download_says_what_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_corpus("rt-polarity", data_home=tmp_path, download=False)
    message = str(info.value)
    folder = tmp_path / "text" / "rt-polarity"
    assert message.startswith("rt-polarity corpus: rt-polarity.neg, rt-polarity.pos are missing "
                              f"from {folder} (download=False). Download ")
    assert "movie-review-data/rt-polaritydata.tar.gz (saved as rt-polaritydata.tar.gz" in message
    assert f"extract rt-polaritydata/{{rt-polarity.neg, rt-polarity.pos}} from it into {folder}/"\
        in message
    assert "FASTTEXT_LIN_DATA to a folder that holds text/rt-polarity/" in message


def test_unknown_corpus_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown corpus 'imdb'; known corpora: rt-polarity, sst2, "
                                         "ag_news, 20newsgroups"):
        fetch_corpus("imdb")


# --- downloads, with urllib serving local bytes -------------------------------------------------


def _serve(monkeypatch, payload_of):
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        payload = payload_of(url)
        if isinstance(payload, Exception):
            raise payload
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return asked


def _tar(members):
    """A .tar.gz holding ``{name: bytes}``, or ``{name: ("symlink", target)}``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _rt_members(shared_data):
    return {f"rt-polaritydata/rt-polarity.{s}":
            (shared_data / "text" / "rt-polarity" / f"rt-polarity.{s}").read_bytes()
            for s in ("pos", "neg")}


def test_archive_download_extracts_verifies_and_moves_into_place(shared_data, tmp_path,
                                                                 monkeypatch):
    members = {"rt-polaritydata.README.1.0.txt": b"readme", **_rt_members(shared_data)}
    asked = _serve(monkeypatch, lambda url: _tar(members))
    data = fetch_corpus("rt-polarity", data_home=tmp_path)
    assert len(data.texts_train) == 10662 and asked == [registry.CORPUS_SPECS["rt-polarity"].url]
    assert sorted(os.listdir(tmp_path / "text")) == ["rt-polarity"]
    assert sorted(os.listdir(tmp_path / "text" / "rt-polarity")) == ["rt-polarity.neg",
                                                                     "rt-polarity.pos"]


@pytest.mark.parametrize("extra, problem", [
    ({"rt-polaritydata/../../evil": b"x"}, "unsafe path 'rt-polaritydata/../../evil'"),
    ({"/abs": b"x"}, "unsafe path '/abs'"),
    ({"rt-polaritydata/rt-polarity.pos": ("symlink", "/etc/passwd")}, "is a link"),
])
def test_unsafe_archive_keeps_nothing(shared_data, tmp_path, monkeypatch, extra, problem):
    members = {**_rt_members(shared_data), **extra}
    if "rt-polaritydata/rt-polarity.pos" in extra:
        members = {"rt-polaritydata/rt-polarity.neg": members["rt-polaritydata/rt-polarity.neg"],
                   **extra}
    _serve(monkeypatch, lambda url: _tar(members))
    with pytest.raises(ValueError, match="download of rt-polarity failed verification and was "
                                         "not saved: .*" + re.escape(problem)):
        fetch_corpus("rt-polarity", data_home=tmp_path)
    assert os.listdir(tmp_path / "text") == []


def test_archive_with_wrong_content_keeps_nothing(tmp_path, monkeypatch):
    members = {"rt-polaritydata/rt-polarity.pos": b"a\n", "rt-polaritydata/rt-polarity.neg": b"b\n"}
    _serve(monkeypatch, lambda url: _tar(members))
    with pytest.raises(ValueError, match=r"rt-polaritydata.tar.gz/rt-polarity.neg: sha256 is"):
        fetch_corpus("rt-polarity", data_home=tmp_path)
    assert os.listdir(tmp_path / "text") == []
    _serve(monkeypatch, lambda url: b"<html>a page, not an archive</html>")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        fetch_corpus("ag_news", data_home=tmp_path)
    assert os.listdir(tmp_path / "text") == []


def test_single_file_download_fills_only_what_is_missing(shared_data, tmp_path, monkeypatch):
    source = shared_data / "text" / "sst2"
    folder = tmp_path / "text" / "sst2"
    _write(folder / "stsa.binary.train", (source / "stsa.binary.train").read_bytes())
    asked = _serve(monkeypatch, lambda url: (source / url.rsplit("/", 1)[1]).read_bytes())
    assert _sizes(fetch_corpus("sst2", data_home=tmp_path)) == (6920, 872, 1821)
    assert [url.rsplit("/", 1)[1] for url in asked] == ["stsa.binary.dev", "stsa.binary.test"]
    (folder / "stsa.binary.test").unlink()
    _serve(monkeypatch, lambda url: b"0 wrong\n")
    with pytest.raises(ValueError, match=r"data/stsa.binary.test: sha256 is .*, expected 6a80dc9b"):
        fetch_corpus("sst2", data_home=tmp_path)
    assert sorted(os.listdir(folder)) == ["stsa.binary.dev", "stsa.binary.train"]


def test_offline_download_says_what_to_get(tmp_path, monkeypatch):
    _serve(monkeypatch, lambda url: urllib.error.URLError("no network"))
    with pytest.raises(FileNotFoundError, match=r"download failed: .*no network") as info:
        fetch_corpus("20newsgroups", data_home=tmp_path)
    assert "Download http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz" in str(info.value)
    assert "extract {20news-bydate-train, 20news-bydate-test} from it" in str(info.value)
    assert os.listdir(tmp_path / "text") == []

"""Bad input to the readers of fasttext_lin.datasets: the right result, or one line naming the
file, the line and the fix; never a row lost silently."""

import bz2
import csv
import gzip
import lzma
import re
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin.datasets import (
    check_class_labels,
    load_libsvm,
    load_libsvm_files,
    read_delimited,
    read_fasttext,
    read_file_per_class,
    read_label_text,
)


def _write(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _one_line_error(call, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and len(message) < 400, message
    return message


# --- CSV / TSV: stray and unterminated quotes -------------------------------------------------

_STRAY = ('"Great movie, loved it\t1\nBad acting\t0\nTerrible plot\t0\nWorst film ever\t0\n'
          'It was "ok"\t1\nFine\t1\n')


def test_tsv_reads_quotes_as_text_by_default(tmp_path):
    texts, labels = read_delimited(_write(tmp_path / "stray.tsv", _STRAY), 1, 0, delimiter="\t")
    assert texts == ['"Great movie, loved it', "Bad acting", "Terrible plot", "Worst film ever",
                     'It was "ok"', "Fine"]
    assert labels.tolist() == ["1", "0", "0", "0", "1", "1"]


def test_quoted_tsv_and_csv_name_where_a_stray_quote_opens(tmp_path):
    path = _write(tmp_path / "stray.tsv", _STRAY)
    message = _one_line_error(read_delimited, path, 1, 0, delimiter="\t", quoting=True)
    assert message.startswith(f"{path}:1: a field quoted on this line closes on line 5 and has "
                              "text after its closing quote")
    assert "quoting=False (--no-quoting)" in message
    path = _write(tmp_path / "stray.csv", _STRAY.replace("\t", ","))
    assert _one_line_error(read_delimited, path, 1, 0).startswith(f"{path}:1: a field quoted")


@pytest.mark.parametrize("content, line", [
    ('"Great movie loved it,1\nBad acting,0\nTerrible plot,0\nIt was ok",1\nFine,1\n', 2),
    ('pos,a\nneg,"b\npos,c"\nneg,d\npos,e\n', 3),  # the closing line: its label, then the quote
    ('1,good\n0,"bad\n1,fine\n0,"\n1,x\n', 3),  # numeric labels: any integer looks like one
])
def test_csv_field_swallowing_records_is_refused(tmp_path, content, line):
    path = _write(tmp_path / "swallow.csv", content)
    columns = (1, 0) if content.startswith('"') else (0, 1)
    message = _one_line_error(read_delimited, path, *columns)
    assert re.match(rf"{re.escape(str(path))}:\d+: a field quoted on this line runs over line "
                    rf"{line}, which looks like a record of its own", message), message
    assert "quoting=True (--quoting) if the field is meant" in message
    # an explicit quoting=True trusts the quotes
    assert len(read_delimited(path, *columns, quoting=True, header=False)[0]) < content.count("\n")


def test_legal_multi_line_fields_are_kept(tmp_path):
    path = _write(tmp_path / "multi.csv", 'pos,"line one,\nline two, and three"\nneg,"x\n\ny"\n'
                                          'pos,z\nneg,w\n')
    texts, labels = read_delimited(path, 0, 1)
    assert texts == ["line one,\nline two, and three", "x\n\ny", "z", "w"]


@pytest.mark.parametrize("content", ['pos,ok\nneg,"abc\n' + "x" * 60_000 + "\npos,zz\n",
                                     'pos,ok\nneg,"abc'])
def test_unterminated_quote_names_its_line_in_a_short_message(tmp_path, content):
    path = _write(tmp_path / "open.csv", content)
    message = _one_line_error(read_delimited, path, 0, 1)
    assert message == (f"{path}:2: a quote opens a field on this line and never closes: "
                       "'neg,\"abc'; pass quoting=False (--no-quoting) if quotes are plain text "
                       "in this file, else remove the stray quote or double it (\"\")")


def test_label_spanning_lines_is_refused(tmp_path):
    path = _write(tmp_path / "x.csv", '"pos\nneg",text\nneg,a\npos,b\n')
    assert "spans lines" in _one_line_error(read_delimited, path, 0, 1, header=False,
                                            quoting=True)


def test_fields_over_the_csv_module_limit_read(tmp_path):
    limit = csv.field_size_limit()
    path = _write(tmp_path / "long.csv", f'pos,"{"x" * 300_000}"\nneg,{"y" * 200_000}\n')
    texts, labels = read_delimited(path, 0, 1)
    assert [len(t) for t in texts] == [300_000, 200_000] and labels.tolist() == ["pos", "neg"]
    assert csv.field_size_limit() == limit  # restored


# --- CSV / TSV: header lines ------------------------------------------------------------------


@pytest.mark.parametrize("content, why", [
    ("label,text\npos,good\nneg,bad\npos,nice\n", "a usual column name"),
    ("Id,Title\n3,a\n4,b\n1,c\n", "not a number like every other label"),
    ("kind,text\npos,a\nneg,b\npos,c\nneg,d\n", "the only label seen once"),
])
def test_undeclared_header_is_refused_with_the_fix(tmp_path, content, why):
    path = _write(tmp_path / "h.csv", content)
    message = _one_line_error(read_delimited, path, 0, 1)
    first = content.split(",")[0]
    assert message == (f"{path}:1: this first record looks like a header: its label {first!r} "
                       f"occurs nowhere else in column 0 and is {why}; pass header=True "
                       "(--header) to skip it, or header=False (--no-header) to read it as a "
                       "document")
    n = content.count("\n")
    assert len(read_delimited(path, 0, 1, header=True)[0]) == n - 1
    assert len(read_delimited(path, 0, 1, header=False)[0]) == n


def test_first_record_of_a_known_class_is_not_a_header(tmp_path):
    for content in ["pos,a\nneg,b\npos,c\n", "3,a\n4,b\n1,c\n", "b,x\na,y\n"]:
        path = _write(tmp_path / "ok.csv", content)
        assert len(read_delimited(path, 0, 1)[0]) == content.count("\n")


# --- fastText and label-text lines ------------------------------------------------------------


def test_fasttext_line_with_two_labels_is_refused(tmp_path):
    path = _write(tmp_path / "ml.txt", "__label__a one\n\n__label__a __label__b text\n")
    assert _one_line_error(read_fasttext, path) == (
        f"{path}:3: this line has 2 labels ('a', 'b') and the classifiers take one: keep one "
        "label a line")
    _write(path, "__label__a __label__a text\n")
    assert read_fasttext(path)[1].tolist() == ["a"]


def test_label_text_reads_sst_trec_lines(tmp_path):
    path = _write(tmp_path / "stsa", "1 a fine , funny film\r\n\n  \n0\tdull __label__x\n"
                                     "DESC:manner How did serfdom develop ?\n")
    texts, labels = read_label_text(path)
    assert texts == ["a fine , funny film", "dull __label__x", "How did serfdom develop ?"]
    assert labels.tolist() == ["1", "0", "DESC:manner"]


def test_label_text_line_without_text_is_refused(tmp_path):
    path = _write(tmp_path / "stsa", "1 good\n0  \t\n")
    assert _one_line_error(read_label_text, path) == (
        f"{path}:2: a label ('0') and no text: a line must be '<label> <text>'; add the text or "
        "remove the line")


# --- labels: NUL, str only --------------------------------------------------------------------


@pytest.mark.parametrize("read, content, where", [
    (read_fasttext, "__label__a x\n__label__b\0 y\n", ":2"),
    (read_label_text, "a x\nb\0 y\n", ":2"),
    (lambda p: read_delimited(p, 0, 1), "a,x\nb\0,y\n", ":2"),
    (lambda p: read_file_per_class({"b\0": p}), "x\n", ""),
])
def test_label_with_nul_is_refused(tmp_path, read, content, where):
    path = _write(tmp_path / "nul.txt", content)
    message = _one_line_error(read, path)
    assert f"{path}{where}" in message and "holds a NUL character" in message


def test_labels_are_str_whatever_the_keys(tmp_path):
    one, two = _write(tmp_path / "1.txt", "a\n"), _write(tmp_path / "2.txt", "b\n")
    labels = read_file_per_class({1: one, "x": two})[1]
    assert labels.dtype.kind == "U" and labels.tolist() == ["1", "x"]


# --- compressed files -------------------------------------------------------------------------

_LIBSVM = b"1 1:1 3:0.5\n-1 2:2\n" * 2000
_COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


@pytest.mark.parametrize("ext", list(_COMPRESS))
def test_compressed_files_read_like_plain_ones(tmp_path, ext):
    plain = _write(tmp_path / "a.svm", _LIBSVM)
    packed = _write(tmp_path / f"a.svm{ext}", _COMPRESS[ext](_LIBSVM))
    (X, y), (X2, y2) = load_libsvm(plain), load_libsvm(packed)
    assert (X != X2).nnz == 0 and np.array_equal(y, y2)
    text = _write(tmp_path / f"t.txt{ext}", _COMPRESS[ext](b"__label__a x\n__label__b y\n"))
    assert read_fasttext(text)[0] == ["x", "y"]


@pytest.mark.parametrize("ext, kind", [(".gz", "gzip"), (".bz2", "bzip2"), (".xz", "xz")])
def test_truncated_compressed_file(tmp_path, ext, kind):
    packed = _COMPRESS[ext](_LIBSVM)
    path = _write(tmp_path / f"a.svm{ext}", packed[:len(packed) // 2])
    expected = (f"{path}: truncated (the {kind} stream ends early): download or copy the file "
                "again")
    assert _one_line_error(load_libsvm, path) == expected
    assert _one_line_error(read_fasttext, path) == expected


def test_corrupt_gzip_is_named_not_its_garbled_line(tmp_path):
    # this flip garbles a line long before the checksum, at the end of the stream, is read
    packed = bytearray(gzip.compress(b"1 1:1\n-1 2:1\n" * 100_000))
    packed[len(packed) // 2] ^= 0xFF
    path = _write(tmp_path / "a.svm.gz", bytes(packed))
    assert _one_line_error(load_libsvm, path).startswith(f"{path}: corrupt gzip data (")


def test_misnamed_compressed_files(tmp_path):
    plain = _write(tmp_path / "plain.gz", _LIBSVM)
    assert _one_line_error(load_libsvm, plain) == (
        f"{plain}: not a gzip file (it does not start with the gzip signature): rename it "
        "without .gz if it is not compressed, or decompress it")
    other = _write(tmp_path / "b.gz", bz2.compress(_LIBSVM))
    assert _one_line_error(load_libsvm, other) == (
        f"{other}: not a gzip file but a bzip2 file: rename it to end in .bz2")
    archive = tmp_path / "z.gz"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.svm", _LIBSVM)
    assert "not a gzip file but a zip archive: unzip it" in _one_line_error(load_libsvm, archive)
    hidden = _write(tmp_path / "c.svm", gzip.compress(_LIBSVM))
    expected = (f"{hidden}: gzip-compressed, but its name does not end in .gz: rename it to end "
                "in .gz, or decompress it")
    assert _one_line_error(load_libsvm, hidden) == expected
    assert _one_line_error(read_fasttext, hidden) == expected


# --- LIBSVM: width and labels -----------------------------------------------------------------


def test_huge_feature_index_is_refused_before_allocating(tmp_path):
    path = _write(tmp_path / "wide.svm", "1 1:1\n-1 268435456:1\n")
    assert _one_line_error(load_libsvm, path) == (
        f"{path}:2: feature index 268435456 would make 268435456 columns (2.0 GiB of weights per "
        "class); an index this large is most often a corrupt line: fix the line, or pass "
        "n_features=268435456 (--n-features 268435456) if the width is meant")
    assert load_libsvm(path, n_features=2**28)[0].shape == (2, 2**28)
    small = _write(tmp_path / "small.svm", "1 1:1\n")
    assert _one_line_error(load_libsvm_files, [small, path]).startswith(f"{path}:2:")


def test_regression_labels_are_named_with_their_line(tmp_path):
    path = _write(tmp_path / "reg.svm", "# targets\n1 1:1\n\n0.50 2:1\n1.5 1:2\n")
    X, y = load_libsvm(path)
    assert _one_line_error(check_class_labels, y, path) == (
        f"{path}:4: label '0.50' is not a whole number: the file holds regression targets, and "
        "the classifiers need classes; map the labels to classes (e.g. round them) in a copy of "
        "the file")
    check_class_labels(np.array([1.0, -1.0, 3.0]), path)  # classes pass


def test_multi_label_libsvm_line_is_named(tmp_path):
    path = _write(tmp_path / "ml.svm", "1 1:1\n1,2 2:1\n")
    assert _one_line_error(load_libsvm, path) == (
        f"{path}:2: label '1,2' lists several labels (multi-label LIBSVM); the classifiers take "
        "one label a line: keep one label a line")


# --- properties: no row is ever lost silently -------------------------------------------------

_words = st.lists(st.sampled_from(["good", "bad", "film", "plot", "ok", "it's"]), min_size=1,
                  max_size=4).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["0", "1"]), _words), min_size=5, max_size=12),
       quotes=st.lists(st.integers(0, 10**6), min_size=1, max_size=2),
       delimiter=st.sampled_from([",", "\t"]))
def test_stray_quotes_never_lose_rows_silently(tmp_path_factory, rows, quotes, delimiter):
    text = "".join(f"{label}{delimiter}{words}\n" for label, words in rows)
    for position in sorted(quotes, reverse=True):
        position %= len(text) + 1
        text = text[:position] + '"' + text[position:]
    path = _write(tmp_path_factory.getbasetemp() / "stray.csv", text)
    try:
        texts, labels = read_delimited(path, 0, 1, delimiter=delimiter, header=False)
    except ValueError as exc:
        assert re.match(rf"{re.escape(str(path))}:\d+: ", str(exc)), exc
        assert "\n" not in str(exc)
        return
    assert len(texts) == len(rows)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.text("abcXYZ019-:", min_size=1, max_size=5),
                               st.text(st.characters(blacklist_categories=("Cs",),
                                                     blacklist_characters="\n\r\0"),
                                       max_size=30)), min_size=1, max_size=8))
def test_label_text_round_trip(tmp_path_factory, rows):
    rows = [(label, text.strip(" \t\v\f")) for label, text in rows]
    rows = [(label, text) for label, text in rows if text]
    if not rows:
        return
    path = _write(tmp_path_factory.getbasetemp() / "lt.txt",
                  "".join(f"{label} {text}\n" for label, text in rows))
    texts, labels = read_label_text(path)
    assert texts == [text for _, text in rows] and labels.tolist() == [y for y, _ in rows]

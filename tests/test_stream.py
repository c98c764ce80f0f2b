"""Streaming: the line index, chunk reading with the file's line numbers, and stream_fit."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lin import BagOfWords, LinearClassifier
from fasttext_lin.datasets import load_libsvm
from fasttext_lin.stream import index_lines, read_chunk, stream_fit
from fasttext_lin.text_model import load_text_model, save_text_model

LINE = st.one_of(
    st.sampled_from(["", "# comment", "  "]),
    st.builds(lambda y, f: f"{y} " + " ".join(f"{j}:{v}" for j, v in f),
              st.sampled_from(["-1", "+1", "2"]),
              st.lists(st.tuples(st.integers(1, 9), st.integers(1, 5)), max_size=3,
                       unique_by=lambda t: t[0]).map(sorted)),
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(LINE, min_size=1, max_size=40), chunk=st.integers(1, 7),
       final_newline=st.booleans(), crlf=st.booleans())
def test_index_splits_the_file_at_line_starts(tmp_path_factory, lines, chunk, final_newline,
                                              crlf):
    end = "\r\n" if crlf else "\n"
    text = end.join(lines) + (end if final_newline else "")
    path = tmp_path_factory.mktemp("idx") / "f.svm"
    path.write_bytes(text.encode())
    if not any(line.strip() and not line.startswith("#") for line in lines):
        with pytest.raises(ValueError, match="no labelled line"):
            index_lines(path, chunk)
        return
    index = index_lines(path, chunk)
    raw = path.read_bytes()
    n_lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") or not raw else 1)
    assert index.n_lines == n_lines
    assert index.offsets[0] == 0 and index.offsets[-1] == len(raw)
    pieces = [raw[a:b] for a, b in zip(index.offsets[:-1], index.offsets[1:])]
    assert b"".join(pieces) == raw
    for k, piece in enumerate(pieces):
        # Every chunk but the last holds chunk_size whole lines; first_lines counts them.
        assert piece.count(b"\n") == chunk or k == len(pieces) - 1
        assert index.first_lines[k] == k * chunk + 1
    rows = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    assert index.n_rows == len(rows)
    assert index.labels.tolist() == sorted({float(ln.split()[0]) for ln in rows})


def test_chunks_are_the_rows_of_the_file(tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 103)
    X, y = load_libsvm(path, n_features=20)
    index = index_lines(path, 10)
    assert index.n_chunks == 11 and index.n_rows == 103
    for k in range(index.n_chunks):
        Xk, yk = read_chunk(index, k, n_features=20)
        np.testing.assert_array_equal(Xk.toarray(), X[10 * k:10 * k + 10].toarray())
        np.testing.assert_array_equal(yk, y[10 * k:10 * k + 10])
        assert Xk.indices.dtype == np.int32 and Xk.has_sorted_indices


@pytest.mark.parametrize("bad, problem", [
    ("1 3:1 2:1", "indices are not increasing"),
    ("1 3:x", "value 'x' of feature 3 is not a number"),
    ("1 25:1", "feature index 25 exceeds n_features=20"),
    ("1 3:nan", "not a finite number"),
])
def test_a_bad_row_names_its_line_in_the_file(tmp_path, bad, problem, write_libsvm):
    path = tmp_path / "bad.svm"
    write_libsvm(path, 30)
    lines = path.read_text().splitlines()
    lines[26] = bad  # line 27, in the third chunk of 10
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"bad.svm:27: .*{problem}"):
        stream_fit(path, n_features=20, chunk_size=10, passes=1, random_state=0)


def test_bad_arguments_are_named(tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 20)
    with pytest.raises(ValueError, match="n_features is required"):
        stream_fit(path, chunk_size=10)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        stream_fit(path, n_features=20, chunk_size=0)
    with pytest.raises(ValueError, match="passes must be a positive integer"):
        stream_fit(path, n_features=20, passes=0)
    with pytest.raises(ValueError, match="decompress it first"):
        index_lines(str(path) + ".gz", 10)
    with pytest.raises(FileNotFoundError):
        index_lines(tmp_path / "missing.svm", 10)
    with pytest.raises(ValueError, match="learns nothing"):
        stream_fit(path, format="fasttext", featurizer=BagOfWords(weighting="tfidf"))
    with pytest.raises(TypeError, match="must be a LinearClassifier"):
        from sklearn.svm import LinearSVC
        stream_fit(path, n_features=20, classifier=LinearSVC())


def test_streaming_runs_sgd_and_the_model_says_so(tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 60)
    model = stream_fit(path, n_features=20, chunk_size=25, passes=1,
                       classifier=LinearClassifier(solver="auto"))
    # 'auto' is SGD for partial_fit: the model certifies the SGD problem (free intercept).
    assert model.solver == "sgd" and model.t_ == 61
    with pytest.raises(ValueError, match=r"^solver='cd': streaming and Dask training run SGD "
                                         r"epochs over chunks \(partial_fit\); give "):
        stream_fit(path, n_features=20, classifier=LinearClassifier(solver="cd"))


def test_one_chunk_is_partial_fit_with_c_over_the_whole_file(tmp_path, write_libsvm):
    path = tmp_path / "a.svm"
    write_libsvm(path, 200)
    X, y = load_libsvm(path, n_features=20)
    got = stream_fit(path, n_features=20, chunk_size=1000, passes=3, random_state=7,
                     classifier=LinearClassifier(loss="log_loss", C=2.0, average=True))
    rng = np.random.default_rng(7)
    want = LinearClassifier(loss="log_loss", alpha=1.0 / (2.0 * 200), average=True)
    for _ in range(3):
        rng.permutation(1)
        want.set_params(random_state=int(rng.integers(np.iinfo(np.int32).max)))
        want.partial_fit(X, y, classes=[-1.0, 1.0])
    np.testing.assert_array_equal(got.coef_, want.coef_)
    np.testing.assert_array_equal(got.intercept_, want.intercept_)


def test_memory_holds_one_chunk_whatever_the_file_size(tmp_path, write_libsvm):
    peaks = []
    for n in (4000, 16000):
        path = tmp_path / f"{n}.svm"
        write_libsvm(path, n, d=50)
        stream_fit(path, n_features=50, chunk_size=1000, passes=1, random_state=0)  # compile
        tracemalloc.start()
        stream_fit(path, n_features=50, chunk_size=1000, passes=2, random_state=0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.3 * peaks[0], peaks


def test_text_stream_trains_a_pipeline_that_saves(tmp_path):
    rng = np.random.default_rng(0)
    words = {"pos": ["good", "great", "fine", "nice"], "neg": ["bad", "poor", "awful", "dull"]}
    lines = []
    for i in range(300):
        label = "pos" if i % 2 else "neg"
        doc = " ".join(rng.choice(words[label] + ["film", "plot", "the"], size=6))
        lines.append(f"__label__{label} {doc}")
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    pipe = stream_fit(path, format="fasttext", chunk_size=64, passes=3, random_state=0,
                      featurizer=BagOfWords(1 << 12, weighting="binary", bias=True))
    assert pipe.score(["good great film", "awful dull plot"], ["pos", "neg"]) == 1.0
    save_text_model(tmp_path / "m.npz", pipe)
    again = load_text_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.predict(["nice", "poor"]), pipe.predict(["nice", "poor"]))


def test_text_errors_name_the_files_line_and_byte(tmp_path):
    path = tmp_path / "c.txt"
    good = "__label__a fine words\n__label__b dull words\n" * 4 + "__label__a fine\n"
    path.write_bytes(good.encode() + b"__label__b caf\xe9 au lait\n")
    byte = len(good) + len("__label__b caf")
    message = rf"c\.txt:10: cannot decode byte 0xe9 at byte 14 of the line \(byte {byte} of"
    with pytest.raises(ValueError, match=message):
        stream_fit(path, format="fasttext", chunk_size=4, passes=1)
    path.write_bytes(good.encode() + b"no label here\n")
    with pytest.raises(ValueError, match=r"c\.txt:10: no label"):
        stream_fit(path, format="fasttext", chunk_size=4, passes=1)
    path.write_bytes(b"__label__a fine words\n" * 3)
    with pytest.raises(ValueError, match="every row has the label 'a': a classifier needs"):
        stream_fit(path, format="fasttext", chunk_size=4, passes=1)


def test_streamed_a9a_scores_as_the_in_memory_model(shared_data):
    from fasttext_lin.datasets import load_libsvm_files

    train, test = shared_data / "libsvm" / "a9a", shared_data / "libsvm" / "a9a.t"
    X, y, X_test, y_test = load_libsvm_files([train, test], n_features=123)
    clf = LinearClassifier(C=0.1, average=True)
    streamed = stream_fit(train, n_features=123, chunk_size=4000, passes=5, classifier=clf,
                          random_state=0)
    in_memory = LinearClassifier(C=0.1, solver="sgd", average=True, max_iter=5, tol=None,
                                  random_state=0).fit(X, y)
    assert streamed.score(X_test, y_test) == pytest.approx(in_memory.score(X_test, y_test),
                                                           abs=0.003)


def _corpus(path, n=300):
    rng = np.random.default_rng(0)
    words = {"pos": ["good", "great", "fine"], "neg": ["bad", "poor", "dull"]}
    labels = rng.choice(list(words), size=n)
    path.write_text("".join(f"__label__{y} " + " ".join(rng.choice(words[y] + ["film"], 5))
                            + "\n" for y in labels))
    return path


def test_cli_trains_on_a_stream_and_the_model_tests(tmp_path, write_libsvm, capsys):
    from fasttext_lin.cli import main

    corpus = _corpus(tmp_path / "c.txt")
    model = tmp_path / "m.npz"
    assert main(["train", str(corpus), "--stream", "--chunk-size", "64", "--epochs", "3",
                 "-q", "-o", str(model)]) == 0
    out = capsys.readouterr().out
    assert "streamed in chunks of 64 lines: 2 classes (neg, pos)" in out
    assert "3 epochs" in out and model.exists()
    assert main(["test", str(model), str(corpus), "-q"]) == 0
    assert "accuracy: 1.0000" in capsys.readouterr().out
    svm = tmp_path / "a.svm"
    write_libsvm(svm, 200)
    assert main(["train", str(svm), "--stream", "--n-features", "20", "--chunk-size", "50",
                 "-q", "-o", str(tmp_path / "s.npz")]) == 0


@pytest.mark.parametrize("extra, message", [
    (["--weighting", "tfidf"], "a featurizer that learns nothing"),
    (["--model", "nbsvm"], "--stream trains --model linear"),
    (["--probability"], "--probability needs held-out folds in memory"),
    (["--format", "csv"], "--stream trains --model linear on a fastText or LIBSVM file"),
])
def test_cli_stream_refuses_what_a_stream_cannot_do(tmp_path, capsys, extra, message):
    from fasttext_lin.cli import main

    corpus = _corpus(tmp_path / "c.txt")
    model = tmp_path / "m.npz"
    assert main(["train", str(corpus), "--stream", "-q", "-o", str(model), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fasttext-lin train: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and not model.exists()


def test_cli_stream_needs_the_width_of_a_libsvm_file(tmp_path, write_libsvm, capsys):
    from fasttext_lin.cli import main

    svm = tmp_path / "a.svm"
    write_libsvm(svm, 20)
    assert main(["train", str(svm), "--stream", "-q", "-o", str(tmp_path / "m.npz")]) == 1
    assert "needs --n-features" in capsys.readouterr().err


def test_the_command_exits_at_once_with_its_output_flushed(tmp_path):
    import subprocess
    import sys

    corpus = _corpus(tmp_path / "c.txt")
    model = tmp_path / "m.npz"
    done = subprocess.run([sys.executable, "-m", "fasttext_lin.cli", "train", str(corpus),
                           "--stream", "-q", "-o", str(model)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith(f"model: {model}")
    assert load_text_model(model).predict(["good"])[0] == "pos"
    bad = subprocess.run([sys.executable, "-m", "fasttext_lin.cli", "train", str(corpus),
                          "--stream", "--model", "nbsvm", "-o", str(model)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "--stream trains --model linear" in bad.stderr

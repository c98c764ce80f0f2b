"""Eleven bad inputs a new user met, run as that user would: the real command in a process.

Each gives the right result or one line on stderr naming the problem, exit status non-zero,
no traceback, nothing written or overwritten that should not be.
"""

import gzip
import os
import subprocess
import sys
import threading

import pytest

STRAY_QUOTE_TSV = ('"Great movie, loved it\t1\nBad acting\t0\nTerrible plot\t0\n'
                   'Worst film ever\t0\nIt was "ok"\t1\nFine\t1\n')
REVIEWS = ["__label__pos a fine and moving film", "__label__neg dull and far too long",
           "__label__pos great acting and a good plot", "__label__neg bad acting, worse plot"]


def run(*argv, env=None, timeout=300):
    """``(status, stdout, stderr)`` of ``fasttext-lin ARGV`` in a fresh process."""
    result = subprocess.run([sys.executable, "-m", "fasttext_lin.cli", *map(str, argv)],
                            capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, **(env or {})})
    return result.returncode, result.stdout, result.stderr


def assert_one_line_error(status, err, *words):
    assert status != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    error = [line for line in lines if "error:" in line]
    assert len(error) == 1, err
    for word in words:
        assert word in error[0], error[0]
    return error[0]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("\n".join(REVIEWS * 10) + "\n")
    return path


def test_stray_quote_in_tsv_loses_no_row(tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text(STRAY_QUOTE_TSV)
    model = tmp_path / "m.npz"
    status, out, err = run("train", path, "--label-column", "1", "--text-column", "0",
                           "-o", model, "-q")
    if status == 0:
        assert "6 rows" in out
    else:  # refusing is acceptable only with the line that opened the quote named
        assert_one_line_error(status, err, "reviews.tsv:1")
        assert not model.exists()


def test_csv_header_is_not_trained_as_a_class(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("label,text\n" + "".join(
        f"{'pos' if i % 2 else 'neg'},review number {i} was {'good' if i % 2 else 'bad'}\n"
        for i in range(20)))
    status, out, err = run("train", path, "-o", tmp_path / "m.npz", "-q")
    if status == 0:
        assert "2 classes" in out and "20 rows" in out
    else:
        assert_one_line_error(status, err, "--header")


def test_output_equal_to_the_input_is_refused(corpus):
    before = corpus.read_bytes()
    status, _, err = run("train", corpus, "-o", corpus, "-q")
    assert_one_line_error(status, err, str(corpus))
    assert corpus.read_bytes() == before


def test_output_a_fifo_is_refused_without_hanging(corpus, tmp_path):
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    status, _, err = run("train", corpus, "-o", fifo, "-q", timeout=120)
    assert_one_line_error(status, err, str(fifo), "FIFO")
    assert os.path.exists(fifo) and not os.path.isfile(fifo)


@pytest.mark.parametrize("C", ["inf", "1e-300"])
def test_extreme_C_gives_a_model_or_one_line(corpus, tmp_path, C):
    model = tmp_path / "m.npz"
    status, out, err = run("train", corpus, "--C", C, "-o", model, "-q")
    assert "Traceback" not in err
    if status == 0:
        assert model.is_file() and "training accuracy" in out
    else:
        assert_one_line_error(status, err, "C")
        assert not model.exists()


def test_truncated_gz_is_named(tmp_path, write_libsvm):
    plain = tmp_path / "plain.svm"
    write_libsvm(plain, 2000)
    whole = gzip.compress(plain.read_bytes())
    path = tmp_path / "data.svm.gz"
    path.write_bytes(whole[: len(whole) // 2])
    status, _, err = run("train", path, "--format", "libsvm", "-o", tmp_path / "m.npz", "-q")
    assert_one_line_error(status, err, "data.svm.gz", "truncated")
    assert not (tmp_path / "m.npz").exists()


def test_bench_without_data_exits_non_zero(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = run("bench", "a1a", "--repeats", "1", "--no-jit", "--data-home", empty,
                         env={"FASTTEXT_LIN_DATA": str(empty), "HOME": str(tmp_path)})
    assert status != 0 and "Traceback" not in err
    assert "a1a" in err


def test_cv_on_a_named_libsvm_set(shared_data):
    status, out, err = run("cv", "a1a", "--folds", "3", "-q",
                           env={"FASTTEXT_LIN_DATA": str(shared_data)})
    assert status == 0, err
    accuracy = float(out.split("accuracy: ")[-1].split()[0])
    assert 0.80 < accuracy < 0.86


def test_predict_on_a_libsvm_file(tmp_path, write_libsvm):
    train, test = tmp_path / "train.svm", tmp_path / "test.svm"
    write_libsvm(train, 450)  # one hidden model: the last 50 rows are the test rows
    lines = train.read_text().splitlines(keepends=True)
    train.write_text("".join(lines[:400]))
    test.write_text("".join(lines[400:]))
    model = tmp_path / "m.npz"
    status, _, err = run("train", train, "-o", model, "-q")
    assert status == 0, err
    status, out, err = run("predict", model, test)
    assert status == 0, err
    labels = out.split()
    assert len(labels) == 50 and set(labels) <= {"1", "-1"}
    truth = [line.split()[0] for line in test.read_text().splitlines()]
    assert sum(a == b for a, b in zip(labels, truth)) >= 40


def test_a_line_with_two_labels_is_not_cut(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("\n".join(REVIEWS * 5) + "\n__label__pos __label__neg mixed feelings\n")
    model = tmp_path / "m.npz"
    status, out, err = run("train", path, "-o", model, "-q")
    # The estimators are single-label: the line is refused, never cut to its first label.
    assert_one_line_error(status, err, "reviews.txt:21")
    assert not model.exists()


def test_fifo_probe_does_not_block_a_reader(tmp_path):
    """Refusing a FIFO must not open it: a writer opening it would wait for this reader."""
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    from fasttext_lin._io import OutputPathError, check_output_path

    done = threading.Event()

    def probe():
        with pytest.raises(OutputPathError):
            check_output_path(fifo)
        done.set()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    assert done.wait(10)


def test_stream_a_shipped_set_on_a_fresh_machine(tmp_path):
    """The shipped a9a is xz-compressed; a stream reads byte ranges of a plain copy."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CACHE_HOME": "", "FASTTEXT_LIN_DATA": ""}
    status, out, err = run("train", "a9a", "--stream", "--epochs", "1", "-o", tmp_path / "m.npz",
                           "-q", env=env)
    assert status == 0, err
    assert "2 classes (-1, 1)" in out and (tmp_path / "m.npz").is_file()


def test_stream_refuses_a_compressed_file(tmp_path):
    path = tmp_path / "reviews.txt.xz"
    import lzma

    path.write_bytes(lzma.compress(("\n".join(REVIEWS) + "\n").encode()))
    status, _, err = run("train", path, "--stream", "-o", tmp_path / "m.npz", "-q")
    assert_one_line_error(status, err, "reviews.txt.xz", "decompress it first")

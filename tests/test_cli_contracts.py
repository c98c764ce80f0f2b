"""The command line's contracts for a new user's mistakes: each one line on stderr, a non-zero
status, nothing written or overwritten; LIBSVM data through cv and predict; bench without
data; -q; labels as written; the first run's compilation reported apart; quantize."""

import os
import re
import signal
import stat

import numba
import pytest

from fasttext_lin import cli
from fasttext_lin.cli import main
from fasttext_lin.cli import predict as cli_predict
from fasttext_lin.cli.parser import build_parser
from fasttext_lin.cli.report import label_strings
from fasttext_lin.cli.timings import Timings

DOCS = {"pos": ["good fine film", "great lovely acting", "superb plot", "a fine cast"],
        "neg": ["bad dull film", "awful boring acting", "dull plot", "a boring cast"]}


def run(capsys, *argv):
    """``(status, stdout, stderr)`` of one command, in process; a hang fails after 60 s."""
    def hung(signum, frame):
        raise AssertionError(f"fasttext-lin {' '.join(map(str, argv))} hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        status = main([str(a) for a in argv])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(capsys, *argv, status=1):
    """The one stderr line of a command that must fail with ``status``, nothing on stdout."""
    try:
        got, out, err = run(capsys, *argv)
    except SystemExit as exit:  # argparse
        got, (out, err) = exit.code, capsys.readouterr()
    assert got == status and out == "", (got, out, err)
    assert err.startswith(f"fasttext-lin {argv[0]}: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def snapshot(folder):
    """Every file under ``folder`` with its bytes (FIFOs and devices by kind)."""
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            found[path] = open(path, "rb").read() if stat.S_ISREG(mode) else stat.S_IFMT(mode)
    return found


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("".join(f"__label__{label} {text}\n" for label, texts in DOCS.items()
                            for text in texts))
    return path


def write_libsvm(path, n=60):
    """``n`` rows labelled -1/1, separable on features 1 and 2 (of 7)."""
    path.write_text("".join(f"{1 if i % 2 else -1} {1 if i % 2 else 2}:1 {3 + i % 5}:0.5\n"
                            for i in range(n)))
    return path


@pytest.fixture
def libsvm_file(tmp_path):
    return write_libsvm(tmp_path / "train.svm")


@pytest.fixture
def libsvm_model(tmp_path, libsvm_file, capsys):
    path = tmp_path / "svm-model.npz"
    assert run(capsys, "train", libsvm_file, "-o", path, "--loss", "log_loss", "-q")[0] == 0
    return path


@pytest.fixture
def text_model(tmp_path, corpus, capsys):
    path = tmp_path / "text-model.npz"
    assert run(capsys, "train", corpus, "-o", path, "--loss", "log_loss", "-q")[0] == 0
    return path


# -- item 3: -o -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["input", "class file", "fifo", "device", "folder",
                                    "no folder"])
def test_train_refuses_an_output_it_must_not_write(tmp_path, corpus, capsys, target):
    inputs = ["--class", f"pos={corpus}", "--class", f"neg={corpus}"] if target == "class file" \
        else [corpus]
    output = {"input": corpus, "class file": corpus, "fifo": tmp_path / "pipe",
              "device": "/dev/null", "folder": tmp_path, "no folder": tmp_path / "no" / "m.npz"}
    if target == "fifo":
        os.mkfifo(output["fifo"])
    before = snapshot(tmp_path)
    err = one_line_error(capsys, "train", *inputs, "-o", output[target])
    why = {"input": "it is the input", "class file": "it is the input", "fifo": "a FIFO",
           "device": "a character device", "folder": "a folder", "no folder": "no folder"}
    assert f"cannot write the model file '{output[target]}': " in err and why[target] in err
    assert snapshot(tmp_path) == before
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_train_refuses_an_unwritable_folder(tmp_path, corpus, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    err = one_line_error(capsys, "train", corpus, "-o", locked / "m.npz")
    assert "cannot write the model file" in err and not os.listdir(locked)


def test_output_is_checked_before_the_data_is_read(tmp_path, capsys):
    # The corpus does not exist: the target, checked first, is what the message names.
    err = one_line_error(capsys, "train", tmp_path / "absent.txt", "-o", "/dev/full")
    assert "'/dev/full': it is a character device" in err


def test_quantize_refuses_its_source_and_its_test_data(tmp_path, libsvm_model, libsvm_file,
                                                      capsys):
    before = snapshot(tmp_path)
    err = one_line_error(capsys, "quantize", libsvm_model, "-o", libsvm_model)
    assert "it is the input" in err
    err = one_line_error(capsys, "quantize", libsvm_model, "-o", libsvm_file, "--test",
                         libsvm_file)
    assert f"it is the input '{libsvm_file}'" in err
    assert snapshot(tmp_path) == before


# -- item 4: C ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_C_must_be_finite_and_positive(tmp_path, corpus, capsys, value):
    err = one_line_error(capsys, "train", corpus, "-o", tmp_path / "m.npz", "--C", value,
                         status=2)
    assert f"argument --C: {value}: expected a finite number > 0" in err
    assert not (tmp_path / "m.npz").exists()


def test_a_C_that_breaks_training_is_one_line(tmp_path, corpus, capsys):
    err = one_line_error(capsys, "train", corpus, "-o", tmp_path / "m.npz", "--C", "1e-310")
    assert "C=1e-310" in err and not (tmp_path / "m.npz").exists()
    # Tiny but usable: trains (to weights near 0).
    assert run(capsys, "train", corpus, "-o", tmp_path / "m.npz", "--C", "1e-300")[0] == 0


# -- item 5: cv and predict on LIBSVM data, bench without data ---------------------------------

def test_cv_on_a_named_libsvm_set(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    status, out, _ = run(capsys, "cv", "a1a", "--folds", "3", "--grid", "0.1", "1",
                         "--data-home", shared_data, "-q")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("data: a1a (train split, ") and "1605 rows; 3-fold" in lines[0]
    assert "C chosen among 0.1, 1 by 3-fold CV" in lines[0]
    assert lines[1] == ("classifier: LinearClassifier (hinge, solver cd to a relative duality "
                        "gap of 0.001)")
    folds = [float(re.fullmatch(r"fold \d: accuracy (\S+) \(C=(0\.1|1)\)", line).group(1))
             for line in lines[2:5]]
    mean = float(lines[5].split()[1])
    assert abs(mean - sum(folds) / 3) < 1e-4 and 0.78 < mean < 0.88  # liblinear: 0.84


@pytest.mark.parametrize("how", ["extension", "format"])
def test_cv_on_a_libsvm_file(tmp_path, libsvm_file, capsys, how):
    path = libsvm_file if how == "extension" else libsvm_file.rename(tmp_path / "train.data")
    extra = ["--format", "libsvm"] if how == "format" else []
    status, out, _ = run(capsys, "cv", path, *extra, "--folds", "4", "--grid", "1", "-q")
    assert status == 0 and f"data: {path}: 60 rows; 4-fold cross-validation, C=1" in out
    assert out.count("accuracy 1.0000 (C=1)") == 4 and "accuracy: 1.0000 ± 0.0000" in out


@pytest.mark.parametrize("command", ["train", "cv"])
def test_libsvm_regression_targets_are_one_line(tmp_path, capsys, command):
    path = tmp_path / "targets.svm"
    path.write_text("1 1:1\n0.5 2:1\n1.5 1:1\n")
    output = ["-o", tmp_path / "m.npz"] if command == "train" else []
    err = one_line_error(capsys, command, path, *output)
    assert f"{path}:2: label '0.5' is not a whole number" in err
    assert not (tmp_path / "m.npz").exists()


def test_predict_names_the_undecodable_line(tmp_path, text_model, capsys, monkeypatch):
    monkeypatch.setattr(cli_predict, "_PREDICT_CHUNK", 2)  # the line is in the second chunk
    docs = tmp_path / "docs.txt"
    docs.write_bytes("good\nbad\nfine\ncaf\u00e9\n".encode("latin-1"))
    status, out, err = run(capsys, "predict", text_model, docs)
    assert status == 1 and out == "pos\nneg\n"  # the chunk before, streamed
    assert err.count("\n") == 1
    assert f"{docs}:4: cannot decode byte 0xe9 at byte 3 of the line (byte 17 of the file)" in err
    assert "pass --encoding latin-1" in err
    status, out, _ = run(capsys, "predict", text_model, docs, "--encoding", "latin-1")
    assert status == 0 and out.splitlines()[:3] == ["pos", "neg", "pos"] and out.count("\n") == 4


def test_cv_refuses_text_options_on_libsvm_data(libsvm_file, capsys):
    err = one_line_error(capsys, "cv", libsvm_file, "--ngrams", "2")
    assert "--ngrams: text featurizer option(s)" in err


def test_predict_labels_libsvm_rows_as_written(tmp_path, libsvm_model, capsys):
    rows = tmp_path / "rows.svm"
    # Labelled and unlabelled rows, a blank line, a comment, a feature the model never saw.
    rows.write_bytes(b"1 1:1 3:0.5\n2:1\n\n# no features\n-1 2:1 99:1\n1:1\n")
    status, out, err = run(capsys, "predict", libsvm_model, rows)
    assert status == 0 and out.splitlines()[:2] == ["1", "-1"]
    assert len(out.splitlines()) == 6 and out.splitlines()[4:] == ["-1", "1"]
    assert err == (f"note: {rows}:5: feature 99 is beyond the model's 7; 1 row(s) have such "
                   "features, ignored (as liblinear does)\n")
    status, out, _ = run(capsys, "predict", libsvm_model, rows, "--proba", "--k", "2", "-q")
    first = out.splitlines()[0].split("\t")
    assert status == 0 and first[0::2] == ["1", "-1"]
    assert abs(float(first[1]) + float(first[3]) - 1) < 1e-5 and float(first[1]) > 0.5


def test_predict_sniffs_libsvm_rows_without_an_extension(tmp_path, libsvm_model, capsys):
    rows = tmp_path / "rows.data"
    rows.write_text("2:1 5:0.5\n")
    assert run(capsys, "predict", libsvm_model, rows)[1] == "-1\n"


def test_predict_says_which_model_and_data_disagree(tmp_path, libsvm_model, text_model,
                                                   libsvm_file, corpus, capsys):
    err = one_line_error(capsys, "predict", text_model, libsvm_file)
    assert f"{text_model} is a text model" in err and f"{libsvm_file} is LIBSVM data" in err
    err = one_line_error(capsys, "predict", libsvm_model, corpus)
    assert f"{libsvm_model} is a model of LIBSVM data" in err and f"{corpus} is read as text" in err


def test_predict_names_the_bad_libsvm_line(tmp_path, libsvm_model, capsys):
    rows = tmp_path / "rows.svm"
    rows.write_text("1:1\n2:1\n1 3:x\n")
    err = one_line_error(capsys, "predict", libsvm_model, rows)
    assert f"{rows}:3: value 'x' of feature 3 is not a number" in err


def test_bench_without_data_is_not_a_success(tmp_path, monkeypatch, capsys):
    import fasttext_lin.datasets as datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    status, out, err = run(capsys, "bench", "a1a", "--data-home", tmp_path, "--no-jit", "-q",
                           "--repeats", "1")
    assert status == 1 and "Skipped: " in out
    assert err.startswith("fasttext-lin bench: error: 1 of 1 set(s) skipped, no results for "
                          "them: a1a: LIBSVM file a1a is missing from ")
    assert "FASTTEXT_LIN_DATA" in err and err.count("\n") == 1


def test_bench_checks_its_results_folder_first(tmp_path, corpus, capsys):
    err = one_line_error(capsys, "bench", "a1a", "--out", corpus, "-q")
    assert f"--out {corpus}: not a folder" in err
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "libsvm.json")
    err = one_line_error(capsys, "bench", "a1a", "--out", tmp_path / "out", "-q")
    assert "cannot write the results file" in err and "a FIFO" in err


# -- item 6: label sentence ------------------------------------------------------------------

def test_label_text_is_a_named_format(tmp_path, capsys):
    path = tmp_path / "stsa.binary.train"
    path.write_text("".join(f"{1 if label == 'pos' else 0} {text}\n"
                            for label, texts in DOCS.items() for text in texts))
    status, out, _ = run(capsys, "train", path, "--format", "label-text", "-o",
                         tmp_path / "m.npz", "-q")
    assert status == 0 and "8 rows, 2 classes (0, 1)" in out
    status, out, _ = run(capsys, "test", tmp_path / "m.npz", path, "--format", "label-text")
    assert status == 0 and "accuracy: 1.0000" in out
    # No extension guess for it: the user names the format.
    err = one_line_error(capsys, "train", path, "-o", tmp_path / "m2.npz")
    assert "pass --format (fasttext, label-text, " in err


# -- item 7: predict --k ----------------------------------------------------------------------

def test_predict_k_needs_proba(text_model, corpus, capsys):
    err = one_line_error(capsys, "predict", text_model, corpus, "--k", "2")
    assert "--k 2 needs --proba" in err


# -- item 8: -q -------------------------------------------------------------------------------

def test_quiet_on_every_command(tmp_path, corpus, libsvm_file, shared_data, monkeypatch,
                                capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = tmp_path / "m.npz"
    commands = [["train", corpus, "-o", model], ["test", model, corpus],
                ["predict", model, corpus], ["cv", corpus, "--folds", "2", "--grid", "1"],
                ["quantize", model, "-o", tmp_path / "q.npz", "--test", corpus],
                ["fetch", "a1a", "--data-home", shared_data],
                ["train", libsvm_file, "-o", tmp_path / "s.npz", "--threads", "2"]]
    for argv in commands:
        status, out, err = run(capsys, *argv, "-q")
        assert status == 0 and out and err == "", (argv, err)
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices
    for name, command in names.items():
        assert any("-q" in action.option_strings for action in command._actions), name


# -- item 9: flags, not keywords ----------------------------------------------------------------

def test_messages_name_flags(tmp_path, capsys):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("__label__pos café\n__label__neg bad\n".encode("latin-1"))
    headed = tmp_path / "headed.csv"
    headed.write_text("label,text\npos,good\nneg,bad\npos,fine\nneg,dull\n")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('"Great movie, loved it,1\nBad acting,0\nIt was "ok",1\nFine,1\n')
    cases = [(latin, [], "pass --encoding latin-1 if the file is Latin-1, or "
                         "--encoding-errors replace"),
             (headed, [], "pass --header to skip it, or --no-header to read it"),
             (quoted, ["--label-column", "1", "--text-columns", "0"], "--no-quoting")]
    for path, extra, flags in cases:
        err = one_line_error(capsys, "train", path, *extra, "-o", tmp_path / "m.npz")
        assert str(path) in err and flags in err
        assert not re.search(r"\w+=\S+ \(--", err), err
    status, out, _ = run(capsys, "train", headed, "--header", "-o", tmp_path / "m.npz", "-q")
    assert status == 0 and "4 rows" in out


def test_flag_wording_keeps_the_flag_only():
    assert cli._flag_wording("pass encoding='latin-1' (--encoding latin-1), or header=True "
                             "(--header) or a larger n_features (--n-features N)") == (
        "pass --encoding latin-1, or --header or a larger --n-features N")
    assert cli._flag_wording("--k 2 needs --proba (see --help)") == (
        "--k 2 needs --proba (see --help)")


# -- item 10: labels as written ----------------------------------------------------------------

def test_libsvm_labels_print_as_written(tmp_path, libsvm_file, libsvm_model, capsys):
    status, out, _ = run(capsys, "train", libsvm_file, "-o", tmp_path / "m.npz", "-q")
    assert status == 0 and "2 classes (-1, 1)" in out
    status, out, _ = run(capsys, "test", libsvm_model, libsvm_file, "-q")
    assert status == 0 and re.search(r"^ +-1 +1\.0000", out, re.M)
    assert out.splitlines()[-3:] == ["   -1  1", "-1 30  0", " 1  0 30"]
    assert ".0" not in "".join(out.splitlines()[-3:])
    assert label_strings([0.5, 1.0, -1.0, 2e20]) == ["0.5", "1", "-1",
                                                           "200000000000000000000"]
    assert label_strings(["a", "b"]) == ["a", "b"]


# -- item 11: the first run's compilation ------------------------------------------------------

@pytest.mark.parametrize("verbose, quiet", [(False, False), (False, True), (True, False)])
def test_compilation_is_reported_apart(capsys, verbose, quiet):
    timings = Timings(verbose, quiet)
    with timings.kernels():
        numba.njit(lambda x: x + 1)(1)  # a new function: compiled here
        so_far = timings.kernel_seconds()  # read inside the block, as train splits its time
    err = capsys.readouterr().err
    assert 0 < so_far <= timings.kernel_seconds()
    assert timings.compiled and timings.kernel_seconds() > 0
    if verbose or quiet:
        assert err == ""  # --verbose says it in its time lines
    else:
        assert re.fullmatch(r"compiling kernels, first run only: \d+\.\d s\n", err)
    assert timings.without_compile(10.0, 2.0) == 8.0


def test_no_compilation_no_line(capsys):
    timings = Timings(False)
    with timings.kernels():
        pass
    assert capsys.readouterr().err == "" and not timings.compiled
    assert timings.without_compile(10.0, 2.0) == 10.0


# -- item 12: quantize -------------------------------------------------------------------------

def test_quantize_prints_sizes_and_the_accuracy_change(tmp_path, libsvm_model, libsvm_file,
                                                      capsys):
    out_path = tmp_path / "q.npz"
    status, out, _ = run(capsys, "quantize", libsvm_model, "-o", out_path, "--weights",
                         "float16", "--test", libsvm_file)
    assert status == 0 and out_path.exists()
    lines = out.splitlines()
    assert lines[0] == f"model: {libsvm_model}: {libsvm_model.stat().st_size} bytes"
    assert lines[1].startswith(f"quantized: {out_path}: {out_path.stat().st_size} bytes (")
    assert "float16 weights, 0.0% of the weights pruned to 0" in lines[1]
    assert lines[2] == f"data: {libsvm_file}: 60 rows"
    assert lines[3] == "accuracy: 1.0000 before, 1.0000 after (+0.00 points)"


def test_quantize_refuses_mismatched_test_data_before_writing(tmp_path, libsvm_model, corpus,
                                                             capsys):
    err = one_line_error(capsys, "quantize", libsvm_model, "-o", tmp_path / "q.npz", "--test",
                         corpus)
    assert "is a model of LIBSVM data" in err and not (tmp_path / "q.npz").exists()


def test_classifier_line_names_the_solver_fit_runs():
    from fasttext_lin import LinearClassifier
    from fasttext_lin.cli.report import classifier_line

    assert classifier_line(LinearClassifier(solver="sgd", max_iter=7)) == (
        "classifier: LinearClassifier (hinge, 7 epochs)")
    assert "solver cd to a relative duality gap of 0.001" in classifier_line(LinearClassifier())
    # Log loss under 'auto': the data's shape chooses, so both are named.
    assert "solver newton or cd to a relative" in classifier_line(LinearClassifier("log_loss"))
    assert "solver newton to a relative" in classifier_line(LinearClassifier("softmax"))

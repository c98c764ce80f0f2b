"""The text subcommands end to end: train, test, predict, cv; every user mistake one line."""

import csv
import io
import json
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from fasttext_lin import persist
from fasttext_lin.cli import main
from fasttext_lin.cli import predict as cli_predict
from fasttext_lin.persist import save_model
from fasttext_lin.text_model import load_text_model

WORDS = {"pos": ["good", "great", "lovely", "superb"],
         "neg": ["bad", "awful", "boring", "dull"],
         "mixed": ["uneven", "patchy", "mixed", "so-so"]}


def documents(n=36, classes=("pos", "neg", "mixed")):
    """``(label, text)`` pairs a linear model separates; one document is empty."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        label = classes[i % len(classes)]
        words = rng.choice(WORDS[label], size=3).tolist() + ["the", "film"]
        pairs.append((label, " ".join(words)))
    pairs[4] = (pairs[4][0], "")
    return pairs


def write_fasttext(path, pairs):
    path.write_text("".join(f"__label__{label} {text}\n" for label, text in pairs))
    return path


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    return write_fasttext(tmp_path_factory.mktemp("corpus") / "corpus.txt", documents())


@pytest.fixture(scope="module")
def model(corpus_file):
    path = corpus_file.parent / "model.npz"
    assert main(["train", str(corpus_file), "-o", str(path), "--loss", "log_loss", "--C", "1",
                 "-q"]) == 0
    return path


def run(capsys, *argv):
    """``(status, stdout, stderr)`` of one command."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(capsys, command, *argv):
    """Run a command that must fail; return its one-line message."""
    status, out, err = run(capsys, command, *argv)
    assert status == 1 and out == ""
    assert err.startswith(f"fasttext-lin {command}: error: ") and err.count("\n") == 1
    return err


# -- train ------------------------------------------------------------------------------------

def test_train_reports_and_writes_a_model_that_predicts(corpus_file, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, out, err = run(capsys, "train", corpus_file, "-o", path, "--ngrams", "2",
                           "--weighting", "count", "--solver", "sgd", "--epochs", "5", "--C",
                           "0.5")
    assert status == 0 and err == ""  # stderr is not a terminal: no progress bar
    assert f"corpus: {corpus_file}: 36 rows, 3 classes (mixed, neg, pos)" in out
    assert "features: " in out and "vocabulary, 1-2-grams, count, bias column" in out
    assert "train time: " in out and "training accuracy: 1.0000" in out
    assert f"model: {path}" in out
    pipe = load_text_model(path)
    params = pipe.get_params()
    assert params["bagofwords__ngram_range"] == (1, 2) and params["classifier__C"] == 0.5
    assert params["classifier__max_iter"] == 5
    assert pipe.predict(["great lovely", "dull awful"]).tolist() == ["pos", "neg"]


def write_csv(path, pairs, delimiter, header):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        if header:
            writer.writerow(["id", "label", "title", "body"])
        for i, (label, text) in enumerate(pairs):
            head, _, tail = text.partition(" ")
            writer.writerow([i, label, head, tail])
    return path


@pytest.mark.parametrize("kind", ["csv header", "tsv", "lines", "folders", "format"])
def test_train_reads_every_corpus_format(kind, tmp_path, capsys):
    pairs = documents(classes=("pos", "neg"))
    if kind == "csv header":
        source = [write_csv(tmp_path / "c.csv", pairs, ",", True), "--label-column", "label",
                  "--text-columns", "title", "body"]
    elif kind == "tsv":
        source = [write_csv(tmp_path / "c.tsv", pairs, "\t", False), "--label-column", "1",
                  "--text-columns", "2", "3"]
    elif kind == "lines":
        source = []
        for label in ("pos", "neg"):
            path = tmp_path / f"c.{label}"
            path.write_text("".join(t + "\n" for lab, t in pairs if lab == label))
            source += ["--class", f"{label}={path}"]
    elif kind == "folders":
        for i, (label, text) in enumerate(pairs):
            (tmp_path / "c" / label).mkdir(parents=True, exist_ok=True)
            (tmp_path / "c" / label / f"{i}.txt").write_text(text)
        source = [tmp_path / "c"]
    else:
        source = [write_fasttext(tmp_path / "c.data", pairs), "--format", "fasttext"]
    status, out, _ = run(capsys, "train", *source, "-o", tmp_path / "m.npz")
    # One file per class skips blank lines, as fastText does: the empty document is one.
    rows = 35 if kind == "lines" else 36
    assert status == 0 and f"{rows} rows, 2 classes (neg, pos)" in out
    assert load_text_model(tmp_path / "m.npz").predict(["superb", "boring"]).tolist() == [
        "pos", "neg"]


def test_train_hashing_nb_whitespace(corpus_file, tmp_path, capsys):
    status, out, _ = run(capsys, "train", corpus_file, "-o", tmp_path / "m.npz", "--hash",
                         "64", "--weighting", "nb", "--tokenizer", "whitespace", "-q")
    assert status == 0 and "features: 65 (hashed, 1-1-grams, nb, bias column)" in out
    params = load_text_model(tmp_path / "m.npz").get_params()
    assert params["bagofwords__token_pattern"] == "whitespace"


# -- --model nbsvm ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nbsvm_model(corpus_file):
    path = corpus_file.parent / "nbsvm.npz"
    assert main(["train", str(corpus_file), "-o", str(path), "--model", "nbsvm", "--ngrams",
                 "2", "--beta", "0.5", "-q"]) == 0
    return path


def test_train_nbsvm_reports_and_its_model_tests_and_predicts(nbsvm_model, corpus_file,
                                                             tmp_path, capsys):
    status, out, _ = run(capsys, "train", corpus_file, "-o", tmp_path / "m.npz", "--model",
                         "nbsvm", "--hash", "256")
    assert status == 0 and "features: 256 (hashed, 1-1-grams, binary, no bias column)" in out
    # --C auto (the default): each class's C chosen on folds, the exact solver.
    assert "classifier: NBSVM (beta auto, hinge, C auto, exact solver)" in out
    assert out.startswith("C chosen: ") and len(out.splitlines()[0].split(", ")) == 3
    assert "training accuracy: 1.0000" in out
    pipe = load_text_model(nbsvm_model)
    assert type(pipe[1]).__name__ == "NBSVM"
    params = pipe.get_params()
    assert params["classifier__beta"] == 0.5 and params["classifier__max_iter"] == 30
    assert params["bagofwords__ngram_range"] == (1, 2)
    status, out, _ = run(capsys, "test", nbsvm_model, corpus_file)
    assert status == 0 and "accuracy: 1.0000" in out
    status, out, _ = run(capsys, "predict", nbsvm_model, corpus_file)
    assert status == 0 and len(out.splitlines()) == 36


def test_train_nbsvm_takes_epochs_and_c(corpus_file, tmp_path, capsys):
    assert run(capsys, "train", corpus_file, "-o", tmp_path / "m.npz", "--model", "nbsvm",
               "--epochs", "5", "--C", "0.5", "--loss", "log_loss")[0] == 0
    classifier = load_text_model(tmp_path / "m.npz")[1]
    assert (classifier.max_iter, classifier.C, classifier.loss) == (5, 0.5, "log_loss")


def test_predict_proba_with_nbsvm_is_one_line(nbsvm_model, corpus_file, capsys):
    err = one_line_error(capsys, "predict", nbsvm_model, corpus_file, "--proba")
    assert "an NBSVM model has no probabilities (it gives scores only)" in err


@pytest.mark.parametrize("argv, message", [
    (["--beta", "0.5"], "beta=0.5 interpolates the weights of an NBSVM; give model='nbsvm'"),
    (["--model", "nbsvm", "--weighting", "tfidf"],
     "weighting='tfidf' contradicts model='nbsvm', which binarises its features"),
    (["--model", "nbsvm", "--beta", "1.5"], "NBSVM: beta=1.5 is invalid"),
])
@pytest.mark.parametrize("command", ["train", "cv"])
def test_contradictory_model_options_are_one_line(corpus_file, tmp_path, capsys, command,
                                                  argv, message):
    output = ["-o", tmp_path / "m.npz"] if command == "train" else []
    err = one_line_error(capsys, command, corpus_file, *output, *argv)
    assert message in err and not (tmp_path / "m.npz").exists()


def test_cv_nbsvm_prints_folds_and_mean(corpus_file, capsys):
    status, out, _ = run(capsys, "cv", corpus_file, "--model", "nbsvm", "--folds", "2",
                         "--grid", "0.1", "10", "--inner-folds", "2")
    assert status == 0 and "classifier: NBSVM (" in out
    folds = [line for line in out.splitlines() if line.startswith("fold ")]
    assert len(folds) == 2 and float(out.split("accuracy: ")[-1].split(" ")[0]) > 0.8


# -- test -------------------------------------------------------------------------------------

def test_test_prints_accuracy_report_and_confusion_matrix(model, corpus_file, capsys):
    status, out, err = run(capsys, "test", model, corpus_file)
    assert status == 0 and err == ""
    assert f"corpus: {corpus_file}: 36 rows" in out and "accuracy: 1.0000" in out
    assert "precision" in out and "recall" in out and "f1-score" in out
    lines = out.splitlines()
    start = lines.index("confusion matrix (rows: true label, columns: predicted label):")
    assert lines[start + 1].split() == ["mixed", "neg", "pos"]
    assert [line.split() for line in lines[start + 2:start + 5]] == [
        ["mixed", "12", "0", "0"], ["neg", "0", "12", "0"], ["pos", "0", "0", "12"]]


def test_test_names_labels_the_model_never_saw(model, tmp_path, capsys):
    path = write_fasttext(tmp_path / "new.txt",
                          [("pos", "good"), ("meh", "fine"), ("meh", "ok"), ("wow", "yes")])
    err = one_line_error(capsys, "test", model, path)
    assert "3 of 4 rows have labels the model never saw: meh, wow" in err
    assert "(model classes: mixed, neg, pos)" in err


# -- predict ----------------------------------------------------------------------------------

def test_predict_a_file_one_label_per_line(model, tmp_path, capsys, monkeypatch):
    docs = ["great good", "", "boring dull", "patchy so-so", "awful"]
    path = tmp_path / "in.txt"
    path.write_text("\r\n".join(docs) + "\n")
    monkeypatch.setattr(cli_predict, "_PREDICT_CHUNK", 2)  # several chunks
    status, out, _ = run(capsys, "predict", model, path)
    assert status == 0
    expected = load_text_model(model).predict(docs).tolist()
    assert out.splitlines() == expected and expected[0] == "pos" and expected[2] == "neg"


def stdin(monkeypatch, raw):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))


def test_predict_proba_prints_k_best_from_stdin(model, capsys, monkeypatch):
    stdin(monkeypatch, b"great good\nboring\n")
    status, out, _ = run(capsys, "predict", model, "-", "--proba", "--k", "2")
    assert status == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [len(row) for row in rows] == [4, 4] and rows[0][0] == "pos" and rows[1][0] == "neg"
    proba = load_text_model(model).predict_proba(["great good"])[0]
    assert float(rows[0][1]) == pytest.approx(proba.max(), rel=1e-5)
    assert float(rows[0][1]) >= float(rows[0][3])
    stdin(monkeypatch, b"great\n")
    _, out, _ = run(capsys, "predict", model, "--proba", "--k", "9")
    assert len(out.split("\t")) == 6  # k is capped at the 3 classes


def test_predict_proba_needs_a_probabilistic_loss(corpus_file, tmp_path, capsys):
    assert main(["train", str(corpus_file), "-o", str(tmp_path / "h.npz"), "-q"]) == 0
    capsys.readouterr()
    err = one_line_error(capsys, "predict", tmp_path / "h.npz", corpus_file, "--proba")
    assert "loss 'hinge' gives no probabilities: train it with --probability to calibrate " \
           "them, or with --loss log_loss or modified_huber or softmax, for --proba" in err


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_calibrated_hinge_model_gives_probabilities(corpus_file, tmp_path, capsys, monkeypatch,
                                                    loss):
    path = tmp_path / "calibrated.npz"
    status, out, _ = run(capsys, "train", corpus_file, "-o", path, "--loss", loss,
                         "--probability", "--C", "1")
    assert status == 0
    assert re.search(rf"\({loss}, solver cd to a relative duality gap of 0\.001, \d+ passes, "
                     r"probabilities by Platt scaling on held-out folds\)", out), out
    assert load_text_model(path)[1].calibration_.shape == (3, 2)
    stdin(monkeypatch, b"great lovely film\ndull awful\n")
    status, out, _ = run(capsys, "predict", path, "--proba", "--k", "3")
    assert status == 0
    rows = [line.split("\t") for line in out.splitlines()]
    assert [row[0] for row in rows] == ["pos", "neg"]
    for row in rows:
        assert sorted(row[0::2]) == ["mixed", "neg", "pos"]
        assert sum(float(p) for p in row[1::2]) == pytest.approx(1.0, abs=1e-5)
        assert float(row[1]) >= float(row[3]) >= float(row[5])


def test_probability_with_nbsvm_is_one_line(corpus_file, tmp_path, capsys):
    err = one_line_error(capsys, "train", corpus_file, "-o", tmp_path / "m.npz", "--model",
                         "nbsvm", "--probability")
    assert "an NBSVM gives scores only" in err and not (tmp_path / "m.npz").exists()


def test_softmax_model_trains_tests_and_gives_probabilities(corpus_file, tmp_path, capsys,
                                                            monkeypatch):
    path = tmp_path / "softmax.npz"
    assert main(["train", str(corpus_file), "-o", str(path), "--loss", "softmax", "-q"]) == 0
    assert load_text_model(path).named_steps["classifier"].coef_.shape[0] == 3
    status, out, _ = run(capsys, "test", path, corpus_file)
    assert status == 0 and "accuracy: 1.0000" in out
    stdin(monkeypatch, b"great lovely film\n")
    _, out, _ = run(capsys, "predict", path, "--proba", "--k", "3")
    fields = out.split()
    assert fields[0] == "pos" and sorted(fields[2::2]) == ["mixed", "neg"]
    assert sum(float(p) for p in fields[1::2]) == pytest.approx(1.0, abs=1e-5)


def test_threads_give_the_same_model(corpus_file, tmp_path):
    coefs = []
    for threads in ("1", "2"):
        path = tmp_path / f"t{threads}.npz"
        assert main(["train", str(corpus_file), "-o", str(path), "--threads", threads,
                     "-q"]) == 0
        coefs.append(load_text_model(path).named_steps["classifier"].coef_)
    assert coefs[0].shape[0] == 3
    np.testing.assert_array_equal(coefs[0], coefs[1])


def test_test_and_predict_featurize_on_threads(model, corpus_file, capsys, monkeypatch):
    from fasttext_lin import BagOfWords

    seen = []
    transform = BagOfWords.transform

    def spy(self, raw_documents):
        seen.append(self.n_jobs)
        return transform(self, raw_documents)

    monkeypatch.setattr(BagOfWords, "transform", spy)
    outputs = []
    for threads in ("1", "2"):
        status, out, _ = run(capsys, "test", model, corpus_file, "--threads", threads)
        assert status == 0
        stdin(monkeypatch, b"great lovely film\nawful boring plot\n")
        status, predicted, _ = run(capsys, "predict", model, "--proba", "--threads", threads)
        assert status == 0
        outputs.append((out.split("time:")[0], predicted))
    assert seen == [1, 1, 2, 2]
    assert outputs[0] == outputs[1]


def test_predict_errors(model, tmp_path, capsys, monkeypatch):
    err = one_line_error(capsys, "predict", model, tmp_path / "no.txt")
    assert "No such file or directory" in err and str(tmp_path / "no.txt") in err
    stdin(monkeypatch, b"good\nbad \xff\n")
    err = one_line_error(capsys, "predict", model)
    assert ("<stdin>:2: cannot decode byte 0xff at byte 4 of the line (byte 9 of the file) as "
            "utf-8") in err
    stdin(monkeypatch, b"good\nbad \xff\n")
    status, out, _ = run(capsys, "predict", model, "--encoding-errors", "replace")
    assert status == 0 and len(out.splitlines()) == 2
    for option in (["--encoding", "klingon"], ["--encoding-errors", "shrug"]):
        assert "unknown encoding or errors handler" in one_line_error(
            capsys, "predict", model, *option)
    assert "not ASCII-compatible" in one_line_error(capsys, "predict", model, "--encoding",
                                                    "utf-16")
    assert "--k 0: give a number of labels >= 1" in one_line_error(
        capsys, "predict", model, "--proba", "--k", "0")


def test_predict_in_a_subprocess_reads_stdin(model):
    result = subprocess.run([sys.executable, "-m", "fasttext_lin.cli", "predict", str(model)],
                            input="superb lovely\nawful dull\n", capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == "pos\nneg\n"


# -- cv ---------------------------------------------------------------------------------------

def test_cv_prints_folds_and_mean(corpus_file, capsys):
    status, out, _ = run(capsys, "cv", corpus_file, "--folds", "2", "--grid", "0.1", "10",
                         "--inner-folds", "2")
    assert status == 0
    assert "2-fold cross-validation, C chosen among 0.1, 10 by 2-fold CV" in out
    folds = [line for line in out.splitlines() if line.startswith("fold ")]
    assert len(folds) == 2 and all(("(C=0.1)" in f) or ("(C=10)" in f) for f in folds)
    accuracy = [float(f.split()[3]) for f in folds]
    assert f"accuracy: {np.mean(accuracy):.4f} ± {np.std(accuracy):.4f} (" in out
    assert np.mean(accuracy) > 0.8


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_on_a_terminal_unless_quiet(corpus_file, tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    argv = ["cv", str(corpus_file), "--folds", "2", "--grid", "1"] + (["-q"] if quiet else [])
    assert main(argv) == 0
    assert ("folds: " in sys.stderr.getvalue()) is not quiet
    sys.stderr.truncate(0)
    assert main(["train", str(corpus_file), "-o", str(tmp_path / "m.npz")]
                + (["-q"] if quiet else [])) == 0
    assert ("read corpus: " in sys.stderr.getvalue()) is not quiet


def test_cv_on_rt_polarity(shared_data, capsys):
    status, out, _ = run(capsys, "cv", "rt-polarity", "--data-home", shared_data,
                         "--folds", "3", "--grid", "1", "--ngrams", "2")
    assert status == 0
    assert "rt-polarity (train split): 10662 rows; 3-fold cross-validation, C=1" in out
    mean = float(out.split("accuracy: ")[-1].split(" ")[0])
    assert 0.74 < mean < 0.80  # published unigram+bigram linear SVMs: about 0.76-0.78


def test_cv_documented_nbsvm_on_rt_polarity(shared_data, capsys):
    """README's command: Wang and Manning's bigram NB-SVM, 79.4% published; 79.68% here."""
    status, out, _ = run(capsys, "cv", "rt-polarity", "--folds", "10", "--model", "nbsvm",
                         "--ngrams", "2", "--grid", "1", "--data-home", shared_data)
    assert status == 0
    assert "rt-polarity (train split): 10662 rows; 10-fold cross-validation, C=1" in out
    assert "classifier: NBSVM (" in out and "hinge, 30 epochs, averaged)" in out
    mean = float(out.split("accuracy: ")[-1].split(" ")[0])
    assert mean >= 0.794


def test_named_corpus_test_uses_the_test_split(shared_data, tmp_path, capsys):
    path = tmp_path / "sst2.npz"
    assert main(["train", "sst2", "--data-home", str(shared_data), "-o", str(path), "-q"]) == 0
    assert "sst2 (train split): 6920 rows" in capsys.readouterr().out
    status, out, _ = run(capsys, "test", path, "sst2", "--data-home", shared_data)
    assert status == 0 and "sst2 (test split): 1821 rows" in out
    assert float(out.split("accuracy: ")[1].split()[0]) > 0.75


# -- errors: one line, no model written --------------------------------------------------------

def bad_inputs(tmp_path):
    """name -> (argv after 'train', expected message)."""
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"__label__a good\n__label__b caf\xe9 bad\n")
    one = write_fasttext(tmp_path / "one.txt", [("a", "good film"), ("a", "great")])
    table = write_csv(tmp_path / "t.csv", documents(), ",", True)
    return {
        "empty corpus": ([empty], "no documents (empty corpus)"),
        "invalid utf-8": ([latin], f"{latin}:2: cannot decode byte 0xe9"),
        "missing label column": ([table, "--label-column", "stars"],
                                 "no column named 'stars' in the header"),
        "label column out of range": ([table, "--label-column", "7", "--header"],
                                      "no label column 7"),
        "one class": ([one], "at least 2 classes"),
        "no such path": ([tmp_path / "absent.txt"], "no such file or folder: "),
        "unknown extension": ([write_fasttext(tmp_path / "t.dat", documents())],
                              "cannot tell the format of "),
        "no corpus": ([], "give a CORPUS"),
        "lines without --class": ([empty, "--format", "lines"], "--format lines reads one"),
        "bad --class": (["--class", "pos"], "--class 'pos': expected LABEL=PATH"),
        "--class and CORPUS": ([empty, "--class", f"a={empty}"], "give no CORPUS"),
        "--class twice": (["--class", f"a={empty}", "--class", f"a={latin}"],
                          "a label is given twice"),
        "no output folder": ([empty, "-o", tmp_path / "nowhere" / "m.npz"],
                             "no folder "),
    }


BAD_INPUTS = ("empty corpus", "invalid utf-8", "missing label column",
              "label column out of range", "one class", "no such path", "unknown extension",
              "no corpus", "lines without --class", "bad --class", "--class and CORPUS",
              "--class twice", "no output folder")


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_train_bad_input_is_one_line_and_writes_nothing(name, tmp_path, capsys):
    cases = bad_inputs(tmp_path)
    assert set(cases) == set(BAD_INPUTS)
    argv, message = cases[name]
    model = tmp_path / "model.npz"
    if "-o" not in argv:
        argv = argv + ["-o", model]
    before = sorted(p.name for p in tmp_path.iterdir())
    err = one_line_error(capsys, "train", *argv)
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_failed_train_keeps_the_existing_model(corpus_file, tmp_path, capsys):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old model")
    one = write_fasttext(tmp_path / "one.txt", [("a", "good"), ("a", "great")])
    one_line_error(capsys, "train", one, "-o", path)
    assert path.read_bytes() == b"old model"


def test_invalid_utf8_passes_with_latin1(tmp_path, capsys):
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"__label__a good\n__label__b caf\xe9 bad\n")
    assert run(capsys, "train", latin, "--encoding", "latin-1", "-o", tmp_path / "m.npz",
               "--C", "1")[0] == 0
    assert load_text_model(tmp_path / "m.npz")[0].vocabulary_.keys() >= {"café"}


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: 0: expected a number > 0"),
    (["--C", "-1"], "argument --C: -1: expected a finite number > 0"),
    (["--ngrams", "two"], "argument --ngrams: invalid int value: 'two'"),
    (["--weighting", "bm25"], "argument --weighting: invalid choice: 'bm25'"),
    (["--loss", "perceptron"], "argument --loss: invalid choice: 'perceptron'"),
    (["--model", "svm"], "argument --model: invalid choice: 'svm'"),
    (["--beta", "0"], "argument --beta: 0: expected a finite number > 0"),
])
def test_bad_option_values_are_usage_errors(corpus_file, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit:
        main(["train", str(corpus_file), "-o", str(tmp_path / "m.npz"), *argv])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("fasttext-lin train: error: ") and message in err
    assert err.endswith(" (see fasttext-lin train --help)\n") and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_bad_model_files_are_one_line_errors(model, corpus_file, tmp_path, capsys):
    raw = model.read_bytes()
    (tmp_path / "short.npz").write_bytes(raw[:len(raw) // 3])
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    meta = json.loads(members["metadata.json"])
    meta["format_version"] = persist.FORMAT_VERSION + 1
    members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "newer.npz", "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    save_model(tmp_path / "plain.npz", load_text_model(model)[-1])
    cases = {"short.npz": "truncated or corrupted", "newer.npz": "newer fasttext_lin",
             "plain.npz": "no featurizer", "absent.npz": "model file not found"}
    for name, message in cases.items():
        for command, argv in (("test", [corpus_file]), ("predict", [corpus_file])):
            err = one_line_error(capsys, command, tmp_path / name, *argv)
            assert name in err and message in err


def test_unknown_corpus_lists_the_corpus_names(tmp_path, capsys):
    from fasttext_lin.datasets import CORPORA

    assert CORPORA == ("rt-polarity", "sst2", "ag_news", "20newsgroups")
    err = one_line_error(capsys, "cv", tmp_path / "nope")
    assert f"(nor a corpus name: {', '.join(CORPORA)})" in err


def test_named_corpus_missing_offline_is_one_line(tmp_path, monkeypatch, capsys):
    import fasttext_lin.datasets as datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    # sst2: rt-polarity ships with the package and needs no download
    err = one_line_error(capsys, "train", "sst2", "--data-home", tmp_path, "-o",
                         tmp_path / "m.npz")
    assert "sst2" in err and not (tmp_path / "m.npz").exists()


# -- --C auto -----------------------------------------------------------------------------------

def test_cv_chooses_c_on_the_path_by_default(corpus_file, capsys):
    status, out, _ = run(capsys, "cv", corpus_file, "--folds", "2", "--inner-folds", "2",
                         "--loss", "hinge")
    assert status == 0
    assert "2-fold cross-validation, C chosen by 2-fold CV along the warm-started path" in out
    assert "classifier: LinearClassifierCV (losses hinge, C along a warm-started path" in out
    folds = [line for line in out.splitlines() if line.startswith("fold ")]
    assert len(folds) == 2 and all("(C=" in line for line in folds)


def test_cv_takes_c_or_grid_not_both(corpus_file, capsys):
    err = one_line_error(capsys, "cv", corpus_file, "--C", "1", "--grid", "0.1", "10")
    assert "--C 1 and --grid: give one value of C, or the values to search" in err


def test_train_c_auto_needs_two_rows_of_each_class(tmp_path, capsys):
    one = write_fasttext(tmp_path / "one.txt", [("a", "good"), ("a", "great"), ("b", "bad")])
    err = one_line_error(capsys, "train", one, "-o", tmp_path / "m.npz")
    assert "--C auto chooses C by cross-validation, which needs 2 rows of each class" in err
    assert "give --C a number" in err
    assert run(capsys, "train", one, "-o", tmp_path / "m.npz", "--C", "1", "-q")[0] == 0


def test_train_c_auto_prints_the_choice_and_saves_the_chosen_model(corpus_file, tmp_path,
                                                                   capsys):
    status, out, _ = run(capsys, "train", corpus_file, "-o", tmp_path / "m.npz", "-q")
    assert status == 0
    first = out.splitlines()[0]
    assert first.startswith("C chosen: ") and "-fold CV accuracy" in first
    loss = first.split("loss ")[1].split(" ")[0]
    assert loss in ("hinge", "softmax")
    classifier = load_text_model(tmp_path / "m.npz")[1]
    assert type(classifier).__name__ == "LinearClassifier" and classifier.loss == loss
    assert classifier.C == pytest.approx(float(first.split()[2].rstrip(",")), rel=1e-5)

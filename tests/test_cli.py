"""The command line end to end: output, exit codes, one-line errors."""

import subprocess
import sys

import pytest

from fasttext_lin.cli import main


def test_fetch_describes_a_verified_set(shared_data, capsys):
    assert main(["fetch", "a1a", "--data-home", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "a1a: train 1605 rows" in out and "test 30956 rows" in out and "123 features" in out


def test_unknown_set_is_one_line_error(capsys):
    assert main(["fetch", "no-such-set"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fasttext-lin fetch: error: ") and "no-such-set" in err
    assert err.count("\n") == 1


def test_missing_file_offline_is_one_line_error(tmp_path, monkeypatch, capsys):
    import fasttext_lin.datasets as datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    assert main(["fetch", "a5a", "--data-home", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "a5a" in err and str(tmp_path) in err and err.count("\n") == 1


def test_console_script_runs_without_traceback():
    result = subprocess.run([sys.executable, "-m", "fasttext_lin.cli", "fetch", "zzz"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "zzz" in result.stderr


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["bench"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == ("fasttext-lin bench: error: the following arguments are "
                                       "required: NAME (see fasttext-lin bench --help)\n")


def test_bench_prints_the_table_and_writes_results(shared_data, tmp_path, capsys):
    argv = ["bench", "a1a", "--repeats", "1", "--grid", "0.1", "1", "--max-epochs", "20",
            "--no-jit", "--quiet", "--data-home", str(shared_data), "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| LinearSVC | 1 |" in out and "LinearClassifier(hinge)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["libsvm.json", "libsvm.md",
                                                           "libsvm.png"]


# -- LIBSVM data: train, test, --verbose ------------------------------------------------------

@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    """Binary copies of the LIBSVM sets go to a temporary per-user cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_train_and_test_on_a_named_libsvm_set(shared_data, user_cache, tmp_path, capsys):
    model = tmp_path / "a1a.npz"
    argv = ["train", "a1a", "-o", str(model), "--data-home", str(shared_data), "--seed", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "data: a1a (train split, " in out and "1605 rows, 123 features, 2 classes" in out
    # --C auto (the default): C and the loss chosen along the warm-started path.
    assert out.startswith("C chosen: ") and " points of the warm-started C path)" in out
    assert main(["test", str(model), "a1a", "--data-home", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "data: a1a (test split, " in out and "30956 rows" in out
    assert 0.8 < float(out.split("accuracy: ")[1].split()[0]) < 0.9  # liblinear: 0.84
    from fasttext_lin import LinearClassifier, load_model

    assert type(load_model(model)) is LinearClassifier and load_model(model).random_state == 3
    # A number trains at that C by the exact solver; --solver sgd is the protocol's averaged SGD.
    assert main(argv + ["--C", "1"]) == 0
    assert ("LinearClassifier (hinge, solver cd to a relative duality gap of 0.001, "
            in capsys.readouterr().out)
    assert main(argv + ["--C", "1", "--solver", "sgd"]) == 0
    assert "LinearClassifier (hinge, 20 epochs, averaged)" in capsys.readouterr().out


def write_libsvm(path, rows):
    path.write_text("".join(f"{label} " + " ".join(f"{j}:{v}" for j, v in cells) + "\n"
                            for label, cells in rows))
    return path


@pytest.fixture
def libsvm_file(tmp_path):
    rows = [(1 if i % 2 else 0, [(1 if i % 2 else 2, 1.0), (3 + i % 5, 0.5)]) for i in range(60)]
    return write_libsvm(tmp_path / "tiny.txt", rows)


def test_verbose_train_and_test_on_a_libsvm_file(libsvm_file, tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert main(["train", str(libsvm_file), "--format", "libsvm", "-o", str(model), "--loss",
                 "log_loss", "--C", "10", "--solver", "sgd", "--epochs", "3", "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert "data: " + str(libsvm_file) + ": 60 rows, 7 features, 2 classes (0, 1)" in out
    assert "LinearClassifier (log_loss, 3 epochs, averaged)" in out
    assert "training accuracy: 1.0000" in out
    labels = [line.split(":")[1].strip() for line in err.splitlines()]
    assert labels == ["import", "load", "kernels", "train", "save", "total"]
    assert all(line.startswith("time: ") and " s" in line for line in err.splitlines())
    assert "loaded from Numba's cache" in err and "numba:compile events" in err
    assert main(["test", str(model), str(libsvm_file), "--format", "libsvm", "-v"]) == 0
    out, err = capsys.readouterr()
    assert "accuracy: 1.0000" in out
    assert [line.split(":")[1].strip() for line in err.splitlines()] == [
        "import", "load", "kernels", "predict", "total"]


def test_libsvm_extension_needs_no_format(libsvm_file, tmp_path, capsys):
    renamed = libsvm_file.rename(tmp_path / "tiny.libsvm")
    assert main(["train", str(renamed), "-o", str(tmp_path / "m.npz"), "--solver", "sgd",
                 "--epochs", "2"]) == 0
    assert "60 rows, 7 features" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--ngrams", "2"], "--ngrams: text featurizer option(s), but "),
    (["--model", "nbsvm"], "--model: text featurizer option(s)"),
    (["--loss", "modified_huber", "--C", "1"],
     "--loss modified_huber on LIBSVM data: give --epochs"),
    (["--epochs", "3"], ("--epochs: SGD option(s), but --solver auto fits --loss hinge by its "
                         "exact solver (cd), which stops at its duality gap: add --solver sgd, "
                         "or drop --epochs")),
    (["--solver", "cd", "--parallel", "deterministic"],
     "--parallel: SGD option(s), but --solver cd fits --loss hinge"),
])
def test_libsvm_refuses_what_does_not_apply(libsvm_file, tmp_path, capsys, extra, message):
    argv = ["train", str(libsvm_file), "--format", "libsvm", "-o", str(tmp_path / "m.npz")]
    assert main(argv + extra) == 1
    err = capsys.readouterr().err
    assert err.startswith("fasttext-lin train: error: ") and message in err
    assert err.count("\n") == 1


def test_test_refuses_a_text_model_on_libsvm_data(libsvm_file, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"__label__{'ab'[i % 2]} word{i % 2} other\n" for i in range(20)))
    model = tmp_path / "text.npz"
    assert main(["train", str(corpus), "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    assert main(["test", str(model), str(libsvm_file), "--format", "libsvm"]) == 1
    err = capsys.readouterr().err
    assert "is a text model (it holds a featurizer)" in err and err.count("\n") == 1


def test_libsvm_test_features_beyond_the_model_are_ignored_with_a_note(libsvm_file, tmp_path,
                                                                      capsys):
    model = tmp_path / "m.npz"
    assert main(["train", str(libsvm_file), "--format", "libsvm", "-o", str(model)]) == 0
    wide = write_libsvm(tmp_path / "wide.txt", [(0, [(2, 1.0)]), (1, [(1, 1.0), (9, 1.0)])])
    capsys.readouterr()
    assert main(["test", str(model), str(wide), "--format", "libsvm"]) == 0
    out, err = capsys.readouterr()
    assert "accuracy: 1.0000" in out
    assert err == (f"note: {wide}, row 2: feature 9 is beyond the model's 7; 1 row(s) have such "
                   "features, ignored (as liblinear does)\n")


def test_cli_start_imports_no_scikit_learn():
    code = ("import sys; from fasttext_lin.cli.parser import build_parser; build_parser(); "
            "print(sorted(m for m in ('sklearn', 'numba', 'fasttext_lin.text_model') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_deterministic_threads_give_the_same_model_file(shared_data, user_cache, tmp_path,
                                                        capsys):
    from fasttext_lin.persist import load_model

    models = []
    for threads in ("1", "2"):
        path = tmp_path / f"m{threads}.npz"
        assert main(["train", "a9a", "-o", str(path), "--threads", threads, "--parallel",
                     "deterministic", "--solver", "sgd", "--epochs", "3", "--data-home",
                     str(shared_data)]) == 0
        models.append(load_model(path))
    assert (models[0].coef_ == models[1].coef_).all()
    assert models[1].n_jobs == 2 and models[1].parallel == "deterministic"

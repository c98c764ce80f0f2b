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
    assert "usage: fasttext-lin bench" in capsys.readouterr().err


def test_bench_prints_the_table_and_writes_results(shared_data, tmp_path, capsys):
    argv = ["bench", "a1a", "--repeats", "1", "--grid", "0.1", "1", "--max-epochs", "20",
            "--no-jit", "--quiet", "--data-home", str(shared_data), "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "| LinearSVC | 1 |" in out and "LinearClassifier(hinge)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["libsvm.json", "libsvm.md",
                                                           "libsvm.png"]

"""Cold start: importing compiles and loads nothing heavy; kernels come from Numba's cache
in later processes; LIBSVM sets load from their checked binary copies.

The subprocess tests time nothing: they check what was imported, compiled or loaded.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from fasttext_lin import datasets

# Modules that `import fasttext_lin` must not import: each costs tenths of a second.
HEAVY = ("numba", "sklearn", "scipy", "pandas", "matplotlib", "tqdm", "joblib")

IMPORT_CHECK = """
import json, sys
import fasttext_lin
after_import = sorted(m for m in {heavy} if m in sys.modules)
from numba.core import event
with event.install_recorder("numba:compile") as recorder:
    import fasttext_lin.cli, fasttext_lin.datasets, fasttext_lin.model_selection
    import fasttext_lin.persist, fasttext_lin.text_model
    from fasttext_lin import __all__ as names
    for name in names:
        getattr(fasttext_lin, name)
from fasttext_lin.cli.timings import package_dispatchers
dispatchers = package_dispatchers()
print(json.dumps({{"after_import": after_import, "compile_events": len(recorder.buffer),
                  "dispatchers": len(dispatchers),
                  "compiled": [n for n, d in dispatchers.items() if d.signatures]}}))
"""


def run_python(code, **env):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, **env), check=False)
    assert done.returncode == 0, done.stderr
    return done


def run_cli(*argv, **env):
    return run_python("import sys; from fasttext_lin.cli import main; "
                      f"sys.exit(main({[str(a) for a in argv]!r}))", **env)


def test_import_compiles_nothing_and_imports_nothing_heavy():
    record = json.loads(run_python(IMPORT_CHECK.format(heavy=HEAVY)).stdout)
    assert record["after_import"] == []
    # Every module of the package imported, every public name resolved: still no compile.
    assert record["dispatchers"] > 5
    assert record["compile_events"] == 0 and record["compiled"] == []


@pytest.fixture(scope="module")
def tiny_libsvm(tmp_path_factory):
    """A small separable two-class LIBSVM file (written here)."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("libsvm") / "tiny.libsvm"
    lines = []
    for i in range(200):
        label = 1 if i % 2 else -1
        features = sorted(rng.choice(np.arange(3, 30), size=4, replace=False).tolist())
        cells = [f"{1 if label > 0 else 2}:1"] + [f"{j}:{rng.random():.3f}" for j in features]
        lines.append(f"{label} " + " ".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def verbose_lines(stderr):
    return {line.split(": ")[1]: line for line in stderr.splitlines()
            if line.startswith("time: ")}


def test_kernels_compile_once_then_load_from_the_cache(tiny_libsvm, tmp_path):
    cache = {"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    argv = ("train", tiny_libsvm, "-o", tmp_path / "m.npz", "--verbose")
    first = verbose_lines(run_cli(*argv, **cache).stderr)["kernels"]
    second = verbose_lines(run_cli(*argv, **cache).stderr)["kernels"]
    assert " compile (0 loaded from Numba's cache, " in first
    assert "numba:compile events" in first and " 0 numba:compile events" not in first
    assert " cache load (" in second
    assert "compiled; 0 numba:compile events" in second and ", 0 compiled;" in second
    hits = int(second.split("cache load (")[1].split(" loaded")[0])
    assert hits > 0


def test_libsvm_train_imports_no_text_module_nor_progress_bar(tiny_libsvm, tmp_path):
    code = ("import sys; from fasttext_lin.cli import main; "
            f"status = main(['train', {str(tiny_libsvm)!r}, '-o', {str(tmp_path / 'm.npz')!r}]); "
            "print(sorted(m for m in ('tqdm', 'matplotlib', 'fasttext_lin.text_model', "
            "'sklearn.pipeline', 'sklearn.svm') if m in sys.modules)); sys.exit(status)")
    assert run_python(code).stdout.splitlines()[-1] == "[]"


# -- binary copies of the named LIBSVM sets --------------------------------------------------

@pytest.fixture
def user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "fasttext_lin" / "libsvm-npz"


def test_binary_copy_loads_the_same_data(shared_data, user_cache, monkeypatch):
    parsed = datasets.fetch_libsvm("a1a", data_home=shared_data, download=False)
    assert sorted(p.name.split(".")[0] for p in user_cache.iterdir()) == ["a1a", "a1a"]

    def no_parse(*args, **kwargs):
        raise AssertionError("parsed the text file although a binary copy exists")

    monkeypatch.setattr(datasets, "load_libsvm", no_parse)
    loaded = datasets.fetch_libsvm("a1a", data_home=shared_data, download=False)
    for split in ("train", "test"):
        a, b = parsed[f"X_{split}"], loaded[f"X_{split}"]
        assert a.shape == b.shape and a.indices.dtype == b.indices.dtype == np.int32
        assert (a != b).nnz == 0 and b.has_sorted_indices
        np.testing.assert_array_equal(parsed[f"y_{split}"], loaded[f"y_{split}"])


@pytest.mark.parametrize("damage", ["flip", "truncate", "other_arrays"])
def test_damaged_binary_copy_is_parsed_again_and_rewritten(shared_data, user_cache, damage):
    expected = datasets.fetch_libsvm("a1a", data_home=shared_data, subset="train")
    (copy,) = user_cache.iterdir()
    raw = bytearray(copy.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0xFF
    elif damage == "truncate":
        raw = raw[:len(raw) // 2]
    else:  # a valid npz whose arrays do not match its sha256
        X = expected.X_train
        with open(copy, "wb") as out:
            np.savez(out, data=X.data * 2, indices=X.indices, indptr=X.indptr,
                     y=expected.y_train, sha256=np.array("0" * 64))
        raw = copy.read_bytes()
    copy.write_bytes(bytes(raw))
    again = datasets.fetch_libsvm("a1a", data_home=shared_data, subset="train")
    assert (again.X_train != expected.X_train).nnz == 0
    assert copy.read_bytes() != bytes(raw)  # rewritten
    assert datasets.fetch.read_binary(copy, 123, 1605) is not None


def test_subset_loads_one_split(shared_data, user_cache):
    data = datasets.fetch_libsvm("a1a", data_home=shared_data, subset="test")
    assert data.X_train is None and data.y_train is None and data.X_test.shape == (30956, 123)
    with pytest.raises(ValueError, match="subset='dev' is invalid"):
        datasets.fetch_libsvm("a1a", data_home=shared_data, subset="dev")

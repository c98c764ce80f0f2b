"""Checked targets and atomic writes (fasttext_lin._io)."""

import os
import socket

import pytest

from fasttext_lin._io import OutputPathError, atomic_writer, check_output_path, sha256_file


def test_writes_and_replaces_atomically(tmp_path):
    target = tmp_path / "model.npz"
    with atomic_writer(target) as fh:
        fh.write(b"first")
    with atomic_writer(target) as fh:
        fh.write(b"second")
    assert target.read_bytes() == b"second"
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_failed_write_keeps_the_old_file_and_names_the_target(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match=r"No space left on device \(writing the model file\): "
                                      r".*model\.npz"):
        with atomic_writer(target, what="model file") as fh:
            fh.write(b"half")
            raise OSError(28, "No space left on device")
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_interrupt_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "model.npz"
    with pytest.raises(KeyboardInterrupt):
        with atomic_writer(target) as fh:
            fh.write(b"half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: os.mkdir(p), "a folder"),
    (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "a socket"),
])
def test_refuses_non_regular_targets(tmp_path, make, kind):
    target = tmp_path / "thing"
    make(target)
    with pytest.raises(OutputPathError, match=f"'{target}': it is {kind}"):
        check_output_path(target, what="model file")
    with pytest.raises(OutputPathError, match=kind):
        with atomic_writer(target):
            pass  # pragma: no cover - never entered
    assert not target.is_file()


def test_refuses_a_device():
    with pytest.raises(OutputPathError, match="'/dev/null': it is a character device"):
        check_output_path("/dev/null")


def test_refuses_an_input_file_and_a_path_inside_an_input_folder(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("__label__a text\n")
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    with pytest.raises(OutputPathError, match="it is the input"):
        check_output_path(link, inputs=[corpus])
    folder = tmp_path / "docs"
    (folder / "pos").mkdir(parents=True)
    with pytest.raises(OutputPathError, match="lies inside the input"):
        check_output_path(folder / "pos" / "model.npz", inputs=[folder])
    check_output_path(tmp_path / "model.npz", inputs=[corpus, folder])  # a sibling is fine
    assert corpus.read_text() == "__label__a text\n"


def test_refuses_a_missing_or_read_only_folder(tmp_path):
    with pytest.raises(OutputPathError, match="no folder"):
        check_output_path(tmp_path / "missing" / "model.npz")
    if os.geteuid() == 0:
        target = "/proc/model.npz"  # root writes anywhere but into /proc
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "model.npz"
    with pytest.raises(OutputPathError, match="cannot write"):
        check_output_path(target)
    assert not os.path.exists(target)


def test_sha256_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert sha256_file(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


def test_an_error_without_errno_keeps_its_text(tmp_path):
    with pytest.raises(OSError, match=r"disk went away \(writing the output\): .*m\.npz"):
        with atomic_writer(tmp_path / "m.npz"):
            raise OSError("disk went away")

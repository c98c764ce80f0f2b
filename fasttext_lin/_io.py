"""Files the package writes: checked targets, atomic replacement, checksums.

Every file the package writes (model files, cached data, results) goes through
:func:`atomic_writer`: the bytes go to a hidden temporary file beside the target, which is
flushed, synced and renamed over the target only when complete, so a reader never sees half a
file and an interrupted write leaves the old file as it was. :func:`check_output_path` refuses,
before any work is done, a target that is not a regular file (a device, a FIFO, a folder,
a socket), one of the command's own inputs, or a folder that cannot be written.
"""

import contextlib
import hashlib
import os
import stat
import uuid

__all__ = ["OutputPathError", "atomic_writer", "check_output_path", "sha256_file"]


class OutputPathError(ValueError):
    """A file the user asked to write cannot or must not be written there."""


def check_output_path(path, inputs=(), what="output"):
    """Refuse a target that an atomic write must not replace, before any work is done.

    Parameters
    ----------
    path : str or os.PathLike
        The file to be written.
    inputs : iterable of str or os.PathLike, default=()
        Files or folders the same command reads: the target may be none of them, nor lie
        inside an input folder.
    what : str, default="output"
        What the file is, for the message (``"model file"``).

    Raises
    ------
    OutputPathError
        Naming ``path`` as the user gave it, what is wrong and what to do.
    """
    shown = os.fspath(path)
    target = os.path.abspath(shown)
    folder = os.path.dirname(target)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputPathError(f"cannot write the {what} '{shown}': {exc.strerror}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputPathError(f"cannot write the {what} '{shown}': it is {_kind(info.st_mode)}, "
                              "not a regular file; give a file name")
    for given in inputs:
        _refuse_input(shown, target, info, given, what)
    if not os.path.isdir(folder):
        raise OutputPathError(f"cannot write the {what} '{shown}': no folder '{folder}'")
    _probe_folder(shown, folder, what)


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _refuse_input(shown, target, info, given, what):
    source = os.path.abspath(os.fspath(given))
    try:
        source_info = os.stat(source)
    except OSError:
        return
    same = info is not None and os.path.samestat(info, source_info)
    inside = stat.S_ISDIR(source_info.st_mode) and os.path.commonpath(
        [os.path.realpath(source), os.path.realpath(target)]) == os.path.realpath(source)
    if same or inside:
        where = "is" if same else "lies inside"
        raise OutputPathError(f"cannot write the {what} '{shown}': it {where} the input "
                              f"'{os.fspath(given)}', which would be lost; give another file name")


def _probe_folder(shown, folder, what):
    # os.access says yes to root on a read-only mount: create and remove a file instead.
    probe = os.path.join(folder, f".{uuid.uuid4().hex[:12]}.probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise OutputPathError(f"cannot write the {what} '{shown}': folder '{folder}': "
                              f"{exc.strerror}") from None
    with contextlib.suppress(OSError):
        os.unlink(probe)


@contextlib.contextmanager
def atomic_writer(path, what="output", mode=0o666):
    """Open a binary file that replaces ``path`` only when the block ends without error.

    Parameters
    ----------
    path : str or os.PathLike
        The target; checked with :func:`check_output_path` first.
    what : str, default="output"
        What the file is, for messages.
    mode : int, default=0o666
        Permissions of the new file, before the umask.

    Yields
    ------
    file
        A binary file object open for writing (a hidden temporary beside ``path``).

    Raises
    ------
    OutputPathError
        If ``path`` must not or cannot be written (see :func:`check_output_path`).
    OSError
        If writing fails (a full disk); the message names ``path``, and the target is
        left as it was.
    """
    shown = os.fspath(path)
    check_output_path(shown, what=what)
    target = os.path.abspath(shown)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        # Name the user's file, not the hidden temporary one.
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise OSError(exc.errno, f"{reason} (writing the {what})", shown) from None
    _fsync_folder(folder)


def _fsync_folder(folder):
    # Makes the rename durable on POSIX; folders cannot be opened this way on Windows.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sha256_file(path, block=1 << 20):
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()

"""Downloads of the named sets: fetch a URL beside its target, verify it, then keep it.

A download goes to a hidden temporary file in the target's folder and is renamed over the target
only once verified, so a data home holds either no file or a verified one, even if the process
dies mid-download. Archives are read member by member, never with ``extractall``.
"""

import contextlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from ._open import content_sha256
from .registry import DATA_HOME_ENV

__all__ = ["check_sha256", "download", "downloaded", "extract_tar", "missing_message"]

# Seconds per blocking socket operation: fail fast when offline instead of hanging a test run.
_TIMEOUT = 10


def check_sha256(path, expected, shown, found=None):
    """Raise ValueError if ``path`` does not hash to ``expected``.

    ``expected`` None means not known: nothing is checked. The hash is of the decompressed
    bytes for a ``.gz``, ``.bz2`` or ``.xz`` file (a shipped copy); ``found`` is the hash if
    already computed; ``shown`` names the file in the message.
    """
    if expected is not None:
        found = found or content_sha256(path)
        if found != expected:
            raise ValueError(f"{shown}: sha256 is {found}, expected {expected}")


def download(url, path, verify, missing):
    """Fetch ``url`` and keep it as ``path`` once ``verify(temporary path)`` returns.

    Returns what ``verify`` returns; see :func:`downloaded` for ``missing``. If ``verify``
    raises, nothing is kept.
    """
    with downloaded(url, path, missing) as tmp:
        result = verify(str(tmp))
        os.replace(tmp, path)  # atomic within a folder: path is absent or complete
    return result


@contextlib.contextmanager
def downloaded(url, path, missing):
    """Yield a temporary file beside ``path`` holding ``url``; it is always removed afterwards.

    ``missing(reason)`` gives the message of the FileNotFoundError raised when the download
    fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(url, out, missing)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _copy_url(url, out, missing):
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            shutil.copyfileobj(response, out)
    except (OSError, http.client.HTTPException) as exc:
        raise FileNotFoundError(missing(f"download failed: {exc}")) from exc


def missing_message(what, folder, reason, how, holds):
    """One wording for every missing data file: what, where, why, and the two ways out."""
    return (f"{what} missing from {folder} ({reason}). {how}, or set {DATA_HOME_ENV} to a "
            f"folder that holds {holds}")


def extract_tar(archive, shown, root, entries, target):
    """Copy the regular files ``<root>/<entry>[/...]`` of a tar archive into ``target``.

    Files are written by hand, never by ``extractall``: no link, device or permission from the
    archive reaches the disk, and a name with ``..`` or a leading ``/`` is rejected.
    """
    prefix = f"{root}/" if root else ""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                parts = Path(name).parts
                if name.startswith("/") or ".." in parts:
                    raise ValueError(f"{shown}: unsafe path {member.name!r} in the archive")
                relative = Path(name[len(prefix):]) if name.startswith(prefix) else Path()
                if not relative.parts or relative.parts[0] not in entries:
                    continue  # not a corpus file (README, train.csv, ...)
                if not (member.isfile() or member.isdir()):
                    raise ValueError(f"{shown}: {member.name!r} is a link or a special file")
                if member.isfile():
                    destination = target / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src, open(destination, "wb") as out:
                        shutil.copyfileobj(src, out)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{shown}: not a readable tar archive ({exc})") from exc

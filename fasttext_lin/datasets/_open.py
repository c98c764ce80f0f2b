"""Opening data files: every reader reads its bytes through :func:`open_binary`.

A ``.gz``, ``.bz2`` or ``.xz`` file is decompressed, and a truncated, corrupt or misnamed one is
named in one line, the same way for every reader.
"""

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import re
import zlib

__all__ = ["COMPRESSED_SUFFIXES", "CompressedFileError", "content_sha256", "is_compressed",
           "open_binary"]

# extension: (signature at the start of such a file, name of the format, opener)
_COMPRESSIONS = {
    ".gz": (re.compile(rb"\x1f\x8b"), "gzip", gzip.open),
    ".bz2": (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2", bz2.open),
    ".xz": (re.compile(rb"\xfd7zXZ\x00"), "xz", lzma.open),
}
_ZIP = re.compile(rb"PK\x03\x04")
COMPRESSED_SUFFIXES = tuple(_COMPRESSIONS)


def is_compressed(path):
    """Whether ``path``'s extension names a compression :func:`open_binary` undoes."""
    return os.path.splitext(os.fspath(path))[1].lower() in _COMPRESSIONS


class CompressedFileError(ValueError):
    """A compressed file that cannot be read to its end: truncated, corrupt or misnamed."""


def open_binary(path):
    """Open ``path`` to read bytes, decompressing ``.gz``, ``.bz2`` and ``.xz`` files.

    A read error of the decompressor, or a compressed file without the matching extension,
    raises :class:`CompressedFileError` with one line naming the file and what to do.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension in _COMPRESSIONS:
        raw = _Decompressed(_COMPRESSIONS[extension][2](path, "rb"), path, extension)
        return io.BufferedReader(raw, buffer_size=1 << 20)
    f = open(path, "rb")
    found = _compression_of(f.peek(16)[:16])
    if found is not None:
        f.close()
        raise CompressedFileError(f"{path}: {_COMPRESSIONS[found][1]}-compressed, but its name "
                                 f"does not end in {found}: rename it to end in {found}, or "
                                 "decompress it")
    return f


def _compression_of(head):
    """The extension whose signature ``head`` starts with, or None."""
    return next((ext for ext, (magic, _, _) in _COMPRESSIONS.items() if magic.match(head)), None)


class _Decompressed(io.RawIOBase):
    """A decompressing stream whose read errors are one-line :class:`CompressedFileError`."""

    def __init__(self, stream, path, extension):
        super().__init__()
        self._stream, self._path, self._extension = stream, path, extension

    def readable(self):
        return True

    def readinto(self, buffer):
        with self._named_errors():
            return self._stream.readinto(buffer)

    def readall(self):
        with self._named_errors():
            return self._stream.read()

    def close(self):
        self._stream.close()
        super().close()

    @contextlib.contextmanager
    def _named_errors(self):
        try:
            yield
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error, not the content
            raise CompressedFileError(_compressed_problem(self._path, self._extension, exc)
                                     ) from exc


def _compressed_problem(path, extension, exc):
    """One line: what is wrong with the compressed file ``path`` that raised ``exc``."""
    magic, kind, _ = _COMPRESSIONS[extension]
    if isinstance(exc, EOFError):
        return (f"{path}: truncated (the {kind} stream ends early): download or copy the file "
                "again")
    with open(path, "rb") as f:
        head = f.read(16)
    if magic.match(head):
        return f"{path}: corrupt {kind} data ({exc}): download or copy the file again"
    found = _compression_of(head)
    if found is not None:
        return (f"{path}: not a {kind} file but a {_COMPRESSIONS[found][1]} file: rename it to "
                f"end in {found}")
    if _ZIP.match(head):
        return f"{path}: not a {kind} file but a zip archive: unzip it and read the file inside"
    return (f"{path}: not a {kind} file (it does not start with the {kind} signature): rename "
            f"it without {extension} if it is not compressed, or decompress it")


def content_sha256(path):
    """Hex SHA-256 of the bytes :func:`open_binary` reads from ``path`` (decompressed)."""
    digest = hashlib.sha256()
    with open_binary(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

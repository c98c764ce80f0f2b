"""The named text corpora: find, download, extract and verify them, then read their splits.

Each corpus is looked for where :func:`~fasttext_lin.datasets.registry.find_files` says (the
data home, the copies shipped with the package, the per-user cache), else downloaded into the
data home, with the same download, checksum and missing-file helpers as the LIBSVM sets.
"""

import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._io import sha256_file
from . import download as _download
from .registry import CORPUS_SPECS, SHIPPED_SUFFIX, find_files, is_shipped
from .text import (
    read_delimited,
    read_fasttext,
    read_file_per_class,
    read_folder,
    read_label_text,
    read_lines,
)

__all__ = ["fetch_corpus"]


def fetch_corpus(name, data_home=None, download=True):
    """Load a named text corpus, downloading it if missing, and verify it.

    Files are read from ``<data_home>/text/<folder>/`` (``rt-polarity``, ``sst2``,
    ``ag_news_test``, ``20newsgroups``), else from the copy shipped with the package
    (rt-polarity), else downloaded into the data home (the order is in
    :mod:`fasttext_lin.datasets.registry`). Every file must match its known sha256; 20 Newsgroups
    files are checked against ``MANIFEST.sha256`` when it is present (hashing them costs
    little next to opening them). Every split must hold the expected number of documents.
    Archives are extracted, verified in a temporary folder beside the corpus folder, then moved
    into place.

    Parameters
    ----------
    name : {"rt-polarity", "sst2", "ag_news", "20newsgroups"}
    data_home : str or os.PathLike, optional
        See :func:`get_data_home`.
    download : bool, default=True
        If False, never use the network: a missing file is an error.

    Returns
    -------
    sklearn.utils.Bunch
        ``texts_train``, ``y_train``, ``texts_test``, ``y_test``, ``texts_dev``, ``y_dev``
        (lists of str and arrays of str labels; None where the corpus has no such split:
        rt-polarity has only ``train``, for cross-validation; ag_news only ``test``; only sst2
        has ``dev``), ``name``, ``protocol``, ``classes`` (sorted labels), ``folder``.

    Raises
    ------
    ValueError
        If the name is unknown or a file fails verification.
    FileNotFoundError
        If files are missing and cannot be downloaded; the message says what to download and
        where to put it.
    """
    spec = CORPUS_SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(CORPUS_SPECS)}")
    entries = _entries(spec)
    found, home = find_files([f"text/{spec.folder}/{entry}" for entry in entries], data_home)
    shipped = found is not None and is_shipped(found[0])
    folder = found[0].parent if found else home / "text" / spec.folder
    if found is None:
        missing = [entry for entry in entries if not (folder / entry).exists()]
        _fetch_missing(spec, folder, missing, download)
    try:
        data = _load_corpus(spec, folder, os.fspath(folder), SHIPPED_SUFFIX if shipped else "")
    except ValueError as exc:
        fix = ("reinstall fasttext_lin" if shipped else f"delete the file or folder at fault in "
               f"{folder} to download it again from {spec.url}")
        raise ValueError(f"{exc}. This is not the expected {spec.name} corpus: {fix}") from exc
    return Bunch(**data, name=spec.name, protocol=spec.protocol, folder=folder)


def _entries(spec):
    """Top-level names in the corpus folder that the corpus needs."""
    paths = [source if isinstance(source, str) else path
             for _, source, _ in spec.splits
             for path in ([source] if isinstance(source, str) else [p for _, p in source])]
    return list(dict.fromkeys(paths + list(spec.extra_files)))


def _read_split(spec, folder, source, seen, suffix):
    kwargs = dict(spec.reader_kwargs, encoding=spec.encoding)
    if spec.reader == "lines_per_class":
        return read_file_per_class({label: folder / (path + suffix) for label, path in source},
                                   **kwargs)
    if spec.reader == "folder_per_class":
        return read_folder(folder / source, seen=seen, **kwargs)
    reader = {"fasttext": read_fasttext, "label_text": read_label_text,
              "delimited": read_delimited}[spec.reader]
    return reader(folder / (source + suffix), **kwargs)


def _load_corpus(spec, folder, shown, suffix=""):
    """Read and verify every split of ``spec`` in ``folder``; ``shown`` names it in messages.

    ``suffix``: the ending of every file name in ``folder`` (``.xz`` for a shipped copy).
    """
    for entry in _entries(spec) + ([spec.manifest] if spec.manifest else []):
        path = folder / (entry + suffix)
        if path.is_file():
            _download.check_sha256(path, spec.sha256.get(entry), f"{shown}/{path.name}")
    hashes = _manifest(folder, spec.manifest)
    seen = None if hashes is None else functools.partial(_check_listed, hashes, folder, shown)
    data, classes = {}, set()
    for split in ("train", "dev", "test"):
        data[f"texts_{split}"] = data[f"y_{split}"] = None
    for split, source, n_rows in spec.splits:
        texts, labels = _read_split(spec, folder, source, seen, suffix)
        if len(texts) != n_rows:
            raise ValueError(f"{shown}: {len(texts)} documents in the {split} split, expected "
                             f"{n_rows}")
        data[f"texts_{split}"], data[f"y_{split}"] = texts, labels
        classes.update(labels.tolist())
    if hashes:
        raise ValueError(f"{shown}/{next(iter(hashes))}: listed in {spec.manifest} but missing")
    if len(classes) != spec.n_classes:
        raise ValueError(f"{shown}: {len(classes)} classes, expected {spec.n_classes}")
    return dict(data, classes=np.array(sorted(classes), dtype=str))


def _manifest(folder, name):
    """``{relative path: sha256}`` from a ``sha256sum`` listing, or None if there is none."""
    if name is None or not (folder / name).is_file():
        return None
    hashes = {}
    for line in read_lines(folder / name, "utf-8", "strict"):
        digest, _, path = line.partition("  ")
        hashes[Path(path).as_posix().removeprefix("./")] = digest
    return hashes


def _check_listed(hashes, folder, shown, path, raw):
    """Check one file read against the manifest, and strike it off the list."""
    relative = path.relative_to(folder).as_posix()
    expected = hashes.pop(relative, None)
    if expected is None:
        raise ValueError(f"{shown}/{relative}: not listed in the manifest")
    found = hashlib.sha256(raw).hexdigest()
    if found != expected:
        raise ValueError(f"{shown}/{relative}: sha256 is {found}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# Text corpora: downloads


def _fetch_missing(spec, folder, missing, download):
    message = functools.partial(_corpus_missing_message, spec, folder, missing)
    if not download:
        raise FileNotFoundError(message("download=False"))
    try:
        if spec.archive is None:
            for entry in missing:
                url = f"{spec.url}/{entry}"
                check = functools.partial(_download.check_sha256,
                                          expected=spec.sha256.get(entry), shown=url)
                _download.download(url, folder / entry, check, message)
        else:
            _fetch_archive(spec, folder, missing, message)
    except ValueError as exc:
        raise ValueError(f"the download of {spec.name} failed verification and was not saved: "
                         f"{exc}. Try again later, or put a correct copy in {folder}") from exc


def _fetch_archive(spec, folder, missing, message):
    """Download the archive, extract and verify it beside ``folder``, move ``missing`` in."""
    with _download.downloaded(spec.url, folder.parent / spec.archive, message) as archive:
        # the archive's own bytes, not the content it decompresses to
        _download.check_sha256(archive, spec.archive_sha256, spec.url,
                               found=spec.archive_sha256 and sha256_file(archive))
        staging = Path(tempfile.mkdtemp(prefix=f".{spec.folder}.", suffix=".part",
                                        dir=folder.parent))
        try:
            _download.extract_tar(archive, spec.url, spec.archive_root, _entries(spec), staging)
            _load_corpus(spec, staging, spec.url)
            folder.mkdir(exist_ok=True)
            for entry in missing:
                os.replace(staging / entry, folder / entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _corpus_missing_message(spec, folder, missing, reason):
    files = ", ".join(missing)
    if spec.archive is None:
        how = f"Download {spec.url}/<file> for each and save it in {folder}/"
    else:
        inside = f"{spec.archive_root}/" if spec.archive_root else ""
        how = (f"Download {spec.url} (saved as {spec.archive}; see {spec.page}), extract "
               f"{inside}{{{files}}} from it into {folder}/")
    return _download.missing_message(f"{spec.name} corpus: {files} are", folder, reason, how,
                                     f"text/{spec.folder}/")

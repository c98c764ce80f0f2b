"""The named data sets, read from ``registry.json``, and the folders that hold their files.

The registry is data: ``data/registry.json`` at the top of the repository, installed as the
package ``fasttext_lin.data`` beside the small sets shipped with the project (xz-compressed).
For each LIBSVM set it gives the address, rows and sha256 of its train and test files, its
features, classes, citation and licence; for each corpus its files, reader, splits, archive
and checksums. A value the project does not know is left out, never guessed.

A named set's file is looked for, first found wins:

1. in the data home named by the ``data_home`` argument, else by ``$FASTTEXT_LIN_DATA``;
2. among the copies shipped with the package (a9a and rt-polarity), checked like any other;
3. in the per-user cache, ``$XDG_CACHE_HOME/fasttext_lin`` (default ``~/.cache/fasttext_lin``),
   when no data home is named: the cache is then the data home.

A file found nowhere is downloaded into the data home (the named one, else the cache). So a
named data home always wins, and the shipped copies make the main sets work with no network
and no configuration.
"""

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

__all__ = ["CORPORA", "CORPUS_SPECS", "DATA_HOME_ENV", "LIBSVM_SETS", "LIBSVM_SPECS",
           "SHIPPED_SUFFIX", "Corpus", "LibsvmFile", "LibsvmSet", "find_files", "get_data_home",
           "is_shipped", "shipped_home", "user_cache_home"]

DATA_HOME_ENV = "FASTTEXT_LIN_DATA"
#: Shipped copies are the registry's files compressed with xz, named ``<file>.xz``.
SHIPPED_SUFFIX = ".xz"


@dataclass(frozen=True)
class LibsvmFile:
    """One file of a LIBSVM set: its name, address, rows and sha256 (None: not known)."""

    file: str
    url: str
    rows: int
    sha256: str = None


@dataclass(frozen=True)
class LibsvmSet:
    """A named set of the LIBSVM data page: its files and what they must hold."""

    name: str
    page: str
    train: LibsvmFile
    test: LibsvmFile
    n_features: int
    n_classes: int
    citation: str = None
    licence: str = None


@dataclass(frozen=True)
class Corpus:
    """A named text corpus: where it comes from, its files, its format and what they hold."""

    name: str
    folder: str  # <data_home>/text/<folder>/
    reader: str  # "lines_per_class", "folder_per_class", "fasttext", "label_text", "delimited"
    encoding: str
    protocol: str
    splits: tuple  # (split, source, rows): source is a path in folder, or ((label, path), ...)
    n_classes: int
    page: str  # the corpus's official page
    url: str  # the archive to download, or the folder URL of the single files
    archive: str = None  # archive file name; None: download each file from url/<path>
    archive_root: str = ""  # folder inside the archive that holds the corpus files
    archive_sha256: str = None
    reader_kwargs: tuple = ()
    extra_files: tuple = ()  # files that come with the corpus but hold no documents
    manifest: str = None  # optional "sha256  ./path" list of every file, checked when present
    sha256: dict = field(default_factory=dict, hash=False)  # {path in folder: sha256}
    citation: str = None
    licence: str = None


def shipped_home():
    """The folder of the data shipped with the package: ``registry.json`` and the small sets."""
    try:
        return Path(str(resources.files("fasttext_lin.data")))
    except ModuleNotFoundError:  # a checkout on sys.path, not installed
        return Path(__file__).resolve().parents[2] / "data"


def _libsvm_set(name, entry):
    files = {split: LibsvmFile(**entry["files"][split]) for split in ("train", "test")}
    return LibsvmSet(name, entry["page"], files["train"], files["test"], entry["features"],
                     entry["classes"], entry.get("citation"), entry.get("licence"))


def _corpus(name, entry):
    splits = tuple((s["split"], s["path"] if "path" in s else tuple(s["files"].items()),
                    s["rows"]) for s in entry["splits"])
    kwargs = {key: entry[key] for key in ("archive", "archive_root", "archive_sha256",
                                          "manifest", "sha256", "citation", "licence")
              if key in entry}
    return Corpus(name, entry["folder"], entry["reader"], entry["encoding"], entry["protocol"],
                  splits, entry["classes"], entry["page"], entry["url"],
                  reader_kwargs=tuple((key, tuple(value) if isinstance(value, list) else value)
                                      for key, value in entry.get("reader_kwargs", {}).items()),
                  extra_files=tuple(entry.get("extra_files", ())), **kwargs)


def _load_registry():
    with open(shipped_home() / "registry.json", encoding="utf-8") as f:
        registry = json.load(f)
    return ({name: _libsvm_set(name, entry) for name, entry in registry["libsvm"].items()},
            {name: _corpus(name, entry) for name, entry in registry["corpora"].items()})


#: ``{name: LibsvmSet}`` and ``{name: Corpus}`` of the registry, in its order.
LIBSVM_SPECS, CORPUS_SPECS = _load_registry()
#: Names of the LIBSVM sets :func:`~fasttext_lin.datasets.fetch_libsvm` knows.
LIBSVM_SETS = tuple(LIBSVM_SPECS)
#: Names of the review and topic corpora :func:`~fasttext_lin.datasets.fetch_corpus` knows.
CORPORA = tuple(CORPUS_SPECS)


def get_data_home(data_home=None):
    """Folder that holds the data sets, as ``libsvm/<file>`` and ``text/<corpus>/...``.

    Parameters
    ----------
    data_home : str or os.PathLike, optional
        Used as given (``~`` expanded). Default: the environment variable ``FASTTEXT_LIN_DATA``
        if set, else ``$XDG_CACHE_HOME/fasttext_lin``, else ``~/.cache/fasttext_lin``.

    Returns
    -------
    pathlib.Path
        The folder; it is not created here. Downloads go there; the copies shipped with the
        package are read when a file is not there (see :mod:`fasttext_lin.datasets.registry`).
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or user_cache_home()
    return Path(data_home).expanduser()


def user_cache_home():
    """The per-user cache folder, ``$XDG_CACHE_HOME/fasttext_lin`` or ``~/.cache/fasttext_lin``."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "fasttext_lin"


def find_files(relatives, data_home=None):
    """Where to read the files ``relatives`` (paths under a data home) from.

    Parameters
    ----------
    relatives : sequence of str
        Paths relative to a data home, e.g. ``["libsvm/a9a"]``; all are taken from one place.
    data_home : str or os.PathLike, optional
        See :func:`get_data_home`.

    Returns
    -------
    found : list of pathlib.Path or None
        The files, from the first place in the search order that holds them all (a shipped
        copy ends in ``.xz``); None if no place does.
    home : pathlib.Path
        The data home, where missing files are downloaded.
    """
    home = get_data_home(data_home)
    named = data_home is not None or bool(os.environ.get(DATA_HOME_ENV))
    shipped = shipped_home()
    for place in ([home, shipped] if named else [shipped, home]):
        suffix = SHIPPED_SUFFIX if place == shipped else ""
        paths = [place / (relative + suffix) for relative in relatives]
        if all(path.exists() for path in paths):
            return paths, home
    return None, home


def is_shipped(path):
    """Whether ``path`` is one of the copies shipped with the package."""
    return Path(path).is_relative_to(shipped_home())

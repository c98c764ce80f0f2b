"""Data sets: LIBSVM files and text corpora, checked loaders, and the named sets of each kind.

One module per concept:

- :mod:`.libsvm`: ``load_libsvm``, ``load_libsvm_files``, ``check_class_labels``; a parse
  error names the file and line at fault.
- :mod:`.text`: the readers ``read_fasttext``, ``read_label_text``, ``read_delimited``,
  ``read_file_per_class``, ``read_folder_per_class``, which return ``(texts, labels)`` and
  name file, line and byte offset in every error; none drops or merges a row silently.
- :mod:`._open`: every file is opened through one helper that decompresses ``.gz``, ``.bz2``
  and ``.xz`` files and names a truncated, corrupt or misnamed one in one line.
- :mod:`.registry`: the named sets (``registry.json``, shipped with the package), the data
  home, and where a set's files are looked for; :mod:`.download`: download, verify, extract.
- :mod:`.fetch`: ``fetch_libsvm``, with checked binary copies of parsed files;
  :mod:`.corpora`: ``fetch_corpus``.
"""

# Kept as an attribute of the package: tests make urllib.request.urlopen fail through it.
import urllib.request  # noqa: F401

from ._open import is_compressed, open_binary
from .corpora import fetch_corpus
from .fetch import fetch_libsvm
from .libsvm import check_class_labels, load_libsvm, load_libsvm_files
from .registry import CORPORA, LIBSVM_SETS, get_data_home
from .text import (
                   decode_part,
                   fasttext_records,
                   read_delimited,
                   read_fasttext,
                   read_file_per_class,
                   read_folder_per_class,
                   read_label_text,
                   split_lines,
)

__all__ = ["CORPORA", "LIBSVM_SETS", "check_class_labels", "decode_part", "fasttext_records",
           "fetch_corpus", "fetch_libsvm", "get_data_home", "is_compressed", "load_libsvm",
           "load_libsvm_files", "open_binary",
           "read_delimited", "read_fasttext", "read_file_per_class", "read_folder_per_class",
           "read_label_text", "split_lines"]

"""``python -m fasttext_lin.cli``: the ``fasttext-lin`` command."""

from . import console

console()

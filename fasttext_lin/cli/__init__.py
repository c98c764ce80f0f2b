"""The ``fasttext-lin`` command line: thin subcommands over the library.

Text classification::

    fasttext-lin train CORPUS -o MODEL [--model linear|nbsvm] [--probability]
                       [featurizer and trainer options]
    fasttext-lin test MODEL CORPUS
    fasttext-lin predict MODEL [FILE|-] [--proba --k K]
    fasttext-lin cv CORPUS [--model linear|nbsvm] [--folds 10] [--grid C ...]

``--model linear`` (the default) is a BagOfWords with a bias column + LinearClassifier,
``--model nbsvm`` binary features + NBSVM (:func:`fasttext_lin.text_model.text_pipeline`).

CORPUS is a named corpus (``rt-polarity``, ``sst2``, ``ag_news``, ``20newsgroups``) or a
path: a fastText file (``__label__X text`` lines; ``.txt``, ``.ft``), a ``label sentence``
file as SST, TREC and MR ship (``1 a fine , funny film``: ``--format label-text``), a CSV or
TSV file (``.csv``, ``.tsv``), or a folder with one subfolder of documents per class. One
file per class, one document per line (as ``rt-polarity.pos`` / ``.neg``), is given with
``--class LABEL=PATH`` for each class in place of CORPUS.

LIBSVM data sets::

    fasttext-lin train DATA -o MODEL [--loss ... --C ... --epochs ... --seed ... --threads ...]
    fasttext-lin test MODEL DATA
    fasttext-lin predict MODEL [FILE|-] [--proba --k K]
    fasttext-lin cv DATA [--folds 10] [--grid C ...]

DATA is LIBSVM when it is a named LIBSVM set (``a9a``, ``dna``, ...: its train split for
``train`` and ``cv``, its test split for ``test``), a file ending in ``.libsvm`` or ``.svm``,
or any file given with ``--format libsvm``; ``train`` then fits a LinearClassifier (with an
intercept) on the features as they are, and ``cv`` cross-validates the same. ``predict``
with such a model reads ``index:value ...`` rows, a leading label ignored. Labels print as
written (``1``, ``-1``).

Model files::

    fasttext-lin quantize MODEL -o OUT [--weights float16|int8] [--prune F] [--test DATA]

Every command writing a file checks it first (not an input, a device, a FIFO or a folder;
its folder writable), before any work. Every error is one line on stderr, with a non-zero
exit status; ``-q`` silences progress bars and messages, not results. A first run's Numba
compilation is reported as such on stderr, and left out of the times printed.

``train --verbose`` (and ``test --verbose``) print to stderr the wall time of each stage:
Python start and imports, data load, kernel compile or cache load, training, saving.

The package: :mod:`.parser` (every option), one module per command group (:mod:`.train`,
:mod:`.evaluate` for test, cv and quantize, :mod:`.predict`, :mod:`.bench` for fetch and
bench), the data as the commands name it (:mod:`.text`, :mod:`.libsvm`), what they print
(:mod:`.report`, :mod:`.timings`), and the LIBSVM reference protocol that only ``bench``
loads (:mod:`.bench_protocol`, :mod:`.bench_report`). Each module imports the library
inside its functions, so that building the parser stays cheap.
"""

import os
import re
import sys

from .parser import build_parser

__all__ = ["console", "main"]

# The library names its keyword, then the flag: "pass encoding='latin-1' (--encoding latin-1)",
# "a larger n_features (--n-features N)".
_KEYWORD_THEN_FLAG = re.compile(
    r"\b(?:\w+=(?:'[^']*'|\"[^\"]*\"|[^\s,;()]+)|[a-z]+_\w+) \((--[^()]*)\)")


def _flag_wording(message):
    """``message`` as the command line's user reads it: the flag, without the library
    keyword before it."""
    return _KEYWORD_THEN_FLAG.sub(r"\1", message)


def main(argv=None):
    """Run the command line; return the exit status.

    A user's mistake (bad argument, missing or malformed file, unknown data set)
    prints one line to stderr and returns 1, without a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ImportError, OSError, ValueError) as error:
        print(f"fasttext-lin {args.command}: error: {_flag_wording(str(error))}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fasttext-lin {args.command}: interrupted", file=sys.stderr)
        return 130


def console():
    """The ``fasttext-lin`` command: :func:`main`, then exit without the interpreter's
    teardown (half a second after numba and scikit-learn are loaded; the model file is
    already written and closed)."""
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = status or 1
    os._exit(status)


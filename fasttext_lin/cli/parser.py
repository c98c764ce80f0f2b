"""The ``fasttext-lin`` argument parser: every command, option, default and help text.

Building it imports no NumPy, scikit-learn or Numba: the choice lists and defaults are the
library's own, read from :mod:`fasttext_lin._constants`.
"""

import argparse

from .. import __version__
from .._constants import (
    EPOCH_LADDER,
    GRID,
    LOSSES,
    PARALLEL_MODES,
    QUANTIZED_WEIGHTS,
    SOLVERS,
    TEXT_MODELS,
    TOKEN_PATTERNS,
    WEIGHTINGS,
)
from .bench import bench as run_bench
from .bench import fetch as run_fetch
from .evaluate import cv as run_cv
from .evaluate import quantize as run_quantize
from .evaluate import test as run_test
from .predict import predict as run_predict
from .text import FORMATS
from .train import train as run_train


def _data_home_option(parser):
    parser.add_argument("--data-home", help="data directory (default: $FASTTEXT_LIN_DATA, "
                                            "then the per-user cache folder)")


def _positive(kind):
    finite = "finite " if kind is float else ""

    def parse(text):
        value = kind(text)
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text}: expected a {finite}number > 0")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in "invalid int value"
    return parse


def _C_value(text):
    """``--C``: the word auto, or a finite number > 0."""
    return "auto" if text == "auto" else _positive(float)(text)


_C_value.__name__ = "C"


def _encoding_options(parser):
    parser.add_argument("--encoding", default="utf-8",
                        help="text encoding (default %(default)s; e.g. latin-1)")
    parser.add_argument("--encoding-errors", default="strict",
                        help="decoding errors: strict (default), replace or ignore")


def _corpus_options(parser):
    parser.add_argument("--format", choices=FORMATS,
                        help="format of CORPUS (default: from its extension: .csv, .tsv, "
                             ".txt/.ft = fasttext, .libsvm/.svm = libsvm; a folder = one "
                             "subfolder per class; a LIBSVM set name = libsvm); label-text: "
                             "'label sentence' lines, as SST, TREC and MR ship")
    parser.add_argument("--class", dest="classes", action="append", metavar="LABEL=PATH",
                        help="one file per class, one document per line (format 'lines'); "
                             "repeat for each class, without CORPUS")
    parser.add_argument("--label-column", default="0",
                        help="csv/tsv: label column, an index from 0 or a header name "
                             "(default 0)")
    parser.add_argument("--text-columns", nargs="+", default=["1"], metavar="COLUMN",
                        help="csv/tsv: text column(s), joined by a space (default 1)")
    parser.add_argument("--header", action=argparse.BooleanOptionalAction,
                        help="csv/tsv: the first record names the columns (implied by "
                             "column names); --no-header: it is a document (default: a "
                             "document, refused if it looks like a header)")
    parser.add_argument("--quoting", action=argparse.BooleanOptionalAction,
                        help="csv/tsv: '\"' quotes fields (default for csv); --no-quoting: "
                             "quotes are plain text (default for tsv)")
    parser.add_argument("--label-prefix", default="__label__",
                        help="fasttext: prefix of the label tokens (default %(default)s)")
    _encoding_options(parser)
    _data_home_option(parser)


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text}: expected a number in [0, 1)")
    return value


_fraction.__name__ = "float"


def _model_options(parser):
    group = parser.add_argument_group("featurizer and trainer")
    group.add_argument("--model", dest="model_type", default="linear", metavar="MODEL",
                       choices=TEXT_MODELS,
                       help="linear: BagOfWords (bias column) + LinearClassifier (default); "
                            "nbsvm: binary features + NBSVM (Wang and Manning's NB-SVM)")
    group.add_argument("--ngrams", type=_positive(int), default=1,
                       help="word n-grams of lengths 1 to N (default 1)")
    group.add_argument("--weighting", choices=WEIGHTINGS,
                       help="feature values (default tfidf: 1 + log(count) times idf; "
                            "--model nbsvm takes binary only)")
    group.add_argument("--tokenizer", choices=TOKEN_PATTERNS, default="default",
                       help="default: runs of 2+ word characters; whitespace: fastText-like")
    group.add_argument("--hash", type=_positive(int), metavar="N",
                       help="hash n-grams into N columns (default: learn a vocabulary)")
    group.add_argument("--min-df", type=_positive(int), default=1,
                       help="keep terms in at least this many documents (default 1)")
    group.add_argument("--loss", choices=LOSSES,
                       help="hinge: linear SVM (default with a number --C; train "
                            "--probability gives it probabilities); log_loss: logistic "
                            "regression (one-vs-rest); softmax: multinomial logistic "
                            "regression; with --C auto and no --loss, --model linear chooses "
                            "hinge or log_loss (softmax for 3+ classes) by CV accuracy")
    group.add_argument("--C", type=_C_value, default="auto",
                       help="regularisation as LinearSVC's C, a number > 0, or auto "
                            "(default): chosen by cross-validation along a warm-started path "
                            "of C (LinearClassifierCV; --model nbsvm: NBSVM(C='auto')) with "
                            "the exact solver; --stream: auto is 1")
    group.add_argument("--beta", type=_positive(float),
                       help="--model nbsvm: interpolation weight in (0, 1] (default: "
                            "NBSVM's, 0.25 for two classes)")
    group.add_argument("--epochs", type=_positive(int),
                       help="SGD epochs (default 10; 30 with --model nbsvm; LIBSVM data: "
                            "the LIBSVM benchmark's, 20 for the hinge losses, 10 for log_loss, "
                            "averaged over the last half)")
    group.add_argument("--solver", choices=SOLVERS, default="auto",
                       help="auto (default): the loss's exact solver, to its duality gap "
                            "(dual coordinate descent for hinge and squared_hinge; trust-region "
                            "Newton for softmax; log_loss: Newton with fewer features than "
                            "rows, else dual coordinate descent), SGD for the others; sgd: "
                            "--epochs of averaged SGD; cd: dual coordinate descent; newton: "
                            "trust-region Newton. --stream and --model nbsvm run SGD")
    group.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    group.add_argument("--threads", type=_positive(int), default=1,
                       help="threads (default 1): within one model for binary and softmax "
                            "(Hogwild SGD, or cd's passes over row slices for a binary model: "
                            "the model then varies from run to run, cd's within its "
                            "certified gap), over classes for one-vs-rest (same model for any "
                            "value)")
    group.add_argument("--parallel", choices=PARALLEL_MODES, default="hogwild",
                       help="--threads within one model: hogwild (default; lock-free, the "
                            "model varies from run to run) or deterministic (SGD: parameter "
                            "mixing over fixed blocks; cd: one thread; the same model for any "
                            "--threads)")
    _quiet_option(parser)


def _featurizer_threads_option(parser):
    parser.add_argument("--threads", type=_positive(int), default=1,
                        help="threads of a text model's featurizer (default 1; the same "
                             "features for any value)")


def _n_features_option(parser):
    parser.add_argument("--n-features", type=_positive(int), metavar="N",
                        help="a LIBSVM file's number of features (default: its largest index; "
                             "needed with --stream; a named set's is known)")


def _quiet_option(parser):
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar, no progress or compile messages on stderr; "
                             "results, notes on the data and errors still print")


def _verbose_option(parser):
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print to stderr the wall time of each stage: Python start and "
                             "imports, data load, Numba kernel compile or cache load, "
                             "training or predicting, saving")


def _text_parsers(commands):
    """The commands on text or LIBSVM data: train, test, predict, cv, quantize."""
    corpus_help = ("a file, a folder of class folders, a corpus name (rt-polarity, ...), or "
                   "LIBSVM data: a set name (a9a, ...) or a file with --format libsvm")
    train = commands.add_parser("train", help="train a classifier on a text corpus or LIBSVM "
                                              "data and save it")
    train.add_argument("corpus", nargs="?", metavar="CORPUS", help=corpus_help)
    train.add_argument("-o", "--output", required=True, metavar="MODEL",
                       help="model file to write")
    train.add_argument("--probability", action="store_true",
                       help="--model linear with --loss hinge or squared_hinge: calibrate "
                            "probabilities for predict --proba (Platt scaling on 5 "
                            "held-out folds: 6 fits)")
    stream = train.add_argument_group("out of core")
    stream.add_argument("--stream", action="store_true",
                        help="read a fastText or LIBSVM file in chunks of lines, never whole: "
                             "memory holds one chunk and the model; text is hashed (--hash, "
                             "default 2^20), weighting binary or count (default binary); "
                             "--epochs passes (default 5)")
    stream.add_argument("--chunk-size", type=_positive(int), default=100_000, metavar="N",
                        help="--stream: lines a chunk (default %(default)s)")
    _n_features_option(stream)
    _corpus_options(train)
    _model_options(train)
    _verbose_option(train)
    train.set_defaults(run=run_train)

    test = commands.add_parser("test", help="accuracy, per-class scores and confusion matrix")
    test.add_argument("model", metavar="MODEL")
    test.add_argument("corpus", nargs="?", metavar="CORPUS",
                      help=corpus_help + "; its test split")
    _corpus_options(test)
    _featurizer_threads_option(test)
    _quiet_option(test)
    _verbose_option(test)
    test.set_defaults(run=run_test)

    predict = commands.add_parser("predict", help="label one document (or LIBSVM row) per "
                                                  "line")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("input", nargs="?", metavar="FILE",
                         help="one document per line, or for a model of LIBSVM data one row "
                              "per line ('index:value ...', a leading label is ignored); - or "
                              "none: standard input")
    predict.add_argument("--proba", action="store_true",
                         help="print the K best labels with probabilities, tab-separated")
    predict.add_argument("--k", type=int,
                         help="--proba: how many labels to print (default 1)")
    _encoding_options(predict)
    _featurizer_threads_option(predict)
    _quiet_option(predict)
    predict.set_defaults(run=run_predict)

    cv = commands.add_parser("cv", help="k-fold cross-validation, C chosen in each fold")
    cv.add_argument("corpus", nargs="?", metavar="CORPUS", help=corpus_help)
    cv.add_argument("--folds", type=_positive(int), default=10, help="folds (default 10)")
    cv.add_argument("--grid", type=_positive(float), nargs="+", metavar="C",
                    help="search C among these values by a grid search in each training fold "
                         f"in place of --C (e.g. the former default, {' '.join(map(str, GRID))}"
                         "); one value: no search")
    cv.add_argument("--inner-folds", type=_positive(int), default=3,
                    help="folds of the search for C in each training fold (default 3)")
    _n_features_option(cv)
    _corpus_options(cv)
    _model_options(cv)
    cv.set_defaults(run=run_cv, probability=False)

    quantize = commands.add_parser(
        "quantize", help="write a smaller copy of a model file (fewer bits a weight, pruning); "
                         "with --test, the accuracy it costs")
    quantize.add_argument("model", metavar="MODEL")
    quantize.add_argument("-o", "--output", required=True, metavar="OUT",
                          help="model file to write")
    quantize.add_argument("--weights", default="float16", metavar="{float16,int8}",
                          choices=QUANTIZED_WEIGHTS,
                          help="float16: half precision (default); int8: 8-bit codes and one "
                               "scale per class (smaller; more predictions move)")
    quantize.add_argument("--prune", type=_fraction, default=0.0, metavar="F",
                          help="first set to 0 the weights below F times the largest of their "
                               "class, in [0, 1) (default 0)")
    quantize.add_argument("--test", dest="corpus", metavar="DATA",
                          help="test data, as test takes it (" + corpus_help + "; its test "
                               "split): print the accuracy before and after")
    _corpus_options(quantize)
    _quiet_option(quantize)
    quantize.set_defaults(run=run_quantize)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error, as every other error: the command, the
    problem, and where the usage is."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The ``fasttext-lin`` parser; each command's ``run`` is the function that runs it."""
    parser = _Parser(
        prog="fasttext-lin", description="Fast linear classifiers on sparse data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "fetch", help="download (if missing) and verify named LIBSVM data sets")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a, a5a, w8a, dna")
    _data_home_option(fetch)
    _quiet_option(fetch)
    fetch.set_defaults(run=run_fetch)

    bench = commands.add_parser(
        "bench", help="benchmark against LinearSVC / liblinear on named LIBSVM sets")
    bench.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a a1a")
    bench.add_argument("--repeats", type=int, default=5,
                       help="timed fits per model, after a warm-up (default 5)")
    bench.add_argument("--grid", type=float, nargs="+", default=GRID, metavar="C",
                       help="values of C to cross-validate (default: %(default)s)")
    bench.add_argument("--max-epochs", type=int, default=EPOCH_LADDER[-1],
                       help="largest epoch count tried in the objective study against "
                            "liblinear (default %(default)s)")
    bench.add_argument("--no-jit", action="store_true",
                       help="skip timing JIT compile and cache load in fresh processes")
    bench.add_argument("--out", help="also write JSON, Markdown and PNG results here")
    _data_home_option(bench)
    _quiet_option(bench)
    bench.set_defaults(run=run_bench)
    _text_parsers(commands)
    return parser


# The library names its keyword, then the flag: "pass encoding='latin-1' (--encoding latin-1)",

"""The ``fasttext-lin`` command line: thin subcommands over the library."""

import argparse
import sys

from . import __version__


def _fetch(args):
    from .datasets import fetch_libsvm

    for name in args.names:
        data = fetch_libsvm(name, data_home=args.data_home)
        print(f"{name}: train {data.X_train.shape[0]} rows ({data.train_path}), "
              f"test {data.X_test.shape[0]} rows ({data.test_path}), "
              f"{data.n_features} features")
    return 0


def _bench(args):
    from .benchmark import format_table, run_libsvm_benchmark, write_results

    progress = (lambda message: print(message, file=sys.stderr)) if not args.quiet else None
    results = run_libsvm_benchmark(
        args.names, repeats=args.repeats, progress=progress, grid=args.grid,
        data_home=args.data_home, jit=not args.no_jit, max_epochs=args.max_epochs,
    )
    print(format_table(results))
    if args.out:
        for path in write_results(results, args.out):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _data_home_option(parser):
    parser.add_argument("--data-home", help="data directory (default: $FASTTEXT_LIN_DATA, "
                                            "then the per-user cache folder)")


def _parser():
    from .benchmark import EPOCH_LADDER, GRID

    parser = argparse.ArgumentParser(
        prog="fasttext-lin", description="Fast linear classifiers on sparse data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "fetch", help="download (if missing) and verify named LIBSVM data sets")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="e.g. a9a, a5a, w8a, dna")
    _data_home_option(fetch)
    fetch.set_defaults(run=_fetch)

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
    bench.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    bench.set_defaults(run=_bench)
    return parser


def main(argv=None):
    """Run the command line; return the exit status.

    A user's mistake (bad argument, missing or malformed file, unknown data set)
    prints one line to stderr and returns 1, without a traceback.
    """
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (ImportError, OSError, ValueError) as error:
        print(f"fasttext-lin {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"fasttext-lin {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

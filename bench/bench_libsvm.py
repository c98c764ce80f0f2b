"""The reference protocol on LIBSVM sets: LinearClassifier against liblinear.

3-fold CV over C, refit at C*, test accuracy, fit times at C* (compile time apart), and the
primal objective against liblinear; see ``fasttext_lin/cli/bench_protocol.py`` for the protocol.

Usage::

    FASTTEXT_LIN_DATA=../shared/data python bench/bench_libsvm.py [--sets a1a a9a] \
        [--repeats 5] [--out bench/results]

Without ``--sets``: a1a, a9a and a5a, each only if its files are already in the data folder
(a set that is missing is skipped with the reason). Named sets are downloaded when missing.
Writes ``libsvm.json``, ``libsvm.md`` and ``libsvm.png`` to ``--out``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import arguments, parse  # noqa: E402

DEFAULT_SETS = ("a1a", "a9a", "a5a")


def main(argv=None):
    parser = arguments(__doc__, stem="libsvm", repeats=5, data=True)
    parser.add_argument("--sets", nargs="+", help="LIBSVM set names (default: a1a a9a a5a, "
                        "those present)")
    args = parse(parser, argv)
    from fasttext_lin.cli.bench_protocol import run_libsvm_benchmark
    from fasttext_lin.cli.bench_report import format_table, write_results

    # Default sets are only read from disk (fetch_libsvm(..., download=False)): a missing one
    # is skipped, with the reason printed and kept in the results. Named sets may download.
    results = run_libsvm_benchmark(args.sets or DEFAULT_SETS, repeats=args.repeats,
                                   download=bool(args.sets))
    write_results(results, args.out)
    if not any("models" in result for result in results["sets"].values()):
        print("no data set could be read: set FASTTEXT_LIN_DATA to the folder that holds "
              "libsvm/a1a, libsvm/a9a ...", file=sys.stderr)
        return 1
    print(format_table(results))
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

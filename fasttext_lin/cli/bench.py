"""The ``fetch`` and ``bench`` commands: named LIBSVM sets, and the reference protocol on them
(:mod:`fasttext_lin.cli.bench_protocol`, loaded by ``bench`` only)."""

import os
import sys


def fetch(args):
    """``fetch``: download (if missing) and verify named LIBSVM sets."""
    from ..datasets import fetch_libsvm

    for name in args.names:
        data = fetch_libsvm(name, data_home=args.data_home)
        print(f"{name}: train {data.X_train.shape[0]} rows ({data.train_path}), "
              f"test {data.X_test.shape[0]} rows ({data.test_path}), "
              f"{data.n_features} features")
    return 0


def bench(args):
    """``bench``: the LIBSVM reference protocol; its tables on stdout, files with ``--out``."""
    from .bench_protocol import run_libsvm_benchmark
    from .bench_report import format_table, write_results

    if args.out and os.path.exists(args.out):
        from .._io import check_output_path

        # Before the long run: a folder whose results file can be written (write_results
        # creates a missing folder).
        if not os.path.isdir(args.out):
            raise ValueError(f"--out {args.out}: not a folder; give a folder for the results")
        check_output_path(os.path.join(args.out, "libsvm.json"), what="results file")
    progress = (lambda message: print(message, file=sys.stderr)) if not args.quiet else None
    results = run_libsvm_benchmark(
        args.names, repeats=args.repeats, progress=progress, grid=args.grid,
        data_home=args.data_home, jit=not args.no_jit, max_epochs=args.max_epochs,
    )
    print(format_table(results))
    if args.out:
        for path in write_results(results, args.out):
            if not args.quiet:
                print(f"wrote {path}", file=sys.stderr)
    skipped = [f"{name}: {result['skipped']}" for name, result in results["sets"].items()
               if "skipped" in result]
    if skipped:
        # The sets that ran are printed, but the run is incomplete: not a success.
        raise ValueError(f"{len(skipped)} of {len(results['sets'])} set(s) skipped, no results "
                         f"for them: {'; '.join(skipped)}")
    return 0


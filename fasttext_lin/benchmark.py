"""Former home of the LIBSVM reference protocol, now :mod:`fasttext_lin.cli.bench_protocol`
(tables and files: :mod:`fasttext_lin.cli.bench_report`).

No module of the package imports this one: it forwards the names of the old module, for the
scripts in ``bench/`` written against it, until they import from the new homes.
"""

import importlib

_HOMES = ("fasttext_lin.cli.bench_protocol", "fasttext_lin.cli.bench_report")


def __getattr__(name):
    for home in _HOMES:
        module = importlib.import_module(home)
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Where a command's time goes (``--verbose``), and a first run's Numba compilation told apart
from the work: the compiler lock's time, and the package's dispatchers' cache hits and misses."""

import contextlib
import os
import sys
import time

_PACKAGE = __package__.split(".")[0]


class Timings:
    """Wall time of a command's stages, printed to stderr as ``time: <stage>: ...`` lines.

    Parameters
    ----------
    verbose : bool
        Print the lines at :meth:`report`; otherwise only measure.
    quiet : bool, default=False
        Without ``verbose``: no ``compiling kernels`` line either.

    Attributes
    ----------
    compiled : bool
        Whether the last :meth:`kernels` block compiled kernels (rather than load them from
        Numba's cache): the command's time lines then leave that time out.
    """

    def __init__(self, verbose, quiet=False):
        self.verbose, self.quiet = verbose, quiet
        self.lines = []
        self.compiled = False
        self._lock_timer = None

    def kernel_seconds(self):
        """Seconds the last :meth:`kernels` block has held Numba's compiler lock so far."""
        timer = self._lock_timer
        return timer.duration if timer is not None and timer.done else 0.0

    def without_compile(self, seconds, kernel_seconds):
        """``seconds`` less ``kernel_seconds`` if the last :meth:`kernels` block compiled
        (the compilation is reported apart); a cache load stays in."""
        return seconds - kernel_seconds if self.compiled else seconds

    @contextlib.contextmanager
    def __call__(self, stage):
        start = time.perf_counter()
        yield
        self.lines.append(f"{stage}: {time.perf_counter() - start:.3f} s")

    @contextlib.contextmanager
    def imports(self):
        """Time the command's imports; with /proc, from the start of the Python process."""
        start = time.perf_counter()
        yield
        since_start = _process_age()
        if since_start is None:
            self.lines.append(f"import: {time.perf_counter() - start:.3f} s (this command's "
                              "imports)")
        else:
            self.lines.append(f"import: {since_start:.3f} s (Python start and all imports, "
                              "since the process started)")

    @contextlib.contextmanager
    def kernels(self, stage="train"):
        """Split the time of the block into Numba compile or cache load, and ``stage``.

        The compile or cache load time is the time Numba holds its compiler lock (the
        ``numba:compiler_lock`` event); the package's dispatchers' cache hits and misses
        and the ``numba:compile`` events say which of the two it was. A compilation is
        noted in :attr:`compiled` and, without ``verbose`` (whose lines say it) or
        ``quiet``, reported on stderr as it ends: a first run's wait is not a slow command.
        """
        from numba.core import event

        before = _kernel_cache_stats()
        start = time.perf_counter()
        # A listener read as the block runs (install_timer reports only at its end).
        self._lock_timer = event.TimingListener()
        with event.install_listener("numba:compiler_lock", self._lock_timer), \
                event.install_recorder("numba:compile") as compiles:
            yield
        total = time.perf_counter() - start
        kernels = self.kernel_seconds()
        hits, misses = (after - earlier for after, earlier in
                        zip(_kernel_cache_stats(), before))
        n_compiles = sum(1 for _, ev in compiles.buffer if ev.is_start)
        what = ("compile" if misses or n_compiles else "cache load") if kernels else "none"
        self.compiled = what == "compile"
        if self.compiled:
            if not (self.verbose or self.quiet):
                print(f"compiling kernels, first run only: {kernels:.1f} s", file=sys.stderr)
        self.lines.append(f"kernels: {kernels:.3f} s {what} ({hits} loaded from Numba's cache, "
                          f"{misses} compiled; {n_compiles} numba:compile events)")
        self.lines.append(f"{stage}: {total - kernels:.3f} s (without the kernels' compile or "
                          "cache load)")

    def report(self):
        """Print the lines to stderr, and the whole wall time so far, if verbose."""
        if not self.verbose:
            return
        age = _process_age()
        lines = self.lines + ([f"total: {age:.3f} s since the process started"]
                              if age is not None else [])
        print("\n".join("time: " + line for line in lines), file=sys.stderr)


def _process_age():
    """Seconds since this process started (Linux /proc, 10 ms steps), or None."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            # Field 22, counted after the command name, which may hold spaces.
            ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _kernel_cache_stats():
    """``(cache hits, cache misses)`` summed over the package's Numba dispatchers."""
    hits = misses = 0
    for dispatcher in package_dispatchers().values():
        hits += sum(dispatcher.stats.cache_hits.values())
        misses += sum(dispatcher.stats.cache_misses.values())
    return hits, misses


def package_dispatchers():
    """Every Numba dispatcher defined in a loaded ``fasttext_lin`` module, by qualified name."""
    from numba.core.dispatcher import Dispatcher

    found = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] != _PACKAGE or module is None:
            continue
        for name, value in vars(module).items():
            if isinstance(value, Dispatcher) and value.py_func.__module__ == module_name:
                found[f"{module_name}.{name}"] = value
    return found


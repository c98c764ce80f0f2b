"""The names the scripts not yet on ``_harness`` import."""

from _harness import git_state, reset_peak, status_kib, write_bench_results  # noqa: F401
from _harness import save_png as save_png_atomic  # noqa: F401
from _harness import write_text as write_atomic  # noqa: F401

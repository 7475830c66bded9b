"""Backends: where the iterations of a run are simulated.

A run is a set of iteration ranges. Every draw is keyed by Philox on (seed,
iteration, variable), so a range gives the same numbers wherever it runs, and it
yields mergeable totals (:class:`pmosim.layout.Totals`: integer counts, histograms,
fixed-point sums and exact extremes) plus its per-iteration rows
(:class:`pmosim.layout.Rows`). A backend maps ranges to totals and merges them; the
merged totals, hence the results, are the same bits on any backend, worker count,
thread count or range size. Ranges start at multiples of ``SUPER`` iterations.

- ``"threads"`` (:mod:`.threads`, the default): the kernels on this process's
  threads (they release the GIL).
- ``"dask"`` (:mod:`.dask`, ``pip install 'pmosim[dask]'``): ranges as tasks on a
  Dask distributed cluster, a ``LocalCluster`` unless a scheduler is given.

A new backend implements :class:`Backend` (``run`` and ``close``) and runs
:func:`simulate_range` (or the kernel driver itself) on its ranges.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Protocol

import numpy as np

from ..layout import Grid, KernelModel, Rows, Span, Totals, new_rows, new_totals

BACKENDS = ("threads", "dask")


class RangeJob(NamedTuple):
    """Everything a range of iterations needs, shipped once to every worker."""

    kernel: KernelModel
    grid: Grid
    k0: np.uint64
    k1: np.uint64
    n_bins: int               # finish-histogram bins (without the two open-ended ones)
    keep: bool                # also return per-iteration durations, starts and finishes
    n_corr_rows: int          # iterations 0 .. n_corr_rows - 1 record correlated durations
    sources: str = ""         # kernel-sources digest of the submitting process ("" = unchecked)
    sens: bool = False        # stream the sensitivity sums and critical-path hashes
    n_sample_rows: int = 0    # with sens: iterations 0 .. n_sample_rows - 1 keep their
                              # durations, task costs and critical flags

    def span(self, it_start, n_iter, chunk, slot=0, n_slots=1) -> Span:
        return Span(self.k0, self.k1, np.int64(it_start), np.int64(n_iter), np.int64(chunk),
                    np.int64(slot), np.int64(n_slots))

    def new_totals(self) -> Totals:
        k = self.kernel
        return new_totals(k.n_tasks, self.n_bins, k.n_rstat, k.cost_on, k.n_res,
                          self.n_costed)

    @property
    def n_costed(self) -> int:
        """Costed tasks of a run with sensitivity (0 without costs); -1 without sensitivity."""
        if not self.sens:
            return -1
        return int(self.kernel.costs.cost_pos.shape[0]) if self.kernel.cost_on else 0

    def new_rows(self, it_start, n_iter) -> Rows:
        k = self.kernel
        n_corr = max(0, min(self.n_corr_rows - it_start, n_iter))
        n_sample = max(0, min(self.n_sample_rows - it_start, n_iter))
        return new_rows(n_iter, k.n_tasks, k.cost_on, self.keep, n_corr,
                        k.draws.corr_pos.shape[0], k.levelling is not None, n_sample,
                        self.n_costed)


def simulate_range(job: RangeJob, it_start: int, n_iter: int) -> tuple[Totals, Rows]:
    """Totals and rows of iterations ``it_start .. it_start + n_iter - 1`` on this thread.

    A job that carries the submitting process's kernel-sources digest is refused by a
    process whose kernels differ (another pmosim version on a Dask worker): it would
    give other numbers without a word.
    """
    from ..kernels.driver import run_span

    if job.sources and job.sources != kernel_sources():
        import platform

        from .. import __version__
        from ..errors import SimulationError
        raise SimulationError(
            f"this worker ({platform.node()}) runs pmosim {__version__} with other simulation "
            f"kernels than the process that submitted the run; install the same pmosim "
            f"version on every Dask worker")

    totals, rows = job.new_totals(), job.new_rows(it_start, n_iter)
    chunk = max(n_iter, 1)
    run_span(*job.kernel.stages(), job.grid, job.span(it_start, n_iter, chunk), totals, rows)
    return totals, rows


def kernel_sources() -> str:
    """The digest of this installation's kernel sources (see kernels._cache)."""
    global _SOURCES
    if _SOURCES is None:
        from ..kernels._cache import sources_digest
        _SOURCES = sources_digest()
    return _SOURCES


_SOURCES = None

Progress = Callable[[int, int], None]


class Backend(Protocol):
    """Runs iterations ``0 .. n_iter - 1`` of a job; see the module docstring."""

    name: str

    def run(self, job: RangeJob, n_iter: int, progress: Progress | None) -> tuple[Totals, Rows]:
        ...

    def close(self) -> None:
        ...


def get_backend(backend, *, threads=None, chunk=None, scheduler=None) -> Backend:
    """The :class:`Backend` for ``backend`` (a name, or a backend object as it is)."""
    from ..errors import SimulationError

    if not isinstance(backend, str):
        return backend
    if backend == "threads":
        if scheduler is not None:
            raise SimulationError("scheduler= is for backend='dask'; the threads backend "
                                  "runs on this machine")
        from .threads import ThreadsBackend
        return ThreadsBackend(threads=threads, chunk=chunk)
    if backend == "dask":
        if threads is not None:
            raise SimulationError("threads= is for backend='threads'; a Dask cluster's "
                                  "workers have their own threads (dask worker --nthreads)")
        from .dask import DaskBackend
        return DaskBackend(scheduler=scheduler, chunk=chunk)
    raise SimulationError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


__all__ = ["BACKENDS", "Backend", "RangeJob", "get_backend", "simulate_range"]

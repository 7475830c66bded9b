"""The threads backend: the kernels on this process's threads (the default).

Each block of iterations is cut into chunks; thread ``s`` of ``n`` runs the kernel
driver on chunks ``s, s + n, ...`` into its own totals, which are merged when the
block is done. The kernels release the GIL, so the threads run in parallel.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

from ..layout import SUPER, merge_totals, rows_slice
from . import RangeJob

#: Default iterations per chunk handed to a thread.
DEFAULT_CHUNK = 1024


def default_threads() -> int:
    """numba's thread count: the CPU count unless NUMBA_NUM_THREADS says otherwise."""
    import numba
    return numba.config.NUMBA_NUM_THREADS


class ThreadsBackend:
    """Simulate on ``threads`` threads of this process (default: all CPUs)."""

    name = "threads"

    def __init__(self, threads: int | None = None, chunk: int | None = None):
        limit = default_threads()
        if threads is not None and not 1 <= threads <= limit:
            from ..errors import SimulationError
            raise SimulationError(f"threads must be between 1 and {limit}, got {threads}")
        self.threads = limit if threads is None else threads
        chunk = DEFAULT_CHUNK if chunk is None else chunk
        # a multiple of SUPER: super-blocks then always hold the same iterations
        self.chunk = -(-chunk // SUPER) * SUPER

    def run(self, job: RangeJob, n_iter, progress=None):
        from ..kernels.driver import run_span

        stages = job.kernel.stages()
        totals, rows = job.new_totals(), job.new_rows(0, n_iter)
        n_slots, chunk = self.threads, self.chunk
        # a multiple of the chunk, so every lane block stays aligned
        block = n_iter if progress is None else \
            chunk * max(n_slots, math.ceil(n_iter / 100 / chunk))
        pool = ThreadPoolExecutor(n_slots, thread_name_prefix="pmosim") if n_slots > 1 else None
        try:
            for b0 in range(0, n_iter, block):
                b1 = min(b0 + block, n_iter)
                block_rows = rows_slice(rows, b0, b1)
                slots = [job.new_totals() for _ in range(n_slots)]

                def one(s, b0=b0, b1=b1, block_rows=block_rows, slots=slots):
                    run_span(*stages, job.grid, job.span(b0, b1 - b0, chunk, s, n_slots),
                             slots[s], block_rows)

                if pool is None:
                    one(0)
                else:
                    for future in [pool.submit(one, s) for s in range(n_slots)]:
                        future.result()
                for t in slots:
                    merge_totals(totals, t)
                if progress is not None:
                    progress(b1, n_iter)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return totals, rows

    def close(self):
        pass

"""The Dask backend: iteration ranges as tasks on a Dask distributed cluster.

Without a scheduler address it starts a ``LocalCluster`` on this machine (one
single-threaded worker process per CPU) for as long as the backend is open; with
one (``tcp://host:8786``, from ``dask scheduler``, workers from ``dask worker``) it
uses that cluster, so the same call scales from a laptop to many machines.

The compiled model is scattered to every worker once; each range is a task
(:func:`pmosim.backends.simulate_range`, a pure function) whose result is its totals and rows. The
ranges' totals are merged on the workers in a fixed pairwise tree, so one set of totals
comes back to the client; each range's rows come back as it completes. Ranges
start at multiples of SUPER iterations, so the merged totals are the same bits as
the threads backend's for any worker count and range size. A worker that dies in
the middle of a run takes its ranges with it; the scheduler runs them again on
another worker (its nanny restarts it), and since a range is a pure function of
(model, seed, first iteration, count) the result is unchanged. Each worker process
compiles (or loads from numba's cache) the kernels once, on its first range.

Requires ``pip install 'pmosim[dask]'`` (``dask[distributed]``).
"""

from __future__ import annotations

import math
import os

from ..errors import SimulationError
from ..layout import SUPER, copy_totals, merge_totals
from . import RangeJob, simulate_range

#: Ranges per worker when the range size is not given: enough for balance and for a
#: lost worker's share to be redone in small pieces, few enough that each range's
#: totals (n_tasks x 256 histogram columns x 8 bytes) are worth their transfer.
RANGES_PER_WORKER = 4
#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 10


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SimulationError(
            "backend 'dask' needs Dask distributed, which is not installed: "
            "pip install 'pmosim[dask]'") from None
    return distributed


class DaskBackend:
    """Simulate on a Dask cluster: ``scheduler`` is an address, a ``distributed.Client``,
    or None for a ``LocalCluster`` started for this backend and closed with it.
    ``chunk`` is the range size (iterations, rounded up to a multiple of SUPER; default: about
    :data:`RANGES_PER_WORKER` ranges per worker)."""

    name = "dask"

    def __init__(self, scheduler=None, chunk: int | None = None, n_workers: int | None = None):
        self.scheduler = scheduler
        # ranges must start at multiples of SUPER for the results to be the same bits
        self.chunk = None if chunk is None else -(-chunk // SUPER) * SUPER
        self.n_workers = n_workers
        self._client = None
        self._cluster = None
        self._owns_client = False

    @property
    def client(self):
        """The ``distributed.Client`` (connecting or starting the cluster on first use)."""
        if self._client is None:
            self._connect()
        return self._client

    def _connect(self):
        distributed = _distributed()
        if isinstance(self.scheduler, distributed.Client):
            self._client = self.scheduler
            return
        if self.scheduler is None:
            n = self.n_workers or os.cpu_count() or 1
            self._cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            self._client = distributed.Client(self._cluster)
        else:
            address = str(self.scheduler)
            try:
                self._client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise SimulationError(
                    f"cannot reach the Dask scheduler at {address!r} ({exc}); start one with "
                    f"'dask scheduler' and workers with 'dask worker ADDRESS', or leave the "
                    f"scheduler out to run on a local cluster") from None
        self._owns_client = True

    def workers(self) -> int:
        """Workers the scheduler knows now (at least 1)."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def range_size(self, n_iter: int) -> int:
        if self.chunk is not None:
            return self.chunk
        per = math.ceil(n_iter / (RANGES_PER_WORKER * self.workers()))
        return max(SUPER, -(-per // SUPER) * SUPER)

    def run(self, job: RangeJob, n_iter, progress=None):
        distributed = _distributed()
        client = self.client
        size = self.range_size(n_iter)
        from . import kernel_sources
        # keys unique to this run (pure=False, hash=False): a run's clean-up cancels its own
        # futures, and with content-derived keys a cancel still in flight could take a
        # later run's identical key with it (seen as a hang under load)
        [job_f] = client.scatter([job._replace(sources=kernel_sources())], broadcast=True,
                                 hash=False)
        ranges = [client.submit(simulate_range, job_f, a, min(size, n_iter - a), pure=False)
                  for a in range(0, n_iter, size)]
        # the totals are merged on the cluster, pairwise in a fixed tree, so only one set
        # (n_tasks x 256 histogram columns) comes back, not one per range; the rows of
        # each range come back as it completes
        level = [client.submit(_totals_of, r, pure=False) for r in ranges]
        merges = []
        while len(level) > 1:
            level = [client.submit(_merged, level[i], level[i + 1], pure=False)
                     if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
            merges += level
        row_parts = {client.submit(_rows_of, r, pure=False): k * size
                     for k, r in enumerate(ranges)}
        rows = job.new_rows(0, n_iter)
        done = 0
        try:
            for future, part_rows in distributed.as_completed(row_parts, with_results=True):
                _place_rows(rows, part_rows, row_parts[future])
                done += part_rows.finish.shape[0]
                if progress is not None:
                    progress(done, n_iter)
            totals = level[0].result()
        except distributed.client.FutureCancelledError as exc:
            raise SimulationError(f"the Dask run was cancelled: {exc}") from None
        except distributed.KilledWorker as exc:
            raise SimulationError(
                f"Dask workers kept dying while running a range of iterations ({exc}); "
                f"check the workers' memory limit and logs") from None
        finally:
            # dropping the futures releases their keys; Client.cancel is not used: it
            # recurses into dependents, and two cancelled ranges that share a merge make
            # the scheduler assert and drop the client (distributed 2026.8)
            del ranges, row_parts, merges, level, job_f
        return totals, rows

    def close(self):
        if self._owns_client and self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None
        self._owns_client = False


def _totals_of(result):
    return result[0]


def _rows_of(result):
    return result[1]


def _merged(a, b):
    """The totals of two ranges merged, as new arrays (task inputs stay untouched)."""
    out = copy_totals(a)
    merge_totals(out, b)
    return out


def _place_rows(rows, part, a):
    """Copy the rows of a range that starts at iteration ``a`` into the run's rows."""
    b = a + part.finish.shape[0]
    rows.finish[a:b] = part.finish
    if rows.cost.shape[0]:
        rows.cost[a:b] = part.cost
    if rows.free.shape[0]:
        rows.free[a:b] = part.free
    if rows.dur.shape[0]:
        rows.dur[a:b] = part.dur
        rows.es[a:b] = part.es
        rows.ef[a:b] = part.ef
    if part.corr.shape[0]:
        rows.corr[a:a + part.corr.shape[0]] = part.corr
    if rows.path.shape[0]:
        rows.path[a:b] = part.path
    if part.sdur.shape[0]:
        s = part.sdur.shape[0]
        rows.sdur[a:a + s] = part.sdur
        rows.scost[a:a + s] = part.scost
        rows.scrit[a:a + s] = part.scrit

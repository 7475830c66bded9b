"""The Dask backend against the threads backend on one large run.

Runs ``pmosim.simulate`` on a layered network (default 10,000 tasks x 1,000,000
iterations) with the threads backend (``--threads``, default 2) and then on a
``LocalCluster`` of ``--workers`` single-threaded worker processes (default 2), checks
that both give the same bits, and prints each wall time, the throughput, the Dask
efficiency (threads time / Dask time on the same cores), the number and size of the
ranges, the bytes each range sends back (its totals and rows) and the time one range
takes on one worker. Those last figures are what a larger cluster scales with (see
docs/architecture.md).

    python benchmarks/dask_throughput.py [--tasks N] [--iterations N] [--workers N]
"""

import argparse
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--range-size", type=int, default=None)
    args = parser.parse_args()

    import distributed

    import pmosim
    from pmosim.backends import simulate_range
    from pmosim.backends.dask import DaskBackend
    from pmosim.synthetic import layered_network

    project = layered_network(args.tasks, seed=0)
    pmosim.simulate(project, 512, seed=1, threads=args.threads)   # load the kernels
    t0 = time.perf_counter()
    a = pmosim.simulate(project, args.iterations, seed=1, threads=args.threads)
    t_threads = time.perf_counter() - t0

    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    backend = DaskBackend(scheduler=client, chunk=args.range_size)
    pmosim.simulate(project, 1024, seed=1, backend=backend)     # workers load the kernels
    t0 = time.perf_counter()
    b = pmosim.simulate(project, args.iterations, seed=1, backend=backend)
    t_dask = time.perf_counter() - t0
    same = (np.array_equal(a.finish.samples.view(np.int64), b.finish.samples.view(np.int64))
            and np.array_equal(a.tasks.finish_hist, b.tasks.finish_hist)
            and np.array_equal(a.tasks.finish_mean, b.tasks.finish_mean))

    # one range alone on one worker: its compute time and what it sends back
    size = backend.range_size(args.iterations)
    from pmosim import engine
    job = engine._prepare(project, args.iterations, 1, "pre")
    from pmosim.backends import RangeJob
    from pmosim.layout import identity_grid
    rj = RangeJob(job.compiled.kernel, identity_grid(project.n_tasks), job.key[0], job.key[1],
                  engine.HISTOGRAM_BINS, False, 0)
    [rj_f] = client.scatter([rj], broadcast=True)
    t0 = time.perf_counter()
    totals, rows = client.submit(simulate_range, rj_f, 0, size, pure=False).result()
    t_range = time.perf_counter() - t0
    sent = sum(x.nbytes for x in totals) + sum(x.nbytes for x in rows)
    client.close()
    cluster.close()

    work = args.tasks * args.iterations
    n_ranges = -(-args.iterations // size)
    print(f"{args.tasks:,} tasks x {args.iterations:,} iterations; results identical: {same}")
    print(f"threads backend, {args.threads} threads: {t_threads:8.2f} s  "
          f"{work / t_threads / 1e6:7.1f} M task-it/s")
    print(f"dask backend, {args.workers} workers:  {t_dask:8.2f} s  "
          f"{work / t_dask / 1e6:7.1f} M task-it/s  efficiency {t_threads / t_dask:.3f}")
    print(f"ranges: {n_ranges} of {size:,} iterations; one range on one worker "
          f"{t_range:.2f} s ({size * args.tasks / t_range / 1e6:.1f} M task-it/s, incl. "
          f"scheduling and transfer); sent back per range {sent / 2**20:.1f} MiB "
          f"(totals {sum(x.nbytes for x in totals) / 2**20:.1f} MiB, rows "
          f"{sum(x.nbytes for x in rows) / 2**20:.2f} MiB); model scattered once: "
          f"{sum(x.nbytes for s in rj.kernel[:5] for x in s if isinstance(x, np.ndarray)) / 2**20:.1f} MiB")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Many Dask runs in a row on one LocalCluster, to catch hangs and lost futures.

Runs ``pmosim.simulate`` ``--runs`` times (default 40) on a 2-worker LocalCluster with
rotating range sizes, each with a deadline; on a run that does not finish in time it
prints the scheduler's task states and exits 1. Run it under CPU load (another busy
process) to widen race windows: that is how the cancel bug fixed in 6c326a0 showed.

    python benchmarks/dask_stress.py [--runs 40] [--deadline 40]
"""

import argparse
import os
import sys
import threading

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--deadline", type=float, default=40.0)
    args = parser.parse_args()

    import distributed

    import pmosim
    from pmosim.backends.dask import DaskBackend
    from pmosim.synthetic import layered_network

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    project = layered_network(60, seed=3)
    ids = project.tasks
    project.add_risk("late", 0.3, ids[5:9], schedule_impact=pmosim.Triangular(1, 3, 8))
    want = pmosim.simulate(project, 5_000, seed=21, threads=1).finish.samples
    for i in range(args.runs):
        done = threading.Event()
        out = {}

        def go(i=i, out=out, done=done):
            backend = DaskBackend(scheduler=client, chunk=(None, 512, 1536)[i % 3])
            out["finish"] = pmosim.simulate(project, 5_000, seed=21, backend=backend).finish.samples
            done.set()

        threading.Thread(target=go, daemon=True).start()
        if not done.wait(args.deadline):
            print(f"run {i}: no result after {args.deadline} s", flush=True)
            states = client.run_on_scheduler(
                lambda dask_scheduler: {k: str(ts.state) for k, ts in dask_scheduler.tasks.items()})
            print(states, flush=True)
            os._exit(1)
        same = np.array_equal(out["finish"].view(np.int64), want.view(np.int64))
        print(f"run {i}: ok, same bits as threads: {same}", flush=True)
        if not same:
            os._exit(1)
    client.close()
    cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of ``pmosim.simulate`` on 10,000 tasks x 1,000,000 iterations.

Run as ``python benchmarks/memory_10k_x_1m.py [--tasks N] [--iterations N] [--threads N]``
(a few minutes on 2 cores). It prints the resident set size after building the
network, the peak resident set size of the whole process (``ru_maxrss``, which
includes Python, numba and the networkx graph) and the increase that the
simulation caused. The target for the defaults is a peak below 1.5 GB.
"""

import argparse
import json
import resource
import time


def rss_mib(field="VmRSS"):
    """A memory field of /proc/self/status (VmRSS: now, VmHWM: peak) in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import pmosim
    from pmosim.synthetic import layered_network

    pmosim.simulate(layered_network(20, seed=0), 100, seed=0, threads=args.threads)  # load kernels
    project = layered_network(args.tasks, seed=0)
    before = rss_mib()
    peak_before = rss_mib("VmHWM")
    t0 = time.perf_counter()
    result = pmosim.simulate(project, args.iterations, seed=1, threads=args.threads)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report = {
        "tasks": args.tasks, "links": project.graph.number_of_edges(),
        "iterations": args.iterations, "threads": args.threads,
        "rss_before_simulate_mib": round(before, 1),
        "peak_rss_before_simulate_mib": round(peak_before, 1),
        "peak_rss_mib": round(peak, 1),
        "peak_increase_mib": round(peak - before, 1),
        "wall_s": round(wall, 1),
        "task_iterations_per_s": args.tasks * args.iterations / wall,
        "finish_mean": result.finish.mean,
        "target_mib": 1.5e9 / 2**20,
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""A/B: the same simulations on two source trees of pmosim, in alternating processes.

Each round starts one process per tree (the tree's ``src`` first on PYTHONPATH), which
loads the kernels on a small run, then times ``pmosim.simulate`` on each case (best
of ``--repeat``) and prints JSON. Rounds alternate A, B, B, A, ... so that drift in
the machine's load falls on both; the summary gives each case's median time per tree
and the median of the per-round ratios (B's speed over A's: > 1 means B is faster).

    python benchmarks/ab_trees.py OLD_REPO NEW_REPO [--rounds 6] [--threads 2]
        [--old-kwargs JSON] [--new-kwargs JSON]

``--old-kwargs``/``--new-kwargs`` pass keyword arguments to each tree's ``simulate``: the
same tree twice with ``--old-kwargs '{"sensitivity": false}'`` measures what an option
costs.

Cases: the engine benchmark's 1,000-task headline (100,000 iterations) and the feature
benchmark's plain, risks+drivers+correlation and cost models (1,000 tasks, 50,000
iterations), as in test_bench_engine.py and test_bench_features.py.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
import pmosim
from pmosim.synthetic import layered_network
from test_bench_features import _plain, _with_risks, _with_cost

threads, repeat, kwargs = {threads}, {repeat}, json.loads({kwargs!r})
cases = {{
    "headline 1,000 x 100k": (layered_network(1_000, seed=0), 100_000),
    "plain 1,000 x 50k": (_plain(), 50_000),
    "risks+drivers+correlation 1,000 x 50k": (_with_risks(), 50_000),
    "cost 1,000 x 50k": (_with_cost(), 50_000),
}}
out = {{}}
for name, (project, n) in cases.items():
    pmosim.simulate(project, 512, seed=1, threads=threads, **kwargs)    # load or compile
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        pmosim.simulate(project, n, seed=1, threads=threads, **kwargs)
        best = min(best, time.perf_counter() - t0)
    out[name] = best
print(json.dumps(out))
"""


def run_tree(repo: Path, threads: int, repeat: int, kwargs: str = "{}") -> dict:
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    code = CHILD.format(bench=str(Path(__file__).resolve().parent), threads=threads,
                        repeat=repeat, kwargs=kwargs)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=str(repo))
    if proc.returncode != 0:
        sys.exit(f"{repo}: failed\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old-kwargs", default="{}")
    parser.add_argument("--new-kwargs", default="{}")
    args = parser.parse_args()
    times = {"old": [], "new": []}
    for r in range(args.rounds):
        order = ("old", "new") if r % 2 == 0 else ("new", "old")
        for which in order:
            times[which].append(run_tree(getattr(args, which), args.threads, args.repeat,
                                         getattr(args, f"{which}_kwargs")))
            print(f"round {r + 1} {which}: " + ", ".join(
                f"{k} {v:.3f} s" for k, v in times[which][-1].items()), flush=True)
    print(f"\n{'case':<40} {'old median s':>13} {'new median s':>13} {'new/old speed':>14}")
    for case in times["old"][0]:
        old = [t[case] for t in times["old"]]
        new = [t[case] for t in times["new"]]
        ratio = statistics.median(o / n for o, n in zip(old, new))
        print(f"{case:<40} {statistics.median(old):13.3f} {statistics.median(new):13.3f} "
              f"{ratio:13.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

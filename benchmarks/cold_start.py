"""A new user's first minute: ``pmosim run`` on the bundled scenario, cold and warm.

Cold: an empty numba cache (a fresh NUMBA_CACHE_DIR per round), so every kernel the
scenario needs is compiled, as on a fresh install. Warm: the same cache again, so the
kernels load from disk. Each round is a separate process, timed as a whole (import,
compile or load, simulate, plots, JSON). Prints min / median / max wall seconds.

    python benchmarks/cold_start.py [--rounds 3] [--scenario PATH] [-- extra pmosim args]

The issue-14 targets on 2 cores: cold under 30 s, warm under 1.5 s.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def _time(cmd, env):
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, proc.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    pmosim = shutil.which("pmosim") or sys.exit("pmosim is not on PATH (pip install . first)")
    out = tempfile.mkdtemp(prefix="pmosim-cold-out-")
    cmd = [pmosim, "run", *([args.scenario] if args.scenario else []), "--out", out, "--seed", "1",
           *args.extra]
    cold, warm = [], []
    notice = ""
    for _ in range(args.rounds):
        cache = tempfile.mkdtemp(prefix="pmosim-cold-cache-")
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        seconds, stderr = _time(cmd, env)
        cold.append(seconds)
        notice = notice or next((line for line in stderr.splitlines() if "ompil" in line), "")
        warm.append(_time(cmd, env)[0])
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    for name, xs in (("cold", cold), ("warm", warm)):
        print(f"{name}: min {min(xs):6.2f} s  median {statistics.median(xs):6.2f} s  "
              f"max {max(xs):6.2f} s  ({len(xs)} rounds)")
    print(f"first compile notice on stderr: {notice!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

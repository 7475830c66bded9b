"""Where a cold compile of the simulation kernels spends its time.

Runs ``pmosim.simulate`` on the bundled default scenario with an empty numba cache
(a fresh temporary NUMBA_CACHE_DIR unless one is set) and prints, for every kernel
numba compiled, the wall seconds spent compiling it *excluding* the kernels it
triggered (exclusive) and including them (inclusive), largest first.

    python benchmarks/compile_profile.py [--iterations N] [--scenario PATH]
"""

import argparse
import os
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--scenario", default=None)
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="pmosim-nbcache-"))

    from numba.core import event

    stack, rows = [], {}

    class Listener(event.Listener):
        def on_start(self, ev):
            disp = ev.data["dispatcher"]
            stack.append([getattr(disp, "py_func", disp).__qualname__, time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, t0, child = stack.pop()
            total = time.perf_counter() - t0
            row = rows.setdefault(name, [0.0, 0.0, 0])
            row[0] += total - child
            row[1] += total
            row[2] += 1
            if stack:
                stack[-1][2] += total

    event.register("numba:compile", Listener())
    import pmosim
    from pmosim.io import load

    t0 = time.perf_counter()
    from importlib.resources import files
    project = load(args.scenario or str(files("pmosim") / "data" / "default.toml"))
    pmosim.simulate(project, args.iterations, seed=1)
    wall = time.perf_counter() - t0
    print(f"cache dir {os.environ['NUMBA_CACHE_DIR']}; simulate wall {wall:.1f} s")
    print(f"{'exclusive s':>12} {'inclusive s':>12} {'n':>3}  kernel")
    for name, (excl, incl, n) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
        print(f"{excl:12.2f} {incl:12.2f} {n:3d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

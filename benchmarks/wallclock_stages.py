"""Where the wall-clock kernel spends its time: each stage of ``passes_cal`` timed alone.

Run ``python benchmarks/wallclock_stages.py [--reps N]`` (SP10 from ../shared/data, planned
durations x Triangular(0.9, 1, 1.5) per lane). Prints nanoseconds per task-iteration for the forward pass,
the backward pass, the conversion to axis days and the whole ``passes_cal``, and for
comparison the axis kernel's forward + backward pass on the same network without its
calendars. A profiling aid, not a test: nothing is asserted.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from pmosim.compile import compile_project
from pmosim.io.xer import read_xer
from pmosim.kernels import LANES
from pmosim.kernels.passes import backward_pass, forward_pass
from pmosim.kernels.passes_cal import backward_pass_cal, forward_pass_cal, passes_cal, to_axis_days
from pmosim.kernels.work import N_SUB, make_work
from pmosim.kernels.worktime import M_N, META
from pmosim.layout import identity_grid

SP10 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "p6" / \
    "SP10 - COST LOADED.xer"


def _work(compiled, cal):
    """Work arrays with each lane's durations drawn from Triangular(0.9, 1, 1.5) x planned
    (lanes that differ reach different parts of the calendar tables, as a simulation's)."""
    k = compiled.kernel
    w = make_work(k.draws, None, None, cal, 0)
    rng = np.random.default_rng(1)
    for p in range(compiled.n_tasks):
        w.dur[p, :] = compiled.planned[p] * rng.triangular(0.9, 1.0, 1.5, LANES)
        w.dsb[p * N_SUB, :] = w.dur[p, :]     # sub-block 0, where a simulation's are
    for r in range(compiled.planned_lags.shape[0]):
        w.lag[r + 1, :] = compiled.planned_lags[r]
    return w


def _time(fn, reps):
    fn()
    best = []
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(reps):
            fn()
        best.append(time.process_time() - t0)
    return min(best) / reps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    project = read_xer(SP10)
    compiled = compile_project(project, wallclock=True)
    k = compiled.kernel
    cm = k.calendars
    grid = identity_grid(compiled.n_tasks)
    n = compiled.n_tasks
    sizes = [int(cm.cal_flat[c * META + M_N]) for c in range(len(cm.cal_hpd))]
    print(f"SP10: {n} tasks, {len(k.links.pred_idx)} links, calendars {len(sizes)}, "
          f"intervals per calendar {sizes}")
    w = _work(compiled, cm)
    per = n * LANES * 1e-9
    sub = np.int64(0)
    stages = {
        "forward_pass_cal": lambda: forward_pass_cal(k.links, None, cm, w, sub),
        "backward_pass_cal": lambda: backward_pass_cal(k.links, cm, w, np.bool_(False)),
        "to_axis_days x1": lambda: to_axis_days(cm, w.es.copy()),
    }
    forward_pass_cal(k.links, None, cm, w, sub)
    for name, fn in stages.items():
        print(f"{name:24s} {_time(fn, args.reps) / per:8.1f} ns per task-iteration")

    def whole():
        passes_cal(k.links, None, cm, grid, w, sub, np.int64(LANES), np.bool_(True), 0.0)
    print(f"{'passes_cal (simulation)':24s} {_time(whole, args.reps) / per:8.1f} ns per task-iteration")

    axis = read_xer(SP10)
    axis.meta = {key: v for key, v in project.meta.items() if key != "calendars"}
    ca = compile_project(axis, wallclock=False)
    wa = _work(ca, None)

    def axis_passes():
        forward_pass(ca.kernel.links, None, wa, sub)
        backward_pass(ca.kernel.links, None, grid, wa, np.int64(LANES), np.bool_(False), sub, 0.0)
    print(f"{'axis passes':24s} {_time(axis_passes, args.reps) / per:8.1f} ns per task-iteration")


if __name__ == "__main__":
    main()

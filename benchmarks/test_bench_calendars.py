"""What working calendars per task cost: the wall-clock kernel against the working-day axis.

The comparator is the same imported schedule (Primavera P6 ``SP10``: 4,006 tasks on
four calendars, constraints and progress) with its calendars removed, so that it runs
on the single working-day axis: same network, same durations, same process. Nothing
here asserts a time; the ratio is printed in the summary table.
"""

from functools import cache
from pathlib import Path

import pytest

import pmosim
from pmosim.distributions import Triangular
from pmosim.io.xer import read_xer

THREADS = 2
ITERATIONS = 2_000
ROUNDS = 2
SP10 = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "p6" / \
    "SP10 - COST LOADED.xer"


@cache
def _projects():
    if not SP10.exists():
        pytest.skip(f"{SP10} is absent (the real schedules live in ../shared/data)")
    wall = read_xer(SP10)
    for _, d in wall.graph.nodes(data=True):
        if d["status"] != "complete" and d["duration"].value > 0:
            v = d["duration"].value
            d["duration"] = Triangular(0.9 * v, v, 1.5 * v)
    axis = read_xer(SP10)
    axis.graph = wall.graph.copy()
    axis.meta = {k: v for k, v in wall.meta.items() if k != "calendars"}
    return {"wall clock": wall, "axis": axis}


@pytest.mark.parametrize("mode", ["axis", "wall clock"])
def test_calendars(benchmark, record_rate, mode):
    project = _projects()[mode]
    pmosim.simulate(project, 64, seed=1, threads=THREADS)      # compile outside the timing
    benchmark.group = "working calendars (SP10, 4,006 tasks)"
    benchmark.pedantic(pmosim.simulate, args=(project, ITERATIONS),
                       kwargs=dict(seed=1, threads=THREADS), rounds=ROUNDS, iterations=1)
    n = project.graph.number_of_nodes()
    record_rate("wall clock vs axis", "pmosim" if mode == "wall clock" else "numpy", n,
                project.graph.number_of_edges(), ITERATIONS, benchmark.stats.stats.min,
                note="'pmosim' is the wall-clock kernel, the 'numpy' column the same schedule "
                     "on the working-day axis; ratio < 1 is the slowdown")

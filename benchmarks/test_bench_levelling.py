"""Levelled simulation of PSPLIB J120 instances against a plain serial SGS (issue 15).

Run with ``pytest benchmarks/ --benchmark-only`` (see benchmarks/README.md). Each
instance gets triangular durations (0.8 d, d, 1.5 d around its PSPLIB duration d) and
keeps its four renewable resources. Before any timing, the comparator
(``comparator_levelling.py``: the textbook sorted-array SGS in numba) must schedule the
engine's own sampled durations exactly as the engine did (starts, finishes, finishes of
the iterations, bit for bit); that call also loads the compiled kernels, so no timed
round includes compilation. The unlevelled run of the same instance is timed too, for
reference. Rates are task-iterations per second of the best round; nothing here
asserts a time.
"""

from functools import cache
from pathlib import Path

import numpy as np
import pytest

import comparator_levelling
import pmosim

#: Threads of the engine and of the comparator (the target machine has 2 cores).
THREADS = 2
CHECK_ITERATIONS = 256
ENGINE_ITERATIONS = 100_000
#: The comparator is slower; its rate is per task-iteration, so it compares anyway.
COMPARATOR_ITERATIONS = 20_000
ROUNDS = 5
PSPLIB = Path(__file__).resolve().parents[2] / "shared" / "data" / "psplib" / "j120.sm"
#: j12010_1 is the headline; j1201_1 has one resource per task, j12060_3 all four.
INSTANCES = ["j12010_1", "j1201_1", "j12060_3"]
NOTE = ("J120 rows: 'pmosim' is simulate(levelling='serial') and its 'numpy' column the "
        "plain numba serial SGS of benchmarks/comparator_levelling.py; 'unlevelled' rows "
        "time the same instance without levelling")


def load(instance: str) -> pmosim.Project:
    """The instance, with its resources, and triangular durations (zero-duration dummies
    stay zero)."""
    path = PSPLIB / f"{instance}.sm"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the PSPLIB data lives in ../shared/data next to the "
                    "repository)")
    project = pmosim.load(path)
    for t in project.tasks:
        d = project.graph.nodes[t]["duration"].value
        project.graph.nodes[t]["duration"] = pmosim.Triangular(0.8 * d, d, 1.5 * d) if d > 0 else 0
    return project


@cache
def _instance(instance: str):
    project = load(instance)
    plan = comparator_levelling.compile_plan(project)
    _check_comparator(project, plan)
    return project, plan


def _check_comparator(project, plan):
    """The comparator must level the engine's sampled durations exactly as the engine."""
    res = pmosim.simulate(project, CHECK_ITERATIONS, seed=7, threads=THREADS,
                          levelling="serial", keep_samples=True)
    assert list(res.task_ids) == plan.task_ids
    starts, finishes, finish = comparator_levelling.schedule(plan, res.durations)
    np.testing.assert_array_equal(starts, res.starts)
    np.testing.assert_array_equal(finishes, res.finishes)
    np.testing.assert_array_equal(finish, res.finish.samples)


def _record(record_rate, benchmark, case, impl, project, iterations):
    seconds = benchmark.stats.stats.min
    n_tasks = project.n_tasks
    extra = {"note": NOTE} if (case, impl) == (f"J120 {INSTANCES[0]} levelled", "numpy") else {}
    record_rate(case, impl, n_tasks, project.graph.number_of_edges(), iterations, seconds,
                **extra)
    benchmark.extra_info["task_iterations_per_s"] = n_tasks * iterations / seconds


@pytest.mark.parametrize("instance", INSTANCES)
def test_pmosim_levelled(benchmark, record_rate, instance):
    project, _ = _instance(instance)
    benchmark.group = f"levelling {instance}"
    result = benchmark.pedantic(
        pmosim.simulate, args=(project, ENGINE_ITERATIONS),
        kwargs=dict(seed=1, threads=THREADS, levelling="serial"), rounds=ROUNDS, iterations=1)
    assert result.levelling is not None and result.iterations == ENGINE_ITERATIONS
    _record(record_rate, benchmark, f"J120 {instance} levelled", "pmosim", project,
            ENGINE_ITERATIONS)


@pytest.mark.parametrize("instance", INSTANCES)
def test_comparator(benchmark, record_rate, instance):
    project, plan = _instance(instance)
    benchmark.group = f"levelling {instance}"
    comparator_levelling.simulate(plan, 1_000, seed=0, threads=THREADS)
    finish = benchmark.pedantic(
        comparator_levelling.simulate, args=(plan, COMPARATOR_ITERATIONS),
        kwargs=dict(seed=1, threads=THREADS), rounds=ROUNDS, iterations=1)
    assert finish.shape == (COMPARATOR_ITERATIONS,)
    _record(record_rate, benchmark, f"J120 {instance} levelled", "numpy", project,
            COMPARATOR_ITERATIONS)


@pytest.mark.parametrize("instance", INSTANCES)
def test_pmosim_unlevelled(benchmark, record_rate, instance):
    project, _ = _instance(instance)
    benchmark.group = f"levelling {instance}"
    pmosim.simulate(project, 2_048, seed=1, threads=THREADS, levelling=False)
    result = benchmark.pedantic(
        pmosim.simulate, args=(project, ENGINE_ITERATIONS),
        kwargs=dict(seed=1, threads=THREADS, levelling=False), rounds=ROUNDS, iterations=1)
    assert result.levelling is None
    _record(record_rate, benchmark, f"J120 {instance} unlevelled", "pmosim", project,
            ENGINE_ITERATIONS)

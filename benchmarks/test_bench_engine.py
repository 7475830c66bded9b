"""pmosim.simulate against the vectorised numpy comparator on layered random networks.

Run with ``pytest benchmarks/ --benchmark-only`` (see benchmarks/README.md). Every
case first checks, on a few hundred iterations, that the comparator computes the
engine's starts, finishes, project finishes and critical counts from the engine's
own sampled durations; that call also loads the compiled kernels, so no timed
round includes compilation. Rates are task-iterations per second of the best
round; nothing here asserts a time.
"""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

import comparator
import pmosim
from pmosim.synthetic import layered_network

#: Threads of the engine (the target machine has 2 cores).
THREADS = 2
#: Threads of the comparator: numpy releases the GIL inside ufunc loops.
COMPARATOR_THREADS = 2
CHECK_ITERATIONS = 256


@dataclass(frozen=True)
class Case:
    label: str
    n_tasks: int
    engine_iterations: int
    numpy_iterations: int
    rounds: int


CASES = [
    Case("100 tasks", 100, 100_000, 100_000, 5),
    Case("1,000 tasks (headline)", 1_000, 100_000, 100_000, 3),
    # Fewer iterations and rounds keep the whole run to a few minutes on 2 cores;
    # rates are per task-iteration, so they compare across iteration counts.
    Case("10,000 tasks", 10_000, 10_000, 2_000, 2),
]


@cache
def _network(n_tasks):
    project = layered_network(n_tasks, seed=0)
    plan = comparator.compile_plan(project)
    _check_comparator(project, plan)
    return project, plan


def _check_comparator(project, plan):
    """The comparator must schedule the engine's sampled durations exactly as the engine."""
    res = pmosim.simulate(project, CHECK_ITERATIONS, seed=7, threads=THREADS, keep_samples=True)
    ref = comparator.schedule(plan, res.durations)
    np.testing.assert_allclose(ref.starts, res.starts, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ref.finishes, res.finishes, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ref.finish, res.finish.samples, rtol=0, atol=1e-9)
    engine_counts = np.rint(res.tasks.criticality * CHECK_ITERATIONS).astype(np.int64)
    np.testing.assert_array_equal(ref.critical_counts, engine_counts)


def _ids(case):
    return f"{case.n_tasks}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_pmosim(benchmark, record_rate, case):
    project, _ = _network(case.n_tasks)
    benchmark.group = case.label
    result = benchmark.pedantic(
        pmosim.simulate, args=(project, case.engine_iterations),
        kwargs=dict(seed=1, threads=THREADS), rounds=case.rounds, iterations=1)
    assert result.iterations == case.engine_iterations
    seconds = benchmark.stats.stats.min
    record_rate(case.label, "pmosim", case.n_tasks, project.graph.number_of_edges(),
                case.engine_iterations, seconds)
    benchmark.extra_info["task_iterations_per_s"] = case.n_tasks * case.engine_iterations / seconds


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_numpy_comparator(benchmark, record_rate, case):
    project, plan = _network(case.n_tasks)
    benchmark.group = case.label
    comparator.simulate(plan, 2 * comparator.default_block(case.n_tasks), seed=0,
                        threads=COMPARATOR_THREADS)
    result = benchmark.pedantic(
        comparator.simulate, args=(plan, case.numpy_iterations),
        kwargs=dict(seed=1, threads=COMPARATOR_THREADS), rounds=case.rounds, iterations=1)
    assert result.finish.shape == (case.numpy_iterations,)
    seconds = benchmark.stats.stats.min
    record_rate(case.label, "numpy", case.n_tasks, project.graph.number_of_edges(),
                case.numpy_iterations, seconds)
    benchmark.extra_info["task_iterations_per_s"] = case.n_tasks * case.numpy_iterations / seconds

"""What the uncertainty model and the cost model cost: slowdowns against the plain run.

The comparator is the same 1,000-task network simulated without the feature, in the
same process and session. Issue targets: risk register (50 risks, 5 drivers, a
20-task correlation group) under 2x; cost on under 1.3x. Nothing here asserts a time;
the ratios are printed in the summary table (``pytest benchmarks/ --benchmark-only``).
"""

from functools import cache

import numpy as np
import pytest

import pmosim
from pmosim.synthetic import layered_network

THREADS = 2
ITERATIONS = 50_000
ROUNDS = 3


@cache
def _plain():
    return layered_network(1_000, seed=0)


@cache
def _with_risks():
    p = layered_network(1_000, seed=0)
    rng = np.random.default_rng(5)
    ids = p.tasks
    for r in range(50):
        tasks = list(rng.choice(len(ids), size=rng.integers(1, 6), replace=False))
        impact = (pmosim.Triangular(1, 3, 10) if r % 3 else {"pct": pmosim.Uniform(5, 25)})
        p.add_risk(f"R{r}", float(rng.uniform(0.05, 0.5)), [ids[i] for i in tasks],
                   schedule_impact=impact)
    for d in range(5):
        tasks = list(rng.choice(len(ids), size=40, replace=False))
        p.add_driver(f"D{d}", 0.5, pmosim.Triangular(0.95, 1.0, 1.3), [ids[i] for i in tasks])
    group = list(rng.choice(len(ids), size=20, replace=False))
    p.add_correlation([ids[i] for i in group], 0.6)
    return p


@cache
def _with_cost():
    p = layered_network(1_000, seed=0)
    for i, t in enumerate(p.tasks):
        p.graph.nodes[t]["cost_rate"] = 1_000.0 + i % 7 * 100.0
        if i % 3 == 0:
            p.graph.nodes[t]["cost_fixed"] = pmosim.Triangular(5e3, 8e3, 2e4)
    p.cost_rate = 25_000.0
    return p


MODELS = {"plain": _plain, "risks+drivers+correlation": _with_risks, "cost": _with_cost}


@pytest.mark.parametrize("variant", list(MODELS))
def test_features(benchmark, record_rate, variant):
    project = MODELS[variant]()
    pmosim.simulate(project, 256, seed=1, threads=THREADS)      # compile outside the timing
    benchmark.group = "features (1,000 tasks)"
    benchmark.pedantic(pmosim.simulate, args=(project, ITERATIONS),
                       kwargs=dict(seed=1, threads=THREADS), rounds=ROUNDS, iterations=1)
    impl = "numpy" if variant == "plain" else "pmosim"
    case = "plain" if variant == "plain" else f"{variant} vs plain"
    seconds = benchmark.stats.stats.min
    record_rate(case, impl, 1_000, project.graph.number_of_edges(), ITERATIONS, seconds,
                note="feature rows: 'pmosim' is the model with the feature, 'numpy' column is "
                     "the plain run (same network, same process); ratio < 1 is the slowdown")
    if variant == "plain":
        for other in MODELS:
            if other != "plain":
                record_rate(f"{other} vs plain", "numpy", 1_000,
                            project.graph.number_of_edges(), ITERATIONS, seconds)


def _simulate_and_read_ranks(project, n, **kwargs):
    result = pmosim.simulate(project, n, **kwargs)
    result.sensitivity.cri_tau      # the rank measures are computed when first read
    return result


@pytest.mark.parametrize("variant", ["off", "on", "on+ranks"])
def test_sensitivity_cost(benchmark, record_rate, variant):
    """What the sensitivity stage costs (issue 16: under 1.3x of a plain run, else off by
    default): the plain model with ``sensitivity`` off, on (the default: streamed
    measures, paths, kept sample), and on with the rank measures read (Spearman and
    Kendall on the kept sample, computed on first read), same process."""
    project = _plain()
    on = variant != "off"
    run = _simulate_and_read_ranks if variant == "on+ranks" else pmosim.simulate
    pmosim.simulate(project, 256, seed=1, threads=THREADS, sensitivity=on)
    benchmark.group = "sensitivity stage (1,000 tasks)"
    benchmark.pedantic(run, args=(project, ITERATIONS),
                       kwargs=dict(seed=1, threads=THREADS, sensitivity=on),
                       rounds=ROUNDS, iterations=1)
    note = ("sensitivity rows: 'pmosim' is the run with the sensitivity stage (and with its "
            "rank measures read), 'numpy' the same run without it; ratio < 1 is the slowdown")
    seconds = benchmark.stats.stats.min
    n_links = project.graph.number_of_edges()
    if variant == "off":
        for case in ("sensitivity on vs off", "sensitivity+ranks vs off"):
            record_rate(case, "numpy", 1_000, n_links, ITERATIONS, seconds)
    else:
        case = "sensitivity on vs off" if variant == "on" else "sensitivity+ranks vs off"
        record_rate(case, "pmosim", 1_000, n_links, ITERATIONS, seconds, note=note)

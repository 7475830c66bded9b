"""The numba engine must equal the slow reference in tests/naive.py.

``pmosim.simulate(..., keep_samples=True)`` returns the durations it sampled;
naive.py schedules exactly those durations one iteration at a time and every
per-iteration start, finish, project finish and critical flag must agree
(atol 1e-9), as must the streaming statistics built from them.
"""

import json

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import pmosim
from pmosim import (
    Discrete, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen, Uniform,
)

import naive

ATOL = 1e-9
LINK_TYPES = ("FS", "SS", "FF", "SF")


def graph(tasks, links=()):
    """DiGraph from {id: duration} and (u, v, type, lag) tuples, nodes in dict order."""
    g = nx.DiGraph()
    for task_id, dur in tasks.items():
        g.add_node(task_id, duration=dur)
    for u, v, kind, lag in links:
        g.add_edge(u, v, type=kind, lag=lag)
    return g


def random_lag_samples(g, res):
    """Sampled lags of the random-lag links, rebuilt from the engine's documented keying.

    The key is ``SeedSequence(seed).generate_state(2, uint64)`` (engine.resolve_seed);
    the links whose lag is a non-Fixed distribution are the lag variables 0, 1, ... in
    graph edge order (compile.py: ``lag_edges``), drawn on stream ``STREAM_LAG`` and
    mapped through ``ppf`` without truncation.
    """
    from pmosim.kernels import rng
    k0, k1 = np.random.SeedSequence(res.seed).generate_state(2, np.uint64)
    iters = np.arange(res.iterations, dtype=np.int64)
    lags, row = {}, 0
    for u, v, data in g.edges(data=True):
        lag = data.get("lag", 0.0)
        if isinstance(lag, pmosim.Distribution) and not isinstance(lag, Fixed):
            lags[(u, v)] = lag.ppf(rng.uniforms(iters, row, rng.STREAM_LAG, k0, k1))
            row += 1
    return lags


def check_against_naive(g, iterations=64, seed=12345):
    res = pmosim.simulate(g, iterations, seed=seed, keep_samples=True)
    ids = list(res.task_ids)
    assert ids == list(g.nodes)
    assert res.iterations == iterations
    assert list(res.tasks.ids) == ids
    assert list(res.tasks.names) == [str(g.nodes[t].get("name", t)) for t in ids]
    assert res.durations.shape == res.starts.shape == res.finishes.shape == (iterations, len(ids))

    for j, t in enumerate(ids):
        dur = g.nodes[t]["duration"]
        col = res.durations[:, j]
        if isinstance(dur, (int, float)):
            assert_array_equal(col, float(dur))
        else:
            lo, hi = dur.support
            assert np.all(col >= max(lo, 0.0)) and np.all(col <= hi), (t, col.min(), col.max())

    ref = naive.simulate(g, ids, res.durations, random_lag_samples(g, res))
    assert_allclose(res.finish.samples, ref.finish, rtol=0, atol=ATOL)
    assert_allclose(res.starts, ref.starts, rtol=0, atol=ATOL)
    assert_allclose(res.finishes, ref.finishes, rtol=0, atol=ATOL)
    assert_allclose(res.finishes - res.starts, res.durations, rtol=0, atol=ATOL)

    counts = ref.critical_counts
    assert_array_equal(np.rint(np.asarray(res.tasks.criticality) * iterations), counts)
    assert_allclose(res.tasks.criticality, counts / iterations, rtol=0, atol=1e-12)
    assert set(res.criticality) == set(ids)
    for j, t in enumerate(ids):
        assert res.criticality[t] == pytest.approx(counts[j] / iterations, abs=1e-12)

    scale = max(1.0, float(np.abs(ref.finishes).max()))
    assert_allclose(res.tasks.start_mean, ref.starts.mean(axis=0), rtol=0, atol=ATOL * scale)
    assert_allclose(res.tasks.finish_mean, ref.finishes.mean(axis=0), rtol=0, atol=ATOL * scale)
    assert_std_either_ddof(res.tasks.start_std, ref.starts, scale)
    assert_std_either_ddof(res.tasks.finish_std, ref.finishes, scale)
    assert res.finish.mean == pytest.approx(ref.finish.mean(), abs=ATOL * scale)
    assert_std_either_ddof(np.atleast_1d(res.finish.std), ref.finish[:, None], scale)
    assert_allclose(res.finish.percentile([10, 50, 90]),
                    np.percentile(ref.finish, [10, 50, 90]), rtol=0, atol=ATOL * scale)
    # per-task streaming histogram quantiles: within one histogram bin (width 1 / hist_scale,
    # TaskStats) of the order statistics around q, whatever the quantile convention
    fin = np.sort(ref.finishes, axis=0)
    with np.errstate(divide="ignore"):
        width = 1.0 / np.asarray(res.tasks.hist_scale, dtype=float) + ATOL * scale
    for q in (10, 50, 90):
        k = q / 100 * (iterations - 1)
        lo = fin[max(int(np.floor(k)) - 1, 0)] - width
        hi = fin[min(int(np.ceil(k)) + 1, iterations - 1)] + width
        est = np.asarray(res.tasks.finish_percentile(q))
        assert np.all((est >= lo) & (est <= hi)), (q, est, lo, hi)
    return res, ref


def assert_std_either_ddof(got, samples, scale):
    """The contract does not fix ddof: accept the population or the sample std, exactly."""
    got = np.asarray(got, dtype=float)
    for ddof in (0, 1):
        if np.allclose(got, samples.std(axis=0, ddof=ddof), rtol=1e-7, atol=1e-7 * scale):
            return
    raise AssertionError(f"std {got} is neither ddof=0 {samples.std(axis=0)} "
                         f"nor ddof=1 {samples.std(axis=0, ddof=1)}")


def check_cpm(g):
    res = pmosim.cpm(g)
    ids = list(res.task_ids)
    assert ids == list(g.nodes)
    ref = naive.cpm(g)
    assert res.finish == pytest.approx(ref.finish, abs=ATOL)
    durations = np.array([naive.planned_duration(g.nodes[t]) for t in ids])
    assert_allclose(res.duration, durations, rtol=0, atol=ATOL)
    for ours, theirs in (("early_start", "early_start"), ("early_finish", "early_finish"),
                         ("late_start", "late_start"), ("late_finish", "late_finish"),
                         ("total_float", "total_float")):
        assert_allclose(getattr(res, ours), ref.array(theirs, ids), rtol=0, atol=ATOL,
                        err_msg=ours)
    assert_array_equal(np.asarray(res.critical, dtype=bool), ref.array("critical", ids))
    rows = res.rows()
    assert len(rows) == len(ids)
    json.dumps(res.to_dict(), allow_nan=False)
    return res, ref


# -- the reference itself, checked by hand ----------------------------------------------------

@pytest.mark.parametrize("links, durations, expected", [
    # (links, {task: duration}, {task: (ES, EF, LS, LF)}) worked out by hand
    ([("a", "b", "FS", 2)], {"a": 5, "b": 3},
     {"a": (0, 5, 0, 5), "b": (7, 10, 7, 10)}),
    ([("a", "b", "SS", 1)], {"a": 10, "b": 2},
     {"a": (0, 10, 0, 10), "b": (1, 3, 8, 10)}),
    ([("a", "b", "FF", 0)], {"a": 2, "b": 10},
     {"a": (0, 2, 8, 10), "b": (0, 10, 0, 10)}),
    ([("a", "b", "SF", 6)], {"a": 4, "b": 3},
     {"a": (0, 4, 0, 4), "b": (3, 6, 3, 6)}),
    ([("a", "b", "FS", -3)], {"a": 5, "b": 4},
     {"a": (0, 5, 0, 5), "b": (2, 6, 2, 6)}),
    ([("a", "b", "SS", -4)], {"a": 5, "b": 4},
     {"a": (0, 5, 0, 5), "b": (0, 4, 1, 5)}),
])
def test_naive_by_hand(links, durations, expected):
    s = naive.schedule(graph(dict.fromkeys(durations, 0), links), durations)
    for t, (es, ef, ls, lf) in expected.items():
        assert (s.early_start[t], s.early_finish[t], s.late_start[t], s.late_finish[t]) == (
            es, ef, ls, lf), t
        assert s.critical[t] == (ls == es)


def test_naive_tie_rule_absorbs_rounding():
    # 0.1 + 0.2 != 0.3 in floating point; the tie rule still calls all three critical.
    g = graph({"a": 0.1, "b": 0.2, "c": 0.3}, [("a", "b", "FS", 0)])
    s = naive.schedule(g, {"a": 0.1, "b": 0.2, "c": 0.3})
    assert s.total_float["c"] > 0
    assert all(s.critical.values())


# -- hand-built networks ---------------------------------------------------------------

HAND_BUILT = {
    "single_task": graph({"a": Triangular(1, 2, 4)}),
    "single_fixed": graph({"a": 7}),
    "chain": graph(
        {"a": Triangular(2, 3, 7), "b": Pert(1, 4, 9), "c": Uniform(2, 5), "d": 3,
         "e": Normal(6, 1.5)},
        [("a", "b", "FS", 0), ("b", "c", "FS", 0), ("c", "d", "FS", 0), ("d", "e", "FS", 0)]),
    "diamond": graph(
        {"s": 0, "a": Triangular(2, 4, 9), "b": Triangular(3, 4, 6), "e": 0},
        [("s", "a", "FS", 0), ("s", "b", "FS", 0), ("a", "e", "FS", 0), ("b", "e", "FS", 0)]),
    "wide_merge": graph(
        {**{f"p{i}": Uniform(5, 10) for i in range(20)}, "m": Exponential(2.0)},
        [(f"p{i}", "m", "FS", 0) for i in range(20)]),
    "disconnected": graph(
        {"a": Uniform(1, 3), "b": Uniform(1, 3), "x": Triangular(0, 5, 6), "y": 2,
         "lonely": LogNormal(4, 1)},
        [("a", "b", "FS", 1), ("x", "y", "SS", 1)]),
    "milestones": graph(
        {"start": 0, "a": Triangular(1, 2, 5), "gate": Fixed(0), "b": Pert(2, 3, 8),
         "c": Uniform(1, 6), "end": 0.0},
        [("start", "a", "FS", 0), ("a", "gate", "FS", 0), ("gate", "b", "FS", 0),
         ("gate", "c", "SS", 2), ("b", "end", "FS", 0), ("c", "end", "FF", 0)]),
    # Only an SS successor: the backward pass must still bound a's late finish by the
    # project finish (a is the longest task and decides the finish).
    "ss_only_successor": graph({"a": Uniform(8, 12), "b": Uniform(1, 2)},
                               [("a", "b", "SS", 1)]),
    "sf_only_successor": graph({"a": Uniform(8, 12), "b": Uniform(1, 2)},
                               [("a", "b", "SF", 3)]),
    "ff_pushes_start_below_zero": graph({"a": Uniform(1, 2), "b": Uniform(5, 9)},
                                        [("a", "b", "FF", 0)]),
    "mixed_ids": graph(
        {1: Triangular(1, 2, 3), "two": Uniform(1, 4), (3, "c"): Discrete([1, 2, 4], [1, 2, 1]),
         4.5: Trigen(2, 3, 6)},
        [(1, "two", "FS", 0), ("two", (3, "c"), "SS", 0.5), (1, 4.5, "FF", -1),
         ((3, "c"), 4.5, "FS", 0)]),
    "planned_override": graph({"a": Triangular(1, 2, 10), "b": Uniform(2, 4)},
                              [("a", "b", "FS", 0)]),
    "discrete_ties": graph(
        {"s": 0, "a": Discrete([1, 2], [1, 1]), "b": Discrete([1, 2], [1, 1]),
         "c": Discrete([0, 1, 2], [1, 1, 1]), "e": 0},
        [("s", "a", "FS", 0), ("s", "b", "FS", 0), ("a", "c", "FS", 0), ("b", "e", "FS", 0),
         ("c", "e", "FS", 0)]),
}
HAND_BUILT["planned_override"].nodes["a"]["planned"] = 7.0
HAND_BUILT["planned_override"].nodes["a"]["name"] = "Design review"

# Every link type with positive, zero and negative lags, binding or not.
for _kind in LINK_TYPES:
    for _lag in (-4.0, -0.5, 0.0, 2.5):
        HAND_BUILT[f"link_{_kind}_{_lag:g}"] = graph(
            {"p": Triangular(3, 5, 9), "q": Uniform(1, 6), "r": Uniform(2, 4)},
            [("p", "q", _kind, _lag), ("r", "q", "FS", 0)])
HAND_BUILT["all_types_network"] = graph(
    {"a": Triangular(2, 4, 8), "b": Pert(1, 3, 6), "c": Uniform(2, 9), "d": Normal(5, 1),
     "e": Triangular(0, 1, 3), "f": Exponential(1.5), "g": 0},
    [("a", "b", "FS", 1), ("a", "c", "SS", 2), ("b", "d", "FF", -1), ("c", "d", "SF", 4),
     ("c", "e", "FS", -3), ("d", "f", "SS", 0), ("e", "f", "FF", 2.5), ("f", "g", "FS", 0),
     ("b", "g", "SF", -2)])


@pytest.mark.parametrize("name", sorted(HAND_BUILT, key=str))
def test_hand_built_equals_naive(name):
    check_against_naive(HAND_BUILT[name])


@pytest.mark.parametrize("name", sorted(HAND_BUILT, key=str))
def test_cpm_equals_naive(name):
    check_cpm(HAND_BUILT[name])


@pytest.mark.parametrize("name", ["chain", "diamond", "all_types_network", "planned_override"])
def test_deterministic_finish_is_cpm(name):
    g = HAND_BUILT[name]
    res = pmosim.simulate(g, 16, seed=3)
    assert res.finish.deterministic == pytest.approx(naive.cpm(g).finish, abs=ATOL)


def test_project_and_graph_give_the_same_result():
    g = HAND_BUILT["all_types_network"]
    a = pmosim.simulate(g, 32, seed=9, keep_samples=True)
    b = pmosim.simulate(pmosim.Project.from_networkx(g, name="tour", start="2027-03-01"), 32,
                        seed=9, keep_samples=True)
    assert_array_equal(a.finishes, b.finishes)
    assert_array_equal(a.finish.samples, b.finish.samples)
    assert b.project.name == "tour" and str(b.project.start) == "2027-03-01"
    assert a.project.graph is g


def test_ss_only_successor_is_critical():
    # a decides the project finish whatever b does, so a is critical in every iteration.
    res, _ = check_against_naive(HAND_BUILT["ss_only_successor"])
    assert res.criticality["a"] == 1.0
    cpm = pmosim.cpm(HAND_BUILT["ss_only_successor"])
    assert bool(cpm.critical[list(cpm.task_ids).index("a")])


def test_negative_lag_never_starts_before_zero():
    res, _ = check_against_naive(HAND_BUILT["link_SS_-4"])
    assert res.starts.min() >= 0.0
    res, _ = check_against_naive(HAND_BUILT["ff_pushes_start_below_zero"])
    assert res.starts.min() >= 0.0


def test_zero_duration_milestones_are_instants():
    res, _ = check_against_naive(HAND_BUILT["milestones"])
    ids = list(res.task_ids)
    for m in ("start", "gate", "end"):
        j = ids.index(m)
        assert_array_equal(res.durations[:, j], 0.0)
        assert_array_equal(res.starts[:, j], res.finishes[:, j])
    assert_array_equal(res.finishes[:, ids.index("end")], res.finish.samples)


# -- random lags ----------------------------------------------------------------------------

LAG_DISTRIBUTIONS = [Triangular(-2, 0, 3), Uniform(1, 4), Normal(0, 2),
                     Discrete([-1, 0, 2], [1, 1, 1])]

RANDOM_LAGS = {
    "fs_random_lag": graph({"a": Uniform(2, 5), "b": Triangular(1, 2, 4)},
                           [("a", "b", "FS", Normal(1, 2))]),
    "every_type_random_lag": graph(
        {"a": Triangular(2, 4, 8), "b": Uniform(1, 6), "c": Uniform(2, 9), "d": Normal(5, 1),
         "e": 0},
        [("a", "b", "FS", Triangular(-2, 0, 3)), ("a", "c", "SS", Uniform(1, 4)),
         ("b", "d", "FF", 1), ("c", "d", "SF", Discrete([-1, 0, 8], [1, 1, 1])),
         ("b", "e", "FS", Normal(0, 2)), ("d", "e", "FF", -1)]),
}


@pytest.mark.parametrize("name", sorted(RANDOM_LAGS))
def test_random_lags_equal_naive(name):
    check_against_naive(RANDOM_LAGS[name], iterations=200)


def test_random_lag_is_observable():
    # with a binding FS link, start(b) - finish(a) is the sampled lag itself
    g = graph({"a": 10, "b": 1}, [("a", "b", "FS", Uniform(1, 4))])
    res = pmosim.simulate(g, 500, seed=4, keep_samples=True)
    lag = res.starts[:, 1] - res.finishes[:, 0]
    assert_allclose(lag, random_lag_samples(g, res)[("a", "b")], rtol=0, atol=ATOL)


# -- seeded random networks ---------------------------------------------------------------

DISTRIBUTIONS = [
    Fixed(0), Fixed(3), 2.5, Uniform(1, 4), Triangular(1, 2, 6), Triangular(0, 0, 3),
    Pert(2, 3, 8), Trigen(3, 4, 7), Normal(4, 1), Normal(1, 2), LogNormal(3, 1),
    Exponential(2), Discrete([1, 2, 3], [1, 1, 1]), Discrete([0, 2], [1, 3]),
]


@st.composite
def networks(draw):
    n = draw(st.integers(1, 9))
    order = draw(st.permutations(range(n)))
    g = nx.DiGraph()
    for k in order:  # node order differs from topological order
        g.add_node(f"t{k}", duration=draw(st.sampled_from(DISTRIBUTIONS)))
    for j in range(n):
        for i in range(j):
            if draw(st.booleans()) and draw(st.booleans()):
                lag = draw(st.one_of(st.integers(-5, 5), st.sampled_from([-1.5, 0.25, 3.75])))
                g.add_edge(f"t{i}", f"t{j}", type=draw(st.sampled_from(LINK_TYPES)), lag=lag)
    return g


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=networks(), seed=st.integers(0, 2**63 - 1))
def test_random_networks_equal_naive(g, seed):
    check_against_naive(g, iterations=24, seed=seed)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=networks(), seed=st.integers(0, 2**63 - 1), data=st.data())
def test_random_networks_with_random_lags_equal_naive(g, seed, data):
    for u, v in g.edges:
        if data.draw(st.booleans()):
            g.edges[u, v]["lag"] = data.draw(st.sampled_from(LAG_DISTRIBUTIONS))
    check_against_naive(g, iterations=24, seed=seed)


@settings(max_examples=40, deadline=None)
@given(g=networks())
def test_random_networks_cpm_equals_naive(g):
    check_cpm(g)


def test_layered_random_network_equals_naive():
    rng = np.random.default_rng(2024)
    g = nx.DiGraph()
    layers = [[f"L{k}_{i}" for i in range(rng.integers(2, 6))] for k in range(6)]
    for layer in layers:
        for t in layer:
            g.add_node(t, duration=DISTRIBUTIONS[rng.integers(len(DISTRIBUTIONS))])
    for k in range(1, len(layers)):
        for t in layers[k]:
            for u in rng.choice(layers[k - 1], size=rng.integers(1, 3), replace=False):
                g.add_edge(str(u), t, type=LINK_TYPES[rng.integers(4)],
                           lag=float(rng.integers(-3, 4)))
    check_against_naive(g, iterations=100, seed=77)
    check_cpm(g)


def test_larger_random_network_equals_naive():
    # a few hundred tasks and links of every type: long CSR rows, many lanes
    rng = np.random.default_rng(99)
    n = 300
    g = nx.DiGraph()
    for k in rng.permutation(n):
        g.add_node(int(k), duration=DISTRIBUTIONS[rng.integers(len(DISTRIBUTIONS))])
    for j in range(1, n):
        for i in rng.choice(j, size=min(j, rng.integers(1, 4)), replace=False):
            g.add_edge(int(i), j, type=LINK_TYPES[rng.integers(4)],
                       lag=float(rng.integers(-4, 5)) if rng.random() < 0.8
                       else LAG_DISTRIBUTIONS[rng.integers(len(LAG_DISTRIBUTIONS))])
    check_against_naive(g, iterations=19, seed=5)


@pytest.mark.parametrize("iterations", [1, 2, 7, 9, 33])
def test_iteration_counts_that_do_not_fill_a_lane_block(iterations):
    check_against_naive(HAND_BUILT["all_types_network"], iterations=iterations, seed=8)


@pytest.mark.parametrize("scale", [1e-4, 1e-2, 1e2, 1e4, 1e6, 1e9])
def test_task_statistics_hold_at_every_scale(scale):
    # time units vary (years to seconds) and costs reach 1e9: the streaming per-task
    # statistics must stay accurate relative to the values, not to a fixed resolution
    g = graph({"a": Uniform(scale, 2 * scale), "b": Triangular(0, scale, 3 * scale)},
              [("a", "b", "FS", 0)])
    res = pmosim.simulate(g, 1000, seed=2, keep_samples=True)
    assert_allclose(res.tasks.finish_mean, res.finishes.mean(axis=0), rtol=1e-7)
    assert_allclose(res.tasks.start_mean, res.starts.mean(axis=0), rtol=1e-7, atol=1e-12 * scale)
    assert_std_either_ddof(res.tasks.finish_std, res.finishes, 0.0)
    assert_std_either_ddof(res.tasks.start_std, res.starts, 0.0)


def test_progress_callback_reaches_total():
    calls = []
    pmosim.simulate(HAND_BUILT["chain"], 5000, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1] == (5000, 5000)
    assert all(t == 5000 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)

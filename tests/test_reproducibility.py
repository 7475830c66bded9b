"""Bit-reproducibility: same seed, any thread count, any chunking -> the same bits.

Every draw is keyed by (seed, iteration, variable) through Philox4x64-10, which
must equal numpy.random.Philox bit for bit.
"""

import dataclasses
import json

import networkx as nx
import numba
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import pmosim
from pmosim import Discrete, Exponential, Normal, Pert, Triangular, Uniform
from pmosim.compile import uses_calendars
from pmosim.kernels import rng

from _calendars import random_calendar_project

LINK_TYPES = ("FS", "SS", "FF", "SF")
DISTS = [Triangular(1, 3, 8), Pert(2, 4, 9), Uniform(1, 5), Normal(4, 1.5), Exponential(2),
         Discrete([1, 2, 4], [1, 2, 1]), 3.0]


def layered(n_layers=8, width=6, seed=1, random_lags=False):
    """A small layered network with every link type, fixed and (optionally) random lags."""
    r = np.random.default_rng(seed)
    g = nx.DiGraph()
    layers = [[f"t{k}_{i}" for i in range(width)] for k in range(n_layers)]
    for layer in layers:
        for t in layer:
            g.add_node(t, duration=DISTS[r.integers(len(DISTS))])
    for k in range(1, n_layers):
        for t in layers[k]:
            for u in r.choice(layers[k - 1], size=2, replace=False):
                lag = float(r.integers(-2, 3))
                if random_lags and r.random() < 0.3:
                    lag = Triangular(-1, 0, 2)
                g.add_edge(str(u), t, type=LINK_TYPES[r.integers(4)], lag=lag)
    return g


NETWORK = layered()
NETWORK_LAGS = layered(random_lags=True, seed=2)
N_ITER = 3001   # not a multiple of any chunk size used, and beyond the 2048-iteration pilot


def assert_results_identical(a, b, samples=True):
    assert a.seed == b.seed and a.iterations == b.iterations
    assert list(a.task_ids) == list(b.task_ids)
    assert_array_equal(a.finish.samples, b.finish.samples)
    assert a.finish.mean == b.finish.mean and a.finish.std == b.finish.std
    assert a.finish.deterministic == b.finish.deterministic
    q = np.array([1, 5, 50, 95, 99])
    assert_array_equal(a.finish.percentile(q), b.finish.percentile(q))
    assert a.criticality == b.criticality
    for f in dataclasses.fields(a.tasks):
        if not f.compare:
            continue
        x, y = getattr(a.tasks, f.name), getattr(b.tasks, f.name)
        if isinstance(x, np.ndarray):
            assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name
    for qq in q:
        assert_array_equal(a.tasks.finish_percentile(qq), b.tasks.finish_percentile(qq))
        assert_array_equal(a.tasks.start_percentile(qq), b.tasks.start_percentile(qq))
    assert (a.sensitivity is None) == (b.sensitivity is None)
    if a.sensitivity is not None:
        for m in a.sensitivity.measures():
            assert_array_equal(getattr(a.sensitivity, m), getattr(b.sensitivity, m), err_msg=m)
        assert a.paths == b.paths
    assert a.to_dict() == b.to_dict()
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    if samples:
        for name in ("durations", "starts", "finishes"):
            assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("g", [NETWORK, NETWORK_LAGS], ids=["fixed_lags", "random_lags"])
def test_same_seed_same_bits(g):
    a = pmosim.simulate(g, N_ITER, seed=2026, keep_samples=True)
    b = pmosim.simulate(g, N_ITER, seed=2026, keep_samples=True)
    assert_results_identical(a, b)


def test_different_seeds_differ():
    a = pmosim.simulate(NETWORK, 500, seed=1)
    b = pmosim.simulate(NETWORK, 500, seed=2)
    assert not np.array_equal(a.finish.samples, b.finish.samples)


@pytest.mark.parametrize("g", [NETWORK, NETWORK_LAGS], ids=["fixed_lags", "random_lags"])
def test_threads_do_not_change_a_bit(g):
    n_threads = max(2, numba.config.NUMBA_NUM_THREADS)
    runs = [pmosim.simulate(g, N_ITER, seed=77, threads=t, keep_samples=True)
            for t in sorted({1, 2, n_threads})]
    for other in runs[1:]:
        assert_results_identical(runs[0], other)


@pytest.mark.parametrize("chunk", [1, 300, 2000, 4096])   # 512, 512, 2048, 4096 (default 1024)
def test_chunk_size_does_not_change_a_bit(chunk):
    ref = pmosim.simulate(NETWORK_LAGS, N_ITER, seed=5, keep_samples=True)
    got = pmosim.simulate(NETWORK_LAGS, N_ITER, seed=5, chunk_size=chunk, threads=2,
                          keep_samples=True)
    assert_results_identical(ref, got)


def test_calendars_threads_and_chunks_do_not_change_a_bit():
    """The wall-clock kernel (working calendars per task and lag) is as reproducible."""
    p = random_calendar_project(4, n_tasks=60, random_durations=True)
    assert uses_calendars(p)
    n_threads = max(2, numba.config.NUMBA_NUM_THREADS)
    ref = pmosim.simulate(p, N_ITER, seed=31, threads=1, keep_samples=True)
    for threads, chunk in ((2, None), (n_threads, 7), (2, 1000)):
        got = pmosim.simulate(p, N_ITER, seed=31, threads=threads, chunk_size=chunk,
                              keep_samples=True)
        assert_results_identical(ref, got)


def test_keep_samples_does_not_change_the_statistics():
    a = pmosim.simulate(NETWORK, N_ITER, seed=8, keep_samples=True)
    b = pmosim.simulate(NETWORK, N_ITER, seed=8)
    assert b.durations is None and b.starts is None and b.finishes is None
    assert_results_identical(a, b, samples=False)


def test_seed_none_stores_the_seed_used():
    a = pmosim.simulate(NETWORK, 400, keep_samples=True)
    assert isinstance(a.seed, int) and a.seed >= 0
    assert a.to_dict()["seed"] == a.seed
    b = pmosim.simulate(NETWORK, 400, seed=a.seed, keep_samples=True)
    assert_results_identical(a, b)
    c = pmosim.simulate(NETWORK, 400)
    assert c.seed != a.seed   # fresh entropy each time (2**-128 chance of a false alarm)


def test_draws_are_keyed_by_iteration():
    # iteration i gets the same draws whatever the total number of iterations
    short = pmosim.simulate(NETWORK_LAGS, 700, seed=11, keep_samples=True)
    long = pmosim.simulate(NETWORK_LAGS, 2500, seed=11, keep_samples=True)
    assert_array_equal(long.finish.samples[:700], short.finish.samples)
    assert_array_equal(long.durations[:700], short.durations)
    assert_array_equal(long.starts[:700], short.starts)


def test_random_lags_do_not_shift_duration_draws():
    g = NETWORK.copy()
    a = pmosim.simulate(g, 300, seed=12, keep_samples=True)
    u, v = next(iter(g.edges))
    g.edges[u, v]["lag"] = Normal(0, 1)
    b = pmosim.simulate(g, 300, seed=12, keep_samples=True)
    assert_array_equal(a.durations, b.durations)


# -- Philox against numpy --------------------------------------------------------------------

M64 = 2 ** 64 - 1
KEYS = [(0, 0), (1, 0), (M64, M64), (0x0123456789ABCDEF, 0xFEDCBA9876543210),
        (0xDEADBEEF, 0x12345)]
COUNTERS = [(0, 0, 0, 0), (1, 0, 0, 0), (M64, 0, 0, 0), (M64, M64, M64, M64),
            (12345, 3, 1, 0), (0, 0, 0, 1), (2 ** 63, 2 ** 40, 7, 99)]


def numpy_block(counter, key):
    c = counter[0] + (counter[1] << 64) + (counter[2] << 128) + (counter[3] << 192)
    k = key[0] + (key[1] << 64)
    # numpy increments its 256-bit counter before each block
    return np.random.Philox(key=k, counter=(c - 1) % 2 ** 256).random_raw(4)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("counter", COUNTERS)
def test_philox_equals_numpy_bit_for_bit(counter, key):
    ours = rng.philox4x64(*(np.uint64(c) for c in counter), np.uint64(key[0]), np.uint64(key[1]))
    assert [int(x) for x in ours] == [int(x) for x in numpy_block(counter, key)]


def test_lane_blocked_philox_equals_numpy_bit_for_bit():
    from pmosim.kernels import LANES
    for key in KEYS:
        for it0, group, stream in ((0, 0, 0), (2 ** 40 + 5, 7, 3), (2 ** 63 - LANES, 2 ** 33, 11)):
            out = np.zeros((9, LANES))
            rng.philox_uniforms(it0, group, stream, np.uint64(key[0]), np.uint64(key[1]),
                                out, 1, 2, 0, 4)
            part = np.zeros((3, LANES))
            rng.philox_uniforms(it0, group, stream, np.uint64(key[0]), np.uint64(key[1]),
                                part, 0, 1, 1, 2)
            for lane in range(LANES):
                words = numpy_block((it0 + lane, group, stream, 0), key)
                want = [((int(x) >> 12) + 0.5) * 2.0 ** -52 for x in words]
                assert list(out[1:9:2, lane]) == want
                assert list(part[:2, lane]) == want[1:3] and part[2, lane] == 0.0
            assert not out[0::2].any()


def test_philox_stream_equals_numpy_stream():
    # consecutive blocks of one numpy generator are consecutive counters of ours
    key = (0x9E3779B97F4A7C15, 0x243F6A8885A308D3)
    raw = np.random.Philox(key=key[0] + (key[1] << 64)).random_raw(4 * 50)
    ours = [int(x) for i in range(1, 51)
            for x in rng.philox4x64(np.uint64(i), np.uint64(0), np.uint64(0), np.uint64(0),
                                    np.uint64(key[0]), np.uint64(key[1]))]
    assert ours == [int(x) for x in raw]


def numpy_uniforms(seed, n_iter, variable, stream):
    """The engine's uniforms rebuilt from numpy.random alone (documented keying)."""
    k0, k1 = (int(x) for x in np.random.SeedSequence(seed).generate_state(2, np.uint64))
    out = np.empty(n_iter)
    for i in range(n_iter):
        x = int(numpy_block((i, variable // 4, stream, 0), (k0, k1))[variable % 4])
        out[i] = ((x >> 12) + 0.5) * 2.0 ** -52
    return out


def test_simulated_durations_are_numpy_philox_uniforms():
    # Uniform(0, 1) durations are the uniforms themselves; task j is variable j.
    g = nx.DiGraph()
    for j in range(6):
        g.add_node(("task", j), duration=Uniform(0, 1))
    seed, n_iter = 31337, 40
    res = pmosim.simulate(g, n_iter, seed=seed, keep_samples=True)
    for j in range(6):
        u = numpy_uniforms(seed, n_iter, j, rng.STREAM_DURATION)
        assert_array_equal(res.durations[:, j], u)
        assert_array_equal(
            rng.uniforms(np.arange(n_iter, dtype=np.int64), j, rng.STREAM_DURATION,
                         *np.random.SeedSequence(seed).generate_state(2, np.uint64)), u)


def test_uniforms_lie_strictly_inside_0_1():
    # documented: to_unit maps every uint64 strictly inside (0, 1), so that ppf never sees
    # 0 or 1 (infinite normal, log-normal and exponential draws)
    for x in (0, 1, 2 ** 11, 2 ** 63, 2 ** 64 - 2 ** 11 - 1, 2 ** 64 - 2 ** 11, 2 ** 64 - 1):
        u = rng.to_unit(np.uint64(x))
        assert 0.0 < u < 1.0, (x, u)

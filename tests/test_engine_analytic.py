"""Analytic oracles: seeded runs whose answers are known in closed form.

Tolerances come from theory: K standard errors, where the standard error of a
mean is sigma / sqrt(n), of a normal sample's std sigma / sqrt(2 n), of a fraction
sqrt(p (1 - p) / n), of a p-quantile sqrt(p (1 - p) / n) / f(x_p).
"""

import math

import networkx as nx
import numpy as np
import pytest
from scipy import stats as ss
from scipy.special import ndtr

import pmosim
from pmosim import Discrete, Fixed, Normal, Pert, Triangular, Trigen, Uniform

K = 5.0
N = 100_000


def graph(tasks, links=()):
    g = nx.DiGraph()
    for t, d in tasks.items():
        g.add_node(t, duration=d)
    for u, v, kind, lag in links:
        g.add_edge(u, v, type=kind, lag=lag)
    return g


def assert_mean(x, mean, sd, n):
    assert abs(x - mean) <= K * sd / math.sqrt(n), (x, mean, K * sd / math.sqrt(n))


def assert_fraction(p_hat, p, n):
    assert abs(p_hat - p) <= K * math.sqrt(p * (1 - p) / n) + 1e-12, (p_hat, p)


def clark(mu1, s1, mu2, s2, rho=0.0):
    """Mean and variance of max(X1, X2) for bivariate normal X (Clark 1961)."""
    a = math.sqrt(s1 ** 2 + s2 ** 2 - 2 * rho * s1 * s2)
    alpha = (mu1 - mu2) / a
    phi = math.exp(-0.5 * alpha ** 2) / math.sqrt(2 * math.pi)
    cdf, cdf_neg = ndtr(alpha), ndtr(-alpha)
    nu1 = mu1 * cdf + mu2 * cdf_neg + a * phi
    nu2 = (mu1 ** 2 + s1 ** 2) * cdf + (mu2 ** 2 + s2 ** 2) * cdf_neg + (mu1 + mu2) * a * phi
    return nu1, nu2 - nu1 ** 2, cdf   # mean, variance, P(X1 > X2)


# -- sums along a chain ---------------------------------------------------------------------

def test_chain_of_normals_is_normal():
    mus, sds = [40, 25, 60, 30, 45], [4, 3, 5, 2, 5]    # mu/sd >= 8: truncation ~ 1e-15
    names = [f"n{i}" for i in range(5)]
    g = graph(dict(zip(names, (Normal(m, s) for m, s in zip(mus, sds)))),
              [(a, b, "FS", 0) for a, b in zip(names, names[1:])])
    res = pmosim.simulate(g, N, seed=101)
    mu, sd = sum(mus), math.sqrt(sum(s * s for s in sds))
    assert_mean(res.finish.mean, mu, sd, N)
    assert abs(res.finish.std - sd) <= K * sd / math.sqrt(2 * N)
    assert res.finish.deterministic == pytest.approx(mu, abs=1e-9)
    for q in (5, 50, 95):
        p = q / 100
        se = math.sqrt(p * (1 - p) / N) / ss.norm(mu, sd).pdf(ss.norm(mu, sd).ppf(p))
        assert abs(float(res.finish.percentile(q)) - ss.norm(mu, sd).ppf(p)) <= K * se
    assert_fraction(res.finish.probability_le(mu + sd), ndtr(1.0), N)
    assert all(res.criticality[t] == 1.0 for t in names)
    # a chain's sample finish is also each last task's finish, and its mean the sum of means
    assert res.tasks.finish_mean[-1] == pytest.approx(res.finish.mean, rel=1e-12)


def test_chain_with_fixed_lags_shifts_the_sum():
    g = graph({"a": Normal(30, 3), "b": Normal(20, 2)}, [("a", "b", "FS", 7.5)])
    res = pmosim.simulate(g, N, seed=102)
    assert_mean(res.finish.mean, 57.5, math.sqrt(13), N)


@pytest.mark.parametrize("dists", [
    [Triangular(2, 5, 12), Triangular(0, 0, 6), Triangular(3, 9, 9)],
    [Pert(3, 6, 15), Pert(10, 12, 30), Pert(1, 2, 3, lamb=2)],
    [Trigen(10, 15, 30), Triangular(1, 4, 5), Pert(0, 1, 8)],
])
def test_chain_of_three_point_estimates_sums_means(dists):
    names = [f"t{i}" for i in range(len(dists))]
    g = graph(dict(zip(names, dists)), [(a, b, "FS", 0) for a, b in zip(names, names[1:])])
    res = pmosim.simulate(g, N, seed=103)
    mean = sum(d.mean for d in dists)
    sd = math.sqrt(sum(d.std ** 2 for d in dists))
    assert_mean(res.finish.mean, mean, sd, N)
    for j, d in enumerate(dists):
        assert_mean(res.tasks.finish_mean[j] - res.tasks.start_mean[j], d.mean, d.std, N)


def test_pert_mean_formula_single_task():
    d = Pert(10, 15, 30)
    res = pmosim.simulate(graph({"p": d}), N, seed=104)
    assert_mean(res.finish.mean, (10 + 4 * 15 + 30) / 6, d.std, N)


def test_triangular_mean_formula_single_task():
    d = Triangular(20, 25, 60)
    res = pmosim.simulate(graph({"t": d}), N, seed=105)
    assert_mean(res.finish.mean, (20 + 25 + 60) / 3, d.std, N)


def test_normal_duration_truncated_at_zero_mean():
    d = Normal(1, 2)
    res = pmosim.simulate(graph({"n": d}), N, seed=106)
    ref = ss.truncnorm(a=-0.5, b=np.inf, loc=1, scale=2)
    assert_mean(res.finish.mean, ref.mean(), ref.std(), N)
    assert res.finish.samples.min() >= 0


# -- max of normals (Clark 1961) ------------------------------------------------------------

def test_max_of_two_equal_normals_clark():
    mu, s = 50.0, 5.0
    g = graph({"a": Normal(mu, s), "b": Normal(mu, s)})
    res = pmosim.simulate(g, N, seed=201)
    mean = mu + s / math.sqrt(math.pi)
    var = s * s * (1 - 1 / math.pi)
    assert clark(mu, s, mu, s)[0] == pytest.approx(mean, rel=1e-14)
    assert_mean(res.finish.mean, mean, math.sqrt(var), N)
    assert_fraction(res.criticality["a"], 0.5, N)
    assert res.criticality["a"] + res.criticality["b"] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("mu1, s1, mu2, s2", [(50, 4, 46, 6), (30, 1, 31, 3), (100, 10, 80, 2)])
def test_max_of_two_normals_general_clark(mu1, s1, mu2, s2):
    g = graph({"a": Normal(mu1, s1), "b": Normal(mu2, s2), "end": 0},
              [("a", "end", "FS", 0), ("b", "end", "FS", 0)])
    res = pmosim.simulate(g, N, seed=202)
    mean, var, p_a = clark(mu1, s1, mu2, s2)
    assert_mean(res.finish.mean, mean, math.sqrt(var), N)
    assert_fraction(res.criticality["a"], p_a, N)
    assert_fraction(res.criticality["b"], 1 - p_a, N)
    assert res.criticality["end"] == 1.0


def test_correlated_paths_clark_with_rho():
    # s -> a, s -> b: the two path lengths share s, so rho = var(s) / (sd1 * sd2)
    ms, ss_, m1, s1, m2, s2 = 20, 3, 40, 4, 38, 5
    g = graph({"s": Normal(ms, ss_), "a": Normal(m1, s1), "b": Normal(m2, s2)},
              [("s", "a", "FS", 0), ("s", "b", "FS", 0)])
    res = pmosim.simulate(g, N, seed=203)
    sd1, sd2 = math.hypot(ss_, s1), math.hypot(ss_, s2)
    mean, var, p_a = clark(ms + m1, sd1, ms + m2, sd2, rho=ss_ ** 2 / (sd1 * sd2))
    assert_mean(res.finish.mean, mean, math.sqrt(var), N)
    assert_fraction(res.criticality["a"], p_a, N)
    assert res.criticality["s"] == 1.0


# -- criticality -----------------------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 3, 5])
def test_k_identical_parallel_paths_are_each_critical_1_over_k(k):
    tasks = {"start": 0, "end": Fixed(0)}
    links = []
    for i in range(k):
        tasks[f"p{i}a"] = Triangular(2, 4, 9)
        tasks[f"p{i}b"] = Uniform(1, 5)
        links += [("start", f"p{i}a", "FS", 0), (f"p{i}a", f"p{i}b", "FS", 0),
                  (f"p{i}b", "end", "FS", 0)]
    n = 40_000
    res = pmosim.simulate(graph(tasks, links), n, seed=300 + k)
    for i in range(k):
        assert_fraction(res.criticality[f"p{i}a"], 1 / k, n)
        assert res.criticality[f"p{i}a"] == res.criticality[f"p{i}b"]
    assert sum(res.criticality[f"p{i}a"] for i in range(k)) == pytest.approx(1.0, abs=1e-12)
    assert res.criticality["start"] == res.criticality["end"] == 1.0


def test_discrete_ties_count_as_critical():
    # a, b in {1, 2} with equal odds: they tie half the time, and then both are critical.
    g = graph({"a": Discrete([1, 2], [1, 1]), "b": Discrete([1, 2], [1, 1])})
    n = 40_000
    res = pmosim.simulate(g, n, seed=401, keep_samples=True)
    assert_fraction(res.criticality["a"], 0.75, n)    # P(a >= b); 0.25 if ties did not count
    assert_fraction(res.criticality["b"], 0.75, n)
    d = res.durations
    assert res.criticality["a"] == pytest.approx(np.mean(d[:, 0] >= d[:, 1]), abs=1e-12)
    both = np.mean(d[:, 0] == d[:, 1])
    assert res.criticality["a"] + res.criticality["b"] == pytest.approx(1 + both, abs=1e-12)


def test_floating_point_tie_is_critical():
    # 0.1 + 0.2 != 0.3, but the difference is far below 1e-9 * max(1, finish)
    g = graph({"a": 0.1, "b": 0.2, "c": 0.3}, [("a", "b", "FS", 0)])
    res = pmosim.simulate(g, 10, seed=1)
    assert all(res.criticality[t] == 1.0 for t in "abc")
    assert all(pmosim.cpm(g).critical)


@pytest.mark.parametrize("gap, critical", [(5e-4, True), (2e-3, False)])
def test_tie_tolerance_scales_with_the_project_finish(gap, critical):
    # finish ~ 1e6: the tolerance is 1e-9 * 1e6 = 1e-3
    g = graph({"a": 1e6, "b": 0.5, "c": 1e6 + 0.5 + gap}, [("a", "b", "FS", 0)])
    res = pmosim.simulate(g, 10, seed=1)
    assert res.criticality["c"] == 1.0
    assert res.criticality["a"] == res.criticality["b"] == float(critical)
    cpm = pmosim.cpm(g)
    assert list(map(bool, cpm.critical)) == [critical, critical, True]


def test_tolerance_is_absolute_below_finish_one():
    # max(1, finish): for a finish of 0.001 the tolerance is 1e-9, not 1e-12
    g = graph({"a": 0.001, "c": 0.001 + 5e-10})
    res = pmosim.simulate(g, 4, seed=1)
    assert res.criticality["a"] == 1.0


# -- link types with random durations ----------------------------------------------------------

def test_ss_lag_merge():
    # finish = max(dA, 2 + 3) with dA ~ U(0, 10): E = 0.5 * 5 + 0.5 * 7.5; a's start drives
    # b, so a is always critical, and b is critical when dA <= 5
    g = graph({"a": Uniform(0, 10), "b": 3}, [("a", "b", "SS", 2)])
    res = pmosim.simulate(g, N, seed=501)
    assert_mean(res.finish.mean, 6.25, 2.5, N)
    assert res.criticality["a"] == 1.0
    assert_fraction(res.criticality["b"], 0.5, N)


def test_ff_lag_merge():
    # finish = max(dA + 1, 3); a is critical exactly when dA > 2
    g = graph({"a": Uniform(0, 10), "b": 3}, [("a", "b", "FF", 1)])
    res = pmosim.simulate(g, N, seed=502)
    assert_mean(res.finish.mean, 0.2 * 3 + 0.8 * 7, 3.0, N)
    assert_fraction(res.criticality["a"], 0.8, N)
    assert res.criticality["b"] == 1.0


def test_sf_lag_merge():
    # finish(b) >= start(a) + 4 = 4; finish = max(dA, 4); a's start drives b, so a is
    # always critical, and b is critical when dA <= 4
    g = graph({"a": Uniform(0, 10), "b": 3}, [("a", "b", "SF", 4)])
    res = pmosim.simulate(g, N, seed=503)
    assert_mean(res.finish.mean, 0.4 * 4 + 0.6 * 7, 3.0, N)
    assert res.criticality["a"] == 1.0
    assert_fraction(res.criticality["b"], 0.4, N)


def test_random_lag_is_sampled_and_not_truncated():
    # a normal lag may be negative: finish = 10 + lag + 20, lag ~ N(-1, 2)
    g = graph({"a": 10, "b": 20}, [("a", "b", "FS", Normal(-1, 2))])
    res = pmosim.simulate(g, N, seed=504, keep_samples=True)
    lag = res.starts[:, 1] - res.finishes[:, 0]
    assert lag.min() < 0
    assert_mean(res.finish.mean, 29.0, 2.0, N)
    assert abs(lag.std() - 2.0) <= K * 2.0 / math.sqrt(2 * N)
    grid = np.linspace(-6, 4, 41)
    ecdf = np.searchsorted(np.sort(lag), grid, side="right") / N
    assert np.max(np.abs(ecdf - ss.norm(-1, 2).cdf(grid))) <= math.sqrt(math.log(2e6) / (2 * N))


def test_random_lag_planned_value_in_cpm():
    # CPM uses the planned lag: the mode where there is one
    g = graph({"a": 10, "b": 2}, [("a", "b", "FS", Triangular(1, 2, 9))])
    assert pmosim.cpm(g).finish == pytest.approx(14.0, abs=1e-12)


# -- statistics of the finish -----------------------------------------------------------------

def test_percentiles_and_probabilities_of_a_uniform_finish():
    res = pmosim.simulate(graph({"u": Uniform(0, 10)}), N, seed=601)
    for q in (1, 10, 50, 90, 99):
        p = q / 100
        se = math.sqrt(p * (1 - p) / N) * 10
        assert abs(float(res.finish.percentile(q)) - 10 * p) <= K * se
        # per-task streaming histogram estimate: also within a histogram cell of width 10/256
        assert abs(float(res.tasks.finish_percentile(q)[0]) - 10 * p) <= K * se + 10 / 256
    qs = np.array([25.0, 75.0])
    assert np.shape(res.finish.percentile(qs)) == (2,)
    for x in (0.5, 5.0, 9.5):
        assert_fraction(res.finish.probability_le(x), x / 10, N)
    assert res.finish.probability_le(-1) == 0.0 and res.finish.probability_le(10) == 1.0


def test_to_dict_is_json_ready_and_consistent():
    import json
    g = graph({1: Triangular(1, 2, 5), "b": Uniform(2, 3)}, [(1, "b", "FS", 0)])
    res = pmosim.simulate(g, 2000, seed=7)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["iterations"] == 2000 and d["seed"] == 7
    assert d["finish"]["mean"] == pytest.approx(res.finish.mean)
    assert d["finish"]["deterministic"] == pytest.approx(4.5)   # 2 (mode) + 2.5 (mean)
    pct = d["finish"]["percentiles"]
    for key in ("P1", "P5", "P10", "P50", "P90", "P95", "P99"):
        assert key in pct
    assert list(pct.values()) == sorted(pct.values())
    assert [t["id"] for t in d["tasks"]] == ["1", "b"]
    assert d["tasks"][1]["criticality"] == 1.0

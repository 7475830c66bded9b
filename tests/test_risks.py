"""The uncertainty model: risk events, drivers, correlation, existence, branches, ranking.

Analytic oracles with tolerances from theory (k * sigma / sqrt(n)), plus a naive
reconstruction of every adjusted duration from the documented random streams.
"""

import math

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats as sps

import pmosim
from pmosim.errors import ModelError
from pmosim.stats import pearson_to_spearman, spearman_to_pearson

import naive

K = 5  # sigmas of Monte Carlo tolerance


def binomial_tol(p, n):
    return K * math.sqrt(p * (1 - p) / n) + 1e-12


def one_task(duration=10):
    p = pmosim.Project("one")
    p.add_task("a", duration)
    return p


# -- risk events ---------------------------------------------------------------------------

def test_single_risk_gives_a_two_point_finish():
    p = one_task()
    p.add_risk("R", 0.3, ["a"], schedule_impact=5)
    n = 40_000
    r = pmosim.simulate(p, n, seed=11)
    f = r.finish.samples
    assert set(np.unique(f)) == {10.0, 15.0}
    assert abs(np.mean(f == 15.0) - 0.3) < binomial_tol(0.3, n)
    (stat,) = r.risks
    assert stat.occurrence == np.mean(f == 15.0)
    assert stat.mean_impact == 5.0 and stat.unit == "time"


def test_two_independent_risks_give_the_four_point_distribution():
    p = one_task()
    p.add_risk("A", 0.4, ["a"], schedule_impact=3)
    p.add_risk("B", 0.25, ["a"], schedule_impact=7)
    n = 40_000
    f = pmosim.simulate(p, n, seed=5).finish.samples
    expected = {10.0: 0.6 * 0.75, 13.0: 0.4 * 0.75, 17.0: 0.6 * 0.25, 20.0: 0.4 * 0.25}
    assert set(np.unique(f)) == set(expected)
    for value, prob in expected.items():
        assert abs(np.mean(f == value) - prob) < binomial_tol(prob, n), value


def test_percentage_impact_scales_the_sampled_duration():
    p = pmosim.Project()
    p.add_task("a", pmosim.Uniform(10, 20))
    p.add_risk("R", 1.0, ["a"], schedule_impact={"pct": 50})
    r = pmosim.simulate(p, 2_000, seed=3, keep_samples=True)
    base = pmosim.simulate(p, 2_000, seed=3, keep_samples=True, risks="none")
    assert_allclose(r.durations[:, 0], 1.5 * base.durations[:, 0], rtol=1e-14)


def test_negative_impacts_never_make_a_duration_negative():
    p = one_task(2)
    p.add_risk("opportunity", 1.0, ["a"], schedule_impact=-5)
    assert np.all(pmosim.simulate(p, 100, seed=1).finish.samples == 0.0)


def test_mitigation_uses_the_same_random_numbers():
    p = pmosim.Project()
    p.add_task("a", pmosim.Triangular(5, 8, 15))
    p.add_risk("R", 0.5, ["a"], schedule_impact=pmosim.Uniform(2, 6),
               mitigated={"probability": 0.2})
    n = 20_000
    pre = pmosim.simulate(p, n, seed=9, keep_samples=True)
    post = pmosim.simulate(p, n, seed=9, keep_samples=True, risks="post")
    none = pmosim.simulate(p, n, seed=9, keep_samples=True, risks="none")
    # the occurrence draw is the same uniform: occurring after mitigation implies before
    hit_pre = pre.durations[:, 0] > none.durations[:, 0]
    hit_post = post.durations[:, 0] > none.durations[:, 0]
    assert np.all(hit_pre[hit_post])
    assert abs(hit_post.mean() - 0.2) < binomial_tol(0.2, n)
    assert post.risk_mode == "post" and post.risks[0].probability == 0.2
    assert none.risks == []


# -- drivers -------------------------------------------------------------------------------

def test_certain_driver_scales_a_chain_exactly():
    p = pmosim.Project()
    for t, d in (("a", 4), ("b", 6), ("c", 10)):
        p.add_task(t, d)
    p.add_link("a", "b")
    p.add_link("b", "c")
    p.add_driver("D", 1.0, pmosim.Fixed(1.2), ["a", "b", "c"])
    f = pmosim.simulate(p, 500, seed=2).finish.samples
    assert_allclose(f, 1.2 * 20, rtol=1e-15)


def test_driver_correlates_its_tasks():
    p = pmosim.Project()
    p.add_task("a", pmosim.Uniform(9, 11))
    p.add_task("b", pmosim.Uniform(9, 11))
    p.add_driver("D", 0.5, pmosim.Uniform(1.0, 1.5), ["a", "b"])
    r = pmosim.simulate(p, 5_000, seed=4, keep_samples=True)
    rho = sps.spearmanr(r.durations[:, 0], r.durations[:, 1])[0]
    assert rho > 0.5
    (stat,) = r.risks
    assert stat.kind == "driver" and stat.unit == "factor"
    assert abs(stat.mean_impact - 1.25) < K * (0.5 / math.sqrt(12)) / math.sqrt(2_500)


# -- correlation ---------------------------------------------------------------------------

def clark_max_mean(mu, sigma, rho):
    """E[max(X1, X2)] of two N(mu, sigma^2) with Pearson correlation rho (Clark 1961)."""
    return mu + sigma * math.sqrt((1.0 - rho) / math.pi)


@pytest.mark.parametrize("rho_s", [-0.6, 0.0, 0.5, 0.9])
def test_max_of_two_correlated_normals_matches_clark(rho_s):
    mu, sigma, n = 100.0, 10.0, 40_000
    p = pmosim.Project()
    p.add_task("x", pmosim.Normal(mu, sigma))
    p.add_task("y", pmosim.Normal(mu, sigma))
    p.add_correlation(["x", "y"], rho_s)
    r = pmosim.simulate(p, n, seed=13)
    rho = float(spearman_to_pearson(rho_s))
    expected = clark_max_mean(mu, sigma, rho)
    sd_max = np.std(r.finish.samples)
    assert abs(r.finish.mean - expected) < K * sd_max / math.sqrt(n)


def test_achieved_rank_correlations_match_targets_with_any_marginals():
    p = pmosim.Project()
    dists = [pmosim.Triangular(1, 2, 9), pmosim.Pert(3, 4, 12), pmosim.LogNormal(5, 3),
             pmosim.Uniform(0, 1), pmosim.Normal(20, 4)]
    names = [f"t{i}" for i in range(5)]
    for name, d in zip(names, dists):
        p.add_task(name, d)
    target = np.array([[1, .6, .3, -.2, .5],
                       [.6, 1, .4, 0, .3],
                       [.3, .4, 1, .1, -.3],
                       [-.2, 0, .1, 1, .2],
                       [.5, .3, -.3, .2, 1]])
    p.add_correlation_matrix(names, target)
    r = pmosim.simulate(p, 10_000, seed=21, keep_samples=True)
    (c,) = r.correlations
    assert c.n_samples == 10_000
    assert np.max(np.abs(c.achieved - c.repaired)) < 0.03
    assert_allclose(c.achieved, sps.spearmanr(r.durations).statistic, atol=1e-12)
    # the marginals are untouched: each column is still its own distribution
    for j, d in enumerate(dists):
        ks = sps.kstest(r.durations[:, j], lambda x, d=d: d.cdf(x))
        assert ks.pvalue > 1e-4


def test_invalid_matrix_is_repaired_and_reported():
    p = pmosim.Project()
    for t in "abc":
        p.add_task(t, pmosim.Uniform(0, 1))
    bad = np.array([[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]])   # not positive semi-definite
    p.add_correlation_matrix(list("abc"), bad)
    r = pmosim.simulate(p, 10_000, seed=8)
    (c,) = r.correlations
    assert np.linalg.eigvalsh(spearman_to_pearson(c.repaired)).min() > 0
    assert len(c.changes()) == 3
    assert np.max(np.abs(c.achieved - c.repaired)) < 0.03
    q = pmosim.Project()
    for t in "abc":
        q.add_task(t, 1)
    q.add_correlation_matrix(list("abc"), bad, repair=False)
    with pytest.raises(ModelError, match="not positive semi-definite"):
        pmosim.simulate(q, 10, seed=1)


def test_spearman_pearson_conversion_round_trips():
    s = np.linspace(-1, 1, 21)
    assert_allclose(pearson_to_spearman(spearman_to_pearson(s)), s, atol=1e-12)


# -- existence, branches, conditions -------------------------------------------------------

def test_probabilistic_task_exists_with_its_probability():
    p = pmosim.Project()
    p.add_task("a", 5)
    p.add_task("b", 3, existence=0.25)
    p.add_task("c", 2)
    p.add_link("a", "b")
    p.add_link("b", "c")
    n = 20_000
    r = pmosim.simulate(p, n, seed=6, keep_samples=True)
    exists = r.durations[:, 1] > 0
    assert abs(exists.mean() - 0.25) < binomial_tol(0.25, n)
    # when it does not exist its links pass through: c follows a directly
    assert_array_equal(r.finish.samples, np.where(exists, 10.0, 7.0))
    # a task that does not exist is never critical
    assert r.criticality["b"] == exists.mean()


def test_branch_takes_exactly_one_option_with_its_probability():
    p = pmosim.Project()
    p.add_task("test", 5)
    for t, d in (("deploy", 2), ("rework", 4), ("retest", 3)):
        p.add_task(t, d)
        p.add_link("test", t)
    p.add_link("rework", "retest")
    p.add_branch("outcome", [(0.7, ["deploy"]), (0.3, ["rework", "retest"])])
    n = 20_000
    r = pmosim.simulate(p, n, seed=12, keep_samples=True)
    ids = r.task_ids
    deploy = r.durations[:, ids.index("deploy")] > 0
    rework = r.durations[:, ids.index("rework")] > 0
    retest = r.durations[:, ids.index("retest")] > 0
    assert np.all(deploy != rework) and np.all(rework == retest)
    assert abs(deploy.mean() - 0.7) < binomial_tol(0.7, n)
    assert set(np.unique(r.finish.samples)) == {7.0, 12.0}


def test_conditional_task_exists_only_when_its_condition_holds():
    p = pmosim.Project()
    p.add_task("permit", pmosim.Uniform(30, 60))
    p.add_task("appeal", 10, when={"task": "permit", "finish_after": 45})
    p.add_task("fallback", 1, when={"task": "permit", "finish_before": 45})
    p.add_link("permit", "appeal")
    p.add_link("permit", "fallback")
    r = pmosim.simulate(p, 5_000, seed=14, keep_samples=True)
    late = r.finishes[:, 0] > 45
    assert_array_equal(r.durations[:, 1] > 0, late)
    assert_array_equal(r.durations[:, 2] > 0, ~late)


def test_condition_on_a_task_that_is_not_an_ancestor_is_rejected():
    p = pmosim.Project()
    p.add_task("a", 1)
    p.add_task("b", 1, when={"task": "a", "finish_after": 3})
    with pytest.raises(ModelError, match="not a predecessor"):
        pmosim.simulate(p, 10, seed=1)


def test_bad_uncertainty_input_names_the_problem():
    p = one_task()
    with pytest.raises(ModelError, match=r"risk 'R': probability must be within 0..1, got 1.5"):
        p.add_risk("R", 1.5, ["a"], schedule_impact=1)
    with pytest.raises(ModelError, match="unknown task 'zz'"):
        p.add_risk("R", 0.5, ["zz"], schedule_impact=1)
    with pytest.raises(ModelError, match="must sum to 1"):
        p.add_branch("B", [(0.5, ["a"]), (0.4, ["a"])])


# -- ranking -------------------------------------------------------------------------------

def test_rank_risks_measures_each_risk_on_common_random_numbers():
    p = pmosim.Project()
    p.add_task("a", pmosim.Triangular(8, 10, 14))
    p.add_task("b", pmosim.Triangular(4, 5, 9))
    p.add_link("a", "b")
    p.add_risk("big", 0.9, ["a"], schedule_impact=6)
    p.add_risk("small", 0.9, ["b"], schedule_impact=1)
    p.add_risk("never", 0.0, ["b"], schedule_impact=50)
    p.add_driver("D", 0.5, pmosim.Fixed(1.1), ["a", "b"])
    rank = pmosim.rank_risks(p, 4_000, seed=3, percentile=80)
    ids = [e.id for e in rank.entries]
    assert ids[0] == "big" and ids[-1] == "never"
    by_id = {e.id: e for e in rank.entries}
    assert by_id["never"].percentile_shift == 0.0 and by_id["never"].mean_shift == 0.0
    # a risk in series on every path shifts the mean by exactly p * impact of its own
    # occurrences: on common random numbers the difference is that sum, no noise
    base = pmosim.simulate(p, 4_000, seed=3)
    hits = base.risks[0].occurrence
    assert by_id["big"].mean_shift == pytest.approx(hits * 6, rel=0.2)


# -- the naive reconstruction of the adjusted durations (tests/naive.py) -------------------

def test_kernel_durations_equal_the_naive_reconstruction():
    g = nx.DiGraph()
    p = pmosim.Project("mixed", graph=g)
    p.add_task("a", pmosim.Pert(3, 5, 12))
    p.add_task("b", pmosim.Triangular(2, 4, 6), existence=0.6)
    p.add_task("c", pmosim.LogNormal(6, 2))
    p.add_task("d", pmosim.Uniform(1, 3))
    p.add_task("e", 4)
    p.add_task("f", pmosim.Normal(3, 2))
    for u_, v_ in (("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("d", "f")):
        p.add_link(u_, v_)
    p.add_risk("R1", 0.4, ["a", "c"], schedule_impact=pmosim.Triangular(1, 2, 5))
    p.add_risk("R2", 0.3, ["c"], schedule_impact={"pct": pmosim.Uniform(10, 30)})
    p.add_risk("R3", 0.5, ["f"], schedule_impact=-4)
    p.add_driver("D1", 0.7, pmosim.Triangular(0.9, 1.0, 1.4), ["a", "d"])
    p.add_branch("B", [(0.5, ["e"]), (0.5, ["f"])])
    n = 300
    r = pmosim.simulate(p, n, seed=77, keep_samples=True)
    assert_allclose(r.durations, naive.adjusted_durations(p, 77, n), rtol=1e-12, atol=1e-12)


def test_every_feature_on_is_bit_identical_across_threads_and_chunks():
    p = pmosim.Project()
    for i in range(12):
        p.add_task(i, pmosim.Triangular(1, 2 + i % 3, 8), existence=0.9 if i == 5 else 1.0)
    for i in range(11):
        p.add_link(i, i + 1, type="FS" if i % 2 else "SS", lag=pmosim.Uniform(0, 1) if i == 3 else 0)
    p.add_risk("R", 0.3, [2, 7], schedule_impact=pmosim.Pert(1, 2, 6))
    p.add_driver("D", 0.5, pmosim.Uniform(1, 1.3), [1, 4, 9])
    p.add_correlation([0, 6, 10], 0.6)
    p.add_branch("B", [(0.5, [8]), (0.5, [11])])
    a = pmosim.simulate(p, 3_001, seed=99, threads=1, chunk_size=64)
    b = pmosim.simulate(p, 3_001, seed=99, threads=2, chunk_size=1000)
    assert_array_equal(a.finish.samples, b.finish.samples)
    assert a.to_dict() == b.to_dict()

"""Sensitivity, critical paths, merge bias and task P-dates against the naive reference
(tests/naive.py on the kept samples) and analytic cases."""

import datetime as dt

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pmosim
from pmosim import Fixed, Normal, Pert, Triangular, Uniform
from pmosim.calendar import WorkCalendar

import naive

LINK_TYPES = ("FS", "SS", "FF", "SF")


def random_network(n=30, seed=3):
    """A random DAG with every link type and fixed lags, durations of several shapes."""
    r = np.random.default_rng(seed)
    g = nx.DiGraph()
    shapes = (lambda: Triangular(1, 3, 9), lambda: Pert(2, 4, 12), lambda: Uniform(1, 6),
              lambda: Fixed(2.0), lambda: 0.0)
    for i in range(n):
        g.add_node(f"t{i}", duration=shapes[int(r.integers(len(shapes)))]())
    for v in range(1, n):
        for u in r.choice(v, size=min(v, int(r.integers(1, 3))), replace=False):
            g.add_edge(f"t{u}", f"t{v}", type=LINK_TYPES[int(r.integers(4))],
                       lag=float(r.choice([0.0, 0.0, 1.0, -0.5])))
    return g


@pytest.fixture(scope="module")
def kept():
    g = random_network()
    res = pmosim.simulate(g, 3000, seed=7, keep_samples=True)
    run = naive.simulate(g, res.task_ids, res.durations)
    return g, res, run


def test_measures_equal_the_naive_formulas(kept):
    g, res, run = kept
    ref = naive.sensitivity(res.durations, run)
    s = res.sensitivity
    assert s.sample_size == res.iterations    # the rank measures saw every iteration
    assert_array_equal(s.ci, ref["ci"])
    # streamed as fixed-point sums that resolve 2**-32 (2.3e-10) of each task's scaled
    # spread per super-block: agree to about 1e-9 of a measure's range (0..1)
    for m in ("si", "ssi", "cri_r"):
        assert_allclose(getattr(s, m), ref[m], rtol=1e-9, atol=1e-9, err_msg=m)
    for m in ("cri_rho", "cri_tau"):
        assert_allclose(getattr(s, m), ref[m], rtol=1e-12, atol=1e-12, err_msg=m)
    # the network has fixed tasks and milestones: no variation, no cruciality
    fixed = np.all(res.durations == res.durations[:1], axis=0)
    assert fixed.any() and np.all(s.cri_r[fixed] == 0) and np.all(s.cri_tau[fixed] == 0)


def test_rank_measures_use_the_first_iterations(monkeypatch):
    from pmosim import engine
    monkeypatch.setattr(engine, "SENS_SAMPLE_MAX", 700)
    g = random_network(12, seed=5)
    res = pmosim.simulate(g, 2000, seed=1, keep_samples=True)
    assert res.sensitivity.sample_size == 700
    run = naive.simulate(g, res.task_ids, res.durations[:700])
    ref = naive.sensitivity(res.durations[:700], run)
    assert_allclose(res.sensitivity.cri_tau, ref["cri_tau"], rtol=1e-12, atol=1e-12)
    assert_allclose(res.sensitivity.cri_rho, ref["cri_rho"], rtol=1e-12, atol=1e-12)


def test_two_parallel_identical_tasks():
    p = pmosim.Project("par")
    p.add_task("a", Triangular(2, 4, 9))
    p.add_task("b", Triangular(2, 4, 9))
    p.add_task("end", 0)
    p.add_link("a", "end")
    p.add_link("b", "end")
    n = 20_000
    res = pmosim.simulate(p, n, seed=11)
    s = res.sensitivity
    i = {t: k for k, t in enumerate(s.ids)}
    tol = 4 * np.sqrt(0.25 / n)
    assert abs(s.ci[i["a"]] - 0.5) < tol and abs(s.ci[i["b"]] - 0.5) < tol
    assert s.ci[i["end"]] == 1.0
    # symmetric tasks: equal measures up to sampling error; the milestone has none
    for m in ("cri_r", "cri_rho", "cri_tau", "ssi", "si"):
        v = getattr(s, m)
        assert abs(v[i["a"]] - v[i["b"]]) < 0.05, m
    assert s.cri_r[i["end"]] == 0 and s.ssi[i["end"]] == 0 and s.si[i["end"]] == 0
    # the two critical paths, each about half the time
    assert sorted(tuple(c.tasks) for c in res.paths) == [("a", "end"), ("b", "end")]
    assert sum(c.frequency for c in res.paths) == 1.0
    assert all(abs(c.frequency - 0.5) < tol for c in res.paths)


def test_single_chain_by_hand():
    """A chain of independent tasks: T = sum of d, so CI = 1, SI = 1 (no float),
    SSI = CRI(r) = sd(d_i) / sd(T) with sd(T) = sqrt(sum of variances)."""
    dists = {"a": Uniform(0, 12), "b": Normal(20, 1), "c": Fixed(5.0)}
    p = pmosim.Project("chain")
    for t, d in dists.items():
        p.add_task(t, d)
    p.add_link("a", "b")
    p.add_link("b", "c")
    n = 40_000
    res = pmosim.simulate(p, n, seed=3)
    s = res.sensitivity
    sd = {"a": 12 / np.sqrt(12), "b": 1.0, "c": 0.0}
    sd_t = np.sqrt(sd["a"] ** 2 + sd["b"] ** 2)
    for k, t in enumerate(s.ids):
        assert s.ci[k] == 1.0
        assert s.si[k] == pytest.approx(1.0 if t != "c" else 1.0, abs=1e-9)
        # a correlation's standard error is at most (1 - r^2) / sqrt(n)
        assert s.cri_r[k] == pytest.approx(sd[t] / sd_t, abs=4 / np.sqrt(n))
        assert s.ssi[k] == pytest.approx(sd[t] / sd_t, abs=4 / np.sqrt(n))
    assert res.paths[0].tasks == ["a", "b", "c"] and res.paths[0].frequency == 1.0


def test_cost_cruciality_against_the_samples():
    p = pmosim.Project("costs")
    p.add_task("a", Triangular(2, 4, 9), cost_rate=100.0)
    p.add_task("b", Uniform(1, 3), cost_fixed=Uniform(500, 900))
    p.add_task("c", Pert(1, 2, 5))
    p.add_link("a", "b")
    p.add_link("a", "c")
    res = pmosim.simulate(p, 3000, seed=9, keep_samples=True)
    s = res.sensitivity
    i = {t: k for k, t in enumerate(res.task_ids)}
    k_tot = res.cost.samples
    d = res.durations
    cost_a = 100.0 * d[:, i["a"]]
    from scipy import stats as sps
    assert s.cost_cri_r[i["a"]] == pytest.approx(abs(np.corrcoef(cost_a, k_tot)[0, 1]), rel=1e-9)
    assert s.cost_cri_tau[i["a"]] == pytest.approx(
        abs(sps.kendalltau(cost_a, k_tot).statistic), rel=1e-12)
    # b's cost is its fixed cost: the rest of the project cost is a's
    cost_b = k_tot - cost_a
    assert s.cost_cri_rho[i["b"]] == pytest.approx(
        abs(sps.spearmanr(cost_b, k_tot).statistic), rel=1e-12)
    assert np.isnan(s.cost_cri_r[i["c"]])       # c has no cost
    assert "cost_cri_tau" in s.measures()


def test_critical_path_frequencies_equal_the_naive_critical_sets(kept):
    g, res, run = kept
    sets = naive.critical_sets(run, res.task_ids)
    for path in res.paths:
        assert path.frequency == sets[frozenset(path.tasks)] / res.iterations
    top = sorted(sets.values(), reverse=True)[:len(res.paths)]
    assert [round(c.frequency * res.iterations) for c in res.paths] == top


def test_merge_bias_of_two_normal_predecessors():
    """E[max(X1, X2)] of iid N(mu, s^2) is mu + s / sqrt(pi)."""
    p = pmosim.Project("merge")
    p.add_task("a", Normal(10, 2))
    p.add_task("b", Normal(10, 2))
    p.add_task("m", 0)
    p.add_link("a", "m")
    p.add_link("b", "m")
    n = 40_000
    res = pmosim.simulate(p, n, seed=5)
    [mb] = res.merge_bias
    assert mb.task_id == "m" and mb.preds == 2 and mb.deterministic_start == 10.0
    assert mb.bias_mean == pytest.approx(2 / np.sqrt(np.pi), abs=4 * 2 / np.sqrt(n))
    assert mb.jensen == pytest.approx(2 / np.sqrt(np.pi), abs=4 * 2 / np.sqrt(n))
    assert mb.bias_percentiles["P50"] < mb.bias_percentiles["P80"] < mb.bias_percentiles["P90"]


def test_start_percentiles_match_the_samples(kept):
    g, res, run = kept
    q = [10, 50, 90]
    est = res.tasks.start_percentile(q)
    exact = np.percentile(res.starts, q, axis=0).T
    width = 1.0 / res.tasks.start_scale      # one histogram bin
    assert np.all(np.abs(est - exact) <= width[:, None] + 1e-9)
    assert_array_equal(res.tasks.start_min, res.starts.min(axis=0))
    assert_array_equal(res.tasks.start_max, res.starts.max(axis=0))
    assert_array_equal(res.tasks.deterministic_start, naive.cpm(g).array("early_start",
                                                                          res.task_ids))


def test_task_dates_on_the_project_calendar():
    p = pmosim.Project("dates", start="2027-03-01", calendar=WorkCalendar(
        holidays=["2027-03-03"]))
    p.add_task("a", Uniform(2, 6))
    p.add_task("m", 0)
    p.add_link("a", "m")
    res = pmosim.simulate(p, 2000, seed=1)
    cal = p.calendar
    f = res.tasks.finish_percentile(80)
    assert res.tasks.finish_dates(80) == [cal.finish_dates(p.start, x) for x in f]
    assert res.tasks.kinds == ["task", "milestone"]
    # a milestone's start shows on its finish date; a task's start on its first day
    starts = res.tasks.start_dates(80)
    assert starts[1] == res.tasks.finish_dates(80)[1]
    assert starts[0] == dt.date(2027, 3, 1)
    assert res.tasks.deterministic_finish_dates()[0] == cal.finish_dates(p.start, 4.0)
    doc = res.to_dict()
    row = doc["tasks"][1]
    assert row["kind"] == "milestone"
    assert row["finish_dates"]["P80"] == res.tasks.finish_dates(80)[1].isoformat()
    assert set(row["sensitivity"]) == set(res.sensitivity.measures())
    no_start = pmosim.Project("x")
    no_start.add_task("a", 1)
    with pytest.raises(pmosim.ModelError, match="no start date"):
        pmosim.simulate(no_start, 10, seed=1).tasks.finish_dates(50)


def test_sensitivity_off_changes_nothing_else():
    g = random_network(15, seed=8)
    a = pmosim.simulate(g, 1500, seed=4)
    b = pmosim.simulate(g, 1500, seed=4, sensitivity=False)
    assert b.sensitivity is None and b.paths == []
    assert_array_equal(a.finish.samples, b.finish.samples)
    assert_array_equal(a.tasks.finish_hist, b.tasks.finish_hist)
    assert_array_equal(a.tasks.criticality, b.tasks.criticality)


def test_levelled_runs_have_no_significance_index():
    p = pmosim.Project("lev")
    p.add_resource("crew", capacity=1)
    p.add_task("a", Uniform(2, 4), resources={"crew": 1})
    p.add_task("b", Uniform(2, 4), resources={"crew": 1})
    res = pmosim.simulate(p, 1000, seed=2, levelling="serial")
    s = res.sensitivity
    assert np.all(np.isnan(s.si))
    assert_array_equal(s.ci, res.tasks.criticality)
    # one crew: the tasks run one after the other, both always on the driving path
    assert np.all(s.ci == 1.0) and res.paths[0].frequency == 1.0


def test_top_and_frame():
    g = random_network(10, seed=2)
    res = pmosim.simulate(g, 1000, seed=3)
    s = res.sensitivity
    top = s.top("cri_tau", 3)
    assert [v for _, v in top] == sorted([v for _, v in top], reverse=True)
    assert top[0][1] == np.nanmax(s.cri_tau)
    with pytest.raises(ValueError, match="unknown sensitivity measure"):
        s.top("nope")
    pd = pytest.importorskip("pandas")
    frame = s.to_frame()
    assert list(frame.index) == res.task_ids
    assert_array_equal(frame["cri_r"].to_numpy(), s.cri_r)
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("k", [2, 3, 7, 50, 333])
def test_rank_kernel_equals_scipy_with_ties(k):
    """kernels.rank.spearman_kendall (average ranks; Knight's merge sort) against scipy's
    spearmanr and tau-b, on samples with many ties in both variables and a constant row
    (NaN, as scipy)."""
    from scipy import stats as sps
    from pmosim.kernels.rank import spearman_kendall
    r = np.random.default_rng(k)
    x = r.integers(0, 5, size=(6, k)).astype(float)
    x[4] = r.normal(size=k)
    x[5] = 2.0
    y = r.integers(0, 4, size=k).astype(float)
    y[0] = y[-1] + 1.0           # y varies
    rho, tau = spearman_kendall(x, y, np.argsort(y, kind="stable"))
    with np.errstate(invalid="ignore"):
        ref_tau = np.array([sps.kendalltau(x[j], y).statistic for j in range(6)])
        ref_rho = np.array([sps.spearmanr(x[j], y).statistic if np.ptp(x[j]) > 0 else np.nan
                            for j in range(6)])
    assert_allclose(tau, ref_tau, rtol=1e-12, atol=1e-15, equal_nan=True)
    assert_allclose(rho, ref_rho, rtol=1e-12, atol=1e-15, equal_nan=True)


def test_rank_measures_do_not_depend_on_threads():
    from pmosim import stats
    r = np.random.default_rng(3)
    x = r.normal(size=(400, 300))
    x[:, 7] = 1.0
    y = x[:, 0] + r.normal(size=400)
    one = stats.rank_cruciality(x, y, threads=1)
    two = stats.rank_cruciality(x, y, threads=3)
    assert_array_equal(one[0], two[0]) and assert_array_equal(one[1], two[1])
    assert one[0][7] == 0 and one[1][7] == 0

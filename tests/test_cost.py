"""Cost in the same iterations as the schedule: exact checks, JCL, cash flow."""

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import pmosim
from pmosim.errors import ModelError

K = 5
SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"


def test_fixed_plus_rate_times_duration_per_iteration():
    p = pmosim.Project()
    p.add_task("a", pmosim.Triangular(4, 6, 14), cost_fixed=250.0, cost_rate=40.0)
    n = 20_000
    r = pmosim.simulate(p, n, seed=3, keep_samples=True)
    assert_allclose(r.cost.samples, 250.0 + 40.0 * r.durations[:, 0], rtol=1e-14)
    sd = 40.0 * pmosim.Triangular(4, 6, 14).std
    assert abs(r.cost.mean - (250.0 + 40.0 * 8.0)) < K * sd / math.sqrt(n)
    assert r.cost.deterministic == 250.0 + 40.0 * 6.0


def test_project_rate_times_the_finish():
    p = pmosim.Project()
    p.add_task("a", pmosim.Uniform(10, 20))
    p.add_task("b", pmosim.Uniform(5, 30))
    p.cost_rate = 1000.0
    r = pmosim.simulate(p, 5_000, seed=4)
    assert_allclose(r.cost.samples, 1000.0 * r.finish.samples, rtol=1e-14)


def test_risk_cost_impact_adds_p_times_impact_to_the_mean():
    p = pmosim.Project()
    p.add_task("a", 10, cost_fixed=100.0)
    p.add_risk("R", 0.2, ["a"], cost_impact=500.0)
    n = 40_000
    r = pmosim.simulate(p, n, seed=5)
    assert set(np.unique(r.cost.samples)) == {100.0, 600.0}
    sd = 500.0 * math.sqrt(0.2 * 0.8)
    assert abs(r.cost.mean - (100.0 + 0.2 * 500.0)) < K * sd / math.sqrt(n)
    # the same iteration that pays the risk's cost has it occur: late and expensive together
    q = pmosim.Project()
    q.add_task("a", 10, cost_fixed=100.0)
    q.add_risk("R", 0.2, ["a"], schedule_impact=3, cost_impact=500.0)
    s = pmosim.simulate(q, 2_000, seed=5)
    assert_array_equal(s.finish.samples == 13.0, s.cost.samples == 600.0)


def test_jcl_of_independent_projects_is_the_product_of_marginals():
    # two unconnected one-task "projects": finish from one, cost from the other
    p = pmosim.Project()
    p.add_task("time", pmosim.Uniform(0, 10))
    p.add_task("money", 0, cost_fixed=pmosim.Uniform(0, 100))
    n = 40_000
    r = pmosim.simulate(p, n, seed=6)
    for a, b in ((5, 50), (8, 30), (2, 90)):
        pf, pc = r.finish.probability_le(a), r.cost.probability_le(b)
        assert abs(r.jcl(a, b) - pf * pc) < K * math.sqrt(pf * pc * (1 - pf * pc) / n)


def test_jcl_of_perfectly_dependent_finish_and_cost_is_the_smaller_marginal():
    p = pmosim.Project()
    p.add_task("a", pmosim.Triangular(10, 12, 20), cost_rate=100.0)
    r = pmosim.simulate(p, 10_000, seed=7)
    for a, b in ((12, 1500), (15, 1300), (18, 1900)):
        assert r.jcl(a, b) == min(r.finish.probability_le(a), r.cost.probability_le(b))


def test_jcl_frontier_points_have_the_joint_probability():
    p = pmosim.Project()
    p.add_task("a", pmosim.Pert(10, 14, 30), cost_rate=pmosim.Uniform(80, 120))
    p.add_task("b", pmosim.Triangular(5, 6, 12), cost_fixed=pmosim.Normal(400, 50))
    p.add_link("a", "b", type="SS", lag=3)
    r = pmosim.simulate(p, 10_000, seed=8)
    front = r.jcl_frontier(0.7, 20)
    assert len(front) >= 10
    for f, c in front:
        assert r.jcl(f, c) >= 0.7
        assert r.jcl(f, np.nextafter(c, -np.inf)) < 0.7
    assert np.all(np.diff(front[:, 1]) <= 0)     # later finish, cheaper 70 % budget


def test_cash_flow_ends_at_the_total_cost_and_starts_at_zero():
    p = pmosim.Project()
    p.add_task("design", pmosim.Uniform(5, 10), cost_rate=10.0)
    p.add_task("build", pmosim.Uniform(10, 20), cost_fixed=300.0)
    p.add_link("design", "build")
    r = pmosim.simulate(p, 20_000, seed=9)
    cf = r.cashflow
    curves = cf.percentile([10, 50, 90])
    assert np.all(curves[0] == 0.0)
    assert np.all(np.diff(curves, axis=0) >= -1e-9)        # cumulative spend never falls
    # the grid reaches past every finish, so the last point is the total cost's distribution
    assert cf.times[-1] >= r.finish.max
    bin_width = 1.0 / r.cashflow.scale[0]
    for q, v in zip((10, 50, 90), curves[-1]):
        assert abs(v - r.cost.percentile(q)) <= bin_width
    # linear accrual: half way through a fixed-duration task half its cost is spent
    half = pmosim.Project()
    half.add_task("a", 10, cost_fixed=1000.0)
    h = pmosim.simulate(half, 100, seed=1).cashflow
    k = np.argmin(np.abs(h.times - 5.0))
    assert h.percentile(50)[k] == pytest.approx(100.0 * h.times[k], rel=1e-9)


def test_no_costs_means_no_cost_results():
    p = pmosim.Project()
    p.add_task("a", 3)
    r = pmosim.simulate(p, 10, seed=1)
    assert r.cost is None and "cost" not in r.to_dict()
    with pytest.raises(ValueError, match="no costs"):
        r.jcl(3, 3)


def test_negative_cost_is_a_model_error():
    p = pmosim.Project()
    p.add_task("a", 3, cost_rate=-5)
    with pytest.raises(ModelError, match=r"task 'a': cost_rate"):
        pmosim.simulate(p, 10, seed=1)


def test_cost_results_are_bit_identical_across_threads_and_chunks():
    p = pmosim.Project()
    for i in range(30):
        p.add_task(i, pmosim.Triangular(1, 3, 9), cost_rate=pmosim.Uniform(50, 70),
                   cost_fixed=100.0 * (i % 3))
        if i:
            p.add_link(i - 1, i, type="SS" if i % 4 else "FS", lag=1)
    p.add_risk("R", 0.3, [3, 9], schedule_impact=2, cost_impact=pmosim.Uniform(100, 400))
    p.cost_rate = 5.0
    a = pmosim.simulate(p, 2_003, seed=10, threads=1, chunk_size=50)
    b = pmosim.simulate(p, 2_003, seed=10, threads=2, chunk_size=777)
    assert_array_equal(a.cost.samples, b.cost.samples)
    assert a.to_dict() == b.to_dict()


def test_cash_flow_of_work_done_before_time_zero():
    # a completed task (actual dates before the data date, time 0) has spent its whole cost
    # by t = 0; its deposits must not land at negative grid indices
    p = pmosim.Project()
    p.add_task("done", 4, fixed_start=-6, fixed_finish=-2, cost_fixed=400.0)
    p.add_task("next", 10, cost_fixed=1000.0)
    p.add_link("done", "next")
    cf = pmosim.simulate(p, 50, seed=1).cashflow
    p50 = cf.percentile(50)
    assert p50[0] == pytest.approx(400.0)
    k = np.argmin(np.abs(cf.times - 5.0))
    assert p50[k] == pytest.approx(400.0 + 100.0 * cf.times[k], rel=1e-9)
    assert p50[-1] == pytest.approx(1400.0)


def test_planned_cost_prices_the_plan_not_every_alternative():
    # the plan: what is expected to happen on the CPM dates; probabilistic tasks and
    # the less likely branch options are contingency, like risk events
    p = pmosim.Project()
    p.add_task("a", 10, cost_fixed=100.0, cost_rate=2.0)                  # 100 + 2 * 10
    p.add_task("maybe", 4, cost_fixed=1_000.0, existence=0.9)             # not in the plan
    p.add_task("pass", 3, cost_fixed=10.0)
    p.add_task("fail", 8, cost_fixed=500.0)
    p.add_branch("test", [(0.4, ["fail"]), (0.6, ["pass"])])              # pass is planned
    p.add_task("x", 1, cost_fixed=3.0)
    p.add_task("y", 1, cost_fixed=5.0)
    p.add_branch("tie", [(0.5, ["x"]), (0.5, ["y"])])                     # the first: x
    p.add_task("late", 2, cost_fixed=7_000.0, when={"task": "a", "finish_after": 12})
    p.add_task("ontime", 2, cost_fixed=30.0, when={"task": "a", "finish_before": 12})
    for t in ("maybe", "pass", "fail", "x", "y", "late", "ontime"):
        p.add_link("a", t)
    p.cost_rate = 1.5
    finish = pmosim.cpm(p).finish
    assert finish == 18.0                                       # CPM still schedules every task
    r = pmosim.simulate(p, 200, seed=1)
    assert r.cost.deterministic == 120.0 + 10.0 + 3.0 + 30.0 + 1.5 * finish
    # a condition that holds on the CPM dates puts its task in the plan
    q = pmosim.Project()
    q.add_task("a", 10, cost_fixed=100.0)
    q.add_task("late", 2, cost_fixed=7_000.0, when={"task": "a", "start_after": -1})
    q.add_link("a", "late")
    assert pmosim.simulate(q, 10, seed=1).cost.deterministic == 7_100.0


def test_branching_scenario_has_no_negative_contingency_from_the_plan():
    # before the plan rule every branch option and probabilistic task was priced, so the
    # planned cost exceeded even high percentiles of the simulated cost
    r = pmosim.simulate(pmosim.load(SCENARIO_DIR / "app-release-branches.toml"), 4_000, seed=3)
    assert r.cost.deterministic < r.cost.percentile(80)

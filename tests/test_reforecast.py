"""Re-forecasts that learn (:mod:`pmosim.reforecast`): the conjugate update against hand
formulas and a brute-force grid posterior, the direction of the forecast, reproducibility,
``method="plain"`` against :func:`pmosim.evm.apply_status`, and a DSLIB project end to
end."""

import json
import math

import numpy as np
import pytest

import pmosim
from pmosim.errors import ModelError
from pmosim.evm import StatusPeriod, TaskStatus, apply_status
from pmosim.reforecast import (
    COST_RISK_ID, DRIVER_ID, FactorPosterior, learn, nig_update, observations, reforecast,
)

from _data import data_dir


def _chain(n=6, dist=lambda: pmosim.Triangular(8, 10, 12), **costs):
    p = pmosim.Project("chain")
    ids = [f"t{k}" for k in range(n)]
    for t in ids:
        p.add_task(t, dist(), planned=10.0, **costs)
    for a, b in zip(ids, ids[1:]):
        p.add_link(a, b)
    return p


def _status(durations, *, costs=None, at=None):
    """The first tasks of a chain finished one after another in ``durations``."""
    acts, t = {}, 0.0
    for k, d in enumerate(durations):
        acts[f"t{k}"] = TaskStatus(t, t + d, 1.0, None if costs is None else costs[k])
        t += d
    return StatusPeriod(t if at is None else at, acts)


# -- the conjugate update ---------------------------------------------------------------
def test_univariate_update_is_the_textbook_formula():
    y = np.array([0.1, 0.3, -0.2, 0.25])
    w = np.array([1.0, 1.0, 0.5, 2.0])
    n0, nu0, s0 = 2.0, 3.0, 0.2
    beta, lam, a_n, b_n = nig_update(y, w, np.ones(4), [[n0]], nu0 / 2, nu0 * s0 ** 2 / 2)
    W = w.sum()
    ybar = (w * y).sum() / W
    kappa = n0 + W
    assert lam[0, 0] == pytest.approx(kappa, rel=1e-14)
    assert beta[0] == pytest.approx(W * ybar / kappa, rel=1e-14)
    assert a_n == pytest.approx(nu0 / 2 + 4 / 2, rel=1e-14)
    expect_b = nu0 * s0 ** 2 / 2 + 0.5 * ((w * (y - ybar) ** 2).sum() + n0 * W * ybar ** 2 / kappa)
    assert b_n == pytest.approx(expect_b, rel=1e-12)


def test_update_matches_a_brute_force_grid_posterior():
    """Posterior mean and variance of mu by numerical integration of prior x likelihood
    over (mu, sigma^2), against the Student-t marginal's."""
    y = np.array([0.4, 0.1, 0.35, -0.05, 0.5])
    w = np.array([1.0, 0.5, 1.0, 1.0, 0.8])
    n0, nu0, s0 = 3.0, 4.0, 0.25
    a0, b0 = nu0 / 2, nu0 * s0 ** 2 / 2
    beta, lam, a_n, b_n = nig_update(y, w, np.ones(5), [[n0]], a0, b0)
    mu = np.linspace(-1.5, 2.0, 1401)[:, None]
    s2 = np.geomspace(1e-4, 5.0, 3001)[None, :]
    log_post = (-(a0 + 1) * np.log(s2) - b0 / s2                       # InvGamma(a0, b0)
                - 0.5 * np.log(s2) - n0 * mu ** 2 / (2 * s2)           # N(0, s2 / n0)
                - 0.5 * len(y) * np.log(s2)
                - ((w[None, None, :] * (y - mu[..., None]) ** 2).sum(-1)) / (2 * s2))
    dens = np.exp(log_post - log_post.max()) * s2          # geometric grid: d(s2) ~ s2
    marg = dens.sum(1)
    marg /= marg.sum()
    mean = float((marg * mu[:, 0]).sum())
    var = float((marg * (mu[:, 0] - mean) ** 2).sum())
    nu = 2 * a_n
    assert mean == pytest.approx(beta[0], abs=1e-4)
    assert var == pytest.approx(b_n / (a_n * lam[0, 0]) * nu / (nu - 2), rel=2e-3)


def test_learn_gives_the_posterior_of_the_log_ratios():
    """Fixed planned durations (m_i = 0): y_i = log(actual / planned) and with
    ``weights="size"`` each weight is planned / mean(planned)."""
    p = pmosim.Project("p")
    planned = {"a": 10.0, "b": 20.0, "c": 5.0, "d": 8.0}
    for t, d in planned.items():
        p.add_task(t, d)
    p.add_link("a", "b"); p.add_link("b", "c"); p.add_link("c", "d")
    status = StatusPeriod(43.0, {"a": TaskStatus(0.0, 12.0, 1.0),
                                 "b": TaskStatus(12.0, 38.0, 1.0),
                                 "c": TaskStatus(38.0, None, 0.5)})    # 5 days in, half done
    n0, nu0, s0 = 2.0, 2.0, 0.3
    post = learn(p, status, strength=n0, dof=nu0, scale=s0, drift=0.0).duration
    y = np.log([12 / 10, 26 / 20, (5 / 0.5) / 5])
    w = np.array([1.0, 1.0, 0.5]) * np.array([10, 20, 5]) / np.mean([10, 20, 5])
    W, ybar = w.sum(), (w * y).sum() / w.sum()
    kappa = n0 + W
    a_n = nu0 / 2 + 3 / 2
    b_n = nu0 * s0 ** 2 / 2 + 0.5 * ((w * (y - ybar) ** 2).sum() + n0 * W * ybar ** 2 / kappa)
    assert post.n == 3 and post.weight == pytest.approx(W)
    assert post.location == pytest.approx(W * ybar / kappa, rel=1e-12)
    assert post.scale == pytest.approx(math.sqrt(b_n / (a_n * kappa)), rel=1e-12)
    assert post.dof == pytest.approx(2 * a_n)
    assert post.sigma == pytest.approx(math.sqrt(b_n / a_n))
    # the drift adds r * sigma^2 to the factor's variance
    drifting = learn(p, status, strength=n0, dof=nu0, scale=s0, drift=0.5).duration
    assert drifting.scale == pytest.approx(math.sqrt(b_n / a_n * (1 / kappa + 0.5)), rel=1e-12)
    known = learn(p, status, strength=n0, scale=s0, drift=0.0, variance="known").duration
    assert known.dof == math.inf
    assert known.scale == pytest.approx(s0 / math.sqrt(kappa), rel=1e-12)
    equal = learn(p, status, strength=n0, scale=s0, drift=0.0, weights="equal").duration
    we = np.array([1.0, 1.0, 0.5])
    assert equal.location == pytest.approx((we * y).sum() / (n0 + we.sum()), rel=1e-12)


def test_implied_mean_of_the_plan_is_the_prior_centre():
    """A task that took exactly its planned distribution's geometric mean is no evidence
    of a bias: y = 0."""
    p = _chain(2, dist=lambda: pmosim.Triangular(8, 10, 16))
    x = pmosim.Triangular(8, 10, 16).ppf((np.arange(100_000) + 0.5) / 100_000)
    gm = float(np.exp(np.mean(np.log(x))))
    obs, _ = observations(p, _status([gm]))
    assert obs.y[0] == pytest.approx(0.0, abs=1e-4)


def test_group_factors_pool_to_the_project_factor():
    p = pmosim.Project("g")
    wbs = {"a": "1.1.1", "b": "1.1.2", "c": "1.2.1", "d": "1.2.2"}
    for t, code in wbs.items():
        p.add_task(t, 10.0, wbs=code)
    acts = {"a": TaskStatus(0.0, 15.0, 1.0), "b": TaskStatus(0.0, 14.0, 1.0),
            "c": TaskStatus(0.0, 9.0, 1.0)}
    period = StatusPeriod(15.0, acts)
    loose = learn(p, period, groups="wbs", group_strength=0.5, drift=0.0)
    assert set(loose.duration_groups) == {"1.1", "1.2"}
    assert loose.duration_groups["1.1"].median > loose.duration.median \
        > loose.duration_groups["1.2"].median
    tight = learn(p, period, groups="wbs", group_strength=1e9, drift=0.0)
    single = learn(p, period, drift=0.0)
    for g in tight.duration_groups.values():
        assert g.location == pytest.approx(single.duration.location, rel=1e-6)
        assert g.scale == pytest.approx(single.duration.scale, rel=1e-6)


def test_group_drivers_cover_the_remaining_tasks():
    p = pmosim.Project("g")
    for t, code in {"a": "1.1.1", "b": "1.1.2", "c": "1.2.1", "d": "1.3.1"}.items():
        p.add_task(t, pmosim.Triangular(8, 10, 12), wbs=code)
    period = StatusPeriod(15.0, {"a": TaskStatus(0.0, 15.0, 1.0)})
    rf = reforecast(p, period, groups="wbs", iterations=256, seed=1)
    drivers = rf.project.drivers
    assert set(drivers) == {f"{DRIVER_ID}:1.1", f"{DRIVER_ID}:1.2", f"{DRIVER_ID}:1.3"}
    assert drivers[f"{DRIVER_ID}:1.1"].tasks == ("b",)
    # 1.2 and 1.3 saw nothing: the project factor with the group's prior spread added
    d, g = rf.duration_factor, rf.learned.duration_groups
    assert set(g) == {"1.1"}
    lo, hi = np.percentile(np.log(drivers[f"{DRIVER_ID}:1.2"].factor.values), [10, 90])
    assert (hi - lo) / 2 > d.scale * 1.28


# -- the forecast ------------------------------------------------------------------------
@pytest.mark.parametrize("ratio", [1.5, 0.7])
def test_forecast_follows_the_observed_performance(ratio):
    p = _chain(6)
    period = _status([10 * ratio, 10 * ratio])
    bayes = reforecast(p, period, iterations=2048, seed=3)
    plain = reforecast(p, period, method="plain", iterations=2048, seed=3)
    assert (bayes.duration_factor.median > 1) == (ratio > 1)
    shift = bayes.finish.percentile(50) - plain.finish.percentile(50)
    # four tasks of 10 days remain: the shift is 40 (F - 1) days; MC noise is ~0.1 day
    expect = 40 * (bayes.duration_factor.median - 1)
    assert shift == pytest.approx(expect, abs=0.15 * abs(expect) + 0.5)
    assert abs(shift) > 3
    driver = bayes.project.drivers[DRIVER_ID]
    assert set(driver.tasks) == {"t2", "t3", "t4", "t5"} and driver.probability == 1.0


def test_no_evidence_keeps_the_plan_median():
    """At a status with nothing started the factor is the prior: median 1, wider."""
    p = _chain(4)
    period = StatusPeriod(0.0, {})
    bayes = reforecast(p, period, iterations=4096, seed=5)
    plain = reforecast(p, period, method="plain", iterations=4096, seed=5)
    assert bayes.duration_factor.median == 1.0 and bayes.duration_factor.n == 0
    assert bayes.finish.percentile(50) == pytest.approx(plain.finish.percentile(50), rel=0.01)
    assert bayes.finish.std > 1.5 * plain.finish.std


def test_same_seed_same_bits_and_thread_count_does_not_matter():
    p = _chain(6, cost_rate=100.0)
    period = _status([14.0, 13.0], costs=[1800.0, 1500.0])
    a = reforecast(p, period, iterations=1536, seed=11, threads=1)
    b = reforecast(p, period, iterations=1536, seed=11, threads=2)
    c = reforecast(p, period, iterations=1536, seed=12, threads=1)
    assert np.array_equal(a.finish.samples, b.finish.samples)
    assert np.array_equal(a.cost.samples, b.cost.samples)
    assert not np.array_equal(a.finish.samples, c.finish.samples)
    assert a.learned.to_dict() == b.learned.to_dict()


def test_plain_is_simulate_on_apply_status():
    p = _chain(5, cost_rate=50.0)
    period = StatusPeriod(16.0, {"t0": TaskStatus(0.0, 12.0, 1.0, 700.0),
                                 "t1": TaskStatus(12.0, None, 0.25, 120.0, 9.0)})
    rf = reforecast(p, period, method="plain", iterations=1024, seed=7)
    direct = pmosim.simulate(apply_status(p, period), 1024, seed=7)
    assert rf.learned is None
    assert np.array_equal(rf.finish.samples, direct.finish.samples)
    assert np.array_equal(rf.cost.samples, direct.cost.samples)


def test_periods_pick_the_latest():
    p = _chain(4)
    early, late = _status([15.0]), _status([15.0, 15.0])
    a = reforecast(p, [late, early], iterations=512, seed=1)
    b = reforecast(p, late, iterations=512, seed=1)
    assert np.array_equal(a.finish.samples, b.finish.samples)
    c = reforecast(p, [late, early], status_date=20.0, iterations=512, seed=1)
    assert c.duration_factor.n == 1


def test_in_progress_blends_its_own_rate_with_the_factor():
    p = _chain(3)
    period = StatusPeriod(20.0, {"t0": TaskStatus(0.0, 12.0, 1.0),
                                 "t1": TaskStatus(12.0, None, 0.25)})   # 8 days for 25 %
    rf = reforecast(p, period, iterations=512, seed=1, drift=0.0)
    obs = rf.learned.duration_obs
    y1 = obs.y[obs.task_ids.index("t1")]
    loc = rf.duration_factor.location
    expect = 10 * 0.75 * math.exp(0.25 * (y1 - loc))
    assert rf.project.graph.nodes["t1"]["planned"] == pytest.approx(expect, rel=1e-12)
    plan = reforecast(p, period, iterations=512, seed=1, in_progress="plan")
    assert plan.project.graph.nodes["t1"]["planned"] == pytest.approx(7.5, rel=1e-12)
    given = StatusPeriod(20.0, {"t0": TaskStatus(0.0, 12.0, 1.0),
                                "t1": TaskStatus(12.0, None, None, None, 30.0)})
    kept = reforecast(p, given, iterations=512, seed=1, in_progress="status")
    assert "t1" not in kept.project.drivers[DRIVER_ID].tasks
    assert kept.project.graph.nodes["t1"]["planned"] == pytest.approx(30.0)


def test_cost_factor_learns_from_actual_costs():
    p = _chain(6, cost_rate=100.0)
    # durations as planned, costs 40 % over: the cost factor, not the duration one
    period = _status([10.0, 10.0], costs=[1400.0, 1400.0])
    bayes = reforecast(p, period, iterations=2048, seed=2, cost_strength=1.0)
    plain = reforecast(p, period, method="plain", iterations=2048, seed=2)
    # two tasks of weight 1 at log(1.4) against a prior worth 1 task at 0
    assert bayes.cost_factor.median == pytest.approx(1.4 ** (2 / 3), rel=1e-12)
    assert bayes.duration_factor.median == pytest.approx(1.0, abs=0.05)
    assert COST_RISK_ID in bayes.project.risks
    # spent 2,800; 4,000 planned to go, times the factor
    expect = 2800 + 4000 * bayes.cost_factor.median * bayes.duration_factor.median
    assert bayes.cost.percentile(50) == pytest.approx(expect, rel=0.03)
    assert plain.cost.percentile(50) == pytest.approx(6800, rel=0.02)
    assert bayes.jcl(bayes.finish.percentile(80), bayes.cost.percentile(80)) > 0.6
    no_cost = reforecast(p, period, iterations=256, seed=2, cost=False)
    assert no_cost.cost_factor is None and COST_RISK_ID not in no_cost.project.risks


def test_factor_distribution_is_the_posterior():
    post = FactorPosterior("duration", None, 5, 5.0, 0.2, 0.1, 7.0, 0.3, 0.1, 1.2)
    dist = post.distribution()
    from scipy import stats as st
    vals = np.asarray(dist.values)
    assert len(vals) == 1024
    assert np.median(vals) == pytest.approx(math.exp(0.2), rel=1e-3)
    assert np.mean(np.log(vals)) == pytest.approx(0.2, abs=1e-9)     # symmetric grid
    q = st.t.ppf(0.9, 7.0)
    assert post.interval(0.8)[1] == pytest.approx(math.exp(0.2 + 0.1 * q), rel=1e-12)
    normal = FactorPosterior("duration", None, 5, 5.0, 0.2, 0.1, math.inf, 0.3, 0.1, 1.2)
    ln = normal.distribution()
    assert isinstance(ln, pmosim.LogNormal)
    assert ln.mu == pytest.approx(0.2, rel=1e-12) and ln.sigma == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("kwargs, words", [
    ({"method": "kalman"}, "method must be one of bayes, plain, got 'kalman'"),
    ({"strength": 0}, "strength (the prior's weight in tasks) must be a number > 0, got 0"),
    ({"drift": -1}, "drift"),
    ({"scale": float("nan")}, "scale"),
    ({"variance": "fixed"}, "variance must be one of unknown, known, got 'fixed'"),
    ({"weights": "cost"}, "weights must be one of size, equal, got 'cost'"),
    ({"groups": 3}, "groups must be None, 'wbs'"),
    ({"in_progress": "ignore"}, "in_progress must be one of blend, plan, status"),
])
def test_bad_settings_say_what_and_how(kwargs, words):
    with pytest.raises(ModelError, match="reforecast: " + words.replace("(", r"\(")
                       .replace(")", r"\)")):
        reforecast(_chain(3), _status([10.0]), iterations=64, seed=1, **kwargs)


def test_a_taken_driver_id_is_refused():
    p = _chain(3)
    p.add_driver(DRIVER_ID, 1.0, 1.1, ["t2"])
    with pytest.raises(ModelError, match="already has a risk or driver 'reforecast:duration'"):
        reforecast(p, _status([10.0]), iterations=64, seed=1)


# -- a real project --------------------------------------------------------------------
def test_dslib_project_end_to_end():
    pytest.importorskip("openpyxl", reason="DSLIB workbooks need the optional openpyxl")
    from pmosim.evm import resolve_periods
    from pmosim.io.dslib import read_dslib

    project = read_dslib(data_dir("dslib", "Excel", "C2011-05 Telecom System Agnes.xlsx"),
                         tracking=True)
    periods = project.meta["tracking"]
    mid = periods[2]
    rf = reforecast(project, mid, iterations=512, seed=1)
    r, = resolve_periods(project, [mid], strict=False)
    started = [t for i, t in enumerate(project.graph.nodes)
               if (r.started[i] or r.complete[i]) and project.graph.nodes[t].get("planned", 0) > 0]
    assert rf.duration_factor.n == len(started) > 0
    assert rf.cost_factor is not None
    assert rf.finish.percentile(10) >= r.time - 1e-9
    assert np.isfinite(rf.cost.samples).all() and rf.cost.min >= np.nansum(r.ac) - 1e-6
    doc = json.loads(json.dumps(rf.to_dict()))
    assert doc["learned"]["duration"]["n"] == len(started)
    # at the last period everything is done: the forecast is what happened
    last = reforecast(project, periods, iterations=64, seed=1)
    rl, = resolve_periods(project, [periods[-1]], strict=False)
    assert last.finish.min == pytest.approx(np.nanmax(rl.finish), abs=1e-9)
    assert last.finish.max == pytest.approx(np.nanmax(rl.finish), abs=1e-9)
    assert last.cost.min == pytest.approx(np.nansum(rl.ac), rel=1e-12)


# -- apply_learning: what the command line simulates -------------------------------------
def test_apply_learning_is_what_reforecast_simulates():
    from pmosim.reforecast import apply_learning

    p = _chain(6, cost_rate=100.0)
    period = StatusPeriod(33.0, {"t0": TaskStatus(0.0, 14.0, 1.0, 1800.0),
                                 "t1": TaskStatus(14.0, 27.0, 1.0, 1500.0),
                                 "t2": TaskStatus(27.0, None, 0.5, 700.0)})
    rf = reforecast(p, period, iterations=1024, seed=4)
    applied, learned = apply_learning(p, period)
    direct = pmosim.simulate(applied, 1024, seed=4)
    assert np.array_equal(rf.finish.samples, direct.finish.samples)
    assert np.array_equal(rf.cost.samples, direct.cost.samples)
    # the model says how it was made: the run history and results.json read it
    meta = applied.meta["status_applied"]
    assert meta["method"] == "bayes" and meta["name"] == rf.period
    assert meta["learned"] == learned.to_dict() == rf.learned.to_dict()
    assert meta["learned"]["observed"] == {"duration": {"complete": 2, "in_progress": 1},
                                           "cost": {"complete": 2, "in_progress": 1}}
    assert json.loads(json.dumps(meta["learned"])) == meta["learned"]
    assert "method" not in apply_status(p, period).meta["status_applied"]
    # the accrual of fixed costs is apply_status's
    q = _chain(3, cost_fixed=1000.0)
    half = StatusPeriod(15.0, {"t0": TaskStatus(0.0, None, 0.5)})
    for accrual in ("start", "end", "prorated"):
        mine, _ = apply_learning(q, half, accrual=accrual, cost=False)
        theirs = apply_status(q, half, accrual=accrual)
        assert mine.graph.nodes["t0"]["cost_fixed"] == theirs.graph.nodes["t0"]["cost_fixed"]
    with pytest.raises(ModelError, match="in_progress must be one of blend, plan, status"):
        apply_learning(p, period, in_progress="mine")

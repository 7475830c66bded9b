"""The wall-clock kernel: working calendars per task and lag, against independent references.

References: the scheduling tools' own dates stored in the files (Primavera P6 for
SP10, MS Project for the MSPDI files), the slow reference pass ``schedule_dates``
of ``tests/reference_worktime.py`` (Python, :class:`WorkWeek` calendars), the
single-axis kernel (for single-calendar projects, where both modes must give
the same working-day times) and a hand-computed two-calendar schedule.
"""

import copy
import datetime as dt

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_allclose

import pmosim
from pmosim.compile import compile_project, uses_calendars
from pmosim.distributions import Fixed
from pmosim.errors import ScheduleImportError
from pmosim.io.mspdi import read_mspdi

from _calendars import random_calendar_project
from _data import data_dir
from reference_worktime import WorkWeek, schedule_dates

TASK_LINKS = [("mpxj", "generated", "task-links", f"task-links-project{v}-mspdi.xml")
              for v in (2003, 2007, 2010, 2013, 2016, 2019)]
MSPDI = TASK_LINKS + [("mpxj", "mspdirelations.xml"), ("mpxj", "legacy", "sample.xml"),
                      ("projectlibre", "New Product.xml")]
#: Dates are whole seconds (WorkWeek.date rounds), so times mapped back from the
#: reference's dates are within half a second: 0.5 / 3600 h / 8 h per day < 2e-5 days.
SECOND_DAYS = 2e-5


def cpm_dates(r):
    return {v: (a, b) for v, a, b in zip(r.task_ids, r.early_start_date, r.early_finish_date)}


def test_sp10_uses_the_wall_clock(sp10):
    assert uses_calendars(sp10)
    assert compile_project(sp10).kernel.cal_on


def test_sp10_cpm_dates_match_p6(sp10):
    """pmosim.cpm gives P6's early dates for >= 95 % of incomplete activities.

    The only misses (8 of 3,471) are downstream of the three activities marked
    complete after P6's last schedule run: their stored early dates are still
    after the data date (e.g. finish 2017-09-29 with actual finish 2017-09-15), so
    P6's successors' dates are stale, not a different rule.
    """
    r = pmosim.cpm(sp10)
    got = cpm_dates(r)
    g = sp10.graph
    incomplete = [v for v, d in g.nodes(data=True)
                  if d["status"] != "complete" and d["kind"] != "connector"]
    wrong = [v for v in incomplete
             if got[v] != (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"])]
    match = 1 - len(wrong) / len(incomplete)
    assert match >= 0.95, f"{match:.2%} of {len(incomplete)} incomplete activities match"
    data_date = sp10.meta["data_date"]
    stale = [v for v, d in g.nodes(data=True)
             if d["status"] == "complete" and d["tool_finish"] > data_date + dt.timedelta(days=1)]
    downstream = set().union(*(nx.descendants(g, v) for v in stale))
    assert set(wrong) <= downstream, sorted(set(wrong) - downstream)
    # and every task, completed ones and connectors included, equals the reference pass
    assert got == schedule_dates(sp10)


def test_sp10_results_are_axis_working_days(sp10):
    """Times are working days of the axis calendar from the data date (a monotone
    map of the exact dates); the finish is the latest early finish. (Float may be
    negative: SP10 has 786 finish-on constraints.)"""
    r = pmosim.cpm(sp10)
    cal = sp10.meta["calendars"][sp10.meta["axis_calendar"]]
    origin = sp10.meta["data_date"]
    week = WorkWeek(cal["week"], cal["exceptions"], origin, dt.date(2010, 1, 1),
                    dt.date(2030, 1, 1))
    hpd = cal["hours_per_day"]
    ef = np.array([week.work(d) / hpd for d in r.early_finish_date])
    assert_allclose(r.early_finish, ef, atol=SECOND_DAYS)
    assert r.finish == pytest.approx(ef.max(), abs=SECOND_DAYS)
    assert r.critical.any() and np.all(r.total_float[r.critical] <= 1e-6)


@pytest.mark.parametrize("parts", MSPDI, ids=lambda parts: parts[-1])
def test_mspdi_cpm_dates_match_ms_project(parts):
    """Every task MS Project scheduled from its own calendar gets MS Project's dates.

    The one exception, legacy/sample.xml task 2, has resources on a night-shift
    calendar: MS Project schedules its assignments there; the reader flags it.
    """
    p = read_mspdi(data_dir(*parts))
    got = cpm_dates(pmosim.cpm(p))
    g = p.graph
    tasks = [v for v, d in g.nodes(data=True) if d["kind"] != "connector"]
    wrong = [v for v in tasks if got[v] != (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"])]
    flagged = [v for v in tasks if g.nodes[v].get("resource_calendars")]
    assert wrong == flagged


def test_every_mpxj_mspdi_file_equals_the_reference():
    root = data_dir("mpxj")
    wrong, n = {}, 0
    for path in sorted(root.rglob("*.xml")):
        try:
            p = read_mspdi(path)
        except ScheduleImportError:
            continue
        n += 1
        got, ref = cpm_dates(pmosim.cpm(p)), schedule_dates(p)
        bad = [v for v in p.graph.nodes if got[v] != ref[v]]
        if bad:
            wrong[str(path.relative_to(root))] = bad
    assert wrong == {} and n >= 100


@pytest.mark.parametrize("seed", range(60))
def test_random_calendar_projects_equal_the_reference(seed):
    p = random_calendar_project(seed)
    assert uses_calendars(p)
    assert cpm_dates(pmosim.cpm(p)) == schedule_dates(p)


def test_far_dates_continue_the_weekly_pattern():
    """Beyond the last exception the tables continue with the weekly pattern: a
    chain running decades past the tabulated range still gets the reference's dates."""
    p = random_calendar_project(3, n_tasks=12, progress=False, constraints=False)
    for v in p.graph.nodes:
        p.graph.nodes[v]["planned"] = 900.0 + 37.25 * int(v[1:])
        p.graph.nodes[v]["duration"] = Fixed(p.graph.nodes[v]["planned"])
        p.graph.nodes[v].pop("elapsed_hours", None)
    got = cpm_dates(pmosim.cpm(p))
    assert max(f for _, f in got.values()) > p.meta["data_date"] + dt.timedelta(days=3 * 365)
    assert got == schedule_dates(p)


def _axis_days(p, moments):
    cal = p.meta["calendars"][p.meta["axis_calendar"]]
    origin = p.meta["data_date"]
    week = WorkWeek(cal["week"], cal["exceptions"], origin, origin.date() - dt.timedelta(400),
                    origin.date() + dt.timedelta(4000))
    return np.array([week.work(t) / cal["hours_per_day"] for t in moments])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulated_iterations_equal_the_reference(seed):
    """Each iteration's sampled durations, pushed through the reference pass, give the
    starts and finishes the kernel simulated (in working days of the axis calendar)."""
    p = random_calendar_project(seed, random_durations=True)
    r = pmosim.simulate(p, 40, seed=seed, keep_samples=True, threads=1)
    ids = r.task_ids
    for i in range(0, 40, 7):
        q = copy.deepcopy(p)
        for j, v in enumerate(ids):
            d = q.graph.nodes[v]
            if d["status"] != "complete" and d.get("elapsed_hours") is None:
                d["planned"] = float(r.durations[i, j])
        ref = schedule_dates(q)
        assert_allclose(r.starts[i], _axis_days(p, [ref[v][0] for v in ids]), atol=SECOND_DAYS)
        assert_allclose(r.finishes[i], _axis_days(p, [ref[v][1] for v in ids]), atol=SECOND_DAYS)
        assert r.finish.samples[i] == pytest.approx(r.finishes[i].max(), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_single_calendar_projects_agree_with_the_axis_kernel(seed):
    """On one calendar the wall-clock passes give the single-axis kernel's early and
    late times, float and criticality (an independent check of the backward pass)."""
    p = random_calendar_project(seed, progress=False, elapsed=False, constraints=False,
                               calendars=["std"])
    assert not uses_calendars(p)
    axis = pmosim.cpm(p)     # cpm uses the wall clock whenever there are calendars
    assert axis.early_start_date is not None
    from pmosim.kernels.passes import deterministic_pass
    from pmosim.layout import identity_grid
    compiled = compile_project(p, wallclock=False)
    k = compiled.kernel
    es, ef, lf, pf = deterministic_pass(k.draws, k.links, identity_grid(compiled.n_tasks),
                                        compiled.planned, compiled.planned_lags)
    node = np.argsort(compiled.topo)
    assert axis.finish == pytest.approx(pf, abs=1e-9)
    assert_allclose(axis.early_start, es[node], atol=1e-9)
    assert_allclose(axis.early_finish, ef[node], atol=1e-9)
    assert_allclose(axis.late_finish, lf[node], atol=1e-9)
    assert_allclose(axis.total_float, (lf - compiled.planned - es)[node], atol=1e-9)


def test_two_calendars_by_hand():
    """A (Mon-Fri, 5 d) and B (7-day week, 3 d) both precede C (Mon-Fri, 1 d).

    From Mon 8 Jan 2024 08:00: A ends Fri 12 Jan 17:00, B Wed 10 Jan 17:00, C runs
    Mon 15 Jan. B may finish as late as Sun 14 Jan 17:00 (the end of its working
    time before C's start): 4 working days of its own calendar of float, 2 of the
    axis calendar.
    """
    split = [(8.0, 12.0), (13.0, 17.0)]
    p = pmosim.Project("by hand")
    p.add_task("A", 5.0, calendar="std")
    p.add_task("B", 3.0, calendar="7d")
    p.add_task("C", 1.0, calendar="std")
    p.add_link("A", "C")
    p.add_link("B", "C")
    p.meta.update(data_date=dt.datetime(2024, 1, 8, 8), axis_calendar="std", calendars={
        "std": {"week": {d: split for d in range(5)}, "exceptions": {}, "hours_per_day": 8.0},
        "7d": {"week": {d: split for d in range(7)}, "exceptions": {}, "hours_per_day": 8.0}})
    r = pmosim.cpm(p)
    day = dt.datetime
    assert r.early_finish_date == [day(2024, 1, 12, 17), day(2024, 1, 10, 17),
                                   day(2024, 1, 15, 17)]
    assert r.late_start_date[1] == day(2024, 1, 12, 8)
    assert r.late_finish_date[1] == day(2024, 1, 14, 17)
    assert_allclose(r.total_float, [0.0, 4.0, 0.0], atol=1e-12)
    assert list(r.critical) == [True, False, True] and r.critical_path == ["A", "C"]
    assert_allclose(r.early_finish, [5.0, 3.0, 6.0])
    assert_allclose(r.late_finish, [5.0, 5.0, 6.0])
    assert r.finish == 6.0
    rows = r.rows()
    assert rows[1]["late_finish_date"] == "2024-01-14 17:00:00"


def test_cli_cpm_shows_the_exact_dates():
    from click.testing import CliRunner

    from pmosim.cli import cli

    path = data_dir("mpxj", "mspdirelations.xml")
    res = CliRunner().invoke(cli, ["cpm", str(path)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    p = read_mspdi(path)
    r = pmosim.cpm(p)
    last = max(r.early_finish_date)
    assert (f"Project finish: {r.finish:,.1f} working days of calendar {r.calendar}, "
            f"{last:%Y-%m-%d %H:%M}") in res.output
    # task 5 finishes at 08:00 on Monday, where MS Project shows it
    assert "2006-09-25 08:00" in res.output


def test_condition_thresholds_use_the_kernels_working_time():
    """Conditions compare an elapsed-hour finish with a threshold in axis working days:
    the compiler converts thresholds with the kernel's start_at, which equals the
    importers' calendar (io._common.WorkWeek, tabulated over the whole range) inside the
    kernel's table and in its weekly continuation on both sides."""
    from pmosim.compile import _condition_times
    from pmosim.io._common import WorkWeek
    from pmosim.kernels.worktime import M_T0, M_T1, META

    p = random_calendar_project(5)
    cal = compile_project(p).calendars
    key = p.meta["axis_calendar"]
    c = p.meta["calendars"][key]
    origin = p.meta["data_date"]
    week = WorkWeek(c["week"], c.get("exceptions") or {}, origin,
                    origin.date() - dt.timedelta(days=700), origin.date() + dt.timedelta(days=1800))
    values = np.concatenate([np.linspace(-300.0, 900.0, 2001), [0.0, 1.0, 2.5]])
    h = cal.axis_cal * META
    assert -300 * 8 < cal.cal_flat[h + M_T0] and cal.cal_flat[h + M_T1] < 900 * 8
    expected = [week.start_at(v * c["hours_per_day"]) for v in values]
    assert_allclose(_condition_times(cal, values), expected, rtol=0, atol=1e-9)


def test_costs_in_the_wall_clock_mode():
    """Task costs (fixed + rate x duration in the task's own working days) and the
    project rate (x finish in axis working days) are priced in every iteration when
    tasks are on different calendars, as on the single axis."""
    tri = pmosim.Triangular
    split = [(8.0, 12.0), (13.0, 17.0)]
    p = pmosim.Project("costs on two calendars")
    p.add_task("A", tri(3, 5, 9), calendar="std", cost_fixed=1000.0, cost_rate=200.0)
    p.add_task("B", tri(2, 3, 6), calendar="7d", cost_rate=tri(50, 80, 150))
    p.add_task("C", 1.0, calendar="std", cost_fixed=tri(10, 20, 60))
    p.add_link("A", "C")
    p.add_link("B", "C")
    p.cost_rate = 30.0
    p.meta.update(data_date=dt.datetime(2024, 1, 8, 8), axis_calendar="std", calendars={
        "std": {"week": {d: split for d in range(5)}, "exceptions": {}, "hours_per_day": 8.0},
        "7d": {"week": {d: split for d in range(7)}, "exceptions": {}, "hours_per_day": 8.0}})
    assert uses_calendars(p)
    r = pmosim.simulate(p, 4_000, seed=4, keep_samples=True, threads=2)
    d = r.durations
    rest = r.cost.samples - (1000.0 + 200.0 * d[:, 0]) - 30.0 * r.finish.samples
    # rest = rate_B * duration_B + fixed_C: inside its supports in every iteration ...
    assert np.all(rest >= 50.0 * d[:, 1] + 10.0 - 1e-9)
    assert np.all(rest <= 150.0 * d[:, 1] + 60.0 + 1e-9)
    # ... and unbiased given duration_B (rate_B and fixed_C are independent draws)
    resid = rest - (280.0 / 3.0 * d[:, 1] + 30.0)
    assert abs(resid.mean()) < 5 * resid.std() / np.sqrt(len(resid))


def test_wall_clock_statistics_equal_the_axis_kernels(monkeypatch):
    """The streaming task statistics are accumulated by two copies of one body (written
    out in the axis backward pass, ``accumulate_task`` in the wall-clock mode): on one
    calendar, forcing the wall-clock mode must give the axis run's statistics."""
    p = random_calendar_project(4, random_durations=True, progress=False, elapsed=False,
                                constraints=False, calendars=["std"])
    axis = pmosim.simulate(p, 3000, seed=11, threads=2)
    monkeypatch.setattr(pmosim.compile, "uses_calendars", lambda project: True)
    wall = pmosim.simulate(p, 3000, seed=11, threads=2)
    assert wall.finish.samples == pytest.approx(axis.finish.samples, abs=SECOND_DAYS)
    a, w = axis.tasks, wall.tasks
    assert a.criticality.sum() > 1.0          # some tasks critical, not a trivial network
    assert_allclose(w.criticality, a.criticality, atol=0)
    for field in ("start_mean", "start_std", "finish_mean", "finish_std", "finish_min",
                  "finish_max"):
        assert_allclose(getattr(w, field), getattr(a, field), atol=SECOND_DAYS, err_msg=field)

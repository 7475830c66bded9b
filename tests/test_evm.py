"""Earned value and earned schedule (pmosim.evm), status updates in scenario files and
``pmosim status`` / ``run --status-date``.

The hand-computed project (every number below is worked out in the comments):

    start Monday 2027-03-01, Mon-Fri; working time t in days from the start
    A  4 d, cost_rate 100          planned 0-4    budget 400   PV 100/day on [0, 4]
    C  5 d, cost_rate 50, fixed 50 planned 0-5    budget 300   PV  60/day on [0, 5]
    B  6 d after A, cost_fixed 600 planned 4-10   budget 600   PV 100/day on [4, 10]
    M  milestone after B and C,    at 10          budget 100   PV step of 100 at 10
       cost_fixed 100
    BAC = 1400, PD = 10
    PV(t) = 160 t on [0, 4]; 640 + 160 (t - 4) on [4, 5]; 800 + 100 (t - 5) on [5, 10);
    1400 from t = 10 (1300 just before it).
"""

import datetime as dt
import json
import re

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.compile import uses_calendars
from pmosim.errors import ModelError, ScenarioError
from pmosim.evm import (
    EAC_FACTORS, IEAC_FACTORS, StatusPeriod, TaskStatus, apply_status, earned_value,
    make_baseline, scaled, select_period, status_from_import,
)

PLAN = """\
[project]
name = "Hand"
start = "2027-03-01"
currency = "EUR"

[[tasks]]
id = "A"
duration = 4
cost_rate = 100

[[tasks]]
id = "C"
duration = { dist = "triangular", low = 4, mode = 5, high = 8 }
cost_rate = 50
cost_fixed = 50

[[tasks]]
id = "B"
duration = { dist = "triangular", low = 5, mode = 6, high = 9 }
cost_fixed = 600
predecessors = ["A"]

[[tasks]]
id = "M"
duration = 0
cost_fixed = 100
predecessors = ["B", "C"]
"""

# P1, status Wed 2027-03-03 (end of day: t = 3): A 50 %, C 40 %, both started Monday
P1 = {"A": TaskStatus("2027-03-01", None, 0.5, 220.0),
      "C": TaskStatus("2027-03-01", None, 0.4, 130.0)}
# P2, Mon 2027-03-08 (t = 6): A and C finished Friday (t = 5), B started Monday, 10 %
P2 = {"A": TaskStatus("2027-03-01", "2027-03-05", 1.0, 450.0),
      "C": TaskStatus("2027-03-01", "2027-03-05", None, 320.0),
      "B": TaskStatus("2027-03-08", None, 0.1, 70.0)}
# P3, Fri 2027-03-19 (t = 15): B finished Wed 03-17 (t = 13), M at t = 13 (working days)
P3 = {"A": P2["A"], "C": P2["C"],
      "B": TaskStatus("2027-03-08", "2027-03-17", None, 650.0),
      "M": TaskStatus(13.0, 13.0, None, 100.0)}


@pytest.fixture
def plan(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(PLAN, encoding="utf-8")
    return pmosim.load(path)


def periods():
    # given out of order: earned_value sorts them by status date
    return [StatusPeriod("2027-03-08", P2, "P2"), StatusPeriod(dt.date(2027, 3, 3), P1, "P1"),
            StatusPeriod("2027-03-19", P3, "P3")]


def test_every_measure_and_forecast_by_hand(plan):
    r = earned_value(plan, periods())
    assert r.names == ["P1", "P2", "P3"] and r.basis == "cost" and r.currency == "EUR"
    assert r.bac == 1400 and r.planned_duration == 10
    close = dict(rel=1e-12, abs=1e-9)
    # P1: AT 3; PV = 160 * 3; EV = .5 * 400 + .4 * 300; AC = 220 + 130;
    # ES: 160 t = 320 -> t = 2
    # P2: AT 6; PV = 800 + 100; EV = 400 + 300 + .1 * 600; AC = 450 + 320 + 70;
    # ES: 640 + 160 (t - 4) = 760 -> t = 4.75
    # P3: all finished, the last at t = 13, so AT = 13 (not the status date's 15);
    # EV = BAC = PV; AC = 450 + 320 + 650 + 100; ES = PD = 10
    at, pv, ev, ac, es = [3, 6, 13], [480, 900, 1400], [320, 760, 1400], [350, 840, 1520], \
        [2, 4.75, 10]
    for name, want in (("at", at), ("pv", pv), ("ev", ev), ("ac", ac), ("es", es)):
        assert getattr(r, name).tolist() == pytest.approx(want, **close), name
    assert r.status_time.tolist() == [3, 6, 15]
    spi = [320 / 480, 760 / 900, 1.0]
    cpi = [320 / 350, 760 / 840, 1400 / 1520]
    spi_t = [2 / 3, 4.75 / 6, 10 / 13]
    assert r.sv.tolist() == pytest.approx([-160, -140, 0], **close)
    assert r.cv.tolist() == pytest.approx([-30, -80, -120], **close)
    assert r.spi.tolist() == pytest.approx(spi, **close)
    assert r.cpi.tolist() == pytest.approx(cpi, **close)
    assert r.spi_t.tolist() == pytest.approx(spi_t, **close)
    assert r.sv_t.tolist() == pytest.approx([-1, -1.25, -3], **close)
    assert r.sci.tolist() == pytest.approx([s * c for s, c in zip(spi, cpi)], **close)
    assert r.sci_t.tolist() == pytest.approx([s * c for s, c in zip(spi_t, cpi)], **close)
    assert r.complete.tolist() == pytest.approx([320 / 1400, 760 / 1400, 1.0], **close)
    # EAC = AC + (BAC - EV) / PF; at P1 BAC - EV = 1080, at P2 640, at P3 0 (EAC = AC)
    pf = {"1": [1, 1], "CPI": cpi, "SPI": spi, "SPI(t)": spi_t,
          "SCI": [spi[k] * cpi[k] for k in range(2)],
          "SCI(t)": [spi_t[k] * cpi[k] for k in range(2)],
          "0.8CPI+0.2SPI": [0.8 * cpi[k] + 0.2 * spi[k] for k in range(2)],
          "0.8CPI+0.2SPI(t)": [0.8 * cpi[k] + 0.2 * spi_t[k] for k in range(2)]}
    assert set(r.eac) == set(EAC_FACTORS)
    for key in EAC_FACTORS:
        want = [350 + 1080 / pf[key][0], 840 + 640 / pf[key][1], 1520]
        assert r.eac[key].tolist() == pytest.approx(want, **close), key
    # the hand values of two of them, written out
    assert r.eac["CPI"][0] == pytest.approx(350 + 1080 * 350 / 320, **close)   # 1531.25
    assert r.eac["SPI"][0] == pytest.approx(350 + 1080 * 1.5, **close)         # 1970
    # IEAC(t) = AT + (PD - ES) / PF: P1 3 + 8 / PF, P2 6 + 5.25 / PF, P3 13
    assert set(r.ieac_t) == set(IEAC_FACTORS)
    for key in IEAC_FACTORS:
        want = [3 + 8 / pf[key][0], 6 + 5.25 / pf[key][1], 13]
        assert r.ieac_t[key].tolist() == pytest.approx(want, **close), key
    assert r.ieac_t["1"][0] == 11 and r.ieac_t["SPI(t)"][0] == pytest.approx(15, **close)
    # per task at P2 (t = 6): A 400, C 300, B 600 * 2 / 6, M 0; EV A 400, C 300, B 60
    i = {t: k for k, t in enumerate(r.task_ids)}
    assert r.task_pv[1, [i["A"], i["C"], i["B"], i["M"]]].tolist() == pytest.approx(
        [400, 300, 200, 0], **close)
    assert r.task_ev[1, [i["A"], i["C"], i["B"], i["M"]]].tolist() == pytest.approx(
        [400, 300, 60, 0], **close)
    assert np.isnan(r.task_ac[1, i["M"]]) and r.task_ac[1, i["B"]] == 70
    assert r.warnings == []


def test_dates_and_json(plan):
    r = earned_value(plan, periods())
    doc = r.to_dict(per_task=True)
    json.dumps(doc, allow_nan=False)
    assert doc["bac"] == 1400 and doc["planned_finish_date"] == "2027-03-12"   # day 10
    first = doc["periods"][0]
    assert first["name"] == "P1" and first["status_date"] == "2027-03-03"
    # ES 2 ends Tuesday; IEAC(t) 11 ends Monday 03-15, 15 ends Friday 03-19
    assert first["es_date"] == "2027-03-02"
    assert first["ieac_t_dates"] == {"1": "2027-03-15", "SPI(t)": "2027-03-19",
                                     "SCI(t)": first["ieac_t_dates"]["SCI(t)"]}
    assert {t["id"] for t in doc["tasks"]} == {"A", "B", "C", "M"}
    assert doc["tasks"][0]["ac"][0] == 220


def test_fixed_costs_accrued_at_the_start_or_the_end(plan):
    # start: C's 50 and B's 600 come when work has begun; P1 (t = 3): PV = 300 (A) + 50 +
    # 50 * 3 (C); EV = 200 + 50 + .4 * 250 = 350. B starts at 4: nothing of it at 3.
    r = earned_value(plan, periods(), accrual="start")
    assert r.pv[0] == pytest.approx(500) and r.ev[0] == pytest.approx(350)
    # ES: PV(t) = 50 (C's fixed, from t > 0) + 150 t on [0, 4]: 50 + 150 t = 350 -> 2
    assert r.es[0] == pytest.approx(2.0)
    # end: C's 50 at its finish (5); P1 PV = 300 + 150; EV = 200 + .4 * 250
    r = earned_value(plan, periods(), accrual="end")
    assert r.pv[0] == pytest.approx(450) and r.ev[0] == pytest.approx(300)
    with pytest.raises(ModelError, match="accrual must be one of prorated, start, end"):
        earned_value(plan, periods(), accrual="monthly")


def test_a_plan_without_costs_is_measured_in_working_days():
    p = pmosim.Project("days", start="2027-03-01")
    p.add_task("a", 4)
    p.add_task("b", 6)
    p.add_link("a", "b")
    status = StatusPeriod(5.0, {"a": TaskStatus(0.0, 5.0, 1.0), "b": TaskStatus(5.0, None, 0.0)})
    r = earned_value(p, [status])
    # BAC = 10 working days; PV(5) = 4 + 1; EV = 4; ES = 4; AC none: no CPI or EAC
    assert r.basis == "duration" and r.bac == 10
    assert (r.pv[0], r.ev[0], r.es[0], r.spi_t[0]) == (5, 4, 4, 0.8)
    assert np.isnan(r.ac[0]) and np.isnan(r.cpi[0]) and np.isnan(r.eac["CPI"][0])
    assert r.ieac_t["1"][0] == 5 + (10 - 4)
    assert r.to_dict()["periods"][0]["ac"] is None


def naive_lipke_es(pv_daily, ev):
    """Lipke's ES = C + I with daily increments: C the last day whose cumulative PV the
    EV reaches, I the linear fraction of the next day's PV increment."""
    c = max(k for k in range(len(pv_daily)) if pv_daily[k] <= ev)
    if c == len(pv_daily) - 1:
        return float(c)
    return c + (ev - pv_daily[c]) / (pv_daily[c + 1] - pv_daily[c])


def test_earned_schedule_is_lipkes_formula_on_whole_days():
    rng = np.random.default_rng(18)
    g = nx.gnp_random_graph(12, 0.25, seed=18, directed=True)
    p = pmosim.Project("lipke")
    for k in range(12):
        p.add_task(k, int(rng.integers(1, 6)), cost_rate=float(rng.integers(1, 9)) * 10)
    for u, v in g.edges:
        if u < v:
            p.add_link(u, v)
    base = make_baseline(p)
    days = np.arange(0, int(base.planned_duration) + 1)
    pv_daily = base.planned_value(days)
    # the PV curve is strictly increasing at whole days only where work is planned; draw
    # EVs strictly inside (0, BAC) and check against the naive formula
    for ev in rng.uniform(0.01, 0.99, 40) * base.bac:
        want = naive_lipke_es(pv_daily, ev)
        got = base.earned_schedule([ev])[0]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)


def zero_then_costed():
    """'wait' (5 days, no cost) then 'work' (5 days, 100/day); 'check' (2 days, no cost)
    after it: PV is 0 on [0, 5], 100 (t - 5) on [5, 10], 500 on [10, 12]; PD = 12."""
    p = pmosim.Project("flat")
    p.add_task("wait", 5)
    p.add_task("work", 5, cost_rate=100.0)
    p.add_task("check", 2)
    p.add_link("wait", "work")
    p.add_link("work", "check")
    return p


def test_earned_schedule_edge_cases():
    p = zero_then_costed()
    base = make_baseline(p)
    assert base.bac == 500 and base.planned_duration == 12
    # EV 0: every time in [0, 5] has PV = 0; ES is the one closest to AT
    assert base.earned_schedule([0.0, 0.0], at=[3.0, 8.0]).tolist() == [3.0, 5.0]
    # a plan that earns from day 0: EV 0 gives ES 0 whatever AT
    q = pmosim.Project("from 0")
    q.add_task("x", 4, cost_rate=10.0)
    assert make_baseline(q).earned_schedule([0.0], at=[3.0]).tolist() == [0.0]
    # inside the rising part: 100 (t - 5) = 250 -> 7.5, whatever AT
    assert base.earned_schedule([250.0, 250.0], at=[1.0, 30.0]).tolist() == [7.5, 7.5]
    # EV = BAC with 'check' still to do: PV = BAC on [10, 12]; ES = AT within it, PD after
    assert base.earned_schedule([500.0] * 3, at=[9.0, 11.0, 20.0]).tolist() == [10, 11, 12]
    # finished (every task): ES = PD even when early (Lipke), so SPI(t) = PD / AT > 1
    assert base.earned_schedule([500.0], at=[9.0], complete=[True]).tolist() == [12.0]
    # late: past PD with EV short of BAC, ES < PD and SPI(t) < 1; SPI = EV / BAC
    s = StatusPeriod(14.0, {"wait": TaskStatus(0.0, 5.0), "work": TaskStatus(5.0, None, 0.8)})
    r = earned_value(p, [s])
    assert r.pv[0] == 500 and r.ev[0] == 400 and r.spi[0] == 0.8
    assert r.es[0] == 9.0 and r.spi_t[0] == pytest.approx(9 / 14)
    # EV inside a jump (a milestone's cost at 10): ES is the milestone's time
    m = pmosim.Project("jump")
    m.add_task("a", 10, cost_rate=10.0)
    m.add_task("gate", 0, cost_fixed=400.0)
    m.add_link("a", "gate")
    mb = make_baseline(m)
    assert mb.planned_value(10.0, side="left") == 100 and mb.planned_value(10.0) == 500
    assert mb.earned_schedule([300.0], at=[4.0]).tolist() == [10.0]


def test_period_problems_name_the_period_and_task(plan):
    def check(acts, match, date="2027-03-08", **kw):
        with pytest.raises(ModelError, match=match):
            earned_value(plan, [StatusPeriod(date, acts, "P")], **kw)

    check({"Z": TaskStatus(0.0)}, "status 'P': task 'Z' is not in the project")
    check({"A": TaskStatus(0.0, None, 1.5)}, r"task 'A': percent complete must be a fraction "
          r"in 0..1 \(0.25 for 25 %\), got 1.5")
    check({"A": TaskStatus(0.0, None, 0.5, -3.0)}, "actual_cost must be a number >= 0")
    check({"A": TaskStatus(3.0, 2.0, 1.0)}, "actual finish 2 is before its actual start 3")
    check({"A": TaskStatus(0.0, 4.0, 0.6)}, "60 % complete but finished")
    check({"A": TaskStatus(None, 4.0)}, "an actual finish needs the actual start too")
    check({"A": TaskStatus(0.0)}, "has started .* but gives neither percent_complete nor "
          "remaining")
    check({"A": TaskStatus("2027-03-09", None, 0.1)}, "actual start 2027-03-09 is after the "
          "status date", strict=True)
    # not strict (real records): a warning, kept
    r = earned_value(plan, [StatusPeriod("2027-03-08", {"A": TaskStatus("2027-03-09", None,
                                                                        0.1)}, "P")])
    assert r.warnings == ["status 'P': 1 task with actual dates after the status date (kept "
                          "as given): 'A'"]
    with pytest.raises(ModelError, match="no start date to count working days from"):
        earned_value(pmosim.Project("x", graph=plan.graph), [StatusPeriod("2027-03-08", {})])
    with pytest.raises(ModelError, match="have the same status date"):
        earned_value(plan, [StatusPeriod(6.0, {}, "a"), StatusPeriod("2027-03-08", {}, "b")],
                     strict=True)


def test_percent_complete_from_the_remaining_duration(plan):
    # B started at 4 (a number) and has 3 days left at t = 6: 2 done, 2 / (2 + 3) = 40 %
    r = earned_value(plan, [StatusPeriod(6.0, {"A": TaskStatus(0.0, 4.0),
                                               "B": TaskStatus(4.0, remaining_duration=3.0)})])
    i = r.task_ids.index("B")
    assert r.task_ev[0, i] == pytest.approx(0.4 * 600)


# -- scenario files ------------------------------------------------------------------------
STATUS_TOML = PLAN.replace('currency = "EUR"\n', 'currency = "EUR"\n\n[status]\n'
                           'date = "2027-03-03"\nname = "P1"\n') \
    .replace('cost_rate = 100\n', 'cost_rate = 100\nactual_start = 2027-03-01\n'
             'percent_complete = 50\nactual_cost = 220\n', 1) \
    .replace('cost_fixed = 50\n', 'cost_fixed = 50\nactual_start = "2027-03-01"\n'
             'percent_complete = 40\nactual_cost = 130\n', 1)


def write(tmp_path, text, name="plan.toml", **files):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    for fname, content in files.items():
        (tmp_path / fname.replace("_", ".")).write_text(content, encoding="utf-8")
    return path


def test_scenario_status_table_and_csv_periods(tmp_path):
    text = STATUS_TOML + """
[[status.periods]]
date = "2027-03-08"
name = "P2"
csv = "p2.csv"

[[status.periods]]
date = 2027-03-19
csv = "p3.csv"
"""
    path = write(tmp_path, text,
                 p2_csv="id,actual_start,actual_finish,percent_complete,actual_cost,notes\n"
                        "A,2027-03-01,2027-03-05,100%,450,done\nC,2027-03-01,2027-03-05,,320,\n"
                        "B,2027-03-08,,10,70,\n",
                 # Excel's semicolons and decimal commas
                 p3_csv="id;actual_start;actual_finish;percent_complete;actual_cost\n"
                        "A;2027-03-01;2027-03-05;100;450\nC;2027-03-01;2027-03-05;;320,0\n"
                        "B;2027-03-08;2027-03-17;;650\nM;13;13;;100\n")
    project = pmosim.load(path)
    status = project.meta["status"]
    assert [s.name for s in status] == ["P1", "P2", None]
    assert status[0].activities["A"] == TaskStatus(dt.date(2027, 3, 1), None, 0.5, 220.0)
    assert status[0].activities["C"].percent_complete == pytest.approx(0.4)
    r = earned_value(project, status)
    assert r.ev.tolist() == pytest.approx([320, 760, 1400])
    assert r.ac.tolist() == pytest.approx([350, 840, 1520])
    # a plain run ignores the status: the costs are the plan's
    assert project.graph.nodes["A"].get("actual_cost") is None


def test_status_actual_cost_may_exceed_the_budget_only_in_a_status(tmp_path):
    over = PLAN.replace("cost_fixed = 600\n", "cost_fixed = 600\nactual_start = 4\n"
                        "percent_complete = 10\nactual_cost = 900\n")
    path = write(tmp_path, over.replace('currency = "EUR"\n',
                                        'currency = "EUR"\n[status]\ndate = 6\n'))
    assert pmosim.load(path).meta["status"][0].activities["B"].actual_cost == 900
    # without [status], actual_cost is the spent part of cost_fixed (imported schedules)
    path = write(tmp_path, over.replace("actual_start = 4\npercent_complete = 10\n", ""))
    with pytest.raises(ScenarioError, match="actual_cost: 900 is more than cost_fixed 600"):
        pmosim.load(path)


@pytest.mark.parametrize("change, files, message", [
    (("percent_complete = 50\n", "percent_complete = 150\n"), {},
     r'tasks\[0\] \("A"\): percent_complete must be a number \(percent, 0..100\), got 150'),
    (('date = "2027-03-03"\n', 'date = "March 3"\n'), {},
     "status: date must be a date like 2027-04-30"),
    (("actual_start = 2027-03-01\n", "actual_start = 2027-03-04\n"), {},
     r"status 'P1': task 'A': actual start 2027-03-04 is after the status date"),
    (('name = "P1"\n', 'name = "P1"\nfixed_cost_accrual = "monthly"\n'), {},
     "status.fixed_cost_accrual: must be one of 'prorated', 'start', 'end'"),
    (('name = "P1"\n', 'name = "P1"\nperiods = [{ date = "2027-03-08" }]\n'), {},
     r"status.periods\[0\]: missing csv"),
    (('name = "P1"\n', 'name = "P1"\nperiods = [{ date = "2027-03-08", csv = "no.csv" }]\n'),
     {}, r"status.periods\[0\]: csv: 'no.csv' not found"),
    (('name = "P1"\n', 'name = "P1"\nperiods = [{ date = "2027-03-08", csv = "p.csv" }]\n'),
     {"p_csv": "id,percent\nA,10\n"}, r"p.csv: line 1: unknown column 'percent'"),
    (('name = "P1"\n', 'name = "P1"\nperiods = [{ date = "2027-03-08", csv = "p.csv" }]\n'),
     {"p_csv": "id,percent_complete\nZ,10\n"}, r"status '2027-03-08': task 'Z' is not in the "
                                               "project"),
    (('name = "P1"\n', 'name = "P1"\nperiods = [{ date = "2027-03-08", csv = "p.csv" }]\n'),
     {"p_csv": "id,percent_complete\nA,10\nA,20\n"},
     r"""p.csv: line 3 \("A"\): task 'A' is already on line 2"""),
])
def test_scenario_status_errors(tmp_path, change, files, message):
    path = write(tmp_path, STATUS_TOML.replace(*change, 1), **files)
    with pytest.raises(ScenarioError, match=message):
        pmosim.load(path)


def test_progress_keys_need_a_status_table(tmp_path):
    path = write(tmp_path, PLAN.replace("cost_rate = 100\n", "cost_rate = 100\n"
                                        "percent_complete = 50\n", 1))
    with pytest.raises(ScenarioError, match=r'tasks\[0\] \("A"\): percent_complete: progress '
                       r"at a status date; add a \[status\] table"):
        pmosim.load(path)
    path = write(tmp_path, PLAN + '[status]\nname = "x"\n')
    with pytest.raises(ScenarioError, match="status.name: names the status update"):
        pmosim.load(path)


# -- re-forecasts ---------------------------------------------------------------------------
def test_apply_status_replans_from_the_status(plan):
    period = StatusPeriod("2027-03-08", P2, "P2")
    out = apply_status(plan, period)
    a, b, c, m = (out.graph.nodes[t] for t in "ABCM")
    # finished: actual dates (0 .. 5) and costs
    assert (a["fixed_start"], a["fixed_finish"], a["cost_fixed"]) == (0.0, 5.0, 450.0)
    assert "cost_rate" not in a and c["cost_fixed"] == 320.0
    # in progress at t = 6: 90 % of 6 days left, the triangular scaled by 0.9
    assert b["release"] == 6.0 and b["planned"] == pytest.approx(5.4)
    assert b["duration"] == pmosim.Triangular(4.5, 5.4, 8.1)
    # cost: 70 spent + 600 * (1 - 10 %) still to earn
    assert b["cost_fixed"].value == pytest.approx(70 + 540) and b["actual_cost"] == 70
    assert m["release"] == 6.0
    assert out.meta["status_applied"] == {"name": "P2", "status_date": "2027-03-08",
                                          "time": 6.0}
    assert plan.graph.nodes["B"].get("release") is None          # the plan is unchanged
    # the re-forecast's CPM: B from 6 for 5.4 days, then M
    assert pmosim.cpm(out).finish == pytest.approx(11.4)


WEEK_8H = "\n".join(f'{d} = ["08:00-12:00", "13:00-17:00"]' for d in ("mon", "tue", "wed", "thu", "fri"))


@pytest.mark.parametrize("period", [StatusPeriod("2027-03-03", P1, "P1"),
                                    StatusPeriod("2027-03-08", P2, "P2"),
                                    StatusPeriod("2027-03-19", P3, "P3")])
def test_apply_status_in_the_wall_clock_mode(tmp_path, plan, period):
    """The same plan with working calendars (the wall-clock kernel of imports; B on a
    second calendar): a status update moves its schedule as it moves the working-day
    plan's (finished tasks on their actual dates, nothing before the status date), and
    the simulation agrees. The calendars are the working-day axis's own week, so the two
    must give the same days."""
    path = tmp_path / "wall.toml"
    path.write_text(PLAN.replace('start = "2027-03-01"\n',
                                 'calendar = "std"\ndata_date = 2027-03-01T08:00:00\n')
                    .replace('predecessors = ["A"]', 'predecessors = ["A"]\ncalendar = "copy"')
                    + "".join(f'\n[calendars.{c}]\nhours_per_day = 8\n\n[calendars.{c}.week]\n'
                              + WEEK_8H + "\n" for c in ("std", "copy")), encoding="utf-8")
    wall = pmosim.load(path)
    assert uses_calendars(wall)         # B's calendar: the simulation runs on the wall clock
    axis_cpm = pmosim.cpm(apply_status(plan, period))
    wall_status = apply_status(wall, period)
    wall_cpm = pmosim.cpm(wall_status)
    assert wall_cpm.finish == pytest.approx(axis_cpm.finish, abs=1e-9)
    assert wall_cpm.finish != pytest.approx(pmosim.cpm(wall).finish)   # the status moved it
    np.testing.assert_allclose(wall_cpm.early_start, axis_cpm.early_start, atol=1e-9)
    np.testing.assert_allclose(wall_cpm.early_finish, axis_cpm.early_finish, atol=1e-9)
    a = pmosim.simulate(apply_status(plan, period), 2_000, seed=5)
    w = pmosim.simulate(wall_status, 2_000, seed=5)
    np.testing.assert_allclose(w.finish.samples, a.finish.samples, atol=1e-9)


def test_apply_status_drops_what_can_no_longer_happen():
    p = pmosim.Project("events")
    p.add_task("a", 3)
    p.add_task("b", 4, existence=0.5)
    p.add_task("x", 2)
    p.add_task("y", 2)
    p.add_task("c", pmosim.Triangular(1, 2, 4))
    p.add_task("d", pmosim.Triangular(1, 2, 4))
    p.add_link("a", "b")
    p.add_correlation_matrix(["a", "c", "d"], [[1, .2, .3], [.2, 1, .4], [.3, .4, 1]])
    p.add_branch("route", [(0.7, ["x"]), (0.3, ["y"])])
    p.add_risk("R1", 0.4, ["a"], schedule_impact=2)
    p.add_risk("R2", 0.4, ["b"], schedule_impact=2)
    out = apply_status(p, StatusPeriod(3.0, {"a": TaskStatus(0.0, 3.0),
                                             "b": TaskStatus(3.0, None, 0.0, None, 4.0),
                                             "y": TaskStatus(0.0, None, 0.5)}))
    assert set(out.risks) == {"R2"}                 # R1's task is done
    assert "existence" not in out.graph.nodes["b"]  # b has started: it exists
    assert out.branches == {} and out.graph.nodes["x"]["existence"] == 0.0
    # a, finished, leaves its correlation group; c and d keep their coefficient
    (group,) = out.correlations
    assert group.tasks == ("c", "d") and group.matrix.tolist() == [[1, .4], [.4, 1]]
    with pytest.raises(ModelError, match="two options of branch 'route' have started"):
        apply_status(p, StatusPeriod(3.0, {"x": TaskStatus(0.0, None, 0.5),
                                           "y": TaskStatus(0.0, None, 0.5)}))


def test_scaled_keeps_each_family():
    assert scaled(pmosim.Pert(2, 4, 10), 0.5) == pmosim.Pert(1, 2, 5)
    assert scaled(pmosim.Normal(10, 2), 0.5) == pmosim.Normal(5, 1)
    assert scaled(pmosim.Discrete([1, 3], [1, 1]), 2).values == (2.0, 6.0)
    assert scaled(pmosim.Uniform(1, 3), 0) == pmosim.Fixed(0.0)
    t = scaled(pmosim.Trigen(2, 4, 10, 10, 90), 0.5)
    assert (t.low, t.mode, t.high) == (1, 2, 5) and t.abs_low == pytest.approx(
        pmosim.Trigen(2, 4, 10, 10, 90).abs_low / 2)


def test_select_period(plan):
    ps = periods()
    assert select_period(plan, ps, "2027-03-10").name == "P2"
    assert select_period(plan, ps, "latest").name == "P3"
    with pytest.raises(ModelError, match=r"status date 2027-03-02 is before the first status "
                                         r"update \('P1'\)"):
        select_period(plan, ps, "2027-03-02")


# -- imports ----------------------------------------------------------------------------------
MSPDI = """<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2024-01-08T08:00:00</StartDate><StatusDate>2024-01-10T17:00:00</StatusDate>
  <MinutesPerDay>480</MinutesPerDay><CurrencyCode>EUR</CurrencyCode>
  <Tasks>
    <Task><UID>1</UID><Name>Dig</Name><Duration>PT32H0M0S</Duration>
      <RemainingDuration>PT16H0M0S</RemainingDuration>
      <ActualStart>2024-01-08T08:00:00</ActualStart><PercentComplete>50</PercentComplete>
      <Cost>40000</Cost><ActualCost>25000</ActualCost><RemainingCost>15000</RemainingCost>
      <Baseline><Number>0</Number><Start>2024-01-08T08:00:00</Start>
        <Finish>2024-01-11T17:00:00</Finish><Duration>PT32H0M0S</Duration><Cost>40000</Cost>
      </Baseline></Task>
    <Task><UID>2</UID><Name>Pour</Name><Duration>PT16H0M0S</Duration><Cost>20000</Cost>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink>
      <Baseline><Number>0</Number><Start>2024-01-12T08:00:00</Start>
        <Finish>2024-01-15T17:00:00</Finish><Duration>PT16H0M0S</Duration><Cost>20000</Cost>
      </Baseline></Task>
  </Tasks></Project>"""


def test_ms_project_progress_against_its_baseline(tmp_path):
    path = tmp_path / "plan.xml"
    path.write_text(MSPDI, encoding="utf-8")
    project = pmosim.load(path)
    assert project.graph.nodes[1]["baseline_cost"] == 400.0    # hundredths
    period = status_from_import(project)
    assert period.status_date == dt.datetime(2024, 1, 10, 17)
    assert period.activities[1] == TaskStatus(dt.datetime(2024, 1, 8, 8), None, 0.5, 250.0,
                                              2.0)
    r = earned_value(project, [period])
    # baseline Mon 8:00 .. Thu 17:00 (4 days, 400) then Fri .. Mon (2 days, 200): BAC 600,
    # PD 6. Status Wed 17:00: AT 3, PV 300, EV 200 (50 % of Dig), AC 250, ES 2
    assert (r.bac, r.planned_duration) == (600, 6)
    assert (r.at[0], r.pv[0], r.ev[0], r.ac[0], r.es[0]) == pytest.approx((3, 300, 200, 250, 2))
    # without a baseline there is nothing to measure against
    bare = tmp_path / "bare.xml"
    bare.write_text(re.sub(r"<Baseline>.*?</Baseline>", "", MSPDI, flags=re.S), encoding="utf-8")
    with pytest.raises(ModelError, match=r"earned value needs the baseline's planned dates, and "
                       r"2 tasks have none \(1, 2\); save a baseline in MS Project"):
        earned_value(pmosim.load(bare), [status_from_import(pmosim.load(bare))])
    # and it is simulated from its own data date already
    res = CliRunner().invoke(cli, ["run", str(path), "-n", "100", "--status-date", "latest",
                                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "is a progressed schedule" in res.output


# -- DSLIB: the workbooks' own figures -------------------------------------------------------
def test_dslib_tracking_overview_is_recomputed():
    from _data import data_dir
    pytest.importorskip("openpyxl")
    from pmosim.io.dslib import read_dslib

    path = data_dir("dslib", "Excel", "C2011-10 Building a House.xlsx")
    project = read_dslib(path, tracking=True)
    periods = project.meta["tracking"]
    r = earned_value(project, periods, accrual="start")
    assert r.n_periods == len(periods) == 41
    hours = project.meta["hours_per_day"]
    for k, tp in enumerate(sorted(periods, key=lambda t: t.status_date)):
        o = tp.overview
        assert r.pv[k] == pytest.approx(o.pv, rel=1e-9)
        assert r.ev[k] == pytest.approx(o.ev, rel=1e-9)
        assert r.ac[k] == pytest.approx(o.ac, rel=1e-9)
        # ProTrack's ES is to the hour (its SV(t) is whole hours); pmosim's is exact. The
        # last period is after the finish: there ProTrack keeps AT at the status date
        theirs = r.status_time[k] + o.sv_t
        if k < 40:
            assert 0 <= (r.es[k] - theirs) * hours < 1 + 1e-6, k
        else:
            assert r.es[k] == theirs == r.planned_duration


# -- the command line ------------------------------------------------------------------------
@pytest.fixture
def status_file(tmp_path):
    return write(tmp_path, STATUS_TOML + """
[[status.periods]]
date = "2027-03-08"
name = "P2"
csv = "p2.csv"
""", p2_csv="id,actual_start,actual_finish,percent_complete,actual_cost\n"
            "A,2027-03-01,2027-03-05,100,450\nC,2027-03-01,2027-03-05,100,320\n"
            "B,2027-03-08,,10,70\n")


def test_cli_status_table_json_and_chart(status_file, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["status", str(status_file), "--out", str(tmp_path / "o"),
                              "--json", str(tmp_path / "evm.json")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == ("Earned value of 'Hand': BAC 1,400 in EUR, planned duration PD 10.0 "
                        "working days (finish 2027-03-12); fixed costs accrue over the "
                        "duration")
    head = next(k for k, ln in enumerate(lines) if ln.startswith("Period"))
    assert lines[head].split() == ["Period", "Status", "date", "AT", "PV", "EV", "AC", "SV",
                                   "CV", "SPI", "CPI", "ES", "SV(t)", "SPI(t)"]
    assert lines[head + 1].split() == ["P1", "2027-03-03", "3.0", "480", "320", "350", "-160",
                                       "-30", "0.667", "0.914", "2.0", "-1.0", "0.667"]
    assert lines[head + 2].split()[:6] == ["P2", "2027-03-08", "6.0", "900", "760", "840"]
    assert "PF=0.8CPI+0.2SPI(t)" in res.output
    assert "11.0 (2027-03-15)" in res.output                      # IEAC(t), PF = 1, at P1
    doc = json.loads((tmp_path / "evm.json").read_text())
    assert doc["source"] == str(status_file) and doc["accrual"] == "prorated"
    assert [p["name"] for p in doc["periods"]] == ["P1", "P2"]
    assert doc["periods"][1]["ev"] == 760 and doc["periods"][0]["eac"]["SPI"] == 1970
    assert json.loads((tmp_path / "o" / "evm.json").read_text()) == doc
    assert (tmp_path / "o" / "evm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # --json -: the document on stdout, the tables on stderr
    res = runner.invoke(cli, ["status", str(status_file), "--json", "-",
                              "--fixed-cost-accrual", "start"], catch_exceptions=False)
    doc = json.loads(res.stdout)
    assert doc["accrual"] == "start" and doc["periods"][0]["pv"] == 500
    assert "Earned value of" in res.stderr


def test_cli_status_errors(tmp_path):
    runner = CliRunner()
    plan = write(tmp_path, PLAN)
    res = runner.invoke(cli, ["status", str(plan)])
    assert res.exit_code == 1
    assert res.output.strip() == (f"Error: {plan}: no status updates to measure; add a "
                                  "[status] table with the status date and the tasks' "
                                  "progress (docs/scenario-format.md, Status updates)")
    res = runner.invoke(cli, ["run", str(plan), "-n", "100", "--status-date", "latest",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and res.output.strip().startswith(
        "Error: --status-date latest: ") and "has no status updates" in res.output


def test_cli_run_from_a_status_date(status_file, tmp_path):
    runner = CliRunner()
    out = tmp_path / "run"
    res = runner.invoke(cli, ["run", str(status_file), "-n", "200", "--seed", "3",
                              "--status-date", "2027-03-09", "--out", str(out)],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert ("Re-forecast from the status of 2027-03-08 (P2): 2 tasks finished, 1 in "
            "progress; SPI(t) 0.792, CPI 0.905") in res.output
    doc = json.loads((out / "results.json").read_text())
    assert doc["evm"]["name"] == "P2" and doc["evm"]["ev"] == 760
    # B has 5.4 of its 6 days left from t = 6: the plan finishes at 11.4 (Tuesday 03-16)
    assert doc["finish"]["deterministic"] == pytest.approx(11.4)
    assert doc["finish"]["deterministic_date"] == "2027-03-16"
    assert min(doc["finish"]["percentiles"].values()) >= 6 + 4.5 - 1e-9
    # without --status-date a note says the status is not used
    res = runner.invoke(cli, ["run", str(status_file), "-n", "100", "--seed", "3", "--out",
                              str(out)], catch_exceptions=False)
    assert ("Note: " + str(status_file) + " has 2 status updates; this run simulates the "
            "plan from its start") in res.output
    res = runner.invoke(cli, ["run", str(status_file), "-n", "100", "--status-date",
                              "2027-03-01", "--out", str(out)])
    assert res.exit_code == 1 and "is before the first status update ('P1')" in res.output


# -- a remaining duration on a finished task ---------------------------------------------
@pytest.mark.parametrize("finished, how", [
    (TaskStatus("2027-03-01", "2027-03-05", None, 450.0, remaining_duration=2.0),
     "actual finish"),
    (TaskStatus("2027-03-01", None, 1.0, 450.0, remaining_duration=2.0), "100 % complete"),
])
def test_remaining_on_a_finished_task_is_an_error_or_ignored(plan, finished, how):
    from pmosim.evm import resolve_periods

    acts = {"A": finished, "B": TaskStatus("2027-03-08", None, 0.1, 70.0)}
    period = StatusPeriod("2027-03-08", acts, "P2")
    with pytest.raises(ModelError, match=re.escape(
            f"status 'P2': task 'A': remaining 2 working days but finished ({how}); a "
            "finished task has none left: drop its remaining, or its finish if it is "
            "still in progress")):
        resolve_periods(plan, [period], strict=True)
    r, = resolve_periods(plan, [period], strict=False)
    assert r.warnings == ["status 'P2': 1 task with a remaining duration although finished "
                          "(ignored): 'A'"]
    i = list(plan.graph.nodes).index("A")
    assert r.complete[i] and r.pc[i] == 1.0 and np.isnan(r.remaining[i])
    # ignored means: everything as if the status had not given it
    clean = StatusPeriod("2027-03-08", {**acts, "A": TaskStatus(
        finished.actual_start, finished.actual_finish, finished.percent_complete, 450.0)},
        "P2")
    r0, = resolve_periods(plan, [clean], strict=True)
    for name in ("started", "complete", "pc", "ac", "start", "finish", "remaining"):
        np.testing.assert_array_equal(getattr(r, name), getattr(r0, name), err_msg=name)
    assert earned_value(plan, [period]).rows() == earned_value(plan, [clean]).rows()
    # a remaining duration of 0 on a finished task says nothing wrong
    zero = StatusPeriod("2027-03-08", {**acts, "A": TaskStatus(
        finished.actual_start, finished.actual_finish, finished.percent_complete, 450.0,
        remaining_duration=0.0)}, "P2")
    assert resolve_periods(plan, [zero], strict=True)[0].warnings == []


def test_dslib_finished_tasks_with_a_remaining_duration():
    """C2019-05's last tracking period books a remaining day on two finished tasks."""
    pytest.importorskip("openpyxl", reason="DSLIB workbooks need the optional openpyxl")
    from _data import data_dir
    from pmosim.evm import resolve_periods
    from pmosim.io.dslib import read_dslib

    project = read_dslib(data_dir("dslib", "Excel", "C2019-05 Fuel Tank Filter.xlsx"),
                         tracking=True)
    last = project.meta["tracking"][-1]
    booked = sorted(t for t, st in last.activities.items()
                    if st.actual_finish is not None and (st.remaining_duration or 0) > 0)
    assert booked == [13, 15]
    with pytest.raises(ModelError, match=f"task {booked[0]}: remaining .* but finished"):
        resolve_periods(project, [last], strict=True)
    r, = resolve_periods(project, [last], strict=False)
    assert r.warnings == [f"status {r.name!r}: 2 tasks with a remaining duration although "
                          "finished (ignored): 13, 15"]
    pos = {t: i for i, t in enumerate(project.graph.nodes)}
    assert all(r.complete[pos[t]] and np.isnan(r.remaining[pos[t]]) for t in booked)


def test_cli_report_from_a_status_date(status_file, tmp_path):
    """`pmosim report --status-date` and `run --status-date --report`: the report gains a
    "Status update" section with the period's earned value and earned schedule (the
    hand-computed P2: EV 760, AC 840, CPI 0.905, SPI(t) 0.792) and says which
    re-forecast it is; --learn adds the factor `learn` finds. Without a status date
    there is no such section."""
    from pmosim.evm import select_period
    from pmosim.reforecast import learn

    runner = CliRunner()

    def report(*extra):
        path = tmp_path / f"r{len(list(tmp_path.glob('r*.html')))}.html"
        res = runner.invoke(cli, ["report", str(status_file), "-n", "200", "--seed", "3",
                                  "-o", str(path), *extra], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return path.read_text(encoding="utf-8"), res.output

    html, out = report("--status-date", "2027-03-09")
    assert "Re-forecast from the status of 2027-03-08 (P2)" in out
    section = html[html.index('id="status"'):]
    section = section[:section.index("</section>")]
    assert "status of 2027-03-08 (P2)" in section and "Plain re-forecast" in section
    for label, value in (("Earned value (EV)", "760 EUR"), ("Actual cost (AC)", "840 EUR"),
                         ("Cost performance index (CPI)", "0.905"), ("SPI(t)", "0.792")):
        assert re.search(rf"<td>{re.escape(label)}</td><td class=\"num\">{re.escape(value)}"
                         r"</td>", section), label
    html, _ = report("--status-date", "latest", "--learn")
    section = html[html.index('id="status"'):]
    project = pmosim.load(status_file)
    d = learn(project, select_period(project, project.meta["status"], "latest")).duration
    assert f"median {d.median:.3f}" in section and "Learning re-forecast" in section
    html, _ = report()
    assert 'id="status"' not in html
    res = runner.invoke(cli, ["run", str(status_file), "-n", "200", "--seed", "3",
                              "--status-date", "2027-03-09", "--out", str(tmp_path / "o"),
                              "--report", str(tmp_path / "run.html")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "status of 2027-03-08 (P2)" in (tmp_path / "run.html").read_text(encoding="utf-8")

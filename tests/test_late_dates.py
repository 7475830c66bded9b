"""Late dates, total float and free float as the scheduling tools compute them (issue 17).

References: Primavera P6's own late dates and floats stored in SP10's TASK table, and
hand-computed schedules (a two-task chain with a finish-no-later-than constraint on a
working calendar; free float on the working-day axis).
"""

import datetime as dt
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import pmosim
from pmosim.distributions import Fixed
from pmosim.io.xer import parse_xer_tables

from _data import data_dir


@pytest.fixture(scope="module")
def sp10_p6():
    path = data_dir("p6", "SP10 - COST LOADED.xer")
    project = pmosim.load(str(path))
    text = Path(path).read_text(encoding="cp1252", errors="replace")
    rows = {r["task_code"]: r for r in parse_xer_tables(text)["TASK"]}
    return project, pmosim.cpm(project), rows


def _p6_date(text):
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M")


def test_sp10_late_dates_and_float_match_p6(sp10_p6):
    """Late start and late finish equal P6's for >= 99 % of the incomplete activities,
    total float for >= 98 % and free float for >= 95 % (benchmarks/p6_float.py lists
    the rest: P6 measures some as-late-as-possible activities' float from dates it does
    not store)."""
    project, cpm, rows = sp10_p6
    hpd = {k: v["hours_per_day"] for k, v in project.meta["calendars"].items()}
    n = 0
    ok = {"ls": 0, "lf": 0, "tf": 0, "ff": 0}
    for i, t in enumerate(cpm.task_ids):
        d = project.graph.nodes[t]
        r = rows.get(d.get("code"))
        if r is None or r["status_code"] == "TK_Complete":
            continue
        n += 1
        h = hpd[d["calendar"]]
        ok["ls"] += cpm.late_start_date[i] == _p6_date(r["late_start_date"])
        ok["lf"] += cpm.late_finish_date[i] == _p6_date(r["late_end_date"])
        ok["tf"] += abs(cpm.total_float[i] * h - float(r["total_float_hr_cnt"])) <= 0.01
        ok["ff"] += abs(cpm.free_float[i] * h - float(r["free_float_hr_cnt"])) <= 0.01
    assert n == 3471
    share = {k: v / n for k, v in ok.items()}
    assert share["ls"] >= 0.99 and share["lf"] >= 0.99, share
    assert share["tf"] >= 0.98 and share["ff"] >= 0.95, share


def test_sp10_negative_float_as_p6(sp10_p6):
    """P6 shows 1,459 incomplete activities with zero or negative float, 919 negative
    (786 finish-on constraints); within one of each."""
    project, cpm, rows = sp10_p6
    g = project.graph
    inc = [i for i, t in enumerate(cpm.task_ids)
           if g.nodes[t].get("status") != "complete" and g.nodes[t].get("code") in rows]
    p6 = [float(r["total_float_hr_cnt"]) for r in rows.values()
          if r["status_code"] != "TK_Complete"]
    ours = cpm.total_float[inc]
    assert abs(int(np.sum(ours < -1e-9)) - sum(x < 0 for x in p6)) <= 1
    assert abs(int(np.sum(ours <= 1e-9)) - sum(x <= 0 for x in p6)) <= 1


def test_completed_tasks_have_no_float(sp10_p6):
    project, cpm, _ = sp10_p6
    done = [i for i, t in enumerate(cpm.task_ids)
            if project.graph.nodes[t].get("status") == "complete"]
    assert len(done) > 500
    assert np.all(np.isnan(cpm.total_float[done])) and np.all(np.isnan(cpm.free_float[done]))
    assert not cpm.critical[done].any()
    assert all(cpm.late_start_date[i] == cpm.early_start_date[i]
               and cpm.late_finish_date[i] == cpm.early_finish_date[i] for i in done)
    doc = cpm.to_dict()
    assert doc["tasks"][done[0]]["total_float"] is None


def _two_task_project(constraint):
    """a (2 days) -> b (3 days), 8-17 with a lunch hour, Monday to Friday, from Monday
    2027-03-01 08:00; ``constraint`` on b."""
    split = [(8.0, 12.0), (13.0, 17.0)]
    p = pmosim.Project("late")
    p.add_task("a", Fixed(2.0), calendar="std", status="not started", kind="task")
    p.add_task("b", Fixed(3.0), calendar="std", status="not started", kind="task",
               constraint=constraint)
    p.add_link("a", "b")
    p.meta.update(data_date=dt.datetime(2027, 3, 1, 8), axis_calendar="std",
                  calendars={"std": {"week": {d: split for d in range(5)}, "exceptions": {},
                                     "hours_per_day": 8.0}})
    return p


def test_finish_no_later_than_by_hand():
    """b finishes Friday 17:00 early; FNLT Thursday 17:00 makes its late finish Thursday
    17:00 and its float -1 day; a's late finish is b's late start, Monday 17:00 (b takes
    Tue-Thu), so a's float is -1 day too."""
    p = _two_task_project(("FNLT", dt.datetime(2027, 3, 4, 17)))
    r = pmosim.cpm(p)
    i = {t: k for k, t in enumerate(r.task_ids)}
    assert r.early_finish_date[i["b"]] == dt.datetime(2027, 3, 5, 17)
    assert r.late_finish_date[i["b"]] == dt.datetime(2027, 3, 4, 17)
    assert r.late_start_date[i["b"]] == dt.datetime(2027, 3, 2, 8)
    assert r.late_finish_date[i["a"]] == dt.datetime(2027, 3, 1, 17)
    assert r.total_float[i["b"]] == pytest.approx(-1.0)
    assert r.total_float[i["a"]] == pytest.approx(-1.0)
    assert r.critical.all()
    # the simulation's criticality still says what drives the finish: both tasks, no
    # negative float
    res = pmosim.simulate(p, 100, seed=1)
    assert res.tasks.criticality.tolist() == [1.0, 1.0]


def test_start_no_later_than_and_mandatory_by_hand():
    """SNLT Tuesday 08:00 on b: late start Tuesday 08:00, late finish Thursday 17:00,
    float -1 day (it can start Wednesday at the earliest). A mandatory finish (MFO) sets
    b's late finish whatever its successors allow: on Thursday, -1 day of float."""
    p = _two_task_project(("SNLT", dt.datetime(2027, 3, 2, 8)))
    r = pmosim.cpm(p)
    i = {t: k for k, t in enumerate(r.task_ids)}
    assert r.late_start_date[i["b"]] == dt.datetime(2027, 3, 2, 8)
    assert r.late_finish_date[i["b"]] == dt.datetime(2027, 3, 4, 17)
    assert r.total_float[i["b"]] == pytest.approx(-1.0)
    p = _two_task_project(("MFO", dt.datetime(2027, 3, 4, 17)))
    r = pmosim.cpm(p)
    assert r.late_finish_date[i["b"]] == dt.datetime(2027, 3, 4, 17)
    assert r.total_float[i["b"]] == pytest.approx(-1.0)


def test_free_float_on_the_axis_by_hand():
    """a(3) -> c(4); b(1) -> c; b -SS+2-> d(1). Free float: a 0 (it drives c); b 0:
    through c it could slip 2 (c starts at 3), but d starts exactly 2 days after b's
    start; d: the project finish 7 less its finish 3 = 4; c 0."""
    g = nx.DiGraph()
    for t, d in {"a": 3, "b": 1, "c": 4, "d": 1}.items():
        g.add_node(t, duration=d)
    g.add_edge("a", "c")
    g.add_edge("b", "c")
    g.add_edge("b", "d", type="SS", lag=2)
    r = pmosim.cpm(g)
    ff = dict(zip(r.task_ids, r.free_float))
    assert ff == {"a": 0.0, "b": 0.0, "c": 0.0, "d": 4.0}
    g.remove_edge("b", "d")
    ff = dict(zip(pmosim.cpm(g).task_ids, pmosim.cpm(g).free_float))
    assert ff["b"] == 2.0
    assert np.all(r.free_float <= r.total_float + 1e-12)


def test_a_gap_in_the_lag_calendar_is_not_negative_float():
    """a -> b on a 7-day calendar, then b -FS+1d-> d with the lag on a 5-day calendar whose
    Monday 2027-03-08 is a holiday. b finishes Sunday 17:00; the lag's day is Tuesday;
    d starts Wednesday 08:00. b may as well finish on Monday: its own calendar works
    then and the lag still ends on Tuesday. So a and b have a day of float, d none, and
    no task negative float (the backward pass once took the earliest moment of the lag
    calendar's gap, Friday, and gave -2 days with no constraint at all)."""
    split = [(8.0, 12.0), (13.0, 17.0)]
    p = pmosim.Project("gap")
    p.add_task("a", Fixed(5.0), calendar="7d", status="not started", kind="task")
    p.add_task("b", Fixed(2.0), calendar="7d", status="not started", kind="task")
    p.add_task("d", Fixed(1.0), calendar="5d", status="not started", kind="task")
    p.add_link("a", "b")
    p.add_link("b", "d", lag=1.0)
    p.graph.edges["b", "d"]["lag_calendar"] = "5d"
    p.meta.update(data_date=dt.datetime(2027, 3, 1, 8), axis_calendar="5d", calendars={
        "7d": {"week": {d: split for d in range(7)}, "exceptions": {}, "hours_per_day": 8.0},
        "5d": {"week": {d: split for d in range(5)},
               "exceptions": {dt.date(2027, 3, 8): []}, "hours_per_day": 8.0}})
    r = pmosim.cpm(p)
    i = {t: k for k, t in enumerate(r.task_ids)}
    assert r.early_finish_date[i["b"]] == dt.datetime(2027, 3, 7, 17)
    assert r.early_start_date[i["d"]] == dt.datetime(2027, 3, 10, 8)
    assert r.late_finish_date[i["b"]] == dt.datetime(2027, 3, 8, 17)
    assert np.allclose(r.total_float, [1.0, 1.0, 0.0])
    assert np.allclose(r.free_float, [0.0, 1.0, 0.0])

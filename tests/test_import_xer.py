"""Primavera P6 XER import, proved against P6's own early dates.

Data: ``../shared/data/p6/SP10 - COST LOADED.xer`` (HS2 schedule from PyP6Xer's history,
LGPL-2.1; see its PROVENANCE.md). P6 stored its early start/finish for every
activity; the reference forward pass with per-task calendars
(``schedule_dates`` of ``tests/reference_worktime.py``) must reproduce them.
"""

import datetime as dt

import networkx as nx
import pytest

from pmosim.distributions import Fixed
from pmosim.errors import ScheduleImportError
from pmosim.io.xer import parse_xer_tables, read_xer

from _data import data_dir
from reference_worktime import WorkWeek, schedule_dates

SP10 = ("p6", "SP10 - COST LOADED.xer")


def test_sp10_counts_match_the_file(sp10):
    report = sp10.meta["import_report"]
    # PROVENANCE.md: 3,994 activities, 5,966 links (5,573 FS, 266 SS, 127 FF), 220 lags
    assert report["tasks"] == 3994
    assert report["links"] == 5966
    assert report["links_by_type"] == {"FS": 5573, "SS": 266, "FF": 127, "SF": 0}
    assert report["lags"] == 220
    assert report["calendars"] == 6
    # 692 TASKRSRC rows, all on resources of RSRC: 625 with units per hour, 67 with none
    assert report["assignments"] + report["assignments_not_levelled"] == 692
    assert report["tasks_by_kind"] == {"task": 2635, "finish milestone": 1037,
                                       "start milestone": 319, "loe": 3}
    assert report["tasks_by_status"] == {"not started": 3301, "in progress": 170, "complete": 523}
    assert report["total_cost"] == pytest.approx(215_918_496.41, abs=0.01)
    # 12 pairs with two links each keep the second one through a connector task
    assert report["connector_tasks"] == report["duplicate_links"] == 12
    assert any("level-of-effort" in w for w in report["warnings"])
    assert "TASKACTV" in report["ignored_tables"]
    sp10.validate()


def test_sp10_progress_and_data_date(sp10):
    assert sp10.meta["data_date"] == dt.datetime(2017, 9, 16)
    assert sp10.start == dt.date(2017, 9, 18)  # the data date is a Saturday
    assert sp10.calendar.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    nodes = sp10.graph.nodes
    done = [d for _, d in nodes(data=True) if d["status"] == "complete"]
    assert all(d["duration"] == Fixed(0.0) and d["actual_finish"] for d in done)
    assert all(d["fixed_finish"] <= 0 for d in done)
    # an in-progress activity keeps its actual start and simulates its remaining 79 h
    active = [d for _, d in nodes(data=True) if d["status"] == "in progress"]
    assert len(active) == 170 and all(d["actual_start"] for d in active)
    hours = {d["duration"].value * 8 for d in active}
    assert 79.0 in hours
    assert nodes["P1EWCC-FWP03-5710"]["constraint"] == ("SNET", dt.datetime(2018, 11, 1, 8))


def test_sp10_early_dates_match_p6(sp10):
    """P6's early dates are reproduced for >= 95 % of incomplete activities.

    The only misses are downstream of the three activities marked complete after
    P6's last schedule run: their stored early dates are still after the data date
    (e.g. finish 2017-09-29 with actual finish 2017-09-15), so P6's successors'
    dates are stale, not a different rule.
    """
    dates = schedule_dates(sp10)
    g = sp10.graph
    incomplete = [v for v, d in g.nodes(data=True)
                  if d["status"] != "complete" and d["kind"] != "connector"]
    wrong = [v for v in incomplete
             if dates[v] != (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"])]
    match = 1 - len(wrong) / len(incomplete)
    assert match >= 0.95, f"{match:.2%} of {len(incomplete)} incomplete activities match"
    data_date = sp10.meta["data_date"]
    stale = [v for v, d in g.nodes(data=True)
             if d["status"] == "complete" and d["tool_finish"] > data_date + dt.timedelta(days=1)]
    downstream = set().union(*(nx.descendants(g, v) for v in stale))
    assert set(wrong) <= downstream, sorted(set(wrong) - downstream)


def _xer(tmp_path, rows, name="t.xer"):
    path = tmp_path / name
    path.write_text("\n".join(["ERMHDR\t8.1"] + rows + ["%E"]), encoding="cp1252")
    return path


def _small(links, cal_data="", extra_tasks=()):
    rows = ["%T\tPROJECT", "%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id",
            "%R\t1\tP\t2024-01-08 08:00\t7",
            "%T\tCALENDAR", "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data",
            f"%R\t7\tcal\t8\t{cal_data}",
            "%T\tTASK",
            "%F\ttask_id\tproj_id\ttask_code\ttask_name\ttask_type\tstatus_code\t"
            "remain_drtn_hr_cnt\tclndr_id\tcstr_type\tcstr_date",
            "%R\t1\t1\tA\tA\tTT_Task\tTK_NotStart\t16\t7\t\t",
            "%R\t2\t1\tB\tB\tTT_Task\tTK_NotStart\t8\t7\t\t", *extra_tasks,
            "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt"]
    return rows + [f"%R\t{i}\t{v}\t{u}\t{t}\t{lag}" for i, (u, v, t, lag) in enumerate(links)]


WEEKDAYS_8_17 = "(0||CalendarData()(\x7f\x7f  (0||DaysOfWeek()(" + "".join(
    f"\x7f\x7f    (0||{d}()(\x7f\x7f      (0||0(s|08:00|f|12:00)())\x7f\x7f      "
    f"(0||1(s|13:00|f|17:00)())))" for d in range(2, 7)) + "(0||1()())(0||7()())))" \
    "\x7f\x7f  (0||Exceptions()(\x7f\x7f    (0||0(d|45300)())))))"


def test_link_types_lags_and_calendar(tmp_path):
    p = read_xer(_xer(tmp_path, _small([("1", "2", "PR_FF", "-4"), ("1", "2", "PR_SS", "8")],
                                       WEEKDAYS_8_17)))
    cal = p.meta["calendars"]["7"]
    assert cal["week"][0] == [(8.0, 12.0), (13.0, 17.0)] and cal["week"][5] == []
    assert cal["exceptions"] == {dt.date(2024, 1, 9): []}  # Excel serial 45300
    assert p.graph.edges["A", "B"] == {"type": "FF", "lag": -0.5, "lag_calendar": "7"}
    # the second A -> B link goes through a connector task
    assert p.meta["import_report"]["links_by_type"] == {"FS": 0, "SS": 1, "FF": 1, "SF": 0}
    dates = schedule_dates(p)
    # A: Mon 8 Jan 08:00, 16 h, Tue 9 Jan is a holiday -> ends Wed 10 Jan 17:00
    assert dates["A"] == (dt.datetime(2024, 1, 8, 8), dt.datetime(2024, 1, 10, 17))
    # B: SS+8h -> starts Wed 08:00; FF-4h -> finish >= Wed 13:00; 8 h -> Wed 17:00
    assert dates["B"] == (dt.datetime(2024, 1, 10, 8), dt.datetime(2024, 1, 10, 17))


def test_unknown_link_type_and_constraint(tmp_path):
    with pytest.raises(ScheduleImportError, match="unknown pred_type 'PR_XX'"):
        read_xer(_xer(tmp_path, _small([("1", "2", "PR_XX", "0")])))
    extra = ["%R\t3\t1\tC\tC\tTT_Task\tTK_NotStart\t8\t7\tCS_WEIRD\t2024-02-01 08:00"]
    p = read_xer(_xer(tmp_path, _small([], extra_tasks=extra)))
    assert any("constraint CS_WEIRD is not supported" in w
               for w in p.meta["import_report"]["warnings"])
    assert any("no readable working week" in w for w in p.meta["import_report"]["warnings"])


def test_hostile_files(tmp_path):
    full = data_dir(*SP10).read_bytes()
    truncated = tmp_path / "cut.xer"
    truncated.write_bytes(full[: len(full) // 2])
    with pytest.raises(ScheduleImportError, match=r"cut.xer: the XER file is truncated"):
        read_xer(truncated)
    binary = tmp_path / "picture.xer"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(ScheduleImportError, match=r"picture.xer: is a binary file"):
        read_xer(binary)
    text = tmp_path / "notes.xer"
    text.write_text("hello world\n")
    with pytest.raises(ScheduleImportError, match=r"notes.xer: not a Primavera P6 XER file"):
        read_xer(text)
    ragged = _xer(tmp_path, ["%R\t1\t2"], "ragged.xer")
    with pytest.raises(ScheduleImportError, match=r"ragged.xer, line 2: %R row"):
        read_xer(ragged)
    with pytest.raises(ScheduleImportError, match="no such Primavera P6 XER file"):
        read_xer(tmp_path / "missing.xer")


def test_load_dispatches_to_read_xer(tmp_path):
    import pmosim

    p = pmosim.load(_xer(tmp_path, _small([("1", "2", "PR_FS", "0")])))
    assert p.meta["format"] == "xer" and p.graph.has_edge("A", "B")


def test_several_projects(tmp_path):
    rows = _small([])
    rows[2:2] = ["%R\t9\tOTHER\t2024-01-08 08:00\t7"]
    path = _xer(tmp_path, rows)
    p = read_xer(path)
    assert p.meta["project_name"] == "P"
    assert any("file holds 2 projects" in w for w in p.meta["import_report"]["warnings"])
    with pytest.raises(ScheduleImportError, match=r"no project 'NOPE'; the file has OTHER, P"):
        read_xer(path, project="NOPE")
    with pytest.raises(ScheduleImportError, match="project 'OTHER' has no activities"):
        read_xer(path, project="OTHER")


def test_24_hour_calendar_and_work_week(tmp_path):
    data = "(0||CalendarData()((0||DaysOfWeek()(" + "".join(
        f"(0||{d}()((0||0(s|00:00|f|00:00)())))" for d in range(1, 8)) + "))))"
    p = read_xer(_xer(tmp_path, _small([], data)))
    assert p.meta["calendars"]["7"]["week"] == {d: [(0.0, 24.0)] for d in range(7)}
    week = WorkWeek({d: [(8, 12), (13, 17)] for d in range(5)}, {dt.date(2024, 1, 9): []},
                    dt.datetime(2024, 1, 8, 8), dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    assert week.work(dt.datetime(2024, 1, 5, 17)) == 0.0  # Friday evening = Monday 08:00
    assert week.work(dt.datetime(2024, 1, 5, 13)) == -4.0
    assert week.work(dt.datetime(2024, 1, 10, 9)) == 9.0  # Tuesday 9 Jan is a holiday
    assert week.date(week.finish_at(8.0)) == dt.datetime(2024, 1, 8, 17)
    assert week.date(week.start_at(8.0)) == dt.datetime(2024, 1, 10, 8)
    assert week.date(week.snap_start(week.hours(dt.datetime(2024, 1, 8, 12, 30)))) == \
        dt.datetime(2024, 1, 8, 13)
    with pytest.raises(ScheduleImportError, match="outside the tabulated range"):
        week.work(dt.datetime(2025, 1, 1))


@pytest.mark.parametrize("option, calendar", [
    ("rcal_Predecessor", "7"), ("rcal_Successor", "8"), ("rcal_ProjDefault", "7"),
    ("rcal_24Hour", "24h")])
def test_relationship_lag_calendar_option(tmp_path, option, calendar):
    rows = _small([("1", "2", "PR_FS", "24")], WEEKDAYS_8_17)
    rows = [r.replace("\tTK_NotStart\t8\t7", "\tTK_NotStart\t8\t8") for r in rows]
    rows[5:5] = [f"%R\t8\tseven\t8\t{WEEKDAYS_8_17.replace('(0||1()())(0||7()())', '')}",
                 "%T\tSCHEDOPTIONS", "%F\tsched_calendar_on_relationship_lag", f"%R\t{option}",
                 "%T\tCALENDAR", "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data"]
    p = read_xer(_xer(tmp_path, rows))
    edge = p.graph.edges["A", "B"]
    assert edge["lag_calendar"] == calendar
    assert edge["lag"] == 24 / p.meta["calendars"][calendar]["hours_per_day"]
    assert not any("lag calendar" in w for w in p.meta["import_report"]["warnings"])


# -- resources, assignments and priorities (levelling) ---------------------------------------
def test_sp10_resources_and_demands_are_the_files(sp10):
    """Capacities are RSRCRATE's max_qty_per_hr and demands TASKRSRC's remain_qty_per_hr,
    both times the hours per day of the resource's calendar (units per working day)."""
    tables = parse_xer_tables(data_dir(*SP10).read_text(encoding="cp1252"))
    day = {c["clndr_id"]: float(c["day_hr_cnt"]) for c in tables["CALENDAR"]}
    rsrc = {r["rsrc_id"]: r for r in tables["RSRC"]}
    hpd = {i: day.get(r["clndr_id"], day[tables["PROJECT"][0]["clndr_id"]])
           for i, r in rsrc.items()}
    short = {i: r["rsrc_short_name"] for i, r in rsrc.items()}
    capacity = {short[r["rsrc_id"]]: float(r["max_qty_per_hr"]) * hpd[r["rsrc_id"]]
                for r in tables["RSRCRATE"]}
    assert {r.id: r.capacity for r in sp10.resources.values()} == capacity
    assert len(capacity) == 180 and set(capacity.values()) == {8.0}
    assert sp10.resources["AWH-WPI"].name == "Area Wide HERDS"
    code = {t["task_id"]: t["task_code"] for t in tables["TASK"]}
    want = {}
    for r in tables["TASKRSRC"]:
        key = (code[r["task_id"]], short[r["rsrc_id"]])
        want[key] = want.get(key, 0.0) + float(r["remain_qty_per_hr"]) * hpd[r["rsrc_id"]]
    want = {k: v for k, v in want.items() if v > 0}
    g = sp10.graph
    got = {(t, r): u for t, d in g.nodes(data=True) for r, u in (d.get("resources") or {}).items()}
    assert set(got) == set(want) and len(want) == 625
    capped = {(t, r): u for t, d in g.nodes(data=True)
              for r, u in (d.get("resources_capped") or {}).items()}
    assert len(capped) == 58
    for key, units in want.items():
        if units > capacity[key[1]]:
            assert capped[key] == units and got[key] == capacity[key[1]]
        else:
            assert got[key] == units and key not in capped
    report = sp10.meta["import_report"]
    assert (report["resources"], report["assignments"], report["resources_not_levelled"],
            report["assignments_not_levelled"], report["demands_capped"]) == (180, 625, 0, 67, 58)
    warnings = report["warnings"]
    assert ("resources: 180 kept for levelling with 625 assignments; not levelled: 67 "
            "assignments with 0 units (no demand)") in warnings
    assert any(w.startswith(
        "58 demands above the resource's capacity capped at the capacity (the task takes the "
        "whole resource while it runs; the file's units are in the task attribute "
        "resources_capped): task 'COST-1840' needs 23480.6 of resource 'AW1-D&B' (Area Wide "
        "Support Team, capacity 8); ") for w in warnings)
    assert {d.get("priority") for _, d in g.nodes(data=True) if d["kind"] != "connector"} == {500}


def test_resource_rates_materials_roles_and_priorities(tmp_path):
    rows = [
        "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id",
        "%R\t1\tP\t2024-01-08 08:00\t7",
        "%T\tCALENDAR", "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data",
        f"%R\t7\tcal\t8\t{WEEKDAYS_8_17}",
        "%T\tTASK", "%F\ttask_id\tproj_id\ttask_code\ttask_name\ttask_type\tstatus_code\t"
        "remain_drtn_hr_cnt\tclndr_id\tpriority_type",
        "%R\t1\t1\tA\tA\tTT_Task\tTK_NotStart\t16\t7\tPT_Top",
        "%R\t2\t1\tB\tB\tTT_Task\tTK_NotStart\t8\t7\tPT_Low",
        "%R\t3\t1\tC\tC\tTT_Task\tTK_NotStart\t8\t7\tPT_Urgent",
        "%T\tRSRC", "%F\trsrc_id\trsrc_name\trsrc_short_name\tclndr_id\trsrc_type",
        "%R\t10\tCrane\tCR\t7\tRT_Equip", "%R\t11\tFitter\tFIT\t7\tRT_Labor",
        "%R\t12\tConcrete\tCON\t7\tRT_Mat",
        "%T\tRSRCRATE", "%F\trsrc_rate_id\trsrc_id\tmax_qty_per_hr\tstart_date",
        "%R\t1\t10\t2\t2024-02-01 00:00", "%R\t2\t10\t1\t2023-01-01 00:00",
        "%T\tTASKRSRC", "%F\ttaskrsrc_id\ttask_id\trsrc_id\trole_id\tremain_qty_per_hr\t"
        "target_qty_per_hr",
        "%R\t20\t1\t10\t\t0.5\t0.5", "%R\t21\t2\t11\t\t\t0.25",
        "%R\t22\t2\t12\t\t3\t3", "%R\t23\t3\t\t77\t1\t1"]
    p = read_xer(_xer(tmp_path, rows))
    crane, fitter = p.resources["CR"], p.resources["FIT"]
    # 1 unit per hour (8 per day) from before the data date; 2 per hour from 1 February,
    # 17 working days after Monday 8 January 08:00 (Tuesday 9 January is a holiday)
    assert (crane.name, crane.capacity, crane.changes) == ("Crane", 8.0, ((17.0, 16.0),))
    assert (fitter.capacity, fitter.changes) == (8.0, ())  # no RSRCRATE: P6's 1 per hour
    g = p.graph
    assert g.nodes["A"]["resources"] == {"CR": 4.0}
    assert g.nodes["B"]["resources"] == {"FIT": 2.0}  # target_qty_per_hr: no remaining one
    assert g.nodes["B"]["resources_not_levelled"] == {"CON": 24.0}
    assert "resources" not in g.nodes["C"]
    assert p.meta["resources_not_levelled"] == {"CON": {
        "name": "Concrete", "kind": "material (RT_Mat)", "capacity": 8.0, "rsrc_id": "12",
        "unit": "units per working day"}}
    assert [g.nodes[t]["priority"] for t in "ABC"] == [900, 300, 500]
    warnings = p.meta["import_report"]["warnings"]
    assert warnings == [
        "unknown priority_type read as PT_Normal (500): PT_Urgent (1)",
        "1 resource without a Max Units/Time in RSRCRATE given P6's default of 1 unit per "
        "hour (8h/d on an 8-hour day): 'FIT'",
        "resources: 2 kept for levelling with 2 assignments; not levelled: 1 material (RT_Mat) "
        "resource with 1 assignment, 1 assignment of roles without a resource (kept in "
        "meta['resources_not_levelled'] and the tasks' resources_not_levelled)"]
    report = p.meta["import_report"]
    assert (report["resources"], report["assignments"], report["resources_not_levelled"],
            report["assignments_not_levelled"], report["demands_capped"]) == (2, 2, 1, 2, 0)
    p.validate()

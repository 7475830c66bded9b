"""The schedule health check (DCMA 14-point assessment): pmosim.health and ``pmosim check``.

Each metric is computed by hand on small schedules built with the Project API (the hand
computation is in the comments), and on real files against an independent count from
the raw file: P6's ``SP10 - COST LOADED.xer`` (PyP6Xer's history, LGPL-2.1) and
ProjectLibre's ``New Product.xml`` (CPAL-1.0), read from ``../shared/data``, never copied.
"""

import datetime as dt
import json
import re
import textwrap
from collections import Counter

import defusedxml.ElementTree as DET
import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.health import (CPT_DELAY_DAYS, HIGH_DAYS, HealthReport, Relationship,
                           check_schedule, relationships)
from pmosim.io._common import add_connector
from pmosim.io.xer import parse_xer_tables

from _data import data_dir

D = dt.date


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _p1():
    """a(10) -FS-> b(60) -SS+2-> c(5) -FS-> e(0); a -FS-1-> d(3) -FF-> e; f(2) alone.

    Early dates: a 0-10, b 10-70, c 12-17, d 9-12, e 17-17, f 0-2; finish 70.
    Late dates: e LF 70 (no successor), c LF <= LS_e = 70 -> LS 65; b LS = min(70 - 60,
    LS_c - 2 = 63) = 10; d LF <= LF_e = 70 -> LS 67; a LF = min(LS_b = 10, LS_d + 1 =
    68) = 10; f LF 70. Total float: a 0, b 0, c 53, d 58, e 53, f 68.
    """
    p = pmosim.Project("p1")
    for task, days in (("a", 10), ("b", 60), ("c", 5), ("d", 3), ("e", 0), ("f", 2)):
        p.add_task(task, days)
    p.add_link("a", "b")
    p.add_link("b", "c", "SS", 2)
    p.add_link("a", "d", "FS", -1)
    p.add_link("d", "e", "FF", 0)
    p.add_link("c", "e")
    return p


def test_logic_links_float_and_duration_by_hand():
    p = _p1()
    res = pmosim.cpm(p)
    tf = dict(zip(res.task_ids, res.total_float))
    assert tf == pytest.approx({"a": 0, "b": 0, "c": 53, "d": 58, "e": 53, "f": 68})
    r = check_schedule(p)
    assert [m.id for m in r.metrics] == list(range(1, 15))
    assert (r.n_tasks, r.n_incomplete, r.n_relationships) == (6, 6, 5)
    logic = r.metric("logic")          # a: no predecessor, e: no successor, f: neither
    assert (logic.count, logic.total, set(logic.tasks)) == (3, 6, {"a", "e", "f"})
    assert logic.value == pytest.approx(50.0) and logic.passed is False
    leads = r.metric("leads")          # a -FS-1-> d of 5 relationships
    assert (leads.count, leads.total, leads.tasks) == (1, 5, ("d",))
    assert leads.links == (Relationship("a", "d", "FS", -1.0),)
    assert leads.value == pytest.approx(20.0) and leads.passed is False
    lags = r.metric("lags")            # b -SS+2-> c
    assert (lags.count, lags.tasks, lags.value, lags.passed) == (1, ("c",), 20.0, False)
    types = r.metric("relationship_types")   # 3 FS of 5: SS b->c and FF d->e
    assert types.value == pytest.approx(60.0) and types.passed is False
    assert types.comparison == ">=" and types.threshold == 90.0 and types.count == 3
    assert {(x.pred, x.succ, x.type) for x in types.links} == {("b", "c", "SS"),
                                                              ("d", "e", "FF")}
    high = r.metric("high_float")      # float > 44: c 53, d 58, e 53, f 68
    assert set(high.tasks) == {"c", "d", "e", "f"} and high.value == pytest.approx(400 / 6)
    neg = r.metric("negative_float")
    assert (neg.value, neg.count, neg.passed) == (0.0, 0, True)
    dur = r.metric("high_duration")    # b lasts 60 > 44 working days
    assert (dur.tasks, dur.value, dur.passed) == (("b",), pytest.approx(100 / 6), False)
    assert r.metric("hard_constraints").passed is True
    # a and b are critical; a (earliest) is delayed: the finish moves by the full delay
    cpt = r.metric("critical_path_test")
    assert cpt.passed is True and cpt.value == pytest.approx(CPT_DELAY_DAYS)
    assert "'a'" in cpt.explanation
    # nothing to measure dates, baselines, resources or CPLI against: not applicable
    for key in ("invalid_dates", "resources", "missed_tasks", "cpli", "bei"):
        m = r.metric(key)
        assert (m.passed, m.value) == (None, None), key
        assert m.explanation.startswith("not applicable: "), key
    assert r.passed is False
    assert [m.key for m in r.failing] == ["logic", "leads", "lags", "relationship_types",
                                          "high_float", "high_duration"]
    assert r.summary("plan.xer") == (
        "Schedule check (DCMA 14-point): 3 of 9 applicable checks pass; failing: logic "
        "50.0 %, leads 20.0 %, lags 20.0 %, FS relationships 60.0 %, high float 66.7 %, "
        "high duration 16.7 % (pmosim check plan.xer for details)")


def test_critical_path_test_fails_on_a_task_whose_finish_drives_nothing():
    # a -SS-> b: a is critical through its start only; delaying it (a dangling finish)
    # moves the project finish by 600 - 40 = 560, not by the 600 its own finish moves
    p = pmosim.Project()
    p.add_task("a", 10)
    p.add_task("b", 50)
    p.add_link("a", "b", "SS", 0)
    cpt = check_schedule(p).metric("critical_path_test")
    assert cpt.passed is False and cpt.tasks == ("a",)
    assert cpt.value == pytest.approx(CPT_DELAY_DAYS - 40)
    assert cpt.threshold == pytest.approx(CPT_DELAY_DAYS)


def test_hard_constraints_by_hand():
    p = pmosim.Project()
    day = dt.datetime(2024, 3, 1)
    cons = {"h1": ("MSO", day), "h2": ("FNLT", day), "h3": ("SNET", day), "h4": ("SO", day),
            "h6": ("ALAP", None), "h8": ("FO", day), "h9": "snlt"}
    for k in range(1, 10):
        p.add_task(f"h{k}", 2, constraint=cons.get(f"h{k}"))
    # started: its start constraint no longer holds it; complete: not assessed
    p.graph.nodes["h5"].update(constraint=("MSO", day), status="in progress",
                               actual_start=dt.datetime(2024, 1, 2))
    p.graph.nodes["h7"].update(constraint=("MFO", day), status="complete")
    m = check_schedule(p).metric("hard_constraints")
    # incomplete: h1-h6, h8, h9 (8); hard: MSO, FNLT, SO, FO, SNLT (5)
    assert (m.count, m.total, set(m.tasks)) == (5, 8, {"h1", "h2", "h4", "h8", "h9"})
    assert m.value == pytest.approx(62.5) and m.passed is False


def test_invalid_dates_by_hand():
    p = pmosim.Project(start="2024-01-01")          # a Monday
    p.meta["data_date"] = D(2024, 1, 15)
    rows = {
        # not started, forecast start before the data date: invalid
        "t1": dict(status="not started", tool_start=D(2024, 1, 10), tool_finish=D(2024, 1, 20)),
        # complete with an actual finish after the data date: invalid
        "t2": dict(status="complete", actual_start=D(2024, 1, 3), actual_finish=D(2024, 1, 20)),
        # in progress, forecast finish before the data date: invalid
        "t3": dict(status="in progress", actual_start=D(2024, 1, 5), tool_finish=D(2024, 1, 12)),
        "t4": dict(status="in progress", actual_start=D(2024, 1, 8), tool_finish=D(2024, 2, 1)),
        "t5": dict(status="complete", actual_start=D(2024, 1, 2), actual_finish=D(2024, 1, 12)),
        # a forecast start on the data date itself is valid
        "t6": dict(status="not started", tool_start=D(2024, 1, 15), tool_finish=D(2024, 1, 19)),
    }
    for task, attrs in rows.items():
        p.add_task(task, 3, **attrs)
    m = check_schedule(p).metric("invalid_dates")
    assert (m.value, m.passed, m.tasks) == (3.0, False, ("t1", "t2", "t3"))
    assert m.explanation.startswith("2 tasks with a forecast start or finish before the data "
                                    "date 2024-01-15 and no actual date, 1 with an actual")


def test_invalid_dates_on_the_working_day_axis():
    # a scenario's completed tasks: fixed dates in working days, time 0 the status date
    p = pmosim.Project()
    p.add_task("done", 1, fixed_start=-5.0, fixed_finish=-1.0)
    p.add_task("late", 1, fixed_start=-2.0, fixed_finish=3.0)
    p.add_task("todo", 4)
    m = check_schedule(p).metric("invalid_dates")
    assert (m.value, m.tasks) == (1.0, ("late",))


def test_missed_tasks_and_bei_by_hand():
    p = pmosim.Project(start="2024-01-01")
    p.meta["data_date"] = D(2024, 1, 15)
    rows = {
        "b1": dict(baseline_finish=D(2024, 1, 5), status="complete",
                   actual_start=D(2024, 1, 2), actual_finish=D(2024, 1, 5)),
        "b2": dict(baseline_finish=D(2024, 1, 10), status="complete",       # late
                   actual_start=D(2024, 1, 8), actual_finish=D(2024, 1, 12)),
        "b3": dict(baseline_finish=D(2024, 1, 12), status="in progress",    # not finished
                   actual_start=D(2024, 1, 8)),
        "b4": dict(baseline_finish=D(2024, 1, 31), status="complete",       # early
                   actual_start=D(2024, 1, 9), actual_finish=D(2024, 1, 11)),
        "b5": dict(baseline_finish=D(2024, 2, 15), status="not started"),
        "b6": dict(status="not started"),
    }
    for task, attrs in rows.items():
        p.add_task(task, 2, **attrs)
    r = check_schedule(p)
    missed = r.metric("missed_tasks")   # due: b1, b2, b3; missed: b2 (late), b3
    assert (missed.count, missed.total, missed.tasks) == (2, 3, ("b2", "b3"))
    assert missed.value == pytest.approx(200 / 3) and missed.passed is False
    bei = r.metric("bei")               # finished: b1, b2, b4 (3) / due 3
    assert (bei.value, bei.passed, bei.count, bei.total, bei.tasks) == (1.0, True, 3, 3,
                                                                        ("b3",))
    # on the working-day axis: baselines and the data date as working days
    q = pmosim.Project()
    q.meta["data_date"] = 10.0
    q.add_task("x", 2, baseline_finish=4.0, status="complete", actual_finish=6.0)
    q.add_task("y", 2, baseline_finish=9.0, status="complete", actual_finish=8.0)
    q.add_task("z", 2, baseline_finish=12.0)
    r = check_schedule(q)
    assert r.metric("missed_tasks").tasks == ("x",)
    assert r.metric("bei").value == 1.0


def test_baselines_need_a_start_date_to_compare_dates():
    p = pmosim.Project()
    p.meta["data_date"] = D(2024, 1, 15)
    p.add_task("x", 2, baseline_finish=D(2024, 1, 5))
    m = check_schedule(p).metric("bei")
    assert m.passed is None and "project start date" in m.explanation


def test_resources_by_hand():
    p = pmosim.Project()
    p.add_resource("crew", 2)
    p.add_task("r1", 5, resources={"crew": 1})
    p.add_task("r2", 5, cost_fixed=100.0)
    p.add_task("r3", 5)
    p.add_task("r4", 0)                                  # a milestone: no work
    p.add_task("r5", 5, status="complete")              # complete: not assessed
    m = check_schedule(p).metric("resources")
    assert (m.value, m.count, m.total, m.tasks, m.passed) == (1.0, 1, 3, ("r3",), False)
    p.graph.nodes["r3"]["cost"] = 50.0
    assert check_schedule(p).metric("resources").passed is True
    assert "not resource-loaded" in check_schedule(_p1()).metric("resources").explanation


def _chain(start="2024-01-01", data_date=D(2024, 1, 1)):
    p = pmosim.Project(start=start)
    p.meta["data_date"] = data_date
    p.add_task("a", 5)
    p.add_task("b", 5)
    p.add_link("a", "b")
    return p


@pytest.mark.parametrize("baseline, data_date, expected", [
    # finish 10 working days from Monday 2024-01-01: Friday 2024-01-12
    (D(2024, 1, 12), D(2024, 1, 1), 1.0),          # float 0
    (D(2024, 1, 10), D(2024, 1, 1), 0.8),          # Wednesday: float -2, (10 - 2) / 10
    (D(2024, 1, 16), D(2024, 1, 1), 1.2),          # Tuesday after: float +2
    (D(2024, 1, 10), D(2024, 1, 3), 0.75),         # from Wednesday: CPL 8, (8 - 2) / 8
])
def test_cpli_by_hand(baseline, data_date, expected):
    p = _chain(data_date=data_date)
    p.graph.nodes["b"]["baseline_finish"] = baseline
    m = check_schedule(p).metric("cpli")
    assert m.value == pytest.approx(expected)
    assert m.passed is (expected >= 0.95)


def test_cpli_needs_a_target_finish():
    p = _chain()
    m = check_schedule(p).metric("cpli")
    assert m.passed is None and "CPLI is 1 by construction" in m.explanation
    # a finish constraint: the float is the least total float the CPM gives
    p.graph.nodes["b"]["constraint"] = ("FNLT", dt.datetime(2024, 1, 12, 17))
    res = pmosim.cpm(p)
    m = check_schedule(p).metric("cpli")
    assert m.value == pytest.approx((res.finish + min(res.total_float)) / res.finish)


def test_a_well_built_plan_passes_and_not_applicable_is_not_failing():
    # 40 tasks in a chain: only the first lacks a predecessor and the last a successor
    # (2 of 40 = 5 %); no lags, all FS, no float, short durations
    p = pmosim.Project()
    for k in range(40):
        p.add_task(k, 3)
        if k:
            p.add_link(k - 1, k)
    r = check_schedule(p)
    assert r.metric("logic").value == pytest.approx(5.0) and r.metric("logic").passed
    assert len(r.applicable) == 9 and r.passed is True
    assert r.summary() == "Schedule check (DCMA 14-point): all 9 applicable checks pass"
    doc = r.to_dict()
    assert doc["passed"] is True and doc["failing"] == [] and len(doc["metrics"]) == 14
    json.dumps(doc, allow_nan=False)


def test_connectors_summaries_and_level_of_effort_are_left_out():
    p = pmosim.Project()
    for task in ("x", "y", "z", "p1", "p2", "q"):
        p.add_task(task, 2)
    p.add_task("L", 9, kind="loe")
    p.add_link("x", "y", "SS", 1)
    add_connector(p, "x", "y", "FF", 2)         # a second link x -> y through a connector
    p.add_link("y", "z")
    p.add_link("x", "L")
    # a summary over p1 and p2, linked from q as MS Project files do
    p.add_task("S9:start", 0, kind="connector", name="start of Summary 9")
    for leaf in ("p1", "p2"):
        p.add_link("S9:start", leaf)
    p.add_link("q", "S9:start")
    rels = relationships(p)
    assert set(rels) == {Relationship("x", "y", "SS", 1.0), Relationship("x", "y", "FF", 2.0),
                         Relationship("y", "z", "FS", 0.0), Relationship("x", "L", "FS", 0.0),
                         Relationship("q", "S9:start", "FS", 0.0)}
    r = check_schedule(p)
    assert (r.n_tasks, r.n_excluded, r.n_relationships) == (6, 3, 4)   # no link to the LOE
    # p1 and p2 have only their summary's link: they miss a predecessor; q has a successor
    assert set(r.metric("logic").tasks) == {"x", "z", "p1", "p2", "q"}
    assert r.metric("relationship_types").value == pytest.approx(50.0)


# -- real schedules -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sp10_raw():
    text = data_dir("p6", "SP10 - COST LOADED.xer").read_text(encoding="cp1252")
    return parse_xer_tables(text)


@pytest.fixture(scope="module")
def sp10_report(sp10):
    return check_schedule(sp10)


def _sp10_expected(raw, sp10):
    """Every count of the assessment from the raw XER tables (and float from the CPM)."""
    tasks = {t["task_id"]: t for t in raw["TASK"]}
    code = {i: t["task_code"] for i, t in tasks.items()}
    left_out = {i for i, t in tasks.items() if t["task_type"] in ("TT_LOE", "TT_WBS")}
    assessed = [i for i in tasks if i not in left_out]
    complete = {i for i in assessed if tasks[i]["status_code"] == "TK_Complete"}
    open_ = [i for i in assessed if i not in complete]
    rels = [r for r in raw["TASKPRED"] if r["pred_task_id"] in tasks and r["task_id"] in tasks
            and r["pred_task_id"] != r["task_id"]
            and not {r["pred_task_id"], r["task_id"]} & left_out]
    to_open = [r for r in rels if r["task_id"] not in complete]
    preds = {r["task_id"] for r in rels}
    succs = {r["pred_task_id"] for r in rels}
    hard = {"CS_MANDSTART", "CS_MANDFIN", "CS_MSOB", "CS_MEOB", "CS_MSO", "CS_MEO"}
    starts = {"CS_MANDSTART", "CS_MSOB", "CS_MSO"}
    hpd = {c["clndr_id"]: float(c["day_hr_cnt"] or 8) for c in raw["CALENDAR"]}
    dd = dt.datetime.fromisoformat(raw["PROJECT"][0]["last_recalc_date"])

    def when(t, field):
        return dt.datetime.fromisoformat(t[field]) if t.get(field) else None

    invalid = []
    for i in assessed:
        t = tasks[i]
        a_s, a_f = when(t, "act_start_date"), when(t, "act_end_date")
        f_s, f_f = when(t, "early_start_date"), when(t, "early_end_date")
        done = i in complete
        if ((a_s and a_s > dd) or (a_f and a_f > dd)
                or (not done and a_s is None and f_s and f_s < dd)
                or (not done and f_f and f_f < dd)):
            invalid.append(code[i])
    rsrc = {r["rsrc_id"] for r in raw["RSRC"]}
    loaded = set()
    for a in raw["TASKRSRC"]:
        qty = a["remain_qty_per_hr"] or a["target_qty_per_hr"] or "0"
        cost = sum(float(a[k] or 0) for k in ("target_cost", "act_reg_cost", "act_ot_cost",
                                               "remain_cost"))
        if (a["rsrc_id"] in rsrc and float(qty) > 0) or cost > 0:
            loaded.add(a["task_id"])
    working = [i for i in open_ if float(tasks[i]["target_drtn_hr_cnt"] or 0) > 0
               and float(tasks[i]["remain_drtn_hr_cnt"] or 0) > 0
               and not tasks[i]["task_type"].endswith("Mile")]
    res = pmosim.cpm(sp10)
    tf = dict(zip(res.task_ids, res.total_float))
    open_codes = [code[i] for i in open_]
    return {
        "incomplete": len(open_), "complete": len(complete), "relationships": len(to_open),
        "logic": {code[i] for i in open_ if i not in preds or i not in succs},
        "leads": sum(float(r["lag_hr_cnt"] or 0) < 0 for r in to_open),
        "lags": sum(float(r["lag_hr_cnt"] or 0) > 0 for r in to_open),
        "fs": sum(r["pred_type"] == "PR_FS" for r in to_open),
        "hard": {code[i] for i in open_ if tasks[i]["cstr_type"] in hard
                 and not (tasks[i]["cstr_type"] in starts and tasks[i]["act_start_date"])},
        "high_duration": {code[i] for i in open_ if float(tasks[i]["target_drtn_hr_cnt"] or 0)
                          / hpd[tasks[i]["clndr_id"]] > HIGH_DAYS + 1e-6},
        "high_float": {t for t in open_codes if tf[t] > HIGH_DAYS + 1e-6},
        "negative_float": {t for t in open_codes if tf[t] < -1e-6},
        "invalid": set(invalid),
        "resources": {code[i] for i in working if i not in loaded}, "working": len(working),
        "cpli": (res.finish + min(tf[t] for t in open_codes)) / res.finish,
        "critical": {t for t, c in zip(res.task_ids, res.critical) if c},
    }


def test_sp10_counts_equal_an_independent_count_of_the_raw_file(sp10, sp10_raw, sp10_report):
    want = _sp10_expected(sp10_raw, sp10)
    r = sp10_report
    assert (r.n_incomplete, r.n_complete, r.n_relationships) == (
        want["incomplete"], want["complete"], want["relationships"])
    assert set(r.metric("logic").tasks) == want["logic"]
    assert r.metric("leads").count == want["leads"]
    assert r.metric("lags").count == want["lags"]
    types = r.metric("relationship_types")
    assert types.count == want["fs"]
    assert types.value == pytest.approx(100 * want["fs"] / want["relationships"])
    for key, name in (("hard_constraints", "hard"), ("high_duration", "high_duration"),
                      ("high_float", "high_float"), ("negative_float", "negative_float")):
        m = r.metric(key)
        assert set(m.tasks) == want[name], key
        assert m.value == pytest.approx(100 * len(want[name]) / want["incomplete"]), key
    assert set(r.metric("invalid_dates").tasks) == want["invalid"]
    res_m = r.metric("resources")
    assert (set(res_m.tasks), res_m.total) == (want["resources"], want["working"])
    assert r.metric("cpli").value == pytest.approx(want["cpli"])
    cpt = r.metric("critical_path_test")
    assert cpt.passed is True
    delayed = re.search(r"critical task '([^']+)'", cpt.explanation).group(1)
    assert delayed in want["critical"]
    # P6 exports its baselines as separate projects, which this file lacks
    for key in ("missed_tasks", "bei"):
        assert r.metric(key).passed is None
        assert "XER export holds no baseline" in r.metric(key).explanation


def test_new_product_relationships_and_logic_equal_the_raw_xml():
    path = data_dir("projectlibre", "New Product.xml")
    project = pmosim.load(path)
    report = check_schedule(project)
    root = DET.parse(path).getroot()
    ns = {"m": root.tag[1:].split("}")[0]}
    tasks = root.findall("m:Tasks/m:Task", ns)
    links = [(t.findtext("m:UID", namespaces=ns), link)
             for t in tasks for link in t.findall("m:PredecessorLink", ns)]
    kinds = Counter({"0": "FF", "1": "FS", "2": "SF", "3": "SS"}[link.findtext(
        "m:Type", "1", ns)] for _, link in links)
    rels = relationships(project)
    assert len(rels) == len(links) == report.n_relationships
    assert Counter(r.type for r in rels) == kinds
    assert sum(r.lag < 0 for r in rels) == sum(
        float(link.findtext("m:LinkLag", "0", ns)) < 0 for _, link in links)
    # logic: a leaf task needs its own PredecessorLink and to be some task's predecessor
    level = [int(t.findtext("m:OutlineLevel", "1", ns)) for t in tasks]
    summary = {t.findtext("m:UID", namespaces=ns) for k, t in enumerate(tasks)
               if t.findtext("m:Summary", namespaces=ns) == "1"
               or (k + 1 < len(tasks) and level[k + 1] > level[k])}
    leaves = [t.findtext("m:UID", namespaces=ns) for t in tasks
              if t.findtext("m:UID", namespaces=ns) not in summary | {"0"}]
    has_pred = {uid for uid, _ in links}
    has_succ = {link.findtext("m:PredecessorUID", namespaces=ns) for _, link in links}
    missing = {int(u) for u in leaves if u not in has_pred or u not in has_succ}
    assert set(report.metric("logic").tasks) == missing
    assert report.n_incomplete == len(leaves)
    assert report.metric("bei").passed is None
    assert "no baseline" in report.metric("bei").explanation


def test_mspdi_baselines_are_read():
    project = pmosim.load(data_dir("mpxj", "generated", "task-baselines",
                                   "task-baselines-project2019-mspdi.xml"))
    got = {t: {k: v for k, v in d.items() if k.startswith("baseline_")}
           for t, d in project.graph.nodes(data=True)}
    assert got[23] == {"baseline_finish": dt.datetime(2014, 3, 1, 9)}
    assert got[34] == {"baseline_start": dt.datetime(2014, 4, 1, 9)}
    assert got[12] == {"baseline_duration": pytest.approx(11.0)}     # PT88H: 11 days of 8 h
    assert check_schedule(project).metric("missed_tasks").passed is not None


# -- the command line ---------------------------------------------------------------------
def test_check_command_table_json_and_exit_status(tmp_path, sp10_report):
    path = data_dir("p6", "SP10 - COST LOADED.xer")
    out = tmp_path / "h" / "health.json"
    res = invoke("check", path, "--json", out)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"Schedule check (DCMA 14-point) of {path}: ")
    assert any(re.match(r"\s+6\s+High float\s+\d+\.\d %\s+<= 5 %\s+FAIL$", x) for x in lines)
    assert any(re.match(r"\s+11\s+Missed tasks\s+n/a\s+<= 5 %\s+n/a$", x) for x in lines)
    assert "... and " in res.stdout and "(--json PATH lists them all)" in res.stdout
    assert lines[-2].startswith("Verdict: FAIL: ")
    assert lines[-1] == f"Wrote {out}"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["passed"] is False and doc["standard"] == "DCMA 14-point"
    assert [m["key"] for m in doc["metrics"]] == [m.key for m in sp10_report.metrics]
    for m in doc["metrics"]:
        if m["unit"] == "%" and m["applicable"]:
            listed = m["links"] if m["links"] else m["tasks"]
            if m["key"] != "relationship_types":
                assert len(listed) == m["count"], m["key"]
        assert set(m["tasks"]) <= set(doc["task_names"])
    strict = invoke("check", path, "--strict")
    assert strict.exit_code == 1 and "Error:" not in strict.output
    # --json - : the document on standard output, the table on standard error
    res = invoke("check", path, "--json", "-")
    assert res.exit_code == 0 and json.loads(res.stdout)["failing"] == doc["failing"]
    assert res.stderr.startswith("Schedule check (DCMA 14-point) of ")


CHAIN_TOML = textwrap.dedent("""\
    [project]
    name = "chain"
    start = "2027-03-01"
    """) + "".join(f'[[tasks]]\nid = "t{k}"\nduration = 3\n'
                   + (f'predecessors = ["t{k - 1}"]\n' if k else "") for k in range(40))


def test_check_strict_passes_a_well_built_plan_and_errors_are_one_line(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(CHAIN_TOML, encoding="utf-8")
    res = invoke("check", plan, "--strict")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[-1] == "Verdict: PASS: all 9 applicable checks pass; 5 not " \
                                          "applicable"
    missing = invoke("check", tmp_path / "nope.xer")
    assert missing.exit_code == 1
    assert missing.output.startswith("Error: ") and "Traceback" not in missing.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = invoke("check", plan, "--json", blocker / "h.json")
    assert res.exit_code == 1 and res.output.startswith("Error: --json: cannot create the folder")
    res = invoke("check", plan, "--json", plan)
    assert res.exit_code == 1
    assert res.output == f"Error: --json {plan} is an input of this check; write the report to " \
                         "another file\n"
    assert plan.read_text(encoding="utf-8") == CHAIN_TOML
    res = invoke("check", plan, "--format", "docx")
    assert res.exit_code == 1 and res.output.startswith("Error: unknown format 'docx'")


def test_run_prints_the_check_line_for_an_imported_schedule_only(tmp_path):
    xer = data_dir("mpxj", "PredecessorCalendar.xer")
    res = invoke("run", xer, "-n", 50, "--seed", 1, "--out", tmp_path / "a")
    assert res.exit_code == 0, res.output
    first = res.stdout.splitlines()[0]
    assert first.startswith("Schedule check (DCMA 14-point): ")
    assert first.endswith(f"(pmosim check {xer} for details)")
    assert first == check_schedule(pmosim.load(xer)).summary(xer)
    plan = tmp_path / "plan.toml"
    plan.write_text(CHAIN_TOML, encoding="utf-8")
    res = invoke("run", plan, "-n", 50, "--seed", 1, "--out", tmp_path / "b")
    assert res.exit_code == 0, res.output
    assert "Schedule check" not in res.output


def test_report_repr_and_metric_lookup():
    r = check_schedule(_p1())
    assert isinstance(r, HealthReport)
    assert repr(r) == "HealthReport('p1': 3 of 9 applicable checks pass)"
    assert r.metric(6) is r.metric("high_float")
    with pytest.raises(KeyError, match="no health metric 'floaty'"):
        r.metric("floaty")


def test_check_help_has_examples():
    res = invoke("check", "--help")
    assert res.exit_code == 0
    assert "Examples:\n    pmosim check plan.xer\n" in res.output
    assert "--strict" in res.output and "--json PATH" in res.output
    assert "pmosim check plan.xer --strict" in invoke("--help").output

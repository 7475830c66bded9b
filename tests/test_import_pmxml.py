"""Primavera P6 XML (PMXML) import: the same project as the XER twin, and P6's dates.

Data (``../shared/data``, never copied): MPXJ's reader-test files (LGPL-2.1, see
``mpxj/PROVENANCE.md``): P6's own PMXML/XER pairs ``assignment/resource-rates-test``,
``generated/task-percentcomplete/percent-complete-8.4`` and the four relationship-lag
calendar pairs (``PredecessorCalendar`` ...; their XML and XER were exported from two
different P6 databases, so they hold different activities: each is checked against its
own stored dates, and the lag calendar option must read the same); and the P6 schedule
``p6/SP10 - COST LOADED.xer``, turned into PMXML by :func:`xer_to_pmxml` below (P6's
element names and conventions: hours, fractions for percentages, a period's finish
written as its last minute) so that 3,994 activities, 5,966 relationships, calendars,
resources and costs are compared one by one.
"""

import datetime as dt
from xml.sax.saxutils import escape

import defusedxml.ElementTree as DET
import pytest

import pmosim
from pmosim.errors import ScheduleImportError
from pmosim.io import detect_format
from pmosim.io.pmxml import read_pmxml
from pmosim.io.xer import parse_xer_tables, read_xer

from _data import data_dir

MPXJ = "mpxj"
REAL_PAIRS = [("assignment/resource-rates-test.xml", "assignment/resource-rates-test.xer"),
              ("generated/task-percentcomplete/percent-complete-8.4.pmxml",
               "generated/task-percentcomplete/percent-complete-8.4.xer")]
LAG_PAIRS = [("PredecessorCalendar", "rcal_Predecessor"),
             ("ProjectDefaultCalendar", "rcal_ProjDefault"),
             ("SuccessorCalendar", "rcal_Successor"),
             ("TwentyFourHourCalendar", "rcal_24Hour")]

# -- XER -> PMXML (what P6 exports for the same project) ---------------------------------
_TYPE = {"TT_Task": "Task Dependent", "TT_Rsrc": "Resource Dependent",
         "TT_LOE": "Level of Effort", "TT_Mile": "Start Milestone",
         "TT_FinMile": "Finish Milestone", "TT_WBS": "WBS Summary"}
_STATUS = {"TK_NotStart": "Not Started", "TK_Active": "In Progress", "TK_Complete": "Completed"}
_LINK = {"PR_FS": "Finish to Start", "PR_SS": "Start to Start", "PR_FF": "Finish to Finish",
         "PR_SF": "Start to Finish"}
_CONSTRAINT = {"CS_MSO": "Start On", "CS_MSOB": "Start On or Before",
               "CS_MSOA": "Start On or After", "CS_MEO": "Finish On",
               "CS_MEOB": "Finish On or Before", "CS_MEOA": "Finish On or After",
               "CS_ALAP": "As Late As Possible", "CS_MANDSTART": "Mandatory Start",
               "CS_MANDFIN": "Mandatory Finish"}
_PRIORITY = {"PT_Top": "Top", "PT_High": "High", "PT_Normal": "Normal", "PT_Low": "Low",
             "PT_Lowest": "Lowest"}
_DTYPE = {"DT_FixedRate": "Fixed Units/Time", "DT_FixedDrtn": "Fixed Duration and Units/Time",
          "DT_FixedQty": "Fixed Units", "DT_FixedDUR2": "Fixed Duration and Units"}
_RATE = {"COST_PER_QTY": "Price / Unit",
         **{f"COST_PER_QTY{k}": f"Price / Unit {k}" for k in range(2, 6)}}
_SOURCE = {"ST_Rsrc": "Resource", "ST_Role": "Role", "ST_Custom": "Override"}
_RTYPE = {"RT_Labor": "Labor", "RT_Equip": "Nonlabor", "RT_Mat": "Material"}
_LAG = {"rcal_Predecessor": "Predecessor Activity Calendar",
        "rcal_Successor": "Successor Activity Calendar",
        "rcal_ProjDefault": "Project Default Calendar", "rcal_24Hour": "24 Hour Calendar"}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _date(text):
    return text.replace(" ", "T") + (":00" if len(text) == 16 else "") if text else ""


def _el(name, fields):
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" if v != "" else f'<{k} xsi:nil="true"/>'
                   for k, v in fields.items())
    return f"<{name}>{body}</{name}>"


def _clock(hours, end):
    minutes = round(hours * 60) - (1 if end else 0)   # P6 writes a period's last minute
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _times(intervals):
    return "".join(f"<WorkTime><Start>{_clock(a, False)}</Start><Finish>{_clock(b, True)}"
                   f"</Finish></WorkTime>" for a, b in intervals) or '<WorkTime xsi:nil="true"/>'


def _calendar(cid, cal):
    week = "".join(f"<StandardWorkHours><DayOfWeek>{_DAYS[d]}</DayOfWeek>"
                   f"{_times(cal['week'].get(d, []))}</StandardWorkHours>" for d in range(7))
    exc = "".join(f"<HolidayOrException><Date>{day.isoformat()}T00:00:00</Date>{_times(iv)}"
                  f"</HolidayOrException>" for day, iv in sorted(cal["exceptions"].items()))
    return (f"<Calendar><HoursPerDay>{cal['hours_per_day']:g}</HoursPerDay><Name>"
            f"{escape(cal['name'])}</Name><ObjectId>{cid}</ObjectId><StandardWorkWeek>{week}"
            f"</StandardWorkWeek><HolidayOrExceptions>{exc}</HolidayOrExceptions></Calendar>")


def xer_to_pmxml(xer_path, out_path, calendars=None):
    """Write the PMXML twin of an XER file; ``calendars`` as ``read_xer`` reads them."""
    t = parse_xer_tables(xer_path.read_text(encoding="cp1252"))
    cals = calendars if calendars is not None else read_xer(xer_path).meta["calendars"]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<APIBusinessObjects xmlns="http://xmlns.oracle.com/Primavera/P6/V8.4/API/'
             'BusinessObjects" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    parts += [_calendar(cid, c) for cid, c in cals.items() if cid != "24h"]
    parts += [_el("Currency", {"ObjectId": c["curr_id"], "Id": c.get("curr_short_name", ""),
                               "ExchangeRate": c.get("base_exch_rate", "")})
              for c in t.get("CURRTYPE", [])]
    parts += [_el("Resource", {"ObjectId": r["rsrc_id"], "Id": r.get("rsrc_short_name", ""),
                               "Name": r.get("rsrc_name", ""),
                               "ResourceType": _RTYPE.get(r.get("rsrc_type"), "Labor"),
                               "CalendarObjectId": r.get("clndr_id", ""),
                               "OvertimeFactor": r.get("ot_factor", "")})
              for r in t.get("RSRC", [])]
    parts += [_el("ResourceRate", {"ObjectId": r["rsrc_rate_id"], "ResourceObjectId": r["rsrc_id"],
                                   "MaxUnitsPerTime": r.get("max_qty_per_hr", ""),
                                   "EffectiveDate": _date(r.get("start_date", "")),
                                   **{f"PricePerUnit{k}": r.get(f"cost_per_qty{k}", "")
                                      for k in ("", "2", "3", "4", "5")}})
              for r in t.get("RSRCRATE", [])]
    options = (t.get("SCHEDOPTIONS") or [{}])[0]
    nodes = {w["wbs_id"]: w for w in t.get("PROJWBS", []) if w.get("proj_node_flag") == "Y"}
    for p in t["PROJECT"]:
        pid = p["proj_id"]
        name = next((w.get("wbs_name") for w in nodes.values() if w.get("proj_id") == pid), "")
        parts.append("<Project>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in {
            "ObjectId": pid, "Id": p["proj_short_name"], "Name": name,
            "DataDate": _date(p.get("last_recalc_date", "")),
            "PlannedStartDate": _date(p.get("plan_start_date", "")),
            "ActivityDefaultCalendarObjectId": p.get("clndr_id", ""),
            "RelationshipLagCalendar": _LAG.get(
                options.get("sched_calendar_on_relationship_lag"), ""),
            "WBSCodeSeparator": p.get("name_sep_char", "")}.items() if v))
        for w in t.get("PROJWBS", []):
            if w.get("proj_id") == pid and w["wbs_id"] not in nodes:
                parent = w.get("parent_wbs_id", "")
                parts.append(_el("WBS", {"ObjectId": w["wbs_id"], "ProjectObjectId": pid,
                                         "ParentObjectId": "" if parent in nodes else parent,
                                         "Code": w.get("wbs_short_name", ""),
                                         "Name": w.get("wbs_name", "")}))
        for a in (a for a in t["TASK"] if a.get("proj_id") == pid):
            f = {"ObjectId": a["task_id"], "ProjectObjectId": pid,
                 "WBSObjectId": "" if a.get("wbs_id") in nodes else a.get("wbs_id", ""),
                 "CalendarObjectId": a.get("clndr_id", ""), "Id": a.get("task_code", ""),
                 "Name": a.get("task_name", ""), "Type": _TYPE.get(a.get("task_type"), ""),
                 "DurationType": _DTYPE.get(a.get("duration_type"), ""),
                 "Status": _STATUS.get(a.get("status_code"), "Not Started"),
                 "RemainingDuration": a.get("remain_drtn_hr_cnt", ""),
                 "PlannedDuration": a.get("target_drtn_hr_cnt", ""),
                 "TotalFloat": a.get("total_float_hr_cnt", ""),
                 "PhysicalPercentComplete": (float(a["phys_complete_pct"]) / 100
                                             if a.get("phys_complete_pct") else ""),
                 "LevelingPriority": _PRIORITY.get(a.get("priority_type"), ""),
                 "PrimaryConstraintType": _CONSTRAINT.get(a.get("cstr_type"), ""),
                 "SecondaryConstraintType": _CONSTRAINT.get(a.get("cstr_type2"), "")}
            for src, dst in (("act_start_date", "ActualStartDate"),
                             ("act_end_date", "ActualFinishDate"),
                             ("expect_end_date", "ExpectedFinishDate"),
                             ("early_start_date", "EarlyStartDate"),
                             ("early_end_date", "EarlyFinishDate"),
                             ("restart_date", "RemainingEarlyStartDate"),
                             ("reend_date", "RemainingEarlyFinishDate"),
                             ("cstr_date", "PrimaryConstraintDate"),
                             ("cstr_date2", "SecondaryConstraintDate")):
                f[dst] = _date(a.get(src, ""))
            parts.append(_el("Activity", f))
        parts += [_el("Relationship", {
            "ObjectId": r.get("task_pred_id", ""), "PredecessorActivityObjectId": r["pred_task_id"],
            "SuccessorActivityObjectId": r["task_id"], "Type": _LINK[r["pred_type"]],
            "Lag": r.get("lag_hr_cnt", "")}) for r in t.get("TASKPRED", [])]
        parts += [_el("ResourceAssignment", {
            "ObjectId": r["taskrsrc_id"], "ActivityObjectId": r["task_id"],
            "ResourceObjectId": r.get("rsrc_id", ""), "RoleObjectId": r.get("role_id", ""),
            "RemainingUnitsPerTime": r.get("remain_qty_per_hr", ""),
            "PlannedUnitsPerTime": r.get("target_qty_per_hr", ""),
            "PlannedCost": r.get("target_cost", ""), "RemainingCost": r.get("remain_cost", ""),
            "ActualRegularCost": r.get("act_reg_cost", ""),
            "ActualOvertimeCost": r.get("act_ot_cost", ""),
            "PlannedUnits": r.get("target_qty", ""), "RemainingUnits": r.get("remain_qty", ""),
            "ActualRegularUnits": r.get("act_reg_qty", ""),
            "ActualOvertimeUnits": r.get("act_ot_qty", ""),
            "CostPerQuantity": r.get("cost_per_qty", ""), "OvertimeFactor": r.get("ot_factor", ""),
            "RateType": _RATE.get(r.get("rate_type"), ""),
            "RateSource": _SOURCE.get(r.get("cost_per_qty_source_type"), ""),
            "ResourceType": _RTYPE.get(r.get("rsrc_type"), ""),
            "IsCostUnitsLinked": {"Y": 1, "N": 0}.get(r.get("cost_qty_link_flag"), ""),
            "ActualStartDate": _date(r.get("act_start_date", "")),
            "RemainingStartDate": _date(r.get("restart_date", "")),
            "RemainingFinishDate": _date(r.get("reend_date", "")),
            "PlannedStartDate": _date(r.get("target_start_date", "")),
            "PlannedFinishDate": _date(r.get("target_end_date", ""))})
            for r in t.get("TASKRSRC", []) if r.get("proj_id", pid) in ("", pid)]
        parts.append("</Project>")
    parts.append("</APIBusinessObjects>")
    out_path.write_text("\n".join(parts), encoding="utf-8")
    return out_path


# -- comparisons --------------------------------------------------------------------------
def assert_same_project(p, q):
    """Two imports are the same project: every task, link, resource, calendar and count."""
    nodes_p, nodes_q = dict(p.graph.nodes(data=True)), dict(q.graph.nodes(data=True))
    assert nodes_p.keys() == nodes_q.keys()
    differ = {v: {k: (nodes_p[v].get(k), nodes_q[v].get(k))
                  for k in nodes_p[v].keys() | nodes_q[v].keys()
                  if nodes_p[v].get(k) != nodes_q[v].get(k)}
              for v in nodes_q if nodes_p[v] != nodes_q[v]}
    assert not differ, dict(list(differ.items())[:3])
    assert {(u, v): d for u, v, d in p.graph.edges(data=True)} == \
        {(u, v): d for u, v, d in q.graph.edges(data=True)}
    assert p.resources == q.resources
    assert p.meta.get("resources_not_levelled") == q.meta.get("resources_not_levelled")
    for key in ("data_date", "axis_calendar", "project_calendar", "project_name"):
        assert p.meta[key] == q.meta[key], key

    def week(cal):   # an XER calendar may leave out its days off; PMXML lists all seven
        return dict(cal, week={d: cal["week"].get(d, []) for d in range(7)})
    assert {k: week(c) for k, c in p.meta["calendars"].items()} == \
        {k: week(c) for k, c in q.meta["calendars"].items()}
    assert (p.start, p.calendar) == (q.start, q.calendar)
    rp, rq = p.meta["import_report"], q.meta["import_report"]
    assert (rp["format"], rq["format"]) == ("pmxml", "xer")
    skip = {"format", "source", "ignored_tables", "ignored_elements"}
    rp, rq = ({k: v for k, v in r.items() if k not in skip} for r in (rp, rq))
    if "costs" in rp and rp["costs"].get("currency") is None:
        # P6 8.4 wrote no <Currency> into PMXML; the XER has its CURRTYPE table
        rq["costs"] = dict(rq["costs"], currency=None)
    assert rp == rq


def cpm_dates(p):
    r = pmosim.cpm(p)
    return {t: (s, f) for t, s, f in zip(r.task_ids, r.early_start_date, r.early_finish_date)}


def stored_pmxml_dates(path):
    """P6's dates of each activity, read from the XML on its own: the actual dates of a
    completed activity, else its remaining early start and finish."""
    root = DET.parse(path).getroot()
    out = {}
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "Activity":
            continue
        f = {c.tag.rsplit("}", 1)[-1]: (c.text or "") for c in el}
        if f.get("Status") == "Completed":
            keys = ("ActualStartDate", "ActualFinishDate")
        else:
            keys = ("RemainingEarlyStartDate", "RemainingEarlyFinishDate")
        if all(f.get(k) for k in keys):
            out[f["Id"]] = tuple(dt.datetime.fromisoformat(f[k]) for k in keys)
    return out


def stored_xer_dates(path):
    t = parse_xer_tables(path.read_text(encoding="cp1252"))
    out = {}
    for a in t["TASK"]:
        keys = (("act_start_date", "act_end_date") if a["status_code"] == "TK_Complete"
                else ("restart_date", "reend_date"))
        if all(a.get(k) for k in keys):
            out[a["task_code"]] = tuple(dt.datetime.fromisoformat(a[k]) for k in keys)
    return out


# -- the real files -------------------------------------------------------------------------
@pytest.mark.parametrize("xml, xer", REAL_PAIRS)
def test_p6_pmxml_and_its_xer_twin_are_the_same_project(xml, xer):
    xml, xer = data_dir(MPXJ, xml), data_dir(MPXJ, xer)
    assert detect_format(xml) == "pmxml"
    p, q = pmosim.load(xml), pmosim.load(xer)
    assert p.meta["format"] == "pmxml"
    assert_same_project(p, q)
    dates = cpm_dates(p)
    assert dates == cpm_dates(q)
    # and they are P6's own dates, read from each file independently of the importers
    for stored in (stored_pmxml_dates(xml), stored_xer_dates(xer)):
        assert stored and {t: dates[t] for t in stored} == stored


@pytest.mark.parametrize("name, option", LAG_PAIRS)
def test_relationship_lag_calendar_pairs(name, option):
    xml, xer = data_dir(MPXJ, f"{name}.xml"), data_dir(MPXJ, f"{name}.xer")
    p, q = pmosim.load(xml), pmosim.load(xer)
    for project in (p, q):
        assert project.meta["schedule_options"]["sched_calendar_on_relationship_lag"] == option
    assert cpm_dates(p) == stored_pmxml_dates(xml)
    assert cpm_dates(q) == stored_xer_dates(xer)
    # P6 writes 07:00-11:59 and 12:30-15:29: periods ending at 12:00 and 15:30, 8 hours
    cal = p.meta["calendars"]["12002"]
    assert cal["week"][0] == [(7.0, 12.0), (12.5, 15.5)] and cal["week"][5] == []
    assert cal["hours_per_day"] == 8.0


def test_sp10_as_pmxml_is_the_xer_project(sp10, tmp_path):
    """All of SP10 through PMXML: 3,994 activities, relationships with lags and second
    links through connectors, six calendars, constraints, progress, resources, costs."""
    xer = data_dir("p6", "SP10 - COST LOADED.xer")
    path = xer_to_pmxml(xer, tmp_path / "sp10.xml", sp10.meta["calendars"])
    p = read_pmxml(path)
    assert_same_project(p, sp10)
    assert p.meta["import_report"]["tasks"] == 3994
    assert p.meta["import_report"]["links"] == 5966


@pytest.mark.parametrize("option, calendar", [
    ("rcal_Predecessor", "7"), ("rcal_Successor", "8"), ("rcal_ProjDefault", "7"),
    ("rcal_24Hour", "24h")])
def test_lag_calendar_option_and_link_types(tmp_path, option, calendar):
    """Every link type with lags on two calendars, for each lag calendar option: the
    PMXML twin has the same links and the same CPM dates as the XER file."""
    week = "".join(f"(0||{d}()((0||0(s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))"
                   for d in range(2, 7))
    six = week + "(0||7()((0||0(s|08:00|f|12:00)())))"
    rows = ["ERMHDR\t8.1", "%T\tPROJECT",
            "%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id",
            "%R\t1\tP\t2024-01-08 08:00\t7", "%T\tCALENDAR",
            "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data",
            f"%R\t7\tfive\t8\t(0||CalendarData()((0||DaysOfWeek()({week}))"
            "(0||Exceptions()((0||0(d|45300)())))))",
            f"%R\t8\tsix\t8\t(0||CalendarData()((0||DaysOfWeek()({six}))))",
            "%T\tSCHEDOPTIONS", "%F\tsched_calendar_on_relationship_lag", f"%R\t{option}",
            "%T\tTASK", "%F\ttask_id\tproj_id\ttask_code\ttask_name\ttask_type\tstatus_code\t"
            "remain_drtn_hr_cnt\tclndr_id\tcstr_type\tcstr_date",
            "%R\t1\t1\tA\tA\tTT_Task\tTK_NotStart\t16\t7\t\t",
            "%R\t2\t1\tB\tB\tTT_Task\tTK_NotStart\t8\t8\t\t",
            "%R\t3\t1\tC\tC\tTT_Task\tTK_NotStart\t12\t8\tCS_MSOA\t2024-01-15 08:00",
            "%R\t4\t1\tD\tD\tTT_FinMile\tTK_NotStart\t0\t7\t\t",
            "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt",
            "%R\t1\t2\t1\tPR_FS\t24", "%R\t2\t3\t1\tPR_SS\t4", "%R\t3\t3\t2\tPR_FF\t-4",
            "%R\t4\t4\t3\tPR_SF\t8", "%R\t5\t4\t2\tPR_FS\t0", "%E"]
    xer = tmp_path / "t.xer"
    xer.write_text("\n".join(rows), encoding="cp1252")
    p, q = read_pmxml(xer_to_pmxml(xer, tmp_path / "t.xml")), read_xer(xer)
    assert_same_project(p, q)
    assert p.graph.edges["A", "B"]["lag_calendar"] == calendar
    assert p.graph.nodes["C"]["constraint"] == ("SNET", dt.datetime(2024, 1, 15, 8))
    assert cpm_dates(p) == cpm_dates(q)


# -- format detection and hostile files ------------------------------------------------------
_MINI = ('<APIBusinessObjects xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
         '<Project><ObjectId>9</ObjectId><Id>DEMO</Id><DataDate>2024-01-08T08:00:00</DataDate>'
         '{activities}</Project></APIBusinessObjects>')
_ACT = ('<Activity><ObjectId>{oid}</ObjectId><Id>{id}</Id><Type>Task Dependent</Type>'
        '<Status>Not Started</Status><RemainingDuration>{rem}</RemainingDuration></Activity>')


def _mini(tmp_path, activities, name="m.xml"):
    path = tmp_path / name
    path.write_text(_MINI.format(activities=activities), encoding="utf-8")
    return path


def test_pmxml_and_mspdi_are_told_apart_by_the_root(tmp_path):
    pm = _mini(tmp_path, _ACT.format(oid=1, id="A", rem=8))
    assert detect_format(pm) == "pmxml"
    assert detect_format(data_dir(MPXJ, "mspdisplittask.xml")) == "mspdi"
    other = _mini(tmp_path, _ACT.format(oid=1, id="A", rem=8), "m.pmxml")
    assert detect_format(other) == "pmxml"
    p = pmosim.load(pm)
    # no calendar in the file: P6's default Monday-Friday, 8 hours a day
    assert p.graph.nodes["A"]["duration"].value == 1.0
    with pytest.raises(ScheduleImportError, match=r"root element is <Project>.*read it as mspdi"):
        pmosim.load(data_dir(MPXJ, "mspdisplittask.xml"), format="pmxml")


@pytest.mark.parametrize("body, message", [
    (_ACT.format(oid=1, id="A", rem="abc"),
     r"m\.xml: Activity 'A' \(ObjectId 1\): RemainingDuration 'abc' is not a number"),
    (_ACT.format(oid=1, id="A", rem=8) + _ACT.format(oid=1, id="B", rem=8),
     r"Activity 'B' \(ObjectId 1\): ObjectId 1 is also the ObjectId of Activity 'A'"),
    (_ACT.format(oid=1, id="A", rem=8) + _ACT.format(oid=2, id="B", rem=8)
     + "<Relationship><ObjectId>5</ObjectId><PredecessorActivityObjectId>1"
       "</PredecessorActivityObjectId><SuccessorActivityObjectId>2</SuccessorActivityObjectId>"
       "<Type>Finish to Begin</Type></Relationship>",
     r"Relationship 1 -> 2 \(ObjectId 5\): unknown Type 'Finish to Begin'"),
    (_ACT.format(oid="", id="A", rem=8), r"Activity 'A' \(ObjectId \?\): has no ObjectId"),
])
def test_damaged_fields_name_the_element_and_the_field(tmp_path, body, message):
    with pytest.raises(ScheduleImportError, match=message):
        read_pmxml(_mini(tmp_path, body))


def test_hostile_and_wrong_files(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
                    "<APIBusinessObjects>&a;</APIBusinessObjects>")
    with pytest.raises(ScheduleImportError, match="refused: the XML declares a DTD"):
        read_pmxml(bomb)
    broken = tmp_path / "broken.xml"
    broken.write_text("<APIBusinessObjects><Project>")
    with pytest.raises(ScheduleImportError, match="not well-formed XML"):
        read_pmxml(broken)
    empty = tmp_path / "empty.xml"
    empty.write_text("<APIBusinessObjects><Calendar/></APIBusinessObjects>")
    with pytest.raises(ScheduleImportError, match="has no <Project>"):
        read_pmxml(empty)


def test_several_projects_and_the_project_choice(tmp_path):
    two = ('<APIBusinessObjects><Project><ObjectId>1</ObjectId><Id>BIG</Id>'
           '<DataDate>2024-01-08T08:00:00</DataDate>'
           + _ACT.format(oid=1, id="A", rem=8) + _ACT.format(oid=2, id="B", rem=16)
           + '</Project><Project><ObjectId>2</ObjectId><Id>SMALL</Id>'
           '<DataDate>2024-01-08T08:00:00</DataDate>'
           + _ACT.format(oid=3, id="C", rem=8).replace("<Type>", "<ProjectObjectId>2"
                                                        "</ProjectObjectId><Type>")
           + "</Project></APIBusinessObjects>")
    path = tmp_path / "two.xml"
    path.write_text(two)
    p = read_pmxml(path)
    assert sorted(p.graph) == ["A", "B"]
    assert any("file holds 2 projects" in w for w in p.meta["import_report"]["warnings"])
    assert sorted(read_pmxml(path, project="SMALL").graph) == ["C"]

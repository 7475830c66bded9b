"""MS Project XML (MSPDI) import, proved against the dates MS Project stored.

Data: ``../shared/data/mpxj`` (files written by MS Project for MPXJ's tests, LGPL-2.1)
and ``../shared/data/projectlibre/New Product.xml`` (CPAL-1.0); see their PROVENANCE.md.
"""

import datetime as dt

import networkx as nx
import pytest

import pmosim
from pmosim.errors import ScheduleImportError
from pmosim.io.mspdi import read_mspdi

from _data import data_dir
from reference_worktime import axis_dates, schedule_dates

TASK_LINKS = [("mpxj", "generated", "task-links", f"task-links-project{v}-mspdi.xml")
              for v in (2003, 2007, 2010, 2013, 2016, 2019)]
FILES = TASK_LINKS + [("mpxj", "mspdirelations.xml"), ("mpxj", "legacy", "sample.xml"),
                      ("projectlibre", "New Product.xml")]


def _tasks(p):
    return [v for v, d in p.graph.nodes(data=True) if d["kind"] != "connector"]


@pytest.mark.parametrize("parts", FILES, ids=lambda parts: parts[-1])
def test_reference_pass_reproduces_ms_project_dates(parts):
    """Every task whose dates MS Project computed from its own calendar matches.

    The one exception, legacy/sample.xml task 2, has resources on a night-shift
    calendar: MS Project schedules its assignments there; the reader flags it.
    """
    p = read_mspdi(data_dir(*parts))
    dates = schedule_dates(p)
    g = p.graph
    wrong = [v for v in _tasks(p)
             if dates[v] != (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"])]
    flagged = [v for v in _tasks(p) if g.nodes[v].get("resource_calendars")]
    assert wrong == flagged


#: Tasks whose MS Project dates come from assignments, not from the task: work contours
#: and timephased assignment data (pmosim schedules the task as one block). Split tasks
#: (mspdisplittask.xml; tasks 5, 29 and 37 of mspditimephased.xml) keep their split time
#: and get MS Project's dates.
ASSIGNMENT_DRIVEN = {"mspdiassignmentfields.xml": {1}}


def test_every_mpxj_mspdi_file():
    """All MSPDI files of MPXJ's tests: each imports or says why, and every task MS
    Project scheduled automatically on its own calendar gets MS Project's dates."""
    root = data_dir("mpxj")
    wrong, imported, refused = {}, 0, {}
    for path in sorted(root.rglob("*.xml")):
        try:
            p = read_mspdi(path)
        except ScheduleImportError as exc:
            refused[path.name] = str(exc)
            continue
        imported += 1
        g = p.graph
        excused = set(ASSIGNMENT_DRIVEN.get(path.name, ()))
        for v, d in g.nodes(data=True):
            if d.get("manual") or d.get("resource_calendars"):
                excused |= {v} | nx.descendants(g, v)
        dates = schedule_dates(p)
        bad = [v for v in _tasks(p) if v not in excused
               and dates[v] != (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"])]
        if bad:
            wrong[str(path.relative_to(root))] = bad
    assert wrong == {}
    assert imported >= 100
    # P6 PMXML files share the .xml suffix; files with only resources or calendars have
    # no tasks: each is refused with its reason
    assert all("root element is <APIBusinessObjects>" in m or "no tasks to schedule" in m
               or "has no <Tasks>" in m for m in refused.values()), refused


@pytest.mark.parametrize("parts", TASK_LINKS + [("projectlibre", "New Product.xml")],
                         ids=lambda parts: parts[-1])
def test_engine_cpm_reproduces_ms_project_dates(parts):
    """Single-calendar files without constraints: pmosim.cpm itself gives MS Project's dates."""
    p = read_mspdi(data_dir(*parts))
    r = pmosim.cpm(p)
    dates = axis_dates(p, r.early_start, r.early_finish, r.duration == 0)
    g = p.graph
    got = {v: d for v, d in zip(r.task_ids, dates) if g.nodes[v]["kind"] != "connector"}
    want = {v: (g.nodes[v]["tool_start"], g.nodes[v]["tool_finish"]) for v in got}
    assert got == want


def test_task_links_types_and_lags():
    p = read_mspdi(data_dir(*TASK_LINKS[-1]))
    e = p.graph.edges
    # LinkLag in tenths of a minute: 4,800 = 1 day; 24,000 = 1 week (LagFormat 9)
    assert [(e[u, u + 1]["type"], e[u, u + 1]["lag"]) for u in range(1, 17, 2)] == [
        ("FS", 0.0), ("FS", 1.0), ("FS", 2.0), ("FS", 5.0), ("FS", 10.0),
        ("SF", 2.0), ("SS", 2.0), ("FF", 2.0)]
    report = p.meta["import_report"]
    assert report["tasks"] == 16 and report["links"] == 8
    assert report["links_by_type"] == {"FS": 5, "SS": 1, "FF": 1, "SF": 1}
    assert report["lags"] == 7
    assert any("manually scheduled" in w for w in report["warnings"])


def test_new_product_summaries_are_wbs_groups():
    p = read_mspdi(data_dir("projectlibre", "New Product.xml"))
    report = p.meta["import_report"]
    # PROVENANCE.md: 43 tasks = project summary + 6 phases + 36 leaves; 37 links, 1 FF, 1 lag
    assert report["tasks"] == 36 and report["summary_tasks"] == 6
    assert report["links"] == 37 and report["links_by_type"]["FF"] == 1 and report["lags"] == 1
    assert report["calendars"] == 4
    g = p.graph
    assert g.nodes[8]["summary"] == ["Finance Phase"] and g.nodes[8]["wbs"] == "1.3.1"
    # "Finance Phase" -> "Marketing and Sales" (summary to summary) runs through connectors
    assert g.has_edge("S7:finish", "S23:start")
    assert all(g.nodes[v]["kind"] == "connector" for v in g if isinstance(v, str))
    assert g.edges[25, 28]["lag"] == -15.0  # LinkLag -72,000 = -15 days
    p.validate()


def test_sample_constraints_calendars_costs():
    p = read_mspdi(data_dir("mpxj", "legacy", "sample.xml"))
    g = p.graph
    assert g.nodes[7]["constraint"] == ("SNET", dt.datetime(2003, 2, 1, 8))
    assert g.nodes[3]["kind"] == "finish milestone"
    assert g.nodes[2]["cost"] == pytest.approx(3526.25)  # MSPDI stores hundredths
    night = p.meta["calendars"]["2"]["week"]
    assert night[1] == [(0.0, 3.0), (4.0, 8.0), (23.0, 24.0)]  # Tuesday
    # the resource's own calendar 4 derives from the night shift
    assert g.nodes[2]["resource_calendars"] == ["4"]
    assert p.meta["calendars"]["4"]["week"] == p.meta["calendars"]["2"]["week"]


def test_progress_exceptions_and_base_calendars(tmp_path):
    xml = """<Project xmlns="http://schemas.microsoft.com/project">
      <StartDate>2024-01-08T08:00:00</StartDate><MinutesPerDay>480</MinutesPerDay>
      <CalendarUID>1</CalendarUID>
      <Calendars>
        <Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>
          <WeekDays>""" + "".join(
        f"<WeekDay><DayType>{d}</DayType><DayWorking>1</DayWorking><WorkingTimes>"
        "<WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
        "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime>"
        "</WorkingTimes></WeekDay>" for d in range(2, 7)) + """
            <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
            <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>
          </WeekDays>
          <Exceptions><Exception><TimePeriod><FromDate>2024-01-10T00:00:00</FromDate>
            <ToDate>2024-01-10T23:59:00</ToDate></TimePeriod><DayWorking>0</DayWorking>
          </Exception></Exceptions></Calendar>
        <Calendar><UID>2</UID><Name>Derived</Name><BaseCalendarUID>1</BaseCalendarUID>
          <WeekDays><WeekDay><DayType>7</DayType><DayWorking>1</DayWorking><WorkingTimes>
            <WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>
          </WorkingTimes></WeekDay></WeekDays></Calendar>
      </Calendars>
      <Tasks>
        <Task><UID>1</UID><ID>1</ID><Name>Done</Name><Duration>PT8H0M0S</Duration>
          <ActualStart>2024-01-08T08:00:00</ActualStart>
          <ActualFinish>2024-01-08T17:00:00</ActualFinish></Task>
        <Task><UID>2</UID><ID>2</ID><Name>Half</Name><Duration>PT16H0M0S</Duration>
          <ActualStart>2024-01-09T08:00:00</ActualStart>
          <RemainingDuration>PT8H0M0S</RemainingDuration>
          <Resume>2024-01-11T08:00:00</Resume>
          <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type></PredecessorLink></Task>
        <Task><UID>3</UID><ID>3</ID><Name>Next</Name><Duration>PT4H0M0S</Duration>
          <CalendarUID>2</CalendarUID>
          <PredecessorLink><PredecessorUID>2</PredecessorUID><Type>1</Type>
            <LinkLag>14400</LinkLag><LagFormat>6</LagFormat></PredecessorLink></Task>
      </Tasks></Project>"""
    path = tmp_path / "progress.xml"
    path.write_text(xml)
    p = read_mspdi(path)
    g = p.graph
    assert [g.nodes[t]["status"] for t in (1, 2, 3)] == ["complete", "in progress", "not started"]
    assert g.nodes[1]["duration"].value == 0 and g.nodes[2]["duration"].value == 1.0
    cals = p.meta["calendars"]
    assert cals["1"]["exceptions"] == {dt.date(2024, 1, 10): []}
    assert cals["2"]["week"][5] == [(8.0, 12.0)] and cals["2"]["week"][0] == cals["1"]["week"][0]
    assert cals["2"]["exceptions"] == cals["1"]["exceptions"]  # inherited from the base
    assert g.edges[2, 3]["lag_elapsed_hours"] == 24.0
    dates = schedule_dates(p)
    # Half resumes Thu 11 Jan (Wed is a holiday) and ends Thu 17:00; +24 elapsed hours
    # is Fri 17:00; Next works Saturday mornings on its derived calendar.
    assert dates[2] == (dt.datetime(2024, 1, 9, 8), dt.datetime(2024, 1, 11, 17))
    assert dates[3] == (dt.datetime(2024, 1, 13, 8), dt.datetime(2024, 1, 13, 12))


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<Project xmlns="http://schemas.microsoft.com/project"><Name>&lol9;</Name></Project>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>
<Project xmlns="http://schemas.microsoft.com/project"><Name>&xxe;</Name></Project>"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
def test_hostile_xml_is_refused(tmp_path, text):
    path = tmp_path / "evil.xml"
    path.write_text(text)
    with pytest.raises(ScheduleImportError, match=r"evil.xml: refused: the XML declares a DTD"):
        read_mspdi(path)


def test_bad_xml_files(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<Project><Tasks>")
    with pytest.raises(ScheduleImportError, match=r"broken.xml: not well-formed XML"):
        read_mspdi(broken)
    other = tmp_path / "other.xml"
    other.write_text("<svg/>")
    with pytest.raises(ScheduleImportError, match=r"root element is <svg>, expected <Project>"):
        read_mspdi(other)
    empty = tmp_path / "empty.xml"
    empty.write_text('<Project xmlns="http://schemas.microsoft.com/project"/>')
    with pytest.raises(ScheduleImportError, match="has no <Tasks>"):
        read_mspdi(empty)


def test_load_dispatches_to_read_mspdi():
    p = pmosim.load(data_dir("mpxj", "mspdirelations.xml"))
    assert p.meta["format"] == "mspdi" and p.meta["import_report"]["tasks"] == 5


# -- resources and assignments (levelling) ------------------------------------------------
def _mspdi_assignments(path):
    """Work resources' MaxUnits (Type 1, the default) and the (task, resource) -> Units of
    a file, read with the standard library, independently of the reader."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    ns = root.tag[:root.tag.index("}") + 1]
    capacity = {int(r.findtext(ns + "UID")): float(r.findtext(ns + "MaxUnits"))
                for r in root.iter(ns + "Resource")
                if r.findtext(ns + "Type", "1") == "1" and r.findtext(ns + "Name")}
    units = {(int(a.findtext(ns + "TaskUID")), int(a.findtext(ns + "ResourceUID"))):
             float(a.findtext(ns + "Units")) for a in root.iter(ns + "Assignment")
             if a.findtext(ns + "ResourceUID") != "-65535"}
    return capacity, units


def test_new_product_resources_and_demands_are_the_files():
    path = data_dir("projectlibre", "New Product.xml")
    capacity, units = _mspdi_assignments(path)
    p = read_mspdi(path)
    assert {r.id: r.capacity for r in p.resources.values()} == capacity
    assert len(capacity) == 8 and p.resources[1000101574].name == "Scott Adams"
    demands = {(t, r): u for t, d in p.graph.nodes(data=True)
               for r, u in (d.get("resources") or {}).items()}
    assert demands == units and len(units) == 28  # the other 17 assignments: no resource
    assert p.graph.nodes[4]["resources"] == {1000101586: 1.0, 1000101574: 0.5}
    report = p.meta["import_report"]
    assert (report["resources"], report["assignments"], report["resources_not_levelled"],
            report["assignments_not_levelled"], report["demands_capped"]) == (8, 28, 0, 0, 0)
    assert not any("resource" in w for w in report["warnings"])
    assert all(d.get("priority") == 500 for v, d in p.graph.nodes(data=True)
               if d["kind"] != "connector")
    p.validate()


def test_material_resources_are_kept_but_not_levelled():
    p = read_mspdi(data_dir("mpxj", "mspdiresource.xml"))
    assert sorted(p.resources) == [1, 2, 3]
    assert p.meta["resources_not_levelled"] == {
        4: {"name": "Concrete", "kind": "material (Type 0)", "capacity": 1.0, "label": "ton"}}
    assert "resources: 3 kept for levelling with 5 assignments; not levelled: 1 material " \
        "(Type 0) resource with 0 assignments (kept in meta['resources_not_levelled'] and the " \
        "tasks' resources_not_levelled)" in p.meta["import_report"]["warnings"]


def test_over_allocated_assignments_are_capped_and_named():
    p = read_mspdi(data_dir("mpxj", "mspditimephased.xml"))
    capacity, units = _mspdi_assignments(data_dir("mpxj", "mspditimephased.xml"))
    over = {k: u for k, u in units.items() if u > capacity[k[1]]}
    assert len(over) == 8 and set(over.values()) == {1.5}
    g = p.graph
    for (task, res), u in over.items():
        assert g.nodes[task]["resources"][res] == capacity[res] == 1.0
        assert g.nodes[task]["resources_capped"] == {res: u}
    warning = next(w for w in p.meta["import_report"]["warnings"] if "capped" in w)
    assert warning.startswith(
        "8 demands above the resource's capacity capped at the capacity (the task takes the "
        "whole resource while it runs; the file's units are in the task attribute "
        "resources_capped): task 33 needs 1.5 of resource 33 (Resource 33, capacity 1); ")
    assert warning.endswith("; and 3 more")
    p.validate()


def test_priorities():
    p = read_mspdi(data_dir("mpxj", "legacy", "mspdipriority.xml"))
    assert [p.graph.nodes[t]["priority"] for t in range(1, 11)] == \
        [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100]
    assert "tasks [1] have priority 1000, which MS Project never delays when levelling; " \
        "pmosim levels them first, like any highest priority" in \
        p.meta["import_report"]["warnings"]


def test_availability_periods_become_capacity_changes(tmp_path):
    """The periods of mpxj's mspdiavailability.xml (which has no tasks) on a project
    starting Thursday 11 June 2009: 100 % until 1 July, 60 % until 1 August, none until
    20 August, then 75 %."""
    week = "".join(
        f"<WeekDay><DayType>{d}</DayType><DayWorking>1</DayWorking><WorkingTimes>"
        "<WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
        "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime>"
        "</WorkingTimes></WeekDay>" for d in range(2, 7))
    periods = "".join(
        f"<AvailabilityPeriod><AvailableFrom>{a}T00:00:00</AvailableFrom>"
        f"<AvailableTo>{b}T23:59:00</AvailableTo><AvailableUnits>{u}</AvailableUnits>"
        "</AvailabilityPeriod>"
        for a, b, u in (("2009-06-01", "2009-07-01", 1), ("2009-07-02", "2009-08-01", 0.6),
                        ("2009-08-20", "2009-08-30", 0.75)))
    xml = f"""<Project xmlns="http://schemas.microsoft.com/project">
      <StartDate>2009-06-11T08:00:00</StartDate><MinutesPerDay>480</MinutesPerDay>
      <CalendarUID>1</CalendarUID>
      <Calendars><Calendar><UID>1</UID><Name>Standard</Name><WeekDays>{week}
        <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
        <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>
      </WeekDays></Calendar></Calendars>
      <Tasks>
        <Task><UID>1</UID><ID>1</ID><Name>A</Name><Duration>PT16H0M0S</Duration></Task>
        <Task><UID>2</UID><ID>2</ID><Name>B</Name><Duration>PT8H0M0S</Duration></Task>
      </Tasks>
      <Resources><Resource><UID>2</UID><Name>Resource Two</Name><Type>1</Type>
        <MaxUnits>1</MaxUnits><AvailabilityPeriods>{periods}</AvailabilityPeriods>
      </Resource></Resources>
      <Assignments>
        <Assignment><UID>1</UID><TaskUID>1</TaskUID><ResourceUID>2</ResourceUID>
          <Units>0.5</Units></Assignment>
        <Assignment><UID>2</UID><TaskUID>2</TaskUID><ResourceUID>2</ResourceUID>
          <Units>1</Units></Assignment>
      </Assignments></Project>"""
    path = tmp_path / "availability.xml"
    path.write_text(xml)
    p = read_mspdi(path)
    res = p.resources[2]
    # working days from Thu 11 June 08:00: 2 July is day 15, 1 August (a Saturday) ends
    # day 37 (Friday 31 July), 20 August is day 50
    assert (res.capacity, res.changes) == (1.0, ((15.0, 0.6), (37.0, 0.0), (50.0, 0.75)))
    assert p.graph.nodes[1]["resources"] == {2: 0.5}
    assert p.graph.nodes[2]["resources"] == {2: 0.75}  # 100 % > the last 75 %: capped
    warnings = p.meta["import_report"]["warnings"]
    assert ("resource 2 (Resource Two): 3 availability periods kept as capacity changes; after "
            "the last one ends (2009-08-30 23:59) MS Project has the resource unavailable, "
            "pmosim keeps its 0.75 units (no capacity for ever would leave its tasks "
            "unschedulable)") in warnings
    p.validate()


def test_every_mpxj_mspdi_file_validates_with_its_resources():
    """Resources never make an imported file invalid: every file that imports validates."""
    for path in sorted(data_dir("mpxj").rglob("*.xml")):
        try:
            p = read_mspdi(path)
        except ScheduleImportError:
            continue
        p.validate()

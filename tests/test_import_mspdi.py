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


#: Tasks whose MS Project dates come from assignments, not from the task: split work,
#: work contours and timephased assignment data (pmosim schedules the task as one block).
ASSIGNMENT_DRIVEN = {"mspdisplittask.xml": {1, 2}, "mspditimephased.xml": {5, 29, 37},
                     "mspdiassignmentfields.xml": {1}}


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

"""Hostile input in the schedule importers (issue 19).

Every error out of :func:`pmosim.load` for a damaged MSPDI, XER, PSPLIB or DSLIB file
is a :class:`~pmosim.errors.ScheduleImportError` whose message starts with the file
and names the record (task UID, XER table and line, activity, sheet and row) and the
value; never a bare ``ValueError``, ``KeyError`` or ``OverflowError``, and never a
damaged value silently read as 0. Every file here is generated from text in the test.

The last tests of each format put each hostile value into each field of a small valid
file, one at a time, and require either a clean import or such an error.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

import pmosim
from pmosim.errors import PmosimError, ScheduleImportError

HUGE = "9" * 400
HOSTILE = ["abc", "1e400", HUGE, "NaN", "inf", "-1", "0", "1.5", "9999-12-31T00:00:00",
           "2024-01-08 08:00", "-PT8H0M0S", "", "25:99"]


def load_error(path) -> str:
    """The message of the ScheduleImportError (exactly that class) that loading raises."""
    with pytest.raises(ScheduleImportError) as info:
        pmosim.load(path)
    assert type(info.value) is ScheduleImportError
    message = str(info.value)
    assert message.startswith(str(path)), message
    return message


def loads_or_says_where(path) -> None:
    """Loading either works (and validates) or raises a PmosimError naming the file."""
    try:
        project = pmosim.load(path)
    except PmosimError as exc:
        assert str(path) in str(exc), exc
        return
    try:
        project.validate()
    except PmosimError:
        pass  # a valid-looking file may still describe an invalid model: said by validate


# -- MS Project XML ---------------------------------------------------------------------
MSPDI = """<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>{start}</StartDate><MinutesPerDay>{minutes}</MinutesPerDay><CalendarUID>1</CalendarUID>
  <Calendars><Calendar><UID>1</UID><Name>Standard</Name><WeekDays>
    <WeekDay><DayType>2</DayType><DayWorking>1</DayWorking><WorkingTimes><WorkingTime>
      <FromTime>{clock}</FromTime><ToTime>17:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>
    </WeekDays>
    <Exceptions><Exception><TimePeriod><FromDate>{holiday}</FromDate><ToDate>{holiday}</ToDate>
      </TimePeriod><DayWorking>0</DayWorking></Exception></Exceptions></Calendar></Calendars>
  <Tasks>
    <Task><UID>{uid}</UID><ID>1</ID><Name>Dig</Name><Duration>{duration}</Duration>
      <Priority>{priority}</Priority></Task>
    <Task><UID>2</UID><ID>2</ID><Name>Pour</Name><Duration>PT8H0M0S</Duration>
      <PredecessorLink><PredecessorUID>{pred}</PredecessorUID><Type>1</Type>
        <LinkLag>{lag}</LinkLag></PredecessorLink></Task>
  </Tasks>
  <Resources><Resource><UID>7</UID><Name>Crane</Name><Type>1</Type>
    <MaxUnits>{max_units}</MaxUnits></Resource></Resources>
  <Assignments><Assignment><UID>3</UID><TaskUID>2</TaskUID><ResourceUID>7</ResourceUID>
    <Units>{units}</Units></Assignment></Assignments>
</Project>"""
MSPDI_OK = dict(start="2024-01-08T08:00:00", minutes="480", clock="08:00:00",
                holiday="2024-01-10T00:00:00", uid="1", duration="PT16H0M0S", priority="500",
                pred="1", lag="0", max_units="1", units="1")


def mspdi(tmp_path, **changes):
    path = tmp_path / "plan.xml"
    path.write_text(MSPDI.format(**{**MSPDI_OK, **changes}))
    return path


def test_mspdi_template_is_valid(tmp_path):
    p = pmosim.load(mspdi(tmp_path))
    p.validate()
    assert p.graph.nodes[2]["resources"] == {7: 1.0}


@pytest.mark.parametrize("changes, expected", [
    (dict(uid="abc"), "<Task> number 1 (Name 'Dig'): UID 'abc' is not a whole number"),
    (dict(uid="1e400"), "<Task> number 1 (Name 'Dig'): UID '1e400' is too large for a whole "
                        "number"),
    (dict(uid=HUGE), "<Task> number 1 (Name 'Dig'): UID '9999999999999999999...9999999' (400 "
                     "characters) is too large for a whole number"),
    (dict(clock="xx"), "calendar 1: FromTime 'xx' is not a time of day (expected hh:mm:ss)"),
    (dict(clock="25:99:00"), "calendar 1: FromTime '25:99:00' is not a time of day "
                              "(expected hh:mm:ss)"),
    (dict(duration="xx"), "task 1: Duration 'xx' is not a duration (expected one like "
                          "PT8H0M0S)"),
    (dict(duration="-PT8H0M0S"), "task 1: Duration '-PT8H0M0S' is negative; a duration is at "
                                 "least 0"),
    (dict(duration=f"PT{HUGE}H0M0S"), "task 1: Duration 'PT99999999999999999...99H0M0S' (407 "
                                      "characters) is longer than 36,525 working days"),
    (dict(holiday="9999-12-31T00:00:00"), "calendar 1: FromDate '9999-12-31T00:00:00' is "
                                          "outside the years 1900..2199 that schedules use"),
    (dict(start="2024-02-30T08:00:00"), "project: StartDate '2024-02-30T08:00:00' is not a "
                                        "date (expected YYYY-MM-DD hh:mm)"),
    (dict(start="2024-01-08T08:00:00+02:00"), "project: StartDate '2024-01-08T08:00:00+02:00' "
                                              "has a time zone; schedule dates are local times"),
    (dict(minutes="inf"), "project: MinutesPerDay 'inf' is not a finite number"),
    (dict(lag=HUGE), "task 2: link from 1: LinkLag '9999999999999999999...9999999' (400 "
                     "characters) is too large for a number"),
    (dict(lag="NaN"), "task 2: link from 1: LinkLag 'NaN' is not a finite number"),
    (dict(priority="NaN"), "task 1: Priority 'NaN' is not a whole number"),
    (dict(priority="5000"), "task 1: Priority 5000 is outside MS Project's 0..1000"),
    (dict(max_units="nan"), "resource 7: MaxUnits 'nan' is not a finite number"),
    (dict(units="1e400"), "assignment 3: Units '1e400' is too large for a number"),
    (dict(units="-1"), "assignment 3: Units '-1' must be at least 0"),
    (dict(uid="2"), "<Task> number 2 (Name 'Pour'): UID 2 is also the UID of <Task> number 1; "
                   "each task needs its own UID"),
])
def test_mspdi_damaged_fields(tmp_path, changes, expected):
    path = mspdi(tmp_path, **changes)
    assert load_error(path) == f"{path}: {expected}"


def test_mspdi_self_link_is_named_as_such(tmp_path):
    p = pmosim.load(mspdi(tmp_path, pred="2"))
    assert "link 2 -> 2 ignored: task 2 ('Pour') is its own predecessor (a self-link)" in \
        p.meta["import_report"]["warnings"]
    assert not p.graph.has_edge(2, 2)


def _mspdi_leaves():
    root = ET.fromstring(MSPDI.format(**MSPDI_OK))
    return [el.tag.split("}")[1] for el in root.iter() if len(el) == 0 and el.text]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: v[:12] or "empty")
def test_mspdi_any_field_any_value(tmp_path, value):
    text = MSPDI.format(**MSPDI_OK)
    leaves = re.findall(r"<(\w+)>[^<]+</\1>", text)
    assert len(leaves) == len(_mspdi_leaves())
    for k, match in enumerate(re.finditer(r"<(\w+)>[^<]+</\1>", text)):
        tag = match.group(1)
        path = tmp_path / f"field{k}.xml"
        path.write_text(text[:match.start()] + f"<{tag}>{value}</{tag}>" + text[match.end():])
        loads_or_says_where(path)


# -- Primavera P6 XER -------------------------------------------------------------------
def xer_rows(task_fields="task_id", duration="16", date="2024-01-08 08:00", first_id="1",
             lag="0", hours_per_day="8", exception="45300", clock="16:00", max_qty="1",
             qty="0.5", rsrc_id="10"):
    return [
        "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id",
        f"%R\t1\tP\t{date}\t7",
        "%T\tCALENDAR", "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data",
        f"%R\t7\tcal\t{hours_per_day}\t(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|"
        f"08:00|f|{clock})())))))(0||Exceptions()((0||0(d|{exception})())))))",
        "%T\tTASK", f"%F\t{task_fields}\tproj_id\ttask_code\ttask_name\ttask_type\tstatus_code"
        "\tremain_drtn_hr_cnt\tclndr_id\tcstr_type\tcstr_date\tpriority_type",
        f"%R\t{first_id}\t1\tA\tDig\tTT_Task\tTK_NotStart\t{duration}\t7\tCS_MSOA\t"
        "2024-01-15 08:00\tPT_High",
        "%R\t2\t1\tB\tPour\tTT_Task\tTK_NotStart\t8\t7\t\t\tPT_Normal",
        "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt",
        f"%R\t5\t2\t1\tPR_FS\t{lag}",
        "%T\tRSRC", "%F\trsrc_id\trsrc_name\trsrc_short_name\tclndr_id\trsrc_type",
        "%R\t9\tCrane\tCR\t7\tRT_Equip", f"%R\t{rsrc_id}\tHoist\tHO\t7\tRT_Equip",
        "%T\tRSRCRATE", "%F\trsrc_rate_id\trsrc_id\tmax_qty_per_hr\tstart_date",
        f"%R\t1\t9\t{max_qty}\t2023-01-01 00:00",
        "%T\tTASKRSRC", "%F\ttaskrsrc_id\ttask_id\trsrc_id\tremain_qty_per_hr\ttarget_cost",
        f"%R\t11\t1\t9\t{qty}\t100", "%E"]


def xer(tmp_path, rows=None, **changes):
    path = tmp_path / "plan.xer"
    path.write_text("\n".join(["ERMHDR\t8.1", *(rows or xer_rows(**changes))]),
                    encoding="cp1252")
    return path


def test_xer_template_is_valid(tmp_path):
    p = pmosim.load(xer(tmp_path))
    p.validate()
    assert p.graph.nodes["A"]["resources"] == {"CR": 4.0}
    assert p.graph.nodes["A"]["priority"] == 700


@pytest.mark.parametrize("changes, expected", [
    (dict(task_fields="tsk_id"), ", line 9: table TASK has no task_id column, which identifies "
                                 "its rows (fields: tsk_id, proj_id, task_code, task_name, "
                                 "task_type, status_code, remain_drtn_hr_cnt, clndr_id, "
                                 "cstr_type, cstr_date, priority_type); export the file again "
                                 "from P6"),
    (dict(date="9999-12-31 00:00"), ", line 4: PROJECT project 'P': last_recalc_date "
                                    "'9999-12-31 00:00' is outside the years 1900..2199 that "
                                    "schedules use"),
    (dict(date="2024-13-45 08:00"), ", line 4: PROJECT project 'P': last_recalc_date "
                                    "'2024-13-45 08:00' is not a date (expected YYYY-MM-DD "
                                    "hh:mm)"),
    (dict(duration="abc"), ", line 10: TASK activity 'A' (task_id 1): remain_drtn_hr_cnt 'abc' "
                           "is not a number"),
    (dict(duration="1e308"), ", line 10: TASK activity 'A' (task_id 1): remain_drtn_hr_cnt "
                             "'1e308' must be between 0 and 292200"),
    (dict(duration=HUGE), ", line 10: TASK activity 'A' (task_id 1): remain_drtn_hr_cnt "
                          "'9999999999999999999...9999999' (400 characters) is too large for "
                          "a number"),
    (dict(first_id="2"), ", line 11: TASK activity 'B': task_id 2 repeats the task_id of line 10 "
                         "(activity 'A'); each row of TASK needs its own task_id"),
    (dict(rsrc_id="9"), ", line 18: RSRC resource 'HO': rsrc_id 9 repeats the rsrc_id of line "
                        "17 (resource 'CR'); each row of RSRC needs its own rsrc_id"),
    (dict(lag="nan"), ", line 14: TASKPRED task_pred_id 5 (activity 'B' after 'A'): lag_hr_cnt "
                      "'nan' is not a finite number"),
    (dict(hours_per_day="inf"), ", line 7: CALENDAR calendar 7 (cal): day_hr_cnt 'inf' is not "
                                "a finite number"),
    (dict(exception="99999999999"), ", line 7: CALENDAR calendar 7 (cal): clndr_data exception "
                                    "day '99999999999' is outside the years 1900..2199 (days "
                                    "2..109574 from 1899-12-30)"),
    (dict(clock="25:99"), ", line 7: CALENDAR calendar 7 (cal): clndr_data time '25:99' is not "
                          "a time of day"),
    (dict(max_qty=HUGE), ", line 21: RSRCRATE rsrc_rate_id 1 (resource 'CR'): max_qty_per_hr "
                         "'9999999999999999999...9999999' (400 characters) is too large for a "
                         "number"),
    (dict(qty="NaN"), ", line 24: TASKRSRC taskrsrc_id 11 (activity 'A', resource 'CR'): "
                      "remain_qty_per_hr 'NaN' is not a finite number"),
])
def test_xer_damaged_fields(tmp_path, changes, expected):
    path = xer(tmp_path, **changes)
    assert load_error(path) == f"{path}{expected}"


def test_xer_any_field_any_value(tmp_path):
    rows = xer_rows()
    cases = 0
    for i, row in enumerate(rows):
        if not row.startswith("%R"):
            continue
        values = row.split("\t")
        for j in range(1, len(values)):
            for value in HOSTILE:
                changed = rows[:i] + ["\t".join(values[:j] + [value] + values[j + 1:])] + \
                    rows[i + 1:]
                loads_or_says_where(xer(tmp_path, changed))
                cases += 1
    assert cases > 300


# -- PSPLIB -------------------------------------------------------------------------------
PSPLIB = """jobs (incl. supersource/sink ):  4
horizon                       :  {horizon}
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          0
REQUESTS/DURATIONS:
jobnr. mode duration  R 1
----------------------------
  1      1     0       0
  2      1     {duration}       3
  3      1     7       2
  4      1     0       0
RESOURCEAVAILABILITIES:
  R 1
   {capacity}
"""
PSPLIB_OK = dict(horizon="20", duration="4", capacity="5")


def psplib(tmp_path, **changes):
    path = tmp_path / "plan.sm"
    path.write_text(PSPLIB.format(**{**PSPLIB_OK, **changes}))
    return path


def test_psplib_template_is_valid(tmp_path):
    pmosim.load(psplib(tmp_path)).validate()


@pytest.mark.parametrize("changes, expected", [
    (dict(duration=HUGE), ", line 13: the number '9999999999999999999...9999999' (400 "
                          "characters) is too large for a PSPLIB field (at most "
                          "9,223,372,036,854,775,807)"),
    (dict(duration="nan"), ", line 13: expected whole numbers >= 0, got 'nan' in '2      1     "
                           "nan       3'"),
    (dict(capacity="inf"), ", line 18: expected whole numbers >= 0, got 'inf' in 'inf'"),
    (dict(horizon=HUGE), ", line 2: the number '9999999999999999999...9999999' (400 "
                         "characters) is too large for a PSPLIB field (at most "
                         "9,223,372,036,854,775,807)"),
    (dict(duration="-4"), ", line 13: expected whole numbers >= 0, got '-4'"),
])
def test_psplib_damaged_fields(tmp_path, changes, expected):
    path = psplib(tmp_path, **changes)
    assert load_error(path).startswith(f"{path}{expected}")


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: v[:12] or "empty")
def test_psplib_any_number_any_value(tmp_path, value):
    text = psplib(tmp_path).read_text()
    for k, match in enumerate(re.finditer(r"\d+", text)):
        path = tmp_path / f"number{k}.sm"
        path.write_text(text[:match.start()] + value + text[match.end():])
        loads_or_says_where(path)


# -- DSLIB workbooks ----------------------------------------------------------------------
openpyxl = pytest.importorskip("openpyxl", reason="DSLIB workbooks need openpyxl (pmosim[dslib])")

BASELINE = ["ID", "Name", "WBS", "Predecessors", "Baseline Start", "Duration", "Total Cost"]
RESOURCES = ["ID", "Name", "Type", "Availability", "Cost/Use", "Cost/Unit", "Assigned To",
             "Total Cost"]
RISK = ["ID", "Name", "Description", "Optimistic", "Most Probable", "Pessimistic"]


def dslib_cells():
    return {
        "Baseline Schedule": [
            [0, "Project", "1", None, dt.datetime(2024, 1, 8, 8), "3d", 100],
            [1, "Dig", "1.1", None, dt.datetime(2024, 1, 8, 8), "2d", 60],
            [2, "Pour", "1.2", "1FS+1d", "10/01/2024", "1d", "1.234,50 €"]],
        "Resources": [[1, "Crane", "Renewable", "2 cranes", 0, 10, "1[2.00 Crane];2;", 0]],
        "Risk Analysis": [[1, "Dig", "standard - symmetric", 80, 100, 120]]}


def dslib(tmp_path, cells=None, name="plan.xlsx"):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, header in (("Baseline Schedule", BASELINE), ("Resources", RESOURCES),
                          ("Risk Analysis", RISK)):
        ws = wb.create_sheet(sheet)
        ws.append(["General"])
        ws.append(header)
        for row in (cells or dslib_cells())[sheet]:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


def test_dslib_template_is_valid(tmp_path):
    p = pmosim.load(dslib(tmp_path))
    p.validate()
    assert p.graph.nodes[2]["cost"] == 1234.5
    assert p.graph.nodes[2]["tool_start"] == dt.datetime(2024, 1, 10, 8)  # the agenda's 8:00
    assert p.resources[1].capacity == 2 and p.graph.nodes[1]["resources"] == {1: 2.0}


@pytest.mark.parametrize("sheet, row, col, value, expected", [
    ("Baseline Schedule", 1, 0, HUGE, ": sheet 'Baseline Schedule', row 4: ID "
                                      "'9999999999999999999...9999999' (400 characters) is too "
                                      "large for a whole number"),
    ("Baseline Schedule", 1, 0, "1e400", ": sheet 'Baseline Schedule', row 4: ID '1e400' is "
                                         "too large for a whole number"),
    ("Baseline Schedule", 1, 5, HUGE + "d", ": sheet 'Baseline Schedule', row 4: activity 1: "
                                            "duration '9999999999999999999...999999d' (401 "
                                            "characters) is not finite or longer than 36,525 "
                                            "working days"),
    ("Baseline Schedule", 1, 5, -2, ": sheet 'Baseline Schedule', row 4: activity 1: Duration "
                                    "-2 is negative; a duration is at least 0"),
    ("Baseline Schedule", 1, 6, "abc", ": sheet 'Baseline Schedule', row 4: activity 1: Total "
                                       "Cost 'abc' is not an amount"),
    ("Baseline Schedule", 2, 4, "31/02/2024", ": sheet 'Baseline Schedule', row 5: activity 2: "
                                              "Baseline Start '31/02/2024' is not a date (read "
                                              "as day/month/year)"),
    ("Baseline Schedule", 1, 4, dt.datetime(9999, 1, 1), ": sheet 'Baseline Schedule', row 4: "
                                                         "activity 1: Baseline Start '9999-01-01 "
                                                         "00:00:00' is outside the years "
                                                         "1900..2199 that schedules use"),
    ("Baseline Schedule", 2, 3, "1FS+" + HUGE + "d", ": sheet 'Baseline Schedule', row 5: "
                                                     "activity 2: duration "
                                                     "'9999999999999999999...999999d' (401 "
                                                     "characters) is not finite or longer than "
                                                     "36,525 working days"),
    ("Resources", 0, 3, "nan", ": sheet 'Resources', row 3, resource 1: Availability 'nan' "
                               "does not start with a number"),
    ("Resources", 0, 3, HUGE, ": sheet 'Resources', row 3, resource 1: Availability "
                              "'9999999999999999999...9999999' (400 characters) is too large "
                              "for a number"),
    ("Resources", 0, 6, "1[inf Crane]", ": sheet 'Resources', row 3, resource 1: Assigned To: "
                                        "units 'inf Crane' are not a number"),
    ("Resources", 0, 0, "x", ": sheet 'Resources', row 3: ID 'x' is not a whole number"),
    ("Risk Analysis", 0, 4, "nan", ": sheet 'Risk Analysis', row 3, activity 1: Most Probable "
                                   "'nan' is not a finite number"),
])
def test_dslib_damaged_cells(tmp_path, sheet, row, col, value, expected):
    cells = dslib_cells()
    cells[sheet][row][col] = value
    path = dslib(tmp_path, cells)
    assert load_error(path) == f"{path}{expected}"


def test_dslib_any_cell_any_value(tmp_path):
    cells = dslib_cells()
    k = 0
    for sheet, rows in cells.items():
        for r, row in enumerate(rows):
            for c in range(len(row)):
                for value in HOSTILE:
                    changed = {s: [list(x) for x in rs] for s, rs in cells.items()}
                    changed[sheet][r][c] = value
                    loads_or_says_where(dslib(tmp_path, changed, f"cell{k}.xlsx"))
                    k += 1
    assert k > 200

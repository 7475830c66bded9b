"""Read Primavera P6 XML (PMXML) exports.

A PMXML file is XML with the root element ``<APIBusinessObjects>`` (P6's own XML export;
MS Project's XML, MSPDI, has ``<Project>`` at the root and is read by
:mod:`pmosim.io.mspdi`; :func:`pmosim.io.detect_format` tells them apart by the root).
It holds the same business objects as an XER file, by element rather than by table.
The reader turns the elements of one project into the rows of the XER tables and builds
the project with the XER importer's model builder (:mod:`pmosim.io.xer`), so that a
PMXML file and its XER twin give the same :class:`~pmosim.model.Project`: the same task
ids (activity ``Id``), durations (remaining hours over the calendar's hours per day),
links, lags and lag calendar, constraints, progress and data date, calendars, resources
and demands, and the same import report (with ``format`` ``"pmxml"``). Everything the XER
module documents about the mapping holds here.

Elements read, with their XER tables:

============================  =========================================================
PMXML element                 XER table / what it gives
============================  =========================================================
``Project``                   PROJECT: ``Id`` (``proj_short_name``), ``DataDate``,
                              ``PlannedStartDate``, ``ActivityDefaultCalendarObjectId``,
                              ``RelationshipLagCalendar`` and ``OutOfSequenceScheduleType``
                              (SCHEDOPTIONS; also read from a ``ScheduleOptions`` child)
``Calendar``                  CALENDAR: ``HoursPerDay``, ``StandardWorkWeek`` (P6 writes a
                              period's finish as its last minute, ``15:59``: read as
                              16:00), ``HolidayOrExceptions``, ``BaseCalendarObjectId``;
                              global calendars and those inside ``Project``
``WBS``                       PROJWBS: ``Code``, ``Name``, ``ParentObjectId``
``Activity``                  TASK: ``Id``, ``Name``, ``Type``, ``Status``,
                              ``RemainingDuration`` and ``PlannedDuration`` (hours),
                              ``CalendarObjectId``, actual dates, the primary and
                              secondary constraints, ``LevelingPriority``, percent
                              complete (a fraction in PMXML), P6's early dates
``Relationship``              TASKPRED: ``Type`` ("Finish to Start" ...), ``Lag`` (hours)
``Resource``, ``ResourceRate``  RSRC, RSRCRATE: ``ResourceType``, ``MaxUnitsPerTime``
                              (units per hour, as ``max_qty_per_hr``), ``EffectiveDate``,
                              ``PricePerUnit`` .. ``PricePerUnit5``
``RoleRate`` (``RoleRateNew``)  ROLERATE: the roles' prices
``ResourceAssignment``        TASKRSRC: ``RemainingUnitsPerTime``, ``PlannedUnitsPerTime``,
                              units, costs, ``RateType``, ``RateSource``
``ActivityExpense``           PROJCOST: planned, actual and remaining cost
``Currency``                  CURRTYPE: the base currency (exchange rate 1)
============================  =========================================================

Every number and date is checked as it is read: a damaged field is a
:class:`~pmosim.errors.ScheduleImportError` that names the file, the element, the
activity (or other object) and the PMXML field. The XML is parsed with
:mod:`defusedxml`: a DTD or entity declaration is refused, never expanded.

Examples
--------
>>> import tempfile, pathlib
>>> xml = '''<APIBusinessObjects>
...   <Calendar><ObjectId>1</ObjectId><Name>Std</Name><HoursPerDay>8</HoursPerDay>
...     <StandardWorkWeek>''' + ''.join(
...     f"<StandardWorkHours><DayOfWeek>{d}</DayOfWeek><WorkTime><Start>08:00:00</Start>"
...     f"<Finish>15:59:00</Finish></WorkTime></StandardWorkHours>"
...     for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")) + '''
...   </StandardWorkWeek></Calendar>
...   <Project><ObjectId>9</ObjectId><Id>DEMO</Id><DataDate>2024-01-08T08:00:00</DataDate>
...     <ActivityDefaultCalendarObjectId>1</ActivityDefaultCalendarObjectId>
...     <Activity><ObjectId>10</ObjectId><Id>A</Id><Name>Dig</Name><Type>Task Dependent</Type>
...       <Status>Not Started</Status><RemainingDuration>16</RemainingDuration>
...       <CalendarObjectId>1</CalendarObjectId><ProjectObjectId>9</ProjectObjectId></Activity>
...     <Activity><ObjectId>11</ObjectId><Id>B</Id><Name>Pour</Name><Type>Task Dependent</Type>
...       <Status>Not Started</Status><RemainingDuration>8</RemainingDuration>
...       <CalendarObjectId>1</CalendarObjectId><ProjectObjectId>9</ProjectObjectId></Activity>
...     <Relationship><ObjectId>1</ObjectId>
...       <PredecessorActivityObjectId>10</PredecessorActivityObjectId>
...       <SuccessorActivityObjectId>11</SuccessorActivityObjectId><Type>Start to Start</Type>
...       <Lag>4</Lag></Relationship>
...   </Project></APIBusinessObjects>'''
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.xml"
>>> _ = path.write_text(xml)
>>> p = read_pmxml(path)
>>> p.graph.nodes["A"]["duration"], p.graph.edges["A", "B"]["type"], p.graph.edges["A", "B"]["lag"]
(Fixed(value=2.0), 'SS', 0.5)
>>> p.meta["format"], p.meta["calendars"]["1"]["week"][0]
('pmxml', [(8.0, 16.0)])
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from ..errors import ScheduleImportError
from ..model import Project
from ._common import parse_date, parse_number, parse_xml, read_bytes, show
from .xer import Row, _Builder

__all__ = ["read_pmxml"]

_FMT = "Primavera P6 XML (PMXML)"
_TYPE = {"Task Dependent": "TT_Task", "Resource Dependent": "TT_Rsrc",
         "Level of Effort": "TT_LOE", "Start Milestone": "TT_Mile",
         "Finish Milestone": "TT_FinMile", "WBS Summary": "TT_WBS"}
_STATUS = {"Not Started": "TK_NotStart", "In Progress": "TK_Active", "Completed": "TK_Complete"}
_LINK = {"Finish to Start": "PR_FS", "Start to Start": "PR_SS", "Finish to Finish": "PR_FF",
         "Start to Finish": "PR_SF"}
_CONSTRAINT = {"Start On": "CS_MSO", "Start On or Before": "CS_MSOB",
               "Start On or After": "CS_MSOA", "Finish On": "CS_MEO",
               "Finish On or Before": "CS_MEOB", "Finish On or After": "CS_MEOA",
               "As Late As Possible": "CS_ALAP", "Mandatory Start": "CS_MANDSTART",
               "Mandatory Finish": "CS_MANDFIN"}
_PRIORITY = {"Top": "PT_Top", "High": "PT_High", "Normal": "PT_Normal", "Low": "PT_Low",
             "Lowest": "PT_Lowest"}
_RESOURCE_TYPE = {"Labor": "RT_Labor", "Nonlabor": "RT_Equip", "Material": "RT_Mat"}
_DURATION_TYPE = {"Fixed Units/Time": "DT_FixedRate", "Fixed Duration and Units/Time":
                  "DT_FixedDrtn", "Fixed Units": "DT_FixedQty",
                  "Fixed Duration and Units": "DT_FixedDUR2"}
_RATE_TYPE = {"Price / Unit": "COST_PER_QTY", **{f"Price / Unit {k}": f"COST_PER_QTY{k}"
                                                 for k in range(2, 6)}}
_RATE_SOURCE = {"Resource": "ST_Rsrc", "Role": "ST_Role", "Override": "ST_Custom"}
_LAG_CALENDAR = {"Predecessor Activity Calendar": "rcal_Predecessor",
                 "Successor Activity Calendar": "rcal_Successor",
                 "Project Default Calendar": "rcal_ProjDefault",
                 "24 Hour Calendar": "rcal_24Hour"}
_WEEKDAY = {"Monday": 0, "Tuesday": 1, "Wednesday": 2, "Thursday": 3, "Friday": 4,
            "Saturday": 5, "Sunday": 6,
            # P6 6.x wrote day numbers, 1 = Sunday
            "1": 6, "2": 0, "3": 1, "4": 2, "5": 3, "6": 4, "7": 5}
#: PMXML element -> XER table it becomes; the others are named in the import report.
_READ = {"Project": "PROJECT", "Calendar": "CALENDAR", "WBS": "PROJWBS", "Activity": "TASK",
         "Relationship": "TASKPRED", "Resource": "RSRC", "ResourceRate": "RSRCRATE",
         "ResourceAssignment": "TASKRSRC", "ActivityExpense": "PROJCOST",
         "ScheduleOptions": "SCHEDOPTIONS", "RoleRate": "ROLERATE", "RoleRateNew": "ROLERATE",
         "Currency": "CURRTYPE"}
_ELEMENT = {**{table: element for element, table in _READ.items()}, "ROLERATE": "RoleRate"}


def read_pmxml(path, *, project: str | None = None) -> Project:
    """Read a Primavera P6 XML (PMXML) file into a :class:`~pmosim.model.Project`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xml`` (or ``.pmxml``) file whose root element is ``<APIBusinessObjects>``.
    project : str, optional
        ``Id`` of the project to read when the file holds several; default: the one
        with most activities (a warning names the others).

    Raises
    ------
    ScheduleImportError
        Missing, too large or malformed file, a DTD or entity declaration (refused), not
        a PMXML file, no project or activities, an object without its ``ObjectId`` or two
        with one ``ObjectId``, a field that is not a number or a date (the message names
        the file, the element, the object and the field).
    """
    from . import check_size

    check_size(path)
    root = parse_xml(read_bytes(path, _FMT), path, _FMT)
    name = _local(root.tag)
    if name != "APIBusinessObjects":
        hint = (" (that is MS Project XML, MSPDI: read it as mspdi)" if name == "Project"
                else "")
        raise ScheduleImportError(
            f"{path}: not a Primavera P6 XML (PMXML) file: the root element is <{name}>, "
            f"expected <APIBusinessObjects>{hint}")
    reader = _Reader(root, str(path))
    tables = reader.tables()
    builder = _PmxmlBuilder(tables, str(path), reader.calendars)
    g = builder.build(project)
    g.meta["format"] = "pmxml"
    report = g.meta["import_report"]
    report["format"] = "pmxml"
    report.pop("ignored_tables", None)
    report["ignored_elements"] = reader.ignored()
    report["warnings"] = [_pmxml_words(w) for w in report["warnings"]]
    if reader.baselines:
        report["warnings"].append(
            f"{reader.baselines} baseline project{'s' * (reader.baselines != 1)} "
            "(BaselineProject) ignored; the current project is read")
    return g


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _nil(el) -> bool:
    return any(_local(k) == "nil" and v in ("true", "1") for k, v in el.attrib.items())


#: Free-text fields, kept as written (an XER file keeps a name's trailing blank too).
_TEXT = {"Name", "Id", "Code", "ExpenseItem"}


def _fields(el) -> dict:
    """``{child name: text}`` of an element's leaf children (``xsi:nil`` reads as empty)."""
    out = {}
    for child in el:
        if len(child):
            continue
        name = _local(child.tag)
        if name not in out:
            text = "" if _nil(child) else (child.text or "")
            out[name] = "" if not text.strip() else text if name in _TEXT else text.strip()
    return out


class _Reader:
    """PMXML elements -> XER table rows (and calendars), every field checked."""

    def __init__(self, root, source: str):
        self.root, self.source = root, source
        self.calendars: dict = {}
        self.baselines = 0
        self.seen: Counter = Counter()

    def where(self, element: str, f: dict, label: str = "") -> str:
        oid = f.get("ObjectId") or "?"
        what = f" {label}" if label else ""
        return f"{self.source}: {element}{what} (ObjectId {oid})"

    def num(self, f, name, where, **bounds) -> str:
        """A checked number as text, or "" when the field is absent or empty."""
        text = f.get(name, "")
        if not text:
            return ""
        return repr(parse_number(text, where, name, **bounds))

    def date(self, f, name, where, *, used: bool = True) -> str:
        """A checked date as text; one the model builder reads only on demand (``used``
        False: an assignment's planned dates) keeps its value for the builder to judge,
        as in an XER file (SP10 plans an assignment until the year 4637)."""
        if not used:
            return (f.get(name) or "").replace("T", " ")
        moment = parse_date(f.get(name), where, name)
        return "" if moment is None else moment.isoformat(sep=" ")

    def oid(self, element: str, f: dict, where: str, seen: dict) -> str:
        oid = f.get("ObjectId", "")
        if not oid:
            raise ScheduleImportError(f"{where}: has no ObjectId, which identifies it; export "
                                      "the file again from P6")
        if not re.fullmatch(r"-?\d{1,19}", oid):
            raise ScheduleImportError(f"{where}: ObjectId {show(oid)} is not a whole number")
        if oid in seen:
            raise ScheduleImportError(
                f"{where}: ObjectId {oid} is also the ObjectId of {seen[oid]}; each {element} "
                "needs its own ObjectId")
        return oid

    # -- the file -------------------------------------------------------------------
    def tables(self) -> dict:
        t: dict = defaultdict(list)
        projects = []
        cal_elements = []
        for el in self.root:
            name = _local(el.tag)
            self.seen[name] += len(el) > 0
            if name == "Project":
                projects.append(el)
            elif name == "BaselineProject":
                self.baselines += 1
            elif name == "Calendar":
                cal_elements.append(el)
            elif name in ("Resource", "ResourceRate", "RoleRate", "RoleRateNew", "Currency"):
                t[name].append(el)
        if not projects:
            raise ScheduleImportError(
                f"{self.source}: the PMXML file has no <Project>; export a project from P6 "
                "(File > Export > Primavera PM - (XML))")
        per_project = defaultdict(list)
        for proj in projects:
            pf = _fields(proj)
            for el in proj:
                name = _local(el.tag)
                self.seen[name] += len(el) > 0
                if name == "Calendar":
                    cal_elements.append(el)
                elif name in ("WBS", "Activity", "Relationship", "ResourceAssignment",
                              "ActivityExpense", "ScheduleOptions"):
                    per_project[name].append((pf.get("ObjectId", ""), el))
        self.calendars = self.read_calendars(cal_elements)
        rows: dict = {}
        rows["PROJECT"], options = self.projects(projects)
        rows["SCHEDOPTIONS"] = options
        rows["PROJWBS"] = self.wbs(per_project["WBS"], projects)
        rows["TASK"] = self.activities(per_project["Activity"])
        rows["TASKPRED"] = self.relationships(per_project["Relationship"])
        rows["RSRC"] = self.resources(t["Resource"])
        rows["RSRCRATE"] = self.rates(t["ResourceRate"])
        # P6 8.x+ writes RoleRateNew beside the older RoleRate; the new one is complete
        roles = t["RoleRateNew"] or t["RoleRate"]
        rows["ROLERATE"] = self.rates(roles, "RoleRate", "role_id", "RoleObjectId")
        rows["CURRTYPE"] = [self.row(curr_id=c.get("ObjectId", ""), curr_short_name=c.get("Id", ""),
                                     base_exch_rate=c.get("ExchangeRate", ""))
                            for c in map(_fields, t["Currency"])]
        rows["TASKRSRC"] = self.assignments(per_project["ResourceAssignment"])
        rows["PROJCOST"] = self.expenses(per_project["ActivityExpense"])
        return {k: v for k, v in rows.items() if v}

    def ignored(self) -> list:
        return sorted(n for n, k in self.seen.items()
                      if k and n not in _READ and n != "BaselineProject")

    @staticmethod
    def row(**fields) -> Row:
        r = Row(fields)
        r.line = 0
        return r

    def projects(self, projects):
        rows, options, seen = [], [], {}
        for proj in projects:
            f = _fields(proj)
            where = self.where("Project", f, repr(f.get("Id") or f.get("Name") or "?"))
            oid = self.oid("Project", f, where, seen)
            seen[oid] = f"Project {f.get('Id')!r}"
            default_cal = f.get("ActivityDefaultCalendarObjectId") or next(
                (k for k, c in self.calendars.items() if c.get("default")), "")
            rows.append(self.row(
                proj_id=oid, proj_short_name=f.get("Id") or f.get("Name") or oid,
                last_recalc_date=self.date(f, "DataDate", where),
                plan_start_date=(self.date(f, "PlannedStartDate", where)
                                 or self.date(f, "StartDate", where)),
                clndr_id=default_cal, name_sep_char=f.get("WBSCodeSeparator") or "."))
            sched = next((_fields(el) for el in proj if _local(el.tag) == "ScheduleOptions"), {})
            option = self.row(proj_id=oid)
            lag = sched.get("RelationshipLagCalendar") or f.get("RelationshipLagCalendar")
            if lag:
                option["sched_calendar_on_relationship_lag"] = _LAG_CALENDAR.get(lag, lag)
            order = sched.get("OutOfSequenceScheduleType") or f.get("OutOfSequenceScheduleType")
            if order:
                option["sched_retained_logic"] = "Y" if order == "Retained Logic" else "N"
                option["sched_progress_override"] = "Y" if order == "Progress Override" else "N"
            options.append(option)
        return rows, options

    def wbs(self, elements, projects):
        """PROJWBS rows; as in XER, each project is the root node of its WBS (an element
        without a parent hangs below it, an activity without a WBS element is on it)."""
        rows, seen = [], {}
        for proj in projects:
            f = _fields(proj)
            rows.append(self.row(wbs_id=_root_wbs(f.get("ObjectId", "")),
                                 proj_id=f.get("ObjectId", ""), parent_wbs_id="",
                                 wbs_short_name=f.get("Id", ""), wbs_name=f.get("Name", ""),
                                 proj_node_flag="Y"))
        for proj_id, el in elements:
            f = _fields(el)
            where = self.where("WBS", f, repr(f.get("Code") or "?"))
            oid = self.oid("WBS", f, where, seen)
            seen[oid] = f"WBS {f.get('Code')!r}"
            proj = f.get("ProjectObjectId") or proj_id
            parent = f.get("ParentObjectId", "")
            rows.append(self.row(wbs_id=oid, proj_id=proj,
                                 parent_wbs_id=(_root_wbs(proj) if parent in ("", proj)
                                                else parent),
                                 wbs_short_name=f.get("Code", ""), wbs_name=f.get("Name", ""),
                                 proj_node_flag="N"))
        return rows

    def activities(self, elements):
        rows, seen = [], {}
        for proj_id, el in elements:
            f = _fields(el)
            where = self.where("Activity", f, repr(f.get("Id") or "?"))
            oid = self.oid("Activity", f, where, seen)
            seen[oid] = f"Activity {f.get('Id')!r}"
            pct = self.num(f, "PhysicalPercentComplete", where, low=0.0)
            proj = f.get("ProjectObjectId") or proj_id
            row = self.row(
                task_id=oid, proj_id=proj,
                wbs_id=f.get("WBSObjectId") or _root_wbs(proj),
                clndr_id=f.get("CalendarObjectId", ""),
                task_code=f.get("Id", ""), task_name=f.get("Name", ""),
                task_type=_TYPE.get(f.get("Type"), f.get("Type") or "TT_Task"),
                duration_type=_DURATION_TYPE.get(f.get("DurationType"),
                                                 f.get("DurationType", "")),
                status_code=_STATUS.get(f.get("Status"), "TK_NotStart"),
                remain_drtn_hr_cnt=self.num(f, "RemainingDuration", where, low=0.0),
                target_drtn_hr_cnt=self.num(f, "PlannedDuration", where, low=0.0),
                total_float_hr_cnt=self.num(f, "TotalFloat", where),
                phys_complete_pct=repr(float(pct) * 100) if pct else "",
                act_start_date=self.date(f, "ActualStartDate", where),
                act_end_date=self.date(f, "ActualFinishDate", where),
                expect_end_date=self.date(f, "ExpectedFinishDate", where),
                early_start_date=self.date(f, "EarlyStartDate", where),
                early_end_date=self.date(f, "EarlyFinishDate", where),
                restart_date=self.date(f, "RemainingEarlyStartDate", where, used=False),
                reend_date=self.date(f, "RemainingEarlyFinishDate", where, used=False),
                target_start_date=self.date(f, "PlannedStartDate", where, used=False),
                target_end_date=self.date(f, "PlannedFinishDate", where, used=False),
                priority_type=_PRIORITY.get(f.get("LevelingPriority"),
                                            f.get("LevelingPriority", "")))
            for key, date_key, kind, when in (
                    ("cstr_type", "cstr_date", "PrimaryConstraintType", "PrimaryConstraintDate"),
                    ("cstr_type2", "cstr_date2", "SecondaryConstraintType",
                     "SecondaryConstraintDate")):
                code = f.get(kind, "")
                if code and code != "None":
                    row[key] = _CONSTRAINT.get(code, code)
                    row[date_key] = self.date(f, when, where)
            rows.append(row)
        return rows

    def relationships(self, elements):
        rows, seen = [], {}
        for proj_id, el in elements:
            f = _fields(el)
            where = self.where("Relationship", f, f"{f.get('PredecessorActivityObjectId')} -> "
                                                  f"{f.get('SuccessorActivityObjectId')}")
            oid = self.oid("Relationship", f, where, seen) if f.get("ObjectId") else ""
            if oid:
                seen[oid] = "another Relationship"
            kind = f.get("Type") or "Finish to Start"
            if kind not in _LINK:
                raise ScheduleImportError(
                    f"{where}: unknown Type {show(kind)}; expected 'Finish to Start', "
                    "'Start to Start', 'Finish to Finish' or 'Start to Finish'")
            rows.append(self.row(
                task_pred_id=oid or str(len(rows) + 1),
                task_id=f.get("SuccessorActivityObjectId", ""),
                pred_task_id=f.get("PredecessorActivityObjectId", ""),
                proj_id=f.get("SuccessorProjectObjectId") or proj_id,
                pred_type=_LINK[kind], lag_hr_cnt=self.num(f, "Lag", where)))
        return rows

    def resources(self, elements):
        rows, seen = [], {}
        for el in elements:
            f = _fields(el)
            where = self.where("Resource", f, repr(f.get("Id") or "?"))
            oid = self.oid("Resource", f, where, seen)
            seen[oid] = f"Resource {f.get('Id')!r}"
            kind = f.get("ResourceType") or "Labor"
            rows.append(self.row(
                rsrc_id=oid, rsrc_short_name=f.get("Id", ""), rsrc_name=f.get("Name", ""),
                rsrc_type=_RESOURCE_TYPE.get(kind, kind), clndr_id=f.get("CalendarObjectId", ""),
                def_qty_per_hr=self.num(f, "DefaultUnitsPerTime", where, low=0.0),
                ot_factor=self.num(f, "OvertimeFactor", where, low=0.0)))
        return rows

    def rates(self, elements, element="ResourceRate", key="rsrc_id", owner="ResourceObjectId"):
        """RSRCRATE rows of ResourceRate elements (ROLERATE rows of RoleRate elements)."""
        rows, seen = [], {}
        for el in elements:
            f = _fields(el)
            where = self.where(element, f, f"of {owner[:-8].lower()} {f.get(owner)}")
            oid = self.oid(element, f, where, seen)
            seen[oid] = f"another {element}"
            row = self.row(**{f"{key[:-3]}_rate_id": oid, key: f.get(owner, ""),
                              "max_qty_per_hr": self.num(f, "MaxUnitsPerTime", where, low=0.0),
                              "start_date": self.date(f, "EffectiveDate", where)})
            for suffix in ("", "2", "3", "4", "5"):
                row[f"cost_per_qty{suffix}"] = self.num(f, f"PricePerUnit{suffix}", where)
            rows.append(row)
        return rows

    def assignments(self, elements):
        rows, seen = [], {}
        for proj_id, el in elements:
            f = _fields(el)
            where = self.where("ResourceAssignment", f,
                               f"of resource {f.get('ResourceObjectId') or '-'} to activity "
                               f"{f.get('ActivityObjectId')}")
            oid = self.oid("ResourceAssignment", f, where, seen)
            seen[oid] = "another ResourceAssignment"
            rows.append(self.row(
                taskrsrc_id=oid, task_id=f.get("ActivityObjectId", ""),
                proj_id=f.get("ProjectObjectId") or proj_id,
                rsrc_id=f.get("ResourceObjectId", ""), role_id=f.get("RoleObjectId", ""),
                rsrc_type=_RESOURCE_TYPE.get(f.get("ResourceType"), ""),
                cost_qty_link_flag={"1": "Y", "0": "N"}.get(f.get("IsCostUnitsLinked"), ""),
                cost_per_qty_source_type=_RATE_SOURCE.get(f.get("RateSource"), ""),
                ot_factor=self.num(f, "OvertimeFactor", where, low=0.0),
                act_start_date=self.date(f, "ActualStartDate", where),
                restart_date=self.date(f, "RemainingStartDate", where, used=False),
                reend_date=self.date(f, "RemainingFinishDate", where, used=False),
                target_start_date=self.date(f, "PlannedStartDate", where, used=False),
                target_end_date=self.date(f, "PlannedFinishDate", where, used=False),
                remain_qty_per_hr=self.num(f, "RemainingUnitsPerTime", where, low=0.0),
                target_qty_per_hr=self.num(f, "PlannedUnitsPerTime", where, low=0.0),
                remain_qty=self.num(f, "RemainingUnits", where),
                target_qty=self.num(f, "PlannedUnits", where),
                act_reg_qty=self.num(f, "ActualRegularUnits", where),
                act_ot_qty=self.num(f, "ActualOvertimeUnits", where),
                cost_per_qty=self.num(f, "CostPerQuantity", where),
                target_cost=self.num(f, "PlannedCost", where),
                act_reg_cost=self.num(f, "ActualRegularCost", where),
                act_ot_cost=self.num(f, "ActualOvertimeCost", where),
                remain_cost=self.num(f, "RemainingCost", where),
                rate_type=_RATE_TYPE.get(f.get("RateType"), f.get("RateType", ""))))
        return rows

    def expenses(self, elements):
        rows, seen = [], {}
        for proj_id, el in elements:
            f = _fields(el)
            where = self.where("ActivityExpense", f, repr(f.get("ExpenseItem") or "?"))
            oid = self.oid("ActivityExpense", f, where, seen)
            seen[oid] = "another ActivityExpense"
            rows.append(self.row(
                cost_item_id=oid, task_id=f.get("ActivityObjectId", ""),
                proj_id=f.get("ProjectObjectId") or proj_id, cost_name=f.get("ExpenseItem", ""),
                target_cost=self.num(f, "PlannedCost", where),
                act_cost=self.num(f, "ActualCost", where),
                remain_cost=self.num(f, "RemainingCost", where),
                target_qty=self.num(f, "PlannedUnits", where),
                cost_per_qty=self.num(f, "PricePerUnit", where)))
        return rows

    # -- calendars --------------------------------------------------------------------
    def read_calendars(self, elements) -> dict:
        """Calendar dicts as the XER reader makes them, by ObjectId; base calendars give
        a calendar without a work week its week, and their exceptions under its own."""
        raw, seen = {}, {}
        for el in elements:
            f = _fields(el)
            where = self.where("Calendar", f, repr(f.get("Name") or "?"))
            oid = self.oid("Calendar", f, where, seen)
            seen[oid] = f"Calendar {f.get('Name')!r}"
            week = None
            exceptions = {}
            for child in el:
                name = _local(child.tag)
                if name == "StandardWorkWeek":
                    week = {}
                    for hours in child:
                        if _local(hours.tag) != "StandardWorkHours":
                            continue
                        day = _fields(hours).get("DayOfWeek", "")
                        if day not in _WEEKDAY:
                            raise ScheduleImportError(
                                f"{where}: DayOfWeek {show(day)} is not a day of the week")
                        week[_WEEKDAY[day]] = self.work_times(hours, where)
                elif name == "HolidayOrExceptions":
                    for exc in child:
                        if _local(exc.tag) != "HolidayOrException":
                            continue
                        moment = parse_date(_fields(exc).get("Date"), where,
                                            "HolidayOrException Date")
                        if moment is not None:
                            exceptions[moment.date()] = self.work_times(exc, where)
            hpd = self.num(f, "HoursPerDay", where, low=0.0, high=24.0)
            raw[oid] = {"name": f.get("Name") or oid, "hpd": float(hpd) if hpd else None,
                        "week": week, "exceptions": exceptions,
                        "base": f.get("BaseCalendarObjectId", ""),
                        "default": f.get("IsDefault") == "1"}
        out = {}
        for oid, cal in raw.items():
            week, exceptions, chain, cur = cal["week"], {}, set(), oid
            while cur in raw and cur not in chain:
                chain.add(cur)
                week = week if week is not None else raw[cur]["week"]
                for day, times in raw[cur]["exceptions"].items():
                    exceptions.setdefault(day, times)
                cur = raw[cur]["base"]
            if week is None:
                # P6's default work week when a calendar has none of its own
                week = {d: [(8.0, 16.0)] for d in range(5)}
            week = {d: week.get(d, [(8.0, 16.0)] if d < 5 else []) for d in range(7)}
            hpd = cal["hpd"]
            if not hpd:
                days = [sum(b - a for a, b in iv) for iv in week.values() if iv]
                hpd = sum(days) / len(days) if days else 8.0
            out[oid] = {"name": cal["name"], "hours_per_day": hpd, "week": week,
                        "exceptions": exceptions, "default": cal["default"]}
        return out

    def work_times(self, el, where) -> list:
        """Working intervals (hours from midnight) of a StandardWorkHours or exception."""
        out = []
        for wt in el:
            if _local(wt.tag) != "WorkTime" or _nil(wt):
                continue
            f = _fields(wt)
            if not f.get("Start") or not f.get("Finish"):
                continue
            start = _clock(f["Start"], where, "WorkTime Start")
            finish = _clock(f["Finish"], where, "WorkTime Finish")
            # P6 writes a period's end as its last minute (16:00 as 15:59; 24:00 as 23:59)
            minutes = round(finish * 60)
            if minutes % 30 == 29:
                finish = (minutes + 1) / 60
            if finish <= start:
                finish = 24.0 if finish == 0 else finish
            if finish <= start:
                raise ScheduleImportError(
                    f"{where}: WorkTime {f['Start']}-{f['Finish']} ends before it starts")
            out.append((start, finish))
        return sorted(out)


def _root_wbs(project_id: str) -> str:
    """The PROJWBS key of a project's root node (P6's project node of XER files)."""
    return f"project {project_id}"


_CLOCK = re.compile(r"^(\d\d?):(\d\d)(?::(\d\d)(?:\.\d+)?)?$")


def _clock(text: str, where: str, field: str) -> float:
    m = _CLOCK.match(text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) >= 60:
        raise ScheduleImportError(f"{where}: {field} {show(text)} is not a time of day "
                                  "(expected hh:mm:ss)")
    return int(m.group(1)) + int(m.group(2)) / 60 + int(m.group(3) or 0) / 3600


class _PmxmlBuilder(_Builder):
    """The XER model builder on rows made from PMXML elements, with calendars read from
    their XML and messages that name PMXML elements."""

    def __init__(self, tables, source, calendars):
        super().__init__(tables, source)
        self._calendars = calendars

    def calendars(self) -> dict:
        return {k: {key: v for key, v in c.items() if key != "default"}
                for k, c in self._calendars.items()}

    def at(self, table: str, row, record: str = "") -> str:
        return f"{self.source}: {_ELEMENT.get(table, table)}{' ' + record if record else ''}"


#: XER wording of the model builder's warnings -> PMXML wording.
_WORDS = [
    (re.compile(r"TASKPRED line \d+: "), "Relationship: "),
    (re.compile(r"TASKPRED links"), "Relationship elements"),
    (re.compile(r"TASKRSRC rows"), "ResourceAssignment elements"),
    (re.compile(r"task_code is missing or not unique; task ids are P6 task_id numbers"),
     "activity Id is missing or not unique; task ids are the activities' ObjectId numbers"),
    (re.compile(r"unknown priority_type read as PT_Normal"),
     "unknown LevelingPriority read as Normal"),
    (re.compile(r"is not in CALENDAR"), "is not among the file's Calendar elements"),
    (re.compile(r"in RSRCRATE"), "in ResourceRate"),
    (re.compile(r"unknown task_type"), "unknown activity Type"),
]


def _pmxml_words(text: str) -> str:
    for pattern, words in _WORDS:
        text = pattern.sub(words, text)
    return text

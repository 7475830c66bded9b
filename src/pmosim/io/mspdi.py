"""Read Microsoft Project XML (MSPDI) files.

The XML is parsed with :mod:`defusedxml`: a file that declares a DTD or entities
(billion laughs, external entities) is refused with a :class:`ScheduleImportError`
before anything is expanded or fetched.

Mapping onto pmosim's model:

- Leaf tasks become tasks with id ``UID`` (int). Summary tasks (``Summary`` = 1 or
  followed by a deeper ``OutlineLevel``) are WBS groups, not tasks: their leaves carry
  ``wbs`` (``WBS`` or ``OutlineNumber``) and ``summary`` (the summary names, outermost
  first). A link to or from a summary goes through two zero-duration connector tasks
  (``kind="connector"``): ``"S<uid>:start"`` precedes every leaf below it and
  ``"S<uid>:finish"`` follows every leaf below it. The project summary task (UID 0 or
  outline level 0), null and inactive tasks are skipped, with a warning.
- Time unit: working days of ``MinutesPerDay``; ``duration`` is the remaining
  duration (``RemainingDuration`` for started tasks, 0 for finished ones). Lags:
  ``LinkLag`` is in tenths of a minute of working time (4,800 = one 8-hour day);
  elapsed lag formats keep ``lag_elapsed_hours`` on the edge as well; percent lags
  become that share of the predecessor's duration (with a warning). Elapsed task
  durations keep ``elapsed_hours`` and become 5/7 of their days in working days.
- ``Type``: 0 = FF, 1 = FS, 2 = SF, 3 = SS.
- Node attributes as for XER: ``name``, ``wbs``, ``kind`` (``"task"``,
  ``"finish milestone"`` for zero-duration tasks, ``"connector"``), ``status``,
  ``calendar``, ``actual_start``/``actual_finish``, ``resume``, ``constraint``
  (``ConstraintType`` 1..7 -> ``ALAP MSO MFO SNET SNLT FNET FNLT``), ``manual``,
  ``cost``/``fixed_cost``/``actual_cost``/``remaining_cost`` (MSPDI stores currency in
  hundredths), ``priority`` (``Priority``, 0..1000, 500 by default; higher levels
  first), MS Project's ``tool_start``/``tool_finish`` (``Start``/``Finish``) and the
  baseline (``Baseline`` number 0) as ``baseline_start``/``baseline_finish``/
  ``baseline_duration`` when the file has one.
- Costs: a leaf task's ``FixedCost`` and its assignments' costs (or, where the file
  has none, rate x work and cost per use) become ``cost_fixed`` and ``cost_rate``, so
  that the planned cost is the file's task ``Cost`` (actual + remaining); see
  :func:`_read_costs` and :mod:`pmosim.io.costs`. ``meta["currency"]`` is
  ``CurrencyCode``; the import report's ``costs`` section has the totals.
- Resources for levelling: work resources (``Type`` 1) with capacity ``MaxUnits``
  (1 = 100 %) or, when given, their ``AvailabilityPeriods`` as capacity changes in
  working days from the project start; an assignment's ``Units`` is its task's demand
  (``resources={UID: units}``). Material (Type 0) and cost (Type 2) resources are kept
  in ``meta["resources_not_levelled"]``, not levelled; assignments to summary tasks are
  not levelled either. The import report counts both; see
  :func:`pmosim.io._common.add_resources` for demands above the capacity.
- Split tasks (work interrupted, in parts): the timephased work of their assignments
  gives the split time, which is added to the duration (``split_days``, ``splits``), so
  they start and finish as in MS Project; see :mod:`pmosim.io._splits`.
- ``meta``: ``data_date`` (the project ``StartDate``: time 0), ``status_date``,
  ``calendars`` (working weeks, exceptions and base calendars resolved),
  ``axis_calendar`` (the project calendar), ``import_report``.

Examples
--------
>>> import tempfile, pathlib
>>> xml = '''<Project xmlns="http://schemas.microsoft.com/project">
...   <StartDate>2024-01-08T08:00:00</StartDate><MinutesPerDay>480</MinutesPerDay>
...   <Tasks>
...     <Task><UID>1</UID><Name>Dig</Name><Duration>PT16H0M0S</Duration></Task>
...     <Task><UID>2</UID><Name>Pour</Name><Duration>PT8H0M0S</Duration>
...       <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>3</Type>
...         <LinkLag>2400</LinkLag><LagFormat>7</LagFormat></PredecessorLink></Task>
...   </Tasks></Project>'''
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.xml"
>>> _ = path.write_text(xml)
>>> p = read_mspdi(path)
>>> p.graph.nodes[1]["duration"], p.graph.edges[1, 2]["type"], p.graph.edges[1, 2]["lag"]
(Fixed(value=2.0), 'SS', 0.5)
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter
from ..distributions import Fixed
from ..errors import ScheduleImportError
from ..model import Project
from ._common import (MAX_DAYS, ImportedResource, add_connector, add_resources, axis_days,
                      capacity_steps, engine_hints, import_report, model_errors, parse_date,
                      parse_int, parse_number, parse_xml, read_bytes, show, work_calendar)
from ._splits import keep_splits
from .costs import cost_summary, set_task_cost

__all__ = ["read_mspdi"]

_LINK = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
_CONSTRAINT = {1: "ALAP", 2: "MSO", 3: "MFO", 4: "SNET", 5: "SNLT", 6: "FNET", 7: "FNLT"}
#: MSPDI duration formats counted in elapsed (wall-clock) time.
_ELAPSED_FORMATS = {4, 6, 8, 10, 12, 36, 38, 40, 42, 44}
_PERCENT_FORMATS = {19, 20, 51, 52}
_MSP_WEEKDAY = {1: 6, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}
_DURATION = re.compile(r"^(-)?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)D)?"
                       r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def read_mspdi(path) -> Project:
    """Read an MS Project XML (MSPDI) file into a :class:`~pmosim.model.Project`.

    Raises
    ------
    ScheduleImportError
        Missing file, malformed XML, a DTD or entity declaration (refused, never
        expanded), not an MSPDI ``<Project>``, a link to an unknown task.
    """
    root = parse_xml(read_bytes(path, "MS Project XML"), path, "MS Project")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if root.tag.split("}")[-1] != "Project":
        raise ScheduleImportError(
            f"{path}: not an MS Project XML (MSPDI) file: the root element is "
            f"<{root.tag.split('}')[-1]}>, expected <Project>")
    return _Reader(root, ns, str(path)).build()


def _hours(text: str | None, where: str, field: str, minutes_per_day: float) -> float:
    """Working hours of an MSPDI duration such as ``PT16H0M0S``; ``where``: file and task."""
    if text is None or not text.strip():
        return 0.0
    m = _DURATION.match(text.strip())
    if not m:
        raise ScheduleImportError(f"{where}: {field} {show(text)} is not a duration "
                                  "(expected one like PT8H0M0S)")
    sign, years, months, days, h, mi, s = m.groups()
    if years or months:
        raise ScheduleImportError(f"{where}: {field} {show(text)} is in years/months, "
                                  "which is not supported")
    if sign:
        raise ScheduleImportError(f"{where}: {field} {show(text)} is negative; a duration "
                                  "is at least 0")
    # the pattern admits only digits and a point: float() cannot fail, only overflow
    hours = (float(days or 0) * minutes_per_day / 60 + float(h or 0) + float(mi or 0) / 60
             + float(s or 0) / 3600)
    if not math.isfinite(hours) or hours * 60 / minutes_per_day > MAX_DAYS:
        raise ScheduleImportError(f"{where}: {field} {show(text)} is longer than "
                                  f"{MAX_DAYS:,} working days")
    return hours


_CLOCK = re.compile(r"^(\d\d?):(\d\d)(?::(\d\d(?:\.\d+)?))?$")


def _clock(text: str, where: str, field: str) -> float:
    """Hours since midnight of a time of day ``08:00:00``; ``24:00:00`` is midnight at the end."""
    m = _CLOCK.match(text.strip())
    hours = (int(m.group(1)) + int(m.group(2)) / 60 + float(m.group(3) or 0) / 3600
             if m else math.nan)
    if not 0 <= hours <= 24 or (m and int(m.group(2)) >= 60):
        raise ScheduleImportError(f"{where}: {field} {show(text)} is not a time of day "
                                  "(expected hh:mm:ss)")
    return hours


class _Reader:
    def __init__(self, root, ns, source):
        self.root, self.source = root, source
        self.q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
        self.warnings: list[str] = []

    def text(self, el, tag, default=None):
        found = el.find(self.q(tag))
        return found.text if found is not None and found.text is not None else default

    def where(self, record: str) -> str:
        return f"{self.source}: {record}"

    def int(self, el, tag, default, record):
        """Element ``tag`` of ``el`` as a whole number; ``default`` when absent or blank."""
        value = self.text(el, tag)
        if value is None or not value.strip():
            return default
        return parse_int(value, self.where(record), tag)

    def num(self, el, tag, default, record, **bounds):
        """Element ``tag`` of ``el`` as a finite number; ``default`` when absent or blank."""
        value = self.text(el, tag)
        if value is None or not value.strip():
            return default
        return parse_number(value, self.where(record), tag, **bounds)

    def date(self, el, tag, record):
        return parse_date(self.text(el, tag), self.where(record), tag)

    # -- calendars ------------------------------------------------------------
    def calendars(self, minutes_per_day):
        raw = {}
        for cal in self.root.iter(self.q("Calendar")):
            uid = self.text(cal, "UID")
            record = f"calendar {uid}"
            week: dict[int, list] = {}
            exceptions: dict[_dt.date, list] = {}
            for wd in cal.iter(self.q("WeekDay")):
                day_type = self.int(wd, "DayType", -1, record)
                working = self.text(wd, "DayWorking") == "1"
                times = self._times(wd, record) if working else []
                if day_type in _MSP_WEEKDAY:
                    week[_MSP_WEEKDAY[day_type]] = times
                elif day_type == 0:  # legacy exception: a TimePeriod range
                    for day in self._period(wd, record):
                        exceptions[day] = times
            for exc in cal.iter(self.q("Exception")):
                working = self.text(exc, "DayWorking") == "1"
                times = self._times(exc, record) if working else []
                if self.int(exc, "Type", 1, record) not in (1,) \
                        or self.int(exc, "Occurrences", 1, record) > 1 \
                        and self.text(exc, "Period") not in (None, "1"):
                    self.warnings.append(
                        f"calendar {uid}: recurring exception {self.text(exc, 'Name', '')!r} "
                        "read as its date range, not its recurrence pattern")
                for day in self._period(exc, record):
                    exceptions[day] = times
            if cal.find(self.q("WorkWeeks")) is not None:
                self.warnings.append(f"calendar {uid}: alternative work weeks (WorkWeeks) "
                                     "ignored; the default week is used")
            raw[uid] = {"name": self.text(cal, "Name", uid), "week": week,
                        "exceptions": exceptions, "base": self.text(cal, "BaseCalendarUID")}
        out = {}
        for uid in raw:
            week, exceptions, seen, cur = {}, {}, set(), uid
            while cur in raw and cur not in seen:
                seen.add(cur)
                for d, t in raw[cur]["week"].items():
                    week.setdefault(d, t)
                for d, t in raw[cur]["exceptions"].items():
                    exceptions.setdefault(d, t)
                cur = raw[cur]["base"]
            out[uid] = {"name": raw[uid]["name"], "hours_per_day": minutes_per_day / 60,
                        "week": {d: week.get(d, []) for d in range(7)}, "exceptions": exceptions}
        return out

    def _times(self, el, record):
        out = []
        for wt in el.iter(self.q("WorkingTime")):
            a, b = self.text(wt, "FromTime"), self.text(wt, "ToTime")
            if a is None or b is None:
                continue
            where = self.where(record)
            start, end = _clock(a, where, "FromTime"), _clock(b, where, "ToTime")
            out.append((start, 24.0 if end <= start else end))
        return sorted(out)

    def _period(self, el, record):
        tp = el.find(self.q("TimePeriod"))
        if tp is None:
            return []
        a, b = self.date(tp, "FromDate", record), self.date(tp, "ToDate", record)
        if a is None or b is None:
            return []
        if (b - a).days > 3660:
            self.warnings.append(f"calendar exception {a.date()}..{b.date()} longer than "
                                 "10 years ignored")
            return []
        day, out = a.date(), []
        while day <= b.date():
            out.append(day)
            day += _dt.timedelta(days=1)
        return out

    # -- project ----------------------------------------------------------------
    def build(self) -> Project:
        root, q, source = self.root, self.q, self.source
        minutes_per_day = self.num(root, "MinutesPerDay", 480.0, "project", low=0.0,
                                   high=1440.0) or 480.0
        hpd = minutes_per_day / 60
        start = self.date(root, "StartDate", "project")
        calendars = self.calendars(minutes_per_day)
        project_cal = self.text(root, "CalendarUID")
        if project_cal not in calendars:
            if calendars:
                self.warnings.append(f"project calendar {project_cal} not found; used "
                                     f"calendar {next(iter(calendars))}")
                project_cal = next(iter(calendars))
            else:
                project_cal = "standard"
                calendars[project_cal] = {
                    "name": "Standard", "hours_per_day": hpd, "exceptions": {},
                    "week": {d: ([(8.0, 12.0), (13.0, 17.0)] if d < 5 else []) for d in range(7)}}
                self.warnings.append("the file has no calendars; assumed Monday-Friday "
                                     "08:00-12:00, 13:00-17:00")
        if self.text(root, "ScheduleFromStart", "1") == "0":
            self.warnings.append("the project is scheduled from its finish date in MS Project; "
                                 "pmosim schedules it forward from its start")
        tasks_el = root.find(q("Tasks"))
        rows = list(tasks_el.findall(q("Task"))) if tasks_el is not None else []
        if not rows:
            raise ScheduleImportError(f"{source}: the MSPDI file has no <Tasks>")

        # outline structure: summary = Summary flag or followed by a deeper level
        entries = []
        skipped = Counter()
        seen = {}
        for k, el in enumerate(rows, start=1):
            record = f"<Task> number {k} (Name {self.text(el, 'Name', '')!r})"
            uid = self.int(el, "UID", None, record)
            if uid is None:
                raise ScheduleImportError(f"{self.where(record)}: has no <UID>")
            if uid in seen:
                raise ScheduleImportError(
                    f"{self.where(record)}: UID {uid} is also the UID of <Task> number "
                    f"{seen[uid]}; each task needs its own UID")
            seen[uid] = k
            if self.text(el, "IsNull") == "1":
                skipped["null"] += 1
                continue
            entries.append((uid, self.int(el, "OutlineLevel", 1, f"task {uid}"), el))
        entries.sort(key=lambda e: self.int(e[2], "ID", e[0], f"task {e[0]}"))
        if start is None:
            starts = [self.date(e[2], "Start", f"task {e[0]}") for e in entries]
            start = min((s for s in starts if s), default=None)
            if start is None:
                raise ScheduleImportError(f"{source}: no project <StartDate> and no task dates")
            self.warnings.append(f"no project StartDate; used the earliest task start {start}")

        summary_of: dict[int, list[int]] = {}  # summary uid -> leaf uids below it
        parents: dict[int, list[int]] = {}      # uid -> enclosing summary uids, outermost first
        stack: list[tuple[int, int]] = []       # (level, uid) of open summaries
        is_summary = {}
        for k, (uid, level, el) in enumerate(entries):
            nxt = entries[k + 1][1] if k + 1 < len(entries) else -1
            is_summary[uid] = self.text(el, "Summary") == "1" or nxt > level
            while stack and stack[-1][0] >= level:
                stack.pop()
            parents[uid] = [u for _, u in stack]
            if is_summary[uid] and level > 0 and uid != 0:
                stack.append((level, uid))
                summary_of[uid] = []
        names = {uid: self.text(el, "Name", str(uid)) for uid, _, el in entries}

        g = Project(self.text(root, "Title") or self.text(root, "Name") or "project",
                    time_unit="days")
        kinds = Counter()
        inactive = set()
        manual = 0
        for uid, level, el in entries:
            if level == 0 or uid == 0:
                skipped["project summary"] += 1
                inactive.add(uid)
                continue
            if self.text(el, "Active", "1") == "0":
                skipped["inactive"] += 1
                inactive.add(uid)
                continue
            if is_summary[uid]:
                continue
            for s in parents[uid]:
                summary_of.setdefault(s, []).append(uid)
            self._add_task(g, uid, el, calendars, project_cal, hpd, minutes_per_day, parents, names)
            kinds[g.graph.nodes[uid]["kind"]] += 1
            manual += g.graph.nodes[uid]["manual"]

        self._resource_calendars(g, calendars)
        keep_splits(self, g, calendars, minutes_per_day, start)
        links = []
        connectors = {}

        def endpoint(uid, side):
            """Task id standing for ``uid``'s start or finish in a link."""
            if uid in g.graph:
                return uid
            key = (uid, side)
            if key not in connectors:
                node = f"S{uid}:{side}"
                g.add_task(node, Fixed(0.0), name=f"{side} of {names.get(uid, uid)}",
                           kind="connector", status="not started", calendar=project_cal,
                           actual_start=None, actual_finish=None, constraint=None)
                for leaf in summary_of.get(uid, []):
                    if side == "start":
                        g.add_link(node, leaf, "FS", 0.0)
                    else:
                        g.add_link(leaf, node, "FS", 0.0)
                connectors[key] = node
            return connectors[key]

        external = 0
        for uid, _, el in entries:
            if uid in inactive:
                continue
            for link in el.findall(q("PredecessorLink")):
                record = f"task {uid}: link from {self.text(link, 'PredecessorUID')}"
                pred = self.int(link, "PredecessorUID", None, record)
                if self.text(link, "CrossProject") == "1" or pred is None:
                    external += 1
                    continue
                if pred == uid:
                    self.warnings.append(f"link {pred} -> {uid} ignored: task {uid} "
                                         f"({names.get(uid)!r}) is its own predecessor "
                                         "(a self-link)")
                    continue
                if pred in inactive or pred not in is_summary:
                    self.warnings.append(f"link {pred} -> {uid} ignored: task {pred} is "
                                         "missing, null, inactive or the project summary")
                    continue
                code = self.int(link, "Type", 1, record)
                if code not in _LINK:
                    raise ScheduleImportError(
                        f"{source}: task {uid}: link from {pred} has unknown Type {code}; "
                        "expected 0 (FF), 1 (FS), 2 (SF) or 3 (SS)")
                kind = _LINK[code]
                # LinkLag is in tenths of a minute; a century is the most a lag may be
                bound = MAX_DAYS * 1440 * 10
                lag_min = self.num(link, "LinkLag", 0.0, record, low=-bound, high=bound) / 10
                fmt = self.int(link, "LagFormat", 7, record)
                edge = {}
                if fmt in _PERCENT_FORMATS:
                    pdur = g.graph.nodes[pred]["original_duration"] if pred in g.graph else 0.0
                    lag = lag_min / 100 * pdur  # LinkLag holds tenths of a percent
                    self.warnings.append(f"link {pred} -> {uid}: percent lag read as "
                                         f"{lag:g} days of the predecessor's duration")
                elif fmt in _ELAPSED_FORMATS:
                    edge["lag_elapsed_hours"] = lag_min / 60
                    lag = lag_min / 60 / 24 * 5 / 7  # elapsed days -> working days
                    self.warnings.append(f"link {pred} -> {uid}: elapsed lag of "
                                         f"{lag_min / 60:g} h approximated as {lag:g} working days")
                else:
                    lag = lag_min / minutes_per_day
                src = endpoint(pred, "finish" if kind in ("FS", "FF") else "start")
                dst = endpoint(uid, "start" if kind in ("FS", "SS") else "finish")
                if is_summary.get(pred) and kind in ("SS", "SF"):
                    self.warnings.append(f"link {pred} -> {uid} {kind}: from summary task "
                                         f"{pred}, approximated by the summary's earliest "
                                         "possible start")
                inside = src in summary_of.get(uid, []) or dst in summary_of.get(pred, [])
                if src == dst or (src in g.graph and dst in g.graph and inside):
                    self.warnings.append(f"link {pred} -> {uid} ignored: it links a summary "
                                         "task to a task inside it")
                    continue
                links.append((kind, lag))
                with model_errors(self.where(record)):
                    if g.graph.has_edge(src, dst):
                        add_connector(g, src, dst, kind, lag, lag_calendar=project_cal, **edge)
                        continue
                    g.add_link(src, dst, kind, lag)
                g.graph.edges[src, dst].update(lag_calendar=project_cal, **edge)
        if external:
            self.warnings.append(f"{external} links to other projects ignored")
        never = sorted(v for v, d in g.graph.nodes(data=True) if d.get("priority") == 1000)
        if never:
            self.warnings.append(f"tasks {never[:10]}{' ...' if len(never) > 10 else ''} have "
                                 "priority 1000, which MS Project never delays when levelling; "
                                 "pmosim levels them first, like any highest priority")
        if manual:
            self.warnings.append(f"{manual} manually scheduled tasks imported as automatically "
                                 "scheduled (their stored dates may not follow their links)")
        for what, n in skipped.items():
            self.warnings.append(f"{n} {what} task{'s' if n > 1 else ''} skipped")
        n_summary = sum(is_summary.values()) - skipped["project summary"]
        if n_summary:
            self.warnings.append(f"{n_summary} summary tasks kept as WBS groups, not tasks")

        if not any(d["kind"] != "connector" for _, d in g.graph.nodes(data=True)):
            raise ScheduleImportError(
                f"{source}: the MSPDI file has no tasks to schedule (only "
                f"{len(entries)} summary, null or inactive tasks)")
        status_date = self.date(root, "StatusDate", "project")
        g.meta.update(source=source, format="mspdi", data_date=start, status_date=status_date,
                      calendars=calendars, axis_calendar=project_cal,
                      project_calendar=project_cal, in_progress_start="actual",
                      constraint_beats_start=True,
                      minutes_per_day=minutes_per_day)
        g.calendar = work_calendar(calendars[project_cal])
        # time 0 is StartDate; a start on a day off begins work on the next working day
        g.start = g.calendar.next_workday(start.date())
        engine_hints(g)
        resources = self._resources(g, is_summary, inactive)
        costs = _read_costs(self, g, entries, is_summary, inactive)
        if costs["currency"] and costs["tasks"]:
            g.meta.setdefault("currency", costs["currency"])
        statuses = Counter(d["status"] for _, d in g.graph.nodes(data=True)
                           if d["kind"] != "connector")
        g.meta["import_report"] = import_report(
            "mspdi", source, g, calendars=len(calendars), warnings=self.warnings, links=links,
            tasks_by_kind=dict(kinds), tasks_by_status=dict(statuses), summary_tasks=n_summary,
            manual_tasks=manual, **resources,
            constraints=dict(Counter(d["constraint"][0] for _, d in g.graph.nodes(data=True)
                                     if d.get("constraint"))),
            total_cost=round(sum(d.get("cost", 0.0) for _, d in g.graph.nodes(data=True)), 2),
            costs=costs,
        )
        return g

    def _resources(self, g, is_summary, inactive) -> dict:
        """Work resources and assignments as levelling resources and task demands.

        Capacity: ``MaxUnits`` (1 = 100 %), or the ``AvailabilityPeriods`` as capacity
        changes in working days from the project start (0 units between and before the
        periods, as in MS Project). Demands: an assignment's ``Units``. Material (Type 0)
        and cost (Type 2) resources are not levelled. Blank resource rows (``IsNull``)
        and MS Project's unnamed resource 0 when nothing is assigned to it are not
        resources; an assignment to ResourceUID -65535 is MS Project's mark of a task
        without resources.
        """
        q = self.q
        assignments = list(self.root.iter(q("Assignment")))
        referenced = {self.text(a, "ResourceUID") for a in assignments}
        resources, by_uid, null = [], {}, set()
        periods_of = {}
        for k, el in enumerate(self.root.iter(q("Resource")), start=1):
            uid = self.int(el, "UID", None, f"<Resource> number {k}")
            if uid is None:
                raise ScheduleImportError(f"{self.where(f'<Resource> number {k}')}: has no <UID>")
            record = f"resource {uid}"
            if uid in by_uid or uid in null:
                raise ScheduleImportError(f"{self.where(record)}: UID {uid} is used by two "
                                          "resources; each resource needs its own UID")
            name = self.text(el, "Name")
            if self.text(el, "IsNull") == "1" or (uid == 0 and not name
                                                   and str(uid) not in referenced):
                null.add(uid)
                continue
            code = self.int(el, "Type", 1, record)
            if self.text(el, "IsCostResource") == "1":
                code = 2
            if code not in (0, 1, 2):
                raise ScheduleImportError(f"{self.where(record)}: unknown Type {code}; expected "
                                          "0 (material), 1 (work) or 2 (cost)")
            units = self.num(el, "MaxUnits", 1.0, record, low=0.0)
            res = ImportedResource(uid, name or f"resource {uid}", units, self.where(record),
                                   levelled=code == 1,
                                   kind={0: "material (Type 0)", 1: "work",
                                         2: "cost (Type 2)"}[code])
            if code == 0 and self.text(el, "MaterialLabel"):
                res.note["label"] = self.text(el, "MaterialLabel")
            periods = []
            for ap in el.iter(q("AvailabilityPeriod")):
                periods.append((self.date(ap, "AvailableFrom", record),
                                self.date(ap, "AvailableTo", record),
                                self.num(ap, "AvailableUnits", 1.0, record, low=0.0)))
            if periods and code == 1:
                periods_of[uid] = periods
            resources.append(res)
            by_uid[uid] = res
        self._availability(g, periods_of, by_uid)

        demands, dropped = [], Counter()
        for k, a in enumerate(assignments, start=1):
            record = f"assignment {self.text(a, 'UID') or f'number {k}'}"
            rid = self.int(a, "ResourceUID", None, record)
            if rid is None or rid == -65535:
                continue
            task = self.int(a, "TaskUID", None, record)
            units = self.num(a, "Units", 1.0, record, low=0.0)
            if rid in null:
                dropped["to blank (null) resources"] += 1
            elif rid not in by_uid:
                dropped["to resources that are not in the file"] += 1
            elif task in g.graph:
                demands.append((task, rid, units))
            elif is_summary.get(task) and task not in inactive:
                dropped["to summary tasks (WBS groups, not tasks)"] += 1
            else:
                dropped["to tasks skipped or not in the file"] += 1
        return add_resources(g, resources, demands, warnings=self.warnings, dropped=dropped)

    def _availability(self, g, periods_of, by_uid) -> None:
        """Availability periods as capacity changes, in working days from the start."""
        moments = [m for periods in periods_of.values() for a, b, _ in periods
                   for m in (a, b) if m is not None]
        days = dict(zip(moments, axis_days(g, moments)))
        for uid, periods in periods_of.items():
            spans = [(-math.inf if a is None else days[a], None if b is None else days[b], units)
                     for a, b, units in sorted(periods, key=lambda x: x[0] or _dt.datetime.min)]
            res = by_uid[uid]
            res.capacity, res.changes = capacity_steps(spans)
            last = max(periods, key=lambda x: x[0] or _dt.datetime.min)
            if last[1] is not None:
                self.warnings.append(
                    f"resource {uid} ({res.name}): {len(periods)} availability periods kept as "
                    f"capacity changes; after the last one ends ({last[1]:%Y-%m-%d %H:%M}) MS "
                    f"Project has the resource unavailable, pmosim keeps its {last[2]:g} units "
                    "(no capacity for ever would leave its tasks unschedulable)")

    def _resource_calendars(self, g, calendars):
        """Flag tasks whose assigned resources work on another calendar.

        MS Project schedules each assignment on its resource's calendar (unless the
        task ignores resource calendars); pmosim schedules the task on its own, so
        such tasks are flagged ``resource_calendars`` and named in a warning.
        """
        res_cal = {}
        for res in self.root.iter(self.q("Resource")):
            res_cal[self.text(res, "UID")] = self.text(res, "CalendarUID")
        flagged = set()
        for a in self.root.iter(self.q("Assignment")):
            task = self.int(a, "TaskUID", None, f"assignment {self.text(a, 'UID')}")
            cal = res_cal.get(self.text(a, "ResourceUID"))
            if task not in g.graph or cal not in calendars:
                continue
            d = g.graph.nodes[task]
            mine, theirs = calendars[d["calendar"]], calendars[cal]
            if (mine["week"], mine["exceptions"]) != (theirs["week"], theirs["exceptions"]):
                d.setdefault("resource_calendars", []).append(cal)
                flagged.add(task)
        ignoring = {t for t in flagged if g.graph.nodes[t].get("ignore_resource_calendar")}
        for t in ignoring:
            del g.graph.nodes[t]["resource_calendars"]
        flagged -= ignoring
        if flagged:
            self.warnings.append(
                f"tasks {sorted(flagged)} have resources on other calendars; MS Project "
                "schedules their assignments on those calendars, pmosim on the task calendar")

    def _add_task(self, g, uid, el, calendars, project_cal, hpd, minutes_per_day, parents, names):
        where = f"task {uid}"
        at = self.where(where)
        cal = self.text(el, "CalendarUID", "-1")
        if cal in (None, "-1") or cal not in calendars:
            if cal not in (None, "-1"):
                self.warnings.append(
                    f"{where}: calendar {cal} not found; used the project calendar")
            cal = project_cal
        duration = _hours(self.text(el, "Duration"), at, "Duration", minutes_per_day)
        remaining = self.text(el, "RemainingDuration")
        actual_start = self.date(el, "ActualStart", where)
        actual_finish = self.date(el, "ActualFinish", where)
        if actual_finish is not None:
            status, left = "complete", 0.0
        elif actual_start is not None:
            status = "in progress"
            left = (_hours(remaining, at, "RemainingDuration", minutes_per_day) if remaining
                    else duration)
        else:
            status, left = "not started", duration
        constraint = None
        code = self.int(el, "ConstraintType", 0, where)
        if code in _CONSTRAINT:
            date = self.date(el, "ConstraintDate", where)
            constraint = (_CONSTRAINT[code], date)
            if code in (5, 7):
                self.warnings.append(f"{where}: constraint {_CONSTRAINT[code]} kept but not "
                                     "enforced by a forward pass")
        elif code:
            self.warnings.append(f"{where}: unknown ConstraintType {code} ignored")
        kind = "finish milestone" if duration == 0 else "task"
        elapsed = None
        extra = {}
        days = max(left, 0.0) / hpd
        if self.int(el, "DurationFormat", 7, where) in _ELAPSED_FORMATS and left > 0:
            # elapsed durations count wall-clock hours (Duration holds them as hours)
            elapsed = left
            days = left / 24 * 5 / 7
            self.warnings.append(f"{where}: elapsed duration of {left:g} h approximated as "
                                 f"{days:g} working days")
        priority = self.int(el, "Priority", None, where)
        if priority is not None:
            if not 0 <= priority <= 1000:
                raise ScheduleImportError(f"{at}: Priority {priority} is outside MS Project's "
                                          "0..1000")
            extra["priority"] = priority
        attrs = dict(
            name=self.text(el, "Name") or None, elapsed_hours=elapsed,
            wbs=self.text(el, "WBS") or self.text(el, "OutlineNumber") or "",
            summary=[names[s] for s in parents[uid]],
            kind=kind, milestone=self.text(el, "Milestone") == "1",
            status=status, calendar=cal, original_duration=duration / hpd,
            percent_complete=self.num(el, "PercentComplete", 0.0, where),
            actual_start=actual_start, actual_finish=actual_finish,
            resume=self.date(el, "Resume", where) if status == "in progress" else None,
            constraint=constraint, manual=self.text(el, "Manual") == "1",
            ignore_resource_calendar=self.text(el, "IgnoreResourceCalendar") == "1",
            cost=self.num(el, "Cost", 0.0, where) / 100,
            fixed_cost=self.num(el, "FixedCost", 0.0, where) / 100,
            actual_cost=self.num(el, "ActualCost", 0.0, where) / 100,
            remaining_cost=self.num(el, "RemainingCost", 0.0, where) / 100,
            tool_start=self.date(el, "Start", where),
            tool_finish=self.date(el, "Finish", where), **extra,
        )
        attrs.update(_task_baseline(self, el, where, hpd, minutes_per_day))
        with model_errors(at):
            g.add_task(uid, Fixed(days), **attrs)


#: MSPDI ``FixedCostAccrual``: when a task's fixed cost is incurred.
_ACCRUAL = {1: "start", 2: "prorated", 3: "end"}


def _read_costs(reader, g, entries, is_summary, inactive) -> dict:
    """Task and assignment costs as ``cost_fixed``/``cost_rate`` (:mod:`pmosim.io.costs`).

    A task costs its ``FixedCost`` plus its assignments. An assignment costs its
    ``Cost`` (actual ``ActualCost``, remaining ``RemainingCost``); where the file has
    no cost but the resource has rates (``Cost`` absent or 0 while the rates give
    more: some tools, ProjectLibre among them, write 0 for every cost), it is priced
    as MS Project does: for a work resource ``StandardRate`` x regular ``Work`` +
    ``OvertimeRate`` x ``OvertimeWork`` + ``CostPerUse`` x ``Units``, for a material
    resource ``StandardRate`` x its quantity (``Work``, an hour per unit) +
    ``CostPerUse``, from the assignment's cost rate table (``CostRateTable`` A..E,
    ``Rates`` in force at its start). Currency fields are in hundredths, rates per hour.
    A leaf task's total is its own ``Cost`` (``ActualCost`` spent) unless one of its
    assignments was priced from rates. The remaining cost of work resources on tasks
    that are not fixed-work (``Type`` 2), less a per-use cost not yet incurred, scales
    with the remaining duration (``cost_rate``); fixed costs, per-use costs, material
    and cost resources do not. Summary tasks are WBS groups: their own fixed costs and
    assignments are not kept (a warning gives the total).
    """
    q, warnings = reader.q, reader.warnings
    minutes_per_day = g.meta.get("minutes_per_day") or 480.0
    resources = {}
    for k, el in enumerate(reader.root.iter(q("Resource")), start=1):
        uid = reader.int(el, "UID", None, f"<Resource> number {k}")
        resources[uid] = el
    assignments: dict = {}
    for k, a in enumerate(reader.root.iter(q("Assignment")), start=1):
        record = f"assignment {reader.text(a, 'UID') or f'number {k}'}"
        assignments.setdefault(reader.int(a, "TaskUID", None, record), []).append((record, a))

    def money(el, tag, record, default=None):
        value = reader.num(el, tag, None, record)
        return default if value is None else value / 100

    def hours(el, tag, record):
        return _hours(reader.text(el, tag), reader.where(record), tag, minutes_per_day)

    def rates(res, table, start, record):
        """(standard per hour, overtime per hour, per use) of ``res`` in ``table`` at ``start``."""
        rows = []
        for rate in res.iter(q("Rate")):
            if reader.int(rate, "RateTable", 0, record) == table:
                rows.append((reader.date(rate, "RatesFrom", record),
                             reader.date(rate, "RatesTo", record), rate))
        chosen = res if table == 0 else None
        for frm, to, rate in sorted(rows, key=lambda r: r[0] or _dt.datetime.min):
            if chosen is None or start is None or ((frm is None or frm <= start)
                                                   and (to is None or start < to)):
                chosen = rate
        if chosen is None:
            return 0.0, 0.0, 0.0
        return (reader.num(chosen, "StandardRate", 0.0, record, low=0.0),
                reader.num(chosen, "OvertimeRate", 0.0, record, low=0.0),
                money(chosen, "CostPerUse", record, 0.0))

    counts = Counter()
    actual_total = file_total = baseline_total = 0.0
    has_baseline = False
    summary_cost = 0.0
    for uid, _level, el in entries:
        where = f"task {uid}"
        if uid in inactive:
            continue
        fixed = money(el, "FixedCost", where, 0.0)
        if is_summary.get(uid):
            own = fixed + sum(money(a, "Cost", rec, 0.0) for rec, a in assignments.get(uid, []))
            summary_cost += own
            continue
        if uid not in g.graph:
            continue
        data = g.graph.nodes[uid]
        task_type = reader.int(el, "Type", 0, where)
        start = data.get("actual_start") or reader.date(el, "Start", where)
        totals = {"cost": 0.0, "actual": 0.0, "timed": 0.0}
        priced = False
        for record, a in assignments.get(uid, []):
            rid = reader.int(a, "ResourceUID", None, record)
            res = resources.get(rid)
            kind = 1 if res is None else (2 if reader.text(res, "IsCostResource") == "1"
                                          else reader.int(res, "Type", 1, record))
            units = reader.num(a, "Units", 1.0, record, low=0.0)
            computed = per_use = 0.0
            if res is not None and kind in (0, 1):
                table = reader.int(a, "CostRateTable", 0, record)
                std, ot, per_use = rates(res, table, reader.date(a, "Start", record) or start,
                                         record)
                work, ot_work = hours(a, "Work", record), hours(a, "OvertimeWork", record)
                if kind == 1:
                    per_use *= units
                    computed = std * max(work - ot_work, 0.0) + ot * ot_work + per_use
                else:
                    computed = std * work + per_use
            cost = money(a, "Cost", record)
            actual = money(a, "ActualCost", record, 0.0)
            if cost is None or (cost == 0 and computed > 0):
                if computed > 0:
                    priced = True
                    counts["assignments_priced_from_rates"] += 1
                cost, remaining = computed, max(computed - actual, 0.0)
            else:
                remaining = money(a, "RemainingCost", record, cost - actual)
            if cost:
                counts["assignments"] += 1
            started = actual > 0 or hours(a, "ActualWork", record) > 0
            if kind == 1 and task_type != 2:
                totals["timed"] += max(remaining - (0.0 if started else per_use), 0.0)
            totals["cost"] += cost
            totals["actual"] += actual
        if fixed:
            counts["fixed_costs"] += 1
            accrual = _ACCRUAL.get(reader.int(el, "FixedCostAccrual", 3, where), "end")
            data["fixed_cost_accrual"] = accrual
            if accrual != "prorated":
                counts[f"fixed_costs_at_{accrual}"] += 1
        task_cost = money(el, "Cost", where)
        file_total += task_cost or 0.0
        for base in el.iter(q("Baseline")):
            if reader.int(base, "Number", 0, where) == 0 and reader.text(base, "Cost"):
                baseline_total += money(base, "Cost", where, 0.0)
                has_baseline = True
        if task_cost is not None and not priced:
            total = task_cost
            actual = money(el, "ActualCost", where, totals["actual"])
        else:
            total = fixed + totals["cost"]
            actual = totals["actual"] + (fixed if data.get("status") == "complete" else 0.0)
        if not (total or actual):
            continue
        remaining = total - actual
        timed = min(totals["timed"], max(remaining, 0.0))
        data.update(cost=total, actual_cost=actual, remaining_cost=remaining)
        set_task_cost(g.graph, uid, actual=actual, remaining_fixed=remaining - timed,
                      remaining_time=timed, warnings=warnings)
        actual_total += actual
    if counts["assignments_priced_from_rates"]:
        warnings.append(f"{counts['assignments_priced_from_rates']} assignments have no cost "
                        "in the file (Cost absent or 0) but rated work; priced as MS Project "
                        "prices them (rate x work + cost per use)")
    timing = [f"{counts[f'fixed_costs_at_{w}']} at the {w}" for w in ("start", "end")
              if counts[f"fixed_costs_at_{w}"]]
    if timing:
        warnings.append(f"fixed costs accrue {' and '.join(timing)} of their tasks in MS "
                        "Project; pmosim's cash flow spreads every task's cost over its "
                        "duration (totals are unchanged)")
    if summary_cost:
        warnings.append("summary tasks' own costs (fixed costs and assignments to summary "
                        f"tasks) of {summary_cost:,.2f} not kept: summary tasks are WBS groups, "
                        "not tasks; move them to a task in MS Project, or add them to a task's "
                        "cost_fixed in the scenario")
    return cost_summary(
        g.graph, actual=actual_total, budgeted=baseline_total if has_baseline else None,
        currency=reader.text(reader.root, "CurrencyCode") or None,
        file_total=round(file_total, 2), assignments=counts["assignments"],
        assignments_priced_from_rates=counts["assignments_priced_from_rates"],
        fixed_costs=counts["fixed_costs"], summary_costs_not_kept=round(summary_cost, 2))


def _task_baseline(reader, el, where: str, hpd: float, minutes_per_day: float) -> dict:
    """A task's baseline (MS Project's ``<Baseline>`` number 0): ``baseline_start``,
    ``baseline_finish`` (datetimes), ``baseline_duration`` (working days) and
    ``baseline_cost`` (currency), those the file gives; empty without one. The schedule
    health check reads them (missed tasks, BEI, CPLI), earned value too (PV, BAC)."""
    for base in el.findall(reader.q("Baseline")):
        if reader.int(base, "Number", 0, where) != 0:
            continue
        out = {}
        for key, tag in (("baseline_start", "Start"), ("baseline_finish", "Finish")):
            moment = reader.date(base, tag, f"{where}: baseline")
            if moment is not None:
                out[key] = moment
        duration = reader.text(base, "Duration")
        if duration is not None and duration.strip():
            out["baseline_duration"] = _hours(duration, reader.where(where),
                                              "Baseline Duration", minutes_per_day) / hpd
        cost = reader.num(base, "Cost", None, f"{where}: baseline")
        if cost is not None:
            out["baseline_cost"] = cost / 100       # hundredths, as every MSPDI amount
        return out
    return {}

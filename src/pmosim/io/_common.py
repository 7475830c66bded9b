"""Helpers shared by the schedule importers: file reading, fields, import reports, working time.

- :func:`read_bytes`, :func:`read_text`, :func:`parse_xml`: read a schedule file with
  clear errors (XML through :mod:`defusedxml`);
- :func:`parse_number`, :func:`parse_int`, :func:`parse_date`, :func:`model_errors`: every
  number and date read from a file goes through these, so that a damaged field (``abc``,
  a 400-digit number, ``NaN``, the year 9999) is a :class:`ScheduleImportError` naming the
  file, the record, the field and the value, never a bare ``ValueError`` or
  ``OverflowError`` from deep inside;
- :func:`import_report`: counts and warnings of one import;
- :func:`add_resources`: renewable resources and task demands, with what was not kept;
- :func:`add_connector`: a second link between two tasks through a connector task;
- :func:`work_calendar`, :func:`engine_hints`, :func:`axis_days`: the day-level calendar,
  the working-day engine hints of an imported project and dates as working days.

Working time
------------
pmosim schedules on one axis of working time. Scheduling tools keep dates on a
wall clock and a calendar per task. :class:`WorkWeek` maps between the two for
one calendar: a weekly pattern of working intervals plus exception days, with
``work(dt)`` (wall clock -> working hours since an origin) and ``date(hours)``
(elapsed hours -> wall clock). Importers use it to turn tool dates into working
offsets (:func:`engine_hints`, :func:`axis_days`). The reference forward pass that
checks imported schedules against the tool's dates (``schedule_dates``) lives with the
tests, in ``tests/reference_worktime.py``.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import datetime as _dt
import math
import re
from collections import Counter
from pathlib import Path

from ..errors import ModelError, ScheduleImportError

__all__ = ["read_bytes", "read_text", "parse_xml", "import_report", "parse_number", "parse_int",
           "parse_date", "model_errors", "show", "add_resources", "ImportedResource",
           "capacity_steps", "add_connector", "work_calendar", "engine_hints", "axis_days",
           "WorkWeek", "FIRST_YEAR", "LAST_YEAR", "MAX_DAYS"]

#: Years a schedule's dates may lie in. MS Project keeps its dates in 1984..2149 and P6
#: in a similar range; a date outside is a damaged field, and one near the year 9999
#: overflows the calendar arithmetic (a date plus the days of a calendar table).
FIRST_YEAR, LAST_YEAR = 1900, 2199
#: The longest duration or lag, in working days, an importer accepts: a century. A
#: longer one is a unit mistake or a damaged field, and would push dates past any
#: calendar (a 1e308-hour task).
MAX_DAYS = 36_525
#: Integers (ids, codes, flags) must fit in 64 bits, as in every scheduling tool.
_MAX_INT = 2**63
#: Characters of a value quoted in a message (a 400-digit number is shortened).
_SHOWN = 40


def read_bytes(path, fmt: str) -> bytes:
    """The bytes of ``path``; a clear error when it is missing or not a file."""
    path = Path(path)
    if not path.exists():
        raise ScheduleImportError(f"{path}: no such {fmt} file")
    if not path.is_file():
        raise ScheduleImportError(f"{path}: is not a file; expected a {fmt} file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ScheduleImportError(f"{path}: cannot read {fmt} file: {exc}") from None


def read_text(path, encoding: str, fmt: str) -> str:
    """Read a text schedule file; binary content or bad encoding give a clear error."""
    data = read_bytes(path, fmt)
    if b"\x00" in data[:65536]:
        raise ScheduleImportError(
            f"{path}: is a binary file, not a {fmt} text file (it holds NUL bytes); "
            f"export the schedule as {fmt} from the scheduling tool")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ScheduleImportError(
            f"{path}: is not a {fmt} text file: byte {exc.start} cannot be decoded as "
            f"{encoding}") from None


def import_report(fmt: str, source: str, project, *, calendars: int,
                  warnings: list[str], links=None, **extra) -> dict:
    """Counts and warnings of one import, for ``project.meta["import_report"]``.

    ``links`` is an iterable of imported ``(type, lag)`` pairs; by default they are
    read from the graph. Tasks of kind ``"connector"`` (see :func:`add_connector`)
    are counted apart, and the links through them once.
    """
    if links is None:
        links = [(d.get("type", "FS"), d.get("lag", 0))
                 for _, _, d in project.graph.edges(data=True)]
    link_types = Counter()
    lags = Counter()
    n_links = 0
    for kind, lag in links:
        n_links += 1
        link_types[kind] += 1
        if lag != 0:
            lags[kind] += 1
    connectors = sum(1 for _, d in project.graph.nodes(data=True) if d.get("kind") == "connector")
    report = {
        "format": fmt,
        "source": str(source),
        "tasks": project.n_tasks - connectors,
        "connector_tasks": connectors,
        "links": n_links,
        "links_by_type": {t: link_types.get(t, 0) for t in ("FS", "SS", "FF", "SF")},
        "lags": sum(lags.values()),
        "lags_by_type": {t: lags.get(t, 0) for t in ("FS", "SS", "FF", "SF")},
        "calendars": calendars,
    }
    report.update(extra)
    report["warnings"] = list(warnings)
    return report


_DAY = _dt.timedelta(days=1)
_EPS = 1e-6


class WorkWeek:
    """A working-time calendar: weekly working intervals plus exception days.

    Time is measured in elapsed (wall-clock) hours from ``origin``; working time in
    working hours from ``origin``. The calendar is tabulated between ``first`` and
    ``last`` (dates) as sorted working intervals with cumulative working hours, the
    layout a numba kernel would binary-search too.

    Parameters
    ----------
    week : dict[int, list[tuple[float, float]]]
        Per weekday 0 (Monday) .. 6 (Sunday), working intervals in hours from
        midnight, e.g. ``{0: [(8, 12), (13, 17)], ...}``; missing days are off.
    exceptions : dict[datetime.date, list[tuple[float, float]]]
        Dates whose intervals replace the weekly pattern (``[]``: non-working).
    origin : datetime.datetime
        Elapsed hour 0 and working hour 0.
    first, last : datetime.date
        The tabulated range.
    name : str
        For messages.

    Examples
    --------
    >>> import datetime as dt
    >>> w = WorkWeek({d: [(8, 12), (13, 17)] for d in range(5)}, {},
    ...              dt.datetime(2024, 1, 5, 8), dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    >>> w.work(dt.datetime(2024, 1, 8, 9))   # Fri 8-17 (8 h), then Mon 8-9
    9.0
    >>> w.date(w.start_at(8.0)), w.date(w.finish_at(8.0))
    (datetime.datetime(2024, 1, 8, 8, 0), datetime.datetime(2024, 1, 5, 17, 0))
    """

    def __init__(self, week, exceptions, origin: _dt.datetime, first: _dt.date,
                 last: _dt.date, name: str = "calendar"):
        self.name = name
        self.origin = origin
        self.week = {d: sorted(week.get(d, [])) for d in range(7)}
        self.exceptions = {d: sorted(v) for d, v in exceptions.items()}
        if not any(self.week.values()) and not any(self.exceptions.values()):
            raise ScheduleImportError(f"calendar {name!r} has no working time")
        self.first, self.last = first, last
        base = _dt.datetime.combine(first, _dt.time())
        offset = (base - origin).total_seconds() / 3600
        starts, ends, cum = [], [], []
        total = 0.0
        day = first
        k = 0
        while day <= last:
            for a, b in self.intervals(day):
                if b > a:
                    starts.append(offset + 24 * k + a)
                    ends.append(offset + 24 * k + b)
                    cum.append(total)
                    total += b - a
            day += _DAY
            k += 1
        if not starts:
            raise ScheduleImportError(
                f"calendar {name!r} has no working time between {first} and {last}")
        self._s, self._e = starts, ends
        self._cum_s = cum
        zero = self._raw_work(0.0)
        self._cum_s = [c - zero for c in cum]
        self._cum_e = [c + e - s for c, s, e in zip(self._cum_s, starts, ends)]

    def intervals(self, day: _dt.date):
        iv = self.exceptions.get(day)
        return self.week[day.weekday()] if iv is None else iv

    def _raw_work(self, t: float) -> float:
        i = bisect.bisect_right(self._s, t) - 1
        if i < 0:
            return self._cum_s[0]
        return self._cum_s[i] + min(t, self._e[i]) - self._s[i]

    def _check(self, t: float) -> None:
        if t < self._s[0] - 24 * 7 or t > self._e[-1] + 24 * 7:
            raise ScheduleImportError(
                f"calendar {self.name!r}: {self.date(t)} is outside the tabulated range "
                f"{self.first} .. {self.last}")

    def hours(self, moment: _dt.datetime) -> float:
        """Elapsed hours from the origin to ``moment``."""
        return (moment - self.origin).total_seconds() / 3600

    def date(self, t: float) -> _dt.datetime:
        """The moment ``t`` elapsed hours after the origin, to the second."""
        return self.origin + _dt.timedelta(seconds=round(t * 3600))

    def work(self, t) -> float:
        """Working hours from the origin to ``t`` (elapsed hours or a datetime)."""
        if isinstance(t, _dt.datetime):
            t = self.hours(t)
        self._check(t)
        return self._raw_work(t)

    def start_at(self, w: float) -> float:
        """The first moment (elapsed hours) with ``w`` working hours done and work ahead.

        A start on a boundary between working periods goes to the next period.
        """
        i = bisect.bisect_right(self._cum_e, w + _EPS)
        if i >= len(self._s):
            raise ScheduleImportError(
                f"calendar {self.name!r}: working hour {w} is past {self.last}")
        return self._s[i] + max(0.0, w - self._cum_s[i])

    def finish_at(self, w: float) -> float:
        """The first moment (elapsed hours) with ``w`` working hours done.

        A finish on a boundary stays at the end of the earlier working period.
        """
        i = bisect.bisect_left(self._cum_e, w - _EPS)
        if i >= len(self._s):
            raise ScheduleImportError(
                f"calendar {self.name!r}: working hour {w} is past {self.last}")
        return self._s[i] + max(0.0, w - self._cum_s[i])

    def snap_start(self, t: float) -> float:
        """``t`` moved forward to the next working moment (unchanged inside working time)."""
        return self.start_at(self.work(t))


def show(value) -> str:
    """``repr(value)``, shortened in the middle when long (a 400-digit number)."""
    text = repr(value)
    if len(text) <= _SHOWN:
        return text
    return f"{text[:_SHOWN // 2]}...{text[-8:]} ({len(str(value)):,} characters)"


def parse_number(value, where: str, field: str, *, default=None, low: float | None = None,
                 high: float | None = None) -> float:
    """A finite number from a file field (text or a spreadsheet cell).

    ``None`` and blank text give ``default``, or an error when there is none. The
    message of every error starts with ``where`` (file and record) and names ``field``
    and the value: text that is not a number, ``NaN``/``inf``, a number too large for a
    float (a 400-digit one), or one outside ``[low, high]``.

    Examples
    --------
    >>> parse_number("16", "plan.xer, line 9", "remain_drtn_hr_cnt")
    16.0
    >>> parse_number("abc", "plan.xer, line 9", "remain_drtn_hr_cnt")
    Traceback (most recent call last):
    ...
    pmosim.errors.ScheduleImportError: plan.xer, line 9: remain_drtn_hr_cnt 'abc' is not a number
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise ScheduleImportError(f"{where}: {field} is empty; a number is expected")
        return default
    if isinstance(value, bool):
        raise ScheduleImportError(f"{where}: {field} {value!r} is not a number")
    if isinstance(value, (int, float)):
        try:
            x = float(value)
        except OverflowError:
            raise ScheduleImportError(
                f"{where}: {field} {show(value)} is too large for a number") from None
    else:
        text = str(value).strip()
        try:
            x = float(text)
        except (ValueError, OverflowError):
            raise ScheduleImportError(f"{where}: {field} {show(value)} is not a number") from None
        if math.isinf(x) and re.fullmatch(r"[+-]?[\d.]+(e[+-]?\d+)?", text, re.I):
            raise ScheduleImportError(
                f"{where}: {field} {show(value)} is too large for a number")
    if not math.isfinite(x):
        raise ScheduleImportError(f"{where}: {field} {show(value)} is not a finite number")
    if (low is not None and x < low) or (high is not None and x > high):
        bounds = (f"between {low:g} and {high:g}" if low is not None and high is not None
                  else f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise ScheduleImportError(f"{where}: {field} {show(value)} must be {bounds}")
    return x


def parse_int(value, where: str, field: str, *, default=None) -> int:
    """A whole number (an id, a code, a count) from a file field; see :func:`parse_number`.

    ``"12"`` and ``"12.0"`` read as 12; ``"abc"``, ``"1.5"``, ``"1e400"`` and numbers
    beyond 64 bits are errors naming ``where``, ``field`` and the value.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise ScheduleImportError(f"{where}: {field} is empty; a whole number is expected")
        return default
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        if len(text.lstrip("+-")) > 19 or abs(int(text)) >= _MAX_INT:
            raise ScheduleImportError(
                f"{where}: {field} {show(value)} is too large for a whole number")
        return int(text)
    try:
        x = float(text)
    except (ValueError, OverflowError):
        x = math.nan
    if math.isinf(x) or (math.isfinite(x) and abs(x) >= _MAX_INT):
        raise ScheduleImportError(
            f"{where}: {field} {show(value)} is too large for a whole number")
    if not math.isfinite(x) or x != int(x):
        raise ScheduleImportError(f"{where}: {field} {show(value)} is not a whole number")
    return int(x)


def parse_date(value, where: str, field: str):
    """A date/time from a file field ('2017-09-27 08:00', '2017-09-27T08:00:00'); None if blank.

    A value that is not an ISO date, that has a time zone, or whose year is outside
    :data:`FIRST_YEAR` .. :data:`LAST_YEAR` is an error naming ``where``, ``field`` and
    the value.
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            moment = _dt.datetime.fromisoformat(text.replace("T", " "))
        except ValueError:
            raise ScheduleImportError(
                f"{where}: {field} {show(value)} is not a date (expected YYYY-MM-DD hh:mm)"
            ) from None
    shown = show(str(value) if isinstance(value, _dt.datetime) else value)
    if moment.tzinfo is not None:
        raise ScheduleImportError(
            f"{where}: {field} {shown} has a time zone; schedule dates are local times")
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ScheduleImportError(
            f"{where}: {field} {shown} is outside the years {FIRST_YEAR}..{LAST_YEAR} "
            "that schedules use")
    return moment


@contextlib.contextmanager
def model_errors(where: str):
    """Re-raise a :class:`ModelError` of the model (a duplicate id, a bad demand) as a
    :class:`ScheduleImportError` whose message starts with ``where`` (file and record)."""
    try:
        yield
    except ModelError as exc:
        raise ScheduleImportError(f"{where}: {exc}") from None


@dataclasses.dataclass
class ImportedResource:
    """A resource read from a schedule file, before :func:`add_resources` adds it.

    ``levelled`` resources become :attr:`Project.resources <pmosim.model.Project.resources>`
    with ``capacity`` (units per unit of time) and ``changes`` (``[(time, capacity)]``);
    the others (material, cost, nonrenewable ...: ``kind`` says which) are kept in
    ``meta["resources_not_levelled"]`` with ``note``. ``where`` names the file and record.
    """

    id: object
    name: str
    capacity: float
    where: str
    changes: list = dataclasses.field(default_factory=list)
    levelled: bool = True
    kind: str = "renewable"
    note: dict = dataclasses.field(default_factory=dict)


#: Tasks named in a warning that lists many (capped demands); the rest are counted.
_LISTED = 5


def add_resources(project, resources, demands, *, warnings: list, dropped=None) -> dict:
    """Add a file's resources and its tasks' demands to ``project``; say what was not kept.

    Parameters
    ----------
    resources : list of ImportedResource
    demands : iterable of (task_id, resource_id, units)
        Assignments to tasks of the project; two on the same task and resource add up.
        A demand above the resource's capacity (the one that holds for ever) would make
        the project invalid: it is capped at the capacity (the task then takes the whole
        resource while it runs), kept in the task attribute ``resources_capped`` and
        named in a warning.
    warnings : list of str
        Appended to: what was not levelled, and the capped demands.
    dropped : Counter, optional
        Assignments the importer could not give to a task, by reason (``"to summary
        tasks"``), for the warning and the counts.

    Returns
    -------
    dict
        The report's counts: ``resources`` and ``assignments`` kept for levelling,
        ``resources_not_levelled``, ``assignments_not_levelled``, ``demands_capped``.
    """
    dropped = Counter(dropped or {})
    by_id = {}
    other = {}
    for r in resources:
        by_id[r.id] = r
        if r.levelled:
            with model_errors(r.where):
                project.add_resource(r.id, r.capacity, name=r.name, changes=r.changes or None)
        else:
            other[r.id] = {"name": r.name, "kind": r.kind, "capacity": r.capacity, **r.note}
    if other:
        project.meta["resources_not_levelled"] = other
    totals: dict = {}
    for task, rid, units in demands:
        totals[task, rid] = totals.get((task, rid), 0.0) + units
    kept = zero = 0
    other_assignments = Counter()
    capped = []
    for (task, rid), units in totals.items():
        r = by_id[rid]
        if units <= 0:
            zero += 1
            continue
        data = project.graph.nodes[task]
        if not r.levelled:
            data.setdefault("resources_not_levelled", {})[rid] = units
            other_assignments[r.kind] += 1
            continue
        limit = project.resources[rid].final_capacity
        if units > limit:
            capped.append((task, rid, units, limit))
            data.setdefault("resources_capped", {})[rid] = units
            units = limit
        if units > 0:
            data.setdefault("resources", {})[rid] = units
        kept += 1
    if zero:
        dropped["with 0 units (no demand)"] += zero
    n_levelled = sum(r.levelled for r in resources)
    parts = []
    for kind, n in Counter(r.kind for r in resources if not r.levelled).items():
        m = other_assignments[kind]
        parts.append(f"{n} {kind} resource{'s' * (n != 1)} with {m} "
                     f"assignment{'s' * (m != 1)}")
    parts += [f"{n} assignment{'s' * (n != 1)} {why}" for why, n in dropped.items() if n]
    if parts:
        kept_in = (" (kept in meta['resources_not_levelled'] and the tasks' "
                   "resources_not_levelled)" if other else "")
        warnings.append(f"resources: {n_levelled} kept for levelling with {kept} "
                        f"assignment{'s' * (kept != 1)}; not levelled: {', '.join(parts)}"
                        f"{kept_in}")
    if capped:
        listed = "; ".join(f"task {task!r} needs {units:g} of resource {rid!r} "
                           f"({by_id[rid].name}, capacity {limit:g})"
                           for task, rid, units, limit in capped[:_LISTED])
        more = f"; and {len(capped) - _LISTED} more" if len(capped) > _LISTED else ""
        warnings.append(f"{len(capped)} demand{'s' * (len(capped) != 1)} above the "
                        "resource's capacity capped at the capacity (the task takes the whole "
                        f"resource while it runs; the file's units are in the task attribute "
                        f"resources_capped): {listed}{more}")
    return {"resources": n_levelled, "assignments": kept,
            "resources_not_levelled": len(resources) - n_levelled,
            "assignments_not_levelled": sum(other_assignments.values()) + sum(dropped.values()),
            "demands_capped": len(capped)}


def add_connector(project, pred, succ, kind: str, lag, **edge_attrs) -> str:
    """Add a second link ``pred -> succ`` through a zero-duration connector task.

    pmosim keeps one link per pair of tasks; tools allow several (SS plus FF is
    common). ``pred -kind,lag-> c -X-> succ`` with ``c`` of duration 0 is exact:
    ``c``'s start and finish equal the bound the link imposes, and the second link
    from ``c`` is FS (start bound, for FS/SS) or FF (finish bound, for FF/SF).
    """
    from ..distributions import Fixed

    node = f"{pred}->{succ}:{kind}"
    k = 2
    while node in project.graph:
        node, k = f"{pred}->{succ}:{kind}#{k}", k + 1
    pdata = project.graph.nodes[pred]
    project.add_task(node, Fixed(0.0), name=f"link {pred} {kind} {succ}", kind="connector",
                     status="not started", calendar=pdata.get("calendar"),
                     actual_start=None, actual_finish=None, constraint=None)
    project.add_link(pred, node, "FS" if kind in ("FS", "FF") else "SS", lag)
    project.graph.edges[pred, node].update(edge_attrs)
    project.add_link(node, succ, "FS" if kind in ("FS", "SS") else "FF", 0.0)
    return node


def work_calendar(cal: dict):
    """The day-level :class:`pmosim.calendar.WorkCalendar` of a calendar dict.

    Weekdays with working intervals are workdays; exception dates without working
    time on such weekdays are holidays (partial-day exceptions are not representable
    at day level and count as working days).
    """
    from ..calendar import WEEKDAYS, WorkCalendar

    workdays = [WEEKDAYS[d] for d in range(7) if cal["week"].get(d)]
    holidays = [day for day, iv in cal["exceptions"].items()
                if not iv and cal["week"].get(day.weekday())]
    return WorkCalendar(workdays or WEEKDAYS[:5], holidays)


@contextlib.contextmanager
def _in_file(project):
    """Prefix the file to an error of the calendar arithmetic (``calendar '1' has no
    working time``), which knows only the calendar."""
    source = str(project.meta.get("source", "<project>"))
    try:
        yield
    except ScheduleImportError as exc:
        if str(exc).startswith(source):
            raise
        raise ScheduleImportError(f"{source}: {exc}") from None


def _axis_week(project, moments=()) -> tuple:
    """The axis calendar of an imported project as a :class:`WorkWeek` from its data
    date, tabulated over the project's dates and ``moments``; and its hours per day."""
    meta = project.meta
    cal = meta["calendars"][meta["axis_calendar"]]
    dates = [meta["data_date"], *moments]
    for _, d in project.graph.nodes(data=True):
        dates += [x for x in (d.get("actual_start"), d.get("actual_finish"), d.get("tool_start"),
                              d.get("tool_finish"), (d.get("constraint") or (0, None))[1]) if x]
    week = WorkWeek(cal["week"], cal["exceptions"], meta["data_date"],
                    min(dates).date() - _dt.timedelta(days=7),
                    max(dates).date() + _dt.timedelta(days=3650), name=str(meta["axis_calendar"]))
    return week, cal["hours_per_day"]


def axis_days(project, moments) -> list[float]:
    """Working days from the data date to each of ``moments`` on the axis calendar.

    The same conversion as :func:`engine_hints` gives task releases: time 0 is
    ``meta["data_date"]``, working time is that of ``meta["axis_calendar"]``.
    """
    moments = list(moments)
    if not moments:
        return []
    with _in_file(project):
        week, hpd = _axis_week(project, moments)
        return [week.work(m) / hpd for m in moments]


def engine_hints(project) -> None:
    """Working-day offsets on the axis calendar (origin: the data date) for the engine.

    Sets ``release`` (earliest start from start-on/after or must-start-on constraints,
    >= 0) on not-started tasks and ``fixed_start``/``fixed_finish`` (<= 0) on completed
    ones, using ``meta["axis_calendar"]``; the engine honours both (model.task_dates).
    """
    with _in_file(project):
        week, hpd = _axis_week(project)
        for _, d in project.graph.nodes(data=True):
            if d.get("status") == "complete" and d.get("actual_start") and d.get("actual_finish"):
                d["fixed_start"] = min(0.0, week.work(d["actual_start"]) / hpd)
                d["fixed_finish"] = min(0.0, week.work(d["actual_finish"]) / hpd)
            c = d.get("constraint")
            if c and c[1] and c[0] in ("SNET", "SO", "MSO") and d.get("status") == "not started":
                d["release"] = max(0.0, week.work(c[1]) / hpd)


def capacity_steps(periods, default: float = 0.0) -> tuple[float, list]:
    """``(capacity, changes)`` for :meth:`Project.add_resource` from availability periods.

    ``periods`` are ``(start, end, units)`` in working days from time 0 (``end`` None:
    open), sorted by start. Between periods and before the first one the resource has
    ``default`` units; the last period's units hold after its end (a capacity that
    ends would leave every task that needs the resource unschedulable). Changes at or
    before time 0 fold into the starting capacity: nothing is scheduled before it.
    """
    events = []
    for k, (start, end, units) in enumerate(periods):
        events.append((start, units))
        nxt = periods[k + 1][0] if k + 1 < len(periods) else None
        if end is not None and nxt is not None and nxt > end:
            events.append((end, default))
    capacity = default
    changes: dict[float, float] = {}
    for t, units in events:
        if t <= 0:
            capacity = units
        else:
            changes[t] = units  # a later event at the same time wins
    steps, last = [], capacity
    for t in sorted(changes):
        if changes[t] != last:
            steps.append((t, changes[t]))
            last = changes[t]
    return capacity, steps




def parse_xml(data: bytes, path, fmt: str):
    """The root element of an XML schedule file, parsed with :mod:`defusedxml`.

    A DTD, entity declaration or external reference is refused before anything is
    expanded or fetched (billion laughs, external entities): scheduling tools never
    write them. Malformed XML is a :class:`ScheduleImportError` naming the file, the
    line and the column.
    """
    from xml.etree.ElementTree import ParseError

    import defusedxml
    import defusedxml.ElementTree as DET

    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    except defusedxml.DTDForbidden:
        raise ScheduleImportError(
            f"{path}: refused: the XML declares a DTD (<!DOCTYPE ...>), which {fmt} files "
            "never have; pmosim does not expand XML entities or fetch external references "
            "(billion-laughs and external-entity protection)") from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden,
            defusedxml.DefusedXmlException) as exc:
        raise ScheduleImportError(
            f"{path}: refused: the XML uses entities or external references ({exc}); "
            "pmosim does not expand them") from None
    except ParseError as exc:
        raise ScheduleImportError(f"{path}: not well-formed XML: {exc}") from None

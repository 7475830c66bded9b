"""Helpers shared by the schedule importers: file reading, import reports, working time.

- :func:`read_bytes`, :func:`read_text`: read a schedule file with clear errors;
- :func:`import_report`: counts and warnings of one import;
- :func:`parse_dt`: tool date strings to ``datetime``;
- :func:`add_connector`: a second link between two tasks through a connector task;
- :func:`work_calendar`, :func:`engine_hints`: the day-level calendar and the
  working-day engine hints of an imported project.

Working time
------------
pmosim schedules on one axis of working time. Scheduling tools keep dates on a
wall clock and a calendar per task. :class:`WorkWeek` maps between the two for
one calendar: a weekly pattern of working intervals plus exception days, with
``work(dt)`` (wall clock -> working hours since an origin) and ``date(hours)``
(elapsed hours -> wall clock). Importers use it to turn tool dates into working
offsets (:func:`engine_hints`). The reference forward pass that checks imported
schedules against the tool's dates (``schedule_dates``) lives with the tests, in
``tests/reference_worktime.py``.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from collections import Counter
from pathlib import Path

from ..errors import ScheduleImportError

__all__ = ["read_bytes", "read_text", "import_report", "parse_dt", "add_connector",
           "work_calendar", "engine_hints", "WorkWeek"]


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


def parse_dt(value: str | None):
    """Parse an ISO-like date/time ('2017-09-27 08:00', '2017-09-27T08:00:00'); None if empty."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        return None


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


def engine_hints(project) -> None:
    """Working-day offsets on the axis calendar (origin: the data date) for the engine.

    Sets ``release`` (earliest start from start-on/after or must-start-on constraints,
    >= 0) on not-started tasks and ``fixed_start``/``fixed_finish`` (<= 0) on completed
    ones, using ``meta["axis_calendar"]``; the engine honours both (model.task_dates).
    """
    meta = project.meta
    cal = meta["calendars"][meta["axis_calendar"]]
    dates = [meta["data_date"]]
    for _, d in project.graph.nodes(data=True):
        dates += [x for x in (d.get("actual_start"), d.get("actual_finish"), d.get("tool_start"),
                              d.get("tool_finish"), (d.get("constraint") or (0, None))[1]) if x]
    week = WorkWeek(cal["week"], cal["exceptions"], meta["data_date"],
                    min(dates).date() - _dt.timedelta(days=7),
                    max(dates).date() + _dt.timedelta(days=3650), name=str(meta["axis_calendar"]))
    hpd = cal["hours_per_day"]
    for _, d in project.graph.nodes(data=True):
        if d.get("status") == "complete" and d.get("actual_start") and d.get("actual_finish"):
            d["fixed_start"] = min(0.0, week.work(d["actual_start"]) / hpd)
            d["fixed_finish"] = min(0.0, week.work(d["actual_finish"]) / hpd)
        c = d.get("constraint")
        if c and c[1] and c[0] in ("SNET", "SO", "MSO") and d.get("status") == "not started":
            d["release"] = max(0.0, week.work(c[1]) / hpd)

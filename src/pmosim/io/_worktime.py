"""Helpers shared by the schedule importers: file reading, import reports, working time.

Working time
------------
pmosim schedules on one axis of working time. Scheduling tools keep dates on a
wall clock and a calendar per task. :class:`WorkWeek` maps between the two for
one calendar: a weekly pattern of working intervals plus exception days, with
``to_work(dt)`` (wall clock -> working hours since an origin) and
``to_date(hours)`` (back). Importers use it to turn tool dates into working
offsets and to check their own deterministic pass against the tool's dates.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import math
from collections import Counter
from pathlib import Path

from ..errors import ScheduleImportError

__all__ = ["read_text", "import_report", "WorkWeek"]


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
                  warnings: list[str], **extra) -> dict:
    """Counts and warnings of one import, for ``project.meta["import_report"]``.

    Links are counted per type and lags (non-zero) per type from the graph, so the
    report always describes what was imported, not what the file claimed.
    """
    link_types = Counter()
    lags = Counter()
    for _, _, data in project.graph.edges(data=True):
        kind = data.get("type", "FS")
        link_types[kind] += 1
        if data.get("lag", 0) != 0:
            lags[kind] += 1
    report = {
        "format": fmt,
        "source": str(source),
        "tasks": project.n_tasks,
        "links": project.graph.number_of_edges(),
        "links_by_type": {t: link_types.get(t, 0) for t in ("FS", "SS", "FF", "SF")},
        "lags": sum(lags.values()),
        "lags_by_type": {t: lags.get(t, 0) for t in ("FS", "SS", "FF", "SF")},
        "calendars": calendars,
    }
    report.update(extra)
    report["warnings"] = list(warnings)
    return report


_DAY = _dt.timedelta(days=1)


class WorkWeek:
    """A working-time calendar: weekly working intervals plus exception days.

    Parameters
    ----------
    week : dict[int, list[tuple[float, float]]]
        Per ISO weekday 0 (Monday) .. 6 (Sunday), working intervals in hours from
        midnight, e.g. ``{0: [(8, 12), (13, 17)], ...}``; missing days are off.
    exceptions : dict[datetime.date, list[tuple[float, float]]]
        Dates whose intervals replace the weekly pattern (``[]`` = non-working).
    origin : datetime.datetime
        Working hour 0.
    name : str
        For messages.

    Examples
    --------
    >>> import datetime as dt
    >>> w = WorkWeek({d: [(8, 12), (13, 17)] for d in range(5)}, {}, dt.datetime(2024, 1, 5, 8))
    >>> w.to_work(dt.datetime(2024, 1, 8, 9))   # Fri 8-17 (8 h), then Mon 8-9
    9.0
    >>> w.to_date(9.0)
    datetime.datetime(2024, 1, 8, 9, 0)
    >>> w.to_date(8.0), w.to_date(8.0, finish=True)
    (datetime.datetime(2024, 1, 8, 8, 0), datetime.datetime(2024, 1, 5, 17, 0))
    """

    def __init__(self, week, exceptions, origin: _dt.datetime, name: str = "calendar"):
        self.name = name
        self.week = {d: sorted(week.get(d, [])) for d in range(7)}
        self.exceptions = {d: sorted(v) for d, v in exceptions.items()}
        self.origin = origin
        self.hours_per_week = sum(b - a for iv in self.week.values() for a, b in iv)
        if self.hours_per_week <= 0 and not any(self.exceptions.values()):
            raise ScheduleImportError(f"calendar {name!r} has no working time")
        # Cumulative working hours at the start of each day from origin's date, grown on demand.
        self._day0 = origin.date()
        self._cum = [0.0]
        self._cum_back = [0.0]
        self._origin_hours = self._hours_before(origin)

    def intervals(self, day: _dt.date):
        iv = self.exceptions.get(day)
        return self.week[day.weekday()] if iv is None else iv

    def day_hours(self, day: _dt.date) -> float:
        return sum(b - a for a, b in self.intervals(day))

    def _hours_before(self, moment: _dt.datetime) -> float:
        """Working hours of moment's day before moment."""
        h = moment.hour + moment.minute / 60 + moment.second / 3600
        return sum(max(0.0, min(b, h) - a) for a, b in self.intervals(moment.date()))

    def _cum_at(self, k: int) -> float:
        """Working hours from the start of day0 to the start of day0 + k (k may be < 0)."""
        if k >= 0:
            while len(self._cum) <= k:
                d = self._day0 + (len(self._cum) - 1) * _DAY
                self._cum.append(self._cum[-1] + self.day_hours(d))
                if len(self._cum) > 200_000:
                    raise ScheduleImportError(f"calendar {self.name!r}: date out of range")
            return self._cum[k]
        while len(self._cum_back) <= -k:
            d = self._day0 - len(self._cum_back) * _DAY
            self._cum_back.append(self._cum_back[-1] - self.day_hours(d))
            if len(self._cum_back) > 200_000:
                raise ScheduleImportError(f"calendar {self.name!r}: date out of range")
        return self._cum_back[-k]

    def to_work(self, moment: _dt.datetime) -> float:
        """Working hours from the origin to ``moment`` (negative before it)."""
        k = (moment.date() - self._day0).days
        return self._cum_at(k) + self._hours_before(moment) - self._origin_hours

    def to_date(self, hours: float, finish: bool = False) -> _dt.datetime:
        """The wall-clock moment ``hours`` working hours after the origin.

        A moment on a boundary between working periods is ambiguous: a start is
        placed at the beginning of the next working period, a finish
        (``finish=True``) at the end of the previous one, as scheduling tools show them.
        """
        target = hours + self._origin_hours
        eps = 1e-7
        if target >= 0:
            self._cum_at(1)
            while self._cum[-1] < target + (0 if finish else eps) or len(self._cum) < 2:
                self._cum_at(len(self._cum))
            cum = self._cum
            k = (bisect.bisect_left(cum, target - eps) if finish else
                 bisect.bisect_right(cum, target + eps)) - 1
            k = max(k, 0)
        else:
            k = -1
            while self._cum_at(k) > target - (eps if finish else -eps):
                k -= 1
            if finish:
                # step forward while the previous day boundary still reaches the target
                while self._cum_at(k + 1) < target - eps:
                    k += 1
        day = self._day0 + k * _DAY
        left = target - self._cum_at(k)
        # walk forward over days with no working time remaining
        for _ in range(400):
            ivs = self.intervals(day)
            for a, b in ivs:
                span = b - a
                if left < span - eps or (finish and left <= span + eps and left > eps) or (
                        not finish and left < span - eps):
                    return _at(day, a + max(left, 0.0))
                if finish and abs(left - span) <= eps:
                    return _at(day, b)
                left -= span
            if finish and abs(left) <= eps and ivs:
                return _at(day, ivs[-1][1])
            day += _DAY
        raise ScheduleImportError(f"calendar {self.name!r}: cannot place {hours} working hours")


def _at(day: _dt.date, hour: float) -> _dt.datetime:
    minutes = round(hour * 60)
    return _dt.datetime.combine(day, _dt.time()) + _dt.timedelta(minutes=minutes)


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


def isclose_minutes(a: _dt.datetime, b: _dt.datetime, minutes: float = 1.0) -> bool:
    return abs((a - b).total_seconds()) <= minutes * 60 + 1e-6 and not math.isnan(
        (a - b).total_seconds())

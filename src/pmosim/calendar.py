"""Working time <-> calendar dates, on numpy's business-day functions.

pmosim schedules in *working time*: a float ``t``, the number of working days
since the project start, which is working day 0. A :class:`WorkCalendar` (which
weekdays are worked, which dates are holidays) and the project start date turn
those times into dates, following Microsoft Project's convention for whole days:

- Working day ``k`` (``k = 0, 1, 2, ...``) is the ``k``-th working day on or
  after the start date; it covers the working time ``[k, k + 1)``.
- A **start** at time ``t`` is shown on the working day that contains ``t``:
  day ``floor(t)``. A task starting at ``t = 2`` starts on the morning of
  working day 2.
- A **finish** at time ``t`` is shown on the working day that contains the
  instant just before ``t``: day ``ceil(t) - 1``, and day 0 for ``t = 0``
  (a milestone at the project start). A task finishing at ``t = 2`` finishes on
  the evening of working day 1.

So a 2-day task that starts on Monday (``t = 0``) finishes at ``t = 2``, shown
as Tuesday, exactly as MS Project shows it; its successor starts at ``t = 2``,
shown as Wednesday. **Fractional times** fall inside a day: ``t = 2.5`` is the
middle of working day 2, so both a start and a finish at 2.5 are shown on
working day 2. Times within ``TIME_TOLERANCE`` (1e-6 working days, well under
a second of a working day) of a whole number count as that whole number, so
float noise such as ``2.0000000001`` does not move a finish to the next day.

The way back, :meth:`WorkCalendar.working_time`, maps a date to the end of that
date (``at="end"``, the default: "finish by 2027-06-30" means by the evening of
June 30) or to its start (``at="start"``). A non-working date maps to the end of
the last working day before it (or the start of the next working day after it).

The start date must itself be a working day: every method raises
:class:`~pmosim.errors.ModelError` naming the next working day otherwise, as
a silent shift would move every date of the schedule.

Examples
--------
>>> cal = WorkCalendar(holidays=["2027-04-05"])
>>> cal.finish_dates("2027-03-01", 2)          # Monday + 2 working days
datetime.date(2027, 3, 2)
>>> cal.start_dates("2027-03-01", 2)
datetime.date(2027, 3, 3)
>>> cal.finish_dates("2027-03-01", [0, 0.5, 5, 26])   # 2027-04-05 is a holiday
array(['2027-03-01', '2027-03-01', '2027-03-05', '2027-04-06'],
      dtype='datetime64[D]')
>>> float(cal.working_time("2027-03-01", "2027-03-02"))
2.0
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from .errors import ModelError

#: Weekday names in numpy's weekmask order (Monday first).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Times within this many working days of a whole number count as that number.
TIME_TOLERANCE = 1e-6


def _weekday_index(name) -> int:
    text = str(name).strip().lower()
    for i, (short, full) in enumerate(zip(WEEKDAYS, _FULL_NAMES)):
        if text in (short.lower(), full):
            return i
    raise ModelError(
        f"calendar: unknown weekday {name!r}; use Mon, Tue, Wed, Thu, Fri, Sat or Sun")


def as_date(value, what: str = "date") -> _dt.date:
    """Return ``value`` (a date, datetime, numpy datetime64 or ISO text) as a ``datetime.date``."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ModelError(f"{what}: expected a date like 2027-03-01, got NaT")
        return value.astype("datetime64[D]").item()
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ModelError(f"{what}: expected a date like 2027-03-01, got {value!r}") from None


class WorkCalendar:
    """Which days are worked: weekdays plus holidays (numpy ``busdaycalendar``).

    Parameters
    ----------
    workdays : sequence of str
        Worked weekdays, ``"Mon"`` .. ``"Sun"`` (full names and any case also
        accepted); default Monday to Friday.
    holidays : sequence of date or str
        Non-working dates (``datetime.date`` or ISO text). Holidays that fall on
        a non-working weekday change nothing.

    Examples
    --------
    >>> cal = WorkCalendar(["Mon", "Tue", "Wed", "Thu"], holidays=["2027-03-04"])
    >>> cal.workdays
    ('Mon', 'Tue', 'Wed', 'Thu')
    >>> bool(cal.is_workday("2027-03-04"))
    False
    """

    def __init__(self, workdays=WEEKDAYS[:5], holidays=()):
        if isinstance(workdays, str):
            workdays = [workdays]
        mask = [False] * 7
        for name in workdays:
            mask[_weekday_index(name)] = True
        if not any(mask):
            raise ModelError("calendar: workdays is empty; give at least one working weekday")
        days = sorted({as_date(h, "calendar: holiday") for h in holidays})
        self._mask = tuple(mask)
        self._holidays = tuple(days)
        self._cal = np.busdaycalendar(
            weekmask=list(mask), holidays=np.array(days, dtype="datetime64[D]"))

    def __reduce__(self):
        # numpy's busdaycalendar does not pickle; the calendar is rebuilt from its
        # description, so projects and results pickle (Dask, multiprocessing)
        return (WorkCalendar, (self.workdays, self._holidays))

    # -- description --------------------------------------------------------
    @property
    def workdays(self) -> tuple[str, ...]:
        """Worked weekdays as short names, Monday first."""
        return tuple(d for d, worked in zip(WEEKDAYS, self._mask) if worked)

    @property
    def holidays(self) -> tuple[_dt.date, ...]:
        """Holidays, sorted, as given (also those on non-working weekdays)."""
        return self._holidays

    @property
    def busdaycalendar(self) -> np.busdaycalendar:
        """The numpy calendar, for direct use with ``np.busday_*`` functions."""
        return self._cal

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"workdays": [...], "holidays": ["YYYY-MM-DD", ...]}``."""
        return {"workdays": list(self.workdays),
                "holidays": [d.isoformat() for d in self._holidays]}

    def __eq__(self, other):
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return self._mask == other._mask and self._holidays == other._holidays

    def __hash__(self):
        return hash((self._mask, self._holidays))

    def __repr__(self):
        hol = [d.isoformat() for d in self._holidays]
        return f"WorkCalendar(workdays={list(self.workdays)}, holidays={hol})"

    # -- days ---------------------------------------------------------------
    def is_workday(self, dates):
        """Whether each date is a working day (bool or bool array)."""
        return np.is_busday(_as_datetime64(dates), busdaycal=self._cal)

    def next_workday(self, date) -> _dt.date:
        """``date`` itself if it is a working day, else the next working day."""
        day = np.datetime64(as_date(date), "D")
        return np.busday_offset(day, 0, roll="forward", busdaycal=self._cal).item()

    def check_start(self, start) -> _dt.date:
        """Return ``start`` as a date; raise :class:`ModelError` unless it is a working day."""
        day = as_date(start, "start")
        if not self.is_workday(day):
            nxt = self.next_workday(day)
            why = "a holiday" if day in self._holidays else f"a {day.strftime('%A')}"
            raise ModelError(
                f"start {day.isoformat()} is {why}, not a working day of the calendar; "
                f"use {nxt.isoformat()} (the next working day) or change the calendar")
        return day

    def workday(self, start, k):
        """Date of working day ``k`` (integer, or integer array) counted from ``start`` (day 0)."""
        day = np.datetime64(self.check_start(start), "D")
        k = np.asarray(k, dtype=np.int64)
        out = np.busday_offset(day, k, roll="raise", busdaycal=self._cal)
        if np.any(out > _LAST_DAY) or np.any(out < _FIRST_DAY):
            worst = int(np.max(np.abs(k)))
            raise ModelError(
                f"working day {worst:,} from the start {day} falls outside the years 1 to "
                "9999, which dates cannot show; check the start date and the durations, or "
                "leave out the start to report working days")
        return _unwrap(out)

    # -- working time <-> dates -----------------------------------------------
    def start_dates(self, start, t):
        """Dates of starts at working times ``t``: working day ``floor(t)``.

        Parameters
        ----------
        start : date or str
            The project start (working day 0); must be a working day.
        t : float or array_like of float
            Working times; negative ones are before ``start`` (progress: actual dates
            before the data date).

        Returns
        -------
        datetime.date for a scalar ``t``, else ``datetime64[D]`` array of ``t``'s shape.
        """
        t = _check_times(t)
        return self.workday(start, np.floor(t + TIME_TOLERANCE))

    def finish_dates(self, start, t):
        """Dates of finishes at working times ``t``: working day ``ceil(t) - 1`` (day 0 for 0).

        Same parameters and returns as :meth:`start_dates`.
        """
        t = _check_times(t)
        day = np.ceil(t - TIME_TOLERANCE) - 1
        # a finish at time 0 shows on day 0; negative times (actual dates before the
        # data date, which is time 0) count back: t = -3 ends working day -4
        return self.workday(start, np.where(np.abs(t) <= TIME_TOLERANCE, 0.0, day))

    def task_dates(self, start, start_times, finish_times):
        """Start and finish dates of tasks, as MS Project shows them.

        Like :meth:`start_dates` and :meth:`finish_dates`, except that a task of
        zero duration (a milestone) shows its start on its finish date: a
        milestone right after a task that finishes on Tuesday is on Tuesday.

        Returns
        -------
        (starts, finishes) : two ``datetime64[D]`` arrays.
        """
        s = np.atleast_1d(_check_times(start_times))
        f = np.atleast_1d(_check_times(finish_times))
        starts = np.atleast_1d(self.start_dates(start, s))
        finishes = np.atleast_1d(self.finish_dates(start, f))
        return np.where(f - s <= TIME_TOLERANCE, finishes, starts), finishes

    def working_time(self, start, dates, at: str = "end"):
        """Working time of the end (``at="end"``) or start (``at="start"``) of ``dates``.

        The end of the start date itself is 1.0, its start 0.0; dates before the
        start give negative times. Returns a float, or a float array of ``dates``'
        shape.
        """
        if at not in ("end", "start"):
            raise ModelError(f"at must be 'end' or 'start', got {at!r}")
        day0 = np.datetime64(self.check_start(start), "D")
        days = _as_datetime64(dates)
        if at == "end":
            days = days + np.timedelta64(1, "D")
        count = np.busday_count(day0, days, busdaycal=self._cal).astype(float)
        return float(count) if np.ndim(count) == 0 else count


_FIRST_DAY = np.datetime64("0001-01-01", "D")
_LAST_DAY = np.datetime64("9999-12-31", "D")


def _as_datetime64(dates):
    if isinstance(dates, (str, _dt.date, np.datetime64)):
        return np.datetime64(as_date(dates), "D")
    if isinstance(dates, np.ndarray) and np.issubdtype(dates.dtype, np.datetime64):
        return dates.astype("datetime64[D]")
    return np.array([as_date(d) for d in np.ravel(np.asarray(dates, dtype=object))],
                    dtype="datetime64[D]").reshape(np.shape(dates))


def _check_times(t):
    t = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(t)):
        bad = t[~np.isfinite(t)].ravel()[0]
        raise ModelError(f"working times must be finite, got {bad!r}")
    return t


def _unwrap(days):
    return days.item() if np.ndim(days) == 0 else days


__all__ = ["WorkCalendar", "WEEKDAYS", "TIME_TOLERANCE", "as_date"]

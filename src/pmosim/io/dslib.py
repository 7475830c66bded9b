"""Read DSLIB project workbooks (``.xlsx``, needs the optional ``openpyxl``: ``pmosim[dslib]``).

DSLIB (Batselier & Vanhoucke 2015, IJPM 33(3):697-710; OR&S, Ghent University) holds
real projects as ProTrack workbooks. The reader uses these sheets:

``Agenda``
    the working calendar: 24 hours with Yes/No, 7 weekdays with Yes/No and a column of
    holidays. ProTrack counts a day (``d``) as the working hours of one agenda day and a
    week (``w``) as its working days: ``5d`` on an agenda of 7:00-12:00, 13:00-18:00 is
    50 hours; on 6:00-22:00 every day, ``1w`` is 7 days of 16 hours. Every duration and
    lag is read so, in working days of the agenda, and the agenda is the project's
    calendar (``meta["calendars"]["agenda"]``, ``project.calendar`` its day-level
    view). Without the sheet (the 2024 workbooks): ProTrack's default, 8:00-12:00 and
    13:00-17:00, Monday to Friday.
``Baseline Schedule``
    ID, Name, WBS, Predecessors (``12FS;3SS+2d;7FF-1w``; a bare id is FS), Baseline
    Start/End, Duration (``5d``, ``1d 2h``, ``4h``, ``0``, ``23,88 days``), costs
    (Resource Cost, Fixed Cost, Cost/Hour, Variable Cost, Total Cost).
    Rows whose WBS code has children (or, without WBS codes, whose next row's name is
    indented deeper) are WBS groups, not tasks; row 0 is the project. A date without a
    time of day (``Fri 4/11/16``, or midnight on an agenda that does not work then) is
    the start of that day's working time, or its end as a Baseline End (and as a
    milestone's start).
``Risk Analysis``
    per activity a profile and Optimistic / Most Probable / Pessimistic: percentages
    of the baseline duration for the ``standard`` and ``manual - relative`` profiles,
    working hours for ``manual - absolute`` (or durations with units such as ``6h``).
    The columns give no unit, and two workbooks of the extension (C2024-01, C2025-05)
    give their ``standard`` profiles in working days (0.5 / 1 / 1.5 for a 1-day
    activity): the sheet's unit is the one under which the Most Probable values lie
    near the baseline Durations (``_Reader.risk_units``), the report's ``risk_units``
    and a warning say what was read and why.
``Resources``
    ID, Name, Type, Availability (``20``, ``8 people``, ``4 #4``: the number, then a
    unit label), Cost/Use, Cost/Unit and Assigned To (``1[2.00 Handlanger];77;...``:
    activity ids with the units they use, 1 when not given). Renewable resources become
    levelling resources with their availability as capacity, and the units their
    activities' demands.
    Workbooks that leave Assigned To empty (the 2024 extension) give the demands in the
    Baseline Schedule's Resource Demand column instead (``Handlanger[2.00 #20]``,
    ``PM[50%]``, ``worker[3]``, a bare name for 1 unit), by resource name. Consumable
    resources are not levelled (the report says so); a renewable resource without an
    availability gets 1 unit or its largest demand, whichever is more (said in a
    warning); a demand above a capacity is capped at it (see
    :func:`pmosim.io._common.add_resources`).
``TP1`` .. ``TPn``, ``Tracking Overview``
    the tracking periods, read on request (``read_dslib(path, tracking=True)``,
    :func:`read_dslib_tracking`) into :class:`TrackingPeriod` objects.

Each activity gets ``duration`` = ``Triangular(optimistic, most probable, pessimistic)``
in working days (``Fixed`` when the three agree or the activity has no estimate),
``planned`` = its baseline duration, ``name``, ``wbs``, ``risk_profile``,
``tool_start``/``tool_finish`` (baseline dates), and its costs:

- ``cost`` is its Total Cost (Resource + Fixed + Variable Cost where Total Cost is
  empty), split into ``cost_fixed`` (Fixed Cost; the resources' Cost/Use, per unit
  used; fixed quantities of consumables, ``10000.00F``) and ``cost_rate`` per working
  day (the rest: Variable Cost = Cost/Hour x hours, and units x Cost/Unit per hour of
  the resources), so that the planned cost is the Total Cost and a longer run costs
  more. The report's ``costs`` (with the keys of the other importers' ``costs``
  section) give the totals, ``budgeted`` being the project row's cost;
  ``meta["resource_rates"]`` the Resources sheet's rates.

**Baseline dates.** A baseline start later than the activity's relations allow (from
its predecessors' baseline dates, or the project start when it has none) is a wait the
links do not explain: an activity without predecessors that starts later, an activity
waiting for a renewable resource that the baseline's other activities fully use at the
time its links allow (a levelled baseline), or one held to a date. ``baseline_starts``
(:func:`read_dslib`) says which become start-no-earlier-than constraints (``constraint``
= ``("SNET", baseline start)`` and ``release``); by default all do, so the CPM schedule
is the baseline. The import report's ``baseline`` entry counts the waits by cause and
says whether the CPM schedule reproduces the baseline dates and, when it does not, why:
baseline dates that break the workbook's own relations (a data error: a successor
starting before its predecessor finishes), dates whose working time differs from the
Duration (dates not scheduled on the agenda), or waits the mode leaves out. Its
``finish_reproduced`` says whether the CPM finish is the baseline finish, and when it is
not, ``finish_reason`` (also a warning, and a line before every ``pmosim run`` of the
workbook) names the workbook date on the links that drive the CPM finish that CPM cannot
keep, with ``finish_cause`` the same as data. When the baseline dates fall on days the
agenda does not work and follow the relations better on a week with those days
(``read_dslib(calendar="auto")``), that week is the project's calendar; a lag in days
that the dates break as working days but keep to the minute as calendar days was an
elapsed lag (MS Project's ``ed``) and becomes the working time those calendar days span at
the baseline dates.
``benchmarks/dslib_baselines.py`` compares the CPM finish with every workbook's.

Workbooks of the 2024 extension name their sheets ``Baseline Schedule1`` and
``Risk Analysis1``; those are read too.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as _dt
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Hashable

import networkx as nx
import numpy as np

from ..distributions import Fixed, Triangular
from ..errors import ModelError, ScheduleImportError
from ..model import Project
from ._common import (MAX_DAYS, ImportedResource, _axis_week, add_connector, add_resources,
                      axis_days, import_report, model_errors, parse_date, parse_int,
                      parse_number, read_bytes, show, work_calendar)

__all__ = ["read_dslib", "read_dslib_tracking", "TrackingPeriod", "ActivityStatus",
           "PeriodMetrics", "parse_duration", "parse_predecessors"]

#: ProTrack's default agenda (8:00-12:00, 13:00-17:00, Monday to Friday), used when a
#: workbook has no Agenda sheet.
HOURS_PER_DAY = 8.0
DAYS_PER_WEEK = 5.0
#: Duration units by the agenda quantity they count: a week of working days, a working
#: day, an hour, a minute.
_UNIT = {"w": "week", "week": "week", "weeks": "week", "d": "day", "day": "day",
         "days": "day", "h": "hour", "hour": "hour", "hours": "hour", "hrs": "hour",
         "m": "minute", "min": "minute"}
_TOKEN = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)?", re.I)
_LINK = re.compile(r"^\s*(\d+)\s*(FS|SS|FF|SF)?\s*(?:([+-])\s*(.+?))?\s*$", re.I)
_ABSOLUTE = "manual - absolute"
_RELATIVE = "manual - relative"
#: The Baseline Schedule's cost columns; Total Cost is the sum of the other three.
_COST_FIELDS = ("Resource Cost", "Fixed Cost", "Variable Cost", "Total Cost")
#: What ``read_dslib(baseline_starts=...)`` accepts.
BASELINE_STARTS = ("all", "dated", "none")
#: What ``read_dslib(calendar=...)`` accepts.
CALENDARS = ("auto", "agenda")


def parse_duration(text, *, default_unit: float = 1.0, hours_per_day: float = HOURS_PER_DAY,
                   days_per_week: float = DAYS_PER_WEEK) -> float:
    """Working days in a ProTrack duration such as ``"1w 2d"``, ``"1d 2h"``, ``"23,88 days"``.

    ProTrack counts a day as the working hours of one day of the project's agenda and
    a week as its working days (``hours_per_day``, ``days_per_week``: 8 and 5 in the
    default agenda; 16 and 7 in one of 6:00-22:00 every day). A bare number is in
    ``default_unit`` days (1: days). Raises ``ValueError``.

    Examples
    --------
    >>> parse_duration("1d 2h"), parse_duration("2w 4d"), parse_duration("23,88 days")
    (1.25, 14.0, 23.88)
    >>> parse_duration("1d 2h", hours_per_day=10), parse_duration("1w", days_per_week=7)
    (1.2, 7.0)
    """
    per_unit = {"week": days_per_week, "day": 1.0, "hour": 1 / hours_per_day,
                "minute": 1 / hours_per_day / 60}
    if isinstance(text, (int, float)):
        try:
            days = float(text) * default_unit
        except OverflowError:  # a 400-digit whole number in a cell
            days = math.inf
        return _bounded(days, text)
    s = str(text).strip().lower()
    if not s:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for m in _TOKEN.finditer(s):
        if s[pos:m.start()].strip():
            raise ValueError(f"cannot read duration {text!r}")
        value = float(m.group(1).replace(",", "."))
        unit = m.group(2)
        if unit is None:
            total += value * default_unit
        elif unit in _UNIT:
            total += value * per_unit[_UNIT[unit]]
        else:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r}")
        pos = m.end()
    if pos == 0 or s[pos:].strip():
        raise ValueError(f"cannot read duration {text!r}")
    return _bounded(total, text)


def _bounded(days: float, text) -> float:
    """``days`` if it is a duration pmosim can schedule; ValueError otherwise."""
    if not math.isfinite(days) or abs(days) > MAX_DAYS:
        raise ValueError(f"duration {show(text)} is not finite or longer than {MAX_DAYS:,} "
                         "working days")
    return days


def parse_predecessors(text, *, hours_per_day: float = HOURS_PER_DAY,
                       days_per_week: float = DAYS_PER_WEEK) -> list[tuple[int, str, float]]:
    """``(predecessor id, type, lag in working days)`` of a Predecessors cell.

    Lags are read by :func:`parse_duration` with the agenda's ``hours_per_day`` and
    ``days_per_week``.

    Examples
    --------
    >>> parse_predecessors("12FS;3SS+2d;7FF-1w")
    [(12, 'FS', 0.0), (3, 'SS', 2.0), (7, 'FF', -5.0)]
    >>> parse_predecessors(3)
    [(3, 'FS', 0.0)]
    """
    if text is None:
        return []
    if isinstance(text, (int, float)):
        if isinstance(text, float) and (not math.isfinite(text) or text != int(text)) \
                or abs(int(text)) >= 2**63:
            raise ValueError(f"cannot read relation {show(text)}")
        return [(int(text), "FS", 0.0)]
    out = []
    parts = []
    for part in str(text).split(";"):
        # some workbooks list bare ids with commas: "15,12,13,14"
        parts += part.split(",") if re.fullmatch(r"\s*\d+(\s*,\s*\d+)+\s*", part) else [part]
    for part in parts:
        if not part.strip():
            continue
        m = _LINK.match(part)
        if not m:
            raise ValueError(f"cannot read relation {part.strip()!r}")
        pred, kind, sign, lag = m.groups()
        if len(pred) > 18:
            raise ValueError(f"activity id {show(pred)} in relation {show(part.strip())} is too "
                             "large")
        days = parse_duration(lag, hours_per_day=hours_per_day,
                              days_per_week=days_per_week) if lag else 0.0
        out.append((int(pred), (kind or "FS").upper(), -days if sign == "-" else days))
    return out


class _ReadOnly(Mapping):
    """A read-only mapping that, unlike ``types.MappingProxyType``, pickles and copies
    (projects travel to Dask workers and through ``copy.deepcopy``)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return repr(self._data)


@dataclass(frozen=True)
class ActivityStatus:
    """One activity's progress at a tracking period's status date (a row of a TP sheet).

    Durations are working days of the workbook's agenda, amounts in its currency.
    ``status`` is ``"not started"``, ``"in progress"`` or ``"complete"`` (the sheet's
    Tracking column: Not Started / Started / Finished; from the percentage where it
    is empty). ``actual_finish`` is set for a completed activity: its actual start
    plus its actual duration on the agenda. ``remaining_duration``,
    ``remaining_cost``, ``earned_value`` and ``planned_value`` are None where the
    sheet leaves them empty (the 2023-2025 workbooks).
    """

    status: str
    actual_start: _dt.datetime | None
    actual_finish: _dt.datetime | None
    actual_duration: float
    remaining_duration: float | None
    percent_complete: float
    actual_cost: float
    remaining_cost: float | None
    earned_value: float | None
    planned_value: float | None


@dataclass(frozen=True)
class PeriodMetrics:
    """A period's row of the workbook's ``Tracking Overview`` sheet, as ProTrack computed it.

    ``pv``, ``ev``, ``ac``, ``sv``, ``cv`` are amounts; ``spi``, ``cpi``, ``spi_t``,
    ``p_factor`` ratios; ``es`` (earned schedule) a date; ``sv_t`` working days (from
    ``'-3d 5h'``); ``period_start`` the previous status date (the project start for the
    first period). ``forecasts`` maps ProTrack's forecast column names to values:
    ``EAC(t)-PV (PF=1)`` .. ``EAC(t)-ES (PF=SCI(t))`` (dates) and ``EAC (PF=1)`` ..
    ``EAC (PF=0.8*CPI+0.2*SPI(t))`` (amounts). A cell left empty is None.
    """

    name: str
    period_start: _dt.datetime | None
    status_date: _dt.datetime | None
    pv: float | None
    ev: float | None
    ac: float | None
    es: _dt.datetime | None
    sv: float | None
    spi: float | None
    cv: float | None
    cpi: float | None
    sv_t: float | None
    spi_t: float | None
    p_factor: float | None
    forecasts: Mapping[str, object]


@dataclass(frozen=True)
class TrackingPeriod:
    """One tracking period of a DSLIB workbook (a ``TPn`` sheet); see :func:`read_dslib_tracking`.

    ``number`` is the n of its sheet ``TPn``, ``name`` its TP Name, ``activities`` maps
    each activity id of the baseline schedule to its :class:`ActivityStatus`,
    ``project`` is the sheet's project row (ID 0: the project's actual duration,
    percentage, actual cost, EV and PV at the status date; None without one) and
    ``overview`` the period's :class:`PeriodMetrics` (None when the workbook has no
    Tracking Overview row for it).
    """

    number: int
    name: str
    sheet: str
    status_date: _dt.datetime
    activities: Mapping[Hashable, ActivityStatus]
    project: ActivityStatus | None
    overview: PeriodMetrics | None


def read_dslib(path, *, baseline_starts: str = "all", tracking: bool = False,
               calendar: str = "auto") -> Project:
    """Read a DSLIB workbook into a :class:`~pmosim.model.Project`.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` workbook.
    baseline_starts : {"all", "dated", "none"}
        Which baseline starts that are later than the activity's links allow become
        start-no-earlier-than constraints: ``"all"`` (the default: CPM reproduces the
        baseline), ``"dated"`` (all but the waits for a resource of a levelled baseline,
        for runs that level resources themselves: ``levelling="serial"``) or ``"none"``
        (the logic alone, every activity as early as its links allow).
    tracking : bool
        Also read the tracking periods into ``project.meta["tracking"]`` (a list of
        :class:`TrackingPeriod`, see :func:`read_dslib_tracking`).
    calendar : {"auto", "agenda"}
        The working calendar: ``"agenda"``, the Agenda sheet's (ProTrack's default
        without one); ``"auto"`` (the default), the same unless the baseline dates show
        they were scheduled on another week: when some fall on days the agenda does not
        work (weekends, holidays) and, on the week that adds those weekdays (with the
        agenda's holidays less those the dates use, or without holidays), the dates
        break fewer of the workbook's relations and durations while as many relations
        drive them exactly, that week is the project's calendar (a warning and the
        report's ``calendar`` entry say so).

    Raises
    ------
    ScheduleImportError
        openpyxl missing, not a workbook, no baseline schedule sheet, unreadable
        durations or relations (the message names the sheet, row and value).
    """
    if baseline_starts not in BASELINE_STARTS:
        raise ScheduleImportError(
            f"baseline_starts={baseline_starts!r} is not one of {', '.join(BASELINE_STARTS)}")
    if calendar not in CALENDARS:
        raise ScheduleImportError(
            f"calendar={calendar!r} is not one of {', '.join(CALENDARS)}")
    with _workbook(path) as wb:
        reader = _Reader(wb, str(path))
        project = reader.build(baseline_starts, tracking)
        if calendar == "auto":
            project = _dates_calendar(wb, str(path), reader, project, baseline_starts,
                                      tracking)
        return project


def _dates_calendar(wb, source, reader, project, baseline_starts, tracking) -> Project:
    """``project``, or the workbook read again on the week its baseline dates were
    scheduled on, when they fall on days the agenda does not work and follow the
    relations better on that week (see :func:`read_dslib`, ``calendar``)."""
    cal = reader.calendar
    if reader.fit is None:
        return project
    dates = [x for _, d in project.graph.nodes(data=True)
             for x in (d.get("tool_start"), d.get("tool_finish")) if x is not None]
    weekend = [x for x in dates if not cal["week"].get(x.weekday())]
    holidays = {x.date() for x in dates if cal["week"].get(x.weekday())
                and x.date() in cal["exceptions"] and not cal["exceptions"][x.date()]}
    if not weekend and not holidays:
        return project
    hours = next(ivs for ivs in cal["week"].values() if ivs)
    days = {d for d in range(7) if cal["week"].get(d)} | {x.weekday() for x in weekend}
    kept = {k: v for k, v in cal["exceptions"].items() if k not in holidays}
    candidates = []
    for exceptions in (kept, {}):
        candidate = {"name": "DSLIB baseline dates", "hours_per_day": cal["hours_per_day"],
                     "week": {d: (list(hours) if d in days else []) for d in range(7)},
                     "exceptions": exceptions}
        if candidate["week"] == cal["week"] and exceptions == cal["exceptions"]:
            continue
        if candidates and exceptions == candidates[-1][0]["exceptions"]:
            continue
        other = _Reader(wb, source, calendar=candidate)
        try:
            candidates.append((candidate, other, other.build(baseline_starts, tracking)))
        except ScheduleImportError:
            continue                 # e.g. a 'w' duration that this week makes too long
    base = reader.fit
    best = None
    for candidate, other, built in candidates:
        fit = other.fit
        # no worse on any count and better on one: fewer broken relations or durations
        if (fit["broken"] <= base["broken"] and fit["off"] <= base["off"]
                and fit["driving"] >= base["driving"]
                and fit["broken"] + fit["off"] < base["broken"] + base["off"]
                and (best is None or fit["broken"] + fit["off"]
                     < best[1].fit["broken"] + best[1].fit["off"])):
            best = (candidate, other, built)
    if best is None:
        return project
    candidate, other, built = best
    fit = other.fit
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    off = sorted({x.weekday() for x in weekend})
    said = []
    if weekend:
        plural = [names[d] + "s" for d in off]
        said.append(f"{len(weekend)} on "
                    + (" and ".join(plural) if len(plural) <= 2 else
                       ", ".join(plural[:-1]) + " and " + plural[-1]))
    on_holidays = sum(1 for x in dates if x.date() in holidays)
    if holidays:
        said.append(f"{on_holidays} on its holidays")
    week_text = ("7 days" if len(days) == 7 else
                 ", ".join(names[d][:3] for d in sorted(days)))
    falls = _count(len(weekend) + on_holidays, "dates fall", "date falls")
    text = (f"the baseline dates were not scheduled on the "
            f"{'Agenda sheet' if cal['name'] == 'DSLIB agenda' else 'assumed agenda'}'s days: "
            f"{falls} on days it does not work ({'; '.join(said)}); on a week of {week_text} "
            + ("without holidays" if not candidate["exceptions"] else
               f"with {_count(len(candidate['exceptions']), 'holidays', 'holiday')} of the "
               "agenda")
            + f" they break {_count(fit['broken'], 'relations', 'relation')} and "
            f"{_count(fit['off'], 'durations', 'duration')} (on the agenda "
            f"{base['broken']} and {base['off']}), and {fit['driving']} relations set a start "
            f"exactly (on the agenda {base['driving']}): that week is the project's calendar "
            "(read_dslib(..., calendar='agenda') keeps the agenda)")
    report = built.meta["import_report"]
    report["warnings"].insert(0, text)
    report["calendar"] = {"from": "baseline dates", "weekdays": sorted(days),
                          "holidays": len(candidate["exceptions"]),
                          "agenda_weekdays": sorted(d for d in range(7) if cal["week"].get(d)),
                          "agenda_holidays": len(cal["exceptions"])}
    return built


def read_dslib_tracking(path) -> list["TrackingPeriod"]:
    """The tracking periods of a DSLIB workbook, in status-date order.

    Each ``TPn`` sheet (``Project Control - TP1``, ``TP2``, ...) is one period: its
    status date, and per activity of the baseline schedule (WBS groups left out) an
    :class:`ActivityStatus`; the sheet's project row (ID 0) is the period's
    ``project`` total. The ``Tracking Overview`` row of the period, when the workbook
    has one, is its ``overview`` (:class:`PeriodMetrics`: PV, EV, AC, ES, SV, SPI, CV,
    CPI, SV(t), SPI(t), p-factor and ProTrack's forecasts). Durations are working days
    of the workbook's agenda (as :func:`read_dslib` reads them); an activity's actual
    finish is its actual start plus its actual duration on that agenda. An empty list
    when the workbook has no tracking periods. What could not be read as given is
    said in the project's import report (``read_dslib(path, tracking=True)`` returns
    both).

    Raises
    ------
    ScheduleImportError
        as :func:`read_dslib`, or a tracking sheet without a header row, an unreadable
        date, duration or amount (the message names the sheet, row and value).
    """
    return read_dslib(path, tracking=True).meta["tracking"]


@contextlib.contextmanager
def _workbook(path):
    """The workbook at ``path``, read-only with cached values; closed afterwards."""
    try:
        import openpyxl
    except ImportError:
        raise ScheduleImportError(
            f"{path}: reading DSLIB workbooks needs openpyxl; "
            "pip install 'pmosim[dslib]'") from None
    import io
    import warnings as _warnings
    import zipfile

    data = read_bytes(path, "DSLIB workbook")
    _check_unpacked_size(path, data)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # openpyxl's "unknown extension" notices
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ScheduleImportError(f"{path}: not an .xlsx workbook: {exc}") from None
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            yield wb
    finally:
        wb.close()


#: Most bytes a workbook may unpack to (``PMOSIM_MAX_XLSX_MB`` raises it): a DSLIB
#: workbook of 1,000 activities unpacks to a few MB; a 3.1 MB zip bomb to 3.2 GB.
MAX_UNPACKED_MB = 256


def _check_unpacked_size(path, data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than the limit, before unpacking."""
    import io
    import os
    import zipfile

    limit_mb = MAX_UNPACKED_MB
    raw = os.environ.get("PMOSIM_MAX_XLSX_MB")
    if raw:
        try:
            limit_mb = float(raw)
        except ValueError:
            raise ScheduleImportError(
                f"PMOSIM_MAX_XLSX_MB={raw!r} is not a number of megabytes") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ScheduleImportError(f"{path}: not an .xlsx workbook: {exc}") from None
    if unpacked > limit_mb * 2**20:
        raise ScheduleImportError(
            f"{path}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the limit "
            f"of {limit_mb:,.0f} MB (from {len(data) / 2**20:,.1f} MB on disk); if it is a real "
            f"schedule, raise the limit with PMOSIM_MAX_XLSX_MB")


class _Reader:
    def __init__(self, wb, source, calendar=None):
        self.wb, self.source = wb, source
        #: a calendar dict that replaces the agenda (read_dslib's calendar="auto")
        self.override = calendar
        #: how well the baseline dates follow the links (set by baseline)
        self.fit = None
        self.warnings: list[str] = []
        self.units = {"hours_per_day": HOURS_PER_DAY, "days_per_week": DAYS_PER_WEEK}
        self.day_first = True
        self.calendar = _standard_calendar()
        #: resource id -> (cost per use, cost per unit and hour) from the Resources sheet;
        #: (activity, resource, units, per hour?) of each demand on an activity
        self.rates: dict = {}
        self.priced: list = []
        #: activity id -> its Resource/Fixed/Variable/Total Cost cells (None: empty)
        self.cost_cells: dict = {}
        self.summary: set = set()
        #: the Risk Analysis sheet's unit (see risk_units) and the rows read otherwise
        self.risk_sheet = "Risk Analysis"
        self.estimate_unit, self.estimate_otherwise = "percent", {}
        self.estimates = None

    def sheet(self, name, required):
        for candidate in (name, name + "1"):
            if candidate in self.wb.sheetnames:
                if candidate != name:
                    self.warnings.append(f"sheet {candidate!r} read as {name!r}")
                try:
                    return candidate, list(self.wb[candidate].iter_rows(values_only=True))
                except Exception as exc:  # openpyxl parses the sheet's XML only here
                    raise ScheduleImportError(
                        f"{self.source}: sheet {candidate!r} cannot be read: "
                        f"{type(exc).__name__}: {exc}") from None
        if required:
            raise ScheduleImportError(
                f"{self.source}: no {name!r} sheet (sheets: {', '.join(self.wb.sheetnames)}); "
                "not a DSLIB project workbook")
        return None, []

    def build(self, baseline_starts: str = "all", tracking: bool = False) -> Project:
        self.calendar = self.agenda()
        if self.override is not None:
            self.calendar = self.override
            self.units = {"hours_per_day": self.override["hours_per_day"],
                          "days_per_week": float(sum(1 for ivs in self.override["week"].values()
                                                     if ivs))}
        sheet, rows = self.sheet("Baseline Schedule", required=True)
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            raise ScheduleImportError(f"{self.source}: sheet {sheet!r} has no header row "
                                      "starting with 'ID'")
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        for needed in ("ID", "Name", "Predecessors", "Duration"):
            if needed not in col:
                raise ScheduleImportError(
                    f"{self.source}: sheet {sheet!r} has no {needed!r} column")
        entries = []
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if r is None or all(v is None for v in r) or r[col["ID"]] is None:
                continue
            get = (lambda name, r=r: r[col[name]] if name in col and col[name] < len(r) else None)
            act_id = parse_int(get("ID"), f"{self.source}: sheet {sheet!r}, row {k}", "ID")
            entries.append((k, act_id, get))
        if not entries:
            raise ScheduleImportError(f"{self.source}: sheet {sheet!r} lists no activities")
        project_row = entries[0] if entries[0][1] == 0 else None
        body = [e for e in entries if e is not project_row]

        # WBS groups: a WBS code with children, or (no codes) a deeper-indented next name
        wbs = {e[1]: (str(e[2]("WBS")).strip() if e[2]("WBS") is not None else "") for e in body}
        codes = set(wbs.values()) - {""}
        prefixes = {c.rsplit(".", 1)[0] for c in codes if "." in c}
        summary = set()
        for k, (_, act_id, get) in enumerate(body):
            if wbs[act_id]:
                if wbs[act_id] in prefixes:
                    summary.add(act_id)
            elif k + 1 < len(body):
                indent = _indent(get("Name"))
                if _indent(body[k + 1][2]("Name")) > indent:
                    summary.add(act_id)

        self.summary = summary
        risk = self.risk()
        # the Risk Analysis sheet gives bare numbers without a unit: decide from all its
        # rows at once whether they are percentages or working days (see risk_units)
        durations = {}
        for _, act_id, get in body:
            if act_id not in summary and act_id not in durations:
                with contextlib.suppress(ValueError):   # the task loop reports it
                    raw = get("Duration")
                    durations[act_id] = (parse_duration(raw, **self.units)
                                         if raw is not None else 0.0)
        self.risk_units(risk, durations)
        self.day_first = self.date_order(sheet, entries)
        name = (project_row[2]("Name") if project_row else None) or Path(self.source).stem
        g = Project(str(name), time_unit="days")
        profiles = Counter()
        ids = {}
        for lineno, act_id, get in body:
            if act_id in summary:
                continue
            values = tuple(get(h) for h in col)
            if act_id in ids:
                if ids[act_id] == values:
                    self.warnings.append(f"row {lineno} repeats activity {act_id}; skipped")
                    continue
                raise ScheduleImportError(
                    f"{self.source}: sheet {sheet!r}, row {lineno}: activity ID {act_id} "
                    "appears twice with different contents; give each activity its own ID")
            ids[act_id] = values
            where = f"{self.source}: sheet {sheet!r}, row {lineno}"
            raw = get("Duration")
            try:
                planned = parse_duration(raw, **self.units) if raw is not None else 0.0
            except ValueError as exc:
                raise ScheduleImportError(f"{where}: activity {act_id}: {exc}") from None
            if planned < 0:
                raise ScheduleImportError(f"{where}: activity {act_id}: Duration {show(raw)} is "
                                          "negative; a duration is at least 0")
            dist, profile = self.three_point(act_id, planned, risk.get(act_id))
            profiles[profile] += 1
            at = f"{where}: activity {act_id}"
            cells = {f: (None if get(f) is None or not str(get(f)).strip()
                         else _number(get(f), at, f)) for f in _COST_FIELDS}
            self.cost_cells[act_id] = cells
            total = (cells["Total Cost"] if cells["Total Cost"] is not None
                     else sum(cells[f] or 0.0 for f in _COST_FIELDS[:3]))
            with model_errors(at):
                g.add_task(act_id, dist, name=str(get("Name") or act_id).strip(), planned=planned,
                           wbs=wbs.get(act_id, ""), risk_profile=profile,
                           kind="finish milestone" if planned == 0 else "task",
                           cost=total,
                           # a milestone dated without a time is at the end of its day
                           tool_start=self.date(get("Baseline Start"), at, "Baseline Start",
                                                end=planned == 0),
                           tool_finish=self.date(get("Baseline End"), at, "Baseline End",
                                                 end=True))

        links = []
        skipped = Counter()
        connectors = {}
        children = {s: [a for a in ids if wbs.get(a, "").startswith(wbs[s] + ".")]
                    for s in summary if wbs.get(s)}
        seen_rows = set()
        for lineno, act_id, get in body:
            if (act_id, act_id in summary) in seen_rows:
                continue
            seen_rows.add((act_id, act_id in summary))
            try:
                preds = parse_predecessors(get("Predecessors"), **self.units)
            except ValueError as exc:
                raise ScheduleImportError(f"{self.source}: sheet {sheet!r}, row {lineno}: "
                                          f"activity {act_id}: {exc}") from None
            for pred, kind, lag in preds:
                src = self.endpoint(g, pred, "finish" if kind in ("FS", "FF") else "start",
                                    children, connectors)
                dst = self.endpoint(g, act_id, "start" if kind in ("FS", "SS") else "finish",
                                    children, connectors)
                if src is None or dst is None:
                    skipped[f"link {pred} -> {act_id}"] += 1
                    continue
                member = act_id in children.get(pred, ()) or pred in children.get(act_id, ())
                if src == dst or member:
                    skipped[f"self-link {pred} -> {act_id}"] += 1
                    continue
                links.append((kind, lag))
                with model_errors(f"{self.source}: sheet {sheet!r}, row {lineno}: activity "
                                  f"{act_id}"):
                    if g.graph.has_edge(src, dst):
                        add_connector(g, src, dst, kind, lag)
                    else:
                        g.add_link(src, dst, kind, lag)
        if skipped:
            self.warnings.append(f"{sum(skipped.values())} relations to unknown activities, to "
                                 "themselves or between a WBS group and its own activities "
                                 f"ignored: {', '.join(sorted(skipped)[:10])}")
        if summary:
            self.warnings.append(f"{len(summary)} WBS summary rows kept as groups, not tasks")
        tracking_sheets = [s for s in self.wb.sheetnames if _TP_SHEET.match(s)]
        resources = self.resources(g, sheet, body, summary)
        project_cells = None
        if project_row:
            at = f"{self.source}: sheet {sheet!r}, row {project_row[0]}: project"
            project_cells = {f: (None if project_row[2](f) is None
                                 or not str(project_row[2](f)).strip()
                                 else _number(project_row[2](f), at, f)) for f in _COST_FIELDS}
        costs = self.costs(g, project_cells)
        start = (self.date(project_row[2]("Baseline Start"),
                           f"{self.source}: sheet {sheet!r}, row {project_row[0]}: project",
                           "Baseline Start") if project_row else None)
        if start is None:
            starts = [d["tool_start"] for _, d in g.graph.nodes(data=True) if d.get("tool_start")]
            start = min(starts) if starts else None
        if start is not None:
            g.calendar = work_calendar(self.calendar)
            g.start = g.calendar.next_workday(start.date())
            g.meta.update(calendars={"agenda": self.calendar}, axis_calendar="agenda",
                          data_date=start)
            for _, d in g.graph.nodes(data=True):
                d["calendar"] = d.get("calendar") or "agenda"
            with model_errors(self.source):
                baseline = self.baseline(g, baseline_starts)
        else:
            baseline = {"starts": baseline_starts, "reproduced": False,
                        "reason": "the workbook gives no baseline dates",
                        "finish_reproduced": False,
                        "finish_reason": "the workbook gives no baseline dates",
                        "finish_cause": None}
        g.meta.update(source=self.source, format="dslib",
                      hours_per_day=self.units["hours_per_day"])
        if tracking:
            g.meta["tracking"] = self.tracking(g) if start is not None else []
            if tracking_sheets and start is None:
                self.warnings.append("tracking periods not read: the workbook gives no "
                                     "baseline dates to place them")
        elif tracking_sheets:
            self.warnings.append(
                f"{len(tracking_sheets)} tracking periods (TP sheets) not read: the project is "
                "the baseline; read_dslib(path, tracking=True) or read_dslib_tracking(path) "
                "reads them")
        g.meta["import_report"] = import_report(
            "dslib", self.source, g, calendars=1, warnings=self.warnings, links=links,
            risk_profiles=dict(profiles), risk_units=self.estimates,
            calendar={"from": ("Agenda sheet" if self.calendar["name"] == "DSLIB agenda" else
                               "ProTrack's default (no Agenda sheet)"),
                      "weekdays": [d for d in range(7) if self.calendar["week"].get(d)],
                      "holidays": len(self.calendar["exceptions"])},
            tracking_periods=len(tracking_sheets),
            summary_rows=len(summary),
            baseline=baseline, **resources, total_cost=costs["at_completion"], costs=costs,
        )
        return g

    def date_order(self, sheet, entries) -> bool:
        """Whether the workbook's text dates are day/month (ProTrack's) or month/day.

        Dates written as text (``Mon 5/25/15`` in some workbooks, ``Fri 23/09/16`` in
        others) are day first unless a first number above 12 shows they are month first.
        """
        firsts, seconds = [], []
        for _, _, get in entries:
            for field in ("Baseline Start", "Baseline End"):
                value = get(field)
                m = _DMY.search(value) if isinstance(value, str) else None
                if m:
                    firsts.append(int(m.group(1)))
                    seconds.append(int(m.group(2)))
        if firsts and max(firsts) <= 12 < max(seconds):
            self.warnings.append(f"sheet {sheet!r}: dates written as text read as month/day/year "
                                 f"(one has day {max(seconds)})")
            return False
        return True

    def date(self, value, where: str, field: str, *, day_first: bool | None = None,
             end: bool = False):
        """A date cell (Baseline Start/End, a holiday, a status date) as a datetime (None
        when empty); text dates in the workbook's order unless ``day_first`` says.

        A date without a time of day (a text date, a date cell, or midnight on an agenda
        that does not work at midnight) is the start of that day's working time, or its
        end with ``end`` (``Fri 4/11/16`` as a Baseline End: Friday 17:00).
        """
        if day_first is None:
            day_first = self.day_first
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, _dt.datetime):
            moment, day_only = value, value.time() == _dt.time(0) and not self.works_at_midnight()
        elif isinstance(value, _dt.date):
            moment, day_only = _dt.datetime.combine(value, _dt.time(0)), True
        else:
            m = _DMY.search(value) if isinstance(value, str) else None
            if not m:
                raise ScheduleImportError(f"{where}: {field} {show(value)} is not a date")
            a, b, y = (int(x) for x in m.groups())
            d, mo = (a, b) if day_first else (b, a)
            try:
                moment = _dt.datetime(y + (2000 if y < 100 else 0), mo, d)
            except ValueError:
                order = "day/month/year" if day_first else "month/day/year"
                raise ScheduleImportError(
                    f"{where}: {field} {show(value)} is not a date (read as {order})") from None
            day_only = True
        moment = parse_date(moment, where, field)
        if day_only:
            hours = [iv for ivs in self.calendar["week"].values() for iv in ivs]
            hour = max(b for _, b in hours) if end else min(a for a, _ in hours)
            moment = moment.replace(hour=0, minute=0) + _dt.timedelta(hours=hour)
        return moment

    def works_at_midnight(self) -> bool:
        """Whether the agenda has working time that starts or ends at midnight."""
        return any(a == 0 or b == 24 for ivs in self.calendar["week"].values() for a, b in ivs)

    # -- baseline dates ---------------------------------------------------------------
    def baseline(self, g, mode: str) -> dict:
        """Start-no-earlier-than dates where the baseline implies them; what the report says.

        Every activity's baseline start is compared, in working time of the agenda, with
        the earliest start its relations allow from its predecessors' baseline dates (the
        project start when it has none). A later baseline start is a wait the links do
        not explain, by cause: ``"no predecessor"`` (the activity starts after the
        project start), ``"resource"`` (at the earliest start a renewable resource it
        needs is fully used by the activities the baseline runs then: a levelled
        baseline) or ``"date"`` (neither: a date constraint). The waits of the causes
        ``mode`` names become start-no-earlier-than constraints (node ``constraint`` =
        ``("SNET", baseline start)`` and ``release``, see :func:`pmosim.model.task_dates`)
        and every wait is kept in the node attribute ``baseline_wait``. An earlier
        baseline start breaks a relation (a data error in the workbook: CPM moves the
        activity later), and baseline dates whose working time differs from the
        Duration disagree with the agenda; the report counts and names both.

        A lagged relation whose successor the dates place before the lag allows in
        working days, but exactly where the lag puts it counted in calendar days, was an
        elapsed lag: its ``lag`` becomes the working days those calendar days span from
        the predecessor's baseline date (the project stays on the working-day axis, where
        it can be levelled and given a status; a slipping predecessor keeps that many
        working days, within a day of the calendar days).
        Relations are judged as CPM schedules them: a predecessor finishes its Duration
        after its baseline start, also where its Baseline End says otherwise (dates not
        scheduled on the agenda), so that a successor the stretched dates hold back is
        held to its baseline start too. Then the CPM finish of the result (a forward pass
        on the working-day axis, as :func:`pmosim.cpm` computes it) is compared with the
        baseline finish, and when they differ, the report's ``finish_reason`` says which
        date of the workbook moves it: followed back from the finish along the links that
        drive CPM, the first activity whose CPM start is not its baseline start, and why.
        """
        G = g.graph
        hpd = self.units["hours_per_day"]
        tol = 1 / 60 / hpd                                       # a minute, in working days
        nodes = list(nx.topological_sort(G))
        dated = [t for t in nodes if G.nodes[t].get("tool_start") is not None]
        ended = [t for t in dated if G.nodes[t].get("tool_finish") is not None]
        days = axis_days(g, [G.nodes[t]["tool_start"] for t in dated]
                         + [G.nodes[t]["tool_finish"] for t in ended])
        start = dict(zip(dated, days[:len(dated)]))
        end = dict(zip(ended, days[len(dated):]))
        # pos: (start, start + Duration) as CPM sees the baseline; occupied: (start, end) as
        # the workbook's dates occupy the agenda (for the resource profiles of a levelled plan)
        pos, occupied, waits, broken, mismatched = {}, {}, {}, [], []
        driving, allowed_at, elapsed = 0, {}, []
        week, _ = _axis_week(g)
        for t in nodes:
            d = G.nodes[t]
            planned = float(d.get("planned") or 0.0)
            allowed, driver = 0.0, None
            bounds = []
            for u, _, e in G.in_edges(t, data=True):
                us, uf = pos[u]
                lag = float(e.get("lag") or 0.0)
                kind = e.get("type", "FS")
                bound = {"FS": uf + lag, "SS": us + lag, "FF": uf + lag - planned,
                         "SF": us + lag - planned}[kind]
                if t in start and lag and bound > start[t] + tol:
                    # a lag the dates break in working days but keep to the minute in
                    # calendar days was elapsed (MS Project's 'ed', lost in the workbook)
                    as_days = _elapsed_bound(week, hpd, us, uf, kind, lag * 24.0, planned)
                    if abs(as_days - start[t]) <= tol:
                        elapsed.append((u, t, kind, lag, bound - start[t]))
                        e["lag"] = lag + as_days - bound
                        bound = as_days
                bounds.append(bound)
                if bound > allowed:
                    allowed, driver = bound, (u, kind)
            allowed_at[t] = (allowed, driver)
            if t not in start:                  # a connector or an activity without dates
                pos[t] = occupied[t] = (allowed, allowed + planned)
                continue
            s = start[t]
            pos[t] = (s, s + planned)
            occupied[t] = (s, end.get(t, s + planned))
            driving += sum(1 for b in bounds if abs(b - s) <= tol)
            if t in end and abs(end[t] - s - planned) > tol:
                mismatched.append((t, end[t] - s, planned))
            if s > allowed + tol:
                waits[t] = ("no predecessor" if G.in_degree(t) == 0 else "date", s, allowed)
            elif s < allowed - tol:
                broken.append((t, allowed - s, driver))
        for t in self.resource_waits(g, waits, occupied):
            waits[t] = ("resource", *waits[t][1:])
        applied = {"all": ("no predecessor", "resource", "date"),
                   "dated": ("no predecessor", "date"), "none": ()}[mode]
        for t, (cause, s, _) in waits.items():
            d = G.nodes[t]
            d["baseline_wait"] = cause
            if cause in applied:
                d["constraint"] = ("SNET", d["tool_start"])
                d["release"] = max(0.0, s)
        #: how well the dates follow the links on this agenda (see read_dslib's calendar)
        self.fit = {"broken": len(broken), "off": len(mismatched), "driving": driving,
                    "dates": len(dated) + len(ended)}
        if elapsed:
            listed = "; ".join(
                f"{u} -> {t} ({kind} {lag:+g}d = {_working_days(G.edges[u, t]['lag'])} from "
                f"the baseline dates; as working days {t} would start {_working_days(gap)} "
                "before it allows)" for u, t, kind, lag, gap in elapsed[:5])
            many = len(elapsed) > 1
            self.warnings.append(
                f"{_count(len(elapsed), 'lags', 'lag')} read as calendar days, not working "
                f"days: the baseline dates break {'their relations' if many else 'its relation'}"
                f" in working days and follow {'them' if many else 'it'} to the minute in "
                f"calendar days; {'each' if many else 'it'} is the working time those calendar "
                f"days span at the baseline dates: {listed}"
                + ("; ..." if len(elapsed) > 5 else ""))
        report = self.baseline_report(g, mode, waits, applied, broken, mismatched, occupied)
        report["elapsed_lags"] = len(elapsed)
        report.update(self.finish_check(g, week, nodes, start, end, pos, allowed_at, waits,
                                        applied, report["finish"], mode))
        if report["finish_reason"]:
            self.warnings.append("baseline finish not reproduced: " + report["finish_reason"])
        return report

    def finish_check(self, g, week, nodes, start, end, pos, allowed_at, waits, applied,
                     finish, mode) -> dict:
        """The report's ``cpm_finish``, ``finish_reproduced`` and ``finish_reason``.

        A forward pass in working days of the agenda, as :func:`pmosim.cpm` schedules
        the import (every activity at the latest of its release and what its links allow
        from its predecessors' CPM dates), gives the CPM finish. When it is not the
        baseline finish (to the minute), the reason is traced back from the finish: from
        the activity that finishes last in CPM (later than the baseline) or in the
        baseline (earlier), along the predecessor that drives CPM (or the baseline), to
        the first activity whose own dates make the difference: a start before its
        links allow (a relation the dates break), a start later than they allow that
        the mode does not hold, or dates that span more or less working time than the
        Duration.
        """
        G = g.graph
        hpd = self.units["hours_per_day"]
        tol = 1 / 60 / hpd
        es, ef, driver = {}, {}, {}
        for t in nodes:
            d = G.nodes[t]
            planned = float(d.get("planned") or 0.0)
            at, by = max(0.0, float(d.get("release") or 0.0)), None
            for u, _, e in G.in_edges(t, data=True):
                lag = float(e.get("lag") or 0.0)
                kind = e.get("type", "FS")
                bound = {"FS": ef[u] + lag, "SS": es[u] + lag, "FF": ef[u] + lag - planned,
                         "SF": es[u] + lag - planned}[kind]
                if bound > at + 1e-12:
                    at, by = bound, (u, kind, lag)
            es[t], ef[t], driver[t] = at, at + planned, by
        target = week.work(_dt.datetime.fromisoformat(finish)) / hpd
        cpm = max(ef.values(), default=0.0)
        cpm_text = week.date(week.finish_at(cpm * hpd)).isoformat(sep=" ", timespec="minutes")
        out = {"cpm_finish": cpm_text, "finish_reproduced": abs(cpm - target) <= tol,
               "finish_reason": None, "finish_cause": None}
        if out["finish_reproduced"]:
            return out

        def at(days, side="start"):
            moment = week.start_at(days * hpd) if side == "start" else week.finish_at(days * hpd)
            return f"{week.date(moment):%Y-%m-%d %H:%M}"

        def name(t):
            d = G.nodes[t]
            return str(d.get("name") or t) if d.get("kind") == "connector" else f"{t}"

        later = cpm > target
        order = {t: k for k, t in enumerate(nodes)}
        path, also = [], ""
        found = {"kind": "other", "activity": None, "predecessor": None, "link": None,
                 "working_days": None, "relations_on_path": 0}
        if later:
            t = max(nodes, key=lambda x: (ef[x], -order[x]))
            while True:
                path.append(t)
                s = start.get(t)
                if s is not None and es[t] <= s + tol:
                    # starts on time and finishes after the baseline finish
                    found.update(kind="dates span less than the Duration" if t in end else
                                 "no Baseline End", activity=t,
                                 working_days=(float(G.nodes[t]["planned"]) - (end[t] - s)
                                               if t in end else None))
                    cause = (f"activity {t}'s Baseline End {at(end[t], 'finish')} is "
                             f"{_working_days(end[t] - s)} after its start, its Duration "
                             f"{_working_days(float(G.nodes[t]['planned']))}" if t in end else
                             f"activity {t} has no Baseline End, and its Baseline Start + "
                             f"Duration ({at(pos[t][1], 'finish')}) is later than the latest "
                             "Baseline End of the workbook")
                    break
                if driver[t] is None:
                    cause = f"activity {name(t)} starts later than its baseline date"
                    break
                u, kind, lag = driver[t]
                side_cpm = ef[u] if kind in ("FS", "FF") else es[u]
                side_base = pos[u][1] if kind in ("FS", "FF") else pos[u][0]
                if side_cpm > side_base + tol or s is None:
                    t = u
                    continue
                gap = allowed_at[t][0] - s
                lag_text = f" {lag:+.4g}d" if lag else ""
                group = re.fullmatch(r"S(.+):(start|finish)", str(u))
                pred = (f"WBS group {group.group(1)}" if group
                        and G.nodes[u].get("kind") == "connector" else f"{u}")
                found.update(kind="relation broken", activity=t, predecessor=u, link=kind,
                             working_days=gap, relations_on_path=1)
                cause = (f"activity {t} starts {at(s)} in the baseline, {_working_days(gap)} "
                         f"before its {kind}{lag_text} predecessor {pred} allows "
                         f"({pred} {'finishes' if kind in ('FS', 'FF') else 'starts'} "
                         f"{at(side_base, 'finish' if kind in ('FS', 'FF') else 'start')}); "
                         "CPM keeps the link")
                # other relations the dates break further down the same driving path add
                # to the delay: name them too (the largest first)
                more = sorted(((x, allowed_at[x][0] - start[x]) for x in path[:-1]
                               if x in start and start[x] < allowed_at[x][0] - tol),
                              key=lambda xg: -xg[1])
                if more:
                    found["relations_on_path"] = 1 + len(more)
                    also = (", where the dates break " + _count(
                        len(more), "more relations", "more relation") + ": " + "; ".join(
                        f"activity {x} starts {_working_days(gap_x)} before its "
                        f"{allowed_at[x][1][1]} predecessor {allowed_at[x][1][0]} allows"
                        for x, gap_x in more[:3]) + ("; ..." if len(more) > 3 else ""))
                break
        else:
            last = [t for t in nodes if t in start]
            t = max(last, key=lambda x: (end.get(x, pos[x][1]), -order[x]))
            while True:
                path.append(t)
                s = start.get(t)
                allowed, by = allowed_at[t]
                if s is None and by is None:
                    cause = f"{name(t)} starts earlier in CPM than in the baseline"
                    break
                if s is None or es[t] < s - tol:
                    if s is None or (by is not None and abs(allowed - s) <= tol):
                        t = by[0]                 # the predecessor that set it in the baseline
                        continue
                    how = waits.get(t, ("date",))[0]
                    found.update(kind="wait not held", activity=t, working_days=s - allowed)
                    cause = (f"activity {t} starts {at(s)} in the baseline, "
                             f"{_working_days(s - allowed)} later than its links "
                             f"allow ({_WAIT_WORDS[how]}), and baseline_starts={mode!r} does "
                             "not hold it there" if how not in applied else
                             f"activity {t} starts earlier in CPM than in the baseline")
                    break
                f = end.get(t, pos[t][1])
                found.update(kind="dates span more than the Duration", activity=t,
                             working_days=f - s - float(G.nodes[t]["planned"]))
                cause = (f"activity {t}'s Baseline End {at(f, 'finish')} is "
                         f"{_working_days(f - s)} after its start, its Duration "
                         f"{_working_days(float(G.nodes[t]['planned']))}"
                         + (" (the dates were not scheduled on ProTrack's default agenda, "
                            "which the workbook assumes without an Agenda sheet)"
                            if self.calendar["name"] == "ProTrack standard" else
                            " (the dates were not scheduled on the workbook's agenda)"))
                break
        delta = _working_days(abs(cpm - target))
        route = [name(x) for x in reversed(path[:-1])] if later else []
        through = ""
        if len(path) > 1 and later:
            shown = route if len(route) <= 6 else [*route[:3], "...", *route[-2:]]
            through = f", and the delay reaches the finish through {' > '.join(shown)}"
        out["finish_reason"] = (
            f"the CPM finish {cpm_text} is {delta} {'later' if later else 'earlier'} than the "
            f"baseline finish {finish}: {cause}{through}{also}")
        out["finish_cause"] = found
        return out

    def resource_waits(self, g, waits, pos) -> list:
        """The activities of ``waits`` that a renewable resource explains: started at the
        earliest time their links allow, they would need more of a resource than the
        other activities of the baseline leave free at some moment of their run."""
        G = g.graph
        users = {}
        for t, d in G.nodes(data=True):
            for rid, units in (d.get("resources") or {}).items():
                users.setdefault(rid, []).append((t, float(units)))
        profiles = {}
        for rid, members in users.items():
            cuts = sorted({x for t, _ in members for x in pos[t]})
            use = np.zeros(len(cuts))
            for t, units in members:
                a, b = pos[t]
                use[bisect.bisect_left(cuts, a):bisect.bisect_left(cuts, b)] += units
            profiles[rid] = (cuts, use)
        out = []
        for t, (_, _, a) in waits.items():
            d = G.nodes[t]
            if G.in_degree(t) == 0 or not d.get("resources"):
                continue
            planned = float(d.get("planned") or 0.0)
            for rid, units in d["resources"].items():
                if rid not in g.resources:
                    continue
                cuts, use = profiles[rid]
                # the profile's pieces [cuts[i], cuts[i+1]) that the run [a, a + planned)
                # meets (a milestone: the piece at a)
                lo = max(0, bisect.bisect_right(cuts, a) - 1)
                hi = min(len(cuts) - 1, bisect.bisect_left(cuts, a + max(planned, 1e-9)))
                own = np.array([units if pos[t][0] <= c < pos[t][1] else 0.0
                                for c in cuts[lo:hi]])
                if hi > lo and np.any(use[lo:hi] - own + float(units)
                                      > g.resources[rid].capacity + 1e-9):
                    out.append(t)
                    break
        return out

    def baseline_report(self, g, mode, waits, applied, broken, mismatched, pos) -> dict:
        """The ``baseline`` entry of the import report, and its warnings."""
        G = g.graph
        week, hpd = _axis_week(g)

        def when(days, side="start"):
            at = week.start_at if side == "start" else week.finish_at
            return week.date(at(days * hpd)).isoformat(sep=" ", timespec="minutes")

        ends = [d["tool_finish"] for _, d in G.nodes(data=True) if d.get("tool_finish")]
        if ends:
            finish, finish_from = max(ends).isoformat(sep=" ", timespec="minutes"), "Baseline End"
        else:
            finish = when(max((pos[t][1] for t in pos if G.nodes[t].get("tool_start")),
                              default=0.0), "finish")
            finish_from = "Baseline Start + Duration (the workbook leaves Baseline End empty)"
        causes = Counter(cause for cause, _, _ in waits.values())
        held = sum(n for cause, n in causes.items() if cause in applied)
        def parts(counts):
            return ", ".join(f"{counts[c]} {label}" for c, label in (
                ("no predecessor", "without predecessors"),
                ("resource", "waiting for a resource in the levelled baseline"),
                ("date", "on a date of their own")) if counts[c])

        if waits:
            n = len(waits)
            self.warnings.append(
                f"baseline: {n} activit{'ies start' if n != 1 else 'y starts'} later than "
                f"{'their links allow' if n != 1 else 'its links allow'} ({parts(causes)}); "
                + (f"{held} held to their baseline starts as start-no-earlier-than dates "
                   f"(baseline_starts={mode!r})" if held else
                   f"none held to their baseline starts (baseline_starts={mode!r})"))
        reasons = []
        if broken:
            broken.sort(key=lambda x: -x[1])
            tol = 1 / 60 / hpd
            by_a_day = sum(1 for _, gap, _ in broken if abs(gap - 1) <= tol)
            examples = "; ".join(
                f"activity {t} starts {G.nodes[t]['tool_start']:%Y-%m-%d %H:%M}, "
                f"{_working_days(gap)} before its {kind} predecessor {u} allows"
                for t, gap, (u, kind) in broken[:3])
            reasons.append(
                f"the baseline dates break {_count(len(broken), 'of the relations', 'relation')} "
                "of the workbook, a data error in the workbook (CPM starts those activities when "
                "their links allow, later than the baseline)"
                + (f", {by_a_day} by one working day (a successor starting on the day its "
                   "predecessor finishes)" if by_a_day else "")
                + f": {examples}" + ("; ..." if len(broken) > 3 else ""))
        if mismatched:
            examples = "; ".join(f"activity {t}: {_working_days(span)} between its dates, "
                                 f"Duration {_working_days(planned)}"
                                 for t, span, planned in mismatched[:3])
            cause = ("the workbook has no Agenda sheet and its dates were not scheduled on "
                     "ProTrack's default agenda" if self.calendar["name"] == "ProTrack standard"
                     else "the dates were not scheduled on the workbook's agenda")
            reasons.append(
                f"{_count(len(mismatched), 'activities have', 'activity has')} baseline dates "
                f"whose working time differs from the Duration ({cause}): {examples}"
                + ("; ..." if len(mismatched) > 3 else ""))
        loose = Counter({c: n for c, n in causes.items() if c not in applied})
        if loose:
            n = sum(loose.values())
            reasons.append(f"{_count(n, 'activities start', 'activity starts')} later than "
                           f"the links allow ({parts(loose)}) and baseline_starts={mode!r} "
                           f"does not hold {'them' if n != 1 else 'it'} there")
        reason = "; ".join(reasons) or None
        if reason:
            self.warnings.append("baseline dates not reproduced by the CPM schedule: " + reason)
        return {"starts": mode, "finish": finish, "finish_from": finish_from,
                "waits": {c: causes.get(c, 0) for c in ("no predecessor", "resource", "date")},
                "start_no_earlier_than": held, "relations_broken": len(broken),
                "dates_off_agenda": len(mismatched), "reproduced": reason is None,
                "reason": reason}

    # -- costs ----------------------------------------------------------------------
    def costs(self, g, project_cells) -> dict:
        """Each activity's Total Cost as ``cost_fixed`` + ``cost_rate`` x duration.

        The time-independent part is the Fixed Cost plus, when the activity's Resource
        Cost is what its demands and the Resources sheet's rates give, the resources'
        Cost/Use (per unit used) and the fixed quantities of consumables (``10000.00F``:
        units x Cost/Unit); the rest (the
        Variable Cost and the hourly resource costs: units x Cost/Unit per hour) is
        spread over the planned duration as ``cost_rate`` per working day, so that the
        planned cost is the Total Cost (Resource + Fixed + Variable Cost when Total Cost
        is empty) and a longer run costs more. A milestone's cost is all fixed. The
        Resources sheet's rates go to ``meta["resource_rates"]`` (resource id ->
        ``cost_per_use``, ``cost_per_unit_hour``). Returns the report's ``costs`` entry.
        """
        G = g.graph
        hours = self.units["hours_per_day"]
        rates = {rid: {"cost_per_use": use, "cost_per_unit_hour": unit}
                 for rid, (use, unit) in self.rates.items() if use or unit}
        if rates:
            g.meta["resource_rates"] = rates
        parts = {}
        for act_id, rid, units, per_hour in self.priced:
            per_use, per_unit = self.rates.get(rid, (0.0, 0.0))
            once_hourly = parts.setdefault(act_id, [0.0, 0.0])
            once_hourly[0] += units * per_use              # Cost/Use counts each unit
            once_hourly[1 if per_hour else 0] += units * per_unit
        split, whole, negative = 0, [], []
        totals = Counter()
        for act_id, cells in self.cost_cells.items():
            d = G.nodes[act_id]
            planned, total = float(d["planned"]), float(d["cost"])
            if total < 0:
                negative.append(act_id)
                continue
            fixed = cells["Fixed Cost"] or 0.0
            resource = cells["Resource Cost"]
            once, hourly = parts.get(act_id, (0.0, 0.0))
            if resource and once > 0:
                # the file rounds demands to 2 decimals (0.70 for 0.6957): 1 % tolerance
                if abs(once + hourly * planned * hours - resource) <= 0.01 * abs(resource) + 0.01:
                    fixed += once
                    split += 1
                else:
                    whole.append(act_id)
            if planned <= 0 or fixed > total:
                fixed = total
            if fixed > 0:
                d["cost_fixed"] = fixed
            if total - fixed > 0:
                d["cost_rate"] = (total - fixed) / planned
            totals["fixed"] += fixed
            totals["time"] += total - fixed
            totals["tasks"] += total > 0
        if negative:
            self.warnings.append(
                f"{len(negative)} activities with a negative Total Cost left without costs "
                f"(pmosim costs are >= 0): {', '.join(map(str, negative[:10]))}")
        if whole:
            self.warnings.append(
                f"{len(whole)} activities' Resource Cost is not what their demands and the "
                "Resources sheet's rates give; taken as time-dependent: "
                + ", ".join(map(str, whole[:10])) + (", ..." if len(whole) > 10 else ""))
        stated = None
        if project_cells and any(v is not None for v in project_cells.values()):
            stated = (project_cells["Total Cost"] if project_cells["Total Cost"] is not None
                      else sum(project_cells[f] or 0.0 for f in _COST_FIELDS[:3]))
        total = totals["fixed"] + totals["time"]
        if stated is not None and abs(stated - total) > 0.01:
            self.warnings.append(
                f"the activities' costs add up to {total:,.2f}, the project row's cost is "
                f"{stated:,.2f}; the activities' costs are kept")
        # the keys of the costs section of the XER and MSPDI imports (pmosim run shows it)
        return {"tasks": totals["tasks"], "at_completion": _cents(total), "actual": 0.0,
                "remaining": _cents(total), "time_dependent": _cents(totals["time"]),
                "time_independent": _cents(totals["fixed"]),
                "budgeted": None if stated is None else _cents(stated), "currency": None,
                "resource_costs_split": split, "resource_costs_time_dependent": len(whole)}

    # -- tracking periods -------------------------------------------------------------
    def tracking(self, g) -> list:
        """The TP sheets as :class:`TrackingPeriod` objects (see :func:`read_dslib_tracking`)."""
        sheets = sorted((int(m.group(1)), name) for name in self.wb.sheetnames
                        if (m := _TP_SHEET.match(name)))
        if not sheets:
            return []
        overview = self.overview()
        # actual starts may precede the baseline: tabulate the agenda from 10 years before
        week = _axis_week(g, [g.meta["data_date"] - _dt.timedelta(days=3653)])
        rows_of, heads = {}, {}
        for number, name in sheets:
            _, rows = self.sheet(name, required=True)
            rows_of[number] = rows
            heads[number] = self.period_head(name, rows)
        if len(overview) == len(sheets):
            by_number = dict(zip((n for n, _ in sheets), overview))
        else:
            if overview:
                self.warnings.append(
                    f"sheet 'Tracking Overview' has {len(overview)} periods, the workbook "
                    f"{len(sheets)} TP sheets; rows matched to sheets by status date")
            by_date = {o.status_date: o for o in overview}
            by_number = {n: by_date.get(heads[n][1]) for n, _ in sheets}
        periods = []
        for number, name in sheets:
            title, status_date = heads[number]
            metrics = by_number.get(number)
            if status_date is None and metrics is not None and metrics.status_date is not None:
                status_date = metrics.status_date
                self.warnings.append(f"sheet {name!r}: no readable TP Status Date; the Tracking "
                                     f"Overview's {status_date:%Y-%m-%d %H:%M} used")
            if status_date is None:
                self.warnings.append(f"sheet {name!r}: no readable TP Status Date; period "
                                     "left out")
                continue
            if metrics is not None and metrics.status_date not in (None, status_date):
                self.warnings.append(
                    f"sheet {name!r}: TP Status Date {status_date:%Y-%m-%d %H:%M}, the Tracking "
                    f"Overview's {metrics.status_date:%Y-%m-%d %H:%M}; the sheet's kept")
            activities, project = self.period_rows(g, name, rows_of[number], week)
            periods.append(TrackingPeriod(number, title or name.strip(), name, status_date,
                                          _ReadOnly(activities), project, metrics))
        periods.sort(key=lambda tp: (tp.status_date, tp.number))
        if [tp.number for tp in periods] != sorted(tp.number for tp in periods):
            self.warnings.append("tracking periods are not numbered in status-date order; "
                                 "sorted by status date")
        return periods

    def period_head(self, name, rows) -> tuple:
        """``(TP Name, TP Status Date)`` from the first row of a TP sheet (None if unreadable)."""
        first = list(rows[0]) if rows else []
        labels = {str(v).strip(): k for k, v in enumerate(first) if isinstance(v, str)}
        where = f"{self.source}: sheet {name!r}, row 1"

        def after(label, stop):
            if label not in labels:
                return None
            end = labels[stop] if labels.get(stop, -1) > labels[label] else len(first)
            return next((v for v in first[labels[label] + 1:end]
                         if v is not None and str(v).strip()), None)

        title = after("TP Name", None)
        try:
            status = self.date(after("TP Status Date", "TP Name"), where, "TP Status Date",
                               end=True)
        except ScheduleImportError as exc:
            self.warnings.append(str(exc).removeprefix(f"{self.source}: "))
            status = None
        return (str(title).strip() if title is not None else None), status

    def period_rows(self, g, name, rows, week) -> tuple:
        """``(activities, project)`` of one TP sheet: an :class:`ActivityStatus` per activity
        of the project (by id) and for the project row; ``week``: ``(WorkWeek, hours per
        day)`` of the agenda."""
        header_row = next((k for k, r in enumerate(rows[:6]) if r and r[0] == "ID"), None)
        if header_row is None:
            raise ScheduleImportError(f"{self.source}: sheet {name!r} has no header row "
                                      "starting with 'ID'")
        col = {}
        for k, h in enumerate(rows[header_row]):
            if h is not None and str(h).strip() and str(h).strip() not in col:
                col[str(h).strip()] = k
        for needed in ("Actual Start", "Actual Duration", "Actual Cost", "Percentage Completed"):
            if needed not in col:
                raise ScheduleImportError(f"{self.source}: sheet {name!r} has no {needed!r} "
                                          "column")
        week, hpd = week
        activities, project, unknown, capped = {}, None, [], []
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if not r or r[0] is None or not str(r[0]).strip():
                continue
            get = (lambda f, r=r: r[col[f]] if f in col and col[f] < len(r) else None)
            where = f"{self.source}: sheet {name!r}, row {k}"
            act_id = parse_int(r[0], where, "ID")
            node = g.graph.nodes.get(act_id)
            if act_id != 0 and (node is None or node.get("kind") == "connector"):
                if act_id not in self.summary:
                    unknown.append(act_id)
                continue
            where = f"{where}, activity {act_id}"
            status = self.activity_status(get, where, week, hpd, capped)
            if act_id == 0:
                project = status
            else:
                activities[act_id] = status
        if unknown:
            self.warnings.append(f"sheet {name!r}: rows of {len(unknown)} activities that are "
                                 "not in the baseline schedule left out: "
                                 + ", ".join(map(str, unknown[:10])))
        if capped:
            self.warnings.append(f"sheet {name!r}: Percentage Completed above 100 % read as "
                                 "100 %: activities " + ", ".join(map(str, capped[:10])))
        return activities, project

    def activity_status(self, get, where, week, hpd, capped) -> ActivityStatus:
        """One row of a TP sheet as an :class:`ActivityStatus`."""
        def days(field):
            value = get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            try:
                return parse_duration(value, **self.units)
            except ValueError as exc:
                raise ScheduleImportError(f"{where}: {field}: {exc}") from None

        def amount(field):
            value = get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            return _number(value, where, field)

        start = get("Actual Start")
        if isinstance(start, str) and start.strip().upper() in _NOT_AVAILABLE:
            start = None
        start = self.date(start, where, "Actual Start")
        done = days("Actual Duration") or 0.0
        percent = get("Percentage Completed")
        if isinstance(percent, str) and percent.strip().endswith("%"):
            percent = _number(percent.strip()[:-1], where, "Percentage Completed") / 100
        elif percent is not None and not (isinstance(percent, str) and not percent.strip()):
            percent = _number(percent, where, "Percentage Completed")
        else:
            percent = None
        label = str(get("Tracking") or "").strip().lower()
        if label in _TRACKING:
            status = _TRACKING[label]
        elif percent is not None and percent >= 1 - 1e-9:
            status = "complete"
        elif (percent or 0.0) > 0 or done > 0:
            status = "in progress"
        else:
            status = "not started"
        if percent is None:
            percent = 1.0 if status == "complete" else 0.0
        if percent > 1 + 1e-9:
            capped.append(where.rsplit(" ", 1)[-1])
            percent = 1.0
        finish = None
        if status == "complete" and start is not None:
            finish = week.date(week.finish_at(week.work(start) + done * hpd))
        return ActivityStatus(status, start, finish, done, days("Remaining Duration"),
                              float(percent), amount("Actual Cost") or 0.0,
                              amount("Remaining Cost"), amount("Earned Value (EV)"),
                              amount("Planned Value (PV)"))

    def overview(self) -> list:
        """The Tracking Overview's period rows as :class:`PeriodMetrics`, in sheet order."""
        sheet, rows = self.sheet("Tracking Overview", required=False)
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "Name"), None)
        if header_row is None:
            return []
        col, forecasts = {}, []
        for k, h in enumerate(rows[header_row]):
            h = str(h).strip() if h is not None else ""
            if h == "EAC(t)-ED (PF=SPI)" and h in col:
                h = "EAC(t)-ED (PF=SCI)"        # the sheet names the third ED column twice
            if h and h not in col:
                col[h] = k
                if h.startswith("EAC"):
                    forecasts.append(h)
        out = []
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if not r or r[0] is None or str(r[0]).strip() in ("", "General", "Name"):
                break
            get = (lambda f, r=r: r[col[f]] if f in col and col[f] < len(r) else None)
            where = f"{self.source}: sheet {sheet!r}, row {k}"

            def amount(field):
                value = get(field)
                if value is None or (isinstance(value, str) and not value.strip()):
                    return None
                return _number(value, where, field)

            def moment(field):
                return self.date(get(field), where, field)

            sv_t = get("Schedule Variance (SV(t))")
            if isinstance(sv_t, str) and sv_t.strip():
                text = sv_t.strip()
                sign = -1.0 if text.startswith("-") else 1.0
                try:
                    sv_t = sign * parse_duration(text.lstrip("+-"), **self.units)
                except ValueError as exc:
                    raise ScheduleImportError(
                        f"{where}: Schedule Variance (SV(t)): {exc}") from None
            else:
                sv_t = amount("Schedule Variance (SV(t))")
            values = {}
            for f in forecasts:
                value = get(f)
                values[f] = (value if value is None or isinstance(value, _dt.datetime)
                             else _number(value, where, f))
            out.append(PeriodMetrics(
                str(r[0]).strip(), moment("Start Tracking Period"), moment("Status date"),
                amount("Planned Value (PV)"), amount("Earned Value (EV)"),
                amount("Actual Cost (AC)"), moment("Earned Schedule (ES)"),
                amount("Schedule Variance (SV)"), amount("Schedule Performance Index (SPI)"),
                amount("Cost Variance (CV)"), amount("Cost Performance Index (CPI)"), sv_t,
                amount("Schedule Performance Index (SPI(t))"), amount("p-factor"),
                _ReadOnly(values)))
        return out

    # -- agenda (the working calendar) -------------------------------------------------
    def agenda(self) -> dict:
        """The Agenda sheet as a calendar dict (see :mod:`pmosim.io._common`); sets
        ``self.units`` (its hours per day and working days per week).

        Column A lists the 24 hours (``8:00 - 9:00``) with Yes/No in column B, column D
        the weekdays with Yes/No in column E, column G the holidays, one date a row.
        ProTrack's default agenda when the sheet is missing (the 2024 workbooks).
        """
        sheet, rows = self.sheet("Agenda", required=False)
        if not rows:
            self.warnings.append("no 'Agenda' sheet: ProTrack's default agenda (8:00-12:00, "
                                 "13:00-17:00, Monday to Friday, no holidays) assumed")
            return _standard_calendar()
        hours, days, holidays = [], [], {}
        for k, r in enumerate(rows[1:], start=2):
            where = f"{self.source}: sheet {sheet!r}, row {k}"
            cells = list(r or ()) + [None] * 7
            m = _HOUR.match(str(cells[0])) if cells[0] is not None else None
            if m and str(cells[1] or "").strip().lower() == "yes":
                a = int(m.group(1)) + int(m.group(2)) / 60
                b = int(m.group(3)) + int(m.group(4)) / 60
                hours.append((a, b if b > a else 24.0))     # '23:00 - 0:00' ends at midnight
            day = str(cells[3] or "").strip().lower()
            if day in _WEEKDAY and str(cells[4] or "").strip().lower() == "yes":
                days.append(_WEEKDAY[day])
            for value in r[6:] if r else ():
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                moment = self.date(value, where, "Holidays", day_first=True)
                holidays[moment.date()] = []
        intervals = []
        for a, b in sorted(hours):                          # merge adjacent hours
            if intervals and abs(intervals[-1][1] - a) < 1e-9:
                intervals[-1] = (intervals[-1][0], b)
            else:
                intervals.append((a, b))
        hpd = sum(b - a for a, b in intervals)
        if hpd <= 0 or not days:
            raise ScheduleImportError(
                f"{self.source}: sheet {sheet!r} has no working "
                f"{'hours' if hpd <= 0 else 'days'} (no 'Yes' in column "
                f"{'B' if hpd <= 0 else 'E'}); mark the working time of the agenda with Yes")
        self.units = {"hours_per_day": hpd, "days_per_week": float(len(set(days)))}
        return {"name": "DSLIB agenda", "hours_per_day": hpd,
                "week": {d: (list(intervals) if d in days else []) for d in range(7)},
                "exceptions": holidays}

    # -- resources ------------------------------------------------------------------
    def resources(self, g, baseline_sheet, body, summary) -> dict:
        """The Resources sheet and the demands on it (see the module docstring)."""
        sheet, rows = self.sheet("Resources", required=False)
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            if rows:
                self.warnings.append(f"sheet {sheet!r} has no header row starting with 'ID'; "
                                     "resources not imported")
            return add_resources(g, [], [], warnings=self.warnings)
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        col.setdefault("Availability", col.get("Availibility"))  # a misspelling in 20 workbooks
        found, names, assigned, shared = [], {}, {}, {}
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            get = (lambda name, r=r: r[col[name]]
                   if col.get(name) is not None and col[name] < len(r) else None)
            if not r or get("ID") is None:
                continue
            if all(get(h) is None for h in ("Name", "Type", "Availability", "Assigned To")):
                continue  # an empty row of the template, with only its number
            where = f"{self.source}: sheet {sheet!r}, row {k}"
            rid = parse_int(get("ID"), where, "ID")
            where = f"{where}, resource {rid}"
            name = str(get("Name") or "").strip() or f"resource {rid}"
            kind = str(get("Type") or "renewable").strip().lower()
            capacity, label = _availability(get("Availability"), where)
            if kind == "renewable" and capacity is not None and capacity < 0:
                raise ScheduleImportError(f"{where}: Availability {show(get('Availability'))} "
                                          "is negative")
            res = ImportedResource(rid, name, capacity, where, levelled=kind == "renewable",
                                   kind=kind, note={"unit": label} if label else {})
            if any(r0.id == rid for r0 in found):
                raise ScheduleImportError(f"{where}: ID {rid} is used by two resources")
            found.append(res)
            self.rates[rid] = (_number(get("Cost/Use"), where, "Cost/Use"),
                               _number(get("Cost/Unit"), where, "Cost/Unit"))
            if name in names:
                shared.setdefault(name, [names[name].id]).append(rid)
            else:
                names[name] = res
            if get("Assigned To") is not None and str(get("Assigned To")).strip():
                assigned[rid] = (where, get("Assigned To"))
        demands = (self.assigned_to(assigned) if assigned
                   else self.demand_column(baseline_sheet, body, names, shared))
        dropped = Counter()
        kept = []
        unknown = Counter()
        for act_id, rid, units, where, per_hour in demands:
            if rid is None:
                unknown[where] += 1
                dropped["naming no resource of the Resources sheet"] += 1
            elif act_id in g.graph:
                kept.append((act_id, rid, units))
                self.priced.append((act_id, rid, units, per_hour))
            elif act_id in summary:
                dropped["to WBS groups (not tasks)"] += 1
            else:
                dropped["to activities that are not in the baseline schedule"] += 1
        if unknown:
            self.warnings.append("resource demands naming no resource of the Resources sheet: "
                                 + ", ".join(sorted(unknown)[:10]))
        largest = Counter()
        for _, rid, units in kept:
            largest[rid] = max(largest[rid], units)
        guessed = []
        for res in found:
            if res.capacity is None:
                res.capacity = max(1.0, largest[res.id])
                if res.levelled:
                    guessed.append(f"{res.id} ({res.name}): {res.capacity:g}")
        if guessed:
            self.warnings.append(
                f"{len(guessed)} resource{'s' * (len(guessed) != 1)} without an Availability "
                "given 1 unit or their largest demand, whichever is more: "
                + "; ".join(guessed[:10]) + ("; ..." if len(guessed) > 10 else ""))
        return add_resources(g, found, kept, warnings=self.warnings, dropped=dropped)

    def assigned_to(self, assigned) -> list:
        """Demands from the Resources sheet's Assigned To cells: ``12[2.00 Name];77;``."""
        out = []
        for rid, (where, text) in assigned.items():
            for part in str(text).split(";"):
                if not part.strip():
                    continue
                m = _ASSIGNED.match(part)
                if not m:
                    raise ScheduleImportError(f"{where}: Assigned To: cannot read "
                                              f"{show(part.strip())} (expected 12[2.00 name])")
                act_id = parse_int(m.group(1), where, "Assigned To")
                units = _units(m.group(2), where, "Assigned To")
                out.append((act_id, rid, units, where, _per_hour(m.group(2))))
        return out

    def demand_column(self, sheet, body, names, shared) -> list:
        """Demands from the baseline's Resource Demand cells: ``Name[2.00 #20];PM[50%]``.

        A name that several resources share (``shared``: name -> ids) means the first.
        """
        out, ambiguous = [], set()
        for lineno, act_id, get in body:
            text = get("Resource Demand")
            if text is None:
                continue
            where = f"{self.source}: sheet {sheet!r}, row {lineno}, activity {act_id}"
            for part in str(text).split(";"):
                if not part.strip():
                    continue
                m = _DEMAND.match(part.strip())
                name, units = m.group(1).strip(), _units(m.group(2), where, "Resource Demand")
                if name in names:
                    out.append((act_id, names[name].id, units, where, _per_hour(m.group(2))))
                    if name in shared:
                        ambiguous.add(name)
                elif m.group(2) is None and all(n.strip() in names for n in name.split(",")):
                    # 'IT Manager,Faculty Rep': several resources in one cell, 1 unit each
                    out += [(act_id, names[n.strip()].id, 1.0, where, True)
                            for n in name.split(",")]
                else:
                    out.append((act_id, None, units, f"{name!r} (row {lineno})", True))
        for name in sorted(ambiguous):
            ids = shared[name]
            self.warnings.append(f"resources {', '.join(map(str, ids))} are all named {name!r}; "
                                 f"demands by that name go to resource {ids[0]}")
        return out

    def endpoint(self, g, act_id, side, children, connectors):
        if act_id in g.graph:
            return act_id
        if act_id not in children or not children[act_id]:
            return None
        key = (act_id, side)
        if key not in connectors:
            node = f"S{act_id}:{side}"
            g.add_task(node, Fixed(0.0), name=f"{side} of group {act_id}", kind="connector")
            for leaf in children[act_id]:
                if side == "start":
                    g.add_link(node, leaf, "FS", 0.0)
                else:
                    g.add_link(leaf, node, "FS", 0.0)
            connectors[key] = node
        return connectors[key]

    def risk(self) -> dict:
        sheet, rows = self.sheet("Risk Analysis", required=False)
        if not rows:
            self.warnings.append("no 'Risk Analysis' sheet: durations are fixed at the baseline")
            return {}
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            self.warnings.append(f"sheet {sheet!r} has no header row; risk estimates ignored")
            return {}
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        if not {"Optimistic", "Most Probable", "Pessimistic"} <= set(col):
            self.warnings.append(f"sheet {sheet!r} lacks Optimistic/Most Probable/Pessimistic "
                                 "columns; risk estimates ignored")
            return {}
        self.risk_sheet = sheet
        out = {}
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if not r or r[0] is None:
                continue
            get = (lambda name, r=r: r[col[name]] if name in col and col[name] < len(r) else None)
            act_id = parse_int(r[0], f"{self.source}: sheet {sheet!r}, row {k}", "ID")
            out[act_id] = (k, str(get("Description") or "").strip().lower(),
                           get("Optimistic"), get("Most Probable"), get("Pessimistic"))
        return out

    def risk_units(self, risk, durations) -> None:
        """Decide whether the Risk Analysis sheet's bare numbers are percentages of the
        baseline Duration or working days; sets ``self.estimates`` (the report's entry).

        The sheet's Optimistic / Most Probable / Pessimistic columns carry no unit.
        ProTrack's ``standard`` and ``manual - relative`` profiles are percentages
        (80 / 100 / 120), ``manual - absolute`` ones hours; but some workbooks of the
        2024-2025 extension give their ``standard`` profiles in days (0.5 / 1 / 1.5 for a
        1-day activity). The estimates centre on the baseline Duration, so each row whose
        Most Probable M is markedly nearer the Duration d under one reading votes for it:
        percentages when ``|ln(M / 100)|`` is smaller than ``|ln(M / d)|`` by at least
        ``ln 2``, days in the opposite case (rows with d = 100 days read the same either
        way). The majority is the sheet's unit (percentages on a tie: ProTrack's own).
        A row of the other unit is read as such only when its values leave no doubt: M is
        exactly the Duration in that unit (100 %, or d days) and not in the sheet's, and
        only that reading puts the Duration between Optimistic and Pessimistic
        (``50 / 72 / 94`` for a 72-day activity of a percentage sheet). ``manual -
        absolute`` rows stay hours and ``manual - relative`` rows percentages: their
        profile names the unit. What was assumed is said in a warning whenever the rows
        disagree or the sheet is read as days.
        """
        votes = Counter()
        otherwise = {}
        rows = {}
        for act_id, (lineno, profile, *values) in risk.items():
            d = durations.get(act_id)
            if profile in (_ABSOLUTE, _RELATIVE) or not d or d <= 0:
                continue
            low, mode, high = (_bare(v) for v in values)
            if mode is None or low is None or high is None or mode <= 0:
                continue
            rows[act_id] = (low, mode, high, d)
            votes[_vote(mode, d)] += 1
        unit = "days" if votes["days"] > votes["percent"] else "percent"
        for act_id, (low, mode, high, d) in rows.items():
            if abs(d - 100) <= 1e-9 * 100:
                continue              # both readings give the same durations
            inside_days, inside_percent = low <= d <= high, low <= 100 <= high
            if (unit == "percent" and abs(mode - d) <= 1e-9 * d and inside_days
                    and not inside_percent):
                otherwise[act_id] = "days"
            elif (unit == "days" and abs(mode - 100) <= 1e-9 * 100 and inside_percent
                    and not inside_days):
                otherwise[act_id] = "percent"
        self.estimates = {
            "read_as": "working days" if unit == "days" else "percent of the Duration",
            "votes": {"percent": votes["percent"], "working days": votes["days"],
                      "undecided": votes["undecided"]},
            "read_otherwise": sorted(otherwise, key=str)}
        self.estimate_unit, self.estimate_otherwise = unit, otherwise
        sheet = self.risk_sheet

        def show_row(act_id):
            low, mode, high, d = rows[act_id]
            return f"activity {act_id}: {low:g} / {mode:g} / {high:g} for {_working_days(d)}"

        other = "days" if unit == "percent" else "percent"
        # the clearest row of each unit is the example a warning shows; rows read in the
        # other unit are said in a warning of their own
        example = {}
        for act_id, (_, mode, _, d) in rows.items():
            how = _vote(mode, d)
            fit = min(abs(math.log(mode / 100)), abs(math.log(mode / d)))
            if how != "undecided" and act_id not in otherwise and (
                    how not in example or fit < example[how][0]):
                example[how] = (fit, act_id)
        contrary = votes[other] - sum(1 for a in otherwise
                                      if _vote(rows[a][1], rows[a][3]) == other)
        if unit == "days" or contrary:
            said = ("working days, not percentages of the baseline Duration (ProTrack's "
                    "standard profiles)" if unit == "days" else
                    "percentages of the baseline Duration (ProTrack's standard profiles)")
            against = (f"; {_count(contrary, 'look', 'looks')} like "
                       + ("percentages" if other == "percent" else "working days")
                       + f" ({show_row(example[other][1])})" if contrary else "")
            self.warnings.append(
                f"sheet {sheet!r}: Optimistic / Most Probable / Pessimistic give no unit; read "
                f"as {said}: the Most Probable is near the Duration read so in "
                f"{_count(votes[unit], 'activities', 'activity')} "
                f"(e.g. {show_row(example[unit][1])}){against}")
        elif not votes["percent"] and any(abs(r[3] - 100) > 1e-7 for r in rows.values()):
            self.warnings.append(
                f"sheet {sheet!r}: Optimistic / Most Probable / Pessimistic give no unit and "
                "their values do not show whether they are percentages of the Duration or "
                "working days; read as percentages (ProTrack's standard profiles)")
        if otherwise:
            listed = ", ".join(map(str, self.estimates["read_otherwise"][:10]))
            self.warnings.append(
                f"sheet {sheet!r}: activit{'ies' if len(otherwise) > 1 else 'y'} {listed} "
                "read as "
                + ("working days" if other == "days" else "percentages")
                + f" unlike the rest of the sheet: {'its' if len(otherwise) == 1 else 'their'} "
                "Most Probable is the Duration read so, and only that reading puts the "
                "Duration between Optimistic and Pessimistic "
                f"(e.g. {show_row(next(iter(otherwise)))})")

    def three_point(self, act_id, planned, row):
        if row is None or all(v is None for v in row[2:]):
            return Fixed(planned), "none"
        lineno, profile, *values = row
        where = f"{self.source}: sheet {self.risk_sheet!r}, row {lineno}, activity {act_id}"
        in_days = (profile not in (_ABSOLUTE, _RELATIVE)
                   and self.estimate_otherwise.get(act_id, self.estimate_unit) == "days")
        points = []
        for field, v in zip(("Optimistic", "Most Probable", "Pessimistic"), values):
            if v is None:
                return Fixed(planned), profile or "none"
            try:
                if isinstance(v, str) and re.search(r"[a-z]", v, re.I) \
                        and not re.fullmatch(r"\s*[+-]?(nan|inf(inity)?)\s*", v, re.I):
                    points.append(parse_duration(v, **self.units))
                    continue
                x = parse_number(v.replace(",", ".") if isinstance(v, str) else v, where, field)
                points.append(_bounded(x / self.units["hours_per_day"] if profile == _ABSOLUTE
                                       else x if in_days else x / 100 * planned, v))
            except ScheduleImportError:
                raise
            except ValueError as exc:  # from parse_duration and _bounded
                raise ScheduleImportError(f"{where}: {field}: {exc}") from None
        low, mode, high = points
        if not low <= mode <= high:
            self.warnings.append(f"activity {act_id}: estimates {values} are not ordered "
                                 "low <= most probable <= high; sorted")
            low, mode, high = sorted(points)
        if high - low <= 1e-12 * max(1.0, abs(high)):
            return Fixed(mode), profile or "none"
        try:
            return Triangular(low, mode, high), profile or "none"
        except ModelError as exc:
            raise ScheduleImportError(f"{where}: {exc}") from None


def _indent(name) -> int:
    text = str(name or "")
    return len(text) - len(text.lstrip(" "))


def _number(value, where: str, field: str) -> float:
    """A cost cell: a number, or text such as ``'1.234,56 €'`` (European separators)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    if isinstance(value, str):
        digits = re.sub(r"[^\d,.-]", "", value).replace(".", "").replace(",", ".")
        if not re.fullmatch(r"-?\d+(\.\d+)?", digits):
            raise ScheduleImportError(f"{where}: {field} {show(value)} is not an amount")
        value = digits
    return parse_number(value, where, field)


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})")
_TP_SHEET = re.compile(r"^\s*(?:Project Control - )?TP\s*(\d+)\s*$")
#: Text that some TP sheets put in an Actual Start cell for "none yet".
_NOT_AVAILABLE = {"NA", "N/A", "#N/A", "-"}
_TRACKING = {"not started": "not started", "started": "in progress", "finished": "complete"}
_HOUR = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_WEEKDAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
            "saturday": 5, "sunday": 6}


_ASSIGNED = re.compile(r"^\s*(\d+)\s*(?:\[([^\]]*)\])?\s*$")
_DEMAND = re.compile(r"^(.*?)\s*(?:\[([^\]]*)\])?$")
_LEADING = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?(?:e[+-]?\d+)?)\s*(%?)\s*(.*?)\s*$", re.I)


def _elapsed_bound(week, hpd, start, finish, kind, hours, planned) -> float:
    """The earliest start (working days on the axis ``week`` of ``hpd`` hours a day) a
    relation allows its successor when its lag is ``hours`` of calendar time from the
    predecessor's ``start`` or ``finish`` (the successor then at the next working
    moment)."""
    at = (week.date(week.finish_at(finish * hpd)) if kind in ("FS", "FF")
          else week.date(week.start_at(start * hpd)))
    at = week.work(at + _dt.timedelta(hours=hours)) / hpd
    return at - planned if kind in ("FF", "SF") else at


#: How a report names the cause of a wait (see ``_Reader.baseline``).
_WAIT_WORDS = {"no predecessor": "no predecessor", "date": "a date of its own",
               "resource": "a resource of the levelled baseline"}


def _vote(mode, duration) -> str:
    """The unit a Risk Analysis row points to (see ``_Reader.risk_units``): ``"percent"``
    or ``"days"`` when its Most Probable ``mode`` is nearer the Duration ``duration``
    (working days) under that reading by at least a factor 2, else ``"undecided"``."""
    as_percent, as_days = abs(math.log(mode / 100)), abs(math.log(mode / duration))
    if abs(as_percent - as_days) < math.log(2):
        return "undecided"
    return "percent" if as_percent < as_days else "days"


def _bare(value) -> float | None:
    """A Risk Analysis cell as a bare number (``0.5``, ``'0,5'``); None for an empty cell,
    text with a unit (``'6h'``) or anything else that is not a finite number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def _working_days(x: float) -> str:
    """``'1 working day'``, ``'2.5 working days'``."""
    text = f"{x:,.4g}"
    return f"{text} working day{'' if text == '1' else 's'}"


def _count(n: int, plural: str, singular: str) -> str:
    """``'3 activities have'`` / ``'1 activity has'``: ``n`` and the words that agree."""
    return f"{n} {singular if n == 1 else plural}"


def _cents(x: float) -> float:
    return round(float(x), 2) + 0.0          # + 0.0: no -0.0


def _per_hour(text) -> bool:
    """Whether a demand's units are per hour of the activity (``2.00 Name``) rather than
    a fixed quantity for the whole activity (``10000.00F #-1``: a consumable's F)."""
    return not (text and re.match(r"^\s*[+-]?\d+(?:[.,]\d+)?F\b", text))


def _units(text, where: str, field: str) -> float:
    """Units of a demand's bracket: ``2.00 Name``, ``2,00 #4``, ``50%``, ``5``, none: 1."""
    if text is None:
        return 1.0
    m = _LEADING.match(text)
    if not m:
        raise ScheduleImportError(f"{where}: {field}: units {show(text)} are not a number")
    units = parse_number(m.group(1).replace(",", "."), where, field, low=0.0)
    return units / 100 if m.group(2) else units


def _availability(value, where: str):
    """``(capacity, unit label)`` of an Availability cell: ``20``, ``'8 people'``, ``'4 #4'``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if not isinstance(value, str):
        return parse_number(value, where, "Availability"), ""
    m = _LEADING.match(value)
    if not m:
        raise ScheduleImportError(f"{where}: Availability {show(value)} does not start with a "
                                  "number")
    capacity = parse_number(m.group(1).replace(",", "."), where, "Availability")
    label = (m.group(2) + " " + m.group(3)).strip()
    return capacity, label


def _standard_calendar() -> dict:
    return {"name": "ProTrack standard", "hours_per_day": HOURS_PER_DAY,
            "week": {d: ([(8.0, 12.0), (13.0, 17.0)] if d < 5 else []) for d in range(7)},
            "exceptions": {}}

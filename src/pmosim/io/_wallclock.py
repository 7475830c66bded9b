"""Working calendars, the data date and progress in scenario files: read and write.

An imported MS Project or P6 schedule is scheduled on the wall clock, each task and lag
on its own working calendar from the data date (:func:`pmosim.compile.uses_calendars`,
``kernels/passes_cal.py``). This module holds what that mode reads in the scenario
format (``docs/scenario-format.md``, "Working calendars and progress"):

- ``[calendars.NAME]`` tables (``name``, ``hours_per_day``, ``week``, ``holidays``,
  ``exceptions``) -> ``project.meta["calendars"][NAME]`` ``{name, hours_per_day, week
  {weekday: [(from_h, to_h)]}, exceptions {date: [(from_h, to_h)] or []}}``;
- ``[project]`` ``calendar`` (the axis calendar), ``data_date`` and the scheduling
  conventions ``ss_lag_from_actual_start``, ``in_progress_start`` and
  ``constraint_beats_start``;
- task keys ``calendar``, ``status``, ``actual_start``, ``actual_finish``, ``resume``,
  ``constraint``, ``deadline``, ``elapsed_hours``, ``kind``, ``milestone`` and
  ``split_days`` (CSV columns of the same names, the constraint as ``constraint`` and
  ``constraint_date``);
- predecessor-table keys ``lag_calendar`` and ``lag_elapsed_hours``.

Every value is written so that it reads back as the same Python value: hours as
``"HH:MM"`` text only where that text gives the same float (else as numbers), dates
and times as TOML local date-times to the microsecond. An import written and read back
therefore gives the same CPM dates and the same simulated bits as the import itself.

The working-day offsets the single-axis kernel uses (``release``, ``fixed_start``,
``fixed_finish``) follow from the dates: :func:`axis_offsets` computes them as the
importers do (``io._common.engine_hints``) from what a scenario holds; the reader fills
in those a task does not give, and the writer writes only those that differ.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

from ..calendar import WEEKDAYS
from ..errors import ModelError, ScheduleImportError

#: Keys of a ``[calendars.NAME]`` table.
CALENDAR_TABLE_KEYS = ("name", "hours_per_day", "week", "holidays", "exceptions")
#: ``[project]`` keys of the wall-clock mode; defaults of the three conventions.
PROJECT_KEYS = ("calendar", "data_date", "ss_lag_from_actual_start", "in_progress_start",
                "constraint_beats_start")
CONVENTIONS = {"ss_lag_from_actual_start": True, "in_progress_start": "remaining",
               "constraint_beats_start": False}
IN_PROGRESS_STARTS = ("remaining", "actual")
#: Task keys that need working calendars, and those valid in any scenario.
CLOCK_TASK_KEYS = ("calendar", "actual_start", "actual_finish", "resume", "constraint",
                   "deadline", "elapsed_hours")
TASK_KEYS = CLOCK_TASK_KEYS + ("status", "kind", "milestone", "split_days")
LINK_KEYS = ("lag_calendar", "lag_elapsed_hours")
CSV_COLUMNS = ("calendar", "status", "kind", "milestone", "actual_start", "actual_finish",
               "resume", "constraint", "constraint_date", "deadline", "elapsed_hours",
               "split_days")
STATUSES = ("not started", "in progress", "complete")
KINDS = ("task", "start milestone", "finish milestone", "loe", "wbs summary", "connector")
#: Constraint types (P6 and MS Project, as the importers name them) and their meaning.
CONSTRAINTS = {
    "SNET": "start no earlier than", "SNLT": "start no later than",
    "FNET": "finish no earlier than", "FNLT": "finish no later than",
    "SO": "start on", "FO": "finish on", "MSO": "mandatory (must) start on",
    "MFO": "mandatory (must) finish on", "ALAP": "as late as possible (no date)",
}
_DATE_KEYS = ("actual_start", "actual_finish", "resume", "deadline")
_WEEKDAY_KEYS = tuple(d.lower() for d in WEEKDAYS)
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_DOC = "docs/scenario-format.md, Working calendars and progress"


# -- values ------------------------------------------------------------------------------
def parse_clock(text: str) -> float | None:
    """``"HH:MM"`` or ``"HH:MM:SS"`` (00:00 .. 24:00) as hours from midnight, or None.

    The hours are ``h + m / 60 + s / 3600``, the float the importers compute from the
    same text, so that a time written by :func:`clock_text` reads back bit for bit.

    Examples
    --------
    >>> parse_clock("07:30"), parse_clock("24:00"), parse_clock("8:00:30")
    (7.5, 24.0, 8.008333333333333)
    >>> parse_clock("25:00") is None, parse_clock("8h") is None
    (True, True)
    """
    m = _CLOCK.fullmatch(str(text).strip())
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if mi >= 60 or s >= 60:
        return None
    x = h + mi / 60 + s / 3600
    return x if x <= 24 else None


def clock_text(hours: float) -> str | None:
    """``hours`` as ``"HH:MM"`` (or ``"HH:MM:SS"``) text that reads back exactly, or None."""
    if not 0 <= hours <= 24:
        return None
    h, rest = divmod(round(hours * 3600), 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")
    return text if parse_clock(text) == hours else None


def _is_number(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float)) and (
        not isinstance(x, int) or abs(x) < 2 ** 1000)


def parse_intervals(value) -> list[tuple[float, float]]:
    """A list of working intervals: ``["08:00-12:00", "13:00-17:00"]`` (or ``[8, 12]``
    pairs of hours); sorted, each within 00:00..24:00, none overlapping. Raises
    ValueError with the message."""
    if not isinstance(value, list):
        raise ValueError(f'must be a list of working hours like ["08:00-12:00", '
                         f'"13:00-17:00"] ([] for none), got {value!r}')
    out = []
    for k, item in enumerate(value):
        if isinstance(item, str):
            left, sep, right = item.partition("-")
            a, b = parse_clock(left), parse_clock(right)
            if not sep or a is None or b is None:
                raise ValueError(f'[{k}]: cannot read {item!r}; write working hours as '
                                 '"HH:MM-HH:MM", e.g. "08:00-12:00" (24:00 is midnight at '
                                 'the end of the day)')
        elif (isinstance(item, list) and len(item) == 2 and all(_is_number(x) for x in item)
              and all(math.isfinite(float(x)) for x in item)):
            a, b = float(item[0]), float(item[1])
            if not (0 <= a <= 24 and 0 <= b <= 24):
                raise ValueError(f"[{k}]: {item!r} must be hours within 0..24")
        else:
            raise ValueError(f'[{k}]: cannot read {item!r}; write working hours as '
                             '"HH:MM-HH:MM" text (or [from, to] in hours from midnight)')
        if not b > a:
            raise ValueError(f"[{k}]: {item!r} ends before it starts; an interval runs "
                             "from its first to its second time within one day")
        out.append((a, b))
    for (a0, b0), (a1, b1) in zip(sorted(out), sorted(out)[1:]):
        if a1 < b0:
            raise ValueError(f"intervals {_interval_text(a0, b0)} and {_interval_text(a1, b1)} "
                             "overlap; merge them into one")
    return out


def _interval_text(a: float, b: float) -> str:
    ta, tb = clock_text(a), clock_text(b)
    return f"{ta}-{tb}" if ta is not None and tb is not None else f"[{a!r}, {b!r}]"


def parse_moment(value) -> _dt.datetime:
    """A date-time: a TOML local date-time or date (midnight), or ISO text
    (``"2017-09-16T08:00"``, ``"2017-09-16 08:00"``). Raises ValueError with the message."""
    moment = value
    if isinstance(value, str):
        try:
            moment = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"expected a date-time like 2017-09-18T08:00:00, got "
                             f"{value!r}") from None
    elif isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        moment = _dt.datetime.combine(value, _dt.time())
    if not isinstance(moment, _dt.datetime):
        raise ValueError(f"expected a date-time like 2017-09-18T08:00:00, got {value!r}")
    if moment.tzinfo is not None:
        raise ValueError(f"{moment.isoformat()} has a UTC offset; give the local date-time "
                         "of the schedule without one, like 2017-09-18T08:00:00")
    return moment


def _date_key(value) -> _dt.date:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a date like 2027-12-25, got {value!r}") from None


def toml_key(name: str) -> str:
    """A TOML key: bare when it can be, else a quoted string."""
    from .export import _toml_str
    return name if _BARE_KEY.fullmatch(name) else _toml_str(name)


# -- reading -----------------------------------------------------------------------------
def read_project_clock(reader, doc: dict) -> dict | None:
    """The ``[calendars.NAME]`` tables and the wall-clock ``[project]`` keys of ``doc``.

    Returns ``{"calendars", "axis", "data_date", "conventions", "ok"}`` when the
    scenario has ``[calendars]`` tables (None otherwise), recording every problem with
    ``reader.problem``. After a problem ``ok`` is False and a calendar that could not be
    read maps to None: tasks are still checked against the calendars' names, without a
    second message for the same mistake.
    """
    from .scenario import _closest
    meta = doc.get("project", {})
    meta = meta if isinstance(meta, dict) else {}
    tables = doc.get("calendars")
    given = [k for k in PROJECT_KEYS if k in meta]
    if tables is None:
        if given:
            reader.problem(f"project.{given[0]}", f"{given[0]} is a setting of working "
                           "calendars, and the scenario has none; add [calendars.NAME] tables "
                           f"({_DOC}) or remove {', '.join(given)}")
        return None
    if not isinstance(tables, dict) or not tables or not all(
            isinstance(t, dict) for t in tables.values()):
        reader.problem("calendars", "must be tables, one per calendar: [calendars.standard] "
                       "with hours_per_day and week under it")
        return None
    calendars, ok = {}, True
    for key, table in tables.items():
        calendars[key] = _read_calendar(reader, key, table)
        ok &= calendars[key] is not None
    axis = _name(meta.get("calendar"))
    if axis is None and len(tables) == 1:
        axis = next(iter(tables))
    if axis is None:
        reader.problem("project", "missing 'calendar': name the calendar whose working days "
                       f"are the working-day axis, e.g. calendar = {_quoted(next(iter(tables)))} "
                       f"(one of {', '.join(map(_quoted, tables))})")
        ok = False
    elif not isinstance(axis, str) or axis not in tables:
        reader.problem("project.calendar", f"unknown calendar {axis!r}"
                       f"{_closest(axis, tables) or ''} (the [calendars.NAME] tables are "
                       f"{', '.join(map(_quoted, tables))})")
        ok = False
    data_date = None
    if "data_date" in meta:
        try:
            data_date = parse_moment(meta["data_date"])
        except ValueError as exc:
            reader.problem("project.data_date", str(exc))
            ok = False
    elif "start" in meta:
        try:
            data_date = _dt.datetime.combine(_date_key(meta["start"]), _dt.time())
        except ValueError:
            ok = False      # project.start reports it
    else:
        reader.problem("project", "missing 'data_date': the moment (status date) from which "
                       "remaining work is scheduled on the calendars, e.g. data_date = "
                       "2017-09-18T08:00:00 (or give start, whose midnight it then is)")
        ok = False
    conventions = {}
    for key, default in CONVENTIONS.items():
        if key not in meta:
            continue
        value = meta[key]
        if key == "in_progress_start":
            if value in IN_PROGRESS_STARTS:
                conventions[key] = value
                continue
            reader.problem(f"project.{key}", 'must be "remaining" (an in-progress task\'s '
                           'remaining work starts at the data date, P6) or "actual" (it '
                           f'counts from its actual start, MS Project), got {value!r}')
        elif isinstance(value, bool):
            conventions[key] = value
            continue
        else:
            reader.problem(f"project.{key}", f"must be true or false, got {value!r}")
        ok = False
    return {"calendars": calendars, "axis": axis, "data_date": data_date,
            "conventions": conventions, "ok": ok}


def _name(value):
    """A calendar name: text, or a whole number written without quotes (``calendar = 640``
    for ``[calendars.640]``)."""
    if _is_number(value) and float(value).is_integer():
        return str(int(value))
    return value


def _quoted(key) -> str:
    return f'"{key}"'


def _read_calendar(reader, key, table) -> dict | None:
    from .scenario import _closest
    where = f"calendars.{toml_key(str(key))}"
    ok = True
    for k in table:
        if k not in CALENDAR_TABLE_KEYS:
            reader.problem(where, f"unknown key {k!r}{_closest(k, CALENDAR_TABLE_KEYS)} "
                           f"(allowed: {', '.join(CALENDAR_TABLE_KEYS)})")
            ok = False
    name = table.get("name", key)
    if not isinstance(name, str):
        reader.problem(where, f"name must be text, got {name!r}")
        ok = False
    hpd = table.get("hours_per_day")
    if hpd is None:
        reader.problem(where, "missing 'hours_per_day': the working hours of one day of "
                       "duration, e.g. hours_per_day = 8")
        ok = False
    elif not _is_number(hpd) or not 0 < float(hpd) <= 24:
        reader.problem(where, f"hours_per_day must be a number of hours in 0..24 (8 for an "
                       f"8-hour day), got {hpd!r}")
        ok = False
    week = {}
    spec = table.get("week")
    if spec is None:
        reader.problem(where, 'missing \'week\': the working hours of each weekday, e.g. '
                       'week = { mon = ["08:00-12:00", "13:00-17:00"], ... } (days not listed '
                       "do not work)")
        ok = False
    elif not isinstance(spec, dict):
        reader.problem(where, f"week must be a table of weekdays like {{ mon = "
                       f'["08:00-16:00"], tue = ["08:00-16:00"] }}, got {spec!r}')
        ok = False
    else:
        for day, value in spec.items():
            text = str(day).strip().lower()
            index = (_WEEKDAY_KEYS.index(text) if text in _WEEKDAY_KEYS
                     else _FULL_WEEKDAYS.index(text) if text in _FULL_WEEKDAYS else None)
            if index is None:
                reader.problem(where, f"week: unknown weekday {day!r}"
                               f"{_closest(text, _WEEKDAY_KEYS + _FULL_WEEKDAYS)} (use mon, tue, "
                               "wed, thu, fri, sat, sun)")
                ok = False
                continue
            if index in week:
                reader.problem(where, f"week: {day!r} gives {_FULL_WEEKDAYS[index].title()} "
                               "a second time; keep one entry per day")
                ok = False
                continue
            try:
                week[index] = parse_intervals(value)
            except ValueError as exc:
                reader.problem(where, f"week.{day}{_sep(exc)}{exc}")
                ok = False
    exceptions = {}
    holidays = table.get("holidays", [])
    if not isinstance(holidays, list):
        reader.problem(where, f"holidays must be a list of non-working dates like "
                       f"[2027-12-24, 2027-12-27], got {holidays!r}")
        ok = False
        holidays = []
    for k, day in enumerate(holidays):
        try:
            d = _date_key(day)
        except ValueError as exc:
            reader.problem(where, f"holidays[{k}]: {exc}")
            ok = False
            continue
        if d in exceptions:
            reader.problem(where, f"holidays[{k}]: {d} is listed twice")
            ok = False
        exceptions[d] = []
    spec = table.get("exceptions", {})
    if not isinstance(spec, dict):
        reader.problem(where, f'exceptions must be a table of dates with their working hours, '
                       f'like {{ 2027-12-24 = ["08:00-12:00"], 2027-12-25 = [] }}, got {spec!r}')
        ok = False
        spec = {}
    for day, value in spec.items():
        try:
            d = _date_key(day)
        except ValueError as exc:
            reader.problem(where, f"exceptions: {exc}")
            ok = False
            continue
        if d in exceptions:
            reader.problem(where, f"exceptions.{day}: {d} is also a holiday (or listed twice); "
                           "keep it in one place")
            ok = False
            continue
        try:
            exceptions[d] = parse_intervals(value)
        except ValueError as exc:
            reader.problem(where, f"exceptions.{day}{_sep(exc)}{exc}")
            ok = False
    if not ok:
        return None
    return {"name": name, "hours_per_day": float(hpd), "week": week,
            "exceptions": dict(sorted(exceptions.items()))}


def _sep(exc) -> str:
    """``week.mon[1]: ...`` for an item, ``week.mon: ...`` for the list."""
    return "" if str(exc).startswith("[") else ": "


def read_task_clock(reader, here, values: dict, extra: dict, label=None, *,
                    csv: bool = False, number=None) -> None:
    """The wall-clock keys of one task (a ``[[tasks]]`` table or a CSV row's cells) into
    ``extra``, recording problems. ``number`` reads a CSV number cell."""
    from .scenario import _closest
    wall = reader.wall
    present = [k for k in TASK_KEYS if k in values]
    if csv and "constraint_date" in values and "constraint" not in values:
        reader.problem(here, "constraint_date is given without a constraint type; add the "
                       "constraint column (SNET, FO, ...)", label)
    needs = [k for k in CLOCK_TASK_KEYS if k in values]
    if needs and wall is None:
        # one message (and a count at the end), not one per row of a large CSV file
        if not reader.clock_missing:
            reader.problem(here, f"{', '.join(needs)}: need{'s' * (len(needs) == 1)} working "
                           "calendars; add [calendars.NAME] tables and calendar and data_date "
                           f"under [project] ({_DOC}), or give release and "
                           "fixed_start/fixed_finish in working days instead", label)
        reader.clock_missing += 1
        return
    if not present:
        return
    if "calendar" in values:
        name = _name(values["calendar"])
        if isinstance(name, str) and name in wall["calendars"]:
            extra["calendar"] = name
        else:
            reader.problem(here, f"calendar: unknown calendar {name!r}"
                           f"{_closest(str(name), wall['calendars']) or ''} (the "
                           "[calendars.NAME] tables are "
                           f"{', '.join(map(_quoted, wall['calendars']))})", label)
    for key, choices in (("status", STATUSES), ("kind", KINDS)):
        if key in values:
            value = values[key]
            text = value.strip().lower() if isinstance(value, str) else None
            if text in choices:
                extra[key] = text
            else:
                reader.problem(here, f"{key} must be one of "
                               f"{', '.join(map(_quoted, choices))}, got {value!r}"
                               f"{_closest(str(value), choices)}", label)
    if "milestone" in values:
        value = values["milestone"]
        if csv and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        if isinstance(value, bool):
            extra["milestone"] = value
        else:
            reader.problem(here, f"milestone must be true or false (shown as a milestone in "
                           f"reports), got {value!r}", label)
    for key in _DATE_KEYS:
        if key in values:
            try:
                extra[key] = parse_moment(values[key])
            except ValueError as exc:
                reader.problem(here, f"{key}: {exc}", label)
    for key, what in (("elapsed_hours", "the wall-clock hours of the remaining duration"),
                      ("split_days", "the working days of split time within the duration")):
        if key in values:
            value = values[key]
            if csv:
                try:
                    value = number(value)
                except ValueError:
                    pass
            if _is_number(value) and math.isfinite(float(value)) and float(value) >= 0:
                extra[key] = float(value)
            else:
                reader.problem(here, f"{key} must be a number >= 0 ({what}), got {value!r}",
                               label)
    if "constraint" in values:
        spec = values["constraint"]
        if csv:
            spec = {"type": spec, **({"date": values["constraint_date"]}
                                     if "constraint_date" in values else {})}
        cons = _constraint(reader, here, spec, label, csv)
        if cons is not None:
            extra["constraint"] = cons
    a, f = extra.get("actual_start"), extra.get("actual_finish")
    if a is not None and f is not None and f < a:
        reader.problem(here, f"actual_finish {f.isoformat()} is before actual_start "
                       f"{a.isoformat()}", label)
    if "status" not in values and (a is not None or f is not None):
        extra["status"] = "complete" if f is not None else "in progress"


def _constraint(reader, here, spec, label, csv):
    from .scenario import _closest
    key = "constraint" if not csv else "constraint/constraint_date"
    example = 'constraint = { type = "FNLT", date = 2027-06-30T17:00:00 }'
    if not isinstance(spec, dict):
        reader.problem(here, f"constraint must be a table like {example}, got {spec!r}", label)
        return None
    for k in spec:
        if k not in ("type", "date"):
            reader.problem(here, f"constraint: unknown key {k!r}{_closest(k, ('type', 'date'))} "
                           "(allowed: type, date)", label)
            return None
    kind = spec.get("type")
    code = kind.strip().upper() if isinstance(kind, str) else None
    if code not in CONSTRAINTS:
        reader.problem(here, f"{key}: unknown constraint type {kind!r}"
                       f"{_closest(str(kind).upper(), CONSTRAINTS)} (use one of "
                       f"{', '.join(CONSTRAINTS)})", label)
        return None
    if code == "ALAP":
        if spec.get("date") is not None:
            reader.problem(here, f"{key}: ALAP (as late as possible) takes no date; remove it",
                           label)
            return None
        return ("ALAP", None)
    if spec.get("date") is None:
        reader.problem(here, f"{key}: {code} ({CONSTRAINTS[code]}) needs a date, e.g. "
                       f"{example.replace('FNLT', code)}", label)
        return None
    try:
        return (code, parse_moment(spec["date"]))
    except ValueError as exc:
        reader.problem(here, f"{key}: date: {exc}", label)
        return None


def read_link_clock(reader, spec: dict) -> dict:
    """``lag_calendar`` and ``lag_elapsed_hours`` of a predecessor table; raises ModelError."""
    from .scenario import _closest
    out = {}
    given = [k for k in LINK_KEYS if k in spec]
    if given and reader.wall is None:
        raise ModelError(f"{', '.join(given)} need{'s' * (len(given) == 1)} working calendars; "
                         f"add [calendars.NAME] tables and calendar and data_date under "
                         f"[project] ({_DOC})")
    if "lag_calendar" in spec:
        name = _name(spec["lag_calendar"])
        calendars = reader.wall["calendars"]
        if not isinstance(name, str) or name not in calendars:
            raise ModelError(f"lag_calendar: unknown calendar {name!r}"
                             f"{_closest(str(name), calendars) or ''} (the [calendars.NAME] "
                             f"tables are {', '.join(map(_quoted, calendars))})")
        out["lag_calendar"] = name
    if "lag_elapsed_hours" in spec:
        value = spec["lag_elapsed_hours"]
        if not _is_number(value) or not math.isfinite(float(value)):
            raise ModelError(f"lag_elapsed_hours must be a number of elapsed (wall-clock) "
                             f"hours, got {value!r}")
        out["lag_elapsed_hours"] = float(value)
    return out


def apply_project_clock(project, wall: dict) -> list[str]:
    """Put the calendars and the data date into ``project.meta`` and fill in the
    working-day offsets (``release``, ``fixed_start``/``fixed_finish``) that tasks do not
    give. Returns problems (dates the calendars cannot reach)."""
    graph = project.graph
    calendars = wall["calendars"]
    used = {wall["axis"]} | {d.get("calendar") or wall["axis"] for _, d in graph.nodes(data=True)}
    used |= {e["lag_calendar"] for *_, e in graph.edges(data=True) if e.get("lag_calendar")}
    # a calendar no task uses may have no working time (a tool's resource calendar)
    idle = [key for key in calendars if key in used and not _working(
        [iv for ivs in calendars[key]["week"].values() for iv in ivs])]
    if idle:
        return [f"calendars.{toml_key(str(key))}: week has no working hours, and tasks or "
                "lags use it; pmosim continues a calendar past its exceptions with its week, "
                "so give it at least one working day" for key in idle]
    project.meta.update(calendars=calendars, axis_calendar=wall["axis"],
                        data_date=wall["data_date"], **wall["conventions"])
    try:
        offsets = axis_offsets(project)
    except ScheduleImportError as exc:
        return [str(exc)]
    for t, values in offsets.items():
        d = graph.nodes[t]
        if "fixed_start" in values and "fixed_start" not in d and "fixed_finish" not in d:
            d["fixed_start"], d["fixed_finish"] = values["fixed_start"], values["fixed_finish"]
        if "release" in values and "release" not in d:
            d["release"] = values["release"]
    return []


def axis_offsets(project) -> dict:
    """The working-day offsets of ``project``'s dates on its axis calendar (origin: the
    data date), as the importers' ``engine_hints`` computes them, from what a scenario
    holds: completed tasks with both actual dates get ``fixed_start``/``fixed_finish``
    (<= 0), tasks not started (or without status) with a SNET, SO or MSO constraint a
    ``release`` (>= 0). Task id -> {key: value}."""
    from ._common import WorkWeek
    meta = project.meta
    graph = project.graph
    origin = meta["data_date"]
    cal = meta["calendars"][meta["axis_calendar"]]
    dates = [origin]
    for _, d in graph.nodes(data=True):
        dates += [x for x in (d.get("actual_start"), d.get("actual_finish"),
                              (d.get("constraint") or (0, None))[1]) if x]
    week = WorkWeek(cal["week"], cal["exceptions"], origin,
                    min(dates).date() - _dt.timedelta(days=7),
                    max(dates).date() + _dt.timedelta(days=3650), name=str(meta["axis_calendar"]))
    hpd = cal["hours_per_day"]
    out = {}
    for t, d in graph.nodes(data=True):
        values = {}
        if d.get("status") == "complete" and d.get("actual_start") and d.get("actual_finish"):
            values["fixed_start"] = min(0.0, week.work(d["actual_start"]) / hpd)
            values["fixed_finish"] = min(0.0, week.work(d["actual_finish"]) / hpd)
        c = d.get("constraint")
        if c and c[1] and c[0] in ("SNET", "SO", "MSO") and d.get("status") in (None,
                                                                                 "not started"):
            values["release"] = max(0.0, week.work(c[1]) / hpd)
        if values:
            out[t] = values
    return out


def day_calendar(wall_or_meta: dict):
    """The day-level :class:`~pmosim.calendar.WorkCalendar` of the axis calendar."""
    from ._common import work_calendar
    cals = wall_or_meta.get("calendars")
    axis = wall_or_meta.get("axis", wall_or_meta.get("axis_calendar"))
    return work_calendar(cals[axis])


# -- writing -----------------------------------------------------------------------------
class ClockWriter:
    """What :func:`pmosim.io.export.write_scenario` writes of a project with calendars.

    Parameters
    ----------
    project : pmosim.Project
        With ``meta["calendars"]``, ``["axis_calendar"]`` and ``["data_date"]``.
    """

    def __init__(self, project):
        meta = project.meta
        self.project = project
        self.keys = {k: str(k) for k in meta["calendars"]}
        if len(set(self.keys.values())) != len(self.keys):
            raise ModelError("two calendars have the same name as text; rename one")
        self.axis = meta["axis_calendar"]
        if self.axis not in meta["calendars"]:
            raise ModelError(f"the axis calendar {self.axis!r} is not among the calendars")
        self.offsets = axis_offsets(project)

    def project_lines(self) -> list[str]:
        from .export import _toml_str
        meta = self.project.meta
        lines = [f"calendar = {_toml_str(self.keys[self.axis])}",
                 f"data_date = {_moment(meta['data_date'])}"]
        for key, default in CONVENTIONS.items():
            value = meta.get(key, default)
            if value != default:
                lines.append(f"{key} = {_toml_value(value)}")
        return lines

    def needs_day_calendar(self) -> bool:
        """Whether ``[calendar]`` must be written: the project's day-level calendar is
        not the one the axis calendar gives."""
        from ..calendar import WorkCalendar
        cal = self.project.calendar
        derived = day_calendar(self.project.meta)
        if not isinstance(cal, WorkCalendar):
            return False
        return (cal.workdays, cal.holidays) != (derived.workdays, derived.holidays)

    def calendar_tables(self) -> list[str]:
        """``[calendars.NAME]`` tables, with ``week`` and ``exceptions`` sub-tables."""
        from .export import _toml_num, _toml_str
        lines = []
        for key, cal in self.project.meta["calendars"].items():
            head = f"calendars.{toml_key(self.keys[key])}"
            lines.append(f"[{head}]")
            if str(cal.get("name", key)) != self.keys[key]:
                lines.append(f"name = {_toml_str(str(cal['name']))}")
            lines.append(f"hours_per_day = {_toml_num(cal['hours_per_day'])}")
            exceptions = cal.get("exceptions") or {}
            off = sorted(d for d, iv in exceptions.items() if not _working(iv))
            if off:
                lines.append("holidays = [")
                for i in range(0, len(off), 8):
                    lines.append("    " + ", ".join(d.isoformat() for d in off[i:i + 8]) + ",")
                lines.append("]")
            lines += ["", f"[{head}.week]"]
            for d in range(7):
                lines.append(f"{_WEEKDAY_KEYS[d]} = {_intervals(cal['week'].get(d, []))}")
            worked = sorted(d for d, iv in exceptions.items() if _working(iv))
            if worked:
                lines += ["", f"[{head}.exceptions]"]
                lines += [f"{d.isoformat()} = {_intervals(exceptions[d])}" for d in worked]
            lines.append("")
        return lines

    def task(self, task_id, data) -> tuple[list[str], dict, set]:
        """A task's TOML lines, CSV cells and the offset keys the reader derives exactly
        (not to be written)."""
        from .export import _plain, _toml_num, _toml_str
        toml, cells = [], {}
        cal = data.get("calendar")
        if cal is not None:
            toml.append(f"calendar = {_toml_str(self.keys[cal])}")
            cells["calendar"] = self.keys[cal]
        for key in _DATE_KEYS:
            if data.get(key) is not None:
                toml.append(f"{key} = {_moment(data[key])}")
                cells[key] = _moment(data[key])
        cons = data.get("constraint")
        if valid_constraint(cons):
            if cons[0] == "ALAP":
                toml.append('constraint = { type = "ALAP" }')
                cells["constraint"] = "ALAP"
            else:
                toml.append(f"constraint = {{ type = {_toml_str(cons[0])}, date = "
                            f"{_moment(cons[1])} }}")
                cells["constraint"], cells["constraint_date"] = cons[0], _moment(cons[1])
        if data.get("elapsed_hours") is not None:
            toml.append(f"elapsed_hours = {_toml_num(data['elapsed_hours'])}")
            cells["elapsed_hours"] = _plain(data["elapsed_hours"])
        derived = self.offsets.get(task_id, {})
        same = {k for k in ("release", "fixed_start", "fixed_finish")
                if k in derived and data.get(k) is not None
                and float(data[k]) == derived[k]}
        if not {"fixed_start", "fixed_finish"} <= same:
            same -= {"fixed_start", "fixed_finish"}
        return toml, cells, same

    def overridden_release(self, task_id, data) -> bool:
        """Whether the reader would derive a release the task does not have (so that
        ``release = 0`` must be written)."""
        return "release" in self.offsets.get(task_id, {}) and data.get("release") is None

    def lost_fixed(self, task_id, data) -> bool:
        """A completed task without offsets that the reader would give some."""
        return "fixed_start" in self.offsets.get(task_id, {}) and data.get("fixed_start") is None

    def link(self, u, e) -> dict:
        """A link's wall-clock keys that differ from the defaults (the predecessor's
        calendar, no elapsed lag)."""
        out = {}
        graph = self.project.graph
        lcal = e.get("lag_calendar")
        if lcal is not None and lcal != (graph.nodes[u].get("calendar") or self.axis):
            out["lag_calendar"] = self.keys[lcal]
        if e.get("lag_elapsed_hours") is not None:
            out["lag_elapsed_hours"] = float(e["lag_elapsed_hours"])
        return out

    def unwritable(self) -> list[str]:
        """Problems that stop the project's wall-clock data from being written: a calendar
        that tasks or links name and the project does not have."""
        out = []
        graph = self.project.graph
        calendars = self.project.meta["calendars"]
        for t, d in graph.nodes(data=True):
            cal = d.get("calendar")
            if cal is not None and cal not in calendars:
                out.append(f"task {t!r}: calendar {cal!r} is not among the calendars")
        for u, v, e in graph.edges(data=True):
            lcal = e.get("lag_calendar")
            if lcal is not None and lcal not in calendars:
                out.append(f"link {u!r} -> {v!r}: lag_calendar {lcal!r} is not among the "
                           "calendars")
        return out


def valid_constraint(cons) -> bool:
    """Whether the scenario format holds the node attribute ``constraint``: a type with
    a date-time, or ALAP without one."""
    return (isinstance(cons, (tuple, list)) and len(cons) == 2 and cons[0] in CONSTRAINTS
            and (cons[1] is None if cons[0] == "ALAP" else isinstance(cons[1], _dt.date)))


def general_task_keys(data) -> tuple[list[str], dict]:
    """TOML lines and CSV cells of the task keys valid with or without calendars:
    ``status``, ``kind``, ``milestone`` and ``split_days``."""
    from .export import _plain, _toml_num, _toml_str
    toml, cells = [], {}
    for key, choices in (("status", STATUSES), ("kind", KINDS)):
        if data.get(key) in choices:
            toml.append(f"{key} = {_toml_str(data[key])}")
            cells[key] = data[key]
    if data.get("milestone") is True:
        toml.append("milestone = true")
        cells["milestone"] = "true"
    split = data.get("split_days")
    if _is_number(split) and math.isfinite(float(split)) and float(split) >= 0:
        toml.append(f"split_days = {_toml_num(split)}")
        cells["split_days"] = _plain(split)
    return toml, cells


def _working(intervals) -> bool:
    return any(b > a for a, b in intervals)


def _intervals(intervals) -> str:
    from .export import _toml_num
    items = []
    for a, b in intervals:
        if not b > a:
            continue        # an empty interval: no working time, as the kernels read it
        ta, tb = clock_text(a), clock_text(b)
        items.append(f'"{ta}-{tb}"' if ta is not None and tb is not None
                     else f"[{_toml_num(a)}, {_toml_num(b)}]")
    return "[" + ", ".join(items) + "]"


def _moment(value) -> str:
    """A TOML local date-time (its text is also what a CSV cell holds)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            raise ModelError(f"the date-time {value!r} has a time zone; the scenario format "
                             "holds local date-times")
        return value.isoformat()
    if isinstance(value, _dt.date):
        return _dt.datetime.combine(value, _dt.time()).isoformat()
    raise ModelError(f"expected a date-time, got {value!r}")


def _toml_value(value) -> str:
    from .export import _toml_str
    if isinstance(value, bool):
        return "true" if value else "false"
    return _toml_str(str(value))

"""Scenario files: a project in TOML (read with :mod:`tomllib`), tasks optionally in CSV.

The format is documented key by key in ``docs/scenario-format.md``. In short::

    [project]
    name = "Warehouse fit-out"
    start = "2027-03-01"      # optional; first working day
    time_unit = "days"        # working days (the only unit)
    tasks_csv = "tasks.csv"   # optional; more tasks, relative to this file

    [calendar]
    workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
    holidays = ["2027-04-05"]

    [[tasks]]
    id = "permit"
    duration = { dist = "triangular", low = 20, mode = 25, high = 60 }
    predecessors = ["design", "survey SS+5", "order FF-2d"]
    cost_fixed = 12000        # optional: also cost_rate, existence, when

    [[risks]]                 # optional: also [[drivers]], [[correlations]], [[branches]]
    id = "R1"
    probability = 0.25
    tasks = ["permit"]
    schedule_impact = { dist = "triangular", low = 10, mode = 20, high = 45 }
    mitigated = { probability = 0.1 }

    [status]                  # optional: progress at a status date (task keys
    date = "2027-04-30"       # actual_start, percent_complete, ...; docs/tracking.md)

Every problem found is reported with the file, where in it (``tasks[3]
("permit")`` for the fourth ``[[tasks]]`` entry, counting from 0; ``line 5`` in a
CSV file) and what to do about it. :func:`scenario_problems` returns all of them;
:func:`load_scenario` raises the first as a :class:`~pmosim.errors.ScenarioError`
whose ``problems`` attribute lists them all.

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.toml"
>>> _ = path.write_text('''
... [[tasks]]
... id = "a"
... duration = { dist = "triangular", low = 2, mode = 3, high = 6 }
... [[tasks]]
... id = "b"
... duration = 4
... predecessors = ["a SS+1d"]
... ''')
>>> project = load_scenario(path)
>>> project.graph.edges["a", "b"]
{'type': 'SS', 'lag': 1.0}
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import difflib
import io
import math
import os
import re
import stat
import tomllib
from pathlib import Path

import networkx as nx
import numpy as np

from ..calendar import WorkCalendar, as_date
from ..distributions import (
    Discrete, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen, Uniform,
)
from .. import stats
from ..errors import ModelError, PmosimError, ScenarioError
from ..layout import LEVELLING_SCHEMES, PRIORITY_RULES
from . import _wallclock as clock
from . import check_size
from ..model import CONDITION_KINDS, LINK_TYPES, Project, condition, task_demands

#: dist name -> (class, required parameters, optional parameters).
DISTRIBUTIONS = {
    "fixed": (Fixed, ("value",), ()),
    "uniform": (Uniform, ("low", "high"), ()),
    "triangular": (Triangular, ("low", "mode", "high"), ()),
    "pert": (Pert, ("low", "mode", "high"), ("lamb",)),
    "trigen": (Trigen, ("low", "mode", "high"), ("low_pct", "high_pct")),
    "normal": (Normal, ("mean", "sd"), ()),
    "lognormal": (LogNormal, ("mean", "sd"), ()),
    "exponential": (Exponential, ("mean",), ()),
    "discrete": (Discrete, ("values", "weights"), ()),
}

TOP_KEYS = ("project", "calendar", "resources", "tasks", "risks", "drivers", "correlations",
            "branches", "uncertainty", "calendars")
PROJECT_KEYS = ("name", "start", "time_unit", "tasks_csv", "cost_rate", "budget", "currency",
                "levelling", "priority", "history") + clock.PROJECT_KEYS
RESOURCE_KEYS = ("id", "name", "capacity", "changes")
CHANGE_KEYS = ("at", "capacity")
CALENDAR_KEYS = ("workdays", "holidays")
TASK_KEYS = ("id", "name", "duration", "planned", "predecessors", "existence", "when",
             "cost_fixed", "cost_rate", "actual_cost", "release", "fixed_start", "fixed_finish",
             "wbs", "resources", "priority") + clock.TASK_KEYS
LINK_KEYS = ("id", "type", "lag") + clock.LINK_KEYS
RISK_KEYS = ("id", "name", "probability", "tasks", "schedule_impact", "cost_impact", "mitigated")
MITIGATED_KEYS = ("probability", "schedule_impact", "cost_impact")
DRIVER_KEYS = ("id", "name", "probability", "factor", "tasks")
CORRELATION_KEYS = ("tasks", "coefficient", "matrix", "repair")
BRANCH_KEYS = ("id", "options")
OPTION_KEYS = ("probability", "tasks", "when")
#: CSV columns: the task keys, the distribution parameters, and free-text notes.
CSV_COLUMNS = ("id", "name", "duration", "planned", "predecessors", "dist", "value", "low",
               "mode", "high", "lamb", "low_pct", "high_pct", "mean", "sd", "values",
               "weights", "existence", "cost_fixed", "cost_rate", "actual_cost", "release",
               "fixed_start", "fixed_finish", "wbs", "resources", "priority", "notes"
               ) + clock.CSV_COLUMNS
TIME_UNITS = ("days",)
#: Task keys of a status update (``[status]`` with its ``date``): each task's progress
#: at the status date; ``actual_cost`` joins them there (see :meth:`_Reader.take_status`).
STATUS_TASK_KEYS = ("actual_start", "actual_finish", "percent_complete", "remaining")
TASK_KEYS += tuple(k for k in STATUS_TASK_KEYS if k not in TASK_KEYS)
CSV_COLUMNS += tuple(k for k in STATUS_TASK_KEYS if k not in CSV_COLUMNS)
TOP_KEYS += ("status",)
STATUS_KEYS = ("date", "name", "periods", "fixed_cost_accrual")
PERIOD_KEYS = ("date", "name", "csv")
#: Columns of a status CSV file (one per ``[[status.periods]]``).
STATUS_CSV_COLUMNS = ("id", "name", "notes") + STATUS_TASK_KEYS + ("actual_cost",)

# MS Project predecessor notation: ID, then optionally a link type, then optionally a
# signed lag with a day suffix ("design", "3FS+2d", "design SS + 5 days", "order FF-2").
# Whitespace runs are possessive (\s*+): nothing after one starts with whitespace, so
# giving some back never helps a match, and with plain \s* a long run of spaces made
# the lazy id backtrack through every split of it (a 388-byte predecessor took 6.7 s).
_LAG = r"(?:(?P<sign>[+-])\s*+(?P<lag>\d++(?:\.\d*+)?+|\.\d++)\s*+(?P<unit>[A-Za-z%]*+))?+"
_TAIL_RE = re.compile(r"^\s*+(?P<type>FS|SS|FF|SF)?+\s*+" + _LAG + r"\s*+$", re.IGNORECASE)
_LINK_RE = re.compile(r"^(?P<id>.*?)\s*+(?P<type>FS|SS|FF|SF)?+\s*+" + _LAG + r"\s*+$",
                      re.IGNORECASE)
#: Longest predecessor text read (an id plus type and lag); longer is an error, not a
#: quadratic search for known ids.
MAX_PREDECESSOR_CHARS = 1_000
_DAY_SUFFIXES = ("", "d", "day", "days")
#: Numeric CSV columns that belong to the task, not to its duration distribution.
_CSV_TASK_NUMBERS = ("planned", "existence", "cost_fixed", "cost_rate", "actual_cost", "release",
                     "fixed_start", "fixed_finish", "priority")


def load_scenario(path) -> Project:
    """Load a scenario file into a :class:`~pmosim.Project`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.toml`` scenario file.

    Returns
    -------
    Project
        With ``start`` and ``calendar`` (a :class:`~pmosim.calendar.WorkCalendar`)
        set from the file, and ``meta["source"]`` the path as given.

    Raises
    ------
    ScenarioError
        For the first problem found; ``exc.problems`` lists every problem.
    """
    project, problems = _Reader(path).read()
    if problems:
        more = len(problems) - 1
        tail = (f" (and {more} more problem{'s' if more > 1 else ''}; "
                f"run `pmosim validate {path}` to list them all)") if more else ""
        exc = ScenarioError(problems[0] + tail)
        exc.problems = problems
        raise exc
    return project


def scenario_problems(path) -> list[str]:
    """Every problem of a scenario file, as messages (empty when it loads)."""
    return _Reader(path).read()[1]


def _not_regular(path) -> bool:
    """True for a path that exists and is not a regular file (after symlinks):
    a device, FIFO or socket, which a reader could wait on or read forever."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def parse_predecessor(text: str, known_ids=()) -> tuple[str, str, float]:
    """Parse MS Project notation ``ID[TYPE][±LAG]`` into ``(id, type, lag)``.

    The type defaults to FS and the lag to 0; the lag is in working days and may
    carry a ``d``/``day``/``days`` suffix. An id that is itself in ``known_ids``
    is taken whole, so a task called ``"boss"`` is not read as ``"bo"`` + SS.

    Examples
    --------
    >>> parse_predecessor("design SS+5")
    ('design', 'SS', 5.0)
    >>> parse_predecessor("3FF-2d")
    ('3', 'FF', -2.0)
    >>> parse_predecessor("boss", known_ids={"boss"})
    ('boss', 'FS', 0.0)
    """
    text = str(text).strip()
    if len(text) > MAX_PREDECESSOR_CHARS:
        raise ModelError(
            f"predecessor {text[:40]!r}... is {len(text):,} characters long; a predecessor is "
            f"a task id with an optional type and lag (at most {MAX_PREDECESSOR_CHARS:,} "
            "characters)")
    if any(ch in text for ch in "\r\n\0"):
        raise ModelError(
            f"cannot read predecessor {text[:60]!r}: it contains a line break or NUL; give "
            "each predecessor as its own list item (or separate them with ';' in a CSV cell)")
    # Prefer the longest known id followed by a valid tail, so ids that end in
    # "ss" or contain "-2" are never split wrongly.
    for end in range(len(text), 0, -1):
        head = text[:end].strip()
        if head in known_ids and (m := _TAIL_RE.match(text[end:])):
            return (head, *_type_and_lag(text, m))
    m = _LINK_RE.match(text)
    if not m or not m.group("id"):
        raise ModelError(
            f"cannot read predecessor {text!r}; write ID[TYPE][+/-LAG], e.g. 'design', "
            "'design SS+5' or 'design FF-2d'")
    return (m.group("id").strip(), *_type_and_lag(text, m))


def parse_lag(text: str) -> float:
    """A lag written as text, ``"+5"``, ``"-2d"`` or ``"3 days"``, in working days."""
    tail = str(text).strip()
    m = _TAIL_RE.match(tail if tail[:1] in "+-" else "+" + tail)
    if not m or m.group("type") or m.group("lag") is None:
        raise ModelError(
            f"cannot read lag {text!r}; write a number of working days like 5 or \"-2d\"")
    return _type_and_lag(text, m)[1]


def _type_and_lag(text, m) -> tuple[str, float]:
    unit = (m.group("unit") or "").lower()
    if unit == "%":
        raise ModelError(
            f"predecessor {text!r}: percentage lags are not supported; "
            "give the lag in working days")
    if unit not in _DAY_SUFFIXES:
        raise ModelError(
            f"predecessor {text!r}: lag unit {m.group('unit')!r} is not supported; "
            "lags are in working days (suffix 'd' or none)")
    lag = float(m.group("lag")) if m.group("lag") else 0.0
    if m.group("sign") == "-":
        lag = -lag
    return (m.group("type") or "FS").upper(), lag


def _describe(dist) -> str:
    if isinstance(dist, Fixed):
        return f"{dist.value:g}"
    params = ", ".join(f"{f.name}={getattr(dist, f.name)!r}" for f in dataclasses.fields(dist)
                       if f.init)
    return f"{dist.kind}({params})"


def _closest(word, choices) -> str:
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def _is_number(x) -> bool:
    """A TOML number that float() can take (a 400-digit integer is not one)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    return not isinstance(x, int) or abs(x) < 2 ** 1000


class _Reader:
    """One pass over a scenario file that collects every problem instead of stopping."""

    def __init__(self, path):
        self.path = Path(path)
        self.label = str(path)
        self.problems: list[str] = []
        # (task id, where, file label, [(pred text or table, where)]) in file order
        self.entries: list[tuple[str, str, str, list]] = []
        self.where_of: dict[str, str] = {}
        # (task ids it applies to, Condition, where) of every `when`, checked after the links
        self.conditions: list[tuple[list, object, str]] = []
        # where each risk/driver id, correlated task and branched task was first given
        self.event_ids: dict[str, str] = {}
        self.grouped: dict[str, str] = {}
        self.branched: dict[str, str] = {}
        # the working calendars and data date ([calendars.NAME], io._wallclock), or None
        self.wall = None
        self.day_calendar_given = False
        # tasks whose wall-clock keys were refused for want of calendars
        self.clock_missing = 0

    def problem(self, where: str | None, message: str, label: str | None = None) -> None:
        label = label or self.label
        self.problems.append(f"{label}: {where}: {message}" if where else f"{label}: {message}")

    @property
    def known_ids(self) -> set:
        return set(self.where_of)

    def unknown_keys(self, where, table: dict, allowed) -> None:
        for key in table:
            if key not in allowed:
                self.problem(where, f"unknown key {key!r}{_closest(key, allowed)} "
                             f"(allowed: {', '.join(allowed)})")

    # -- file -------------------------------------------------------------------
    def read(self) -> tuple[Project | None, list[str]]:
        if _not_regular(self.path):
            # a device or pipe (zero.toml -> /dev/zero) would be read forever
            self.problem(None, "is not a regular file (a device, pipe or socket); give the "
                               "path of a scenario file")
            return None, self.problems
        try:
            with open(self.path, "rb") as fh:
                doc = tomllib.load(fh)
        except FileNotFoundError:
            self.problem(None, "no such file")
            return None, self.problems
        except IsADirectoryError:
            self.problem(None, "is a directory, not a scenario file")
            return None, self.problems
        except OSError as exc:
            self.problem(None, f"cannot read: {exc.strerror or exc}")
            return None, self.problems
        except UnicodeDecodeError:
            self.problem(None, "is not UTF-8 text; save it as UTF-8")
            return None, self.problems
        except tomllib.TOMLDecodeError as exc:
            self.problem(None, _toml_error(exc))
            return None, self.problems
        except RecursionError:
            # arrays or tables nested thousands deep: tomllib recurses once per level
            self.problem(None, "is nested too deeply (arrays or tables inside each other "
                               "thousands of levels deep); this is not a scenario file")
            return None, self.problems

        self.unknown_keys(None, doc, TOP_KEYS)
        self.wall = clock.read_project_clock(self, doc)
        self.day_calendar_given = "calendar" in doc
        status = doc.get("status")
        # with a status date, the tasks' progress keys belong to that status update
        self.status_given = isinstance(status, dict) and "date" in status
        self.task_status: dict = {}
        project = self.read_project(doc.get("project", {}), doc.get("calendar", {}))
        tasks = doc.get("tasks", [])
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            self.problem("tasks", "must be an array of tables: write each task under [[tasks]]")
            tasks = []
        self.read_resources(project, doc.get("resources", []))
        csv_name = project.meta.get("tasks_csv")
        if csv_name is not None:
            self.read_csv(project, csv_name)
        for i, entry in enumerate(tasks):
            self.read_task(project, entry, f"tasks[{i}]")
        if not self.entries and not self.problems:
            self.problem(None, "no tasks; add [[tasks]] tables or a tasks_csv file under [project]")
        self.read_links(project)
        if self.clock_missing > 1:
            self.problem(None, f"{self.clock_missing - 1} more tasks give keys that need "
                         "working calendars ([calendars.NAME] tables)")
        if self.wall is not None and not self.problems:
            for message in clock.apply_project_clock(project, self.wall):
                self.problem(None, message)
        self.read_uncertainty(project, doc)
        if "status" in doc:
            self.read_status(project, doc["status"])
        if "uncertainty" in doc and not self.problems:
            project = self.apply_ranges(project, doc["uncertainty"])
        if not self.problems:
            self.problems.extend(f"{self.label}: {p}" for p in project.problems())
        return project, self.problems

    def apply_ranges(self, project, tables) -> Project:
        """``[[uncertainty]]``: relative three-point ranges on deterministic tasks (QuickRisk)."""
        from ..uncertainty import apply_uncertainty, parse_rule
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            self.problem("uncertainty", "must be an array of tables: write each rule under "
                         '[[uncertainty]] with range = "triangular(-10%, 0, +25%)"')
            return project
        rules = []
        for i, table in enumerate(tables):
            try:
                rules.append(parse_rule(table))
            except ModelError as exc:
                self.problem(f"uncertainty[{i}]", str(exc))
        if len(rules) != len(tables):
            return project
        return apply_uncertainty(project, rules)

    def read_project(self, meta, cal) -> Project:
        project = Project()
        project.meta["source"] = self.label
        project.meta["format"] = "scenario"
        if not isinstance(meta, dict):
            self.problem("project", "must be a table: write [project] on its own line")
            meta = {}
        if not isinstance(cal, dict):
            self.problem("calendar", "must be a table: write [calendar] on its own line")
            cal = {}
        self.unknown_keys("project", meta, PROJECT_KEYS)
        self.unknown_keys("calendar", cal, CALENDAR_KEYS)

        name = meta.get("name", self.path.stem)
        if not isinstance(name, str):
            self.problem("project.name", f"must be text, got {name!r}")
            name = self.path.stem
        project.name = name

        unit = meta.get("time_unit", "days")
        if unit not in TIME_UNITS:
            self.problem("project.time_unit",
                         f'must be "days" (working days), got {unit!r}; convert durations to days')
        project.time_unit = "days"

        calendar = WorkCalendar()
        workdays = cal.get("workdays", list(calendar.workdays))
        holidays = cal.get("holidays", [])
        if not isinstance(workdays, list):
            self.problem("calendar.workdays",
                         f'must be a list like ["Mon", "Tue"], got {workdays!r}')
            workdays = list(calendar.workdays)
        if not isinstance(holidays, list):
            self.problem("calendar.holidays", f'must be a list of dates, got {holidays!r}')
            holidays = []
        try:
            calendar = WorkCalendar(workdays, holidays)
        except ModelError as exc:
            self.problem("calendar", str(exc).removeprefix("calendar: "))
        if self.wall is not None and self.wall["ok"] and not self.day_calendar_given:
            # the days that show working time as dates: those of the axis calendar
            calendar = clock.day_calendar(self.wall)
        project.calendar = calendar

        if "start" in meta:
            try:
                project.start = calendar.check_start(as_date(meta["start"], "start"))
            except ModelError as exc:
                message = str(exc).removeprefix("start: ").removeprefix("start ")
                self.problem("project.start", message)
        elif self.wall is not None and self.wall["ok"]:
            project.start = calendar.next_workday(self.wall["data_date"].date())

        if "tasks_csv" in meta:
            if isinstance(meta["tasks_csv"], str) and meta["tasks_csv"].strip():
                project.meta["tasks_csv"] = meta["tasks_csv"]
            else:
                self.problem("project.tasks_csv", f"must be a file name, got {meta['tasks_csv']!r}")
        if "cost_rate" in meta:
            project.cost_rate = self.cost("project.cost_rate", meta["cost_rate"],
                                          "cost per working day of the project's duration")
        if "budget" in meta:
            budget = meta["budget"]
            if _is_number(budget) and math.isfinite(budget) and budget > 0:
                project.meta["budget"] = float(budget)
            else:
                self.problem("project.budget", f"must be a number > 0 (the total cost budget), "
                             f"got {budget!r}")
        if "levelling" in meta:
            value = meta["levelling"]
            if value in LEVELLING_SCHEMES or value in ("none", False):
                project.levelling = value if value in LEVELLING_SCHEMES else None
            else:
                self.problem("project.levelling", f"must be one of "
                             f"{', '.join(map(repr, LEVELLING_SCHEMES))} or \"none\", got {value!r}")
        if "priority" in meta:
            value = meta["priority"]
            if value in PRIORITY_RULES:
                project.priority = value
            else:
                self.problem("project.priority", f"must be one of {', '.join(PRIORITY_RULES)} "
                             f"(the levelling priority rule), got {value!r}"
                             f"{_closest(str(value), PRIORITY_RULES)}")
        if "history" in meta:
            # kept as written: the CLI resolves it against the scenario's folder
            history = meta["history"]
            if (isinstance(history, str) and history.strip()
                    and not history.strip().endswith(("/", "\\"))):
                project.meta["history"] = history.strip()
            else:
                self.problem("project.history", f'must be the name of the run history file, '
                             f'like "pmosim.db" (beside the scenario) or a path; got {history!r}')
        if "currency" in meta:
            currency = meta["currency"]
            if isinstance(currency, str) and currency.strip():
                project.meta["currency"] = currency.strip()
            else:
                self.problem("project.currency", f'must be text like "EUR", got {currency!r}')
        return project

    # -- resources -----------------------------------------------------------------
    def read_resources(self, project, tables) -> None:
        """``[[resources]]``: ``id``, ``capacity`` (units per working day), optional
        ``name`` and ``changes = [{ at = 20, capacity = 1 }, ...]`` (``at``: working days
        from the start, or a date when the project has a start)."""
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            self.problem("resources", "must be an array of tables: write each resource under "
                         "[[resources]] with id and capacity")
            return
        for i, entry in enumerate(tables):
            where = f"resources[{i}]"
            rid = entry.get("id")
            if not isinstance(rid, str) or not rid.strip():
                self.problem(where, "missing 'id'; give every resource an id such as id = "
                             '"crane"' if rid is None else f"id must be text, got {rid!r}")
                continue
            rid = rid.strip()
            here = f'{where} ("{rid}")'
            self.unknown_keys(here, entry, RESOURCE_KEYS)
            if "capacity" not in entry:
                self.problem(here, "missing 'capacity' (units available per working day)")
                continue
            name = entry.get("name")
            if name is not None and not isinstance(name, str):
                self.problem(here, f"name must be text, got {name!r}")
                name = None
            changes = entry.get("changes", [])
            if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
                self.problem(here, "changes must be a list of tables like "
                             "[{ at = 20, capacity = 1 }]")
                continue
            steps = []
            for k, change in enumerate(changes):
                cwhere = f"{here}: changes[{k}]"
                self.unknown_keys(cwhere, change, CHANGE_KEYS)
                if "at" not in change or "capacity" not in change:
                    self.problem(cwhere, "needs 'at' (working days from the start, or a date) "
                                 "and 'capacity'")
                    continue
                at = self.change_time(project, cwhere, change["at"])
                if at is not None:
                    steps.append((at, change["capacity"]))
            if len(steps) != len(changes):
                continue
            if rid in project.resources:
                self.problem(here, f"duplicate resource id {rid!r}; resource ids must be unique")
                continue
            try:
                project.add_resource(rid, entry["capacity"], name=name, changes=steps)
            except ModelError as exc:
                self.problem(here, _strip_subject(str(exc), f"resource {rid!r}"))

    def change_time(self, project, where, value):
        if _is_number(value) and math.isfinite(float(value)):
            return float(value)
        if isinstance(value, (str, _dt.date)) and project.start is not None:
            try:
                return project.calendar.working_time(project.start, as_date(value, "at"),
                                                     at="start")
            except ModelError as exc:
                self.problem(where, f"at: {exc}")
                return None
        self.problem(where, f"at must be working days from the start (a number)"
                     f"{' or a date' if project.start is not None else ''}, got {value!r}")
        return None

    def demands(self, project, where, spec, label=None):
        """A task's ``resources`` table checked against the resources read so far."""
        if not isinstance(spec, dict):
            self.problem(where, f"resources must be a table like {{ crane = 1, crew = 4 }}, "
                         f"got {spec!r}", label)
            return None
        try:
            return task_demands(where, {"resources": spec}, project.resources)
        except ModelError as exc:
            self.problem(where, _strip_subject(str(exc), f"task {where!r}"), label)
            return None

    def csv_demands(self, project, where, text, label):
        """A CSV ``resources`` cell: ``crane:1; crew:4``."""
        spec = {}
        for part in re.split(r"[;,]", text):
            if not part.strip():
                continue
            rid, sep, units = part.partition(":")
            try:
                spec[rid.strip()] = float(units) if sep else 1.0
            except ValueError:
                self.problem(where, f"resources: {part.strip()!r} should be resource:units "
                             f"like crane:1", label)
                return None
        return self.demands(project, where, spec, label)

    # -- tasks --------------------------------------------------------------------
    def add_task(self, project, where, label, task_id, name, duration, planned, preds,
                 extra=None):
        if any(ord(c) < 32 or ord(c) == 127 for c in task_id):
            self.problem(where, f"id {task_id!r} contains a control character (NUL, tab, line "
                         "break ...); remove it", label)
            return
        if task_id in self.where_of:
            self.problem(where, f"duplicate id {task_id!r} (already used by "
                         f"{self.where_of[task_id]}); task ids must be unique", label)
            return
        self.where_of[task_id] = where if label == self.label else f"{label} {where}"
        attrs = dict(extra or {})
        if name is not None:
            attrs["name"] = name
        if planned is not None:
            attrs["planned"] = planned
        # A task whose duration is invalid still joins the graph (the problem is
        # already recorded), so that its successors' links can be checked.
        project.add_task(task_id, duration if duration is not None else 0.0, **attrs)
        self.entries.append((task_id, where, label, preds))

    def read_task(self, project, entry: dict, where: str) -> None:
        task_id = entry.get("id")
        if _is_number(task_id) and float(task_id).is_integer():
            task_id = str(int(task_id))
        if not isinstance(task_id, str) or not task_id.strip():
            self.problem(where, "missing 'id'; give every task a unique id such as id = \"design\""
                         if task_id is None else
                         f"id must be text or a whole number, got {task_id!r}")
            return
        task_id = task_id.strip()
        here = f'{where} ("{task_id}")'
        self.unknown_keys(here, entry, TASK_KEYS)
        entry = self.take_status(task_id, here, entry)
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            self.problem(here, f"name must be text, got {name!r}")
            name = None
        duration = None
        if "duration" not in entry:
            self.problem(here, "missing 'duration'; give working days (duration = 5) or a "
                         'distribution (duration = { dist = "triangular", low = 3, mode = 5, '
                         'high = 9 })')
        else:
            duration = self.duration(here, entry["duration"])
        planned = self.planned(here, entry.get("planned"))
        preds = entry.get("predecessors", [])
        if isinstance(preds, (str, dict)):
            preds = [preds]
        if not isinstance(preds, list):
            self.problem(here, "predecessors must be a list like [\"design\", \"permit SS+5\"], "
                         f"got {preds!r}")
            preds = []
        extra = {}
        if "existence" in entry:
            value = self.probability(here, "existence", entry["existence"])
            if value is not None:
                extra["existence"] = value
        for key, unit in (("cost_fixed", "cost"), ("cost_rate", "cost per working day")):
            if key in entry:
                value = self.cost(f"{here}: {key}", entry[key], unit)
                if value is not None:
                    extra[key] = value
        if "actual_cost" in entry:
            _actual_cost(self, here, entry["actual_cost"], extra, "cost_fixed" in entry)
        if "wbs" in entry:
            if isinstance(entry["wbs"], str):
                extra["wbs"] = entry["wbs"]
            else:
                self.problem(here, f'wbs must be text like "1.2.3", got {entry["wbs"]!r}')
        for key in ("release", "fixed_start", "fixed_finish"):
            if key in entry:
                value = entry[key]
                if _is_number(value) and math.isfinite(float(value)):
                    extra[key] = float(value)
                else:
                    self.problem(here, f"{key} must be a number of working days from the "
                                 f"project start (time 0), got {value!r}")
        if "resources" in entry:
            demands = self.demands(project, here, entry["resources"])
            if demands is not None:
                extra["resources"] = demands
        if "priority" in entry:
            value = entry["priority"]
            if _is_number(value) and math.isfinite(float(value)):
                extra["priority"] = float(value)
            else:
                self.problem(here, f"priority must be a number (higher levels first; 500 is "
                             f"the default), got {value!r}")
        if "when" in entry:
            cond = self.condition(f"{here}: when", entry["when"])
            if cond is not None:
                extra["when"] = cond
                self.conditions.append(([task_id], cond, f"{here}: when"))
        clock.read_task_clock(self, here, entry, extra)
        self.add_task(project, where, self.label, task_id, name, duration, planned,
                      [(p, f"{here}: predecessors[{k}]") for k, p in enumerate(preds)], extra)

    def duration(self, where, spec, label=None):
        """A validated non-negative duration distribution, or None after recording the problem."""
        try:
            dist = self.distribution(spec, "duration")
        except ModelError as exc:
            # a plain number is a Fixed: say "duration", not "fixed: value"
            self.problem(where, re.sub(r"^fixed: value ", "duration ", str(exc)), label)
            return None
        low = dist.mean if isinstance(dist, Normal) else dist.support[0]
        if isinstance(dist, Fixed) and low < 0:
            self.problem(where, f"duration must be >= 0, got {low:g}", label)
            return None
        if low < 0:
            what = "a negative mean" if isinstance(dist, Normal) else f"a low end of {low:g}"
            self.problem(where, f"duration {_describe(dist)} has {what}; "
                         "durations must be >= 0", label)
            return None
        return dist

    def planned(self, where, value, label=None):
        if value is None:
            return None
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            self.problem(where, f"planned must be a number of working days >= 0, got {value!r}",
                         label)
            return None
        return float(value)

    def probability(self, where, key, value, label=None):
        """A probability in 0..1, or None after recording the problem."""
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            self.problem(where, f"{key} must be between 0 and 1 (0.3 means 30%), got {value!r}",
                         label)
            return None
        return float(value)

    def cost(self, where, spec, unit, label=None):
        """A non-negative cost (number or distribution table), or None after recording."""
        try:
            dist = self.distribution(spec, f"a {unit}")
            if isinstance(dist, Fixed) and dist.value < 0:
                raise ModelError(f"costs must be >= 0, got {dist.value:g}")
            dist.check_nonnegative("cost")
        except ModelError as exc:
            self.problem(where, str(exc).removeprefix("cost: "), label)
            return None
        return dist

    def dist_or_problem(self, where, key, spec):
        """A distribution (any sign) for ``key``, or None after recording the problem."""
        try:
            return self.distribution(spec, key)
        except ModelError as exc:
            message = str(exc)
            if not message.startswith(f"{key}"):
                message = f"{key}: {message}"
            self.problem(where, message)
            return None

    def condition(self, where, spec):
        """A ``when`` table as a :class:`~pmosim.model.Condition`, or None after recording."""
        if isinstance(spec, dict) and _is_number(spec.get("task")) \
                and float(spec["task"]).is_integer():
            spec = dict(spec, task=str(int(spec["task"])))
        if isinstance(spec, dict):
            allowed = ("task",) + tuple(CONDITION_KINDS)
            bad = [k for k in spec if k not in allowed]
            if bad:
                self.problem(where, f"unknown key {bad[0]!r}{_closest(bad[0], allowed)} "
                             f"(allowed: {', '.join(allowed)})")
                return None
        try:
            return condition("when", spec)
        except ModelError as exc:
            self.problem(where, str(exc).removeprefix("when: "))
            return None

    @staticmethod
    def distribution(spec, what: str):
        """A number or a ``{dist = ...}`` table as a distribution; raises ModelError."""
        if _is_number(spec):
            return Fixed(spec)
        if not isinstance(spec, dict):
            raise ModelError(f"{what} must be a number or a distribution table like "
                             f'{{ dist = "pert", low = 3, mode = 5, high = 9 }}, got {spec!r}')
        kind = spec.get("dist")
        if kind is None:
            raise ModelError(f"{what}: missing 'dist'; use one of {', '.join(DISTRIBUTIONS)}")
        key = str(kind).strip().lower()
        if key not in DISTRIBUTIONS:
            raise ModelError(f"{what}: unknown dist {kind!r}{_closest(key, DISTRIBUTIONS)} "
                             f"(use one of {', '.join(DISTRIBUTIONS)})")
        cls, required, optional = DISTRIBUTIONS[key]
        params = {k: v for k, v in spec.items() if k != "dist"}
        for k in params:
            if k not in required + optional:
                raise ModelError(f"{key} takes {', '.join(required + optional)}; "
                                 f"unknown key {k!r}{_closest(k, required + optional)}")
        missing = [k for k in required if k not in params]
        if missing:
            raise ModelError(f"{key} needs {', '.join(required)}; missing {', '.join(missing)}")
        for k, v in params.items():
            if k in ("values", "weights"):
                if not isinstance(v, list) or not all(_is_number(x) for x in v):
                    raise ModelError(f"{key}: {k} must be a list of numbers, got {v!r}")
            elif not _is_number(v):
                raise ModelError(f"{key}: {k} must be a number, got {v!r}")
        return cls(**params)

    # -- CSV sidecar ---------------------------------------------------------------
    def read_csv(self, project, name: str) -> None:
        csv_path = self.path.parent / name
        label = os.path.join(os.path.dirname(self.label), name)
        if _not_regular(csv_path):
            self.problem("project.tasks_csv", f"{label} is not a regular file (a device, pipe "
                                              "or socket); give the path of a CSV file")
            return
        try:
            check_size(csv_path, "task CSV")
        except PmosimError as exc:
            self.problem("project.tasks_csv", str(exc))
            return
        try:
            with open(csv_path, newline="", encoding="utf-8-sig") as fh:
                text = fh.read()
            # Excel writes ';' (and decimal commas) where the decimal separator is a comma
            delimiter = _csv_delimiter(text)
            self.csv_decimal_comma = delimiter != ","
            reader = csv.reader(io.StringIO(text), delimiter=delimiter)
            try:
                rows = list(reader)
            except csv.Error as exc:
                self.problem(f"line {reader.line_num}", f"cannot be read as CSV: {exc}",
                             label)
                return
        except FileNotFoundError:
            self.problem("project.tasks_csv", f"{name!r} not found (looked for {label})")
            return
        except (OSError, UnicodeDecodeError) as exc:
            self.problem("project.tasks_csv", f"cannot read {label}: {exc}")
            return
        if not rows:
            self.problem(None, "is empty; the first line must name the columns "
                         "(id, dist, low, ...)", label)
            return
        header = [h.strip().lower() for h in rows[0]]
        for h in header:
            if h not in CSV_COLUMNS:
                self.problem("line 1", f"unknown column {h!r}{_closest(h, CSV_COLUMNS)} "
                             f"(allowed: {', '.join(CSV_COLUMNS)})", label)
        if "id" not in header:
            self.problem("line 1", "missing column 'id'", label)
            return
        if "dist" not in header and "duration" not in header:
            self.problem("line 1", "needs a 'duration' column or a 'dist' column "
                         "with its parameters (low, mode, high, ...)", label)
            return
        for lineno, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                self.problem(f"line {lineno}", f"has {len(row)} cells but the header names "
                             f"{len(header)} columns", label)
                continue
            cells = {h: c.strip() for h, c in zip(header, row) if c.strip() and h in CSV_COLUMNS}
            self.read_csv_row(project, cells, lineno, label)

    def read_csv_row(self, project, cells: dict, lineno: int, label: str) -> None:
        where = f"line {lineno}"
        task_id = cells.get("id")
        if not task_id:
            self.problem(where, "empty id; every row needs a unique task id", label)
            return
        here = f'{where} ("{task_id}")'
        cells = self.take_status(task_id, here, cells, label, csv=True)
        numbers = {}
        for key in ("duration", "planned", "value", "low", "mode", "high", "lamb",
                    "low_pct", "high_pct", "mean", "sd", "existence", "cost_fixed", "cost_rate",
                    "actual_cost", "release", "fixed_start", "fixed_finish", "priority"):
            if key in cells:
                try:
                    numbers[key] = _csv_float(cells[key], self.csv_decimal_comma)
                except ValueError as exc:
                    self.problem(here, f"{key} must be a number, got {cells[key]!r}{exc}",
                                 label)
                    return
        for key in ("values", "weights"):
            if key in cells:
                try:
                    numbers[key] = [_csv_float(x, self.csv_decimal_comma)
                                    for x in re.split(r"[;\s]+", cells[key]) if x]
                except ValueError as exc:
                    sep = "spaces" if self.csv_decimal_comma else "';'"
                    self.problem(here, f"{key} must be numbers separated by {sep}, "
                                 f"got {cells[key]!r}{exc}", label)
                    return
        if "dist" in cells:
            if "duration" in numbers:
                self.problem(here, "give either duration or dist (with its parameters), not both",
                             label)
                return
            spec = {k: v for k, v in numbers.items() if k not in _CSV_TASK_NUMBERS}
            spec["dist"] = cells["dist"]
        elif "duration" in numbers:
            spec = numbers["duration"]
            extra = [k for k in numbers if k not in ("duration",) + _CSV_TASK_NUMBERS]
            if extra:
                self.problem(here, f"{', '.join(extra)} given without a dist", label)
                return
        else:
            self.problem(here, "needs a duration or a dist with its parameters", label)
            spec = None
        duration = self.duration(here, spec, label) if spec is not None else None
        planned = self.planned(here, numbers.get("planned"), label)
        preds = [p for p in re.split(r"[;,]", cells.get("predecessors", "")) if p.strip()]
        extra = {}
        if "existence" in numbers:
            value = self.probability(here, "existence", numbers["existence"], label)
            if value is not None:
                extra["existence"] = value
        for key, unit in (("cost_fixed", "cost"), ("cost_rate", "cost per working day")):
            if key in numbers:
                value = self.cost(f"{here}: {key}", numbers[key], unit, label)
                if value is not None:
                    extra[key] = value
        if "actual_cost" in numbers:
            _actual_cost(self, here, numbers["actual_cost"], extra, "cost_fixed" in numbers,
                         label)
        for key in ("release", "fixed_start", "fixed_finish", "priority"):
            if key in numbers:
                extra[key] = numbers[key]
        if cells.get("resources"):
            demands = self.csv_demands(project, here, cells["resources"], label)
            if demands is None:
                return
            extra["resources"] = demands
        if cells.get("wbs"):
            extra["wbs"] = cells["wbs"]
        clock.read_task_clock(self, here, cells, extra, label, csv=True,
                              number=lambda text: _csv_float(text, self.csv_decimal_comma))
        self.add_task(project, where, label, task_id, cells.get("name"), duration, planned,
                      [(p, f"{here}: predecessors") for p in preds], extra)

    # -- links ---------------------------------------------------------------------
    def read_links(self, project) -> None:
        known = set(self.where_of)
        for task_id, _, label, preds in self.entries:
            for spec, where in preds:
                self.read_link(project, task_id, spec, where, label, known)

    def read_link(self, project, succ, spec, where, label, known) -> None:
        if _is_number(spec) and float(spec).is_integer():
            spec = str(int(spec))
        try:
            attrs = {}
            if isinstance(spec, str):
                pred, kind, lag = parse_predecessor(spec, known)
            elif isinstance(spec, dict):
                pred, kind, lag, attrs = self.link_table(spec)
            else:
                raise ModelError(f"expected text like \"design SS+5\" or a table "
                                 f"{{ id = \"design\", type = \"SS\", lag = 5 }}, got {spec!r}")
        except ModelError as exc:
            self.problem(where, str(exc), label)
            return
        if pred not in known and isinstance(spec, str) and (typo := _link_type_typo(spec, known)):
            self.problem(where, f"unknown link type {typo!r} in {spec.strip()!r} (use FS, SS, "
                         "FF or SF)", label)
            return
        if pred not in known:
            self.problem(where, f"unknown predecessor {pred!r}"
                         f"{_closest(pred, known - {succ}) or '; no task has that id'}", label)
            return
        if pred == succ:
            self.problem(where, f"task {succ!r} cannot be its own predecessor", label)
            return
        if project.graph.has_edge(pred, succ):
            self.problem(where, f"{pred!r} is listed twice as a predecessor of {succ!r}; "
                         "only one link between two tasks is supported", label)
            return
        project.add_link(pred, succ, type=kind, lag=lag)
        if attrs:
            project.graph.edges[pred, succ].update(attrs)

    def link_table(self, spec: dict):
        for key in spec:
            if key not in LINK_KEYS:
                raise ModelError(f"unknown key {key!r}{_closest(key, LINK_KEYS)} "
                                 f"(allowed: {', '.join(LINK_KEYS)})")
        pred = spec.get("id")
        if _is_number(pred) and float(pred).is_integer():
            pred = str(int(pred))
        if not isinstance(pred, str):
            raise ModelError(f"missing 'id' of the predecessor, got {spec!r}")
        kind = str(spec.get("type", "FS")).upper()
        if kind not in LINK_TYPES:
            raise ModelError(f"unknown link type {spec.get('type')!r}; use one of FS, SS, FF, SF")
        lag = spec.get("lag", 0.0)
        if _is_number(lag):
            lag = float(lag)
        elif isinstance(lag, str):
            lag = parse_lag(lag)
        else:
            lag = self.distribution(lag, "lag")
        return pred.strip(), kind, lag, clock.read_link_clock(self, spec)


    # -- risks, drivers, correlations, branches ------------------------------------
    def read_uncertainty(self, project, doc) -> None:
        tables = {}
        for key in ("risks", "drivers", "correlations", "branches"):
            entries = doc.get(key, [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                self.problem(key, f"must be an array of tables: write each one under [[{key}]]")
                entries = []
            tables[key] = entries
        for i, entry in enumerate(tables["risks"]):
            self.read_risk(project, entry, f"risks[{i}]")
        for i, entry in enumerate(tables["drivers"]):
            self.read_driver(project, entry, f"drivers[{i}]")
        for i, entry in enumerate(tables["correlations"]):
            self.read_correlation(project, entry, f"correlations[{i}]")
        for i, entry in enumerate(tables["branches"]):
            self.read_branch(project, entry, f"branches[{i}]")
        self.check_conditions(project)
        budget = project.meta.get("budget")
        has_cost = (project.cost_rate is not None
                    or any("cost_fixed" in d or "cost_rate" in d
                           for _, d in project.graph.nodes(data=True))
                    or any(r.pre.cost_impact is not None for r in project.risks.values()))
        if budget is not None and not has_cost:
            self.problem("project.budget", "the scenario has no costs to compare with the "
                         "budget; set cost_fixed or cost_rate on tasks, cost_impact on risks or "
                         "cost_rate under [project], or remove the budget")

    def event_id(self, entry, where, kind):
        """The id of a risk or driver entry (unique across both), or None after recording."""
        rid = entry.get("id")
        if _is_number(rid) and float(rid).is_integer():
            rid = str(int(rid))
        if not isinstance(rid, str) or not rid.strip():
            self.problem(where, f"missing 'id'; give every {kind} a unique id such as "
                         f'id = "{"R1" if kind == "risk" else "D1"}"' if rid is None else
                         f"id must be text or a whole number, got {rid!r}")
            return None
        rid = rid.strip()
        if rid in self.event_ids:
            self.problem(f'{where} ("{rid}")', f"duplicate id {rid!r} (already used by "
                         f"{self.event_ids[rid]}); risk and driver ids must be unique")
            return None
        self.event_ids[rid] = where
        return rid

    def task_ids(self, where, spec, key="tasks", minimum=1):
        """A list of existing task ids, or None after recording the problem."""
        if isinstance(spec, str) or _is_number(spec):
            spec = [spec]
        if not isinstance(spec, list) or len(spec) < minimum:
            example = '["design", "build"]'
            self.problem(where, f"{key} must be a list of at least {minimum} task id"
                         f"{'s' if minimum > 1 else ''} like {example}, got {spec!r}")
            return None
        out = []
        for k, t in enumerate(spec):
            if _is_number(t) and float(t).is_integer():
                t = str(int(t))
            if not isinstance(t, str) or t.strip() not in self.known_ids:
                shown = t if isinstance(t, str) else repr(t)
                hint = _closest(shown, self.known_ids) or "; no task has that id"
                self.problem(where, f"{key}[{k}]: unknown task {shown!r}{hint}")
                return None
            t = t.strip()
            if t in out:
                self.problem(where, f"{key}[{k}]: task {t!r} is listed twice")
                return None
            out.append(t)
        return out

    def impact(self, where, key, spec):
        """A schedule impact: a distribution, or {"pct": distribution}; None when invalid."""
        if isinstance(spec, dict) and "pct" in spec:
            if set(spec) != {"pct"}:
                self.problem(where, f"{key}: a percentage impact has only the key 'pct', like "
                             "{ pct = 10 } or { pct = { dist = \"triangular\", low = 5, "
                             f"mode = 10, high = 30 }} }}; got {spec!r}")
                return None
            dist = self.dist_or_problem(where, f"{key}.pct", spec["pct"])
            return None if dist is None else {"pct": dist}
        return self.dist_or_problem(where, key, spec)

    def event_name(self, here, entry) -> tuple[str | None, bool]:
        """A risk's or driver's optional display name, and whether it is valid."""
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            self.problem(here, f"name must be text, got {name!r}")
            return name, False
        return name, True

    def required(self, here, entry, key, hint, read):
        """``read(entry[key])``, or None after recording that the key is missing (with ``hint``)."""
        if key not in entry:
            self.problem(here, f"missing '{key}'; {hint}")
            return None
        return read(entry[key])

    def factor(self, here, spec):
        """A driver's multiplicative factor: a distribution that cannot go below zero."""
        factor = self.dist_or_problem(here, "factor", spec)
        if factor is not None and factor.support[0] < 0:
            self.problem(here, f"factor {factor.describe()} can be negative; a duration "
                         "multiplier must be >= 0 (1 means no change)")
            return None
        return factor

    def read_risk(self, project, entry, where) -> None:
        rid = self.event_id(entry, where, "risk")
        if rid is None:
            return
        here = f'{where} ("{rid}")'
        self.unknown_keys(here, entry, RISK_KEYS)
        name, ok = self.event_name(here, entry)
        prob = self.required(
            here, entry, "probability", "give the chance that the risk occurs in 0..1, "
            "e.g. probability = 0.3", lambda v: self.probability(here, "probability", v))
        tasks = self.required(here, entry, "tasks", "list the tasks the risk delays, "
                              'e.g. tasks = ["build"]', lambda v: self.task_ids(here, v))
        ok &= prob is not None and tasks is not None
        values = {}
        for key in ("schedule_impact", "cost_impact"):
            if key in entry:
                values[key] = (self.impact(here, key, entry[key]) if key == "schedule_impact"
                               else self.dist_or_problem(here, key, entry[key]))
                ok &= values[key] is not None
        if "schedule_impact" not in entry and "cost_impact" not in entry:
            self.problem(here, "a risk needs schedule_impact, cost_impact or both "
                         "(what happens when it occurs)")
            ok = False
        mitigated = entry.get("mitigated")
        if mitigated is not None:
            mwhere = f"{here}: mitigated"
            if not isinstance(mitigated, dict):
                self.problem(mwhere, "must be a table like { probability = 0.1 } with any of "
                             f"{', '.join(MITIGATED_KEYS)}; got {mitigated!r}")
                ok = False
            else:
                self.unknown_keys(mwhere, mitigated, MITIGATED_KEYS)
                ok &= all(k in MITIGATED_KEYS for k in mitigated)
                post = {}
                if "probability" in mitigated:
                    post["probability"] = self.probability(mwhere, "probability",
                                                           mitigated["probability"])
                if "schedule_impact" in mitigated:
                    post["schedule_impact"] = self.impact(mwhere, "schedule_impact",
                                                          mitigated["schedule_impact"])
                if "cost_impact" in mitigated:
                    post["cost_impact"] = self.dist_or_problem(mwhere, "cost_impact",
                                                               mitigated["cost_impact"])
                ok &= all(v is not None for v in post.values())
                mitigated = post
        if not ok:
            return
        try:
            project.add_risk(rid, prob, tasks, name=name, mitigated=mitigated, **values)
        except ModelError as exc:
            self.problem(here, _strip_subject(str(exc), f"risk {rid!r}"))

    def read_driver(self, project, entry, where) -> None:
        did = self.event_id(entry, where, "driver")
        if did is None:
            return
        here = f'{where} ("{did}")'
        self.unknown_keys(here, entry, DRIVER_KEYS)
        name, ok = self.event_name(here, entry)
        prob = self.required(
            here, entry, "probability", "give the chance that the driver occurs in 0..1 "
            "(probability = 1 for a driver that always applies)",
            lambda v: self.probability(here, "probability", v))
        factor = self.required(
            here, entry, "factor", "give the multiplier of the durations, e.g. "
            'factor = { dist = "triangular", low = 0.95, mode = 1.05, high = 1.3 }',
            lambda v: self.factor(here, v))
        tasks = self.required(here, entry, "tasks", "list the tasks the driver scales, "
                              'e.g. tasks = ["design", "build"]', lambda v: self.task_ids(here, v))
        ok &= prob is not None and factor is not None and tasks is not None
        if not ok:
            return
        try:
            project.add_driver(did, prob, factor, tasks, name=name)
        except ModelError as exc:
            self.problem(here, _strip_subject(str(exc), f"driver {did!r}"))

    def read_correlation(self, project, entry, where) -> None:
        self.unknown_keys(where, entry, CORRELATION_KEYS)
        if "tasks" not in entry:
            self.problem(where, 'missing \'tasks\'; list the correlated tasks, e.g. '
                         'tasks = ["design", "build"]')
            return
        tasks = self.task_ids(where, entry["tasks"], minimum=2)
        if tasks is None:
            return
        here = f"{where} ({', '.join(tasks)})" if len(tasks) <= 4 else \
            f"{where} ({', '.join(tasks[:3])}, ... {len(tasks)} tasks)"
        for t in tasks:
            if isinstance(project.graph.nodes[t].get("duration"), Fixed):
                self.problem(here, f"task {t!r} has a fixed duration, so it cannot be "
                             "correlated with anything; give it a distribution or leave it "
                             "out of the group")
                return
            if t in self.grouped:
                self.problem(here, f"task {t!r} is already in {self.grouped[t]}; a task can be "
                             "in one correlation group only: merge the two groups into one "
                             "with a matrix")
                return
        k = len(tasks)
        repair = entry.get("repair", True)
        if not isinstance(repair, bool):
            self.problem(here, f"repair must be true or false, got {repair!r}")
            return
        has_c, has_m = "coefficient" in entry, "matrix" in entry
        if has_c == has_m:
            self.problem(here, "give either coefficient (one Spearman coefficient for every "
                         "pair) or matrix (a full matrix), not " + ("both" if has_c else "neither"))
            return
        if has_c:
            c = entry["coefficient"]
            if not _is_number(c) or not -1.0 <= c <= 1.0:
                self.problem(here, f"coefficient must be a number within -1..1, got {c!r}")
                return
            matrix = np.full((k, k), float(c))
            np.fill_diagonal(matrix, 1.0)
        else:
            rows = entry["matrix"]
            if (not isinstance(rows, list) or len(rows) != k
                    or not all(isinstance(r, list) and len(r) == k for r in rows)):
                self.problem(here, f"matrix must be {k} rows of {k} numbers (one row and column "
                             f"per task, in the order of tasks), got {rows!r}")
                return
            if not all(_is_number(x) for r in rows for x in r):
                self.problem(here, f"matrix must hold numbers only, got {rows!r}")
                return
            matrix = np.array(rows, dtype=float)
            for i in range(k):
                if matrix[i, i] != 1.0:
                    self.problem(here, f"matrix[{i}][{i}] must be 1 (a task with itself), "
                                 f"got {rows[i][i]!r}")
                    return
                for j in range(k):
                    if not -1.0 <= matrix[i, j] <= 1.0:
                        self.problem(here, f"matrix[{i}][{j}] must be within -1..1, "
                                     f"got {rows[i][j]!r}")
                        return
                    if matrix[i, j] != matrix[j, i]:
                        self.problem(here, f"matrix must be symmetric: matrix[{i}][{j}] = "
                                     f"{rows[i][j]!r} but matrix[{j}][{i}] = {rows[j][i]!r}")
                        return
        if not repair:
            repaired = stats.round_to_grid(stats.nearest_correlation(matrix))
            if np.any(np.abs(repaired - matrix) > 1e-12):
                low = float(np.linalg.eigvalsh(matrix).min())
                self.problem(here, "the matrix is not positive semi-definite (smallest "
                             f"eigenvalue {low:.3g}), so no set of durations can have these "
                             "correlations; fix the coefficients, or set repair = true to use "
                             "the nearest valid matrix (the run reports every change)")
                return
        try:
            project.add_correlation_matrix(tasks, matrix, repair=repair)
        except ModelError as exc:
            self.problem(here, str(exc))
            return
        for t in tasks:
            self.grouped[t] = where

    def read_branch(self, project, entry, where) -> None:
        bid = entry.get("id")
        if _is_number(bid) and float(bid).is_integer():
            bid = str(int(bid))
        if not isinstance(bid, str) or not bid.strip():
            self.problem(where, "missing 'id'; give every branch an id such as id = \"test\""
                         if bid is None else f"id must be text or a whole number, got {bid!r}")
            return
        bid = bid.strip()
        here = f'{where} ("{bid}")'
        if bid in project.branches:
            self.problem(here, f"duplicate branch id {bid!r}; branch ids must be unique")
            return
        self.unknown_keys(here, entry, BRANCH_KEYS)
        options = entry.get("options")
        example = ('options = [{ probability = 0.7, tasks = ["deploy"] }, '
                   '{ probability = 0.3, tasks = ["rework", "retest"] }]')
        if (not isinstance(options, list) or len(options) < 2
                or not all(isinstance(o, dict) for o in options)):
            self.problem(here, "options must be a list of at least two tables, like "
                         f"{example}; got {options!r}")
            return
        parsed, ok = [], True
        for j, opt in enumerate(options):
            owhere = f"{here}: options[{j}]"
            self.unknown_keys(owhere, opt, OPTION_KEYS)
            if "probability" not in opt:
                self.problem(owhere, "missing 'probability' of this option")
                ok = False
                continue
            prob = self.probability(owhere, "probability", opt["probability"])
            tasks = None
            if "tasks" in opt:
                tasks = self.task_ids(owhere, opt["tasks"])
            else:
                self.problem(owhere, "missing 'tasks': the tasks that exist when this option "
                             "is taken")
            cond = self.condition(f"{owhere}: when", opt["when"]) if "when" in opt else None
            if prob is None or tasks is None or ("when" in opt and cond is None):
                ok = False
                continue
            for t in tasks:
                if t in self.branched:
                    self.problem(owhere, f"task {t!r} is already in {self.branched[t]}; a task "
                                 "can be in one branch option only")
                    ok = False
            parsed.append((prob, tasks, cond))
            if cond is not None:
                self.conditions.append((tasks, cond, f"{owhere}: when"))
        if not ok:
            return
        total = sum(p for p, _, _ in parsed)
        if abs(total - 1.0) > 1e-9:
            self.problem(here, f"option probabilities add up to {total:g}; exactly one option "
                         "is taken in each iteration, so they must add up to 1")
            return
        for j, (_, tasks, _) in enumerate(parsed):
            for t in tasks:
                self.branched[t] = f"{here}: options[{j}]"
        try:
            project.add_branch(bid, [(p, t, c) if c is not None else (p, t)
                                     for p, t, c in parsed])
        except ModelError as exc:
            self.problem(here, _strip_subject(str(exc), f"branch {bid!r}"))

    def check_conditions(self, project) -> None:
        """Each ``when`` refers to an existing task that comes before (a predecessor,
        direct or indirect) every task it governs, and a task has at most one."""
        graph = project.graph
        own = {}
        for tasks, cond, where in self.conditions:
            if cond.task not in graph:
                hint = _closest(cond.task, self.known_ids) or "; no task has that id"
                self.problem(where, f"unknown task {cond.task!r}{hint}")
                continue
            for t in tasks:
                if t in own:
                    self.problem(where, f"task {t!r} already has a condition ({own[t]}); "
                                 "keep only one")
                    continue
                own[t] = where
                if cond.task not in nx.ancestors(graph, t):
                    self.problem(where, f"task {cond.task!r} is not a predecessor (direct or "
                                 f"indirect) of {t!r}, so its dates are not known when {t!r} "
                                 f"is scheduled; link {cond.task!r} before {t!r} or drop "
                                 "the condition")

    # -- status updates ([status]) -------------------------------------------------
    def take_status(self, task_id, here, values: dict, label=None, csv: bool = False) -> dict:
        """``values`` without a task's status keys, which go to the ``[status]`` update.

        With a ``[status]`` date, ``actual_start``, ``actual_finish``,
        ``percent_complete``, ``remaining`` and ``actual_cost`` are the task's progress
        at that date (``actual_cost`` then is what it cost so far, which may exceed its
        budget). Without one, ``actual_cost`` keeps its meaning for imported schedules
        (the spent part of ``cost_fixed``) and ``actual_start``/``actual_finish`` theirs
        on working calendars (``[calendars.NAME]``); elsewhere they are a problem.
        """
        keys = [k for k in STATUS_TASK_KEYS + ("actual_cost",) if k in values]
        if not keys:
            return values
        if not self.status_given:
            stray = [k for k in ("percent_complete", "remaining") if k in values]
            if self.wall is None:
                stray += [k for k in ("actual_start", "actual_finish") if k in values]
            if stray:
                self.problem(here, f"{', '.join(stray)}: progress at a status date; add a "
                             '[status] table with the status date (date = "2027-04-30"; '
                             "docs/scenario-format.md, Status updates)", label)
            return {k: v for k, v in values.items() if k not in stray}
        status = self.task_status_entry(here, {k: values[k] for k in keys}, label, csv)
        if status is not None:
            self.task_status[task_id] = status
        return {k: v for k, v in values.items() if k not in keys}

    def moment(self, where, key, value, label=None, csv: bool = False):
        """A status date or actual date: a date or date-time (TOML, or ISO text) or
        working days from the project start (a number); None after recording."""
        if csv and isinstance(value, str):
            try:
                return _csv_float(value, self.csv_decimal_comma)
            except ValueError:
                pass
        if _is_number(value) and math.isfinite(float(value)):
            return float(value)
        if isinstance(value, (_dt.date, _dt.datetime)):
            return value
        if isinstance(value, str) and value.strip():
            text = value.strip()
            try:
                if len(text) > 10:
                    return _dt.datetime.fromisoformat(text)
                return _dt.date.fromisoformat(text)
            except ValueError:
                pass
        self.problem(where, f"{key} must be a date like 2027-04-30 (or a date-time, or working "
                     f"days from the project start), got {value!r}", label)
        return None

    def task_status_entry(self, here, values: dict, label=None, csv: bool = False):
        """One task's progress as a :class:`~pmosim.evm.TaskStatus` (percent complete in
        percent, 0..100; costs and remaining working days >= 0); None after recording."""
        from ..evm import TaskStatus

        out, ok = {}, True
        for key in ("actual_start", "actual_finish"):
            if key in values:
                out[key] = self.moment(here, key, values[key], label, csv)
                ok &= out[key] is not None
        for key, field, what in (("percent_complete", "percent_complete", "percent, 0..100"),
                                 ("remaining", "remaining_duration", "working days >= 0"),
                                 ("actual_cost", "actual_cost", "the cost so far, >= 0")):
            if key not in values:
                continue
            value = values[key]
            if csv and isinstance(value, str):
                text = value.strip()
                if key == "percent_complete" and text.endswith("%"):
                    text = text[:-1]
                try:
                    value = _csv_float(text, self.csv_decimal_comma)
                except ValueError:
                    pass
            high = 100.0 if key == "percent_complete" else math.inf
            if not _is_number(value) or not math.isfinite(float(value)) \
                    or not 0.0 <= float(value) <= high:
                self.problem(here, f"{key} must be a number ({what}), got {values[key]!r}",
                             label)
                ok = False
                continue
            value = float(value)
            out[field] = value / 100.0 if key == "percent_complete" else value
        return TaskStatus(**out) if ok else None

    def read_status(self, project, table) -> None:
        """``[status]``: one status update (``date``, the tasks' progress keys) and/or
        ``[[status.periods]]`` (``date``, ``name``, ``csv``), checked against the
        project (:func:`pmosim.evm.resolve_periods`) into ``meta["status"]``."""
        from ..evm import ACCRUALS, StatusPeriod, resolve_periods

        if not isinstance(table, dict):
            self.problem("status", 'must be a table: write [status] with date = "2027-04-30", '
                         "or [[status.periods]] tables")
            return
        self.unknown_keys("status", table, STATUS_KEYS)
        before = len(self.problems)
        if "fixed_cost_accrual" in table:
            value = table["fixed_cost_accrual"]
            if value in ACCRUALS:
                project.meta["status_accrual"] = value
            else:
                self.problem("status.fixed_cost_accrual", f"must be one of "
                             f"{', '.join(map(repr, ACCRUALS))} (when a task's cost_fixed is "
                             f"earned: over its duration, at its start or at its finish), got "
                             f"{value!r}{_closest(str(value), ACCRUALS)}")
        periods = []
        name = table.get("name")
        if name is not None and not (isinstance(name, str) and name.strip()):
            self.problem("status.name", f"must be text, got {name!r}")
        if "date" in table:
            date = self.moment("status", "date", table["date"])
            if date is not None:
                periods.append(StatusPeriod(date, dict(self.task_status), name))
        elif name is not None:
            self.problem("status.name", "names the status update of [status] date; give the "
                         "date too, or name each [[status.periods]] entry")
        entries = table.get("periods", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problem("status.periods", "must be an array of tables: write each status "
                         'update under [[status.periods]] with date and csv = "FILE.csv"')
            entries = []
        for i, entry in enumerate(entries):
            where = f"status.periods[{i}]"
            self.unknown_keys(where, entry, PERIOD_KEYS)
            pname = entry.get("name")
            if pname is not None and not (isinstance(pname, str) and pname.strip()):
                self.problem(where, f"name must be text, got {pname!r}")
                continue
            if "date" not in entry or "csv" not in entry:
                missing = " and ".join(k for k in ("date", "csv") if k not in entry)
                self.problem(where, f"missing {missing}; a status update is date = "
                             '"2027-04-30" and csv = "status-2027-04.csv" (columns id, '
                             "actual_start, actual_finish, percent_complete, remaining, "
                             "actual_cost)")
                continue
            date = self.moment(where, "date", entry["date"])
            acts = self.read_status_csv(where, entry["csv"])
            if date is not None and acts is not None:
                periods.append(StatusPeriod(date, acts, pname))
        if "date" not in table and not entries and len(self.problems) == before:
            self.problem("status", 'needs date = "2027-04-30" (the status date; the progress '
                         "as task keys) or [[status.periods]] tables with date and csv")
        if len(self.problems) > before or not periods or self.problems:
            return
        try:
            resolve_periods(project, periods, strict=True)
        except ModelError as exc:
            self.problem(None, str(exc))
            return
        project.meta["status"] = periods

    def read_status_csv(self, where, name):
        """A status CSV file (relative to the scenario): task id -> TaskStatus, or None."""
        if not isinstance(name, str) or not name.strip():
            self.problem(where, f"csv must be a file name, got {name!r}")
            return None
        path = self.path.parent / name
        label = os.path.join(os.path.dirname(self.label), name)
        if _not_regular(path):
            self.problem(where, f"csv: {label} is not a regular file (a device, pipe or "
                         "socket); give the path of a CSV file")
            return None
        try:
            check_size(path, "status CSV")
            with open(path, newline="", encoding="utf-8-sig") as fh:
                text = fh.read()
        except FileNotFoundError:
            self.problem(where, f"csv: {name!r} not found (looked for {label})")
            return None
        except PmosimError as exc:
            self.problem(where, f"csv: {exc}")
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(where, f"csv: cannot read {label}: {exc}")
            return None
        delimiter = _csv_delimiter(text)
        self.csv_decimal_comma = delimiter != ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            rows = list(reader)
        except csv.Error as exc:
            self.problem(f"line {reader.line_num}", f"cannot be read as CSV: {exc}", label)
            return None
        if not rows:
            self.problem(None, "is empty; the first line must name the columns (id, "
                         "percent_complete, ...)", label)
            return None
        header = [h.strip().lower() for h in rows[0]]
        bad = False
        for h in header:
            if h not in STATUS_CSV_COLUMNS:
                self.problem("line 1", f"unknown column {h!r}{_closest(h, STATUS_CSV_COLUMNS)} "
                             f"(allowed: {', '.join(STATUS_CSV_COLUMNS)})", label)
                bad = True
        if "id" not in header:
            self.problem("line 1", "missing column 'id'", label)
            return None
        if bad:
            return None
        acts, lines = {}, {}
        for lineno, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            here = f"line {lineno}"
            if len(row) > len(header):
                self.problem(here, f"has {len(row)} cells but the header names {len(header)} "
                             "columns", label)
                continue
            cells = {h: c.strip() for h, c in zip(header, row) if c.strip()}
            task_id = cells.pop("id", None)
            if not task_id:
                self.problem(here, "empty id; every row needs a task id", label)
                continue
            here = f'{here} ("{task_id}")'
            if task_id in lines:
                self.problem(here, f"task {task_id!r} is already on line {lines[task_id]}; "
                             "give each task one row", label)
                continue
            lines[task_id] = lineno
            values = {k: v for k, v in cells.items() if k not in ("name", "notes")}
            status = self.task_status_entry(here, values, label, csv=True)
            if status is not None:
                acts[task_id] = status
        return acts


def _strip_subject(message: str, subject: str) -> str:
    """Drop the model's ``risk 'R1': `` prefix: the scenario message names it already."""
    return message.removeprefix(subject + ": ").removeprefix(subject + " ")

def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    lineno = getattr(exc, "lineno", None)
    colno = getattr(exc, "colno", None)
    msg = getattr(exc, "msg", None) or str(exc)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
    if m:
        lineno, colno = lineno or int(m.group(1)), colno or int(m.group(2))
        msg = msg[:m.start()]
    elif re.search(r"\s*\(at end of document\)\s*$", msg):
        msg = re.sub(r"\s*\(at end of document\)\s*$", "", msg)
        return f"invalid TOML at the end of the file: {msg}"
    if lineno:
        return f"line {lineno}, column {colno}: invalid TOML: {msg}"
    return f"invalid TOML: {msg}"


def _actual_cost(reader, here, value, extra, has_fixed, label=None) -> None:
    """Record a task's ``actual_cost`` in ``extra``: the part of its ``cost_fixed`` already
    spent (progress), which cost uncertainty leaves unchanged; a problem otherwise."""
    where = f"{here}: actual_cost"
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) < 0:
        reader.problem(where, f"must be a number >= 0 (the cost already spent), got {value!r}",
                       label)
        return
    if not has_fixed:
        reader.problem(where, "is the part of cost_fixed already spent; give cost_fixed too "
                       "(at least the actual cost)", label)
        return
    fixed = extra.get("cost_fixed")
    if isinstance(fixed, Fixed) and float(value) > fixed.value:
        reader.problem(where, f"{float(value):g} is more than cost_fixed {fixed.value:g}, which "
                       "includes it; cost_fixed is the actual plus the remaining fixed cost",
                       label)
        return
    extra["actual_cost"] = float(value)


_TYPO_TAIL = re.compile(r"(?P<sep>\s*)(?P<type>[A-Za-z]{2})\s*(?:[+-].*)?")


def _link_type_typo(text: str, known) -> str | None:
    """The two letters of a mistyped link type in predecessor ``text`` (``"a XS"`` ->
    ``"XS"``), or None: a known task id, then (after a space, or after a number as in
    MS Project's ``3XS``) two letters one letter away from FS, SS, FF or SF, then an
    optional lag. Two other letters ("design qa") stay part of an unknown id."""
    text = str(text).strip()
    for end in range(len(text) - 1, 0, -1):
        head = text[:end].strip()
        if head not in known:
            continue
        m = _TYPO_TAIL.fullmatch(text[end:])
        if not m or not (m.group("sep") or head[-1:].isdigit()):
            continue
        kind = m.group("type")
        if kind.upper() in LINK_TYPES:
            continue
        if any(sum(a != b for a, b in zip(kind.upper(), t)) == 1 for t in LINK_TYPES):
            return kind
    return None


#: Column separators of a task CSV, tried on its header line.
_CSV_DELIMITERS = (",", ";", "\t")


def _csv_delimiter(text: str) -> str:
    """The column separator of a task CSV: the one of ``,`` ``;`` and tab that splits its
    header line into the most known column names (Excel saves "CSV" with ``;`` where the
    decimal separator is a comma); ``,`` when none does."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")

    def score(delimiter):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        known = sum(c.strip().lower() in CSV_COLUMNS for c in cells)
        return known, len(cells)

    best = max(_CSV_DELIMITERS, key=score)
    return best if score(best) > (0, 1) else ","


_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)(e[+-]?\d+)?", re.IGNORECASE)


def _csv_float(text: str, decimal_comma: bool) -> float:
    """A number from a task CSV cell.

    In a ``;``- or tab-separated file (decimal_comma) ``12,5`` is 12.5, as Excel writes
    it where the decimal separator is a comma; a number with both ``.`` and ``,``
    (thousands separators) is refused rather than guessed. In a ``,``-separated file a
    comma inside a number (a quoted ``"12,5"``) is refused with the fix.
    """
    text = text.strip()
    if "," in text:
        if decimal_comma and _DECIMAL_COMMA.fullmatch(text):
            return float(text.replace(",", "."))
        if decimal_comma:
            raise ValueError("; write numbers without thousands separators, with a "
                             "decimal comma or point (12500,5 or 12500.5)")
        if re.fullmatch(r"[+-]?[\d.,]+", text):
            raise ValueError("; in a comma-separated file numbers take a decimal point "
                             f"({text.replace(',', '.')}), or save the file with ';' "
                             "between columns to keep decimal commas")
    try:
        return float(text)
    except ValueError:
        raise ValueError("") from None


__all__ = ["load_scenario", "scenario_problems", "parse_predecessor", "parse_lag", "DISTRIBUTIONS"]

"""Schedule health check: the DCMA 14-point assessment of a project.

:func:`check_schedule` measures a schedule against the 14 checks of the DCMA
14-Point Assessment (Defense Contract Management Agency, *Earned Value Management
System Program Analysis Pamphlet* DCMA-EA PAM 200.1, 2012, and the assessment as
scheduling tools implement it), with the standard thresholds:

==  ===================  ==========================================================  ===========
id  check                measure                                                     pass
==  ===================  ==========================================================  ===========
 1  Logic                incomplete tasks without a predecessor or a successor       <= 5 %
 2  Leads                relationships with a negative lag                           0 %
 3  Lags                 relationships with a positive lag                           <= 5 %
 4  Relationship types   finish-to-start relationships                               >= 90 %
 5  Hard constraints     incomplete tasks with MSO, MFO, SNLT, FNLT (P6: mandatory   <= 5 %
                         start/finish, start/finish on or before, start/finish on)
 6  High float           incomplete tasks with total float > 44 working days         <= 5 %
 7  Negative float       incomplete tasks with total float < 0                       0 %
 8  High duration        incomplete tasks with a duration > 44 working days          <= 5 %
 9  Invalid dates        forecast dates before the data date, actual dates after it  0 tasks
10  Resources            incomplete tasks of duration > 0 without resources or cost  0 tasks
11  Missed tasks         tasks due by the data date (baseline finish) not finished   <= 5 %
                         by their baseline finish
12  Critical path test   a large delay on a critical task moves the finish as much   pass
13  CPLI                 (critical path length + its total float) / its length       >= 0.95
14  BEI                  tasks finished / tasks baselined to finish by the data date >= 0.95
==  ===================  ==========================================================  ===========

Percentages are of the incomplete tasks (checks 1, 5-8), of the relationships
whose successor is incomplete (2-4), or of the tasks due by the data date (11).
Sources: the DCMA 14-Point Assessment as summarised by Deltek Acumen's metric
descriptions (help.deltek.com, "DCMA 14 Point Assessment Metric Descriptions": the
formulas of checks 1-4), Ron Winter, *DCMA 14-Point Schedule Assessment* (2011),
Intaver's DCMA checks (invalid forecast and actual dates against the status date),
Oracle Primavera P6's Schedule Check (which activities each check leaves out) and
Tensix's note on CPLI = (CPL + TF) / CPL; docs/health-check.md gives the table with
the details.

What is assessed
----------------
Tasks of ``kind`` ``"connector"`` (zero-duration tasks that importers add for links
on summaries and second links between two tasks), ``"loe"`` (level of effort) and
``"wbs summary"`` / ``"summary"`` are left out, as DCMA practice leaves out summaries
and LOE; relationships to or from LOE and summary activities too. Milestones are
tasks. A task is complete when its ``status`` is ``"complete"`` (the importers' word)
or, without a status, when it has an ``actual_finish`` or a ``fixed_finish``.

Relationships are the schedule's own links: a second link between two tasks that an
importer routes through a connector counts once, with its type and lag, and the
connectors' links to the tasks under a summary are not relationships. A link on a
summary task is a relationship of the summary (shown as ``"start of <summary>"``),
not of the tasks under it: in DCMA practice logic belongs on tasks.

Float and the critical path come from :func:`pmosim.cpm` (unlevelled), in working
days of each task's own calendar for an imported schedule.

Data that a check needs and the schedule lacks makes the check *not applicable*
(``passed is None``) with the reason, never a silent pass: checks 9, 11 and 14 need a
data date (``meta["status_date"]`` or ``meta["data_date"]``; for MS Project files the
status date, since ``data_date`` is the project start there); checks 11 and 14
baseline finish dates (node attributes ``baseline_start``/``baseline_finish``, dates
or working days from time 0; a DSLIB workbook's baseline dates); check 13 a baseline
finish or a finish constraint to measure the critical path's float against; check 10
a schedule with some resources or costs.

Examples
--------
>>> import pmosim
>>> from pmosim.health import check_schedule
>>> p = pmosim.Project("demo")
>>> p.add_task("a", 10); p.add_task("b", 60); p.add_task("c", 5)
>>> p.add_link("a", "b"); p.add_link("b", "c", type="SS", lag=2)
>>> report = check_schedule(p)
>>> m = report.metric("high_duration")
>>> m.count, m.total, m.tasks, m.passed
(1, 3, ('b',), False)
>>> report.metric("lags").passed
False
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Hashable

import numpy as np

from .model import as_project, link_lag, link_type, planned_duration

__all__ = ["check_schedule", "HealthReport", "Metric", "Relationship", "relationships",
           "STANDARD", "HIGH_DAYS", "PERCENT_LIMIT", "FS_MIN_PERCENT", "INDEX_MIN",
           "CPT_DELAY_DAYS", "HARD_CONSTRAINTS", "EXCLUDED_KINDS"]

#: The name of the assessment, as reports show it.
STANDARD = "DCMA 14-point"
#: Working days above which float (check 6) and durations (check 8) are "high": two
#: months of 22 working days.
HIGH_DAYS = 44.0
#: The share most checks allow, in percent.
PERCENT_LIMIT = 5.0
#: The least share of finish-to-start relationships, in percent (check 4).
FS_MIN_PERCENT = 90.0
#: The least CPLI and BEI (checks 13 and 14).
INDEX_MIN = 0.95
#: The delay the critical path test adds to a critical task, in its working days: a
#: gross extension, larger than any float a well-built path would absorb.
CPT_DELAY_DAYS = 600.0
#: Constraints that hold a task against its logic (check 5): must start/finish on,
#: start/finish no later than, and P6's start on / finish on (which bound both the
#: early and the late date). SNET, FNET and ALAP are soft.
HARD_CONSTRAINTS = frozenset({"MSO", "MFO", "SNLT", "FNLT", "SO", "FO"})
#: Constraints that set a date the finish is measured against (check 13).
_DEADLINES = frozenset({"MFO", "FNLT", "FO"})
_START_CONSTRAINTS = frozenset({"MSO", "SNLT", "SO"})
#: Task kinds left out of the assessment (DCMA leaves out summaries and level of effort).
EXCLUDED_KINDS = frozenset({"connector", "loe", "wbs summary", "summary"})
#: Absolute tolerance on times and float, in working days.
_TOL = 1e-6
#: Tolerance of the critical path test, in working days: with several calendars a
#: delay may reach the finish a fraction of a day shorter (a finish at the end of one
#: working day against one at the start of the next).
_CPT_TOL = 1.0
_LINK_TYPES = ("FS", "SS", "FF", "SF")


@dataclass(frozen=True)
class Relationship:
    """One logical relationship of the schedule: ``pred -> succ`` of ``type`` with a
    planned ``lag`` in working days. An end may be a summary's connector task."""

    pred: Hashable
    succ: Hashable
    type: str
    lag: float

    def to_dict(self) -> dict:
        return {"pred": _json_id(self.pred), "succ": _json_id(self.succ), "type": self.type,
                "lag": float(self.lag)}


@dataclass(frozen=True)
class Metric:
    """The result of one check.

    Attributes
    ----------
    id : int
        1 .. 14, the DCMA numbering.
    key : str
        A stable name (``"logic"``, ``"high_float"``, ``"cpli"`` ...).
    name : str
        The check's name for people.
    value : float or None
        The measure, in ``unit``; None when the check is not applicable.
    unit : str
        ``"%"``, ``"tasks"`` (a count), ``"ratio"`` or ``"days"`` (working days).
    threshold : float
        The limit ``value`` is compared with.
    comparison : str
        ``"<="`` or ``">="``: how ``value`` must compare with ``threshold`` to pass.
    passed : bool or None
        None when the check is not applicable (``explanation`` says why).
    count, total : int or None
        Numerator and denominator of ``value`` (``count`` offending of ``total``; for
        relationship types the finish-to-start ones).
    tasks : tuple
        Every offending task id (for relationship checks, the successors).
    links : tuple of Relationship
        Every offending relationship (checks 2-4), else empty.
    explanation : str
        What was measured, or why the check does not apply.
    """

    id: int
    key: str
    name: str
    value: float | None
    unit: str
    threshold: float
    comparison: str
    passed: bool | None
    count: int | None = None
    total: int | None = None
    tasks: tuple = ()
    links: tuple = ()
    explanation: str = ""

    @property
    def applicable(self) -> bool:
        return self.passed is not None

    def value_text(self) -> str:
        """The value for people: ``"12.3 %"``, ``"0.87"``, ``"3 tasks"``, ``"n/a"``."""
        return "n/a" if self.value is None else _fmt(self.value, self.unit)

    def threshold_text(self) -> str:
        """``"<= 5 %"``, ``">= 0.95"``, ``"0 tasks"``."""
        if self.key == "critical_path_test":
            return "finish moves"
        limit = (f"{self.threshold:g} %" if self.unit == "%" else
                 _fmt(self.threshold, self.unit))
        if self.comparison == "<=" and self.threshold == 0:
            return limit
        return f"{self.comparison} {limit}"

    def to_dict(self) -> dict:
        return {
            "id": self.id, "key": self.key, "name": self.name,
            "value": None if self.value is None else float(self.value), "unit": self.unit,
            "threshold": float(self.threshold), "comparison": self.comparison,
            "passed": self.passed, "applicable": self.applicable,
            "count": self.count, "total": self.total,
            "tasks": [_json_id(t) for t in self.tasks],
            "links": [r.to_dict() for r in self.links],
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class HealthReport:
    """The DCMA 14-point assessment of one schedule (:func:`check_schedule`).

    Attributes
    ----------
    metrics : tuple of Metric
        The 14 checks in DCMA order.
    project : str
        The project's name.
    source : str or None
        The file it was read from (``meta["source"]``).
    data_date : str or None
        The data (status) date the date checks used, ISO text; None without one.
    n_tasks, n_incomplete, n_complete, n_excluded, n_relationships : int
        Tasks assessed, of which incomplete and complete; tasks left out (connectors,
        summaries, level of effort); relationships assessed.
    names : dict
        Task id -> name of every task a metric names.
    """

    metrics: tuple
    project: str = ""
    source: str | None = None
    data_date: str | None = None
    n_tasks: int = 0
    n_incomplete: int = 0
    n_complete: int = 0
    n_excluded: int = 0
    n_relationships: int = 0
    names: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"HealthReport({self.project!r}: {len(self.passing)} of "
                f"{len(self.applicable)} applicable checks pass)")

    def metric(self, key) -> Metric:
        """The metric of ``key`` (``"logic"``, ...) or DCMA number (1 .. 14)."""
        for m in self.metrics:
            if m.key == key or m.id == key:
                return m
        keys = ", ".join(m.key for m in self.metrics)
        raise KeyError(f"no health metric {key!r}; use one of {keys} or 1..14")

    @property
    def applicable(self) -> list:
        return [m for m in self.metrics if m.applicable]

    @property
    def passing(self) -> list:
        return [m for m in self.metrics if m.passed is True]

    @property
    def failing(self) -> list:
        return [m for m in self.metrics if m.passed is False]

    @property
    def passed(self) -> bool:
        """Whether every applicable check passes (not-applicable ones neither pass nor fail)."""
        return not self.failing

    def summary(self, source=None) -> str:
        """One line: how many applicable checks pass and the failing ones with their values.

        ``source`` (the file) names the command that shows the details.
        """
        n_app, n_pass = len(self.applicable), len(self.passing)
        head = f"Schedule check ({STANDARD}): "
        if not self.failing:
            head += ("no check applies" if not n_app else
                     "the 1 applicable check passes" if n_app == 1 else
                     f"all {n_app} applicable checks pass")
        else:
            fails = ", ".join(f"{_SHORT[m.key]} {m.value_text()}" for m in self.failing)
            verb = "passes" if n_pass == 1 else "pass"
            head += f"{n_pass} of {n_app} applicable checks {verb}; failing: {fails}"
        if source is not None:
            head += f" (pmosim check {_quote(source)} for details)"
        return head

    def to_dict(self) -> dict:
        """The report as JSON-ready data (docs/health-check.md)."""
        from ._version import __version__
        return {
            "pmosim_version": __version__, "standard": STANDARD, "project": self.project,
            "source": self.source, "data_date": self.data_date, "passed": self.passed,
            "applicable": len(self.applicable), "passing": len(self.passing),
            "failing": [m.key for m in self.failing],
            "counts": {"tasks": self.n_tasks, "incomplete": self.n_incomplete,
                       "complete": self.n_complete, "excluded": self.n_excluded,
                       "relationships": self.n_relationships},
            "metrics": [m.to_dict() for m in self.metrics],
            "task_names": {_json_id(t): n for t, n in self.names.items()},
        }


#: The metric names a one-line summary uses.
_SHORT = {"logic": "logic", "leads": "leads", "lags": "lags",
          "relationship_types": "FS relationships", "hard_constraints": "hard constraints",
          "high_float": "high float", "negative_float": "negative float",
          "high_duration": "high duration", "invalid_dates": "invalid dates",
          "resources": "resources", "missed_tasks": "missed tasks",
          "critical_path_test": "critical path test", "cpli": "CPLI", "bei": "BEI"}


def check_schedule(model) -> HealthReport:
    """Run the DCMA 14-point assessment on a project (see the module docstring).

    Parameters
    ----------
    model : pmosim.Project or networkx.DiGraph
        Any project pmosim reads (scenario TOML, MSPDI, XER, PSPLIB, DSLIB) or builds.

    Returns
    -------
    HealthReport
        The 14 metrics; ``report.passed`` is False when an applicable check fails.

    Raises
    ------
    ModelError
        The project cannot be scheduled (as :func:`pmosim.cpm` raises).

    Notes
    -----
    Costs two CPM passes: the schedule itself and, for the critical path test, the
    schedule with one critical task delayed by :data:`CPT_DELAY_DAYS`.
    """
    from .engine import cpm

    project = as_project(model)
    graph = project.graph
    res = cpm(project, levelling=False)
    pos = {t: i for i, t in enumerate(res.task_ids)}
    nodes = graph.nodes
    assessed = [t for t in res.task_ids if nodes[t].get("kind") not in EXCLUDED_KINDS]
    n_excluded = len(res.task_ids) - len(assessed)
    complete = {t for t in assessed if _is_complete(nodes[t])}
    incomplete = [t for t in assessed if t not in complete]
    rels = relationships(project)
    left_out = {t for t in res.task_ids if nodes[t].get("kind") in EXCLUDED_KINDS - {"connector"}}
    rels = [r for r in rels if r.pred not in left_out and r.succ not in left_out]
    clock = _Clock(project)
    clock.preload([clock.data_date] + [x for t in assessed for x in _baseline(project, nodes[t])])
    ctx = _Context(project, res, pos, assessed, complete, incomplete, rels, clock)

    metrics = (
        _logic(ctx), _leads(ctx), _lags(ctx), _relationship_types(ctx),
        _hard_constraints(ctx), _high_float(ctx), _negative_float(ctx),
        _high_duration(ctx), _invalid_dates(ctx), _resources(ctx), _missed_tasks(ctx),
        _critical_path_test(ctx), _cpli(ctx), _bei(ctx),
    )
    named = set()
    for m in metrics:
        named.update(m.tasks)
        for r in m.links:
            named.update((r.pred, r.succ))
    dd = clock.data_date
    return HealthReport(
        metrics=metrics, project=str(project.name),
        source=None if project.meta.get("source") is None else str(project.meta["source"]),
        data_date=_iso(dd) if dd is not None else None,
        n_tasks=len(assessed), n_incomplete=len(incomplete), n_complete=len(complete),
        n_excluded=n_excluded, n_relationships=len(ctx.open_rels),
        names={t: project.task_name(t) for t in res.task_ids if t in named},
    )


# -- relationships ----------------------------------------------------------------------
def relationships(model) -> list:
    """The schedule's logical relationships (:class:`Relationship`), in edge order.

    An importer keeps a second link between two tasks through a zero-duration
    connector ``pred -> c -> succ`` (:func:`pmosim.io._common.add_connector`): it
    counts once, as ``pred -> succ`` with its own type and lag. A summary's connector
    tasks (``"S<id>:start"``, ``"S<id>:finish"``) stand for the summary in the links
    the file puts on it; their finish-to-start links to the tasks under the summary
    are structure, not relationships.
    """
    project = as_project(model)
    g = project.graph
    nodes = g.nodes
    out = []

    def is_connector(n):
        return nodes[n].get("kind") == "connector"

    through = {}          # second-link connector -> (its successor, its out-link's type)
    for c in g.nodes:
        if is_connector(c) and g.in_degree(c) == 1 and g.out_degree(c) == 1:
            (p,), (s,) = g.predecessors(c), g.successors(c)
            if _is_second_link(c, p, s):
                through[c] = (s, link_type(c, s, g.edges[c, s]))
    for u, v, e in g.edges(data=True):
        if u in through:
            continue      # the connector's link on: counted with the link into it
        kind = e.get("type", "FS")
        if kind not in _LINK_TYPES:
            kind = link_type(u, v, e)
        lag = e.get("lag", 0.0)
        lag = float(lag) if isinstance(lag, (int, float)) else _planned(link_lag(u, v, e))
        if v in through:
            succ, second = through[v]
            out.append(Relationship(u, succ, _JOINED[kind, second], lag))
            continue
        if _structural(u, v, kind, lag, is_connector):
            continue
        out.append(Relationship(u, v, kind, lag))
    return out


#: (type into a second-link connector, type out of it) -> the link's own type.
_JOINED = {("FS", "FS"): "FS", ("FS", "FF"): "FF", ("SS", "FS"): "SS", ("SS", "FF"): "SF"}


def _is_second_link(c, pred, succ) -> bool:
    """Whether connector ``c`` is one that ``add_connector`` made for ``pred -> succ``
    (its id is ``"{pred}->{succ}:{type}"``, maybe with ``#k``)."""
    if not isinstance(c, str):
        return False
    head = f"{pred}->{succ}:"
    if not c.startswith(head):
        return False
    kind = c[len(head):].split("#", 1)[0]
    return kind in _LINK_TYPES


def _structural(u, v, kind, lag, is_connector) -> bool:
    """A summary connector's link to a task under it: its start precedes them, FS 0; they
    precede its finish, FS 0. The file's own links on a summary leave its start as SS or
    SF and reach its finish as FF or SF, so an FS link never is one of them."""
    if kind != "FS" or abs(lag) > _TOL:
        return False
    return ((is_connector(u) and str(u).endswith(":start"))
            or (is_connector(v) and str(v).endswith(":finish")))


def _planned(dist) -> float:
    value = dist.mode if getattr(dist, "mode", None) is not None else dist.mean
    return float(value)


# -- dates ------------------------------------------------------------------------------
class _Clock:
    """The data date and task dates as working days from time 0 (the model's axis).

    Dates convert on the imported schedule's axis calendar
    (:func:`pmosim.io._common.axis_days`), or on ``project.calendar`` from
    ``project.start``; numbers are working days already.
    """

    def __init__(self, project):
        from .compile import has_calendars
        self.project = project
        self.imported = has_calendars(project)
        self.data_date, self.data_date_problem = _data_date(project)
        self._cache: dict = {}

    def dates_problem(self, values) -> str | None:
        """Why dates among ``values`` cannot be placed on the axis, or None."""
        if self.imported or self.project.start is not None:
            return None
        if any(isinstance(v, _dt.date) for v in values if v is not None):
            return ("its dates cannot be compared on the working-day axis without a project "
                    "start date (Project(start=...))")
        return None

    def times(self, values, at: str) -> np.ndarray:
        """Working days from time 0 of ``values`` (dates, datetimes, numbers or None ->
        NaN). A date (no time) counts from its start (``at="start"``) or end."""
        out = np.full(len(values), np.nan)
        dates, where = [], []
        for k, v in enumerate(values):
            if v is None:
                continue
            if isinstance(v, _dt.date):
                dates.append(v)
                where.append(k)
            else:
                out[k] = float(v)
        if dates:
            out[where] = self._convert(dates, at)
        return out

    def time(self, value, at: str) -> float:
        return float(self.times([value], at)[0])

    def relative(self, values, at) -> np.ndarray:
        """``values`` minus the data date, in days (NaN for None); ``at`` is ``"start"``
        or ``"end"`` (where a date without a time counts from), or a list of them, one
        per value. Dates are compared with a date data date on the wall clock, in elapsed
        days, as the tools do (a forecast finish on Friday evening is before a Monday
        data date); otherwise on the working-day axis."""
        ats = [at] * len(values) if isinstance(at, str) else list(at)
        dd = self.data_date
        if isinstance(dd, _dt.date) and all(isinstance(v, _dt.date) for v in values
                                            if v is not None):
            origin = self._moment(dd, "start")
            return np.array([np.nan if v is None else
                             (self._moment(v, a) - origin) / _dt.timedelta(days=1)
                             for v, a in zip(values, ats)], dtype=float)
        out = np.full(len(values), np.nan)
        for side in ("start", "end"):
            idx = [k for k, a in enumerate(ats) if a == side]
            if idx:
                out[idx] = self.times([values[k] for k in idx], side)
        return out - self.time(dd, "start")

    def preload(self, values) -> None:
        """Convert every date among ``values`` at once (one calendar table for all)."""
        if not self.imported:
            return
        todo = {m for v in values if isinstance(v, _dt.date)
                for m in (self._moment(v, "start"), self._moment(v, "end"))
                if m not in self._cache}
        if todo:
            from .io._common import axis_days
            todo = sorted(todo)
            self._cache.update(zip(todo, axis_days(self.project, todo)))

    @staticmethod
    def _moment(d, at) -> _dt.datetime:
        if isinstance(d, _dt.datetime):
            return d
        return _dt.datetime.combine(d, _dt.time()) + _dt.timedelta(days=1 if at == "end" else 0)

    def _convert(self, dates, at) -> np.ndarray:
        if self.imported:
            moments = [self._moment(d, at) for d in dates]
            self.preload([m for m in moments if m not in self._cache])
            return np.array([self._cache[m] for m in moments], dtype=float)
        from .calendar import WorkCalendar
        calendar = self.project.calendar or WorkCalendar()
        days = [d.date() if isinstance(d, _dt.datetime) else d for d in dates]
        return np.atleast_1d(calendar.working_time(self.project.start, days, at=at))


def _data_date(project):
    """(data date or None, why there is none). The status date wins; MS Project's
    ``data_date`` is the project start, a data date only while nothing has started."""
    meta = project.meta
    if meta.get("status_date") is not None:
        return meta["status_date"], None
    actuals = any(d.get("actual_start") is not None or d.get("actual_finish") is not None
                  or d.get("fixed_finish") is not None
                  for _, d in project.graph.nodes(data=True))
    if meta.get("format") == "mspdi":
        if actuals:
            return None, ("the MS Project file records progress (actual dates) but no status "
                          "date; set Project > Status Date in MS Project and save the XML again")
        return meta.get("data_date"), None
    if meta.get("data_date") is not None:
        return meta["data_date"], None
    if actuals:
        # the model's convention: actual dates are times before time 0, the status date
        return 0.0, None
    return None, ("the schedule has no data date (status date) and records no progress; "
                  "set project.meta['data_date'] (or a status date in the scheduling tool)")


def _is_complete(data) -> bool:
    status = data.get("status")
    if status is not None:
        return status == "complete"
    return data.get("actual_finish") is not None or data.get("fixed_finish") is not None


def _baseline(project, data):
    """(baseline start, baseline finish) of a task; a DSLIB workbook's tool dates are its
    baseline schedule's."""
    bs, bf = data.get("baseline_start"), data.get("baseline_finish")
    if bs is None and bf is None and project.meta.get("format") == "dslib":
        bs, bf = data.get("tool_start"), data.get("tool_finish")
    return bs, bf


# -- the checks -------------------------------------------------------------------------
@dataclass
class _Context:
    project: Any
    res: Any
    pos: dict
    assessed: list
    complete: set
    incomplete: list
    rels: list
    clock: _Clock

    def __post_init__(self):
        # relationships count when their successor still has work to do
        g = self.project.graph
        self.attrs = dict(g.nodes(data=True))
        done = self.complete
        summary_done = {}
        for c, d in g.nodes(data=True):
            if d.get("kind") == "connector":
                attached = [t for t in (*g.predecessors(c), *g.successors(c))
                            if g.nodes[t].get("kind") != "connector"]
                summary_done[c] = bool(attached) and all(t in done for t in attached)
        self.open_rels = [r for r in self.rels
                          if not (r.succ in done or summary_done.get(r.succ, False))]

    def data(self, t):
        return self.attrs[t]


def _share(count, total) -> float:
    return 100.0 * count / total if total else 0.0


def _percent_metric(id_, key, name, offending, total, what, *,
                    limit=PERCENT_LIMIT) -> Metric:
    """A share of the incomplete tasks (or of ``total`` others: ``what`` starts with
    their name) that must stay at most ``limit`` percent."""
    n = len(offending)
    if total == 0:
        return Metric(id_, key, name, None, "%", limit, "<=", None, 0, 0,
                      explanation="not applicable: every task is complete")
    value = _share(n, total)
    return Metric(id_, key, name, value, "%", limit, "<=", value <= limit + 1e-12, n, total,
                  tuple(offending), (), f"{n:,} of {total:,} {what} ({value:.1f} %)")


def _logic(ctx: _Context) -> Metric:
    has_pred, has_succ = set(), set()
    for r in ctx.rels:
        has_succ.add(r.pred)
        has_pred.add(r.succ)
    bad = [t for t in ctx.incomplete if t not in has_pred or t not in has_succ]
    m = _percent_metric(1, "logic", "Logic", bad, len(ctx.incomplete),
                        "incomplete tasks miss a predecessor or a successor")
    if m.applicable:
        n_pred = sum(t not in has_pred for t in bad)
        n_succ = sum(t not in has_succ for t in bad)
        m = _replace(m, explanation=f"{m.explanation}: {n_pred:,} without a predecessor, "
                                    f"{n_succ:,} without a successor")
    return m


def _link_metric(ctx, id_, key, name, pick, what, *, limit=PERCENT_LIMIT) -> Metric:
    links = [r for r in ctx.open_rels if pick(r)]
    tasks = tuple(dict.fromkeys(r.succ for r in links))
    total = len(ctx.open_rels)
    if total == 0:
        return Metric(id_, key, name, None, "%", limit, "<=", None, 0, 0,
                      explanation="not applicable: no relationship leads to an incomplete "
                                  "task")
    value = _share(len(links), total)
    return Metric(id_, key, name, value, "%", limit, "<=", value <= limit + 1e-12, len(links),
                  total, tasks, tuple(links),
                  f"{len(links):,} of {total:,} relationships to incomplete tasks {what} "
                  f"({value:.1f} %)")


def _leads(ctx) -> Metric:
    return _link_metric(ctx, 2, "leads", "Leads", lambda r: r.lag < -_TOL,
                        "have a lead (negative lag)", limit=0.0)


def _lags(ctx) -> Metric:
    return _link_metric(ctx, 3, "lags", "Lags", lambda r: r.lag > _TOL, "have a lag")


def _relationship_types(ctx) -> Metric:
    m = _link_metric(ctx, 4, "relationship_types", "Relationship types",
                     lambda r: r.type != "FS", "are not finish-to-start")
    if not m.applicable:
        return _replace(m, threshold=FS_MIN_PERCENT, comparison=">=")
    fs = 100.0 - m.value
    kinds = {k: sum(r.type == k for r in ctx.open_rels) for k in _LINK_TYPES}
    mix = ", ".join(f"{k} {n:,}" for k, n in kinds.items() if n)
    return _replace(m, value=fs, threshold=FS_MIN_PERCENT, comparison=">=",
                    passed=fs >= FS_MIN_PERCENT - 1e-12, count=m.total - m.count,
                    explanation=f"{m.total - m.count:,} of {m.total:,} relationships to "
                                f"incomplete tasks are finish-to-start ({fs:.1f} %; {mix})")


def _hard_constraints(ctx) -> Metric:
    bad, kinds = [], {}
    for t in ctx.incomplete:
        kind = _constraint_kind(ctx.data(t).get("constraint"))
        if kind not in HARD_CONSTRAINTS:
            continue
        # a start constraint no longer holds a task that has started
        if kind in _START_CONSTRAINTS and ctx.data(t).get("actual_start") is not None:
            continue
        bad.append(t)
        kinds[kind] = kinds.get(kind, 0) + 1
    m = _percent_metric(5, "hard_constraints", "Hard constraints", bad, len(ctx.incomplete),
                        "incomplete tasks have a hard constraint")
    if kinds:
        m = _replace(m, explanation=m.explanation + ": " + ", ".join(
            f"{k} {n:,}" for k, n in sorted(kinds.items())))
    return m


def _constraint_kind(c):
    if c is None:
        return None
    if isinstance(c, str):
        return c.upper()
    try:
        return str(c[0]).upper() if c[0] is not None else None
    except (TypeError, IndexError):
        return None


def _floats(ctx):
    return [(t, float(ctx.res.total_float[ctx.pos[t]])) for t in ctx.incomplete]


def _high_float(ctx) -> Metric:
    bad = [t for t, f in _floats(ctx) if f > HIGH_DAYS + _TOL]
    return _percent_metric(6, "high_float", "High float", bad, len(ctx.incomplete),
                           f"incomplete tasks have total float above {HIGH_DAYS:g} working "
                           "days")


def _negative_float(ctx) -> Metric:
    bad = [t for t, f in _floats(ctx) if f < -_TOL]
    m = _percent_metric(7, "negative_float", "Negative float", bad, len(ctx.incomplete),
                        "incomplete tasks have negative total float", limit=0.0)
    if m.applicable and bad:
        worst = min(f for _, f in _floats(ctx))
        m = _replace(m, explanation=f"{m.explanation}; the most negative is {worst:,.1f} "
                                    "working days")
    return m


def _original_duration(t, data) -> float:
    for key in ("baseline_duration", "original_duration"):
        value = data.get(key)
        if value is not None:
            return float(value)
    return planned_duration(t, data)


def _high_duration(ctx) -> Metric:
    bad = [t for t in ctx.incomplete
           if _original_duration(t, ctx.data(t)) > HIGH_DAYS + _TOL]
    return _percent_metric(8, "high_duration", "High duration", bad, len(ctx.incomplete),
                           f"incomplete tasks last more than {HIGH_DAYS:g} working days "
                           "(baseline or original duration)")


def _invalid_dates(ctx) -> Metric:
    name, key = "Invalid dates", "invalid_dates"
    clock = ctx.clock
    if clock.data_date is None:
        return Metric(9, key, name, None, "tasks", 0.0, "<=", None,
                      explanation=f"not applicable: {clock.data_date_problem}")
    n = len(ctx.assessed)
    values = ([_actual(ctx.data(t), "start") for t in ctx.assessed]
              + [_actual(ctx.data(t), "finish") for t in ctx.assessed]
              + [ctx.data(t).get("tool_start") for t in ctx.assessed]
              + [ctx.data(t).get("tool_finish") for t in ctx.assessed])
    if problem := clock.dates_problem([clock.data_date, *values]):
        return Metric(9, key, name, None, "tasks", 0.0, "<=", None,
                      explanation=f"not applicable: {problem}")
    rel = clock.relative(values, ["start"] * n + ["end"] * n + ["start"] * n + ["end"] * n)
    a_start, a_finish, f_start, f_finish = (rel[k * n:(k + 1) * n] for k in range(4))
    if np.all(np.isnan(rel)):
        return Metric(9, key, name, None, "tasks", 0.0, "<=", None,
                      explanation="not applicable: the schedule holds no actual or forecast "
                                  "dates of its own (pmosim's CPM never plans remaining work "
                                  "before the data date)")
    bad, n_forecast, n_actual = [], 0, 0
    for k, t in enumerate(ctx.assessed):
        done = t in ctx.complete
        started = done or not np.isnan(a_start[k])
        actual_late = a_start[k] > _TOL or a_finish[k] > _TOL
        forecast_early = ((not started and f_start[k] < -_TOL)
                          or (not done and f_finish[k] < -_TOL))
        n_actual += bool(actual_late)
        n_forecast += bool(forecast_early)
        if actual_late or forecast_early:
            bad.append(t)
    return Metric(9, key, name, float(len(bad)), "tasks", 0.0, "<=", not bad, len(bad), n,
                  tuple(bad), (),
                  f"{n_forecast:,} tasks with a forecast start or finish before the data date "
                  f"{_iso(clock.data_date)} and no actual date, {n_actual:,} with an actual "
                  "date after it")


def _actual(data, side: str):
    """A task's actual start or finish: the file's date, else the model's fixed time."""
    value = data.get(f"actual_{side}")
    return value if value is not None else data.get(f"fixed_{side}")


_COST_KEYS = ("cost", "cost_fixed", "cost_rate", "fixed_cost", "actual_cost", "remaining_cost")


def _has_resources(data) -> bool:
    for key in ("resources", "resources_not_levelled", "resources_capped"):
        if data.get(key):
            return True
    for key in _COST_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)):
            if value > 0:
                return True
        else:
            return True            # a cost distribution
    return False


def _resources(ctx) -> Metric:
    name, key = "Resources", "resources"
    if not any(_has_resources(ctx.data(t)) for t in ctx.assessed):
        return Metric(10, key, name, None, "tasks", 0.0, "<=", None,
                      explanation="not applicable: no task has resources or costs; the "
                                  "schedule is not resource-loaded")
    working = [t for t in ctx.incomplete if _original_duration(t, ctx.data(t)) > _TOL
               and ctx.res.duration[ctx.pos[t]] > _TOL]
    bad = [t for t in working if not _has_resources(ctx.data(t))]
    return Metric(10, key, name, float(len(bad)), "tasks", 0.0, "<=", not bad, len(bad),
                  len(working), tuple(bad), (),
                  f"{len(bad):,} of {len(working):,} incomplete tasks with work left have "
                  f"neither resources nor costs ({_share(len(bad), len(working)):.1f} %)")


def _due(ctx):
    """(tasks due by the data date, their baseline finishes and actual finishes relative
    to the data date; why there are none)."""
    clock = ctx.clock
    if clock.data_date is None:
        return None, None, None, clock.data_date_problem
    base = {t: _baseline(ctx.project, ctx.data(t))[1] for t in ctx.assessed}
    with_base = [t for t, bf in base.items() if bf is not None]
    if not with_base:
        hint = {"xer": " (the XER export holds no baseline project)",
                "pmxml": " (the P6 XML export holds no baseline project)",
                "mspdi": " (the MS Project file has no baseline saved)"}.get(
                    ctx.project.meta.get("format"), "")
        return None, None, None, ("no task has a baseline finish date (node attribute "
                                  f"baseline_finish){hint}")
    finishes = [_actual(ctx.data(t), "finish") for t in with_base]
    values = [base[t] for t in with_base] + finishes
    if problem := clock.dates_problem([clock.data_date, *values]):
        return None, None, None, problem
    rel = clock.relative(values, "end")
    bf, af = rel[:len(with_base)], rel[len(with_base):]
    due = [k for k, f in enumerate(bf) if f <= _TOL]
    if not due:
        return None, None, None, (f"no task was baselined to finish by the data date "
                                  f"{_iso(clock.data_date)}")
    tasks = [with_base[k] for k in due]
    # a task marked complete without a date of its own counts as finished on time
    af = np.array([-np.inf if math.isnan(af[k]) and with_base[k] in ctx.complete else af[k]
                   for k in due])
    return tasks, bf[due], af, None


def _missed_tasks(ctx) -> Metric:
    name, key = "Missed tasks", "missed_tasks"
    due, bf, af, why = _due(ctx)
    if due is None:
        return Metric(11, key, name, None, "%", PERCENT_LIMIT, "<=", None,
                      explanation=f"not applicable: {why}")
    bad = [t for t, a, b in zip(due, af, bf) if math.isnan(a) or a > b + _TOL]
    return _percent_metric(11, key, name, bad, len(due),
                           "tasks baselined to finish by the data date finished late or not "
                           "at all")


def _bei(ctx) -> Metric:
    name, key = "BEI", "bei"
    due, _, _, why = _due(ctx)
    if due is None:
        return Metric(14, key, name, None, "ratio", INDEX_MIN, ">=", None,
                      explanation=f"not applicable: {why}")
    done = len(ctx.complete)
    value = done / len(due)
    late = tuple(t for t in due if t not in ctx.complete)
    return Metric(14, key, name, value, "ratio", INDEX_MIN, ">=", value >= INDEX_MIN - 1e-12,
                  done, len(due), late, (),
                  f"{done:,} tasks finished against {len(due):,} baselined to finish by the "
                  f"data date {_iso(ctx.clock.data_date)} (the tasks named are due and not "
                  "finished)")


def _critical_candidates(ctx) -> list:
    res, pos = ctx.res, ctx.pos
    cands = [t for t in ctx.incomplete if res.critical[pos[t]]]
    cands.sort(key=lambda t: (float(res.duration[pos[t]]) <= _TOL,
                              float(res.total_float[pos[t]]),
                              float(res.early_start[pos[t]]), pos[t]))
    return cands


def _critical_path_test(ctx) -> Metric:
    from .engine import cpm

    name, key = "Critical path test", "critical_path_test"
    cands = _critical_candidates(ctx)
    if not cands:
        return Metric(12, key, name, None, "days", CPT_DELAY_DAYS, ">=", None,
                      explanation="not applicable: no incomplete task is critical")
    t = cands[0]
    res, i = ctx.res, ctx.pos[t]
    trial = copy.copy(ctx.project)
    trial.graph = ctx.project.graph.copy()
    data = trial.graph.nodes[t]
    data["planned"] = planned_duration(t, data) + CPT_DELAY_DAYS
    after = cpm(trial, levelling=False)
    task_shift = float(after.early_finish[i] - res.early_finish[i])
    finish_shift = float(after.finish - res.finish)
    passed = task_shift > _TOL and finish_shift >= task_shift - _CPT_TOL
    verdict = "as much" if passed else "less: the critical path is broken after this task"
    return Metric(12, key, name, finish_shift, "days", task_shift, ">=", passed, None, None,
                  () if passed else (t,), (),
                  f"delaying critical task {t!r} ({ctx.project.task_name(t)}) by "
                  f"{CPT_DELAY_DAYS:g} working days moves its finish by {task_shift:,.1f} and "
                  f"the project finish by {finish_shift:,.1f} working days ({verdict})")


def _cpli(ctx) -> Metric:
    name, key = "CPLI", "cpli"
    res, clock = ctx.res, ctx.clock
    dd = 0.0
    if clock.data_date is not None and not clock.dates_problem([clock.data_date]):
        dd = clock.time(clock.data_date, "start")
    cpl = float(res.finish) - dd
    if cpl <= _TOL:
        return Metric(13, key, name, None, "ratio", INDEX_MIN, ">=", None,
                      explanation="not applicable: no work remains after the data date")
    finishes = [_baseline(ctx.project, ctx.data(t))[1] for t in ctx.assessed]
    finishes = [f for f in finishes if f is not None]
    deadlines = [t for t in ctx.incomplete
                 if _constraint_kind(ctx.data(t).get("constraint")) in _DEADLINES]
    if finishes and (problem := clock.dates_problem(finishes)):
        return Metric(13, key, name, None, "ratio", INDEX_MIN, ">=", None,
                      explanation=f"not applicable: the baseline finish dates: {problem}")
    if finishes:
        times = clock.times(finishes, "end")
        target = float(np.max(times))
        tf = target - float(res.finish)
        basis = f"the baseline finish {_iso(finishes[int(np.argmax(times))])}"
    elif deadlines:
        tf = min(float(res.total_float[ctx.pos[t]]) for t in ctx.incomplete)
        basis = f"the finish constraints ({len(deadlines):,} tasks)"
    else:
        return Metric(13, key, name, None, "ratio", INDEX_MIN, ">=", None,
                      explanation="not applicable: no baseline finish or finish constraint "
                                  "to measure the critical path's float against (without one "
                                  "its float is 0 and CPLI is 1 by construction)")
    value = (cpl + tf) / cpl
    return Metric(13, key, name, value, "ratio", INDEX_MIN, ">=", value >= INDEX_MIN - 1e-12,
                  None, None, (), (),
                  f"critical path length {cpl:,.1f} working days from the data date, total "
                  f"float {tf:,.1f} against {basis}: ({cpl:,.1f} {'+' if tf >= 0 else '-'} "
                  f"{abs(tf):,.1f}) / {cpl:,.1f} = {value:.2f}")


# -- helpers ----------------------------------------------------------------------------
def _replace(metric: Metric, **changes) -> Metric:
    from dataclasses import replace
    return replace(metric, **changes)


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "tasks":
        n = int(round(value))
        return f"{n:,} task{'s' if n != 1 else ''}"
    return f"{value:,.1f} d"


def _iso(value) -> str:
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return f"time {float(value):g}"


def _json_id(task_id) -> str:
    return str(task_id)


def _quote(path) -> str:
    text = str(path)
    return f'"{text}"' if any(c in text for c in " '\"$") else text


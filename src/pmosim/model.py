"""The project model: a ``networkx.DiGraph`` of tasks plus project metadata.

A task network is a directed graph. Each node is a task (any hashable id) with
node attributes

``duration``
    a number or a :class:`~pmosim.distributions.Distribution` (required);
``name``
    a display name (optional, default: the id as text);
``planned``
    the deterministic duration used by CPM (optional; default: the distribution's
    mode where it has one, else its mean).

Each edge ``u -> v`` is a dependency with attributes ``type`` (``"FS"``, ``"SS"``,
``"FF"`` or ``"SF"``; default ``"FS"``) and ``lag`` (a number, may be negative;
default 0). Times are in working units (days unless the project says otherwise)
and the project starts at time 0:

- FS: start(v) >= finish(u) + lag
- SS: start(v) >= start(u) + lag
- FF: finish(v) >= finish(u) + lag
- SF: finish(v) >= start(u) + lag

:class:`Project` wraps such a graph together with metadata (name, start date,
calendar, time unit). Every public entry point of pmosim accepts a ``Project``
or a bare ``DiGraph``.

Examples
--------
>>> import pmosim
>>> p = pmosim.Project("demo")
>>> p.add_task("a", pmosim.Triangular(2, 3, 6))
>>> p.add_task("b", 4)
>>> p.add_link("a", "b", type="SS", lag=1)
>>> p.n_tasks
2
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Hashable

import networkx as nx

from .distributions import Distribution, as_distribution
from .errors import CycleError, ModelError

LINK_TYPES = ("FS", "SS", "FF", "SF")
#: Kernel codes of the link types, in the order of :data:`LINK_TYPES`.
LINK_CODES = {t: i for i, t in enumerate(LINK_TYPES)}


class Project:
    """A task network (``networkx.DiGraph``) with project metadata.

    Parameters
    ----------
    name : str, optional
        Project name used in reports.
    graph : networkx.DiGraph, optional
        The task network; a new empty graph when omitted. It is wrapped, not copied.
    start : datetime.date or str, optional
        The first working day; with it, results are also given as dates.
    calendar : pmosim.calendar.WorkCalendar, optional
        Working-day calendar for dates (default: Monday to Friday, no holidays).
    time_unit : str
        Unit of all durations and lags (default ``"days"``: working days).
    """

    def __init__(self, name: str | None = None, *, graph: nx.DiGraph | None = None,
                 start=None, calendar=None, time_unit: str = "days"):
        if graph is not None and not isinstance(graph, nx.DiGraph):
            raise ModelError(f"graph must be a networkx.DiGraph, got {type(graph).__name__}")
        if graph is not None and graph.is_multigraph():
            raise ModelError("graph must be a networkx.DiGraph, not a multigraph")
        self.graph = graph if graph is not None else nx.DiGraph()
        self.name = name if name is not None else self.graph.graph.get("name", "project")
        self.start = _as_date(start) if start is not None else None
        self.calendar = calendar
        self.time_unit = time_unit
        #: Free-form metadata (source file, import report, ...); never read by the engine.
        self.meta: dict = {}

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, **meta) -> "Project":
        """Wrap an existing task network; ``meta`` as in the constructor."""
        if not isinstance(graph, nx.DiGraph):
            raise ModelError(f"expected a networkx.DiGraph, got {type(graph).__name__}")
        return cls(graph=graph, **meta)

    # -- building ---------------------------------------------------------------
    def add_task(self, task_id: Hashable, duration, *, name: str | None = None,
                 planned: float | None = None, **attrs: Any) -> None:
        """Add a task; ``duration`` is a number or a distribution.

        Extra keyword attributes are stored on the node unchanged.
        """
        if task_id in self.graph:
            raise ModelError(f"task {task_id!r} already exists; task ids must be unique")
        data = dict(attrs, duration=duration)
        if name is not None:
            data["name"] = name
        if planned is not None:
            data["planned"] = planned
        self.graph.add_node(task_id, **data)

    def add_link(self, pred: Hashable, succ: Hashable, type: str = "FS", lag: float = 0.0) -> None:
        """Add a dependency ``pred -> succ`` of the given type and lag."""
        for t in (pred, succ):
            if t not in self.graph:
                raise ModelError(f"link {pred!r} -> {succ!r}: unknown task {t!r}; add it first")
        if self.graph.has_edge(pred, succ):
            raise ModelError(f"link {pred!r} -> {succ!r} already exists; "
                             "only one link between two tasks is supported")
        self.graph.add_edge(pred, succ, type=type, lag=lag)

    # -- reading ----------------------------------------------------------------
    @property
    def tasks(self) -> list:
        """Task ids in the graph's node order."""
        return list(self.graph.nodes)

    @property
    def n_tasks(self) -> int:
        return self.graph.number_of_nodes()

    def task_name(self, task_id) -> str:
        return str(self.graph.nodes[task_id].get("name", task_id))

    def problems(self) -> list[str]:
        """Every problem that stops this project from being simulated, as messages."""
        out = []
        if self.n_tasks == 0:
            out.append("the project has no tasks; add at least one")
        for task_id, data in self.graph.nodes(data=True):
            try:
                task_duration(task_id, data)
                planned_duration(task_id, data)
            except ModelError as exc:
                out.append(str(exc))
        for u, v, data in self.graph.edges(data=True):
            try:
                link_type(u, v, data)
                link_lag(u, v, data)
            except ModelError as exc:
                out.append(str(exc))
        if u_cycle := _find_cycle(self.graph):
            out.append(str(CycleError(u_cycle)))
        return out

    def validate(self) -> "Project":
        """Raise the first problem found as a :class:`ModelError`; return self otherwise."""
        if self.n_tasks == 0:
            raise ModelError("the project has no tasks; add at least one")
        for task_id, data in self.graph.nodes(data=True):
            task_duration(task_id, data)
            planned_duration(task_id, data)
        for u, v, data in self.graph.edges(data=True):
            link_type(u, v, data)
            link_lag(u, v, data)
        if cycle := _find_cycle(self.graph):
            raise CycleError(cycle)
        return self

    def __repr__(self):
        return (f"Project(name={self.name!r}, tasks={self.n_tasks}, "
                f"links={self.graph.number_of_edges()}, start={self.start})")


def as_project(model) -> Project:
    """Return ``model`` as a :class:`Project` (a bare ``DiGraph`` is wrapped)."""
    if isinstance(model, Project):
        return model
    if isinstance(model, nx.DiGraph):
        return Project.from_networkx(model)
    raise ModelError(
        f"expected a pmosim.Project or a networkx.DiGraph, got {type(model).__name__}")


def _as_date(value) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise ModelError(f"start must be a date like 2027-03-01, got {value!r}") from None


def _find_cycle(graph: nx.DiGraph) -> list | None:
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [u for u, _ in edges]


def task_duration(task_id, data) -> Distribution:
    """The validated duration distribution of a task (node attribute dict ``data``)."""
    if "duration" not in data:
        raise ModelError(f"task {task_id!r} has no duration; set the node attribute 'duration'")
    dist = as_distribution(data["duration"], f"task {task_id!r}: duration")
    dist.check_nonnegative(f"task {task_id!r}: duration")
    return dist


def planned_duration(task_id, data) -> float:
    """The deterministic duration: ``planned`` if set, else the mode, else the mean."""
    planned = data.get("planned")
    if planned is None:
        dist = task_duration(task_id, data)
        planned = dist.mode if dist.mode is not None else dist.mean
        return float(max(planned, 0.0))
    try:
        value = float(planned)
    except (TypeError, ValueError):
        raise ModelError(f"task {task_id!r}: planned must be a number, got {planned!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ModelError(f"task {task_id!r}: planned must be a finite number >= 0, got {planned!r}")
    return value


def link_type(u, v, data) -> str:
    """The validated link type of edge ``u -> v``."""
    kind = data.get("type", "FS")
    kind_up = str(kind).upper() if isinstance(kind, str) else kind
    if kind_up not in LINK_CODES:
        raise ModelError(
            f"link {u!r} -> {v!r}: unknown link type {kind!r}; use one of FS, SS, FF, SF")
    return kind_up


def link_lag(u, v, data) -> Distribution:
    """The validated lag of edge ``u -> v`` (a distribution; numbers become Fixed)."""
    return as_distribution(data.get("lag", 0.0), f"link {u!r} -> {v!r}: lag")

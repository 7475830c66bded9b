"""The project model: a ``networkx.DiGraph`` of tasks plus project metadata.

A task network is a directed graph. Each node is a task (any hashable id) with
node attributes

``duration``
    a number or a :class:`~pmosim.distributions.Distribution` (required);
``name``
    a display name (optional, default: the id as text);
``planned``
    the deterministic duration used by CPM (optional; default: the distribution's
    mode where it has one, else its mean);
``resources``
    the task's demand on each renewable resource while it runs, ``{resource_id:
    units}`` (optional; see :meth:`Project.add_resource`). Demands matter only when
    a run levels resources (``levelling="serial"``).

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
from dataclasses import dataclass
from typing import Any, Hashable

import networkx as nx
import numpy as np

from .distributions import MAX_MAGNITUDE, Distribution, as_distribution
from .errors import CycleError, ModelError
from .layout import CONDITION_KINDS, LINK_CODES, LINK_TYPES  # noqa: F401  (part of the model API)

#: Which risk register a run uses: before mitigation, after it, or none at all.
RISK_MODES = ("pre", "post", "none")


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
        #: Project cost per unit of project duration (the "marching army"): a number,
        #: a distribution or None.
        self.cost_rate = None
        #: Free-form metadata (source file, import report, ...); never read by the engine.
        self.meta: dict = {}
        #: The risk register, risk drivers, correlation groups and branches, by id / in order.
        self.risks: dict[Hashable, Risk] = {}
        self.drivers: dict[Hashable, Driver] = {}
        self.correlations: list[Correlation] = []
        self.branches: dict[Hashable, Branch] = {}
        #: Renewable resources by id (see :meth:`add_resource`); a bare graph may give
        #: them as ``graph.graph["resources"] = {id: capacity}``.
        self.resources: dict[Hashable, Resource] = {}
        #: Whether runs level resources by default (``"serial"`` or None) and with which
        #: priority rule (see :func:`pmosim.cpm`); ``simulate``/``cpm`` arguments win.
        self.levelling: str | None = None
        self.priority: str = "lft"
        for rid, spec in (self.graph.graph.get("resources") or {}).items():
            if isinstance(spec, dict):
                self.add_resource(rid, **spec)
            else:
                self.add_resource(rid, capacity=spec)

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

    def add_resource(self, resource_id: Hashable, capacity: float, *, name: str | None = None,
                     changes=None) -> None:
        """Add a renewable resource: ``capacity`` units available per unit of time.

        ``changes`` makes the capacity vary: ``[(time, capacity), ...]`` (or a dict
        ``{time: capacity}``), each capacity holding from its time (working time from
        the project start, like every date of the model) until the next change. The
        last capacity holds for ever, so every task's demand must fit within it.
        Tasks demand resources with the node attribute ``resources={id: units}``;
        :func:`pmosim.simulate` and :func:`pmosim.cpm` respect them when called with
        ``levelling="serial"``.

        Examples
        --------
        >>> import pmosim
        >>> p = pmosim.Project()
        >>> p.add_resource("crane", capacity=1)
        >>> p.add_task("lift A", 3, resources={"crane": 1})
        >>> p.add_task("lift B", 2, resources={"crane": 1})
        >>> pmosim.cpm(p, levelling="serial").finish
        5.0
        """
        if resource_id in self.resources:
            raise ModelError(f"resource {resource_id!r} already exists; resource ids must be "
                             "unique")
        what = f"resource {resource_id!r}"
        cap = _units(f"{what}: capacity", capacity)
        steps = []
        if changes is not None:
            items = changes.items() if isinstance(changes, dict) else changes
            try:
                items = [tuple(item) for item in items]
            except TypeError:
                raise ModelError(f"{what}: changes must be a list of (time, capacity) pairs, "
                                 f"got {changes!r}") from None
            for item in items:
                if len(item) != 2:
                    raise ModelError(f"{what}: each capacity change must be a (time, "
                                     f"capacity) pair, got {item!r}")
                t = _finite(f"{what}: change time", item[0])
                steps.append((t, _units(f"{what}: capacity from time {t:g}", item[1])))
            steps.sort(key=lambda x: x[0])
            times = [t for t, _ in steps]
            if len(set(times)) != len(times):
                raise ModelError(f"{what}: two capacity changes at the same time in {steps}")
        self.resources[resource_id] = Resource(
            resource_id, name if name is not None else str(resource_id), cap, tuple(steps))

    # -- the uncertainty model ------------------------------------------------------
    def add_risk(self, risk_id: Hashable, probability: float, tasks, schedule_impact=None,
                 cost_impact=None, name: str | None = None, mitigated: dict | None = None) -> None:
        """Add a risk event to the risk register.

        In each iteration the risk occurs with ``probability`` (one draw per risk);
        when it does, one draw of ``schedule_impact`` is added to the duration of
        every task in ``tasks``. ``schedule_impact`` is a number or distribution of
        working time, or ``{"pct": x}`` (x a number or distribution, in percent) to
        add ``x / 100`` times each task's sampled duration instead. ``cost_impact``
        (number or distribution) is added to the project cost when it occurs.
        ``mitigated`` holds the post-mitigation values (any of ``probability``,
        ``schedule_impact``, ``cost_impact``; missing ones keep their pre-mitigation
        value); ``simulate(..., risks="post")`` uses them.

        Examples
        --------
        >>> import pmosim
        >>> p = pmosim.Project()
        >>> p.add_task("build", 10)
        >>> p.add_risk("R1", 0.3, ["build"], schedule_impact=pmosim.Triangular(2, 4, 9),
        ...            mitigated={"probability": 0.1})
        """
        if risk_id in self.risks or risk_id in self.drivers:
            raise ModelError(f"risk {risk_id!r} already exists; risk and driver ids must be unique")
        what = f"risk {risk_id!r}"
        pre = RiskState.make(what, probability, schedule_impact, cost_impact)
        post = None
        if mitigated is not None:
            if not isinstance(mitigated, dict):
                raise ModelError(f"{what}: mitigated must be a dict of probability, "
                                 f"schedule_impact, cost_impact; got {mitigated!r}")
            unknown = set(mitigated) - {"probability", "schedule_impact", "cost_impact"}
            if unknown:
                raise ModelError(f"{what}: mitigated has unknown keys {sorted(unknown)}; use "
                                 "probability, schedule_impact, cost_impact")
            post = RiskState.make(
                f"{what} (mitigated)", mitigated.get("probability", probability),
                mitigated.get("schedule_impact", schedule_impact),
                mitigated.get("cost_impact", cost_impact))
        self.risks[risk_id] = Risk(risk_id, name if name is not None else str(risk_id),
                                   self._task_list(what, tasks), pre, post)

    def add_driver(self, driver_id: Hashable, probability: float, factor, tasks,
                   name: str | None = None) -> None:
        """Add a risk driver (Hulett; AACE 57R-09).

        In each iteration the driver occurs with ``probability``; when it does, one
        draw of the multiplicative ``factor`` (e.g. ``Triangular(0.95, 1.05, 1.3)``)
        scales the duration of every task in ``tasks``. Because one draw hits all of
        them, a driver makes its tasks move together: correlation that arises from
        a named cause, unlike :meth:`add_correlation`, which imposes a coefficient
        without saying why.
        """
        if driver_id in self.risks or driver_id in self.drivers:
            raise ModelError(
                f"driver {driver_id!r} already exists; risk and driver ids must be unique")
        what = f"driver {driver_id!r}"
        factor = as_distribution(factor, f"{what}: factor")
        factor.check_nonnegative(f"{what}: factor")
        self.drivers[driver_id] = Driver(driver_id, name if name is not None else str(driver_id),
                                         _probability(what, probability), factor,
                                         self._task_list(what, tasks))

    def add_correlation(self, tasks, coefficient: float) -> None:
        """Correlate the durations of every pair of ``tasks`` with Spearman ``coefficient``."""
        tasks = self._task_list("correlation", tasks)
        k = len(tasks)
        matrix = np.full((k, k), _coefficient(coefficient))
        np.fill_diagonal(matrix, 1.0)
        self.add_correlation_matrix(tasks, matrix)

    def add_correlation_matrix(self, tasks, matrix, *, repair: bool = True) -> None:
        """Correlate the durations of ``tasks`` with the Spearman rank ``matrix``.

        A matrix that is not positive semi-definite is repaired to the nearest valid
        correlation matrix (Higham 2002) when the project is compiled, and the run
        reports every coefficient that changed; with ``repair=False`` it is an error.
        """
        tasks = self._task_list("correlation", tasks)
        m = np.array(matrix, dtype=float)
        k = len(tasks)
        if k < 2:
            raise ModelError(f"a correlation needs at least two tasks, got {list(tasks)}")
        if m.shape != (k, k):
            raise ModelError(
                f"correlation of {k} tasks needs a {k}x{k} matrix, got shape {m.shape}")
        if not np.all(np.isfinite(m)) or not np.allclose(m, m.T) or not np.all(np.diag(m) == 1):
            raise ModelError("a correlation matrix must be finite and symmetric with ones on "
                             f"the diagonal; got {m.tolist()}")
        if np.any(np.abs(m) > 1):
            raise ModelError(f"correlation coefficients must be within -1..1; got {m.tolist()}")
        taken = {t for c in self.correlations for t in c.tasks}
        if clash := [t for t in tasks if t in taken]:
            raise ModelError(f"task {clash[0]!r} is already in another correlation group; "
                             "put all tasks that correlate with each other in one group")
        self.correlations.append(Correlation(tasks, m, repair))

    def add_branch(self, branch_id: Hashable, options) -> None:
        """Probabilistic branching: in each iteration exactly one option exists.

        ``options`` is a list of ``(probability, tasks)`` or ``(probability, tasks,
        when)``; probabilities must sum to 1. The tasks of the other options do not
        exist in that iteration (zero duration, zero cost; their links stay, so a
        skipped task passes its predecessors' dates on, lags included). ``when``
        makes the option conditional as well (see :func:`condition`).
        """
        what = f"branch {branch_id!r}"
        if branch_id in self.branches:
            raise ModelError(f"{what} already exists")
        opts = []
        for i, opt in enumerate(options):
            if not isinstance(opt, (tuple, list)) or len(opt) not in (2, 3):
                raise ModelError(f"{what}: option {i} must be (probability, tasks) or "
                                 f"(probability, tasks, when); got {opt!r}")
            prob = _probability(f"{what}: option {i}", opt[0])
            when = condition(f"{what}: option {i}", opt[2]) if len(opt) == 3 else None
            opts.append(BranchOption(prob, self._task_list(f"{what}: option {i}", opt[1]), when))
        if len(opts) < 2:
            raise ModelError(f"{what} needs at least two options, got {len(opts)}")
        total = sum(o.probability for o in opts)
        if abs(total - 1.0) > 1e-9:
            raise ModelError(f"{what}: option probabilities must sum to 1, got {total:g}")
        seen = {t for b in self.branches.values() for o in b.options for t in o.tasks}
        for o in opts:
            for t in o.tasks:
                if t in seen:
                    raise ModelError(f"{what}: task {t!r} is already in a branch option")
                seen.add(t)
        self.branches[branch_id] = Branch(branch_id, tuple(opts))

    def _task_list(self, what, tasks) -> tuple:
        if isinstance(tasks, (str, bytes)) or not hasattr(tasks, "__iter__"):
            tasks = [tasks]
        tasks = tuple(tasks)
        if not tasks:
            raise ModelError(f"{what}: needs at least one task")
        for t in tasks:
            if t not in self.graph:
                raise ModelError(f"{what}: unknown task {t!r}")
        if len(set(tasks)) != len(tasks):
            raise ModelError(f"{what}: a task is listed twice in {list(tasks)}")
        return tasks

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
                task_costs(task_id, data)
                task_dates(task_id, data)
                task_demands(task_id, data, self.resources)
            except ModelError as exc:
                out.append(str(exc))
        try:
            project_cost_rate(self)
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
        else:
            out.extend(self._condition_problems())
        if not out and (problem := self._date_range_problem()):
            out.append(problem)
        return out

    def _date_range_problem(self) -> str | None:
        """With a start date: whether the plan's dates can all be shown (years 1 to
        9999), bounding the finish by every duration and lag end to end."""
        if self.start is None:
            return None
        from .calendar import WorkCalendar
        span = sum(planned_duration(t, d) + abs(float(d.get("release", 0.0)))
                   for t, d in self.graph.nodes(data=True))
        span += sum(abs(link_lag(u, v, d).mean) for u, v, d in self.graph.edges(data=True))
        calendar = self.calendar or WorkCalendar()
        try:
            # from the first working day: a start on a day off is not this check's concern
            calendar.finish_dates(calendar.next_workday(self.start), span)
        except ModelError as exc:
            return (f"start {self.start.isoformat()}: the plan may run {span:,.0f} working days "
                    f"(its durations, lags and releases end to end), past what dates can show: "
                    f"{exc}")
        return None

    def validate(self) -> "Project":
        """Raise the first problem found as a :class:`ModelError`; return self otherwise."""
        if self.n_tasks == 0:
            raise ModelError("the project has no tasks; add at least one")
        for task_id, data in self.graph.nodes(data=True):
            task_duration(task_id, data)
            planned_duration(task_id, data)
            task_costs(task_id, data)
            task_dates(task_id, data)
            task_demands(task_id, data, self.resources)
        project_cost_rate(self)
        for u, v, data in self.graph.edges(data=True):
            link_type(u, v, data)
            link_lag(u, v, data)
        if cycle := _find_cycle(self.graph):
            raise CycleError(cycle)
        if problems := self._condition_problems():
            raise ModelError(problems[0])
        if problem := self._date_range_problem():
            raise ModelError(problem)
        return self

    def conditions(self) -> dict:
        """Task id -> its :class:`Condition` (node attribute ``when`` or its branch option's)."""
        out = {}
        for t, data in self.graph.nodes(data=True):
            if data.get("when") is not None:
                out[t] = condition(f"task {t!r}: when", data["when"])
        for b in self.branches.values():
            for o in b.options:
                if o.when is not None:
                    for t in o.tasks:
                        if t in out:
                            raise ModelError(f"task {t!r} has a condition of its own and one "
                                             f"from branch {b.id!r}; keep only one")
                        out[t] = o.when
        return out

    def _condition_problems(self) -> list[str]:
        out = []
        try:
            conds = self.conditions()
        except ModelError as exc:
            return [str(exc)]
        for t, cond in conds.items():
            if cond.task not in self.graph:
                out.append(f"task {t!r}: its condition refers to unknown task {cond.task!r}")
            elif cond.task not in nx.ancestors(self.graph, t):
                out.append(
                    f"task {t!r}: its condition is on task {cond.task!r}, which is not a "
                    "predecessor (direct or indirect) of it, so its dates are not known when "
                    f"{t!r} is scheduled; link {cond.task!r} before {t!r} or drop the condition")
        for t, data in self.graph.nodes(data=True):
            if "existence" in data:
                try:
                    _probability(f"task {t!r}: existence", data["existence"])
                except ModelError as exc:
                    out.append(str(exc))
        return out

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
    # is_directed_acyclic_graph is linear; find_cycle is much slower on large DAGs
    # (12.6 s against 0.014 s at 10,000 tasks), so it only runs to name a cycle
    if nx.is_directed_acyclic_graph(graph):
        return None
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


def _cost(what, value) -> Distribution | None:
    if value is None:
        return None
    dist = as_distribution(value, what)
    dist.check_nonnegative(what)
    return dist


def task_costs(task_id, data) -> tuple[Distribution | None, Distribution | None]:
    """A task's ``cost_fixed`` (time-independent) and ``cost_rate`` (per time unit of its
    sampled duration), validated; None where not set."""
    return (_cost(f"task {task_id!r}: cost_fixed", data.get("cost_fixed")),
            _cost(f"task {task_id!r}: cost_rate", data.get("cost_rate")))


def task_dates(task_id, data) -> tuple[float, float | None, float | None]:
    """A task's ``release`` (earliest start: a start-no-earlier-than constraint or the
    data date; default 0) and, for a completed task, its actual ``fixed_start`` and
    ``fixed_finish`` (both or neither; may be negative: before time 0, the status or
    data date). A fixed task keeps those dates in every iteration; its duration is
    not sampled."""
    def num(key, default=None):
        value = data.get(key, default)
        if value is None:
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"task {task_id!r}: {key} must be a number, got {value!r}") from None
        if not math.isfinite(x):
            raise ModelError(f"task {task_id!r}: {key} must be finite, got {value!r}")
        if abs(x) > MAX_MAGNITUDE:
            raise ModelError(f"task {task_id!r}: {key} must be within +-{MAX_MAGNITUDE:g}, got "
                             f"{x:g}")
        return x
    release = num("release", 0.0)
    fs, ff = num("fixed_start"), num("fixed_finish")
    if (fs is None) != (ff is None):
        raise ModelError(f"task {task_id!r}: set both fixed_start and fixed_finish (actual "
                         f"dates of a completed task) or neither; got {fs!r}, {ff!r}")
    if fs is not None and ff < fs:
        raise ModelError(f"task {task_id!r}: fixed_finish {ff:g} is before fixed_start {fs:g}")
    return release, fs, ff


def _finite(what, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ModelError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ModelError(f"{what} must be finite, got {value!r}")
    if abs(x) > MAX_MAGNITUDE:
        raise ModelError(f"{what} must be within +-{MAX_MAGNITUDE:g}, got {x:g}")
    return x


def _units(what, value) -> float:
    x = _finite(what, value)
    if x < 0:
        raise ModelError(f"{what} must be >= 0, got {value!r}")
    return x


def task_demands(task_id, data, resources) -> dict:
    """A task's validated resource demands ``{resource_id: units}`` (zeros dropped).

    Every resource must exist in ``resources`` and every demand must fit within the
    resource's capacity once its last change has happened (the capacity that holds
    for ever): otherwise the task could never be scheduled.
    """
    spec = data.get("resources")
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise ModelError(f"task {task_id!r}: resources must be a mapping of resource id to "
                         f"units, like {{'crane': 1}}; got {spec!r}")
    out = {}
    for rid, value in spec.items():
        units = _units(f"task {task_id!r}: demand on resource {rid!r}", value)
        res = resources.get(rid)
        if res is None:
            known = ", ".join(map(repr, resources)) or "none"
            raise ModelError(f"task {task_id!r} demands resource {rid!r}, which the project "
                             f"does not have (resources: {known}); add it with "
                             f"add_resource or a [[resources]] table")
        if units > res.final_capacity:
            raise ModelError(
                f"task {task_id!r} needs {units:g} of resource {rid!r}, whose capacity is "
                f"{res.final_capacity:g}; lower the demand or raise the capacity")
        if units > 0:
            out[rid] = units
    return out


def project_cost_rate(project) -> Distribution | None:
    """The project's cost per unit of project duration, validated (None when not set)."""
    return _cost("project: cost_rate", getattr(project, "cost_rate", None))


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


def _probability(what, value) -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: probability must be a number in 0..1, got {value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise ModelError(f"{what}: probability must be within 0..1, got {value!r}")
    return p


def _coefficient(value) -> float:
    try:
        c = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"correlation coefficient must be a number, got {value!r}") from None
    if not -1.0 <= c <= 1.0:
        raise ModelError(f"correlation coefficient must be within -1..1, got {value!r}")
    return c


@dataclass(frozen=True)
class Resource:
    """A renewable resource: ``capacity`` units per unit of time, changing to each
    ``(time, capacity)`` of ``changes`` (ascending times) at its time."""

    id: Hashable
    name: str
    capacity: float
    changes: tuple = ()

    @property
    def final_capacity(self) -> float:
        """The capacity that holds after the last change, for ever."""
        return self.changes[-1][1] if self.changes else self.capacity

    def steps(self) -> list[tuple[float, float]]:
        """``[(from_time, capacity), ...]``: the capacity from minus infinity, then each
        change."""
        return [(-math.inf, self.capacity), *self.changes]


@dataclass(frozen=True)
class Condition:
    """Exists only when ``task``'s finish (or start) is after (or at/before) ``value``."""

    task: Hashable
    kind: str
    value: float

    def describe(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.value:g} of {self.task!r}"


def condition(what, spec) -> Condition:
    """Parse a ``when`` spec: ``{"task": id, "finish_after": x}`` (or ``finish_before``,
    ``start_after``, ``start_before``); ``after`` is strictly later than ``x``,
    ``before`` at or before it, so the two are complements."""
    if isinstance(spec, Condition):
        return spec
    if not isinstance(spec, dict) or "task" not in spec:
        raise ModelError(f"{what}: a condition is a table like "
                         f"{{ task = \"permit\", finish_after = 45 }}; got {spec!r}")
    kinds = [k for k in spec if k in CONDITION_KINDS]
    extra = set(spec) - set(CONDITION_KINDS) - {"task"}
    if len(kinds) != 1 or extra:
        raise ModelError(f"{what}: a condition needs 'task' and exactly one of "
                         f"{', '.join(CONDITION_KINDS)}; got {spec!r}")
    value = spec[kinds[0]]
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what}: {kinds[0]} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ModelError(f"{what}: {kinds[0]} must be finite, got {value!r}")
    return Condition(spec["task"], kinds[0], v)


@dataclass(frozen=True)
class Impact:
    """A schedule impact: working time added, or (``pct``) percent of the sampled duration."""

    dist: Distribution
    pct: bool = False


def _impact(what, value) -> Impact | None:
    if value is None:
        return None
    if isinstance(value, Impact):
        return value
    if isinstance(value, dict):
        if set(value) != {"pct"}:
            raise ModelError(f"{what}: a percentage impact is {{ pct = ... }}; got {value!r}")
        return Impact(as_distribution(value["pct"], f"{what} (pct)"), pct=True)
    return Impact(as_distribution(value, what))


@dataclass(frozen=True)
class RiskState:
    """Probability and impacts of a risk, before or after mitigation."""

    probability: float
    schedule_impact: Impact | None
    cost_impact: Distribution | None

    @classmethod
    def make(cls, what, probability, schedule_impact, cost_impact) -> "RiskState":
        cost = None if cost_impact is None else as_distribution(cost_impact, f"{what}: cost_impact")
        return cls(_probability(what, probability),
                   _impact(f"{what}: schedule_impact", schedule_impact), cost)


@dataclass(frozen=True)
class Risk:
    """A risk event of the register (see :meth:`Project.add_risk`)."""

    id: Hashable
    name: str
    tasks: tuple
    pre: RiskState
    post: RiskState | None

    def state(self, mode: str) -> RiskState | None:
        """The state a run in ``mode`` ("pre", "post", "none") uses; None when off."""
        if mode == "none":
            return None
        return self.post if mode == "post" and self.post is not None else self.pre


@dataclass(frozen=True)
class Driver:
    """A risk driver: a multiplicative factor on several tasks (see :meth:`Project.add_driver`)."""

    id: Hashable
    name: str
    probability: float
    factor: Distribution
    tasks: tuple


@dataclass(frozen=True, eq=False)
class Correlation:
    """A group of tasks whose durations are rank-correlated (Spearman ``matrix``)."""

    tasks: tuple
    matrix: np.ndarray
    repair: bool = True


@dataclass(frozen=True)
class BranchOption:
    probability: float
    tasks: tuple
    when: Condition | None = None


@dataclass(frozen=True)
class Branch:
    """Probabilistic branching: exactly one option's tasks exist per iteration."""

    id: Hashable
    options: tuple

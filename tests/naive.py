"""Slow, obviously correct reference implementations the engine is tested against.

Nothing here is fast or clever: one iteration at a time, dicts keyed by task id,
straight from the semantics in the model's docstring (and issue 2):

- project starts at 0 and no task starts before 0;
- FS: start(v) >= finish(u) + lag    SS: start(v) >= start(u) + lag
  FF: finish(v) >= finish(u) + lag   SF: finish(v) >= start(u) + lag;
- project finish = max task finish; every task must finish by it (this is what
  makes the backward pass correct for tasks whose only successors are SS/SF);
- total float = late start - early start; a task is critical when its total float
  is <= 1e-9 * max(1, project finish) (ties count as critical).

Only networkx and numpy are used; nothing is imported from pmosim's engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

#: Relative tolerance of the critical test: float <= CRIT_RTOL * max(1, project finish).
CRIT_RTOL = 1e-9


@dataclass
class Schedule:
    """One scheduled iteration; every dict is keyed by task id."""

    finish: float
    early_start: dict
    early_finish: dict
    late_start: dict
    late_finish: dict
    total_float: dict
    critical: dict

    def array(self, name, task_ids):
        """The dict attribute ``name`` as an array in ``task_ids`` order."""
        values = getattr(self, name)
        return np.array([values[t] for t in task_ids], dtype=bool if name == "critical" else float)


def link_type(data) -> str:
    return str(data.get("type", "FS")).upper()


def fixed_value(value) -> float:
    """A plain number, or the value of a Fixed-like distribution (``.value``)."""
    if hasattr(value, "value"):
        return float(value.value)
    return float(value)


def schedule(graph: nx.DiGraph, durations: dict, lags: dict | None = None) -> Schedule:
    """Forward and backward pass of one iteration.

    Parameters
    ----------
    graph : networkx.DiGraph
        The task network (edge attributes ``type`` and ``lag``).
    durations : dict
        task id -> duration of this iteration.
    lags : dict, optional
        (u, v) -> lag of this iteration; edges not in it use their ``lag`` attribute,
        which must then be a number or a Fixed distribution.
    """
    lags = lags or {}

    def lag_of(u, v):
        if (u, v) in lags:
            return float(lags[(u, v)])
        return fixed_value(graph.edges[u, v].get("lag", 0.0))

    order = list(nx.topological_sort(graph))
    es, ef = {}, {}
    for v in order:
        d = float(durations[v])
        start = 0.0
        for u in graph.predecessors(v):
            kind, lag = link_type(graph.edges[u, v]), lag_of(u, v)
            if kind == "FS":
                start = max(start, ef[u] + lag)
            elif kind == "SS":
                start = max(start, es[u] + lag)
            elif kind == "FF":
                start = max(start, ef[u] + lag - d)
            elif kind == "SF":
                start = max(start, es[u] + lag - d)
            else:
                raise ValueError(f"unknown link type {kind!r}")
        es[v], ef[v] = start, start + d

    finish = max(ef.values())
    ls, lf = {}, {}
    for v in reversed(order):
        d = float(durations[v])
        late = finish
        for w in graph.successors(v):
            kind, lag = link_type(graph.edges[v, w]), lag_of(v, w)
            if kind == "FS":
                late = min(late, ls[w] - lag)
            elif kind == "SS":
                late = min(late, ls[w] - lag + d)
            elif kind == "FF":
                late = min(late, lf[w] - lag)
            elif kind == "SF":
                late = min(late, lf[w] - lag + d)
        lf[v], ls[v] = late, late - d

    tf = {v: ls[v] - es[v] for v in order}
    tol = CRIT_RTOL * max(1.0, finish)
    crit = {v: tf[v] <= tol for v in order}
    return Schedule(finish, es, ef, ls, lf, tf, crit)


@dataclass
class NaiveRun:
    """Per-iteration results of :func:`simulate`, arrays in ``task_ids`` order."""

    finish: np.ndarray        # [n_iter]
    starts: np.ndarray        # [n_iter, n_tasks]
    finishes: np.ndarray      # [n_iter, n_tasks]
    late_starts: np.ndarray   # [n_iter, n_tasks]
    total_float: np.ndarray   # [n_iter, n_tasks]
    critical: np.ndarray      # [n_iter, n_tasks] bool

    @property
    def critical_counts(self):
        return self.critical.sum(axis=0)


def simulate(graph: nx.DiGraph, task_ids, durations: np.ndarray, lags=None) -> NaiveRun:
    """Schedule every iteration of the sampled ``durations`` ([n_iter, n_tasks]).

    ``lags``, optional, maps edge (u, v) -> array [n_iter] of sampled lags.
    """
    durations = np.asarray(durations, dtype=float)
    n_iter, n_tasks = durations.shape
    out = {k: np.empty((n_iter, n_tasks)) for k in ("starts", "finishes", "late_starts", "tf")}
    crit = np.empty((n_iter, n_tasks), dtype=bool)
    finish = np.empty(n_iter)
    for i in range(n_iter):
        d = {t: durations[i, j] for j, t in enumerate(task_ids)}
        lag_i = {e: float(v[i]) for e, v in (lags or {}).items()}
        s = schedule(graph, d, lag_i)
        finish[i] = s.finish
        out["starts"][i] = s.array("early_start", task_ids)
        out["finishes"][i] = s.array("early_finish", task_ids)
        out["late_starts"][i] = s.array("late_start", task_ids)
        out["tf"][i] = s.array("total_float", task_ids)
        crit[i] = s.array("critical", task_ids)
    return NaiveRun(finish, out["starts"], out["finishes"], out["late_starts"], out["tf"], crit)


def planned_duration(data) -> float:
    """Deterministic duration of a task: ``planned``, else the mode, else the mean (>= 0)."""
    if data.get("planned") is not None:
        return float(data["planned"])
    dur = data["duration"]
    if isinstance(dur, (int, float)):
        return float(dur)
    value = dur.mode if dur.mode is not None else dur.mean
    return max(float(value), 0.0)


def cpm(graph: nx.DiGraph) -> Schedule:
    """Deterministic CPM on planned durations (lags must be numbers or Fixed)."""
    return schedule(graph, {v: planned_duration(graph.nodes[v]) for v in graph.nodes})


def adjusted_durations(project, seed, n_iter):
    """Durations per iteration rebuilt in Python from the documented random streams:
    base draws, driver factors, risk events (additive and percent), probabilistic tasks
    and branches, exactly as the kernels combine them (see kernels.draws.adjust_duration)."""
    from pmosim.distributions import kernel_ppf
    from pmosim.kernels import rng

    k0, k1 = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    its = np.arange(n_iter, dtype=np.int64)
    ids = list(project.graph.nodes)

    def u(var, stream):
        return rng.uniforms(its, var, stream, k0, k1)

    out = np.empty((n_iter, len(ids)))
    for j, t in enumerate(ids):
        out[:, j] = kernel_ppf(project.graph.nodes[t]["duration"], u(j, rng.STREAM_DURATION),
                               nonnegative=True)
    for d, drv in enumerate(project.drivers.values()):
        occurs = u(d, rng.STREAM_DRIVER) < drv.probability
        factor = np.where(occurs, kernel_ppf(drv.factor, u(d, rng.STREAM_DRIVER_FACTOR), True), 1.0)
        for t in drv.tasks:
            out[:, ids.index(t)] *= factor
    base = out.copy()
    add = np.zeros_like(out)
    for r, risk in enumerate(project.risks.values()):
        occurs = u(r, rng.STREAM_RISK) < risk.pre.probability
        imp = kernel_ppf(risk.pre.schedule_impact.dist, u(r, rng.STREAM_RISK_IMPACT))
        for t in risk.tasks:
            j = ids.index(t)
            add[:, j] += np.where(occurs, 0.01 * imp * base[:, j] if risk.pre.schedule_impact.pct
                                  else imp, 0.0)
    touched = [ids.index(t) for risk in project.risks.values() for t in risk.tasks]
    out[:, touched] = np.maximum(base[:, touched] + add[:, touched], 0.0)
    ex_rank = 0
    for j, t in enumerate(ids):
        prob = project.graph.nodes[t].get("existence", 1.0)
        if prob < 1.0:
            out[:, j] *= u(ex_rank, rng.STREAM_EXIST) < prob
            ex_rank += 1
    for b, branch in enumerate(project.branches.values()):
        ub = u(b, rng.STREAM_BRANCH)
        cum = np.cumsum([o.probability for o in branch.options])
        chosen = np.minimum(np.searchsorted(cum, ub, side="right"), len(cum) - 1)
        for k, option in enumerate(branch.options):
            for t in option.tasks:
                out[:, ids.index(t)] *= chosen == k
    return out


# -- resource levelling: priority lists and the serial schedule generation scheme ---------
#
# One schedule at a time, dicts keyed by task id, every rule written out as it is stated:
#
# - a priority list puts the tasks in a precedence-feasible order (over links of every
#   type), smallest (key, plan index) first among the tasks whose predecessors are listed;
# - the serial scheme places the completed (fixed) tasks at their actual dates, then each
#   other task of the list at the earliest time t >= its precedence bound t0 at which its
#   demand fits under every resource's capacity for the whole of [t, t + d);
# - a levelled critical task is one on a driving chain back from the project finish: a
#   resource-delayed task is driven by the tasks whose finish released the resource it
#   was short of, any other task by the links that set its start.

#: Priority rules of the serial scheme, by name (see :func:`naive_priority_list`).
PRIORITY_RULES = ("lft", "lst", "mslk", "mts", "grpw", "spt", "order", "priority")
#: A task's priority where it sets none (MS Project's default).
DEFAULT_PRIORITY = 500
#: Capacity tolerance of a resource: LEVEL_RTOL * its largest capacity over time.
LEVEL_RTOL = 1e-9


@dataclass
class LevellingInstance:
    """One resource-constrained scheduling problem; every dict is keyed by task id.

    ``resources`` maps a resource id to its capacity steps ``[(from_time, capacity),
    ...]``: the first from ``-inf``, then ascending change times; each capacity holds
    from its time until the next change, the last for ever.
    """

    ids: list                 # task ids in plan order
    duration: dict            # >= 0; a task that does not exist has 0
    links: list               # (pred, succ, type, lag) with type in FS/SS/FF/SF
    release: dict             # earliest start of a task that is not fixed (default 0)
    fixed: dict               # completed tasks only: (actual start, actual finish)
    demands: dict             # {resource id: units > 0} per task (missing: none)
    resources: dict           # resource id -> capacity steps


def capacity_at(steps, tau) -> float:
    """The capacity in force at time ``tau`` (its step's time is <= tau)."""
    cap = steps[0][1]
    for time, c in steps:
        if time <= tau:
            cap = c
    return cap


def capacity_before(steps, t) -> float:
    """The capacity in force just before time ``t`` (its step's time is < t)."""
    cap = steps[0][1]
    for time, c in steps:
        if time < t:
            cap = c
    return cap


def capacity_eps(steps) -> float:
    """How far usage may pass a capacity (float rounding of summed demands)."""
    return LEVEL_RTOL * max(c for _, c in steps)


def link_bound(kind: str, lag: float, s_q: float, f_q: float, d: float) -> float:
    """Earliest start the link ``q -> j`` of type ``kind`` allows ``j`` (duration ``d``),
    written as the kernels write it so that both round alike."""
    if kind == "FS":
        return f_q + lag
    if kind == "SS":
        return s_q + lag
    if kind == "FF":
        return (f_q + lag) - d
    if kind == "SF":
        return (s_q + lag) - d
    raise ValueError(f"unknown link type {kind!r}")


def levelling_instance(project, durations=None) -> LevellingInstance:
    """The levelling problem of a :class:`pmosim.Project` for one set of durations.

    ``durations`` maps task id -> duration (or is a sequence in node order); default
    the planned durations. A task with ``fixed_start``/``fixed_finish`` keeps its
    actual dates and the duration between them. Lags must be numbers or Fixed.
    """
    graph = project.graph
    ids = list(graph.nodes)
    if durations is None:
        durations = {t: planned_duration(graph.nodes[t]) for t in ids}
    elif not isinstance(durations, dict):
        durations = dict(zip(ids, np.asarray(durations, dtype=float).tolist()))
    fixed, release, duration, demands = {}, {}, {}, {}
    for t in ids:
        data = graph.nodes[t]
        duration[t] = float(durations[t])
        release[t] = float(data.get("release") or 0.0)
        if data.get("fixed_start") is not None:
            fs, ff = float(data["fixed_start"]), float(data["fixed_finish"])
            fixed[t] = (fs, ff)
            duration[t] = ff - fs
        demands[t] = {r: float(u) for r, u in (data.get("resources") or {}).items() if u > 0}
    links = [(u, v, link_type(e), fixed_value(e.get("lag", 0.0)))
             for u, v, e in graph.edges(data=True)]
    resources = {r: [(-np.inf, float(res.capacity))]
                 + [(float(time), float(c)) for time, c in res.changes]
                 for r, res in project.resources.items()}
    return LevellingInstance(ids, duration, links, release, fixed, demands, resources)


def naive_cpm_dates(instance: LevellingInstance) -> dict:
    """Unlevelled CPM of an instance: fixed tasks at their dates, releases respected.

    Returns ``{"es", "ef", "ls", "lf": dicts, "finish": project finish}``; the
    backward pass is :func:`schedule`'s, with every task finishing by the project
    finish.
    """
    g = nx.DiGraph()
    g.add_nodes_from(instance.ids)
    for q, j, kind, lag in instance.links:
        g.add_edge(q, j, type=kind, lag=lag)
    d = instance.duration
    es, ef = {}, {}
    for j in nx.topological_sort(g):
        if j in instance.fixed:
            es[j], ef[j] = instance.fixed[j]
            continue
        start = max(0.0, instance.release.get(j, 0.0))
        for q in g.predecessors(j):
            e = g.edges[q, j]
            start = max(start, link_bound(e["type"], e["lag"], es[q], ef[q], d[j]))
        es[j], ef[j] = start, start + d[j]
    finish = max([0.0, *ef.values()])
    ls, lf = {}, {}
    for j in reversed(list(nx.topological_sort(g))):
        late = finish
        for w in g.successors(j):
            kind, lag = g.edges[j, w]["type"], g.edges[j, w]["lag"]
            if kind == "FS":
                late = min(late, ls[w] - lag)
            elif kind == "SS":
                late = min(late, ls[w] - lag + d[j])
            elif kind == "FF":
                late = min(late, lf[w] - lag)
            else:
                late = min(late, lf[w] - lag + d[j])
        lf[j], ls[j] = late, late - d[j]
    return {"es": es, "ef": ef, "ls": ls, "lf": lf, "finish": finish}


def naive_priority_list(ids, links, planned, rule, es, ef, ls, lf, user_priority=None) -> list:
    """Task ids in the order the serial scheme places them.

    Parameters
    ----------
    ids : list
        Task ids in plan order (the tie-break).
    links : list of (pred, succ, type, lag)
    planned : dict
        task id -> planned duration.
    rule : str
        One of :data:`PRIORITY_RULES`; the key, smaller first: ``lft`` late finish,
        ``lst`` late start, ``mslk`` total float ``ls - es``, ``mts`` minus the number
        of transitive successors, ``grpw`` minus the planned duration of the task and
        its immediate successors, ``spt`` planned duration, ``order`` plan index,
        ``priority`` minus the user priority (missing: :data:`DEFAULT_PRIORITY`).
    es, ef, ls, lf : dict
        Unlevelled CPM dates on planned durations, task id -> time.
    user_priority : dict, optional
        task id -> priority (a number; None or missing counts as the default).

    Returns
    -------
    list
        Every id once; each task after all its predecessors (links of every type).
    """
    index = {t: k for k, t in enumerate(ids)}
    g = nx.DiGraph()
    g.add_nodes_from(ids)
    g.add_edges_from((q, j) for q, j, *_ in links)
    user_priority = user_priority or {}

    def key(j):
        if rule == "lft":
            return lf[j]
        if rule == "lst":
            return ls[j]
        if rule == "mslk":
            return ls[j] - es[j]
        if rule == "mts":
            return -len(nx.descendants(g, j))
        if rule == "grpw":
            return -(planned[j] + sum(planned[s] for s in g.successors(j)))
        if rule == "spt":
            return planned[j]
        if rule == "order":
            return index[j]
        if rule == "priority":
            value = user_priority.get(j)
            return -(DEFAULT_PRIORITY if value is None else value)
        raise ValueError(f"unknown priority rule {rule!r}; one of {PRIORITY_RULES}")

    keys = {j: key(j) for j in ids}
    listed, out = set(), []
    while len(out) < len(ids):
        eligible = [j for j in ids if j not in listed
                    and all(q in listed for q in g.predecessors(j))]
        j = min(eligible, key=lambda t: (keys[t], index[t]))
        listed.add(j)
        out.append(j)
    return out


def naive_serial_sgs(instance: LevellingInstance, order) -> dict:
    """The serial schedule generation scheme, one schedule.

    Fixed tasks are placed first at their actual dates (never moved; they use their
    resources while they run). Then each other task ``j`` of ``order``, in turn, at the
    smallest candidate ``t >= t0`` (its precedence bound: 0, its release and each link
    bound) such that for every resource ``r`` it demands and every ``tau`` in
    ``[t, t + d)``, the usage of the tasks placed so far plus its demand is at most
    ``cap_r(tau) + eps_r``. Candidates are ``t0``, the finishes after ``t0`` of placed
    tasks of positive duration, and the capacity changes after ``t0`` of ``j``'s
    resources. A task of zero duration, or demanding nothing, starts at ``t0``.

    Parameters
    ----------
    instance : LevellingInstance
    order : list
        Every task id, each after its predecessors (fixed tasks may be anywhere in it).

    Returns
    -------
    dict
        ``start``, ``finish``, ``t0`` (task id -> time), ``short`` (task id -> the set of
        resources it was short of just before its start, for each task that starts after
        its ``t0``), ``placed`` (ids in the order placed) and ``project_finish``
        (``max(0, finishes)``).

    Examples
    --------
    >>> inst = LevellingInstance(
    ...     ids=["a", "b"], duration={"a": 3.0, "b": 2.0}, links=[], release={}, fixed={},
    ...     demands={"a": {"crane": 1.0}, "b": {"crane": 1.0}},
    ...     resources={"crane": [(-np.inf, 1.0)]})
    >>> s = naive_serial_sgs(inst, ["a", "b"])
    >>> s["start"], s["short"], s["project_finish"]
    ({'a': 0.0, 'b': 3.0}, {'b': {'crane'}}, 5.0)
    """
    d, demands, steps = instance.duration, instance.demands, instance.resources
    eps = {r: capacity_eps(st) for r, st in steps.items()}
    preds = {j: [] for j in instance.ids}
    for q, j, kind, lag in instance.links:
        preds[j].append((q, kind, lag))
    start, finish, t0, short, placed = {}, {}, {}, {}, []
    for j in instance.ids:
        if j in instance.fixed:
            start[j], finish[j] = instance.fixed[j]
            t0[j] = start[j]
            placed.append(j)

    def usage(r, tau):
        return sum(demands[i][r] for i in placed
                   if r in demands.get(i, {}) and start[i] <= tau < finish[i])

    def usage_before(r, t):
        return sum(demands[i][r] for i in placed
                   if r in demands.get(i, {}) and finish[i] > start[i]
                   and start[i] < t <= finish[i])

    def fits(t, dj, dem):
        end = t + dj
        for r, u in dem.items():
            taus = {t}
            taus.update(start[i] for i in placed if t < start[i] < end)
            taus.update(time for time, _ in steps[r][1:] if t < time < end)
            if any(usage(r, tau) + u > capacity_at(steps[r], tau) + eps[r] for tau in taus):
                return False
        return True

    seen = set()
    for j in order:
        if j in seen:
            raise ValueError(f"task {j!r} is twice in the order")
        seen.add(j)
        if j in instance.fixed:
            continue
        dj = d[j]
        bound = max(0.0, instance.release.get(j, 0.0))
        for q, kind, lag in preds[j]:
            if q not in start:
                raise ValueError(f"the order places {j!r} before its predecessor {q!r}")
            bound = max(bound, link_bound(kind, lag, start[q], finish[q], dj))
        t0[j] = bound
        dem = demands.get(j, {})
        if dj == 0 or not dem:
            s = bound
        else:
            candidates = {bound}
            candidates.update(finish[i] for i in placed
                              if finish[i] > start[i] and finish[i] > bound)
            for r in dem:
                candidates.update(time for time, _ in steps[r][1:] if time > bound)
            s = next((t for t in sorted(candidates) if fits(t, dj, dem)), None)
            if s is None:
                raise ValueError(f"task {j!r}: demand {dem} never fits (more than a final "
                                 "capacity)")
            if s > bound:
                short[j] = {r for r, u in dem.items()
                            if usage_before(r, s) + u
                            > capacity_before(steps[r], s) + eps[r]}
        start[j], finish[j] = s, s + dj
        placed.append(j)
    missing = [j for j in instance.ids if j not in start]
    if missing:
        raise ValueError(f"the order leaves out tasks {missing[:5]}")
    project_finish = max([0.0, *finish.values()])
    return {"start": start, "finish": finish, "t0": t0, "short": short, "placed": placed,
            "project_finish": project_finish}


def naive_levelled_critical(instance: LevellingInstance, order, sched,
                            exists=None) -> tuple[set, set]:
    """Critical tasks and binding resources of a levelled schedule.

    Driving chains are followed back from the tasks that finish at the project finish.
    A fixed task has no drivers. A task that starts after its precedence bound ``t0``
    (resource-delayed) is driven by the tasks placed before it, of positive duration,
    that finish exactly at its start and demand a resource it was short of; those
    resources are binding. Any other task is driven by the link predecessors whose
    bound equals its start (within 1e-9 * max(1, finish), the tolerance of the
    unlevelled critical path).

    Parameters
    ----------
    instance : LevellingInstance
    order : list
        The order given to :func:`naive_serial_sgs` (for reading; ``sched["placed"]``
        holds the placement itself).
    sched : dict
        What :func:`naive_serial_sgs` returned for ``instance`` and ``order``.
    exists : dict, optional
        task id -> whether the task exists in this iteration (default: all do); a task
        of positive duration always exists.

    Returns
    -------
    (set, set)
        The ids of the critical tasks (on a driving chain and existing) and the binding
        resources.
    """
    start, finish, t0, short = sched["start"], sched["finish"], sched["t0"], sched["short"]
    placed = sched["placed"]
    assert [j for j in placed if j not in instance.fixed] == \
        [j for j in order if j not in instance.fixed], "sched was not made with this order"
    rank = {j: k for k, j in enumerate(placed)}
    preds = {j: [] for j in instance.ids}
    for q, j, kind, lag in instance.links:
        preds[j].append((q, kind, lag))
    pf = sched["project_finish"]
    # the unlevelled critical path's tolerance (total float <= 1e-9 * max(1, finish)):
    # an FF/SF bound (f + lag) - d, plus d again, may miss a date by ulps
    tol = LEVEL_RTOL * max(1.0, pf)
    marked, binding = set(), set()
    stack = [j for j in instance.ids if finish[j] >= pf - tol]
    while stack:
        j = stack.pop()
        if j in marked:
            continue
        marked.add(j)
        if j in instance.fixed:
            continue
        if start[j] > t0[j]:
            binding |= short[j]
            stack.extend(i for i in placed[:rank[j]]
                         if finish[i] > start[i] and finish[i] == start[j]
                         and any(r in short[j] for r in instance.demands.get(i, {})))
        else:
            d = instance.duration[j]
            stack.extend(q for q, kind, lag in preds[j]
                         if link_bound(kind, lag, start[q], finish[q], d) >= start[j] - tol)
    exists = exists or {}
    critical = {j for j in marked if instance.duration[j] > 0 or exists.get(j, True)}
    return critical, binding


def sensitivity(durations: np.ndarray, run: NaiveRun) -> dict:
    """Vanhoucke's sensitivity measures of every task, from kept samples, by the textbook
    formulas one task at a time (population moments; |.| of the correlations).

    durations : [n_iter, n_tasks]; run : :func:`simulate` of those durations.
    Returns {"ci", "si", "ssi", "cri_r", "cri_rho", "cri_tau"} -> float64[n_tasks].
    """
    from scipy import stats as sps

    t = run.finish
    n_iter, n_tasks = durations.shape
    out = {k: np.zeros(n_tasks) for k in ("ci", "si", "ssi", "cri_r", "cri_rho", "cri_tau")}
    for j in range(n_tasks):
        d = durations[:, j]
        tf = np.maximum(run.total_float[:, j], 0.0)
        ci = float(np.mean(run.critical[:, j]))
        ratio = np.array([d[i] / (d[i] + tf[i]) if d[i] + tf[i] > 0 else 0.0
                          for i in range(n_iter)])
        out["ci"][j] = ci
        out["si"][j] = float(np.mean(ratio * t / np.mean(t)))
        out["ssi"][j] = float(np.std(d) / np.std(t)) * ci
        if np.all(d == d[0]):
            continue
        out["cri_r"][j] = abs(float(np.corrcoef(d, t)[0, 1]))
        out["cri_rho"][j] = abs(float(sps.spearmanr(d, t).statistic))
        out["cri_tau"][j] = abs(float(sps.kendalltau(d, t).statistic))
    return out


def critical_sets(run: NaiveRun, task_ids) -> dict:
    """frozenset of critical task ids -> number of iterations it was the critical set."""
    out = {}
    for row in run.critical:
        key = frozenset(t for t, c in zip(task_ids, row) if c)
        out[key] = out.get(key, 0) + 1
    return out

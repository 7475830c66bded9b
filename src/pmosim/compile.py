"""Compile a :class:`~pmosim.model.Project` into flat arrays for the kernels.

numpy and networkx only, never numba: compiling is validation plus array building,
done once per run. Tasks are renumbered by position in topological order; the
random-number variable of a task stays its index in the graph's node order, so a
task's draws do not depend on how the topological sort happens to order it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from . import stats
from .distributions import Distribution, Fixed, TableStore, normal_table
from .errors import ModelError
from .layout import (
    CAPACITY_RTOL, DEFAULT_PRIORITY, KIND_CONNECTOR, KIND_FINISH_MILESTONE, KIND_TASK,
    LEVELLING_SCHEMES, N_KERNEL_PARAMS, PRIORITY_RULES, Calendars, Costs, Draws,
    KernelModel, Levelling, Links, Uncertainty,
)
from .model import (
    CONDITION_KINDS, LINK_CODES, RISK_MODES, Project, _probability, link_lag, link_type,
    planned_duration, project_cost_rate, task_costs, task_dates, task_demands, task_duration,
)


@dataclass(frozen=True)
class CompiledModel:
    """A project compiled for the kernels.

    Attributes
    ----------
    task_ids : list
        Task ids in the graph's node order (the order of every per-task result).
    topo : int64[n]
        ``topo[p]`` is the node index of the task at position ``p``.
    kernel : KernelModel
    planned : float64[n]
        Planned durations by position; ``planned_lags`` those of the random lags.
    durations : tuple of Distribution
        By position; ``lags`` the distributions of the random lags.
    lag_edges : list of (u, v)
        The links whose lag is random, in kernel row order.
    planned_task_cost : float64[n]
        Each task's planned cost by position (see ``engine._planned_cost`` for which
        tasks count); ``planned_cost_rate`` the project cost rate's typical value.
    """

    task_ids: list
    names: list
    topo: np.ndarray
    kernel: KernelModel
    planned: np.ndarray
    planned_lags: np.ndarray
    durations: tuple
    lags: tuple
    lag_edges: list
    planned_task_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    planned_cost_rate: float = 0.0
    risk_ids: list = field(default_factory=list)
    driver_ids: list = field(default_factory=list)
    correlations: list = field(default_factory=list)

    @property
    def calendars(self) -> Calendars:
        """The wall-clock arrays (empty unless ``kernel.cal_on``)."""
        return self.kernel.calendars

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)


def _params(dist: Distribution, tables: TableStore, nonnegative: bool):
    code, *par = dist.kernel_params(tables, nonnegative=nonnegative)
    return code, par


@dataclass(frozen=True)
class CompiledCorrelation:
    """A correlation group as compiled: Spearman targets, repaired and as sampled."""

    tasks: tuple
    target: np.ndarray
    repaired: np.ndarray


def compile_project(project: Project, risks: str = "pre", wallclock: bool | None = None
                    ) -> CompiledModel:
    """Validate ``project`` and build its :class:`CompiledModel`.

    ``risks`` selects the risk register: ``"pre"`` (before mitigation), ``"post"``
    (mitigated values where given) or ``"none"`` (risk events off; drivers stay).
    ``wallclock`` selects the kernel mode: True schedules a project with working
    calendars (``meta["calendars"]``) on the wall clock, each task on its own
    calendar; False on the working-day axis; None (default) as
    :func:`uses_calendars` says.
    """
    if risks not in RISK_MODES:
        raise ModelError(f"risks must be one of {', '.join(RISK_MODES)}, got {risks!r}")
    project.validate()
    graph = project.graph
    task_ids = list(graph.nodes)
    node_index = {t: i for i, t in enumerate(task_ids)}
    order = [node_index[t] for t in nx.topological_sort(graph)]
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    n = len(order)

    tables = TableStore()
    dur_code = np.empty(n, dtype=np.int64)
    dur_par = np.zeros((n, N_KERNEL_PARAMS))
    planned = np.empty(n)
    durations = []
    for p, i in enumerate(order):
        task_id = task_ids[i]
        data = graph.nodes[task_id]
        dist = task_duration(task_id, data)
        durations.append(dist)
        dur_code[p], dur_par[p] = _params(dist, tables, nonnegative=True)
        planned[p] = planned_duration(task_id, data)

    pred_ptr = np.zeros(n + 1, dtype=np.int64)
    preds: list[list] = [[] for _ in range(n)]
    lag_dists, lag_edges = [], []
    for u, v, data in graph.edges(data=True):
        kind = LINK_CODES[link_type(u, v, data)]
        lag = link_lag(u, v, data)
        if isinstance(lag, Fixed):
            const, row = lag.value, 0
        else:
            const, row = 0.0, 1 + len(lag_dists)
            lag_dists.append(lag)
            lag_edges.append((u, v))
        preds[position[node_index[v]]].append((position[node_index[u]], kind, const, row, (u, v)))
    for p in range(n):
        preds[p].sort()
        pred_ptr[p + 1] = pred_ptr[p] + len(preds[p])
    flat = [link for plist in preds for link in plist]
    pred_idx = np.array([x[0] for x in flat], dtype=np.int64)
    pred_type = np.array([x[1] for x in flat], dtype=np.int64)
    pred_lag = np.array([x[2] for x in flat], dtype=np.float64)
    pred_lagrow = np.array([x[3] for x in flat], dtype=np.int64)

    r = len(lag_dists)
    lag_code = np.empty(r, dtype=np.int64)
    lag_par = np.zeros((r, N_KERNEL_PARAMS))
    planned_lags = np.empty(r)
    for k, dist in enumerate(lag_dists):
        lag_code[k], lag_par[k] = _params(dist, tables, nonnegative=False)
        planned_lags[k] = dist.mode if dist.mode is not None else dist.mean

    extra = _uncertainty(project, task_ids, node_index, position, order, tables, risks)
    if wallclock is None:
        wallclock = uses_calendars(project)
    cal = _wallclock(project, task_ids, order, position, flat, planned) \
        if wallclock and has_calendars(project) else _no_wallclock()
    cal_on = cal.task_cal.shape[0] > 0
    if cal_on:
        extra["kernel"]["cond_value"] = _condition_times(cal, extra["kernel"]["cond_value"])
    extra["kernel"]["cal_on"] = cal_on
    extra["calendars"] = cal
    extra["kernel"].update(_costs(project, task_ids, position, order, tables, risks, planned))
    extra["planned_task_cost"] = extra["kernel"].pop("planned_task_cost")
    pc = project_cost_rate(project)
    extra["planned_cost_rate"] = _typical(pc) if pc is not None else 0.0
    flat = dict(
        dur_code=dur_code, dur_par=dur_par, dur_var=np.asarray(order, dtype=np.int64),
        n_dur_vars=n, var_pos=position.copy(), var_corr=_corr_flags(project, node_index, n),
        **_dates(project, task_ids, order),
        pred_ptr=pred_ptr, pred_idx=pred_idx, pred_type=pred_type,
        pred_lag=pred_lag, pred_lagrow=pred_lagrow, lag_code=lag_code, lag_par=lag_par,
        lag_var=np.arange(r, dtype=np.int64), n_lag_vars=r,
        tables=tables.array(), **extra.pop("kernel"),
    )
    kernel = KernelModel(
        draws=Draws(**{k: flat[k] for k in Draws._fields}),
        links=Links(**{k: flat[k] for k in Links._fields}),
        uncertainty=Uncertainty(**{k: flat[k] for k in Uncertainty._fields}),
        costs=Costs(**{k: flat[k] for k in Costs._fields}),
        calendars=extra.pop("calendars"), cost_on=flat["cost_on"], cal_on=flat["cal_on"])
    return CompiledModel(
        task_ids=task_ids, names=[str(graph.nodes[t].get("name", t)) for t in task_ids],
        topo=np.asarray(order, dtype=np.int64), kernel=kernel, planned=planned,
        planned_lags=planned_lags, durations=tuple(durations), lags=tuple(lag_dists),
        lag_edges=lag_edges, **extra,
    )


def _csr(lists) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(x) for x in lists])
    idx = np.array([i for x in lists for i in x], dtype=np.int64)
    return ptr, idx


def _power_of_two_scale(dists) -> np.ndarray:
    """Per distribution, a power of two that brings its typical magnitude to about 1."""
    out = np.ones(len(dists))
    for k, d in enumerate(dists):
        size = max(abs(d.mean), d.std)
        if size > 0 and np.isfinite(size):
            out[k] = np.ldexp(1.0, -int(np.ceil(np.log2(size))))
    return out


def _dist_rows(dists, tables, nonnegative):
    code = np.zeros(len(dists), dtype=np.int64)
    par = np.zeros((len(dists), N_KERNEL_PARAMS))
    for k, dist in enumerate(dists):
        code[k], par[k] = _params(dist, tables, nonnegative=nonnegative)
    return code, par


def _uncertainty(project, task_ids, node_index, position, order, tables, mode) -> dict:
    """Kernel arrays of existence, branches, conditions, risks, drivers and correlation."""
    graph = project.graph
    n = len(order)
    pos = {t: int(position[node_index[t]]) for t in task_ids}

    ex_p = np.ones(n)
    ex_var = np.full(n, -1, dtype=np.int64)
    n_ex = 0
    for t in task_ids:           # node order: the existence draws are keyed by it
        if "existence" in graph.nodes[t]:
            prob = _probability(f"task {t!r}: existence", graph.nodes[t]["existence"])
            ex_p[pos[t]] = prob
            if prob < 1.0:
                ex_var[pos[t]] = n_ex
                n_ex += 1

    br_of = np.full(n, -1, dtype=np.int64)
    br_opt = np.zeros(n, dtype=np.int64)
    cums = []
    for b, branch in enumerate(project.branches.values()):
        cum = np.cumsum([o.probability for o in branch.options])
        cum[-1] = 1.0
        cums.append(list(cum))
        for j, option in enumerate(branch.options):
            for t in option.tasks:
                br_of[pos[t]] = b
                br_opt[pos[t]] = j
    br_ptr, _ = _csr(cums)
    br_cum = np.array([c for cum in cums for c in cum], dtype=np.float64)

    cond_task = np.full(n, -1, dtype=np.int64)
    cond_kind = np.zeros(n, dtype=np.int64)
    cond_value = np.zeros(n)
    for t, cond in project.conditions().items():
        cond_task[pos[t]] = pos[cond.task]
        cond_kind[pos[t]] = CONDITION_KINDS[cond.kind]
        cond_value[pos[t]] = cond.value

    risk_ids, risk_p, risk_dists, risk_pct = [], [], [], []
    task_risks: list[list] = [[] for _ in range(n)]
    for risk in project.risks.values():
        state = risk.state(mode)
        if state is None:
            continue
        r = len(risk_ids)
        risk_ids.append(risk.id)
        risk_p.append(state.probability)
        impact = state.schedule_impact
        risk_dists.append(impact.dist if impact is not None else Fixed(0.0))
        risk_pct.append(1.0 if impact is not None and impact.pct else 0.0)
        for t in risk.tasks:
            task_risks[pos[t]].append(r)
    risk_code, risk_par = _dist_rows(risk_dists, tables, nonnegative=False)
    task_risk_ptr, task_risk_idx = _csr(task_risks)

    driver_ids, drv_p, drv_dists = [], [], []
    task_drvs: list[list] = [[] for _ in range(n)]
    for d, driver in enumerate(project.drivers.values()):
        driver_ids.append(driver.id)
        drv_p.append(driver.probability)
        drv_dists.append(driver.factor)
        for t in driver.tasks:
            task_drvs[pos[t]].append(d)
    drv_code, drv_par = _dist_rows(drv_dists, tables, nonnegative=True)
    task_drv_ptr, task_drv_idx = _csr(task_drvs)

    members, factors, compiled_corr = [], [], []
    for corr in project.correlations:
        target = corr.matrix
        repaired = stats.round_to_grid(stats.nearest_correlation(target))
        changed = np.abs(repaired - target) > 1e-12
        if np.any(changed) and not corr.repair:
            raise ModelError(
                f"the correlation matrix of {list(corr.tasks)} is not positive semi-definite; "
                "fix it, or allow pmosim to repair it to the nearest valid matrix")
        pearson = stats.round_to_grid(stats.nearest_correlation(stats.spearman_to_pearson(repaired)))
        compiled_corr.append(CompiledCorrelation(
            corr.tasks, target, np.clip(stats.pearson_to_spearman(pearson), -1, 1)))
        members.append([node_index[t] for t in corr.tasks])
        factors.append(stats.cholesky(pearson).ravel())
    corr_ptr, corr_var = _csr(members)
    corr_lptr, _ = _csr(factors)
    corr_l = np.concatenate(factors) if factors else np.zeros(0)
    normal_off = tables.add(("normal",), normal_table) if members else -1

    return {
        "kernel": dict(
            exist_on=bool(n_ex or project.branches or np.any(cond_task >= 0)),
            ex_p=ex_p, ex_var=ex_var, n_ex_vars=n_ex, br_of=br_of, br_opt=br_opt,
            br_ptr=br_ptr, br_cum=br_cum, cond_task=cond_task, cond_kind=cond_kind,
            cond_value=cond_value,
            risk_p=np.array(risk_p, dtype=np.float64), risk_code=risk_code, risk_par=risk_par,
            risk_pct=np.array(risk_pct, dtype=np.float64),
            risk_var=np.arange(len(risk_ids), dtype=np.int64),
            risk_scale=_power_of_two_scale(risk_dists),
            task_risk_ptr=task_risk_ptr, task_risk_idx=task_risk_idx,
            drv_p=np.array(drv_p, dtype=np.float64), drv_code=drv_code, drv_par=drv_par,
            drv_scale=_power_of_two_scale(drv_dists),
            task_drv_ptr=task_drv_ptr, task_drv_idx=task_drv_idx,
            corr_ptr=corr_ptr, corr_var=corr_var, corr_lptr=corr_lptr, corr_l=corr_l,
            corr_pos=np.array([position[v] for v in corr_var], dtype=np.int64),
            normal_off=int(normal_off),
        ),
        "risk_ids": risk_ids,
        "driver_ids": driver_ids,
        "correlations": compiled_corr,
    }


def _costs(project, task_ids, position, order, tables, mode, planned) -> dict:
    """Kernel arrays of task costs, risk cost impacts and the project cost rate.

    ``planned_task_cost`` (by position) is each task's planned cost: its planned
    duration and each cost distribution's mode (mean where it has none). Which
    tasks are on the plan, and the project cost rate times the deterministic
    finish, are left to the engine (see ``engine._planned_cost``); risk events are
    never in the plan.
    """
    graph = project.graph
    node_index = {t: i for i, t in enumerate(task_ids)}
    fixed, rate = [], []
    planned_task_cost = np.zeros(len(order))
    for t in task_ids:          # node order: the cost draws are keyed by it
        cf, cr = task_costs(t, graph.nodes[t])
        p = int(position[node_index[t]])
        if cf is not None:
            fixed.append((p, cf))
            planned_task_cost[p] += _typical(cf)
        if cr is not None:
            rate.append((p, cr))
            planned_task_cost[p] += _typical(cr) * planned[p]
    rcost, risk_tasks = [], []
    for risk in project.risks.values():
        state = risk.state(mode)
        if state is None:
            continue
        rcost.append(state.cost_impact if state.cost_impact is not None else Fixed(0.0))
        risk_tasks.append([int(position[node_index[t]]) for t in risk.tasks])
    pc = project_cost_rate(project)
    cfix_code, cfix_par = _dist_rows([d for _, d in fixed], tables, nonnegative=True)
    crate_code, crate_par = _dist_rows([d for _, d in rate], tables, nonnegative=True)
    rcost_code, rcost_par = _dist_rows(rcost, tables, nonnegative=False)
    pcost_code, pcost_par = _dist_rows([pc] if pc is not None else [], tables, nonnegative=True)
    # the kernel visits only the tasks with a cost, each once, with its rows gathered
    fix_row = {p: j for j, (p, _) in enumerate(fixed)}
    rate_row = {p: j for j, (p, _) in enumerate(rate)}
    task_risks = {}
    for r, (d, tasks) in enumerate(zip(rcost, risk_tasks)):
        if isinstance(d, Fixed) and d.value == 0:
            continue        # adds nothing; skipping it spares the kernel a loop
        for p in tasks:
            task_risks.setdefault(p, []).append((r, 1.0 / len(tasks)))
    cost_pos = sorted(set(fix_row) | set(rate_row) | set(task_risks))
    risk_lists = [task_risks.get(p, []) for p in cost_pos]
    cost_risk_ptr, cost_risk_idx = _csr([[r for r, _ in x] for x in risk_lists])
    cost_on = bool(fixed or rate or pc is not None
                   or any(not isinstance(d, Fixed) or d.value != 0 for d in rcost))
    return dict(
        cost_on=cost_on, cfix_code=cfix_code, cfix_par=cfix_par, crate_code=crate_code,
        crate_par=crate_par, rcost_code=rcost_code, rcost_par=rcost_par,
        cost_pos=np.array(cost_pos, dtype=np.int64),
        cost_fix=np.array([fix_row.get(p, -1) for p in cost_pos], dtype=np.int64),
        cost_rate=np.array([rate_row.get(p, -1) for p in cost_pos], dtype=np.int64),
        cost_risk_ptr=cost_risk_ptr, cost_risk_idx=cost_risk_idx,
        cost_risk_share=np.array([sh for x in risk_lists for _, sh in x], dtype=np.float64),
        pcost_code=pcost_code, pcost_par=pcost_par,
        planned_task_cost=planned_task_cost,
    )


def _typical(dist) -> float:
    return float(dist.mode if dist.mode is not None else dist.mean)


def _corr_flags(project, node_index, n) -> np.ndarray:
    flags = np.zeros(n, dtype=np.int64)
    for corr in project.correlations:
        for t in corr.tasks:
            flags[node_index[t]] = 1
    return flags


def _dates(project, task_ids, order) -> dict:
    """Release dates and fixed actual dates by position (see model.task_dates)."""
    n = len(order)
    release = np.zeros(n)
    fixed_start = np.full(n, np.nan)
    fixed_dur = np.zeros(n)
    for p, i in enumerate(order):
        t = task_ids[i]
        rel, fs, ff = task_dates(t, project.graph.nodes[t])
        release[p] = rel
        if fs is not None:
            fixed_start[p] = fs
            fixed_dur[p] = ff - fs
    return dict(release=release, fixed_on=bool(np.any(~np.isnan(fixed_start))),
                fixed_start=fixed_start, fixed_dur=fixed_dur)


# -- working calendars (wall-clock mode) --------------------------------------------------

#: Start constraints (a start bound) and finish constraints (a finish bound) of imports.
_START_CONSTRAINTS = ("SNET", "SO", "MSO")
_FINISH_CONSTRAINTS = ("FNET", "FO", "MFO")
#: Constraints that bound a task's late start and late finish (the backward pass of
#: :func:`pmosim.cpm`), as P6 and MS Project apply them; mandatory ones set the late date.
_LATE_START_CONSTRAINTS = ("SNLT", "SO", "MSO")
_LATE_FINISH_CONSTRAINTS = ("FNLT", "FO", "MFO")


def has_calendars(project: Project) -> bool:
    """Whether ``project`` has working calendars the wall-clock mode can use: the
    ``meta["calendars"]``, ``["axis_calendar"]`` and ``["data_date"]`` of an import."""
    meta = project.meta
    return bool(meta.get("calendars") and meta.get("axis_calendar") is not None
                and meta.get("data_date") is not None)


def uses_calendars(project: Project) -> bool:
    """Whether ``project`` needs the wall-clock (multi-calendar) kernel.

    True for a project with working calendars (``meta["calendars"]``, as the MSPDI
    and XER importers set, with ``meta["axis_calendar"]`` and ``meta["data_date"]``)
    when something cannot be put on the single working-day axis of the axis
    calendar: a task or lag on another calendar, an elapsed duration or lag, a
    finish or as-late-as-possible constraint, or a resume date. Every other
    project keeps the single-axis kernel.
    """
    if not has_calendars(project):
        return False
    meta = project.meta
    axis = meta["axis_calendar"]
    graph = project.graph
    for _, d in graph.nodes(data=True):
        cons = d.get("constraint")
        if ((d.get("calendar") or axis) != axis or d.get("elapsed_hours") is not None
                or d.get("resume") is not None
                or (cons and cons[0] in (*_FINISH_CONSTRAINTS, "ALAP"))):
            return True
    for u, _, e in graph.edges(data=True):
        lcal = e.get("lag_calendar") or graph.nodes[u].get("calendar") or axis
        if lcal != axis or e.get("lag_elapsed_hours") is not None:
            return True
    return False


def _monday(day: _dt.date) -> _dt.date:
    return day - _dt.timedelta(days=day.weekday())


def _calendar_table(key, cal: dict, origin: _dt.datetime, first: _dt.date, last: _dt.date):
    """Working intervals of one calendar between two Mondays, and its weekly pattern.

    Returns (starts, ends, cum_start, cum_end, week_starts, week_ends, week_cum_start,
    week_cum_end, t0, t1): elapsed hours from ``origin``; working hours from
    ``origin`` (so that working hour 0 is the origin); ``t0``/``t1`` the first
    Monday 00:00 and the Monday 00:00 after the table. The weekly pattern (hours
    from Monday 00:00) continues the table on both sides: no exception lies outside.
    """
    week = {d: sorted(iv for iv in cal["week"].get(d, []) if iv[1] > iv[0]) for d in range(7)}
    exceptions = cal.get("exceptions") or {}
    ws, we = [], []
    for d in range(7):
        for a, b in week[d]:
            ws.append(24.0 * d + a)
            we.append(24.0 * d + b)
    week_hours = sum(b - a for a, b in zip(ws, we))
    if week_hours <= 0:
        raise ModelError(
            f"calendar {key!r} has no working time in its weekly pattern; pmosim extends "
            "calendars beyond their exceptions with the weekly pattern, so it needs some "
            "working day in the week: fix the calendar in the scheduling tool")
    t0 = (_dt.datetime.combine(first, _dt.time()) - origin).total_seconds() / 3600
    n_days = (last - first).days
    starts, ends = [], []
    day = first
    for k in range(n_days):
        iv = exceptions.get(day)
        for a, b in (week[day.weekday()] if iv is None else sorted(iv)):
            if b > a:
                starts.append(t0 + 24.0 * k + a)
                ends.append(t0 + 24.0 * k + b)
        day += _dt.timedelta(days=1)
    if not starts:     # a table of holidays only: one empty interval keeps the layout
        starts, ends = [t0], [t0]
    s, e = np.array(starts), np.array(ends)
    cum = np.concatenate([[0.0], np.cumsum(e - s)])
    i = np.searchsorted(s, 0.0, side="right") - 1     # working hours before the origin
    zero = cum[0] if i < 0 else cum[i] + min(0.0, e[i]) - s[i]
    cs = cum[:-1] - zero
    ce = cum[1:] - zero
    wcum = np.concatenate([[0.0], np.cumsum(np.array(we) - np.array(ws))])
    return (s, e, cs, ce, np.array(ws), np.array(we), wcum[:-1], wcum[1:], t0,
            t0 + 24.0 * n_days)


def _hours(origin, moment) -> float:
    return (moment - origin).total_seconds() / 3600


def _wallclock(project: Project, task_ids, order, position, preds_flat, planned
               ) -> Calendars:
    """Kernel arrays of the wall-clock mode (see kernels.worktime).

    ``preds_flat`` holds the links in CSR order as (pred position, type, lag, row,
    (u, v)).
    """
    n, m = len(order), len(preds_flat)
    meta = project.meta
    graph = project.graph
    origin = meta["data_date"]
    axis = meta["axis_calendar"]
    calendars = meta["calendars"]
    lag_from_actual_start = meta.get("ss_lag_from_actual_start", True)
    in_progress_actual = meta.get("in_progress_start", "remaining") == "actual"
    beats = meta.get("constraint_beats_start", False)

    def task_cal(t):
        return graph.nodes[t].get("calendar") or axis

    keys = [axis]
    for t in task_ids:
        if task_cal(t) not in keys:
            keys.append(task_cal(t))
    link_cal = []
    for *_, (u, v) in preds_flat:
        key = graph.edges[u, v].get("lag_calendar") or task_cal(u)
        link_cal.append(key)
        if key not in keys:
            keys.append(key)
    for key in keys:
        if key not in calendars:
            raise ModelError(f"calendar {key!r} is used by a task or link but is not in "
                             f"the project's calendars ({', '.join(map(str, calendars))})")
    cal_index = {k: i for i, k in enumerate(keys)}

    # the tables span every date of the project and every later exception (within a
    # century of the data date); the weekly pattern continues them exactly after that,
    # and before it (two weeks before the earliest date, as schedule_dates in
    # tests/reference_worktime.py) up to exceptions no scheduled time reaches
    dates = [origin]
    for _, d in graph.nodes(data=True):
        dates += [x for x in (d.get("actual_start"), d.get("actual_finish"), d.get("resume"),
                              (d.get("constraint") or (None, None))[1]) if x]
    lo_day, hi_day = min(dates).date(), max(dates).date()
    century = _dt.timedelta(days=36525)
    for key in keys:
        for day in calendars[key].get("exceptions") or {}:
            if hi_day < day <= origin.date() + century:
                hi_day = day
    first = _monday(lo_day - _dt.timedelta(days=14))
    last = _monday(hi_day + _dt.timedelta(days=21))
    tables = [_calendar_table(k, calendars[k], origin, first, last) for k in keys]
    flat = pack_calendars(tables)
    # a status update (evm.apply_status) gives its dates in working days of the axis
    # calendar: completed tasks' fixed_start/fixed_finish, and the status date, before
    # which nothing starts
    from .kernels.worktime import finish_at, start_at
    axis_hpd = float(calendars[axis]["hours_per_day"])
    status_time = (meta.get("status_applied") or {}).get("time")
    status_h = -np.inf if status_time is None else start_at(flat, 0, status_time * axis_hpd)

    tcal = np.zeros(n, dtype=np.int64)
    lo_start = np.zeros(n)
    lo_finish = np.full(n, -np.inf)
    hi_start = np.full(n, np.inf)
    hi_finish = np.full(n, np.inf)
    hi_fixed = np.zeros(n, dtype=np.bool_)
    kind = np.zeros(n, dtype=np.int64)
    el_scale = np.full(n, np.nan)
    fix_es = np.full(n, np.nan)
    fix_ef = np.full(n, np.nan)
    rep_start = np.full(n, np.nan)
    alap = []
    for p, i in enumerate(order):
        t = task_ids[i]
        d = graph.nodes[t]
        tcal[p] = cal_index[task_cal(t)]
        if d.get("status") == "complete" and d.get("actual_finish") is not None:
            fix_ef[p] = _hours(origin, d["actual_finish"])
            fix_es[p] = _hours(origin, d.get("actual_start") or d["actual_finish"])
            continue
        _, fs, ff = task_dates(t, d)
        if fs is not None:
            # finished in a status update (an import's own completed tasks are above)
            fix_es[p] = start_at(flat, 0, fs * axis_hpd)
            fix_ef[p] = max(fix_es[p], finish_at(flat, 0, ff * axis_hpd))
            continue
        cons = d.get("constraint")
        if cons and cons[1] is not None:
            if cons[0] in _LATE_START_CONSTRAINTS:
                hi_start[p] = _hours(origin, cons[1])
            elif cons[0] in _LATE_FINISH_CONSTRAINTS:
                hi_finish[p] = _hours(origin, cons[1])
            hi_fixed[p] = cons[0] in ("MSO", "MFO")
        if d.get("deadline") is not None:
            hi_finish[p] = min(hi_finish[p], _hours(origin, d["deadline"]))
        start_cons = bool(cons and cons[1] is not None and cons[0] in _START_CONSTRAINTS)
        if beats and start_cons:
            lo_start[p] = -np.inf
        lo_start[p] = max(lo_start[p], status_h)
        if d.get("resume") is not None:
            lo_start[p] = max(lo_start[p], _hours(origin, d["resume"]))
        if start_cons:
            lo_start[p] = max(lo_start[p], _hours(origin, cons[1]))
        elif cons and cons[1] is not None and cons[0] in _FINISH_CONSTRAINTS:
            lo_finish[p] = _hours(origin, cons[1])
        if cons and cons[0] == "ALAP":
            alap.append(p)
        kind[p] = {"connector": KIND_CONNECTOR,
                   "finish milestone": KIND_FINISH_MILESTONE}.get(d.get("kind"), KIND_TASK)
        if d.get("elapsed_hours") is not None:
            el_scale[p] = d["elapsed_hours"] / planned[p] if planned[p] > 0 else 0.0
        if (in_progress_actual and d.get("status") == "in progress" and d.get("actual_start")
                and kind[p] == KIND_TASK and np.isnan(el_scale[p])):
            rep_start[p] = _hours(origin, d["actual_start"])

    lag_cal = np.array([cal_index[k] for k in link_cal], dtype=np.int64)
    lag_el = np.full(m, np.nan)
    link_base = np.full(m, np.nan)
    succ = [[] for _ in range(n)]
    for k, (q, kind_k, _, _, (u, v)) in enumerate(preds_flat):
        e = graph.edges[u, v]
        lag_days = _typical(link_lag(u, v, e))
        if e.get("lag_elapsed_hours") is not None and lag_days != 0:
            # elapsed hours per working day of lag, so that a sampled lag scales them
            lag_el[k] = e["lag_elapsed_hours"] / lag_days
        started = graph.nodes[u].get("actual_start")
        if kind_k in (LINK_CODES["SS"], LINK_CODES["SF"]) and lag_from_actual_start and started:
            link_base[k] = _hours(origin, started)
        succ[q].append(k)
    succ_ptr, succ_link = _csr(succ)
    return Calendars(
        task_cal=tcal, lag_cal=lag_cal, axis_cal=0,
        cal_hpd=np.array([float(calendars[k]["hours_per_day"]) for k in keys]),
        cal_flat=flat,
        lo_start=lo_start, lo_finish=lo_finish, hi_start=hi_start, hi_finish=hi_finish,
        hi_fixed=hi_fixed, task_kind=kind, el_scale=el_scale,
        fix_es=fix_es, fix_ef=fix_ef, rep_start=rep_start,
        alap_pos=np.array(sorted(alap, reverse=True), dtype=np.int64),
        lag_el=lag_el, link_base=link_base, succ_ptr=succ_ptr, succ_link=succ_link,
    )


def pack_calendars(tables) -> np.ndarray:
    """The calendar tables in the one array the kernels read (``Calendars.cal_flat``;
    layout in :mod:`pmosim.kernels.worktime`): header, interval records, weekly
    records, search buckets. Calendar ``c``'s ``n`` intervals are cut into ``n`` equal
    buckets of its elapsed range and ``n`` of its working hours; each bucket holds the
    position of the first interval that starts after the bucket starts and of the
    first whose working hours at its end pass the bucket's start."""
    from .kernels.worktime import (
        M_HI, M_IX, M_LO, M_N, M_PEL, M_PWK, M_T0, M_T1, M_WHI, M_WLO, META, REC,
    )
    n_cal = len(tables)
    n_iv = sum(t[0].size for t in tables)
    n_wk = sum(t[4].size for t in tables)
    iv0 = n_cal * META
    wk0 = iv0 + REC * n_iv
    ix0 = wk0 + REC * n_wk
    flat = np.zeros(ix0 + 2 * n_iv)
    iv, wk = iv0, wk0
    for c, (s, e, cs, ce, ws, we, wcs, wce, t0, t1) in enumerate(tables):
        n, nw = s.size, ws.size
        span = ce[-1] - cs[0]
        p_el = n / (t1 - t0)
        p_wk = n / span if span > 0 else 0.0
        h = c * META
        flat[h + M_LO], flat[h + M_HI] = iv, iv + REC * n
        flat[h + M_WLO], flat[h + M_WHI] = wk, wk + REC * nw
        flat[h + M_T0], flat[h + M_T1] = t0, t1
        flat[h + M_PEL], flat[h + M_PWK] = p_el, p_wk
        flat[h + M_IX], flat[h + M_N] = ix0 + 2 * (iv - iv0) // REC, n
        flat[iv:iv + REC * n] = np.column_stack([s, e, cs, ce]).ravel()
        flat[wk:wk + REC * nw] = np.column_stack([ws, we, wcs, wce]).ravel()
        b = np.arange(n)
        bix = ix0 + 2 * (iv - iv0) // REC
        flat[bix:bix + 2 * n:2] = iv + REC * np.searchsorted(s, t0 + b / p_el, side="right")
        flat[bix + 1:bix + 2 * n:2] = iv + REC * (
            np.searchsorted(ce, cs[0] + b / p_wk, side="right") if p_wk > 0 else 0 * b)
        iv += REC * n
        wk += REC * nw
    return flat


def _no_wallclock() -> Calendars:
    f0, i0 = np.zeros(0), np.zeros(0, dtype=np.int64)
    return Calendars(
        task_cal=i0, lag_cal=i0, axis_cal=0, cal_hpd=f0, cal_flat=f0,
        lo_start=f0, lo_finish=f0, hi_start=f0, hi_finish=f0,
        hi_fixed=np.zeros(0, dtype=np.bool_), task_kind=i0, el_scale=f0, fix_es=f0, fix_ef=f0, rep_start=f0, alap_pos=i0,
        lag_el=f0, link_base=f0, succ_ptr=i0, succ_link=i0,
    )


def _condition_times(cal: Calendars, values: np.ndarray) -> np.ndarray:
    """Condition thresholds in working days of the axis calendar -> elapsed hours.

    A finish ``x`` (elapsed) is after ``v`` working days when the axis calendar has
    more than ``v * hours_per_day`` working hours done at ``x``: when ``x`` is after
    the moment that work starts again (kernels.worktime.start_at, called here).
    """
    from .kernels.worktime import start_at
    c = cal.axis_cal
    hpd = cal.cal_hpd[c]
    return np.array([start_at(cal.cal_flat, c, float(v) * hpd) for v in values],
                    dtype=np.float64).reshape(np.shape(values))


# -- resource levelling ----------------------------------------------------------------

def check_levelling(levelling, priority) -> str | None:
    """Validate the ``levelling`` and ``priority`` arguments; the scheme or None."""
    if levelling is None or levelling is False or levelling == "none":
        return None
    if levelling is True:
        levelling = "serial"
    if levelling not in LEVELLING_SCHEMES:
        raise ModelError(f"levelling must be one of {', '.join(LEVELLING_SCHEMES)} or None, "
                         f"got {levelling!r}")
    if priority not in PRIORITY_RULES:
        raise ModelError(f"priority must be one of {', '.join(PRIORITY_RULES)}, got "
                         f"{priority!r}")
    return levelling


def priority_keys(project: Project, compiled: CompiledModel, det, rule: str) -> np.ndarray:
    """The priority key of each position (smaller is scheduled first; ties go to the
    task earlier in the plan's node order).

    ``det`` is the unlevelled deterministic schedule ``(es, ef, lf, finish)`` by
    position. Rules: ``lft`` latest finish, ``lst`` latest start, ``mslk`` minimum
    slack (total float), ``mts`` most total successors (over all links), ``grpw``
    greatest rank positional weight (own planned duration plus those of the immediate
    successors), ``spt`` shortest planned duration, ``order`` the plan's own order,
    ``priority`` the task attribute ``priority`` (higher first; 500, MS Project's
    default, when missing).
    """
    es, _, lf, _ = det
    k = compiled.kernel.links
    n = compiled.n_tasks
    dur = np.where(np.isnan(k.fixed_start), compiled.planned, k.fixed_dur)
    ls = lf - dur
    if rule == "lft":
        return lf.copy()
    if rule == "lst":
        return ls
    if rule == "mslk":
        return ls - es
    if rule == "spt":
        return dur.copy()
    graph = project.graph
    topo = compiled.topo
    position = np.empty(n, dtype=np.int64)
    position[topo] = np.arange(n)
    node_index = {t: i for i, t in enumerate(compiled.task_ids)}
    if rule == "order":
        return topo.astype(np.float64)
    if rule == "priority":
        out = np.empty(n)
        for p in range(n):
            t = compiled.task_ids[topo[p]]
            value = graph.nodes[t].get("priority", DEFAULT_PRIORITY)
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise ModelError(f"task {t!r}: priority must be a number (higher levels "
                                 f"first), got {value!r}") from None
            if not np.isfinite(x):
                raise ModelError(f"task {t!r}: priority must be finite, got {value!r}")
            out[p] = -x
        return out
    if rule not in ("grpw", "mts"):
        raise ModelError(f"priority_keys: no key for rule {rule!r} (the rule 'plan' is a "
                         "search: see engine._with_levelling)")
    succ = [[position[node_index[v]] for v in graph.successors(compiled.task_ids[topo[p]])]
            for p in range(n)]
    if rule == "grpw":
        return -np.array([dur[p] + sum(dur[q] for q in succ[p]) for p in range(n)])
    # mts: transitive successors, as bit sets built in reverse topological order
    below = [0] * n
    for p in range(n - 1, -1, -1):
        mask = 0
        for q in succ[p]:
            mask |= below[q] | (1 << q)
        below[p] = mask
    return -np.array([b.bit_count() for b in below], dtype=np.float64)


def priority_list(compiled: CompiledModel, keys: np.ndarray) -> np.ndarray:
    """Positions in priority order: repeatedly the eligible task (every predecessor
    listed) with the smallest ``(key, node index)``."""
    import heapq

    links = compiled.kernel.links
    n = compiled.n_tasks
    topo = compiled.topo
    waiting = np.diff(links.pred_ptr).astype(np.int64)
    succs: list[list[int]] = [[] for _ in range(n)]
    for p in range(n):
        for k in range(links.pred_ptr[p], links.pred_ptr[p + 1]):
            succs[int(links.pred_idx[k])].append(p)
    heap = [(float(keys[p]), int(topo[p]), p) for p in range(n) if waiting[p] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, _, p = heapq.heappop(heap)
        order.append(p)
        for q in succs[p]:
            waiting[q] -= 1
            if waiting[q] == 0:
                heapq.heappush(heap, (float(keys[q]), int(topo[q]), q))
    return np.asarray(order, dtype=np.int64)


def compile_levelling(project: Project, compiled: CompiledModel, det, rule: str) -> Levelling:
    """The :class:`~pmosim.layout.Levelling` struct of ``project``: resources in the
    order they were added, demands by position, the priority list of ``rule`` from
    the unlevelled deterministic schedule ``det``."""
    if compiled.kernel.cal_on:
        raise ModelError(
            "resource levelling works on the working-day axis; this project has working "
            "calendars per task or lag (an imported MS Project/P6 schedule), which are not "
            "levelled yet: run without levelling, or import with one calendar")
    n = compiled.n_tasks
    res_ids = list(project.resources)
    res_index = {r: i for i, r in enumerate(res_ids)}
    n_res = len(res_ids)
    topo = compiled.topo
    dem_ptr = np.zeros(n + 1, dtype=np.int64)
    dem_res, dem_amt = [], []
    users: list[list[int]] = [[] for _ in range(n_res)]
    for p in range(n):
        t = compiled.task_ids[topo[p]]
        demands = task_demands(t, project.graph.nodes[t], project.resources)
        for rid in sorted(demands, key=res_index.__getitem__):
            dem_res.append(res_index[rid])
            dem_amt.append(demands[rid])
            users[res_index[rid]].append(p)
        dem_ptr[p + 1] = len(dem_res)
    use_ptr, use_pos = _csr(users)
    times = sorted({t for r in project.resources.values() for t, _ in r.changes})
    cap_t = np.array([-np.inf, *times])
    cap_free = np.empty((cap_t.shape[0], n_res))
    top = np.ones(n_res)
    for j, rid in enumerate(res_ids):
        steps = project.resources[rid].steps()
        c = 0
        for i, t in enumerate(cap_t):
            while c + 1 < len(steps) and steps[c + 1][0] <= t:
                c += 1
            cap_free[i, j] = steps[c][1]
        largest = max(cap for _, cap in steps)
        if largest > 0:
            top[j] = largest
    order = priority_list(compiled, priority_keys(project, compiled, det, rule))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    dem_res = np.asarray(dem_res, dtype=np.int64)
    dem_amt = np.asarray(dem_amt, dtype=np.float64)
    eps = CAPACITY_RTOL * top
    return Levelling(
        order=order, rank=rank, dem_ptr=dem_ptr, dem_res=dem_res, dem_amt=dem_amt,
        dem_need=dem_amt - eps[dem_res], use_ptr=use_ptr, use_pos=use_pos,
        cap_t=cap_t, cap_free=cap_free, cap_eps=eps,
        # full use lands in the overflow column, bounded by the exact peak
        cap_top=top,
        cap_final=np.array([project.resources[r].final_capacity for r in res_ids]))

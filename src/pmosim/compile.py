"""Compile a :class:`~pmosim.model.Project` into flat arrays for the kernels.

numpy and networkx only, never numba: compiling is validation plus array building,
done once per run. Tasks are renumbered by position in topological order; the
random-number variable of a task stays its index in the graph's node order, so a
task's draws do not depend on how the topological sort happens to order it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
import numpy as np

from . import stats
from .distributions import N_KERNEL_PARAMS, Distribution, Fixed, TableStore, normal_table
from .errors import ModelError
from .model import (
    CONDITION_KINDS, LINK_CODES, RISK_MODES, Project, _probability, link_lag, link_type,
    planned_duration, project_cost_rate, task_costs, task_dates, task_duration,
)


class KernelModel(NamedTuple):
    """The arrays the kernels read (see pmosim.kernels.schedule for the layout)."""

    dur_code: np.ndarray      # int64[n]       distribution code per position
    dur_par: np.ndarray       # float64[n, 5]  distribution parameters
    dur_var: np.ndarray       # int64[n]       random variable (row of the uniforms)
    n_dur_vars: int
    var_pos: np.ndarray       # int64[n]       position of each duration variable
    var_corr: np.ndarray      # int64[n]       1 when the variable is in a correlation group
    release: np.ndarray       # float64[n]     earliest start (start-no-earlier-than), default 0
    fixed_on: bool            # any task has fixed (actual) dates
    fixed_start: np.ndarray   # float64[n]     NaN, or the actual start of a completed task
    fixed_dur: np.ndarray     # float64[n]     its actual duration (finish - start)
    pred_ptr: np.ndarray      # int64[n + 1]   CSR of predecessors
    pred_idx: np.ndarray      # int64[m]       predecessor position
    pred_type: np.ndarray     # int64[m]       0 FS, 1 SS, 2 FF, 3 SF
    pred_lag: np.ndarray      # float64[m]     constant lag
    pred_lagvar: np.ndarray   # int64[m]       -1, or the row of a sampled lag
    lag_code: np.ndarray      # int64[r]
    lag_par: np.ndarray       # float64[r, 5]
    lag_var: np.ndarray       # int64[r]
    n_lag_vars: int
    tables: np.ndarray        # float64[:]     quantile and discrete tables
    start_shift: np.ndarray   # float64[n]     subtracted before summing moments
    finish_shift: np.ndarray  # float64[n]
    mom_scale: np.ndarray     # float64[n]     power of two applied before summing moments
    hist_lo: np.ndarray       # float64[n]     finish histogram: lower edge
    hist_scale: np.ndarray    # float64[n]     finish histogram: bins per time unit
    # existence: probabilistic tasks, branches, conditions (all by position)
    exist_on: bool            # any of the below is used
    ex_p: np.ndarray          # float64[n]     existence probability
    ex_var: np.ndarray        # int64[n]       -1, or the row of its existence uniform
    n_ex_vars: int
    br_of: np.ndarray         # int64[n]       -1, or the branch the task is in
    br_opt: np.ndarray        # int64[n]       its option in that branch
    br_ptr: np.ndarray        # int64[B + 1]   CSR of the branches' cumulative probabilities
    br_cum: np.ndarray        # float64[:]
    cond_task: np.ndarray     # int64[n]       -1, or the position the condition is on
    cond_kind: np.ndarray     # int64[n]       model.CONDITION_KINDS
    cond_value: np.ndarray    # float64[n]
    # risk events (the register, in the mode compiled) and risk drivers
    risk_p: np.ndarray        # float64[R]     probability
    risk_code: np.ndarray     # int64[R]       schedule impact distribution
    risk_par: np.ndarray      # float64[R, 5]
    risk_pct: np.ndarray      # float64[R]     1: impact in percent of the sampled duration
    risk_var: np.ndarray      # int64[R]       row of its uniforms
    risk_scale: np.ndarray    # float64[R]     power of two for the exact impact sums
    task_risk_ptr: np.ndarray  # int64[n + 1]  CSR: the risks on each task
    task_risk_idx: np.ndarray  # int64[:]
    drv_p: np.ndarray         # float64[D]
    drv_code: np.ndarray      # int64[D]       factor distribution
    drv_par: np.ndarray       # float64[D, 5]
    drv_scale: np.ndarray     # float64[D]     power of two for the exact factor sums
    task_drv_ptr: np.ndarray  # int64[n + 1]   CSR: the drivers on each task
    task_drv_idx: np.ndarray  # int64[:]
    # correlation groups (Gaussian copula on the duration uniforms)
    corr_ptr: np.ndarray      # int64[G + 1]   CSR of the members' duration variables
    corr_var: np.ndarray      # int64[:]
    corr_lptr: np.ndarray     # int64[G + 1]   offsets of each group's k x k Cholesky factor
    corr_l: np.ndarray        # float64[:]
    corr_pos: np.ndarray      # int64[:]       positions of corr_var (to record samples)
    normal_off: int           # offset of the standard normal quantile table (-1: none)
    # cost (see cost_of_lanes in kernels.schedule)
    cost_on: bool
    cfix_code: np.ndarray     # int64[C1]      fixed costs (rows in node order of their tasks)
    cfix_par: np.ndarray      # float64[C1, 5]
    crate_code: np.ndarray    # int64[C2]      cost rates (rows in node order of their tasks)
    crate_par: np.ndarray     # float64[C2, 5]
    rcost_code: np.ndarray    # int64[R]       risk cost impact (Fixed 0 when none)
    rcost_par: np.ndarray     # float64[R, 5]
    cost_pos: np.ndarray      # int64[CT]      positions of the tasks with any cost, ascending
    cost_fix: np.ndarray      # int64[CT]      their fixed-cost row, or -1
    cost_rate: np.ndarray     # int64[CT]      their cost-rate row, or -1
    cost_risk_ptr: np.ndarray  # int64[CT + 1]  CSR: the risks with a cost impact on each,
    cost_risk_idx: np.ndarray  # int64[:]        ascending,
    cost_risk_share: np.ndarray  # float64[:]    and this task's share (1 / the risk's tasks)
    pcost_code: np.ndarray    # int64[0 or 1]  project cost rate
    pcost_par: np.ndarray     # float64[0 or 1, 5]
    cash_dt: float            # cash-flow period length (time units)
    cash_lo: float            # cash-flow histograms: lower edge of bin 1
    cash_scale: float         # cash-flow histograms: bins per currency unit


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


def compile_project(project: Project, risks: str = "pre") -> CompiledModel:
    """Validate ``project`` and build its :class:`CompiledModel`.

    ``risks`` selects the risk register: ``"pre"`` (before mitigation), ``"post"``
    (mitigated values where given) or ``"none"`` (risk events off; drivers stay).
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
            const, row = lag.value, -1
        else:
            const, row = 0.0, len(lag_dists)
            lag_dists.append(lag)
            lag_edges.append((u, v))
        preds[position[node_index[v]]].append((position[node_index[u]], kind, const, row))
    for p in range(n):
        preds[p].sort()
        pred_ptr[p + 1] = pred_ptr[p] + len(preds[p])
    flat = [link for plist in preds for link in plist]
    pred_idx = np.array([x[0] for x in flat], dtype=np.int64)
    pred_type = np.array([x[1] for x in flat], dtype=np.int64)
    pred_lag = np.array([x[2] for x in flat], dtype=np.float64)
    pred_lagvar = np.array([x[3] for x in flat], dtype=np.int64)

    r = len(lag_dists)
    lag_code = np.empty(r, dtype=np.int64)
    lag_par = np.zeros((r, N_KERNEL_PARAMS))
    planned_lags = np.empty(r)
    for k, dist in enumerate(lag_dists):
        lag_code[k], lag_par[k] = _params(dist, tables, nonnegative=False)
        planned_lags[k] = dist.mode if dist.mode is not None else dist.mean

    extra = _uncertainty(project, task_ids, node_index, position, order, tables, risks)
    extra["kernel"].update(_costs(project, task_ids, position, order, tables, risks, planned))
    extra["planned_task_cost"] = extra["kernel"].pop("planned_task_cost")
    pc = project_cost_rate(project)
    extra["planned_cost_rate"] = _typical(pc) if pc is not None else 0.0
    kernel = KernelModel(
        dur_code=dur_code, dur_par=dur_par, dur_var=np.asarray(order, dtype=np.int64),
        n_dur_vars=n, var_pos=position.copy(), var_corr=_corr_flags(project, node_index, n),
        **_dates(project, task_ids, order),
        pred_ptr=pred_ptr, pred_idx=pred_idx, pred_type=pred_type,
        pred_lag=pred_lag, pred_lagvar=pred_lagvar, lag_code=lag_code, lag_par=lag_par,
        lag_var=np.arange(r, dtype=np.int64), n_lag_vars=r,
        tables=tables.array(),
        start_shift=np.zeros(n), finish_shift=np.zeros(n), mom_scale=np.ones(n),
        hist_lo=np.zeros(n), hist_scale=np.ones(n), **extra.pop("kernel"),
    )
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
        pcost_code=pcost_code, pcost_par=pcost_par, cash_dt=1.0, cash_lo=0.0, cash_scale=1.0,
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

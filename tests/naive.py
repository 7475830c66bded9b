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

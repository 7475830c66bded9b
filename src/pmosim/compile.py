"""Compile a :class:`~pmosim.model.Project` into flat arrays for the kernels.

numpy and networkx only, never numba: compiling is validation plus array building,
done once per run. Tasks are renumbered by position in topological order; the
random-number variable of a task stays its index in the graph's node order, so a
task's draws do not depend on how the topological sort happens to order it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np

from .distributions import N_KERNEL_PARAMS, Distribution, Fixed, TableStore
from .model import LINK_CODES, Project, link_lag, link_type, planned_duration, task_duration


class KernelModel(NamedTuple):
    """The arrays the kernels read (see pmosim.kernels.schedule for the layout)."""

    dur_code: np.ndarray      # int64[n]       distribution code per position
    dur_par: np.ndarray       # float64[n, 5]  distribution parameters
    dur_var: np.ndarray       # int64[n]       random variable (row of the uniforms)
    n_dur_vars: int
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

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)


def _params(dist: Distribution, tables: TableStore, nonnegative: bool):
    code, *par = dist.kernel_params(tables, nonnegative=nonnegative)
    return code, par


def compile_project(project: Project) -> CompiledModel:
    """Validate ``project`` and build its :class:`CompiledModel`."""
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

    kernel = KernelModel(
        dur_code=dur_code, dur_par=dur_par, dur_var=np.asarray(order, dtype=np.int64),
        n_dur_vars=n, pred_ptr=pred_ptr, pred_idx=pred_idx, pred_type=pred_type,
        pred_lag=pred_lag, pred_lagvar=pred_lagvar, lag_code=lag_code, lag_par=lag_par,
        lag_var=np.arange(r, dtype=np.int64), n_lag_vars=r,
        tables=tables.array(),
        start_shift=np.zeros(n), finish_shift=np.zeros(n), mom_scale=np.ones(n),
        hist_lo=np.zeros(n), hist_scale=np.ones(n),
    )
    return CompiledModel(
        task_ids=task_ids, names=[str(graph.nodes[t].get("name", t)) for t in task_ids],
        topo=np.asarray(order, dtype=np.int64), kernel=kernel, planned=planned,
        planned_lags=planned_lags, durations=tuple(durations), lags=tuple(lag_dists),
        lag_edges=lag_edges,
    )

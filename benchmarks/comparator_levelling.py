"""A plain serial schedule generation scheme, to measure pmosim's levelled runs against.

The textbook method, written directly in numba and kept simple on purpose: the
resource profile of an iteration is a sorted array of breakpoints (``times[k]`` and
the units of each resource free from there to the next breakpoint); each task, in
the priority list's order, tries its precedence bound and then every later
breakpoint in turn until its window ``[t, t + d)`` fits, and inserting a breakpoint
shifts the rest of the array. It schedules what ``benchmarks/test_bench_levelling.py``
levels (PSPLIB instances: finish-to-start links, renewable resources of constant
capacity) and nothing more: no statistics beyond each iteration's finish.

Semantics are pmosim's: a task fits where ``free >= demand - eps`` for each resource
it demands over its window (``eps = CAPACITY_RTOL x capacity``), a task of zero
duration or without demands starts at its precedence bound, and the priority list is
pmosim's default (``lft``: smallest planned latest finish first among the tasks whose
predecessors are listed, ties in plan order). Given the same durations it gives the
same starts as pmosim, bit for bit; the benchmark checks that before timing.

>>> import pmosim
>>> p = pmosim.Project()
>>> p.add_resource("crane", capacity=1)
>>> p.add_task("a", 3, resources={"crane": 1})
>>> p.add_task("b", 2, resources={"crane": 1})
>>> plan = compile_plan(p)
>>> starts, finishes, finish = schedule(plan, np.array([[3.0, 2.0]]))
>>> starts.tolist(), finish.tolist()
([[0.0, 3.0]], [5.0])
"""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numba import njit

import pmosim
from pmosim.layout import CAPACITY_RTOL


class LevPlan(NamedTuple):
    """What the comparator needs of a project, by plan position (``task_ids`` order)."""

    task_ids: list
    order: np.ndarray       # int64[n]      the priority list
    pred_ptr: np.ndarray    # int64[n + 1]  finish-to-start predecessors, CSR
    pred_idx: np.ndarray    # int64[L]
    pred_lag: np.ndarray    # float64[L]
    need: np.ndarray        # float64[n, R] demand - eps; -inf where none
    amt: np.ndarray         # float64[n, R] demand; 0 where none
    demands: np.ndarray     # bool[n]       demands anything
    cap: np.ndarray         # float64[R]
    low: np.ndarray         # float64[n]    triangular durations (low == mode == high: fixed)
    mode: np.ndarray        # float64[n]
    high: np.ndarray        # float64[n]


def compile_plan(project) -> LevPlan:
    """The comparator's arrays for ``project`` (built once, outside any timing)."""
    ids = list(project.tasks)
    index = {t: i for i, t in enumerate(ids)}
    n = len(ids)
    res = list(project.resources)
    cap = np.empty(len(res))
    for r, rid in enumerate(res):
        spec = project.resources[rid]
        if len(spec.steps()) != 1:
            raise ValueError(f"resource {rid!r}: the comparator needs a constant capacity")
        cap[r] = spec.final_capacity
    need = np.full((n, len(res)), -np.inf)
    amt = np.zeros((n, len(res)))
    low, mode, high = np.empty(n), np.empty(n), np.empty(n)
    preds = [[] for _ in range(n)]
    for u, v, data in project.graph.edges(data=True):
        if data.get("type", "FS") != "FS":
            raise ValueError(f"link {u!r} -> {v!r}: the comparator takes finish-to-start links")
        preds[index[v]].append((index[u], float(data.get("lag", 0.0))))
    for i, t in enumerate(ids):
        node = project.graph.nodes[t]
        for rid, units in (node.get("resources") or {}).items():
            r = res.index(rid)
            amt[i, r] = units
            need[i, r] = units - CAPACITY_RTOL * cap[r]
        d = node["duration"]
        if isinstance(d, pmosim.Triangular):
            low[i], mode[i], high[i] = d.low, d.mode, d.high
        else:
            low[i] = mode[i] = high[i] = float(getattr(d, "value", d))
    pred_ptr = np.zeros(n + 1, dtype=np.int64)
    pred_ptr[1:] = np.cumsum([len(x) for x in preds])
    pred_idx = np.array([q for x in preds for q, _ in x], dtype=np.int64)
    pred_lag = np.array([lag for x in preds for _, lag in x], dtype=np.float64)
    return LevPlan(ids, _lft_order(project, ids, preds), pred_ptr, pred_idx, pred_lag, need,
                   amt, amt.sum(axis=1) > 0, cap, low, mode, high)


def _lft_order(project, ids, preds) -> np.ndarray:
    """pmosim's ``lft`` priority list: among the tasks whose predecessors are listed,
    the smallest planned latest finish (ties: plan order)."""
    late_finish = pmosim.cpm(project).late_finish
    n = len(ids)
    succs = [[] for _ in range(n)]
    waiting = [len(x) for x in preds]
    for j, x in enumerate(preds):
        for q, _ in x:
            succs[q].append(j)
    heap = [(float(late_finish[j]), j) for j in range(n) if waiting[j] == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, j = heapq.heappop(heap)
        order.append(j)
        for s in succs[j]:
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(heap, (float(late_finish[s]), s))
    return np.asarray(order, dtype=np.int64)


@njit(cache=True, nogil=True)
def _sgs(order, pred_ptr, pred_idx, pred_lag, need, amt, demands, cap, dur, times, free,
         es, ef):
    """One schedule: starts ``es``/finishes ``ef`` (float64[n]) of durations ``dur``;
    returns the finish. ``times`` (float64[2n + 3]) and ``free`` (float64[2n + 3, R])
    are scratch."""
    n_res = cap.shape[0]
    times[0] = 0.0
    times[1] = np.inf
    for r in range(n_res):
        free[0, r] = cap[r]
    m = 1                                   # breakpoints before the +inf sentinel
    finish = 0.0
    for p in order:
        t = 0.0
        for k in range(pred_ptr[p], pred_ptr[p + 1]):
            t = max(t, ef[pred_idx[k]] + pred_lag[k])
        d = dur[p]
        if d > 0.0 and demands[p]:
            i = 0
            while times[i + 1] <= t:
                i += 1
            while True:                     # candidates: t, then each later breakpoint
                end = t + d
                k = i
                fits = True
                while fits and times[k] < end:
                    for r in range(n_res):
                        if free[k, r] < need[p, r]:
                            fits = False
                    k += 1
                if fits:
                    break
                i += 1
                t = times[i]
            if times[i] < t:                # a breakpoint at the start
                for k in range(m, i, -1):
                    times[k + 1] = times[k]
                    for r in range(n_res):
                        free[k + 1, r] = free[k, r]
                i += 1
                times[i] = t
                for r in range(n_res):
                    free[i, r] = free[i - 1, r]
                m += 1
            k = i
            while times[k + 1] < t + d:     # the window is i .. k
                k += 1
            if times[k + 1] > t + d:        # a breakpoint at the finish
                for x in range(m, k, -1):
                    times[x + 1] = times[x]
                    for r in range(n_res):
                        free[x + 1, r] = free[x, r]
                times[k + 1] = t + d
                for r in range(n_res):
                    free[k + 1, r] = free[k, r]
                m += 1
            for x in range(i, k + 1):
                for r in range(n_res):
                    free[x, r] -= amt[p, r]
        es[p] = t
        ef[p] = t + d
        finish = max(finish, t + d)
    return finish


@njit(cache=True, nogil=True)
def _schedule_rows(order, pred_ptr, pred_idx, pred_lag, need, amt, demands, cap, durations,
                   starts, finishes, finish):
    n = durations.shape[1]
    times = np.empty(2 * n + 3)
    free = np.empty((2 * n + 3, cap.shape[0]))
    for it in range(durations.shape[0]):
        finish[it] = _sgs(order, pred_ptr, pred_idx, pred_lag, need, amt, demands, cap,
                          durations[it], times, free, starts[it], finishes[it])


@njit(cache=True, nogil=True)
def _simulate_rows(order, pred_ptr, pred_idx, pred_lag, need, amt, demands, cap, low, mode,
                   high, seed, finish):
    np.random.seed(seed)
    n = low.shape[0]
    times = np.empty(2 * n + 3)
    free = np.empty((2 * n + 3, cap.shape[0]))
    dur, es, ef = np.empty(n), np.empty(n), np.empty(n)
    for it in range(finish.shape[0]):
        for p in range(n):
            dur[p] = np.random.triangular(low[p], mode[p], high[p]) if high[p] > low[p] else low[p]
        finish[it] = _sgs(order, pred_ptr, pred_idx, pred_lag, need, amt, demands, cap, dur,
                          times, free, es, ef)


def _arrays(plan: LevPlan):
    return (plan.order, plan.pred_ptr, plan.pred_idx, plan.pred_lag, plan.need, plan.amt,
            plan.demands, plan.cap)


def schedule(plan: LevPlan, durations: np.ndarray):
    """Starts, finishes (float64[iterations, n], plan order) and each iteration's finish
    of the given durations (float64[iterations, n])."""
    durations = np.ascontiguousarray(durations, dtype=np.float64)
    starts, finishes = np.empty_like(durations), np.empty_like(durations)
    finish = np.empty(durations.shape[0])
    _schedule_rows(*_arrays(plan), durations, starts, finishes, finish)
    return starts, finishes, finish


def simulate(plan: LevPlan, iterations: int, seed: int = 0, threads: int = 2) -> np.ndarray:
    """Each iteration's finish: triangular durations sampled in numba (each thread its
    own seeded stream), then the schedule; ``threads`` threads, one slice each."""
    finish = np.empty(iterations)
    bounds = np.linspace(0, iterations, threads + 1).astype(int)
    args = _arrays(plan) + (plan.low, plan.mode, plan.high)

    def run(k):
        _simulate_rows(*args, seed * 1000 + k, finish[bounds[k]:bounds[k + 1]])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, range(threads)))
    return finish

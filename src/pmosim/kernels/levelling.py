"""Resource levelling in every iteration: a serial schedule generation scheme (SGS).

Each lane (iteration) is levelled on its own, with its sampled durations, after the
unlevelled forward pass (:func:`pmosim.kernels.passes.forward_pass`, which applies
risks, drivers and existence to the durations and gives the unlevelled dates the
delays are measured against). Tasks are taken in the fixed priority list
``lev.order`` (precedence-feasible, from the deterministic schedule: an
activity-based policy, so every iteration is reproducible on any backend). Each task
starts at the earliest time, not before its precedence bound, at which every
resource it demands has the units free for its whole duration.

The precedence bound is the forward pass's: ``max(0, release, each link's bound)``
with the link bounds computed from the *levelled* dates of the predecessors
(FS ``ef + lag``, SS ``es + lag``, FF ``ef + lag - d``, SF ``es + lag - d``). A lag
therefore keeps its meaning: it counts from the predecessor's levelled start or
finish, and a resource delay of the successor adds to it. Completed tasks (actual
dates) are placed first, where they happened, and hold their resources there.

The resource profile of a lane is a step function, ``evt`` / ``free`` (see
:class:`LevWork`): interval ``i`` runs from ``evt[i]`` to ``evt[i + 1]`` with
``free[i, r]`` units of resource ``r`` free; ``evt[m]`` is +inf.

Criticality in a levelled schedule (see :func:`mark_driving`): a task is critical
when it is on a *driving path* to the project finish. A task's driver is the
predecessor whose link bound set its start, or, for a task that resources delayed,
each task placed before it that released a resource it was short of exactly when it
started. The resources such a delay on the driving path waited for are *binding*
in the iteration.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from ..layout import FF, FS, SS
from . import CASH_PERIODS, JIT, LANES
from .accumulate import LSUM_ROWS, add_fixed, add_task_stats, count_in_bin
from .vector import vload, vselect_gt, vsplat


class LevWork(NamedTuple):
    """One thread's scratch arrays of the levelling stage.

    The resource profile of a lane is a doubly linked list of intervals in a pool of
    nodes: node ``i`` starts at ``evt[i]`` and ends where ``nxt[i]`` starts, with
    ``free[i, r]`` units of resource ``r`` free. Node 0 starts at -inf; node
    ``cap_t.shape[0]`` is the end sentinel (+inf). A split adds a node after the
    one it splits, so a node keeps its start for ever: ``hs[p]``/``hf[p]`` remember
    the nodes at task ``p``'s start and finish, and a successor's search starts
    from its driving predecessor's node instead of the head of the list (placing a
    task is then independent of the number of tasks; an array profile shifted on
    each insert was 6x slower on j120, measured with benchmarks/test_bench_levelling).
    """

    evt: np.ndarray       # float64[N]            node start (N = S + 2n + 2)
    nxt: np.ndarray       # int64[N]              next node (-1 after the sentinel)
    prv: np.ndarray       # int64[N]              previous node (-1 before node 0)
    free: np.ndarray      # float64[N, R]         free units while the node lasts
    hs: np.ndarray        # int64[n]              a node at (or near) each task's start
    hf: np.ndarray        # int64[n]              ... and finish
    t0: np.ndarray        # float64[n]            precedence bound of each task (one lane)
    short: np.ndarray     # uint8[K]              demand k was short just before the
                          #                       task's start (delayed tasks; one lane)
    mark: np.ndarray      # uint8[n]              on a driving path (one lane)
    stack: np.ndarray     # int64[n]
    crit: np.ndarray      # float64[n, LANES]     critical flags of the lanes
    ef0: np.ndarray       # float64[n, LANES]     unlevelled finishes
    use: np.ndarray       # float64[R, CASH_PERIODS] usage per period (one lane)
    peak: np.ndarray      # float64[R]            peak usage (one lane)
    bind: np.ndarray      # uint8[R]              resource binding in the lane
    pf0: np.ndarray       # float64[LANES]        unlevelled project finish


@njit(**JIT)
def make_lev_work(lev, n):
    """Allocate one thread's :class:`LevWork` for ``n`` tasks."""
    n_res = lev.cap_final.shape[0]
    size = lev.cap_t.shape[0] + 2 * n + 2
    return LevWork(np.empty(size), np.empty(size, dtype=np.int64),
                   np.empty(size, dtype=np.int64), np.empty((size, n_res)),
                   np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.empty(n),
                   np.zeros(lev.dem_res.shape[0], dtype=np.uint8), np.zeros(n, dtype=np.uint8),
                   np.empty(n, dtype=np.int64), np.zeros((n, LANES)), np.empty((n, LANES)),
                   np.zeros((n_res, CASH_PERIODS)), np.zeros(n_res),
                   np.zeros(n_res, dtype=np.uint8), np.zeros(LANES))


@njit(**JIT)
def _reset_profile(lev, lw):
    """The initial profile (capacities only); returns the number of nodes in use."""
    evt, nxt, prv, free = lw.evt, lw.nxt, lw.prv, lw.free
    n_init = lev.cap_t.shape[0]
    for i in range(n_init):
        evt[i] = lev.cap_t[i]
        nxt[i] = i + 1
        prv[i] = i - 1
        for r in range(free.shape[1]):
            free[i, r] = lev.cap_free[i, r]
    evt[n_init] = np.inf
    nxt[n_init] = -1
    prv[n_init] = n_init - 1
    return n_init + 1


@njit(**JIT)
def _locate(evt, nxt, prv, h, t):
    """The node ``i`` with ``evt[i] <= t < evt[nxt[i]]``, searched from node ``h``."""
    i = h
    while evt[i] > t:
        i = prv[i]
    while evt[nxt[i]] <= t:
        i = nxt[i]
    return i


@njit(**JIT)
def _split(lw, count, i, t):
    """Make ``t`` (inside node ``i``) a node start; returns (that node, nodes in use)."""
    evt, nxt, prv, free = lw.evt, lw.nxt, lw.prv, lw.free
    if evt[i] == t:
        return i, count
    k = count
    evt[k] = t
    for r in range(free.shape[1]):
        free[k, r] = free[i, r]
    j = nxt[i]
    nxt[k] = j
    prv[k] = i
    prv[j] = k
    nxt[i] = k
    return k, count + 1


@njit(**JIT)
def _place(lev, lw, count, first, p, s, f):
    """Take task ``p``'s demands over ``[s, f)`` (``s`` inside node ``first``); sets its
    nodes ``hs[p]``, ``hf[p]``; returns the nodes in use."""
    evt, nxt, free = lw.evt, lw.nxt, lw.free
    k0, k1 = lev.dem_ptr[p], lev.dem_ptr[p + 1]
    s_node, count = _split(lw, count, first, s)
    k = s_node
    while True:
        if evt[nxt[k]] > f:
            # f falls inside node k: it ends the task's last interval
            _, count = _split(lw, count, k, f)
        for d in range(k0, k1):
            free[k, lev.dem_res[d]] -= lev.dem_amt[d]
        k = nxt[k]
        if evt[k] >= f:
            break
    lw.hs[p] = s_node
    lw.hf[p] = k
    return count


@njit(**JIT)
def level_lane(lev, links, dur, lag, es, ef, lane, lw):
    """Serial SGS of one lane: levelled ``es``/``ef`` of every task; returns the finish.

    dur, lag, es, ef : float64[n, LANES] (lag: [1 + n_rlags, LANES]); reads ``dur``
    and ``lag`` of ``lane``, writes its ``es``/``ef``, and ``lw.t0``/``lw.short``.
    """
    evt, nxt, prv, free, hs, hf = lw.evt, lw.nxt, lw.prv, lw.free, lw.hs, lw.hf
    t0, short = lw.t0, lw.short
    dem_ptr, dem_res, need = lev.dem_ptr, lev.dem_res, lev.dem_need
    pred_ptr, pred_idx, pred_type = links.pred_ptr, links.pred_idx, links.pred_type
    pred_lag, pred_lagrow, release = links.pred_lag, links.pred_lagrow, links.release
    count = _reset_profile(lev, lw)
    pf = 0.0
    fixed_on, fixed_start, fixed_dur = links.fixed_on, links.fixed_start, links.fixed_dur
    if fixed_on:
        for p in range(dur.shape[0]):
            if not np.isnan(fixed_start[p]):
                s = fixed_start[p]
                d = fixed_dur[p]
                dur[p, lane] = d
                es[p, lane] = s
                ef[p, lane] = s + d
                t0[p] = s
                pf = max(pf, s + d)
                first = _locate(evt, nxt, prv, 0, s)
                if d > 0.0 and dem_ptr[p + 1] > dem_ptr[p]:
                    count = _place(lev, lw, count, first, p, s, s + d)
                else:
                    hs[p] = first
                    hf[p] = first
    for r_ in range(lev.order.shape[0]):
        p = lev.order[r_]
        if fixed_on and not np.isnan(fixed_start[p]):
            continue
        d = dur[p, lane]
        # the precedence bound, as forward_pass computes it, and a profile node near
        # it: that of the link that sets it
        t = 0.0
        h = 0
        for k in range(pred_ptr[p], pred_ptr[p + 1]):
            q = pred_idx[k]
            kind = pred_type[k]
            lk = pred_lag[k] + lag[pred_lagrow[k], lane]
            if kind == FS:
                b = ef[q, lane] + lk
                hb = hf[q]
            elif kind == SS:
                b = es[q, lane] + lk
                hb = hs[q]
            elif kind == FF:
                b = (ef[q, lane] + lk) - d
                hb = hf[q]
            else:
                b = (es[q, lane] + lk) - d
                hb = hs[q]
            if b > t:
                t = b
                h = hb
        rel = release[p]
        if rel != 0.0 and rel > t:
            t = rel
            h = 0
        t0[p] = t
        k0, k1 = dem_ptr[p], dem_ptr[p + 1]
        first = _locate(evt, nxt, prv, h, t)
        if d > 0.0 and k1 > k0:
            j = first
            last = -1
            while evt[j] < t + d:
                blocked = -1
                for k in range(k0, k1):
                    if free[j, dem_res[k]] < need[k]:
                        blocked = k
                        break
                j = nxt[j]
                if blocked >= 0:
                    # no window that overlaps the node fits: try from its end, and
                    # from the end of every later node still short of that resource
                    rb, nb = dem_res[blocked], need[blocked]
                    while free[j, rb] < nb:
                        j = nxt[j]
                    last = prv[j]
                    t = evt[j]
                    first = j
            if last >= 0:
                for k in range(k0, k1):
                    short[k] = free[last, dem_res[k]] < need[k]
            count = _place(lev, lw, count, first, p, t, t + d)
        else:
            hs[p] = first
            hf[p] = first
        es[p, lane] = t
        ef[p, lane] = t + d
        pf = max(pf, t + d)
    return pf


@njit(**JIT)
def mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw):
    """Mark the tasks on a driving path to the finish ``pf`` of ``lane`` in ``lw.mark``
    and the resources that a delay on it waited for in ``lw.bind``."""
    mark, stack, t0, short, bind = lw.mark, lw.stack, lw.t0, lw.short, lw.bind
    n = dur.shape[0]
    mark[:] = 0
    bind[:] = 0
    top = 0
    for p in range(n):
        if ef[p, lane] == pf:
            mark[p] = 1
            stack[top] = p
            top += 1
    fixed_on, fixed_start = links.fixed_on, links.fixed_start
    while top > 0:
        top -= 1
        j = stack[top]
        if fixed_on and not np.isnan(fixed_start[j]):
            continue
        s = es[j, lane]
        if s > t0[j]:
            for k in range(lev.dem_ptr[j], lev.dem_ptr[j + 1]):
                if short[k] == 0:
                    continue
                r = lev.dem_res[k]
                bind[r] = 1
                for u in range(lev.use_ptr[r], lev.use_ptr[r + 1]):
                    i = lev.use_pos[u]
                    if (mark[i] == 0 and ef[i, lane] == s and dur[i, lane] > 0.0
                            and (lev.rank[i] < lev.rank[j]
                                 or (fixed_on and not np.isnan(fixed_start[i])))):
                        mark[i] = 1
                        stack[top] = i
                        top += 1
        else:
            d = dur[j, lane]
            for k in range(links.pred_ptr[j], links.pred_ptr[j + 1]):
                q = links.pred_idx[k]
                if mark[q]:
                    continue
                t = links.pred_type[k]
                lk = links.pred_lag[k] + lag[links.pred_lagrow[k], lane]
                if t == FS:
                    b = ef[q, lane] + lk
                elif t == SS:
                    b = es[q, lane] + lk
                elif t == FF:
                    b = (ef[q, lane] + lk) - d
                else:
                    b = (es[q, lane] + lk) - d
                if b == s:
                    mark[q] = 1
                    stack[top] = q
                    top += 1


@njit(**JIT)
def level_lanes(lev, links, unc, grid, w, lw, nl, sub, hist_top, totals):
    """Level lanes ``0 .. nl - 1`` after the unlevelled forward pass and add their
    statistics (the levelled counterpart of backward_pass with statistics).

    Reads ``w.dur``, ``w.lag`` and the unlevelled ``w.ef``/``w.pf``; writes the
    levelled ``w.es``, ``w.ef``, ``w.pf`` and the unlevelled finish of each lane in
    ``lw.pf0`` (for the rows). Adds to ``totals.lev`` and, through the lane
    sums, to the task statistics.
    """
    dur, lag, es, ef = w.dur, w.lag, w.es, w.ef
    n = dur.shape[0]
    lt = totals.lev
    for p in range(n):
        for lane in range(LANES):
            lw.ef0[p, lane] = ef[p, lane]
    for lane in range(LANES):
        lw.pf0[lane] = w.pf[lane]
    dt = grid.cash_dt
    n_res = lev.cap_final.shape[0]
    n_bins = lt.peak.shape[1] - 2
    for lane in range(nl):
        pf = level_lane(lev, links, dur, lag, es, ef, lane, lw)
        w.pf[lane] = pf
        mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw)
        for p in range(n):
            lw.crit[p, lane] = lw.mark[p]
            add_fixed(lt.delay, 0, p, ef[p, lane] - lw.ef0[p, lane])
        if pf > lw.pf0[lane]:
            lt.late[0] += 1
        for r in range(n_res):
            lt.bind[r] += lw.bind[r]
        _profile_stats(lev, lw, dt)
        n_use = lt.use.shape[1] - 2
        for r in range(n_res):
            count_in_bin(lt.peak, r, lw.peak[r] * (n_bins / lev.cap_top[r]))
            lt.peak_max[r] = max(lt.peak_max[r], lw.peak[r])
            scale = n_use / lev.cap_top[r]
            for k in range(CASH_PERIODS):
                count_in_bin(lt.use, r * CASH_PERIODS + k, lw.use[r, k] * scale)
    for p in range(n):
        e = vload(es, p)
        f = vload(ef, p)
        crit = vload(lw.crit, p)
        if unc is not None:
            if unc.exist_on:
                crit = vselect_gt(vload(w.ex, p), vsplat(0.0), crit, vsplat(0.0))
        add_task_stats(e, f, crit, nl, w.lsum, LSUM_ROWS * p, grid.start_shift[p],
                       grid.finish_shift[p], grid.mom_scale[p], grid.hist_lo[p],
                       grid.hist_scale[p], w.hbin, sub * n + p, hist_top)


@njit(**JIT)
def _profile_stats(lev, lw, dt):
    """From one lane's profile: the average units of each resource in use in each
    period ``[k dt, (k + 1) dt)`` into ``lw.use``, and its peak into ``lw.peak``."""
    evt, nxt, free, use, peak = lw.evt, lw.nxt, lw.free, lw.use, lw.peak
    n_res, n_per = use.shape
    use[:] = 0.0
    peak[:] = 0.0
    end = n_per * dt
    c = 0
    i = 0
    while nxt[i] >= 0:
        a, b = evt[i], evt[nxt[i]]
        while c + 1 < lev.cap_t.shape[0] and lev.cap_t[c + 1] <= a:
            c += 1
        busy = False
        for r in range(n_res):
            u = lev.cap_free[c, r] - free[i, r]
            if u != 0.0:
                busy = True
                peak[r] = max(peak[r], u)
        if busy and b > 0.0 and a < end:
            lo = max(a, 0.0)
            hi = min(b, end)
            per = int(lo / dt)
            while per < n_per and per * dt < hi:
                share = (min(hi, (per + 1) * dt) - max(lo, per * dt)) / dt
                if share > 0.0:
                    for r in range(n_res):
                        use[r, per] += (lev.cap_free[c, r] - free[i, r]) * share
                per += 1
        i = nxt[i]


@njit(**JIT)
def deterministic_levelled(lev, links, dur1, lag1):
    """Level one schedule of durations ``dur1`` (float64[n], by position) and random
    lags ``lag1`` (float64[n_rlags]); completed tasks keep their actual dates.

    Returns early start and finish (float64[n]), the finish, the driving-path marks
    (uint8[n]), the precedence bounds (float64[n]), the short flags of each demand
    (uint8[K]) and the binding resources (uint8[R]).
    """
    n = dur1.shape[0]
    dur = np.empty((n, LANES))
    es = np.empty((n, LANES))
    ef = np.empty((n, LANES))
    lag = np.zeros((1 + lag1.shape[0], LANES))
    for p in range(n):
        dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        lag[r + 1, :] = lag1[r]
    lw = make_lev_work(lev, n)
    lane = np.int64(0)
    pf = level_lane(lev, links, dur, lag, es, ef, lane, lw)
    mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw)
    return (es[:, 0].copy(), ef[:, 0].copy(), pf, lw.mark.copy(), lw.t0.copy(),
            lw.short.copy(), lw.bind.copy())

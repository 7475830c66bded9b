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
    """One thread's scratch arrays of the levelling stage."""

    evt: np.ndarray       # float64[S + 2n + 1]   profile breakpoints
    free: np.ndarray      # float64[S + 2n + 1, R] free units in each interval
    t0: np.ndarray        # float64[n]            precedence bound of each task (one lane)
    short: np.ndarray     # uint8[K]              demand k was short just before the
                          #                       task's start (delayed tasks; one lane)
    mark: np.ndarray      # uint8[n]              on a driving path (one lane)
    stack: np.ndarray     # int64[n]
    crit: np.ndarray      # float64[n, LANES]     critical flags of the lanes
    ef0: np.ndarray       # float64[n, LANES]     unlevelled finishes
    use: np.ndarray       # float64[R, CASH_PERIODS] usage per period (one lane)
    bind: np.ndarray      # uint8[R]              resource binding in the lane
    pf0: np.ndarray       # float64[LANES]        unlevelled project finish


@njit(**JIT)
def make_lev_work(lev, n):
    """Allocate one thread's :class:`LevWork` for ``n`` tasks."""
    n_res = lev.cap_final.shape[0]
    size = lev.cap_t.shape[0] + 2 * n + 1
    return LevWork(np.empty(size), np.empty((size, n_res)), np.empty(n),
                   np.zeros(lev.dem_res.shape[0], dtype=np.uint8), np.zeros(n, dtype=np.uint8),
                   np.empty(n, dtype=np.int64), np.zeros((n, LANES)), np.empty((n, LANES)),
                   np.zeros((n_res, CASH_PERIODS)), np.zeros(n_res, dtype=np.uint8),
                   np.zeros(LANES))


@njit(**JIT)
def _locate(evt, m, t):
    """The interval ``i`` of the profile with ``evt[i] <= t < evt[i + 1]``."""
    lo, hi = 0, m
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if evt[mid] <= t:
            lo = mid
        else:
            hi = mid
    return lo


@njit(**JIT)
def _split(evt, free, m, i, t):
    """Make ``t`` (inside interval ``i``) a breakpoint; returns (its interval, new m)."""
    if evt[i] == t:
        return i, m
    n_res = free.shape[1]
    for k in range(m, i, -1):
        evt[k + 1] = evt[k]
        for r in range(n_res):
            free[k + 1, r] = free[k, r]
    evt[i + 1] = t
    for r in range(n_res):
        free[i + 1, r] = free[i, r]
    return i + 1, m + 1


@njit(**JIT)
def _place(lev, evt, free, m, p, s, f):
    """Take task ``p``'s demands from the profile over ``[s, f)``; returns the new m."""
    i, m = _split(evt, free, m, _locate(evt, m, s), s)
    j = i
    while evt[j + 1] <= f:
        j += 1
    if evt[j] < f:
        _, m = _split(evt, free, m, j, f)
    k = i
    while evt[k] < f:
        for d in range(lev.dem_ptr[p], lev.dem_ptr[p + 1]):
            free[k, lev.dem_res[d]] -= lev.dem_amt[d]
        k += 1
    return m


@njit(**JIT)
def _bound(links, lag, es, ef, p, d, lane):
    """Task ``p``'s precedence bound in ``lane`` from its predecessors' dates (as
    forward_pass computes it)."""
    start = 0.0
    for k in range(links.pred_ptr[p], links.pred_ptr[p + 1]):
        q = links.pred_idx[k]
        t = links.pred_type[k]
        lk = links.pred_lag[k] + lag[links.pred_lagrow[k], lane]
        if t == FS:
            start = max(start, ef[q, lane] + lk)
        elif t == SS:
            start = max(start, es[q, lane] + lk)
        elif t == FF:
            start = max(start, (ef[q, lane] + lk) - d)
        else:
            start = max(start, (es[q, lane] + lk) - d)
    rel = links.release[p]
    if rel != 0.0:
        start = max(start, rel)
    return start


@njit(**JIT)
def level_lane(lev, links, dur, lag, es, ef, lane, lw):
    """Serial SGS of one lane: levelled ``es``/``ef`` of every task; returns the finish.

    dur, lag, es, ef : float64[n, LANES] (lag: [1 + n_rlags, LANES]); reads ``dur``
    and ``lag`` of ``lane``, writes its ``es``/``ef``, and ``lw.t0``/``lw.short``.
    """
    evt, free, t0, short = lw.evt, lw.free, lw.t0, lw.short
    dem_ptr, dem_res, dem_amt, eps = lev.dem_ptr, lev.dem_res, lev.dem_amt, lev.cap_eps
    m = lev.cap_t.shape[0]
    for i in range(m):
        evt[i] = lev.cap_t[i]
        for r in range(free.shape[1]):
            free[i, r] = lev.cap_free[i, r]
    evt[m] = np.inf
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
                if d > 0.0 and dem_ptr[p + 1] > dem_ptr[p]:
                    m = _place(lev, evt, free, m, p, s, s + d)
    for r_ in range(lev.order.shape[0]):
        p = lev.order[r_]
        if fixed_on and not np.isnan(fixed_start[p]):
            continue
        d = dur[p, lane]
        t = _bound(links, lag, es, ef, p, d, lane)
        t0[p] = t
        k0, k1 = dem_ptr[p], dem_ptr[p + 1]
        if d > 0.0 and k1 > k0:
            j = _locate(evt, m, t)
            last = -1
            while evt[j] < t + d:
                ok = True
                for k in range(k0, k1):
                    if free[j, dem_res[k]] + eps[dem_res[k]] < dem_amt[k]:
                        ok = False
                        break
                if not ok:
                    # no window that overlaps interval j fits: try from its end
                    t = evt[j + 1]
                    last = j
                j += 1
            if last >= 0:
                for k in range(k0, k1):
                    short[k] = free[last, dem_res[k]] + eps[dem_res[k]] < dem_amt[k]
            m = _place(lev, evt, free, m, p, t, t + d)
        es[p, lane] = t
        ef[p, lane] = t + d
        pf = max(pf, t + d)
    return pf, m


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
        pf, m = level_lane(lev, links, dur, lag, es, ef, lane, lw)
        w.pf[lane] = pf
        mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw)
        for p in range(n):
            lw.crit[p, lane] = lw.mark[p]
            add_fixed(lt.delay, 0, p, ef[p, lane] - lw.ef0[p, lane])
        if pf > lw.pf0[lane]:
            lt.late[0] += 1
        for r in range(n_res):
            lt.bind[r] += lw.bind[r]
        # peak usage: capacity in force minus free, over the profile's intervals
        for r in range(n_res):
            peak = 0.0
            c = 0
            for i in range(m):
                while c + 1 < lev.cap_t.shape[0] and lev.cap_t[c + 1] <= lw.evt[i]:
                    c += 1
                peak = max(peak, lev.cap_free[c, r] - lw.free[i, r])
            count_in_bin(lt.peak, r, peak * (n_bins / lev.cap_top[r]))
            lt.peak_max[r] = max(lt.peak_max[r], peak)
        _usage(lev, dur, es, ef, lane, dt, lw.use)
        for r in range(n_res):
            for k in range(CASH_PERIODS):
                count_in_bin(lt.use, r * CASH_PERIODS + k,
                             lw.use[r, k] * (n_bins / lev.cap_top[r]))
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
def _usage(lev, dur, es, ef, lane, dt, use):
    """Average units of each resource in use in each period ``[k dt, (k + 1) dt)``."""
    use[:] = 0.0
    n_per = use.shape[1]
    for p in range(dur.shape[0]):
        k0, k1 = lev.dem_ptr[p], lev.dem_ptr[p + 1]
        if k1 == k0 or not dur[p, lane] > 0.0:
            continue
        s, f = es[p, lane], ef[p, lane]
        a = max(int(np.floor(s / dt)), 0)
        b = min(int(np.floor(f / dt)), n_per - 1)
        for per in range(a, b + 1):
            lo = max(s, per * dt)
            hi = min(f, (per + 1) * dt)
            if hi > lo:
                share = (hi - lo) / dt
                for k in range(k0, k1):
                    use[lev.dem_res[k], per] += lev.dem_amt[k] * share


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
    pf, _ = level_lane(lev, links, dur, lag, es, ef, lane, lw)
    mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw)
    return (es[:, 0].copy(), ef[:, 0].copy(), pf, lw.mark.copy(), lw.t0.copy(),
            lw.short.copy(), lw.bind.copy())

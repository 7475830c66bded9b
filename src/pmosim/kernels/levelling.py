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

The resource profile of a lane is a step function kept as a linked list of nodes
(see :class:`LevWork`): each node holds its start and the units of each resource free
until the next node starts; the last node before the +inf sentinel holds the
capacities that last for ever. A task's search starts at the node of the link that
sets its precedence bound and looks at each later node once: a node that lacks the
units of a demand moves the window's start to the next node, and the window is found
at the first node that fits and reaches its end. Whether a node fits is data, so the
search takes it with stores and a max, not branches: only its exit is mispredicted,
once per task (J120, one core, the SGS alone: j12060_3, four demands a task, 15.7 ->
13.6 us an iteration; j12010_1 and j1201_1, one or two, 10.3 -> 10.0 us). The kernel is one function without
calls, on flat arrays indexed as unsigned integers (see :func:`_u`): on PSPLIB J120
(4 resources) that took the levelling of an iteration from 20 to 10 us, and the whole
levelled iteration from 24-26 to 14 us on one core (``benchmarks/test_bench_levelling.py``).

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
from . import CASH_PERIODS, CRITICAL_RTOL, INLINE_JIT, JIT, LANES
from .accumulate import LSUM_ROWS, add_fixed, add_task_stats, count_in_bin
from .vector import vload, vselect_gt, vsplat


class LevWork(NamedTuple):
    """One thread's scratch arrays of the levelling stage.

    The resource profile of a lane is a doubly linked list of nodes in a pool: node
    ``i`` is row ``i`` of ``node``, ``W`` floats from ``node[i << sh]`` (``W = 2**sh``,
    the power of two from ``1 + R``, so a shift finds a row): its start, then the
    units of each resource free until the next node's start. ``nxt``/``prv`` link the
    nodes in time order. Node 0 starts at -inf; node ``S`` (the number of initial
    intervals) is the end sentinel, at +inf. A split adds a node after the one it
    splits, so a node keeps its start for ever: ``hs[p]``/``hf[p]`` remember the nodes
    at task ``p``'s start and finish, a successor's search starts from its driving
    predecessor's node instead of the head of the list, and the tasks that finish
    where a node starts are that node's chain in ``fin_head``/``fin_next`` (the
    drivers of a task that waited for resources, see :func:`mark_driving`). Sorted
    arrays shifted on each insert were measured too on J120: the plain one of
    ``benchmarks/comparator_levelling.py`` takes twice as long, a tuned one (skips,
    unsigned indices, a binary search) as long as this list.
    """

    node: np.ndarray      # float64[N * W]        nodes (N = S + 2n + 2)
    dcol: np.ndarray      # int64[K]              column of each demand's resource in a row
    nxt: np.ndarray       # int64[N]              next node (-1 after the sentinel)
    prv: np.ndarray       # int64[N]              previous node (-1 before node 0)
    hs: np.ndarray        # int64[n]              a node at (or near) each task's start
    hf: np.ndarray        # int64[n]              ... and finish
    fin_head: np.ndarray  # int64[N]              first task that finishes where the node
                          #                       starts (-1: none; tasks that take units)
    fin_next: np.ndarray  # int64[n]              the next task that finishes there
    t0: np.ndarray        # float64[n]            precedence bound of each task (one lane)
    short: np.ndarray     # uint8[K]              demand k was short just before the
                          #                       task's start (delayed tasks; one lane)
    mark: np.ndarray      # uint8[n]              on a driving path (one lane)
    stack: np.ndarray     # int64[n]
    crit: np.ndarray      # float64[n, LANES]     critical flags of the lanes
    ef0: np.ndarray       # float64[n, LANES]     unlevelled finishes
    use: np.ndarray       # float64[R, CASH_PERIODS] usage per period (one lane)
    peak: np.ndarray      # float64[R]            peak usage (one lane)
    units: np.ndarray     # float64[R]            units in use in one node
    bind: np.ndarray      # uint8[R]              resource binding in the lane
    pf0: np.ndarray       # float64[LANES]        unlevelled project finish
    dmore: np.ndarray     # uint8[K]              1 where the task's next demand follows
                          #                       (a loop that ends on data: LLVM
                          #                       vectorises a counted one, with gathers,
                          #                       for tasks of one or two demands)
    run: np.ndarray       # int64[2]              [0]: first node of the window being
                          #                       searched; [1]: a sink
    pen: np.ndarray       # float64[2]            [0.0, -1e308]: added to the end a node
                          #                       proposes, by whether it fits


@njit(**JIT)
def make_lev_work(lev, n):
    """Allocate one thread's :class:`LevWork` for ``n`` tasks."""
    n_res = lev.cap_final.shape[0]
    size = lev.cap_t.shape[0] + 2 * n + 2
    return LevWork(np.empty(size << _row_shift(n_res)), lev.dem_res + 1,
                   np.empty(size, dtype=np.int64),
                   np.empty(size, dtype=np.int64), np.zeros(n, dtype=np.int64),
                   np.zeros(n, dtype=np.int64), np.empty(size, dtype=np.int64),
                   np.empty(n, dtype=np.int64), np.empty(n),
                   np.zeros(lev.dem_res.shape[0], dtype=np.uint8), np.zeros(n, dtype=np.uint8),
                   np.empty(n, dtype=np.int64), np.zeros((n, LANES)), np.empty((n, LANES)),
                   np.zeros((n_res, CASH_PERIODS)), np.zeros(n_res), np.zeros(n_res),
                   np.zeros(n_res, dtype=np.uint8), np.zeros(LANES), _demand_more(lev),
                   np.zeros(2, dtype=np.int64), np.array([0.0, -1e308]))


@njit(**JIT)
def _demand_more(lev):
    """1 for each demand that the same task's next demand follows, else 0."""
    dem_ptr = lev.dem_ptr
    more = np.zeros(lev.dem_res.shape[0], dtype=np.uint8)
    for p in range(dem_ptr.shape[0] - 1):
        for k in range(dem_ptr[p], dem_ptr[p + 1] - 1):
            more[k] = 1
    return more


@njit(**INLINE_JIT)
def _row_shift(n_res):
    """log2 of the row width of a profile node: a shift finds a row, not a multiply."""
    sh = 0
    while (1 << sh) < 1 + n_res:
        sh += 1
    return sh


@njit(**INLINE_JIT)
def _u(i):
    """``i`` as an unsigned index: numba adds no negative-index wraparound to those
    (in the profile's inner loops it costs more than the loads)."""
    return np.uint64(i)


@njit(**JIT)
def level_lane(lev, links, dur, lag, es, ef, lane, lw):
    """Serial SGS of one lane: levelled ``es``/``ef`` of every task; returns the finish.

    dur, lag, es, ef : float64[n, LANES] (lag: [1 + n_rlags, LANES]); reads ``dur``
    and ``lag`` of ``lane``, writes its ``es``/``ef``, and ``lw.t0``/``lw.short``.

    One function without calls: a call per task that passes the structs costs more
    than the search it makes.
    """
    node, dcol, nxt, prv, hs, hf = lw.node, lw.dcol, lw.nxt, lw.prv, lw.hs, lw.hf
    fin_head, fin_next = lw.fin_head, lw.fin_next
    t0, short = lw.t0, lw.short
    dmore, run, pen = lw.dmore, lw.run, lw.pen
    n_res = lev.cap_free.shape[1]
    sh = _row_shift(n_res)
    dem_ptr, dem_amt, need = lev.dem_ptr, lev.dem_amt, lev.dem_need
    pred_ptr, pred_idx, pred_type = links.pred_ptr, links.pred_idx, links.pred_type
    pred_lag, pred_lagrow, release = links.pred_lag, links.pred_lagrow, links.release
    fixed_on, fixed_start, fixed_dur = links.fixed_on, links.fixed_start, links.fixed_dur
    order = lev.order
    n = dur.shape[0]
    # the initial profile: the capacities
    n_init = lev.cap_t.shape[0]
    for i in range(n_init):
        node[_u(i << sh)] = lev.cap_t[i]
        for r in range(n_res):
            node[_u((i << sh) + 1 + r)] = lev.cap_free[i, r]
        nxt[_u(i)] = i + 1
        prv[_u(i)] = i - 1
        fin_head[_u(i)] = -1
    node[_u(n_init << sh)] = np.inf
    nxt[_u(n_init)] = -1
    prv[_u(n_init)] = n_init - 1
    fin_head[_u(n_init)] = -1
    count = n_init + 1
    pf = 0.0
    # completed tasks first, where they happened; then the priority list
    n_fixed = n if fixed_on else 0
    for step in range(n_fixed + order.shape[0]):
        if step < n_fixed:
            p = step
            if np.isnan(fixed_start[p]):
                continue
            t = fixed_start[p]
            d = fixed_dur[p]
            dur[p, lane] = d
            h = 0
            fixed = True
        else:
            p = order[_u(step - n_fixed)]
            if fixed_on and not np.isnan(fixed_start[p]):
                continue
            d = dur[p, lane]
            # the precedence bound, as forward_pass computes it, and a profile node
            # near it: that of the link that sets it
            t = 0.0
            h = 0
            for k in range(pred_ptr[_u(p)], pred_ptr[_u(p + 1)]):
                q = pred_idx[_u(k)]
                kind = pred_type[_u(k)]
                lk = pred_lag[_u(k)] + lag[pred_lagrow[_u(k)], lane]
                if kind == FS:
                    b = ef[q, lane] + lk
                    hb = hf[_u(q)]
                elif kind == SS:
                    b = es[q, lane] + lk
                    hb = hs[_u(q)]
                elif kind == FF:
                    b = (ef[q, lane] + lk) - d
                    hb = hf[_u(q)]
                else:
                    b = (es[q, lane] + lk) - d
                    hb = hs[_u(q)]
                # selects, not a branch: which link sets the bound is data
                later = b > t
                t = b if later else t
                h = hb if later else h
            rel = release[_u(p)]
            if rel != 0.0 and rel > t:
                t = rel
                h = 0
            fixed = False
        t0[_u(p)] = t
        k0, k1 = dem_ptr[_u(p)], dem_ptr[_u(p + 1)]
        # the node that holds t
        i = h
        while node[_u(i << sh)] > t:
            i = prv[_u(i)]
        while node[_u(nxt[_u(i)] << sh)] <= t:
            i = nxt[_u(i)]
        if d > 0.0 and k1 > k0:
            # the window: nodes i .. last overlap [t, t + d) and all fit; j follows
            j = i
            last = i
            if not fixed:
                # one pass over the nodes from i: a node that lacks a demand moves the
                # window's start to the next node (and its end to that start + d); the
                # window is found when a node fits and the next one starts at or after
                # its end. Only that exit branches: whether a node fits is data, and a
                # branch on it (or an early exit from the demands) cost a misprediction
                # at every change
                end = t + d
                run[0] = i
                while True:
                    row = j << sh
                    fit = True
                    k = k0
                    while True:
                        fit &= node[_u(row + dcol[_u(k)])] >= need[_u(k)]
                        if dmore[_u(k)] == 0:
                            break
                        k += 1
                    nj = nxt[_u(j)]
                    s_next = node[_u(nj << sh)]
                    # a node that fits leaves the end where it was, so the exit waits
                    # on no more than the loads
                    if fit & (s_next >= end):
                        break
                    # stores, not selects: LLVM makes a select that the loop carries a
                    # branch, mispredicted wherever a misfit follows a fit; pen[1]
                    # (-1e308) keeps the end of a node that fits
                    f = _u(fit)
                    run[f] = nj
                    end = max(end, (s_next + d) + pen[f])
                    j = nj
                last = j
                j = nxt[_u(j)]
                if run[0] != i:
                    i = run[0]
                    t = node[_u(i << sh)]
                    row = prv[_u(i)] << sh
                    for k in range(k0, k1):
                        short[_u(k)] = node[_u(row + dcol[_u(k)])] < need[_u(k)]
            else:
                while node[_u(j << sh)] < t + d:
                    last = j
                    j = nxt[_u(j)]
            f = t + d
            # split at the start and the finish (a node keeps its start: new nodes go
            # after the one they split)
            if node[_u(i << sh)] != t:
                c = count
                count += 1
                node[_u(c << sh)] = t
                for x in range(1, 1 + n_res):
                    node[_u((c << sh) + x)] = node[_u((i << sh) + x)]
                fin_head[_u(c)] = -1
                nx = nxt[_u(i)]
                nxt[_u(c)] = nx
                prv[_u(c)] = i
                prv[_u(nx)] = c
                nxt[_u(i)] = c
                if last == i:
                    last = c
                i = c
            if node[_u(j << sh)] > f and node[_u(last << sh)] != f:
                c = count
                count += 1
                node[_u(c << sh)] = f
                for x in range(1, 1 + n_res):
                    node[_u((c << sh) + x)] = node[_u((last << sh) + x)]
                fin_head[_u(c)] = -1
                nxt[_u(c)] = j
                prv[_u(c)] = last
                prv[_u(j)] = c
                nxt[_u(last)] = c
                j = c
            k = i
            while True:
                row = k << sh
                for x in range(k0, k1):
                    node[_u(row + dcol[_u(x)])] -= dem_amt[_u(x)]
                if k == last:
                    break
                k = nxt[_u(k)]
            hs[_u(p)] = i
            hf[_u(p)] = j
            # the node that starts at the finish (the last one if t + d == t)
            e = j if node[_u(j << sh)] == f else last
            fin_next[_u(p)] = fin_head[_u(e)]
            fin_head[_u(e)] = p
        else:
            hs[_u(p)] = i
            hf[_u(p)] = i
        es[p, lane] = t
        ef[p, lane] = t + d
        pf = max(pf, t + d)
    return pf


@njit(**JIT)
def mark_driving(lev, links, dur, lag, es, ef, pf, lane, lw):
    """Mark the tasks on a driving path to the finish ``pf`` of ``lane`` in ``lw.mark``
    and the resources that a delay on it waited for in ``lw.bind``.

    A delayed task starts where a node starts (``lw.hs``); the tasks that take units
    and finish there are that node's chain in ``lw.fin_head``/``lw.fin_next``.
    """
    mark, stack, t0, short, bind = lw.mark, lw.stack, lw.t0, lw.short, lw.bind
    fin_head, fin_next, hs = lw.fin_head, lw.fin_next, lw.hs
    dem_ptr, dem_res, rank = lev.dem_ptr, lev.dem_res, lev.rank
    n = dur.shape[0]
    mark[:] = 0
    bind[:] = 0
    top = 0
    # the tolerance of the unlevelled critical path (total float <= tol): an FF or SF
    # link's bound (ef + lag) - d, plus d again, may miss the predecessor's date by ulps
    tol = CRITICAL_RTOL * max(1.0, pf)
    for p in range(n):
        if ef[p, lane] >= pf - tol:
            mark[_u(p)] = 1
            stack[_u(top)] = p
            top += 1
    fixed_on, fixed_start = links.fixed_on, links.fixed_start
    while top > 0:
        top -= 1
        j = stack[_u(top)]
        if fixed_on and not np.isnan(fixed_start[j]):
            continue
        s = es[j, lane]
        if s > t0[_u(j)]:
            for k in range(dem_ptr[j], dem_ptr[j + 1]):
                if short[_u(k)]:
                    bind[_u(dem_res[_u(k)])] = 1
            i = fin_head[_u(hs[_u(j)])]
            while i >= 0:
                if (mark[_u(i)] == 0 and ef[i, lane] == s and dur[i, lane] > 0.0
                        and (rank[_u(i)] < rank[_u(j)]
                             or (fixed_on and not np.isnan(fixed_start[i])))):
                    # a driver when it takes units of a resource j was short of
                    for k in range(dem_ptr[j], dem_ptr[j + 1]):
                        if short[_u(k)]:
                            r = dem_res[_u(k)]
                            hit = False
                            for x in range(dem_ptr[i], dem_ptr[i + 1]):
                                if dem_res[_u(x)] == r:
                                    hit = True
                            if hit:
                                mark[_u(i)] = 1
                                stack[_u(top)] = i
                                top += 1
                                break
                i = fin_next[_u(i)]
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
                if b >= s - tol:
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
                # no use at all counts in the underflow column, so that an idle period's
                # percentiles are exactly 0 (and full use, in the overflow column from
                # the capacity up, exactly the capacity)
                u = lw.use[r, k]
                count_in_bin(lt.use, r * CASH_PERIODS + k, u * scale if u > 0.0 else -1.0)
    for p in range(n):
        e = vload(es, p)
        f = vload(ef, p)
        crit = vload(lw.crit, p)
        if unc is not None:
            if unc.exist_on:
                crit = vselect_gt(vload(w.ex, p), vsplat(0.0), crit, vsplat(0.0))
        add_task_stats(e, f, crit, nl, w.lsum, LSUM_ROWS * p, grid.start_shift[p],
                       grid.finish_shift[p], grid.mom_scale[p], grid.hist_lo[p],
                       grid.hist_scale[p], grid.start_lo[p], grid.start_scale[p], w.hbin,
                       sub * n + p, hist_top, w.crit, p)


@njit(**JIT)
def _profile_stats(lev, lw, dt):
    """From one lane's profile: the average units of each resource in use in each
    period ``[k dt, (k + 1) dt)`` into ``lw.use``, and its peak into ``lw.peak``."""
    node, nxt, peak, units = lw.node, lw.nxt, lw.peak, lw.units
    n_res, n_per = lw.use.shape
    sh = _row_shift(n_res)
    use = lw.use.reshape(n_res * n_per)
    cap_t = lev.cap_t
    cap = lev.cap_free.reshape(cap_t.shape[0] * n_res)
    use[:] = 0.0
    peak[:] = 0.0
    end = n_per * dt
    c = 0
    i = 0
    while True:
        k = nxt[_u(i)]
        if k < 0:
            break
        a, b = node[_u(i << sh)], node[_u(k << sh)]
        while c + 1 < cap_t.shape[0] and cap_t[_u(c + 1)] <= a:
            c += 1
        busy = 0
        for r in range(n_res):
            u = cap[_u(c * n_res + r)] - node[_u((i << sh) + 1 + r)]
            units[_u(r)] = u
            busy |= np.int64(u != 0.0)
            top = peak[_u(r)]
            peak[_u(r)] = u if u > top else top
        if busy and b > 0.0 and a < end:
            lo = max(a, 0.0)
            hi = min(b, end)
            per = int(lo / dt)
            if per < n_per:
                # the node's first two periods without a loop (whether it reaches
                # the second is data): a share <= 0 adds +0.0, which changes nothing
                x0 = per * dt
                x1 = (per + 1) * dt
                share = (min(hi, x1) - max(lo, x0)) / dt
                share = share if share > 0.0 else 0.0
                for r in range(n_res):
                    use[_u(r * n_per + per)] += units[_u(r)] * share
                per += 1
                if per < n_per:
                    x2 = (per + 1) * dt
                    share = (min(hi, x2) - max(lo, x1)) / dt
                    share = share if share > 0.0 else 0.0
                    for r in range(n_res):
                        use[_u(r * n_per + per)] += units[_u(r)] * share
                    per += 1
                    x0 = x2
                    while per < n_per and x0 < hi:
                        x1 = (per + 1) * dt
                        share = (min(hi, x1) - max(lo, x0)) / dt
                        if share > 0.0:
                            for r in range(n_res):
                                use[_u(r * n_per + per)] += units[_u(r)] * share
                        per += 1
                        x0 = x1
        i = k


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

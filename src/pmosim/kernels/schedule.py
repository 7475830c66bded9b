"""Forward/backward CPM passes over lanes of iterations, and the fused simulation driver.

Tasks are numbered by *position* in topological order. Links are stored per
successor in CSR form: the predecessors of position ``p`` are
``pred_idx[pred_ptr[p]:pred_ptr[p + 1]]`` with types ``pred_type`` (0 FS, 1 SS,
2 FF, 3 SF) and constant lags ``pred_lag``; ``pred_lagvar`` is -1 or the row of
that link's sampled lag. All time arrays are ``float64[n_tasks, LANES]``: lane
``l`` is one iteration and every inner loop runs over all ``LANES`` lanes (a
constant trip count, so it vectorises); lanes past the last iteration of a run
are computed and then ignored.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from . import CASH_PERIODS, CRITICAL_RTOL, INLINE_JIT, JIT, LANES, PARALLEL_JIT, SUPER
from .rng import (
    STREAM_BRANCH, STREAM_COST_FIXED, STREAM_COST_RATE, STREAM_DRIVER, STREAM_DRIVER_FACTOR,
    STREAM_DURATION, STREAM_EXIST, STREAM_LAG, STREAM_PROJECT_COST, STREAM_RISK,
    STREAM_RISK_COST, STREAM_RISK_IMPACT, fill_uniforms, philox4x64_lanes, to_unit,
)
from .sampling import FIXED, qtable_value, sample_row

FS, SS, FF, SF = 0, 1, 2, 3
_TWO32 = 4294967296.0


class Work(NamedTuple):
    """One thread's per-lane work arrays (all ``[rows, LANES]``)."""

    dsb: np.ndarray       # float64[SUPER / LANES * n]  base durations of a super-block:
                          #                       row sub * n + p is task p, sub-block sub
    ug: np.ndarray        # float64[4 * SUPER / LANES]  one Philox group's uniforms
    ucorr: np.ndarray     # float64[max group]    a correlation group's uniforms
    ulag: np.ndarray      # float64[n_lag_vars]
    scratch: np.ndarray   # uint64[4]             Philox work space
    dur: np.ndarray       # float64[n]            durations (by position)
    lag: np.ndarray       # float64[n_rlags]      sampled lags
    es: np.ndarray        # float64[n]            early start
    ef: np.ndarray        # float64[n]            early finish
    lf: np.ndarray        # float64[n]            late finish
    ex: np.ndarray        # float64[n]            1 when the task exists in the iteration
    pf: np.ndarray        # float64[LANES]        project finish
    lagv: np.ndarray      # float64[LANES]        one link's lag
    base: np.ndarray      # float64[LANES]        one task's duration before risk events
    uex: np.ndarray       # float64[n_ex_vars]    existence uniforms
    ubr: np.ndarray       # float64[B]            branch uniforms
    chosen: np.ndarray    # float64[B]            chosen option of each branch
    urisk: np.ndarray     # float64[R]            occurrence uniforms
    uimp: np.ndarray      # float64[R]            impact uniforms
    occ: np.ndarray       # float64[R]            1 when the risk occurs
    imp: np.ndarray       # float64[R]            sampled impact
    udrv: np.ndarray      # float64[D]
    udf: np.ndarray       # float64[D]
    fac: np.ndarray       # float64[D]            factor (1 when the driver does not occur)
    zc: np.ndarray        # float64[max group]    correlated normals of one lane
    acc_tmp: np.ndarray   # float64[4]            per-lane moment terms of one task
    ucost: np.ndarray     # float64[4, LANES]     one Philox block of cost uniforms
    cfix: np.ndarray      # float64[C1]           sampled fixed costs
    crate: np.ndarray     # float64[C2]           sampled cost rates
    rcost: np.ndarray     # float64[R]            sampled risk cost impacts
    pcost: np.ndarray     # float64[1]            sampled project cost rate
    cost: np.ndarray      # float64[LANES]        project cost
    cash: np.ndarray      # float64[LANES, CASH_PERIODS + 2, 2] cash flow: slope and
                          #                       slope * time deposits (+ a spill cell)


@njit(**JIT)
def make_work(m):
    """Allocate one thread's :class:`Work` arrays for model ``m``."""
    n = m.dur_code.shape[0]
    n_br = m.br_ptr.shape[0] - 1
    n_risk = m.risk_p.shape[0]
    n_drv = m.drv_p.shape[0]
    gmax = 0
    for g in range(m.corr_ptr.shape[0] - 1):
        gmax = max(gmax, m.corr_ptr[g + 1] - m.corr_ptr[g])
    n_sub = SUPER // LANES
    w = Work(
        np.empty((n_sub * n, LANES)), np.empty((4 * n_sub, LANES)), np.empty((gmax, LANES)),
        np.empty((m.n_lag_vars, LANES)),
        np.empty((4, LANES), dtype=np.uint64), np.empty((n, LANES)),
        np.empty((m.lag_code.shape[0], LANES)), np.empty((n, LANES)), np.empty((n, LANES)),
        np.empty((n, LANES)), np.ones((n, LANES)), np.empty(LANES), np.empty(LANES),
        np.empty(LANES), np.empty((m.n_ex_vars, LANES)), np.empty((n_br, LANES)),
        np.empty((n_br, LANES)), np.empty((n_risk, LANES)), np.empty((n_risk, LANES)),
        np.zeros((n_risk, LANES)), np.zeros((n_risk, LANES)), np.empty((n_drv, LANES)),
        np.empty((n_drv, LANES)), np.ones((n_drv, LANES)), np.empty((gmax, LANES)),
        np.empty((4, LANES)),
        np.empty((4, LANES)),
        np.empty((m.cfix_code.shape[0], LANES)), np.empty((m.crate_code.shape[0], LANES)),
        np.zeros((n_risk, LANES)), np.zeros((1, LANES)), np.zeros(LANES),
        np.zeros((LANES, CASH_PERIODS + 2, 2)),
    )
    # constant costs are written once here; draw_costs samples only the random ones
    for code, par, out in ((m.cfix_code, m.cfix_par, w.cfix), (m.crate_code, m.crate_par, w.crate),
                           (m.rcost_code, m.rcost_par, w.rcost),
                           (m.pcost_code, m.pcost_par, w.pcost)):
        for r in range(code.shape[0]):
            if code[r] == FIXED:
                out[r, :] = par[r, 0]
    return w


@njit(**JIT)
def _link_lag(m, lag, k, lagv):
    """Lag of link ``k`` in every lane, into ``lagv`` (float64[LANES])."""
    rv = m.pred_lagvar[k]
    if rv < 0:
        c = m.pred_lag[k]
        for lane in range(LANES):
            lagv[lane] = c
    else:
        for lane in range(LANES):
            lagv[lane] = lag[rv, lane]


@njit(**INLINE_JIT)
def _adjust_duration(m, w, p):
    """Apply drivers, risk events and existence to the sampled duration of task ``p``.

    duration = sampled * (factors of the drivers that occur)
               + sum over occurring risks of (impact, or impact% of that scaled duration)
    clamped at zero (opportunities have negative impacts), then zero when the task
    does not exist in the iteration (probabilistic task, branch not taken,
    condition false).
    """
    dur = w.dur
    for k in range(m.task_drv_ptr[p], m.task_drv_ptr[p + 1]):
        d = m.task_drv_idx[k]
        for lane in range(LANES):
            dur[p, lane] *= w.fac[d, lane]
    if m.task_risk_ptr[p + 1] > m.task_risk_ptr[p]:
        for lane in range(LANES):
            w.base[lane] = dur[p, lane]
        for k in range(m.task_risk_ptr[p], m.task_risk_ptr[p + 1]):
            r = m.task_risk_idx[k]
            if m.risk_pct[r] > 0.0:
                for lane in range(LANES):
                    dur[p, lane] += w.occ[r, lane] * (0.01 * w.imp[r, lane] * w.base[lane])
            else:
                for lane in range(LANES):
                    dur[p, lane] += w.occ[r, lane] * w.imp[r, lane]
        for lane in range(LANES):
            dur[p, lane] = max(dur[p, lane], 0.0)
    if m.exist_on:
        v = m.ex_var[p]
        b = m.br_of[p]
        q = m.cond_task[p]
        for lane in range(LANES):
            e = 1.0
            if v >= 0 and not w.uex[v, lane] < m.ex_p[p]:
                e = 0.0
            if b >= 0 and w.chosen[b, lane] != m.br_opt[p]:
                e = 0.0
            if q >= 0:
                kind = m.cond_kind[p]
                x = w.ef[q, lane] if kind < 2 else w.es[q, lane]
                after = x > m.cond_value[p]
                if after != (kind == 0 or kind == 2):
                    e = 0.0
            w.ex[p, lane] = e
            dur[p, lane] *= e


@njit(**JIT)
def forward_pass(m, w, sub, cost):
    """Early start/finish and project finish of ``LANES`` iterations.

    With ``sub >= 0``, each task's duration is taken from sub-block ``sub`` of the
    sampled super-block ``w.dsb`` and adjusted by drivers, risks and existence just
    before the pass needs it; with ``sub < 0``, ``w.dur`` is used as it is. Reads
    ``w.lag``; writes ``w.dur``, ``w.ex``, ``w.es``, ``w.ef`` and ``w.pf``.

    With ``cost``, each task with a cost adds it to ``w.cost`` and deposits its
    accrual in ``w.cash`` as soon as its dates are known, while its rows are in
    cache (a separate pass over the tasks re-reads them from memory and costs about
    a quarter more); :func:`cost_of_lanes` then adds the project cost rate and
    counts the cash flow. Task cost = existence * fixed + its shares of the risk
    cost impacts (together the lump, spread evenly over the task's duration) +
    rate * duration (accrued at the rate, so that only the lump needs a division).
    The cumulative spend at grid time ``t_k = k * cash_dt`` is
    C_k = t_k * W_k - A_k with W, A the prefix sums of slope and slope * time
    deposits: a ramp of slope s from time a adds s to W and s * a to A at the first
    grid point after a (at 0 when a < 0: work done before time 0 is seen from
    t = 0); a task is a ramp up at its early start and down at its early finish, a
    task without duration a step of its cost (-cost in A) at the first grid point
    at or after its start. Cells past the grid go to a spill cell never read.
    """
    dur, es, ef, pf, lagv = w.dur, w.es, w.ef, w.pf, w.lagv
    n = dur.shape[0]
    for lane in range(LANES):
        pf[lane] = 0.0
    cost_pos = m.cost_pos
    n_cost = cost_pos.shape[0] if cost else 0
    inv_dt = 1.0 / m.cash_dt
    spill = float(CASH_PERIODS + 1)
    # hoisted: each w.x or m.x per task costs two atomic reference-count updates
    ex, cfix, crate, occ, rcost = w.ex, w.cfix, w.crate, w.occ, w.rcost
    cost_sum, cash = w.cost, w.cash
    # one task's lump (its cost other than rate * duration), then its cost, deposits and
    # their cells; local, so the compiler knows they alias no other array and vectorises
    lump = np.empty(LANES)
    dep = np.empty((4, LANES))
    cell = np.empty((2, LANES), dtype=np.int64)
    cost_fix, cost_rate, risk_ptr, risk_idx, risk_share = (
        m.cost_fix, m.cost_rate, m.cost_risk_ptr, m.cost_risk_idx, m.cost_risk_share)
    crate_code, crate_par = m.crate_code, m.crate_par
    exist_on = m.exist_on
    if cost:
        _clear_costs(cost_sum, cash)
    j = 0                       # the next task with a cost (cost_pos is ascending)
    for p in range(n):
        if sub >= 0:
            row = sub * n + p
            for lane in range(LANES):
                dur[p, lane] = w.dsb[row, lane]
            _adjust_duration(m, w, p)
        for lane in range(LANES):
            es[p, lane] = 0.0
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            _link_lag(m, w.lag, k, lagv)
            if t == FS:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], ef[q, lane] + lagv[lane])
            elif t == SS:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], es[q, lane] + lagv[lane])
            elif t == FF:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], ef[q, lane] + lagv[lane] - dur[p, lane])
            else:
                for lane in range(LANES):
                    es[p, lane] = max(es[p, lane], es[q, lane] + lagv[lane] - dur[p, lane])
        rel = m.release[p]
        if rel != 0.0:
            for lane in range(LANES):
                es[p, lane] = max(es[p, lane], rel)
        if m.fixed_on and not np.isnan(m.fixed_start[p]):
            # a completed task keeps its actual dates, whatever its predecessors did
            for lane in range(LANES):
                es[p, lane] = m.fixed_start[p]
                dur[p, lane] = m.fixed_dur[p]
        for lane in range(LANES):
            ef[p, lane] = es[p, lane] + dur[p, lane]
            pf[lane] = max(pf[lane], ef[p, lane])
        if j < n_cost and cost_pos[j] == p:
            r = cost_rate[j]
            # a constant rate is read once, not as a row per lane
            rate_row = r >= 0 and crate_code[r] != FIXED
            rate0 = crate_par[r, 0] if r >= 0 else 0.0
            f = cost_fix[j]
            r0, r1 = risk_ptr[j], risk_ptr[j + 1]
            has_lump = f >= 0 or r1 > r0
            if has_lump:
                if f >= 0 and exist_on:
                    for lane in range(LANES):
                        lump[lane] = ex[p, lane] * cfix[f, lane]
                elif f >= 0:        # every task exists: ex is all ones, not worth reading
                    for lane in range(LANES):
                        lump[lane] = cfix[f, lane]
                else:
                    for lane in range(LANES):
                        lump[lane] = 0.0
                for k in range(r0, r1):
                    q = risk_idx[k]
                    share = risk_share[k]
                    for lane in range(LANES):
                        lump[lane] += occ[q, lane] * rcost[q, lane] * share
            # all lanes at once (vectorised): cost, slope, deposits and their cells
            for lane in range(LANES):
                rate = crate[r, lane] if rate_row else rate0
                c = (lump[lane] if has_lump else 0.0) + rate * dur[p, lane]
                cost_sum[lane] += c
                dep[0, lane] = c
                dep[1, lane] = rate
            if has_lump:
                # rate * duration accrues at the rate: a division only for the lump
                for lane in range(LANES):
                    d = ef[p, lane] - es[p, lane]
                    dep[1, lane] += lump[lane] / d if d > 0.0 else 0.0
            for lane in range(LANES):
                a = es[p, lane]
                b = ef[p, lane]
                ramp = b > a
                s = dep[1, lane]
                fa = np.floor(a * inv_dt) + 1.0
                fs = np.ceil(a * inv_dt)
                fb = np.floor(b * inv_dt) + 1.0
                # ternaries rather than min/max: measured faster here
                ka = fa if ramp else fs
                ka = ka if ka > 0.0 else 0.0
                ka = ka if ka < spill else spill
                kb = fb if ramp else fs
                kb = kb if kb > 0.0 else 0.0
                kb = kb if kb < spill else spill
                dep[1, lane] = s if ramp else 0.0
                dep[2, lane] = s * a if ramp else -dep[0, lane]
                dep[3, lane] = -(s * b) if ramp else 0.0
                cell[0, lane] = np.int64(ka)
                cell[1, lane] = np.int64(kb)
            for lane in range(LANES):
                ka = cell[0, lane]
                kb = cell[1, lane]
                cash[lane, ka, 0] += dep[1, lane]
                cash[lane, ka, 1] += dep[2, lane]
                cash[lane, kb, 0] -= dep[1, lane]
                cash[lane, kb, 1] += dep[3, lane]
            j += 1


@njit(**JIT)
def backward_pass(m, w, n_lanes, acc, crit, mom, hist, tmin, tmax):
    """Late finish of every task given the project finish (push style), into ``w.lf``.

    Late start is ``lf - dur``. A task's late finish is final once the pass reaches
    it (all its successors come later in topological order), so with ``acc`` its
    statistics are added there and then, while its rows are still in cache (see
    :func:`accumulate_task`).
    """
    dur, lf, pf, lagv = w.dur, w.lf, w.pf, w.lagv
    n = dur.shape[0]
    tol = np.empty(LANES)
    for lane in range(LANES):
        tol[lane] = CRITICAL_RTOL * max(1.0, pf[lane])
    for p in range(n):
        for lane in range(LANES):
            lf[p, lane] = pf[lane]
    for p in range(n - 1, -1, -1):
        if acc:
            accumulate_task(m, p, dur, w.es, w.ef, lf, w.ex, w.acc_tmp, tol, n_lanes,
                            crit, mom, hist, tmin, tmax)
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            _link_lag(m, w.lag, k, lagv)
            if t == FS:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - dur[p, lane] - lagv[lane])
            elif t == SS:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane],
                                      lf[p, lane] - dur[p, lane] - lagv[lane] + dur[q, lane])
            elif t == FF:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - lagv[lane])
            else:
                for lane in range(LANES):
                    lf[q, lane] = min(lf[q, lane], lf[p, lane] - lagv[lane] + dur[q, lane])


@njit(**JIT)
def _add_fixed(acc, row, p, x):
    """Add ``x`` to the exact sum ``acc[row, p]`` (integer part) + ``acc[row + 1, p]`` (2**-32 units)."""
    fl = np.floor(x)
    acc[row, p] += np.int64(fl)
    acc[row + 1, p] += np.int64((x - fl) * _TWO32 + 0.5)


@njit(**JIT)
def draw_block(m, w, it0, k0, k1, n_lanes, rstat):
    """Everything drawn per iteration before the passes, for the ``LANES`` iterations
    from ``it0``, except the durations (see :func:`sample_durations`): random lags,
    existence and branch draws, risk occurrences and impacts, driver factors, costs.

    rstat : int64[3, R + D]   occurrences, and the exact sum of the impact (factor)
                              when occurring (times risk_scale / drv_scale), of every
                              risk then driver, over the first ``n_lanes`` lanes
    """
    if w.lag.shape[0] > 0:
        fill_uniforms(w.ulag, w.scratch, it0, STREAM_LAG, k0, k1)
        for r in range(w.lag.shape[0]):
            sample_row(m.lag_code[r], m.lag_par, r, m.tables, w.ulag, m.lag_var[r], w.lag, r)
    if m.n_ex_vars > 0:
        fill_uniforms(w.uex, w.scratch, it0, STREAM_EXIST, k0, k1)
    n_br = m.br_ptr.shape[0] - 1
    if n_br > 0:
        fill_uniforms(w.ubr, w.scratch, it0, STREAM_BRANCH, k0, k1)
        for b in range(n_br):
            lo, hi = m.br_ptr[b], m.br_ptr[b + 1]
            for lane in range(LANES):
                j = 0
                while j < hi - lo - 1 and w.ubr[b, lane] >= m.br_cum[lo + j]:
                    j += 1
                w.chosen[b, lane] = j
    n_risk = m.risk_p.shape[0]
    if n_risk > 0:
        fill_uniforms(w.urisk, w.scratch, it0, STREAM_RISK, k0, k1)
        fill_uniforms(w.uimp, w.scratch, it0, STREAM_RISK_IMPACT, k0, k1)
        for r in range(n_risk):
            sample_row(m.risk_code[r], m.risk_par, r, m.tables, w.uimp, m.risk_var[r], w.imp, r)
            for lane in range(LANES):
                w.occ[r, lane] = 1.0 if w.urisk[r, lane] < m.risk_p[r] else 0.0
            for lane in range(n_lanes):
                if w.occ[r, lane] > 0.0:
                    rstat[0, r] += 1
                    _add_fixed(rstat, 1, r, w.imp[r, lane] * m.risk_scale[r])
    n_drv = m.drv_p.shape[0]
    if n_drv > 0:
        fill_uniforms(w.udrv, w.scratch, it0, STREAM_DRIVER, k0, k1)
        fill_uniforms(w.udf, w.scratch, it0, STREAM_DRIVER_FACTOR, k0, k1)
        for d in range(n_drv):
            sample_row(m.drv_code[d], m.drv_par, d, m.tables, w.udf, d, w.fac, d)
            for lane in range(LANES):
                if not w.udrv[d, lane] < m.drv_p[d]:
                    w.fac[d, lane] = 1.0
            for lane in range(n_lanes):
                if w.udrv[d, lane] < m.drv_p[d]:
                    rstat[0, n_risk + d] += 1
                    _add_fixed(rstat, 1, n_risk + d, w.fac[d, lane] * m.drv_scale[d])
    if m.cost_on:
        draw_costs(m, w, it0, k0, k1)


#: The sampler inlined into draw_costs, which calls it once per random cost row and 16
#: iterations: measured on the cost benchmark, inlining saves ~18 ns per row there
#: (draw_costs 2.5 -> 2.1 ns per task-iteration), though a bare call in a tight loop
#: costs only ~4 ns; sample_durations keeps the called version.
_sample_row_inline = njit(**INLINE_JIT)(sample_row.py_func)


@njit(**JIT)
def draw_costs(m, w, it0, k0, k1):
    """Sample the random fixed costs, cost rates, risk cost impacts and project cost rate
    (the constant ones are in place since :func:`make_work`).

    Row r's uniforms are word r % 4 of Philox block r // 4 (as :func:`fill_uniforms`
    draws them); a block is drawn only when one of its four rows is random (skipping
    the others changes no draw), and its rows are sampled at once from ``w.ucost``,
    so the uniforms never travel through memory.
    """
    ucost, scratch, tables = w.ucost, w.scratch, m.tables
    for stream, code, par, out in ((STREAM_COST_FIXED, m.cfix_code, m.cfix_par, w.cfix),
                                   (STREAM_COST_RATE, m.crate_code, m.crate_par, w.crate),
                                   (STREAM_RISK_COST, m.rcost_code, m.rcost_par, w.rcost),
                                   (STREAM_PROJECT_COST, m.pcost_code, m.pcost_par, w.pcost)):
        rows = code.shape[0]
        s = np.uint64(stream)
        for g in range((rows + 3) // 4):
            r0 = 4 * g
            r1 = min(r0 + 4, rows)
            n_random = 0
            for r in range(r0, r1):
                n_random += code[r] != FIXED
            if n_random == 0:
                continue
            for lane in range(LANES):
                scratch[0, lane] = np.uint64(it0 + lane)
                scratch[1, lane] = np.uint64(g)
                scratch[2, lane] = s
                scratch[3, lane] = np.uint64(0)
            philox4x64_lanes(scratch, k0, k1)
            for j in range(r1 - r0):
                for lane in range(LANES):
                    ucost[j, lane] = to_unit(scratch[j, lane])
            for r in range(r0, r1):
                if code[r] != FIXED:
                    _sample_row_inline(code[r], par, r, tables, ucost, r - r0, out, r)


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_U_MIN = 2.0 ** -53


@njit(**JIT)
def sample_durations(m, w, it0, n_sub, k0, k1):
    """Base durations of ``n_sub * LANES`` iterations from ``it0`` into ``dsb``.

    Philox group by group (four duration variables per block), each variable's
    ``n_sub`` sub-blocks sampled in a row, so its inverse-CDF table stays in cache;
    correlated variables are left to :func:`sample_correlated`.
    """
    n = w.dur.shape[0]
    n_vars = m.n_dur_vars
    scratch, ug, dsb = w.scratch, w.ug, w.dsb   # hoisted: each w.x in a loop costs a refcount
    s = np.uint64(STREAM_DURATION)
    for g in range((n_vars + 3) // 4):
        for sub in range(n_sub):
            for lane in range(LANES):
                scratch[0, lane] = np.uint64(it0 + sub * LANES + lane)
                scratch[1, lane] = np.uint64(g)
                scratch[2, lane] = s
                scratch[3, lane] = np.uint64(0)
            philox4x64_lanes(scratch, k0, k1)
            for j in range(4):
                for lane in range(LANES):
                    ug[j * n_sub + sub, lane] = to_unit(scratch[j, lane])
        for j in range(min(4, n_vars - 4 * g)):
            v = 4 * g + j
            if m.var_corr[v]:
                continue
            p = m.var_pos[v]
            for sub in range(n_sub):
                sample_row(m.dur_code[p], m.dur_par, p, m.tables, ug, j * n_sub + sub,
                           dsb, sub * n + p)
    if m.corr_ptr.shape[0] > 1:
        sample_correlated(m, w, it0, n_sub, k0, k1)


@njit(**JIT)
def sample_correlated(m, w, it0, n_sub, k0, k1):
    """Base durations of the correlated variables: a Gaussian copula on their uniforms.

    For a group's uniforms u (the same draws as uncorrelated variables would get):
    z = Phi^-1(u) (the standard normal quantile table), z' = L z with L the Cholesky
    factor of the group's Pearson matrix, u' = Phi(z'). u' is exactly uniform, so
    every marginal distribution is kept, and the rank correlation of the durations
    is (6/pi) asin(r/2) for the Pearson r of L L^T.
    """
    n = w.dur.shape[0]
    s = np.uint64(STREAM_DURATION)
    for g in range(m.corr_ptr.shape[0] - 1):
        v0 = m.corr_ptr[g]
        k = m.corr_ptr[g + 1] - v0
        l0 = m.corr_lptr[g]
        for sub in range(n_sub):
            for i in range(k):
                v = m.corr_var[v0 + i]
                for lane in range(LANES):
                    w.scratch[0, lane] = np.uint64(it0 + sub * LANES + lane)
                    w.scratch[1, lane] = np.uint64(v // 4)
                    w.scratch[2, lane] = s
                    w.scratch[3, lane] = np.uint64(0)
                philox4x64_lanes(w.scratch, k0, k1)
                for lane in range(LANES):
                    w.ucorr[i, lane] = to_unit(w.scratch[v % 4, lane])
                    w.zc[i, lane] = 0.0
            for j in range(k):
                for lane in range(LANES):
                    z = qtable_value(m.tables, m.normal_off, w.ucorr[j, lane])
                    for i in range(j, k):
                        w.zc[i, lane] += m.corr_l[l0 + i * k + j] * z
            for i in range(k):
                for lane in range(LANES):
                    x = 0.5 * math.erfc(-w.zc[i, lane] * _INV_SQRT2)
                    w.ucorr[i, lane] = min(max(x, _U_MIN), 1.0 - _U_MIN)
                v = m.corr_var[v0 + i]
                p = m.var_pos[v]
                sample_row(m.dur_code[p], m.dur_par, p, m.tables, w.ucorr, i, w.dsb, sub * n + p)


@njit(**JIT)
def accumulate_task(m, p, dur, es, ef, lf, ex, t, tol, n_lanes, crit, mom, hist, tmin, tmax):
    """Add task ``p`` of the first ``n_lanes`` lanes to the streaming accumulators.

    dur, es, ef, lf, ex : float64[n_tasks, LANES]   the lanes' durations, dates, existence
    t : float64[4, LANES]                  work space
    tol : float64[LANES]                   critical when total float <= tol (per lane)
    crit : int64[n_tasks]                  iterations in which the task was critical
    mom : int64[N_MOMENT_ROWS, n_tasks]    exact sums, over lane blocks, of the block sums
                                           of d = (start - shift) * mom_scale, d**2, and
                                           the same for the finish: each as an integer
                                           part and a count of 2**-32 units (rounded to
                                           nearest); mom_scale is a power of two that makes
                                           |d| <~ 1, so the resolution is relative to each
                                           task's spread
    hist : int64[n_tasks, n_bins + 2]      finish histogram (under/overflow at the ends)
    tmin, tmax : float64[n_tasks]          extreme finishes

    Integer addition is associative, so the totals are the same whatever the
    order in which threads and chunks add their parts: the key to bit-identical
    results on any thread count and chunk size.
    """
    s_shift = m.start_shift[p]
    f_shift = m.finish_shift[p]
    sc = m.mom_scale[p]
    lo = m.hist_lo[p]
    scale = m.hist_scale[p]
    n_crit = 0
    fmin = tmin[p]
    fmax = tmax[p]
    for lane in range(LANES):
        # a task that does not exist in the iteration is never critical
        live = lane < n_lanes
        n_crit += (lf[p, lane] - dur[p, lane] - es[p, lane] <= tol[lane]) & (ex[p, lane] > 0.0) & live
        ds = (es[p, lane] - s_shift) * sc if live else 0.0
        df = (ef[p, lane] - f_shift) * sc if live else 0.0
        t[0, lane] = ds
        t[1, lane] = ds * ds
        t[2, lane] = df
        t[3, lane] = df * df
        if live:
            fmin = min(fmin, ef[p, lane])
            fmax = max(fmax, ef[p, lane])
    # sum the lanes in a fixed pairwise order (vectorised, no reassociation): the
    # 16 iterations of a lane block are always the same ones (blocks are aligned to
    # multiples of LANES), so this float sum is reproducible; one exact fixed-point
    # addition per block then makes the total independent of thread and chunk order
    for width in (8, 4, 2, 1):
        for q in range(4):
            for lane in range(width):
                t[q, lane] += t[q, lane + width]
    crit[p] += n_crit
    for q in range(4):
        _add_fixed(mom, 2 * q, p, t[q, 0])
    tmin[p] = fmin
    tmax[p] = fmax
    for lane in range(n_lanes):
        count_in_bin(hist, p, (ef[p, lane] - lo) * scale)


@njit(**JIT)
def _clear_costs(cost, cash):
    for lane in range(LANES):
        cost[lane] = 0.0
        for k in range(CASH_PERIODS + 2):
            cash[lane, k, 0] = 0.0
            cash[lane, k, 1] = 0.0


@njit(**JIT)
def cost_of_lanes(m, w, n_lanes, cash_hist, cash_min, cash_max):
    """Finish the project cost of each lane in ``w.cost``, and count the cash flow.

    The forward pass has added every task's cost and cash-flow deposits (see
    :func:`forward_pass`); the project cost rate is paid over the whole project
    duration, a ramp from 0 to the project finish. Cumulative spend at the grid
    times ``t_k = k * cash_dt``: C_k = t_k * W_k - A_k, W and A the prefix sums of
    the slope and slope * time deposits, O(tasks + periods) per iteration.

    cash_hist : int64[CASH_PERIODS + 1, n_bins + 2]   cumulative spend histograms
    cash_min, cash_max : float64[CASH_PERIODS + 1]    their exact extremes
    """
    has_rate = m.pcost_code.shape[0] > 0
    dt = m.cash_dt
    inv_dt = 1.0 / dt
    cash, pf, cost, pcost = w.cash, w.pf, w.cost, w.pcost
    lo, scale = m.cash_lo, m.cash_scale
    for lane in range(n_lanes):
        if has_rate:
            rate = pcost[0, lane]
            cost[lane] += rate * pf[lane]
            _deposit_ramp(cash, lane, 0.0, rate, inv_dt)
            _deposit_ramp(cash, lane, pf[lane], -rate, inv_dt)
        sw = 0.0
        sa = 0.0
        for k in range(CASH_PERIODS + 1):
            sw += cash[lane, k, 0]
            sa += cash[lane, k, 1]
            x = (k * dt) * sw - sa
            cash_min[k] = min(cash_min[k], x)
            cash_max[k] = max(cash_max[k], x)
            count_in_bin(cash_hist, k, (x - lo) * scale)


@njit(**JIT)
def count_in_bin(hist, row, b):
    """Count a value at bin position ``b`` (value - lo) * scale in ``hist[row]``, whose first
    and last columns are the open-ended under- and overflow bins."""
    n_bins = hist.shape[1] - 2
    if b < 0.0:
        hist[row, 0] += 1
    elif b >= n_bins:
        hist[row, n_bins + 1] += 1
    else:
        hist[row, int(b) + 1] += 1


@njit(**JIT)
def _deposit_ramp(cash, lane, a, slope, inv_dt):
    """A ramp max(0, t - a) * slope in ``lane`` (see :func:`forward_pass`)."""
    k = int(min(max(np.floor(a * inv_dt) + 1.0, 0.0), float(CASH_PERIODS + 1)))
    cash[lane, k, 0] += slope
    cash[lane, k, 1] += slope * a


@njit(**PARALLEL_JIT)
def simulate_chunks(m, k0, k1, it_start, n_iter, chunk, n_slots, finish_out, cost_out,
                    crit, mom, hist, tmin, tmax, rstat, cash_hist, cash_min, cash_max,
                    keep, dur_out, es_out, ef_out, corr_out):
    """Simulate iterations ``it_start .. it_start + n_iter - 1``; the fused parallel driver.

    Iterations are cut into chunks of ``chunk``; slot ``s`` (one per thread) takes
    chunks ``s, s + n_slots, ...`` and adds into its own accumulator row, so
    nothing races; the caller sums the rows (integers: any order gives the same bits).

    Parameters
    ----------
    m : KernelModel
    k0, k1 : uint64                      Philox key
    finish_out : float64[n_iter]         out: project finish of every iteration
    crit : int64[n_slots, n_tasks]
    mom : int64[n_slots, N_MOMENT_ROWS, n_tasks]
    hist : int64[n_slots, n_tasks, n_bins + 2]
    tmin, tmax : float64[n_slots, n_tasks]
    cost_out : float64[n_iter]           out: project cost of every iteration (when m.cost_on)
    rstat : int64[n_slots, 3, R + D]     risk and driver occurrences and impact sums
    cash_hist : int64[n_slots, CASH_PERIODS + 1, n_bins + 2]   cumulative spend histograms
    cash_min, cash_max : float64[n_slots, CASH_PERIODS + 1]
    keep : bool                          also write per-iteration samples
    dur_out, es_out, ef_out : float64[n_iter, n_tasks] (or [0, 0] when not kept)
    corr_out : float64[n_corr_keep, n_corr_members]
        Durations of the correlated tasks in global iterations ``0 .. n_corr_keep - 1``
        (to measure the achieved rank correlation).
    """
    n_chunks = (n_iter + chunk - 1) // chunk
    for s in prange(n_slots):
        w = make_work(m)
        crit_s, mom_s, hist_s, tmin_s, tmax_s = crit[s], mom[s], hist[s], tmin[s], tmax[s]
        rstat_s = rstat[s]
        cash_hist_s, cash_min_s, cash_max_s = cash_hist[s], cash_min[s], cash_max[s]
        for c in range(s, n_chunks, n_slots):
            c0 = c * chunk
            c1 = min(c0 + chunk, n_iter)
            for s0 in range(c0, c1, SUPER):
                n_sub = (min(SUPER, c1 - s0) + LANES - 1) // LANES
                sample_durations(m, w, it_start + s0, n_sub, k0, k1)
                for sub in range(n_sub):
                    b0 = s0 + sub * LANES
                    nl = min(LANES, c1 - b0)
                    _schedule_lanes(m, w, sub, b0, nl, it_start, k0, k1, finish_out, cost_out,
                                    crit_s, mom_s, hist_s, tmin_s, tmax_s, rstat_s, cash_hist_s,
                                    cash_min_s, cash_max_s, keep, dur_out, es_out, ef_out,
                                    corr_out)


@njit(**JIT)
def _schedule_lanes(m, w, sub, b0, nl, it_start, k0, k1, finish_out, cost_out, crit_s, mom_s,
                    hist_s, tmin_s, tmax_s, rstat_s, cash_hist_s, cash_min_s, cash_max_s, keep,
                    dur_out, es_out, ef_out, corr_out):
    """Schedule sub-block ``sub`` of the current super-block (iterations from ``b0``)."""
    n = m.dur_code.shape[0]
    n_corr_keep = corr_out.shape[0]
    draw_block(m, w, it_start + b0, k0, k1, nl, rstat_s)
    forward_pass(m, w, sub, m.cost_on)
    backward_pass(m, w, nl, True, crit_s, mom_s, hist_s, tmin_s, tmax_s)
    for lane in range(nl):
        finish_out[b0 + lane] = w.pf[lane]
    if m.cost_on:
        cost_of_lanes(m, w, nl, cash_hist_s, cash_min_s, cash_max_s)
        for lane in range(nl):
            cost_out[b0 + lane] = w.cost[lane]
    if keep:
        for p in range(n):
            for lane in range(nl):
                dur_out[b0 + lane, p] = w.dur[p, lane]
                es_out[b0 + lane, p] = w.es[p, lane]
                ef_out[b0 + lane, p] = w.ef[p, lane]
    if it_start + b0 < n_corr_keep:
        for lane in range(nl):
            it = it_start + b0 + lane
            if it < n_corr_keep:
                for j in range(m.corr_pos.shape[0]):
                    corr_out[it, j] = w.dur[m.corr_pos[j], lane]


@njit(**JIT)
def deterministic_pass(m, dur1, lag1):
    """CPM on given durations/lags (float64[n_tasks], float64[n_rlags]), every task existing.

    Returns early start, early finish, late finish (float64[n_tasks] each) and the
    project finish.
    """
    w = make_work(m)
    for p in range(dur1.shape[0]):
        w.dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        w.lag[r, :] = lag1[r]
    none_i = np.zeros((1, 1), dtype=np.int64)
    none_f = np.zeros(1)
    forward_pass(m, w, -1, False)
    backward_pass(m, w, 1, False, none_i[0], none_i, none_i, none_f, none_f)
    return w.es[:, 0].copy(), w.ef[:, 0].copy(), w.lf[:, 0].copy(), w.pf[0]

"""Forward/backward CPM passes over lanes of iterations, and the fused simulation driver.

Tasks are numbered by *position* in topological order. Links are stored per
successor in CSR form: the predecessors of position ``p`` are
``pred_idx[pred_ptr[p]:pred_ptr[p + 1]]`` with types ``pred_type`` (0 FS, 1 SS,
2 FF, 3 SF); a link's lag in lane ``l`` is ``pred_lag[k] + lag[pred_lagrow[k], l]``
where row 0 of the work array ``lag`` is all zeros (constant lags) and row
``1 + r`` holds sampled lag ``r``: one expression, no branch, for both kinds. All time arrays are ``float64[n_tasks, LANES]``: lane
``l`` is one iteration and every inner loop runs over all ``LANES`` lanes (a
constant trip count, so it vectorises); lanes past the last iteration of a run
are computed and then ignored.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import carray, njit, prange

from . import CASH_PERIODS, CRITICAL_RTOL, INLINE_JIT, JIT, LANES, PARALLEL_JIT, SUPER
from .rng import (
    STREAM_BRANCH, STREAM_COST_FIXED, STREAM_COST_RATE, STREAM_DRIVER, STREAM_DRIVER_FACTOR,
    STREAM_DURATION, STREAM_EXIST, STREAM_LAG, STREAM_PROJECT_COST, STREAM_RISK,
    STREAM_RISK_COST, STREAM_RISK_IMPACT, fill_uniforms, philox_uniforms,
)
from ..distributions import QT_COEFS, QT_LOWER, QT_MID_CELLS, QT_OCT_CELLS, QT_UPPER, QTABLE
from .intrinsics import prefetch
from .sampling import FIXED, qtable_value, sample_row
from .simd import (
    FOLD, vadd, vceil, vdiv, vfirst, vfloor, vfold_add, vfold_max, vfold_min, vkeep, vload,
    vmax, vmin, vmul, vneg, vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub,
)
from .stack import _alloca_f64, _alloca_u64
from .worktime import EPS, finish_at, shift, start_at, work

FS, SS, FF, SF = 0, 1, 2, 3
KIND_TASK, KIND_FINISH_MILESTONE, KIND_CONNECTOR = 0, 1, 2   # as pmosim.compile
#: Sub-blocks (of LANES iterations) per super-block.
N_SUB = SUPER // LANES
_TWO32 = 4294967296.0
_U1 = np.uint64(1)


class Work(NamedTuple):
    """One thread's per-lane work arrays (all ``[rows, LANES]``)."""

    dsb: np.ndarray       # float64[SUPER / LANES * n]  base durations of a super-block:
                          #                       row p * SUPER / LANES + sub is task p,
                          #                       sub-block sub (a task's rows are
                          #                       contiguous: sampling writes them in a
                          #                       row; rows n * 128 B apart would all
                          #                       fall in one cache set)
    ug: np.ndarray        # float64[4 * SUPER / LANES]  one Philox group's uniforms
    ucorr: np.ndarray     # float64[max group]    a correlation group's uniforms
    ulag: np.ndarray      # float64[n_lag_vars]
    dur: np.ndarray       # float64[n]            durations (by position)
    lag: np.ndarray       # float64[1 + n_rlags]  zeros, then the sampled lags
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
    lsum: np.ndarray      # float64[LSUM_ROWS * n, LSUM_LANES] per-lane running sums of each
                          #                       task over the current super-block (see
                          #                       accumulate_task)
    hbin: np.ndarray      # uint8[N_SUB * n, LANES] finish-histogram bin of each task in each
                          #                       iteration of the current super-block, row
                          #                       sub * n + p: one sub-block's bins are
                          #                       contiguous (16 KB at 1,000 tasks, not a
                          #                       line per task)
    ucost: np.ndarray     # float64[4, LANES]     one Philox block of cost uniforms
    cfix: np.ndarray      # float64[C1]           sampled fixed costs
    crate: np.ndarray     # float64[C2]           sampled cost rates
    rcost: np.ndarray     # float64[R]            sampled risk cost impacts
    pcost: np.ndarray     # float64[1]            sampled project cost rate
    cost: np.ndarray      # float64[LANES]        project cost
    cash: np.ndarray      # float64[LANES, CASH_PERIODS + 2, 2] cash flow: slope and
                          #                       slope * time deposits (+ a spill cell)
    los: np.ndarray       # float64[LANES]        wall-clock mode: one task's start bound
    lof: np.ndarray       # float64[LANES]        ... its finish bound
    ls: np.ndarray        # float64[n or 0]       ... late start (elapsed hours)
    tf: np.ndarray        # float64[n or 0]       ... total float (task's working days)


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
    dsb = np.empty((N_SUB * n, LANES))
    for p in range(n):
        if m.dur_code[p] == FIXED:
            # constant in every iteration: written once, skipped by sample_durations
            dsb[p * N_SUB:(p + 1) * N_SUB, :] = m.dur_par[p, 0]
    n_cal = n if m.cal_on else 0
    w = Work(
        dsb, np.empty((4 * N_SUB, LANES)), np.empty((gmax, LANES)),
        np.empty((m.n_lag_vars, LANES)), np.empty((n, LANES)),
        np.zeros((1 + m.lag_code.shape[0], LANES)), np.empty((n, LANES)), np.empty((n, LANES)),
        np.empty((n, LANES)), np.ones((n, LANES)), np.empty(LANES), np.empty(LANES),
        np.empty(LANES), np.empty((m.n_ex_vars, LANES)), np.empty((n_br, LANES)),
        np.empty((n_br, LANES)), np.empty((n_risk, LANES)), np.empty((n_risk, LANES)),
        np.zeros((n_risk, LANES)), np.zeros((n_risk, LANES)), np.empty((n_drv, LANES)),
        np.empty((n_drv, LANES)), np.ones((n_drv, LANES)), np.empty((gmax, LANES)),
        _new_lane_sums(n), np.zeros((N_SUB * n, LANES), dtype=np.uint8),
        np.empty((4, LANES)),
        np.empty((m.cfix_code.shape[0], LANES)), np.empty((m.crate_code.shape[0], LANES)),
        np.zeros((n_risk, LANES)), np.zeros((1, LANES)), np.zeros(LANES),
        np.zeros((LANES, CASH_PERIODS + 2, 2)),
        np.empty(LANES), np.empty(LANES),
        np.empty((n_cal, LANES)), np.empty((n_cal, LANES)),
    )
    # constant costs are written once here; draw_costs samples only the random ones
    for code, par, out in ((m.cfix_code, m.cfix_par, w.cfix), (m.crate_code, m.crate_par, w.crate),
                           (m.rcost_code, m.rcost_par, w.rcost),
                           (m.pcost_code, m.pcost_par, w.pcost)):
        for r in range(code.shape[0]):
            if code[r] == FIXED:
                out[r, :] = par[r, 0]
    return w


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
def add_task_costs(m, w):
    """Each costed task's cost into ``w.cost`` and its accrual into ``w.cash``, after the
    passes (of either mode); :func:`cost_of_lanes` then adds the project cost rate and
    counts the cash flow.

    Task cost = existence * fixed + its shares of the risk cost impacts (together the
    lump, spread evenly over the task's duration) + rate * duration (accrued at the
    rate, so that only the lump needs a division). The cumulative spend at grid time
    ``t_k = k * cash_dt`` is C_k = t_k * W_k - A_k with W, A the prefix sums of slope
    and slope * time deposits: a ramp of slope s from time a adds s to W and s * a to
    A at the first grid point after a (at 0 when a < 0: work done before time 0 is
    seen from t = 0); a task is a ramp up at its early start and down at its early
    finish, a task without duration a step of its cost (-cost in A) at the first grid
    point at or after its start. Cells past the grid go to a spill cell never read.
    Done inside the forward pass it was ~1.3 ns per task-iteration cheaper for cost
    runs, but its code slowed the plain pass by ~15 % (measured).
    """
    es, ef, dur, ex, cfix, crate, occ, rcost = w.es, w.ef, w.dur, w.ex, w.cfix, w.crate, w.occ, w.rcost
    cash = w.cash
    cost_fix, cost_rate, crate_code, crate_par = m.cost_fix, m.cost_rate, m.crate_code, m.crate_par
    risk_ptr, risk_idx, risk_share = m.cost_risk_ptr, m.cost_risk_idx, m.cost_risk_share
    exist_on = m.exist_on
    # rows are .simd vectors; only the scatter into ``cash`` goes lane by lane, from
    # stack buffers. The body is written out here rather than in an inlined helper:
    # numba's IR inlining increfs and decrefs every array argument at each call, ~15
    # atomic operations per task, which made this pass ~3 ns per task-iteration slower.
    d1b = carray(_alloca_f64(LANES), LANES)
    d2b = carray(_alloca_f64(LANES), LANES)
    d3b = carray(_alloca_f64(LANES), LANES)
    iab = carray(_alloca_u64(LANES), LANES)
    ibb = carray(_alloca_u64(LANES), LANES)
    # the scatter indexes cash as one flat row with unsigned indices computed as
    # vectors: (lane * (CASH_PERIODS + 2) + cell) * 2 (+ 1 for the slope * time part)
    cashf = cash.reshape(cash.size)
    lane_off = carray(_alloca_f64(LANES), LANES)
    for lane in range(LANES):
        lane_off[lane] = lane * (CASH_PERIODS + 2) * 2.0
    lov = vload(lane_off, 0)
    two = vsplat(2.0)
    zero = vsplat(0.0)
    one = vsplat(1.0)
    cost_sum = zero
    _clear_costs(w.cost, cash)
    cost_pos = m.cost_pos
    inv_dt = vsplat(1.0 / m.cash_dt)
    spill = vsplat(float(CASH_PERIODS + 1))
    for j in range(cost_pos.shape[0]):
        p = cost_pos[j]
        r = cost_rate[j]
        # a constant rate is read once, not as a row per lane
        rate_row = r >= 0 and crate_code[r] != FIXED
        rate0 = crate_par[r, 0] if r >= 0 else 0.0
        f = cost_fix[j]
        r0, r1 = risk_ptr[j], risk_ptr[j + 1]
        has_lump = f >= 0 or r1 > r0
        a = vload(es, p)
        b = vload(ef, p)
        slope = vload(crate, r) if rate_row else vsplat(rate0)
        d0 = vmul(slope, vload(dur, p))
        if has_lump:
            if f >= 0 and exist_on:
                lump = vmul(vload(ex, p), vload(cfix, f))
            elif f >= 0:        # every task exists: ex is all ones, not worth reading
                lump = vload(cfix, f)
            else:
                lump = zero
            for k in range(r0, r1):
                q = risk_idx[k]
                lump = vadd(lump, vmul(vmul(vload(occ, q), vload(rcost, q)), vsplat(risk_share[k])))
            # rate * duration accrues at the rate: a division only for the lump
            span = vsub(b, a)
            d0 = vadd(d0, lump)
            slope = vadd(slope, vselect_gt(span, zero, vdiv(lump, vselect_gt(span, zero, span, one)),
                                           zero))
        cost_sum = vadd(cost_sum, d0)
        fs = vceil(vmul(a, inv_dt))
        # a ramp from a to b, or (b <= a) a step of d0 at the first grid point at or after a
        xa = vselect_gt(b, a, vadd(vfloor(vmul(a, inv_dt)), one), fs)
        xb = vselect_gt(b, a, vadd(vfloor(vmul(b, inv_dt)), one), fs)
        xa = vselect_gt(xa, zero, xa, zero)
        xb = vselect_gt(xb, zero, xb, zero)
        vstore_int(iab, 0, vadd(lov, vmul(two, vselect_gt(spill, xa, xa, spill))))
        vstore_int(ibb, 0, vadd(lov, vmul(two, vselect_gt(spill, xb, xb, spill))))
        vstore(d1b, 0, vselect_gt(b, a, slope, zero))
        vstore(d2b, 0, vselect_gt(b, a, vmul(slope, a), vneg(d0)))
        vstore(d3b, 0, vselect_gt(b, a, vneg(vmul(slope, b)), zero))
        for lane in range(LANES):
            ia = iab[lane]
            ib = ibb[lane]
            cashf[ia] += d1b[lane]
            cashf[ia + _U1] += d2b[lane]
            cashf[ib] -= d1b[lane]
            cashf[ib + _U1] += d3b[lane]
    vstore(w.cost, 0, cost_sum)


@njit(**JIT)
def forward_pass(m, w, sub):
    """Early start/finish and project finish of ``LANES`` iterations.

    With ``sub >= 0``, each task's duration is taken from sub-block ``sub`` of the
    sampled super-block ``w.dsb`` and adjusted by drivers, risks and existence just
    before the pass needs it; with ``sub < 0``, ``w.dur`` is used as it is. Reads
    ``w.lag``; writes ``w.dur``, ``w.ex``, ``w.es``, ``w.ef`` and ``w.pf``.

    Rows are :mod:`.simd` vectors: a task's start stays in registers over its
    links. Task costs are added afterwards (:func:`add_task_costs`).
    """
    dur, es, ef, lag, dsb = w.dur, w.es, w.ef, w.lag, w.dsb
    pred_ptr, pred_idx, pred_type = m.pred_ptr, m.pred_idx, m.pred_type
    pred_lag, pred_lagrow, release = m.pred_lag, m.pred_lagrow, m.release
    adjust = (m.task_drv_idx.shape[0] > 0 or m.task_risk_idx.shape[0] > 0 or m.exist_on)
    fixed_on, fixed_start, fixed_dur = m.fixed_on, m.fixed_start, m.fixed_dur
    n = dur.shape[0]
    zero = vsplat(0.0)
    fin = zero
    for p in range(n):
        if sub >= 0:
            d = vload(dsb, p * N_SUB + sub)
            vstore(dur, p, d)
            if adjust:
                _adjust_duration(m, w, p)
                d = vload(dur, p)
        else:
            d = vload(dur, p)
        start = zero
        for k in range(pred_ptr[p], pred_ptr[p + 1]):
            q = pred_idx[k]
            t = pred_type[k]
            lk = vadd(vsplat(pred_lag[k]), vload(lag, pred_lagrow[k]))
            if t == FS:
                start = vmax(start, vadd(vload(ef, q), lk))
            elif t == SS:
                start = vmax(start, vadd(vload(es, q), lk))
            elif t == FF:
                start = vmax(start, vsub(vadd(vload(ef, q), lk), d))
            else:
                start = vmax(start, vsub(vadd(vload(es, q), lk), d))
        rel = release[p]
        if rel != 0.0:
            start = vmax(start, vsplat(rel))
        if fixed_on and not np.isnan(fixed_start[p]):
            # a completed task keeps its actual dates, whatever its predecessors did
            start = vsplat(fixed_start[p])
            d = vsplat(fixed_dur[p])
            vstore(dur, p, d)
        vstore(es, p, start)
        f = vadd(start, d)
        vstore(ef, p, f)
        fin = vmax(fin, f)
    vstore(w.pf, 0, fin)


@njit(**JIT)
def backward_pass(m, w, n_lanes, acc, sub, top):
    """Late finish of every task given the project finish (push style), into ``w.lf``.

    Late start is ``lf - dur``. A task's late finish is final once the pass reaches
    it (all its successors come later in topological order), so with ``acc`` its
    statistics are added there and then, while its rows are still in cache (as
    :func:`accumulate_task` does, written out here). Rows are :mod:`.simd`
    vectors (as in :func:`forward_pass`).
    """
    dur, lf, lag, pf = w.dur, w.lf, w.lag, w.pf
    pred_ptr, pred_idx, pred_type = m.pred_ptr, m.pred_idx, m.pred_type
    pred_lag, pred_lagrow = m.pred_lag, m.pred_lagrow
    n = dur.shape[0]
    es, ef, ex, lsum, hbin = w.es, w.ef, w.ex, w.lsum, w.hbin
    exist_on = m.exist_on
    s_shift, f_shift, mom_scale = m.start_shift, m.finish_shift, m.mom_scale
    hist_lo, hist_scale = m.hist_lo, m.hist_scale
    zero = vsplat(0.0)
    one = vsplat(1.0)
    pfv = vload(pf, 0)
    # CRITICAL_RTOL * max(1.0, finish), lane by lane
    tolv = vmul(vsplat(CRITICAL_RTOL), vmax(one, pfv))
    for p in range(n):
        vstore(lf, p, pfv)
    for p in range(n - 1, -1, -1):
        if acc:
            # here, while the task's rows are in cache: one accumulate loop over all
            # tasks after the pass cost 4.4 vs 3.3 ns per task-iteration (measured on
            # the 1,000-task benchmark network, before the .simd rewrite)
            e = vload(es, p)
            f = vload(ef, p)
            crit = vselect_le(vsub(vsub(vload(lf, p), vload(dur, p)), e), tolv, one, zero)
            if exist_on:
                # a task that does not exist in the iteration is never critical (ex is
                # all ones without existence draws: not read, 128 KB less per block)
                crit = vselect_gt(vload(ex, p), zero, crit, zero)
            _add_task_stats(e, f, crit, n_lanes, lsum, LSUM_ROWS * p, s_shift[p], f_shift[p],
                            mom_scale[p], hist_lo[p], hist_scale[p], hbin, sub * n + p, top)
        k0, k1 = pred_ptr[p], pred_ptr[p + 1]
        if k1 == k0:
            continue
        lp = vload(lf, p)
        lpd = vsub(lp, vload(dur, p))
        for k in range(k0, k1):
            q = pred_idx[k]
            t = pred_type[k]
            lk = vadd(vsplat(pred_lag[k]), vload(lag, pred_lagrow[k]))
            if t == FS:
                vstore(lf, q, vmin(vload(lf, q), vsub(lpd, lk)))
            elif t == FF:
                vstore(lf, q, vmin(vload(lf, q), vsub(lp, lk)))
            elif t == SS:
                vstore(lf, q, vmin(vload(lf, q), vadd(vsub(lpd, lk), vload(dur, q))))
            else:
                vstore(lf, q, vmin(vload(lf, q), vadd(vsub(lp, lk), vload(dur, q))))


# -- wall-clock mode: working calendars per task and lag ---------------------------------
# Times are elapsed hours from the data date while scheduling (kernels.worktime); the
# passes apply the rules of the reference pmosim.io._worktime.schedule_dates, lane by lane.

@njit(**JIT)
def _link_lag_cal(pred_lag, pred_lagrow, lag, k, lagv):
    """Lag of link ``k`` in every lane, into ``lagv`` (float64[LANES])."""
    c = pred_lag[k]
    r = pred_lagrow[k]
    for lane in range(LANES):
        lagv[lane] = c + lag[r, lane]


@njit(**JIT)
def forward_pass_cal(m, cm, w, sub):
    """:func:`forward_pass` of the wall-clock mode: early start/finish in elapsed hours.

    Each link bound is computed in the lag's calendar (``finish_at(work(t) + lag)``);
    a task starts at the next working moment of its own calendar and finishes
    ``duration * hours_per_day`` working hours later; finish bounds (FF, SF, finish
    constraints) move its start later; finish milestones stay at the end of a
    working period, connectors exactly on their bound; completed tasks keep their
    actual dates; as-late-as-possible tasks are then moved as late as their
    successors allow. Writes ``w.dur`` (working days of each task's calendar),
    ``w.ex``, ``w.es``, ``w.ef`` and ``w.pf`` (elapsed hours).
    """
    dur, es, ef, pf, lagv, los, lof = w.dur, w.es, w.ef, w.pf, w.lagv, w.los, w.lof
    tab, wk, ptr, wptr, rng = cm.cal_tab, cm.cal_week, cm.cal_ptr, cm.cal_wptr, cm.cal_range
    n = dur.shape[0]
    for lane in range(LANES):
        pf[lane] = 0.0
    for p in range(n):
        if sub >= 0:
            row = p * N_SUB + sub
            for lane in range(LANES):
                dur[p, lane] = w.dsb[row, lane]
            _adjust_duration(m, w, p)
        c = cm.task_cal[p]
        hp = cm.cal_hpd[c]
        if not np.isnan(cm.fix_ef[p]):
            a, b = cm.fix_es[p], cm.fix_ef[p]
            d = (work(tab, wk, ptr, wptr, rng, c, b) - work(tab, wk, ptr, wptr, rng, c, a)) / hp
            for lane in range(LANES):
                es[p, lane] = a
                ef[p, lane] = b
                dur[p, lane] = d
                pf[lane] = max(pf[lane], b)
            continue
        lo0, lf0 = cm.lo_start[p], cm.lo_finish[p]
        for lane in range(LANES):
            los[lane] = lo0
            lof[lane] = lf0
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            lc = cm.lag_cal[k]
            lh = cm.cal_hpd[lc]
            el = cm.lag_el[k]
            _link_lag_cal(m.pred_lag, m.pred_lagrow, w.lag, k, lagv)
            src = ef if t == FS or t == FF else es
            fixed_base = cm.link_base[k]
            bound = los if t == FS or t == SS else lof
            for lane in range(LANES):
                b = src[q, lane] if np.isnan(fixed_base) else fixed_base
                lag_h = lagv[lane] * lh
                if not np.isnan(el):
                    b += lagv[lane] * el
                elif lag_h != 0.0:
                    b = shift(tab, wk, ptr, wptr, rng, lc, b, lag_h)
                bound[lane] = max(bound[lane], b)
        kind = cm.task_kind[p]
        els = cm.el_scale[p]
        for lane in range(LANES):
            lo_s, lo_f = los[lane], lof[lane]
            if kind == KIND_CONNECTOR:
                st = fi = max(lo_s, lo_f)
            elif kind == KIND_FINISH_MILESTONE:
                x = max(lo_s, lo_f)
                wx = work(tab, wk, ptr, wptr, rng, c, x)
                st = fi = x
                if abs(finish_at(tab, wk, ptr, wptr, rng, c, wx) - x) > EPS:
                    st = fi = start_at(tab, wk, ptr, wptr, rng, c, wx)
            elif not np.isnan(els):
                st = start_at(tab, wk, ptr, wptr, rng, c, work(tab, wk, ptr, wptr, rng, c, lo_s))
                fi = max(st + dur[p, lane] * els, lo_f)
            else:
                # work(start_at(w)) is w: the start's working hours need no second search
                w_st = work(tab, wk, ptr, wptr, rng, c, lo_s)
                st = start_at(tab, wk, ptr, wptr, rng, c, w_st)
                dh = dur[p, lane] * hp
                fi = finish_at(tab, wk, ptr, wptr, rng, c, w_st + dh) if dh > 0.0 else st
                if lo_f > fi + EPS:
                    # a finish bound on a period boundary is kept as it is (MS Project
                    # shows an SF successor finishing at the 08:00 its predecessor starts)
                    wf = work(tab, wk, ptr, wptr, rng, c, lo_f)
                    on_boundary = min(abs(finish_at(tab, wk, ptr, wptr, rng, c, wf) - lo_f),
                                      abs(start_at(tab, wk, ptr, wptr, rng, c, wf) - lo_f)) <= EPS
                    fi = lo_f if on_boundary else finish_at(tab, wk, ptr, wptr, rng, c, wf)
                    st = start_at(tab, wk, ptr, wptr, rng, c, wf - dh) if dh > 0.0 else fi
            es[p, lane] = st
            ef[p, lane] = fi
            pf[lane] = max(pf[lane], fi)
        rep = cm.rep_start[p]
        if not np.isnan(rep):
            for lane in range(LANES):
                es[p, lane] = rep
    for j in range(cm.alap_pos.shape[0]):
        _move_alap(m, cm, w, cm.alap_pos[j])


@njit(**JIT)
def _move_alap(m, cm, w, p):
    """Move as-late-as-possible task ``p`` as late as its successors' early dates allow."""
    dur, es, ef, lagv, latest = w.dur, w.es, w.ef, w.lagv, w.los
    tab, wk, ptr, wptr, rng = cm.cal_tab, cm.cal_week, cm.cal_ptr, cm.cal_wptr, cm.cal_range
    c = cm.task_cal[p]
    hp = cm.cal_hpd[c]
    for lane in range(LANES):
        latest[lane] = w.pf[lane]
    for j in range(cm.succ_ptr[p], cm.succ_ptr[p + 1]):
        k = cm.succ_link[j]
        s = np.searchsorted(m.pred_ptr, k, side="right") - 1
        t = m.pred_type[k]
        lc = cm.lag_cal[k]
        lh = cm.cal_hpd[lc]
        _link_lag_cal(m.pred_lag, m.pred_lagrow, w.lag, k, lagv)
        src = es if t == FS or t == SS else ef
        for lane in range(LANES):
            b = shift(tab, wk, ptr, wptr, rng, lc, src[s, lane], -lagv[lane] * lh)
            if t == SS or t == SF:
                b = shift(tab, wk, ptr, wptr, rng, c, b, dur[p, lane] * hp)
            latest[lane] = min(latest[lane], b)
    milestone = cm.task_kind[p] == KIND_FINISH_MILESTONE
    for lane in range(LANES):
        x = latest[lane]
        if x > ef[p, lane] + EPS:
            if milestone:
                es[p, lane] = ef[p, lane] = x
            else:
                wf = work(tab, wk, ptr, wptr, rng, c, x)
                dh = dur[p, lane] * hp
                es[p, lane] = start_at(tab, wk, ptr, wptr, rng, c, wf - dh)
                ef[p, lane] = finish_at(tab, wk, ptr, wptr, rng, c, wf) if dh > 0.0 else es[p, lane]


@njit(**JIT)
def backward_pass_cal(m, cm, w):
    """Late start/finish (elapsed hours) and total float of the wall-clock mode.

    Mirrors :func:`forward_pass_cal`: a task's late finish is the earliest bound
    its successors put on it, each computed back in the lag's calendar
    (``finish_at(work(t) - lag)``), then snapped back to the end of the task's
    working time (connectors stay on their bound); its late start is ``duration``
    working hours of its own calendar before that; a start bound on a predecessor
    becomes a finish bound ``duration`` working hours after it. Total float is
    measured in working days of the task's own calendar:
    ``(work(lf) - work(ef)) / hours_per_day``. Writes ``w.lf``, ``w.ls`` and ``w.tf``.

    Constraints act on the early dates only: late dates come from the successors
    and the project finish alone (P6 also applies finish-on and must-finish
    constraints to late dates; pmosim does not), and a completed task's late dates
    are those its successors allow.
    """
    dur, lf, ls, tf, lagv = w.dur, w.lf, w.ls, w.tf, w.lagv
    tab, wk, ptr, wptr, rng = cm.cal_tab, cm.cal_week, cm.cal_ptr, cm.cal_wptr, cm.cal_range
    n = dur.shape[0]
    for p in range(n):
        for lane in range(LANES):
            lf[p, lane] = w.pf[lane]
    for p in range(n - 1, -1, -1):
        c = cm.task_cal[p]
        hp = cm.cal_hpd[c]
        kind = cm.task_kind[p]
        els = cm.el_scale[p]
        for lane in range(LANES):
            x = lf[p, lane]
            wx = work(tab, wk, ptr, wptr, rng, c, x)
            if kind != KIND_CONNECTOR:
                # a late finish is shown at the end of the task's working time (which
                # has the same working hours done)
                x = finish_at(tab, wk, ptr, wptr, rng, c, wx)
                lf[p, lane] = x
            if kind != KIND_TASK:
                ls[p, lane] = x
            elif not np.isnan(els):
                ls[p, lane] = x - dur[p, lane] * els
            else:
                dh = dur[p, lane] * hp
                ls[p, lane] = start_at(tab, wk, ptr, wptr, rng, c, wx - dh) if dh > 0.0 else x
            tf[p, lane] = (wx - work(tab, wk, ptr, wptr, rng, c, w.ef[p, lane])) / hp
        for k in range(m.pred_ptr[p], m.pred_ptr[p + 1]):
            q = m.pred_idx[k]
            t = m.pred_type[k]
            lc = cm.lag_cal[k]
            lh = cm.cal_hpd[lc]
            el = cm.lag_el[k]
            qc = cm.task_cal[q]
            qhp = cm.cal_hpd[qc]
            q_task = cm.task_kind[q] == KIND_TASK
            qels = cm.el_scale[q]
            _link_lag_cal(m.pred_lag, m.pred_lagrow, w.lag, k, lagv)
            src = ls if t == FS or t == SS else lf
            for lane in range(LANES):
                b = src[p, lane]
                lag_h = lagv[lane] * lh
                if not np.isnan(el):
                    b -= lagv[lane] * el
                elif lag_h != 0.0:
                    b = shift(tab, wk, ptr, wptr, rng, lc, b, -lag_h)
                if (t == SS or t == SF) and q_task:
                    # a bound on the predecessor's start: its finish is its duration later
                    if not np.isnan(qels):
                        b += dur[q, lane] * qels
                    elif dur[q, lane] > 0.0:
                        b = shift(tab, wk, ptr, wptr, rng, qc, b, dur[q, lane] * qhp)
                lf[q, lane] = min(lf[q, lane], b)


@njit(**JIT)
def to_axis_days(cm, x):
    """Elapsed hours -> working days of the axis calendar, in place (float64[rows, LANES])."""
    tab, wk, ptr, wptr, rng = cm.cal_tab, cm.cal_week, cm.cal_ptr, cm.cal_wptr, cm.cal_range
    a = cm.axis_cal
    inv = 1.0 / cm.cal_hpd[a]
    for p in range(x.shape[0]):
        for lane in range(x.shape[1]):
            x[p, lane] = work(tab, wk, ptr, wptr, rng, a, x[p, lane]) * inv


@njit(**JIT)
def _passes_cal(m, cm, w, sub, n_lanes, acc, hist_top):
    """Both wall-clock passes, then every time in working days of the axis calendar.

    Criticality keeps its meaning: total float (working days of the task's
    calendar) <= CRITICAL_RTOL * max(1, finish in axis working days).
    """
    forward_pass_cal(m, cm, w, sub)
    backward_pass_cal(m, cm, w)
    to_axis_days(cm, w.es)
    to_axis_days(cm, w.ef)
    to_axis_days(cm, w.lf)
    to_axis_days(cm, w.ls)
    tab, wk, ptr, wptr, rng = cm.cal_tab, cm.cal_week, cm.cal_ptr, cm.cal_wptr, cm.cal_range
    a = cm.axis_cal
    inv = 1.0 / cm.cal_hpd[a]
    tol = np.empty(LANES)
    for lane in range(LANES):
        w.pf[lane] = work(tab, wk, ptr, wptr, rng, a, w.pf[lane]) * inv
        tol[lane] = CRITICAL_RTOL * max(1.0, w.pf[lane])
    if acc:
        # accumulate_task reads the total float as lf - dur - es; the wall-clock float
        # is in the task's own working days, so lf is set to match (the late finish
        # in axis days is not needed after this)
        es, ef, lf, dur, tf = w.es, w.ef, w.lf, w.dur, w.tf
        for p in range(dur.shape[0]):
            for lane in range(LANES):
                lf[p, lane] = es[p, lane] + dur[p, lane] + tf[p, lane]
            accumulate_task(p, dur, es, ef, lf, w.ex, tol, n_lanes, w.lsum, m.start_shift[p],
                            m.finish_shift[p], m.mom_scale[p], m.hist_lo[p], m.hist_scale[p],
                            w.hbin, sub * dur.shape[0] + p, hist_top)


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
    if m.lag_code.shape[0] > 0:
        fill_uniforms(w.ulag, it0, STREAM_LAG, k0, k1)
        for r in range(m.lag_code.shape[0]):
            sample_row(m.lag_code[r], m.lag_par, r, m.tables, w.ulag, m.lag_var[r], w.lag, r + 1, 1)
    if m.n_ex_vars > 0:
        fill_uniforms(w.uex, it0, STREAM_EXIST, k0, k1)
    n_br = m.br_ptr.shape[0] - 1
    if n_br > 0:
        fill_uniforms(w.ubr, it0, STREAM_BRANCH, k0, k1)
        for b in range(n_br):
            lo, hi = m.br_ptr[b], m.br_ptr[b + 1]
            for lane in range(LANES):
                j = 0
                while j < hi - lo - 1 and w.ubr[b, lane] >= m.br_cum[lo + j]:
                    j += 1
                w.chosen[b, lane] = j
    n_risk = m.risk_p.shape[0]
    if n_risk > 0:
        fill_uniforms(w.urisk, it0, STREAM_RISK, k0, k1)
        fill_uniforms(w.uimp, it0, STREAM_RISK_IMPACT, k0, k1)
        for r in range(n_risk):
            sample_row(m.risk_code[r], m.risk_par, r, m.tables, w.uimp, m.risk_var[r], w.imp, r, 1)
            for lane in range(LANES):
                w.occ[r, lane] = 1.0 if w.urisk[r, lane] < m.risk_p[r] else 0.0
            for lane in range(n_lanes):
                if w.occ[r, lane] > 0.0:
                    rstat[0, r] += 1
                    _add_fixed(rstat, 1, r, w.imp[r, lane] * m.risk_scale[r])
    n_drv = m.drv_p.shape[0]
    if n_drv > 0:
        fill_uniforms(w.udrv, it0, STREAM_DRIVER, k0, k1)
        fill_uniforms(w.udf, it0, STREAM_DRIVER_FACTOR, k0, k1)
        for d in range(n_drv):
            sample_row(m.drv_code[d], m.drv_par, d, m.tables, w.udf, d, w.fac, d, 1)
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
    ucost, tables = w.ucost, m.tables
    for stream, code, par, out in ((STREAM_COST_FIXED, m.cfix_code, m.cfix_par, w.cfix),
                                   (STREAM_COST_RATE, m.crate_code, m.crate_par, w.crate),
                                   (STREAM_RISK_COST, m.rcost_code, m.rcost_par, w.rcost),
                                   (STREAM_PROJECT_COST, m.pcost_code, m.pcost_par, w.pcost)):
        rows = code.shape[0]
        for g in range((rows + 3) // 4):
            r0 = 4 * g
            r1 = min(r0 + 4, rows)
            n_random = 0
            for r in range(r0, r1):
                n_random += code[r] != FIXED
            if n_random == 0:
                continue
            philox_uniforms(it0, g, stream, k0, k1, ucost, 0, 1, 0, r1 - r0)
            for r in range(r0, r1):
                if code[r] != FIXED:
                    _sample_row_inline(code[r], par, r, tables, ucost, r - r0, out, r, 1)


_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_U_MIN = 2.0 ** -53


#: Octaves of each tail prefetched with a table's middle cells: they hold 31/32 of
#: the tail draws. Lines are 8 words; the table's own alignment is ignored (a line
#: more or less).
_PREFETCH_OCTAVES = 3
_MID_LINES = QT_COEFS * QT_MID_CELLS // 8
_TAIL_LINES = QT_COEFS * QT_OCT_CELLS * _PREFETCH_OCTAVES // 8
_PREFETCH_LINES = _MID_LINES + 2 * _TAIL_LINES
#: The prefetches are issued in this many batches between parts of the current
#: variable's rows (1,000 distinct PERT tables, ns per draw: all at once 15.4, 4 parts
#: 11.2, 8 parts 9.6, 16 parts 11.1; one sample_row call per row and batch: 12.4).
_PREFETCH_PARTS = 8


@njit(**JIT)
def _prefetch_word(q):
    """Word offset in a quantile table of its ``q``-th hot cache line (middle, then
    the first octaves of the lower tail, then of the upper tail)."""
    if q < _MID_LINES:
        return 8 * q
    if q < _MID_LINES + _TAIL_LINES:
        return QT_LOWER + 8 * (q - _MID_LINES)
    return QT_UPPER + 8 * (q - _MID_LINES - _TAIL_LINES)


@njit(**JIT)
def sample_durations(m, w, it0, n_sub, k0, k1):
    """Base durations of ``n_sub * LANES`` iterations from ``it0`` into ``dsb``.

    Philox group by group (four duration variables per block), each variable's
    ``n_sub`` sub-blocks sampled in a row, so its inverse-CDF table stays in cache;
    correlated variables are left to :func:`sample_correlated`.
    """
    n_vars = m.n_dur_vars
    # hoisted: each w.x or m.x in a loop costs a refcount
    ug, dsb, tables, dur_code, dur_par = w.ug, w.dsb, m.tables, m.dur_code, m.dur_par
    var_corr, var_pos = m.var_corr, m.var_pos
    for g in range((n_vars + 3) // 4):
        n_in = min(4, n_vars - 4 * g)
        # fixed durations were written once by make_work; correlated ones come later
        drawn = 0
        for j in range(n_in):
            v = 4 * g + j
            drawn += not var_corr[v] and dur_code[var_pos[v]] != FIXED
        if drawn == 0:
            continue
        for sub in range(n_sub):
            philox_uniforms(it0 + sub * LANES, g, STREAM_DURATION, k0, k1, ug, sub, n_sub, 0, 4)
        for j in range(n_in):
            v = 4 * g + j
            p = var_pos[v]
            code = dur_code[p]
            if var_corr[v] or code == FIXED:
                continue
            # the next variable's table comes into cache while this one is sampled: with
            # hundreds of distinct tables (one per PERT shape) the draws otherwise wait
            # on memory for most of their time (measured: 1,000 PERT tasks 25 ns per
            # draw, one shared table 10.5 ns)
            nxt = -1
            if v + 1 < n_vars:
                pn = var_pos[v + 1]
                if dur_code[pn] == QTABLE:
                    nxt = int(dur_par[pn, 2])
            if nxt < 0:
                sample_row(code, dur_par, p, tables, ug, j * n_sub, dsb, p * N_SUB, n_sub)
                continue
            per_part = (n_sub + _PREFETCH_PARTS - 1) // _PREFETCH_PARTS
            per_pf = (_PREFETCH_LINES + _PREFETCH_PARTS - 1) // _PREFETCH_PARTS
            for part in range(_PREFETCH_PARTS):
                for q in range(part * per_pf, min((part + 1) * per_pf, _PREFETCH_LINES)):
                    prefetch(tables, nxt + _prefetch_word(q))
                r0 = part * per_part
                nr = min(per_part, n_sub - r0)
                if nr > 0:
                    sample_row(code, dur_par, p, tables, ug, j * n_sub + r0, dsb, p * N_SUB + r0, nr)
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
    for g in range(m.corr_ptr.shape[0] - 1):
        v0 = m.corr_ptr[g]
        k = m.corr_ptr[g + 1] - v0
        l0 = m.corr_lptr[g]
        for sub in range(n_sub):
            for i in range(k):
                v = m.corr_var[v0 + i]
                philox_uniforms(it0 + sub * LANES, v // 4, STREAM_DURATION, k0, k1, w.ucorr, i, 1,
                                v % 4, 1)
                for lane in range(LANES):
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
                sample_row(m.dur_code[p], m.dur_par, p, m.tables, w.ucorr, i, w.dsb, p * N_SUB + sub, 1)


#: Rows of per-lane running sums kept per task (see accumulate_task).
LSUM_ROWS = 7
#: Lanes of those sums: LANES folded by 4 (see simd.vfold_add).
LSUM_LANES = FOLD


@njit(**JIT)
def _new_lane_sums(n):
    lsum = np.empty((LSUM_ROWS * n, LSUM_LANES))
    reset_lane_sums(lsum)
    return lsum


@njit(**JIT)
def reset_lane_sums(lsum):
    """Zero the sums and counts, +/-inf the extremes (see :func:`accumulate_task`)."""
    for r0 in range(0, lsum.shape[0], LSUM_ROWS):
        for q in range(5):
            for lane in range(LSUM_LANES):
                lsum[r0 + q, lane] = 0.0
        for lane in range(LSUM_LANES):
            lsum[r0 + 5, lane] = np.inf
            lsum[r0 + 6, lane] = -np.inf


@njit(**JIT)
def _add_task_stats(e, f, crit, n_lanes, lsum, r, s_shift, f_shift, sc, lo, scale, hbin, hrow,
                    top):
    """Add one task's start ``e``, finish ``f`` and critical flags ``crit`` (vec) to its
    lane sums (rows ``r .. r + 6``) and histogram bins (row ``hrow``); see
    :func:`accumulate_task`. Lanes l, l + 4, l + 8, l + 12 are folded into lane l of
    the sums: a quarter of the memory (the sums of 1,000 tasks then fit in L2 with
    the passes' rows)."""
    zero = vsplat(0.0)
    one = vsplat(1.0)
    ds = vmul(vsub(e, vsplat(s_shift)), vsplat(sc))
    df = vmul(vsub(f, vsplat(f_shift)), vsplat(sc))
    vstore_int(hbin, hrow, vmin(vmax(vadd(vmul(vsub(f, vsplat(lo)), vsplat(scale)), one), zero),
                                vsplat(top)))
    if n_lanes < LANES:
        # the last block of a run: lanes past its end add nothing
        crit = vkeep(crit, n_lanes, zero)
        ds = vkeep(ds, n_lanes, zero)
        df = vkeep(df, n_lanes, zero)
        f = vkeep(f, n_lanes, vsplat(vfirst(f)))
    vfold_add(lsum, r, ds)
    vfold_add(lsum, r + 1, vmul(ds, ds))
    vfold_add(lsum, r + 2, df)
    vfold_add(lsum, r + 3, vmul(df, df))
    vfold_add(lsum, r + 4, crit)
    vfold_min(lsum, r + 5, f)
    vfold_max(lsum, r + 6, f)


@njit(**JIT)
def accumulate_task(p, dur, es, ef, lf, ex, tol, n_lanes, lsum, s_shift, f_shift, sc, lo, scale,
                    hbin, hrow, top):
    """Add task ``p`` of the first ``n_lanes`` lanes to the streaming accumulators.

    dur, es, ef, lf, ex : float64[n_tasks, LANES]   the lanes' durations, dates, existence
    tol : float64[LANES]                   critical when total float <= tol (per lane)
    lsum : float64[LSUM_ROWS * n_tasks, LSUM_LANES]
        Per lane (lanes l + 4j folded into lane l), over the lane blocks of the
        current super-block, rows
        ``LSUM_ROWS * p + (0..6)``: sums of d = (start - s_shift) * sc and d**2, of
        the same for the finish, the critical count, the least and greatest
        finish. :func:`flush_lane_sums` moves them into the exact totals at the end
        of each super-block; ``sc`` is a power of two that makes |d| <~ 1.
    hbin : uint8[N_SUB * n_tasks, LANES]   finish-histogram column of each iteration of the
                                           super-block, row ``hrow`` (sub-block * n_tasks +
                                           p): bin (finish - lo) * scale, under- and
                                           overflow in the end columns (column ``top``);
                                           counted by flush_lane_sums

    Rows are :mod:`.simd` vectors.
    """
    zero = vsplat(0.0)
    e = vload(es, p)
    f = vload(ef, p)
    # a task that does not exist in the iteration is never critical
    crit = vselect_le(vsub(vsub(vload(lf, p), vload(dur, p)), e), vload(tol, 0), vsplat(1.0), zero)
    crit = vselect_gt(vload(ex, p), zero, crit, zero)
    _add_task_stats(e, f, crit, n_lanes, lsum, LSUM_ROWS * p, s_shift, f_shift, sc, lo, scale,
                    hbin, hrow, top)


@njit(**JIT)
def flush_lane_sums(lsum, hbin, n_live, crit, mom, hist, tmin, tmax):
    """Add the per-lane sums of a finished super-block to the exact totals, and reset them.

    crit : int64[n_tasks]                  iterations in which the task was critical
    mom : int64[N_MOMENT_ROWS, n_tasks]    exact sums of the start/finish moment terms,
                                           each as an integer part and a count of 2**-32
                                           units (rounded to nearest)
    hist : int64[n_tasks, n_bins + 2]      finish histograms; ``n_live`` iterations of the
                                           super-block are counted from ``hbin``, a task's
                                           row at a time (kept in cache, unlike counting
                                           each lane block into rows of all tasks)
    tmin, tmax : float64[n_tasks]          extreme finishes

    Super-blocks are aligned to multiples of SUPER iterations (chunks are multiples
    of SUPER), so each holds the same iterations on any thread count and chunk
    size, and the lane sums are added in a fixed order (lanes pairwise): the float
    sum of a super-block is reproducible, and integer totals then make the result
    independent of the order in which threads add their super-blocks.
    """
    n = crit.shape[0]
    for p in range(n):
        r = LSUM_ROWS * p
        for q in range(5):
            t = (lsum[r + q, 0] + lsum[r + q, 1]) + (lsum[r + q, 2] + lsum[r + q, 3])
            if q < 4:
                _add_fixed(mom, 2 * q, p, t)
            else:
                crit[p] += np.int64(t)
        fmin = tmin[p]
        fmax = tmax[p]
        for lane in range(LSUM_LANES):
            fmin = min(fmin, lsum[r + 5, lane])
            fmax = max(fmax, lsum[r + 6, lane])
        tmin[p] = fmin
        tmax[p] = fmax
        for sub in range((n_live + LANES - 1) // LANES):
            h = sub * n + p
            for lane in range(min(LANES, n_live - sub * LANES)):
                hist[p, hbin[h, lane]] += 1
    reset_lane_sums(lsum)


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
def simulate_chunks(m, cm, k0, k1, it_start, n_iter, chunk, n_slots, finish_out, cost_out,
                    crit, mom, hist, tmin, tmax, rstat, cash_hist, cash_min, cash_max,
                    keep, dur_out, es_out, ef_out, corr_out):
    """Simulate iterations ``it_start .. it_start + n_iter - 1``; the fused parallel driver.

    Iterations are cut into chunks of ``chunk``; slot ``s`` (one per thread) takes
    chunks ``s, s + n_slots, ...`` and adds into its own accumulator row, so
    nothing races; the caller sums the rows (integers: any order gives the same bits).

    Parameters
    ----------
    m : KernelModel
    cm : CalendarModel                   the wall-clock arrays (used when m.cal_on)
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
    hist_top = hist.shape[2] - 1.0    # the overflow column
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
                    _schedule_lanes(m, cm, w, sub, b0, nl, it_start, k0, k1, finish_out,
                                    cost_out, hist_top, rstat_s, cash_hist_s, cash_min_s,
                                    cash_max_s, keep, dur_out, es_out, ef_out, corr_out)
                flush_lane_sums(w.lsum, w.hbin, min(SUPER, c1 - s0), crit_s, mom_s, hist_s,
                                tmin_s, tmax_s)


@njit(**JIT)
def _schedule_lanes(m, cm, w, sub, b0, nl, it_start, k0, k1, finish_out, cost_out, hist_top,
                    rstat_s, cash_hist_s, cash_min_s, cash_max_s, keep, dur_out, es_out, ef_out,
                    corr_out):
    """Schedule sub-block ``sub`` of the current super-block (iterations from ``b0``)."""
    n = m.dur_code.shape[0]
    n_corr_keep = corr_out.shape[0]
    draw_block(m, w, it_start + b0, k0, k1, nl, rstat_s)
    if m.cal_on:
        _passes_cal(m, cm, w, sub, nl, True, hist_top)
        if m.cost_on:
            add_task_costs(m, w)
    else:
        forward_pass(m, w, sub)
        backward_pass(m, w, nl, True, sub, hist_top)
        if m.cost_on:
            add_task_costs(m, w)
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
        w.lag[r + 1, :] = lag1[r]
    forward_pass(m, w, -1)
    backward_pass(m, w, 1, False, 0, 0.0)
    return w.es[:, 0].copy(), w.ef[:, 0].copy(), w.lf[:, 0].copy(), w.pf[0]


@njit(**JIT)
def deterministic_pass_cal(m, cm, dur1, lag1):
    """:func:`deterministic_pass` of the wall-clock mode.

    Returns early start, early finish, late start, late finish (float64[n_tasks]
    each, elapsed hours), total float (working days of each task's calendar), the
    same four dates in working days of the axis calendar, the project finish in
    elapsed hours and in axis working days, and the durations (working days of each
    task's calendar; a completed task's actual one).
    """
    w = make_work(m)
    for p in range(dur1.shape[0]):
        w.dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        w.lag[r + 1, :] = lag1[r]
    forward_pass_cal(m, cm, w, -1)
    backward_pass_cal(m, cm, w)
    hours = (w.es[:, 0].copy(), w.ef[:, 0].copy(), w.ls[:, 0].copy(), w.lf[:, 0].copy())
    pf = w.pf[0]
    _passes_cal(m, cm, w, -1, 1, False, 0.0)
    return (hours[0], hours[1], hours[2], hours[3], w.tf[:, 0].copy(), w.es[:, 0].copy(),
            w.ef[:, 0].copy(), w.ls[:, 0].copy(), w.lf[:, 0].copy(), pf, w.pf[0],
            w.dur[:, 0].copy())

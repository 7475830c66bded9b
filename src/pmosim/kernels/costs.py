"""Costs: each iteration's task costs and cash flow after the passes (of either mode),
then the project cost rate and the cumulative-spend histograms.

Kernels take ``m`` (:class:`pmosim.layout.Costs`) and ``grid``
(:class:`~pmosim.layout.Grid`, for the cash-flow grid).
"""

import numpy as np
from numba import njit

from ..layout import FIXED
from . import CASH_PERIODS, JIT, LANES
from .vector import (
    lane_f64, lane_u64, vadd, vceil, vdiv, vfloor, vload, vmul, vneg, vselect_gt, vsplat,
    vstore, vstore_int, vsub,
)
from .accumulate import count_in_bin

_U1 = np.uint64(1)


@njit(**JIT)
def add_task_costs(m, grid, exist_on, w):
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
    es, ef, dur, ex, cfix, crate, occ, rcost = w.es, w.ef, w.dur, w.ex, w.costs.cfix, w.costs.crate, w.occ, w.costs.rcost
    cash, tcost = w.costs.cash, w.costs.tcost
    cost_fix, cost_rate, crate_code, crate_par = m.cost_fix, m.cost_rate, m.crate_code, m.crate_par
    risk_ptr, risk_idx, risk_share = m.cost_risk_ptr, m.cost_risk_idx, m.cost_risk_share
    # rows are .simd vectors; only the scatter into ``cash`` goes lane by lane, from
    # stack buffers. The body is written out here rather than in an inlined helper:
    # numba's IR inlining increfs and decrefs every array argument at each call, ~15
    # atomic operations per task, which made this pass ~3 ns per task-iteration slower.
    d1b = lane_f64()
    d2b = lane_f64()
    d3b = lane_f64()
    iab = lane_u64()
    ibb = lane_u64()
    # the scatter indexes cash as one flat row with unsigned indices computed as
    # vectors: (lane * (CASH_PERIODS + 2) + cell) * 2 (+ 1 for the slope * time part)
    cashf = cash.reshape(cash.size)
    lane_off = lane_f64()
    for lane in range(LANES):
        lane_off[lane] = lane * (CASH_PERIODS + 2) * 2.0
    lov = vload(lane_off, 0)
    two = vsplat(2.0)
    zero = vsplat(0.0)
    one = vsplat(1.0)
    cost_sum = zero
    _clear_costs(w.costs.cost, cash)
    cost_pos = m.cost_pos
    inv_dt = vsplat(1.0 / grid.cash_dt)
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
        vstore(tcost, j, d0)
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
    vstore(w.costs.cost, 0, cost_sum)


@njit(**JIT)
def _clear_costs(cost, cash):
    for lane in range(LANES):
        cost[lane] = 0.0
        for k in range(CASH_PERIODS + 2):
            cash[lane, k, 0] = 0.0
            cash[lane, k, 1] = 0.0


@njit(**JIT)
def cost_of_lanes(m, grid, w, n_lanes, totals):
    """Finish the project cost of each lane in ``w.cost``, and count the cash flow.

    The task costs and their cash-flow deposits are in place (see
    :func:`add_task_costs`); the project cost rate is paid over the whole project
    duration, a ramp from 0 to the project finish. Cumulative spend at the grid
    times ``t_k = k * cash_dt``: C_k = t_k * W_k - A_k, W and A the prefix sums of
    the slope and slope * time deposits, O(tasks + periods) per iteration.

    totals : pmosim.layout.Totals
        ``cash_hist`` (int64[CASH_PERIODS + 1, n_bins + 2], cumulative spend
        histograms), ``cash_min`` and ``cash_max`` (their exact extremes).
    """
    has_rate = m.pcost_code.shape[0] > 0
    cash_hist, cash_min, cash_max = totals.cash_hist, totals.cash_min, totals.cash_max
    dt = grid.cash_dt
    inv_dt = 1.0 / dt
    cash, pf, cost, pcost = w.costs.cash, w.pf, w.costs.cost, w.costs.pcost
    lo, scale = grid.cash_lo, grid.cash_scale
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
def _deposit_ramp(cash, lane, a, slope, inv_dt):
    """A ramp max(0, t - a) * slope in ``lane`` (see :func:`add_task_costs`)."""
    k = int(min(max(np.floor(a * inv_dt) + 1.0, 0.0), float(CASH_PERIODS + 1)))
    cash[lane, k, 0] += slope
    cash[lane, k, 1] += slope * a

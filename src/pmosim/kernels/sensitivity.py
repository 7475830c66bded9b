"""Sensitivity: the sums behind each task's significance, schedule sensitivity and Pearson
cruciality, each iteration's critical-set hash, and the kept sample that the rank
measures use; after the passes and costs of a lane block (either mode, levelled or not).

Sums go per lane into ``w.ssum`` over a super-block and then, by :func:`flush_sensitivity`,
into exact fixed-point totals (:class:`pmosim.layout.SensTotals`), like the moments of
:mod:`.accumulate`: the same bits on any thread count, chunking or backend.
"""

import numpy as np
from numba import njit

from ..layout import SENS_COST_ROWS, SENS_DUR_ROWS
from . import JIT, LANES
from .accumulate import add_fixed, normalise_fixed
from .vector import (
    lane_u64, vadd, vdiv, vkeep, vload, vmax, vmul, vselect_gt, vsplat, vstore, vsub,
)


@njit(**JIT)
def add_sensitivity(sg, w, nl, si_on, cost_on, b0, rows):
    """Add the ``nl`` live lanes of a block to the sensitivity sums and rows.

    sg : pmosim.layout.SensGrid
    w : Work
        After the passes (and costs): ``dur`` (zero where a task does not exist), ``es``,
        ``lf`` (axis and wall-clock modes: total float = lf - dur - es), ``crit`` (the
        critical flags as counted), ``pf``, and with costs ``costs.tcost`` and
        ``costs.cost``. ``w.ssum`` rows 4 p .. 4 p + 3 take, per lane, the sums of d',
        d'^2, d' T' and the significance term d / (d + TF) * T * pf_scale of task p
        (x' = (x - shift) * scale, T the project finish); rows 4 n + 3 j .. 4 n + 3 j + 2
        the sums of c', c'^2 and c' K' of costed task j (K the project cost).
    si_on : bool
        False in levelled runs, which have no per-iteration total float.
    b0 : int
        Row of the block's first lane in ``rows``: ``rows.path`` takes each iteration's
        critical-set hash (the sum of the critical tasks' keys, wrapping), and rows below
        ``rows.sdur.shape[0]`` the durations, task costs and critical flags.
    """
    ssum, dur, es, lf, crit = w.ssum, w.dur, w.es, w.lf, w.crit
    n = dur.shape[0]
    zero = vsplat(0.0)
    one = vsplat(1.0)
    pf = vload(w.pf, 0)
    t = vmul(vsub(pf, vsplat(sg.pf_shift)), vsplat(sg.pf_scale))
    traw = vmul(pf, vsplat(sg.pf_scale))
    if nl < LANES:
        t = vkeep(t, nl, zero)
        traw = vkeep(traw, nl, zero)
    for p in range(n):
        d = vload(dur, p)
        x = vmul(vsub(d, vsplat(sg.dur_shift[p])), vsplat(sg.dur_scale[p]))
        if nl < LANES:
            x = vkeep(x, nl, zero)
        r = SENS_DUR_ROWS * p
        vstore(ssum, r, vadd(vload(ssum, r), x))
        vstore(ssum, r + 1, vadd(vload(ssum, r + 1), vmul(x, x)))
        vstore(ssum, r + 2, vadd(vload(ssum, r + 2), vmul(x, t)))
        if si_on:
            tf = vmax(vsub(vsub(vload(lf, p), d), vload(es, p)), zero)
            den = vadd(d, tf)
            ratio = vselect_gt(den, zero, vdiv(d, vselect_gt(den, zero, den, one)), zero)
            vstore(ssum, r + 3, vadd(vload(ssum, r + 3), vmul(ratio, traw)))
    if cost_on:
        tcost = w.costs.tcost
        k = vmul(vsub(vload(w.costs.cost, 0), vsplat(sg.pc_shift)), vsplat(sg.pc_scale))
        if nl < LANES:
            k = vkeep(k, nl, zero)
        base = SENS_DUR_ROWS * n
        for j in range(tcost.shape[0]):
            c = vmul(vsub(vload(tcost, j), vsplat(sg.cost_shift[j])), vsplat(sg.cost_scale))
            if nl < LANES:
                c = vkeep(c, nl, zero)
            r = base + SENS_COST_ROWS * j
            vstore(ssum, r, vadd(vload(ssum, r), c))
            vstore(ssum, r + 1, vadd(vload(ssum, r + 1), vmul(c, c)))
            vstore(ssum, r + 2, vadd(vload(ssum, r + 2), vmul(c, k)))
    key = sg.key
    h = lane_u64()
    for lane in range(LANES):
        h[lane] = 0
    zero_key = np.uint64(0)
    for p in range(n):
        kp = key[p]
        for lane in range(LANES):
            # branch-free, so that the lanes vectorise
            h[lane] += kp if crit[p, lane] > 0.0 else zero_key
    for lane in range(nl):
        rows.path[b0 + lane] = h[lane]
    n_sample = rows.sdur.shape[0]
    if b0 < n_sample:
        for lane in range(min(nl, n_sample - b0)):
            i = b0 + lane
            for p in range(n):
                rows.sdur[i, p] = dur[p, lane]
                rows.scrit[i, p] = 1 if crit[p, lane] > 0.0 else 0
            if cost_on:
                for j in range(w.costs.tcost.shape[0]):
                    rows.scost[i, j] = w.costs.tcost[j, lane]


@njit(**JIT)
def flush_sensitivity(ssum, totals):
    """Add a finished super-block's per-lane sums to ``totals.sens`` (lanes summed in
    lane order) and reset them."""
    dur_acc, cost_acc = totals.sens.dur, totals.sens.cost
    n = dur_acc.shape[1]
    for row in range(ssum.shape[0]):
        t = _lane_total(ssum, row)
        if row < SENS_DUR_ROWS * n:
            add_fixed(dur_acc, 2 * (row % SENS_DUR_ROWS), row // SENS_DUR_ROWS, t)
        else:
            q = row - SENS_DUR_ROWS * n
            add_fixed(cost_acc, 2 * (q % SENS_COST_ROWS), q // SENS_COST_ROWS, t)
        for lane in range(LANES):
            ssum[row, lane] = 0.0
    for row in range(0, dur_acc.shape[0], 2):
        normalise_fixed(dur_acc[row:row + 2])
    for row in range(0, cost_acc.shape[0], 2):
        normalise_fixed(cost_acc[row:row + 2])


@njit(**JIT)
def _lane_total(a, row):
    """Sum of the LANES lanes of ``a[row]``, in lane order."""
    t = 0.0
    for lane in range(LANES):
        t += a[row, lane]
    return t

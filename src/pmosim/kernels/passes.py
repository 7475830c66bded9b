"""Forward and backward CPM passes over a row of ``LANES`` iterations, on the working-day
axis (one calendar for everything: times are working days from the project start).

Kernels take ``m`` (:class:`pmosim.layout.Links`), ``unc``
(:class:`~pmosim.layout.Uncertainty` or None) and ``grid``
(:class:`~pmosim.layout.Grid`). All time arrays are ``float64[n_tasks, LANES]``: lane
``l`` is one iteration, and rows are :mod:`._llvm` vectors (a task's start stays in
registers over its links); lanes past the last iteration of a run are computed and
then ignored.
"""

import numpy as np
from numba import njit

from ..layout import FF, FS, SS
from . import CRITICAL_RTOL, JIT
from .vector import vadd, vload, vmax, vmin, vmul, vselect_gt, vselect_le, vsplat, vstore, vsub
from .accumulate import LSUM_ROWS, add_task_stats
from .draws import adjust_duration
from .work import N_SUB, make_work


@njit(**JIT)
def forward_pass(m, unc, w, sub):
    """Early start/finish and project finish of ``LANES`` iterations.

    With ``sub >= 0``, each task's duration is taken from sub-block ``sub`` of the
    sampled super-block ``w.dsb`` and adjusted by drivers, risks and existence just
    before the pass needs it; with ``sub < 0``, ``w.dur`` is used as it is. Reads
    ``w.lag``; writes ``w.dur``, ``w.ex``, ``w.es``, ``w.ef`` and ``w.pf``.

    Rows are :mod:`._llvm` vectors: a task's start stays in registers over its
    links. Task costs are added afterwards (:func:`add_task_costs`).
    """
    dur, es, ef, lag, dsb = w.dur, w.es, w.ef, w.lag, w.dsb
    pred_ptr, pred_idx, pred_type = m.pred_ptr, m.pred_idx, m.pred_type
    pred_lag, pred_lagrow, release = m.pred_lag, m.pred_lagrow, m.release
    adjust = False
    if unc is not None:
        adjust = (unc.task_drv_idx.shape[0] > 0 or unc.task_risk_idx.shape[0] > 0
                  or unc.exist_on)
    fixed_on, fixed_start, fixed_dur = m.fixed_on, m.fixed_start, m.fixed_dur
    n = dur.shape[0]
    zero = vsplat(0.0)
    fin = zero
    for p in range(n):
        if sub >= 0:
            d = vload(dsb, p * N_SUB + sub)
            vstore(dur, p, d)
            if unc is not None:
                if adjust:
                    adjust_duration(unc, w, p)
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
def backward_pass(m, unc, grid, w, n_lanes, acc, sub, top):
    """Late finish of every task given the project finish (push style), into ``w.lf``.

    Late start is ``lf - dur``. A task's late finish is final once the pass reaches
    it (all its successors come later in topological order), so with ``acc`` its
    statistics are added there and then, while its rows are still in cache (as
    :func:`accumulate_task` does, written out here). Rows are :mod:`._llvm`
    vectors (as in :func:`forward_pass`).
    """
    dur, lf, lag, pf = w.dur, w.lf, w.lag, w.pf
    pred_ptr, pred_idx, pred_type = m.pred_ptr, m.pred_idx, m.pred_type
    pred_lag, pred_lagrow = m.pred_lag, m.pred_lagrow
    n = dur.shape[0]
    es, ef, ex, lsum, hbin = w.es, w.ef, w.ex, w.lsum, w.hbin
    exist_on = False
    if unc is not None:
        exist_on = unc.exist_on
    s_shift, f_shift, mom_scale = grid.start_shift, grid.finish_shift, grid.mom_scale
    hist_lo, hist_scale = grid.hist_lo, grid.hist_scale
    start_lo, start_scale, crit_rows = grid.start_lo, grid.start_scale, w.crit
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
            add_task_stats(e, f, crit, n_lanes, lsum, LSUM_ROWS * p, s_shift[p], f_shift[p],
                           mom_scale[p], hist_lo[p], hist_scale[p], start_lo[p], start_scale[p],
                           hbin, sub * n + p, top, crit_rows, p)
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


@njit(**JIT)
def deterministic_pass(draws, m, grid, dur1, lag1):
    """CPM on given durations/lags (float64[n_tasks], float64[n_rlags]), every task existing.

    Returns early start, early finish, late finish (float64[n_tasks] each) and the
    project finish.
    """
    w = make_work(draws, None, None, None, 0)
    for p in range(dur1.shape[0]):
        w.dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        w.lag[r + 1, :] = lag1[r]
    # the simulation's own specialisations of the passes (see draws._I): a literal True
    # ``acc``, which prunes the statistics branch from the per-task loop there; here the
    # statistics go to this throwaway work struct
    forward_pass(m, None, w, np.int64(-1))
    backward_pass(m, None, grid, w, np.int64(1), True, np.int64(0), 0.0)
    return w.es[:, 0].copy(), w.ef[:, 0].copy(), w.lf[:, 0].copy(), w.pf[0]

"""One thread's scratch arrays: the rows the draw, pass, cost and accumulate stages share."""

from typing import NamedTuple

import numpy as np
from numba import njit

from ..layout import FIXED
from . import CASH_PERIODS, JIT, LANES, SUPER
from .accumulate import new_lane_sums

#: Sub-blocks (of LANES iterations) per super-block.
N_SUB = SUPER // LANES


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
    hbin: np.ndarray      # uint8[2 * N_SUB * n, LANES] finish-histogram bin of each task in
                          #                       each iteration of the current super-block,
                          #                       row sub * n + p (one sub-block's bins are
                          #                       contiguous: 16 KB at 1,000 tasks, not a
                          #                       line per task); then the start bins
    crit: np.ndarray      # float64[n]            1 when the task is critical (as counted)
    ssum: np.ndarray      # float64[4 n + 3 C, LANES] per-lane sensitivity sums of the
                          #                       current super-block (0 rows without)
    costs: "CostWork"     # the cost stage's rows (tcost: each costed task's cost)
    cal: "CalWork"        # the wall-clock passes' rows


class CostWork(NamedTuple):
    """One thread's rows of the cost stage (all ``[rows, LANES]``); read once per call of
    a cost kernel, so the nesting costs nothing per task."""

    ucost: np.ndarray     # float64[4, LANES]     one Philox block of cost uniforms
    cfix: np.ndarray      # float64[C1]           sampled fixed costs
    crate: np.ndarray     # float64[C2]           sampled cost rates
    rcost: np.ndarray     # float64[R]            sampled risk cost impacts
    pcost: np.ndarray     # float64[1]            sampled project cost rate
    cost: np.ndarray      # float64[LANES]        project cost
    tcost: np.ndarray     # float64[C]            cost of each costed task
    cash: np.ndarray      # float64[LANES, CASH_PERIODS + 2, 2] cash flow: slope and
                          #                       slope * time deposits (+ a spill cell)


class CalWork(NamedTuple):
    """One thread's rows of the wall-clock passes."""

    los: np.ndarray       # float64[LANES]        one task's start bound
    lof: np.ndarray       # float64[LANES]        ... its finish bound
    ls: np.ndarray        # float64[n or 0]       late start (elapsed hours)
    tf: np.ndarray        # float64[n or 0]       total float (task's working days)
    wes: np.ndarray       # float64[n or 0]       working hours of the task's calendar done
    wef: np.ndarray       # float64[n or 0]       at its early start, at its early finish


@njit(**JIT)
def make_work(draws, unc, costs, cal, n_sens):
    """Allocate one thread's :class:`Work` arrays (``unc``, ``costs``, ``cal`` may be None;
    ``n_sens`` rows of sensitivity sums)."""
    n_br = n_risk = n_drv = n_ex = 0
    if unc is not None:
        n_br = unc.br_ptr.shape[0] - 1
        n_risk = unc.risk_p.shape[0]
        n_drv = unc.drv_p.shape[0]
        n_ex = unc.n_ex_vars
    n_cfix = n_crate = n_cost_pos = 0
    if costs is not None:
        n_cfix = costs.cfix_code.shape[0]
        n_crate = costs.crate_code.shape[0]
        n_cost_pos = costs.cost_pos.shape[0]
    n_cal = 0 if cal is None else draws.dur_code.shape[0]
    # int64 each: a literal 0 would type (and compile) another copy
    i64 = np.int64
    w = _alloc_work(draws, i64(n_br), i64(n_risk), i64(n_drv), i64(n_ex), i64(n_cfix),
                    i64(n_crate), i64(n_cost_pos), i64(n_cal), i64(n_sens))
    if costs is not None:
        # constant costs are written once here; draw_costs samples only the random ones
        cw = w.costs
        for code, par, out in ((costs.cfix_code, costs.cfix_par, cw.cfix),
                               (costs.crate_code, costs.crate_par, cw.crate),
                               (costs.rcost_code, costs.rcost_par, cw.rcost),
                               (costs.pcost_code, costs.pcost_par, cw.pcost)):
            for r in range(code.shape[0]):
                if code[r] == FIXED:
                    out[r, :] = par[r, 0]
    return w


@njit(**JIT)
def _alloc_work(draws, n_br, n_risk, n_drv, n_ex, n_cfix, n_crate, n_cost_pos, n_cal, n_sens):
    """The arrays of :func:`make_work`, from their sizes. Apart from it because it is most
    of its compile time (~2.4 s): it takes integers, so every kind of model (with or
    without uncertainty, costs, calendars) shares one compiled copy; make_work itself
    compiles once per kind."""
    n = draws.dur_code.shape[0]
    gmax = 0
    for g in range(draws.corr_ptr.shape[0] - 1):
        gmax = max(gmax, draws.corr_ptr[g + 1] - draws.corr_ptr[g])
    dsb = np.empty((N_SUB * n, LANES))
    for p in range(n):
        if draws.dur_code[p] == FIXED:
            # constant in every iteration: written once, skipped by sample_durations
            dsb[p * N_SUB:(p + 1) * N_SUB, :] = draws.dur_par[p, 0]
    return Work(
        dsb, np.empty((4 * N_SUB, LANES)), np.empty((gmax, LANES)),
        np.empty((draws.n_lag_vars, LANES)), np.empty((n, LANES)),
        np.zeros((1 + draws.lag_code.shape[0], LANES)), np.empty((n, LANES)),
        np.empty((n, LANES)), np.empty((n, LANES)), np.ones((n, LANES)), np.empty(LANES),
        np.empty(LANES), np.empty(LANES), np.empty((n_ex, LANES)), np.empty((n_br, LANES)),
        np.empty((n_br, LANES)), np.empty((n_risk, LANES)), np.empty((n_risk, LANES)),
        np.zeros((n_risk, LANES)), np.zeros((n_risk, LANES)), np.empty((n_drv, LANES)),
        np.empty((n_drv, LANES)), np.ones((n_drv, LANES)), np.empty((gmax, LANES)),
        new_lane_sums(n), np.zeros((2 * N_SUB * n, LANES), dtype=np.uint8),
        np.zeros((n, LANES)), np.zeros((n_sens, LANES)),
        CostWork(np.empty((4, LANES)), np.empty((n_cfix, LANES)), np.empty((n_crate, LANES)),
                 np.zeros((n_risk, LANES)), np.zeros((1, LANES)), np.zeros(LANES),
                 np.zeros((n_cost_pos, LANES)), np.zeros((LANES, CASH_PERIODS + 2, 2))),
        CalWork(np.empty(LANES), np.empty(LANES), np.empty((n_cal, LANES)),
                np.empty((n_cal, LANES)), np.empty((n_cal, LANES)), np.empty((n_cal, LANES))),
    )

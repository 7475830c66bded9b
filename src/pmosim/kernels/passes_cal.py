"""The wall-clock mode: working calendars per task and lag.

Times are elapsed hours from the data date while scheduling (:mod:`.worktime`); the
passes apply the rules of the reference scheduler in the tests
(``tests/reference_worktime.py``, ``schedule_dates``), lane by lane, then convert
every time to working days of the axis calendar. Kernels take ``m``
(:class:`pmosim.layout.Links`), ``unc`` (:class:`~pmosim.layout.Uncertainty` or None),
``cm`` (:class:`~pmosim.layout.Calendars`) and ``grid`` (:class:`~pmosim.layout.Grid`).
"""

import numpy as np
from numba import njit

from ..layout import FF, FS, KIND_CONNECTOR, KIND_FINISH_MILESTONE, KIND_TASK, SF, SS
from . import CRITICAL_RTOL, JIT, LANES
from .accumulate import accumulate_task
from .draws import adjust_duration
from .work import N_SUB, make_work
from .worktime import (
    EPS, finish_at, finish_at_inline, shift, start_at, start_at_inline, work, work_inline,
)


@njit(**JIT)
def _link_lag_cal(pred_lag, pred_lagrow, lag, k, lagv):
    """Lag of link ``k`` in every lane, into ``lagv`` (float64[LANES])."""
    c = pred_lag[k]
    r = pred_lagrow[k]
    for lane in range(LANES):
        lagv[lane] = c + lag[r, lane]


@njit(**JIT)
def forward_pass_cal(m, unc, cm, w, sub):
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
    dur, es, ef, pf, lagv, los, lof = w.dur, w.es, w.ef, w.pf, w.lagv, w.cal.los, w.cal.lof
    wes, wef = w.cal.wes, w.cal.wef
    F = cm.cal_flat
    n = dur.shape[0]
    for lane in range(LANES):
        # not the data date: a schedule whose tasks all finish before it (held there by
        # constraints that beat the data date, or complete) finishes when they do, and
        # its late dates run back from there, as MS Project's
        pf[lane] = -np.inf
    for p in range(n):
        if sub >= 0:
            row = p * N_SUB + sub
            for lane in range(LANES):
                dur[p, lane] = w.dsb[row, lane]
            if unc is not None:
                adjust_duration(unc, w, p)
        c = cm.task_cal[p]
        hp = cm.cal_hpd[c]
        if not np.isnan(cm.fix_ef[p]):
            a, b = cm.fix_es[p], cm.fix_ef[p]
            wa, wb = work(F, c, a), work(F, c, b)
            d = (wb - wa) / hp
            for lane in range(LANES):
                es[p, lane] = a
                ef[p, lane] = b
                wes[p, lane] = wa
                wef[p, lane] = wb
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
                    b = shift(F, lc, b, lag_h)
                bound[lane] = max(bound[lane], b)
        kind = cm.task_kind[p]
        els = cm.el_scale[p]
        for lane in range(LANES):
            lo_s, lo_f = los[lane], lof[lane]
            if kind == KIND_CONNECTOR:
                st = fi = max(lo_s, lo_f)
            elif kind == KIND_FINISH_MILESTONE:
                x = max(lo_s, lo_f)
                wx = work(F, c, x)
                st = fi = x
                if abs(finish_at(F, c, wx) - x) > EPS:
                    st = fi = start_at(F, c, wx)
            elif not np.isnan(els):
                st = start_at(F, c, work(F, c, lo_s))
                fi = max(st + dur[p, lane] * els, lo_f)
            else:
                # work(start_at(w)) is w: the start's working hours need no second search
                w_st = work_inline(F, c, lo_s)
                st = start_at_inline(F, c, w_st)
                dh = dur[p, lane] * hp
                fi = finish_at_inline(F, c, w_st + dh) if dh > 0.0 else st
                if lo_f > fi + EPS:
                    # a finish bound on a period boundary is kept as it is (MS Project
                    # shows an SF successor finishing at the 08:00 its predecessor starts)
                    wf = work(F, c, lo_f)
                    on_boundary = min(abs(finish_at(F, c, wf) - lo_f),
                                      abs(start_at(F, c, wf) - lo_f)) <= EPS
                    fi = lo_f if on_boundary else finish_at(F, c, wf)
                    st = start_at(F, c, wf - dh) if dh > 0.0 else fi
            es[p, lane] = st
            ef[p, lane] = fi
            # kept for the backward pass's float and the axis days: the same calls
            # later would search tables no longer in cache
            wes[p, lane] = work_inline(F, c, st)
            wef[p, lane] = work_inline(F, c, fi)
            pf[lane] = max(pf[lane], fi)
        rep = cm.rep_start[p]
        if not np.isnan(rep):
            wr = work(F, c, rep)
            for lane in range(LANES):
                es[p, lane] = rep
                wes[p, lane] = wr
    for j in range(cm.alap_pos.shape[0]):
        _move_alap(m, cm, w, cm.alap_pos[j])


@njit(**JIT)
def _move_alap(m, cm, w, p):
    """Move as-late-as-possible task ``p`` as late as its successors' early dates allow."""
    dur, es, ef, lagv, latest = w.dur, w.es, w.ef, w.lagv, w.cal.los
    F = cm.cal_flat
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
            b = shift(F, lc, src[s, lane], -lagv[lane] * lh)
            if t == SS or t == SF:
                b = shift(F, c, b, dur[p, lane] * hp)
            latest[lane] = min(latest[lane], b)
    milestone = cm.task_kind[p] == KIND_FINISH_MILESTONE
    for lane in range(LANES):
        x = latest[lane]
        if x > ef[p, lane] + EPS:
            if milestone:
                es[p, lane] = ef[p, lane] = x
            else:
                wf = work(F, c, x)
                dh = dur[p, lane] * hp
                es[p, lane] = start_at(F, c, wf - dh)
                ef[p, lane] = finish_at(F, c, wf) if dh > 0.0 else es[p, lane]
            w.cal.wes[p, lane] = work(F, c, es[p, lane])
            w.cal.wef[p, lane] = work(F, c, ef[p, lane])


@njit(**JIT)
def backward_pass_cal(m, cm, w, bounds):
    """Late start/finish (elapsed hours) and total float of the wall-clock mode.

    Mirrors :func:`forward_pass_cal`: a task's late finish is the earliest bound
    its successors put on it, each computed back in the lag's calendar
    (``finish_at(work(t) - lag)``), then snapped back to the end of the task's
    working time (connectors stay on their bound); its late start is ``duration``
    working hours of its own calendar before that; a start bound on a predecessor
    becomes a finish bound ``duration`` working hours after it. Back through a lag the
    bound is the latest moment with the lag's working time done (the start of the lag
    calendar's next working period), so a gap in the lag calendar is not float lost.
    Total float is
    measured in working days of the task's own calendar:
    ``(work(lf) - work(ef)) / hours_per_day``. Writes ``w.lf``, ``w.ls`` and ``w.tf``.

    With ``bounds`` (the deterministic schedule of :func:`pmosim.cpm`), constraints act
    on the late dates as P6 and MS Project apply them: a late finish is at most a
    finish-no-later-than, finish-on, must-finish-on date or deadline (``hi_finish``),
    a late start at most a start-no-later-than, start-on or must-start-on date
    (``hi_start``); a mandatory one sets the late date whatever the successors allow.
    Float then goes negative where logic cannot meet a constraint. A completed task
    has no float (NaN) and late dates equal to its actual ones, and bounds none of
    its predecessors. Without ``bounds`` (the simulation) late dates come from the
    successors and the project finish alone: criticality says what drives the
    finish.
    """
    dur, lf, ls, tf, lagv = w.dur, w.lf, w.cal.ls, w.cal.tf, w.lagv
    F = cm.cal_flat
    n = dur.shape[0]
    for p in range(n):
        for lane in range(LANES):
            lf[p, lane] = w.pf[lane]
    for p in range(n - 1, -1, -1):
        c = cm.task_cal[p]
        hp = cm.cal_hpd[c]
        kind = cm.task_kind[p]
        els = cm.el_scale[p]
        done = bounds and not np.isnan(cm.fix_ef[p])
        if done:
            for lane in range(LANES):
                lf[p, lane] = w.ef[p, lane]
                ls[p, lane] = w.es[p, lane]
                tf[p, lane] = np.nan
            continue
        hi_s = cm.hi_start[p] if bounds else np.inf
        hi_f = cm.hi_finish[p] if bounds else np.inf
        fixed = bounds and cm.hi_fixed[p]
        for lane in range(LANES):
            x = lf[p, lane]
            if hi_f < np.inf:
                x = hi_f if fixed else min(x, hi_f)
            wx = work_inline(F, c, x)
            if kind != KIND_CONNECTOR and np.isnan(els):
                # a late finish is shown at the end of the task's working time (which
                # has the same working hours done); an elapsed task's stays on its
                # bound (its late start is elapsed hours before it)
                x = finish_at_inline(F, c, wx)
            lf[p, lane] = x
            if kind != KIND_TASK:
                ls[p, lane] = x
            elif not np.isnan(els):
                ls[p, lane] = x - dur[p, lane] * els
            else:
                dh = dur[p, lane] * hp
                ls[p, lane] = start_at_inline(F, c, wx - dh) if dh > 0.0 else x
                if bounds and dh <= 0.0:
                    # a start milestone shows its late date at the start of the next
                    # working period, as its early one (the same working time)
                    ls[p, lane] = lf[p, lane] = start_at(F, c, wx)
            if hi_s < np.inf and (fixed or ls[p, lane] > hi_s):
                # a late start bound: the late finish is the duration after it
                ws = work(F, c, hi_s)
                ls[p, lane] = start_at(F, c, ws)
                if kind != KIND_TASK:
                    lf[p, lane] = ls[p, lane] = finish_at(F, c, ws)
                elif not np.isnan(els):
                    lf[p, lane] = ls[p, lane] + dur[p, lane] * els
                else:
                    dh = dur[p, lane] * hp
                    lf[p, lane] = finish_at(F, c, ws + dh) if dh > 0.0 \
                        else ls[p, lane]
                wx = work(F, c, lf[p, lane])
            tf[p, lane] = (wx - w.cal.wef[p, lane]) / hp
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
                    # the latest moment with that much of the lag calendar's work done
                    # (start_at, not finish_at): the forward pass maps every moment of a
                    # gap in the lag calendar to the same bound, so the predecessor may
                    # end anywhere in the gap (its own calendar may work there)
                    b = start_at(F, lc,
                                 work(F, lc, b) - lag_h)
                if (t == SS or t == SF) and q_task:
                    # a bound on the predecessor's start: its finish is its duration later
                    if not np.isnan(qels):
                        b += dur[q, lane] * qels
                    elif dur[q, lane] > 0.0:
                        b = shift(F, qc, b, dur[q, lane] * qhp)
                lf[q, lane] = min(lf[q, lane], b)


@njit(**JIT)
def to_axis_days(cm, x):
    """Elapsed hours -> working days of the axis calendar, in place (float64[rows, LANES])."""
    F = cm.cal_flat
    a = cm.axis_cal
    inv = 1.0 / cm.cal_hpd[a]
    for p in range(x.shape[0]):
        for lane in range(x.shape[1]):
            x[p, lane] = work(F, a, x[p, lane]) * inv


@njit(**JIT)
def _to_axis_days_kept(cm, x, wx):
    """:func:`to_axis_days` of early dates (float64[n, LANES]), whose working hours in
    each task's own calendar the forward pass kept in ``wx``: for a task on the axis
    calendar they are the working hours wanted."""
    F = cm.cal_flat
    a = cm.axis_cal
    inv = 1.0 / cm.cal_hpd[a]
    for p in range(x.shape[0]):
        if cm.task_cal[p] == a:
            for lane in range(x.shape[1]):
                x[p, lane] = wx[p, lane] * inv
        else:
            for lane in range(x.shape[1]):
                x[p, lane] = work(F, a, x[p, lane]) * inv


@njit(**JIT)
def passes_cal(m, unc, cm, grid, w, sub, n_lanes, acc, hist_top):
    """Both wall-clock passes, then every time in working days of the axis calendar.

    Criticality keeps its meaning: total float (working days of the task's
    calendar) <= CRITICAL_RTOL * max(1, finish in axis working days).
    """
    forward_pass_cal(m, unc, cm, w, sub)
    backward_pass_cal(m, cm, w, np.bool_(False))     # the type cpm's call passes
    _to_axis_days_kept(cm, w.es, w.cal.wes)
    _to_axis_days_kept(cm, w.ef, w.cal.wef)
    if not acc:
        # the simulation reads total float, not late dates: lf is rebuilt from it below
        to_axis_days(cm, w.lf)
        to_axis_days(cm, w.cal.ls)
    F = cm.cal_flat
    a = cm.axis_cal
    inv = 1.0 / cm.cal_hpd[a]
    tol = np.empty(LANES)
    for lane in range(LANES):
        w.pf[lane] = work(F, a, w.pf[lane]) * inv
        tol[lane] = CRITICAL_RTOL * max(1.0, w.pf[lane])
    if acc:
        # accumulate_task reads the total float as lf - dur - es; the wall-clock float
        # is in the task's own working days, so lf is set to match (the late finish
        # in axis days is not needed after this)
        es, ef, lf, dur, tf = w.es, w.ef, w.lf, w.dur, w.cal.tf
        for p in range(dur.shape[0]):
            for lane in range(LANES):
                lf[p, lane] = es[p, lane] + dur[p, lane] + tf[p, lane]
            accumulate_task(p, dur, es, ef, lf, w.ex, tol, n_lanes, w.lsum, grid, w.hbin,
                            sub * dur.shape[0] + p, hist_top, w.crit)


@njit(**JIT)
def deterministic_pass_cal(draws, m, cm, grid, dur1, lag1):
    """:func:`deterministic_pass` of the wall-clock mode.

    Returns early start, early finish, late start, late finish (float64[n_tasks]
    each, elapsed hours; late dates with the constraints' late bounds, see
    :func:`backward_pass_cal`), total float (working days of each task's calendar,
    with the bounds; NaN for a completed task), the four dates in working days of the
    axis calendar (late dates without the bounds, as the simulation has them), the
    project finish in elapsed hours and in axis working days, the durations
    (working days of each task's calendar; a completed task's actual one), the late
    start and late finish with the bounds in axis working days, and the free float
    (working days of each task's calendar: how far its early finish may move before
    it delays a successor's early date or the project finish; NaN when complete).
    """
    w = make_work(draws, None, None, cm, 0)
    for p in range(dur1.shape[0]):
        w.dur[p, :] = dur1[p]
    for r in range(lag1.shape[0]):
        w.lag[r + 1, :] = lag1[r]
    # non-literal arguments: the same compiled passes as the simulation's (see draws._I)
    forward_pass_cal(m, None, cm, w, np.int64(-1))
    ff = _free_float(m, cm, w)
    backward_pass_cal(m, cm, w, np.bool_(True))
    hours = (w.es[:, 0].copy(), w.ef[:, 0].copy(), w.cal.ls[:, 0].copy(), w.lf[:, 0].copy())
    tf_late = w.cal.tf[:, 0].copy()
    pf = w.pf[0]
    passes_cal(m, None, cm, grid, w, np.int64(-1), np.int64(1), np.bool_(False), 0.0)
    out = (w.es[:, 0].copy(), w.ef[:, 0].copy(), w.cal.ls[:, 0].copy(), w.lf[:, 0].copy(),
           w.pf[0], w.dur[:, 0].copy())
    late = np.empty((2, hours[0].shape[0], LANES))
    for p in range(hours[0].shape[0]):
        late[0, p, :] = hours[2][p]
        late[1, p, :] = hours[3][p]
    to_axis_days(cm, late[0])
    to_axis_days(cm, late[1])
    return (hours[0], hours[1], hours[2], hours[3], tf_late, out[0], out[1], out[2], out[3],
            pf, out[4], out[5], late[0, :, 0].copy(), late[1, :, 0].copy(), ff)


@njit(**JIT)
def _free_float(m, cm, w):
    """Free float of every task (lane 0, after the forward pass; see
    :func:`deterministic_pass_cal`): from each successor link, the latest finish that
    keeps the successor's early date (its start for FS/SS, its finish for FF/SF),
    computed back through the lag as the backward pass does; without successors, the
    project finish."""
    n = w.dur.shape[0]
    F = cm.cal_flat
    es, ef, dur, lagv = w.es, w.ef, w.dur, w.lagv
    out = np.empty(n)
    for q in range(n):
        if not np.isnan(cm.fix_ef[q]):
            out[q] = np.nan
            continue
        qc = cm.task_cal[q]
        qhp = cm.cal_hpd[qc]
        q_task = cm.task_kind[q] == KIND_TASK
        qels = cm.el_scale[q]
        latest = w.pf[0]
        for j in range(cm.succ_ptr[q], cm.succ_ptr[q + 1]):
            k = cm.succ_link[j]
            s = np.searchsorted(m.pred_ptr, k, side="right") - 1
            t = m.pred_type[k]
            lc = cm.lag_cal[k]
            lh = cm.cal_hpd[lc]
            el = cm.lag_el[k]
            _link_lag_cal(m.pred_lag, m.pred_lagrow, w.lag, k, lagv)
            b = es[s, 0] if t == FS or t == SS else ef[s, 0]
            if not np.isnan(el):
                b -= lagv[0] * el
            elif lagv[0] * lh != 0.0:
                # the latest moment with that work done, as backward_pass_cal
                b = start_at(F, lc,
                             work(F, lc, b) - lagv[0] * lh)
            if (t == SS or t == SF) and q_task:
                if not np.isnan(qels):
                    b += dur[q, 0] * qels
                elif dur[q, 0] > 0.0:
                    b = shift(F, qc, b, dur[q, 0] * qhp)
            latest = min(latest, b)
        out[q] = (work(F, qc, latest)
                  - work(F, qc, ef[q, 0])) / qhp
    return out

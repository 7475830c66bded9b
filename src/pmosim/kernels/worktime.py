"""Working time of the wall-clock mode: elapsed hours <-> working hours, per calendar.

Each calendar ``c`` is a table of working intervals ``[cal_s, cal_e)`` (elapsed
hours from the data date) with the working hours done at their ends
(``cal_cs``, ``cal_ce``; working hour 0 is the data date), between two Mondays
``cal_t0`` and ``cal_t1``. Outside the table the calendar's weekly pattern
(``cal_ws``/``cal_we``, hours from Monday 00:00) repeats: the compiler puts
every exception inside the table, so the continuation is exact, and no date,
however far a simulation pushes it, falls off the calendar.

The boundary rules are those of the reference, :class:`pmosim.io._worktime.WorkWeek`:
a start on the boundary between two working periods goes to the next period, a
finish stays at the end of the earlier one (within ``EPS`` working hours).
"""

import math

import numpy as np
from numba import njit

from . import INLINE_JIT

#: Working hours within which a moment counts as a period boundary.
EPS = 1e-6
WEEK = 168.0


@njit(**INLINE_JIT)
def _week_work(m, c, r):
    """Working hours of calendar ``c``'s week done ``r`` hours after Monday 00:00."""
    lo, hi = m.cal_wptr[c], m.cal_wptr[c + 1]
    i = np.searchsorted(m.cal_ws[lo:hi], r, side="right") - 1
    if i < 0:
        return 0.0
    return m.cal_wcs[lo + i] + min(r, m.cal_we[lo + i]) - m.cal_ws[lo + i]


@njit(**INLINE_JIT)
def work(m, c, t):
    """Working hours of calendar ``c`` done at elapsed hour ``t``."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    t0, t1 = m.cal_t0[c], m.cal_t1[c]
    if t >= t1 or t < t0:
        week = m.cal_wce[m.cal_wptr[c + 1] - 1]
        base_t, base_w = (t1, m.cal_ce[hi - 1]) if t >= t1 else (t0, m.cal_cs[lo])
        k = math.floor((t - base_t) / WEEK)
        return base_w + k * week + _week_work(m, c, t - base_t - k * WEEK)
    i = np.searchsorted(m.cal_s[lo:hi], t, side="right") - 1
    if i < 0:
        return m.cal_cs[lo]
    return m.cal_cs[lo + i] + min(t, m.cal_e[lo + i]) - m.cal_s[lo + i]


@njit(**INLINE_JIT)
def _week_at(m, c, base_t, base_w, w, finish):
    """``start_at``/``finish_at`` on the weekly pattern continued from (base_t, base_w)."""
    lo, hi = m.cal_wptr[c], m.cal_wptr[c + 1]
    week = m.cal_wce[hi - 1]
    x = w - base_w
    if finish:
        # r in (0, week]: a finish on the end of a week stays in that week
        k = math.ceil(x / week) - 1
        r = x - k * week
        i = np.searchsorted(m.cal_wce[lo:hi], r - EPS, side="left")
        if i >= hi - lo:
            i = hi - lo - 1
    else:
        k = math.floor(x / week)
        r = x - k * week
        i = np.searchsorted(m.cal_wce[lo:hi], r + EPS, side="right")
        if i >= hi - lo:
            k += 1
            r -= week
            i = 0
    return base_t + k * WEEK + m.cal_ws[lo + i] + max(0.0, r - m.cal_wcs[lo + i])


@njit(**INLINE_JIT)
def start_at(m, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done and work
    ahead (a start on a period boundary goes to the next period)."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    if w + EPS < m.cal_cs[lo]:
        return _week_at(m, c, m.cal_t0[c], m.cal_cs[lo], w, False)
    i = np.searchsorted(m.cal_ce[lo:hi], w + EPS, side="right")
    if i >= hi - lo:
        return _week_at(m, c, m.cal_t1[c], m.cal_ce[hi - 1], w, False)
    return m.cal_s[lo + i] + max(0.0, w - m.cal_cs[lo + i])


@njit(**INLINE_JIT)
def finish_at(m, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done (a finish
    on a period boundary stays at the end of the earlier period)."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    if w < m.cal_cs[lo]:
        return _week_at(m, c, m.cal_t0[c], m.cal_cs[lo], w, True)
    i = np.searchsorted(m.cal_ce[lo:hi], w - EPS, side="left")
    if i >= hi - lo:
        return _week_at(m, c, m.cal_t1[c], m.cal_ce[hi - 1], w, True)
    return m.cal_s[lo + i] + max(0.0, w - m.cal_cs[lo + i])

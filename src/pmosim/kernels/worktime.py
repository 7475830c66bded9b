"""Working time of the wall-clock mode: elapsed hours <-> working hours, per calendar.

Each calendar ``c`` is a table of working intervals ``[cal_s, cal_e)`` (elapsed
hours from the data date) with the working hours done at their ends
(``cal_cs``, ``cal_ce``; working hour 0 is the data date), between two Mondays
``cal_t0`` and ``cal_t1``. Outside the table the calendar's weekly pattern
(``cal_ws``/``cal_we``, hours from Monday 00:00) repeats: the compiler extends the
table past every later exception (up to a century after the data date), so the
continuation is exact, and no date, however far a simulation pushes it, falls off
the calendar. The table starts two weeks before the project's earliest date (an
actual date, a constraint or the data date); earlier exceptions are not kept.

The boundary rules are those of the reference, :class:`pmosim.io._worktime.WorkWeek`:
a start on the boundary between two working periods goes to the next period, a
finish stays at the end of the earlier one (within ``EPS`` working hours).
"""

import math

from numba import njit

from . import INLINE_JIT, JIT

#: Working hours within which a moment counts as a period boundary.
EPS = 1e-6
WEEK = 168.0


@njit(**JIT)
def _right(a, lo, hi, x):
    """The first index ``i`` in ``lo..hi`` with ``a[i] > x`` (``hi`` if none).

    np.searchsorted on a slice costs three times as much here (measured).
    """
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**JIT)
def _left(a, lo, hi, x):
    """The first index ``i`` in ``lo..hi`` with ``a[i] >= x`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


# work/start_at/finish_at are inlined by numba (a call would copy the CalendarModel
# struct), and their rare paths beyond the table scan the week's few intervals in
# place: a second call of the binary search there keeps LLVM from inlining it, and
# the array passing and reference counting of such calls made work() 4x slower
# (measured: 150-210 ns instead of 40 ns).
@njit(**INLINE_JIT)
def work(m, c, t):
    """Working hours of calendar ``c`` done at elapsed hour ``t``."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    if t >= m.cal_t1[c] or t < m.cal_t0[c]:
        above = t >= m.cal_t1[c]
        base_t = m.cal_t1[c] if above else m.cal_t0[c]
        base_w = m.cal_ce[hi - 1] if above else m.cal_cs[lo]
        wlo, whi = m.cal_wptr[c], m.cal_wptr[c + 1]
        k = math.floor((t - base_t) / WEEK)
        r = t - base_t - k * WEEK
        x = 0.0
        for j in range(wlo, whi):
            if m.cal_ws[j] <= r:
                x = m.cal_wcs[j] + min(r, m.cal_we[j]) - m.cal_ws[j]
        return base_w + k * m.cal_wce[whi - 1] + x
    i = _right(m.cal_s, lo, hi, t) - 1
    if i < lo:
        return m.cal_cs[lo]
    return m.cal_cs[i] + min(t, m.cal_e[i]) - m.cal_s[i]


@njit(**INLINE_JIT)
def start_at(m, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done and work
    ahead (a start on a period boundary goes to the next period)."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    i = _right(m.cal_ce, lo, hi, w + EPS)
    if w + EPS < m.cal_cs[lo] or i >= hi:
        above = i >= hi
        base_t = m.cal_t1[c] if above else m.cal_t0[c]
        base_w = m.cal_ce[hi - 1] if above else m.cal_cs[lo]
        wlo, whi = m.cal_wptr[c], m.cal_wptr[c + 1]
        week = m.cal_wce[whi - 1]
        k = math.floor((w - base_w) / week)
        r = w - base_w - k * week
        j = wlo
        while j < whi and m.cal_wce[j] <= r + EPS:
            j += 1
        if j >= whi:
            k += 1
            r -= week
            j = wlo
        return base_t + k * WEEK + m.cal_ws[j] + max(0.0, r - m.cal_wcs[j])
    return m.cal_s[i] + max(0.0, w - m.cal_cs[i])


@njit(**INLINE_JIT)
def finish_at(m, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done (a finish
    on a period boundary stays at the end of the earlier period)."""
    lo, hi = m.cal_ptr[c], m.cal_ptr[c + 1]
    i = _left(m.cal_ce, lo, hi, w - EPS)
    if w < m.cal_cs[lo] or i >= hi:
        above = i >= hi
        base_t = m.cal_t1[c] if above else m.cal_t0[c]
        base_w = m.cal_ce[hi - 1] if above else m.cal_cs[lo]
        wlo, whi = m.cal_wptr[c], m.cal_wptr[c + 1]
        week = m.cal_wce[whi - 1]
        # r in (0, week]: a finish on the end of a week stays in that week
        k = math.ceil((w - base_w) / week) - 1
        r = w - base_w - k * week
        j = wlo
        while j < whi - 1 and m.cal_wce[j] < r - EPS:
            j += 1
        return base_t + k * WEEK + m.cal_ws[j] + max(0.0, r - m.cal_wcs[j])
    return m.cal_s[i] + max(0.0, w - m.cal_cs[i])

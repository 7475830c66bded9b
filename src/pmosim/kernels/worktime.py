"""Working time of the wall-clock mode: elapsed hours <-> working hours, per calendar.

Each calendar ``c`` is a table of working intervals ``[tab[0], tab[1])`` (elapsed
hours from the data date) with the working hours done at their ends (``tab[2]``,
``tab[3]``; working hour 0 is the data date), columns ``ptr[c]:ptr[c + 1]``,
between two Mondays ``rng[c]``. Outside the table the calendar's weekly pattern
(``wk``, the same rows in hours from Monday 00:00, columns ``wptr[c]:wptr[c + 1]``)
repeats: the compiler extends the
table past every later exception (up to a century after the data date), so the
continuation is exact, and no date, however far a simulation pushes it, falls off
the calendar. The table starts two weeks before the project's earliest date (an
actual date, a constraint or the data date); earlier exceptions are not kept.

The boundary rules are those of :class:`pmosim.io._common.WorkWeek`, the calendar of
the reference scheduler ``tests/reference_worktime.py``: a start on the boundary
between two working periods goes to the next period, a finish stays at the end of
the earlier one (within ``EPS`` working hours).
"""

import math

from numba import njit

from ..layout import WORK_EPS as EPS
from . import INLINE_JIT, JIT

WEEK = 168.0


@njit(**JIT)
def _right(a, row, lo, hi, x):
    """The first index ``i`` in ``lo..hi`` with ``a[row, i] > x`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[row, mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**JIT)
def _left(a, row, lo, hi, x):
    """The first index ``i`` in ``lo..hi`` with ``a[row, i] >= x`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[row, mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


# The functions take the calendar arrays themselves, hoisted by the caller out of
# its loops, not the CalendarModel: reading an array out of the struct at every
# call costs reference counting, and made work() 3-4x slower (measured: 150-210 ns
# instead of 40-60 ns a call). They are inlined by numba; their rare paths beyond
# the table scan the week's few intervals in place.
@njit(**INLINE_JIT)
def work(tab, wk, ptr, wptr, rng, c, t):
    """Working hours of calendar ``c`` done at elapsed hour ``t``."""
    lo, hi = ptr[c], ptr[c + 1]
    if t >= rng[c, 1] or t < rng[c, 0]:
        above = t >= rng[c, 1]
        base_t = rng[c, 1] if above else rng[c, 0]
        base_w = tab[3, hi - 1] if above else tab[2, lo]
        wlo, whi = wptr[c], wptr[c + 1]
        k = math.floor((t - base_t) / WEEK)
        r = t - base_t - k * WEEK
        x = 0.0
        for j in range(wlo, whi):
            if wk[0, j] <= r:
                x = wk[2, j] + min(r, wk[1, j]) - wk[0, j]
        return base_w + k * wk[3, whi - 1] + x
    i = _right(tab, 0, lo, hi, t) - 1
    if i < lo:
        return tab[2, lo]
    return tab[2, i] + min(t, tab[1, i]) - tab[0, i]


@njit(**INLINE_JIT)
def start_at(tab, wk, ptr, wptr, rng, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done and work
    ahead (a start on a period boundary goes to the next period)."""
    lo, hi = ptr[c], ptr[c + 1]
    i = _right(tab, 3, lo, hi, w + EPS)
    if w + EPS < tab[2, lo] or i >= hi:
        above = i >= hi
        base_t = rng[c, 1] if above else rng[c, 0]
        base_w = tab[3, hi - 1] if above else tab[2, lo]
        wlo, whi = wptr[c], wptr[c + 1]
        week = wk[3, whi - 1]
        k = math.floor((w - base_w) / week)
        r = w - base_w - k * week
        j = wlo
        while j < whi and wk[3, j] <= r + EPS:
            j += 1
        if j >= whi:
            k += 1
            r -= week
            j = wlo
        return base_t + k * WEEK + wk[0, j] + max(0.0, r - wk[2, j])
    return tab[0, i] + max(0.0, w - tab[2, i])


@njit(**INLINE_JIT)
def finish_at(tab, wk, ptr, wptr, rng, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done (a finish
    on a period boundary stays at the end of the earlier period)."""
    lo, hi = ptr[c], ptr[c + 1]
    i = _left(tab, 3, lo, hi, w - EPS)
    if w < tab[2, lo] or i >= hi:
        above = i >= hi
        base_t = rng[c, 1] if above else rng[c, 0]
        base_w = tab[3, hi - 1] if above else tab[2, lo]
        wlo, whi = wptr[c], wptr[c + 1]
        week = wk[3, whi - 1]
        # r in (0, week]: a finish on the end of a week stays in that week
        k = math.ceil((w - base_w) / week) - 1
        r = w - base_w - k * week
        j = wlo
        while j < whi - 1 and wk[3, j] < r - EPS:
            j += 1
        return base_t + k * WEEK + wk[0, j] + max(0.0, r - wk[2, j])
    return tab[0, i] + max(0.0, w - tab[2, i])


@njit(**INLINE_JIT)
def shift(tab, wk, ptr, wptr, rng, c, t, h):
    """The moment ``h`` working hours of calendar ``c`` after (or, for ``h < 0``,
    before) ``t``: ``finish_at(work(t) + h)``."""
    return finish_at(tab, wk, ptr, wptr, rng, c, work(tab, wk, ptr, wptr, rng, c, t) + h)

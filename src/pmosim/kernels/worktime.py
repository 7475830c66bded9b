"""Working time of the wall-clock mode: elapsed hours <-> working hours, per calendar.

Each calendar ``c`` is a table of working intervals ``[start, end)`` (elapsed hours
from the data date) with the working hours done at their ends (working hour 0 is the
data date), between two Mondays. Outside the table the calendar's weekly pattern (the
same records in hours from Monday 00:00) repeats: the compiler extends the table past
every later exception (up to a century after the data date), so the continuation is
exact, and no date, however far a simulation pushes it, falls off the calendar. The
table starts two weeks before the project's earliest date (an actual date, a
constraint or the data date); earlier exceptions are not kept.

The boundary rules are those of :class:`pmosim.io._common.WorkWeek`, the calendar of
the reference scheduler ``tests/reference_worktime.py``: a start on the boundary
between two working periods goes to the next period, a finish stays at the end of
the earlier one (within ``EPS`` working hours).

Every calendar lives in one float64 array ``F`` (``Calendars.cal_flat``, built by
:func:`pmosim.compile.pack_calendars`): ``META`` header fields per calendar
(``F[c * META + M_*]``: positions of its interval records, of its weekly records, the
table range, bucket scales, where its search buckets are, their count), then the
interval records (``REC`` floats each: start, end, working hours done at start and at
end), the weekly records, and the search buckets. One array, not eight: numba's
inlining binds each array argument of a helper to a new variable with an atomic
reference count increment and decrement at every call, and the eight-array version
spent half of each call (~17 ns of ~32) on them.

Searches take constant time: calendar ``c``'s ``n`` intervals are also ``n`` equal
buckets of its elapsed range and ``n`` of its working hours; bucket ``b`` holds (as
two floats) the position of the first interval that starts after the bucket's start
and of the first whose working hours at its end pass the bucket's start. A search
starts there and steps to the exact answer, the interval a binary search would find
(a bucket holds about one interval). On SP10 (tables of 6,000-12,600 intervals) a
call went from ~32 ns (binary search, eight arrays) to ~15 ns.
"""

import math

from numba import njit

from ..layout import WORK_EPS as EPS
from . import INLINE_JIT, JIT

WEEK = 168.0

#: Floats per interval or weekly record: start, end, working hours at start, at end.
REC = 4
#: Header fields per calendar.
META = 10
M_LO, M_HI, M_WLO, M_WHI, M_T0, M_T1, M_PEL, M_PWK, M_IX, M_N = range(META)


@njit(**INLINE_JIT)
def _guess(F, m, x, base, per, k):
    """Where the search for ``x`` starts: the position held by ``x``'s bucket (``per``
    buckets per hour from ``base``; below the first bucket, or NaN, the first; past the
    last, the last); ``k`` 0 for elapsed, 1 for working hours."""
    n = int(F[m + M_N])
    f = (x - base) * per
    b = 0
    if not f >= 1.0:
        b = 0
    elif f >= n:
        b = n - 1
    else:
        b = int(f)
    return int(F[int(F[m + M_IX]) + 2 * b + k])


@njit(**INLINE_JIT)
def _right(F, lo, hi, off, x, i):
    """The first record position in ``lo..hi`` whose field ``off`` is > ``x`` (``hi``
    if none), stepping from position ``i``."""
    while i > lo and F[i - REC + off] > x:
        i -= REC
    while i < hi and F[i + off] <= x:
        i += REC
    return i


@njit(**INLINE_JIT)
def _left(F, lo, hi, off, x, i):
    """The first record position in ``lo..hi`` whose field ``off`` is >= ``x`` (``hi``
    if none), stepping from position ``i``."""
    while i > lo and F[i - REC + off] >= x:
        i -= REC
    while i < hi and F[i + off] < x:
        i += REC
    return i


# Calls, not inlined: numba's inlining copies a body into each of the passes' ~40 call
# sites, and the first compile of the wall-clock kernel (a new user's first run of an
# imported schedule) took over three minutes; as calls it is ~1 minute, for ~13 % more
# time in the passes. Their rare paths beyond the table scan the week's few records in
# place.
@njit(**JIT)
def work(F, c, t):
    """Working hours of calendar ``c`` done at elapsed hour ``t``."""
    m = c * META
    lo, hi = int(F[m + M_LO]), int(F[m + M_HI])
    t0, t1 = F[m + M_T0], F[m + M_T1]
    if t >= t1 or t < t0:
        above = t >= t1
        base_t = t1 if above else t0
        base_w = F[hi - REC + 3] if above else F[lo + 2]
        wlo, whi = int(F[m + M_WLO]), int(F[m + M_WHI])
        k = math.floor((t - base_t) / WEEK)
        r = t - base_t - k * WEEK
        x = 0.0
        for j in range(wlo, whi, REC):
            if F[j] <= r:
                x = F[j + 2] + min(r, F[j + 1]) - F[j]
        return base_w + k * F[whi - REC + 3] + x
    i = _right(F, lo, hi, 0, t, _guess(F, m, t, t0, F[m + M_PEL], 0)) - REC
    if i < lo:
        return F[lo + 2]
    return F[i + 2] + min(t, F[i + 1]) - F[i]


@njit(**JIT)
def start_at(F, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done and work
    ahead (a start on a period boundary goes to the next period)."""
    m = c * META
    lo, hi = int(F[m + M_LO]), int(F[m + M_HI])
    x = w + EPS
    i = _right(F, lo, hi, 3, x, _guess(F, m, x, F[lo + 2], F[m + M_PWK], 1))
    if w + EPS < F[lo + 2] or i >= hi:
        above = i >= hi
        base_t = F[m + M_T1] if above else F[m + M_T0]
        base_w = F[hi - REC + 3] if above else F[lo + 2]
        wlo, whi = int(F[m + M_WLO]), int(F[m + M_WHI])
        week = F[whi - REC + 3]
        k = math.floor((w - base_w) / week)
        r = w - base_w - k * week
        j = wlo
        while j < whi and F[j + 3] <= r + EPS:
            j += REC
        if j >= whi:
            k += 1
            r -= week
            j = wlo
        return base_t + k * WEEK + F[j] + max(0.0, r - F[j + 2])
    return F[i] + max(0.0, w - F[i + 2])


@njit(**JIT)
def finish_at(F, c, w):
    """The first elapsed hour with ``w`` working hours of calendar ``c`` done (a finish
    on a period boundary stays at the end of the earlier period)."""
    m = c * META
    lo, hi = int(F[m + M_LO]), int(F[m + M_HI])
    x = w - EPS
    i = _left(F, lo, hi, 3, x, _guess(F, m, x, F[lo + 2], F[m + M_PWK], 1))
    if w < F[lo + 2] or i >= hi:
        above = i >= hi
        base_t = F[m + M_T1] if above else F[m + M_T0]
        base_w = F[hi - REC + 3] if above else F[lo + 2]
        wlo, whi = int(F[m + M_WLO]), int(F[m + M_WHI])
        week = F[whi - REC + 3]
        # r in (0, week]: a finish on the end of a week stays in that week
        k = math.ceil((w - base_w) / week) - 1
        r = w - base_w - k * week
        j = wlo
        while j < whi - REC and F[j + 3] < r - EPS:
            j += REC
        return base_t + k * WEEK + F[j] + max(0.0, r - F[j + 2])
    return F[i] + max(0.0, w - F[i + 2])


@njit(**JIT)
def shift(F, c, t, h):
    """The moment ``h`` working hours of calendar ``c`` after (or, for ``h < 0``,
    before) ``t``: ``finish_at(work(t) + h)``."""
    return finish_at(F, c, work(F, c, t) + h)


# Inlined copies for the handful of call sites on the passes' hot path (the plain
# task's start and finish, forward and backward), where a call costs ~10 % of a
# simulation. They are only ever inlined, never compiled (or cached) on their own.
# (Under NUMBA_DISABLE_JIT njit returns the Python function itself.)
work_inline = njit(**INLINE_JIT)(getattr(work, "py_func", work))
start_at_inline = njit(**INLINE_JIT)(getattr(start_at, "py_func", start_at))
finish_at_inline = njit(**INLINE_JIT)(getattr(finish_at, "py_func", finish_at))

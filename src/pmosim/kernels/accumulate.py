"""Streaming statistics: each task's start and finish moments, criticality, extremes and
start and finish histograms, added lane block by lane block and moved into exact integer totals
(:class:`pmosim.layout.Totals`) at the end of each super-block.
"""

import numpy as np
from numba import njit

from . import JIT, LANES
from .vector import (
    FOLD, vadd, vfirst, vfold_add, vfold_max, vfold_min, vkeep, vload, vmax, vmin, vmul,
    vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub,
)

_TWO32 = 4294967296.0


@njit(**JIT)
def add_fixed(acc, row, p, x):
    """Add ``x`` to the exact sum ``acc[row, p]`` (integer part) + ``acc[row + 1, p]`` (2**-32 units)."""
    fl = np.floor(x)
    acc[row, p] += np.int64(fl)
    acc[row + 1, p] += np.int64((x - fl) * _TWO32 + 0.5)


@njit(**JIT)
def normalise_fixed(acc):
    """Carry whole units from row 1 (2**-32 units) into row 0 of exact sums ``acc``."""
    for p in range(acc.shape[1]):
        carry = acc[1, p] >> 32
        acc[0, p] += carry
        acc[1, p] -= carry << 32


#: Rows of per-lane running sums kept per task (see accumulate_task).
LSUM_ROWS = 9
#: Lanes of those sums: LANES folded by 4 (see simd.vfold_add).
LSUM_LANES = FOLD


@njit(**JIT)
def new_lane_sums(n):
    """Lane sums of ``n`` tasks, reset (see :func:`accumulate_task`)."""
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
            lsum[r0 + 7, lane] = np.inf
            lsum[r0 + 8, lane] = -np.inf


@njit(**JIT)
def add_task_stats(e, f, crit, n_lanes, lsum, r, s_shift, f_shift, sc, lo, scale, slo, sscale,
                   hbin, hrow, top, crit_rows, p):
    """Add one task's start ``e``, finish ``f`` and critical flags ``crit`` (vec) to its
    lane sums (rows ``r .. r + 8``) and histogram bins (finish: row ``hrow`` of
    ``hbin``; start: row ``hrow + hbin.shape[0] // 2``), and keep the flags in
    ``crit_rows[p]`` for the sensitivity stage; see :func:`accumulate_task`. Lanes l,
    l + 4, l + 8, l + 12 are folded into lane l of the sums: a quarter of the memory
    (the sums of 1,000 tasks then fit in L2 with the passes' rows)."""
    zero = vsplat(0.0)
    one = vsplat(1.0)
    vtop = vsplat(top)
    ds = vmul(vsub(e, vsplat(s_shift)), vsplat(sc))
    df = vmul(vsub(f, vsplat(f_shift)), vsplat(sc))
    vstore_int(hbin, hrow, vmin(vmax(vadd(vmul(vsub(f, vsplat(lo)), vsplat(scale)), one), zero),
                                vtop))
    vstore_int(hbin, hrow + (hbin.shape[0] >> 1),
               vmin(vmax(vadd(vmul(vsub(e, vsplat(slo)), vsplat(sscale)), one), zero), vtop))
    vstore(crit_rows, p, crit)
    if n_lanes < LANES:
        # the last block of a run: lanes past its end add nothing
        crit = vkeep(crit, n_lanes, zero)
        ds = vkeep(ds, n_lanes, zero)
        df = vkeep(df, n_lanes, zero)
        f = vkeep(f, n_lanes, vsplat(vfirst(f)))
        e = vkeep(e, n_lanes, vsplat(vfirst(e)))
    vfold_add(lsum, r, ds)
    vfold_add(lsum, r + 1, vmul(ds, ds))
    vfold_add(lsum, r + 2, df)
    vfold_add(lsum, r + 3, vmul(df, df))
    vfold_add(lsum, r + 4, crit)
    vfold_min(lsum, r + 5, f)
    vfold_max(lsum, r + 6, f)
    vfold_min(lsum, r + 7, e)
    vfold_max(lsum, r + 8, e)


@njit(**JIT)
def accumulate_task(p, dur, es, ef, lf, ex, tol, n_lanes, lsum, grid, hbin, hrow, top,
                    crit_rows):
    """Add task ``p`` of the first ``n_lanes`` lanes to the streaming accumulators.

    dur, es, ef, lf, ex : float64[n_tasks, LANES]   the lanes' durations, dates, existence
    tol : float64[LANES]                   critical when total float <= tol (per lane)
    lsum : float64[LSUM_ROWS * n_tasks, LSUM_LANES]
        Per lane (lanes l + 4j folded into lane l), over the lane blocks of the
        current super-block, rows
        ``LSUM_ROWS * p + (0..8)``: sums of d = (start - start_shift) * mom_scale and
        d**2, of the same for the finish, the critical count, the least and greatest
        finish and the least and greatest start. :func:`flush_lane_sums` moves them
        into the exact totals at the end of each super-block; ``mom_scale`` is a power
        of two that makes |d| <~ 1.
    grid : pmosim.layout.Grid              shifts, scales and histogram ranges
    hbin : uint8[2 * N_SUB * n_tasks, LANES]
        Finish-histogram column of each iteration of the super-block in row ``hrow``
        (sub-block * n_tasks + p), the start's N_SUB * n_tasks rows further: bin
        (x - lo) * scale, under- and overflow in the end columns (column ``top``);
        counted by flush_lane_sums
    crit_rows : float64[n_tasks, LANES]    the critical flags, kept for the
                                           sensitivity stage

    Rows are :mod:`.simd` vectors.
    """
    zero = vsplat(0.0)
    e = vload(es, p)
    f = vload(ef, p)
    # a task that does not exist in the iteration is never critical
    crit = vselect_le(vsub(vsub(vload(lf, p), vload(dur, p)), e), vload(tol, 0), vsplat(1.0), zero)
    crit = vselect_gt(vload(ex, p), zero, crit, zero)
    add_task_stats(e, f, crit, n_lanes, lsum, LSUM_ROWS * p, grid.start_shift[p],
                   grid.finish_shift[p], grid.mom_scale[p], grid.hist_lo[p], grid.hist_scale[p],
                   grid.start_lo[p], grid.start_scale[p], hbin, hrow, top, crit_rows, p)


@njit(**JIT)
def flush_lane_sums(lsum, hbin, n_live, totals):
    """Add the per-lane sums of a finished super-block to the exact totals, and reset them.

    totals : pmosim.layout.Totals
        ``crit``, ``mom`` (exact sums of the moment terms, each as an integer part and
        a count of 2**-32 units, rounded to nearest), ``hist`` and ``shist``
        (``n_live`` iterations of the super-block are counted from ``hbin``'s
        finish and start rows, a task's row at a time: kept in cache, unlike counting each lane
        block into rows of all tasks), ``tmin``, ``tmax``, ``smin`` and ``smax``.

    Super-blocks are aligned to multiples of SUPER iterations (chunks are multiples
    of SUPER), so each holds the same iterations on any thread count and chunk
    size, and the lane sums are added in a fixed order (lanes pairwise): the float
    sum of a super-block is reproducible, and integer totals then make the result
    independent of the order in which threads add their super-blocks.
    """
    crit, mom, hist, tmin, tmax = totals.crit, totals.mom, totals.hist, totals.tmin, totals.tmax
    shist, smin, smax = totals.shist, totals.smin, totals.smax
    n = crit.shape[0]
    half = hbin.shape[0] >> 1
    for p in range(n):
        r = LSUM_ROWS * p
        for q in range(5):
            t = (lsum[r + q, 0] + lsum[r + q, 1]) + (lsum[r + q, 2] + lsum[r + q, 3])
            if q < 4:
                add_fixed(mom, 2 * q, p, t)
            else:
                crit[p] += np.int64(t)
        _fold_extremes(lsum, r + 5, tmin, tmax, p)
        _fold_extremes(lsum, r + 7, smin, smax, p)
        for sub in range((n_live + LANES - 1) // LANES):
            h = sub * n + p
            for lane in range(min(LANES, n_live - sub * LANES)):
                hist[p, hbin[h, lane]] += 1
                shist[p, hbin[h + half, lane]] += 1
    reset_lane_sums(lsum)


@njit(**JIT)
def _fold_extremes(lsum, row, lo, hi, p):
    """``lo[p]`` and ``hi[p]`` take the least of lane row ``row`` and the greatest of row
    ``row + 1`` of the lane sums."""
    x = lo[p]
    y = hi[p]
    for lane in range(LSUM_LANES):
        x = min(x, lsum[row, lane])
        y = max(y, lsum[row + 1, lane])
    lo[p] = x
    hi[p] = y


@njit(**JIT)
def count_in_bin(hist, row, b):
    """Count a value at bin position ``b`` (value - lo) * scale in ``hist[row]``, whose first
    and last columns are the open-ended under- and overflow bins."""
    n_bins = hist.shape[1] - 2
    if b < 0.0:
        hist[row, 0] += 1
    elif b < n_bins:
        hist[row, int(b) + 1] += 1
    else:
        # at or past the top, and NaN (0 * inf from a degenerate range): never an index
        hist[row, n_bins + 1] += 1

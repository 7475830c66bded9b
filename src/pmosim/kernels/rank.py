"""Rank correlations of many samples against one, for the sensitivity analysis's rank
cruciality: Spearman's rho and Kendall's tau-b of each row in O(k log k) (average
ranks; Knight's algorithm), where scipy's per-call overhead and its generic ranking
made thousands of rows take seconds. ``nogil``: the caller may split rows over
threads.
"""

import numpy as np
from numba import njit

from . import JIT


@njit(**JIT)
def spearman_kendall(xt, y, oy):
    """Spearman's rho and Kendall's tau-b of each row of ``xt`` (float64[m, k]) with ``y``
    (float64[k]; ``oy`` its stable argsort, int64[k]): two float64[m], NaN where either
    side never varies. (Sorting is the merge sort below, not numpy's: numba compiles
    ``np.argsort`` and ``np.sort`` slowly, and this runs on a first run.)

    One merge sort per row gives both. Kendall (Knight, 1966): with the pairs sorted by
    (y, x), the discordant pairs are the strict inversions of the x sequence, which the
    merge sort counts; ties in x, in y and in both are counted from runs, and tau-b =
    (n0 - n1 - n2 + n3 - 2 * discordant) / sqrt((n0 - n1) * (n0 - n2)). Spearman: the
    sorted row (carrying each value's sample index) gives its average ranks over ties
    (as scipy.stats.rankdata), and rho is the Pearson correlation of the ranks.
    """
    m, k = xt.shape
    rho = np.empty(m)
    tau = np.empty(m)
    ys = np.empty(k)
    for i in range(k):
        ys[i] = y[oy[i]]
    ry = np.empty(k)
    _average_ranks(ys, oy, ry)
    ryc = np.empty(k)
    sy = 0.0
    mean_r = (k + 1) / 2.0
    for i in range(k):
        ryc[i] = ry[i] - mean_r
        sy += ryc[i] * ryc[i]
    sy = np.sqrt(sy)
    n0 = k * (k - 1) / 2.0
    n2 = _tied_pairs(ys)
    rx = np.empty(k)
    xs = np.empty(k)
    ix = np.empty(k, dtype=np.int64)
    buf = np.empty(k)
    ibuf = np.empty(k, dtype=np.int64)
    for j in range(m):
        x = xt[j]
        for i in range(k):
            xs[i] = x[oy[i]]
            ix[i] = oy[i]
        # within a run of equal y, x ascending (those pairs are never discordant),
        # counting the pairs tied in both
        n3 = 0.0
        a = 0
        for i in range(1, k + 1):
            if i == k or ys[i] != ys[a]:
                if i - a > 1:
                    _merge_count(xs[a:i], ix[a:i], buf[a:i], ibuf[a:i])
                    n3 += _tied_pairs(xs[a:i])
                a = i
        dis = _merge_count(xs, ix, buf, ibuf)
        n1 = _tied_pairs(xs)
        den = (n0 - n1) * (n0 - n2)
        tau[j] = (n0 - n1 - n2 + n3 - 2.0 * dis) / np.sqrt(den) if den > 0 else np.nan
        _average_ranks(xs, ix, rx)
        sxy = 0.0
        sxx = 0.0
        for i in range(k):
            d = rx[i] - mean_r
            sxy += d * ryc[i]
            sxx += d * d
        rho[j] = sxy / (np.sqrt(sxx) * sy) if sxx > 0 and sy > 0 else np.nan
    return rho, tau


@njit(**JIT)
def _average_ranks(sorted_vals, order, out):
    """``out[order[i]]`` = the average 1-based rank of ``sorted_vals[i]`` over its run of
    equal values."""
    k = sorted_vals.shape[0]
    a = 0
    for i in range(1, k + 1):
        if i == k or sorted_vals[i] != sorted_vals[a]:
            r = (a + 1 + i) / 2.0
            for t in range(a, i):
                out[order[t]] = r
            a = i


@njit(**JIT)
def _tied_pairs(a):
    """Pairs of equal values in the sorted array ``a`` (sum of r (r - 1) / 2 over its
    runs of equal values)."""
    k = a.shape[0]
    n = 0.0
    r = 1
    for i in range(1, k + 1):
        if i < k and a[i] == a[i - 1]:
            r += 1
        else:
            n += r * (r - 1) / 2.0
            r = 1
    return n


@njit(**JIT)
def _merge_count(a, idx, buf, ibuf):
    """Sort ``a`` in place (bottom-up merge sort, stable; ``idx`` moves with it) and
    return its number of strict inversions (pairs i < j with a[i] > a[j])."""
    k = a.shape[0]
    count = 0.0
    width = 1
    src, dst, isrc, idst = a, buf, idx, ibuf
    while width < k:
        for lo in range(0, k, 2 * width):
            mid = min(lo + width, k)
            hi = min(lo + 2 * width, k)
            i, j, t = lo, mid, lo
            while i < mid and j < hi:
                if src[j] < src[i]:
                    dst[t] = src[j]
                    idst[t] = isrc[j]
                    count += mid - i
                    j += 1
                else:
                    dst[t] = src[i]
                    idst[t] = isrc[i]
                    i += 1
                t += 1
            while i < mid:
                dst[t] = src[i]
                idst[t] = isrc[i]
                i += 1
                t += 1
            while j < hi:
                dst[t] = src[j]
                idst[t] = isrc[j]
                j += 1
                t += 1
        src, dst = dst, src
        isrc, idst = idst, isrc
        width *= 2
    if src is not a:
        # element by element: a slice assignment compiles numba's shape-mismatch
        # message formatting, ~3 s of a new user's first run
        for t in range(k):
            a[t] = src[t]
            idx[t] = isrc[t]
    return count

"""Kendall's tau-b of many columns against one vector, for the sensitivity analysis's
rank cruciality: O(k log k) per column (Knight's algorithm), where scipy's per-call
overhead made thousands of columns take seconds.
"""

import numpy as np
from numba import njit

from . import JIT


@njit(**JIT)
def kendall_tau_b(xt, y):
    """Kendall's tau-b of each row of ``xt`` (float64[m, k]: a sample per row, so that
    each is read contiguously) with ``y`` (float64[k]): float64[m], NaN where either
    side never varies.

    Knight (1966): sort the pairs by (y, x); the discordant pairs are then the strict
    inversions of the x sequence, counted by a merge sort; ties in x, in y and in both
    are counted from runs, and tau-b = (n0 - n1 - n2 + n3 - 2 * discordant) /
    sqrt((n0 - n1) * (n0 - n2)).
    """
    m, k = xt.shape
    out = np.empty(m)
    oy = np.argsort(y, kind="mergesort")
    ys = y[oy]
    n0 = k * (k - 1) / 2.0
    n2 = 0.0
    run = 1
    for i in range(1, k + 1):
        if i < k and ys[i] == ys[i - 1]:
            run += 1
        else:
            n2 += run * (run - 1) / 2.0
            run = 1
    xs = np.empty(k)
    buf = np.empty(k)
    for j in range(m):
        for i in range(k):
            xs[i] = xt[j, oy[i]]
        # within each run of equal y, x ascending (so those pairs are never discordant),
        # counting the pairs tied in both
        n3 = 0.0
        a = 0
        for i in range(1, k + 1):
            if i == k or ys[i] != ys[a]:
                if i - a > 1:
                    xs[a:i] = np.sort(xs[a:i])
                    r = 1
                    for t in range(a + 1, i + 1):
                        if t < i and xs[t] == xs[t - 1]:
                            r += 1
                        else:
                            n3 += r * (r - 1) / 2.0
                            r = 1
                a = i
        dis = _merge_count(xs, buf)
        # xs is now sorted: its runs are the ties in x
        n1 = 0.0
        r = 1
        for i in range(1, k + 1):
            if i < k and xs[i] == xs[i - 1]:
                r += 1
            else:
                n1 += r * (r - 1) / 2.0
                r = 1
        den = (n0 - n1) * (n0 - n2)
        out[j] = (n0 - n1 - n2 + n3 - 2.0 * dis) / np.sqrt(den) if den > 0 else np.nan
    return out


@njit(**JIT)
def _merge_count(a, buf):
    """Sort ``a`` in place (bottom-up merge sort) and return its number of strict
    inversions (pairs i < j with a[i] > a[j])."""
    k = a.shape[0]
    count = 0.0
    width = 1
    src, dst = a, buf
    while width < k:
        for lo in range(0, k, 2 * width):
            mid = min(lo + width, k)
            hi = min(lo + 2 * width, k)
            i, j, t = lo, mid, lo
            while i < mid and j < hi:
                if src[j] < src[i]:
                    dst[t] = src[j]
                    count += mid - i
                    j += 1
                else:
                    dst[t] = src[i]
                    i += 1
                t += 1
            while i < mid:
                dst[t] = src[i]
                i += 1
                t += 1
            while j < hi:
                dst[t] = src[j]
                j += 1
                t += 1
        src, dst = dst, src
        width *= 2
    if src is not a:
        a[:] = src
    return count

"""Inverse-CDF sampling of the distribution codes defined in :mod:`pmosim.distributions`.

Each sampler maps a row of uniforms (one variable, ``LANES`` iterations) to values,
so the distribution switch sits outside the lane loop and the lane loop vectorises.
"""

import math

import numpy as np
from numba import carray, njit

from ..distributions import (
    FIXED, QT_COEFS, QT_LOWER, QT_MID_CELLS, QT_OCT_CELLS, QT_OCT_FIRST, QT_OCT_LAST,
    QT_TAIL, QT_UPPER, QTABLE, TRIANGULAR, UNIFORM,
)
from . import JIT, LANES
from .stack import _alloca_f64

_MID_SCALE = QT_MID_CELLS / (1.0 - 2.0 * QT_TAIL)


@njit(**JIT)
def _horner5(tables, b, s):
    """The cell polynomial with coefficients ``tables[b:b+6]`` at local coordinate ``s``."""
    return tables[b] + s * (tables[b + 1] + s * (tables[b + 2] + s * (
        tables[b + 3] + s * (tables[b + 4] + s * tables[b + 5]))))


@njit(**JIT)
def quantile_tail(tables, off, u):
    """Quantile-table value in a tail (u < 1/8 or u > 7/8): octave lookup."""
    if u < QT_TAIL:
        start = off + QT_LOWER
        v = u
    else:
        start = off + QT_UPPER
        v = 1.0 - u
    # octave e holds v in [2**-(e+1), 2**-e); doubling is exact, so w in [1, 2) is
    # frexp's mantissa times two, found in ~2 steps for the octaves that occur often
    w = v * 2.0 ** (QT_OCT_FIRST + 1)
    e = QT_OCT_FIRST
    while w < 1.0 and e < QT_OCT_LAST:
        w *= 2.0
        e += 1
    t = (w - 1.0) * QT_OCT_CELLS if w >= 1.0 else 0.0
    k = min(int(t), QT_OCT_CELLS - 1)
    return _horner5(tables, start + QT_COEFS * ((e - QT_OCT_FIRST) * QT_OCT_CELLS + k), t - k)


@njit(**JIT)
def sample_row(code, par, row, tables, u, urow, out, orow):
    """``out[orow, l] = ppf(u[urow, l])`` for one variable and all ``LANES`` lanes.

    Rows are passed as indices rather than views: a view costs two atomic
    reference-count updates, which at one variable per call is a measurable
    share of the sampling time.

    Parameters
    ----------
    code : int
        Distribution code (FIXED, UNIFORM, TRIANGULAR, QTABLE, DISCRETE).
    par : float64[n_vars, 5]
        Kernel parameters; row ``row`` is this variable's.
    tables : float64[:]
        Concatenated quantile and discrete tables.
    u : float64[n_uniforms, LANES]
        Uniforms; row ``urow`` is this variable's.
    out : float64[n_vars, LANES]
        Samples out, into row ``orow``.
    """
    p0, p1, p2, p3, p4 = par[row, 0], par[row, 1], par[row, 2], par[row, 3], par[row, 4]
    # samples go to a stack buffer first and the buffer to ``out``: a loop that stores
    # into ``out`` while loading ``u`` or ``tables`` cannot be vectorised or reordered
    # (see .stack); ``nl`` (== LANES) is read at run time so that LLVM vectorises
    nl = u.shape[1]
    if code == FIXED:
        for lane in range(LANES):
            out[orow, lane] = p0
    elif code == UNIFORM:
        for lane in range(LANES):
            out[orow, lane] = p0 + p1 * u[urow, lane]
    elif code == TRIANGULAR:
        # p0 = low, p1 = mode, p2 = high, p3 = (mode - low) / (high - low)
        wl = (p2 - p0) * (p1 - p0)
        wr = (p2 - p0) * (p2 - p1)
        buf = carray(_alloca_f64(LANES), LANES)
        for lane in range(nl):
            x = u[urow, lane]
            left = x < p3
            root = math.sqrt(x * wl if left else (1.0 - x) * wr)
            buf[lane] = p0 + root if left else p2 - root
        for lane in range(nl):
            out[orow, lane] = buf[lane]
    elif code == QTABLE:
        # value = p0 + p1 * table(p3 + u * (1 - p3)); p3 > 0 truncates the left
        # tail (normal durations), p4 = 1 clamps tiny negative rounding to zero.
        off = int(p2)
        span = 1.0 - p3
        buf = carray(_alloca_f64(LANES), LANES)
        for lane in range(LANES):
            uu = p3 + u[urow, lane] * span
            if uu < QT_TAIL or uu > 1.0 - QT_TAIL:
                x = quantile_tail(tables, off, uu)
            else:
                t = (uu - QT_TAIL) * _MID_SCALE
                k = min(int(t), QT_MID_CELLS - 1)
                x = _horner5(tables, off + QT_COEFS * k, t - k)
            buf[lane] = p0 + p1 * x
        if p4 > 0.0:
            for lane in range(nl):
                buf[lane] = max(buf[lane], 0.0)
        for lane in range(nl):
            out[orow, lane] = buf[lane]
    else:  # DISCRETE: p0 = table offset (cumulative weights, then values), p1 = count
        off = int(p0)
        n = int(p1)
        for lane in range(LANES):
            k = 0
            while k < n - 1 and u[urow, lane] >= tables[off + k]:
                k += 1
            out[orow, lane] = tables[off + n + k]


@njit(**JIT)
def sample_many(code, par, tables, u):
    """``ppf(u)`` for a 1-D array of uniforms and one parameter row (tests and tools)."""
    out = np.empty(u.shape[0])
    buf_u = np.full((1, LANES), 0.5)
    buf_o = np.empty((1, LANES))
    par2 = par.reshape(1, -1)
    for i in range(u.shape[0]):
        buf_u[0, 0] = u[i]
        sample_row(code, par2, 0, tables, buf_u, 0, buf_o, 0)
        out[i] = buf_o[0, 0]
    return out


@njit(**JIT)
def qtable_value(tables, off, u):
    """One value of the quantile table at ``off`` (scalar version of the QTABLE sampler)."""
    if u < QT_TAIL or u > 1.0 - QT_TAIL:
        return quantile_tail(tables, off, u)
    t = (u - QT_TAIL) * _MID_SCALE
    k = min(int(t), QT_MID_CELLS - 1)
    return _horner5(tables, off + QT_COEFS * k, t - k)

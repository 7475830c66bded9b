"""Inverse-CDF sampling of the distribution codes defined in :mod:`pmosim.distributions`.

Each sampler maps a row of uniforms (one variable, ``LANES`` iterations) to values,
so the distribution switch sits outside the lane loop and the lane loop vectorises.
"""

import math

import numpy as np
from numba import njit

from ..distributions import (
    FIXED, QT_COEFS, QT_LOWER, QT_MID_CELLS, QT_OCT_CELLS, QT_OCT_FIRST, QT_OCT_LAST,
    QT_TAIL, QT_UPPER, QTABLE, TRIANGULAR, UNIFORM,
)
from . import JIT, LANES
from .vector import bits_f64, f64_bits
from .vector import lane_f64

_MID_SCALE = QT_MID_CELLS / (1.0 - 2.0 * QT_TAIL)
# v in [2**k, 2**(k+1)) has biased exponent 1023 + k; octave e = -(k + 1)
_EXP_BIAS_M1 = 1022


@njit(**JIT)
def _horner5(tables, b, s):
    """The cell polynomial with coefficients ``tables[b:b+6]`` at local coordinate ``s``."""
    return tables[b] + s * (tables[b + 1] + s * (tables[b + 2] + s * (
        tables[b + 3] + s * (tables[b + 4] + s * tables[b + 5]))))


_EXP_MASK = (1 << 11) - 1
_MANT_MASK = (1 << 52) - 1
_ONE_BITS = 1023 << 52


@njit(**JIT)
def _qtable_cell(u):
    """Offset (in words, within a table) of the cell holding ``u`` and the local
    coordinate in it: a middle cell for u in [1/8, 7/8], else the octave cell of
    ``v = min(u, 1 - u)`` in the lower or upper tail block.

    Octave ``e`` holds v in [2**-(e+1), 2**-e); ``e`` and the position in the
    octave, ``2**(e+1) * v - 1`` in [0, 1), are read from the bits of ``v`` (both
    exact). Below the last octave the first knot of that octave is used.
    """
    v = min(u, 1.0 - u)     # 1 - u is exact for u >= 1/2
    tm = (u - QT_TAIL) * _MID_SCALE
    km = min(max(int(tm), 0), QT_MID_CELLS - 1)
    bits = f64_bits(v)
    e = _EXP_BIAS_M1 - ((bits >> 52) & _EXP_MASK)
    frac = bits_f64((bits & _MANT_MASK) | _ONE_BITS) - 1.0
    deep = e > QT_OCT_LAST
    tt = 0.0 if deep else frac * QT_OCT_CELLS
    kt = min(int(tt), QT_OCT_CELLS - 1)
    side = QT_UPPER if u > 0.5 else QT_LOWER
    bt = side + QT_COEFS * ((min(e, QT_OCT_LAST) - QT_OCT_FIRST) * QT_OCT_CELLS + kt)
    tail = v < QT_TAIL
    b = bt if tail else QT_COEFS * km
    s = tt - kt if tail else tm - km
    return b, s


@njit(**JIT)
def sample_row(code, par, row, tables, u, urow, out, orow, nrows):
    """``out[orow + r, l] = ppf(u[urow + r, l])`` for one variable, ``nrows`` rows of
    uniforms (``nrows * LANES`` iterations) and all lanes.

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
        Uniforms; rows ``urow .. urow + nrows - 1`` are this variable's.
    out : float64[n_vars, LANES]
        Samples out, into rows ``orow .. orow + nrows - 1``.
    nrows : int
        Rows to sample: one call per variable and super-block rather than per row
        saves the call and the distribution switch (measured: ~1.9 ns per draw of a
        uniform duration when called per row of 16 lanes).
    """
    p0, p1, p2, p3, p4 = par[row, 0], par[row, 1], par[row, 2], par[row, 3], par[row, 4]
    # samples go to a stack buffer first and the buffer to ``out``: a loop that stores
    # into ``out`` while loading ``u`` or ``tables`` cannot be vectorised or reordered
    # (see .stack); ``nl`` (== LANES) is read at run time so that LLVM vectorises
    nl = u.shape[1]
    if code == FIXED:
        for r in range(nrows):
            for lane in range(LANES):
                out[orow + r, lane] = p0
    elif code == UNIFORM:
        for r in range(nrows):
            for lane in range(LANES):
                out[orow + r, lane] = p0 + p1 * u[urow + r, lane]
    elif code == TRIANGULAR:
        # p0 = low, p1 = mode, p2 = high, p3 = (mode - low) / (high - low)
        wl = (p2 - p0) * (p1 - p0)
        wr = (p2 - p0) * (p2 - p1)
        buf = lane_f64()
        for r in range(nrows):
            for lane in range(nl):
                x = u[urow + r, lane]
                left = x < p3
                root = math.sqrt(x * wl if left else (1.0 - x) * wr)
                buf[lane] = p0 + root if left else p2 - root
            for lane in range(nl):
                out[orow + r, lane] = buf[lane]
    elif code == QTABLE:
        # value = p0 + p1 * table(p3 + u * (1 - p3)); p3 > 0 truncates the left
        # tail (normal durations), p4 = 1 clamps tiny negative rounding to zero.
        # Branch-free: every lane computes both its middle cell and its tail cell and
        # selects one, so a quarter of the lanes in the tails costs no mispredicted
        # branches and the cache misses of different lanes overlap.
        off = int(p2)
        span = 1.0 - p3
        buf = lane_f64()
        for r in range(nrows):
            for lane in range(nl):
                b, s = _qtable_cell(p3 + u[urow + r, lane] * span)
                buf[lane] = p0 + p1 * _horner5(tables, off + b, s)
            if p4 > 0.0:
                for lane in range(nl):
                    buf[lane] = max(buf[lane], 0.0)
            for lane in range(nl):
                out[orow + r, lane] = buf[lane]
    else:  # DISCRETE: p0 = table offset (cumulative weights, then values), p1 = count
        off = int(p0)
        n = int(p1)
        for r in range(nrows):
            for lane in range(LANES):
                k = 0
                while k < n - 1 and u[urow + r, lane] >= tables[off + k]:
                    k += 1
                out[orow + r, lane] = tables[off + n + k]


@njit(**JIT)
def sample_many(code, par, tables, u):
    """``ppf(u)`` for a 1-D array of uniforms and one parameter row (tests and tools)."""
    out = np.empty(u.shape[0])
    buf_u = np.full((1, LANES), 0.5)
    buf_o = np.empty((1, LANES))
    par2 = par.reshape(1, -1)
    for i in range(u.shape[0]):
        buf_u[0, 0] = u[i]
        sample_row(code, par2, 0, tables, buf_u, 0, buf_o, 0, 1)
        out[i] = buf_o[0, 0]
    return out


@njit(**JIT)
def qtable_value(tables, off, u):
    """One value of the quantile table at ``off`` (scalar version of the QTABLE sampler)."""
    b, s = _qtable_cell(u)
    return _horner5(tables, off + b, s)

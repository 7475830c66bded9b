"""Inverse-CDF sampling of the distribution codes defined in :mod:`pmosim.distributions`.

Each sampler maps uniforms in (0, 1) to values, one row (variable) at a time so the
distribution switch sits outside the lane loop and the lane loop vectorises.
"""

import math

import numpy as np
from numba import njit

from . import JIT

FIXED, UNIFORM, TRIANGULAR, BETA_TABLE, NORMAL, LOGNORMAL, EXPONENTIAL, DISCRETE = range(8)

# Acklam's rational approximation of the standard normal quantile (relative error
# 1.15e-9), refined below by one Halley step on erfc to full double precision.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@njit(**JIT)
def ndtri(p):
    """Standard normal quantile for p in (0, 1), to within a few ulp of scipy's ndtri."""
    if p > 0.5:
        return -ndtri(1.0 - p)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
             / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    else:
        q = p - 0.5
        r = q * q
        x = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
             / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    e = 0.5 * math.erfc(-x / _SQRT2) - p
    u = e * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@njit(**JIT)
def beta_table_value(tables, offset, u):
    """Tabulated Beta inverse CDF on [0, 1] (layout: distributions.beta_ppf_table)."""
    cells = int(tables[offset])
    xs = offset + 3
    ss = xs + cells + 1
    t = u * cells
    k = min(int(t), cells - 1)
    if k == 0:
        return tables[xs + 1] * t ** tables[offset + 1]
    if k == cells - 1:
        return 1.0 - (1.0 - tables[xs + cells - 1]) * (cells - t) ** tables[offset + 2]
    f = t - k
    f2 = f * f
    f3 = f2 * f
    x = ((2.0 * f3 - 3.0 * f2 + 1.0) * tables[xs + k] + (f3 - 2.0 * f2 + f) * tables[ss + k]
         + (-2.0 * f3 + 3.0 * f2) * tables[xs + k + 1] + (f3 - f2) * tables[ss + k + 1])
    return min(max(x, 0.0), 1.0)


@njit(**JIT)
def sample_row(code, par, tables, u, out, n_lanes):
    """``out[l] = ppf(u[l])`` for one variable, ``l < n_lanes``.

    Parameters
    ----------
    code : int
        Distribution code (pmosim.distributions kernel codes).
    par : float64[4]
        Its kernel parameters.
    tables : float64[:]
        Concatenated PERT/discrete tables.
    u, out : float64[LANES]
        Uniforms in, samples out.
    """
    p0, p1, p2, p3 = par[0], par[1], par[2], par[3]
    if code == FIXED:
        for lane in range(n_lanes):
            out[lane] = p0
    elif code == UNIFORM:
        for lane in range(n_lanes):
            out[lane] = p0 + p1 * u[lane]
    elif code == TRIANGULAR:
        # p0 = low, p1 = mode, p2 = high, p3 = (mode - low) / (high - low)
        wl = (p2 - p0) * (p1 - p0)
        wr = (p2 - p0) * (p2 - p1)
        for lane in range(n_lanes):
            x = u[lane]
            left = p0 + math.sqrt(x * wl)
            right = p2 - math.sqrt((1.0 - x) * wr)
            out[lane] = left if x < p3 else right
    elif code == BETA_TABLE:
        off = int(p2)
        for lane in range(n_lanes):
            out[lane] = p0 + p1 * beta_table_value(tables, off, u[lane])
    elif code == NORMAL:
        # p2 = probability mass cut off below zero, p3 = 1 to clamp at zero
        for lane in range(n_lanes):
            x = p0 + p1 * ndtri(p2 + u[lane] * (1.0 - p2))
            out[lane] = max(x, 0.0) if p3 > 0.0 else x
    elif code == LOGNORMAL:
        for lane in range(n_lanes):
            out[lane] = math.exp(p0 + p1 * ndtri(u[lane]))
    elif code == EXPONENTIAL:
        for lane in range(n_lanes):
            out[lane] = -p0 * math.log1p(-u[lane])
    else:  # DISCRETE: p0 = table offset (cumulative weights, then values), p1 = count
        off = int(p0)
        n = int(p1)
        for lane in range(n_lanes):
            k = 0
            while k < n - 1 and u[lane] >= tables[off + k]:
                k += 1
            out[lane] = tables[off + n + k]


@njit(**JIT)
def sample_many(code, par, tables, u):
    """``ppf(u)`` for a 1-D array of uniforms (tests and tools)."""
    out = np.empty(u.shape[0])
    buf_u = np.empty(1)
    buf_o = np.empty(1)
    for i in range(u.shape[0]):
        buf_u[0] = u[i]
        sample_row(code, par, tables, buf_u, buf_o, 1)
        out[i] = buf_o[0]
    return out

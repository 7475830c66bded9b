"""Counter-based Philox4x64-10 random numbers, bit-identical to ``numpy.random.Philox``.

Every draw is a pure function of (key, counter): the key comes from the user's
seed, the counter from (iteration, variable group, stream). The draw for
iteration ``i`` of variable ``v`` is therefore the same on any thread count,
chunking, process or machine. One Philox block gives four 64-bit words, i.e. the
uniforms of four consecutive variables of one stream.

``philox4x64(c0, c1, c2, c3, k0, k1)`` equals the first block that
``numpy.random.Philox(key=k0 + 2**64 * k1, counter=c - 1).random_raw(4)`` returns
(numpy increments its 256-bit counter before each block).
"""

import numpy as np
from numba import njit

from ..layout import (  # noqa: F401  (the streams are re-exported for tests and tools)
    STREAM_BRANCH, STREAM_COST_FIXED, STREAM_COST_RATE, STREAM_DRIVER, STREAM_DRIVER_FACTOR,
    STREAM_DURATION, STREAM_EXIST, STREAM_LAG, STREAM_PROJECT_COST, STREAM_RISK,
    STREAM_RISK_COST, STREAM_RISK_IMPACT,
)
from . import INLINE_JIT, JIT
from .vector import lane_f64

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_LO32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S12 = np.uint64(12)
_TWO_M52 = 2.0 ** -52




@njit(**JIT)
def _mulhilo(a, b):
    """High and low 64-bit words of the 128-bit product a * b (uint64)."""
    a_lo = a & _LO32
    a_hi = a >> _S32
    b_lo = b & _LO32
    b_hi = b >> _S32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> _S32) + (p1 & _LO32) + (p2 & _LO32)
    hi = p3 + (p1 >> _S32) + (p2 >> _S32) + (mid >> _S32)
    return hi, a * b


@njit(**JIT)
def philox4x64(c0, c1, c2, c3, k0, k1):
    """Philox4x64 with 10 rounds; all arguments and results are uint64."""
    for r in range(10):
        if r > 0:
            k0 = k0 + _W0
            k1 = k1 + _W1
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(**JIT)
def to_unit(x):
    """Map a uint64 to a float64 uniform strictly inside (0, 1): (top 52 bits + 1/2) / 2**52.

    52 rather than 53 bits: with 53, the largest value 1 - 2**-54 rounds to 1.0.
    """
    return (np.float64(x >> _S12) + 0.5) * _TWO_M52


_M0_LO = _M0 & _LO32
_M0_HI = _M0 >> _S32
_M1_LO = _M1 & _LO32
_M1_HI = _M1 >> _S32


@njit(**INLINE_JIT)
def _mulhilo32(m_lo, m_hi, b):
    """High and low words of the 128-bit product (m_hi * 2**32 + m_lo) * b from four
    32 x 32 -> 64-bit partial products (vpmuludq; LLVM has no vector 64 x 64 -> 128
    multiply). No sum overflows: (2**32 - 1)**2 + 2 * (2**32 - 1) = 2**64 - 1."""
    bl = b & _LO32
    bh = b >> _S32
    p0 = m_lo * bl
    t = m_lo * bh + (p0 >> _S32)
    u = m_hi * bl + (t & _LO32)
    return m_hi * bh + (t >> _S32) + (u >> _S32), (u << _S32) | (p0 & _LO32)


@njit(**INLINE_JIT)
def _round(x0, x1, x2, x3, k0, k1):
    """One Philox4x64 round (equal to :func:`philox4x64`'s; see :func:`_mulhilo32`)."""
    hi0, lo0 = _mulhilo32(_M0_LO, _M0_HI, x0)
    hi1, lo1 = _mulhilo32(_M1_LO, _M1_HI, x2)
    return hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0


@njit(**JIT)
def philox_uniforms(iteration0, group, stream, k0, k1, out, row0, stride, j0, count):
    """Uniforms of one Philox block for ``LANES`` consecutive iterations.

    Lane ``l`` is counter (iteration0 + l, group, stream, 0); its words ``j0 ..
    j0 + count - 1``, mapped by :func:`to_unit`, go to ``out[row0 + (j - j0) *
    stride, l]`` (float64[:, LANES]). The ten rounds are written out and the lane
    loop has a run-time trip count and writes only stack buffers, so LLVM keeps
    the state in vector registers (see :mod:`.stack`); equal to :func:`philox4x64`.
    """
    nl = out.shape[1]   # == LANES
    u0 = lane_f64()
    u1 = lane_f64()
    u2 = lane_f64()
    u3 = lane_f64()
    a0, a1 = k0, k1
    b0, b1 = a0 + _W0, a1 + _W1
    c0, c1 = b0 + _W0, b1 + _W1
    d0, d1 = c0 + _W0, c1 + _W1
    e0, e1 = d0 + _W0, d1 + _W1
    f0, f1 = e0 + _W0, e1 + _W1
    g0, g1 = f0 + _W0, f1 + _W1
    h0, h1 = g0 + _W0, g1 + _W1
    i0, i1 = h0 + _W0, h1 + _W1
    j0_, j1_ = i0 + _W0, i1 + _W1
    x1g = np.uint64(group)
    x2s = np.uint64(stream)
    for lane in range(nl):
        x0, x1, x2, x3 = np.uint64(iteration0 + lane), x1g, x2s, np.uint64(0)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, a0, a1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, b0, b1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, c0, c1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, d0, d1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, e0, e1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, f0, f1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, g0, g1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, h0, h1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, i0, i1)
        x0, x1, x2, x3 = _round(x0, x1, x2, x3, j0_, j1_)
        u0[lane] = to_unit(x0)
        u1[lane] = to_unit(x1)
        u2[lane] = to_unit(x2)
        u3[lane] = to_unit(x3)
    words = (u0, u1, u2, u3)
    for j in range(j0, j0 + count):
        src = words[j]
        row = row0 + (j - j0) * stride
        for lane in range(nl):
            out[row, lane] = src[lane]


@njit(**JIT)
def fill_uniforms(out, iteration0, stream, k0, k1):
    """Uniforms of variables ``0..out.shape[0]-1`` for ``LANES`` consecutive iterations.

    Parameters
    ----------
    out : float64[n_vars, LANES]
        Receives ``u[v, l]`` for iteration ``iteration0 + l`` and variable ``v``.
    iteration0 : int64
        Global index of the first iteration (lane 0).
    stream : int64
        Counter word 2 (see the STREAM_* constants).
    k0, k1 : uint64
        The key.
    """
    n_vars = out.shape[0]
    for g in range((n_vars + 3) // 4):
        philox_uniforms(iteration0, g, stream, k0, k1, out, 4 * g, np.int64(1), np.int64(0),
                        min(4, n_vars - 4 * g))


@njit(**JIT)
def uniforms(iterations, variable, stream, k0, k1):
    """Uniforms of one variable for the given iterations (int64 array); for tests and tools."""
    out = np.empty(iterations.shape[0])
    g = np.uint64(variable // 4)
    j = variable % 4
    s = np.uint64(stream)
    for i in range(iterations.shape[0]):
        x = philox4x64(np.uint64(iterations[i]), g, s, np.uint64(0), k0, k1)
        out[i] = to_unit(x[j])
    return out

"""The vector-row operations of pmosim.kernels._llvm.simd against numba's own scalar lane loops.

The passes rely on each operation giving the bits the scalar code gives (the kernels
must agree with tests/naive.py and with themselves across versions), so the
comparisons are of the float64 bit patterns, with ties, signed zeros, infinities
and NaNs among the inputs.
"""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError
from numpy.testing import assert_array_equal

from pmosim.kernels import LANES
from pmosim.kernels._llvm.simd import (
    FOLD, vadd, vceil, vdiv, vfirst, vfloor, vfold_add, vfold_max, vfold_min, vkeep, vload,
    vmax, vmin, vmul, vneg, vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub,
)

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.5, 1e-300, -7.0])


def _rows(seed, n=64):
    """Rows of random values with many ties and special values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, LANES)).round(1)
    mask = rng.random((n, LANES)) < 0.3
    x[mask] = rng.choice(SPECIAL, size=mask.sum())
    return x


def bits(x):
    return np.ascontiguousarray(x).view(np.int64)


@njit
def _vector_ops(a, b, out):
    for r in range(a.shape[0]):
        x = vload(a, r)
        y = vload(b, r)
        vstore(out, 8 * r, vadd(x, y))
        vstore(out, 8 * r + 1, vsub(x, y))
        vstore(out, 8 * r + 2, vmul(x, y))
        vstore(out, 8 * r + 3, vmax(x, y))
        vstore(out, 8 * r + 4, vmin(x, y))
        vstore(out, 8 * r + 5, vselect_le(x, y, vsplat(1.0), vsplat(0.0)))
        vstore(out, 8 * r + 6, vselect_gt(x, y, x, y))
        vstore(out, 8 * r + 7, vadd(vsplat(a[r, 0]), y))


@njit
def _scalar_ops(a, b, out):
    for r in range(a.shape[0]):
        for lane in range(LANES):
            x = a[r, lane]
            y = b[r, lane]
            out[8 * r, lane] = x + y
            out[8 * r + 1, lane] = x - y
            out[8 * r + 2, lane] = x * y
            out[8 * r + 3, lane] = max(x, y)
            out[8 * r + 4, lane] = min(x, y)
            out[8 * r + 5, lane] = 1.0 if x <= y else 0.0
            out[8 * r + 6, lane] = x if x > y else y
            out[8 * r + 7, lane] = a[r, 0] + y


def test_lane_operations_give_numbas_scalar_bits():
    a, b = _rows(1), _rows(2)
    b[::3] = a[::3]                       # exact ties
    got = np.empty((8 * a.shape[0], LANES))
    want = np.empty_like(got)
    _vector_ops(a, b, got)
    _scalar_ops(a, b, want)
    assert_array_equal(bits(got), bits(want))


def test_max_and_min_keep_the_accumulator_on_ties_and_nan():
    # numba's max(acc, x) is x if x > acc else acc: +0.0 vs -0.0 and NaN keep acc
    acc = np.zeros((1, LANES))
    acc[0, 1] = -0.0
    acc[0, 2] = np.nan
    x = np.full((1, LANES), -0.0)
    x[0, 1] = 0.0
    x[0, 3] = np.nan
    out = np.empty((8, LANES))
    _vector_ops(acc, x, out)
    assert bits(out[3:4])[0, 0] == bits(np.array([0.0]))[0]       # acc +0.0 kept
    assert bits(out[3:4])[0, 1] == bits(np.array([-0.0]))[0]      # acc -0.0 kept
    assert np.isnan(out[3, 2]) and out[3, 3] == 0.0               # NaN acc kept; NaN x not taken
    assert np.isnan(out[4, 2]) and out[4, 3] == 0.0


@njit
def _misc_vector(a, n, hb, folds):
    for r in range(a.shape[0]):
        v = vload(a, r)
        vstore(a, r, vkeep(v, n, vsplat(vfirst(v))))
        vstore_int(hb, r, vmin(vmax(vmul(v, vsplat(10.0)), vsplat(0.0)), vsplat(255.0)))
        vfold_add(folds, 3 * r, v)
        vfold_min(folds, 3 * r + 1, v)
        vfold_max(folds, 3 * r + 2, v)


@njit
def _misc_scalar(a, n, hb, folds):
    for r in range(a.shape[0]):
        for lane in range(LANES):
            hb[r, lane] = np.uint8(np.int64(min(max(a[r, lane] * 10.0, 0.0), 255.0)))
        for lane in range(FOLD):
            p, q, s, t = a[r, lane], a[r, lane + 4], a[r, lane + 8], a[r, lane + 12]
            folds[3 * r, lane] += (p + q) + (s + t)
            folds[3 * r + 1, lane] = min(folds[3 * r + 1, lane], min(min(p, q), min(s, t)))
            folds[3 * r + 2, lane] = max(folds[3 * r + 2, lane], max(max(p, q), max(s, t)))
        for lane in range(n, LANES):
            a[r, lane] = a[r, 0]


@pytest.mark.parametrize("n", [0, 1, 7, LANES - 1, LANES])
def test_keep_store_bytes_and_folds_give_the_scalar_bits(n):
    rng = np.random.default_rng(n)
    a = rng.normal(scale=10.0, size=(40, LANES)).round(2)
    a[::5, ::3] = rng.choice([0.0, -0.0, 1e9, -1e9], size=a[::5, ::3].shape)
    a2 = a.copy()
    hb, hb2 = np.zeros((40, LANES), np.uint8), np.zeros((40, LANES), np.uint8)
    folds = rng.normal(size=(120, FOLD))
    folds2 = folds.copy()
    _misc_vector(a, n, hb, folds)
    _misc_scalar(a2, n, hb2, folds2)
    assert_array_equal(bits(a), bits(a2))
    assert_array_equal(hb, hb2)
    assert_array_equal(bits(folds), bits(folds2))


@njit
def _more_vector(a, b, out, idx):
    for r in range(a.shape[0]):
        x = vload(a, r)
        vstore(out, 4 * r, vdiv(x, vload(b, r)))
        vstore(out, 4 * r + 1, vneg(x))
        vstore(out, 4 * r + 2, vfloor(x))
        vstore(out, 4 * r + 3, vceil(x))
    vstore_int(idx, 0, vmul(vsplat(3.0), vfloor(vmax(vload(a, 0), vsplat(0.0)))))


@njit
def _more_scalar(a, b, out, idx):
    for r in range(a.shape[0]):
        for lane in range(LANES):
            x = a[r, lane]
            out[4 * r, lane] = x / b[r, lane]
            out[4 * r + 1, lane] = -x
            out[4 * r + 2, lane] = np.floor(x)
            out[4 * r + 3, lane] = np.ceil(x)
    for lane in range(LANES):
        idx[lane] = np.uint64(3.0 * np.floor(max(a[0, lane], 0.0)))


def test_division_sign_rounding_and_unsigned_indices_give_the_scalar_bits():
    a = _rows(3) * 7.3
    b = _rows(4)
    b[b == 0.0] = 0.5          # no 0/0 (its NaN payload is the platform's business)
    a[0] = np.abs(a[0])
    a[0][~np.isfinite(a[0])] = 2.0
    got, want = np.empty((4 * a.shape[0], LANES)), np.empty((4 * a.shape[0], LANES))
    gi, wi = np.zeros(LANES, np.uint64), np.zeros(LANES, np.uint64)
    _more_vector(a, b, got, gi)
    _more_scalar(a, b, want, wi)
    assert_array_equal(bits(got), bits(want))
    assert_array_equal(gi, wi)


def test_operations_refuse_other_arrays():
    @njit
    def load_int(a):
        return vfirst(vload(a, 0))

    with pytest.raises(TypingError):
        load_int(np.zeros((2, LANES), dtype=np.int64))
    with pytest.raises(TypingError):
        load_int(np.zeros((LANES, 2))[:, 0:1].T)      # not C-contiguous

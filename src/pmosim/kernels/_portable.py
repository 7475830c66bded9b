"""The vector layer without custom LLVM: the operations of :mod:`._llvm` in plain numba/numpy.

:mod:`._llvm` emits LLVM vector values and intrinsics through numba's extension API,
which ties it to the numba and llvmlite internals it was written against and makes
its values exist only inside compiled code. This module gives the same operations,
to the same bits, written as ordinary ``@njit`` functions on numpy arrays. It is
selected by ``PMOSIM_KERNELS=portable`` (see :mod:`.vector`) and serves

* debugging: under ``NUMBA_DISABLE_JIT=1`` numba's decorators return the Python
  functions unchanged, the kernels run as Python and call these as Python (an
  ``@intrinsic`` cannot run without the compiler);
* machines, or numba/llvmlite versions, on which the custom LLVM layer does not
  compile or run;
* a cross-check in CI: the two layers must give bit-identical results
  (tests/test_portable.py).

A ``vec`` here is a new float64 array of ``LANES`` lanes; each operation returns a
new array and never a view of its arguments, as a native vector is a value. That
costs a heap allocation per operation: this layer is slower, never different.
Each operation is the lane-wise IEEE operation of its native twin, compares are
ordered (false on NaN), and the folds keep the native order of additions.
"""

import numpy as np
from numba import njit
from numba.extending import overload

from . import JIT, LANES

#: Lanes of a folded row (see :func:`vfold_add`).
FOLD = 4
assert LANES == 4 * FOLD

#: The sign bit of a float64, as an int64 (see :func:`vneg`).
_SIGN_BIT = np.int64(-0x8000000000000000)


def _row(arr, row):
    """Row ``row`` of a 2-D array, or the whole of a 1-D one (``row`` ignored), as a view.

    Parameters
    ----------
    arr : ndarray, 1-D or 2-D
    row : int

    Returns
    -------
    ndarray, 1-D
        A view: writing into it writes into ``arr``.
    """
    return arr[row] if arr.ndim == 2 else arr


@overload(_row)
def _row_impl(arr, row):
    # picked by the array's type when a kernel is compiled: the 1-D and 2-D bodies
    # return different types, so one jitted body with a run-time branch would not type
    if arr.ndim == 2:
        return lambda arr, row: arr[row]
    return lambda arr, row: arr


@njit(**JIT)
def vload(arr, row):
    """A copy of row ``row`` of ``arr`` (float64[:, LANES], or float64[LANES] with ``row``
    ignored).

    Parameters
    ----------
    arr : float64[:, LANES] or float64[LANES]
    row : int

    Returns
    -------
    float64[LANES]
        A new array: storing into ``arr`` later does not change it.
    """
    return _row(arr, row).copy()


@njit(**JIT)
def vstore(arr, row, v):
    """Write ``v`` into row ``row`` of ``arr`` (as :func:`vload`)."""
    dst = _row(arr, row)
    for lane in range(LANES):
        dst[lane] = v[lane]


@njit(**JIT)
def vstore_int(arr, row, v):
    """``arr[row, l] = dtype(np.int64(v[l]))`` into an integer array (``[:, LANES]``, or
    ``[LANES]`` with ``row`` ignored).

    Each lane is truncated toward zero to int64, then narrowed to the array's dtype
    by keeping its low bits, as the native ``fptosi`` and ``trunc``; the values must
    fit the dtype (unsigned: and be >= 0).
    """
    # an array assignment narrows as ``trunc`` does in both modes; numpy refuses to
    # narrow an out-of-range scalar
    _row(arr, row)[:] = v.astype(np.int64)


@njit(**JIT)
def vsplat(x):
    """Every lane ``float64(x)``."""
    return np.full(LANES, x, np.float64)


@njit(**JIT)
def vadd(a, b):
    """Lane-wise ``a + b``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = a[lane] + b[lane]
    return out


@njit(**JIT)
def vsub(a, b):
    """Lane-wise ``a - b``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = a[lane] - b[lane]
    return out


@njit(**JIT)
def vmul(a, b):
    """Lane-wise ``a * b``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = a[lane] * b[lane]
    return out


@njit(**JIT)
def vdiv(a, b):
    """Lane-wise ``a / b``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = a[lane] / b[lane]
    return out


@njit(**JIT)
def _max(acc, x):
    # numba's max(acc, x) and min(acc, x) as the native layer selects them; np.maximum
    # and np.minimum would differ on signed zeros and NaNs
    return x if x > acc else acc


@njit(**JIT)
def _min(acc, x):
    return x if x < acc else acc


@njit(**JIT)
def vmax(acc, x):
    """Lane-wise ``max(acc, x)`` as numba computes it: ``x if x > acc else acc``.

    On ties (+0.0 against -0.0) and NaNs ``acc`` is kept.
    """
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = _max(acc[lane], x[lane])
    return out


@njit(**JIT)
def vmin(acc, x):
    """Lane-wise ``min(acc, x)`` as numba computes it: ``x if x < acc else acc``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = _min(acc[lane], x[lane])
    return out


@njit(**JIT)
def vneg(a):
    """Lane-wise ``-a``: a sign flip, of zeros (-(0.0) is -0.0) and NaNs too."""
    # flipping the bit states the native ``fneg``; ``-a`` compiles to ``fsub -0.0, a``,
    # which leaves a NaN's sign alone unless LLVM's optimiser rewrites it to ``fneg``
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = bits_f64(f64_bits(a[lane]) ^ _SIGN_BIT)
    return out


@njit(**JIT)
def vfloor(a):
    """Lane-wise ``np.floor(a)``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = np.floor(a[lane])
    return out


@njit(**JIT)
def vceil(a):
    """Lane-wise ``np.ceil(a)``."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = np.ceil(a[lane])
    return out


@njit(**JIT)
def vselect_le(a, b, x, y):
    """Lane-wise ``x if a <= b else y`` (a NaN in ``a`` or ``b`` selects ``y``)."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = x[lane] if a[lane] <= b[lane] else y[lane]
    return out


@njit(**JIT)
def vselect_gt(a, b, x, y):
    """Lane-wise ``x if a > b else y`` (a NaN in ``a`` or ``b`` selects ``y``)."""
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = x[lane] if a[lane] > b[lane] else y[lane]
    return out


@njit(**JIT)
def vfirst(v):
    """Lane 0 of ``v``."""
    return v[0]


@njit(**JIT)
def vkeep(v, n, fill):
    """Lanes ``0 .. n - 1`` of ``v``, the rest from ``fill``.

    Parameters
    ----------
    v, fill : float64[LANES]
    n : int
        Lanes kept; <= 0 keeps none, >= LANES all.
    """
    out = np.empty(LANES)
    for lane in range(LANES):
        out[lane] = v[lane] if lane < n else fill[lane]
    return out


@njit(**JIT)
def vfold_add(arr, row, v):
    """``arr[row, l] += (v[l] + v[l + 4]) + (v[l + 8] + v[l + 12])``, l < 4.

    Parameters
    ----------
    arr : float64[:, FOLD]
    row : int
    v : float64[LANES]
    """
    for lane in range(FOLD):
        a, b = v[lane], v[lane + FOLD]
        c, d = v[lane + 2 * FOLD], v[lane + 3 * FOLD]
        arr[row, lane] = arr[row, lane] + ((a + b) + (c + d))


@njit(**JIT)
def vfold_min(arr, row, v):
    """``arr[row, l] = min(arr[row, l], min(min(v[l], v[l + 4]), min(v[l + 8], v[l + 12])))``
    (numba's min, as :func:`vmin`), l < 4; arguments as :func:`vfold_add`."""
    for lane in range(FOLD):
        a, b = v[lane], v[lane + FOLD]
        c, d = v[lane + 2 * FOLD], v[lane + 3 * FOLD]
        arr[row, lane] = _min(arr[row, lane], _min(_min(a, b), _min(c, d)))


@njit(**JIT)
def vfold_max(arr, row, v):
    """``arr[row, l] = max(...)`` as :func:`vfold_min`, with numba's max (:func:`vmax`)."""
    for lane in range(FOLD):
        a, b = v[lane], v[lane + FOLD]
        c, d = v[lane + 2 * FOLD], v[lane + 3 * FOLD]
        arr[row, lane] = _max(arr[row, lane], _max(_max(a, b), _max(c, d)))


@njit(**JIT)
def f64_bits(x):
    """The bits of a float64 as an int64."""
    return np.float64(x).view(np.int64)


@njit(**JIT)
def bits_f64(x):
    """The float64 whose bits are the int64 ``x``."""
    return np.int64(x).view(np.float64)


@njit(**JIT)
def prefetch(arr, idx):
    """Nothing: the native layer's cache hint has no portable spelling, and no effect on
    results."""


@njit(**JIT)
def lane_f64():
    """A new float64[LANES] scratch row (uninitialised)."""
    return np.empty(LANES, np.float64)


@njit(**JIT)
def lane_u64():
    """A new uint64[LANES] scratch row (uninitialised)."""
    return np.empty(LANES, np.uint64)

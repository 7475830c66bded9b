"""The vector layer: numba types and intrinsics that emit LLVM IR directly.

See README.md beside this file for what it relies on in numba and llvmlite.
"""

from .intrinsics import bits_f64, f64_bits, prefetch
from .simd import (
    FOLD, vadd, vceil, vdiv, vec, vfirst, vfloor, vfold_add, vfold_max, vfold_min, vkeep, vload,
    vmax, vmin, vmul, vneg, vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub,
)
from .stack import lane_f64, lane_u64

__all__ = [
    "FOLD", "lane_f64", "lane_u64", "bits_f64", "f64_bits", "prefetch", "vadd", "vceil",
    "vdiv", "vec", "vfirst", "vfloor", "vfold_add", "vfold_max", "vfold_min", "vkeep", "vload",
    "vmax", "vmin", "vmul", "vneg", "vselect_gt", "vselect_le", "vsplat", "vstore",
    "vstore_int", "vsub",
]

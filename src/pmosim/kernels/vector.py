"""The vector operations the kernels use, from the layer that the kernel mode selects.

``PMOSIM_KERNELS=native`` (the default) takes them from :mod:`._llvm`: LLVM vector
values and intrinsics emitted through numba's extension API. ``PMOSIM_KERNELS=portable``
(also chosen automatically under ``NUMBA_DISABLE_JIT=1``) takes them from
:mod:`._portable`: plain numba/numpy code with no custom LLVM, slower, the same
bits. Kernel modules import the operations from here, never from a layer directly.
"""

from . import KERNEL_MODE

if KERNEL_MODE == "portable":
    from ._portable import (  # noqa: F401
        FOLD, bits_f64, f64_bits, prefetch, vadd, vceil, vdiv, vfirst,
        vfloor, vfold_add, vfold_max, vfold_min, vkeep, vload, vmax, vmin, vmul, vneg,
        vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub, lane_f64, lane_u64,
    )
else:
    from ._llvm import (  # noqa: F401
        FOLD, bits_f64, f64_bits, prefetch, vadd, vceil, vdiv, vfirst,
        vfloor, vfold_add, vfold_max, vfold_min, vkeep, vload, vmax, vmin, vmul, vneg,
        vselect_gt, vselect_le, vsplat, vstore, vstore_int, vsub, lane_f64, lane_u64,
    )

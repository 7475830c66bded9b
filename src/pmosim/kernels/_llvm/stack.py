"""Stack-allocated scratch rows for the lane loops.

LLVM vectorises a loop over the ``LANES`` iterations only when it can prove that the
loop's stores do not overwrite what it loads. numba passes every array argument as a
plain pointer, so a loop that reads one argument array and writes another (``es``
from ``ef``, a sample from a quantile table) is compiled lane by lane. A buffer on
the function's stack provably aliases nothing, so loops that write into it
vectorise; it is then copied out by a loop that vectorises on its own. Measured on
the 1,000-task benchmark network (see the closing notes of issue 2).

:func:`lane_f64` and :func:`lane_u64` return a ``LANES``-long C-contiguous array whose
data is one ``alloca`` in the calling function's entry block (allocated once per
call of that function, however often the line runs), exactly what
``carray(alloca, LANES)`` gave before.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from ...layout import LANES


def _lane_buffer(dtype):
    aryty = types.Array(dtype, 1, "C")

    @intrinsic
    def lane_buffer(typingctx):
        def codegen(context, builder, signature, args):
            data = cgutils.alloca_once(builder, context.get_value_type(dtype), size=LANES)
            ary = context.make_array(aryty)(context, builder)
            intp = context.get_value_type(types.intp)
            itemsize = context.get_abi_sizeof(context.get_value_type(dtype))
            populate_array(ary, data=data, shape=[ir.Constant(intp, LANES)],
                           strides=[ir.Constant(intp, itemsize)],
                           itemsize=ir.Constant(intp, itemsize), meminfo=None)
            return ary._getvalue()
        return aryty(), codegen
    return lane_buffer


lane_f64 = _lane_buffer(types.float64)
lane_f64.__doc__ = "A float64[LANES] scratch row on the caller's stack (uninitialised)."
lane_u64 = _lane_buffer(types.uint64)
lane_u64.__doc__ = "A uint64[LANES] scratch row on the caller's stack (uninitialised)."

"""Stack-allocated scratch arrays for the lane loops.

LLVM vectorises a loop over the ``LANES`` iterations only when it can prove that the
loop's stores do not overwrite what it loads. numba passes every array argument as a
plain pointer, so a loop that reads one argument array and writes another (``es``
from ``ef``, a sample from a quantile table) is compiled lane by lane. A buffer on
the function's stack provably aliases nothing, so loops that write into it
vectorise; it is then copied out by a loop that vectorises on its own. Measured on
the 1,000-task benchmark network (see the closing notes of issue 2).
"""

from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic


def _alloca(dtype):
    @intrinsic
    def alloca(typingctx, size):
        if not isinstance(size, types.IntegerLiteral):
            raise TypingError("stack buffer size must be a compile-time integer constant")
        n = size.literal_value

        def codegen(context, builder, signature, args):
            return cgutils.alloca_once(builder, context.get_value_type(dtype), size=n)
        return types.CPointer(dtype)(size), codegen
    return alloca


_alloca_f64 = _alloca(types.float64)
_alloca_u64 = _alloca(types.uint64)

"""A row of ``LANES`` float64 lanes as one LLVM vector value (``<16 x double>``).

numba hands LLVM scalar code; LLVM vectorises a lane loop only when it can prove the
loop's stores do not overlap its loads, and then wraps it in trip-count checks and a
scalar remainder. In the forward pass, where a task has one or two links and each
link is a loop of its own, that overhead cost as much as the vector code saved
(measured in session 4: all loops over a run-time lane count, 0.84-1.13x). A
:data:`vec` value instead lives in registers from one operation to the next, with
no loop, no check and no stack round trip.

Every operation is the lane-wise IEEE operation numba itself would compile, so the
results are bit-identical to the scalar lane loops: ``vmax(acc, x)`` and
``vmin(acc, x)`` are ``max(acc, x)`` and ``min(acc, x)`` exactly as numba lowers
them (``x`` if ``x > acc``, resp. ``x < acc``, else ``acc``).

The values are typed but never boxed: they exist only inside compiled kernels.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.datamodel import models, register_default
from numba.extending import intrinsic

from ...layout import LANES

_VTY = ir.VectorType(ir.DoubleType(), LANES)


class Vec(types.Type):
    """``LANES`` float64 lanes in one vector register (or a few)."""

    def __init__(self):
        super().__init__(name=f"Vec{LANES}xf64")


vec = Vec()


@register_default(Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VTY)


def _is_rows(a):
    return (isinstance(a, types.Array) and a.dtype == types.float64 and a.layout == "C"
            and a.ndim in (1, 2))


def _row_pointer(context, builder, aryty, ary_val, row):
    """Pointer to the first lane of row ``row`` (2-D) or of the array (1-D), as a
    ``<LANES x double>*``; no bounds check, like the kernels' other indexing."""
    ary = context.make_array(aryty)(context, builder, ary_val)
    if aryty.ndim == 2:
        ncols = builder.extract_value(ary.shape, 1)
        ptr = builder.gep(ary.data, [builder.mul(row, ncols)])
    else:
        ptr = ary.data
    return builder.bitcast(ptr, _VTY.as_pointer())


@intrinsic
def vload(typingctx, arr, row):
    """Row ``row`` of a C-contiguous float64[:, LANES] array (``row`` is ignored for a
    1-D float64[LANES] array)."""
    if not _is_rows(arr) or not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        row_i = context.cast(builder, args[1], sig.args[1], types.intp)
        ptr = _row_pointer(context, builder, sig.args[0], args[0], row_i)
        return builder.load(ptr, align=8)
    return vec(arr, row), codegen


@intrinsic
def vstore(typingctx, arr, row, v):
    """Write ``v`` into row ``row`` of ``arr`` (as :func:`vload`)."""
    if not _is_rows(arr) or not isinstance(row, types.Integer) or v != vec:
        return None

    def codegen(context, builder, sig, args):
        row_i = context.cast(builder, args[1], sig.args[1], types.intp)
        ptr = _row_pointer(context, builder, sig.args[0], args[0], row_i)
        builder.store(args[2], ptr, align=8)
        return context.get_dummy_value()
    return types.none(arr, row, v), codegen


@intrinsic
def vsplat(typingctx, x):
    """Every lane ``x``."""
    if not isinstance(x, (types.Float, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        xf = context.cast(builder, args[0], sig.args[0], types.float64)
        one = builder.insert_element(ir.Constant(_VTY, ir.Undefined), xf,
                                     ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
        return builder.shuffle_vector(one, ir.Constant(_VTY, ir.Undefined), mask)
    return vec(x), codegen


def _binary(build):
    @intrinsic
    def op(typingctx, a, b):
        if a != vec or b != vec:
            return None

        def codegen(context, builder, sig, args):
            return build(builder, args[0], args[1])
        return vec(a, b), codegen
    return op


vadd = _binary(lambda b, x, y: b.fadd(x, y))
vadd.__doc__ = "Lane-wise ``a + b``."
vsub = _binary(lambda b, x, y: b.fsub(x, y))
vsub.__doc__ = "Lane-wise ``a - b``."
vmax = _binary(lambda b, acc, x: b.select(b.fcmp_ordered(">", x, acc), x, acc))
vmax.__doc__ = "Lane-wise ``max(a, b)`` as numba computes it: ``b if b > a else a``."
vmin = _binary(lambda b, acc, x: b.select(b.fcmp_ordered("<", x, acc), x, acc))
vmin.__doc__ = "Lane-wise ``min(a, b)`` as numba computes it: ``b if b < a else a``."
vmul = _binary(lambda b, x, y: b.fmul(x, y))
vmul.__doc__ = "Lane-wise ``a * b``."
vdiv = _binary(lambda b, x, y: b.fdiv(x, y))
vdiv.__doc__ = "Lane-wise ``a / b``."


def _unary(build):
    @intrinsic
    def op(typingctx, a):
        if a != vec:
            return None

        def codegen(context, builder, sig, args):
            return build(builder, args[0])
        return vec(a), codegen
    return op


def _llvm_unary(name):
    def build(builder, x):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VTY, [_VTY]),
                                            f"llvm.{name}.v{LANES}f64")
        return builder.call(fn, [x])
    return build


vneg = _unary(lambda b, x: b.fneg(x))
vneg.__doc__ = "Lane-wise ``-a`` (a sign flip: -(0.0) is -0.0)."
vfloor = _unary(_llvm_unary("floor"))
vfloor.__doc__ = "Lane-wise ``np.floor(a)``."
vceil = _unary(_llvm_unary("ceil"))
vceil.__doc__ = "Lane-wise ``np.ceil(a)``."


def _select(pred):
    @intrinsic
    def op(typingctx, a, b, x, y):
        if a != vec or b != vec or x != vec or y != vec:
            return None

        def codegen(context, builder, sig, args):
            return builder.select(builder.fcmp_ordered(pred, args[0], args[1]), args[2], args[3])
        return vec(a, b, x, y), codegen
    return op


vselect_le = _select("<=")
vselect_le.__doc__ = "Lane-wise ``x if a <= b else y``."
vselect_gt = _select(">")
vselect_gt.__doc__ = "Lane-wise ``x if a > b else y``."


@intrinsic
def vfirst(typingctx, v):
    """Lane 0 of ``v``."""
    if v != vec:
        return None

    def codegen(context, builder, sig, args):
        return builder.extract_element(args[0], ir.Constant(ir.IntType(32), 0))
    return types.float64(v), codegen


@intrinsic
def vkeep(typingctx, v, n, fill):
    """Lanes ``0 .. n - 1`` of ``v``, the rest from ``fill``."""
    if v != vec or fill != vec or not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        i64 = ir.IntType(64)
        nv = builder.insert_element(ir.Constant(ir.VectorType(i64, LANES), ir.Undefined),
                                    context.cast(builder, args[1], sig.args[1], types.int64),
                                    ir.Constant(ir.IntType(32), 0))
        nv = builder.shuffle_vector(nv, ir.Constant(ir.VectorType(i64, LANES), ir.Undefined),
                                    ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES))
        idx = ir.Constant(ir.VectorType(i64, LANES), list(range(LANES)))
        return builder.select(builder.icmp_signed("<", idx, nv), args[0], args[2])
    return vec(v, n, fill), codegen


@intrinsic
def vstore_int(typingctx, arr, row, v):
    """``arr[row, l] = dtype(np.int64(v[l]))`` into a C-contiguous integer array
    (``[:, LANES]``, or ``[LANES]`` with ``row`` ignored); the values must fit the
    dtype (unsigned: and be >= 0). An unsigned index array lets numba index without
    the negative-index check."""
    if (not isinstance(arr, types.Array) or not isinstance(arr.dtype, types.Integer)
            or arr.ndim not in (1, 2) or arr.layout != "C" or not isinstance(row, types.Integer)
            or v != vec):
        return None

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        if aryty.ndim == 2:
            row_i = context.cast(builder, args[1], sig.args[1], types.intp)
            ncols = builder.extract_value(ary.shape, 1)
            ptr = builder.gep(ary.data, [builder.mul(row_i, ncols)])
        else:
            ptr = ary.data
        ity = ir.VectorType(ir.IntType(aryty.dtype.bitwidth), LANES)
        x = builder.fptosi(args[2], ir.VectorType(ir.IntType(64), LANES))
        if aryty.dtype.bitwidth < 64:
            x = builder.trunc(x, ity)
        builder.store(x, builder.bitcast(ptr, ity.as_pointer()), align=aryty.dtype.bitwidth // 8)
        return context.get_dummy_value()
    return types.none(arr, row, v), codegen


#: Lanes of a folded row (see :func:`vfold_add`).
FOLD = 4
assert LANES == 4 * FOLD


def _fold(combine, doc):
    """``arr[row, :FOLD] = combine(arr[row], combine(combine(a, b), combine(c, d)))`` where
    a, b, c, d are lanes 0-3, 4-7, 8-11, 12-15 of ``v`` (float64[:, FOLD], C)."""
    @intrinsic
    def op(typingctx, arr, row, v):
        if (not _is_rows(arr) or arr.ndim != 2 or not isinstance(row, types.Integer)
                or v != vec):
            return None

        def codegen(context, builder, sig, args):
            ary = context.make_array(sig.args[0])(context, builder, args[0])
            row_i = context.cast(builder, args[1], sig.args[1], types.intp)
            ncols = builder.extract_value(ary.shape, 1)
            f4 = ir.VectorType(ir.DoubleType(), FOLD)
            ptr = builder.bitcast(builder.gep(ary.data, [builder.mul(row_i, ncols)]),
                                  f4.as_pointer())
            parts = [builder.shuffle_vector(args[2], args[2], ir.Constant(
                ir.VectorType(ir.IntType(32), FOLD), list(range(j * FOLD, (j + 1) * FOLD))))
                for j in range(LANES // FOLD)]
            folded = combine(builder, combine(builder, parts[0], parts[1]),
                             combine(builder, parts[2], parts[3]))
            builder.store(combine(builder, builder.load(ptr, align=8), folded), ptr, align=8)
            return context.get_dummy_value()
        return types.none(arr, row, v), codegen
    op.__doc__ = doc
    return op


vfold_add = _fold(lambda b, x, y: b.fadd(x, y),
                  "``arr[row, l] += (v[l] + v[l + 4]) + (v[l + 8] + v[l + 12])``, l < 4.")
vfold_min = _fold(lambda b, acc, x: b.select(b.fcmp_ordered("<", x, acc), x, acc),
                  "``arr[row, l] = min(arr[row, l], min(min(v[l], v[l + 4]), "
                  "min(v[l + 8], v[l + 12])))`` (numba's min), l < 4.")
vfold_max = _fold(lambda b, acc, x: b.select(b.fcmp_ordered(">", x, acc), x, acc),
                  "``arr[row, l] = max(...)`` as :func:`vfold_min`.")

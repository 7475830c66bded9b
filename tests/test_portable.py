"""The portable vector layer (pmosim.kernels._portable) against the native one (._llvm).

``PMOSIM_KERNELS=portable`` and ``NUMBA_DISABLE_JIT=1`` must give the bits of the
default native mode. Each operation of the two layers is run on the same inputs, with
ties, signed zeros, infinities and NaNs among them (the portable one compiled and as
Python), and the float64 bit patterns are compared; then whole simulations run in
each mode in subprocesses, and their results are compared byte for byte.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_array_equal

from pmosim.kernels import KERNEL_MODE, LANES, _llvm, _portable

pytestmark = pytest.mark.skipif(numba.config.DISABLE_JIT,
                                reason="the native layer runs only in compiled code")

REPO = Path(__file__).resolve().parents[1]

#: The names :mod:`pmosim.kernels.vector` takes from a layer.
NAMES = ("FOLD", "bits_f64", "f64_bits", "prefetch", "vadd", "vceil", "vdiv", "vfirst", "vfloor",
         "vfold_add", "vfold_max", "vfold_min", "vkeep", "vload", "vmax", "vmin", "vmul", "vneg",
         "vselect_gt", "vselect_le", "vsplat", "vstore", "vstore_int", "vsub", "lane_f64",
         "lane_u64")

# one NaN: which of two NaN operands an addition passes on is the compiler's choice
# (LLVM may commute it); vneg's flip of a NaN's sign is compared with this one
FINITE = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, -0.5, 1e-300, 5e-324, -7.0])
SPECIAL = np.concatenate([FINITE, [np.inf, -np.inf, np.nan, 1e300, -1e300]])


def _rows(seed, n=64, special=SPECIAL):
    """Rows of random values with many ties and special values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, LANES)).round(1)
    mask = rng.random((n, LANES)) < 0.3
    x[mask] = rng.choice(special, size=mask.sum())
    return x


def bits(x):
    return np.ascontiguousarray(x).view(np.int64)


def _kernels(layer, jit):
    """Test kernels that call the operations of ``layer`` (a namespace of :data:`NAMES`),
    compiled when ``jit``, else plain Python. Native vectors exist only in compiled
    code, so every kernel moves them in and out with vload and vstore."""
    FOLD = layer.FOLD
    (bits_f64, f64_bits, prefetch, vadd, vceil, vdiv, vfirst, vfloor, vfold_add, vfold_max,
     vfold_min, vkeep, vload, vmax, vmin, vmul, vneg, vselect_gt, vselect_le, vsplat, vstore,
     vstore_int, vsub, lane_f64, lane_u64) = (getattr(layer, name) for name in NAMES[1:])

    def lanes(a, b, c, one_d, out, first):
        for r in range(a.shape[0]):
            x = vload(a, r)
            y = vload(b, r)
            z = vload(c, r)
            k = 16 * r
            vstore(out, k, vadd(x, y))
            vstore(out, k + 1, vsub(x, y))
            vstore(out, k + 2, vmul(x, y))
            vstore(out, k + 3, vdiv(x, y))
            vstore(out, k + 4, vmax(x, y))
            vstore(out, k + 5, vmin(x, y))
            vstore(out, k + 6, vneg(x))
            vstore(out, k + 7, vfloor(x))
            vstore(out, k + 8, vceil(x))
            vstore(out, k + 9, vselect_le(x, y, y, z))
            vstore(out, k + 10, vselect_gt(x, y, z, x))
            vstore(out, k + 11, vsplat(a[r, r % LANES]))
            vstore(out, k + 12, vsplat(r - 20))
            # n from -1 to LANES + 1: none, some and all lanes kept
            vstore(out, k + 13, vkeep(x, r % (LANES + 3) - 1, z))
            vstore(out, k + 14, vmax(vmin(x, z), vmul(y, vsplat(0.5))))
            first[r] = vfirst(x)
            # a 1-D row: its ``row`` argument is ignored
            vstore(out, k + 15, vadd(vload(one_d, r), x))
            # (not from y: a default NaN from inf - inf here, added to x's NaN, would
            # come out with either sign, as the compiler orders the operands)
            vstore(one_d, r + 1, vmul(vload(one_d, 0), vsplat(-0.5)))

    def store_int(a, u8, u64, i64, i32, u1):
        for r in range(a.shape[0]):
            x = vload(a, r)
            vstore_int(u8, r, vmin(vmax(x, vsplat(0.0)), vsplat(255.0)))
            vstore_int(u64, r, vmul(x, x))
            vstore_int(i64, r, x)
            vstore_int(i32, r, vmul(x, vsplat(1e7)))     # past int32: narrowed to the low bits
            vstore_int(u1, r, vadd(x, vsplat(300.0)))     # 1-D, ``row`` ignored

    def folds(a, sums):
        for r in range(a.shape[0]):
            x = vload(a, r)
            k = 3 * (r % 8)             # each sum row takes several vectors in turn
            vfold_add(sums, k, x)
            vfold_min(sums, k + 1, x)
            vfold_max(sums, k + 2, x)

    def bit_casts(x, as_bits, n, as_float):
        for i in range(x.shape[0]):
            as_bits[i] = f64_bits(x[i])
            as_float[i] = bits_f64(n[i])

    def scratch(table, out, uout):
        f = lane_f64()
        u = lane_u64()
        for lane in range(LANES):
            prefetch(table, lane * 1000)    # far past the end: a hint, never a read
            f[lane] = table[lane] * 0.5
            u[lane] = np.uint64(0xFFFFFFFFFFFFFFF0) + np.uint64(lane)
        vstore(out, 0, vadd(vload(f, 0), vsplat(FOLD)))
        for lane in range(LANES):
            uout[lane] = u[lane]

    fns = dict(lanes=lanes, store_int=store_int, folds=folds, bit_casts=bit_casts,
               scratch=scratch)
    return SimpleNamespace(**{k: njit(f) if jit else f for k, f in fns.items()})


def _python_layer():
    """The portable operations as the Python functions that NUMBA_DISABLE_JIT runs."""
    ops = {name: getattr(_portable, name) for name in NAMES}
    return SimpleNamespace(**{name: getattr(op, "py_func", op) for name, op in ops.items()})


#: native, portable compiled, portable as Python
LAYERS = {"native": (_llvm, True), "portable": (_portable, True),
          "python": (_python_layer(), False)}


@pytest.fixture(scope="module")
def kernels():
    return {mode: _kernels(layer, jit) for mode, (layer, jit) in LAYERS.items()}


def _each(kernels, name, *arrays):
    """Run kernel ``name`` of each layer on its own copies of ``arrays``; the copies after."""
    got = {}
    for mode, k in kernels.items():
        copies = [a.copy() for a in arrays]
        with np.errstate(all="ignore"):     # the Python layer warns of inf and NaN
            getattr(k, name)(*copies)
        got[mode] = copies
    return got


def _assert_same_bits(got):
    want = got.pop("native")
    for mode, arrays in got.items():
        for i, (g, w) in enumerate(zip(arrays, want)):
            if g.dtype.kind == "f":
                g, w = bits(g), bits(w)
            assert_array_equal(g, w, err_msg=f"{mode}, argument {i}")


def test_the_layers_export_the_same_names():
    import pmosim.kernels.vector as vector

    layer = _portable if KERNEL_MODE == "portable" else _llvm
    for name in NAMES:
        assert hasattr(_llvm, name) and hasattr(_portable, name), name
        assert getattr(vector, name) is getattr(layer, name), name
    assert _portable.FOLD == _llvm.FOLD


def test_lane_operations_give_the_native_bits(kernels):
    a, b, c = _rows(1), _rows(2), _rows(3)
    b[::3] = a[::3]                        # exact ties
    b[1::5] = -a[1::5]                     # +0.0 against -0.0, inf against -inf
    b[np.isnan(b)] = np.nan                # one NaN (see SPECIAL)
    one_d = _rows(4, n=1)[0].copy()
    got = _each(kernels, "lanes", a, b, c, one_d, np.zeros((16 * a.shape[0], LANES)),
                np.zeros(a.shape[0]))
    _assert_same_bits(got)


def test_vneg_flips_nan_signs_and_max_min_keep_the_accumulator():
    # the checks above compare layers; this pins down what they agree on
    neg = np.array([np.nan, -np.nan, 0.0, -0.0]).repeat(4)
    out = _portable.vneg(neg)
    assert_array_equal(bits(out), bits(neg) ^ np.int64(-2**63))
    acc, x = np.full(LANES, 0.0), np.full(LANES, -0.0)
    assert_array_equal(bits(_portable.vmax(acc, x)), bits(acc))
    assert_array_equal(bits(_portable.vmin(x, acc)), bits(x))
    nan = np.full(LANES, np.nan)
    assert_array_equal(_portable.vmax(acc, nan), acc)
    assert_array_equal(_portable.vselect_le(nan, acc, x, acc), acc)


def test_integer_stores_give_the_native_values(kernels):
    # fptosi of values past int64 (and of inf, NaN) is undefined: x * x stays within it
    a = _rows(5, special=FINITE) * 97.3
    n = a.shape[0]
    got = _each(kernels, "store_int", a, np.zeros((n, LANES), np.uint8),
                np.zeros((n, LANES), np.uint64), np.zeros((n, LANES), np.int64),
                np.zeros((n, LANES), np.int32), np.zeros(LANES, np.uint64))
    _assert_same_bits(got)


def test_folds_give_the_native_bits(kernels):
    a = _rows(6) * 1e3
    a[::4] = _rows(7)[::4] * 1e-3          # sums whose order of addition shows
    sums = _rows(8, n=24)[:, :_portable.FOLD].copy()
    got = _each(kernels, "folds", a, sums)
    _assert_same_bits(got)


def test_bit_casts_and_scratch_rows_give_the_native_bits(kernels):
    x = np.concatenate([SPECIAL, _rows(9).ravel()])
    n = np.random.default_rng(10).integers(-2**63, 2**63 - 1, size=x.shape[0], dtype=np.int64)
    got = _each(kernels, "bit_casts", x, np.zeros(x.shape[0], np.int64), n, np.zeros(x.shape[0]))
    _assert_same_bits(got)
    got = _each(kernels, "scratch", np.arange(LANES, dtype=np.float64), np.zeros((1, LANES)),
                np.zeros(LANES, np.uint64))
    _assert_same_bits(got)


# The simulations are started once, together, and compared by digest: the portable
# mode compiles every kernel afresh (it keeps no cache), so it dominates this file's time.
_DIGESTS = """
import hashlib, json, sys
import numpy as np
import pmosim
import pmosim.kernels.vector as vector
from pmosim.kernels import KERNEL_MODE
from pmosim.synthetic import layered_network

def levelled(n_tasks, n_iter):
    p = layered_network(n_tasks, seed=1)
    p.add_resource("crew", capacity=2, changes=[(5.0, 1.0), (9.0, 3.0)])
    p.add_resource("crane", capacity=1)
    for k, t in enumerate(p.tasks):
        p.graph.nodes[t]["resources"] = {"crew": 1 + k % 2} if k % 3 else {"crane": 1}
    p.levelling = "serial"
    return p, n_iter

CASES = {
    "office-move-risks": lambda: (pmosim.load("scenarios/office-move-risks.toml"), 1000),
    "levelled-12": lambda: levelled(12, 600),
    "layered-40": lambda: (layered_network(40, seed=0), 1000),
    "layered-8": lambda: (layered_network(8, seed=0), 64),
}

def sha(data):
    return hashlib.sha256(data).hexdigest()

out = {}
for name in sys.argv[1:]:
    model, n = CASES[name]()
    r = pmosim.simulate(model, n, seed=7)
    out[name] = {
        "finish": sha(np.ascontiguousarray(r.finish.samples).tobytes()),
        "result": sha(json.dumps(r.to_dict(), sort_keys=True, default=str).encode()),
        "cost": None if r.cost is None else sha(np.ascontiguousarray(r.cost.samples).tobytes()),
    }
print(json.dumps({"mode": KERNEL_MODE, "layer": vector.vadd.__module__, "digests": out}))
"""

#: mode: (environment variables set, cases)
RUNS = {
    "native": ({}, ["office-move-risks", "layered-40", "layered-8", "levelled-12"]),
    "portable": ({"PMOSIM_KERNELS": "portable"}, ["office-move-risks", "layered-40",
                                                  "levelled-12"]),
    "python": ({"NUMBA_DISABLE_JIT": "1"}, ["layered-8", "levelled-12"]),
}


@pytest.fixture(scope="module", autouse=True)
def runs():
    """The three simulation subprocesses, started before this module's first test so that
    they run while the operations are compared; ``runs(mode)`` waits for one's digests."""
    procs = {}
    for mode, (extra, cases) in RUNS.items():
        env = {k: v for k, v in os.environ.items()
               if k not in ("PMOSIM_KERNELS", "NUMBA_DISABLE_JIT")}
        env.update(extra)
        procs[mode] = subprocess.Popen([sys.executable, "-c", _DIGESTS, *cases], cwd=REPO,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)

    results = {}

    def result(mode):
        if mode not in results:
            stdout, stderr = procs[mode].communicate(timeout=600)
            assert procs[mode].returncode == 0, f"{mode} run failed:\n{stderr[-4000:]}"
            results[mode] = json.loads(stdout.splitlines()[-1])
        return results[mode]

    yield result
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("mode", ["portable", "python"])
def test_simulations_give_the_native_bits(runs, mode):
    native = runs("native")
    got = runs(mode)
    assert got["mode"] == "portable"
    assert got["layer"] == "pmosim.kernels._portable"
    assert native["mode"] == "native"
    assert native["layer"].startswith("pmosim.kernels._llvm")
    assert native["digests"]["office-move-risks"]["cost"] is not None     # costs compared too
    for case in RUNS[mode][1]:
        assert got["digests"][case] == native["digests"][case], case

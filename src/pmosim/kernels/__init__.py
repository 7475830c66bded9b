"""numba-compiled kernels: arrays and scalars in, arrays out; no Python objects, no checks.

One module per stage (see docs/architecture.md): ``rng`` (Philox), ``sampling``
(inverse-CDF rows), ``draws`` (everything drawn per iteration), ``passes`` (CPM on
the working-day axis), ``passes_cal`` (the wall-clock mode), ``costs``,
``accumulate`` (streaming statistics), ``work`` (one thread's scratch arrays) and
``driver`` (a span of iterations, the one entry point of a backend). ``_llvm`` is
the vector layer. The structs and codes they read are in :mod:`pmosim.layout`.

``import pmosim`` does not import this package (the engine imports it on first use),
so it stays fast; the submodules compile (or load from the cache) on first call.

All numba options live here (STYLE: one place). ``cache=True`` keeps compiled code on
disk, so later processes start fast (see :mod:`._cache` for where, and how a
change of the kernel sources is noticed); fastmath is off because the kernels must
agree with the naive reference to the last bits that matter and give the same bits
on every machine.
"""

import os

from ..layout import CASH_PERIODS, CRITICAL_RTOL, HIST_COLUMNS, LANES, N_MOMENT_ROWS, SUPER

#: ``native`` (default): the vector layer emits LLVM vector code (:mod:`._llvm`);
#: ``portable``: no custom LLVM (:mod:`._portable`), slower, bit-identical results.
#: ``NUMBA_DISABLE_JIT=1`` (kernels run as Python, for debugging) implies portable.
KERNEL_MODES = ("native", "portable")
KERNEL_MODE = os.environ.get("PMOSIM_KERNELS", "native").strip().lower() or "native"
if os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0"):
    KERNEL_MODE = "portable"
if KERNEL_MODE not in KERNEL_MODES:
    raise ValueError(f"PMOSIM_KERNELS must be one of {', '.join(KERNEL_MODES)}, "
                     f"got {KERNEL_MODE!r}")

#: The portable mode does not share numba's on-disk cache with the native one (the
#: cache is keyed by each function's own source file, not by what it imports).
JIT = dict(cache=KERNEL_MODE == "native", nogil=True, error_model="numpy")
if KERNEL_MODE == "native":
    # before any kernel is called: drop cached kernels compiled from other sources
    from ._cache import guard

    guard()

#: For per-task helpers that take the model or work-array tuples: a call would copy
#: those structs (dozens of arrays) every time, which cost ~10 ns per task-iteration.
#: But numba's IR inlining binds every *array* argument to a new variable, with an
#: atomic incref and decref each, at every call: a helper taking 15 arrays cost
#: ~4 ns per task-iteration in refcounts alone (measured on the task-cost pass, now
#: written out in place). Inline helpers should take the tuples or few arrays.
INLINE_JIT = dict(JIT, inline="always")

__all__ = ["CASH_PERIODS", "CRITICAL_RTOL", "HIST_COLUMNS", "INLINE_JIT", "JIT", "KERNEL_MODE",
           "LANES", "N_MOMENT_ROWS", "SUPER"]

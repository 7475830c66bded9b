"""numba-compiled kernels: arrays and scalars in, arrays out; no Python objects, no checks.

This package module itself imports no numba, so that ``import pmosim`` stays fast;
the submodules compile (or load from the cache) on first use.

All numba options live here (STYLE: one place). ``cache=True`` keeps compiled code on
disk, so ``import pmosim`` never compiles and later processes start fast; fastmath
is off because the kernels must agree with the naive reference to the last bits
that matter and give the same bits on every machine.

Developers: numba's cache does not notice when a function *called* by a cached
kernel changes in another module. After editing anything in this package, delete
the stale cache (``find src -name '*.nb[ic]' -delete``); installed releases are not
affected, since installing rewrites every source file.
"""

#: A task is critical in an iteration when its total float is <= this times max(1, finish).
CRITICAL_RTOL = 1e-9
#: Rows of the integer moment accumulator (see schedule.accumulate_task).
N_MOMENT_ROWS = 8

#: Columns of a task's finish histogram: its bins plus under- and overflow. At most
#: 256, so that a column fits the uint8 buffer that defers the counting (see
#: schedule.flush_lane_sums).
HIST_COLUMNS = 256

#: Points of the cash-flow time grid (after t = 0).
CASH_PERIODS = 100

JIT = dict(cache=True, nogil=True, error_model="numpy")
PARALLEL_JIT = dict(JIT, parallel=True)
#: For per-task helpers that take the model or work-array tuples: a call would copy
#: those structs (dozens of arrays) every time, which cost ~10 ns per task-iteration.
#: But numba's IR inlining binds every *array* argument to a new variable, with an
#: atomic incref and decref each, at every call: a helper taking 15 arrays cost
#: ~4 ns per task-iteration in refcounts alone (measured on the task-cost pass, now
#: written out in place). Inline helpers should take the tuples or few arrays.
INLINE_JIT = dict(JIT, inline="always")

#: Iterations scheduled side by side by one thread (the inner, vectorised loops).
#: 16 is the smallest count for which LLVM vectorises the Philox and sampling loops
#: instead of unrolling them (measured: Philox 9 ns per lane at 16, 51 ns at 8); the
#: passes hold a row of LANES lanes as one vector value (see .simd, which assumes 16).
LANES = 16
#: Iterations whose durations are sampled together, task by task, before they are
#: scheduled LANES at a time: each inverse-CDF table is then read for SUPER draws
#: in a row while it is in cache, instead of 16 between all the other tables.
#: Measured (1,000 tasks, in-process A/B against 256): 512 is 1.09x (one thread) and
#: 1.10x (two threads) faster; 1,024 was no better on one thread.
SUPER = 512

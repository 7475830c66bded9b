"""A vectorised numpy Monte Carlo CPM: the comparator of the engine benchmarks.

It computes what :func:`pmosim.simulate` computes for the benchmark, with the
best plain numpy can do: all iterations of a block at once, one row of ``block``
iterations per task, a Python loop over tasks in topological order issuing
in-place ufunc calls (``out=``) on preallocated rows, so no temporary array is
made inside the loops. Per iteration:

- durations sampled by inversion (``ppf``) from numpy uniforms, each distribution
  family as one vectorised call over all its tasks (PERT from a tabulated Beta
  inverse CDF, cubic Hermite between 2,049 knots as in the kernels; normals
  truncated at zero);
- forward pass: FS ``start(v) >= finish(u) + lag``, SS ``start(v) >= start(u) + lag``,
  FF ``finish(v) >= finish(u) + lag``, SF ``finish(v) >= start(u) + lag``, no start
  before 0; project finish = max finish;
- backward pass: late finish = min(project finish, successor constraints), late
  start = late finish - duration; total float = late start - early start;
- critical when total float <= 1e-9 * max(1, project finish); per-task counts.

It keeps the project finish of every iteration and the critical counts, and
(unlike the engine) no other per-task statistics, so it does a little less work
than the engine. Uniforms come from numpy's ``PCG64``, one stream per block
(``SeedSequence.spawn``), so results do not depend on ``threads``. With
``threads > 1`` blocks run on a thread pool; numpy releases the GIL inside ufunc
loops, so that is a real if partial speed-up.

:func:`schedule` runs the same passes on given durations, which is how the
comparator is checked against ``pmosim.simulate(keep_samples=True)``.

Examples
--------
>>> from pmosim.synthetic import layered_network
>>> plan = compile_plan(layered_network(50, seed=1))
>>> res = simulate(plan, 1000, seed=2)
>>> res.finish.shape, bool(res.finish.min() > 0)
((1000,), True)
>>> len(res.criticality), 0 < max(res.criticality.values()) <= 1
(50, True)
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import special

from pmosim import distributions as dist
from pmosim.model import as_project, link_lag, link_type, task_duration

#: Most iterations per block: large enough that numpy's per-call overhead (about a
#: microsecond) is small next to the work of one call; chosen by measurement.
MAX_BLOCK = 4096
#: Budget for the five (n_tasks, block) float64 arrays of one thread's workspace.
WORKSPACE_BYTES = 256 * 2 ** 20

#: Cells of the tabulated Beta inverse CDF used for PERT (as in the kernels).
BETA_CELLS = 2048


@dataclass(frozen=True)
class Plan:
    """A project flattened for the numpy passes.

    Attributes
    ----------
    task_ids : list
        Task ids in graph node order (the order of every per-task output).
    row_of : ndarray of int64, shape (n_tasks,)
        Storage row of each task; rows are grouped by distribution family.
    groups : tuple
        ``(family, row0, row1, params)`` per sampling family (:data:`FAMILIES`);
        ``params`` is a dict of parameter columns.
    forward, backward : tuple
        Per task in (reverse) topological order: ``(row, terms...)`` as described
        in :func:`_forward_program` and :func:`_backward_program`.
    """

    task_ids: list
    row_of: np.ndarray
    groups: tuple
    forward: tuple
    backward: tuple

    @property
    def n_tasks(self) -> int:
        return len(self.task_ids)


@dataclass(frozen=True)
class ComparatorResult:
    """Project finish per iteration, critical counts, and optionally all samples."""

    iterations: int
    task_ids: list
    finish: np.ndarray
    critical_counts: np.ndarray
    durations: np.ndarray | None = None
    starts: np.ndarray | None = None
    finishes: np.ndarray | None = None

    @property
    def criticality(self) -> dict:
        frac = self.critical_counts / self.iterations
        return dict(zip(self.task_ids, frac.tolist()))


def compile_plan(model) -> Plan:
    """Flatten a :class:`pmosim.Project` (or ``DiGraph``) into a :class:`Plan`.

    Lags must be numbers; the comparator samples task durations only.
    """
    project = as_project(model).validate()
    graph = project.graph
    task_ids = list(graph.nodes)
    index = {t: i for i, t in enumerate(task_ids)}
    families = [_family(task_duration(t, graph.nodes[t])) for t in task_ids]

    codes = np.array([FAMILIES.index(kind) for kind, _ in families])
    order = np.argsort(codes, kind="stable")
    row_of = np.empty(len(task_ids), dtype=np.int64)
    row_of[order] = np.arange(len(task_ids))
    groups = []
    for code in np.unique(codes):
        members = order[codes[order] == code]
        rows = row_of[members]
        kind = FAMILIES[code]
        groups.append((kind, int(rows[0]), int(rows[-1]) + 1,
                       _group_params(kind, [families[i][1] for i in members])))

    def link(u, v):
        data = graph.edges[u, v]
        lag = link_lag(u, v, data)
        if not isinstance(lag, dist.Fixed):
            raise ValueError(f"comparator: link {u!r} -> {v!r} has a random lag {lag}; "
                             "only fixed lags are supported")
        return link_type(u, v, data), lag.value

    topo = list(nx.topological_sort(graph))
    forward = tuple(
        (int(row_of[index[v]]), tuple((int(row_of[index[u]]),) + link(u, v)
                                      for u in graph.predecessors(v)))
        for v in topo)
    backward = tuple(
        (int(row_of[index[u]]), tuple((int(row_of[index[v]]),) + link(u, v)
                                      for v in graph.successors(u)))
        for u in reversed(topo))
    return Plan(task_ids, row_of, tuple(groups), forward, backward)


#: Sampling families, in the order their rows are stored.
FAMILIES = ("fixed", "uniform", "triangular", "beta", "normal", "lognormal", "exponential",
            "discrete")


def _family(d):
    """``(family, params)`` of a duration distribution, from its public attributes."""
    if isinstance(d, dist.Fixed):
        return "fixed", (d.value,)
    if isinstance(d, (dist.Triangular, dist.Trigen)):
        low, high = d.support
        return ("fixed", (low,)) if high == low else ("triangular", (low, d.mode, high))
    if isinstance(d, dist.Uniform):
        return ("fixed", (d.low,)) if d.high == d.low else ("uniform", (d.low, d.high - d.low))
    if isinstance(d, dist.Pert):
        if d.high == d.low:
            return "fixed", (d.low,)
        return "beta", (d.low, d.high - d.low, d.alpha, d.beta)
    if isinstance(d, dist.Normal):
        if d.sd == 0:
            return "fixed", (max(d.mean, 0.0),)
        return "normal", (d.mean, d.sd, float(special.ndtr(-d.mean / d.sd)))
    if isinstance(d, dist.LogNormal):
        return ("fixed", (d.mean,)) if d.sd == 0 else ("lognormal", (d.mu, d.sigma))
    if isinstance(d, dist.Exponential):
        return "exponential", (d.mean,)
    if isinstance(d, dist.Discrete):
        return "discrete", (np.cumsum(d.weights), np.asarray(d.values))
    raise ValueError(f"comparator: no sampler for {d}")


def _group_params(kind, params):
    """Parameter columns (shape (n, 1)) of one family."""
    if kind == "discrete":
        return {"tables": params}
    p = np.array(params, dtype=float)
    col = {k: p[:, i:i + 1].copy() for i, k in enumerate("abcd"[:p.shape[1]])}
    if kind == "triangular":
        a, c, b = col["a"], col["b"], col["c"]
        col.update(fc=(c - a) / (b - a), k_left=(b - a) * (c - a), k_right=(b - a) * (b - c))
    elif kind == "beta":
        col.update(_beta_tables(p[:, 2], p[:, 3]))
    return col


def _beta_tables(alpha, beta, cells=BETA_CELLS):
    """Per-cell cubic coefficients of Beta inverse CDFs, one block of cells per task.

    Knots ``x_k = ppf(k / cells)`` and slopes ``dx/du`` make a cubic Hermite
    interpolant per cell; its four polynomial coefficients are stored side by side
    (``coef[task * cells + k] = (c0, c1, c2, c3)``), so one draw reads one 32-byte
    record. The first and last cells use the power-law tails ``F(x) ~ x**alpha``.
    """
    pairs, inverse = np.unique(np.column_stack([alpha, beta]), axis=0, return_inverse=True)
    a, b = pairs[:, :1], pairs[:, 1:]
    u = np.arange(cells + 1) / cells
    x = special.betaincinv(a, b, u)
    x[:, 0], x[:, -1] = 0.0, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        logpdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)
    slope = np.exp(-logpdf) / cells
    slope[:, 0] = slope[:, -1] = 0.0
    d = x[:, 1:] - x[:, :-1]
    s0, s1 = slope[:, :-1], slope[:, 1:]
    coef = np.stack([x[:, :-1], s0, 3.0 * d - 2.0 * s0 - s1, s0 + s1 - 2.0 * d], axis=-1)
    inverse = inverse.ravel()
    return {"cells": cells, "coef": coef[inverse].reshape(-1, 4),
            "row_offset": (np.arange(len(inverse)) * cells)[:, None],
            "inv_a": 1.0 / a[inverse], "inv_b": 1.0 / b[inverse],
            "x_first": x[inverse, 1:2], "x_last": x[inverse, -2:-1]}


def _sample_group(kind, u, prm):
    """Turn the uniforms ``u`` (shape (n, block), one row per task) into durations in place."""
    if kind == "uniform":
        u *= prm["b"]
        u += prm["a"]
    elif kind == "triangular":
        left = u < prm["fc"]
        v = np.where(left, u * prm["k_left"], (1.0 - u) * prm["k_right"])
        np.sqrt(v, out=v)
        np.copyto(u, np.where(left, prm["a"] + v, prm["c"] - v))
    elif kind == "beta":
        _beta_table(u, prm)
    elif kind == "normal":
        u *= 1.0 - prm["c"]
        u += prm["c"]
        special.ndtri(u, out=u)
        u *= prm["b"]
        u += prm["a"]
        np.maximum(u, 0.0, out=u)
    elif kind == "lognormal":
        special.ndtri(u, out=u)
        u *= prm["b"]
        u += prm["a"]
        np.exp(u, out=u)
    elif kind == "exponential":
        np.negative(u, out=u)
        np.log1p(u, out=u)
        u *= -prm["a"]
    elif kind == "discrete":
        for row, (cum, values) in zip(u, prm["tables"]):
            idx = np.searchsorted(cum, row, side="right")
            row[:] = values[np.minimum(idx, len(values) - 1)]
    else:
        raise AssertionError(f"unknown family {kind}")


def _beta_table(u, prm):
    """Tabulated Beta inverse CDF scaled to [low, low + width] (see :func:`_beta_tables`)."""
    cells = prm["cells"]
    t = u * cells
    k = t.astype(np.int64)
    np.minimum(k, cells - 1, out=k)
    f = t - k
    ends = np.nonzero((k == 0) | (k == cells - 1))
    k += prm["row_offset"]
    c = prm["coef"][k]
    h = c[..., 3] * f
    h += c[..., 2]
    h *= f
    h += c[..., 1]
    h *= f
    h += c[..., 0]
    if len(ends[0]):
        te, rows = t[ends], ends[0]
        head = prm["x_first"][rows, 0] * np.power(te, prm["inv_a"][rows, 0])
        tail = 1.0 - (1.0 - prm["x_last"][rows, 0]) * np.power(
            np.maximum(cells - te, 0.0), prm["inv_b"][rows, 0])
        h[ends] = np.where(te < 1.0, head, tail)
    np.clip(h, 0.0, 1.0, out=h)
    np.multiply(h, prm["b"], out=u)
    u += prm["a"]


class _Workspace:
    """Preallocated rows for one block and the ufunc programs bound to them."""

    def __init__(self, plan: Plan, block: int):
        n = plan.n_tasks
        self.block = block
        self.dur = np.zeros((n, block))
        self.start = np.zeros((n, block))
        self.fin = np.zeros((n, block))
        self.late_fin = np.zeros((n, block))
        self.late_start = np.zeros((n, block))
        self.project = np.zeros(block)
        self.tol = np.zeros(block)
        self.tmp = np.zeros(block)
        self.tmp2 = np.zeros(block)
        for kind, r0, r1, prm in plan.groups:
            if kind == "fixed":
                self.dur[r0:r1] = prm["a"]
        self.forward = _forward_program(plan, self)
        self.backward = _backward_program(plan, self)


def _reduce_into(ufunc, out, terms, tmp, ops):
    """Append calls setting ``out`` to ``ufunc``-reduce(src + shift for (src, shift) in terms).

    ``ufunc`` is ``np.maximum`` or ``np.minimum``; terms without a shift go first
    and need no temporary.
    """
    terms = sorted(terms, key=lambda term: term[1] != 0.0)
    (src, shift), rest = terms[0], terms[1:]
    if shift == 0.0 and rest and rest[0][1] == 0.0:
        ops.append((ufunc, src, rest[0][0], out))
        rest = rest[1:]
    else:
        ops.append((np.add, src, shift, out))
    for src, shift in rest:
        if shift != 0.0:
            ops.append((np.add, src, shift, tmp))
            src = tmp
        ops.append((ufunc, out, src, out))


def _forward_program(plan, ws):
    """Ufunc calls of the forward pass, in topological order.

    start = max(0, FS: finish(u) + lag, SS: start(u) + lag,
    max(FF: finish(u) + lag, SF: start(u) + lag) - duration); finish = start + duration.
    Candidates with lag >= 0 are >= 0, so the clamp at 0 is only issued when no such
    start candidate exists. Tasks without predecessors keep start 0.
    """
    ops = []
    for row, preds in plan.forward:
        s, d, f = ws.start[row], ws.dur[row], ws.fin[row]
        on_start = [((ws.fin if t == "FS" else ws.start)[p], lag)
                    for p, t, lag in preds if t in ("FS", "SS")]
        on_finish = [((ws.fin if t == "FF" else ws.start)[p], lag)
                     for p, t, lag in preds if t in ("FF", "SF")]
        if on_start:
            _reduce_into(np.maximum, s, on_start, ws.tmp, ops)
        if on_finish:
            _reduce_into(np.maximum, ws.tmp2, on_finish, ws.tmp, ops)
            if on_start:
                ops.append((np.subtract, ws.tmp2, d, ws.tmp2))
                ops.append((np.maximum, s, ws.tmp2, s))
            else:
                ops.append((np.subtract, ws.tmp2, d, s))
        if preds and not any(lag >= 0.0 for _, lag in on_start):
            ops.append((np.maximum, s, 0.0, s))
        ops.append((np.add, s, d, f))
    return ops


def _backward_program(plan, ws):
    """Ufunc calls of the backward pass, in reverse topological order.

    late finish = min(project finish, FS: late start(v) - lag, FF: late finish(v) - lag,
    min(SS: late start(v) - lag, SF: late finish(v) - lag) + duration);
    late start = late finish - duration. The project-finish bound is implied, and
    not issued, when an FS or FF successor has lag >= 0.
    """
    ops = []
    for row, succs in plan.backward:
        lf, d, ls = ws.late_fin[row], ws.dur[row], ws.late_start[row]
        direct = [((ws.late_start if t == "FS" else ws.late_fin)[v], -lag)
                  for v, t, lag in succs if t in ("FS", "FF")]
        shifted = [((ws.late_start if t == "SS" else ws.late_fin)[v], -lag)
                   for v, t, lag in succs if t in ("SS", "SF")]
        if not any(shift <= 0.0 for _, shift in direct):
            direct.append((ws.project, 0.0))
        _reduce_into(np.minimum, lf, direct, ws.tmp, ops)
        if shifted:
            _reduce_into(np.minimum, ws.tmp2, shifted, ws.tmp, ops)
            ops.append((np.add, ws.tmp2, d, ws.tmp2))
            ops.append((np.minimum, lf, ws.tmp2, lf))
        ops.append((np.subtract, lf, d, ls))
    return ops


def _run_block(plan, ws, n, rng, given, counts):
    """Schedule one block of ``n`` iterations in ``ws``; return the project finishes.

    ``given`` is None (sample with ``rng``) or durations of shape (n, n_tasks) in
    task order. Adds the block's critical counts (storage rows) to ``counts``.
    """
    if given is None:
        for kind, r0, r1, prm in plan.groups:
            if kind != "fixed":
                u = ws.dur[r0:r1]
                rng.random(out=u)
                _sample_group(kind, u, prm)
    else:
        ws.dur[plan.row_of, :n] = given.T
    for func, x, y, out in ws.forward:
        func(x, y, out=out)
    np.maximum.reduce(ws.fin, axis=0, out=ws.project)
    for func, x, y, out in ws.backward:
        func(x, y, out=out)
    np.maximum(ws.project, 1.0, out=ws.tol)
    ws.tol *= 1e-9
    total_float = np.subtract(ws.late_start, ws.start, out=ws.late_fin)  # late finish is spent
    critical = total_float[:, :n] <= ws.tol[:n]
    counts += np.count_nonzero(critical, axis=1)
    return ws.project[:n].copy()


def default_block(n_tasks: int) -> int:
    """:data:`MAX_BLOCK`, or the largest power of two whose workspace fits the budget."""
    fit = WORKSPACE_BYTES // (5 * 8 * max(n_tasks, 1))
    return int(min(MAX_BLOCK, 2 ** max(6, int(math.log2(max(fit, 1))))))


def _run(plan, n_iter, *, seed, block, threads, durations, keep_samples):
    n_iter = int(n_iter)
    if n_iter < 1:
        raise ValueError(f"iterations must be >= 1, got {n_iter}")
    block = default_block(plan.n_tasks) if block is None else int(block)
    n_blocks = math.ceil(n_iter / block)
    block = math.ceil(n_iter / n_blocks)
    threads = max(1, min(int(threads or os.cpu_count() or 1), n_blocks))
    streams = np.random.SeedSequence(seed).spawn(n_blocks)
    finish = np.empty(n_iter)
    block_counts = np.zeros((n_blocks, plan.n_tasks), dtype=np.int64)
    keep = ({k: np.empty((n_iter, plan.n_tasks)) for k in ("dur", "start", "fin")}
            if keep_samples else None)
    spaces = [_Workspace(plan, block) for _ in range(threads)]

    def work(b, ws):
        lo, hi = b * block, min((b + 1) * block, n_iter)
        given = None if durations is None else durations[lo:hi]
        finish[lo:hi] = _run_block(plan, ws, hi - lo, np.random.default_rng(streams[b]),
                                   given, block_counts[b])
        if keep is not None:
            for name, out in keep.items():
                out[lo:hi] = getattr(ws, name)[plan.row_of, :hi - lo].T

    if threads == 1:
        for b in range(n_blocks):
            work(b, spaces[0])
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda t: [work(b, spaces[t]) for b in range(t, n_blocks, threads)],
                          range(threads)))
    counts = block_counts.sum(axis=0)[plan.row_of]
    samples = {} if keep is None else {
        "durations": keep["dur"], "starts": keep["start"], "finishes": keep["fin"]}
    return ComparatorResult(n_iter, plan.task_ids, finish, counts, **samples)


def simulate(model, iterations: int, *, seed=0, block: int | None = None, threads: int = 1,
             keep_samples: bool = False) -> ComparatorResult:
    """Sample durations and run the forward and backward passes for every iteration.

    Parameters
    ----------
    model : Plan, pmosim.Project or networkx.DiGraph
    iterations : int
    seed : int or numpy.random.SeedSequence entropy
        Results depend on it, not on ``threads``.
    block : int, optional
        Iterations per block (default :func:`default_block`), rounded so that all
        blocks have near-equal sizes.
    threads : int
        Blocks run on this many threads (numpy releases the GIL inside ufuncs).
    keep_samples : bool
        Also return durations, starts and finishes, shape (iterations, n_tasks).
    """
    plan = model if isinstance(model, Plan) else compile_plan(model)
    return _run(plan, iterations, seed=seed, block=block, threads=threads, durations=None,
                keep_samples=keep_samples)


def schedule(model, durations, *, block: int | None = None) -> ComparatorResult:
    """Run the passes on given ``durations`` (shape (n_iter, n_tasks), task order)."""
    plan = model if isinstance(model, Plan) else compile_plan(model)
    durations = np.ascontiguousarray(durations, dtype=float)
    if durations.ndim != 2 or durations.shape[1] != plan.n_tasks:
        raise ValueError(f"durations must have shape (n_iter, {plan.n_tasks}), got {durations.shape}")
    return _run(plan, len(durations), seed=0, block=block, threads=1, durations=durations,
                keep_samples=True)

"""``simulate()`` and ``cpm()``: validate, compile, run the kernels in chunks, merge.

Reproducibility: every random draw is keyed by (seed, iteration, variable), and
every per-task accumulator is an integer (counts, histogram bins, fixed-point
sums), so the merged totals are the same whatever the thread count, chunk size or
order in which chunks finish. The project finish of each iteration is kept
(8 bytes x iterations); per-task x per-iteration arrays only with ``keep_samples``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from . import stats
from .compile import CompiledModel, compile_project, has_calendars
from .errors import SimulationError
from .kernels import CASH_PERIODS, CRITICAL_RTOL, HIST_COLUMNS, N_MOMENT_ROWS
from .model import Project, as_project
from .results import (
    CashFlow, CorrelationStats, CPMResult, RankedRisk, RiskRanking, RiskStats, SampleStats,
    SimulationResult, TaskStats,
)

#: Bins of the per-task finish histograms (plus one open-ended bin at each end).
HISTOGRAM_BINS = HIST_COLUMNS - 2    # the kernel adds the under- and overflow columns
#: Iterations of the pilot that sets each task's histogram range (the first ones of the run).
PILOT_ITERATIONS = 2048
#: Default iterations per chunk handed to a thread.
DEFAULT_CHUNK = 1024
#: Iterations whose correlated durations are kept to measure achieved rank correlations.
CORRELATION_SAMPLE = 10_000
#: Refuse ``keep_samples`` beyond this many bytes of per-task samples.
KEEP_SAMPLES_LIMIT = 4 * 2 ** 30


def _check_int(name, value, minimum, maximum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise SimulationError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise SimulationError(f"{name} must be {bound}, got {value}")
    return value


def resolve_seed(seed) -> tuple[int, np.uint64, np.uint64]:
    """The seed actually used and the Philox key derived from it.

    ``None`` draws a fresh 128-bit seed from OS entropy. The key is
    ``numpy.random.SeedSequence(seed).generate_state(2, uint64)``, so seeds that
    differ in any bit give unrelated streams.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    seed = _check_int("seed", seed, 0)
    k0, k1 = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return seed, np.uint64(k0), np.uint64(k1)


def _schedule_kernels():
    """The numba kernels, imported on first use so that ``import pmosim`` stays fast."""
    from .kernels import schedule
    return schedule


def _resolve_chunk(chunk_size) -> int:
    """Iterations per chunk, rounded up to a multiple of SUPER: super-blocks then always
    hold the same iterations, which the per-super-block moment sums rely on."""
    from .kernels import SUPER
    chunk = DEFAULT_CHUNK if chunk_size is None else _check_int("chunk_size", chunk_size, 1)
    return -(-chunk // SUPER) * SUPER


def _resolve_threads(threads):
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return limit
    return _check_int("threads", threads, 1, limit)


def _deterministic(compiled: CompiledModel):
    """Early start, early finish, late finish and project finish on planned values (in
    working days of the axis calendar in the wall-clock mode)."""
    kernels = _schedule_kernels()
    k = compiled.kernel
    if k.cal_on:
        out = kernels.deterministic_pass_cal(k, compiled.calendars, compiled.planned,
                                             compiled.planned_lags)
        return out[5], out[6], out[8], out[10]
    return kernels.deterministic_pass(k, compiled.planned, compiled.planned_lags)


def cpm(model) -> CPMResult:
    """Deterministic critical path method on planned durations (and planned lags).

    A task is critical when its total float is ``<= 1e-9 * max(1, finish)``.

    A project with working calendars (an MS Project or P6 import) is scheduled on
    the wall clock, each task and lag on its own calendar, as the scheduling tool
    does. Its times are then working days of the axis calendar
    (``meta["axis_calendar"]``) from the data date, durations and total float are
    working days of each task's own calendar, and the exact moments are in
    ``early_start_date`` .. ``late_finish_date``. (:func:`simulate` uses the
    wall-clock mode when :func:`pmosim.compile.uses_calendars` says the working-day
    axis cannot hold the project; on the others both modes give the same times,
    except that only the wall clock tells a finish at the end of one working
    period from one at the start of the next.)

    Examples
    --------
    >>> import networkx as nx, pmosim
    >>> g = nx.DiGraph()
    >>> g.add_node("a", duration=3); g.add_node("b", duration=2); g.add_node("c", duration=4)
    >>> g.add_edge("a", "c"); g.add_edge("b", "c", type="SS", lag=2)
    >>> r = pmosim.cpm(g)
    >>> r.finish, r.critical_path
    (7.0, ['a', 'c'])
    """
    project = as_project(model)
    compiled = compile_project(project, wallclock=has_calendars(project))
    node = np.empty_like(compiled.topo)
    node[compiled.topo] = np.arange(compiled.n_tasks)
    k = compiled.kernel
    if k.cal_on:
        return _cpm_wallclock(project, compiled, node)
    es, ef, lf, pf = _deterministic(compiled)
    dur = np.where(np.isnan(k.fixed_start), compiled.planned, k.fixed_dur)[node]
    es, ef, lf = es[node], ef[node], lf[node]
    ls = lf - dur
    tf = ls - es
    return CPMResult(
        task_ids=compiled.task_ids, names=compiled.names, finish=float(pf), duration=dur,
        early_start=es, early_finish=ef, late_start=ls, late_finish=lf, total_float=tf,
        critical=tf <= CRITICAL_RTOL * max(1.0, pf),
    )


def _cpm_wallclock(project, compiled, node) -> CPMResult:
    """:func:`cpm` of a project with working calendars (the wall-clock kernel)."""
    import datetime as dt

    (es_h, ef_h, ls_h, lf_h, tf, es, ef, ls, lf, _, pf, dur) = \
        _schedule_kernels().deterministic_pass_cal(
            compiled.kernel, compiled.calendars, compiled.planned, compiled.planned_lags)
    origin = project.meta["data_date"]

    def dates(hours):
        return [origin + dt.timedelta(seconds=round(float(h) * 3600)) for h in hours[node]]

    tf = tf[node]
    return CPMResult(
        task_ids=compiled.task_ids, names=compiled.names, finish=float(pf), duration=dur[node],
        early_start=es[node], early_finish=ef[node], late_start=ls[node], late_finish=lf[node],
        total_float=tf, critical=tf <= CRITICAL_RTOL * max(1.0, pf),
        early_start_date=dates(es_h), early_finish_date=dates(ef_h),
        late_start_date=dates(ls_h), late_finish_date=dates(lf_h),
        calendar=project.meta["axis_calendar"],
    )


class _Accumulators:
    """Per-slot kernel buffers and their exact running totals."""

    def __init__(self, n_slots, n_tasks, n_bins, n_rstat):
        self.n_slots, self.n_tasks, self.n_bins, self.n_rstat = n_slots, n_tasks, n_bins, n_rstat
        self.rstat = np.zeros((3, n_rstat), dtype=np.int64)
        self.cash_hist = self.cash_min = self.cash_max = None
        self.crit = np.zeros(n_tasks, dtype=np.int64)
        self.mom = np.zeros((N_MOMENT_ROWS, n_tasks), dtype=np.int64)
        self.hist = np.zeros((n_tasks, n_bins + 2), dtype=np.int64)
        self.tmin = np.full(n_tasks, np.inf)
        self.tmax = np.full(n_tasks, -np.inf)

    def slot_buffers(self):
        s, n = self.n_slots, self.n_tasks
        return (np.zeros((s, n), dtype=np.int64), np.zeros((s, N_MOMENT_ROWS, n), dtype=np.int64),
                np.zeros((s, n, self.n_bins + 2), dtype=np.int64),
                np.full((s, n), np.inf), np.full((s, n), -np.inf))

    def add_cash(self, cash_hist, cash_min, cash_max):
        if self.cash_hist is None:
            self.cash_hist = np.zeros(cash_hist.shape[1:], dtype=np.int64)
            self.cash_min = np.full(cash_hist.shape[1], np.inf)
            self.cash_max = np.full(cash_hist.shape[1], -np.inf)
        self.cash_hist += cash_hist.sum(axis=0)
        np.minimum(self.cash_min, cash_min.min(axis=0), out=self.cash_min)
        np.maximum(self.cash_max, cash_max.max(axis=0), out=self.cash_max)

    def add(self, crit, mom, hist, tmin, tmax, rstat):
        self.rstat += rstat.sum(axis=0)
        stats.normalise_fixed_point(self.rstat[1], self.rstat[2])
        self.crit += crit.sum(axis=0)
        self.mom += mom.sum(axis=0)
        for row in range(0, N_MOMENT_ROWS, 2):
            stats.normalise_fixed_point(self.mom[row], self.mom[row + 1])
        self.hist += hist.sum(axis=0)
        np.minimum(self.tmin, tmin.min(axis=0), out=self.tmin)
        np.maximum(self.tmax, tmax.max(axis=0), out=self.tmax)


def _run(kernel, calendars, key, it_start, n_iter, chunk, n_slots, acc, finish_out, cost_out,
         keep_out, corr_out):
    crit, mom, hist, tmin, tmax = acc.slot_buffers()
    rstat = np.zeros((n_slots, 3, acc.n_rstat), dtype=np.int64)
    periods = CASH_PERIODS + 1 if kernel.cost_on else 0
    cash_hist = np.zeros((n_slots, periods, acc.n_bins + 2), dtype=np.int64)
    cash_min = np.full((n_slots, periods), np.inf)
    cash_max = np.full((n_slots, periods), -np.inf)
    if keep_out is None:
        empty = np.zeros((0, 0))
        keep, dur_out, es_out, ef_out = False, empty, empty, empty
    else:
        keep, (dur_out, es_out, ef_out) = True, keep_out
    _schedule_kernels().simulate_chunks(
        kernel, calendars, key[0], key[1], it_start, n_iter, chunk, n_slots, finish_out, cost_out,
        crit, mom, hist, tmin, tmax, rstat, cash_hist, cash_min, cash_max,
        keep, dur_out, es_out, ef_out, corr_out)
    acc.add(crit, mom, hist, tmin, tmax, rstat)
    if periods:
        acc.add_cash(cash_hist, cash_min, cash_max)


def _histogram_range(tmin, tmax):
    width = tmax - tmin
    pad = np.where(width > 0, 0.1 * width, np.maximum(np.abs(tmin), 1.0) * 1e-9)
    lo = tmin - pad
    hi = tmax + pad
    return lo, HISTOGRAM_BINS / (hi - lo)


def _moment_scale(tmin, tmax, shift):
    """Powers of two that bring each task's deviations from ``shift`` to about 1."""
    spread = np.maximum(np.maximum(tmax - shift, shift - tmin), tmax - tmin)
    with np.errstate(divide="ignore"):
        exponent = np.where(spread > 0, -np.ceil(np.log2(np.where(spread > 0, spread, 1.0))), 0.0)
    return np.ldexp(1.0, exponent.astype(np.int64))


def simulate(model, iterations: int = 10_000, *, seed=None, threads=None,
             keep_samples: bool = False, chunk_size: int | None = None,
             progress=None, risks: str = "pre") -> SimulationResult:
    """Monte Carlo simulation of a task network.

    Parameters
    ----------
    model : pmosim.Project or networkx.DiGraph
        The task network (see :mod:`pmosim.model`).
    iterations : int
        Number of iterations (>= 1).
    seed : int, optional
        Any non-negative integer; ``None`` draws one from OS entropy. The seed
        used is stored in the result and reproduces the run bit for bit, on any
        thread count and chunk size.
    threads : int, optional
        Worker threads (default: all of numba's threads, i.e. the CPU count).
    keep_samples : bool
        Also keep per-iteration durations, starts and finishes of every task
        (``iterations * n_tasks * 24`` bytes: for small runs, tests and scripts).
    chunk_size : int, optional
        Iterations per unit of work handed to a thread (default 1024, rounded up to
        a multiple of 512, the super-block); it changes speed only, never results.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block of iterations.
    risks : {"pre", "post", "none"}
        Which risk register to use: before mitigation (default), after it, or no
        risk events at all (drivers stay). Every choice uses the same random
        numbers, so the difference between runs is the effect of mitigation alone.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project("demo")
    >>> p.add_task("a", pmosim.Triangular(2, 3, 7))
    >>> p.add_task("b", pmosim.Pert(1, 2, 6))
    >>> p.add_link("a", "b")
    >>> r = pmosim.simulate(p, 20_000, seed=1)
    >>> round(r.finish.mean, 1), r.criticality["a"]
    (6.5, 1.0)
    """
    job = _prepare(model, iterations, seed, threads, chunk_size, risks)
    n, n_iter = job.compiled.n_tasks, job.n_iter
    if keep_samples and 3 * 8 * n * n_iter > KEEP_SAMPLES_LIMIT:
        raise SimulationError(
            f"keep_samples=True for {n} tasks x {n_iter} iterations needs "
            f"{3 * 8 * n * n_iter / 2**30:.1f} GiB; use fewer iterations or keep_samples=False")
    run = job.execute(job.compiled.kernel, keep_samples, progress)
    return _result(job.project, job.compiled, job.det, run, n_iter, job.seed, risks)


@dataclass(frozen=True)
class _Job:
    """A validated, compiled run: what simulate() and rank_risks() share."""

    project: Project
    compiled: CompiledModel
    det: tuple
    n_iter: int
    seed: int
    key: tuple
    n_slots: int
    chunk: int

    def execute(self, kernel, keep_samples=False, progress=None):
        return _execute(self.compiled, kernel, self.det, self.n_iter, self.key, self.n_slots,
                        self.chunk, keep_samples, progress)


def _prepare(model, iterations, seed, threads, chunk_size, risks) -> _Job:
    project = as_project(model)
    n_iter = _check_int("iterations", iterations, 1)
    n_slots = _resolve_threads(threads)
    chunk = _resolve_chunk(chunk_size)
    seed_used, k0, k1 = resolve_seed(seed)
    compiled = compile_project(project, risks=risks)
    return _Job(project, compiled, _deterministic(compiled), n_iter, seed_used, (k0, k1),
                n_slots, chunk)


class _Run:
    """Raw totals of one execution of the kernels."""

    def __init__(self, acc, finish, cost, keep, corr, kernel):
        self.acc, self.finish, self.cost = acc, finish, cost
        self.keep, self.corr, self.kernel = keep, corr, kernel


def _execute(compiled, kernel, det, n_iter, key, n_slots, chunk, keep_samples, progress):
    es0, ef0, _, _ = det
    n = compiled.n_tasks
    n_rstat = kernel.risk_p.shape[0] + kernel.drv_p.shape[0]
    kernel = kernel._replace(start_shift=es0, finish_shift=ef0)
    corr = np.zeros((min(n_iter, CORRELATION_SAMPLE), kernel.corr_pos.shape[0]))
    no_corr = np.zeros((0, kernel.corr_pos.shape[0]))
    import numba
    previous_threads = numba.get_num_threads()
    numba.set_num_threads(n_slots)
    try:
        pilot = _Accumulators(n_slots, n, 1, n_rstat)
        n_pilot = min(n_iter, PILOT_ITERATIONS)
        pilot_finish, pilot_cost = np.empty(n_pilot), np.zeros(n_pilot)
        _run(kernel, compiled.calendars, key, 0, n_pilot, chunk, n_slots, pilot, pilot_finish,
             pilot_cost, None, no_corr)
        lo, scale = _histogram_range(pilot.tmin, pilot.tmax)
        mom_scale = _moment_scale(pilot.tmin, pilot.tmax, ef0)
        kernel = kernel._replace(hist_lo=lo, hist_scale=scale, mom_scale=mom_scale,
                                 **_cash_grid(pilot_finish, pilot_cost))

        acc = _Accumulators(n_slots, n, HISTOGRAM_BINS, n_rstat)
        finish = np.empty(n_iter)
        cost = np.zeros(n_iter)
        keep = [np.empty((n_iter, n)) for _ in range(3)] if keep_samples else None
        # a multiple of the chunk, so every lane block stays aligned (see _resolve_chunk)
        block = n_iter if progress is None else chunk * max(n_slots, math.ceil(n_iter / 100 / chunk))
        for b0 in range(0, n_iter, block):
            b1 = min(b0 + block, n_iter)
            keep_out = None if keep is None else [k[b0:b1] for k in keep]
            _run(kernel, compiled.calendars, key, b0, b1 - b0, chunk, n_slots, acc,
                 finish[b0:b1], cost[b0:b1], keep_out, corr)
            if progress is not None:
                progress(b1, n_iter)
    finally:
        numba.set_num_threads(previous_threads)
    return _Run(acc, finish, cost if kernel.cost_on else None, keep, corr, kernel)


def _cash_grid(pilot_finish, pilot_cost) -> dict:
    """Cash-flow time grid and spend histogram range from the pilot iterations."""
    horizon = 1.25 * float(np.max(pilot_finish)) if pilot_finish.size else 1.0
    top = 1.25 * float(np.max(pilot_cost)) if pilot_cost.size else 1.0
    horizon = horizon if horizon > 0 else 1.0
    top = top if top > 0 else 1.0
    return {"cash_dt": horizon / CASH_PERIODS, "cash_lo": 0.0,
            "cash_scale": HISTOGRAM_BINS / top}


def _on_plan(kernel, es0, ef0) -> np.ndarray:
    """Which tasks (bool[n], by position) are in the plan that the planned cost prices.

    The plan is the deterministic schedule of what is expected to happen, so that
    contingency (a percentile's cost minus the planned cost) prices only what may
    or may not happen:

    - a probabilistic task (existence < 1) is not in it: like a risk event, its
      expected cost is contingency;
    - of each branch exactly one option happens; the plan takes the most likely
      one (the first of equally likely ones);
    - a conditional task is in it when its condition holds on the deterministic
      (CPM) dates ``es0``, ``ef0`` (by position).

    Every other task is in it. The CPM finish itself still schedules every task.
    """
    k = kernel
    plan = k.ex_p >= 1.0
    for b in range(k.br_ptr.shape[0] - 1):
        prob = np.diff(k.br_cum[k.br_ptr[b]:k.br_ptr[b + 1]], prepend=0.0)
        plan &= (k.br_of != b) | (k.br_opt == int(np.argmax(prob)))
    q = k.cond_task
    has = q >= 0
    src = np.where(has, q, 0)
    x = np.where(k.cond_kind < 2, ef0[src], es0[src])
    after = x > k.cond_value
    holds = after == ((k.cond_kind == 0) | (k.cond_kind == 2))
    return plan & (~has | holds)


def _planned_cost(compiled: CompiledModel, det) -> float:
    """The planned cost: the planned cost of every task in the plan (see :func:`_on_plan`),
    no risk events, plus the project cost rate times the deterministic finish."""
    es0, ef0, _, pf0 = det
    plan = _on_plan(compiled.kernel, es0, ef0)
    return (float(np.sum(compiled.planned_task_cost[plan]))
            + compiled.planned_cost_rate * float(pf0))


def _result(project, compiled, det, run, n_iter, seed_used, risks) -> SimulationResult:
    es0, ef0, _, pf0 = det
    acc, kernel = run.acc, run.kernel
    n = compiled.n_tasks
    node = np.empty_like(compiled.topo)
    node[compiled.topo] = np.arange(n)
    inv = 1.0 / kernel.mom_scale[node]
    totals = [stats.fixed_point_total(acc.mom[r], acc.mom[r + 1])[node] for r in range(0, 8, 2)]
    start_mean, start_std = stats.mean_std_from_sums(
        es0[node], totals[0] * inv, totals[1] * inv * inv, n_iter)
    finish_mean, finish_std = stats.mean_std_from_sums(
        ef0[node], totals[2] * inv, totals[3] * inv * inv, n_iter)
    criticality = acc.crit[node] / n_iter
    tasks = TaskStats(
        ids=compiled.task_ids, names=compiled.names, criticality=criticality,
        start_mean=start_mean, start_std=start_std, finish_mean=finish_mean,
        finish_std=finish_std, finish_min=acc.tmin[node], finish_max=acc.tmax[node],
        finish_hist=acc.hist[node], hist_lo=kernel.hist_lo[node],
        hist_scale=kernel.hist_scale[node],
    )
    samples = {}
    if run.keep is not None:
        samples = {name: _to_node_order(arr, compiled.topo)
                   for name, arr in zip(("durations", "starts", "finishes"), run.keep)}
    cost = cashflow = None
    if run.cost is not None:
        cost = SampleStats(samples=run.cost, deterministic=_planned_cost(compiled, det))
        times = np.arange(CASH_PERIODS + 1) * kernel.cash_dt
        n_rows = CASH_PERIODS + 1
        cashflow = CashFlow(
            times=times, hist=acc.cash_hist, lo=np.full(n_rows, kernel.cash_lo),
            scale=np.full(n_rows, kernel.cash_scale), vmin=acc.cash_min, vmax=acc.cash_max)
    return SimulationResult(
        iterations=n_iter, seed=seed_used, task_ids=compiled.task_ids, project=project,
        finish=SampleStats(samples=run.finish, deterministic=float(pf0)),
        cost=cost, cashflow=cashflow,
        criticality=dict(zip(compiled.task_ids, criticality.tolist())),
        tasks=tasks, risk_mode=risks, risks=_risk_stats(project, compiled, kernel, acc, n_iter),
        correlations=_correlation_stats(compiled, run.corr), **samples,
    )


def _risk_stats(project, compiled, kernel, acc, n_iter) -> list[RiskStats]:
    out = []
    n_risk = len(compiled.risk_ids)
    scales = np.concatenate([kernel.risk_scale, kernel.drv_scale])
    sums = stats.fixed_point_total(acc.rstat[1], acc.rstat[2]) / scales
    for k, rid in enumerate(compiled.risk_ids + compiled.driver_ids):
        count = int(acc.rstat[0, k])
        if k < n_risk:
            risk = project.risks[rid]
            prob = float(kernel.risk_p[k])
            unit = "%" if kernel.risk_pct[k] > 0 else "time"
            name, kind = risk.name, "risk"
        else:
            driver = project.drivers[rid]
            prob, unit, name, kind = float(kernel.drv_p[k - n_risk]), "factor", driver.name, "driver"
        out.append(RiskStats(
            id=rid, name=name, kind=kind, probability=prob, occurrence=count / n_iter,
            mean_impact=float(sums[k] / count) if count else float("nan"), unit=unit))
    return out


def _correlation_stats(compiled, corr_samples) -> list[CorrelationStats]:
    out = []
    start = 0
    for c in compiled.correlations:
        k = len(c.tasks)
        block = corr_samples[:, start:start + k]
        start += k
        achieved = stats.spearman(block) if block.shape[0] > 2 else np.full((k, k), np.nan)
        out.append(CorrelationStats(tasks=c.tasks, target=c.target, repaired=c.repaired,
                                    achieved=achieved, n_samples=block.shape[0]))
    return out


def _to_node_order(by_position: np.ndarray, topo: np.ndarray) -> np.ndarray:
    out = np.empty_like(by_position)
    out[:, topo] = by_position
    return out


def rank_risks(model, iterations: int = 10_000, seed=None, percentile: float = 80, *,
               risks: str = "pre", threads=None, chunk_size: int | None = None) -> RiskRanking:
    """Rank risk events and drivers by what switching each one off gains (the tornado).

    Runs the model once with everything on and once per risk event or driver with
    only that one switched off (probability zero), all on the same random numbers
    (every draw is keyed by seed, iteration and variable, so switching one risk off
    changes no other draw); the differences are therefore almost free of Monte
    Carlo noise. Sorted by the shift of the ``percentile`` of the finish, largest first.

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project()
    >>> p.add_task("a", 10)
    >>> p.add_risk("small", 0.5, ["a"], schedule_impact=1)
    >>> p.add_risk("big", 0.5, ["a"], schedule_impact=4)
    >>> [(r.id, r.percentile_shift) for r in pmosim.rank_risks(p, 2_000, seed=1).entries]
    [('big', 4.0), ('small', 1.0)]
    """
    q = float(stats.check_q(percentile))
    job = _prepare(model, iterations, seed, threads, chunk_size, risks)
    project, compiled = job.project, job.compiled

    def finish_of(kernel):
        return job.execute(kernel).finish

    base_kernel = compiled.kernel
    base = finish_of(base_kernel)
    base_p, base_mean = stats.percentile(base, q), float(np.mean(base))
    entries = []
    n_risk = len(compiled.risk_ids)
    for k, rid in enumerate(compiled.risk_ids + compiled.driver_ids):
        if k < n_risk:
            p = base_kernel.risk_p.copy()
            p[k] = 0.0
            kernel = base_kernel._replace(risk_p=p)
            name, kind = project.risks[rid].name, "risk"
        else:
            p = base_kernel.drv_p.copy()
            p[k - n_risk] = 0.0
            kernel = base_kernel._replace(drv_p=p)
            name, kind = project.drivers[rid].name, "driver"
        off = finish_of(kernel)
        entries.append(RankedRisk(
            id=rid, name=name, kind=kind,
            percentile_shift=base_p - stats.percentile(off, q),
            mean_shift=base_mean - float(np.mean(off))))
    entries.sort(key=lambda e: (-e.percentile_shift, -e.mean_shift))
    return RiskRanking(percentile=q, iterations=job.n_iter, seed=job.seed, risk_mode=risks,
                       baseline_percentile=base_p, baseline_mean=base_mean, entries=entries)

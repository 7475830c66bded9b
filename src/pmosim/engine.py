"""``simulate()`` and ``cpm()``: validate, compile, run the kernels in chunks, merge.

Reproducibility: every random draw is keyed by (seed, iteration, variable), and
every per-task accumulator is an integer (counts, histogram bins, fixed-point
sums), so the merged totals are the same whatever the thread count, chunk size or
order in which chunks finish. The project finish of each iteration is kept
(8 bytes x iterations); per-task x per-iteration arrays only with ``keep_samples``.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from dataclasses import dataclass

import numpy as np

from . import stats
from .backends import BACKENDS, RangeJob, get_backend
from .compile import (
    CompiledModel, check_levelling, compile_levelling, compile_project, has_calendars,
    uses_calendars,
)
from .errors import ModelError, SimulationError
from .layout import (
    CASH_PERIODS, CRITICAL_RTOL, FF, FS, HIST_COLUMNS, SF, SS, Grid, SensGrid, identity_grid,
    identity_sens_grid,
)
from .model import Project, as_project
from .progress import progress_bar
from .results import (
    CashFlow, Comparison, CorrelationStats, CPMResult, CriticalPath, LevellingStats, MergeBias,
    PrecisionRun, RankedRisk, RankSample, ResourceStats, RiskRanking, RiskStats, SampleStats,
    SensitivityStats, SimulationResult, TaskStats, TimeStats,
)

#: Bins of the per-task finish histograms (plus one open-ended bin at each end).
HISTOGRAM_BINS = HIST_COLUMNS - 2    # the kernel adds the under- and overflow columns
#: Largest power of two the moment sums scale deviations by (spreads below 2**-64 days
#: are below anything the fixed-point sums resolve).
MAX_MOMENT_EXPONENT = 64
#: Smallest time or cost range the statistics grids scale to (below it, one unit).
MIN_RANGE = 1e-9
#: Iterations of the pilot that sets each task's histogram range (the first ones of the run).
PILOT_ITERATIONS = 2048
#: Iterations whose correlated durations are kept to measure achieved rank correlations.
CORRELATION_SAMPLE = 10_000
#: Refuse ``keep_samples`` beyond this many bytes of per-task samples.
KEEP_SAMPLES_LIMIT = 4 * 2 ** 30
#: The rank measures of the sensitivity analysis (Spearman and Kendall cruciality) use
#: the first iterations of a run, at most this many ...
SENS_SAMPLE_MAX = 10_000
#: ... and at most as many as fit this many bytes of kept durations, costs and flags
#: (9 bytes per task, 8 per costed task, per iteration) ...
SENS_SAMPLE_BYTES = 64 * 2 ** 20
#: ... but at least this many (unless the run is shorter, or that would take more than
#: four times those bytes).
SENS_SAMPLE_MIN = 500


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


def _resolve_chunk(chunk_size) -> int | None:
    """Iterations per chunk (None: the backend's default); each backend rounds it up to a
    multiple of SUPER, so super-blocks always hold the same iterations, which the
    per-super-block moment sums rely on."""
    return None if chunk_size is None else _check_int("chunk_size", chunk_size, 1)


def _resolve_threads(threads):
    if threads is None:
        return None
    from .backends.threads import default_threads
    return _check_int("threads", threads, 1, default_threads())


def _deterministic(compiled: CompiledModel):
    """Early start, early finish, late finish and project finish on planned values (in
    working days of the axis calendar in the wall-clock mode). A levelled model gives
    its levelled dates (and its early finish as the late finish)."""
    k = compiled.kernel
    if k.levelling is not None:
        from .kernels.levelling import deterministic_levelled
        es, ef, pf = deterministic_levelled(k.levelling, k.links, compiled.planned,
                                            compiled.planned_lags)[:3]
        return es, ef, ef, pf
    grid = identity_grid(compiled.n_tasks)
    if k.cal_on:
        from .kernels.passes_cal import deterministic_pass_cal
        out = deterministic_pass_cal(k.draws, k.links, k.calendars, grid, compiled.planned,
                                     compiled.planned_lags)
        return out[5], out[6], out[8], out[10]
    from .kernels.passes import deterministic_pass
    return deterministic_pass(k.draws, k.links, grid, compiled.planned, compiled.planned_lags)


def _with_levelling(project, compiled, scheme, priority, passes=0):
    """``compiled`` with its :class:`~pmosim.layout.Levelling` struct (priority list from
    the unlevelled deterministic schedule), and that schedule.

    ``passes`` > 0, or the rule ``"plan"``, replaces the list by the one of the shortest
    plan that :func:`pmosim.kernels.improve.improve_plan` finds from the LFT list
    (forward-backward improvement of ``passes`` sampled lists; seed 0, so the plan
    belongs to the model, not to a run)."""
    det_free = _deterministic(compiled)
    rule = "lft" if priority == "plan" else priority
    lev = compile_levelling(project, compiled, det_free, rule)
    if priority == "plan" and not passes:
        passes = _improve_passes(True, compiled.n_tasks)
    if passes:
        from .kernels.improve import improve_plan
        order = improve_plan(lev, compiled.kernel.links, compiled.planned,
                             compiled.planned_lags, np.int64(passes), np.int64(0))[3]
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        lev = lev._replace(order=order, rank=rank)
    return dataclasses.replace(compiled, kernel=compiled.kernel._replace(levelling=lev)), det_free


def _improve_passes(improve, n_tasks: int) -> int:
    """Passes of the plan search: 0 for none (False, 0, None); True: DEFAULT_PASSES,
    fewer for larger projects so that the search stays near a second (a pass costs
    about n ** 1.4: 0.16 ms at 120 tasks)."""
    if improve is None or improve is False:
        return 0
    if improve is True:
        from .kernels.improve import DEFAULT_PASSES
        return max(8, int(DEFAULT_PASSES * min(1.0, (120 / max(n_tasks, 1)) ** 1.4)))
    if isinstance(improve, bool) or not isinstance(improve, (int, np.integer)) or improve < 0:
        raise ModelError(f"improve must be True, False or a number of passes >= 0, got "
                         f"{improve!r}")
    return int(improve)


def _levelling_of(project, levelling, priority):
    """The scheme (or None) and priority rule of a run: the arguments, else the
    project's own settings (``False`` switches levelling off)."""
    if levelling is None:
        levelling = project.levelling
    if priority is None:
        priority = project.priority
    return check_levelling(levelling, priority), priority


def cpm(model, *, levelling=None, priority: str | None = None, improve=False) -> CPMResult:
    """Deterministic critical path method on planned durations (and planned lags).

    A task is critical when its total float is ``<= 1e-9 * max(1, finish)``.

    With ``levelling="serial"``, tasks also wait for the resources they demand
    (:meth:`pmosim.Project.add_resource`): a serial schedule generation scheme takes
    them in the order of a priority list (``priority``: ``"lft"`` latest finish, the
    default; ``"lst"``, ``"mslk"``, ``"mts"``, ``"grpw"``, ``"spt"``, ``"order"``,
    ``"priority"``, see :func:`pmosim.compile.priority_keys`; ``"plan"``, the list of
    the improved plan, see ``improve``) and starts each at the
    earliest time its links and free resources allow. A task is then critical when
    it is on a driving path to the finish: its start was set by a link from a
    critical predecessor or by a resource that a critical task released at that
    moment. Late dates come from a backward pass over the links plus those resource
    links (each delayed task waits, finish-to-start, for the tasks whose release let
    it start), so float is what a task may slip with every other task on its
    levelled dates. ``unlevelled_finish`` and ``binding`` (the resources a delay on
    the driving path waited for) are set. ``levelling=None`` and ``priority=None``
    take the project's own settings (``project.levelling``, ``project.priority``:
    a scenario's ``[project] levelling``/``priority``); ``levelling=False`` switches
    levelling off.

    ``improve`` (levelled only) searches for a shorter levelled plan: True for the
    default number of passes, or a number of passes. Each pass is a priority list
    sampled around the best so far (regret-based biased sampling), scheduled and
    improved by forward-backward justification; the result is the shortest plan,
    which the serial SGS reproduces from its list (``priority="plan"`` uses that list
    in every iteration of :func:`simulate`). On PSPLIB: 0.17 % above the proven
    optima of J30 and 3.93 % above the best known makespans of J120 (a single LFT pass:
    5.58 % and 13.02 %; benchmarks/psplib_improve.py).

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
    scheme, priority = _levelling_of(project, levelling, priority)
    passes = _improve_passes(improve, project.n_tasks)
    if passes and scheme is None:
        raise ModelError(f"improve={improve!r} searches for a shorter levelled plan: it "
                         "needs levelling='serial'")
    # levelled plans run on the working-day axis, which holds every project whose
    # calendars the wall clock does not need (a DSLIB workbook's single agenda)
    wallclock = uses_calendars(project) if scheme is not None else has_calendars(project)
    compiled = compile_project(project, wallclock=wallclock)
    node = np.empty_like(compiled.topo)
    node[compiled.topo] = np.arange(compiled.n_tasks)
    k = compiled.kernel
    if scheme is not None:
        return _cpm_levelled(project, compiled, node, scheme, priority, passes)
    if k.cal_on:
        return _cpm_wallclock(project, compiled, node)
    es, ef, lf, pf = _deterministic(compiled)
    dur = np.where(np.isnan(k.links.fixed_start), compiled.planned, k.links.fixed_dur)[node]
    ff = _free_float_axis(k.links, compiled.planned_lags, es, ef,
                          np.where(np.isnan(k.links.fixed_start), compiled.planned,
                                   k.links.fixed_dur), pf)[node]
    es, ef, lf = es[node], ef[node], lf[node]
    ls = lf - dur
    tf = ls - es
    return CPMResult(
        task_ids=compiled.task_ids, names=compiled.names, finish=float(pf), duration=dur,
        early_start=es, early_finish=ef, late_start=ls, late_finish=lf, total_float=tf,
        critical=tf <= CRITICAL_RTOL * max(1.0, pf), free_float=ff,
    )


def _free_float_axis(links, planned_lags, es, ef, dur, pf) -> np.ndarray:
    """Free float by position on the working-day axis: the least slack between a task's
    early finish and the latest finish that keeps each successor's early date (FS, SS:
    its start; FF, SF: its finish; less the lag; SS and SF bound the task's start, so
    plus its duration), or the project finish."""
    latest = np.full(es.shape[0], float(pf))
    for s in range(es.shape[0]):
        for k in range(links.pred_ptr[s], links.pred_ptr[s + 1]):
            q, t = links.pred_idx[k], links.pred_type[k]
            row = links.pred_lagrow[k]
            lag = links.pred_lag[k] + (planned_lags[row - 1] if row > 0 else 0.0)
            b = (es[s] if t in (FS, SS) else ef[s]) - lag
            if t in (SS, SF):
                b += dur[q]
            latest[q] = min(latest[q], b)
    return latest - ef


def _cpm_levelled(project, compiled, node, scheme, priority, passes=0) -> CPMResult:
    """:func:`cpm` with ``levelling``: the levelled schedule, its driving path and the
    late dates of the links plus the resource links."""
    from .kernels.levelling import deterministic_levelled
    compiled, det_free = _with_levelling(project, compiled, scheme, priority, passes)
    k = compiled.kernel
    lev, links = k.levelling, k.links
    es, ef, pf, mark, t0, short, bind = deterministic_levelled(
        lev, links, compiled.planned, compiled.planned_lags)
    n = compiled.n_tasks
    fixed = ~np.isnan(links.fixed_start)
    dur = np.where(fixed, links.fixed_dur, compiled.planned)
    lags = np.concatenate([[0.0], compiled.planned_lags])
    waits: list[list[int]] = [[] for _ in range(n)]
    for j in range(n):
        if fixed[j] or not es[j] > t0[j]:
            continue
        for d in range(lev.dem_ptr[j], lev.dem_ptr[j + 1]):
            if not short[d]:
                continue
            r = lev.dem_res[d]
            for i in lev.use_pos[lev.use_ptr[r]:lev.use_ptr[r + 1]]:
                if (ef[i] == es[j] and dur[i] > 0 and (lev.rank[i] < lev.rank[j] or fixed[i])
                        and i not in waits[j]):
                    waits[j].append(int(i))
    lf = np.full(n, float(pf))
    for j in lev.order[::-1]:
        lp = lf[j]
        lpd = lp - dur[j]
        for kk in range(links.pred_ptr[j], links.pred_ptr[j + 1]):
            q = links.pred_idx[kk]
            t = links.pred_type[kk]
            lk = links.pred_lag[kk] + lags[links.pred_lagrow[kk]]
            if t == FS:
                bound = lpd - lk
            elif t == FF:
                bound = lp - lk
            elif t == SS:
                bound = (lpd - lk) + dur[q]
            else:
                bound = (lp - lk) + dur[q]
            lf[q] = min(lf[q], bound)
        for i in waits[j]:
            lf[i] = min(lf[i], lpd)
    es, ef, lf, dur = es[node], ef[node], lf[node], dur[node]
    ls = lf - dur
    res_ids = list(project.resources)
    return CPMResult(
        task_ids=compiled.task_ids, names=compiled.names, finish=float(pf), duration=dur,
        early_start=es, early_finish=ef, late_start=ls, late_finish=lf, total_float=ls - es,
        critical=mark[node].astype(bool), levelling=scheme, priority=priority,
        unlevelled_finish=float(det_free[3]),
        binding=[res_ids[r] for r in np.flatnonzero(bind)])


def _cpm_wallclock(project, compiled, node) -> CPMResult:
    """:func:`cpm` of a project with working calendars (the wall-clock kernel)."""
    import datetime as dt

    from .kernels.passes_cal import deterministic_pass_cal
    k = compiled.kernel
    (es_h, ef_h, ls_h, lf_h, tf, es, ef, _, _, _, pf, dur, ls, lf, ff) = deterministic_pass_cal(
        k.draws, k.links, k.calendars, identity_grid(compiled.n_tasks), compiled.planned,
        compiled.planned_lags)
    origin = project.meta["data_date"]

    def dates(hours):
        return [origin + dt.timedelta(seconds=round(float(h) * 3600)) for h in hours[node]]

    tf = tf[node]
    return CPMResult(
        task_ids=compiled.task_ids, names=compiled.names, finish=float(pf), duration=dur[node],
        early_start=es[node], early_finish=ef[node], late_start=ls[node], late_finish=lf[node],
        total_float=tf, critical=tf <= CRITICAL_RTOL * max(1.0, pf), free_float=ff[node],
        early_start_date=dates(es_h), early_finish_date=dates(ef_h),
        late_start_date=dates(ls_h), late_finish_date=dates(lf_h),
        calendar=project.meta["axis_calendar"],
    )


def _histogram_range(tmin, tmax):
    width = tmax - tmin
    floor = np.maximum(np.abs(tmin), 1.0) * MIN_RANGE
    # a range narrower than that (denormal durations) would make the scale infinite
    pad = np.where(width > floor, 0.1 * width, floor)
    lo = tmin - pad
    hi = tmax + pad
    return lo, HISTOGRAM_BINS / (hi - lo)


def _moment_scale(tmin, tmax, shift):
    """Powers of two that bring each task's deviations from ``shift`` to about 1."""
    spread = np.maximum(np.maximum(tmax - shift, shift - tmin), tmax - tmin)
    with np.errstate(divide="ignore"):
        exponent = np.where(spread > 0, -np.ceil(np.log2(np.where(spread > 0, spread, 1.0))), 0.0)
    # denormal spreads (durations of 1e-320 days) would need scales past float64
    return np.ldexp(1.0, np.minimum(exponent, MAX_MOMENT_EXPONENT).astype(np.int64))


def simulate(model, iterations: int = 10_000, *, seed=None, threads=None,
             keep_samples: bool = False, chunk_size: int | None = None,
             progress=None, risks: str = "pre", backend="threads",
             scheduler=None, levelling=None, priority: str | None = None,
             sensitivity: bool = True) -> SimulationResult:
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
        Threads of the threads backend (default: all of numba's threads, i.e. the
        CPU count).
    keep_samples : bool
        Also keep per-iteration durations, starts and finishes of every task
        (``iterations * n_tasks * 24`` bytes: for small runs, tests and scripts).
    chunk_size : int, optional
        Iterations per unit of work: per chunk handed to a thread (default 1024), or
        per range handed to a Dask worker (default: about four ranges per worker);
        rounded up to a multiple of 512, the super-block. It changes speed only,
        never results.
    progress : bool or callable, optional
        ``True`` shows a progress bar (tqdm's when installed, a widget in Jupyter;
        else a text bar on standard error). A callable is called as
        ``progress(done, total)`` after each block (threads) or range (Dask) of
        iterations; with Dask, ``done`` counts the iterations finished so far.
    risks : {"pre", "post", "none"}
        Which risk register to use: before mitigation (default), after it, or no
        risk events at all (drivers stay). Every choice uses the same random
        numbers, so the difference between runs is the effect of mitigation alone.
    backend : {"threads", "dask"} or a backend object
        Where the iterations run (see :mod:`pmosim.backends`): this process's
        threads (default), or a Dask distributed cluster (``pip install
        'pmosim[dask]'``). Results are bit-identical on every backend.
    scheduler : str or distributed.Client, optional
        With ``backend="dask"``: the scheduler's address (``tcp://host:8786``) or a
        connected client; None starts a ``LocalCluster`` on this machine for the run.
    levelling : {None, "serial", False}
        Level resources in every iteration (None: as ``project.levelling`` says, which
        is off unless a scenario sets it; False: off): each iteration's sampled durations are
        scheduled by the serial schedule generation scheme of :func:`cpm` with the
        priority list of the deterministic plan (the same list in every iteration,
        so results stay bit-identical on any backend). Criticality is then the
        driving path of the levelled schedule (see :func:`cpm`), and
        ``result.levelling`` holds the unlevelled finish of every iteration, each
        task's mean delay by levelling and each resource's usage, peak and how often
        it was binding.
    priority : str, optional
        The priority rule of the list (see :func:`cpm`); default ``project.priority``
        (``"lft"`` unless set).
    sensitivity : bool
        Also measure each task's sensitivity (``result.sensitivity``: significance,
        schedule sensitivity and cruciality indices of durations and costs) and the
        distinct critical paths (``result.paths``). The sums are streamed over every
        iteration; the rank measures (Spearman and Kendall cruciality) use the first
        ``min(iterations, 10,000)`` iterations (fewer for large networks: as many as
        fit 64 MiB of kept durations, or 500 if that fits 256 MiB). False skips the
        stage.

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
    report = progress_bar(progress)
    job = _prepare(model, iterations, seed, risks, levelling, priority)
    n, n_iter = job.compiled.n_tasks, job.n_iter
    if keep_samples and 3 * 8 * n * n_iter > KEEP_SAMPLES_LIMIT:
        raise SimulationError(
            f"keep_samples=True for {n} tasks x {n_iter} iterations needs "
            f"{3 * 8 * n * n_iter / 2**30:.1f} GiB; use fewer iterations or keep_samples=False")
    with _Backend(backend, threads, chunk_size, scheduler) as runner, report as callback:
        run = job.execute(runner, job.compiled.kernel, keep_samples, callback,
                          sens=_sens_plan(job) if sensitivity else None)
    return _result(job, run, n_iter, risks)


class _Backend:
    """Context manager: the backend of a call, closed at the end of it (a Dask
    ``LocalCluster`` it started is shut down; a backend object passed in is not)."""

    def __init__(self, backend, threads, chunk_size, scheduler):
        if isinstance(backend, str) and backend not in BACKENDS:
            raise SimulationError(
                f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.owned = isinstance(backend, str)
        self.backend = get_backend(backend, threads=_resolve_threads(threads),
                                   chunk=_resolve_chunk(chunk_size), scheduler=scheduler)

    def __enter__(self):
        return self.backend

    def __exit__(self, *exc):
        if self.owned:
            self.backend.close()


@dataclass(frozen=True)
class _Job:
    """A validated, compiled run: what simulate() and rank_risks() share."""

    project: Project
    compiled: CompiledModel
    det: tuple
    n_iter: int
    seed: int
    key: tuple
    det_free: tuple | None = None    # the unlevelled plan of a levelled run
    priority: str | None = None

    def execute(self, backend, kernel, keep_samples=False, progress=None, sens=None):
        return _execute(kernel, self.det, self.n_iter, self.key, backend, keep_samples,
                        progress, sens)


def _sens_plan(job: _Job) -> _SensPlan:
    c = job.compiled
    pos = c.kernel.costs.cost_pos if c.kernel.cost_on else np.zeros(0, dtype=np.int64)
    return _SensPlan(planned=c.planned, planned_cost=c.planned_task_cost[pos],
                     planned_total=_planned_cost(c, job.det) if c.kernel.cost_on else 0.0)


#: Most iterations of one run (Philox counters and row indices stay far from overflow).
MAX_ITERATIONS = 2 ** 48
#: Share of the machine's memory a run may plan to use.
MEMORY_SHARE = 0.8


def memory_needed(n_tasks: int, n_iter: int, threads: int = 2) -> int:
    """Bytes a run needs, roughly: the per-iteration finish, cost and critical-path-hash
    rows, the sensitivity sample (at most SENS_SAMPLE_BYTES), and per task its
    inverse-CDF table (~15 KiB), each thread's work rows (a super-block of durations,
    the pass rows, lane sums, critical flags, sensitivity sums and histogram bins: ~7
    KiB) and a start and a finish histogram per thread and for the total (2 KiB each).
    10,000 tasks x 1,000,000 iterations on 2 threads: about 450 MiB."""
    from .layout import HIST_COLUMNS, LANES, SUPER
    per_thread = 2 * SUPER * 8 + (6 + 1 + 4) * LANES * 8 + 9 * 4 * 8 + 2 * SUPER
    per_task = 15 * 1024 + threads * per_thread + 2 * (threads + 1) * HIST_COLUMNS * 8
    return 24 * n_iter + min(4 * SENS_SAMPLE_BYTES, 9 * n_tasks * min(n_iter, SENS_SAMPLE_MAX)) \
        + n_tasks * per_task


def _check_memory(n_tasks, n_iter):
    """Refuse, before allocating anything, a run this machine cannot hold."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    from .backends.threads import default_threads
    need = memory_needed(n_tasks, n_iter, default_threads())
    if need > MEMORY_SHARE * total:
        raise SimulationError(
            f"{n_tasks:,} tasks x {n_iter:,} iterations needs about {need / 2**30:,.1f} GiB of "
            f"memory and this machine has {total / 2**30:,.1f} GiB; use fewer iterations (the "
            f"finish, cost and critical path of every iteration are kept, 24 bytes each) or "
            f"fewer tasks")


def _prepare(model, iterations, seed, risks, levelling=None, priority=None) -> _Job:
    project = as_project(model)
    scheme, priority = _levelling_of(project, levelling, priority)
    n_iter = _check_int("iterations", iterations, 1, MAX_ITERATIONS)
    _check_memory(project.n_tasks, n_iter)
    seed_used, k0, k1 = resolve_seed(seed)
    compiled = compile_project(project, risks=risks)
    det_free = None
    if scheme is not None:
        compiled, det_free = _with_levelling(project, compiled, scheme, priority)
    return _Job(project, compiled, _deterministic(compiled), n_iter, seed_used, (k0, k1),
                det_free, priority if scheme is not None else None)


@dataclass(frozen=True)
class _Run:
    """Merged totals and rows of one execution, and the grid they were counted on."""

    totals: object
    rows: object
    grid: Grid
    kernel: object


def _execute(kernel, det, n_iter, key, backend, keep_samples, progress, sens=None) -> _Run:
    """The pilot iterations set the statistics grid; then the run itself. ``sens`` (a
    :class:`_SensPlan`) switches the sensitivity stage on."""
    es0, ef0, _, _ = det
    n = kernel.n_tasks
    pilot_grid = identity_grid(n)._replace(start_shift=es0, finish_shift=ef0)
    n_pilot = min(n_iter, PILOT_ITERATIONS)
    pilot, pilot_rows = backend.run(RangeJob(kernel, pilot_grid, key[0], key[1], 1, False, 0),
                                    n_pilot, None)
    lo, scale = _histogram_range(pilot.tmin, pilot.tmax)
    slo, sscale = _histogram_range(pilot.smin, pilot.smax)
    n_costed = int(kernel.costs.cost_pos.shape[0]) if kernel.cost_on else 0
    sens_grid = identity_sens_grid(n, n_costed)
    n_sample = 0
    if sens is not None:
        sens_grid = sens.grid(pilot, pilot_rows, det, _moment_scale(pilot.tmin, pilot.tmax, ef0))
        n_sample = sens.sample_size(n_iter, n, n_costed)
    grid = Grid(start_shift=es0, finish_shift=ef0,
                mom_scale=_moment_scale(pilot.tmin, pilot.tmax, ef0), hist_lo=lo,
                hist_scale=scale, start_lo=slo, start_scale=sscale,
                **_cash_grid(pilot_rows.finish, pilot_rows.cost), sens=sens_grid)
    job = RangeJob(kernel, grid, key[0], key[1], HISTOGRAM_BINS, bool(keep_samples),
                   min(n_iter, CORRELATION_SAMPLE), "", sens is not None, n_sample)
    totals, rows = backend.run(job, n_iter, progress)
    return _Run(totals, rows, grid, kernel)


@dataclass(frozen=True)
class _SensPlan:
    """What the sensitivity stage needs beyond the pilot: planned durations and costs."""

    planned: np.ndarray           # float64[n] planned durations by position
    planned_cost: np.ndarray      # float64[C] planned cost of each costed task
    planned_total: float          # the planned project cost

    def grid(self, pilot, pilot_rows, det, mom_scale) -> SensGrid:
        """Shifts and scales from the plan and the pilot iterations."""
        pf0 = float(det[3])
        f = pilot_rows.finish
        pf_scale = _pow2_scale(max(float(np.max(np.abs(f - pf0))), float(np.max(np.abs(f)))
                                   if f.size else 1.0))
        c = pilot_rows.cost
        top = float(np.max(np.abs(c))) if c.size else 1.0
        n = self.planned.shape[0]
        # the same random keys in every run, so that a critical set's hash is too
        key = np.random.Generator(np.random.Philox(0x5EED5)).integers(
            0, 2 ** 64, size=n, dtype=np.uint64, endpoint=False)
        return SensGrid(dur_shift=self.planned.astype(np.float64), dur_scale=mom_scale,
                        pf_shift=pf0, pf_scale=pf_scale,
                        cost_shift=self.planned_cost.astype(np.float64),
                        cost_scale=_pow2_scale(top), pc_shift=self.planned_total,
                        pc_scale=_pow2_scale(max(top, abs(self.planned_total))), key=key)

    @staticmethod
    def sample_size(n_iter: int, n_tasks: int, n_costed: int) -> int:
        """Iterations whose durations the rank measures use (see SENS_SAMPLE_*)."""
        fit = SENS_SAMPLE_BYTES // max(9 * n_tasks + 8 * n_costed, 1)
        # small samples give rough rank correlations: up to 4x the bytes to reach the minimum
        return int(min(n_iter, SENS_SAMPLE_MAX, max(fit, min(SENS_SAMPLE_MIN, 4 * fit), 2)))


def _pow2_scale(spread: float) -> float:
    """A power of two that brings values of magnitude ``spread`` to about 1."""
    if not spread > 0 or not np.isfinite(spread):
        return 1.0
    return float(np.ldexp(1.0, int(min(-np.ceil(np.log2(spread)), MAX_MOMENT_EXPONENT))))


def _cash_grid(pilot_finish, pilot_cost) -> dict:
    """Cash-flow time grid and spend histogram range from the pilot iterations."""
    horizon = 1.25 * float(np.max(pilot_finish)) if pilot_finish.size else 1.0
    top = 1.25 * float(np.max(pilot_cost)) if pilot_cost.size else 1.0
    # a degenerate range (every finish or cost zero or denormal) would make the grid's
    # scales infinite: any positive unit then does
    horizon = horizon if horizon >= MIN_RANGE else 1.0
    top = top if top >= MIN_RANGE else 1.0
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
    k = kernel.uncertainty
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


def _result(job, run, n_iter, risks) -> SimulationResult:
    project, compiled, det, seed_used = job.project, job.compiled, job.det, job.seed
    es0, ef0, _, pf0 = det
    acc, grid, rows = run.totals, run.grid, run.rows
    n = compiled.n_tasks
    node = np.empty_like(compiled.topo)
    node[compiled.topo] = np.arange(n)
    inv = 1.0 / grid.mom_scale[node]
    totals = [stats.fixed_point_total(acc.mom[r], acc.mom[r + 1])[node] for r in range(0, 8, 2)]
    start_mean, start_std = stats.mean_std_from_sums(
        es0[node], totals[0] * inv, totals[1] * inv * inv, n_iter)
    finish_mean, finish_std = stats.mean_std_from_sums(
        ef0[node], totals[2] * inv, totals[3] * inv * inv, n_iter)
    criticality = acc.crit[node] / n_iter
    kinds = _task_kinds(project, compiled, node)
    tasks = TaskStats(
        ids=compiled.task_ids, names=compiled.names, criticality=criticality,
        start_mean=start_mean, start_std=start_std, finish_mean=finish_mean,
        finish_std=finish_std, finish_min=acc.tmin[node], finish_max=acc.tmax[node],
        finish_hist=acc.hist[node], hist_lo=grid.hist_lo[node],
        hist_scale=grid.hist_scale[node], start_min=acc.smin[node], start_max=acc.smax[node],
        start_hist=acc.shist[node], start_lo=grid.start_lo[node],
        start_scale=grid.start_scale[node], deterministic_start=es0[node],
        deterministic_finish=ef0[node], kinds=kinds, project=project,
    )
    sens = _sensitivity_stats(job, run, node, n_iter, kinds, criticality)
    samples = {}
    if rows.dur.shape[0] > 0:
        samples = {name: _to_node_order(arr, compiled.topo)
                   for name, arr in zip(("durations", "starts", "finishes"),
                                        (rows.dur, rows.es, rows.ef))}
    cost = cashflow = None
    if run.kernel.cost_on:
        cost = SampleStats(samples=rows.cost, deterministic=_planned_cost(compiled, det))
        times = np.arange(CASH_PERIODS + 1) * grid.cash_dt
        n_rows = CASH_PERIODS + 1
        cashflow = CashFlow(
            times=times, hist=acc.cash_hist, lo=np.full(n_rows, grid.cash_lo),
            scale=np.full(n_rows, grid.cash_scale), vmin=acc.cash_min, vmax=acc.cash_max)
    return SimulationResult(
        iterations=n_iter, seed=seed_used, task_ids=compiled.task_ids, project=project,
        finish=TimeStats(samples=rows.finish, deterministic=float(pf0), project=project),
        cost=cost, cashflow=cashflow,
        criticality=dict(zip(compiled.task_ids, criticality.tolist())),
        tasks=tasks, risk_mode=risks,
        risks=_risk_stats(project, compiled, run.kernel.uncertainty, acc, n_iter),
        correlations=_correlation_stats(compiled, rows.corr), **samples,
        levelling=_levelling_stats(job, run, node, n_iter) if job.det_free is not None else None,
        sensitivity=sens, paths=_critical_paths(run, compiled, es0, n_iter),
        merge_bias=_merge_bias(project, tasks),
    )


def _task_kinds(project, compiled, node) -> list:
    """"connector" (an importer's link connector), "milestone" (a milestone in the source
    tool, or a task without planned duration that is not complete) or "task", in node
    order (``node[i]`` is the position of node ``i``)."""
    graph = project.graph
    planned = compiled.planned[node]
    out = []
    for i, t in enumerate(compiled.task_ids):
        data = graph.nodes[t]
        kind = str(data.get("kind") or "")
        if kind == "connector":
            out.append("connector")
        elif "milestone" in kind or data.get("milestone") is True:
            out.append("milestone")
        elif planned[i] == 0 and data.get("status") != "complete" and not kind:
            out.append("milestone")
        else:
            out.append("task")
    return out


#: Critical paths reported (the most frequent).
TOP_PATHS = 10


def _sensitivity_stats(job, run, node, n_iter, kinds, criticality):
    """The sensitivity measures from the streamed sums and the kept sample (see
    :class:`pmosim.results.SensitivityStats`)."""
    sens_tot = run.totals.sens
    if sens_tot.dur.shape[1] == 0:
        return None
    sg = run.grid.sens
    compiled = job.compiled
    sums = [stats.fixed_point_total(sens_tot.dur[r], sens_tot.dur[r + 1])[node] / n_iter
            for r in range(0, sens_tot.dur.shape[0], 2)]
    finish = run.rows.finish
    t = (finish - sg.pf_shift) * sg.pf_scale
    sd_t = float(np.std(finish))
    d_scale = sg.dur_scale[node]
    m1, m2, m3, m4 = sums
    var_d = np.maximum(m2 - m1 * m1, 0.0) / (d_scale * d_scale)
    cov = (m3 - m1 * float(np.mean(t))) / (d_scale * sg.pf_scale)
    sd_d = np.sqrt(var_d)
    cri_r, ssi = _cruciality(cov, sd_d, sd_t), _ratio(sd_d, sd_t) * criticality
    if job.det_free is not None:
        si = np.full(len(node), np.nan)
    else:
        mean_t = float(np.mean(finish))
        si = m4 / (sg.pf_scale * mean_t) if mean_t != 0 else np.full(len(node), np.nan)
    rows = run.rows
    k = rows.sdur.shape[0]
    cost_r = None
    cost_sample = {}
    if run.kernel.cost_on:
        cost_r = _cost_cruciality(run, node, n_iter)
        cost_sample = dict(cost_x=rows.scost, cost_y=rows.cost[:k].copy(),
                           cost_node=np.argsort(node)[run.kernel.costs.cost_pos])
    return SensitivityStats(
        ids=compiled.task_ids, names=compiled.names, ci=criticality, si=si, ssi=ssi,
        cri_r=cri_r, ranks=RankSample(rows.sdur, node, finish[:k].copy(), **cost_sample),
        sample_size=int(k), cost_cri_r=cost_r, kinds=kinds)


def _ratio(a, b):
    """a / b, NaN where b is 0 (every measure of a constant project finish)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / (b if b > 0 else 1.0), np.nan)


def _cruciality(cov, sd_x, sd_y):
    """|cov / (sd_x sd_y)|: 0 where x never varies, NaN where y never varies; clipped to
    1 (rounding)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(cov) / np.where(sd_x > 0, sd_x, 1.0) / (sd_y if sd_y > 0 else np.nan)
    r = np.where(sd_x > 0, np.minimum(r, 1.0), 0.0)
    return np.where(sd_y > 0, r, np.nan)


def _cost_cruciality(run, node, n_iter) -> np.ndarray:
    """|Pearson r| of each costed task's cost against the project cost, node order (NaN
    for a task without cost)."""
    sg, acc, rows = run.grid.sens, run.totals.sens.cost, run.rows
    pos = run.kernel.costs.cost_pos
    m1, m2, m3 = (stats.fixed_point_total(acc[r], acc[r + 1]) / n_iter
                  for r in range(0, acc.shape[0], 2))
    cost = rows.cost
    kk = (cost - sg.pc_shift) * sg.pc_scale
    var_c = np.maximum(m2 - m1 * m1, 0.0) / sg.cost_scale ** 2
    cov = (m3 - m1 * float(np.mean(kk))) / (sg.cost_scale * sg.pc_scale)
    by_pos = np.full(len(node), np.nan)
    by_pos[pos] = _cruciality(cov, np.sqrt(var_c), float(np.std(cost)))
    return by_pos[node]


def _critical_paths(run, compiled, es0, n_iter) -> list:
    """The most frequent critical sets (by their hashes over every iteration), each
    named by the critical flags of its first iteration in the kept sample."""
    rows = run.rows
    if rows.path.shape[0] == 0:
        return []
    _, first, counts = np.unique(rows.path, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    out = []
    for j in order[:TOP_PATHS]:
        i = int(first[j])
        if i >= rows.scrit.shape[0]:
            # first seen after the kept sample: its tasks are unknown (rare: a set that
            # frequent almost surely occurs within the sample's first iterations)
            continue
        pos = np.flatnonzero(rows.scrit[i])
        pos = pos[np.lexsort((pos, es0[pos]))]
        out.append(CriticalPath(tasks=[compiled.task_ids[compiled.topo[p]] for p in pos],
                                frequency=float(counts[j]) / n_iter))
    return out


def _merge_bias(project, tasks) -> list:
    """Merge bias of every task with two or more predecessors, largest mean first."""
    graph = project.graph
    index = {t: i for i, t in enumerate(tasks.ids)}
    qs = (50, 80, 90)
    out = []
    merges = [t for t in tasks.ids if graph.in_degree(t) >= 2]
    if not merges:
        return out
    pct = tasks.start_percentile(list(qs))
    for t in merges:
        i = index[t]
        mean_dur = tasks.finish_mean[i] - tasks.start_mean[i]
        bounds = []
        for u in graph.predecessors(t):
            data = graph.edges[u, t]
            j = index[u]
            kind = str(data.get("type", "FS")).upper()
            lag = data.get("lag", 0.0)
            lag = float(getattr(lag, "mean", lag))
            if kind == "FS":
                bounds.append(tasks.finish_mean[j] + lag)
            elif kind == "SS":
                bounds.append(tasks.start_mean[j] + lag)
            elif kind == "FF":
                bounds.append(tasks.finish_mean[j] + lag - mean_dur)
            else:
                bounds.append(tasks.start_mean[j] + lag - mean_dur)
        det = float(tasks.deterministic_start[i])
        out.append(MergeBias(
            task_id=t, preds=graph.in_degree(t), deterministic_start=det,
            mean_start=float(tasks.start_mean[i]),
            bias_mean=float(tasks.start_mean[i]) - det,
            bias_percentiles={stats.percentile_key(q): float(pct[i, k]) - det
                              for k, q in enumerate(qs)},
            jensen=float(tasks.start_mean[i]) - float(max(bounds))))
    out.sort(key=lambda m: -m.bias_mean)
    return out


def _levelling_stats(job, run, node, n_iter) -> LevellingStats:
    """What levelling did in a run: unlevelled finishes, task delays, resource usage."""
    lev, lt, grid = run.kernel.levelling, run.totals.lev, run.grid
    project = job.project
    delay = stats.fixed_point_total(lt.delay[0], lt.delay[1])[node] / n_iter
    n_per = CASH_PERIODS
    resources = []
    for r, rid in enumerate(project.resources):
        res = project.resources[rid]
        top = float(lev.cap_top[r])
        use = lt.use[r * n_per:(r + 1) * n_per]
        resources.append(ResourceStats(
            id=rid, name=res.name, capacity=res.capacity, changes=res.changes,
            times=np.arange(n_per) * grid.cash_dt, period=grid.cash_dt,
            usage_hist=use, peak_hist=lt.peak[r], top=top,
            peak_max=float(lt.peak_max[r]), binding=float(lt.bind[r]) / n_iter))
    return LevellingStats(
        scheme="serial", priority=job.priority,
        finish_unlevelled=TimeStats(samples=run.rows.free, deterministic=float(job.det_free[3]),
                                    project=project),
        delayed=float(lt.late[0]) / n_iter, task_delay=delay, resources=resources)


def _risk_stats(project, compiled, unc, acc, n_iter) -> list[RiskStats]:
    out = []
    n_risk = len(compiled.risk_ids)
    scales = np.concatenate([unc.risk_scale, unc.drv_scale])
    sums = stats.fixed_point_total(acc.rstat[1], acc.rstat[2]) / scales
    for k, rid in enumerate(compiled.risk_ids + compiled.driver_ids):
        count = int(acc.rstat[0, k])
        if k < n_risk:
            risk = project.risks[rid]
            prob = float(unc.risk_p[k])
            unit = "%" if unc.risk_pct[k] > 0 else "time"
            name, kind = risk.name, "risk"
        else:
            driver = project.drivers[rid]
            prob, unit, name, kind = float(unc.drv_p[k - n_risk]), "factor", driver.name, "driver"
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
               risks: str = "pre", threads=None, chunk_size: int | None = None,
               backend="threads", scheduler=None, levelling=None,
               priority: str | None = None, progress=None) -> RiskRanking:
    """Rank risk events and drivers by what switching each one off gains (the tornado).

    Runs the model once with everything on and once per risk event or driver with
    only that one switched off (probability zero), all on the same random numbers
    (every draw is keyed by seed, iteration and variable, so switching one risk off
    changes no other draw); the differences are therefore almost free of Monte
    Carlo noise. Sorted by the shift of the ``percentile`` of the finish, largest first.
    When the project has costs, the same runs give each entry's shift of that
    percentile of the project cost and of the mean cost. Every run goes through
    ``backend`` (see :func:`simulate`), levelled with ``levelling`` and ``priority``
    as there; ``progress`` (``True`` or ``progress(done, total)``, see
    :func:`simulate`) counts the iterations of all the runs together.

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
    report = progress_bar(progress, "Ranking risks")
    job = _prepare(model, iterations, seed, risks, levelling, priority)
    project, compiled = job.project, job.compiled
    with _Backend(backend, threads, chunk_size, scheduler) as runner, report as callback:
        return _rank(job, project, compiled, q, risks, runner, callback)


def _rank(job, project, compiled, q, risks, runner, progress=None) -> RiskRanking:
    n_runs = 1 + len(compiled.risk_ids) + len(compiled.driver_ids)

    def rows_of(kernel, run):
        """Per-iteration rows of the ``run``-th run (0: everything on)."""
        report = None if progress is None else \
            (lambda done, total: progress(run * job.n_iter + done, n_runs * job.n_iter))
        return job.execute(runner, kernel, progress=report).rows

    def shifts(base, off):
        """Drop of the percentile and of the mean from ``base`` to ``off`` samples."""
        return (float(stats.percentile(base, q) - stats.percentile(off, q)),
                float(np.mean(base)) - float(np.mean(off)))

    base_kernel = compiled.kernel
    base_rows = rows_of(base_kernel, 0)
    base = base_rows.finish
    base_p, base_mean = stats.percentile(base, q), float(np.mean(base))
    costed = bool(base_kernel.cost_on)
    entries = []
    n_risk = len(compiled.risk_ids)
    for k, rid in enumerate(compiled.risk_ids + compiled.driver_ids):
        if k < n_risk:
            unc = base_kernel.uncertainty
            p = unc.risk_p.copy()
            p[k] = 0.0
            kernel = base_kernel._replace(uncertainty=unc._replace(risk_p=p))
            name, kind = project.risks[rid].name, "risk"
        else:
            unc = base_kernel.uncertainty
            p = unc.drv_p.copy()
            p[k - n_risk] = 0.0
            kernel = base_kernel._replace(uncertainty=unc._replace(drv_p=p))
            name, kind = project.drivers[rid].name, "driver"
        off = rows_of(kernel, k + 1)
        pct, mean = shifts(base, off.finish)
        cost_pct, cost_mean = shifts(base_rows.cost, off.cost) if costed else (None, None)
        entries.append(RankedRisk(
            id=rid, name=name, kind=kind, percentile_shift=pct, mean_shift=mean,
            cost_percentile_shift=cost_pct, cost_mean_shift=cost_mean))
    entries.sort(key=lambda e: (-e.percentile_shift, -e.mean_shift))
    return RiskRanking(
        percentile=q, iterations=job.n_iter, seed=job.seed, risk_mode=risks,
        baseline_percentile=base_p, baseline_mean=base_mean, entries=entries,
        baseline_cost_percentile=(float(stats.percentile(base_rows.cost, q)) if costed
                                  else None),
        baseline_cost_mean=float(np.mean(base_rows.cost)) if costed else None)


def warmup(kinds=None) -> list[tuple[str, float]]:
    """Compile (or load from numba's cache) the kernels for every kind of model.

    The kernels compile only the stages a model uses (risks and drivers, costs,
    working calendars), once per kind and machine, then load from the on-disk
    cache in a fraction of a second. This compiles each kind ahead of time (for
    a container image or a CI job, say) on tiny models. Returns ``(kind, seconds)``
    pairs.

    Parameters
    ----------
    kinds : iterable of str, optional
        Some of :data:`WARMUP_KINDS` (default: all).
    """
    import time

    out = []
    for kind in WARMUP_KINDS if kinds is None else kinds:
        if kind not in WARMUP_KINDS:
            raise SimulationError(f"warmup kind must be one of {', '.join(WARMUP_KINDS)}, "
                                  f"got {kind!r}")
        t0 = time.perf_counter()
        project = _warmup_model(kind)
        cpm(project)
        # reading a rank measure compiles the rank kernel (kernels.rank) too
        simulate(project, 64, seed=0, threads=1).sensitivity.cri_tau
        out.append((kind, time.perf_counter() - t0))
    return out


#: Model kinds :func:`warmup` compiles: the stage combinations the kernels specialise on.
WARMUP_KINDS = ("plain", "risks", "costs", "risks+costs", "calendars", "calendars+risks+costs",
                "levelled", "levelled+risks+costs")


def _warmup_model(kind: str) -> Project:
    import datetime as dt

    from .distributions import Triangular

    p = Project(f"warmup-{kind}")
    p.add_task("a", Triangular(1, 2, 4))
    p.add_task("b", Triangular(2, 3, 6))
    p.add_task("c", 1.0)
    p.add_link("a", "c")
    p.add_link("b", "c", "SS", 1.0)
    if "risks" in kind:
        p.add_risk("r", 0.3, ["a"], schedule_impact=Triangular(1, 2, 3))
    if "costs" in kind:
        p.graph.nodes["a"]["cost_rate"] = 100.0
    if "levelled" in kind:
        p.add_resource("crew", capacity=1)
        p.graph.nodes["a"]["resources"] = {"crew": 1}
        p.graph.nodes["b"]["resources"] = {"crew": 1}
        p.levelling = "serial"
    if "calendars" in kind:
        week = {"week": {d: [(8.0, 12.0), (13.0, 17.0)] for d in range(5)},
                "exceptions": {}, "hours_per_day": 8.0}
        every_day = {"week": {d: [(6.0, 18.0)] for d in range(7)}, "exceptions": {},
                     "hours_per_day": 12.0}
        p.meta.update(data_date=dt.datetime(2027, 1, 4, 8), axis_calendar="week",
                      calendars={"week": week, "every day": every_day})
        for task, cal in (("a", "week"), ("b", "every day"), ("c", "week")):
            p.graph.nodes[task]["calendar"] = cal
    return p


# -- convergence and comparison -------------------------------------------------------------

#: Iterations of the first run of :func:`simulate_to_precision` (a multiple of the super-block).
PRECISION_START = 2048
#: Default cap of :func:`simulate_to_precision`.
PRECISION_MAX_ITERATIONS = 1_000_000
#: Safety factor on the 1/sqrt(n) prediction of the iterations needed (a prediction from
#: one noisy width falls short about half the time without one).
PRECISION_MARGIN = 1.2


def _backend_kwargs(kwargs: dict) -> tuple[dict, dict]:
    """Split :func:`simulate` keyword arguments into the backend's and the rest."""
    backend = {"backend": kwargs.pop("backend", "threads"),
               "threads": kwargs.pop("threads", None),
               "chunk_size": kwargs.pop("chunk_size", None),
               "scheduler": kwargs.pop("scheduler", None)}
    if "iterations" in kwargs:
        raise SimulationError("iterations= is chosen by this function; give "
                              "start_iterations/max_iterations (simulate_to_precision) or "
                              "iterations as the third argument (compare)")
    return backend, kwargs


def _round_up(n: int, multiple: int) -> int:
    return -(-int(n) // multiple) * multiple


def simulate_to_precision(model, precision: float, *,
                          max_iterations: int = PRECISION_MAX_ITERATIONS,
                          start_iterations: int = PRECISION_START, percentile: float = 80,
                          level: float = stats.CI_LEVEL, seed=None, on_step=None,
                          **kwargs) -> PrecisionRun:
    """Simulate with as many iterations as it takes to know a finish percentile to
    within ``precision`` working days.

    ``precision`` is the **full width** of the ``level`` (95 %) confidence interval of
    the ``percentile`` (P80) of the finish (:meth:`SampleStats.percentile_ci`: a
    distribution-free interval with coverage at least ``level``): ``precision=1``
    asks for the P80 to within about +-0.5 working days.

    The runs are deterministic for a seed: the first has ``start_iterations``
    (rounded up to a multiple of 512), each next one
    ``n * (width / precision) ** 2 * 1.2`` (interval widths shrink as 1/sqrt(n);
    1.2 is a safety margin), rounded up to a multiple of 512, until the width is
    at most ``precision`` or a run had ``max_iterations``. So the counts tried depend
    only on the model, the seed and the settings, and the returned result is bit
    for bit ``simulate(model, n, seed=seed)`` for its ``n``. Every run starts from
    iteration 0 (that is what makes it reproducible with plain :func:`simulate`):
    the total cost is usually 1.1-1.5x that of the final run alone.

    Parameters
    ----------
    model : pmosim.Project or networkx.DiGraph
    precision : float
        Full width of the interval wanted, in working days (> 0).
    max_iterations : int
        Iterations of the largest run (default 1,000,000); when it is not precise
        enough the result says so (``reached`` is False), no error is raised.
    start_iterations : int
        Iterations of the first run (default 2,048).
    percentile : float
        The finish percentile to narrow (default 80).
    level : float
        Confidence level of the interval (default 0.95).
    seed : int, optional
        As in :func:`simulate`; None draws one seed once, used by every run.
    on_step : callable, optional
        Called as ``on_step(iterations, width)`` after each run.
    **kwargs
        Passed to :func:`simulate` (``risks``, ``threads``, ``backend``, ``progress``,
        ``levelling`` ...); a backend named by text is started once for all the runs.

    Returns
    -------
    pmosim.results.PrecisionRun
        ``.result`` is the final :class:`SimulationResult`.

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project()
    >>> p.add_task("a", pmosim.Triangular(10, 12, 20))
    >>> run = pmosim.simulate_to_precision(p, 0.1, seed=1)
    >>> run.reached, run.width <= 0.1, [n for n, _ in run.steps][0]
    (True, True, 2048)
    """
    try:
        wanted = float(precision)
    except (TypeError, ValueError):
        wanted = float("nan")
    if isinstance(precision, bool) or not np.isfinite(wanted) or wanted <= 0:
        raise SimulationError(f"precision must be a number of working days > 0 (the full width "
                              f"of the P{percentile:g} interval, e.g. 1.0), got {precision!r}")
    q = float(stats.check_q(percentile))
    try:
        level = stats.check_level(level)
    except ValueError as exc:
        raise SimulationError(str(exc)) from None
    max_iter = _check_int("max_iterations", max_iterations, 1, MAX_ITERATIONS)
    start = _check_int("start_iterations", start_iterations, 1, MAX_ITERATIONS)
    if start > max_iter:
        raise SimulationError(f"start_iterations ({start:,}) is more than max_iterations "
                              f"({max_iter:,}); raise max_iterations or start lower")
    from .layout import SUPER

    backend, rest = _backend_kwargs(dict(kwargs))
    seed_used = resolve_seed(seed)[0]
    n = min(_round_up(start, SUPER), max_iter)
    steps = []
    with _Backend(backend["backend"], backend["threads"], backend["chunk_size"],
                  backend["scheduler"]) as runner:
        while True:
            result = simulate(model, n, seed=seed_used, backend=runner, **rest)
            interval = result.finish.percentile_ci(q, level)
            width = float(interval[1] - interval[0])
            steps.append((n, width))
            if on_step is not None:
                on_step(n, width)
            if width <= wanted or n >= max_iter:
                break
            grown = stats.suggested_iterations(n, width, wanted, margin=PRECISION_MARGIN,
                                               multiple=SUPER)
            n = min(max(grown, n + 1), max_iter)
    return PrecisionRun(result=result, precision=wanted, percentile=q, level=level,
                        interval=tuple(interval), reached=width <= wanted,
                        max_iterations=max_iter, steps=tuple(steps))


def parse_modes(modes) -> tuple[str, ...]:
    """Risk registers to compare: ``"pre,post"`` or a sequence of ``"pre"``, ``"post"``,
    ``"none"``; at least two, no repeats, in the order given."""
    from .compile import RISK_MODES

    given = modes.split(",") if isinstance(modes, str) else list(modes)
    items = [str(m).strip().lower() for m in given]
    bad = [m for m in items if m not in RISK_MODES]
    if bad:
        raise SimulationError(f"compare modes must be among {', '.join(RISK_MODES)}, got "
                              f"{bad[0]!r} in {modes!r}; e.g. pre,post or pre,post,none")
    if len(set(items)) != len(items):
        twice = next(m for m in items if items.count(m) > 1)
        raise SimulationError(f"compare modes name {twice!r} twice in {modes!r}; give each "
                              "register once, e.g. pre,post")
    if len(items) < 2:
        raise SimulationError(f"compare needs at least two modes, got {modes!r}; e.g. pre,post "
                              "or pre,none")
    return tuple(items)


def compare(model, modes=("pre", "post"), iterations: int = 10_000, *, seed=None,
            target=None, budget: float | None = None, level: float = stats.CI_LEVEL,
            **kwargs) -> Comparison:
    """Run the risk registers ``modes`` on the same random numbers and compare them.

    Each mode is one :func:`simulate` run with the same ``iterations`` and seed, so
    each result is bit for bit ``simulate(model, iterations, seed=comparison.seed,
    risks=mode)`` and the differences (:meth:`Comparison.deltas`) are the effect of
    mitigation (``"post"``) or of the risk events themselves (``"none"``) alone:
    every task duration, cost, driver and risk draw is the same in iteration ``i``
    of every run.

    Parameters
    ----------
    model : pmosim.Project or networkx.DiGraph
        A project with risk events (otherwise every register gives the same run).
    modes : str or sequence of str
        ``"pre,post"``, ``("pre", "none")``, ``"pre,post,none"`` ...: at least two of
        ``"pre"``, ``"post"``, ``"none"``, each once; the first is the baseline.
    iterations : int
    seed : int, optional
        None draws one seed once, used by every run.
    target : float, str or datetime.date, optional
        Target finish (working days or a date) whose probability is compared.
    budget : float, optional
        Budget whose probability (and, with ``target``, the JCL) is compared.
    level : float
        Level of the confidence intervals in :meth:`Comparison.to_dict`.
    **kwargs
        Passed to :func:`simulate` (``threads``, ``backend``, ``progress``,
        ``levelling`` ...); a backend named by text is started once for all runs.

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project()
    >>> p.add_task("a", pmosim.Triangular(8, 10, 14))
    >>> p.add_risk("late", 0.4, ["a"], schedule_impact=5, mitigated={"probability": 0.1})
    >>> c = pmosim.compare(p, "pre,post", 4_000, seed=1)
    >>> c.deltas()["post"]["finish"]["P80"] < 0
    True
    """

    mode_list = parse_modes(modes)
    if "risks" in kwargs:
        raise SimulationError("risks= is set by modes= in compare(); give the registers there")
    try:
        level = stats.check_level(level)
    except ValueError as exc:
        raise SimulationError(str(exc)) from None
    project = as_project(model)
    if not project.risks:
        raise SimulationError(
            f"compare {','.join(mode_list)}: the project has no risk events, so every register "
            "gives the same run; add risks (Project.add_risk, [[risks]] in a scenario)")
    backend, rest = _backend_kwargs(dict(kwargs))
    seed_used = resolve_seed(seed)[0]
    if budget is not None:
        budget = float(budget)
        if not np.isfinite(budget):
            raise SimulationError(f"budget must be a finite amount, got {budget!r}")
    results = []
    with _Backend(backend["backend"], backend["threads"], backend["chunk_size"],
                  backend["scheduler"]) as runner:
        for mode in mode_list:
            results.append(simulate(project, iterations, seed=seed_used, risks=mode,
                                    backend=runner, **rest))
    if budget is not None and results[0].cost is None:
        raise SimulationError(f"budget {budget:g}: the project has no costs to compare with a "
                              "budget")
    target_time = None if target is None else results[0].finish.to_time(target)
    return Comparison(modes=mode_list, results=tuple(results), target=target_time,
                      budget=budget, level=level)

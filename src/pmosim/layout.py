"""The contract between the compiler and the kernels: numpy only, each code defined once.

:mod:`pmosim.compile` builds these structs from a :class:`~pmosim.model.Project`;
the kernels (:mod:`pmosim.kernels`) read them; the backends (:mod:`pmosim.backends`)
carry them to wherever a range of iterations runs. Every struct is a NamedTuple of
numpy arrays and scalars, so numba takes it as one argument and pickle ships it to
a Dask worker. They are grouped by stage:

=============== ==============================================================
:class:`Draws`   durations and random lags: distributions, variables, tables,
                 correlation groups
:class:`Links`   the network: predecessor links in CSR form, releases, actual
                 dates of completed tasks
:class:`Uncertainty`  risk events, drivers, existence (probabilistic tasks,
                 branches, conditions)
:class:`Costs`   fixed costs, cost rates, risk cost impacts, project cost rate
:class:`Calendars`  the wall-clock mode: working calendars per task and lag
:class:`Levelling`  renewable resources, demands and the priority list of the
                 levelled runs
:class:`Grid`    the statistics grid that the pilot iterations set: moment
                 shifts and scales, histogram ranges, the cash-flow grid
:class:`Span`    which iterations a call simulates, and the Philox key
:class:`Totals`  what a range of iterations yields: mergeable integer totals and
                 exact extremes
:class:`Rows`    per-iteration outputs of a range (finish, cost, kept samples)
=============== ==============================================================

Tasks are numbered by *position* in topological order. The predecessors of
position ``p`` are ``pred_idx[pred_ptr[p]:pred_ptr[p + 1]]`` with types
``pred_type`` (:data:`FS`, :data:`SS`, :data:`FF`, :data:`SF`); a link's lag in lane
``l`` is ``pred_lag[k] + lag[pred_lagrow[k], l]`` where row 0 of the kernels' work
array ``lag`` is all zeros (constant lags) and row ``1 + r`` holds sampled lag ``r``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# -- integer codes ------------------------------------------------------------------

#: Link types (``pred_type``), in the order of :data:`LINK_TYPES`.
FS, SS, FF, SF = 0, 1, 2, 3
LINK_TYPES = ("FS", "SS", "FF", "SF")
LINK_CODES = {t: i for i, t in enumerate(LINK_TYPES)}

#: Distribution codes (``*_code``); parameters are ``N_KERNEL_PARAMS`` floats per row
#: (see :meth:`pmosim.distributions.Distribution.kernel_params`).
FIXED, UNIFORM, TRIANGULAR, QTABLE, DISCRETE = range(5)
N_KERNEL_PARAMS = 5

#: Task kinds of the wall-clock mode (``Calendars.task_kind``).
KIND_TASK, KIND_FINISH_MILESTONE, KIND_CONNECTOR = 0, 1, 2
#: Working hours within which a moment counts as a period boundary (wall-clock mode).
WORK_EPS = 1e-6

#: Condition kinds of a conditional task (``Uncertainty.cond_kind``).
CONDITION_KINDS = {"finish_after": 0, "finish_before": 1, "start_after": 2, "start_before": 3}

#: Philox counter word 2: one stream per kind of random variable, so that adding a
#: feature never shifts the draws of another.
STREAM_DURATION = 0
STREAM_LAG = 1
STREAM_EXIST = 2
STREAM_BRANCH = 3
STREAM_RISK = 4
STREAM_RISK_IMPACT = 5
STREAM_DRIVER = 6
STREAM_DRIVER_FACTOR = 7
STREAM_COST_FIXED = 8
STREAM_COST_RATE = 9
STREAM_RISK_COST = 10
STREAM_PROJECT_COST = 11

#: Priority rules of resource levelling (``levelling="serial"``): the key that orders the
#: priority list, smallest first (see compile.priority_keys); ``plan`` is the list of the
#: shortest deterministic plan that kernels.improve.improve_plan finds.
PRIORITY_RULES = ("lft", "lst", "mslk", "mts", "grpw", "spt", "order", "priority", "plan")
#: Levelling schemes.
LEVELLING_SCHEMES = ("serial",)
#: The levelling priority of a task without one (MS Project's default).
DEFAULT_PRIORITY = 500.0
#: A demand fits when it is at most the free capacity plus this times the resource's
#: largest capacity (sums of fractional demands are not exact in binary).
CAPACITY_RTOL = 1e-9

# -- sizes ---------------------------------------------------------------------------

#: A task is critical in an iteration when its total float is <= this times max(1, finish).
CRITICAL_RTOL = 1e-9
#: Rows of the integer moment accumulator (:attr:`Totals.mom`).
N_MOMENT_ROWS = 8
#: Sums per task duration and per task cost in :class:`SensTotals`.
SENS_DUR_ROWS = 4
SENS_COST_ROWS = 3
#: Columns of a task's finish histogram: its bins plus under- and overflow. At most
#: 256, so that a column fits the uint8 buffer that defers the counting (see
#: kernels.accumulate.flush_lane_sums).
HIST_COLUMNS = 256
#: Points of the cash-flow time grid (after t = 0).
CASH_PERIODS = 100
#: Bins of a resource's usage histograms per period (levelled runs): 64 from 0 to
#: just above the largest capacity, so that the 100 periods x 66 columns of a
#: resource stay in cache (256 columns made counting them a quarter of the levelling
#: time on j120).
USE_BINS = 64
#: Iterations scheduled side by side by one thread (the inner, vectorised loops).
#: 16 is the smallest count for which LLVM vectorises the Philox and sampling loops
#: instead of unrolling them (measured: Philox 9 ns per lane at 16, 51 ns at 8); the
#: passes hold a row of LANES lanes as one vector value (see kernels._llvm.simd,
#: which assumes 16).
LANES = 16
#: Iterations whose durations are sampled together, task by task, before they are
#: scheduled LANES at a time: each inverse-CDF table is then read for SUPER draws
#: in a row while it is in cache, instead of 16 between all the other tables.
#: Measured (1,000 tasks, in-process A/B against 256): 512 is 1.09x (one thread) and
#: 1.10x (two threads) faster; 1,024 was no better on one thread. Ranges of
#: iterations always start at a multiple of SUPER (except the last one's end), so
#: each super-block holds the same iterations however a run is cut.
SUPER = 512


# -- structs, by stage -----------------------------------------------------------------

class Draws(NamedTuple):
    """Durations and random lags: what is sampled, from which tables."""

    dur_code: np.ndarray      # int64[n]       distribution code per position
    dur_par: np.ndarray       # float64[n, 5]  distribution parameters
    dur_var: np.ndarray       # int64[n]       random variable (row of the uniforms)
    n_dur_vars: int
    var_pos: np.ndarray       # int64[n]       position of each duration variable
    var_corr: np.ndarray      # int64[n]       1 when the variable is in a correlation group
    tables: np.ndarray        # float64[:]     quantile and discrete tables
    lag_code: np.ndarray      # int64[r]       random lags
    lag_par: np.ndarray       # float64[r, 5]
    lag_var: np.ndarray       # int64[r]
    n_lag_vars: int
    corr_ptr: np.ndarray      # int64[G + 1]   CSR of the members' duration variables
    corr_var: np.ndarray      # int64[:]
    corr_lptr: np.ndarray     # int64[G + 1]   offsets of each group's k x k Cholesky factor
    corr_l: np.ndarray        # float64[:]
    corr_pos: np.ndarray      # int64[:]       positions of corr_var (to record samples)
    normal_off: int           # offset of the standard normal quantile table (-1: none)


class Links(NamedTuple):
    """The network: predecessor links (CSR by successor position) and fixed dates."""

    pred_ptr: np.ndarray      # int64[n + 1]   CSR of predecessors
    pred_idx: np.ndarray      # int64[m]       predecessor position
    pred_type: np.ndarray     # int64[m]       FS, SS, FF, SF
    pred_lag: np.ndarray      # float64[m]     constant lag (0 for a sampled lag)
    pred_lagrow: np.ndarray   # int64[m]       row of the work lag array: 0 (all zeros) for a
                              #                constant lag, 1 + r for random lag r
    release: np.ndarray       # float64[n]     earliest start (start-no-earlier-than), default 0
    fixed_on: bool            # any task has fixed (actual) dates
    fixed_start: np.ndarray   # float64[n]     NaN, or the actual start of a completed task
    fixed_dur: np.ndarray     # float64[n]     its actual duration (finish - start)


class Uncertainty(NamedTuple):
    """Risk events, drivers and existence (probabilistic tasks, branches, conditions)."""

    exist_on: bool            # any existence rule below is used
    ex_p: np.ndarray          # float64[n]     existence probability
    ex_var: np.ndarray        # int64[n]       -1, or the row of its existence uniform
    n_ex_vars: int
    br_of: np.ndarray         # int64[n]       -1, or the branch the task is in
    br_opt: np.ndarray        # int64[n]       its option in that branch
    br_ptr: np.ndarray        # int64[B + 1]   CSR of the branches' cumulative probabilities
    br_cum: np.ndarray        # float64[:]
    cond_task: np.ndarray     # int64[n]       -1, or the position the condition is on
    cond_kind: np.ndarray     # int64[n]       CONDITION_KINDS
    cond_value: np.ndarray    # float64[n]
    risk_p: np.ndarray        # float64[R]     probability
    risk_code: np.ndarray     # int64[R]       schedule impact distribution
    risk_par: np.ndarray      # float64[R, 5]
    risk_pct: np.ndarray      # float64[R]     1: impact in percent of the sampled duration
    risk_var: np.ndarray      # int64[R]       row of its uniforms
    risk_scale: np.ndarray    # float64[R]     power of two for the exact impact sums
    task_risk_ptr: np.ndarray  # int64[n + 1]  CSR: the risks on each task
    task_risk_idx: np.ndarray  # int64[:]
    drv_p: np.ndarray         # float64[D]
    drv_code: np.ndarray      # int64[D]       factor distribution
    drv_par: np.ndarray       # float64[D, 5]
    drv_scale: np.ndarray     # float64[D]     power of two for the exact factor sums
    task_drv_ptr: np.ndarray  # int64[n + 1]   CSR: the drivers on each task
    task_drv_idx: np.ndarray  # int64[:]

    @property
    def used(self) -> bool:
        """Whether the kernels have anything of this struct to draw or apply."""
        return bool(self.exist_on or self.risk_p.shape[0] or self.drv_p.shape[0])


class Costs(NamedTuple):
    """Fixed costs, cost rates, risk cost impacts and the project cost rate."""

    cfix_code: np.ndarray     # int64[C1]      fixed costs (rows in node order of their tasks)
    cfix_par: np.ndarray      # float64[C1, 5]
    crate_code: np.ndarray    # int64[C2]      cost rates (rows in node order of their tasks)
    crate_par: np.ndarray     # float64[C2, 5]
    rcost_code: np.ndarray    # int64[R]       risk cost impact (Fixed 0 when none)
    rcost_par: np.ndarray     # float64[R, 5]
    cost_pos: np.ndarray      # int64[CT]      positions of the tasks with any cost, ascending
    cost_fix: np.ndarray      # int64[CT]      their fixed-cost row, or -1
    cost_rate: np.ndarray     # int64[CT]      their cost-rate row, or -1
    cost_risk_ptr: np.ndarray  # int64[CT + 1]  CSR: the risks with a cost impact on each,
    cost_risk_idx: np.ndarray  # int64[:]        ascending,
    cost_risk_share: np.ndarray  # float64[:]    and this task's share (1 / the risk's tasks)
    pcost_code: np.ndarray    # int64[0 or 1]  project cost rate
    pcost_par: np.ndarray     # float64[0 or 1, 5]


class Calendars(NamedTuple):
    """Working calendars of the wall-clock mode (times in elapsed hours from the data
    date; see kernels.worktime for the table layout)."""

    task_cal: np.ndarray      # int64[n]       calendar of each task
    lag_cal: np.ndarray       # int64[m]       calendar of each link's lag
    axis_cal: int             # the calendar whose working days results are reported in
    cal_hpd: np.ndarray       # float64[C]     hours per working day of each calendar
    cal_flat: np.ndarray      # float64[:]     every calendar's working intervals (elapsed
                              #                hours from the data date, working hours
                              #                done at their ends), the weekly pattern
                              #                that continues them, and search buckets:
                              #                the one array the kernels read (layout in
                              #                kernels.worktime, compile.pack_calendars)
    lo_start: np.ndarray      # float64[n]     start bound (data date, constraint, resume)
    lo_finish: np.ndarray     # float64[n]     finish bound (finish constraint) or -inf
    hi_start: np.ndarray      # float64[n]     late start bound (SNLT, SO, MSO) or +inf
    hi_finish: np.ndarray     # float64[n]     late finish bound (FNLT, FO, MFO, deadline)
                              #                or +inf
    hi_fixed: np.ndarray      # bool[n]        the bound is mandatory (MSO, MFO): it sets
                              #                the late date whatever the successors allow
    task_kind: np.ndarray     # int64[n]       KIND_TASK, KIND_FINISH_MILESTONE, KIND_CONNECTOR
    el_scale: np.ndarray      # float64[n]     NaN, or elapsed hours per unit of duration
    fix_es: np.ndarray        # float64[n]     NaN, or the actual start of a completed task
    fix_ef: np.ndarray        # float64[n]     and its actual finish
    rep_start: np.ndarray     # float64[n]     NaN, or the reported start of a started task
    alap_pos: np.ndarray      # int64[:]       as-late-as-possible tasks, last position first
    lag_el: np.ndarray        # float64[m]     NaN, or elapsed hours per unit of an elapsed lag
    link_base: np.ndarray     # float64[m]     NaN, or the time an SS/SF lag counts from
    succ_ptr: np.ndarray      # int64[n + 1]   CSR of successor links (indices into pred_*)
    succ_link: np.ndarray     # int64[:]


class Levelling(NamedTuple):
    """Renewable resources and the serial schedule generation scheme's inputs.

    The initial resource profile is a step function: interval ``i`` runs from
    ``cap_t[i]`` (``cap_t[0] = -inf``) to ``cap_t[i + 1]`` (the last to +inf) with
    ``cap_free[i, r]`` units of resource ``r`` free. Demands are CSR by position.
    """

    order: np.ndarray         # int64[n]       positions in priority-list order
                              #                (precedence-feasible)
    rank: np.ndarray          # int64[n]       list index of each position
    dem_ptr: np.ndarray       # int64[n + 1]   CSR of each position's demands
    dem_res: np.ndarray       # int64[K]       resource
    dem_amt: np.ndarray       # float64[K]     units
    dem_need: np.ndarray      # float64[K]     units less the resource's cap_eps: the demand
                              #                fits where free >= dem_need
    use_ptr: np.ndarray       # int64[R + 1]   CSR of each resource's users
    use_pos: np.ndarray       # int64[:]       positions, ascending
    cap_t: np.ndarray         # float64[S]     initial profile breakpoints
    cap_free: np.ndarray      # float64[S, R]  capacity in each initial interval
    cap_eps: np.ndarray       # float64[R]     CAPACITY_RTOL * largest capacity
    cap_top: np.ndarray       # float64[R]     top of the usage histograms (> 0)
    cap_final: np.ndarray     # float64[R]     the capacity that holds for ever


class Grid(NamedTuple):
    """The statistics grid: set from the pilot iterations, read by the accumulators.

    Moments are summed as exact fixed-point integers of ``(x - shift) * mom_scale``;
    finish histograms have HIST_COLUMNS - 2 bins from ``hist_lo`` at ``hist_scale``
    bins per time unit; the cash flow is sampled every ``cash_dt`` time units and
    its histograms start at ``cash_lo`` with ``cash_scale`` bins per currency unit.
    """

    start_shift: np.ndarray   # float64[n]     subtracted before summing moments
    finish_shift: np.ndarray  # float64[n]
    mom_scale: np.ndarray     # float64[n]     power of two applied before summing moments
    hist_lo: np.ndarray       # float64[n]     finish histogram: lower edge
    hist_scale: np.ndarray    # float64[n]     finish histogram: bins per time unit
    start_lo: np.ndarray      # float64[n]     start histogram: lower edge
    start_scale: np.ndarray   # float64[n]     start histogram: bins per time unit
    cash_dt: float            # cash-flow period length (time units)
    cash_lo: float            # cash-flow histograms: lower edge of bin 1
    cash_scale: float         # cash-flow histograms: bins per currency unit
    sens: "SensGrid"          # shifts and scales of the sensitivity sums


class SensGrid(NamedTuple):
    """Shifts and scales of the sensitivity sums (:class:`SensTotals`): each duration,
    task cost, the project finish and the project cost enter them as ``(x - shift) *
    scale``, scales powers of two that bring the values to about 1."""

    dur_shift: np.ndarray     # float64[n]     planned duration
    dur_scale: np.ndarray     # float64[n]
    pf_shift: float           # deterministic project finish
    pf_scale: float
    cost_shift: np.ndarray    # float64[C]     planned cost of each costed task
    cost_scale: float
    pc_shift: float           # planned project cost
    pc_scale: float
    key: np.ndarray           # uint64[n]      random keys: an iteration's critical set
                              #                hashes to the sum of its tasks' keys


class Span(NamedTuple):
    """Which iterations one kernel call simulates, and with which key.

    Iterations ``it_start .. it_start + n_iter - 1`` are cut into chunks of ``chunk``
    (a multiple of SUPER); the call takes chunks ``slot, slot + n_slots, ...``, so
    ``n_slots`` calls with slots ``0 .. n_slots - 1`` cover the span between them.
    """

    k0: np.uint64             # Philox key, from the seed (engine.resolve_seed)
    k1: np.uint64
    it_start: np.int64        # first iteration (a multiple of SUPER)
    n_iter: np.int64
    chunk: np.int64
    slot: np.int64
    n_slots: np.int64


class Totals(NamedTuple):
    """What a range of iterations yields: integer totals and exact extremes.

    Totals of disjoint ranges merge by :func:`merge_totals` (sums of integers, min and
    max of floats), so a run's totals are the same bits however it was cut.
    """

    crit: np.ndarray          # int64[n]                    iterations critical
    mom: np.ndarray           # int64[N_MOMENT_ROWS, n]     exact sums of the start/finish
                              #                             moment terms, as an integer part
                              #                             and a count of 2**-32 units
    hist: np.ndarray          # int64[n, n_bins + 2]        finish histograms
    tmin: np.ndarray          # float64[n]                  least finish
    tmax: np.ndarray          # float64[n]                  greatest finish
    rstat: np.ndarray         # int64[3, R + D]             risk and driver occurrences and
                              #                             exact impact (factor) sums
    cash_hist: np.ndarray     # int64[P, n_bins + 2]        cumulative spend histograms
                              #                             (P = CASH_PERIODS + 1 with costs,
                              #                             else 0)
    cash_min: np.ndarray      # float64[P]
    cash_max: np.ndarray      # float64[P]
    shist: np.ndarray         # int64[n, n_bins + 2]        start histograms
    smin: np.ndarray          # float64[n]                  least start
    smax: np.ndarray          # float64[n]                  greatest start
    lev: "LevTotals"          # levelling totals (all sizes 0 without levelling)
    sens: "SensTotals"        # sensitivity sums (all sizes 0 without sensitivity)


class SensTotals(NamedTuple):
    """Exact sums of the streamed sensitivity measures (see kernels.sensitivity): each
    sum an integer part (even row) and a count of 2**-32 units (the odd row after it),
    of scaled deviations x' = (x - shift) * scale (:class:`SensGrid`)."""

    dur: np.ndarray           # int64[2 * SENS_DUR_ROWS, n] sums of d', d'^2, d' T' and of
                              #                          the significance term
                              #                          d / (d + TF) * T * pf_scale
    cost: np.ndarray          # int64[2 * SENS_COST_ROWS, C] sums of c', c'^2, c' K'
                              #                          (K the project cost)


class LevTotals(NamedTuple):
    """What levelled iterations add: delays, resource usage, binding resources."""

    delay: np.ndarray         # int64[2, n]             exact sums of each task's finish
                              #                         delay by levelling (integer part,
                              #                         2**-32 units)
    late: np.ndarray          # int64[1]                iterations whose finish levelling
                              #                         delayed
    use: np.ndarray           # int64[R * P, USE_BINS + 2] usage of resource r in period
                              #                         k (row r * P + k): histograms over
                              #                         0 .. cap_top[r]
    peak: np.ndarray          # int64[R, n_bins + 2]    peak usage histograms
    peak_max: np.ndarray      # float64[R]              greatest peak usage
    bind: np.ndarray          # int64[R]                iterations in which the resource
                              #                         delayed a task on the driving path


class Rows(NamedTuple):
    """Per-iteration outputs of a span, row 0 being iteration ``Span.it_start``."""

    finish: np.ndarray        # float64[k]           project finish
    cost: np.ndarray          # float64[k or 0]      project cost (with costs)
    dur: np.ndarray           # float64[k, n] or [0, 0]: kept samples (keep_samples)
    es: np.ndarray            # float64[k, n] or [0, 0]
    ef: np.ndarray            # float64[k, n] or [0, 0]
    corr: np.ndarray          # float64[c, G]        durations of the correlated tasks in the
                              #                      first c iterations of the span
    free: np.ndarray          # float64[k or 0]      project finish without levelling (in
                              #                      levelled runs)
    path: np.ndarray          # uint64[k or 0]       hash of the critical set (with
                              #                      sensitivity: the sum of its tasks' keys)
    sdur: np.ndarray          # float64[s, n]        durations of the first s iterations of
                              #                      the span (the sensitivity sample)
    scost: np.ndarray         # float64[s, C]        their task costs (costed tasks)
    scrit: np.ndarray         # uint8[s, n]          their critical flags


def new_totals(n_tasks: int, n_bins: int, n_rstat: int, cost_on: bool,
               n_res: int = -1, n_sens_cost: int = -1) -> Totals:
    """Empty totals: zeros, and +/-inf extremes. ``n_res`` is the number of resources
    of a levelled run, -1 without levelling; ``n_sens_cost`` the number of costed tasks
    of a run with sensitivity, -1 without."""
    periods = CASH_PERIODS + 1 if cost_on else 0
    lev_n = n_tasks if n_res >= 0 else 0
    n_res = max(n_res, 0)
    sens_n = n_tasks if n_sens_cost >= 0 else 0
    return Totals(
        crit=np.zeros(n_tasks, dtype=np.int64),
        mom=np.zeros((N_MOMENT_ROWS, n_tasks), dtype=np.int64),
        hist=np.zeros((n_tasks, n_bins + 2), dtype=np.int64),
        tmin=np.full(n_tasks, np.inf), tmax=np.full(n_tasks, -np.inf),
        rstat=np.zeros((3, n_rstat), dtype=np.int64),
        cash_hist=np.zeros((periods, n_bins + 2), dtype=np.int64),
        cash_min=np.full(periods, np.inf), cash_max=np.full(periods, -np.inf),
        shist=np.zeros((n_tasks, n_bins + 2), dtype=np.int64),
        smin=np.full(n_tasks, np.inf), smax=np.full(n_tasks, -np.inf),
        lev=LevTotals(
            delay=np.zeros((2, lev_n), dtype=np.int64), late=np.zeros(1, dtype=np.int64),
            use=np.zeros((n_res * CASH_PERIODS, USE_BINS + 2), dtype=np.int64),
            peak=np.zeros((n_res, n_bins + 2), dtype=np.int64),
            peak_max=np.full(n_res, -np.inf), bind=np.zeros(n_res, dtype=np.int64)),
        sens=SensTotals(
            dur=np.zeros((2 * SENS_DUR_ROWS, sens_n), dtype=np.int64),
            cost=np.zeros((2 * SENS_COST_ROWS, max(n_sens_cost, 0)), dtype=np.int64)))


def copy_totals(totals: Totals) -> Totals:
    """A copy of ``totals`` with new arrays."""
    return totals._replace(
        **{k: v.copy() for k, v in totals._asdict().items() if k not in ("lev", "sens")},
        lev=LevTotals(*(x.copy() for x in totals.lev)),
        sens=SensTotals(*(x.copy() for x in totals.sens)))


def merge_totals(into: Totals, other: Totals) -> None:
    """Add ``other`` into ``into`` in place (integer sums, float extremes): the result
    does not depend on the order in which totals are merged."""
    from .stats import normalise_fixed_point

    np.add(into.crit, other.crit, out=into.crit)
    np.add(into.mom, other.mom, out=into.mom)
    for row in range(0, N_MOMENT_ROWS, 2):
        normalise_fixed_point(into.mom[row], into.mom[row + 1])
    np.add(into.hist, other.hist, out=into.hist)
    np.minimum(into.tmin, other.tmin, out=into.tmin)
    np.maximum(into.tmax, other.tmax, out=into.tmax)
    np.add(into.rstat, other.rstat, out=into.rstat)
    normalise_fixed_point(into.rstat[1], into.rstat[2])
    np.add(into.cash_hist, other.cash_hist, out=into.cash_hist)
    np.minimum(into.cash_min, other.cash_min, out=into.cash_min)
    np.maximum(into.cash_max, other.cash_max, out=into.cash_max)
    np.add(into.shist, other.shist, out=into.shist)
    np.minimum(into.smin, other.smin, out=into.smin)
    np.maximum(into.smax, other.smax, out=into.smax)
    for acc, more in ((into.sens.dur, other.sens.dur), (into.sens.cost, other.sens.cost)):
        np.add(acc, more, out=acc)
        for row in range(0, acc.shape[0], 2):
            normalise_fixed_point(acc[row], acc[row + 1])
    a, b = into.lev, other.lev
    np.add(a.delay, b.delay, out=a.delay)
    normalise_fixed_point(a.delay[0], a.delay[1])
    for name in ("late", "use", "peak", "bind"):
        np.add(getattr(a, name), getattr(b, name), out=getattr(a, name))
    np.maximum(a.peak_max, b.peak_max, out=a.peak_max)


def new_rows(n_iter: int, n_tasks: int, cost_on: bool, keep: bool, n_corr_rows: int,
             n_corr: int, levelled: bool = False, n_sample_rows: int = 0,
             n_costed: int = -1) -> Rows:
    """Output rows for ``n_iter`` iterations. ``n_costed`` is the number of costed tasks
    of a run with sensitivity (-1 without), whose first ``n_sample_rows`` iterations
    keep their durations, task costs and critical flags."""
    kept = (n_iter, n_tasks) if keep else (0, 0)
    sens = n_costed >= 0
    s = n_sample_rows if sens else 0
    return Rows(finish=np.empty(n_iter), cost=np.zeros(n_iter if cost_on else 0),
                dur=np.empty(kept), es=np.empty(kept), ef=np.empty(kept),
                corr=np.zeros((n_corr_rows, n_corr)),
                free=np.empty(n_iter if levelled else 0),
                path=np.zeros(n_iter if sens else 0, dtype=np.uint64),
                sdur=np.zeros((s, n_tasks if sens else 0)),
                scost=np.zeros((s, max(n_costed, 0))),
                scrit=np.zeros((s, n_tasks if sens else 0), dtype=np.uint8))


def rows_slice(rows: Rows, a: int, b: int) -> Rows:
    """The rows of iterations ``a .. b - 1`` of ``rows`` (views)."""
    keep = rows.dur.shape[0] > 0
    return Rows(finish=rows.finish[a:b], cost=rows.cost[a:b] if rows.cost.shape[0] else rows.cost,
                dur=rows.dur[a:b] if keep else rows.dur, es=rows.es[a:b] if keep else rows.es,
                ef=rows.ef[a:b] if keep else rows.ef, corr=rows.corr[a:b],
                free=rows.free[a:b] if rows.free.shape[0] else rows.free,
                path=rows.path[a:b] if rows.path.shape[0] else rows.path,
                sdur=rows.sdur[a:b], scost=rows.scost[a:b], scrit=rows.scrit[a:b])


class KernelModel(NamedTuple):
    """A compiled project as the kernels take it: one struct per stage.

    ``uncertainty``, ``costs`` and ``calendars`` are always present (empty arrays when
    unused); :meth:`stages` passes ``None`` for the unused ones, so that numba
    compiles only the stages a model uses.
    """

    draws: Draws
    links: Links
    uncertainty: Uncertainty
    costs: Costs
    calendars: Calendars
    cost_on: bool
    cal_on: bool
    levelling: Levelling | None = None

    @property
    def n_tasks(self) -> int:
        return int(self.draws.dur_code.shape[0])

    @property
    def n_rstat(self) -> int:
        return int(self.uncertainty.risk_p.shape[0] + self.uncertainty.drv_p.shape[0])

    @property
    def n_res(self) -> int:
        """Resources of a levelled model; -1 when the model is not levelled."""
        return -1 if self.levelling is None else int(self.levelling.cap_final.shape[0])

    def stages(self) -> tuple:
        """``(draws, links, uncertainty or None, costs or None, calendars or None,
        levelling or None)``."""
        return (self.draws, self.links, self.uncertainty if self.uncertainty.used else None,
                self.costs if self.cost_on else None, self.calendars if self.cal_on else None,
                self.levelling)


def identity_grid(n_tasks: int) -> Grid:
    """The grid of the pilot iterations and of the deterministic passes (no shifts,
    unit scales)."""
    return Grid(start_shift=np.zeros(n_tasks), finish_shift=np.zeros(n_tasks),
                mom_scale=np.ones(n_tasks), hist_lo=np.zeros(n_tasks),
                hist_scale=np.ones(n_tasks), start_lo=np.zeros(n_tasks),
                start_scale=np.ones(n_tasks), cash_dt=1.0, cash_lo=0.0, cash_scale=1.0,
                sens=identity_sens_grid(n_tasks, 0))


def identity_sens_grid(n_tasks: int, n_costed: int) -> SensGrid:
    """Sensitivity shifts 0 and scales 1 (and keys 0: no path hashes)."""
    return SensGrid(dur_shift=np.zeros(n_tasks), dur_scale=np.ones(n_tasks), pf_shift=0.0,
                    pf_scale=1.0, cost_shift=np.zeros(n_costed), cost_scale=1.0,
                    pc_shift=0.0, pc_scale=1.0, key=np.zeros(n_tasks, dtype=np.uint64))

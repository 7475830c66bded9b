"""Result objects: frozen dataclasses of arrays plus metadata, with ``to_dict()``."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import stats
from .errors import ModelError
from ._version import __version__


def _jsonable_id(task_id) -> str:
    """Task ids are written as text in JSON, whatever their Python type."""
    return str(task_id)


@dataclass(frozen=True)
class SampleStats:
    """Statistics of one simulated quantity (e.g. the project finish) over all iterations.

    Attributes
    ----------
    samples : float64[iterations]
        The value in every iteration, in iteration order.
    deterministic : float
        The value of the deterministic (CPM) plan.
    """

    samples: np.ndarray
    deterministic: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples))

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof=1; 0 for a single iteration)."""
        n = self.samples.shape[0]
        return float(np.std(self.samples, ddof=1)) if n > 1 else 0.0

    @property
    def min(self) -> float:
        return float(np.min(self.samples))

    @property
    def max(self) -> float:
        return float(np.max(self.samples))

    def percentile(self, q):
        """Percentile(s) ``q`` in 0..100 (linear interpolation between order statistics)."""
        return stats.percentile(self.samples, q)

    def probability_le(self, x) -> float:
        """Probability that the value is ``<= x`` (e.g. of meeting a target finish)."""
        return stats.probability_le(self.samples, x)

    def percentiles(self, qs=stats.REPORT_PERCENTILES) -> dict[str, float]:
        """``{"P1": ..., "P5": ..., ...}`` for the given percentiles."""
        values = np.atleast_1d(self.percentile(list(qs)))
        return {stats.percentile_key(q): float(v) for q, v in zip(qs, values)}

    def percentile_ci(self, q, level: float = stats.CI_LEVEL):
        """Confidence interval ``(lo, hi)`` of percentile(s) ``q`` at ``level``: how far the
        true percentile may be from the one these iterations give (Monte Carlo sampling
        error). Distribution-free order-statistic interval with coverage of at least
        ``level`` (:func:`pmosim.stats.quantile_ci`); an end is infinite when there are
        too few iterations to bound it. Floats for a scalar ``q``, arrays for a list."""
        return stats.quantile_ci(self.samples, q, level)

    def probability_ci(self, x, level: float = stats.CI_LEVEL) -> tuple[float, float]:
        """Confidence interval ``(lo, hi)`` of :meth:`probability_le` at ``level``
        (Clopper-Pearson, :func:`pmosim.stats.proportion_ci`)."""
        return self._count_ci(float(x), level)

    def _count_ci(self, x: float, level) -> tuple[float, float]:
        k = int(np.count_nonzero(self.samples <= x))
        return stats.proportion_ci(k, self.samples.shape[0], level)

    def percentile_cis(self, qs=stats.REPORT_PERCENTILES,
                       level: float = stats.CI_LEVEL) -> dict[str, list]:
        """``{"P1": [lo, hi], ...}``: :meth:`percentile_ci` of each of ``qs``, with None
        for an unbounded end (JSON-ready)."""
        lo, hi = self.percentile_ci(list(qs), level)
        return {stats.percentile_key(q): [_finite_or_none(a), _finite_or_none(b)]
                for q, a, b in zip(qs, lo, hi)}

    def to_dict(self) -> dict[str, Any]:
        return {"deterministic": float(self.deterministic), "mean": self.mean, "std": self.std,
                "percentiles": self.percentiles(), "percentile_ci": self.percentile_cis(),
                "ci_level": stats.CI_LEVEL}


def _finite_or_none(x):
    return float(x) if np.isfinite(x) else None


def _start_and_calendar(project):
    """``(start date, calendar)`` of ``project``, for results in dates."""
    start = getattr(project, "start", None)
    if start is None:
        raise ModelError("the project has no start date, so its results are working days "
                         "only; set a start (Project(start=...) or [project] start) to use "
                         "dates")
    from .calendar import WorkCalendar
    return start, getattr(project, "calendar", None) or WorkCalendar()


@dataclass(frozen=True)
class TimeStats(SampleStats):
    """:class:`SampleStats` of a time (working days from the start) that also speaks in
    dates when the project has a start date: ``date(80)``, ``deterministic_date``, and
    ``probability_le("2027-08-31")`` (a date counts to the end of that day)."""

    project: Any = field(default=None, repr=False, compare=False)

    def _calendar(self):
        return _start_and_calendar(self.project)

    def to_time(self, x) -> float:
        """``x`` as working days: a number as it is, a date (or ISO text) as the end of
        that working day."""
        if isinstance(x, (str, _dt.date, np.datetime64)):
            start, calendar = self._calendar()
            return float(calendar.working_time(start, x, at="end"))
        return float(x)

    def date(self, q):
        """The date of percentile ``q`` (finish rule: the working day the time ends on)."""
        start, calendar = self._calendar()
        return calendar.finish_dates(start, max(float(self.percentile(q)), 0.0))

    @property
    def deterministic_date(self):
        start, calendar = self._calendar()
        return calendar.finish_dates(start, max(float(self.deterministic), 0.0))

    def probability_le(self, x) -> float:
        """Probability that the time is ``<= x`` (working days, or a date: by its end)."""
        return stats.probability_le(self.samples, self.to_time(x))

    def probability_ci(self, x, level: float = stats.CI_LEVEL) -> tuple[float, float]:
        """Confidence interval of :meth:`probability_le` (``x`` in working days or a date)."""
        return self._count_ci(self.to_time(x), level)

    def date_ci(self, q, level: float = stats.CI_LEVEL):
        """:meth:`percentile_ci` of a scalar ``q`` as dates (finish rule); None for an
        unbounded end."""
        start, calendar = self._calendar()
        return tuple(None if not np.isfinite(t) else calendar.finish_dates(start, max(t, 0.0))
                     for t in self.percentile_ci(float(q), level))


@dataclass(frozen=True)
class TaskStats:
    """Per-task statistics, every array in the graph's node order (``ids``).

    Start/finish means and standard deviations are the same bits on any thread count,
    chunking or backend (per-super-block float sums of scaled deviations from the
    deterministic dates, added as fixed-point integers); they are accurate to about
    1e-12 of the task's spread of values (measured at magnitudes 1 to 1e12 days against
    exactly rounded sums of the kept samples; every model value is within +-1e15, see
    ``distributions.MAX_MAGNITUDE``), and a constant is exact;
    start and finish percentiles are estimates from a 254-bin streaming histogram per
    task whose range comes from the first iterations (values outside it land in two
    open-ended bins bounded by the exact minimum and maximum).

    Times are working days from the project start (time 0); ``start_dates(q)`` and
    ``finish_dates(q)`` give them as dates when the project has a start date (on the
    project calendar; for an imported schedule with calendars per task, on its axis
    calendar, on which the run measures time). A milestone's start shows on its
    finish date, as MS Project shows it.
    """

    ids: list
    names: list
    criticality: np.ndarray
    start_mean: np.ndarray
    start_std: np.ndarray
    finish_mean: np.ndarray
    finish_std: np.ndarray
    finish_min: np.ndarray
    finish_max: np.ndarray
    finish_hist: np.ndarray = field(repr=False)
    hist_lo: np.ndarray = field(repr=False)
    hist_scale: np.ndarray = field(repr=False)
    start_min: np.ndarray = field(default=None, repr=False)
    start_max: np.ndarray = field(default=None, repr=False)
    start_hist: np.ndarray = field(default=None, repr=False)
    start_lo: np.ndarray = field(default=None, repr=False)
    start_scale: np.ndarray = field(default=None, repr=False)
    deterministic_start: np.ndarray = field(default=None, repr=False)
    deterministic_finish: np.ndarray = field(default=None, repr=False)
    kinds: list = field(default=None, repr=False)
    project: Any = field(default=None, repr=False, compare=False)

    def finish_percentile(self, q) -> np.ndarray:
        """Estimated finish percentile(s) of every task: float64[n] or [n, len(q)]."""
        return stats.histogram_quantiles(self.finish_hist, self.hist_lo, self.hist_scale,
                                         self.finish_min, self.finish_max, q)

    def start_percentile(self, q) -> np.ndarray:
        """Estimated start percentile(s) of every task: float64[n] or [n, len(q)]."""
        return stats.histogram_quantiles(self.start_hist, self.start_lo, self.start_scale,
                                         self.start_min, self.start_max, q)

    def _calendar(self):
        return _start_and_calendar(self.project)

    def _dates(self, starts, finishes, which: str):
        start, calendar = self._calendar()
        s_dates, f_dates = calendar.task_dates(start, starts, finishes)
        out = s_dates if which == "start" else f_dates
        return [d.item() for d in np.asarray(out, dtype="datetime64[D]").reshape(-1)]

    def start_dates(self, q) -> list:
        """Dates (``datetime.date``) of every task's start percentile ``q`` (a scalar);
        negative times (actual dates before a data date) count back from the start."""
        s = self.start_percentile(float(q))
        f = self.finish_percentile(float(q))
        # a milestone (no duration in the plan) shows its start on its finish date
        ms = np.asarray([k == "milestone" for k in self.kinds])
        return self._dates(s, np.where(ms, s, np.maximum(f, s + 1.0)), "start")

    def finish_dates(self, q) -> list:
        """Dates (``datetime.date``) of every task's finish percentile ``q`` (a scalar)."""
        f = self.finish_percentile(float(q))
        return self._dates(f, f, "finish")

    def deterministic_start_dates(self) -> list:
        """Dates of the deterministic (CPM) starts."""
        return self._dates(self.deterministic_start, self.deterministic_finish, "start")

    def deterministic_finish_dates(self) -> list:
        """Dates of the deterministic (CPM) finishes."""
        return self._dates(self.deterministic_finish, self.deterministic_finish, "finish")

    def __len__(self):
        return len(self.ids)

    def __repr__(self) -> str:
        # short: the dataclass repr printed every array (megabytes on a real schedule)
        return (f"TaskStats({len(self.ids):,} tasks: criticality, start and finish means, "
                "spreads and percentiles; .to_frame() for a table)")

    def _repr_html_(self) -> str:
        return _task_stats_html(self)

    def to_frame(self, percentiles=(10, 50, 80, 90), *, connectors: bool = False):
        """The task statistics as a pandas DataFrame indexed by task id.

        Columns: ``name``, ``kind``, ``criticality`` (fraction), ``start_mean``,
        ``start_std``, ``finish_mean``, ``finish_std``, ``deterministic_start``,
        ``start_P10`` ... for each of ``percentiles``, ``deterministic_finish``,
        ``finish_P10`` ... (working days from the start); with a project start date
        also ``deterministic_start_date``, ``start_P10_date`` ...,
        ``deterministic_finish_date``, ``finish_P10_date`` ... (datetime64 columns,
        see :meth:`start_dates`). The names match the task CSV's columns.

        Parameters
        ----------
        percentiles : sequence of float
            Start and finish percentiles (0..100).
        connectors : bool
            Include the zero-duration connector tasks importers add for the links of
            WBS summary tasks (``kind == "connector"``); left out by default.

        Raises
        ------
        pmosim.errors.MissingDependencyError
            pandas is not installed (``pip install 'pmosim[frame]'``).

        Examples
        --------
        >>> import pmosim
        >>> p = pmosim.Project("demo", start="2027-03-01")
        >>> p.add_task("a", pmosim.Triangular(2, 3, 6))
        >>> p.add_task("b", 4)
        >>> p.add_link("a", "b")
        >>> df = pmosim.simulate(p, 500, seed=1).tasks.to_frame()
        >>> df.loc["b", ["criticality", "deterministic_finish"]].tolist()
        [1.0, 7.0]
        >>> df.loc["b", "deterministic_finish_date"].date().isoformat()
        '2027-03-09'
        """
        return _task_stats_frame(self, percentiles, connectors)


class RankSample:
    """The kept sample the rank measures (Spearman, Kendall) are computed from when first
    read; the sample is then released.

    x : float64[k, n]      task durations of the first k iterations, in the kernel's
                           order; ``node`` (int64[n]) the column of each task in node order
    y : float64[k]         their project finishes
    cost_x : float64[k, C] or None   costed tasks' costs; ``cost_node`` (int64[C]) their
                                     node positions; ``cost_y`` the project costs
    """

    def __init__(self, x, node, y, cost_x=None, cost_y=None, cost_node=None):
        self._data = (x, node, y, cost_x, cost_y, cost_node)
        self._out = None

    def measures(self) -> dict:
        if self._out is None:
            x, node, y, cost_x, cost_y, cost_node = self._data
            rho, tau = stats.rank_cruciality(x, y)
            rho, tau = rho[node], tau[node]
            out = {"cri_rho": rho, "cri_tau": tau}
            if cost_x is not None:
                n = x.shape[1]
                c_rho, c_tau = stats.rank_cruciality(cost_x, cost_y)
                for name, values in (("cost_cri_rho", c_rho), ("cost_cri_tau", c_tau)):
                    full = np.full(n, np.nan)
                    full[cost_node] = values
                    out[name] = full
            self._out, self._data = out, None
        return self._out


#: Sensitivity measures of task durations against the project finish.
SENSITIVITY_MEASURES = ("ci", "si", "ssi", "cri_r", "cri_rho", "cri_tau")
#: Cruciality of task costs against the project cost.
COST_MEASURES = ("cost_cri_r", "cost_cri_rho", "cost_cri_tau")


@dataclass(frozen=True)
class SensitivityStats:
    """How much each task's duration (and cost) drives the project finish (and cost), as
    defined by Vanhoucke (*Measuring Time*, 2010; the measures ProTrack reports).
    Arrays are float64[n] in node order (``ids``), fractions.

    With d a task's duration in an iteration (0 when it does not happen), TF its total
    float, T the project finish, K the project cost and c the task's cost:

    - ``ci``: criticality index, P(task critical);
    - ``si``: significance index, E[d / (d + TF) * T / E[T]] (0 where d + TF = 0; NaN in
      levelled runs, which have no per-iteration total float);
    - ``ssi``: schedule sensitivity index, (sd(d) / sd(T)) * CI;
    - ``cri_r``, ``cri_rho``, ``cri_tau``: cruciality, |Pearson r|, |Spearman rho| and
      |Kendall tau-b| of d and T;
    - ``cost_cri_r``, ``cost_cri_rho``, ``cost_cri_tau``: the same of c and K (None
      without costs; NaN for a task without cost).

    CI, SI, SSI and the Pearson measures use every iteration (streamed as exact sums);
    the rank measures use the first ``sample_size`` iterations (see
    ``pmosim.simulate``) and are computed when first read (then the kept sample is
    released): 0.65 s for 1,000 tasks x 7,456 iterations on 2 cores, which a script
    that reads only CI or SSI need not pay. A measure of a task whose duration (cost)
    never varies is 0; every measure is NaN when the project finish (cost) never varies.
    """

    ids: list
    names: list
    ci: np.ndarray
    si: np.ndarray
    ssi: np.ndarray
    cri_r: np.ndarray
    ranks: "RankSample" = field(repr=False, compare=False)
    sample_size: int
    cost_cri_r: np.ndarray | None = None
    kinds: list = field(default=None, repr=False)

    @property
    def cri_rho(self) -> np.ndarray:
        return self.ranks.measures()["cri_rho"]

    @property
    def cri_tau(self) -> np.ndarray:
        return self.ranks.measures()["cri_tau"]

    @property
    def cost_cri_rho(self) -> np.ndarray | None:
        return self.ranks.measures().get("cost_cri_rho")

    @property
    def cost_cri_tau(self) -> np.ndarray | None:
        return self.ranks.measures().get("cost_cri_tau")

    def __repr__(self) -> str:
        return (f"SensitivityStats({len(self.ids):,} tasks, rank measures on "
                f"{self.sample_size:,} iterations)")

    def measures(self) -> tuple:
        """Names of the measures this result holds."""
        return SENSITIVITY_MEASURES + (COST_MEASURES if self.cost_cri_r is not None else ())

    def top(self, measure: str = "cri_tau", k: int = 10, *, connectors: bool = False) -> list:
        """The ``k`` tasks with the highest ``measure``, as (task id, value); ties in node
        order, NaN last; importers' connector tasks left out unless ``connectors``."""
        if measure not in self.measures():
            raise ValueError(f"unknown sensitivity measure {measure!r}; choose one of "
                             f"{', '.join(self.measures())}")
        values = np.asarray(getattr(self, measure), dtype=float)
        key = np.where(np.isnan(values), -np.inf, values)
        order = np.argsort(-key, kind="stable")
        if not connectors and self.kinds is not None:
            order = [i for i in order if self.kinds[i] != "connector"]
        return [(self.ids[i], float(values[i])) for i in order[:k]]

    def task(self, task_id) -> dict:
        """The measures of one task, ``{"ci": ..., ...}``."""
        try:
            i = self.ids.index(task_id)
        except ValueError:
            raise KeyError(f"no task {task_id!r} in this result") from None
        return self.row(i)

    def row(self, i: int) -> dict:
        """The measures of the task at node position ``i``."""
        return {m: _float_or_none(getattr(self, m)[i]) for m in self.measures()}

    def to_dict(self) -> dict[str, Any]:
        """``{"sample_size": ..., "tasks": {id: {measure: value}}}`` (NaN as None)."""
        return {"sample_size": self.sample_size,
                "tasks": {_jsonable_id(t): self.row(i) for i, t in enumerate(self.ids)}}

    def to_frame(self):
        """A pandas DataFrame indexed by task id: name and every measure."""
        data = {"name": self.names}
        data.update({m: getattr(self, m) for m in self.measures()})
        return _frame(data, self.ids)


def _float_or_none(x):
    x = float(x)
    return x if np.isfinite(x) else None


@dataclass(frozen=True)
class CriticalPath:
    """A distinct critical path (the set of tasks critical in an iteration, in
    deterministic start order) and the fraction of iterations in which it was the
    critical set."""

    tasks: list
    frequency: float

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": [_jsonable_id(t) for t in self.tasks], "frequency": self.frequency}


@dataclass(frozen=True)
class MergeBias:
    """How much later a merge node (a task with two or more predecessors) starts than
    the plan says, in distribution.

    ``deterministic_start`` is its CPM start (the latest deterministic predecessor
    bound); ``bias_mean`` and ``bias_percentiles`` are of (start - deterministic
    start) over the iterations; ``jensen`` is E[start] minus the latest of the
    predecessors' mean bounds (mean finish + lag of an FS link, and so on): the part of
    the delay due to the merge itself, since the expected latest of several uncertain
    predecessors exceeds the latest of their expectations.
    """

    task_id: Any
    preds: int
    deterministic_start: float
    mean_start: float
    bias_mean: float
    bias_percentiles: dict
    jensen: float

    def to_dict(self) -> dict[str, Any]:
        return {"task": _jsonable_id(self.task_id), "predecessors": self.preds,
                "deterministic_start": self.deterministic_start,
                "mean_start": self.mean_start, "bias_mean": self.bias_mean,
                "bias_percentiles": self.bias_percentiles, "jensen": self.jensen}


@dataclass(frozen=True)
class RiskStats:
    """How a risk event or risk driver behaved in a run.

    ``occurrence`` is the fraction of iterations in which it occurred;
    ``mean_impact`` the mean drawn schedule impact when it occurred, in ``unit``:
    ``"time"`` (working time added to each mapped task), ``"%"`` (percent of each
    task's sampled duration) or ``"factor"`` (a driver's multiplier). NaN when it
    never occurred.
    """

    id: Any
    name: str
    kind: str
    probability: float
    occurrence: float
    mean_impact: float
    unit: str

    def to_dict(self) -> dict[str, Any]:
        impact = None if np.isnan(self.mean_impact) else float(self.mean_impact)
        return {"id": _jsonable_id(self.id), "name": self.name, "kind": self.kind,
                "probability": self.probability, "occurrence": self.occurrence,
                "mean_impact": impact, "unit": self.unit}


@dataclass(frozen=True, eq=False)
class CorrelationStats:
    """A correlation group: the Spearman matrices asked for (``target``), sampled
    (``repaired``: after the nearest-valid-matrix repair, as the copula realises it)
    and measured on the first ``n_samples`` iterations (``achieved``)."""

    tasks: tuple
    target: np.ndarray
    repaired: np.ndarray
    achieved: np.ndarray
    n_samples: int

    def changes(self, tol: float = 1e-6) -> list[tuple[Any, Any, float, float]]:
        """``(task_a, task_b, target, repaired)`` for every coefficient the repair changed."""
        k = len(self.tasks)
        return [(self.tasks[i], self.tasks[j], float(self.target[i, j]), float(self.repaired[i, j]))
                for i in range(k) for j in range(i + 1, k)
                if abs(self.repaired[i, j] - self.target[i, j]) > tol]

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": [_jsonable_id(t) for t in self.tasks], "target": self.target.tolist(),
                "repaired": self.repaired.tolist(), "achieved": self.achieved.tolist(),
                "samples": self.n_samples,
                "changed": [{"tasks": [_jsonable_id(a), _jsonable_id(b)], "target": t,
                             "repaired": r} for a, b, t, r in self.changes()]}


@dataclass(frozen=True, eq=False)
class CashFlow:
    """Probabilistic cumulative spend over time.

    ``times`` is the grid (working time from the project start, 0 first); at each
    time the distribution of cumulative spend over iterations is kept as a
    streaming histogram, assuming each task's cost accrues linearly over its
    duration (at its start when it has none) and the project cost rate over the
    whole project. :meth:`percentile` gives e.g. the P10/P50/P90 curves.
    """

    times: np.ndarray
    hist: np.ndarray = field(repr=False)
    lo: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    vmin: np.ndarray = field(repr=False)
    vmax: np.ndarray = field(repr=False)

    def percentile(self, q) -> np.ndarray:
        """Cumulative spend percentile(s) at every grid time: float64[T] or [T, len(q)]."""
        return stats.histogram_quantiles(self.hist, self.lo, self.scale, self.vmin, self.vmax, q)

    def to_dict(self) -> dict[str, Any]:
        curves = self.percentile([10, 50, 90])
        return {"times": self.times.tolist(),
                "percentiles": {k: curves[:, j].tolist() for j, k in enumerate(("P10", "P50", "P90"))}}


@dataclass(frozen=True)
class ResourceStats:
    """One resource in a levelled run.

    ``usage_hist`` row ``k`` is the histogram of the resource's average usage in period
    ``[times[k], times[k] + period)`` over the iterations (254 bins from 0 to ``top``,
    plus an open-ended bin at each end); ``peak_hist`` the same for its peak usage.
    ``binding`` is the fraction of iterations in which a task on the driving path
    waited for this resource.
    """

    id: Any
    name: str
    capacity: float
    changes: tuple
    times: np.ndarray
    period: float
    usage_hist: np.ndarray = field(repr=False)
    peak_hist: np.ndarray = field(repr=False)
    top: float = 1.0
    peak_max: float = 0.0
    binding: float = 0.0

    def capacity_at(self, times) -> np.ndarray:
        """Capacity in force at each of ``times``."""
        t = np.asarray(times, dtype=float)
        out = np.full(t.shape, float(self.capacity))
        for when, cap in self.changes:
            out[t >= when] = cap
        return out

    def usage_percentile(self, q) -> np.ndarray:
        """Estimated percentile(s) of the average usage in each period: float64[P] or
        [P, len(q)] (within one histogram bin, ``top / 254``)."""
        n = self.usage_hist.shape[0]
        return stats.histogram_quantiles(
            self.usage_hist, np.zeros(n), np.full(n, (self.usage_hist.shape[1] - 2) / self.top),
            np.zeros(n), np.full(n, max(self.peak_max, 0.0)), q)

    def peak_percentile(self, q):
        """Estimated percentile(s) of the peak usage of an iteration."""
        h = self.peak_hist[None, :]
        out = stats.histogram_quantiles(h, np.zeros(1), np.full(1, (h.shape[1] - 2) / self.top),
                                        np.zeros(1), np.full(1, max(self.peak_max, 0.0)), q)
        return out[0]

    def to_dict(self) -> dict[str, Any]:
        bands = self.usage_percentile([10, 50, 90])
        peaks = np.atleast_1d(self.peak_percentile([50, 90]))
        return {"id": _jsonable_id(self.id), "name": self.name, "capacity": self.capacity,
                "changes": [[float(t), float(c)] for t, c in self.changes],
                "binding": self.binding, "peak_max": self.peak_max,
                "peak_percentiles": {"P50": float(peaks[0]), "P90": float(peaks[1])},
                "usage": {"times": self.times.tolist(), "period": self.period,
                          "capacity": self.capacity_at(self.times).tolist(),
                          **{k: bands[:, j].tolist()
                             for j, k in enumerate(("P10", "P50", "P90"))}}}


@dataclass(frozen=True)
class LevellingStats:
    """What resource levelling did in a run (``SimulationResult.levelling``).

    ``finish_unlevelled`` holds each iteration's finish without levelling (the same
    durations, scheduled by the links alone); ``delayed`` is the fraction of
    iterations whose finish levelling delayed; ``task_delay`` each task's mean finish
    delay (node order, exact to 2**-32 per iteration).
    """

    scheme: str
    priority: str
    finish_unlevelled: SampleStats = field(repr=False)
    delayed: float
    task_delay: np.ndarray = field(repr=False)
    resources: list = field(default_factory=list, repr=False)

    def to_dict(self, task_ids) -> dict[str, Any]:
        return {"scheme": self.scheme, "priority": self.priority,
                "finish_unlevelled": self.finish_unlevelled.to_dict(),
                "delayed": self.delayed,
                "task_delay": {_jsonable_id(t): float(d)
                               for t, d in zip(task_ids, self.task_delay)},
                "resources": [r.to_dict() for r in self.resources]}


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`pmosim.simulate` returns.

    Attributes
    ----------
    iterations : int
    seed : int
        The seed actually used (drawn from OS entropy when none was given);
        ``simulate(model, iterations, seed=result.seed)`` reproduces the run bit for bit.
    task_ids : list
        Task ids in the graph's node order.
    project : pmosim.Project
        The simulated project (name, start date, calendar).
    finish : SampleStats
        Project finish.
    criticality : dict
        Task id -> fraction of iterations in which the task was critical.
    tasks : TaskStats
    risk_mode : str
        The risk register used: "pre", "post" or "none".
    risks : list of RiskStats
        Every risk event of that register, then every risk driver.
    correlations : list of CorrelationStats
    cost : SampleStats or None
        Project cost per iteration, when the project has costs.
    cashflow : CashFlow or None
    durations, starts, finishes : float64[iterations, n_tasks] or None
        Per-iteration samples, only with ``keep_samples=True``.
    levelling : LevellingStats or None
        In a levelled run (``levelling="serial"``): the unlevelled finishes, task
        delays and resource usage; ``finish`` and the task statistics are levelled.
    sensitivity : SensitivityStats or None
        Criticality, significance, schedule sensitivity and cruciality of every task
        (None with ``simulate(..., sensitivity=False)``).
    paths : list of CriticalPath
        The most frequent distinct critical paths (empty without sensitivity).
    merge_bias : list of MergeBias
        Merge nodes by mean bias, largest first.
    """

    iterations: int
    seed: int
    task_ids: list = field(repr=False)
    project: Any = field(repr=False)
    finish: SampleStats = field(repr=False)
    criticality: dict = field(repr=False)
    tasks: TaskStats = field(repr=False)
    risk_mode: str = "pre"
    risks: list = field(default_factory=list, repr=False)
    correlations: list = field(default_factory=list, repr=False)
    cost: SampleStats | None = field(default=None, repr=False)
    cashflow: CashFlow | None = field(default=None, repr=False)
    durations: np.ndarray | None = field(default=None, repr=False)
    starts: np.ndarray | None = field(default=None, repr=False)
    finishes: np.ndarray | None = field(default=None, repr=False)
    levelling: LevellingStats | None = field(default=None, repr=False)
    sensitivity: SensitivityStats | None = field(default=None, repr=False)
    paths: list = field(default_factory=list, repr=False)
    merge_bias: list = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        # short: the dataclass repr listed every task id (84,511 characters on SP10)
        f = self.finish
        cost = f", cost P80 {float(self.cost.percentile(80)):,.2f}" if self.cost is not None else ""
        lev = f", levelled ({self.levelling.priority})" if self.levelling is not None else ""
        return (f"SimulationResult({len(self.task_ids):,} tasks, {self.iterations:,} iterations, "
                f"seed {self.seed}: finish P50 {float(f.percentile(50)):,.2f}, P80 "
                f"{float(f.percentile(80)):,.2f} working days{cost}{lev})")

    def _repr_html_(self) -> str:
        """Notebook view: finish P-values with their confidence intervals and dates, cost
        P-values, the most critical tasks."""
        return _simulation_html(self)

    @property
    def warnings(self) -> list[str]:
        """What makes this run's numbers mean less than they seem, as messages.

        A zero-variance run (no task has an uncertain duration, no risks, drivers or
        other random inputs: :func:`pmosim.uncertainty.is_deterministic`) has every
        iteration identical, ``finish.std == 0`` and P10 = P90; its warning says how to
        add uncertainty. Empty for an ordinary run.
        """
        from .uncertainty import zero_variance_warning
        text = zero_variance_warning(self.project, self.risk_mode)
        return [text] if text else []

    def _need_cost(self):
        if self.cost is None:
            raise ValueError("this project has no costs: set cost_fixed / cost_rate on tasks, "
                             "a risk cost_impact or the project cost_rate")

    def jcl(self, finish, cost: float) -> float:
        """Joint confidence level: P(finish <= ``finish`` and cost <= ``cost``); ``finish``
        in working days or a date (by the end of that day)."""
        self._need_cost()
        if isinstance(self.finish, TimeStats):
            finish = self.finish.to_time(finish)
        ok = (self.finish.samples <= float(finish)) & (self.cost.samples <= float(cost))
        return float(np.count_nonzero(ok)) / self.iterations

    def jcl_ci(self, finish, cost: float, level: float = stats.CI_LEVEL) -> tuple[float, float]:
        """Confidence interval ``(lo, hi)`` of :meth:`jcl` at ``level`` (Clopper-Pearson,
        :func:`pmosim.stats.proportion_ci`)."""
        k = round(self.jcl(finish, cost) * self.iterations)
        return stats.proportion_ci(k, self.iterations, level)

    def jcl_frontier(self, p: float, points: int = 50) -> np.ndarray:
        """(finish, cost) pairs with joint confidence ``p``: float64[k, 2].

        For finish values from the smallest finish with P(finish <= f) >= p up to the
        largest finish, the smallest cost c with P(finish <= f and cost <= c) >= p.
        """
        self._need_cost()
        if not 0 < p <= 1:
            raise ValueError(f"p must be within (0, 1], got {p}")
        f, c = self.finish.samples, self.cost.samples
        n = f.shape[0]
        need = int(np.ceil(p * n))
        order = np.argsort(f, kind="stable")
        f_sorted, c_sorted = f[order], c[order]
        first = need - 1
        grid = np.unique(np.linspace(f_sorted[first], f_sorted[-1], points))
        out = []
        for x in grid:
            m = np.searchsorted(f_sorted, x, side="right")
            if m < need:
                continue
            out.append((x, float(np.partition(c_sorted[:m], need - 1)[need - 1])))
        return np.array(out).reshape(-1, 2)

    def most_critical(self, k: int = 10, *, connectors: bool = False) -> list[tuple[Any, float]]:
        """The ``k`` tasks with the highest criticality, ties in node order.

        Connectors that importers add (zero-duration tasks with ``kind="connector"``,
        standing for a WBS summary's links) are left out unless ``connectors=True``: they
        are critical whenever what they connect is, and crowded out real tasks."""
        order = np.argsort(-self.tasks.criticality, kind="stable")
        graph = getattr(self.project, "graph", None)
        if not connectors and graph is not None:
            order = [i for i in order
                     if graph.nodes[self.task_ids[i]].get("kind") != "connector"]
        return [(self.task_ids[i], float(self.tasks.criticality[i])) for i in order[:k]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (see docs/results-format.md)."""
        qs = stats.REPORT_PERCENTILES
        ts = self.tasks
        task_pct = ts.finish_percentile(list(qs))
        start_pct = ts.start_percentile(list(qs)) if ts.start_hist is not None else None
        keys = [stats.percentile_key(q) for q in qs]
        dates = None
        if getattr(self.project, "start", None) is not None and start_pct is not None:
            date_qs = stats.DATE_PERCENTILES
            dates = {
                "start": {stats.percentile_key(q): ts.start_dates(q) for q in date_qs},
                "finish": {stats.percentile_key(q): ts.finish_dates(q) for q in date_qs},
                "det": (ts.deterministic_start_dates(), ts.deterministic_finish_dates()),
            }
        tasks = []
        for i, tid in enumerate(self.task_ids):
            row = {
                "id": _jsonable_id(tid),
                "name": ts.names[i],
                "criticality": float(ts.criticality[i]),
                "start_mean": float(ts.start_mean[i]),
                "finish_mean": float(ts.finish_mean[i]),
                "finish_std": float(ts.finish_std[i]),
                "finish_percentiles": {k: float(v) for k, v in zip(keys, task_pct[i])},
            }
            if start_pct is not None:
                row.update({
                    "kind": ts.kinds[i],
                    "deterministic_start": float(ts.deterministic_start[i]),
                    "deterministic_finish": float(ts.deterministic_finish[i]),
                    "start_std": float(ts.start_std[i]),
                    "start_percentiles": {k: float(v) for k, v in zip(keys, start_pct[i])},
                })
            if dates is not None:
                row["deterministic_start_date"] = dates["det"][0][i].isoformat()
                row["deterministic_finish_date"] = dates["det"][1][i].isoformat()
                row["start_dates"] = {k: v[i].isoformat() for k, v in dates["start"].items()}
                row["finish_dates"] = {k: v[i].isoformat() for k, v in dates["finish"].items()}
            if self.sensitivity is not None:
                row["sensitivity"] = self.sensitivity.row(i)
            tasks.append(row)
        out = {
            "pmosim_version": __version__,
            "iterations": self.iterations,
            "seed": self.seed,
            "finish": self.finish.to_dict(),
            "tasks": tasks,
        }
        if self.cost is not None:
            out["cost"] = self.cost.to_dict()
            out["jcl"] = {f"P{round(100 * p)}": self.jcl_frontier(p, 20).tolist()
                          for p in (0.5, 0.7, 0.8)}
            out["cashflow"] = self.cashflow.to_dict()
        if self.risks:
            out["risk_mode"] = self.risk_mode
            out["risks"] = [r.to_dict() for r in self.risks]
        if self.correlations:
            out["correlations"] = [c.to_dict() for c in self.correlations]
        if self.levelling is not None:
            out["levelling"] = self.levelling.to_dict(self.task_ids)
        if self.sensitivity is not None:
            out["sensitivity"] = {"sample_size": self.sensitivity.sample_size,
                                  "measures": list(self.sensitivity.measures())}
            out["paths"] = [c.to_dict() for c in self.paths]
        out["merge_bias"] = [m.to_dict() for m in self.merge_bias]
        return out


@dataclass(frozen=True)
class CPMResult:
    """Deterministic critical path method on planned durations; arrays in node order.

    Times are working days from time 0. For a project with working calendars per
    task (the wall-clock mode, see :func:`pmosim.cpm`) they are working days of the
    axis calendar ``calendar`` from the data date (a monotone map of the wall
    clock: non-working time of that calendar maps to one value), ``duration`` and
    ``total_float`` are in working days of each task's own calendar, and the
    ``*_date`` lists hold the exact moments (``datetime``, to the second); they are
    None otherwise.

    ``free_float`` is how far a task's early finish may move before it delays a
    successor's early date or the project finish (same unit as ``total_float``). In
    the wall-clock mode late dates honour the constraints that bound them
    (finish-no-later-than, finish-on, must-finish-on, deadlines, start-no-later-than,
    start-on, must-start-on) as P6 and MS Project do, so float can be negative, and a
    completed task has no float (NaN) and late dates equal to its actual dates.
    """

    task_ids: list
    names: list
    finish: float
    duration: np.ndarray
    early_start: np.ndarray
    early_finish: np.ndarray
    late_start: np.ndarray
    late_finish: np.ndarray
    total_float: np.ndarray
    critical: np.ndarray
    early_start_date: list | None = None
    early_finish_date: list | None = None
    late_start_date: list | None = None
    late_finish_date: list | None = None
    calendar: Any = None
    levelling: str | None = None
    priority: str | None = None
    unlevelled_finish: float | None = None
    binding: list | None = None
    free_float: np.ndarray | None = None

    def __repr__(self) -> str:
        # short: the dataclass repr printed every array and date list
        lev = f", levelled ({self.priority} priority)" if self.levelling is not None else ""
        return (f"CPMResult({len(self.task_ids):,} tasks, finish {float(self.finish):,.2f} "
                f"working days, {int(np.count_nonzero(self.critical)):,} critical{lev})")

    def _repr_html_(self) -> str:
        return _cpm_html(self)

    @property
    def critical_path(self) -> list:
        """Ids of the critical tasks ordered by early start (then node order)."""
        idx = np.flatnonzero(self.critical)
        idx = idx[np.argsort(self.early_start[idx], kind="stable")]
        return [self.task_ids[i] for i in idx]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per task, in node order (with ISO date-times in the wall-clock mode)."""
        rows = [
            {"id": _jsonable_id(tid), "name": self.names[i], "duration": float(self.duration[i]),
             "early_start": float(self.early_start[i]), "early_finish": float(self.early_finish[i]),
             "late_start": float(self.late_start[i]), "late_finish": float(self.late_finish[i]),
             "total_float": _float_or_none(self.total_float[i]),
             "critical": bool(self.critical[i])}
            for i, tid in enumerate(self.task_ids)
        ]
        if self.free_float is not None:
            for row, x in zip(rows, self.free_float):
                row["free_float"] = _float_or_none(x)
        if self.early_start_date is not None:
            for key in ("early_start", "early_finish", "late_start", "late_finish"):
                for row, moment in zip(rows, getattr(self, key + "_date")):
                    row[key + "_date"] = moment.isoformat(sep=" ")
        return rows

    def to_dict(self) -> dict[str, Any]:
        out = {"pmosim_version": __version__, "finish": float(self.finish), "tasks": self.rows()}
        if self.levelling is not None:
            out["levelling"] = {"scheme": self.levelling, "priority": self.priority,
                                "unlevelled_finish": self.unlevelled_finish,
                                "binding": [_jsonable_id(r) for r in self.binding]}
        return out


@dataclass(frozen=True)
class RankedRisk:
    """What switching one risk event or driver off gains: the drop of the finish
    percentile (``percentile_shift``) and of the mean finish (``mean_shift``), in
    working days; with costs, the drop of the same percentile of the project cost
    (``cost_percentile_shift``) and of the mean cost (``cost_mean_shift``), else None."""

    id: Any
    name: str
    kind: str
    percentile_shift: float
    mean_shift: float
    cost_percentile_shift: float | None = None
    cost_mean_shift: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"id": _jsonable_id(self.id), "name": self.name, "kind": self.kind,
               "percentile_shift": float(self.percentile_shift),
               "mean_shift": float(self.mean_shift)}
        if self.cost_percentile_shift is not None:
            out["cost_percentile_shift"] = float(self.cost_percentile_shift)
            out["cost_mean_shift"] = float(self.cost_mean_shift)
        return out


@dataclass(frozen=True)
class RiskRanking:
    """The risk tornado of :func:`pmosim.rank_risks`, largest percentile shift first.

    ``baseline_cost_percentile`` and ``baseline_cost_mean`` (with every risk and driver
    on) are None when the project has no costs."""

    percentile: float
    iterations: int
    seed: int
    risk_mode: str
    baseline_percentile: float
    baseline_mean: float
    entries: list
    baseline_cost_percentile: float | None = None
    baseline_cost_mean: float | None = None

    @property
    def has_cost(self) -> bool:
        """Whether the entries carry cost shifts (the project has costs)."""
        return self.baseline_cost_percentile is not None

    def to_dict(self) -> dict[str, Any]:
        out = {"percentile": self.percentile, "iterations": self.iterations, "seed": self.seed,
               "risk_mode": self.risk_mode, "baseline_percentile": self.baseline_percentile,
               "baseline_mean": self.baseline_mean}
        if self.has_cost:
            out["baseline_cost_percentile"] = self.baseline_cost_percentile
            out["baseline_cost_mean"] = self.baseline_cost_mean
        out["ranking"] = [e.to_dict() for e in self.entries]
        return out


@dataclass(frozen=True, eq=False)
class PrecisionRun:
    """What :func:`pmosim.simulate_to_precision` returns: the final run and how it got there.

    Attributes
    ----------
    result : SimulationResult
        The final run, bit for bit ``simulate(model, result.iterations, seed=result.seed)``.
    precision : float
        The full width asked for, in working days.
    percentile, level : float
        The percentile whose interval was narrowed (80) and the interval's level (0.95).
    interval : (float, float)
        The final interval of that percentile (:meth:`SampleStats.percentile_ci`).
    reached : bool
        Whether its width is at most ``precision``; False when ``max_iterations`` ran out first.
    max_iterations : int
    steps : tuple of (int, float)
        Iterations of each run tried, in order, and the interval width it gave.
    """

    result: SimulationResult = field(repr=False)
    precision: float
    percentile: float
    level: float
    interval: tuple
    reached: bool
    max_iterations: int
    steps: tuple = ()

    @property
    def width(self) -> float:
        """Full width of the final interval (working days; inf when unbounded)."""
        return float(self.interval[1] - self.interval[0])

    @property
    def iterations(self) -> int:
        return self.result.iterations

    def to_dict(self) -> dict[str, Any]:
        return {"percentile": self.percentile, "level": self.level,
                "precision": self.precision, "width": _finite_or_none(self.width),
                "interval": [_finite_or_none(x) for x in self.interval],
                "reached": self.reached, "iterations": self.iterations,
                "max_iterations": self.max_iterations,
                "steps": [{"iterations": n, "width": _finite_or_none(w)} for n, w in self.steps]}


#: Finish and cost percentiles a :class:`Comparison` reports.
COMPARE_PERCENTILES = (10, 50, 80, 90)


@dataclass(frozen=True, eq=False)
class Comparison:
    """Risk registers compared on the same random numbers (:func:`pmosim.compare`).

    Every run used the same seed and iteration count, so iteration ``i`` of each saw
    the same draws of every task duration, cost and driver, and each risk event
    occurred in the same iterations wherever its probability is the same (the
    mitigated probability is compared with the same uniform draw): the differences
    are the effect of the registers alone, not Monte Carlo noise between runs.

    Attributes
    ----------
    modes : tuple of str
        The registers, in the order given ("pre", "post", "none"); the first is the
        baseline of :meth:`deltas`.
    results : tuple of SimulationResult
        One per mode.
    target : float or None
        Target finish in working days, when given.
    budget : float or None
    percentiles : tuple of float
        P-values compared (10, 50, 80, 90).
    level : float
        Level of the confidence intervals in :meth:`to_dict`.
    """

    modes: tuple
    results: tuple = field(repr=False)
    target: float | None = None
    budget: float | None = None
    percentiles: tuple = COMPARE_PERCENTILES
    level: float = stats.CI_LEVEL

    @property
    def iterations(self) -> int:
        return self.results[0].iterations

    @property
    def seed(self) -> int:
        return self.results[0].seed

    def result(self, mode: str) -> SimulationResult:
        """The run of ``mode``."""
        if mode not in self.modes:
            raise ValueError(f"mode {mode!r} was not compared; the modes are "
                             f"{', '.join(self.modes)}")
        return self.results[self.modes.index(mode)]

    def values(self, mode: str) -> dict[str, Any]:
        """The compared numbers of one mode: finish (and cost) mean and P-values, and the
        probabilities of the target, the budget and both (JCL) where given."""
        r = self.result(mode)
        out: dict[str, Any] = {"finish": {"mean": r.finish.mean,
                                          **r.finish.percentiles(self.percentiles)}}
        if r.cost is not None:
            out["cost"] = {"mean": r.cost.mean, **r.cost.percentiles(self.percentiles)}
        if self.target is not None:
            out["target_probability"] = r.finish.probability_le(self.target)
        if self.budget is not None and r.cost is not None:
            out["budget_probability"] = r.cost.probability_le(self.budget)
            if self.target is not None:
                out["jcl"] = r.jcl(self.target, self.budget)
        return out

    def deltas(self) -> dict[str, dict[str, Any]]:
        """Each mode after the first minus the first: ``{mode: {"finish": {"mean": d,
        "P10": d, ...}, "cost": {...}, "target_probability": d, ...}}`` (working days,
        money, probabilities as fractions), the same keys as :meth:`values`."""
        base = self.values(self.modes[0])

        def minus(a, b):
            if isinstance(a, dict):
                return {k: minus(a[k], b[k]) for k in a if k in b}
            return float(a) - float(b)

        return {m: minus(self.values(m), base) for m in self.modes[1:]}

    def paired_mean_ci(self, mode: str, what: str = "finish") -> tuple[float, float]:
        """Confidence interval (``level``) of the mean change of ``what`` ("finish" or
        "cost") from the first mode to ``mode``, from the paired per-iteration differences
        (Student t): narrow, because both runs saw the same random numbers."""
        from scipy.stats import t as student

        a = getattr(self.results[0], what)
        b = getattr(self.result(mode), what)
        if a is None or b is None:
            raise ValueError(f"the runs have no {what}")
        d = b.samples - a.samples
        n = d.shape[0]
        if n < 2:
            return -np.inf, np.inf
        half = float(student.ppf(0.5 + self.level / 2, n - 1) * np.std(d, ddof=1) / np.sqrt(n))
        return float(np.mean(d)) - half, float(np.mean(d)) + half

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (see ``compare`` in docs/results-format.md)."""
        keys = [stats.percentile_key(q) for q in self.percentiles]
        runs = {}
        for mode in self.modes:
            r = self.result(mode)
            entry = self.values(mode)
            fin = entry["finish"]
            lo, hi = r.finish.percentile_ci(list(self.percentiles), self.level)
            fin["percentile_ci"] = {k: [_finite_or_none(a), _finite_or_none(b)]
                                    for k, a, b in zip(keys, lo, hi)}
            if getattr(r.project, "start", None) is not None:
                fin["dates"] = {k: r.finish.date(q).isoformat()
                                for k, q in zip(keys, self.percentiles)}
                fin["mean_date"] = r.finish._calendar()[1].finish_dates(
                    r.project.start, max(fin["mean"], 0.0)).isoformat()
            if "cost" in entry:
                lo, hi = r.cost.percentile_ci(list(self.percentiles), self.level)
                entry["cost"]["percentile_ci"] = {k: [_finite_or_none(a), _finite_or_none(b)]
                                                  for k, a, b in zip(keys, lo, hi)}
            if "target_probability" in entry:
                entry["target_probability_ci"] = list(r.finish.probability_ci(self.target,
                                                                              self.level))
            if "budget_probability" in entry:
                entry["budget_probability_ci"] = list(r.cost.probability_ci(self.budget,
                                                                            self.level))
            if "jcl" in entry:
                entry["jcl_ci"] = list(r.jcl_ci(self.target, self.budget, self.level))
            runs[mode] = entry
        deltas = self.deltas()
        for mode, d in deltas.items():
            d["finish_mean_ci"] = [_finite_or_none(x) for x in self.paired_mean_ci(mode)]
            if "cost" in d:
                d["cost_mean_ci"] = [_finite_or_none(x)
                                     for x in self.paired_mean_ci(mode, "cost")]
            if "dates" in runs[mode]["finish"]:
                base = runs[self.modes[0]]["finish"]["dates"]
                d["finish_calendar_days"] = {
                    k: (_dt.date.fromisoformat(runs[mode]["finish"]["dates"][k])
                        - _dt.date.fromisoformat(base[k])).days for k in keys}
        out: dict[str, Any] = {"modes": list(self.modes), "baseline": self.modes[0],
                               "iterations": self.iterations, "seed": self.seed,
                               "ci_level": self.level}
        if self.target is not None:
            out["target"] = self.target
        if self.budget is not None:
            out["budget"] = self.budget
        out["runs"] = runs
        out["deltas"] = deltas
        return out


# -- notebook helpers: DataFrames and HTML reprs (issue 16) -----------------------------
#: Rows an HTML repr shows before saying how many more there are.
HTML_ROWS = 20
#: Most critical tasks in a SimulationResult's HTML repr.
HTML_TOP_TASKS = 5
#: Install hint of the pandas extra.
FRAME_INSTALL = "pip install 'pmosim[frame]'"


def _frame(columns: dict, index, index_name: str = "id"):
    """A pandas DataFrame of ``columns`` (name -> sequence, in column order) indexed by
    ``index``: the one place the ``to_frame()`` methods import pandas.

    Date columns given as ``datetime64`` arrays stay dates (pandas datetime64 columns).

    Raises
    ------
    MissingDependencyError
        pandas is not installed (an ImportError; the message says how to add it).
    """
    try:
        import pandas as pd
    except ImportError:
        from .errors import MissingDependencyError
        raise MissingDependencyError(f"to_frame() needs pandas: {FRAME_INSTALL}") from None
    return pd.DataFrame(columns, index=pd.Index(list(index), name=index_name))


def _esc(value) -> str:
    import html
    return html.escape(str(value), quote=True)


def _html_table(header, rows, caption: str | None = None, right=()) -> str:
    """A small HTML table; every cell is escaped here, ``right`` are the columns aligned
    right (numbers)."""
    def cell(tag, k, value):
        style = ' style="text-align:right"' if k in right else ' style="text-align:left"'
        return f"<{tag}{style}>{_esc(value)}</{tag}>"

    head = "".join(cell("th", k, h) for k, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", k, v) for k, v in enumerate(row)) + "</tr>"
                   for row in rows)
    cap = f"<caption style=\"text-align:left\">{_esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _days(x) -> str:
    return f"{float(x):,.1f}" if np.isfinite(x) else ""


def _pct(x) -> str:
    return f"{100 * float(x):.1f}%" if np.isfinite(x) else ""


def _shown(tasks) -> np.ndarray:
    """Node positions of the tasks a table shows: every one but importers' connectors."""
    kinds = tasks.kinds
    if kinds is None:
        return np.arange(len(tasks.ids))
    return np.flatnonzero([k != "connector" for k in kinds])


def _task_stats_frame(tasks, percentiles, connectors: bool):
    keep = np.arange(len(tasks.ids)) if connectors else _shown(tasks)
    qs = [float(stats.check_q(q)) for q in np.atleast_1d(percentiles)]
    if not qs:
        raise ValueError("percentiles: give at least one, e.g. (10, 50, 80, 90)")
    keys = [stats.percentile_key(q) for q in qs]
    n = len(tasks.ids)
    start_p = np.asarray(tasks.start_percentile(qs)).reshape(n, len(qs))
    finish_p = np.asarray(tasks.finish_percentile(qs)).reshape(n, len(qs))
    kinds = tasks.kinds if tasks.kinds is not None else ["task"] * n
    cols = {"name": [tasks.names[i] for i in keep], "kind": [kinds[i] for i in keep],
            "criticality": tasks.criticality[keep],
            "start_mean": tasks.start_mean[keep], "start_std": tasks.start_std[keep],
            "finish_mean": tasks.finish_mean[keep], "finish_std": tasks.finish_std[keep],
            "deterministic_start": tasks.deterministic_start[keep]}
    cols.update({f"start_{k}": start_p[keep, j] for j, k in enumerate(keys)})
    cols["deterministic_finish"] = tasks.deterministic_finish[keep]
    cols.update({f"finish_{k}": finish_p[keep, j] for j, k in enumerate(keys)})
    if getattr(tasks.project, "start", None) is not None:
        def dates(values):
            return np.array(values, dtype="datetime64[D]")[keep]
        cols["deterministic_start_date"] = dates(tasks.deterministic_start_dates())
        cols.update({f"start_{k}_date": dates(tasks.start_dates(q)) for q, k in zip(qs, keys)})
        cols["deterministic_finish_date"] = dates(tasks.deterministic_finish_dates())
        cols.update({f"finish_{k}_date": dates(tasks.finish_dates(q))
                     for q, k in zip(qs, keys)})
    return _frame(cols, [tasks.ids[i] for i in keep])


def _task_stats_html(tasks) -> str:
    shown = _shown(tasks)
    rows_at = shown[:HTML_ROWS]
    dated = getattr(tasks.project, "start", None) is not None
    p = np.asarray(tasks.finish_percentile([50.0, 80.0])).reshape(len(tasks.ids), 2)
    s50 = np.asarray(tasks.start_percentile(50.0)) if tasks.start_hist is not None else None
    header = ["id", "name", "kind", "criticality", "start P50", "finish mean", "finish P50",
              "finish P80"]
    if dated:
        f50, f80 = tasks.finish_dates(50), tasks.finish_dates(80)
        header += ["finish P50 date", "finish P80 date"]
    kinds = tasks.kinds or ["task"] * len(tasks.ids)
    rows = []
    for i in rows_at:
        row = [tasks.ids[i], tasks.names[i], kinds[i], _pct(tasks.criticality[i]),
               _days(s50[i]) if s50 is not None else "", _days(tasks.finish_mean[i]),
               _days(p[i, 0]), _days(p[i, 1])]
        if dated:
            row += [f50[i].isoformat(), f80[i].isoformat()]
        rows.append(row)
    more = len(shown) - len(rows_at)
    hidden = len(tasks.ids) - len(shown)
    caption = (f"TaskStats: {len(shown):,} tasks" + (f" (and {hidden:,} import connectors)"
                                                       if hidden else "")
               + "; times in working days from the start")
    foot = (f"<p>... {more:,} more; <code>.to_frame()</code> gives every task with start "
            "and finish percentiles and dates</p>" if more > 0 else "")
    return ("<div>" + _html_table(header, rows, caption, right=range(3, len(header)))
            + foot + "</div>")


def _simulation_html(result) -> str:
    project = result.project
    name = getattr(project, "name", None) or "Project"
    dated = getattr(project, "start", None) is not None
    qs = (10, 50, 80, 90)
    level = round(100 * stats.CI_LEVEL)
    f = result.finish
    header = ["Finish", "working days", f"{level}% CI"] + (["date"] if dated else [])
    rows = [["Deterministic (CPM)", _days(f.deterministic), ""]
            + ([f.deterministic_date.isoformat()] if dated else [])]
    for q in qs:
        lo, hi = f.percentile_ci(q)
        rows.append([stats.percentile_key(q), _days(f.percentile(q)),
                     f"{_days(lo)} to {_days(hi)}"] + ([f.date(q).isoformat()] if dated else []))
    rows.append(["Mean", _days(f.mean), ""] + ([""] if dated else []))
    parts = [_html_table(header, rows, None, right=range(1, len(header)))]
    if result.cost is not None:
        c = result.cost
        currency = (getattr(project, "meta", None) or {}).get("currency")
        cost_rows = [["Planned (deterministic)", f"{c.deterministic:,.0f}"]]
        cost_rows += [[stats.percentile_key(q), f"{float(c.percentile(q)):,.0f}"] for q in qs]
        cost_rows.append(["Mean", f"{c.mean:,.0f}"])
        parts.append(_html_table(["Cost", currency or "amount"], cost_rows, None, right=(1,)))
    top = result.most_critical(HTML_TOP_TASKS)
    names = dict(zip(result.tasks.ids, result.tasks.names))
    parts.append(_html_table(["Most critical", "name", "criticality"],
                             [[t, names.get(t, t), _pct(v)] for t, v in top], None,
                             right=(2,)))
    lev = (f", levelled ({result.levelling.priority} priority)"
           if result.levelling is not None else "")
    risks = f", risks {result.risk_mode}" if result.risks else ""
    head = (f"<p><b>SimulationResult</b> {_esc(name)}: {len(result.task_ids):,} tasks, "
            f"{result.iterations:,} iterations, seed {result.seed}{_esc(risks + lev)}</p>")
    cells = "".join(f'<div style="display:inline-block;vertical-align:top;'
                    f'margin-right:2em">{p}</div>' for p in parts)
    return f"<div>{head}{cells}</div>"


def _cpm_html(cpm) -> str:
    path = cpm.critical_path
    index = {t: i for i, t in enumerate(cpm.task_ids)}
    wall = cpm.early_start_date is not None
    header = ["id", "name", "duration", "early start", "early finish", "total float"]
    if wall:
        header += ["early start date", "early finish date"]
    rows = []
    for t in path[:HTML_ROWS]:
        i = index[t]
        row = [t, cpm.names[i], _days(cpm.duration[i]), _days(cpm.early_start[i]),
               _days(cpm.early_finish[i]), _days(cpm.total_float[i])]
        if wall:
            row += [cpm.early_start_date[i].isoformat(sep=" "),
                    cpm.early_finish_date[i].isoformat(sep=" ")]
        rows.append(row)
    lev = f", levelled ({cpm.priority} priority)" if cpm.levelling is not None else ""
    head = (f"<p><b>CPMResult</b>: {len(cpm.task_ids):,} tasks, finish "
            f"{_days(cpm.finish)} working days, {len(path):,} critical{_esc(lev)}</p>")
    more = len(path) - len(rows)
    foot = f"<p>... {more:,} more critical tasks (<code>.critical_path</code>)</p>" if more else ""
    return ("<div>" + head + _html_table(header, rows, "Critical path", right=range(2, 6))
            + foot + "</div>")

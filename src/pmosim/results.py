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

    def to_dict(self) -> dict[str, Any]:
        return {"deterministic": float(self.deterministic), "mean": self.mean, "std": self.std,
                "percentiles": self.percentiles()}


@dataclass(frozen=True)
class TimeStats(SampleStats):
    """:class:`SampleStats` of a time (working days from the start) that also speaks in
    dates when the project has a start date: ``date(80)``, ``deterministic_date``, and
    ``probability_le("2027-08-31")`` (a date counts to the end of that day)."""

    project: Any = field(default=None, repr=False, compare=False)

    def _calendar(self):
        start = getattr(self.project, "start", None)
        if start is None:
            raise ModelError("the project has no start date, so its results are working days "
                             "only; set a start (Project(start=...) or [project] start) to use "
                             "dates")
        from .calendar import WorkCalendar
        return start, getattr(self.project, "calendar", None) or WorkCalendar()

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


@dataclass(frozen=True)
class TaskStats:
    """Per-task statistics, every array in the graph's node order (``ids``).

    Start/finish means and standard deviations are the same bits on any thread count,
    chunking or backend (per-super-block float sums of scaled deviations from the
    deterministic dates, added as fixed-point integers); they are accurate to about
    1e-12 of the task's spread of values (measured at magnitudes 1 to 1e12 days against
    exactly rounded sums of the kept samples; every model value is within +-1e15, see
    ``distributions.MAX_MAGNITUDE``), and a constant is exact;
    finish percentiles are estimates from a 254-bin streaming histogram per task
    whose range comes from the first iterations (values outside it land in two
    open-ended bins bounded by the exact minimum and maximum).
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

    def finish_percentile(self, q) -> np.ndarray:
        """Estimated finish percentile(s) of every task: float64[n] or [n, len(q)]."""
        return stats.histogram_quantiles(self.finish_hist, self.hist_lo, self.hist_scale,
                                         self.finish_min, self.finish_max, q)

    def __len__(self):
        return len(self.ids)


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

    def __repr__(self) -> str:
        # short: the dataclass repr listed every task id (84,511 characters on SP10)
        f = self.finish
        cost = f", cost P80 {float(self.cost.percentile(80)):,.2f}" if self.cost is not None else ""
        lev = f", levelled ({self.levelling.priority})" if self.levelling is not None else ""
        return (f"SimulationResult({len(self.task_ids):,} tasks, {self.iterations:,} iterations, "
                f"seed {self.seed}: finish P50 {float(f.percentile(50)):,.2f}, P80 "
                f"{float(f.percentile(80)):,.2f} working days{cost}{lev})")

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
        task_pct = self.tasks.finish_percentile(list(qs))
        tasks = [
            {
                "id": _jsonable_id(tid),
                "name": self.tasks.names[i],
                "criticality": float(self.tasks.criticality[i]),
                "start_mean": float(self.tasks.start_mean[i]),
                "finish_mean": float(self.tasks.finish_mean[i]),
                "finish_std": float(self.tasks.finish_std[i]),
                "finish_percentiles": {stats.percentile_key(q): float(v)
                                       for q, v in zip(qs, task_pct[i])},
            }
            for i, tid in enumerate(self.task_ids)
        ]
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
             "total_float": float(self.total_float[i]), "critical": bool(self.critical[i])}
            for i, tid in enumerate(self.task_ids)
        ]
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
    percentile (``percentile_shift``) and of the mean finish (``mean_shift``)."""

    id: Any
    name: str
    kind: str
    percentile_shift: float
    mean_shift: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": _jsonable_id(self.id), "name": self.name, "kind": self.kind,
                "percentile_shift": float(self.percentile_shift),
                "mean_shift": float(self.mean_shift)}


@dataclass(frozen=True)
class RiskRanking:
    """The risk tornado of :func:`pmosim.rank_risks`, largest percentile shift first."""

    percentile: float
    iterations: int
    seed: int
    risk_mode: str
    baseline_percentile: float
    baseline_mean: float
    entries: list

    def to_dict(self) -> dict[str, Any]:
        return {"percentile": self.percentile, "iterations": self.iterations, "seed": self.seed,
                "risk_mode": self.risk_mode, "baseline_percentile": self.baseline_percentile,
                "baseline_mean": self.baseline_mean,
                "ranking": [e.to_dict() for e in self.entries]}

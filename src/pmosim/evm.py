"""Earned value management (EVM) and earned schedule (ES) of a project's status updates.

A status update (:class:`StatusPeriod`) gives, at a status date, each task's actual
start and finish, percent complete, actual cost and remaining duration
(:class:`TaskStatus`; tasks it leaves out have not started).
:func:`earned_value` measures a series of them against the project's **baseline**
(:class:`Baseline`, made by :func:`make_baseline`): the planned schedule
(:func:`pmosim.cpm`: each task's early start and finish) and each task's budget at
completion (its planned cost: ``cost_fixed`` plus ``cost_rate`` times its planned
duration, each cost's mode, as :func:`pmosim.simulate` prices the plan; tasks that may
not happen, existence < 1, and the less likely options of a branch have no budget).

Time is working days of the project's calendar from the project start (time 0 of the
model); a status date counts to the end of that day, an actual start from the start
of its day and an actual finish to the end of its day. Projects imported with working
calendars (MS Project, P6, DSLIB) count working time on their axis calendar, to the
hour.

Planned value
    A task's budget accrues **linearly over its planned working duration**, from its
    planned start to its planned finish (a milestone's at its date), so the planned
    value PV(t) of the project is piecewise linear in working time. With
    ``accrual="start"`` (or ``"end"``) the fixed part of a task's budget
    (``cost_fixed``) accrues at its planned start (finish) and only the time-dependent
    part (``cost_rate``) linearly: ProTrack's rule, which the DSLIB workbooks use, and
    MS Project's ``FixedCostAccrual``. A project without costs is measured in
    working days instead (``basis="duration"``: a task's budget is its planned
    duration), which keeps every schedule measure; cost measures are then undefined.

Earned value and actual cost
    EV is the sum over tasks of percent complete times budget (with the ``"start"`` or
    ``"end"`` accrual, the fixed part is earned in full once the task has started or
    finished). AC is the sum of the actual costs reported; a period that reports none
    has no AC (NaN) and no cost measures.

Measures per period (AT, the actual time, is the status date's working time from
the project start, or the actual finish once every task is complete)::

    SV = EV - PV          SPI = EV / PV          CV = EV - AC     CPI = EV / AC
    SCI = SPI * CPI       ES: the time at which PV(ES) = EV
    SV(t) = ES - AT       SPI(t) = ES / AT       SCI(t) = SPI(t) * CPI

ES is Lipke's earned schedule [1]_: ``ES = C + (EV - PV_C) / (PV_C+1 - PV_C)``, C
the last time increment whose cumulative PV the EV reaches, the rest linear
interpolation. pmosim takes the increments at the breakpoints of the PV curve (every
planned start and finish), between which PV is linear, so the interpolation is exact;
for a schedule of whole working days this is Lipke's formula with daily increments.
Where PV stays level at EV for a while (no budget planned in that stretch) every time
in it has PV = EV, and ES is the one closest to AT, so a project exactly on its plan has
ES = AT (ProTrack's choice too; Lipke's count of increments takes the latest). So EV = 0
gives ES = 0 when the plan earns from its first day, and a finished project has ES = PD,
the planned duration (see :meth:`Baseline.earned_schedule`).

Forecasts: the cost estimate at completion ``EAC = AC + (BAC - EV) / PF`` with the
performance factors PF = 1, CPI, SPI, SPI(t), SCI, SCI(t), 0.8 CPI + 0.2 SPI and
0.8 CPI + 0.2 SPI(t) (:data:`EAC_FACTORS`) [4]_, and the duration estimate at
completion of the earned schedule method, ``IEAC(t) = AT + (PD - ES) / PF`` with PF =
1, SPI(t) and SCI(t) (:data:`IEAC_FACTORS`), the three earned-schedule variants that
Vandevoorde and Vanhoucke [2]_ [3]_ compare with the planned-value and
earned-duration methods (and find the most reliable).

:func:`apply_status` turns a status into a project to simulate from it (completed
tasks keep their actual dates and costs, in-progress tasks their remaining duration
after the status date, nothing starts before it): ``pmosim run --status-date``.

References
----------
.. [1] Lipke, W. (2003). Schedule is different. The Measurable News, March 2003,
   31-34; and Lipke, W. (2009), Earned Schedule, Lulu.
.. [2] Vandevoorde, S., Vanhoucke, M. (2006). A comparison of different project
   duration forecasting methods using earned value metrics. International Journal of
   Project Management 24(4), 289-302. doi:10.1016/j.ijproman.2005.10.004
.. [3] Vanhoucke, M. (2010). Measuring Time: Improving Project Performance Using
   Earned Value Management. Springer, International Series in Operations Research &
   Management Science 136. Summarised in "Earned Value Management: Forecasting time",
   PM Knowledge Center, http://www.pmknowledgecenter.com/dynamic_scheduling/control/
   earned-value-management-forecasting-time
.. [4] Project Management Institute (2019). The Standard for Earned Value Management.
   (EAC = AC + (BAC - EV) / PF; the composite factor 0.8 CPI + 0.2 SPI.)

Examples
--------
>>> import pmosim
>>> from pmosim.evm import StatusPeriod, TaskStatus, earned_value
>>> p = pmosim.Project("demo")
>>> p.add_task("a", 4, cost_rate=100.0)
>>> p.add_task("b", 6, cost_fixed=600.0)
>>> p.add_link("a", "b")
>>> status = StatusPeriod(5.0, {"a": TaskStatus(0.0, 5.0, 1.0, 480.0),
...                             "b": TaskStatus(5.0, None, 0.0, 0.0)})
>>> r = earned_value(p, [status])
>>> float(r.pv[0]), float(r.ev[0]), float(r.ac[0]), float(r.es[0])
(500.0, 400.0, 480.0, 4.0)
>>> round(float(r.spi_t[0]), 3), float(r.ieac_t["1"][0])
(0.8, 11.0)
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
from dataclasses import dataclass, field, replace
from typing import Any, Hashable, Mapping

import numpy as np

from .calendar import WorkCalendar, as_date
from .distributions import (
    Discrete, Distribution, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen,
    Uniform,
)
from .errors import ModelError
from .model import Project, as_project, planned_duration, task_costs, task_duration

#: How the fixed part of a task's budget (``cost_fixed``) accrues: linearly with the
#: rest ("prorated"), all at the planned start or all at the planned finish.
ACCRUALS = ("prorated", "start", "end")
#: What value is measured in: money (the tasks' planned costs) or working days.
BASES = ("cost", "duration")
#: Performance factors of the cost forecasts EAC = AC + (BAC - EV) / PF.
EAC_FACTORS = ("1", "CPI", "SPI", "SPI(t)", "SCI", "SCI(t)", "0.8CPI+0.2SPI",
               "0.8CPI+0.2SPI(t)")
#: Performance factors of the earned-schedule duration forecasts IEAC(t) = AT + (PD - ES) / PF.
IEAC_FACTORS = ("1", "SPI(t)", "SCI(t)")
#: Times (working days) closer than this count as equal: actual dates against the
#: status date, after conversions from hours.
TIME_TOL = 1e-6
#: Import formats whose time 0 is the data date of a progressed schedule: their baseline
#: is the file's baseline dates, not a CPM of the remaining work.
_PROGRESSED_FORMATS = ("mspdi", "xer", "pmxml")


@dataclass(frozen=True)
class TaskStatus:
    """One task's progress at a status date.

    Every field is optional. ``actual_start`` and ``actual_finish`` are dates
    (``datetime.date``, ``datetime.datetime`` or ISO text) or working days from the
    project start (numbers, as ``fixed_start``/``fixed_finish``). ``percent_complete``
    is a **fraction**, 0.25 for 25 % (as :class:`pmosim.io.dslib.ActivityStatus`; the
    scenario files take percent); when it is missing it is 1 for a finished task, 0
    for one not started, and for one in progress the share of its duration done,
    ``elapsed / (elapsed + remaining_duration)``. ``actual_cost`` is the cost spent
    to the status date; ``remaining_duration`` the working days still to go (for
    re-forecasts; default: the planned duration times ``1 - percent_complete``).
    A task is finished when it has an actual finish (or is 100 % complete) and
    started when it has an actual start or any progress.
    """

    actual_start: Any = None
    actual_finish: Any = None
    percent_complete: float | None = None
    actual_cost: float | None = None
    remaining_duration: float | None = None


@dataclass(frozen=True)
class StatusPeriod:
    """A status update: ``status_date`` (a date, datetime, ISO text or working days from
    the project start) and ``activities``, task id -> :class:`TaskStatus` (tasks left
    out have not started). Any object with these attributes works the same, such as
    :class:`pmosim.io.dslib.TrackingPeriod`; ``name`` labels it in reports."""

    status_date: Any
    activities: Mapping[Hashable, TaskStatus]
    name: str | None = None


@dataclass(frozen=True, eq=False)
class Baseline:
    """The performance measurement baseline: each task's planned dates and budget.

    Attributes
    ----------
    task_ids : list
        Node order of the project.
    start, finish : float64[n]
        Planned start and finish (working time, time 0 of the model).
    fixed, variable : float64[n]
        Each task's budget split into the part that accrues by ``accrual`` and the
        part that accrues linearly over its planned duration (everything under
        ``"prorated"``); zero for tasks not in the plan.
    duration : float64[n]
        Planned durations (working days), for remaining durations from percentages.
    origin : float
        Working time of the project start: ES, AT and PD count from it.
    planned_duration : float
        PD: from ``origin`` to the planned finish.
    basis, accrual : str
        ``"cost"`` or ``"duration"`` (see :data:`BASES`); see :data:`ACCRUALS`.
    in_plan : bool[n]
        The tasks the plan expects to happen (not those with existence < 1, the less
        likely options of a branch, import connectors): the project has finished when
        all of them have.
    """

    task_ids: list
    start: np.ndarray
    finish: np.ndarray
    fixed: np.ndarray
    variable: np.ndarray
    duration: np.ndarray
    origin: float
    planned_duration: float
    basis: str
    accrual: str
    in_plan: np.ndarray

    @property
    def budget(self) -> np.ndarray:
        """Each task's budget at completion."""
        return self.fixed + self.variable

    @property
    def bac(self) -> float:
        """The budget at completion, BAC."""
        return float(np.sum(self.budget))

    def _steps(self, strict: bool):
        """(points, cumulative amounts) of the budget that accrues at one instant: with
        ``strict`` the fixed parts under ``accrual="start"``, which accrue once work has
        begun (after the start: a task planned to start the morning after the status
        date has earned nothing by it); else whole milestones and, under ``"end"``, the
        fixed parts, which accrue at their time."""
        instant = self.finish - self.start <= 0
        if strict:
            points = self.start[~instant] if self.accrual == "start" else np.zeros(0)
            amounts = self.fixed[~instant] if self.accrual == "start" else np.zeros(0)
        else:
            points, amounts = [self.start[instant]], [self.budget[instant]]
            if self.accrual == "end":
                points.append(self.finish[~instant])
                amounts.append(self.fixed[~instant])
            points, amounts = np.concatenate(points), np.concatenate(amounts)
        keep = amounts > 0
        order = np.argsort(points[keep], kind="stable")
        return points[keep][order], np.cumsum(amounts[keep][order])

    def planned_value(self, t, *, side: str = "value") -> np.ndarray:
        """PV at working times ``t`` (array_like). ``side="left"`` (``"right"``) gives the
        limit from the left (right), which differs from the value where a milestone or
        a fixed cost accrues at t."""
        t = np.asarray(t, dtype=float)
        flat = np.atleast_1d(t).ravel()
        d = self.finish - self.start
        timed = d > 0
        rate = np.where(timed, self.variable / np.where(timed, d, 1.0), 0.0)
        s_order = np.argsort(self.start[timed], kind="stable")
        f_order = np.argsort(self.finish[timed], kind="stable")
        s, rs = self.start[timed][s_order], rate[timed][s_order]
        f, rf = self.finish[timed][f_order], rate[timed][f_order]
        zero = np.zeros(1)
        cum_rs = np.concatenate([zero, np.cumsum(rs)])
        cum_rss = np.concatenate([zero, np.cumsum(rs * s)])
        cum_rf = np.concatenate([zero, np.cumsum(rf)])
        cum_rff = np.concatenate([zero, np.cumsum(rf * f)])
        i = np.searchsorted(s, flat, side="right")
        j = np.searchsorted(f, flat, side="right")
        # rate * (t - s) summed over the started tasks, less rate * (t - f) over the
        # finished ones: each task's linear accrual, capped at its finish
        pv = flat * (cum_rs[i] - cum_rf[j]) - (cum_rss[i] - cum_rff[j])
        for strict in (False, True):
            points, cum = self._steps(strict)
            after = side == "right" or (side == "value" and not strict)
            k = np.searchsorted(points, flat, side="right" if after else "left")
            pv = pv + np.concatenate([zero, cum])[k]
        bac = self.bac
        pv = np.clip(pv, 0.0, bac)
        end = self.end_time
        pv[flat > end if side == "left" else flat >= end] = bac
        return pv.reshape(np.shape(t)) if np.ndim(t) else pv[0]

    @property
    def end_time(self) -> float:
        """Working time at which every budget has accrued (the last planned finish)."""
        return float(np.max(self.finish)) if len(self.finish) else self.origin

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times, pv)``: the PV curve through its breakpoints, a jump as two points."""
        times = self._breakpoints()
        left = self.planned_value(times, side="left")
        right = self.planned_value(times, side="right")
        xs = np.repeat(times, 2)
        ys = np.column_stack([left, right]).ravel()
        return xs, ys

    def _breakpoints(self) -> np.ndarray:
        end = self.origin + self.planned_duration
        pts = np.concatenate([[self.origin, end], self.start, self.finish])
        return np.unique(np.clip(pts, self.origin, end))

    def earned_schedule(self, ev, at=None, complete=None) -> np.ndarray:
        """ES (working days from ``origin``) of each earned value in ``ev``.

        The time at which PV reaches EV, interpolated linearly (Lipke's C + I). Where
        PV stays at EV for a while (no budget planned in that stretch), every time in it
        has PV = EV; ES is then the one closest to the actual time ``at`` (working days
        from ``origin``, one per EV): a project exactly on its plan has ES = AT, however
        flat the plan is around the status date (ProTrack's choice too). Without ``at``
        it is the latest, as Lipke's count of whole increments gives. A project that has
        finished (``complete``, one flag per EV) has ES = PD, as in Lipke's count; EV =
        BAC before then (tasks without budget left) follows the rule above up to PD.
        """
        ev = np.atleast_1d(np.asarray(ev, dtype=float))
        at = (np.full(ev.shape, np.inf) if at is None
              else np.broadcast_to(np.asarray(at, dtype=float), ev.shape))
        complete = (np.zeros(ev.shape, bool) if complete is None
                    else np.broadcast_to(np.asarray(complete, dtype=bool), ev.shape))
        pd, bac = self.planned_duration, self.bac
        tol = 1e-9 * bac
        times = self._breakpoints()
        right = self.planned_value(times, side="right")
        left = self.planned_value(times, side="left")
        last = len(times) - 1
        out = np.empty(ev.shape)
        for n, value in enumerate(ev):
            if not np.isfinite(value):
                out[n] = np.nan
                continue
            if complete[n]:
                out[n] = pd
                continue
            value = min(max(value, 0.0), bac)
            # latest time with PV <= EV
            j = int(np.searchsorted(right, value + tol, side="right")) - 1
            if j < 0:
                hi = times[0]
            elif j == last or value >= bac - tol:
                hi = times[last]
            elif left[j + 1] > value + tol:
                hi = _interpolate(times, right, left, j, value)
            else:
                hi = times[j + 1]
            # earliest time with PV >= EV
            j = int(np.searchsorted(left, value - tol, side="left"))
            if j == 0:
                lo = times[0]
            elif right[j - 1] >= value - tol:
                lo = times[j - 1]               # reached in the jump at times[j - 1]
            else:
                lo = _interpolate(times, right, left, j - 1, value)
            lo = min(lo, hi)
            out[n] = min(max(self.origin + at[n], lo), hi) - self.origin
        return out


def _interpolate(times, right, left, j, value) -> float:
    """The time in segment ``times[j]..times[j + 1]`` (PV linear from ``right[j]`` to
    ``left[j + 1]``) at which PV = ``value``."""
    t0, t1 = times[j], times[j + 1]
    rise = left[j + 1] - right[j]
    if rise <= 0:
        return t0
    return t0 + min(max((value - right[j]) / rise, 0.0), 1.0) * (t1 - t0)


def default_accrual(project) -> str:
    """The fixed-cost accrual a project's status is measured with: its own
    (``meta["status_accrual"]``, a scenario's ``[status] fixed_cost_accrual``), else
    ``"start"`` for a DSLIB workbook (ProTrack's rule, by which its PV and EV were
    computed), else ``"prorated"``."""
    project = as_project(project)
    if project.meta.get("status_accrual"):
        return project.meta["status_accrual"]
    return "start" if project.meta.get("format") == "dslib" else "prorated"


def make_baseline(project, *, accrual: str | None = None, basis: str | None = None
                  ) -> Baseline:
    """The baseline of ``project``: its planned dates and each task's planned cost.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        A plan: its dates are its CPM schedule (:func:`pmosim.cpm`). A DSLIB workbook's
        are its Baseline Schedule's dates (``tool_start``/``tool_finish``, which the
        CPM reproduces where the reader could). A progressed MS Project or P6 import
        (time 0 its data date) is measured against the baseline its tasks carry
        (``baseline_start``/``baseline_finish``, MS Project's Baseline 0, and
        ``baseline_cost``, else their cost at completion).
    accrual : {"prorated", "start", "end"}, optional
        When the fixed part of each budget (``cost_fixed``) accrues (module doc);
        default: :func:`default_accrual`.
    basis : {"cost", "duration"}, optional
        Measure value in money or in planned working days; default: money when the
        plan has any cost, else working days.

    Returns
    -------
    Baseline

    Raises
    ------
    ModelError
        A plan with nothing to earn, an import without baseline dates.
    """
    project = as_project(project)
    accrual = accrual or default_accrual(project)
    if accrual not in ACCRUALS:
        raise ModelError(f"accrual must be one of {', '.join(ACCRUALS)} (when a task's fixed "
                         f"cost is earned), got {accrual!r}")
    if basis is not None and basis not in BASES:
        raise ModelError(f"basis must be one of {', '.join(BASES)}, got {basis!r}")
    fmt = project.meta.get("format")
    if fmt in _PROGRESSED_FORMATS:
        return _imported_baseline(project, accrual, basis)
    n = project.n_tasks
    fixed, variable = np.zeros(n), np.zeros(n)
    for i, (task_id, data) in enumerate(project.graph.nodes(data=True)):
        cf, cr = task_costs(task_id, data)
        if cf is not None:
            fixed[i] = _typical(cf)
        if cr is not None:
            variable[i] = _typical(cr) * planned_duration(task_id, data)
    graph = project.graph
    if fmt == "dslib" and all(d.get("tool_start") and d.get("tool_finish")
                              for _, d in graph.nodes(data=True)):
        # ProTrack's planned value follows the workbook's own dates
        moments = [(d["tool_start"], "start") for _, d in graph.nodes(data=True)]
        moments += [(d["tool_finish"], "end") for _, d in graph.nodes(data=True)]
        times = _times(project, moments)
        start, finish = times[:n], np.maximum(times[n:], times[:n])
        duration = np.array([planned_duration(t, d) for t, d in graph.nodes(data=True)])
        return _finish_baseline(project, list(graph.nodes), start, finish, fixed, variable,
                                duration, np.ones(n, bool), min(0.0, float(np.min(start))),
                                accrual, basis)
    from .compile import compile_project, has_calendars
    from .engine import _on_plan, cpm

    plan = cpm(project)
    compiled = compile_project(project, wallclock=has_calendars(project))
    in_plan = _on_plan(compiled.kernel, plan.early_start[compiled.topo],
                       plan.early_finish[compiled.topo])
    node = np.empty_like(compiled.topo)
    node[compiled.topo] = np.arange(compiled.n_tasks)
    return _finish_baseline(project, list(plan.task_ids), plan.early_start, plan.early_finish,
                            fixed, variable, np.asarray(plan.duration, dtype=float),
                            in_plan[node], min(0.0, float(np.min(plan.early_start))),
                            accrual, basis)


def _finish_baseline(project, task_ids, start, finish, fixed, variable, duration, in_plan,
                     origin, accrual, basis) -> Baseline:
    start = np.asarray(start, dtype=float)
    finish = np.asarray(finish, dtype=float)
    fixed = np.where(in_plan, fixed, 0.0)
    variable = np.where(in_plan, variable, 0.0)
    if basis is None:
        basis = "cost" if np.sum(fixed + variable) > 0 else "duration"
    if basis == "duration":
        fixed = np.zeros_like(fixed)
        variable = np.where(in_plan, np.maximum(duration, 0.0), 0.0)
    if accrual == "prorated":
        variable, fixed = variable + fixed, np.zeros_like(fixed)
    if not np.sum(fixed + variable) > 0:
        what = "cost nor duration" if basis == "duration" else "cost"
        raise ModelError(f"project {project.name!r}: the plan has no {what} to earn (every "
                         "task in it costs nothing and takes no time); earned value needs "
                         "a budget")
    pd = float(np.max(finish)) - origin if len(finish) else 0.0
    return Baseline(task_ids, start, finish, fixed, variable, np.asarray(duration, float),
                    float(origin), pd, basis, accrual, np.asarray(in_plan, bool))


def _imported_baseline(project, accrual, basis) -> Baseline:
    """The baseline of a progressed MS Project / P6 import from its tasks' baseline dates
    (import connectors, which stand for summary links, have no budget)."""
    graph = project.graph
    ids, missing = [], []
    for t, d in graph.nodes(data=True):
        if d.get("kind") == "connector":
            continue
        ids.append(t)
        if d.get("baseline_start") is None or d.get("baseline_finish") is None:
            missing.append(t)
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else "")
        how = ("save a baseline in MS Project (Project > Set Baseline, Baseline 0) and export "
               "the XML again" if project.meta.get("format") == "mspdi" else
               "Primavera exports keep no baseline dates per activity; import the baseline "
               "project as a scenario (pmosim import) and give the progress in its [status] "
               "table")
        raise ModelError(f"{project.meta.get('source', project.name)}: earned value needs the "
                         f"baseline's planned dates, and {len(missing)} task"
                         f"{'s have' if len(missing) != 1 else ' has'} none ({shown}); {how}")
    moments = [(graph.nodes[t]["baseline_start"], "start") for t in ids]
    moments += [(graph.nodes[t]["baseline_finish"], "end") for t in ids]
    times = _times(project, moments)
    k = len(ids)
    origin = float(np.min(times[:k]))
    pos = {t: i for i, t in enumerate(graph.nodes)}
    n = len(pos)
    start, finish = np.full(n, origin), np.full(n, origin)
    budget, duration = np.zeros(n), np.zeros(n)
    for j, t in enumerate(ids):
        i, d = pos[t], graph.nodes[t]
        start[i], finish[i] = times[j], max(times[k + j], times[j])
        cost = d.get("baseline_cost", d.get("cost"))
        if cost is None:
            cf, cr = task_costs(t, d)
            cost = ((_typical(cf) if cf is not None else 0.0)
                    + (_typical(cr) * planned_duration(t, d) if cr is not None else 0.0))
        budget[i] = max(float(cost), 0.0)
        base = d.get("baseline_duration", d.get("original_duration"))
        duration[i] = float(base) if base is not None else finish[i] - start[i]
    in_plan = np.zeros(n, bool)
    in_plan[[pos[t] for t in ids]] = True
    # an import's budget has no fixed/time split: it all accrues over the duration
    return _finish_baseline(project, list(graph.nodes), start, finish, np.zeros(n), budget,
                            duration, in_plan, origin, accrual, basis)


def _typical(dist) -> float:
    return float(dist.mode if dist.mode is not None else dist.mean)


# -- dates <-> working time ---------------------------------------------------------------
def _times(project, items) -> np.ndarray:
    """Working times (time 0 of the model) of ``items``, pairs ``(value, at)``: a number
    is already one; a date counts from the start (``at="start"``) or to the end
    (``"end"``) of its day; a datetime is that moment on a project with working
    calendars (hours), else its day."""
    out = np.empty(len(items))
    from .compile import has_calendars
    hourly = has_calendars(project)
    pending = []
    for k, (value, at) in enumerate(items):
        if isinstance(value, bool):
            raise ModelError(f"expected a date or working days, got {value!r}")
        if isinstance(value, (int, float, np.integer, np.floating)):
            x = float(value)
            if not math.isfinite(x):
                raise ModelError(f"expected a date or working days, got {value!r}")
            out[k] = x
            continue
        if isinstance(value, str):
            text = value.strip()
            try:
                value = (_dt.datetime.fromisoformat(text) if len(text) > 10
                         else _dt.date.fromisoformat(text))
            except ValueError:
                raise ModelError(f"expected a date like 2027-03-01 or working days, got "
                                 f"{value!r}") from None
        if isinstance(value, np.datetime64):
            value = as_date(value)
        if not isinstance(value, _dt.date):
            raise ModelError(f"expected a date like 2027-03-01 or working days, got {value!r}")
        pending.append((k, value, at))
    if not pending:
        return out
    if hourly:
        from .io._common import axis_days
        moments = []
        for _, value, at in pending:
            if not isinstance(value, _dt.datetime):
                day = value + _dt.timedelta(days=1) if at == "end" else value
                value = _dt.datetime.combine(day, _dt.time())
            moments.append(value)
        for (k, _, _), x in zip(pending, axis_days(project, moments)):
            out[k] = x
        return out
    if project.start is None:
        value = pending[0][1]
        raise ModelError(f"{as_date(value).isoformat()} is a date, but project "
                         f"{project.name!r} has no start date to count working days from; "
                         "set [project] start or give working days from the start (numbers)")
    calendar = project.calendar or WorkCalendar()
    for at in ("start", "end"):
        ks = [k for k, _, a in pending if a == at]
        if ks:
            days = [as_date(v) for k, v, a in pending if a == at]
            out[ks] = np.atleast_1d(calendar.working_time(project.start, days, at=at))
    return out


def _moment(value, at):
    """A date-like value as a datetime (a plain date at the first or last instant of its
    day), None for working days or what is not a date."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text) if len(text) > 10 else \
                _dt.date.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime.combine(value, _dt.time.min if at == "start" else _dt.time.max)
    return None


def _after(value, at, time, now, status_time) -> bool:
    """Whether an actual date is after the status date: as moments where both are dates
    (in working time the start of the next working day is the end of the status day),
    else in working time."""
    moment = _moment(value, at)
    if moment is not None and now is not None:
        return moment > now
    return time > status_time + TIME_TOL


def _label(value) -> str | None:
    """ISO text of a date or datetime (None for working days)."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return None


# -- status periods ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Resolved:
    """A period's status on the project's task order, times in working time."""

    name: str
    status_date: Any
    time: float
    started: np.ndarray
    complete: np.ndarray
    pc: np.ndarray
    ac: np.ndarray          # NaN: not reported
    start: np.ndarray       # NaN: unknown
    finish: np.ndarray
    remaining: np.ndarray   # NaN: not given
    warnings: list


def _period_name(period, k) -> str:
    name = getattr(period, "name", None)
    if name:
        return str(name)
    return _label(period.status_date) or f"period {k + 1} (day {float(period.status_date):g})"


def resolve_periods(project, periods, *, strict: bool = True) -> list:
    """Check ``periods`` against ``project`` and put them in working time, in date order
    (each a record of the status date's working time and, per task in node order,
    whether it started and finished, its percent complete, actual cost, actual dates
    and remaining duration; NaN where not given).

    Raises
    ------
    ModelError
        Naming the period and task: an unknown task, a percentage outside 0..1, a
        negative cost or remaining duration, a finish before its start, a finished
        task less than 100 % complete; with ``strict``, also an actual date after the
        status date, a remaining duration on a finished task and two periods on one
        status date (working time), which real records have (a finish booked a few days
        late, a remaining duration left on a finished task, two reports in one week) and
        which, without ``strict``, become warnings of the period (the remaining duration
        of a finished task is then ignored).
    """
    project = as_project(project)
    periods = list(periods)
    if not periods:
        raise ModelError("no status periods: give at least one status update")
    index = {t: i for i, t in enumerate(project.graph.nodes)}
    items = []
    for k, period in enumerate(periods):
        acts = getattr(period, "activities", None)
        if not hasattr(period, "status_date") or not isinstance(acts, Mapping):
            raise ModelError(f"status period {k + 1}: expected a StatusPeriod (status_date and "
                             f"activities), got {type(period).__name__}")
        items.append((period.status_date, "end"))
        for st in acts.values():
            items += [(st.actual_start, "start"), (st.actual_finish, "end")]
    known = [(v, a) for v, a in items if v is not None]
    try:
        times = iter(_times(project, known))
    except ModelError as exc:
        raise ModelError(f"status: {exc}") from None
    out = []
    for k, period in enumerate(periods):
        name = _period_name(period, k)
        t = next(times)
        n = len(index)
        r = _Resolved(name, period.status_date, t, np.zeros(n, bool), np.zeros(n, bool),
                      np.zeros(n), np.full(n, np.nan), np.full(n, np.nan),
                      np.full(n, np.nan), np.full(n, np.nan), [])
        late, leftover = [], []
        for task_id, st in period.activities.items():
            where = f"status {name!r}: task {task_id!r}"
            if task_id not in index:
                raise ModelError(f"{where} is not in the project")
            i = index[task_id]
            ts = next(times) if st.actual_start is not None else np.nan
            tf = next(times) if st.actual_finish is not None else np.nan
            flags = _check_status(where, st, t, ts, tf, strict, period.status_date)
            if "late" in flags:
                late.append(task_id)
            if "leftover" in flags:
                leftover.append(task_id)
            pc = st.percent_complete
            done = not np.isnan(tf) or (pc is not None and pc >= 1.0)
            rem = st.remaining_duration
            started = done or not np.isnan(ts) or (pc is not None and pc > 0)
            if pc is None:
                if done:
                    pc = 1.0
                elif rem is not None and started:
                    elapsed = max(t - ts, 0.0) if not np.isnan(ts) else 0.0
                    pc = elapsed / (elapsed + rem) if elapsed + rem > 0 else 0.0
                elif started:
                    raise ModelError(f"{where} has started (actual start) but gives neither "
                                     "percent_complete nor remaining; give one of them")
                else:
                    pc = 0.0
            r.started[i], r.complete[i], r.pc[i] = started, done, pc
            r.start[i], r.finish[i] = ts, tf
            if st.actual_cost is not None:
                r.ac[i] = float(st.actual_cost)
            if rem is not None and task_id not in leftover:
                r.remaining[i] = float(rem)
        for tasks, what in ((late, "actual dates after the status date (kept as given)"),
                            (leftover, "a remaining duration although finished (ignored)")):
            if tasks:
                shown = ", ".join(map(repr, tasks[:5])) + (" ..." if len(tasks) > 5 else "")
                r.warnings.append(f"status {name!r}: {len(tasks)} task"
                                  f"{'s' * (len(tasks) != 1)} with {what}: {shown}")
        out.append(r)
    out.sort(key=lambda r: r.time)
    for r0, r1 in zip(out, out[1:]):
        if abs(r1.time - r0.time) <= TIME_TOL:
            message = (f"status periods {r0.name!r} and {r1.name!r} have the same status "
                       "date (in working time)")
            if strict:
                raise ModelError(f"{message}; give one status per date")
            r1.warnings.append(message)
    return out


def _check_status(where, st, t, ts, tf, strict, status_date) -> set:
    """Raise the first problem of one task's status; without ``strict`` return what is
    let through instead: ``"late"`` (an actual date after the status date) and
    ``"leftover"`` (a remaining duration on a finished task, which is then ignored)."""
    pc = st.percent_complete
    if pc is not None:
        if isinstance(pc, bool) or not isinstance(pc, (int, float, np.integer, np.floating)) \
                or not 0.0 <= float(pc) <= 1.0:
            raise ModelError(f"{where}: percent complete must be a fraction in 0..1 (0.25 for "
                             f"25 %), got {pc!r}")
    for key, value in (("actual_cost", st.actual_cost), ("remaining", st.remaining_duration)):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, (int, float, np.integer, np.floating))
                or not math.isfinite(float(value)) or float(value) < 0):
            raise ModelError(f"{where}: {key} must be a number >= 0, got {value!r}")
    flags = set()
    now = _moment(status_date, "end")
    if not np.isnan(ts) and _after(st.actual_start, "start", ts, now, t):
        if strict:
            raise ModelError(f"{where}: actual start {_label(st.actual_start) or f'{ts:g}'} "
                             "is after the status date; an actual date is in the past")
        flags.add("late")
    if not np.isnan(tf):
        if _after(st.actual_finish, "end", tf, now, t):
            if strict:
                raise ModelError(f"{where}: actual finish "
                                 f"{_label(st.actual_finish) or f'{tf:g}'} is after the "
                                 "status date; an actual date is in the past")
            flags.add("late")
        if np.isnan(ts):
            raise ModelError(f"{where}: an actual finish needs the actual start too")
        if tf < ts - TIME_TOL:
            raise ModelError(f"{where}: actual finish {_label(st.actual_finish) or f'{tf:g}'} "
                             f"is before its actual start {_label(st.actual_start) or f'{ts:g}'}")
        if pc is not None and pc < 1.0 - 1e-9:
            raise ModelError(f"{where}: {100 * pc:g} % complete but finished (actual finish); "
                             "a finished task is 100 % complete: fix one of them")
    # finished as resolve_periods counts it: an actual finish, or 100 % complete
    finished = not np.isnan(tf) or (pc is not None and pc >= 1.0)
    if finished and st.remaining_duration is not None and st.remaining_duration > 0:
        if strict:
            how = "actual finish" if not np.isnan(tf) else "100 % complete"
            raise ModelError(f"{where}: remaining {st.remaining_duration:g} working days "
                             f"but finished ({how}); a finished task has none left: drop "
                             "its remaining, or its finish if it is still in progress")
        flags.add("leftover")
    return flags


# -- the result -------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EVMResult:
    """Earned value and earned schedule of each status period (see the module doc).

    Every array has one value per period, in status-date order; NaN where a measure
    is undefined (no AC reported, PV or AT zero, a cost measure on a duration basis).
    Amounts are in the project's currency (``basis="cost"``) or working days
    (``"duration"``); times (``at``, ``es``, ``sv_t``, ``planned_duration``,
    ``ieac_t``) in working days from the project start (``baseline.origin``).

    Attributes
    ----------
    names, status_dates : list
        Each period's label and status date (ISO text; None for working days).
    status_time : float64[p]
        The status date in working days from the project start; AT is the same until
        every task has finished, then the actual finish.
    at, pv, ev, ac, sv, cv, spi, cpi, sci, es, sv_t, spi_t, sci_t : float64[p]
    complete : float64[p]
        EV / BAC: the share of the budget earned.
    eac : dict
        Performance factor (:data:`EAC_FACTORS`) -> EAC per period.
    ieac_t : dict
        Performance factor (:data:`IEAC_FACTORS`) -> IEAC(t) per period.
    task_pv, task_ev, task_ac : float64[p, n]
        Per period and task (node order, ``task_ids``); task_ac NaN where not reported.
    """

    project_name: str
    basis: str
    accrual: str
    currency: str | None
    bac: float
    planned_duration: float
    names: list
    status_dates: list
    status_time: np.ndarray
    at: np.ndarray
    pv: np.ndarray
    ev: np.ndarray
    ac: np.ndarray
    sv: np.ndarray
    cv: np.ndarray
    spi: np.ndarray
    cpi: np.ndarray
    sci: np.ndarray
    es: np.ndarray
    sv_t: np.ndarray
    spi_t: np.ndarray
    sci_t: np.ndarray
    complete: np.ndarray
    eac: Mapping[str, np.ndarray]
    ieac_t: Mapping[str, np.ndarray]
    task_ids: list
    task_pv: np.ndarray
    task_ev: np.ndarray
    task_ac: np.ndarray
    baseline: Baseline = field(repr=False)
    warnings: list = field(default_factory=list)
    project: Any = field(default=None, repr=False)

    @property
    def n_periods(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        last = self.n_periods - 1
        return (f"EVMResult({self.project_name!r}, {self.n_periods} period"
                f"{'s' * (self.n_periods != 1)}, basis {self.basis}; latest "
                f"{self.names[last]!r}: SPI {self.spi[last]:.3f}, CPI {self.cpi[last]:.3f}, "
                f"SPI(t) {self.spi_t[last]:.3f})")

    def date_of(self, t) -> str | None:
        """The date (ISO text, finish rule) of ``t`` working days from the project start;
        None without a start date or for NaN."""
        start = getattr(self.project, "start", None)
        if start is None or t is None or not np.isfinite(t):
            return None
        calendar = getattr(self.project, "calendar", None) or WorkCalendar()
        return str(calendar.finish_dates(start, max(self.baseline.origin + float(t), 0.0)))

    def rows(self) -> list[dict]:
        """One dict per period (the ``periods`` of :meth:`to_dict`)."""
        out = []
        for k in range(self.n_periods):
            row = {"name": self.names[k], "status_date": self.status_dates[k]}
            for key in ("status_time", "at", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "sci",
                        "es", "sv_t", "spi_t", "sci_t", "complete"):
                row[key] = _num(getattr(self, key)[k])
            row["es_date"] = self.date_of(self.es[k])
            row["eac"] = {pf: _num(v[k]) for pf, v in self.eac.items()}
            row["ieac_t"] = {pf: _num(v[k]) for pf, v in self.ieac_t.items()}
            row["ieac_t_dates"] = {pf: self.date_of(v[k]) for pf, v in self.ieac_t.items()}
            out.append(row)
        return out

    def to_dict(self, per_task: bool = False) -> dict:
        """A JSON-ready dict (docs/results-format.md, "Status JSON"); NaN becomes None.
        ``per_task`` adds each task's PV, EV and AC per period."""
        start = getattr(self.project, "start", None)
        doc = {
            "project": {"name": self.project_name,
                        "start": start.isoformat() if start is not None else None,
                        "currency": self.currency},
            "basis": self.basis,
            "accrual": self.accrual,
            "bac": _num(self.bac),
            "planned_duration": _num(self.planned_duration),
            "planned_finish_date": self.date_of(self.planned_duration),
            "periods": self.rows(),
            "warnings": list(self.warnings),
        }
        if per_task:
            doc["tasks"] = [
                {"id": str(t), "pv": [_num(x) for x in self.task_pv[:, i]],
                 "ev": [_num(x) for x in self.task_ev[:, i]],
                 "ac": [_num(x) for x in self.task_ac[:, i]]}
                for i, t in enumerate(self.task_ids)]
        return doc


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _div(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
    out[ok] = a[ok] / b[ok]
    return out


def earned_value(project, periods, *, baseline: Baseline | None = None,
                 accrual: str | None = None, basis: str | None = None,
                 strict: bool = False) -> EVMResult:
    """Earned value and earned schedule of ``project`` at each status period.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        The plan (see :func:`make_baseline`).
    periods : iterable of StatusPeriod
        Status updates in any order (sorted by status date); any objects with
        ``status_date`` and ``activities`` (task id -> an object with
        ``actual_start``, ``actual_finish``, ``percent_complete`` (a fraction),
        ``actual_cost``, ``remaining_duration``), such as the DSLIB tracking periods.
    baseline : Baseline, optional
        Default: ``make_baseline(project, accrual=..., basis=...)``.
    accrual : {"prorated", "start", "end"}, optional
        Default: :func:`default_accrual` (a scenario's ``[status] fixed_cost_accrual``,
        ``"start"`` for DSLIB, else ``"prorated"``).
    basis : {"cost", "duration"}, optional
        See :func:`make_baseline`.
    strict : bool
        Refuse actual dates after the status date and two periods on one status date
        (see :func:`resolve_periods`); by default they are warnings of the result.

    Returns
    -------
    EVMResult

    Raises
    ------
    ModelError
        A period that does not fit the project (see :func:`resolve_periods`), or a
        plan with nothing to earn.
    """
    project = as_project(project)
    if baseline is None:
        baseline = make_baseline(project, accrual=accrual, basis=basis)
    resolved = resolve_periods(project, periods, strict=strict)
    p, n = len(resolved), len(baseline.task_ids)
    if n != project.n_tasks:
        raise ModelError(f"the baseline has {n} tasks and the project {project.n_tasks}; "
                         "make the baseline from this project")
    budget, fixed, variable = baseline.budget, baseline.fixed, baseline.variable
    at = np.empty(p)
    task_pv, task_ev, task_ac = np.zeros((p, n)), np.zeros((p, n)), np.full((p, n), np.nan)
    pv, ev, ac = np.empty(p), np.empty(p), np.empty(p)
    warnings = [w for r in resolved for w in r.warnings]
    plan = budget > 0
    finished = np.zeros(p, bool)
    for k, r in enumerate(resolved):
        name, time = r.name, r.time
        finished[k] = bool(np.all(r.complete[baseline.in_plan]))
        ends = r.finish[baseline.in_plan]
        if finished[k] and np.all(np.isfinite(ends)) and ends.size:
            time = min(time, float(np.max(ends)))   # done: AT is the actual finish
        at[k] = time - baseline.origin
        if baseline.accrual == "prorated":
            earned = r.pc * budget
        else:
            whole = r.started if baseline.accrual == "start" else r.complete
            earned = np.where(whole, fixed, 0.0) + r.pc * variable
        task_ev[k] = earned
        ev[k] = float(np.sum(earned))
        task_pv[k] = _task_pv(baseline, time)
        pv[k] = float(baseline.planned_value(time))
        task_ac[k] = r.ac
        reported = np.isfinite(r.ac)
        if reported.any():
            ac[k] = float(np.sum(r.ac[reported]))
            silent = [baseline.task_ids[i] for i in np.flatnonzero(r.started & ~reported
                                                                   & plan)]
            if silent:
                shown = ", ".join(map(repr, silent[:5])) + (" ..." if len(silent) > 5 else "")
                warnings.append(f"status {name!r}: {len(silent)} started task"
                                f"{'s' * (len(silent) != 1)} report no actual cost ({shown}); "
                                "counted as 0 in AC")
        else:
            ac[k] = np.nan
    if baseline.basis == "duration":
        cost_ok = np.zeros(p, bool)
        if np.isfinite(ac).any():
            warnings.append("the plan has no costs, so value is measured in working days; "
                            "the actual costs reported are kept as AC but CPI and cost "
                            "forecasts are undefined")
    else:
        cost_ok = np.isfinite(ac)
    bac, pd = baseline.bac, baseline.planned_duration
    sv, spi = ev - pv, _div(ev, pv)
    cv = np.where(cost_ok, ev - ac, np.nan)
    cpi = np.where(cost_ok, _div(ev, ac), np.nan)
    es = baseline.earned_schedule(ev, at, finished)
    sv_t, spi_t = es - at, _div(es, at)
    sci, sci_t = spi * cpi, spi_t * cpi
    factors = {"1": np.ones(p), "CPI": cpi, "SPI": spi, "SPI(t)": spi_t, "SCI": sci,
               "SCI(t)": sci_t, "0.8CPI+0.2SPI": 0.8 * cpi + 0.2 * spi,
               "0.8CPI+0.2SPI(t)": 0.8 * cpi + 0.2 * spi_t}
    eac = {pf: np.where(cost_ok, ac + _div(bac - ev, factors[pf]), np.nan)
           for pf in EAC_FACTORS}
    ieac_t = {pf: at + _div(pd - es, factors[pf]) for pf in IEAC_FACTORS}
    return EVMResult(
        project_name=project.name, basis=baseline.basis, accrual=baseline.accrual,
        currency=project.meta.get("currency") if baseline.basis == "cost" else None,
        bac=bac, planned_duration=pd, names=[r.name for r in resolved],
        status_dates=[_label(r.status_date) for r in resolved],
        status_time=np.array([r.time for r in resolved]) - baseline.origin, at=at, pv=pv,
        ev=ev, ac=ac, sv=sv, cv=cv, spi=spi, cpi=cpi, sci=sci, es=es, sv_t=sv_t,
        spi_t=spi_t, sci_t=sci_t, complete=ev / bac, eac=eac, ieac_t=ieac_t,
        task_ids=list(baseline.task_ids), task_pv=task_pv, task_ev=task_ev, task_ac=task_ac,
        baseline=baseline, warnings=warnings, project=project)


def _task_pv(baseline: Baseline, t: float) -> np.ndarray:
    """Each task's PV at working time ``t``."""
    s, f = baseline.start, baseline.finish
    d = f - s
    frac = np.where(d > 0, np.clip((t - s) / np.where(d > 0, d, 1.0), 0.0, 1.0),
                    (t >= s).astype(float))
    if baseline.accrual == "prorated":
        return baseline.budget * frac
    whole = (t > s) if baseline.accrual == "start" else (t >= f)
    return np.where(whole, baseline.fixed, 0.0) + baseline.variable * frac


# -- picking and applying a status --------------------------------------------------------
def select_period(project, periods, date):
    """The latest period whose status date is on or before ``date`` (a date, ISO text,
    working days, or ``"latest"``).

    Raises
    ------
    ModelError
        No period, or ``date`` before the first status date (naming it).
    """
    project = as_project(project)
    periods = list(periods)
    if not periods:
        raise ModelError(f"project {project.name!r} has no status periods; add a [status] "
                         "table (docs/scenario-format.md, 'Status updates')")
    times = _times(project, [(p.status_date, "end") for p in periods])
    order = np.argsort(times, kind="stable")
    if isinstance(date, str) and date.strip().lower() == "latest":
        return periods[int(order[-1])]
    t = _times(project, [(date, "end")])[0]
    ok = [int(k) for k in order if times[k] <= t + TIME_TOL]
    if not ok:
        first = periods[int(order[0])]
        shown = _label(date) or f"{float(date):g} (working days)"
        raise ModelError(f"status date {shown} is before the first status "
                         f"update ({_period_name(first, int(order[0]))!r}); give a later date "
                         "or 'latest'")
    return periods[ok[-1]]


def apply_status(project, period, *, accrual: str | None = None) -> Project:
    """A copy of ``project`` to simulate forward from ``period``'s status.

    - A finished task keeps its actual dates (``fixed_start``/``fixed_finish``) and its
      actual cost (``cost_fixed``; no ``cost_rate``; its planned cost when none is
      reported); a finished task without dates counts as done at the status date.
    - A task in progress has its remaining duration after the status date: ``release``
      is the status date and ``duration`` its distribution scaled by remaining /
      planned duration (so its relative uncertainty stays), where the remaining
      duration is ``remaining_duration`` or else the planned duration times ``1 -
      percent_complete``. Its cost is the actual cost (else the budget times the
      percent complete) plus the fixed cost not yet earned (by ``accrual``) plus
      ``cost_rate`` on the remaining duration.
    - A task not started starts no earlier than the status date.
    - A task that started exists (existence 1, its condition dropped); a branch with a
      started task keeps that task's option only; risk events whose tasks have all
      finished are removed (they can no longer occur); correlation groups lose the
      finished tasks and those with a fixed remaining duration.

    The actual cost is recorded as ``actual_cost`` (the spent part of ``cost_fixed``,
    which cost uncertainty leaves unchanged). ``meta["status_applied"]`` names the
    period and its working time. In-progress tasks start (in the results) at the
    status date, as in progressed imports.
    """
    from .uncertainty import _copy

    base = as_project(project)
    accrual = accrual or default_accrual(base)
    if accrual not in ACCRUALS:
        raise ModelError(f"accrual must be one of {', '.join(ACCRUALS)}, got {accrual!r}")
    r, = resolve_periods(base, [period], strict=False)
    name = r.name
    # the periods hold read-only mappings (DSLIB) that deepcopy refuses; they are shared
    shell = copy.copy(base)
    shell.meta = {k: v for k, v in base.meta.items() if k not in ("status", "tracking")}
    out = _copy(shell)
    for key in ("status", "tracking"):
        if key in base.meta:
            out.meta[key] = base.meta[key]
    t = r.time
    graph = out.graph
    ids = list(graph.nodes)
    done_ids = set()
    for i, task_id in enumerate(ids):
        data = graph.nodes[task_id]
        if r.complete[i]:
            tf = r.finish[i] if np.isfinite(r.finish[i]) else t
            ts = r.start[i] if np.isfinite(r.start[i]) else tf
            data["fixed_start"], data["fixed_finish"] = float(ts), float(tf)
            if np.isfinite(r.ac[i]):
                data.pop("cost_rate", None)
                data["cost_fixed"] = float(r.ac[i])
                data["actual_cost"] = float(r.ac[i])
            done_ids.add(task_id)
        elif r.started[i]:
            planned = planned_duration(task_id, data)
            rem = r.remaining[i] if np.isfinite(r.remaining[i]) else planned * (1 - r.pc[i])
            dist = task_duration(task_id, data)
            data["duration"] = scaled(dist, rem / planned) if planned > 0 else Fixed(rem)
            data["planned"] = float(rem)
            data["release"] = max(float(data.get("release", 0.0)), float(t))
            _apply_cost(task_id, data, r.pc[i], r.ac[i], accrual)
        else:
            data["release"] = max(float(data.get("release", 0.0)), float(t))
        if r.started[i] or r.complete[i]:
            data.pop("existence", None)
            data.pop("when", None)
    started = {ids[i] for i in np.flatnonzero(r.started | r.complete)}
    for bid, branch in list(out.branches.items()):
        taken = [o for o in branch.options if started & set(o.tasks)]
        if not taken:
            continue
        if len(taken) > 1:
            raise ModelError(f"status {name!r}: tasks of two options of branch {bid!r} have "
                             "started, but exactly one option happens; fix the status")
        del out.branches[bid]
        for o in branch.options:
            for task_id in o.tasks:
                if o is taken[0]:
                    if o.when is not None and task_id not in started:
                        graph.nodes[task_id]["when"] = o.when
                else:
                    graph.nodes[task_id]["existence"] = 0.0
    out.risks = {rid: risk for rid, risk in out.risks.items()
                 if not set(risk.tasks) <= done_ids}
    # a finished task, or one with a fixed remaining duration, correlates with nothing
    groups = []
    for corr in out.correlations:
        keep = [k for k, t in enumerate(corr.tasks)
                if t not in done_ids and not isinstance(graph.nodes[t]["duration"], Fixed)]
        if len(keep) >= 2:
            groups.append(replace(corr, tasks=tuple(corr.tasks[k] for k in keep),
                                  matrix=corr.matrix[np.ix_(keep, keep)]))
    out.correlations = groups
    out.meta["status_applied"] = {"name": name, "status_date": _label(period.status_date),
                                  "time": float(t)}
    if isinstance(period.status_date, (_dt.date, str)):
        # the run history files a forecast under the status date
        out.meta["status_date"] = period.status_date
    return out


def _apply_cost(task_id, data, pc, ac, accrual) -> None:
    """Costs of an in-progress task: spent (``ac``, else budget x ``pc``) plus the fixed
    cost not yet earned; ``cost_rate`` stays on the remaining duration."""
    cf, cr = task_costs(task_id, data)
    if cf is None and cr is None and not np.isfinite(ac):
        return
    planned = planned_duration(task_id, data)
    fixed = _typical(cf) if cf is not None else 0.0
    spent = float(ac) if np.isfinite(ac) else pc * (fixed + (_typical(cr) * planned
                                                            if cr is not None else 0.0))
    left = {"prorated": 1.0 - pc, "start": 0.0, "end": 1.0}[accrual]
    rest = scaled(cf, left) if cf is not None and left > 0 else None
    data["cost_fixed"] = _shift(rest, spent) if rest is not None else Fixed(spent)
    data["actual_cost"] = spent


def scaled(dist: Distribution, factor: float) -> Distribution:
    """``dist`` times ``factor`` >= 0: the same family and shape, every location and scale
    parameter multiplied (a remaining duration, a remaining cost)."""
    if factor < 0 or not math.isfinite(factor):
        raise ModelError(f"a scale factor must be a finite number >= 0, got {factor!r}")
    if factor == 0:
        return Fixed(0.0)
    if isinstance(dist, Fixed):
        return Fixed(dist.value * factor)
    if isinstance(dist, (Uniform,)):
        return replace(dist, low=dist.low * factor, high=dist.high * factor)
    if isinstance(dist, (Triangular, Pert, Trigen)):
        return replace(dist, low=dist.low * factor, mode=dist.mode * factor,
                       high=dist.high * factor)
    if isinstance(dist, (Normal, LogNormal)):
        return replace(dist, mean=dist.mean * factor, sd=dist.sd * factor)
    if isinstance(dist, Exponential):
        return replace(dist, mean=dist.mean * factor)
    if isinstance(dist, Discrete):
        return Discrete([v * factor for v in dist.values], list(dist.weights))
    raise ModelError(f"cannot scale a {type(dist).__name__} distribution ({dist.describe()}) "
                     "to a remaining duration; give the task a remaining duration instead")


def _shift(dist: Distribution, offset: float) -> Distribution:
    if offset == 0:
        return dist
    if isinstance(dist, Fixed):
        return Fixed(dist.value + offset)
    if isinstance(dist, (Uniform, Triangular, Pert, Trigen)):
        moved = {"low": dist.low + offset, "high": dist.high + offset}
        if hasattr(dist, "mode") and not isinstance(dist, Uniform):
            moved["mode"] = dist.mode + offset
        return replace(dist, **moved)
    if isinstance(dist, Normal):
        return replace(dist, mean=dist.mean + offset)
    if isinstance(dist, Discrete):
        return Discrete([v + offset for v in dist.values], list(dist.weights))
    # no location parameter (lognormal, exponential): keep the shape, match the mean
    return scaled(dist, (dist.mean + offset) / dist.mean) if dist.mean > 0 else Fixed(offset)


# -- progress kept by schedule imports ------------------------------------------------------
def status_from_import(project) -> StatusPeriod | None:
    """The status of a progressed MS Project or P6 import as one :class:`StatusPeriod`.

    The importers keep each task's ``status``, ``actual_start``/``actual_finish``,
    ``percent_complete`` (percent), ``actual_cost`` and its remaining ``duration``;
    the status date is the file's status date (``meta["status_date"]``), else its data
    date. None when the project carries no progress (nothing has started).
    """
    project = as_project(project)
    meta = project.meta
    when = meta.get("status_date") or meta.get("data_date")
    if when is None:
        return None
    acts = {}
    for task_id, d in project.graph.nodes(data=True):
        if d.get("kind") == "connector" or d.get("status") is None:
            continue
        status = d["status"]
        ac = d.get("actual_cost")
        if status == "not started" and not ac:
            continue
        pc = d.get("percent_complete")
        pc = None if pc is None else min(max(float(pc) / 100.0, 0.0), 1.0)
        if status == "complete":
            pc = 1.0
        elif status == "not started":
            pc = 0.0
        rem = getattr(d.get("duration"), "value", None) if status == "in progress" else None
        acts[task_id] = TaskStatus(
            d.get("actual_start") if status != "not started" else None,
            d.get("actual_finish") if status == "complete" else None,
            pc, float(ac) if ac is not None else None, rem)
    if not acts:
        return None
    return StatusPeriod(when, acts, name=_label(when))


__all__ = ["TaskStatus", "StatusPeriod", "Baseline", "EVMResult", "make_baseline",
           "default_accrual",
           "earned_value", "resolve_periods", "select_period", "apply_status",
           "status_from_import", "scaled", "ACCRUALS", "BASES", "EAC_FACTORS",
           "IEAC_FACTORS"]

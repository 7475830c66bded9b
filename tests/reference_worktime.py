"""Reference wall-clock scheduler for the importer and calendar tests.

Test-only code; tests import it as ``reference_worktime`` (pytest's
``pythonpath = ["tests"]`` in pyproject.toml puts this folder on ``sys.path``):

- :func:`schedule_dates`: forward pass with per-task calendars, progress and
  constraints in plain Python on :class:`~pmosim.io._common.WorkWeek` calendars,
  the oracle that imported attributes reproduce the scheduling tool's early dates
  and that the calendar-aware kernels (``pmosim.kernels.worktime``,
  ``pmosim.kernels.passes_cal``) are checked against;
- :func:`axis_dates`: wall-clock dates of working-day offsets on the axis calendar;
- :func:`work_week`: a :class:`WorkWeek` for a calendar dict of
  ``project.meta["calendars"]``.

:class:`WorkWeek` itself stays in :mod:`pmosim.io._common` (the importers need it
for their engine hints) and is re-exported here.
"""

from __future__ import annotations

import datetime as _dt
import math

import networkx as nx

from pmosim.io._common import _EPS, WorkWeek
from pmosim.model import planned_duration

__all__ = ["WorkWeek", "schedule_dates", "axis_dates", "work_week"]


def schedule_dates(project) -> dict:
    """Reference forward pass with per-task calendars, progress and constraints.

    This is what a multi-calendar kernel has to compute; importers' tests use it to
    show that the imported attributes reproduce the scheduling tool's early dates.
    It reads ``project.meta["data_date"]`` and ``["calendars"]`` and node attributes
    ``status``, ``actual_start``/``actual_finish``, ``duration`` (remaining working
    days in the task's ``calendar``), ``kind`` and ``constraint``; edges ``type``,
    ``lag`` (days of ``lag_calendar``).

    Rules (Primavera P6 with retained logic; MS Project agrees for these):

    - completed tasks keep their actual dates; remaining work starts no earlier than
      the data date;
    - each link bound is computed in the lag calendar: ``finish_at(work(t) + lag)``;
      SS and SF lags of a started predecessor count from its actual start (P6 does
      so for SP10, whose ``sched_lag_early_start_flag`` is Y); set
      ``meta["ss_lag_from_actual_start"] = False`` to count them from the remaining
      work's start;
    - a task starts at the next working moment of its own calendar at or after its
      latest start bound and finishes ``duration`` working hours later (a finish on
      a period boundary stays at the end of the earlier period); finish bounds (FF,
      SF, finish constraints) move the start later so the finish meets them;
    - finish milestones sit at their latest bound (end of the predecessor's period),
      start milestones at the next working moment;
    - start-on / start-on-or-after constraints are start bounds, finish-on /
      finish-on-or-after finish bounds; as-late-as-possible tasks are then moved
      as late as their successors' early dates allow (zero free float).

    - optional: node ``resume`` (remaining work of a started task starts no earlier),
      ``elapsed_hours`` (a wall-clock duration),
      edge ``lag_elapsed_hours`` (a wall-clock lag), ``meta["in_progress_start"]``
      ``"actual"`` (report a started task's actual start, as MS Project does) or
      ``"remaining"`` (its remaining work's start, as P6 does; default);
      ``meta["constraint_beats_start"]`` True: a start constraint may place a task
      without predecessor bounds before time 0 (MS Project).

    Returns
    -------
    dict
        task id -> (early start, early finish) as ``datetime``.
    """
    meta = project.meta
    origin = meta["data_date"]
    graph = project.graph
    dates = [origin]
    for _, d in graph.nodes(data=True):
        dates += [x for x in (d.get("actual_start"), d.get("actual_finish"),
                              (d.get("constraint") or (None, None))[1]) if x]
    first = min(dates).date() - _dt.timedelta(days=14)
    total = sum(planned_duration(v, d) for v, d in graph.nodes(data=True))
    last = max(dates).date() + _dt.timedelta(days=int(total * 1.5) + 3650)
    used = {d.get("calendar") or meta.get("axis_calendar") for _, d in graph.nodes(data=True)}
    used |= {e["lag_calendar"] for _, _, e in graph.edges(data=True) if e.get("lag_calendar")}
    weeks = {}
    for key in used:
        cal = meta["calendars"][key]
        weeks[key] = WorkWeek(cal["week"], cal["exceptions"], origin, first, last, name=str(key))
    hpd = {key: cal["hours_per_day"] for key, cal in meta["calendars"].items()}
    axis = meta.get("axis_calendar")
    lag_from_actual_start = meta.get("ss_lag_from_actual_start", True)
    in_progress_start = meta.get("in_progress_start", "remaining")
    constraint_beats_start = meta.get("constraint_beats_start", False)
    es, ef = {}, {}
    order = list(nx.topological_sort(graph))
    for v in order:
        d = graph.nodes[v]
        cal = d.get("calendar") or axis
        week = weeks[cal]
        if d.get("status") == "complete" and d.get("actual_finish") is not None:
            ef[v] = week.hours(d["actual_finish"])
            es[v] = week.hours(d.get("actual_start") or d["actual_finish"])
            continue
        dur = planned_duration(v, d) * hpd[cal]
        cons = d.get("constraint")
        # MS Project lets a start constraint place a task before the project start;
        # P6 never schedules remaining work before the data date
        start_cons = bool(cons and cons[1] is not None and cons[0] in ("SNET", "SO", "MSO"))
        lo_start = -math.inf if constraint_beats_start and start_cons else 0.0
        lo_finish = -math.inf
        for u, _, e in graph.in_edges(v, data=True):
            lcal = e.get("lag_calendar") or graph.nodes[u].get("calendar") or axis
            lag = _value(e.get("lag", 0.0)) * hpd[lcal]
            kind = e.get("type", "FS")
            base = ef[u] if kind in ("FS", "FF") else es[u]
            started = graph.nodes[u].get("actual_start")
            if kind in ("SS", "SF") and lag_from_actual_start and started:
                base = weeks[lcal].hours(graph.nodes[u]["actual_start"])
            if e.get("lag_elapsed_hours") is not None:
                bound = base + e["lag_elapsed_hours"]
            else:
                bound = weeks[lcal].finish_at(weeks[lcal].work(base) + lag) if lag else base
            if kind in ("FS", "SS"):
                lo_start = max(lo_start, bound)
            else:
                lo_finish = max(lo_finish, bound)
        if d.get("resume") is not None:
            lo_start = max(lo_start, week.hours(d["resume"]))
        if cons and cons[1] is not None:
            t = week.hours(cons[1])
            if start_cons:
                lo_start = max(lo_start, t)
            elif cons[0] in ("FNET", "FO", "MFO"):
                lo_finish = max(lo_finish, t)
        kind = d.get("kind", "task")
        if kind == "connector":
            es[v] = ef[v] = max(lo_start, lo_finish)
            continue
        if kind == "finish milestone":
            # a finish milestone stays at the end of a working period but leaves
            # non-working time for the next working moment
            t = max(lo_start, lo_finish)
            w = week.work(t)
            es[v] = ef[v] = t if abs(week.finish_at(w) - t) <= _EPS else week.start_at(w)
            continue
        start = week.start_at(week.work(lo_start))
        if d.get("elapsed_hours") is not None:
            es[v], ef[v] = start, max(start + d["elapsed_hours"], lo_finish)
            continue
        finish = week.finish_at(week.work(start) + dur) if dur > 0 else start
        if lo_finish > finish + _EPS:
            # a finish bound on a period boundary is kept as it is (MS Project shows an
            # SF successor finishing at the 08:00 its predecessor starts)
            w_finish = week.work(lo_finish)
            on_boundary = min(abs(week.finish_at(w_finish) - lo_finish),
                              abs(week.start_at(w_finish) - lo_finish)) <= _EPS
            finish = lo_finish if on_boundary else week.finish_at(w_finish)
            start = week.start_at(w_finish - dur) if dur > 0 else finish
        es[v], ef[v] = start, finish
        if (d.get("status") == "in progress" and in_progress_start == "actual"
                and d.get("actual_start")):
            es[v] = week.hours(d["actual_start"])
    project_finish = max(ef.values())
    for v in reversed(order):
        d = graph.nodes[v]
        if (d.get("constraint") or (None,))[0] != "ALAP" or d.get("status") == "complete":
            continue
        cal = d.get("calendar") or axis
        week = weeks[cal]
        dur = planned_duration(v, d) * hpd[cal]
        latest = project_finish
        for _, s, e in graph.out_edges(v, data=True):
            lcal = e.get("lag_calendar") or cal
            lag = _value(e.get("lag", 0.0)) * hpd[lcal]
            lw = weeks[lcal]
            kind = e.get("type", "FS")
            base = es[s] if kind in ("FS", "SS") else ef[s]
            bound = lw.finish_at(lw.work(base) - lag)
            if kind in ("SS", "SF"):
                bound = week.finish_at(week.work(bound) + dur)
            latest = min(latest, bound)
        if latest > ef[v] + _EPS:
            w_finish = week.work(latest)
            if d.get("kind") == "finish milestone":
                es[v] = ef[v] = latest
            else:
                es[v] = week.start_at(w_finish - dur)
                ef[v] = week.finish_at(w_finish) if dur > 0 else es[v]
    dates = {}
    for v in order:
        week = weeks[graph.nodes[v].get("calendar") or axis]
        dates[v] = (week.date(es[v]), week.date(ef[v]))
    return dates


def _value(x) -> float:
    return float(getattr(x, "value", x))


def axis_dates(project, starts, finishes, zero_duration):
    """Wall-clock dates of tasks placed at ``starts``/``finishes`` working days on the axis.

    Uses ``meta["axis_calendar"]`` from ``meta["data_date"]`` the way scheduling tools
    show dates: a start on a period boundary is the next period's start, a finish the
    end of the earlier period; a zero-duration task sits where a finish would (at the
    next working moment when that is the data date itself).

    Parameters
    ----------
    starts, finishes : sequence of float
        Early start and finish in working days (e.g. ``pmosim.cpm(p).early_start``).
    zero_duration : sequence of bool
        Which tasks are milestones.

    Returns
    -------
    list of (datetime, datetime)
    """
    meta = project.meta
    cal = meta["calendars"][meta["axis_calendar"]]
    hpd = cal["hours_per_day"]
    origin = meta["data_date"]
    last = max([0.0, *finishes])
    week = WorkWeek(cal["week"], cal["exceptions"], origin, origin.date() - _dt.timedelta(days=14),
                    origin.date() + _dt.timedelta(days=int(last * 2) + 400),
                    name=str(meta["axis_calendar"]))
    out = []
    for s, f, zero in zip(starts, finishes, zero_duration):
        if zero:
            w = f * hpd
            t = week.date(week.finish_at(w) if w > _EPS else week.start_at(w))
            out.append((t, t))
        else:
            out.append((week.date(week.start_at(s * hpd)), week.date(week.finish_at(f * hpd))))
    return out


def work_week(cal: dict, origin, first, last, name) -> WorkWeek:
    """A :class:`WorkWeek` for a calendar dict of ``project.meta["calendars"]``."""
    return WorkWeek(cal["week"], cal["exceptions"], origin, first - _dt.timedelta(days=7),
                    last + _dt.timedelta(days=3650), name=f"{name} ({cal['name']})")

"""Seeded random projects with several working calendars, for the wall-clock kernel tests.

Each project has calendars with different weekly patterns (split days, a 7-day
week, a 4 x 10 h week, a night shift across midnight, Saturday mornings), holidays
and partial working days; tasks on random calendars, finish milestones and
zero-duration tasks; every link type with positive, negative and zero lags, lag
calendars and elapsed lags; completed and started tasks; start, finish and
as-late-as-possible constraints; elapsed durations. The scheduling-tool options of
``meta`` (``in_progress_start``, ``constraint_beats_start``,
``ss_lag_from_actual_start``) vary with the seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

import pmosim
from pmosim.distributions import Fixed, Triangular

LINK_TYPES = ("FS", "SS", "FF", "SF")


def _calendars(r, origin: dt.datetime) -> dict:
    def holidays(k, weekdays):
        out = {}
        for _ in range(k):
            day = origin.date() + dt.timedelta(days=int(r.integers(-30, 120)))
            if day.weekday() in weekdays:
                out[day] = []
        return out

    split = [(8.0, 12.0), (13.0, 17.0)]
    std_ex = holidays(4, range(5))
    std_ex[origin.date() + dt.timedelta(days=int(r.integers(1, 40)))] = [(8.0, 12.0)]
    return {
        "std": {"week": {d: split for d in range(5)}, "exceptions": std_ex,
                "hours_per_day": 8.0},
        "7d": {"week": {d: [(7.0, 12.0), (13.0, 18.0)] for d in range(7)},
               "exceptions": holidays(2, range(7)), "hours_per_day": 10.0},
        "4x10": {"week": {d: [(7.0, 17.0)] for d in range(4)},
                 "exceptions": holidays(3, range(4)), "hours_per_day": 10.0},
        "night": {"week": {d: [(0.0, 6.0), (22.0, 24.0)] for d in range(5)},
                  "exceptions": holidays(2, range(5)), "hours_per_day": 8.0},
        "sat": {"week": {d: [(8.0, 12.0)] for d in range(6)},
                "exceptions": {**holidays(2, range(6)),
                               origin.date() + dt.timedelta(days=int(r.integers(1, 30))): []},
                "hours_per_day": 4.0},
    }


def random_calendar_project(seed: int, n_tasks: int = 40, random_durations: bool = False,
                            progress: bool = True, elapsed: bool = True,
                            constraints: bool = True, calendars=None) -> pmosim.Project:
    """A seeded random multi-calendar project (see the module docstring).

    With ``random_durations``, not-started tasks get triangular durations around
    their planned one (for simulation tests); lags stay fixed. ``calendars`` limits
    the calendars used by tasks and lags (all by default).
    """
    r = np.random.default_rng(seed)
    origin = dt.datetime(2024, 1, 8) + dt.timedelta(days=int(r.integers(0, 7)),
                                                    hours=float(r.choice([0, 8, 10.5, 17])))
    cals = _calendars(r, origin)
    names = list(calendars or cals)
    p = pmosim.Project(f"calendars-{seed}")
    n_done = int(r.integers(0, 4)) if progress else 0
    for j in range(n_tasks):
        tid = f"t{j}"
        cal = names[r.integers(len(names))]
        days = float(r.choice([0.0, 0.5, 1.0, 2.25, 3.0, 7.0, 12.5]))
        attrs = dict(calendar=cal, kind="task", status="not started", constraint=None)
        if days == 0.0 and r.random() < 0.6:
            attrs["kind"] = "finish milestone"
        if j < n_done:
            start = origin - dt.timedelta(days=float(r.integers(5, 20)), hours=3)
            attrs.update(status="complete", actual_start=start,
                         actual_finish=start + dt.timedelta(days=float(r.integers(0, 4))))
            days = 0.0
        elif progress and j < n_done + 2 and r.random() < 0.7:
            attrs.update(status="in progress",
                         actual_start=origin - dt.timedelta(days=float(r.integers(1, 6))))
        elif elapsed and days > 0 and r.random() < 0.1:
            attrs["elapsed_hours"] = days * 24.0
            days = days * 5.0 / 7.0
        elif constraints and r.random() < 0.25:
            kind = r.choice(["SNET", "SO", "FNET", "FO", "ALAP", "ALAP"])
            when = origin + dt.timedelta(days=int(r.integers(0, 40)),
                                         hours=float(r.choice([8, 9.5, 12, 17, 23])))
            attrs["constraint"] = (str(kind), None if kind == "ALAP" else when)
        dur = Fixed(days)
        if random_durations and days > 0 and attrs["status"] == "not started" \
                and "elapsed_hours" not in attrs:
            dur = Triangular(0.5 * days, days, 2.0 * days)
        p.add_task(tid, dur, planned=days, **attrs)
    for j in range(1, n_tasks):
        for i in sorted(set(r.integers(0, j, size=int(r.integers(1, 4))).tolist())):
            if r.random() < 0.15:
                continue
            kind = LINK_TYPES[r.integers(4)]
            lag = float(r.choice([0.0, 0.0, 0.5, 1.0, 2.5, -0.5, -1.0]))
            p.add_link(f"t{i}", f"t{j}", kind, lag)
            edge = p.graph.edges[f"t{i}", f"t{j}"]
            if r.random() < 0.4:
                edge["lag_calendar"] = names[r.integers(len(names))]
            if elapsed and lag > 0 and r.random() < 0.15:
                edge["lag_elapsed_hours"] = lag * 24.0
                edge["lag"] = lag * 5.0 / 7.0
    p.meta.update(data_date=origin, calendars=cals, axis_calendar="std",
                  in_progress_start=str(r.choice(["actual", "remaining"])),
                  constraint_beats_start=bool(r.random() < 0.5),
                  ss_lag_from_actual_start=bool(r.random() < 0.7))
    return p

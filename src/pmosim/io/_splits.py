"""MS Project split tasks in MSPDI files: read, checked against the task dates, kept.

A split task's work is interrupted: MS Project shows it as parts with gaps between them.
MSPDI has no split element; the parts are in the timephased work of the task's
assignments (``<TimephasedData>`` of type 1, remaining work, one record per period with
its ``Value``): periods of working time with no work between the first and the last
period with work are the split time. MS Project's ``Duration`` counts the work only,
its ``Start`` and ``Finish`` span the parts and the gaps, so for a split task the working
time from ``Start`` to ``Finish`` exceeds ``Duration`` by exactly the split time;
:func:`keep_splits` keeps a split only when both agree.

pmosim keeps a split task as one task whose duration is its work plus its split time
(``split_days``, in working days of the task's calendar; ``splits`` lists the parts as
(start, finish) moments). One task, not a chain of part tasks, because:

- its start and finish are MS Project's, and so are its float and its successors' dates,
  with the gaps where MS Project puts them: inside the task, moving with it when a
  predecessor delays it (MS Project keeps a split's length when it reschedules);
- risk stays meaningful: an uncertainty range (``--uncertainty``,
  :func:`pmosim.uncertainty.apply_uncertainty`) applies to the work only, the split time
  is added unchanged, and the task is critical, ranked and reported as the one task the
  plan has (parts would be drawn independently, which understates the spread, and a
  risk on the task would hit one part).
"""

from __future__ import annotations

import datetime as _dt

from ..distributions import Fixed
from ..errors import ScheduleImportError
from ._common import WorkWeek

#: Agreement asked of the split time from the timephased data and from Start/Finish,
#: in working hours (one minute: MS Project stores times to the minute).
_TOLERANCE_HOURS = 1 / 60
#: Split tasks named in the warning; the rest are counted.
_LISTED = 10


def keep_splits(reader, g, calendars: dict, minutes_per_day: float, origin) -> None:
    """Add the split time of MS Project's split tasks to their durations (module doc).

    Parameters
    ----------
    reader : pmosim.io.mspdi._Reader
        For its XML helpers (``root``, ``q``, ``text``, ``date``) and its ``warnings``.
    g : pmosim.Project
        The tasks read so far: ``tool_start``/``tool_finish`` (MS Project's dates),
        ``original_duration``, ``status``, ``calendar``.
    calendars : dict
        The file's calendars as :mod:`pmosim.io.mspdi` reads them.
    minutes_per_day : float
    origin : datetime.datetime
        Time 0 of the working-time tables (the project start).
    """
    from .mspdi import _hours

    q = reader.q
    records: dict = {}
    damaged: dict = {}
    for a in reader.root.iter(q("Assignment")):
        uid = reader.text(a, "TaskUID")
        if uid is None or not uid.strip().lstrip("-").isdigit():
            continue
        for td in a.findall(q("TimephasedData")):
            if (reader.text(td, "Type") or "").strip() != "1":
                continue
            record = f"task {uid}: assignment timephased data"
            try:
                start = reader.date(td, "Start", record)
                finish = reader.date(td, "Finish", record)
                value = reader.text(td, "Value")
                hours = (_hours(value, reader.where(record), "Value", minutes_per_day)
                         if value else 0.0)
            except ScheduleImportError as exc:
                # the task dates are what MS Project schedules; timephased data only tells
                # where a split lies, so a damaged record costs the split, not the import
                damaged.setdefault(int(uid), str(exc))
                continue
            if start is None or finish is None or finish <= start:
                continue
            records.setdefault(int(uid), []).append((start, finish, hours))
    kept, disagree, not_kept = [], [], []
    for uid, recs in records.items():
        if uid not in g.graph or uid in damaged:
            continue
        data = g.graph.nodes[uid]
        start, finish = data.get("tool_start"), data.get("tool_finish")
        if data.get("kind") == "connector" or start is None or finish is None:
            continue
        cal = calendars[data["calendar"]]
        hpd = cal["hours_per_day"]
        work = _merged([(s, f) for s, f, h in recs if h > 0])
        if not work:
            continue
        first, last = min(work[0][0], start), max(work[-1][1], finish)
        week = WorkWeek(cal["week"], cal["exceptions"], origin,
                        first.date() - _dt.timedelta(days=7), last.date() + _dt.timedelta(days=7),
                        name=str(data["calendar"]))
        inside = sum(week.work(f) - week.work(s) for s, f in work)
        gap = week.work(work[-1][1]) - week.work(work[0][0]) - inside
        parts = _parts(week, work)
        if gap <= _TOLERANCE_HOURS:
            continue
        extra = week.work(finish) - week.work(start) - data["original_duration"] * hpd
        if extra <= _TOLERANCE_HOURS or data.get("resource_calendars"):
            # periods without work inside Duration: a work contour, not a split; or the
            # days off of a resource's calendar, which the import warns about already
            continue
        if data.get("status") != "not started" or data.get("elapsed_hours") \
                or data.get("manual"):
            not_kept.append(uid)
            continue
        if abs(extra - gap) > _TOLERANCE_HOURS:
            disagree.append(uid)
            continue
        days = gap / hpd
        data["duration"] = Fixed(data["duration"].value + days)
        data["split_days"] = days
        data["splits"] = parts
        kept.append((uid, days, len(parts)))
    if kept:
        listed = ", ".join(f"{uid} ({parts} parts, {days:g} working days of split)"
                           for uid, days, parts in kept[:_LISTED])
        more = f" and {len(kept) - _LISTED} more" if len(kept) > _LISTED else ""
        reader.warnings.append(
            f"{len(kept)} split task{'s' * (len(kept) != 1)} kept as one task each whose "
            f"duration is its work plus its split time, so it starts and finishes as in MS "
            f"Project (uncertainty ranges apply to the work only; node attributes split_days "
            f"and splits): {listed}{more}")
    if disagree:
        reader.warnings.append(
            f"tasks {sorted(disagree)[:_LISTED]}: the timephased work shows a split, but "
            "Start to Finish does not span Duration plus the split time; the split is not "
            "kept (the task is scheduled as one run of work)")
    if damaged:
        first = next(iter(damaged.values()))
        reader.warnings.append(
            f"tasks {sorted(damaged)[:_LISTED]}: timephased assignment data that cannot be "
            f"read (first: {first}); whether they are split is not known, each is scheduled "
            "as one run of work")
    if not_kept:
        reader.warnings.append(
            f"tasks {sorted(not_kept)[:_LISTED]}: split tasks that are started, manually "
            "scheduled or elapsed are scheduled as one run of work (their split time is not "
            "kept)")


def _merged(intervals) -> list:
    """Sorted intervals with overlapping or touching ones joined."""
    out: list = []
    for s, f in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], f))
        else:
            out.append((s, f))
    return out


def _parts(week, work) -> list:
    """The parts of a task's work as (start, finish) moments of working time: periods
    with work joined across time off (a night, a weekend), split at working time
    without work."""
    parts: list = []
    for s, f in work:
        a, b = week.work(s), week.work(f)
        if parts and a - parts[-1][1] <= _TOLERANCE_HOURS:
            parts[-1][1] = max(parts[-1][1], b)
        else:
            parts.append([a, b])
    return [(week.date(week.start_at(a)), week.date(week.finish_at(b))) for a, b in parts]

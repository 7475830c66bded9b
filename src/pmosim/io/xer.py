"""Read Primavera P6 XER exports.

An XER file is cp1252 text: an ``ERMHDR`` line, then tables, each a ``%T name`` line,
a ``%F`` line of tab-separated field names and ``%R`` rows, closed by ``%E``. The
reader uses PROJECT, CALENDAR, SCHEDOPTIONS, PROJWBS, TASK, TASKPRED and TASKRSRC and
reports every other table in the import report.

Mapping onto pmosim's model (one project per import):

- Time unit: working days; a task's duration is its *remaining* duration
  ``remain_drtn_hr_cnt`` divided by the hours per day of its own calendar; a completed
  task gets duration 0. Lags ``lag_hr_cnt`` are divided by the hours per day of the
  lag calendar that SCHEDOPTIONS names: the predecessor's (P6's default), the
  successor's, the project's, or a 24-hour calendar (``"24h"``).
- Time 0 is the data date (``last_recalc_date``, ``meta["data_date"]``);
  ``project.start`` is the first working day from it and ``project.calendar`` the
  day-level calendar of ``meta["axis_calendar"]``.
- Node attributes: ``duration`` (:class:`~pmosim.distributions.Fixed`), ``name``,
  ``code`` (``task_code``, also the task id), ``wbs`` (WBS code path), ``wbs_name``,
  ``kind`` (``"task"``, ``"start milestone"``, ``"finish milestone"``, ``"loe"``,
  ``"wbs summary"``), ``status`` (``"not started"``, ``"in progress"``,
  ``"complete"``), ``calendar`` (key of ``project.meta["calendars"]``),
  ``actual_start``/``actual_finish`` (datetime or None), ``constraint`` (None or
  ``(kind, datetime)`` with kind one of ``SNET SNLT FNET FNLT SO FO MSO MFO ALAP``),
  ``cost``/``actual_cost``/``remaining_cost`` (TASKRSRC sums), and P6's own
  ``tool_start``/``tool_finish`` (``early_start_date``/``early_end_date``), kept as an
  oracle.
- Engine hints on the working-day axis of ``meta["axis_calendar"]`` (the calendar most
  tasks use): ``release`` (earliest start from start-on/after constraints, >= 0),
  ``fixed_start``/``fixed_finish`` for completed tasks (<= 0). The engine ignores them
  today; ``schedule_dates`` in ``tests/reference_worktime.py`` is the reference
  forward pass with per-task calendars that reproduces P6's early dates.
- Edge attributes: ``type``, ``lag`` (days), ``lag_calendar``.

Examples
--------
>>> import tempfile, pathlib
>>> rows = ["ERMHDR\\t8.1", "%T\\tPROJECT",
...         "%F\\tproj_id\\tproj_short_name\\tlast_recalc_date\\tclndr_id",
...         "%R\\t1\\tDEMO\\t2024-01-08 08:00\\t1",
...         "%T\\tTASK", "%F\\ttask_id\\tproj_id\\ttask_code\\ttask_name\\ttask_type"
...         "\\tstatus_code\\tremain_drtn_hr_cnt\\tclndr_id",
...         "%R\\t10\\t1\\tA\\tDig\\tTT_Task\\tTK_NotStart\\t16\\t1",
...         "%R\\t11\\t1\\tB\\tPour\\tTT_Task\\tTK_NotStart\\t8\\t1",
...         "%T\\tTASKPRED", "%F\\ttask_id\\tpred_task_id\\tpred_type\\tlag_hr_cnt",
...         "%R\\t11\\t10\\tPR_SS\\t4", "%E"]
>>> path = pathlib.Path(tempfile.mkdtemp()) / "demo.xer"
>>> _ = path.write_text("\\n".join(rows), encoding="cp1252")
>>> p = read_xer(path)
>>> p.graph.nodes["A"]["duration"], p.graph.edges["A", "B"]["type"], p.graph.edges["A", "B"]["lag"]
(Fixed(value=2.0), 'SS', 0.5)
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter, defaultdict

from ..distributions import Fixed
from ..errors import ScheduleImportError
from ..model import Project
from ._common import (add_connector, engine_hints, import_report, parse_dt, read_text,
                      work_calendar)

__all__ = ["read_xer", "parse_xer_tables"]

_LINK = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_KIND = {"TT_Task": "task", "TT_Rsrc": "task", "TT_Mile": "start milestone",
         "TT_FinMile": "finish milestone", "TT_LOE": "loe", "TT_WBS": "wbs summary"}
_STATUS = {"TK_NotStart": "not started", "TK_Active": "in progress", "TK_Complete": "complete"}
_CONSTRAINT = {"CS_MSOA": "SNET", "CS_MSOB": "SNLT", "CS_MEOA": "FNET", "CS_MEOB": "FNLT",
               "CS_MSO": "SO", "CS_MEO": "FO", "CS_MANDSTART": "MSO", "CS_MANDFIN": "MFO",
               "CS_ALAP": "ALAP"}
_USED_TABLES = {"PROJECT", "CALENDAR", "SCHEDOPTIONS", "PROJWBS", "TASK", "TASKPRED", "TASKRSRC"}
#: Day numbers in P6 calendar data: 1 = Sunday .. 7 = Saturday; Python: 0 = Monday.
_P6_WEEKDAY = {1: 6, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}
_EXCEL_EPOCH = _dt.date(1899, 12, 30)


def read_xer(path, *, project: str | None = None) -> Project:
    """Read a Primavera P6 XER file into a :class:`~pmosim.model.Project`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xer`` file (cp1252 text).
    project : str, optional
        ``proj_short_name`` of the project to read when the file holds several;
        default: the one with most activities (a warning names the others).

    Raises
    ------
    ScheduleImportError
        Missing, binary, truncated or malformed file; unknown project; a link to an
        activity that is not in the file; a cycle-free check is left to ``validate()``.
    """
    text = read_text(path, "cp1252", "Primavera P6 XER")
    tables = parse_xer_tables(text, source=str(path))
    return _build(tables, str(path), project)


def parse_xer_tables(text: str, *, source: str = "<string>") -> dict[str, list[dict]]:
    """Split XER text into ``{table name: [row dicts]}``; checks the structure."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("ERMHDR"):
        head = lines[0][:40] if lines else ""
        raise ScheduleImportError(
            f"{source}: not a Primavera P6 XER file: the first line should start with "
            f"'ERMHDR', got {head!r}")
    tables: dict[str, list[dict]] = {}
    name = fields = None
    ended = False
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            name, fields = rest.strip(), None
            tables.setdefault(name, [])
        elif tag == "%F":
            if name is None:
                raise ScheduleImportError(
                    f"{source}, line {lineno}: %F field list before any %T table")
            fields = rest.split("\t")
        elif tag == "%R":
            if fields is None:
                raise ScheduleImportError(
                    f"{source}, line {lineno}: %R row in table {name!r} before its %F field list")
            values = rest.split("\t")
            if len(values) > len(fields):
                raise ScheduleImportError(
                    f"{source}, line {lineno}: table {name} row has {len(values)} values for "
                    f"{len(fields)} fields")
            tables[name].append(dict(zip(fields, values)))
        elif tag.strip() == "%E":
            ended = True
            break
        else:
            raise ScheduleImportError(
                f"{source}, line {lineno}: expected a %T, %F, %R or %E line, got {line[:40]!r}")
    if not ended:
        last = f" (last table read: {name})" if name else ""
        raise ScheduleImportError(
            f"{source}: the XER file is truncated: it has no %E end line{last}; "
            "export it again from P6")
    return tables


def _build(tables, source, wanted) -> Project:
    warnings: list[str] = []
    projects = tables.get("PROJECT", [])
    tasks_all = tables.get("TASK", [])
    if not projects:
        raise ScheduleImportError(f"{source}: the XER file has no PROJECT table rows")
    by_proj = Counter(t.get("proj_id") for t in tasks_all)
    if wanted is not None:
        chosen = [p for p in projects if p.get("proj_short_name") == wanted]
        if not chosen:
            names = ", ".join(p.get("proj_short_name", "?") for p in projects)
            raise ScheduleImportError(f"{source}: no project {wanted!r}; the file has {names}")
        proj = chosen[0]
    else:
        proj = max(projects, key=lambda p: by_proj.get(p.get("proj_id"), 0))
        if len(projects) > 1:
            others = [p.get("proj_short_name") for p in projects if p is not proj]
            warnings.append(f"file holds {len(projects)} projects; read "
                            f"{proj.get('proj_short_name')!r}, ignored {others} "
                            "(pass project=... to choose)")
    proj_id = proj.get("proj_id")
    data_date = parse_dt(proj.get("last_recalc_date")) or parse_dt(proj.get("plan_start_date"))
    if data_date is None:
        raise ScheduleImportError(
            f"{source}: project {proj.get('proj_short_name')!r} has no data date "
            "(last_recalc_date) nor planned start")

    tasks = [t for t in tasks_all if t.get("proj_id", proj_id) == proj_id]
    if not tasks:
        raise ScheduleImportError(
            f"{source}: project {proj.get('proj_short_name')!r} has no activities")

    calendars = _calendars(tables.get("CALENDAR", []), source, warnings)
    default_cal = proj.get("clndr_id") or next(iter(calendars), None)
    if default_cal not in calendars:
        calendars.setdefault(default_cal or "default", _standard_calendar())
        default_cal = default_cal or "default"
        warnings.append(f"project calendar {default_cal} is not in CALENDAR; "
                        "assumed Monday-Friday 08:00-16:00")

    wbs_code, wbs_name = _wbs(tables.get("PROJWBS", []), proj.get("name_sep_char") or ".")
    costs = _costs(tables.get("TASKRSRC", []))

    codes = Counter(t.get("task_code") for t in tasks)
    use_code = all(c and n == 1 for c, n in codes.items())
    if not use_code:
        warnings.append("task_code is missing or not unique; task ids are P6 task_id numbers")
    ids = {t["task_id"]: (t["task_code"] if use_code else t["task_id"]) for t in tasks}

    used_cals = Counter()
    g = Project(proj.get("proj_short_name") or proj_id, start=data_date.date(), time_unit="days")
    kinds = Counter()
    for t in tasks:
        cal = t.get("clndr_id") or default_cal
        if cal not in calendars:
            warnings.append(f"activity {ids[t['task_id']]}: calendar {cal} is not in CALENDAR; "
                            f"used the project calendar {default_cal}")
            cal = default_cal
        used_cals[cal] += 1
        hpd = calendars[cal]["hours_per_day"]
        kind = _KIND.get(t.get("task_type"), None)
        if kind is None:
            warnings.append(f"activity {ids[t['task_id']]}: unknown task_type "
                            f"{t.get('task_type')!r}, read as a task")
            kind = "task"
        kinds[kind] += 1
        status = _STATUS.get(t.get("status_code"), "not started")
        remaining = _float(t.get("remain_drtn_hr_cnt"), 0.0)
        if status == "complete" or kind.endswith("milestone"):
            remaining = 0.0
        constraint = None
        for key, date_key in (("cstr_type", "cstr_date"), ("cstr_type2", "cstr_date2")):
            code = t.get(key)
            if not code:
                continue
            if code not in _CONSTRAINT:
                warnings.append(f"activity {ids[t['task_id']]}: constraint {code} is not "
                                "supported and was ignored")
                continue
            if constraint is not None:
                warnings.append(f"activity {ids[t['task_id']]}: secondary constraint {code} "
                                "ignored (only the primary constraint is kept)")
                continue
            constraint = (_CONSTRAINT[code], parse_dt(t.get(date_key)))
        target = _float(t.get("target_drtn_hr_cnt"), remaining)
        cost = costs.get(t["task_id"], {})
        g.add_task(
            ids[t["task_id"]], Fixed(remaining / hpd), name=t.get("task_name") or None,
            code=t.get("task_code"), p6_task_id=t["task_id"],
            wbs=wbs_code.get(t.get("wbs_id"), ""), wbs_name=wbs_name.get(t.get("wbs_id"), ""),
            kind=kind, status=status, calendar=cal,
            original_duration=target / hpd,
            percent_complete=_float(t.get("phys_complete_pct"), 0.0),
            actual_start=parse_dt(t.get("act_start_date")),
            actual_finish=parse_dt(t.get("act_end_date")),
            expected_finish=parse_dt(t.get("expect_end_date")),
            constraint=constraint,
            cost=cost.get("target", 0.0), actual_cost=cost.get("actual", 0.0),
            remaining_cost=cost.get("remaining", 0.0),
            tool_start=parse_dt(t.get("early_start_date")),
            tool_finish=parse_dt(t.get("early_end_date")),
            tool_total_float=_float(t.get("total_float_hr_cnt"), None),
        )
    if kinds["loe"]:
        warnings.append(f"{kinds['loe']} level-of-effort activities imported as ordinary tasks "
                        "with their remaining duration; their dates span their links in P6")
    if kinds["wbs summary"]:
        warnings.append(f"{kinds['wbs summary']} WBS summary activities imported as ordinary tasks")
    orphans = sum(1 for r in tables.get("TASKRSRC", []) if r.get("task_id") not in ids)
    if orphans:
        warnings.append(f"{orphans} TASKRSRC rows refer to no activity of this project "
                        "and were ignored")

    options = (tables.get("SCHEDOPTIONS") or [{}])[0]
    lag_option = options.get("sched_calendar_on_relationship_lag") or "rcal_Predecessor"
    if lag_option == "rcal_24Hour":
        calendars["24h"] = {"name": "24 hours (relationship lags)", "hours_per_day": 24.0,
                            "week": {d: [(0.0, 24.0)] for d in range(7)}, "exceptions": {}}
    elif lag_option not in ("rcal_Predecessor", "rcal_Successor", "rcal_ProjDefault"):
        warnings.append(f"relationship lag calendar option {lag_option} not supported; "
                        "lags use the predecessor's calendar")
    link_missing = 0
    duplicates = 0
    imported_links = []
    for row in tables.get("TASKPRED", []):
        u, v = row.get("pred_task_id"), row.get("task_id")
        if u not in ids or v not in ids:
            link_missing += 1
            continue
        kind = _LINK.get(row.get("pred_type"))
        if kind is None:
            raise ScheduleImportError(
                f"{source}: TASKPRED {row.get('task_pred_id')}: unknown pred_type "
                f"{row.get('pred_type')!r}; expected PR_FS, PR_SS, PR_FF or PR_SF")
        pu, pv = ids[u], ids[v]
        lag_cal = {"rcal_Successor": g.graph.nodes[pv]["calendar"],
                   "rcal_ProjDefault": default_cal,
                   "rcal_24Hour": "24h"}.get(lag_option, g.graph.nodes[pu]["calendar"])
        lag = _float(row.get("lag_hr_cnt"), 0.0) / calendars[lag_cal]["hours_per_day"]
        imported_links.append((kind, lag))
        if g.graph.has_edge(pu, pv):
            duplicates += 1
            add_connector(g, pu, pv, kind, lag, lag_calendar=lag_cal)
            continue
        g.add_link(pu, pv, kind, lag)
        g.graph.edges[pu, pv]["lag_calendar"] = lag_cal
    if duplicates:
        warnings.append(f"{duplicates} second links between the same two activities kept "
                        "through zero-duration connector tasks (kind 'connector')")
    if link_missing:
        warnings.append(f"{link_missing} TASKPRED links to activities outside this project "
                        "were ignored")

    options = (tables.get("SCHEDOPTIONS") or [{}])[0]
    if (options.get("sched_retained_logic", "Y") != "Y"
            or options.get("sched_progress_override") == "Y"):
        warnings.append("progress override scheduling is not supported; retained logic is used")

    axis = used_cals.most_common(1)[0][0]
    g.meta.update(
        source=source, format="xer", data_date=data_date, project_calendar=default_cal,
        axis_calendar=axis, calendars=calendars,
        schedule_options={k: v for k, v in options.items() if k.startswith("sched_")},
        project_name=proj.get("proj_short_name"),
    )
    engine_hints(g)
    g.calendar = work_calendar(calendars[axis])
    g.start = g.calendar.next_workday(data_date.date())
    ignored = sorted(set(tables) - _USED_TABLES)
    statuses = Counter(d["status"] for _, d in g.graph.nodes(data=True) if d["kind"] != "connector")
    g.meta["import_report"] = import_report(
        "xer", source, g, calendars=len(calendars), warnings=warnings, links=imported_links,
        tasks_by_kind=dict(kinds), tasks_by_status=dict(statuses),
        constraints=dict(Counter(d["constraint"][0] for _, d in g.graph.nodes(data=True)
                                 if d.get("constraint"))),
        resource_assignments=len(tables.get("TASKRSRC", [])),
        total_cost=round(sum(d.get("cost", 0.0) for _, d in g.graph.nodes(data=True)), 2),
        data_date=data_date.isoformat(sep=" "), ignored_tables=ignored,
        duplicate_links=duplicates, external_links=link_missing,
    )
    return g


def _standard_calendar() -> dict:
    return {"name": "Standard", "hours_per_day": 8.0,
            "week": {d: [(8.0, 16.0)] for d in range(5)}, "exceptions": {}}


_INTERVAL = re.compile(r"\(s\|(\d\d?:\d\d)\|f\|(\d\d?:\d\d)\)|\(f\|(\d\d?:\d\d)\|s\|(\d\d?:\d\d)\)")
_TOKEN = re.compile(r"DaysOfWeek|Exceptions|VIEW|\(0\|\|([1-7])\(\)|\(d\|(\d+)\)|"
                    + _INTERVAL.pattern)


def _hours(text: str, end: bool) -> float:
    h, m = text.split(":")
    value = int(h) + int(m) / 60
    return 24.0 if end and value == 0 else value


def _calendars(rows, source, warnings) -> dict:
    out = {}
    for row in rows:
        cid = row.get("clndr_id")
        name = row.get("clndr_name", cid)
        hpd = _float(row.get("day_hr_cnt"), 8.0) or 8.0
        week: dict[int, list] = defaultdict(list)
        exceptions: dict[_dt.date, list] = {}
        section = current = None
        for m in _TOKEN.finditer(row.get("clndr_data", "")):
            token = m.group(0)
            if token in ("DaysOfWeek", "Exceptions", "VIEW"):
                section, current = token, None
            elif m.group(1) and section == "DaysOfWeek":
                current = ("day", _P6_WEEKDAY[int(m.group(1))])
                week.setdefault(current[1], [])
            elif m.group(2) and section == "Exceptions":
                day = _EXCEL_EPOCH + _dt.timedelta(days=int(m.group(2)))
                current = ("exc", day)
                exceptions[day] = []
            elif current is not None and (m.group(3) or m.group(5)):
                s, f = (m.group(3), m.group(4)) if m.group(3) else (m.group(6), m.group(5))
                interval = (_hours(s, False), _hours(f, True))
                target = week[current[1]] if current[0] == "day" else exceptions[current[1]]
                target.append(interval)
        if not any(week.values()):
            week = {d: [(8.0, 8.0 + hpd)] for d in range(5)}
            warnings.append(f"calendar {cid} ({name}): no readable working week; assumed "
                            f"Monday-Friday 08:00-{8 + hpd:g}:00")
        out[cid] = {"name": name, "hours_per_day": hpd, "week": dict(week),
                    "exceptions": exceptions}
    return out


def _wbs(rows, sep):
    by_id = {r["wbs_id"]: r for r in rows if "wbs_id" in r}
    codes, names = {}, {}

    def code(wid, depth=0):
        if wid in codes:
            return codes[wid]
        r = by_id.get(wid)
        if r is None or r.get("proj_node_flag") == "Y" or depth > 200:
            return ""
        parent = code(r.get("parent_wbs_id"), depth + 1)
        short = r.get("wbs_short_name", "")
        codes[wid] = f"{parent}{sep}{short}" if parent else short
        return codes[wid]

    for wid, r in by_id.items():
        code(wid)
        names[wid] = r.get("wbs_name", "")
    return codes, names


def _costs(rows):
    out: dict = defaultdict(lambda: {"target": 0.0, "actual": 0.0, "remaining": 0.0})
    for r in rows:
        c = out[r.get("task_id")]
        c["target"] += _float(r.get("target_cost"), 0.0)
        c["actual"] += _float(r.get("act_reg_cost"), 0.0) + _float(r.get("act_ot_cost"), 0.0)
        c["remaining"] += _float(r.get("remain_cost"), 0.0)
    return dict(out)


def _float(value, default):
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        return default

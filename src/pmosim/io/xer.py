"""Read Primavera P6 XER exports.

An XER file is cp1252 text: an ``ERMHDR`` line, then tables, each a ``%T name`` line,
a ``%F`` line of tab-separated field names and ``%R`` rows, closed by ``%E``. The
reader uses PROJECT, CALENDAR, SCHEDOPTIONS, PROJWBS, TASK, TASKPRED, RSRC, RSRCRATE,
TASKRSRC, PROJCOST, ROLERATE and CURRTYPE and reports every other table in the import
report. Every number and date it
reads is checked: a damaged field is a :class:`~pmosim.errors.ScheduleImportError` that
names the file, the line, the table, the activity (or other key) and the value.

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
  ``cost``/``actual_cost``/``remaining_cost`` (P6's budgeted, actual and remaining
  cost: TASKRSRC and PROJCOST sums), and P6's own
  ``tool_start``/``tool_finish`` (``early_start_date``/``early_end_date``), kept as an
  oracle; ``priority`` from ``priority_type`` (``PT_Top`` 900, ``PT_High`` 700,
  ``PT_Normal`` 500, ``PT_Low`` 300, ``PT_Lowest`` 100: higher levels first).
- Resources (RSRC) for levelling, with ids ``rsrc_short_name`` (P6's resource ID; the
  ``rsrc_id`` number when short names are missing or repeated). P6 keeps quantities per
  hour: ``max_qty_per_hr`` (RSRCRATE) is the resource's Max Units/Time and an
  assignment's ``remain_qty_per_hr`` (TASKRSRC) its Remaining Units/Time, both in units
  of the resource per hour, 1 being one full-time unit. pmosim counts both in units per
  working day of the resource's calendar (``qty_per_hr * day_hr_cnt``: 1 -> 8 on an
  8-hour calendar, P6's "8h/d"), so that a demand and its resource's capacity are in the
  same unit. Demands use the *remaining* units per time because durations are the
  remaining durations (``target_qty_per_hr`` when the remaining one is absent). RSRCRATE
  rows with later ``start_date`` become capacity changes; a resource without any gets
  P6's default of 1 unit per hour (said in a warning). Material resources (``RT_Mat``)
  and role-only assignments are not levelled. See :func:`pmosim.io._common.add_resources`
  for demands above the capacity.
- Engine hints on the working-day axis of ``meta["axis_calendar"]`` (the calendar most
  tasks use): ``release`` (earliest start from start-on/after constraints, >= 0),
  ``fixed_start``/``fixed_finish`` for completed tasks (<= 0). The engine ignores them
  today; ``schedule_dates`` in ``tests/reference_worktime.py`` is the reference
  forward pass with per-task calendars that reproduces P6's early dates.
- Costs: resource assignments (TASKRSRC: their costs, or quantities times rates where a
  file has no costs) and expenses (PROJCOST) become ``cost_fixed`` (actual cost, plus
  remaining cost that does not scale with the duration) and ``cost_rate`` (remaining
  labour and equipment cost per remaining working day), so that the planned cost is
  P6's cost at completion (actual + remaining); see :meth:`_Builder.costs` and
  :mod:`pmosim.io.costs`. ``meta["currency"]`` is the base currency (CURRTYPE) and the
  import report's ``costs`` section has the totals, P6's budgeted total among them.
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
from ._common import (FIRST_YEAR, LAST_YEAR, MAX_DAYS, ImportedResource, add_connector,
                      add_resources, axis_days, capacity_steps, engine_hints, import_report,
                      model_errors, parse_date, parse_number, read_text, show, work_calendar)

__all__ = ["read_xer", "parse_xer_tables"]

_LINK = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
_KIND = {"TT_Task": "task", "TT_Rsrc": "task", "TT_Mile": "start milestone",
         "TT_FinMile": "finish milestone", "TT_LOE": "loe", "TT_WBS": "wbs summary"}
_STATUS = {"TK_NotStart": "not started", "TK_Active": "in progress", "TK_Complete": "complete"}
_CONSTRAINT = {"CS_MSOA": "SNET", "CS_MSOB": "SNLT", "CS_MEOA": "FNET", "CS_MEOB": "FNLT",
               "CS_MSO": "SO", "CS_MEO": "FO", "CS_MANDSTART": "MSO", "CS_MANDFIN": "MFO",
               "CS_ALAP": "ALAP"}
#: P6's activity levelling priorities on MS Project's 0..1000 scale (500 = normal).
_PRIORITY = {"PT_Top": 900, "PT_High": 700, "PT_Normal": 500, "PT_Low": 300, "PT_Lowest": 100}
_USED_TABLES = {"PROJECT", "CALENDAR", "SCHEDOPTIONS", "PROJWBS", "TASK", "TASKPRED", "RSRC",
                "RSRCRATE", "TASKRSRC", "PROJCOST", "ROLERATE", "CURRTYPE"}
#: Columns without which a table cannot be read.
_KEYS = {"PROJECT": ("proj_id",), "CALENDAR": ("clndr_id",), "TASK": ("task_id",),
         "TASKPRED": ("task_id", "pred_task_id"), "RSRC": ("rsrc_id",),
         "RSRCRATE": ("rsrc_id",), "TASKRSRC": ("task_id",), "PROJWBS": ("wbs_id",)}
#: Day numbers in P6 calendar data: 1 = Sunday .. 7 = Saturday; Python: 0 = Monday.
_P6_WEEKDAY = {1: 6, 2: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5}
_EXCEL_EPOCH = _dt.date(1899, 12, 30)
#: P6's default Max Units/Time: one unit per hour (8h/d on an 8-hour day).
_DEFAULT_MAX_QTY_PER_HR = 1.0


class Row(dict):
    """One ``%R`` row of an XER table: field -> text, with its ``line`` in the file."""

    line: int = 0


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
        Missing, binary, truncated or malformed file; unknown project; a table without
        its key column, two rows with one key, a field that is not a number or a date
        (the message names the file, line, table, activity and value).
    """
    text = read_text(path, "cp1252", "Primavera P6 XER")
    tables = parse_xer_tables(text, source=str(path))
    return _Builder(tables, str(path)).build(project)


def parse_xer_tables(text: str, *, source: str = "<string>") -> dict[str, list[dict]]:
    """Split XER text into ``{table name: [row dicts]}``; checks the structure.

    Each row is a :class:`Row` (a dict) whose ``line`` is its line number; a row with
    fewer values than fields has the missing ones empty.
    """
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
            for key in _KEYS.get(name, ()):
                if key not in fields:
                    raise ScheduleImportError(
                        f"{source}, line {lineno}: table {name} has no {key} column, which "
                        f"identifies its rows (fields: {', '.join(fields[:12])}"
                        f"{', ...' if len(fields) > 12 else ''}); export the file again from P6")
        elif tag == "%R":
            if fields is None:
                raise ScheduleImportError(
                    f"{source}, line {lineno}: %R row in table {name!r} before its %F field list")
            values = rest.split("\t")
            if len(values) > len(fields):
                raise ScheduleImportError(
                    f"{source}, line {lineno}: table {name} row has {len(values)} values for "
                    f"{len(fields)} fields")
            row = Row(zip(fields, values + [""] * (len(fields) - len(values))))
            row.line = lineno
            tables[name].append(row)
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


class _Builder:
    def __init__(self, tables, source):
        self.tables, self.source = tables, source
        self.warnings: list[str] = []

    # -- fields -------------------------------------------------------------------
    def at(self, table: str, row, record: str = "") -> str:
        """File, line, table and record of ``row``, the start of a message."""
        line = getattr(row, "line", 0)
        place = f"{self.source}, line {line}" if line else self.source
        return f"{place}: {table}{' ' + record if record else ''}"

    def num(self, row, field, where, default=None, **bounds) -> float:
        return parse_number(row.get(field), where, field, default=default, **bounds)

    def date(self, row, field, where):
        return parse_date(row.get(field), where, field)

    def unique(self, table: str, key: str, describe=lambda r: "") -> dict:
        """``{key value: row}`` of ``table``; a key used twice is an error naming both rows."""
        out = {}
        for row in self.tables.get(table, []):
            value = row.get(key, "")
            if not value:
                raise ScheduleImportError(f"{self.at(table, row)}: {key} is empty")
            if value in out:
                first = out[value]
                what = f" ({describe(first)})" if describe(first) else ""
                raise ScheduleImportError(
                    f"{self.at(table, row, describe(row))}: {key} {value} repeats the "
                    f"{key} of line {first.line}{what}; each row of {table} needs its own {key}")
            out[value] = row
        return out

    # -- project ------------------------------------------------------------------
    def build(self, wanted) -> Project:
        tables, source, warnings = self.tables, self.source, self.warnings
        projects = self.unique("PROJECT", "proj_id",
                               lambda r: f"project {r.get('proj_short_name')!r}")
        tasks_all = tables.get("TASK", [])
        if not projects:
            raise ScheduleImportError(f"{source}: the XER file has no PROJECT table rows")
        by_proj = Counter(t.get("proj_id") for t in tasks_all)
        projects = list(projects.values())
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
        where = self.at("PROJECT", proj, f"project {proj.get('proj_short_name')!r}")
        data_date = (self.date(proj, "last_recalc_date", where)
                     or self.date(proj, "plan_start_date", where))
        if data_date is None:
            raise ScheduleImportError(
                f"{source}: project {proj.get('proj_short_name')!r} has no data date "
                "(last_recalc_date) nor planned start")

        described = self.unique("TASK", "task_id", lambda r: f"activity {r.get('task_code')!r}")
        tasks = [t for t in described.values() if t.get("proj_id") in ("", proj_id)]
        if not tasks:
            raise ScheduleImportError(
                f"{source}: project {proj.get('proj_short_name')!r} has no activities")

        calendars = self.calendars()
        default_cal = proj.get("clndr_id") or next(iter(calendars), None)
        if default_cal not in calendars:
            calendars.setdefault(default_cal or "default", _standard_calendar())
            default_cal = default_cal or "default"
            warnings.append(f"project calendar {default_cal} is not in CALENDAR; "
                            "assumed Monday-Friday 08:00-16:00")

        wbs_code, wbs_name = _wbs(self.unique("PROJWBS", "wbs_id"),
                                  proj.get("name_sep_char") or ".")
        costs = self.costs(described)

        codes = Counter(t.get("task_code") for t in tasks)
        use_code = all(c and n == 1 for c, n in codes.items())
        if not use_code:
            warnings.append("task_code is missing or not unique; task ids are P6 task_id numbers")
        ids = {t["task_id"]: (t["task_code"] if use_code else t["task_id"]) for t in tasks}
        self.ids = ids

        used_cals = Counter()
        g = Project(proj.get("proj_short_name") or proj_id, start=data_date.date(),
                    time_unit="days")
        kinds = Counter()
        priorities = Counter()
        for t in tasks:
            tid = ids[t["task_id"]]
            where = self.at("TASK", t, f"activity {t.get('task_code')!r} (task_id {t['task_id']})")
            cal = t.get("clndr_id") or default_cal
            if cal not in calendars:
                warnings.append(f"activity {tid}: calendar {cal} is not in CALENDAR; "
                                f"used the project calendar {default_cal}")
                cal = default_cal
            used_cals[cal] += 1
            hpd = calendars[cal]["hours_per_day"]
            kind = _KIND.get(t.get("task_type"), None)
            if kind is None:
                warnings.append(f"activity {tid}: unknown task_type "
                                f"{t.get('task_type')!r}, read as a task")
                kind = "task"
            kinds[kind] += 1
            status = _STATUS.get(t.get("status_code"), "not started")
            hours = MAX_DAYS * hpd
            remaining = self.num(t, "remain_drtn_hr_cnt", where, 0.0, low=0.0, high=hours)
            if status == "complete" or kind.endswith("milestone"):
                remaining = 0.0
            constraint = None
            for key, date_key in (("cstr_type", "cstr_date"), ("cstr_type2", "cstr_date2")):
                code = t.get(key)
                if not code:
                    continue
                if code not in _CONSTRAINT:
                    warnings.append(f"activity {tid}: constraint {code} is not "
                                    "supported and was ignored")
                    continue
                if constraint is not None:
                    warnings.append(f"activity {tid}: secondary constraint {code} "
                                    "ignored (only the primary constraint is kept)")
                    continue
                constraint = (_CONSTRAINT[code], self.date(t, date_key, where))
            # kept as given: SP10 plans a cost activity over 5,469,776 h (until 4637)
            target = self.num(t, "target_drtn_hr_cnt", where, remaining, low=0.0)
            extra = {}
            if t.get("priority_type"):
                extra["priority"] = _PRIORITY.get(t["priority_type"], 500)
                if t["priority_type"] not in _PRIORITY:
                    priorities[t["priority_type"]] += 1
            cost = costs.get(t["task_id"], {})
            with model_errors(where):
                g.add_task(
                    tid, Fixed(remaining / hpd), name=t.get("task_name") or None,
                    code=t.get("task_code"), p6_task_id=t["task_id"],
                    wbs=wbs_code.get(t.get("wbs_id"), ""),
                    wbs_name=wbs_name.get(t.get("wbs_id"), ""),
                    kind=kind, status=status, calendar=cal,
                    original_duration=target / hpd,
                    percent_complete=self.num(t, "phys_complete_pct", where, 0.0),
                    actual_start=self.date(t, "act_start_date", where),
                    actual_finish=self.date(t, "act_end_date", where),
                    expected_finish=self.date(t, "expect_end_date", where),
                    constraint=constraint,
                    cost=cost.get("target", 0.0), actual_cost=cost.get("actual", 0.0),
                    remaining_cost=cost.get("remaining", 0.0),
                    tool_start=self.date(t, "early_start_date", where),
                    tool_finish=self.date(t, "early_end_date", where),
                    tool_total_float=(self.num(t, "total_float_hr_cnt", where)
                                      if t.get("total_float_hr_cnt") else None),
                    **extra,
                )
        if priorities:
            warnings.append("unknown priority_type read as PT_Normal (500): "
                            + ", ".join(f"{k} ({n})" for k, n in sorted(priorities.items())))
        if kinds["loe"]:
            warnings.append(f"{kinds['loe']} level-of-effort activities imported as ordinary "
                            "tasks with their remaining duration; their dates span their links "
                            "in P6")
        if kinds["wbs summary"]:
            warnings.append(f"{kinds['wbs summary']} WBS summary activities imported as "
                            "ordinary tasks")
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
            pu, pv = ids[u], ids[v]
            where = self.at("TASKPRED", row, f"task_pred_id {row.get('task_pred_id') or '?'} "
                                             f"(activity {pv!r} after {pu!r})")
            kind = _LINK.get(row.get("pred_type"))
            if kind is None:
                raise ScheduleImportError(
                    f"{where}: unknown pred_type {row.get('pred_type')!r}; expected PR_FS, "
                    "PR_SS, PR_FF or PR_SF")
            if pu == pv:
                warnings.append(f"TASKPRED line {row.line}: link {pu} -> {pv} ignored: "
                                f"activity {pu!r} is its own predecessor (a self-link)")
                continue
            lag_cal = {"rcal_Successor": g.graph.nodes[pv]["calendar"],
                       "rcal_ProjDefault": default_cal,
                       "rcal_24Hour": "24h"}.get(lag_option, g.graph.nodes[pu]["calendar"])
            lag_hpd = calendars[lag_cal]["hours_per_day"]
            lag = self.num(row, "lag_hr_cnt", where, 0.0, low=-MAX_DAYS * lag_hpd,
                           high=MAX_DAYS * lag_hpd) / lag_hpd
            imported_links.append((kind, lag))
            with model_errors(where):
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

        if (options.get("sched_retained_logic", "Y") != "Y"
                or options.get("sched_progress_override") == "Y"):
            warnings.append("progress override scheduling is not supported; retained logic "
                            "is used")

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
        resources = self.resources(g, calendars, default_cal)
        cost_report = self.apply_costs(g, costs)
        if cost_report["currency"] and cost_report["tasks"]:
            g.meta.setdefault("currency", cost_report["currency"])
        ignored = sorted(set(tables) - _USED_TABLES)
        statuses = Counter(d["status"] for _, d in g.graph.nodes(data=True)
                           if d["kind"] != "connector")
        g.meta["import_report"] = import_report(
            "xer", source, g, calendars=len(calendars), warnings=warnings, links=imported_links,
            tasks_by_kind=dict(kinds), tasks_by_status=dict(statuses),
            constraints=dict(Counter(d["constraint"][0] for _, d in g.graph.nodes(data=True)
                                     if d.get("constraint"))),
            **resources,
            total_cost=round(sum(d.get("cost", 0.0) for _, d in g.graph.nodes(data=True)), 2),
            data_date=data_date.isoformat(sep=" "), ignored_tables=ignored,
            duplicate_links=duplicates, external_links=link_missing, costs=cost_report,
        )
        return g

    # -- resources ----------------------------------------------------------------
    def resources(self, g, calendars, default_cal) -> dict:
        """RSRC, RSRCRATE and TASKRSRC as levelling resources and demands (module docstring)."""
        rows = self.unique("RSRC", "rsrc_id", lambda r: f"resource {r.get('rsrc_short_name')!r}")
        shorts = Counter(r.get("rsrc_short_name") for r in rows.values())
        use_short = all(name and n == 1 for name, n in shorts.items())
        key = {rid: (r["rsrc_short_name"] if use_short else rid) for rid, r in rows.items()}
        rates = defaultdict(list)
        for row in self.tables.get("RSRCRATE", []):
            rates[row["rsrc_id"]].append(row)
        hpd, defaulted, not_levelling = {}, [], []
        resources, by_rid, moments = [], {}, []
        for rid, r in rows.items():
            where = self.at("RSRC", r, f"resource {key[rid]!r} (rsrc_id {rid})")
            cal = r.get("clndr_id") if r.get("clndr_id") in calendars else default_cal
            hpd[rid] = calendars[cal]["hours_per_day"]
            steps = []
            for rate in rates.get(rid, []):
                at = self.at("RSRCRATE", rate, f"rsrc_rate_id {rate.get('rsrc_rate_id') or '?'} "
                                               f"(resource {key[rid]!r})")
                qty = self.num(rate, "max_qty_per_hr", at, _DEFAULT_MAX_QTY_PER_HR, low=0.0)
                steps.append((self.date(rate, "start_date", at), qty * hpd[rid]))
            material = r.get("rsrc_type") == "RT_Mat"
            if not steps:
                if not material:
                    defaulted.append(key[rid])
                steps = [(None, _DEFAULT_MAX_QTY_PER_HR * hpd[rid])]
            steps.sort(key=lambda s: s[0] or _dt.datetime.min)
            moments += [m for m, _ in steps if m is not None]
            if r.get("level_flag") == "N" and not material:
                not_levelling.append(key[rid])
            res = ImportedResource(key[rid], r.get("rsrc_name") or key[rid], steps[0][1], where,
                                   levelled=not material,
                                   kind="material (RT_Mat)" if material else "renewable",
                                   note={"rsrc_id": rid, "unit": "units per working day"})
            res.changes = steps  # dates for now; working days below
            resources.append(res)
            by_rid[rid] = res
        days = dict(zip(moments, axis_days(g, moments)))
        for res in resources:
            spans = [(-float("inf") if m is None else days[m], None, units)
                     for m, units in res.changes]
            res.capacity, res.changes = capacity_steps(spans)
            if not res.levelled:
                res.changes = []
        if defaulted:
            self.warnings.append(
                f"{len(defaulted)} resource{'s' * (len(defaulted) != 1)} without a Max "
                "Units/Time in RSRCRATE given P6's default of 1 unit per hour (8h/d on an "
                f"8-hour day): {', '.join(map(repr, defaulted[:10]))}"
                f"{', ...' if len(defaulted) > 10 else ''}")
        if not_levelling:
            self.warnings.append(
                f"{len(not_levelling)} resources are not levelled in P6 (level_flag N) but "
                f"are by pmosim when it levels: {', '.join(map(repr, not_levelling[:10]))}"
                f"{', ...' if len(not_levelling) > 10 else ''}")

        demands, dropped = [], Counter()
        for row in self.tables.get("TASKRSRC", []):
            task = self.ids.get(row.get("task_id"))
            if task is None:
                continue  # counted with the orphans above
            rid = row.get("rsrc_id", "")
            where = self.at("TASKRSRC", row, f"taskrsrc_id {row.get('taskrsrc_id') or '?'} "
                                             f"(activity {task!r}, resource "
                                             f"{key.get(rid, rid)!r})")
            if not rid:
                dropped["of roles without a resource"] += 1
                continue
            if rid not in by_rid:
                dropped["to resources that are not in RSRC"] += 1
                continue
            field = "remain_qty_per_hr" if row.get("remain_qty_per_hr") else "target_qty_per_hr"
            qty = self.num(row, field, where, 0.0, low=0.0)
            demands.append((task, by_rid[rid].id, qty * hpd[rid]))
        return add_resources(g, resources, demands, warnings=self.warnings, dropped=dropped)

    # -- calendars, costs -----------------------------------------------------------
    def calendars(self) -> dict:
        out = {}
        for cid, row in self.unique("CALENDAR", "clndr_id",
                                    lambda r: f"calendar {r.get('clndr_name')!r}").items():
            name = row.get("clndr_name", cid)
            where = self.at("CALENDAR", row, f"calendar {cid} ({name})")
            hpd = self.num(row, "day_hr_cnt", where, 8.0, low=0.0, high=24.0) or 8.0
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
                    day = _serial_date(m.group(2), where)
                    current = ("exc", day)
                    exceptions[day] = []
                elif current is not None and (m.group(3) or m.group(5)):
                    s, f = (m.group(3), m.group(4)) if m.group(3) else (m.group(6), m.group(5))
                    interval = (_clock(s, False, where), _clock(f, True, where))
                    target = week[current[1]] if current[0] == "day" else exceptions[current[1]]
                    target.append(interval)
            if not any(week.values()):
                week = {d: [(8.0, 8.0 + hpd)] for d in range(5)}
                self.warnings.append(f"calendar {cid} ({name}): no readable working week; "
                                     f"assumed Monday-Friday 08:00-{8 + hpd:g}:00")
            out[cid] = {"name": name, "hours_per_day": hpd, "week": dict(week),
                        "exceptions": exceptions}
        return out

    def costs(self, activities) -> dict:
        """Per activity (``task_id``): budgeted (``target``), ``actual`` and ``remaining``
        cost of its resource assignments (TASKRSRC) and expenses (PROJCOST), and the part
        of the remaining cost that scales with the remaining duration
        (``remaining_time``; see :mod:`pmosim.io.costs`).

        An assignment's costs are its ``target_cost``, ``act_reg_cost`` +
        ``act_ot_cost`` and ``remain_cost``; a cost field that is absent or empty is its
        quantity times the assignment's rate (``cost_per_qty`` of TASKRSRC, else the
        rate of its rate source, ``cost_per_qty_source_type``: the resource's RSRCRATE
        or the role's ROLERATE row in force at the assignment's start, column by
        ``rate_type``; overtime times ``ot_factor``). Remaining labour and equipment
        cost is time-dependent on activities whose duration type keeps the units per
        time (``DT_FixedDUR2``, P6's default, and ``DT_FixedRate``) when cost and units
        are linked; materials, fixed-units activities and expenses are not.
        ``activities`` maps ``task_id`` to its TASK row.
        """
        out: dict = defaultdict(lambda: {"target": 0.0, "actual": 0.0, "remaining": 0.0,
                                         "remaining_time": 0.0, "counts": Counter()})
        self.cost_counts = Counter()
        rsrc = {r.get("rsrc_id"): r for r in self.tables.get("RSRC", [])}
        rates = {"ST_Rsrc": defaultdict(list), "ST_Role": defaultdict(list)}
        for table, source, key in (("RSRCRATE", "ST_Rsrc", "rsrc_id"),
                                   ("ROLERATE", "ST_Role", "role_id")):
            for row in self.tables.get(table, []):
                at = self.at(table, row, f"{key} {row.get(key)}")
                rates[source][row.get(key)].append((self.date(row, "start_date", at), row))
        for rows in (r for by in rates.values() for r in by.values()):
            rows.sort(key=lambda x: x[0] or _dt.datetime.min)
        for r in self.tables.get("TASKRSRC", []):
            where = self.at("TASKRSRC", r, f"taskrsrc_id {r.get('taskrsrc_id') or '?'} "
                                           f"(task_id {r.get('task_id')})")
            c = out[r.get("task_id")]
            counts = c["counts"]
            resource = rsrc.get(r.get("rsrc_id"), {})
            rate = []

            def cost(field, qty_field, overtime=False):
                if (r.get(field) or "").strip():
                    return self.num(r, field, where)
                if not (r.get(qty_field) or "").strip():
                    return None
                if not rate:
                    rate.append(self._assignment_rate(r, resource, rates, where))
                    counts["assignments_priced_from_rates" if rate[0] is not None
                           else "assignments_without_costs_or_rates"] += 1
                if rate[0] is None:
                    return 0.0
                factor = 1.0
                if overtime:
                    factor = (self.num(r, "ot_factor", where, 0.0, low=0.0)
                              or self.num(resource, "ot_factor", self.at(
                                  "RSRC", resource, f"resource {r.get('rsrc_id')}"), 0.0,
                                  low=0.0) or 1.0)
                return self.num(r, qty_field, where) * rate[0] * factor

            actual = (cost("act_reg_cost", "act_reg_qty") or 0.0) \
                + (cost("act_ot_cost", "act_ot_qty", overtime=True) or 0.0)
            target = cost("target_cost", "target_qty")
            remaining = cost("remain_cost", "remain_qty")
            if remaining is None:
                remaining = max((target or 0.0) - actual, 0.0)
            c["target"] += target if target is not None else actual + remaining
            c["actual"] += actual
            c["remaining"] += remaining
            material = (r.get("rsrc_type") or resource.get("rsrc_type")) == "RT_Mat"
            dtype = activities.get(r.get("task_id"), {}).get("duration_type") or "DT_FixedDUR2"
            if (not material and r.get("cost_qty_link_flag", "Y") != "N"
                    and dtype in ("DT_FixedDUR2", "DT_FixedRate")):
                c["remaining_time"] += remaining
            counts["assignments"] += 1
        for r in self.tables.get("PROJCOST", []):
            where = self.at("PROJCOST", r, f"cost_item_id {r.get('cost_item_id') or '?'} "
                                           f"(expense {r.get('cost_name')!r}, task_id "
                                           f"{r.get('task_id')})")
            c = out[r.get("task_id")]
            if (r.get("target_cost") or "").strip():
                target = self.num(r, "target_cost", where)
            else:
                target = (self.num(r, "target_qty", where, 0.0)
                          * self.num(r, "cost_per_qty", where, 0.0))
            actual = self.num(r, "act_cost", where, 0.0)
            remaining = (self.num(r, "remain_cost", where)
                         if (r.get("remain_cost") or "").strip() else None)
            c["target"] += target
            c["actual"] += actual
            c["remaining"] += max(target - actual, 0.0) if remaining is None else remaining
            c["counts"]["expenses"] += 1
        return dict(out)

    def _assignment_rate(self, r, resource, rates, where) -> float | None:
        """The price per unit of a TASKRSRC row that has quantities but no costs; None
        when neither the row nor its rate source (RSRCRATE, ROLERATE) has one."""
        if (r.get("cost_per_qty") or "").strip():
            return self.num(r, "cost_per_qty", where, low=0.0)
        source = r.get("cost_per_qty_source_type") or "ST_Rsrc"
        key = r.get("role_id") if source == "ST_Role" else r.get("rsrc_id")
        rows = rates.get(source, {}).get(key)
        if not rows:
            return None
        column = {"COST_PER_QTY": "cost_per_qty"}.get(r.get("rate_type") or "COST_PER_QTY")
        if column is None:
            match = re.fullmatch(r"COST_PER_QTY([2-5])", r.get("rate_type", ""))
            if match is None:
                raise ScheduleImportError(
                    f"{where}: unknown rate_type {r.get('rate_type')!r}; expected COST_PER_QTY "
                    "or COST_PER_QTY2 .. COST_PER_QTY5")
            column = f"cost_per_qty{match.group(1)}"
        start = (self.date(r, "act_start_date", where) or self.date(r, "restart_date", where)
                 or self.date(r, "target_start_date", where))
        end = self.date(r, "reend_date", where) or self.date(r, "target_end_date", where)
        current = rows[0]
        for moment, row in rows:
            if moment is None or start is None or moment <= start:
                current = (moment, row)
                continue
            if end is not None and moment < end:
                self.cost_counts["assignments_spanning_rate_changes"] += 1
            break
        at = self.at("RSRCRATE" if source == "ST_Rsrc" else "ROLERATE", current[1],
                     f"rate of {'role' if source == 'ST_Role' else 'resource'} {key}")
        return self.num(current[1], column, at, 0.0, low=0.0)

    def apply_costs(self, g, costs) -> dict:
        """Task ``cost_fixed``/``cost_rate`` from :meth:`costs`; the report's cost section."""
        from .costs import cost_summary, set_task_cost
        budgeted = actual = 0.0
        counts = Counter(self.cost_counts)
        for task_id, tid in self.ids.items():
            c = costs.get(task_id)
            if c is None:
                continue
            budgeted += c["target"]
            actual += c["actual"]
            counts.update(c["counts"])
            set_task_cost(g.graph, tid, actual=c["actual"],
                          remaining_fixed=c["remaining"] - c["remaining_time"],
                          remaining_time=c["remaining_time"], warnings=self.warnings)
        spanning = counts.pop("assignments_spanning_rate_changes", 0)
        orphans = sum(1 for r in self.tables.get("PROJCOST", [])
                      if r.get("task_id") not in self.ids)
        if orphans:
            self.warnings.append(f"{orphans} PROJCOST expenses refer to no activity of this "
                                 "project and were ignored")
        if counts.get("assignments_without_costs_or_rates"):
            self.warnings.append(
                f"{counts['assignments_without_costs_or_rates']} resource assignments have "
                "quantities but neither costs nor rates (cost_per_qty, RSRCRATE, ROLERATE; a "
                "file exported without cost access looks like this); their costs are 0")
        if counts.get("assignments_priced_from_rates"):
            self.warnings.append(
                f"{counts['assignments_priced_from_rates']} resource assignments have no costs "
                "in TASKRSRC; priced as their quantities times their rates (cost_per_qty, "
                "RSRCRATE or ROLERATE)")
        if spanning:
            self.warnings.append(
                f"{spanning} resource assignments priced from RSRCRATE/ROLERATE span a change "
                "of rate; each is priced at the rate in force at its start (P6 prices each "
                "period at its own rate)")
        currency = next((r.get("curr_short_name") for r in self.tables.get("CURRTYPE", [])
                         if _is_one(r.get("base_exch_rate"))), None)
        costed = counts.get("assignments") or counts.get("expenses")
        return cost_summary(g.graph, actual=actual, budgeted=budgeted if costed else None,
                            currency=currency,
                            assignments=counts.get("assignments", 0),
                            assignments_priced_from_rates=counts.get(
                                "assignments_priced_from_rates", 0),
                            expenses=counts.get("expenses", 0))


def _is_one(text) -> bool:
    """Whether ``text`` is the number 1 (the base currency's exchange rate)."""
    try:
        return float(text) == 1.0
    except (TypeError, ValueError):
        return False


def _standard_calendar() -> dict:
    return {"name": "Standard", "hours_per_day": 8.0,
            "week": {d: [(8.0, 16.0)] for d in range(5)}, "exceptions": {}}


_INTERVAL = re.compile(r"\(s\|(\d\d?:\d\d)\|f\|(\d\d?:\d\d)\)|\(f\|(\d\d?:\d\d)\|s\|(\d\d?:\d\d)\)")
_TOKEN = re.compile(r"DaysOfWeek|Exceptions|VIEW|\(0\|\|([1-7])\(\)|\(d\|(\d+)\)|"
                    + _INTERVAL.pattern)


def _clock(text: str, end: bool, where: str) -> float:
    h, m = (int(x) for x in text.split(":"))
    if h > 24 or m >= 60 or (h == 24 and m):
        raise ScheduleImportError(f"{where}: clndr_data time {text!r} is not a time of day")
    value = h + m / 60
    return 24.0 if end and value == 0 else value


def _serial_date(text: str, where: str) -> _dt.date:
    """The date of an exception's day number (days since 1899-12-30, as in Excel)."""
    first = (_dt.date(FIRST_YEAR, 1, 1) - _EXCEL_EPOCH).days
    last = (_dt.date(LAST_YEAR, 12, 31) - _EXCEL_EPOCH).days
    if len(text) > 7 or not first <= int(text) <= last:
        raise ScheduleImportError(
            f"{where}: clndr_data exception day {show(text)} is outside the years "
            f"{FIRST_YEAR}..{LAST_YEAR} (days {first}..{last} from 1899-12-30)")
    return _EXCEL_EPOCH + _dt.timedelta(days=int(text))


def _wbs(by_id, sep):
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

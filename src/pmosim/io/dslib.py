"""Read DSLIB project workbooks (``.xlsx``, needs the optional ``openpyxl``: ``pmosim[dslib]``).

DSLIB (Batselier & Vanhoucke 2015, IJPM 33(3):697-710; OR&S, Ghent University) holds
real projects as ProTrack workbooks. The reader uses three sheets:

``Baseline Schedule``
    ID, Name, WBS, Predecessors (``12FS;3SS+2d;7FF-1w``; a bare id is FS), Baseline
    Start/End, Duration (``5d``, ``1d 2h``, ``4h``, ``0``, ``23,88 days``), costs.
    Rows whose WBS code has children (or, without WBS codes, whose next row's name is
    indented deeper) are WBS groups, not tasks; row 0 is the project.
``Risk Analysis``
    per activity a profile and Optimistic / Most Probable / Pessimistic: percentages
    of the baseline duration for the ``standard`` and ``manual - relative`` profiles,
    working hours for ``manual - absolute`` (or durations with units such as ``6h``).
``Resources``
    ID, Name, Type, Availability (``20``, ``8 people``, ``4 #4``: the number, then a
    unit label) and Assigned To (``1[2.00 Handlanger];77;...``: activity ids with the
    units they use, 1 when not given). Renewable resources become levelling resources
    with their availability as capacity, and the units their activities' demands.
    Workbooks that leave Assigned To empty (the 2024 extension) give the demands in the
    Baseline Schedule's Resource Demand column instead (``Handlanger[2.00 #20]``,
    ``PM[50%]``, ``worker[3]``, a bare name for 1 unit), by resource name. Consumable
    resources are not levelled (the report says so); a renewable resource without an
    availability gets 1 unit or its largest demand, whichever is more (said in a
    warning); a demand above a capacity is capped at it (see
    :func:`pmosim.io._common.add_resources`).

Each activity gets ``duration`` = ``Triangular(optimistic, most probable, pessimistic)``
in working days (``Fixed`` when the three agree or the activity has no estimate),
``planned`` = its baseline duration, ``name``, ``wbs``, ``risk_profile``,
``cost`` (total cost), ``tool_start``/``tool_finish`` (baseline dates). Lags are in
working days (1 w = 5 d, 1 d = 8 h). Tracking periods (``TP1..``) are not read yet;
the report says how many there are.

Workbooks of the 2024 extension name their sheets ``Baseline Schedule1`` and
``Risk Analysis1``; those are read too.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter
from pathlib import Path

from ..calendar import WorkCalendar
from ..distributions import Fixed, Triangular
from ..errors import ModelError, ScheduleImportError
from ..model import Project
from ._common import (MAX_DAYS, ImportedResource, add_connector, add_resources,
                      import_report, model_errors, parse_date, parse_int, parse_number,
                      read_bytes, show)

__all__ = ["read_dslib", "parse_duration", "parse_predecessors"]

HOURS_PER_DAY = 8.0
DAYS_PER_WEEK = 5.0
_UNIT = {"w": DAYS_PER_WEEK, "week": DAYS_PER_WEEK, "weeks": DAYS_PER_WEEK, "d": 1.0,
         "day": 1.0, "days": 1.0, "h": 1 / HOURS_PER_DAY, "hour": 1 / HOURS_PER_DAY,
         "hours": 1 / HOURS_PER_DAY, "hrs": 1 / HOURS_PER_DAY, "m": 1 / HOURS_PER_DAY / 60,
         "min": 1 / HOURS_PER_DAY / 60}
_TOKEN = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)?", re.I)
_LINK = re.compile(r"^\s*(\d+)\s*(FS|SS|FF|SF)?\s*(?:([+-])\s*(.+?))?\s*$", re.I)
_ABSOLUTE = "manual - absolute"


def parse_duration(text, *, default_unit: float = 1.0) -> float:
    """Working days in a ProTrack duration such as ``"1w 2d"``, ``"1d 2h"``, ``"23,88 days"``.

    A bare number is in ``default_unit`` days (1: days). Raises ``ValueError``.

    Examples
    --------
    >>> parse_duration("1d 2h"), parse_duration("2w 4d"), parse_duration("23,88 days")
    (1.25, 14.0, 23.88)
    """
    if isinstance(text, (int, float)):
        try:
            days = float(text) * default_unit
        except OverflowError:  # a 400-digit whole number in a cell
            days = math.inf
        return _bounded(days, text)
    s = str(text).strip().lower()
    if not s:
        raise ValueError("empty duration")
    pos, total = 0, 0.0
    for m in _TOKEN.finditer(s):
        if s[pos:m.start()].strip():
            raise ValueError(f"cannot read duration {text!r}")
        value = float(m.group(1).replace(",", "."))
        unit = m.group(2)
        if unit is None:
            total += value * default_unit
        elif unit in _UNIT:
            total += value * _UNIT[unit]
        else:
            raise ValueError(f"unknown unit {unit!r} in duration {text!r}")
        pos = m.end()
    if pos == 0 or s[pos:].strip():
        raise ValueError(f"cannot read duration {text!r}")
    return _bounded(total, text)


def _bounded(days: float, text) -> float:
    """``days`` if it is a duration pmosim can schedule; ValueError otherwise."""
    if not math.isfinite(days) or abs(days) > MAX_DAYS:
        raise ValueError(f"duration {show(text)} is not finite or longer than {MAX_DAYS:,} "
                         "working days")
    return days


def parse_predecessors(text) -> list[tuple[int, str, float]]:
    """``(predecessor id, type, lag in working days)`` of a Predecessors cell.

    Examples
    --------
    >>> parse_predecessors("12FS;3SS+2d;7FF-1w")
    [(12, 'FS', 0.0), (3, 'SS', 2.0), (7, 'FF', -5.0)]
    >>> parse_predecessors(3)
    [(3, 'FS', 0.0)]
    """
    if text is None:
        return []
    if isinstance(text, (int, float)):
        if isinstance(text, float) and (not math.isfinite(text) or text != int(text)) \
                or abs(int(text)) >= 2**63:
            raise ValueError(f"cannot read relation {show(text)}")
        return [(int(text), "FS", 0.0)]
    out = []
    parts = []
    for part in str(text).split(";"):
        # some workbooks list bare ids with commas: "15,12,13,14"
        parts += part.split(",") if re.fullmatch(r"\s*\d+(\s*,\s*\d+)+\s*", part) else [part]
    for part in parts:
        if not part.strip():
            continue
        m = _LINK.match(part)
        if not m:
            raise ValueError(f"cannot read relation {part.strip()!r}")
        pred, kind, sign, lag = m.groups()
        if len(pred) > 18:
            raise ValueError(f"activity id {show(pred)} in relation {show(part.strip())} is too "
                             "large")
        days = parse_duration(lag) if lag else 0.0
        out.append((int(pred), (kind or "FS").upper(), -days if sign == "-" else days))
    return out


def read_dslib(path) -> Project:
    """Read a DSLIB workbook into a :class:`~pmosim.model.Project`.

    Raises
    ------
    ScheduleImportError
        openpyxl missing, not a workbook, no baseline schedule sheet, unreadable
        durations or relations (the message names the sheet, row and value).
    """
    try:
        import openpyxl
    except ImportError:
        raise ScheduleImportError(
            f"{path}: reading DSLIB workbooks needs openpyxl; "
            "pip install 'pmosim[dslib]'") from None
    import io
    import warnings as _warnings
    import zipfile

    data = read_bytes(path, "DSLIB workbook")
    _check_unpacked_size(path, data)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # openpyxl's "unknown extension" notices
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ScheduleImportError(f"{path}: not an .xlsx workbook: {exc}") from None
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            return _Reader(wb, str(path)).build()
    finally:
        wb.close()


#: Most bytes a workbook may unpack to (``PMOSIM_MAX_XLSX_MB`` raises it): a DSLIB
#: workbook of 1,000 activities unpacks to a few MB; a 3.1 MB zip bomb to 3.2 GB.
MAX_UNPACKED_MB = 256


def _check_unpacked_size(path, data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than the limit, before unpacking."""
    import io
    import os
    import zipfile

    limit_mb = MAX_UNPACKED_MB
    raw = os.environ.get("PMOSIM_MAX_XLSX_MB")
    if raw:
        try:
            limit_mb = float(raw)
        except ValueError:
            raise ScheduleImportError(
                f"PMOSIM_MAX_XLSX_MB={raw!r} is not a number of megabytes") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ScheduleImportError(f"{path}: not an .xlsx workbook: {exc}") from None
    if unpacked > limit_mb * 2**20:
        raise ScheduleImportError(
            f"{path}: the workbook unpacks to {unpacked / 2**20:,.0f} MB, more than the limit "
            f"of {limit_mb:,.0f} MB (from {len(data) / 2**20:,.1f} MB on disk); if it is a real "
            f"schedule, raise the limit with PMOSIM_MAX_XLSX_MB")


class _Reader:
    def __init__(self, wb, source):
        self.wb, self.source = wb, source
        self.warnings: list[str] = []

    def sheet(self, name, required):
        for candidate in (name, name + "1"):
            if candidate in self.wb.sheetnames:
                if candidate != name:
                    self.warnings.append(f"sheet {candidate!r} read as {name!r}")
                try:
                    return candidate, list(self.wb[candidate].iter_rows(values_only=True))
                except Exception as exc:  # openpyxl parses the sheet's XML only here
                    raise ScheduleImportError(
                        f"{self.source}: sheet {candidate!r} cannot be read: "
                        f"{type(exc).__name__}: {exc}") from None
        if required:
            raise ScheduleImportError(
                f"{self.source}: no {name!r} sheet (sheets: {', '.join(self.wb.sheetnames)}); "
                "not a DSLIB project workbook")
        return None, []

    def build(self) -> Project:
        sheet, rows = self.sheet("Baseline Schedule", required=True)
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            raise ScheduleImportError(f"{self.source}: sheet {sheet!r} has no header row "
                                      "starting with 'ID'")
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        for needed in ("ID", "Name", "Predecessors", "Duration"):
            if needed not in col:
                raise ScheduleImportError(
                    f"{self.source}: sheet {sheet!r} has no {needed!r} column")
        entries = []
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if r is None or all(v is None for v in r) or r[col["ID"]] is None:
                continue
            get = (lambda name, r=r: r[col[name]] if name in col and col[name] < len(r) else None)
            act_id = parse_int(get("ID"), f"{self.source}: sheet {sheet!r}, row {k}", "ID")
            entries.append((k, act_id, get))
        if not entries:
            raise ScheduleImportError(f"{self.source}: sheet {sheet!r} lists no activities")
        project_row = entries[0] if entries[0][1] == 0 else None
        body = [e for e in entries if e is not project_row]

        # WBS groups: a WBS code with children, or (no codes) a deeper-indented next name
        wbs = {e[1]: (str(e[2]("WBS")).strip() if e[2]("WBS") is not None else "") for e in body}
        codes = set(wbs.values()) - {""}
        prefixes = {c.rsplit(".", 1)[0] for c in codes if "." in c}
        summary = set()
        for k, (_, act_id, get) in enumerate(body):
            if wbs[act_id]:
                if wbs[act_id] in prefixes:
                    summary.add(act_id)
            elif k + 1 < len(body):
                indent = _indent(get("Name"))
                if _indent(body[k + 1][2]("Name")) > indent:
                    summary.add(act_id)

        risk = self.risk()
        self.day_first = self.date_order(sheet, entries)
        name = (project_row[2]("Name") if project_row else None) or Path(self.source).stem
        g = Project(str(name), time_unit="days")
        profiles = Counter()
        ids = {}
        for lineno, act_id, get in body:
            if act_id in summary:
                continue
            values = tuple(get(h) for h in col)
            if act_id in ids:
                if ids[act_id] == values:
                    self.warnings.append(f"row {lineno} repeats activity {act_id}; skipped")
                    continue
                raise ScheduleImportError(
                    f"{self.source}: sheet {sheet!r}, row {lineno}: activity ID {act_id} "
                    "appears twice with different contents; give each activity its own ID")
            ids[act_id] = values
            where = f"{self.source}: sheet {sheet!r}, row {lineno}"
            raw = get("Duration")
            try:
                planned = parse_duration(raw) if raw is not None else 0.0
            except ValueError as exc:
                raise ScheduleImportError(f"{where}: activity {act_id}: {exc}") from None
            if planned < 0:
                raise ScheduleImportError(f"{where}: activity {act_id}: Duration {show(raw)} is "
                                          "negative; a duration is at least 0")
            dist, profile = self.three_point(act_id, planned, risk.get(act_id))
            profiles[profile] += 1
            at = f"{where}: activity {act_id}"
            with model_errors(at):
                g.add_task(act_id, dist, name=str(get("Name") or act_id).strip(), planned=planned,
                           wbs=wbs.get(act_id, ""), risk_profile=profile,
                           kind="finish milestone" if planned == 0 else "task",
                           cost=_number(get("Total Cost"), at, "Total Cost"),
                           tool_start=self.date(get("Baseline Start"), at, "Baseline Start"),
                           tool_finish=self.date(get("Baseline End"), at, "Baseline End"))

        links = []
        skipped = Counter()
        connectors = {}
        children = {s: [a for a in ids if wbs.get(a, "").startswith(wbs[s] + ".")]
                    for s in summary if wbs.get(s)}
        seen_rows = set()
        for lineno, act_id, get in body:
            if (act_id, act_id in summary) in seen_rows:
                continue
            seen_rows.add((act_id, act_id in summary))
            try:
                preds = parse_predecessors(get("Predecessors"))
            except ValueError as exc:
                raise ScheduleImportError(f"{self.source}: sheet {sheet!r}, row {lineno}: "
                                          f"activity {act_id}: {exc}") from None
            for pred, kind, lag in preds:
                src = self.endpoint(g, pred, "finish" if kind in ("FS", "FF") else "start",
                                    children, connectors)
                dst = self.endpoint(g, act_id, "start" if kind in ("FS", "SS") else "finish",
                                    children, connectors)
                if src is None or dst is None:
                    skipped[f"link {pred} -> {act_id}"] += 1
                    continue
                member = act_id in children.get(pred, ()) or pred in children.get(act_id, ())
                if src == dst or member:
                    skipped[f"self-link {pred} -> {act_id}"] += 1
                    continue
                links.append((kind, lag))
                with model_errors(f"{self.source}: sheet {sheet!r}, row {lineno}: activity "
                                  f"{act_id}"):
                    if g.graph.has_edge(src, dst):
                        add_connector(g, src, dst, kind, lag)
                    else:
                        g.add_link(src, dst, kind, lag)
        if skipped:
            self.warnings.append(f"{sum(skipped.values())} relations to unknown activities, to "
                                 "themselves or between a WBS group and its own activities "
                                 f"ignored: {', '.join(sorted(skipped)[:10])}")
        if summary:
            self.warnings.append(f"{len(summary)} WBS summary rows kept as groups, not tasks")
        tracking = [s for s in self.wb.sheetnames if re.match(r"^(Project Control - )?TP\d+$", s)]
        if tracking:
            self.warnings.append(f"{len(tracking)} tracking periods (actuals) not imported")
        resources = self.resources(g, sheet, body, summary)
        start = (self.date(project_row[2]("Baseline Start"),
                           f"{self.source}: sheet {sheet!r}, row {project_row[0]}: project",
                           "Baseline Start") if project_row else None)
        if start is None:
            starts = [d["tool_start"] for _, d in g.graph.nodes(data=True) if d.get("tool_start")]
            start = min(starts) if starts else None
        if start is not None:
            g.start = WorkCalendar().next_workday(start.date())  # ProTrack's Monday-Friday
            cal = _standard_calendar()
            g.meta.update(calendars={"standard": cal}, axis_calendar="standard", data_date=start)
            for _, d in g.graph.nodes(data=True):
                d["calendar"] = d.get("calendar") or "standard"
        g.meta.update(source=self.source, format="dslib", hours_per_day=HOURS_PER_DAY)
        g.meta["import_report"] = import_report(
            "dslib", self.source, g, calendars=0, warnings=self.warnings, links=links,
            risk_profiles=dict(profiles), tracking_periods=len(tracking), summary_rows=len(summary),
            **resources,
            total_cost=round(sum(d.get("cost") or 0.0 for _, d in g.graph.nodes(data=True)), 2),
        )
        return g

    def date_order(self, sheet, entries) -> bool:
        """Whether the workbook's text dates are day/month (ProTrack's) or month/day.

        Dates written as text (``Mon 5/25/15`` in some workbooks, ``Fri 23/09/16`` in
        others) are day first unless a first number above 12 shows they are month first.
        """
        firsts, seconds = [], []
        for _, _, get in entries:
            for field in ("Baseline Start", "Baseline End"):
                value = get(field)
                m = _DMY.search(value) if isinstance(value, str) else None
                if m:
                    firsts.append(int(m.group(1)))
                    seconds.append(int(m.group(2)))
        if firsts and max(firsts) <= 12 < max(seconds):
            self.warnings.append(f"sheet {sheet!r}: dates written as text read as month/day/year "
                                 f"(one has day {max(seconds)})")
            return False
        return True

    def date(self, value, where: str, field: str):
        """A Baseline Start/End cell as a datetime (None when empty)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, _dt.datetime):
            moment = value
        elif isinstance(value, _dt.date):
            moment = _dt.datetime.combine(value, _dt.time(8))
        else:
            m = _DMY.search(value) if isinstance(value, str) else None
            if not m:
                raise ScheduleImportError(f"{where}: {field} {show(value)} is not a date")
            a, b, y = (int(x) for x in m.groups())
            d, mo = (a, b) if self.day_first else (b, a)
            try:
                moment = _dt.datetime(y + (2000 if y < 100 else 0), mo, d)
            except ValueError:
                order = "day/month/year" if self.day_first else "month/day/year"
                raise ScheduleImportError(
                    f"{where}: {field} {show(value)} is not a date (read as {order})") from None
        return parse_date(moment, where, field)

    # -- resources ------------------------------------------------------------------
    def resources(self, g, baseline_sheet, body, summary) -> dict:
        """The Resources sheet and the demands on it (see the module docstring)."""
        sheet, rows = self.sheet("Resources", required=False)
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            if rows:
                self.warnings.append(f"sheet {sheet!r} has no header row starting with 'ID'; "
                                     "resources not imported")
            return add_resources(g, [], [], warnings=self.warnings)
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        col.setdefault("Availability", col.get("Availibility"))  # a misspelling in 20 workbooks
        found, names, assigned, shared = [], {}, {}, {}
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            get = (lambda name, r=r: r[col[name]]
                   if col.get(name) is not None and col[name] < len(r) else None)
            if not r or get("ID") is None:
                continue
            if all(get(h) is None for h in ("Name", "Type", "Availability", "Assigned To")):
                continue  # an empty row of the template, with only its number
            where = f"{self.source}: sheet {sheet!r}, row {k}"
            rid = parse_int(get("ID"), where, "ID")
            where = f"{where}, resource {rid}"
            name = str(get("Name") or "").strip() or f"resource {rid}"
            kind = str(get("Type") or "renewable").strip().lower()
            capacity, label = _availability(get("Availability"), where)
            if kind == "renewable" and capacity is not None and capacity < 0:
                raise ScheduleImportError(f"{where}: Availability {show(get('Availability'))} "
                                          "is negative")
            res = ImportedResource(rid, name, capacity, where, levelled=kind == "renewable",
                                   kind=kind, note={"unit": label} if label else {})
            if any(r0.id == rid for r0 in found):
                raise ScheduleImportError(f"{where}: ID {rid} is used by two resources")
            found.append(res)
            if name in names:
                shared.setdefault(name, [names[name].id]).append(rid)
            else:
                names[name] = res
            if get("Assigned To") is not None and str(get("Assigned To")).strip():
                assigned[rid] = (where, get("Assigned To"))
        demands = (self.assigned_to(assigned) if assigned
                   else self.demand_column(baseline_sheet, body, names, shared))
        dropped = Counter()
        kept = []
        unknown = Counter()
        for act_id, rid, units, where in demands:
            if rid is None:
                unknown[where] += 1
                dropped["naming no resource of the Resources sheet"] += 1
            elif act_id in g.graph:
                kept.append((act_id, rid, units))
            elif act_id in summary:
                dropped["to WBS groups (not tasks)"] += 1
            else:
                dropped["to activities that are not in the baseline schedule"] += 1
        if unknown:
            self.warnings.append("resource demands naming no resource of the Resources sheet: "
                                 + ", ".join(sorted(unknown)[:10]))
        largest = Counter()
        for _, rid, units in kept:
            largest[rid] = max(largest[rid], units)
        guessed = []
        for res in found:
            if res.capacity is None:
                res.capacity = max(1.0, largest[res.id])
                if res.levelled:
                    guessed.append(f"{res.id} ({res.name}): {res.capacity:g}")
        if guessed:
            self.warnings.append(
                f"{len(guessed)} resource{'s' * (len(guessed) != 1)} without an Availability "
                "given 1 unit or their largest demand, whichever is more: "
                + "; ".join(guessed[:10]) + ("; ..." if len(guessed) > 10 else ""))
        return add_resources(g, found, kept, warnings=self.warnings, dropped=dropped)

    def assigned_to(self, assigned) -> list:
        """Demands from the Resources sheet's Assigned To cells: ``12[2.00 Name];77;``."""
        out = []
        for rid, (where, text) in assigned.items():
            for part in str(text).split(";"):
                if not part.strip():
                    continue
                m = _ASSIGNED.match(part)
                if not m:
                    raise ScheduleImportError(f"{where}: Assigned To: cannot read "
                                              f"{show(part.strip())} (expected 12[2.00 name])")
                act_id = parse_int(m.group(1), where, "Assigned To")
                units = _units(m.group(2), where, "Assigned To")
                out.append((act_id, rid, units, where))
        return out

    def demand_column(self, sheet, body, names, shared) -> list:
        """Demands from the baseline's Resource Demand cells: ``Name[2.00 #20];PM[50%]``.

        A name that several resources share (``shared``: name -> ids) means the first.
        """
        out, ambiguous = [], set()
        for lineno, act_id, get in body:
            text = get("Resource Demand")
            if text is None:
                continue
            where = f"{self.source}: sheet {sheet!r}, row {lineno}, activity {act_id}"
            for part in str(text).split(";"):
                if not part.strip():
                    continue
                m = _DEMAND.match(part.strip())
                name, units = m.group(1).strip(), _units(m.group(2), where, "Resource Demand")
                if name in names:
                    out.append((act_id, names[name].id, units, where))
                    if name in shared:
                        ambiguous.add(name)
                elif m.group(2) is None and all(n.strip() in names for n in name.split(",")):
                    # 'IT Manager,Faculty Rep': several resources in one cell, 1 unit each
                    out += [(act_id, names[n.strip()].id, 1.0, where) for n in name.split(",")]
                else:
                    out.append((act_id, None, units, f"{name!r} (row {lineno})"))
        for name in sorted(ambiguous):
            ids = shared[name]
            self.warnings.append(f"resources {', '.join(map(str, ids))} are all named {name!r}; "
                                 f"demands by that name go to resource {ids[0]}")
        return out

    def endpoint(self, g, act_id, side, children, connectors):
        if act_id in g.graph:
            return act_id
        if act_id not in children or not children[act_id]:
            return None
        key = (act_id, side)
        if key not in connectors:
            node = f"S{act_id}:{side}"
            g.add_task(node, Fixed(0.0), name=f"{side} of group {act_id}", kind="connector")
            for leaf in children[act_id]:
                if side == "start":
                    g.add_link(node, leaf, "FS", 0.0)
                else:
                    g.add_link(leaf, node, "FS", 0.0)
            connectors[key] = node
        return connectors[key]

    def risk(self) -> dict:
        sheet, rows = self.sheet("Risk Analysis", required=False)
        if not rows:
            self.warnings.append("no 'Risk Analysis' sheet: durations are fixed at the baseline")
            return {}
        header_row = next((k for k, r in enumerate(rows[:5]) if r and r[0] == "ID"), None)
        if header_row is None:
            self.warnings.append(f"sheet {sheet!r} has no header row; risk estimates ignored")
            return {}
        header = [str(h).strip() if h is not None else "" for h in rows[header_row]]
        col = {h: k for k, h in enumerate(header) if h}
        if not {"Optimistic", "Most Probable", "Pessimistic"} <= set(col):
            self.warnings.append(f"sheet {sheet!r} lacks Optimistic/Most Probable/Pessimistic "
                                 "columns; risk estimates ignored")
            return {}
        out = {}
        for k, r in enumerate(rows[header_row + 1:], start=header_row + 2):
            if not r or r[0] is None:
                continue
            get = (lambda name, r=r: r[col[name]] if name in col and col[name] < len(r) else None)
            act_id = parse_int(r[0], f"{self.source}: sheet {sheet!r}, row {k}", "ID")
            out[act_id] = (k, str(get("Description") or "").strip().lower(),
                           get("Optimistic"), get("Most Probable"), get("Pessimistic"))
        return out

    def three_point(self, act_id, planned, row):
        if row is None or all(v is None for v in row[2:]):
            return Fixed(planned), "none"
        lineno, profile, *values = row
        where = f"{self.source}: sheet 'Risk Analysis', row {lineno}, activity {act_id}"
        points = []
        for field, v in zip(("Optimistic", "Most Probable", "Pessimistic"), values):
            if v is None:
                return Fixed(planned), profile or "none"
            try:
                if isinstance(v, str) and re.search(r"[a-z]", v, re.I) \
                        and not re.fullmatch(r"\s*[+-]?(nan|inf(inity)?)\s*", v, re.I):
                    points.append(parse_duration(v))
                    continue
                x = parse_number(v.replace(",", ".") if isinstance(v, str) else v, where, field)
                points.append(_bounded(x / HOURS_PER_DAY if profile == _ABSOLUTE
                                       else x / 100 * planned, v))
            except ScheduleImportError:
                raise
            except ValueError as exc:  # from parse_duration and _bounded
                raise ScheduleImportError(f"{where}: {field}: {exc}") from None
        low, mode, high = points
        if not low <= mode <= high:
            self.warnings.append(f"activity {act_id}: estimates {values} are not ordered "
                                 "low <= most probable <= high; sorted")
            low, mode, high = sorted(points)
        if high - low <= 1e-12 * max(1.0, abs(high)):
            return Fixed(mode), profile or "none"
        try:
            return Triangular(low, mode, high), profile or "none"
        except ModelError as exc:
            raise ScheduleImportError(f"{where}: {exc}") from None


def _indent(name) -> int:
    text = str(name or "")
    return len(text) - len(text.lstrip(" "))


def _number(value, where: str, field: str) -> float:
    """A cost cell: a number, or text such as ``'1.234,56 €'`` (European separators)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    if isinstance(value, str):
        digits = re.sub(r"[^\d,.-]", "", value).replace(".", "").replace(",", ".")
        if not re.fullmatch(r"-?\d+(\.\d+)?", digits):
            raise ScheduleImportError(f"{where}: {field} {show(value)} is not an amount")
        value = digits
    return parse_number(value, where, field)


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2,4})")


_ASSIGNED = re.compile(r"^\s*(\d+)\s*(?:\[([^\]]*)\])?\s*$")
_DEMAND = re.compile(r"^(.*?)\s*(?:\[([^\]]*)\])?$")
_LEADING = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?(?:e[+-]?\d+)?)\s*(%?)\s*(.*?)\s*$", re.I)


def _units(text, where: str, field: str) -> float:
    """Units of a demand's bracket: ``2.00 Name``, ``2,00 #4``, ``50%``, ``5``, none: 1."""
    if text is None:
        return 1.0
    m = _LEADING.match(text)
    if not m:
        raise ScheduleImportError(f"{where}: {field}: units {show(text)} are not a number")
    units = parse_number(m.group(1).replace(",", "."), where, field, low=0.0)
    return units / 100 if m.group(2) else units


def _availability(value, where: str):
    """``(capacity, unit label)`` of an Availability cell: ``20``, ``'8 people'``, ``'4 #4'``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    if not isinstance(value, str):
        return parse_number(value, where, "Availability"), ""
    m = _LEADING.match(value)
    if not m:
        raise ScheduleImportError(f"{where}: Availability {show(value)} does not start with a "
                                  "number")
    capacity = parse_number(m.group(1).replace(",", "."), where, "Availability")
    label = (m.group(2) + " " + m.group(3)).strip()
    return capacity, label


def _standard_calendar() -> dict:
    return {"name": "ProTrack standard", "hours_per_day": HOURS_PER_DAY,
            "week": {d: ([(8.0, 12.0), (13.0, 17.0)] if d < 5 else []) for d in range(7)},
            "exceptions": {}}

"""Task results as CSV and Excel (``.xlsx``) tables; the deterministic schedule as CSV.

One row per task: its criticality, the deterministic (CPM) start and finish, start
and finish percentiles in working days and, when the project has a start date, as
dates, the mean and spread of its finish, and the sensitivity measures of the run
(``result.sensitivity``) when it has them. The columns are listed in
``docs/results-format.md`` ("Task tables").

**CSV** files are UTF-8 *with* a byte-order mark (``encoding="utf-8-sig"``),
comma-separated, ``.`` as the decimal point, one header row, CRLF line ends (RFC
4180). The byte-order mark is what makes Excel read the file as UTF-8 when it is
double-clicked (without it Excel uses the ANSI code page and garbles non-ASCII task
names); Python's ``csv`` (with ``encoding="utf-8-sig"``), pandas and LibreOffice
read it as well. Dates are ISO ``YYYY-MM-DD`` text, numbers are written in full
(shortest round-trip form), an undefined measure (NaN) is an empty cell.

**Excel** workbooks (``pip install 'pmosim[xlsx]'``, which adds openpyxl) hold the same
table on a sheet "Tasks" with real date cells, percentages formatted as such, a frozen
header row and id column, filters, and a sheet "Summary" with the project's finish
percentiles (and cost percentiles when the project has costs).

Every file is written atomically (:func:`pmosim.io.json_out.atomic_path`).

Examples
--------
>>> import csv, pathlib, tempfile, pmosim
>>> p = pmosim.Project("demo", start="2027-03-01")
>>> p.add_task("a", pmosim.Triangular(2, 3, 6))
>>> p.add_task("b", 4)
>>> p.add_link("a", "b")
>>> result = pmosim.simulate(p, 500, seed=1)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tasks.csv"
>>> _ = write_tasks_csv(result, path)
>>> rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
>>> rows[1]["id"], rows[1]["criticality"], rows[1]["deterministic_finish_date"]
('b', '1.0', '2027-03-09')
"""

from __future__ import annotations

import csv
import datetime as _dt
import math
from pathlib import Path

import numpy as np

from .. import stats
from ..errors import MissingDependencyError, ModelError
from .json_out import atomic_path

__all__ = ["task_rows", "write_tasks_csv", "write_tasks_xlsx", "cpm_rows", "write_cpm_csv",
           "DEFAULT_PERCENTILES", "CSV_ENCODING", "XLSX_INSTALL"]

#: Percentiles of each task's start and finish in the tables.
DEFAULT_PERCENTILES = (10, 50, 80, 90)
#: Project finish percentiles on the workbook's Summary sheet.
SUMMARY_PERCENTILES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
#: UTF-8 with a byte-order mark, so that Excel reads the file as UTF-8.
CSV_ENCODING = "utf-8-sig"
#: How to get the Excel writer's dependency.
XLSX_INSTALL = "pip install 'pmosim[xlsx]'"
#: Sensitivity measures of ``result.sensitivity`` (fractions), in column order.
SENSITIVITY_MEASURES = ("ci", "si", "ssi", "cri_r", "cri_rho", "cri_tau")
#: Cost cruciality measures, present when the project has costs.
COST_MEASURES = ("cost_cri_r", "cost_cri_rho", "cost_cri_tau")
#: Columns that hold fractions (shown as percentages in the workbook).
FRACTION_COLUMNS = ("criticality", *SENSITIVITY_MEASURES, *COST_MEASURES)


def _check_percentiles(percentiles) -> tuple:
    qs = tuple(percentiles)
    if not qs:
        raise ModelError("percentiles: give at least one, e.g. (10, 50, 80, 90)")
    for q in qs:
        if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)) \
                or not 0 <= float(q) <= 100 or math.isnan(float(q)):
            raise ModelError(f"percentiles: {q!r} is not a percentile; use numbers within "
                             "0..100, e.g. (10, 50, 80, 90)")
    return qs


def _key(q) -> str:
    return stats.percentile_key(float(q))


def _dates_or_none(get, q=None):
    """``get(q)`` as a list of dates, or None when the project has no start date."""
    try:
        days = get() if q is None else get(q)
    except ModelError:
        return None
    return [None if d is None else _as_date(d) for d in days]


def _as_date(d):
    if isinstance(d, np.datetime64):
        return d.astype("datetime64[D]").item()
    if isinstance(d, _dt.datetime):
        return d.date()
    return d


def task_rows(result, percentiles=DEFAULT_PERCENTILES, *, connectors: bool = False) -> list[dict]:
    """The task table of a simulation: one dict per task, in the project's node order.

    Parameters
    ----------
    result : pmosim.SimulationResult
    percentiles : sequence of float
        Start and finish percentiles to include (0..100), default P10, P50, P80, P90.
    connectors : bool
        Include the zero-duration connector tasks that importers add for the links of
        WBS summary tasks (``kind == "connector"``); left out by default.

    Returns
    -------
    list of dict
        Keys in column order (see docs/results-format.md, "Task tables"): ``id``,
        ``name``, ``kind``, ``criticality``, ``deterministic_start`` and, with a start
        date, ``deterministic_start_date``; ``start_P10`` (``start_P10_date``) ... for
        each percentile; the same for the finish; ``start_mean``, ``finish_mean``,
        ``finish_std``; then ``ci``, ``si``, ``ssi``, ``cri_r``, ``cri_rho``,
        ``cri_tau`` when the run has sensitivity measures and ``cost_cri_r``,
        ``cost_cri_rho``, ``cost_cri_tau`` when the project has costs too. Times are
        floats in working days from the project start, dates ``datetime.date``,
        fractions floats in 0..1 (NaN where a measure is undefined).
    """
    qs = _check_percentiles(percentiles)
    t = result.tasks
    q_list = [float(q) for q in qs]
    start_p = np.asarray(t.start_percentile(q_list)).reshape(len(t.ids), len(qs))
    finish_p = np.asarray(t.finish_percentile(q_list)).reshape(len(t.ids), len(qs))
    det_start = np.asarray(t.deterministic_start, dtype=float)
    det_finish = np.asarray(t.deterministic_finish, dtype=float)

    det_start_d = _dates_or_none(t.deterministic_start_dates)
    dated = det_start_d is not None
    if dated:
        det_finish_d = _dates_or_none(t.deterministic_finish_dates)
        start_d = [_dates_or_none(t.start_dates, q) for q in q_list]
        finish_d = [_dates_or_none(t.finish_dates, q) for q in q_list]

    sens = getattr(result, "sensitivity", None)
    measures = ()
    if sens is not None:
        measures = SENSITIVITY_MEASURES
        if getattr(sens, "cost_cri_r", None) is not None:
            measures = measures + COST_MEASURES
        sens_index = {tid: k for k, tid in enumerate(sens.ids)}

    rows = []
    for i, tid in enumerate(t.ids):
        kind = t.kinds[i]
        if kind == "connector" and not connectors:
            continue
        row = {"id": tid, "name": t.names[i], "kind": kind,
               "criticality": float(t.criticality[i]),
               "deterministic_start": float(det_start[i])}
        if dated:
            row["deterministic_start_date"] = det_start_d[i]
        for j, q in enumerate(qs):
            row[f"start_{_key(q)}"] = float(start_p[i, j])
            if dated:
                row[f"start_{_key(q)}_date"] = start_d[j][i]
        row["deterministic_finish"] = float(det_finish[i])
        if dated:
            row["deterministic_finish_date"] = det_finish_d[i]
        for j, q in enumerate(qs):
            row[f"finish_{_key(q)}"] = float(finish_p[i, j])
            if dated:
                row[f"finish_{_key(q)}_date"] = finish_d[j][i]
        row["start_mean"] = float(t.start_mean[i])
        row["finish_mean"] = float(t.finish_mean[i])
        row["finish_std"] = float(t.finish_std[i])
        if measures:
            k = sens_index[tid]
            for m in measures:
                row[m] = float(getattr(sens, m)[k])
        rows.append(row)
    return rows


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _write_csv(rows: list[dict], columns: list[str], path) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=CSV_ENCODING, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return Path(path)


def _columns(rows: list[dict]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def write_tasks_csv(result, path, percentiles=DEFAULT_PERCENTILES, *,
                    connectors: bool = False) -> Path:
    """Write :func:`task_rows` of ``result`` to ``path`` as CSV (UTF-8 with BOM); return it."""
    rows = task_rows(result, percentiles, connectors=connectors)
    if not rows:
        raise ModelError("no tasks to write: every task is an import connector; pass "
                         "connectors=True to write them")
    return _write_csv(rows, _columns(rows), path)


# -- Excel ---------------------------------------------------------------------------------
def _openpyxl():
    try:
        import openpyxl
    except ImportError:
        raise MissingDependencyError(
            f"writing Excel (.xlsx) files needs openpyxl: {XLSX_INSTALL}") from None
    return openpyxl


#: Number formats of the workbook.
DATE_FORMAT = "yyyy-mm-dd"
DAYS_FORMAT = "#,##0.0"
PERCENT_FORMAT = "0.0%"
MAX_COLUMN_WIDTH = 48

#: Header captions of the workbook (the CSV keeps the key names, for programs).
_CAPTIONS = {"id": "ID", "name": "Name", "kind": "Kind", "criticality": "Criticality",
             "start_mean": "Mean start", "finish_mean": "Mean finish",
             "finish_std": "Finish std dev", "ci": "CI", "si": "SI", "ssi": "SSI",
             "cri_r": "CRI(r)", "cri_rho": "CRI(rho)", "cri_tau": "CRI(tau)",
             "cost_cri_r": "Cost CRI(r)", "cost_cri_rho": "Cost CRI(rho)",
             "cost_cri_tau": "Cost CRI(tau)"}


def _caption(column: str) -> str:
    if column in _CAPTIONS:
        return _CAPTIONS[column]
    words = column.split("_")
    dated = words[-1] == "date"
    if dated:
        words = words[:-1]
    if words[0] == "deterministic":
        text = f"Deterministic {words[1]}"
    else:
        text = f"{words[1]} {words[0]}"              # start_P80 -> "P80 start"
    return text + (" (date)" if dated else " (days)")


def _sheet(ws, columns, rows, captions, *, freeze="C2"):
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    ws.append([captions(c) for c in columns])
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append([_xlsx_cell(row.get(c)) for c in columns])
    widths = []
    for j, c in enumerate(columns, start=1):
        fmt = (DATE_FORMAT if c.endswith("_date") else PERCENT_FORMAT if c in FRACTION_COLUMNS
               else DAYS_FORMAT if any(isinstance(r.get(c), float) for r in rows) else None)
        if fmt is not None:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        if fmt == DATE_FORMAT:
            longest = 10
        elif fmt is not None:
            longest = 9
        else:
            longest = max([len(_csv_cell(r.get(c))) for r in rows] + [10])
        header = max(len(w) for w in captions(c).split())
        widths.append(min(max(longest, header, 8) + 2, MAX_COLUMN_WIDTH))
        ws.column_dimensions[get_column_letter(j)].width = widths[-1]
    ws.freeze_panes = freeze
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _xlsx_cell(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, _dt.date, _dt.datetime)) or value is None:
        return value
    return str(value)           # a task id of another type (a tuple, say)


def _summary_rows(result) -> list[list]:
    project = result.project
    fin = result.finish
    start = getattr(project, "start", None)
    rows = [["Project", getattr(project, "name", None)],
            ["Start date", start],
            ["Tasks", len(result.task_ids)],
            ["Iterations", result.iterations],
            ["Seed", result.seed],
            [],
            ["Project finish", "Working days", "Date (end of day)"]]

    def dated(t):
        if start is None:
            return None
        from ..calendar import WorkCalendar
        cal = getattr(project, "calendar", None) or WorkCalendar()
        return _as_date(cal.finish_dates(start, max(float(t), 0.0)))

    lines = [("Deterministic", fin.deterministic), ("Mean", fin.mean)]
    lines += [(_key(q), float(fin.percentile(q))) for q in SUMMARY_PERCENTILES]
    rows += [[label, float(t), dated(t)] for label, t in lines]
    rows.append(["Std deviation", fin.std, None])
    rows.append(["P(finish <= deterministic)", fin.probability_le(fin.deterministic), None])
    if result.cost is not None:
        cost = result.cost
        rows += [[], ["Project cost", "Amount", "Contingency over planned"]]
        lines = [("Planned (deterministic)", cost.deterministic), ("Mean", cost.mean)]
        lines += [(_key(q), float(cost.percentile(q))) for q in SUMMARY_PERCENTILES]
        rows += [[label, float(c), float(c) - float(cost.deterministic)] for label, c in lines]
        rows.append(["Std deviation", cost.std, None])
    return rows


def write_tasks_xlsx(result, path, percentiles=DEFAULT_PERCENTILES, *,
                     connectors: bool = False) -> Path:
    """Write the task table (sheet "Tasks") and the project's finish percentiles (sheet
    "Summary") of ``result`` as an Excel workbook; return the path.

    Needs openpyxl (``pip install 'pmosim[xlsx]'``); raises
    :class:`~pmosim.errors.MissingDependencyError` without it.
    """
    openpyxl = _openpyxl()
    from openpyxl.styles import Font

    rows = task_rows(result, percentiles, connectors=connectors)
    columns = _columns(rows)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tasks"
    _sheet(ws, columns, rows, _caption)

    summary = wb.create_sheet("Summary")
    bold = Font(bold=True)
    for line in _summary_rows(result):
        summary.append(line)
        if len(line) == 3 and isinstance(line[1], str):
            for cell in summary[summary.max_row]:
                cell.font = bold
    for row in summary.iter_rows():
        label = row[0].value
        for cell in row[1:]:
            if isinstance(cell.value, _dt.date):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, float):
                cell.number_format = (PERCENT_FORMAT if str(label).startswith("P(")
                                      else "#,##0.00")
        if isinstance(row[1].value, _dt.date):
            row[1].number_format = DATE_FORMAT
    for letter, width in zip("ABC", (28, 16, 24)):
        summary.column_dimensions[letter].width = width

    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


# -- the deterministic schedule -------------------------------------------------------------
def cpm_rows(cpm_result, project=None) -> list[dict]:
    """The rows of :meth:`pmosim.results.CPMResult.rows` plus, for a project with a start
    date on the working-day axis, the dates of the early and late starts and finishes
    (``early_start_date`` ...: ``datetime.date``, a milestone's start on its finish
    date, as MS Project shows it). In the wall-clock mode (imported schedules with
    working calendars) the rows already hold the exact moments as ISO date-times.
    """
    rows = cpm_result.rows()
    start = getattr(project, "start", None)
    if cpm_result.early_start_date is None and start is not None:
        from ..calendar import WorkCalendar
        cal = getattr(project, "calendar", None) or WorkCalendar()
        es, ef = cal.task_dates(start, cpm_result.early_start, cpm_result.early_finish)
        ls, lf = cal.task_dates(start, cpm_result.late_start, cpm_result.late_finish)
        for k, row in enumerate(rows):
            for key, days in (("early_start", es), ("early_finish", ef), ("late_start", ls),
                              ("late_finish", lf)):
                row[key + "_date"] = _as_date(days[k])
    order = ["id", "name", "duration"]
    for key in ("early_start", "early_finish", "late_start", "late_finish"):
        order += [key, key + "_date"]
    order += ["total_float", "critical"]
    return [{k: row[k] for k in order if k in row} for row in rows]


def write_cpm_csv(cpm_result, path, *, project=None) -> Path:
    """Write the deterministic schedule (:func:`cpm_rows`) to ``path`` as CSV; return it.

    Same conventions as :func:`write_tasks_csv`; ``critical`` is ``yes`` or ``no``.
    """
    rows = cpm_rows(cpm_result, project)
    return _write_csv(rows, _columns(rows), path)

"""Write P-value dates back into the scheduling tool: MS Project XML and a P6 spreadsheet.

**MS Project (MSPDI).** :func:`write_mspdi_pdates` copies an MSPDI file (the input is
never modified) and adds the simulated dates as task custom date fields ``Date1`` ..
``Date10``: each field gets a definition with an alias such as ``pmosim P80 Finish``
under the project's ``<ExtendedAttributes>``, and each simulated task an
``<ExtendedAttribute>`` with its ``FieldID`` and the date-time as ``<Value>``. The
field ids are MS Project's ``PjField`` constants ``pjTaskDate1`` = 188743945 ..
``pjTaskDate10`` = 188743954 (the same in the MSPDI files MS Project 2003-2019 write,
``../shared/data/mpxj/generated/task-dates``). Elements go where the Project 2007
schema (``mspdi_pj12.xsd``) puts them: the definitions before ``<Calendars>``, a
task's values after its existing ones, else before ``<Baseline>``, ``<OutlineCode>``,
``<IsPublished>`` ... ``<TimephasedData>``; the XML namespace, comments and
indentation are kept. A field is taken only when it is free: no alias, formula or
value list in its definition and no task holding a value in it; a field already
carrying a pmosim alias is reused (writing back into a written file replaces the old
values). In MS Project: insert the columns "pmosim P80 Finish" (or Date1 ...).

**Primavera P6.** P6 imports activity data from a spreadsheet (File > Import >
Spreadsheet - XLSX) whose sheet ``TASK`` has the internal field names in its first
row and captions in its second; rows are matched on ``task_code`` (Activity ID), and a
user-defined field's column is named ``user_field_<udf_type_id>`` (Oracle, "P6 EPPM
XLSX Import/Export Data Map" and the P6 Professional help "Modifying and importing
data from an XLS file"; the XER table UDFTYPE holds those names as ``udf_type_name``,
e.g. ``user_field_128`` in ``../shared/data/p6/SP10 - COST LOADED.xer``). P6 cannot
create UDFs on import, so :func:`write_p6_xlsx` and :func:`write_p6_csv` look the
fields up by title in the XER the project was imported from: create activity UDFs of
type Start Date / Finish Date titled ``pmosim P80 Finish`` etc. once in P6 (Enterprise
> User Defined Fields > Activities), export the XER, run pmosim, and import the
workbook. Fields without such a UDF get a ``pmosim_...`` column that P6's import skips
(said in :attr:`WriteBack.warnings`); ``udf_names`` maps a field to a column name
directly. The CSV form is the same table for editing or converting; P6 itself imports
the ``.xlsx``. The layout follows Oracle's documentation; it has not been tried in a
running P6 here. Workbooks that P6 exports also hold a ``USERDATA`` sheet of user
settings, which pmosim does not write: should an installation insist on it, export the
activities of the project from P6 once and copy the ``TASK`` columns across.

Dates are exact moments for imported schedules: a time in working days of the axis
calendar becomes the working moment that calendar reaches after that much work (a
start: the next working moment, e.g. 08:00; a finish: the end of the working period,
e.g. 17:00), rounded to the minute, and a start at the same time as the finish (a
milestone) is shown at the finish moment, as the scheduling tools show it. For a
project without working calendars (a scenario file) they are the days of
:meth:`pmosim.calendar.WorkCalendar.start_dates` and ``finish_dates``.
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import ParseError

import numpy as np

from ..calendar import TIME_TOLERANCE
from ..errors import ModelError, ScheduleImportError
from .json_out import atomic_path

__all__ = ["write_mspdi_pdates", "write_p6_csv", "write_p6_xlsx", "p6_rows", "pdate_moments",
           "parse_field", "field_label", "DEFAULT_FIELDS", "MSP_DATE_FIELDS", "WriteBack"]

#: The P-dates written by default: ``"P<q> start"`` or ``"P<q> finish"``.
DEFAULT_FIELDS = ("P50 start", "P80 start", "P10 finish", "P50 finish", "P80 finish",
                  "P90 finish")
#: MS Project's task custom date fields: name -> FieldID (PjField pjTaskDate1..10).
MSP_DATE_FIELDS = {f"Date{k}": 188743944 + k for k in range(1, 11)}
_DATE_NAMES = {v: k for k, v in MSP_DATE_FIELDS.items()}
#: Children of a task that come after ``ExtendedAttribute`` in mspdi_pj12.xsd.
_AFTER_EXTENDED = ("Baseline", "OutlineCode", "IsPublished", "StatusManager",
                   "CommitmentStart", "CommitmentFinish", "CommitmentType", "TimephasedData")
#: Children of ``<Project>`` that come after ``ExtendedAttributes``.
_AFTER_DEFINITIONS = ("Calendars", "Tasks", "Resources", "Assignments")
#: Children of a custom field definition that come before ``Alias``.
_BEFORE_ALIAS = ("FieldID", "FieldName", "CFType", "Guid", "ElemType", "MaxMultiValues",
                 "UserDef")
#: A definition with one of these is in use even when no task holds a value.
_DEFINITION_IN_USE = ("Alias", "Formula", "ValueList", "Ltuid")
ALIAS_PREFIX = "pmosim"
_FIELD = re.compile(r"^\s*[Pp](\d+(?:\.\d+)?)\s+(start|finish)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class WriteBack:
    """What a write-back wrote.

    Attributes
    ----------
    path : pathlib.Path
    fields : list of (str, str)
        Each P-date written (``"P80 finish"``) and where: the MS Project field
        (``"Date3"``) or the P6 column (``"user_field_128"``).
    tasks : int
        Tasks that received dates.
    warnings : list of str
        What the user should know (fields P6 will not import, tasks of the file that
        the result does not have).
    """

    path: Path
    fields: list
    tasks: int
    warnings: list = field(default_factory=list)


def parse_field(spec) -> tuple[float, str]:
    """``"P80 finish"`` -> ``(80.0, "finish")``; raises :class:`ModelError` otherwise."""
    m = _FIELD.match(str(spec))
    if not m or not 0 <= float(m.group(1)) <= 100:
        raise ModelError(f"write-back field {spec!r}: expected 'P<percentile> start' or "
                         "'P<percentile> finish' with a percentile in 0..100, e.g. 'P80 finish'")
    return float(m.group(1)), m.group(2).lower()


def field_label(q: float, side: str) -> str:
    """The alias or UDF title of a P-date: ``pmosim P80 Finish``."""
    return f"{ALIAS_PREFIX} P{q:g} {side.capitalize()}"


def _fields(fields) -> list[tuple[float, str]]:
    if isinstance(fields, str):
        fields = [fields]
    parsed = [parse_field(f) for f in fields]
    if not parsed:
        raise ModelError("write-back: give at least one field, e.g. 'P80 finish'")
    if len(set(parsed)) != len(parsed):
        raise ModelError(f"write-back: a field is given twice in {list(fields)!r}")
    return parsed


def _is_imported(project) -> bool:
    meta = getattr(project, "meta", {}) or {}
    return all(k in meta for k in ("calendars", "axis_calendar", "data_date"))


def pdate_moments(result, fields=DEFAULT_FIELDS) -> dict:
    """The P-dates of every task: ``{(q, side): list in node order}``.

    Imported schedules (with working calendars) give ``datetime`` moments on the axis
    calendar, to the minute; other projects ``datetime.date`` (their start date is
    needed). A start at the same time as the finish (a milestone) is shown at the
    finish moment, as the scheduling tools show a milestone.
    """
    parsed = _fields(fields)
    project = result.project
    t = result.tasks
    out = {}
    if _is_imported(project):
        from ._common import _axis_week, _in_file
        with _in_file(project):
            week, hpd = _axis_week(project)
            for q, side in parsed:
                finish = np.asarray(t.finish_percentile(q), dtype=float)
                times = finish if side == "finish" else np.asarray(t.start_percentile(q),
                                                                   dtype=float)
                moments = []
                for value, end in zip(times, finish):
                    rule = ("finish" if side == "finish" or abs(end - value) <= TIME_TOLERANCE
                            else "start")
                    if abs(value) <= TIME_TOLERANCE:
                        # at the data date, not the evening before (the calendar's rule)
                        rule = "start"
                    w = float(value) * hpd
                    hours = week.finish_at(w) if rule == "finish" else week.start_at(w)
                    # one rounding, to the minute (week.date would round to the second first)
                    moments.append(week.origin + _dt.timedelta(minutes=round(hours * 60)))
                out[(q, side)] = moments
        return out
    for q, side in parsed:
        # TaskStats shows a milestone's start on its finish date already
        days = t.finish_dates(q) if side == "finish" else t.start_dates(q)
        out[(q, side)] = [d.astype("datetime64[D]").item() if isinstance(d, np.datetime64)
                          else d for d in days]
    return out


# -- MS Project ----------------------------------------------------------------------------
def _parse_mspdi(path):
    """The MSPDI file's root element, parsed with defusedxml keeping comments."""
    import defusedxml
    from defusedxml.ElementTree import DefusedXMLParser

    from ._common import read_bytes

    data = read_bytes(path, "MS Project XML")
    parser = DefusedXMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True),
                              forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except defusedxml.DTDForbidden:
        raise ScheduleImportError(
            f"{path}: refused: the XML declares a DTD (<!DOCTYPE ...>), which MS Project "
            "never writes; pmosim does not expand XML entities or fetch external "
            "references") from None
    except defusedxml.DefusedXmlException as exc:
        raise ScheduleImportError(f"{path}: refused: the XML uses entities or external "
                                  f"references ({exc}); pmosim does not expand them") from None
    except ParseError as exc:
        raise ScheduleImportError(f"{path}: not well-formed XML: {exc}") from None
    if root.tag.split("}")[-1] != "Project":
        raise ScheduleImportError(
            f"{path}: not an MS Project XML (MSPDI) file: the root element is "
            f"<{root.tag.split('}')[-1]}>, expected <Project>")
    return root


class _Doc:
    """Namespace-aware helpers over the parsed tree, keeping its indentation style."""

    def __init__(self, root):
        self.root = root
        self.ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        text = root.text or ""
        self.step = text[1:] if text.startswith("\n") and not text[1:].strip() else None

    def q(self, tag: str) -> str:
        return f"{{{self.ns}}}{tag}" if self.ns else tag

    def local(self, el) -> str:
        return el.tag.split("}")[-1] if isinstance(el.tag, str) else ""

    def text(self, el, tag):
        found = el.find(self.q(tag))
        return None if found is None or found.text is None else found.text.strip()

    def indent(self, level: int) -> str | None:
        return None if self.step is None else "\n" + self.step * level

    def element(self, tag, level, children=(), text=None):
        """A new element at nesting ``level`` (root = 0) with ``(tag, text)`` children."""
        el = ET.Element(self.q(tag))
        el.text = text
        if children:
            el.text = self.indent(level + 1)
            for k, (child, value) in enumerate(children):
                sub = ET.SubElement(el, self.q(child))
                sub.text = value
                sub.tail = self.indent(level + 1 if k < len(children) - 1 else level)
        return el

    def insert(self, parent, index: int, el, level: int) -> None:
        """Insert ``el`` (a child at ``level``) at ``index``, fixing whitespace around it."""
        if self.step is not None:
            if index >= len(parent):
                if len(parent):
                    last = parent[-1]
                    el.tail, last.tail = last.tail, self.indent(level)
                else:
                    parent.text, el.tail = self.indent(level), self.indent(level - 1)
            else:
                el.tail = self.indent(level)
        parent.insert(index, el)

    def first_index(self, parent, tags) -> int:
        for k, child in enumerate(parent):
            if self.local(child) in tags:
                return k
        return len(parent)


def _field_ids_in_values(doc) -> set:
    used = set()
    tasks = doc.root.find(doc.q("Tasks"))
    for task in (tasks if tasks is not None else []):
        for ea in task.findall(doc.q("ExtendedAttribute")):
            fid = doc.text(ea, "FieldID")
            if fid:
                used.add(fid)
    return used


def _allocate(doc, labels, source) -> dict:
    """Label -> (definition element or None, field id): reuse pmosim's, else free ones."""
    defs = doc.root.find(doc.q("ExtendedAttributes"))
    definitions = {}
    if defs is not None:
        for d in defs.findall(doc.q("ExtendedAttribute")):
            fid = doc.text(d, "FieldID")
            if fid and fid.isdigit() and int(fid) in _DATE_NAMES:
                definitions.setdefault(int(fid), d)
    valued = {int(f) for f in _field_ids_in_values(doc) if f.isdigit()}
    chosen, taken = {}, set()
    for label in labels:
        for fid, d in definitions.items():
            if (doc.text(d, "Alias") or "").lower() == label.lower():
                chosen[label] = (d, fid)
                taken.add(fid)
    busy = {}
    for fid, d in definitions.items():
        alias = doc.text(d, "Alias")
        if fid not in taken and any(d.find(doc.q(t)) is not None for t in _DEFINITION_IN_USE):
            busy[fid] = f"alias {alias!r}" if alias else "a formula or value list"
    for fid in valued:
        if fid in _DATE_NAMES and fid not in taken:
            busy.setdefault(fid, "task values")
    free = [fid for fid in sorted(_DATE_NAMES) if fid not in busy and fid not in taken]
    missing = [label for label in labels if label not in chosen]
    if len(missing) > len(free):
        used = ", ".join(f"{_DATE_NAMES[f]} ({why})" for f, why in sorted(busy.items()))
        raise ModelError(
            f"{source}: MS Project has 10 task custom date fields and {len(free)} are free "
            f"(in use: {used}); {len(missing)} more are needed for "
            f"{', '.join(repr(m) for m in missing)}: ask for fewer fields (fields=, or "
            "--write-back-fields on the command line) or clear some in MS Project")
    for label, fid in zip(missing, free):
        chosen[label] = (definitions.get(fid), fid)
    return chosen


def _define(doc, chosen) -> None:
    """Declare (or name) each chosen field under ``<ExtendedAttributes>``."""
    root = doc.root
    defs = root.find(doc.q("ExtendedAttributes"))
    if defs is None:
        defs = doc.element("ExtendedAttributes", 1)
        doc.insert(root, doc.first_index(root, _AFTER_DEFINITIONS), defs, 1)
    for label, (definition, fid) in chosen.items():
        if definition is None:
            el = doc.element("ExtendedAttribute", 2, [("FieldID", str(fid)),
                                                      ("FieldName", _DATE_NAMES[fid]),
                                                      ("Alias", label)])
            doc.insert(defs, len(defs), el, 2)
        elif definition.find(doc.q("Alias")) is None:
            # a bare declaration (ProjectLibre declares every field): name it in place
            k = max((i + 1 for i, c in enumerate(definition) if doc.local(c) in _BEFORE_ALIAS),
                    default=0)
            doc.insert(definition, k, doc.element("Alias", 3, text=label), 3)


def write_mspdi_pdates(source_xml, result, out_path, *, fields=DEFAULT_FIELDS) -> WriteBack:
    """Copy the MSPDI file ``source_xml`` to ``out_path`` with the P-dates of ``result``
    as task custom date fields (see the module documentation).

    Parameters
    ----------
    source_xml : str or os.PathLike
        The MS Project XML file the result was simulated from (never modified).
    result : pmosim.SimulationResult
        From ``simulate(pmosim.load(source_xml), ...)``: task ids are the file's UIDs.
    out_path : str or os.PathLike
        The file to write (atomically); must not be ``source_xml``.
    fields : sequence of str
        ``"P<q> start"`` / ``"P<q> finish"``, at most 10 (default: P50 and P80 start,
        P10, P50, P80 and P90 finish).

    Returns
    -------
    WriteBack
        ``fields`` pairs each P-date with its MS Project field (``"Date1"`` ...).

    Raises
    ------
    ModelError
        ``out_path`` is the input; a field spec is malformed; fewer custom date fields
        are free than asked for; the result has tasks that the file does not (simulated
        from another file).
    ScheduleImportError
        The file cannot be read as MSPDI.
    """
    source, out = Path(source_xml), Path(out_path)
    if out.resolve() == source.resolve():
        raise ModelError(f"{out}: this is the input file, and write-back never changes its "
                         f"input; write to another file, e.g. {source.stem}-pmosim.xml")
    parsed = _fields(fields)
    labels = [field_label(q, side) for q, side in parsed]
    doc = _Doc(_parse_mspdi(source))
    tasks_el = doc.root.find(doc.q("Tasks"))
    by_uid = {}
    for task in (tasks_el if tasks_el is not None else []):
        uid = doc.text(task, "UID")
        if uid is not None and uid.lstrip("-").isdigit():
            by_uid[int(uid)] = task
    t = result.tasks
    wanted = [(i, tid) for i, tid in enumerate(t.ids) if t.kinds[i] != "connector"]
    missing = [tid for _, tid in wanted if not isinstance(tid, (int, np.integer))
               or int(tid) not in by_uid]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else "")
        origin = (getattr(result.project, "meta", {}) or {}).get("source")
        hint = f" (it was simulated from {origin})" if origin else ""
        raise ModelError(f"{source}: {len(missing)} tasks of the result are not tasks of this "
                         f"file ({shown}){hint}; write back into the MS Project file the result "
                         "was simulated from")
    chosen = _allocate(doc, labels, source)
    moments = pdate_moments(result, [f"P{q:g} {side}" for q, side in parsed])
    _define(doc, chosen)
    ours = {str(fid) for _, fid in chosen.values()}
    for i, tid in wanted:
        task = by_uid[int(tid)]
        for ea in task.findall(doc.q("ExtendedAttribute")):
            if doc.text(ea, "FieldID") in ours:
                task.remove(ea)
        existing = [k for k, c in enumerate(task) if doc.local(c) == "ExtendedAttribute"]
        at = existing[-1] + 1 if existing else doc.first_index(task, _AFTER_EXTENDED)
        for (q, side), label in zip(parsed, labels):
            moment = moments[(q, side)][i]
            value = (moment.isoformat(timespec="seconds") if isinstance(moment, _dt.datetime)
                     else f"{moment.isoformat()}T00:00:00")
            el = doc.element("ExtendedAttribute", 3, [("FieldID", str(chosen[label][1])),
                                                      ("Value", value)])
            doc.insert(task, at, el, 3)
            at += 1
    warnings = []
    simulated = {int(tid) for _, tid in wanted}
    extra = [u for u in _leaf_uids(doc, tasks_el) if u not in simulated]
    if extra:
        warnings.append(f"{len(extra)} tasks of the file were not simulated (null, inactive or "
                        "added after the import) and have no P-dates")
    tree = ET.ElementTree(doc.root)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            # the declaration as MS Project writes it (ElementTree's uses single quotes)
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
            try:
                tree.write(fh, encoding="UTF-8", xml_declaration=False,
                           default_namespace=doc.ns or None)
            except ValueError:
                # elements outside the default namespace: explicit prefixes instead
                fh.seek(0)
                fh.truncate()
                fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
                tree.write(fh, encoding="UTF-8", xml_declaration=False)
    return WriteBack(out, [(f"P{q:g} {side}", _DATE_NAMES[chosen[label][1]])
                           for (q, side), label in zip(parsed, labels)], len(wanted), warnings)


def _leaf_uids(doc, tasks_el) -> list:
    """UIDs of the file's leaf tasks: not null, not the project summary (UID 0 or outline
    level 0), not a summary (flagged, or followed by a deeper outline level)."""
    rows = []
    for task in (tasks_el if tasks_el is not None else []):
        uid, level = doc.text(task, "UID"), doc.text(task, "OutlineLevel") or "1"
        if uid is None or not uid.lstrip("-").isdigit() or doc.text(task, "IsNull") == "1":
            continue
        rows.append((int(uid), int(level) if level.isdigit() else 1,
                     doc.text(task, "Summary") == "1"))
    out = []
    for k, (uid, level, summary) in enumerate(rows):
        deeper = k + 1 < len(rows) and rows[k + 1][1] > level
        if uid != 0 and level > 0 and not summary and not deeper:
            out.append(uid)
    return out


# -- Primavera P6 --------------------------------------------------------------------------
#: P6 date UDF types (UDFTYPE.logical_data_type).
_P6_DATE_TYPES = ("FT_START_DATE", "FT_END_DATE")


def _p6_udfs(source) -> dict:
    """Activity date UDFs of an XER file: title (lower case) -> ``udf_type_name``."""
    from ._common import read_text
    from .xer import parse_xer_tables

    tables = parse_xer_tables(read_text(source, "cp1252", "Primavera P6 XER"),
                              source=str(source))
    out = {}
    for row in tables.get("UDFTYPE", []):
        if row.get("table_name") == "TASK" and row.get("logical_data_type") in _P6_DATE_TYPES:
            name = row.get("udf_type_name") or f"user_field_{row.get('udf_type_id')}"
            out[(row.get("udf_type_label") or "").strip().lower()] = name
    return out


def p6_rows(result, fields=DEFAULT_FIELDS, *, source=None, udf_names=None):
    """The P6 activity sheet of ``result``: ``(field names, captions, rows, WriteBack
    fields, warnings)``; each row a list starting with ``task_code`` and ``task_name``.

    ``source`` is the XER whose UDFTYPE table names the UDF columns (default: the file
    the project was imported from, when it is an XER); ``udf_names`` maps a field
    (``"P80 finish"``) or its title (``"pmosim P80 Finish"``) to a column name.
    """
    parsed = _fields(fields)
    project = result.project
    meta = getattr(project, "meta", {}) or {}
    if source is None and meta.get("format") == "xer" and meta.get("source"):
        source = meta["source"]
    udfs = _p6_udfs(source) if source is not None else {}
    given = {str(k).strip().lower(): v for k, v in (udf_names or {}).items()}
    names, captions, where, unmatched = ["task_code", "task_name"], ["Activity ID",
                                                                     "Activity Name"], [], []
    for q, side in parsed:
        spec, label = f"P{q:g} {side}", field_label(q, side)
        column = given.get(spec.lower()) or given.get(label.lower()) or udfs.get(label.lower())
        if column is None:
            column = f"pmosim_P{q:g}_{side}".replace(".", "_")
            unmatched.append(label)
        names.append(column)
        captions.append(label)
        where.append((spec, column))
    warnings = []
    if unmatched:
        place = f" in {source}" if source is not None else ""
        warnings.append(
            f"P6 has no activity date UDFs titled {', '.join(repr(u) for u in unmatched)}"
            f"{place}, so its import will skip those columns: create them in P6 (Enterprise > "
            "User Defined Fields > Activities, type Start Date or Finish Date), export the XER "
            "again and rerun")
    moments = pdate_moments(result, [s for s, _ in where])
    graph = getattr(project, "graph", None)
    t = result.tasks
    rows = []
    for i, tid in enumerate(t.ids):
        if t.kinds[i] == "connector":
            continue
        attrs = graph.nodes[tid] if graph is not None and tid in graph else {}
        code = attrs.get("code") or tid
        rows.append([str(code), t.names[i],
                     *(moments[(q, side)][i] for q, side in parsed)])
    return names, captions, rows, where, warnings


def _p6_text(value) -> str:
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def write_p6_csv(result, path, fields=DEFAULT_FIELDS, *, source=None,
                 udf_names=None) -> WriteBack:
    """Write the P6 activity sheet of :func:`p6_rows` as CSV (UTF-8 with BOM, two header
    rows: P6 field names, then captions; dates ``YYYY-MM-DD HH:MM``).

    P6 imports spreadsheets as ``.xlsx`` (:func:`write_p6_xlsx`); save this file from
    Excel as a workbook with its sheet named ``TASK``, or use it to review and edit.
    """
    names, captions, rows, where, warnings = p6_rows(result, fields, source=source,
                                                     udf_names=udf_names)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(names)
            writer.writerow(captions)
            for row in rows:
                writer.writerow([_p6_text(v) for v in row])
    return WriteBack(Path(path), where, len(rows), warnings)


def write_p6_xlsx(result, path, fields=DEFAULT_FIELDS, *, source=None,
                  udf_names=None) -> WriteBack:
    """Write the P6 activity sheet of :func:`p6_rows` as a workbook P6 imports (File >
    Import > Spreadsheet - XLSX): sheet ``TASK``, field names in row 1, captions in
    row 2, real date-time cells. Needs openpyxl (``pip install 'pmosim[xlsx]'``)."""
    from .tasks_out import _openpyxl
    openpyxl = _openpyxl()
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names, captions, rows, where, warnings = p6_rows(result, fields, source=source,
                                                     udf_names=udf_names)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "TASK"
    ws.append(names)
    ws.append(captions)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for col in ws.iter_cols(min_row=3, min_col=3):
        for cell in col:
            if isinstance(cell.value, _dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, _dt.date):
                cell.number_format = "yyyy-mm-dd"
    for j, caption in enumerate(captions, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(len(caption), 16) + 2
    ws.freeze_panes = "C3"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return WriteBack(Path(path), where, len(rows), warnings)

"""Write a project as a scenario file (TOML, plus a CSV of tasks when large).

An imported schedule becomes a file that can be kept in git, edited and run:
:func:`write_scenario` writes the format of ``docs/scenario-format.md`` so that
``pmosim.load`` reads back the same tasks, links (type and lag), durations,
planned durations, name, start date and day-level calendar.

The risk register, drivers, correlations, branches, task existence, conditions
and costs (``cost_fixed``, ``cost_rate``) are written too, and so are an imported
schedule's working calendars, data date, task calendars, progress (status, actual
dates), constraints and elapsed durations (:mod:`pmosim.io._wallclock`), so that
the scenario gives the same CPM dates and, for a seed, the same simulated bits as
the import. What the scenario format cannot hold (the tool's own dates and codes,
and other task attributes) is never dropped silently: each loss is one line of the
header comment of the TOML file and one entry of the returned ``warnings``.

With more than ``csv_threshold`` tasks, the tasks go to a sidecar CSV file
(``<name>.tasks.csv`` next to the TOML, named by ``tasks_csv``); a task the CSV
notation cannot express exactly (a lag that is a distribution, an id with a
comma or semicolon in a predecessor list), and every task after it, stays in
``[[tasks]]``: the reader takes the CSV's tasks first, and the task order keys
the random numbers. Both files are
written atomically (a temporary file, then ``os.replace``); the CSV first, so a
TOML file never names a CSV file that is not there.

Numbers are written so that they read back as the same floats (shortest ``repr``;
plain decimals in predecessor text and CSV cells). One exception: ``discrete``
weights are written normalised and normalised again when read, which can move a
weight by one unit in the last place.

Examples
--------
>>> import pathlib, tempfile, pmosim
>>> p = pmosim.Project("demo", start="2027-03-01")
>>> p.add_task(1, pmosim.Triangular(2, 3, 6), name="Dig")
>>> p.add_task(2, 4, constraint=("SNET", None))
>>> p.add_link(1, 2, "SS", 1.5)
>>> out = write_scenario(p, pathlib.Path(tempfile.mkdtemp()) / "demo.toml")
>>> print(out.path.read_text())  # doctest: +ELLIPSIS
# pmosim scenario written by pmosim ... from a pmosim.Project
# Not kept by the scenario format (also returned as warnings):
# - 2 task ids are numbers; they are written as text (1 -> "1"), the scenario format's ids
# - 1 task constraint not written (SNET 1); dates that depend on it will differ
<BLANKLINE>
[project]
name = "demo"
start = 2027-03-01
<BLANKLINE>
[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = []
<BLANKLINE>
[[tasks]]
id = "1"
name = "Dig"
duration = { dist = "triangular", low = 2, mode = 3, high = 6 }
<BLANKLINE>
[[tasks]]
id = "2"
duration = 4
predecessors = ["1 SS+1.5"]
<BLANKLINE>
>>> pmosim.load(out).graph.edges["1", "2"]
{'type': 'SS', 'lag': 1.5}
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import math
from collections import Counter
from decimal import Decimal
from pathlib import Path

from .._version import __version__
from ..calendar import WorkCalendar
from ..distributions import Distribution, Fixed, as_distribution
from ..errors import PmosimError
from ..model import as_project, condition, planned_duration, project_cost_rate, task_costs
from . import _wallclock as clock
from .json_out import atomic_path
from .scenario import DISTRIBUTIONS, parse_predecessor

__all__ = ["write_scenario", "ScenarioFile"]

#: Node attributes the scenario format holds.
_WRITTEN = {"duration", "name", "planned", "existence", "when", "cost_fixed", "cost_rate",
            "actual_cost", "release", "fixed_start", "fixed_finish", "wbs", "resources",
            "priority"}
#: Node attributes covered by a dedicated warning, so not listed again among "other".
_PROGRESS = ("status", "actual_start", "actual_finish", "percent_complete", "resume",
             "fixed_start", "fixed_finish", "expected_finish")
#: Costs of imported files (what the tool computed), not the engine's cost model.
_COSTS = ("cost", "fixed_cost", "actual_cost", "remaining_cost")
_COVERED = (set(_PROGRESS) | set(_COSTS)
            | {"calendar", "constraint", "release", "resources", "resources_not_levelled",
               "resources_capped", "elapsed_hours"})
_EDGE_WRITTEN = {"type", "lag", "lag_calendar", "lag_elapsed_hours"}
_MAX_HEADER_WARNINGS = 25


@dataclasses.dataclass(frozen=True)
class ScenarioFile:
    """What :func:`write_scenario` wrote; usable as a path (``pmosim.load(out)``).

    Attributes
    ----------
    path : Path
        The TOML scenario.
    csv_path : Path or None
        The sidecar CSV of tasks, when one was written.
    warnings : tuple of str
        Everything of the project that the scenario does not hold.
    """

    path: Path
    csv_path: Path | None
    warnings: tuple

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


def write_scenario(project, path, *, csv_threshold: int = 200) -> ScenarioFile:
    """Write ``project`` as a scenario TOML file (and a CSV of tasks when large).

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        A valid project (it is validated first).
    path : str or os.PathLike
        The ``.toml`` file to write; its folder is created if needed.
    csv_threshold : int
        With more tasks than this, tasks go to ``<stem>.tasks.csv`` next to it.

    Returns
    -------
    ScenarioFile
        The path(s) written and the warnings (also in the TOML header comment).

    Raises
    ------
    PmosimError
        The project is invalid, ``path`` does not end in ``.toml``, or two task ids
        have the same text (``1`` and ``"1"``).
    """
    project = as_project(project)
    project.validate()
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise PmosimError(f"{path}: a scenario file name ends in .toml; "
                          f"use e.g. {path.with_suffix('.toml').name}")
    if not isinstance(csv_threshold, int) or csv_threshold < 0:
        raise PmosimError(f"csv_threshold must be a whole number >= 0, got {csv_threshold!r}")
    graph = project.graph
    ids = _id_texts(graph)
    wall, lost = _clock_writer(project)
    warnings = lost + _losses(project, ids, wall)

    calendar = project.calendar if isinstance(project.calendar, WorkCalendar) else WorkCalendar()
    start = project.start
    if start is not None and not calendar.is_workday(start):
        shifted = calendar.next_workday(start)
        warnings.insert(0, f"project start {start.isoformat()} is not a working day of the "
                           f"calendar; written as the next working day {shifted.isoformat()}")
        start = shifted

    known = set(ids.values())
    use_csv = project.n_tasks > csv_threshold
    csv_rows, toml_tasks = [], []
    for task_id, data in graph.nodes(data=True):
        task = _task(task_id, data, graph, ids, known, wall)
        # the reader takes the CSV's tasks first: a task after one that stays in [[tasks]]
        # stays there too, so the task order (which keys the random numbers) is kept
        if use_csv and task["csv"] is not None and not toml_tasks:
            csv_rows.append(task["csv"])
        else:
            toml_tasks.append(task["toml"])

    csv_path = None
    cost_lines = _project_costs(project, warnings)
    lines = _header(project, warnings)
    lines += ["[project]", f"name = {_toml_str(str(project.name))}"]
    if start is not None:
        lines.append(f"start = {start.isoformat()}")
    if csv_rows:
        csv_path = path.with_name(path.stem + ".tasks.csv")
        lines.append(f"tasks_csv = {_toml_str(csv_path.name)}")
    lines += cost_lines
    if project.levelling is not None:
        lines.append(f"levelling = {_toml_str(project.levelling)}")
    if project.priority != "lft":
        lines.append(f"priority = {_toml_str(project.priority)}")
    if wall is not None:
        lines += wall.project_lines()
    lines.append("")
    if wall is None or wall.needs_day_calendar():
        lines += ["[calendar]",
                  f"workdays = [{', '.join(_toml_str(d) for d in calendar.workdays)}]",
                  f"holidays = [{', '.join(d.isoformat() for d in calendar.holidays)}]", ""]
    if wall is not None:
        lines += wall.calendar_tables()
    lines += _resource_tables(project)
    for task_lines in toml_tasks:
        lines += ["[[tasks]]", *task_lines, ""]
    lines += _uncertainty_tables(project, ids)

    if csv_rows:
        with atomic_path(csv_path) as tmp:
            tmp.write_text(_csv_text(csv_rows), encoding="utf-8", newline="")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    return ScenarioFile(path, csv_path, tuple(warnings))


# -- tasks ------------------------------------------------------------------------------
def _id_texts(graph) -> dict:
    ids = {t: str(t) for t in graph.nodes}
    seen: dict[str, object] = {}
    for t, text in ids.items():
        if not text.strip() or text != text.strip():
            raise PmosimError(f"task id {t!r} is empty or has spaces at its ends; the scenario "
                              "format strips them: rename the task")
        if text in seen:
            raise PmosimError(f"task ids {seen[text]!r} and {t!r} are both written as "
                              f"{text!r}; rename one of them")
        seen[text] = t
    return ids


def _task(task_id, data, graph, ids, known, wall=None) -> dict:
    """The TOML lines of a task, and its CSV row (None when CSV cannot express it).

    ``wall`` (a :class:`~pmosim.io._wallclock.ClockWriter`) adds the keys of the
    wall-clock mode and leaves out the working-day offsets the reader derives exactly.
    """
    text_id = ids[task_id]
    name = data.get("name")
    name = None if name is None or str(name) == text_id else str(name)
    dist = as_distribution(data["duration"], f"task {task_id!r}: duration")
    planned = None
    if data.get("planned") is not None:
        planned = planned_duration(task_id, data)
        if planned == planned_duration(task_id, {"duration": dist}):
            planned = None

    toml = [f"id = {_toml_str(text_id)}"]
    if name is not None:
        toml.append(f"name = {_toml_str(name)}")
    toml.append(f"duration = {_toml_dist(dist)}")
    if planned is not None:
        toml.append(f"planned = {_toml_num(planned)}")
    extra = {}
    if data.get("existence") is not None:
        extra["existence"] = float(data["existence"])
        toml.append(f"existence = {_toml_num(extra['existence'])}")
    when = condition(f"task {task_id!r}: when", data["when"]) if data.get("when") else None
    if when is not None:
        target = ids.get(when.task, str(when.task))
        toml.append(f"when = {{ task = {_toml_str(target)}, {when.kind} = "
                    f"{_toml_num(when.value)} }}")
    csv_ok = when is None and (name is None or (name == name.strip() and name != ""))
    if data.get("wbs"):
        toml.append(f"wbs = {_toml_str(str(data['wbs']))}")
        extra["wbs"] = str(data["wbs"])
    clock_toml, clock_cells, same = wall.task(task_id, data) if wall is not None else \
        ([], {}, set())
    derived = wall.offsets.get(task_id, {}) if wall is not None else {}
    for key in ("release", "fixed_start", "fixed_finish"):
        value = data.get(key)
        if key == "release" and value is None and "release" in derived:
            value = 0.0     # none: the reader would derive one from the constraint
        if value is None or key in same or (key == "release" and float(value) == 0.0
                                             and "release" not in derived):
            continue
        extra[key] = float(value)
        toml.append(f"{key} = {_toml_num(extra[key])}")
    for key, cost in zip(("cost_fixed", "cost_rate"), task_costs(task_id, data)):
        if cost is not None:
            toml.append(f"{key} = {_toml_dist(cost)}")
            if isinstance(cost, Fixed):
                extra[key] = cost.value
            else:
                csv_ok = False
    spent = _spent(data)
    if spent is not None:
        extra["actual_cost"] = spent
        toml.append(f"actual_cost = {_toml_num(spent)}")
    preds, csv_preds = [], []
    for u, _, e in graph.in_edges(task_id, data=True):
        kind = str(e.get("type", "FS")).upper()
        lag = as_distribution(e.get("lag", 0.0), "lag")
        attrs = wall.link(u, e) if wall is not None else {}
        text = _link_text(ids[u], kind, lag, known) if not attrs else None
        if text is not None:
            preds.append(_toml_str(text))
        else:
            more = "".join(f", {k} = {_toml_str(v) if isinstance(v, str) else _toml_num(v)}"
                           for k, v in attrs.items())
            preds.append(f"{{ id = {_toml_str(ids[u])}, type = {_toml_str(kind)}, "
                         f"lag = {_toml_dist(lag)}{more} }}")
        if text is None or "," in ids[u] or ";" in ids[u]:
            csv_ok = False
        csv_preds.append(text)
    if preds:
        toml.append(f"predecessors = [{', '.join(preds)}]")
    demands = data.get("resources") or {}
    if demands:
        toml.append("resources = { " + ", ".join(
            f"{_toml_str(str(r))} = {_toml_num(float(u))}" for r, u in demands.items()) + " }")
        if any(c in str(r) for r in demands for c in ":;,"):
            csv_ok = False
        else:
            extra["resources"] = "; ".join(f"{r}:{_plain(float(u))}" for r, u in demands.items())
    if data.get("priority") is not None:
        extra["priority"] = float(data["priority"])
        toml.append(f"priority = {_toml_num(extra['priority'])}")
    general_toml, general_cells = clock.general_task_keys(data)
    toml += general_toml + clock_toml
    extra.update(general_cells)
    extra.update(clock_cells)

    row = None
    if csv_ok:
        row = {"id": text_id, "name": name or "", "predecessors": ";".join(csv_preds)}
        if isinstance(dist, Fixed):
            row["duration"] = _plain(dist.value)
        else:
            row["dist"] = dist.kind
            for f in dataclasses.fields(dist):
                if f.init:
                    value = getattr(dist, f.name)
                    row[f.name] = (";".join(_plain(v) for v in value)
                                   if isinstance(value, (tuple, list)) else _plain(value))
        if planned is not None:
            row["planned"] = _plain(planned)
        row.update((k, v if isinstance(v, str) else _plain(v)) for k, v in extra.items())
    return {"toml": toml, "csv": row}


def _link_text(pred: str, kind: str, lag: Distribution, known) -> str | None:
    """``pred``, ``"pred SS+1.5"``, ...; None when the text would not read back exactly."""
    if not isinstance(lag, Fixed):
        return None
    value = lag.value
    if kind == "FS" and value == 0:
        text = pred
    else:
        text = f"{pred} {kind}{'-' if value < 0 else '+'}{_plain(abs(value))}"
    try:
        back = parse_predecessor(text, known)
    except PmosimError:
        return None
    return text if back == (pred, kind, value) else None


_CSV_ORDER = ("id", "name", "duration", "dist", "value", "low", "mode", "high", "lamb",
              "low_pct", "high_pct", "mean", "sd", "values", "weights", "planned",
              "existence", "cost_fixed", "cost_rate", "actual_cost", "release", "fixed_start",
              "fixed_finish", "wbs", "resources", "priority", *clock.CSV_COLUMNS, "predecessors")


def _csv_text(rows) -> str:
    used = {k for r in rows for k, v in r.items() if v != ""} | {"id"}
    columns = [c for c in _CSV_ORDER if c in used]
    if "duration" not in columns and "dist" not in columns:
        columns.insert(1, "duration")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return buf.getvalue()


# -- costs and the uncertainty model -------------------------------------------------------
def _project_costs(project, warnings) -> list[str]:
    lines = []
    rate = project_cost_rate(project)
    if rate is not None:
        lines.append(f"cost_rate = {_toml_dist(rate)}")
    has_cost = rate is not None or any(
        any(c is not None for c in task_costs(t, d)) for t, d in project.graph.nodes(data=True)
    ) or any(r.pre.cost_impact is not None for r in getattr(project, "risks", {}).values())
    budget = project.meta.get("budget")
    if budget is not None:
        if has_cost:
            lines.append(f"budget = {_toml_num(budget)}")
        else:
            warnings.append(f"budget {budget:g} not written: the project has no costs "
                            "(the scenario format rejects a budget without them)")
    if isinstance(project.meta.get("currency"), str) and project.meta["currency"].strip():
        lines.append(f"currency = {_toml_str(project.meta['currency'].strip())}")
    return lines


def _task_list(tasks, ids) -> str:
    return "[" + ", ".join(_toml_str(ids.get(t, str(t))) for t in tasks) + "]"


def _impact(impact) -> str:
    if impact.pct:
        return f"{{ pct = {_toml_dist(impact.dist)} }}"
    return _toml_dist(impact.dist)


def _state(state) -> list[str]:
    out = [f"probability = {_toml_num(state.probability)}"]
    if state.schedule_impact is not None:
        out.append(f"schedule_impact = {_impact(state.schedule_impact)}")
    if state.cost_impact is not None:
        out.append(f"cost_impact = {_toml_dist(state.cost_impact)}")
    return out


def _name_line(obj) -> list[str]:
    return [f"name = {_toml_str(str(obj.name))}"] if str(obj.name) != str(obj.id) else []


def _uncertainty_tables(project, ids) -> list[str]:
    """``[[risks]]``, ``[[drivers]]``, ``[[correlations]]`` and ``[[branches]]``."""
    lines = []
    for risk in (getattr(project, "risks", None) or {}).values():
        lines += ["[[risks]]", f"id = {_toml_str(str(risk.id))}", *_name_line(risk),
                  f"tasks = {_task_list(risk.tasks, ids)}", *_state(risk.pre)]
        if risk.post is not None:
            lines.append(f"mitigated = {{ {', '.join(_state(risk.post))} }}")
        lines.append("")
    for driver in (getattr(project, "drivers", None) or {}).values():
        lines += ["[[drivers]]", f"id = {_toml_str(str(driver.id))}", *_name_line(driver),
                  f"probability = {_toml_num(driver.probability)}",
                  f"factor = {_toml_dist(driver.factor)}",
                  f"tasks = {_task_list(driver.tasks, ids)}", ""]
    for corr in getattr(project, "correlations", None) or []:
        rows = ", ".join("[" + ", ".join(_toml_num(x) for x in row) + "]"
                         for row in corr.matrix.tolist())
        lines += ["[[correlations]]", f"tasks = {_task_list(corr.tasks, ids)}",
                  f"matrix = [{rows}]"]
        if not corr.repair:
            lines.append("repair = false")
        lines.append("")
    for branch in (getattr(project, "branches", None) or {}).values():
        options = []
        for o in branch.options:
            parts = [f"probability = {_toml_num(o.probability)}",
                     f"tasks = {_task_list(o.tasks, ids)}"]
            if o.when is not None:
                target = ids.get(o.when.task, str(o.when.task))
                parts.append(f"when = {{ task = {_toml_str(target)}, {o.when.kind} = "
                             f"{_toml_num(o.when.value)} }}")
            options.append("{ " + ", ".join(parts) + " }")
        lines += ["[[branches]]", f"id = {_toml_str(str(branch.id))}",
                  "options = [" + ", ".join(options) + "]", ""]
    return lines


# -- what the format cannot hold --------------------------------------------------------
def _losses(project, ids, wall=None) -> list[str]:
    graph = project.graph
    nodes = list(graph.nodes(data=True))
    out = []

    def count(pred):
        return sum(1 for _, d in nodes if pred(d))

    if project.time_unit not in (None, "days"):
        out.append(f"time unit {project.time_unit!r}: durations and lags are written unchanged "
                   "as working days, the scenario format's only unit")
    numeric = sum(1 for t in ids if not isinstance(t, str))
    if numeric:
        example = next(t for t in ids if not isinstance(t, str))
        out.append(f"{numeric} task ids are numbers; they are written as text ({example} -> "
                   f"\"{example}\"), the scenario format's ids")

    meta = project.meta
    if wall is not None:
        out += _clock_losses(project, wall)
    for key, choices in (("kind", clock.KINDS), ("status", clock.STATUSES)):
        odd = Counter(str(d[key]) for _, d in nodes
                      if d.get(key) is not None and d[key] not in choices)
        if odd:
            out.append(f"task {key} not written for {sum(odd.values())} tasks "
                       f"({', '.join(f'{k} {v}' for k, v in sorted(odd.items()))}): the "
                       f"scenario format's are {', '.join(choices)}")
    calendars = meta.get("calendars") or {}
    used = Counter(d.get("calendar") for _, d in nodes if d.get("calendar") is not None)
    lag_cals = {e.get("lag_calendar") for _, _, e in graph.edges(data=True)} - {None}
    if wall is not None:
        used, lag_cals = Counter(), set()      # written: [calendars.NAME]
    if len(set(used) | lag_cals) > 1:
        axis = meta.get("axis_calendar")
        names = ", ".join(f"{k} ({used.get(k, 0)} tasks)" for k in sorted(set(used) | lag_cals,
                                                                            key=str))
        out.append(f"{len(set(used) | lag_cals)} calendars used by tasks and lags: {names}; "
                   "durations and lags stay in working days of their own calendar, but the "
                   "scenario has one day-level calendar"
                   + (f" (that of calendar {axis})" if axis is not None else "")
                   + ", so dates of the others will differ; run pmosim on the original "
                   "file to schedule each task and lag on its own calendar")
    partial = sum(1 for key in set(used) | lag_cals if key in calendars
                  for iv in calendars[key].get("exceptions", {}).values() if iv)
    if partial:
        out.append(f"{partial} calendar exceptions with working hours (partial or extra working "
                   "days) not kept: the scenario calendar has whole working days and holidays")

    cons = Counter(d["constraint"][0] for _, d in nodes
                   if isinstance(d.get("constraint"), (tuple, list)) and d["constraint"])
    if cons and wall is None:
        n = sum(cons.values())
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(cons.items()))
        out.append(f"{n} task constraint{'s' * (n != 1)} not written ({kinds}); dates that "
                   f"depend on {'them' if n != 1 else 'it'} will differ")

    status = Counter(d.get("status") for _, d in nodes if d.get("kind") != "connector")
    started = count(lambda d: d.get("actual_start") is not None)
    if (status.get("complete") or status.get("in progress") or started) and wall is None:
        data_date = meta.get("data_date")
        when = (f"; time 0 is the data date {data_date:%Y-%m-%d %H:%M}"
                if isinstance(data_date, _dt.datetime) else "")
        out.append(f"progress written as working-day offsets only: {status.get('complete', 0)} "
                   "completed tasks (fixed_start/fixed_finish on the axis calendar), "
                   f"{status.get('in progress', 0)} in progress (their remaining duration from "
                   f"time 0){when}; actual dates and percent complete are not kept")

    costed = count(lambda d: any(_truthy(d.get(k)) for k in _COSTS))
    modelled = count(lambda d: d.get("cost_fixed") is not None or d.get("cost_rate") is not None)
    if costed and not modelled:
        total = sum(float(d.get("cost") or 0.0) for _, d in nodes
                    if isinstance(d.get("cost"), (int, float)))
        out.append(f"costs from the schedule (cost, actual and remaining cost) of {costed} tasks "
                   f"not written (total cost {total:,.2f}); the scenario's cost model is "
                   "cost_fixed and cost_rate per task")
    imported = (meta.get("import_report") or {}).get("costs") or {}
    if modelled and imported.get("budgeted"):
        out.append(f"the schedule's budgeted cost {imported['budgeted']:,.2f} not written: the "
                   "tasks' cost_fixed and cost_rate are the cost at completion, actual + "
                   f"remaining ({imported['at_completion']:,.2f}); give the budget as --budget "
                   "or budget under [project]")
    demands = count(lambda d: _truthy(d.get("resources_not_levelled")))
    n_resources = len(meta.get("resources_not_levelled") or {})
    if demands or n_resources:
        out.append(f"resources that are not levelled (material, consumable, ...) not written: "
                   f"{n_resources} resources, demands of {demands} tasks")
    elapsed = count(lambda d: d.get("elapsed_hours") is not None)
    elapsed_lags = sum(1 for _, _, e in graph.edges(data=True)
                       if e.get("lag_elapsed_hours") is not None)
    if (elapsed or elapsed_lags) and wall is None:
        out.append(f"{elapsed} elapsed durations and {elapsed_lags} elapsed lags written as "
                   "their working-day approximation")

    written = _WRITTEN | set(clock.TASK_KEYS if wall is not None else
                             set(clock.TASK_KEYS) - set(clock.CLOCK_TASK_KEYS))
    other = Counter(k for _, d in nodes for k, v in d.items()
                    if k not in written and k not in _COVERED and _truthy(v))
    if other:
        out.append("other task attributes not written: "
                   + ", ".join(f"{k} ({v})" for k, v in sorted(other.items())))
    edge_other = Counter(k for _, _, e in graph.edges(data=True) for k, v in e.items()
                         if k not in _EDGE_WRITTEN and _truthy(v))
    if edge_other:
        out.append("other link attributes not written: "
                   + ", ".join(f"{k} ({v})" for k, v in sorted(edge_other.items())))
    return out


def _spent(data) -> float | None:
    """A task's ``actual_cost`` to write: the spent part of a ``cost_fixed`` that holds it."""
    spent, fixed = data.get("actual_cost"), data.get("cost_fixed")
    if fixed is None or isinstance(spent, bool) or not isinstance(spent, (int, float)):
        return None
    if not math.isfinite(spent) or spent <= 0:
        return None
    value = getattr(fixed, "value", fixed)
    if isinstance(value, (int, float)) and spent > value:
        return None             # not part of cost_fixed: the scenario would reject it
    return float(spent)


def _resource_tables(project) -> list[str]:
    """``[[resources]]`` tables: id, name when it differs, capacity, capacity changes."""
    out = []
    for rid, res in project.resources.items():
        out += ["[[resources]]", f"id = {_toml_str(str(rid))}"]
        if res.name != str(rid):
            out.append(f"name = {_toml_str(res.name)}")
        out.append(f"capacity = {_toml_num(res.capacity)}")
        if res.changes:
            out.append("changes = [" + ", ".join(
                f"{{ at = {_toml_num(t)}, capacity = {_toml_num(c)} }}" for t, c in res.changes)
                + "]")
        out.append("")
    return out


def _truthy(value) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, (list, tuple, dict, set)):
        return len(value) > 0
    return True


def _header(project, warnings) -> list[str]:
    meta = project.meta
    source = meta.get("source")
    origin = (f"from {source} ({meta.get('format', 'unknown format')})" if source
              else "from a pmosim.Project")
    lines = [f"# pmosim scenario written by pmosim {__version__} {origin}"]
    report = meta.get("import_report")
    if isinstance(report, dict) and "tasks" in report:
        lines.append(f"# Import: {report.get('tasks')} tasks, {report.get('links')} links, "
                     f"{report.get('calendars')} calendars, "
                     f"{len(report.get('warnings', []))} import warnings")
    rules = (meta.get("uncertainty") or {}).get("rules")
    if rules:
        lines.append("# Uncertainty applied: " + "; ".join(rules))
    if warnings:
        lines.append("# Not kept by the scenario format (also returned as warnings):")
        lines += [f"# - {_comment(w)}" for w in warnings[:_MAX_HEADER_WARNINGS]]
        if len(warnings) > _MAX_HEADER_WARNINGS:
            lines.append(f"# - ... and {len(warnings) - _MAX_HEADER_WARNINGS} more")
    return [*lines, ""]


def _comment(text: str) -> str:
    return "".join(c if c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F) else " "
                   for c in str(text))


# -- TOML and number text ---------------------------------------------------------------
def _toml_str(text: str) -> str:
    """A TOML basic string (escapes quotes, backslashes and control characters)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_num(x) -> str:
    """A TOML number that reads back as exactly ``float(x)``."""
    x = float(x)
    if not math.isfinite(x):
        raise PmosimError(f"cannot write the non-finite number {x!r} to a scenario")
    if x.is_integer() and abs(x) < 2 ** 53:
        return str(int(x))
    return repr(x)


def _plain(x) -> str:
    """``x`` in plain decimal notation (no exponent) that reads back as exactly ``float(x)``."""
    x = float(x)
    if x.is_integer() and abs(x) < 2 ** 53:
        return str(int(x))
    return format(Decimal(repr(x)), "f")


def _toml_dist(dist: Distribution) -> str:
    if isinstance(dist, Fixed):
        return _toml_num(dist.value)
    if dist.kind not in DISTRIBUTIONS:
        raise PmosimError(f"the scenario format has no {dist.kind!r} distribution")
    parts = [f"dist = {_toml_str(dist.kind)}"]
    for f in dataclasses.fields(dist):
        if f.init:
            value = getattr(dist, f.name)
            if isinstance(value, (tuple, list)):
                parts.append(f"{f.name} = [{', '.join(_toml_num(v) for v in value)}]")
            else:
                parts.append(f"{f.name} = {_toml_num(value)}")
    return "{ " + ", ".join(parts) + " }"


# -- working calendars, the data date and progress (io._wallclock) -------------------------
def _clock_writer(project):
    """The :class:`~pmosim.io._wallclock.ClockWriter` of a project with working calendars
    (None without), and a warning when they cannot be written."""
    from ..compile import has_calendars
    if not has_calendars(project):
        return None, []
    try:
        wall = clock.ClockWriter(project)
        problems = wall.unwritable()
    except PmosimError as exc:
        problems = [str(exc)]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return None, [f"working calendars not written: {problems[0]}{more}; tasks are "
                      "written on the day-level calendar"]
    return wall, []


def _clock_losses(project, wall) -> list[str]:
    """What a project with working calendars loses in its scenario."""
    out = []
    nodes = project.graph.nodes(data=True)
    lost = sum(1 for t, d in nodes if wall.lost_fixed(t, d))
    if lost:
        out.append(f"{lost} completed tasks have actual dates but no fixed_start/fixed_finish; "
                   "the scenario gives them those of their actual dates")
    cons = Counter(d["constraint"][0] if isinstance(d["constraint"], (tuple, list))
                   and d["constraint"] else str(d["constraint"])
                   for _, d in nodes if d.get("constraint")
                   and not clock.valid_constraint(d["constraint"]))
    if cons:
        out.append(f"{sum(cons.values())} constraints without a date (or of an unknown type) "
                   f"not written ({', '.join(f'{k} {v}' for k, v in sorted(cons.items()))}): "
                   "they bound no date")
    pct = sum(1 for _, d in nodes if _truthy(d.get("percent_complete"))
              and d.get("status") == "in progress")
    if pct:
        out.append(f"percent complete of {pct} tasks in progress not written: their remaining "
                   "durations carry the progress")
    return out


"""The results JSON file (format documented in ``docs/results-format.md``), written atomically.

:func:`results_dict` composes :meth:`SimulationResult.to_dict` with what only the
caller knows (the scenario file, a target) and, when the project has a start
date, calendar dates of the finish percentiles. :func:`write_results_json`
writes it through :func:`atomic_path`: to a temporary file in the same folder,
then ``os.replace``, so a reader never sees half a file and a failed run never
leaves a truncated one behind.

The keys named in the format document are stable: later versions add keys,
never rename or remove these.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .._version import __version__
from ..calendar import WorkCalendar


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    The temporary file is removed when the body raises. Parent folders are created.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out" / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp creates the file 0600; give the result the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sweep_stale(path: Path) -> None:
    """Remove temporary files of ``path`` left by a process that no longer runs (killed
    with SIGKILL, or a power cut: no ``finally`` ran). The writer's process id is part
    of the name; files of a running process, or in another name form, are kept."""
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (PermissionError, OverflowError, OSError):
            pass


def finish_dates(project, times):
    """Finish dates (ISO text) of working times, or None when the project has no start."""
    start = getattr(project, "start", None)
    if start is None:
        return None
    calendar = getattr(project, "calendar", None) or WorkCalendar()
    days = calendar.finish_dates(start, np.asarray(times, dtype=float))
    return [str(d) for d in np.atleast_1d(days)]


def results_dict(result, *, scenario=None, target=None, budget=None, ranking=None) -> dict:
    """The results JSON document of one simulation, as a dict.

    Parameters
    ----------
    result : pmosim.SimulationResult
    scenario : str, optional
        The scenario file as given on the command line (None for a model built in Python).
    target : dict, optional
        ``{"value": working days, "given": the text given}``; the probability of
        finishing on or before it is added, and its date when the project has a start.
    budget : dict, optional
        ``{"value": amount, "given": the text given}`` (the project must have costs);
        the probability of staying within it is added, and with ``target`` too the
        joint confidence level (JCL) of meeting both goes into ``jcl``.
    ranking : pmosim.results.RiskRanking, optional
        From :func:`pmosim.rank_risks`: each risk entry gets its shifts, ``risks``
        is sorted by them, and ``risk_ranking`` describes the ranking run.
    """
    base = result.to_dict()
    project = result.project
    finish = dict(base["finish"])
    start = getattr(project, "start", None)
    calendar = getattr(project, "calendar", None) or WorkCalendar()
    if start is not None:
        keys = list(finish["percentiles"])
        dates = finish_dates(project, [finish["percentiles"][k] for k in keys])
        finish["dates"] = dict(zip(keys, dates))
        finish["deterministic_date"], finish["mean_date"] = finish_dates(
            project, [finish["deterministic"], finish["mean"]])
        if "percentile_ci" in finish:
            finish["dates_ci"] = {k: [_date_or_none(project, t) for t in pair]
                                  for k, pair in finish["percentile_ci"].items()}

    doc = {
        "pmosim_version": __version__,
        "scenario": None if scenario is None else str(scenario),
        "project": {
            "name": getattr(project, "name", None),
            "start": start.isoformat() if start is not None else None,
            "time_unit": getattr(project, "time_unit", "days"),
            "calendar": calendar.to_dict(),
            "n_tasks": len(result.task_ids),
        },
        "iterations": base["iterations"],
        "seed": base["seed"],
        "finish": finish,
        "warnings": run_warnings(result, scenario),
    }
    if target is not None:
        value = float(target["value"])
        entry = {"value": value, "probability": result.finish.probability_le(value),
                 "probability_ci": list(result.finish.probability_ci(value))}
        if "given" in target:
            entry["given"] = str(target["given"])
        if start is not None:
            entry["date"] = finish_dates(project, [max(value, 0.0)])[0]
        doc["target"] = entry
    for key, value in base.items():
        doc.setdefault(key, value)
    if "cost" in doc:
        cost = dict(doc["cost"])
        planned = cost["deterministic"]
        cost["contingency"] = {k: v - planned for k, v in cost["percentiles"].items()}
        meta = getattr(project, "meta", None) or {}
        imported = (meta.get("import_report") or {}).get("costs")
        if imported and imported.get("tasks"):
            cost["imported"] = dict(imported)
        if meta.get("cost_uncertainty"):
            applied = meta["cost_uncertainty"]
            cost["uncertainty"] = {k: applied[k] for k in ("rules", "tasks_per_rule",
                                                           "kept_explicit", "kept_complete")}
        doc["cost"] = cost
    if budget is not None:
        if result.cost is None:
            raise ValueError("a budget needs a project with costs")
        value = float(budget["value"])
        entry = {"value": value, "probability": result.cost.probability_le(value),
                 "probability_ci": list(result.cost.probability_ci(value))}
        if "given" in budget:
            entry["given"] = str(budget["given"])
        doc["budget"] = entry
        if target is not None:
            jcl = dict(doc["jcl"])
            jcl["target_and_budget"] = {
                "finish": doc["target"]["value"], "cost": value,
                "probability": result.jcl(doc["target"]["value"], value),
                "probability_ci": list(result.jcl_ci(doc["target"]["value"], value))}
            doc["jcl"] = jcl
    if "cashflow" in doc and start is not None:
        cash = dict(doc["cashflow"])
        cash["dates"] = finish_dates(project, cash["times"])
        doc["cashflow"] = cash
    if "correlations" in doc:
        # Achieved coefficients are NaN when too few iterations ran to measure them.
        doc["correlations"] = [dict(c, achieved=_finite_or_none(c["achieved"]))
                               for c in doc["correlations"]]
    if ranking is not None:
        shifts = {str(e.id): e for e in ranking.entries}
        order = {str(e.id): k for k, e in enumerate(ranking.entries)}
        risks = []
        for entry in doc.get("risks", []):
            ranked = shifts.get(entry["id"])
            if ranked is not None:
                shift = ranked.to_dict()
                entry = dict(entry, percentile_shift=shift["percentile_shift"],
                             mean_shift=shift["mean_shift"], rank=order[entry["id"]] + 1)
                for key in ("cost_percentile_shift", "cost_mean_shift"):
                    if key in shift:
                        entry[key] = shift[key]
            risks.append(entry)
        risks.sort(key=lambda e: e.get("rank", len(order) + 1))
        doc["risks"] = risks
        rank = ranking.to_dict()
        del rank["ranking"]
        doc["risk_ranking"] = rank
    return doc


def _date_or_none(project, t):
    """The finish date (ISO text) of time ``t``; None for None (an unbounded interval end)."""
    return None if t is None else finish_dates(project, [max(t, 0.0)])[0]


def _finite_or_none(rows):
    return [[float(x) if np.isfinite(x) else None for x in row] for row in rows]


def write_json(doc: dict, path) -> Path:
    """Write ``doc`` as indented UTF-8 JSON to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                       encoding="utf-8")
    return Path(path)


def write_results_json(result, path, *, scenario=None, target=None, budget=None,
                       ranking=None) -> Path:
    """Write :func:`results_dict` of ``result`` to ``path`` atomically; return the path."""
    return write_json(results_dict(result, scenario=scenario, target=target, budget=budget,
                                   ranking=ranking), path)


__all__ = ["atomic_path", "results_dict", "write_json", "write_results_json", "finish_dates",
           "run_warnings"]


def run_warnings(result, scenario=None) -> list[str]:
    """The warnings of a run for its JSON document and summary (``result.warnings``,
    worded for the command line when the run had a scenario file)."""
    from ..uncertainty import zero_variance_warning

    project = result.project
    if scenario is None:
        return list(result.warnings)
    text = zero_variance_warning(project, result.risk_mode, source=scenario, command="run")
    return [text] if text else []

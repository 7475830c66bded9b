"""The HTML report: one self-contained file a PMO can send.

Everything is inside the file: plots as base64 PNG ``data:`` URIs, CSS in a
``<style>`` element, no script, no font or image from elsewhere, so it reads the
same offline, from a mail attachment or a document store, and prints. Every text
that comes from the model (task, risk and project names, ids, file names) is
escaped. The numbers are those of the results JSON (:func:`pmosim.io.json_out.results_dict`)
for the same run, so the report and ``results.json`` never disagree.

Examples
--------
>>> import pmosim
>>> p = pmosim.Project("demo")
>>> p.add_task("a", pmosim.Triangular(2, 3, 8))
>>> h = model_hash(p)
>>> len(h), h == model_hash(p)
(64, True)
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import enum
import hashlib
import html
import io
import json
import platform
import re
import shlex
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import ModelError, PmosimError
from ..io.json_out import atomic_path, finish_dates, results_dict
from ..stats import CI_LEVEL, percentile_key

#: Finish percentiles in the report's P-value table.
TABLE_PERCENTILES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
#: Rows of the top-tasks table and of the sensitivity tornado.
TOP_TASKS = 20
#: Rows of the probabilistic Gantt chart.
GANTT_TASKS = 25
#: Resolution of the embedded plots: sharp on a laptop screen, ~100 kB per plot.
PNG_DPI = 110

#: ``Project.meta`` entries that describe where a model came from, not the model: the
#: same schedule read from another folder must hash the same; nor where its runs are
#: recorded (``history``).
_META_NOT_MODEL = frozenset({"source", "import_report", "tasks_csv", "history"})

_MODE_TEXT = {"pre": "before mitigation (pre)", "post": "after mitigation (post)",
              "none": "risk events switched off (none)"}


# -- the model's fingerprint -------------------------------------------------------------
def model_hash(project) -> str:
    """SHA-256 (hex) of a canonical serialisation of a model.

    Covers what the simulation reads: every task with all its attributes (durations,
    costs, calendars, constraints, progress, resource demands, ...) in node order,
    every link with its type, lag and calendar, the project's start, calendars, cost
    rate, risks, drivers, correlations, branches, resources and levelling settings,
    and the metadata an importer keeps (working calendars, data date, budget, ...),
    but not the file the model was read from. Dictionaries are taken in sorted key
    order, numbers as exact binary values (``3`` and ``3.0`` are the same), so the
    hash is the same in every process and on every machine, and changes when any
    number of the model changes.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    from ..model import as_project
    project = as_project(project)
    doc = {
        "name": project.name,
        "start": project.start,
        "calendar": project.calendar,
        "time_unit": project.time_unit,
        "cost_rate": project.cost_rate,
        "graph": dict(project.graph.graph),
        "tasks": [[task_id, data] for task_id, data in project.graph.nodes(data=True)],
        "links": [[u, v, data] for u, v, data in project.graph.edges(data=True)],
        "risks": project.risks,
        "drivers": project.drivers,
        "correlations": project.correlations,
        "branches": project.branches,
        "resources": project.resources,
        "levelling": project.levelling,
        "priority": project.priority,
        "meta": {k: v for k, v in project.meta.items() if k not in _META_NOT_MODEL},
    }
    text = json.dumps(_canonical(doc), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(x):
    """A JSON-ready structure that depends only on the value of ``x``."""
    if x is None or isinstance(x, (bool, np.bool_, str)):
        return bool(x) if isinstance(x, np.bool_) else x
    if isinstance(x, (int, np.integer)):
        x = int(x)
        # small integers as the float of the same value: `duration = 3` and `3.0` agree
        return float(x).hex() if abs(x) < 2 ** 53 else f"int:{x}"
    if isinstance(x, (float, np.floating)):
        return float(x).hex()
    if isinstance(x, (_dt.date, _dt.time, _dt.timedelta)):
        return {"~" + type(x).__name__: str(x) if isinstance(x, _dt.timedelta) else x.isoformat()}
    if isinstance(x, np.ndarray):
        return {"~ndarray": [str(x.dtype), list(x.shape), [_canonical(v) for v in x.ravel()]]}
    if isinstance(x, dict):
        pairs = [[_canonical(k), _canonical(v)] for k, v in x.items()]
        pairs.sort(key=lambda kv: json.dumps(kv[0], ensure_ascii=False))
        return {"~dict": pairs}
    if isinstance(x, (list, tuple)):
        return [_canonical(v) for v in x]
    if isinstance(x, (set, frozenset)):
        items = [_canonical(v) for v in x]
        return {"~set": sorted(items, key=lambda v: json.dumps(v, ensure_ascii=False))}
    if isinstance(x, enum.Enum):
        return {"~" + type(x).__qualname__: _canonical(x.value)}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        # the fields that make two values equal: caches (compare=False) stay out
        return {"~" + type(x).__qualname__: [[f.name, _canonical(getattr(x, f.name))]
                                             for f in dataclasses.fields(x) if f.compare]}
    if hasattr(x, "to_dict"):
        return {"~" + type(x).__qualname__: _canonical(x.to_dict())}
    # last resort: the repr, without the memory addresses some reprs carry
    return {"~" + type(x).__qualname__: re.sub(r" at 0x[0-9A-Fa-f]+", "", repr(x))}


# -- small formatters ----------------------------------------------------------------------
def _e(value) -> str:
    """Escaped text of anything (a task name may hold <, & or quotes)."""
    return html.escape(str(value), quote=True)


def _days(t) -> str:
    return f"{t:,.1f}"


def _money(value, currency) -> str:
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def _pct(p) -> str:
    return f"{100 * p:.1f}%" if p == p else "n/a"


def _num(value, text, cls="num") -> str:
    """A numeric cell: the text shown, the exact value in ``data-value`` for machines."""
    return f'<td class="{cls}" data-value="{float(value)!r}">{_e(text)}</td>'


def _cell(text, cls=None) -> str:
    return f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>"


def _table(head, rows, *, cls="") -> str:
    """``head``: list of (text, css class); ``rows``: lists of ready ``<td>`` strings."""
    ths = "".join(f'<th class="{c}">{_e(t)}</th>' if c else f"<th>{_e(t)}</th>"
                  for t, c in head)
    body = "\n".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{ths}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>")


def _png(ax) -> str:
    """A plot as a base64 PNG ``data:`` URI."""
    fig = ax.figure if not hasattr(ax, "savefig") else ax
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(ax, alt, caption=None) -> str:
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{_png(ax)}" alt="{_e(alt)}">{cap}</figure>'


def _spec(value, to_value, what) -> dict | None:
    """A target or budget as ``{"value", "given"}`` (what :func:`results_dict` takes)."""
    if value is None or isinstance(value, dict):
        return value
    given = str(value)
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("_", "")
        try:
            return {"value": float(cleaned), "given": given}
        except ValueError:
            pass
    try:
        return {"value": float(to_value(value)), "given": given}
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{what} {value!r}: {exc}") from None


# -- the report ----------------------------------------------------------------------------
def report_html(result, *, scenario=None, target=None, budget=None, ranking=None,
                title=None, status=None) -> str:
    """The report of ``result`` as one HTML document (text); see :func:`write_report`."""
    from .. import plots

    project = result.project
    target = _spec(target, result.finish.to_time, "target")
    if target is not None and float(target["value"]) < 0:
        raise ModelError(f"target {target.get('given', target['value'])}: before the project "
                         "start (working day 0); give a target on or after it")
    budget = _spec(budget, float, "budget")
    doc = results_dict(result, scenario=scenario, target=target, budget=budget,
                       ranking=ranking)
    name = getattr(project, "name", None) or "Project"
    title = title if title is not None else f"{name}: schedule risk report"
    currency = project.meta.get("currency")
    dated = getattr(project, "start", None) is not None
    kinds = result.tasks.kinds
    n_visible = sum(1 for k in kinds if k != "connector")
    sens = result.sensitivity
    target_value = doc["target"]["value"] if "target" in doc else None
    budget_value = doc["budget"]["value"] if "budget" in doc else None

    def when(t) -> str:
        return finish_dates(project, [max(float(t), 0.0)])[0] if dated else f"{_days(t)} working days"

    sections = []          # (id, heading, html)

    # -- key figures
    fin = doc["finish"]
    cards = [("P80 finish", when(fin["percentiles"]["P80"]),
              f"P50 {when(fin['percentiles']['P50'])}, P90 {when(fin['percentiles']['P90'])}"),
             ("Deterministic finish", when(fin["deterministic"]),
              f"{_pct(result.finish.probability_le(fin['deterministic']))} chance of "
              "finishing by it")]
    if "target" in doc:
        tgt = doc["target"]
        cards.append(("Chance of meeting the target", _pct(tgt["probability"]),
                      f"target {when(tgt['value'])} ({_days(tgt['value'])} working days)"
                      + _ci_note(tgt)))
    if "cost" in doc:
        cost = doc["cost"]
        cards.append(("P80 cost", _money(cost["percentiles"]["P80"], currency),
                      f"contingency over the plan {_money(cost['contingency']['P80'], currency)}"))
    if "budget" in doc:
        cards.append(("Chance of staying within budget", _pct(doc["budget"]["probability"]),
                      f"budget {_money(doc['budget']['value'], currency)}"
                      + _ci_note(doc["budget"])))
    joint = doc.get("jcl", {}).get("target_and_budget")
    if joint is not None:
        cards.append(("Joint confidence (JCL)", _pct(joint["probability"]),
                      "chance of meeting both the target and the budget" + _ci_note(joint)))
    card_html = "".join(f'<div class="card"><div class="l">{_e(l)}</div><div class="v">{_e(v)}'
                        f'</div><div class="n">{_e(n)}</div></div>' for l, v, n in cards)
    sections.append(("summary", "Key figures", f'<div class="cards">{card_html}</div>'))
    if status is not None:
        sections.append(("status", "Status update", _status_html(status, currency, dated)))

    # -- the finish: P-value table, S-curve, histogram
    has_cost = "cost" in doc
    head = [("Confidence", ""), ("Working days", "num")]
    if dated:
        head.append(("Finish date", "num"))
    has_ci = "percentile_ci" in fin
    if has_ci:
        head.append((f"{100 * fin.get('ci_level', 0.95):g}% confidence interval", "num"))
    if has_cost:
        head += [(f"Cost{f' ({currency})' if currency else ''}", "num"),
                 ("Contingency over the plan", "num")]
    kind = "CPM" if result.levelling is None else "levelled"
    rows = []

    def p_row(label, days, date, cost=None, contingency=None, cls="", key=None):
        cells = [_cell(label, cls or None), _num(days, _days(days))]
        if dated:
            cells.append(_cell(date, "num"))
        if has_ci:
            cells.append(_cell(_interval_text(fin, key, dated) if key else "", "num"))
        if has_cost:
            cells.append(_num(cost, _money(cost, None)) if cost is not None else _cell("", "num"))
            cells.append(_num(contingency, _money(contingency, None))
                         if contingency is not None else _cell("", "num"))
        return cells

    cost = doc.get("cost")
    rows.append(p_row(f"Deterministic ({kind})", fin["deterministic"],
                      fin.get("deterministic_date"), cost and cost["deterministic"], None))
    rows.append(p_row("Mean", fin["mean"], fin.get("mean_date"), cost and cost["mean"],
                      cost and cost["mean"] - cost["deterministic"]))
    for q in TABLE_PERCENTILES:
        key = percentile_key(q)
        rows.append(p_row(key, fin["percentiles"][key], fin.get("dates", {}).get(key),
                          cost and cost["percentiles"][key], cost and cost["contingency"][key],
                          key=key))
    table = _table(head, rows, cls="pvalues")
    note = ("<p class=\"note\">P80 is the finish met in 80% of iterations (working days from "
            "the start; a date is the working day the finish falls on)."
            + (" The confidence interval is where the true percentile lies given the "
               "sampling error of this run (order statistics, distribution-free): more "
               "iterations narrow it." if has_ci else "")
            + (" Cost columns give the cost percentile of the same confidence, on its own "
               "(see the joint confidence below for both together)." if has_cost else "")
            + f" Standard deviation of the finish: {_days(fin['std'])} working days.</p>")
    finish_html = table + note
    finish_html += _figure(plots.s_curve(result, target=target_value),
                           "S-curve: probability of finishing by each date")
    finish_html += _figure(plots.finish_histogram(result, target=target_value),
                           "Histogram of the simulated finish")
    sections.append(("finish", "Project finish", finish_html))

    # -- drivers: criticality, sensitivity, risks
    drivers = [_figure(plots.criticality_chart(result, top=15),
                       "The most critical tasks")]
    if sens is not None:
        drivers.append(_figure(plots.sensitivity_tornado(result, measure="cri_tau", top=15),
                               "Duration sensitivity tornado (cruciality)"))
        if sens.cost_cri_tau is not None:
            drivers.append(_figure(plots.sensitivity_tornado(result, measure="cost_cri_tau",
                                                             top=15),
                                   "Cost sensitivity tornado"))
        drivers.append(
            '<p class="note">Criticality (CI): share of iterations in which the task is on '
            "the critical path. Cruciality CRI(&tau;): |Kendall's &tau;-b| between the "
            "task's sampled duration and the project finish, which still ranks tasks that "
            "are always critical. SSI: criticality times the task's spread over the "
            "finish's. Rank measures use "
            f"{int(sens.sample_size):,} iterations; the dashed line is their noise level: "
            "a task below it is not told apart from one that does not drive the finish "
            "(95% for all tasks together).</p>")
    else:
        drivers.append('<p class="note">Sensitivity measures were not computed in this run '
                       "(simulate(..., sensitivity=True)).</p>")
    if result.paths:
        drivers.append(_paths_table(result, result.paths))
    if ranking is not None:
        drivers.append(_figure(plots.risk_tornado(ranking), "Risk tornado"))
    sections.append(("drivers", "What drives the finish", "\n".join(drivers)))

    if result.risks:
        sections.append(("risks", "Risk register", _risk_table(result, doc, ranking)))

    # -- key tasks
    shown = plots.key_tasks(result, GANTT_TASKS)
    gantt = _figure(plots.probabilistic_gantt(result, tasks=shown, dates=dated),
                    "Probabilistic Gantt chart of the key tasks",
                    f"The {len(shown)} most critical or crucial tasks of {n_visible:,} (up "
                    "to a fifth of them milestones), in planned start order: light bar from "
                    "the P10 start to the P90 finish, dark bar the deterministic plan, red "
                    "tick the P50 finish.")
    sections.append(("gantt", "Key tasks over time", gantt))
    sections.append(("tasks", "Top tasks", _top_tasks_table(result, kinds, dated)))

    # -- cost
    if has_cost:
        cost_html = _figure(plots.cost_histogram(result, budget=budget_value, currency=currency),
                            "Histogram of the simulated cost")
        cost_html += _figure(plots.jcl_scatter(result, target=target_value, budget=budget_value,
                                               p=0.7, currency=currency),
                             "Joint confidence of finish and cost")
        cost_html += _figure(plots.cashflow_fan(result, budget=budget_value, currency=currency),
                             "Cumulative spend over time")
        sections.append(("cost", "Cost", cost_html))

    # -- resources
    lev = result.levelling
    if lev is not None and lev.resources:
        sections.append(("resources", "Resources (levelled)", _figure(
            plots.resource_usage_fan(result), "Resource usage per period")
            + _resource_table(lev)))

    sections.append(("settings", "Run settings", _settings(result, doc, scenario, kinds)))
    sections.append(("audit", "Audit", _audit(result, scenario, target, budget)))

    nav = " &middot; ".join(f'<a href="#{sid}">{_e(head)}</a>' for sid, head, _ in sections)
    body = "\n".join(f'<section id="{sid}"><h2>{_e(head)}</h2>\n{content}\n</section>'
                     for sid, head, content in sections)
    sub = [f"{n_visible:,} tasks",
           f"{result.iterations:,} iterations", f"seed {result.seed}"]
    if scenario is not None:
        sub.insert(0, str(scenario))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="pmosim {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1>{_e(title)}</h1><p class="sub">{_e(" · ".join(sub))}</p>'
        f'<nav>{nav}</nav></header>\n{body}\n'
        f'<footer class="note">Made with pmosim {_e(__version__)}.</footer>\n</body>\n</html>\n')


def write_report(result, path, *, scenario=None, target=None, budget=None, ranking=None,
                 title=None, status=None) -> Path:
    """Write the HTML report of a simulation to ``path`` (atomically); return the path.

    One self-contained file: key figures, the P-value table of the finish (working
    days, dates and, with costs, cost and contingency) with the deterministic plan,
    S-curve and histogram, criticality and sensitivity charts, the risk register and
    tornado (with ``ranking``), a probabilistic Gantt chart and a table of the key
    tasks, cost, joint confidence and cash flow charts when the project has costs,
    resource usage when levelled, the run settings and an audit block (versions,
    seed, the model's SHA-256 from :func:`model_hash`). Import connectors never show.

    Parameters
    ----------
    result : pmosim.SimulationResult
    path : str or path-like
        The ``.html`` file to write (its folder is created).
    scenario : str, optional
        The scenario file, as shown in the report.
    target : number, date, ISO text or dict, optional
        A target finish: working days, a date (met by the end of that day), or
        ``{"value": working days, "given": text}`` as :func:`results_dict` takes it.
    budget : number, text or dict, optional
        A cost budget (the project must have costs).
    ranking : pmosim.results.RiskRanking, optional
        From :func:`pmosim.rank_risks`: adds the risk tornado and the shifts.
    title : str, optional
        Default: "<project name>: schedule risk report".
    status : dict, optional
        A forecast from a status update (``pmosim run/report --status-date``):
        ``{"evm": one period's row of pmosim.evm.EVMResult.rows(), "reforecast": the
        results JSON's reforecast entry}``; adds a "Status update" section (earned value
        and earned schedule, forecasts, and what a learning re-forecast learned).

    Returns
    -------
    pathlib.Path
    """
    text = report_html(result, scenario=scenario, target=target, budget=budget,
                       ranking=ranking, title=title, status=status)
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# -- parts ---------------------------------------------------------------------------------
def _status_html(status, currency, dated) -> str:
    """The "Status update" section: the period's earned value and earned schedule, the
    standard forecasts, and the learning re-forecast's factors."""
    row = status["evm"]
    ref = status.get("reforecast") or {}

    def index(x) -> str:
        return "-" if x is None else f"{x:.3f}"

    def money(x) -> str:
        return "-" if x is None else _money(x, currency)

    def days(x) -> str:
        return "-" if x is None else _days(x)

    head = (f"<p>This forecast starts from the status of {_e(row['status_date'])}"
            + (f" ({_e(row['name'])})" if row.get("name") not in (None, row["status_date"])
               else "")
            + (f": {_pct(row['complete'])} of the budget earned"
               if row.get("complete") is not None else "")
            + ". Finished tasks keep their actual dates and costs, tasks in progress their "
              "remaining work, and nothing starts before the status date.</p>")
    es = days(row["es"]) + (f" ({_e(row['es_date'])})" if dated and row.get("es_date") else "")
    rows = [("Planned value (PV)", money(row["pv"])), ("Earned value (EV)", money(row["ev"])),
            ("Actual cost (AC)", money(row["ac"])), ("Cost variance (CV)", money(row["cv"])),
            ("Cost performance index (CPI)", index(row["cpi"])),
            ("Schedule performance index (SPI)", index(row["spi"])),
            ("Earned schedule (ES), working days", es),
            ("SPI(t)", index(row["spi_t"])),
            ("EAC, PF = CPI", money((row.get("eac") or {}).get("CPI"))),
            ("IEAC(t), PF = SPI(t)",
             (row.get("ieac_t_dates") or {}).get("SPI(t)") if dated
             else days((row.get("ieac_t") or {}).get("SPI(t)")))]
    table = _table([("Measure", None), ("Value", "num")],
                   [[_cell(a), _cell(b or "-", "num")] for a, b in rows])
    learned = ref.get("learned")
    if ref.get("method") == "bayes" and learned:
        d = learned["duration"]
        seen = (learned.get("observed") or {}).get("duration") or {}
        text = (f"<p>Learning re-forecast: from {seen.get('complete', 0)} finished and "
                f"{seen.get('in_progress', 0)} in-progress tasks, the remaining durations are "
                f"scaled by a performance factor with median {d['median']:.3f} (80% interval "
                f"{d['P10']:.3f} to {d['P90']:.3f}), drawn in every iteration")
        c = learned.get("cost")
        if c:
            text += (f"; the remaining costs by one with median {c['median']:.3f} "
                     f"({c['P10']:.3f} to {c['P90']:.3f})")
        head += text + ".</p>"
    else:
        head += ("<p>Plain re-forecast: the remaining work keeps its planned distributions "
                 "(<code>--learn</code> learns from the actuals).</p>")
    return head + table


def _ci_note(entry) -> str:
    """``; 95% interval 36.0% to 47.5%`` of a probability with ``probability_ci``."""
    ci = entry.get("probability_ci")
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f"; {100 * CI_LEVEL:g}% interval {_pct(ci[0])} to {_pct(ci[1])}"


def _interval_text(fin, key, dated) -> str:
    """``2027-12-29 to 2028-01-07`` (one date when both ends fall on it; working days
    without a start date) of a finish percentile's confidence interval."""
    lo, hi = fin["percentile_ci"].get(key) or (None, None)
    if lo is None and hi is None:
        return "unbounded (too few iterations)"
    if dated and "dates_ci" in fin:
        first, last = fin["dates_ci"][key]
    else:
        first, last = (None if t is None else _days(t) for t in (lo, hi))
    # an end the order statistics cannot bound with this few iterations
    first, last = first or "unbounded", last or "unbounded"
    return first if first == last else f"{first} to {last}"


def _risk_table(result, doc, ranking) -> str:
    ranked = ranking is not None
    head = [("ID", ""), ("Name", ""), ("Kind", ""), ("Probability", "num"),
            ("Occurred", "num"), ("Mean impact", "num")]
    risks = doc.get("risks", [])
    costed = ranked and any("cost_percentile_shift" in r for r in risks)
    if ranked:
        key = percentile_key(ranking.percentile)
        head += [(f"{key} shift (days)", "num"), ("Mean shift (days)", "num")]
    if costed:
        head += [(f"{key} cost shift", "num"), ("Mean cost shift", "num")]
    rows = []
    for r in risks:
        impact = r["mean_impact"]
        unit = {"time": " d", "%": "%", "factor": ""}.get(r["unit"], "")
        text = ("-" if impact is None else
                f"x{impact:.3f}" if r["unit"] == "factor" else f"{impact:+.1f}{unit}")
        cells = [_cell(r["id"], "id"), _cell(r["name"], "name"), _cell(r["kind"]),
                 _num(r["probability"], _pct(r["probability"])),
                 _num(r["occurrence"], _pct(r["occurrence"])),
                 _num(impact, text) if impact is not None else _cell(text, "num")]
        if ranked:
            if "percentile_shift" in r:
                cells += [_num(r["percentile_shift"], f"{r['percentile_shift']:+.1f}"),
                          _num(r["mean_shift"], f"{r['mean_shift']:+.1f}")]
            else:
                cells += [_cell("", "num"), _cell("", "num")]
        if costed:
            if "cost_percentile_shift" in r:
                cells += [_num(r["cost_percentile_shift"], f"{r['cost_percentile_shift']:+,.0f}"),
                          _num(r["cost_mean_shift"], f"{r['cost_mean_shift']:+,.0f}")]
            else:
                cells += [_cell("", "num"), _cell("", "num")]
        rows.append(cells)
    mode = _MODE_TEXT.get(result.risk_mode, result.risk_mode)
    return (f'<p class="note">Register used: {_e(mode)}. Mean impact when it occurred: '
            "working days added to each mapped task, percent of their duration, or a "
            "driver's factor."
            + (" Shifts: how much the finish (and the cost) drops when that one alone is "
               "switched off, on the same random numbers." if ranked else "") + "</p>"
            + _table(head, rows))


#: Critical paths listed, and tasks shown of each.
PATHS_SHOWN = 5
PATH_TASKS_SHOWN = 30


def _paths_table(result, paths) -> str:
    """The most frequent distinct critical paths, connectors left out of the task lists."""
    kinds = dict(zip(result.task_ids, result.tasks.kinds))
    names = dict(zip(result.task_ids, result.tasks.names))
    rows = []
    for k, path in enumerate(paths[:PATHS_SHOWN], 1):
        tasks = [t for t in path.tasks if kinds.get(t) != "connector"]
        shown = " \u2192 ".join(str(names.get(t, t)) for t in tasks[:PATH_TASKS_SHOWN])
        if len(tasks) > PATH_TASKS_SHOWN:
            shown += f" \u2192 \u2026 ({len(tasks) - PATH_TASKS_SHOWN:,} more)"
        rows.append([_cell(k, "num"), _num(path.frequency, _pct(path.frequency)),
                     _cell(f"{len(tasks):,}", "num"), _cell(shown, "path")])
    return ("<h3>Most frequent critical paths</h3>"
            '<p class="note">The distinct sets of critical tasks and the share of iterations '
            "in which each was the critical path, in planned start order.</p>"
            + _table([("#", "num"), ("Share", "num"), ("Tasks", "num"), ("Path", "")], rows,
                     cls="paths"))


def _top_tasks(result, kinds, k) -> list[int]:
    """Positions of the ``k`` tasks ranked by cruciality CRI(tau), then criticality (by
    criticality alone without sensitivity measures); never connectors."""
    crit = np.asarray(result.tasks.criticality, dtype=float)
    sens = result.sensitivity
    if sens is not None:
        cri = np.nan_to_num(np.asarray(sens.cri_tau, dtype=float), nan=-1.0)
        order = np.lexsort((-crit, -cri))
    else:
        order = np.argsort(-crit, kind="stable")
    return [int(i) for i in order if kinds[i] != "connector"][:k]


def _top_tasks_table(result, kinds, dated) -> str:
    from ..plots import cruciality_noise_level
    rows_idx = _top_tasks(result, kinds, TOP_TASKS)
    noise = cruciality_noise_level(result, "cri_tau")
    st = result.tasks
    sens = result.sensitivity
    p50 = np.asarray(st.finish_percentile(50), dtype=float)
    p80 = np.asarray(st.finish_percentile(80), dtype=float)
    det = np.asarray(st.deterministic_finish, dtype=float)
    columns = [det, p50, p80]
    texts = ([st.deterministic_finish_dates(), st.finish_dates(50), st.finish_dates(80)]
             if dated else [[_days(t) for t in arr] for arr in columns])
    head = [("#", "num"), ("Task", ""), ("ID", ""), ("Criticality", "num")]
    if sens is not None:
        head += [("CRI(\u03c4)", "num"), ("SSI", "num")]
    head += [("Deterministic finish", "num"), ("P50 finish", "num"), ("P80 finish", "num")]
    rows = []
    for rank, i in enumerate(rows_idx, 1):
        label = st.names[i]
        if kinds[i] == "milestone":
            label = f"{label} \u25c6"
        cells = [_cell(rank, "num"), _cell(label, "name"), _cell(st.ids[i], "id"),
                 _num(st.criticality[i], _pct(st.criticality[i]))]
        if sens is not None:
            weak = noise is not None and not sens.cri_tau[i] > noise
            cells += [_num(sens.cri_tau[i], _pct(sens.cri_tau[i]), "num weak" if weak else "num"),
                      _num(sens.ssi[i], _pct(sens.ssi[i]))]
        cells += [_num(arr[i], str(text[i])) for arr, text in zip(columns, texts)]
        rows.append(cells)
    basis = ("cruciality CRI(\u03c4), then criticality" if sens is not None
             else "criticality")
    unit = "dates" if dated else "working days from the start"
    weak = ("" if noise is None else
            f" Grey CRI(\u03c4): at most {_pct(noise)}, the noise level of "
            f"{int(sens.sample_size):,} iterations over these tasks, so not told apart from "
            "a task that does not drive the finish; more iterations sharpen the ranking.")
    return (f'<p class="note">The {len(rows_idx)} tasks with the highest {_e(basis)} '
            f"(\u25c6: milestone); finishes as {unit}. Task percentiles come from a streaming "
            f"histogram per task (about a bin width, 1/254 of the task's range).{weak}</p>"
            + _table(head, rows, cls="tasks"))


def _resource_table(lev) -> str:
    head = [("Resource", ""), ("Capacity", "num"), ("Peak P90", "num"), ("Binding", "num")]
    rows = []
    for res in sorted(lev.resources, key=lambda r: -r.binding):
        peak = float(res.peak_percentile(90))
        cap = f"{res.capacity:g}" + (" (changes)" if res.changes else "")
        rows.append([_cell(res.name, "name"), _num(res.capacity, cap), _num(peak, f"{peak:.4g}"),
                     _num(res.binding, _pct(res.binding))])
    return (f'<p class="note">Levelled with the {_e(lev.scheme)} scheme, priority '
            f"{_e(lev.priority)}; levelling delayed the finish in {_pct(lev.delayed)} of "
            "iterations. Binding: share of iterations in which a task on the driving path "
            "waited for the resource.</p>" + _table(head, rows))


def _settings(result, doc, scenario, kinds) -> str:
    project = result.project
    graph = getattr(project, "graph", None)
    n_conn = sum(1 for k in kinds if k == "connector")
    n_ms = sum(1 for k in kinds if k == "milestone")
    n_tasks = len(kinds) - n_conn - n_ms
    tasks = (f"{n_tasks:,} task{'s' if n_tasks != 1 else ''}, {n_ms:,} "
             f"milestone{'s' if n_ms != 1 else ''}")
    if n_conn:
        tasks += f" ({n_conn:,} import connector{'s' if n_conn != 1 else ''}, not shown)"
    facts = [("Project", getattr(project, "name", None) or "")]
    if scenario is not None:
        facts.append(("Scenario", str(scenario)))
    facts.append(("Network", tasks + (f", {graph.number_of_edges():,} links"
                                      if graph is not None else "")))
    start = getattr(project, "start", None)
    if start is not None:
        cal = doc["project"]["calendar"]
        facts.append(("Start", start.isoformat()))
        facts.append(("Calendar", f"{', '.join(cal['workdays'])}; "
                                  f"{len(cal['holidays'])} holidays"))
    data_date = project.meta.get("data_date")
    if data_date is not None:
        facts.append(("Data date", str(data_date)))
    if project.meta.get("calendars"):
        from ..compile import uses_calendars
        n_cal = len(project.meta["calendars"])
        facts.append(("Working calendars",
                      f"{n_cal} (imported); " + (
                          "simulated on the wall clock, each task on its own calendar; times "
                          "are working days of the project calendar" if uses_calendars(project)
                          else "one calendar axis")))
    facts.append(("Iterations", f"{result.iterations:,}"))
    facts.append(("Seed", str(result.seed)))
    if result.risks or getattr(project, "risks", None) or getattr(project, "drivers", None):
        n_r = sum(1 for r in result.risks if r.kind == "risk")
        n_d = sum(1 for r in result.risks if r.kind == "driver")
        facts.append(("Risk register", f"{_MODE_TEXT.get(result.risk_mode, result.risk_mode)}; "
                                       f"{n_r} risk events, {n_d} drivers"))
    if result.correlations:
        facts.append(("Correlation groups", str(len(result.correlations))))
    applied = project.meta.get("uncertainty")
    if applied:
        facts.append(("Uncertainty template", "; ".join(
            f"{r} on {n:,} tasks" for r, n in zip(applied["rules"], applied["tasks_per_rule"]))))
    lev = result.levelling
    facts.append(("Resource levelling", "none" if lev is None else
                  f"{lev.scheme} scheme, priority {lev.priority}"))
    sens = result.sensitivity
    facts.append(("Sensitivity", "not computed" if sens is None else
                  f"CI, SI, SSI and cruciality; rank measures on {int(sens.sample_size):,} "
                  "iterations"))
    if "target" in doc:
        facts.append(("Target", f"{doc['target'].get('given', '')} "
                                f"({_days(doc['target']['value'])} working days)".strip()))
    if "budget" in doc:
        facts.append(("Budget", _money(doc["budget"]["value"], project.meta.get("currency"))))
    facts.append(("Percentiles", "the project's exact (linear interpolation between order "
                                 "statistics); per task from streaming histograms"))
    facts.append(("Reproducibility", "the same seed and iterations give the same results, "
                                     "bit for bit, on any thread count, backend or machine"))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    return f'<div class="scroll"><table class="facts">{rows}</table></div>'


def _versions() -> list[tuple[str, str]]:
    import numba
    import matplotlib
    return [("pmosim", __version__), ("Python", platform.python_version()),
            ("numpy", np.__version__), ("numba", numba.__version__),
            ("matplotlib", matplotlib.__version__)]


def _reproduce(result, scenario, target, budget) -> str | None:
    """The ``pmosim report`` command line that makes this report again."""
    if scenario is None:
        return None
    project = result.project
    args = ["pmosim", "report", str(scenario)]
    from ..io import READERS, detect_format
    try:
        detect_format(scenario)
    except PmosimError:
        # an extension that does not say the format: the run was given --format
        fmt = project.meta.get("format") or (project.meta.get("import_report") or {}).get(
            "format")
        fmt = {"scenario": "toml"}.get(fmt, fmt)
        if fmt in READERS:
            args += ["--format", fmt]
    applied = project.meta.get("uncertainty")
    for rule in (applied or {}).get("rules", []):
        args += ["--uncertainty", str(rule)]
    args += ["-n", str(result.iterations), "--seed", str(result.seed)]
    if result.risks and result.risk_mode != "pre":
        args += ["--risks", result.risk_mode]
    if result.levelling is not None:
        args += ["--levelling", result.levelling.scheme, "--priority", result.levelling.priority]
    elif getattr(project, "levelling", None):
        args += ["--levelling", "none"]
    if target is not None and "given" in target:
        args += ["--target", str(target["given"])]
    if budget is not None and "given" in budget:
        args += ["--budget", str(budget["given"])]
    args += ["-o", "report.html"]
    return " ".join(shlex.quote(a) for a in args)


def _audit(result, scenario, target, budget) -> str:
    items = [("Model SHA-256", model_hash(result.project))]
    items += [(f"{k} version", v) for k, v in _versions()]
    items += [("Seed", str(result.seed)), ("Iterations", f"{result.iterations:,}")]
    items.append(("Scenario", str(scenario) if scenario is not None else "(built in Python)"))
    command = _reproduce(result, scenario, target, budget)
    if command is not None:
        items.append(("Reproduce with", command))
    items.append(("Generated", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")))
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return (f'<dl class="audit">{rows}</dl><p class="note">The model hash covers every task, '
            "duration, link, risk, cost, calendar and resource of the model as simulated "
            "(after any uncertainty template), not the file name: the same hash, seed and "
            "iterations give the same numbers.</p>")


_CSS = """
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;
margin:0 auto;max-width:1120px;padding:24px;color:#222;line-height:1.45;background:#fff}
h1{font-size:1.7em;margin:0 0 .2em;overflow-wrap:anywhere}
h3{font-size:1.05em;margin:1.2em 0 .3em}
h2{font-size:1.3em;border-bottom:2px solid #4C72B0;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#555;margin:0 0 .6em;overflow-wrap:anywhere}
nav{font-size:.9em}nav a{color:#2b5797;text-decoration:none}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{flex:1 1 200px;border:1px solid #dde3ec;border-radius:6px;padding:10px 14px;
background:#f7f9fc}
.card .l{color:#555;font-size:.8em;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:1.45em;font-weight:600;margin:.1em 0}
.card .n{color:#555;font-size:.85em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:left;vertical-align:top}
thead th{background:#f0f3f8}
table.facts th{background:none;font-weight:600;white-space:nowrap}
table.facts td{overflow-wrap:anywhere}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{min-width:10em;max-width:30em;overflow-wrap:anywhere}
td.id{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em;white-space:nowrap}
td.weak{color:#999}
td.path{min-width:20em;overflow-wrap:anywhere}
figure{margin:1em 0}
figure img{max-width:100%;height:auto;display:block;border:1px solid #eee}
figcaption,.note{color:#555;font-size:.9em}
dl.audit{display:grid;grid-template-columns:max-content 1fr;gap:3px 16px}
dl.audit dt{font-weight:600}
dl.audit dd{margin:0;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em;
overflow-wrap:anywhere}
footer{margin-top:2em;border-top:1px solid #ddd;padding-top:.5em}
@media print{body{max-width:none;padding:0}nav{display:none}h2{break-after:avoid}
figure,tr,.card{break-inside:avoid}}
"""

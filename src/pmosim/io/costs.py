"""Costs of imported schedules as pmosim's task costs (``cost_fixed``, ``cost_rate``).

Scheduling tools keep, per task, what was spent (actual cost) and what is left to spend
(remaining cost), the latter from resource assignments (units x rate), expenses and
fixed costs. pmosim simulates the *remaining* work of a progressed schedule: a
completed task keeps its actual dates, an in-progress task samples its remaining
duration. Costs follow the same rule:

- the **actual cost** is spent: a fixed part of the task's cost, never scaled;
- the **remaining cost** is the uncertain part. Where it scales with the task's
  duration in the tool (labour and equipment at a fixed rate per time: P6's duration
  types with fixed units/time, MS Project's fixed-units and fixed-duration tasks), it
  becomes ``cost_rate`` = remaining cost / remaining working days, so a longer
  iteration costs more; the rest (materials, expenses, fixed costs, per-use costs,
  fixed-units assignments) joins the actual cost in ``cost_fixed``;
- a completed task, or one without remaining duration, has all of its cost in
  ``cost_fixed``.

So the planned cost of the imported project (planned durations, each cost's value)
is the tool's cost *at completion*, actual plus remaining, to rounding, and the
``--cost-uncertainty`` ranges (:func:`pmosim.uncertainty.apply_cost_uncertainty`)
apply to the remaining cost only: the node attribute ``actual_cost`` is the part of
``cost_fixed`` already spent.

:func:`set_task_cost` applies the rule to one task; :func:`cost_summary` is the
``costs`` section of the import report.
"""

from __future__ import annotations

import math

__all__ = ["set_task_cost", "cost_summary"]

#: Amounts below this (in currency units) are rounding noise of the tool, not costs.
_NOISE = 1e-9


def set_task_cost(graph, task, *, actual: float, remaining_fixed: float,
                  remaining_time: float, warnings: list) -> float:
    """Set ``cost_fixed``, ``cost_rate`` and ``actual_cost`` of ``task`` (see module doc).

    Parameters
    ----------
    graph : networkx.DiGraph
        The project graph; the task's ``duration`` is its remaining duration (a
        :class:`~pmosim.distributions.Fixed`) and ``status`` its progress.
    task
        The task id.
    actual : float
        Cost spent up to the data date.
    remaining_fixed : float
        Remaining cost that does not depend on the duration.
    remaining_time : float
        Remaining cost proportional to the remaining duration.
    warnings : list of str
        A task whose costs add up to less than 0 gets 0, with a warning here.

    Returns
    -------
    float
        The task's cost at completion as set (``cost_fixed + cost_rate * duration``).
    """
    data = graph.nodes[task]
    days = float(getattr(data["duration"], "value", data["duration"]))
    timed = (remaining_time if remaining_time > 0 and days > 0
             and data.get("status") != "complete" else 0.0)
    fixed = actual + remaining_fixed + (remaining_time - timed)
    if fixed < 0:
        if fixed < -0.005:
            warnings.append(f"task {task}: costs add up to {fixed:,.2f} (actual {actual:,.2f}, "
                            f"remaining {remaining_fixed + remaining_time:,.2f}); read as 0")
        fixed = 0.0
    for key in ("cost_fixed", "cost_rate"):
        data.pop(key, None)
    if abs(fixed) > _NOISE:
        data["cost_fixed"] = fixed
    if timed > _NOISE:
        data["cost_rate"] = timed / days
    # the spent part of cost_fixed, which cost uncertainty leaves alone
    data["actual_cost"] = min(max(actual, 0.0), data.get("cost_fixed", 0.0))
    return data.get("cost_fixed", 0.0) + data.get("cost_rate", 0.0) * days


def cost_summary(graph, *, actual: float, budgeted: float | None = None,
                 currency: str | None = None, **counts) -> dict:
    """The ``costs`` section of an import report, from the tasks' ``cost_fixed``/``cost_rate``.

    ``at_completion`` is the planned cost of the imported tasks (what pmosim's plan
    costs before any uncertainty), ``actual`` the cost spent as the file gives it and
    ``remaining`` the rest,
    ``time_dependent`` the part that scales with the sampled durations (``cost_rate``
    times the remaining duration) and ``budgeted`` the tool's budget at completion
    where the file has one (P6's target cost). Amounts are rounded to cents; ``counts``
    (assignments, expenses, ...) are added as given.
    """
    total = timed = 0.0
    tasks = 0
    for _, d in graph.nodes(data=True):
        fixed, rate = d.get("cost_fixed"), d.get("cost_rate")
        if fixed is None and rate is None:
            continue
        tasks += 1
        days = float(getattr(d["duration"], "value", d["duration"]))
        part = float(rate or 0.0) * days
        timed += part
        total += float(fixed or 0.0) + part
    out = {
        "tasks": tasks,
        "at_completion": _cents(total),
        "actual": _cents(actual),
        "remaining": _cents(total - actual),
        "time_dependent": _cents(timed),
        "time_independent": _cents(total - timed),
        "budgeted": None if budgeted is None else _cents(budgeted),
        "currency": currency,
    }
    out.update(counts)
    return out


def _cents(x: float) -> float:
    x = round(float(x), 2)
    return 0.0 if x == 0 or not math.isfinite(x) else x

"""Plots of simulation results (matplotlib).

Every function takes ``ax=None`` and returns the Axes it drew on; with no ``ax``
it makes a new :class:`matplotlib.figure.Figure` (no pyplot, so no GUI backend
and no global state: this works headless and inside other applications).
:func:`save_png` writes a figure atomically. Nothing here calls ``plt.show()``.

Examples
--------
>>> import pmosim
>>> from pmosim import plots
>>> p = pmosim.Project("demo", start="2027-03-01")
>>> p.add_task("a", pmosim.Triangular(2, 3, 8))
>>> p.add_task("b", pmosim.Uniform(1, 4))
>>> p.add_link("a", "b")
>>> result = pmosim.simulate(p, 2000, seed=1)
>>> ax = plots.finish_histogram(result)
>>> ax.get_xlabel()
'Project finish date (finish at end of day)'

With costs and a risk register:

>>> q = pmosim.Project("costed")
>>> q.add_task("a", pmosim.Triangular(2, 3, 8), cost_rate=100.0)
>>> q.add_risk("R1", 0.3, ["a"], schedule_impact=2, cost_impact=50.0)
>>> r = pmosim.simulate(q, 2000, seed=1)
>>> plots.jcl_scatter(r, target=5, budget=600, currency="EUR").get_ylabel()
'Project cost (EUR)'
>>> plots.risk_tornado(pmosim.rank_risks(q, 2000, seed=1)).get_xlabel()
'Finish gained by switching the risk off (working days)'
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .calendar import WorkCalendar
from .stats import percentile_key
from .io.json_out import atomic_path

_BAR = "#4C72B0"
_CURVE = "#C44E52"
_MARKS = (("P50", 50, "#2F7F3F", "--"), ("P80", 80, "#DD8452", "--"))
_DETERMINISTIC = "#333333"
_BUDGET = "#8172B3"
_TARGET = "#2F7F3F"
_TARGET_LINE = "#8172B3"


def _new_axes(figsize):
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def finish_histogram(result, ax=None, *, bins: int | None = None, title: str | None = None,
                     target: float | None = None):
    """Histogram of the project finish with its cumulative S-curve on a second axis.

    The P50 and P80 finishes and the deterministic (CPM) finish are marked with
    vertical lines. With a project start date the x axis shows finish dates (the
    working day a finish at that time is shown on) and a top axis working days;
    without one it shows working days.

    Parameters
    ----------
    result : pmosim.SimulationResult
    ax : matplotlib.axes.Axes, optional
    bins : int, optional
        Number of histogram bins (default: about one per working day, 10 to 60).
    title : str, optional
        Default: the project name.
    target : float, optional
        A target finish (working days) to mark, with the chance of meeting it.

    Returns
    -------
    matplotlib.axes.Axes
        The histogram's axes; the S-curve's twin is ``ax.right_ax``.
    """
    ax = ax if ax is not None else _new_axes((9, 5.2))
    samples = np.asarray(result.finish.samples, dtype=float)
    deterministic = float(result.finish.deterministic)
    lo, hi = float(samples.min()), float(samples.max())
    if bins is None:
        bins = int(np.clip(np.ceil(hi - lo), 10, 60))
    if hi - lo < 1e-9:
        edges = np.linspace(lo - 0.5, hi + 0.5, 2)
    else:
        edges = np.linspace(lo, hi, bins + 1)
    weights = np.full(samples.shape, 100.0 / samples.size)
    ax.hist(samples, bins=edges, weights=weights, color=_BAR, alpha=0.75,
            edgecolor="white", linewidth=0.5, label="Simulated finish")
    ax.set_ylabel("Share of iterations per bin (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0 if samples.size else 1))

    right = ax.twinx()
    xs = np.sort(samples)
    cdf = np.arange(1, xs.size + 1) / xs.size * 100.0
    right.step(xs, cdf, where="post", color=_CURVE, linewidth=2, label="Cumulative (S-curve)")
    right.set_ylim(0, 101)
    right.set_ylabel("Probability of finishing by then (%)", color=_CURVE)
    right.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    right.tick_params(axis="y", colors=_CURVE)
    ax.right_ax = right

    project = result.project

    def label_of(t):
        return _time_text(project, t)

    for key, q, color, style in _MARKS:
        t = float(result.finish.percentile(q))
        ax.axvline(t, color=color, linestyle=style, linewidth=1.6, label=f"{key}: {label_of(t)}")
    ax.axvline(deterministic, color=_DETERMINISTIC, linestyle=":", linewidth=2,
               label=f"Deterministic (CPM): {label_of(deterministic)}")

    marks = [deterministic]
    if target is not None:
        ax.axvline(target, color=_TARGET_LINE, linewidth=2,
                   label=f"Target: {label_of(target)} "
                         f"({100 * result.finish.probability_le(target):.0f}% chance)")
        marks.append(float(target))
    left_x = min(lo, *marks)
    right_x = max(hi, *marks)
    pad = max(0.02 * (right_x - left_x), 0.5)
    ax.set_xlim(left_x - pad, right_x + pad)
    _time_axis(ax, project, "Project finish")

    handles, labels = ax.get_legend_handles_labels()
    rh, rl = right.get_legend_handles_labels()
    # Finish distributions are right-skewed: right of centre, below the S-curve's top,
    # is where the plot is emptiest.
    ax.legend(handles + rh, labels + rl, loc="center right", fontsize="small", framealpha=0.9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.grid(axis="y", alpha=0.3)
    name = getattr(project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: finish over {result.iterations:,} iterations")
    return ax


def _time_axis(ax, project, what: str, axis: str = "x", date_label: str | None = None) -> None:
    """Label a time axis: dates (finish rule) with working days on the opposite side
    when the project has a start date, else working days."""
    start = getattr(project, "start", None)
    target = ax.xaxis if axis == "x" else ax.yaxis
    set_label = ax.set_xlabel if axis == "x" else ax.set_ylabel
    if start is None:
        set_label(f"{what} (working days from the start)")
        return
    calendar = getattr(project, "calendar", None) or WorkCalendar()
    target.set_major_locator(MaxNLocator(nbins=7, integer=True))
    target.set_major_formatter(FuncFormatter(
        lambda t, _: str(calendar.finish_dates(start, max(t, 0.0)))))
    if axis == "x":
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    set_label(date_label or f"{what} date (finish at end of day)")
    other = ax.secondary_xaxis("top") if axis == "x" else ax.secondary_yaxis("right")
    (other.set_xlabel if axis == "x" else other.set_ylabel)(
        "Working days from the start " + start.isoformat())


def _money(value: float) -> str:
    """Compact money text: 950, 12.5k, 1.25M, 3.1B."""
    a = abs(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            text = f"{value / size:.3g}"
            return text + suffix
    return f"{value:.4g}"


def _money_label(what: str, currency) -> str:
    return f"{what} ({currency})" if currency else what


def _time_text(project, t: float) -> str:
    start = getattr(project, "start", None)
    if start is None:
        return f"{t:.1f} working days"
    calendar = getattr(project, "calendar", None) or WorkCalendar()
    return str(calendar.finish_dates(start, max(t, 0.0)))


def criticality_chart(result, ax=None, *, top: int = 15, title: str | None = None):
    """Horizontal bars of the ``top`` most critical tasks (share of iterations critical).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ranked = result.most_critical(top)
    n = max(len(ranked), 1)
    ax = ax if ax is not None else _new_axes((9, 1.2 + 0.38 * n))
    names = dict(zip(result.tasks.ids, result.tasks.names))
    labels = []
    for task_id, _ in ranked:
        name, tid = str(names.get(task_id, task_id)), str(task_id)
        if len(name) > 40:
            name = name[:39] + "\u2026"
        labels.append(name if name == tid else f"{name} ({tid})")
    values = [100.0 * c for _, c in ranked]
    ypos = np.arange(len(ranked))
    ax.barh(ypos, values, color=_BAR, height=0.7)
    ax.set_yticks(ypos, labels)
    ax.invert_yaxis()
    for y, v in zip(ypos, values):
        inside = v > 85
        ax.text(v - 1.5 if inside else v + 1.5, y, f"{v:.1f}%", va="center",
                ha="right" if inside else "left", fontsize="small",
                color="white" if inside else "black")
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("Criticality: share of iterations in which the task is on the critical path")
    ax.grid(axis="x", alpha=0.3)
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: {len(ranked)} most critical "
                 f"of {len(result.task_ids)} tasks")
    return ax


def save_png(fig_or_ax, path, *, dpi: int = 120):
    """Save a Figure (or the Figure of an Axes) as PNG, atomically; return the path."""
    fig = fig_or_ax.get_figure() if hasattr(fig_or_ax, "get_figure") and not isinstance(
        fig_or_ax, Figure) else fig_or_ax
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def _need_cost(result):
    if result.cost is None:
        raise ValueError("this result has no costs: set cost_fixed / cost_rate on tasks, a "
                         "risk cost_impact or the project cost_rate")


def cost_histogram(result, ax=None, *, budget: float | None = None, currency: str | None = None,
                   bins: int = 40, title: str | None = None):
    """Histogram of the project cost with its cumulative S-curve on a second axis.

    The P50 and P80 costs, the planned (deterministic) cost and, when given, the
    ``budget`` are marked with vertical lines.

    Returns
    -------
    matplotlib.axes.Axes
        The histogram's axes; the S-curve's twin is ``ax.right_ax``.
    """
    _need_cost(result)
    ax = ax if ax is not None else _new_axes((9, 5.2))
    samples = np.asarray(result.cost.samples, dtype=float)
    planned = float(result.cost.deterministic)
    lo, hi = float(samples.min()), float(samples.max())
    edges = (np.linspace(lo, hi, bins + 1) if hi - lo > 1e-9 * max(1.0, abs(hi))
             else np.array([lo - 0.5, hi + 0.5]))
    ax.hist(samples, bins=edges, weights=np.full(samples.shape, 100.0 / samples.size),
            color=_BAR, alpha=0.75, edgecolor="white", linewidth=0.5, label="Simulated cost")
    ax.set_ylabel("Share of iterations per bin (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    right = ax.twinx()
    xs = np.sort(samples)
    right.step(xs, np.arange(1, xs.size + 1) / xs.size * 100.0, where="post", color=_CURVE,
               linewidth=2, label="Cumulative (S-curve)")
    right.set_ylim(0, 101)
    right.set_ylabel("Probability of costing at most that (%)", color=_CURVE)
    right.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    right.tick_params(axis="y", colors=_CURVE)
    ax.right_ax = right
    unit = f" {currency}" if currency else ""
    for key, q, color, style in _MARKS:
        c = float(result.cost.percentile(q))
        ax.axvline(c, color=color, linestyle=style, linewidth=1.6, label=f"{key}: {_money(c)}{unit}")
    ax.axvline(planned, color=_DETERMINISTIC, linestyle=":", linewidth=2,
               label=f"Planned (deterministic): {_money(planned)}{unit}")
    marks = [lo, hi, planned]
    if budget is not None:
        p = result.cost.probability_le(budget)
        ax.axvline(budget, color=_BUDGET, linewidth=2,
                   label=f"Budget {_money(budget)}{unit}: {100 * p:.0f}% chance to stay within")
        marks.append(float(budget))
    pad = 0.02 * (max(marks) - min(marks)) or 1.0
    ax.set_xlim(min(marks) - pad, max(marks) + pad)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _money(x)))
    ax.set_xlabel(_money_label("Project cost", currency))
    handles, labels = ax.get_legend_handles_labels()
    rh, rl = right.get_legend_handles_labels()
    ax.legend(handles + rh, labels + rl, loc="center right", fontsize="small", framealpha=0.9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.grid(axis="y", alpha=0.3)
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: cost over {result.iterations:,} iterations")
    return ax


def jcl_scatter(result, ax=None, *, target: float | None = None, budget: float | None = None,
                p: float = 0.7, max_points: int = 5000, currency: str | None = None,
                title: str | None = None):
    """Joint confidence level chart: finish against cost, one point per iteration.

    Runs with more than ``max_points`` iterations show a fixed subsample (the
    same points every time). Marks the deterministic plan, the ``target`` finish
    and ``budget`` when given (with the share of iterations meeting both), and the
    frontier of (finish, cost) pairs met together with probability ``p``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need_cost(result)
    ax = ax if ax is not None else _new_axes((12, 6))
    f = np.asarray(result.finish.samples, dtype=float)
    c = np.asarray(result.cost.samples, dtype=float)
    n = f.size
    if n > max_points:
        # A fixed generator: the picture of a seeded run is reproducible too.
        keep = np.sort(np.random.default_rng(0).choice(n, max_points, replace=False))
        fs, cs = f[keep], c[keep]
        shown = f"{max_points:,} of {n:,} iterations"
    else:
        fs, cs = f, c
        shown = f"{n:,} iterations"
    unit = f" {currency}" if currency else ""
    if target is not None and budget is not None:
        ok = (fs <= target) & (cs <= budget)
        joint = result.jcl(target, budget)
        ax.scatter(fs[~ok], cs[~ok], s=6, color="#8C8C8C", alpha=0.45, linewidths=0,
                   label="Iteration (misses target or budget)")
        ax.scatter(fs[ok], cs[ok], s=6, color=_BAR, alpha=0.55, linewidths=0,
                   label=f"Iteration meeting both: JCL {100 * joint:.1f}%")
    else:
        ax.scatter(fs, cs, s=6, color=_BAR, alpha=0.45, linewidths=0, label="Iteration")
    frontier = result.jcl_frontier(p, 100)
    if frontier.size:
        xs = np.append(frontier[:, 0], frontier[-1, 0])
        ys = np.append(frontier[:, 1], frontier[-1, 1])
        ax.step(xs, ys, where="post", color=_CURVE, linewidth=2.2,
                label=f"{100 * p:.0f}% JCL frontier (finish and cost met together)")
    det_f, det_c = float(result.finish.deterministic), float(result.cost.deterministic)
    ax.plot([det_f], [det_c], marker="*", markersize=15, color=_DETERMINISTIC, linestyle="none",
            label=f"Deterministic plan: {_time_text(result.project, det_f)}, "
                  f"{_money(det_c)}{unit}")
    if target is not None:
        ax.axvline(target, color=_TARGET, linestyle="--", linewidth=1.6,
                   label=f"Target finish: {_time_text(result.project, target)} "
                         f"({100 * result.finish.probability_le(target):.0f}%)")
    if budget is not None:
        ax.axhline(budget, color=_BUDGET, linestyle="--", linewidth=1.6,
                   label=f"Budget: {_money(budget)}{unit} "
                         f"({100 * result.cost.probability_le(budget):.0f}%)")
    xs_all = np.concatenate([fs, [det_f] + ([target] if target is not None else [])])
    ys_all = np.concatenate([cs, [det_c] + ([budget] if budget is not None else [])])
    xpad = 0.03 * (xs_all.max() - xs_all.min()) or 1.0
    ypad = 0.03 * (ys_all.max() - ys_all.min()) or 1.0
    ax.set_xlim(xs_all.min() - xpad, xs_all.max() + xpad)
    ax.set_ylim(ys_all.min() - ypad, ys_all.max() + 3 * ypad)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _money(y)))
    ax.set_ylabel(_money_label("Project cost", currency))
    _time_axis(ax, result.project, "Project finish")
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small",
                       borderaxespad=0)
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([30])
            handle.set_alpha(1)
    ax.grid(alpha=0.3)
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: finish and cost ({shown})")
    return ax


def cashflow_fan(result, ax=None, *, budget: float | None = None, currency: str | None = None,
                 title: str | None = None):
    """Fan chart of cumulative spend over time: the P10-P90 band and the P50 curve.

    Each task's cost accrues linearly over its duration (see :class:`~pmosim.results.CashFlow`).
    With a project start date the time axis shows dates.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _need_cost(result)
    ax = ax if ax is not None else _new_axes((9, 5.2))
    times = np.asarray(result.cashflow.times, dtype=float)
    curves = result.cashflow.percentile([10, 50, 90])
    ax.fill_between(times, curves[:, 0], curves[:, 2], color=_BAR, alpha=0.25, linewidth=0,
                    label="P10 to P90 of cumulative spend")
    ax.plot(times, curves[:, 2], color=_BAR, linewidth=1, linestyle="--", label="P90")
    ax.plot(times, curves[:, 1], color=_BAR, linewidth=2.2, label="P50 (median)")
    ax.plot(times, curves[:, 0], color=_BAR, linewidth=1, linestyle=":", label="P10")
    unit = f" {currency}" if currency else ""
    top = float(np.max(curves))
    if budget is not None:
        ax.axhline(budget, color=_BUDGET, linestyle="--", linewidth=1.6,
                   label=f"Budget: {_money(budget)}{unit}")
        top = max(top, float(budget))
    ax.set_xlim(times[0], times[-1])
    ax.set_ylim(0, 1.08 * top if top > 0 else 1.0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _money(y)))
    ax.set_ylabel(_money_label("Cumulative spend", currency))
    _time_axis(ax, result.project, "Time", date_label="Date (spend by the end of the day)")
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.grid(alpha=0.3)
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: cumulative spend over {result.iterations:,} iterations")
    return ax


def resource_usage_fan(result, ax=None, *, top: int = 6, title: str | None = None):
    """Resource usage of a levelled run: for each resource (most often binding first, at
    most ``top``), the P10-P90 band and the P50 of its average usage per period, with
    its capacity as a step line.

    With ``ax`` given, draws the first resource into it; otherwise a figure with one
    panel per resource. Returns the first Axes (``ax.figure`` holds them all).
    """
    lev = getattr(result, "levelling", None)
    if lev is None or not lev.resources:
        raise ValueError("resource_usage_fan needs a levelled run with resources: "
                         "simulate(..., levelling='serial') on a project with resources")
    order = sorted(lev.resources, key=lambda r: -r.binding)[:top if ax is None else 1]
    if ax is None:
        fig = Figure(figsize=(9, 2.3 + 2.2 * len(order)), layout="constrained")
        axes = list(np.atleast_1d(fig.subplots(len(order), 1, sharex=True)))
    else:
        axes = [ax]
    horizon = float(np.max(result.finish.samples)) if result.finish.samples.size else 1.0
    for a, res in zip(axes, order):
        times = np.append(res.times, res.times[-1] + res.period)
        bands = res.usage_percentile([10, 50, 90])
        step = dict(step="post")
        a.fill_between(times, np.append(bands[:, 0], bands[-1, 0]),
                       np.append(bands[:, 2], bands[-1, 2]), color=_BAR, alpha=0.25,
                       linewidth=0, label="P10 to P90 of usage", **step)
        a.step(times, np.append(bands[:, 1], bands[-1, 1]), where="post", color=_BAR,
               linewidth=2, label="P50 (median)")
        a.step(times, res.capacity_at(times), where="post", color=_CURVE, linewidth=1.6,
               linestyle="--", label="Capacity")
        a.set_xlim(0, min(times[-1], 1.02 * horizon) if horizon > 0 else times[-1])
        cap_top = float(np.max(res.capacity_at(times)))
        a.set_ylim(0, 1.12 * max(cap_top, res.peak_max, 1e-9))
        a.set_ylabel(f"{res.name}\n(units in use)")
        a.set_title(f"{res.name}: binding in {100 * res.binding:.1f}% of iterations",
                    fontsize="medium", loc="left")
        a.grid(alpha=0.3)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    _time_axis(axes[-1], result.project, "Time", date_label="Date")
    if ax is None:
        name = getattr(result.project, "name", None)
        axes[0].figure.suptitle(
            title if title is not None else
            f"{name or 'Project'}: resource usage per period over {result.iterations:,} "
            f"levelled iterations ({lev.priority} priority)")
    return axes[0]


def risk_tornado(ranking, ax=None, *, top: int = 15, unit: str = "working days",
                 title: str | None = None):
    """Tornado chart of :func:`pmosim.rank_risks`: for each risk event and driver, how
    much the finish percentile and the mean finish drop when it alone is switched off.

    Largest percentile shift at the top; negative shifts (opportunities) go left.

    Returns
    -------
    matplotlib.axes.Axes
    """
    entries = list(ranking.entries)[:top]
    n = max(len(entries), 1)
    ax = ax if ax is not None else _new_axes((10.5, 2.2 + 0.55 * n))
    key = percentile_key(ranking.percentile)
    labels = []
    for e in entries:
        name, rid = str(e.name), str(e.id)
        if len(name) > 40:
            name = name[:39] + "\u2026"
        kind = " [driver]" if e.kind == "driver" else ""
        labels.append((name if name == rid else f"{name} ({rid})") + kind)
    ypos = np.arange(len(entries))
    pct = np.array([e.percentile_shift for e in entries], dtype=float)
    mean = np.array([e.mean_shift for e in entries], dtype=float)
    h = 0.38
    ax.barh(ypos - h / 2, pct, height=h, color=_CURVE, label=f"{key} finish shift")
    ax.barh(ypos + h / 2, mean, height=h, color=_BAR, alpha=0.8, label="Mean finish shift")
    span = max(float(np.max(np.abs(np.concatenate([pct, mean, [0.0]])))), 1e-9)
    for y, v in zip(ypos - h / 2, pct):
        ax.text(v + (0.01 if v >= 0 else -0.01) * span, y, f"{v:+.1f}", va="center",
                ha="left" if v >= 0 else "right", fontsize="small")
    for y, v in zip(ypos + h / 2, mean):
        ax.text(v + (0.01 if v >= 0 else -0.01) * span, y, f"{v:+.1f}", va="center",
                ha="left" if v >= 0 else "right", fontsize="small")
    ax.set_yticks(ypos, labels)
    ax.invert_yaxis()
    ax.axvline(0, color=_DETERMINISTIC, linewidth=0.8)
    lo = min(0.0, float(np.min(np.concatenate([pct, mean, [0.0]]))))
    hi = max(0.0, float(np.max(np.concatenate([pct, mean, [0.0]]))))
    pad = 0.12 * (hi - lo) or 1.0
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + pad)
    ax.set_xlabel(f"Finish gained by switching the risk off ({unit})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title if title is not None else
                 f"Risk tornado: {key} finish {ranking.baseline_percentile:,.1f}, mean "
                 f"{ranking.baseline_mean:,.1f} {unit} with all risks on")
    return ax


__all__ = ["finish_histogram", "criticality_chart", "cost_histogram", "jcl_scatter",
           "cashflow_fan", "risk_tornado", "save_png"]

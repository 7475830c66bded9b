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
from .stats import correlation_noise_level, percentile_key
from .io.json_out import atomic_path

_BAR = "#4C72B0"
_CURVE = "#C44E52"
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

    The P10, P50, P80 and P90 finishes are dots on the S-curve with dashed lines
    down to the axis (at their own heights, so none hides another), listed with
    their dates in the legend; the deterministic (CPM) finish is a vertical line.
    With a project start date the x axis shows finish dates (the
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
        The histogram's axes; the S-curve's twin is ``ax.right_ax``, the P-value keys
        beside its dots are ``ax.p_labels``.
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
    xs, cdf = _ecdf_points(samples)
    right.step(xs, cdf, where="post", color=_CURVE, linewidth=2, label="Cumulative (S-curve)")
    right.set_ylim(0, 101)
    right.set_ylabel("Probability of finishing by then (%)", color=_CURVE)
    right.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    right.tick_params(axis="y", colors=_CURVE)
    ax.right_ax = right

    project = result.project

    def label_of(t):
        return _time_text(project, t)

    marks_handles = _mark_percentiles(ax, right, result.finish, label_of)
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

    handles = ax.get_legend_handles_labels()[0]
    curve = [h for h in right.get_legend_handles_labels()[0] if h not in marks_handles]
    # Finish distributions are right-skewed: right of centre, below the S-curve's top,
    # is where the plot is emptiest. The legend is also the table of the P-values.
    handles = handles[:1] + marks_handles + handles[1:] + curve
    ax.legend(handles, [h.get_label() for h in handles], loc="center right",
              fontsize="small", framealpha=0.9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.grid(axis="y", alpha=0.3)
    name = getattr(project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: finish over {result.iterations:,} iterations")
    _fit_labels(ax, right)
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
    # min_n_ticks=1: on a span of a day or two MaxNLocator otherwise gives up whole
    # days and ticks at fractions, which all print as the same date
    target.set_major_locator(MaxNLocator(nbins=7, integer=True, min_n_ticks=1))
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

    Import connectors (zero-duration tasks standing for a WBS summary's links) are
    left out, also from the task count in the title. Labels are ``name (id)`` with
    long names shortened (:func:`task_label`); a long title or axis label is wrapped
    so that it stays inside the figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ranked = result.most_critical(top)
    n, n_tasks = max(len(ranked), 1), len(result.task_ids)
    ax = ax if ax is not None else _new_axes((9, 1.2 + 0.38 * n))
    names = dict(zip(result.tasks.ids, result.tasks.names))
    labels = [task_label(names.get(task_id, task_id), task_id) for task_id, _ in ranked]
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
                 f"of {sum(k != 'connector' for k in result.tasks.kinds or ()) or n_tasks:,} "
                 "tasks")
    _fit_labels(ax)
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

    The P10, P50, P80 and P90 costs are marked on the S-curve as in
    :func:`finish_histogram`; the planned (deterministic) cost and, when given, the
    ``budget`` are vertical lines.

    Returns
    -------
    matplotlib.axes.Axes
        The histogram's axes; the S-curve's twin is ``ax.right_ax``, the P-value keys
        beside its dots are ``ax.p_labels``.
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
    xs, cdf = _ecdf_points(samples)
    right.step(xs, cdf, where="post", color=_CURVE, linewidth=2, label="Cumulative (S-curve)")
    right.set_ylim(0, 101)
    right.set_ylabel("Probability of costing at most that (%)", color=_CURVE)
    right.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    right.tick_params(axis="y", colors=_CURVE)
    ax.right_ax = right
    unit = f" {currency}" if currency else ""
    marks_handles = _mark_percentiles(ax, right, result.cost, lambda c: f"{_money(c)}{unit}")
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
    handles = ax.get_legend_handles_labels()[0]
    curve = [h for h in right.get_legend_handles_labels()[0] if h not in marks_handles]
    handles = handles[:1] + marks_handles + handles[1:] + curve
    ax.legend(handles, [h.get_label() for h in handles], loc="center right",
              fontsize="small", framealpha=0.9)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.grid(axis="y", alpha=0.3)
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: cost over {result.iterations:,} iterations")
    _fit_labels(ax, right)
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
    _fit_labels(ax)
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
    _fit_labels(ax)
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
                 title: str | None = None, what: str = "auto", currency: str | None = None):
    """Tornado chart of :func:`pmosim.rank_risks`: for each risk event and driver, how
    much the finish (and the cost) percentile and mean drop when it alone is switched off.

    Negative shifts (opportunities) go left. With costs the figure has a second panel
    for the cost, rows aligned with the finish panel: the rows are the ``top`` risks
    by their better rank of the two, in the order of the finish ranking.

    Parameters
    ----------
    ranking : pmosim.results.RiskRanking
    ax : matplotlib.axes.Axes, optional
        Draw one panel into it (``what`` then picks which; "auto" is the finish).
    top : int
        Most rows shown.
    what : {"auto", "finish", "cost", "both"}
        "auto": both panels when the ranking has costs and no ``ax`` is given, else
        the finish; "cost" ranks and draws the cost alone; "both" needs costs and no
        ``ax``.
    currency : str, optional
        Shown in the cost panel's axis label.

    Returns
    -------
    matplotlib.axes.Axes
        The finish panel (the cost panel alone for ``what="cost"``); with both, the
        cost panel is ``ax.cost_ax``.
    """
    if what not in ("auto", "finish", "cost", "both"):
        raise ValueError(f"what must be 'auto', 'finish', 'cost' or 'both', got {what!r}")
    if what == "both" and ax is not None:
        raise ValueError("what='both' draws two panels into a figure of its own: leave ax "
                         "out, or draw what='finish' and what='cost' into two axes")
    has_cost = getattr(ranking, "has_cost", False)
    if what in ("cost", "both") and not has_cost:
        raise ValueError(f"what={what!r} needs a ranking with costs (rank_risks on a project "
                         "with costs: cost_fixed / cost_rate on tasks or a risk cost_impact)")
    if what == "auto":
        what = "both" if has_cost and ax is None else "finish"
    entries = list(ranking.entries)
    if what == "cost":
        entries.sort(key=lambda e: (-e.cost_percentile_shift, -e.cost_mean_shift))
        entries = entries[:top]
    elif what == "both":
        by_cost = sorted(range(len(entries)), key=lambda k: (-entries[k].cost_percentile_shift,
                                                             -entries[k].cost_mean_shift))
        cost_rank = {k: r for r, k in enumerate(by_cost)}
        keep = sorted(range(len(entries)), key=lambda k: (min(k, cost_rank[k]), k))[:top]
        entries = [entries[k] for k in sorted(keep)]
    else:
        entries = entries[:top]
    n = max(len(entries), 1)
    key = percentile_key(ranking.percentile)
    labels = [task_label(e.name, e.id) + (" [driver]" if e.kind == "driver" else "")
              for e in entries]
    money = f" ({currency})" if currency else ""
    finish_panel = dict(
        pct=[e.percentile_shift for e in entries], mean=[e.mean_shift for e in entries],
        fmt=lambda v: f"{v:+.1f}", names=(f"{key} finish shift", "Mean finish shift"),
        xlabel=f"Finish gained by switching the risk off ({unit})")
    cost_panel = None
    if what in ("cost", "both"):
        cost_panel = dict(
            pct=[e.cost_percentile_shift for e in entries],
            mean=[e.cost_mean_shift for e in entries],
            fmt=lambda v: ("+" if v >= 0 else "") + _money(v),
            ticks=FuncFormatter(lambda x, _: _money(x)),
            names=(f"{key} cost shift", "Mean cost shift"),
            xlabel=f"Cost saved by switching the risk off{money}")
    baseline = (f"{key} finish {ranking.baseline_percentile:,.1f}, mean "
                f"{ranking.baseline_mean:,.1f} {unit}")
    if has_cost:
        baseline_cost = (f"{key} cost {_money(ranking.baseline_cost_percentile)}, mean "
                         f"{_money(ranking.baseline_cost_mean)}{money}")
    if what == "both":
        fig = Figure(figsize=(15, 2.4 + 0.55 * n), layout="constrained")
        ax, cost_ax = fig.subplots(1, 2, sharey=True)
        _tornado_panel(ax, finish_panel, labels)
        _tornado_panel(cost_ax, cost_panel, labels)
        cost_ax.tick_params(axis="y", labelleft=False)
        ax.set_title("Finish", loc="left", fontsize="medium")
        cost_ax.set_title("Cost", loc="left", fontsize="medium")
        # the colours mean the same in both panels: one legend under them
        fig.legend(ax.get_legend_handles_labels()[0], [f"{key} shift", "Mean shift"],
                   loc="outside lower center", ncols=2, fontsize="small", frameon=False)
        sup = fig.suptitle(title if title is not None else
                           f"Risk tornado with all risks on: {baseline}; {baseline_cost}")
        ax.cost_ax = cost_ax
        _fit_labels(ax, cost_ax, extra=(sup,))
        return ax
    ax = ax if ax is not None else _new_axes((10.5, 2.2 + 0.55 * n))
    panel = cost_panel if what == "cost" else finish_panel
    _tornado_panel(ax, panel, labels)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", borderaxespad=0)
    ax.set_title(title if title is not None else
                 f"Risk tornado: {baseline_cost if what == 'cost' else baseline} "
                 "with all risks on")
    _fit_labels(ax)
    return ax


def _tornado_panel(ax, panel, labels) -> None:
    """Paired bars (percentile shift, mean shift) of one tornado panel."""
    ypos = np.arange(len(labels))
    pct = np.array(panel["pct"], dtype=float)
    mean = np.array(panel["mean"], dtype=float)
    h = 0.38
    ax.barh(ypos - h / 2, pct, height=h, color=_CURVE, label=panel["names"][0])
    ax.barh(ypos + h / 2, mean, height=h, color=_BAR, alpha=0.8, label=panel["names"][1])
    values = np.concatenate([pct, mean, [0.0]])
    span = max(float(np.max(np.abs(values))), 1e-9)
    for y, v in [*zip(ypos - h / 2, pct), *zip(ypos + h / 2, mean)]:
        ax.text(v + (0.01 if v >= 0 else -0.01) * span, y, panel["fmt"](v), va="center",
                ha="left" if v >= 0 else "right", fontsize="small")
    ax.set_yticks(ypos, labels)
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.axvline(0, color=_DETERMINISTIC, linewidth=0.8)
    lo, hi = min(0.0, float(np.min(values))), max(0.0, float(np.max(values)))
    pad = 0.14 * (hi - lo) or 1.0
    ax.set_xlim(lo - (pad if lo < 0 else 0), hi + pad)
    ax.set_xlabel(panel["xlabel"])
    if "ticks" in panel:
        ax.xaxis.set_major_formatter(panel["ticks"])
    ax.grid(axis="x", alpha=0.3)


__all__ = ["finish_histogram", "criticality_chart", "cost_histogram", "jcl_scatter",
           "cashflow_fan", "risk_tornado", "save_png"]


# -- S-curve, sensitivity tornado, probabilistic Gantt (issue 16) ------------------------
_LABEL_CHARS = 44
_SENSITIVITY_MEASURES = {
    "ci": "Criticality index CI: share of iterations on the critical path",
    "si": "Significance index SI",
    "ssi": "Schedule sensitivity index SSI = CI x sd(task) / sd(finish)",
    "cri_r": "Cruciality CRI(r): |Pearson| of task duration and project finish",
    "cri_rho": "Cruciality CRI(\u03c1): |Spearman| of task duration and project finish",
    "cri_tau": "Cruciality CRI(\u03c4): |Kendall \u03c4-b| of task duration and project finish",
    "cost_cri_r": "Cost cruciality: |Pearson| of task cost and project cost",
    "cost_cri_rho": "Cost cruciality: |Spearman| of task cost and project cost",
    "cost_cri_tau": "Cost cruciality: |Kendall \u03c4-b| of task cost and project cost",
}


def task_label(name, task_id, width: int = _LABEL_CHARS) -> str:
    """``"name (id)"`` for a chart: the name shortened to ``width`` characters with an
    ellipsis, the id always whole (it is what finds the task in the schedule)."""
    name, tid = str(name), str(task_id)
    if name == tid:
        return tid
    if len(name) > width:
        name = name[:width - 1].rstrip() + "\u2026"
    return f"{name} ({tid})"


def s_curve(result, ax=None, *, target: float | None = None, title: str | None = None,
            marks=(10, 50, 80, 90)):
    """Cumulative probability of the project finish (the S-curve) with its P-values.

    Each percentile in ``marks`` gets a dot and a label giving its date (working days
    without a start date), left of the curve below P50 and right of it from P50 on, so
    that neighbouring labels do not cover each other.
    The deterministic (CPM) finish and ``target`` (working days) are vertical lines
    with the probability of finishing by them.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = ax if ax is not None else _new_axes((9, 5.2))
    project = result.project
    xs = np.sort(np.asarray(result.finish.samples, dtype=float))
    cdf = np.arange(1, xs.size + 1) / xs.size * 100.0
    ax.step(xs, cdf, where="post", color=_CURVE, linewidth=2.2,
            label="Probability of finishing by then")
    lo, hi = float(xs[0]), float(xs[-1])
    deterministic = float(result.finish.deterministic)
    p_det = 100 * result.finish.probability_le(deterministic)
    kind = "CPM" if getattr(result, "levelling", None) is None else "levelled"
    ax.axvline(deterministic, color=_DETERMINISTIC, linestyle=":", linewidth=2,
               label=f"Deterministic ({kind}): {_time_text(project, deterministic)} "
                     f"({p_det:.0f}% chance)")
    edges = [lo, hi, deterministic]
    if target is not None:
        target = float(target)
        p_tgt = 100 * result.finish.probability_le(target)
        ax.axvline(target, color=_TARGET_LINE, linewidth=2,
                   label=f"Target: {_time_text(project, target)} ({p_tgt:.0f}% chance)")
        edges.append(target)
    left, right = min(edges), max(edges)
    pad = max(0.03 * (right - left), 0.5)
    ax.set_xlim(left - pad, right + pad)
    for k, q in enumerate(marks):
        t = float(result.finish.percentile(q))
        ax.plot([left - pad, t], [q, q], color="#999999", linewidth=0.8, linestyle="--")
        ax.plot([t], [q], marker="o", color=_CURVE, markersize=6, zorder=3)
        # left of the curve for the lower half, right for the upper: the curve rises
        # steeply in the middle, so neighbouring labels never sit on top of each other
        ax.annotate(f"P{q:g}: {_time_text(project, t)}", (t, q),
                    xytext=(-8, 4) if q < 50 else (8, -4), textcoords="offset points",
                    ha="right" if q < 50 else "left", va="bottom" if q < 50 else "top",
                    fontsize="small",
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
    _s_curve_axes(ax, project)
    name = getattr(project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: S-curve of the finish over {result.iterations:,} "
                 "iterations")
    return ax


def sensitivity_tornado(result, ax=None, *, measure: str = "cri_tau", top: int = 15,
                        title: str | None = None, noise: bool = True):
    """Horizontal bars of a sensitivity measure of the tasks, highest at the top.

    Parameters
    ----------
    result : pmosim.SimulationResult
        From a run with sensitivity on (``result.sensitivity`` is not None).
    measure : str
        ``"cri_tau"`` (default: cruciality, Kendall's tau-b of the task's duration with
        the project finish), ``"cri_rho"``, ``"cri_r"``, ``"ssi"``, ``"si"``, ``"ci"``,
        or for costs ``"cost_cri_tau"``, ``"cost_cri_rho"``, ``"cost_cri_r"``.
    top : int
        Number of tasks shown. Import connectors are never shown; tasks whose measure
        is undefined (NaN: no spread, or SI in a levelled run) are left out.
    noise : bool
        For the cruciality measures, mark the noise level (:func:`cruciality_noise_level`):
        tasks below it cannot be told apart from tasks that do not drive the finish.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if measure not in _SENSITIVITY_MEASURES:
        raise ValueError(f"measure {measure!r} is not a sensitivity measure; use one of "
                         + ", ".join(_SENSITIVITY_MEASURES))
    sens = result.sensitivity
    if sens is None:
        raise ValueError("this result has no sensitivity measures: simulate(..., "
                         "sensitivity=True)")
    if measure.startswith("cost_") and getattr(sens, measure) is None:
        raise ValueError(f"measure {measure!r} needs a project with costs")
    ranked = [(t, float(v)) for t, v in sens.top(measure, k=len(sens.ids), connectors=False)
              if np.isfinite(v)][:top]
    n = max(len(ranked), 1)
    ax = ax if ax is not None else _new_axes((10, 1.6 + 0.36 * n))
    names = dict(zip(sens.ids, sens.names))
    labels = [task_label(names.get(t, t), t) for t, _ in ranked]
    values = np.array([100.0 * v for _, v in ranked], dtype=float)
    ypos = np.arange(len(ranked))
    color = _CURVE if measure.startswith("cost_") else _BAR
    ax.barh(ypos, values, color=color, height=0.7)
    ax.set_yticks(ypos, labels)
    ax.invert_yaxis()
    right = max(100.0, float(values.max()) * 1.08 if values.size else 100.0)
    for y, v in zip(ypos, values):
        inside = v > 0.85 * right
        ax.text(v - 0.015 * right if inside else v + 0.015 * right, y, f"{v:.1f}%",
                va="center", ha="right" if inside else "left", fontsize="small",
                color="white" if inside else "black")
    level = cruciality_noise_level(result, measure) if noise else None
    if level is not None and ranked:
        ax.axvline(100.0 * level, color=_DETERMINISTIC, linestyle="--", linewidth=1.2,
                   label=f"Noise level {100 * level:.1f}%: below it a task is not told apart "
                         "from one that does not drive the result")
        ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    ax.set_xlim(0, right)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel(_SENSITIVITY_MEASURES[measure])
    ax.grid(axis="x", alpha=0.3)
    if not ranked:
        ax.text(0.5, 0.5, "no task with a defined value", transform=ax.transAxes,
                ha="center", va="center")
        ax.set_yticks([])
    base = measure.removeprefix("cost_")
    key = {"cri_r": "CRI(r)", "cri_rho": "CRI(\u03c1)", "cri_tau": "CRI(\u03c4)"}.get(
        base, base.upper())
    if measure.startswith("cost_"):
        key = "cost " + key
    name = getattr(result.project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: {len(ranked)} tasks with the highest {key}")
    return ax


def cruciality_noise_level(result, measure: str = "cri_tau", alpha: float = 0.05):
    """The value of a cruciality measure (``cri_r``, ``cri_rho``, ``cri_tau`` or their
    ``cost_`` forms) that every task which does not drive the result would stay below
    with probability ``1 - alpha``, on this run's sample size and number of tasks
    (:func:`pmosim.stats.correlation_noise_level`); None for the other measures.
    """
    base = measure.removeprefix("cost_")
    method = {"cri_r": "pearson", "cri_rho": "spearman", "cri_tau": "kendall"}.get(base)
    sens = result.sensitivity
    if method is None or sens is None or getattr(sens, measure) is None:
        return None
    n = result.iterations if base == "cri_r" else int(sens.sample_size)
    values = np.asarray(getattr(sens, measure), dtype=float)
    # tasks whose duration (cost) never varies are exactly 0 and cannot be noise
    m = sum(1 for v, k in zip(values, result.tasks.kinds)
            if k != "connector" and np.isfinite(v) and v > 0)
    return correlation_noise_level(method, n, max(m, 1), alpha)


def key_tasks(result, top: int = 25) -> list:
    """The tasks a probabilistic Gantt shows: the ``top`` most critical or crucial ones
    (score: the larger of criticality and CRI(tau), a CRI(tau) under the noise level
    counting as 0), of which up to a fifth are milestones (the most critical, then the
    latest), never import connectors; returned in deterministic start order (then
    deterministic finish, then node order).
    """
    tasks = result.tasks
    kinds = result.tasks.kinds
    score = np.asarray(tasks.criticality, dtype=float).copy()
    sens = result.sensitivity
    if sens is not None:
        cri = np.nan_to_num(np.asarray(sens.cri_tau, dtype=float), nan=0.0)
        # below the noise level a cruciality does not single a task out
        cri[cri <= cruciality_noise_level(result, "cri_tau")] = 0.0
        score = np.maximum(score, cri)
    finish80 = np.asarray(tasks.finish_percentile(80), dtype=float)
    order = np.lexsort((-finish80, -score))          # score first, then the later finish
    milestones = [i for i in order if kinds[i] == "milestone"]
    others = [i for i in order if kinds[i] not in ("milestone", "connector")]
    n_ms = min(len(milestones), max(1, top // 5)) if top > 1 else 0
    n_other = min(len(others), top - n_ms)
    n_ms = min(len(milestones), top - n_other)
    chosen = np.array(others[:n_other] + milestones[:n_ms], dtype=np.int64)
    start = np.asarray(tasks.deterministic_start, dtype=float)[chosen]
    finish = np.asarray(tasks.deterministic_finish, dtype=float)[chosen]
    chosen = chosen[np.lexsort((chosen, finish, start))]
    return [result.task_ids[i] for i in chosen]


def probabilistic_gantt(result, ax=None, *, top: int = 25, tasks=None, title: str | None = None,
                        dates: bool = True):
    """Probabilistic Gantt chart of the key tasks.

    Each task is a light bar from its P10 start to its P90 finish (where it may be
    under way), a thinner dark bar for its deterministic (CPM) start to finish, and a
    tick at its P50 finish. Milestones are diamonds at their P50 date with P10-P90
    whiskers and a hollow diamond at the deterministic date. Rows run in deterministic
    start order, top to bottom.

    Parameters
    ----------
    top : int
        How many tasks :func:`key_tasks` picks when ``tasks`` is not given.
    tasks : list, optional
        The task ids to show instead (in that order's deterministic start order).
    dates : bool
        Dates on the time axis when the project has a start date (default); working
        days otherwise.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ids = list(result.task_ids)
    if tasks is None:
        shown = key_tasks(result, top)
    else:
        position = {t: i for i, t in enumerate(ids)}
        unknown = [t for t in tasks if t not in position]
        if unknown:
            raise ValueError(f"tasks {unknown!r} are not in this result")
        det = np.asarray(result.tasks.deterministic_start, dtype=float)
        shown = sorted(tasks, key=lambda t: (det[position[t]], position[t]))
    index = {t: i for i, t in enumerate(ids)}
    rows = np.array([index[t] for t in shown], dtype=np.int64)
    n = max(len(rows), 1)
    own_figure = ax is None
    ax = ax if ax is not None else _new_axes((12, 2.2 + 0.34 * n))
    st = result.tasks
    start_q = np.asarray(st.start_percentile([10, 50, 90]), dtype=float).reshape(-1, 3)[rows]
    finish_q = np.asarray(st.finish_percentile([10, 50, 90]), dtype=float).reshape(-1, 3)[rows]
    det_s = np.asarray(st.deterministic_start, dtype=float)[rows]
    det_f = np.asarray(st.deterministic_finish, dtype=float)[rows]
    kinds = result.tasks.kinds
    names = dict(zip(st.ids, st.names))
    ypos = np.arange(len(rows))
    drawn_ms = drawn_task = False
    for y, i, sq, fq, ds, df in zip(ypos, rows, start_q, finish_q, det_s, det_f):
        if kinds[i] == "milestone":
            ax.plot([fq[0], fq[2]], [y, y], color=_BAR, linewidth=1.4, zorder=2)
            for end in (fq[0], fq[2]):
                ax.plot([end, end], [y - 0.18, y + 0.18], color=_BAR, linewidth=1.4, zorder=2)
            ax.plot([fq[1]], [y], marker="D", markersize=8, color=_BAR, zorder=3,
                    label=None if drawn_ms else "Milestone: P50, whiskers P10 to P90")
            ax.plot([df], [y], marker="D", markersize=8, markerfacecolor="none",
                    markeredgecolor=_DETERMINISTIC, zorder=4,
                    label=None if drawn_ms else "Milestone: deterministic date")
            drawn_ms = True
            continue
        ax.barh(y, fq[2] - sq[0], left=sq[0], height=0.62, color=_BAR, alpha=0.3,
                label=None if drawn_task else "P10 start to P90 finish")
        ax.barh(y, max(df - ds, 0.0), left=ds, height=0.2, color=_DETERMINISTIC,
                label=None if drawn_task else "Deterministic (CPM) start to finish")
        ax.plot([fq[1], fq[1]], [y - 0.31, y + 0.31], color=_CURVE, linewidth=2.2,
                label=None if drawn_task else "P50 finish")
        drawn_task = True
    ax.set_yticks(ypos, [task_label(names.get(ids[i], ids[i]), ids[i]) for i in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    if rows.size:
        lo = float(min(start_q[:, 0].min(), det_s.min(), finish_q[:, 0].min()))
        hi = float(max(finish_q[:, 2].max(), det_f.max()))
        pad = max(0.02 * (hi - lo), 0.5)
        ax.set_xlim(lo - pad, hi + pad)
    project = result.project
    if dates:
        _time_axis(ax, project, "Time", date_label="Date")
    else:
        ax.set_xlabel("Working days from the start")
    ax.grid(axis="x", alpha=0.3)
    if (drawn_ms or drawn_task) and own_figure:
        # below the whole figure: long task labels push the axes right, and a legend
        # centred under the axes then ran off the figure's edge
        ax.figure.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    elif drawn_ms or drawn_task:
        ax.legend(loc="best", fontsize="small", framealpha=0.9)
    name = getattr(project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: probabilistic Gantt of {len(rows)} key tasks "
                 f"({result.iterations:,} iterations)")
    return ax


__all__ += ["s_curve", "sensitivity_tornado", "probabilistic_gantt", "key_tasks",
            "cruciality_noise_level", "task_label"]


# -- P-value marks and labels that fit the figure (issue 16) ----------------------------
#: The P-values marked on S-curves, with their colours.
_P_MARKS = ((10, "#4A9BB8"), (50, "#2F7F3F"), (80, "#DD8452"), (90, "#8C4A2F"))
#: Room kept between a wrapped title or axis label and the figure's edge (pixels).
_EDGE_PX = 4.0


#: Most points of a drawn S-curve: a step of 1/4,000 is far below a pixel, and a curve of
#: a million points took a second to draw.
_ECDF_POINTS = 4000


def _ecdf_points(samples, max_points: int = _ECDF_POINTS):
    """Points ``(x, percent)`` of the empirical CDF for a ``where="post"`` step plot:
    every sample up to ``max_points``, else that many evenly spaced order statistics,
    the smallest and the largest among them."""
    xs = np.sort(np.asarray(samples, dtype=float))
    n = xs.size
    cdf = np.arange(1, n + 1) / max(n, 1) * 100.0
    if n <= max_points:
        return xs, cdf
    keep = np.unique(np.linspace(0, n - 1, max_points).astype(np.int64))
    return xs[keep], cdf[keep]


def _mark_percentiles(ax, right, stat, text_of) -> list:
    """Mark P10/P50/P80/P90 of ``stat`` on the S-curve drawn on the twin axes ``right``
    (0 to 100 %): a dot on the curve, a dashed line down to the axis in the same colour,
    and the key ("P80") beside the dot. Return legend handles ``"P80: <text_of(value)>"``.

    The dots sit at their own heights, so no mark hides another even when the values
    coincide (a narrow distribution); the keys are then pushed apart by
    :func:`_separate_labels`.
    """
    handles, keys = [], []
    for q, color in _P_MARKS:
        t = float(stat.percentile(q))
        key = percentile_key(q)
        line = right.vlines(t, 0, q, colors=color, linestyles="--", linewidth=1.6,
                            label=f"{key}: {text_of(t)}", zorder=3)
        right.plot([t], [q], marker="o", markersize=6, color=color, zorder=4,
                   markeredgecolor="white", markeredgewidth=0.8)
        keys.append(right.annotate(
            key, (t, q), xytext=(-7, 0), textcoords="offset points", ha="right",
            va="center", fontsize="small", fontweight="bold", color=color, zorder=5,
            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85)))
        handles.append(line)
    ax.p_labels = keys
    return handles


def _separate_labels(labels, gap_px: float = 1.0) -> None:
    """Move offset-point annotations so that no two boxes overlap.

    A key that would leave its axes on the left goes to the right of its point;
    then, lowest first, each key that overlaps one already placed moves up just
    clear of it.
    """
    if not labels:
        return
    to_pt = 72.0 / labels[0].get_figure(root=True).dpi
    for label in labels:
        if label.get_window_extent().x0 < label.axes.bbox.x0:
            label.set_ha("left")
            label.xyann = (abs(label.xyann[0]), label.xyann[1])
    placed = []
    for label in sorted(labels, key=lambda a: a.get_window_extent().y0):
        box = label.get_window_extent()
        for _ in range(len(placed) + 1):
            hit = next((o for o in placed if box.x1 > o.x0 and box.x0 < o.x1
                        and box.y1 > o.y0 and box.y0 < o.y1 + gap_px), None)
            if hit is None:
                break
            lift = hit.y1 + gap_px - box.y0
            label.xyann = (label.xyann[0], label.xyann[1] + lift * to_pt)
            box = label.get_window_extent()
        placed.append(box)


def _wrapped(text: str, chars: int) -> str:
    """``text`` wrapped at spaces to lines of at most ``chars`` characters (its own
    line breaks kept)."""
    import textwrap
    return "\n".join(textwrap.fill(line, max(chars, 8)) or line for line in text.split("\n"))


def _fit_labels(ax, *others, extra=()) -> None:
    """Wrap titles and axis labels that would run past the figure's edge.

    Layout engines (constrained and tight layout) leave the length of titles and axis
    labels out on purpose, so a title centred over an axes that long tick labels push
    to the right (long task names) ran off the figure. Wraps the title, x label and y
    label of ``ax`` and of ``others`` (more panels, twin axes) and the horizontal
    texts in ``extra`` (a suptitle), then moves the P-value keys in ``ax.p_labels``
    apart (:func:`_separate_labels`).
    """
    fig = ax.get_figure(root=True)
    texts = [(a.title, False) for a in (ax, *others)]
    texts += [(a.xaxis.label, False) for a in (ax, *others)]
    texts += [(a.yaxis.label, True) for a in (ax, *others)]
    texts += [(t, False) for t in extra]
    texts = [(t, vertical, t.get_text()) for t, vertical in texts
             if t.get_visible() and t.get_text()]
    for _ in range(4):
        fig.draw_without_rendering()        # runs the layout engine, places every text
        edge = fig.bbox
        changed = False
        for text, vertical, original in texts:
            box = text.get_window_extent()
            lo, hi = (box.y0, box.y1) if vertical else (box.x0, box.x1)
            first, last = (edge.y0, edge.y1) if vertical else (edge.x0, edge.x1)
            centre = (lo + hi) / 2
            room = 2 * min(centre - first, last - centre) - 2 * _EDGE_PX
            if hi - lo > room > 0:
                # always from the original text: rewrapping a wrapped one left stubs
                chars = max(len(line) for line in text.get_text().split("\n"))
                text.set_text(_wrapped(original, int(chars * room / (hi - lo))))
                changed = True
        if not changed:
            break
    _separate_labels(getattr(ax, "p_labels", []))


# -- compared runs (issue 16) ------------------------------------------------------------
#: Line colours of overlaid S-curves, in the order of the runs.
_RUN_COLOURS = ("#C44E52", "#4C72B0", "#2F7F3F", "#8172B3", "#DD8452", "#937860")
#: Points per curve: ECDFs of more iterations are drawn through this many order statistics.
_CURVE_POINTS = 2001


def s_curves(results, labels, ax=None, *, target: float | None = None,
             title: str | None = None):
    """Overlaid S-curves (cumulative probability of the finish) of several runs, such as
    the risk registers of :func:`pmosim.compare` (before and after mitigation).

    Each curve is marked at its P80 (a dot, the value in the legend); the 80 % level
    is a thin horizontal line, so the horizontal gap between the curves there is the
    P80 difference. With a project start date the x axis shows finish dates (the
    working day a finish falls on) and a top axis working days.

    Parameters
    ----------
    results : sequence of pmosim.SimulationResult
        Runs of the same project (the first one's project labels the axis).
    labels : sequence of str
        One legend label per run.
    ax : matplotlib.axes.Axes, optional
    target : float, optional
        A target finish (working days) to mark, with each run's chance of meeting it.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pmosim
    >>> from pmosim import plots
    >>> p = pmosim.Project("demo")
    >>> p.add_task("a", pmosim.Triangular(8, 10, 14))
    >>> p.add_risk("late", 0.4, ["a"], schedule_impact=5, mitigated={"probability": 0.1})
    >>> c = pmosim.compare(p, "pre,post", 2_000, seed=1)
    >>> ax = plots.s_curves(c.results, ["Before mitigation", "After mitigation"], target=12)
    >>> len(ax.get_legend().get_texts())
    3
    """
    results, labels = list(results), [str(x) for x in labels]
    if not results or len(results) != len(labels):
        raise ValueError(f"s_curves needs one label per result, got {len(results)} results "
                         f"and {len(labels)} labels")
    ax = ax if ax is not None else _new_axes((9, 5.2))
    project = results[0].project
    edges = []
    for k, (result, label) in enumerate(zip(results, labels)):
        colour = _RUN_COLOURS[k % len(_RUN_COLOURS)]
        xs = np.sort(np.asarray(result.finish.samples, dtype=float))
        cdf = np.arange(1, xs.size + 1) / xs.size * 100.0
        if xs.size > _CURVE_POINTS:
            # a million-step line draws slowly and looks the same as 2,001 of its points
            pick = np.unique(np.linspace(0, xs.size - 1, _CURVE_POINTS).astype(np.int64))
            xs, cdf = xs[pick], cdf[pick]
        p80 = float(result.finish.percentile(80))
        text = f"{label}: P80 {_time_text(project, p80)}"
        if target is not None:
            text += f", {100 * result.finish.probability_le(float(target)):.0f}% by the target"
        ax.step(xs, cdf, where="post", color=colour, linewidth=2, label=text)
        ax.plot([p80], [80], marker="o", color=colour, markersize=6, zorder=3)
        edges += [float(xs[0]), float(xs[-1])]
    ax.axhline(80, color="#999999", linewidth=0.8, linestyle="--", zorder=1)
    if target is not None:
        ax.axvline(float(target), color=_TARGET_LINE, linewidth=1.6, linestyle="-.",
                   label=f"Target: {_time_text(project, float(target))}")
        edges.append(float(target))
    left, right = min(edges), max(edges)
    pad = max(0.03 * (right - left), 0.5)
    ax.set_xlim(left - pad, right + pad)
    _s_curve_axes(ax, project)
    name = getattr(project, "name", None)
    ax.set_title(title if title is not None else
                 f"{name or 'Project'}: finish S-curves on the same random numbers "
                 f"({results[0].iterations:,} iterations each)")
    _fit_labels(ax)
    return ax


__all__ += ["s_curves"]


def forecast_drift(runs, ax=None, *, cost_ax=None, title: str | None = None,
                   currency: str | None = None):
    """The forecast drift of a project: its P50 and P80 finish, with the P10-P90 band,
    at each status date of its recorded runs; the cost the same way on a second panel.

    One point per status date: the latest run recorded for it
    (:func:`pmosim.history.drift_points`; a run without a status date stands at the day
    it was recorded). Finishes are dates when the runs have them (the project has a
    start), else working days from the start. The deterministic plan is a dashed line;
    the latest run's target and budget, when it had them, are horizontal lines.

    Parameters
    ----------
    runs : list of dict
        Runs from :func:`pmosim.history.load_runs` (one project's).
    ax : matplotlib.axes.Axes, optional
        Where the finish panel goes. Default: a new figure, with a second Axes below
        for the cost when any run has costs (``ax.figure.axes[1]``).
    cost_ax : matplotlib.axes.Axes, optional
        Where the cost panel goes when ``ax`` is given (no cost panel without it).
    title : str, optional
    currency : str, optional
        For the cost axis label (default: the latest run's currency).

    Returns
    -------
    matplotlib.axes.Axes
        The finish panel.

    Examples
    --------
    >>> import pathlib, tempfile, pmosim
    >>> from pmosim import history, plots
    >>> p = pmosim.Project("demo", start="2027-03-01")
    >>> p.add_task("a", pmosim.Triangular(2, 3, 8), cost_rate=100.0)
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "pmosim.db"
    >>> for day in ("2027-03-01", "2027-04-01"):
    ...     _ = history.record_run(pmosim.simulate(p, 500, seed=1), db, status_date=day)
    >>> ax = plots.forecast_drift(history.load_runs(db, "demo"))
    >>> ax.get_ylabel(), len(ax.figure.axes)
    ('Forecast finish date', 2)
    """
    import datetime as _dt

    import matplotlib.dates as mdates

    from .history import drift_points, run_date

    points = drift_points(runs)
    if not points:
        raise ValueError("forecast_drift needs at least one recorded run")
    has_cost = any(r.get("cost_p50") is not None for r in points)
    if ax is None:
        fig = Figure(figsize=(9, 7.8 if has_cost else 4.8), layout="constrained")
        if has_cost:
            ax, cost_ax = fig.subplots(2, 1, sharex=True)
        else:
            ax = fig.add_subplot()
    x = mdates.date2num([run_date(r) for r in points])
    dated = all(r.get("finish_p50_date") for r in points)

    def finish(run, column):
        if not dated:
            return run[column]
        text = run.get(f"{column}_date")
        return mdates.date2num(_dt.date.fromisoformat(text)) if text else np.nan

    last = points[-1]
    _drift_panel(ax, x, points, finish, "finish_p{}", "finish_deterministic",
                 lambda run, q: run[f"finish_p{q}_date"] if dated else _fmt1(run[f"finish_p{q}"]))
    if last.get("target") is not None:
        value = finish(last, "target") if dated else last["target"]
        ax.axhline(value, color=_TARGET_LINE, linewidth=1.4, linestyle="-.",
                   label="Target" + (f" {last['target_date']}" if dated else ""))
    if dated:
        ax.yaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
        ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.set_ylabel("Forecast finish date")
    else:
        ax.set_ylabel("Forecast finish (working days from the start)")
    # beside the panel: the band spans the whole plot, there is no free corner inside
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    name = last.get("project_name") or last.get("project_key") or "Project"
    n = len(points)
    ax.set_title(title if title is not None else
                 f"{name}: forecast drift over {n} status date{'s' if n != 1 else ''}")
    bottom = ax
    if cost_ax is not None and has_cost:
        _drift_panel(cost_ax, x, points, lambda run, column: (
            np.nan if run.get(column) is None else run[column]),
            "cost_p{}", "cost_deterministic", lambda run, q: _money(run[f"cost_p{q}"]))
        if last.get("budget") is not None:
            cost_ax.axhline(last["budget"], color=_BUDGET, linewidth=1.4, linestyle="-.",
                            label=f"Budget {_money(last['budget'])}")
        cost_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _money(v)))
        cost_ax.set_ylabel(_money_label("Forecast cost", currency or last.get("currency")))
        cost_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        bottom = cost_ax
    span = float(x.max() - x.min())
    # one status date: a fortnight around it (autoscaling would give a zero-width axis);
    # else room on the right for the latest values written beside the last points
    xlim = (x[0] - 7, x[0] + 7) if span == 0 else (x.min() - 0.04 * span, x.max() + 0.22 * span)
    for axis in {ax, bottom}:
        axis.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        axis.set_xlim(*xlim)
    undated = any(not r.get("status_date") for r in points)
    bottom.set_xlabel("Status date" + (" (a run without one: the day it was recorded)"
                                       if undated else ""))
    for label in bottom.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")
    _fit_labels(ax)
    return ax


def _fmt1(t) -> str:
    return f"{t:,.1f}"


def _drift_panel(ax, x, points, value, column, deterministic, text) -> None:
    """One panel of :func:`forecast_drift`: the P10-P90 band, P50 and P80 (the latest
    values written beside their points), the plan."""
    p10, p50, p80, p90, det = (np.array([value(r, c) for r in points], dtype=float)
                               for c in (column.format(10), column.format(50),
                                         column.format(80), column.format(90), deterministic))
    ax.fill_between(x, p10, p90, color=_BAR, alpha=0.18, linewidth=0, label="P10-P90")
    ax.plot(x, p50, color=_BAR, marker="o", linewidth=2, label="P50")
    ax.plot(x, p80, color=_CURVE, marker="s", linewidth=2, label="P80")
    ax.plot(x, det, color=_DETERMINISTIC, linestyle="--", linewidth=1, marker=".",
            label="Deterministic plan")
    for q, ys, colour in ((50, p50, _BAR), (80, p80, _CURVE)):
        if np.isfinite(ys[-1]):
            ax.annotate(f"P{q} {text(points[-1], q)}", (x[-1], ys[-1]), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize="small",
                        color=colour)
    ax.grid(alpha=0.3)


__all__ += ["forecast_drift"]


def evm_chart(evm, ax=None, *, index_ax=None, title: str | None = None):
    """Earned value over the status periods: the baseline's planned value curve (the
    S-curve to BAC), PV, EV and AC at each status date, and below them SPI, CPI and
    SPI(t) with the 1.0 line.

    Parameters
    ----------
    evm : pmosim.evm.EVMResult
    ax : matplotlib.axes.Axes, optional
        The value panel. Default: a new figure with both panels (the index panel is
        ``ax.figure.axes[1]``).
    index_ax : matplotlib.axes.Axes, optional
        Where the index panel goes when ``ax`` is given (none without it).
    title : str, optional
        Default: the project name and the number of periods.

    Returns
    -------
    matplotlib.axes.Axes
        The value panel.
    """
    if ax is None:
        fig = Figure(figsize=(9, 8), layout="constrained")
        ax, index_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    base = evm.baseline
    origin = base.origin
    times, values = base.curve()
    # working days from the project start (an import's time 0 is its data date)
    times = times - origin
    money = evm.basis == "cost"
    currency = evm.currency if money else None
    x = np.asarray(evm.status_time, dtype=float)
    ax.plot(times, values, color=_DETERMINISTIC, linewidth=1.2, linestyle="--",
            label=f"Planned value (baseline, BAC {_money(evm.bac)})")
    ax.plot(x, evm.pv, color=_BAR, marker="o", markersize=4, linewidth=1.5, label="PV")
    ax.plot(x, evm.ev, color=_TARGET, marker="s", markersize=4, linewidth=2, label="EV")
    if money and np.isfinite(evm.ac).any():
        ax.plot(x, evm.ac, color=_CURVE, marker="^", markersize=4, linewidth=1.5, label="AC")
    ax.axhline(evm.bac, color="#999999", linewidth=0.8, linestyle=":")
    last = evm.n_periods - 1
    es = float(evm.es[last])
    if np.isfinite(es):
        ax.annotate("", xy=(es, evm.ev[last]), xytext=(x[last], evm.ev[last]),
                    arrowprops={"arrowstyle": "->", "color": _TARGET, "linewidth": 1.2})
        ax.plot([es], [evm.ev[last]], marker="o", markerfacecolor="white",
                markeredgecolor=_TARGET, linestyle="none",
                label=f"ES of the last period: {evm.es[last]:.1f} of AT {evm.at[last]:.1f} "
                      "working days")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _money(y)))
    ax.set_ylabel(_money_label("Value", currency) if money else "Value (planned working days)")
    ax.set_ylim(0, 1.08 * max(evm.bac, float(np.nanmax(np.concatenate(
        [evm.pv, evm.ev, evm.ac if money else evm.ev]))) if evm.n_periods else evm.bac))
    ax.legend(loc="upper left", fontsize="small", framealpha=0.9)
    ax.grid(alpha=0.3)
    ax.set_title(title if title is not None else
                 f"{evm.project_name or 'Project'}: earned value over {evm.n_periods} status "
                 f"update{'s' * (evm.n_periods != 1)}")
    bottom = ax
    if index_ax is not None:
        index_ax.axhline(1.0, color="#999999", linewidth=0.8, linestyle="--")
        for values, label, colour, marker in ((evm.spi, "SPI", _BAR, "o"),
                                              (evm.spi_t, "SPI(t)", _TARGET, "s"),
                                              (evm.cpi, "CPI", _CURVE, "^")):
            if np.isfinite(values).any():
                index_ax.plot(x, values, color=colour, marker=marker, markersize=4,
                              linewidth=1.5, label=label)
        finite = np.concatenate([v[np.isfinite(v)] for v in (evm.spi, evm.spi_t, evm.cpi)])
        if finite.size:
            lo, hi = min(float(finite.min()), 1.0), max(float(finite.max()), 1.0)
            pad = max(0.05, 0.08 * (hi - lo))
            index_ax.set_ylim(lo - pad, hi + pad)
        index_ax.set_ylabel("Index (1 = on plan)")
        index_ax.legend(loc="lower left", fontsize="small", framealpha=0.9)
        index_ax.grid(alpha=0.3)
        bottom = index_ax
    span = [float(np.min(times)), float(max(np.max(times), np.max(x)))]
    ax.set_xlim(span[0], span[1] + max(0.02 * (span[1] - span[0]), 0.5))
    if getattr(evm.project, "start", None) is not None and origin == 0:
        _time_axis(bottom, evm.project, "Status", date_label="Status date (end of day)")
        if bottom is not ax:
            ax.tick_params(axis="x", labelbottom=False)
    else:
        bottom.set_xlabel("Working days from the project start")
    _fit_labels(ax)
    return ax


__all__ += ["evm_chart"]


def _s_curve_axes(ax, project) -> None:
    """The axes of an S-curve of the finish (s_curve, s_curves): probability 0-100 %,
    time or dates, legend and grid."""
    ax.set_ylim(0, 101)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_ylabel("Probability of finishing by then (%)")
    _time_axis(ax, project, "Project finish")
    ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    ax.grid(alpha=0.3)

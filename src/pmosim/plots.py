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
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .calendar import WorkCalendar
from .io.json_out import atomic_path

_BAR = "#4C72B0"
_CURVE = "#C44E52"
_MARKS = (("P50", 50, "#2F7F3F", "--"), ("P80", 80, "#DD8452", "--"))
_DETERMINISTIC = "#333333"


def _new_axes(figsize):
    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def finish_histogram(result, ax=None, *, bins: int | None = None, title: str | None = None):
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
    start = getattr(project, "start", None)
    calendar = getattr(project, "calendar", None) or WorkCalendar()

    def label_of(t):
        if start is None:
            return f"{t:.1f} working days"
        return str(calendar.finish_dates(start, max(t, 0.0)))

    for key, q, color, style in _MARKS:
        t = float(result.finish.percentile(q))
        ax.axvline(t, color=color, linestyle=style, linewidth=1.6, label=f"{key}: {label_of(t)}")
    ax.axvline(deterministic, color=_DETERMINISTIC, linestyle=":", linewidth=2,
               label=f"Deterministic (CPM): {label_of(deterministic)}")

    left_x = min(lo, deterministic)
    right_x = max(hi, deterministic)
    pad = max(0.02 * (right_x - left_x), 0.5)
    ax.set_xlim(left_x - pad, right_x + pad)
    if start is None:
        ax.set_xlabel("Project finish (working days from the start)")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda t, _: str(calendar.finish_dates(start, max(t, 0.0)))))
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        ax.set_xlabel("Project finish date (finish at end of day)")
        top = ax.secondary_xaxis("top")
        top.set_xlabel("Working days from the start " + start.isoformat())

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


__all__ = ["finish_histogram", "criticality_chart", "save_png"]

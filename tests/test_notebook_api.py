"""The notebook API (issue 16): DataFrames, short and HTML reprs, progress bars, and
charts that hold with long names, close P-values and costs in the risk tornado."""

import html.parser
import io
import re
import sys
import types

import numpy as np
import pytest
from matplotlib.figure import Figure

import pmosim
from pmosim import plots, progress
from pmosim.errors import MissingDependencyError, PmosimError, SimulationError
from pmosim.synthetic import layered_network

N = 2_000
LONG = ("Relocate the primary and secondary switchgear rooms to the new substation "
        "building, phase {}")


def dated_project(name="demo"):
    p = pmosim.Project(name, start="2027-03-01")
    p.add_task("a", pmosim.Triangular(2, 3, 8), name="Alpha <b>&</b>")
    p.add_task("b", pmosim.Uniform(1, 4))
    p.add_task("c", pmosim.Pert(1, 2, 5))
    p.add_task("link", 0, kind="connector")          # as importers add for WBS summaries
    p.add_link("a", "link")
    p.add_link("link", "b")
    p.add_link("a", "c")
    return p


@pytest.fixture(scope="module")
def dated():
    return pmosim.simulate(dated_project(), N, seed=3)


# -- to_frame --------------------------------------------------------------------------

def test_to_frame_columns_values_and_dates(dated):
    pd = pytest.importorskip("pandas")
    t = dated.tasks
    df = t.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert df.index.name == "id" and df.index.tolist() == ["a", "b", "c"]  # no connector
    keys = ("P10", "P50", "P80", "P90")
    assert df.columns.tolist() == [
        "name", "kind", "criticality", "start_mean", "start_std", "finish_mean", "finish_std",
        "deterministic_start", *(f"start_{k}" for k in keys), "deterministic_finish",
        *(f"finish_{k}" for k in keys), "deterministic_start_date",
        *(f"start_{k}_date" for k in keys), "deterministic_finish_date",
        *(f"finish_{k}_date" for k in keys)]
    pos = [t.ids.index(i) for i in df.index]
    assert df["name"].tolist() == ["Alpha <b>&</b>", "b", "c"]
    np.testing.assert_array_equal(df["criticality"], t.criticality[pos])
    np.testing.assert_array_equal(df["finish_std"], t.finish_std[pos])
    np.testing.assert_array_equal(df["start_P80"], t.start_percentile(80)[pos])
    np.testing.assert_array_equal(df["finish_P10"], t.finish_percentile(10)[pos])
    assert [d.date() for d in df["finish_P80_date"]] == [t.finish_dates(80)[i] for i in pos]
    assert [d.date() for d in df["deterministic_start_date"]] == \
        [t.deterministic_start_dates()[i] for i in pos]
    assert str(df["finish_P50_date"].dtype).startswith("datetime64")

    every = t.to_frame([5, 95], connectors=True)
    assert every.index.tolist() == t.ids and every.loc["link", "kind"] == "connector"
    assert "finish_P95" in every and "finish_P50" not in every


def test_to_frame_without_a_start_date_has_working_days_only():
    pytest.importorskip("pandas")
    p = pmosim.Project()
    p.add_task("x", pmosim.Uniform(1, 2))
    df = pmosim.simulate(p, 600, seed=1).tasks.to_frame()
    assert "finish_P80" in df and not any(c.endswith("_date") for c in df.columns)


def test_to_frame_without_pandas_says_how_to_install_it(dated, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)       # import pandas -> ImportError
    with pytest.raises(MissingDependencyError) as info:
        dated.tasks.to_frame()
    assert str(info.value) == "to_frame() needs pandas: pip install 'pmosim[frame]'"
    assert isinstance(info.value, ImportError) and isinstance(info.value, PmosimError)


# -- reprs -----------------------------------------------------------------------------

class _Strict(html.parser.HTMLParser):
    """Collects text and checks that every element is closed in order."""

    VOID = {"br", "hr", "img", "meta", "link", "input", "col"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup):
    parser = _Strict()
    parser.feed(markup)
    parser.close()
    assert parser.stack == []
    return parser


def test_simulation_result_html_has_p_values_dates_costs_and_escapes_names():
    p = dated_project(name="Fit-out <script>alert(1)</script>")
    p.add_task("d", 2, cost_fixed=1000.0, name="Delta & <i>co</i>")
    r = pmosim.simulate(p, N, seed=3)
    markup = r._repr_html_()
    assert "<script>" not in markup and "<i>co</i>" not in markup
    parsed = parse(markup)
    text = "".join(parsed.text)
    assert "script" not in parsed.tags and "i" not in parsed.tags
    assert "Fit-out <script>alert(1)</script>" in text and "Alpha <b>&</b>" in text
    assert f"{N:,} iterations" in text and f"seed {r.seed}" in text
    for q in (10, 50, 80, 90):
        assert f"{float(r.finish.percentile(q)):,.1f}" in text
        assert r.finish.date(q).isoformat() in text
        assert f"{float(r.cost.percentile(q)):,.0f}" in text
    assert "link" not in [row.strip() for row in parsed.text]        # the connector
    assert parsed.tags.count("table") == 3


def test_task_stats_and_cpm_html_and_short_reprs():
    r = pmosim.simulate(layered_network(60, seed=2), 600, seed=1)
    parsed = parse(r.tasks._repr_html_())
    assert parsed.tags.count("tr") == 1 + 20                    # header and 20 rows
    assert "40 more" in "".join(parsed.text)
    assert repr(r.tasks).startswith("TaskStats(60 tasks")

    big = layered_network(1000, seed=1)
    cpm = pmosim.cpm(big)
    assert len(repr(cpm)) < 120 and repr(cpm).startswith("CPMResult(1,000 tasks, finish ")
    parsed = parse(cpm._repr_html_())
    text = "".join(parsed.text)
    assert f"{cpm.finish:,.1f} working days" in text
    assert str(cpm.critical_path[0]) in parsed.text


# -- progress --------------------------------------------------------------------------

def hide_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def test_progress_true_without_tqdm_draws_a_text_bar_on_stderr(monkeypatch, capsys):
    hide_tqdm(monkeypatch)
    r = pmosim.simulate(dated_project(), 5_000, seed=1, progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\rSimulating [") and err.endswith("\n")
    last = err.rstrip("\n").split("\r")[-1]
    assert "[" + "#" * progress.WIDTH + "] 100% 5,000/5,000 iterations" in last
    assert r.iterations == 5_000


def test_text_bar_redraws_at_most_ten_times_a_second(monkeypatch):
    clock = iter(np.arange(0.0, 10.0, 0.01))                   # a report every 10 ms
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(clock)))
    out = io.StringIO()
    bar = progress.TextBar("Simulating", file=out)
    for done in range(1, 301):                                 # 3 s of reports
        bar(done * 10, 3_000)
    bar.close()
    draws = out.getvalue().count("\r")
    assert 30 <= draws <= 32                                  # ~10 a second, the last, close
    assert out.getvalue().endswith("100% 3,000/3,000 iterations  3 s\n")


def test_progress_uses_tqdm_when_installed(monkeypatch):
    bars = []

    class FakeTqdm:
        def __init__(self, total, desc, **kwargs):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    package, auto = types.ModuleType("tqdm"), types.ModuleType("tqdm.auto")
    auto.tqdm = FakeTqdm
    package.auto = auto
    monkeypatch.setitem(sys.modules, "tqdm", package)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    pmosim.simulate(dated_project(), 3_000, seed=1, progress=True)
    (bar,) = bars
    assert (bar.desc, bar.total, bar.n, bar.closed) == ("Simulating", 3_000, 3_000, True)


def test_progress_callable_none_false_and_bad_values():
    calls = []
    pmosim.simulate(dated_project(), 3_000, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3_000, 3_000) and all(t == 3_000 for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    for quiet in (None, False):
        pmosim.simulate(dated_project(), 600, seed=1, progress=quiet)
    with pytest.raises(SimulationError, match=r"progress must be True \(show a bar\), "
                                              r"False/None or a callable progress\(done, "
                                              r"total\), got 'yes'"):
        pmosim.simulate(dated_project(), 600, seed=1, progress="yes")


def test_rank_risks_reports_the_iterations_of_all_its_runs():
    p = dated_project()
    p.add_risk("R1", 0.3, ["a"], schedule_impact=2)
    p.add_risk("R2", 0.2, ["b"], schedule_impact=1)
    calls = []
    pmosim.rank_risks(p, 1_024, seed=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (3 * 1_024, 3 * 1_024)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# -- charts ----------------------------------------------------------------------------

def inside(fig, artists, tol=0.5):
    """Each artist's drawn box lies inside the figure (pixels, after layout)."""
    fig.canvas.draw()
    edge = fig.bbox
    for a in artists:
        if not a.get_visible() or not a.get_text():
            continue
        box = a.get_window_extent()
        assert (box.x0 >= edge.x0 - tol and box.x1 <= edge.x1 + tol
                and box.y0 >= edge.y0 - tol and box.y1 <= edge.y1 + tol), \
            (a.get_text(), box, edge)


def texts_of(ax):
    """Title, axis labels and the tick labels drawn (the locators also label ticks just
    outside the view, which are not drawn)."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return [ax.title, ax.xaxis.label, ax.yaxis.label,
            *(t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1),
            *(t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1)]


@pytest.fixture(scope="module")
def long_named():
    p = pmosim.Project("Northern relocation programme: " + LONG.format("all") + " (rev C)",
                       start="2027-03-01")
    prev = None
    for k in range(8):
        p.add_task(f"T{k}", pmosim.Triangular(5, 6, 9), name=LONG.format(k), cost_rate=500.0)
        if prev is not None and k % 2:
            p.add_link(prev, f"T{k}")
        prev = f"T{k}"
    p.add_task("conn", 0, kind="connector")
    p.add_link("T7", "conn")
    p.add_risk("R1", 0.4, ["T1"], schedule_impact=3, cost_impact=2_000.0,
               name="Utility diversion permit refused by the highway authority at appeal")
    p.add_risk("R2", 0.3, ["T3"], cost_impact=9_000.0,
               name="Copper price spike on the main feeder cables beyond the contract cap")
    result = pmosim.simulate(p, N, seed=5)
    return p, result


def test_charts_with_long_names_keep_titles_and_labels_inside_the_figure(long_named):
    p, result = long_named
    crit = plots.criticality_chart(result, top=15)
    labels = [t.get_text() for t in crit.get_yticklabels()]
    assert "conn" not in " ".join(labels) and len(labels) == 8
    for s in labels:                   # the name shortened with an ellipsis, the id whole
        assert re.fullmatch(r".{1,%d}\u2026 \(T\d\)" % (plots._LABEL_CHARS - 1), s), s
    assert "of 8 tasks" in crit.get_title().replace("\n", " ")
    inside(crit.figure, texts_of(crit))

    fin = plots.finish_histogram(result)
    inside(fin.figure, texts_of(fin) + [fin.right_ax.yaxis.label])
    cost = plots.cost_histogram(result, currency="GBP")
    inside(cost.figure, texts_of(cost) + [cost.right_ax.yaxis.label])
    for chart in (plots.jcl_scatter(result), plots.cashflow_fan(result)):
        inside(chart.figure, texts_of(chart))

    ranking = pmosim.rank_risks(p, 1_000, seed=5)
    both = plots.risk_tornado(ranking, currency="GBP")
    inside(both.figure, texts_of(both) + texts_of(both.cost_ax) + [both.figure._suptitle])
    for what in ("finish", "cost"):
        one = plots.risk_tornado(ranking, what=what)
        inside(one.figure, texts_of(one))


@pytest.mark.parametrize("figsize", [(9, 5.2), (5, 3), (6, 2.2)])
def test_p_value_marks_do_not_hide_each_other_on_a_narrow_distribution(figsize):
    p = pmosim.Project("narrow", start="2027-03-01")
    p.add_task("a", pmosim.Triangular(10, 10.05, 10.3))
    r = pmosim.simulate(p, N, seed=1)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = plots.finish_histogram(r, ax=fig.add_subplot())
    fig.canvas.draw()
    keys = ax.p_labels
    assert [k.get_text() for k in keys] == ["P10", "P50", "P80", "P90"]
    boxes = [k.get_window_extent() for k in keys]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (keys[i].get_text(), keys[j].get_text())
        assert ax.bbox.x0 <= boxes[i].x0                       # not on the tick labels
    # each dot sits on the S-curve at its own height
    dots = [line for line in ax.right_ax.get_lines() if line.get_marker() == "o"]
    assert [float(d.get_xdata()[0]) for d in dots] == \
        [float(r.finish.percentile(q)) for q in (10, 50, 80, 90)]
    assert [float(d.get_ydata()[0]) for d in dots] == [10, 50, 80, 90]


def test_cost_tornado_matches_a_hand_computation():
    p = pmosim.Project()
    p.add_task("a", 10, cost_rate=100.0)
    p.add_risk("R1", 0.5, ["a"], schedule_impact=2, cost_impact=50.0)
    p.add_risk("R2", 0.3, ["a"], cost_impact=500.0)
    n, q = 3_000, 80
    r = pmosim.simulate(p, n, seed=11, keep_samples=True)
    dur, cost = r.durations[:, 0], r.cost.samples
    on1 = (dur - 10) / 2                                        # R1 occurred: 2 more days
    on2 = (cost - 100 * dur - 50 * on1) / 500                   # R2 occurred: 500 more
    assert set(on1) == {0, 1} and set(on2) == {0, 1}
    off = {"R1": 1000 + 500 * on2, "R2": 100 * dur + 50 * on1}  # each switched off alone
    ranking = pmosim.rank_risks(p, n, seed=11, percentile=q)
    assert ranking.baseline_cost_percentile == pytest.approx(np.percentile(cost, q), rel=1e-12)
    assert ranking.baseline_cost_mean == pytest.approx(cost.mean(), rel=1e-12)
    by_id = {e.id: e for e in ranking.entries}
    for rid, c in off.items():
        e = by_id[rid]
        assert e.cost_percentile_shift == pytest.approx(
            np.percentile(cost, q) - np.percentile(c, q), rel=1e-12, abs=1e-9)
        assert e.cost_mean_shift == pytest.approx(cost.mean() - c.mean(), rel=1e-12)
    assert by_id["R2"].percentile_shift == 0 and by_id["R2"].mean_shift == 0
    assert by_id["R1"].to_dict()["cost_mean_shift"] == by_id["R1"].cost_mean_shift
    assert ranking.to_dict()["baseline_cost_percentile"] == ranking.baseline_cost_percentile

    # the chart draws those values: the cost panel's bars, rows in the finish ranking
    ax = plots.risk_tornado(ranking)
    widths = [bar.get_width() for bar in ax.cost_ax.patches]
    order = [e.id for e in ranking.entries]
    assert widths == [by_id[i].cost_percentile_shift for i in order] + \
        [by_id[i].cost_mean_shift for i in order]
    assert ax.get_xlabel() == "Finish gained by switching the risk off (working days)"

    from pmosim.io.json_out import results_dict
    doc = results_dict(r, ranking=ranking)
    risk = next(x for x in doc["risks"] if x["id"] == "R2")
    assert risk["cost_percentile_shift"] == by_id["R2"].cost_percentile_shift


def test_tornado_panels_need_costs_and_a_figure_of_their_own():
    p = pmosim.Project()
    p.add_task("a", 10)
    p.add_risk("R1", 0.5, ["a"], schedule_impact=2)
    ranking = pmosim.rank_risks(p, 600, seed=1)
    assert ranking.baseline_cost_percentile is None and ranking.entries[0].cost_mean_shift is None
    assert "cost_percentile_shift" not in ranking.entries[0].to_dict()
    assert not hasattr(plots.risk_tornado(ranking), "cost_ax")
    with pytest.raises(ValueError, match="what='cost' needs a ranking with costs"):
        plots.risk_tornado(ranking, what="cost")
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="what='both' draws two panels"):
        plots.risk_tornado(ranking, ax=ax, what="both")

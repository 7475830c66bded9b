"""The HTML report (pmosim.report), its charts, and `pmosim report` / `run --report`.

Every report is parsed with the standard library's HTML parser: sections, the P-value
table against the result, embedded images, no external URL, escaped names. A real
headless browser (Debian's chromium) then opens the office-move report and an imported
SP10 report, and a screenshot of each is kept: under the test's tmp folder, and in
``$PMOSIM_ARTEFACTS`` when that is set. Without a browser on PATH that test skips with
the reason, except under ``CI=true``, where it fails (``.ci/run`` installs chromium).
"""

from __future__ import annotations

import base64
import html.parser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim import plots
from pmosim.cli import cli
from pmosim.report import model_hash, report_html, write_report
from pmosim.stats import correlation_noise_level

from _data import REPO_ROOT, data_dir

OFFICE = REPO_ROOT / "scenarios" / "office-move-risks.toml"
N = 400
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NASTY = '<b>&"x"</b>\'s'
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SMALL = """\
[project]
name = "Small"
start = "2027-03-01"
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 2, mode = 4, high = 9 }
[[tasks]]
id = "b"
duration = { dist = "uniform", low = 1, high = 3 }
predecessors = ["a"]
"""


class Page(html.parser.HTMLParser):
    """What the tests look at in a report: sections, tables, images, links, text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.sections, self.imgs, self.urls, self.text = [], [], [], []
        self.title = ""
        self.tables = {}          # css class -> list of rows of (text, data-value or None)
        self._table = self._row = self._cell = None
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        for key in ("src", "href", "action", "data", "poster"):
            if key in a:
                self.urls.append(a[key])
        if tag == "title":
            self._in_title = True
        if tag == "table":
            self._table = self.tables.setdefault(a.get("class") or "", [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ["", a.get("data-value")]
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "table":
            self._table = self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell[0] += data


@pytest.fixture(scope="module")
def office():
    project = pmosim.load(OFFICE)
    result = pmosim.simulate(project, N, seed=5)
    ranking = pmosim.rank_risks(project, N, seed=5)
    return result, ranking


@pytest.fixture(scope="module")
def office_report(office, tmp_path_factory):
    result, ranking = office
    path = tmp_path_factory.mktemp("report") / "office.html"
    write_report(result, path, scenario="scenarios/office-move-risks.toml",
                 target="2027-11-30", budget=2_600_000, ranking=ranking)
    return path


def nasty_project():
    """Hostile names, a connector, a milestone and a very long name."""
    p = pmosim.Project(f"Plan {NASTY}", start="2027-03-01")
    p.add_task("a<1>", pmosim.Triangular(2, 4, 9), name=NASTY)
    p.add_task("b", pmosim.Uniform(1, 3), name="B " + "very long name " * 20)
    p.add_task("conn", 0.0, name="CONNECTOR-SHOULD-NOT-SHOW", kind="connector")
    p.add_task("done", 0.0, name="Handover")
    p.add_link("a<1>", "conn")
    p.add_link("conn", "b")
    p.add_link("b", "done")
    return p


# -- the report, parsed ------------------------------------------------------------------
def test_report_has_every_section_and_embeds_everything(office_report):
    raw = office_report.read_text(encoding="utf-8")
    page = Page(raw)
    assert page.title == "Head-office relocation: schedule risk report"
    for sid in ("summary", "finish", "drivers", "risks", "gantt", "tasks", "cost", "settings",
                "audit"):
        assert sid in page.sections
    assert "resources" not in page.sections          # not levelled
    # S-curve, histogram, criticality, two sensitivity tornadoes, risk tornado, Gantt,
    # cost histogram, JCL, cash flow
    assert len(page.imgs) == 10
    for src in page.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_SIGNATURE
    for url in page.urls:
        assert url.startswith(("data:", "#")), url
    lowered = raw.lower()
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "url(", "<iframe"):
        assert forbidden not in lowered
    text = "".join(page.text)
    assert "Model SHA-256" in text and model_hash(pmosim.load(OFFICE)) in text
    for what in ("pmosim version", "numpy version", "numba version", "Python version"):
        assert what in text


def test_pvalue_table_is_the_results(office, office_report):
    result, _ = office
    page = Page(office_report.read_text(encoding="utf-8"))
    rows = page.tables["pvalues"]
    head = [c[0] for c in rows[0]]
    assert head == ["Confidence", "Working days", "Finish date", "95% confidence interval",
                    "Cost (EUR)", "Contingency over the plan"]
    by_label = {r[0][0]: r for r in rows[1:]}
    det = by_label["Deterministic (CPM)"]
    assert float(det[1][1]) == result.finish.deterministic
    assert det[2][0] == str(result.finish.deterministic_date)
    assert float(det[4][1]) == result.cost.deterministic
    start, calendar = result.project.start, result.project.calendar
    for q in (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95):
        row = by_label[f"P{q}"]
        days = float(result.finish.percentile(q))
        assert float(row[1][1]) == days and row[1][0] == f"{days:,.1f}"
        assert row[2][0] == str(result.finish.date(q))
        lo, hi = (str(calendar.finish_dates(start, t)) for t in result.finish.percentile_ci(q))
        assert row[3][0] == (lo if lo == hi else f"{lo} to {hi}")
        cost = float(result.cost.percentile(q))
        assert float(row[4][1]) == cost and row[4][0] == f"{cost:,.0f}"
        assert float(row[5][1]) == pytest.approx(cost - result.cost.deterministic, abs=1e-6)
    assert float(by_label["Mean"][1][1]) == result.finish.mean


def test_top_tasks_table_is_the_results(office, office_report):
    result, _ = office
    page = Page(office_report.read_text(encoding="utf-8"))
    rows = page.tables["tasks"]
    head = [c[0] for c in rows[0]]
    assert head[:6] == ["#", "Task", "ID", "Criticality", "CRI(\u03c4)", "SSI"]
    st, sens = result.tasks, result.sensitivity
    position = {str(t): i for i, t in enumerate(result.task_ids)}
    cri = []
    p50_dates = st.finish_dates(50)
    for row in rows[1:]:
        i = position[row[2][0]]
        assert float(row[3][1]) == st.criticality[i]
        assert float(row[4][1]) == sens.cri_tau[i]
        assert row[7][0] == str(p50_dates[i])
        cri.append(sens.cri_tau[i])
    assert cri == sorted(cri, reverse=True)       # ranked by cruciality
    assert len(rows) - 1 == min(20, len(result.task_ids))


def test_user_strings_are_escaped_and_connectors_hidden(tmp_path):
    result = pmosim.simulate(nasty_project(), 300, seed=2)
    path = write_report(result, tmp_path / "nasty.html")
    raw = path.read_text(encoding="utf-8")
    assert NASTY not in raw and "<b>" not in raw and "a<1>" not in raw
    page = Page(raw)                                # the reader sees the names as written
    text = "".join(page.text)
    assert NASTY in text and "a<1>" in text and f"Plan {NASTY}" in page.title
    assert "CONNECTOR-SHOULD-NOT-SHOW" not in text
    assert "(1 import connector, not shown)" in text
    ids = [row[2][0] for row in page.tables["tasks"][1:]]
    assert "conn" not in ids and sorted(ids) == ["a<1>", "b", "done"]


def test_report_without_start_date_or_sensitivity(tmp_path):
    p = pmosim.Project("undated")
    p.add_task("a", pmosim.Triangular(2, 4, 9))
    p.add_task("b", pmosim.Pert(1, 2, 6))
    p.add_link("a", "b")
    result = pmosim.simulate(p, 300, seed=3, sensitivity=False)
    page = Page(report_html(result, target=8))
    rows = page.tables["pvalues"]
    assert [c[0] for c in rows[0]] == ["Confidence", "Working days", "95% confidence interval"]
    lo, hi = result.finish.percentile_ci(80)
    assert [r for r in rows if r[0][0] == "P80"][0][2][0] == f"{lo:,.1f} to {hi:,.1f}"
    text = "".join(page.text)
    assert "Sensitivity measures were not computed" in text
    assert "Chance of meeting the target" in text
    with pytest.raises(pmosim.ModelError, match="before the project start"):
        report_html(result, target=-1)


def test_write_report_is_atomic_and_replaces(tmp_path):
    result = pmosim.simulate(nasty_project(), 50, seed=1)
    path = tmp_path / "r.html"
    path.write_text("old", encoding="utf-8")
    assert write_report(result, path) == path
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]      # no temporary left


def test_report_is_reproducible_but_its_time_stamp():
    def made(seed):
        text = report_html(pmosim.simulate(nasty_project(), 60, seed=seed))
        head, _, tail = text.partition("<dt>Generated</dt>")
        return head, tail.split("</dd>", 1)[1]
    assert made(3) == made(3) != made(4)


# -- the model hash ----------------------------------------------------------------------
def test_model_hash_is_canonical(tmp_path):
    base = model_hash(pmosim.load(OFFICE))
    copy = tmp_path / "elsewhere.toml"
    shutil.copy(OFFICE, copy)
    assert model_hash(pmosim.load(copy)) == base              # not the file's name
    # another process, another hash seed: the same digest
    code = ("import sys, pmosim; from pmosim.report import model_hash; "
            f"print(model_hash(pmosim.load({str(OFFICE)!r})))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    assert out == base
    # 3 and 3.0 are the same model; any changed number is another
    a, b, c = pmosim.Project("h"), pmosim.Project("h"), pmosim.Project("h")
    a.add_task("t", 3)
    b.add_task("t", 3.0)
    c.add_task("t", 3.0000001)
    assert model_hash(a) == model_hash(b) != model_hash(c)
    p = pmosim.load(OFFICE)
    u, v = next(iter(p.graph.edges))
    p.graph.edges[u, v]["lag"] = 1.0
    assert model_hash(p) != base


# -- the charts --------------------------------------------------------------------------
def test_sensitivity_tornado_ranks_and_labels(tmp_path):
    result = pmosim.simulate(nasty_project(), 500, seed=4)
    ax = plots.sensitivity_tornado(result, measure="cri_tau")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert not any("CONNECTOR" in s or "conn" == s for s in labels)
    widths = [b.get_width() for b in ax.patches]
    assert widths == sorted(widths, reverse=True)            # highest at the top
    sens = result.sensitivity
    expected = {str(t): 100 * v for t, v in sens.top("cri_tau", 10)}
    for label, w in zip(labels, widths):
        tid = label.rsplit("(", 1)[-1].rstrip(")") if label.endswith(")") else label
        assert w == pytest.approx(expected[tid])
    long = [s for s in labels if s.startswith("B ")][0]
    assert "\u2026" in long and long.endswith("(b)")          # shortened, id whole
    assert ax.get_xlim() == (0, 100)
    with pytest.raises(ValueError, match="not a sensitivity measure"):
        plots.sensitivity_tornado(result, measure="cri")
    with pytest.raises(ValueError, match="needs a project with costs"):
        plots.sensitivity_tornado(result, measure="cost_cri_tau")
    bare = pmosim.simulate(nasty_project(), 50, seed=4, sensitivity=False)
    with pytest.raises(ValueError, match="sensitivity=True"):
        plots.sensitivity_tornado(bare)


def test_probabilistic_gantt_draws_the_percentiles(office):
    result, _ = office
    ids = plots.key_tasks(result, top=8)
    position = {t: i for i, t in enumerate(result.task_ids)}
    kinds = result.tasks.kinds
    assert len(ids) == 8 and all(kinds[position[t]] != "connector" for t in ids)
    assert any(kinds[position[t]] == "milestone" for t in ids)
    det = [result.tasks.deterministic_start[position[t]] for t in ids]
    assert det == sorted(det)                                 # planned start order
    ax = plots.probabilistic_gantt(result, tasks=ids, dates=False)
    s10 = result.tasks.start_percentile(10)
    f90 = result.tasks.finish_percentile(90)
    wide = [b for b in ax.patches if b.get_height() > 0.5]    # the P10-P90 bars
    tasks = [t for t in ids if kinds[position[t]] != "milestone"]
    assert len(wide) == len(tasks)
    for bar, t in zip(wide, tasks):
        i = position[t]
        assert bar.get_x() == pytest.approx(s10[i])
        assert bar.get_x() + bar.get_width() == pytest.approx(f90[i])
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"
                and line.get_markerfacecolor() != "none"]
    f50 = result.tasks.finish_percentile(50)
    ms = [t for t in ids if kinds[position[t]] == "milestone"]
    assert sorted(float(d.get_xdata()[0]) for d in diamonds) == sorted(
        float(f50[position[t]]) for t in ms)
    assert ax.get_xlabel() == "Working days from the start"
    assert plots.probabilistic_gantt(result, top=5).get_xlabel() == "Date"


def test_s_curve_marks_target(office):
    result, _ = office
    ax = plots.s_curve(result, target=150)
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("P80: " + str(result.finish.date(80))) for t in texts)
    labels = ax.get_legend_handles_labels()[1]
    assert any(lbl.startswith("Target: ") for lbl in labels)


def test_noise_level_is_the_null_spread():
    """The Kendall and Spearman null standard deviations against sampled independent
    pairs; the level is that spread times the Bonferroni normal quantile."""
    from scipy import stats as sps
    rng = np.random.default_rng(7)
    n, reps = 30, 2000
    taus = np.empty(reps)
    rhos = np.empty(reps)
    for k in range(reps):
        x, y = rng.random(n), rng.random(n)
        taus[k] = sps.kendalltau(x, y).statistic
        rhos[k] = sps.spearmanr(x, y).statistic
    z = 1.959963984540054                                      # alpha 0.05, one task
    for sample, method in ((taus, "kendall"), (rhos, "spearman")):
        sd = correlation_noise_level(method, n, 1) / z
        # the sample sd's relative standard error is about 1/sqrt(2 reps): 1.6%
        assert np.std(sample) == pytest.approx(sd, rel=5 / np.sqrt(2 * reps))
    from statistics import NormalDist
    level = correlation_noise_level("kendall", 500, 4000)
    assert level == pytest.approx(NormalDist().inv_cdf(1 - 0.05 / 8000) * np.sqrt(
        2 * (2 * 500 + 5) / (9 * 500 * 499)))


# -- the command line ----------------------------------------------------------------------
def test_cli_report_and_run_report(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    res = runner.invoke(cli, ["report", str(OFFICE), "-o", str(out), "-n", "200", "--seed",
                              "1", "--target", "2027-11-30"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"Wrote {out}" in res.output and "seed 1" in res.output
    page = Page(out.read_text(encoding="utf-8"))
    assert "summary" in page.sections and "Chance of meeting the target" in "".join(page.text)
    assert "--seed 1" in "".join(page.text)                 # the command that makes it again
    run_html = tmp_path / "run.html"
    small = tmp_path / "small.toml"
    small.write_text(SMALL, encoding="utf-8")
    res = runner.invoke(cli, ["run", str(small), "-n", "200", "--seed", "1", "--out",
                              str(tmp_path / "out"), "--report", str(run_html)],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert str(run_html) in res.output and run_html.read_text(encoding="utf-8").startswith(
        "<!DOCTYPE html>")


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/r.txt"], "Error: -o {tmp}/r.txt: the report is an HTML file; give a name "
                            "ending in .html, e.g. r.html"),
    (["-o", "{tmp}/file/r.html"], "Error: -o {tmp}/file/r.html: cannot create the folder "
                                  "{tmp}/file"),
    (["-o", str(OFFICE)], f"Error: -o {OFFICE} is an input of this run"),
])
def test_cli_report_bad_output(tmp_path, args, message):
    (tmp_path / "file").write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = CliRunner().invoke(cli, ["report", str(OFFICE), "-n", "10", *args])
    assert res.exit_code == 1
    assert res.output.startswith(message.replace("{tmp}", str(tmp_path)))
    assert "Traceback" not in res.output


def test_cli_run_report_checks_before_running(tmp_path):
    res = CliRunner().invoke(cli, ["run", str(OFFICE), "-n", "10", "--out", str(tmp_path),
                                   "--report", str(tmp_path / "r.pdf")])
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: --report {tmp_path / 'r.pdf'}: the report is an "
                                 "HTML file")
    assert not (tmp_path / "results.json").exists()


# -- a real browser ------------------------------------------------------------------------
def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    reason = (f"no headless browser on PATH ({', '.join(BROWSERS)}); install Debian's "
              "chromium (apt-get install chromium) to run this check")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + "; CI must run it (.ci/run installs chromium)", pytrace=False)
    pytest.skip(reason)


def _open_in_browser(browser, page: Path, shot: Path, profile: Path) -> str:
    """Screenshot ``page``, dump its DOM; return the DOM. Asserts a clean load."""
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--no-first-run", "--disable-extensions", f"--user-data-dir={profile}",
              "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
    done = subprocess.run(common + [f"--screenshot={shot}", "--window-size=1280,4000",
                                    "--dump-dom", page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    # every console message (a script error, console.error) is logged as CONSOLE; a page
    # without script has none
    for marker in ("CONSOLE", "Uncaught", "net::ERR", "Failed to load resource"):
        assert marker not in done.stderr, done.stderr[-3000:]
    return done.stdout


def _check_screenshot(shot: Path, name: str) -> None:
    from matplotlib.image import imread
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(shot)
    assert pixels.shape[:2] == (4000, 1280)
    ink = np.mean(pixels[..., :3].min(axis=2) < 0.8)          # not a blank page
    assert ink > 0.02
    artefacts = os.environ.get("PMOSIM_ARTEFACTS")
    if artefacts:
        Path(artefacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artefacts) / name)


def test_report_in_headless_browser(office_report, tmp_path):
    browser = _browser()
    shot = tmp_path / "office-report.png"
    dom = _open_in_browser(browser, office_report, shot, tmp_path / "profile")
    page = Page(dom)
    assert page.title == "Head-office relocation: schedule risk report"
    assert {"summary", "finish", "gantt", "audit"} <= set(page.sections)
    assert len(page.imgs) == 10
    _check_screenshot(shot, "office-report.png")


def test_sp10_report_in_headless_browser(tmp_path):
    """A real imported schedule: 4,006 tasks with long names, calendars and connectors."""
    from pmosim.uncertainty import apply_uncertainty
    source = data_dir("p6", "SP10 - COST LOADED.xer")
    browser = _browser()
    project = apply_uncertainty(pmosim.load(source), ["pert(-10%, 0, +30%)"])
    result = pmosim.simulate(project, 200, seed=1)
    path = write_report(result, tmp_path / "sp10.html", scenario=source.name)
    raw = path.read_text(encoding="utf-8")
    ids = [row[2][0] for row in Page(raw).tables["tasks"][1:]]
    assert len(ids) == 20 and not any("->" in t for t in ids)      # no connector
    shot = tmp_path / "sp10-report.png"
    dom = _open_in_browser(browser, path, shot, tmp_path / "profile")
    assert "schedule risk report" in Page(dom).title
    _check_screenshot(shot, "sp10-report.png")


def test_levelled_report_shows_resources():
    p = pmosim.Project("levelled", start="2027-03-01")
    p.add_resource("crane", capacity=1)
    p.add_task("lift A", pmosim.Triangular(2, 3, 6), resources={"crane": 1})
    p.add_task("lift B", pmosim.Uniform(1, 4), resources={"crane": 1})
    result = pmosim.simulate(p, 200, seed=1, levelling="serial")
    page = Page(report_html(result))
    assert "resources" in page.sections
    rows = page.tables[""]                     # the resource table has no class
    assert any(r[0][0] == "crane" and r[1][0] == "1" for r in rows)
    assert "serial scheme, priority lft" in "".join(page.text)

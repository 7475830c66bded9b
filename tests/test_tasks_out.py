"""Task results out of pmosim (issue 16): the task table as CSV and .xlsx, the CPM
schedule as CSV, and the command line's --csv, --xlsx and --milestone."""

import csv
import datetime as dt
import math
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim import stats
from pmosim.calendar import WorkCalendar
from pmosim.cli import cli
from pmosim.errors import MissingDependencyError, ModelError
from pmosim.io.tasks_out import (DATE_FORMAT, PERCENT_FORMAT, cpm_rows, task_rows,
                                 write_cpm_csv, write_tasks_csv, write_tasks_xlsx)

HOLIDAY = "2027-03-10"
START = dt.date(2027, 3, 1)
QS = (10, 50, 80, 90)


def _dated_project(start=START):
    p = pmosim.Project("tables", start=start,
                       calendar=WorkCalendar(holidays=[HOLIDAY]) if start else None)
    p.add_task("a", pmosim.Triangular(2, 4, 9), name="Fondation, \"béton\"", cost_rate=100.0)
    p.add_task("b", pmosim.Uniform(1, 6))
    p.add_task("c", 3)
    p.add_task("x", 0, kind="connector")
    p.add_task("m", 0, name="Handover")
    p.add_link("a", "b")
    p.add_link("a", "c", type="SS", lag=1)
    p.add_link("b", "x")
    p.add_link("c", "x")
    p.add_link("x", "m")
    return p


@pytest.fixture(scope="module")
def dated():
    return pmosim.simulate(_dated_project(), 500, seed=3)


def _busday(day):
    return np.busday_offset(np.datetime64(START), int(day), roll="raise",
                            busdaycal=np.busdaycalendar(holidays=[HOLIDAY])).item()


def naive_finish_date(t):
    """MS Project's rule: a finish at t ends working day ceil(t) - 1 (day 0 for t = 0)."""
    return _busday(0 if abs(t) < 1e-6 else math.ceil(t - 1e-6) - 1)


def naive_start_date(t):
    return _busday(math.floor(t + 1e-6))


def test_rows_hold_the_results_arrays(dated):
    t = dated.tasks
    rows = task_rows(dated)
    assert [r["id"] for r in rows] == ["a", "b", "c", "m"]      # the connector left out
    assert [r["id"] for r in task_rows(dated, connectors=True)] == ["a", "b", "c", "x", "m"]
    starts, finishes = t.start_percentile(list(QS)), t.finish_percentile(list(QS))
    for row in rows:
        i = t.ids.index(row["id"])
        assert row["name"] == t.names[i] and row["kind"] == t.kinds[i]
        assert row["criticality"] == t.criticality[i]
        assert row["deterministic_start"] == t.deterministic_start[i]
        assert row["deterministic_finish"] == t.deterministic_finish[i]
        for j, q in enumerate(QS):
            assert row[f"start_P{q}"] == starts[i, j]
            assert row[f"finish_P{q}"] == finishes[i, j]
        assert row["finish_mean"] == t.finish_mean[i] and row["finish_std"] == t.finish_std[i]
        for m in ("ci", "si", "ssi", "cri_r", "cri_rho", "cri_tau", "cost_cri_tau"):
            want = getattr(dated.sensitivity, m)[dated.sensitivity.ids.index(row["id"])]
            assert row[m] == want or (math.isnan(row[m]) and math.isnan(want))
    assert rows[-1]["kind"] == "milestone"


def test_dates_follow_the_calendar_rule_with_holidays(dated):
    for row in task_rows(dated):
        for q in QS:
            assert row[f"finish_P{q}_date"] == naive_finish_date(row[f"finish_P{q}"])
            want = (naive_finish_date(row[f"finish_P{q}"]) if row["kind"] == "milestone"
                    else naive_start_date(row[f"start_P{q}"]))
            assert row[f"start_P{q}_date"] == want
        assert row["deterministic_finish_date"] == naive_finish_date(row["deterministic_finish"])
    # task a: 4 planned days from Monday 1 March end on Thursday 4 March; c starts a day
    # after a (SS+1) on Tuesday; the plan of b (3.5 days) runs over the holiday of the 10th
    rows = {r["id"]: r for r in task_rows(dated)}
    assert rows["a"]["deterministic_finish_date"] == dt.date(2027, 3, 4)
    assert rows["c"]["deterministic_start_date"] == dt.date(2027, 3, 2)
    assert rows["b"]["deterministic_finish_date"] == dt.date(2027, 3, 11)


def test_csv_round_trip(dated, tmp_path):
    path = write_tasks_csv(dated, tmp_path / "out" / "tasks.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")          # UTF-8 BOM: Excel reads it as UTF-8
    assert b"\r\n" in raw
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    rows = task_rows(dated)
    assert list(table[0]) == list(rows[0])
    for got, want in zip(table, rows, strict=True):
        for key, value in want.items():
            if isinstance(value, dt.date):
                assert got[key] == value.isoformat()
            elif isinstance(value, float):
                assert (got[key] == "" and math.isnan(value)) or float(got[key]) == value
            else:
                assert got[key] == str(value)
    assert table[0]["name"] == 'Fondation, "béton"'
    assert not list(tmp_path.glob("out/.*.tmp"))


def test_without_a_start_there_are_no_date_columns(tmp_path):
    r = pmosim.simulate(_dated_project(start=None), 200, seed=1)
    rows = task_rows(r, percentiles=(50,))
    assert not any(k.endswith("_date") for k in rows[0])
    assert {"start_P50", "finish_P50"} <= set(rows[0])
    path = write_tasks_csv(r, tmp_path / "t.csv", percentiles=(50,))
    assert "finish_P50_date" not in path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("bad", [(), (120,), ("80",), (float("nan"),)])
def test_bad_percentiles_are_a_clear_error(dated, bad):
    with pytest.raises(ModelError, match="percentiles"):
        task_rows(dated, percentiles=bad)


def test_xlsx_round_trip(dated, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    path = write_tasks_xlsx(dated, tmp_path / "tasks.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tasks", "Summary"]
    ws = wb["Tasks"]
    rows = task_rows(dated)
    keys = list(rows[0])
    header = [c.value for c in ws[1]]
    assert header[:4] == ["ID", "Name", "Kind", "Criticality"]
    assert header[keys.index("finish_P80")] == "P80 finish (days)"
    assert header[keys.index("finish_P80_date")] == "P80 finish (date)"
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(keys)).column_letter}5"
    for r, want in enumerate(rows, start=2):
        for c, key in enumerate(keys, start=1):
            cell = ws.cell(r, c)
            value = want[key]
            if isinstance(value, dt.date):
                assert cell.value.date() == value and cell.number_format == DATE_FORMAT
            elif isinstance(value, float) and math.isnan(value):
                assert cell.value is None
            elif isinstance(value, float):
                # Excel keeps 15 significant digits
                assert cell.value == pytest.approx(value, rel=1e-14, abs=1e-300)
            else:
                assert cell.value == value
        assert ws.cell(r, keys.index("criticality") + 1).number_format == PERCENT_FORMAT
    summary, cost = {}, {}
    for row in wb["Summary"].iter_rows():
        if row[0].value == "Project cost":
            summary, cost = cost, summary         # the cost section follows the finish's
        if row[0].value:
            summary[row[0].value] = [c.value for c in row[1:]]
    summary, cost = cost, summary
    assert summary["P80"][0] == pytest.approx(float(dated.finish.percentile(80)), rel=1e-14)
    assert summary["P80"][1].date() == dated.finish.date(80)
    assert summary["Deterministic"][1].date() == dated.finish.deterministic_date
    assert summary["Iterations"][0] == 500 and summary["Seed"][0] == 3
    assert cost["P80"][0] == pytest.approx(float(dated.cost.percentile(80)), rel=1e-14)
    assert cost["P80"][1] == pytest.approx(float(dated.cost.percentile(80))
                                           - dated.cost.deterministic, rel=1e-12)


def test_xlsx_without_openpyxl_says_what_to_install(dated, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'pmosim\[xlsx\]'"):
        write_tasks_xlsx(dated, tmp_path / "t.xlsx")
    assert not (tmp_path / "t.xlsx").exists()


def test_cpm_csv_is_the_cpm_result(tmp_path):
    project = _dated_project()
    res = pmosim.cpm(project)
    path = write_cpm_csv(res, tmp_path / "cpm.csv", project=project)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["id"] for r in table] == [str(t) for t in res.task_ids]
    for i, row in enumerate(table):
        for key in ("duration", "early_start", "early_finish", "late_start", "late_finish",
                    "total_float"):
            assert float(row[key]) == getattr(res, key)[i]
        assert row["critical"] == ("yes" if res.critical[i] else "no")
        assert row["early_finish_date"] == naive_finish_date(res.early_finish[i]).isoformat()
        if res.duration[i] > 0:
            assert row["early_start_date"] == naive_start_date(res.early_start[i]).isoformat()
        else:   # a milestone shows its start on its finish date
            assert row["early_start_date"] == row["early_finish_date"]
    assert "early_start_date" not in cpm_rows(pmosim.cpm(_dated_project(start=None)))[0]


def test_histogram_cdf_brackets_the_empirical_cdf():
    """The empirical P(finish <= x) lies within the bounds the histogram's counts allow;
    the estimate is within one bin's share of it."""
    p = _dated_project()
    r = pmosim.simulate(p, 2000, seed=11, keep_samples=True)
    t = r.tasks
    for i in range(len(t.ids)):
        f = r.finishes[:, i]
        for x in np.quantile(f, [0.0, 0.1, 0.5, 0.9, 1.0]) + [0.0, 1e-9, 0.0, -1e-9, 0.0]:
            est, low, high = (float(v[i]) for v in stats.histogram_cdf(
                t.finish_hist, t.hist_lo, t.hist_scale, t.finish_min, t.finish_max,
                np.full(len(t.ids), x)))
            empirical = float(np.mean(f <= x))
            assert low - 1e-12 <= empirical <= high + 1e-12
            assert low <= est <= high


# -- command line ---------------------------------------------------------------------------
SCENARIO = f"""\
[project]
name = "tables"
start = "2027-03-01"
[calendar]
holidays = ["{HOLIDAY}"]
[[tasks]]
id = "design"
name = "Detailed design"
duration = {{ dist = "triangular", low = 2, mode = 4, high = 9 }}
[[tasks]]
id = "build"
duration = {{ dist = "uniform", low = 1, high = 6 }}
predecessors = ["design"]
[[tasks]]
id = "M1"
name = "Handover"
duration = 0
predecessors = ["build"]
"""


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_run_writes_csv_and_xlsx_and_prints_the_milestone(scenario, tmp_path):
    pytest.importorskip("openpyxl")
    out = tmp_path / "out"
    res = invoke("run", scenario, "-n", 400, "--seed", 4, "--out", out, "--csv",
                 tmp_path / "t.csv", "--xlsx", tmp_path / "t.xlsx", "--milestone", "M1")
    assert res.exit_code == 0, res.output
    r = pmosim.simulate(pmosim.load(scenario), 400, seed=4)     # the same run, bit for bit
    with open(tmp_path / "t.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [row["id"] for row in table] == ["design", "build", "M1"]
    assert float(table[2]["finish_P80"]) == r.tasks.finish_percentile(80)[2]
    assert (tmp_path / "t.xlsx").stat().st_size > 0
    text = res.output
    block = text[text.index('Milestone M1 "Handover"'):]
    for q in QS:
        line = next(ln for ln in block.splitlines() if ln.strip().startswith(f"P{q} "))
        assert f"{r.tasks.finish_percentile(q)[2]:,.1f}" in line
        assert str(r.tasks.finish_dates(q)[2]) in line
    det = next(ln for ln in block.splitlines() if "Deterministic" in ln)
    assert str(r.tasks.deterministic_finish_dates()[2]) in det
    est = stats.histogram_cdf(r.tasks.finish_hist, r.tasks.hist_lo, r.tasks.hist_scale,
                              r.tasks.finish_min, r.tasks.finish_max,
                              r.tasks.deterministic_finish)[0][2]
    assert f"Chance of finishing by the planned {r.tasks.deterministic_finish_dates()[2]}" \
           in block and f"{100 * est:.1f}%" in block
    assert text.index("Milestone M1") > text.index("Most critical tasks")
    assert str(tmp_path / "t.csv") in text.splitlines()[-1]


def test_milestone_by_name_and_unknown_ids(scenario, tmp_path):
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--milestone", "Handover")
    assert res.exit_code == 0 and 'Milestone M1 "Handover"' in res.output
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--milestone", "M2")
    assert res.exit_code == 1
    assert res.output == "Error: --milestone M2: no task with this id; did you mean M1?\n"
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--milestone", "desing")
    assert res.exit_code == 1 and "did you mean design?" in res.output


def test_unwritable_outputs_name_the_path(scenario, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--csv",
                 blocker / "t.csv")
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: --csv {blocker / 't.csv'}: cannot create the folder")
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--xlsx", tmp_path)
    assert res.exit_code == 2 and "is a directory" in res.output    # click's usage error
    res = invoke("run", scenario, "-n", 100, "--out", tmp_path / "o", "--csv", scenario)
    assert res.exit_code == 1 and "is an input of this run" in res.output


def test_cpm_csv_option(scenario, tmp_path):
    res = invoke("cpm", scenario, "--csv", tmp_path / "s.csv")
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1] == f"Wrote {tmp_path / 's.csv'}"
    with open(tmp_path / "s.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [(r["id"], r["early_finish_date"]) for r in table] == [
        ("design", "2027-03-04"), ("build", "2027-03-11"), ("M1", "2027-03-11")]

"""`pmosim run` with risks, drivers, correlation, branching and costs, through CliRunner:
summary lines, exact errors, exit codes, JSON keys, plots, reproducibility."""

import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from pmosim.cli import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N = "400"

SCENARIO = """\
[project]
name = "Risky CLI"
start = "2027-03-01"
cost_rate = 100
budget = 9000
currency = "EUR"
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 5, mode = 8, high = 15 }
cost_fixed = 1000
[[tasks]]
id = "b"
duration = { dist = "uniform", low = 4, high = 9 }
cost_rate = 200
predecessors = ["a"]
[[tasks]]
id = "c"
duration = { dist = "pert", low = 3, mode = 5, high = 12 }
predecessors = ["a"]
[[tasks]]
id = "d"
duration = { dist = "triangular", low = 2, mode = 3, high = 6 }
predecessors = ["b", "c"]
existence = 0.5
[[tasks]]
id = "e"
duration = 2
predecessors = ["b", "c"]
[[risks]]
id = "R1"
name = "Supplier late"
probability = 0.4
tasks = ["b"]
schedule_impact = { dist = "triangular", low = 2, mode = 4, high = 10 }
cost_impact = 800
mitigated = { probability = 0.1 }
[[risks]]
id = "R2"
probability = 0.2
tasks = ["c"]
schedule_impact = 1
[[drivers]]
id = "D1"
name = "Weather"
probability = 1
factor = { dist = "uniform", low = 1.0, high = 1.2 }
tasks = ["a", "e"]
[[correlations]]
tasks = ["a", "b", "c"]
matrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]
"""

PLAIN = """\
[project]
start = "2027-03-01"
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 2, mode = 4, high = 9 }
"""


@pytest.fixture
def runner():
    return CliRunner()


def write(tmp_path, text, name="plan.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    path = write(tmp, SCENARIO)
    out = tmp / "out"
    res = CliRunner().invoke(cli, ["run", str(path), "-n", N, "--seed", "7", "--out", str(out),
                                   "--target", "25", "--budget", "9,500", "--rank-risks"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res, json.loads((out / "results.json").read_text()), out


def test_help_lists_the_new_options(runner):
    out = invoke(runner, "run", "--help").output
    for option in ("--budget", "--risks [pre|post|none]", "--rank-risks", "--rank-percentile",
                   "--target"):
        assert option in out


def test_json_has_every_new_key(full_run):
    _, doc, _ = full_run
    for key in ("risk_mode", "risks", "risk_ranking", "correlations", "cost", "budget", "jcl",
                "cashflow", "target", "finish", "tasks"):
        assert key in doc, key
    assert doc["risk_mode"] == "pre"
    assert set(doc["cost"]) >= {"deterministic", "mean", "std", "percentiles", "contingency"}
    for k, v in doc["cost"]["contingency"].items():
        assert v == pytest.approx(doc["cost"]["percentiles"][k] - doc["cost"]["deterministic"])
    assert doc["budget"]["value"] == 9500.0 and doc["budget"]["given"] == "9,500"
    assert 0 <= doc["budget"]["probability"] <= 1
    joint = doc["jcl"]["target_and_budget"]
    assert joint["finish"] == 25.0 and joint["cost"] == 9500.0
    assert joint["probability"] <= min(doc["target"]["probability"],
                                       doc["budget"]["probability"]) + 1e-12
    assert set(doc["jcl"]) == {"P50", "P70", "P80", "target_and_budget"}
    cash = doc["cashflow"]
    assert len(cash["dates"]) == len(cash["times"]) == len(cash["percentiles"]["P50"])
    assert cash["dates"][0] == "2027-03-01"


def test_risks_are_merged_with_the_ranking_and_sorted(full_run):
    _, doc, _ = full_run
    risks = doc["risks"]
    assert {r["id"] for r in risks} == {"R1", "R2", "D1"}
    shifts = [r["percentile_shift"] for r in risks]
    assert shifts == sorted(shifts, reverse=True)
    assert [r["rank"] for r in risks] == [1, 2, 3]
    for r in risks:
        assert set(r) >= {"id", "name", "kind", "probability", "occurrence", "mean_impact",
                          "unit", "percentile_shift", "mean_shift"}
    ranking = doc["risk_ranking"]
    assert ranking["percentile"] == 80.0 and ranking["seed"] == 7 and ranking["risk_mode"] == "pre"


def test_summary_prints_risks_repairs_tornado_cost_and_jcl(full_run):
    res, doc, _ = full_run
    out = res.output
    assert "Risk register (before mitigation, --risks pre)" in out
    assert "Supplier late" in out and "driver" in out
    (corr,) = doc["correlations"]
    assert corr["changed"], "the workshop matrix is not PSD and must be repaired"
    for change in corr["changed"]:
        a, b = change["tasks"]
        t, r = change["target"], change["repaired"]
        assert f"  {a} ~ {b}: {t:+.3f} -> {r:+.3f} ({r - t:+.3f})" in out
    assert "Risk tornado: what switching each one off gains (P80 finish" in out
    assert "Project cost (EUR)" in out
    p = doc["budget"]["probability"]
    assert f"Chance of staying within the budget of 9,500 EUR: {100 * p:.1f}%" in out
    j = doc["jcl"]["target_and_budget"]["probability"]
    assert (f"Joint confidence (JCL) of meeting both the target and the budget: "
            f"{100 * j:.1f}%") in out
    assert "70% JCL: finish and cost pairs met together in 70% of iterations" in out


def test_plots_are_written(full_run):
    _, _, out = full_run
    for name in ("finish.png", "criticality.png", "cost.png", "jcl.png", "cashflow.png",
                 "tornado.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5000, name


def test_seed_reproduces_the_json(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    docs = []
    for k in range(2):
        res = invoke(runner, "run", path, "-n", "300", "--seed", "11", "--out", tmp_path / f"o{k}",
                     "--rank-risks", "--target", "2027-04-15")
        assert res.exit_code == 0, res.output
        docs.append((tmp_path / f"o{k}" / "results.json").read_bytes())
    assert docs[0] == docs[1]


def test_mitigated_register_and_budget_from_the_scenario(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    res = invoke(runner, "run", path, "-n", "300", "--seed", "3", "--out", tmp_path / "o",
                 "--risks", "post", "--json", "-")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["risk_mode"] == "post"
    r1 = next(r for r in doc["risks"] if r["id"] == "R1")
    assert r1["probability"] == 0.1
    lo, hi = doc["budget"].pop("probability_ci")
    assert lo <= doc["budget"]["probability"] <= hi
    assert doc["budget"] == {"value": 9000.0, "probability": doc["budget"]["probability"],
                             "given": "9000"}
    assert "target_and_budget" not in doc["jcl"]
    assert "Risk register (after mitigation, --risks post)" in res.stderr


def test_pre_and_post_use_the_same_random_numbers(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    finish = {}
    for mode in ("pre", "post", "none"):
        res = invoke(runner, "run", path, "-n", "300", "--seed", "5", "--risks", mode,
                     "--out", tmp_path / mode, "--json", "-")
        finish[mode] = json.loads(res.stdout)["finish"]["percentiles"]
    # fewer and then no risk events: never a later finish at any percentile
    for key in finish["pre"]:
        assert finish["none"][key] <= finish["post"][key] + 1e-9 <= finish["pre"][key] + 2e-9


def test_rank_percentile_is_used(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    res = invoke(runner, "run", path, "-n", "300", "--seed", "5", "--rank-risks",
                 "--rank-percentile", "50", "--out", tmp_path / "o", "--json", "-")
    doc = json.loads(res.stdout)
    assert doc["risk_ranking"]["percentile"] == 50.0
    assert "P50 shift" in res.stderr


def test_no_costs_no_cost_outputs(runner, tmp_path):
    path = write(tmp_path, PLAIN)
    res = invoke(runner, "run", path, "-n", "200", "--seed", "1", "--out", tmp_path / "o")
    assert res.exit_code == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    for key in ("cost", "budget", "jcl", "cashflow", "risks", "correlations"):
        assert key not in doc
    assert not (tmp_path / "o" / "cost.png").exists()
    assert "Project cost" not in res.output and "Risk register" not in res.output


def test_tiny_run_with_correlation_writes_valid_json(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    res = invoke(runner, "run", path, "-n", "2", "--seed", "1", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["correlations"][0]["achieved"][0][1] is None
    assert "  Too few iterations to measure the achieved correlation" in res.output


@pytest.mark.parametrize("args, code, message", [
    (["--budget", "abc"], 2, "Error: Invalid value for '--budget': 'abc' is not an amount of "
     "money; give a number > 0 like 2400000 (no currency sign; 2,400,000 is fine)"),
    (["--budget", "-5"], 2, "Error: Invalid value for '--budget': '-5' is not an amount of "
     "money; give a number > 0 like 2400000 (no currency sign; 2,400,000 is fine)"),
    (["--budget", "1000"], 1, "Error: --budget 1000: {path} has no costs to compare with a "
     "budget; set cost_fixed or cost_rate on tasks, cost_impact on risks or cost_rate under "
     "[project]"),
    (["--rank-risks"], 1, "Error: --rank-risks: {path} has no risks or drivers to rank; add "
     "[[risks]] or [[drivers]] to the scenario"),
])
def test_errors_on_a_plain_scenario(runner, tmp_path, args, code, message):
    path = write(tmp_path, PLAIN)
    res = runner.invoke(cli, ["run", str(path), "-n", "50", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == code
    assert res.output.strip().splitlines()[-1] == message.format(path=path)


def test_rank_with_risks_off_and_no_drivers_is_an_error(runner, tmp_path):
    path = write(tmp_path, PLAIN + textwrap.dedent("""\
        [[risks]]
        id = "R"
        probability = 0.5
        tasks = ["a"]
        schedule_impact = 2
        """))
    res = runner.invoke(cli, ["run", str(path), "--risks", "none", "--rank-risks",
                              "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert res.output.strip() == (
        f"Error: --rank-risks with --risks none: {path} has no drivers to rank (--risks none "
        "switches every risk event off); use --risks pre or post")


@pytest.mark.parametrize("args", [["--risks", "later"], ["--rank-percentile", "120"]])
def test_bad_option_values_exit_2(runner, tmp_path, args):
    path = write(tmp_path, SCENARIO)
    res = runner.invoke(cli, ["run", str(path), *args])
    assert res.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in res.output


def test_cash_flow_ends_near_the_cost_distribution(full_run):
    _, doc, _ = full_run
    cash = doc["cashflow"]["percentiles"]
    # spend is cumulative: never decreasing along the curve
    for key in ("P10", "P50", "P90"):
        assert np.all(np.diff(cash[key]) >= -1e-6 * max(cash[key]))
    assert cash["P10"][0] == pytest.approx(0.0, abs=1e-9)


def test_validate_names_the_uncertainty_model(runner, tmp_path):
    path = write(tmp_path, SCENARIO)
    res = invoke(runner, "validate", path)
    assert res.exit_code == 0
    assert res.output == (f"{path}: OK (Risky CLI: 5 tasks, 6 links, start 2027-03-01; "
                          "2 risks, 1 driver, 1 correlation group, budget 9,000 EUR)\n")


def test_a_large_scenario_budget_is_given_in_full(runner, tmp_path):
    path = write(tmp_path, SCENARIO.replace("budget = 9000", "budget = 2_600_000"))
    res = invoke(runner, "run", path, "-n", "50", "--seed", "1", "--out", tmp_path / "o",
                 "--json", "-")
    assert json.loads(res.stdout)["budget"]["given"] == "2600000"

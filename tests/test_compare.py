"""``pmosim.compare`` and ``run --compare``: risk registers on the same random numbers.

Each compared run must be bit for bit the plain ``simulate(..., risks=mode)`` run with the
same seed, so the mitigation effect is exactly the difference of two separate runs."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim import plots
from pmosim.cli import cli
from pmosim.engine import parse_modes
from pmosim.errors import SimulationError

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "office-move-risks.toml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N = 2_048
TARGET = "2027-11-30"
BUDGET = 2_400_000.0


@pytest.fixture(scope="module")
def office():
    return pmosim.load(SCENARIO)


@pytest.fixture(scope="module")
def separate(office):
    return {m: pmosim.simulate(office, N, seed=7, risks=m) for m in ("pre", "post", "none")}


@pytest.fixture(scope="module")
def comparison(office):
    return pmosim.compare(office, "pre,post,none", N, seed=7, target=TARGET, budget=BUDGET)


def test_parse_modes():
    assert parse_modes("pre,post") == ("pre", "post")
    assert parse_modes(" POST , pre ") == ("post", "pre")
    assert parse_modes(("pre", "post", "none")) == ("pre", "post", "none")
    with pytest.raises(SimulationError, match="at least two modes, got 'pre'"):
        parse_modes("pre")
    with pytest.raises(SimulationError, match="name 'pre' twice in 'pre,post,pre'"):
        parse_modes("pre,post,pre")
    with pytest.raises(SimulationError, match="must be among pre, post, none, got 'mitigated'"):
        parse_modes("pre,mitigated")
    with pytest.raises(SimulationError, match="must be among"):
        parse_modes("pre,")


def test_each_run_is_the_separate_run(comparison, separate):
    assert comparison.modes == ("pre", "post", "none") and comparison.seed == 7
    for mode in comparison.modes:
        mine, plain = comparison.result(mode), separate[mode]
        assert mine.risk_mode == mode
        np.testing.assert_array_equal(mine.finish.samples, plain.finish.samples)
        np.testing.assert_array_equal(mine.cost.samples, plain.cost.samples)
        assert mine.to_dict() == plain.to_dict()


def test_mitigation_effect_is_the_exact_difference(comparison, separate):
    deltas = comparison.deltas()
    assert set(deltas) == {"post", "none"}
    pre = separate["pre"]
    target = pre.finish.to_time(TARGET)
    for mode in ("post", "none"):
        other = separate[mode]
        d = deltas[mode]
        for q in (10, 50, 80, 90):
            assert d["finish"][f"P{q}"] == (float(other.finish.percentile(q))
                                            - float(pre.finish.percentile(q)))
            assert d["cost"][f"P{q}"] == (float(other.cost.percentile(q))
                                          - float(pre.cost.percentile(q)))
        assert d["finish"]["mean"] == other.finish.mean - pre.finish.mean
        assert d["target_probability"] == (other.finish.probability_le(target)
                                           - pre.finish.probability_le(target))
        assert d["budget_probability"] == (other.cost.probability_le(BUDGET)
                                           - pre.cost.probability_le(BUDGET))
        assert d["jcl"] == other.jcl(target, BUDGET) - pre.jcl(target, BUDGET)
    # mitigation and switching risks off can only help on the same random numbers
    assert deltas["post"]["finish"]["P80"] < 0 and deltas["none"]["finish"]["P80"] < 0
    assert np.all(separate["none"].finish.samples <= pre.finish.samples + 1e-9)


def test_common_random_numbers_make_the_difference_precise(comparison, separate):
    # the paired interval of the mean change is far narrower than two independent runs'
    lo, hi = comparison.paired_mean_ci("post")
    d = separate["post"].finish.samples - separate["pre"].finish.samples
    assert lo < d.mean() < hi
    independent = 2 * 1.96 * np.sqrt(2 * separate["pre"].finish.std ** 2 / N)
    assert hi - lo < independent / 2


def test_to_dict(comparison):
    doc = comparison.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["modes"] == ["pre", "post", "none"] and doc["baseline"] == "pre"
    assert doc["iterations"] == N and doc["seed"] == 7 and doc["budget"] == BUDGET
    pre = doc["runs"]["pre"]
    assert set(pre["finish"]) >= {"mean", "P10", "P50", "P80", "P90", "percentile_ci", "dates",
                                  "mean_date"}
    for key in ("target_probability", "budget_probability", "jcl"):
        lo, hi = pre[key + "_ci"]
        assert lo <= pre[key] <= hi
    post = doc["deltas"]["post"]
    dates = {m: doc["runs"][m]["finish"]["dates"] for m in ("pre", "post")}
    import datetime as dt
    for k, days in post["finish_calendar_days"].items():
        assert days == (dt.date.fromisoformat(dates["post"][k])
                        - dt.date.fromisoformat(dates["pre"][k])).days
    lo, hi = post["finish_mean_ci"]
    assert lo <= post["finish"]["mean"] <= hi


def test_seed_none_is_drawn_once(office):
    c = pmosim.compare(office, ("pre", "none"), 512)
    plain = pmosim.simulate(office, 512, seed=c.seed, risks="none")
    np.testing.assert_array_equal(c.result("none").finish.samples, plain.finish.samples)


def test_errors(office):
    plain = pmosim.Project()
    plain.add_task("a", pmosim.Uniform(1, 2))
    with pytest.raises(SimulationError, match="the project has no risk events"):
        pmosim.compare(plain, "pre,post", 100)
    with pytest.raises(SimulationError, match="risks= is set by modes="):
        pmosim.compare(office, "pre,post", 100, risks="post")
    plain.add_risk("r", 0.5, ["a"], schedule_impact=1)
    with pytest.raises(SimulationError, match="the project has no costs to compare with a budget"):
        pmosim.compare(plain, "pre,none", 100, budget=10)
    with pytest.raises(ValueError, match="mode 'post' was not compared"):
        pmosim.compare(plain, "pre,none", 100, seed=1).result("post")


def test_s_curves(comparison):
    ax = plots.s_curves(comparison.results, ["pre", "post", "none"], target=150.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 4 and labels[0].startswith("pre: P80 ")
    assert ax.get_xlabel() == "Project finish date (finish at end of day)"
    with pytest.raises(ValueError, match="one label per result"):
        plots.s_curves(comparison.results, ["pre"])


# -- CLI --------------------------------------------------------------------------------------
def invoke(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_compare(tmp_path, separate):
    out = tmp_path / "o"
    res = invoke(["run", str(SCENARIO), "--compare", "pre,post", "-n", str(N), "--seed", "7",
                  "--target", TARGET, "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "results.json").read_text())
    comp = doc["compare"]
    assert comp["modes"] == ["pre", "post"] and doc["risk_mode"] == "pre"
    p80 = (float(separate["post"].finish.percentile(80))
           - float(separate["pre"].finish.percentile(80)))
    assert comp["deltas"]["post"]["finish"]["P80"] == p80
    assert doc["finish"]["percentiles"]["P80"] == float(separate["pre"].finish.percentile(80))
    assert (out / "compare.png").read_bytes().startswith(PNG_SIGNATURE)
    assert ("Risk registers compared on the same random numbers (2,048 iterations each, "
            "seed 7): pre = before mitigation; post = after mitigation") in res.output
    lines = res.output.splitlines()
    table = lines[next(i for i, x in enumerate(lines) if x.startswith("Risk registers")):]
    row = next(line for line in table if line.startswith("  P80 "))
    days = comp["deltas"]["post"]["finish_calendar_days"]["P80"]
    assert row.endswith(f"{p80:+,.1f} ({days:+d})")
    assert comp["runs"]["pre"]["finish"]["dates"]["P80"] in row
    assert "Target met" in res.output and "compare.png" in res.output


@pytest.mark.parametrize("args, code, message", [
    (["--compare", "pre"], 2, "Invalid value for '--compare': compare needs at least two "
                              "modes, got 'pre'"),
    (["--compare", "pre,later"], 2, "must be among pre, post, none, got 'later'"),
    (["--compare", "pre,post", "--risks", "post"], 1,
     "Error: --risks post with --compare pre,post: --compare runs every register it names; "
     "leave --risks out"),
    (["--compare", "pre,post", "--precision", "1"], 1,
     "Error: --precision with --compare: the compared registers run with one iteration count"),
])
def test_cli_compare_errors(tmp_path, args, code, message):
    res = invoke(["run", str(SCENARIO), "-n", "100", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == code, res.output
    assert message in res.output and "Traceback" not in res.output


def test_cli_compare_needs_risks(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('[project]\nname = "p"\n[[tasks]]\nid = "a"\nduration = 3\n')
    res = invoke(["run", str(path), "--compare", "pre,none", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert f"Error: --compare pre,none: {path} has no risk events" in res.output

"""Confidence intervals of P-values and probabilities, the too-few-iterations warning, and
``simulate_to_precision`` / ``run --precision``.

The interval functions are checked against a naive exact-rational binomial reference,
hand-computed small cases, and coverage measured on repeated samples from known
distributions (tolerance: 3 binomial standard errors of the coverage estimate)."""

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import binom

import pmosim
from pmosim import stats
from pmosim.cli import cli
from pmosim.errors import SimulationError
from pmosim.io.json_out import results_dict

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
REPS = 400


def naive_ranks(n, q, level):
    """Order-statistic ranks by exact rational binomial sums (no scipy)."""
    p = Fraction(q).limit_denominator(10**6) / 100
    tail = (1 - Fraction(level).limit_denominator(10**6)) / 2
    pmf = [math.comb(n, k) * p**k * (1 - p)**(n - k) for k in range(n + 1)]
    cdf = [sum(pmf[:k + 1]) for k in range(n + 1)]
    below = max([j for j in range(n + 1) if cdf[j] <= tail], default=-1)
    # smallest s with P(B >= s) <= tail; P(B >= n + 1) = 0
    s = min(s for s in range(1, n + 2) if (1 - cdf[s - 1] if s >= 1 else 1) <= tail)
    return below + 1, s


def one_task(dist, start=None):
    p = pmosim.Project("one", start=start)
    p.add_task("a", dist)
    return p


# -- quantile_ci ---------------------------------------------------------------------------
def test_quantile_ci_small_n_by_hand():
    # Bin(10, 1/2): P(B <= 1) = 11/1024 <= 0.025 < P(B <= 2) = 56/1024, symmetric above
    assert stats.quantile_ci_ranks(10, 50) == (2, 9, 1 - 22 / 1024)
    # n = 6: P(B = 0) = 1/64: [min, max] covers the median with 62/64
    assert stats.quantile_ci_ranks(6, 50) == (1, 6, 1 - 2 / 64)
    # n = 5: even [min, max] covers only 30/32 < 95 %: unbounded both ways
    assert stats.quantile_ci_ranks(5, 50) == (0, 6, 1.0)
    x = np.random.default_rng(0).permutation(np.arange(1.0, 11.0))
    assert stats.quantile_ci(x, 50) == (2.0, 9.0)
    assert stats.quantile_ci(x[:5], 50) == (-np.inf, np.inf)
    # P90 of 10 samples at 80 %, B ~ Bin(10, 0.9): P(B <= 7) = 0.0702 <= 0.1 < P(B <= 8)
    # = 0.2639 -> r = 8; P(B >= 10) = 0.3487 > 0.1: no order statistic bounds it above
    assert stats.quantile_ci_ranks(10, 90, 0.8)[:2] == (8, 11)
    assert stats.quantile_ci(x, 90, 0.8) == (8.0, np.inf)


@pytest.mark.parametrize("n, q, level", [(1, 50, 0.95), (7, 0, 0.95), (7, 100, 0.9),
                                         (20, 80, 0.95), (37, 10, 0.9), (60, 99, 0.95),
                                         (100, 80, 0.99), (250, 50, 0.5)])
def test_quantile_ci_ranks_match_exact_binomial(n, q, level):
    r, s, coverage = stats.quantile_ci_ranks(n, q, level)
    assert (r, s) == naive_ranks(n, q, level)
    assert coverage >= level
    p = q / 100
    exact = sum(math.comb(n, k) * p**k * (1 - p)**(n - k) for k in range(max(r, 0), s))
    assert coverage == pytest.approx(exact, abs=1e-12)


def test_quantile_ci_vector_and_order_statistics():
    x = np.random.default_rng(1).normal(size=1_000)
    lo, hi = stats.quantile_ci(x, [10, 50, 80])
    xs = np.sort(x)
    for j, q in enumerate((10, 50, 80)):
        r, s, _ = stats.quantile_ci_ranks(1_000, q)
        assert lo[j] == xs[r - 1] and hi[j] == xs[s - 1]
        assert lo[j] <= np.percentile(x, q) <= hi[j]


@pytest.mark.parametrize("q", [50, 80, 95])
def test_quantile_ci_coverage_uniform(q):
    level, n = 0.95, 200
    rng = np.random.default_rng(q)
    u = rng.random((REPS, n))
    covered = 0
    for row in u:
        lo, hi = stats.quantile_ci(row, q, level)
        covered += lo <= q / 100 <= hi
    exact = stats.quantile_ci_ranks(n, q, level)[2]
    se = math.sqrt(level * (1 - level) / REPS)
    assert covered / REPS >= level - 3 * se
    # for a continuous distribution the coverage is exactly `exact`: not looser than that
    assert abs(covered / REPS - exact) <= 3 * math.sqrt(exact * (1 - exact) / REPS)


def test_quantile_ci_coverage_with_ties():
    # a discrete distribution: the closed interval stays conservative
    level, n, q = 0.9, 50, 80
    rng = np.random.default_rng(5)
    values = rng.integers(0, 4, size=(REPS, n)).astype(float)
    true_q = 3.0      # P(X <= 2) = 0.75 < 0.8 <= P(X <= 3)
    covered = sum(stats.quantile_ci(row, q, level)[0] <= true_q
                  <= stats.quantile_ci(row, q, level)[1] for row in values)
    assert covered / REPS >= level - 3 * math.sqrt(level * (1 - level) / REPS)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, float("nan"), "high", None])
def test_bad_level(bad):
    with pytest.raises(ValueError, match="level must be a confidence level between 0 and 1"):
        stats.quantile_ci(np.arange(10.0), 50, bad)
    with pytest.raises(ValueError, match="level must be"):
        stats.proportion_ci(1, 10, bad)


def test_bad_inputs():
    with pytest.raises(ValueError, match="percentiles must be within 0..100"):
        stats.quantile_ci(np.arange(10.0), 101)
    with pytest.raises(ValueError, match="at least one sample"):
        stats.quantile_ci(np.array([]), 50)
    with pytest.raises(ValueError, match="need 0 <= k <= n"):
        stats.proportion_ci(11, 10)
    with pytest.raises(ValueError, match="need 0 <= k <= n"):
        stats.proportion_ci(0, 0)
    with pytest.raises(ValueError, match="k must be a whole number"):
        stats.proportion_ci(2.5, 10)


# -- proportion_ci -------------------------------------------------------------------------
def test_proportion_ci_closed_forms():
    n, a = 10, 0.05
    assert stats.proportion_ci(0, n) == (0.0, pytest.approx(1 - (a / 2) ** (1 / n), rel=1e-12))
    assert stats.proportion_ci(n, n) == (pytest.approx((a / 2) ** (1 / n), rel=1e-12), 1.0)
    lo, hi = stats.proportion_ci(5, 10)
    # the defining equations of Clopper-Pearson
    assert binom.sf(4, 10, lo) == pytest.approx(a / 2, abs=1e-12)
    assert binom.cdf(5, 10, hi) == pytest.approx(a / 2, abs=1e-12)


def test_proportion_ci_exact_coverage_on_a_grid():
    # coverage summed over every k: at least the level for every p (Clopper-Pearson's promise)
    n, level = 30, 0.95
    bounds = [stats.proportion_ci(k, n, level) for k in range(n + 1)]
    for p in np.linspace(0.001, 0.999, 181):
        coverage = sum(binom.pmf(k, n, p) for k, (lo, hi) in enumerate(bounds) if lo <= p <= hi)
        assert coverage >= level - 1e-12, p


def test_proportion_ci_coverage_by_simulation():
    level, n, p = 0.95, 400, 0.7
    k = np.random.default_rng(9).binomial(n, p, size=REPS)
    covered = sum(lo <= p <= hi for lo, hi in (stats.proportion_ci(int(x), n, level) for x in k))
    assert covered / REPS >= level - 3 * math.sqrt(level * (1 - level) / REPS)


def test_suggested_iterations_scaling():
    assert stats.suggested_iterations(10_000, 2.0, 1.0, margin=1.0, multiple=1) == 40_000
    assert stats.suggested_iterations(10_000, 2.0, 1.0) == 48_128      # x1.2, to 512s
    assert stats.suggested_iterations(10_000, 0.5, 1.0) == 10_240      # never fewer than n
    assert stats.suggested_iterations(1_024, np.inf, 1.0) == 16_384


# -- results API and JSON ------------------------------------------------------------------
@pytest.fixture(scope="module")
def costed():
    p = pmosim.Project("ci", start="2027-03-01")
    p.add_task("a", pmosim.Triangular(5, 8, 15), cost_rate=100.0)
    p.add_task("b", pmosim.Uniform(4, 9), cost_fixed=500.0)
    p.add_link("a", "b")
    p.add_risk("R1", 0.3, ["b"], schedule_impact=3, cost_impact=400.0)
    return pmosim.simulate(p, 3_000, seed=4)


def test_result_intervals_match_stats(costed):
    fin, cost = costed.finish, costed.cost
    assert fin.percentile_ci(80) == stats.quantile_ci(fin.samples, 80)
    lo, hi = fin.percentile_ci([10, 90], 0.9)
    assert (lo[1], hi[1]) == stats.quantile_ci(fin.samples, 90, 0.9)
    assert cost.percentile_ci(50) == stats.quantile_ci(cost.samples, 50)
    k = int(np.count_nonzero(fin.samples <= 15.0))
    assert fin.probability_ci(15.0) == stats.proportion_ci(k, 3_000)
    # a date counts to the end of that working day
    day = "2027-03-19"
    assert fin.probability_ci(day) == fin.probability_ci(fin.to_time(day))
    lo, hi = fin.probability_ci(day)
    assert lo <= fin.probability_le(day) <= hi
    ok = (fin.samples <= 16.0) & (cost.samples <= 2_500.0)
    assert costed.jcl_ci(16.0, 2_500.0) == stats.proportion_ci(int(ok.sum()), 3_000)
    assert costed.jcl_ci("2027-03-22", 2_500.0) == costed.jcl_ci(fin.to_time("2027-03-22"),
                                                                 2_500.0)
    first, last = fin.date_ci(80)
    assert first <= fin.date(80) <= last


def test_json_intervals(costed):
    doc = results_dict(costed, target={"value": 16.0, "given": "16"},
                       budget={"value": 2_500.0, "given": "2500"})
    json.dumps(doc, allow_nan=False)
    for key in ("finish", "cost"):
        sec = doc[key]
        assert sec["ci_level"] == 0.95
        assert list(sec["percentile_ci"]) == list(sec["percentiles"])
        for k, (lo, hi) in sec["percentile_ci"].items():
            assert lo <= sec["percentiles"][k] <= hi
    assert list(doc["finish"]["dates_ci"]) == list(doc["finish"]["dates"])
    for k, (first, last) in doc["finish"]["dates_ci"].items():
        assert first <= doc["finish"]["dates"][k] <= last
    for entry in (doc["target"], doc["budget"], doc["jcl"]["target_and_budget"]):
        lo, hi = entry["probability_ci"]
        assert lo <= entry["probability"] <= hi


def test_json_unbounded_ends_are_null():
    r = pmosim.simulate(one_task(pmosim.Uniform(1, 2)), 20, seed=1)
    ci = r.to_dict()["finish"]["percentile_ci"]
    assert ci["P1"][0] is None and ci["P99"][1] is None
    assert ci["P50"][0] is not None


# -- simulate_to_precision ------------------------------------------------------------------
@pytest.fixture(scope="module")
def office():
    return pmosim.load(SCENARIOS / "office-move-risks.toml")


def test_precision_bit_identical_and_deterministic(office):
    run = pmosim.simulate_to_precision(office, 2.0, seed=11)
    again = pmosim.simulate_to_precision(office, 2.0, seed=11)
    assert run.steps == again.steps
    counts = [n for n, _ in run.steps]
    assert counts[0] == 2048 and all(b > a for a, b in zip(counts, counts[1:]))
    assert all(n % 512 == 0 for n in counts)
    assert run.reached and run.width <= 2.0 and run.steps[-1][1] == run.width
    assert all(w > 2.0 for _, w in run.steps[:-1])
    plain = pmosim.simulate(office, run.iterations, seed=11)
    assert run.result.seed == 11 and run.iterations == counts[-1]
    np.testing.assert_array_equal(run.result.finish.samples, plain.finish.samples)
    np.testing.assert_array_equal(run.result.cost.samples, plain.cost.samples)
    np.testing.assert_array_equal(run.result.tasks.criticality, plain.tasks.criticality)
    assert run.result.to_dict() == plain.to_dict()
    lo, hi = plain.finish.percentile_ci(80)
    assert run.interval == (lo, hi)


def test_precision_next_count_follows_sqrt_law(office):
    run = pmosim.simulate_to_precision(office, 1.0, seed=2, max_iterations=200_000)
    (n0, w0), (n1, _) = run.steps[:2]
    assert n1 == stats.suggested_iterations(n0, w0, 1.0, margin=1.2, multiple=512)


def test_precision_capped(office):
    run = pmosim.simulate_to_precision(office, 0.05, seed=3, max_iterations=5_000)
    assert not run.reached and run.iterations == 5_000 and run.width > 0.05
    assert [n for n, _ in run.steps] == [2048, 5000]
    d = run.to_dict()
    assert d["reached"] is False and d["iterations"] == 5_000 and d["max_iterations"] == 5_000


def test_precision_seed_none_is_resolved_once():
    p = one_task(pmosim.Triangular(10, 12, 20))
    run = pmosim.simulate_to_precision(p, 0.05, seed=None, max_iterations=6_000)
    assert len(run.steps) == 2
    plain = pmosim.simulate(p, run.iterations, seed=run.result.seed)
    np.testing.assert_array_equal(run.result.finish.samples, plain.finish.samples)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "wide", True, None])
def test_precision_bad_value(bad):
    with pytest.raises(SimulationError, match="precision must be a number of working days > 0"):
        pmosim.simulate_to_precision(one_task(1.0), bad)


def test_precision_bad_settings():
    p = one_task(pmosim.Uniform(1, 2))
    with pytest.raises(SimulationError, match=r"start_iterations \(4,096\) is more than "
                                              r"max_iterations \(1,000\)"):
        pmosim.simulate_to_precision(p, 1.0, start_iterations=4096, max_iterations=1000)
    with pytest.raises(SimulationError, match="max_iterations must be"):
        pmosim.simulate_to_precision(p, 1.0, max_iterations=0)
    with pytest.raises(SimulationError, match="iterations= is chosen by this function"):
        pmosim.simulate_to_precision(p, 1.0, iterations=100)


# -- CLI --------------------------------------------------------------------------------------
NARROW = """\
[project]
name = "Narrow"
start = "2027-03-01"
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 10, mode = 10, high = 11 }
"""


@pytest.fixture()
def narrow(tmp_path):
    path = tmp_path / "narrow.toml"
    path.write_text(NARROW)
    return path


def invoke(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_cli_summary_shows_intervals_and_no_warning_when_precise(narrow, tmp_path):
    res = invoke(["run", str(narrow), "-n", "4000", "--seed", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "95% interval" in res.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    lo, hi = doc["finish"]["percentile_ci"]["P80"]
    assert "  P80 " in res.output and f"\u00b1{(hi - lo) / 2:.1f}" in res.output
    assert "too few for the reported digits" not in res.output


def test_cli_warns_when_too_few_iterations(tmp_path):
    scen = SCENARIOS / "office-move-risks.toml"
    res = invoke(["run", str(scen), "-n", "500", "--seed", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    lo, hi = doc["finish"]["percentile_ci"]["P80"]
    first, last = doc["finish"]["dates_ci"]["P80"]
    assert f"\u00b1{(hi - lo) / 2:.1f}  {first} to {last}" in res.output
    line = next(x for x in res.stderr.splitlines() if x.startswith("Warning: 500 iterations"))
    assert (f"are too few for the reported digits: P80 is only known to within "
            f"\u00b1{(hi - lo) / 2:.1f} working days") in line
    need = int(line.split("use -n ")[1].split()[0].replace(",", ""))
    # 1/sqrt(n) law: the full width shrinks to one working day at about n (width / 1)^2
    assert need >= 500 * (hi - lo) ** 2


def test_cli_precision(narrow, tmp_path):
    out = tmp_path / "o"
    res = invoke(["run", str(narrow), "--precision", "0.02", "--seed", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "results.json").read_text())
    prec = doc["precision"]
    assert prec["reached"] and prec["width"] <= 0.02 and prec["precision"] == 0.02
    assert doc["iterations"] == prec["iterations"] == prec["steps"][-1]["iterations"]
    assert prec["steps"][0]["iterations"] == 2048
    assert (f"Precision: the P80 finish is known to within {prec['width']:.2f} working days"
            in res.output)
    plain = invoke(["run", str(narrow), "-n", str(doc["iterations"]), "--seed", "3", "--out",
                    str(tmp_path / "p")])
    assert plain.exit_code == 0, plain.output
    assert json.loads((tmp_path / "p" / "results.json").read_text())["finish"] == doc["finish"]


def test_cli_precision_starts_at_n_and_caps(narrow, tmp_path):
    res = invoke(["run", str(narrow), "--precision", "0.001", "-n", "1000", "--max-iterations",
                  "3000", "--seed", "3", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    prec = json.loads((tmp_path / "o" / "results.json").read_text())["precision"]
    assert [s["iterations"] for s in prec["steps"]] == [1024, 3000] and not prec["reached"]
    assert "Warning: stopped at --max-iterations 3,000 with the P80 finish known only" in (
        res.stderr)


@pytest.mark.parametrize("args, code, message", [
    (["--precision", "0"], 2, "Invalid value for '--precision': 0.0 is not a width"),
    (["--precision", "nan"], 2, "Invalid value for '--precision': nan is not a width"),
    (["--precision", "-1"], 2, "Invalid value for '--precision': -1.0 is not a width"),
    (["--max-iterations", "5000"], 1,
     "Error: --max-iterations 5,000 caps a --precision run; without --precision give the "
     "iterations with -n"),
    (["--precision", "1", "-n", "9000", "--max-iterations", "5000"], 1,
     "Error: -n 9,000 is more than --max-iterations 5,000"),
])
def test_cli_precision_errors(narrow, tmp_path, args, code, message):
    res = invoke(["run", str(narrow), "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == code
    assert message in res.output
    assert "Traceback" not in res.output


def test_cli_warns_about_a_probability(tmp_path):
    path = tmp_path / "uniform.toml"
    path.write_text('[project]\nname = "u"\n[[tasks]]\nid = "a"\n'
                    'duration = { dist = "uniform", low = 10, high = 11 }\n')
    res = invoke(["run", str(path), "-n", "1000", "--seed", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    fin = doc["finish"]
    k = round(1000 * float(np.mean(
        pmosim.simulate(pmosim.load(path), 1000, seed=1).finish.samples <= fin["deterministic"])))
    lo, hi = stats.proportion_ci(k, 1000)
    line = next(x for x in res.stderr.splitlines() if x.startswith("Warning:"))
    assert line.startswith(
        "Warning: 1,000 iterations are too few for the reported digits: the chance of finishing "
        f"by the deterministic finish is only known to within \u00b1{50 * (hi - lo):.1f} "
        "percentage points (95%); use -n ")
    assert "--precision" not in line

"""``pmosim run --status-date DATE --learn``: the learning re-forecast on the command line
(:func:`pmosim.reforecast.apply_learning`), against the library's :func:`reforecast`, on
one and two threads, into the run history, and its errors."""

import json

import pytest
from click.testing import CliRunner

import pmosim
from pmosim import history
from pmosim.cli import cli
from pmosim.evm import select_period
from pmosim.io.json_out import results_dict
from pmosim.reforecast import COST_RISK_ID, learn, reforecast

# a and b took 7 and 6 working days for 5 planned, a cost 800 for 700 at its rate
SCENARIO = """\
[project]
name = "Late works"
start = "2027-03-01"
currency = "EUR"

[status]
date = "2027-03-17"
name = "P3"

[[tasks]]
id = "a"
wbs = "1.1"
duration = { dist = "triangular", low = 4, mode = 5, high = 7 }
cost_rate = 100
actual_start = 2027-03-01
actual_finish = 2027-03-09
actual_cost = 800

[[tasks]]
id = "b"
wbs = "1.2"
duration = 5
predecessors = ["a"]
actual_start = 2027-03-10
actual_finish = 2027-03-17

[[tasks]]
id = "c"
wbs = "2.1"
duration = { dist = "triangular", low = 4, mode = 5, high = 8 }
cost_fixed = 500
cost_rate = 50
predecessors = ["b"]

[[tasks]]
id = "d"
wbs = "2.2"
duration = 5
cost_rate = 80
predecessors = ["c"]
"""
N = 512


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def invoke(*args, catch=False):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=catch)


def _interval(post) -> str:
    lo, hi = post.interval(0.8)
    return f"{post.median:.3f} (80 % interval {lo:.3f}-{hi:.3f})"


def test_learn_is_the_librarys_reforecast_and_is_recorded(scenario, tmp_path):
    res = invoke("run", scenario, "-n", N, "--seed", 9, "--status-date", "latest", "--learn",
                 "--out", tmp_path / "o", "--record")
    assert res.exit_code == 0, res.output
    project = pmosim.load(scenario)
    period = select_period(project, project.meta["status"], "latest")
    learned = learn(project, period)
    lines = res.output.splitlines()
    k = lines.index("Learning re-forecast from 2 finished and 0 in-progress tasks (Bayesian, "
                    "docs/tracking.md):")
    assert lines[k + 1] == (f"  duration factor {_interval(learned.duration)} on the "
                            "remaining durations")
    assert lines[k + 2] == (f"  cost factor {_interval(learned.cost)} on the remaining "
                            "costs, from the actual costs of 1 task")
    assert learned.duration.median > 1.05         # both tasks ran late: it learned that
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["reforecast"] == {"method": "bayes", "period": "P3",
                                 "status_date": "2027-03-17",
                                 "learned": json.loads(json.dumps(learned.to_dict()))}
    # the same forecast as the library's, bit for bit
    rf = reforecast(project, project.meta["status"], iterations=N, seed=9)
    lib = json.loads(json.dumps(results_dict(rf.result, scenario=scenario)))
    assert doc["finish"] == lib["finish"] and doc["cost"] == lib["cost"]
    assert doc["jcl"] == lib["jcl"]
    # recorded with its method and what it learned; a plain re-forecast beside it
    res = invoke("run", scenario, "-n", N, "--seed", 9, "--status-date", "latest",
                 "--out", tmp_path / "o", "--record")
    assert res.exit_code == 0, res.output
    assert "Learning re-forecast" not in res.output
    plain_doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert plain_doc["reforecast"] == {"method": "plain", "period": "P3",
                                       "status_date": "2027-03-17", "learned": None}
    bayes_run, plain_run = history.load_runs(tmp_path / "pmosim.db", "Late works")
    assert (bayes_run["method"], plain_run["method"]) == ("bayes", "plain")
    assert bayes_run["learned"] == doc["reforecast"]["learned"]
    assert bayes_run["finish_p80"] == doc["finish"]["percentiles"]["P80"]
    assert bayes_run["evm"] == doc["evm"] and bayes_run["status_date"] == "2027-03-17"
    res = invoke("history", scenario, "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    rows = res.output.splitlines()[2:4]
    assert rows[0].split()[-4:-2] == ["bayes", f"{learned.duration.median:.3f}"]
    assert rows[1].split()[-4:-2] == ["plain", "-"]


def test_learn_gives_the_same_bits_on_one_and_two_threads(scenario, tmp_path):
    docs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        # two chunks of the threads backend (1,024 iterations): one on each thread
        res = invoke("run", scenario, "-n", 4 * N, "--seed", 21, "--threads", threads,
                     "--status-date", "2027-03-20", "--learn", "--out", out)
        assert res.exit_code == 0, res.output
        docs.append((out / "results.json").read_text())
    assert docs[0] == docs[1]
    assert json.loads(docs[0])["reforecast"]["method"] == "bayes"


def test_learn_groups_and_risks_none(scenario, tmp_path):
    res = invoke("run", scenario, "-n", 256, "--seed", 3, "--status-date", "latest",
                 "--learn", "--learn-groups", "wbs", "--risks", "none", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    project = pmosim.load(scenario)
    learned = learn(project, project.meta["status"][-1], groups="wbs")
    # a and b are in WBS 1; nothing of WBS 2 has started: it takes the project's factor
    assert list(learned.duration_groups) == ["1"]
    assert (f"  WBS 1: duration factor {_interval(learned.duration_groups['1'])}, 2 tasks"
            in res.output.splitlines())
    assert (f"  Note: --risks none also leaves out the cost factor's uncertainty (risk event "
            f"{COST_RISK_ID}); the costs keep its median") in res.output
    doc = json.loads((tmp_path / "results.json").read_text())
    groups = doc["reforecast"]["learned"]["duration_groups"]
    assert [(g["group"], g["n"]) for g in groups] == [("1", 2)]
    assert doc["reforecast"]["learned"]["settings"]["groups"] == "wbs"


def test_learn_errors_say_what_to_add(scenario, tmp_path):
    res = invoke("run", scenario, "-n", 100, "--learn", "--out", tmp_path, catch=True)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert res.output == ("Error: --learn: the learning re-forecast learns from a status "
                          "update's actuals; add --status-date DATE (the latest update on or "
                          "before DATE) or --status-date latest\n")
    res = invoke("run", scenario, "-n", 100, "--status-date", "latest", "--learn-groups",
                 "wbs", "--out", tmp_path, catch=True)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert res.output == ("Error: --learn-groups wbs: group factors are part of the learning "
                          "re-forecast; add --learn (with --status-date)\n")
    res = invoke("run", scenario, "-n", 100, "--status-date", "latest", "--learn",
                 "--learn-groups", "phase", "--out", tmp_path, catch=True)
    assert res.exit_code == 2 and "'phase' is not 'wbs'" in res.output
    assert not (tmp_path / "results.json").exists()

"""Scenario files with the uncertainty model and costs: every key read, every error exact,
and end-to-end checks of what the engine makes of them (tolerances k * sigma / sqrt(n))."""

import math
import textwrap

import numpy as np
import pytest

import pmosim
from pmosim.distributions import Fixed, Triangular, Uniform
from pmosim.errors import ScenarioError
from pmosim.io.scenario import PROJECT_KEYS, load_scenario, scenario_problems
from pmosim.model import Condition

K = 5

BASE = """\
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 1, mode = 2, high = 4 }
[[tasks]]
id = "b"
duration = { dist = "uniform", low = 1, high = 3 }
predecessors = ["a"]
[[tasks]]
id = "c"
duration = 2
"""

FULL = """\
[project]
name = "Full"
start = "2027-03-01"
cost_rate = { dist = "uniform", low = 100, high = 200 }
budget = 50_000
currency = "EUR"

[[tasks]]
id = "a"
duration = { dist = "triangular", low = 1, mode = 2, high = 4 }
cost_fixed = 1000
cost_rate = { dist = "triangular", low = 50, mode = 60, high = 90 }
[[tasks]]
id = "b"
duration = { dist = "uniform", low = 1, high = 3 }
predecessors = ["a"]
existence = 0.4
[[tasks]]
id = "c"
duration = { dist = "pert", low = 2, mode = 3, high = 6 }
predecessors = ["a"]
when = { task = "a", finish_after = 2.5 }
[[tasks]]
id = "d"
duration = 4
predecessors = ["b", "c"]
[[tasks]]
id = "e"
duration = 1
predecessors = ["d"]
[[tasks]]
id = "f"
duration = 2
predecessors = ["d"]

[[risks]]
id = "R1"
name = "Late approval"
probability = 0.3
tasks = ["a", "b"]
schedule_impact = { dist = "triangular", low = 1, mode = 2, high = 5 }
cost_impact = 500
mitigated = { probability = 0.1, cost_impact = 200 }
[[risks]]
id = 7
probability = 0.2
tasks = ["d"]
schedule_impact = { pct = 25 }

[[drivers]]
id = "D1"
name = "Productivity"
probability = 0.5
factor = { dist = "uniform", low = 1.0, high = 1.2 }
tasks = ["a", "d"]

[[correlations]]
tasks = ["a", "c"]
coefficient = 0.5
repair = false

[[branches]]
id = "finish"
options = [
    { probability = 0.6, tasks = ["e"] },
    { probability = 0.4, tasks = ["f"], when = { task = "d", start_after = 3 } },
]
"""


def write(tmp_path, text, name="plan.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_key_is_read(tmp_path):
    p = load_scenario(write(tmp_path, FULL))
    assert p.cost_rate == Uniform(100, 200)
    assert p.meta["budget"] == 50_000.0 and p.meta["currency"] == "EUR"
    a, b, c = (p.graph.nodes[t] for t in "abc")
    assert a["cost_fixed"] == Fixed(1000) and a["cost_rate"] == Triangular(50, 60, 90)
    assert b["existence"] == 0.4
    assert c["when"] == Condition("a", "finish_after", 2.5)

    r1, r7 = p.risks["R1"], p.risks["7"]
    assert r1.name == "Late approval" and r1.tasks == ("a", "b")
    assert r1.pre.probability == 0.3 and r1.pre.schedule_impact.dist == Triangular(1, 2, 5)
    assert r1.pre.cost_impact == Fixed(500)
    assert r1.post.probability == 0.1 and r1.post.cost_impact == Fixed(200)
    assert r1.post.schedule_impact == r1.pre.schedule_impact      # not mitigated: kept
    assert r7.pre.schedule_impact.pct and r7.pre.schedule_impact.dist == Fixed(25)
    assert r7.post is None

    (driver,) = p.drivers.values()
    assert (driver.id, driver.name, driver.probability, driver.tasks) == (
        "D1", "Productivity", 0.5, ("a", "d"))
    assert driver.factor == Uniform(1.0, 1.2)
    (corr,) = p.correlations
    assert corr.tasks == ("a", "c") and not corr.repair
    np.testing.assert_array_equal(corr.matrix, [[1, 0.5], [0.5, 1]])
    (branch,) = p.branches.values()
    assert [(o.probability, o.tasks) for o in branch.options] == [(0.6, ("e",)), (0.4, ("f",))]
    assert branch.options[1].when == Condition("d", "start_after", 3.0)
    result = pmosim.simulate(p, 500, seed=1)
    assert result.cost is not None and [r.id for r in result.risks] == ["R1", "7", "D1"]


def test_csv_columns_existence_and_costs(tmp_path):
    (tmp_path / "t.csv").write_text(
        "id,dist,low,mode,high,existence,cost_fixed,cost_rate\n"
        "a,triangular,1,2,4,,100,\n"
        "b,triangular,1,2,4,0.25,,10\n", encoding="utf-8")
    p = load_scenario(write(tmp_path, '[project]\ntasks_csv = "t.csv"\n'))
    assert p.graph.nodes["a"]["cost_fixed"] == Fixed(100)
    assert p.graph.nodes["b"]["existence"] == 0.25
    assert p.graph.nodes["b"]["cost_rate"] == Fixed(10)
    assert p.graph.nodes["a"]["duration"] == Triangular(1, 2, 4)


def test_csv_bad_existence_names_line(tmp_path):
    (tmp_path / "t.csv").write_text("id,duration,existence,cost_fixed\na,3,2,\nb,3,,-1\n",
                                    encoding="utf-8")
    path = write(tmp_path, '[project]\ntasks_csv = "t.csv"\n')
    label = str(tmp_path / "t.csv")
    assert scenario_problems(path) == [
        f'{label}: line 2 ("a"): existence must be between 0 and 1 (0.3 means 30%), got 2.0',
        f'{label}: line 3 ("b"): cost_fixed: costs must be >= 0, got -1',
    ]


ERRORS = [
    ('[[risks]]\nid = "R1"\nprobability = 1.5\ntasks = ["a"]\nschedule_impact = 3\n',
     'risks[0] ("R1"): probability must be between 0 and 1 (0.3 means 30%), got 1.5'),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["aa"]\nschedule_impact = 3\n',
     "risks[0] (\"R1\"): tasks[0]: unknown task 'aa'; did you mean 'a'?"),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\n',
     'risks[0] ("R1"): a risk needs schedule_impact, cost_impact or both '
     '(what happens when it occurs)'),
    ('[[risks]]\nprobability = 0.5\ntasks = ["a"]\nschedule_impact = 3\n',
     "risks[0]: missing 'id'; give every risk a unique id such as id = \"R1\""),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\n'
     'schedule_impact = { dist = "triangular", low = 5, mode = 1, high = 9 }\n',
     'risks[0] ("R1"): schedule_impact: triangular needs low <= mode <= high, got 5, 1, 9'),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\n'
     'schedule_impact = { pct = 10, extra = 1 }\n',
     "risks[0] (\"R1\"): schedule_impact: a percentage impact has only the key 'pct', like "
     "{ pct = 10 } or { pct = { dist = \"triangular\", low = 5, mode = 10, high = 30 } }; "
     "got {'pct': 10, 'extra': 1}"),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\nschedule_impact = 3\n'
     'mitigated = { probabilty = 0.1 }\n',
     "risks[0] (\"R1\"): mitigated: unknown key 'probabilty'; did you mean 'probability'? "
     "(allowed: probability, schedule_impact, cost_impact)"),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\nschedule_impact = 3\n'
     'mitigated = { probability = 2 }\n',
     'risks[0] ("R1"): mitigated: probability must be between 0 and 1 (0.3 means 30%), got 2'),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\nschedule_impact = 3\n'
     '[[drivers]]\nid = "R1"\nprobability = 1\nfactor = 1.1\ntasks = ["a"]\n',
     "drivers[0] (\"R1\"): duplicate id 'R1' (already used by risks[0]); "
     "risk and driver ids must be unique"),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["a"]\nschedule_impact = 3\nimpact = 4\n',
     "risks[0] (\"R1\"): unknown key 'impact'; did you mean 'cost_impact'? (allowed: id, name, "
     "probability, tasks, schedule_impact, cost_impact, mitigated)"),
    ('[[drivers]]\nid = "D1"\nprobability = 1\nfactor = { dist = "uniform", low = -1, high = 2 }\n'
     'tasks = ["a"]\n',
     'drivers[0] ("D1"): factor uniform(-1, 2) can be negative; a duration multiplier must '
     'be >= 0 (1 means no change)'),
    ('[[drivers]]\nid = "D1"\nprobability = 1\ntasks = ["a"]\n',
     "drivers[0] (\"D1\"): missing 'factor'; give the multiplier of the durations, e.g. "
     'factor = { dist = "triangular", low = 0.95, mode = 1.05, high = 1.3 }'),
    ('[[correlations]]\ntasks = ["a", "b"]\ncoefficient = 1.2\n',
     "correlations[0] (a, b): coefficient must be a number within -1..1, got 1.2"),
    ('[[correlations]]\ntasks = ["a"]\ncoefficient = 0.5\n',
     'correlations[0]: tasks must be a list of at least 2 task ids like ["design", "build"], '
     "got ['a']"),
    ('[[correlations]]\ntasks = ["a", "b"]\ncoefficient = 0.5\nmatrix = [[1, 0.5], [0.5, 1]]\n',
     "correlations[0] (a, b): give either coefficient (one Spearman coefficient for every "
     "pair) or matrix (a full matrix), not both"),
    ('[[correlations]]\ntasks = ["a", "b"]\nmatrix = [[1, 0.5], [0.4, 1]]\n',
     "correlations[0] (a, b): matrix must be symmetric: matrix[0][1] = 0.5 but "
     "matrix[1][0] = 0.4"),
    ('[[correlations]]\ntasks = ["a", "b"]\nmatrix = [[1, 0.5]]\n',
     "correlations[0] (a, b): matrix must be 2 rows of 2 numbers (one row and column per "
     "task, in the order of tasks), got [[1, 0.5]]"),
    ('[[correlations]]\ntasks = ["a", "c"]\ncoefficient = 0.5\n',
     "correlations[0] (a, c): task 'c' has a fixed duration, so it cannot be correlated with "
     "anything; give it a distribution or leave it out of the group"),
    ('[[tasks]]\nid = "d"\nduration = { dist = "uniform", low = 1, high = 3 }\n'
     '[[correlations]]\ntasks = ["a", "b", "d"]\n'
     'matrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]\nrepair = false\n',
     "correlations[0] (a, b, d): the matrix is not positive semi-definite (smallest "
     "eigenvalue -0.8), so no set of durations can have these correlations; fix the "
     "coefficients, or set repair = true to use the nearest valid matrix (the run reports "
     "every change)"),
    ('[[correlations]]\ntasks = ["a", "b"]\ncoefficient = 0.5\n'
     '[[correlations]]\ntasks = ["b", "a"]\ncoefficient = 0.2\n',
     "correlations[1] (b, a): task 'b' is already in correlations[0]; a task can be in one "
     "correlation group only: merge the two groups into one with a matrix"),
    ('[[branches]]\nid = "x"\n'
     'options = [{ probability = 0.6, tasks = ["a"] }, { probability = 0.3, tasks = ["b"] }]\n',
     'branches[0] ("x"): option probabilities add up to 0.9; exactly one option is taken in '
     "each iteration, so they must add up to 1"),
    ('[[branches]]\nid = "x"\noptions = [{ probability = 0.5, tasks = ["b"] }, '
     '{ probability = 0.5, tasks = ["c"], when = { task = "b", finish_after = 3 } }]\n',
     "branches[0] (\"x\"): options[1]: when: task 'b' is not a predecessor (direct or "
     "indirect) of 'c', so its dates are not known when 'c' is scheduled; link 'b' before "
     "'c' or drop the condition"),
    ('[[branches]]\nid = "x"\noptions = [{ probability = 0.5, tasks = ["b"] }, '
     '{ probability = 0.5, tasks = ["c"], when = { task = "a", finish_later = 3 } }]\n',
     "branches[0] (\"x\"): options[1]: when: unknown key 'finish_later'; did you mean "
     "'finish_after'? (allowed: task, finish_after, finish_before, start_after, start_before)"),
    ('[[branches]]\nid = "x"\noptions = [{ probability = 0.5, tasks = ["a"] }, '
     '{ probability = 0.5, tasks = ["b"] }]\n[[branches]]\nid = "y"\n'
     'options = [{ probability = 0.5, tasks = ["a"] }, { probability = 0.5, tasks = ["c"] }]\n',
     "branches[1] (\"y\"): options[0]: task 'a' is already in branches[0] (\"x\"): options[0]; "
     "a task can be in one branch option only"),
    ('[[tasks]]\nid = "d"\nduration = 1\nexistence = 1.2\n',
     'tasks[3] ("d"): existence must be between 0 and 1 (0.3 means 30%), got 1.2'),
    ('[[tasks]]\nid = "d"\nduration = 1\ncost_fixed = -5\n',
     'tasks[3] ("d"): cost_fixed: costs must be >= 0, got -5'),
    ('[[tasks]]\nid = "d"\nduration = 1\ncost_rate = { dist = "uniform", low = -5, high = 5 }\n',
     'tasks[3] ("d"): cost_rate: uniform(-5, 5) can be negative (low end -5); durations and '
     'costs must be >= 0'),
    ('[[tasks]]\nid = "d"\nduration = 1\nwhen = { task = "c", finish_after = 2 }\n',
     "tasks[3] (\"d\"): when: task 'c' is not a predecessor (direct or indirect) of 'd', so "
     "its dates are not known when 'd' is scheduled; link 'c' before 'd' or drop the "
     "condition"),
    ('[[tasks]]\nid = "d"\nduration = 1\npredecessors = ["b"]\n'
     'when = { task = "bb", finish_after = 2 }\n',
     "tasks[3] (\"d\"): when: unknown task 'bb'; did you mean 'b'?"),
    ('[[tasks]]\nid = "d"\nduration = 1\nwhen = { task = "a" }\n',
     "tasks[3] (\"d\"): when: a condition needs 'task' and exactly one of finish_after, "
     "finish_before, start_after, start_before; got {'task': 'a'}"),
    ('[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = "a"\nschedule_impact = 3\n'
     '[[risks]]\nid = "R1"\nprobability = 0.5\ntasks = ["b"]\nschedule_impact = 3\n',
     "risks[1] (\"R1\"): duplicate id 'R1' (already used by risks[0]); risk and driver ids "
     "must be unique"),
    ('[[risks]]\nid = "R1"\n', "risks[0] (\"R1\"): missing 'probability'; give the chance "
     "that the risk occurs in 0..1, e.g. probability = 0.3"),
    ("risks = 3\n", "risks: must be an array of tables: write each one under [[risks]]"),
]


@pytest.mark.parametrize("extra, message", ERRORS)
def test_error_texts(tmp_path, extra, message):
    path = write(tmp_path, extra + BASE if extra.startswith("risks =") else BASE + extra)
    problems = scenario_problems(path)
    assert problems[0] == f"{path}: {message}"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: {message}")


@pytest.mark.parametrize("project, message", [
    ("budget = -3", "project.budget: must be a number > 0 (the total cost budget), got -3"),
    ("budget = 1000", "project.budget: the scenario has no costs to compare with the budget; "
     "set cost_fixed or cost_rate on tasks, cost_impact on risks or cost_rate under "
     "[project], or remove the budget"),
    ('currency = 5', 'project.currency: must be text like "EUR", got 5'),
    ("cost_rate = -1", "project.cost_rate: costs must be >= 0, got -1"),
    ("cost_rat = 1", "project: unknown key 'cost_rat'; did you mean 'cost_rate'? (allowed: "
     "name, start, time_unit, tasks_csv, cost_rate, budget, currency, levelling, priority, "
     f"{', '.join(PROJECT_KEYS[9:])})"),
])
def test_project_cost_errors(tmp_path, project, message):
    path = write(tmp_path, f"[project]\n{project}\n" + BASE)
    assert scenario_problems(path) == [f"{path}: {message}"]


def test_every_problem_is_listed(tmp_path):
    path = write(tmp_path, BASE + (
        '[[risks]]\nid = "R1"\nprobability = 2\ntasks = ["zz"]\nschedule_impact = 3\n'
        '[[drivers]]\nid = "D1"\nprobability = 1\nfactor = 1.1\ntasks = ["a"]\nxyz = 1\n'))
    assert scenario_problems(path) == [
        f'{path}: risks[0] ("R1"): probability must be between 0 and 1 (0.3 means 30%), got 2',
        f"{path}: risks[0] (\"R1\"): tasks[0]: unknown task 'zz'; no task has that id",
        f"{path}: drivers[0] (\"D1\"): unknown key 'xyz' (allowed: id, name, probability, "
        "factor, tasks)",
    ]


# -- what the engine makes of a scenario ------------------------------------------------

def test_scenario_risk_gives_the_two_point_finish(tmp_path):
    path = write(tmp_path, """\
        [[tasks]]
        id = "a"
        duration = 10
        [[risks]]
        id = "R"
        probability = 0.3
        tasks = ["a"]
        schedule_impact = 5
        mitigated = { probability = 0.1 }
        """)
    p = load_scenario(path)
    n = 20_000
    for mode, prob in (("pre", 0.3), ("post", 0.1), ("none", 0.0)):
        f = pmosim.simulate(p, n, seed=3, risks=mode).finish.samples
        assert set(np.unique(f)) <= {10.0, 15.0}
        tol = K * math.sqrt(prob * (1 - prob) / n) + 1e-12
        assert abs(np.mean(f == 15.0) - prob) <= tol, mode


def test_scenario_branch_and_existence_frequencies(tmp_path):
    path = write(tmp_path, """\
        [[tasks]]
        id = "a"
        duration = 1
        [[tasks]]
        id = "x"
        duration = 2
        predecessors = ["a"]
        [[tasks]]
        id = "y"
        duration = 3
        predecessors = ["a"]
        [[tasks]]
        id = "z"
        duration = 4
        existence = 0.25
        [[branches]]
        id = "b"
        options = [{ probability = 0.7, tasks = ["x"] }, { probability = 0.3, tasks = ["y"] }]
        """)
    p = load_scenario(path)
    n = 20_000
    r = pmosim.simulate(p, n, seed=4, keep_samples=True)
    d = r.durations
    x, y, z = (d[:, r.task_ids.index(t)] > 0 for t in "xyz")
    assert np.all(x ^ y)                              # exactly one option each iteration
    for got, prob in ((x, 0.7), (z, 0.25)):
        assert abs(np.mean(got) - prob) <= K * math.sqrt(prob * (1 - prob) / n)


def test_scenario_costs_are_fixed_plus_rate_times_duration(tmp_path):
    path = write(tmp_path, """\
        [project]
        cost_rate = 10
        [[tasks]]
        id = "a"
        duration = { dist = "uniform", low = 4, high = 8 }
        cost_fixed = 100
        cost_rate = 20
        """)
    r = pmosim.simulate(load_scenario(path), 2_000, seed=5, keep_samples=True)
    # one task: the project lasts as long as the task, so rate 20 + 10 per day
    np.testing.assert_allclose(r.cost.samples, 100 + 30 * r.durations[:, 0], rtol=1e-12)


def test_conditional_task_exists_exactly_when_its_condition_holds(tmp_path):
    path = write(tmp_path, """\
        [[tasks]]
        id = "a"
        duration = { dist = "uniform", low = 0, high = 10 }
        [[tasks]]
        id = "late"
        duration = 3
        predecessors = ["a"]
        when = { task = "a", finish_after = 6 }
        """)
    r = pmosim.simulate(load_scenario(path), 5_000, seed=6, keep_samples=True)
    a, late = r.finishes[:, 0], r.durations[:, 1]
    np.testing.assert_array_equal(late > 0, a > 6)

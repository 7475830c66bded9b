"""Scenario files: the issue's example, predecessor notation, distributions, CSV, errors."""

import datetime as dt
import textwrap

import networkx as nx
import numpy as np
import pytest

import pmosim
from pmosim.calendar import WorkCalendar
from pmosim.distributions import (
    Discrete, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen, Uniform,
)
from pmosim.errors import ModelError, ScenarioError
from pmosim.io.scenario import (
    CSV_COLUMNS, TASK_KEYS, TOP_KEYS, load_scenario, parse_lag, parse_predecessor,
    scenario_problems,
)

# The example of issue 3, verbatim.
EXAMPLE = '''\
[project]
name = "Warehouse fit-out"
start = "2027-03-01"            # first working day; optional (without it results stay in working days)
time_unit = "days"              # working days
[calendar]
workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]
holidays = ["2027-04-05", "2027-05-13"]

[[tasks]]
id = "design"
name = "Detailed design"
duration = { dist = "pert", low = 10, mode = 15, high = 30 }
[[tasks]]
id = "permit"
duration = { dist = "triangular", low = 20, mode = 25, high = 60 }
predecessors = ["design"]
[[tasks]]
id = "procure"
duration = { dist = "uniform", low = 15, high = 25 }
predecessors = ["design SS+5"]
[[tasks]]
id = "build"
duration = 40
planned = 40
predecessors = ["permit", "procure FF-2"]
[[tasks]]
id = "handover"
duration = { dist = "fixed", value = 0 }    # a milestone
predecessors = ["build"]
'''


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def example(tmp_path):
    return write(tmp_path, EXAMPLE, "example.toml")


def test_issue_example_loads_unchanged(example):
    p = load_scenario(example)
    assert p.name == "Warehouse fit-out"
    assert p.start == dt.date(2027, 3, 1)
    assert p.time_unit == "days"
    assert p.calendar == WorkCalendar(holidays=["2027-04-05", "2027-05-13"])
    assert p.meta["source"] == str(example)
    assert p.tasks == ["design", "permit", "procure", "build", "handover"]
    g = p.graph
    assert g.nodes["design"]["name"] == "Detailed design"
    assert g.nodes["design"]["duration"] == Pert(10, 15, 30)
    assert g.nodes["permit"]["duration"] == Triangular(20, 25, 60)
    assert g.nodes["procure"]["duration"] == Uniform(15, 25)
    assert g.nodes["build"]["duration"] == Fixed(40) and g.nodes["build"]["planned"] == 40
    assert g.nodes["handover"]["duration"] == Fixed(0)
    assert {(u, v): (d["type"], d["lag"]) for u, v, d in g.edges(data=True)} == {
        ("design", "permit"): ("FS", 0.0),
        ("design", "procure"): ("SS", 5.0),
        ("permit", "build"): ("FS", 0.0),
        ("procure", "build"): ("FF", -2.0),
        ("build", "handover"): ("FS", 0.0),
    }
    assert pmosim.load(example).tasks == p.tasks


def test_issue_example_deterministic_finish_and_dates_by_hand(example):
    # Planned durations: design = PERT mode 15, permit = triangular mode 25,
    # procure = uniform (no mode) mean (15+25)/2 = 20, build = planned 40, handover 0.
    #   design   ES 0                          EF 15
    #   permit   FS after design: ES 15        EF 40
    #   procure  SS+5 after design: ES 5       EF 25
    #   build    FS after permit: ES >= 40; FF-2 after procure: EF >= 23 -> ES 40, EF 80
    #   handover ES = EF = 80                  -> project finish 80 working days
    # Late pass: procure only needs EF <= LF(build) + 2 = 82, capped by the project
    # finish 80: LF 80, LS 60, total float 55; every other task has float 0.
    # Dates, Mon-Fri from Mon 2027-03-01 (working day 0), holidays Mon 2027-04-05 and
    # Thu 2027-05-13. Working days by week:
    #   Mar 1-5: 0-4, Mar 8-12: 5-9, Mar 15-19: 10-14, Mar 22-26: 15-19,
    #   Mar 29-Apr 2: 20-24, Apr 6-9 (5th off): 25-28, Apr 12-16: 29-33, Apr 19-23: 34-38,
    #   Apr 26-30: 39-43, May 3-7: 44-48, May 10-12 + 14 (13th off): 49-52,
    #   May 17-21: 53-57, May 24-28: 58-62, May 31-Jun 4: 63-67, Jun 7-11: 68-72,
    #   Jun 14-18: 73-77, Jun 21-25: 78-82.
    # A finish at t shows on day ceil(t)-1, a start at t on day floor(t):
    #   design finish t=15 -> day 14 = Fri Mar 19; permit start 15 -> day 15 = Mon Mar 22;
    #   permit finish 40 -> day 39 = Mon Apr 26; build start 40 -> day 40 = Tue Apr 27;
    #   procure start 5 -> Mon Mar 8, finish 25 -> day 24 = Fri Apr 2;
    #   project finish 80 -> day 79 = Tue Jun 22 (the handover milestone's day too).
    p = load_scenario(example)
    res = pmosim.cpm(p)
    assert res.finish == 80.0
    rows = {r["id"]: r for r in res.rows()}
    expect = {"design": (0, 15, 0), "permit": (15, 40, 0), "procure": (5, 25, 55),
              "build": (40, 80, 0), "handover": (80, 80, 0)}
    for task_id, (es, ef, tf) in expect.items():
        assert (rows[task_id]["early_start"], rows[task_id]["early_finish"],
                rows[task_id]["total_float"]) == (es, ef, tf)
    assert res.critical_path == ["design", "permit", "build", "handover"]
    cal = p.calendar
    starts, finishes = cal.task_dates(p.start, res.early_start, res.early_finish)
    by_id = {t: (str(s), str(f)) for t, s, f in zip(res.task_ids, starts, finishes)}
    assert by_id == {
        "design": ("2027-03-01", "2027-03-19"),
        "permit": ("2027-03-22", "2027-04-26"),
        "procure": ("2027-03-08", "2027-04-02"),
        "build": ("2027-04-27", "2027-06-22"),
        "handover": ("2027-06-22", "2027-06-22"),
    }
    assert cal.finish_dates(p.start, res.finish) == dt.date(2027, 6, 22)


def test_bundled_default_is_the_issue_example(example):
    from pmosim.cli import default_scenario
    a, b = load_scenario(default_scenario()), load_scenario(example)
    assert (a.name, a.start, a.calendar) == (b.name, b.start, b.calendar)
    assert nx.utils.graphs_equal(a.graph, b.graph)


@pytest.mark.parametrize("text, expected", [
    ("design", ("design", "FS", 0.0)),
    ("design SS+5", ("design", "SS", 5.0)),
    ("procure FF-2", ("procure", "FF", -2.0)),
    ("3FS+2d", ("3", "FS", 2.0)),
    ("3SF-1.5days", ("3", "SF", -1.5)),
    ("a ss + 4 day", ("a", "SS", 4.0)),
    ("a+3", ("a", "FS", 3.0)),
    ("  a  FF  ", ("a", "FF", 0.0)),
    ("a FS+.5", ("a", "FS", 0.5)),
])
def test_parse_predecessor(text, expected):
    assert parse_predecessor(text) == expected


def test_parse_predecessor_prefers_known_ids():
    known = {"boss", "phase-2", "class"}
    assert parse_predecessor("boss", known) == ("boss", "FS", 0.0)
    assert parse_predecessor("boss+2", known) == ("boss", "FS", 2.0)
    assert parse_predecessor("bossSS", known) == ("boss", "SS", 0.0)
    assert parse_predecessor("phase-2", known) == ("phase-2", "FS", 0.0)
    assert parse_predecessor("phase-2 FF-1", known) == ("phase-2", "FF", -1.0)
    assert parse_predecessor("class", known) == ("class", "FS", 0.0)


@pytest.mark.parametrize("text, message", [
    ("a FS+50%", "predecessor 'a FS+50%': percentage lags are not supported"),
    ("a FS+3w", "predecessor 'a FS+3w': lag unit 'w' is not supported; lags are in working days"),
    ("a FS+3ed", "predecessor 'a FS+3ed': lag unit 'ed' is not supported"),
    ("SS+3", "cannot read predecessor 'SS+3'; write ID[TYPE][+/-LAG]"),
])
def test_parse_predecessor_errors(text, message):
    with pytest.raises(ModelError) as err:
        parse_predecessor(text)
    assert str(err.value).startswith(message)


def test_parse_lag():
    assert parse_lag("5") == 5.0 and parse_lag("-2d") == -2.0 and parse_lag("+3 days") == 3.0
    with pytest.raises(ModelError, match="cannot read lag 'FS'"):
        parse_lag("FS")


DISTS = [
    ('{ dist = "fixed", value = 3 }', Fixed(3)),
    ("3.5", Fixed(3.5)),
    ('{ dist = "uniform", low = 1, high = 4 }', Uniform(1, 4)),
    ('{ dist = "triangular", low = 1, mode = 2, high = 4 }', Triangular(1, 2, 4)),
    ('{ dist = "pert", low = 1, mode = 2, high = 4 }', Pert(1, 2, 4)),
    ('{ dist = "pert", low = 1, mode = 2, high = 4, lamb = 3 }', Pert(1, 2, 4, lamb=3)),
    ('{ dist = "trigen", low = 4, mode = 5, high = 8 }', Trigen(4, 5, 8)),
    ('{ dist = "trigen", low = 4, mode = 5, high = 8, low_pct = 5, high_pct = 95 }',
     Trigen(4, 5, 8, 5, 95)),
    ('{ dist = "normal", mean = 5, sd = 1 }', Normal(5, 1)),
    ('{ dist = "lognormal", mean = 5, sd = 2 }', LogNormal(5, 2)),
    ('{ dist = "exponential", mean = 5 }', Exponential(5)),
    ('{ dist = "discrete", values = [1, 2, 5], weights = [1, 2, 1] }',
     Discrete((1, 2, 5), (1, 2, 1))),
    ('{ dist = "PERT", low = 1, mode = 2, high = 4 }', Pert(1, 2, 4)),
]


@pytest.mark.parametrize("spec, dist", DISTS)
def test_distribution_tables(tmp_path, spec, dist):
    p = load_scenario(write(tmp_path, f'[[tasks]]\nid = "a"\nduration = {spec}\n'))
    assert p.graph.nodes["a"]["duration"] == dist
    assert p.start is None and p.calendar == WorkCalendar() and p.name == "s"


def test_link_tables_integer_ids_and_lag_distributions(tmp_path):
    path = write(tmp_path, '''
        [[tasks]]
        id = 1
        duration = 2
        [[tasks]]
        id = 2
        duration = 3
        predecessors = [1]
        [[tasks]]
        id = "c"
        duration = 1
        predecessors = [{ id = 1, type = "ss", lag = "2d" },
                        { id = "2", type = "SF", lag = { dist = "uniform", low = 0, high = 2 } }]
        ''')
    p = load_scenario(path)
    assert p.tasks == ["1", "2", "c"]
    assert p.graph.edges["1", "2"] == {"type": "FS", "lag": 0.0}
    assert p.graph.edges["1", "c"] == {"type": "SS", "lag": 2.0}
    assert p.graph.edges["2", "c"] == {"type": "SF", "lag": Uniform(0, 2)}


def test_csv_sidecar(tmp_path):
    (tmp_path / "tasks.csv").write_text(
        "\ufeffID,Name,dist,low,mode,high,duration,predecessors,notes,values,weights\n"
        "a,Alpha,triangular,1,2,4,,,first task,,\n"
        "b,,,,,,3,\"a SS+1, a2\",,,\n"
        "\n"
        "a2,,discrete,,,,,a,,1;2;3,1;1;2\n", encoding="utf-8")
    path = write(tmp_path, '''
        [project]
        tasks_csv = "tasks.csv"
        [[tasks]]
        id = "end"
        duration = 0
        predecessors = ["b"]
        ''')
    p = load_scenario(path)
    assert p.tasks == ["a", "b", "a2", "end"]
    assert p.graph.nodes["a"]["duration"] == Triangular(1, 2, 4)
    assert p.graph.nodes["a"]["name"] == "Alpha"
    assert p.graph.nodes["b"]["duration"] == Fixed(3)
    assert p.graph.nodes["a2"]["duration"] == Discrete((1, 2, 3), (1, 1, 2))
    assert p.graph.edges["a", "b"] == {"type": "SS", "lag": 1.0}
    assert set(p.graph.in_edges("b")) == {("a", "b"), ("a2", "b")}
    # a (mode 2) 0-2, a2 (mode 3) after a 2-5, b (3) after a SS+1 and a2: 5-8
    assert pmosim.cpm(p).finish == 8.0


def problems_of(tmp_path, text, name="s.toml"):
    path = write(tmp_path, text, name)
    return [line.removeprefix(f"{path}: ") for line in scenario_problems(path)]


def test_the_issues_error_text(tmp_path):
    path = write(tmp_path, '''
        [[tasks]]
        id = "a"
        duration = 1
        [[tasks]]
        id = "b"
        duration = 1
        [[tasks]]
        id = "c"
        duration = 1
        [[tasks]]
        id = "permit"
        duration = { dist = "triangular", low = 20, mode = 10, high = 60 }
        ''')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (
        f'{path}: tasks[3] ("permit"): triangular needs low <= mode <= high, got 20, 10, 60')
    assert err.value.problems == [str(err.value)]


@pytest.mark.parametrize("body, expected", [
    ('[[tasks]]\nid = "design"\nduration = 1\n[[tasks]]\nid = "b"\nduration = 1\n'
     'predecessors = ["desing SS+2"]\n',
     """tasks[1] ("b"): predecessors[0]: unknown predecessor 'desing'; did you mean 'design'?"""),
    ('[[tasks]]\nid = "a"\nduration = 1\npredecessors = ["zzz"]\n',
     """tasks[0] ("a"): predecessors[0]: unknown predecessor 'zzz'; no task has that id"""),
    ('[[tasks]]\nid = "a"\n',
     """tasks[0] ("a"): missing 'duration'; give working days (duration = 5) or a distribution """
     """(duration = { dist = "triangular", low = 3, mode = 5, high = 9 })"""),
    ('[[tasks]]\nduration = 1\n',
     """tasks[0]: missing 'id'; give every task a unique id such as id = "design\""""),
    ('[[tasks]]\nid = "a"\nduration = 1\ndurration = 2\n',
     """tasks[0] ("a"): unknown key 'durration'; did you mean 'duration'? """
     """(allowed: id, name, duration, planned, predecessors, existence, when, """
     """cost_fixed, cost_rate, actual_cost, release, fixed_start, fixed_finish, wbs, resources, """
     f"""priority, {', '.join(TASK_KEYS[16:])})"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "tringular", low = 1, mode = 2, high = 3 }\n',
     """tasks[0] ("a"): duration: unknown dist 'tringular'; did you mean 'triangular'? """
     """(use one of fixed, uniform, triangular, pert, trigen, normal, lognormal, exponential, """
     """discrete)"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "pert", low = 1, high = 3 }\n',
     """tasks[0] ("a"): pert needs low, mode, high; missing mode"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "pert", low = 1, mode = 2, high = 3, lambda = 2 }\n',
     """tasks[0] ("a"): pert takes low, mode, high, lamb; unknown key 'lambda'; did you mean 'lamb'?"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "uniform", low = "1", high = 3 }\n',
     """tasks[0] ("a"): uniform: low must be a number, got '1'"""),
    ('[[tasks]]\nid = "a"\nduration = -2\n',
     """tasks[0] ("a"): duration must be >= 0, got -2"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "uniform", low = -1, high = 3 }\n',
     """tasks[0] ("a"): duration uniform(low=-1.0, high=3.0) has a low end of -1; """
     """durations must be >= 0"""),
    ('[[tasks]]\nid = "a"\nduration = { dist = "normal", mean = -1, sd = 3 }\n',
     """tasks[0] ("a"): duration normal(mean=-1.0, sd=3.0) has a negative mean; """
     """durations must be >= 0"""),
    ('[[tasks]]\nid = "a"\nduration = 1\nplanned = -1\n',
     """tasks[0] ("a"): planned must be a number of working days >= 0, got -1"""),
    ('[[tasks]]\nid = "a"\nduration = 1\n[[tasks]]\nid = "a"\nduration = 2\n',
     """tasks[1]: duplicate id 'a' (already used by tasks[0]); task ids must be unique"""),
    ('[[tasks]]\nid = "a"\nduration = 1\npredecessors = ["a"]\n',
     """tasks[0] ("a"): predecessors[0]: task 'a' cannot be its own predecessor"""),
    ('[[tasks]]\nid = "a"\nduration = 1\n[[tasks]]\nid = "b"\nduration = 1\n'
     'predecessors = ["a", "a SS"]\n',
     """tasks[1] ("b"): predecessors[1]: 'a' is listed twice as a predecessor of 'b'; """
     """only one link between two tasks is supported"""),
    ('[[tasks]]\nid = "a"\nduration = 1\npredecessors = [{ id = "b", type = "XX" }]\n'
     '[[tasks]]\nid = "b"\nduration = 1\n',
     """tasks[0] ("a"): predecessors[0]: unknown link type 'XX'; use one of FS, SS, FF, SF"""),
    ('[project]\nstart = "2027-03-06"\n[[tasks]]\nid = "a"\nduration = 1\n',
     """project.start: 2027-03-06 is a Saturday, not a working day of the calendar; """
     """use 2027-03-08 (the next working day) or change the calendar"""),
    ('[project]\nstart = "next monday"\n[[tasks]]\nid = "a"\nduration = 1\n',
     """project.start: expected a date like 2027-03-01, got 'next monday'"""),
    ('[project]\ntime_unit = "hours"\n[[tasks]]\nid = "a"\nduration = 1\n',
     """project.time_unit: must be "days" (working days), got 'hours'; convert durations to days"""),
    ('[calendar]\nworkdays = ["Mon", "Fry"]\n[[tasks]]\nid = "a"\nduration = 1\n',
     """calendar: unknown weekday 'Fry'; use Mon, Tue, Wed, Thu, Fri, Sat or Sun"""),
    ('[projekt]\nname = "x"\n[[tasks]]\nid = "a"\nduration = 1\n',
     """unknown key 'projekt'; did you mean 'project'? (allowed: project, calendar, resources, """
     f"""tasks, risks, drivers, correlations, branches, uncertainty, {', '.join(TOP_KEYS[9:])})"""),
    ('[project]\nname = "x"\n',
     """no tasks; add [[tasks]] tables or a tasks_csv file under [project]"""),
    ('[[tasks]]\nid = "a"\nduration = 1\npredecessors = ["b FS+50%"]\n[[tasks]]\nid = "b"\n'
     'duration = 1\n',
     """tasks[0] ("a"): predecessors[0]: predecessor 'b FS+50%': percentage lags are not supported; """
     """give the lag in working days"""),
])
def test_error_texts(tmp_path, body, expected):
    assert problems_of(tmp_path, body) == [expected]


def test_cycle_is_reported_with_the_file(tmp_path):
    assert problems_of(tmp_path, '''
        [[tasks]]
        id = "a"
        duration = 1
        predecessors = ["b"]
        [[tasks]]
        id = "b"
        duration = 1
        predecessors = ["a"]
        ''') == ["the task network has a dependency cycle: 'a' -> 'b' -> 'a'; "
                 "remove or reverse one of these links"]


def test_toml_syntax_error_gives_the_line(tmp_path):
    path = write(tmp_path, '[project]\nname = "x"\n\n[[tasks]]\nid = "a"\nduration 5\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value) == (f"{path}: line 6, column 10: invalid TOML: "
                              "Expected '=' after a key in a key/value pair")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope\.toml: no such file$"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="is a directory, not a scenario file"):
        load_scenario(tmp_path)


def test_every_problem_is_collected(tmp_path):
    path = write(tmp_path, '''
        [project]
        start = "2027-03-07"
        [[tasks]]
        id = "permit"
        duration = { dist = "triangular", low = 20, mode = 10, high = 60 }
        [[tasks]]
        id = "build"
        duration = 4
        predecessors = ["permt"]
        ''')
    problems = scenario_problems(path)
    assert len(problems) == 3
    assert [p.split(": ")[1] for p in problems] == ["project.start", 'tasks[0] ("permit")',
                                                    'tasks[1] ("build")']
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).endswith(
        f"(and 2 more problems; run `pmosim validate {path}` to list them all)")
    assert err.value.problems == problems


def test_csv_errors_name_file_and_line(tmp_path):
    (tmp_path / "t.csv").write_text(
        "id,dist,low,mode,high,predecessors,colour\n"
        "a,triangular,5,1,9,,\n"
        "b,pert,1,2,x,,\n"
        ",fixed,,,,,\n"
        "c,uniform,1,,2,q,\n", encoding="utf-8")
    path = write(tmp_path, '[project]\ntasks_csv = "t.csv"\n')
    csv_label = str(tmp_path / "t.csv")
    assert scenario_problems(path) == [
        f"{csv_label}: line 1: unknown column 'colour' (allowed: id, name, "
        "duration, planned, predecessors, dist, value, low, mode, high, lamb, low_pct, high_pct, "
        "mean, sd, values, weights, existence, cost_fixed, cost_rate, actual_cost, release, "
        "fixed_start, "
        f"fixed_finish, wbs, resources, priority, notes, {', '.join(CSV_COLUMNS[28:])})",
        f'{csv_label}: line 2 ("a"): triangular needs low <= mode <= high, got 5, 1, 9',
        f"{csv_label}: line 3 (\"b\"): high must be a number, got 'x'",
        f"{csv_label}: line 4: empty id; every row needs a unique task id",
        f"{csv_label}: line 5 (\"c\"): predecessors: unknown predecessor 'q'; no task has that id",
    ]
    missing = write(tmp_path, '[project]\ntasks_csv = "gone.csv"\n', "m.toml")
    assert scenario_problems(missing) == [
        f"{missing}: project.tasks_csv: 'gone.csv' not found (looked for {tmp_path / 'gone.csv'})"]


def test_negative_lags_and_all_link_types_simulate(tmp_path):
    path = write(tmp_path, '''
        [project]
        start = 2027-03-01          # a TOML date works as well as a string
        [calendar]
        holidays = [2027-03-02]
        [[tasks]]
        id = "a"
        duration = { dist = "triangular", low = 2, mode = 4, high = 8 }
        [[tasks]]
        id = "b"
        duration = 3
        predecessors = ["a SS+1", "c SF-1"]
        [[tasks]]
        id = "c"
        duration = 2
        predecessors = ["a FF-1d"]
        ''')
    p = load_scenario(path)
    assert p.start == dt.date(2027, 3, 1)
    assert p.calendar.holidays == (dt.date(2027, 3, 2),)
    r = pmosim.simulate(p, 500, seed=3)
    assert np.all(r.finish.samples >= 2)

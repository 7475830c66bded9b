"""The pmosim command line, through click's CliRunner: outputs, exact errors, exit codes."""

import json
import textwrap

import pytest
from click.testing import CliRunner

import pmosim
from pmosim.calendar import WorkCalendar
from pmosim.cli import cli, default_scenario, main
from pmosim.io.scenario import TASK_KEYS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N = "300"   # iterations: enough for every output, small enough to keep the suite fast

SCENARIO = """\
[project]
name = "CLI test"
start = "2027-03-01"
[[tasks]]
id = "a"
name = "Alpha"
duration = { dist = "triangular", low = 2, mode = 4, high = 9 }
[[tasks]]
id = "b"
duration = { dist = "uniform", low = 1, high = 3 }
predecessors = ["a"]
[[tasks]]
id = "c"
duration = 3
predecessors = ["a SS+1"]
"""


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_version_and_help(runner):
    res = invoke(runner, "--version")
    assert res.exit_code == 0 and res.output == f"pmosim {pmosim.__version__}\n"
    res = invoke(runner, "--help")
    assert res.exit_code == 0
    for command in ("run", "validate", "cpm"):
        assert command in res.output
    assert "Examples:" in res.output
    for command in ("run", "validate", "cpm"):
        res = invoke(runner, command, "--help")
        assert res.exit_code == 0
        assert "Examples:" in res.output and f"pmosim {command}" in res.output


def test_run_options_are_the_issues(runner):
    out = invoke(runner, "run", "--help").output
    for option in ("-n, --iterations", "--seed", "--threads", "--out", "--json", "--target"):
        assert option in out


def test_run_writes_json_and_plots(runner, scenario, tmp_path):
    out = tmp_path / "out"
    res = invoke(runner, "run", scenario, "-n", N, "--seed", "5", "--out", out, "--target", "10")
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "results.json").read_text())
    required = {"pmosim_version", "scenario", "iterations", "seed", "finish", "target", "tasks"}
    assert required <= set(doc)
    assert doc["pmosim_version"] == pmosim.__version__
    assert doc["scenario"] == str(scenario)
    assert doc["iterations"] == int(N) and doc["seed"] == 5
    fin = doc["finish"]
    keys = ["P1", *(f"P{q}" for q in range(5, 100, 5)), "P99"]
    assert {"deterministic", "mean", "std", "percentiles", "dates"} <= set(fin)
    assert list(fin["percentiles"]) == keys and list(fin["dates"]) == keys
    assert fin["deterministic"] == 6.0      # a (mode 4) + b (mean 2); c ends at 1 + 3 = 4
    assert set(doc["target"]) >= {"value", "probability"}
    assert doc["target"]["value"] == 10.0 and 0 <= doc["target"]["probability"] <= 1
    assert [t["id"] for t in doc["tasks"]] == ["a", "b", "c"]
    for task in doc["tasks"]:
        assert {"id", "name", "criticality", "finish_mean", "finish_percentiles"} <= set(task)
    for name in ("finish.png", "criticality.png", "sensitivity.png", "gantt.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    assert sorted(p.name for p in out.iterdir()) == [
        "criticality.png", "finish.png", "gantt.png", "results.json", "sensitivity.png"]
    assert "CLI test: 3 tasks, 2 links" in res.output
    assert "Deterministic (CPM)" in res.output and "2027-03-08" in res.output   # t=6: day 5
    assert "Chance of meeting the target of 10.0 working days (2027-03-12)" in res.output
    assert "Wrote " in res.output


def test_seed_reproduces_the_json(runner, scenario, tmp_path):
    for name in ("one", "two"):
        res = invoke(runner, "run", scenario, "-n", N, "--seed", "123", "--out", tmp_path / name,
                     "--threads", "1" if name == "one" else "2")
        assert res.exit_code == 0, res.output
    one = (tmp_path / "one" / "results.json").read_bytes()
    assert one == (tmp_path / "two" / "results.json").read_bytes()
    invoke(runner, "run", scenario, "-n", N, "--seed", "124", "--out", tmp_path / "three")
    assert one != (tmp_path / "three" / "results.json").read_bytes()


def test_seed_is_reported_and_reproduces_an_unseeded_run(runner, scenario, tmp_path):
    invoke(runner, "run", scenario, "-n", N, "--out", tmp_path / "a")
    seed = json.loads((tmp_path / "a" / "results.json").read_text())["seed"]
    invoke(runner, "run", scenario, "-n", N, "--out", tmp_path / "b", "--seed", seed)
    assert ((tmp_path / "a" / "results.json").read_bytes()
            == (tmp_path / "b" / "results.json").read_bytes())


def test_json_to_stdout_and_file(runner, scenario, tmp_path):
    res = invoke(runner, "run", scenario, "-n", N, "--seed", "1", "--out", tmp_path / "o",
                 "--json", "-")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)              # stdout holds the JSON only
    assert doc["seed"] == 1
    assert "Deterministic (CPM)" in res.stderr
    res = invoke(runner, "run", scenario, "-n", N, "--seed", "1", "--out", tmp_path / "o",
                 "--json", tmp_path / "copy.json")
    assert json.loads((tmp_path / "copy.json").read_text()) == doc


def test_target_as_date(runner, scenario, tmp_path):
    # 2027-03-09 is a Tuesday, working day 6 (Mon 1 .. Fri 5, Mon 8, Tue 9): its end is t = 7
    res = invoke(runner, "run", scenario, "-n", N, "--seed", "1", "--out", tmp_path,
                 "--target", "2027-03-09")
    assert res.exit_code == 0
    target = json.loads((tmp_path / "results.json").read_text())["target"]
    assert target["value"] == 7.0 and target["date"] == "2027-03-09"
    assert target["given"] == "2027-03-09"
    assert "Chance of meeting the target 2027-03-09 (7.0 working days)" in res.output


def test_run_without_scenario_uses_the_bundled_default(runner, tmp_path):
    res = invoke(runner, "run", "-n", N, "--seed", "2", "--out", tmp_path)
    assert res.exit_code == 0
    assert res.output.startswith(
        f"No SCENARIO given: running the bundled default scenario {default_scenario()}\n")
    assert default_scenario().is_file()
    assert "Warehouse fit-out" in res.output and "2027-06-22" in res.output


def test_out_keeps_unrelated_files_and_leaves_no_temporaries(runner, scenario, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "results.json").write_text("old")
    res = invoke(runner, "run", scenario, "-n", N, "--seed", "1", "--out", out)
    assert res.exit_code == 0
    assert (out / "notes.txt").read_text() == "keep me"
    assert json.loads((out / "results.json").read_text())["seed"] == 1
    assert sorted(p.name for p in out.iterdir()) == [
        "criticality.png", "finish.png", "gantt.png", "notes.txt", "results.json",
        "sensitivity.png"]


def test_scenario_without_start_reports_working_days(runner, tmp_path):
    path = tmp_path / "nostart.toml"
    path.write_text(SCENARIO.replace('start = "2027-03-01"\n', ""))
    res = invoke(runner, "run", path, "-n", N, "--seed", "1", "--out", tmp_path / "o")
    assert res.exit_code == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert "dates" not in doc["finish"] and doc["project"]["start"] is None
    assert "date (end of day)" not in res.output
    res = invoke(runner, "run", path, "-n", N, "--out", tmp_path / "o", "--target", "2027-06-30")
    assert res.exit_code == 1
    assert res.output == ("Error: --target 2027-06-30: a target date needs the project start "
                          "date; set start under [project] in the scenario, or give the target "
                          "in working days\n")


def write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


BAD_TRIANGULAR = """\
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
    """


@pytest.mark.parametrize("command", ["run", "cpm"])
def test_bad_scenario_exact_error(runner, tmp_path, command):
    path = write(tmp_path, BAD_TRIANGULAR)
    res = invoke(runner, command, path)
    assert res.exit_code == 1
    assert res.output == (f'Error: {path}: tasks[3] ("permit"): triangular needs '
                          "low <= mode <= high, got 20, 10, 60\n")
    assert "Traceback" not in res.output


def test_unknown_predecessor_error(runner, tmp_path):
    path = write(tmp_path, """\
        [[tasks]]
        id = "design"
        duration = 1
        [[tasks]]
        id = "build"
        duration = 1
        predecessors = ["desgin FS+2"]
        """)
    res = invoke(runner, "run", path, "--out", tmp_path / "o")
    assert res.exit_code == 1
    assert res.output == (f'Error: {path}: tasks[1] ("build"): predecessors[0]: unknown '
                          "predecessor 'desgin'; did you mean 'design'?\n")
    assert not (tmp_path / "o").exists()     # nothing is written for a bad scenario


def test_toml_syntax_error(runner, tmp_path):
    path = write(tmp_path, '[[tasks]]\nid = "a"\nduration = { dist = "pert", low = 1 mode = 2 }\n')
    res = invoke(runner, "validate", path)
    assert res.exit_code == 1
    assert res.output == (f"{path}: line 3, column 37: invalid TOML: Unclosed inline table\n"
                          f"Error: {path}: 1 problem found\n")
    res = invoke(runner, "run", path)
    assert res.output == f"Error: {path}: line 3, column 37: invalid TOML: Unclosed inline table\n"


def test_missing_file_and_unknown_format(runner, tmp_path):
    res = invoke(runner, "run", tmp_path / "nope.toml")
    assert res.exit_code == 1 and res.output == f"Error: {tmp_path / 'nope.toml'}: no such file\n"
    other = tmp_path / "plan.txt"
    other.write_text("x")
    res = invoke(runner, "cpm", other)
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: {other}: cannot tell the format from the extension '.txt'")


def test_cycle_error(runner, tmp_path):
    path = write(tmp_path, """\
        [[tasks]]
        id = "a"
        duration = 1
        predecessors = ["b"]
        [[tasks]]
        id = "b"
        duration = 1
        predecessors = ["a FF"]
        """)
    res = invoke(runner, "run", path)
    assert res.exit_code == 1
    assert res.output == (f"Error: {path}: the task network has a dependency cycle: "
                          "'a' -> 'b' -> 'a'; remove or reverse one of these links\n")


def test_validate_lists_every_problem(runner, tmp_path):
    path = write(tmp_path, """\
        [project]
        start = "2027-03-06"
        [[tasks]]
        id = "design"
        duraton = 5
        [[tasks]]
        id = "build"
        duration = { dist = "triangular", low = 20, mode = 10, high = 60 }
        predecessors = ["desing"]
        """)
    res = invoke(runner, "validate", path)
    assert res.exit_code == 1
    assert res.output == textwrap.dedent(f"""\
        {path}: project.start: 2027-03-06 is a Saturday, not a working day of the calendar; use 2027-03-08 (the next working day) or change the calendar
        {path}: tasks[0] ("design"): unknown key 'duraton'; did you mean 'duration'? (allowed: {', '.join(TASK_KEYS)})
        {path}: tasks[0] ("design"): missing 'duration'; give working days (duration = 5) or a distribution (duration = {{ dist = "triangular", low = 3, mode = 5, high = 9 }})
        {path}: tasks[1] ("build"): triangular needs low <= mode <= high, got 20, 10, 60
        {path}: tasks[1] ("build"): predecessors[0]: unknown predecessor 'desing'; did you mean 'design'?
        Error: {path}: 5 problems found
        """)
    res = invoke(runner, "run", path)
    assert res.exit_code == 1
    assert res.output.endswith(f"(and 4 more problems; run `pmosim validate {path}` to list them all)\n")


def test_validate_ok(runner, scenario):
    res = invoke(runner, "validate", scenario)
    assert res.exit_code == 0
    assert res.output == f"{scenario}: OK (CLI test: 3 tasks, 2 links, start 2027-03-01)\n"


@pytest.mark.parametrize("args, message", [
    (["-n", "0"], "Invalid value for '-n' / '--iterations': 0 is not in the range x>=1."),
    (["--seed", "-1"], "Invalid value for '--seed': -1 is not in the range x>=0."),
    (["--threads", "0"], "Invalid value for '--threads': 0 is not in the range x>=1."),
    (["--target", "soon"], "Invalid value for '--target': 'soon' is neither a number of working "
                           "days (e.g. 120) nor a date (e.g. 2027-06-30)"),
    (["--target", "nan"], "Invalid value for '--target': 'nan' is not a finite number"),
])
def test_bad_option_values_are_usage_errors(runner, scenario, tmp_path, args, message):
    res = invoke(runner, "run", scenario, "--out", tmp_path / "o", *args)
    assert res.exit_code == 2
    assert res.output.endswith(f"Error: {message}\n")


def test_out_that_is_a_file(runner, scenario, tmp_path):
    (tmp_path / "f").write_text("x")
    res = invoke(runner, "run", scenario, "--out", tmp_path / "f")
    assert res.exit_code == 2
    assert res.output.endswith(f"Error: Invalid value for '--out': Directory '{tmp_path / 'f'}' is a file.\n")


def test_cpm_table(runner, scenario):
    res = invoke(runner, "cpm", scenario)
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].split() == ["ID", "Name", "Duration", "Early", "start", "Early", "finish",
                                "Late", "start", "Late", "finish", "Float", "Free", "float",
                                "Critical"]
    # a: 0-4 (Mon 1 - Thu 4); b: 4-6 (Fri 5 - Mon 8); c: SS+1 so 1-4, late 3-6, float 2,
    # free float 2 (no successor: up to the project finish)
    assert lines[1].split() == ["a", "Alpha", "4.0", "2027-03-01", "2027-03-04", "2027-03-01",
                                "2027-03-04", "0.0", "0.0", "yes"]
    assert lines[2].split() == ["b", "b", "2.0", "2027-03-05", "2027-03-08", "2027-03-05",
                                "2027-03-08", "0.0", "0.0", "yes"]
    assert lines[3].split() == ["c", "c", "3.0", "2027-03-02", "2027-03-04", "2027-03-04",
                                "2027-03-08", "2.0", "2.0"]
    assert "Project finish: 6.0 working days, 2027-03-08 (start 2027-03-01)" in res.output
    assert "Critical path: a -> b" in res.output


def test_cpm_without_start_shows_working_days(runner, tmp_path):
    path = tmp_path / "nostart.toml"
    path.write_text(SCENARIO.replace('start = "2027-03-01"\n', ""))
    res = invoke(runner, "cpm", path)
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].split() == [
        "ID", "Name", "Duration", "ES", "EF", "LS", "LF", "Float", "Free", "float", "Critical"]
    assert lines[3].split() == ["c", "c", "3.0", "1.0", "4.0", "3.0", "6.0", "2.0", "2.0"]
    assert "Project finish: 6.0 working days\n" in res.output


def test_main_is_the_console_entry_point(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"pmosim {pmosim.__version__}\n"


# -- the library pieces under the CLI: results JSON and plots -----------------------------
def simulate_small(start="2027-03-01", iterations=500):
    p = pmosim.Project("lib", start=start)
    p.add_task("a", pmosim.Triangular(2, 4, 9), name="Alpha")
    p.add_task("b", pmosim.Uniform(1, 3))
    p.add_link("a", "b")
    return pmosim.simulate(p, iterations, seed=9)


def test_results_dict_target_probability_is_the_empirical_cdf():
    from pmosim.io.json_out import results_dict
    result = simulate_small()
    x = float(result.finish.percentile(50))
    doc = results_dict(result, target={"value": x, "given": "p50"})
    assert doc["target"]["probability"] == (result.finish.samples <= x).mean()
    assert doc["scenario"] is None and doc["project"]["name"] == "lib"
    # every percentile date is the finish date of its working time
    cal = WorkCalendar()
    for key, t in doc["finish"]["percentiles"].items():
        assert doc["finish"]["dates"][key] == str(cal.finish_dates("2027-03-01", t))
    json.dumps(doc, allow_nan=False)


def test_results_dict_without_start_has_no_dates():
    from pmosim.io.json_out import results_dict
    doc = results_dict(simulate_small(start=None), target={"value": 5.0})
    assert "dates" not in doc["finish"] and "date" not in doc["target"]
    assert doc["project"]["start"] is None


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path):
    from pmosim.io.json_out import atomic_path, write_json
    target = tmp_path / "results.json"
    write_json({"a": 1}, target)
    with pytest.raises(ValueError):
        write_json({"a": float("nan")}, target)          # NaN is not JSON
    assert json.loads(target.read_text()) == {"a": 1}
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_plots_draw_on_a_given_axes_and_label_units(tmp_path):
    from matplotlib.figure import Figure
    from pmosim import plots
    result = simulate_small()
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.finish_histogram(result, ax=ax) is ax
    assert ax.get_xlabel() == "Project finish date (finish at end of day)"
    assert ax.right_ax.get_ylabel() == "Probability of finishing by then (%)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:5] == ["Simulated finish"] + [
        f"P{q}: {WorkCalendar().finish_dates('2027-03-01', result.finish.percentile(q))}"
        for q in (10, 50, 80, 90)]
    assert labels[5].startswith("Deterministic (CPM): ")
    plots.save_png(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes().startswith(PNG_SIGNATURE)

    crit = plots.criticality_chart(result, top=1)
    assert [t.get_text() for t in crit.get_yticklabels()] == ["Alpha (a)"]
    assert "Criticality" in crit.get_xlabel()
    plain = plots.finish_histogram(simulate_small(start=None))
    assert plain.get_xlabel() == "Project finish (working days from the start)"

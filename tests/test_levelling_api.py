"""Resource levelling through the public surfaces: the model API, scenario files, the
engine's options and results, reproducibility across threads, chunks and Dask, and the
CLI. (The kernel against the naive reference is tests/test_levelling.py.)"""

import json
import textwrap

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from numpy.testing import assert_array_equal

import pmosim
from pmosim.cli import cli
from pmosim.errors import ModelError, ScenarioError

from _data import data_dir


def _cranes():
    """Two lifts share one crane; c follows a; b's wait is the only levelling delay."""
    p = pmosim.Project("cranes")
    p.add_resource("crane", capacity=1)
    p.add_task("a", 3, resources={"crane": 1})
    p.add_task("b", 2, resources={"crane": 1})
    p.add_task("c", pmosim.Triangular(1, 2, 4))
    p.add_link("a", "c")
    return p


def _busy(n_tasks=30, seed=0):
    """A random network whose tasks compete for two resources, one of them dropping in
    capacity for a while."""
    from pmosim.synthetic import layered_network
    p = layered_network(n_tasks, seed=seed)
    p.add_resource("crew", capacity=3, changes=[(4.0, 1.0), (12.0, 4.0)])
    p.add_resource("crane", capacity=1)
    for k, t in enumerate(p.tasks):
        p.graph.nodes[t]["resources"] = ({"crew": 1 + k % 3} if k % 4 else
                                         {"crane": 1, "crew": 1})
    return p


# -- the model -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"capacity": -1}, "resource 'r': capacity must be >= 0, got -1"),
    ({"capacity": float("nan")}, "resource 'r': capacity must be finite, got nan"),
    ({"capacity": "two"}, "resource 'r': capacity must be a number, got 'two'"),
    ({"capacity": 2, "changes": [(1.0, 1.0), (1.0, 2.0)]}, "two capacity changes at the same"),
    ({"capacity": 2, "changes": [(1.0,)]}, "must be a (time, capacity) pair"),
    ({"capacity": 2, "changes": [(float("inf"), 1.0)]}, "change time must be finite"),
])
def test_add_resource_refuses_bad_values(kwargs, message):
    p = pmosim.Project()
    with pytest.raises(ModelError) as exc:
        p.add_resource("r", **kwargs)
    assert message in str(exc.value)


def test_a_demand_above_the_capacity_names_task_resource_and_both_numbers():
    p = pmosim.Project()
    p.add_resource("crane", capacity=2, changes=[(10, 1)])
    p.add_task("lift", 3, resources={"crane": 2})
    with pytest.raises(ModelError) as exc:
        p.validate()
    assert str(exc.value) == ("task 'lift' needs 2 of resource 'crane', whose capacity is 1; "
                              "lower the demand or raise the capacity")
    p.graph.nodes["lift"]["resources"] = {"crew": 1}
    assert "demands resource 'crew', which the project does not have" in str(
        pytest.raises(ModelError, p.validate).value)
    p.graph.nodes["lift"]["resources"] = {"crane": -1}
    assert "demand on resource 'crane' must be >= 0" in p.problems()[0]


def test_a_bare_graph_takes_its_resources_from_the_graph_attribute():
    g = nx.DiGraph(resources={"crane": 1, "crew": {"capacity": 4, "changes": [(5, 2)]}})
    g.add_node("a", duration=3, resources={"crane": 1})
    g.add_node("b", duration=2, resources={"crane": 1, "crew": 2})
    r = pmosim.cpm(g, levelling="serial")
    assert r.finish == 5.0 and r.unlevelled_finish == 3.0
    assert r.binding == ["crane"]


def test_levelling_and_priority_arguments_are_checked():
    p = _cranes()
    with pytest.raises(ModelError, match="levelling must be one of serial or None"):
        pmosim.cpm(p, levelling="parallel")
    with pytest.raises(ModelError, match="priority must be one of lft, lst"):
        pmosim.simulate(p, 10, levelling="serial", priority="fifo")


def test_levelling_a_wallclock_project_is_a_clear_error():
    from pmosim.engine import _warmup_model
    p = _warmup_model("calendars")
    with pytest.raises(ModelError, match="resource levelling works on the working-day axis"):
        pmosim.simulate(p, 10, levelling="serial")


# -- the engine ------------------------------------------------------------------------

def test_levelled_cpm_by_hand():
    r = pmosim.cpm(_cranes(), levelling="serial")
    # lft list: a (lf 3) and c first, then b (lf 5): b waits for the crane until 3
    assert r.early_start.tolist() == [0.0, 3.0, 3.0]
    assert r.finish == 5.0 and r.unlevelled_finish == 5.0
    assert r.critical.tolist() == [True, True, True]
    assert r.total_float.tolist() == [0.0, 0.0, 0.0]
    assert r.binding == ["crane"]
    doc = r.to_dict()
    assert doc["levelling"] == {"scheme": "serial", "priority": "lft", "unlevelled_finish": 5.0,
                                "binding": ["crane"]}


def test_float_in_a_levelled_plan_counts_resource_links():
    p = _cranes()
    p.add_task("d", 10)
    r = pmosim.cpm(p, levelling="serial")
    # b waits for a's crane: a -> b is a resource link; d drives the finish at 10
    fl = dict(zip(r.task_ids, r.total_float))
    assert fl["d"] == 0.0 and fl["b"] == 5.0 and fl["a"] == 5.0 and fl["c"] == 5.0
    assert r.critical_path == ["d"]


def test_simulate_levelled_results(tmp_path):
    p = _cranes()
    r = pmosim.simulate(p, 4096, seed=3, levelling="serial")
    lev = r.levelling
    free = lev.finish_unlevelled.samples
    assert r.finish.samples.shape == free.shape == (4096,)
    assert np.all(r.finish.samples >= free)
    # c's duration is 1..4: the finish is max(5, 3 + c); levelling only delays b
    assert_array_equal(r.finish.samples, np.maximum(5.0, free))
    assert lev.delayed == pytest.approx(np.mean(r.finish.samples > free), abs=0)
    assert dict(zip(r.task_ids, lev.task_delay)) == {"a": 0.0, "b": 3.0, "c": 0.0}
    crane = lev.resources[0]
    assert crane.id == "crane" and crane.peak_max == 1.0
    assert crane.binding == pytest.approx(np.mean(free < 5.0), abs=0)
    # the crane is busy from 0 to 5 in every iteration: full use in those periods, to
    # within one bin of the usage histograms
    p50 = crane.usage_percentile(50)
    busy = (crane.times + crane.period) <= 5.0
    bin_width = crane.top / (crane.usage_hist.shape[1] - 2)
    assert busy.any() and np.all(np.abs(p50[busy] - 1.0) <= bin_width)
    assert np.all(crane.usage_percentile(90)[crane.times > 5.0] == 0.0)
    doc = r.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["levelling"]["task_delay"] == {"a": 0.0, "b": 3.0, "c": 0.0}
    assert doc["levelling"]["resources"][0]["usage"]["P50"][0] == pytest.approx(1.0,
                                                                                abs=bin_width)


def test_project_settings_are_the_defaults():
    p = _cranes()
    plain = pmosim.simulate(p, 1000, seed=5)
    p.levelling = "serial"
    levelled = pmosim.simulate(p, 1000, seed=5)
    off = pmosim.simulate(p, 1000, seed=5, levelling=False)
    assert levelled.levelling is not None and off.levelling is None
    assert_array_equal(off.finish.samples, plain.finish.samples)
    assert_array_equal(levelled.levelling.finish_unlevelled.samples, plain.finish.samples)
    p.priority = "spt"
    assert pmosim.simulate(p, 64, seed=5).levelling.priority == "spt"
    assert pmosim.cpm(p).levelling == "serial"


def test_levelling_without_resources_is_the_plain_schedule():
    from pmosim.synthetic import layered_network
    p = layered_network(25, seed=4)
    plain = pmosim.simulate(p, 2000, seed=1, keep_samples=True)
    lev = pmosim.simulate(p, 2000, seed=1, keep_samples=True, levelling="serial")
    assert_array_equal(lev.starts, plain.starts)
    assert_array_equal(lev.finish.samples, plain.finish.samples)
    assert_array_equal(lev.tasks.criticality, plain.tasks.criticality)
    assert lev.levelling.delayed == 0.0 and not lev.levelling.task_delay.any()


def _digest(r):
    lev = r.levelling
    return (r.finish.samples.tobytes(), lev.finish_unlevelled.samples.tobytes(),
            r.tasks.criticality.tobytes(), r.tasks.finish_mean.tobytes(),
            r.tasks.finish_hist.tobytes(), lev.task_delay.tobytes(),
            tuple((x.usage_hist.tobytes(), x.peak_hist.tobytes(), x.binding, x.peak_max)
                  for x in lev.resources))


def test_levelled_runs_are_the_same_bits_on_any_threads_and_chunks():
    p = _busy()
    base = _digest(pmosim.simulate(p, 5000, seed=11, threads=1, levelling="serial"))
    for threads, chunk in ((2, None), (2, 512), (1, 1536)):
        got = _digest(pmosim.simulate(p, 5000, seed=11, threads=threads, chunk_size=chunk,
                                      levelling="serial"))
        assert got == base, (threads, chunk)


def test_levelled_runs_are_the_same_bits_on_dask():
    pytest.importorskip("distributed")
    p = _busy()
    base = _digest(pmosim.simulate(p, 3000, seed=2, levelling="serial", priority="grpw"))
    got = _digest(pmosim.simulate(p, 3000, seed=2, levelling="serial", priority="grpw",
                                  backend="dask", chunk_size=1024))
    assert got == base


def test_rank_risks_levels_too():
    p = _cranes()
    p.add_risk("slow lift", 0.5, ["b"], schedule_impact=2)
    free = pmosim.rank_risks(p, 2000, seed=1, levelling=False)
    lev = pmosim.rank_risks(p, 2000, seed=1, levelling="serial")
    # unlevelled, b (2 or 4 days) never drives the finish (a + c >= 4); levelled, b
    # waits for a's crane and finishes at 5 or 7, after a + c in most iterations
    assert free.entries[0].mean_shift == 0.0
    assert lev.entries[0].mean_shift > 0.5


# -- scenario files ---------------------------------------------------------------------

SCENARIO = """
[project]
name = "lifts"
start = "2027-03-01"
levelling = "serial"
priority = "lst"

[[resources]]
id = "crane"
capacity = 1

[[resources]]
id = "crew"
name = "Erection crew"
capacity = 6
changes = [{ at = "2027-03-08", capacity = 3 }, { at = 20, capacity = 6 }]

[[tasks]]
id = "a"
duration = 4
resources = { crane = 1, crew = 2 }
priority = 800

[[tasks]]
id = "b"
duration = 3
resources = { crane = 1 }
"""


def _write(tmp_path, text, name="plan.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_scenario_resources_and_levelling(tmp_path):
    p = pmosim.load(_write(tmp_path, SCENARIO))
    assert p.levelling == "serial" and p.priority == "lst"
    crew = p.resources["crew"]
    # 2027-03-08 is the sixth working day: working time 5 from the start
    assert crew.name == "Erection crew" and crew.changes == ((5.0, 3.0), (20.0, 6.0))
    assert p.graph.nodes["a"]["resources"] == {"crane": 1.0, "crew": 2.0}
    assert p.graph.nodes["a"]["priority"] == 800.0
    assert pmosim.cpm(p).finish == 7.0


def test_scenario_task_csv_takes_resources(tmp_path):
    (tmp_path / "tasks.csv").write_text(
        "id,duration,predecessors,resources,priority\n"
        "a,4,,crane:1; crew:2,700\n"
        "b,3,,crane,\n"
        "c,2,a,crew:3,\n")
    path = _write(tmp_path, """
        [project]
        tasks_csv = "tasks.csv"
        [[resources]]
        id = "crane"
        capacity = 1
        [[resources]]
        id = "crew"
        capacity = 4
        """)
    p = pmosim.load(path)
    assert p.graph.nodes["b"]["resources"] == {"crane": 1.0}
    assert p.graph.nodes["a"]["priority"] == 700.0
    assert pmosim.cpm(p, levelling="serial").finish == 7.0


@pytest.mark.parametrize("text, message", [
    ('[[resources]]\nid = "crane"\ncapacity = 1\nsize = 3\n',
     "resources[0] (\"crane\"): unknown key 'size'"),
    ('[[resources]]\nid = "crane"\n', "resources[0] (\"crane\"): missing 'capacity'"),
    ('[[resources]]\nid = "crane"\ncapacity = -2\n',
     "resources[0] (\"crane\"): capacity must be >= 0, got -2"),
    ('[[resources]]\nid = "crane"\ncapacity = 2\nchanges = [{ at = "soon", capacity = 1 }]\n',
     "changes[0]: at must be working days from the start (a number), got 'soon'"),
    ('[[resources]]\nid = "crane"\ncapacity = 1\n[[tasks]]\nid = "a"\nduration = 2\n'
     'resources = { crane = 2 }\n',
     "tasks[0] (\"a\"): needs 2 of resource 'crane', whose capacity is 1"),
    ('[[tasks]]\nid = "a"\nduration = 2\nresources = { crane = 1 }\n',
     "tasks[0] (\"a\"): demands resource 'crane', which the project does not have"),
    ('[project]\npriority = "lftt"\n[[tasks]]\nid = "a"\nduration = 2\n',
     "project.priority: must be one of lft, lst"),
    ('[project]\nlevelling = "yes"\n[[tasks]]\nid = "a"\nduration = 2\n',
     "project.levelling: must be one of 'serial' or \"none\""),
])
def test_scenario_resource_errors_name_the_place(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        pmosim.load(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_scenario_csv_resource_errors_name_the_csv_line(tmp_path):
    (tmp_path / "tasks.csv").write_text("id,duration,resources\na,4,crane:x\n")
    path = _write(tmp_path, '[project]\ntasks_csv = "tasks.csv"\n'
                            '[[resources]]\nid = "crane"\ncapacity = 1\n')
    with pytest.raises(ScenarioError) as exc:
        pmosim.load(path)
    assert "tasks.csv: line 2 (\"a\"): resources: 'crane:x' should be resource:units" in str(
        exc.value)


# -- the command line ---------------------------------------------------------------------

def test_cli_run_levelled(tmp_path):
    path = _write(tmp_path, SCENARIO.replace('priority = "lst"', ""))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(path), "-n", "2000", "--seed", "1", "--out",
                                   str(out)])
    assert res.exit_code == 0, res.output
    assert "Deterministic (levelled)" in res.output
    assert "Resource levelling (serial, priority lft): working days" in res.output
    assert "levelled  unlevelled" in res.output
    assert "crane" in res.output and (out / "resources.png").stat().st_size > 10_000
    doc = json.loads((out / "results.json").read_text())
    assert doc["levelling"]["priority"] == "lft"
    assert doc["levelling"]["finish_unlevelled"]["deterministic"] == 4.0
    assert doc["finish"]["deterministic"] == 7.0
    off = CliRunner().invoke(cli, ["run", str(path), "-n", "500", "--seed", "1", "--out",
                                   str(tmp_path / "off"), "--levelling", "none"])
    assert off.exit_code == 0 and "Resource levelling" not in off.output
    assert not (tmp_path / "off" / "resources.png").exists()


def test_cli_validate_names_the_resources(tmp_path):
    path = _write(tmp_path, SCENARIO)
    res = CliRunner().invoke(cli, ["validate", str(path)])
    assert res.exit_code == 0
    assert res.output == (f"{path}: OK (lifts: 2 tasks, 0 links, start 2027-03-01; 2 resources "
                          "(2 tasks demand them; levelled, priority lst))\n")


def test_cli_cpm_levelled(tmp_path):
    path = _write(tmp_path, SCENARIO)
    res = CliRunner().invoke(cli, ["cpm", str(path), "--priority", "lft"])
    assert res.exit_code == 0, res.output
    assert ("Levelled (serial, priority lft); unlevelled finish 4.0 working days; resources "
            "on the driving path: crane") in res.output
    bad = CliRunner().invoke(cli, ["cpm", str(path), "--priority", "fifo"])
    assert bad.exit_code == 2 and "'fifo' is not one of" in bad.output


def test_warmup_compiles_the_levelled_kinds():
    from pmosim.engine import WARMUP_KINDS, warmup
    assert "levelled" in WARMUP_KINDS
    assert [k for k, _ in warmup(["levelled"])] == ["levelled"]


def test_improved_plans(tmp_path):
    from pmosim.synthetic import layered_network
    p = _busy(40, seed=3)
    single = pmosim.cpm(p, levelling="serial")
    better = pmosim.cpm(p, levelling="serial", improve=200)
    assert better.finish <= single.finish
    assert pmosim.cpm(p, levelling="serial", priority="plan").finish <= single.finish
    r = pmosim.simulate(p, 600, seed=1, levelling="serial", priority="plan")
    assert r.finish.deterministic <= single.finish and r.levelling.priority == "plan"
    with pytest.raises(ModelError, match="needs levelling='serial'"):
        pmosim.cpm(p, improve=10)
    with pytest.raises(ModelError, match="improve must be True, False or a number"):
        pmosim.cpm(p, levelling="serial", improve=-3)
    plain = layered_network(10, seed=1)
    assert pmosim.cpm(plain, levelling="serial", improve=True).finish == pmosim.cpm(plain).finish


def test_cli_cpm_improve(tmp_path):
    path = _write(tmp_path, SCENARIO)
    res = CliRunner().invoke(cli, ["cpm", str(path), "--improve", "50"])
    assert res.exit_code == 0, res.output
    assert "Improved plan: 7.0 working days against 7.0 for the single pass (0.0% shorter)" \
        in res.output


def test_import_writes_resources_and_the_scenario_levels_the_same(tmp_path):
    from pmosim.io.export import write_scenario
    p = pmosim.load(_write(tmp_path, SCENARIO))
    for threshold in (200, 0):          # tasks in the TOML, then in the CSV
        out = write_scenario(p, tmp_path / f"out{threshold}.toml", csv_threshold=threshold)
        back = pmosim.load(out.path)
        assert back.levelling == "serial" and back.priority == "lst"
        assert {r: (x.capacity, x.changes, x.name) for r, x in back.resources.items()} == \
            {r: (x.capacity, x.changes, x.name) for r, x in p.resources.items()}
        assert back.graph.nodes["a"]["resources"] == {"crane": 1.0, "crew": 2.0}
        assert back.graph.nodes["a"]["priority"] == 800.0
        a, b = pmosim.cpm(p), pmosim.cpm(back)
        assert a.finish == b.finish and a.early_start.tolist() == b.early_start.tolist()
        assert not any("resources" in w for w in out.warnings)


def test_psplib_resources_come_through_import():
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "shared/data/psplib/j30.sm/j301_1.sm"
    if not path.exists():
        pytest.skip("../shared/data is not beside the repository")
    p = pmosim.load(path)
    assert {r: x.capacity for r, x in p.resources.items()} == {"R1": 12, "R2": 13, "R3": 4,
                                                                "R4": 12}
    r = pmosim.cpm(p, levelling="serial")
    assert r.finish >= 43 and r.unlevelled_finish == 38


def test_cpm_levels_a_single_calendar_import():
    """A DSLIB workbook has one agenda calendar, which the working-day axis holds: cpm
    levels it there (it used to refuse every import with calendars), with baseline
    starts as start-no-earlier-than (so the levelled plan is the baseline's here) and
    dropped ("none": the levelled plan is then at least the unlevelled one)."""
    from pmosim.io.dslib import read_dslib
    path = data_dir("dslib", "Excel", "C2011-10 Building a House.xlsx")
    held = pmosim.cpm(read_dslib(path), levelling="serial")
    assert held.levelling == "serial" and held.finish >= held.unlevelled_finish
    free = read_dslib(path, baseline_starts="none")
    lev = pmosim.cpm(free, levelling="serial")
    assert lev.finish >= pmosim.cpm(free).finish

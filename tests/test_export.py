"""Scenario writer: load(write_scenario(import(file))) is the imported schedule again.

Real data in ``../shared/data`` (never copied): PSPLIB J30 (Kolisch & Sprecher 1997,
EJOR 96(1):205-216), MS Project files from MPXJ and ProjectLibre, the Primavera P6
``SP10 - COST LOADED.xer`` and a DSLIB workbook (Batselier & Vanhoucke 2015, IJPM
33(3):697-710).
"""

import datetime as dt
import tomllib
from pathlib import Path

import networkx as nx
import pytest

import pmosim
from pmosim.distributions import (
    Discrete, Exponential, Fixed, LogNormal, Normal, Pert, Triangular, Trigen, Uniform,
)
from pmosim.errors import PmosimError
from pmosim.io.export import write_scenario
from pmosim.model import link_lag, planned_duration, task_duration
from pmosim.uncertainty import apply_uncertainty

from _data import data_dir


def assert_same_schedule(imported, loaded):
    """Same tasks (ids as text), links, durations, planned durations, start and CPM finish."""
    g = nx.relabel_nodes(imported.graph, str)
    h = loaded.graph
    assert set(g.nodes) == set(h.nodes)
    assert {(u, v): (e.get("type", "FS"), link_lag(u, v, e)) for u, v, e in g.edges(data=True)} \
        == {(u, v): (e["type"], link_lag(u, v, e)) for u, v, e in h.edges(data=True)}
    for t in g.nodes:
        assert task_duration(t, h.nodes[t]) == task_duration(t, g.nodes[t]), t
        assert planned_duration(t, h.nodes[t]) == planned_duration(t, g.nodes[t]), t
        assert loaded.task_name(t) == str(g.nodes[t].get("name", t))
    # working calendars are written ([calendars.NAME]): the wall clock gives the same finish
    assert pmosim.cpm(loaded).finish == pmosim.cpm(imported).finish


def header(path) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.startswith("#")]


# -- real files ------------------------------------------------------------------------
def test_psplib_round_trip(tmp_path):
    path = data_dir("psplib", "j30.sm", "j301_1.sm")
    p = pmosim.load(path)
    out = write_scenario(p, tmp_path / "j301_1.toml")
    q = pmosim.load(out)
    assert_same_schedule(p, q)
    assert pmosim.cpm(q).finish == p.meta["mpm_time"]
    assert out.csv_path is None
    assert out.warnings == (
        "time unit 'periods': durations and lags are written unchanged as working days, the "
        "scenario format's only unit",
        '32 task ids are numbers; they are written as text (1 -> "1"), the scenario format\'s '
        "ids")
    assert header(out)[-2:] == [f"# - {w}" for w in out.warnings]
    # resources and demands are written: the levelled plan is the same
    assert len(q.resources) == 4
    a, b = pmosim.cpm(p, levelling="serial"), pmosim.cpm(q, levelling="serial")
    assert a.finish == b.finish and a.early_start.tolist() == b.early_start.tolist()


@pytest.mark.parametrize("parts", [("projectlibre", "New Product.xml"),
                                   ("mpxj", "mspdirelations.xml")])
def test_mspdi_round_trip(tmp_path, parts):
    p = pmosim.load(data_dir(*parts))
    out = write_scenario(p, tmp_path / "plan.toml")
    q = pmosim.load(out)
    assert_same_schedule(p, q)
    assert (q.start, q.calendar) == (p.start, p.calendar)
    # WBS codes are written (for [[uncertainty]] filters); other attributes are reported
    assert all("wbs (" not in w for w in out.warnings)
    assert [q.graph.nodes[t].get("wbs") for t in q.tasks] == \
        [None if p.graph.nodes[t].get("wbs") in (None, "") else str(p.graph.nodes[t]["wbs"])
         for t in p.tasks]


def test_xer_round_trip_through_a_csv_sidecar(tmp_path):
    p = pmosim.load(data_dir("p6", "SP10 - COST LOADED.xer"))
    out = write_scenario(p, tmp_path / "sp10.toml")
    assert out.csv_path == tmp_path / "sp10.tasks.csv"
    doc = tomllib.loads(out.path.read_text(encoding="utf-8"))
    assert doc["project"] == {"name": "HS2-LWM-IMP-040-20", "start": dt.date(2017, 9, 18),
                              "tasks_csv": "sp10.tasks.csv", "currency": "GBP",
                              "calendar": "640", "data_date": dt.datetime(2017, 9, 16)}
    assert "tasks" not in doc                      # every task fits the CSV notation
    q = pmosim.load(out)
    assert_same_schedule(p, q)
    assert (q.start, q.calendar) == (p.start, p.calendar)
    # calendars, constraints and progress are written (tests/test_scenario_calendars.py
    # checks the dates); what the format cannot say is reported, in the header and the
    # returned warnings
    assert sorted(doc["calendars"]) == ["638", "639", "640", "641", "642", "643"]
    w = "\n".join(out.warnings)
    assert "calendars used by tasks and lags" not in w and "constraint" not in w
    assert "progress written as working-day offsets only" not in w
    assert pmosim.cpm(q).early_start_date == pmosim.cpm(p).early_start_date
    # the costs are written (cost_fixed, cost_rate, actual_cost); P6's budget is not
    assert "costs from the schedule" not in w
    assert "the schedule's budgeted cost 215,918,496.41 not written: the tasks' cost_fixed and " \
        "cost_rate are the cost at completion, actual + remaining (217,652,329.66)" in w
    assert [f"# - {x}" for x in out.warnings] == header(out)[3:]


def test_xer_with_uncertainty_round_trips_its_distributions(tmp_path):
    p = pmosim.load(data_dir("p6", "SP10 - COST LOADED.xer"))
    q = apply_uncertainty(p, ["trigen(-10%, 0, +25%, P5, P95)",
                              "wbs=HS2-P1-CS-EWC-C-F.AW: uniform(-5%, +30%)",
                              'status="in progress": pert(-10%, +5%, +50%, lamb=3)'])
    out = write_scenario(q, tmp_path / "sp10-risk.toml")
    r = pmosim.load(out)
    assert_same_schedule(q, r)
    kinds = {type(d["duration"]) for _, d in r.graph.nodes(data=True)}
    assert kinds == {Fixed, Trigen, Uniform, Pert}
    assert header(out)[2].startswith("# Uncertainty applied: trigen(-10%, 0%, +25%, ")


def test_dslib_round_trip(tmp_path):
    pytest.importorskip("openpyxl", reason="DSLIB workbooks need openpyxl (pmosim[dslib])")
    p = pmosim.load(data_dir("dslib", "Excel", "C2011-06 Veterinary Exposition.xlsx"))
    out = write_scenario(p, tmp_path / "vet.toml")
    q = pmosim.load(out)
    assert_same_schedule(p, q)
    # baseline durations that differ from the risk sheet's most likely are kept as planned
    assert any("planned" in d for _, d in q.graph.nodes(data=True))
    assert q.start == p.start


# -- hand-built edge cases -----------------------------------------------------------------
@pytest.fixture
def odd():
    p = pmosim.Project('odd "names"', start="2027-03-06")    # a Saturday
    p.add_task("a", Fixed(1 / 3), name='Quote " and \\ backslash\nnewline')
    p.add_task("b,c", Uniform(1e-05, 2.5), name="  padded  ")
    p.add_task("d", Pert(1, 2, 9, lamb=3), planned=2.5)
    p.add_task("e", Trigen(3, 4, 8, 5, 95))
    p.add_task("f", Normal(5, 1))
    p.add_task("g", LogNormal(4, 2))
    p.add_task("h", Exponential(2))
    p.add_task("i", Discrete([1, 2, 4], [0.25, 0.5, 0.25]))
    p.add_task("j", Triangular(2, 3, 7), name="Żółw ✓")
    p.add_link("a", "b,c", "SS", 1e-05)
    p.add_link("b,c", "d", "FF", -2.75)
    p.add_link("a", "d", "SF", 1 / 7)
    p.add_link("d", "e", "FS", Uniform(1, 2))      # a lag the CSV notation cannot hold
    p.add_link("e", "f")
    p.add_link("f", "g", "FS", -0.1)
    p.add_link("g", "h")
    p.add_link("h", "i")
    p.add_link("i", "j", "SS", 0)
    return p


@pytest.mark.parametrize("threshold", [200, 0])
def test_every_family_and_odd_text_round_trip(tmp_path, odd, threshold):
    out = write_scenario(odd, tmp_path / "odd.toml", csv_threshold=threshold)
    q = pmosim.load(out)
    assert_same_schedule(odd, q)
    assert q.name == 'odd "names"'
    assert q.start == dt.date(2027, 3, 8)
    assert out.warnings == ("project start 2027-03-06 is not a working day of the calendar; "
                            "written as the next working day 2027-03-08",)
    doc = tomllib.loads(out.path.read_text(encoding="utf-8"))
    if threshold == 0:
        # in the CSV up to the first task its cells cannot hold exactly (a name with spaces
        # at its ends: b,c); the rest stay in [[tasks]] too, which the reader takes after
        # the CSV's, so the task order (which keys the random numbers) is kept
        assert [t["id"] for t in doc["tasks"]] == ["b,c", "d", "e", "f", "g", "h", "i", "j"]
        assert out.csv_path.exists()
        assert list(q.graph.nodes) == [str(t) for t in odd.graph.nodes]
    else:
        assert len(doc["tasks"]) == 9 and out.csv_path is None
        assert doc["tasks"][4]["predecessors"] == ["e"]
        assert doc["tasks"][1]["predecessors"] == ["a SS+0.00001"]


def test_errors_and_atomic_writes(tmp_path, odd):
    p = pmosim.Project()
    p.add_task(1, 2)
    p.add_task("1", 3)
    with pytest.raises(PmosimError) as exc:
        write_scenario(p, tmp_path / "x.toml")
    assert str(exc.value) == "task ids 1 and '1' are both written as '1'; rename one of them"
    with pytest.raises(PmosimError) as exc:
        write_scenario(odd, tmp_path / "x.txt")
    assert str(exc.value) == (f"{tmp_path / 'x.txt'}: a scenario file name ends in .toml; "
                              "use e.g. x.toml")
    odd.add_link("j", "a")
    with pytest.raises(PmosimError, match="dependency cycle"):
        write_scenario(odd, tmp_path / "x.toml")
    assert list(tmp_path.iterdir()) == []
    # a write that fails leaves the old file and no temporary file behind
    (tmp_path / "y.toml").mkdir()
    odd.graph.remove_edge("j", "a")
    with pytest.raises(OSError):
        write_scenario(odd, tmp_path / "y.toml")
    assert [f.name for f in tmp_path.iterdir()] == ["y.toml"]


# -- the uncertainty model: risks, drivers, correlations, branches, conditions, costs ------
@pytest.fixture
def risky():
    p = pmosim.Project("risky", start="2027-03-01")
    p.add_task("design", Triangular(5, 8, 14), cost_rate=1000.0)
    p.add_task("permit", Uniform(10, 30), existence=0.8, cost_fixed=Triangular(100, 200, 500))
    p.add_task("build", Pert(20, 25, 40), cost_fixed=5000)
    p.add_task("rework", 5, when={"task": "build", "finish_after": 60.5})
    p.add_task("test", Triangular(3, 4, 8))
    p.add_task("retest", 6)
    p.add_link("design", "permit")
    p.add_link("permit", "build", "SS", 3)
    p.add_link("build", "rework")
    p.add_link("rework", "test")
    p.add_link("rework", "retest")
    p.add_risk("R1", 0.3, ["build"], schedule_impact=Triangular(2, 4, 9), cost_impact=1000,
               name="Late steel", mitigated={"probability": 0.1})
    p.add_risk("R2", 0.2, ["design", "build"], schedule_impact={"pct": Uniform(5, 15)})
    p.add_driver("D1", 1.0, Triangular(0.95, 1.0, 1.3), ["design", "build"])
    p.add_correlation_matrix(["permit", "test", "design"],
                             [[1, 0.6, 0.2], [0.6, 1, 0.1], [0.2, 0.1, 1]], repair=False)
    p.add_branch("B", [(0.7, ["test"]), (0.3, ["retest"])])
    p.cost_rate = 50.0
    p.meta.update(budget=120_000.0, currency="EUR")
    return p


@pytest.mark.parametrize("threshold", [200, 0])
def test_risks_drivers_correlations_branches_and_costs_round_trip(tmp_path, risky, threshold):
    from pmosim.model import project_cost_rate, task_costs
    out = write_scenario(risky, tmp_path / "risky.toml", csv_threshold=threshold)
    assert out.warnings == ()
    q = pmosim.load(out)
    assert_same_schedule(risky, q)
    assert q.risks == risky.risks and q.drivers == risky.drivers
    assert q.branches == risky.branches
    [c], [d] = q.correlations, risky.correlations
    assert (c.tasks, c.matrix.tolist(), c.repair) == (d.tasks, d.matrix.tolist(), False)
    for t, data in risky.graph.nodes(data=True):
        mine = q.graph.nodes[t]
        assert task_costs(t, mine) == task_costs(t, data)
        assert (mine.get("existence"), mine.get("when")) == (
            data.get("existence"), data.get("when") and pmosim.model.condition("", data["when"]))
    assert project_cost_rate(q) == Fixed(50.0)
    assert (q.meta["budget"], q.meta["currency"]) == (120_000.0, "EUR")
    if threshold == 200:
        # same node order, so the same random numbers: the same iterations bit for bit
        a = pmosim.simulate(risky, 500, seed=3)
        b = pmosim.simulate(q, 500, seed=3)
        assert (a.finish.samples == b.finish.samples).all()

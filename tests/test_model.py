"""The project model: a networkx.DiGraph of tasks plus metadata, validated."""

import datetime as dt

import networkx as nx
import pytest

import pmosim
from pmosim import Exponential, Fixed, LogNormal, Normal, Pert, Project, Triangular, Uniform
from pmosim.errors import CycleError, ModelError
from pmosim.model import (
    LINK_TYPES, as_project, link_lag, link_type, planned_duration, task_duration,
)


def small_project():
    p = Project("demo")
    p.add_task("a", Triangular(2, 3, 6), name="Design")
    p.add_task("b", 4)
    p.add_task("c", Uniform(1, 2), planned=1.25, owner="ops")
    p.add_link("a", "b")
    p.add_link("a", "c", type="SS", lag=1)
    return p


def test_build_and_read():
    p = small_project()
    assert p.name == "demo"
    assert p.n_tasks == 3 and p.tasks == ["a", "b", "c"]
    assert p.task_name("a") == "Design" and p.task_name("b") == "b"
    g = p.graph
    assert isinstance(g, nx.DiGraph)
    assert g.nodes["c"]["owner"] == "ops" and g.nodes["c"]["planned"] == 1.25
    assert g.edges["a", "b"] == {"type": "FS", "lag": 0.0}
    assert g.edges["a", "c"] == {"type": "SS", "lag": 1}
    assert p.problems() == []
    assert p.validate() is p


def test_link_types_are_the_four():
    assert tuple(LINK_TYPES) == ("FS", "SS", "FF", "SF")


def test_from_networkx_wraps_without_copying():
    g = nx.DiGraph(name="from-graph")
    g.add_node(1, duration=3)
    p = Project.from_networkx(g, start="2027-03-01")
    assert p.graph is g
    assert p.name == "from-graph"
    assert p.start == dt.date(2027, 3, 1)
    assert as_project(p) is p
    q = as_project(g)
    assert isinstance(q, Project) and q.graph is g


def test_project_metadata():
    p = Project("x", start=dt.datetime(2027, 1, 4, 9, 30), time_unit="hours")
    assert p.start == dt.date(2027, 1, 4) and p.time_unit == "hours"
    assert p.meta == {}
    assert "tasks=0" in repr(p)


@pytest.mark.parametrize("bad", ["2027-13-01", "next monday", "2027-02-30", 3.5])
def test_bad_start_date(bad):
    with pytest.raises(ModelError, match="start must be a date"):
        Project(start=bad)


def test_rejects_non_digraphs():
    with pytest.raises(ModelError, match="DiGraph"):
        Project(graph=nx.Graph())
    with pytest.raises(ModelError, match="multigraph"):
        Project(graph=nx.MultiDiGraph())
    with pytest.raises(ModelError, match="got list"):
        as_project([1, 2])
    with pytest.raises(ModelError, match="got dict"):
        Project.from_networkx({})


def test_duplicate_task_and_link():
    p = small_project()
    with pytest.raises(ModelError, match="task 'a' already exists"):
        p.add_task("a", 1)
    with pytest.raises(ModelError, match="link 'a' -> 'b' already exists"):
        p.add_link("a", "b", type="FF")


def test_link_to_unknown_task():
    p = small_project()
    with pytest.raises(ModelError, match="unknown task 'zz'"):
        p.add_link("a", "zz")


@pytest.mark.parametrize("duration, planned", [
    (4, 4.0), (Fixed(2.5), 2.5), (Triangular(2, 3, 6), 3.0), (Pert(1, 4, 9), 4.0),
    (Uniform(2, 6), 4.0),                       # no mode: the mean
    (Exponential(3), 0.0), (Normal(5, 2), 5.0),
    (LogNormal(10, 3), LogNormal(10, 3).mode),
])
def test_planned_duration_defaults_to_mode_else_mean(duration, planned):
    assert planned_duration("t", {"duration": duration}) == pytest.approx(planned, rel=1e-15)
    assert planned_duration("t", {"duration": duration, "planned": 7}) == 7.0


def test_task_duration_and_links_are_validated_values():
    assert task_duration("t", {"duration": 3}) == Fixed(3)
    assert link_type("a", "b", {}) == "FS"
    assert link_type("a", "b", {"type": "SF"}) == "SF"
    assert link_lag("a", "b", {}) == Fixed(0.0)
    assert link_lag("a", "b", {"lag": -2}) == Fixed(-2)
    lag = Normal(0, 1)
    assert link_lag("a", "b", {"lag": lag}) is lag


def test_negative_lags_are_allowed_and_normal_lags_are_not_truncated():
    p = Project()
    p.add_task("a", 3)
    p.add_task("b", 3)
    p.add_link("a", "b", type="FS", lag=Normal(-1, 2))
    assert p.problems() == []


def test_problems_lists_every_problem():
    g = nx.DiGraph()
    g.add_node("nodur")
    g.add_node("neg", duration=-2)
    g.add_node("nan", duration=float("nan"))
    g.add_node("ok", duration=1)
    g.add_node("badplan", duration=1, planned=-1)
    g.add_edge("ok", "neg", type="XX")
    g.add_edge("neg", "nan", lag=float("inf"))
    g.add_edge("x", "y", type="FS")
    g.add_edge("y", "x", type="FS")
    g.nodes["x"]["duration"] = 1
    g.nodes["y"]["duration"] = 1
    problems = Project.from_networkx(g).problems()
    text = "\n".join(problems)
    assert len(problems) == 7, problems
    for needle in ("'nodur'", "'neg'", "'nan'", "'badplan'", "'XX'", "inf", "cycle"):
        assert needle in text, needle


def test_empty_project_is_a_problem():
    p = Project()
    assert p.problems() == ["the project has no tasks; add at least one"]
    with pytest.raises(ModelError, match="no tasks"):
        p.validate()


def test_validate_raises_the_cycle():
    p = Project()
    for t in "abc":
        p.add_task(t, 1)
    p.add_link("a", "b")
    p.add_link("b", "c")
    p.add_link("c", "a")
    with pytest.raises(CycleError):
        p.validate()


def test_public_names():
    for name in ("Project", "simulate", "cpm", "Fixed", "Uniform", "Triangular", "Pert", "Trigen",
                 "Normal", "LogNormal", "Exponential", "Discrete", "PmosimError", "ModelError",
                 "CycleError", "__version__"):
        assert hasattr(pmosim, name), name
    assert issubclass(ModelError, ValueError) and issubclass(CycleError, ModelError)

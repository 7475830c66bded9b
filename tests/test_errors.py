"""Every error is a PmosimError whose message says what, where and the offending value."""

import networkx as nx
import pytest

import pmosim
from pmosim import Fixed, Normal, Project, Trigen, Uniform
from pmosim.errors import (
    CycleError, ModelError, PmosimError, ScenarioError, ScheduleImportError, SimulationError,
)


def two_tasks(dur_a=1.0, **edge):
    g = nx.DiGraph()
    g.add_node("a", duration=dur_a)
    g.add_node("b", duration=2.0)
    g.add_edge("a", "b", **edge)
    return g


ENTRY_POINTS = {
    "simulate": lambda m: pmosim.simulate(m, 10, seed=1),
    "cpm": pmosim.cpm,
    "validate": lambda m: pmosim.model.as_project(m).validate(),
}


def raises(entry, model, exc=ModelError):
    with pytest.raises(exc) as info:
        ENTRY_POINTS[entry](model)
    assert isinstance(info.value, PmosimError)
    return str(info.value)


def test_hierarchy():
    for cls in (ModelError, CycleError, ScenarioError, ScheduleImportError, SimulationError):
        assert issubclass(cls, PmosimError)
    for cls in (ModelError, ScenarioError, ScheduleImportError, SimulationError):
        assert issubclass(cls, ValueError)
    assert issubclass(CycleError, ModelError)


# -- cycles --------------------------------------------------------------------------------

def cyclic_graph():
    g = nx.DiGraph()
    g.add_edges_from([("start", "b"), ("b", "c"), ("c", "d"), ("d", "b"), ("d", "end")])
    for t in g:
        g.nodes[t]["duration"] = 1
    return g


def is_rotation(seq, cycle):
    return len(seq) == len(cycle) and any(seq == cycle[k:] + cycle[:k] for k in range(len(cycle)))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_cycle_lists_its_tasks_in_order(entry):
    g = cyclic_graph()
    with pytest.raises(CycleError) as info:
        ENTRY_POINTS[entry](g)
    cycle = info.value.cycle
    assert is_rotation(cycle, ["b", "c", "d"]), cycle
    assert all(g.has_edge(u, v) for u, v in zip(cycle, cycle[1:] + cycle[:1]))
    path = " -> ".join(repr(t) for t in cycle + cycle[:1])
    assert path in str(info.value)
    assert "cycle" in str(info.value)


def test_self_loop_is_a_cycle():
    g = nx.DiGraph()
    g.add_node(7, duration=1)
    g.add_edge(7, 7)
    with pytest.raises(CycleError) as info:
        pmosim.simulate(g, 10)
    assert info.value.cycle == [7]
    assert "7 -> 7" in str(info.value)


# -- tasks and links -----------------------------------------------------------------------

@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_unknown_link_type_names_the_edge_and_value(entry):
    msg = raises(entry, two_tasks(type="XX"))
    assert "'a' -> 'b'" in msg and "'XX'" in msg
    assert all(t in msg for t in ("FS", "SS", "FF", "SF"))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_missing_duration_names_the_task(entry):
    g = two_tasks()
    del g.nodes["a"]["duration"]
    msg = raises(entry, g)
    assert "task 'a'" in msg and "duration" in msg


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("value, text", [(float("nan"), "nan"), (float("inf"), "inf"),
                                         (float("-inf"), "-inf"), (None, "None"),
                                         ("soon", "'soon'")])
def test_non_finite_or_non_numeric_duration_names_task_and_value(entry, value, text):
    msg = raises(entry, two_tasks(dur_a=value))
    assert "task 'a'" in msg and text in msg and "duration" in msg


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("value", [-3, -3.0, Fixed(-3)])
def test_negative_fixed_duration_names_task_and_value(entry, value):
    msg = raises(entry, two_tasks(dur_a=value))
    assert "task 'a'" in msg and "-3" in msg and ">= 0" in msg


@pytest.mark.parametrize("dist, text", [
    (Uniform(-1, 2), "-1"),
    (Normal(-1, 2), "negative mean"),
    (Trigen(0, 1, 5), "trigen(0, 1, 5"),   # its true minimum lies below zero
])
def test_duration_that_can_be_negative_names_task_and_distribution(dist, text):
    msg = raises("simulate", two_tasks(dur_a=dist))
    assert "task 'a'" in msg and text in msg


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("value, text", [(float("nan"), "nan"), (float("inf"), "inf"),
                                         ("x", "'x'")])
def test_bad_lag_names_the_edge_and_value(entry, value, text):
    msg = raises(entry, two_tasks(lag=value))
    assert "'a' -> 'b'" in msg and "lag" in msg and text in msg


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_bad_planned_names_task_and_value(entry):
    g = two_tasks()
    g.nodes["b"]["planned"] = -4
    msg = raises(entry, g)
    assert "task 'b'" in msg and "planned" in msg and "-4" in msg


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_empty_project(entry):
    assert "no tasks" in raises(entry, nx.DiGraph())


@pytest.mark.parametrize("model", [[1, 2], {"a": 1}, nx.Graph()])
def test_not_a_model(model):
    with pytest.raises(ModelError):
        pmosim.simulate(model, 10)


# -- simulation settings --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, words", [
    (dict(iterations=0), ["iterations", "0"]),
    (dict(iterations=-5), ["iterations", "-5"]),
    (dict(iterations=1.5), ["iterations", "1.5"]),
    (dict(iterations="100"), ["iterations", "'100'"]),
    (dict(iterations=True), ["iterations", "True"]),
    (dict(iterations=10, seed=-1), ["seed", "-1"]),
    (dict(iterations=10, seed="abc"), ["seed", "'abc'"]),
    (dict(iterations=10, threads=0), ["threads", "0"]),
    (dict(iterations=10, chunk_size=0), ["chunk_size", "0"]),
])
def test_bad_settings_raise_simulation_error_naming_the_value(kwargs, words):
    with pytest.raises(SimulationError) as info:
        pmosim.simulate(two_tasks(), **kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_problems_collects_everything_before_simulate_raises_the_first():
    g = two_tasks(type="XX")
    g.add_node("c")
    problems = Project.from_networkx(g).problems()
    assert len(problems) == 2
    with pytest.raises(ModelError) as info:
        pmosim.simulate(g, 10)
    assert str(info.value) in problems

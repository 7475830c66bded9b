"""Tests of the layered random networks used by tests and benchmarks."""

import networkx as nx
import numpy as np
import pytest

from pmosim.distributions import Distribution, Fixed
from pmosim.errors import ModelError
from pmosim.model import LINK_TYPES
from pmosim.synthetic import layered_network


def _edges(project):
    return sorted(project.graph.edges(data=True), key=lambda e: (e[0], e[1]))


@pytest.mark.parametrize("n_tasks", [1, 2, 10, 100, 1000])
def test_shape_and_acyclic(n_tasks):
    p = layered_network(n_tasks, seed=3)
    g = p.graph
    assert p.n_tasks == n_tasks
    assert list(g.nodes) == list(range(n_tasks))
    assert nx.is_directed_acyclic_graph(g)
    assert p.problems() == []
    for u, v in g.edges:
        assert g.nodes[u]["layer"] < g.nodes[v]["layer"]


def test_benchmark_network_size():
    p = layered_network(1000)
    assert p.graph.number_of_edges() == 1600
    assert len(set(nx.get_node_attributes(p.graph, "layer").values())) == 32


@pytest.mark.parametrize("n_tasks, layers", [(100, None), (1000, 10), (500, 40), (37, 5)])
def test_every_task_on_a_start_to_end_path(n_tasks, layers):
    g = layered_network(n_tasks, layers=layers, seed=11).graph
    last = max(nx.get_node_attributes(g, "layer").values())
    for task, layer in g.nodes(data="layer"):
        if layer > 0:
            assert g.in_degree(task) > 0, task
        if layer < last:
            assert g.out_degree(task) > 0, task
    starts = [t for t, layer in g.nodes(data="layer") if layer == 0]
    reached = set(starts).union(*(nx.descendants(g, s) for s in starts))
    assert reached == set(g.nodes)


@pytest.mark.parametrize("links_per_task", [1.6, 2.5, 0.5])
def test_link_count(links_per_task):
    g = layered_network(1000, links_per_task=links_per_task, seed=5).graph
    sizes = np.bincount(list(nx.get_node_attributes(g, "layer").values()))
    # The backbone joins consecutive layers a, b with max(a, b) links.
    backbone = int(np.maximum(sizes[:-1], sizes[1:]).sum())
    assert backbone >= 1000 - sizes[0]
    assert g.number_of_edges() == max(round(links_per_task * 1000), backbone)


def test_link_count_capped_by_layers():
    g = layered_network(4, layers=4, links_per_task=10).graph
    assert g.number_of_edges() == 6  # every forward pair of 4 single-task layers


def test_same_seed_same_network():
    a, b = layered_network(300, seed=42), layered_network(300, seed=42)
    assert _edges(a) == _edges(b)
    assert dict(a.graph.nodes(data=True)) == dict(b.graph.nodes(data=True))
    c = layered_network(300, seed=np.random.default_rng(42))
    assert _edges(a) == _edges(c)


def test_different_seed_different_network():
    assert _edges(layered_network(300, seed=1)) != _edges(layered_network(300, seed=2))


def test_mixed_links_lags_and_distributions():
    g = layered_network(2000, seed=9).graph
    n = g.number_of_edges()
    types = np.array([d["type"] for _, _, d in g.edges(data=True)])
    lags = np.array([d["lag"] for _, _, d in g.edges(data=True)])
    # Shares within 5 binomial standard deviations of the requested mix.
    for kind, share in {"FS": 0.7, "SS": 0.1, "FF": 0.1, "SF": 0.1}.items():
        assert abs(np.mean(types == kind) - share) <= 5 * np.sqrt(share * (1 - share) / n)
    assert abs(np.mean(lags != 0) - 0.2) <= 5 * np.sqrt(0.2 * 0.8 / n)
    assert lags.min() < 0 < lags.max()
    kinds = {type(d).__name__ for d in nx.get_node_attributes(g, "duration").values()}
    assert kinds == {"Triangular", "Pert", "Uniform", "Fixed", "Normal", "LogNormal"}
    assert all(isinstance(d, Distribution) for d in nx.get_node_attributes(g, "duration").values())


def test_custom_mix():
    g = layered_network(200, link_mix={"SS": 1}, lag_prob=0, dist_mix={"fixed": 1}, seed=0).graph
    assert {d["type"] for _, _, d in g.edges(data=True)} == {"SS"}
    assert {d["lag"] for _, _, d in g.edges(data=True)} == {0.0}
    assert all(isinstance(d, Fixed) for d in nx.get_node_attributes(g, "duration").values())


@pytest.mark.parametrize("kwargs, match", [
    ({"n_tasks": 0}, "n_tasks must be an integer >= 1, got 0"),
    ({"n_tasks": 10, "layers": 11}, "layers must be at most n_tasks"),
    ({"n_tasks": 10, "lag_prob": 1.5}, r"lag_prob must be a finite number in \[0, 1\], got 1.5"),
    ({"n_tasks": 10, "link_mix": {"XX": 1}}, r"link_mix has unknown key\(s\) \['XX'\]"),
    ({"n_tasks": 10, "dist_mix": {"pert": 0}}, "dist_mix needs finite weights"),
    ({"n_tasks": 10, "links_per_task": -1}, "links_per_task must be a finite number >= 0"),
])
def test_bad_arguments(kwargs, match):
    n_tasks = kwargs.pop("n_tasks")
    with pytest.raises(ModelError, match=match):
        layered_network(n_tasks, **kwargs)


def test_link_types_are_known():
    g = layered_network(100).graph
    assert {d["type"] for _, _, d in g.edges(data=True)} <= set(LINK_TYPES)

"""Reproducible random task networks for tests and benchmarks.

:func:`layered_network` builds a layered random network: tasks are split into
layers, every link runs from an earlier layer to a later one (so the network is
acyclic by construction), every task outside the first layer has a predecessor
and every task outside the last layer has a successor (so every task lies on a
path from a start task to an end task). Link types, lags and duration
distributions are mixed, as in real schedules.

Examples
--------
>>> from pmosim.synthetic import layered_network
>>> p = layered_network(1000, seed=1)
>>> p.n_tasks, p.graph.number_of_edges()
(1000, 1600)
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .distributions import Fixed, LogNormal, Normal, Pert, Triangular, Uniform
from .errors import ModelError
from .model import LINK_TYPES, Project

#: Default share of each link type.
DEFAULT_LINK_MIX = MappingProxyType({"FS": 0.7, "SS": 0.1, "FF": 0.1, "SF": 0.1})
#: Default share of each duration family.
DEFAULT_DIST_MIX = MappingProxyType({
    "triangular": 0.35, "pert": 0.30, "uniform": 0.15,
    "fixed": 0.08, "normal": 0.06, "lognormal": 0.06,
})
DIST_KINDS = ("triangular", "pert", "uniform", "fixed", "normal", "lognormal")


def layered_network(n_tasks: int, *, links_per_task: float = 1.6, layers: int | None = None,
                    link_mix: Mapping[str, float] = DEFAULT_LINK_MIX, lag_prob: float = 0.2,
                    dist_mix: Mapping[str, float] = DEFAULT_DIST_MIX, seed=0) -> Project:
    """Build a reproducible layered random task network.

    Tasks ``0 .. n_tasks - 1`` are dealt, in id order, into ``layers`` layers of
    near-equal size. A backbone links each layer to the next so that every task
    outside the first layer has a predecessor in the layer before and every task
    outside the last layer has a successor in the layer after; further links, from
    a random task to one in a later layer (usually the next, rarely far ahead),
    bring the link count to ``round(links_per_task * n_tasks)``.

    Parameters
    ----------
    n_tasks : int
        Number of tasks (>= 1).
    links_per_task : float
        Links per task. The count is ``round(links_per_task * n_tasks)``, raised to
        the backbone's count where that is larger (at least one link per task outside
        the first layer) and lowered to the number of forward pairs the layers allow.
    layers : int, optional
        Number of layers, 1 to ``n_tasks``; default ``round(sqrt(n_tasks))``.
    link_mix : mapping of str to float
        Relative weight of each link type (``"FS"``, ``"SS"``, ``"FF"``, ``"SF"``).
    lag_prob : float
        Probability that a link has a lag: a whole number of 1 to 5 units, negative
        (a lead) with probability 0.4. Other links have lag 0.
    dist_mix : mapping of str to float
        Relative weight of each duration family: ``"triangular"``, ``"pert"``,
        ``"uniform"``, ``"fixed"``, ``"normal"``, ``"lognormal"``. Durations are
        centred on a most likely value drawn from 2 to 20.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the one ``numpy.random.Generator`` used; the same seed gives the
        same network.

    Returns
    -------
    Project
        Named ``layered-<n_tasks>``; each task has attributes ``duration``,
        ``name`` (``L<layer>-<id>``) and ``layer``; each link ``type`` and ``lag``.

    Raises
    ------
    ModelError
        For a bad size, layer count, mix or probability.

    Examples
    --------
    >>> import networkx as nx
    >>> p = layered_network(100, seed=7)
    >>> p.n_tasks, p.graph.number_of_edges(), nx.is_directed_acyclic_graph(p.graph)
    (100, 160, True)
    >>> sorted({d["type"] for _, _, d in p.graph.edges(data=True)})
    ['FF', 'FS', 'SF', 'SS']
    """
    n_tasks = _check_int("n_tasks", n_tasks, 1)
    layers = max(1, round(math.sqrt(n_tasks))) if layers is None else _check_int("layers", layers, 1)
    if layers > n_tasks:
        raise ModelError(f"layered_network: layers must be at most n_tasks ({n_tasks}), got {layers}")
    links_per_task = _check_prob_like("links_per_task", links_per_task, upper=None)
    lag_prob = _check_prob_like("lag_prob", lag_prob, upper=1.0)
    link_types, link_p = _mix("link_mix", link_mix, LINK_TYPES)
    dist_kinds, dist_p = _mix("dist_mix", dist_mix, DIST_KINDS)
    rng = np.random.default_rng(seed)

    bounds = np.linspace(0, n_tasks, layers + 1).round().astype(np.int64)
    layer_of = np.repeat(np.arange(layers), np.diff(bounds))
    pairs = _backbone(rng, bounds)
    max_links = (n_tasks * n_tasks - int(np.sum(np.diff(bounds) ** 2))) // 2
    n_links = min(max(round(links_per_task * n_tasks), len(pairs)), max_links)
    _add_random_links(rng, bounds, pairs, n_links)

    project = Project(f"layered-{n_tasks}")
    kinds = rng.choice(len(dist_kinds), size=n_tasks, p=dist_p)
    for task_id in range(n_tasks):
        duration = _duration(rng, dist_kinds[kinds[task_id]])
        layer = int(layer_of[task_id])
        project.add_task(task_id, duration, name=f"L{layer}-{task_id}", layer=layer)
    order = sorted(pairs)
    types = rng.choice(len(link_types), size=len(order), p=link_p)
    has_lag = rng.random(len(order)) < lag_prob
    magnitude = rng.integers(1, 6, size=len(order))
    sign = np.where(rng.random(len(order)) < 0.4, -1, 1)
    for k, (u, v) in enumerate(order):
        lag = float(sign[k] * magnitude[k]) if has_lag[k] else 0.0
        project.add_link(u, v, type=link_types[types[k]], lag=lag)
    return project


def _backbone(rng, bounds) -> set:
    """Links between consecutive layers covering every task on both sides."""
    pairs = set()
    for k in range(len(bounds) - 2):
        src = np.arange(bounds[k], bounds[k + 1])
        dst = np.arange(bounds[k + 1], bounds[k + 2])
        m = max(len(src), len(dst))
        # One side is a full permutation, so the m pairs are distinct.
        s = np.concatenate([rng.permutation(src), rng.choice(src, m - len(src))])
        d = np.concatenate([rng.permutation(dst), rng.choice(dst, m - len(dst))])
        pairs.update(zip(s.tolist(), d.tolist()))
    return pairs


def _add_random_links(rng, bounds, pairs, n_links) -> None:
    """Add random forward links (mostly to the next layer) until there are ``n_links``."""
    n_layers = len(bounds) - 1
    last_start = int(bounds[-2])
    while len(pairs) < n_links:
        u = int(rng.integers(0, last_start))
        layer_u = int(np.searchsorted(bounds, u, side="right")) - 1
        layer_v = min(layer_u + int(rng.geometric(0.6)), n_layers - 1)
        pairs.add((u, int(rng.integers(bounds[layer_v], bounds[layer_v + 1]))))


def _duration(rng, kind):
    mode = round(float(rng.uniform(2.0, 20.0)), 1)
    if kind == "fixed":
        return Fixed(mode)
    if kind == "normal":
        return Normal(mode, round(0.25 * mode, 2))
    if kind == "lognormal":
        return LogNormal(mode, round(0.4 * mode, 2))
    low = round(mode * float(rng.uniform(0.5, 0.95)), 1)
    high = round(mode * float(rng.uniform(1.1, 2.5)), 1)
    if kind == "uniform":
        return Uniform(low, high)
    if kind == "pert":
        return Pert(low, mode, high)
    return Triangular(low, mode, high)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ModelError(f"layered_network: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_prob_like(name, value, upper):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"layered_network: {name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (upper is not None and v > upper):
        limit = f"in [0, {upper:g}]" if upper is not None else ">= 0"
        raise ModelError(f"layered_network: {name} must be a finite number {limit}, got {value!r}")
    return v


def _mix(name, mix, allowed):
    """Keys and normalised weights of a ``{kind: weight}`` mapping."""
    keys = [str(k) for k in mix]
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise ModelError(f"layered_network: {name} has unknown key(s) {unknown}; use {list(allowed)}")
    weights = np.array([float(mix[k]) for k in mix])
    if not len(weights) or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ModelError(
            f"layered_network: {name} needs finite weights >= 0 with a positive sum, got {dict(mix)}")
    return keys, weights / weights.sum()


__all__ = ["layered_network", "DEFAULT_LINK_MIX", "DEFAULT_DIST_MIX"]

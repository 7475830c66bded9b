"""Shared helpers of the importer tests: where the real data lives, a naive CPM.

The data in ``../shared/data`` (relative to the repository root) is never copied into
the repository. Tests skip with the reason when it is absent and fail instead when
``PMOSIM_REQUIRE_DATA=1`` (CI).
"""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir(*parts: str) -> Path:
    """``../shared/data/<parts>``; skip (or fail under PMOSIM_REQUIRE_DATA=1) if absent."""
    path = REPO_ROOT.parent / "shared" / "data"
    path = path.joinpath(*parts)
    if not path.exists():
        reason = (f"test data {path} is absent (the real schedules live in ../shared/data "
                  "next to the repository; see its README.md)")
        if os.environ.get("PMOSIM_REQUIRE_DATA") == "1":
            pytest.fail(reason + " and PMOSIM_REQUIRE_DATA=1", pytrace=False)
        pytest.skip(reason)
    return path


def naive_forward_pass(graph: nx.DiGraph, duration="duration", *, release="release"):
    """Early start and finish of every task, obviously correct and slow.

    ``graph`` nodes carry a numeric ``duration`` (a Fixed's ``.value`` is used) and
    optionally ``release`` (an earliest start); edges carry ``type`` and ``lag``.
    Returns ``(early_start, early_finish)`` dicts; project start is 0.
    """
    es, ef = {}, {}
    for v in nx.topological_sort(graph):
        data = graph.nodes[v]
        d = data[duration]
        d = float(getattr(d, "value", d))
        start = max(0.0, float(data.get(release) or 0.0))
        for u, _, e in graph.in_edges(v, data=True):
            lag = float(getattr(e.get("lag", 0.0), "value", e.get("lag", 0.0)))
            kind = e.get("type", "FS")
            if kind == "FS":
                start = max(start, ef[u] + lag)
            elif kind == "SS":
                start = max(start, es[u] + lag)
            elif kind == "FF":
                start = max(start, ef[u] + lag - d)
            else:
                start = max(start, es[u] + lag - d)
        es[v], ef[v] = start, start + d
    return es, ef

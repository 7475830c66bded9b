"""Benchmark plumbing: make ``comparator`` importable and print a rate table at the end.

Each benchmark records its task-iterations per second with the ``record_rate``
fixture; :func:`pytest_terminal_summary` prints them side by side with the
pmosim / numpy ratio, after pytest-benchmark's own timing tables.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

_RATES = pytest.StashKey[dict]()


def pytest_configure(config):
    config.stash[_RATES] = {}


@pytest.fixture
def record_rate(request):
    """``record_rate(case, impl, n_tasks, n_links, iterations, seconds, **extra)``."""
    rates = request.config.stash[_RATES]

    def record(case, impl, n_tasks, n_links, iterations, seconds, **extra):
        rates.setdefault(case, {"n_tasks": n_tasks, "n_links": n_links})[impl] = dict(
            iterations=iterations, seconds=seconds, rate=n_tasks * iterations / seconds, **extra)

    return record


def pytest_terminal_summary(terminalreporter, config):
    rates = config.stash.get(_RATES, {})
    if not rates:
        return
    tr = terminalreporter
    tr.section("pmosim vs numpy comparator: task-iterations per second (best round)")
    head = (f"{'case':<26}{'tasks':>7}{'links':>7}{'pmosim it':>11}{'pmosim M/s':>12}"
            f"{'numpy it':>10}{'numpy M/s':>11}{'ratio':>8}")
    tr.write_line(head)
    for case, row in rates.items():
        eng, ref = row.get("pmosim"), row.get("numpy")
        cells = [f"{case:<26}", f"{row['n_tasks']:>7}", f"{row['n_links']:>7}"]
        for r, width in ((eng, 11), (ref, 10)):
            cells.append(f"{r['iterations']:>{width}}" if r else f"{'-':>{width}}")
            cells.append(f"{r['rate'] / 1e6:>{width + 1}.1f}" if r else f"{'-':>{width + 1}}")
        ratio = f"{eng['rate'] / ref['rate']:>7.1f}x" if eng and ref else f"{'-':>8}"
        tr.write_line("".join(cells) + ratio)
    notes = {f"{case} {impl}: {r['note']}" for case, row in rates.items()
             for impl, r in row.items() if isinstance(r, dict) and r.get("note")}
    for note in sorted(notes):
        tr.write_line(note)

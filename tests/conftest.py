"""Fixtures shared by several test modules.

Only fixtures live here. Sibling helper modules (``_data``, ``_calendars``,
``naive``, ``reference_worktime``) are imported by name: pytest's
``pythonpath = ["tests"]`` in pyproject.toml puts this folder on ``sys.path``,
so no test module edits ``sys.path`` itself.
"""

import pytest

from _data import data_dir


@pytest.fixture(scope="module")
def sp10():
    """The Primavera P6 ``SP10 - COST LOADED.xer`` schedule, read once per module."""
    from pmosim.io.xer import read_xer

    return read_xer(data_dir("p6", "SP10 - COST LOADED.xer"))


@pytest.fixture(autouse=True)
def _no_configured_history(monkeypatch):
    """Every ``pmosim run`` records into ``$PMOSIM_HISTORY`` when it is set: a developer's
    history file must not collect the suite's runs."""
    monkeypatch.delenv("PMOSIM_HISTORY", raising=False)

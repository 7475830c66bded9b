"""The one exception hierarchy of pmosim.

Every error raised on purpose by pmosim derives from :class:`PmosimError`, so a
caller (the CLI among them) can catch all of them in one place. Messages say what
is wrong, where (task id, edge, file, key path, line), the offending value and,
where there is one, the fix.
"""

from __future__ import annotations


class PmosimError(Exception):
    """Root of all pmosim errors."""


class ModelError(PmosimError, ValueError):
    """A project model (task, link, distribution, risk ...) is invalid."""


class CycleError(ModelError):
    """The task network has a dependency cycle.

    Attributes
    ----------
    cycle : list
        The task ids on the cycle, in order; the last one links back to the first.
    """

    #: Tasks of a long cycle shown at each end of the message (the rest is in ``cycle``).
    SHOWN = 5

    def __init__(self, cycle):
        self.cycle = list(cycle)
        ring = self.cycle + self.cycle[:1]
        if len(self.cycle) > 2 * self.SHOWN:
            # a 2,000-task cycle was one 20 KB line
            hidden = len(self.cycle) - 2 * self.SHOWN + 1
            path = (" -> ".join(map(repr, ring[:self.SHOWN]))
                    + f" -> ... ({hidden:,} more) ... -> "
                    + " -> ".join(map(repr, ring[-self.SHOWN:])))
            size = f" of {len(self.cycle):,} tasks"
        else:
            path = " -> ".join(map(repr, ring))
            size = ""
        super().__init__(
            f"the task network has a dependency cycle{size}: {path}; "
            "remove or reverse one of these links"
        )


class ScenarioError(PmosimError, ValueError):
    """A scenario file cannot be read or is invalid."""


class ScheduleImportError(PmosimError, ValueError):
    """A schedule file (MSPDI, XER, PSPLIB, DSLIB) cannot be imported."""


class SimulationError(PmosimError, ValueError):
    """Invalid simulation settings (iterations, threads, seed ...)."""


class MissingDependencyError(PmosimError, ImportError):
    """An optional dependency a feature needs is not installed; the message names the
    ``pip install`` that adds it (e.g. ``pip install 'pmosim[frame]'``)."""


class HistoryError(PmosimError):
    """A run history file (SQLite, :mod:`pmosim.history`) cannot be read or written: not
    a pmosim history, written by a newer pmosim, locked, or in a folder that cannot be
    written."""

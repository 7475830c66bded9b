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

    def __init__(self, cycle):
        self.cycle = list(cycle)
        path = " -> ".join(repr(t) for t in self.cycle + self.cycle[:1])
        super().__init__(
            f"the task network has a dependency cycle: {path}; "
            "remove or reverse one of these links"
        )


class ScenarioError(PmosimError, ValueError):
    """A scenario file cannot be read or is invalid."""


class ScheduleImportError(PmosimError, ValueError):
    """A schedule file (MSPDI, XER, PSPLIB, DSLIB) cannot be imported."""


class SimulationError(PmosimError, ValueError):
    """Invalid simulation settings (iterations, threads, seed ...)."""

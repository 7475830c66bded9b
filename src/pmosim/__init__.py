"""pmosim: Monte Carlo schedule and cost risk simulation.

Task networks (``networkx.DiGraph``) are compiled to flat arrays and simulated by
numba kernels; results are bit-identical for a seed whatever the thread count.
"""

from ._version import __version__
from .distributions import (
    Discrete, Distribution, Exponential, Fixed, LogNormal, Normal, Pert, Triangular,
    Trigen, Uniform,
)
from .errors import CycleError, ModelError, PmosimError
from .model import Project

__all__ = [
    "__version__", "Project", "Distribution", "Fixed", "Uniform", "Triangular", "Pert",
    "Trigen", "Normal", "LogNormal", "Exponential", "Discrete", "PmosimError", "ModelError",
    "CycleError",
]

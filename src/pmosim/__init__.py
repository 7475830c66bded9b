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
from .engine import cpm, rank_risks, simulate
from .engine import compare, simulate_to_precision
from .io import load
from . import evm  # noqa: F401  (pmosim.evm.earned_value and the status model)
from .model import Project
from .results import CPMResult, SimulationResult
from .results import Comparison, PrecisionRun

__all__ = [
    "__version__", "simulate", "simulate_to_precision", "compare", "Comparison", "PrecisionRun", "cpm", "rank_risks", "load", "SimulationResult", "CPMResult", "Project", "Distribution", "Fixed", "Uniform", "Triangular", "Pert",
    "Trigen", "Normal", "LogNormal", "Exponential", "Discrete", "PmosimError", "ModelError",
    "CycleError",
]

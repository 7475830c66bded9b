"""Readers and writers: scenario TOML, MSPDI, XER, PSPLIB, DSLIB; :func:`load` dispatches."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import PmosimError

#: Format name -> (module, reader function); modules import lazily so that
#: optional dependencies (openpyxl for DSLIB) are needed only when used.
READERS = {
    "toml": ("scenario", "load_scenario"),
    "mspdi": ("mspdi", "read_mspdi"),
    "xer": ("xer", "read_xer"),
    "psplib": ("psplib", "read_psplib"),
    "dslib": ("dslib", "read_dslib"),
}
SUFFIXES = {".toml": "toml", ".xml": "mspdi", ".xer": "xer", ".sm": "psplib", ".xlsx": "dslib"}


def detect_format(path, format: str | None = None) -> str:
    """The format name of ``path``: ``format`` if given, else from the file extension."""
    if format is not None:
        if format not in READERS:
            raise PmosimError(
                f"unknown format {format!r}; use one of {', '.join(sorted(READERS))}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise PmosimError(
            f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(sorted(SUFFIXES))} or pass format= "
            f"({', '.join(sorted(READERS))})")
    return SUFFIXES[suffix]


def load(path, format: str | None = None):
    """Load a project from a scenario or schedule file.

    Parameters
    ----------
    path : str or os.PathLike
        ``.toml`` scenario, ``.xml`` MS Project (MSPDI), ``.xer`` Primavera P6,
        ``.sm`` PSPLIB or ``.xlsx`` DSLIB workbook.
    format : str, optional
        One of ``toml``, ``mspdi``, ``xer``, ``psplib``, ``dslib``; overrides the extension.

    Returns
    -------
    pmosim.Project
    """
    module_name, func_name = READERS[detect_format(path, format)]
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, func_name)(path)

"""Readers and writers: scenario TOML, MSPDI, XER, PSPLIB, DSLIB; :func:`load` dispatches."""

from __future__ import annotations

import importlib
import os
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


#: Largest input file read, in MB (``PMOSIM_MAX_INPUT_MB`` raises it): the largest real
#: schedules in ../shared/data are a few MB; a file of gigabytes is a mistake or an attack,
#: and reading it would take the machine's memory before any error could be given.
MAX_INPUT_MB = 512


def check_size(path, what: str = "input file") -> None:
    """Refuse, before reading, a regular file larger than the input limit."""
    raw = os.environ.get("PMOSIM_MAX_INPUT_MB")
    limit = MAX_INPUT_MB
    if raw:
        try:
            limit = float(raw)
        except ValueError:
            raise PmosimError(f"PMOSIM_MAX_INPUT_MB={raw!r} is not a number of megabytes") \
                from None
    try:
        size = os.stat(path).st_size
    except OSError:
        return                   # the reader says what is wrong with the path
    if size > limit * 2**20:
        raise PmosimError(
            f"{path}: the {what} is {size / 2**20:,.0f} MB, more than the limit of "
            f"{limit:,.0f} MB; if it is right, raise the limit with the environment variable "
            f"PMOSIM_MAX_INPUT_MB")


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
    check_size(path)
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, func_name)(path)

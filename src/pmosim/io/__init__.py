"""Readers and writers: scenario TOML, MSPDI, PMXML, XER, PSPLIB, DSLIB; :func:`load` dispatches."""

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
    "pmxml": ("pmxml", "read_pmxml"),
    "xer": ("xer", "read_xer"),
    "psplib": ("psplib", "read_psplib"),
    "dslib": ("dslib", "read_dslib"),
}
SUFFIXES = {".toml": "toml", ".xml": "mspdi", ".pmxml": "pmxml", ".xer": "xer", ".sm": "psplib",
            ".xlsx": "dslib"}


def detect_format(path, format: str | None = None, *, option: str = "format=") -> str:
    """The format name of ``path``: ``format`` if given, else from the file extension.

    A ``.xml`` file is Primavera PMXML when its root element is ``<APIBusinessObjects>``
    and MS Project XML (MSPDI) otherwise. ``option`` is how the caller's user names the
    format in a message: ``format=`` in Python, ``--format`` on the command line.
    MS Project's binary ``.mpp`` files and task ``.csv`` files get a message saying
    what to do instead.
    """
    if format is not None:
        if format not in READERS:
            raise PmosimError(
                f"unknown format {format!r}; use one of {', '.join(sorted(READERS))}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix in _REFUSED:
        raise PmosimError(_REFUSED[suffix].format(path=path, name=Path(path).name,
                                                  xml=Path(path).with_suffix(".xml")))
    if suffix not in SUFFIXES:
        raise PmosimError(
            f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
            f"use one of {', '.join(sorted(SUFFIXES))} or pass {option} "
            f"({', '.join(sorted(READERS))})")
    if suffix == ".xml" and _xml_root(path) == "APIBusinessObjects":
        return "pmxml"
    return SUFFIXES[suffix]


#: Extensions pmosim knows and does not read, with what to do instead.
_REFUSED = {
    ".mpp": ("{path}: MS Project's binary .mpp format is not read; in MS Project save the plan "
             "as XML (File > Save As > 'XML Format (*.xml)') and give pmosim the .xml file, or "
             "convert it without MS Project with MPXJ (https://www.mpxj.org), in the folder "
             "of its download: java -cp \"mpxj.jar:lib/*\" net.sf.mpxj.sample.MpxjConvert "
             "\"{path}\" \"{xml}\""),
    ".mpt": ("{path}: MS Project templates (.mpt) are not read; open the template in MS Project "
             "and save the plan as XML (File > Save As > 'XML Format (*.xml)')"),
    ".csv": ("{path}: a task CSV file is read through a scenario file that names it with "
             "tasks_csv (docs/scenario-format.md, 'CSV task lists'); write e.g. plan.toml next "
             "to it:\n"
             "    [project]\n"
             "    name = \"My project\"\n"
             "    tasks_csv = \"{name}\"\n"
             "and give pmosim plan.toml"),
}


def _xml_root(path) -> str | None:
    """The local name of the root element of an XML file, read from its first 64 KB
    (None when unreadable): ``APIBusinessObjects`` for PMXML, ``Project`` for MSPDI."""
    import re

    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return None               # the reader says what is wrong with the path
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace")
    text = re.sub(r"<!--.*?-->|<\?.*?\?>|<!\w[^>]*>", "", text, flags=re.S)
    m = re.search(r"<([A-Za-z_][\w.:-]*)", text)
    return m.group(1).rsplit(":", 1)[-1] if m else None


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
        ``.toml`` scenario, ``.xml`` MS Project (MSPDI) or Primavera P6 (PMXML, told
        apart by the root element; also ``.pmxml``), ``.xer`` Primavera P6, ``.sm``
        PSPLIB or ``.xlsx`` DSLIB workbook.
    format : str, optional
        One of ``toml``, ``mspdi``, ``pmxml``, ``xer``, ``psplib``, ``dslib``; overrides
        the extension.

    Returns
    -------
    pmosim.Project
    """
    module_name, func_name = READERS[detect_format(path, format)]
    check_size(path)
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, func_name)(path)

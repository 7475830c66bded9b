"""Read PSPLIB single-mode RCPSP instances (``.sm`` files).

PSPLIB (Kolisch & Sprecher 1997, EJOR 96(1):205-216) stores one project per file:
a header, ``PRECEDENCE RELATIONS`` (finish-to-start, zero lag), ``REQUESTS/DURATIONS``
(one mode per job in ``.sm`` files) and ``RESOURCEAVAILABILITIES``. Job 1 and the last
job are the zero-duration super source and sink.

The reader keeps everything a resource-constrained schedule needs:

- renewable resources (``R1`` ..) as :attr:`Project.resources
  <pmosim.model.Project.resources>` with their availability as capacity;
- node attributes ``duration`` (:class:`~pmosim.distributions.Fixed`), ``name``
  (``"job <n>"``), ``resources`` (``{"R1": demand, ...}`` on renewable resources, zero
  demands left out) and ``resources_not_levelled`` (demands on nonrenewable ``N`` and
  doubly constrained ``D`` resources: a budget for the whole project, not a capacity
  per period, so they are not levelled; the import report says so);
- ``project.meta``: ``source``, ``format``, ``mpm_time`` (the header's unconstrained
  critical-path length), ``horizon``, ``release_date``, ``due_date``,
  ``tardiness_cost``, ``resources`` (every resource, ``{"R1": {"kind": "renewable",
  "capacity": 12}}``), ``resources_not_levelled`` and ``import_report``.

Some collections concatenate many instances in one file; :func:`read_psplib_all`
reads every instance of a file or of a directory of ``.sm`` files, and
:func:`read_psplib` reads a file that holds exactly one.

Examples
--------
>>> import tempfile, pathlib
>>> text = '''projects : 1
... jobs (incl. supersource/sink ):  3
... RESOURCES
...   - renewable : 1 R
...   - nonrenewable : 0 N
...   - doubly constrained : 0 D
... PROJECT INFORMATION:
... pronr.  #jobs rel.date duedate tardcost  MPM-Time
...     1      1      0       5       1        4
... PRECEDENCE RELATIONS:
... jobnr.    #modes  #successors   successors
...    1        1          1           2
...    2        1          1           3
...    3        1          0
... REQUESTS/DURATIONS:
... jobnr. mode duration  R 1
... ----------------------------
...   1      1     0       0
...   2      1     4       3
...   3      1     0       0
... RESOURCEAVAILABILITIES:
...   R 1
...    5
... '''
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.sm"
>>> _ = path.write_text(text)
>>> p = read_psplib(path)
>>> p.n_tasks, p.meta["mpm_time"], p.graph.nodes[2]["resources"], p.resources["R1"].capacity
(3, 4, {'R1': 3.0}, 5.0)
"""

from __future__ import annotations

import re
from pathlib import Path

from ..distributions import Fixed
from ..errors import ScheduleImportError
from ..model import Project
from ._common import (ImportedResource, add_resources, import_report, model_errors, read_text,
                      show)

__all__ = ["read_psplib", "read_psplib_all", "parse_psplib"]

_SECTION_RE = re.compile(r"^(PRECEDENCE RELATIONS|REQUESTS/DURATIONS|RESOURCEAVAILABILITIES|"
                         r"PROJECT INFORMATION|RESOURCES)\s*:?", re.I)
_RESOURCE_KINDS = {"R": "renewable", "N": "nonrenewable", "D": "doubly constrained"}


def read_psplib(path) -> Project:
    """Read a PSPLIB ``.sm`` file holding one instance.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.sm`` file.

    Returns
    -------
    Project
        Durations in periods (``time_unit="periods"``), all links FS with lag 0.

    Raises
    ------
    ScheduleImportError
        The file is missing, not PSPLIB, multi-mode, inconsistent, or holds several
        instances (then use :func:`read_psplib_all`).
    """
    path = Path(path)
    if path.is_dir():
        raise ScheduleImportError(
            f"{path}: is a directory of PSPLIB instances; read it with read_psplib_all()")
    projects = read_psplib_all(path)
    if len(projects) != 1:
        raise ScheduleImportError(
            f"{path}: holds {len(projects)} PSPLIB instances, read_psplib() reads one; "
            "use read_psplib_all() for all of them")
    return projects[0]


def read_psplib_all(path) -> list[Project]:
    """Read every instance of a PSPLIB file (instances may be concatenated) or directory.

    A directory is read in file-name order (``*.sm`` files only, not recursive);
    each instance's ``meta["instance"]`` is its file stem, with ``#k`` appended for
    the k-th (1-based) instance of a concatenated file.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".sm" and p.is_file())
        if not files:
            raise ScheduleImportError(f"{path}: directory has no .sm PSPLIB files")
        out = []
        for f in files:
            out.extend(read_psplib_all(f))
        return out
    text = read_text(path, "ascii", "PSPLIB")
    chunks = _split_instances(text)
    out = []
    for k, (first_line, chunk) in enumerate(chunks, start=1):
        name = path.stem if len(chunks) == 1 else f"{path.stem}#{k}"
        out.append(parse_psplib(chunk, source=str(path), name=name, first_line=first_line))
    return out


def _split_instances(text: str) -> list[tuple[int, str]]:
    """Split a file into (first line number, text) per instance."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lower().startswith("file with basedata")]
    if len(starts) <= 1:
        return [(1, text)]
    # The asterisk rule above "file with basedata" belongs to the instance it opens.
    bounds = [s - 1 if s > 0 and lines[s - 1].startswith("*") else s for s in starts]
    bounds[0] = 0
    bounds.append(len(lines))
    return [(bounds[i] + 1, "\n".join(lines[bounds[i]:bounds[i + 1]]))
            for i in range(len(starts))]


def parse_psplib(text: str, *, source: str = "<string>", name: str | None = None,
                 first_line: int = 1) -> Project:
    """Parse the text of one PSPLIB single-mode instance (see :func:`read_psplib`)."""
    where = source
    lines = text.splitlines()
    sections: dict[str, list[tuple[int, str]]] = {"HEADER": []}
    current = "HEADER"
    for i, raw in enumerate(lines):
        line = raw.strip()
        m = _SECTION_RE.match(line)
        if m:
            current = m.group(1).upper()
            sections[current] = []
            continue
        if not line or set(line) <= {"*", "-", "="}:
            continue
        sections[current].append((first_line + i, line))
    for needed in ("PRECEDENCE RELATIONS", "REQUESTS/DURATIONS"):
        if needed not in sections:
            raise ScheduleImportError(
                f"{where}: not a PSPLIB .sm file: section {needed!r} is missing")

    header, header_line = {}, {}
    for lineno, line in sections["HEADER"]:
        if ":" in line:
            key, _, value = line.partition(":")
            header[key.strip().lower()] = value.strip()
            header_line[key.strip().lower()] = lineno

    def header_int(key):
        """The first number of a header line (``horizon : 158``); None when absent."""
        value = header.get(key)
        if not value:
            return None
        return _ints(value.split()[0], where, header_line[key])[0]


    resources = _parse_resource_kinds(sections.get("RESOURCES", []), where)
    info = _parse_project_info(sections.get("PROJECT INFORMATION", []), where)

    successors: dict[int, list[int]] = {}
    for lineno, line in sections["PRECEDENCE RELATIONS"]:
        if line.lower().startswith("jobnr"):
            continue
        nums = _ints(line, where, lineno)
        if len(nums) < 3 or len(nums) != 3 + nums[2]:
            raise ScheduleImportError(
                f"{where}, line {lineno}: precedence row should be 'job modes n_successors "
                f"successors...', got {line!r}")
        job, modes, _, *succ = nums
        if modes != 1:
            raise ScheduleImportError(
                f"{where}, line {lineno}: job {job} has {modes} modes; only single-mode "
                "(.sm) instances are supported")
        successors[job] = succ

    res_names = []
    durations: dict[int, int] = {}
    job_line: dict[int, int] = {}
    demands: dict[int, dict[str, int]] = {}
    for lineno, line in sections["REQUESTS/DURATIONS"]:
        if line.lower().startswith("jobnr"):
            columns = line.split("duration", 1)[-1]
            res_names = ["".join(t) for t in re.findall(r"([A-Za-z])\s*(\d+)", columns)]
            continue
        nums = _ints(line, where, lineno)
        if len(nums) != 3 + len(res_names):
            raise ScheduleImportError(
                f"{where}, line {lineno}: request row should have job, mode, duration and "
                f"{len(res_names)} resource demands, got {line!r}")
        job, _, dur, *req = nums
        durations[job] = dur
        job_line[job] = lineno
        demands[job] = {r: q for r, q in zip(res_names, req) if q}

    capacities = []
    for lineno, line in sections.get("RESOURCEAVAILABILITIES", []):
        if re.match(r"^[A-Za-z]\s*\d", line):
            continue
        capacities = _ints(line, where, lineno)
    res_meta = {}
    for k, r in enumerate(res_names):
        res_meta[r] = {"kind": _RESOURCE_KINDS.get(r[0].upper(), "unknown"),
                       "capacity": capacities[k] if k < len(capacities) else None}

    missing = sorted(set(successors) ^ set(durations))
    if missing:
        raise ScheduleImportError(
            f"{where}: jobs {missing[:10]} appear in only one of PRECEDENCE RELATIONS and "
            "REQUESTS/DURATIONS")
    n_jobs = header_int("jobs (incl. supersource/sink )")
    if n_jobs is not None and n_jobs != len(durations):
        raise ScheduleImportError(
            f"{where}: header says {n_jobs} jobs but {len(durations)} are listed; "
            "the file may be truncated")

    missing_capacity = [r for r, m in res_meta.items() if m["capacity"] is None]
    if missing_capacity:
        raise ScheduleImportError(
            f"{where}: RESOURCEAVAILABILITIES gives {len(capacities)} availabilities for "
            f"{len(res_names)} resources ({', '.join(res_names)}); "
            f"{', '.join(missing_capacity)} {'has' if len(missing_capacity) == 1 else 'have'} "
            "none")
    project = Project(name, time_unit="periods")
    for job in sorted(durations):
        with model_errors(f"{where}, line {job_line[job]}: job {job}"):
            project.add_task(job, Fixed(durations[job]), name=f"job {job}")
    for job, succ in successors.items():
        for s in succ:
            if s not in durations:
                raise ScheduleImportError(
                    f"{where}: job {job} has successor {s}, which is not a job of the instance")
            with model_errors(f"{where}: job {job}"):
                project.add_link(job, s, "FS", 0.0)

    warnings = []
    imported = [ImportedResource(r, r, float(m["capacity"]), f"{where}: resource {r}",
                                  levelled=m["kind"] == "renewable", kind=m["kind"])
                 for r, m in res_meta.items()]
    counts = add_resources(project, imported,
                           [(job, r, q) for job in sorted(durations)
                            for r, q in demands[job].items()], warnings=warnings)
    for job in durations:  # every job lists its demands, an empty dict when none
        project.graph.nodes[job].setdefault("resources", {})
    if resources and set(resources) != {r[0] for r in res_names} and res_names:
        warnings.append(f"resource kinds in header {resources} do not match request columns "
                        f"{res_names}")
    project.meta.update(
        source=source, format="psplib", instance=name,
        mpm_time=info.get("mpm_time"), horizon=header_int("horizon"),
        release_date=info.get("release_date"), due_date=info.get("due_date"),
        tardiness_cost=info.get("tardiness_cost"), resources=res_meta,
        random_seed=header_int("initial value random generator"),
    )
    if info.get("extra_projects"):
        warnings.append(f"PROJECT INFORMATION lists {info['extra_projects'] + 1} projects; "
                        "only the first row (release, due date, MPM-Time) was kept")
    project.meta["import_report"] = import_report(
        "psplib", source, project, calendars=0, warnings=warnings, **counts)
    return project


def _parse_resource_kinds(rows, where) -> dict[str, int]:
    out = {}
    for lineno, line in rows:
        m = re.search(r":\s*(\d+)\s+([RND])\b", line)
        if m:
            out[m.group(2)] = _ints(m.group(1), where, lineno)[0]
    return {k: v for k, v in out.items() if v}


def _parse_project_info(rows, where) -> dict:
    data_rows = [(n, line) for n, line in rows if not line.lower().startswith("pronr")]
    if not data_rows:
        return {}
    lineno, line = data_rows[0]
    nums = _ints(line, where, lineno)
    if len(nums) < 6:
        raise ScheduleImportError(
            f"{where}, line {lineno}: PROJECT INFORMATION row should have 6 numbers "
            f"(pronr #jobs rel.date duedate tardcost MPM-Time), got {line!r}")
    return {"release_date": nums[2], "due_date": nums[3], "tardiness_cost": nums[4],
            "mpm_time": nums[5], "extra_projects": len(data_rows) - 1}


#: The largest number a PSPLIB field may hold: 64 bits (a header's random seed has ten digits).
_MAX_FIELD = 2**63 - 1


def _ints(line: str, where: str, lineno: int) -> list[int]:
    out = []
    for t in line.split():
        if not re.fullmatch(r"[0-9]+", t):
            raise ScheduleImportError(
                f"{where}, line {lineno}: expected whole numbers >= 0, got {show(t)} in "
                f"{show(line)}")
        if len(t) > 19 or int(t) > _MAX_FIELD:
            raise ScheduleImportError(
                f"{where}, line {lineno}: the number {show(t)} is too large for a PSPLIB field "
                f"(at most {_MAX_FIELD:,})")
        out.append(int(t))
    return out


"""Is a resource-levelled schedule acceptable? An independent checker, and PSPLIB's bounds.

:func:`violations` reads a schedule against its problem (a
:class:`naive.LevellingInstance` or anything with the same attributes) and lists, in
words, every rule it breaks. It shares no code with any scheduler: it asks only what a
finished schedule must satisfy, never how one is built, so a scheduler and this checker
would have to be wrong in the same way for a bad schedule to pass.

:func:`read_psplib_bounds` reads PSPLIB's published makespans (Kolisch & Sprecher 1997,
EJOR 96(1):205-216): the proven optima of J30 (``j30opt.sm``, Demeulemeester &
Herroelen) and the best known upper bounds of J60-J120 (``j*hrs.sm``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path


def _by_id(values, ids) -> dict:
    if isinstance(values, Mapping):
        return dict(values)
    values = list(values)
    if len(values) != len(ids):
        raise ValueError(f"{len(values)} values for {len(ids)} tasks")
    return dict(zip(ids, (float(v) for v in values)))


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _at_least(a: float, b: float, tol: float) -> bool:
    """``a >= b`` up to a tolerance relative to the size of the numbers."""
    return a >= b - tol * max(1.0, abs(a), abs(b))


def violations(instance, start, finish, tol: float = 1e-9) -> list[str]:
    """Every way the schedule ``start``/``finish`` breaks ``instance``; empty if none.

    Parameters
    ----------
    instance : naive.LevellingInstance
        Reads ``ids``, ``duration``, ``links`` (pred, succ, type, lag), ``release``,
        ``fixed`` (id -> (start, finish)), ``demands`` (id -> {resource: units}) and
        ``resources`` (id -> [(from_time, capacity), ...], the first from -inf).
    start, finish : dict or sequence
        Times by task id, or in ``instance.ids`` order.
    tol : float
        Relative tolerance of every time comparison; resource ``r`` may be used up to
        ``capacity + tol * (largest capacity of r)``.

    Returns
    -------
    list of str
        One message per broken rule: durations (a fixed task: its actual dates), links
        (a fixed task's incoming links do not bind it), starts at or after 0 and the
        release, and at every start time and capacity change the usage of each resource
        (the tasks with ``start <= tau < finish``) within its capacity.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> inst = NS(ids=["a", "b"], duration={"a": 2.0, "b": 2.0}, links=[], release={},
    ...           fixed={}, demands={"a": {"R": 1.0}, "b": {"R": 1.0}},
    ...           resources={"R": [(-math.inf, 1.0)]})
    >>> violations(inst, {"a": 0.0, "b": 2.0}, {"a": 2.0, "b": 4.0})
    []
    >>> violations(inst, {"a": 0.0, "b": 1.0}, {"a": 2.0, "b": 3.0})
    ['resource R at time 1: tasks a, b use 2 > capacity 1']
    """
    ids = list(instance.ids)
    s, f = _by_id(start, ids), _by_id(finish, ids)
    out = []
    for j in ids:
        if j not in s or j not in f or math.isnan(s[j]) or math.isnan(f[j]):
            out.append(f"task {j!r}: no start or finish")
    if out:
        return out

    for j in ids:
        if j in instance.fixed:
            fs, ff = instance.fixed[j]
            if not (_close(s[j], fs, tol) and _close(f[j], ff, tol)):
                out.append(f"task {j!r}: fixed at [{fs:g}, {ff:g}] but scheduled at "
                           f"[{s[j]:g}, {f[j]:g}]")
            continue
        if not _close(f[j] - s[j], instance.duration[j], tol):
            out.append(f"task {j!r}: finish - start = {f[j] - s[j]:g}, duration is "
                       f"{instance.duration[j]:g}")
        if not _at_least(s[j], 0.0, tol):
            out.append(f"task {j!r}: starts at {s[j]:g}, before the project start 0")
        release = instance.release.get(j, 0.0)
        if release > 0 and not _at_least(s[j], release, tol):
            out.append(f"task {j!r}: starts at {s[j]:g}, before its release {release:g}")

    for q, j, kind, lag in instance.links:
        if j in instance.fixed:
            continue
        if kind == "FS":
            later, earlier, what = s[j], f[q] + lag, "start"
        elif kind == "SS":
            later, earlier, what = s[j], s[q] + lag, "start"
        elif kind == "FF":
            later, earlier, what = f[j], f[q] + lag, "finish"
        elif kind == "SF":
            later, earlier, what = f[j], s[q] + lag, "finish"
        else:
            out.append(f"link {q!r} -> {j!r}: unknown type {kind!r}")
            continue
        if not _at_least(later, earlier, tol):
            out.append(f"link {q!r} -> {j!r} ({kind}, lag {lag:g}): {what} of {j!r} is "
                       f"{later:g}, must be >= {earlier:g}")

    for r, steps in instance.resources.items():
        eps = tol * max(c for _, c in steps)
        users = [j for j in ids if instance.demands.get(j, {}).get(r, 0) > 0]
        times = sorted({s[j] for j in users} | {t for t, _ in steps if math.isfinite(t)})
        for tau in times:
            cap = [c for t, c in steps if t <= tau][-1]
            running = [j for j in users if s[j] <= tau < f[j]]
            used = sum(instance.demands[j][r] for j in running)
            if used > cap + eps:
                names = ", ".join(str(j) for j in running)
                out.append(f"resource {r} at time {tau:g}: tasks {names} use {used:g} > "
                           f"capacity {cap:g}")
    return out


_BOUND_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)(?:\s|$)")


def read_psplib_bounds(path, prefix: str | None = None) -> dict[str, int]:
    """PSPLIB's makespan list: instance name (``"j301_1"``) -> makespan.

    Rows are ``parameter instance makespan ...`` (spaces or tabs; CPU time, date and
    authors may follow); headers, rules and notes are skipped. The instance file is
    ``<prefix><parameter>_<instance>.sm``, ``prefix`` (``"j30"``) by default from the
    file name (``j30opt.sm``, ``j60hrs.sm``). The files are Latin-1 (authors' names).

    Raises
    ------
    ValueError
        No rows, or one instance listed twice with different makespans.
    """
    path = Path(path)
    if prefix is None:
        m = re.match(r"(j\d+)", path.name, re.I)
        if not m:
            raise ValueError(f"{path}: cannot tell the instance set from the file name; "
                             "pass prefix='j30' or the like")
        prefix = m.group(1).lower()
    out: dict[str, int] = {}
    for lineno, line in enumerate(path.read_text(encoding="latin-1").splitlines(), 1):
        m = _BOUND_ROW.match(line)
        if not m:
            continue
        name = f"{prefix}{int(m.group(1))}_{int(m.group(2))}"
        value = int(m.group(3))
        if out.get(name, value) != value:
            raise ValueError(f"{path}, line {lineno}: {name} listed again with makespan "
                             f"{value}, first with {out[name]}")
        out[name] = value
    if not out:
        raise ValueError(f"{path}: no 'parameter instance makespan' rows")
    return out

"""Uncertainty on deterministic schedules: percentage ranges on planned durations.

Imported schedules (MS Project, Primavera P6, PSPLIB) are deterministic: one
duration per task. What Primavera Risk Analysis calls *QuickRisk* puts the same
relative three-point range on many tasks at once: "every task may take 10 %
less or 25 % more than planned, most likely as planned". :func:`parse_uncertainty`
reads such a range, :func:`parse_rule` a range with a task filter, and
:func:`apply_uncertainty` turns the rules into a distribution per task.

Grammar
-------
A *range* (``parse_uncertainty``)::

    range  := dist "(" args ")"
    dist   := "triangular" | "pert" | "uniform" | "trigen"        (any case)
    args   := triangular: LOW, MODE, HIGH
              pert:       LOW, MODE, HIGH [, LAMB]                 LAMB > 0, default 4
              uniform:    LOW, HIGH
              trigen:     LOW, MODE, HIGH [, LOW_PCT [, HIGH_PCT]] percentiles, default 10, 90
    LOW, MODE, HIGH := a signed percentage change of the planned duration:
              "-10%", "+25%", "25%", "0" (zero is the only value allowed without "%")
    LAMB, LOW_PCT, HIGH_PCT := plain numbers; also by name ("lamb=3",
              "low_pct=5", "high_pct=95") after the points; LOW_PCT may be
              written "P5" and HIGH_PCT "P95"

``triangular(-10%, 0, +25%)`` on a task planned at 20 days is
``Triangular(18, 20, 25)``. ``trigen(-10%, 0, +25%, P5, P95)`` makes -10 % and
+25 % the 5th and 95th percentiles of a triangular whose own ends lie further
out. LOW <= MODE <= HIGH is required, and the range may never reach below
-100 % (a negative duration).

A *rule* (``parse_rule``, the CLI's ``--uncertainty``) is a range with optional
filters before it::

    rule   := { filter [","] } [":"] range
    filter := "wbs" "=" value      tasks of that WBS code and every code below it
                                   ("1.2" selects "1.2" and "1.2.7", not "1.20");
                                   a value with * ? [ ] is a glob on the code instead
            | "id" "=" value       task ids matching the glob (fnmatch, case-sensitive)
            | NAME "=" value       the node attribute NAME equals value (custom field;
                                   text compares with the attribute's text, numbers
                                   as numbers, and a list attribute, such as the
                                   summary task names MS Project files give each
                                   task, matches when one of its items does)
    value  := text without spaces, commas, colons or quotes | "quoted" | 'quoted'

``wbs=1.2 risk_profile="standard - symmetric": pert(-5%, 0, +40%)``. All
filters of a rule must hold. The rules of one call are applied in order, and a
later rule that selects a task replaces an earlier one's range for it: write the
general rule first, the exceptions after it.

What is never changed
---------------------
- tasks whose duration already is a distribution (not :class:`Fixed`): explicit
  per-task ranges win over rules;
- milestones and other tasks planned at 0 (connectors included);
- completed tasks (node ``status`` ``"complete"`` or an ``actual_finish``).

In-progress tasks of imported files carry their *remaining* duration, so the
range applies to the remaining work, as in QuickRisk. MS Project split tasks carry
their split time (node ``split_days``) in their duration; the range applies to the
work and the split time is added unchanged.

Costs
-----
:func:`apply_cost_uncertainty` (``--cost-uncertainty``) puts the same ranges, with the
same filters, on the tasks' costs: ``cost_rate`` and the remaining part of
``cost_fixed`` (the task's ``actual_cost`` is spent and stays).

Examples
--------
>>> import pmosim
>>> r = parse_uncertainty("triangular(-10%, 0, +25%)")
>>> r.apply(20.0)
Triangular(low=18.0, mode=20.0, high=25.0)
>>> p = pmosim.Project()
>>> p.add_task("dig", 20, wbs="1.1")
>>> p.add_task("pour", 10, wbs="1.2")
>>> p.add_task("done", 0)
>>> q = apply_uncertainty(p, ["triangular(-10%, 0, +25%)", "wbs=1.2: uniform(-20%, +20%)"])
>>> q.graph.nodes["dig"]["duration"], q.graph.nodes["pour"]["duration"]
(Triangular(low=18.0, mode=20.0, high=25.0), Uniform(low=8.0, high=12.0))
>>> q.graph.nodes["done"]["duration"], p.graph.nodes["dig"]["duration"]
(0, 20)
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .distributions import (Distribution, Fixed, Pert, Triangular, Trigen, Uniform,
                            as_distribution)
from .errors import ModelError
from .model import Project, as_project, planned_duration, task_duration

__all__ = ["Range", "Rule", "parse_uncertainty", "parse_rule", "apply_uncertainty", "DISTS",
           "is_deterministic", "uncertain_inputs", "zero_variance_warning",
           "apply_cost_uncertainty", "parse_cost_rule"]

#: dist name -> (number of points, names of the optional parameters, example).
DISTS = {
    "triangular": (3, (), "triangular(-10%, 0, +25%)"),
    "pert": (3, ("lamb",), "pert(-10%, 0, +25%) or pert(-10%, 0, +25%, lamb=3)"),
    "uniform": (2, (), "uniform(-10%, +20%)"),
    "trigen": (3, ("low_pct", "high_pct"), "trigen(-10%, 0, +25%, P10, P90)"),
}
_DEFAULTS = {"lamb": 4.0, "low_pct": 10.0, "high_pct": 90.0}
_POINT_NAMES = {3: ("LOW", "MODE", "HIGH"), 2: ("LOW", "HIGH")}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_BARE = re.compile(r"[^\s,:\"']+")
_GLOB = re.compile(r"[*?\[\]]")


@dataclass(frozen=True)
class Range:
    """A relative range: percentage changes of a task's planned duration.

    ``low``, ``mode`` and ``high`` are percent changes (``-10.0`` is 10 % less);
    ``mode`` is None for ``uniform``. ``params`` holds the optional parameters
    (``lamb`` of pert, ``low_pct``/``high_pct`` of trigen), defaults filled in.
    """

    kind: str
    low: float
    mode: float | None
    high: float
    params: tuple = ()

    def apply(self, planned: float, shift: float = 0.0) -> Distribution:
        """The distribution of a task planned at ``planned`` (a ``Fixed`` for 0), moved
        by ``shift``: the split time of a split task, which the range does not scale."""
        planned, shift = float(planned), float(shift)
        if planned == 0:
            return Fixed(shift)

        def at(pct):
            # planned + planned * pct / 100 keeps round cases exact (-10 % of 20 is 18.0)
            return shift + planned + planned * pct / 100.0

        extra = dict(self.params)
        if self.kind == "uniform":
            return Uniform(at(self.low), at(self.high))
        if self.kind == "triangular":
            return Triangular(at(self.low), at(self.mode), at(self.high))
        if self.kind == "pert":
            return Pert(at(self.low), at(self.mode), at(self.high), **extra)
        return Trigen(at(self.low), at(self.mode), at(self.high), **extra)

    def describe(self) -> str:
        """The canonical text, e.g. ``triangular(-10%, 0%, +25%)``; parses back to itself."""
        points = [self.low] + ([self.mode] if self.mode is not None else []) + [self.high]
        args = [f"{p:+g}%" if p else "0%" for p in points]
        args += [f"{k}={v:g}" for k, v in self.params]
        return f"{self.kind}({', '.join(args)})"

    def __str__(self):
        return self.describe()


@dataclass(frozen=True)
class Rule:
    """A :class:`Range` and the filters that select its tasks (all must hold).

    ``wbs``: a WBS code (the code and every code below it) or a glob on the code;
    ``id``: a glob on the task id; ``fields``: ``((attribute, value), ...)`` that
    must equal the node attributes. No filter selects every task.
    """

    range: Range
    wbs: str | None = None
    id: str | None = None
    fields: tuple = ()
    text: str = field(default="", compare=False)

    def selects(self, task_id, data: dict) -> bool:
        """Whether this rule's filters select the task ``task_id`` with attributes ``data``."""
        if self.id is not None and not fnmatch.fnmatchcase(str(task_id), self.id):
            return False
        if self.wbs is not None and not _wbs_match(data.get("wbs"), self.wbs):
            return False
        return all(name in data and _equals(data[name], value) for name, value in self.fields)

    def describe(self) -> str:
        filters = []
        if self.wbs is not None:
            filters.append(f"wbs={_quote(self.wbs)}")
        if self.id is not None:
            filters.append(f"id={_quote(self.id)}")
        filters += [f"{k}={_quote(str(v))}" for k, v in self.fields]
        return (" ".join(filters) + ": " if filters else "") + self.range.describe()


def _quote(text: str) -> str:
    if _BARE.fullmatch(text):
        return text
    return f"'{text}'" if '"' in text else f'"{text}"'


def _wbs_match(code, pattern: str) -> bool:
    if code is None:
        return False
    code = str(code)
    if _GLOB.search(pattern):
        return fnmatch.fnmatchcase(code, pattern)
    return code == pattern or code.startswith(pattern + ".")


def _equals(attr, value) -> bool:
    """Node attribute ``attr`` equals ``value``; text compares with the attribute's text,
    and a list attribute matches when one of its items does."""
    if attr == value:
        return True
    if isinstance(attr, (list, tuple, set, frozenset)):
        return any(_equals(item, value) for item in attr)
    if not isinstance(value, str):
        return False
    if isinstance(attr, bool):
        return value.strip().lower() in (("true", "yes", "1") if attr else ("false", "no", "0"))
    if isinstance(attr, (int, float)):
        try:
            return float(value) == attr
        except ValueError:
            return False
    return str(attr) == value


class _Scanner:
    """Left-to-right reader of one rule or range text, with positions for errors."""

    def __init__(self, text: str, what: str):
        self.text = text
        self.pos = 0
        self.what = what

    def fail(self, message: str, fix: str, pos: int | None = None):
        pos = self.pos if pos is None else pos
        found = self.text[pos:pos + 12] or "the end"
        found = repr(found) if pos < len(self.text) else found
        raise ModelError(f"{self.what} {self.text!r}: column {pos + 1}: {message}, found "
                         f"{found}; {fix}")

    def skip(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, chars: str) -> bool:
        self.skip()
        return self.pos < len(self.text) and self.text[self.pos] in chars

    def expect(self, char: str, message: str, fix: str):
        if not self.peek(char):
            self.fail(message, fix)
        self.pos += 1

    def match(self, pattern: re.Pattern):
        self.skip()
        m = pattern.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def at_end(self) -> bool:
        self.skip()
        return self.pos >= len(self.text)

    # -- a range --------------------------------------------------------------------
    def range(self) -> Range:
        start = self.pos
        m = self.match(_NAME)
        names = ", ".join(DISTS)
        if not m or m.group(0).lower() not in DISTS:
            self.pos = start
            self.skip()
            self.fail(f"expected a distribution ({names})",
                      "write e.g. triangular(-10%, 0, +25%)")
        kind = m.group(0).lower()
        n_points, optional, example = DISTS[kind]
        self.expect("(", f"expected '(' after {kind}", f"write e.g. {example}")
        points: list[tuple[float, int]] = []
        params: dict[str, tuple[float, int]] = {}
        named = False
        while True:
            if self.peek(")") and not points and not params:
                self.fail(f"{kind} needs {n_points} percentages", f"write e.g. {example}")
            arg_pos = self.pos
            name = self.match(re.compile(r"([A-Za-z_]\w*)\s*="))
            if name:
                key = name.group(1).lower()
                if key not in optional:
                    takes = f"takes {', '.join(optional)}" if optional else "takes no options"
                    self.fail(f"unknown option {name.group(1)!r}; {kind} {takes}",
                              f"write e.g. {example}", arg_pos)
                if len(points) < n_points:
                    self.fail(f"option {key} before the {n_points} percentages",
                              f"write e.g. {example}", arg_pos)
                if key in params:
                    self.fail(f"option {key} given twice", "give it once", arg_pos)
                params[key] = (self.param(kind, key, example), arg_pos)
                named = True
            elif len(points) < n_points:
                points.append((self.percent(kind, example), arg_pos))
            else:
                extra = [k for k in optional if k not in params]
                if named and extra:
                    self.fail(f"a value without a name after a named option of {kind}",
                              f"name it too, e.g. {extra[0]}=...")
                if not extra:
                    self.fail(f"too many values for {kind}", f"write e.g. {example}")
                key = extra[0]
                params[key] = (self.param(kind, key, example), arg_pos)
            if self.peek(","):
                self.pos += 1
                continue
            if self.peek(")"):
                self.pos += 1
                break
            self.fail("expected ',' or ')' after a value", f"write e.g. {example}")
        if len(points) < n_points:
            self.fail(f"{kind} needs {n_points} percentages "
                      f"({', '.join(_POINT_NAMES[n_points])}), got {len(points)}",
                      f"write e.g. {example}", self.pos - 1)
        return self.make_range(kind, points, params, example)

    def percent(self, kind: str, example: str) -> float:
        self.skip()
        start = self.pos
        m = self.match(_NUMBER)
        if not m:
            self.fail("expected a percentage such as -10% or +25%", f"write e.g. {example}")
        value = float(m.group(0))
        if self.peek("%"):
            self.pos += 1
        elif value != 0:
            self.fail(f"{m.group(0)} has no '%'; the points of a range are percentage changes "
                      "of the planned duration",
                      f"write {m.group(0)}% (or 0 for 'as planned')", start)
        if not math.isfinite(value):
            self.fail("the percentage must be finite", f"write e.g. {example}", start)
        return value

    def param(self, kind: str, key: str, example: str) -> float:
        self.skip()
        if key in ("low_pct", "high_pct") and self.peek("Pp"):
            self.pos += 1
        m = self.match(_NUMBER)
        if not m:
            self.fail(f"expected a number for {key}", f"write e.g. {example}")
        if self.peek("%"):
            self.fail(f"{key} is a plain number, not a percentage change",
                      f"write {m.group(0)} without '%'")
        value = float(m.group(0))
        if not math.isfinite(value):
            self.fail(f"{key} must be finite", f"write e.g. {example}", m.start())
        return value

    def make_range(self, kind, points, params, example) -> Range:
        values = [v for v, _ in points]
        for (v, pos), name in zip(points, _POINT_NAMES[len(points)]):
            if v < -100:
                self.fail(f"{name} {v:g}% would make durations negative",
                          "use a change of -100% or more", pos)
        for (a, _), (b, pos) in zip(points, points[1:]):
            if b < a:
                order = " <= ".join(_POINT_NAMES[len(points)])
                self.fail(f"the points must be ordered {order}, got "
                          f"{', '.join(f'{v:g}%' for v in values)}",
                          f"write e.g. {example}", pos)
        full = {k: params[k][0] if k in params else _DEFAULTS[k] for k in DISTS[kind][1]}
        if kind == "pert" and full["lamb"] <= 0:
            self.fail(f"lamb must be > 0, got {full['lamb']:g}", "use e.g. lamb=4 (classic PERT)",
                      params["lamb"][1])
        if kind == "trigen":
            lp, hp = full["low_pct"], full["high_pct"]
            if not 0 <= lp < hp <= 100:
                where = params.get("low_pct", params.get("high_pct", (0, self.pos - 1)))[1]
                self.fail(f"trigen needs 0 <= low_pct < high_pct <= 100, got {lp:g}, {hp:g}",
                          "use e.g. P10, P90", where)
            # the triangular's own minimum lies below LOW: it must not go under -100 %
            t = Trigen(100 + values[0], 100 + values[1], 100 + values[2], lp, hp)
            if t.abs_low < 0:
                self.fail(f"LOW {values[0]:g}% at P{lp:g} extrapolates to a minimum of "
                          f"{t.abs_low - 100:.0f}%, below -100% (negative durations)",
                          f"raise LOW or move low_pct towards 0 (e.g. P{max(lp / 2, 0):g})",
                          points[0][1])
        mode = values[1] if len(values) == 3 else None
        return Range(kind, values[0], mode, values[-1], tuple(full.items()))

    # -- a rule -------------------------------------------------------------------------
    def rule(self) -> Rule:
        wbs = ident = None
        fields: list[tuple[str, str]] = []
        while True:
            self.skip()
            start = self.pos
            m = self.match(_NAME)
            if m and m.group(0).lower() in DISTS and self.peek("("):
                self.pos = start
                break
            if not m:
                self.fail("expected a filter (wbs=..., id=..., FIELD=...) or a range",
                          "write e.g. wbs=1.2: triangular(-10%, 0, +25%)")
            key = m.group(0)
            self.expect("=", f"expected '=' after {key!r}",
                        f"write a filter as {key}=VALUE or a range such as "
                        "triangular(-10%, 0, +25%)")
            value = self.value()
            if key.lower() == "wbs":
                if wbs is not None:
                    self.fail("wbs given twice", "give one wbs filter per rule", start)
                wbs = value
            elif key.lower() == "id":
                if ident is not None:
                    self.fail("id given twice", "give one id pattern per rule", start)
                ident = value
            else:
                fields.append((key, value))
            if self.peek(","):
                self.pos += 1
            if self.peek(":"):
                self.pos += 1
                break
        rng = self.range()
        if not self.at_end():
            self.fail("unexpected text after the range", "remove it")
        return Rule(rng, wbs, ident, tuple(fields), self.text)

    def value(self) -> str:
        self.skip()
        if self.peek("\"'"):
            quote = self.text[self.pos]
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                self.fail(f"unclosed {quote}", f"close the quoted value with {quote}")
            value = self.text[self.pos + 1:end]
            self.pos = end + 1
            return value
        m = self.match(_BARE)
        if not m:
            self.fail("expected a value after '='",
                      "write e.g. wbs=1.2, or quote a value with spaces: name=\"a b\"")
        return m.group(0)


def parse_uncertainty(text: str) -> Range:
    """Parse a relative range such as ``"triangular(-10%, 0, +25%)"`` (see the module doc).

    Raises
    ------
    ModelError
        Naming the text, the column (1-based) and a fix, e.g.
        ``uncertainty 'triangular(-10%, 0 +25%)': column 19: expected ',' or ')' after a
        value, found '+25%)'; write e.g. triangular(-10%, 0, +25%)``.
    """
    if isinstance(text, Range):
        return text
    if not isinstance(text, str):
        raise ModelError(f"uncertainty must be text like 'triangular(-10%, 0, +25%)', "
                         f"got {text!r}")
    scanner = _Scanner(text, "uncertainty")
    rng = scanner.range()
    if not scanner.at_end():
        scanner.fail("unexpected text after the range", "remove it")
    return rng


def parse_rule(spec) -> Rule:
    """A :class:`Rule` from text (``"wbs=1.2: pert(-5%, 0, +40%)"``), a dict or a Range.

    A dict has ``range`` (text or :class:`Range`) and optionally ``wbs``, ``id``
    and ``fields`` (a dict of node attribute -> value): the shape of a
    ``[[uncertainty]]`` table.
    """
    if isinstance(spec, Rule):
        return spec
    if isinstance(spec, Range):
        return Rule(spec, text=spec.describe())
    if isinstance(spec, str):
        return _Scanner(spec, "uncertainty rule").rule()
    if isinstance(spec, dict):
        allowed = ("range", "wbs", "id", "fields")
        unknown = [k for k in spec if k not in allowed]
        if unknown or "range" not in spec:
            raise ModelError(f"uncertainty rule {spec!r}: needs 'range' and may have "
                             f"{', '.join(allowed[1:])}"
                             + (f"; unknown key {unknown[0]!r}" if unknown else ""))
        fields = spec.get("fields") or {}
        if not isinstance(fields, dict):
            raise ModelError(f"uncertainty rule {spec!r}: fields must be a table of "
                             "attribute = value")
        for key in ("wbs", "id"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                raise ModelError(f"uncertainty rule {spec!r}: {key} must be text, "
                                 f"got {spec[key]!r}")
        rng = parse_uncertainty(spec["range"])
        return Rule(rng, spec.get("wbs"), spec.get("id"), tuple(fields.items()),
                    text=str(spec))
    raise ModelError(f"an uncertainty rule is text like 'wbs=1.2: triangular(-10%, 0, +25%)', "
                     f"a dict or a Range; got {spec!r}")


def apply_uncertainty(project, rules) -> Project:
    """A copy of ``project`` with relative ranges applied to its deterministic tasks.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        Never modified.
    rules : str, Range, Rule, dict or a list of them
        Applied in order; a later rule that selects a task replaces an earlier
        one's range for it (see the module doc for the grammar and filters).

    Returns
    -------
    pmosim.Project
        Selected tasks get ``duration`` = the range on their planned duration and
        ``planned`` = that planned duration, so the deterministic (CPM) schedule is
        unchanged. ``meta["uncertainty"]`` reports the rules, how many tasks each
        set, how many were kept and why, and warnings (a rule that selects nothing).

    Raises
    ------
    ModelError
        A rule that cannot be read.
    """
    if isinstance(rules, (str, dict, Range, Rule)):
        rules = [rules]
    rules = [parse_rule(r) for r in rules]
    out = _copy(project)
    graph = out.graph
    chosen: dict[Any, int] = {}
    selected = [0] * len(rules)
    for task_id, data in graph.nodes(data=True):
        for k, rule in enumerate(rules):
            if rule.selects(task_id, data):
                chosen[task_id] = k
                selected[k] += 1
    kept = {"explicit": 0, "milestone": 0, "complete": 0}
    applied = [0] * len(rules)
    for task_id, k in chosen.items():
        data = graph.nodes[task_id]
        duration = data.get("duration")
        if isinstance(duration, Distribution) and not isinstance(duration, Fixed):
            kept["explicit"] += 1
            continue
        if data.get("status") == "complete" or data.get("actual_finish") is not None:
            kept["complete"] += 1
            continue
        planned = planned_duration(task_id, data)
        if planned == 0:
            kept["milestone"] += 1
            continue
        split = float(data.get("split_days") or 0.0)   # MS Project split time: not work
        try:
            data["duration"] = rules[k].range.apply(planned - split, shift=split)
        except ModelError as exc:
            raise ModelError(f"task {task_id!r}: {rules[k].range.describe()}: {exc}") from None
        data["planned"] = planned
        applied[k] += 1
    warnings = _rule_warnings(rules, selected, chosen, "uncertainty rule", "")
    out.meta["uncertainty"] = {
        "rules": [r.describe() for r in rules],
        "tasks_per_rule": applied,
        "kept_explicit": kept["explicit"],
        "kept_milestones": kept["milestone"],
        "kept_complete": kept["complete"],
        "warnings": warnings,
    }
    return out


def _winners(chosen: dict, n_rules: int) -> list[int]:
    counts = [0] * n_rules
    for k in chosen.values():
        counts[k] += 1
    return counts


def _copy(project) -> Project:
    """A copy that shares nothing mutable with ``project`` (distributions are immutable)."""
    project = as_project(project)
    out = copy.copy(project)
    out.graph = project.graph.copy()
    for _, data in out.graph.nodes(data=True):
        for key, value in data.items():
            if isinstance(value, (list, dict, set)):
                data[key] = copy.deepcopy(value)
    out.meta = copy.deepcopy(project.meta)
    for name in ("risks", "drivers", "branches"):
        if isinstance(getattr(project, name, None), dict):
            setattr(out, name, dict(getattr(project, name)))
    if isinstance(getattr(project, "correlations", None), list):
        out.correlations = list(project.correlations)
    return out


# -- zero-variance runs -----------------------------------------------------------------
#: The range the zero-variance warning suggests: a skewed range, longer rather than shorter.
SUGGESTED_RANGE = "pert(-10%,0,+30%)"


def _random(dist) -> bool:
    """Whether a distribution (or number, or None) can give two different values."""
    if dist is None or not isinstance(dist, Distribution):
        return False
    try:
        return float(dist.std) > 0.0
    except (TypeError, ValueError):
        return True


def uncertain_inputs(project, risks: str = "pre") -> dict[str, int]:
    """How many inputs of each kind a simulation of ``project`` draws at random.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
    risks : {"pre", "post", "none"}
        The risk register the run uses (``--risks``); with ``"none"`` risk events are
        off (drivers stay).

    Returns
    -------
    dict
        ``durations`` (tasks whose duration is a distribution with a spread; completed
        tasks, which keep their actual dates, do not count), ``lags`` (links with a
        random lag), ``existence`` (tasks that happen with a probability strictly
        between 0 and 1), ``branches``, ``risks`` (risk events that may or may not
        occur, or whose impact varies), ``drivers`` and ``costs`` (random task costs,
        project cost rate or risk cost impacts). The first six move the schedule;
        ``costs`` moves the cost only.
    """
    project = as_project(project)
    out = dict.fromkeys(("durations", "lags", "existence", "branches", "risks", "drivers",
                         "costs"), 0)
    for task_id, data in project.graph.nodes(data=True):
        fixed = data.get("fixed_start") is not None and data.get("fixed_finish") is not None
        if not fixed and _random(task_duration(task_id, data)):
            out["durations"] += 1
        p = data.get("existence")
        if isinstance(p, (int, float)) and 0.0 < float(p) < 1.0:
            out["existence"] += 1
        if _random(data.get("cost_fixed")) or _random(data.get("cost_rate")):
            out["costs"] += 1
    for _, _, data in project.graph.edges(data=True):
        out["lags"] += _random(data.get("lag"))
    for branch in project.branches.values():
        out["branches"] += sum(0.0 < o.probability for o in branch.options) > 1
    for risk in project.risks.values():
        state = risk.state(risks)
        if state is None:
            continue
        may = 0.0 < state.probability < 1.0
        impact = state.schedule_impact
        if impact is not None and state.probability > 0.0 and (
                may or _random(impact.dist) or impact.pct):
            out["risks"] += 1
        elif state.cost_impact is not None and state.probability > 0.0 and (
                may or _random(state.cost_impact)):
            out["costs"] += 1
    for driver in project.drivers.values():
        if driver.probability > 0.0 and (_random(driver.factor) or (
                driver.probability < 1.0 and float(driver.factor.mean) != 1.0)):
            out["drivers"] += 1
    out["costs"] += _random(getattr(project, "cost_rate", None))
    return out


def is_deterministic(project, risks: str = "pre") -> bool:
    """Whether every iteration of a simulation gives the same schedule.

    True when no task has an uncertain duration and nothing else that moves dates is
    random (see :func:`uncertain_inputs`): a run then reports P10 = P50 = P90, a
    standard deviation of 0 and a 100 % chance of the deterministic finish, which
    say nothing about risk. Imported schedules (MS Project, P6, PSPLIB) are like
    that until ranges are put on them (:func:`apply_uncertainty`, ``--uncertainty``).

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project()
    >>> p.add_task("a", 5)
    >>> is_deterministic(p)
    True
    >>> is_deterministic(apply_uncertainty(p, "pert(-10%, 0, +30%)"))
    False
    """
    counts = uncertain_inputs(project, risks)
    return not any(n for key, n in counts.items() if key != "costs")


def zero_variance_warning(project, risks: str = "pre", *, source=None,
                          command: str | None = None) -> str | None:
    """The warning for a run in which every iteration is the same schedule, or None.

    Parameters
    ----------
    project : pmosim.Project
    risks : {"pre", "post", "none"}
    source : str or os.PathLike, optional
        The input file as given on the command line.
    command : str, optional
        The pmosim command that runs (``"run"``, ``"report"``); with ``source`` the
        warning gives the command line that adds uncertainty, else the Python call.
    """
    if not is_deterministic(project, risks):
        return None
    project = as_project(project)
    switched = (" (--risks none switched its risk events off)" if command else
                " (risks='none' switched its risk events off)") \
        if risks == "none" and project.risks else ""
    costs = ("; only the costs vary" if uncertain_inputs(project, risks)["costs"] else "")
    if command and source is not None:
        how = (f"pmosim {command} {_shell_word(str(source))} --uncertainty "
               f"\"{SUGGESTED_RANGE}\"")
        more = ("(a range on every task's planned duration; filter it with wbs=, id= or "
                "a field, see --help), or give the tasks distributions in a scenario file")
    else:
        how = f"pmosim.uncertainty.apply_uncertainty(project, \"{SUGGESTED_RANGE}\")"
        more = ("before simulating (a range on every task's planned duration), or give "
                "the tasks distributions")
    return (f"zero variance: no task has an uncertain duration and there are no risks, "
            f"drivers or other random inputs{switched}, so every iteration is the same "
            f"schedule{costs}: P10 = P50 = P90, the standard deviation is 0 and the chance "
            f"of the deterministic finish is 100 %, which says nothing about risk. Add "
            f"uncertainty, e.g. {how} {more}")


def _shell_word(text: str) -> str:
    """``text`` as one shell word: bare when safe, else in double quotes."""
    if re.fullmatch(r"[\w@%+=:,./-]+", text):
        return text
    return '"' + re.sub(r'(["\\$`])', r"\\\1", text) + '"'


def apply_cost_uncertainty(project, rules) -> Project:
    """A copy of ``project`` with relative ranges on its task costs (``--cost-uncertainty``).

    The grammar and the filters are those of :func:`apply_uncertainty` (a later rule
    that selects a task replaces an earlier one's range for it); the points are
    percentage changes of the task's cost instead of its duration.

    Parameters
    ----------
    project : pmosim.Project or networkx.DiGraph
        Never modified.
    rules : str, Range, Rule, dict or a list of them

    Returns
    -------
    pmosim.Project
        Each selected task's ``cost_rate`` (cost per working day of the remaining
        duration) becomes the range on its value, and its ``cost_fixed`` the range on
        its *remaining* part: the ``actual_cost`` node attribute (what an imported
        schedule says was spent, part of ``cost_fixed``; see :mod:`pmosim.io.costs`) is
        added unchanged, as completed work is. Kept as they are: costs that already are
        distributions, zero costs, and completed tasks (``status`` ``"complete"``, an
        ``actual_finish`` or a ``fixed_start``). ``meta["cost_uncertainty"]`` reports
        the rules, how many tasks each set, what was kept and warnings (a rule that
        selects no costed task). The planned cost is unchanged when the ranges have
        their mode at 0 (the typical value of a cost is its mode).

    Raises
    ------
    ModelError
        A rule that cannot be read, or a project without task costs.

    Examples
    --------
    >>> import pmosim
    >>> p = pmosim.Project()
    >>> p.add_task("dig", 10, cost_rate=800.0)
    >>> p.add_task("pour", 5, cost_fixed=12_000.0, actual_cost=2_000.0, status="in progress")
    >>> q = apply_cost_uncertainty(p, "triangular(-10%, 0, +30%)")
    >>> q.graph.nodes["dig"]["cost_rate"]
    Triangular(low=720.0, mode=800.0, high=1040.0)
    >>> q.graph.nodes["pour"]["cost_fixed"]        # 2,000 spent, 10,000 uncertain
    Triangular(low=11000.0, mode=12000.0, high=15000.0)
    """
    if isinstance(rules, (str, dict, Range, Rule)):
        rules = [rules]
    rules = [parse_cost_rule(r) for r in rules]
    out = _copy(project)
    graph = out.graph
    costed = [t for t, d in graph.nodes(data=True)
              if d.get("cost_fixed") is not None or d.get("cost_rate") is not None]
    if not costed:
        listed = "; ".join(r.describe() for r in rules)
        raise ModelError(f"cost uncertainty {listed!r}: the project has no task costs "
                         "(cost_fixed or cost_rate) to put a range on; give its tasks costs "
                         "first (cost_fixed/cost_rate in a scenario, or a cost-loaded schedule)")
    chosen: dict[Any, int] = {}
    selected = [0] * len(rules)
    for task_id in costed:
        data = graph.nodes[task_id]
        for k, rule in enumerate(rules):
            if rule.selects(task_id, data):
                chosen[task_id] = k
                selected[k] += 1
    kept = {"explicit": 0, "complete": 0}
    applied = [0] * len(rules)
    for task_id, k in chosen.items():
        data = graph.nodes[task_id]
        if (data.get("status") == "complete" or data.get("actual_finish") is not None
                or data.get("fixed_start") is not None):
            kept["complete"] += 1
            continue
        rng = rules[k].range
        changed = explicit = False
        for key in ("cost_fixed", "cost_rate"):
            if data.get(key) is None:
                continue
            what = f"task {task_id!r}: {key}"
            cost = as_distribution(data[key], what)
            if not isinstance(cost, Fixed):
                explicit = True
                continue
            spent = 0.0
            if key == "cost_fixed":
                spent = min(max(_number(data.get("actual_cost"), f"task {task_id!r}: "
                                        "actual_cost"), 0.0), cost.value)
            if cost.value - spent <= 0:
                continue
            try:
                data[key] = _shifted(rng.apply(cost.value - spent), spent)
            except ModelError as exc:
                raise ModelError(f"{what}: {rng.describe()}: {exc}") from None
            changed = True
        applied[k] += changed
        kept["explicit"] += explicit and not changed
    warnings = _rule_warnings(rules, selected, chosen, "cost uncertainty rule", " with costs")
    out.meta["cost_uncertainty"] = {
        "rules": [r.describe() for r in rules],
        "tasks_per_rule": applied,
        "kept_explicit": kept["explicit"],
        "kept_complete": kept["complete"],
        "warnings": warnings,
    }
    return out


def parse_cost_rule(spec) -> Rule:
    """:func:`parse_rule` for a cost range: messages say "cost uncertainty rule"."""
    if isinstance(spec, str):
        return _Scanner(spec, "cost uncertainty rule").rule()
    return parse_rule(spec)


def _number(value, what) -> float:
    if value is None:
        return 0.0
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ModelError(f"{what} must be finite, got {value!r}")
    return x


def _shifted(dist: Distribution, offset: float) -> Distribution:
    """``dist`` moved up by ``offset`` (the spent part of a cost, which has no range)."""
    if offset == 0:
        return dist
    if isinstance(dist, Fixed):
        return Fixed(dist.value + offset)
    moved = {"low": dist.low + offset, "high": dist.high + offset}
    if hasattr(dist, "mode"):
        moved["mode"] = dist.mode + offset
    return dataclasses.replace(dist, **moved)


def _rule_warnings(rules, selected, chosen, what: str, of: str) -> list[str]:
    """Warnings for rules that select no task, or only tasks later rules replace (the
    duration and the cost templates alike)."""
    out = [f"{what} {r.describe()!r} selects no task{of}"
           for r, n in zip(rules, selected) if n == 0]
    winners = _winners(chosen, len(rules))
    out += [f"{what} {r.describe()!r} selects {n} task{'s' * (n != 1)}{of}, all replaced by "
            "later rules"
            for r, n, m in zip(rules, selected, winners) if n and not m]
    return out

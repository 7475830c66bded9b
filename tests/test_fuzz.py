"""Property-based fuzzing of every reader (hypothesis): whatever the bytes, ``pmosim.load``
returns a project or raises a ``PmosimError``, and a project it returns validates or
raises a ``PmosimError`` and schedules (``cpm``) without any other exception.

Two kinds of input: small valid files of each format mutated byte by byte (inserted,
deleted and replaced characters, including hostile ones: huge and non-finite numbers,
NUL, quotes, brackets, separators), and scenario files assembled from hostile values
in every key. The CI profile runs a bounded number of examples per test; set
``HYPOTHESIS_PROFILE=long`` (or run ``python benchmarks/fuzz_inputs.py``) for a long
run.
"""

import math
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import pmosim
from pmosim.errors import PmosimError

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=int(os.environ.get("PMOSIM_FUZZ_EXAMPLES",
                                                                  "3000")),
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SCENARIO = """[project]
name = "fuzz"
start = "2027-03-01"
levelling = "serial"
[[resources]]
id = "crew"
capacity = 2
changes = [{ at = 5, capacity = 1 }]
[[tasks]]
id = "a"
duration = { dist = "triangular", low = 1, mode = 2, high = 4 }
resources = { crew = 1 }
cost_rate = 100
[[tasks]]
id = "b"
duration = 3
predecessors = ["a FS+1"]
[[tasks]]
id = "c"
duration = { dist = "pert", low = 1, mode = 2, high = 6 }
predecessors = [{ id = "b", type = "SS", lag = 1 }]
[[risks]]
id = "R1"
probability = 0.3
tasks = ["b"]
schedule_impact = { pct = 20 }
"""

CSV = "id,duration,predecessors,dist,low,mode,high,resources\na,2,,,,,,crew:1\nb,,a,pert,1,2,5,\n"

MSPDI = """<?xml version="1.0"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <StartDate>2024-01-08T08:00:00</StartDate><MinutesPerDay>480</MinutesPerDay>
  <Tasks>
    <Task><UID>1</UID><ID>1</ID><Name>A</Name><Duration>PT16H0M0S</Duration></Task>
    <Task><UID>2</UID><ID>2</ID><Name>B</Name><Duration>PT8H0M0S</Duration>
      <PredecessorLink><PredecessorUID>1</PredecessorUID><Type>1</Type>
        <LinkLag>4800</LinkLag></PredecessorLink></Task>
  </Tasks>
</Project>
"""

XER = "\n".join([
    "ERMHDR\t8.1",
    "%T\tPROJECT", "%F\tproj_id\tproj_short_name\tlast_recalc_date\tclndr_id",
    "%R\t1\tP\t2024-01-08 08:00\t7",
    "%T\tCALENDAR", "%F\tclndr_id\tclndr_name\tday_hr_cnt\tclndr_data",
    "%R\t7\tcal\t8\t",
    "%T\tTASK",
    "%F\ttask_id\tproj_id\ttask_code\ttask_name\ttask_type\tstatus_code\t"
    "remain_drtn_hr_cnt\tclndr_id\tcstr_type\tcstr_date",
    "%R\t1\t1\tA\tA\tTT_Task\tTK_NotStart\t16\t7\t\t",
    "%R\t2\t1\tB\tB\tTT_Task\tTK_NotStart\t8\t7\t\t",
    "%T\tTASKPRED", "%F\ttask_pred_id\ttask_id\tpred_task_id\tpred_type\tlag_hr_cnt",
    "%R\t1\t2\t1\tPR_FS\t8",
    "%E", ""])

PSPLIB = """************************************************************************
jobs (incl. supersource/sink ):  4
horizon                       :  20
RESOURCES
  - renewable                 :  1   R
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1
------------------------------------------------------------------------
  1      1     0       0
  2      1     3       2
  3      1     4       2
  4      1     0       0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1
  3
************************************************************************
"""

#: Pieces a mutation inserts: hostile numbers, characters that close or open structures.
HOSTILE = ["1e308", "-1e308", "nan", "inf", "-0", "9" * 400, "1e-324", "\x00", "\t", "\n", '"',
           "'", "[", "]", "{", "}", "<", ">", "&", "%R", "%T", ",", ";", "=", ":", "abc",
           "-PT8H0M0S", "9999-12-31", "0000-00-00", "\u202e", "\ufeff", " " * 300]


#: A field of any of the formats: what follows '=', a tab, a comma, '>' or ':' up to the
#: next separator.
FIELD = re.compile(r"(?<=[=\t,>:])[^=\t,<>\n]*")
#: Hostile field values, TOML-valid ones among them so that the file still parses.
HOSTILE_FIELDS = HOSTILE + [" 1e308", " -1", " nan", " inf", ' "x"', " []", " {}", " 1e16",
                            ' "1e308"', " 5e-324", ' "-PT8H0M0S"', " 0", " -0.0", " 2e15"]


def _mutate(draw, text):
    """Up to five edits of ``text``: a field replaced by a hostile value (keeps the
    structure, so the reader gets past its parser), insertions of hostile pieces,
    deletions, replaced characters, duplicated spans."""
    for _ in range(draw(st.integers(1, 5))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["field", "field", "field", "insert", "delete", "replace",
                                     "duplicate"]))
        fields = list(FIELD.finditer(text))
        if kind == "field" and fields:
            m = fields[draw(st.integers(0, len(fields) - 1))]
            text = text[:m.start()] + draw(st.sampled_from(HOSTILE_FIELDS)) + text[m.end():]
        elif kind == "insert":
            text = text[:i] + draw(st.sampled_from(HOSTILE)) + text[i:]
        elif kind == "delete":
            j = min(len(text), i + draw(st.integers(1, 40)))
            text = text[:i] + text[j:]
        elif kind == "replace":
            text = text[:i] + draw(st.characters()) + text[i + 1:]
        else:
            j = min(len(text), i + draw(st.integers(1, 80)))
            text = text[:j] + text[i:j] + text[j:]
    return text


@st.composite
def mutated(draw, seed):
    return _mutate(draw, seed)


def _check(files: dict, main: str):
    """Write ``files`` into a fresh folder and read ``main`` as a user would."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            Path(folder, name).write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            project = pmosim.load(Path(folder, main))
        except PmosimError:
            event("refused by the reader")
            return
        try:
            project.validate()
            pmosim.cpm(project)
            event("scheduled")
        except PmosimError:
            event("refused by validation or cpm")


@given(mutated(SCENARIO))
def test_mutated_scenarios(text):
    _check({"plan.toml": text}, "plan.toml")


@given(mutated(CSV))
def test_mutated_task_csv(text):
    _check({"plan.toml": '[project]\ntasks_csv = "t.csv"\n[[resources]]\nid = "crew"\n'
                         'capacity = 1\n', "t.csv": text}, "plan.toml")


@given(mutated(MSPDI))
def test_mutated_ms_project_xml(text):
    _check({"plan.xml": text}, "plan.xml")


@given(mutated(XER))
def test_mutated_p6_xer(text):
    _check({"plan.xer": text}, "plan.xer")


@given(mutated(PSPLIB))
def test_mutated_psplib(text):
    _check({"plan.sm": text}, "plan.sm")


#: TOML values of every type, hostile ones among them.
values = st.recursive(
    st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
              st.sampled_from([0, -1, 1e15, 1e16, 5e-324, 1.7e308]), st.booleans(),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["dist", "low", "mode", "high",
                                                             "mean", "sd", "pct", "id", "type",
                                                             "lag", "at", "capacity"]),
                                            inner, max_size=4)),
    max_leaves=8)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                             for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


TASK_KEYS = ["duration", "planned", "predecessors", "existence", "cost_fixed", "cost_rate",
             "release", "fixed_start", "fixed_finish", "resources", "priority", "when", "name"]


@given(st.lists(st.dictionaries(st.sampled_from(TASK_KEYS), values, max_size=4), min_size=1,
                max_size=4),
       st.dictionaries(st.sampled_from(["capacity", "changes", "name"]), values, max_size=3),
       st.dictionaries(st.sampled_from(["start", "levelling", "priority", "cost_rate",
                                        "budget"]), values, max_size=2))
def test_scenarios_with_hostile_values_in_every_key(tasks, resource, project):
    lines = ["[project]"] + [f"{k} = {_toml(v)}" for k, v in project.items()]
    lines += ["[[resources]]", 'id = "crew"'] + [f"{k} = {_toml(v)}" for k, v in resource.items()]
    for i, task in enumerate(tasks):
        lines += ["[[tasks]]", f'id = "t{i}"'] + [f"{k} = {_toml(v)}" for k, v in task.items()]
    _check({"plan.toml": "\n".join(lines) + "\n"}, "plan.toml")


def test_the_seeds_themselves_load():
    """The unmutated seeds are valid files, so mutations start from real structure."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("a.toml", SCENARIO), ("a.xml", MSPDI), ("a.xer", XER),
                           ("a.sm", PSPLIB)):
            Path(folder, name).write_text(text)
            assert pmosim.load(Path(folder, name)).n_tasks >= 2, name


if __name__ == "__main__":      # pragma: no cover
    pytest.main([__file__, "-q"])

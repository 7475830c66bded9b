"""PSPLIB import (Kolisch & Sprecher 1997, EJOR 96(1):205-216, data in ../shared/data/psplib).

The ``MPM-Time`` in each header is the unconstrained critical-path length, an exact
oracle for the deterministic CPM finish of every instance.
"""


import pytest

import pmosim
from pmosim.distributions import Fixed
from pmosim.errors import ScheduleImportError
from pmosim.io.psplib import read_psplib, read_psplib_all

from _data import data_dir, naive_forward_pass


SETS = {"j30.sm": 480, "j60.sm": 480, "j90.sm": 480, "j120.sm": 600}


def cpm_finish(project):
    return pmosim.cpm(project).finish


@pytest.mark.parametrize("folder", sorted(SETS))
def test_cpm_finish_equals_mpm_time(folder):
    projects = read_psplib_all(data_dir("psplib", folder))
    assert len(projects) == SETS[folder]
    wrong = [(p.meta["instance"], cpm_finish(p), p.meta["mpm_time"]) for p in projects
             if cpm_finish(p) != p.meta["mpm_time"]]
    assert wrong == []


def test_engine_agrees_with_naive_pass_on_a_sample():
    for p in read_psplib_all(data_dir("psplib", "j120.sm"))[::50]:
        assert pmosim.cpm(p).finish == max(naive_forward_pass(p.graph)[1].values())


def test_one_instance_keeps_resources_and_header():
    p = read_psplib(data_dir("psplib", "j30.sm", "j301_1.sm"))
    assert p.n_tasks == 32 and p.graph.number_of_edges() == 48
    assert p.meta["mpm_time"] == 38 and p.meta["horizon"] == 158 and p.meta["due_date"] == 38
    assert p.meta["resources"] == {
        "R1": {"kind": "renewable", "capacity": 12}, "R2": {"kind": "renewable", "capacity": 13},
        "R3": {"kind": "renewable", "capacity": 4}, "R4": {"kind": "renewable", "capacity": 12}}
    assert p.graph.nodes[2]["duration"] == Fixed(8)
    assert p.graph.nodes[2]["resources"] == {"R1": 4}
    assert p.graph.nodes[1]["duration"] == Fixed(0) and p.graph.nodes[1]["resources"] == {}
    assert set(p.graph.successors(1)) == {2, 3, 4}
    report = p.meta["import_report"]
    assert report["tasks"] == 32 and report["links_by_type"]["FS"] == 48
    assert report["lags"] == 0 and report["warnings"] == []
    p.validate()


def test_renewable_resources_are_levelling_resources():
    """Capacities and demands are the file's: its RESOURCEAVAILABILITIES row and each
    job's request columns (read here from the text, independently of the reader)."""
    path = data_dir("psplib", "j30.sm", "j301_1.sm")
    lines = path.read_text().splitlines()
    at = lines.index("RESOURCEAVAILABILITIES:")
    names = ["R" + n for n in lines[at + 1].split("R")[1:]]
    names = [n.replace(" ", "") for n in names]
    capacity = dict(zip(names, map(float, lines[at + 2].split())))
    assert capacity == {"R1": 12.0, "R2": 13.0, "R3": 4.0, "R4": 12.0}
    start = lines.index("REQUESTS/DURATIONS:") + 3
    demands = {}
    for line in lines[start:start + 32]:
        job, _, _, *req = map(int, line.split())
        demands[job] = {r: q for r, q in zip(names, req) if q}
    p = read_psplib(path)
    assert {r.id: r.capacity for r in p.resources.values()} == capacity
    assert all(r.changes == () for r in p.resources.values())
    assert {v: d["resources"] for v, d in p.graph.nodes(data=True)} == demands
    report = p.meta["import_report"]
    assert (report["resources"], report["assignments"], report["resources_not_levelled"],
            report["assignments_not_levelled"], report["demands_capped"]) == (
        4, sum(len(d) for d in demands.values()), 0, 0, 0)
    assert pmosim.cpm(p, levelling="serial").finish >= 43  # the proven optimum of j301_1


TINY = """projects : 1
jobs (incl. supersource/sink ):  4
horizon : 20
RESOURCES
  - renewable : 1 R
  - nonrenewable : 1 N
  - doubly constrained : 0 D
PROJECT INFORMATION:
pronr.  #jobs rel.date duedate tardcost  MPM-Time
    1      2      0       9       1        7
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          0
REQUESTS/DURATIONS:
jobnr. mode duration  R 1  N 1
----------------------------
  1      1     0       0    0
  2      1     {d2}       {r2}    5
  3      1     7       2    3
  4      1     0       0    0
RESOURCEAVAILABILITIES:
  R 1  N 1
   {cap}    7
"""


def test_nonrenewable_resources_are_reported_not_levelled(tmp_path):
    path = tmp_path / "tiny.sm"
    path.write_text(TINY.format(d2=4, r2=3, cap=4))
    p = read_psplib(path)
    assert list(p.resources) == ["R1"] and p.resources["R1"].capacity == 4.0
    g = p.graph
    assert (g.nodes[2]["resources"], g.nodes[2]["resources_not_levelled"]) == ({"R1": 3}, {"N1": 5})
    assert p.meta["resources"]["N1"] == {"kind": "nonrenewable", "capacity": 7}
    assert p.meta["resources_not_levelled"] == {
        "N1": {"name": "N1", "kind": "nonrenewable", "capacity": 7.0}}
    assert p.meta["import_report"]["warnings"] == [
        "resources: 1 kept for levelling with 2 assignments; not levelled: 1 nonrenewable "
        "resource with 2 assignments (kept in meta['resources_not_levelled'] and the tasks' "
        "resources_not_levelled)"]
    p.validate()
    # jobs 2 and 3 need 3 + 2 of R1's 4 units: levelled, they run one after the other
    assert pmosim.cpm(p).finish == 7 and pmosim.cpm(p, levelling="serial").finish == 11


def test_a_demand_above_the_capacity_is_capped(tmp_path):
    path = tmp_path / "tiny.sm"
    path.write_text(TINY.format(d2=4, r2=6, cap=4))
    p = read_psplib(path)
    assert p.graph.nodes[2]["resources"] == {"R1": 4.0}
    assert p.graph.nodes[2]["resources_capped"] == {"R1": 6}
    assert p.meta["import_report"]["warnings"][-1] == (
        "1 demand above the resource's capacity capped at the capacity (the task takes the "
        "whole resource while it runs; the file's units are in the task attribute "
        "resources_capped): task 2 needs 6 of resource 'R1' (R1, capacity 4)")
    p.validate()


def test_concatenated_instances(tmp_path):
    a = data_dir("psplib", "j30.sm", "j301_1.sm").read_text()
    b = data_dir("psplib", "j60.sm", "j601_1.sm").read_text()
    both = tmp_path / "two.sm"
    both.write_text(a + b)
    projects = read_psplib_all(both)
    assert [p.n_tasks for p in projects] == [32, 62]
    assert [p.meta["instance"] for p in projects] == ["two#1", "two#2"]
    with pytest.raises(ScheduleImportError, match="holds 2 PSPLIB instances"):
        read_psplib(both)


def test_directory_needs_read_all():
    with pytest.raises(ScheduleImportError, match="read_psplib_all"):
        read_psplib(data_dir("psplib", "j30.sm"))


def test_bad_files(tmp_path):
    text = data_dir("psplib", "j30.sm", "j301_1.sm").read_text()
    cut = tmp_path / "cut.sm"
    lines = text.splitlines(keepends=True)
    cut.write_text("".join(lines[:60]))  # the last request rows are gone
    with pytest.raises(ScheduleImportError, match="cut.sm: jobs .* appear in only one"):
        read_psplib(cut)
    cut.write_text("".join(lines[:59]) + lines[59][:12])  # a row cut in half
    with pytest.raises(ScheduleImportError, match=r"cut.sm, line 60: request row"):
        read_psplib(cut)
    other = tmp_path / "other.sm"
    other.write_text("hello\n")
    with pytest.raises(ScheduleImportError, match="not a PSPLIB .sm file"):
        read_psplib(other)
    binary = tmp_path / "bin.sm"
    binary.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(ScheduleImportError, match="binary file"):
        read_psplib(binary)
    multi = tmp_path / "multi.sm"
    multi.write_text(text.replace("   2        1          3", "   2        3          3"))
    with pytest.raises(ScheduleImportError, match="job 2 has 3 modes"):
        read_psplib(multi)
    with pytest.raises(ScheduleImportError, match="no such PSPLIB file"):
        read_psplib(tmp_path / "missing.sm")


def test_load_dispatches_to_read_psplib():
    p = pmosim.load(data_dir("psplib", "j30.sm", "j301_1.sm"))
    assert p.meta["format"] == "psplib" and p.meta["mpm_time"] == 38

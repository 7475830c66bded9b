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

"""DSLIB workbook import (Batselier & Vanhoucke 2015, IJPM 33(3):697-710; OR&S, Ghent University).

Data: ``../shared/data/dslib/Excel/*.xlsx`` (231 ProTrack workbooks; see PROVENANCE.md).
"""

from collections import Counter

import pytest

from pmosim.distributions import Fixed, Triangular
from pmosim.errors import ScheduleImportError
from pmosim.io.dslib import parse_duration, parse_predecessors, read_dslib

from _data import data_dir

pytest.importorskip("openpyxl", reason="DSLIB workbooks need the optional openpyxl (pmosim[dslib])")


@pytest.fixture(scope="module")
def all_workbooks():
    """(path, project or error message) for every workbook, read once."""
    out = []
    for path in sorted(data_dir("dslib", "Excel").glob("*.xlsx")):
        try:
            out.append((path, read_dslib(path)))
        except ScheduleImportError as exc:
            out.append((path, str(exc)))
    return out


def test_every_workbook_imports_or_says_why(all_workbooks):
    assert len(all_workbooks) == 231
    failed = {p.name: r for p, r in all_workbooks if isinstance(r, str)}
    for name, message in failed.items():
        assert message.startswith(str(data_dir("dslib", "Excel", name)) + ":")
    # the two that fail: two different activities share ID 50; a '25%' duration
    assert sorted(failed) == ["C2023-01 House renovation.xlsx",
                              "C2024-03 Learning Management System Implementation.xlsx"]
    assert "activity ID 50 appears twice" in failed["C2023-01 House renovation.xlsx"]
    for _, project in all_workbooks:
        if not isinstance(project, str):
            project.validate()


def test_relation_counts_agree_with_provenance(all_workbooks):
    """PROVENANCE.md counts 20,508 FS, 2,044 SS, 505 FF, 111 SF and 2,494 lags over the 228
    workbooks with a 'Baseline Schedule' sheet; C2023-01 (rejected) and 6 relations from a
    WBS group to its own activities (reported) are not imported."""
    types, lags = Counter(), 0
    for _, p in all_workbooks:
        if isinstance(p, str) or any("read as 'Baseline" in w
                                     for w in p.meta["import_report"]["warnings"]):
            continue
        types.update(p.meta["import_report"]["links_by_type"])
        lags += p.meta["import_report"]["lags"]
    assert types["SF"] == 111
    for kind, expected in {"FS": 20508, "SS": 2044, "FF": 505}.items():
        assert expected * 0.99 <= types[kind] <= expected
    assert 2494 * 0.99 <= lags <= 2494


def test_nursing_home_three_point_estimates():
    p = read_dslib(data_dir("dslib", "Excel", "C2011-01 Nursing Home Noordhinder.xlsx"))
    g = p.graph
    # 'standard - symmetric' 80/100/120 % of the baseline; 1d 2h = 1.25 working days
    assert g.nodes[7]["duration"] == Triangular(1.0, 1.25, 1.5)
    assert g.nodes[7]["planned"] == 1.25 and g.nodes[7]["risk_profile"] == "standard - symmetric"
    assert g.nodes[2]["duration"] == Triangular(0.4, 0.5, 0.6)  # 4h
    assert 8 not in g and 12 not in g  # WBS groups 1.1 and 1.3 are not tasks
    assert g.edges[133, 11] == {"type": "FS", "lag": -14.0}  # '133FS-2w 4d'
    report = p.meta["import_report"]
    assert report["risk_profiles"]["standard - symmetric"] > 0


def test_absolute_estimates_are_hours():
    p = read_dslib(data_dir("dslib", "Excel", "C2011-12 Claeys-Verhelst Premises.xlsx"))
    # 'manual - absolute' 402 / 480 / 812 hours
    assert p.graph.nodes[2]["duration"] == Triangular(402 / 8, 480 / 8, 812 / 8)


def test_parsers():
    assert parse_duration("1d 2h") == 1.25 and parse_duration("0") == 0
    assert parse_duration("2w 4d") == 14 and parse_duration("23,88 days") == pytest.approx(23.88)
    assert parse_predecessors("12FS;3SS+2d;7FF-1w;4SF+1w 1d;9") == [
        (12, "FS", 0.0), (3, "SS", 2.0), (7, "FF", -5.0), (4, "SF", 6.0), (9, "FS", 0.0)]
    assert parse_predecessors("15,12,13") == [(15, "FS", 0.0), (12, "FS", 0.0), (13, "FS", 0.0)]
    for bad in ("3XX", "FS3"):
        with pytest.raises(ValueError, match="cannot read relation"):
            parse_predecessors(bad)
    with pytest.raises(ValueError):
        parse_duration("25%")


def test_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("hello")
    with pytest.raises(ScheduleImportError, match=r"fake.xlsx: not an .xlsx workbook"):
        read_dslib(path)
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Something"
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(ScheduleImportError, match=r"no 'Baseline Schedule' sheet"):
        read_dslib(tmp_path / "other.xlsx")


def test_fixed_when_no_risk():
    p = read_dslib(data_dir("dslib", "Excel", "C2011-01 Nursing Home Noordhinder.xlsx"))
    fixed = [d for _, d in p.graph.nodes(data=True)
             if d["risk_profile"] in ("none", "standard - no risk")]
    assert all(isinstance(d["duration"], Fixed) for d in fixed)

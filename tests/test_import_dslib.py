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


# -- resources and demands (levelling) ----------------------------------------------------
def _resources_sheet(path):
    """Availability and Assigned To of a workbook's Resources sheet, read here with
    openpyxl and plain string splitting, independently of the reader."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(wb["Resources"].iter_rows(values_only=True))[2:]
    wb.close()
    capacity, demands = {}, {}
    for rid, _, _, availability, _, _, assigned, _ in rows:
        capacity[rid] = float(str(availability).split()[0])
        for item in assigned.strip(";").split(";"):
            act, _, units = item.partition("[")
            demands[int(act), rid] = float(units.split()[0]) if units else 1.0
    return capacity, demands


def test_nursing_home_resources_are_the_files():
    path = data_dir("dslib", "Excel", "C2011-01 Nursing Home Noordhinder.xlsx")
    capacity, demands = _resources_sheet(path)
    p = read_dslib(path)
    assert {r.id: r.capacity for r in p.resources.values()} == capacity
    assert capacity[1] == 20 and p.resources[1].name == "Handlanger"
    got = {(t, r): u for t, d in p.graph.nodes(data=True)
           for r, u in (d.get("resources") or {}).items()}
    assert got == demands and len(demands) == 200
    assert p.graph.nodes[50]["resources"] == {1: 4.0, 5: 0.5}  # '50[4.00 Handlanger]'
    report = p.meta["import_report"]
    assert (report["resources"], report["assignments"], report["resources_not_levelled"],
            report["assignments_not_levelled"], report["demands_capped"]) == (12, 200, 0, 0, 0)
    assert not any("resource" in w for w in report["warnings"])
    p.validate()


def test_demand_column_and_capped_demands_of_the_2024_workbooks():
    """Gas Pipeline leaves Assigned To empty; its Resource Demand column ('worker[3]',
    'engineer') names resources whose availability is 7, 5 and 0.3 (engineer)."""
    p = read_dslib(data_dir("dslib", "Excel", "C2024-02 Gas Pipeline.xlsx"))
    assert {r.id: (r.name, r.capacity) for r in p.resources.values()} == {
        1: ("worker", 7.0), 2: ("professional worker", 5.0), 3: ("engineer", 0.3)}
    g = p.graph
    assert g.nodes[2]["resources"] == {1: 5.0}  # 'worker[5]'
    assert g.nodes[19]["resources"] == {3: 0.3, 2: 4.0}
    assert g.nodes[18]["resources_capped"] == {3: 2.0}
    assert ("4 demands above the resource's capacity capped at the capacity (the task takes "
            "the whole resource while it runs; the file's units are in the task attribute "
            "resources_capped): task 7 needs 1 of resource 3 (engineer, capacity 0.3); task 14 "
            "needs 1 of resource 3 (engineer, capacity 0.3); task 18 needs 2 of resource 3 "
            "(engineer, capacity 0.3); task 19 needs 1 of resource 3 (engineer, capacity 0.3)"
            ) in p.meta["import_report"]["warnings"]
    p.validate()


def test_consumable_resources_are_not_levelled():
    p = read_dslib(data_dir("dslib", "Excel", "C2012-04 Asti-Cuneo Highway.xlsx"))
    assert len(p.resources) == 16
    assert p.meta["resources_not_levelled"] == {
        17: {"name": "Materials", "kind": "consumable", "capacity": -1.0, "unit": "€"},
        18: {"name": "Paving Material", "kind": "consumable", "capacity": -1.0, "unit": "€"}}
    assert p.graph.nodes[1]["resources_not_levelled"] == {17: 10000.0}  # '1[10000.00F Materials]'
    assert ("resources: 16 kept for levelling with 212 assignments; not levelled: 2 consumable "
            "resources with 37 assignments, 1 assignment with 0 units (no demand) (kept in "
            "meta['resources_not_levelled'] and the tasks' resources_not_levelled)"
            ) in p.meta["import_report"]["warnings"]


def test_every_workbook_keeps_its_resources(all_workbooks):
    """No resource is dropped: every resource row with a name is levelled or listed."""
    import warnings

    import openpyxl

    for path, p in all_workbooks:
        if isinstance(p, str):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's "unknown extension" notices
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            sheet = next((s for s in wb.sheetnames if s.startswith("Resources")), None)
            rows = list(wb[sheet].iter_rows(values_only=True))[2:] if sheet else []
            wb.close()
        named = {r[0] for r in rows if r and r[0] is not None and r[1] is not None}
        kept = set(p.resources) | set(p.meta.get("resources_not_levelled") or {})
        assert kept == named, path.name


def _workbook(tmp_path, baseline, resources):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Baseline Schedule"
    ws.append(["General", None, None, "Relations"])
    ws.append(["ID", "Name", "WBS", "Predecessors", "Duration", "Resource Demand"])
    for row in baseline:
        ws.append(row)
    rs = wb.create_sheet("Resources")
    rs.append(["General", None, None, None, "Resource Cost", None, "Resource Demand", None])
    rs.append(["ID", "Name", "Type", "Availibility", "Cost/Use", "Cost/Unit", "Assigned To",
               "Total Cost"])
    for row in resources:
        rs.append(row)
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    return path


def test_resource_demand_column_forms(tmp_path):
    path = _workbook(tmp_path, [
        [1, "Plan", "1.1", None, "2d", "PM[50%];Crew[2,00 #4]"],
        [2, "Build", "1.2", "1", "3d", "Crew,PM"],
        [3, "Test", "1.3", "2", "1d", "Crew;Tester[3];Nobody"]], [
        [1, "PM", "Renewable", None, 0, 10, None, 0],
        [2, "Crew", "renewable", "4 people", 0, 10, None, 0],
        [3, "Tester", "Renewable", "", 0, 10, None, 0],
        [4, "Budget", "Consumable", "-1 €", 0, 1, None, 0],
        [5, None, None, None, None, None, None, None]])
    p = read_dslib(path)
    assert {r.id: (r.capacity, r.name) for r in p.resources.values()} == {
        1: (1.0, "PM"), 2: (4.0, "Crew"), 3: (3.0, "Tester")}
    g = p.graph
    assert [g.nodes[t]["resources"] for t in (1, 2, 3)] == [
        {1: 0.5, 2: 2.0}, {2: 1.0, 1: 1.0}, {2: 1.0, 3: 3.0}]
    assert p.meta["resources_not_levelled"] == {
        4: {"name": "Budget", "kind": "consumable", "capacity": -1.0, "unit": "€"}}
    assert p.meta["import_report"]["warnings"][-3:] == [
        "resource demands naming no resource of the Resources sheet: 'Nobody' (row 5)",
        "2 resources without an Availability given 1 unit or their largest demand, whichever "
        "is more: 1 (PM): 1; 3 (Tester): 3",
        "resources: 3 kept for levelling with 6 assignments; not levelled: 1 consumable "
        "resource with 0 assignments, 1 assignment naming no resource of the Resources sheet "
        "(kept in meta['resources_not_levelled'] and the tasks' resources_not_levelled)"]
    p.validate()

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
    assert not any("resource" in w for w in report["warnings"] if not w.startswith("baseline"))
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


@pytest.fixture(scope="module")
def workbook_sheets(all_workbooks):
    """Per readable workbook, read here with openpyxl independently of the reader: the
    Resources sheet's rows below its header and the Baseline Schedule's first 3 rows."""
    import warnings

    import openpyxl

    out = {}
    for path, p in all_workbooks:
        if isinstance(p, str):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's "unknown extension" notices
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            sheet = next((s for s in wb.sheetnames if s.startswith("Resources")), None)
            resources = list(wb[sheet].iter_rows(values_only=True))[2:] if sheet else []
            sheet = next(s for s in wb.sheetnames if s.startswith("Baseline Schedule"))
            head = list(wb[sheet].iter_rows(values_only=True, max_row=3))
            wb.close()
        out[path] = {"resources": resources, "baseline_head": head}
    return out


def test_every_workbook_keeps_its_resources(all_workbooks, workbook_sheets):
    """No resource is dropped: every resource row with a name is levelled or listed."""
    for path, p in all_workbooks:
        if isinstance(p, str):
            continue
        rows = workbook_sheets[path]["resources"]
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


# -- baseline dates: start-no-earlier-than where the baseline implies it ------------------
def _cpm_finish_is_baseline(project) -> bool:
    """Whether pmosim's CPM finish is the import report's baseline finish: the same
    moment of working time on the workbook's agenda, to the minute."""
    import datetime as dt

    import pmosim
    from pmosim.io._common import axis_days

    baseline = dt.datetime.fromisoformat(project.meta["import_report"]["baseline"]["finish"])
    finish = max(pmosim.cpm(project, levelling=False).early_finish_date)
    a, b = axis_days(project, [finish, baseline])
    return abs(a - b) * project.meta["hours_per_day"] * 60 < 1


def test_cpm_reproduces_the_baseline_finish(all_workbooks):
    """Over every readable workbook (benchmarks/dslib_baselines.py prints the table): the
    import report's own forward pass says exactly when pmosim.cpm reproduces the baseline
    finish, each finish that differs has a finish reason naming the workbook date CPM
    cannot keep, each the report calls reproduced is reproduced, and every workbook of
    2011-2018 (ProTrack's own baselines) matches. The 2019-2025 extension holds workbooks
    whose dates break their own relations (a successor starting before its predecessor
    finishes) or were not scheduled on their agenda: 21 of 229 differ, 8 of the 191 that
    state a Baseline End."""
    read = [(path.name, p) for path, p in all_workbooks if not isinstance(p, str)]
    same, stated, stated_same = 0, 0, 0
    causes = Counter()
    for name, project in read:
        report = project.meta["import_report"]["baseline"]
        ok = _cpm_finish_is_baseline(project)
        assert report["finish_reproduced"] == ok, name
        if not ok:
            assert report["reason"] and not report["reproduced"], name
            assert report["finish_reason"].startswith(
                f"the CPM finish {report['cpm_finish']} is "), name
            assert ("baseline finish not reproduced: " + report["finish_reason"]
                    in project.meta["import_report"]["warnings"])
            causes[report["finish_cause"]["kind"]] += 1
        else:
            assert report["finish_reason"] is None and report["finish_cause"] is None
        if report["reproduced"]:
            assert ok, name
        if name < "C2019":
            assert ok, (name, report["reason"])
        same += ok
        stated += report["finish_from"] == "Baseline End"
        stated_same += ok and report["finish_from"] == "Baseline End"
    assert len(read) == 229
    assert stated_same >= 0.95 * stated
    assert same >= 0.90 * len(read)
    assert set(causes) <= {"relation broken", "dates span more than the Duration"}


def test_solar_park_waits_for_its_baseline_starts():
    """110 of Solar Park's activities have no predecessor and start when the baseline says:
    711 working days to the baseline finish, 109 when they all start at once."""
    import pmosim

    path = data_dir("dslib", "Excel", "C2012-07 Solar Park.xlsx")
    held = read_dslib(path)
    report = held.meta["import_report"]["baseline"]
    assert report["waits"] == {"no predecessor": 110, "resource": 0, "date": 7}
    assert report["start_no_earlier_than"] == 117 and report["reproduced"]
    assert pmosim.cpm(held, levelling=False).finish == pytest.approx(711.0)
    loose = read_dslib(path, baseline_starts="none")
    assert pmosim.cpm(loose, levelling=False).finish == pytest.approx(109.0)
    assert "117 activities start later than the links allow" in loose.meta[
        "import_report"]["baseline"]["reason"]


def _agenda(ws, hours, days, holidays=()):
    ws.append(["Working Hours", None, None, "Working Days", None, None, "Holidays (Optional)"])
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    holidays = list(holidays)
    for h in range(24):
        ws.append([f"{h}:00 - {(h + 1) % 24}:00", "Yes" if h in hours else "No", None,
                   names[h] if h < 7 else None,
                   ("Yes" if h in days else "No") if h < 7 else None, None,
                   holidays[h] if h < len(holidays) else None])


def _plan(tmp_path, activities, *, resources=(), project_total=None, name="agenda.xlsx"):
    """A workbook on a 10-hour agenda (7:00-12:00, 13:00-18:00), Monday to Saturday,
    with a holiday on Friday 2024-01-12."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Baseline Schedule"
    ws.append(["General"])
    ws.append(["ID", "Name", "WBS", "Predecessors", "Successors", "Baseline Start",
               "Baseline End", "Duration", "Resource Demand", "Resource Cost", "Fixed Cost",
               "Cost/Hour", "Variable Cost", "Total Cost"])
    ws.append([0, "Plan", "1", None, None, dt.datetime(2024, 1, 8, 7), None, None, None,
               None, None, None, None, project_total])
    for k, row in enumerate(activities, start=1):
        ws.append([row[0], row[1], f"1.{k}", *row[2:]])
    rs = wb.create_sheet("Resources")
    rs.append(["General"])
    rs.append(["ID", "Name", "Type", "Availability", "Cost/Use", "Cost/Unit", "Assigned To",
               "Total Cost"])
    for row in resources:
        rs.append(row)
    _agenda(wb.create_sheet("Agenda"), hours=[7, 8, 9, 10, 11, 13, 14, 15, 16, 17],
            days=range(6), holidays=[dt.datetime(2024, 1, 12)])
    path = tmp_path / name
    wb.save(path)
    return path


def _at(day, hour):
    import datetime as dt
    return dt.datetime(2024, 1, day, hour)


#: ID, Name, Predecessors, Successors, Baseline Start, Baseline End, Duration, demand
_WAITS = [
    [1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None],
    # 1w = 6 working days of this agenda; Friday 12 is a holiday
    [2, "B", "1FS", None, _at(10, 7), _at(17, 18), "1w", None],
    [3, "C", None, None, _at(11, 7), _at(11, 12), "5h", None],      # waits: no predecessor
    [4, "D", "3FS", None, _at(15, 7), _at(18, 18), "4d", None],     # waits: a date
    [5, "E", "1FS", None, _at(11, 7), _at(11, 18), "1d", None],     # waits: the crane (F)
    [6, "F", "1FS", None, _at(10, 7), _at(10, 18), "1d", None],
    [7, "G", "2FS;4FS", None, _at(18, 18), _at(18, 18), "0", None],
]


def test_agenda_units_and_the_causes_of_a_wait(tmp_path):
    import pmosim

    crane = [[1, "crane", "Renewable", "1 #1", 0, 0, "5;6", None]]
    path = _plan(tmp_path, _WAITS, resources=crane)
    p = read_dslib(path)
    g = p.graph
    assert p.meta["hours_per_day"] == 10.0
    assert [g.nodes[t]["planned"] for t in (1, 2, 3, 4)] == [2.0, 6.0, 0.5, 4.0]
    assert p.meta["calendars"]["agenda"]["week"][5] == [(7.0, 12.0), (13.0, 18.0)]
    assert p.meta["calendars"]["agenda"]["week"][6] == []
    assert [g.nodes[t].get("baseline_wait") for t in (1, 2, 3, 4, 5, 6)] == [
        None, None, "no predecessor", "date", "resource", None]
    assert g.nodes[3]["constraint"] == ("SNET", _at(11, 7))
    assert g.nodes[3]["release"] == pytest.approx(3.0)      # Mon 8, Tue 9, Wed 10
    report = p.meta["import_report"]["baseline"]
    assert report["reproduced"] and report["reason"] is None
    assert report["waits"] == {"no predecessor": 1, "resource": 1, "date": 1}
    cpm = pmosim.cpm(p, levelling=False)
    assert max(cpm.early_finish_date) == _at(18, 18)
    starts = dict(zip(cpm.task_ids, cpm.early_start_date))
    assert {t: starts[t] for t in range(1, 7)} == {t: g.nodes[t]["tool_start"]
                                                     for t in range(1, 7)}

    dated = read_dslib(path, baseline_starts="dated")
    assert "constraint" not in dated.graph.nodes[5]
    assert "waiting for a resource" in dated.meta["import_report"]["baseline"]["reason"]
    loose = read_dslib(path, baseline_starts="none")
    assert max(pmosim.cpm(loose, levelling=False).early_finish_date) == _at(17, 18)
    with pytest.raises(ScheduleImportError, match="baseline_starts='some' is not one of all"):
        read_dslib(path, baseline_starts="some")


def test_broken_relations_and_dates_off_the_agenda_are_named(tmp_path):
    rows = [[1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None],
            # starts on the day its predecessor finishes: one working day too early
            [2, "B", "1FS", None, _at(9, 7), _at(9, 18), "1d", None],
            # 3 working days between its dates (Fri 12 is a holiday), Duration 2 days
            [3, "C", "2FS", None, _at(10, 7), _at(13, 18), "2d", None]]
    p = read_dslib(_plan(tmp_path, rows))
    report = p.meta["import_report"]["baseline"]
    assert (report["relations_broken"], report["dates_off_agenda"]) == (1, 1)
    assert not report["reproduced"]
    assert report["reason"] == (
        "the baseline dates break 1 relation of the workbook, a data error in the workbook "
        "(CPM starts those activities when their links allow, later than the baseline), 1 by "
        "one working day (a successor starting on the day its predecessor finishes): activity "
        "2 starts 2024-01-09 07:00, 1 working day before its FS predecessor 1 allows; 1 "
        "activity has baseline dates whose working time differs from the Duration (the dates "
        "were not scheduled on the workbook's agenda): activity 3: 3 working days between its "
        "dates, Duration 2 working days")
    assert ("baseline dates not reproduced by the CPM schedule: " + report["reason"]
            in p.meta["import_report"]["warnings"])


def test_dates_without_a_time_of_day(tmp_path):
    """A text date is the start of the agenda's day as a start and its end as an end; a
    milestone dated without a time is at the end of its day."""
    rows = [[1, "A", None, None, "08/01/2024", "09/01/2024", "2d", None],
            [2, "M", "1FS", None, "09/01/2024", "09/01/2024", "0", None]]
    p = read_dslib(_plan(tmp_path, rows))
    g = p.graph
    assert (g.nodes[1]["tool_start"], g.nodes[1]["tool_finish"]) == (_at(8, 7), _at(9, 18))
    assert g.nodes[2]["tool_start"] == _at(9, 18)
    assert p.meta["import_report"]["baseline"]["reproduced"]


# -- costs -----------------------------------------------------------------------------
def test_costs_fixed_and_per_day(tmp_path):
    """Resource Cost splits into the Cost/Use of each unit and fixed consumable quantities
    (fixed) and units x Cost/Unit per hour (per working day of 10 hours); Variable Cost is
    per day; a milestone's cost is fixed; the planned cost is the workbook's total."""
    import pmosim

    rows = [[1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None, None, None, 25, 500, 500],
            [2, "E", "1FS", None, _at(10, 7), _at(10, 18), "1d", None, 300, 50, 2, 20, 370],
            # 2 crane units: Cost/Use 100 each; 3 fixed units of concrete at 50
            [3, "F", "2FS", None, _at(11, 7), _at(11, 18), "1d", None, 750, 0, 0, 0, 750],
            [4, "M", "3FS", None, _at(11, 18), _at(11, 18), "0", None, None, 1000, None, None,
             None]]
    resources = [[1, "crane", "Renewable", "2 #2", 100, 20, "2;3[2.00 crane]", None],
                 [2, "concrete", "Consumable", "-1 #m3", 0, 50, "3[3.00F #-1]", None]]
    p = read_dslib(_plan(tmp_path, rows, resources=resources, project_total=2620))
    g = p.graph
    assert "cost_fixed" not in g.nodes[1] and g.nodes[1]["cost_rate"] == 250
    assert (g.nodes[2]["cost_fixed"], g.nodes[2]["cost_rate"]) == (150, 220)
    assert (g.nodes[3]["cost_fixed"], g.nodes[3]["cost_rate"]) == (350, 400)
    assert g.nodes[4]["cost_fixed"] == 1000 and "cost_rate" not in g.nodes[4]
    costs = p.meta["import_report"]["costs"]
    assert (costs["at_completion"], costs["budgeted"], costs["time_dependent"],
            costs["resource_costs_split"]) == (2620, 2620, 1120, 2)
    assert p.meta["resource_rates"] == {1: {"cost_per_use": 100, "cost_per_unit_hour": 20},
                                        2: {"cost_per_use": 0, "cost_per_unit_hour": 50}}
    result = pmosim.simulate(p, 64, seed=1)
    assert result.cost.deterministic == pytest.approx(2620, abs=0.005)


def test_planned_cost_is_the_workbooks_project_cost(all_workbooks, workbook_sheets):
    """Every workbook with a project cost on its project row: the tasks' planned cost
    (cost_fixed + cost_rate x planned duration) equals it to the cent, except Steel
    industry, whose activities add up to 84,909,000 against 3,811,500 on the project row
    (said in a warning)."""
    checked = 0
    for path, p in all_workbooks:
        if isinstance(p, str) or not p.meta["import_report"]["costs"]["tasks"]:
            continue
        rows = workbook_sheets[path]["baseline_head"]
        head = [str(h).strip() if h else "" for h in rows[1]]
        project_row = rows[2] if rows[2][0] == 0 else None
        if project_row is None:
            continue
        cell = {h: project_row[k] for k, h in enumerate(head) if h and k < len(project_row)}
        parts = [cell.get(f) for f in ("Resource Cost", "Fixed Cost", "Variable Cost")]
        total = (cell.get("Total Cost") if cell.get("Total Cost") is not None
                 else sum(x or 0 for x in parts) if any(x is not None for x in parts) else None)
        if total is None:
            continue
        planned = sum(float(d.get("cost_fixed") or 0) + float(d.get("cost_rate") or 0)
                      * float(d.get("planned") or 0) for _, d in p.graph.nodes(data=True))
        if path.name.startswith("C2023-06"):
            assert planned == pytest.approx(84_909_000) and total == 3_811_500
            continue
        assert planned == pytest.approx(total, abs=0.01), path.name
        checked += 1
    assert checked == 162


# -- the Risk Analysis sheet's unit ------------------------------------------------------
@pytest.mark.parametrize("name, rows", [("C2024-01 Signalisation work Peru.xlsx", 67),
                                        ("C2025-05 Education Service.xlsx", 58)])
def test_standard_profiles_given_in_working_days(name, rows):
    """Two workbooks give their 'standard' profiles in days (0.5 / 1 / 1.5 for a 1-day
    activity), the sheet says no unit: read as days, every Most Probable is the baseline
    Duration (read as percentages, the estimates were 1 % of it), and a warning says so."""
    p = read_dslib(data_dir("dslib", "Excel", name))
    report = p.meta["import_report"]
    assert report["risk_units"] == {
        "read_as": "working days", "read_otherwise": [],
        "votes": {"percent": 0, "working days": rows, "undecided": 0}}
    three = [d for _, d in p.graph.nodes(data=True) if isinstance(d["duration"], Triangular)]
    assert len(three) == rows
    assert all(d["duration"].mode == d["planned"] for d in three)
    assert p.graph.nodes[3]["duration"] == Triangular(0.5, 1.0, 1.5)
    assert sum("read as working days, not percentages of the baseline Duration" in w
               for w in report["warnings"]) == 1


def test_percentage_profiles_stay_percentages():
    """A ProTrack workbook (80 / 100 / 120 %): read as percentages without a word; in a
    percentage sheet of the extension, the one row whose values are days (50 / 72 / 94 for
    a 72-day activity) is read as days and named."""
    p = read_dslib(data_dir("dslib", "Excel", "C2011-01 Nursing Home Noordhinder.xlsx"))
    units = p.meta["import_report"]["risk_units"]
    assert units["read_as"] == "percent of the Duration" and units["read_otherwise"] == []
    assert units["votes"]["working days"] == 0 and units["votes"]["percent"] > 0
    assert not any("give no unit" in w for w in p.meta["import_report"]["warnings"])
    assert p.graph.nodes[7]["duration"] == Triangular(1.0, 1.25, 1.5)

    q = read_dslib(data_dir("dslib", "Excel", "C2025-03 School Classroom Construction.xlsx"))
    report = q.meta["import_report"]
    assert report["risk_units"]["read_as"] == "percent of the Duration"
    assert report["risk_units"]["read_otherwise"] == [17]
    assert q.graph.nodes[17]["duration"] == Triangular(50.0, 72.0, 94.0)
    assert q.graph.nodes[2]["duration"] == Triangular(0.5, 1.0, 1.5)   # 50 / 100 / 150 %
    assert any(w.startswith("sheet 'Risk Analysis': activity 17 read as working days unlike "
                            "the rest of the sheet") for w in report["warnings"])


def _with_risk(path, rows):
    """Add a Risk Analysis sheet: (ID, Description, Optimistic, Most Probable, Pessimistic)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("Risk Analysis")
    ws.append(["General", None, "Baseline", "Activity Duration Distribution Profiles"])
    ws.append(["ID", "Name", "Duration", "Description", "Optimistic", "Most Probable",
               "Pessimistic"])
    for act_id, profile, *values in rows:
        ws.append([act_id, None, None, profile, *values])
    wb.save(path)
    return path


def test_estimate_units_by_the_rows_and_the_exceptions(tmp_path):
    """Days by the majority; a row of 80 / 100 / 120 for a 4-day activity is percentages
    (only that reading keeps its Duration inside its range); 'manual - relative' rows are
    percentages and 'manual - absolute' rows hours whatever the sheet's unit."""
    rows = [[1, "A", None, None, _at(8, 7), None, "2d", None],
            [2, "B", "1FS", None, _at(10, 7), None, "5d", None],
            [3, "C", "2FS", None, _at(17, 7), None, "4d", None],
            [4, "D", "3FS", None, _at(22, 7), None, "2d", None],
            [5, "E", "4FS", None, _at(24, 7), None, "2d", None]]
    path = _with_risk(_plan(tmp_path, rows), [
        (1, "standard - symmetric", 1, 2, 3), (2, "standard - skewed right", 4, 5, 8),
        (3, "standard - symmetric", 80, 100, 120), (4, "manual - relative", 80, 100, 200),
        (5, "manual - absolute", 15, 20, 30)])
    p = read_dslib(path)
    g = p.graph
    assert [g.nodes[t]["duration"] for t in range(1, 6)] == [
        Triangular(1, 2, 3), Triangular(4, 5, 8), Triangular(3.2, 4, 4.8),
        Triangular(1.6, 2, 4), Triangular(1.5, 2, 3)]         # hours of a 10-hour day
    report = p.meta["import_report"]
    assert report["risk_units"] == {"read_as": "working days", "read_otherwise": [3],
                                    "votes": {"percent": 1, "working days": 2,
                                              "undecided": 0}}
    said = [w for w in report["warnings"] if w.startswith("sheet 'Risk Analysis'")]
    assert said == [
        "sheet 'Risk Analysis': Optimistic / Most Probable / Pessimistic give no unit; read as "
        "working days, not percentages of the baseline Duration (ProTrack's standard "
        "profiles): the Most Probable is near the Duration read so in 2 activities (e.g. "
        "activity 1: 1 / 2 / 3 for 2 working days)",
        "sheet 'Risk Analysis': activity 3 read as percentages unlike the rest of the sheet: "
        "its Most Probable is the Duration read so, and only that reading puts the Duration "
        "between Optimistic and Pessimistic (e.g. activity 3: 80 / 100 / 120 for 4 working "
        "days)"]


def test_estimates_that_do_not_show_their_unit(tmp_path):
    """80 / 90 / 120 for a 90-day activity is near the Duration either way: read as
    percentages (ProTrack's standard), and the warning says it was assumed."""
    rows = [[1, "A", None, None, _at(8, 7), None, "90d", None]]
    p = read_dslib(_with_risk(_plan(tmp_path, rows), [(1, "standard - skewed right",
                                                        80, 90, 120)]))
    assert p.graph.nodes[1]["duration"] == Triangular(72, 81, 108)
    assert p.meta["import_report"]["risk_units"]["votes"] == {
        "percent": 0, "working days": 0, "undecided": 1}
    assert ("sheet 'Risk Analysis': Optimistic / Most Probable / Pessimistic give no unit "
            "and their values do not show whether they are percentages of the Duration or "
            "working days; read as percentages (ProTrack's standard profiles)"
            in p.meta["import_report"]["warnings"])


# -- why a CPM finish is not the baseline finish ------------------------------------------
def test_finish_reason_names_the_broken_relation_on_the_path(tmp_path):
    """B starts on the day its FS predecessor A finishes: CPM starts it a day later and
    the finish (C, after B) moves a day; the report says which date and why, and pmosim
    run prints it (cli._health_line)."""
    import pmosim

    rows = [[1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None],
            [2, "B", "1FS", None, _at(9, 7), _at(9, 18), "1d", None],
            [3, "C", "2FS", None, _at(10, 7), _at(10, 18), "1d", None]]
    p = read_dslib(_plan(tmp_path, rows))
    report = p.meta["import_report"]["baseline"]
    assert max(pmosim.cpm(p, levelling=False).early_finish_date) == _at(11, 18)
    assert (report["finish_reproduced"], report["cpm_finish"]) == (False, "2024-01-11 18:00")
    assert report["finish_reason"] == (
        "the CPM finish 2024-01-11 18:00 is 1 working day later than the baseline finish "
        "2024-01-10 18:00: activity 2 starts 2024-01-09 07:00 in the baseline, 1 working day "
        "before its FS predecessor 1 allows (1 finishes 2024-01-09 18:00); CPM keeps the "
        "link, and the delay reaches the finish through 3")
    assert report["finish_cause"] == {"kind": "relation broken", "activity": 2,
                                      "predecessor": 1, "link": "FS", "working_days": 1.0,
                                      "relations_on_path": 1}


def test_stretched_dates_hold_the_successors_and_explain_an_early_finish(tmp_path):
    """B's dates span 3 working days (Friday 12 is a holiday) for a Duration of 2: its
    successor D, which starts after B's Baseline End, is held to its baseline start, so the
    finish is reproduced; when B itself finishes the project, CPM finishes a day early and
    the report says B's dates are the reason."""
    import pmosim

    a = [1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None]
    b = [2, "B", "1FS", None, _at(10, 7), _at(13, 18), "2d", None]
    d = [4, "D", "2FS", None, _at(15, 7), _at(15, 18), "1d", None]
    p = read_dslib(_plan(tmp_path, [a, b, d]))
    report = p.meta["import_report"]["baseline"]
    assert report["finish_reproduced"] and report["dates_off_agenda"] == 1
    assert p.graph.nodes[4]["constraint"] == ("SNET", _at(15, 7))
    assert max(pmosim.cpm(p, levelling=False).early_finish_date) == _at(15, 18)

    q = read_dslib(_plan(tmp_path, [a, b], name="last.xlsx"))
    report = q.meta["import_report"]["baseline"]
    assert report["finish_reason"] == (
        "the CPM finish 2024-01-11 18:00 is 1 working day earlier than the baseline finish "
        "2024-01-13 18:00: activity 2's Baseline End 2024-01-13 18:00 is 3 working days "
        "after its start, its Duration 2 working days (the dates were not scheduled on the "
        "workbook's agenda)")
    assert report["finish_cause"]["kind"] == "dates span more than the Duration"


def test_finish_reason_of_a_wait_the_mode_does_not_hold(tmp_path):
    rows = [[1, "A", None, None, _at(8, 7), _at(9, 18), "2d", None],
            [2, "B", None, None, _at(10, 7), _at(10, 18), "1d", None]]
    p = read_dslib(_plan(tmp_path, rows), baseline_starts="none")
    report = p.meta["import_report"]["baseline"]
    assert report["finish_reason"] == (
        "the CPM finish 2024-01-09 18:00 is 1 working day earlier than the baseline finish "
        "2024-01-10 18:00: activity 2 starts 2024-01-10 07:00 in the baseline, 2 working days "
        "later than its links allow (no predecessor), and baseline_starts='none' does not "
        "hold it there")
    assert read_dslib(_plan(tmp_path, rows, name="held.xlsx")).meta[
        "import_report"]["baseline"]["finish_reproduced"]


def test_dates_scheduled_on_another_week(tmp_path):
    """A chain of 1-day activities dated on every day of the week, over the agenda's Sunday
    and its holiday on Friday 12: on the agenda the dates break 2 relations and 2 durations;
    on a 7-day week without holidays they follow every link, so that week is the calendar
    (said in a warning and the report), unless calendar='agenda'."""
    import pmosim

    rows = [[k, chr(64 + k), f"{k - 1}FS" if k > 1 else None, None, _at(7 + k, 7),
             _at(7 + k, 18), "1d", None] for k in range(1, 9)]      # Monday 8 .. Monday 15
    path = _plan(tmp_path, rows)
    p = read_dslib(path)
    report = p.meta["import_report"]
    assert report["calendar"] == {"from": "baseline dates", "weekdays": list(range(7)),
                                  "holidays": 0, "agenda_weekdays": list(range(6)),
                                  "agenda_holidays": 1}
    assert report["warnings"][0] == (
        "the baseline dates were not scheduled on the Agenda sheet's days: 4 dates fall on "
        "days it does not work (2 on Sundays; 2 on its holidays); on a week of 7 days without "
        "holidays they break 0 relations and 0 durations (on the agenda 2 and 2), and 7 "
        "relations set a start exactly (on the agenda 5): that week is the project's calendar "
        "(read_dslib(..., calendar='agenda') keeps the agenda)")
    assert report["baseline"]["reproduced"] and report["baseline"]["finish_reproduced"]
    assert max(pmosim.cpm(p, levelling=False).early_finish_date) == _at(15, 18)

    kept = read_dslib(path, calendar="agenda")
    assert kept.meta["import_report"]["calendar"]["from"] == "Agenda sheet"
    assert kept.meta["import_report"]["baseline"]["relations_broken"] == 2
    with pytest.raises(ScheduleImportError, match="calendar='week' is not one of auto, agenda"):
        read_dslib(path, calendar="week")


def test_a_lag_the_dates_keep_in_calendar_days_is_elapsed(tmp_path):
    """B follows A by '7d': as 7 working days (Friday 12 is a holiday, Sunday is off) B could
    start on Thursday 18, but it is dated Tuesday 16 07:00, A's finish plus 7 calendar days
    (Monday 15 18:00) moved to the next working moment: the lag was elapsed, and becomes
    the 5 working days it spans there (Tue 9, Wed 10, Thu 11, Sat 13, Mon 15), so the CPM
    finish is the baseline's, on the working-day axis. A date that fits neither reading
    stays a broken relation."""
    import pmosim
    from pmosim.compile import uses_calendars

    rows = [[1, "A", None, None, _at(8, 7), _at(8, 18), "1d", None],
            [2, "B", "1FS+7d", None, _at(16, 7), _at(16, 18), "1d", None]]
    p = read_dslib(_plan(tmp_path, rows))
    assert p.graph.edges[1, 2] == {"type": "FS", "lag": pytest.approx(5.0)}
    assert not uses_calendars(p)
    report = p.meta["import_report"]
    assert report["baseline"]["elapsed_lags"] == 1
    assert report["baseline"]["finish_reproduced"] and report["baseline"]["reproduced"]
    assert ("1 lag read as calendar days, not working days: the baseline dates break its "
            "relation in working days and follow it to the minute in calendar days; it is the "
            "working time those calendar days span at the baseline dates: 1 -> 2 (FS +7d = 5 "
            "working days from the baseline dates; as working days 2 would start 2 working "
            "days before it allows)" in report["warnings"])
    assert max(pmosim.cpm(p, levelling=False).early_finish_date) == _at(16, 18)

    rows[1][4:6] = [_at(15, 7), _at(15, 18)]
    q = read_dslib(_plan(tmp_path, rows, name="early.xlsx"))
    assert "lag_elapsed_hours" not in q.graph.edges[1, 2]
    assert q.meta["import_report"]["baseline"]["relations_broken"] == 1

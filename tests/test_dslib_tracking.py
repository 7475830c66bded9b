"""DSLIB tracking periods (the TP sheets and the Tracking Overview) read by
:func:`pmosim.io.dslib.read_dslib_tracking`, checked against the cells read here with
openpyxl and plain string handling.

Data: ``../shared/data/dslib/Excel`` (see PROVENANCE.md).
"""

import datetime as dt
import re

import pytest

from pmosim.io.dslib import ActivityStatus, TrackingPeriod, read_dslib, read_dslib_tracking

from _data import data_dir

openpyxl = pytest.importorskip("openpyxl", reason="DSLIB workbooks need the optional openpyxl")

#: three workbooks with tracking periods on the 8-hour agenda; Young Cattle Barn has holidays
WORKBOOKS = ["C2011-05 Telecom System Agnes.xlsx", "C2013-12 Young Cattle Barn.xlsx",
             "C2015-10 Tax Return System (1).xlsx"]
_STATUS = {"Not Started": "not started", "Started": "in progress", "Finished": "complete"}


def _cells(path):
    """Every TP sheet (by number) and the Tracking Overview, as the workbook has them."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheets = {}
    for name in wb.sheetnames:
        m = re.fullmatch(r"\s*(?:Project Control - )?TP(\d+)\s*", name)
        if m:
            rows = list(wb[name].iter_rows(values_only=True))
            sheets[int(m.group(1))] = (name, rows)
    overview = list(wb["Tracking Overview"].iter_rows(values_only=True))
    agenda = list(wb["Agenda"].iter_rows(values_only=True))
    wb.close()
    return sheets, overview, agenda


def _days(text, hours_per_day):
    """Working days in '3d', '1d 4h', '0'."""
    if isinstance(text, (int, float)):
        return float(text)
    days = sum(float(x) for x in re.findall(r"([\d.]+)d", text))
    hours = sum(float(x) for x in re.findall(r"([\d.]+)h", text))
    return days + hours / hours_per_day


def _working_hours(start, finish, hours, workdays, holidays):
    """Whole working hours in [start, finish), counted one hour at a time."""
    n, t = 0, start
    while t < finish:
        if t.weekday() in workdays and t.hour in hours and t.date() not in holidays:
            n += 1
        t += dt.timedelta(hours=1)
    return n


@pytest.mark.parametrize("name", WORKBOOKS)
def test_tracking_periods_are_the_cells(name):
    path = data_dir("dslib", "Excel", name)
    periods = read_dslib_tracking(path)
    sheets, overview, agenda = _cells(path)
    hours = {k for k, r in enumerate(agenda[1:25]) if r[1] == "Yes"}
    workdays = {k for k, r in enumerate(agenda[1:8]) if r[4] == "Yes"}
    holidays = {r[6].date() for r in agenda[1:] if len(r) > 6 and isinstance(r[6], dt.datetime)}
    assert len(hours) == 8                      # the durations below are read at 8 h a day
    activities = {t for t, d in read_dslib(path).graph.nodes(data=True)
                  if d.get("kind") != "connector"}
    overview_rows = [r for r in overview[2:] if r[0] is not None]
    overview_rows = overview_rows[:next((k for k, r in enumerate(overview_rows)
                                         if r[0] in ("General", "Name")), len(overview_rows))]

    assert len(periods) == len(sheets) == len(overview_rows) >= 3
    assert [p.status_date for p in periods] == sorted(p.status_date for p in periods)
    assert all(isinstance(p, TrackingPeriod) for p in periods)
    finishes = 0
    for period, row in zip(periods, overview_rows):
        sheet, rows = sheets[period.number]
        assert period.sheet == sheet and period.status_date == rows[0][2]
        assert period.name == str(rows[0][5]).strip()
        head = [str(h).strip() if h else "" for h in rows[3]]
        col = {}
        for k, h in enumerate(head):
            col.setdefault(h, k)
        body = [r for r in rows[4:] if r and r[0] is not None]
        assert {r[0] for r in body if r[0] in activities} == set(period.activities)
        for r in body:
            if r[0] not in activities and r[0] != 0:
                continue
            got = period.activities[r[0]] if r[0] else period.project
            assert isinstance(got, ActivityStatus)
            assert got.actual_start == r[col["Actual Start"]]
            assert got.actual_duration == pytest.approx(_days(r[col["Actual Duration"]], 8))
            assert got.percent_complete == r[col["Percentage Completed"]]
            assert got.actual_cost == r[col["Actual Cost"]]
            assert got.earned_value == r[col["Earned Value (EV)"]]
            assert got.planned_value == r[col["Planned Value (PV)"]]
            if r[0] == 0:
                continue
            assert got.status == _STATUS[r[col["Tracking"]]]
            assert got.remaining_cost == r[col["Remaining Cost"]]
            assert got.remaining_duration == pytest.approx(_days(r[col["Remaining Duration"]], 8))
            if got.status == "complete":
                assert _working_hours(got.actual_start, got.actual_finish, hours, workdays,
                                      holidays) == pytest.approx(8 * got.actual_duration)
                finishes += 1
            else:
                assert got.actual_finish is None
        # the Tracking Overview row of the period
        o = period.overview
        assert (o.name, o.period_start, o.status_date) == (str(row[0]), row[1], row[2])
        assert (o.pv, o.ev, o.ac, o.es, o.sv, o.spi, o.cv, o.cpi) == tuple(row[3:11])
        assert (o.spi_t, o.p_factor) == (row[12], row[13])
        assert o.sv_t == pytest.approx(_days(str(row[11]).lstrip("-"), 8)
                                       * (-1 if str(row[11]).startswith("-") else 1))
        assert o.forecasts["EAC(t)-ES (PF=SPI(t))"] == row[21]
        assert o.forecasts["EAC (PF=CPI)"] == row[24]
        assert len(o.forecasts) == 17
    assert finishes >= 10
    # the last period is the project's actual schedule: everything finished
    assert all(a.status == "complete" for a in periods[-1].activities.values())


def test_meta_tracking_and_the_report():
    path = data_dir("dslib", "Excel", "C2011-05 Telecom System Agnes.xlsx")
    plain = read_dslib(path)
    assert "tracking" not in plain.meta
    assert ("5 tracking periods (TP sheets) not read: the project is the baseline; "
            "read_dslib(path, tracking=True) or read_dslib_tracking(path) reads them"
            in plain.meta["import_report"]["warnings"])
    tracked = read_dslib(path, tracking=True)
    periods = tracked.meta["tracking"]
    assert [p.number for p in periods] == [1, 2, 3, 4, 5]
    assert not any("tracking" in w for w in tracked.meta["import_report"]["warnings"])
    # TP2 of Telecom System Agnes: activity 15 has run 2 of its 15 days
    a15 = periods[1].activities[15]
    assert (a15.status, a15.actual_start, a15.actual_duration, a15.remaining_duration) == (
        "in progress", dt.datetime(2011, 6, 17, 8), 2.0, 13.0)
    assert periods[-1].activities[15].actual_finish == dt.datetime(2011, 7, 7, 17)
    with pytest.raises(TypeError):
        periods[0].activities[15] = a15          # read-only
    # yet copied and pickled with the project (uncertainty rules copy it, Dask ships it)
    import copy
    import pickle

    assert copy.deepcopy(tracked.meta)["tracking"] == periods
    assert pickle.loads(pickle.dumps(tracked)).meta["tracking"] == periods


def test_workbook_without_tracking_periods():
    assert read_dslib_tracking(data_dir("dslib", "Excel",
                                        "C2011-01 Nursing Home Noordhinder.xlsx")) == []

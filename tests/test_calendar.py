"""Working time <-> dates: MS Project's whole-day convention on numpy busday functions."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmosim.calendar import TIME_TOLERANCE, WorkCalendar
from pmosim.errors import ModelError

MON = "2027-03-01"  # a Monday


def D(text):
    return dt.date.fromisoformat(text)


def test_two_day_task_starting_monday_finishes_tuesday():
    cal = WorkCalendar()
    assert cal.start_dates(MON, 0) == D("2027-03-01")
    assert cal.finish_dates(MON, 2) == D("2027-03-02")
    # its FS successor starts at t=2: the morning of Wednesday
    assert cal.start_dates(MON, 2) == D("2027-03-03")


def test_week_boundaries_and_milestone_at_start():
    cal = WorkCalendar()
    assert cal.finish_dates(MON, 0) == D("2027-03-01")   # a milestone at the start
    assert cal.finish_dates(MON, 5) == D("2027-03-05")   # Friday evening
    assert cal.start_dates(MON, 5) == D("2027-03-08")    # next Monday morning
    assert cal.finish_dates(MON, 6) == D("2027-03-08")


def test_fractional_times_fall_inside_the_day():
    cal = WorkCalendar()
    # t = 2.5 is the middle of working day 2 (Wednesday): start and finish both there
    assert cal.start_dates(MON, 2.5) == D("2027-03-03")
    assert cal.finish_dates(MON, 2.5) == D("2027-03-03")
    assert cal.finish_dates(MON, 2.001) == D("2027-03-03")
    assert cal.start_dates(MON, 1.999) == D("2027-03-02")


def test_float_noise_does_not_move_a_date():
    cal = WorkCalendar()
    assert cal.finish_dates(MON, 2 + TIME_TOLERANCE / 10) == D("2027-03-02")
    assert cal.start_dates(MON, 2 - TIME_TOLERANCE / 10) == D("2027-03-03")
    assert cal.finish_dates(MON, 0.1 + 0.2 + 1.7) == D("2027-03-02")


def test_holidays_and_custom_workweek():
    cal = WorkCalendar(holidays=["2027-03-02"])
    assert cal.finish_dates(MON, 2) == D("2027-03-03")   # Tuesday is off
    gulf = WorkCalendar(["Sun", "Mon", "Tue", "Wed", "Thu"])
    assert gulf.workdays == ("Mon", "Tue", "Wed", "Thu", "Sun")
    # start Thursday 2027-03-04, 2 days: Thursday and Sunday
    assert gulf.finish_dates("2027-03-04", 2) == D("2027-03-07")
    full = WorkCalendar(["monday", "TUESDAY", "Wed"])
    assert full.workdays == ("Mon", "Tue", "Wed")


def test_holiday_on_weekend_changes_nothing_and_is_kept():
    cal = WorkCalendar(holidays=["2027-03-06", dt.date(2027, 3, 6)])
    assert cal.holidays == (D("2027-03-06"),)
    assert cal.finish_dates(MON, 10) == WorkCalendar().finish_dates(MON, 10)


def test_vectorised_keeps_shape():
    cal = WorkCalendar()
    t = np.array([[0, 1, 2], [5, 5.5, 10]])
    out = cal.finish_dates(MON, t)
    assert out.shape == (2, 3)
    assert out.dtype == np.dtype("datetime64[D]")
    assert out[1, 2] == np.datetime64("2027-03-12")
    assert cal.start_dates(MON, [0]).shape == (1,)


def test_working_time_end_and_start_of_day():
    cal = WorkCalendar()
    assert cal.working_time(MON, "2027-03-02") == 2.0
    assert cal.working_time(MON, "2027-03-02", at="start") == 1.0
    assert cal.working_time(MON, MON) == 1.0
    assert cal.working_time(MON, "2027-02-28") == 0.0                 # day before start
    # a Saturday target means the end of Friday (5 days) / the start of Monday
    assert cal.working_time(MON, "2027-03-06") == 5.0
    assert cal.working_time(MON, "2027-03-06", at="start") == 5.0
    out = cal.working_time(MON, np.array(["2027-03-01", "2027-03-12"], dtype="datetime64[D]"))
    np.testing.assert_array_equal(out, [1.0, 10.0])


@settings(max_examples=200, deadline=None)
@given(t=st.floats(0, 2000, allow_nan=False),
       holidays=st.lists(st.integers(0, 400), max_size=20))
def test_dates_agree_with_busday_count(t, holidays):
    start = np.datetime64("2027-03-01")
    cal = WorkCalendar(holidays=[start + h for h in holidays if h != 0])
    busdays = cal.busdaycalendar
    fin = np.datetime64(cal.finish_dates(start, t))
    sta = np.datetime64(cal.start_dates(start, t))
    assert np.is_busday(fin, busdaycal=busdays) and np.is_busday(sta, busdaycal=busdays)
    # the working days strictly before each date are its day index
    assert np.busday_count(start, fin, busdaycal=busdays) == max(np.ceil(t - TIME_TOLERANCE) - 1, 0)
    assert np.busday_count(start, sta, busdaycal=busdays) == np.floor(t + TIME_TOLERANCE)
    assert fin <= sta
    # the end of a finish date is at or after t, less than a day later
    end = cal.working_time(start, fin)
    assert t - TIME_TOLERANCE <= end < t + 1 + TIME_TOLERANCE


@settings(max_examples=100, deadline=None)
@given(k=st.integers(1, 3000))
def test_whole_days_round_trip(k):
    cal = WorkCalendar(holidays=["2027-04-05", "2027-12-24"])
    assert cal.working_time(MON, cal.finish_dates(MON, k)) == k
    assert cal.working_time(MON, cal.start_dates(MON, k), at="start") == k


def test_task_dates_put_milestones_on_their_finish_day():
    cal = WorkCalendar()
    starts, finishes = cal.task_dates(MON, [0, 2, 2], [2, 2, 3])
    np.testing.assert_array_equal(starts, np.array(["2027-03-01", "2027-03-02", "2027-03-03"],
                                                   dtype="datetime64[D]"))
    np.testing.assert_array_equal(finishes, np.array(["2027-03-02", "2027-03-02", "2027-03-03"],
                                                     dtype="datetime64[D]"))


def test_start_must_be_a_working_day():
    cal = WorkCalendar(holidays=["2027-03-01"])
    with pytest.raises(ModelError, match=r"^start 2027-03-06 is a Saturday, not a working day "
                       r"of the calendar; use 2027-03-08 \(the next working day\)"):
        cal.finish_dates("2027-03-06", 1)
    with pytest.raises(ModelError, match=r"^start 2027-03-01 is a holiday, .*use 2027-03-02"):
        cal.working_time("2027-03-01", "2027-03-05")
    assert cal.next_workday("2027-03-01") == D("2027-03-02")


@pytest.mark.parametrize("kwargs, message", [
    ({"workdays": ["Mon", "Funday"]}, "calendar: unknown weekday 'Funday'; use Mon, Tue"),
    ({"workdays": []}, "calendar: workdays is empty; give at least one working weekday"),
    ({"holidays": ["2027-02-30"]}, "calendar: holiday: expected a date like 2027-03-01, got '2027-02-30'"),
])
def test_bad_calendar(kwargs, message):
    with pytest.raises(ModelError) as err:
        WorkCalendar(**kwargs)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("t", [float("nan"), float("inf")])
def test_bad_times(t):
    with pytest.raises(ModelError, match="working times must be finite"):
        WorkCalendar().finish_dates(MON, [1.0, t])


def test_negative_times_are_before_the_start():
    # progress: actual dates before the data date (time 0) count back over working days
    cal = WorkCalendar()
    assert cal.start_dates(MON, -1.0) == dt.date(2027, 2, 26)      # the Friday before
    assert cal.finish_dates(MON, -1.0) == dt.date(2027, 2, 25)     # ends Thursday evening
    assert cal.finish_dates(MON, 0.0) == dt.date(2027, 3, 1)


def test_equality_and_dict():
    a = WorkCalendar(holidays=["2027-04-05"])
    assert a == WorkCalendar(("Mon", "Tue", "Wed", "Thu", "Fri"), [dt.date(2027, 4, 5)])
    assert a != WorkCalendar()
    assert a.to_dict() == {"workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                           "holidays": ["2027-04-05"]}

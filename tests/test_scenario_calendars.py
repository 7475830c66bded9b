"""Working calendars, the data date and progress in scenario files (``io._wallclock``).

An imported schedule written by ``pmosim import`` and read back is scheduled exactly as
the import itself: the same CPM early and late dates and float and, for a seed, the same
simulated bits, with an uncertainty template applied before the export or after it.
Real data in ``../shared/data`` (never copied): the Primavera P6 ``SP10 - COST
LOADED.xer`` and MS Project files from MPXJ and ProjectLibre.
"""

import datetime as dt
import textwrap
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.compile import uses_calendars
from pmosim.distributions import Fixed
from pmosim.io._common import engine_hints
from pmosim.io._wallclock import axis_offsets, clock_text, parse_clock
from pmosim.io.export import write_scenario
from pmosim.io.scenario import scenario_problems
from pmosim.uncertainty import apply_uncertainty

from _data import data_dir

RULE = "triangular(-10%, 0, +25%)"
CPM_ARRAYS = ("duration", "early_start", "early_finish", "late_start", "late_finish",
              "total_float", "free_float", "critical")
CPM_DATES = ("early_start_date", "early_finish_date", "late_start_date", "late_finish_date")
WEEKDAYS_8_16 = ", ".join(f'{d} = ["08:00-16:00"]'
                          for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

# Fri 2017-09-15 08:00 is the data date; Monday 18 is a holiday of "5d" only.
HAND = f'''\
[project]
name = "hand"
calendar = "5d"
data_date = 2017-09-15T08:00:00

[calendars.5d]
name = "5 days, 8 hours"
hours_per_day = 8
holidays = [2017-09-18]

[calendars.5d.week]
mon = ["08:00-12:00", "13:00-17:00"]
tue = ["08:00-12:00", "13:00-17:00"]
wed = ["08:00-12:00", "13:00-17:00"]
Thursday = ["08:00-12:00", "13:00-17:00"]
FRI = ["08:00-12:00", "13:00-17:00"]

[calendars.5d.exceptions]
2017-09-22 = ["08:00-12:00", [13.0, 14.5]]

[calendars."7 days"]
hours_per_day = 8
week = {{ {WEEKDAYS_8_16} }}

[[tasks]]
id = "a"
duration = 1

[[tasks]]
id = "b"
duration = 2
calendar = "7 days"
predecessors = ["a"]

[[tasks]]
id = "c"
duration = 0.5
predecessors = ["b FS+1"]

[[tasks]]
id = "d"
duration = 0.5
predecessors = [{{ id = "b", lag = 1, lag_calendar = "5d" }}]
'''


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(tmp_path, text, name="s.toml"):
    path = write(tmp_path, text, name)
    return [line.removeprefix(f"{path}: ") for line in scenario_problems(path)]


def assert_same_cpm(a, b):
    assert a.finish == b.finish and a.calendar == b.calendar
    assert [str(t) for t in a.task_ids] == list(b.task_ids)
    for key in CPM_ARRAYS:
        assert np.array_equal(getattr(a, key), getattr(b, key), equal_nan=True), key
    for key in CPM_DATES:
        assert getattr(a, key) == getattr(b, key), key


def assert_same_bits(r1, r2):
    assert np.array_equal(r1.finish.samples, r2.finish.samples)
    assert (r1.cost is None) == (r2.cost is None)
    if r1.cost is not None:
        assert np.array_equal(r1.cost.samples, r2.cost.samples)


# -- the syntax ---------------------------------------------------------------------------
def test_the_syntax_reads_into_the_wall_clock_model(tmp_path):
    p = pmosim.load(write(tmp_path, HAND))
    office = [(8.0, 12.0), (13.0, 17.0)]
    assert p.meta["calendars"] == {
        "5d": {"name": "5 days, 8 hours", "hours_per_day": 8.0,
               "week": {0: office, 1: office, 2: office, 3: office, 4: office},
               "exceptions": {dt.date(2017, 9, 18): [],
                              dt.date(2017, 9, 22): [(8.0, 12.0), (13.0, 14.5)]}},
        "7 days": {"name": "7 days", "hours_per_day": 8.0,
                   "week": {d: [(8.0, 16.0)] for d in range(7)}, "exceptions": {}},
    }
    assert (p.meta["axis_calendar"], p.meta["data_date"]) == ("5d", dt.datetime(2017, 9, 15, 8))
    # the day-level calendar and the start follow from the axis calendar and the data date
    assert p.calendar.workdays == ("Mon", "Tue", "Wed", "Thu", "Fri")
    assert p.calendar.holidays == (dt.date(2017, 9, 18),)
    assert p.start == dt.date(2017, 9, 15)
    assert p.graph.edges["b", "d"] == {"type": "FS", "lag": 1.0, "lag_calendar": "5d"}
    assert uses_calendars(p)
    # by hand: a Fri 8-17; b (7 days, from Sat 08:00) 16 h to Sun 16:00; the lag of c on
    # b's calendar: 8 h to Mon 16:00, so c starts on Tue 08:00 (Mon 18 is a 5d holiday)
    # and works 4 h; the lag of d on 5d: Tue 8-17, so d starts Wed 08:00
    r = pmosim.cpm(p)
    at = dt.datetime
    assert r.early_start_date == [at(2017, 9, 15, 8), at(2017, 9, 16, 8), at(2017, 9, 19, 8),
                                  at(2017, 9, 20, 8)]
    assert r.early_finish_date == [at(2017, 9, 15, 17), at(2017, 9, 17, 16),
                                   at(2017, 9, 19, 12), at(2017, 9, 20, 12)]
    assert r.finish == 2.5        # working days of 5d from Fri 08:00 to Wed 12:00


def test_clock_text_reads_back_exactly():
    for h in range(25):
        for m in range(60 if h < 24 else 1):
            hours = h + m / 60                # what the importers compute from "HH:MM"
            assert parse_clock(clock_text(hours)) == hours
    for minute in range(24 * 60 + 1):       # the same times, rounded another way
        text = clock_text(minute / 60)
        assert text is None or parse_clock(text) == minute / 60
    assert clock_text(8 + 1 / 120) == "08:00:30"
    assert clock_text(8 + 1 / 7) is None           # written as a number instead
    assert clock_text(25.0) is None and parse_clock("24:01") is None


def test_progress_constraints_and_derived_offsets(tmp_path):
    path = write(tmp_path, HAND.replace('[[tasks]]\nid = "a"\nduration = 1\n', '''\
[[tasks]]
id = "a"
duration = 0
actual_start = 2017-09-13T08:00:00
actual_finish = 2017-09-14T17:00:00

[[tasks]]
id = "s"
duration = 1
constraint = { type = "SNET", date = 2017-09-20T13:00:00 }

[[tasks]]
id = "r"
duration = 1
constraint = { type = "SNET", date = "2017-09-20 13:00" }
release = 0.25

[[tasks]]
id = "p"
duration = 2
actual_start = 2017-09-14T08:00:00
resume = 2017-09-19T08:00:00
kind = "task"
milestone = false
split_days = 0.5
'''))
    p = pmosim.load(path)
    n = p.graph.nodes
    assert n["a"]["status"] == "complete" and n["p"]["status"] == "in progress"
    assert n["s"].get("status") is None
    assert n["s"]["constraint"] == n["r"]["constraint"] == ("SNET", dt.datetime(2017, 9, 20, 13))
    assert (n["p"]["resume"], n["p"]["kind"], n["p"]["milestone"], n["p"]["split_days"]) == (
        dt.datetime(2017, 9, 19, 8), "task", False, 0.5)
    # the offsets the importers compute (engine_hints): 5d has 8 working hours a day, Wed
    # 13:00 is 2.5 working days after Fri 08:00 (Mon 18 is off), Wed 13 08:00 .. Thu 14
    # 17:00 the two days before it
    assert (n["a"]["fixed_start"], n["a"]["fixed_finish"]) == (-2.0, 0.0)
    assert n["s"]["release"] == 2.5
    assert n["r"]["release"] == 0.25              # given: kept
    # the same numbers through the importers' own function
    q = pmosim.load(path)
    for t in ("a", "s", "r"):
        q.graph.nodes[t].pop("fixed_start", None), q.graph.nodes[t].pop("fixed_finish", None)
        q.graph.nodes[t].pop("release", None)
    q.graph.nodes["s"]["status"] = q.graph.nodes["r"]["status"] = "not started"
    engine_hints(q)
    assert q.graph.nodes["a"]["fixed_start"] == -2.0 and q.graph.nodes["s"]["release"] == 2.5


# -- every error ---------------------------------------------------------------------------
HEAD = '[project]\ncalendar = "std"\ndata_date = 2027-03-01T08:00:00\n'
CAL = '[calendars.std]\nhours_per_day = 8\nweek = { mon = ["08:00-16:00"] }\n'
TASK = '[[tasks]]\nid = "a"\nduration = 1\n'
STD = HEAD + '[calendars.std]\nhours_per_day = 8\n'


@pytest.mark.parametrize("body, expected", [
    ('calendars = 3\n' + TASK,
     "calendars: must be tables, one per calendar: [calendars.standard] with hours_per_day "
     "and week under it"),
    (STD + 'week = { mon = ["08:00-16:00"] }\nholiday = []\n' + TASK,
     "calendars.std: unknown key 'holiday'; did you mean 'holidays'? (allowed: name, "
     "hours_per_day, week, holidays, exceptions)"),
    (STD + 'name = 3\nweek = { mon = ["08:00-16:00"] }\n' + TASK,
     "calendars.std: name must be text, got 3"),
    (HEAD + '[calendars.std]\nweek = { mon = ["08:00-16:00"] }\n' + TASK,
     "calendars.std: missing 'hours_per_day': the working hours of one day of duration, "
     "e.g. hours_per_day = 8"),
    (HEAD + '[calendars.std]\nhours_per_day = 0\nweek = { mon = ["08:00-16:00"] }\n' + TASK,
     "calendars.std: hours_per_day must be a number of hours in 0..24 (8 for an 8-hour "
     "day), got 0"),
    (STD + TASK,
     "calendars.std: missing 'week': the working hours of each weekday, e.g. week = { mon = "
     '["08:00-12:00", "13:00-17:00"], ... } (days not listed do not work)'),
    (STD + 'week = ["mon"]\n' + TASK,
     'calendars.std: week must be a table of weekdays like { mon = ["08:00-16:00"], tue = '
     "[\"08:00-16:00\"] }, got ['mon']"),
    (STD + 'week = { mon = ["08:00-16:00"], tues = [] }\n' + TASK,
     "calendars.std: week: unknown weekday 'tues'; did you mean 'tue'? (use mon, tue, wed, "
     "thu, fri, sat, sun)"),
    (STD + 'week = { mon = ["08:00-16:00"], Monday = [] }\n' + TASK,
     "calendars.std: week: 'Monday' gives Monday a second time; keep one entry per day"),
    (STD + 'week = { mon = ["8-16"] }\n' + TASK,
     "calendars.std: week.mon[0]: cannot read '8-16'; write working hours as \"HH:MM-HH:MM\", "
     'e.g. "08:00-12:00" (24:00 is midnight at the end of the day)'),
    (STD + 'week = { mon = ["08:60-16:00"] }\n' + TASK,
     "calendars.std: week.mon[0]: cannot read '08:60-16:00'; write working hours as "
     '"HH:MM-HH:MM", e.g. "08:00-12:00" (24:00 is midnight at the end of the day)'),
    (STD + 'week = { mon = ["16:00-08:00"] }\n' + TASK,
     "calendars.std: week.mon[0]: '16:00-08:00' ends before it starts; an interval runs "
     "from its first to its second time within one day"),
    (STD + 'week = { mon = ["08:00-12:00", "11:00-16:00"] }\n' + TASK,
     "calendars.std: week.mon: intervals 08:00-12:00 and 11:00-16:00 overlap; merge them "
     "into one"),
    (STD + 'week = { mon = [[8, 25]] }\n' + TASK,
     "calendars.std: week.mon[0]: [8, 25] must be hours within 0..24"),
    (STD + 'week = { mon = "08:00-16:00" }\n' + TASK,
     'calendars.std: week.mon: must be a list of working hours like ["08:00-12:00", '
     "\"13:00-17:00\"] ([] for none), got '08:00-16:00'"),
    (HEAD + CAL + 'holidays = "2027-12-25"\n' + TASK,
     "calendars.std: holidays must be a list of non-working dates like [2027-12-24, "
     "2027-12-27], got '2027-12-25'"),
    (HEAD + CAL + 'holidays = ["2027-12-32"]\n' + TASK,
     "calendars.std: holidays[0]: expected a date like 2027-12-25, got '2027-12-32'"),
    (HEAD + CAL + 'holidays = [2027-12-25, 2027-12-25]\n' + TASK,
     "calendars.std: holidays[1]: 2027-12-25 is listed twice"),
    (HEAD + CAL + 'exceptions = ["2027-12-24"]\n' + TASK,
     "calendars.std: exceptions must be a table of dates with their working hours, like "
     "{ 2027-12-24 = [\"08:00-12:00\"], 2027-12-25 = [] }, got ['2027-12-24']"),
    (HEAD + CAL + 'exceptions = { christmas = [] }\n' + TASK,
     "calendars.std: exceptions: expected a date like 2027-12-25, got 'christmas'"),
    (HEAD + CAL + 'holidays = [2027-12-24]\nexceptions = { 2027-12-24 = ["08:00-12:00"] }\n'
     + TASK,
     "calendars.std: exceptions.2027-12-24: 2027-12-24 is also a holiday (or listed twice); "
     "keep it in one place"),
    (HEAD + CAL + 'exceptions = { 2027-12-24 = ["08:00"] }\n' + TASK,
     "calendars.std: exceptions.2027-12-24[0]: cannot read '08:00'; write working hours as "
     '"HH:MM-HH:MM", e.g. "08:00-12:00" (24:00 is midnight at the end of the day)'),
    ('[project]\ndata_date = 2027-03-01T08:00:00\n' + CAL
     + '[calendars.night]\nhours_per_day = 8\nweek = { mon = ["20:00-24:00"] }\n' + TASK,
     "project: missing 'calendar': name the calendar whose working days are the working-day "
     'axis, e.g. calendar = "std" (one of "std", "night")'),
    ('[project]\ncalendar = "standard"\ndata_date = 2027-03-01T08:00:00\n' + CAL + TASK,
     "project.calendar: unknown calendar 'standard'; did you mean 'std'? (the "
     '[calendars.NAME] tables are "std")'),
    ('[project]\ncalendar = "std"\n' + CAL + TASK,
     "project: missing 'data_date': the moment (status date) from which remaining work is "
     "scheduled on the calendars, e.g. data_date = 2017-09-18T08:00:00 (or give start, whose "
     "midnight it then is)"),
    ('[project]\ncalendar = "std"\ndata_date = "next monday"\n' + CAL + TASK,
     "project.data_date: expected a date-time like 2017-09-18T08:00:00, got 'next monday'"),
    ('[project]\ncalendar = "std"\ndata_date = 2027-03-01T08:00:00+01:00\n' + CAL + TASK,
     "project.data_date: 2027-03-01T08:00:00+01:00 has a UTC offset; give the local "
     "date-time of the schedule without one, like 2017-09-18T08:00:00"),
    (HEAD + 'in_progress_start = "data date"\n' + CAL + TASK,
     'project.in_progress_start: must be "remaining" (an in-progress task\'s remaining work '
     'starts at the data date, P6) or "actual" (it counts from its actual start, MS '
     "Project), got 'data date'"),
    (HEAD + 'constraint_beats_start = "yes"\n' + CAL + TASK,
     "project.constraint_beats_start: must be true or false, got 'yes'"),
    ('[project]\ndata_date = 2027-03-01T08:00:00\n' + TASK,
     "project.data_date: data_date is a setting of working calendars, and the scenario has "
     "none; add [calendars.NAME] tables (docs/scenario-format.md, Working calendars and "
     "progress) or remove data_date"),
    (HEAD + CAL + TASK + 'calendar = "standard"\n',
     'tasks[0] ("a"): calendar: unknown calendar \'standard\'; did you mean \'std\'? (the '
     '[calendars.NAME] tables are "std")'),
    (HEAD + CAL + TASK + 'status = "done"\n',
     'tasks[0] ("a"): status must be one of "not started", "in progress", "complete", got '
     "'done'"),
    (HEAD + CAL + TASK + 'kind = "milestone"\n',
     'tasks[0] ("a"): kind must be one of "task", "start milestone", "finish milestone", '
     "\"loe\", \"wbs summary\", \"connector\", got 'milestone'; did you mean 'start "
     "milestone'?"),
    (HEAD + CAL + TASK + 'milestone = "yes"\n',
     'tasks[0] ("a"): milestone must be true or false (shown as a milestone in reports), got '
     "'yes'"),
    (HEAD + CAL + TASK + 'actual_start = "monday"\n',
     "tasks[0] (\"a\"): actual_start: expected a date-time like 2017-09-18T08:00:00, got "
     "'monday'"),
    (HEAD + CAL + TASK + 'actual_start = 2027-03-02T08:00:00\n'
     'actual_finish = 2027-03-01T08:00:00\n',
     'tasks[0] ("a"): actual_finish 2027-03-01T08:00:00 is before actual_start '
     "2027-03-02T08:00:00"),
    (HEAD + CAL + TASK + 'elapsed_hours = -1\n',
     'tasks[0] ("a"): elapsed_hours must be a number >= 0 (the wall-clock hours of the '
     "remaining duration), got -1"),
    (HEAD + CAL + TASK + 'split_days = "2"\n',
     'tasks[0] ("a"): split_days must be a number >= 0 (the working days of split time '
     "within the duration), got '2'"),
    (HEAD + CAL + TASK + 'constraint = "FNLT 2027-03-05"\n',
     'tasks[0] ("a"): constraint must be a table like constraint = { type = "FNLT", date = '
     "2027-06-30T17:00:00 }, got 'FNLT 2027-03-05'"),
    (HEAD + CAL + TASK + 'constraint = { type = "FNLT", when = 2027-03-05 }\n',
     "tasks[0] (\"a\"): constraint: unknown key 'when' (allowed: type, date)"),
    (HEAD + CAL + TASK + 'constraint = { type = "FLNT", date = 2027-03-05 }\n',
     "tasks[0] (\"a\"): constraint: unknown constraint type 'FLNT'; did you mean 'FNLT'? (use "
     "one of SNET, SNLT, FNET, FNLT, SO, FO, MSO, MFO, ALAP)"),
    (HEAD + CAL + TASK + 'constraint = { type = "FO" }\n',
     'tasks[0] ("a"): constraint: FO (finish on) needs a date, e.g. constraint = { type = '
     '"FO", date = 2027-06-30T17:00:00 }'),
    (HEAD + CAL + TASK + 'constraint = { type = "ALAP", date = 2027-03-05 }\n',
     'tasks[0] ("a"): constraint: ALAP (as late as possible) takes no date; remove it'),
    (HEAD + CAL + TASK + 'constraint = { type = "SNET", date = "soon" }\n',
     "tasks[0] (\"a\"): constraint: date: expected a date-time like 2017-09-18T08:00:00, got "
     "'soon'"),
    (HEAD + CAL + TASK + '[[tasks]]\nid = "b"\nduration = 1\n'
     'predecessors = [{ id = "a", lag_calendar = "sdt" }]\n',
     "tasks[1] (\"b\"): predecessors[0]: lag_calendar: unknown calendar 'sdt'; did you mean "
     "'std'? (the [calendars.NAME] tables are \"std\")"),
    (HEAD + CAL + TASK + '[[tasks]]\nid = "b"\nduration = 1\n'
     'predecessors = [{ id = "a", lag_elapsed_hours = "48h" }]\n',
     'tasks[1] ("b"): predecessors[0]: lag_elapsed_hours must be a number of elapsed '
     "(wall-clock) hours, got '48h'"),
    (TASK + '[[tasks]]\nid = "b"\nduration = 1\n'
     'predecessors = [{ id = "a", lag = 2, lag_elapsed_hours = 48 }]\n',
     'tasks[1] ("b"): predecessors[0]: lag_elapsed_hours needs working calendars; add '
     "[calendars.NAME] tables and calendar and data_date under [project] "
     "(docs/scenario-format.md, Working calendars and progress)"),
    (HEAD + CAL + '[calendars.off]\nhours_per_day = 8\nweek = {}\n' + TASK
     + 'calendar = "off"\n',
     "calendars.off: week has no working hours, and tasks or lags use it; pmosim continues "
     "a calendar past its exceptions with its week, so give it at least one working day"),
])
def test_error_texts(tmp_path, body, expected):
    assert problems_of(tmp_path, body) == [expected]


def test_clock_keys_without_calendars_are_one_problem_and_a_count(tmp_path):
    assert problems_of(tmp_path, TASK + 'calendar = "std"\n[[tasks]]\nid = "b"\nduration = 1\n'
                       'constraint = { type = "ALAP" }\n[[tasks]]\nid = "c"\nduration = 1\n'
                       'elapsed_hours = 3\n') == [
        'tasks[0] ("a"): calendar: needs working calendars; add [calendars.NAME] tables and '
        "calendar and data_date under [project] (docs/scenario-format.md, Working calendars "
        "and progress), or give release and fixed_start/fixed_finish in working days instead",
        "2 more tasks give keys that need working calendars ([calendars.NAME] tables)"]
    # a calendar nobody uses may have no working time (a tool's resource calendar)
    p = pmosim.load(write(tmp_path, HEAD + CAL + '[calendars.off]\nhours_per_day = 8\n'
                          'week = {}\n' + TASK))
    assert p.meta["calendars"]["off"]["week"] == {}
    # a broken calendar is one problem, not one more per task that names it
    assert problems_of(tmp_path, HEAD + '[calendars.std]\nhours_per_day = 8\n'
                       'week = { mon = ["8-16"] }\n' + TASK + 'calendar = "std"\n') == [
        "calendars.std: week.mon[0]: cannot read '8-16'; write working hours as "
        '"HH:MM-HH:MM", e.g. "08:00-12:00" (24:00 is midnight at the end of the day)']


def test_csv_columns(tmp_path):
    (tmp_path / "t.csv").write_text(
        "id;duration;calendar;status;kind;milestone;actual_start;actual_finish;constraint;"
        "constraint_date;elapsed_hours;split_days;predecessors\n"
        "a;0;std;complete;task;;2027-03-01T08:00;2027-03-02 16:00;;;;;\n"
        "b;1,5;;;finish milestone;true;;;FNLT;2027-03-09T16:00:00;36,5;0,25;a\n"
        "c;1;;;;;;;ALAP;;;;b\n", encoding="utf-8")
    p = pmosim.load(write(tmp_path, HEAD + 'tasks_csv = "t.csv"\n' + CAL.replace(
        '{ mon = ["08:00-16:00"] }', '{ mon = ["08:00-16:00"], tue = ["08:00-16:00"] }')))
    n = p.graph.nodes
    assert {k: n["a"][k] for k in ("calendar", "status", "actual_start", "actual_finish")} == {
        "calendar": "std", "status": "complete", "actual_start": dt.datetime(2027, 3, 1, 8),
        "actual_finish": dt.datetime(2027, 3, 2, 16)}
    assert n["b"]["duration"] == Fixed(1.5) and n["b"]["elapsed_hours"] == 36.5
    assert (n["b"]["kind"], n["b"]["milestone"], n["b"]["split_days"]) == (
        "finish milestone", True, 0.25)
    assert n["b"]["constraint"] == ("FNLT", dt.datetime(2027, 3, 9, 16))
    assert n["c"]["constraint"] == ("ALAP", None)
    (tmp_path / "u.csv").write_text(
        "id,duration,status,constraint_date,actual_start\n"
        "a,1,done,2027-03-09,\n"
        "b,1,,,tomorrow\n", encoding="utf-8")
    label = tmp_path / "u.csv"
    assert problems_of(tmp_path, HEAD + 'tasks_csv = "u.csv"\n' + CAL) == [
        f"{label}: line 2 (\"a\"): constraint_date is given without a constraint type; add "
        "the constraint column (SNET, FO, ...)",
        f'{label}: line 2 ("a"): status must be one of "not started", "in progress", '
        "\"complete\", got 'done'",
        f"{label}: line 3 (\"b\"): actual_start: expected a date-time like "
        "2017-09-18T08:00:00, got 'tomorrow'"]


# -- round trips ------------------------------------------------------------------------
@pytest.fixture
def clocked():
    """A project with every wall-clock attribute, as an importer leaves it."""
    p = pmosim.Project("clocked")
    office = [(8.0, 12.0), (13.0, 17.0)]
    p.meta.update(
        data_date=dt.datetime(2027, 3, 3, 10, 30), axis_calendar="Office 5d",
        in_progress_start="actual", constraint_beats_start=True, ss_lag_from_actual_start=False,
        calendars={
            "Office 5d": {"name": "Office 5d", "hours_per_day": 8.0,
                          "week": {d: office for d in range(5)} | {5: [], 6: []},
                          "exceptions": {dt.date(2027, 3, 8): [],
                                         dt.date(2027, 3, 12): [(8.0, 8 + 1 / 7)],
                                         dt.date(2027, 3, 13): [(9.0, 9.0)]}},
            "night.shift": {"name": "Nights", "hours_per_day": 7.5,
                            "week": {d: [(0.0, 4.5), (21.0, 24.0)] for d in range(7)},
                            "exceptions": {}},
            "idle": {"name": "idle", "hours_per_day": 8.0, "week": {}, "exceptions": {}},
        })
    at = dt.datetime
    p.add_task("done", 0.0, status="complete", kind="task", calendar="night.shift",
               actual_start=at(2027, 2, 24, 21), actual_finish=at(2027, 3, 1, 3, 15, 30))
    p.add_task("going", 2.5, status="in progress", actual_start=at(2027, 3, 1, 9),
               resume=at(2027, 3, 4, 8), percent_complete=40.0, calendar="Office 5d")
    p.add_task("held", 1.0, status="not started", kind="task",
               constraint=("SNET", at(2027, 3, 10, 13)))
    p.add_task("late", 2.0, constraint=("FNLT", at(2027, 3, 19, 17)), deadline=at(2027, 3, 18, 17))
    p.add_task("on", 1.0, constraint=("MFO", at(2027, 3, 22, 17)), elapsed_hours=30.0,
               split_days=0.25, milestone=True)
    p.add_task("alap", 0.5, constraint=("ALAP", None))
    p.add_task("link", 0.0, kind="connector")
    p.add_task("end", 0.0, kind="finish milestone")
    p.add_link("done", "going")
    p.add_link("going", "held", "SS", 1.0)
    p.graph.edges["going", "held"]["lag_calendar"] = "night.shift"
    p.add_link("held", "late", "FS", 0.5)
    p.graph.edges["held", "late"]["lag_elapsed_hours"] = 12.0
    p.add_link("late", "on", "FF", 0.0)
    p.add_link("held", "alap")
    p.add_link("alap", "link")
    p.add_link("on", "end")
    p.add_link("link", "end")
    engine_hints(p)
    return p


@pytest.mark.parametrize("threshold", [200, 0])
def test_written_and_read_back_keeps_everything(tmp_path, clocked, threshold):
    out = write_scenario(clocked, tmp_path / "c.toml", csv_threshold=threshold)
    doc = tomllib.loads(out.path.read_text(encoding="utf-8"))
    assert sorted(doc["calendars"]) == ["Office 5d", "idle", "night.shift"]
    assert doc["calendars"]["Office 5d"]["exceptions"] == {
        "2027-03-12": [[8.0, 8 + 1 / 7]]}                  # not a whole second: a number
    assert doc["calendars"]["Office 5d"]["holidays"] == [dt.date(2027, 3, 8),
                                                         dt.date(2027, 3, 13)]
    assert "calendar" not in doc                        # the axis calendar's days
    q = pmosim.load(out)
    assert list(q.graph.nodes) == list(clocked.graph.nodes)
    cal = clocked.meta["calendars"]["Office 5d"]
    assert q.meta["calendars"]["Office 5d"] == dict(cal, exceptions={
        dt.date(2027, 3, 8): [], dt.date(2027, 3, 12): [(8.0, 8 + 1 / 7)],
        dt.date(2027, 3, 13): []})                      # an empty interval is no work
    assert q.meta["calendars"]["night.shift"] == clocked.meta["calendars"]["night.shift"]
    for key in ("axis_calendar", "data_date", "in_progress_start", "constraint_beats_start",
                "ss_lag_from_actual_start"):
        assert q.meta[key] == clocked.meta[key], key
    kept = ("calendar", "status", "kind", "milestone", "actual_start", "actual_finish",
            "resume", "constraint", "deadline", "elapsed_hours", "split_days", "release",
            "fixed_start", "fixed_finish")
    for t, d in clocked.graph.nodes(data=True):
        assert {k: d[k] for k in kept if d.get(k) is not None} == \
            {k: v for k, v in q.graph.nodes[t].items() if k in kept}, t
    assert q.graph.edges["going", "held"]["lag_calendar"] == "night.shift"
    assert q.graph.edges["held", "late"]["lag_elapsed_hours"] == 12.0
    assert "percent complete of 1 tasks in progress not written" in "\n".join(out.warnings)
    assert uses_calendars(q)
    assert_same_cpm(pmosim.cpm(clocked), pmosim.cpm(q))
    assert_same_bits(pmosim.simulate(apply_uncertainty(clocked, RULE), 500, seed=1),
                     pmosim.simulate(apply_uncertainty(q, RULE), 500, seed=1))


def test_offsets_are_written_where_they_differ(tmp_path, clocked):
    derived = axis_offsets(clocked)
    assert set(derived) == {"done", "held"}
    clocked.graph.nodes["done"]["fixed_start"] -= 0.125     # not the dates' offsets
    del clocked.graph.nodes["held"]["release"]              # none, though it has a SNET
    out = write_scenario(clocked, tmp_path / "c.toml")
    tasks = {t["id"]: t for t in tomllib.loads(out.path.read_text(encoding="utf-8"))["tasks"]}
    assert (tasks["done"]["fixed_start"], tasks["done"]["fixed_finish"]) == (
        derived["done"]["fixed_start"] - 0.125, derived["done"]["fixed_finish"])
    assert tasks["held"]["release"] == 0
    q = pmosim.load(out)
    assert q.graph.nodes["held"]["release"] == 0.0
    assert q.graph.nodes["done"]["fixed_start"] == clocked.graph.nodes["done"]["fixed_start"]


def test_what_cannot_be_written_is_reported(tmp_path, clocked):
    clocked.graph.nodes["late"]["constraint"] = ("FNET", None)     # bounds nothing
    clocked.graph.nodes["alap"]["kind"] = "hammock"
    out = write_scenario(clocked, tmp_path / "c.toml")
    assert out.warnings[:2] == (
        "1 constraints without a date (or of an unknown type) not written (FNET 1): they "
        "bound no date",
        "percent complete of 1 tasks in progress not written: their remaining durations "
        "carry the progress")
    assert ("task kind not written for 1 tasks (hammock 1): the scenario format's are task, "
            "start milestone, finish milestone, loe, wbs summary, connector") in out.warnings
    q = pmosim.load(out)
    assert "constraint" not in q.graph.nodes["late"] and "kind" not in q.graph.nodes["alap"]
    # a task on a calendar the project does not have: the day-level calendar only
    clocked.graph.nodes["alap"]["calendar"] = "gone"
    out = write_scenario(clocked, tmp_path / "d.toml")
    assert out.warnings[0] == ("working calendars not written: task 'alap': calendar 'gone' "
                               "is not among the calendars; tasks are written on the "
                               "day-level calendar")
    assert "calendars" not in pmosim.load(out).meta


# -- real files: import, write, read back ------------------------------------------------
@pytest.fixture(scope="module")
def sp10(tmp_path_factory):
    xer = pmosim.load(data_dir("p6", "SP10 - COST LOADED.xer"))
    out = write_scenario(xer, tmp_path_factory.mktemp("sp10") / "sp10.toml")
    toml = pmosim.load(out)
    return xer, out, toml, pmosim.cpm(xer), pmosim.cpm(toml)


def test_sp10_cpm_equals_the_direct_run(sp10):
    xer, out, toml, a, b = sp10
    assert_same_cpm(a, b)
    assert max(b.early_finish_date).date() == dt.date(2023, 1, 13)      # P6's finish
    assert list(toml.graph.nodes) == list(xer.graph.nodes)
    assert uses_calendars(toml)
    # every task in the CSV file; the offsets follow from the dates, so none is written
    doc = tomllib.loads(out.path.read_text(encoding="utf-8"))
    assert "tasks" not in doc and "calendar" not in doc
    header = out.csv_path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"calendar", "status", "actual_start", "constraint", "constraint_date"} <= set(header)
    assert not {"release", "fixed_start", "fixed_finish"} & set(header)
    assert toml.meta["calendars"] == xer.meta["calendars"]


def test_sp10_simulation_bits_with_uncertainty_before_and_after(sp10, tmp_path):
    xer, out, toml, _, _ = sp10
    before = apply_uncertainty(xer, RULE)
    direct = pmosim.simulate(before, 500, seed=1)
    written = pmosim.load(write_scenario(before, tmp_path / "before.toml"))
    assert_same_bits(direct, pmosim.simulate(written, 500, seed=1))
    assert_same_bits(direct, pmosim.simulate(apply_uncertainty(toml, RULE), 500, seed=1))


@pytest.mark.parametrize("parts", [
    ("projectlibre", "New Product.xml"),
    ("mpxj", "PredecessorCalendar.xml"),
    ("mpxj", "mspdisplittask.xml"),
    ("mpxj", "legacy", "caltest.xml"),
    ("mpxj", "mspditimephasedsegments.xml"),
])
def test_mspdi_files_equal_the_direct_run(tmp_path, parts):
    p = pmosim.load(data_dir(*parts))
    q = pmosim.load(write_scenario(p, tmp_path / "plan.toml"))
    assert uses_calendars(q) == uses_calendars(p)
    assert_same_cpm(pmosim.cpm(p), pmosim.cpm(q))
    before = apply_uncertainty(p, RULE)
    direct = pmosim.simulate(before, 500, seed=1)
    written = pmosim.load(write_scenario(before, tmp_path / "before.toml"))
    assert_same_bits(direct, pmosim.simulate(written, 500, seed=1))
    after = pmosim.simulate(apply_uncertainty(q, RULE), 500, seed=1)
    assert_same_bits(direct, after)
    assert after.to_dict() == direct.to_dict()


def test_import_then_cpm_prints_what_the_file_gives(tmp_path):
    xml = data_dir("projectlibre", "New Product.xml")
    runner = CliRunner()
    res = runner.invoke(cli, ["import", str(xml), "-o", str(tmp_path / "np.toml")])
    assert res.exit_code == 0, res.output
    direct = runner.invoke(cli, ["cpm", str(xml)])
    written = runner.invoke(cli, ["cpm", str(tmp_path / "np.toml")])
    assert direct.exit_code == written.exit_code == 0
    assert written.output == direct.output
    assert "Project finish: 103.0 working days of calendar 1, 2001-05-23 17:00" in written.output

"""Results in dates as well as working days (issue 16, the API part): a finish
percentile's date, targets and JCL given as dates, and a short repr."""

import datetime as dt

import numpy as np
import pytest

import pmosim
from pmosim.calendar import WorkCalendar


@pytest.fixture(scope="module")
def dated():
    p = pmosim.Project("dated", start="2027-03-01",
                       calendar=WorkCalendar(holidays=["2027-03-10"]))
    p.add_task("a", pmosim.Triangular(5, 8, 15), cost_rate=100.0)
    p.add_task("b", pmosim.Uniform(2, 6))
    p.add_link("a", "b")
    return pmosim.simulate(p, 4000, seed=2)


def test_percentile_dates_follow_the_finish_rule(dated):
    cal, start = dated.project.calendar, dated.project.start
    for q in (10, 50, 80, 95):
        t = float(dated.finish.percentile(q))
        # the working day a finish at time t ends on: day ceil(t) - 1, holidays skipped
        day = int(np.ceil(t)) - 1
        want = np.busday_offset(np.datetime64(start), day, roll="raise",
                                busdaycal=cal.busdaycalendar).item()
        assert dated.finish.date(q) == want
    assert dated.finish.deterministic_date == cal.finish_dates(start, dated.finish.deterministic)


def test_dates_are_accepted_wherever_a_finish_time_is(dated):
    f = dated.finish.samples
    for text in ("2027-03-12", "2027-03-15", dt.date(2027, 3, 18)):
        t = WorkCalendar(holidays=["2027-03-10"]).working_time(dated.project.start, text)
        # by the end of that day: 2027-03-12 is the tenth working day (one holiday)
        assert dated.finish.probability_le(text) == np.mean(f <= t)
        assert dated.jcl(text, 1500.0) == np.mean((f <= t) & (dated.cost.samples <= 1500.0))
    assert WorkCalendar(holidays=["2027-03-10"]).working_time(dated.project.start,
                                                              "2027-03-12") == 9.0
    assert dated.finish.probability_le(9.0) == dated.finish.probability_le("2027-03-12")


def test_without_a_start_dates_are_a_clear_error():
    p = pmosim.Project()
    p.add_task("a", 3)
    r = pmosim.simulate(p, 64, seed=1)
    with pytest.raises(pmosim.PmosimError, match="the project has no start date"):
        r.finish.date(50)
    with pytest.raises(pmosim.PmosimError, match="the project has no start date"):
        r.finish.probability_le("2027-03-01")
    assert r.finish.probability_le(3) == 1.0


def test_repr_is_short():
    from pmosim.synthetic import layered_network
    r = pmosim.simulate(layered_network(2000, seed=1), 600, seed=3)
    text = repr(r)
    assert len(text) < 200
    assert text.startswith("SimulationResult(2,000 tasks, 600 iterations, seed 3: finish P50 ")


@pytest.mark.parametrize("target, message", [
    ("2027-02-26", "2027-02-26 is before the project start 2027-03-01; give a target date on "
                   "or after it"),
    ("-5", "'-5' is before the project start (working day 0)"),
])
def test_a_target_before_the_start_is_refused(tmp_path, target, message):
    from click.testing import CliRunner

    from pmosim.cli import cli
    path = tmp_path / "plan.toml"
    path.write_text('[project]\nstart = "2027-03-01"\n[[tasks]]\nid = "a"\nduration = 3\n')
    res = CliRunner().invoke(cli, ["run", str(path), "-n", "50", "--target", target,
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert message in res.output


def test_most_critical_leaves_out_import_connectors():
    p = pmosim.Project()
    p.add_task("a", 5)
    p.add_task("link", 0, kind="connector")
    p.add_task("b", 3)
    p.add_task("c", 1)
    p.add_link("a", "link")
    p.add_link("link", "b")
    r = pmosim.simulate(p, 64, seed=1)
    assert [t for t, _ in r.most_critical(3)] == ["a", "b", "c"]
    assert [t for t, _ in r.most_critical(3, connectors=True)] == ["a", "link", "b"]

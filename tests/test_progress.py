"""Release dates (start-no-earlier-than, data date) and completed tasks with fixed actual dates."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import pmosim
from pmosim.errors import ModelError


def progressed():
    p = pmosim.Project()
    p.add_task("done", 5, fixed_start=-10, fixed_finish=-3)   # completed before the data date
    p.add_task("next", pmosim.Uniform(2, 4), release=2)      # cannot start before day 2
    p.add_task("other", pmosim.Triangular(1, 3, 8))
    p.add_link("done", "next")
    p.add_link("done", "other", type="FS", lag=1)
    return p


def test_completed_task_keeps_its_actual_dates_in_every_iteration():
    r = pmosim.simulate(progressed(), 2_000, seed=4, keep_samples=True)
    assert np.all(r.starts[:, 0] == -10.0) and np.all(r.finishes[:, 0] == -3.0)
    assert np.all(r.durations[:, 0] == 7.0)
    # successors of a completed task still start no earlier than time 0 (the data date)
    assert np.all(r.starts[:, 2] == 0.0)


def test_release_is_a_start_no_earlier_than():
    r = pmosim.simulate(progressed(), 2_000, seed=4, keep_samples=True)
    assert np.all(r.starts[:, 1] == 2.0)
    assert_array_equal(r.finish.samples, np.maximum(2.0 + r.durations[:, 1], r.durations[:, 2]))


def test_cpm_uses_actual_durations_and_releases():
    c = pmosim.cpm(progressed())
    assert c.early_start.tolist() == [-10.0, 2.0, 0.0]
    assert c.duration.tolist() == [7.0, 3.0, 3.0]
    assert c.finish == 5.0
    assert c.critical_path == ["next"]


def test_fixed_dates_must_come_in_pairs_and_in_order():
    p = pmosim.Project()
    p.add_task("a", 1, fixed_start=0)
    with pytest.raises(ModelError, match="set both fixed_start and fixed_finish"):
        pmosim.cpm(p)
    q = pmosim.Project()
    q.add_task("a", 1, fixed_start=3, fixed_finish=1)
    with pytest.raises(ModelError, match="fixed_finish 1 is before fixed_start 3"):
        pmosim.cpm(q)
    r = pmosim.Project()
    r.add_task("a", 1, release="soon")
    with pytest.raises(ModelError, match="release must be a number, got 'soon'"):
        pmosim.cpm(r)

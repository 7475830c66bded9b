"""Resource levelling (the serial schedule generation scheme) against tests/naive.py.

The slow reference (``naive.naive_priority_list``, ``naive_serial_sgs``,
``naive_levelled_critical``) is first checked by hand and by an independent checker
(``feasibility.violations``) on random instances: every link type with positive and
negative lags, releases, completed (fixed) tasks, zero durations, one to four
resources, some with capacity changes. Then the engine must equal it exactly:
``pmosim.cpm(p, levelling="serial", priority=rule)`` on planned durations, and
``pmosim.simulate(..., levelling="serial", keep_samples=True)`` iteration by iteration on
the durations it sampled. Last, every PSPLIB J30 instance (Kolisch & Sprecher 1997, EJOR
96(1):205-216; optima by Demeulemeester & Herroelen) is levelled: no makespan may beat
the proven optimum or the unconstrained critical path, and every schedule must pass the
checker.

Random instances keep demands and capacities multiples of 1/2 and dates and lags
multiples of 1/4, so that sums of demands and a fixed task's ``start + (finish - start)``
are exact in floating point and "exactly equal" is a fair demand on the engine.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import pmosim
from pmosim import Triangular, Uniform

import naive
from _data import data_dir
from feasibility import read_psplib_bounds, violations

RULES = naive.PRIORITY_RULES
LINK_TYPES = ("FS", "SS", "FF", "SF")
#: Random instances per rule: the naive checks, the engine's cpm, the engine's simulate.
N_NAIVE, N_CPM, N_SIMULATE = 40, 20, 4
#: Iterations per simulate() check (each one a naive schedule).
SIM_ITERATIONS = 32
#: PSPLIB J30: 480 instances of 30 jobs (plus source and sink), 4 renewable resources.
J30_INSTANCES = 480


# -- random instances ---------------------------------------------------------------------

def random_project(seed, *, sampled=False, huge=False):
    """A random levelling problem as a :class:`pmosim.Project`.

    5..40 tasks in plan order ``t0, t1, ...``; links go forward in a random permutation
    of it (so the plan order is not a topological order), of all four types, half with a
    lag of -4..6 in steps of 1/2; a fifth of the tasks released at 0.5..15; up to two
    completed tasks with actual dates in -2..8 (their demands together fit within every
    capacity the resource ever has, so they overload nothing); one to four resources,
    half of them with one to three capacity changes (capacity 0 included: a shutdown);
    demands 0.5..3 on about half the resources; durations 0 for about one task in seven.
    ``sampled`` gives the other tasks triangular or uniform durations (positive
    support) and one in five an existence probability of 0.6; ``huge`` makes every capacity
    1e12 with no changes.
    """
    rng = np.random.default_rng([seed, 20_240_601])
    n = int(rng.integers(5, 41))
    ids = [f"t{k}" for k in range(n)]
    p = pmosim.Project(f"levelling {seed}")

    floor = {}
    for k in range(int(rng.integers(1, 5))):
        r = f"R{k}"
        if huge:
            p.add_resource(r, capacity=1e12)
            floor[r] = 1e12
            continue
        if rng.random() < 0.5:
            n_changes = int(rng.integers(1, 4))
            times = np.sort(rng.choice(np.arange(1, 80), size=n_changes, replace=False)) / 2
            caps = rng.integers(0, 13, size=n_changes) / 2
            caps[-1] = max(caps[-1], 3.0)
            cap = float(rng.integers(0, 13) / 2)
            p.add_resource(r, capacity=cap, changes=list(zip(times.tolist(), caps.tolist())))
            floor[r] = min(cap, float(caps.min()))
        else:
            cap = float(rng.integers(6, 13) / 2)
            p.add_resource(r, capacity=cap)
            floor[r] = cap
    res_ids = list(floor)

    fixed = set(rng.choice(n, size=int(rng.integers(0, 3)), replace=False).tolist())
    budget = dict(floor)
    for k, t in enumerate(ids):
        attrs = {}
        demand = {}
        if k in fixed:
            fs = float(rng.integers(-8, 33) / 4)
            dur = float(rng.integers(0, 25) / 4)
            attrs.update(fixed_start=fs, fixed_finish=fs + dur)
            for r in res_ids:
                units = float(rng.integers(1, 5) / 2)
                if rng.random() < 0.5 and units <= budget[r]:
                    demand[r] = units
                    budget[r] -= units
        else:
            dur = 0.0 if rng.random() < 0.15 else float(rng.integers(1, 21) / 2)
            if rng.random() < 0.2:
                attrs["release"] = float(rng.integers(1, 31) / 2)
            for r in res_ids:
                if rng.random() < 0.5:
                    demand[r] = float(rng.integers(1, 7) / 2)
            if sampled and dur > 0:
                if rng.random() < 0.5:
                    dur = Triangular(0.5 * dur, dur, 2.0 * dur)
                else:
                    dur = Uniform(0.5 * dur, 1.5 * dur)
                if rng.random() < 0.2:
                    attrs["existence"] = 0.6
        if rng.random() < 0.6:
            attrs["priority"] = int(rng.integers(0, 1001))
        p.add_task(t, dur, resources=demand, **attrs)

    perm = rng.permutation(n)
    for b in range(1, n):
        k = min(int(rng.integers(0, 4)), b)
        for a in rng.choice(b, size=k, replace=False):
            kind = LINK_TYPES[int(rng.integers(0, 4))]
            lag = 0.0 if rng.random() < 0.5 else float(rng.integers(-8, 13) / 2)
            p.add_link(ids[perm[a]], ids[perm[b]], type=kind, lag=lag)
    return p


def user_priorities(project):
    return {t: d.get("priority") for t, d in project.graph.nodes(data=True)}


def naive_order(project, instance, rule, dates):
    """The priority list of ``rule`` on the planned durations and the CPM ``dates``
    (dict with es, ef, ls, lf, each a dict by task id)."""
    return naive.naive_priority_list(instance.ids, instance.links, instance.duration, rule,
                                     dates["es"], dates["ef"], dates["ls"], dates["lf"],
                                     user_priorities(project))


def engine_dates(project):
    """The unlevelled CPM dates of the engine, as dicts by task id."""
    cpm = pmosim.cpm(project)
    ids = list(cpm.task_ids)
    return {key: dict(zip(ids, getattr(cpm, name).tolist()))
            for key, name in (("es", "early_start"), ("ef", "early_finish"),
                              ("ls", "late_start"), ("lf", "late_finish"))}


def column(values: dict, ids):
    return np.array([values[t] for t in ids], dtype=float)


# -- the reference, by hand ---------------------------------------------------------------

def hand_instance(durations, links=(), demands=None, resources=None, release=None,
                  fixed=None):
    ids = list(durations)
    return naive.LevellingInstance(
        ids=ids, duration={t: float(d) for t, d in durations.items()}, links=list(links),
        release=dict(release or {}), fixed=dict(fixed or {}), demands=dict(demands or {}),
        resources={r: [(-np.inf, float(steps[0]))] + [(float(t), float(c)) for t, c in steps[1:]]
                   for r, steps in (resources or {}).items()})


@pytest.mark.parametrize("rule, expected", [
    # a(3) -FS-> c(2); b(1), d(4) free. CPM: ES a0 b0 c3 d0, LS a0 b4 c3 d1, LF a3 b5 c5 d5.
    ("lft", ["a", "b", "c", "d"]),       # a (3), then b, c, d tie at 5: plan order
    ("lst", ["a", "d", "c", "b"]),       # 0, then 1, 3, 4
    ("mslk", ["a", "c", "d", "b"]),      # floats a0 c0 d1 b4
    ("mts", ["a", "b", "c", "d"]),       # only a has a successor
    ("grpw", ["a", "d", "c", "b"]),      # a 3+2, d 4, c 2, b 1
    ("spt", ["b", "a", "c", "d"]),       # b 1 first; c (2) waits for a (3)
    ("order", ["a", "b", "c", "d"]),
    ("priority", ["b", "d", "a", "c"]),  # c (900) waits for a (100); b, d the default 500
])
def test_priority_list_by_hand(rule, expected):
    inst = hand_instance({"a": 3, "b": 1, "c": 2, "d": 4}, [("a", "c", "FS", 0.0)])
    dates = naive.naive_cpm_dates(inst)
    assert dates["finish"] == 5.0
    assert dates["lf"] == {"a": 3.0, "b": 5.0, "c": 5.0, "d": 5.0}
    assert dates["ls"] == {"a": 0.0, "b": 4.0, "c": 3.0, "d": 1.0}
    got = naive.naive_priority_list(inst.ids, inst.links, inst.duration, rule, dates["es"],
                                    dates["ef"], dates["ls"], dates["lf"],
                                    {"a": 100, "c": 900, "d": None})
    assert got == expected


def level(inst, order=None):
    order = order or inst.ids
    sched = naive.naive_serial_sgs(inst, order)
    crit, binding = naive.naive_levelled_critical(inst, order, sched)
    assert violations(inst, sched["start"], sched["finish"]) == []
    return sched, crit, binding


def test_sgs_one_crane_in_turn():
    inst = hand_instance({"a": 3, "b": 2}, demands={"a": {"crane": 1}, "b": {"crane": 1}},
                         resources={"crane": [1]})
    sched, crit, binding = level(inst)
    assert sched["start"] == {"a": 0.0, "b": 3.0} and sched["project_finish"] == 5.0
    assert sched["t0"] == {"a": 0.0, "b": 0.0} and sched["short"] == {"b": {"crane"}}
    assert crit == {"a", "b"} and binding == {"crane"}


def test_sgs_capacity_drop_later_in_the_window():
    # 2 cranes until 10, then 1: c fits at 8 only because a and b have gone by then
    inst = hand_instance({"a": 8, "b": 8, "c": 4},
                         demands={t: {"crane": 1} for t in "abc"},
                         resources={"crane": [2, (10, 1)]})
    sched, crit, binding = level(inst)
    assert sched["start"] == {"a": 0.0, "b": 0.0, "c": 8.0}
    assert sched["short"] == {"c": {"crane"}}
    assert crit == {"a", "b", "c"} and binding == {"crane"}
    # the drop blocks a task whose window reaches it: d waits for a and b, then fits
    inst = hand_instance({"a": 8, "b": 8, "d": 4},
                         demands={"a": {"crane": 1}, "b": {"crane": 1}, "d": {"crane": 2}},
                         resources={"crane": [2, (10, 1), (20, 2)]})
    sched, _, _ = level(inst)
    assert sched["start"]["d"] == 20.0   # 8 is free, but [8, 12) crosses the drop at 10


def test_sgs_waits_for_a_capacity_change():
    inst = hand_instance({"a": 3}, demands={"a": {"R": 1}}, resources={"R": [0, (5, 2)]})
    sched, crit, binding = level(inst)
    assert sched["start"] == {"a": 5.0} and sched["short"] == {"a": {"R"}}
    assert crit == {"a"} and binding == {"R"}
    # a shutdown from 4 to 6 inside the window of a task released at 2
    inst = hand_instance({"a": 3}, demands={"a": {"R": 1}}, release={"a": 2},
                         resources={"R": [2, (4, 0), (6, 2)]})
    sched, _, _ = level(inst)
    assert sched["t0"] == {"a": 2.0} and sched["start"] == {"a": 6.0}
    assert sched["short"] == {"a": {"R"}}


def test_sgs_fixed_task_holds_its_resource():
    inst = hand_instance({"x": 6, "a": 2, "b": 1}, [("a", "x", "FS", 0.0)],
                         demands={"x": {"R": 1}, "a": {"R": 1}},
                         fixed={"x": (-2.0, 4.0)}, resources={"R": [1]})
    # x is fixed whatever its predecessor a does (that link does not bind it)
    sched, crit, binding = level(inst, ["a", "x", "b"])
    assert sched["start"] == {"x": -2.0, "a": 4.0, "b": 0.0}
    assert sched["placed"] == ["x", "a", "b"]
    assert crit == {"x", "a"} and binding == {"R"}


def test_sgs_links_drive_and_zero_durations_do_not_wait():
    # FF: b (2) finishes with a (5), so starts at 3; z (0) needs the full crane but takes
    # no time, so it does not wait
    inst = hand_instance({"a": 5, "b": 2, "z": 0},
                         [("a", "b", "FF", 0.0), ("a", "z", "SS", 1.0)],
                         demands={"a": {"R": 1}, "z": {"R": 1}}, resources={"R": [1]})
    sched, crit, binding = level(inst)
    assert sched["start"] == {"a": 0.0, "b": 3.0, "z": 1.0}
    assert sched["short"] == {} and crit == {"a", "b"} and binding == set()


def test_critical_chain_passes_through_a_task_that_does_not_exist():
    inst = hand_instance({"a": 2, "b": 0, "c": 3}, [("a", "b", "FS", 0.0), ("b", "c", "FS", 0.0)])
    sched = naive.naive_serial_sgs(inst, inst.ids)
    crit, _ = naive.naive_levelled_critical(inst, inst.ids, sched, {"b": False})
    assert crit == {"a", "c"}
    assert naive.naive_levelled_critical(inst, inst.ids, sched)[0] == {"a", "b", "c"}


def test_sgs_refuses_an_order_against_the_links():
    inst = hand_instance({"a": 1, "b": 1}, [("a", "b", "SS", 0.0)])
    with pytest.raises(ValueError, match="before its predecessor 'a'"):
        naive.naive_serial_sgs(inst, ["b", "a"])


# -- the checker can fail ---------------------------------------------------------------

def test_checker_catches_broken_schedules():
    inst = hand_instance({"a": 4, "b": 2, "c": 3, "x": 2},
                         [("a", "c", "FS", 1.0), ("b", "c", "SS", 0.0), ("b", "x", "FF", 0.0)],
                         demands={"a": {"R": 1}, "b": {"R": 1}, "c": {"R": 2}},
                         release={"b": 1.0}, fixed={"x": (0.0, 2.0)},
                         resources={"R": [2, (20, 1)]})
    good = ({"a": 0.0, "b": 1.0, "c": 5.0, "x": 0.0}, {"a": 4.0, "b": 3.0, "c": 8.0, "x": 2.0})
    assert violations(inst, *good) == []

    def broken(**changes):
        start, finish = dict(good[0]), dict(good[1])
        for t, (s, f) in changes.items():
            start[t], finish[t] = s, f
        return violations(inst, start, finish)

    assert broken(c=(3.0, 6.0)) == [
        "link 'a' -> 'c' (FS, lag 1): start of 'c' is 3, must be >= 5",
        "resource R at time 3: tasks a, c use 3 > capacity 2"]
    assert broken(b=(0.5, 2.5)) == ["task 'b': starts at 0.5, before its release 1"]
    assert broken(c=(5.0, 9.0)) == ["task 'c': finish - start = 4, duration is 3"]
    assert broken(x=(1.0, 3.0)) == ["task 'x': fixed at [0, 2] but scheduled at [1, 3]"]
    assert broken(c=(19.0, 22.0)) == ["resource R at time 20: tasks c use 2 > capacity 1"]
    # the checker reads arrays in plan order too
    assert violations(inst, [0.0, 1.0, 5.0, 0.0], [4.0, 3.0, 8.0, 2.0]) == []
    # a fixed task's incoming link does not bind it: x finishes before b (FF) and that is fine
    assert broken(b=(3.0, 5.0)) == []


@pytest.mark.parametrize("kind, lag, start_b, message", [
    ("FS", 1.0, 3.0, "start of 'b' is 3, must be >= 4.5"),
    ("SS", 1.0, 0.5, "start of 'b' is 0.5, must be >= 1.5"),
    ("FF", -1.0, 0.0, "finish of 'b' is 2, must be >= 2.5"),
    ("SF", 3.0, 0.5, "finish of 'b' is 2.5, must be >= 3.5"),
])
def test_checker_catches_each_link_type(kind, lag, start_b, message):
    inst = hand_instance({"a": 3, "b": 2}, [("a", "b", kind, lag)])
    good = {"FS": 4.5, "SS": 1.5, "FF": 0.5, "SF": 1.5}[kind]
    assert violations(inst, {"a": 0.5, "b": good}, {"a": 3.5, "b": good + 2}) == []
    got = violations(inst, {"a": 0.5, "b": start_b}, {"a": 3.5, "b": start_b + 2})
    assert got == [f"link 'a' -> 'b' ({kind}, lag {lag:g}): {message}"]


def test_checker_catches_a_moved_task_in_a_levelled_schedule():
    caught = 0
    for seed in range(20):
        p = random_project(seed)
        inst = naive.levelling_instance(p)
        sched = naive.naive_serial_sgs(inst, naive_order(p, inst, "lft",
                                                         naive.naive_cpm_dates(inst)))
        start, finish = dict(sched["start"]), dict(sched["finish"])
        # the latest-starting task that waited for a resource, one time unit earlier: the
        # scheme took the earliest time that fits, so that cannot fit
        delayed = [j for j in sched["short"] if sched["start"][j] - 1.0 >= sched["t0"][j]]
        if not delayed:
            continue
        j = max(delayed, key=lambda t: sched["start"][t])
        start[j] -= 1.0
        finish[j] -= 1.0
        assert any(v.startswith("resource") for v in violations(inst, start, finish)), seed
        caught += 1
    assert caught >= 5


# -- the reference on random instances --------------------------------------------------

@pytest.mark.parametrize("rule", RULES)
def test_naive_levelling_is_feasible(rule):
    delayed = 0
    for seed in range(N_NAIVE):
        p = random_project(seed)
        p.validate()
        inst = naive.levelling_instance(p)
        dates = naive.naive_cpm_dates(inst)
        order = naive_order(p, inst, rule, dates)
        assert sorted(order) == sorted(inst.ids)
        rank = {t: k for k, t in enumerate(order)}
        assert all(rank[q] < rank[j] for q, j, *_ in inst.links)
        sched = naive.naive_serial_sgs(inst, order)
        assert violations(inst, sched["start"], sched["finish"]) == [], seed
        assert sched["project_finish"] >= dates["finish"]
        for j in inst.ids:
            if j not in inst.fixed:
                assert sched["start"][j] >= max(sched["t0"][j], dates["es"][j])
        crit, binding = naive.naive_levelled_critical(inst, order, sched)
        finishing = {j for j in inst.ids if sched["finish"][j] == sched["project_finish"]}
        assert finishing <= crit
        assert binding == set().union(*(sched["short"][j] for j in crit if j in sched["short"]))
        delayed += len(sched["short"])
    assert delayed > N_NAIVE   # the instances do make tasks wait


def test_naive_levelling_starts_each_task_at_the_earliest_fit():
    """Every time of a random instance is a multiple of 1/4, so the earliest start that
    fits, given the tasks placed before, is the first quarter from ``t0`` at which the
    demand fits at every quarter of the task's window: found here by scanning a grid of
    resource usage, without candidate times."""
    step = 0.25
    for seed in range(N_NAIVE):
        p = random_project(seed)
        inst = naive.levelling_instance(p)
        sched = naive.naive_serial_sgs(inst, naive_order(p, inst, "lst",
                                                         naive.naive_cpm_dates(inst)))
        start, finish = sched["start"], sched["finish"]
        origin = min(0.0, *start.values())
        size = int((max(finish.values()) - origin) / step) + 2
        grid = origin + step * np.arange(size)
        cap = {r: np.array([naive.capacity_at(steps, t) for t in grid])
               for r, steps in inst.resources.items()}
        used = {r: np.zeros(size) for r in inst.resources}
        for j in sched["placed"]:
            s, f, dem = start[j], finish[j], inst.demands.get(j, {})
            first, last = int((s - origin) / step), int((f - origin) / step)
            assert grid[first] == s and grid[last] == f, (seed, j)
            if j not in inst.fixed and f > s and dem:
                lo = int((sched["t0"][j] - origin) / step)
                n_quarters = last - first
                fits = [all(np.all(used[r][t:t + n_quarters] + u <= cap[r][t:t + n_quarters])
                            for r, u in dem.items())
                        for t in range(lo, first + 1)]
                assert fits[-1] and not any(fits[:-1]), (seed, j)
            for r, u in dem.items():
                used[r][first:last] += u


@pytest.mark.parametrize("rule", RULES)
def test_naive_levelling_with_huge_capacities_is_the_cpm_schedule(rule):
    for seed in range(N_NAIVE):
        p = random_project(seed, huge=True)
        inst = naive.levelling_instance(p)
        dates = naive.naive_cpm_dates(inst)
        sched = naive.naive_serial_sgs(inst, naive_order(p, inst, rule, dates))
        assert sched["start"] == dates["es"] and sched["finish"] == dates["ef"]
        assert sched["short"] == {} and sched["project_finish"] == dates["finish"]


def test_naive_cpm_dates_agree_with_schedule_without_releases_or_fixed_tasks():
    for seed in range(10):
        p = random_project(seed)
        for _, data in p.graph.nodes(data=True):
            for key in ("release", "fixed_start", "fixed_finish"):
                data.pop(key, None)
        inst = naive.levelling_instance(p)
        dates = naive.naive_cpm_dates(inst)
        ref = naive.schedule(p.graph, inst.duration)
        for ours, theirs in (("es", "early_start"), ("ef", "early_finish"),
                             ("ls", "late_start"), ("lf", "late_finish")):
            assert dates[ours] == getattr(ref, theirs)
        assert dates["finish"] == ref.finish


# -- the engine equals the reference ----------------------------------------------------

def test_engine_api_example():
    p = pmosim.Project()
    p.add_resource("crane", capacity=2, changes=[(10.0, 1.0)])
    p.add_task("a", Triangular(6, 8, 12), resources={"crane": 1}, priority=700)
    p.add_task("b", 8, resources={"crane": 1})
    p.add_task("c", 4, resources={"crane": 1})
    r = pmosim.cpm(p, levelling="serial", priority="priority")
    assert_array_equal(r.early_start, [0.0, 0.0, 8.0])
    assert_array_equal(r.early_finish, [8.0, 8.0, 12.0])
    assert r.finish == 12.0
    assert_array_equal(r.critical, [True, True, True])


@pytest.mark.parametrize("rule", RULES)
def test_engine_cpm_levelled_equals_naive(rule):
    for seed in range(N_CPM):
        p = random_project(seed)
        ids = list(p.graph.nodes)
        inst = naive.levelling_instance(p)
        order = naive_order(p, inst, rule, engine_dates(p))
        sched = naive.naive_serial_sgs(inst, order)
        crit, _ = naive.naive_levelled_critical(inst, order, sched)
        got = pmosim.cpm(p, levelling="serial", priority=rule)
        assert list(got.task_ids) == ids
        assert_array_equal(got.early_start, column(sched["start"], ids), err_msg=f"seed {seed}")
        assert_array_equal(got.early_finish, column(sched["finish"], ids),
                           err_msg=f"seed {seed}")
        assert got.finish == sched["project_finish"], seed
        assert_array_equal(np.asarray(got.critical, dtype=bool), [t in crit for t in ids],
                           err_msg=f"seed {seed}")


@pytest.mark.parametrize("rule", ["lft", "grpw"])
def test_engine_cpm_levelled_with_huge_capacities_is_cpm(rule):
    for seed in range(N_CPM):
        p = random_project(seed, huge=True)
        plain = pmosim.cpm(p)
        got = pmosim.cpm(p, levelling="serial", priority=rule)
        assert_array_equal(got.early_start, plain.early_start, err_msg=f"seed {seed}")
        assert_array_equal(got.early_finish, plain.early_finish, err_msg=f"seed {seed}")
        assert got.finish == plain.finish


@pytest.mark.parametrize("rule", RULES)
def test_engine_simulate_levelled_equals_naive(rule):
    n = SIM_ITERATIONS
    for seed in range(N_SIMULATE):
        p = random_project(seed, sampled=True)
        ids = list(p.graph.nodes)
        planned = naive.levelling_instance(p)
        order = naive_order(p, planned, rule, engine_dates(p))
        r = pmosim.simulate(p, n, seed=seed, levelling="serial", priority=rule,
                            keep_samples=True)
        assert list(r.task_ids) == ids
        assert r.durations.shape == r.starts.shape == r.finishes.shape == (n, len(ids))
        maybe = {t for t in ids if p.graph.nodes[t].get("existence", 1.0) < 1.0}
        counts = np.zeros(len(ids), dtype=np.int64)
        finish, unlevelled = np.empty(n), np.empty(n)
        for i in range(n):
            inst = naive.levelling_instance(p, r.durations[i])
            sched = naive.naive_serial_sgs(inst, order)
            where = f"seed {seed}, iteration {i}"
            assert_array_equal(r.starts[i], column(sched["start"], ids), err_msg=where)
            assert_array_equal(r.finishes[i], column(sched["finish"], ids), err_msg=where)
            exists = {t: inst.duration[t] > 0 or t not in maybe for t in ids}
            crit, _ = naive.naive_levelled_critical(inst, order, sched, exists)
            counts += [t in crit for t in ids]
            finish[i] = sched["project_finish"]
            unlevelled[i] = naive.naive_cpm_dates(inst)["finish"]
        assert_array_equal(r.finish.samples, finish)
        assert_array_equal(r.levelling.finish_unlevelled.samples, unlevelled)
        for j, t in enumerate(ids):
            assert r.criticality[t] == counts[j] / n, (seed, t)


@pytest.mark.parametrize("rule", ["lft", "order"])
def test_engine_simulate_criticality_leaves_out_tasks_that_do_not_exist(rule):
    """m exists in about half the iterations; where it does not (duration 0) it still
    passes a's finish on to c, so it is on the driving chain, yet never critical."""
    p = pmosim.Project()
    p.add_resource("crane", capacity=1)
    p.add_task("a", Uniform(2, 4), resources={"crane": 1})
    p.add_task("b", Uniform(1, 6), resources={"crane": 1})
    p.add_task("m", Uniform(1, 3), existence=0.5)
    p.add_task("c", Uniform(2, 3))
    p.add_link("a", "m")
    p.add_link("m", "c")
    n = 200
    r = pmosim.simulate(p, n, seed=3, levelling="serial", priority=rule, keep_samples=True)
    ids = list(p.graph.nodes)
    order = naive_order(p, naive.levelling_instance(p), rule, engine_dates(p))
    on_chain = critical = 0
    for i in range(n):
        inst = naive.levelling_instance(p, r.durations[i])
        sched = naive.naive_serial_sgs(inst, order)
        assert_array_equal(r.starts[i], column(sched["start"], ids))
        crit, _ = naive.naive_levelled_critical(inst, order, sched, {"m": inst.duration["m"] > 0})
        on_chain += "m" in naive.naive_levelled_critical(inst, order, sched)[0]
        critical += "m" in crit
    assert r.criticality["m"] == critical / n
    assert 0 < critical < on_chain


# -- PSPLIB J30: optimum <= levelled makespan, and feasible ------------------------------

def psplib_project(path):
    """A PSPLIB instance with its renewable resources (from ``meta`` if the reader did
    not add them)."""
    p = pmosim.load(path)
    if not p.resources:
        for r, spec in p.meta["resources"].items():
            if spec["kind"] == "renewable":
                p.add_resource(r, capacity=spec["capacity"])
    return p


@pytest.fixture(scope="module")
def j30():
    """(instance name, project, proven optimum) of every J30 instance."""
    folder = data_dir("psplib", "j30.sm")
    optimum = read_psplib_bounds(data_dir("psplib", "bounds", "j30opt.sm"))
    assert len(optimum) == J30_INSTANCES
    paths = sorted(folder.glob("*.sm"))
    assert {path.stem for path in paths} == set(optimum)
    return [(path.stem, psplib_project(path), optimum[path.stem]) for path in paths]


def test_read_psplib_bounds(tmp_path):
    bounds = read_psplib_bounds(data_dir("psplib", "bounds", "j30opt.sm"))
    assert bounds["j301_1"] == 43 and bounds["j3048_10"] == 54
    for name, count in (("j60hrs.sm", 480), ("j90hrs.sm", 480), ("j120hrs.sm", 600)):
        bounds = read_psplib_bounds(data_dir("psplib", "bounds", name))
        assert len(bounds) == count, name
    assert read_psplib_bounds(data_dir("psplib", "bounds", "j60hrs.sm"))["j601_1"] == 77
    clash = tmp_path / "j30opt.sm"
    clash.write_text("1 1 43 0.3\n1\t1\t44\n")
    with pytest.raises(ValueError, match="j301_1 listed again"):
        read_psplib_bounds(clash)


def test_j30_naive_levelling_respects_the_optimum(j30):
    for name, p, opt in j30:
        inst = naive.levelling_instance(p)
        dates = naive.naive_cpm_dates(inst)
        sched = naive.naive_serial_sgs(inst, naive_order(p, inst, "lft", dates))
        assert sched["project_finish"] >= max(opt, dates["finish"]), name
        assert violations(inst, sched["start"], sched["finish"]) == [], name


def test_j30_engine_levelling_respects_the_optimum(j30):
    for name, p, opt in j30:
        unlevelled = pmosim.cpm(p)
        got = pmosim.cpm(p, levelling="serial")
        assert got.finish >= opt and got.finish >= unlevelled.finish, name
        inst = naive.levelling_instance(p)
        assert violations(inst, got.early_start, got.early_finish) == [], name
        # and the rule given by name is the reference's, exactly
        lft = pmosim.cpm(p, levelling="serial", priority="lft")
        sched = naive.naive_serial_sgs(inst, naive_order(p, inst, "lft", engine_dates(p)))
        assert_array_equal(lft.early_start, column(sched["start"], inst.ids), err_msg=name)

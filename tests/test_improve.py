"""The improved levelled plan (kernels/improve.py): multi-pass sampling with forward-backward
improvement.

Every plan is read by :func:`plan_violations`, a checker written here from the
:class:`pmosim.Project` itself (task attributes, links, resources and their capacity
changes), sharing no code with the compiler or the kernels. Random instances keep
durations, dates and lags multiples of 1/4 and demands and capacities multiples of 1/2,
so every sum is exact in floating point and the checker asks for exact feasibility:
each link's bound and each release hold without tolerance, and at every start time and
capacity change the tasks running use at most the capacity (plus the engine's own
``CAPACITY_RTOL`` headroom, which exact sums never need).

Then: the improved makespan is never longer than the single serial SGS pass; the list
returned reproduces the plan exactly through the plain serial SGS; the same seed gives
the same plan bit for bit, and more passes never a longer one; the right justification
moves every task only later and keeps the schedule feasible (by hand for each link
type, a shutdown and a completed task, and on the random instances). Last, on 20 PSPLIB
J30 instances (Kolisch & Sprecher 1997, EJOR 96(1):205-216) no plan beats the proven
optimum (Demeulemeester & Herroelen) or the critical path.
"""


import numpy as np
import pytest
from numpy.testing import assert_array_equal

import pmosim
from pmosim.compile import compile_project
from pmosim.engine import _with_levelling
from pmosim.kernels.improve import _successors, improve_plan, make_profile, right_justify
from pmosim.kernels.levelling import deterministic_levelled

from _data import data_dir

LINK_TYPES = ("FS", "SS", "FF", "SF")
#: Random instances of the property tests.
N_RANDOM = 60
#: Passes of improve_plan in the tests (the default is the engine's business).
PASSES = 40
#: PSPLIB J30 instances checked (every 24th of the 480), and their passes.
N_J30, J30_PASSES = 20, 300


# -- random instances ----------------------------------------------------------------------

def random_project(seed, *, huge=False):
    """A random levelling problem: 4..30 tasks, links of all four types (half with a lag
    of -3..5 in quarters), releases, up to two completed tasks (whose demands together
    fit every capacity the resource ever has), zero durations, one to three resources,
    half of them with capacity changes (a shutdown to 0 included). ``huge`` gives every
    resource a capacity of 1e12 and no changes."""
    rng = np.random.default_rng([seed, 20_240_707])
    n = int(rng.integers(4, 31))
    ids = [f"t{k}" for k in range(n)]
    p = pmosim.Project(f"improve {seed}")
    floor = {}
    for k in range(int(rng.integers(1, 4))):
        r = f"R{k}"
        if huge:
            p.add_resource(r, capacity=1e12)
            floor[r] = 1e12
        elif rng.random() < 0.5:
            times = np.sort(rng.choice(np.arange(1, 60), size=int(rng.integers(1, 4)),
                                       replace=False)) / 2
            caps = rng.integers(0, 11, size=times.shape[0]) / 2
            caps[-1] = max(caps[-1], 3.0)
            cap = float(rng.integers(2, 11) / 2)
            p.add_resource(r, capacity=cap, changes=list(zip(times.tolist(), caps.tolist())))
            floor[r] = min(cap, float(caps.min()))
        else:
            cap = float(rng.integers(6, 11) / 2)
            p.add_resource(r, capacity=cap)
            floor[r] = cap
    fixed = set(rng.choice(n, size=int(rng.integers(0, 3)), replace=False).tolist())
    budget = dict(floor)
    for k, t in enumerate(ids):
        attrs, demand = {}, {}
        if k in fixed:
            fs = float(rng.integers(-8, 33) / 4)
            dur = float(rng.integers(0, 25) / 4)
            attrs.update(fixed_start=fs, fixed_finish=fs + dur)
            for r in floor:
                units = float(rng.integers(1, 5) / 2)
                if rng.random() < 0.5 and units <= budget[r]:
                    demand[r] = units
                    budget[r] -= units
        else:
            dur = 0.0 if rng.random() < 0.15 else float(rng.integers(1, 41) / 4)
            if rng.random() < 0.2:
                attrs["release"] = float(rng.integers(1, 41) / 4)
            for r in floor:
                if rng.random() < 0.5:
                    demand[r] = float(rng.integers(1, 7) / 2)
        p.add_task(t, dur, resources=demand, **attrs)
    perm = rng.permutation(n)
    for b in range(1, n):
        for a in rng.choice(b, size=min(int(rng.integers(0, 4)), b), replace=False):
            kind = LINK_TYPES[int(rng.integers(0, 4))]
            lag = 0.0 if rng.random() < 0.5 else float(rng.integers(-12, 21) / 4)
            p.add_link(ids[perm[a]], ids[perm[b]], type=kind, lag=lag)
    return p


def levelled(project):
    """(compiled model, Levelling, Links, planned durations, planned lags, CPM finish)
    of ``project`` with the LFT list."""
    c, det_free = _with_levelling(project, compile_project(project), "serial", "lft")
    k = c.kernel
    return c, k.levelling, k.links, c.planned, c.planned_lags, float(det_free[3])


def by_id(compiled, values):
    """A by-position array as a dict by task id."""
    return {compiled.task_ids[i]: float(values[p]) for p, i in enumerate(compiled.topo)}


# -- the independent checker -----------------------------------------------------------------

def plan_violations(project, start, finish):
    """Every rule the plan ``start``/``finish`` (dicts by task id) breaks, in words.

    Reads the project only: a completed task (``fixed_start``/``fixed_finish``) sits at
    its actual dates and its incoming links do not bind it; any other task lasts its
    duration (the number or ``Fixed`` given to ``add_task``), starts at or
    after 0 and its ``release``, and satisfies every incoming link (FS ``s >= f_q + lag``,
    SS ``s >= s_q + lag``, FF ``f >= f_q + lag``, SF ``f >= s_q + lag``), exactly. At
    every start time and capacity change, the tasks of positive duration running
    (``s <= tau < f``) use at most the capacity then in force plus 1e-9 of the largest.
    """
    g = project.graph
    out = []
    for t, data in g.nodes(data=True):
        s, f = start[t], finish[t]
        if data.get("fixed_start") is not None:
            if (s, f) != (data["fixed_start"], data["fixed_finish"]):
                out.append(f"{t}: completed at [{data['fixed_start']:g}, "
                           f"{data['fixed_finish']:g}], planned at [{s:g}, {f:g}]")
            continue
        d = data["duration"]
        d = float(getattr(d, "value", d))      # a number, or Fixed (PSPLIB)
        if f - s != d:
            out.append(f"{t}: lasts {f - s:g}, duration {d:g}")
        if s < max(0.0, float(data.get("release") or 0.0)):
            out.append(f"{t}: starts at {s:g} before 0 or its release")
        for q in g.predecessors(t):
            e = g.edges[q, t]
            kind, lag = e["type"], float(e["lag"])
            later, earlier = {"FS": (s, finish[q] + lag), "SS": (s, start[q] + lag),
                              "FF": (f, finish[q] + lag), "SF": (f, start[q] + lag)}[kind]
            if later < earlier:
                out.append(f"{q} -> {t} ({kind} {lag:g}): {later:g} < {earlier:g}")
    for r, res in project.resources.items():
        steps = res.steps()
        eps = 1e-9 * max(c for _, c in steps)
        users = [(t, float(data["resources"][r])) for t, data in g.nodes(data=True)
                 if (data.get("resources") or {}).get(r, 0) > 0 and finish[t] > start[t]]
        for tau in sorted({start[t] for t, _ in users} | {t for t, _ in res.changes}):
            cap = [c for t0, c in steps if t0 <= tau][-1]
            used = sum(u for t, u in users if start[t] <= tau < finish[t])
            if used > cap + eps:
                out.append(f"{r} at {tau:g}: {used:g} used > capacity {cap:g}")
    return out


def test_checker_catches_each_kind_of_break():
    p = pmosim.Project()
    p.add_resource("R", capacity=1, changes=[(10, 0), (12, 1)])
    p.add_task("a", 2, resources={"R": 1})
    p.add_task("b", 2, resources={"R": 1}, release=1)
    p.add_task("x", 1, fixed_start=-1, fixed_finish=0)
    p.add_link("a", "b", type="SS", lag=1.5)
    p.add_link("b", "x", type="FS")
    good = ({"a": 0.0, "b": 2.0, "x": -1.0}, {"a": 2.0, "b": 4.0, "x": 0.0})
    assert plan_violations(p, *good) == []

    def moved(t, s, f):
        start, finish = dict(good[0]), dict(good[1])
        start[t], finish[t] = s, f
        return plan_violations(p, start, finish)

    assert moved("b", 1.5, 3.5) == ["R at 1.5: 2 used > capacity 1"]
    assert moved("b", 1.25, 3.25) == ["a -> b (SS 1.5): 1.25 < 1.5",
                                      "R at 1.25: 2 used > capacity 1"]
    assert moved("b", 9.0, 11.0) == ["R at 10: 1 used > capacity 0"]
    assert moved("a", -0.5, 1.5) == ["a: starts at -0.5 before 0 or its release"]
    assert moved("a", 0.0, 1.0) == ["a: lasts 1, duration 2"]
    assert moved("x", 0.0, 1.0) == ["x: completed at [-1, 0], planned at [0, 1]"]


# -- properties on random instances ----------------------------------------------------------

@pytest.fixture(scope="module")
def random_plans():
    """(project, compiled, lev, links, planned, lags, single finish, improved plan) of each
    random instance."""
    out = []
    for seed in range(N_RANDOM):
        p = random_project(seed)
        p.validate()
        c, lev, links, planned, lags, _ = levelled(p)
        single = float(deterministic_levelled(lev, links, planned, lags)[2])
        plan = improve_plan(lev, links, planned, lags, np.int64(PASSES), np.int64(seed))
        out.append((p, c, lev, links, planned, lags, single, plan))
    return out


def test_improved_plan_is_feasible_and_never_longer(random_plans):
    shorter = 0
    for p, c, lev, links, planned, lags, single, (es, ef, finish, order) in random_plans:
        assert plan_violations(p, by_id(c, es), by_id(c, ef)) == [], p.name
        assert finish <= single, p.name
        assert finish == max(0.0, ef.max()), p.name
        shorter += finish < single
    assert shorter >= N_RANDOM // 10   # the instances leave the search something to find


def test_returned_list_is_feasible_and_reproduces_the_plan(random_plans):
    for p, c, lev, links, planned, lags, single, (es, ef, finish, order) in random_plans:
        assert sorted(order.tolist()) == list(range(c.n_tasks))
        rank = np.empty_like(order)
        rank[order] = np.arange(order.shape[0])
        for j in range(c.n_tasks):
            preds = links.pred_idx[links.pred_ptr[j]:links.pred_ptr[j + 1]]
            assert np.all(rank[preds] < rank[j]), p.name
        got = deterministic_levelled(lev._replace(order=order, rank=rank), links, planned, lags)
        assert_array_equal(got[0], es, err_msg=p.name)
        assert_array_equal(got[1], ef, err_msg=p.name)
        assert got[2] == finish


def test_same_seed_same_plan_and_more_passes_never_longer():
    for seed in range(10):
        p = random_project(100 + seed)
        _, lev, links, planned, lags, _ = levelled(p)
        a = improve_plan(lev, links, planned, lags, np.int64(PASSES), np.int64(7))
        b = improve_plan(lev, links, planned, lags, np.int64(PASSES), np.int64(7))
        for x, y in zip(a, b):
            assert_array_equal(x, y)
        finishes = [improve_plan(lev, links, planned, lags, np.int64(k), np.int64(7))[2]
                    for k in (1, 2, 5, 20, PASSES)]
        assert finishes == sorted(finishes, reverse=True)
        assert finishes[-1] == a[2]


def test_unlimited_resources_give_the_critical_path():
    for seed in range(10):
        p = random_project(200 + seed, huge=True)
        c, lev, links, planned, lags, cpm_finish = levelled(p)
        es, ef, finish, _ = improve_plan(lev, links, planned, lags, np.int64(10), np.int64(0))
        assert finish == cpm_finish
        assert plan_violations(p, by_id(c, es), by_id(c, ef)) == []


# -- the right justification ------------------------------------------------------------------

def right_justified(lev, links, planned, lags):
    """The serial SGS schedule of ``lev.order`` and its right justification (by
    decreasing finish, ties later-listed first), by position."""
    n = planned.shape[0]
    es0, ef0, pf = deterministic_levelled(lev, links, planned, lags)[:3]
    dur = np.where(np.isnan(links.fixed_start), planned, links.fixed_dur)[:, None].copy()
    lag = np.concatenate([[0.0], lags])[:, None].copy()
    es, ef = es0[:, None].copy(), ef0[:, None].copy()
    later_listed_first = np.asarray(lev.order)[::-1]
    by_finish = later_listed_first[np.argsort(-ef0[later_listed_first], kind="stable")]
    succ = _successors(links, np.int64(n))
    right_justify(lev, links, *succ, dur, lag, es, ef, pf, by_finish.astype(np.int64),
                  make_profile(lev, np.int64(n)))
    return es0, ef0, pf, es[:, 0], ef[:, 0]


def hand_case(kind=None, lag=0.0, resources=False, shutdown=False):
    """a (2) -kind/lag-> b (4), and c (10) alone, which sets the makespan 10."""
    p = pmosim.Project()
    if resources:
        p.add_resource("R", capacity=1, changes=[(6, 0), (9, 1)] if shutdown else None)
    demand = {"R": 1} if resources else {}
    p.add_task("a", 3 if resources else 2, resources=demand)
    p.add_task("b", 2 if resources else 4, resources=demand)
    p.add_task("c", 10)
    if kind is not None:
        p.add_link("a", "b", type=kind, lag=lag)
    return p


@pytest.mark.parametrize("kind, start_a", [
    ("FS", 3.0),   # b at [6, 10): f_a <= s_b - 1 = 5
    ("SS", 5.0),   # s_a <= s_b - 1 = 5
    ("FF", 7.0),   # f_a <= f_b - 1 = 9
    ("SF", 8.0),   # s_a <= f_b - 1 = 9, and f_a <= 10
])
def test_right_justification_mirrors_each_link_type(kind, start_a):
    p = hand_case(kind, 1.0)
    c, lev, links, planned, lags, _ = levelled(p)
    _, _, pf, es, ef = right_justified(lev, links, planned, lags)
    got = by_id(c, es)
    assert pf == 10.0
    assert got == {"a": start_a, "b": 6.0, "c": 0.0}


def test_right_justification_respects_resources_and_a_shutdown():
    # one unit: a [0, 3), b [3, 5) by the SGS; b goes to [8, 10), a to [5, 8)
    c, lev, links, planned, lags, _ = levelled(hand_case(resources=True))
    es0, _, _, es, _ = right_justified(lev, links, planned, lags)
    assert by_id(c, es0) == {"a": 0.0, "b": 3.0, "c": 0.0}
    assert by_id(c, es) == {"a": 5.0, "b": 8.0, "c": 0.0}
    # no unit from 6 to 9: b ends by 6, a before b
    c, lev, links, planned, lags, _ = levelled(hand_case(resources=True, shutdown=True))
    _, _, _, es, _ = right_justified(lev, links, planned, lags)
    assert by_id(c, es) == {"a": 1.0, "b": 4.0, "c": 0.0}


def test_right_justification_leaves_a_completed_task_and_its_links():
    p = pmosim.Project()
    p.add_resource("R", capacity=1)
    p.add_task("x", 4, resources={"R": 1}, fixed_start=-2, fixed_finish=3)
    p.add_task("a", 2, resources={"R": 1})
    p.add_task("b", 1)
    p.add_task("c", 12)
    p.add_link("a", "x")          # does not bind the completed x
    p.add_link("x", "b", type="SS", lag=8)
    c, lev, links, planned, lags, _ = levelled(p)
    _, _, pf, es, ef = right_justified(lev, links, planned, lags)
    assert pf == 12.0
    assert by_id(c, es) == {"x": -2.0, "a": 10.0, "b": 11.0, "c": 0.0}
    assert by_id(c, ef) == {"x": 3.0, "a": 12.0, "b": 12.0, "c": 12.0}


def test_right_justification_only_delays_and_stays_feasible():
    moved = 0
    for seed in range(N_RANDOM):
        p = random_project(seed)
        c, lev, links, planned, lags, _ = levelled(p)
        es0, ef0, pf, es, ef = right_justified(lev, links, planned, lags)
        assert np.all(es >= es0) and np.all(ef <= pf), p.name
        # exact sums need exact right shifts: the quarters keep them exact here
        assert plan_violations(p, by_id(c, es), by_id(c, ef)) == [], p.name
        moved += int(np.sum(es > es0))
    assert moved > N_RANDOM


# -- PSPLIB J30 ------------------------------------------------------------------------------

def test_j30_never_beats_the_optimum():
    from feasibility import read_psplib_bounds

    folder = data_dir("psplib", "j30.sm")
    optimum = read_psplib_bounds(data_dir("psplib", "bounds", "j30opt.sm"))
    files = sorted(folder.glob("*.sm"))[::24][:N_J30]
    assert len(files) == N_J30
    improved = 0
    for path in files:
        p = pmosim.load(path)
        if not p.resources:
            for r, spec in p.meta["resources"].items():
                p.add_resource(r, capacity=spec["capacity"])
        c, lev, links, planned, lags, cpm_finish = levelled(p)
        single = float(deterministic_levelled(lev, links, planned, lags)[2])
        es, ef, finish, _ = improve_plan(lev, links, planned, lags, np.int64(J30_PASSES),
                                         np.int64(0))
        best = optimum[path.stem]
        assert best <= finish <= single, path.stem
        assert finish >= cpm_finish
        assert plan_violations(p, by_id(c, es), by_id(c, ef)) == [], path.stem
        improved += finish < single
    assert improved >= 1

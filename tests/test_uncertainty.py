"""Relative ranges on deterministic schedules (QuickRisk): grammar, filters, precedence.

Real data: ``../shared/data/p6/SP10 - COST LOADED.xer`` (progress, WBS) and a DSLIB
workbook with its own three-point estimates (Batselier & Vanhoucke 2015, IJPM
33(3):697-710), read from there, never copied.
"""

import math

import pytest

import pmosim
from pmosim.distributions import Fixed, Pert, Triangular, Trigen, Uniform
from pmosim.errors import ModelError
from pmosim.uncertainty import Range, apply_uncertainty, parse_rule, parse_uncertainty

from _data import data_dir


# -- the grammar ---------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("triangular(-10%, 0, +25%)", Range("triangular", -10.0, 0.0, 25.0)),
    ("TRIANGULAR ( -10 % , 0% , 25% )", Range("triangular", -10.0, 0.0, 25.0)),
    ("pert(-10%, 0, +25%)", Range("pert", -10.0, 0.0, 25.0, (("lamb", 4.0),))),
    ("pert(-10%, 5%, +25%, 3)", Range("pert", -10.0, 5.0, 25.0, (("lamb", 3.0),))),
    ("pert(-10%, 5%, +25%, lamb=3)", Range("pert", -10.0, 5.0, 25.0, (("lamb", 3.0),))),
    ("uniform(-10%, +20%)", Range("uniform", -10.0, None, 20.0)),
    ("trigen(-10%, 0, +25%)",
     Range("trigen", -10.0, 0.0, 25.0, (("low_pct", 10.0), ("high_pct", 90.0)))),
    ("trigen(-10%, 0, +25%, P5, P95)",
     Range("trigen", -10.0, 0.0, 25.0, (("low_pct", 5.0), ("high_pct", 95.0)))),
    ("trigen(-10%, 0, +25%, high_pct=80)",
     Range("trigen", -10.0, 0.0, 25.0, (("low_pct", 10.0), ("high_pct", 80.0)))),
    ("uniform(-100%, +0.5%)", Range("uniform", -100.0, None, 0.5)),
])
def test_ranges_parse(text, expected):
    assert parse_uncertainty(text) == expected
    # the canonical text reads back to the same range
    assert parse_uncertainty(expected.describe()) == expected


@pytest.mark.parametrize("text, message", [
    ("triangular(-10%, 0 +25%)",
     "uncertainty 'triangular(-10%, 0 +25%)': column 20: expected ',' or ')' after a value, "
     "found '+25%)'; write e.g. triangular(-10%, 0, +25%)"),
    ("triangular(-10%, 0, +25)",
     "uncertainty 'triangular(-10%, 0, +25)': column 21: +25 has no '%'; the points of a range "
     "are percentage changes of the planned duration, found '+25)'; write +25% (or 0 for "
     "'as planned')"),
    ("triang(-10%, 0, 25%)",
     "uncertainty 'triang(-10%, 0, 25%)': column 1: expected a distribution (triangular, pert, "
     "uniform, trigen), found 'triang(-10%,'; write e.g. triangular(-10%, 0, +25%)"),
    ("triangular(10%, 0, 25%)",
     "uncertainty 'triangular(10%, 0, 25%)': column 17: the points must be ordered LOW <= MODE "
     "<= HIGH, got 10%, 0%, 25%, found '0, 25%)'; write e.g. triangular(-10%, 0, +25%)"),
    ("uniform(-120%, 0)",
     "uncertainty 'uniform(-120%, 0)': column 9: LOW -120% would make durations negative, "
     "found '-120%, 0)'; use a change of -100% or more"),
    ("uniform(-10%)",
     "uncertainty 'uniform(-10%)': column 13: uniform needs 2 percentages (LOW, HIGH), got 1, "
     "found ')'; write e.g. uniform(-10%, +20%)"),
    ("uniform(-10%, 10%, 3)",
     "uncertainty 'uniform(-10%, 10%, 3)': column 20: too many values for uniform, found '3)'; "
     "write e.g. uniform(-10%, +20%)"),
    ("pert(-10%, 0, +25%, lamb=0)",
     "uncertainty 'pert(-10%, 0, +25%, lamb=0)': column 21: lamb must be > 0, got 0, found "
     "'lamb=0)'; use e.g. lamb=4 (classic PERT)"),
    ("pert(-10%, 0, +25%, mode=3)",
     "uncertainty 'pert(-10%, 0, +25%, mode=3)': column 21: unknown option 'mode'; pert takes "
     "lamb, found 'mode=3)'; write e.g. pert(-10%, 0, +25%) or pert(-10%, 0, +25%, lamb=3)"),
    ("trigen(-90%, 0, +25%, P30, P90)",
     "uncertainty 'trigen(-90%, 0, +25%, P30, P90)': column 8: LOW -90% at P30 extrapolates to "
     "a minimum of -240%, below -100% (negative durations), found '-90%, 0, +25'; raise LOW or "
     "move low_pct towards 0 (e.g. P15)"),
    ("triangular(-10%, 0, +25%) and more",
     "uncertainty 'triangular(-10%, 0, +25%) and more': column 27: unexpected text after the "
     "range, found 'and more'; remove it"),
    ("", "uncertainty '': column 1: expected a distribution (triangular, pert, uniform, "
         "trigen), found the end; write e.g. triangular(-10%, 0, +25%)"),
])
def test_range_errors_give_text_column_and_fix(text, message):
    with pytest.raises(ModelError) as exc:
        parse_uncertainty(text)
    assert str(exc.value) == message


def test_rules_parse_filters():
    rule = parse_rule('wbs=1.2 id=A* risk_profile="standard - symmetric": pert(-5%, 0, +40%)')
    assert (rule.wbs, rule.id, rule.fields) == ("1.2", "A*", (("risk_profile",
                                                                 "standard - symmetric"),))
    assert rule.range == parse_uncertainty("pert(-5%, 0, +40%)")
    assert parse_rule(rule.describe()) == rule
    # commas between filters, no colon, a quoted id with a colon
    rule = parse_rule("kind=task, id='S1:start' uniform(0, +5%)")
    assert (rule.wbs, rule.id, rule.fields) == (None, "S1:start", (("kind", "task"),))
    table = parse_rule({"range": "uniform(0, +5%)", "id": "S1:start", "fields": {"kind": "task"}})
    assert table == rule
    with pytest.raises(ModelError) as exc:
        parse_rule("wbs 1.2: pert(-5%, 0, +5%)")
    assert str(exc.value) == (
        "uncertainty rule 'wbs 1.2: pert(-5%, 0, +5%)': column 5: expected '=' after 'wbs', "
        "found '1.2: pert(-5'; write a filter as wbs=VALUE or a range such as "
        "triangular(-10%, 0, +25%)")
    with pytest.raises(ModelError, match="needs 'range'.*unknown key 'rnage'"):
        parse_rule({"rnage": "uniform(0, +5%)"})


# -- applying rules to a hand-built project ------------------------------------------
@pytest.fixture
def small():
    p = pmosim.Project("small")
    p.add_task("A1", 20, wbs="1.1", kind="task")
    p.add_task("A2", 10.0, wbs="1.2", kind="task", crew="night")
    p.add_task("B1", Fixed(8.0), wbs="1.20", kind="task", crew="day", shift=2)
    p.add_task("B2", Pert(3, 4, 9), wbs="1.2.1", kind="task")          # explicit range
    p.add_task("M", 0, wbs="1.2", kind="finish milestone")
    p.add_task("done", 5, wbs="1.2", status="complete")
    p.add_task("half", 6, wbs="2", status="in progress")             # 6 days remaining
    p.add_link("A1", "A2")
    p.add_link("A2", "B1", "SS", 2)
    p.add_link("B1", "M")
    p.add_link("B2", "M", "FF", 1)
    p.add_link("done", "half")
    p.meta["note"] = {"kept": [1, 2]}
    return p


def test_one_rule_on_every_task(small):
    before = {t: d["duration"] for t, d in small.graph.nodes(data=True)}
    q = apply_uncertainty(small, "triangular(-10%, 0, +25%)")
    n = q.graph.nodes
    assert n["A1"]["duration"] == Triangular(18.0, 20.0, 25.0)
    assert n["A2"]["duration"] == Triangular(9.0, 10.0, 12.5)
    assert n["B1"]["duration"] == Triangular(7.2, 8.0, 10.0)
    assert n["half"]["duration"] == Triangular(5.4, 6.0, 7.5)   # the remaining work
    assert n["B2"]["duration"] == Pert(3, 4, 9)                  # explicit range wins
    assert n["M"]["duration"] == 0 and n["done"]["duration"] == 5
    assert [n[t]["planned"] for t in ("A1", "A2", "B1", "half")] == [20, 10, 8, 6]
    assert q.meta["uncertainty"] == {
        "rules": ["triangular(-10%, 0%, +25%)"], "tasks_per_rule": [4], "kept_explicit": 1,
        "kept_milestones": 1, "kept_complete": 1, "warnings": []}
    # a new project: the input is untouched, the deterministic schedule is the same
    assert {t: d["duration"] for t, d in small.graph.nodes(data=True)} == before
    assert "planned" not in small.graph.nodes["A1"] and "uncertainty" not in small.meta
    q.meta["note"]["kept"].append(3)
    assert small.meta["note"] == {"kept": [1, 2]}
    assert list(q.graph.edges(data=True)) == list(small.graph.edges(data=True))
    assert pmosim.cpm(q).finish == pmosim.cpm(small).finish


def test_each_family(small):
    pct = {"pert(-10%, 0, +25%, lamb=3)": Pert(18.0, 20.0, 25.0, lamb=3.0),
           "uniform(-10%, +20%)": Uniform(18.0, 24.0),
           "trigen(-10%, 0, +25%, P5, P95)": Trigen(18.0, 20.0, 25.0, 5.0, 95.0)}
    for text, expected in pct.items():
        q = apply_uncertainty(small, f"id=A1: {text}")
        assert q.graph.nodes["A1"]["duration"] == expected
        assert q.graph.nodes["A2"]["duration"] == 10.0
        # uniform has no mode: planned keeps CPM on the planned 20 days, not the mean 21
        assert pmosim.cpm(q).finish == pmosim.cpm(small).finish


def test_filters_and_later_rules_win(small):
    q = apply_uncertainty(small, [
        "triangular(-10%, 0, +25%)",
        "wbs=1.2: uniform(-20%, +20%)",        # 1.2 and 1.2.x, not 1.20
        "crew=day: pert(0, 0, +50%)",           # a custom field (B1)
        "id=A?  shift=2: uniform(0, +1%)",      # both filters must hold: selects nothing
    ])
    n = q.graph.nodes
    assert n["A1"]["duration"] == Triangular(18.0, 20.0, 25.0)
    assert n["A2"]["duration"] == Uniform(8.0, 12.0)
    assert n["B1"]["duration"] == Pert(8.0, 8.0, 12.0)
    assert n["B2"]["duration"] == Pert(3, 4, 9)
    assert q.meta["uncertainty"]["tasks_per_rule"] == [2, 1, 1, 0]   # A1 and half
    assert q.meta["uncertainty"]["warnings"] == [
        "uncertainty rule 'id=A? shift=2: uniform(0%, +1%)' selects no task"]
    # WBS globs, id globs, numbers given as text compare as numbers
    q = apply_uncertainty(small, ["wbs=1.2*: uniform(0, +10%)", "id=*1 shift=2.0: "
                                  "uniform(0, +30%)"])
    assert n["A1"]["duration"] == Triangular(18.0, 20.0, 25.0)   # the earlier copy
    m = q.graph.nodes
    assert m["A1"]["duration"] == 20
    assert m["A2"]["duration"] == Uniform(10.0, 11.0)
    assert m["B1"]["duration"] == Uniform(8.0, 10.4)
    assert q.meta["uncertainty"]["tasks_per_rule"] == [1, 1]
    q = apply_uncertainty(small, ["id=B1: uniform(0, +10%)", "crew=day: uniform(0, +20%)"])
    assert q.meta["uncertainty"]["warnings"] == [
        "uncertainty rule 'id=B1: uniform(0%, +10%)' selects 1 task, all replaced by "
        "later rules"]


def test_simulated_mean_matches_the_range():
    """One task planned at 20 with triangular(-10%, 0, +25%): Triangular(18, 20, 25),
    mean 21 and sd sqrt((a²+b²+c²-ab-ac-bc)/18)."""
    p = pmosim.Project()
    p.add_task("t", 20)
    q = apply_uncertainty(p, "triangular(-10%, 0, +25%)")
    n = 20_000
    res = pmosim.simulate(q, n, seed=11)
    a, c, b = 18.0, 20.0, 25.0
    sd = math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
    assert res.finish.mean == pytest.approx(21.0, abs=5 * sd / math.sqrt(n))
    assert res.finish.deterministic == 20.0


# -- real files -----------------------------------------------------------------------
def test_sp10_quickrisk_spares_completed_work_and_milestones(sp10):
    q = apply_uncertainty(sp10, "triangular(-10%, 0, +25%)")
    counts = {"range": 0, "complete": 0, "zero": 0}
    for t, d in sp10.graph.nodes(data=True):
        new = q.graph.nodes[t]["duration"]
        v = d["duration"].value                # remaining working days of P6
        if d["status"] == "complete":
            counts["complete"] += 1
            assert new == d["duration"]
        elif v == 0:
            counts["zero"] += 1                # milestones and connector tasks
            assert new == d["duration"]
        else:
            counts["range"] += 1
            assert isinstance(new, Triangular) and new.mode == v
            assert (new.low, new.high) == (pytest.approx(0.9 * v, rel=1e-15),
                                           pytest.approx(1.25 * v, rel=1e-15))
            assert q.graph.nodes[t]["planned"] == v
    report = sp10.meta["import_report"]
    assert counts["complete"] == report["tasks_by_status"]["complete"] == 523
    assert counts["range"] == q.meta["uncertainty"]["tasks_per_rule"][0]
    assert counts["zero"] == q.meta["uncertainty"]["kept_milestones"]
    assert sum(counts.values()) == sp10.n_tasks
    assert pmosim.cpm(q).finish == pmosim.cpm(sp10).finish
    assert all(isinstance(d["duration"], Fixed) for _, d in sp10.graph.nodes(data=True))


def test_sp10_wbs_and_status_filters(sp10):
    code = "HS2-P1-CS-EWC-C-F.AW"
    q = apply_uncertainty(sp10, [f"wbs={code}: uniform(0, +10%)",
                                 'status="in progress": pert(-5%, 0, +40%)'])
    for t, d in sp10.graph.nodes(data=True):
        new, v = q.graph.nodes[t]["duration"], d["duration"].value
        if d["status"] == "in progress" and v > 0:
            assert new == Pert(v - v * 5 / 100, v, v + v * 40 / 100)
        elif (d.get("wbs", "") + ".").startswith(code + ".") and v > 0 \
                and d["status"] != "complete":
            assert new == Uniform(v, v + v * 10 / 100)
        else:
            assert new == d["duration"]
    assert q.meta["uncertainty"]["tasks_per_rule"][0] > 0


def test_dslib_explicit_estimates_win():
    pytest.importorskip("openpyxl", reason="DSLIB workbooks need openpyxl (pmosim[dslib])")
    p = pmosim.load(data_dir("dslib", "Excel", "C2011-06 Veterinary Exposition.xlsx"))
    q = apply_uncertainty(p, "uniform(-10%, +10%)")
    explicit = fixed = 0
    for t, d in p.graph.nodes(data=True):
        new = q.graph.nodes[t]["duration"]
        if isinstance(d["duration"], Fixed) and d["planned"] > 0:
            fixed += 1
            v = d["planned"]
            assert new == Uniform(v - v * 10 / 100, v + v * 10 / 100)
        else:
            explicit += not isinstance(d["duration"], Fixed)
            assert new == d["duration"]
    assert explicit == q.meta["uncertainty"]["kept_explicit"] > 0
    assert fixed == q.meta["uncertainty"]["tasks_per_rule"][0]
    assert pmosim.cpm(q).finish == pmosim.cpm(p).finish


def test_mspdi_summary_names_select_their_tasks():
    """MS Project summary tasks become WBS groups: each task lists the summary names above
    it, and a field filter on that list selects the tasks under a summary."""
    p = pmosim.load(data_dir("projectlibre", "New Product.xml"))
    q = apply_uncertainty(p, 'summary="Production Phase": uniform(0, +30%)')
    changed = {t for t, d in q.graph.nodes(data=True) if isinstance(d["duration"], Uniform)}
    under = {t for t, d in p.graph.nodes(data=True)
             if "Production Phase" in d.get("summary", []) and d["duration"].value > 0}
    assert changed == under and len(under) > 0
    assert q.meta["uncertainty"]["tasks_per_rule"] == [len(under)]


def test_uncertainty_tables_in_a_scenario(tmp_path):
    path = tmp_path / "quick.toml"
    path.write_text('''
[[tasks]]
id = "a"
duration = 10
wbs = "1.1"
[[tasks]]
id = "b"
duration = 20
wbs = "1.2"
predecessors = ["a"]
[[tasks]]
id = "c"
duration = { dist = "triangular", low = 1, mode = 2, high = 3 }
predecessors = ["b"]
[[uncertainty]]
range = "triangular(-10%, 0, +25%)"
[[uncertainty]]
range = "pert(-5%, 0, +50%)"
wbs = "1.1"
''')
    p = pmosim.load(path)
    nodes = p.graph.nodes
    assert nodes["a"]["duration"] == Pert(9.5, 10, 15)             # the later rule wins
    assert nodes["b"]["duration"] == Triangular(18, 20, 25)
    assert nodes["c"]["duration"] == Triangular(1, 2, 3)           # explicit ranges win
    assert pmosim.cpm(p).finish == 32.0                              # planned durations kept
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tasks]]\nid = "a"\nduration = 1\n[[uncertainty]]\nrange = "triangle(1)"\n')
    with pytest.raises(pmosim.errors.ScenarioError, match=r"uncertainty\[0\]"):
        pmosim.load(bad)

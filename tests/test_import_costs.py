"""Costs of imported schedules: P6 XER resource assignments and expenses, MS Project task and
assignment costs, as task ``cost_fixed``/``cost_rate``; ``--cost-uncertainty``; budgets
without costs; import-then-run.

Oracles are the files' own figures, summed here independently of the importers: P6's
TASKRSRC costs (``SP10 - COST LOADED.xer``, PyP6Xer's history, LGPL-2.1) with exact
decimals, MS Project's task ``Cost`` (MPXJ's test files, LGPL-2.1; ProjectLibre's
``New Product.xml``, CPAL-1.0). The data lives in ``../shared/data`` and is never copied.
"""

import json
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal

import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.distributions import Fixed, Pert, Triangular
from pmosim.errors import ModelError, ScenarioError
from pmosim.io.export import write_scenario
from pmosim.uncertainty import apply_cost_uncertainty

from _data import data_dir

SP10 = ("p6", "SP10 - COST LOADED.xer")
CENT = Decimal("0.01")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def planned_cost(project) -> float:
    """The planned cost as docs/scenario-format.md defines it for a project whose tasks
    all happen: each task's typical cost_fixed plus cost_rate times its planned duration."""
    total = 0.0
    for _, d in project.graph.nodes(data=True):
        days = float(getattr(d["duration"], "value", d["duration"]))
        total += float(getattr(d.get("cost_fixed"), "value", d.get("cost_fixed")) or 0.0)
        total += float(getattr(d.get("cost_rate"), "value", d.get("cost_rate")) or 0.0) * days
    return total


def cents(x) -> Decimal:
    return Decimal(repr(float(x))).quantize(CENT)


# -- P6 XER ---------------------------------------------------------------------------
def xer_table(path, name) -> list[dict]:
    """The rows of one XER table, read with plain string splitting (not pmosim's reader)."""
    rows, fields, current = [], None, None
    for line in path.read_text(encoding="cp1252").splitlines():
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            current = rest.strip()
        elif tag == "%F" and current == name:
            fields = rest.split("\t")
        elif tag == "%R" and current == name:
            values = rest.split("\t")
            rows.append(dict(zip(fields, values + [""] * (len(fields) - len(values)))))
    return rows


@pytest.fixture(scope="module")
def sp10_path():
    return data_dir(*SP10)


@pytest.fixture(scope="module")
def sp10(sp10_path):
    return pmosim.load(sp10_path)


@pytest.fixture(scope="module")
def sp10_sums(sp10_path):
    """Exact decimal sums of TASKRSRC per task_code: target, actual and remaining cost."""
    code = {r["task_id"]: r["task_code"] for r in xer_table(sp10_path, "TASK")}
    per = defaultdict(lambda: dict.fromkeys(("target", "actual", "remaining"), Decimal(0)))
    for r in xer_table(sp10_path, "TASKRSRC"):
        s = per[code[r["task_id"]]]
        s["target"] += Decimal(r["target_cost"])
        s["actual"] += Decimal(r["act_reg_cost"]) + Decimal(r["act_ot_cost"])
        s["remaining"] += Decimal(r["remain_cost"])
    assert not xer_table(sp10_path, "PROJCOST")     # SP10 has no expenses
    return dict(per)


def test_sp10_costs_are_p6s_to_the_penny(sp10, sp10_sums):
    target = sum(s["target"] for s in sp10_sums.values())
    actual = sum(s["actual"] for s in sp10_sums.values())
    remaining = sum(s["remaining"] for s in sp10_sums.values())
    assert target.quantize(CENT) == Decimal("215918496.41")       # the issue's £215.9 M
    costs = sp10.meta["import_report"]["costs"]
    assert cents(costs["budgeted"]) == target.quantize(CENT)
    assert cents(costs["actual"]) == actual.quantize(CENT)
    assert cents(costs["remaining"]) == remaining.quantize(CENT)
    # pmosim's plan prices the remaining work: P6's cost at completion, actual + remaining
    assert cents(costs["at_completion"]) == (actual + remaining).quantize(CENT)
    assert cents(planned_cost(sp10)) == (actual + remaining).quantize(CENT)
    # 89 activities have assignments, 72 of them something to spend
    spending = [t for t, s in sp10_sums.items() if s["actual"] + s["remaining"]]
    assert (len(sp10_sums), costs["tasks"], len(spending)) == (89, 72, 72)
    assert (costs["assignments"], costs["expenses"], costs["currency"]) == (692, 0, "GBP")
    assert sp10.meta["currency"] == "GBP"


def test_sp10_actual_cost_is_fixed_and_remaining_cost_scales(sp10, sp10_sums):
    """Every costed SP10 activity has DT_FixedDUR2 and labour or equipment assignments: the
    remaining cost is cost_rate x remaining duration, the actual cost is in cost_fixed."""
    seen = set()
    for task, s in sp10_sums.items():
        d = sp10.graph.nodes[task]
        if not s["actual"] + s["remaining"]:
            assert "cost_fixed" not in d and "cost_rate" not in d
            continue
        days = d["duration"].value
        rate, fixed = d.get("cost_rate", 0.0), d.get("cost_fixed", 0.0)
        if d["status"] == "complete" or days == 0:
            assert rate == 0.0
            assert cents(fixed) == (s["actual"] + s["remaining"]).quantize(CENT)
        else:
            assert rate * days == pytest.approx(float(s["remaining"]), rel=1e-12, abs=1e-6)
            assert fixed == pytest.approx(float(s["actual"]), abs=1e-6)
        assert d["actual_cost"] <= fixed + 1e-9
        seen.add(d["status"])
    assert seen == {"complete", "in progress", "not started"}


def test_sp10_run_reports_the_costs_and_import_then_run_gives_the_same_costs(
        sp10_path, sp10_sums, tmp_path):
    at_completion = sum(s["actual"] + s["remaining"] for s in sp10_sums.values())
    rule = "pert(-10%, 0, +30%)"
    direct = invoke("run", sp10_path, "-n", 64, "--seed", 7, "--cost-uncertainty", rule,
                    "--out", tmp_path / "a", "--json", tmp_path / "a.json")
    assert direct.exit_code == 0, direct.output
    assert ("Costs from the schedule, on 72 tasks: at completion 217,652,329.66 GBP (actual "
            "16,001,858.60 GBP + remaining 201,650,471.06 GBP); budgeted 215,918,496.41 GBP"
            in direct.output)
    assert "Cost uncertainty: pert(-10%, 0%, +30%, lamb=4) on " in direct.output
    imported = invoke("import", sp10_path, "-o", tmp_path / "sp10.toml")
    assert imported.exit_code == 0, imported.output
    assert "Costs from the schedule, on 72 tasks: at completion 217,652,329.66" in imported.output
    again = invoke("run", tmp_path / "sp10.toml", "-n", 64, "--seed", 7, "--cost-uncertainty",
                   rule, "--out", tmp_path / "b", "--json", tmp_path / "b.json")
    assert again.exit_code == 0, again.output
    a = json.loads((tmp_path / "a.json").read_text())["cost"]
    b = json.loads((tmp_path / "b.json").read_text())["cost"]
    assert cents(a["deterministic"]) == cents(b["deterministic"]) == at_completion.quantize(CENT)
    # the same cost draws: the scenario keeps the tasks, their costs and actual costs
    assert a["percentiles"] == b["percentiles"] and a["mean"] == b["mean"]
    assert a["std"] > 0
    assert a["imported"]["budgeted"] == 215918496.41 and "imported" not in b
    assert a["uncertainty"]["rules"] == b["uncertainty"]["rules"] == [
        "pert(-10%, 0%, +30%, lamb=4)"]


RATES_XER = ("mpxj", "assignment", "resource-rates-test.xer")


def without_costs(text: str, start: str | None = None, end: str | None = None) -> str:
    """The XER text with TASKRSRC's cost columns emptied (and the rate too, except for the
    custom rate, ST_Custom, which lives only there); dates moved when given."""
    out, fields, table = [], None, None
    for line in text.splitlines():
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            table = rest.strip()
        elif tag == "%F":
            fields = rest.split("\t")
        elif tag == "%R" and table == "TASKRSRC":
            values = rest.split("\t")
            row = dict(zip(fields, values))
            blank = ["target_cost", "act_reg_cost", "act_ot_cost", "remain_cost"]
            if row["cost_per_qty_source_type"] != "ST_Custom":
                blank.append("cost_per_qty")
            for f in blank:
                values[fields.index(f)] = ""
            for f, value in (("target_start_date", start), ("restart_date", start),
                             ("target_end_date", end), ("reend_date", end)):
                if value is not None:
                    values[fields.index(f)] = value
            line = "\t".join(["%R", *values])
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("start, end, rates, spanning", [
    # RSRCRATE 2022: 1 / 2 (COST_PER_QTY2); ROLERATE 2022: 6 / 7; a custom rate of 99
    (None, None, (1, 2, 6, 7, 99), False),
    # from 2023 the resource's rates are 21 / 22 and the role's 31 / 32
    ("2023-02-01 08:00", "2023-03-10 17:00", (21, 22, 31, 32, 99), False),
    # across the change: the rate in force at the start, and a warning
    ("2022-12-01 08:00", "2023-01-20 17:00", (1, 2, 6, 7, 99), True),
])
def test_xer_assignments_without_costs_are_priced_from_their_rates(tmp_path, start, end, rates,
                                                                    spanning):
    path = data_dir(*RATES_XER)
    original = pmosim.load(path).meta["import_report"]["costs"]
    # the file's own target costs: 240 h at 1, 2, 6, 7 and 99
    assert original["at_completion"] == 240 * (1 + 2 + 6 + 7 + 99) == 27600
    stripped = tmp_path / "rates.xer"
    stripped.write_text(without_costs(path.read_text(encoding="cp1252"), start, end),
                        encoding="cp1252")
    p = pmosim.load(stripped)
    costs = p.meta["import_report"]["costs"]
    assert costs["assignments_priced_from_rates"] == 5
    assert costs["at_completion"] == costs["budgeted"] == 240 * sum(rates)
    warnings = "\n".join(p.meta["import_report"]["warnings"])
    assert "5 resource assignments have no costs in TASKRSRC; priced as their quantities" \
        in warnings
    assert ("span a change of rate" in warnings) == spanning
    # not started, Fixed Duration and Units/Time: all of it scales with the 30-day duration
    assert p.graph.nodes["A1000"]["cost_rate"] == pytest.approx(240 * sum(rates) / 30)


def small_xer(tmp_path, tables: dict) -> "pathlib.Path":
    lines = ["ERMHDR\t8.1"]
    for name, (fields, rows) in tables.items():
        lines += [f"%T\t{name}", "%F\t" + "\t".join(fields.split())]
        lines += ["%R\t" + "\t".join(row) for row in rows]
    lines.append("%E")
    path = tmp_path / "costs.xer"
    path.write_text("\n".join(lines), encoding="cp1252")
    return path


def test_xer_expenses_materials_duration_types_and_progress(tmp_path):
    """Which cost scales with the duration, on a hand-made file with the numbers in view."""
    path = small_xer(tmp_path, {
        "CURRTYPE": ("curr_id curr_short_name base_exch_rate", [("1", "EUR", "1")]),
        "PROJECT": ("proj_id proj_short_name last_recalc_date clndr_id",
                    [("1", "DEMO", "2024-01-08 08:00", "")]),
        "TASK": ("task_id proj_id task_code task_type status_code remain_drtn_hr_cnt "
                 "duration_type act_start_date act_end_date",
                 [("10", "1", "A", "TT_Task", "TK_NotStart", "80", "DT_FixedDUR2", "", ""),
                  ("11", "1", "B", "TT_Task", "TK_Active", "40", "DT_FixedDUR2",
                   "2024-01-02 08:00", ""),
                  ("12", "1", "C", "TT_Task", "TK_NotStart", "16", "DT_FixedQty", "", ""),
                  ("13", "1", "D", "TT_Task", "TK_Complete", "0", "DT_FixedDUR2",
                   "2024-01-02 08:00", "2024-01-03 16:00"),
                  ("14", "1", "E", "TT_Task", "TK_NotStart", "24", "DT_FixedDUR2", "", ""),
                  ("15", "1", "M", "TT_FinMile", "TK_NotStart", "0", "DT_FixedDUR2", "", "")]),
        "RSRC": ("rsrc_id rsrc_short_name rsrc_type",
                 [("1", "CREW", "RT_Labor"), ("2", "STEEL", "RT_Mat")]),
        "TASKRSRC": ("taskrsrc_id task_id rsrc_id cost_qty_link_flag target_cost act_reg_cost "
                     "act_ot_cost remain_cost",
                     [("1", "10", "1", "Y", "5000", "0", "0", "5000"),
                      ("2", "11", "1", "Y", "5000", "3000", "200", "2500"),
                      ("3", "11", "2", "Y", "700", "0", "0", "700"),
                      ("4", "12", "1", "Y", "1000", "0", "0", "1000"),
                      ("5", "13", "1", "Y", "4000", "4000", "0", "0"),
                      ("6", "14", "1", "N", "900", "0", "0", "900")]),
        "PROJCOST": ("cost_item_id task_id cost_name target_cost act_cost remain_cost target_qty "
                     "cost_per_qty",
                     [("1", "10", "permit", "1200", "0", "1200", "", ""),
                      ("2", "15", "handover fee", "", "", "", "3", "100"),
                      ("3", "99", "elsewhere", "50", "0", "50", "", "")]),
    })
    p = pmosim.load(path)
    nodes = p.graph.nodes
    # labour on Fixed Duration & Units/Time scales with the 10 days; the expense does not
    assert (nodes["A"]["cost_fixed"], nodes["A"]["cost_rate"]) == (1200, 500)
    # in progress: 3,200 spent stays, 2,500 labour over the 5 remaining days, 700 material
    assert (nodes["B"]["cost_fixed"], nodes["B"]["cost_rate"]) == (3200 + 700, 500)
    assert nodes["B"]["actual_cost"] == 3200
    assert (nodes["C"]["cost_fixed"], "cost_rate" in nodes["C"]) == (1000, False)  # fixed units
    assert (nodes["D"]["cost_fixed"], "cost_rate" in nodes["D"]) == (4000, False)  # complete
    assert (nodes["E"]["cost_fixed"], "cost_rate" in nodes["E"]) == (900, False)   # not linked
    assert (nodes["M"]["cost_fixed"], "cost_rate" in nodes["M"]) == (300, False)   # 3 x 100
    costs = p.meta["import_report"]["costs"]
    total = 1200 + 5000 + 3200 + 2500 + 700 + 1000 + 4000 + 900 + 300
    budget = 5000 + 5000 + 700 + 1000 + 4000 + 900 + 1200 + 300
    assert (costs["at_completion"], costs["actual"], costs["budgeted"]) == (total, 7200, budget)
    assert costs["time_dependent"] == 5000 + 2500
    assert (costs["expenses"], costs["currency"]) == (2, "EUR")
    assert any("1 PROJCOST expenses refer to no activity" in w
               for w in p.meta["import_report"]["warnings"])
    assert planned_cost(p) == total


def test_xer_quantities_without_costs_or_rates_cost_nothing(tmp_path):
    """P6 exports for users without cost access leave the cost fields blank: the import
    works, says so, and has no costs (so a budget is refused)."""
    path = small_xer(tmp_path, {
        "PROJECT": ("proj_id proj_short_name last_recalc_date",
                    [("1", "DEMO", "2024-01-08 08:00")]),
        "TASK": ("task_id proj_id task_code task_type status_code remain_drtn_hr_cnt",
                 [("10", "1", "A", "TT_Task", "TK_NotStart", "16")]),
        "RSRC": ("rsrc_id rsrc_short_name rsrc_type", [("1", "CREW", "RT_Labor")]),
        "TASKRSRC": ("taskrsrc_id task_id rsrc_id target_qty remain_qty target_cost remain_cost",
                     [("1", "10", "1", "16", "16", "", "")]),
    })
    p = pmosim.load(path)
    costs = p.meta["import_report"]["costs"]
    assert (costs["tasks"], costs["at_completion"], costs["assignments"]) == (0, 0.0, 1)
    assert any("1 resource assignments have quantities but neither costs nor rates" in w
               for w in p.meta["import_report"]["warnings"])
    res = invoke("run", path, "--budget", "100", "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert "the P6 file has no resource assignments with costs" in res.output


# -- MS Project XML -------------------------------------------------------------------
MSPDI_WITH_COSTS = [("mpxj", "legacy", "sample.xml"), ("mpxj", "legacy", "sample1.xml"),
                    ("mpxj", "mspdiresource.xml"), ("mpxj", "mspdiassignmentfields.xml"),
                    ("mpxj", "mspdiassignmentcustom.xml")]
MSPDI_WITHOUT = [("mpxj", "generated", "task-costs", f"task-costs-project{v}-mspdi.xml")
                 for v in (2003, 2019)] + [("mpxj", "baselines.xml")]


def mspdi_task_costs(path) -> dict:
    """Leaf task UID -> (Cost, ActualCost) in currency units, read with ElementTree."""
    root = ET.parse(path).getroot()
    ns = {"m": root.tag[1:].split("}")[0]}
    out = {}
    for t in root.find("m:Tasks", ns).findall("m:Task", ns):
        def get(tag):
            el = t.find(f"m:{tag}", ns)
            return None if el is None or el.text is None else el.text
        if get("Summary") == "1" or get("IsNull") == "1" or get("OutlineLevel") == "0":
            continue
        out[int(get("UID"))] = (Decimal(get("Cost") or 0) / 100,
                                Decimal(get("ActualCost") or 0) / 100)
    return out


@pytest.mark.parametrize("parts", MSPDI_WITH_COSTS + MSPDI_WITHOUT,
                         ids=lambda parts: parts[-1])
def test_mspdi_planned_cost_is_the_files_task_cost(parts):
    path = data_dir(*parts)
    files = mspdi_task_costs(path)
    p = pmosim.load(path)
    total = sum(c for c, _ in files.values())
    assert cents(planned_cost(p)) == total.quantize(CENT)
    costs = p.meta["import_report"]["costs"]
    assert cents(costs["at_completion"]) == cents(costs["file_total"]) == total.quantize(CENT)
    assert cents(costs["actual"]) == sum(a for _, a in files.values()).quantize(CENT)
    for uid, (cost, actual) in files.items():
        if cost:
            d = p.graph.nodes[uid]
            days = d["duration"].value
            assert d.get("cost_fixed", 0) + d.get("cost_rate", 0) * days == \
                pytest.approx(float(cost), abs=1e-6)
            assert d.get("cost_fixed", 0) >= float(actual) - 1e-9  # the spent part is fixed
    if not total:
        assert costs["tasks"] == 0
        assert not any("cost_fixed" in d or "cost_rate" in d for _, d in p.graph.nodes(data=True))


@pytest.mark.parametrize("parts", MSPDI_WITH_COSTS[:4], ids=lambda parts: parts[-1])
def test_mspdi_rates_reproduce_ms_projects_own_costs(parts, tmp_path):
    """Without its Cost fields a file is priced from its rates (rate x regular work,
    overtime rate x overtime work, cost per use x units, cost rate table B where the
    assignment says so) and gives MS Project's own costs back."""
    path = data_dir(*parts)
    total = sum(c for c, _ in mspdi_task_costs(path).values())
    text = path.read_text(encoding="utf-8")
    stripped = tmp_path / "stripped.xml"
    stripped.write_text(re.sub(r"<(Cost|ActualCost|RemainingCost)>[^<]*</\1>", "", text),
                        encoding="utf-8")
    costs = pmosim.load(stripped).meta["import_report"]["costs"]
    assert costs["assignments_priced_from_rates"] > 0
    assert cents(costs["at_completion"]) == total.quantize(CENT)


def test_mspdi_progress_split(tmp_path):
    p = pmosim.load(data_dir("mpxj", "mspdiassignmentfields.xml"))
    task = p.graph.nodes[1]                      # 6 % complete: 299.0845 spent of 5,052.00
    assert task["status"] == "in progress"
    assert task["cost_fixed"] == pytest.approx(299.0845) == task["actual_cost"]
    assert task["cost_rate"] * task["duration"].value == pytest.approx(5052.00 - 299.0845)
    done = pmosim.load(data_dir("mpxj", "mspdiresource.xml")).graph.nodes[4]
    assert done["status"] == "complete"
    assert (done["cost_fixed"], "cost_rate" in done) == (800.0, False)


def test_new_product_costs_from_rates(tmp_path):
    """ProjectLibre writes 0 for every cost of New Product.xml although its resources have
    rates and its assignments work: the costs are the rates times the work."""
    path = data_dir("projectlibre", "New Product.xml")
    root = ET.parse(path).getroot()
    ns = {"m": root.tag[1:].split("}")[0]}

    def get(el, tag, default="0"):
        found = el.find(f"m:{tag}", ns)
        return default if found is None or found.text is None else found.text

    def hours(text):
        h, m, s = re.fullmatch(r"PT(\d+)H(\d+)M(\d+)S", text).groups()
        return Decimal(h) + Decimal(m) / 60 + Decimal(s) / 3600

    rates = {get(r, "UID"): (Decimal(get(r, "StandardRate")), Decimal(get(r, "CostPerUse")) / 100)
             for r in root.find("m:Resources", ns)}
    leaves = {get(t, "UID") for t in root.find("m:Tasks", ns)
              if get(t, "Summary") != "1" and get(t, "OutlineLevel") != "0"}
    expected = Decimal(0)
    for a in root.find("m:Assignments", ns):
        assert Decimal(get(a, "Cost")) == 0 and hours(get(a, "OvertimeWork")) == 0
        if get(a, "ResourceUID") in rates and get(a, "TaskUID") in leaves:
            std, per_use = rates[get(a, "ResourceUID")]
            expected += std * hours(get(a, "Work")) + per_use * Decimal(get(a, "Units"))
    p = pmosim.load(path)
    costs = p.meta["import_report"]["costs"]
    assert costs["file_total"] == 0 and costs["assignments_priced_from_rates"] == 26
    assert cents(costs["at_completion"]) == cents(planned_cost(p)) == expected.quantize(CENT)
    assert expected.quantize(CENT) == Decimal("47668.15")
    assert any("26 assignments have no cost in the file (Cost absent or 0) but rated work"
               in w
               for w in p.meta["import_report"]["warnings"])
    # import then run: the same costs, with and without cost uncertainty
    q = pmosim.load(write_scenario(p, tmp_path / "np.toml"))
    for rule in (None, "triangular(-10%, 0, +40%)"):
        a, b = (p, q) if rule is None else (apply_cost_uncertainty(p, rule),
                                            apply_cost_uncertainty(q, rule))
        ra, rb = pmosim.simulate(a, 256, seed=3), pmosim.simulate(b, 256, seed=3)
        assert cents(ra.cost.deterministic) == cents(rb.cost.deterministic) == Decimal("47668.15")
        assert (ra.cost.samples == rb.cost.samples).all()


COST_RATE_TABLES = ("mpxj", "mspdicostratetable.xml")


@pytest.mark.parametrize("resource, table, start, expected", [
    # Resource Three, table A: 5/h and 15.00 per use before 2009-06-15 08:00, then 1,200/h
    # (shown per minute) and 30.00; table B: 35/h, 45.00, then 6.25/h (per day) and 60.00
    (3, 0, "2009-06-10", 5 * 8 + 15), (3, 0, "2009-06-22", 1200 * 8 + 30),
    (3, 1, "2009-06-10", 35 * 8 + 45), (3, 1, "2009-06-22", 6.25 * 8 + 60),
    # table E after 2009-06-19: 140/h, 150.00; Resource Two's table C has one rate: 35/h, 45.00
    (3, 4, "2009-06-22", 140 * 8 + 150), (2, 2, "2009-06-22", 35 * 8 + 45),
])
def test_mspdi_cost_rate_tables_by_date(tmp_path, resource, table, start, expected):
    text = data_dir(*COST_RATE_TABLES).read_text(encoding="utf-8")
    ours = textwrap.dedent(f"""\
        <Tasks><Task><UID>1</UID><ID>1</ID><Name>Work</Name><OutlineLevel>1</OutlineLevel>
          <Duration>PT8H0M0S</Duration></Task></Tasks>
        <Assignments><Assignment><UID>1</UID><TaskUID>1</TaskUID>
          <ResourceUID>{resource}</ResourceUID><Units>1</Units><Work>PT8H0M0S</Work>
          <CostRateTable>{table}</CostRateTable><Start>{start}T08:00:00</Start>
        </Assignment></Assignments>""")
    text = re.sub(r"<Tasks>.*</Tasks>", "", text, flags=re.S)
    text = re.sub(r"<Assignments>.*</Assignments>|<Assignments\s*/>", "", text, flags=re.S)
    path = tmp_path / "rates.xml"
    path.write_text(text.replace("</Project>", ours + "</Project>"), encoding="utf-8")
    p = pmosim.load(path)
    assert p.meta["import_report"]["costs"]["at_completion"] == pytest.approx(expected)


def test_mspdi_fixed_costs_fixed_work_and_summary_costs(tmp_path):
    xml = textwrap.dedent("""\
        <Project xmlns="http://schemas.microsoft.com/project">
          <StartDate>2024-01-08T08:00:00</StartDate><MinutesPerDay>480</MinutesPerDay>
          <CurrencyCode>EUR</CurrencyCode>
          <Tasks>
            <Task><UID>1</UID><ID>1</ID><Name>Phase</Name><OutlineLevel>1</OutlineLevel>
              <Summary>1</Summary><FixedCost>50000</FixedCost><Cost>276000</Cost></Task>
            <Task><UID>2</UID><ID>2</ID><Name>Dig</Name><OutlineLevel>2</OutlineLevel>
              <Duration>PT40H0M0S</Duration><FixedCost>100000</FixedCost>
              <FixedCostAccrual>1</FixedCostAccrual><Cost>145000</Cost></Task>
            <Task><UID>3</UID><ID>3</ID><Name>Pour</Name><OutlineLevel>2</OutlineLevel>
              <Type>2</Type><Duration>PT16H0M0S</Duration><Cost>21000</Cost></Task>
          </Tasks>
          <Resources><Resource><UID>1</UID><Name>Crew</Name><Type>1</Type>
            <StandardRate>10</StandardRate><CostPerUse>5000</CostPerUse></Resource></Resources>
          <Assignments>
            <Assignment><UID>1</UID><TaskUID>2</TaskUID><ResourceUID>1</ResourceUID>
              <Units>1</Units><Work>PT40H0M0S</Work><Cost>45000</Cost></Assignment>
            <Assignment><UID>2</UID><TaskUID>3</TaskUID><ResourceUID>1</ResourceUID>
              <Units>1</Units><Work>PT16H0M0S</Work><Cost>21000</Cost></Assignment>
            <Assignment><UID>3</UID><TaskUID>1</TaskUID><ResourceUID>1</ResourceUID>
              <Units>1</Units><Work>PT5H0M0S</Work><Cost>10000</Cost></Assignment>
          </Assignments>
        </Project>""")
    path = tmp_path / "fixed.xml"
    path.write_text(xml, encoding="utf-8")
    p = pmosim.load(path)
    dig, pour = p.graph.nodes[2], p.graph.nodes[3]
    # 1,000 fixed and 50.00 per use do not scale; 10/h x 40 h does, over 5 days
    assert (dig["cost_fixed"], dig["cost_rate"]) == (1050, 80)
    assert (pour["cost_fixed"], "cost_rate" in pour) == (210, False)    # fixed work
    costs = p.meta["import_report"]["costs"]
    assert (costs["at_completion"], costs["summary_costs_not_kept"]) == (1660, 600)
    assert costs["currency"] == "EUR" == p.meta["currency"]
    warnings = "\n".join(p.meta["import_report"]["warnings"])
    assert "summary tasks' own costs (fixed costs and assignments to summary tasks) of " \
        "600.00 not kept" in warnings
    assert "fixed costs accrue 1 at the start of their tasks in MS Project" in warnings


# -- cost uncertainty -----------------------------------------------------------------
def costed_project():
    p = pmosim.Project("costs")
    p.add_task("dig", 10, cost_rate=100.0)
    p.add_task("pour", 4, cost_fixed=5000.0, actual_cost=2000.0, status="in progress")
    p.add_task("done", 0, cost_fixed=700.0, actual_cost=700.0, status="complete")
    p.add_task("own", 3, cost_fixed=Triangular(10, 20, 40))
    p.add_task("free", 2)
    p.add_link("dig", "pour")
    return p


def test_apply_cost_uncertainty_leaves_spent_and_completed_costs_alone():
    p = costed_project()
    q = apply_cost_uncertainty(p, ["triangular(-10%, 0, +30%)", "id=own: uniform(0, +10%)"])
    n = q.graph.nodes
    assert n["dig"]["cost_rate"] == Triangular(90, 100, 130)
    assert n["pour"]["cost_fixed"] == Triangular(2000 + 2700, 5000, 2000 + 3900)
    assert n["done"]["cost_fixed"] == 700.0
    assert n["own"]["cost_fixed"] == Triangular(10, 20, 40)       # its own distribution
    assert "cost_fixed" not in n["free"] and p.graph.nodes["dig"]["cost_rate"] == 100.0
    report = q.meta["cost_uncertainty"]
    assert report["tasks_per_rule"] == [2, 0]
    assert (report["kept_complete"], report["kept_explicit"]) == (1, 1)
    assert report["warnings"] == []
    r = apply_cost_uncertainty(p, ["pert(-10%, 0, +30%)", "wbs=9: pert(0, 0, +5%)"])
    assert r.graph.nodes["dig"]["cost_rate"] == Pert(90, 100, 130)
    assert r.meta["cost_uncertainty"]["warnings"] == [
        "cost uncertainty rule 'wbs=9: pert(0%, 0%, +5%, lamb=4)' selects no task with costs"]


def test_apply_cost_uncertainty_errors():
    with pytest.raises(ModelError, match=r"^cost uncertainty rule 'pert\(-10%, 0 \+30%\)': "
                                         r"column 14: expected ',' or '\)' after a value"):
        apply_cost_uncertainty(costed_project(), "pert(-10%, 0 +30%)")
    bare = pmosim.Project()
    bare.add_task("a", 3)
    with pytest.raises(ModelError, match="the project has no task costs"):
        apply_cost_uncertainty(bare, "pert(-10%, 0, +30%)")


def test_cost_uncertainty_mean_and_spread_match_theory():
    """Project cost = 10 x Tri(90, 100, 130) + 2,000 + Tri(2,700, 3,000, 3,900) + 700 +
    Tri(10, 20, 40): the simulated mean and variance against the analytic ones."""
    q = apply_cost_uncertainty(costed_project(), "triangular(-10%, 0, +30%)")
    n_iter = 20_000
    res = pmosim.simulate(q, n_iter, seed=11)

    def tri(a, c, b):
        return (a + b + c) / 3, (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    parts = [tri(90, 100, 130), tri(2700, 3000, 3900), tri(10, 20, 40)]
    mean = 10 * parts[0][0] + 2000 + parts[1][0] + 700 + parts[2][0]
    var = 100 * parts[0][1] + parts[1][1] + parts[2][1]
    sd = math.sqrt(var)
    assert abs(res.cost.mean - mean) < 4 * sd / math.sqrt(n_iter)
    assert abs(res.cost.std / sd - 1) < 4 / math.sqrt(2 * n_iter)
    assert res.cost.deterministic == pytest.approx(10 * 100 + 5000 + 700 + 20)  # the modes


# -- scenario files: actual_cost ----------------------------------------------------------
def test_scenario_actual_cost_round_trips_and_is_checked(tmp_path):
    p = costed_project()
    q = pmosim.load(write_scenario(p, tmp_path / "c.toml"))
    assert q.graph.nodes["pour"]["actual_cost"] == 2000.0
    assert q.graph.nodes["pour"]["cost_fixed"] == Fixed(5000.0)
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent("""\
        [[tasks]]
        id = "a"
        duration = 2
        cost_fixed = 100
        actual_cost = 150
        [[tasks]]
        id = "b"
        duration = 2
        actual_cost = 5
        [[tasks]]
        id = "c"
        duration = 2
        cost_fixed = 10
        actual_cost = -1
        """), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        pmosim.load(bad)
    assert err.value.problems == [
        f'{bad}: tasks[0] ("a"): actual_cost: 150 is more than cost_fixed 100, which '
        "includes it; cost_fixed is the actual plus the remaining fixed cost",
        f'{bad}: tasks[1] ("b"): actual_cost: is the part of cost_fixed already spent; give '
        "cost_fixed too (at least the actual cost)",
        f'{bad}: tasks[2] ("c"): actual_cost: must be a number >= 0 (the cost already '
        "spent), got -1"]


# -- the command line -------------------------------------------------------------------
def test_budget_without_costs_is_refused_before_simulating(tmp_path):
    path = data_dir("mpxj", "generated", "task-costs", "task-costs-project2019-mspdi.xml")
    res = invoke("run", path, "--budget", "250,000,000", "--out", tmp_path / "out")
    assert res.exit_code == 1
    assert res.output == (
        f"Error: --budget 250,000,000: {path} has no costs to compare with a budget; the MS "
        "Project file has no task costs (fixed costs, or resources with rates assigned to "
        "tasks); add them in MS Project, or import it (pmosim import FILE -o plan.toml) and "
        "set cost_fixed or cost_rate on its tasks\n")
    assert not (tmp_path / "out").exists()
    plan = tmp_path / "plan.toml"
    plan.write_text('[[tasks]]\nid = "a"\nduration = 3\n', encoding="utf-8")
    res = invoke("report", plan, "--budget", "1000", "-o", tmp_path / "r.html")
    assert res.exit_code == 1 and res.output.startswith(
        f"Error: --budget 1000: {plan} has no costs to compare with a budget; set cost_fixed "
        "or cost_rate on tasks, cost_impact on risks or cost_rate under [project]\n")


@pytest.mark.parametrize("command", ["run", "validate", "import"])
def test_cost_uncertainty_errors_name_the_option(tmp_path, command):
    path = data_dir("mpxj", "mspdiresource.xml")
    extra = ["-o", tmp_path / "x.toml"] if command == "import" else []
    res = invoke(command, path, *extra, "--cost-uncertainty", "pert(-10%, 0 +30%)")
    assert res.exit_code == 1
    assert res.output.startswith(
        "Error: --cost-uncertainty: cost uncertainty rule 'pert(-10%, 0 +30%)': column 14: "
        "expected ',' or ')' after a value")
    bare = data_dir("mpxj", "baselines.xml")
    res = invoke(command, bare, *extra, "--cost-uncertainty", "pert(-10%, 0, +30%)")
    assert res.exit_code == 1
    assert res.output.startswith(
        f"Error: --cost-uncertainty: {bare}: cost uncertainty 'pert(-10%, 0%, +30%, lamb=4)': "
        "the project has no task costs (cost_fixed or cost_rate) to put a range on")


def test_validate_and_run_with_cost_uncertainty(tmp_path):
    path = data_dir("mpxj", "mspdiresource.xml")
    res = invoke("validate", path, "--cost-uncertainty", "triangular(-10%, 0, +25%)")
    assert res.exit_code == 0, res.output
    res = invoke("run", path, "-n", 500, "--seed", 1, "--cost-uncertainty",
                 "triangular(-10%, 0, +25%)", "--json", tmp_path / "r.json",
                 "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    cost = json.loads((tmp_path / "r.json").read_text())["cost"]
    assert cost["deterministic"] == pytest.approx(8200.0)        # the file's 8,200.00
    assert cost["imported"]["actual"] == 800.0 and cost["std"] > 0
    assert cost["uncertainty"]["kept_complete"] == 1             # the completed task

"""The edges of what pmosim reads, and runs that look like results but are not.

- zero-variance runs (every iteration the same schedule) are named, with the command
  that adds uncertainty, in the library, the JSON and on the command line;
- files pmosim does not read (MS Project's binary ``.mpp``, a bare task ``.csv``) get a
  message that says what to do instead, worded for the caller (``--format`` on the
  command line, ``format=`` in Python);
- task CSVs from European Excel (``;`` between columns, decimal commas);
- a mistyped link type is named as such;
- MS Project split tasks finish where MS Project finishes them;
- the zero-duration connector tasks of imports stay out of the reports.

Real data from ``../shared/data`` (never copied): ProjectLibre's ``New Product.xml``
(MS Project XML; see ``projectlibre/PROVENANCE.md``) and MPXJ's ``mspdisplittask.xml``
(LGPL-2.1, ``mpxj/PROVENANCE.md``).
"""

import datetime as dt
import json
import textwrap

import defusedxml.ElementTree as DET
import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.distributions import Fixed, Triangular
from pmosim.errors import PmosimError, ScenarioError
from pmosim.io.json_out import results_dict
from pmosim.uncertainty import (SUGGESTED_RANGE, apply_uncertainty, is_deterministic,
                                uncertain_inputs, zero_variance_warning)

from _data import data_dir


@pytest.fixture
def runner():
    return CliRunner()


def new_product():
    return data_dir("projectlibre", "New Product.xml")


# -- zero-variance runs -------------------------------------------------------------------
def test_what_makes_a_run_random():
    p = pmosim.Project()
    p.add_task("a", 5)
    p.add_task("b", 3)
    p.add_link("a", "b")
    assert is_deterministic(p)
    q = apply_uncertainty(p, "pert(-10%, 0, +30%)")
    assert not is_deterministic(q) and uncertain_inputs(q)["durations"] == 2
    p.add_risk("R", 0.3, ["a"], schedule_impact=2)
    assert not is_deterministic(p) and uncertain_inputs(p)["risks"] == 1
    assert is_deterministic(p, risks="none")   # --risks none switches the event off
    r = pmosim.Project()
    r.add_task("a", 5, existence=0.5)
    assert not is_deterministic(r)
    s = pmosim.Project()
    s.add_task("a", 5, cost_fixed=Triangular(1, 2, 4))   # only the cost varies
    assert is_deterministic(s)
    assert "only the costs vary" in zero_variance_warning(s)
    t = pmosim.Project()
    t.add_task("a", 5)
    t.add_task("b", 5)
    t.graph.add_edge("a", "b", type="FS", lag=Triangular(0, 1, 2))
    assert not is_deterministic(t)
    # a driver that always occurs with a fixed factor moves nothing
    u = pmosim.Project()
    u.add_task("a", 5)
    u.add_driver("D", 1.0, 1.2, ["a"])
    assert is_deterministic(u)
    u.add_driver("E", 0.5, 1.2, ["a"])
    assert not is_deterministic(u)


def test_zero_variance_result_says_so_and_how_to_fix_it():
    p = pmosim.load(new_product())
    assert is_deterministic(p)
    res = pmosim.simulate(p, 64, seed=1)
    # the symptom: every iteration is the deterministic schedule
    assert res.finish.std == 0 and res.finish.percentile(10) == res.finish.percentile(90)
    [warning] = res.warnings
    assert warning.startswith("zero variance: no task has an uncertain duration")
    assert f'apply_uncertainty(project, "{SUGGESTED_RANGE}")' in warning
    ok = pmosim.simulate(apply_uncertainty(p, SUGGESTED_RANGE), 64, seed=1)
    assert ok.warnings == [] and ok.finish.std > 0
    assert results_dict(ok, scenario="plan.xml")["warnings"] == []
    assert results_dict(res)["warnings"] == res.warnings


def test_run_warns_loudly_before_the_summary_and_in_the_json(runner, tmp_path):
    path = new_product()
    res = runner.invoke(cli, ["run", str(path), "-n", "64", "--seed", "1", "--out",
                              str(tmp_path / "out"), "--json", "-"])
    assert res.exit_code == 0, res.output
    command = f'pmosim run "{path}" --uncertainty "pert(-10%,0,+30%)"'
    stderr = res.stderr
    assert "Warning: zero variance:" in stderr and command in stderr
    assert stderr.index("Warning: zero variance") < stderr.index("Project finish")
    doc = json.loads(res.stdout)
    [warning] = doc["warnings"]
    assert warning.startswith("zero variance:") and command in warning
    # the run's tables leave out the connectors the import added for summary links
    assert "S16:finish" not in stderr and "S36:start" not in stderr


# -- files pmosim does not read ------------------------------------------------------------
def test_mpp_says_save_as_xml_or_convert(runner, tmp_path):
    mpp = tmp_path / "Plan.mpp"
    mpp.write_bytes(b"\xd0\xcf\x11\xe0 binary")
    res = runner.invoke(cli, ["run", str(mpp)])
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: {mpp}: MS Project's binary .mpp format is not read; "
                                 "in MS Project save the plan as XML (File > Save As > 'XML "
                                 "Format (*.xml)')")
    assert "MPXJ" in res.output and "format=" not in res.output
    with pytest.raises(PmosimError, match=r"\.mpp format is not read.*MPXJ"):
        pmosim.load(mpp)


def test_task_csv_points_to_tasks_csv(runner, tmp_path):
    csv_path = tmp_path / "tasks.csv"
    csv_path.write_text("id,duration\na,3\n")
    res = runner.invoke(cli, ["import", str(csv_path), "-o", str(tmp_path / "a.toml")])
    assert res.exit_code == 1
    assert res.output == (
        f"Error: {csv_path}: a task CSV file is read through a scenario file that names it "
        "with tasks_csv (docs/scenario-format.md, 'CSV task lists'); write e.g. plan.toml "
        "next to it:\n    [project]\n    name = \"My project\"\n    tasks_csv = \"tasks.csv\"\n"
        "and give pmosim plan.toml\n")
    # the three lines do read it
    (tmp_path / "plan.toml").write_text('[project]\nname = "My project"\n'
                                        'tasks_csv = "tasks.csv"\n')
    assert pmosim.cpm(pmosim.load(tmp_path / "plan.toml")).finish == 3.0


def test_unknown_extension_names_the_option_of_the_caller(runner, tmp_path):
    odd = tmp_path / "plan.txt"
    odd.write_text("x")
    res = runner.invoke(cli, ["cpm", str(odd)])
    assert res.exit_code == 1
    assert "or pass --format (" in res.output and "format=" not in res.output
    with pytest.raises(PmosimError, match=r"or pass format= \("):
        pmosim.load(odd)


# -- task CSVs from European Excel ---------------------------------------------------------
def _scenario(tmp_path, csv_text, encoding="utf-8"):
    (tmp_path / "t.csv").write_bytes(csv_text.encode(encoding))
    path = tmp_path / "p.toml"
    path.write_text('[project]\nname = "x"\ntasks_csv = "t.csv"\n')
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_separators_are_detected(tmp_path, sep):
    rows = [["id", "name", "dist", "low", "mode", "high", "predecessors"],
            ["a", "Dig", "triangular", "2", "3", "5", ""],
            ["b", "Pour", "pert", "1", "2", "4", "a SS+1"],
            ["c", "Cure", "triangular", "1", "1", "2", "a" + ("," if sep != "," else ";") + "b"]]
    p = pmosim.load(_scenario(tmp_path, "\n".join(sep.join(r) for r in rows) + "\n"))
    assert p.graph.nodes["a"]["duration"] == Triangular(2.0, 3.0, 5.0)
    assert p.graph.edges["a", "b"] == {"type": "SS", "lag": 1.0}
    assert set(p.graph.predecessors("c")) == {"a", "b"}


def test_semicolon_csv_reads_decimal_commas(tmp_path):
    # what Excel writes with a comma as decimal separator (UTF-8 with its byte-order mark)
    text = "id;name;duration;cost_fixed\r\na;Dig;12,5;1000,25\r\nb;Pour;3;\r\n"
    p = pmosim.load(_scenario(tmp_path, text, "utf-8-sig"))
    assert p.graph.nodes["a"]["duration"] == Fixed(12.5)
    assert p.graph.nodes["a"]["cost_fixed"] == Fixed(1000.25)
    dist = "id;dist;values;weights\na;discrete;1,5 2,5;0,25 0,75\n"
    q = pmosim.load(_scenario(tmp_path, dist))
    assert q.graph.nodes["a"]["duration"].values == (1.5, 2.5)


@pytest.mark.parametrize("text, message", [
    ("id;duration\na;12.500,5\n",
     "duration must be a number, got '12.500,5'; write numbers without thousands separators"),
    ('id,duration\na,"12,5"\n',
     "duration must be a number, got '12,5'; in a comma-separated file numbers take a decimal "
     "point (12.5), or save the file with ';' between columns"),
    ("id;nmae;duration\na;x;1\n", "line 1: unknown column 'nmae'; did you mean 'name'?"),
])
def test_csv_number_and_header_errors(tmp_path, text, message):
    with pytest.raises(ScenarioError) as err:
        pmosim.load(_scenario(tmp_path, text))
    assert message in str(err.value)


# -- link type typos ------------------------------------------------------------------------
def test_a_mistyped_link_type_is_named_as_such(tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text(textwrap.dedent("""\
        [project]
        name = "x"
        [[tasks]]
        id = "a"
        duration = 2
        [[tasks]]
        id = "b"
        duration = 2
        predecessors = ["a XS"]
        [[tasks]]
        id = "c"
        duration = 1
        predecessors = ["a ss+1", "design qa"]
        """))
    with pytest.raises(ScenarioError) as err:
        pmosim.load(toml)
    problems = err.value.problems
    assert any("unknown link type 'XS' in 'a XS' (use FS, SS, FF or SF)" in m for m in problems)
    # two letters that are no link type stay an unknown task; a valid type reads
    assert any("unknown predecessor 'design qa'" in m for m in problems)
    assert len(problems) == 2
    csv_scenario = _scenario(tmp_path, "id,duration,predecessors\n1,2,\n2,1,1XS+2\n")
    with pytest.raises(ScenarioError, match=r"line 3 \(\"2\"\): predecessors: unknown link "
                                            r"type 'XS' in '1XS\+2'"):
        pmosim.load(csv_scenario)


# -- MS Project split tasks ------------------------------------------------------------------
def _ms_project_dates(path):
    """Start and Finish of every task as MS Project stored them, read independently."""
    root = DET.parse(path).getroot()
    ns = root.tag[:-len("Project")]
    out = {}
    for task in root.iter(ns + "Task"):
        uid = int(task.findtext(ns + "UID"))
        if uid:
            out[uid] = tuple(dt.datetime.fromisoformat(task.findtext(ns + k))
                             for k in ("Start", "Finish"))
    return out, dt.datetime.fromisoformat(root.findtext(ns + "FinishDate"))


def test_split_tasks_finish_as_in_ms_project():
    path = data_dir("mpxj", "mspdisplittask.xml")
    p = pmosim.load(path)
    expected, project_finish = _ms_project_dates(path)
    res = pmosim.cpm(p)
    dates = dict(zip(res.task_ids, zip(res.early_start_date, res.early_finish_date)))
    assert dates == expected
    assert max(res.early_finish_date) == project_finish == dt.datetime(2006, 10, 18, 17)
    # task 1: 10 days of work in two parts, 3 working days apart (27-29 Sep 2006)
    n = p.graph.nodes
    assert n[1]["split_days"] == 3.0 and n[1]["duration"] == Fixed(13.0)
    assert n[1]["splits"] == [(dt.datetime(2006, 9, 21, 8), dt.datetime(2006, 9, 26, 17)),
                              (dt.datetime(2006, 10, 2, 8), dt.datetime(2006, 10, 9, 17))]
    assert n[2]["split_days"] == 5.0 and len(n[2]["splits"]) == 3
    assert any("2 split tasks kept" in w for w in p.meta["import_report"]["warnings"])
    # a range applies to the 15 days of work; the 5 days of split stay as they are
    q = apply_uncertainty(p, "triangular(-10%, 0, +30%)")
    assert q.graph.nodes[2]["duration"] == Triangular(15 * 0.9 + 5, 20.0, 15 * 1.3 + 5)
    assert pmosim.cpm(q).finish == res.finish


def test_unsplit_tasks_are_untouched():
    p = pmosim.load(new_product())
    assert not any("split_days" in d for _, d in p.graph.nodes(data=True))


# -- import connectors stay out of the reports -------------------------------------------------
def test_cpm_table_leaves_out_connectors(runner):
    p = pmosim.load(new_product())
    connectors = [t for t, d in p.graph.nodes(data=True) if d.get("kind") == "connector"]
    assert len(connectors) == 5       # the links of the summary tasks
    res = runner.invoke(cli, ["cpm", str(new_product())])
    assert res.exit_code == 0, res.output
    rows = [line.split()[0] for line in res.output.splitlines()[1:] if line.strip()]
    assert not set(connectors) & set(rows)
    path = next(line for line in res.output.splitlines() if line.startswith("Critical path:"))
    assert not any(c in path for c in connectors) and "-> 40 -> 41" in path
    assert "(5 zero-duration connector tasks that the import added for links are not shown)" \
        in res.output
    assert len([r for r in rows if r.isdigit()]) == p.n_tasks - len(connectors)

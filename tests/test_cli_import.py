"""``pmosim import`` and the --format / --uncertainty options, through click's CliRunner.

Real data is read from ``../shared/data`` (the P6 ``SP10 - COST LOADED.xer``, PyP6Xer's
history, LGPL-2.1; PSPLIB J30, Kolisch & Sprecher 1997), never copied.
"""

import json
import textwrap
import tomllib

import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli
from pmosim.distributions import Fixed, Triangular, Uniform

from _data import data_dir

# PSPLIB text (the psplib module's example): job 2 of 4 periods between source and sink
TINY_PSPLIB = textwrap.dedent("""\
    projects : 1
    jobs (incl. supersource/sink ):  4
    RESOURCES
      - renewable : 1 R
      - nonrenewable : 0 N
      - doubly constrained : 0 D
    PROJECT INFORMATION:
    pronr.  #jobs rel.date duedate tardcost  MPM-Time
        1      2      0       5       1        6
    PRECEDENCE RELATIONS:
    jobnr.    #modes  #successors   successors
       1        1          1           2
       2        1          1           3
       3        1          1           4
       4        1          0
    REQUESTS/DURATIONS:
    jobnr. mode duration  R 1
    ----------------------------
      1      1     0       0
      2      1     4       3
      3      1     2       1
      4      1     0       0
    RESOURCEAVAILABILITIES:
      R 1
       5
    """)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tiny(tmp_path):
    """A PSPLIB instance whose extension does not say so."""
    path = tmp_path / "tiny.txt"
    path.write_text(TINY_PSPLIB, encoding="ascii")
    return path


def invoke(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_help_has_an_example(runner):
    res = invoke(runner, "import", "--help")
    assert res.exit_code == 0
    assert "Examples:\n    pmosim import plan.xml -o plan.toml\n" in res.output
    for command in ("run", "validate", "cpm", "import"):
        res = invoke(runner, command, "--help")
        assert "--format FORMAT" in res.output and "--uncertainty SPEC" in res.output
    assert "import" in invoke(runner, "--help").output


def test_import_xer_with_a_csv_sidecar(runner, tmp_path):
    xer = data_dir("p6", "SP10 - COST LOADED.xer")
    out = tmp_path / "sp10.toml"
    res = invoke(runner, "import", xer, "-o", out)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == (f"Imported {xer} (xer): 3994 tasks, 5966 links (FS 5573, SS 266, "
                        "FF 127, SF 0), 220 lags, 6 calendars")
    # LOE activities, second links, resources kept, demands above their capacity capped
    assert lines[1] == "Import warnings (4):"
    assert "Not kept by the scenario format, listed in the file's header too (3):" in lines
    assert not any("resources not written" in line for line in lines)
    written = pmosim.load(out)
    assert len(written.resources) == 180
    assert lines[-1] == f"Wrote {out}, {tmp_path / 'sp10.tasks.csv'}"
    res = invoke(runner, "validate", out)
    assert res.exit_code == 0
    assert res.output == (f"{out}: OK (HS2-LWM-IMP-040-20: 4006 tasks, 5978 links, "
                          "start 2017-09-18; 180 resources (72 tasks demand them; not "
                          "levelled))\n")
    res = invoke(runner, "cpm", out)
    assert res.exit_code == 0
    # calendars, progress and constraints are written: the finish is the XER's (P6's)
    assert f"Project finish: {pmosim.cpm(pmosim.load(xer)).finish:,.1f} working days" \
        in res.output


def test_import_with_uncertainty(runner, tiny, tmp_path):
    out = tmp_path / "tiny.toml"
    res = invoke(runner, "import", tiny, "--format", "psplib", "-o", out,
                 "--uncertainty", "triangular(-10%, 0, +25%)",
                 "--uncertainty", "id=3: uniform(0, +50%)")
    assert res.exit_code == 0, res.output
    assert ("Uncertainty: triangular(-10%, 0%, +25%) on 1 tasks; id=3: uniform(0%, +50%) on 1 "
            "tasks; kept 0 with their own distribution, 2 milestones, 0 completed") in res.output
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert doc["tasks"][1]["duration"] == {"dist": "triangular", "low": 3.6, "mode": 4,
                                           "high": 5}
    p = pmosim.load(out)
    n = p.graph.nodes
    assert (n["1"]["duration"], n["2"]["duration"], n["3"]["duration"]) == (
        Fixed(0.0), Triangular(3.6, 4.0, 5.0), Uniform(2.0, 3.0))
    assert pmosim.cpm(p).finish == 6.0     # the MPM-Time: planned durations are kept
    assert out.read_text(encoding="utf-8").startswith(
        f"# pmosim scenario written by pmosim {pmosim.__version__} from {tiny} (psplib)\n")


def test_import_errors(runner, tiny, tmp_path):
    cases = [
        (("import", tmp_path / "nope.xer", "-o", tmp_path / "a.toml"),
         f"Error: {tmp_path / 'nope.xer'}: no such Primavera P6 XER file\n"),
        (("import", tiny, "-o", tmp_path / "a.toml"),
         f"Error: {tiny}: cannot tell the format from the extension '.txt'; use one of "
         ".pmxml, .sm, .toml, .xer, .xlsx, .xml or pass --format (dslib, mspdi, pmxml, "
         "psplib, toml, xer)\n"),
        (("import", tiny, "--format", "sm", "-o", tmp_path / "a.toml"),
         "Error: unknown format 'sm'; use one of dslib, mspdi, pmxml, psplib, toml, xer\n"),
        (("import", tiny, "--format", "psplib", "-o", tmp_path / "a.json"),
         f"Error: -o {tmp_path / 'a.json'}: a scenario file name ends in .toml; use e.g. "
         "a.toml\n"),
        (("import", tiny, "--format", "psplib", "-o", tmp_path / "a.toml",
          "--uncertainty", "triangular(-10%, 0, +25)"),
         "Error: uncertainty rule 'triangular(-10%, 0, +25)': column 21: +25 has no '%'; the "
         "points of a range are percentage changes of the planned duration, found '+25)'; "
         "write +25% (or 0 for 'as planned')\n"),
        (("import", tiny, "--format", "xer", "-o", tmp_path / "a.toml"),
         f"Error: {tiny}: not a Primavera P6 XER file: the first line should start with "
         "'ERMHDR', got 'projects : 1'\n"),
    ]
    for args, message in cases:
        res = invoke(runner, *args)
        assert (res.exit_code, res.output) == (1, message), args
    assert not (tmp_path / "a.toml").exists()


def test_format_and_uncertainty_on_cpm_validate_and_run(runner, tiny, tmp_path):
    res = invoke(runner, "cpm", tiny, "--format", "psplib")
    assert res.exit_code == 0
    assert res.output.endswith("Project finish: 6.0 working days\n"
                               "Critical path: 1 -> 2 -> 3 -> 4\n")
    res = invoke(runner, "validate", tiny, "--format", "psplib", "--uncertainty",
                 "pert(-10%, 0, +40%)")
    assert (res.exit_code, res.output) == (0, f"{tiny}: OK (tiny: 4 tasks, 3 links; 1 resource "
                                              "(2 tasks demand them; not levelled))\n")
    res = invoke(runner, "validate", tiny, "--format", "psplib", "--uncertainty", "pert(0)")
    assert res.exit_code == 1
    # validate lists the problem, then fails
    assert res.output == ("uncertainty rule 'pert(0)': column 7: pert needs 3 percentages "
                          "(LOW, MODE, HIGH), got 1, found ')'; write e.g. pert(-10%, 0, +25%) "
                          f"or pert(-10%, 0, +25%, lamb=3)\nError: {tiny}: 1 problem found\n")
    # a rule that selects nothing is a warning on standard error, not a silent no-op
    res = invoke(runner, "run", tiny, "--format", "psplib", "-n", 400, "--seed", 5,
                 "--out", tmp_path / "out", "--uncertainty", "uniform(0, +50%)",
                 "--uncertainty", "wbs=9: uniform(0, +1%)")
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith(
        "Warning: uncertainty rule 'wbs=9: uniform(0%, +1%)' selects no task\n")
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    # two uniform(0, +50%) tasks of 4 and 2 in series: finish 6 + U(0, 2) + U(0, 1),
    # mean 7.5, sd sqrt(4/12 + 1/12)
    assert doc["finish"]["deterministic"] == 6.0
    assert doc["finish"]["mean"] == pytest.approx(7.5, abs=5 * (5 / 12) ** 0.5 / 400 ** 0.5)

"""Every scenario in scenarios/ (and the bundled default) validates, runs and is documented."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim.cli import cli, default_scenario
from pmosim.io.scenario import scenario_problems

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.toml")) + [default_scenario()]


def test_there_are_at_least_three_scenarios():
    assert len(SCENARIOS) >= 4


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_validates_and_runs(path):
    assert scenario_problems(path) == []
    project = pmosim.load(path)
    assert project.start is not None and project.calendar is not None
    plan = pmosim.cpm(project)
    result = pmosim.simulate(project, 400, seed=11)
    assert np.all(result.finish.samples >= 0)
    assert result.finish.deterministic == pytest.approx(plan.finish)
    assert sum(result.criticality.values()) >= 1.0   # some path is critical in every iteration


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_scenario_has_a_header_comment(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines[:40] if line.startswith("#")]
    assert lines[0].startswith("# ") and len(header) >= 5


def test_a_large_scenario_uses_every_link_type():
    sizes = {p.name: pmosim.load(p) for p in SCENARIOS}
    big = [p for p in sizes.values() if p.n_tasks >= 150]
    assert big, "one scenario must have 150+ tasks"
    types = {d["type"] for _, _, d in big[0].graph.edges(data=True)}
    assert types == {"FS", "SS", "FF", "SF"}


def test_cli_validates_and_runs_every_scenario(tmp_path):
    runner = CliRunner()
    for path in SCENARIOS:
        res = runner.invoke(cli, ["validate", str(path)])
        assert res.exit_code == 0, res.output
        res = runner.invoke(cli, ["run", str(path), "-n", "200", "--seed", "1",
                                  "--out", str(tmp_path / path.stem)])
        assert res.exit_code == 0, res.output
        assert (tmp_path / path.stem / "finish.png").stat().st_size > 0

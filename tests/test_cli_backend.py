"""The run command's --backend and --scheduler options, the compile notice of a first
run, and the warmup command."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pmosim.cli import cli

SCENARIO = os.path.join(os.path.dirname(__file__), "..", "scenarios", "office-move-risks.toml")


def _run(args, tmp_path):
    result = CliRunner().invoke(cli, ["run", SCENARIO, "-n", "3000", "--seed", "4",
                                      "--out", str(tmp_path), *args])
    return result


def test_dask_backend_from_the_command_line_gives_the_threads_results(tmp_path):
    pytest.importorskip("distributed")
    a = _run([], tmp_path / "a")
    b = _run(["--backend", "dask"], tmp_path / "b")
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    da = json.loads((tmp_path / "a" / "results.json").read_text())
    db = json.loads((tmp_path / "b" / "results.json").read_text())
    for doc in (da, db):
        doc.pop("run", None)
    assert da["finish"] == db["finish"] and da["tasks"] == db["tasks"]
    assert "Starting a local Dask cluster" in b.output


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "tcp://127.0.0.1:8786"],
     "Error: --scheduler tcp://127.0.0.1:8786: a scheduler address is for --backend dask\n"),
    (["--backend", "dask", "--threads", "2"],
     "Error: --threads is for --backend threads; Dask workers have their own threads "
     "(dask worker --nthreads)\n"),
])
def test_backend_option_errors(tmp_path, args, message):
    result = _run(args, tmp_path)
    assert result.exit_code == 1
    assert result.output.endswith(message)


def test_first_run_says_it_compiles_and_a_second_run_does_not(tmp_path):
    """A fresh numba cache: the kernels compile, and the user is told so on plain
    (non-terminal) standard error; with the cache filled the notice is gone."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-c", "import sys; from pmosim.cli import main; sys.exit(main())",
           "run", "-n", "200", "--seed", "1",
           "--out", str(tmp_path / "out")]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "Compiling the simulation kernels for this kind of model (first run only" \
        in first.stderr
    assert first.stderr.count("Compiling the simulation kernels") == 1
    assert "Compiled the kernels in " in first.stderr
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "Compiling" not in second.stderr


def test_warmup_command():
    result = CliRunner().invoke(cli, ["warmup", "--kind", "plain", "--kind", "risks+costs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[0] == "plain" and lines[1].split()[0] == "risks+costs"
    assert lines[-1].startswith("Kernels ready for 2 kinds of model in ")


@pytest.mark.parametrize("fork", [True, False])
def test_plots_drawn_in_a_process_or_here_give_the_same_files_and_errors(tmp_path, monkeypatch,
                                                                          fork):
    """The PNGs come from a forked plot process when the command starts single-threaded,
    else from this process: the same files, and the same Error: line when one cannot be
    written."""
    import threading
    if not fork:
        monkeypatch.setattr(threading, "active_count", lambda: 2)
    result = _run([], tmp_path / "ok")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == [
        "cashflow.png", "cost.png", "criticality.png", "finish.png", "gantt.png", "jcl.png",
        "results.json", "sensitivity.png"]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "finish.png").mkdir()    # a directory where a PNG must go
    result = _run([], tmp_path / "bad")
    assert result.exit_code == 1
    assert f"Error: writing the plots into {tmp_path / 'bad'}: " in result.output

"""Hostile input (issue 19): readers that stay linear, errors that name the place.

The predecessor strings here made the old regex backtrack through every split of a
whitespace run (500 spaces: 112 s; 1,000: no end); each case below finishes at once
now, so the suite's per-test timeout is the only clock involved."""

import os

import pytest

import pmosim
from pmosim.errors import ModelError, ScenarioError
from pmosim.io.scenario import MAX_PREDECESSOR_CHARS, parse_predecessor


@pytest.mark.parametrize("n", [300, 500, MAX_PREDECESSOR_CHARS - 2])
def test_long_whitespace_runs_parse_without_backtracking(n):
    assert parse_predecessor("a" + " " * n + "b") == ("a" + " " * n + "b", "FS", 0.0)
    pad = " " * (n // 5)
    assert parse_predecessor("design" + pad + "SS" + pad + "+" + pad + "5" + pad + "d") == \
        ("design", "SS", 5.0)


@pytest.mark.parametrize("text", ["a" + " " * 300 + "\nb", "a\rb", "a\0b"])
def test_line_breaks_and_nul_in_a_predecessor_are_refused(text):
    with pytest.raises(ModelError, match="contains a line break or NUL; give each predecessor"):
        parse_predecessor(text)


def test_an_overlong_predecessor_is_refused_before_any_search():
    text = "a" + " " * 100_000 + "\nb"
    with pytest.raises(ModelError, match=r"is 100,003 characters long; .*at most 1,000 characters"):
        parse_predecessor(text, known_ids={"a"})


def test_scenario_with_a_hostile_predecessor_names_file_and_task(tmp_path):
    path = tmp_path / "plan.toml"
    pred = "a" + " " * 1000 + "\\nb"
    path.write_text(f'[[tasks]]\nid = "a"\nduration = 1\n[[tasks]]\nid = "b"\nduration = 2\n'
                    f'predecessors = ["{pred}"]\n')
    with pytest.raises(ScenarioError) as info:
        pmosim.load(str(path))
    message = str(info.value)
    assert str(path) in message and '"b"' in message and "characters long" in message


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_scenario_that_is_a_device_or_pipe_is_refused(tmp_path, target):
    import os
    if target == "fifo":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)
    link = tmp_path / "zero.toml"
    link.symlink_to(target)
    with pytest.raises(ScenarioError, match=r"zero.toml: is not a regular file \(a device, "
                                            r"pipe or socket\)"):
        pmosim.load(str(link))


def test_a_task_csv_that_is_a_device_is_refused(tmp_path):
    (tmp_path / "tasks.csv").symlink_to("/dev/zero")
    path = tmp_path / "plan.toml"
    path.write_text('[project]\ntasks_csv = "tasks.csv"\n')
    with pytest.raises(ScenarioError, match=r"tasks.csv is not a regular file"):
        pmosim.load(str(path))


def _cli(args):
    from click.testing import CliRunner

    from pmosim.cli import cli
    return CliRunner().invoke(cli, [str(a) for a in args])


def _scenario_with_csv(tmp_path):
    (tmp_path / "plan.tasks.csv").write_text("id,duration,predecessors\nb,2,a\n")
    path = tmp_path / "plan.toml"
    path.write_text('[project]\ntasks_csv = "plan.tasks.csv"\n[[tasks]]\nid = "a"\nduration = 1\n')
    return path


@pytest.mark.parametrize("target", ["plan.toml", "plan.tasks.csv"])
def test_run_never_writes_results_over_an_input(tmp_path, target):
    path = _scenario_with_csv(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = _cli(["run", path, "-n", "50", "--out", tmp_path / "out", "--json", tmp_path / target])
    assert result.exit_code == 1
    assert result.output == (f"Error: --json {tmp_path / target} is an input of this run (the "
                             "scenario or its task CSV); it would be overwritten with results: "
                             "write them to another file\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_import_never_overwrites_its_input_or_an_existing_file(tmp_path):
    path = _scenario_with_csv(tmp_path)
    before = path.read_bytes()
    result = _cli(["import", path, "-o", path])
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: -o {path} is an input of this import ({path}); write "
                                  "the scenario to another file\n")
    out = tmp_path / "copy.toml"
    out.write_text("# mine\n")
    result = _cli(["import", path, "-o", out])
    assert result.exit_code == 1
    assert result.output.endswith(f"Error: -o {out} exists; pass --force to replace it, or "
                                  "choose another name\n")
    assert out.read_text() == "# mine\n" and path.read_bytes() == before
    assert _cli(["import", path, "-o", out, "--force"]).exit_code == 0
    assert out.read_text() != "# mine\n"


def test_ctrl_c_exits_130_and_writes_nothing(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pmosim.cli import main; sys.exit(main())",
         "run", "-n", "50000000", "--seed", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell that started the suite in the background may ignore SIGINT
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert err.rstrip().endswith("Interrupted.")
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("iterations, message", [
    (10 ** 12, r"5 tasks x 1,000,000,000,000 iterations needs about 22,35\d\.\d GiB of memory "
               r"and this machine has [\d,.]+ GiB; use fewer iterations"),
    (2 ** 63, r"iterations must be between 1 and 281474976710656, got 9223372036854775808"),
])
def test_absurd_iteration_counts_are_refused_before_allocating(iterations, message):
    project = _default()
    with pytest.raises(pmosim.PmosimError, match=message):
        pmosim.simulate(project, iterations, seed=1)


def _default():
    from importlib.resources import files
    return pmosim.load(str(files("pmosim") / "data" / "default.toml"))


def _zip_bomb(path, unpacked_mb):
    import zipfile
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            block = b" " * 2**20
            for _ in range(unpacked_mb):
                fh.write(block)


def test_an_xlsx_that_unpacks_beyond_the_limit_is_refused_unread(tmp_path, monkeypatch):
    pytest.importorskip("openpyxl")
    path = tmp_path / "bomb.xlsx"
    _zip_bomb(path, 20)
    assert path.stat().st_size < 2**20 // 10
    monkeypatch.setenv("PMOSIM_MAX_XLSX_MB", "16")
    with pytest.raises(pmosim.PmosimError, match=r"bomb.xlsx: the workbook unpacks to 20 MB, "
                                                 r"more than the limit of 16 MB .*raise the limit "
                                                 r"with PMOSIM_MAX_XLSX_MB"):
        pmosim.load(str(path))
    monkeypatch.delenv("PMOSIM_MAX_XLSX_MB")    # default 256 MB: read, then refused as a workbook
    with pytest.raises(pmosim.PmosimError) as info:
        pmosim.load(str(path))
    assert "limit" not in str(info.value)


def test_an_output_folder_that_cannot_be_made_is_found_before_simulating(tmp_path):
    path = _scenario_with_csv(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = _cli(["run", path, "-n", "50", "--out", blocker / "out"])
    assert result.exit_code == 1
    assert result.output == (f"Error: --out: cannot create the folder {blocker / 'out'}: "
                             "Not a directory\n")


def test_a_long_cycle_is_named_by_its_ends_and_its_length():
    import networkx as nx
    g = nx.DiGraph()
    n = 2_000
    for i in range(n):
        g.add_node(f"t{i}", duration=1)
    for i in range(n):
        g.add_edge(f"t{i}", f"t{(i + 1) % n}")
    with pytest.raises(pmosim.CycleError) as info:
        pmosim.cpm(g)
    message = str(info.value)
    assert len(info.value.cycle) == n and len(message) < 300
    assert message.startswith("the task network has a dependency cycle of 2,000 tasks: ")
    assert "-> ... (1,991 more) ... ->" in message


# -- one rule for numbers: every magnitude within +-1e15, so every implied sum is finite

def _one(duration=5.0, **attrs):
    p = pmosim.Project()
    p.add_task("a", duration, **attrs)
    p.add_task("b", 5.0)
    return p


def _with(fn):
    p = _one()
    fn(p)
    return p


@pytest.mark.parametrize("make, message", [
    (lambda: _one(1e308), "task 'a': duration: must be within +-1e+15, got 1e+308"),
    (lambda: _one(int("9" * 400)), "task 'a': duration: is too large (99999999999999999999"),
    (lambda: _one(pmosim.Uniform(0, 1.7e308)), "uniform: high must be within +-1e+15"),
    (lambda: _one(pmosim.LogNormal(5, 1e300)), "lognormal: sd must be within +-1e+15"),
    (lambda: _one(pmosim.LogNormal(1e-300, 1e15)), "lognormal(1e-300, 1e+15): sd / mean"),
    (lambda: _one(pmosim.Trigen(1, 2, 1e300, 10, 90)), "trigen: high must be within"),
    (lambda: _one(cost_fixed=1e308), "task 'a': cost_fixed: must be within +-1e+15"),
    (lambda: _one(release=1e308), "task 'a': release must be within +-1e+15, got 1e+308"),
    (lambda: _with(lambda p: p.add_link("a", "b", lag=-1e300)),
     "link 'a' -> 'b': lag: must be within +-1e+15"),
    (lambda: _with(lambda p: p.add_risk("r", 0.5, ["a"], schedule_impact={"pct": 1e308})),
     "risk 'r': schedule_impact (pct): must be within +-1e+15"),
    (lambda: _with(lambda p: p.add_driver("d", 0.5, 1e308, ["a"])),
     "driver 'd': factor: must be within +-1e+15"),
])
def test_magnitudes_beyond_the_rule_are_clear_errors(make, message):
    with pytest.raises(pmosim.PmosimError) as info:
        pmosim.simulate(make(), 100, seed=1)
    assert message in str(info.value)


def test_validate_and_run_agree_on_a_huge_duration(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text('[[tasks]]\nid = "a"\nduration = 1e308\n[[tasks]]\nid = "b"\nduration = 1e308\n'
                    'predecessors = ["a"]\n')
    for args in (["validate", path], ["run", path, "-n", "100", "--out", tmp_path / "out"]):
        result = _cli(args)
        assert result.exit_code == 1
        assert 'tasks[0] ("a"): duration must be within +-1e+15, got 1e+308' in result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize("make", [
    lambda: _one(5e-324, cost_rate=1.0),
    lambda: _one(pmosim.Uniform(0, 5e-320), cost_fixed=5e-324),
    lambda: _one(0.0, cost_rate=0.0),
])
def test_denormal_and_zero_models_give_finite_results(make):
    import json
    r = pmosim.simulate(make(), 2000, seed=3)
    doc = r.to_dict()
    json.dumps(doc, allow_nan=False)
    assert r.finish.mean >= 0 and r.cost.mean >= 0


def test_a_task_that_never_exists_has_exact_zero_dates_at_the_largest_magnitude():
    p = pmosim.Project()
    p.add_task("a", 1e15, existence=0.0)
    r = pmosim.simulate(p, 3000, seed=1)
    assert r.tasks.finish_mean[0] == 0.0 and r.tasks.start_mean[0] == 0.0
    assert r.finish.mean == 0.0


# -- readers bounded, places named --------------------------------------------------------

@pytest.mark.parametrize("files, message", [
    ({"plan.toml": '[project]\ntasks_csv = "t.csv"\n',
      "t.csv": "id,duration\n" + "a" * 140_000 + ",1\n"},
     "t.csv: line 2: cannot be read as CSV: field larger than field limit (131072)"),
    ({"plan.toml": '[project]\ntasks_csv = "t.csv"\n', "t.csv": "id,duration\na\x00b,1\n"},
     "t.csv: line 2: id 'a\\x00b' contains a control character"),
    ({"plan.toml": '[[tasks]]\nid = "a\\tb"\nduration = 1\n'},
     "plan.toml: tasks[0]: id 'a\\tb' contains a control character"),
    ({"plan.toml": "x = " + "[" * 50_000 + "]" * 50_000 + "\n"},
     "plan.toml: is nested too deeply"),
    ({"plan.toml": '[project]\nstart = "9999-12-30"\n[[tasks]]\nid = "a"\nduration = 10\n'},
     "plan.toml: start 9999-12-30: the plan may run 10 working days"),
])
def test_readers_refuse_with_the_place(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "plan.toml"
    with pytest.raises(ScenarioError) as info:
        pmosim.load(path)
    assert message in str(info.value)
    result = _cli(["validate", path])
    assert result.exit_code == 1 and message in result.output


# -- outputs: one run per --out, no temp files left, no traceback -------------------------

def test_a_second_run_into_the_same_out_is_refused(tmp_path):
    import fcntl
    path = _scenario_with_csv(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".pmosim.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        result = _cli(["run", path, "-n", "50", "--out", out])
    assert result.exit_code == 1
    assert result.output == (f"Error: --out {out}: another pmosim run (process 4242) is "
                             "writing into this folder; wait for it to finish or choose "
                             "another --out\n")
    assert _cli(["run", path, "-n", "50", "--out", out]).exit_code == 0


def test_temp_files_of_dead_writers_are_swept(tmp_path):
    from pmosim.io.json_out import atomic_path
    dead = tmp_path / ".results.json.999999999.x1.tmp"     # no such process
    alive = tmp_path / f".results.json.{os.getppid()}.x2.tmp"
    other = tmp_path / ".finish.png.999999999.x3.tmp"
    for p in (dead, alive, other):
        p.write_text("partial")
    with atomic_path(tmp_path / "results.json") as tmp:
        tmp.write_text("{}")
    assert not dead.exists() and alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".finish.png.999999999.x3.tmp", alive.name, "results.json"])


def test_sigterm_cleans_up_and_exits_143(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    path = _scenario_with_csv(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "pmosim", "run", str(path), "-n",
                             "200000000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / ".pmosim.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch,
                                                                     capsys):
    import pmosim.cli as cli_module
    path = _scenario_with_csv(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pmosim, "simulate", broken)
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(["run", str(path), "-n", "50", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Error: internal error: RuntimeError: boom. Please report it" in err
    assert "Traceback" not in err
    monkeypatch.setattr(cli_module, "_DEBUG", [])
    with pytest.raises(RuntimeError, match="boom"):
        cli_module.main(["--debug", "run", str(path), "-n", "50", "--out",
                         str(tmp_path / "out2")])


def test_inputs_above_the_size_limit_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("PMOSIM_MAX_INPUT_MB", "0.001")
    big = tmp_path / "big.xer"
    big.write_text("ERMHDR\t8.1\n" + "x" * 5000)
    with pytest.raises(pmosim.PmosimError) as info:
        pmosim.load(big)
    assert str(info.value) == (f"{big}: the input file is 0 MB, more than the limit of 0 MB; if "
                               "it is right, raise the limit with the environment variable "
                               "PMOSIM_MAX_INPUT_MB")
    (tmp_path / "t.csv").write_text("id,duration\n" + "a,1\n" * 2000)
    (tmp_path / "plan.toml").write_text('[project]\ntasks_csv = "t.csv"\n')
    with pytest.raises(ScenarioError, match=r"project.tasks_csv: .*t.csv: the task CSV is"):
        pmosim.load(tmp_path / "plan.toml")
    monkeypatch.setenv("PMOSIM_MAX_INPUT_MB", "lots")
    with pytest.raises(pmosim.PmosimError, match="PMOSIM_MAX_INPUT_MB='lots' is not a number"):
        pmosim.load(big)

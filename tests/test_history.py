"""The run history (pmosim.history, SQLite): schema and migrations, a recorded run read
back against the result it came from, a writer killed mid-transaction, concurrent
writers, ``pmosim run --record`` and ``pmosim history``."""

import datetime as dt
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from click.testing import CliRunner

import pmosim
from pmosim import history
from pmosim.cli import cli
from pmosim.errors import HistoryError
from pmosim.io.json_out import finish_dates
from pmosim.report import model_hash

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
N = 400


def _project(name="Tracked", start="2027-03-01", n_chain=3):
    p = pmosim.Project(name, start=start)
    p.add_task("a", pmosim.Triangular(2, 4, 9), name="Alpha", cost_rate=100.0)
    p.add_task("b", pmosim.Uniform(1, 3), cost_fixed=500.0)
    p.add_task("c", 3.0)
    p.add_link("a", "b")
    p.add_link("a", "c")
    prev = "c"
    for k in range(n_chain):
        tid = f"t{k}"
        p.add_task(tid, pmosim.Triangular(1, 2, 4), cost_rate=10.0)
        p.add_link(prev, tid)
        prev = tid
    return p


@pytest.fixture(scope="module")
def result():
    return pmosim.simulate(_project(), N, seed=3)


@pytest.fixture(scope="module")
def plain_result():
    """No start date, no costs: working days only."""
    p = pmosim.Project("Plain")
    p.add_task("x", pmosim.Triangular(1, 2, 5))
    p.add_task("y", pmosim.Uniform(2, 4))
    p.add_link("x", "y")
    return pmosim.simulate(p, N, seed=4)


def _integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _count(path, table) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# -- schema and migrations ---------------------------------------------------------------
def test_a_new_file_gets_the_current_schema(tmp_path):
    db = tmp_path / "sub" / "pmosim.db"
    history.connect(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == history.APPLICATION_ID
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "run_percentiles", "run_tasks"} <= tables
    conn.close()
    # an empty (0-byte) file is a version-0 database: created in place
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    history.connect(empty).close()
    assert _count(empty, "runs") == 0


def _v2_add_note(conn):
    conn.execute("ALTER TABLE runs ADD COLUMN note TEXT")


def test_migrations_run_step_by_step_from_the_files_version(tmp_path, result):
    db = tmp_path / "pmosim.db"
    run_id = _write_v1_file(db, result)
    calls = []

    def v0(conn):
        calls.append(0)
        history.MIGRATIONS[0](conn)

    def v1(conn):
        calls.append(1)
        _v2_add_note(conn)

    def v2(conn):
        calls.append(2)
        conn.execute("UPDATE runs SET note = 'migrated'")

    # a version-1 file runs only the steps after 1
    conn = history.connect(db, steps=(v0, v1, v2))
    assert calls == [1, 2]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    assert [tuple(r) for r in conn.execute("SELECT run_id, note FROM runs")] == [
        (run_id, "migrated")]
    conn.close()
    # a new file runs all of them, in order
    calls.clear()
    history.connect(tmp_path / "new.db", steps=(v0, v1, v2)).close()
    assert calls == [0, 1, 2]
    # and an up-to-date file none
    calls.clear()
    history.connect(db, steps=(v0, v1, v2)).close()
    assert calls == []


def test_a_failed_migration_leaves_the_file_at_its_version(tmp_path, result):
    db = tmp_path / "pmosim.db"
    history.record_run(result, db)

    def broken(conn):
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step 3 failed")

    with pytest.raises(RuntimeError, match="step 3 failed"):
        history.connect(db, steps=(*history.MIGRATIONS, _v2_add_note, broken))
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION
    columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    assert "note" not in columns            # step 2 rolled back with step 3
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'"
                        ).fetchone()[0] == 0
    conn.close()
    assert len(history.load_runs(db)) == 1


def test_a_schema_created_between_two_reads_is_not_taken_for_a_foreign_file(tmp_path,
                                                                            monkeypatch):
    """A process that reads version 0 just before another one creates the schema must not
    then see the new tables and refuse the file as another program's (a 6-process CI run
    did): the check for foreign tables reads the version and the tables in one
    transaction."""
    db = tmp_path / "pmosim.db"
    history.connect(db).close()                            # the other process's schema
    real = history._versions
    stale = [(0, 0)]                                       # what was read before it landed

    def versions(conn):
        return stale.pop() if stale else real(conn)

    monkeypatch.setattr(history, "_versions", versions)
    history.connect(db).close()
    assert not stale


def test_a_newer_or_foreign_file_is_refused(tmp_path, result):
    db = tmp_path / "pmosim.db"
    history.connect(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    newer = (f"{db}: the run history was written by a newer pmosim (schema version 99; "
             f"this pmosim {pmosim.__version__} knows versions up to {history.SCHEMA_VERSION}); "
             "upgrade pmosim (pip install -U pmosim), or record into another file with "
             "--history PATH")
    for call in (lambda: history.record_run(result, db), lambda: history.check_history(db),
                 lambda: history.load_runs(db)):
        with pytest.raises(HistoryError) as err:
            call()
        assert str(err.value) == newer

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id)")
    with pytest.raises(HistoryError) as err:
        history.record_run(result, other)
    assert str(err.value) == (f"{other}: not a pmosim run history (an SQLite database with "
                              "the tables invoices); give another file with --history PATH")

    app = tmp_path / "app.db"
    with sqlite3.connect(app) as conn:
        conn.execute("PRAGMA application_id = 1234")
    with pytest.raises(HistoryError, match=r"another program, application id 0x4d2"):
        history.check_history(app)

    text = tmp_path / "notes.db"
    text.write_text("these are my notes, not a database\n" * 40)
    with pytest.raises(HistoryError) as err:
        history.record_run(result, text)
    assert str(err.value).startswith(f"{text}: not a pmosim run history (file is not a database)")
    assert text.read_text().startswith("these are my notes")

    with pytest.raises(HistoryError, match="no such run history"):
        history.load_runs(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(HistoryError, match="is a folder, not a run history file"):
        history.record_run(result, tmp_path)


# -- a recorded run, read back ---------------------------------------------------------------
def test_round_trip_of_a_recorded_run(tmp_path, result):
    db = tmp_path / "pmosim.db"
    target, budget = 14.0, 3000.0
    evm = {"SPI": 0.92, "CPI": np.float64(1.04), "SPI(t)": 0.9, "EAC": [2900.5, None]}
    run_id = history.record_run(result, db, scenario=tmp_path / "plan.toml",
                                status_date=dt.date(2027, 4, 1), evm=evm,
                                target={"value": target}, budget=budget, elapsed=1.5)
    (run,) = history.load_runs(db, "Tracked", tasks=True)
    assert run["run_id"] == run_id and len(run["uuid"]) == 32
    assert run["project_key"] == run["project_name"] == "Tracked"
    assert run["source"] == str((tmp_path / "plan.toml").resolve())
    assert run["status_date"] == "2027-04-01" and run["start_date"] == "2027-03-01"
    assert run["model_hash"] == model_hash(result.project)
    assert run["seed"] == 3 and run["iterations"] == N and run["n_tasks"] == 6
    assert run["pmosim_version"] == pmosim.__version__
    assert run["numpy_version"] == np.__version__
    import numba
    assert run["numba_version"] == numba.__version__
    assert run["python_version"] == ".".join(map(str, sys.version_info[:3]))
    recorded = dt.datetime.fromisoformat(run["recorded_at"])
    assert abs((dt.datetime.now(dt.timezone.utc) - recorded).total_seconds()) < 3600
    assert run["elapsed_s"] == 1.5

    # the numbers are the samples' own statistics (naive: numpy on the samples)
    fin, cost = result.finish.samples, result.cost.samples
    for q in history.RUN_PERCENTILES:
        assert run[f"finish_p{q}"] == pytest.approx(np.percentile(fin, q), abs=1e-12)
        assert run[f"finish_p{q}_date"] == finish_dates(result.project, [run[f"finish_p{q}"]])[0]
        assert run[f"cost_p{q}"] == pytest.approx(np.percentile(cost, q), rel=1e-12)
    assert run["finish_mean"] == pytest.approx(fin.mean(), rel=1e-12)
    assert run["finish_std"] == pytest.approx(fin.std(ddof=1), rel=1e-12)
    assert run["cost_mean"] == pytest.approx(cost.mean(), rel=1e-12)
    assert run["finish_deterministic"] == result.finish.deterministic
    assert run["cost_deterministic"] == result.cost.deterministic
    assert run["target"] == target and run["budget"] == budget
    assert run["target_probability"] == np.mean(fin <= target)
    assert run["budget_probability"] == np.mean(cost <= budget)
    assert run["jcl"] == np.mean((fin <= target) & (cost <= budget))
    assert run["target_date"] == finish_dates(result.project, [target])[0]
    pct = run["percentiles"]
    assert list(pct["finish"]) == [f"P{q}" for q in pmosim.stats.REPORT_PERCENTILES]
    assert pct["finish"] == result.finish.percentiles()
    assert pct["cost"] == result.cost.percentiles()
    assert pct["finish_dates"]["P80"] == run["finish_p80_date"]
    assert run["evm"] == {"SPI": 0.92, "CPI": 1.04, "SPI(t)": 0.9, "EAC": [2900.5, None]}
    assert run["warnings"] == result.warnings

    # per task: the result's statistics, in node order
    ts, sens = result.tasks, result.sensitivity
    assert [t["task_id"] for t in run["tasks"]] == [str(t) for t in result.task_ids]
    assert run["tasks"][0]["name"] == "Alpha"
    p50 = ts.finish_dates(50)
    for i, t in enumerate(run["tasks"]):
        assert t["position"] == i
        assert t["criticality"] == ts.criticality[i]
        assert t["finish_mean"] == ts.finish_mean[i]
        assert t["finish_p80"] == ts.finish_percentile(80)[i]
        assert t["finish_p50_date"] == p50[i].isoformat()
        for m in ("cri_tau", "ssi", "cost_cri_tau"):
            want = float(getattr(sens, m)[i])
            assert t[m] == (None if np.isnan(want) else want)
    # the constant task "c" has no spread: its cruciality is exactly 0
    assert run["tasks"][2]["cri_tau"] == 0.0


def test_a_run_without_dates_or_costs(tmp_path, plain_result):
    db = tmp_path / "pmosim.db"
    history.record_run(plain_result, db, target="6.5")    # text of a number: working days
    (run,) = history.load_runs(db)
    assert run["target"] == 6.5 and run["target_date"] is None
    assert run["target_probability"] == np.mean(plain_result.finish.samples <= 6.5)
    assert run["status_date"] is None and run["start_date"] is None
    assert run["finish_p80_date"] is None and run["percentiles"]["finish_dates"] is None
    assert run["cost_p50"] is None and run["percentiles"]["cost"] is None
    assert run["finish_p80"] == pytest.approx(np.percentile(plain_result.finish.samples, 80))
    assert all(t["finish_p50_date"] is None for t in history.load_runs(db, tasks=True)[0]["tasks"])
    assert _count(db, "run_percentiles") == len(pmosim.stats.REPORT_PERCENTILES)
    assert history.run_date(run) == dt.date.fromisoformat(run["recorded_at"][:10])


def test_status_date_comes_from_the_model(tmp_path):
    p = _project("Dated")
    p.meta["data_date"] = dt.datetime(2027, 5, 3, 8, 0)
    r = pmosim.simulate(p, 64, seed=1)
    db = tmp_path / "pmosim.db"
    history.record_run(r, db)
    p.meta["status_date"] = dt.datetime(2027, 5, 7, 17, 0)      # the status date wins
    history.record_run(pmosim.simulate(p, 64, seed=1), db)
    history.record_run(r, db, status_date="2027-06-01 08:30")    # an explicit one wins
    assert [run["status_date"] for run in history.load_runs(db)] == [
        "2027-05-03T08:00:00", "2027-05-07T17:00:00", "2027-06-01T08:30:00"]
    with pytest.raises(HistoryError) as err:
        history.record_run(r, db, status_date="next friday")
    assert str(err.value) == ("status date 'next friday' is not a date; give it as "
                              "YYYY-MM-DD (or YYYY-MM-DD HH:MM)")
    assert len(history.load_runs(db)) == 3


def test_runs_come_back_in_status_date_order_and_drift_keeps_the_latest(tmp_path, result):
    db = tmp_path / "pmosim.db"
    ids = {day: history.record_run(result, db, status_date=day)
           for day in ("2027-05-01", "2027-03-01", "2027-04-01")}
    rerun = history.record_run(result, db, status_date="2027-04-01")
    history.record_run(result, db, project_key="Other project", status_date="2027-01-01")
    runs = history.load_runs(db, "Tracked")
    assert [r["run_id"] for r in runs] == [ids["2027-03-01"], ids["2027-04-01"], rerun,
                                          ids["2027-05-01"]]
    assert [r["run_id"] for r in history.drift_points(runs)] == [
        ids["2027-03-01"], rerun, ids["2027-05-01"]]
    projects = history.list_projects(db)
    assert [(p["project_key"], p["runs"], p["first_status_date"], p["last_status_date"])
            for p in projects] == [("Other project", 1, "2027-01-01", "2027-01-01"),
                                   ("Tracked", 4, "2027-03-01", "2027-05-01")]


def test_record_run_errors(tmp_path, result, plain_result):
    db = tmp_path / "pmosim.db"
    with pytest.raises(HistoryError, match="evm must be a mapping of indices"):
        history.record_run(result, db, evm=[1.0, 0.9])
    with pytest.raises(HistoryError, match=r"evm: cannot store .* as JSON"):
        history.record_run(result, db, evm={"SPI": float("nan")})
    with pytest.raises(HistoryError) as err:
        history.record_run(plain_result, db, budget=100.0)
    assert str(err.value) == "budget: the project has no costs to compare with a budget"
    with pytest.raises(HistoryError) as err:
        history.record_run(result, db, target="soon")
    assert str(err.value) == "target 'soon': date: expected a date like 2027-03-01, got 'soon'"
    with pytest.raises(HistoryError, match="^target '2027-05-01': the project has no start date"):
        history.record_run(plain_result, db, target="2027-05-01")
    unnamed = pmosim.Project("")
    unnamed.add_task("a", 1.0)
    with pytest.raises(HistoryError, match="has no name to file the run under"):
        history.record_run(pmosim.simulate(unnamed, 16, seed=1), db)
    # nothing was written by a refused call
    assert not db.exists() or _count(db, "runs") == 0


def test_check_writable_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    db = tmp_path / "ro" / "pmosim.db"
    db.parent.mkdir()
    real = os.access
    monkeypatch.setattr(history.os, "access",
                        lambda p, mode: False if str(p) == str(db.parent) else real(p, mode))
    with pytest.raises(HistoryError) as err:
        history.check_writable(db, "--record")
    assert str(err.value) == (f"--record: cannot write the run history {db}: the folder "
                              f"{db.parent} is not writable; record into another file with "
                              "--history PATH")
    # a folder to be created is judged by the nearest one that exists
    deep = db.parent / "x" / "y" / "h.db"
    with pytest.raises(HistoryError, match=f"the folder {db.parent} is not writable"):
        history.check_writable(deep, "--history")
    history.check_writable(tmp_path / "new" / "h.db", "--history")
    not_folder = tmp_path / "file.txt"
    not_folder.write_text("x")
    with pytest.raises(HistoryError, match=f"the folder {not_folder} is not writable"):
        history.check_writable(not_folder / "pmosim.db", "--history")


# -- durability and concurrency --------------------------------------------------------------
_KILLED_WRITER = textwrap.dedent("""
    import pickle, sqlite3, sys, time
    from pathlib import Path
    from pmosim import history

    db, marker, pickled = map(Path, sys.argv[1:4])
    result = pickle.loads(pickled.read_bytes())
    connect = history.connect

    def small_cache(*args, **kwargs):
        conn = connect(*args, **kwargs)
        # a tiny page cache spills the run's pages into the file before the commit, so
        # the kill leaves changed pages on disk for the next opener to roll back
        conn.execute("PRAGMA cache_size = 10")
        return conn

    def stop_here(run_id):
        marker.write_text(str(run_id))
        time.sleep(120)

    history.connect = small_cache
    history._IN_TRANSACTION_HOOK = stop_here
    history.record_run(result, db, status_date="2027-09-01")
""")


def test_a_writer_killed_mid_transaction_leaves_the_file_intact(tmp_path):
    big = pmosim.simulate(_project("Big", n_chain=1500), 64, seed=5)
    db, marker, pickled = tmp_path / "pmosim.db", tmp_path / "marker", tmp_path / "r.pkl"
    history.record_run(big, db, status_date="2027-08-01")
    before = {t: _count(db, t) for t in ("runs", "run_percentiles", "run_tasks")}
    size_before = db.stat().st_size
    pickled.write_bytes(pickle.dumps(big))
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(db), str(marker),
                              str(pickled)])
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the writer ended before its transaction's hook"
            assert time.monotonic() < deadline, "the writer never reached its hook"
            time.sleep(0.05)
        # the uncommitted run is in the file already: only the journal can undo it
        assert db.stat().st_size > size_before
        journal = db.with_name(db.name + "-journal")
        assert journal.exists() and journal.stat().st_size > 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert _integrity(db) == "ok"
    assert {t: _count(db, t) for t in before} == before
    assert [r["status_date"] for r in history.load_runs(db)] == ["2027-08-01"]
    # and the file takes the next run
    history.record_run(big, db, status_date="2027-09-01")
    assert _count(db, "runs") == 2 and _integrity(db) == "ok"


_CONCURRENT_WRITER = textwrap.dedent("""
    import datetime as dt, pickle, sys, time
    from pathlib import Path
    from pmosim import history

    db, go, pickled, k, n_runs = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), \\
        int(sys.argv[4]), int(sys.argv[5])
    result = pickle.loads(pickled.read_bytes())
    while not go.exists():          # every writer imported and ready: start together
        time.sleep(0.01)
    for i in range(n_runs):
        history.record_run(result, db, project_key=f"writer {k}",
                           status_date=dt.date(2027, 1 + i, 1))
""")


def test_concurrent_writers_all_land(tmp_path, result):
    db = tmp_path / "shared" / "pmosim.db"          # not there yet: they race to create it
    go, pickled = tmp_path / "go", tmp_path / "r.pkl"
    pickled.write_bytes(pickle.dumps(result))
    n_proc, n_runs = 6, 4
    procs = [subprocess.Popen([sys.executable, "-c", _CONCURRENT_WRITER, str(db), str(go),
                               str(pickled), str(k), str(n_runs)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for k in range(n_proc)]
    try:
        time.sleep(0.5)
        go.touch()
        outputs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0] * n_proc, outputs
    assert _integrity(db) == "ok"
    runs = history.load_runs(db)
    assert sorted((r["project_key"], r["status_date"]) for r in runs) == sorted(
        (f"writer {k}", dt.date(2027, 1 + i, 1).isoformat())
        for k in range(n_proc) for i in range(n_runs))
    assert len({r["uuid"] for r in runs}) == n_proc * n_runs
    assert _count(db, "run_tasks") == n_proc * n_runs * len(result.task_ids)
    assert _count(db, "run_percentiles") == n_proc * n_runs * 2 * len(
        pmosim.stats.REPORT_PERCENTILES)


# -- the command line --------------------------------------------------------------------------
SCENARIO = """\
[project]
name = "CLI history"
start = "2027-03-01"
{extra}
[[tasks]]
id = "a"
name = "Alpha"
duration = {{ dist = "triangular", low = 2, mode = 4, high = 9 }}
cost_rate = 1000
[[tasks]]
id = "b"
duration = {{ dist = "uniform", low = 1, high = 3 }}
predecessors = ["a"]
"""


@pytest.fixture
def runner():
    return CliRunner()


def _scenario(folder, extra=""):
    path = folder / "plan.toml"
    path.write_text(SCENARIO.format(extra=extra), encoding="utf-8")
    return path


def invoke(runner, *args, **kwargs):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)


def test_run_record_writes_beside_the_scenario_and_keeps_the_json(runner, tmp_path):
    scenario = _scenario(tmp_path)
    plain = invoke(runner, "run", scenario, "-n", "300", "--seed", "2", "--out",
                   tmp_path / "o1", "--target", "12")
    assert plain.exit_code == 0, plain.output
    assert "Recorded" not in plain.output and not (tmp_path / "pmosim.db").exists()
    res = invoke(runner, "run", scenario, "-n", "300", "--seed", "2", "--out", tmp_path / "o2",
                 "--target", "12", "--record")
    assert res.exit_code == 0, res.output
    db = tmp_path / "pmosim.db"
    assert f"Recorded run 1 of 'CLI history' in {db} (the trend: pmosim history {scenario})" \
        in res.output
    # the results JSON is the same document with or without --record
    assert (json.loads((tmp_path / "o1" / "results.json").read_text())
            == json.loads((tmp_path / "o2" / "results.json").read_text()))
    doc = json.loads((tmp_path / "o2" / "results.json").read_text())
    (run,) = history.load_runs(db, "CLI history")
    assert run["seed"] == 2 and run["iterations"] == 300
    assert run["finish_p80"] == doc["finish"]["percentiles"]["P80"]
    assert run["finish_p80_date"] == doc["finish"]["dates"]["P80"]
    assert run["cost_p50"] == doc["cost"]["percentiles"]["P50"]
    assert run["target"] == 12.0 and run["target_probability"] == doc["target"]["probability"]
    assert run["source"] == str(scenario.resolve())
    assert run["elapsed_s"] > 0


def test_a_configured_history_records_every_run(runner, tmp_path, monkeypatch):
    scenario = _scenario(tmp_path, 'history = "hist/runs.db"')
    db = tmp_path / "hist" / "runs.db"
    res = invoke(runner, "run", scenario, "-n", "200", "--seed", "1", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert f"Recorded run 1 of 'CLI history' in {db}" in res.output
    res = invoke(runner, "run", scenario, "-n", "200", "--out", tmp_path / "o", "--no-record")
    assert res.exit_code == 0 and "Recorded" not in res.output
    assert len(history.load_runs(db)) == 1
    # the setting is not part of the model: the same model hashes the same without it
    (tmp_path / "other").mkdir()
    bare = _scenario(tmp_path / "other")
    assert history.load_runs(db)[0]["model_hash"] == model_hash(pmosim.load(bare))

    env_db = tmp_path / "env" / "all.db"
    monkeypatch.setenv(history.ENV_VAR, str(env_db))
    res = invoke(runner, "run", bare, "-n", "200", "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    assert f"in {env_db}" in res.output and len(history.load_runs(env_db)) == 1
    # --history beats both; the scenario's setting beats the environment
    res = invoke(runner, "run", scenario, "-n", "200", "--out", tmp_path / "o")
    assert f"Recorded run 2 of 'CLI history' in {db}" in res.output
    assert len(history.load_runs(db)) == 2 and len(history.load_runs(env_db)) == 1
    explicit = tmp_path / "explicit.db"
    res = invoke(runner, "run", scenario, "-n", "200", "--out", tmp_path / "o",
                 "--history", explicit)
    assert res.exit_code == 0, res.output
    assert len(history.load_runs(explicit)) == 1 and len(history.load_runs(db)) == 2


def test_run_record_errors(runner, tmp_path, monkeypatch):
    scenario = _scenario(tmp_path)
    res = invoke(runner, "run", scenario, "-n", "100", "--out", tmp_path / "o", "--no-record",
                 "--history", tmp_path / "h.db")
    assert res.exit_code == 1
    assert res.output == (f"Error: --no-record with --history {tmp_path / 'h.db'}: --history "
                          "records the run; give one of them\n")

    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite " * 100)
    res = invoke(runner, "run", scenario, "-n", "100", "--out", tmp_path / "o", "--history", bad)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.startswith(f"Error: --history: {bad}: not a pmosim run history")
    assert not (tmp_path / "o" / "results.json").exists()      # refused before the run

    real = os.access
    monkeypatch.setattr(history.os, "access",
                        lambda p, mode: False if str(p) == str(tmp_path) else real(p, mode))
    res = invoke(runner, "run", scenario, "-n", "100", "--out", tmp_path / "o2", "--record")
    assert res.exit_code == 1
    assert res.output == (f"Error: --record: cannot write the run history "
                          f"{tmp_path / 'pmosim.db'}: the folder {tmp_path} is not writable; "
                          "record into another file with --history PATH\n")
    assert not (tmp_path / "o2" / "results.json").exists()

    (tmp_path / "k").mkdir()
    bad_key = _scenario(tmp_path / "k", "history = 5")
    res = invoke(runner, "validate", bad_key)
    assert res.exit_code == 1
    assert ('project.history: must be the name of the run history file, like "pmosim.db" '
            "(beside the scenario) or a path; got 5") in res.output


def _record_series(db, result, days):
    return [history.record_run(result, db, status_date=d, target=14.0) for d in days]


def test_history_prints_the_trend_and_writes_json_and_the_chart(runner, tmp_path, result):
    db = tmp_path / "pmosim.db"
    ids = _record_series(db, result, ["2027-03-01", "2027-04-01", "2027-05-03"])
    res = invoke(runner, "history", "Tracked", "--history", db, "--out", tmp_path / "out",
                 "--json", tmp_path / "trend.json")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"Forecast history of 'Tracked' in {db}: 3 runs"
    assert lines[1].split() == ["run", "status", "date", "recorded", "seed", "model",
                                "P50", "finish", "P80", "finish", "P50", "cost", "P80", "cost"]
    p80_date = finish_dates(result.project, [result.finish.percentile(80)])[0]
    for run_id, day, line in zip(ids, ["2027-03-01", "2027-04-01", "2027-05-03"], lines[2:5]):
        cells = line.split()
        assert cells[0] == str(run_id) and cells[1] == day and cells[4] == "3"
        assert cells[5] == model_hash(result.project)[:10]
        assert cells[7] == p80_date
        assert cells[9] == f"{result.cost.percentile(80):,.0f}"
    assert lines[5] == (f"P80 finish moved {p80_date} -> {p80_date} (+0 days) from 2027-03-01 "
                        "to 2027-05-03 (latest run of each of 3 status dates).")
    png = tmp_path / "out" / "forecast-drift.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert f"Wrote {png}, {tmp_path / 'trend.json'}" in res.output
    doc = json.loads((tmp_path / "trend.json").read_text())
    assert doc["project"] == "Tracked" and doc["history"] == str(db)
    assert doc["schema_version"] == history.SCHEMA_VERSION
    assert [r["run_id"] for r in doc["runs"]] == ids
    first = doc["runs"][0]
    assert first["seed"] == 3 and first["model_hash"] == model_hash(result.project)
    assert first["finish"]["percentiles"] == result.finish.percentiles()
    assert first["finish"]["dates"]["P80"] == p80_date
    assert first["cost"]["percentiles"]["P50"] == result.cost.percentiles()["P50"]
    assert first["target"]["probability"] == np.mean(result.finish.samples <= 14.0)
    assert first["versions"]["pmosim"] == pmosim.__version__
    assert "tasks" not in first

    res = invoke(runner, "history", "Tracked", "--history", db, "--out", tmp_path / "out",
                 "--json", "-", "--tasks")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert len(doc["runs"][0]["tasks"]) == len(result.task_ids)


def test_history_of_a_scenario_after_run_record(runner, tmp_path):
    scenario = _scenario(tmp_path)
    for seed in ("1", "2"):
        res = invoke(runner, "run", scenario, "-n", "200", "--seed", seed, "--out",
                     tmp_path / "o", "--record")
        assert res.exit_code == 0, res.output
    res = invoke(runner, "history", scenario, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"Forecast history of 'CLI history' in {tmp_path / 'pmosim.db'}"
                                 ": 2 runs")
    rows = res.output.splitlines()[2:4]
    assert [r.split()[0] for r in rows] == ["1", "2"]
    assert [r.split()[1] for r in rows] == ["-", "-"]          # no status date in the scenario
    assert (tmp_path / "out" / "forecast-drift.png").read_bytes()[:8] == PNG_SIGNATURE


STATUS_SCENARIO = """\
[project]
name = "Status"
start = "2027-03-01"
[status]
date = "2027-03-03"
[[tasks]]
id = "a"
duration = 4
cost_rate = 100
actual_start = 2027-03-01
percent_complete = 50
actual_cost = 220
[[tasks]]
id = "b"
duration = { dist = "triangular", low = 5, mode = 6, high = 9 }
cost_fixed = 600
predecessors = ["a"]
"""


def test_a_re_forecast_is_filed_under_its_status_date_with_its_indices(runner, tmp_path):
    scenario = tmp_path / "status.toml"
    scenario.write_text(STATUS_SCENARIO, encoding="utf-8")
    res = invoke(runner, "run", scenario, "-n", "200", "--seed", "1", "--out", tmp_path / "o",
                 "--status-date", "latest", "--record")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    (run,) = history.load_runs(tmp_path / "pmosim.db", "Status")
    assert run["status_date"] == "2027-03-03"
    assert run["evm"] == doc["evm"]
    res = invoke(runner, "history", scenario, "--out", tmp_path / "o")
    assert res.exit_code == 0, res.output
    header, row = res.output.splitlines()[1:3]
    assert header.split()[-2:] == ["SPI(t)", "CPI"]
    assert row.split()[-2:] == [f"{doc['evm']['spi_t']:.3f}", f"{doc['evm']['cpi']:.3f}"]


def test_history_without_dates_or_costs(runner, tmp_path, plain_result):
    db = tmp_path / "pmosim.db"
    history.record_run(plain_result, db, status_date="2027-01-04")
    history.record_run(plain_result, db, status_date="2027-02-01")
    res = invoke(runner, "history", "Plain", "--history", db, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].endswith("2 runs (finish in working days from the start)")
    assert "cost" not in lines[1]
    p80 = f"{plain_result.finish.percentile(80):,.1f}"
    assert lines[2].split()[-1] == p80
    assert lines[4].startswith(f"P80 finish moved {p80} -> {p80} (+0.0 working days)")


def test_history_lists_projects_and_names_the_fix(runner, tmp_path, result):
    db = tmp_path / "pmosim.db"
    history.record_run(result, db, status_date="2027-03-01")
    history.record_run(result, db, project_key="Annex", status_date="2027-03-08")
    res = invoke(runner, "history", "--history", db)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"Projects in {db}:"
    assert lines[1].split()[:8] == ["Annex", "1", "run", "last", "status", "date",
                                    "2027-03-08,", "recorded"]
    assert lines[2].split()[:7] == ["Tracked", "1", "run", "last", "status", "date",
                                    "2027-03-01,"]
    assert lines[3] == f"Show one with: pmosim history NAME --history {db}"

    res = invoke(runner, "history", "Nope", "--history", db)
    assert res.exit_code == 1
    assert res.output == (f"Error: no runs of project 'Nope' in {db}; it has 'Annex' (1 run), "
                          f"'Tracked' (1 run); record one with: pmosim run SCENARIO --record "
                          f"--history {db}\n")
    res = invoke(runner, "history", "missing.toml", "--history", db)
    assert res.exit_code == 1
    assert res.output.startswith("Error: missing.toml: no such file, and no project of that "
                                 f"name in {db}")
    res = invoke(runner, "history", "Tracked", "--history", tmp_path / "none.db")
    assert res.exit_code == 1
    assert res.output == (f"Error: {tmp_path / 'none.db'}: no such run history; record runs "
                          f"into it with pmosim run SCENARIO --record --history "
                          f"{tmp_path / 'none.db'}\n")
    assert not (tmp_path / "none.db").exists()


def test_forecast_drift_plot(tmp_path, result, plain_result):
    from pmosim import plots
    db = tmp_path / "pmosim.db"
    _record_series(db, result, ["2027-03-01", "2027-04-01"])
    history.record_run(result, db, status_date="2027-04-01", target=14.0, budget=3000.0)
    runs = history.load_runs(db, "Tracked")
    ax = plots.forecast_drift(runs)
    fig = ax.figure
    assert len(fig.axes) == 2
    assert ax.get_ylabel() == "Forecast finish date"
    assert fig.axes[1].get_ylabel() == "Forecast cost"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == ["P10-P90", "P50", "P80", "Deterministic plan"]
    assert labels[4] == f"Target {runs[0]['target_date']}"
    assert "Budget 3k" in [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert ax.get_title() == "Tracked: forecast drift over 2 status dates"
    p80_line = ax.get_lines()[1]
    import matplotlib.dates as mdates
    assert list(p80_line.get_ydata()) == [
        mdates.date2num(dt.date.fromisoformat(r["finish_p80_date"]))
        for r in history.drift_points(runs)]

    db2 = tmp_path / "plain.db"
    history.record_run(plain_result, db2)
    ax = plots.forecast_drift(history.load_runs(db2))
    assert len(ax.figure.axes) == 1
    assert ax.get_ylabel() == "Forecast finish (working days from the start)"
    assert ax.get_xlabel() == "Status date (a run without one: the day it was recorded)"
    lo, hi = ax.get_xlim()
    assert hi - lo == 14
    with pytest.raises(ValueError, match="at least one recorded run"):
        plots.forecast_drift([])


# -- schema version 2: the forecast method -------------------------------------------------
def _write_v1_file(db, result, **kwargs):
    """A history file as pmosim wrote it before schema version 2, holding one run."""
    conn = history.connect(db, steps=history.MIGRATIONS[:1])
    try:
        row, percentiles, tasks = history._run_rows(
            result, scenario=None, status_date=kwargs.get("status_date"),
            evm=kwargs.get("evm"), target=None, budget=None, project_key=None, elapsed=None,
            warnings=None)
        columns = [c for c in history._RUN_COLUMNS if c not in ("method", "learned")]
        conn.execute("BEGIN")
        run_id = conn.execute(f"INSERT INTO runs ({', '.join(columns)}) VALUES "
                              f"({', '.join('?' * len(columns))})",
                              [row[c] for c in columns]).lastrowid
        conn.executemany("INSERT INTO run_percentiles VALUES (?, ?, ?, ?, ?)",
                         [(run_id, *p) for p in percentiles])
        conn.executemany(f"INSERT INTO run_tasks ({', '.join(history._TASK_COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(history._TASK_COLUMNS))})",
                         [(run_id, *t) for t in tasks])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return run_id


def _status_result(learn: bool):
    from pmosim.evm import StatusPeriod, TaskStatus, apply_status
    from pmosim.reforecast import reforecast

    p = _project()
    period = StatusPeriod("2027-03-10", {"a": TaskStatus("2027-03-01", "2027-03-09", 1.0,
                                                         900.0),
                                         "c": TaskStatus("2027-03-05", None, 0.5)})
    if learn:
        return reforecast(p, period, iterations=N, seed=5)
    return pmosim.simulate(apply_status(p, period), N, seed=5)


def test_a_version_1_file_is_migrated_and_keeps_its_runs(tmp_path, result):
    db = tmp_path / "pmosim.db"
    old_id = _write_v1_file(db, result, status_date="2027-03-01", evm={"spi_t": 0.9})
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "method" not in [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    history.check_history(db)                      # an older file is fine to record into
    (old,) = history.load_runs(db, "Tracked", tasks=True)   # reading migrates it
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == history.SCHEMA_VERSION == 2
        assert _integrity(db) == "ok"
    # the old run is whole; its method was never recorded
    assert old["run_id"] == old_id and old["method"] is None and old["learned"] is None
    assert old["evm"] == {"spi_t": 0.9} and len(old["tasks"]) == len(result.task_ids)
    assert old["finish_p80"] == float(result.finish.percentile(80))
    # new runs beside it record theirs: none for a run not from a status update
    plain_id = history.record_run(_status_result(learn=False), db)
    bayes = _status_result(learn=True)
    bayes_id = history.record_run(bayes, db)      # a ReforecastResult: its simulation
    none_id = history.record_run(result, db, status_date="2027-03-20")
    runs = {r["run_id"]: r for r in history.load_runs(db, "Tracked")}
    assert [runs[k]["method"] for k in (old_id, plain_id, bayes_id, none_id)] == [
        None, "plain", "bayes", None]
    assert runs[bayes_id]["learned"] == bayes.learned.to_dict()
    assert runs[plain_id]["learned"] is None
    assert runs[bayes_id]["finish_p80"] == float(bayes.finish.percentile(80))
    assert runs[bayes_id]["status_date"] == "2027-03-10" and runs[bayes_id]["seed"] == 5
    doc = history.trend_dict(list(runs.values()), project_key="Tracked", path=db)
    assert doc["schema_version"] == 2
    assert [r["method"] for r in doc["runs"]] == [None, "plain", "bayes", None]
    assert doc["runs"][2]["learned"]["duration"]["median"] == bayes.duration_factor.median


def test_history_shows_which_forecasts_learned(runner, tmp_path):
    db = tmp_path / "pmosim.db"
    history.record_run(_status_result(learn=False), db)
    bayes = _status_result(learn=True)
    history.record_run(bayes, db)
    res = invoke(runner, "history", "Tracked", "--history", db, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    header, plain_row, bayes_row = res.output.splitlines()[1:4]
    assert header.split()[-4:] == ["P80", "cost", "method", "factor"]
    assert plain_row.split()[-2:] == ["plain", "-"]
    assert bayes_row.split()[-2:] == ["bayes", f"{bayes.duration_factor.median:.3f}"]

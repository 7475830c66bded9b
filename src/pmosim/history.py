"""Run history: every recorded run of a project, in one SQLite file.

A PMO re-runs the forecast at every status date and asks how it moved. Each
recorded run (:func:`record_run`) is one row of ``runs`` (project, status date,
the model's SHA-256, seed, versions, finish and cost P-values and their dates,
target, budget and joint confidence, EVM indices) with its full P-value table in
``run_percentiles`` and per-task statistics in ``run_tasks``; :func:`load_runs`
reads a project's runs back in status-date order, the trend that ``pmosim
history`` prints and :func:`pmosim.plots.forecast_drift` draws. The schema is in
``docs/history.md``.

The file is plain SQLite (the standard library's :mod:`sqlite3`), readable by any
SQLite tool. Its schema version is ``PRAGMA user_version``: a new file is created
at :data:`SCHEMA_VERSION`, an older one is migrated step by step (:data:`MIGRATIONS`,
all steps in one transaction), a newer one is refused. ``PRAGMA application_id``
marks the file as pmosim's, so another program's database is never written into.

Durability and concurrency. Each run is written in one ``BEGIN IMMEDIATE``
transaction with SQLite's rollback journal and ``synchronous = FULL``: a process
killed mid-write leaves a hot journal that the next connection rolls back, so a
run is either wholly there or not at all. Concurrent writers queue on the file
lock (a busy timeout of :data:`BUSY_TIMEOUT_S` seconds, then retries). The
rollback journal, not WAL, because a history file often lives on a shared drive
and WAL needs shared memory that network file systems do not provide.

Examples
--------
>>> import pathlib, tempfile, pmosim
>>> from pmosim import history
>>> p = pmosim.Project("Demo", start="2027-03-01")
>>> p.add_task("a", pmosim.Triangular(2, 3, 8))
>>> r = pmosim.simulate(p, 1000, seed=1)
>>> db = pathlib.Path(tempfile.mkdtemp()) / "pmosim.db"
>>> run_id = history.record_run(r, db, status_date="2027-03-01")
>>> [(run["project_key"], run["seed"], run["status_date"]) for run in history.load_runs(db, "Demo")]
[('Demo', 1, '2027-03-01')]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import sqlite3
import time
import uuid
from pathlib import Path

import numpy as np

from ._version import __version__
from .errors import HistoryError, PmosimError
from .stats import REPORT_PERCENTILES, percentile_key

#: ``PRAGMA application_id`` of a pmosim history file: "pmoh" in ASCII.
APPLICATION_ID = 0x706D6F68
#: File name of the history beside a scenario when none is configured.
DEFAULT_NAME = "pmosim.db"
#: Environment variable naming a history file: every ``pmosim run`` records into it.
ENV_VAR = "PMOSIM_HISTORY"
#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 60.0
#: Finish and cost P-values kept as columns of ``runs`` (every report percentile is in
#: ``run_percentiles``).
RUN_PERCENTILES = (10, 50, 80, 90)
#: Task finish P-values kept in ``run_tasks``.
TASK_PERCENTILES = (50, 80)
#: Sensitivity measures kept in ``run_tasks`` when the run computed them.
TASK_MEASURES = ("si", "ssi", "cri_r", "cri_rho", "cri_tau", "cost_cri_tau")

#: Called inside the write transaction, after every row of the run and before the
#: commit, with the new run id. Tests set it to kill the writer there; None in use.
_IN_TRANSACTION_HOOK = None

_RUN_COLUMNS = (
    "uuid", "recorded_at", "project_key", "project_name", "source", "source_format",
    "status_date", "start_date", "model_hash", "seed", "iterations", "risk_mode",
    "levelling", "n_tasks", "currency", "pmosim_version", "numpy_version", "numba_version",
    "python_version", "elapsed_s",
    "finish_deterministic", "finish_deterministic_date", "finish_mean", "finish_mean_date",
    "finish_std",
    *(f"finish_p{q}" for q in RUN_PERCENTILES), *(f"finish_p{q}_date" for q in RUN_PERCENTILES),
    "cost_deterministic", "cost_mean", "cost_std", *(f"cost_p{q}" for q in RUN_PERCENTILES),
    "target", "target_date", "target_probability", "budget", "budget_probability", "jcl",
    "evm", "warnings", "method", "learned",
)
_TASK_COLUMNS = ("run_id", "position", "task_id", "name", "kind", "criticality",
                 "finish_mean", "finish_std",
                 *(f"finish_p{q}" for q in TASK_PERCENTILES),
                 *(f"finish_p{q}_date" for q in TASK_PERCENTILES), *TASK_MEASURES)

_SCHEMA_V1 = (
    """CREATE TABLE runs (
        run_id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        recorded_at TEXT NOT NULL,
        project_key TEXT NOT NULL,
        project_name TEXT,
        source TEXT,
        source_format TEXT,
        status_date TEXT,
        start_date TEXT,
        model_hash TEXT NOT NULL,
        seed TEXT NOT NULL,
        iterations INTEGER NOT NULL,
        risk_mode TEXT,
        levelling TEXT,
        n_tasks INTEGER NOT NULL,
        currency TEXT,
        pmosim_version TEXT NOT NULL,
        numpy_version TEXT,
        numba_version TEXT,
        python_version TEXT NOT NULL,
        elapsed_s REAL,
        finish_deterministic REAL NOT NULL,
        finish_deterministic_date TEXT,
        finish_mean REAL NOT NULL,
        finish_mean_date TEXT,
        finish_std REAL NOT NULL,
        finish_p10 REAL NOT NULL, finish_p50 REAL NOT NULL,
        finish_p80 REAL NOT NULL, finish_p90 REAL NOT NULL,
        finish_p10_date TEXT, finish_p50_date TEXT, finish_p80_date TEXT, finish_p90_date TEXT,
        cost_deterministic REAL,
        cost_mean REAL,
        cost_std REAL,
        cost_p10 REAL, cost_p50 REAL, cost_p80 REAL, cost_p90 REAL,
        target REAL,
        target_date TEXT,
        target_probability REAL,
        budget REAL,
        budget_probability REAL,
        jcl REAL,
        evm TEXT,
        warnings TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX runs_by_project ON runs (project_key, status_date, recorded_at)",
    """CREATE TABLE run_percentiles (
        run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        quantity TEXT NOT NULL CHECK (quantity IN ('finish', 'cost')),
        level REAL NOT NULL,
        value REAL NOT NULL,
        date TEXT,
        PRIMARY KEY (run_id, quantity, level)
    ) WITHOUT ROWID""",
    """CREATE TABLE run_tasks (
        run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        name TEXT,
        kind TEXT,
        criticality REAL NOT NULL,
        finish_mean REAL NOT NULL,
        finish_std REAL,
        finish_p50 REAL, finish_p80 REAL,
        finish_p50_date TEXT, finish_p80_date TEXT,
        si REAL, ssi REAL, cri_r REAL, cri_rho REAL, cri_tau REAL, cost_cri_tau REAL,
        PRIMARY KEY (run_id, position)
    ) WITHOUT ROWID""",
    "CREATE INDEX run_tasks_by_task ON run_tasks (task_id, run_id)",
)


def _create_v1(conn: sqlite3.Connection) -> None:
    """Version 0 (an empty file) -> 1: the first schema."""
    for statement in _SCHEMA_V1:
        conn.execute(statement)


def _add_method_v2(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: the forecast method of a run from a status update (``plain`` or
    ``bayes``, the learning re-forecast) and what it learned (JSON). Runs recorded
    before keep NULL: not known, although every such run from ``run --status-date`` was
    ``plain``."""
    conn.execute("ALTER TABLE runs ADD COLUMN method TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN learned TEXT")


#: ``MIGRATIONS[k]`` upgrades a history file from schema version ``k`` to ``k + 1``
#: inside the caller's transaction; version 0 is a new, empty file. A schema change
#: appends a step (``ALTER TABLE ... ADD COLUMN``, a new table, a copy into a rebuilt
#: table) and never edits an earlier one: files written by every release migrate.
MIGRATIONS = (_create_v1, _add_method_v2)
#: Schema version this pmosim writes (``PRAGMA user_version``).
SCHEMA_VERSION = len(MIGRATIONS)


# -- opening, checking and migrating a file --------------------------------------------
def _versions(conn) -> tuple[int, int]:
    return (conn.execute("PRAGMA user_version").fetchone()[0],
            conn.execute("PRAGMA application_id").fetchone()[0])


def _check_file(conn, path, steps, tables: bool = True) -> int:
    """The schema version of an open history file; refuse a file that is not pmosim's
    or was written by a newer pmosim. ``tables``: also refuse a version-0 file that
    has tables (another program's) - only inside a transaction, where the version and
    the tables are read from one snapshot: outside one, another process may create the
    schema between the two reads."""
    version, app_id = _versions(conn)
    if app_id not in (0, APPLICATION_ID):
        raise HistoryError(
            f"{path}: not a pmosim run history (an SQLite file of another program, "
            f"application id {app_id:#x}); give another file with --history PATH")
    if version > len(steps):
        raise HistoryError(
            f"{path}: the run history was written by a newer pmosim (schema version "
            f"{version}; this pmosim {__version__} knows versions up to {len(steps)}); "
            "upgrade pmosim (pip install -U pmosim), or record into another file with "
            "--history PATH")
    if version == 0 and tables:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        if names:
            raise HistoryError(
                f"{path}: not a pmosim run history (an SQLite database with the tables "
                f"{', '.join(names[:5])}{' ...' if len(names) > 5 else ''}); give another "
                "file with --history PATH")
    return version


def migrate(conn: sqlite3.Connection, path="history", steps=None) -> int:
    """Bring an open history file to the latest schema version; return that version.

    Every step from the file's version runs in one ``BEGIN IMMEDIATE`` transaction that
    also sets ``user_version`` after each step, so a failed or killed migration leaves
    the file at its old version, and two processes never migrate at once (the second
    finds the file already done).

    Parameters
    ----------
    conn : sqlite3.Connection
        In autocommit mode (``isolation_level=None``), as :func:`connect` opens it.
    path : str or os.PathLike
        The file's name, for messages.
    steps : sequence of callables, optional
        ``steps[k](conn)`` upgrades version ``k`` to ``k + 1`` (default :data:`MIGRATIONS`);
        the target version is ``len(steps)``.

    Raises
    ------
    pmosim.errors.HistoryError
        The file is not a pmosim history, or was written by a newer pmosim.
    """
    steps = MIGRATIONS if steps is None else tuple(steps)
    if _check_file(conn, path, steps, tables=False) == len(steps):
        return len(steps)
    with _transaction(conn, path):
        version = _check_file(conn, path, steps)       # another process may have migrated
        for k in range(version, len(steps)):
            steps[k](conn)
            conn.execute(f"PRAGMA user_version = {k + 1:d}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
    return len(steps)


def connect(path, *, create: bool = True, steps=None) -> sqlite3.Connection:
    """Open the history file ``path``, creating or migrating it to the latest schema.

    Parameters
    ----------
    path : str or os.PathLike
    create : bool
        Create the file when it does not exist; False: a missing file is an error.
    steps : sequence of callables, optional
        The migrations (default :data:`MIGRATIONS`; tests pass their own).

    Returns
    -------
    sqlite3.Connection
        In autocommit mode, with foreign keys on and rows as :class:`sqlite3.Row`;
        the caller closes it.
    """
    path = Path(path)
    if path.is_dir():
        raise HistoryError(f"{path}: is a folder, not a run history file; give a file name "
                           f"such as {path / DEFAULT_NAME}")
    if not create and not path.exists():
        raise HistoryError(f"{path}: no such run history; record runs into it with "
                           f"pmosim run SCENARIO --record --history {path}")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"{path}: cannot create the folder {path.parent}: "
                               f"{exc.strerror or exc}; give another file with --history PATH"
                               ) from None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the run history: {exc}") from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        # the default on most builds; said here because no-partial-run depends on it
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn, path, steps)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise HistoryError(_db_error(path, exc)) from None
    except BaseException:
        conn.close()
        raise
    return conn


def check_history(path) -> None:
    """Refuse, before a long run, a history file that cannot be recorded into: not
    SQLite, another program's database, or written by a newer pmosim. A missing file
    is fine (it is created); nothing is written."""
    path = Path(path)
    if path.is_dir():
        raise HistoryError(f"{path}: is a folder, not a run history file; give a file name "
                           f"such as {path / DEFAULT_NAME}")
    if not path.exists():
        return
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise HistoryError(f"{path}: cannot open the run history: {exc}") from None
    try:
        _check_file(conn, path, MIGRATIONS)
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_db_error(path, exc)) from None
    finally:
        conn.close()


def _db_error(path, exc) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return (f"{path}: not a pmosim run history ({text}); give another file with "
                "--history PATH")
    if "locked" in text or "busy" in text:
        return (f"{path}: the run history stayed locked by another process for more than "
                f"{BUSY_TIMEOUT_S:g} s ({text}); try again when it has finished, or record "
                "into another file with --history PATH")
    if "readonly" in text or "read-only" in text:
        return (f"{path}: cannot write the run history ({text}); make the file and its "
                "folder writable, or give another file with --history PATH")
    return f"{path}: run history: {text}"


@contextlib.contextmanager
def _transaction(conn, path, *, attempts: int = 5):
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: the write lock is taken at the start, so a
    writer waits in the busy handler instead of failing at its first write; the body is
    rolled back on any error. When the lock is still held after the busy timeout, the
    begin is retried a few times (a long writer, or a writer recovering a hot journal)."""
    for attempt in range(attempts):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == attempts - 1:
                raise HistoryError(_db_error(path, exc)) from None
            time.sleep(0.05 * 2 ** attempt)
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise HistoryError(_db_error(path, exc)) from None


# -- recording a run ---------------------------------------------------------------------
def record_run(result, path, *, scenario=None, status_date=None, evm=None, target=None,
               budget=None, project_key=None, elapsed=None, warnings=None) -> int:
    """Record one simulation in the history file ``path``; return its run id.

    The run is written in one transaction: after a crash or a kill the file holds the
    whole run or nothing of it. The file is created (with its folders) when missing.

    Parameters
    ----------
    result : pmosim.SimulationResult or pmosim.reforecast.ReforecastResult
        A forecast from a status update (a model from :func:`pmosim.evm.apply_status` or
        :func:`pmosim.reforecast.apply_learning`) is recorded with its ``method``
        (``plain`` or ``bayes``) and, learning, the factors it learned.
    path : str or os.PathLike
        The SQLite history file (by convention ``pmosim.db`` beside the scenario).
    scenario : str or os.PathLike, optional
        The scenario or schedule file the model came from (stored as an absolute path).
    status_date : datetime.date, datetime.datetime or ISO text, optional
        The status (data) date of the forecast. Default: the model's
        ``meta["status_date"]``, else its ``meta["data_date"]`` (importers set them),
        else none: the trend then places the run at the day it was recorded.
    evm : mapping, optional
        Earned-value indices of the status date (SPI, CPI, SPI(t), EAC, ...), stored as
        a JSON object; values must be JSON-ready (numbers, text, lists, mappings).
    target : float, date, ISO text or mapping, optional
        Target finish (working days, a date counted to the end of its day, or the
        ``{"value": working days}`` mapping of :func:`pmosim.io.json_out.results_dict`):
        stores the probability of meeting it.
    budget : float or mapping, optional
        Cost budget (a number or ``{"value": amount}``; the project must have costs):
        stores the probability of staying within it and, with ``target``, the joint
        confidence level P(finish <= target and cost <= budget).
    project_key : str, optional
        The name the runs of this project are filed under (default: the project's name,
        else the scenario file's stem). Runs with the same key make one trend.
    elapsed : float, optional
        Wall-clock seconds the run took.
    warnings : list of str, optional
        The run's warnings (default ``result.warnings``).

    Returns
    -------
    int
        The new run's ``run_id``.

    Raises
    ------
    pmosim.errors.HistoryError
        The file cannot be created or written, is not a pmosim history, was written by a
        newer pmosim, or stayed locked by another writer for :data:`BUSY_TIMEOUT_S`.
    """
    # a pmosim.reforecast.ReforecastResult: its simulation, whose model names the method
    if hasattr(result, "learned") and hasattr(result, "method"):
        result = result.result
    row, percentiles, tasks = _run_rows(result, scenario=scenario, status_date=status_date,
                                        evm=evm, target=target, budget=budget,
                                        project_key=project_key, elapsed=elapsed,
                                        warnings=warnings)
    conn = connect(path)
    try:
        with _transaction(conn, path):
            try:
                run_id = conn.execute(
                    f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_RUN_COLUMNS))})",
                    [row[c] for c in _RUN_COLUMNS]).lastrowid
                conn.executemany(
                    "INSERT INTO run_percentiles (run_id, quantity, level, value, date) "
                    "VALUES (?, ?, ?, ?, ?)", [(run_id, *p) for p in percentiles])
                conn.executemany(
                    f"INSERT INTO run_tasks ({', '.join(_TASK_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_TASK_COLUMNS))})",
                    [(run_id, *t) for t in tasks])
                if _IN_TRANSACTION_HOOK is not None:
                    _IN_TRANSACTION_HOOK(run_id)
            except sqlite3.DatabaseError as exc:
                raise HistoryError(_db_error(path, exc)) from None
    finally:
        conn.close()
    return run_id


def _iso(value) -> str | None:
    """A status date as ISO text: a date as ``YYYY-MM-DD``, a moment to the second."""
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[s]").item()
    if isinstance(value, _dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise HistoryError(f"status date {value!r} is not a date; give it as YYYY-MM-DD "
                               "(or YYYY-MM-DD HH:MM)") from None
        return parsed.date().isoformat() if len(text) == 10 else _iso(parsed)
    raise HistoryError(f"status date {value!r} is not a date; give a datetime.date, a "
                       "datetime.datetime or ISO text YYYY-MM-DD")


def status_date_of(project):
    """The status date a run of ``project`` is filed under: ``meta["status_date"]``, else
    ``meta["data_date"]`` (an MS Project file without a status date: its start), else None."""
    meta = getattr(project, "meta", None) or {}
    for key in ("status_date", "data_date"):
        if meta.get(key) is not None:
            return meta[key]
    return None


def _number(value, what) -> float:
    if isinstance(value, dict):
        if "value" not in value:
            raise HistoryError(f"{what} {value!r}: a mapping needs a 'value'")
        value = value["value"]
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise HistoryError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(out):
        raise HistoryError(f"{what} {value!r} is not a finite number")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _float(x) -> float | None:
    """A measure as a float; NaN (undefined) as NULL."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _versions_row() -> dict:
    try:
        numba_version = importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        numba_version = None
    return {"pmosim_version": __version__, "numpy_version": np.__version__,
            "numba_version": numba_version, "python_version": platform.python_version()}


def _run_rows(result, *, scenario, status_date, evm, target, budget, project_key, elapsed,
              warnings):
    """The ``runs`` row (a dict), ``run_percentiles`` rows and ``run_tasks`` rows of a run,
    computed before the file is opened so the write lock is held for the writes alone."""
    from .io.json_out import finish_dates
    from .report import model_hash

    project = result.project
    meta = getattr(project, "meta", None) or {}
    name = getattr(project, "name", None)
    key = project_key if project_key is not None else (
        name or (Path(scenario).stem if scenario is not None else None))
    if not isinstance(key, str) or not key.strip():
        raise HistoryError("record_run: the project has no name to file the run under; "
                           "give project_key= (or name the project)")
    start = getattr(project, "start", None)

    def dates(times):
        return finish_dates(project, [max(float(t), 0.0) for t in times]) \
            if start is not None else [None] * len(times)

    fin = result.finish
    qs = list(REPORT_PERCENTILES)
    fin_p = np.atleast_1d(fin.percentile(qs)).astype(float)
    fin_dates = dates(fin_p)
    at = dict(zip(qs, zip(fin_p, fin_dates)))
    det_date, mean_date = dates([fin.deterministic, fin.mean])

    if evm is not None:
        if not isinstance(evm, dict):
            raise HistoryError(f"evm must be a mapping of indices (SPI, CPI, ...), got "
                               f"{type(evm).__name__}")
        try:
            evm_text = json.dumps(evm, ensure_ascii=False, allow_nan=False, sort_keys=True,
                                  default=_json_default)
        except (TypeError, ValueError) as exc:
            raise HistoryError(f"evm: cannot store {evm!r} as JSON ({exc}); give numbers, "
                               "text, lists and mappings (NaN as None)") from None
    else:
        evm_text = None

    row = {
        "uuid": uuid.uuid4().hex,
        "recorded_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
        "project_key": key.strip(),
        "project_name": name,
        "source": str(Path(scenario).resolve()) if scenario is not None else meta.get("source"),
        "source_format": meta.get("format"),
        "status_date": _iso(status_date if status_date is not None
                            else status_date_of(project)),
        "start_date": start.isoformat() if start is not None else None,
        "model_hash": model_hash(project),
        "seed": str(int(result.seed)),
        "iterations": int(result.iterations),
        "risk_mode": result.risk_mode,
        "levelling": (result.levelling.priority if result.levelling is not None else None),
        "n_tasks": len(result.task_ids),
        "currency": meta.get("currency"),
        **_versions_row(),
        "elapsed_s": None if elapsed is None else float(elapsed),
        "finish_deterministic": float(fin.deterministic),
        "finish_deterministic_date": det_date,
        "finish_mean": fin.mean,
        "finish_mean_date": mean_date,
        "finish_std": fin.std,
        "evm": evm_text,
        "warnings": json.dumps(list(result.warnings if warnings is None else warnings),
                               ensure_ascii=False),
        **_method_row(meta),
    }
    for q in RUN_PERCENTILES:
        row[f"finish_p{q}"] = float(at[q][0])
        row[f"finish_p{q}_date"] = at[q][1]
    percentiles = [("finish", float(q), float(v), d) for q, v, d in zip(qs, fin_p, fin_dates)]

    cost = result.cost
    for column in ("cost_deterministic", "cost_mean", "cost_std",
                   *(f"cost_p{q}" for q in RUN_PERCENTILES)):
        row[column] = None
    if cost is not None:
        cost_p = np.atleast_1d(cost.percentile(qs)).astype(float)
        row.update(cost_deterministic=float(cost.deterministic), cost_mean=cost.mean,
                   cost_std=cost.std)
        by_q = dict(zip(qs, cost_p))
        for q in RUN_PERCENTILES:
            row[f"cost_p{q}"] = float(by_q[q])
        percentiles += [("cost", float(q), float(v), None) for q, v in zip(qs, cost_p)]

    row.update(target=None, target_date=None, target_probability=None, budget=None,
               budget_probability=None, jcl=None)
    if target is not None:
        if isinstance(target, str) and _is_number(target):
            target = float(target)
        if isinstance(target, (str, _dt.date, np.datetime64)) and hasattr(fin, "to_time"):
            try:
                t = fin.to_time(target)
            except PmosimError as exc:
                raise HistoryError(f"target {target!r}: {exc}") from None
        else:
            t = _number(target, "target")
        row.update(target=t, target_probability=fin.probability_le(t),
                   target_date=dates([t])[0])
    if budget is not None:
        if cost is None:
            raise HistoryError("budget: the project has no costs to compare with a budget")
        b = _number(budget, "budget")
        row.update(budget=b, budget_probability=cost.probability_le(b))
        if target is not None:
            row["jcl"] = result.jcl(row["target"], b)
    return row, percentiles, _task_rows(result)


def _method_row(meta) -> dict:
    """``method`` and ``learned`` of a run: set by :func:`pmosim.evm.apply_status`
    (``plain``) and :func:`pmosim.reforecast.apply_learning` (``bayes``, with the
    posterior factors) in the model's ``meta["status_applied"]``; NULL for a run not
    from a status update."""
    applied = meta.get("status_applied")
    if not isinstance(applied, dict):
        return {"method": None, "learned": None}
    learned = applied.get("learned")
    return {"method": str(applied.get("method", "plain")),
            "learned": None if learned is None else json.dumps(
                learned, ensure_ascii=False, sort_keys=True, default=_json_default)}


def _task_rows(result) -> list[tuple]:
    from .results import _jsonable_id

    ts = result.tasks
    n = len(result.task_ids)
    pct = np.asarray(ts.finish_percentile(list(TASK_PERCENTILES)), dtype=float).reshape(
        n, len(TASK_PERCENTILES))
    project = result.project
    if getattr(project, "start", None) is not None and n:
        dates = [[d.isoformat() for d in ts.finish_dates(q)] for q in TASK_PERCENTILES]
    else:
        dates = [[None] * n for _ in TASK_PERCENTILES]
    sens = result.sensitivity
    measures = []
    for m in TASK_MEASURES:
        values = getattr(sens, m, None) if sens is not None else None
        measures.append([None] * n if values is None else [_float(v) for v in values])
    kinds = ts.kinds or [None] * n
    return [(i, _jsonable_id(tid), ts.names[i], kinds[i], float(ts.criticality[i]),
             float(ts.finish_mean[i]), _float(ts.finish_std[i]),
             *(_float(pct[i, k]) for k in range(len(TASK_PERCENTILES))),
             *(dates[k][i] for k in range(len(TASK_PERCENTILES))),
             *(col[i] for col in measures))
            for i, tid in enumerate(result.task_ids)]


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (_dt.date, _dt.datetime)):
        return x.isoformat()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON-ready")


# -- reading -----------------------------------------------------------------------------
def list_projects(path) -> list[dict]:
    """The projects in a history file, by name: ``project_key``, ``project_name`` (of the
    latest run), ``runs``, ``first_status_date``, ``last_status_date``, ``last_recorded``."""
    conn = connect(path, create=False)
    try:
        rows = conn.execute(
            "SELECT project_key, COUNT(*) AS runs, MIN(status_date) AS first_status_date, "
            "MAX(status_date) AS last_status_date, MAX(recorded_at) AS last_recorded, "
            "(SELECT project_name FROM runs AS r WHERE r.project_key = runs.project_key "
            " ORDER BY recorded_at DESC, run_id DESC LIMIT 1) AS project_name "
            "FROM runs GROUP BY project_key ORDER BY project_key").fetchall()
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_db_error(path, exc)) from None
    finally:
        conn.close()
    return [dict(r) for r in rows]


def load_runs(path, project_key=None, *, tasks: bool = False) -> list[dict]:
    """The recorded runs of a project (every project with ``project_key=None``), oldest
    status date first; runs without a status date at the day they were recorded; runs of
    one day in the order they were recorded.

    Each run is a dict of the ``runs`` columns (docs/history.md) with ``seed`` as an
    int, ``evm``, ``learned`` and ``warnings`` decoded from JSON, ``percentiles``
    (``{"finish": {"P1": ..}, "finish_dates": {"P1": ..} or None, "cost": {..} or
    None}``: every report percentile) and, with ``tasks=True``, ``tasks``: the
    ``run_tasks`` rows in node order.
    """
    conn = connect(path, create=False)
    try:
        where, args = ("WHERE project_key = ?", (project_key,)) if project_key is not None \
            else ("", ())
        runs = [dict(r) for r in conn.execute(
            f"SELECT * FROM runs {where} ORDER BY COALESCE(status_date, "
            "substr(recorded_at, 1, 10)), recorded_at, run_id", args)]
        by_id = {run["run_id"]: run for run in runs}
        for run in runs:
            run["seed"] = int(run["seed"])
            run["evm"] = json.loads(run["evm"]) if run["evm"] is not None else None
            run["warnings"] = json.loads(run["warnings"])
            run["learned"] = json.loads(run["learned"]) if run["learned"] is not None else None
            run["percentiles"] = {"finish": {}, "finish_dates": None, "cost": None}
        if by_id:
            marks = ", ".join("?" * len(by_id))
            for r in conn.execute(
                    f"SELECT * FROM run_percentiles WHERE run_id IN ({marks}) "
                    "ORDER BY run_id, quantity, level", tuple(by_id)):
                pct = by_id[r["run_id"]]["percentiles"]
                name = percentile_key(r["level"])
                if r["quantity"] == "finish":
                    pct["finish"][name] = r["value"]
                    if r["date"] is not None:
                        pct["finish_dates"] = pct["finish_dates"] or {}
                        pct["finish_dates"][name] = r["date"]
                else:
                    pct["cost"] = pct["cost"] or {}
                    pct["cost"][name] = r["value"]
            if tasks:
                for run in runs:
                    run["tasks"] = []
                for r in conn.execute(
                        f"SELECT * FROM run_tasks WHERE run_id IN ({marks}) "
                        "ORDER BY run_id, position", tuple(by_id)):
                    row = dict(r)
                    del row["run_id"]
                    by_id[r["run_id"]]["tasks"].append(row)
    except sqlite3.DatabaseError as exc:
        raise HistoryError(_db_error(path, exc)) from None
    finally:
        conn.close()
    return runs


def drift_points(runs) -> list[dict]:
    """The runs a forecast-drift chart shows: the latest recorded run of each status date
    (a re-run at the same status date replaces the earlier forecast), in date order."""
    latest = {}
    for run in runs:
        when = run_date(run)
        best = latest.get(when)
        if best is None or (run["recorded_at"], run["run_id"]) > (best["recorded_at"],
                                                                   best["run_id"]):
            latest[when] = run
    return [latest[k] for k in sorted(latest)]


def run_date(run) -> _dt.date:
    """The date a run stands at in a trend: its status date, else the day it was recorded
    (UTC)."""
    return _dt.date.fromisoformat((run.get("status_date") or run["recorded_at"])[:10])


def trend_dict(runs, *, project_key, path) -> dict:
    """The JSON document of ``pmosim history --json``: a project's runs in trend order
    (format in docs/history.md)."""
    out = []
    for run in runs:
        pct = run["percentiles"]
        finish = {"deterministic": run["finish_deterministic"], "mean": run["finish_mean"],
                  "std": run["finish_std"], "percentiles": pct["finish"]}
        if pct["finish_dates"] is not None:
            finish.update(dates=pct["finish_dates"],
                          deterministic_date=run["finish_deterministic_date"],
                          mean_date=run["finish_mean_date"])
        cost = None
        if pct["cost"] is not None:
            cost = {"deterministic": run["cost_deterministic"], "mean": run["cost_mean"],
                    "std": run["cost_std"], "percentiles": pct["cost"]}
        entry = {
            "run_id": run["run_id"], "uuid": run["uuid"], "recorded_at": run["recorded_at"],
            "status_date": run["status_date"], "trend_date": run_date(run).isoformat(),
            "project_name": run["project_name"], "source": run["source"],
            "source_format": run["source_format"], "start": run["start_date"],
            "model_hash": run["model_hash"], "seed": run["seed"],
            "iterations": run["iterations"], "risk_mode": run["risk_mode"],
            "levelling": run["levelling"], "n_tasks": run["n_tasks"],
            "currency": run["currency"], "elapsed_s": run["elapsed_s"],
            "versions": {k: run[f"{k}_version"] for k in ("pmosim", "numpy", "numba", "python")},
            "finish": finish, "cost": cost,
            "target": None if run["target"] is None else {
                "value": run["target"], "date": run["target_date"],
                "probability": run["target_probability"]},
            "budget": None if run["budget"] is None else {
                "value": run["budget"], "probability": run["budget_probability"]},
            "jcl": run["jcl"], "evm": run["evm"], "method": run["method"],
            "learned": run["learned"], "warnings": run["warnings"],
        }
        if "tasks" in run:
            entry["tasks"] = run["tasks"]
        out.append(entry)
    return {"pmosim_version": __version__, "history": str(path), "project": project_key,
            "schema_version": SCHEMA_VERSION, "runs": out}


def default_history_path(source) -> Path:
    """``pmosim.db`` in the folder of the scenario or schedule file ``source``."""
    return Path(source).parent / DEFAULT_NAME


def check_writable(path, what: str) -> None:
    """Refuse a history file whose folder cannot be written (SQLite writes its journal
    beside the file), naming ``what`` (the option or setting that chose it) and the fix."""
    path = Path(path)
    if path.is_dir():
        raise HistoryError(f"{what}: {path} is a folder, not a run history file; give a file "
                           f"name such as {path / DEFAULT_NAME}")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent          # the folders missing below it will be created
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise HistoryError(
            f"{what}: cannot write the run history {path}: the folder {folder} is not "
            "writable; record into another file with --history PATH")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise HistoryError(
            f"{what}: cannot write the run history {path}: the file is read-only; make it "
            "writable or record into another file with --history PATH")


__all__ = ["record_run", "load_runs", "list_projects", "connect", "migrate", "check_history",
           "check_writable", "drift_points", "run_date", "trend_dict", "status_date_of",
           "default_history_path", "SCHEMA_VERSION", "MIGRATIONS", "DEFAULT_NAME", "ENV_VAR"]

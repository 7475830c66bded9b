"""The ``pmosim`` command line: a thin click layer over the library.

Commands parse their arguments, call :func:`pmosim.load`, :func:`pmosim.simulate`
and :func:`pmosim.cpm`, and print. Every :class:`~pmosim.errors.PmosimError`
becomes a one-line ``Error: ...`` and exit status 1 (no traceback); click's own
usage errors (a bad option value) exit with status 2. Files are written
atomically, and nothing in an existing ``--out`` folder is deleted.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import importlib.resources
import math
import os
import sys
import threading
import time
from pathlib import Path

import click
import numpy as np

from ._version import __version__
from .backends import BACKENDS
from .errors import ModelError, PmosimError
from .evm import ACCRUALS, BASES

#: Files ``pmosim run`` writes into ``--out``.
RESULTS_JSON = "results.json"
FINISH_PNG = "finish.png"
CRITICALITY_PNG = "criticality.png"
COST_PNG = "cost.png"
JCL_PNG = "jcl.png"
CASHFLOW_PNG = "cashflow.png"
TORNADO_PNG = "tornado.png"
RESOURCES_PNG = "resources.png"
SENSITIVITY_PNG = "sensitivity.png"
GANTT_PNG = "gantt.png"
#: Every file ``run`` may write into --out.
RUN_OUTPUTS = (RESULTS_JSON, FINISH_PNG, CRITICALITY_PNG, COST_PNG, JCL_PNG, CASHFLOW_PNG,
               TORNADO_PNG, RESOURCES_PNG)
#: The overlaid S-curves of ``run --compare``.
COMPARE_PNG = "compare.png"
RUN_OUTPUTS += (COMPARE_PNG,)
#: Joint confidence level whose frontier the summary prints (NASA's 70% JCL).
JCL_LEVEL = 0.7
#: Runs expected to take longer than this (seconds) get a progress bar.
PROGRESS_AFTER_S = 1.0
SUMMARY_PERCENTILES = (10, 50, 80, 90)
TOP_TASKS = 10


def default_scenario() -> Path:
    """Path of the scenario bundled with pmosim (package data)."""
    return Path(str(importlib.resources.files("pmosim") / "data" / "default.toml"))


@contextlib.contextmanager
def _errors_as_click():
    """Turn library errors and failed writes into ``Error: ...`` with exit status 1."""
    try:
        yield
    except PmosimError as exc:
        raise click.ClickException(str(exc)) from None
    except BrokenPipeError:
        raise                    # `pmosim run | head`: click exits quietly
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from None


@contextlib.contextmanager
def _about(source):
    """Prefix errors about the model (which do not know its file) with the file name."""
    try:
        yield
    except PmosimError as exc:
        text = str(exc)
        if text.startswith(f"{source}: "):
            raise
        raise click.ClickException(f"{source}: {text}") from None


def _friendly(command):
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with _errors_as_click():
            return command(*args, **kwargs)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pmosim",
                      message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, hidden=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: _DEBUG.append(True) if value else None,
              help="Show the Python traceback of an internal error.")
def cli():
    """Monte Carlo schedule risk analysis of task networks.

    \b
    Examples:
      pmosim run                                  # the bundled example scenario
      pmosim run scenarios/software-release.toml -n 20000 --seed 7 --out results
      pmosim validate scenarios/building-fit-out.toml
      pmosim cpm scenarios/building-fit-out.toml
      pmosim check plan.xer --strict              # DCMA 14-point schedule health check
      pmosim report scenarios/office-move-risks.toml -o report.html   # one HTML file to send
      pmosim run plan.xer --record; pmosim history plan.xer   # how the forecast moves
      pmosim warmup                               # compile the kernels ahead of a first run

    Scenario files are TOML (docs/scenario-format.md); MS Project XML (.xml),
    Primavera XER (.xer) and XML (PMXML, .xml), PSPLIB (.sm) and DSLIB (.xlsx) files
    are read too.
    """


#: Set by the hidden ``--debug`` option: internal errors show their traceback.
_DEBUG: list = []

#: Exit status after Ctrl-C (128 + SIGINT), as shells report an interrupted command.
EXIT_INTERRUPTED = 130


def main(argv=None):
    """Entry point of the ``pmosim`` console script.

    Errors print ``Error: ...`` and exit 1 (2 for usage errors), as click does; Ctrl-C
    exits 130, not click's 1, so scripts can tell an interrupted run from a failed one.
    """
    import signal

    def terminated(signum, frame):
        # a SystemExit unwinds every `finally`: partial outputs and temp files go
        sys.exit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)
    try:
        status = cli.main(args=argv, prog_name="pmosim", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _DEBUG:
            raise
        # a bug of pmosim, not of the input: one line, and how to see more
        click.echo(f"Error: internal error: {type(exc).__name__}: {exc}. Please report it "
                   "with the input; run with --debug (pmosim --debug COMMAND ...) for the "
                   "traceback.", err=True)
        sys.exit(1)
    # --help and --version return their status; a command returns None
    sys.exit(status if isinstance(status, int) else 0)


# -- helpers --------------------------------------------------------------------------
def _load(scenario):
    """Load SCENARIO with the running command's --format and --uncertainty, if it has them."""
    from . import load
    from .io import detect_format
    fmt, rules = _input_settings()
    cost_rules = _cost_rules()
    # detected here so that a message names the command line's --format, not format=
    project = load(scenario, format=detect_format(scenario, fmt, option="--format"))
    if rules:
        from .uncertainty import apply_uncertainty
        project = apply_uncertainty(project, list(rules))
        for warning in project.meta["uncertainty"]["warnings"]:
            click.echo(f"Warning: {warning}", err=True)
    if cost_rules:
        project = _apply_cost_uncertainty(scenario, project, cost_rules)
    return project


_INPUT_KEY = "pmosim.input"
FORMAT_HELP = ("Format of the input when its extension does not say it: toml, mspdi (MS "
               "Project XML), pmxml (Primavera P6 XML), xer (Primavera P6), psplib (.sm) or "
               "dslib (.xlsx).")
UNCERTAINTY_HELP = (
    "Relative range on the tasks' planned durations, e.g. 'triangular(-10%, 0, +25%)', "
    "'uniform(-10%, +20%)', 'pert(...)', 'trigen(..., P10, P90)'; filter with wbs=CODE, "
    "id=GLOB or FIELD=VALUE before it: 'wbs=1.2: pert(-5%, 0, +40%)'. Repeat for more rules "
    "(a later rule wins). Tasks with their own distribution, milestones and completed tasks "
    "keep theirs.")
_COST_KEY = "pmosim.cost_uncertainty"
COST_UNCERTAINTY_HELP = (
    "Relative range on the tasks' costs (cost_fixed and cost_rate), in the --uncertainty "
    "syntax: e.g. 'pert(-10%, 0, +30%)', 'wbs=1.2: triangular(-5%, 0, +50%)'. Repeat for more "
    "rules (a later rule wins). Only the remaining cost is uncertain: the actual cost of "
    "progressed tasks stays; completed tasks and costs with their own distribution keep theirs.")


def _input_settings():
    """(--format, --uncertainty rules) of the running command; (None, ()) without them."""
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(_INPUT_KEY) if ctx is not None else None) or (None, ())


def _input_options(command):
    """Add --format, --uncertainty and --cost-uncertainty to a command that reads its input
    through _load."""
    @functools.wraps(command)
    def wrapper(*args, fmt=None, uncertainty=(), cost_uncertainty=(), **kwargs):
        ctx = click.get_current_context()
        ctx.meta[_INPUT_KEY] = (fmt, tuple(uncertainty))
        ctx.meta[_COST_KEY] = tuple(cost_uncertainty)
        return command(*args, **kwargs)
    wrapper = click.option("--cost-uncertainty", "cost_uncertainty", multiple=True,
                           metavar="SPEC", help=COST_UNCERTAINTY_HELP)(wrapper)
    wrapper = click.option("--uncertainty", multiple=True, metavar="SPEC",
                           help=UNCERTAINTY_HELP)(wrapper)
    return click.option("--format", "fmt", metavar="FORMAT", default=None,
                        help=FORMAT_HELP)(wrapper)


def _reads_as_scenario(path) -> bool:
    from .io import detect_format
    try:
        return detect_format(path, _input_settings()[0]) == "toml"
    except PmosimError:
        return False


def _calendar(project):
    from .calendar import WorkCalendar
    return project.calendar or WorkCalendar()


def _finish_date(project, t) -> str:
    if project.start is None:
        return ""
    return str(_calendar(project).finish_dates(project.start, max(float(t), 0.0)))


def _parse_target(text: str, project) -> dict:
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not math.isfinite(value):
            raise click.BadParameter(f"{text!r} is not a finite number", param_hint="'--target'")
        if value < 0:
            raise click.BadParameter(f"{text!r} is before the project start (working day 0); "
                                     "give working days from the start", param_hint="'--target'")
        return {"value": value, "given": text}
    try:
        day = _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a number of working days (e.g. 120) nor a date "
            "(e.g. 2027-06-30)", param_hint="'--target'") from None
    if project.start is None:
        raise click.ClickException(
            f"--target {text}: a target date needs the project start date; set start under "
            "[project] in the scenario, or give the target in working days")
    value = _calendar(project).working_time(project.start, day, at="end")
    if day < project.start:
        # a negative time wrecked the finish chart's axis and meant nothing
        raise click.BadParameter(
            f"{text} is before the project start {project.start.isoformat()}; give a target "
            "date on or after it", param_hint="'--target'")
    return {"value": float(value), "given": text}


class _Progress:
    """``progress(done, total)`` callback that shows a bar once a run has taken a second.

    A timer, not the first callback, opens the bar: the first block of a fresh
    install includes compiling the kernels, and the user should see that the run
    is alive. Nothing is shown when ``file`` is not a terminal.
    """

    def __init__(self, file, total: int):
        self.file = file
        self.total = total
        self.bar = None
        self.done = 0
        self.shown = 0
        self.lock = threading.Lock()
        self.held = False
        self.timer = None
        if file.isatty():
            self.timer = threading.Timer(PROGRESS_AFTER_S, self._open)
            self.timer.daemon = True
            self.timer.start()

    def hold(self):
        """No bar while the kernels compile (the compile notice says what is going on)."""
        with self.lock:
            self.held = True

    def release(self):
        with self.lock:
            self.held = False
            if self.bar is None and self.timer is not None and self.done < self.total:
                self.timer = threading.Timer(PROGRESS_AFTER_S, self._open)
                self.timer.daemon = True
                self.timer.start()

    def _open(self):
        with self.lock:
            if self.bar is None and not self.held and self.done < self.total:
                self.bar = click.progressbar(length=self.total, label="Simulating",
                                             file=self.file, show_eta=True, show_percent=True)
                self.bar.__enter__()
                self._render()

    def _render(self):
        self.bar.update(self.done - self.shown)
        self.shown = self.done

    def __call__(self, done, total):
        with self.lock:
            self.done = done
            if self.bar is not None:
                self._render()

    def close(self):
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            if self.bar is not None:
                self.bar.__exit__(None, None, None)
                self.bar = None
            self.done = self.total


class _CompileNotice:
    """Says on standard error when numba compiles kernels (a model kind's first run on
    this machine), and holds the progress bar meanwhile, so a first run never looks
    frozen; silent when the kernels load from the cache. A run may compile in several
    stretches (the deterministic pass, then the simulation kernels): the notice is
    given once, and the total time at the end."""

    def __init__(self, progress=None):
        self.progress = progress
        self.depth = 0
        self.t0 = None
        self.seconds = 0.0
        self.listener = None

    def __enter__(self):
        from numba.core import event

        notice = self

        class Listener(event.Listener):
            def on_start(self, ev):
                notice._start()

            def on_end(self, ev):
                notice._end()

        self.listener = Listener()
        event.register("numba:compile", self.listener)
        return self

    def __exit__(self, *exc):
        from numba.core import event
        event.unregister("numba:compile", self.listener)
        if self.seconds > 0:
            click.echo(f"Compiled the kernels in {self.seconds:.0f} s.", err=True)

    def _start(self):
        self.depth += 1
        if self.depth == 1:
            if self.t0 is None:
                click.echo("Compiling the simulation kernels for this kind of model (first run "
                           "only, 10-60 s; later runs load them from the cache) ...", err=True)
            self.t0 = time.perf_counter()
            if self.progress is not None:
                self.progress.hold()

    def _end(self):
        self.depth -= 1
        if self.depth == 0:
            self.seconds += time.perf_counter() - self.t0
            if self.progress is not None:
                self.progress.release()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fmt_days(t) -> str:
    return f"{t:,.1f}"


# -- run ------------------------------------------------------------------------------
def _convergence_options(command):
    """``--precision``, ``--max-iterations`` and ``--compare`` of ``run``."""
    command = click.option(
        "--compare", "compare_modes", metavar="MODES", default=None,
        help="Run these risk registers on the same random numbers and compare them: "
             "pre,post (mitigation), pre,none or pre,post,none (at least two, in that order "
             "of columns; the first is the baseline of the deltas). Prints P-values side by "
             f"side with deltas, adds 'compare' to the JSON and writes {COMPARE_PNG}; the rest "
             "of the report is the first register's. Not with --risks or --precision.")(command)
    command = click.option(
        "--max-iterations", type=click.IntRange(min=1), default=None, metavar="N",
        help="With --precision: the most iterations to run (default 1,000,000); if the "
             "P80 is still not that precise, the run says so and keeps the result.")(command)
    return click.option(
        "--precision", type=float, default=None, metavar="DAYS",
        help="Run until the 95% confidence interval of the P80 finish is at most DAYS "
             "working days wide (full width: 1 means about +-0.5), starting at -n if given "
             "(else 2,048 iterations) and growing by the 1/sqrt(n) law, up to "
             "--max-iterations. Deterministic for a seed: the run is the same as -n with "
             "the iterations it prints.")(command)


def _levelling_options(command):
    """``--levelling`` and ``--priority`` (default: the scenario's own settings)."""
    from .layout import LEVELLING_SCHEMES, PRIORITY_RULES
    command = click.option(
        "--priority", type=click.Choice(PRIORITY_RULES), default=None,
        help="Levelling priority rule (default: priority under [project], else lft): latest "
             "finish, latest start, minimum slack, most total successors, greatest rank "
             "positional weight, shortest duration, the plan's order, the tasks' priority, "
             "or 'plan': the list of the best plan an improvement search finds.")(
        command)
    return click.option(
        "--levelling", type=click.Choice((*LEVELLING_SCHEMES, "none")), default=None,
        help="Level resources in every iteration (serial schedule generation scheme), or "
             "not (none). Default: levelling under [project], else none.")(command)


_TASK_OUTPUTS_KEY = "pmosim.task_outputs"


def _task_output_options(command):
    """``--csv``, ``--xlsx``, ``--milestone``, ``--write-back`` and ``--write-back-fields``
    of ``run``; kept in the context (see :func:`_task_outputs`), not in the signature."""
    names = ("csv_file", "xlsx_file", "milestones", "write_back", "write_back_fields")

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        click.get_current_context().meta[_TASK_OUTPUTS_KEY] = {
            k: kwargs.pop(k) for k in names}
        return command(*args, **kwargs)
    options = [
        click.option("--write-back-fields", metavar="LIST", default=None,
                     help="P-dates --write-back writes, comma-separated (default: 'P50 start, "
                          "P80 start, P10 finish, P50 finish, P80 finish, P90 finish')."),
        click.option("--write-back", metavar="FILE", default=None,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the P-dates back for the scheduling tool: for an MS Project "
                          "XML input a copy of it (.xml) with custom date fields 'pmosim P80 "
                          "Finish' ...; for a Primavera XER input a P6 spreadsheet (.xlsx, "
                          "or .csv) keyed on the activity ID. The input is never changed."),
        click.option("--milestone", "milestones", multiple=True, metavar="ID",
                     help="Print the P-dates of this task or milestone (start and finish "
                          "P10/P50/P80/P90, the plan, the chance of meeting it); repeatable."),
        click.option("--xlsx", "xlsx_file", metavar="FILE", default=None,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the task results as an Excel workbook "
                          "(pip install 'pmosim[xlsx]')."),
        click.option("--csv", "csv_file", metavar="FILE", default=None,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the task results (P-dates, criticality, sensitivity) "
                          "as CSV (docs/results-format.md)."),
    ]
    for option in options:
        wrapper = option(wrapper)
    return wrapper


_REPORT_KEY = "pmosim.report"
REPORT_SUFFIXES = (".html", ".htm")


def _report_option(command):
    """``--report FILE`` of ``run``: kept in the context (see :func:`_report_file`), not in
    the signature."""
    @functools.wraps(command)
    def wrapper(*args, report_file=None, **kwargs):
        click.get_current_context().meta[_REPORT_KEY] = report_file
        return command(*args, **kwargs)
    return click.option(
        "--report", "report_file", metavar="FILE", default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also write the HTML report (one self-contained file, as 'pmosim report' "
             "writes it).")(wrapper)


def _report_file():
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_REPORT_KEY) if ctx is not None else None


_HISTORY_KEY = "pmosim.history"


def _history_options(command):
    """``--record/--no-record`` and ``--history PATH`` of ``run``: kept in the context
    (see :func:`_history_setting`), not in the signature."""
    @functools.wraps(command)
    def wrapper(*args, record=None, history_file=None, **kwargs):
        click.get_current_context().meta[_HISTORY_KEY] = (record, history_file)
        return command(*args, **kwargs)
    wrapper = click.option(
        "--history", "history_file", metavar="PATH", default=None,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The run history file (SQLite) to record into; implies --record. Default: "
             "[project] history in the scenario, else $PMOSIM_HISTORY, else pmosim.db "
             "beside the scenario.")(wrapper)
    return click.option(
        "--record/--no-record", "record", default=None,
        help="Record the run in the run history (see 'pmosim history'). Runs are recorded "
             "anyway when a history file is configured ([project] history, "
             "$PMOSIM_HISTORY or --history); --no-record skips it.")(wrapper)



_STATUS_DATE_KEY = "pmosim.status_date"


def _status_date_option(command):
    """``--status-date DATE`` of ``run``: kept in the context (see :func:`_status_date`),
    not in the signature."""
    @functools.wraps(command)
    def wrapper(*args, status_date=None, **kwargs):
        click.get_current_context().meta[_STATUS_DATE_KEY] = status_date
        return command(*args, **kwargs)
    return click.option(
        "--status-date", "status_date", metavar="DATE", default=None,
        help="Re-forecast from a status update of the scenario's [status] (or a DSLIB "
             "workbook's tracking periods): the latest on or before DATE (YYYY-MM-DD), or "
             "'latest'. Finished tasks keep their actual dates and costs, tasks in progress "
             "their remaining duration, and nothing starts before the status date.")(wrapper)


_LEARN_KEY = "pmosim.learn"


def _learn_options(command):
    """``--learn`` and ``--learn-groups`` of ``run``: kept in the context (see
    :func:`_status_date`), not in the signature."""
    @functools.wraps(command)
    def wrapper(*args, learn=False, learn_groups=None, **kwargs):
        click.get_current_context().meta[_LEARN_KEY] = (learn, learn_groups)
        return command(*args, **kwargs)
    wrapper = click.option(
        "--learn-groups", "learn_groups", type=click.Choice(["wbs"]), default=None,
        help="With --learn: a factor per WBS element (each task's parent WBS code), pooled "
             "with the project's.")(wrapper)
    return click.option(
        "--learn", "learn", is_flag=True,
        help="With --status-date: learn from the finished and in-progress tasks how the "
             "project performs against its plan (a Bayesian performance factor for the "
             "durations, and for the costs when actual costs are reported) and carry it, "
             "with its uncertainty, into the remaining work (docs/tracking.md).")(wrapper)


@cli.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_input_options
@click.option("-n", "--iterations", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Number of Monte Carlo iterations.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed (any integer >= 0); the same seed gives the same results "
                   "bit for bit. Default: a fresh seed, printed so the run can be repeated.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Worker threads (default: all CPUs). Results do not depend on it.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default="pmosim-out", show_default=True,
              help=f"Folder for {RESULTS_JSON}, {FINISH_PNG}, {CRITICALITY_PNG} and, when "
                   f"relevant, {COST_PNG}, {JCL_PNG}, {CASHFLOW_PNG}, {TORNADO_PNG} (created "
                   "if needed; other files in it are left alone).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True),
              default=None,
              help="Also write the results JSON to FILE; '-' prints it to standard output "
                   "(the summary then goes to standard error).")
@click.option("--target", metavar="DATE_OR_NUMBER", default=None,
              help="Target finish: a date (YYYY-MM-DD, met when finishing by the end of that "
                   "day) or working days from the start; reports the chance of meeting it.")
@click.option("--budget", metavar="AMOUNT", default=None,
              help="Cost budget (default: budget under [project]); reports the chance of "
                   "staying within it and, with --target, the joint confidence level (JCL).")
@click.option("--risks", "risk_mode", type=click.Choice(["pre", "post", "none"]),
              default="pre", show_default=True,
              help="Risk register to use: before mitigation, after it (mitigated values), or "
                   "no risk events (drivers stay). All use the same random numbers.")
@click.option("--rank-risks", is_flag=True,
              help=f"Rank risk events and drivers by how much switching each off moves the "
                   f"finish (one extra run per risk); prints the tornado, writes {TORNADO_PNG}.")
@click.option("--rank-percentile", type=click.FloatRange(0, 100), default=80.0,
              show_default=True, help="Finish percentile the --rank-risks tornado ranks by.")
@click.option("--backend", type=click.Choice(BACKENDS), default="threads",
              show_default=True,
              help="Where the iterations run: this machine's threads, or a Dask distributed "
                   "cluster (pip install 'pmosim[dask]'). Results are the same bits on both.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="With --backend dask: the scheduler address (tcp://host:8786, from "
                   "'dask scheduler'); default: a local cluster on this machine.")
@_levelling_options
@_convergence_options
@_task_output_options
@_report_option
@_history_options
@_status_date_option
@_learn_options
@_friendly
def run(scenario, iterations, seed, threads, out_dir, json_file, target, budget, risk_mode,
        rank_risks, rank_percentile, backend, scheduler, levelling, priority, precision,
        max_iterations, compare_modes):
    """Simulate SCENARIO and report finish percentiles, dates, critical tasks, risks and cost.

    Without SCENARIO, runs the bundled example scenario. Writes results.json,
    finish.png (histogram and S-curve), criticality.png, sensitivity.png (the
    cruciality tornado) and gantt.png (probabilistic Gantt of the key tasks) into
    --out; with costs
    also cost.png, jcl.png (finish against cost) and cashflow.png; with
    --rank-risks tornado.png; levelled (--levelling serial, or levelling under
    [project]) resources.png, and the unlevelled finish beside the levelled one.

    \b
    Examples:
      pmosim run
      pmosim run scenarios/data-centre-migration.toml -n 50000 --seed 42
      pmosim run plan.toml --target 2027-09-30 --out results --json -
      pmosim run scenarios/office-move-risks.toml --target 2027-10-29 --budget 2400000
      pmosim run scenarios/office-move-risks.toml --risks post --rank-risks
      pmosim run scenarios/office-move-risks.toml --compare pre,post --target 2027-11-30
      pmosim run plan.toml --precision 1 --seed 7   # until P80 is known to +-0.5 days
      pmosim run plan.toml -n 1000000 --backend dask --scheduler tcp://10.0.0.5:8786
      pmosim run j1201_1.sm --levelling serial --priority lft
      pmosim run scenarios/office-move-risks.toml --report report.html
      pmosim run plan.toml --status-date latest   # from the last [status] update
      pmosim run plan.toml --status-date latest --learn   # learning from the actuals
      pmosim run plan.xer --record          # into pmosim.db beside plan.xer
    """
    from . import simulate
    from .io.json_out import results_dict, write_json

    to_stdout = json_file == "-"
    say = functools.partial(click.echo, err=to_stdout)
    if scenario is None:
        scenario = default_scenario()
        say(f"No SCENARIO given: running the bundled default scenario {scenario}")
    project = _load(scenario)
    project, status_row = _status_date(say, scenario, project)
    target_spec = _parse_target(target, project) if target is not None else None
    budget_spec = _parse_budget(budget, project)
    _require_costs(budget, budget_spec, scenario, project)
    inputs = _input_paths(scenario, project)
    _check_task_outputs(scenario, project, inputs)
    report_file = _report_file()
    if report_file is not None:
        _check_report_path("--report", report_file, inputs)
    history_at = _history_setting(scenario, project, inputs)
    outputs = [("--json", Path(json_file))] if json_file not in (None, "-") else []
    outputs += [("--out", out_dir / name) for name in RUN_OUTPUTS]
    for option, path in outputs:
        if _same_file(path, inputs):
            raise click.ClickException(
                f"{option} {path} is an input of this run (the scenario or its task CSV); "
                "it would be overwritten with results: write them to another file")
    for option, folder in {("--out", out_dir), *((o, p.parent) for o, p in outputs[:1]
                                                  if o == "--json")}:
        _check_writable(option, folder)
    _check_rank_risks(scenario, project, rank_risks, risk_mode)
    plan = _run_plan(scenario, project, iterations, risk_mode, precision, max_iterations,
                     compare_modes)

    _check_backend(backend, scheduler, threads)
    from .backends import get_backend

    _health_line(say, scenario, project)
    progress = _Progress(sys.stderr, iterations) if plan is None else _RunsProgress(sys.stderr)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_out_lock(out_dir))
        plotter = stack.enter_context(_PlotWorker())
        if backend == "dask":
            say("Starting a local Dask cluster ..." if scheduler is None
                else f"Connecting to the Dask scheduler at {scheduler} ...")
        runner = get_backend(backend, threads=threads, scheduler=scheduler)
        stack.callback(runner.close)
        try:
            with _about(scenario), _CompileNotice(progress):
                if plan is None:
                    result = simulate(project, iterations, seed=seed, progress=progress,
                                      risks=risk_mode, backend=runner, levelling=levelling,
                                      priority=priority)
                else:
                    result = plan.run(project, seed=seed, progress=progress, risks=risk_mode,
                                      backend=runner, levelling=levelling, priority=priority)
        finally:
            progress.close()
        _check_result_has_costs(scenario, budget, budget_spec, result)
        ranking = None
        if rank_risks:
            ranking = _rank_risks(scenario, project, result, rank_percentile, runner,
                                  levelling, priority)
        elapsed = time.perf_counter() - t0
        doc = results_dict(result, scenario=scenario, target=target_spec, budget=budget_spec,
                           ranking=ranking)
        if plan is not None:
            doc.update(plan.sections(target_spec, budget_spec))
        if status_row is not None:
            doc["evm"] = status_row
            doc["reforecast"] = _reforecast_doc(project)
        plotter.start(result, out_dir, doc, ranking)
        written = [write_json(doc, out_dir / RESULTS_JSON)]
        if json_file is not None and not to_stdout:
            json_written = write_json(doc, json_file)
        written += plotter.finish()
        if plan is not None and plan.comparison is not None:
            written.append(plan.write_png(out_dir, target_spec))
        if json_file is not None and not to_stdout:
            written.append(json_written)

    if to_stdout:
        import json
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    _loud_warnings(doc["warnings"])
    _summary(say, project, scenario, result, doc, elapsed)
    _levelling_summary(say, result)
    _risk_summary(say, result, ranking)
    _cost_summary(say, project, result, doc)
    _imported_cost_summary(say, project)
    if plan is not None:
        plan.summary(say, project, doc)
    _resolution_warning(result, doc, plan)
    written += _task_outputs(say, scenario, project, result)
    if report_file is not None:
        status = None if status_row is None else {"evm": status_row,
                                                  "reforecast": doc["reforecast"]}
        written.append(_write_report_file("--report", report_file, scenario, result,
                                          target_spec, budget_spec, ranking, status))
    say("Wrote " + ", ".join(str(p) for p in written))
    if history_at is not None:
        # last, so that a run whose outputs failed is not in the history
        say(_record_run(history_at, result, scenario, doc, elapsed))


#: The lock file ``run`` holds in --out while it runs (hidden; removed at the end).
OUT_LOCK = ".pmosim.lock"


@contextlib.contextmanager
def _out_lock(out_dir: Path):
    """Hold an exclusive lock on ``out_dir`` for the whole run: two runs writing into
    one folder would leave a mix of their files. A second run is refused at once.

    The lock file is removed at the end, before the lock is released; a run that
    finds it has locked a file already removed (it opened it just before) opens the
    new one, so two runs never hold "the" lock at once."""
    try:
        import fcntl
    except ImportError:          # not on POSIX: no lock
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / OUT_LOCK
    while True:
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "unknown"
            fh.close()
            raise click.ClickException(
                f"--out {out_dir}: another pmosim run (process {other}) is writing into this "
                "folder; wait for it to finish or choose another --out") from None
        try:
            if os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        fh.close()
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        path.unlink(missing_ok=True)
        fh.close()


def _parse_budget(text, project) -> dict | None:
    """``--budget`` (or the scenario's budget) as ``{"value", "given"}``; None when neither."""
    if text is None:
        value = project.meta.get("budget")
        return None if value is None else {"value": float(value), "given": f"{value:.15g}"}
    cleaned = text.strip().replace(",", "").replace("_", "")
    try:
        value = float(cleaned)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise click.BadParameter(
            f"{text!r} is not an amount of money; give a number > 0 like 2400000 "
            "(no currency sign; 2,400,000 is fine)", param_hint="'--budget'")
    return {"value": value, "given": text.strip()}


def _write_plots(result, out_dir: Path, doc: dict, ranking, part: int = 0,
                 parts: int = 1) -> list[tuple[int, Path]]:
    """Draw the run's PNGs: with ``parts`` > 1 only every ``parts``-th from ``part`` (one
    plot process's share). Returns (position in the full list, path) pairs."""
    from . import plots
    target = doc["target"]["value"] if "target" in doc else None
    out = [(lambda: plots.finish_histogram(result, target=target), FINISH_PNG),
           (lambda: plots.criticality_chart(result, top=TOP_TASKS), CRITICALITY_PNG)]
    if result.sensitivity is not None:
        out += [(lambda: plots.sensitivity_tornado(result, top=TOP_TASKS), SENSITIVITY_PNG),
                (lambda: plots.probabilistic_gantt(result), GANTT_PNG)]
    if result.cost is not None:
        currency = result.project.meta.get("currency")
        budget = doc["budget"]["value"] if "budget" in doc else None
        out += [(lambda: plots.cost_histogram(result, budget=budget, currency=currency),
                 COST_PNG),
                (lambda: plots.jcl_scatter(result, target=target, budget=budget, p=JCL_LEVEL,
                                           currency=currency), JCL_PNG),
                (lambda: plots.cashflow_fan(result, budget=budget, currency=currency),
                 CASHFLOW_PNG)]
    if ranking is not None:
        out.append((lambda: plots.risk_tornado(ranking,
                                               currency=result.project.meta.get("currency")),
                    TORNADO_PNG))
    if result.levelling is not None and result.levelling.resources:
        out.append((lambda: plots.resource_usage_fan(result), RESOURCES_PNG))
    return [(k, Path(plots.save_png(draw(), out_dir / name)))
            for k, (draw, name) in enumerate(out) if k % parts == part]


#: Plot processes a run forks: the charts (~0.1-0.4 s each, eight with costs) are
#: drawn by two at once on two cores (a warm run of the bundled scenario waited ~0.8 s
#: on one).
PLOT_PROCESSES = 2


class _PlotWorker:
    """Draws a run's PNGs in processes forked when the command starts: they import
    matplotlib (~0.3 s) while this process loads the kernels and simulates, then draw
    (each a share of the charts) while this process writes the JSON. Where fork is
    unavailable, or other threads exist (forking them is unsafe), or a child is gone,
    the plots are drawn here as before."""

    def __init__(self):
        self.procs, self.conns, self.job = [], [], None

    def __enter__(self):
        import multiprocessing
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            n = max(1, min(PLOT_PROCESSES, os.cpu_count() or 1))
            for _ in range(n):
                conn, child = ctx.Pipe()
                # the child closes the parent's end it inherits by the fork: otherwise it
                # would never see EOF if the parent died, and would outlive it waiting
                proc = ctx.Process(target=_plot_child, args=(child, conn), daemon=True)
                proc.start()
                child.close()
                self.procs.append(proc)
                self.conns.append(conn)
        return self

    def start(self, result, out_dir, doc, ranking):
        """Hand the drawing over (or note it, to draw in :meth:`finish`)."""
        self.job = (result, out_dir, doc, ranking)
        try:
            for k, conn in enumerate(self.conns):
                conn.send((self.job, k, len(self.conns)))
        except (OSError, ValueError):
            self._stop()

    def finish(self) -> list[Path]:
        """The PNGs written."""
        if self.procs:
            replies = []
            for conn in self.conns:
                try:
                    replies.append(conn.recv())
                except (OSError, EOFError):
                    replies.append((None, None))
            self._stop()
            for status, payload in replies:
                if status == "error":
                    raise click.ClickException(payload)
            if all(status == "ok" for status, _ in replies):
                return [path for _, path in sorted(p for _, pairs in replies for p in pairs)]
        try:
            return [path for _, path in _write_plots(*self.job)]
        except OSError as exc:
            raise click.ClickException(f"writing the plots into {self.job[1]}: {exc}") from None

    def _stop(self):
        for conn in self.conns:
            conn.close()
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
        self.procs, self.conns = [], []

    def __exit__(self, *exc):
        self._stop()


def _plot_child(conn, parent_end=None):
    """A plot process: import matplotlib now, draw its share when the results arrive."""
    if parent_end is not None:
        parent_end.close()
    try:
        from . import plots  # noqa: F401  (the slow import, while the parent simulates)
        job, part, parts = conn.recv()
    except (EOFError, OSError, KeyboardInterrupt):
        return
    try:
        conn.send(("ok", _write_plots(*job, part=part, parts=parts)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:  # reported by the parent as an Error: line
        conn.send(("error", f"writing the plots into {job[1]}: {exc}"))


def _levelling_summary(say, result):
    lev = result.levelling
    if lev is None:
        return
    free = lev.finish_unlevelled
    say(f"Resource levelling ({lev.scheme}, priority {lev.priority}): working days")
    say(f"  {'':<20}{'levelled':>12}{'unlevelled':>12}")
    rows = [("Deterministic", result.finish.deterministic, free.deterministic),
            ("Mean", result.finish.mean, free.mean)]
    rows += [(f"P{q}", float(result.finish.percentile(q)), float(free.percentile(q)))
             for q in (50, 80)]
    for label, a, b in rows:
        say(f"  {label:<20}{_fmt_days(a):>12}{_fmt_days(b):>12}")
    say(f"Levelling delayed the finish in {100 * lev.delayed:.1f}% of iterations")
    if lev.resources:
        say(f"  {'Resource':<24}{'capacity':>10}{'peak P90':>10}{'binding':>10}")
        for res in sorted(lev.resources, key=lambda r: -r.binding)[:TOP_TASKS]:
            cap = f"{res.capacity:g}" + ("*" if res.changes else "")
            say(f"  {str(res.id)[:24]:<24}{cap:>10}{float(res.peak_percentile(90)):>10.4g}"
                f"{100 * res.binding:>9.1f}%")
        if any(r.changes for r in lev.resources):
            say("  (* capacity changes over time)")
    say("")


def _summary(say, project, scenario, result, doc, elapsed):
    fin = result.finish
    n_links = project.graph.number_of_edges()
    say(f"{project.name}: {project.n_tasks} tasks, {n_links} links ({scenario})")
    say(f"{result.iterations:,} iterations, seed {result.seed}, {elapsed:.2f} s")
    say("")
    dated = project.start is not None
    header = "Project finish          working days"
    say(header + ("   date (end of day)" if dated else "") + f"   {CI_HEADER}")
    kind = "CPM" if result.levelling is None else "levelled"
    rows = [(f"Deterministic ({kind})", fin.deterministic, None), ("Mean", fin.mean, None)]
    rows += [(f"P{q}", float(fin.percentile(q)), q) for q in SUMMARY_PERCENTILES]
    for label, t, q in rows:
        line = f"  {label:<20}{_fmt_days(t):>14}"
        if dated:
            line += f"   {_finish_date(project, t):<17}"
        if q is not None:
            line += "   " + _finish_ci_text(project, fin, q)
        say(line.rstrip())
    say(f"  {'Std deviation':<20}{_fmt_days(fin.std):>14}")
    say(f"Chance of finishing by the deterministic ({kind}) finish: "
        f"{100 * fin.probability_le(fin.deterministic):.1f}%"
        f"{_probability_ci_text(fin.probability_ci(fin.deterministic))}")
    if "target" in doc:
        tgt = doc["target"]
        given, days = tgt["given"].strip(), _fmt_days(tgt["value"])
        if _is_number(given):
            what = f"of {days} working days" + (f" ({tgt['date']})" if "date" in tgt else "")
        else:
            what = f"{given} ({days} working days)"
        say(f"Chance of meeting the target {what}: {100 * tgt['probability']:.1f}%"
            f"{_probability_ci_text(tgt.get('probability_ci'))}")
    say("")
    names = dict(zip(result.tasks.ids, result.tasks.names))

    def label(task_id):
        name = str(names.get(task_id, task_id))
        return f"{task_id}" + (f"  {_clip(name, 50)}" if name != str(task_id) else "")

    sens = result.sensitivity
    if sens is None:
        say("Most critical tasks (share of iterations on the critical path)")
        for task_id, crit in result.most_critical(TOP_TASKS):
            say(f"  {100 * crit:5.1f}%  {label(task_id)}")
        say("")
        return
    say("Tasks that drive the finish (by cruciality: how closely the task's duration moves "
        "the finish)")
    say("     CRI(tau)    CI     SSI")
    for task_id, value in sens.top("cri_tau", TOP_TASKS):
        if not value > 0:
            break
        m = sens.task(task_id)
        say(f"  {100 * value:7.1f}% {100 * m['ci']:5.1f}% {100 * m['ssi']:6.1f}%  "
            f"{label(task_id)}")
    say("")
    say("Most critical tasks (share of iterations on the critical path)")
    for task_id, crit in result.most_critical(TOP_TASKS):
        say(f"  {100 * crit:5.1f}%  {label(task_id)}")
    if len(result.paths) > 1:
        say("")
        say("Most frequent critical paths")
        for path in result.paths[:3]:
            kinds = dict(zip(result.tasks.ids, result.tasks.kinds))
            shown = [str(t) for t in path.tasks if kinds.get(t) != "connector"]
            text = " > ".join(shown[:6]) + (f" > ... ({len(shown)} tasks)" if len(shown) > 6
                                             else "")
            say(f"  {100 * path.frequency:5.1f}%  {text}")
    say("")


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[:width - 1] + "…"


_MODE_TEXT = {"pre": "before mitigation", "post": "after mitigation",
              "none": "risk events switched off"}


def _impact_text(stat, project) -> str:
    risk = project.risks.get(stat.id) if stat.kind == "risk" else None
    if risk is not None and risk.pre.schedule_impact is None and (
            risk.post is None or risk.post.schedule_impact is None):
        return "cost only"
    if stat.mean_impact != stat.mean_impact:          # NaN: never occurred
        return "-"
    if stat.unit == "factor":
        return f"x{stat.mean_impact:.3f}"
    if stat.unit == "%":
        return f"{stat.mean_impact:+.1f}%"
    return f"{stat.mean_impact:+.1f} d"


def _risk_summary(say, result, ranking):
    """The risk register as run, repaired correlations, and the tornado."""
    if result.risks:
        say(f"Risk register ({_MODE_TEXT[result.risk_mode]}, --risks {result.risk_mode})")
        width = min(max(len(str(r.id)) for r in result.risks), 24)
        say(f"  {'id':<{width}}  kind    probability  occurred  mean impact  name")
        for r in result.risks:
            name = r.name if r.name != str(r.id) else ""
            say(f"  {str(r.id):<{width}}  {r.kind:<6}  {100 * r.probability:10.1f}%"
                f"  {100 * r.occurrence:7.1f}%  {_impact_text(r, result.project):>11}  {name}".rstrip())
        say("  (mean impact when it occurred: working days added to each mapped task, % of "
            "their duration, or a driver's factor)")
        say("")
    for c in result.correlations:
        tasks = ", ".join(str(t) for t in c.tasks)
        changes = c.changes()
        finite = c.achieved[np.isfinite(c.achieved)] if c.achieved.size else c.achieved
        gap = (float(np.max(np.abs(c.achieved - c.repaired)))
               if finite.size == c.achieved.size and c.achieved.size else float("nan"))
        measured = (f"achieved (on the sampled durations, risks and drivers included) within "
                    f"{gap:.3f} of the targets over {c.n_samples:,} iterations"
                    if gap == gap else "too few iterations to measure the achieved correlation")
        if not changes:
            say(f"Correlation of {tasks}: targets kept, {measured}")
        else:
            say(f"Correlation of {tasks}: the matrix was not positive semi-definite; repaired "
                f"to the nearest valid one (Higham), {len(changes)} coefficient"
                f"{'s' if len(changes) > 1 else ''} changed:")
            for a, b, target, repaired in changes:
                say(f"  {a} ~ {b}: {target:+.3f} -> {repaired:+.3f} ({repaired - target:+.3f})")
            say(f"  {measured[0].upper() + measured[1:]}")
    if result.correlations:
        say("")
    if ranking is not None:
        key = f"P{ranking.percentile:g}"
        say(f"Risk tornado: what switching each one off gains ({key} finish "
            f"{ranking.baseline_percentile:,.1f}, mean {ranking.baseline_mean:,.1f} working days "
            "with all on)")
        width = min(max(len(str(e.id)) for e in ranking.entries), 24)
        cost = getattr(ranking, "has_cost", False)
        cost_head = f"  {key + ' cost':>13}  {'mean cost':>13}" if cost else ""
        say(f"  {'id':<{width}}  {key + ' shift':>10}  {'mean shift':>10}{cost_head}  name")
        for e in ranking.entries:
            name = e.name if e.name != str(e.id) else ""
            costs = (f"  {e.cost_percentile_shift:+13,.0f}  {e.cost_mean_shift:+13,.0f}"
                     if cost else "")
            say(f"  {str(e.id):<{width}}  {e.percentile_shift:+10.1f}  {e.mean_shift:+10.1f}"
                f"{costs}  {name}".rstrip())
        if cost:
            say(f"  (cost columns: how much the {key} and the mean project cost drop, from "
                f"{ranking.baseline_cost_percentile:,.0f} and "
                f"{ranking.baseline_cost_mean:,.0f} with all on)")
        say("")


def _money(value: float, currency) -> str:
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def _cost_summary(say, project, result, doc):
    if result.cost is None:
        return
    cost = result.cost
    currency = project.meta.get("currency")
    title = "Project cost" + (f" ({currency})" if currency else "")
    say(f"{title:<44} {CI_HEADER}")
    rows = [("Planned (deterministic)", cost.deterministic), ("Mean", cost.mean)]
    rows += [(f"P{q}", float(cost.percentile(q))) for q in SUMMARY_PERCENTILES]
    for label, value in rows:
        ci = ""
        if label[1:].isdigit():          # a P-value row
            lo, hi = cost.percentile_ci(float(label[1:]))
            ci = "   " + (f"\u00b1{(hi - lo) / 2:,.0f}" if np.isfinite(hi - lo)
                          else UNBOUNDED_TEXT)
        say(f"  {label:<24}{value:>16,.0f}{ci}")
    say(f"  {'Std deviation':<24}{cost.std:>16,.0f}")
    p80 = float(cost.percentile(80))
    say(f"Contingency at P80 over the planned cost: {_money(p80 - cost.deterministic, currency)}")
    if "budget" in doc:
        b = doc["budget"]
        say(f"Chance of staying within the budget of {_money(b['value'], currency)}: "
            f"{100 * b['probability']:.1f}%{_probability_ci_text(b.get('probability_ci'))}")
    joint = doc.get("jcl", {}).get("target_and_budget")
    if joint is not None:
        say(f"Joint confidence (JCL) of meeting both the target and the budget: "
            f"{100 * joint['probability']:.1f}%"
            f"{_probability_ci_text(joint.get('probability_ci'))}")
    frontier = result.jcl_frontier(JCL_LEVEL, 200)
    if frontier.size:
        say(f"{100 * JCL_LEVEL:.0f}% JCL: finish and cost pairs met together in "
            f"{100 * JCL_LEVEL:.0f}% of iterations")
        fin = result.finish
        for q in (70, 80, 90, 95):
            f = float(fin.percentile(q))
            at = frontier[frontier[:, 0] >= f - 1e-9]
            if not at.size:
                continue
            f_at, c_at = at[0]
            when = f"{_fmt_days(f_at)} working days"
            if project.start is not None:
                when = f"{_finish_date(project, f_at)} ({when})"
            say(f"  by {when} and within {_money(c_at, currency)}")
    say("")


# -- validate -------------------------------------------------------------------------
@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_input_options
def validate(scenario):
    """Check SCENARIO and list every problem found (exit status 1 if any).

    \b
    Examples:
      pmosim validate scenarios/building-fit-out.toml
      pmosim validate plan.toml && pmosim run plan.toml
    """
    from .io.scenario import scenario_problems

    project = None
    if _reads_as_scenario(scenario):
        problems = scenario_problems(scenario)
    else:
        try:
            project = _load(scenario)
            problems = [f"{scenario}: {p}" for p in project.problems()]
        except PmosimError as exc:
            problems = [str(exc)]
    if problems:
        for line in problems:
            click.echo(line)
        n = len(problems)
        raise click.ClickException(f"{scenario}: {n} problem{'s' if n > 1 else ''} found")
    with _errors_as_click():
        project = project or _load(scenario)
    extra = f", start {project.start.isoformat()}" if project.start is not None else ""
    click.echo(f"{scenario}: OK ({project.name}: {project.n_tasks} tasks, "
               f"{project.graph.number_of_edges()} links{extra}{_model_extras(project)})")


def _model_extras(project) -> str:
    """``; 5 risks, 2 drivers, ...`` for what a project has beyond its tasks and links."""
    def count(n, word, plural=None):
        return f"{n} {word if n == 1 else plural or word + 's'}"
    parts = []
    if project.risks:
        parts.append(count(len(project.risks), "risk"))
    if project.drivers:
        parts.append(count(len(project.drivers), "driver"))
    if project.correlations:
        parts.append(count(len(project.correlations), "correlation group"))
    if project.branches:
        parts.append(count(len(project.branches), "branch", "branches"))
    if project.resources:
        demanding = sum(1 for _, d in project.graph.nodes(data=True) if d.get("resources"))
        parts.append(count(len(project.resources), "resource") + f" ({demanding} tasks "
                     "demand them" + (f"; levelled, priority {project.priority})"
                                      if project.levelling else "; not levelled)"))
    budget = project.meta.get("budget")
    if budget is not None:
        currency = project.meta.get("currency")
        parts.append(f"budget {_money(budget, currency)}")
    return "; " + ", ".join(parts) if parts else ""


# -- warmup ---------------------------------------------------------------------------
@cli.command()
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["plain", "risks", "costs", "risks+costs", "calendars",
                                 "calendars+risks+costs"]),
              help="Compile only this kind of model (repeatable; default: every kind).")
@_friendly
def warmup(kinds):
    """Compile the simulation kernels now, so that no later run waits for them.

    The kernels compile on a machine's first run of each kind of model (risks and
    drivers, costs, imported working calendars: each adds stages), 10-60 s each,
    then load from numba's cache in well under a second. Run this once after
    installing (in a container image, say); it is safe to run again, and fast.

    \b
    Examples:
      pmosim warmup
      pmosim warmup --kind plain --kind risks
    """
    from .engine import WARMUP_KINDS, warmup as compile_kernels

    chosen = list(kinds) or list(WARMUP_KINDS)
    total = 0.0
    with _CompileNotice():
        for kind, seconds in compile_kernels(chosen):
            total += seconds
            click.echo(f"  {kind:<24} {seconds:6.1f} s")
    click.echo(f"Kernels ready for {len(chosen)} kind{'s' if len(chosen) > 1 else ''} of model "
               f"in {total:.1f} s.")


# -- cpm ------------------------------------------------------------------------------
@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_input_options
@_levelling_options
@click.option("--improve", "improve", type=click.IntRange(min=1), default=None,
              metavar="PASSES",
              help="With levelling: search PASSES sampled priority lists, each improved by "
                   "forward-backward justification, for a shorter levelled plan, and print "
                   "its finish beside the single pass's (3000 passes: about a second at 120 "
                   "tasks).")
@click.option("--csv", "csv_file", metavar="FILE", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the schedule as CSV: one row per task, early and late starts "
                   "and finishes in working days and dates, float, critical "
                   "(docs/results-format.md).")
@_friendly
def cpm(scenario, levelling, priority, improve, csv_file):
    """Print the deterministic critical path schedule of SCENARIO.

    One row per task on planned durations: early and late start and finish
    (dates when the scenario has a start date, else working days; date and time
    for an imported schedule with working calendars, each task on its own
    calendar), total float and free float (working days of the task's calendar;
    blank for a completed task) and whether the task is critical. An imported
    schedule's late dates honour its finish-on, finish-no-later-than,
    must-finish/start-on, start-no-later-than constraints and deadlines, as P6 and
    MS Project compute them, so float can be negative.

    \b
    Examples:
      pmosim cpm scenarios/building-fit-out.toml
      pmosim cpm plan.toml | grep yes          # the critical tasks
      pmosim cpm j301_1.sm --levelling serial  # the resource-levelled schedule
      pmosim cpm j301_1.sm --levelling serial --improve 3000
      pmosim cpm plan.xml --csv schedule.csv

    Levelled, the schedule is the serial schedule generation scheme's, a task is
    critical on the driving path (links and resource releases), and float is
    measured over the links plus those resource links.
    """
    from . import cpm as run_cpm

    project = _load(scenario)
    if csv_file is not None:
        if _same_file(csv_file, _input_paths(scenario, project)):
            raise click.ClickException(f"--csv {csv_file} is an input; write the schedule to "
                                       "another file")
        _check_writable(f"--csv {csv_file}", csv_file.parent)
    passes = improve
    with _about(scenario):
        single = None
        if passes:
            single = run_cpm(project, levelling=levelling, priority=priority)
        res = run_cpm(project, levelling=levelling, priority=priority,
                      improve=passes if passes else False)
    ids = [str(t) for t in res.task_ids]
    names = [str(n) for n in res.names]
    wallclock = res.early_start_date is not None
    if wallclock:
        # working calendars per task: the exact moments, not a day-level axis calendar
        cols = [[f"{d:%Y-%m-%d %H:%M}" for d in a] for a in (
            res.early_start_date, res.early_finish_date, res.late_start_date,
            res.late_finish_date)]
        heads = ("Early start", "Early finish", "Late start", "Late finish")
    elif project.start is not None:
        cal = _calendar(project)
        es, ef = cal.task_dates(project.start, res.early_start, res.early_finish)
        ls, lf = cal.task_dates(project.start, res.late_start, res.late_finish)
        cols = [[str(d) for d in a] for a in (es, ef, ls, lf)]
        heads = ("Early start", "Early finish", "Late start", "Late finish")
    else:
        cols = [[f"{t:.1f}" for t in a]
                for a in (res.early_start, res.early_finish, res.late_start, res.late_finish)]
        heads = ("ES", "EF", "LS", "LF")
    dur = [f"{d:.1f}" for d in res.duration]
    # a completed task has no float (NaN): shown blank, as the scheduling tools do
    flt = ["" if np.isnan(f) else f"{f:.1f}" for f in res.total_float]
    free = ["" if np.isnan(f) else f"{f:.1f}" for f in (
        res.free_float if res.free_float is not None else np.full(len(ids), np.nan))]
    crit = ["yes" if c else "" for c in res.critical]
    table = [("ID", *ids), ("Name", *names), ("Duration", *dur), *(
        (h, *c) for h, c in zip(heads, cols)), ("Float", *flt), ("Free float", *free),
        ("Critical", *crit)]
    # the zero-duration tasks importers add for links (kind "connector") are not the user's
    connector = [project.graph.nodes[t].get("kind") == "connector" for t in res.task_ids]
    rows = [0, *(k + 1 for k, c in enumerate(connector) if not c)]
    widths = [min(max(len(col[r]) for r in rows), 40) for col in table]
    right = {2, 3, 4, 5, 6, 7, 8} if project.start is None and not wallclock else {2, 7, 8}
    for r in rows:
        cells = []
        for c, col in enumerate(table):
            text = col[r] if len(col[r]) <= widths[c] else col[r][:widths[c] - 1] + "\u2026"
            cells.append(text.rjust(widths[c]) if c in right else text.ljust(widths[c]))
        click.echo("  ".join(cells).rstrip())
    finish = f"{res.finish:,.1f} working days"
    if wallclock:
        last = max(res.early_finish_date)
        finish += (f" of calendar {res.calendar}, {last:%Y-%m-%d %H:%M} "
                   f"(data date {project.meta['data_date']:%Y-%m-%d %H:%M})")
    elif project.start is not None:
        finish += f", {_finish_date(project, res.finish)} (start {project.start.isoformat()})"
    click.echo(f"\nProject finish: {finish}")
    if res.levelling is not None:
        binding = ", ".join(map(str, res.binding)) or "none"
        click.echo(f"Levelled ({res.levelling}, priority {res.priority}); unlevelled finish "
                   f"{res.unlevelled_finish:,.1f} working days; resources on the driving "
                   f"path: {binding}")
        if single is not None:
            click.echo(f"Improved plan: {res.finish:,.1f} working days against "
                       f"{single.finish:,.1f} for the single pass "
                       f"({100 * (single.finish - res.finish) / max(single.finish, 1e-9):.1f}% "
                       "shorter); simulate it with --priority plan")
    hidden = set(t for t, c in zip(res.task_ids, connector) if c)
    click.echo("Critical path: " + " -> ".join(str(t) for t in res.critical_path
                                               if t not in hidden))
    if hidden:
        click.echo(f"({len(hidden):,} zero-duration connector task{'s' * (len(hidden) != 1)} "
                   "that the import added for links are not shown)")
    if csv_file is not None:
        from .io.tasks_out import write_cpm_csv
        try:
            click.echo(f"Wrote {write_cpm_csv(res, csv_file, project=project)}")
        except OSError as exc:
            raise click.ClickException(
                f"--csv {csv_file}: cannot write it: {exc.strerror or exc}") from None


# -- import ---------------------------------------------------------------------------
IMPORT_WARNINGS_SHOWN = 20


@cli.command("import")
@click.argument("schedule", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario file to write (.toml); with more tasks than --csv-threshold they "
                   "go to <name>.tasks.csv next to it.")
@click.option("--csv-threshold", type=click.IntRange(min=0), default=200, show_default=True,
              help="Tasks beyond which the task list goes to a sidecar CSV file.")
@click.option("--force", is_flag=True,
              help="Replace an existing scenario file (and its .tasks.csv).")
@_input_options
@_friendly
def import_(schedule, output, csv_threshold, force):
    """Import SCHEDULE (MS Project XML, Primavera XER, PSPLIB, DSLIB) as a scenario file.

    The scenario (TOML, docs/scenario-format.md) can be kept in git, edited and
    run; with the file's working calendars, data date, progress and constraints it
    gives the same dates and simulated results as SCHEDULE itself. What the
    scenario format cannot hold (the tool's own dates, codes, ...) is listed here
    and in the file's header comment.

    \b
    Examples:
      pmosim import plan.xml -o plan.toml
      pmosim import sp10.xer -o sp10.toml --uncertainty "triangular(-10%, 0, +25%)"
      pmosim import sp10.xer -o sp10.toml --cost-uncertainty "pert(-10%, 0, +30%)"
      pmosim import j301_1.sm -o j301.toml --uncertainty "id=1?: pert(-5%, 0, +80%)"
      pmosim import export.txt --format xer -o plan.toml
      pmosim import plan.xml -o plan.toml --force  # replace plan.toml
    """
    from .io.export import write_scenario

    if output.suffix.lower() != ".toml":
        raise click.ClickException(f"-o {output}: a scenario file name ends in .toml; use e.g. "
                                   f"{output.with_suffix('.toml').name}")
    sidecar = output.with_name(output.stem + ".tasks.csv")
    project = _load(schedule)
    inputs = _input_paths(schedule, project)
    candidates = [("-o", output)]
    if project.n_tasks > csv_threshold:
        candidates.append(("its task list", sidecar))
    for option, path in candidates:
        if _same_file(path, inputs):
            raise click.ClickException(
                f"{option} {path} is an input of this import ({schedule}); write the scenario "
                "to another file")
        if path.exists() and not force:
            raise click.ClickException(
                f"{option} {path} exists; pass --force to replace it, or choose another name")
    with _about(schedule):
        written = write_scenario(project, output, csv_threshold=csv_threshold)
    report = project.meta.get("import_report") or {}
    if "links_by_type" in report:
        by_type = ", ".join(f"{k} {v}" for k, v in report["links_by_type"].items())
        click.echo(f"Imported {schedule} ({report['format']}): {report['tasks']} tasks, "
                   f"{report['links']} links ({by_type}), {report['lags']} lags, "
                   f"{report['calendars']} calendars")
    else:
        click.echo(f"Read {schedule}: {project.n_tasks} tasks, "
                   f"{project.graph.number_of_edges()} links")
    _bullets("Import warnings", report.get("warnings", []))
    applied = project.meta.get("uncertainty")
    if applied:
        rules = "; ".join(f"{r} on {n} tasks" for r, n in zip(applied["rules"],
                                                             applied["tasks_per_rule"]))
        click.echo(f"Uncertainty: {rules}; kept {applied['kept_explicit']} with their own "
                   f"distribution, {applied['kept_milestones']} milestones, "
                   f"{applied['kept_complete']} completed")
    _imported_cost_summary(click.echo, project)
    _bullets("Not kept by the scenario format, listed in the file's header too", written.warnings)
    click.echo("Wrote " + ", ".join(str(p) for p in (written.path, written.csv_path) if p))


def _input_paths(source, project) -> set:
    """The files a command reads: SOURCE and, for a scenario, its task CSV."""
    paths = {Path(source)}
    csv_name = project.meta.get("tasks_csv") if project is not None else None
    if csv_name:
        paths.add(Path(source).parent / csv_name)
    return {p.resolve() for p in paths}


def _check_writable(option, folder) -> None:
    """Find an output folder that cannot be written before the run, not after it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(
            f"{option}: cannot create the folder {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(
            f"{option}: cannot write into {folder}; choose a folder you can write to")


def _same_file(path, inputs) -> bool:
    return Path(path).resolve() in inputs


def _bullets(title, lines):
    if not lines:
        return
    click.echo(f"{title} ({len(lines)}):")
    for line in lines[:IMPORT_WARNINGS_SHOWN]:
        click.echo(f"  - {line}")
    if len(lines) > IMPORT_WARNINGS_SHOWN:
        click.echo(f"  ... and {len(lines) - IMPORT_WARNINGS_SHOWN} more")


# -- task tables, milestones and write-back (run --csv/--xlsx/--milestone/--write-back) ---
#: The P-values --milestone prints.
MILESTONE_PERCENTILES = (10, 50, 80, 90)
#: Formats --write-back supports: input format -> accepted output suffixes.
WRITE_BACK_FORMATS = {"mspdi": (".xml",), "xer": (".xlsx", ".csv")}


def _task_output_settings() -> dict:
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(_TASK_OUTPUTS_KEY) if ctx is not None else None) or {}


def _find_task(project, text: str):
    """The task id that ``text`` names (its id as text, else a unique task name)."""
    import difflib
    nodes = list(project.graph.nodes)
    by_text = {str(t): t for t in nodes}
    if text in by_text:
        return by_text[text]
    named = [t for t in nodes if str(project.graph.nodes[t].get("name") or "") == text]
    if len(named) == 1:
        return named[0]
    close = difflib.get_close_matches(text, list(by_text), n=5, cutoff=0.5)
    names = {}
    for t in nodes:
        names.setdefault(str(project.graph.nodes[t].get("name") or ""), t)
    for name in difflib.get_close_matches(text, [n for n in names if n], n=3, cutoff=0.6):
        if str(names[name]) not in close:
            close.append(f"{names[name]} ({name})")
    hint = (f"; did you mean {', '.join(close)}?" if close
            else "; the ids are in the first column of 'pmosim cpm'")
    many = f" ({len(named)} tasks have that name)" if named else ""
    raise click.ClickException(f"--milestone {text}: no task with this id{many}{hint}")


def _check_task_outputs(scenario, project, inputs) -> None:
    """Check --csv, --xlsx, --milestone and --write-back before the run."""
    opts = _task_output_settings()
    if not opts:
        return
    opts["milestone_ids"] = [_find_task(project, m) for m in opts["milestones"]]
    files = [("--csv", opts["csv_file"]), ("--xlsx", opts["xlsx_file"]),
             ("--write-back", opts["write_back"])]
    for option, path in files:
        if path is None:
            continue
        if _same_file(path, inputs):
            raise click.ClickException(
                f"{option} {path} is an input of this run; write the results to another file")
        _check_writable(f"{option} {path}", path.parent if str(path.parent) else Path("."))
    if opts["xlsx_file"] is not None or (opts["write_back"] is not None
                                         and opts["write_back"].suffix.lower() == ".xlsx"):
        from .io.tasks_out import _openpyxl
        _openpyxl()
    fields = opts["write_back_fields"]
    if fields is not None:
        from .io.writeback import parse_field
        if opts["write_back"] is None:
            raise click.ClickException("--write-back-fields: give --write-back FILE as well")
        specs = [f.strip() for f in fields.split(",") if f.strip()]
        try:
            for spec in specs:
                parse_field(spec)
        except PmosimError as exc:
            raise click.BadParameter(str(exc), param_hint="'--write-back-fields'") from None
        opts["write_back_fields"] = specs
    out = opts["write_back"]
    if out is not None:
        from .io import detect_format
        fmt = detect_format(scenario, _input_settings()[0])
        if fmt not in WRITE_BACK_FORMATS:
            raise click.ClickException(
                f"--write-back {out}: writing P-dates back works for MS Project XML inputs "
                "(.xml: custom date fields in a copy of the file) and Primavera P6 XER inputs "
                f"(.xer: a P6 spreadsheet), and {scenario} is a {fmt} file; use --csv or --xlsx "
                "for the task results")
        if out.suffix.lower() not in WRITE_BACK_FORMATS[fmt]:
            want = " or ".join(WRITE_BACK_FORMATS[fmt])
            raise click.ClickException(
                f"--write-back {out}: for a{'n MS Project' if fmt == 'mspdi' else ' P6 XER'} "
                f"input the file written is {want}; use e.g. {out.with_suffix(want[:5]).name}")
        opts["write_back_format"] = fmt


def _task_outputs(say, scenario, project, result) -> list:
    """Write --csv, --xlsx and --write-back, print --milestone; return the files written."""
    opts = _task_output_settings()
    if not opts:
        return []
    written = []

    def write(option, path, writer):
        try:
            with _about(scenario):
                return writer()
        except OSError as exc:
            raise click.ClickException(
                f"{option} {path}: cannot write it: {exc.strerror or exc}") from None

    if opts["csv_file"] is not None:
        from .io.tasks_out import write_tasks_csv
        written.append(write("--csv", opts["csv_file"],
                             lambda: write_tasks_csv(result, opts["csv_file"])))
    if opts["xlsx_file"] is not None:
        from .io.tasks_out import write_tasks_xlsx
        written.append(write("--xlsx", opts["xlsx_file"],
                             lambda: write_tasks_xlsx(result, opts["xlsx_file"])))
    out = opts["write_back"]
    if out is not None:
        from .io import writeback
        kwargs = {}
        if opts["write_back_fields"]:
            kwargs["fields"] = opts["write_back_fields"]
        fmt = opts["write_back_format"]
        if fmt == "mspdi":
            back = write("--write-back", out, lambda: writeback.write_mspdi_pdates(
                scenario, result, out, **kwargs))
            where = ", ".join(f"{spec} in {name}" for spec, name in back.fields)
            say(f"Write-back: {back.tasks} tasks of {out} carry {where} (aliases 'pmosim P80 "
                "Finish' ...)")
        else:
            writer = writeback.write_p6_xlsx if out.suffix.lower() == ".xlsx" \
                else writeback.write_p6_csv
            back = write("--write-back", out, lambda: writer(result, out, source=scenario,
                                                             **kwargs))
            where = ", ".join(f"{spec} -> {name}" for spec, name in back.fields)
            say(f"Write-back: {back.tasks} activities (task_code) with {where}")
        for line in back.warnings:
            say(f"Warning: {line}")
        written.append(back.path)
    for task_id in opts.get("milestone_ids", []):
        _milestone_report(say, project, result, task_id)
    return written


def _milestone_report(say, project, result, task_id) -> None:
    """The P-dates of one task: start and finish percentiles, the plan, the chance of
    meeting the planned finish."""
    from . import stats
    t = result.tasks
    i = t.ids.index(task_id)
    kind = t.kinds[i] if t.kinds is not None else "task"
    name = t.names[i]
    title = f"{'Milestone' if kind == 'milestone' else 'Task'} {task_id}"
    if name != str(task_id):
        title += f' "{name}"'
    say(f"{title}: criticality {100 * t.criticality[i]:.1f}%")
    dated = project.start is not None
    qs = list(MILESTONE_PERCENTILES)
    starts = np.atleast_2d(t.start_percentile(qs))[i]
    finishes = np.atleast_2d(t.finish_percentile(qs))[i]
    rows = [("Deterministic", t.deterministic_start[i], t.deterministic_finish[i])]
    rows += [(f"P{q}", s, f) for q, s, f in zip(qs, starts, finishes)]
    rows.append(("Mean", t.start_mean[i], t.finish_mean[i]))
    if dated:
        s_dates = [t.deterministic_start_dates()[i]] + [t.start_dates(q)[i] for q in qs]
        f_dates = [t.deterministic_finish_dates()[i]] + [t.finish_dates(q)[i] for q in qs]
        say(f"  {'':<15}{'start':>10}  {'start date':<12}{'finish':>10}  finish date")
        for (label, s, f), sd, fd in zip(rows, s_dates + [None], f_dates + [None]):
            sd_text = "" if sd is None else str(sd)
            fd_text = "" if fd is None else str(fd)
            say(f"  {label:<15}{_fmt_days(s):>10}  {sd_text:<12}{_fmt_days(f):>10}  "
                f"{fd_text}".rstrip())
        say("  (working days from the start; dates: the day the start or finish falls on)")
    else:
        say(f"  {'':<15}{'start':>10}{'finish':>10}   (working days)")
        for label, s, f in rows:
            say(f"  {label:<15}{_fmt_days(s):>10}{_fmt_days(f):>10}")
    det = float(t.deterministic_finish[i])
    est, low, high = (float(v[i]) for v in stats.histogram_cdf(
        t.finish_hist, t.hist_lo, t.hist_scale, t.finish_min, t.finish_max,
        np.full(len(t.ids), det)))
    when = f"{_fmt_days(det)} working days"
    if dated:
        when = f"{t.deterministic_finish_dates()[i]} ({when})"
    text = f"{100 * est:.1f}%"
    if high - low > 0.05:
        text += (f" (between {100 * low:.1f}% and {100 * high:.1f}%: many iterations finish "
                 "right on the plan)")
    say(f"  Chance of finishing by the planned {when}: {text}")
    say("")


# -- confidence intervals, --precision and --compare (issue 16) --------------------------------
#: Heading of the interval column of the summary tables.
CI_HEADER = "95% interval"
#: Shown for an interval end that too few iterations cannot bound.
UNBOUNDED_TEXT = "unbounded (too few iterations)"
#: The summary warns when the P80's 95% interval is wider than this (working days): the
#: day a date or a whole number of days names is then not known.
RESOLUTION_DAYS = 1.0
#: ... or when a probability's 95% interval reaches further than this from it (printed
#: to 0.1 percentage points, but one point is what readers act on).
RESOLUTION_PROBABILITY = 0.01


def _finish_ci_text(project, fin, q) -> str:
    """``±0.6  2027-12-17 to 2027-12-20`` (the dates when they differ; else working days)."""
    lo, hi = fin.percentile_ci(q)
    if not np.isfinite(hi - lo):
        return UNBOUNDED_TEXT
    text = f"\u00b1{(hi - lo) / 2:.1f}"
    if project.start is None:
        return f"{text}  [{_fmt_days(lo)}, {_fmt_days(hi)}]"
    first, last = _finish_date(project, lo), _finish_date(project, hi)
    return text + (f"  {first} to {last}" if first != last else "")


def _probability_ci_text(interval) -> str:
    if interval is None:
        return ""
    lo, hi = interval
    return f" ({CI_HEADER} {100 * lo:.1f}-{100 * hi:.1f}%)"


def _round_up_2(n: int) -> int:
    """``n`` rounded up to two significant digits (a count to suggest)."""
    step = 10 ** max(len(str(int(n))) - 2, 0)
    return -(-int(n) // step) * step


def _resolution_warning(result, doc, plan) -> None:
    """Say on standard error when the run is too short for the digits the summary prints."""
    from .stats import suggested_iterations

    n, fin = result.iterations, result.finish
    parts, need, by_finish = [], n, False
    if plan is None or plan.precision is None:
        lo, hi = fin.percentile_ci(80)
        width = hi - lo
        if not width <= RESOLUTION_DAYS:
            by_finish = True
            parts.append(f"P80 is only known to within \u00b1{width / 2:.1f} working days"
                         if np.isfinite(width) else "P80 cannot be bounded at all")
            need = max(need, suggested_iterations(n, width, RESOLUTION_DAYS, multiple=1))
    probabilities = [("the chance of finishing by the deterministic finish",
                      fin.probability_ci(fin.deterministic))]
    for key, what in (("target", "the chance of meeting the target"),
                      ("budget", "the chance of staying within the budget")):
        if key in doc:
            probabilities.append((what, doc[key]["probability_ci"]))
    joint = doc.get("jcl", {}).get("target_and_budget")
    if joint is not None:
        probabilities.append(("the joint confidence level", joint["probability_ci"]))
    what, (lo, hi) = max(probabilities, key=lambda item: item[1][1] - item[1][0])
    half = (hi - lo) / 2
    if half > RESOLUTION_PROBABILITY:
        verb = " is only known" if not parts else ""
        parts.append(f"{what}{verb} to within \u00b1{100 * half:.1f} percentage points")
        need = max(need, suggested_iterations(n, half, RESOLUTION_PROBABILITY, multiple=1))
    if not parts:
        return
    advice = f"use -n {_round_up_2(need):,}"
    if by_finish and len(parts) == 1:
        advice += f" or --precision {RESOLUTION_DAYS:g}"
    click.echo(f"Warning: {n:,} iterations are too few for the reported digits: "
               f"{', and '.join(parts)} (95%); {advice}", err=True)


def _run_plan(scenario, project, iterations, risk_mode, precision, max_iterations,
              compare_modes):
    """The :class:`_RunPlan` of ``run --precision`` or ``--compare`` (None for a plain run),
    after refusing combinations that contradict each other."""
    from click.core import ParameterSource

    from .engine import PRECISION_MAX_ITERATIONS, PRECISION_START, parse_modes

    ctx = click.get_current_context()
    n_given = ctx.get_parameter_source("iterations") not in (ParameterSource.DEFAULT, None)
    if max_iterations is not None and precision is None:
        raise click.ClickException(
            f"--max-iterations {max_iterations:,} caps a --precision run; without --precision "
            "give the iterations with -n")
    if precision is not None and not (math.isfinite(precision) and precision > 0):
        raise click.BadParameter(
            f"{precision!r} is not a width in working days; give a number > 0, e.g. 1 (the "
            "P80 to within about +-0.5 working days)", param_hint="'--precision'")
    if compare_modes is not None:
        try:
            modes = parse_modes(compare_modes)
        except PmosimError as exc:
            raise click.BadParameter(str(exc), param_hint="'--compare'") from None
        if ctx.get_parameter_source("risk_mode") not in (ParameterSource.DEFAULT, None):
            raise click.ClickException(
                f"--risks {risk_mode} with --compare {compare_modes}: --compare runs every "
                "register it names; leave --risks out")
        if precision is not None:
            raise click.ClickException(
                f"--precision with --compare: the compared registers run with one iteration "
                f"count (-n) so that they share their random numbers; find it with "
                f"'pmosim run {scenario} --precision {precision:g}' and pass it as -n")
        if not project.risks:
            raise click.ClickException(
                f"--compare {compare_modes}: {scenario} has no risk events, so every register "
                "gives the same run; add [[risks]] to the scenario")
        return _RunPlan(modes=modes, iterations=iterations)
    if precision is None:
        return None
    cap = PRECISION_MAX_ITERATIONS if max_iterations is None else max_iterations
    if n_given and iterations > cap:
        raise click.ClickException(
            f"-n {iterations:,} is more than --max-iterations {cap:,}: with --precision, -n is "
            "where the search starts; lower -n or raise --max-iterations")
    start = iterations if n_given else min(PRECISION_START, cap)
    return _RunPlan(precision=precision, start=start, max_iterations=cap)


class _RunPlan:
    """How ``run`` simulates with ``--precision`` (runs of growing size) or ``--compare``
    (one run per register), and what that adds to the JSON, the plots and the summary."""

    def __init__(self, *, precision=None, start=None, max_iterations=None, modes=None,
                 iterations=None):
        self.precision, self.start, self.max_iterations = precision, start, max_iterations
        self.modes, self.iterations = modes, iterations
        self.precision_run = self.comparison = None

    def run(self, project, *, seed, progress, risks, backend, levelling, priority):
        from . import compare, simulate_to_precision

        if self.modes is not None:
            self.comparison = compare(project, self.modes, self.iterations, seed=seed,
                                      progress=progress, backend=backend,
                                      levelling=levelling, priority=priority)
            return self.comparison.results[0]
        self.precision_run = simulate_to_precision(
            project, self.precision, max_iterations=self.max_iterations,
            start_iterations=self.start, seed=seed, on_step=self._step, progress=progress,
            risks=risks, backend=backend, levelling=levelling, priority=priority)
        return self.precision_run.result

    @staticmethod
    def _step(n, width):
        wide = f"{width:.2f} working days wide" if math.isfinite(width) else "unbounded"
        click.echo(f"  {n:,} iterations: the P80's 95% interval is {wide}", err=True)

    def sections(self, target_spec, budget_spec) -> dict:
        """The JSON sections: ``precision`` or ``compare``."""
        if self.comparison is None:
            return {"precision": self.precision_run.to_dict()}
        import dataclasses
        with_cost = self.comparison.results[0].cost is not None
        self.comparison = dataclasses.replace(
            self.comparison, target=None if target_spec is None else target_spec["value"],
            budget=budget_spec["value"] if budget_spec is not None and with_cost else None)
        return {"compare": self.comparison.to_dict()}

    def write_png(self, out_dir, target_spec) -> Path:
        from . import plots
        labels = [f"{m} ({_MODE_TEXT[m]})" for m in self.comparison.modes]
        ax = plots.s_curves(self.comparison.results, labels,
                            target=None if target_spec is None else target_spec["value"])
        return Path(plots.save_png(ax, out_dir / COMPARE_PNG))

    def summary(self, say, project, doc) -> None:
        if self.comparison is None:
            self._precision_summary(say)
        else:
            _compare_summary(say, project, doc["compare"])

    def _precision_summary(self, say):
        run = self.precision_run
        tried = ", ".join(f"{n:,}" for n, _ in run.steps)
        width = f"{run.width:.2f}" if math.isfinite(run.width) else "unbounded"
        if run.reached:
            say(f"Precision: the P80 finish is known to within {width} working days (95% "
                f"interval, full width; asked for {run.precision:g}) after {run.iterations:,} "
                f"iterations (runs of {tried}; -n {run.iterations} --seed "
                f"{run.result.seed} repeats the last)")
            say("")
            return
        from .stats import suggested_iterations
        more = suggested_iterations(run.iterations, run.width, run.precision, multiple=1)
        click.echo(f"Warning: stopped at --max-iterations {run.max_iterations:,} with the P80 "
                   f"finish known only to within {width} working days (95% interval, full "
                   f"width), wider than --precision {run.precision:g}; raise --max-iterations "
                   f"(about {_round_up_2(more):,} would do) or ask for less precision",
                   err=True)


class _RunsProgress:
    """``progress(done, total)`` over several runs one after another (``--precision``,
    ``--compare``): a fresh :class:`_Progress` bar for each run."""

    def __init__(self, file):
        self.file = file
        self.bar = None
        self.held = False

    def __call__(self, done, total):
        if self.bar is None or total != self.bar.total or done < self.bar.done:
            if self.bar is not None:
                self.bar.close()
            self.bar = _Progress(self.file, total)
            if self.held:
                self.bar.hold()
        self.bar(done, total)

    def hold(self):
        self.held = True
        if self.bar is not None:
            self.bar.hold()

    def release(self):
        self.held = False
        if self.bar is not None:
            self.bar.release()

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _compare_summary(say, project, comp: dict) -> None:
    """The ``--compare`` table: P-values of each register side by side, and the deltas."""
    modes, base = comp["modes"], comp["baseline"]
    runs, deltas = comp["runs"], comp["deltas"]
    dated = project.start is not None
    say(f"Risk registers compared on the same random numbers ({comp['iterations']:,} "
        f"iterations each, seed {comp['seed']}): "
        + "; ".join(f"{m} = {_MODE_TEXT[m]}" for m in modes))
    say(f"Finish in working days{' and dates' if dated else ''}; changes from {base} in working "
        "days" + (" (calendar days between the dates)" if dated else "")
        + "; mean change \u00b1 its 95% interval over the paired iterations")
    keys = ["mean"] + [k for k in runs[base]["finish"] if k.startswith("P")
                       and k[1:].replace(".", "").isdigit()]
    head = ["Project finish"] + list(modes) + [f"{m} - {base}" for m in modes[1:]]
    rows = [head]
    for key in keys:
        label = "Mean" if key == "mean" else key
        cells = [f"  {label}"]
        for m in modes:
            fin = runs[m]["finish"]
            date_key = "mean_date" if key == "mean" else None
            when = (fin.get(date_key) if date_key else fin.get("dates", {}).get(key)) or ""
            cells.append(f"{_fmt_days(fin[key])}  {when}".rstrip())
        for m in modes[1:]:
            d = deltas[m]["finish"][key]
            text = f"{d:+,.1f}"
            if key == "mean":
                lo, hi = deltas[m]["finish_mean_ci"]
                if lo is not None and hi is not None:
                    text += f" \u00b1{(hi - lo) / 2:.1f}"
            elif "finish_calendar_days" in deltas[m]:
                text += f" ({deltas[m]['finish_calendar_days'][key]:+d})"
            cells.append(text)
        rows.append(cells)
    for what, key in (("Target met", "target_probability"),
                      ("Within budget", "budget_probability"), ("JCL (both)", "jcl")):
        if key in runs[base]:
            rows.append([what] + [f"{100 * runs[m][key]:.1f}%" for m in modes]
                        + [f"{100 * deltas[m][key]:+.1f} points" for m in modes[1:]])
    if "cost" in runs[base]:
        currency = project.meta.get("currency")
        rows.append(["Project cost" + (f" ({currency})" if currency else "")]
                    + [""] * (2 * len(modes) - 1))
        for key in keys:
            changes = []
            for m in modes[1:]:
                text = f"{deltas[m]['cost'][key]:+,.0f}"
                lo, hi = deltas[m]["cost_mean_ci"] if key == "mean" else (None, None)
                if lo is not None and hi is not None:
                    text += f" \u00b1{(hi - lo) / 2:,.0f}"
                changes.append(text)
            rows.append([f"  {'Mean' if key == 'mean' else key}"]
                        + [f"{runs[m]['cost'][key]:,.0f}" for m in modes] + changes)
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    for r in rows:
        say("   ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in
                                                   zip(r[1:], widths[1:])]).rstrip())
    say("")


# -- report (and run --report) ------------------------------------------------------------
def _check_report_path(option, path, inputs) -> None:
    """Refuse, before the run, a report file that is an input, a folder, not .html, or
    in a folder that cannot be written."""
    path = Path(path)
    if _same_file(path, inputs):
        raise click.ClickException(
            f"{option} {path} is an input of this run; write the report to another file")
    if path.is_dir():
        raise click.ClickException(f"{option} {path} is a folder; give a file name such as "
                                   f"{path / 'report.html'}")
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise click.ClickException(
            f"{option} {path}: the report is an HTML file; give a name ending in .html, "
            f"e.g. {path.with_suffix('.html').name}")
    _check_writable(f"{option} {path}", path.parent if str(path.parent) else Path("."))


def _write_report_file(option, path, scenario, result, target_spec, budget_spec,
                       ranking, status=None) -> Path:
    from .report import write_report
    try:
        with _about(scenario):
            return write_report(result, path, scenario=scenario, target=target_spec,
                                budget=budget_spec, ranking=ranking, status=status)
    except OSError as exc:
        raise click.ClickException(
            f"{option} {path}: cannot write it: {exc.strerror or exc}") from None


@cli.command("report")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (e.g. report.html); replaced if it exists.")
@_input_options
@click.option("-n", "--iterations", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Number of Monte Carlo iterations.")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed; the same seed gives the same report (but its time stamp). "
                   "Default: a fresh seed, shown in the report and printed.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Worker threads (default: all CPUs). Results do not depend on it.")
@click.option("--target", metavar="DATE_OR_NUMBER", default=None,
              help="Target finish (a date or working days from the start), marked on the "
                   "S-curve with the chance of meeting it.")
@click.option("--budget", metavar="AMOUNT", default=None,
              help="Cost budget (default: budget under [project]); with --target the joint "
                   "confidence level (JCL) of meeting both.")
@click.option("--risks", "risk_mode", type=click.Choice(["pre", "post", "none"]),
              default="pre", show_default=True,
              help="Risk register to use: before mitigation, after it, or no risk events.")
@click.option("--rank-risks", is_flag=True,
              help="Add the risk tornado (one extra run per risk and driver).")
@click.option("--rank-percentile", type=click.FloatRange(0, 100), default=80.0,
              show_default=True, help="Finish percentile the risk tornado ranks by.")
@click.option("--backend", type=click.Choice(BACKENDS), default="threads", show_default=True,
              help="Where the iterations run: this machine's threads, or a Dask cluster.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="With --backend dask: the scheduler address (default: a local cluster).")
@_levelling_options
@_status_date_option
@_learn_options
@_friendly
def report_(scenario, output, iterations, seed, threads, target, budget, risk_mode, rank_risks,
            rank_percentile, backend, scheduler, levelling, priority):
    """Simulate SCENARIO and write a self-contained HTML report to send.

    One file, plots embedded, no script and nothing fetched from the network: it
    opens offline, from a mail or a document store, and prints. It holds the key
    figures, the P-value table of the finish (working days, dates, and cost with
    contingency when the project has costs), the S-curve and histogram, the
    criticality and sensitivity (cruciality) charts, the risk register and, with
    --rank-risks, the risk tornado, a probabilistic Gantt chart and a table of the
    key tasks, cost, joint confidence and cash flow charts where there are costs,
    resource usage when levelled, the run settings and an audit block (versions,
    seed, SHA-256 of the model). 'pmosim run ... --report FILE' writes the same
    report beside its other outputs.

    \b
    Examples:
      pmosim report scenarios/office-move-risks.toml -o report.html
      pmosim report scenarios/office-move-risks.toml -o report.html --seed 1 \\
          --target 2027-11-30 --budget 2600000 --rank-risks
      pmosim report plan.xer --uncertainty "pert(-10%, 0, +30%)" -n 5000 -o plan.html
      pmosim report plan.toml --status-date latest --learn -o status.html
    """
    from . import simulate
    from .backends import get_backend

    project = _load(scenario)
    project, status_row = _status_date(click.echo, scenario, project)
    status = None if status_row is None else {"evm": status_row,
                                              "reforecast": _reforecast_doc(project)}
    target_spec = _parse_target(target, project) if target is not None else None
    budget_spec = _parse_budget(budget, project)
    _require_costs(budget, budget_spec, scenario, project)
    _check_report_path("-o", output, _input_paths(scenario, project))
    _check_rank_risks(scenario, project, rank_risks, risk_mode)
    _check_backend(backend, scheduler, threads)

    progress = _Progress(sys.stderr, iterations)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if backend == "dask":
            click.echo("Starting a local Dask cluster ..." if scheduler is None
                       else f"Connecting to the Dask scheduler at {scheduler} ...", err=True)
        runner = get_backend(backend, threads=threads, scheduler=scheduler)
        stack.callback(runner.close)
        try:
            with _about(scenario), _CompileNotice(progress):
                result = simulate(project, iterations, seed=seed, progress=progress,
                                  risks=risk_mode, backend=runner, levelling=levelling,
                                  priority=priority, sensitivity=True)
        finally:
            progress.close()
        _check_result_has_costs(scenario, budget, budget_spec, result)
        ranking = None
        if rank_risks:
            ranking = _rank_risks(scenario, project, result, rank_percentile, runner,
                                  levelling, priority)
    elapsed = time.perf_counter() - t0
    from .uncertainty import zero_variance_warning
    _loud_warnings(filter(None, [zero_variance_warning(project, risk_mode, source=scenario,
                                                       command="report")]))
    written = _write_report_file("-o", output, scenario, result, target_spec, budget_spec,
                                 ranking, status)
    fin = result.finish
    p50, p80 = float(fin.percentile(50)), float(fin.percentile(80))
    when = (f"P50 {_finish_date(project, p50)}, P80 {_finish_date(project, p80)}"
            if project.start is not None else
            f"P50 {_fmt_days(p50)}, P80 {_fmt_days(p80)} working days")
    click.echo(f"{project.name}: {result.iterations:,} iterations, seed {result.seed}, "
               f"{elapsed:.2f} s; finish {when}")
    click.echo(f"Wrote {written}")


def _loud_warnings(warnings) -> None:
    """Warnings about the run itself on stderr, before the summary, in bold where the
    terminal shows it: a zero-variance run must not pass for a result."""
    for text in warnings:
        click.secho(f"Warning: {text}", err=True, fg="yellow", bold=True)


# -- check ----------------------------------------------------------------------------
#: Offending tasks ``pmosim check`` names under each failing check (all are in --json).
CHECK_TASKS_SHOWN = 5
#: Formats whose runs get the one-line schedule check first: imported schedules.
CHECKED_FORMATS = ("mspdi", "xer", "pmxml", "psplib", "dslib")


@cli.command()
@click.argument("schedule", type=click.Path(dir_okay=False, path_type=Path))
@_input_options
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, metavar="PATH",
              help="Also write the full report as JSON, every offending task included "
                   "(docs/health-check.md); '-' prints it on standard output.")
@click.option("--strict", is_flag=True,
              help="Exit with status 1 when an applicable check fails (to gate schedules in "
                   "CI); without it the exit status is 0 whatever the verdict.")
@_friendly
def check(schedule, json_file, strict):
    """Check SCHEDULE's health: the DCMA 14-point assessment.

    Logic, leads, lags, relationship types, hard constraints, high float,
    negative float, high duration, invalid dates, resources, missed tasks, the
    critical path test, CPLI and BEI, each with its standard threshold, the
    value and the first offending tasks. Checks that need data the file lacks
    (a baseline, a data date) say so and count as not applicable, never as
    passed. Reads every input pmosim reads (scenario TOML, MS Project XML, P6
    XER and XML, PSPLIB, DSLIB).

    \b
    Examples:
      pmosim check plan.xer
      pmosim check plan.xml --json health.json
      pmosim check plan.xer --strict && pmosim run plan.xer   # gate a CI pipeline
    """
    from .health import check_schedule
    from .io.json_out import write_json

    to_stdout = json_file == "-"
    say = functools.partial(click.echo, err=to_stdout)
    project = _load(schedule)
    if json_file is not None and not to_stdout:
        if _same_file(Path(json_file), _input_paths(schedule, project)):
            raise click.ClickException(f"--json {json_file} is an input of this check; write "
                                       "the report to another file")
        _check_writable("--json", Path(json_file).parent)
    with _about(schedule), _CompileNotice():
        report = check_schedule(project)
    _health_table(say, schedule, project, report)
    if to_stdout:
        import json
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif json_file is not None:
        try:
            say(f"Wrote {write_json(report.to_dict(), json_file)}")
        except OSError as exc:
            raise click.ClickException(
                f"--json {json_file}: cannot write it: {exc.strerror or exc}") from None
    if strict and not report.passed:
        click.get_current_context().exit(1)


def _health_table(say, schedule, project, report) -> None:
    """The check's table: one row per metric, the offending tasks under a failing one."""
    dd = f", data date {report.data_date}" if report.data_date else ", no data date"
    excluded = (f" ({report.n_excluded:,} connectors, summaries and level-of-effort "
                "tasks left out)" if report.n_excluded else "")
    say(f"Schedule check (DCMA 14-point) of {schedule}: {report.n_incomplete:,} incomplete "
        f"and {report.n_complete:,} complete tasks{excluded}, {report.n_relationships:,} "
        f"relationships to incomplete tasks{dd}")
    say("")
    say(f"  {'#':>2}  {'Check':<20}{'Value':>13}  {'Threshold':<17}Result")
    for m in report.metrics:
        result = {True: "pass", False: "FAIL", None: "n/a"}[m.passed]
        say(f"  {m.id:>2}  {m.name:<20}{m.value_text():>13}  {m.threshold_text():<17}{result}")
        say(f"      {m.explanation}")
        if m.passed is False:
            for line in _offenders(project, m):
                say(f"        {line}")
    say("")
    n_app, n_pass = len(report.applicable), len(report.passing)
    if report.failing:
        n_fail = n_app - n_pass
        verdict = (f"FAIL: {n_fail} of {n_app} applicable check{'s' * (n_app != 1)} "
                   f"fail{'s' * (n_fail == 1)}: "
                   + ", ".join(f"{m.id} {m.name}" for m in report.failing))
    else:
        verdict = (f"PASS: all {n_app} applicable checks pass" if n_app != 1
                   else "PASS: the 1 applicable check passes")
    n_na = len(report.metrics) - n_app
    if n_na:
        verdict += f"; {n_na} not applicable"
    say(f"Verdict: {verdict}")


def _offenders(project, metric) -> list[str]:
    """The first offending tasks (or relationships) of a failing metric, named."""
    def task(t):
        name = project.task_name(t)
        return f"{t}" + (f"  {_clip(name, 50)}" if name != str(t) else "")

    lines = []
    if metric.links:
        for r in metric.links[:CHECK_TASKS_SHOWN]:
            lag = f" {r.lag:+g} d" if r.lag else ""
            lines.append(f"{_clip(str(r.pred), 30)} -> {task(r.succ)}  ({r.type}{lag})")
        more = len(metric.links) - CHECK_TASKS_SHOWN
    else:
        lines = [task(t) for t in metric.tasks[:CHECK_TASKS_SHOWN]]
        more = len(metric.tasks) - CHECK_TASKS_SHOWN
    if more > 0:
        lines.append(f"... and {more:,} more (--json PATH lists them all)")
    return lines


def _health_line(say, scenario, project) -> None:
    """The one-line schedule check before a run of an imported schedule. Costs two CPM
    passes; a schedule that cannot be scheduled is left to the run to report."""
    if project.meta.get("format") not in CHECKED_FORMATS:
        return
    baseline = (project.meta.get("import_report") or {}).get("baseline") or {}
    if baseline.get("finish_reason"):
        # a DSLIB workbook whose CPM finish is not its own baseline finish: the run's
        # deterministic finish would otherwise pass for the workbook's plan
        say(f"Baseline: {baseline['finish_reason']}")
    from .health import check_schedule
    try:
        with _CompileNotice():
            report = check_schedule(project)
    except PmosimError:
        return
    say(report.summary(scenario))


# -- costs of imported schedules, --cost-uncertainty, budgets without costs ---------------
def _cost_rules() -> tuple:
    """The running command's --cost-uncertainty rules, parsed (empty without them)."""
    ctx = click.get_current_context(silent=True)
    texts = (ctx.meta.get(_COST_KEY) if ctx is not None else None) or ()
    from .uncertainty import parse_cost_rule
    rules = []
    for text in texts:
        try:
            rules.append(parse_cost_rule(text))
        except ModelError as exc:
            raise click.ClickException(f"--cost-uncertainty: {exc}") from None
    return tuple(rules)


def _apply_cost_uncertainty(scenario, project, rules):
    from .uncertainty import apply_cost_uncertainty
    try:
        project = apply_cost_uncertainty(project, list(rules))
    except ModelError as exc:
        raise click.ClickException(f"--cost-uncertainty: {scenario}: {exc}") from None
    for warning in project.meta["cost_uncertainty"]["warnings"]:
        click.echo(f"Warning: {warning}", err=True)
    return project


def _has_costs(project) -> bool:
    """Whether a run of ``project`` can have a cost: task costs, a project cost rate or a
    risk cost impact (before or after mitigation)."""
    if getattr(project, "cost_rate", None) is not None:
        return True
    if any(d.get("cost_fixed") is not None or d.get("cost_rate") is not None
           for _, d in project.graph.nodes(data=True)):
        return True
    return any(r.pre.cost_impact is not None
               or (r.post is not None and r.post.cost_impact is not None)
               for r in getattr(project, "risks", {}).values())


#: How to give an imported schedule costs, by input format.
_ADD_COSTS = {
    "xer": "the P6 file has no resource assignments with costs (TASKRSRC) and no expenses "
           "(PROJCOST); cost-load it in P6, or import it (pmosim import FILE -o plan.toml) "
           "and set cost_fixed or cost_rate on its tasks",
    "pmxml": "the P6 file has no resource assignments with costs and no expenses; cost-load "
             "it in P6, or import it (pmosim import FILE -o plan.toml) and set cost_fixed or "
             "cost_rate on its tasks",
    "mspdi": "the MS Project file has no task costs (fixed costs, or resources with rates "
             "assigned to tasks); add them in MS Project, or import it (pmosim import FILE -o "
             "plan.toml) and set cost_fixed or cost_rate on its tasks",
}


def _require_costs(option_value, budget_spec, scenario, project) -> None:
    """Refuse a budget for a project without costs before simulating, not after."""
    if budget_spec is None or _has_costs(project):
        return
    where = "--budget" if option_value is not None else "project.budget"
    how = _ADD_COSTS.get(project.meta.get("format"),
                         "set cost_fixed or cost_rate on tasks, cost_impact on risks or "
                         "cost_rate under [project]"
                         + ("" if project.meta.get("format") in (None, "toml", "scenario")
                            else " of the scenario that pmosim import writes"))
    raise click.ClickException(
        f"{where} {budget_spec['given']}: {scenario} has no costs to compare with a budget; "
        f"{how}")


def _imported_cost_summary(say, project) -> None:
    """The costs an imported schedule brought, and the cost ranges applied, after the
    cost table of ``run``."""
    costs = (project.meta.get("import_report") or {}).get("costs") or {}
    currency = project.meta.get("currency")

    def cents(x):               # the schedule's own figures, to the cent
        return f"{x:,.2f}" + (f" {currency}" if currency else "")
    if costs.get("tasks"):
        parts = [f"at completion {cents(costs['at_completion'])} (actual "
                 f"{cents(costs['actual'])} + remaining "
                 f"{cents(costs['remaining'])})"]
        if costs.get("budgeted") is not None:
            parts.append(f"budgeted {cents(costs['budgeted'])}")
        say(f"Costs from the schedule, on {costs['tasks']:,} tasks: " + "; ".join(parts)
            + f". Of the remaining cost, {cents(costs['time_dependent'])} scales "
            "with the sampled durations (cost_rate); the actual cost is spent and stays.")
    applied = project.meta.get("cost_uncertainty")
    if applied:
        rules = "; ".join(f"{r} on {n} tasks" for r, n in zip(applied["rules"],
                                                             applied["tasks_per_rule"]))
        say(f"Cost uncertainty: {rules}; kept {applied['kept_explicit']} with their own "
            f"distribution, {applied['kept_complete']} completed")


# -- run history (run --record, pmosim history) --------------------------------------------
#: The chart ``pmosim history`` writes into --out.
FORECAST_DRIFT_PNG = "forecast-drift.png"
#: Characters of the model's SHA-256 the history table shows (--json has all 64).
HASH_SHOWN = 10


def _configured_history(source, project, option_path):
    """(history file, the setting that named it) from --history, the scenario's
    ``[project] history`` (relative to its folder) or $PMOSIM_HISTORY; (None, None)."""
    from .history import ENV_VAR
    if option_path is not None:
        return Path(option_path), "--history"
    name = project.meta.get("history") if project is not None else None
    if name:
        path = Path(name).expanduser()
        return (path if path.is_absolute() else Path(source).parent / path,
                f"project.history in {source}")
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser(), ENV_VAR
    return None, None


def _history_setting(scenario, project, inputs):
    """(history file, the setting that named it) this run records into, or None. Checked
    now, before the run: a folder that cannot be written or a file that is not a pmosim
    history (or is of a newer pmosim) is refused before the iterations, not after."""
    from .history import DEFAULT_NAME, check_history, check_writable
    ctx = click.get_current_context(silent=True)
    record, option_path = (ctx.meta.get(_HISTORY_KEY) if ctx is not None else None) \
        or (None, None)
    if record is False:
        if option_path is not None:
            raise click.ClickException(
                f"--no-record with --history {option_path}: --history records the run; "
                "give one of them")
        return None
    path, what = _configured_history(scenario, project, option_path)
    if path is None:
        if not record:
            return None
        bundled = Path(scenario) == default_scenario()
        # not into the installed package: the bundled scenario's history goes here
        path = Path(DEFAULT_NAME) if bundled else Path(scenario).parent / DEFAULT_NAME
        what = "--record"
    if _same_file(path, inputs):
        raise click.ClickException(
            f"{what}: the run history {path} is an input of this run (the scenario or its "
            "task CSV); record into another file with --history PATH")
    check_writable(path, what)
    try:
        check_history(path)
    except PmosimError as exc:
        raise click.ClickException(f"{what}: {exc}") from None
    return path, what


def _record_run(history_at, result, scenario, doc, elapsed) -> str:
    """Record the run; the line that says where."""
    from .history import record_run
    path, what = history_at
    try:
        run_id = record_run(result, path, scenario=scenario,
                            target=doc.get("target"), budget=doc.get("budget"),
                            evm=doc.get("evm"), elapsed=elapsed, warnings=doc["warnings"])
    except PmosimError as exc:
        raise click.ClickException(f"{what}: {exc}") from None
    name = result.project.name or Path(scenario).stem
    # the bundled scenario's runs are here, not beside it: name the project instead
    subject = name if Path(scenario) == default_scenario() else str(scenario)
    return (f"Recorded run {run_id} of {name!r} in {path} (the trend: pmosim history "
            f"{_shell_word(subject)}"
            f"{'' if what != '--history' else ' --history ' + _shell_word(str(path))})")


def _shell_word(text: str) -> str:
    import shlex
    return shlex.quote(text)


def _looks_like_file(text: str) -> bool:
    from .io import SUFFIXES
    return Path(text).suffix.lower() in SUFFIXES or os.sep in text or "/" in text


@cli.command("history")
@click.argument("project_or_scenario", required=False, metavar="[PROJECT_OR_SCENARIO]")
@click.option("--history", "history_file", metavar="PATH", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The run history file (default: as 'run' finds it for a scenario, else "
                   "$PMOSIM_HISTORY, else pmosim.db here).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True),
              default=None,
              help="Also write the project's runs as JSON to FILE (every column, full seeds "
                   "and hashes, all P-values); '-' prints it to standard output.")
@click.option("--tasks", "with_tasks", is_flag=True,
              help="With --json: add each run's per-task statistics.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default="pmosim-out", show_default=True,
              help=f"Folder for {FORECAST_DRIFT_PNG}, the forecast drift chart.")
@_friendly
def history_(project_or_scenario, history_file, json_file, with_tasks, out_dir):
    """Show how a project's forecast moved: P50/P80 finish and cost by status date.

    PROJECT_OR_SCENARIO is a scenario or schedule file (its project's runs, in the
    history file 'run --record' records into) or a project name. Prints one row per
    recorded run and draws forecast-drift.png (P50 and P80 finish with the P10-P90
    band at each status date; the cost below when the runs have costs). Without
    PROJECT_OR_SCENARIO, lists the projects in the history file.

    \b
    Examples:
      pmosim run plan.xer --record                 # each status date, into pmosim.db
      pmosim history plan.xer                      # the trend of plan.xer's project
      pmosim history "Office move" --history //share/pmo/pmosim.db --json trend.json
      pmosim history --history pmosim.db           # the projects recorded there
    """
    from .history import DEFAULT_NAME, ENV_VAR, list_projects, load_runs

    to_stdout = json_file == "-"
    say = functools.partial(click.echo, err=to_stdout)
    arg = project_or_scenario
    if arg is not None and Path(arg).is_file():
        project = _load(Path(arg))
        key = project.name or Path(arg).stem
        path, _ = _configured_history(arg, project, history_file)
        path = path if path is not None else Path(arg).parent / DEFAULT_NAME
    else:
        key = arg
        env = os.environ.get(ENV_VAR, "").strip()
        path = (history_file if history_file is not None
                else Path(env).expanduser() if env else Path(DEFAULT_NAME))

    projects = list_projects(path)
    if key is None:
        if not projects:
            say(f"{path} holds no recorded runs yet; record one with: pmosim run SCENARIO "
                "--record")
            return
        say(f"Projects in {path}:")
        width = max(len(p["project_key"]) for p in projects)
        for p in projects:
            last = p["last_status_date"] or "no status date"
            say(f"  {p['project_key']:<{width}}  {p['runs']:>4} run{'s' if p['runs'] != 1 else ' '}"
                f"  last status date {last}, recorded {_local_time(p['last_recorded'])}")
        say("Show one with: pmosim history NAME" + (f" --history {_shell_word(str(path))}"
                                                    if history_file is not None else ""))
        return
    if key not in {p["project_key"] for p in projects}:
        if _looks_like_file(key):
            raise click.ClickException(
                f"{key}: no such file, and no project of that name in {path}; give a "
                "scenario or schedule file, or a project name (pmosim history without one "
                "lists the projects)")
        known = ", ".join(f"{p['project_key']!r} ({p['runs']} run{'s' if p['runs'] != 1 else ''})"
                          for p in projects[:10])
        raise click.ClickException(
            f"no runs of project {key!r} in {path}; "
            + (f"it has {known}" if projects else "it holds no runs yet")
            + "; record one with: pmosim run SCENARIO --record"
            + (f" --history {_shell_word(str(path))}" if history_file is not None else ""))
    _check_writable("--out", out_dir)
    if json_file is not None and not to_stdout:
        _check_writable("--json", Path(json_file).parent)
    runs = load_runs(path, key, tasks=with_tasks)
    _history_table(say, key, path, runs)

    from . import plots
    from .history import trend_dict
    from .io.json_out import write_json
    written = [Path(plots.save_png(plots.forecast_drift(runs), out_dir / FORECAST_DRIFT_PNG))]
    doc = trend_dict(runs, project_key=key, path=path)
    if to_stdout:
        import json
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif json_file is not None:
        written.append(write_json(doc, json_file))
    say("Wrote " + ", ".join(str(p) for p in written))


def _local_time(text) -> str:
    """A recorded UTC moment in this machine's local time, to the minute."""
    if not text:
        return ""
    return _dt.datetime.fromisoformat(text).astimezone().strftime("%Y-%m-%d %H:%M")


#: Earned-value indices ``pmosim history`` shows when recorded runs have them.
_HISTORY_INDICES = (("spi_t", "SPI(t)"), ("cpi", "CPI"))


def _history_table(say, key, path, runs) -> None:
    """The trend table of ``pmosim history`` and a line on how far P80 moved."""
    from .history import drift_points, run_date
    dated = all(r["finish_p50_date"] for r in runs)
    costed = any(r["cost_p50"] is not None for r in runs)
    currency = next((r["currency"] for r in reversed(runs) if r["currency"]), None)

    def finish(run, q):
        return run[f"finish_p{q}_date"] if dated else _fmt_days(run[f"finish_p{q}"])

    def seed(run):
        text = str(run["seed"])
        return text if len(text) <= 12 else text[:9] + "..."

    header = ["run", "status date", "recorded", "seed", "model", "P50 finish", "P80 finish"]
    if costed:
        header += ["P50 cost", "P80 cost"]
    # runs from a status update: plain or learning (run --learn), and what it learned
    methods = any(r.get("method") for r in runs)
    learned = any(r.get("learned") for r in runs)
    header += ["method"] * methods + ["factor"] * learned
    # the earned-value indices of runs from a status update (run --status-date)
    indices = [(k, label) for k, label in _HISTORY_INDICES
               if any(isinstance((r["evm"] or {}).get(k), (int, float)) for r in runs)]
    header += [label for _, label in indices]
    rows = []
    for run in runs:
        row = [str(run["run_id"]), run["status_date"] or "-", _local_time(run["recorded_at"]),
               seed(run), run["model_hash"][:HASH_SHOWN], finish(run, 50), finish(run, 80)]
        if costed:
            row += ["-" if run["cost_p50"] is None else _money(run["cost_p50"], None),
                    "-" if run["cost_p80"] is None else _money(run["cost_p80"], None)]
        if methods:
            row.append(run.get("method") or "-")
        if learned:
            median = ((run.get("learned") or {}).get("duration") or {}).get("median")
            row.append(f"{median:.3f}" if isinstance(median, (int, float)) else "-")
        for k, _ in indices:
            value = (run["evm"] or {}).get(k)
            row.append(f"{value:.3f}" if isinstance(value, (int, float))
                       and math.isfinite(value) else "-")
        rows.append(row)
    name = runs[-1]["project_name"] or key
    unit = "" if dated else " (finish in working days from the start)"
    say(f"Forecast history of {name!r} in {path}: {len(runs)} run{'s' if len(runs) != 1 else ''}"
        f"{unit}{f', costs in {currency}' if costed and currency else ''}")
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]
    right = {0, 3} | set(range(5 if not dated else 7, len(header)))
    right -= {header.index("method")} if methods else set()
    for row in [header] + rows:
        say("  ".join(c.rjust(w) if k in right else c.ljust(w)
                      for k, (c, w) in enumerate(zip(row, widths))).rstrip())
    points = drift_points(runs)
    if len(points) > 1:
        first, last = points[0], points[-1]
        if dated:
            days = (_dt.date.fromisoformat(last["finish_p80_date"])
                    - _dt.date.fromisoformat(first["finish_p80_date"])).days
            moved = f"{first['finish_p80_date']} -> {last['finish_p80_date']} ({days:+,d} days)"
        else:
            moved = (f"{_fmt_days(first['finish_p80'])} -> {_fmt_days(last['finish_p80'])} "
                     f"({last['finish_p80'] - first['finish_p80']:+,.1f} working days)")
        say(f"P80 finish moved {moved} from {run_date(first)} to {run_date(last)}"
            f" (latest run of each of {len(points)} status dates).")


# -- status updates: earned value and earned schedule (pmosim status, run --status-date) ---
#: Files ``pmosim status --out`` writes.
EVM_JSON = "evm.json"
EVM_PNG = "evm.png"
#: Import formats whose progress is their own (time 0 their data date).
_PROGRESSED = ("mspdi", "xer", "pmxml")


def _status_periods(source, project) -> list:
    """The status updates of a loaded input: a scenario's ``[status]``, a DSLIB
    workbook's tracking periods, or the progress of an MS Project or P6 import (one
    update at its status date)."""
    fmt = project.meta.get("format")
    if fmt == "dslib":
        periods = project.meta.get("tracking")
        if periods is None:
            from .io.dslib import read_dslib_tracking
            periods = read_dslib_tracking(source)
        return list(periods)
    if fmt in _PROGRESSED:
        from .evm import status_from_import
        period = status_from_import(project)
        return [period] if period is not None else []
    return list(project.meta.get("status") or [])


def _accrual_of(project, option=None) -> str:
    """--fixed-cost-accrual, else the project's own (see :func:`pmosim.evm.default_accrual`)."""
    from .evm import default_accrual
    return option if option is not None else default_accrual(project)


def _status_date(say, scenario, project):
    """``run --status-date``: (the project re-planned from that status update, its
    earned-value row for the results JSON's ``evm``); (project, None) without it."""
    ctx = click.get_current_context(silent=True)
    when = ctx.meta.get(_STATUS_DATE_KEY) if ctx is not None else None
    learn, groups = (ctx.meta.get(_LEARN_KEY) if ctx is not None else None) or (False, None)
    if groups is not None and not learn:
        raise click.ClickException(
            f"--learn-groups {groups}: group factors are part of the learning re-forecast; "
            "add --learn (with --status-date)")
    fmt = project.meta.get("format")
    if when is None:
        if learn:
            raise click.ClickException(
                "--learn: the learning re-forecast learns from a status update's actuals; "
                "add --status-date DATE (the latest update on or before DATE) or "
                "--status-date latest")
        updates = project.meta.get("status") or []
        if updates:
            say(f"Note: {scenario} has {len(updates)} status update"
                f"{'s' * (len(updates) != 1)}; this run simulates the plan from its start "
                "(re-forecast from the latest with --status-date latest)")
        return project, None
    if fmt in _PROGRESSED:
        raise click.ClickException(
            f"--status-date {when}: {scenario} is a progressed schedule, simulated from its "
            "own data date with its actual dates and remaining durations; run it without "
            "--status-date")
    from .evm import apply_status, earned_value, resolve_periods, select_period
    with _about(scenario):
        periods = _status_periods(scenario, project)
        if not periods:
            raise click.ClickException(
                f"--status-date {when}: {scenario} has no status updates; add a [status] "
                "table (docs/scenario-format.md, Status updates)")
        try:
            period = select_period(project, periods, when)
        except ModelError as exc:
            raise click.ClickException(f"--status-date {when}: {exc}") from None
        evm = earned_value(project, [period], accrual=_accrual_of(project))
        if learn:
            from .reforecast import apply_learning
            replanned, learned = apply_learning(project, period, accrual=evm.accrual,
                                                groups=groups)
        else:
            replanned, learned = apply_status(project, period, accrual=evm.accrual), None
    row = evm.rows()[0]
    progress = resolve_periods(project, [period], strict=False)[0]
    done = int(progress.complete.sum())
    started = int((progress.started & ~progress.complete).sum())
    say(f"Re-forecast from the status of {row['status_date'] or row['name']}"
        f"{'' if row['name'] == row['status_date'] else ' (' + row['name'] + ')'}: "
        f"{done} task{'s' * (done != 1)} finished, {started} in progress; "
        f"SPI(t) {_index(row['spi_t'])}, CPI {_index(row['cpi'])}")
    if learned is not None:
        _learned_summary(say, project, replanned, learned, groups)
    for warning in evm.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return replanned, row


def _index(x) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.3f}"


#: Group factors ``run --learn --learn-groups`` prints (all are in results.json).
_GROUPS_SHOWN = 8


def _learned_summary(say, project, replanned, learned, groups) -> None:
    """What ``run --learn`` learned: the factors' medians and 80 % intervals (their
    means need not exist: log F has a Student-t posterior) and what they came from."""
    from .reforecast import COST_RISK_ID

    def factor(post) -> str:
        lo, hi = post.interval(0.8)
        return f"{post.median:.3f} (80 % interval {lo:.3f}-{hi:.3f})"

    def plural(n, word) -> str:
        return f"{n} {word}{'s' * (n != 1)}"

    seen = learned.to_dict()["observed"]
    d = learned.duration
    if d.n:
        say(f"Learning re-forecast from {seen['duration']['complete']} finished and "
            f"{seen['duration']['in_progress']} in-progress "
            f"task{'s' * (d.n != 1)} (Bayesian, docs/tracking.md):")
        say(f"  duration factor {factor(d)} on the remaining durations")
    else:
        say("Learning re-forecast (Bayesian, docs/tracking.md): nothing finished or in "
            "progress to learn from")
        say(f"  duration factor {factor(d)}, the plan's prior, on the remaining durations")
    if learned.cost is not None:
        say(f"  cost factor {factor(learned.cost)} on the remaining costs, from the "
            f"actual costs of {plural(learned.cost.n, 'task')}")
        risks = click.get_current_context().params.get("risk_mode")
        if risks == "none" and COST_RISK_ID in replanned.risks:
            say(f"  Note: --risks none also leaves out the cost factor's uncertainty (risk "
                f"event {COST_RISK_ID}); the costs keep its median")
    elif _has_costs(project):
        say("  costs as planned: no task reports an actual cost to learn from")
    if groups is not None:
        posts = list(learned.duration_groups.values())
        if not posts:
            say(f"  --learn-groups {groups}: no finished or started task has a parent "
                "WBS element; one factor for the project")
        for post in posts[:_GROUPS_SHOWN]:
            say(f"  WBS {post.group}: duration factor {factor(post)}, "
                f"{plural(post.n, 'task')}")
        if len(posts) > _GROUPS_SHOWN:
            say(f"  ... and {len(posts) - _GROUPS_SHOWN} more groups (results.json, "
                "reforecast)")


def _reforecast_doc(project) -> dict:
    """The results JSON's ``reforecast`` of a run from a status update: the method and,
    learning, the factors learned (docs/results-format.md)."""
    applied = project.meta.get("status_applied") or {}
    return {"method": applied.get("method", "plain"), "period": applied.get("name"),
            "status_date": applied.get("status_date"), "learned": applied.get("learned")}


def _amount(x, basis) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if basis == "cost" else f"{x:,.1f}"


def _days(x) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:,.1f}"


def _print_table(say, heads, rows, right_from: int) -> None:
    """Columns padded to their widest cell; columns from ``right_from`` right-aligned."""
    table = [heads, *rows]
    widths = [max(len(r[c]) for r in table) for c in range(len(heads))]
    for r in table:
        say("  ".join(cell.rjust(widths[c]) if c >= right_from else cell.ljust(widths[c])
                      for c, cell in enumerate(r)).rstrip())


def _evm_tables(say, evm) -> None:
    """The earned-value table per period, then the cost and finish forecasts."""
    rows = evm.rows()
    named = any(r["name"] != r["status_date"] for r in rows)
    first = (["Period"] if named else []) + ["Status date"]
    label = [([r["name"]] if named else []) + [r["status_date"] or f"day {r['status_time']:g}"]
             for r in rows]
    basis = evm.basis
    unit = (f" in {evm.currency}" if evm.currency else "") if basis == "cost" else \
        " in planned working days (the plan has no costs)"
    say(f"Earned value of {evm.project_name!r}: BAC {_amount(evm.bac, basis)}{unit}, planned "
        f"duration PD {_days(evm.planned_duration)} working days"
        + (f" (finish {evm.date_of(evm.planned_duration)})"
           if evm.date_of(evm.planned_duration) else "")
        + "; fixed costs accrue " + ("over the duration" if evm.accrual == "prorated"
                                     else "at the " + evm.accrual))
    say("")
    heads = first + ["AT", "PV", "EV", "AC", "SV", "CV", "SPI", "CPI", "ES", "SV(t)", "SPI(t)"]
    body = [lab + [_days(r["at"]), _amount(r["pv"], basis), _amount(r["ev"], basis),
                   _amount(r["ac"], "cost"), _amount(r["sv"], basis), _amount(r["cv"], "cost"),
                   _index(r["spi"]), _index(r["cpi"]), _days(r["es"]), _days(r["sv_t"]),
                   _index(r["spi_t"])]
            for lab, r in zip(label, rows)]
    _print_table(say, heads, body, len(first))
    if basis == "cost" and any(r["ac"] is not None for r in rows):
        from .evm import EAC_FACTORS
        say("")
        say("Cost at completion, EAC = AC + (BAC - EV) / PF, by performance factor PF:")
        heads = first + [f"PF={pf}" for pf in EAC_FACTORS]
        body = [lab + [_amount(r["eac"][pf], "cost") for pf in EAC_FACTORS]
                for lab, r in zip(label, rows)]
        _print_table(say, heads, body, len(first))
    from .evm import IEAC_FACTORS
    say("")
    say("Finish, IEAC(t) = AT + (PD - ES) / PF (earned schedule), working days"
        + (" and date" if evm.date_of(0.0) else "") + ":")
    heads = first + [f"PF={pf}" for pf in IEAC_FACTORS]
    body = []
    for lab, r in zip(label, rows):
        cells = []
        for pf in IEAC_FACTORS:
            value, date = r["ieac_t"][pf], r["ieac_t_dates"][pf]
            cells.append(_days(value) + (f" ({date})" if date else ""))
        body.append(lab + cells)
    _print_table(say, heads, body, len(first))
    for warning in evm.warnings:
        click.echo(f"Warning: {warning}", err=True)


@cli.command("status")
@click.argument("schedule", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", metavar="FORMAT", default=None, help=FORMAT_HELP)
@click.option("--json", "json_file", type=click.Path(dir_okay=False, allow_dash=True),
              default=None,
              help="Also write the earned value of every status update as JSON to FILE; '-' "
                   "prints it to standard output (the tables then go to standard error).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None,
              help=f"Folder for {EVM_JSON} and {EVM_PNG} (PV, EV and AC over the status "
                   "updates against the planned value curve, and SPI, CPI and SPI(t)).")
@click.option("--fixed-cost-accrual", "accrual", type=click.Choice(ACCRUALS), default=None,
              help="When a task's fixed cost (cost_fixed) is planned and earned: over its "
                   "duration (prorated), at its start or at its finish. Default: the "
                   "scenario's [status] fixed_cost_accrual; 'start' for DSLIB workbooks "
                   "(ProTrack's rule); else 'prorated'.")
@click.option("--basis", type=click.Choice(BASES), default=None,
              help="Measure value in money (the tasks' planned costs) or in planned working "
                   "days. Default: money when the plan has costs.")
@click.option("--tasks", "per_task", is_flag=True,
              help="Add each task's PV, EV and AC per status update to the JSON.")
@_friendly
def status(schedule, fmt, json_file, out_dir, accrual, basis, per_task):
    """Earned value and earned schedule of SCHEDULE's status updates.

    Per status update: PV, EV, AC, SV, CV, SPI, CPI, ES (earned schedule), SV(t),
    SPI(t), the cost forecasts EAC = AC + (BAC - EV) / PF and the finish forecasts
    IEAC(t) = AT + (PD - ES) / PF (docs/tracking.md). The updates are a scenario's
    [status] table (docs/scenario-format.md, Status updates), a DSLIB workbook's
    tracking periods, or the progress of an MS Project XML file (against its
    Baseline 0).

    \b
    Examples:
      pmosim status plan.toml
      pmosim status plan.toml --out status --json -
      pmosim status "C2011-10 Building a House.xlsx" --out house
    """
    from .evm import earned_value

    from .io import check_size, detect_format

    ctx = click.get_current_context()
    ctx.meta[_INPUT_KEY] = (fmt, ())
    to_stdout = json_file == "-"
    say = functools.partial(click.echo, err=to_stdout)
    if detect_format(schedule, fmt, option="--format") == "dslib":
        from .io.dslib import read_dslib
        check_size(schedule)
        # the baseline and its tracking periods in one read of the workbook
        project = read_dslib(schedule, tracking=True)
    else:
        project = _load(schedule)
    inputs = _input_paths(schedule, project)
    outputs = [("--json", Path(json_file))] if json_file not in (None, "-") else []
    if out_dir is not None:
        outputs += [("--out", out_dir / name) for name in (EVM_JSON, EVM_PNG)]
    for option, path in outputs:
        if _same_file(path, inputs):
            raise click.ClickException(f"{option} {path} is an input; write the earned value "
                                       "to another file")
        _check_writable(option, path.parent)
    with _about(schedule):
        periods = _status_periods(schedule, project)
        if not periods:
            fmt_name = project.meta.get("format")
            hint = ("it has no progress (no task has started)" if fmt_name in _PROGRESSED else
                    "the workbook has no tracking periods (TP sheets)" if fmt_name == "dslib"
                    else "add a [status] table with the status date and the tasks' progress "
                         "(docs/scenario-format.md, Status updates)")
            raise click.ClickException(f"{schedule}: no status updates to measure; {hint}")
        evm = earned_value(project, periods, accrual=_accrual_of(project, accrual),
                           basis=basis)
    from .io.json_out import write_json
    from ._version import __version__
    doc = {"pmosim_version": __version__, "source": str(schedule),
           **evm.to_dict(per_task=per_task)}
    written = []
    if out_dir is not None:
        from . import plots
        written.append(write_json(doc, out_dir / EVM_JSON))
        written.append(Path(plots.save_png(plots.evm_chart(evm), out_dir / EVM_PNG)))
    if json_file is not None and not to_stdout:
        written.append(write_json(doc, json_file))
    if to_stdout:
        import json
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
    _evm_tables(say, evm)
    if written:
        say("\nWrote " + ", ".join(str(p) for p in written))


def _check_rank_risks(scenario, project, rank_risks: bool, risk_mode: str) -> None:
    """Refuse --rank-risks when there is nothing to rank (run and report)."""
    if rank_risks and not project.risks and not project.drivers:
        raise click.ClickException(
            f"--rank-risks: {scenario} has no risks or drivers to rank; add [[risks]] or "
            "[[drivers]] to the scenario")
    if rank_risks and risk_mode == "none" and not project.drivers:
        raise click.ClickException(
            f"--rank-risks with --risks none: {scenario} has no drivers to rank (--risks none "
            "switches every risk event off); use --risks pre or post")


def _check_backend(backend: str, scheduler, threads) -> None:
    """--scheduler and --threads each belong to one backend (run and report)."""
    if scheduler is not None and backend != "dask":
        raise click.ClickException(
            f"--scheduler {scheduler}: a scheduler address is for --backend dask")
    if threads is not None and backend == "dask":
        raise click.ClickException(
            "--threads is for --backend threads; Dask workers have their own threads "
            "(dask worker --nthreads)")


def _check_result_has_costs(scenario, budget, budget_spec, result) -> None:
    """A budget needs a simulated cost (a risk's cost_impact alone can leave none)."""
    if budget_spec is not None and result.cost is None:
        where = "--budget" if budget is not None else "project.budget"
        raise click.ClickException(
            f"{where} {budget_spec['given']}: {scenario} has no costs to compare with a "
            "budget; set cost_fixed or cost_rate on tasks, cost_impact on risks or "
            "cost_rate under [project]")


def _rank_risks(scenario, project, result, percentile, runner, levelling, priority):
    """The risk ranking of ``result``'s run: one run per risk and driver on its seed,
    iterations and register (run and report)."""
    from . import rank_risks as rank
    n_ranked = len(result.risks)
    click.echo(f"Ranking {n_ranked} risk{'s' if n_ranked != 1 else ''} and drivers: "
               f"{n_ranked + 1} runs of {result.iterations:,} iterations on the same random "
               "numbers ...", err=True)
    with _about(scenario), _CompileNotice():
        return rank(project, result.iterations, seed=result.seed, percentile=percentile,
                    risks=result.risk_mode, backend=runner, levelling=levelling,
                    priority=priority)

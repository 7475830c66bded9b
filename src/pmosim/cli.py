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
from .errors import PmosimError

#: Files ``pmosim run`` writes into ``--out``.
RESULTS_JSON = "results.json"
FINISH_PNG = "finish.png"
CRITICALITY_PNG = "criticality.png"
COST_PNG = "cost.png"
JCL_PNG = "jcl.png"
CASHFLOW_PNG = "cashflow.png"
TORNADO_PNG = "tornado.png"
RESOURCES_PNG = "resources.png"
#: Every file ``run`` may write into --out.
RUN_OUTPUTS = (RESULTS_JSON, FINISH_PNG, CRITICALITY_PNG, COST_PNG, JCL_PNG, CASHFLOW_PNG,
               TORNADO_PNG, RESOURCES_PNG)
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
      pmosim warmup                               # compile the kernels ahead of a first run

    Scenario files are TOML (docs/scenario-format.md); MS Project XML (.xml),
    Primavera XER (.xer) and PSPLIB (.sm) files are read too.
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
    fmt, rules = _input_settings()
    project = load(scenario, format=fmt)
    if rules:
        from .uncertainty import apply_uncertainty
        project = apply_uncertainty(project, list(rules))
        for warning in project.meta["uncertainty"]["warnings"]:
            click.echo(f"Warning: {warning}", err=True)
    return project


_INPUT_KEY = "pmosim.input"
FORMAT_HELP = ("Format of the input when its extension does not say it: toml, mspdi (MS "
               "Project XML), xer (Primavera P6), psplib (.sm) or dslib (.xlsx).")
UNCERTAINTY_HELP = (
    "Relative range on the tasks' planned durations, e.g. 'triangular(-10%, 0, +25%)', "
    "'uniform(-10%, +20%)', 'pert(...)', 'trigen(..., P10, P90)'; filter with wbs=CODE, "
    "id=GLOB or FIELD=VALUE before it: 'wbs=1.2: pert(-5%, 0, +40%)'. Repeat for more rules "
    "(a later rule wins). Tasks with their own distribution, milestones and completed tasks "
    "keep theirs.")


def _input_settings():
    """(--format, --uncertainty rules) of the running command; (None, ()) without them."""
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(_INPUT_KEY) if ctx is not None else None) or (None, ())


def _input_options(command):
    """Add --format and --uncertainty to a command that reads its input through _load."""
    @functools.wraps(command)
    def wrapper(*args, fmt=None, uncertainty=(), **kwargs):
        click.get_current_context().meta[_INPUT_KEY] = (fmt, tuple(uncertainty))
        return command(*args, **kwargs)
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
@_friendly
def run(scenario, iterations, seed, threads, out_dir, json_file, target, budget, risk_mode,
        rank_risks, rank_percentile, backend, scheduler, levelling, priority):
    """Simulate SCENARIO and report finish percentiles, dates, critical tasks, risks and cost.

    Without SCENARIO, runs the bundled example scenario. Writes results.json,
    finish.png (histogram and S-curve) and criticality.png into --out; with costs
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
      pmosim run plan.toml -n 1000000 --backend dask --scheduler tcp://10.0.0.5:8786
      pmosim run j1201_1.sm --levelling serial --priority lft
    """
    from . import simulate
    from .io.json_out import results_dict, write_json

    to_stdout = json_file == "-"
    say = functools.partial(click.echo, err=to_stdout)
    if scenario is None:
        scenario = default_scenario()
        say(f"No SCENARIO given: running the bundled default scenario {scenario}")
    project = _load(scenario)
    target_spec = _parse_target(target, project) if target is not None else None
    budget_spec = _parse_budget(budget, project)
    inputs = _input_paths(scenario, project)
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
    if rank_risks and not project.risks and not project.drivers:
        raise click.ClickException(
            f"--rank-risks: {scenario} has no risks or drivers to rank; add [[risks]] or "
            "[[drivers]] to the scenario")
    if rank_risks and risk_mode == "none" and not project.drivers:
        raise click.ClickException(
            f"--rank-risks with --risks none: {scenario} has no drivers to rank (--risks none "
            "switches every risk event off); use --risks pre or post")

    if scheduler is not None and backend != "dask":
        raise click.ClickException(
            f"--scheduler {scheduler}: a scheduler address is for --backend dask")
    if threads is not None and backend == "dask":
        raise click.ClickException(
            "--threads is for --backend threads; Dask workers have their own threads "
            "(dask worker --nthreads)")
    from .backends import get_backend

    progress = _Progress(sys.stderr, iterations)
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
                result = simulate(project, iterations, seed=seed, progress=progress,
                                  risks=risk_mode, backend=runner, levelling=levelling,
                                  priority=priority)
        finally:
            progress.close()
        if budget_spec is not None and result.cost is None:
            where = "--budget" if budget is not None else "project.budget"
            raise click.ClickException(
                f"{where} {budget_spec['given']}: {scenario} has no costs to compare with a "
                "budget; set cost_fixed or cost_rate on tasks, cost_impact on risks or "
                "cost_rate under [project]")
        ranking = None
        if rank_risks:
            from . import rank_risks as rank
            n_ranked = len(result.risks)
            click.echo(f"Ranking {n_ranked} risk{'s' if n_ranked != 1 else ''} and drivers: "
                       f"{n_ranked + 1} runs of {iterations:,} iterations on the same random "
                       "numbers ...", err=True)
            with _about(scenario), _CompileNotice():
                ranking = rank(project, iterations, seed=result.seed,
                               percentile=rank_percentile, risks=risk_mode, backend=runner,
                               levelling=levelling, priority=priority)
        elapsed = time.perf_counter() - t0
        doc = results_dict(result, scenario=scenario, target=target_spec, budget=budget_spec,
                           ranking=ranking)
        plotter.start(result, out_dir, doc, ranking)
        written = [write_json(doc, out_dir / RESULTS_JSON)]
        if json_file is not None and not to_stdout:
            json_written = write_json(doc, json_file)
        written += plotter.finish()
        if json_file is not None and not to_stdout:
            written.append(json_written)

    if to_stdout:
        import json
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    _summary(say, project, scenario, result, doc, elapsed)
    _levelling_summary(say, result)
    _risk_summary(say, result, ranking)
    _cost_summary(say, project, result, doc)
    say("Wrote " + ", ".join(str(p) for p in written))


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


def _write_plots(result, out_dir: Path, doc: dict, ranking) -> list[Path]:
    from . import plots
    target = doc["target"]["value"] if "target" in doc else None
    out = [(plots.finish_histogram(result, target=target), FINISH_PNG),
           (plots.criticality_chart(result, top=TOP_TASKS), CRITICALITY_PNG)]
    if result.cost is not None:
        currency = result.project.meta.get("currency")
        budget = doc["budget"]["value"] if "budget" in doc else None
        out += [(plots.cost_histogram(result, budget=budget, currency=currency), COST_PNG),
                (plots.jcl_scatter(result, target=target, budget=budget, p=JCL_LEVEL,
                                   currency=currency), JCL_PNG),
                (plots.cashflow_fan(result, budget=budget, currency=currency), CASHFLOW_PNG)]
    if ranking is not None:
        out.append((plots.risk_tornado(ranking), TORNADO_PNG))
    if result.levelling is not None and result.levelling.resources:
        out.append((plots.resource_usage_fan(result), RESOURCES_PNG))
    return [Path(plots.save_png(ax, out_dir / name)) for ax, name in out]


class _PlotWorker:
    """Draws a run's PNGs in a process forked when the command starts: it imports
    matplotlib (~0.3 s) while this process loads the kernels and simulates, then draws
    while this process writes the JSON (a warm run of the bundled scenario: 1.7 ->
    1.4 s). Where fork is unavailable, or other threads exist (forking them is unsafe),
    or the child is gone, the plots are drawn here as before."""

    def __init__(self):
        self.proc = self.conn = self.job = None

    def __enter__(self):
        import multiprocessing
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("fork")
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_plot_child, args=(child,), daemon=True)
            self.proc.start()
            child.close()
        return self

    def start(self, result, out_dir, doc, ranking):
        """Hand the drawing over (or note it, to draw in :meth:`finish`)."""
        self.job = (result, out_dir, doc, ranking)
        if self.proc is not None:
            try:
                self.conn.send(self.job)
            except (OSError, ValueError):
                self._stop()

    def finish(self) -> list[Path]:
        """The PNGs written."""
        if self.proc is not None:
            try:
                status, payload = self.conn.recv()
            except (OSError, EOFError):
                status, payload = None, None
            self._stop()
            if status == "ok":
                return payload
            if status == "error":
                raise click.ClickException(payload)
        try:
            return _write_plots(*self.job)
        except OSError as exc:
            raise click.ClickException(f"writing the plots into {self.job[1]}: {exc}") from None

    def _stop(self):
        if self.proc is not None:
            self.conn.close()
            self.proc.join(timeout=10)
            if self.proc.is_alive():
                self.proc.terminate()
            self.proc = None

    def __exit__(self, *exc):
        self._stop()


def _plot_child(conn):
    """The plot process: import matplotlib now, draw when the results arrive."""
    try:
        from . import plots  # noqa: F401  (the slow import, while the parent simulates)
        job = conn.recv()
    except (EOFError, OSError, KeyboardInterrupt):
        return
    try:
        conn.send(("ok", _write_plots(*job)))
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
    say(header + ("   date (end of day)" if dated else ""))
    kind = "CPM" if result.levelling is None else "levelled"
    rows = [(f"Deterministic ({kind})", fin.deterministic), ("Mean", fin.mean)]
    rows += [(f"P{q}", float(fin.percentile(q))) for q in SUMMARY_PERCENTILES]
    for label, t in rows:
        line = f"  {label:<20}{_fmt_days(t):>14}"
        say(line + (f"   {_finish_date(project, t)}" if dated else ""))
    say(f"  {'Std deviation':<20}{_fmt_days(fin.std):>14}")
    say(f"Chance of finishing by the deterministic ({kind}) finish: "
        f"{100 * fin.probability_le(fin.deterministic):.1f}%")
    if "target" in doc:
        tgt = doc["target"]
        given, days = tgt["given"].strip(), _fmt_days(tgt["value"])
        if _is_number(given):
            what = f"of {days} working days" + (f" ({tgt['date']})" if "date" in tgt else "")
        else:
            what = f"{given} ({days} working days)"
        say(f"Chance of meeting the target {what}: {100 * tgt['probability']:.1f}%")
    say("")
    say("Most critical tasks (share of iterations on the critical path)")
    names = dict(zip(result.tasks.ids, result.tasks.names))
    for task_id, crit in result.most_critical(TOP_TASKS):
        name = str(names.get(task_id, task_id))
        say(f"  {100 * crit:5.1f}%  {task_id}" + (f"  {name}" if name != str(task_id) else ""))
    say("")


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
        say(f"  {'id':<{width}}  {key + ' shift':>10}  {'mean shift':>10}  name")
        for e in ranking.entries:
            name = e.name if e.name != str(e.id) else ""
            say(f"  {str(e.id):<{width}}  {e.percentile_shift:+10.1f}  {e.mean_shift:+10.1f}  "
                f"{name}".rstrip())
        say("")


def _money(value: float, currency) -> str:
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def _cost_summary(say, project, result, doc):
    if result.cost is None:
        return
    cost = result.cost
    currency = project.meta.get("currency")
    say("Project cost" + (f" ({currency})" if currency else ""))
    rows = [("Planned (deterministic)", cost.deterministic), ("Mean", cost.mean)]
    rows += [(f"P{q}", float(cost.percentile(q))) for q in SUMMARY_PERCENTILES]
    for label, value in rows:
        say(f"  {label:<24}{value:>16,.0f}")
    say(f"  {'Std deviation':<24}{cost.std:>16,.0f}")
    p80 = float(cost.percentile(80))
    say(f"Contingency at P80 over the planned cost: {_money(p80 - cost.deterministic, currency)}")
    if "budget" in doc:
        b = doc["budget"]
        say(f"Chance of staying within the budget of {_money(b['value'], currency)}: "
            f"{100 * b['probability']:.1f}%")
    joint = doc.get("jcl", {}).get("target_and_budget")
    if joint is not None:
        say(f"Joint confidence (JCL) of meeting both the target and the budget: "
            f"{100 * joint['probability']:.1f}%")
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
@_friendly
def cpm(scenario, levelling, priority, improve):
    """Print the deterministic critical path schedule of SCENARIO.

    One row per task on planned durations: early and late start and finish
    (dates when the scenario has a start date, else working days; date and time
    for an imported schedule with working calendars, each task on its own
    calendar), total float (working days of the task's calendar) and whether the
    task is critical.

    \b
    Examples:
      pmosim cpm scenarios/building-fit-out.toml
      pmosim cpm plan.toml | grep yes          # the critical tasks
      pmosim cpm j301_1.sm --levelling serial  # the resource-levelled schedule
      pmosim cpm j301_1.sm --levelling serial --improve 3000

    Levelled, the schedule is the serial schedule generation scheme's, a task is
    critical on the driving path (links and resource releases), and float is
    measured over the links plus those resource links.
    """
    from . import cpm as run_cpm

    project = _load(scenario)
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
    flt = [f"{f:.1f}" for f in res.total_float]
    crit = ["yes" if c else "" for c in res.critical]
    table = [("ID", *ids), ("Name", *names), ("Duration", *dur), *(
        (h, *c) for h, c in zip(heads, cols)), ("Float", *flt), ("Critical", *crit)]
    widths = [min(max(len(x) for x in col), 40) for col in table]
    right = {2, 3, 4, 5, 6, 7} if project.start is None and not wallclock else {2, 7}
    for r in range(len(ids) + 1):
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
    click.echo("Critical path: " + " -> ".join(str(t) for t in res.critical_path))


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
    run. What the scenario format cannot hold (per-task calendars, constraints,
    progress, ...) is listed here and in the file's header comment.

    \b
    Examples:
      pmosim import plan.xml -o plan.toml
      pmosim import sp10.xer -o sp10.toml --uncertainty "triangular(-10%, 0, +25%)"
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

"""How closely pmosim's late dates and total float match MS Project's on the MSPDI files of
``../shared/data`` (issue 17): MS Project stores its own results per task (``LateStart``,
``LateFinish``, and ``TotalSlack`` in tenths of a minute of working time).

    python benchmarks/mspdi_late_dates.py [--data ../shared/data] [--show 3]

Every ``*.xml`` under ``mpxj/`` and ``projectlibre/`` that :func:`pmosim.io.mspdi.read_mspdi`
reads is scheduled with :func:`pmosim.cpm`. Only files whose early dates are MS Project's
for every task (``early_start_date``/``early_finish_date`` equal to the file's
``Start``/``Finish``, as in ``tests/test_import_mspdi.py``) are compared: late dates mean
nothing where the early ones differ. Per incomplete task: late start and late finish to
the second, total float to half a tenth of a minute (pmosim's is in working days of the
task's calendar, ``MinutesPerDay`` long; for a task with an elapsed duration MS Project
counts slack in elapsed time, which is converted to working time on the task's calendar
from its early finish).

Every miss is classified from the data, by the first rule that explains all of the
task's differing fields:

``no late dates``
    the file stores no ``LateStart``/``LateFinish`` (ProjectLibre writes none, and
    ``TotalSlack`` 0 for every task): the file is not compared.
``stale``
    a task without successors and without a late constraint or deadline has a stored
    late finish that is not the file's ``FinishDate`` in working time: the file's late
    dates are consistent with another project finish than the one it stores.
``in progress``
    late finish and float agree; MS Project's late start of a started task is its start
    moved by its finish slack (``LateStart - Start = LateFinish - Finish``), pmosim's
    (as P6's) is the remaining duration before its late finish.
``elapsed``
    an elapsed-duration task whose late finish is pmosim's in working time, both late
    dates moved by the same elapsed gap: MS Project keeps the late finish at the moment
    its bound gives (08:00 of a working day), pmosim moves it back to the end of the
    earlier working period (17:00), as for a task on working time.
``next period start``
    the late finish is pmosim's in working time, shown at the start of the next working
    period instead of the end of the earlier one; late start and float agree.
``finish before start``
    the file's ``FinishDate`` (its latest early finish) is before its ``StartDate``
    (pmosim's data date): tasks pinned by start-no-earlier-than dates before the project
    start. MS Project's backward pass starts at the latest early finish, pmosim's at the
    data date (``forward_pass_cal`` starts the project finish at 0). Confirmed when
    pmosim, given a data date before every task (the early dates unchanged), matches.
``start links ignored``
    the task has start-to-start or start-to-finish successors, and pmosim, with those
    links taken away (the successors held at their early dates), gives the file's late
    dates and float: MS Project let the links put no bound on the task.
``unexplained``
    none of these.

A class ``X + in progress`` is ``X`` for the late finish and float, ``in progress`` for
the late start.

A file's stored late dates are *consistent* when it stores them and no task is ``stale``.
The last column says how many of the misses are manually scheduled tasks (which pmosim
imports as automatically scheduled).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pmosim
from pmosim.errors import ScheduleImportError
from pmosim.io._common import WorkWeek, parse_xml, read_bytes
from pmosim.io.mspdi import read_mspdi

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
#: MSPDI ConstraintType values that bound a late date (MSO, MFO, SNLT, FNLT).
LATE_CONSTRAINTS = {"MSO", "MFO", "SNLT", "FNLT"}
CLASSES = ("stale", "in progress", "elapsed", "next period start", "finish before start",
           "finish before start + in progress", "start links ignored",
           "start links ignored + in progress", "unexplained")
#: Half a tenth of a minute, in hours: TotalSlack is a whole number of tenths.
SLACK_TOL_H = 0.05 / 60


@dataclass
class TaskRow:
    """One incomplete task of a compared file."""

    uid: int
    ls: bool
    lf: bool
    tf: bool
    manual: bool
    cls: str | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.ls and self.lf and self.tf


@dataclass
class FileReport:
    """What :func:`compare_file` found for one file."""

    path: Path
    status: str                      # "compared", "no late dates", "early dates differ"
    rows: list = field(default_factory=list)
    stale_finish: dict = field(default_factory=dict)   # uid -> implied project finish
    finish: dt.datetime | None = None
    start: dt.datetime | None = None

    @property
    def consistent(self) -> bool:
        """The file stores late dates and none is stale."""
        return self.status == "compared" and not self.stale_finish

    def counts(self) -> Counter:
        c = Counter(n=len(self.rows))
        for r in self.rows:
            c["ls"] += r.ls
            c["lf"] += r.lf
            c["tf"] += r.tf
            c["all"] += r.ok
            if not r.ok:
                c[r.cls] += 1
                c["manual misses"] += r.manual
        return c


def mspdi_files(data: Path = DATA) -> list[Path]:
    """Every ``*.xml`` under ``mpxj/`` and ``projectlibre/`` (PMXML files among them)."""
    return [p for sub in ("mpxj", "projectlibre") for p in sorted((data / sub).rglob("*.xml"))]


def stored_late_dates(path) -> tuple[dict, dict]:
    """MS Project's own results: ``{uid: {late_start, late_finish, total_slack,
    early_finish, manual}}`` (datetimes; slack in tenths of a minute; None when absent)
    and the project's ``start``/``finish`` (``StartDate``/``FinishDate``)."""
    root = parse_xml(read_bytes(path, "MS Project XML"), path, "MS Project")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""

    def text(el, tag):
        found = el.find(f"{{{ns}}}{tag}" if ns else tag)
        return found.text if found is not None and found.text else None

    def moment(el, tag):
        value = text(el, tag)
        return dt.datetime.fromisoformat(value) if value else None

    tasks = {}
    for el in root.iter(f"{{{ns}}}Task" if ns else "Task"):
        uid = text(el, "UID")
        if uid is None:
            continue
        slack = text(el, "TotalSlack")
        tasks[int(uid)] = {"late_start": moment(el, "LateStart"),
                           "late_finish": moment(el, "LateFinish"),
                           "total_slack": float(slack) if slack is not None else None,
                           "early_finish": moment(el, "EarlyFinish"),
                           "manual": text(el, "Manual") == "1"}
    return tasks, {"start": moment(root, "StartDate"), "finish": moment(root, "FinishDate")}


class _Weeks:
    """:class:`WorkWeek` of each calendar of ``project``, tabulated around ``moments``."""

    def __init__(self, project, moments):
        self.project = project
        days = [m.date() for m in moments if m is not None]
        self.first = min(days) - dt.timedelta(days=60)
        self.last = max(days) + dt.timedelta(days=60)
        self.cache = {}

    def __call__(self, key) -> WorkWeek:
        if key not in self.cache:
            cal = self.project.meta["calendars"][key]
            self.cache[key] = WorkWeek(cal["week"], cal["exceptions"],
                                       self.project.meta["data_date"], self.first, self.last,
                                       name=str(key))
        return self.cache[key]


def _same_work(week: WorkWeek, a, b) -> bool:
    return abs(week.work(a) - week.work(b)) <= SLACK_TOL_H


def _file_float_days(d, stored, week, hpd) -> float | None:
    """The file's TotalSlack in working days of the task's calendar (elapsed slack of an
    elapsed-duration task converted from its early finish)."""
    slack = stored["total_slack"]
    if slack is None:
        return None
    if d.get("elapsed_hours") is not None and stored["early_finish"] is not None:
        end = stored["early_finish"] + dt.timedelta(minutes=slack / 10)
        return (week.work(end) - week.work(stored["early_finish"])) / hpd
    return slack / 600 / hpd


def _check(project, cpm, i, stored, weeks):
    """(ls, lf, tf) agreement of position ``i`` of ``cpm`` with the stored values; for an
    in-progress task a fourth flag: MS Project's late start is its early start moved by
    its finish slack (``LateStart - Start = LateFinish - Finish`` in working time)."""
    t = cpm.task_ids[i]
    d = project.graph.nodes[t]
    cal = d["calendar"]
    week = weeks(cal)
    hpd = project.meta["calendars"][cal]["hours_per_day"]
    ftf = _file_float_days(d, stored, week, hpd)
    tf = ftf is not None and abs(cpm.total_float[i] - ftf) * hpd <= SLACK_TOL_H
    ls, lf = stored["late_start"], stored["late_finish"]
    shifted = (d["status"] == "in progress" and ls is not None and lf is not None
               and abs(week.work(ls) - week.work(cpm.early_start_date[i])
                       - week.work(lf) + week.work(cpm.early_finish_date[i])) <= SLACK_TOL_H)
    return (cpm.late_start_date[i] == ls, cpm.late_finish_date[i] == lf, bool(tf), shifted)


def _rerun(project, cpm, tids, stored, weeks, change) -> dict:
    """:func:`_check` of each task of ``tids`` after ``change(copy)``; empty unless the
    copy's early dates are the original's (so that only the backward pass differs)."""
    other = copy.deepcopy(project)
    change(other)
    r = pmosim.cpm(other)
    pos = {t: k for k, t in enumerate(r.task_ids)}
    same = all((r.early_start_date[pos[t]], r.early_finish_date[pos[t]])
               == (cpm.early_start_date[k], cpm.early_finish_date[k])
               for k, t in enumerate(cpm.task_ids))
    return {t: _check(other, r, pos[t], stored[t], weeks) for t in tids} if same else {}


def _explained(flags) -> str | None:
    """None when (ls, lf, tf, shifted) do not all agree; "" when they do; "in progress"
    when the late start agrees only as MS Project shows an in-progress task's."""
    ls, lf, tf, shifted = flags
    if not (lf and tf):
        return None
    return "" if ls else ("in progress" if shifted else None)


def compare_file(path) -> FileReport:
    """Schedule ``path`` and compare every incomplete task's late dates and float.

    Raises
    ------
    ScheduleImportError
        The file is not an MSPDI schedule pmosim reads (a PMXML file, no tasks).
    """
    path = Path(path)
    project = read_mspdi(path)
    cpm = pmosim.cpm(project)
    g = project.graph
    idx = [i for i, t in enumerate(cpm.task_ids) if g.nodes[t]["kind"] != "connector"]
    tool = [(g.nodes[cpm.task_ids[i]]["tool_start"], g.nodes[cpm.task_ids[i]]["tool_finish"])
            for i in idx]
    early = tool == [(cpm.early_start_date[i], cpm.early_finish_date[i]) for i in idx]
    stored, proj = stored_late_dates(path)
    rep = FileReport(path, "compared", start=proj["start"], finish=proj["finish"])
    if not early:
        rep.status = "early dates differ"
        return rep
    inc = [i for i in idx if g.nodes[cpm.task_ids[i]]["status"] != "complete"]
    if all(stored[cpm.task_ids[i]]["late_finish"] is None
           and stored[cpm.task_ids[i]]["late_start"] is None for i in inc):
        rep.status = "no late dates"
        return rep
    moments = [project.meta["data_date"], proj["finish"]]
    for i in inc:
        s = stored[cpm.task_ids[i]]
        moments += [cpm.late_start_date[i], cpm.late_finish_date[i], cpm.early_start_date[i],
                    s["late_start"], s["late_finish"], s["early_finish"]]
        if s["early_finish"] is not None and s["total_slack"] is not None:
            moments.append(s["early_finish"] + dt.timedelta(minutes=s["total_slack"] / 10))
    weeks = _Weeks(project, moments)

    # stale: a task that only the project finish bounds must finish late at FinishDate
    for i in inc:
        t = cpm.task_ids[i]
        d, s = g.nodes[t], stored[t]
        cons = (d.get("constraint") or (None,))[0]
        if (g.out_degree(t) == 0 and cons not in LATE_CONSTRAINTS and d.get("deadline") is None
                and s["late_finish"] is not None and proj["finish"] is not None
                and not _same_work(weeks(d["calendar"]), s["late_finish"], proj["finish"])):
            rep.stale_finish[t] = s["late_finish"]

    rows, flags = {}, {}
    for i in inc:
        t = cpm.task_ids[i]
        flags[t] = _check(project, cpm, i, stored[t], weeks)
        rows[t] = TaskRow(t, *flags[t][:3], stored[t]["manual"])
    rep.rows = list(rows.values())
    missed = [t for t, r in rows.items() if not r.ok]
    if not missed:
        return rep
    pos = {t: k for k, t in enumerate(cpm.task_ids)}

    def explain(t, cls, reason, how=""):
        rows[t].cls = cls + (f" + {how}" if how else "")
        rows[t].reason = reason + (_IN_PROGRESS if how else "")

    for t in missed:
        r, d, s = rows[t], g.nodes[t], stored[t]
        i = pos[t]
        week = weeks(d["calendar"])
        ours_lf, ours_ls = cpm.late_finish_date[i], cpm.late_start_date[i]
        if t in rep.stale_finish:
            explain(t, "stale", f"late dates consistent with a project finish of "
                                f"{s['late_finish']:%Y-%m-%d %H:%M}, not the file's FinishDate "
                                f"{proj['finish']:%Y-%m-%d %H:%M}")
        elif _explained(flags[t]) == "in progress":
            explain(t, "in progress", "late finish and float agree" + _IN_PROGRESS)
        elif (s["late_finish"] is not None and s["late_start"] is not None and r.tf
              and _same_work(week, s["late_finish"], ours_lf)):
            gap = s["late_finish"] - ours_lf
            if d.get("elapsed_hours") is not None and s["late_start"] - ours_ls == gap:
                explain(t, "elapsed", f"elapsed duration: late finish "
                                      f"{s['late_finish']:%Y-%m-%d %H:%M} in MS Project, "
                                      f"{ours_lf:%Y-%m-%d %H:%M} (the same working time) in "
                                      "pmosim, both late dates moved by the same gap")
            elif r.ls:
                explain(t, "next period start",
                        f"late finish {s['late_finish']:%Y-%m-%d %H:%M} in MS Project, "
                        f"{ours_lf:%Y-%m-%d %H:%M} in pmosim: the same working time")
    origin = project.meta["data_date"]
    if proj["finish"] is not None and proj["finish"] < origin:
        first = min(cpm.early_start_date[i] for i in idx)

        def earlier(p):
            p.meta["data_date"] = first

        rest = [t for t in missed if rows[t].cls is None]
        for t, f in _rerun(project, cpm, rest, stored, weeks, earlier).items():
            how = _explained(f)
            if how is not None:
                explain(t, "finish before start",
                        f"MS Project's late dates run back from its FinishDate "
                        f"{proj['finish']:%Y-%m-%d %H:%M}, before its StartDate "
                        f"{origin:%Y-%m-%d %H:%M}; pmosim's from the data date (with a data "
                        "date before every task they agree)", how)
    for t in [t for t in missed if rows[t].cls is None]:
        links = [(t, v) for v in g.successors(t) if g.edges[t, v].get("type") in ("SS", "SF")]
        if not links or any(g.nodes[v].get("constraint") for _, v in links):
            continue

        def drop(p, links=links):
            # the successors keep their early dates (start-no-earlier-than them), so only
            # the links' bounds on this task's late dates go
            for _, v in links:
                p.graph.nodes[v]["constraint"] = ("SNET", cpm.early_start_date[pos[v]])
            p.graph.remove_edges_from(links)

        how = _explained(_rerun(project, cpm, [t], stored, weeks, drop).get(t, (0, 0, 0, 0)))
        if how is not None:
            kinds = "/".join(sorted({g.edges[e]["type"] for e in links}))
            explain(t, "start links ignored",
                    f"MS Project's late dates are pmosim's without the {kinds} links to "
                    f"{', '.join(str(v) for _, v in links)}", how)
    for t in missed:
        if rows[t].cls is None:
            i = pos[t]
            s = stored[t]
            explain(t, "unexplained",
                    f"pmosim LS {cpm.late_start_date[i]} LF {cpm.late_finish_date[i]} TF "
                    f"{cpm.total_float[i]:.4f} d; file LS {s['late_start']} LF "
                    f"{s['late_finish']} TotalSlack {s['total_slack']}")
    return rep


_IN_PROGRESS = ("; in progress: MS Project's late start is its start moved by its finish "
                "slack (LateStart - Start = LateFinish - Finish), pmosim's the remaining "
                "duration before its late finish")


def compare_all(data: Path = DATA) -> tuple[list[FileReport], Counter]:
    """:func:`compare_file` of every MSPDI file; also how many files were refused."""
    reports, other = [], Counter()
    for path in mspdi_files(data):
        try:
            reports.append(compare_file(path))
        except ScheduleImportError:
            other["not read (PMXML, no tasks)"] += 1
    return reports, other


def _pct(a, n):
    return f"{a:,} ({100 * a / n:.1f} %)" if n else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DATA), help="the shared data folder")
    parser.add_argument("--show", type=int, default=3, help="misses shown per file")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "mpxj").is_dir():
        parser.error(f"--data {data}: no mpxj/ folder there; pass the shared data folder "
                     "(../shared/data next to the repository)")
    reports, other = compare_all(data)
    by_status = Counter(r.status for r in reports)
    print(f"{sum(by_status.values()) + sum(other.values())} .xml files: "
          + ", ".join(f"{n} {k}" for k, n in (*by_status.items(), *other.items())))
    skipped = [r for r in reports if r.status == "no late dates"]
    for r in skipped:
        print(f"  no LateStart/LateFinish stored: {r.path.relative_to(data)}")
    compared = [r for r in reports if r.status == "compared"]
    total, consistent = Counter(), Counter()
    print(f"\n{'file':<72} {'tasks':>5} {'LS':>4} {'LF':>4} {'TF':>4}  misses")
    for r in compared:
        c = r.counts()
        total.update(c)
        if r.consistent:
            consistent.update(c)
        miss = ", ".join(f"{k} {c[k]}" for k in CLASSES if c[k])
        if c["manual misses"]:
            miss += f" ({c['manual misses']} manual)"
        flag = "" if r.consistent else " [stale]"
        print(f"{str(r.path.relative_to(data)) + flag:<72} {c['n']:>5} {c['ls']:>4} "
              f"{c['lf']:>4} {c['tf']:>4}  {miss}")
        for row in [x for x in r.rows if not x.ok][:args.show]:
            print(f"    task {row.uid} [{row.cls}{', manual' if row.manual else ''}]: "
                  f"{row.reason}")
    for name, c in (("all compared files", total), ("consistent files", consistent)):
        n = c["n"]
        print(f"\n{name}: {n:,} incomplete tasks")
        for key, label in (("ls", "late start"), ("lf", "late finish"), ("tf", "total float"),
                           ("all", "all three")):
            print(f"  {label:<12} {_pct(c[key], n)}")
        print("  misses: " + ", ".join(f"{k} {c[k]}" for k in CLASSES if c[k]))


if __name__ == "__main__":
    main()

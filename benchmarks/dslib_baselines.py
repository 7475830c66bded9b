"""DSLIB baselines: how often pmosim's CPM finish is the workbook's own baseline finish.

    python benchmarks/dslib_baselines.py [--data PATH] [--modes all dated none] [--limit N]

Reads every workbook of the DSLIB library (Batselier & Vanhoucke 2015, IJPM
33(3):697-710; data in ``../shared/data/dslib/Excel``) once per ``baseline_starts``
mode of :func:`pmosim.io.dslib.read_dslib` and compares the finish of
``pmosim.cpm(project, levelling=False)`` (the latest early finish, on the wall clock
of the workbook's agenda) with the workbook's baseline finish (the import report's
``baseline.finish``: the latest Baseline End, or Baseline Start + Duration where the
workbook leaves Baseline End empty), equal when they are the same moment of working
time to the minute. Modes:

``all``
    every baseline start later than the activity's links allow is a
    start-no-earlier-than date (the importer's default);
``dated``
    all but the waits for a resource of a levelled baseline (for runs that level
    resources; pmosim does not level projects with working calendars yet, so this
    row is unlevelled and misses the levelled baselines);
``none``
    no start-no-earlier-than dates: the links alone, as pmosim read DSLIB before.

One row per mode: workbooks read, baseline finish reproduced (count and %), the same
for the workbooks that state a Baseline End, and how many the import report calls
reproduced (all dates). Then, for the first mode, the table of every workbook whose CPM
finish is not the baseline finish, with the cause the import report computes
(``baseline.finish_cause`` and ``finish_reason``: the first date of the workbook on the
links that drive the CPM finish that CPM cannot keep), the counts by cause, and the
cost check: the planned cost (each task's ``cost_fixed`` + ``cost_rate`` x planned
duration) against the project row's cost.

Exits with status 1 when, in the first mode, a workbook whose finish differs has no
finish reason in its import report, or the report's own CPM forward pass
(``finish_reproduced``) disagrees with ``pmosim.cpm``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT.parent / "shared" / "data" / "dslib" / "Excel"


def compare(project) -> tuple[bool, dt.datetime, dt.datetime]:
    """``(same, cpm finish, baseline finish)`` of an imported DSLIB project."""
    import pmosim
    from pmosim.io._common import axis_days

    baseline = dt.datetime.fromisoformat(project.meta["import_report"]["baseline"]["finish"])
    result = pmosim.cpm(project, levelling=False)
    finish = max(result.early_finish_date)
    a, b = axis_days(project, [finish, baseline])
    return abs(a - b) * project.meta["hours_per_day"] * 60 < 1, finish, baseline


def planned_cost(project) -> float:
    return sum(float(d.get("cost_fixed") or 0.0) + float(d.get("cost_rate") or 0.0)
               * float(d.get("planned") or 0.0) for _, d in project.graph.nodes(data=True))


def main(argv=None) -> int:
    from pmosim.errors import ScheduleImportError
    from pmosim.io.dslib import BASELINE_STARTS, read_dslib

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder of DSLIB .xlsx workbooks")
    ap.add_argument("--modes", nargs="+", default=list(BASELINE_STARTS),
                    choices=BASELINE_STARTS)
    ap.add_argument("--limit", type=int, default=None, help="first N workbooks only")
    args = ap.parse_args(argv)
    paths = sorted(args.data.glob("*.xlsx"))[:args.limit]
    if not paths:
        sys.exit(f"{args.data}: no .xlsx workbooks (see --data)")
    warnings.simplefilter("ignore")
    rows, detail, unreadable, costs = [], [], [], []
    for k, mode in enumerate(args.modes):
        t0 = time.perf_counter()
        n = same = n_end = same_end = told = 0
        for path in paths:
            try:
                project = read_dslib(path, baseline_starts=mode)
            except ScheduleImportError as exc:
                if k == 0:
                    unreadable.append((path.name, str(exc).removeprefix(f"{path}: ")))
                continue
            report = project.meta["import_report"]["baseline"]
            ok, finish, baseline = compare(project)
            stated = report["finish_from"] == "Baseline End"
            n += 1
            same += ok
            n_end += stated
            same_end += ok and stated
            told += report["reproduced"]
            if k == 0:
                # the importer's own forward pass must agree with pmosim.cpm
                report["cpm_agrees"] = report["finish_reproduced"] == ok
                detail.append((path.name, ok, finish, baseline, stated, report))
                c = project.meta["import_report"]["costs"]
                costs.append((path.name, planned_cost(project), c["budgeted"]))
        rows.append((mode, n, same, n_end, same_end, told, time.perf_counter() - t0))

    print(f"DSLIB baselines: {len(paths)} workbooks in {args.data}\n")
    print("| baseline_starts | read | finish = baseline | of those with a Baseline End | "
          "report: dates reproduced | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, same, n_end, same_end, told, secs in rows:
        print(f"| {label} | {n} | {same} ({100 * same / max(n, 1):.1f} %) | "
              f"{same_end} of {n_end} ({100 * same_end / max(n_end, 1):.1f} %) | {told} | "
              f"{secs:.1f} |")
    if unreadable:
        print("\nNot readable (the importer's message):")
        for name, message in unreadable:
            print(f"- {name}: {message}")
    first = args.modes[0]
    missed = [d for d in detail if not d[1]]
    kinds = {"break their own relations": sum(d[5]["relations_broken"] > 0 for d in missed),
             "have dates not scheduled on their agenda":
                 sum(d[5]["dates_off_agenda"] > 0 for d in missed),
             "have waits the mode does not hold":
                 sum(sum(d[5]["waits"].values()) > d[5]["start_no_earlier_than"]
                     for d in missed)}
    print(f"\nWorkbooks whose CPM finish is not the baseline finish ({first}): {len(missed)}; "
          + ", ".join(f"{n} {k}" for k, n in kinds.items() if n))
    causes = Counter((d[5]["finish_cause"] or {}).get("kind", "NO CAUSE") for d in missed)
    print("By the cause on the links that drive the CPM finish: "
          + ", ".join(f"{n} {k}" for k, n in causes.most_common()))
    print("\n| workbook | CPM finish | baseline finish | from | cause | activity | "
          "predecessor | working days | broken on the path |")
    print("|---|---|---|---|---|---:|---:|---:|---:|")
    for name, _, finish, baseline, stated, report in missed:
        c = report["finish_cause"] or {}
        amount = c.get("working_days")
        pred = c.get("predecessor")
        group = re.fullmatch(r"S(.+):(start|finish)", str(pred)) if pred is not None else None
        pred = f"group {group.group(1)}" if group else ("" if pred is None else pred)
        print(f"| {name.split(' ')[0]} | {finish:%Y-%m-%d %H:%M} | {baseline:%Y-%m-%d %H:%M} | "
              f"{'End' if stated else 'Start + Duration'} | {c.get('kind', 'NO CAUSE')} | "
              f"{c.get('activity', '')} | {pred}{' ' + c['link'] if c.get('link') else ''} | "
              f"{'' if amount is None else f'{amount:.4g}'} | "
              f"{c.get('relations_on_path') or ''} |")
    print("\nThe import reports' reasons:")
    for name, _, finish, baseline, stated, report in missed:
        print(f"- {name}: {report['finish_reason'] or 'NO REASON GIVEN'}")
    with_cost = [(name, plan, stated) for name, plan, stated in costs if plan > 0]
    stated = [c for c in with_cost if c[2] is not None]
    equal = [c for c in stated if abs(c[1] - c[2]) <= 0.01]
    print(f"\nCosts: {len(with_cost)} of {len(costs)} workbooks have costs, {len(stated)} of them "
          f"a project cost on the project row; planned cost = that cost to the cent for "
          f"{len(equal)}")
    for name, plan, total in stated:
        if abs(plan - total) > 0.01:
            print(f"- {name}: planned {plan:,.2f}, project row {total:,.2f}")
    silent = [d[0] for d in detail if not d[1] and not d[5]["finish_reason"]]
    wrong = [d[0] for d in detail if not d[5]["cpm_agrees"]
             or (not d[1] and d[5]["reproduced"])]
    if silent or wrong:
        print(f"\nFAILED: without a reason: {silent}; the import report's CPM finish "
              f"disagrees with pmosim.cpm: {wrong}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DSLIB replay: how well each forecasting method predicts the real final duration and cost.

    python benchmarks/dslib_replay.py [--data PATH] [--iterations 1000] [--max-periods 10]
                                      [--workers 2] [--half all|train|test] [--tune]
                                      [--variants] [--json OUT] [--limit N]

Replays every DSLIB project (Batselier & Vanhoucke 2015, IJPM 33(3):697-710; data in
``../shared/data/dslib/Excel``) that has tracking periods and finished, forecasting at
its tracking periods the final duration and the final cost with

- ``ES PF=1``, ``ES PF=SPI(t)``: earned schedule, IEAC(t) = AT + (PD - ES) / PF
  (:func:`pmosim.evm.earned_value`);
- ``EAC PF=1``, ``EAC PF=CPI``: EVM's EAC = AC + (BAC - EV) / PF (cost only; both
  with the workbooks' own accrual of fixed costs, ProTrack's, pmosim's default for DSLIB);
- ``MC plain``: the P50 of :func:`pmosim.reforecast.reforecast` with ``method="plain"``
  (Monte Carlo from the status on the planned distributions);
- ``MC bayes``: the P50 of the learning re-forecast (``method="bayes"``, defaults).

**The truth.** A project counts when, at its last tracking period, no activity is in
progress and the earned value is at least 95 % of the budget (EV / BAC by
:func:`pmosim.evm.earned_value`; activities still "not started" then were dropped
from the scope). Its real duration is the latest actual finish of that period, in
working days of the workbook's agenda from the project start (time 0 of the model,
the frame of every forecast); its real cost the sum of the activities' actual costs
in that period (the project row's actual cost where the workbook gives one).

**The forecasts.** At every tracking period before the last with 0 < EV / BAC < 1
and a status date before the real finish; of a project with more than
``--max-periods`` (default 10) such periods, that many evenly spaced by index
(first and last kept), so that a project tracked weekly does not outweigh the
others. Each Monte Carlo forecast has ``--iterations`` (default 1,000) iterations,
seed 1. Tracking periods that book a remaining duration on a finished activity
(C2019-01, C2019-05) are read with that remaining duration set to 0. A workbook whose
three-point estimates were not read as meant (the median most-probable value of its
activities outside 0.5 .. 2 times their baseline durations) would be left out, as its
planned distributions, which both Monte Carlo methods use, would be wrong; none is
since the importer tells percentages from days (C2024-01 and C2025-05 give their
"standard" profiles in days: ``_Reader.risk_units`` in :mod:`pmosim.io.dslib`).
A forecast where a method is undefined (IEAC(t) with SPI(t) = 0, ES = 0 with EV > 0:
6 of 810) is left out for every method, so they are compared on the same forecasts;
a project without a real cost (C2023-11 books none) counts for duration only.

**The scores.** APE = |forecast - real| / real. MAPE by stage: early (EV / BAC <
1/3), middle (1/3 .. 2/3) and late (>= 2/3) thirds of percent complete, and over
all; **each project weighs the same** (its forecasts in the stage averaged first,
then the projects). P80 calibration: the share of forecasts (projects weighted the
same) whose real value was at most the forecast's P80; a calibrated P80 gives
about 80 %.

**Train and test.** The workbooks are split in two halves by a fixed random
permutation (numpy ``default_rng(20240518)`` of the sorted file names, all 231, so the
split does not depend on what a run finds): the learning method's settings were chosen
on the training half only (``--half train --tune`` prints the grids: first the
duration factor's strength and drift, then the cost factor's with those), and the
tables report the test half, and all projects and the training half for reference.
``--variants`` adds the learning method's other settings (WBS groups, equal weights,
known variance, the other ``in_progress`` rules).

Runs in about a minute on 2 cores (``--workers 2``), most of it reading the
workbooks; ``--tune`` on the training half in about 4 minutes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = REPO_ROOT.parent / "shared" / "data" / "dslib" / "Excel"
SPLIT_SEED = 20240518
STAGES = ("early", "middle", "late")
#: EV / BAC at the last period for a project to count as finished.
DONE = 0.95
DURATION_METHODS = ("ES PF=1", "ES PF=SPI(t)", "MC plain", "MC bayes")
COST_METHODS = ("EAC PF=1", "EAC PF=CPI", "MC plain", "MC bayes")
#: the grid of --tune: (strength, drift)
TUNE_STRENGTH = (2.0, 4.0, 8.0, 16.0)
TUNE_DRIFT = (0.5, 1.0, 1.5, 2.0)
#: the grid of --tune for the cost factor: (cost_strength, cost_drift)
TUNE_COST_STRENGTH = (8.0, 16.0, 32.0, 64.0, 128.0)
TUNE_COST_DRIFT = (0.0, 0.25, 0.5)
#: a workbook whose activities' three-point estimates have a median most-probable value
#: outside this range of their baseline durations was not read as meant (a unit the
#: importer got wrong): its planned distributions say nothing
MODE_RANGE = (0.5, 2.0)


def _sanitised(periods):
    """The periods with remaining durations of finished activities set to 0 (count)."""
    fixed = 0
    out = []
    for period in periods:
        acts = {}
        for task_id, st in period.activities.items():
            if st.actual_finish is not None and st.remaining_duration:
                st = replace(st, remaining_duration=0.0)
                fixed += 1
            acts[task_id] = st
        out.append(replace(period, activities=acts))
    return out, fixed


def _sample(indices, k):
    if len(indices) <= k:
        return list(indices)
    picks = np.unique(np.round(np.linspace(0, len(indices) - 1, k)).astype(int))
    return [indices[i] for i in picks]


def replay_project(path, variants, iterations, max_periods):
    """Every forecast of one workbook: a dict with the project's facts and ``rows``."""
    from pmosim import evm
    from pmosim.errors import PmosimError
    from pmosim.io.dslib import read_dslib
    from pmosim.reforecast import reforecast

    warnings.simplefilter("ignore")
    out = {"name": path.name}
    try:
        project = read_dslib(path, tracking=True)
    except PmosimError as exc:
        out["skip"] = f"not readable: {str(exc)[:120]}"
        return out
    periods = project.meta["tracking"]
    if not periods:
        out["skip"] = "no tracking periods"
        return out
    modes = [d["duration"].mode / d["planned"] for _, d in project.graph.nodes(data=True)
             if d.get("planned") and getattr(d.get("duration"), "mode", None) is not None]
    if modes and not MODE_RANGE[0] <= float(np.median(modes)) <= MODE_RANGE[1]:
        out["skip"] = (f"three-point estimates not read as meant: median most probable / "
                       f"baseline duration {float(np.median(modes)):.3g}")
        return out
    periods, out["sanitised"] = _sanitised(periods)
    try:
        res = evm.earned_value(project, periods)
    except PmosimError as exc:
        out["skip"] = f"earned value: {str(exc)[:160]}"
        return out
    resolved = evm.resolve_periods(project, periods, strict=False)
    last = resolved[-1]
    origin = res.baseline.origin
    in_progress = np.any(last.started & ~last.complete)
    if in_progress or not res.complete[-1] >= DONE or not np.isfinite(last.finish).any():
        out["skip"] = (f"not finished at its last period (EV/BAC {res.complete[-1]:.2f}"
                       f"{', activities in progress' if in_progress else ''})")
        return out
    true_finish = float(np.nanmax(last.finish)) - origin
    has_cost = res.basis == "cost" and np.isfinite(res.ac[-1])
    true_cost = float(np.nansum(last.ac)) if has_cost else math.nan
    out.update(n_tasks=project.n_tasks, n_periods=len(periods), basis=res.basis,
               true_finish=true_finish, true_cost=true_cost,
               planned_duration=float(res.planned_duration), bac=float(res.bac))
    candidates = [k for k in range(len(periods) - 1)
                  if 0 < res.complete[k] < 1 and res.at[k] > 0
                  and res.status_time[k] < true_finish - 1e-9]
    rows = []
    for k in _sample(candidates, max_periods):
        row = {"period": res.names[k], "complete": float(res.complete[k]),
               "at": float(res.at[k]),
               "dur": {"ES PF=1": float(res.ieac_t["1"][k]),
                       "ES PF=SPI(t)": float(res.ieac_t["SPI(t)"][k])},
               "cost": {"EAC PF=1": float(res.eac["1"][k]),
                        "EAC PF=CPI": float(res.eac["CPI"][k])} if has_cost else {}}
        period = periods[k]
        plain = reforecast(project, period, method="plain", iterations=iterations, seed=1,
                           threads=1, sensitivity=False)
        _record(row, "MC plain", plain, origin, has_cost)
        for label, kwargs in variants.items():
            bayes = reforecast(project, period, iterations=iterations, seed=1, threads=1,
                               sensitivity=False, **kwargs)
            _record(row, label, bayes, origin, has_cost)
            if label == "MC bayes":
                row["factor"] = bayes.duration_factor.median
                row["cost_factor"] = (bayes.cost_factor.median if bayes.cost_factor
                                      is not None else None)
        rows.append(row)
    out["rows"] = rows
    return out


def _record(row, label, forecast, origin, has_cost):
    f = forecast.finish
    row["dur"][label] = float(f.percentile(50)) - origin
    row.setdefault("dur_p80", {})[label] = float(f.percentile(80)) - origin
    if has_cost and forecast.cost is not None:
        row["cost"][label] = float(forecast.cost.percentile(50))
        row.setdefault("cost_p80", {})[label] = float(forecast.cost.percentile(80))


def stage_of(complete):
    return STAGES[min(int(complete * 3), 2)]


def score(projects, methods, key, truth_key, p80_key=None):
    """{stage or "all": {method: (MAPE %, n projects, n forecasts)}} and P80 shares."""
    table, calib = {}, {}
    for stage in (*STAGES, "all"):
        per_method = {m: [] for m in methods}
        hits = {m: [] for m in methods}
        n_rows = 0
        for p in projects:
            truth = p[truth_key]
            if not (truth > 0 and np.isfinite(truth)):
                continue
            rows = [r for r in p["rows"] if stage == "all" or stage_of(r["complete"]) == stage]
            rows = [r for r in rows if all(np.isfinite(r[key].get(m, np.nan)) for m in methods)]
            if not rows:
                continue
            n_rows += len(rows)
            for m in methods:
                per_method[m].append(np.mean([abs(r[key][m] - truth) / truth for r in rows]))
                if p80_key and m in rows[0].get(p80_key, {}):
                    hits[m].append(np.mean([truth <= r[p80_key][m] + 1e-9 for r in rows]))
        table[stage] = {m: (100 * float(np.mean(v)) if v else math.nan, len(v), n_rows)
                        for m, v in per_method.items()}
        calib[stage] = {m: 100 * float(np.mean(v)) for m, v in hits.items() if v}
    return table, calib


def split(names):
    """(train, test): the sorted workbook names permuted by ``default_rng(SPLIT_SEED)``,
    first half train."""
    ordered = sorted(names)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(ordered))
    half = len(ordered) // 2
    return {ordered[i] for i in order[:half]}, {ordered[i] for i in order[half:]}


def print_table(title, table, calib, methods):
    print(f"\n{title}\n")
    print("| stage | projects | forecasts | " + " | ".join(methods) + " |")
    print("|---|---:|---:|" + "---:|" * len(methods))
    for stage, row in table.items():
        n_proj = max(v[1] for v in row.values())
        n_rows = max(v[2] for v in row.values())
        best = min(v[0] for v in row.values())
        cells = [(f"**{v[0]:.1f}**" if v[0] == best else f"{v[0]:.1f}") for v in row.values()]
        print(f"| {stage} | {n_proj} | {n_rows} | " + " | ".join(cells) + " |")
    if calib.get("all"):
        print("\nP80 calibration (share with real <= P80, %): "
              + "; ".join(f"{m}: " + ", ".join(f"{s} {calib[s][m]:.0f}" for s in calib
                                               if m in calib[s])
                          for m in calib["all"]))


def _pick(table, calib, grid, key):
    """The strength with the lowest MAPE (mean over its drifts, ties to the smaller), then
    its drift whose P80 share is closest to 80 %."""
    def label(s, r):
        return key.format(s=s, r=r)

    strengths = sorted({s for s, _ in grid})
    mape = {s: np.mean([table["all"][label(s, r)][0] for t, r in grid if t == s])
            for s in strengths}
    best = min(strengths, key=lambda s: (round(mape[s], 2), s))
    drift = min((r for s, r in grid if s == best),
                key=lambda r: (abs(calib["all"][label(best, r)] - 80), r))
    return best, drift


def tune_report(projects) -> None:
    """The --tune grids on the training half, as markdown tables, and the values chosen."""
    dgrid = [(s, r) for s in TUNE_STRENGTH for r in TUNE_DRIFT]
    cgrid = [(s, r) for s in TUNE_COST_STRENGTH for r in TUNE_COST_DRIFT]
    dlabels = [f"s={s:g} r={r:g}" for s, r in dgrid]
    clabels = [f"cs={s:g} cr={r:g}" for s, r in cgrid]
    table, calib = score(projects, ["ES PF=1", "MC plain", *dlabels], "dur", "true_finish",
                         "dur_p80")
    ctable, ccalib = score(projects, ["EAC PF=1", "MC plain", *clabels], "cost", "true_cost",
                           "cost_p80")
    print(f"\nTuning on the training half ({len(projects)} projects): duration (strength, "
          "drift), MAPE % by stage and P80 share %\n")
    print("| strength | drift | early | middle | late | all | P80 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for (s, r), lab in zip(dgrid, dlabels):
        print(f"| {s:g} | {r:g} | " + " | ".join(f"{table[st][lab][0]:.2f}" for st in
                                                 (*STAGES, "all"))
              + f" | {calib['all'][lab]:.0f} |")
    print(f"\n(ES PF=1 {table['all']['ES PF=1'][0]:.2f}, MC plain "
          f"{table['all']['MC plain'][0]:.2f})\n")
    print("| cost_strength | cost_drift | early | middle | late | all | P80 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for (s, r), lab in zip(cgrid, clabels):
        print(f"| {s:g} | {r:g} | " + " | ".join(f"{ctable[st][lab][0]:.2f}" for st in
                                                 (*STAGES, "all"))
              + f" | {ccalib['all'][lab]:.0f} |")
    print(f"\n(EAC PF=1 {ctable['all']['EAC PF=1'][0]:.2f}, MC plain "
          f"{ctable['all']['MC plain'][0]:.2f})")
    s, r = _pick(table, calib, dgrid, "s={s:g} r={r:g}")
    cs, cr = _pick(ctable, ccalib, cgrid, "cs={s:g} cr={r:g}")
    print(f"\nchosen: strength={s:g}, drift={r:g}; cost_strength={cs:g}, cost_drift={cr:g} "
          "(pmosim.reforecast STRENGTH, DRIFT, COST_STRENGTH, COST_DRIFT)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder of DSLIB .xlsx workbooks")
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--max-periods", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="first N workbooks only")
    ap.add_argument("--tune", action="store_true",
                    help="grid of strength x drift on the training half")
    ap.add_argument("--variants", action="store_true",
                    help="also WBS groups, duration weights and known variance")
    ap.add_argument("--half", choices=("all", "train", "test"), default="all",
                    help="replay only this half of the workbooks (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="write every forecast here")
    args = ap.parse_args(argv)
    paths = sorted(args.data.glob("*.xlsx"))[:args.limit]
    if not paths:
        sys.exit(f"{args.data}: no .xlsx workbooks (see --data)")
    train, test = split([p.name for p in paths])
    if args.half != "all":
        paths = [p for p in paths if p.name in (train if args.half == "train" else test)]
    variants = {"MC bayes": {}}
    if args.tune:
        variants = {f"s={s:g} r={r:g}": {"strength": s, "drift": r}
                    for s in TUNE_STRENGTH for r in TUNE_DRIFT}
        variants.update({f"cs={s:g} cr={r:g}": {"cost_strength": s, "cost_drift": r}
                         for s in TUNE_COST_STRENGTH for r in TUNE_COST_DRIFT})
        variants["MC bayes"] = {}
    if args.variants:
        variants.update({"bayes wbs": {"groups": "wbs"},
                         "bayes equal-weights": {"weights": "equal"},
                         "bayes known-var": {"variance": "known"},
                         "bayes in-progress=status": {"in_progress": "status"},
                         "bayes in-progress=plan": {"in_progress": "plan"}})
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex:
        done = list(ex.map(replay_project, paths, [variants] * len(paths),
                           [args.iterations] * len(paths), [args.max_periods] * len(paths)))
    seconds = time.perf_counter() - t0
    projects = [p for p in done if "rows" in p and p["rows"]]
    skipped = [p for p in done if "skip" in p and p["skip"] != "no tracking periods"]
    no_rows = [p for p in done if "rows" in p and not p["rows"]]
    train = {p["name"] for p in projects if p["name"] in train}
    test = {p["name"] for p in projects if p["name"] in test}
    unreadable = sum(p.get("skip", "").startswith("not readable") for p in done)
    print(f"DSLIB replay: {len(paths)} workbooks ({unreadable} not readable), "
          f"{sum(p.get('skip') != 'no tracking periods' for p in done) - unreadable} with "
          "tracking periods, "
          f"{len(projects)} finished projects with forecasts ({len(train)} train, "
          f"{len(test)} test), {sum(len(p['rows']) for p in projects)} forecasts, "
          f"{args.iterations} iterations each; {seconds:.0f} s on {args.workers} workers")
    print(f"sanitised remaining durations of finished activities: "
          f"{sum(p.get('sanitised', 0) for p in done)}")
    for p in skipped:
        print(f"- skipped {p['name']}: {p['skip']}")
    for p in no_rows:
        print(f"- no forecast period: {p['name']}")
    if args.tune:
        tune_report([p for p in projects if p["name"] in train])
    extra = [k for k in variants if k != "MC bayes"] if args.variants else []
    for label, group in (("test half", test), ("all projects", set(train) | set(test)),
                         ("training half", train)):
        sel = [p for p in projects if p["name"] in group]
        if not sel:
            continue
        table, calib = score(sel, list(DURATION_METHODS) + extra, "dur", "true_finish",
                             "dur_p80")
        print_table(f"Duration MAPE (%), {label}", table, calib,
                    list(DURATION_METHODS) + extra)
        table, calib = score(sel, list(COST_METHODS) + extra, "cost", "true_cost", "cost_p80")
        print_table(f"Cost MAPE (%), {label}", table, calib, list(COST_METHODS) + extra)
    if args.json:
        args.json.write_text(json.dumps({"projects": projects, "train": sorted(train),
                                         "test": sorted(test)}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

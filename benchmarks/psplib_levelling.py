"""Serial resource levelling on PSPLIB: how close each priority rule gets to the best makespans.

    python benchmarks/psplib_levelling.py [--sets j30 j60 j90 j120] [--rules lft grpw ...]
                                          [--improve] [--limit N] [--data PATH]

Levels every instance of each chosen set (Kolisch & Sprecher 1997, EJOR 96(1):205-216;
data in ``../shared/data/psplib``) once per priority rule with
``pmosim.cpm(p, levelling="serial", priority=rule)``: deterministic, one schedule per
instance and rule. One row per set and rule:

``dev %``
    mean % of the makespan above the reference: the proven optimum for J30
    (``bounds/j30opt.sm``, Demeulemeester & Herroelen), the best known upper bound for
    J60-J120 (``bounds/j*hrs.sm``);
``over CPM %``
    mean % above the critical-path lower bound (the unlevelled CPM finish, the header's
    MPM-Time);
``below opt``
    instances whose makespan beats the J30 optimum or the critical path: impossible, so
    it must be 0. (For J60-J120 a makespan below the best known upper bound is counted
    apart, under ``below UB``: a new best known solution, or a bug worth a look.)
``infeasible``
    schedules that the independent checker ``tests/feasibility.py`` rejects: must be 0;
``seconds``
    wall time of the levelling calls of the row (numba compilation excluded: one call
    before timing).

The script exits with status 1 when a ``below opt`` or ``infeasible`` count is not 0.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))   # naive.py and feasibility.py: the references

import pmosim  # noqa: E402
from pmosim.io.psplib import read_psplib_all  # noqa: E402

import naive  # noqa: E402
from feasibility import read_psplib_bounds, violations  # noqa: E402

SETS = ("j30", "j60", "j90", "j120")


def load_set(data: Path, name: str, limit: int | None):
    """(instance name, project) of every instance of set ``name`` (the reader adds the
    renewable resources)."""
    folder = data / f"{name}.sm"
    if not folder.is_dir():
        sys.exit(f"{folder}: no such folder of PSPLIB instances (see --data)")
    return [(p.meta["instance"], p) for p in read_psplib_all(folder)[:limit]]


def load_bounds(data: Path, name: str) -> tuple[dict, bool]:
    """The set's reference makespans and whether they are proven optima."""
    for suffix, optimal in (("opt", True), ("hrs", False)):
        path = data / "bounds" / f"{name}{suffix}.sm"
        if path.is_file():
            return read_psplib_bounds(path, prefix=name), optimal
    sys.exit(f"{data / 'bounds'}: neither {name}opt.sm nor {name}hrs.sm")


def level_set(projects, bounds, optimal, rule, improve):
    extra = {"improve": True} if improve else {}
    dev, over, below, below_ub, infeasible, no_bound = [], [], 0, 0, 0, 0
    pmosim.cpm(projects[0][1], levelling="serial", priority=rule, **extra)   # compile
    seconds = 0.0
    for name, p in projects:
        t0 = time.perf_counter()
        got = pmosim.cpm(p, levelling="serial", priority=rule, **extra)
        seconds += time.perf_counter() - t0
        makespan = float(got.finish)
        lower = float(pmosim.cpm(p).finish)
        over.append(100.0 * (makespan - lower) / lower if lower > 0 else 0.0)
        bound = bounds.get(name)
        if bound is None:
            no_bound += 1
        else:
            dev.append(100.0 * (makespan - bound) / bound)
        if makespan < lower:
            below += 1
            print(f"  {name} [{rule}]: makespan {makespan:g} below the critical path "
                  f"{lower:g}", file=sys.stderr)
        elif optimal and bound is not None and makespan < bound:
            below += 1
            print(f"  {name} [{rule}]: makespan {makespan:g} below the optimum {bound}",
                  file=sys.stderr)
        elif bound is not None and makespan < bound:
            below_ub += 1
        inst = naive.levelling_instance(p)
        problems = violations(inst, got.early_start, got.early_finish)
        if problems:
            infeasible += 1
            print(f"  {name} [{rule}]: infeasible: {problems[0]}", file=sys.stderr)
    mean = (lambda xs: sum(xs) / len(xs) if xs else float("nan"))
    return {"n": len(projects), "dev": mean(dev), "over": mean(over), "below": below,
            "below_ub": below_ub, "infeasible": infeasible, "no_bound": no_bound,
            "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--rules", nargs="+", choices=naive.PRIORITY_RULES,
                        default=list(naive.PRIORITY_RULES))
    parser.add_argument("--improve", action="store_true",
                        help="pass improve=True to pmosim.cpm (forward-backward improvement)")
    parser.add_argument("--limit", type=int, default=None,
                        help="only the first N instances of each set (quick runs)")
    parser.add_argument("--data", type=Path,
                        default=REPO_ROOT.parent / "shared" / "data" / "psplib",
                        help="the PSPLIB folder (default: ../shared/data/psplib)")
    args = parser.parse_args(argv)

    params = inspect.signature(pmosim.cpm).parameters
    if "levelling" not in params:
        parser.error("this pmosim's cpm() has no levelling= parameter: resource levelling "
                     "is not built in this checkout")
    if args.improve and "improve" not in params:
        parser.error("--improve: this pmosim's cpm() has no improve= parameter yet "
                     "(forward-backward improvement is not built); run without --improve")

    header = (f"{'set':5} {'rule':9} {'n':>4} {'dev %':>7} {'over CPM %':>10} "
              f"{'below opt':>9} {'below UB':>8} {'infeasible':>10} {'seconds':>8}")
    print(f"serial SGS{' + improve' if args.improve else ''}; dev % against the J30 optimum "
          "or the J60-J120 best known upper bound")
    print(header)
    print("-" * len(header))
    failed = False
    for name in args.sets:
        projects = load_set(args.data, name, args.limit)
        bounds, optimal = load_bounds(args.data, name)
        for rule in args.rules:
            row = level_set(projects, bounds, optimal, rule, args.improve)
            failed |= row["below"] > 0 or row["infeasible"] > 0
            below_ub = "-" if optimal else str(row["below_ub"])
            print(f"{name:5} {rule:9} {row['n']:4d} {row['dev']:7.2f} {row['over']:10.2f} "
                  f"{row['below']:9d} {below_ub:>8} {row['infeasible']:10d} "
                  f"{row['seconds']:8.2f}", flush=True)
            if row["no_bound"]:
                print(f"  ({row['no_bound']} instances of {name} have no bound in the list)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

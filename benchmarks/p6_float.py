"""How closely pmosim's late dates, total float and free float match Primavera P6's on a
real XER file (issue 17): P6 stores its own results in the TASK table
(``late_start_date``, ``late_end_date``, ``total_float_hr_cnt``, ``free_float_hr_cnt``).

    python benchmarks/p6_float.py ["../shared/data/p6/SP10 - COST LOADED.xer"] [--show 10]

Prints, over the incomplete activities (P6 gives completed ones no late dates), how many
late starts, late finishes, total floats and free floats agree (dates to the minute,
floats to 0.01 h), and the first disagreements.
"""

import argparse
import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np

import pmosim
from pmosim.io.xer import parse_xer_tables

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "p6" / "SP10 - COST LOADED.xer"


def p6_rows(path) -> dict:
    """task_code -> the P6 TASK row."""
    text = Path(path).read_text(encoding="cp1252", errors="replace")
    return {r["task_code"]: r for r in parse_xer_tables(text)["TASK"]}


def _date(text):
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M") if text else None


def compare(path, show: int = 10) -> dict:
    project = pmosim.load(str(path))
    cpm = pmosim.cpm(project)
    rows = p6_rows(path)
    hpd = {k: v["hours_per_day"] for k, v in project.meta["calendars"].items()}
    counts = Counter()
    bad = {k: [] for k in ("late_start", "late_finish", "total_float", "free_float")}
    for i, tid in enumerate(cpm.task_ids):
        data = project.graph.nodes[tid]
        code = data.get("code")
        r = rows.get(code)
        if r is None or r["status_code"] == "TK_Complete":
            continue
        counts["incomplete"] += 1
        h = hpd[data["calendar"]]
        checks = {
            "late_start": (cpm.late_start_date[i], _date(r["late_start_date"])),
            "late_finish": (cpm.late_finish_date[i], _date(r["late_end_date"])),
            "total_float": (cpm.total_float[i] * h, float(r["total_float_hr_cnt"] or "nan")),
        }
        if getattr(cpm, "free_float", None) is not None:
            checks["free_float"] = (cpm.free_float[i] * h, float(r["free_float_hr_cnt"] or "nan"))
        for name, (ours, theirs) in checks.items():
            if isinstance(theirs, float):
                ok = abs(ours - theirs) <= 0.01 or (np.isnan(theirs) and np.isnan(ours))
            else:
                ok = ours == theirs
            counts[name] += ok
            if not ok:
                bad[name].append((code, r["cstr_type"], ours, theirs))
    return {"counts": counts, "bad": bad}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--show", type=int, default=10)
    args = parser.parse_args()
    out = compare(args.path, args.show)
    c = out["counts"]
    n = c["incomplete"]
    print(f"{Path(args.path).name}: {n} incomplete activities")
    for name in ("late_start", "late_finish", "total_float", "free_float"):
        if name in c or out["bad"][name]:
            print(f"  {name:<12} {c[name]:>6} match ({100 * c[name] / n:.1f} %)")
    for name, rows in out["bad"].items():
        for code, cstr, ours, theirs in rows[:args.show]:
            print(f"  {name}: {code} [{cstr}] pmosim {ours} P6 {theirs}")


if __name__ == "__main__":
    main()

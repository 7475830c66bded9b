"""Bit-for-bit fingerprints of simulation results, to compare two versions of pmosim.

Prints one line per case: the SHA-256 of ``json.dumps(result.to_dict(), sort_keys=True)``
plus the finish and cost samples as raw bytes. Run it before and after a change to
the kernels or the engine; any differing line means results changed.

    python benchmarks/digests.py [--data ../shared/data] > before.txt

``--legacy`` digests only what results held before issue 16 (per task: criticality,
start and finish means, finish std and percentiles; the finish and cost summaries
without confidence intervals; risks, cash flow, levelling), so that a version that only
adds outputs can be checked against an older one: run this script with
``PYTHONPATH=OLD/src`` and ``PYTHONPATH=NEW/src``.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def cases(data):
    yield "default", REPO / "src/pmosim/data/default.toml", {}
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        yield path.stem, path, {}
    for rel in ("projectlibre/New Product.xml", "p6/SP10 - COST LOADED.xer",
                "mpxj/PredecessorCalendar.xer", "psplib/j30.sm/j3010_1.sm"):
        path = data / rel
        if path.exists():
            yield rel, path, {}


def features_model():
    """A 300-task synthetic network with every feature: risk events (time and percent
    impacts, with cost impacts), drivers, a correlation group, fixed costs, cost rates and
    a project cost rate."""
    import pmosim
    from pmosim.synthetic import layered_network

    p = layered_network(300, seed=0)
    rng = np.random.default_rng(5)
    ids = p.tasks
    for r in range(20):
        tasks = list(rng.choice(len(ids), size=rng.integers(1, 6), replace=False))
        impact = (pmosim.Triangular(1, 3, 10) if r % 3 else {"pct": pmosim.Uniform(5, 25)})
        p.add_risk(f"R{r}", float(rng.uniform(0.05, 0.5)), [ids[i] for i in tasks],
                   schedule_impact=impact, cost_impact=pmosim.Uniform(1e3, 5e3) if r % 2 else None)
    for d in range(3):
        tasks = list(rng.choice(len(ids), size=30, replace=False))
        p.add_driver(f"D{d}", 0.5, pmosim.Triangular(0.95, 1.0, 1.3), [ids[i] for i in tasks])
    group = list(rng.choice(len(ids), size=10, replace=False))
    p.add_correlation([ids[i] for i in group], 0.6)
    for i, t in enumerate(p.tasks):
        p.graph.nodes[t]["cost_rate"] = 1_000.0 + i % 7 * 100.0
        if i % 3 == 0:
            p.graph.nodes[t]["cost_fixed"] = pmosim.Triangular(5e3, 8e3, 2e4)
    p.cost_rate = 25_000.0
    return p


LEGACY_TASK_KEYS = ("id", "name", "criticality", "start_mean", "finish_mean", "finish_std",
                    "finish_percentiles")
LEGACY_SUMMARY_KEYS = ("deterministic", "mean", "std", "percentiles")
LEGACY_TOP_KEYS = ("iterations", "seed", "risk_mode", "risks", "correlations", "jcl",
                   "cashflow", "levelling")


def legacy(doc: dict) -> dict:
    """The part of ``result.to_dict()`` that existed before issue 16."""
    out = {k: doc[k] for k in LEGACY_TOP_KEYS if k in doc}
    for k in ("finish", "cost"):
        if k in doc:
            out[k] = {j: doc[k][j] for j in LEGACY_SUMMARY_KEYS}
    out["tasks"] = [{j: t[j] for j in LEGACY_TASK_KEYS} for t in doc["tasks"]]
    return out


def digest(result, legacy_only=False):
    doc = result.to_dict()
    if legacy_only:
        doc = legacy(doc)
    h = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(result.finish.samples).tobytes())
    if result.cost is not None:
        h.update(np.ascontiguousarray(result.cost.samples).tobytes())
    return h.hexdigest()[:16]


def main():
    import pmosim

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--legacy", action="store_true")
    args = parser.parse_args()
    extra = {} if args.backend is None else {"backend": args.backend}
    for name, path, _ in [("features", None, None), *cases(args.data)]:
        try:
            project = features_model() if path is None else pmosim.load(str(path))
        except pmosim.PmosimError as exc:
            print(f"{name}: load error {exc}")
            continue
        for risks in ("pre", "post"):
            r = pmosim.simulate(project, args.iterations, seed=11, risks=risks,
                                threads=args.threads, **extra)
            print(f"{name} [{risks}] {digest(r, args.legacy)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

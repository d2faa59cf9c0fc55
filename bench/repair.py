"""Measure the repair loop: inject every catalogue fault into a real rendered run, run the loop, and print
the repair rate and the attempts and time per fault. Nothing is assumed: each figure comes from a run.

    python bench/repair.py [--workers 2] [--only id,id] [--out DIR] [--json results.json]

Uses the embedded tiny model (built into RL_AGENT_CACHE, or the user cache, on first use) and this
interpreter for training. Each training process runs on one thread (OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated fault ids")
    parser.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"

    from rl_agent.agent.faults import NEEDS_DONOR, Donor, make_donor, run_fault, slowest_first
    from rl_agent.kit.models.tiny import default_cache_dir, embedded_model_dir

    wanted = [f for f in slowest_first() if not args.only or f.id in args.only.split(",")]
    cache = default_cache_dir()
    model = embedded_model_dir()
    out = args.out or Path(tempfile.mkdtemp(prefix="rl-agent-repair-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    donor = Donor()
    if NEEDS_DONOR & {f.id for f in wanted}:
        donor = make_donor(out / "donor", model_path=model, python=sys.executable)

    def one(fault):
        try:
            return fault, run_fault(fault, out / fault.id, model_path=model, python=sys.executable, cache_dir=cache,
                                    donor=donor if fault.id in NEEDS_DONOR else Donor())
        except Exception as e:  # noqa: BLE001 - a crash in the harness counts as not repaired
            return fault, e

    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(one, wanted))
    wall = time.time() - started

    rows = []
    print(f"{'fault':<24} {'recognised as':<24} {'repaired':<9} {'attempts':>8} {'seconds':>8}  patch")
    for fault, r in results:
        if isinstance(r, Exception):
            rows.append({"fault": fault.id, "error": f"{type(r).__name__}: {r}", "repaired": False})
            print(f"{fault.id:<24} {'(harness error)':<24} {'no':<9} {'-':>8} {'-':>8}  {r}")
            continue
        ok = r.repaired and r.verdict and r.recognised_as == fault.id
        patch = "; ".join(x.patch["summary"] for x in r.result.repairs)
        rows.append({"fault": fault.id, "recognised_as": r.recognised_as, "repaired": ok, "attempts": r.attempts,
                     "seconds": round(r.seconds, 1), "patches": patch, "message": r.result.message})
        print(f"{fault.id:<24} {str(r.recognised_as):<24} {'yes' if ok else 'NO':<9} {r.attempts:>8} "
              f"{r.seconds:>8.1f}  {patch[:90]}")
    repaired = [x for x in rows if x["repaired"]]
    rate = len(repaired) / len(rows) if rows else 0.0
    mean_attempts = sum(x["attempts"] for x in repaired) / len(repaired) if repaired else 0.0
    print(f"\nrepair rate: {len(repaired)}/{len(rows)} = {rate:.0%}; mean attempts (repaired): {mean_attempts:.2f}; "
          f"wall time {wall:.0f} s with {args.workers} worker(s); run folders in {out}")
    if args.json:
        args.json.write_text(json.dumps({"rate": rate, "mean_attempts": mean_attempts, "wall_seconds": wall,
                                         "workers": args.workers, "faults": rows}, indent=2))
    return 0 if rate == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Measure the repair loop on two fault sets, reported separately:

- the catalogue faults (tests/support/faults.py): each known failure of the catalogue, planted in a real run;
- the everyday faults (tests/support/everyday_faults.py): mistakes a new user makes, written before any repair for
  them and kept as first written, so their rate measures how far the repairs generalise.

For each fault: a real rendered run with the fault, the repair loop, attempts and seconds. Everyday faults
are also run once without any repair: a fault the run survives anyway is reported as "not a failure" and
not counted as a repair. Nothing is assumed: each figure comes from a run.

    python bench/repair.py [--set catalogue|everyday|both] [--workers 2] [--only id,id] [--out DIR] [--json F]

Uses the embedded tiny model (shipped in the package) and this
interpreter for training. Each training process runs on one thread (OMP_NUM_THREADS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the fault sets live in tests/support


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("catalogue", "everyday", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated fault ids")
    parser.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"

    from rl_agent.kit.models.tiny import embedded_model_dir
    from tests.support.everyday_faults import EVERYDAY_FAULTS, describe_everyday
    from tests.support.faults import FAULTS, NEEDS_DONOR, Donor, make_donor, run_all, run_fault, slowest_first

    only = set(filter(None, args.only.split(",")))
    model = embedded_model_dir()
    out = args.out or Path(tempfile.mkdtemp(prefix="rl-agent-repair-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    ok = True

    print("catalogue faults:")
    print("\n".join(f"{i:>2}. {f.id}: {f.what}" for i, f in enumerate(FAULTS, 1)))
    print("\neveryday faults (as first written):")
    print(describe_everyday())

    if args.set in ("catalogue", "both"):
        wanted = [f for f in slowest_first() if not only or f.id in only]
        started = time.time()
        donor = (
            make_donor(out / "donor", model_path=model, python=sys.executable)
            if NEEDS_DONOR & {f.id for f in wanted}
            else Donor()
        )

        done = run_all(
            wanted,
            args.workers,
            lambda fault: run_fault(
                fault,
                out / "catalogue" / fault.id,
                model_path=model,
                python=sys.executable,
                donor=donor if fault.id in NEEDS_DONOR else Donor(),
            ),
        )
        rows = []
        print(
            f"\n== catalogue faults ==\n{'fault':<24} {'recognised as':<24} {'repaired':<9} {'attempts':>8} "
            f"{'seconds':>8}  patch"
        )
        for fault, r in done:
            if isinstance(r, Exception):
                rows.append({"fault": fault.id, "error": f"{type(r).__name__}: {r}", "repaired": False})
                print(f"{fault.id:<24} {'(harness error)':<24} {'no':<9} {'-':>8} {'-':>8}  {r}")
                continue
            good = r.repaired and r.verdict and r.recognised_as == fault.id
            patch = "; ".join(x.patch["summary"] for x in r.result.repairs)
            rows.append(
                {
                    "fault": fault.id,
                    "recognised_as": r.recognised_as,
                    "repaired": good,
                    "attempts": r.attempts,
                    "seconds": round(r.seconds, 1),
                    "patches": patch,
                    "message": r.result.message,
                }
            )
            print(
                f"{fault.id:<24} {str(r.recognised_as):<24} {'yes' if good else 'NO':<9} {r.attempts:>8} "
                f"{r.seconds:>8.1f}  {patch[:90]}"
            )
        n = sum(x["repaired"] for x in rows)
        print(f"catalogue faults repaired {n}/{len(rows)}; wall {time.time() - started:.0f} s")
        results["catalogue"] = {"repaired": n, "total": len(rows), "faults": rows}
        ok &= n == len(rows)

    if args.set in ("everyday", "both"):
        from tests.support.everyday_runs import run_everyday

        wanted = [f for f in EVERYDAY_FAULTS if not only or f.id in only]
        started = time.time()

        done = run_all(
            wanted,
            args.workers,
            lambda fault: run_everyday(fault, out / "everyday" / fault.id, model_path=model, python=sys.executable),
        )
        rows = []
        print(
            f"\n== everyday faults ==\n{'fault':<38} {'unrepaired':<14} {'repaired':<9} {'attempts':>8} "
            f"{'seconds':>8}  repairs"
        )
        for fault, r in done:
            if isinstance(r, Exception):
                rows.append(
                    {"fault": fault.id, "error": f"{type(r).__name__}: {r}", "repaired": False, "failure": True}
                )
                print(f"{fault.id:<38} {'?':<14} {'(harness error)':<9} {'-':>8} {'-':>8}  {r}")
                continue
            status = "fails" if r.failed_unrepaired else "NOT A FAILURE"
            rows.append(
                {
                    "fault": fault.id,
                    "failure": r.failed_unrepaired,
                    "unrepaired_error": r.unrepaired_error,
                    "repaired": r.repaired,
                    "attempts": r.attempts,
                    "seconds": round(r.seconds, 1),
                    "repairs": r.strategies,
                    "message": r.result.message,
                }
            )
            print(
                f"{fault.id:<38} {status:<14} {'yes' if r.repaired else 'NO':<9} {r.attempts:>8} "
                f"{r.seconds:>8.1f}  {', '.join(r.strategies) or '-'}"
                + ("" if r.repaired else f"  [{r.result.message[:100]}]")
            )
        failures = [x for x in rows if x.get("failure")]
        n = sum(x["repaired"] for x in failures)
        rate = n / len(failures) if failures else 0.0
        print(
            f"everyday faults repaired {n}/{len(failures)} = {rate:.0%} of those that fail unrepaired; "
            f"{len(rows) - len(failures)} not a failure; wall {time.time() - started:.0f} s"
        )
        results["everyday"] = {
            "repaired": n,
            "failures": len(failures),
            "total": len(rows),
            "rate": rate,
            "faults": rows,
        }
    print(f"\nrun folders in {out}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fault injection, measured: every catalogue failure is planted in a real rendered run, the real TRL run
fails with it, the loop recognises it from the real log, repairs it within 3 attempts, and the before/after
then succeeds (report.json verdict).

The faults run two at a time (each training process on one thread): the work is subprocesses, so threads
are enough. RL_AGENT_REPAIR_WORKERS changes the number.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from rl_agent.agent.repair.log import REPAIRS_JSONL, REPAIRS_MD
from rl_agent.agent.repair.loop import MAX_ATTEMPTS
from tests.support.faults import FAULTS, NEEDS_DONOR, Donor, make_donor, run_all, run_fault, slowest_first


@pytest.fixture(scope="session")
def fault_results(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("faults")
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        donor = make_donor(root / "donor", model_path=tiny_model, python=sys.executable)
        order = slowest_first()
        workers = int(os.environ.get("RL_AGENT_REPAIR_WORKERS", "2"))

        done = run_all(
            order,
            workers,
            lambda fault: run_fault(  # a harness crash is reported by that fault's test
                fault,
                root / fault.id,
                model_path=tiny_model,
                python=sys.executable,
                donor=donor if fault.id in NEEDS_DONOR else Donor(),
            ),
        )
        results = {fault.id: result for fault, result in done}
    finally:
        if old is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = old
    return root, results


@pytest.mark.parametrize("fault_id", [f.id for f in FAULTS])
def test_fault_is_recognised_repaired_and_the_run_succeeds(fault_id, fault_results):
    root, results = fault_results
    r = results[fault_id]
    if isinstance(r, Exception):
        raise r
    run = root / fault_id
    first = r.result.repairs[0] if r.result.repairs else None
    # The injected fault really failed the run, and was recognised as itself from what the run printed.
    assert first is not None, f"the injected fault did not make the run fail: {r.result.message}"
    assert r.recognised_as == fault_id, f"recognised as {r.recognised_as}: {first.error}"
    seen = (run / "train.log").read_text(encoding="utf-8", errors="replace").replace("\r", "\n") + first.error
    assert first.evidence.split("\n")[0][:80] in seen or first.evidence.startswith("tuned answer")
    # Repaired within the bound, and the before/after succeeded.
    assert r.repaired and r.result.status == "succeeded", r.result.message
    assert 1 <= r.attempts <= MAX_ATTEMPTS
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    assert report["verdict"]["succeeded"] is True
    # Every repair is on record: error, diagnosis, patch, outcome.
    events = [json.loads(x) for x in (run / REPAIRS_JSONL).read_text(encoding="utf-8").splitlines()]
    patches = [e for e in events if "patch" in e]
    assert len(patches) == r.attempts and all(e["error"] and e["diagnosis"] and e["patch"]["summary"] for e in patches)
    assert [e for e in events if "outcome" in e][-1]["outcome"].startswith("fixed")
    md = (run / REPAIRS_MD).read_text(encoding="utf-8")
    assert first.title in md and "**Outcome:** fixed" in md

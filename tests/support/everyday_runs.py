"""Running the everyday fault set (everyday_faults.py) for bench/repair.py and the tests.

Each fault is measured twice, in two run folders: once with no repair at all (the pipeline as it is, no
preflight), to tell a real failure from a fault the run survives anyway; once through the repair loop.
A fault whose unrepaired run succeeds is reported as "not a failure", never counted as a repair.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from rl_agent.agent.repair.loop import LoopResult, run_with_repairs
from rl_agent.kit.pipeline.driver import Pipeline
from tests.support.everyday_faults import EverydayFault
from tests.support.faults import prepare_run


@dataclass
class EverydayResult:
    fault: str
    failed_unrepaired: bool  # False: the run succeeds with the fault in it (not a failure)
    unrepaired_error: str
    repaired: bool  # the loop's run succeeded (verdict included)
    attempts: int
    seconds: float
    strategies: list[str]  # the repair record ids, in order (preflight ids, catalogue ids, fallbacks)
    result: LoopResult


def unrepaired(fault: EverydayFault, root: Path, *, model_path: Path, python: str) -> tuple[bool, str]:
    """(failed, error) of the pipeline run with the fault and no repair."""
    folder = prepare_run(root, model_path=model_path, python=python)
    fault.inject(folder)
    try:
        report = Pipeline(folder, Console(file=io.StringIO())).run(folder.load())
    except Exception as e:  # noqa: BLE001 - any crash is the failure being measured
        return True, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
    ok = bool(report.get("verdict", {}).get("succeeded"))
    return (not ok), ("" if ok else "the run completed but the verdict failed")


def run_everyday(
    fault: EverydayFault, root: Path, *, model_path: Path, python: str, baseline: bool = True
) -> EverydayResult:
    failed, error = (
        unrepaired(fault, root / "unrepaired", model_path=model_path, python=python)
        if baseline
        else (True, "(not measured)")
    )
    folder = prepare_run(root / "repaired", model_path=model_path, python=python)
    fault.inject(folder)
    started = time.time()
    result = run_with_repairs(folder)
    seconds = time.time() - started
    report = folder.path("report.json")
    verdict = report.is_file() and json.loads(report.read_text(encoding="utf-8"))["verdict"]["succeeded"]
    return EverydayResult(
        fault.id,
        failed,
        error,
        bool(result.ok and verdict),
        result.attempts,
        seconds,
        [r.failure for r in result.repairs],
        result,
    )

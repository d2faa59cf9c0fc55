"""Task-suite table for the offline recipe library: each phrasing of tests/recipe_suite.py, the recipe it
plans to, whether its check is proven on its own examples, and the check in plain words; then the refused
phrasings with the reason, and the counts.

    python bench/tasks.py [--width 70]              # plan and prove every phrasing (seconds)
    python bench/tasks.py --run [--recipe NAME]     # also a full `rl-agent new` run, one task per recipe
    python bench/tasks.py --run --keep runs/tasks   # ... keeping each run folder to read its report.md

With --run, one phrasing of each recipe (tests/recipe_suite.py FULL_RUN) is run end to end on the embedded model (plan, prove, base
answers, train, evaluate) and the table shows the task check's held-out pass rate before -> after, the
verdict and the wall time. Nothing here is hard-coded: every row is planned, proven and run when the script
runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from recipe_suite import FULL_RUN, PLANNED, REFUSED  # noqa: E402

from rl_agent.kit.planning.recipes import RecipePlan, RecipeRefused, plan_and_prove  # noqa: E402


def before_after(plan: RecipePlan, run_dir: Path) -> str | None:
    """A full `rl-agent new` run of the plan's task in a fresh folder: the check pass rate of the base model's
    held-out answers -> the tuned model's, correctness before -> after, the verdict (with the checks it failed)
    and the wall time; None when the run did not finish (e.g. nothing to learn: the reason is printed)."""
    import io
    import json

    from rich.console import Console

    from rl_agent.agent.orchestrate import new_run
    from rl_agent.kit.pipeline.start import UserError

    folder = run_dir / "run"
    log = io.StringIO()
    started = time.perf_counter()
    try:
        new_run(Console(file=log, width=140), plan.task, run_dir=folder, offline=True, yes=True, steps=None,
                plan_only=False)
    except UserError as e:
        print(f"  ({plan.recipe}: {e})", file=sys.stderr)
    wall = time.perf_counter() - started
    report = folder / "report.json"
    if not report.is_file():
        said = [line for line in log.getvalue().splitlines() if "nothing to learn" in line or "error" in line.lower()]
        return " ".join(said[0].split())[:160] if said else None
    rep = json.loads(report.read_text())
    tc = rep["task_check"]
    failed = [k for k, ok in rep["verdict"]["checks"].items() if not ok]
    verdict = "succeeded" if rep["verdict"]["succeeded"] else f"FAILED ({'; '.join(failed)})"
    b, a = rep["before"].get("correct"), rep["after"].get("correct")
    correct = "-" if b is None or a is None else f"{b:.2f} -> {a:.2f}"
    return (f"check {tc['before']['pass_rate']:.2f} -> {tc['after']['pass_rate']:.2f}, correct {correct}, "
            f"{verdict}, {wall:.0f}s")


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=70, help="width of the task and check columns")
    ap.add_argument("--run", action="store_true", help="a full run on the embedded model, one task per recipe")
    ap.add_argument("--recipe", action="append", help="with --run: only these recipes")
    ap.add_argument("--keep", type=Path, help="with --run: keep each run folder as KEEP/<recipe>/run, to read its "
                                              "report.md (the held-out answers side by side)")
    args = ap.parse_args()
    ran: set[str] = set()
    w = args.width
    start = time.perf_counter()
    proven = 0
    print(f"{'task':<{w}} | {'recipe':<14} | {'algo':<4} | proven | check (plain words)")
    print("-" * (w * 2 + 40))
    for task, _, _ in PLANNED:
        with tempfile.TemporaryDirectory() as tmp:
            plan, proof = plan_and_prove(task, tmp)
            run = (args.run and FULL_RUN.get(plan.recipe) == task and plan.recipe not in ran
                   and (not args.recipe or plan.recipe in args.recipe))
            where = args.keep / plan.recipe if args.keep else Path(tmp)
            rates = before_after(plan, where) if run and proof.passed else None
            if run:
                ran.add(plan.recipe)
        proven += proof.passed
        mark = f"{'yes' if proof.passed else 'NO'} {len(plan.good)}/{len(plan.bad)}"
        print(f"{_cut(task, w):<{w}} | {plan.recipe:<14} | {plan.algorithm:<4} | {mark:<6} | {_cut(plan.statement, w)}")
        if rates:
            print(f"{'':<{w}}   full run on the embedded model: {rates}")
    print()
    print(f"{'refused task':<{w}} | what it would need")
    print("-" * (w + 60))
    refused = 0
    for task, _ in REFUSED:
        try:
            plan_and_prove(task, tempfile.mkdtemp())
            need = "PLANNED (expected a refusal)"
        except RecipeRefused as e:
            refused += 1
            need = e.need
        print(f"{_cut(task, w):<{w}} | {_cut(need, w + 20)}")
    print()
    print(f"planned {len(PLANNED)}, check proven {proven}/{len(PLANNED)} (good/bad = examples per check); "
          f"refused {refused}/{len(REFUSED)}; {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()

"""Task-suite table for the offline recipe library: each phrasing of tests/recipe_suite.py, the recipe it
plans to, whether its check is proven on its own examples, and the check in plain words; then the refused
phrasings with the reason, and the counts.

    python bench/tasks.py [--width 70]

Hook for real runs: `before_after(plan, run_dir)` returns (check pass rate of the base model's held-out
answers, of the tuned model's) once `rl-agent new` runs recipe plans; until then it returns None and the
column shows "-". Nothing here is hard-coded: every row is planned and proven when the script runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from recipe_suite import PLANNED, REFUSED  # noqa: E402

from rl_agent.kit.planning.recipes import RecipePlan, RecipeRefused, plan_and_prove  # noqa: E402


def before_after(plan: RecipePlan, run_dir: Path) -> tuple[float, float] | None:
    """HOOK (integration): run the plan through the pipeline and return the task check's held-out pass rate
    (before, after), e.g. score_outputs(run_dir, "check.py", base_answers).pass_rate and the same for the
    tuned answers. Not wired yet: the pipeline does not run recipe plans."""
    return None


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=70, help="width of the task and check columns")
    args = ap.parse_args()
    w = args.width
    start = time.perf_counter()
    proven = 0
    print(f"{'task':<{w}} | {'recipe':<14} | {'algo':<4} | proven | before -> after | check (plain words)")
    print("-" * (w + 110))
    for task, _, _ in PLANNED:
        with tempfile.TemporaryDirectory() as tmp:
            plan, proof = plan_and_prove(task, tmp)
            rates = before_after(plan, Path(tmp))
        proven += proof.passed
        ba = "-" if rates is None else f"{rates[0]:.2f} -> {rates[1]:.2f}"
        mark = f"{'yes' if proof.passed else 'NO'} {len(plan.good)}/{len(plan.bad)}"
        print(f"{_cut(task, w):<{w}} | {plan.recipe:<14} | {plan.algorithm:<4} | {mark:<6} | {ba:<15} | "
              f"{_cut(plan.statement, w)}")
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

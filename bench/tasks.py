"""Task-suite table for the recipe library: each recipe with its parameters (tests/support/recipe_suite.py), whether its
check is proven on its own examples, and the check in plain words; then the combined recipes and the
parameter mistakes with the error each gets, and the counts.

    python bench/tasks.py [--width 70]              # plan and prove every entry (seconds)
    python bench/tasks.py --run [--recipe NAME]     # also a full `rl-agent new --recipe ...` run per recipe
    python bench/tasks.py --run --keep runs/tasks   # ... keeping each run folder to read its report.md

With --run, each recipe's FULL_RUN parameters are run end to end on the embedded model (plan, prove, base
answers, train, evaluate) and the table shows the task check's held-out pass rate before -> after, the verdict
and the wall time. Nothing here is hard-coded: every row is planned, proven and run when the script runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests.support

from rl_agent.kit.planning.recipes import RecipeError, prove_check  # noqa: E402
from rl_agent.kit.planning.recipes.library import command, plan_recipes  # noqa: E402
from tests.support.recipe_suite import COMBINED, FULL_RUN, PARAM_ERRORS, PLANNED  # noqa: E402


def before_after(groups: list, run_dir: Path) -> str | None:
    """A full `rl-agent new --recipe ...` run in a fresh folder: the check pass rate of the base model's held-out
    answers -> the tuned model's, correctness before -> after, the verdict (with the checks it failed) and the
    wall time; None when the run did not finish (e.g. nothing to learn: the reason is printed)."""
    import io
    import json

    from rich.console import Console

    from rl_agent.agent.orchestrate import new_run
    from rl_agent.agent.start import UserError

    folder = run_dir / "run"
    log = io.StringIO()
    started = time.perf_counter()
    try:
        new_run(
            Console(file=log, width=140),
            recipes=groups,
            run_dir=folder,
            offline=True,
            yes=True,
            steps=None,
            plan_only=False,
        )
    except UserError as e:
        print(f"  ({groups[0][0]}: {e})", file=sys.stderr)
    wall = time.perf_counter() - started
    report = folder / "report.json"
    if not report.is_file():
        said = [
            line
            for line in log.getvalue().splitlines()
            if "nothing to learn" in line or "no reward signal" in line or "error" in line.lower()
        ]
        return " ".join(said[0].split())[:160] if said else None
    rep = json.loads(report.read_text())
    tc = rep["task_check"]
    failed = [k for k, ok in rep["verdict"]["checks"].items() if not ok]
    verdict = "succeeded" if rep["verdict"]["succeeded"] else f"FAILED ({'; '.join(failed)})"
    b, a = rep["before"].get("correct"), rep["after"].get("correct")
    correct = "-" if b is None or a is None else f"{b:.2f} -> {a:.2f}"
    return (
        f"check {tc['before']['pass_rate']:.2f} -> {tc['after']['pass_rate']:.2f}, correct {correct}, "
        f"{verdict}, {wall:.0f}s"
    )


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=70, help="width of the command and check columns")
    ap.add_argument("--run", action="store_true", help="a full run on the embedded model, one per recipe")
    ap.add_argument("--recipe", action="append", help="with --run: only these recipes")
    ap.add_argument(
        "--keep",
        type=Path,
        help="with --run: keep each run folder as KEEP/<recipe>/run, to read its "
        "report.md (the held-out answers side by side)",
    )
    args = ap.parse_args()
    w = args.width
    start = time.perf_counter()
    entries = [[(r, s)] for r, s, _ in PLANNED] + [g for g, _, _ in COMBINED]
    proven = 0
    print(f"{'rl-agent new ...':<{w}} | {'algo':<4} | proven | check (plain words)")
    print("-" * (w * 2 + 25))
    for groups in entries:
        with tempfile.TemporaryDirectory() as tmp:
            plan = plan_recipes(groups)
            files = plan.write(tmp)
            proof = prove_check(tmp, files["check.py"], plan.good, plan.bad)
        proven += proof.passed
        mark = f"{'yes' if proof.passed else 'NO'} {len(plan.good)}/{len(plan.bad)}"
        print(
            f"{_cut(command(groups).removeprefix('rl-agent new '), w):<{w}} | {plan.algorithm:<4} | {mark:<6} | "
            f"{_cut(plan.statement, w)}"
        )
    if args.run:
        print()
        for recipe, sets in FULL_RUN.items():
            if args.recipe and recipe not in args.recipe:
                continue
            groups = [(recipe, sets)]
            with tempfile.TemporaryDirectory() as tmp:
                where = args.keep / recipe if args.keep else Path(tmp)
                print(
                    f"{command(groups)}\n    full run on the embedded model: {before_after(groups, where)}", flush=True
                )
    print()
    print(f"{'parameter mistake':<{w}} | the error")
    print("-" * (w * 2 + 25))
    refused = 0
    for groups, _ in PARAM_ERRORS:
        try:
            plan_recipes(groups)
            said = "PLANNED (expected an error)"
        except RecipeError as e:
            refused += 1
            said = str(e)
        print(f"{_cut(command(groups).removeprefix('rl-agent new '), w):<{w}} | {_cut(said, w + 20)}")
    print()
    print(
        f"planned {len(entries)} ({len(COMBINED)} combined), check proven {proven}/{len(entries)} "
        f"(good/bad = examples per check); parameter mistakes refused {refused}/{len(PARAM_ERRORS)}; "
        f"{time.perf_counter() - start:.1f}s"
    )


if __name__ == "__main__":
    main()

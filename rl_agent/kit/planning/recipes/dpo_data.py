"""DPO data for form requirements: the fact's correct answer in the required form is chosen, the same
answer breaking the requirement is rejected, so only the form differs and correctness is kept."""

from __future__ import annotations

from typing import Callable

from rl_agent.kit.planning.recipes.base import Fact, RecipeRefused, bundled_facts

MIN_TRAIN_ROWS = 8


def form_pairs(
    split: str,
    chosen: Callable[[Fact], str | None],
    rejected: Callable[[Fact, int], str | None],
    understood: str,
) -> list[dict]:
    """Rows prompt/chosen/rejected/reference over the bundled facts; facts a form cannot apply to (chosen or
    rejected None, or equal) are left out. Too few rows left means the facts do not suit the task: refused."""
    rows = []
    for i, fact in enumerate(bundled_facts(split)):
        good, bad = chosen(fact), rejected(fact, i)
        if good and bad and good != bad:
            rows.append({"prompt": fact.prompt, "chosen": good, "rejected": bad, "reference": fact.answer})
    if len(rows) < (MIN_TRAIN_ROWS if split == "train" else 5):
        raise RecipeRefused([understood], f"training pairs for it: only {len(rows)} bundled {split} answers can be "
                                          "written in the required form")
    return rows

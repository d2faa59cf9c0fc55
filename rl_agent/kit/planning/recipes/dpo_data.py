"""DPO data for form requirements: the fact's correct answer in the required form is chosen, the same
answer breaking the requirement is rejected, so only the form differs and correctness is kept."""

from __future__ import annotations

from typing import Callable

from rl_agent.kit.planning.recipes.base import Fact, RecipeError, bundled_facts

MIN_TRAIN_ROWS = 8


def form_pairs(
    split: str,
    chosen: Callable[[Fact], str | None],
    rejected: Callable[[Fact, int], str | None],
    understood: str,
) -> list[dict]:
    """Rows prompt/chosen/rejected/reference over the bundled facts; facts a form cannot apply to (chosen or
    rejected None, or equal) are left out. Too few rows left means the facts do not suit the task: RecipeError."""
    rows = []
    for i, fact in enumerate(bundled_facts(split)):
        good, bad = chosen(fact), rejected(fact, i)
        if good and bad and good != bad:
            rows.append({"prompt": fact.prompt, "chosen": good, "rejected": bad, "reference": fact.answer})
    if len(rows) < (MIN_TRAIN_ROWS if split == "train" else 5):
        raise RecipeError(
            f"{understood}: only {len(rows)} bundled {split} answers can be written in the required form, "
            "too few for training pairs"
        )
    return rows


def form_splits(
    chosen: Callable[[Fact], str | None], rejected: Callable[[Fact, int], str | None], understood: str
) -> tuple[list[dict], list[dict]]:
    """form_pairs for the training and the held-out facts."""
    return (form_pairs("train", chosen, rejected, understood), form_pairs("heldout", chosen, rejected, understood))


def edit_form_data(
    apply: Callable[[str], str], has_form: Callable[[str], bool], understood: str
) -> tuple[list[dict], list[dict], list[Fact]]:
    """For a form that is an edit of the answer (a prefix, a closing line): chosen = the edited correct answer,
    rejected = the same answer unedited; plus six held-out facts the form is not already met by, for examples."""
    train, heldout = form_splits(
        lambda f: apply(f.answer), lambda f, i: None if has_form(f.answer) else f.answer, understood
    )
    return train, heldout, [f for f in bundled_facts("heldout") if not has_form(f.answer)][:6]

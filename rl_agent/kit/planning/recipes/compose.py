"""Several recipes as one task (`--recipe length --set max=25 --recipe plain_text --set ban=bullets`): the check is
all of them. An answer passes only if every part passes; its score is the lowest part's, None when a part
cannot grade.

The combined check.py holds each part's own check body, unchanged, inside a function that receives that part's
parameters (data in PARTS, never code). Proof: every part's check is proven on its own good/bad examples; the
combined check on answers put in every part's form (good), on answers breaking one part each, and on every
part's own bad examples (a part's bad answer is bad for the whole). Training pairs: chosen is the correct
answer in every part's form, rejected breaks one part in turn; a pair the combined check does not separate is
dropped, and parts that cannot all hold on one answer ("ALL CAPS" and a prefix 'Answer:') are refused, naming
the part.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from types import ModuleType

from rl_agent.kit.planning.recipes.base import (
    CHECK_FILE,
    Fact,
    Form,
    Params,
    RecipeError,
    RecipePlan,
    bundled_facts,
    item,
    params_literal,
)
from rl_agent.kit.planning.recipes.dpo_data import MIN_TRAIN_ROWS
from rl_agent.kit.planning.recipes.proof import GOOD_MIN, MIN_EXAMPLES, prove_check
from rl_agent.kit.tracks.dpo import DPOTrack
from rl_agent.runtime.check_runner import CheckItem, run_check

_HEADER = '''"""Task check (rl-agent recipes: {names}): every part must pass.

Contract: check(prompt, output, reference=None) -> a score in [0, 1], or None when it cannot grade.
Standard library only. The score is the lowest part's score, None when a part cannot grade. Each part is its
recipe's own check; the parameters are data in PARTS (a JSON literal), never code.
"""

import json
import re

PARTS = json.loads({literal})
'''
_TAIL = '''
CHECKS = [{calls}]


def check(prompt, output, reference=None):
    """The lowest part score: an answer passes only if every part passes; None when a part cannot grade."""
    scores = [part(prompt, output, reference) for part in CHECKS]
    if any(s is None for s in scores):
        return None
    return min(float(s) for s in scores)
'''


def check_params(module: ModuleType, params: Params) -> dict:
    """The PARAMS a recipe's check reads (the typed parameters, unless the recipe expands them)."""
    return module.check_params(params) if hasattr(module, "check_params") else params.model_dump(mode="json")


def render_composed(parts: list[tuple[ModuleType, Params]]) -> str:
    names = [m.NAME for m, _ in parts]
    literal = params_literal([{"recipe": m.NAME, "params": check_params(m, p)} for m, p in parts])
    funcs = [
        f"def _part_{i}_{m.NAME}(PARAMS):\n" + textwrap.indent(m.CHECK_BODY.strip(), "    ") + "\n\n    return check\n"
        for i, (m, _) in enumerate(parts)
    ]
    calls = ", ".join(f'_part_{i}_{m.NAME}(PARTS[{i}]["params"])' for i, (m, _) in enumerate(parts))
    return (
        _HEADER.format(names=" + ".join(names), literal=literal)
        + "\n\n"
        + "\n\n".join(funcs)
        + "\n"
        + _TAIL.format(calls=calls)
    )


class _Forms:
    """The parts' forms in order (transforms first, filters last): `put` writes an answer in every form but one."""

    def __init__(self, forms: list[Form]):
        self.forms = forms
        self.order = sorted(range(len(forms)), key=lambda i: (forms[i].order, i))

    def put(self, answer: str, skip: int | None = None) -> tuple[str | None, int | None]:
        """(the answer in every part's form but `skip`, None) or (None, the part whose form it cannot take)."""
        text: str | None = answer
        for i in self.order:
            if i != skip:
                text = self.forms[i].apply(text)
                if text is None:
                    return None, i
        return text, None

    def spoiled(self, answer: str, k: int, n: int) -> str | None:
        """The answer in every form but part k's, then part k broken."""
        base, _ = self.put(answer, skip=k)
        return None if base is None else self.forms[k].spoil(base, n)


def compose(parts: list[tuple[ModuleType, Params]]) -> RecipePlan:
    for m, _ in parts:
        if not hasattr(m, "form"):
            raise RecipeError(
                f"recipe {m.NAME!r} trains with GRPO on its own generated problems and is not combined "
                "with other recipes: run it alone, or write a task folder whose check covers "
                "everything (rl-agent new --task-dir DIR)"
            )
    names = [m.NAME for m, _ in parts]
    plans = [m.build(p) for m, p in parts]
    forms = _Forms([m.form(p) for m, p in parts])
    source = render_composed(parts)
    with tempfile.TemporaryDirectory(prefix="rl-agent-compose-") as tmp:
        root = Path(tmp)
        for i, plan in enumerate(plans):  # every part proven on its own examples, with its own check
            (root / f"part{i}").mkdir()
            (root / f"part{i}" / CHECK_FILE).write_text(plan.check_source, encoding="utf-8")
            proof = prove_check(root / f"part{i}", CHECK_FILE, plan.good, plan.bad)
            if not proof.passed:
                raise RecipeError(f"part {i + 1} ({plan.recipe}) is not proven on its own examples: {proof.message()}")
        (root / CHECK_FILE).write_text(source, encoding="utf-8")
        train = _pairs(root, "train", forms, names, plans, MIN_TRAIN_ROWS)
        heldout = _pairs(root, "heldout", forms, names, plans, MIN_EXAMPLES)
    good, bad = _examples(forms, plans)
    statement = "an answer passes only if every part passes (its score is the lowest part's): " + "; AND ".join(
        f"[{p.recipe}] {p.statement}" for p in plans
    )
    understood = " and ".join(p.understood for p in plans)
    params = {"parts": [{"recipe": p.recipe, "params": p.params} for p in plans]}
    notes = [
        "DPO: chosen is the correct answer in every part's form, rejected the same answer with one part broken in turn",
        "each part's check was proven on its own examples; the combined check is proven on answers "
        "meeting every part and on answers breaking one",
    ]
    return RecipePlan(
        "+".join(names),
        understood,
        params,
        DPOTrack.name,
        statement,
        understood,
        source,
        train,
        heldout,
        good,
        bad,
        notes=notes,
    )


def _pairs(root: Path, split: str, forms: _Forms, names: list[str], plans: list[RecipePlan], least: int) -> list[dict]:
    """Pairs over the bundled facts that the combined check separates (chosen passes, rejected fails)."""
    n = len(forms.forms)
    rows, unplaceable = [], []
    for j, fact in enumerate(bundled_facts(split)):
        chosen, failed = forms.put(fact.answer)
        if chosen is None:
            unplaceable.append((fact, failed))
            continue
        rejected = forms.spoiled(fact.answer, j % n, j)
        if rejected and rejected != chosen:
            rows.append({"prompt": fact.prompt, "chosen": chosen, "rejected": rejected, "reference": fact.answer})
    scores = (
        run_check(
            root,
            CHECK_FILE,
            [CheckItem(r["prompt"], r[k], r["reference"]) for r in rows for k in ("chosen", "rejected")],
        )
        if rows
        else []
    )
    kept = [
        r
        for r, c, x in zip(rows, scores[0::2], scores[1::2])
        if c is not None and c >= GOOD_MIN and x is not None and x <= 0.1
    ]
    if len(kept) >= least:
        return kept
    why = ""
    losing = next((r for r, c in zip(rows, scores[0::2]) if c is None or c < GOOD_MIN), None)
    if losing is not None:  # name the part that rejects an answer written in every form
        for i, plan in enumerate(plans):
            s = run_check(
                root / f"part{i}", CHECK_FILE, [CheckItem(losing["prompt"], losing["chosen"], losing["reference"])]
            )[0]
            if s is None or s < GOOD_MIN:
                why = f"; e.g. {losing['chosen'][:80]!r} fails part {i + 1} ({names[i]})"
                break
    elif unplaceable:
        fact, failed = unplaceable[0]
        why = f"; e.g. the answer {fact.answer[:60]!r} cannot take the form of part {failed + 1} ({names[failed]})"
    raise RecipeError(
        f"the parts {' + '.join(names)} cannot all hold at once on answers built from the bundled "
        f"facts: only {len(kept)} {split} pairs pass every part, {least} needed{why}"
    )


def _examples(forms: _Forms, plans: list[RecipePlan]) -> tuple[list[CheckItem], list[CheckItem]]:
    """Good: held-out answers in every part's form. Bad: the same with one part broken (two per part), then
    every part's own bad examples."""
    facts: list[Fact] = bundled_facts("heldout")
    good = []
    for fact in facts:
        text, _ = forms.put(fact.answer)
        if text is not None:
            good.append(item(fact, text))
        if len(good) == 6:
            break
    bad = []
    for k in range(len(plans)):
        made = 0
        for j, fact in enumerate(facts):
            text = forms.spoiled(fact.answer, k, j)
            if text is not None:
                bad.append(item(fact, text))
                made += 1
            if made == 2:
                break
    for plan in plans:
        bad += plan.bad
    return good, bad

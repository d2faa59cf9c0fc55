"""Recipe: a required closing (`--set closing="Hope this helps." --set whole_line=true`).

whole_line true: the closing stands alone on the answer's last line; false: the answer must end with it. DPO
rejects the same correct answer without the closing.
"""

from __future__ import annotations

from pydantic import Field

from rl_agent.kit.planning.recipes.base import Form, OneLine, Params, RecipePlan, item
from rl_agent.kit.planning.recipes.dpo_data import edit_form_data
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "closing"
DESCRIPTION = "answers end with a fixed text (a required closing), such as a sign-off line 'Hope this helps.'"
EXAMPLE = {"closing": "Hope this helps.", "whole_line": "true"}


class ClosingParams(Params):
    closing: OneLine = Field(description="the text every answer must end with (exact)", max_length=200)
    whole_line: bool = Field(False, description="true: the closing stands alone on the answer's last line")


PARAMS = ClosingParams

CHECK_BODY = r'''
def check(prompt, output, reference=None):
    """1.0 when the answer ends with the closing (alone on the last line when whole_line) after some answer text."""
    closing = PARAMS["closing"].strip()
    text = output.rstrip()
    if PARAMS["whole_line"]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or lines[-1] != closing:
            return 0.0
        return 1.0 if re.search(r"\w", " ".join(lines[:-1])) else 0.0
    if not text.endswith(closing):
        return 0.0
    before = text[: len(text) - len(closing)]
    if closing[:1].isalnum() and before[-1:].isalnum():
        return 0.0  # 'done' does not end 'undone'
    return 1.0 if re.search(r"\w", before) else 0.0
'''


def understood(p: ClosingParams) -> str:
    return f"{'the last line must be exactly' if p.whole_line else 'every answer must end with'} {p.closing!r}"


def form(p: ClosingParams) -> Form:
    sep = "\n" if p.whole_line else " "
    return Form(lambda a: f"{a}{sep}{p.closing}", lambda a, i: a, order=3)


def build(p: ClosingParams) -> RecipePlan:
    closing, whole = p.closing, p.whole_line
    params = p.model_dump(mode="json")
    sep = "\n" if whole else " "
    train, heldout, facts = edit_form_data(lambda a: f"{a}{sep}{closing}", lambda a: a.endswith(closing), understood(p))
    good = [item(f, f"{f.answer}{sep}{closing}") for f in facts[:3]]
    good += [
        item(facts[3], f"The answer is {facts[3].answer}\n{closing}\n"),
        item(facts[4], f"{facts[4].answer}\n\n{closing}"),
    ]
    bad = [
        item(facts[0], facts[0].answer),
        item(facts[1], f"{closing}{sep}{facts[1].answer}"),
        item(facts[2], closing),
        item(
            facts[3],
            f"{facts[3].answer}{sep}{closing} "
            + next(t for t in ("Anything else?", "Anything else.", "Anything else") if not t.endswith(closing)),
        ),
        item(facts[4], f"{facts[4].answer}{sep}{closing[:-1] if len(closing) > 1 else ''}"),
    ]
    if whole:
        bad.append(item(facts[5], f"{facts[5].answer} and {closing}"))
    elif closing[:1].isalnum():
        bad.append(item(facts[5], f"{facts[5].answer.rstrip('.')}{closing}"))
    statement = (
        f"accepts only answers whose last line is exactly {closing!r}, after at least one line of answer"
        if whole
        else f"accepts only answers that end with exactly {closing!r} after some answer text"
        + (" (as a whole word)" if closing[:1].isalnum() else "")
    )
    notes = ["DPO: chosen is the correct answer with the closing, rejected the same answer without"]
    return RecipePlan.of(
        NAME,
        understood(p),
        params,
        DPOTrack.name,
        statement + "; rejects everything else",
        CHECK_BODY,
        (train, heldout),
        (good, bad),
        notes,
    )

"""Recipe: the bundled terse style and facts (`rl-agent new --recipe terse`; `--set bans=hedges` for no hedging
only).

DPO on the shipped pairs (terse correct answer chosen, hedging answer rejected). The check is the terse
style rule as a pass/fail: some words, at most the terse word limit, no hedge or filler phrase. The phrase
lists are passed as data from the kit's terse judge (one source). `bans` picks the parts checked: hedges,
fillers, length (the word limit); all three by default.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from rl_agent.kit.planning.recipes.base import Form, Params, RecipePlan, bundled_facts, item, render_check
from rl_agent.kit.tracks.dpo import DPOTrack
from rl_agent.runtime.terse_style import FILLERS, HEDGES, TERSE_WORD_LIMIT

NAME = "terse"
DESCRIPTION = (
    "terse, direct, concise answers: no hedging (I think, probably), no filler (Great question!), "
    "short; on the bundled facts"
)
EXAMPLE: dict = {}


class TerseParams(Params):
    bans: list[Literal["hedges", "fillers", "length"]] = Field(
        ["hedges", "fillers", "length"],
        min_length=1,
        description=f"what the check rejects: hedges, fillers, length (over {TERSE_WORD_LIMIT} words)",
    )

    @field_validator("bans")
    @classmethod
    def _bans(cls, v: list[str]) -> list[str]:
        return sorted(set(v), key=["hedges", "fillers", "length"].index)


PARAMS = TerseParams

CHECK_BODY = r'''
def _hits(text, phrases):
    low = " " + re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")) + " "
    return sum(len(re.findall(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low)) for p in phrases)


def check(prompt, output, reference=None):
    """1.0 for a short, direct answer: 1..word_limit words, no hedge or filler phrase, not degenerate."""
    tokens = output.split()
    if not tokens or (PARAMS["word_limit"] and len(tokens) > PARAMS["word_limit"]):
        return 0.0
    if sum(len(t) > 20 for t in tokens) * 2 >= len(tokens):
        return 0.0
    return 0.0 if _hits(output, PARAMS["hedges"] + PARAMS["fillers"]) else 1.0
'''


def check_params(p: TerseParams) -> dict:
    """The check's PARAMS: the phrase lists and the word limit the bans name (from the kit's terse judge)."""
    return {
        "hedges": list(HEDGES) * ("hedges" in p.bans),
        "fillers": list(FILLERS) * ("fillers" in p.bans),
        "word_limit": TERSE_WORD_LIMIT if "length" in p.bans else None,
    }


def _says(answer: str, phrases: list[str]) -> bool:
    low = answer.lower().replace("\u2019", "'")
    return any(re.search(r"(?<![a-z])" + re.escape(b) + r"(?![a-z])", low) for b in phrases)


def understood(p: TerseParams) -> str:
    if p.bans == ["hedges", "fillers", "length"]:
        return "answers must be terse and direct: no hedging or filler"
    return "answers must have " + " and ".join(
        {"hedges": "no hedging", "fillers": "no filler", "length": f"at most {TERSE_WORD_LIMIT} words"}[b]
        for b in p.bans
    )


def form(p: TerseParams) -> Form:
    cp = check_params(p)
    banned, limit = cp["hedges"] + cp["fillers"], cp["word_limit"]

    def apply(a: str) -> str | None:
        return None if _says(a, banned) or (limit and len(a.split()) > limit) else a

    def spoil(a: str, i: int) -> str:
        if cp["hedges"]:
            return f"I think it is probably {a}"
        if cp["fillers"]:
            return f"Great question! {a}"
        return f"{a} " + "This is a well known fact that many people learn in school. " * 2

    return Form(apply, spoil, order=5)


def build(p: TerseParams) -> RecipePlan:
    from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects

    bans = p.bans
    params = check_params(p)
    banned = params["hedges"] + params["fillers"]

    def rows(split: str) -> list[dict]:
        facts = {f.prompt: f.answer for f in bundled_facts(split)}
        return [
            {
                "prompt": r["prompt"].strip(),
                "chosen": r["chosen"].strip(),
                "rejected": r["rejected"].strip(),
                "reference": facts[r["prompt"].strip()],
            }
            for _, _, r in iter_jsonl_objects(bundled_pairs_path(split))
        ]

    def says_banned(answer: str) -> bool:
        return _says(answer, banned)

    train, heldout = rows("train"), rows("heldout")
    facts = bundled_facts("heldout")
    good = [item(f, f.answer) for f in facts[:4]]
    f5 = facts[4]
    good.append(item(f5, f"It is {f5.answer}"))
    bad = [item(f, r["rejected"]) for f, r in zip(facts, heldout) if says_banned(r["rejected"])][:4]
    bad += [item(f5, f"Maybe {f5.answer}" if "hedges" in bans else f"Great question! {f5.answer}"), item(f5, "")]
    long_answer = f"{f5.answer} " + "This is a well known fact that many people learn in school. " * 2
    if "length" in bans:
        bad.append(item(f5, long_answer))
        statement = (
            f"accepts answers of 1 to {TERSE_WORD_LIMIT} words with none of these hedge/filler phrases: "
            + ", ".join(banned)
            + "; rejects everything else"
        )
    else:
        good.append(item(f5, long_answer))
        statement = (
            "accepts answers with words and none of these phrases: "
            + ", ".join(banned)
            + "; rejects everything else (no length limit: none was asked for)"
        )
    return RecipePlan(
        NAME,
        understood(p),
        p.model_dump(mode="json"),
        DPOTrack.name,
        statement,
        understood(p),
        render_check(NAME, params, CHECK_BODY),
        train,
        heldout,
        good,
        bad,
        notes=["DPO on the bundled pairs: terse correct answer chosen, hedging answer rejected"],
    )

"""Recipe: arithmetic with a final-answer marker (GRPO; reward = the number after the last marker equals the
true answer). `--set marker="####" --set ops=+ --set terms=3 --set low=1 --set high=9`.

Problems come from a seeded generator, asked in several phrasings; held-out problems never appear in
training. A problem space smaller than the data wanted is used whole and split honestly (never a hang).
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rl_agent.kit.planning.recipes.base import OneLine, Params, RecipeError, RecipePlan
from rl_agent.kit.tracks.grpo import GRPOTrack
from rl_agent.runtime.check_runner import CheckItem

NAME = "arithmetic"
DESCRIPTION = (
    "arithmetic problems (sums, differences, products, quotients of numbers), the final answer "
    "marked by a text such as '####' or 'Answer:'; trained with GRPO"
)
EXAMPLE = {"marker": "####", "ops": ["+"], "terms": "3", "low": "1", "high": "9"}
MIN_PROBLEMS = 48  # fewer distinct problems leave too few for training plus 8 held-out examples


class ArithmeticParams(Params):
    marker: OneLine = Field(
        max_length=40, description="the text right before the final answer, e.g. '####' or 'Answer:'"
    )
    ops: list[Literal["+", "-", "*", "/"]] = Field(
        ["+", "-", "*"], min_length=1, description="the operations problems use (one per problem)"
    )
    terms: int = Field(2, ge=2, le=4, description="how many numbers each problem has")
    low: int = Field(1, ge=0, le=100_000, description="the smallest operand")
    high: int = Field(99, ge=1, le=100_000, description="the largest operand")
    seed: int = Field(0, description="the generator's seed")
    train: int = Field(200, ge=8, le=100_000, description="training problems")
    heldout: int = Field(40, ge=8, le=10_000, description="held-out problems")

    @field_validator("marker")
    @classmethod
    def _marker(cls, v: str) -> str:
        if re.search(r"\d", v):
            raise ValueError("must hold no digit (a number inside the marker cannot be told from the answer)")
        return v

    @field_validator("ops")
    @classmethod
    def _ops(cls, v: list[str]) -> list[str]:
        return sorted(set(v), key=["+", "-", "*", "/"].index)

    @model_validator(mode="after")
    def _space(self) -> "ArithmeticParams":
        if self.low > self.high:
            raise ValueError("low must not be above high")
        if "/" in self.ops and (self.terms > 2 or self.low < 1):
            raise ValueError("division needs terms=2 and low >= 1")
        space = problem_count(self.model_dump())
        if space < MIN_PROBLEMS:
            raise ValueError(
                f"these operands allow only {space} distinct problems; at least {MIN_PROBLEMS} are "
                "needed (widen low..high or add operations)"
            )
        if space < self.train + self.heldout:  # use every problem, held-out still disjoint
            self.heldout = max(8, space // 5)
            self.train = space - self.heldout
        return self


PARAMS = ArithmeticParams

CHECK_BODY = r'''
NUMBER = re.compile(r"\s*(-?\d[\d,]*(?:\.\d+)?)")


def check(prompt, output, reference=None):
    """1.0 when the number right after the LAST marker equals the reference; None without a reference."""
    if reference is None or not str(reference).strip():
        return None
    marker = PARAMS["marker"]
    at = output.rfind(marker)
    if at < 0:
        return 0.0
    m = NUMBER.match(output, at + len(marker))
    if not m:
        return 0.0
    try:
        got = float(m.group(1).replace(",", ""))
        want = float(str(reference).strip().replace(",", ""))
    except ValueError:
        return 0.0
    return 1.0 if abs(got - want) < 1e-9 else 0.0
'''


# Problems are asked in several ways, as users ask them, so training does not fit one phrasing (and a model that
# works sums out for one phrasing but guesses for another is taught to work them out for all).
PHRASINGS = ("What is {}?", "Compute {}.", "{} = ?", "Calculate {}.", "Work out {}.")


def problem_count(params: dict) -> int:
    """How many distinct problems the generator can make: the data sizes must fit in it (else it never ends)."""
    n, terms = params["high"] - params["low"] + 1, params.get("terms", 2)
    per_op = {"+": n**terms, "*": n**terms, "-": n * (n + 1) // 2 if terms == 2 else n**terms, "/": n * n}
    return sum(per_op[op] for op in params["ops"])


def _problem(op: str, nums: list[int]) -> tuple:
    """The canonical problem for drawn numbers: a whole quotient, a difference that is not negative."""
    nums = list(nums)
    if op == "/":  # two numbers only (the parameters refuse more): a whole quotient
        nums[0] *= nums[1]
    if op == "-" and len(nums) == 2 and nums[1] > nums[0]:
        nums.reverse()
    return (op, *nums)


def _all_problems(params: dict, rng: random.Random) -> list[tuple]:
    """Every distinct problem, shuffled: used when the space is too small to sample from without stalling."""
    span = range(params["low"], params["high"] + 1)
    keys = {
        _problem(op, list(nums))
        for op in params["ops"]
        for nums in itertools.product(span, repeat=params.get("terms", 2))
    }
    keys = sorted(keys)
    rng.shuffle(keys)
    return keys


def _row(key: tuple, index: int) -> dict:
    op, nums = key[0], key[1:]
    value = nums[0]
    for n in nums[1:]:  # one operator per problem, so left to right is the usual order
        value = {"+": value + n, "-": value - n, "*": value * n, "/": value // n if n else 0}[op]
    sign = {"*": "\u00d7", "/": "\u00f7"}.get(op, op)
    ask = PHRASINGS[index % len(PHRASINGS)]
    return {"prompt": ask.format(f" {sign} ".join(map(str, nums))), "reference": str(value)}


def generate(params: dict) -> tuple[list[dict], list[dict]]:
    """Seeded (train, held-out) rows prompt/reference; held-out problems are disjoint from training. Sampling
    is bounded: a space under twice the rows wanted is enumerated instead, and too few problems is refused."""
    rng = random.Random(params["seed"])
    want = params["train"] + params["heldout"]
    terms = params.get("terms", 2)
    space = problem_count(params)
    if space < want:
        raise RecipeError(
            f"arithmetic with operands {params['low']}..{params['high']}: {space} distinct problems, "
            f"{want} wanted for training and held-out (widen the operand range)"
        )
    if space < 2 * want:
        keys = _all_problems(params, rng)[:want]
    else:
        seen: set[tuple] = set()
        keys = []
        for _ in range(100 * want):  # ample for a space at least twice the want; a bound, so never a hang
            op = rng.choice(params["ops"])
            key = _problem(op, [rng.randint(params["low"], params["high"]) for _ in range(terms)])
            if key not in seen:
                seen.add(key)
                keys.append(key)
                if len(keys) == want:
                    break
        if len(keys) < want:
            raise RecipeError(
                f"arithmetic with operands {params['low']}..{params['high']}: too few distinct problems "
                "for training and held-out (widen the operand range)"
            )
    rows = [_row(k, i) for i, k in enumerate(keys)]
    return rows[: params["train"]], rows[params["train"] :]


def understood(p: ArithmeticParams) -> str:
    return (
        f"arithmetic ({' '.join(p.ops)}, {p.terms} operands {p.low}..{p.high} each); the final answer is the "
        f"number after {p.marker!r}"
    )


def build(p: ArithmeticParams) -> RecipePlan:
    marker = p.marker
    params = p.model_dump(mode="json")
    train, heldout = generate(params)
    h = heldout
    sep = "" if marker[-1:].isspace() else " "

    def it(i: int, output: str) -> CheckItem:
        return CheckItem(h[i]["prompt"], output, h[i]["reference"])

    r = [int(x["reference"]) for x in h[:8]]
    # The right number without the marker must fail; a phrasing that holds the marker ("The answer is") proves nothing.
    unmarked = next(
        s for s in (f"The answer is {r[4]}.", f"Result = {r[4]}", f"{r[4]}, I believe.", str(r[4])) if marker not in s
    )
    good = [
        it(0, f"{marker}{sep}{r[0]}"),
        it(1, f"{h[1]['prompt'][8:-1]} = {r[1]}.\n{marker}{sep}{r[1]}"),
        it(2, f"Working it out step by step gives {r[2]}.\n\n{marker}{sep}{r[2]}."),
        it(3, f"{marker}{sep}{r[3] + 1} was a slip; {marker}{sep}{r[3]}"),
        it(4, f"{marker}{r[4]}"),
    ]
    bad = [
        it(0, str(r[0])),
        it(1, f"{marker}{sep}{r[1] + 1}"),
        it(2, f"{marker}{sep}"),
        it(3, f"{marker}{sep}{r[3]}\n{marker}{sep}{r[3] + 2}"),
        it(4, unmarked),
        it(5, f"{r[5]} {marker}{sep}unknown"),
        it(6, ""),
    ]
    statement = (
        f"finds the LAST {marker!r} in the answer and accepts it only if the number right after it equals the "
        "true answer (commas allowed); no marker, no number or a wrong number is rejected; without a "
        "reference answer it cannot grade (None)"
    )
    notes = [
        f"GRPO: {len(train)} seeded problems (seed {p.seed}), {len(heldout)} held-out problems never seen in "
        "training; the check is the reward"
    ]
    if len(train) + len(heldout) == problem_count(params):
        notes.append(
            f"these operands allow only {problem_count(params)} distinct problems: all are used, split into "
            f"{len(train)} for training and {len(heldout)} held out"
        )
    return RecipePlan.of(
        NAME, understood(p), params, GRPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )

"""Recipe: one simple transform of a given list of numbers: sort (ascending or descending), reverse, unique
(drop repeats, keep first occurrences) or sum (GRPO; reward = the answer equals the true result).
`--set op=sort --set order=descending`.

Each prompt gives a list and asks for the result as a bracketed list (or, for a sum, a number), so the
check can read it: the LAST [...] in the answer, or the last number for a sum.
"""

from __future__ import annotations

import json
import random
import re
from typing import Literal

from pydantic import Field

from rl_agent.kit.planning.recipes.base import Params, RecipeError, RecipePlan
from rl_agent.kit.tracks.grpo import GRPOTrack
from rl_agent.runtime.check_runner import CheckItem

NAME = "list_transform"
DESCRIPTION = "a given list of numbers is sorted, reversed, deduplicated (unique) or summed; trained with GRPO"
EXAMPLE = {"op": "sort", "order": "ascending"}


class ListTransformParams(Params):
    op: Literal["sort", "reverse", "unique", "sum"] = Field(description="the transform of the given list")
    order: Literal["ascending", "descending"] = Field("ascending", description="with op=sort: the order")
    seed: int = Field(0, description="the generator's seed")
    train: int = Field(200, ge=8, le=10_000, description="training lists")
    heldout: int = Field(40, ge=8, le=2_000, description="held-out lists")


PARAMS = ListTransformParams

CHECK_BODY = r'''
LIST = re.compile(r"\[([^\[\]]*)\]")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def check(prompt, output, reference=None):
    """1.0 when the answer's result equals the reference: the last [...] list (the last number for a sum)."""
    if reference is None or not str(reference).strip():
        return None
    want = json.loads(reference)
    if PARAMS["op"] == "sum":
        numbers = NUMBER.findall(output.replace(",", ""))
        return 1.0 if numbers and float(numbers[-1]) == float(want) else 0.0
    lists = LIST.findall(output)
    if not lists:
        return 0.0
    inner = lists[-1].strip()
    parts = [p.strip() for p in inner.split(",")] if inner else []
    if any(not NUMBER.fullmatch(p) for p in parts):
        return 0.0
    return 1.0 if [float(p) for p in parts] == [float(x) for x in want] else 0.0
'''


def transform(params: dict, numbers: list[int]):
    op = params["op"]
    if op == "sort":
        return sorted(numbers, reverse=params["order"] == "descending")
    if op == "reverse":
        return numbers[::-1]
    if op == "unique":
        return list(dict.fromkeys(numbers))
    return sum(numbers)


def _prompt(params: dict, numbers: list[int]) -> str:
    ask = {
        "sort": f"Sort these numbers in {params['order']} order",
        "reverse": "Reverse this list of numbers",
        "unique": "Remove the repeated numbers from this list, keeping the first of each",
        "sum": "Add up this list of numbers",
    }[params["op"]]
    form = "Reply with the total." if params["op"] == "sum" else "Reply with the result as a list in brackets."
    return f"{ask}: {json.dumps(numbers)}. {form}"


def prompt_numbers(prompt: str) -> list[int]:
    """The list a generated prompt gives (its first [...])."""
    return json.loads(re.search(r"\[[^\]]*\]", prompt).group(0))


def generate(params: dict) -> tuple[list[dict], list[dict]]:
    """Seeded (train, held-out) rows prompt/reference (a JSON value); held-out lists are disjoint from training."""
    rng = random.Random(params["seed"])
    seen: set[tuple] = set()
    rows: list[dict] = []
    hi = 9 if params["op"] == "unique" else 99
    for _ in range(100 * (params["train"] + params["heldout"])):  # lists of 3-7 numbers: a bound, never a hang
        if len(rows) == params["train"] + params["heldout"]:
            break
        numbers = [rng.randint(0, hi) for _ in range(rng.randint(3, 7))]
        if tuple(numbers) in seen or transform(params, numbers) == numbers:
            continue
        seen.add(tuple(numbers))
        rows.append({"prompt": _prompt(params, numbers), "reference": json.dumps(transform(params, numbers))})
    if len(rows) < params["train"] + params["heldout"]:
        raise RecipeError(
            f"a {params['op']} of a list of numbers: the generator found fewer distinct lists than "
            "wanted (lower train or heldout)"
        )
    return rows[: params["train"]], rows[params["train"] :]


def understood(p: ListTransformParams) -> str:
    return (
        "the given list of numbers "
        + {
            "sort": f"sorted {p.order}",
            "reverse": "reversed",
            "unique": "with repeated numbers removed (first occurrences kept, in order)",
            "sum": "summed",
        }[p.op]
    )


def build(p: ListTransformParams) -> RecipePlan:
    params = p.model_dump(mode="json")
    train, heldout = generate(params)
    h = heldout

    def it(i: int, output: str) -> CheckItem:
        return CheckItem(h[i]["prompt"], output, h[i]["reference"])

    want = [json.loads(x["reference"]) for x in h[:8]]
    given = [prompt_numbers(x["prompt"]) for x in h[:8]]
    if params["op"] == "sum":
        good = [
            it(0, str(want[0])),
            it(1, f"The total is {want[1]}."),
            it(2, f"{' + '.join(map(str, given[2]))} = {want[2]}"),
            it(3, f"{want[3]}.0"),
            it(4, f"Sum: {want[4]}"),
        ]
        bad = [
            it(0, str(want[0] + 1)),
            it(1, f"The total is {want[1]} - no wait, {want[1] - 3}."),
            it(2, ""),
            it(3, json.dumps(given[3])),
            it(4, "I cannot add these."),
        ]
    else:
        good = [
            it(0, json.dumps(want[0])),
            it(1, f"Result: {json.dumps(want[1])}"),
            it(2, "[" + ",".join(map(str, want[2])) + "]"),
            it(3, f"{json.dumps(given[3])} becomes {json.dumps(want[3])}"),
            it(4, f"{json.dumps(want[4])}."),
        ]
        wrong = [
            x for x in (given[0], given[0][::-1], sorted(given[0]), sorted(given[0], reverse=True)) if x != want[0]
        ][0]
        bad = [
            it(0, json.dumps(wrong)),
            it(1, json.dumps(given[1])),
            it(2, json.dumps(want[2][:-1])),
            it(3, " ".join(map(str, want[3]))),
            it(4, f"{json.dumps(want[4])} or maybe {json.dumps(given[4])}"),
            it(5, ""),
        ]
    target = {
        "sort": f"the given list sorted {params['order']}",
        "reverse": "the given list reversed",
        "unique": "the given list with repeats removed (first occurrences kept, in order)",
        "sum": "the sum of the given list",
    }[params["op"]]
    reads = "the last number in the answer" if params["op"] == "sum" else "the last [...] list in the answer"
    statement = (
        f"reads {reads} and accepts it only if it equals {target}; anything else is rejected; without a "
        "reference answer it cannot grade (None)"
    )
    notes = [
        f"GRPO: {len(train)} seeded lists (seed {params['seed']}), {len(heldout)} held-out lists "
        "never seen in training; the check is the reward"
    ]
    return RecipePlan.of(
        NAME, understood(p), params, GRPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )

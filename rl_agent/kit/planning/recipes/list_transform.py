"""Recipe: one simple transform of a given list of numbers: sort (ascending or descending), reverse, unique
(drop repeats, keep first occurrences) or sum (GRPO; reward = the answer equals the true result).

Each prompt gives a list and asks for the result as a bracketed list (or, for a sum, a number), so the
check can read it: the LAST [...] in the answer, or the last number for a sum. Two transforms at once,
or a transform that is negated or optional, is refused. The transform and its order are read from what is asked
for the result, never from words describing the input ("given in descending order"); a task on each number
(its digits), one value of the list, a count, or a list to make rather than transform is refused.
"""

from __future__ import annotations

import json
import random
import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, render_check
from rl_agent.kit.planning.recipes.check_runner import CheckItem
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "list_transform"
# Words that change nothing about the transform. Order, position and size words ("first", "smallest", "value",
# "into", "their") are deliberately absent: they are read by the phrases below or the task is refused.
EXTRA = frozenset("given provided input result resulting return returned new".split())
LIST = re.compile(r"\b(lists?|arrays?|sequences?)\b")
NUMBERS = re.compile(r"\b(numbers?|integers?|ints|numeric|digits)\b")
_GIVEN = r"(?:(?:given|provided|input)\s+)?"
# The thing transformed: a given list of numbers ("List the numbers from 1 to 10" makes one, it is not given).
OBJECT = re.compile(rf"\b{_GIVEN}(?:lists?|arrays?|sequences?)\s+of\s+(?:numbers|integers|ints|whole numbers)\b"
                    rf"|\b(?:numbers|integers)\s+(?:in|of|from)\s+(?:a|an|the|this|that)?\s*{_GIVEN}(?:lists?|arrays?|sequences?)\b"
                    rf"|\b{_GIVEN}(?:numeric|integer|number)\s+(?:lists?|arrays?|sequences?)\b")
_INTO = r"(?:(?:in|into)\s+)?"
_SMALL, _BIG = r"(?:smallest|lowest|least|low)", r"(?:largest|highest|greatest|biggest|high)"
# The order asked for the result. An order that describes the input ("given in descending order") is refused.
ASC = re.compile(rf"{_INTO}\b(?:ascending|increasing)\b(?:\s+order\b)?|\bascendingly\b|{_INTO}\bnumerical\s+order\b|"
                 rf"\bnumerically\b|\bfrom\s+(?:the\s+)?{_SMALL}\s+to\s+(?:the\s+)?{_BIG}\b|\b(?:from\s+)?(?:the\s+)?{_SMALL}\s+first\b")
DESC = re.compile(rf"{_INTO}\b(?:descending|decreasing)\b(?:\s+order\b)?|\bdescendingly\b|\breverse-sorted\b|"
                  rf"\bfrom\s+(?:the\s+)?{_BIG}\s+to\s+(?:the\s+)?{_SMALL}\b|\b(?:from\s+)?(?:the\s+)?{_BIG}\s+first\b")
REVERSE_ORDER = re.compile(rf"{_INTO}\breversed?\s+(?:sorted\s+|numerical\s+)?order\b")  # sorted: descending; else reversed
SORT = re.compile(r"\b(?:sort|sorts|sorted|sorting)\b")
ARRANGE = re.compile(r"\b(?:order|reorder|arrange|rearrange|put)\b")  # a sort only with an order phrase
OPS = {"reverse": re.compile(r"\breverse\s+the\s+order\s+of\b|\b(?:reverse|reverses|reversed|reversing)\b|\bbackwards?\b"),
       "unique": re.compile(r"\b(?:remove|drop|strip|eliminate|delete|get rid of|filter out)\s+(?:the\s+|any\s+|all\s+)?"
                            r"(?:duplicates?|duplicated\s+(?:numbers|values|entries)|repeats|repeated\s+(?:numbers|values|entries))"
                            r"(?:\s+from)?\b|\b(?:dedup\w*|de-dup\w*|unique|distinct)\b|\bwithout\s+(?:any\s+)?(?:duplicates|repeats)\b"),
       "sum": re.compile(r"\b(?:sum|sums|summed|summing|total)\b|\badds?\s+(?:them\s+|it\s+|all\s+)?up\b")}
# Tasks that look like a list transform but are not one; each is refused with what it asks instead.
INPUT_ORDER = re.compile(r"\b(?:given|for|with)\s+(?:a|an|the)\s+(?:lists?|arrays?|sequences?)\s+of\s+\w+\s+in\s+(?:\w+\s+){0,2}"
                         r"order\b|"
                         r"\b(?:given|provided|supplied|arriving|already|that\s+(?:is|are)|which\s+(?:is|are))\s+"
                         r"(?:(?:sorted|ordered|arranged)\s+)?in\s+(?:\w+\s+){0,2}order\b|\balready\s+(?:sorted|ordered|reversed)\b")
NOT_WHOLE_LIST = {
    "works on each number or its digits, not on the list": re.compile(
        r"\b(?:each|every|individual)\s+(?:number|integer|element|item|entry|value)\b|\bdigits?\b"),
    "asks for one value or a count, not the transformed list": re.compile(
        r"\b(?:smallest|largest|biggest|highest|lowest|minimum|maximum|min|max|median|mean|average|first|last|middle|"
        r"second|third|top|bottom|how many|count|counts|number of)\b"),
}


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    clauses = text.clauses()
    hits = [ci for ci, c in enumerate(clauses) if LIST.search(c) and NUMBERS.search(c)]
    if not hits:
        return None
    whole = " ".join(clauses[ci] for ci in hits)
    understood = "a transform of a list of numbers"
    found: dict[str, list[str]] = {}
    bare = whole
    for name, rx in (("reverse", REVERSE_ORDER), ("descending", DESC), ("ascending", ASC)):  # longest first
        found[name] = [m.group(0) for m in rx.finditer(bare)]
        bare = rx.sub(" ", bare)
    phrases = [p for ps in found.values() for p in ps]
    given = INPUT_ORDER.search(whole)
    if given:
        raise RecipeRefused([understood], f"an order for the result only: {given.group(0)!r} describes the input's "
                                          "order, which generated lists do not follow")
    for why, rx in NOT_WHOLE_LIST.items():  # order phrases ("largest first") are out of `bare` already
        cue = rx.search(bare)
        if cue:
            raise RecipeRefused([understood], f"a plain sort, reverse, remove-duplicates or sum of the whole list: "
                                              f"{cue.group(0)!r} {why}")
    if len(phrases) > 1:
        raise RecipeRefused([understood], f"one order for the result ({' and '.join(map(repr, phrases))} named)")
    sort = bool(SORT.search(bare) or (phrases and ARRANGE.search(_strip(bare, *OPS.values()))))
    ops = [op for op, rx in OPS.items() if rx.search(bare)]
    if found["reverse"] and not sort:
        ops.append("reverse")  # "return the list in reverse order"
    elif phrases and not sort:  # "Give a list of numbers in ascending order": no list is given to sort
        raise RecipeRefused([understood], "what to do with a given list: say 'sort the list of numbers in ... order'")
    ops = (["sort"] if sort else []) + sorted(set(ops), key=list(OPS).index)
    if not ops:
        raise RecipeRefused([understood], "which transform: sort, reverse, remove duplicates or sum")
    if len(ops) > 1:
        raise RecipeRefused([f"{understood}: {' and '.join(ops)}"], "one transform (combinations need Claude)")
    op = ops[0]
    order = "descending" if op == "sort" and (found["descending"] or found["reverse"]) else "ascending"
    for ci in hits:
        if not OBJECT.search(clauses[ci]):
            raise RecipeRefused([f"{understood}: {op}"], f"a given list of numbers to transform ('a list of "
                                                         f"numbers', 'the numbers in a list') in {text.show(clauses[ci])!r}")
        rest = _strip(clauses[ci], OBJECT, REVERSE_ORDER, DESC, ASC, SORT, *OPS.values(), *((ARRANGE,) if phrases else ()))
        if re.search(r"\d", rest):  # "a list of 5 numbers": a size or range the generator would not honour
            raise RecipeRefused([f"{understood}: {op}"], f"a reading of the numbers in {text.show(clauses[ci])!r}")
        unread = insist(rest, clauses[ci], f"{understood}: {op}", text, EXTRA)
        if unread:
            raise RecipeRefused([f"{understood}: {op}"], f"a reading of {' '.join(sorted(unread)[:8])!r} in "
                                                         f"{text.show(clauses[ci])!r}, which the list check does not enforce")
        left[ci] = unread
    params = {"op": op, "order": order, "seed": 0, "train": 200, "heldout": 40}
    what = {"sort": f"sorted {order}", "reverse": "reversed", "unique": "with repeated numbers removed (first "
            "occurrences kept, in order)", "sum": "summed"}[op]
    return Reading(NAME, params, f"the given list of numbers {what}", frozenset(), frozenset(hits), priority=2, leftover=tuple(left.items()))


def _strip(fragment: str, *patterns: re.Pattern[str]) -> str:
    for rx in patterns:
        fragment = rx.sub(" ", fragment)
    return fragment


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
    ask = {"sort": f"Sort these numbers in {params['order']} order", "reverse": "Reverse this list of numbers",
           "unique": "Remove the repeated numbers from this list, keeping the first of each",
           "sum": "Add up this list of numbers"}[params["op"]]
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
        raise RecipeRefused([f"a {params['op']} of a list of numbers"], "more distinct lists than the generator found")
    return rows[: params["train"]], rows[params["train"]:]


def build(reading: Reading, task: str) -> RecipePlan:
    params = reading.params
    train, heldout = generate(params)
    h = heldout

    def it(i: int, output: str) -> CheckItem:
        return CheckItem(h[i]["prompt"], output, h[i]["reference"])

    want = [json.loads(x["reference"]) for x in h[:8]]
    given = [prompt_numbers(x["prompt"]) for x in h[:8]]
    if params["op"] == "sum":
        good = [it(0, str(want[0])), it(1, f"The total is {want[1]}."), it(2, f"{' + '.join(map(str, given[2]))} = {want[2]}"),
                it(3, f"{want[3]}.0"), it(4, f"Sum: {want[4]}")]
        bad = [it(0, str(want[0] + 1)), it(1, f"The total is {want[1]} - no wait, {want[1] - 3}."), it(2, ""),
               it(3, json.dumps(given[3])), it(4, "I cannot add these.")]
    else:
        good = [it(0, json.dumps(want[0])), it(1, f"Result: {json.dumps(want[1])}"),
                it(2, "[" + ",".join(map(str, want[2])) + "]"),
                it(3, f"{json.dumps(given[3])} becomes {json.dumps(want[3])}"), it(4, f"{json.dumps(want[4])}.")]
        wrong = [x for x in (given[0], given[0][::-1], sorted(given[0]), sorted(given[0], reverse=True))
                 if x != want[0]][0]
        bad = [it(0, json.dumps(wrong)), it(1, json.dumps(given[1])), it(2, json.dumps(want[2][:-1])),
               it(3, " ".join(map(str, want[3]))), it(4, f"{json.dumps(want[4])} or maybe {json.dumps(given[4])}"),
               it(5, "")]
    target = {"sort": f"the given list sorted {params['order']}", "reverse": "the given list reversed",
              "unique": "the given list with repeats removed (first occurrences kept, in order)",
              "sum": "the sum of the given list"}[params["op"]]
    reads = "the last number in the answer" if params["op"] == "sum" else "the last [...] list in the answer"
    statement = (f"reads {reads} and accepts it only if it equals {target}; anything else is rejected; without a "
                 "reference answer it cannot grade (None)")
    return RecipePlan(NAME, task, params, "grpo", statement,
                      reading.understood, render_check(NAME, params, CHECK_BODY), train, heldout, good, bad,
                      notes=[f"GRPO: {len(train)} seeded lists (seed {params['seed']}), {len(heldout)} held-out lists "
                             "never seen in training; the check is the reward"])

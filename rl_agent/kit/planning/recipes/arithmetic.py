"""Recipe: arithmetic with a final-answer marker (GRPO; reward = the number after the last marker equals the
true answer).

The marker is read from a quoted example ('Answer: <number>', "#### 42") or a quoted marker after
"after"/"marked with". Without one the task is refused: inventing a format the user did not ask for would
train the wrong thing. Problems come from a seeded generator; held-out problems never appear in training.
"""

from __future__ import annotations

import random
import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, render_check
from rl_agent.kit.planning.recipes.check_runner import CheckItem
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "arithmetic"
EXTRA = frozenset("solve solving problems problem exercises sums end ending finish finishing final marker number numbers "
                  "result integer integers whole digit single one two three two-digit one-digit three-digit "
                  "single-digit simple basic word mark marked label line last own after show work working steps "
                  "step reasoning then put state first put give arithmetic math maths operations four operands terms "
                  "of each".split())
LIST_OF_NUMBERS = re.compile(r"\b(?:lists?|arrays?|sequences?)\b")
TRIGGER = re.compile(r"\b(arithmetic|math\w*|sums|addition|subtraction|multiplication|division|adding|subtracting|"
                     r"multiplying|dividing|calculat\w*|comput\w*)\b")
OPS = {"+": r"\b(addition|add\w*|plus|sums)\b", "-": r"\b(subtract\w*|minus|difference)\b",
       "*": r"\b(multipl\w*|times|products?)\b", "/": r"\b(divi\w*|quotients?)\b"}
DIGITS = {"single": (1, 9), "one": (1, 9), "two": (10, 99), "three": (100, 999)}
# How many numbers each problem has ("sums of three single-digit numbers"); a digit count ("two-digit") is not one.
TERMS = re.compile(r"\b(two|three|four|[234])\s+(?:(?:single|one|two|three)[- ]digit\s+)?(?:numbers|operands|terms|integers)\b")
COUNT = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
PLACEHOLDER = re.compile(r"^(?P<marker>.*?\S)\s*(?:<[^>]*>|\{[^}]*\}|\[[^\]]*\]|\b[NnXx]\b|-?\d+(?:\.\d+)?|\.\.\.|\u2026)"
                         r"\.?$")
AFTER = re.compile(r"\b(?:after|following|marked (?:with|by)|prefixed (?:with|by)|preceded by|behind)\s+"
                   r"(?:the\s+)?(?:(?:marker|text|string|label)\s+)?(?P<q>«q\d+»)")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    clauses = text.clauses()
    hits = [ci for ci, c in enumerate(clauses) if TRIGGER.search(c)]
    if not hits or any(LIST_OF_NUMBERS.search(clauses[ci]) for ci in hits):
        return None  # a list of numbers is the list recipe's
    markers: list[tuple[int, str, str]] = []
    for ci, clause in enumerate(clauses):
        after = AFTER.search(clause)
        for q in text.quote_markers(clause):
            quoted = text.quote(q)
            m = PLACEHOLDER.match(quoted)
            if m:
                markers.append((ci, q, m.group("marker")))
            elif after and after.group("q") == q:
                markers.append((ci, q, quoted))
    understood = "arithmetic problems"
    if not markers:
        raise RecipeRefused([understood], "how the final answer is marked, in quotes, e.g. end with 'Answer: <number>'")
    if len({m for _, _, m in markers}) > 1:
        raise RecipeRefused([understood] + [f"a marker {m!r}" for _, _, m in markers], "one final-answer marker")
    marker = markers[0][2]
    claimed = set(hits) | {ci for ci, _, _ in markers}
    whole = " ".join(clauses[ci] for ci in claimed)
    for ci in claimed:
        rest = TRIGGER.sub(" ", AFTER.sub(" ", clauses[ci]))
        for rx in OPS.values():
            rest = re.sub(rx, " ", rest)
        left[ci] = insist(rest, clauses[ci], f"{understood}, final answer after {marker!r}", text, EXTRA)
    ops = [op for op, rx in OPS.items() if re.search(rx, whole)] or ["+", "-", "*"]
    d = re.search(r"\b(single|one|two|three)[- ]digit\b", whole)
    lo, hi = DIGITS[d.group(1)] if d else (1, 99)
    t = TERMS.search(whole)
    terms = COUNT[t.group(1)] if t else 2
    if terms > 2 and "/" in ops:
        raise RecipeRefused([understood, f"{terms} numbers per problem"], "division with two numbers per problem only")
    params = {"marker": marker, "ops": ops, "low": lo, "high": hi, "terms": terms, "seed": 0, "train": 200,
              "heldout": 40}
    return Reading(NAME, params, f"arithmetic ({' '.join(ops)}, {terms} operands {lo}..{hi} each); the final answer is the number "
                                 f"after {marker!r}", frozenset(q for _, q, _ in markers), frozenset(claimed), priority=2, leftover=tuple(left.items()))


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


def generate(params: dict) -> tuple[list[dict], list[dict]]:
    """Seeded (train, held-out) rows prompt/reference; held-out problems are disjoint from training."""
    rng = random.Random(params["seed"])
    seen: set[tuple] = set()
    rows: list[dict] = []
    want = params["train"] + params["heldout"]
    terms = params.get("terms", 2)
    while len(rows) < want:
        op = rng.choice(params["ops"])
        nums = [rng.randint(params["low"], params["high"]) for _ in range(terms)]
        if op == "/":  # two numbers only (read() refuses more): a whole quotient
            nums[0] *= nums[1]
        if op == "-" and terms == 2 and nums[1] > nums[0]:
            nums.reverse()
        key = (op, *nums)
        if key in seen:
            if len(seen) > 50 * want:
                break
            continue
        seen.add(key)
        value = nums[0]
        for n in nums[1:]:  # one operator per problem, so left to right is the usual order
            value = {"+": value + n, "-": value - n, "*": value * n, "/": value // n if n else 0}[op]
        sign = {"*": "\u00d7", "/": "\u00f7"}.get(op, op)
        ask = PHRASINGS[len(rows) % len(PHRASINGS)]
        rows.append({"prompt": ask.format(f" {sign} ".join(map(str, nums))), "reference": str(value)})
    if len(rows) < want:
        raise RecipeRefused([f"arithmetic with operands {params['low']}..{params['high']}"],
                            "a wider operand range: too few distinct problems for training and held-out")
    return rows[: params["train"]], rows[params["train"]:]


def build(reading: Reading, task: str) -> RecipePlan:
    marker = reading.params["marker"]
    train, heldout = generate(reading.params)
    h = heldout
    sep = "" if marker[-1:].isspace() else " "

    def it(i: int, output: str) -> CheckItem:
        return CheckItem(h[i]["prompt"], output, h[i]["reference"])

    r = [int(x["reference"]) for x in h[:8]]
    good = [it(0, f"{marker}{sep}{r[0]}"), it(1, f"{h[1]['prompt'][8:-1]} = {r[1]}.\n{marker}{sep}{r[1]}"),
            it(2, f"Working it out step by step gives {r[2]}.\n\n{marker}{sep}{r[2]}."),
            it(3, f"{marker}{sep}{r[3] + 1} was a slip; {marker}{sep}{r[3]}"), it(4, f"{marker}{r[4]}")]
    bad = [it(0, str(r[0])), it(1, f"{marker}{sep}{r[1] + 1}"), it(2, f"{marker}{sep}"),
           it(3, f"{marker}{sep}{r[3]}\n{marker}{sep}{r[3] + 2}"), it(4, f"The answer is {r[4]}."),
           it(5, f"{r[5]} {marker}{sep}unknown"), it(6, "")]
    statement = (f"finds the LAST {marker!r} in the answer and accepts it only if the number right after it equals the "
                 "true answer (commas allowed); no marker, no number or a wrong number is rejected; without a "
                 "reference answer it cannot grade (None)")
    return RecipePlan(NAME, task, reading.params, "grpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=[f"GRPO: {len(train)} seeded problems (seed {reading.params['seed']}), {len(heldout)} "
                             "held-out problems never seen in training; the check is the reward"])

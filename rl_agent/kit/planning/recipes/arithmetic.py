"""Recipe: arithmetic with a final-answer marker (GRPO; reward = the number after the last marker equals the
true answer).

The marker is read from a quoted example ('Answer: <number>', "#### 42") or a quoted marker after
"after"/"marked with". Without one the task is refused: inventing a format the user did not ask for would
train the wrong thing. Operations, operand sizes and counts are read only from phrases that name them
("addition", "add two numbers", "two-digit numbers", "three numbers"): a word that merely contains one ("at all
times", "add 'X' at the end", "additionally") is not an operation, and anything the check would not enforce (a
position such as "first line", word problems, a range, a choice of counts or sizes) is left unread, so refused.
Problems come from a seeded generator; held-out problems never appear in training.
"""

from __future__ import annotations

import itertools
import random
import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, render_check
from rl_agent.kit.planning.recipes.check_runner import CheckItem
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "arithmetic"
# Words that add nothing the check does not already enforce. Positions ("first", "line", "last", "then"), sizes
# and counts are deliberately absent: they are read by the patterns below or the task is refused.
EXTRA = frozenset("solve solving problems problem exercises end ending finish finishing marker number numbers "
                  "result integer integers whole simple basic mark marked label after show work working steps "
                  "step reasoning put state give giving of each additionally".split())
LIST_OF_NUMBERS = re.compile(r"\b(?:lists?|arrays?|sequences?)\b")
_SPEC = r"(?:together\s+)?(?:two|three|four|[234]|single|one|numbers|integers)\b"  # what a verb works on
# An operation is a noun naming it, or its verb followed by what it works on ("add two numbers"), never a word
# that merely contains one: "add 'Answer: N' at the end", "additionally", "at all times".
_OP_NOUN = r"(?:sums?|products?|differences?|quotients?|totals?)"
COMPOSITE = re.compile(r"\b" + _OP_NOUN + r"\s+of\s+(?:the\s+)?(?:\w+\s+){0,2}?" + _OP_NOUN + r"\b")
OPS = {"+": rf"\b(?:additions?|sums|sum(?=\s+of\b)|(?:add|adding)(?=\s+{_SPEC}))\b",
       "-": rf"\b(?:subtractions?|differences|difference(?=\s+of\b)|(?:subtract|subtracting)(?=\s+{_SPEC}))\b",
       "*": rf"\b(?:multiplications?|products|product(?=\s+of\b)|(?:multiply|multiplying)(?=\s+{_SPEC}))\b",
       "/": rf"\b(?:divisions?|quotients|quotient(?=\s+of\b)|(?:divide|dividing)(?=\s+{_SPEC}))\b"}
ALL_FOUR = re.compile(r"\b(?:all\s+)?(?:the\s+)?four\s+(?:basic\s+)?(?:arithmetic\s+)?operations\b")
TRIGGER = re.compile(r"\b(?:arithmetic|math|maths|mathematics|calculate|calculating|calculations?|compute|computing|"
                     r"computations?)\b|" + "|".join(OPS.values()) + "|" + ALL_FOUR.pattern)
DIGITS = {"single": (1, 9), "one": (1, 9), "two": (10, 99), "three": (100, 999)}
DIGIT = re.compile(r"\b(single|one|two|three)[- ]digit\b")
# How many numbers each problem has ("sums of three single-digit numbers"); a digit count ("two-digit") is not one.
TERMS = re.compile(r"\b(two|three|four|[234])\s+(?:(?:single|one|two|three)[- ]digit\s+)?(?:numbers|operands|terms|integers)\b")
COUNT = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
# A choice of counts or sizes ("two or three numbers", "single-digit and two-digit") is not one setting.
CHOICE = re.compile(r"\b(?:two|three|four|five|[2-9])\s+(?:or|to|and)\s+(?:two|three|four|five|[2-9])\b")
FINAL = re.compile(r"\bfinal(?=\s+(?:answer|result|number)\b)")
PLACEHOLDER = re.compile(r"^(?P<marker>.*?\S)\s*(?:<[^>]*>|\{[^}]*\}|\[[^\]]*\]|\b[NnXx]\b|-?\d+(?:\.\d+)?|\.\.\.|\u2026)"
                         r"\.?$")
AFTER = re.compile(r"\b(?:after|following|marked (?:with|by)|prefixed (?:with|by)|preceded by|behind)\s+"
                   r"(?:the\s+)?(?:(?:marker|text|string|label)\s+)?(?P<q>«q\d+»)"
                   r"|\bmark\s+(?:the\s+|your\s+)?(?:final\s+)?(?:answer|result)\s+(?:with|by)\s+(?P<q2>«q\d+»)"
                   r"|(?P<q3>«q\d+»)\s+(?:right\s+|just\s+|immediately\s+)?before\s+(?:the\s+|your\s+)?(?:final\s+)?"
                   r"(?:answer|number|result)\b")
THEN = re.compile(r"\bthen\b(?=.*«q\d+»)")  # "show your work, then end with 'X'": the marker comes last, as checked
ADD_MARKER = re.compile(r"\badd(?:ing)?\s+(?=«q\d+»)")  # "add 'Answer: N' at the end" names the marker, not "+"
MIN_PROBLEMS = 48  # fewer distinct problems leave too few for training plus 8 held-out examples


def _marker_quote(m: re.Match) -> str:
    return m.group("q") or m.group("q2") or m.group("q3")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    clauses = text.clauses()
    hits = [ci for ci, c in enumerate(clauses) if TRIGGER.search(c)]
    if not hits or any(LIST_OF_NUMBERS.search(clauses[ci]) for ci in hits):
        return None  # a list of numbers is the list recipe's
    markers: list[tuple[int, str, str]] = []
    for ci, clause in enumerate(clauses):
        after = {_marker_quote(m) for m in AFTER.finditer(clause)}
        for q in text.quote_markers(clause):
            quoted = text.quote(q)
            m = PLACEHOLDER.match(quoted)
            if m:
                markers.append((ci, q, m.group("marker")))
            elif q in after:
                markers.append((ci, q, quoted))
    understood = "arithmetic problems"
    if not markers:
        raise RecipeRefused([understood], "how the final answer is marked, in quotes, e.g. end with 'Answer: <number>'")
    if len({m for _, _, m in markers}) > 1:
        raise RecipeRefused([understood] + [f"a marker {m!r}" for _, _, m in markers], "one final-answer marker")
    marker = markers[0][2]
    if re.search(r"\d", marker):
        raise RecipeRefused([understood, f"a marker {marker!r}"], "a marker without digits (a number inside the "
                                                                  "marker cannot be told from the answer)")
    claimed = set(hits) | {ci for ci, _, _ in markers}
    whole = " ".join(clauses[ci] for ci in claimed)
    choice = CHOICE.search(whole)
    sizes = {DIGITS[d] for d in DIGIT.findall(whole)}
    counts = {COUNT[t] for t in TERMS.findall(whole)}
    if choice or len(sizes) > 1 or len(counts) > 1:
        named = choice.group(0) if choice else " and ".join(sorted(set(DIGIT.findall(whole) if len(sizes) > 1 else
                                                                       TERMS.findall(whole))))
        raise RecipeRefused([understood, f"{named!r}"], "one operand size and one count of numbers per problem "
                                                        "(a mix or a choice needs Claude)")
    for ci in claimed:
        rest = clauses[ci]
        for rx in (THEN, AFTER, ADD_MARKER, TRIGGER, TERMS, DIGIT, FINAL):
            rest = re.sub(rx, " ", rest)
        if re.search(r"\d", re.sub(r"«[qj]\d+»", " ", rest)):  # "numbers from 1 to 50": a range the generator would not honour
            raise RecipeRefused([f"{understood}, final answer after {marker!r}"],
                                f"a reading of the numbers in {text.show(clauses[ci])!r} (operand sizes are read "
                                "only as single-, two- or three-digit)")
        unread = insist(rest, clauses[ci], f"{understood}, final answer after {marker!r}", text, EXTRA)
        if unread:  # refused here: a closing/prefix reading of the same quote would clear it in the router
            raise RecipeRefused([f"{understood}, final answer after {marker!r}"],
                                f"a reading of {' '.join(sorted(unread)[:8])!r} in {text.show(clauses[ci])!r}, which the "
                                "arithmetic check does not enforce (a position, a kind of problem or a range)")
        left[ci] = unread
    nested = COMPOSITE.search(whole)
    if nested:  # "the sum of products": one expression with two operations, not a mix of one-operation problems
        raise RecipeRefused([understood], f"one operation per problem: {nested.group(0)!r} nests one in another, "
                                          "which needs Claude")
    ops = ["+", "-", "*", "/"] if ALL_FOUR.search(whole) else [op for op, rx in OPS.items() if re.search(rx, whole)]
    ops = ops or ["+", "-", "*"]
    lo, hi = sizes.pop() if sizes else (1, 99)
    terms = counts.pop() if counts else 2
    if terms > 2 and "/" in ops:
        raise RecipeRefused([understood, f"{terms} numbers per problem"], "division with two numbers per problem only")
    params = {"marker": marker, "ops": ops, "low": lo, "high": hi, "terms": terms, "seed": 0, "train": 200,
              "heldout": 40}
    space = problem_count(params)
    if space < MIN_PROBLEMS:
        raise RecipeRefused([f"arithmetic ({' '.join(ops)}, {terms} operands {lo}..{hi} each)"],
                            f"more distinct problems than the {space} these operands allow (at least {MIN_PROBLEMS} "
                            "for training plus held-out): a wider operand range")
    if space < params["train"] + params["heldout"]:  # use every problem, held-out still disjoint
        params["heldout"] = max(8, space // 5)
        params["train"] = space - params["heldout"]
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


def problem_count(params: dict) -> int:
    """How many distinct problems the generator can make: the data sizes must fit in it (else it never ends)."""
    n, terms = params["high"] - params["low"] + 1, params.get("terms", 2)
    per_op = {"+": n ** terms, "*": n ** terms, "-": n * (n + 1) // 2 if terms == 2 else n ** terms, "/": n * n}
    return sum(per_op[op] for op in params["ops"])


def _problem(op: str, nums: list[int]) -> tuple:
    """The canonical problem for drawn numbers: a whole quotient, a difference that is not negative."""
    nums = list(nums)
    if op == "/":  # two numbers only (read() refuses more): a whole quotient
        nums[0] *= nums[1]
    if op == "-" and len(nums) == 2 and nums[1] > nums[0]:
        nums.reverse()
    return (op, *nums)


def _all_problems(params: dict, rng: random.Random) -> list[tuple]:
    """Every distinct problem, shuffled: used when the space is too small to sample from without stalling."""
    span = range(params["low"], params["high"] + 1)
    keys = {_problem(op, list(nums)) for op in params["ops"] for nums in itertools.product(span, repeat=params.get("terms", 2))}
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
        raise RecipeRefused([f"arithmetic with operands {params['low']}..{params['high']}"],
                            f"a wider operand range: {space} distinct problems, {want} wanted for training and held-out")
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
            raise RecipeRefused([f"arithmetic with operands {params['low']}..{params['high']}"],
                                "a wider operand range: too few distinct problems for training and held-out")
    rows = [_row(k, i) for i, k in enumerate(keys)]
    return rows[: params["train"]], rows[params["train"]:]


def build(reading: Reading, task: str) -> RecipePlan:
    marker = reading.params["marker"]
    train, heldout = generate(reading.params)
    h = heldout
    sep = "" if marker[-1:].isspace() else " "

    def it(i: int, output: str) -> CheckItem:
        return CheckItem(h[i]["prompt"], output, h[i]["reference"])

    r = [int(x["reference"]) for x in h[:8]]
    # The right number without the marker must fail; a phrasing that holds the marker ("The answer is") proves nothing.
    unmarked = next(s for s in (f"The answer is {r[4]}.", f"Result = {r[4]}", f"{r[4]}, I believe.", str(r[4])) if marker not in s)
    good = [it(0, f"{marker}{sep}{r[0]}"), it(1, f"{h[1]['prompt'][8:-1]} = {r[1]}.\n{marker}{sep}{r[1]}"),
            it(2, f"Working it out step by step gives {r[2]}.\n\n{marker}{sep}{r[2]}."),
            it(3, f"{marker}{sep}{r[3] + 1} was a slip; {marker}{sep}{r[3]}"), it(4, f"{marker}{r[4]}")]
    bad = [it(0, str(r[0])), it(1, f"{marker}{sep}{r[1] + 1}"), it(2, f"{marker}{sep}"),
           it(3, f"{marker}{sep}{r[3]}\n{marker}{sep}{r[3] + 2}"), it(4, unmarked),
           it(5, f"{r[5]} {marker}{sep}unknown"), it(6, "")]
    statement = (f"finds the LAST {marker!r} in the answer and accepts it only if the number right after it equals the "
                 "true answer (commas allowed); no marker, no number or a wrong number is rejected; without a "
                 "reference answer it cannot grade (None)")
    p = reading.params
    notes = [f"GRPO: {len(train)} seeded problems (seed {p['seed']}), {len(heldout)} held-out problems never seen in "
             "training; the check is the reward"]
    if len(train) + len(heldout) == problem_count(p):
        notes.append(f"these operands allow only {problem_count(p)} distinct problems: all are used, split into "
                     f"{len(train)} for training and {len(heldout)} held out")
    return RecipePlan(NAME, task, p, "grpo", statement, reading.understood, render_check(NAME, p, CHECK_BODY), train,
                      heldout, good, bad, notes=notes)

"""From task text to one recipe, or a refusal: every recipe reads the task; exactly one requirement must
be found, and every clause and quoted string of the task must be accounted for by it.

Why so strict: a clause no recipe understood is a requirement the plan would silently drop, and two
requirements at once need a combined check the library does not write. Both go to Claude instead.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from rl_agent.kit.judges.terse_style import FILLERS, HEDGES
from rl_agent.kit.planning.recipes import (
    arithmetic,
    banned,
    closing,
    json_keys,
    length,
    letter_case,
    list_transform,
    plain_text,
    prefix,
    terse,
)
from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused
from rl_agent.kit.planning.recipes.check_runner import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from rl_agent.kit.planning.recipes.proof import ProofResult, prove_check
from rl_agent.kit.planning.recipes.reading import NOT_REQUIRED, read_task

RECIPES = (banned, prefix, closing, letter_case, length, plain_text, json_keys, arithmetic, list_transform, terse)
BY_NAME = {m.NAME: m for m in RECIPES}
TASK_MAX_CHARS = 20_000
NEUTRAL = re.compile(r"^(?:please|thanks?|thank you|ok(?:ay)?|always|every time|that'?s all|that is all|"
                     r"for (?:every|each|all) (?:answers?|replies|responses|questions?))$")
# A clause whose subject is someone else's text, or a past habit: not what the model's answers must do.
OTHER_SUBJECT = re.compile(r"^(?:the\s+|all\s+|every\s+|incoming\s+)?(users?'?s?|customers?'?s?|questions?|chats?|"
                           r"prompts?|inputs?|queries|people|they|he|she|it|its|their|his|her|user messages|"
                           r"messages (?:from (?:the )?users?|to you))\b"
                           r"|^(?:\w+\s+){0,2}?(used to)\b")
COVERED = ("required JSON keys, a required prefix or closing line, letter case, at most N words/sentences, no bullet "
           "points/Markdown, banned openers/phrases, arithmetic with a final-answer marker, a sort/reverse/unique/sum "
           "of a list of numbers, and the bundled terse style")


def _absorb(readings: list[Reading]) -> list[Reading]:
    """Merge readings that are one requirement seen twice: a checkable task's marker also read as a closing or
    prefix; banned hedges inside a terse task (the terse check rejects them); 'short' next to a word limit."""
    def merge(keep: Reading, gone: Reading) -> Reading:
        left = dict(keep.leftover)
        for ci, words in gone.leftover:
            left[ci] = left[ci] & words if ci in left else words
        for ci in gone.clauses - {c for c, _ in gone.leftover}:
            left[ci] = frozenset()  # fully read by the other reading
        return replace(keep, quotes=keep.quotes | gone.quotes, clauses=keep.clauses | gone.clauses,
                       leftover=tuple(left.items()))

    out = list(readings)
    for a in list(out):
        for b in list(out):
            if a is b or a not in out or b not in out:
                continue
            swallow = (
                (a.priority > b.priority and b.quotes and b.quotes <= a.quotes)
                or (a.recipe == "terse" and b.recipe == "banned" and not b.params["openers"]
                    and all(p.casefold() in HEDGES + FILLERS for p in b.params["phrases"]))
                or (a.recipe == "length" and b.recipe == "terse" and b.params["only_brevity"])
            )
            if swallow:
                out[out.index(a)] = merged = merge(a, b)
                out.remove(b)
                a = merged
    return out


def read_recipe(task: str) -> Reading:
    """The one recipe reading of `task`, or RecipeRefused saying what was understood and what is missing."""
    if not task or not task.strip():
        raise RecipeRefused([], "a task: describe in plain English what the model should do")
    if len(task) > TASK_MAX_CHARS:
        raise RecipeRefused([], f"a task under {TASK_MAX_CHARS} characters ({len(task)} given)")
    text = read_task(task)
    try:
        return _read(text)
    except RecipeRefused as e:  # say it with the task's own quoted words, not the reader's markers
        raise RecipeRefused([text.show(u) for u in e.understood], text.show(e.need)) from None


def _read(text) -> Reading:
    if "?" in text.masked:  # "Should answers start with 'Answer:'?" asks; it does not require
        raise RecipeRefused([], "an instruction rather than a question: state what every answer must do "
                                "(e.g. 'Start every answer with \"Answer:\"')")
    for clause in text.clauses():
        other = OTHER_SUBJECT.match(clause)
        if other:  # "The user writes in all caps", "Questions end with '?'": a fact about the input, not an order
            about = f"is about {other.group(1)!r}" if other.group(1) else "tells a past habit ('used to')"
            raise RecipeRefused([], f"a requirement on the model's answers: {clause!r} {about}")
        cue = NOT_REQUIRED.search(clause)  # the whole clause: a ban's own "not" would hide it from the recipe
        if cue:
            raise RecipeRefused([], f"a requirement, not a permission: {cue.group(0)!r} in {clause!r} allows")
    readings = _absorb([r for r in (m.read(text) for m in RECIPES) if r is not None])
    if not readings:
        raise RecipeRefused([], f"a requirement the offline library covers ({COVERED})")
    if len(readings) > 1:
        raise RecipeRefused([r.understood for r in readings], "one check for several requirements at once")
    reading = readings[0]
    clauses = text.clauses()
    for ci, words in reading.leftover:
        if words:
            raise RecipeRefused([reading.understood], f"a reading of {' '.join(sorted(words)[:8])!r} in "
                                                      f"{clauses[ci]!r}, which no offline recipe checks")
    for ci, clause in enumerate(clauses):
        if ci not in reading.clauses and not NEUTRAL.match(clause.strip(" ,:-")):
            raise RecipeRefused([reading.understood], f"a check for the rest of the task, {clause!r}, which no "
                                                      "offline recipe reads")
    stray = [m for m in re.findall(r"«q\d+»", text.masked) if m not in reading.quotes]
    if stray:
        raise RecipeRefused([reading.understood], f"what the quoted text {text.quote(stray[0])!r} asks for")
    if reading.unsure:
        raise RecipeRefused([reading.understood], reading.unsure)
    return reading


def plan_recipe(task: str) -> RecipePlan:
    """Plan `task` offline: data, check.py source, good/bad examples and the check in plain words."""
    reading = read_recipe(task)
    return BY_NAME[reading.recipe].build(reading, task)


def plan_and_prove(
    task: str, run_dir: str | Path, *, timeout_s: float = DEFAULT_TIMEOUT_S, memory_mb: int = DEFAULT_MEMORY_MB
) -> tuple[RecipePlan, ProofResult]:
    """Plan, write the plan's files into `run_dir`, and prove its check on its own examples."""
    plan = plan_recipe(task)
    files = plan.write(run_dir)
    proof = prove_check(run_dir, files["check.py"], plan.good, plan.bad, timeout_s=timeout_s, memory_mb=memory_mb)
    return plan, proof

"""The task suite for the offline recipe library: phrasings people write, what each must plan to, and
phrasings that must be refused (negations, permissions, near-misses, combinations). Shared by the tests
and bench/tasks.py, so the table and the tests cannot drift apart."""

from __future__ import annotations

# (task text, recipe, parameters the plan must have)
PLANNED: list[tuple[str, str, dict]] = [
    ('Never start an answer with "Sure" or "Certainly".', "banned", {"openers": ["Sure", "Certainly"], "phrases": []}),
    ("Don\u2019t begin your replies with \u201cGreat question\u201d or \u201cAbsolutely\u201d.", "banned",
     {"openers": ["Great question", "Absolutely"]}),
    ("Answers should not start with 'Of course'.", "banned", {"openers": ["Of course"]}),
    ("Don't say 'I think' or 'probably'.", "banned", {"openers": [], "phrases": ["I think", "probably"]}),
    ('Never use the phrase "as an AI language model".', "banned", {"phrases": ["as an AI language model"]}),
    ("Stop saying 'I think' and 'probably' - just answer directly", "terse", {}),
    ('Start every answer with "Answer:"', "prefix", {"prefix": "Answer:"}),
    ("Begin each reply with the word 'Verdict:'", "prefix", {"prefix": "Verdict:"}),
    ("Every answer must start with \u201c>>\u201d.", "prefix", {"prefix": ">>"}),
    ('End every answer with the line "Hope this helps."', "closing", {"closing": "Hope this helps.", "whole_line": True}),
    ("Finish each reply with 'Over and out.'", "closing", {"closing": "Over and out.", "whole_line": False}),
    ('The last line must be exactly "-- bot"', "closing", {"closing": "-- bot", "whole_line": True}),
    ('Reply with a JSON object with the keys "answer" and "confidence".', "json_keys",
     {"keys": ["answer", "confidence"], "types": {}}),
    ('Always answer in JSON like {"answer": "..."}', "json_keys", {"keys": ["answer"]}),
    ('Answer in JSON. Use the fields "answer" (a string) and "sources" (a list).', "json_keys",
     {"keys": ["answer", "sources"], "types": {"answer": "string", "sources": "array"}}),
    ('Reply in JSON with keys "answer" and "confidence", no other keys.', "json_keys",
     {"keys": ["answer", "confidence"], "exact": True}),
    ('Respond in JSON with keys "city" and "score" as a number.', "json_keys",
     {"keys": ["city", "score"], "types": {"score": "number"}}),
    ("Reply in ALL CAPS.", "letter_case", {"case": "upper"}),
    ("Write every answer in lowercase only.", "letter_case", {"case": "lower"}),
    ("Use no capital letters.", "letter_case", {"case": "lower"}),
    ("Answer in at most five words.", "length", {"unit": "words", "max": 5}),
    ("Keep answers under 10 words.", "length", {"unit": "words", "max": 9}),
    ("No more than two sentences per answer.", "length", {"unit": "sentences", "max": 2}),
    ("Answer in one sentence.", "length", {"unit": "sentences", "max": 1}),
    ("Answer in twenty-five words or fewer.", "length", {"unit": "words", "max": 25}),
    ("Keep answers short: at most ten words.", "length", {"unit": "words", "max": 10}),
    ("No bullet points.", "plain_text", {"ban": "bullets"}),
    ("Plain text only, no Markdown.", "plain_text", {"ban": "markdown"}),
    ("Don't use bullet points or Markdown formatting.", "plain_text", {"ban": "markdown"}),
    ('Solve arithmetic problems and end with "Answer: <number>".', "arithmetic",
     {"marker": "Answer:", "ops": ["+", "-", "*"]}),
    ("For addition problems with two-digit numbers, give the final answer after '####'.", "arithmetic",
     {"marker": "####", "ops": ["+"], "low": 10, "high": 99}),
    ("Do multiplication; finish with 'Final answer: N'.", "arithmetic", {"marker": "Final answer:", "ops": ["*"]}),
    ("Sums of three single-digit numbers: give the final answer after '####'.", "arithmetic",
     {"marker": "####", "ops": ["+"], "terms": 3, "low": 1, "high": 9}),
    ("Sort the given list of numbers in ascending order.", "list_transform", {"op": "sort", "order": "ascending"}),
    ("Sort a list of integers from largest first.", "list_transform", {"op": "sort", "order": "descending"}),
    ("Reverse the given list of numbers.", "list_transform", {"op": "reverse"}),
    ("Remove duplicates from a list of numbers.", "list_transform", {"op": "unique"}),
    ("Sum a list of numbers.", "list_transform", {"op": "sum"}),
    ("Be terse and direct: no hedging, no filler.", "terse", {}),
    ("Be concise.", "terse", {}),
]

# The phrasing of each recipe that `bench/tasks.py --run` and the opt-in full-run tests train on the embedded
# model. Chosen within what a 2M-parameter model trained on facts and single-digit sums can learn: two-digit
# products or sorting are beyond it (its base answers score 0, so GRPO has no signal), not a fault of the plan;
# its base answers seldom use Markdown, so the plain-text task has nothing to learn there.
FULL_RUN: dict[str, str] = {
    "banned": "Don't say 'I think' or 'probably'.",
    "terse": "Be terse and direct: no hedging, no filler.",
    "prefix": 'Start every answer with "Answer:"',
    "closing": 'End every answer with the line "Hope this helps."',
    "json_keys": 'Always answer in JSON like {"answer": "..."}',
    "letter_case": "Write every answer in lowercase only.",
    "length": "Answer in at most five words.",
    "plain_text": "Plain text only, no Markdown.",
    "arithmetic": "Sums of three single-digit numbers: give the final answer after '####'.",
    "list_transform": "Sort the given list of numbers in ascending order.",
}

# (task text, a word the refusal must name: what it understood or what it needs)
REFUSED: list[tuple[str, str]] = [
    ("Answers may start with 'Sure'.", "may"),
    ('It\'s fine to start with "Sure".', "fine"),
    ('Don\'t forget to start every answer with "Answer:".', "don't"),
    ("Don't always start with 'Sure'.", "don't"),
    ("Start with 'A:' or 'B:'.", "one required prefix"),
    ('Never end with "Hope this helps".', "never"),
    ("Never start with a greeting.", "covers"),
    ("Use as many words as you like.", "maximum"),
    ("Answer in at least 50 words.", "minimum"),
    ("Answer in five words.", "exactly or at most"),
    ("No need to keep answers under 10 words.", "no"),
    ("Don't limit answers to five words.", "don't"),
    ("You can use up to 50 words.", "can"),
    ("Don't use all caps.", "don't"),
    ("Write in all caps except proper nouns.", "except"),
    ("Sometimes reply in all caps.", "sometimes"),
    ("Use bullet points.", "ban"),
    ("Markdown is fine.", "ban"),
    ("No bullet points, but use Markdown headings.", "headings"),
    ("Don't answer in JSON.", "don't"),
    ("Reply in JSON.", "key names"),
    ('Answer in JSON with keys "answer" and "confidence" (a number between 0 and 1).', "between"),
    ('If the question is about math, answer in JSON with key "answer".', "if"),
    ("Don't sort the list of numbers.", "don't"),
    ("Sort a list of numbers and remove duplicates.", "one transform"),
    ("Solve arithmetic problems.", "marked"),
    ("Division of three numbers; end with 'Answer: N'.", "two numbers"),
    ("Don't be so terse, explain your reasoning.", "opposite"),
    ("Make the answers longer and more detailed.", "opposite"),
    ("Make the model funnier.", "covers"),
    ("Start every answer with 'Answer:' and never with 'Sure'.", "never"),
    ("Reply in all caps, in at most five words.", "several requirements"),
    ("Start every answer with 'Answer:'. Be polite.", "be polite"),
    ("Sort a list of words alphabetically.", "covers"),
    # a recipe's trigger with words it does not read: a scope, a condition or a second requirement
    ("Use lowercase for the first word.", "first word"),
    ("Write like a pirate in all caps.", "pirate"),
    ('Start every answer with "Answer:" in bold.', "bold"),
    ("Keep answers under 10 words when talking about history.", "when"),
    ("Answer in at most five words, in French.", "french"),
    ("Sum a list of numbers and explain each step.", "explain"),
    ("Don't say 'I think' to customers.", "customers"),
    ('Never start an answer with "Sure" in formal emails.', "formal"),
    ("Sort the list of numbers by absolute value.", "absolute"),
]

HEDGY_PARAGRAPH = ("Well, I think it might possibly be something along those lines, but honestly I'm not entirely "
                   "sure about it. There are many factors to consider here. It depends on a lot of things. "
                   "Please double-check this with another source. I hope this helps! Let me know if you have "
                   "any other questions. ") * 3



def generic_bad(recipe: str, params: dict) -> list[str]:
    """Bad answers written without looking at the plan's own examples: nothing at all, a long hedging
    non-answer, and for checks whose requirement a plain paragraph meets (bans), that paragraph breaking it."""
    bad = ["", "   \n "]
    if recipe == "banned":
        return bad + [f"{b.lower()} {HEDGY_PARAGRAPH}" for b in params["openers"] + params["phrases"]]
    if recipe == "plain_text":
        return bad + ["- " + HEDGY_PARAGRAPH.replace(". ", ".\n- ")] + (
            ["**Paris** is the answer", "# Answer\nParis"] if params["ban"] == "markdown" else [])
    return bad + [HEDGY_PARAGRAPH]


def planned_as_expected(task: str, expected: dict | str, run_dir):
    """Plan and prove `task`: when `expected` is a word, the task must be refused with a message naming it
    (None is returned); when it is a dict, the plan must have exactly those parameters and a passing proof
    (the plan is returned). Shared by the probe tests."""
    import pytest

    from rl_agent.kit.planning.recipes import RecipeRefused, plan_and_prove

    if isinstance(expected, str):
        with pytest.raises(RecipeRefused) as e:
            plan_and_prove(task, run_dir)
        assert expected.lower() in str(e.value).lower() and "Would need:" in str(e.value)
        return None
    plan, proof = plan_and_prove(task, run_dir)
    assert {k: plan.params[k] for k in expected} == expected
    assert proof.passed, proof.message()
    return plan

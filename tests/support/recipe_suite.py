"""The recipe suite: recipes with parameters (as `--set KEY=VALUE` strings), what each must plan to, combined
recipes, and parameter mistakes that must be refused naming the parameter. Shared by the tests and
bench/tasks.py, so the table and the tests cannot drift apart. No entry is English to be read: the words
people use for these tasks live in skills/rl-agent/SKILL.md ("Mapping words to recipes"), for Claude."""

from __future__ import annotations

# (recipe, --set values, parameters the plan must have)
PLANNED: list[tuple[str, list[str], dict]] = [
    ("banned", ["openers=Sure", "openers=Certainly"], {"openers": ["Sure", "Certainly"], "phrases": []}),
    ("banned", ["openers=Great question", "openers=Absolutely"], {"openers": ["Great question", "Absolutely"]}),
    ("banned", ["phrases=I think", "phrases=probably"], {"openers": [], "phrases": ["I think", "probably"]}),
    ("banned", ['phrases=["as an AI language model"]'], {"phrases": ["as an AI language model"]}),
    ("prefix", ["prefix=Answer:"], {"prefix": "Answer:"}),
    ("prefix", ["prefix=Answer: "], {"prefix": "Answer: "}),
    ("prefix", ["prefix=>>"], {"prefix": ">>"}),
    ("prefix", ["prefix=>> "], {"prefix": ">> "}),
    ("prefix", ["prefix=答："], {"prefix": "答："}),
    ("closing", ["closing=Hope this helps.", "whole_line=true"], {"closing": "Hope this helps.", "whole_line": True}),
    ("closing", ["closing=Over and out."], {"closing": "Over and out.", "whole_line": False}),
    ("closing", ["closing=-- bot", "whole_line=yes"], {"closing": "-- bot", "whole_line": True}),
    ("json_keys", ["keys=answer", "keys=confidence"], {"keys": ["answer", "confidence"], "types": {}}),
    ("json_keys", ["keys=answer"], {"keys": ["answer"]}),
    (
        "json_keys",
        ['keys=["answer", "sources"]', 'types={"answer": "string", "sources": "array"}'],
        {"keys": ["answer", "sources"], "types": {"answer": "string", "sources": "array"}},
    ),
    ("json_keys", ["keys=answer", "keys=confidence", "exact=true"], {"keys": ["answer", "confidence"], "exact": True}),
    ("json_keys", ["keys=city", "keys=score", 'types={"score": "number"}'], {"types": {"score": "number"}}),
    ("letter_case", ["case=upper"], {"case": "upper"}),
    ("letter_case", ["case=lower"], {"case": "lower"}),
    ("length", ["max=5"], {"unit": "words", "max": 5}),
    ("length", ["max=25"], {"unit": "words", "max": 25}),
    ("length", ["unit=sentences", "max=2"], {"unit": "sentences", "max": 2}),
    ("length", ["max=1", "unit=sentences"], {"unit": "sentences", "max": 1}),
    ("plain_text", ["ban=bullets"], {"ban": "bullets"}),
    ("plain_text", ["ban=markdown"], {"ban": "markdown"}),
    ("plain_text", ["ban=elements", "elements=bold"], {"ban": "elements", "elements": ["bold"]}),
    ("plain_text", ["ban=elements", "elements=table", "elements=bold"], {"elements": ["bold", "table"]}),
    ("arithmetic", ["marker=Answer:"], {"marker": "Answer:", "ops": ["+", "-", "*"]}),
    (
        "arithmetic",
        ["marker=####", "ops=+", "low=10", "high=99"],
        {"marker": "####", "ops": ["+"], "low": 10, "high": 99},
    ),
    ("arithmetic", ["marker=Final answer:", "ops=*"], {"marker": "Final answer:", "ops": ["*"]}),
    (
        "arithmetic",
        ["marker=####", "ops=+", "terms=3", "low=1", "high=9"],
        {"marker": "####", "ops": ["+"], "terms": 3, "low": 1, "high": 9},
    ),
    ("arithmetic", ["marker=####", 'ops=["+", "-", "*", "/"]'], {"ops": ["+", "-", "*", "/"]}),
    ("list_transform", ["op=sort"], {"op": "sort", "order": "ascending"}),
    ("list_transform", ["op=sort", "order=descending"], {"op": "sort", "order": "descending"}),
    ("list_transform", ["op=reverse"], {"op": "reverse"}),
    ("list_transform", ["op=unique"], {"op": "unique"}),
    ("list_transform", ["op=sum"], {"op": "sum"}),
    ("terse", [], {"bans": ["hedges", "fillers", "length"]}),
    ("terse", ["bans=hedges"], {"bans": ["hedges"]}),
    ("terse", ["bans=fillers"], {"bans": ["fillers"]}),
]

# The parameters of each recipe that `bench/tasks.py --run` and the opt-in full-run tests train on the embedded
# model (the tasks measured before the recipes took parameters: the same data). Chosen within what a
# 2M-parameter model trained on facts and single-digit sums can learn: two-digit products or sorting are beyond
# it (its base answers score 0, so GRPO has no signal), not a fault of the plan; its base answers seldom use
# Markdown, so the plain-text task has nothing to learn there.
FULL_RUN: dict[str, list[str]] = {
    "banned": ["phrases=I think", "phrases=probably"],
    "terse": [],
    "prefix": ["prefix=Answer: "],
    "closing": ["closing=Hope this helps.", "whole_line=true"],
    "json_keys": ["keys=answer"],
    "letter_case": ["case=lower"],
    "length": ["max=5"],
    "plain_text": ["ban=markdown"],
    "arithmetic": ["marker=####", "ops=+", "terms=3", "low=1", "high=9"],
    "list_transform": ["op=sort"],
}

# Recipes combined into one task: (groups, what the combination must accept, what it must reject)
COMBINED: list[tuple[list[tuple[str, list[str]]], list[str], list[str]]] = [
    (
        [("length", ["max=25"]), ("plain_text", ["ban=bullets"])],
        ["Paris.", "It is Paris, on the Seine."],
        ["- Paris.", "Paris " + "and more " * 15 + "words.", "1. Paris"],
    ),
    (
        [
            ("prefix", ["prefix=Answer: "]),
            ("closing", ["closing=Hope this helps.", "whole_line=true"]),
            ("banned", ["phrases=I think"]),
        ],
        ["Answer: Paris.\nHope this helps."],
        ["Answer: Paris.", "Paris.\nHope this helps.", "Answer: I think Paris.\nHope this helps."],
    ),
    (
        [("terse", ["bans=hedges"]), ("letter_case", ["case=lower"])],
        ["paris.", "it is paris."],
        ["Paris.", "i think it is paris.", "probably paris."],
    ),
    (
        [("json_keys", ["keys=answer"]), ("length", ["max=5"])],
        ['{"answer": "Paris."}'],
        ["Paris.", '{"answer": "Paris is the capital of France."}', '{"city": "Paris"}'],
    ),
]

# Combinations refused before anything is written: (groups, words the error must name)
COMBINED_REFUSED: list[tuple[list[tuple[str, list[str]]], list[str]]] = [
    ([("letter_case", ["case=upper"]), ("prefix", ["prefix=Answer:"])], ["cannot all hold", "letter_case"]),
    ([("length", ["max=1"]), ("prefix", ["prefix=Answer:"])], ["cannot all hold", "length"]),
    ([("arithmetic", ["marker=####"]), ("length", ["max=5"])], ["arithmetic", "GRPO", "--task-dir"]),
    ([("json_keys", ["keys=answer"]), ("prefix", ["prefix=Answer:"])], ["cannot all hold", "json_keys"]),
]

# Parameter mistakes: (groups, words the error must name)
PARAM_ERRORS: list[tuple[list[tuple[str, list[str]]], list[str]]] = [
    ([("prefix", [])], ["prefix", "needs --set prefix="]),
    ([("length", ["max=five"])], ["'max'", "'length'", "whole number", "'five'"]),
    ([("length", ["max=0"])], ["'max'", "'length'", "greater than or equal to 1"]),
    ([("letter_case", ["case=title"])], ["'case'", "'letter_case'", "upper, lower", "'title'"]),
    ([("nope", [])], ["no recipe named 'nope'", "prefix"]),
    ([("prefix", ["pre=x"])], ["no parameter 'pre'", "prefix"]),
    ([("prefix", ["prefix"])], ["KEY=VALUE", "'prefix'"]),
    ([("prefix", ["prefix=  "])], ["'prefix'", "some text"]),
    ([("banned", [])], ["'banned'", "at least one"]),
    ([("closing", ["closing=ok", "whole_line=maybe"])], ["'whole_line'", "true or false"]),
    ([("json_keys", ["keys=a", 'types={"b": "number"}'])], ["'json_keys'", "'b'"]),
    ([("json_keys", ["keys=a", "types=number"])], ["'types'", "JSON object"]),
    ([("json_keys", ["keys=a", 'types={"a": "float"}'])], ["'types'", "number"]),
    ([("arithmetic", ["marker=A1:"])], ["'marker'", "digit"]),
    ([("arithmetic", ["marker=#", "ops=/", "terms=3"])], ["division", "terms=2"]),
    ([("arithmetic", ["marker=#", "ops=-", "low=1", "high=9"])], ["45 distinct problems", "at least 48"]),
    ([("plain_text", ["ban=elements"])], ["elements"]),
    ([("terse", ["bans=jokes"])], ["'bans'", "'hedges', 'fillers' or 'length'", "jokes"]),
]

HEDGY_PARAGRAPH = (
    "Well, I think it might possibly be something along those lines, but honestly I'm not entirely "
    "sure about it. There are many factors to consider here. It depends on a lot of things. "
    "Please double-check this with another source. I hope this helps! Let me know if you have "
    "any other questions. "
) * 3


def generic_bad(recipe: str, params: dict) -> list[str]:
    """Bad answers written without looking at the plan's own examples: nothing at all, a long hedging
    non-answer, and for checks whose requirement a plain paragraph meets (bans), that paragraph breaking it."""
    bad = ["", "   \n "]
    if recipe == "banned":
        return bad + [f"{b.lower()} {HEDGY_PARAGRAPH}" for b in params["openers"] + params["phrases"]]
    if recipe == "plain_text" and params["ban"] == "elements":  # only the named elements are banned
        forms = {
            "bold": "**Paris** is the answer",
            "table": "| city |\n|---|\n| Paris |",
            "italic": "_Paris_",
            "heading": "# Answer\nParis",
            "code_block": "```\nParis\n```",
            "numbered": "1. Paris",
            "bullets": "- Paris",
        }
        return bad + [forms[e] for e in params["elements"]]
    if recipe == "plain_text":
        return (
            bad
            + ["- " + HEDGY_PARAGRAPH.replace(". ", ".\n- ")]
            + (["**Paris** is the answer", "# Answer\nParis"] if params["ban"] == "markdown" else [])
        )
    return bad + [HEDGY_PARAGRAPH]

"""Recipe: the answer is a JSON object with the named keys, and value types where the task states them.

Keys come from quoted names after "key(s)"/"field(s)"/"properties" ('keys "answer" and "confidence"'),
or from a JSON example object in the task. Every named key is checked (dropping one was today's bug).
A type is read only when stated next to its key ("confidence" (a number)) or shown by an example's value
(0.9 or 0: a number, true: a boolean, []: an array, "number": that type; text like "..." sets none); an
array of objects, a nested object or a dotted key ("user.name") is refused; a constraint the library
cannot check (a range, an enum) is refused rather than dropped. Extra keys are allowed unless the task says
"only the keys", "exactly the keys", "no other keys" or "and nothing else". Alternatives ("'answer' or
'result'", two example objects joined by "or") and a type after several keys ("'a' and 'b' of type string":
both, or only 'b'?) are refused.
"""

from __future__ import annotations

import json
import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "json_keys"
EXTRA = frozenset("object objects valid named called containing contains holding key keys field fields properties "
                  "property return returns".split())
# "only the keys", "exactly these keys", "no other keys", "and nothing else": no key beyond the named ones
EXACT = re.compile(r"\b(?:only|exactly|just)\s+(?:the\s+|these\s+)?(?=(?:keys?|fields?|properties)\b)|\b(?:no other|"
                   r"no extra|no additional|no more)\s+(?:keys?|fields?|properties)\b|,?\s*\band nothing else\b")
TRIGGER = re.compile(r"\bjson\b(?:\s+(?:object|format|dict\w*))?")
KEYS = re.compile(r"\b(?:keys?|fields?|properties|property|attributes?|members?)\b\s*(?:named\s+|called\s+|:\s*)?"
                  r"(?P<list>«q\d+»(?:[^«]{0,40}?«q\d+»)*)(?P<tail>[^«]*)")
TYPES = {"string": "string", "text": "string", "str": "string", "number": "number", "float": "number",
         "numeric": "number", "integer": "integer", "int": "integer", "whole number": "integer",
         "boolean": "boolean", "bool": "boolean", "true/false": "boolean", "array": "array", "list": "array",
         "object": "object"}
TYPE_WORD = re.compile(r"\b(" + "|".join(sorted(map(re.escape, TYPES), key=len, reverse=True)) + r")\b")
UNCHECKED = re.compile(r"\d|\b(between|range|from|at least|at most|one of|either|enum|only|must be|less|more|"
                       r"positive|negative|non-empty|empty|optional|nullable|null|lowercase|uppercase)\b")
LEADING_TYPE = re.compile(r"^[\s(:,]*(?:(?:as|a|an|of|type|is|being)\s+)*" + TYPE_WORD.pattern)
GLUE = re.compile(r"^[\s,()]*(?:and|a|an|the|as|is|of|type|value|with|:|,|\(|\)|\s)*[\s,()]*$")  # no "or": "'answer' or 'result'" is a choice, refused


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    claimed, json_clauses = set(), []
    for ci, clause in enumerate(text.clauses()):
        if TRIGGER.search(clause):
            json_clauses.append(ci)
    if not json_clauses:
        return None
    keys: dict[str, str | None] = {}
    markers: set[str] = set()
    exact = False
    for ci, clause in enumerate(text.clauses()):
        if EXACT.search(clause) and (ci in json_clauses or KEYS.search(clause)):
            exact = True
            clause = EXACT.sub(" ", clause)
        m = KEYS.search(clause)
        if ci in json_clauses or m or "«j" in clause:
            claimed.add(ci)
        if m:
            _read_key_list(text, m.group("list"), m.group("tail"), keys, markers)
            tail = m.group("tail")
            typed = LEADING_TYPE.match(tail)
            rest = clause.replace(m.group(0), " " + (tail[typed.end():] if typed else tail))  # the tail is read too
        else:
            rest = clause
        if re.search(r"\[\s*«j\d+»", clause):
            raise RecipeRefused(["a JSON answer"], "one JSON object per answer: an array of objects needs Claude")
        for jm in re.findall(r"«j(\d+)»", clause):
            example = text.examples[int(jm)]
            for k, v in example.items():
                keys.setdefault(str(k), None)
                kind = _example_type(v)
                if isinstance(v, str) and kind:  # {"score": "number"}: its type, or its value? {"type": "list"}
                    raise RecipeRefused([_understood(keys)], f"whether {v!r} under {k!r} in the example is the key's "
                                                             "type or its value (say 'with the key ... (a number)')")
                if kind == "nested":
                    raise RecipeRefused([_understood(keys)], f"top-level keys only: {k!r} holds nested keys, which "
                                                             "need Claude")
                if kind:
                    keys[str(k)] = kind
            rest = rest.replace(f"«j{jm}»", " ")
        if ci in claimed:
            rest = TRIGGER.sub(" ", rest)
            rest = re.sub(r"\b(?:only|no other text)\b", " ", rest)  # "only JSON", "no other text": the whole answer is JSON
            left[ci] = insist(rest, clause, _understood(keys) if keys else "a JSON answer", text, EXTRA)
    if text.broken_braces and not text.examples:
        raise RecipeRefused(["a JSON answer"], "an example object that is valid JSON (with double-quoted keys)")
    if not keys:
        raise RecipeRefused(["answers must be a JSON object"],
                            'the key names in quotes, e.g. with keys "answer" and "confidence"')
    if any(not k.strip() for k in keys):
        raise RecipeRefused([_understood(keys)], "non-empty key names")
    dotted = [k for k in keys if re.fullmatch(r"[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)+", k.strip())]
    if dotted:
        raise RecipeRefused([_understood(keys)], f"top-level keys only: {dotted[0]!r} reads as a path to a nested key, "
                                                 "which needs Claude")
    params = {"keys": list(keys), "types": {k: t for k, t in keys.items() if t}}
    if exact:
        params["exact"] = True
    return Reading(NAME, params, _understood(keys, exact), frozenset(markers), frozenset(claimed),
                   leftover=tuple(left.items()))


def _read_key_list(text: TaskText, fragment: str, tail: str, keys: dict[str, str | None], markers: set[str]) -> None:
    """Keys from 'q0 (a string) and q1 (a number)': each quoted name with the words up to the next name;
    after the last name, a type right after it ('q1 as a number') and no constraint anywhere in the clause."""
    parts = re.split(r"(«q\d+»)", fragment)
    names = [(p, parts[i + 1] if i + 1 < len(parts) else "") for i, p in enumerate(parts) if re.fullmatch(r"«q\d+»", p)]
    for n, (marker, after) in enumerate(names):
        name = text.quote(marker)
        markers.add(marker)
        if n == len(names) - 1:
            if UNCHECKED.search(tail):
                raise RecipeRefused([f"a JSON key {name!r}"], f"a constraint the library can check (read {tail.strip()!r})")
            t = LEADING_TYPE.match(tail)
            if not t and TYPE_WORD.search(tail):
                raise RecipeRefused([f"a JSON key {name!r}"], f"which key the type in {tail.strip()!r} belongs to")
            if t and len(names) > 1 and not re.search(r"\b(?:a|an)\s+$", tail[:t.start(1)]):
                # "'a' and 'b' of type string": both, or only 'b'? ("'city' and 'score' as a number" is 'score')
                raise RecipeRefused([f"JSON keys {', '.join(repr(text.quote(m)) for m, _ in names)}"],
                                    f"which of the keys the type in {tail.strip()!r} is for (say it after each key)")
        else:
            t = TYPE_WORD.search(after)
            leftover = TYPE_WORD.sub(" ", after)
            if UNCHECKED.search(leftover) or not GLUE.match(leftover):
                raise RecipeRefused([f"a JSON key {name!r}"], f"a constraint the library can check (read {after.strip()!r})")
        keys[name] = TYPES[t.group(1)] if t else keys.get(name)


def _example_type(value) -> str | None:
    """The type an example object shows for a key: a number, boolean or list value, or a type name written as
    the value ("score": "number"); None for text ("...", "Paris": any answer text); "nested" for an object or a
    list of objects."""
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        return "nested"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number"  # 0 in an example is a number, not necessarily a whole one
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str) and value.strip().lower() in TYPES:
        return TYPES[value.strip().lower()]
    return None


def _understood(keys: dict[str, str | None], exact: bool = False) -> str:
    named = ", ".join(f"{k!r}" + (f" ({t})" if t else "") for k, t in keys.items())
    return f"answers must be a JSON object with {'exactly ' if exact else ''}the keys {named}"


CHECK_BODY = r'''
TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def check(prompt, output, reference=None):
    """1.0 when the whole answer is one JSON object holding every required key (with its stated type)."""
    try:
        value = json.loads(output.strip())
    except ValueError:
        return 0.0
    if not isinstance(value, dict):
        return 0.0
    for key in PARAMS["keys"]:
        if key not in value:
            return 0.0
        kind = PARAMS["types"].get(key)
        if kind and not TYPES[kind](value[key]):
            return 0.0
    if PARAMS.get("exact") and set(value) != set(PARAMS["keys"]):
        return 0.0
    return 1.0
'''

_DEFAULTS = {"number": 1, "integer": 1, "boolean": True, "array": None, "object": {}}


def _value(kind: str | None, answer: str):
    if kind in (None, "string"):
        return answer
    if kind == "array":
        return [answer]
    return _DEFAULTS[kind]


def _obj(keys: list[str], types: dict, answer: str, drop: str | None = None) -> dict:
    return {k: _value(types.get(k), answer) for k in keys if k != drop}


def build(reading: Reading, task: str) -> RecipePlan:
    keys, types = reading.params["keys"], reading.params["types"]

    def chosen(f):
        return json.dumps(_obj(keys, types, f.answer), ensure_ascii=False)

    def rejected(f, i):
        """The plain answer, or the JSON object missing one key in turn (so every key is learnt)."""
        slot = i % (len(keys) + 1)
        if slot == len(keys):
            return f.answer
        return json.dumps(_obj(keys, types, f.answer, drop=keys[slot]), ensure_ascii=False)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = bundled_facts("heldout")[:8]
    good = [item(f, json.dumps(_obj(keys, types, f.answer), ensure_ascii=False)) for f in facts[:3]]
    good.append(item(facts[3], json.dumps(dict(reversed(list(_obj(keys, types, facts[3].answer).items()))), indent=2)))
    exact = bool(reading.params.get("exact"))
    extra = item(facts[4], json.dumps({**_obj(keys, types, facts[4].answer), "note": "an extra key"}))
    if exact:
        good.append(item(facts[4], json.dumps(_obj(keys, types, facts[4].answer), indent=1)))
    else:
        good.append(extra)
    bad = [item(facts[0], facts[0].answer)]
    bad += [item(facts[(i + 1) % 8], json.dumps(_obj(keys, types, facts[(i + 1) % 8].answer, drop=k)))
            for i, k in enumerate(keys)]
    bad += [item(facts[5], "Here it is: " + json.dumps(_obj(keys, types, facts[5].answer))),
            item(facts[6], json.dumps([_obj(keys, types, facts[6].answer)])),
            item(facts[7], "{" + ", ".join(f"'{k}': '{facts[7].answer}'" for k in keys) + "}")]
    if exact:
        bad.append(extra)
    for k, kind in types.items():
        wrong = 1 if kind in ("string", "boolean", "array", "object") else "1"
        bad.append(item(facts[2], json.dumps({**_obj(keys, types, facts[2].answer), k: wrong})))
    typed = "; ".join(f"{k!r} must be a {t}" for k, t in types.items())
    statement = (f"accepts only answers that are exactly one JSON object containing every key: "
                 + ", ".join(map(repr, keys)) + (f" ({typed})" if typed else "")
                 + ("; no other key is allowed" if exact else "; other keys are allowed")
                 + "; text around the JSON, arrays and invalid JSON are rejected")
    notes = ["DPO: chosen is the correct answer as the JSON object, rejected the plain answer or the object "
             "missing one key"]
    if len(keys) > 1:
        notes.append("values of keys other than the answer are placeholders (the answer, or a typed default): "
                     "the library teaches the shape; Claude can write meaningful values")
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad, notes=notes)

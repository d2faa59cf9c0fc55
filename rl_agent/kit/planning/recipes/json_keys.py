"""Recipe: the whole answer is one JSON object with the given keys, and value types where given
(`--set keys=answer --set keys=confidence --set types='{"confidence": "number"}'`).

Every key is checked; with exact=true no other key is allowed. Types: string, number, integer, boolean,
array, object. DPO rejects the plain answer, or the object missing one key in turn.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rl_agent.kit.planning.recipes.base import Form, Params, RecipePlan, bundled_facts, item
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "json_keys"
DESCRIPTION = "the whole answer is a JSON object with the named keys (and value types where given)"
EXAMPLE = {"keys": ["answer"]}
JsonType = Literal["string", "number", "integer", "boolean", "array", "object"]


class JsonKeysParams(Params):
    keys: list[str] = Field(min_length=1, description="the keys every answer's JSON object must hold")
    types: dict[str, JsonType] = Field(
        default_factory=dict,
        description="a value type for some keys, as a JSON object: string, number, integer, boolean, array or object",
    )
    exact: bool = Field(False, description="true: no key other than `keys` is allowed")

    @field_validator("keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        if any(not k.strip() for k in v):
            raise ValueError("key names must not be empty")
        if len(set(v)) != len(v):
            raise ValueError("a key is named twice")
        return v

    @model_validator(mode="after")
    def _typed_keys(self) -> "JsonKeysParams":
        unknown = [k for k in self.types if k not in self.keys]
        if unknown:
            raise ValueError(f"types names {unknown[0]!r}, which is not one of the keys")
        return self


PARAMS = JsonKeysParams

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


def understood(p: JsonKeysParams) -> str:
    named = ", ".join(f"{k!r}" + (f" ({p.types[k]})" if k in p.types else "") for k in p.keys)
    return f"answers must be a JSON object with {'exactly ' if p.exact else ''}the keys {named}"


def form(p: JsonKeysParams) -> Form:
    def spoil(a: str, i: int) -> str:
        slot = i % (len(p.keys) + 1)
        return a if slot == len(p.keys) else json.dumps(_obj(p.keys, p.types, a, drop=p.keys[slot]), ensure_ascii=False)

    return Form(lambda a: json.dumps(_obj(p.keys, p.types, a), ensure_ascii=False), spoil, order=1)


def build(p: JsonKeysParams) -> RecipePlan:
    keys, types, exact = p.keys, p.types, p.exact
    params = p.model_dump(mode="json")

    def chosen(f):
        return json.dumps(_obj(keys, types, f.answer), ensure_ascii=False)

    def rejected(f, i):
        """The plain answer, or the JSON object missing one key in turn (so every key is learnt)."""
        slot = i % (len(keys) + 1)
        if slot == len(keys):
            return f.answer
        return json.dumps(_obj(keys, types, f.answer, drop=keys[slot]), ensure_ascii=False)

    train, heldout = form_splits(chosen, rejected, understood(p))
    facts = bundled_facts("heldout")[:8]
    good = [item(f, json.dumps(_obj(keys, types, f.answer), ensure_ascii=False)) for f in facts[:3]]
    good.append(item(facts[3], json.dumps(dict(reversed(list(_obj(keys, types, facts[3].answer).items()))), indent=2)))
    extra_key = next(k for k in ("note", "extra_note", "zz_extra") if k not in keys)
    extra = item(facts[4], json.dumps({**_obj(keys, types, facts[4].answer), extra_key: "an extra key"}))
    if exact:
        good.append(item(facts[4], json.dumps(_obj(keys, types, facts[4].answer), indent=1)))
    else:
        good.append(extra)
    bad = [item(facts[0], facts[0].answer)]
    bad += [
        item(facts[(i + 1) % 8], json.dumps(_obj(keys, types, facts[(i + 1) % 8].answer, drop=k)))
        for i, k in enumerate(keys)
    ]
    bad += [
        item(facts[5], "Here it is: " + json.dumps(_obj(keys, types, facts[5].answer))),
        item(facts[6], json.dumps([_obj(keys, types, facts[6].answer)])),
        item(facts[7], "{" + ", ".join(f"'{k}': '{facts[7].answer}'" for k in keys) + "}"),
    ]
    if exact:
        bad.append(extra)
    for k, kind in types.items():
        wrong = 1 if kind in ("string", "boolean", "array", "object") else "1"
        bad.append(item(facts[2], json.dumps({**_obj(keys, types, facts[2].answer), k: wrong})))
    typed = "; ".join(f"{k!r} must be a {t}" for k, t in types.items())
    statement = (
        "accepts only answers that are exactly one JSON object containing every key: "
        + ", ".join(map(repr, keys))
        + (f" ({typed})" if typed else "")
        + ("; no other key is allowed" if exact else "; other keys are allowed")
        + "; text around the JSON, arrays and invalid JSON are rejected"
    )
    notes = [
        "DPO: chosen is the correct answer as the JSON object, rejected the plain answer or the object missing one key"
    ]
    if len(keys) > 1:
        notes.append(
            "values of keys other than the answer are placeholders (the answer, or a typed default): "
            "the recipe teaches the shape"
        )
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )

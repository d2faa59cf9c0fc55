"""The recipes as parameterised task modules: the registry, `--set KEY=VALUE` parsed to each parameter's type,
the plan for one recipe or several combined, and, for words no recipe reads, suggestions (never a plan).

    RECIPES, BY_NAME                        # the ten recipe modules, by NAME
    parse_params(name, ["key=value", ...])  # -> the recipe's typed Params, or RecipeError naming the parameter
    plan_recipes([(name, sets), ...])       # -> RecipePlan: one recipe, or all of them combined (compose.py)
    parameters(module) -> [Parameter]       # name, type, default, meaning: what `rl-agent recipes` lists
    suggest(text) -> [(module, shared)]     # closest first by shared words; a suggestion, not a reading
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Sequence

from pydantic import ValidationError

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
from rl_agent.kit.planning.recipes.base import Params, RecipeError, RecipePlan

RECIPES: tuple[ModuleType, ...] = (
    prefix,
    closing,
    banned,
    length,
    plain_text,
    letter_case,
    json_keys,
    terse,
    arithmetic,
    list_transform,
)
BY_NAME = {m.NAME: m for m in RECIPES}


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # the type in words
    default: str | None  # None: required
    meaning: str


def recipe(name: str) -> ModuleType:
    if name not in BY_NAME:
        raise RecipeError(f"no recipe named {name!r}; the recipes are: {', '.join(BY_NAME)} (rl-agent recipes)")
    return BY_NAME[name]


def _kind(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _kind(args[0])
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin is list:
        inner = _kind(args[0]) if args else "text"
        each = f"each {inner}" if inner.startswith("one of") else f"of {inner}"
        return f"list {each} (repeat --set, or a JSON array)"
    if origin is dict:
        return "JSON object (" + _kind(args[1]).replace("one of: ", "key -> one of: ") + ")"
    return {str: "text", int: "whole number", bool: "true/false"}.get(annotation, getattr(annotation, "__name__", "?"))


def parameters(module: ModuleType) -> list[Parameter]:
    out = []
    for name, f in module.PARAMS.model_fields.items():
        value = f.get_default(call_default_factory=True)
        default = (
            None if f.is_required() else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        )
        out.append(Parameter(name, _kind(f.annotation), default, f.description or ""))
    return out


def _value(recipe_name: str, key: str, annotation: Any, raw: str, current: Any) -> Any:
    """One --set value as the parameter's type (a list parameter appends; a JSON array replaces)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    where = f"parameter {key!r} of recipe {recipe_name!r}"
    if origin is list:
        if raw.lstrip().startswith("["):
            try:
                value = json.loads(raw)
            except ValueError as e:
                raise RecipeError(f"{where}: {raw!r} is not a JSON array ({e})") from None
            if not isinstance(value, list):
                raise RecipeError(f"{where}: {raw!r} is not a JSON array")
            return value
        return list(current or []) + [raw]
    if origin is dict:
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise RecipeError(
                f'{where}: expected a JSON object such as \'{{"score": "number"}}\', got {raw!r} ({e})'
            ) from None
        if not isinstance(value, dict):
            raise RecipeError(f"{where}: expected a JSON object, got {raw!r}")
        return value
    if annotation is bool:
        low = raw.strip().lower()
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise RecipeError(f"{where}: expected true or false, got {raw!r}")
    if annotation is int:
        try:
            return int(raw.strip())
        except ValueError:
            raise RecipeError(f"{where}: expected a whole number, got {raw!r}") from None
    if origin is Literal and raw not in args:
        raise RecipeError(f"{where}: expected one of {', '.join(map(str, args))}, got {raw!r}")
    return raw


def parse_params(name: str, sets: Sequence[str]) -> Params:
    """The recipe's typed parameters from `--set KEY=VALUE` strings; RecipeError naming the parameter and recipe."""
    module = recipe(name)
    fields = module.PARAMS.model_fields
    raw: dict[str, Any] = {}
    for s in sets:
        key, eq, value = s.partition("=")
        key = key.strip()
        if not eq or not key:
            raise RecipeError(f"--set expects KEY=VALUE, got {s!r} (recipe {name!r})")
        if key not in fields:
            raise RecipeError(f"recipe {name!r} has no parameter {key!r}; its parameters: {', '.join(fields)}")
        raw[key] = _value(name, key, fields[key].annotation, value, raw.get(key))
    try:
        return module.PARAMS.model_validate(raw)
    except ValidationError as e:
        er = e.errors()[0]
        key = str(er["loc"][0]) if er["loc"] else ""
        if er["type"] == "missing":
            f = fields[key]
            raise RecipeError(f"recipe {name!r} needs --set {key}=... ({f.description})") from None
        what = f"parameter {key!r}" if key else "its parameters"
        msg = er["msg"].removeprefix("Value error, ")
        got = (
            f" (got {json.dumps(er['input'], ensure_ascii=False)[:80]})"
            if key and not isinstance(er.get("input"), dict)
            else ""
        )
        raise RecipeError(f"recipe {name!r}, {what}: {msg}{got}") from None


def plan_recipes(groups: Sequence[tuple[str, Sequence[str]]]) -> RecipePlan:
    """The plan for `--recipe NAME --set ...` groups: one recipe's own plan, or several combined into one task
    whose check is all of them."""
    if not groups:
        raise RecipeError("no recipe given (rl-agent recipes lists them)")
    parts = [(recipe(name), parse_params(name, sets)) for name, sets in groups]
    if len(parts) == 1:
        module, params = parts[0]
        return module.build(params)
    from rl_agent.kit.planning.recipes.compose import compose

    return compose(parts)


def example_sets(module: ModuleType) -> list[str]:
    """The recipe's example parameters as `--set` values (KEY=VALUE, unquoted)."""
    return [
        f"{k}={x if isinstance(x, str) else json.dumps(x)}"
        for k, v in module.EXAMPLE.items()
        for x in (v if isinstance(v, list) else [v])
    ]


def shell_set(key: str, value: str) -> str:
    if re.fullmatch(r"[\w.:+*/#@%,-]+", value):
        return f"{key}={value}"
    if "'" not in value and re.search(r'["$`\\]', value):
        return f"{key}='{value}'"
    return f'{key}="' + re.sub(r'(["$`\\])', r"\\\1", value) + '"'


def command(groups: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The `rl-agent new` command line for recipe groups, shell-quoted."""
    args = []
    for name, sets in groups:
        args += ["--recipe", name]
        for s in sets:
            key, _, value = s.partition("=")
            args += ["--set", shell_set(key, value)]
    return " ".join(["rl-agent new", *args])


def example_command(module: ModuleType) -> str:
    return command([(module.NAME, example_sets(module))])


_WORD = re.compile(r"[a-z]+")


def _words(text: str) -> set[str]:
    """Lower-case words of 4+ letters, a plural 's' dropped: enough for an overlap score, nothing more."""
    return {
        w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in _WORD.findall(text.lower()) if len(w) >= 4
    }


def suggest(text: str) -> list[tuple[ModuleType, list[str]]]:
    """Every recipe, closest first by the words `text` shares with its name, description and parameter names
    (words most recipes use count for none; ties keep the registry order), with the shared words. A ranking for
    a person to choose from, not a plan."""
    said = _words(text)
    vocab = [
        _words(" ".join([m.NAME.replace("_", " "), m.DESCRIPTION, " ".join(m.PARAMS.model_fields).replace("_", " ")]))
        for m in RECIPES
    ]
    common = {w for w in set().union(*vocab) if sum(w in v for v in vocab) > len(RECIPES) // 2}
    scored = [
        (-len(shared), i, m, shared)
        for i, (m, v) in enumerate(zip(RECIPES, vocab))
        for shared in [sorted((said & v) - common)]
    ]
    return [(m, shared) for _, _, m, shared in sorted(scored, key=lambda t: t[:2])]

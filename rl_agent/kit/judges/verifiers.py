"""Verifiers: judges a program can check, free and deterministic (the GRPO reward building blocks).

Each is a Judge returning a Grade. A verifier that needs a reference and gets none returns a failed
grade (`missing_reference`), not 0: a missing label is a data bug, not a wrong answer.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rl_agent.kit.judges.base import Grade, LocalJudge


def _normalize(text: str, *, case_sensitive: bool) -> str:
    text = " ".join(text.split())
    return text if case_sensitive else text.casefold()


@dataclass
class ExactMatchJudge(LocalJudge):
    """1.0 when the output equals the reference (whitespace collapsed; case-insensitive unless asked).

    `strip_punct` drops trailing sentence punctuation so "Paris." matches "Paris".
    """

    case_sensitive: bool = False
    strip_punct: bool = True
    name: str = "exact"

    def _clean(self, text: str) -> str:
        text = _normalize(text, case_sensitive=self.case_sensitive)
        return text.rstrip(".!?;: ") if self.strip_punct else text

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        if reference is None:
            return Grade.failed("missing_reference", "exact match needs a reference answer")
        if self._clean(output) == self._clean(reference):
            return Grade(1.0, "matches the reference")
        return Grade(0.0, "does not match the reference")


@dataclass
class RegexJudge(LocalJudge):
    """1.0 when `pattern` is found in the output (`fullmatch=True`: the whole stripped output must match)."""

    pattern: str
    fullmatch: bool = False
    ignore_case: bool = False
    name: str = "regex"
    _compiled: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            self._compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as e:
            raise ValueError(f"invalid regex {self.pattern!r}: {e}") from None

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        found = self._compiled.fullmatch(output.strip()) if self.fullmatch else self._compiled.search(output)
        if found:
            return Grade(1.0, f"matches /{self.pattern}/")
        return Grade(0.0, f"no match for /{self.pattern}/")


_FENCE = re.compile(r"^```(?:json)?\s*\n(.*?)\n?```$", re.DOTALL)


@dataclass
class JsonSchemaJudge(LocalJudge):
    """1.0 when the output is JSON valid against `schema` (one ```json fence around it is tolerated).

    Uses the `jsonschema` package when installed (full Draft 2020-12); otherwise a documented subset:
    type, enum, const, required, properties, additionalProperties (bool), items, min/maxItems,
    min/maxLength, minimum/maximum, pattern.
    """

    schema: dict[str, Any]
    name: str = "json_schema"

    @classmethod
    def from_file(cls, path: str | Path) -> JsonSchemaJudge:
        path = Path(path)
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such schema file") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
        if not isinstance(schema, dict):
            raise ValueError(f"{path}: a JSON schema must be an object")
        return cls(schema)

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        text = output.strip()
        fenced = _FENCE.match(text)
        if fenced:
            text = fenced.group(1)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            return Grade(0.0, f"not JSON ({e.msg})")
        problem = validate_json(value, self.schema)
        return Grade(0.0, f"schema violation: {problem}") if problem else Grade(1.0, "valid against the schema")


def validate_json(value: Any, schema: dict[str, Any]) -> str | None:
    """First schema violation as a message, or None. Prefers the `jsonschema` package when present."""
    try:
        import jsonschema
    except ImportError:
        return _mini_validate(value, schema, "$")
    validator_cls = jsonschema.validators.validator_for(schema)
    error = jsonschema.exceptions.best_match(validator_cls(schema).iter_errors(value))
    if error is None:
        return None
    where = "$" + "".join(f"[{p!r}]" for p in error.absolute_path)
    return f"{where}: {error.message}"


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _mini_validate(value: Any, schema: dict[str, Any], where: str) -> str | None:
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES.get(t, lambda v: False)(value) for t in names):
            return f"{where}: expected {' or '.join(names)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} not one of {schema['enum']!r}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: expected {schema['const']!r}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                return f"{where}: missing required property {key!r}"
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key in value and (err := _mini_validate(value[key], sub, f"{where}[{key!r}]")):
                return err
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(props))
            if extra:
                return f"{where}: unexpected property {extra[0]!r}"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return f"{where}: fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{where}: more than {schema['maxItems']} items"
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                if err := _mini_validate(item, schema["items"], f"{where}[{i}]"):
                    return err
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{where}: shorter than {schema['minLength']}"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{where}: longer than {schema['maxLength']}"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{where}: does not match {schema['pattern']!r}"
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where}: below minimum {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where}: above maximum {schema['maximum']}"
    return None


def load_function(spec: str) -> Callable[..., Any]:
    """Resolve "path/to/file.py:func" or "package.module:func" to a callable (ValueError if not)."""
    target, sep, func_name = spec.rpartition(":")
    if not sep or not target or not func_name.isidentifier():
        raise ValueError(f"expected 'path/to/file.py:func' or 'module:func', got {spec!r}")
    if target.endswith(".py") or "/" in target or "\\" in target:
        path = Path(target).resolve()
        if not path.is_file():
            raise ValueError(f"{target}: no such file")
        mod_name = f"rl_agent_user_verifier_{abs(hash(str(path)))}"
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"{target}: cannot be loaded as Python")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as e:  # the user's module failed to import: say so in one line
            sys.modules.pop(mod_name, None)
            raise ValueError(f"{target}: import failed: {type(e).__name__}: {e}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise ValueError(f"cannot import module {target!r}: {e}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ValueError(f"{spec}: no callable named {func_name!r}")
    return func


@dataclass
class PythonFunctionJudge(LocalJudge):
    """Grades with a user function: `f(output)`, `f(prompt, output)` or `f(prompt, output, reference)`.

    The function returns a number or bool in [0, 1], `(score, reason)`, `{"score":…, "reason":…}`, or a
    Grade. Exceptions and out-of-range scores become failed grades, so a buggy verifier is visible.
    """

    func: Callable[..., Any]
    name: str = "python"
    _arity: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            params = [
                p
                for p in inspect.signature(self.func).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            self._arity = min(len(params), 3) or 1
        except (TypeError, ValueError):  # builtins without a signature: pass the output only
            self._arity = 1

    @classmethod
    def from_spec(cls, spec: str) -> PythonFunctionJudge:
        return cls(load_function(spec), name=f"python:{spec}")

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        args = (output,) if self._arity == 1 else (prompt, output) if self._arity == 2 else (prompt, output, reference)
        try:
            result = self.func(*args)
        except Exception as e:
            return Grade.failed("user_function", f"verifier raised {type(e).__name__}: {e}")
        return _coerce(result)


def _coerce(result: Any) -> Grade:
    if isinstance(result, Grade):
        return result
    reason = ""
    if isinstance(result, tuple) and len(result) == 2:
        result, reason = result
    elif isinstance(result, dict):
        result, reason = result.get("score"), result.get("reason", "")
    if isinstance(result, bool):
        result = float(result)
    if not isinstance(result, (int, float)) or isinstance(result, bool) or not math.isfinite(result):
        return Grade.failed("user_function", f"verifier returned {result!r}, not a score")
    if not 0.0 <= result <= 1.0:
        return Grade.failed("out_of_range", f"verifier returned {result}, outside [0, 1]")
    return Grade(float(result), str(reason) or "user verifier")

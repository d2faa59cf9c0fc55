"""Rows of any accepted type -> the kit's canonical rows, keeping each row's location.

Canonical rows are plain strings, whatever the input format:
  preference            {"prompt", "chosen", "rejected"}
  unpaired preference   {"prompt", "completion", "label": bool}
  prompt-completion     {"prompt", "completion"}
  prompt-only           {"prompt"} (+ "reference" when the data has one)

Decision: conversational message lists are flattened to the last user turn (prompt) and the last
assistant turn (answers). The rendered scripts apply the model's chat template to these strings
themselves, so a one-turn conversation loses nothing; earlier turns and system messages of multi-turn rows
are dropped and counted in the notes (the check shows how many), never silently.

Structural faults (a column of the wrong type, an implicit prompt that cannot be split off) raise
DataError naming the row; content faults (empty fields, chosen == rejected, duplicates) are collected as
problems with their rows and those rows are left out, so `check` can list them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rl_agent.kit.dataio import kinds as K
from rl_agent.kit.dataio.columns import ColumnMapping
from rl_agent.kit.dataio.sources import DataError, LoadedSource
from rl_agent.kit.dataio.split import norm_prompt

TRUE_LABELS = {"true", "1", "yes", "y", "up", "good", "positive", "desirable", "thumbs_up", "+1", "👍"}
FALSE_LABELS = {"false", "0", "no", "n", "down", "bad", "negative", "undesirable", "thumbs_down", "-1", "👎"}


@dataclass
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class Normalised:
    kind: K.DatasetKind
    rows: list[dict]
    wheres: list[str]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _content(message: dict, where: str) -> str:
    content = message.get("content")
    if isinstance(content, list):  # multimodal-style parts: keep the text ones
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if not isinstance(content, str):
        raise DataError(f"{where}: a message's content must be text, got {type(content).__name__}")
    return content


def _last(messages: list, role: str, where: str, column: str) -> str | None:
    for m in reversed(messages):
        if m.get("role") == role:
            return _content(m, where)
    return None


class _Flattener:
    """Flattens one column value to a string, counting what conversational rows lose."""

    def __init__(self) -> None:
        self.dropped_context = 0

    def prompt(self, value: object, where: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if K.is_messages(value):
            text = _last(value, "user", where, "prompt")
            if text is None:
                raise DataError(f"{where}: column 'prompt' is a conversation with no user message")
            if len(value) > 1:  # a system message or earlier turns besides the last user turn
                self.dropped_context += 1
            return text
        raise DataError(f"{where}: column 'prompt' must be text or a list of messages, got {type(value).__name__}")

    def answer(self, value: object, where: str, column: str) -> tuple[str | None, str | None]:
        """(answer text, prompt found inside the conversation for implicit-prompt rows)."""
        if value is None or isinstance(value, str):
            return value, None
        if K.is_messages(value):
            text = _last(value, "assistant", where, column)
            if text is None:
                raise DataError(f"{where}: column {column!r} is a conversation with no assistant message")
            before = value[: max(i for i, m in enumerate(value) if m.get("role") == "assistant")]
            inner = _last(before, "user", where, column) if before else None
            return text, inner
        raise DataError(f"{where}: column {column!r} must be text or a list of messages, got {type(value).__name__}")


def _label(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in TRUE_LABELS:
            return True
        if v in FALSE_LABELS:
            return False
    raise DataError(f"{where}: column 'label' must be true/false (or 1/0, up/down, good/bad), got {value!r}")


def _text(value: object, where: str, column: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise DataError(f"{where}: column {column!r} must be text, got {type(value).__name__}")


def normalise(loaded: LoadedSource, mapping: ColumnMapping) -> Normalised:
    """Map, detect the type, flatten and validate every row of a loaded source."""
    mapped = [mapping.apply(r) for r in loaded.rows]
    present = {c for c in mapping.mapping.values()}
    kind = K.detect_kind(present, next((r for r in mapped if any(v is not None for v in r.values())), {}))
    if kind is None:
        raise DataError(
            f"{loaded.name}: no prompt/chosen/rejected/completion column among "
            f"{', '.join(loaded.columns)}; name them with --columns SOURCE=TARGET "
            "(e.g. --columns question=prompt,good=chosen,bad=rejected)"
        )
    if kind.name == K.LANGUAGE_MODELING:
        raise DataError(
            f"{loaded.name}: language-modelling data (text/messages only) holds no prompts or "
            "preferences to train on; map a prompt column (and chosen/rejected or completion/label) "
            "with --columns"
        )
    flat = _Flattener()
    out = Normalised(kind, [], [])
    seen: dict[tuple, str] = {}
    for raw, where in zip(mapped, loaded.wheres):
        row = _canonical_row(kind, raw, where, flat)
        empty = [k for k, v in row.items() if k != "label" and isinstance(v, str) and not v.strip()]
        empty += [k for k, v in row.items() if v is None and k != "reference"]
        if empty:
            out.problems.append(Problem(where, f"empty {', '.join(sorted(set(empty)))}"))
            continue
        row = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if v is not None}
        if kind.name in (K.PREFERENCE, K.PREFERENCE_IMPLICIT) and row["chosen"] == row["rejected"]:
            out.problems.append(Problem(where, "chosen == rejected (nothing to prefer)"))
            continue
        key = tuple(sorted((k, norm_prompt(v) if isinstance(v, str) else v) for k, v in row.items()))
        if key in seen:
            out.problems.append(Problem(where, f"duplicate of {seen[key]}"))
            continue
        seen[key] = where
        out.rows.append(row)
        out.wheres.append(where)
    if flat.dropped_context:
        out.notes.append(
            f"{flat.dropped_context} conversational rows had earlier turns or a system message; "
            "only the last user turn is kept as the prompt"
        )
    return out


def _canonical_row(kind: K.DatasetKind, raw: dict, where: str, flat: _Flattener) -> dict:
    if kind.name in (K.PREFERENCE, K.PREFERENCE_IMPLICIT):
        chosen, p1 = flat.answer(raw.get("chosen"), where, "chosen")
        rejected, p2 = flat.answer(raw.get("rejected"), where, "rejected")
        if kind.name == K.PREFERENCE:
            prompt = flat.prompt(raw.get("prompt"), where)
        else:
            prompt = p1 or p2
            if prompt is None:
                raise DataError(
                    f"{where}: no prompt column, and chosen/rejected are not conversations holding "
                    "the user turn; map the prompt with --columns NAME=prompt"
                )
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    prompt = flat.prompt(raw.get("prompt"), where)
    if kind.name == K.UNPAIRED:
        completion, _ = flat.answer(raw.get("completion"), where, "completion")
        label = raw.get("label")
        return {"prompt": prompt, "completion": completion, "label": None if label is None else _label(label, where)}
    if kind.name == K.PROMPT_COMPLETION:
        completion, _ = flat.answer(raw.get("completion"), where, "completion")
        return {"prompt": prompt, "completion": completion}
    return {"prompt": prompt, "reference": _text(raw.get("reference"), where, "reference")}


def rows_for_shape(norm: Normalised, shape: str, reader: str | None = None) -> list[dict]:
    """The canonical rows in the shape a track reads (kinds.SHAPE_SOURCES); `reader` names the track in errors.

    pairs: preference pairs. prompts: one row per prompt (+ reference: the completion or the chosen answer;
    preference rows keep chosen/rejected for the held-out length-controlled check). unpaired: a preference
    pair becomes one desirable and one undesirable row (TRL does the same). completions: prompt + the
    chosen answer or the completion.
    """
    if shape not in K.SHAPE_SOURCES:
        raise DataError(f"unknown row shape {shape!r}; expected one of {', '.join(K.SHAPE_SOURCES)}")
    if norm.kind.name not in K.SHAPE_SOURCES[shape]:
        need = " or ".join(K.SHAPE_SOURCES[shape])
        raise DataError(f"{reader or shape} trains on {need} data, but this is {norm.kind.name} data")
    paired = norm.kind.name in (K.PREFERENCE, K.PREFERENCE_IMPLICIT)
    if shape == K.PAIRS or shape == K.COMPLETIONS and norm.kind.name == K.PROMPT_COMPLETION:
        return list(norm.rows)
    if shape == K.UNPAIRED_ROWS:
        if not paired:
            return list(norm.rows)
        out = []
        for r in norm.rows:
            out.append({"prompt": r["prompt"], "completion": r["chosen"], "label": True})
            out.append({"prompt": r["prompt"], "completion": r["rejected"], "label": False})
        return out
    if shape == K.COMPLETIONS:
        return [{"prompt": r["prompt"], "completion": r["chosen"]} for r in norm.rows]
    out, seen = [], set()
    for r in norm.rows:  # prompts
        key = norm_prompt(r["prompt"])
        if key in seen:
            continue
        seen.add(key)
        row = {"prompt": r["prompt"]}
        if paired:
            row.update(reference=r["chosen"], chosen=r["chosen"], rejected=r["rejected"])
        elif r.get("completion") and r.get("label", True):
            row["reference"] = r["completion"]
        elif r.get("reference"):
            row["reference"] = r["reference"]
        out.append(row)
    return out

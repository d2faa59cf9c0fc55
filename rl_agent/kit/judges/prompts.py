"""Prompt templates shipped in rl_agent/prompts/ (inside the wheel), rendered with StrictUndefined.

User text (prompts, outputs, references, a user's rubric file) is only ever passed in as template data,
never compiled as a template, and our delimiting tags inside it are neutralised so it cannot close them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

DEFAULT_RUBRIC = "terse"
_TAGS = (
    "prompt",
    "output",
    "reference",
    "answer",
    "answer_a",
    "answer_b",
    "example",
    "rubric",
    "grade",
    "task",
    "existing_prompts",
)
_CLOSE_TAG = re.compile(r"</\s*(" + "|".join(_TAGS) + r")\s*>", re.IGNORECASE)


def read_prompt(name: str) -> str:
    """Raw text of a bundled file in rl_agent/prompts/."""
    return (resources.files("rl_agent") / "prompts" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _template(name: str) -> jinja2.Template:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env.from_string(read_prompt(name))


def neutralize(text: str) -> str:
    """Stop data from closing our delimiting tags (`</output>` becomes `<\\/output>`)."""
    return _CLOSE_TAG.sub(lambda m: "<\\/" + m.group(0)[2:], text)


def render(name: str, **data: Any) -> str:
    return _template(name).render(**data).strip() + "\n"


@dataclass(frozen=True)
class CalibrationExample:
    prompt: str
    output: str
    score: float
    reason: str


def load_rubric(spec: str | Path | None = None) -> tuple[str, str]:
    """(name, text) of a rubric: None/"terse" for the bundled one, or a path to a text/markdown file."""
    if spec is None or str(spec) == DEFAULT_RUBRIC:
        return DEFAULT_RUBRIC, read_prompt("rubric_terse.md").strip()
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"rubric {str(spec)!r}: no such file (use 'terse' or a path to a rubric text file)")
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise ValueError(f"{path}: rubric file is empty")
    return path.name, text


def load_calibration(spec: str | Path | None = None) -> list[CalibrationExample]:
    """Graded examples for the prompt prefix: bundled (None) or a JSONL file of {prompt, output, score, reason}."""
    if spec is None:
        text, where = read_prompt("calibration_terse.jsonl"), "calibration_terse.jsonl"
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"{spec}: no such calibration file")
        text, where = path.read_text(encoding="utf-8"), str(path)
    out = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            ex = CalibrationExample(str(row["prompt"]), str(row["output"]), float(row["score"]), str(row["reason"]))
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{where}:{lineno}: bad calibration example ({type(e).__name__}: {e})") from None
        if not 0.0 <= ex.score <= 1.0:
            raise ValueError(f"{where}:{lineno}: score {ex.score} outside [0, 1]")
        out.append(ex)
    return out


def grader_prefix(rubric_text: str, examples: list[CalibrationExample], template: str = "grader_system.md.j2") -> str:
    """The stable system prefix: instructions, rubric, calibration examples (the cacheable part). `template`:
    another wording of the instructions (grader_second_reading.md.j2, the judge agreement check's)."""
    safe = [CalibrationExample(neutralize(e.prompt), neutralize(e.output), e.score, e.reason) for e in examples]
    return render(template, rubric=neutralize(rubric_text), examples=safe)


def grader_item(prompt: str, output: str, reference: str | None) -> str:
    return render(
        "grader_item.md.j2",
        prompt=neutralize(prompt),
        output=neutralize(output),
        reference=None if reference is None else neutralize(reference),
    )


def text_hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()

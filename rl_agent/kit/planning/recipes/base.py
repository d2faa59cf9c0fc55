"""What every recipe is and produces: typed parameters (a pydantic model), a check program, good and bad
examples and training data, written as a task folder (see planning/contract.py); plus the shared pieces:
the bundled facts data is built from, the check.py renderer that keeps parameters as data, and the `Form`
that lets answer-form recipes be combined.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable

from pydantic import AfterValidator, BaseModel, ConfigDict

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects, load_pairs
from rl_agent.kit.planning.contract import (
    CHECK_FILE,
    EXAMPLES_FILE,
    HELDOUT_FILE,
    TASK_FILE,
    TRAIN_FILE,
    TaskMeta,
    write_meta,
)
from rl_agent.kit.tracks.registry import TrackName
from rl_agent.runtime.check_runner import CheckItem

__all__ = [
    "CHECK_FILE",
    "EXAMPLES_FILE",
    "HELDOUT_FILE",
    "TASK_FILE",
    "TRAIN_FILE",
    "Fact",
    "Form",
    "OneLine",
    "Params",
    "RecipeError",
    "RecipePlan",
    "bundled_facts",
    "item",
    "render_check",
]


class RecipeError(RlAgentError, ValueError):
    """The recipe cannot be planned with these parameters, or its data cannot be built; the message says why."""


class Params(BaseModel):
    """Base of every recipe's parameters: unknown names are refused, each field's description is its meaning."""

    model_config = ConfigDict(extra="forbid")


def _one_line(value: str) -> str:
    if not value.strip() or "\n" in value:
        raise ValueError("must be some text on one line")
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]  # a text parameter: a prefix, a closing, a banned phrase


@dataclass(frozen=True)
class Fact:
    """A bundled question with its correct answer (the `reference` field, else the `chosen` answer)."""

    prompt: str
    answer: str


def bundled_facts(split: str) -> list[Fact]:
    """The shipped fact set (whatever the package ships), validated by the pair loader first."""
    path = bundled_pairs_path(split)
    load_pairs(path)
    facts = []
    for _, _, row in iter_jsonl_objects(path):
        ref = row.get("reference")
        answer = ref.strip() if isinstance(ref, str) and ref.strip() else row["chosen"].strip()
        facts.append(Fact(row["prompt"].strip(), answer))
    return facts


@dataclass(frozen=True)
class Form:
    """An answer-form requirement as text operations, for combining recipes: `apply` puts a correct answer in the
    form (None: it cannot be), `spoil` breaks the form on any text. `order`: transforms (case, JSON, prefix,
    closing) run first, filters (bans, length) last, so a filter sees the final text."""

    apply: Callable[[str], str | None]
    spoil: Callable[[str, int], str | None]
    order: int


@dataclass
class RecipePlan:
    """Everything a run needs for one task: data, the check program, its examples, and the check in words."""

    recipe: str
    task: str
    params: dict[str, Any]
    algorithm: TrackName
    statement: str  # the check in plain words a person can verify
    understood: str  # the requirement in a few words (the plan's summary)
    check_source: str
    train: list[dict]  # DPO: prompt/chosen/rejected/reference; GRPO: prompt/reference
    heldout: list[dict]  # prompt/reference (+ chosen/rejected for DPO)
    good: list[CheckItem]
    bad: list[CheckItem]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        recipe: str,
        understood: str,
        params: dict[str, Any],
        algorithm: TrackName,
        statement: str,
        check_body: str,
        data: tuple[list[dict], list[dict]],
        examples: tuple[list[CheckItem], list[CheckItem]],
        notes: list[str],
    ) -> RecipePlan:
        """A recipe's plan as every recipe makes it: the requirement in words is both the task and the summary,
        check.py is the recipe's fixed body under the header with `params` as data, `data` is (train, heldout)
        and `examples` is (good, bad)."""
        check = render_check(recipe, params, check_body)
        return cls(recipe, understood, params, algorithm, statement, understood, check, *data, *examples, notes=notes)

    def write(self, run_dir: str | Path) -> dict[str, Path]:
        """Write the task folder (task.json, check.py, the data, the examples) into the run folder, never outside."""
        root = Path(run_dir).resolve()
        examples = [{"kind": "good", **g.to_dict()} for g in self.good] + [
            {"kind": "bad", **b.to_dict()} for b in self.bad
        ]
        files = {
            CHECK_FILE: self.check_source,
            TRAIN_FILE: _jsonl(self.train),
            HELDOUT_FILE: _jsonl(self.heldout),
            EXAMPLES_FILE: _jsonl(examples),
        }
        written = {}
        for rel, text in files.items():
            dest = (root / rel).resolve()
            if root not in dest.parents:
                raise ValueError(f"refusing to write {rel} outside the run folder {root}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(dest)
            written[rel] = dest
        written[TASK_FILE] = write_meta(
            root, TaskMeta(statement=self.statement, algorithm=self.algorithm, recipe=self.recipe, params=self.params)
        )
        return written


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


_HEADER = '''"""Task check (rl-agent recipe: {name}).

Contract: check(prompt, output, reference=None) -> a score in [0, 1], or None when it cannot grade.
Standard library only. The task's parameters are data in PARAMS (a JSON literal), never code.
"""

import json
import re

PARAMS = json.loads({literal})
'''


def params_literal(params: Any) -> str:
    """A JSON string literal (repr of ASCII-only JSON): the parameters can only ever be string values in it."""
    return repr(json.dumps(params, ensure_ascii=True, sort_keys=True))


def render_check(name: str, params: dict[str, Any], body: str) -> str:
    """check.py = fixed header + PARAMS as a JSON string literal + the recipe's fixed body."""
    if not name.isidentifier():
        raise ValueError(f"recipe name {name!r} must be an identifier")
    return _HEADER.format(name=name, literal=params_literal(params)) + "\n" + body.strip() + "\n"


def item(fact: Fact, output: str) -> CheckItem:
    return CheckItem(fact.prompt, output, fact.answer)

"""What every recipe produces (a RecipePlan), how it refuses (RecipeRefused), and the shared pieces:
the bundled facts it builds data from, and the check.py renderer that keeps the task's words as data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects, load_pairs
from rl_agent.kit.planning.recipes.check_runner import CheckItem

CHECK_FILE = "check.py"
TRAIN_FILE = "data/train.jsonl"
HELDOUT_FILE = "data/heldout.jsonl"
EXAMPLES_FILE = "data/examples.jsonl"
NEEDS_CLAUDE = ("Set ANTHROPIC_API_KEY and run without --offline so Claude can write the check and data for it.")


class RecipeRefused(ValueError):
    """The library cannot read the task with certainty; says what it understood and what it would need."""

    def __init__(self, understood: list[str], need: str):
        self.understood = list(understood)
        self.need = need
        self.needs = ["claude"]
        got = "; ".join(self.understood) if self.understood else "no requirement the offline recipes cover"
        super().__init__(f"cannot plan this task offline with certainty. Understood: {got}. "
                         f"Would need: {need}. {NEEDS_CLAUDE}")


@dataclass(frozen=True)
class Reading:
    """One recipe's reading of the task: its parameters and, in plain words, what it understood."""

    recipe: str
    params: dict[str, Any]
    understood: str
    quotes: frozenset[str] = frozenset()  # quote markers this reading accounts for
    clauses: frozenset[int] = frozenset()  # indices of the task's clauses this reading accounts for
    leftover: tuple[tuple[int, frozenset[str]], ...] = ()  # (clause, words in it this reading did not read)
    priority: int = 0
    unsure: str | None = None  # why this reading cannot be planned, said if no other reading absorbs it


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


@dataclass
class RecipePlan:
    """Everything a run needs for one task: data, the check program, its examples, and the check in words."""

    recipe: str
    task: str
    params: dict[str, Any]
    algorithm: Literal["dpo", "grpo"]
    statement: str  # the check in plain words a person can verify
    understood: str
    check_source: str
    train: list[dict]  # DPO: prompt/chosen/rejected/reference; GRPO: prompt/reference
    heldout: list[dict]  # prompt/reference (+ chosen/rejected for DPO)
    good: list[CheckItem]
    bad: list[CheckItem]
    notes: list[str] = field(default_factory=list)

    def write(self, run_dir: str | Path) -> dict[str, Path]:
        """Write check.py, the data and the examples into the run folder (never outside it)."""
        root = Path(run_dir).resolve()
        examples = [{"kind": "good", **g.to_dict()} for g in self.good] + [{"kind": "bad", **b.to_dict()} for b in self.bad]
        files = {CHECK_FILE: self.check_source, TRAIN_FILE: _jsonl(self.train), HELDOUT_FILE: _jsonl(self.heldout),
                 EXAMPLES_FILE: _jsonl(examples)}
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


def render_check(name: str, params: dict[str, Any], body: str) -> str:
    """check.py = fixed header + PARAMS as a JSON string literal (repr of ASCII-only JSON) + the recipe's fixed
    body. The task's words can only ever be string values inside that literal."""
    if not name.isidentifier():
        raise ValueError(f"recipe name {name!r} must be an identifier")
    literal = repr(json.dumps(params, ensure_ascii=True, sort_keys=True))
    return _HEADER.format(name=name, literal=literal) + "\n" + body.strip() + "\n"


def item(fact: Fact, output: str) -> CheckItem:
    return CheckItem(fact.prompt, output, fact.answer)

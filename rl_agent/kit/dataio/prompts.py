"""Prompt files for online RL (GRPO): loading, validation that names file and line, and the bundled tasks.

GRPO needs prompts, not answers: the model writes the answers and the reward grades them. A prompt file
is JSON Lines with a non-empty string `prompt`, an optional `reference` answer (for verifiers that need
one), and, in held-out files, optional `chosen`/`rejected` answers for the length-controlled check. A
preference-pair file (prompt/chosen/rejected) is accepted as is; its `chosen` is taken as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rl_agent.kit.dataio.pairs import PairFileError, iter_jsonl_objects, write_jsonl


@dataclass(frozen=True)
class BuiltinTask:
    """A GRPO task shipped with the kit: its data folder under rl_agent/data, reward and held-out judge."""

    data_dir: str
    reward: str
    heldout_judge: str
    summary: str
    reward_checks_correctness: bool = False  # the reward compares answers with the reference (RLVR)


BUILTIN_TASKS: dict[str, BuiltinTask] = {
    "arithmetic": BuiltinTask(
        "arithmetic",
        "python:rl_agent.runtime.final_number:final_number",
        "python:rl_agent.runtime.correctness:correctness_score",
        "Add three numbers and end the answer with the sum marked '#### N' (checked for correctness).",
        reward_checks_correctness=True,
    ),
    "short_answer": BuiltinTask(
        "short_answer",
        "python:rl_agent.runtime.verifiers:short_answer",
        "terse",
        "Bare short answers in a strict format: one to three words, capitalised, one final period.",
    ),
    "terse": BuiltinTask(
        "terse",
        "terse",
        "python:rl_agent.runtime.verifiers:short_answer",
        "Terse, direct answers: no hedging, no filler openers.",
    ),
}


@dataclass(frozen=True)
class PromptRow:
    prompt: str
    reference: str | None = None
    chosen: str | None = None
    rejected: str | None = None

    def to_dict(self) -> dict[str, str]:
        d = {"prompt": self.prompt}
        for key in ("reference", "chosen", "rejected"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d


def bundled_prompts_path(task: str, split: str) -> Path:
    """`train` or `heldout` split of a built-in GRPO task's data (shipped inside the wheel)."""
    if task not in BUILTIN_TASKS:
        raise ValueError(f"unknown GRPO task {task!r}; expected one of {', '.join(BUILTIN_TASKS)}")
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'heldout'")
    return Path(str(resources.files("rl_agent") / "data" / BUILTIN_TASKS[task].data_dir / f"{split}.jsonl"))


def _optional_text(row: dict, key: str, where: str) -> str | None:
    if key not in row or row[key] is None:
        return None
    if not isinstance(row[key], str) or not row[key].strip():
        raise PairFileError(f"{where}: field {key!r} must be a non-empty string")
    return row[key].strip()


def load_prompts(path: str | Path, *, min_rows: int = 1) -> list[PromptRow]:
    """Read and validate a prompt file; raise PairFileError naming the file and line on any problem."""
    path = Path(path)
    rows: list[PromptRow] = []
    seen: dict[str, int] = {}
    for lineno, where, row in iter_jsonl_objects(
        path, missing="no such prompt file", expected="a JSON object with a 'prompt'"
    ):
        prompt = _optional_text(row, "prompt", where)
        if prompt is None:
            raise PairFileError(f"{where}: missing field 'prompt'")
        chosen, rejected = _optional_text(row, "chosen", where), _optional_text(row, "rejected", where)
        if (chosen is None) != (rejected is None):
            raise PairFileError(
                f"{where}: 'chosen' and 'rejected' come together (the length-controlled check compares them)"
            )
        reference = _optional_text(row, "reference", where) or chosen
        if prompt in seen:
            raise PairFileError(f"{where}: duplicate prompt (first on line {seen[prompt]})")
        seen[prompt] = lineno
        rows.append(PromptRow(prompt, reference, chosen, rejected))
    if len(rows) < min_rows:
        raise PairFileError(f"{path}: {len(rows)} prompts, need at least {min_rows}")
    return rows


def check_no_overlap(train: list[PromptRow], heldout: list[PromptRow], heldout_path: str | Path) -> None:
    """Held-out prompts must be unseen in training, or the before/after measures memorisation."""
    seen = {" ".join(r.prompt.lower().split()) for r in train}
    clash = [r.prompt for r in heldout if " ".join(r.prompt.lower().split()) in seen]
    if clash:
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise PairFileError(f"{heldout_path}: held-out prompt also in training data: {clash[0]!r}{more}")


def write_prompts(path: str | Path, rows: list[PromptRow]) -> None:
    write_jsonl(path, rows)

"""The plan for a run, written for people: what the task is, how it is rewarded, on what data, and when it
counts as a success. Saved as spec.json in the run folder, edited by hand, re-run with `rl-agent run`.

Why a second model on top of RunSpec: RunSpec says how to train; TaskSpec also says why (reward source,
rubric, data plan, success criterion), which is what a person or Claude reviews and edits. `to_run_spec`
compiles it down, so every edit is validated by the same rules as `rl-agent setup`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.registry import DEFAULT_TRACK, TRACKS, TrackName

SPEC_FILE = "spec.json"
TASK_MAX_CHARS = 20_000
BUNDLED_PREFIX = "bundled:"


class TaskSpecError(RlAgentError, ValueError):
    """The spec file cannot be used; the message names the field or the file."""


class RewardPlan(BaseModel):
    """Where the training signal comes from: a program that checks answers, or Claude as a judge."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["verifier", "claude"]
    judge: str = Field(
        description="judge spec in the kit's vocabulary: terse | regex:... | python:... | claude | "
        "check (the run folder's check.py)"
    )
    reason: str = ""


class ModelPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "embedded:tiny-qwen3"
    source: Literal["embedded", "hub", "local"] = "embedded"
    reason: str = ""


class DataPlan(BaseModel):
    """Training data: a bundled set (`bundled:<set>/train`), or a file (relative paths are relative to the
    run folder)."""

    model_config = ConfigDict(extra="forbid")

    origin: Literal["bundled", "rule-generated", "file", "claude-generated"]
    train_file: str
    notes: str = ""


class HeldoutPlan(BaseModel):
    """Prompts never trained on; the before/after is measured here only."""

    model_config = ConfigDict(extra="forbid")

    file: str
    size: int = Field(ge=0, description="number of held-out items when planned")
    notes: str = "no prompt is shared with the training data (checked before training)"


class CheckPlan(BaseModel):
    """The task's own check program (check.py in the run folder), proven on good/bad examples before training.
    `statement` says in plain words what it accepts, so a person can verify the plan does what was asked.
    kind "claude_judge": the check is the Claude grader with `rubric` (a judged task: tone, empathy), and
    `path` is the rubric file it reads; proven on the same examples."""

    model_config = ConfigDict(extra="forbid")

    path: str = "check.py"
    statement: str
    recipe: str = Field(description="the recipe(s) that wrote it ('a+b' combined), 'task_dir' or 'claude'")
    params: dict = Field(default_factory=dict)
    examples: str = "examples.jsonl"
    kind: Literal["program", "claude_judge"] = "program"
    rubric: Optional[str] = Field(None, description="the judge's rubric (kind claude_judge), as written from the task")


class SuccessPlan(BaseModel):
    """When the run counts as a success. `format_regex` (format tasks) must match this share of tuned answers."""

    model_config = ConfigDict(extra="forbid")

    min_pref_accuracy: float = Field(0.9, ge=0, le=1)
    format_regex: Optional[str] = None
    min_format_rate: float = Field(0.8, ge=0, le=1)
    min_check_rate: float = Field(
        0.8, ge=0, le=1, description="share of tuned held-out answers the task check must pass (with a check)"
    )
    description: str = ""


class _TaskSpecBase(BaseModel):
    """A plain-English task turned into a typed, editable plan. Compiles to the pipeline's RunSpec.
    The settings blocks, one per track, are added from the registry (TaskSpec below)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    task: str = Field(min_length=1, max_length=TASK_MAX_CHARS)
    summary: str = Field(min_length=1, max_length=300)
    family: Literal["style", "format", "checkable", "open"]
    planned_by: Literal["recipe", "task_dir", "claude", "rules"] = Field(
        "recipe",
        description="recipe: --recipe; task_dir: a task folder (--task-dir); claude: the Agent SDK "
        "authoring session; rules: a spec written before the recipes (read only)",
    )
    algorithm: TrackName
    algorithm_reason: str = ""
    reward: RewardPlan
    model: ModelPlan = Field(default_factory=ModelPlan)
    rubric: list[str] = Field(default_factory=list)
    check: Optional[CheckPlan] = Field(None, description="the task's own check program; the success measure")
    data: DataPlan
    heldout: HeldoutPlan
    success: SuccessPlan = Field(default_factory=SuccessPlan)
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    needs: list[str] = Field(
        default_factory=list, description="what this plan needs that the offline kit lacks; empty: runnable"
    )

    @field_validator("task", "summary")
    @classmethod
    def _printable(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    # ---- compile -------------------------------------------------------------------------------------
    def to_run_spec(self, base_dir: Path) -> RunSpec:
        """The RunSpec the pipeline runs; data paths resolved against `base_dir` (the run folder)."""
        fields = dict(
            task=self.task,
            algorithm=self.algorithm,
            model=self.model.name,
            model_source=self.model.source,
            model_reason=self.model.reason,
            device=self.device,
            precision=self.precision,
            train_file=str(resolve_data_path(self.data.train_file, base_dir)),
            heldout_file=str(resolve_data_path(self.heldout.file, base_dir)),
            min_pref_accuracy=self.success.min_pref_accuracy,
        )
        if self.check is not None:
            fields["check_file"] = str(resolve_data_path(self.check.path, base_dir))
            fields["check_kind"] = self.check.kind
            fields["min_check_rate"] = self.success.min_check_rate
        for name in TRACKS:
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        return RunSpec(**fields)

    def synced_with(self, run: RunSpec, base_dir: Path) -> "TaskSpec":
        """This plan updated to what the run now uses (after a repair changed run.json), so spec.json stays
        the truth: `rl-agent run` on it then finds nothing changed instead of undoing the repair."""
        data = self.model_dump(mode="json")
        data.update(device=run.device, precision=run.precision)
        data["success"]["min_pref_accuracy"] = run.min_pref_accuracy
        for name in TRACKS:
            if getattr(self, name) is not None:
                data[name] = getattr(run, name).model_dump(mode="json")
        base = Path(base_dir).resolve()
        for section, key, run_key in (("data", "train_file", "train_file"), ("heldout", "file", "heldout_file")):
            target = Path(getattr(run, run_key)).resolve()
            if resolve_data_path(data[section][key], base) != target:
                data[section][key] = str(target.relative_to(base)) if base in target.parents else str(target)
        if run.model != self.model.name:
            data["model"] = {"name": run.model, "source": run.model_source, "reason": run.model_reason}
        return type(self).model_validate(data)

    # ---- file ----------------------------------------------------------------------------------------
    def write(self, path: Path) -> Path:
        """Write as indented JSON via a temp file, so a reader never sees half a spec."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, path: Path) -> "TaskSpec":
        path = Path(path)
        if not path.is_file():
            raise TaskSpecError(f"{path}: no such spec file")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise TaskSpecError(f"{path}: not valid JSON ({e})") from None
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            raise TaskSpecError(f"{path}: {describe_errors(e)}") from None


def _track_blocks() -> dict:
    """One settings block per track: the default track's always present (spec.json files have always had it),
    the others only when the plan uses them."""
    blocks = {}
    for name, track in TRACKS.items():
        if name == DEFAULT_TRACK:
            blocks[name] = (track.settings_cls, Field(default_factory=track.settings_cls))
        else:
            blocks[name] = (
                Optional[track.settings_cls],
                Field(None, description=f"{track.title} settings when algorithm is {name}"),
            )
    return blocks


TaskSpec = create_model("TaskSpec", __base__=_TaskSpecBase, __module__=__name__, **_track_blocks())


def describe_errors(e: ValidationError, limit: int = 3) -> str:
    """Pydantic errors as one line naming each field."""
    parts = [f"{'.'.join(map(str, er['loc'])) or 'spec'}: {er['msg']}" for er in e.errors()[:limit]]
    more = f" (and {len(e.errors()) - limit} more)" if len(e.errors()) > limit else ""
    return "; ".join(parts) + more


def resolve_data_path(ref: str, base_dir: Path) -> Path:
    """`bundled:<set>/<split>` -> the file shipped in the package; relative paths -> inside `base_dir`."""
    if ref.startswith(BUNDLED_PREFIX):
        name = ref[len(BUNDLED_PREFIX) :]
        data_set, _, split = name.partition("/")
        if not re.fullmatch(r"[a-z_]+", data_set) or split not in ("train", "heldout"):
            raise TaskSpecError(f"{ref}: expected bundled:<set>/train or bundled:<set>/heldout")
        path = bundled_pairs_path(split).parent.parent / data_set / f"{split}.jsonl"
        if not path.is_file():
            raise TaskSpecError(f"{ref}: no such bundled data set")
        return path
    p = Path(ref).expanduser()
    return (p if p.is_absolute() else Path(base_dir) / p).resolve()


RUNON_MAX_SHARE = 0.2


def runs_on(answer: str) -> bool:
    """An answer that goes on after a line break: for one-line answer tasks, generation that did not stop."""
    return bool(re.search(r"\n\s*\S", answer.strip()))


def assess_outcome(task: "TaskSpec | None", report: dict) -> dict:
    """The run's verdict (report.json) plus the plan's own checks on the tuned held-out answers:
    the format regex for format tasks (whose success is the format, not the terse judge's figures), and
    that one-line answers end on their own."""
    checks = dict(report["verdict"]["checks"])
    if task is not None and task.check is not None:  # the task's own proven check already decides the verdict
        return {"succeeded": all(checks.values()), "checks": checks}
    if task is not None and task.family == "format":  # the terse judge's checks are not this task's goal
        checks = {k: v for k, v in checks.items() if k.startswith("pref_accuracy")}
    answers = [s["output"] for s in report["after"].get("samples", [])]
    if task is not None and answers:
        if task.success.format_regex:
            rx = re.compile(task.success.format_regex)
            rate = sum(bool(rx.fullmatch(a.strip())) for a in answers) / len(answers)
            checks[f"format rate >= {task.success.min_format_rate}"] = rate >= task.success.min_format_rate
        if task.family in ("style", "format"):
            share = sum(runs_on(a) for a in answers) / len(answers)
            checks[f"answers end on their own (run-on <= {RUNON_MAX_SHARE})"] = share <= RUNON_MAX_SHARE
    return {"succeeded": all(checks.values()), "checks": checks}

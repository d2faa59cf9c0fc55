"""Fault injection for the repair catalogue: each known failure, planted in a real rendered run folder.

Used by tests/e2e/test_repair_*.py and bench/repair.py. Every injector changes only the run folder (its spec,
rendered script, data, model copy or interpreter wrapper), so the failure that follows is the real one,
raised by the real TRL/transformers run, and the repairer must recognise it from the real log.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from rl_agent.agent.repair.loop import LoopResult, run_with_repairs
from rl_agent.agent.repair.repairer import MODEL_COPY, CopyModelIn, Patch, apply_patch, invalidate
from rl_agent.kit.pipeline.driver import Pipeline
from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.planning.task_spec import (
    SPEC_FILE,
    DataPlan,
    HeldoutPlan,
    ModelPlan,
    RewardPlan,
    SuccessPlan,
    TaskSpec,
    resolve_data_path,
)
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.dpo import DPOSettings

TASK = "Make the answers terse and direct: no hedging, no filler."
# Settings that reach held-out preference accuracy 1.0 on the embedded model in 30 steps (measured). One
# checkpoint, at the end: the fault runs measure repairs, not checkpoint selection, and the half-way checkpoint
# (equal to the last on validation, so kept) answered 10 of the 12 test prompts right where the last answers 12.
FAST_DPO = {"max_steps": 30, "learning_rate": 2e-3, "save_steps": 30}
# Fault runs measure repairs, not figures: 12 of the 31 held-out prompts keep each run's evaluation short.
FAULT_HELDOUT_ROWS = 12
HELDOUT_SUBSET = "heldout-subset.jsonl"
LOW_MEMORY_MB = 2400  # batch 16 trains in 2100 MB of data segment on the embedded model; 64 fails in 2600


@dataclass(frozen=True)
class Fault:
    id: str  # the catalogue entry it must be recognised as
    what: str
    inject: Callable[[RunFolder, "Donor"], None]


@dataclass(frozen=True)
class Donor:
    """Checkpoints of a short real training run, for faults that need training output to exist."""

    out_dir: Path | None = None


@dataclass
class FaultResult:
    fault: str
    recognised_as: str | None
    repaired: bool
    attempts: int
    seconds: float
    verdict: bool
    result: LoopResult


# ---- preparing a rendered run -------------------------------------------------------------------------------


def terse_spec(task: str, dpo: dict[str, Any]) -> TaskSpec:
    """The fault runs' plan: DPO on the bundled terse pairs, judged by the offline terse judge, embedded model."""
    held = resolve_data_path("bundled:terse/heldout", Path("."))
    return TaskSpec(
        task=task,
        summary=" ".join(task.split())[:120],
        family="style",
        algorithm="dpo",
        model=ModelPlan(reason="offline: the embedded tiny Qwen3"),
        algorithm_reason="preference pairs exist (bundled terse/hedging pairs)",
        reward=RewardPlan(source="verifier", judge="terse", reason="the offline terse-style judge"),
        data=DataPlan(origin="bundled", train_file="bundled:terse/train"),
        heldout=HeldoutPlan(
            file="bundled:terse/heldout",
            size=sum(1 for x in held.read_text(encoding="utf-8").splitlines() if x.strip()),
        ),
        success=SuccessPlan(
            description="held-out preference accuracy reaches the bar, the terse judge score rises and hedges fall"
        ),
        dpo=DPOSettings.model_validate({**DPOSettings().model_dump(), **dpo}),
    )


def prepare_run(
    root: Path,
    *,
    model_path: Path,
    python: str,
    dpo: dict[str, Any] | None = None,
    task: str = TASK,
    heldout_rows: int | None = FAULT_HELDOUT_ROWS,
) -> RunFolder:
    """A run folder planned from `task`, with the model stage done (the cached embedded model), the data
    copied and the scripts rendered: what `rl-agent new` has before training starts. With `heldout_rows`,
    the plan's held-out file is cut to its first rows (a copy in the run folder, named in spec.json too)."""
    task_spec = terse_spec(task, dpo if dpo is not None else FAST_DPO)
    folder = RunFolder(root)
    if heldout_rows:
        rows = resolve_data_path(task_spec.heldout.file, root).read_text(encoding="utf-8").splitlines(keepends=True)
        root.mkdir(parents=True, exist_ok=True)
        (root / HELDOUT_SUBSET).write_text("".join(rows[:heldout_rows]), encoding="utf-8")
        task_spec.heldout.file, task_spec.heldout.size = HELDOUT_SUBSET, min(heldout_rows, len(rows))
    spec = task_spec.to_run_spec(folder.root)
    state = folder.create(spec)
    task_spec.write(folder.path(SPEC_FILE))
    return render_stages(folder, state, python=python, model_path=model_path)


def render_stages(folder: RunFolder, state, *, python: str, model_path: Path) -> RunFolder:
    """Mark the model stage done with `model_path`, run the data and render stages and save: the run as it
    stands just before training."""
    state.python, state.model_path, state.stages_done = python, str(model_path), ["model"]
    pipe = Pipeline(folder, Console(file=io.StringIO()))
    for stage in ("data", "render"):
        getattr(pipe, f"stage_{stage}")(state)
        state.stages_done.append(stage)
    folder.save(state)
    return folder


def make_donor(root: Path, *, model_path: Path, python: str) -> Donor:
    """Train 2 steps (a checkpoint each) with the standard settings; faults copy these checkpoints."""
    folder = prepare_run(root, model_path=model_path, python=python, dpo={**FAST_DPO, "max_steps": 2, "save_steps": 1})
    state = folder.load()
    Pipeline(folder, Console(file=io.StringIO())).stage_train(state)
    return Donor(folder.path("out"))


# ---- helpers the injectors share ----------------------------------------------------------------------------


def set_spec(folder: RunFolder, rerun_from: str = "render", **changes: Any) -> None:
    """Write a faulty value into the spec, as a person editing run.json would (no validation bypassed)."""
    state = folder.load()
    data = state.spec.model_dump(mode="json")
    for dotted, value in changes.items():
        node, parts = data, dotted.split("__")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    state.spec = RunSpec.model_validate(data)
    invalidate(folder, state, rerun_from)
    folder.save(state)


def edit_script(folder: RunFolder, old: str, new: str, script: str = "train_dpo.py") -> None:
    path = folder.path(script)
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise AssertionError(f"fault injection: {old!r} occurs {text.count(old)} times in {script}")
    path.write_text(text.replace(old, new), encoding="utf-8")


def own_model(folder: RunFolder) -> Path:
    """Give the run its own model copy and re-render the scripts to use it."""
    apply_patch(folder, Patch("fault injection: own model copy", (CopyModelIn(),), "render"))
    _render(folder)
    return folder.path(MODEL_COPY)


def _render(folder: RunFolder) -> None:
    state = folder.load()
    Pipeline(folder, Console(file=io.StringIO())).stage_render(state)
    state.stages_done = [s for s in ("model", "data")] + ["render"]
    folder.save(state)


def _edit_json(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _copy_checkpoints(folder: RunFolder, donor: Donor) -> None:
    if donor.out_dir is None:
        raise AssertionError("this fault needs a donor run with checkpoints")
    out = folder.path("out")
    out.mkdir(exist_ok=True)
    for ckpt in sorted(donor.out_dir.glob("checkpoint-*")):
        shutil.copytree(ckpt, out / ckpt.name)


def _rows(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- the injectors ------------------------------------------------------------------------------------------


def no_pad_token(folder: RunFolder, donor: Donor) -> None:
    _edit_json(own_model(folder) / "tokenizer_config.json", pad_token=None, eos_token=None)


def low_memory(folder: RunFolder, donor: Donor) -> None:
    """A machine with little memory: the interpreter runs under a data-segment limit, and the spec asks for
    a batch that does not fit in it. The limit stays; the repair must make training fit."""
    state = folder.load()
    real = state.python
    wrapper = folder.path("lowmem-python")
    wrapper.write_text(
        f"#!{real}\n"
        "import os, resource, sys\n"
        f"limit = {LOW_MEMORY_MB} * 1024 * 1024\n"
        "resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))\n"
        f"os.execv({real!r}, [{real!r}] + sys.argv[1:])\n",
        encoding="utf-8",
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    state.python = str(wrapper)
    folder.save(state)
    # 4 steps of 64 see about as many pairs as the other faults' 30 steps of 8: 30 steps of 64 would
    # over-train, and the verdict would rightly fail the repaired run on correctness.
    set_spec(folder, dpo__per_device_train_batch_size=64, dpo__max_steps=4, dpo__save_steps=2)


def foreign_lora_targets(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__lora_target_modules=["c_attn", "c_proj"])  # GPT-2's names, not Qwen's


def renamed_argument(folder: RunFolder, donor: Donor) -> None:
    edit_script(folder, "processing_class=tokenizer,", "tokenizer=tokenizer,")


def removed_argument(folder: RunFolder, donor: Donor) -> None:
    edit_script(
        folder, '"max_length": 128,', '"max_length": 128,\n        "max_prompt_length": 64,'
    )  # in CONFIG["trl"]


def tiny_max_length(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__max_length=16)


def tracker_not_installed(folder: RunFolder, donor: Donor) -> None:
    if importlib.util.find_spec("wandb") is not None:
        raise AssertionError("wandb is installed here, so reporting to it would not fail")
    edit_script(folder, "\"report_to\": 'none'", "\"report_to\": 'wandb'")  # set in CONFIG


def loss_weights_mismatch(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__loss_weights=[1.0])


def misspelt_loss_type(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__loss_type=["sigmiod", "sft"])


def heldout_overlap(folder: RunFolder, donor: Donor) -> None:
    state = folder.load()
    leaky = folder.path("heldout-leaky.jsonl")
    leaky.write_text(
        "\n".join(_rows(Path(state.spec.heldout_file)) + _rows(Path(state.spec.train_file))[:3]) + "\n",
        encoding="utf-8",
    )
    set_spec(folder, "data", heldout_file=str(leaky))


def bad_pair_rows(folder: RunFolder, donor: Donor) -> None:
    state = folder.load()
    rows = _rows(Path(state.spec.train_file))
    broken = folder.path("train-broken.jsonl")
    same = json.dumps({"prompt": "What is 1 + 1?", "chosen": "Two.", "rejected": "Two."})
    broken.write_text(
        "\n".join(rows[:10] + ['{"prompt": "cut off mid-line', same] + rows[10:]) + "\n", encoding="utf-8"
    )
    set_spec(folder, "data", train_file=str(broken))


def model_missing(folder: RunFolder, donor: Donor) -> None:
    shutil.rmtree(own_model(folder))


def stale_checkpoint(folder: RunFolder, donor: Donor) -> None:
    _copy_checkpoints(folder, donor)  # trained with LoRA r=16
    set_spec(folder, dpo__lora_r=8, dpo__lora_alpha=16)


def corrupt_checkpoint(folder: RunFolder, donor: Donor) -> None:
    _copy_checkpoints(folder, donor)
    newest = max(folder.path("out").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    weights = newest / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a save cut short


def adapter_missing(folder: RunFolder, donor: Donor) -> None:
    state = folder.load()
    state.stages_done = ["model", "data", "render", "train"]  # a run folder copied without out/ and adapter/
    folder.save(state)


def diverging_learning_rate(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__learning_rate=0.9)


def wrong_eos(folder: RunFolder, donor: Donor) -> None:
    model = own_model(folder)
    _edit_json(model / "tokenizer_config.json", eos_token="<|endoftext|>")
    _edit_json(model / "generation_config.json", eos_token_id=0)


def too_few_steps(folder: RunFolder, donor: Donor) -> None:
    set_spec(folder, dpo__max_steps=2, dpo__save_steps=1)


FAULTS: tuple[Fault, ...] = (
    Fault("missing_pad_token", "model copy with neither pad nor eos token", no_pad_token),
    Fault("out_of_memory", f"batch 64 on a machine with {LOW_MEMORY_MB} MB of data segment", low_memory),
    Fault("lora_targets_not_found", "LoRA targets of another model family (c_attn, c_proj)", foreign_lora_targets),
    Fault("renamed_argument", "script passes tokenizer= (renamed processing_class=)", renamed_argument),
    Fault("removed_argument", 'CONFIG["trl"] passes max_prompt_length (removed from DPOConfig)', removed_argument),
    Fault("empty_after_truncation", "max_length 16: every pair truncated away", tiny_max_length),
    Fault("tracker_not_installed", "script reports to wandb, which is not installed", tracker_not_installed),
    Fault("loss_weights_mismatch", "one loss weight for two loss types", loss_weights_mismatch),
    Fault("unknown_loss_type", "loss type misspelt 'sigmiod'", misspelt_loss_type),
    Fault("heldout_overlap", "held-out file with 3 training prompts in it", heldout_overlap),
    Fault("bad_pair_rows", "training file with a truncated JSON line and an identical pair", bad_pair_rows),
    Fault("model_missing", "the model folder the scripts point at was deleted", model_missing),
    Fault("stale_checkpoint", "checkpoints trained with LoRA r=16, spec now r=8", stale_checkpoint),
    Fault("corrupt_checkpoint", "newest checkpoint's adapter weights truncated", corrupt_checkpoint),
    Fault("adapter_missing", "run marked trained but with no adapter", adapter_missing),
    Fault("loss_diverged", "learning rate 0.9", diverging_learning_rate),
    Fault("generation_never_stops", "eos token set to <|endoftext|>, which the chat never emits", wrong_eos),
    Fault("undertrained", "2 training steps", too_few_steps),
)

NEEDS_DONOR = {"stale_checkpoint", "corrupt_checkpoint"}
# Faults that need two full runs (a verdict-level failure) or a bigger batch: start them first, so parallel
# workers finish together.
SLOW = ("loss_diverged", "out_of_memory", "generation_never_stops", "undertrained", "model_missing")


def run_all(faults: list, workers: int, run: Callable[[Any], Any]) -> list[tuple[Any, Any]]:
    """(fault, result) for each fault, `workers` at a time (the work is subprocesses, so threads suffice); a crash
    in the harness is that fault's result (counted as not repaired), so one broken fault never hides the others."""

    def safe(fault):
        try:
            return fault, run(fault)
        except Exception as e:  # noqa: BLE001
            return fault, e

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(safe, faults))


def slowest_first(faults: tuple[Fault, ...] = FAULTS) -> list[Fault]:
    return sorted(faults, key=lambda f: SLOW.index(f.id) if f.id in SLOW else len(SLOW))


def run_fault(fault: Fault, root: Path, *, model_path: Path, python: str, donor: Donor = Donor()) -> FaultResult:
    """Prepare a run in `root`, inject `fault`, run the repair loop; measure what happened."""
    folder = prepare_run(root, model_path=model_path, python=python)
    fault.inject(folder, donor)
    started = time.time()
    result = run_with_repairs(folder)
    seconds = time.time() - started
    report = folder.path("report.json")
    verdict = report.is_file() and json.loads(report.read_text(encoding="utf-8"))["verdict"]["succeeded"]
    first = result.repairs[0].failure if result.repairs else None
    return FaultResult(fault.id, first, result.ok, result.attempts, seconds, bool(verdict), result)

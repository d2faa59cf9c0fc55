"""Known failures of small-model TRL runs: how each is recognised in the run's own output, and its fix.

Each entry pairs a regex over the symptoms (the error line, the new part of train.log, and when the run was
evaluated, the tuned model's held-out answers) with a fix that returns a Patch (see repairer.py), or None
when the run cannot be fixed from inside its folder. Entries are tried in order; errors before verdicts.
Every entry has a fault injector in faults.py and a test that runs the real pipeline with the fault in it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rl_agent.agent.repair.repairer import (
    MODEL_COPY,
    CopyModelIn,
    EditFile,
    EditJson,
    MoveAside,
    Patch,
    SetSpec,
    WriteFile,
)
from rl_agent.kit.pipeline.driver import MIN_HELDOUT_PAIRS, MIN_TRAIN_PAIRS
from rl_agent.kit.pipeline.run_folder import RunFolder, RunState
from rl_agent.kit.planning.task_spec import TaskSpec
from rl_agent.kit.settings import LORA_TARGETS
from rl_agent.kit.tracks.registry import get_track

CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")
RUNON_SHARE = 0.2  # more than this share of tuned answers running past the end of the turn is a failure
DIVERGED_LR = 0.05  # no LoRA fine-tune of a language model wants a learning rate this high


@dataclass(frozen=True)
class Symptoms:
    """What one failed attempt left behind, as text the catalogue's regexes search."""

    error: str  # the one-line error (StageError, data error) or the failed verdict
    log: str = ""  # what this attempt appended to train.log
    stage: str | None = None  # the stage that failed; None when the run completed but did not succeed
    tuned_answers: tuple[str, ...] = ()
    max_new_tokens: int = 0

    @property
    def text(self) -> str:
        answers = "".join(f"tuned answer: {json.dumps(a, ensure_ascii=False)}\n" for a in self.tuned_answers)
        return f"error: {self.error}\n{self.log}\n{answers}"


@dataclass(frozen=True)
class Context:
    """Everything a fix may look at. Fixes only read here; they change things by returning a Patch."""

    folder: RunFolder
    state: RunState
    symptoms: Symptoms
    match: re.Match
    task: TaskSpec | None = None


@dataclass(frozen=True)
class KnownFailure:
    id: str
    title: str
    pattern: re.Pattern
    cause: str  # the diagnosis, in a sentence a person can check
    remedy: str  # what the fix does, in a sentence
    fix: Callable[[Context], Patch | None]
    applies: Callable[[Symptoms, re.Match], bool]


def diagnose(symptoms: Symptoms, catalogue: tuple[KnownFailure, ...]) -> tuple[KnownFailure, re.Match] | None:
    """The first catalogue entry whose pattern matches the symptoms (and whose extra condition holds)."""
    text = symptoms.text
    for entry in catalogue:
        for match in entry.pattern.finditer(text):
            if entry.applies(symptoms, match):
                return entry, match
    return None


# ---- reading the model folder (stdlib only: the CLI may not have torch) -----------------------------------


def model_dir(ctx: Context) -> Path:
    return Path(ctx.state.model_path or ctx.state.spec.model)


def special_tokens(model: Path) -> dict[str, int]:
    """Added (special) tokens of a fast tokenizer: content -> id."""
    try:
        data = json.loads((model / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {t["content"]: t["id"] for t in data.get("added_tokens", []) if "content" in t and "id" in t}


def weight_names(model: Path) -> list[str]:
    """Tensor names of a safetensors model (reads the header only), or of its shard index."""
    index = model / "model.safetensors.index.json"
    if index.is_file():
        return list(json.loads(index.read_text(encoding="utf-8")).get("weight_map", {}))
    path = model / "model.safetensors"
    if not path.is_file():
        return []
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    return [k for k in header if k != "__metadata__"]


def read_rows(path: Path) -> list[tuple[int, str]]:
    return [(i, line) for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def run_rel(ctx: Context, path: Path) -> str:
    return str(path.relative_to(ctx.folder.root))


def settings_key(ctx: Context) -> str:
    """Which spec section holds the training settings: the one named after the run's track."""
    return ctx.state.spec.algorithm


def failing_script(ctx: Context) -> str:
    track = get_track(ctx.state.spec.algorithm)
    return track.eval_script if ctx.symptoms.stage == "evaluate" else track.train_script


# ---- fixes --------------------------------------------------------------------------------------------------


def fix_pad_token(ctx: Context) -> Patch | None:
    tokens = special_tokens(model_dir(ctx))
    cfg_path = model_dir(ctx) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
    changes: dict[str, str] = {}
    eos = cfg.get("eos_token")
    if not eos and CHATML_TOKENS[1] in tokens:
        changes["eos_token"] = eos = CHATML_TOKENS[1]
    pad = next((t for t in ("<|endoftext|>", "<pad>", "[PAD]") if t in tokens), eos)
    if not pad:
        return None
    changes["pad_token"] = pad
    return Patch(
        f"set the tokenizer's pad token to {pad}" + (f" and its eos token to {eos}" if "eos_token" in changes else ""),
        (CopyModelIn(), EditJson(f"{MODEL_COPY}/tokenizer_config.json", changes)),
        "render",
    )


def _runs_on(s: Symptoms, m: re.Match) -> bool:
    if not s.tuned_answers or s.stage is not None:
        return False
    if re.search(r"task check pass rate >= [\d.]+: yes", s.error):
        return False  # the task's own proven check passes the tuned answers: their line breaks are the task's format
    runon = sum(bool(re.search(r"\n\s*\S", a.strip())) for a in s.tuned_answers)
    return runon / len(s.tuned_answers) > RUNON_SHARE


def fix_eos(ctx: Context) -> Patch | None:
    tokens = special_tokens(model_dir(ctx))
    cfg_path = model_dir(ctx) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}
    end = CHATML_TOKENS[1]
    if end not in tokens or cfg.get("eos_token") == end:
        return None  # the end-of-turn token is already the eos: the run-on is learnt, not configured
    actions = [CopyModelIn(), EditJson(f"{MODEL_COPY}/tokenizer_config.json", {"eos_token": end})]
    if (model_dir(ctx) / "generation_config.json").is_file():
        actions.append(EditJson(f"{MODEL_COPY}/generation_config.json", {"eos_token_id": tokens[end]}))
    own = ctx.folder.root in model_dir(ctx).resolve().parents  # already the run's copy: scripts stay as they are
    return Patch(
        f"make the chat template's end-of-turn token {end} the eos token, so generation stops at the end of the answer",
        tuple(actions),
        "evaluate" if own else "render",
    )


def fix_lora_targets(ctx: Context) -> Patch | None:
    """Every linear layer of the model, by PEFT's all-linear, not a subset of a fixed name list: Phi-3's fused
    qkv_proj/gate_up_proj or GPT-2's c_attn are the model's attention and MLP, and keeping only the names a
    Llama-style list shares with them (o_proj, down_proj) would silently drop them."""
    leaves = sorted({n.rsplit(".", 2)[-2] for n in weight_names(model_dir(ctx)) if n.endswith(".weight") and "." in n})
    own = [t for t in leaves if "norm" not in t and not t.startswith(("ln_", "embed", "wte", "wpe", "lm_head"))]
    return Patch(
        f"target every linear layer of the model ({LORA_TARGETS}: {', '.join(own) or 'its own names'})",
        (SetSpec(f"{settings_key(ctx)}.lora_targets", LORA_TARGETS),),
        "render",
    )


# Arguments TRL/transformers renamed (old -> new) or removed outright with a safe default (new None).
RENAMED_ARGS = {
    "tokenizer": "processing_class",
    "evaluation_strategy": "eval_strategy",
    "no_cuda": "use_cpu",
    "max_seq_length": "max_length",
}
REMOVED_ARGS = {
    "max_prompt_length",
    "max_completion_length",
    "max_target_length",
    "is_encoder_decoder",
    "padding_value",
    "label_pad_token_id",
    "generate_during_eval",
    "use_logits_to_keep",
    "overwrite_output_dir",
    "logging_dir",
    "fp16_backend",
    "push_to_hub_token",
    "use_mps_device",
    "tpu_num_cores",
}
_UNEXPECTED_KW = r"(?P<cls>\w+)\.__init__\(\) got an unexpected keyword argument '(?P<arg>\w+)'"


def fix_renamed_arg(ctx: Context) -> Patch | None:
    old = ctx.match.group("arg")
    new = RENAMED_ARGS[old]
    return Patch(
        f"{ctx.match.group('cls')} takes {new}= (renamed from {old}= in this TRL/transformers)",
        # a keyword argument (old=) or an entry of CONFIG["trl"] ("old": ...), handed to the config as is
        (EditFile(failing_script(ctx), rf'(?<![\w.]){old}(?=\s*=(?!=)|":)', new),),
        "train",
    )


def fix_removed_arg(ctx: Context) -> Patch | None:
    arg = ctx.match.group("arg")
    return Patch(
        f"drop {arg}=, which this TRL/transformers no longer has (its default behaviour applies)",
        (EditFile(failing_script(ctx), rf'[ \t]*(?:\b{arg}=|"{arg}":)[^,\n]*,[ \t]*(\n)?', ""),),
        "train",
    )


def fix_max_length(ctx: Context) -> Patch | None:
    """Raise max_length to an upper bound of the longest pair: byte-level BPE never makes more tokens
    than bytes, plus a margin for the chat template."""
    cur = ctx.state.spec.dpo.max_length
    longest = 0
    for _, line in read_rows(ctx.folder.path("train.jsonl")):
        row = json.loads(line)
        size = len(row["prompt"].encode()) + max(len(row["chosen"].encode()), len(row["rejected"].encode()))
        longest = max(longest, size + 32)
    new = max(cur * 2, 64 * math.ceil(longest / 64))
    limit = _max_positions(model_dir(ctx))
    if limit:
        new = min(new, limit)
    if new <= cur:
        return None
    return Patch(
        f"raise max_length {cur} -> {new}: every pair was truncated away (longest pair about {longest} tokens at most)",
        (SetSpec("dpo.max_length", new),),
        "render",
    )


def _max_positions(model: Path) -> int | None:
    try:
        return int(json.loads((model / "config.json").read_text(encoding="utf-8"))["max_position_embeddings"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fix_report_to(ctx: Context) -> Patch | None:
    return Patch(
        "report to no tracker: the tracker's package is not installed and the run does not need it",
        # the rendered scripts set it in CONFIG ("report_to": ...); hand-edited ones may pass it inline.
        (EditFile(failing_script(ctx), r"(report_to=|\"report_to\": )(\"[^\"]*\"|'[^']*'|\[[^\]]*\])", r'\1"none"'),),
        "train",
    )


def fix_loss_weights(ctx: Context) -> Patch | None:
    n = len(ctx.state.spec.dpo.loss_type)
    return Patch(f"one weight per loss type ({n}), all 1.0", (SetSpec("dpo.loss_weights", [1.0] * n),), "render")


def fix_loss_type(ctx: Context) -> Patch | None:
    bad = ctx.match.group("bad")
    known = re.findall(r"'([\w-]+)'", ctx.match.group("known"))
    close = difflib.get_close_matches(bad, known, n=1, cutoff=0.6)
    good = close[0] if close else "sigmoid"
    types = [good if t == bad else t for t in ctx.state.spec.dpo.loss_type]
    return Patch(f"loss type {bad!r} does not exist; use {good!r}", (SetSpec("dpo.loss_type", types),), "render")


def _clean_copy(ctx: Context, src: Path, name: str, keep: Callable[[dict], bool], minimum: int) -> WriteFile | None:
    """Rows of `src` that are valid pairs and pass `keep`, as a new file in the run folder (None: too few)."""
    seen: set[tuple[str, str, str]] = set()
    rows: list[str] = []
    for _, line in read_rows(src):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) and row[k].strip() for k in ("prompt", "chosen", "rejected")
        ):
            continue
        key = (row["prompt"].strip(), row["chosen"].strip(), row["rejected"].strip())
        if key[1] == key[2] or key in seen or not keep(row):
            continue
        seen.add(key)
        rows.append(json.dumps(row, ensure_ascii=False))
    if len(rows) < minimum:
        return None
    return WriteFile(name, "\n".join(rows) + "\n")


def fix_overlap(ctx: Context) -> Patch | None:
    spec = ctx.state.spec
    train_prompts = {_norm(json.loads(line)["prompt"]) for _, line in read_rows(Path(spec.train_file))}
    write = _clean_copy(
        ctx,
        Path(spec.heldout_file),
        "heldout.clean.jsonl",
        lambda r: _norm(r["prompt"]) not in train_prompts,
        MIN_HELDOUT_PAIRS,
    )
    if write is None:
        return None
    dest = str(ctx.folder.path(write.path))
    return Patch(
        "hold out only prompts never seen in training (overlapping ones dropped from a copy)",
        (write, SetSpec("heldout_file", dest)),
        "data",
    )


def fix_bad_rows(ctx: Context) -> Patch | None:
    bad = Path(ctx.match.group("file"))
    spec = ctx.state.spec
    which = next((k for k in ("train_file", "heldout_file") if Path(getattr(spec, k)) == bad), None)
    if which is None:
        return None
    name = "train.clean.jsonl" if which == "train_file" else "heldout.clean.jsonl"
    write = _clean_copy(ctx, bad, name, lambda r: True, MIN_TRAIN_PAIRS if which == "train_file" else MIN_HELDOUT_PAIRS)
    if write is None:
        return None
    return Patch(
        f"train on a copy of {bad.name} without its unusable rows (bad JSON, empty or missing fields, "
        "identical answers, duplicates)",
        (write, SetSpec(which, str(ctx.folder.path(name)))),
        "data",
    )


def fix_model_missing(ctx: Context) -> Patch | None:
    if ctx.state.spec.model_source != "embedded":
        return None  # a hub id or local path that is wrong needs a person to correct it
    return Patch(
        "the model folder is gone: re-run the model stage (rebuilds or reuses the embedded model)", (), "model"
    )


def fix_stale_checkpoint(ctx: Context) -> Patch | None:
    return Patch(
        "the checkpoints were trained with other LoRA settings: move them aside and train afresh",
        (MoveAside("out/checkpoint-*"),),
        "train",
    )


def fix_corrupt_checkpoint(ctx: Context) -> Patch | None:
    m = re.findall(r"resuming from (\S+)", ctx.symptoms.log)
    if m and Path(m[-1]).name.startswith("checkpoint-"):
        return Patch(
            f"{Path(m[-1]).name} is unreadable (a save cut short): move it aside and resume from the one before",
            (MoveAside(f"out/{Path(m[-1]).name}"),),
            "train",
        )
    return Patch(
        "a checkpoint is unreadable: move the checkpoints aside and train afresh",
        (MoveAside("out/checkpoint-*"),),
        "train",
    )


def fix_adapter_missing(ctx: Context) -> Patch | None:
    return Patch("the trained adapter is missing: re-run training (it resumes from its last checkpoint)", (), "train")


def fix_oom(ctx: Context) -> Patch | None:
    key = settings_key(ctx)
    s = getattr(ctx.state.spec, key)
    # GRPO scores whole groups: its batch stays a multiple of num_generations.
    floor = getattr(s, "num_generations", 1)
    if s.per_device_train_batch_size > floor:
        new = max(floor, (s.per_device_train_batch_size // 4) // floor * floor)
        accum = s.gradient_accumulation_steps * max(1, s.per_device_train_batch_size // new)
        return Patch(
            f"out of memory: batch {s.per_device_train_batch_size} -> {new} with gradient accumulation {s.gradient_accumulation_steps} -> "
            f"{accum} (same effective batch)",
            (SetSpec(f"{key}.per_device_train_batch_size", new), SetSpec(f"{key}.gradient_accumulation_steps", accum)),
            "render",
        )
    length = get_track(ctx.state.spec.algorithm).length_setting
    if getattr(s, length) > 64:
        return Patch(
            f"out of memory at the smallest batch: {length} {getattr(s, length)} -> {getattr(s, length) // 2}",
            (SetSpec(f"{key}.{length}", getattr(s, length) // 2),),
            "render",
        )
    if not s.gradient_checkpointing:
        return Patch(
            "out of memory at the smallest batch: turn on gradient checkpointing",
            (SetSpec(f"{key}.gradient_checkpointing", True),),
            "render",
        )
    return None


_LOSS = re.compile(r"'loss': '([^']+)'")
_LR = re.compile(r"'learning_rate': '([^']+)'")


def _floats(pattern: re.Pattern, text: str) -> list[float]:
    out = []
    for v in pattern.findall(text):
        try:
            out.append(float(v))
        except ValueError:
            out.append(float("nan"))
    return out


def _diverged(s: Symptoms, m: re.Match) -> bool:
    if (
        "non-finite loss" in s.error
        or "stopped early: " in s.error
        or re.search(r"'(loss|grad_norm)': '(nan|inf|-inf)'", s.log)
    ):
        return True
    if s.stage is not None:
        return False
    losses, lrs = _floats(_LOSS, s.log), _floats(_LR, s.log)
    return bool(lrs and max(lrs) >= DIVERGED_LR) or bool(len(losses) >= 2 and losses[-1] > 1.5 * losses[0])


def fix_diverged(ctx: Context) -> Patch | None:
    key = settings_key(ctx)
    cur = getattr(ctx.state.spec, key).learning_rate
    default = get_track(key).settings_cls.for_model(ctx.state.spec.model_source, ctx.state.spec.device).learning_rate
    plan = getattr(ctx.task, key, None) if ctx.task else None
    planned = plan.learning_rate if plan is not None else default
    new = min(cur / 10, planned if planned < DIVERGED_LR else default)
    return Patch(
        f"training diverged: learning rate {cur:g} -> {new:g}, from scratch (the checkpoints are poisoned)",
        (SetSpec(f"{key}.learning_rate", new), MoveAside("out/checkpoint-*")),
        "render",
    )


def fix_undertrained(ctx: Context) -> Patch | None:
    key = settings_key(ctx)
    cur = getattr(ctx.state.spec, key).max_steps
    new = cur * 2
    if new > 1_000_000:
        return None
    return Patch(
        f"{ctx.match.group(1)} below the bar with a healthy loss: train longer, {cur} -> {new} steps "
        "(continuing from the last checkpoint)",
        (SetSpec(f"{key}.max_steps", new),),
        "render",
    )


def _not_diverged(s: Symptoms, m: re.Match) -> bool:
    return s.stage is None and not _diverged(s, m)


# ---- the catalogue ------------------------------------------------------------------------------------------


def _entry(
    id: str,
    title: str,
    pattern: str,
    cause: str,
    remedy: str,
    fix: Callable[[Context], Patch | None],
    applies: Callable[[Symptoms, re.Match], bool] | None = None,
) -> KnownFailure:
    return KnownFailure(id, title, re.compile(pattern), cause, remedy, fix, applies or (lambda s, m: True))


CATALOGUE: tuple[KnownFailure, ...] = (
    _entry(
        "missing_pad_token",
        "Pad token missing",
        r"The specified `pad_token` \('None'\) is not found in the vocabulary|Asking to pad but the tokenizer "
        r"does not have a padding token",
        "the tokenizer has neither a pad token nor an eos token to pad with",
        "set pad_token (and eos_token if missing) in the run's copy of tokenizer_config.json",
        fix_pad_token,
    ),
    _entry(
        "out_of_memory",
        "Out of memory",
        r"DefaultCPUAllocator: can't allocate memory|CUDA out of memory|OutOfMemoryError|\bMemoryError\b",
        "a training batch does not fit in memory",
        "batch / 4 with 4x gradient accumulation (same effective batch); at the smallest batch halve the "
        "max length, then turn on gradient checkpointing",
        fix_oom,
    ),
    _entry(
        "lora_targets_not_found",
        "LoRA target modules not in the model",
        r"Target modules \{(?P<mods>[^}]*)\} not found in the base model",
        "the LoRA target module names belong to another model family",
        "target the projection layers the model's weights actually have (read from the safetensors header), "
        "else all-linear",
        fix_lora_targets,
    ),
    _entry(
        "renamed_argument",
        "Argument renamed between TRL/transformers versions",
        _UNEXPECTED_KW,
        "the script uses an argument name this TRL/transformers renamed",
        "rename the argument in the failing script (tokenizer= -> processing_class=, evaluation_strategy= -> "
        "eval_strategy=, ...)",
        fix_renamed_arg,
        lambda s, m: m.group("arg") in RENAMED_ARGS,
    ),
    _entry(
        "removed_argument",
        "Argument removed between TRL/transformers versions",
        _UNEXPECTED_KW,
        "the script passes an argument this TRL/transformers no longer has",
        "drop the argument from the failing script (its default applies)",
        fix_removed_arg,
        lambda s, m: m.group("arg") in REMOVED_ARGS,
    ),
    _entry(
        "empty_after_truncation",
        "Empty dataset after filtering (prompts longer than max_length)",
        r"num_samples should be a positive integer value, but got num_samples=0",
        "max_length is shorter than the prompts, so TRL dropped every pair as fully truncated",
        "raise max_length to an upper bound of the longest pair (bytes + template), within the model's positions",
        fix_max_length,
    ),
    _entry(
        "tracker_not_installed",
        "Missing package (experiment tracker)",
        r"(?P<cb>\w+)Callback requires (?P<pkg>[\w-]+) to be installed|No module named "
        r"'(?P<mod>wandb|tensorboard|tensorboardX|mlflow|comet_ml|clearml|neptune|dvclive|swanlab)'",
        "the script reports to a tracker whose package is not installed",
        'report_to="none" in the failing script',
        fix_report_to,
    ),
    _entry(
        "loss_weights_mismatch",
        "loss_weights do not match loss_type",
        r"`loss_weights` must have the same length as `loss_type`",
        "there must be one loss weight per DPO loss type",
        "one weight of 1.0 per loss type",
        fix_loss_weights,
    ),
    _entry(
        "unknown_loss_type",
        "Unknown DPO loss type",
        r"Unknown loss type: (?P<bad>[\w-]+)\. Should be one of \[(?P<known>[^\]]*)\]",
        "a DPO loss type name is misspelt or not in this TRL",
        "the closest valid loss type from TRL's own list (else sigmoid)",
        fix_loss_type,
    ),
    _entry(
        "heldout_overlap",
        "Held-out set overlaps training",
        r"held-out prompt also in training data",
        "some held-out prompts are also training prompts, so the before/after would measure memory",
        "hold out a copy without the overlapping prompts (at least 3 must remain)",
        fix_overlap,
    ),
    _entry(
        "bad_pair_rows",
        "Unusable rows in a pair file",
        r"(?m)^error: (?P<file>.+?):(?P<line>\d+): (not valid JSON|expected a JSON object|missing field|"
        r"field '\w+' (must be a string|is empty)|'chosen' and 'rejected' are identical|duplicate of line)",
        "a pair file has rows that cannot be trained on",
        "train on a copy without the unusable rows (enough must remain)",
        fix_bad_rows,
    ),
    _entry(
        "model_missing",
        "Model folder missing",
        r"is not a local folder and is not a valid model identifier|Repo id must be in the form|"
        r"Incorrect path_or_model_id|Can't load (the )?(tokenizer|configuration) for",
        "the model folder the scripts point at does not exist (a cleared cache or a moved run)",
        "re-run the model stage (embedded model only; a wrong hub id or path needs a person)",
        fix_model_missing,
    ),
    _entry(
        "stale_checkpoint",
        "Checkpoint from other settings",
        r"size mismatch for [\w.]*lora_[AB][\w.]*: copying a param with shape",
        "training resumed from a checkpoint made with other LoRA settings",
        "move the checkpoints into .aside/ and train afresh",
        fix_stale_checkpoint,
    ),
    _entry(
        "corrupt_checkpoint",
        "Unreadable checkpoint",
        r"SafetensorError|Error while deserializing header|PytorchStreamReader failed|invalid load key",
        "the newest checkpoint is truncated or corrupt (a save cut short)",
        "move that checkpoint into .aside/ and resume from the one before",
        fix_corrupt_checkpoint,
        lambda s, m: "resume_from_checkpoint" in s.log or "resuming from" in s.log,
    ),
    _entry(
        "adapter_missing",
        "No trained adapter at evaluation",
        r"no trained adapter; run the training script first",
        "evaluation found no adapter (training output removed or never written)",
        "re-run training (it resumes from its last checkpoint)",
        fix_adapter_missing,
    ),
    _entry(
        "loss_diverged",
        "NaN or exploding loss",
        r"non-finite loss|stopped early: loss exploding|'loss': '[^']+'",
        "the loss went non-finite or blew up: the learning rate is far too high",
        "learning rate / 10 (at most the planned one), checkpoints moved aside, train afresh",
        fix_diverged,
        _diverged,
    ),
    _entry(
        "generation_never_stops",
        "Generation that never stops",
        r"tuned answer: ",
        "tuned answers run past the end of the turn: the eos token is not the chat template's end-of-turn token",
        "make the end-of-turn token (<|im_end|>) the eos token of the run's model copy",
        fix_eos,
        _runs_on,
    ),
    _entry(
        "undertrained",
        "Undertrained (accuracy below the bar)",
        r"(pref_accuracy|format rate|judge_score) >= [\d.]+: no",
        "the loss is healthy but held-out preference accuracy (or the format rate, or the style judge) is below "
        "the bar: too few steps",
        "double the steps, continuing from the last checkpoint",
        fix_undertrained,
        _not_diverged,
    ),
)


def describe_catalogue(catalogue: tuple[KnownFailure, ...] = CATALOGUE) -> str:
    """The catalogue as Markdown, for people and for Claude (rl_agent/prompts/agent_repair_catalogue.md)."""
    lines = [
        "# Known failures the deterministic repairer fixes",
        "",
        "rl-agent tries these before anything else; each is recognised by a regex over the error line, the",
        "new part of train.log and (for completed runs) the tuned model's held-out answers. A failure that",
        "matches none of them is yours to diagnose.",
        "",
    ]
    for e in catalogue:
        lines += [
            f"## {e.title} (`{e.id}`)",
            "",
            f"- Cause: {e.cause}.",
            f"- Recognised by: `` {e.pattern.pattern} ``",
            f"- Fix: {e.remedy}.",
            "",
        ]
    return "\n".join(lines)

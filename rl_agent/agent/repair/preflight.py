"""Preflight: check what the trainer will be given before any process starts, and fix what is safe to fix.

Why: a table from error text to fix only fixes failures someone foresaw, and only after a run failed. The
settings and data a trainer accepts are known in advance, so checking them by class (values in range,
counts compatible, LoRA targets present in the model, max_length against the data's token lengths, data
columns present or mappable, scripts that compile, an interpreter that exists, no file shadowing a library)
catches unforeseen mistakes in seconds. Each finding is one line naming the setting or file:line and what
to change; a finding with a safe fix carries a Patch, applied and logged like every repair.

CONFIG is read with `ast` from the rendered script (a literal dict at its top); before the render stage it
is read from what the spec would render. The model is read cheaply: config.json and safetensors headers.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rl_agent.agent.repair.catalogue import weight_names
from rl_agent.agent.repair.repairer import EditFile, MoveAside, Patch, PatchRefused, SetSpec, WriteFile, apply_patch
from rl_agent.agent.repair.rerender import (
    diff_summary,
    find_drift,
    render_expected,
    rerender_patch,
    script_names,
    syntax_error_line,
)
from rl_agent.errors import RlAgentError
from rl_agent.kit.pipeline.render import py_literal
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunState
from rl_agent.kit.planning.task_spec import TaskSpec
from rl_agent.kit.settings import LORA_TARGETS
from rl_agent.kit.tracks.registry import get_track

# Learning rates a LoRA fine-tune can use: above the ceiling the loss diverges (measured on the embedded
# model: 0.05 and up blow up); fp16 overflows earlier. Below the floor nothing is learnt.
LR_CEILING = {"fp32": 0.05, "bf16": 0.05, "fp16": 0.01}
LR_FLOOR = 1e-7
TEMPLATE_TOKENS = 16  # chat-template tokens around a prompt and an answer (ChatML: about 10)
# Libraries the rendered scripts import (directly or through TRL): a .py file or package of the same name in
# the run folder comes first on the script's sys.path and breaks the import.
SHADOWED = (
    "datasets",
    "trl",
    "transformers",
    "peft",
    "torch",
    "accelerate",
    "numpy",
    "safetensors",
    "tokenizers",
    "huggingface_hub",
    "matplotlib",
    "jinja2",
    "yaml",
    "json",
    "math",
    "os",
    "sys",
    "argparse",
    "pathlib",
    "random",
    "time",
    "re",
    "typing",
    "importlib",
    "inspect",
    "logging",
    "copy",
    "functools",
    "dataclasses",
)
COLUMN_ALIASES = {
    "prompt": ("prompt", "question", "instruction", "input", "query", "context"),
    "chosen": ("chosen", "good", "positive", "preferred", "answer", "output", "response", "accepted"),
    "rejected": ("rejected", "bad", "negative", "dispreferred", "rejected_answer", "rejected_response"),
}


@dataclass(frozen=True)
class Finding:
    id: str  # the failure class (a catalogue id where it is the same failure, caught before it happens)
    title: str
    where: str  # the setting or file:line
    problem: str
    change: str  # what to change, in words
    patch: Patch | None = None  # the safe fix, if there is one
    apply: Callable[[RunFolder], list[str]] | None = None  # a fix that is not a Patch (e.g. the interpreter)
    blocking: bool = True  # False: worth saying, but the run may go ahead
    notes: tuple[str, ...] = ()  # shown with the repair (e.g. the diff of a hand edit)

    @property
    def line(self) -> str:
        return f"preflight: {self.where}: {self.problem}; {self.change}"

    @property
    def fixable(self) -> bool:
        return self.patch is not None or self.apply is not None


@dataclass
class Config:
    """A script's CONFIG dict and the line of each top-level and nested key."""

    script: str
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        return (
            f"{self.script}:{self.lines[key]} CONFIG[{key!r}]"
            if key in self.lines
            else f"{self.script} CONFIG[{key!r}]"
        )


# ---- reading ------------------------------------------------------------------------------------------------


def parse_config(text: str, script: str) -> Config | None:
    """CONFIG from a script's source, without running it; None if absent or not a literal."""
    try:
        tree = ast.parse(text, script)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONFIG" for t in node.targets):
            try:
                values = ast.literal_eval(node.value)
            except ValueError:
                return None
            if isinstance(values, dict) and isinstance(values.get("trl"), dict):
                values = {**values, **values["trl"]}  # the trainer config's arguments, read by their own names
            lines: dict[str, int] = {}
            for d in ast.walk(node.value):
                if isinstance(d, ast.Dict):
                    for k, v in zip(d.keys, d.values):
                        if isinstance(k, ast.Constant) and isinstance(k.value, str):
                            lines.setdefault(k.value, v.lineno)
            return Config(script, values, lines)
    return None


def model_folder(state: RunState) -> Path | None:
    p = Path(state.model_path or state.spec.model)
    return p if p.is_dir() else None


def lora_leaves(model: Path) -> set[str]:
    """Names of the model's linear layers that LoRA can target (from the safetensors header, no load)."""
    return {n.rsplit(".", 2)[-2] for n in weight_names(model) if n.endswith(".weight") and n.count(".") >= 2}


def load_tokenizer(model: Path):
    """The fast tokenizer alone (tokenizers library: no model, no transformers import)."""
    path = model / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(path))
    except Exception:  # noqa: BLE001 - a tokenizer we cannot read is the trainer's error to report
        return None


def max_positions(model: Path) -> int | None:
    try:
        return int(json.loads((model / "config.json").read_text(encoding="utf-8"))["max_position_embeddings"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ---- checks -------------------------------------------------------------------------------------------------


def check_run(folder: RunFolder, task: TaskSpec | None = None) -> list[Finding]:
    """Everything preflight finds in the run, in the order to fix it (environment, scripts, data, CONFIG)."""
    state = folder.load()
    findings = check_environment(folder, state)
    findings += check_scripts_compile(folder, state)
    if any(f.id == "script_does_not_compile" for f in findings):
        return findings  # CONFIG cannot be read until the script compiles again
    findings += check_data_columns(folder, state)
    findings += check_config(folder, state, task)
    return findings


def rerun_stage(state: RunState, latest: str) -> str:
    """Re-run from `latest` or from the first unfinished stage, whichever comes first."""
    pending = next((s for s in STAGES if s not in state.stages_done), "report")
    return min(latest, pending, key=STAGES.index)


def check_environment(folder: RunFolder, state: RunState) -> list[Finding]:
    out = []
    py = state.python
    if py and not Path(py).exists():
        here = sys.executable
        ok = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "trl", "peft", "datasets"))

        def use_this_python(folder: RunFolder) -> list[str]:
            st = folder.load()
            old, st.python = st.python, here
            folder.save(st)
            return [f"run.json python: {old} -> {here}"]

        out.append(
            Finding(
                "python_missing",
                "Training interpreter missing",
                "run.json python",
                f"the interpreter {py} does not exist (a virtual environment deleted or moved)",
                f"use {here}, which has the training packages"
                if ok
                else "point run.json's python at an interpreter with torch, transformers, trl, peft, datasets",
                apply=use_this_python if ok else None,
            )
        )
    model = model_folder(state)
    if model is not None and "model" in state.stages_done:
        lost = [n for n in ("config.json", "tokenizer_config.json") if not (model / n).is_file()]
        if not weight_names(model) and not any(model.glob("*.bin")):
            lost.append("model weights")
        if lost:
            embedded = state.spec.model_source == "embedded"
            out.append(
                Finding(
                    "model_incomplete",
                    "Model folder incomplete",
                    str(model),
                    f"the model folder has no {', '.join(lost)}",
                    "re-run the model stage (the embedded model is rebuilt or reused from the cache)"
                    if embedded
                    else "restore the model folder or point the spec at a complete one",
                    patch=Patch(f"the model folder lacks {', '.join(lost)}: re-run the model stage", (), "model")
                    if embedded
                    else None,
                )
            )
    for name in SHADOWED:
        hits = [
            p
            for p in (folder.path(f"{name}.py"), folder.path(name))
            if p.exists() and (p.suffix == ".py" or (p / "__init__.py").is_file())
        ]
        for hit in hits:
            rel = hit.name
            out.append(
                Finding(
                    "shadowed_module",
                    "A file shadows a library",
                    rel,
                    f"{rel} in the run folder is imported instead of the {name!r} library the scripts need",
                    f"rename it; moving it to {'.aside/'} (kept)",
                    patch=Patch(
                        f"move {rel} aside: it shadows the {name!r} library",
                        (MoveAside(rel),),
                        rerun_stage(state, "train"),
                    ),
                )
            )
    return out


def check_scripts_compile(folder: RunFolder, state: RunState) -> list[Finding]:
    if "render" not in state.stages_done:
        return []
    broken = []
    for name in script_names(state):
        path = folder.path(name)
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            try:
                compile(text, name, "exec")
            except SyntaxError:
                broken.append(syntax_error_line(text, name))
    if not broken:
        return []
    drifts = [d for d in find_drift(folder, state) if not d.compiles]
    patch = rerender_patch(drifts, state) if drifts else None
    return [
        Finding(
            "script_does_not_compile",
            "Rendered script does not compile",
            b.split(": ", 1)[0],
            b.split(": ", 1)[1] + " (a hand edit?)",
            "re-render it from the spec; the edit is kept as a .patch file in the run folder",
            patch=patch if i == 0 else None,
            notes=tuple(diff_summary(drifts)),
        )
        for i, b in enumerate(broken)
    ][:1]


def _pair_rows(path: Path) -> tuple[list[Any] | None, bool]:
    """(rows, had_bom) of a JSON Lines file; rows None when any line is not JSON (bad rows are the data
    stage's to report, by file and line)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None, False
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, bom
    rows = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                return None, bom
    return rows, bom


def _text(value: Any, role: str) -> str | None:
    """A field's text: a string, or TRL's conversational list of {role, content} messages."""
    if isinstance(value, str):
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in value)
    ):
        picked = [m["content"] for m in value if m.get("role") == role] or [value[-1]["content"]]
        return "\n".join(picked)
    return None


def map_pair(row: Any) -> tuple[dict[str, str] | None, dict[str, str]]:
    """(the row as prompt/chosen/rejected, the columns used) or (None, ...) when it cannot be mapped."""
    if not isinstance(row, dict):
        return None, {}
    lower = {str(k).strip().lower(): k for k in row}
    used: dict[str, str] = {}
    out: dict[str, str] = {}
    for field_, aliases in COLUMN_ALIASES.items():
        key = next((lower[a] for a in aliases if a in lower and lower[a] not in used.values()), None)
        if key is None:
            return None, used
        text = _text(row[key], "user" if field_ == "prompt" else "assistant")
        if text is None:
            return None, used
        used[field_] = key
        out[field_] = text
    return out, used


def check_data_columns(folder: RunFolder, state: RunState) -> list[Finding]:
    """Pair files (DPO) whose columns are named otherwise, in TRL's message lists, or saved with a BOM."""
    if get_track(state.spec.algorithm).train_kind != "pairs" or "data" in state.stages_done:
        return []
    out = []
    for which in ("train_file", "heldout_file"):
        path = Path(getattr(state.spec, which))
        rows, bom = _pair_rows(path)
        if not rows:
            continue
        mapped, columns = [], set()
        for row in rows:
            pair, used = map_pair(row)
            if pair is None:
                mapped = None
                break
            mapped.append(pair)
            columns.add(tuple(sorted(used.items())))
        if mapped is None:
            continue
        canonical = all(isinstance(r, dict) and all(isinstance(r.get(k), str) for k in COLUMN_ALIASES) for r in rows)
        if canonical and not bom:
            continue
        shapes = "; ".join(", ".join(f"{v}->{k}" for k, v in c if v != k) or "message lists -> text" for c in columns)
        why = "saved with a UTF-8 byte-order mark" if canonical else f"columns named otherwise ({shapes})"
        name = f"{path.stem}.mapped.jsonl"
        dest = folder.path(name)
        text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in mapped)
        out.append(
            Finding(
                "data_columns",
                "Data columns mapped",
                str(path),
                f"{why}; the trainer needs prompt/chosen/rejected strings",
                f"train on a mapped copy {name} ({len(mapped)} rows; the original is unchanged)",
                patch=Patch(
                    f"map {path.name} to prompt/chosen/rejected ({why}) in a copy, {name}",
                    (WriteFile(name, text), SetSpec(which, str(dest))),
                    "data",
                ),
            )
        )
    return out


def current_config(folder: RunFolder, state: RunState) -> tuple[Config | None, bool]:
    """(CONFIG of the train script, whether it is the rendered file's own) - the spec's render otherwise."""
    train, _ = script_names(state)
    path = folder.path(train)
    if "render" in state.stages_done and path.is_file():
        return parse_config(path.read_text(encoding="utf-8"), train), True
    text = render_expected(folder, state).get(train)
    return (parse_config(text, train) if text else None), False


def _recipe(state: RunState):
    return get_track(state.spec.algorithm).settings_cls.for_model(state.spec.model_source, state.spec.device)


def check_config(folder: RunFolder, state: RunState, task: TaskSpec | None = None) -> list[Finding]:
    """CONFIG values against what the trainer accepts. A value only the script has wrong (a hand edit) is
    put back to the spec's value; a value the spec itself has wrong gets a spec fix and a re-render."""
    cfg, rendered = current_config(folder, state)
    if cfg is None:
        return []
    train, _ = script_names(state)
    key = state.spec.algorithm
    settings = getattr(state.spec, key)
    spec_cfg = parse_config(render_expected(folder, state).get(train, ""), train) if rendered else cfg
    model = model_folder(state)
    out: list[Finding] = []
    c = cfg.values
    lora = c.get("lora", {}) if isinstance(c.get("lora"), dict) else {}

    def restore(
        k: str,
        nested: str | None,
        fid: str,
        title: str,
        problem: str,
        spec_field: str,
        spec_value: Any,
        good: Callable[[Any], bool],
    ) -> None:
        """Put back the spec's value when it is good, else change the spec (and re-render)."""
        cur = (lora if nested else c).get(k)
        spec_now = (spec_cfg.values.get("lora", {}) if nested else spec_cfg.values).get(k) if spec_cfg else None
        if rendered and spec_now is not None and spec_now != cur and good(spec_now):
            out.append(
                Finding(
                    fid,
                    title,
                    cfg.where(k),
                    problem,
                    f"set it to {py_literal(spec_now)} (the spec's value)",
                    patch=Patch(
                        f"CONFIG[{k!r}] {cur!r} -> {spec_now!r}, the spec's value",
                        (
                            EditFile(
                                train, rf'(?m)^(\s*"{re.escape(k)}": ).*,$', rf"\g<1>{_repl(py_literal(spec_now))},"
                            ),
                        ),
                        "train",
                    ),
                )
            )
        elif spec_value is not None and good(spec_value):
            out.append(
                Finding(
                    fid,
                    title,
                    cfg.where(k) if rendered else f"run.json {key}.{spec_field}",
                    problem,
                    f"set {key}.{spec_field} to {spec_value!r}",
                    patch=Patch(
                        f"{key}.{spec_field} {getattr(settings, spec_field)!r} -> {spec_value!r}",
                        (SetSpec(f"{key}.{spec_field}", spec_value),),
                        "render",
                    ),
                )
            )
        else:
            out.append(Finding(fid, title, cfg.where(k), problem, "change it by hand"))

    recipe = _recipe(state)
    # Steps, batch, accumulation: counts the trainer divides by.
    for k, field_ in (
        ("max_steps", "max_steps"),
        ("per_device_train_batch_size", "per_device_train_batch_size"),
        ("gradient_accumulation_steps", "gradient_accumulation_steps"),
    ):
        v = c.get(k)
        if not (isinstance(v, int) and v >= 1):
            restore(
                k,
                None,
                f"{k}_not_positive",
                f"{k} must be at least 1",
                f"{k} is {v!r}; it must be a whole number >= 1 (0 trains nothing or divides by zero)",
                field_,
                getattr(recipe, field_),
                lambda x: isinstance(x, int) and x >= 1,
            )
    # Learning rate: a band for LoRA at this precision.
    lr = c.get("learning_rate")
    ceiling = LR_CEILING.get(state.spec.precision, 0.05)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and LR_FLOOR <= lr <= ceiling):
        planned = getattr(getattr(task, key, None), "learning_rate", None) if task is not None else None
        choice = planned if isinstance(planned, float) and LR_FLOOR <= planned <= ceiling else recipe.learning_rate
        too_high = isinstance(lr, (int, float)) and lr > ceiling
        restore(
            "learning_rate",
            None,
            "loss_diverged" if too_high else "learning_rate_out_of_range",
            "Learning rate out of range",
            f"learning rate {lr!r} is outside {LR_FLOOR:g}..{ceiling:g} for a LoRA "
            f"fine-tune in {state.spec.precision} ({'the loss would diverge' if too_high else 'nothing would be learnt'})",
            "learning_rate",
            choice,
            lambda x: isinstance(x, (int, float)) and LR_FLOOR <= x <= ceiling,
        )
    # GRPO groups: every batch holds whole groups of num_generations answers.
    if "num_generations" in c:
        n, b = c.get("num_generations"), c.get("per_device_train_batch_size")
        if isinstance(n, int) and isinstance(b, int) and b >= 1 and (n < 2 or b % n):
            restore(
                "num_generations",
                None,
                "generations_vs_batch",
                "Batch and generation counts incompatible",
                f"num_generations {n} does not divide per_device_train_batch_size {b} (GRPO scores whole groups of "
                "at least 2)",
                "num_generations",
                recipe.num_generations if b % recipe.num_generations == 0 else None,
                lambda x: isinstance(x, int) and x >= 2 and b % x == 0,
            )
    # LoRA: rank and targets the model has.
    r = lora.get("r")
    if not (isinstance(r, int) and r >= 1):
        restore(
            "r",
            "lora",
            "lora_rank_not_positive",
            "LoRA rank must be at least 1",
            f"LoRA r is {r!r}; it must be >= 1",
            "lora_r",
            recipe.lora_r,
            lambda x: isinstance(x, int) and x >= 1,
        )
    targets = lora.get("target_modules")
    leaves = lora_leaves(model) if model else set()
    if leaves and isinstance(targets, list):
        absent = [t for t in targets if t not in leaves]
        if absent:
            own = LORA_TARGETS  # PEFT's all-linear: the model's own names, fused projections included

            def targets_ok(x: Any) -> bool:
                return x == "all-linear" or (isinstance(x, list) and bool(x) and all(t in leaves for t in x))

            restore(
                "target_modules",
                "lora",
                "lora_targets_not_found",
                "LoRA targets not in the model",
                f"LoRA target(s) {', '.join(absent)} are not layers of this model (it has "
                f"{', '.join(sorted(t for t in leaves if t.endswith('proj'))) or 'other names'})",
                "lora_target_modules",
                own,
                targets_ok,
            )
    # max_length against the data's token lengths (tracks that train on pairs).
    if get_track(key).train_kind == "pairs" and hasattr(settings, "max_length"):
        out += _check_max_length(folder, state, cfg, c, spec_cfg, rendered, model, restore)
    return out


def _check_max_length(folder, state, cfg, c, spec_cfg, rendered, model, restore) -> list[Finding]:
    ml = c.get("max_length")
    tok = load_tokenizer(model) if model else None
    data = folder.path("train.jsonl") if "data" in state.stages_done else Path(state.spec.train_file)
    rows, _ = _pair_rows(data) if data.is_file() else (None, False)
    if not isinstance(ml, int) or tok is None or not rows:
        return []
    lengths = []
    for r in rows:
        pair, _ = map_pair(r)
        if pair is None:
            return []
        p = len(tok.encode(pair["prompt"]).ids)
        a = max(len(tok.encode(pair["chosen"]).ids), len(tok.encode(pair["rejected"]).ids))
        lengths.append(p + a + TEMPLATE_TOKENS)
    longest = max(lengths)
    over = sum(n > ml for n in lengths)
    if over * 4 <= len(lengths):  # a few long pairs truncated is TRL's normal behaviour
        return []
    limit = max_positions(model) or 1 << 30
    need = min(limit, 64 * math.ceil(longest / 64))
    restore(
        "max_length",
        None,
        "empty_after_truncation",
        "max_length shorter than the data",
        f"max_length {ml} truncates {over} of {len(lengths)} training pairs (longest about {longest} tokens with "
        "the chat template)",
        "max_length",
        need,
        lambda x: isinstance(x, int) and x >= min(need, limit),
    )
    return []


def _repl(text: str) -> str:
    return text.replace("\\", r"\\")


# ---- running it ---------------------------------------------------------------------------------------------

PREFLIGHT_PASSES = 3  # a fix can uncover the next finding (e.g. a script that compiles again has a bad CONFIG)
LOG_PREFIX = "[rl-agent] "


class PreflightFailed(RlAgentError, RuntimeError):
    """Preflight found something it cannot fix safely; the message has one line per finding."""


def preflight(
    folder: RunFolder, task: TaskSpec | None = None, *, attempt: int = 1, say: Callable[[str], None] | None = None
) -> tuple[list, list[Finding]]:
    """Check the run and apply every safe fix, logged like every repair (repairs.jsonl/repairs.md and a line
    in train.log). Returns (repair records, findings left that block the run)."""
    from rl_agent.agent.repair.log import RepairLog, RepairRecord

    say = say or (lambda s: None)
    log = RepairLog(folder)
    records: list = []
    for _ in range(PREFLIGHT_PASSES):
        findings = check_run(folder, task)
        _log_lines(folder, [f.line for f in findings])
        fixable = [f for f in findings if f.fixable]
        if not fixable:
            return records, [f for f in findings if f.blocking]
        for f in fixable:
            try:
                changes = list(f.notes) + (apply_patch(folder, f.patch) if f.patch is not None else f.apply(folder))
            except PatchRefused as e:
                return records, [Finding(f.id, f.title, f.where, f.problem, f"{f.change} (refused: {e})")]
            if task is not None and f.patch is not None:
                synced = task.synced_with(folder.load().spec, folder.root)
                if synced != task:
                    from rl_agent.kit.planning.task_spec import SPEC_FILE

                    task = synced
                    task.write(folder.path(SPEC_FILE))
                    changes.append(f"{SPEC_FILE} updated to match")
            patch = (
                f.patch.to_dict()
                if f.patch is not None
                else {"summary": f.change, "rerun_from": "model", "actions": []}
            )
            record = RepairRecord(
                attempt + len(records), f.id, f"Preflight: {f.title}", f.line, f.line, f.problem, patch, changes
            )
            log.add(record)
            records.append(record)
            say(f"{f.line}; fixed: {patch['summary']}")
            break  # one fix per pass: the next pass re-reads the run as the fix left it
    return records, [f for f in check_run(folder, task) if f.blocking and not f.fixable]


def check_or_raise(folder: RunFolder, task: TaskSpec | None = None, say: Callable[[str], None] | None = None) -> list:
    """Preflight for `rl-agent setup` / `resume`: apply safe fixes, raise PreflightFailed for the rest."""
    records, left = preflight(folder, task, say=say)
    if left:
        raise PreflightFailed("\n".join(f.line for f in left))
    return records


def _log_lines(folder: RunFolder, lines: list[str]) -> None:
    if lines:
        with open(folder.path("train.log"), "a", encoding="utf-8") as f:
            f.write("".join(f"{LOG_PREFIX}{line}\n" for line in lines))

"""What every training track is: the settings all tracks share, and the small interface a track fills in.

Why one shape: the pipeline driver and the report are written once, over a Track. A track module (dpo.py,
grpo.py, sft.py, kto.py) says only what is particular to its algorithm: its settings, the data it trains
on, the templates it renders, the figures its evaluation produces (and which decide success), and how
its training curve is drawn. Adding an algorithm adds a module and its templates and one registry line.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rl_agent.kit.dataio.pairs import (
    check_no_overlap,
    load_completions,
    load_pairs,
    load_unpaired,
    write_jsonl,
)
from rl_agent.kit.dataio.prompts import load_prompts
from rl_agent.kit.judges import correctness, terse_style
from rl_agent.kit.models import chat_format
from rl_agent.kit.pipeline.launch import (
    CONFIG_FILE,
    LaunchPlan,
    Strategy,
    launch_command,
    launch_env,
    split_batch,
    write_accelerate_config,
)
from rl_agent.kit.pipeline.process import child_env

if TYPE_CHECKING:
    from rich.console import Console

    from rl_agent.kit.spec import RunSpec

# PEFT's own name for "every linear layer but the output head": it resolves on each model's own module names,
# so fused projections (Phi-3's qkv_proj/gate_up_proj, GPT-2's c_attn) are covered, not only Llama-style names.
# The training script records what it resolved to (train_metrics.json "lora_target_modules").
LORA_TARGETS = "all-linear"
DataKind = Literal["pairs", "prompts", "unpaired", "completions"]
MIN_TRAIN_ROWS = 8
MIN_HELDOUT_ROWS = 3


class CommonSettings(BaseModel):
    """Settings every track has: schedule, batch, LoRA, checkpointing, evaluation length (TRL/PEFT names),
    and scale-out. batch_size x grad_accum is the global batch of one optimizer step, the same at any
    num_processes: launched as N processes the script splits it (launch.split_batch)."""

    model_config = ConfigDict(extra="forbid")
    min_device_batch: ClassVar[int] = 1  # the smallest per-device batch the trainer accepts (KTO: 2)

    steps: int = Field(100, ge=1, le=1_000_000)
    learning_rate: float = Field(5e-4, gt=0, lt=1)
    batch_size: int = Field(8, ge=1, description="examples per step and device at one process; x grad_accum: the "
                        "global batch, which N processes share")
    grad_accum: int = Field(1, ge=1)
    gradient_checkpointing: bool = False
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_targets: list[str] | str = LORA_TARGETS
    save_steps: int = Field(20, ge=1)
    logging_steps: int = Field(5, ge=1)
    seed: int = 0
    max_new_tokens: int = Field(40, ge=1)
    # Tracker TRL logs to (rl_agent.kit.tracking); "none" keeps runs free of tracker packages.
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = "none"
    num_processes: int = Field(1, ge=1, description=">1: train through `accelerate launch` (one process per GPU)")
    strategy: Strategy = "ddp"

    @model_validator(mode="after")
    def _check_processes(self) -> "CommonSettings":
        if self.num_processes > 1:
            split_batch(self.batch_size, self.grad_accum, self.num_processes, self.min_device_batch)
        return self

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        """Gentler settings for a real 0.1-1B hub model (the class defaults suit the embedded tiny model)."""
        return {"steps": 200, "learning_rate": 5e-5, "batch_size": 4 if device == "cuda" else 2,
                "grad_accum": 4 if device == "cuda" else 8, "gradient_checkpointing": device == "cuda",
                "save_steps": 50, "logging_steps": 10, "max_new_tokens": 96}

    @classmethod
    def for_model(cls, source: str, device: str):
        return cls() if source == "embedded" else cls(**cls.hub_defaults(device))


@dataclass(frozen=True)
class Figure:
    """One held-out figure: its key in eval.json, what it means, and how to print it."""

    key: str
    meaning: str


CORRECT = Figure("correct", "share of held-out answers that are right (state the reference answer)")


def _pairs(path: str, n: int) -> list:
    return load_pairs(path, min_pairs=n)


def _prompts(path: str, n: int) -> list:
    return load_prompts(path, min_rows=n)


LOADERS: dict[str, Callable[[str, int], list]] = {
    "pairs": _pairs,
    "prompts": _prompts,
    "unpaired": lambda path, n: load_unpaired(path, min_rows=n),
    "completions": lambda path, n: load_completions(path, min_rows=n),
}


class Track:
    """The algorithm-specific part of a run. Subclasses set the class attributes and override hooks."""

    name: ClassVar[str]
    title: ClassVar[str]  # "DPO + LoRA"
    help: ClassVar[str]  # one line for --track's help
    settings_cls: ClassVar[type[CommonSettings]]
    train_kind: ClassVar[DataKind]
    heldout_kind: ClassVar[DataKind] = "pairs"
    train_template: ClassVar[str]
    eval_template: ClassVar[str] = "evaluate.py.j2"
    plot_name: ClassVar[str] = "loss.png"
    plot_label: ClassVar[str] = "loss"
    figures: ClassVar[tuple[Figure, ...]]
    accepts_reward: ClassVar[bool] = False  # takes --reward/--max-cost
    bundled_dataset: ClassVar[str] = "terse"  # rl_agent/data/<this>/train.jsonl: the default training data
    footnote: ClassVar[str] = ""

    # ---- files --------------------------------------------------------------------------------------
    @property
    def train_script(self) -> str:
        return self.train_template.removesuffix(".j2")

    @property
    def eval_script(self) -> str:
        return self.eval_template.removesuffix(".j2")

    def stage_titles(self) -> dict[str, str]:
        return {"model": "Model", "data": "Data", "render": "Render pipeline", "train": f"Train ({self.title})",
                "evaluate": "Before/after on held-out prompts", "report": "Report"}

    # ---- data ---------------------------------------------------------------------------------------
    def load_data(self, spec: "RunSpec") -> tuple[list, list]:
        """Load and cross-check the data files before anything is written (bad data loses nothing)."""
        train = LOADERS[self.train_kind](spec.train_file, MIN_TRAIN_ROWS if self.train_kind != "prompts" else 4)
        heldout = LOADERS[self.heldout_kind](spec.heldout_file, MIN_HELDOUT_ROWS)
        check_no_overlap(train, heldout, spec.heldout_file)
        return train, heldout

    def write_data(self, root: Path, train: list, heldout: list) -> None:
        write_jsonl(root / "train.jsonl", train)
        write_jsonl(root / "heldout.jsonl", heldout)

    def setup(self, source: str, device: str, *, reward: str | None, max_cost: float | None,
              steps: int | None, train: Path | None, heldout: Path | None) -> SetupPlan:
        """Settings, task and data for `rl-agent setup --track NAME` (GRPO picks its task by reward)."""
        if reward is not None or max_cost is not None:
            raise ValueError(f"--reward and --max-cost are for online RL: add --track grpo (not {self.name})")
        from rl_agent.kit.dataio.pairs import bundled_pairs_path

        return default_setup(self, source, device, steps=steps, train=train, heldout=heldout,
                             bundled_train=bundled_pairs_path("train", self.bundled_dataset))

    # ---- rendering and running ------------------------------------------------------------------------
    def render_context(self, spec: "RunSpec", model_path: str) -> dict:
        """Template variables; user text reaches a template only as data (`py` / `pycomment` filters)."""
        self.launch_plan(spec)  # an impossible launch (fsdp on the CPU) fails the render, with its reason
        return common_context(spec, self.settings(spec), model_path, self.plot_label)

    def launch_plan(self, spec: "RunSpec") -> LaunchPlan:
        """How training runs: one process, or several under `accelerate launch` (docs/scaling.md)."""
        s = self.settings(spec)
        mixed = {"bf16": "bf16", "fp16": "fp16"}.get(spec.precision, "no")
        return LaunchPlan(num_processes=s.num_processes, strategy=s.strategy, device=spec.device,
                          mixed_precision=mixed)

    def after_render(self, root: Path, spec: "RunSpec") -> None:
        """Extra files next to the scripts: accelerate_config.yaml, for `accelerate launch`."""
        write_accelerate_config(root, self.launch_plan(spec), self.train_script)

    def script_env(self, spec: "RunSpec", extra: dict[str, str] | None = None) -> dict[str, str]:
        return child_env(offline=spec.model_source != "hub", extra=extra)

    def train_command(self, spec: "RunSpec", python: str, root: Path) -> tuple[list[str], dict[str, str]]:
        """`python train_x.py` for one process; `accelerate launch` with the run's config for several."""
        plan = self.launch_plan(spec)
        if plan.num_processes > 1:
            cmd = launch_command(self.train_script, root / CONFIG_FILE, python=python)
            return cmd, self.script_env(spec, launch_env(plan))
        return [python, self.train_script], self.script_env(spec)

    def settings(self, spec: "RunSpec") -> CommonSettings:
        return getattr(spec, self.name)

    # ---- report ---------------------------------------------------------------------------------------
    def clean_side(self, side: dict) -> dict:
        return side

    def report_extras(self, state, eval_result: dict, train_metrics: dict) -> dict[str, Any]:
        """Track-specific report.json fields (the loss or reward curve, grading, guards)."""
        losses = [[h["step"], h["loss"]] for h in train_metrics.get("log_history", []) if "loss" in h]
        return {"loss_curve": losses}

    def checks(self, report: dict, spec: "RunSpec") -> dict[str, bool]:
        raise NotImplementedError

    def tips(self, report: dict, spec: "RunSpec", train_metrics: dict) -> list[str]:
        return []

    def header_lines(self, report: dict) -> list[str]:
        loss = report.get("final_loss")
        return [f"**Steps:** {report['steps']}, **final training loss:** "
                f"{'n/a' if loss is None else f'{loss:.4f}'}, **wall time:** {report['wall_seconds']:.0f} s  "]

    def markdown_sections(self, report: dict) -> list[str]:
        return []

    def console_lines(self, console: "Console", report: dict) -> None:
        """Anything the track prints between the figures and the verdict."""

    def summary_line(self, report: dict) -> str:
        loss = report.get("final_loss")
        return (f"final loss {'n/a' if loss is None else f'{loss:.4f}'} after {report['steps']} steps, "
                f"{report['wall_seconds']:.0f} s in all.")


def common_context(spec: "RunSpec", s: CommonSettings, model_path: str, plot_label: str = "loss") -> dict:
    """Template variables every track shares (files, precision, LoRA, schedule, the checks every
    evaluation inlines), so all scripts are rendered from one source for what they have in common."""
    return {
        "task_summary": spec.task,
        "model": model_path,
        "train_file": "train.jsonl",
        "heldout_file": "heldout.jsonl",
        "output_dir": "out",
        "adapter_dir": "adapter",
        "output_file": "eval.json",
        "steps": s.steps,
        "learning_rate": s.learning_rate,
        "batch_size": s.batch_size,
        "grad_accum": s.grad_accum,
        "min_device_batch": s.min_device_batch,
        "gradient_checkpointing": s.gradient_checkpointing,
        "bf16": spec.precision == "bf16",
        "use_cpu": spec.device == "cpu",
        "save_steps": s.save_steps,
        "logging_steps": s.logging_steps,
        "seed": s.seed,
        "lora_r": s.lora_r,
        "lora_alpha": s.lora_alpha,
        "lora_dropout": s.lora_dropout,
        "lora_targets": s.lora_targets,
        "max_new_tokens": s.max_new_tokens,
        "report_to": s.report_to,
        "logging_dir": "tb",  # TensorBoard event files, inside the run folder
        "plot_label": plot_label,
        "judge_source": inspect.getsource(terse_style).strip(),
        "correctness_source": inspect.getsource(correctness).strip(),
        "chat_source": inspect.getsource(chat_format).strip(),
        "chat_template_kwargs": chat_format.CHAT_TEMPLATE_KWARGS,
    }


# ---- what the shared pair evaluation (evaluate.py.j2) measures, for the tracks that use it ----------------
STYLE_FIGURES = (
    Figure("pref_accuracy", "tuned model favours the chosen held-out answer (base model: 0.50)"),
    Figure("mean_words", "mean answer length, words"),
    Figure("hedge_count", "hedging and filler phrases in all answers"),
    Figure("judge_score", "offline terse-style judge, mean"),
)
PREF_NOTE = ("Preference accuracy is DPO's reward accuracy on held-out pairs: how often the tuned model raises the "
             "chosen answer's log-probability, relative to the base model, more than the rejected one's. The base "
             "model ties with itself on every pair, which counts as chance (0.50).")


STYLE_JUDGE_BAR = 0.8  # the tuned answers must be terse by the offline judge, not merely less hedgy than before


def style_checks(before: dict, after: dict) -> dict[str, bool]:
    """The offline judge and the hedge count moved the right way (or there was nothing to remove), and the
    judge passes the tuned answers: 84 hedges down to 72 is a move, not a success."""
    return {
        f"judge_score >= {STYLE_JUDGE_BAR}": after["judge_score"] >= STYLE_JUDGE_BAR,
        "judge_score improved": after["judge_score"] > before["judge_score"],
        "hedge_count improved": after["hedge_count"] < before["hedge_count"]
        or (before["hedge_count"] == 0 and after["hedge_count"] == 0),
    }


def style_tips(report: dict, steps: int) -> list[str]:
    after, loss = report["after"], report.get("final_loss")
    tips = []
    if after["hedge_count"] > 0:
        tips.append(f"{after['hedge_count']} hedge/filler phrases remain after tuning: add examples whose bad side "
                    "uses those phrases, or train longer (--steps {0}).".format(steps * 2))
    if loss is not None and loss < 0.05:
        tips.append("The final loss is near zero: the adapter fits the training data completely. More and more "
                    "varied data (rl-agent pairs --task ...) will generalise better than more steps.")
    if report["model_source"] == "embedded":
        tips.append("This was the embedded tiny model: with network access, `--model Qwen/Qwen3-0.6B` runs the same "
                    "recipe on a real small model.")
    return tips


@dataclass
class SetupPlan:
    """What `rl-agent setup --track NAME` runs: settings, task summary, data files, notes to show."""

    settings: CommonSettings
    task: str
    train_file: Path
    heldout_file: Path
    notes: list[str]
    min_correct: float | None = None


TERSE_TASK = "Terse, direct answers: no hedging, no filler openers."
# The bundled terse task's correctness floor, applied when its held-out rows carry reference answers.
TERSE_MIN_CORRECT = 0.8


def default_setup(track: Track, source: str, device: str, *, steps: int | None, train: Path | None,
                  heldout: Path | None, bundled_train: Path) -> SetupPlan:
    """The bundled terse task on `track`'s data kind, with its settings for this model and machine."""
    from rl_agent.kit.dataio.pairs import bundled_pairs_path

    settings = track.settings_cls.for_model(source, device)
    if steps:
        settings.steps = steps
        settings.save_steps = min(settings.save_steps, max(1, steps // 2))
    heldout_file = heldout or bundled_pairs_path("heldout")
    has_refs = heldout is None and any(getattr(r, "reference", None) for r in load_pairs(heldout_file))
    return SetupPlan(settings, TERSE_TASK, train or bundled_train, heldout_file, [],
                     TERSE_MIN_CORRECT if has_refs else None)

"""What every training track is: the settings all tracks share, and the small interface a track fills in.

Why one shape: the pipeline driver and the report are written once, over a Track. A track module (dpo.py,
grpo.py, sft.py, kto.py) says only what is particular to its algorithm: its settings, the data it trains
on, the templates it renders, the figures its evaluation produces (and which decide success), and how
its training curve is drawn. Adding an algorithm adds a module and its templates and one registry line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal

from rl_agent.kit.dataio.pairs import (
    check_no_overlap,
    load_completions,
    load_pairs,
    load_unpaired,
    write_jsonl,
)
from rl_agent.kit.dataio.prompts import load_prompts
from rl_agent.kit.launch.accelerate import (
    CONFIG_FILE,
    LaunchPlan,
    launch_command,
    launch_env,
    write_accelerate_config,
)
from rl_agent.kit.launch.process import child_env
from rl_agent.kit.settings import CommonSettings, RunBase
from rl_agent.runtime import chat_format

if TYPE_CHECKING:
    from rich.console import Console

DataKind = Literal["pairs", "prompts", "unpaired", "completions"]
MIN_TRAIN_ROWS = 8
MIN_HELDOUT_ROWS = 3


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
    # trains a task whose check is a Claude rubric (rubric.md): from judged preference pairs, or with the judge as
    # the online reward (tracks/grpo/judged.py)
    trains_judged_check: ClassVar[bool] = False
    bundled_dataset: ClassVar[str] = "terse"  # rl_agent/data/<this>/train.jsonl: the default training data
    footnote: ClassVar[str] = ""
    length_setting: ClassVar[str] = "max_length"  # the settings field that bounds tokens per example
    plan_reason: ClassVar[str] = ""  # why a task's plan trains with this track (spec.json's algorithm_reason)
    online: ClassVar[bool] = (
        False  # learns from its own sampled answers, rewarded by the check (a 0 everywhere teaches nothing)
    )

    def task_check_settings(self, model_source: str, device: str) -> CommonSettings:
        """Settings for a task whose check is a proven program (recipes, task folders): the class defaults on the
        embedded model, the gentler hub defaults on a real one."""
        return self.settings_cls.for_model(model_source, device)

    def check_judge(self, settings: dict) -> str | None:
        """The judge spec a finished run's answers are checked by (`rl-agent try`), from its saved settings;
        None: the report's own figures decide."""
        return None

    # ---- files --------------------------------------------------------------------------------------
    @property
    def train_script(self) -> str:
        return self.train_template.removesuffix(".j2")

    @property
    def eval_script(self) -> str:
        return self.eval_template.removesuffix(".j2")

    def stage_titles(self) -> dict[str, str]:
        return {
            "model": "Model",
            "data": "Data",
            "render": "Render pipeline",
            "train": f"Train ({self.title})",
            "evaluate": "Before/after on held-out prompts",
            "report": "Report",
        }

    # ---- data ---------------------------------------------------------------------------------------
    def load_data(self, spec: RunBase) -> tuple[list, list]:
        """Load and cross-check the data files before anything is written (bad data loses nothing)."""
        train = LOADERS[self.train_kind](spec.train_file, MIN_TRAIN_ROWS if self.train_kind != "prompts" else 4)
        heldout = LOADERS[self.heldout_kind](spec.heldout_file, MIN_HELDOUT_ROWS)
        check_no_overlap(train, heldout, spec.heldout_file)
        return train, heldout

    def write_data(self, root: Path, train: list, heldout: list) -> None:
        write_jsonl(root / "train.jsonl", train)
        write_jsonl(root / "heldout.jsonl", heldout)

    def setup(
        self,
        source: str,
        device: str,
        *,
        reward: str | None,
        max_cost: float | None,
        steps: int | None,
        train: Path | None,
        heldout: Path | None,
    ) -> SetupPlan:
        """Settings, task and data for `rl-agent setup --track NAME` (GRPO picks its task by reward)."""
        if reward is not None or max_cost is not None:
            raise ValueError(f"--reward and --max-cost are for online RL: add --track grpo (not {self.name})")
        from rl_agent.kit.dataio.pairs import bundled_pairs_path

        return default_setup(
            self,
            source,
            device,
            steps=steps,
            train=train,
            heldout=heldout,
            bundled_train=bundled_pairs_path("train", self.bundled_dataset),
        )

    # ---- rendering and running ------------------------------------------------------------------------
    def render_context(self, spec: RunBase, model_path: str) -> dict:
        """Template variables; user text reaches a template only as data (`py` / `pycomment` filters)."""
        self.launch_plan(spec)  # an impossible launch (fsdp on the CPU) fails the render, with its reason
        return common_context(spec, self.settings(spec), model_path, self.plot_label)

    def launch_plan(self, spec: RunBase) -> LaunchPlan:
        """How training runs: one process, or several under `accelerate launch` (docs/scaling.md)."""
        s = self.settings(spec)
        mixed = {"bf16": "bf16", "fp16": "fp16"}.get(spec.precision, "no")
        return LaunchPlan(num_processes=s.num_processes, strategy=s.strategy, device=spec.device, mixed_precision=mixed)

    def after_render(self, root: Path, spec: RunBase) -> None:
        """Extra files next to the scripts: accelerate_config.yaml, for `accelerate launch`."""
        write_accelerate_config(root, self.launch_plan(spec), self.train_script)

    def script_env(self, spec: RunBase, extra: dict[str, str] | None = None) -> dict[str, str]:
        return child_env(offline=spec.model_source != "hub", extra=extra)

    def train_command(self, spec: RunBase, python: str, root: Path) -> tuple[list[str], dict[str, str]]:
        """`python train_x.py` for one process; `accelerate launch` with the run's config for several."""
        plan = self.launch_plan(spec)
        if plan.num_processes > 1:
            cmd = launch_command(self.train_script, root / CONFIG_FILE, python=python)
            return cmd, self.script_env(spec, launch_env(plan))
        return [python, self.train_script], self.script_env(spec)

    def settings(self, spec: RunBase) -> CommonSettings:
        return getattr(spec, self.name)

    # ---- report ---------------------------------------------------------------------------------------
    def clean_side(self, side: dict) -> dict:
        return side

    def report_extras(self, state, eval_result: dict, train_metrics: dict) -> dict[str, Any]:
        """Track-specific report.json fields (the loss or reward curve, grading, guards)."""
        losses = [[h["step"], h["loss"]] for h in train_metrics.get("log_history", []) if "loss" in h]
        return {"loss_curve": losses}

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        raise NotImplementedError

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        return []

    def header_lines(self, report: dict) -> list[str]:
        loss = report.get("final_loss")
        return [
            f"**Steps:** {report['steps']}, **final training loss:** "
            f"{'n/a' if loss is None else f'{loss:.4f}'}, **wall time:** {report['wall_seconds']:.0f} s  "
        ]

    def markdown_sections(self, report: dict) -> list[str]:
        return []

    def console_lines(self, console: "Console", report: dict) -> None:
        """Anything the track prints between the figures and the verdict."""

    def summary_line(self, report: dict) -> str:
        loss = report.get("final_loss")
        return (
            f"final loss {'n/a' if loss is None else f'{loss:.4f}'} after {report['steps']} steps, "
            f"{report['wall_seconds']:.0f} s in all."
        )


def trl_args(spec: RunBase, s: CommonSettings, warmup_cap: int = 5) -> dict[str, Any]:
    """CONFIG["trl"] of a training script, handed to the trainer's config class as it is: the track's settings
    that are the config's own arguments (TRL's names, so a new one is a settings field and nothing else), then
    the kit's fixed choices, written out so that the script shows every argument it trains with."""
    args = s.trl_args()
    args.update(
        logging_steps=min(s.logging_steps, s.max_steps),
        bf16=spec.precision == "bf16",
        use_cpu=spec.device == "cpu",
        save_strategy="steps",
        save_total_limit=None,  # every checkpoint is kept and scored on validation; the pipeline keeps the best
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=min(warmup_cap, s.max_steps // 10),
        dataloader_num_workers=0,
    )
    return args


def common_context(spec: RunBase, s: CommonSettings, model_path: str, plot_label: str = "loss") -> dict:
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
        "trl": trl_args(spec, s),
        "min_device_batch": s.min_device_batch,
        "use_cpu": spec.device == "cpu",
        "seed": s.seed,
        "lora_r": s.lora_r,
        "lora_alpha": s.lora_alpha,
        "lora_dropout": s.lora_dropout,
        "lora_targets": s.lora_target_modules,
        "max_new_tokens": s.max_new_tokens,
        "logging_dir": "tb",  # TensorBoard event files, inside the run folder
        "plot_label": plot_label,
        "chat_template_kwargs": chat_format.CHAT_TEMPLATE_KWARGS,
    }


# ---- what the shared pair evaluation (evaluate.py.j2) measures, for the tracks that use it ----------------
STYLE_FIGURES = (
    Figure("pref_accuracy", "tuned model favours the chosen held-out answer (base model: 0.50)"),
    Figure("mean_words", "mean answer length, words"),
    Figure("hedge_count", "hedging and filler phrases in all answers"),
    Figure("judge_score", "offline terse-style judge, mean"),
)
PREF_NOTE = (
    "Preference accuracy is DPO's reward accuracy on held-out pairs: how often the tuned model raises the "
    "chosen answer's log-probability, relative to the base model, more than the rejected one's. The base "
    "model ties with itself on every pair, which counts as chance (0.50)."
)


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
        tips.append(
            f"{after['hedge_count']} hedge/filler phrases remain after tuning: add examples whose bad side "
            "uses those phrases, or train longer (--steps {0}).".format(steps * 2)
        )
    if loss is not None and loss < 0.05:
        tips.append(
            "The final loss is near zero: the adapter fits the training data completely. More and more "
            "varied data (rl-agent pairs --task ...) will generalise better than more steps."
        )
    if report["model_source"] == "embedded":
        tips.append(
            "This was the embedded tiny model: with network access, `--model Qwen/Qwen3-0.6B` runs the same "
            "recipe on a real small model."
        )
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


def default_setup(
    track: Track,
    source: str,
    device: str,
    *,
    steps: int | None,
    train: Path | None,
    heldout: Path | None,
    bundled_train: Path,
) -> SetupPlan:
    """The bundled terse task on `track`'s data kind, with its settings for this model and machine."""
    from rl_agent.kit.dataio.pairs import bundled_pairs_path

    settings = track.settings_cls.for_model(source, device)
    if steps:
        settings.max_steps = steps
        settings.save_steps = min(settings.save_steps, max(1, steps // 2))
    heldout_file = heldout or bundled_pairs_path("heldout")
    has_refs = heldout is None and any(getattr(r, "reference", None) for r in load_pairs(heldout_file))
    return SetupPlan(
        settings, TERSE_TASK, train or bundled_train, heldout_file, [], TERSE_MIN_CORRECT if has_refs else None
    )

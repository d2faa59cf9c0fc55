"""The DPO pipeline, stage by stage: model -> data -> render -> train -> evaluate -> report.

Each stage records itself in run.json when it finishes, so `rl-agent resume` re-enters at the first
unfinished stage (training itself continues from its newest checkpoint). Data flows one way; nothing here
reaches back into an earlier stage.
"""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rl_agent.kit import report as reporting
from rl_agent.kit.data import check_no_overlap, load_pairs, write_pairs
from rl_agent.kit.judges import terse_style
from rl_agent.kit.process import child_env, run_step
from rl_agent.kit.render import write_rendered
from rl_agent.kit.run_folder import STAGES, RunFolder, RunState
from rl_agent.kit.spec import RunSpec

TRAIN_SCRIPT = "train_dpo.py"
EVAL_SCRIPT = "evaluate.py"
LOG_FILE = "train.log"
MIN_TRAIN_PAIRS = 8
MIN_HELDOUT_PAIRS = 3


class StageError(RuntimeError):
    """A stage failed; the message is one line, the details are in the run's log file."""


def validate_data(spec: RunSpec) -> tuple[list, list]:
    """Load and cross-check the pair files before anything is written (bad data loses nothing)."""
    train = load_pairs(spec.train_file, min_pairs=MIN_TRAIN_PAIRS)
    heldout = load_pairs(spec.heldout_file, min_pairs=MIN_HELDOUT_PAIRS)
    check_no_overlap(train, heldout, spec.heldout_file)
    return train, heldout


def common_context(spec: RunSpec, settings, model_path: str) -> dict:
    """Template variables every training track shares (files, precision, LoRA, schedule), so the DPO and
    GRPO scripts are rendered from one source for the settings they have in common."""
    s = settings
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
        "beta": s.beta,
        "loss_type": s.loss_type,
        "batch_size": s.batch_size,
        "grad_accum": s.grad_accum,
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
        "report_to": s.report_to,  # issue-10: --report-to
        "logging_dir": "tb",
    }


def render_context(spec: RunSpec, model_path: str) -> dict:
    """Everything train_dpo.py.j2 and evaluate.py.j2 need; user text only as data for `py`/`pycomment`."""
    s = spec.dpo
    return {
        **common_context(spec, s, model_path),
        "loss_weights": s.loss_weights,
        "max_length": s.max_length,
        "judge_source": inspect.getsource(terse_style).strip(),
    }


class DPOPipeline:
    plot_name = "loss.png"  # the curve the training script draws in out/, copied next to the report
    titles = {"model": "Model", "data": "Data", "render": "Render pipeline", "train": "Train (DPO + LoRA)",
              "evaluate": "Before/after on held-out prompts", "report": "Report"}

    def __init__(self, folder: RunFolder, console: Console, cache_dir: Path):
        self.folder = folder
        self.console = console
        self.cache_dir = cache_dir

    # ---- stages -------------------------------------------------------------------------------------
    def stage_model(self, state: RunState) -> None:
        spec = state.spec
        if spec.model_source != "embedded":
            state.model_path = spec.model
            return
        cmd = [state.python, "-m", "rl_agent.kit.tiny_model", "--cache-dir", str(self.cache_dir)]
        env = child_env(offline=True, extra={"PYTHONPATH": _package_parent()})
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        path = None
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                      TimeElapsedColumn(), console=self.console, transient=False) as bar:
            task = bar.add_task("embedded model", total=None, info="")
            for line in proc.stdout:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev["event"] == "start":
                    info = "cached, reusing" if ev["cached"] else "building: tokenizer + SFT warm-up"
                    bar.update(task, info=info, total=1 if ev["cached"] else None)
                elif ev["event"] == "progress":
                    bar.update(task, total=ev["total"], completed=ev["step"], info=f"warm-up loss {ev['loss']:.3f}")
                elif ev["event"] == "done":
                    path = ev["path"]
                    bar.update(task, completed=bar.tasks[0].total or 1)
        stderr = proc.stderr.read() if proc.stderr else ""
        if proc.wait() != 0 or not path:
            (self.folder.path(LOG_FILE)).open("a").write(stderr)
            last = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
            raise StageError(f"building the embedded model failed: {last}")
        state.model_path = path

    def stage_data(self, state: RunState) -> None:
        train, heldout = validate_data(state.spec)
        write_pairs(self.folder.path("train.jsonl"), train)
        write_pairs(self.folder.path("heldout.jsonl"), heldout)

    def stage_render(self, state: RunState) -> None:
        ctx = render_context(state.spec, state.model_path or state.spec.model)
        write_rendered("train_dpo.py.j2", ctx, self.folder.path(TRAIN_SCRIPT))
        write_rendered("evaluate.py.j2", ctx, self.folder.path(EVAL_SCRIPT))

    def _run_script(self, state: RunState, script: str, what: str) -> None:
        self._run_command(state, [state.python, script], what)

    def _run_command(self, state: RunState, cmd: list, what: str, env: dict | None = None) -> None:
        env = env or child_env(offline=state.spec.model_source != "hub")
        result = run_step(cmd, cwd=self.folder.root, log_path=self.folder.path(LOG_FILE), env=env,
                          echo=lambda s: self.console.file.write(s))
        if not result.ok:
            last = [ln for ln in result.tail.splitlines() if ln.strip()]
            raise StageError(f"{what} failed (exit {result.returncode}): {last[-1] if last else 'no output'}; "
                             f"see {result.log_path}")

    def stage_train(self, state: RunState) -> None:
        self._run_script(state, TRAIN_SCRIPT, "training")
        if not self.folder.path("out/train_metrics.json").is_file():
            raise StageError(f"training finished without out/train_metrics.json; see {self.folder.path(LOG_FILE)}")

    def stage_evaluate(self, state: RunState) -> None:
        self._run_script(state, EVAL_SCRIPT, "evaluation")

    def stage_report(self, state: RunState) -> dict:
        ev = json.loads(self.folder.path("eval.json").read_text(encoding="utf-8"))
        tm = json.loads(self.folder.path("out/train_metrics.json").read_text(encoding="utf-8"))
        plot = self.folder.path("out") / self.plot_name
        plot_name = None
        if plot.is_file():
            shutil.copyfile(plot, self.folder.path(self.plot_name))
            plot_name = self.plot_name
        state.timings["report"] = 0.0
        rep = reporting.build_report(state, ev, tm, sum(state.timings.values()))
        reporting.write_report(self.folder.root, rep, plot_name)
        return rep

    # ---- driver -------------------------------------------------------------------------------------
    def run(self, state: RunState) -> dict:
        """Run every unfinished stage in order; mark the run failed (not complete) on any error."""
        rep: dict = {}
        try:
            for stage in STAGES:
                if stage in state.stages_done and stage != "report":
                    continue
                self.console.rule(f"[bold]{self.titles[stage]}")
                started = time.time()
                out = getattr(self, f"stage_{stage}")(state)
                state.timings[stage] = state.timings.get(stage, 0.0) + time.time() - started
                if stage == "report":
                    rep = out
                if stage not in state.stages_done:
                    state.stages_done.append(stage)
                state.status = "complete" if stage == "report" else "running"
                state.error = None
                self.folder.save(state)
        except BaseException as e:
            state.status = "failed"
            state.error = str(e) or type(e).__name__
            self.folder.save(state)
            raise
        return rep


def pipeline_class(algorithm: str) -> type[DPOPipeline]:
    """The pipeline for a spec's algorithm; GRPO's (grpo_pipeline.py) reuses the stages it shares with DPO."""
    if algorithm == "grpo":
        from rl_agent.kit.grpo_pipeline import GRPOPipeline

        return GRPOPipeline
    return DPOPipeline


def _package_parent() -> str:
    """The folder holding the rl_agent package, so a training interpreter without rl-agent installed can
    still run `python -m rl_agent.kit.tiny_model` (it needs only the stdlib, torch and transformers)."""
    import rl_agent

    return str(Path(rl_agent.__file__).resolve().parent.parent)

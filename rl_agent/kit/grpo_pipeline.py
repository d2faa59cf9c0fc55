"""The GRPO pipeline: the DPO pipeline's stages, with prompts instead of pairs, a reward instead of labels.

model -> data (prompt files) -> render (train_grpo.py, evaluate_grpo.py, accelerate_config.yaml) ->
train (one process, or `accelerate launch` for several) -> evaluate -> report (reward curve, hacking guard).
Resuming, run.json and the run folder work exactly as for DPO.
"""

from __future__ import annotations

from rl_agent.kit import grpo_render
from rl_agent.kit.grpo_data import PromptRow, check_no_overlap, load_prompts, write_prompts
from rl_agent.kit.launch import LaunchPlan, launch_command, launch_env, write_accelerate_config
from rl_agent.kit.pipeline import LOG_FILE, DPOPipeline, StageError
from rl_agent.kit.process import child_env
from rl_agent.kit.render import write_rendered
from rl_agent.kit.run_folder import RunState
from rl_agent.kit.spec import RunSpec

TRAIN_SCRIPT = "train_grpo.py"
EVAL_SCRIPT = "evaluate_grpo.py"
MIN_TRAIN_PROMPTS = 4
MIN_HELDOUT_PROMPTS = 3


def validate_data(spec: RunSpec) -> tuple[list[PromptRow], list[PromptRow]]:
    """Load and cross-check the prompt files before anything is written (bad data loses nothing)."""
    train = load_prompts(spec.train_file, min_rows=MIN_TRAIN_PROMPTS)
    heldout = load_prompts(spec.heldout_file, min_rows=MIN_HELDOUT_PROMPTS)
    check_no_overlap(train, heldout, spec.heldout_file)
    return train, heldout


def launch_plan(spec: RunSpec) -> LaunchPlan:
    mixed = {"bf16": "bf16", "fp16": "fp16"}.get(spec.precision, "no")
    return LaunchPlan(num_processes=spec.grpo.num_processes, strategy=spec.grpo.strategy, device=spec.device,
                      mixed_precision=mixed)


class GRPOPipeline(DPOPipeline):
    plot_name = "reward.png"
    titles = {**DPOPipeline.titles, "train": "Train (GRPO + LoRA, online RL)",
              "evaluate": "Before/after on held-out prompts, reward-hacking check"}

    def stage_data(self, state: RunState) -> None:
        train, heldout = validate_data(state.spec)
        write_prompts(self.folder.path("train.jsonl"), train)
        write_prompts(self.folder.path("heldout.jsonl"), heldout)

    def stage_render(self, state: RunState) -> None:
        try:
            ctx = grpo_render.render_context(state.spec, state.model_path or state.spec.model)
        except ValueError as e:
            raise StageError(f"cannot render the GRPO scripts: {e}") from None
        write_rendered("train_grpo.py.j2", ctx, self.folder.path(TRAIN_SCRIPT))
        write_rendered("evaluate_grpo.py.j2", ctx, self.folder.path(EVAL_SCRIPT))
        write_accelerate_config(self.folder.root, launch_plan(state.spec))

    def _env(self, state: RunState, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The API key reaches the scripts only when they grade with Claude."""
        s = state.spec.grpo
        remote = any(grpo_render.plan_scorer(x).remote for x in (s.reward, s.heldout_judge))
        return child_env(offline=state.spec.model_source != "hub", keep_secrets=remote, extra=extra)

    def stage_train(self, state: RunState) -> None:
        plan = launch_plan(state.spec)
        if plan.num_processes > 1:
            config = self.folder.path("accelerate_config.yaml")
            cmd = launch_command(TRAIN_SCRIPT, config, python=state.python)
            self._run_command(state, cmd, "training", self._env(state, launch_env(plan)))
        else:
            self._run_command(state, [state.python, TRAIN_SCRIPT], "training", self._env(state))
        if not self.folder.path("out/train_metrics.json").is_file():
            raise StageError(f"training finished without out/train_metrics.json; see {self.folder.path(LOG_FILE)}")

    def stage_evaluate(self, state: RunState) -> None:
        self._run_command(state, [state.python, EVAL_SCRIPT], "evaluation", self._env(state))

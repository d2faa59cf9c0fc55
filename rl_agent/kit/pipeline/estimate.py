"""Before a run goes on: how long its training will take and how much memory it needs, measured, not guessed;
and on a CPU, whether that fits the time budget (`--time-budget`, default 15 min), with a smaller plan if not.

Mechanism: the training itself is the measurement. The train stage runs the rendered script with
`--pause-after K` (rl_agent/templates/_estimate.py.j2): the real run, which after its first steps (3 slow
ones, or a dozen fast ones: until the timed steps took 2 s; at most K, never past the first checkpoint)
writes out/pause.json (when training began, when each step ended, peak memory: resource.getrusage's peak RSS
on a CPU, torch.cuda.max_memory_allocated on a GPU) and waits. Here the run's time is extrapolated and
printed; then out/pause.go lets the same process go on, so an estimate that fits costs nothing but the
moment of the pause. (A separate timing run, `--estimate K` into a scratch folder, was tried first: as exact,
but it paid a whole second start-up, 13-18 s of a 70 s demo.) Over the budget, out/pause.stop ends that
process before it saved anything, the plan changes (fewer steps, or the smaller model, rendered again) and
the train stage starts over, pausing again to measure the new plan. Time spent paused or in a stopped
attempt is booked as "estimate", not "train".

    train time = start-up (process start to the first step: imports, model load, dataset, trainer; measured)
               + the first step (a warm-up; measured)
               + the other steps x seconds per step (the mean of the timed steps)
               + checkpoint saves and the adapter save (from the trainable parameters' size)
               + FINISH_SECONDS (metrics, the plot, the process's exit)

GRPO's step includes generating and grading its samples (Claude's grading too: the paused run is the real one).

Over budget (CPU only): the proposal names fewer steps that fit and, on a hub model other than the small
one, the small hub model (its time scaled from this measurement by parameter count; measured once switched).
With `--yes` the choice is made in this order:
  1. fewer steps on the same model, if at least MIN_STEP_SHARE (half) of the planned steps still fit (a run
     cut below half its steps is a different recipe; a smaller model at full length is the better trade)
     and the steps were not given with --steps;
  2. otherwise the smaller model, if there is one and the model was not given with --model (measured again;
     rule 1 then applies to it);
  3. otherwise the plan as it is, with the warning: --yes never overrides a value named on the command line.
Interactive runs are asked (fewer steps? the smaller model? as planned anyway? no: stop); a run that can ask
nobody (no terminal, no --yes) trains as planned after the warning. `--time-budget 0` turns the check off.
No estimate (a note says why) for runs too short to pause in (3 steps, or a checkpoint before step 3), runs
continuing from a checkpoint, and scripts rendered without --pause-after.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

from rl_agent.kit.models.hardware import SMALL_HUB_MODEL, SMALL_HUB_PARAMS, ModelChoice
from rl_agent.kit.pipeline.run_folder import RunFolder, RunState, write_json_atomic
from rl_agent.kit.pipeline.stage_error import StageError
from rl_agent.kit.tracks.base import Track

if TYPE_CHECKING:
    from rich.console import Console


class Pipeline(Protocol):
    """What the estimator uses of the stage driver (rl_agent.kit.pipeline.driver.Pipeline, which calls it)."""

    console: "Console"
    folder: RunFolder

    def track(self, state: RunState) -> Track: ...
    def stage_model(self, state: RunState) -> None: ...
    def stage_render(self, state: RunState) -> None: ...
    def _run_command(self, state: RunState, cmd: list[str], what: str, env: dict[str, str]) -> None: ...


ESTIMATE_FILE = "estimate.json"  # in the run folder: what was estimated and decided (the report reads it)
OUT_DIR = "out"  # the scripts' output_dir (tracks/base.py common_context)
PAUSE_FILE, GO_FILE, STOP_FILE = "pause.json", "pause.go", "pause.stop"  # in OUT_DIR: _estimate.py.j2's names
PAUSE_MARK = "rl-agent: paused after"  # the line the script prints when out/pause.json is written
# The script pauses after step PAUSE_STEPS at the latest (never after the first checkpoint), from step 3 on once
# the timed steps (all but the first, a warm-up) have taken 2 s: two slow steps, or a dozen fast ones.
PAUSE_STEPS = 20
DEFAULT_BUDGET_MINUTES = 15.0
MIN_STEP_SHARE = 0.5
FINISH_SECONDS = 1.5  # after the last step and the adapter save: metrics, the plot (matplotlib's import), exit
# A save writes the trainable weights and Adam's two moments (fp32): 12 bytes a trainable parameter.
SAVE_BASE_SECONDS, SAVE_BYTES_PER_SECOND = 0.05, 4e8
# Step time grows about as parameters^0.8 between these sizes on a CPU (plain TRL DPO, batch 8, length 128,
# LoRA r16 on every projection: Qwen3-0.6B 12.5 s/step, SmolLM2-135M 3.8 s/step; 4.4x the parameters, 3.3x
# the time). Used only for the smaller model's number in a proposal; once switched, it is measured.
PARAMS_EXPONENT = 0.8

Action = Literal["steps", "model", "keep"]


@dataclass
class Estimate:
    """What the paused run measured, and its whole training time extrapolated from it."""

    model: str
    device: str
    steps: int  # of the run
    save_steps: int
    startup_seconds: float  # process start to the first step: imports, model load, dataset, trainer
    warmup_step_seconds: float
    step_seconds: float
    save_seconds: float
    measured_steps: int
    peak_memory_gb: float | None
    memory: Literal["RAM", "GPU"]
    params: int | None = None
    processes: int = 1
    notes: list[str] = field(default_factory=list)

    def seconds_for(self, steps: int | None = None, save_steps: int | None = None) -> float:
        """Predicted train-stage time for `steps` (default: the run's), saving every `save_steps`."""
        steps = steps or self.steps
        saves = math.ceil(steps / (save_steps or self.save_steps))  # the trainer also saves at the last step
        return (
            self.startup_seconds
            + self.warmup_step_seconds
            + (steps - 1) * self.step_seconds
            + (saves + 1) * self.save_seconds
            + FINISH_SECONDS
        )  # + 1: the adapter at the end

    @property
    def seconds(self) -> float:
        return self.seconds_for()

    @property
    def method(self) -> str:
        text = (
            f"timed the first {self.measured_steps} steps of this run (the first one a warm-up) while it "
            f"paused, extrapolated to {self.steps} steps"
        )
        return "; ".join([text, *self.notes])

    def scaled(self, ratio: float, model: str) -> "Estimate":
        """The same run on a model whose step costs `ratio` times this one's (start-up kept: a guess)."""
        return dataclasses.replace(
            self,
            model=model,
            warmup_step_seconds=self.warmup_step_seconds * ratio,
            step_seconds=self.step_seconds * ratio,
            save_seconds=self.save_seconds * ratio,
        )

    def summary_line(self) -> str:
        where = "this GPU" if self.device == "cuda" else "this CPU"
        if self.processes > 1:
            where = f"{self.processes} processes"
        memory = (
            ""
            if self.peak_memory_gb is None
            else (
                f", peak {'GPU ' if self.memory == 'GPU' else ''}memory ~{self.peak_memory_gb:.1f} GB"
                + (" per process" if self.processes > 1 else "")
            )
        )
        return (
            f"Estimated training time: about {duration(self.seconds)} on {where} "
            f"({step_time(self.step_seconds)} s/step x {self.steps} steps, plus "
            f"{self.startup_seconds:.0f} s to start){memory}"
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(seconds=round(self.seconds, 2), method=self.method)
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}

    @classmethod
    def from_pause(cls, data: dict, launched: float, spec, settings) -> "Estimate":
        """From out/pause.json (absolute timestamps) and the moment the process was started."""
        ends = [float(t) for t in data["step_ends"]]
        begin = float(data["train_begin"])
        timed = [b - a for a, b in zip(ends, ends[1:])] or [ends[0] - begin]
        gpu = data.get("peak_gpu_gb")
        save = SAVE_BASE_SECONDS + 12 * (data.get("trainable_params") or 0) / SAVE_BYTES_PER_SECOND
        return cls(
            model=spec.model,
            device=spec.device,
            steps=settings.max_steps,
            save_steps=settings.save_steps,
            startup_seconds=max(0.0, begin - launched),
            warmup_step_seconds=max(0.0, ends[0] - begin),
            step_seconds=sum(timed) / len(timed),
            save_seconds=save,
            measured_steps=len(ends),
            peak_memory_gb=gpu if gpu is not None else data.get("peak_rss_gb"),
            memory="GPU" if gpu is not None else "RAM",
            params=data.get("params"),
            processes=int(data.get("processes") or 1),
        )


def duration(seconds: float) -> str:
    """'25 s' under a minute and a half, else '21 min'."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def step_time(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 1 else f"{seconds:.1f}"


def minutes(value: float) -> str:
    return f"{value:g} min"


# ---- the budget ---------------------------------------------------------------------------------------------


@dataclass
class Advice:
    """An estimate held against a time budget: over or not, what would fit, what --yes picks."""

    over: bool
    budget_seconds: float
    message: str
    fewer_steps: int | None = None  # the most steps that fit (None: not even one)
    fewer_seconds: float | None = None
    fewer_ok: bool = False  # at least MIN_STEP_SHARE of the planned steps
    smaller: str | None = None
    smaller_seconds: float | None = None
    pick: Action = "keep"


def save_steps_for(steps: int, save_steps: int) -> int:
    """Checkpoint interval for a shortened run, as `--steps` sets it (rl_agent/kit/tracks/base.py)."""
    return min(save_steps, max(1, steps // 2))


def advise(
    est: Estimate,
    budget_minutes: float,
    *,
    smaller: str | None = None,
    smaller_params: int | None = None,
    steps_fixed: bool = False,
    model_fixed: bool = False,
) -> Advice:
    """Hold `est` against the budget; name fewer steps that fit and the smaller model, and what --yes picks
    (the order is in the module docstring)."""
    budget = budget_minutes * 60
    total = est.seconds
    if total <= budget:
        return Advice(False, budget, f"about {duration(total)}: within the {minutes(budget_minutes)} budget")
    fit = next(
        (n for n in range(est.steps - 1, 0, -1) if est.seconds_for(n, save_steps_for(n, est.save_steps)) <= budget),
        None,
    )
    advice = Advice(
        True,
        budget,
        "",
        fewer_steps=fit,
        fewer_ok=fit is not None and fit >= max(1, math.ceil(est.steps * MIN_STEP_SHARE)),
    )
    if fit is not None:
        advice.fewer_seconds = est.seconds_for(fit, save_steps_for(fit, est.save_steps))
    if smaller and smaller != est.model:
        advice.smaller = smaller
        if smaller_params and est.params and est.params > smaller_params:
            advice.smaller_seconds = est.scaled((smaller_params / est.params) ** PARAMS_EXPONENT, smaller).seconds
    options = []
    if advice.smaller:
        about = f"about {duration(advice.smaller_seconds)}" if advice.smaller_seconds else "measured once switched"
        options.append(f"use {advice.smaller} ({about})")
    if fit is not None:
        short = "" if advice.fewer_ok else f", under {MIN_STEP_SHARE:.0%} of the planned steps"
        options.append(f"--steps {fit} (about {duration(advice.fewer_seconds)}{short})")
    else:
        options.append(f"not even 1 step fits (starting up alone takes {duration(est.startup_seconds)})")
    advice.message = (
        f"about {duration(total)} for {est.model} at {est.steps} steps exceeds the "
        f"{minutes(budget_minutes)} budget: " + " or ".join(options)
    )
    if advice.fewer_ok and not steps_fixed:
        advice.pick = "steps"
    elif advice.smaller and not model_fixed:
        advice.pick = "model"
    return advice


# ---- the train stage with its estimate ----------------------------------------------------------------------


@dataclass
class EstimateOptions:
    """How `setup` wants the estimate held against the budget. budget_minutes None or 0: no budget check."""

    budget_minutes: float | None = DEFAULT_BUDGET_MINUTES
    yes: bool = False
    ask: Callable[[str], bool] | None = None  # a yes/no question to the user; None: nobody to ask
    steps_fixed: bool = False  # --steps was given: --yes keeps it
    model_fixed: bool = False  # --model was given: --yes keeps it
    smaller: ModelChoice | None = None  # the smaller model to propose
    smaller_params: int | None = None


def smaller_choice(choice: ModelChoice, hub: bool) -> tuple[ModelChoice | None, int | None]:
    """The smaller model a budget proposal may switch to: the small hub model, for any other hub model."""
    if not hub or choice.source != "hub" or choice.name == SMALL_HUB_MODEL:
        return None, None
    return ModelChoice(SMALL_HUB_MODEL, "hub", "a smaller model, to fit the time budget"), SMALL_HUB_PARAMS


class TimeEstimator:
    """Runs the train stage for `setup`: pause after the first steps, estimate, check the budget, decide."""

    def __init__(self, options: EstimateOptions):
        self.options = options
        self.smaller = options.smaller
        self.budget_checks = True  # off once the plan was cut to fit
        self.record: dict[str, Any] = {"budget_minutes": options.budget_minutes or None}
        self.pending: tuple[Action, Advice, Estimate] | None = None  # a stop's new plan, applied after the exit

    # ---- the stage --------------------------------------------------------------------------------------
    def train(self, pipeline: "Pipeline", state: RunState) -> None:
        """Train with --pause-after; at the pause, estimate and decide. A stop changes the plan, renders it
        again and starts over (at most twice: a smaller model, then fewer steps on it)."""
        track, folder = pipeline.track(state), pipeline.folder
        for _ in range(3):
            cmd, env = track.train_command(state.spec, state.python, folder.root)
            pause = self.pause_steps(pipeline, state)
            if pause is None:
                pipeline._run_command(state, cmd, "training", env)
                return
            out = folder.path(OUT_DIR)
            out.mkdir(exist_ok=True)
            for name in (PAUSE_FILE, GO_FILE, STOP_FILE):
                (out / name).unlink(missing_ok=True)
            launched = time.time()
            self.pending, answered = None, []

            def echo(text: str) -> None:
                pipeline.console.file.write(text)
                if PAUSE_MARK in text and not answered:
                    answered.append(True)
                    try:
                        self.at_pause(pipeline, state, launched)
                    except (OSError, ValueError, KeyError, TypeError) as e:  # no estimate, but training goes on
                        self.skip(pipeline, f"out/{PAUSE_FILE} could not be read ({e})")
                        (out / GO_FILE).write_text("rl-agent\n")

            try:
                pipeline._run_command(state, [*cmd, "--pause-after", str(pause)], "training", env, echo=echo)
            except StageError:
                if self.pending is None:
                    raise
            finally:
                for name in (PAUSE_FILE, GO_FILE, STOP_FILE):
                    (out / name).unlink(missing_ok=True)
            if self.pending is None:
                if not answered:  # ended before the pause (it cannot, for runs longer than the pause)
                    self.skip(pipeline, f"training ended before step {pause}")
                return
            book(state, "estimate", time.time() - launched)  # a stopped attempt is not training time
            self.apply(pipeline, state)
        raise StageError("the time budget changed the plan three times; start again with --time-budget 0")

    def pause_steps(self, pipeline: "Pipeline", state: RunState) -> int | None:
        """After how many steps the run pauses for its estimate; None (with a note) when it cannot."""
        track, folder = pipeline.track(state), pipeline.folder
        settings = track.settings(state.spec)
        pause = min(PAUSE_STEPS, settings.save_steps, settings.max_steps - 1)  # before any checkpoint, and the end
        if pause < 3:
            return self.skip(pipeline, f"a {settings.max_steps}-step run is over before it could be timed")
        if list(folder.path(OUT_DIR).glob("checkpoint-*")):
            return self.skip(pipeline, "training continues from a checkpoint")
        if "--pause-after" not in folder.path(track.train_script).read_text(encoding="utf-8"):
            return self.skip(pipeline, f"{track.train_script} has no --pause-after (rendered by an older rl-agent)")
        return pause

    def skip(self, pipeline: "Pipeline", why: str) -> None:
        pipeline.console.print(f"no time estimate: {why}", highlight=False)
        write_json_atomic(
            pipeline.folder.path(ESTIMATE_FILE), {**self.record, "seconds": None, "method": f"skipped: {why}"}
        )
        return None

    # ---- at the pause -----------------------------------------------------------------------------------
    def at_pause(self, pipeline: "Pipeline", state: RunState, launched: float) -> None:
        """The run is paused after its first steps: estimate, print, check the budget, write go or stop."""
        started = time.time()
        console, folder = pipeline.console, pipeline.folder
        out = folder.path(OUT_DIR)
        data = json.loads((out / PAUSE_FILE).read_text(encoding="utf-8"))
        settings = pipeline.track(state).settings(state.spec)
        est = Estimate.from_pause(data, launched, state.spec, settings)
        console.file.write("\n")
        console.print(f"[bold]{est.summary_line()}[/bold]", highlight=False)
        write_json_atomic(folder.path(ESTIMATE_FILE), {**self.record, **est.to_json()})
        action: Action = "keep"
        if state.spec.device == "cpu" and self.options.budget_minutes and self.budget_checks:
            advice = advise(
                est,
                self.options.budget_minutes,
                smaller=self.smaller.name if self.smaller else None,
                smaller_params=self.options.smaller_params,
                steps_fixed=self.options.steps_fixed,
                model_fixed=self.options.model_fixed,
            )
            if advice.over:
                console.print(f"[bold yellow]Over the time budget:[/bold yellow] {advice.message}", highlight=False)
                action = decide(advice, self.options, console, est)
                self.record["decision"] = {"over_budget": advice.message, "action": action}
                write_json_atomic(folder.path(ESTIMATE_FILE), {**self.record, **est.to_json()})
                if action != "keep":
                    self.pending = (action, advice, est)
        (out / (GO_FILE if action == "keep" else STOP_FILE)).write_text("rl-agent\n")
        if action == "keep":
            book(state, "estimate", time.time() - started)  # the pause is not training time

    def apply(self, pipeline: "Pipeline", state: RunState) -> None:
        """After a stop: the new plan (fewer steps or the smaller model), saved and rendered again."""
        assert self.pending is not None
        action, advice, est = self.pending
        folder = pipeline.folder
        decision = self.record.setdefault("decision", {})
        if action == "steps":
            settings = pipeline.track(state).settings(state.spec)
            n = advice.fewer_steps
            decision["steps"] = f"{settings.max_steps} -> {n}"
            settings.max_steps, settings.save_steps = n, save_steps_for(n, settings.save_steps)
            self.budget_checks = False
            pipeline.console.print(f"training {n} steps instead (the run starts again)", highlight=False)
        else:
            smaller = self.smaller
            assert smaller is not None
            decision["model"] = f"{state.spec.model} -> {smaller.name}"
            reason = f"{smaller.reason} ({state.spec.model}: about {duration(est.seconds)})"
            state.spec = state.spec.model_copy(
                update={"model": smaller.name, "model_source": smaller.source, "model_reason": reason}
            )
            pipeline.stage_model(state)
            self.smaller = None
            pipeline.console.print(f"model: [bold]{smaller.name}[/bold] ({reason}; the run starts again)")
        pipeline.stage_render(state)
        folder.save(state)
        path = folder.path(ESTIMATE_FILE)  # until the next pause measures the new plan
        write_json_atomic(path, {**json.loads(path.read_text(encoding="utf-8")), "decision": decision})


def book(state: RunState, key: str, seconds: float) -> None:
    state.timings[key] = state.timings.get(key, 0.0) + seconds


def decide(advice: Advice, options: EstimateOptions, console: "Console", est: Estimate) -> Action:
    """--yes: the advice's pick. Interactive: ask, option by option. Nobody to ask: as planned."""
    words = {
        "steps": f"training {advice.fewer_steps} steps instead of {est.steps}",
        "model": f"switching to {advice.smaller}",
        "keep": "training as planned",
    }
    if options.yes:
        why = []
        if advice.pick == "keep" and advice.fewer_ok:
            why.append("--yes keeps the --steps you gave")
        if advice.pick == "keep" and advice.smaller:
            why.append("--yes keeps the --model you gave")
        if advice.pick == "keep" and not why:
            why.append(f"no smaller model, and fewer steps would be under {MIN_STEP_SHARE:.0%} of the plan")
        console.print(f"--yes: {words[advice.pick]}" + (f" ({'; '.join(why)})" if why else ""), highlight=False)
        return advice.pick
    if options.ask is None:
        console.print(
            "training as planned: nobody to ask here (--yes picks for you; --time-budget 0 turns this check off)",
            highlight=False,
        )
        return "keep"
    if advice.fewer_steps and options.ask(
        f"Train {advice.fewer_steps} steps instead of {est.steps} (about {duration(advice.fewer_seconds or 0)})?"
    ):
        return "steps"
    if advice.smaller and options.ask(
        f"Switch to {advice.smaller}"
        + (f" (about {duration(advice.smaller_seconds)})?" if advice.smaller_seconds else "?")
    ):
        return "model"
    if options.ask(f"Train as planned anyway (about {duration(est.seconds)})?"):
        return "keep"
    raise StageError(
        "cancelled before training went on: over the time budget (`rl-agent resume` trains as "
        "planned; or start again with --steps, --model or --time-budget)"
    )

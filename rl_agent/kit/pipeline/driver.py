"""The stage driver, one for every track: model -> data -> render -> train -> evaluate -> report.

Each stage records itself in run.json when it finishes, so `rl-agent resume` re-enters at the first
unfinished stage (training itself continues from its newest checkpoint). What differs between algorithms
comes from the run's Track (rl_agent/kit/tracks/); nothing here names one. Data flows one way; nothing
here reaches back into an earlier stage.
"""

from __future__ import annotations

import json
import shutil
import time
from typing import Callable

from rich.console import Console

from rl_agent.kit.dataio.validation import VALIDATION_FILE, carve_validation, validation_rows, write_validation
from rl_agent.kit.judges.agreement import AGREEMENT_FILE
from rl_agent.kit.launch.process import child_env, run_step
from rl_agent.kit.models.tiny import EmbeddedModelError, embedded_model_dir
from rl_agent.kit.pipeline import report as reporting
from rl_agent.kit.pipeline.estimate import ESTIMATE_FILE, TimeEstimator
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunState
from rl_agent.kit.pipeline.selection import (
    SELECTION_FILE,
    VALIDATION_OUTPUT,
    SelectionError,
    read_selection,
    select,
    supports_selection,
)
from rl_agent.kit.pipeline.selection import report_fields as selection_report
from rl_agent.kit.pipeline.stage_error import StageError
from rl_agent.kit.pipeline.task_check import CHECK_EVAL_FILE, TaskCheckError, score_heldout
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.base import MIN_HELDOUT_ROWS, MIN_TRAIN_ROWS, Track
from rl_agent.kit.tracks.registry import get_track

LOG_FILE = "train.log"
MIN_TRAIN_PAIRS = MIN_TRAIN_ROWS
MIN_HELDOUT_PAIRS = MIN_HELDOUT_ROWS


class NotSelected(StageError):
    """No checkpoint passes the verdict's rules on validation (raised only when asked to halt there): the repair
    loop searches for settings (agent/repair/tuning.py) before the held-out test prompts are read."""


def validate_data(spec: RunSpec) -> tuple[list, list]:
    """Load and cross-check the run's data files the way its track will (bad data loses nothing)."""
    return get_track(spec.algorithm).load_data(spec)


class Pipeline:
    """Runs one run folder's stages over its spec's track."""

    def __init__(
        self, folder: RunFolder, console: Console, track: Track | None = None, estimator: TimeEstimator | None = None
    ):
        self.folder = folder
        self.console = console
        self._track = track
        # setup's time estimate (rl_agent/kit/pipeline/estimate.py): it runs the train stage, pausing the
        # training after its first steps to estimate and check the budget; None trains straight through.
        self.estimator = estimator
        self.halt_unselected = False  # True: stop after training when no checkpoint passes on validation

    def track(self, state: RunState) -> Track:
        return self._track or get_track(state.spec.algorithm)

    # ---- stages -------------------------------------------------------------------------------------
    def stage_model(self, state: RunState) -> None:
        spec = state.spec
        if spec.model_source != "embedded":
            state.model_path = spec.model
            return
        try:
            path = embedded_model_dir()
        except EmbeddedModelError as e:
            raise StageError(str(e)) from None
        recipe = json.loads((path / "recipe.json").read_text(encoding="utf-8"))
        self.console.print(
            f"embedded model (shipped with rl-agent, {recipe.get('hidden_size')}-wide, "
            f"{recipe.get('num_hidden_layers')} layers): {path}"
        )
        state.model_path = str(path)

    def stage_data(self, state: RunState) -> None:
        track = self.track(state)
        train, heldout = track.load_data(state.spec)
        if supports_selection(track):  # validation from the training side: what chooses never reads the test
            split = carve_validation(train, seed=track.settings(state.spec).seed)
            train = split.train
            write_validation(self.folder.path(VALIDATION_FILE), split.validation)
            self.console.print(
                f"splits: {split.sizes()} (for choosing), {len(heldout)} held-out test rows (for the "
                f"before/after only); no prompt on two sides"
            )
        track.write_data(self.folder.root, train, heldout)

    def stage_render(self, state: RunState) -> None:
        track = self.track(state)
        try:
            ctx = track.render_context(state.spec, state.model_path or state.spec.model)
        except ValueError as e:
            raise StageError(str(e)) from None
        write_rendered(track.train_template, ctx, self.folder.path(track.train_script))
        write_rendered(track.eval_template, ctx, self.folder.path(track.eval_script))
        track.after_render(self.folder.root, state.spec)

    def _run_command(
        self, state: RunState, cmd: list, what: str, env: dict | None = None, echo: Callable[[str], None] | None = None
    ) -> None:
        env = env or child_env(offline=state.spec.model_source != "hub")
        result = run_step(
            cmd,
            cwd=self.folder.root,
            log_path=self.folder.path(LOG_FILE),
            env=env,
            echo=echo or (lambda s: self.console.file.write(s)),
        )
        if not result.ok:
            last = [ln for ln in result.tail.splitlines() if ln.strip()]
            raise StageError(
                f"{what} failed (exit {result.returncode}): {last[-1] if last else 'no output'}; see {result.log_path}"
            )

    def stage_train(self, state: RunState) -> None:
        if self.estimator is not None:
            self.estimator.train(self, state)
        else:
            cmd, env = self.track(state).train_command(state.spec, state.python, self.folder.root)
            self._run_command(state, cmd, "training", env)
        if not self.folder.path("out/train_metrics.json").is_file():
            raise StageError(f"training finished without out/train_metrics.json; see {self.folder.path(LOG_FILE)}")
        self.select_checkpoint(state)

    def select_checkpoint(self, state: RunState) -> None:
        """Score every checkpoint on validation and keep the best (pipeline/selection.py)."""
        track = self.track(state)
        self.folder.path(SELECTION_FILE).unlink(missing_ok=True)
        if not supports_selection(track) or not validation_rows(self.folder.path(VALIDATION_FILE)):
            return
        self._run_command(
            state,
            [state.python, track.eval_script, "--select"],
            "checkpoint scoring on validation",
            track.script_env(state.spec),
        )
        try:
            validation = json.loads(self.folder.path(VALIDATION_OUTPUT).read_text(encoding="utf-8"))
            sel = select(self.folder.root, state.spec, track, validation)
        except (OSError, ValueError, SelectionError) as e:
            raise StageError(f"checkpoint selection failed: {e}") from None
        self.console.print(
            f"checkpoint selection on {sel.validation_rows} validation prompts "
            f"({len(sel.candidates)} checkpoints, {sel.seconds:.0f} s): {sel.reason}",
            highlight=False,
        )

    def stage_evaluate(self, state: RunState) -> None:
        track = self.track(state)
        self._run_command(state, [state.python, track.eval_script], "evaluation", track.script_env(state.spec))
        if state.spec.check_file:
            try:
                result = score_heldout(self.folder.root, state.spec.check_file, state.spec.check_kind)
            except TaskCheckError as e:
                raise StageError(str(e)) from None
            b, a = result["before"]["pass_rate"], result["after"]["pass_rate"]
            self.console.print(f"task check pass rate on held-out answers: base {b:.2f} -> tuned {a:.2f}")
            win = result.get("win_rate")
            if win:
                rate = "n/a" if win["rate"] is None else f"{win['rate']:.2f}"
                self.console.print(
                    f"pairwise win rate of tuned over base (both orders): {rate} ({win['wins']} wins, "
                    f"{win['losses']} losses, {win['ties']} ties, {win['failed']} failed; "
                    f"${win['cost_usd']:.4f})"
                )

    def stage_report(self, state: RunState) -> dict:
        track = self.track(state)
        ev = json.loads(self.folder.path("eval.json").read_text(encoding="utf-8"))
        check_path = self.folder.path(CHECK_EVAL_FILE)
        if state.spec.check_file and check_path.is_file():
            ev["task_check"] = json.loads(check_path.read_text(encoding="utf-8"))
        agreement = self.folder.path(AGREEMENT_FILE)  # written before training for a judged task
        if agreement.is_file():
            ev["judge_agreement"] = json.loads(agreement.read_text(encoding="utf-8"))
        tm = json.loads(self.folder.path("out/train_metrics.json").read_text(encoding="utf-8"))
        plot = self.folder.path("out") / track.plot_name
        plot_name = None
        if plot.is_file():
            shutil.copyfile(plot, self.folder.path(track.plot_name))
            plot_name = track.plot_name
        state.timings["report"] = 0.0
        est_path = self.folder.path(ESTIMATE_FILE)  # the time estimate made before training, if one was
        estimate = json.loads(est_path.read_text(encoding="utf-8")) if est_path.is_file() else None
        rep = reporting.build_report(state, track, ev, tm, sum(state.timings.values()), estimate=estimate)
        sel = read_selection(self.folder.root)
        if sel is not None:  # which checkpoint the before/after judged, and why (pipeline/selection.py)
            rep["selection"] = selection_report(sel, self.folder.root)
        reporting.write_report(self.folder.root, rep, plot_name)
        return rep

    # ---- driver -------------------------------------------------------------------------------------
    def run(self, state: RunState) -> dict:
        """Run every unfinished stage in order; mark the run failed (not complete) on any error."""
        rep: dict = {}
        titles = self.track(state).stage_titles()
        try:
            for stage in STAGES:
                if stage in state.stages_done and stage != "report":
                    continue
                if stage == "evaluate" and "train" in state.stages_done and read_selection(self.folder.root) is None:
                    self.select_checkpoint(state)  # trained, but the choice was dropped (a repair changed the answers)
                if stage == "evaluate" and self.halt_unselected:  # the test is read only after a passing choice
                    sel = read_selection(self.folder.root)
                    if sel is not None and not sel.passed:
                        raise NotSelected(f"no checkpoint passes on validation: {sel.reason}")
                self.console.rule(f"[bold]{titles[stage]}")
                started = time.time()
                elsewhere = sum(v for k, v in state.timings.items() if k != stage)
                out = getattr(self, f"stage_{stage}")(state)
                # time a stage booked under another name (the estimate's pause and re-planning) counts once
                elsewhere = sum(v for k, v in state.timings.items() if k != stage) - elsewhere
                state.timings[stage] = state.timings.get(stage, 0.0) + time.time() - started - elsewhere
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


def render_context(spec: RunSpec, model_path: str) -> dict:
    """The template variables of `spec`'s track (what stage_render renders with)."""
    return get_track(spec.algorithm).render_context(spec, model_path)

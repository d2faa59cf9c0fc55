"""The stage driver, one for every track: model -> data -> render -> train -> evaluate -> report.

Each stage records itself in run.json when it finishes, so `rl-agent resume` re-enters at the first
unfinished stage (training itself continues from its newest checkpoint). What differs between algorithms
comes from the run's Track (rl_agent/kit/tracks/); nothing here names one. Data flows one way; nothing
here reaches back into an earlier stage.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rl_agent.kit.pipeline import report as reporting
from rl_agent.kit.pipeline.process import child_env, run_step
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunState
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.base import MIN_HELDOUT_ROWS, MIN_TRAIN_ROWS, Track
from rl_agent.kit.tracks.registry import get_track

LOG_FILE = "train.log"
MIN_TRAIN_PAIRS = MIN_TRAIN_ROWS
MIN_HELDOUT_PAIRS = MIN_HELDOUT_ROWS


class StageError(RuntimeError):
    """A stage failed; the message is one line, the details are in the run's log file."""


def validate_data(spec: RunSpec) -> tuple[list, list]:
    """Load and cross-check the run's data files the way its track will (bad data loses nothing)."""
    return get_track(spec.algorithm).load_data(spec)


class Pipeline:
    """Runs one run folder's stages over its spec's track."""

    def __init__(self, folder: RunFolder, console: Console, cache_dir: Path, track: Track | None = None):
        self.folder = folder
        self.console = console
        self.cache_dir = cache_dir
        self._track = track

    def track(self, state: RunState) -> Track:
        return self._track or get_track(state.spec.algorithm)

    # ---- stages -------------------------------------------------------------------------------------
    def stage_model(self, state: RunState) -> None:
        spec = state.spec
        if spec.model_source != "embedded":
            state.model_path = spec.model
            return
        cmd = [state.python, "-m", "rl_agent.kit.models.tiny", "--cache-dir", str(self.cache_dir)]
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
        track = self.track(state)
        train, heldout = track.load_data(state.spec)
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

    def _run_command(self, state: RunState, cmd: list, what: str, env: dict | None = None) -> None:
        env = env or child_env(offline=state.spec.model_source != "hub")
        result = run_step(cmd, cwd=self.folder.root, log_path=self.folder.path(LOG_FILE), env=env,
                          echo=lambda s: self.console.file.write(s))
        if not result.ok:
            last = [ln for ln in result.tail.splitlines() if ln.strip()]
            raise StageError(f"{what} failed (exit {result.returncode}): {last[-1] if last else 'no output'}; "
                             f"see {result.log_path}")

    def stage_train(self, state: RunState) -> None:
        cmd, env = self.track(state).train_command(state.spec, state.python, self.folder.root)
        self._run_command(state, cmd, "training", env)
        if not self.folder.path("out/train_metrics.json").is_file():
            raise StageError(f"training finished without out/train_metrics.json; see {self.folder.path(LOG_FILE)}")

    def stage_evaluate(self, state: RunState) -> None:
        track = self.track(state)
        self._run_command(state, [state.python, track.eval_script], "evaluation", track.script_env(state.spec))

    def stage_report(self, state: RunState) -> dict:
        track = self.track(state)
        ev = json.loads(self.folder.path("eval.json").read_text(encoding="utf-8"))
        tm = json.loads(self.folder.path("out/train_metrics.json").read_text(encoding="utf-8"))
        plot = self.folder.path("out") / track.plot_name
        plot_name = None
        if plot.is_file():
            shutil.copyfile(plot, self.folder.path(track.plot_name))
            plot_name = track.plot_name
        state.timings["report"] = 0.0
        rep = reporting.build_report(state, track, ev, tm, sum(state.timings.values()))
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
                self.console.rule(f"[bold]{titles[stage]}")
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


def _package_parent() -> str:
    """The folder holding the rl_agent package, so a training interpreter without rl-agent installed can
    still run `python -m rl_agent.kit.models.tiny` (it needs only the stdlib, torch and transformers)."""
    import rl_agent

    return str(Path(rl_agent.__file__).resolve().parent.parent)


def render_context(spec: RunSpec, model_path: str) -> dict:
    """The template variables of `spec`'s track (what stage_render renders with)."""
    return get_track(spec.algorithm).render_context(spec, model_path)

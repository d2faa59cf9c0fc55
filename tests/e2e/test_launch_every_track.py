"""Scale-out on every track: DPO, SFT and KTO render accelerate_config.yaml and launch through `accelerate launch`
(the Track's own train_command) as two CPU processes over gloo, exactly as GRPO does
(test_launch_two_processes.py). Both ranks train, only the main one writes, and the global batch is the one a
one-process run trains on: the script splits batch_size x grad_accum between the processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rl_agent.kit.launch.accelerate import CONFIG_FILE, write_accelerate_config
from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.registry import get_track
from tests.e2e.test_launch_two_processes import free_port

pytestmark = pytest.mark.slow

# Small and quick; batch 4 x accumulation 2 = a global batch of 8 that two processes split (4 x 1 each).
SMALL = {
    "max_steps": 2,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 2,
    "save_steps": 2,
    "logging_steps": 1,
    "max_length": 64,
    "lora_r": 4,
    "lora_alpha": 8,
}


def make_run(folder: Path, model: Path, track_name: str, processes: int) -> tuple[RunSpec, object]:
    """A rendered run folder of `track_name` on its bundled data, training with `processes` processes."""
    track = get_track(track_name)
    plan = track.setup("local", "cpu", reward=None, max_cost=None, steps=2, train=None, heldout=None)
    settings = track.settings_cls(**{**SMALL, "num_processes": processes})
    spec = RunSpec(
        model=str(model),
        model_source="local",
        algorithm=track_name,
        train_file=str(plan.train_file),
        heldout_file=str(plan.heldout_file),
        **{track_name: settings},
    )
    folder.mkdir(parents=True)
    train, heldout = track.load_data(spec)
    track.write_data(folder, train[:16], heldout)
    write_rendered(track.train_template, render_context(spec, str(model)), folder / track.train_script)
    track.after_render(folder, spec)
    return spec, track


def train(folder: Path, spec: RunSpec, track) -> tuple[dict, str, float]:
    cmd, env = track.train_command(spec, sys.executable, folder)
    started = time.time()
    proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.time() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((folder / "out" / "train_metrics.json").read_text()), proc.stdout, seconds


@pytest.mark.parametrize("track_name", ["dpo", "sft", "kto"])
def test_two_cpu_processes_train_every_track_on_the_one_process_global_batch(tmp_path, tiny_model, track_name):
    one_spec, track = make_run(tmp_path / "one", tiny_model, track_name, processes=1)
    cmd, _ = track.train_command(one_spec, sys.executable, tmp_path / "one")
    assert cmd == [sys.executable, track.train_script]  # one process: the plain script, as ever
    one, _, one_seconds = train(tmp_path / "one", one_spec, track)

    spec, track = make_run(tmp_path / "two", tiny_model, track_name, processes=2)
    run = tmp_path / "two"
    config = (run / CONFIG_FILE).read_text()
    assert "num_processes: 2" in config and "distributed_type: 'MULTI_GPU'" in config and track.train_script in config
    plan = track.launch_plan(spec).model_copy(update={"main_process_port": free_port()})
    write_accelerate_config(run, plan, track.train_script)  # a free port: tests may run side by side
    cmd, env = track.train_command(spec, sys.executable, run)
    assert "accelerate.commands.launch" in cmd and env["OMP_NUM_THREADS"]
    two, stdout, seconds = train(run, spec, track)

    assert one["processes"] == 1 and two["processes"] == 2  # accelerate's world size: both ranks trained
    assert (
        one["global_batch"]
        == two["global_batch"]
        == SMALL["per_device_train_batch_size"] * SMALL["gradient_accumulation_steps"]
    )
    assert (one["per_device_train_batch_size"], one["gradient_accumulation_steps"]) == (4, 2)
    assert (two["per_device_train_batch_size"], two["gradient_accumulation_steps"]) == (4, 1)  # accumulation split
    assert one["steps"] == two["steps"] == 2
    assert (run / "adapter" / "adapter_config.json").is_file() and (run / "out" / "loss.png").is_file()
    assert stdout.count("done: 2 steps") == 1  # only the main process reports and writes files
    print(
        f"{track_name}: one process {one_seconds:.1f} s, two processes {seconds:.1f} s, "
        f"global batch {one['global_batch']} / {two['global_batch']}"
    )

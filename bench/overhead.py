"""Kit overhead: the same DPO + LoRA training through rl-agent vs a plain hand-written TRL script.

Both run as their own processes on the embedded tiny model with identical settings, alternating so machine
noise hits both alike. rl-agent's side is what `rl-agent setup` does for training: render train_dpo.py from
the template and run it through the kit's process runner (log tee, filtered console). Prints the median
wall time of each and their ratio (target: at most 1.05).

    python bench/overhead.py [--rounds 3] [--steps 100]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.launch.process import child_env, run_step
from rl_agent.kit.models.tiny import embedded_model_dir
from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.dpo import DPOSettings

HERE = Path(__file__).resolve().parent


def through_rl_agent(model: Path, work: Path, steps: int) -> float:
    spec = RunSpec(model=str(model), model_source="local", dpo=DPOSettings(steps=steps))
    work.mkdir(parents=True)
    shutil.copy(bundled_pairs_path("train"), work / "train.jsonl")
    started = time.perf_counter()
    write_rendered("train_dpo.py.j2", render_context(spec, str(model)), work / "train_dpo.py")
    result = run_step(
        [sys.executable, "train_dpo.py"],
        cwd=work,
        log_path=work / "train.log",
        env=child_env(offline=True),
        echo=lambda s: None,
    )
    elapsed = time.perf_counter() - started
    if not result.ok:
        sys.exit(f"rl-agent run failed:\n{result.tail}")
    return elapsed


def through_plain_trl(model: Path, work: Path, steps: int) -> float:
    work.mkdir(parents=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "plain_trl_dpo.py"),
            str(model),
            str(bundled_pairs_path("train")),
            str(work),
            str(steps),
        ],
        env=child_env(offline=True),
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"plain TRL run failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    console = Console()
    model = embedded_model_dir()
    kit, plain = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            order = [("kit", through_rl_agent), ("plain", through_plain_trl)]
            if i % 2:
                order.reverse()
            for name, fn in order:
                seconds = fn(model, Path(tmp) / f"{name}-{i}", args.steps)
                (kit if name == "kit" else plain).append(seconds)
                console.print(f"round {i + 1}: {name:5s} {seconds:6.2f} s")
    k, p = statistics.median(kit), statistics.median(plain)
    console.print(f"\nmedian over {args.rounds} rounds, {args.steps} steps: rl-agent {k:.2f} s, plain TRL {p:.2f} s")
    console.print(f"[bold]overhead ratio rl-agent / plain TRL: {k / p:.3f}[/bold] (target <= 1.05)")


if __name__ == "__main__":
    main()

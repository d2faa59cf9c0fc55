"""GPU check: the full-size Qwen3-0.6B stand-in through rl-agent's DPO and GRPO scripts, beside the plain TRL
DPO script (bench/plain_trl_dpo.py) on the same model, data and settings: tokens/s and peak GPU memory.

The model is tools/build_standins.py's `qwen3` at its published shape (28 layers, hidden 1024, vocab 151,936,
random weights in bf16): speed and memory depend on the shape, not on what the weights know. Each script runs
in its own process; peak memory is torch.cuda.max_memory_allocated in that process. Tokens/s counts the
tokens each trainer processed (DPO: prompt + chosen and prompt + rejected of every example of every step, as
TRL truncates them to max_length; GRPO: TRL's own `num_tokens`) over the trainer's `train_runtime`. With vllm
installed, GRPO generates with vLLM (colocated), else with transformers, and the output says which.

    python bench/gpu.py                      # on a CUDA machine with rl-agent installed: render, build, run
    python bench/gpu.py --render-only DIR    # render the run folders here (rl-agent needed, no GPU)
    python bench/gpu.py --rendered DIR       # run folders rendered elsewhere (no rl-agent needed there)
    python bench/gpu.py --smoke              # the same harness on the CPU with the tiny stand-in, 2 steps
                                             # (tests/e2e/test_bench_gpu.py: proves the harness, measures nothing)

Without a CUDA GPU it says so and exits 0. Sized to finish in under 8 minutes on one GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DPO_STEPS, GRPO_STEPS = 30, 8
# The plain script's settings (bench/plain_trl_dpo.py), so both DPO runs do the same work.
DPO = {
    "learning_rate": 5e-4,
    "per_device_train_batch_size": 8,
    "gradient_accumulation_steps": 1,
    "max_length": 128,
    "save_steps": 1000,
    "logging_steps": 5,
}
GRPO = {
    "per_device_train_batch_size": 32,
    "gradient_accumulation_steps": 1,
    "num_generations": 8,
    "max_completion_length": 128,
    "save_steps": 1000,
    "logging_steps": 1,
}
SMOKE_GRPO = {
    "per_device_train_batch_size": 8,
    "num_generations": 4,
    "max_completion_length": 16,
}  # CPU: the harness, not speed
MODEL_DIR = "qwen3-0.6b-standin"  # beside the run folders


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def render(work: Path, smoke: bool = False) -> None:
    """The dpo/ and grpo/ run folders with their data, rendered by rl-agent for a CUDA bf16 run (smoke: CPU)."""
    from rl_agent.kit.dataio.pairs import bundled_pairs_path
    from rl_agent.kit.pipeline.driver import render_context
    from rl_agent.kit.pipeline.render import write_rendered
    from rl_agent.kit.spec import RunSpec
    from rl_agent.kit.tracks.dpo import DPOSettings
    from rl_agent.kit.tracks.grpo import GRPOSettings

    data = REPO / "rl_agent" / "data"
    dpo_steps, grpo_steps = (2, 2) if smoke else (DPO_STEPS, GRPO_STEPS)
    grpo = {**GRPO, **SMOKE_GRPO} if smoke else GRPO
    for algo, settings, train in (
        ("dpo", DPOSettings(steps=dpo_steps, **DPO), bundled_pairs_path("train")),
        ("grpo", GRPOSettings(steps=grpo_steps, **grpo), data / "arithmetic" / "train.jsonl"),
    ):
        folder = work / algo
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(train, folder / "train.jsonl")
        spec = RunSpec(
            model=f"../{MODEL_DIR}",
            model_source="local",
            algorithm=algo,
            device="cpu" if smoke else "cuda",
            precision="fp32" if smoke else "bf16",
            **{algo: settings},
        )
        name = f"train_{algo}.py"
        write_rendered(f"{name}.j2", render_context(spec, f"../{MODEL_DIR}"), folder / name)
    print(f"rendered {work}/dpo/train_dpo.py and {work}/grpo/train_grpo.py")


def build_model(work: Path, size: str = "full") -> Path:
    sys.path.insert(0, str(REPO / "tools"))
    from build_standins import build_standin

    started = time.time()
    path = build_standin("qwen3", work / MODEL_DIR, size)
    print(f"built the {size} Qwen3-0.6B stand-in in {time.time() - started:.0f} s: {path}")
    return path


# Runs one script in-process (so its peak GPU memory can be read) and prints a JSON line at the end.
_WRAP = r"""
import json, resource, runpy, sys, time, torch
script = sys.argv[1]
sys.argv = sys.argv[1:]
started = time.time()
runpy.run_path(script, run_name="__main__")
peak = (torch.cuda.max_memory_allocated() if torch.cuda.is_available()
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # CPU (smoke): peak RSS
print("\nBENCH " + json.dumps({"wall_s": time.time() - started, "peak_gb": peak / 2**30}))
"""


def run_wrapped(args: list[str], cwd: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-c", _WRAP, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")][-1]
    out = json.loads(line.removeprefix("BENCH "))
    runtimes = [
        json.loads(ln.removeprefix("TRAIN_METRICS "))["train_runtime"]
        for ln in proc.stdout.splitlines()
        if ln.startswith("TRAIN_METRICS ")
    ]
    out["log"] = proc.stdout
    if runtimes:
        out["train_runtime"] = runtimes[-1]
    return out


def dpo_tokens(model: Path, train: Path, steps: int, batch: int, max_length: int) -> int:
    """Tokens DPO processes in `steps` steps: prompt+chosen and prompt+rejected per example, truncated."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    rows = [json.loads(line) for line in train.read_text(encoding="utf-8").splitlines() if line.strip()]

    def length(prompt: str, answer: str) -> int:
        msgs = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        return min(max_length, len(tok.apply_chat_template(msgs, tokenize=True, enable_thinking=False)))

    per_row = [length(r["prompt"], r["chosen"]) + length(r["prompt"], r["rejected"]) for r in rows]
    seen = [per_row[i % len(per_row)] for i in range(steps * batch)]
    return sum(seen)


def grpo_tokens(run: Path) -> tuple[int | None, float | None]:
    metrics = json.loads((run / "out" / "train_metrics.json").read_text())
    hist = metrics["log_history"]
    tokens = [h["num_tokens"] for h in hist if "num_tokens" in h]
    runtime = [h["train_runtime"] for h in hist if "train_runtime" in h]
    return (int(tokens[-1]) if tokens else None), (runtime[-1] if runtime else None)


def kit_runtime(run: Path) -> float | None:
    hist = json.loads((run / "out" / "train_metrics.json").read_text())["log_history"]
    runtime = [h["train_runtime"] for h in hist if "train_runtime" in h]
    return runtime[-1] if runtime else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render-only", type=Path, help="render the run folders into DIR and stop")
    parser.add_argument("--rendered", type=Path, help="use run folders rendered earlier into DIR")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny stand-in, 2 steps: checks the harness")
    args = parser.parse_args()
    if args.render_only:
        render(args.render_only, args.smoke)
        return
    if not cuda_available() and not args.smoke:
        print("no CUDA GPU here: nothing to measure (this bench needs one; the CPU figures are in bench/overhead.py)")
        return
    import importlib.util

    import torch

    work = Path(tempfile.mkdtemp(prefix="rl-agent-gpu-"))
    if args.rendered:
        shutil.copytree(args.rendered, work, dirs_exist_ok=True)
    else:
        render(work, args.smoke)
    device = "CPU (smoke run)" if args.smoke else torch.cuda.get_device_name(0)
    print(
        f"device: {device}, torch {torch.__version__}; vllm "
        f"{'installed: GRPO generates with vLLM' if importlib.util.find_spec('vllm') else 'not installed: GRPO generates with transformers'}"
    )
    model = build_model(work, "tiny" if args.smoke else "full")
    dpo_steps, grpo_steps = (2, 2) if args.smoke else (DPO_STEPS, GRPO_STEPS)
    rows = []

    kit = run_wrapped(["train_dpo.py", "--fresh"], work / "dpo")
    tokens = dpo_tokens(
        model, work / "dpo" / "train.jsonl", dpo_steps, DPO["per_device_train_batch_size"], DPO["max_length"]
    )
    runtime = kit_runtime(work / "dpo") or kit["wall_s"]
    rows.append(("rl-agent DPO", dpo_steps, tokens / runtime, runtime, kit["wall_s"], kit["peak_gb"]))

    plain_out = work / "plain"
    plain = run_wrapped(
        [str(HERE / "plain_trl_dpo.py"), str(model), str(work / "dpo" / "train.jsonl"), str(plain_out), str(dpo_steps)],
        work,
    )
    runtime = plain.get("train_runtime") or plain["wall_s"]
    rows.append(("plain TRL DPO", dpo_steps, tokens / runtime, runtime, plain["wall_s"], plain["peak_gb"]))

    grpo = run_wrapped(["train_grpo.py", "--fresh"], work / "grpo")
    g_tokens, g_runtime = grpo_tokens(work / "grpo")
    g_runtime = g_runtime or grpo["wall_s"]
    rows.append(("rl-agent GRPO", grpo_steps, (g_tokens or 0) / g_runtime, g_runtime, grpo["wall_s"], grpo["peak_gb"]))

    print(f"\n{'run':15s} {'steps':>5s} {'tokens/s':>10s} {'train s':>8s} {'wall s':>7s} {'peak GB':>8s}")
    for name, steps, tps, rt, wall, peak in rows:
        print(f"{name:15s} {steps:5d} {tps:10.0f} {rt:8.1f} {wall:7.1f} {peak:8.2f}")
    print(
        f"\nrl-agent / plain TRL DPO: tokens/s ratio {rows[0][2] / rows[1][2]:.3f}, "
        f"peak memory ratio {rows[0][5] / rows[1][5]:.3f}"
    )
    print(
        json.dumps(
            {"rows": [dict(zip(("run", "steps", "tokens_per_s", "train_s", "wall_s", "peak_gb"), r)) for r in rows]}
        )
    )


if __name__ == "__main__":
    main()

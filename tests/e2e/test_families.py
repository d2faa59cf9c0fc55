"""Every track on every family: DPO, GRPO, SFT and KTO, then `export --merge` and `try`, on architecture-true
stand-ins of the models people bring (tools/build_standins.py: the real layer types, module names, special
tokens and chat templates, random weights, a few hundred thousand parameters).

Suite time: DPO and GRPO (the two data shapes: pairs, and online generation) run on every family; SFT and KTO,
which share DPO's evaluation and training scaffold, alternate between the families (every family runs one of
them), so the matrix fits the suite's budget. RL_AGENT_ALL_FAMILY_TRACKS=1 runs every track on every family.

Random weights answer gibberish, so the verdicts rightly fail; what must hold is the plumbing a family can
break: the run completes, evaluates and reports; LoRA wraps the family's own projections (fused ones
included); the model is asked the way it was trained (no thinking block, its own end-of-turn tokens), so
no answer carries template debris; the merged export loads with plain transformers and `try` answers.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.cli import REPO, run_cli
from tests.support.tools import tool

build_standin = tool("build_standins").build_standin

pytestmark = pytest.mark.slow

# The families of issue 18 (gemma2 and phi4-mini, also built by the tool, share their siblings' code paths).
FAMILIES = ("qwen3", "qwen2.5", "smollm2", "llama3.2", "gemma3", "phi3", "gpt2-base")
TRACKS = ("dpo", "grpo", "sft", "kto")
ALL_TRACKS = os.environ.get("RL_AGENT_ALL_FAMILY_TRACKS") == "1"


def tracks_for(family: str) -> tuple[str, ...]:
    """Every track with RL_AGENT_ALL_FAMILY_TRACKS=1; else DPO, GRPO and, alternating by family, SFT or KTO."""
    return TRACKS if ALL_TRACKS else ("dpo", "grpo", ("sft", "kto")[FAMILIES.index(family) % 2])


# What LoRA must wrap: each family's own attention and MLP projections.
TARGETS = {
    "phi3": {"qkv_proj", "o_proj", "gate_up_proj", "down_proj"},
    "gpt2-base": {"c_attn", "c_proj", "c_fc"},
}
LLAMA_STYLE = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
DEBRIS = (
    "<think>",
    "</think>",
    "<|im_start|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<|end|>",
    "<|user|>",
    "<|assistant|>",
    "<|endoftext|>",
)
HELDOUT_ROWS = 3


def _head(src: Path, dest: Path, n: int = HELDOUT_ROWS) -> Path:
    dest.write_text("".join(src.read_text(encoding="utf-8").splitlines(keepends=True)[:n]), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def heldout(tmp_path_factory) -> dict[str, Path]:
    """Three held-out rows per data kind: the runs test plumbing, not figures."""
    root = tmp_path_factory.mktemp("heldout")
    data = REPO / "rl_agent" / "data"
    pairs = _head(data / "terse" / "heldout.jsonl", root / "pairs.jsonl")
    return {
        "dpo": pairs,
        "sft": pairs,
        "kto": pairs,
        "grpo": _head(data / "arithmetic" / "heldout.jsonl", root / "sums.jsonl"),
    }


# Two CLI processes at a time, each on one thread: a stand-in's step is Python overhead, not arithmetic, so two
# runs side by side on two cores take little longer than one (measured: the matrix fits the suite's budget).
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module", params=FAMILIES)
def family_runs(request, tmp_path_factory, heldout):
    """One family's stand-in through every track (one step each), then export --merge and try on the DPO run;
    the DPO chain and the other tracks run side by side."""
    family = request.param
    root = tmp_path_factory.mktemp(family.replace(".", "_"))
    model = build_standin(family, root / "model", "tiny")

    def setup(track: str):
        run_dir = root / f"run-{track}"
        proc = run_cli(
            "setup",
            "--offline",
            "--yes",
            "--model",
            str(model),
            "--track",
            track,
            "--steps",
            "1",
            "--heldout",
            str(heldout[track]),
            "--run-dir",
            str(run_dir),
            env=ONE_THREAD,
        )
        return run_dir, proc

    def dpo_chain():
        dpo = setup("dpo")
        export = run_cli("export", str(dpo[0]), "--merge", "--out", str(root / "merged"), env=ONE_THREAD)
        tried = run_cli("try", str(dpo[0]), "What is the capital of France?", env=ONE_THREAD)
        return dpo, export, tried

    others = [t for t in tracks_for(family) if t != "dpo"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        chain = pool.submit(dpo_chain)
        runs = dict(zip(others, pool.map(setup, others)))
        (runs["dpo"], export, tried) = chain.result()
    return family, model, runs, export, tried, root / "merged"


@pytest.mark.parametrize("track", TRACKS)
def test_every_track_completes_evaluates_and_reports(family_runs, track):
    family, _, runs, *_ = family_runs
    if track not in runs:
        pytest.skip(f"{track} alternates with another track on {family} (RL_AGENT_ALL_FAMILY_TRACKS=1 runs it)")
    run_dir, proc = runs[track]
    tail = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode in (0, 1), tail  # 1: finished, verdict failed (random weights), never a crash
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["algorithm"] == track and report["steps"] == 1
    assert len(report["after"]["samples"]) == HELDOUT_ROWS
    want = TARGETS.get(family, LLAMA_STYLE)
    assert set(report["lora_target_modules"]) == want, (family, report["lora_target_modules"])
    assert "**LoRA targets:**" in (run_dir / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("track", TRACKS)
def test_no_answer_carries_template_debris(family_runs, track):
    """Asked with thinking off and stopped at the family's own end-of-turn tokens, no answer holds a think
    block or a turn marker, before or after, and the report's own debris check agrees."""
    family, _, runs, *_ = family_runs
    if track not in runs:
        pytest.skip(f"{track} alternates with another track on {family} (RL_AGENT_ALL_FAMILY_TRACKS=1 runs it)")
    report = json.loads((runs[track][0] / "report.json").read_text(encoding="utf-8"))
    for side in ("before", "after"):
        for s in report[side]["samples"]:
            assert not [m for m in DEBRIS if m in s["output"]], (side, s["output"])
        assert report[side]["template_debris"] == 0
    assert report["verdict"]["checks"]["no template debris in answers"] is True


def test_export_merge_loads_with_plain_transformers_and_try_answers(family_runs):
    family, model, _, export, tried, merged = family_runs
    assert export.returncode == 0, export.stdout[-2000:] + export.stderr[-2000:]
    assert tried.returncode == 0, tried.stdout[-2000:] + tried.stderr[-2000:]
    assert "capital of France" in tried.stdout
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(merged)
    m = AutoModelForCausalLM.from_pretrained(merged)
    assert type(m).__name__ == json.loads((model / "config.json").read_text())["architectures"][0]
    text = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True)
    if family == "gpt2-base":  # no template of its own: the run gave it the plain one, and the export keeps it
        assert text.endswith("Answer:")
    ids = tok(text, return_tensors="pt", add_special_tokens=False)
    out = m.generate(**ids, max_new_tokens=3, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > ids["input_ids"].shape[1]

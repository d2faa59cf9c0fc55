"""The embedded default that ships in the package: complete, undamaged, and it knows what the demos ask.

Why these tests: the DPO demo is only honest if the base model already answers its held-out questions
correctly (so "after" can show the same right answers, tersely), and GRPO's arithmetic task only teaches
something if the base model is right on some but not most held-out sums. Both are properties of the
shipped weights, measured here with plain transformers, greedy decoding, and the kit's own checks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.dataio.prompts import bundled_prompts_path
from rl_agent.kit.models import tiny
from rl_agent.runtime.correctness import contains_reference
from tests.support.tools import tool


def _answers(model_dir: Path, prompts: list[str], max_new_tokens: int) -> list[str]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    texts = [
        tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
        for p in prompts
    ]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
    return [tok.decode(o[enc["input_ids"].shape[1] :], skip_special_tokens=True).strip() for o in out]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_shipped_folder_is_complete_and_its_weights_match_the_recipe():
    path = tiny.embedded_model_dir()
    recipe = json.loads((path / "recipe.json").read_text())
    assert recipe["weights_sha256"] and recipe["data"]
    assert (path / "model.safetensors").stat().st_size < 25 * 1024 * 1024  # the limit for shipped weights


def test_damaged_or_missing_weights_are_refused_with_a_clear_message(tmp_path, monkeypatch):
    copy = tmp_path / "rl_agent" / "data" / "embedded_model"
    shutil.copytree(tiny.embedded_model_dir(), copy)
    monkeypatch.setattr(tiny.resources, "files", lambda package: tmp_path / "rl_agent")
    assert tiny.embedded_model_dir() == copy
    with open(copy / "model.safetensors", "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(tiny.EmbeddedModelError, match="weights do not match recipe.json"):
        tiny.embedded_model_dir()
    (copy / "model.safetensors").unlink()
    with pytest.raises(tiny.EmbeddedModelError, match="missing model.safetensors"):
        tiny.embedded_model_dir()


@pytest.mark.slow  # greedy answers to every held-out question: 6-12 s on 2 busy cores
def test_the_base_model_knows_the_held_out_facts_the_dpo_demo_asks(tiny_model):
    rows = _rows(bundled_pairs_path("heldout"))
    answers = _answers(tiny_model, [r["prompt"] for r in rows], 40)
    right = [contains_reference(a, r["reference"]) for a, r in zip(answers, rows)]
    assert sum(right) / len(rows) >= 0.9, [(r["prompt"], a) for r, a, ok in zip(rows, answers, right) if not ok]
    # ...and the check says no to the same answers given to the wrong questions
    shifted = answers[1:] + answers[:1]
    assert sum(contains_reference(a, r["reference"]) for a, r in zip(shifted, rows)) / len(rows) <= 0.1


@pytest.mark.slow  # greedy answers to the held-out sums: 6-12 s on 2 busy cores
def test_the_base_model_is_right_on_some_but_not_most_held_out_sums(tiny_model):
    rows = _rows(bundled_prompts_path("arithmetic", "heldout"))
    assert len(rows) >= 50
    answers = _answers(tiny_model, [r["prompt"] for r in rows], 24)
    accuracy = sum(contains_reference(a, r["reference"]) for a, r in zip(answers, rows)) / len(rows)
    assert 0.2 <= accuracy <= 0.6, accuracy  # room for GRPO to teach, and something to start from


# ---- the rebuild script: deterministic, and the shipped weights were built from the data shipped today ----


def test_the_shipped_weights_were_built_from_the_shipped_knowledge_and_sums():
    """Editing facts.tsv or the arithmetic generator without rebuilding the model is caught here."""
    build = tool("build_embedded_model")
    recipe = json.loads((tiny.embedded_model_dir() / "recipe.json").read_text())
    assert recipe["data"] == build.data_fingerprint(build.warmup_documents())
    assert {k: recipe[k] for k in build.RECIPE} == build.RECIPE

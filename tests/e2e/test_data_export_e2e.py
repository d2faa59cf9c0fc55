"""One real DPO run on the embedded model from a conversational JSONL with mapped columns and
--report-to tensorboard, shared by the tests of what comes after training: export --merge (the merged
model's greedy answers equal the adapter's), the model card, `try`, and the TensorBoard event files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.cli import REPO, assert_exit_follows_verdict, run_cli

pytestmark = pytest.mark.slow

TERSE = REPO / "rl_agent" / "data" / "terse"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_model):
    root = tmp_path_factory.mktemp("conv-run")
    # 60 rows keep the shared run short: 54 train, 6 held-out (the seeded 10% split)
    rows = [json.loads(line) for line in (TERSE / "train.jsonl").read_text().splitlines() if line.strip()][:60]
    data = root / "chat_feedback.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "conversation": [
                        {"role": "system", "content": "Answer."},
                        {"role": "user", "content": r["prompt"]},
                    ],
                    "thumbs_up_reply": [{"role": "assistant", "content": r["chosen"]}],
                    "thumbs_down_reply": [{"role": "assistant", "content": r["rejected"]}],
                }
            )
            + "\n"
            for r in rows
        )
    )
    run_dir = root / "run"
    proc = run_cli(
        "setup",
        "--offline",
        "--yes",
        "--steps",
        "10",
        "--run-dir",
        str(run_dir),
        "--data",
        str(data),
        "--columns",
        "conversation=prompt,thumbs_up_reply=chosen,thumbs_down_reply=rejected",
        "--report-to",
        "tensorboard",
    )
    assert_exit_follows_verdict(proc, run_dir)
    return run_dir, proc


def test_dpo_run_from_conversational_jsonl_with_mapped_columns(trained_run):
    run_dir, proc = trained_run
    assert "conversation -> prompt (--columns)" in proc.stdout
    assert "type: preference, conversational (message lists)" in proc.stdout
    info = json.loads((run_dir / "data" / "data.json").read_text())
    assert info["check"]["train_rows"] == 54 and info["check"]["heldout_rows"] == 6
    train = [json.loads(x) for x in (run_dir / "train.jsonl").read_text().splitlines()]
    held = [json.loads(x) for x in (run_dir / "heldout.jsonl").read_text().splitlines()]
    assert all(isinstance(r[k], str) for r in train + held for k in ("prompt", "chosen", "rejected"))
    assert not {r["prompt"] for r in train} & {r["prompt"] for r in held}
    report = json.loads((run_dir / "report.json").read_text())
    assert report["steps"] == 10 and report["before"]["pref_accuracy"] == pytest.approx(0.5)
    assert len(report["after"]["samples"]) == 6


def test_tensorboard_event_files_in_the_run_folder(trained_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir, _ = trained_run
    events = list((run_dir / "tb").rglob("events.out.tfevents.*"))
    assert events, list(run_dir.iterdir())
    acc = EventAccumulator(str(events[0].parent))
    acc.Reload()
    assert "train/loss" in acc.Tags()["scalars"]
    assert "DPOConfig(output_dir=str(output_dir), **trl)" in (run_dir / "train_dpo.py").read_text()
    assert "\"report_to\": 'tensorboard'" in (run_dir / "train_dpo.py").read_text()


def test_export_merge_equals_the_adapter_and_the_card_renders(trained_run, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_dir, _ = trained_run
    out = tmp_path / "merged"
    proc = run_cli("export", str(run_dir), "--merge", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert not (out / "adapter_config.json").exists() and (out / "model.safetensors").is_file()
    merged = AutoModelForCausalLM.from_pretrained(out)  # plain transformers, no peft
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.chat_template
    state = json.loads((run_dir / "run.json").read_text())
    base = AutoModelForCausalLM.from_pretrained(state["model_path"])
    tuned = PeftModel.from_pretrained(base, str(run_dir / "adapter"))
    prompts = [json.loads(x)["prompt"] for x in (run_dir / "heldout.jsonl").read_text().splitlines()]
    changed = 0
    for prompt in prompts:
        ids = tok.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        gen = dict(max_new_tokens=24, do_sample=False, pad_token_id=tok.pad_token_id)
        with torch.no_grad():
            a = merged.generate(**ids, **gen)
            b = tuned.generate(**ids, **gen)
            assert tok.decode(a[0]) == tok.decode(b[0]), prompt
            lm, lt = merged(**ids).logits, tuned(**ids).logits
            assert torch.allclose(lm, lt, atol=1e-4)
            with tuned.disable_adapter():
                changed += int((tuned(**ids).logits - lm).abs().max() > 1e-3)
    assert changed == len(prompts)  # the adapter really changed the model, so the equality means something
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers")
    assert "## Before / after on held-out prompts" in card and "| pref_accuracy | 0.500 |" in card
    assert "chat_feedback.jsonl" in card and "preference, conversational" in card and "| max_steps | 10 |" in card


def test_export_failures_are_clear(trained_run, tmp_path, monkeypatch):
    from rl_agent.kit.export.gguf import GGUFError, export_gguf
    from rl_agent.kit.export.hub import HubError, push_folder

    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with pytest.raises(GGUFError, match="llama.cpp's converter, which is not on PyPI.*LLAMA_CPP_DIR"):
        export_gguf(tmp_path, tmp_path / "m.gguf")
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(HubError, match="no Hugging Face token"):
        push_folder(tmp_path, "someone/model")
    with pytest.raises(
        HubError, match=r"(cannot reach the Hugging Face hub \(no network\?\)|the hub refused the push)"
    ):
        push_folder(tmp_path, "someone/model", token="hf_not_a_real_token")  # no network here: the first, else 401
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE is set"):
        push_folder(tmp_path, "someone/model", token="hf_x")
    proc = run_cli("export", str(tmp_path))
    assert proc.returncode == 2 and "no run.json here" in proc.stderr


def test_try_shows_base_and_tuned_scored_by_the_runs_check(trained_run):
    from rl_agent.kit.judges.offline import TerseStyleJudge

    run_dir, _ = trained_run
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run(
        [sys.executable, "-m", "rl_agent", "try", str(run_dir), "What is the capital of France?", "-", "--json"],
        input="How many legs does a spider have?\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["prompt"] for r in results] == ["What is the capital of France?", "How many legs does a spider have?"]
    judge = TerseStyleJudge()
    for r in results:
        assert r["check"] == "terse"
        for side in ("base", "tuned"):
            assert r[side]["output"] and r[side]["score"] == judge.grade(r["prompt"], r[side]["output"]).score
    table = run_cli("try", str(run_dir), "What is the capital of France?")
    assert table.returncode == 0 and "base model" in table.stdout and "tuned model" in table.stdout

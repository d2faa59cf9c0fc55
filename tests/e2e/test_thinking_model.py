"""The pipeline's handling of thinking, on a model that really thinks: tests/data/standins/qwen3-thinking (the
embedded model taught Qwen3's habit by tools/build_standins.py: with its template's defaults it opens a think
block and reasons before answering; with enable_thinking=False it answers directly).

Asked the old way (no chat-template arguments), its held-out answers are think blocks, and the debris check
says so; asked the way the kit asks now, they are plain answers, and a DPO run trains and reports on them.
"""

from __future__ import annotations

import json
import sys

import pytest

from rl_agent.kit.pipeline.base_answers import base_answers
from rl_agent.runtime.chat_format import template_debris
from tests.support.cli import REPO, assert_exit_follows_verdict, run_cli

THINKING = REPO / "tests" / "data" / "standins" / "qwen3-thinking"
HELDOUT = REPO / "rl_agent" / "data" / "terse" / "heldout.jsonl"


def _heldout() -> list[dict]:
    return [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def answers_both_ways() -> tuple[list[str], list[str]]:
    prompts = [r["prompt"] for r in _heldout()]
    old = base_answers(sys.executable, str(THINKING), prompts, max_new_tokens=48, chat_kwargs={})
    new = base_answers(sys.executable, str(THINKING), prompts, max_new_tokens=48)
    return old, new


def test_asked_without_the_template_arguments_it_thinks_and_the_debris_check_says_no(answers_both_ways):
    old, _ = answers_both_ways
    flagged = [a for a in old if template_debris(a)]
    assert len(flagged) >= 0.9 * len(old), old[:3]
    assert all(a.startswith("<think>") for a in flagged)


def test_asked_with_thinking_off_it_answers_directly_and_rightly(answers_both_ways):
    from rl_agent.runtime.correctness import contains_reference

    _, new = answers_both_ways
    assert not [a for a in new if template_debris(a)], new
    right = sum(contains_reference(a, r["reference"], r["prompt"]) for a, r in zip(new, _heldout()))
    assert right >= 0.8 * len(new), list(zip(new, [r["reference"] for r in _heldout()]))


@pytest.mark.slow
def test_a_dpo_run_on_the_thinking_model_is_asked_and_trained_without_thinking(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli("setup", "--offline", "--yes", "--model", str(THINKING), "--steps", "16", "--run-dir", str(run_dir))
    report = assert_exit_follows_verdict(proc, run_dir)
    for side in ("before", "after"):
        assert report[side]["template_debris"] == 0, [s["output"] for s in report[side]["samples"]]
    assert report["before"]["correct"] >= 0.8  # it knows the facts when asked without thinking
    rows = [json.loads(x) for x in (run_dir / "train.jsonl").read_text().splitlines()[:1]]
    script = (run_dir / "train_dpo.py").read_text()
    assert "\"chat_template_kwargs\": {'enable_thinking': False}" in script and rows
    assert report["after"]["hedge_count"] < report["before"]["hedge_count"]

"""Claude authors the check and data for a task the offline recipe library refuses, through run-folder tools,
with the real bundled Claude Code CLI talking to the scripted Anthropic server (tests/claude_code_server.py).

No model decides anything here: the server plays Claude from a script. What is tested is that the tools
write only what they should, where they should; that the proof is the gate (a first check that accepts four
steps is caught, naming the example, and rewritten); that a never-proven session trains nothing; that a
judged check (the Claude grader with a rubric) is held to the same proof; and that the authored plan then
really trains the embedded model to a verdict measured by the task's own check.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from claude_code_server import TEST_API_KEY, ClaudeCodeTestServer, Reply, bundled_cli, isolate
from rl_agent.agent.orchestrate import new_run
from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects
from rl_agent.kit.pipeline.start import UserError
from rl_agent.kit.planning.recipes import RecipeRefused, plan_recipe

pytestmark = pytest.mark.skipif(bundled_cli() is None, reason="this platform's claude-agent-sdk has no bundled CLI")

TOOL = "mcp__rl_agent__"
TASK = "Answer as a numbered list of exactly three steps."

# The first check Claude "writes" is wrong: it accepts three OR MORE steps. The proof must catch it.
LOOSE_CHECK = '''import re

def check(prompt, output, reference=None):
    steps = [l for l in output.splitlines() if re.match(r"\\s*\\d+[.)]\\s+\\S", l)]
    return 1.0 if len(steps) >= 3 else 0.0
'''
EXACT_CHECK = '''import re

def check(prompt, output, reference=None):
    """1.0 for exactly three non-empty lines numbered 1, 2, 3 in order; nothing else in the answer."""
    lines = [l.strip() for l in output.strip().splitlines() if l.strip()]
    if len(lines) != 3:
        return 0.0
    for n, line in enumerate(lines, start=1):
        m = re.match(r"(\\d+)[.)]\\s+\\S", line)
        if not m or int(m.group(1)) != n:
            return 0.0
    return 1.0
'''
STATEMENT = ("accepts an answer only if it is exactly three non-empty lines numbered 1., 2., 3. in order, with "
             "nothing before or after them")


def three_steps(answer: str) -> str:
    return f"1. Read the question.\n2. Recall the fact.\n3. {answer}"


def rows(split: str) -> list[dict]:
    """Bundled terse facts as three-step DPO pairs: chosen = the three-step template ending on the correct
    answer, rejected = the hedged answer the base model tends to give; the reference keeps correctness measured."""
    out = []
    for _, _, r in iter_jsonl_objects(bundled_pairs_path(split)):
        ref = r.get("reference") or r["chosen"]
        out.append({"prompt": r["prompt"], "chosen": three_steps(ref), "rejected": r["rejected"], "reference": ref})
    return out


def examples() -> dict:
    q, ref = "What is the capital of Italy?", "Rome."
    good = [{"prompt": q, "output": three_steps(ref), "reference": ref},
            {"prompt": q, "output": "1. Think of Italy.\n2. Find its capital.\n3. Rome.", "reference": ref},
            {"prompt": "What is 2 + 2?", "output": "1) Take 2.\n2) Add 2.\n3) It is 4.", "reference": "4"},
            {"prompt": q, "output": "  1. Look it up.\n  2. Confirm it.\n  3. Rome.\n", "reference": ref},
            {"prompt": "How do I boil an egg?", "output": "1. Boil water.\n2. Add the egg.\n3. Wait ten minutes."}]
    bad = [{"prompt": q, "output": "1. Read.\n2. Recall.\n3. Check.\n4. Rome.", "reference": ref},
           {"prompt": q, "output": "1. Recall the fact.\n2. Rome.", "reference": ref},
           {"prompt": q, "output": "Rome.", "reference": ref},
           {"prompt": q, "output": "- Read.\n- Recall.\n- Rome.", "reference": ref},
           {"prompt": q, "output": "1. Read.\n2. Recall.\n2. Rome.", "reference": ref},
           {"prompt": q, "output": "I think it is probably Rome, but please double-check.", "reference": ref}]
    return {"good": good, "bad": bad}


@pytest.fixture
def claude(monkeypatch, tmp_path) -> ClaudeCodeTestServer:
    """The scripted server, this process (and so the CLI the SDK starts) pointed at it in isolation; no hub."""
    with ClaudeCodeTestServer() as srv:
        isolate(monkeypatch, srv, tmp_path / "home")
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        yield srv


def new(task: str, run_dir: Path, **kw) -> str:
    console = Console(file=io.StringIO(), width=200)
    try:
        new_run(console, task, run_dir=run_dir, offline=False, yes=True, steps=None, plan_only=False, **kw)
    finally:
        print(console.file.getvalue())  # shown by pytest on failure
    return console.file.getvalue()


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def authoring_log(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "authoring.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_claude_writes_a_wrong_check_is_caught_rewrites_it_and_the_run_succeeds(claude, tmp_path):
    with pytest.raises(RecipeRefused):  # outside the offline library
        plan_recipe(TASK)
    run_dir = tmp_path / "run"
    train, heldout = rows("train"), rows("heldout")
    claude.script(
        Reply.tool_use(TOOL + "write_check", {"code": LOOSE_CHECK}, text="A first check."),
        Reply.tool_use(TOOL + "write_examples", examples()),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(TOOL + "finish", {}),  # refused: not proven
        Reply.tool_use(TOOL + "write_check", {"code": EXACT_CHECK}, text="It accepted four steps; exactly three."),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(TOOL + "write_data", {"algorithm": "dpo", "train": train, "heldout": heldout}),
        Reply.tool_use(TOOL + "write_statement", {"statement": STATEMENT}),
        Reply.tool_use(TOOL + "finish", {}),
        Reply.text_reply("The check is proven; the plan is ready."),
    )
    out = new(TASK, run_dir)

    # What the CLI sent back to "Claude": the loose check's proof failed naming the four-step example.
    results = claude.tool_results()
    assert [r["name"].removeprefix(TOOL) for r in results] == [
        "write_check", "write_examples", "prove_check", "finish", "write_check", "prove_check", "write_data",
        "write_statement", "finish"]
    first_proof = results[2]
    assert first_proof["is_error"] and "check NOT proven" in first_proof["text"]
    assert "bad example 0 scored 1.00" in first_proof["text"] and "4. Rome." in first_proof["text"]
    assert results[3]["is_error"] and "not proven" in results[3]["text"]
    assert not results[5]["is_error"] and "check proven" in results[5]["text"]
    assert not results[6]["is_error"] and not results[8]["is_error"], results[6]["text"]
    assert "author of rl-agent" in claude.system_text() and "BRIEF.md" in claude.system_text()

    # The plan: Claude's check and data, proven, planned by Claude; then it ran like a recipe run.
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["planned_by"] == "claude" and spec["check"]["recipe"] == "claude"
    assert spec["check"]["kind"] == "program" and spec["check"]["statement"] == STATEMENT
    assert (run_dir / "check.py").read_text() == EXACT_CHECK
    assert "check proven" in out and "base model on the held-out prompts" in out

    report = json.loads((run_dir / "report.json").read_text())
    tc, corr = report["task_check"], report["correctness"]
    print("task check", tc, "correctness", corr["before"], "->", corr["after"])
    for s in report["after"]["samples"][:5]:
        print(repr(s["output"]))
    assert report["verdict"]["succeeded"] is True, report["verdict"]
    assert tc["after"]["pass_rate"] >= 0.8 and tc["after"]["pass_rate"] > tc["before"]["pass_rate"]
    assert corr["after"] >= corr["before"] - 0.05
    # The figures are the check's own scores of the answers in the report, recomputed here.
    from rl_agent.kit.planning.recipes import CheckItem, score_outputs

    refs = [json.loads(x).get("reference") for x in (run_dir / "heldout.jsonl").read_text().splitlines() if x.strip()]
    items = [CheckItem(s["prompt"], s["output"], r) for s, r in zip(report["after"]["samples"], refs)]
    assert score_outputs(run_dir, "check.py", items).pass_rate == tc["after"]["pass_rate"]

    log = authoring_log(run_dir)
    assert [r["tool"] for r in log] == [r["name"].removeprefix(TOOL) for r in results]
    assert [r["ok"] for r in log] == [True, True, False, False, True, True, True, True, True]
    assert files_containing(run_dir, TEST_API_KEY) == []

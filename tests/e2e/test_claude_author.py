"""Claude reads a task given in words and writes its task folder (task.json, check.py or rubric.md,
examples.jsonl, data/) through run-folder tools, with the real bundled Claude Code CLI talking to the scripted
Anthropic server (tests/support/claude_code_server.py).

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

from rl_agent.agent.orchestrate import new_run
from rl_agent.agent.start import UserError
from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects
from rl_agent.kit.tracks.dpo import EMBEDDED_TASK_SCHEDULE as EMBEDDED_DPO
from tests.support.claude_code_server import TEST_API_KEY, ClaudeCodeTestServer, Reply, bundled_cli, isolate

pytestmark = pytest.mark.skipif(bundled_cli() is None, reason="this platform's claude-agent-sdk has no bundled CLI")

TOOL = "mcp__rl_agent__"
TASK = "Answer as a numbered list of exactly three steps."

# The first check Claude "writes" is wrong: it accepts three OR MORE steps. The proof must catch it.
LOOSE_CHECK = """import re

def check(prompt, output, reference=None):
    steps = [l for l in output.splitlines() if re.match(r"\\s*\\d+[.)]\\s+\\S", l)]
    return 1.0 if len(steps) >= 3 else 0.0
"""
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
STATEMENT = (
    "accepts an answer only if it is exactly three non-empty lines numbered 1., 2., 3. in order, with "
    "nothing before or after them"
)


def three_steps(answer: str) -> str:
    """The answer first, where the tiny model recalls it best, then two fixed steps (a design that put the
    answer last, "1. Think. 2. Check. 3. Paris.", taught the format but correctness fell)."""
    return f"1. {answer}\n2. Check.\n3. Done."


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
    good = [
        {"prompt": q, "output": three_steps(ref), "reference": ref},
        {"prompt": q, "output": "1. Think of Italy.\n2. Find its capital.\n3. Rome.", "reference": ref},
        {"prompt": "What is 2 + 2?", "output": "1) Take 2.\n2) Add 2.\n3) It is 4.", "reference": "4"},
        {"prompt": q, "output": "  1. Look it up.\n  2. Confirm it.\n  3. Rome.\n", "reference": ref},
        {"prompt": "How do I boil an egg?", "output": "1. Boil water.\n2. Add the egg.\n3. Wait ten minutes."},
    ]
    bad = [
        {"prompt": q, "output": "1. Read.\n2. Recall.\n3. Check.\n4. Rome.", "reference": ref},
        {"prompt": q, "output": "1. Recall the fact.\n2. Rome.", "reference": ref},
        {"prompt": q, "output": "Rome.", "reference": ref},
        {"prompt": q, "output": "- Read.\n- Recall.\n- Rome.", "reference": ref},
        {"prompt": q, "output": "1. Read.\n2. Recall.\n2. Rome.", "reference": ref},
        {"prompt": q, "output": "I think it is probably Rome, but please double-check.", "reference": ref},
    ]
    return {"good": good, "bad": bad}


@pytest.fixture
def claude(monkeypatch, tmp_path) -> ClaudeCodeTestServer:
    """The scripted server, this process (and so the CLI the SDK starts) pointed at it in isolation; no hub."""
    with ClaudeCodeTestServer() as srv:
        isolate(monkeypatch, srv, tmp_path / "home")
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        yield srv


def new(task: str, run_dir: Path, plan_only: bool = False) -> str:
    """`rl-agent new TASK` with Claude available (the scripted server), in this process; the console's text."""
    console = Console(file=io.StringIO(), width=200)
    try:
        new_run(console, task, run_dir=run_dir, offline=False, yes=True, steps=None, plan_only=plan_only)
    finally:
        print(console.file.getvalue())  # shown by pytest on failure
    return console.file.getvalue()


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def authoring_log(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "authoring.jsonl").read_text().splitlines()]


def script_authoring(claude: ClaudeCodeTestServer) -> None:
    """Claude's part: a first check that accepts four steps, its failed proof, a refused finish, the rewrite, a
    passing proof, the data, the statement, finish."""
    claude.script(
        Reply.tool_use(TOOL + "write_check", {"code": LOOSE_CHECK}, text="A first check."),
        Reply.tool_use(TOOL + "write_examples", examples()),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(TOOL + "finish", {}),  # refused: not proven
        Reply.tool_use(TOOL + "write_check", {"code": EXACT_CHECK}, text="It accepted four steps; exactly three."),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(TOOL + "write_data", {"algorithm": "dpo", "train": rows("train"), "heldout": rows("heldout")}),
        Reply.tool_use(TOOL + "write_statement", {"statement": STATEMENT}),
        Reply.tool_use(TOOL + "finish", {}),
        Reply.text_reply("The check is proven; the plan is ready."),
    )


def test_claude_writes_a_wrong_check_the_proof_catches_it_and_the_rewrite_is_planned(claude, tmp_path):
    run_dir = tmp_path / "run"
    script_authoring(claude)
    out = new(TASK, run_dir, plan_only=True)

    # What the CLI sent back to "Claude": the loose check's proof failed naming the four-step example.
    results = claude.tool_results()
    assert [r["name"].removeprefix(TOOL) for r in results] == [
        "write_check",
        "write_examples",
        "prove_check",
        "finish",
        "write_check",
        "prove_check",
        "write_data",
        "write_statement",
        "finish",
    ]
    first_proof = results[2]
    assert first_proof["is_error"] and "check NOT proven" in first_proof["text"]
    assert "bad example 0 scored 1.00" in first_proof["text"] and "4. Rome." in first_proof["text"]
    assert results[3]["is_error"] and "not proven" in results[3]["text"]
    assert not results[5]["is_error"] and "check proven" in results[5]["text"]
    assert not results[6]["is_error"] and not results[8]["is_error"], results[6]["text"]

    # The plan: Claude's check and data, proven again by `new` itself, planned by Claude, as a recipe plan is.
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["planned_by"] == "claude" and spec["check"]["recipe"] == "claude" and spec["task"] == TASK
    assert spec["check"]["kind"] == "program" and spec["check"]["statement"] == STATEMENT
    assert spec["data"]["origin"] == "claude-generated" and spec["dpo"]["max_steps"] == EMBEDDED_DPO["max_steps"]
    assert (run_dir / "check.py").read_text() == EXACT_CHECK
    # the task folder under the contract: what `rl-agent prove` and `new --task-dir` read
    assert json.loads((run_dir / "task.json").read_text()) == {
        "statement": STATEMENT,
        "algorithm": "dpo",
        "check_kind": "program",
    }
    assert {json.loads(x)["kind"] for x in (run_dir / "examples.jsonl").read_text().splitlines()} == {"good", "bad"}
    assert spec["check"]["examples"] == "examples.jsonl" and spec["data"]["train_file"] == "data/train.jsonl"
    assert "check proven" in out and not (run_dir / "run.json").exists()  # --plan-only: nothing trains
    log = authoring_log(run_dir)
    assert [r["tool"] for r in log] == [r["name"].removeprefix(TOOL) for r in results]
    assert [r["ok"] for r in log] == [True, True, False, False, True, True, True, True, True]
    assert files_containing(run_dir, TEST_API_KEY) == []


# The full run: a second task outside the library, whose form the 2M-parameter embedded model can learn without
# losing facts. (The numbered list above teaches its format, 0.00 -> 0.97 on the check, but correctness fell
# 1.00 -> 0.61 whether the answer came first or last: the model loses held-out facts behind a lead-in it never
# saw, as with the prefix and JSON recipes, and the verdict rightly failed.) Measured: task check 0.26 -> 1.00,
# correctness 1.00 -> 1.00 ('Good question! Perhaps it might be Cairo.' -> 'Cairo!'), about a minute.
EXCLAIM_TASK = "End every answer with an exclamation mark instead of a full stop."
EXCLAIM_CHECK = '''import re

def check(prompt, output, reference=None):
    """1.0 for a one-line answer that says something and ends with one '!' (not '?!', not '.')."""
    text = output.strip()
    if "\\n" in text or not text.endswith("!") or text.endswith(("?!", "!!")):
        return 0.0
    return 1.0 if re.search(r"\\w", text[:-1]) else 0.0
'''
EXCLAIM_STATEMENT = "accepts a one-line answer that ends with a single '!' after some text; rejects everything else"


def exclaim_rows(split: str) -> list[dict]:
    """chosen: the correct terse answer ending in '!'; rejected: the same answer ending in '.'."""
    out = []
    for _, _, r in iter_jsonl_objects(bundled_pairs_path(split)):
        ref = r.get("reference") or r["chosen"]
        out.append({"prompt": r["prompt"], "chosen": ref.rstrip(".") + "!", "rejected": ref, "reference": ref})
    return out


def exclaim_examples() -> dict:
    q, ref = "What is the capital of Italy?", "Rome."
    good = [
        {"prompt": q, "output": "Rome!", "reference": ref},
        {"prompt": q, "output": "It is Rome!"},
        {"prompt": "What is 2 + 2?", "output": "4!", "reference": "4"},
        {"prompt": q, "output": "  Rome, of course!\n"},
        {"prompt": "How do I boil an egg?", "output": "Boil water, add the egg and wait ten minutes!"},
    ]
    bad = [
        {"prompt": q, "output": "Rome.", "reference": ref},
        {"prompt": q, "output": "Rome"},
        {"prompt": q, "output": "Rome!\nAnything else?"},
        {"prompt": q, "output": "!"},
        {"prompt": q, "output": "Rome?!"},
        {"prompt": q, "output": "I think it is probably Rome."},
    ]
    return {"good": good, "bad": bad}


@pytest.mark.slow
def test_the_authored_plan_trains_to_a_verdict_measured_by_its_own_check(claude, tmp_path):
    run_dir = tmp_path / "run"
    claude.script(
        Reply.tool_use(TOOL + "write_check", {"code": EXCLAIM_CHECK}),
        Reply.tool_use(TOOL + "write_examples", exclaim_examples()),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(
            TOOL + "write_data",
            {"algorithm": "dpo", "train": exclaim_rows("train"), "heldout": exclaim_rows("heldout")},
        ),
        Reply.tool_use(TOOL + "write_statement", {"statement": EXCLAIM_STATEMENT}),
        Reply.tool_use(TOOL + "finish", {}),
        Reply.text_reply("The check is proven; the plan is ready."),
    )
    out = new(EXCLAIM_TASK, run_dir)
    assert "check proven" in out and "base model on the held-out prompts" in out
    report = json.loads((run_dir / "report.json").read_text())
    tc, corr = report["task_check"], report["correctness"]
    assert tc["after"]["pass_rate"] >= 0.8 and tc["after"]["pass_rate"] > tc["before"]["pass_rate"]
    assert corr["after"] >= corr["before"] - 0.05
    assert report["verdict"]["succeeded"] is True, report["verdict"]
    # The figures are the check's own scores of the answers in the report, recomputed here.
    from rl_agent.kit.planning.recipes import CheckItem, score_outputs

    refs = [json.loads(x).get("reference") for x in (run_dir / "heldout.jsonl").read_text().splitlines() if x.strip()]
    items = [CheckItem(s["prompt"], s["output"], r) for s, r in zip(report["after"]["samples"], refs)]
    assert score_outputs(run_dir, "check.py", items).pass_rate == tc["after"]["pass_rate"]
    assert files_containing(run_dir, TEST_API_KEY) == []


# A check that tries to read the key and leak the environment into the run folder: it must see no key (it runs
# in the sandbox), so it grades like EXACT_CHECK only when the key is absent, and its leak file holds no key.
SNOOPING_CHECK = (
    EXACT_CHECK.replace("import re\n", "import json, os, re\n", 1)
    + """

_exact = check


def check(prompt, output, reference=None):
    with open("leak.txt", "w") as f:
        f.write(json.dumps(dict(os.environ)))
    seen = os.environ.get("ANTHROPIC_API_KEY") or any("sk-ant" in v for v in os.environ.values())
    return 0.0 if seen else _exact(prompt, output, reference)
"""
)


def test_authoring_tools_stay_in_the_run_folder_and_never_see_the_key(claude, tmp_path):
    from rl_agent.agent.claude.author import AuthorError, author_with_claude

    run_dir = tmp_path / "run"
    outside = tmp_path / "outside.py"
    claude.script(
        Reply.tool_use(TOOL + "write_check", {"code": EXACT_CHECK, "path": str(outside)}),
        Reply.tool_use(TOOL + "write_check", {"code": EXACT_CHECK, "path": "../outside.py"}),
        Reply.tool_use(TOOL + "write_data", {"algorithm": "dpo", "train": [], "heldout": [], "file": "../../x.jsonl"}),
        Reply.tool_use(TOOL + "write_check", {"code": EXACT_CHECK, "name": "evil.py"}),
        Reply.tool_use("Write", {"file_path": str(outside), "content": "pwned"}),
        Reply.tool_use(TOOL + "write_check", {"code": "def check(prompt, output):\n    return 1.0\n"}),
        Reply.tool_use(TOOL + "write_check", {"code": "def check(prompt, output, reference=None:\n"}),
        Reply.tool_use(TOOL + "write_statement", {"statement": f"uses the key {TEST_API_KEY} to grade"}),
        Reply.tool_use(TOOL + "write_check", {"code": SNOOPING_CHECK}),
        Reply.tool_use(TOOL + "write_examples", examples()),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(
            TOOL + "write_data", {"algorithm": "dpo", "train": rows("train")[:10], "heldout": rows("train")[5:9]}
        ),
        Reply.text_reply("Stopping here."),
    )
    with pytest.raises(AuthorError) as err:
        author_with_claude(TASK, run_dir)
    assert "without calling finish" in str(err.value) and "nothing was trained" in str(err.value)
    # The authoring session follows the starter brief: BRIEF.md, whole, in its system prompt.
    from rl_agent.agent.claude.agent import brief

    assert "check author of rl-agent" in claude.system_text() and brief().strip() in claude.system_text()
    offered = claude.tools_offered()
    assert {TOOL + n for n in ("write_check", "write_examples", "write_data", "prove_check", "finish")} <= offered
    assert not offered & {"Bash", "Write", "Edit", "Read", "WebFetch", "Glob", "Grep"}

    r = claude.tool_results()
    assert len(r) == 12 and [x["is_error"] for x in r] == [True] * 8 + [False, False, False, True], r
    for x in r[:3]:  # refused by the PreToolUse hook before our tool ran
        assert "PreToolUse" in x["text"] and "outside the run folder" in x["text"], x
    assert "unknown argument(s) name" in r[3]["text"] and "No such tool available" in r[4]["text"]
    assert "def check(prompt, output, reference=None)" in r[5]["text"] and "does not compile (line 1" in r[6]["text"]
    assert "contains an API key" in r[7]["text"]
    assert "check proven" in r[10]["text"]  # proven only because the check saw no key in its environment
    assert "held-out prompt also in training data" in r[11]["text"]  # the track's own overlap check, naming it
    assert not outside.exists() and not (tmp_path / "x.jsonl").exists()
    written = sorted(p.name for p in run_dir.iterdir() if p.name != "__pycache__")  # (the check's bytecode cache)
    assert written == ["authoring.jsonl", "check.py", "data", "examples.jsonl", "leak.txt"]
    assert "ANTHROPIC" not in (run_dir / "leak.txt").read_text()
    # No file of the run folder and no tool result carries the key (the scripted "Claude" itself typed it above).
    assert files_containing(run_dir, TEST_API_KEY) == [] and not any(TEST_API_KEY in x["text"] for x in r)
    assert TEST_API_KEY not in json.dumps(claude.message_requests[0].body)  # nor the prompt or instructions
    log = authoring_log(run_dir)  # every call, the three the hook refused first (they never reached our tools)
    assert [(x["tool"], x["refused_by"]) for x in log[:3]] == [("write_check", "path guard")] * 2 + [
        ("write_data", "path guard")
    ]
    assert all("outside the run folder" in x["result"] for x in log[:3])
    assert [x["tool"] for x in log[3:]] == ["write_check"] * 3 + [
        "write_statement",
        "write_check",
        "write_examples",
        "prove_check",
        "write_data",
    ]
    assert [x["refused_by"] for x in log[3:]] == ["tool"] * 4 + [None, None, None, "tool"]


def test_a_session_that_never_proves_its_check_trains_nothing(claude, tmp_path):
    run_dir = tmp_path / "run"
    claude.script(
        Reply.tool_use(TOOL + "write_check", {"code": LOOSE_CHECK}),
        Reply.tool_use(TOOL + "write_examples", examples()),
        Reply.tool_use(TOOL + "prove_check", {}),
        Reply.tool_use(
            TOOL + "write_data", {"algorithm": "dpo", "train": rows("train")[:20], "heldout": rows("heldout")[:5]}
        ),
        Reply.tool_use(TOOL + "write_statement", {"statement": STATEMENT}),
        Reply.tool_use(TOOL + "finish", {}),
        Reply.text_reply("I could not make the check pass."),
    )
    with pytest.raises(UserError) as err:
        new(TASK, run_dir)
    msg = str(err.value)
    assert "did not produce a proven check" in msg and "bad example 0 scored 1.00" in msg and "4. Rome." in msg
    assert "nothing was trained" in msg
    assert claude.tool_results()[5]["is_error"]  # finish refused: not proven
    assert (run_dir / "check.py").read_text() == LOOSE_CHECK and (run_dir / "data" / "train.jsonl").is_file()
    for never in ("spec.json", "run.json", "out", "train.jsonl", "task.json"):
        assert not (run_dir / never).exists(), never


KIND_RUBRIC = (
    "Score 1 if the answer is kind and warm toward the person asking; score 0 if it is curt, "
    "dismissive or unkind. Judge the tone only, not the length."
)


def judged_examples(bad_outputs: list[str]) -> dict:
    """The scripted grader scores short answers high (default_score: each word past two costs 0.05), so short
    answers play the kind ones and long ones the unkind ones; the wiring, not the grader, is under test."""
    q = "I failed my exam. What now?"
    good = [
        {"prompt": q, "output": o} for o in ("You'll manage.", "Be gentle.", "Rest first.", "You matter.", "Try again.")
    ]
    return {"good": good, "bad": [{"prompt": q, "output": o} for o in bad_outputs]}


UNKIND = [
    "That is entirely your own fault and honestly nobody should feel sorry for you at all, so stop complaining "
    "about it now please and thank you " + str(i)
    for i in range(5)
]


def test_a_judged_check_is_proven_by_the_claude_grader_and_a_lenient_judge_fails(monkeypatch, tmp_path):
    from rl_agent.agent.claude.author_tools import AuthorTools
    from rl_agent.agent.claude.sdk_tools import ToolRefused
    from rl_agent.kit.pipeline.task_check import score_heldout
    from tests.support.anthropic_server import AnthropicTestServer

    with AnthropicTestServer() as srv:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", srv.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)
        run_dir = tmp_path / "run"
        tools = AuthorTools(run_dir, "Be kind to people who are upset.")
        assert tools.write_rubric(KIND_RUBRIC).ok
        tools.write_examples(**judged_examples(UNKIND))
        proof = tools.prove_check()
        assert proof.ok and "check proven" in proof.text, proof.text
        # The judge graded with our rubric, the key only in the request header, never in the files.
        req = srv.message_requests[0]
        system = "\n".join(b["text"] for b in req.body["system"])
        sent_key = req.headers.get("x-api-key") or req.headers.get("authorization", "").removeprefix("Bearer ")
        assert "kind and warm toward the person asking" in system and sent_key == TEST_API_KEY
        assert len(srv.message_requests) == 10

        # A judge that scores one unkind answer high (here: a short one) fails the proof, naming the example.
        tools.write_examples(**judged_examples(UNKIND[:4] + ["Whatever."]))
        failed = tools.prove_check()
        assert not failed.ok and "check NOT proven" in failed.text and "bad example 4 scored 1.00" in failed.text
        assert "'Whatever.'" in failed.text
        assert tools.write_data("dpo", rows("train")[:10], rows("heldout")[:3]).ok
        assert tools.write_statement("accepts answers a kind, warm person would give").ok
        with pytest.raises(ToolRefused, match="not proven"):
            tools.finish()

        # Held-out scoring with the judge: the before/after answers of eval.json, graded with the rubric.
        samples = {"before": [UNKIND[0], "Be well."], "after": ["Rest well.", "Be gentle."]}
        (run_dir / "eval.json").write_text(
            json.dumps(
                {side: {"samples": [{"prompt": "q", "output": o} for o in outs]} for side, outs in samples.items()}
            )
        )
        (run_dir / "heldout.jsonl").write_text('{"prompt": "q"}\n{"prompt": "q2"}\n')
        figures = score_heldout(run_dir, "rubric.md", "claude_judge")
        assert figures["before"]["pass_rate"] == 0.5 and figures["after"]["pass_rate"] == 1.0
        assert figures["check_kind"] == "claude_judge"
    assert files_containing(run_dir, TEST_API_KEY) == []


def test_a_multi_line_format_the_task_check_passes_is_not_diagnosed_as_a_run_on():
    """A numbered list has line breaks by design: when the task's own check passes the tuned answers and the
    verdict failed on something else (correctness), the catalogue must not blame the eos token."""
    from rl_agent.agent.repair.catalogue import CATALOGUE, Symptoms, diagnose

    answers = tuple(three_steps(a) for a in ("Cairo.", "Two.", "Rome.", "Paris."))
    failed = "correct did not fall (after >= before - 0.05): no"
    passed = Symptoms(
        f"verdict: the before/after did not succeed (task check pass rate >= 0.8: yes, {failed})", "", None, answers, 40
    )
    found = diagnose(passed, CATALOGUE)
    assert found is None or found[0].id != "generation_never_stops"
    run_on = Symptoms(
        f"verdict: the before/after did not succeed (task check pass rate >= 0.8: no, {failed})", "", None, answers, 40
    )
    assert diagnose(run_on, CATALOGUE)[0].id == "generation_never_stops"  # without a passing check it still is

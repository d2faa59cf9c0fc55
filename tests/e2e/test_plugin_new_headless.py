"""`/rl-agent:new` as a user runs it: the real Claude Code CLI (bundled in claude-agent-sdk), headless, with
this repository loaded as a plugin, against the scripted Messages API server (tests/support/anthropic_server.py).

The scripted model plays Claude reading the user's words. It gets the expanded `/rl-agent:new <task>` prompt
and, through Claude Code's own tools (Write, Edit, Bash) and only the commands the plugin's `allowed-tools`
permit, lists the recipes, finds none that fits, writes a task folder under the contract with one planted
mistake (a check that accepts a bad example), runs `rl-agent prove` (which fails naming that example), fixes
the check, proves it again (passes) and starts the run with `rl-agent new --task-dir`. Each reply is decided
from the tool result Claude Code sent back, so a prove that did not fail (or pass) when it should stops the
session instead of going on.

Claude Code runs in its default permission mode with a throwaway HOME and config (no settings granting
anything): what lets the writes and the `rl-agent` commands run without a prompt is the command's
`allowed-tools`, and a control session without the command shows the same call refused. Headless, a call
that would need a prompt is refused and listed in the result's `permission_denials`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.claude_code_server import ClaudeCodeTestServer, Reply, bundled_cli, cli_env
from tests.support.cli import REPO

pytestmark = pytest.mark.skipif(bundled_cli() is None, reason="this platform's claude-agent-sdk has no bundled CLI")

TASK = "Wrap every answer in square brackets, like [Paris]"
FOLDER = "tasks/brackets"
STEPS = 10
STATEMENT = (
    "the whole answer is one pair of square brackets with the answer inside, e.g. [Paris]; nothing before or after"
)
PLANTED = "[Cairo] is the capital of Egypt."  # a bad example the first check scores as good

# The planted mistake: '"]" in text' accepts an answer that only starts with a bracketed word. The fix: the
# closing bracket must end the answer.
BUGGY_CHECK = '''def check(prompt, output, reference=None):
    """1.0 when the whole answer is wrapped in one pair of square brackets with some text inside."""
    text = output.strip()
    if len(text) < 3 or not (text.startswith("[") and "]" in text):
        return 0.0
    inner = text[1:-1]
    return 1.0 if inner.strip() and "[" not in inner else 0.0
'''
BUG, FIX = '"]" in text', 'text.endswith("]")'

FACTS = [  # (question, answer) the embedded model was trained on
    ("What is the capital of France?", "Paris"),
    ("What is the capital of Greece?", "Athens"),
    ("What is the capital of India?", "New Delhi"),
    ("What is the capital of Nigeria?", "Abuja"),
    ("What is the capital of Czechia?", "Prague"),
    ("What language is spoken in China?", "Chinese"),
    ("What language is spoken in Denmark?", "Danish"),
    ("Which continent is Thailand in?", "Asia"),
    ("Which continent is Canada in?", "North America"),
    ("How many legs does a chicken have?", "Two"),
    ("What sound does an owl make?", "Hoot"),
    ("What is a baby kangaroo called?", "Joey"),
    ("What is the chemical symbol for carbon?", "C"),
    ("What is the opposite of old?", "Young"),
    ("What is the opposite of push?", "Pull"),
    ("What is the plural of goose?", "Geese"),
    ("What is the past tense of eat?", "Ate"),
    ("What color is grass?", "Green"),
    ("What day comes after Friday?", "Saturday"),
    ("What is 3 times 7?", "21"),
    ("How many sides does an octagon have?", "Eight"),
    ("What is the largest ocean on Earth?", "The Pacific"),
    ("What do caterpillars turn into?", "Butterflies"),
    ("What is 100 minus 1?", "99"),
]
HELDOUT = [
    ("What is the capital of Egypt?", "Cairo"),
    ("What is the capital of Hungary?", "Budapest"),
    ("What language is spoken in Turkey?", "Turkish"),
    ("Which continent is Kenya in?", "Africa"),
    ("What is a baby dog called?", "Puppy"),
    ("What is the opposite of day?", "Night"),
    ("What month comes after April?", "May"),
    ("What shape has four equal sides?", "A square"),
]
GOOD = [
    ("What is the capital of Japan?", "[Tokyo]", "Tokyo"),
    ("What is the capital of Canada?", "[Ottawa]", "Ottawa"),
    ("What is the capital of Argentina?", "  [Buenos Aires]\n", "Buenos Aires"),
    ("What animal has a trunk?", "[The elephant]", "The elephant"),
    ("What is 2 plus 2?", "[4]", "4"),
]
BAD = [
    ("What is the capital of Japan?", "Tokyo.", "Tokyo"),
    ("What is the capital of Canada?", "(Ottawa)", "Ottawa"),
    ("What is 2 plus 2?", "[]", "4"),
    ("What animal has a trunk?", "The answer is [The elephant]", "The elephant"),
    ("What is the capital of Egypt?", PLANTED, "Cairo"),
    ("What is the capital of Italy?", "{Rome}", "Rome"),
]


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def folder_files() -> dict[str, str]:
    """What the scripted model writes, relative to the task folder (what Claude would write for this task)."""
    pair = lambda q, a: {"prompt": q, "chosen": f"[{a}]", "rejected": f"{a}.", "reference": a}  # noqa: E731
    examples = [{"kind": "good", "prompt": q, "output": o, "reference": r} for q, o, r in GOOD]
    examples += [{"kind": "bad", "prompt": q, "output": o, "reference": r} for q, o, r in BAD]
    return {
        "task.json": json.dumps({"statement": STATEMENT, "algorithm": "dpo", "check_kind": "program"}, indent=1) + "\n",
        "check.py": BUGGY_CHECK,
        "examples.jsonl": jsonl(examples),
        "data/train.jsonl": jsonl([pair(q, a) for q, a in FACTS]),
        "data/heldout.jsonl": jsonl([pair(q, a) for q, a in HELDOUT]),
    }


def flat(text: str) -> str:
    """Tool output with its line wrapping undone (the CLI prints for an 80-column terminal)."""
    return " ".join(text.split())


class ScriptedClaude:
    """The model's side of the session. Each reply is decided from the tool results so far; anything not as
    expected ends the turn with a 'STOPPED' text (recorded in `stopped`) instead of carrying on."""

    def __init__(self, project: Path):
        self.folder = project / FOLDER
        self.stopped: list[str] = []
        writes = [
            ("Write", {"file_path": str(self.folder / rel), "content": text}, self._ok if i else None)
            for i, (rel, text) in enumerate(folder_files().items())
        ]  # recipes' output: asserted below
        bash = lambda cmd, what, **kw: ("Bash", {"command": cmd, "description": what, **kw})  # noqa: E731
        # (tool, input, precondition on the previous tool result)
        self.plan: list[tuple[str, dict, Any]] = [
            (*bash("rl-agent recipes", "List the rl-agent recipes and their parameters"), None),
            *writes,
            (*bash(f"rl-agent prove {FOLDER}", "Prove the task's check on its examples"), self._ok),
            (
                "Edit",
                {"file_path": str(self.folder / "check.py"), "old_string": BUG, "new_string": FIX},
                self._proof_failed_on_planted,
            ),
            (*bash(f"rl-agent prove {FOLDER}", "Prove the fixed check"), self._ok),
            (
                *bash(
                    f"rl-agent new --task-dir {FOLDER} --offline --yes --steps {STEPS} --tune-budget 0",
                    "Train on the proven task folder",
                    timeout=600_000,
                ),
                self._proved,
            ),
        ]

    # what each step needs from the previous tool result before it runs
    @staticmethod
    def _ok(result: dict) -> str | None:
        return None if not result["is_error"] else f"{result['name']} failed: {result['text'][:300]}"

    @staticmethod
    def _proof_failed_on_planted(result: dict) -> str | None:
        if result["is_error"] and "Exit code 1" in result["text"] and PLANTED in flat(result["text"]):
            return None
        return f"the first proof did not fail on the planted example: {result['text'][:500]}"

    @staticmethod
    def _proved(result: dict) -> str | None:
        return None if not result["is_error"] else f"the second proof did not pass: {result['text'][:500]}"

    def __call__(self, body: dict[str, Any]) -> Reply:
        if not body.get("tools"):  # Claude Code's side requests (titles, summaries): not the agent loop
            return Reply.text_reply("ok")
        results = tool_results(body)
        n = len(results)
        if n < len(self.plan):
            name, inp, precondition = self.plan[n]
            why = precondition(results[-1]) if precondition and results else None
            if why:
                self.stopped.append(why)
                return Reply.text_reply(f"STOPPED: {why}")
            return Reply.tool_use(name, inp, text=self._say(n))
        return Reply.text_reply(f"The run finished. {self._summary(results[-1])}")

    def _say(self, n: int) -> str | None:
        if n == 1:
            return (
                "No recipe says the whole answer is one bracketed item: prefix '[' with closing ']' would also "
                f"accept '[Paris] or [Rome]'. Writing a task folder in {FOLDER}."
            )
        if self.plan[n][0] == "Edit":
            return f"The check accepted {PLANTED!r}: the closing bracket must end the answer. Fixing check.py."
        if self.plan[n][1].get("command", "").startswith("rl-agent new"):
            good = "; ".join(o.strip() for _, o, _ in GOOD)
            bad = "; ".join(o for _, o, _ in BAD)
            return f"Proven. Statement: {STATEMENT}.\nGood examples: {good}\nBad examples: {bad}\nStarting the run."
        return None

    @staticmethod
    def _summary(result: dict) -> str:
        if result["is_error"]:
            return "It trained and reported, but its verdict failed: show the report and its tune_next tips."
        return "It trained and its verdict succeeded."


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results in one request's conversation, in order, with the tool_use each answers."""
    uses: dict[str, dict] = {}
    out = []
    for msg in body.get("messages", []):
        if not isinstance(msg.get("content"), list):
            continue
        for block in msg["content"]:
            if block.get("type") == "tool_use":
                uses[block["id"]] = block
            elif block.get("type") == "tool_result":
                content = block.get("content")
                text = (
                    content
                    if isinstance(content, str)
                    else "\n".join(b.get("text", "") for b in content or [] if isinstance(b, dict))
                )
                use = uses.get(block["tool_use_id"], {})
                out.append(
                    {
                        "name": use.get("name"),
                        "input": use.get("input"),
                        "text": text,
                        "is_error": bool(block.get("is_error")),
                    }
                )
    return out


def claude(
    prompt: str, *, project: Path, home: Path, server: ClaudeCodeTestServer, timeout: float = 600
) -> tuple[subprocess.CompletedProcess, dict]:
    """The bundled CLI, headless, default permission mode, this repository as a plugin; (process, result)."""
    env, unset = cli_env(server, home)
    full = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith(("ANTHROPIC_", "CLAUDE"))}
    full.update(env)
    full["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])  # rl-agent on PATH
    project.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [str(bundled_cli()), "-p", prompt, "--plugin-dir", str(REPO), "--output-format", "json"],
        cwd=project,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {}
    return proc, result


def summary(tool_input: dict, project: Path) -> str:
    """One line for a tool call in the printed transcript."""
    if "command" in tool_input:
        return tool_input["command"]
    path = str(Path(tool_input["file_path"]).relative_to(project))
    if "content" in tool_input:
        return f"{path} ({len(tool_input['content'].splitlines())} lines)"
    return f"{path}: {tool_input.get('old_string')!r} -> {tool_input.get('new_string')!r}"


def newest_run(project: Path) -> Path:
    runs = sorted((project / "runs").glob("*/run.json"), key=lambda p: p.stat().st_mtime)
    assert runs, f"no run folder under {project / 'runs'}"
    return runs[-1].parent


@pytest.mark.slow
def test_new_writes_proves_fixes_and_runs_a_task_folder(tmp_path):
    project, home = tmp_path / "project", tmp_path / "home"
    model = ScriptedClaude(project)
    started = time.monotonic()
    with ClaudeCodeTestServer(responder=model) as srv:
        proc, result = claude(f"/rl-agent:new {TASK}", project=project, home=home, server=srv)
        results = srv.tool_results()
        first = srv.message_requests[0].body
        user_agents = {r.headers.get("user-agent", "") for r in srv.message_requests}
    took = time.monotonic() - started
    transcript = "\n".join(
        f"{r['name']} {summary(r['input'], project)} -> {'ERROR ' if r['is_error'] else ''}"
        f"{flat(r['text'])[-600:] if r['name'] == 'Bash' else flat(r['text'])[:120]}"
        for r in results
    )
    print(f"\n{took:.0f} s\n{transcript}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert not model.stopped, model.stopped[0] + "\n" + transcript

    # the model received the expanded command with the user's words
    sent = json.dumps(first["messages"])
    assert TASK in sent and "rl-agent prove" in sent and "--task-dir" in sent

    # Claude Code's permissions let every call through without a prompt (default mode: allowed-tools did it)
    assert result.get("permission_denials") == [], result.get("permission_denials")
    assert not [r for r in results if "requested permissions" in r["text"]], transcript
    assert [r["name"] for r in results] == [step[0] for step in model.plan]

    # the files: written as scripted, with the fix applied to check.py
    folder = project / FOLDER
    expected = folder_files()
    expected["check.py"] = BUGGY_CHECK.replace(BUG, FIX)
    for rel, text in expected.items():
        assert (folder / rel).read_text(encoding="utf-8") == text, rel

    # the proofs: the first failed naming the planted example, the second passed
    proves = [r for r in results if r["name"] == "Bash" and r["input"]["command"].startswith("rl-agent prove")]
    assert len(proves) == 2
    assert proves[0]["is_error"] and "Exit code 1" in proves[0]["text"]
    assert re.search(r"bad example \d+", flat(proves[0]["text"])) and PLANTED in flat(proves[0]["text"])
    assert not proves[1]["is_error"] and "proven" in proves[1]["text"].lower()
    assert not re.search(r"bad example \d+", flat(proves[1]["text"]))
    assert not results[0]["is_error"], results[0]["text"][:500]  # rl-agent recipes

    # the run: started from the task folder, trained on its data with its fixed check, and reported
    run = newest_run(project)
    state = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert {"model", "data", "render", "train", "evaluate", "report"} <= set(state["stages_done"]), state["stages_done"]
    assert state["spec"]["algorithm"] == "dpo" and state["spec"]["model_source"] == "embedded"
    # the steps asked for (--tune-budget 0: no settings search; the search has its own tests)
    trained = json.loads((run / "out/train_metrics.json").read_text())["steps"]
    assert trained == state["spec"]["dpo"]["max_steps"] == STEPS
    train_rows = [json.loads(line) for line in Path(state["spec"]["train_file"]).read_text().splitlines() if line]
    assert {r["prompt"] for r in train_rows} == {q for q, _ in FACTS}
    assert Path(state["spec"]["check_file"]).read_text(encoding="utf-8") == expected["check.py"]
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    started_run = results[-1]
    assert started_run["input"]["command"].startswith("rl-agent new --task-dir")
    # its exit follows the verdict (10 steps rarely teach the tiny model brackets: exit 1 after the report)
    assert started_run["is_error"] == (not report["verdict"]["succeeded"]), flat(started_run["text"])[-600:]
    if started_run["is_error"]:
        assert "Exit code 1" in started_run["text"] and "Traceback" not in started_run["text"]

    # no API key path: every Messages request came from Claude Code itself, none from rl-agent
    assert all(ua.startswith("claude-cli") for ua in user_agents), user_agents


def test_without_the_command_the_same_calls_need_a_prompt(tmp_path):
    """The control: the same Write and `rl-agent prove` in a plain session (no /rl-agent:new) are refused
    headless, so it is the command's allowed-tools that permits them."""
    project, home = tmp_path / "project", tmp_path / "home"
    folder = project / FOLDER
    with ClaudeCodeTestServer() as srv:
        srv.script(
            Reply.tool_use("Write", {"file_path": str(folder / "task.json"), "content": "{}\n"}),
            Reply.tool_use("Bash", {"command": f"rl-agent prove {FOLDER}", "description": "prove"}),
            Reply.text_reply("done"),
        )
        proc, result = claude(f"Train a model: {TASK}", project=project, home=home, server=srv, timeout=120)
        results = srv.tool_results()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Write", "Bash"]
    assert all(r["is_error"] for r in results) and not folder.exists()

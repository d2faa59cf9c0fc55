"""A judged task folder for tests and the demo: "answer like a patient teacher, in two sentences at most",
checked by rubric.md (the Claude grader), GRPO. The scripted server grades by a real rule over the text it
receives (anthropic_server.default_score: short, plain answers score high), so the tiny model can learn it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rl_agent.kit.dataio.prompts import bundled_prompts_path, load_prompts
from tests.support.anthropic_server import Reply, default_responder, default_score

STATEMENT = "answer like a patient teacher, in two sentences at most"
RUBRIC = (
    "Score 1 for an answer a patient teacher would give: plain, correct, and in two sentences at most, with no "
    "hedging or filler. Score 0 for a rambling, hedged or preachy answer of more than two sentences; "
    "partial credit between."
)
GOOD = ["Paris.", "It is Paris.", "Paris, France.", "Paris, of course.", "The answer: Paris."]
BAD = [
    "Well, I think it might be Paris, but honestly I am not sure, you should really check this yourself before "
    f"relying on it in any way at all, okay? {i}"
    for i in range(5)
]


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def write_judged_folder(root: Path, *, train_rows: int = 64, heldout_rows: int = 12, algorithm: str = "grpo") -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "task.json").write_text(
        json.dumps({"statement": STATEMENT, "algorithm": algorithm, "check_kind": "claude_judge"})
    )
    (root / "rubric.md").write_text(RUBRIC + "\n")
    q = "What is the capital of France?"
    (root / "examples.jsonl").write_text(
        jsonl(
            [{"kind": "good", "prompt": q, "output": o} for o in GOOD]
            + [{"kind": "bad", "prompt": q, "output": o} for o in BAD]
        )
    )
    train = load_prompts(bundled_prompts_path("terse", "train"))[:train_rows]
    heldout = load_prompts(bundled_prompts_path("terse", "heldout"))[:heldout_rows]
    (root / "data/train.jsonl").write_text(jsonl([{"prompt": r.prompt, "reference": r.reference} for r in train]))
    (root / "data/heldout.jsonl").write_text(jsonl([{"prompt": r.prompt, "reference": r.reference} for r in heldout]))
    return root


# ---- scripted judges that a check must catch ----------------------------------------------------------------

EXAMPLES = set(GOOD + BAD)
SECOND_READING_MARK = "You are checking answers against a set of criteria"


def _output(body: dict) -> str:
    text = body["messages"][0]["content"]
    m = re.search(r"<output>\n(.*?)\n</output>", text, re.DOTALL)
    return m.group(1) if m else ""


def lenient(body: dict) -> Reply:
    """Right on the task's examples (so it passes the proof), 0.95 for every other answer: a lenient judge."""
    second = SECOND_READING_MARK in body["system"][0]["text"]
    if second or _output(body) in EXAMPLES:
        return default_responder(body)
    return Reply.text_reply(json.dumps({"score": 0.95, "reason": "fine"}))


def inconsistent(body: dict) -> Reply:
    """Right on the examples; on other answers the training rubric's reading ranks them backwards."""
    if SECOND_READING_MARK in body["system"][0]["text"] or _output(body) in EXAMPLES:
        return default_responder(body)
    return Reply.text_reply(json.dumps({"score": round(1 - default_score(_output(body)), 4), "reason": "x"}))

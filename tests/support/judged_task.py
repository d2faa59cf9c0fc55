"""A judged task folder for tests and the demo: "answer like a patient teacher, in two sentences at most",
checked by rubric.md (the Claude grader), GRPO. The scripted server grades by a real rule over the text it
receives (anthropic_server.default_score: short, plain answers score high), so the tiny model can learn it."""

from __future__ import annotations

import json
from pathlib import Path

from rl_agent.kit.dataio.prompts import bundled_prompts_path, load_prompts

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

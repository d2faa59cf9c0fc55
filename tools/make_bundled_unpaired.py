#!/usr/bin/env python
"""Rebuild rl_agent/data/terse_unpaired/train.jsonl (KTO's bundled data) from the bundled terse pairs.

Each training pair gives two unpaired rows: its chosen answer labelled true and its rejected answer
labelled false, shuffled with a fixed seed so the file is the same on every run. Held-out data stays the
terse pairs (rl_agent/data/terse/heldout.jsonl), so KTO's before/after is measured as DPO's is.

    python tools/make_bundled_unpaired.py
"""

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "rl_agent" / "data" / "terse" / "train.jsonl"
DEST = ROOT / "rl_agent" / "data" / "terse_unpaired" / "train.jsonl"
SEED = 0


def main() -> None:
    rows = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            rows.append({"prompt": pair["prompt"], "completion": pair["chosen"], "label": True})
            rows.append({"prompt": pair["prompt"], "completion": pair["rejected"], "label": False})
    random.Random(SEED).shuffle(rows)
    DEST.parent.mkdir(parents=True, exist_ok=True)
    DEST.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{DEST}: {len(rows)} rows from {SOURCE.name}")


if __name__ == "__main__":
    main()

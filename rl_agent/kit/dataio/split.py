"""A seeded held-out split that never puts one prompt on both sides, and the overlap check.

Why by prompt: a held-out prompt seen in training (even with other answers) measures memorisation, not
learning. Rows sharing a normalised prompt go to the same side.
"""

from __future__ import annotations

import random


def norm_prompt(text: str) -> str:
    return " ".join(str(text).lower().split())


def seeded_split(rows: list[dict], share: float, seed: int = 0, min_heldout: int = 3) -> tuple[list[dict], list[dict]]:
    """(train, heldout): about `share` of the distinct prompts held out (at least `min_heldout` rows)."""
    if not 0 < share < 1:
        raise ValueError(f"--heldout-share must be between 0 and 1, not {share}")
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(norm_prompt(row.get("prompt", "")), []).append(row)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    want = max(min_heldout, round(share * len(rows)))
    held: list[dict] = []
    held_keys = set()
    for key in keys:
        if len(held) >= want or len(held_keys) >= len(keys) - 1:
            break
        held.extend(groups[key])
        held_keys.add(key)
    train = [r for r in rows if norm_prompt(r.get("prompt", "")) not in held_keys]
    return train, held


def shared_prompts(train: list[dict], heldout: list[dict]) -> list[str]:
    """Held-out prompts that also appear in training (normalised case and spacing), in held-out order."""
    seen = {norm_prompt(r.get("prompt", "")) for r in train}
    out, done = [], set()
    for r in heldout:
        key = norm_prompt(r.get("prompt", ""))
        if key in seen and key not in done:
            out.append(r.get("prompt", ""))
            done.add(key)
    return out

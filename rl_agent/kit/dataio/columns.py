"""Map a dataset's column names onto the kit's canonical ones, by `--columns` or by recognising common names.

Canonical columns follow TRL's standard dataset types: `prompt`, `chosen`, `rejected` (preference),
`completion` and `label` (unpaired preference / prompt-completion), `reference` (a gold answer for
verifiers), `messages` and `text` (language modelling, not trained on by these tracks). Explicit
`--columns` entries win; the rest are recognised from a list of common names, and every mapping made is
reported so nothing is renamed silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rl_agent.kit.dataio.sources import DataError

# The canonical names and the aliases recognised for them: one table, shared with the scripts' reader.
from rl_agent.runtime.rows import ALIASES, CANONICAL  # noqa: E402


@dataclass
class ColumnMapping:
    """source column -> canonical column; `given` came from --columns, `recognised` by name."""

    given: dict[str, str] = field(default_factory=dict)
    recognised: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)
    # Alpaca-style: an `input` column next to `instruction` is appended to the prompt, not dropped.
    prompt_extra: str | None = None

    @property
    def mapping(self) -> dict[str, str]:
        return {**self.recognised, **self.given}

    def describe(self) -> list[str]:
        lines = []
        for src, dst in self.given.items():
            lines.append(f"{src} -> {dst} (--columns)")
        for src, dst in self.recognised.items():
            lines.append(f"{src} -> {dst}" + (" (same name)" if src == dst else " (recognised)"))
        if self.prompt_extra:
            lines.append(f"{self.prompt_extra} -> appended to prompt (instruction + input)")
        if self.unused:
            lines.append("not used: " + ", ".join(self.unused))
        return lines

    def apply(self, row: dict) -> dict:
        out = {dst: row.get(src) for src, dst in self.mapping.items()}
        if self.prompt_extra:
            extra = row.get(self.prompt_extra)
            if isinstance(extra, str) and extra.strip() and isinstance(out.get("prompt"), str):
                out["prompt"] = out["prompt"].rstrip() + "\n\n" + extra.strip()
        return out


def parse_columns(spec: str | None) -> dict[str, str]:
    """`question=prompt,good=chosen,bad=rejected` -> {"question": "prompt", ...}; errors name the entry."""
    if not spec or not spec.strip():
        return {}
    out: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise DataError(f"--columns: {part!r} is not SOURCE=TARGET (e.g. question=prompt)")
        src, dst = (s.strip() for s in part.split("=", 1))
        if not src or dst not in CANONICAL:
            raise DataError(f"--columns: {part!r}: target must be one of {', '.join(CANONICAL)}")
        if dst in out.values():
            raise DataError(f"--columns: two columns map to {dst!r}")
        out[src] = dst
    return out


def resolve_columns(columns: list[str], given: dict[str, str], where: str) -> ColumnMapping:
    """Combine --columns with name recognition for the columns a dataset has."""
    for src in given:
        if src not in columns:
            raise DataError(f"{where}: --columns names {src!r}, but the columns are {', '.join(columns)}")
    taken = set(given.values())
    used = set(given)
    lower = {c.lower(): c for c in columns if c not in used}
    recognised: dict[str, str] = {}
    for dst in CANONICAL:
        if dst in taken:
            continue
        for alias in ALIASES[dst]:
            src = lower.get(alias)
            if src is not None and src not in used:
                recognised[src] = dst
                used.add(src)
                taken.add(dst)
                break
    mapping = ColumnMapping(dict(given), recognised)
    srcs = {v: k for k, v in mapping.mapping.items()}
    if srcs.get("prompt", "").lower() == "instruction" and "input" in lower and lower["input"] not in used:
        mapping.prompt_extra = lower["input"]
        used.add(lower["input"])
    mapping.unused = [c for c in columns if c not in used]
    return mapping

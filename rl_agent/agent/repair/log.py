"""The repair record: repairs.jsonl (one JSON object per event, shared with the Claude agent's records) and
repairs.md, the same history for people. Apart from the loop so that everything that repairs (the loop,
preflight, the fallbacks, the Claude agent) writes one record without importing the loop."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from rl_agent.kit.pipeline.run_folder import RunFolder

REPAIRS_JSONL = "repairs.jsonl"
REPAIRS_MD = "repairs.md"


@dataclass
class RepairRecord:
    attempt: int
    failure: str  # catalogue id
    title: str
    error: str
    evidence: str  # the log text that matched
    diagnosis: str
    patch: dict[str, Any]
    changes: list[str]
    outcome: str | None = None  # filled in after the next run: "fixed" or "failed again: ..."


class RepairLog:
    """repairs.jsonl (one JSON object per event, shared with the Claude agent's records) and repairs.md,
    the same history for people, rewritten after every event."""

    def __init__(self, folder: RunFolder):
        self.folder = folder

    def add(self, record: RepairRecord, trials: list[str] | None = None) -> None:
        self._append(
            {
                **({"trials": trials} if trials else {}),
                "time": _now(),
                "by": "repairer",
                "attempt": record.attempt,
                "action": f"catalogue:{record.failure}",
                "failure": record.failure,
                "title": record.title,
                "error": record.error,
                "evidence": record.evidence,
                "diagnosis": record.diagnosis,
                "reason": record.diagnosis,
                "patch": record.patch,
                "change": record.patch,
                "changes": record.changes,
                "ok": True,
            }
        )

    def outcome(self, attempt: int, outcome: str) -> None:
        self._append({"time": _now(), "by": "repairer", "attempt": attempt, "outcome": outcome})

    def note(self, attempt: int, error: str, outcome: str, trials: list[str] | None = None) -> None:
        """A failure the loop did not (or could not) repair (with a settings search's trials table)."""
        self._append(
            {
                "time": _now(),
                "by": "repairer",
                "attempt": attempt,
                "error": error,
                "outcome": outcome,
                "ok": False,
                **({"trials": trials} if trials else {}),
            }
        )

    def read(self) -> list[dict[str, Any]]:
        path = self.folder.path(REPAIRS_JSONL)
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def _append(self, event: dict[str, Any]) -> None:
        with open(self.folder.path(REPAIRS_JSONL), "a", encoding="utf-8") as f:
            f.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.folder.path(REPAIRS_MD).write_text(render_repairs_md(self.read()), encoding="utf-8")


def render_repairs_md(events: list[dict[str, Any]]) -> str:
    """The repair history as Markdown: per repair, the error, the diagnosis, the patch and the outcome."""
    lines = ["# Repairs", "", "Every change made to this run folder to get it to complete, in order.", ""]
    outcomes = {(e.get("by"), e["attempt"]): e["outcome"] for e in events if "outcome" in e and "error" not in e}
    for e in events:
        if "outcome" in e and "error" not in e:
            continue
        who = e.get("by", "?")
        if "patch" in e and who == "repairer":
            lines += [
                f"## Repair {e['attempt']}: {e['title']} (`{e['failure']}`)",
                "",
                f"- **Error:** {_md(e['error'])}",
                f"- **Recognised from:** `{_md(e['evidence'], 200).replace('`', chr(39))}`",
                f"- **Diagnosis:** {e['diagnosis']}",
                f"- **Patch:** {e['patch']['summary']} (re-run from stage `{e['patch']['rerun_from']}`)",
            ]
            lines += [f"  - {_md(c, 300)}" for c in e.get("changes", [])]
            lines += ["", *e["trials"], ""] if e.get("trials") else []
            lines += [f"- **Outcome:** {outcomes.get((who, e['attempt']), 'pending')}", ""]
        elif who == "repairer":
            lines += [
                f"## Not repaired (after {e['attempt'] - 1} repair(s))",
                "",
                f"- **Error:** {_md(e['error'])}",
                f"- **Outcome:** {e.get('outcome')}",
                "",
            ]
            lines += [*e["trials"], ""] if e.get("trials") else []
        else:  # another agent's record (e.g. the Claude agent's tools)
            lines += [
                f"## {who} attempt {e.get('attempt')}: {e.get('action')} {e.get('target', '')}",
                "",
                f"- **Reason:** {_md(str(e.get('reason', '')))}",
                f"- **Change:** `{_md(json.dumps(e.get('change', {}), ensure_ascii=False), 300)}`",
                f"- **Applied:** {'yes' if e.get('ok') else 'no'}" + (f" ({e['error']})" if e.get("error") else ""),
                "",
            ]
    return "\n".join(lines)


def _md(text: str, limit: int = 500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")

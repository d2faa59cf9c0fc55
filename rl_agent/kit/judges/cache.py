"""Persistent grade cache (SQLite, WAL): the same output under the same model and rubric is paid for once,
across processes. It also remembers submitted batches so a killed run resumes instead of paying twice.

Only successful grades are stored: a failure should be retried next time, not replayed.
Nothing secret is stored: keys are hashes, rows hold scores, reasons and token counts.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from rl_agent.kit.judges.base import Grade, Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, rubric TEXT NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL,
    usage TEXT NOT NULL, cost_usd REAL NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY, model TEXT NOT NULL, rubric TEXT NOT NULL, keys TEXT NOT NULL,
    state TEXT NOT NULL, created_at REAL NOT NULL, collected_at REAL
);
"""


def grade_key(model: str, rubric_hash: str, *parts: str | None) -> str:
    """64 hex chars (also a valid batch custom_id). None and "" are kept distinct."""
    payload = json.dumps([model, rubric_hash, *parts], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SavedBatch:
    batch_id: str
    keys: list[str]
    created_at: float


class GradeCache:
    """SQLite-backed; safe to share between threads of one process and between processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> GradeCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # grades ------------------------------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, Grade]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, Grade] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = self._db.execute(
                    f"SELECT key, score, reason FROM grades WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                for key, score, reason in rows:
                    out[key] = Grade(float(score), reason, cached=True)
        return out

    def get(self, key: str) -> Grade | None:
        return self.get_many([key]).get(key)

    def put(self, key: str, grade: Grade, *, model: str, rubric: str) -> None:
        if not grade.ok:
            return
        u = grade.usage
        usage = json.dumps([u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens, u.output_tokens])
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, model, rubric, grade.score, grade.reason, usage, grade.cost_usd, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM grades").fetchone()[0])

    def stored_usage(self, key: str) -> Usage | None:
        """What the original (paid) grade used; for reports."""
        with self._lock:
            row = self._db.execute("SELECT usage FROM grades WHERE key = ?", (key,)).fetchone()
        return Usage(*json.loads(row[0])) if row else None

    # batches -----------------------------------------------------------------------------------
    def save_batch(self, batch_id: str, keys: list[str], *, model: str, rubric: str) -> None:
        """Record a submitted batch *before* polling, so a killed process can resume it."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, 'submitted', ?, NULL)",
                (batch_id, model, rubric, json.dumps(keys), time.time()),
            )

    def open_batches(self, *, model: str, rubric: str) -> list[SavedBatch]:
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, keys, created_at FROM batches WHERE state = 'submitted' AND model = ? AND rubric = ?"
                " ORDER BY created_at",
                (model, rubric),
            ).fetchall()
        return [SavedBatch(bid, json.loads(keys), created) for bid, keys, created in rows]

    def mark_batch(self, batch_id: str, state: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE batches SET state = ?, collected_at = ? WHERE batch_id = ?", (state, time.time(), batch_id)
            )

"""`rl-agent grade` / `rl-agent pairs` end to end: CLI in-process and in separate processes, against the
local Anthropic server over real HTTP."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rl_agent.kit.dataio.pairs import bundled_pairs_path, load_pairs
from tests.support.anthropic_fixtures import (  # noqa: F401  (fixtures)
    anthropic_env,
    anthropic_server,
    cli_subprocess,
    fake_key,
    grading_app,
    read_jsonl,
    write_jsonl,
)
from tests.support.anthropic_server import Reply, default_score

ROWS = [
    {"prompt": "Capital of France?", "output": "Paris.", "reference": "Paris"},
    {"prompt": "Capital of France?", "output": "Great question! I think it is probably Paris. Hope this helps!"},
    {"prompt": "2+2?", "output": "4"},
]


def run(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(grading_app(), args, env=env, catch_exceptions=False)


def test_offline_terse_judge_writes_scores_next_to_input(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    res = run(["grade", str(src), "--judge", "terse"])
    assert res.exit_code == 0, res.output
    rows = read_jsonl(tmp_path / "outs.graded.jsonl")
    assert [r["output"] for r in rows] == [r["output"] for r in ROWS]
    assert rows[0]["score"] == 1.0 and rows[1]["score"] < 0.5 and all(r["judge"] == "terse" for r in rows)
    summary = json.loads((tmp_path / "outs.graded.summary.json").read_text())
    assert summary["scores"]["n"] == 3 and summary["scores"]["failed"] == 0
    assert "mean score" in res.stdout


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"prompt": "a", "output": "b"}', "{not json"], ":2: not valid JSON"),
        (['{"prompt": "a"}'], ":1: missing field 'output'"),
        (['{"prompt": "a", "output": 3}'], ":1: field 'output' must be a string"),
        (['["a", "b"]'], ":1: expected a JSON object"),
    ],
)
def test_malformed_input_lines_give_file_line_errors(tmp_path, lines, message):
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(lines) + "\n")
    res = run(["grade", str(src), "--judge", "terse"])
    assert res.exit_code == 2
    assert res.stderr.strip() == f"error: {src}{message}" or f"{src}{message}" in res.stderr
    assert "Traceback" not in res.output and len(res.stderr.strip().splitlines()) == 1


def test_claude_judge_without_key_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    res = run(["grade", str(src)])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    assert "ANTHROPIC_API_KEY" in line and "--judge terse" in line
    assert not (tmp_path / "outs.graded.jsonl").exists()


def test_dry_run_estimates_and_sends_nothing(tmp_path, anthropic_env, anthropic_server):
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    res = run(["grade", str(src), "--dry-run", "--cache", str(tmp_path / "c.db")])
    assert res.exit_code == 0, res.output
    assert "cost estimate" in res.stdout and "--batch" in res.stdout and "prompt caching on" in res.stdout
    assert anthropic_server.requests == [] and not (tmp_path / "outs.graded.jsonl").exists()


def test_claude_grade_end_to_end_with_summary(tmp_path, anthropic_env, anthropic_server):
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    anthropic_server.script(Reply.rate_limited(retry_after=0.01))
    res = run(["grade", str(src), "--cache", str(tmp_path / "c.db"), "--concurrency", "1"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    rows = read_jsonl(tmp_path / "outs.graded.jsonl")
    assert [r["score"] for r in rows] == [default_score(r["output"]) for r in ROWS]
    assert all(r["ok"] and r["judge"] == "claude:claude-haiku-4-5" for r in rows)
    out = res.stdout
    assert "hit rate 67%" in out and "grade cache hits" in out and "prompt caching on" in out
    summary = json.loads((tmp_path / "outs.graded.summary.json").read_text())
    assert summary["run"]["prompt_cache_reads"] == 2 and summary["run"]["cost_usd"] > 0


def test_max_cost_stops_cleanly_keeping_grades(tmp_path, anthropic_env, anthropic_server):
    rows = [{"prompt": "q", "output": f"answer {i}"} for i in range(30)]
    src = write_jsonl(tmp_path / "many.jsonl", rows)
    res = run(["grade", str(src), "--max-cost", "0.02", "--concurrency", "1", "--cache", str(tmp_path / "c.db")])
    assert res.exit_code == 0, res.output
    graded = read_jsonl(tmp_path / "many.graded.jsonl")
    budget = [r for r in graded if r["error"] == "budget"]
    kept = [r for r in graded if r["ok"]]
    assert budget and kept and len(budget) + len(kept) == 30
    assert all(r["score"] is None for r in budget)
    assert "stopped at --max-cost" in res.stdout
    summary = json.loads((tmp_path / "many.graded.summary.json").read_text())
    assert summary["run"]["cost_usd"] <= 0.02


def test_grade_cache_persists_across_processes(tmp_path, anthropic_server, fake_key):
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    env = {"ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    args = ["grade", str(src), "--cache", str(tmp_path / "cache" / "g.sqlite3")]
    first = cli_subprocess(args, cwd=tmp_path, env=env)
    out1, err1 = first.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert len(anthropic_server.message_requests) == 3
    second = cli_subprocess(args, cwd=tmp_path, env=env)
    out2, err2 = second.communicate(timeout=60)
    assert second.returncode == 0, err2
    assert len(anthropic_server.message_requests) == 3  # nothing paid twice
    rows = read_jsonl(tmp_path / "outs.graded.jsonl")
    assert all(r["cached"] and r["cost_usd"] == 0 for r in rows)
    assert [r["score"] for r in rows] == [default_score(r["output"]) for r in ROWS]


def saved_batches(db: Path) -> int:
    """Batches recorded as submitted in the cache db (0 while the other process is still creating it)."""
    if not db.exists():
        return 0
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("SELECT COUNT(*) FROM batches WHERE state='submitted'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        con.close()


def test_killed_batch_run_resumes_from_saved_batch_id(tmp_path, anthropic_server, fake_key):
    src = write_jsonl(tmp_path / "outs.jsonl", ROWS)
    db = tmp_path / "g.sqlite3"
    env = {"ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    args = ["grade", str(src), "--batch", "--cache", str(db), "--poll-interval", "0.05"]
    anthropic_server.hold_batches = True  # the batch stays in progress until we let go
    proc = cli_subprocess(args, cwd=tmp_path, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if saved_batches(db):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the batch id was never saved")
        assert proc.poll() is None  # still polling
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(anthropic_server.batches) == 1
    anthropic_server.hold_batches = False
    res = run(args, env=env)
    assert res.exit_code == 0, res.output
    assert len(anthropic_server.batches) == 1  # resumed, not resubmitted
    rows = read_jsonl(tmp_path / "outs.graded.jsonl")
    assert all(r["ok"] for r in rows)
    summary = json.loads((tmp_path / "outs.graded.summary.json").read_text())
    assert summary["run"]["batches_resumed"] == 1 and summary["run"]["batches_created"] == 0


def test_api_key_appears_in_no_output_cache_or_log(tmp_path, anthropic_server, fake_key):
    """Grade with failures whose error text echoes the key; then scan everything the run wrote."""
    rows = ROWS + [{"prompt": "q", "output": "x @@prose@@"}, {"prompt": "q", "output": "y"}]
    src = write_jsonl(tmp_path / "outs.jsonl", rows)
    anthropic_server.script(
        Reply.rate_limited(retry_after=0.01),
        Reply.error(400, "invalid_request_error", f"rejected header x-api-key: {fake_key}"),
    )
    env = {"ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    res = run(
        ["grade", str(src), "--cache", str(tmp_path / ".rl-agent-cache" / "g.sqlite3"), "--concurrency", "1"], env=env
    )
    assert res.exit_code == 0, res.output
    graded = (tmp_path / "outs.graded.jsonl").read_text()
    assert "[REDACTED]" in graded  # the key did come back in an error body, so the scan below means something
    res2 = run(
        [
            "grade",
            str(src),
            "--batch",
            "--poll-interval",
            "0.01",
            "--out",
            str(tmp_path / "b.jsonl"),
            "--cache",
            str(tmp_path / ".rl-agent-cache" / "g.sqlite3"),
        ],
        env=env,
    )
    assert res2.exit_code == 0, res2.output
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and len(files) >= 5
    secret = fake_key.encode()
    leaks = [str(p) for p in files if secret in p.read_bytes()]
    assert leaks == []
    for text in (res.stdout, res.stderr, res2.stdout, res2.stderr):
        assert fake_key not in text


PAIRS_REPLY = [
    {"prompt": "What is the capital of Peru?", "chosen": "Lima.", "rejected": "I think it's probably Lima, maybe."},
    {"prompt": "what is the capital of peru", "chosen": "Lima.", "rejected": "Hmm, Lima I guess."},  # duplicate
    {"prompt": "Boiling point of water?", "chosen": "100 C at sea level.", "rejected": " ".join(["very"] * 90)},
    {"prompt": "Same?", "chosen": "Yes.", "rejected": "Yes."},
    {"prompt": "Largest ocean?", "chosen": "The Pacific.", "rejected": "Well, I believe it might be the Pacific."},
    {"prompt": "", "chosen": "x", "rejected": "y"},
]


def test_pairs_generates_validated_deduplicated_limited_pairs(tmp_path, anthropic_env, anthropic_server):
    anthropic_server.script(
        Reply.text_reply("```json\n" + json.dumps(PAIRS_REPLY) + "\n```"), Reply.text_reply("not json at all")
    )
    out = tmp_path / "pairs.jsonl"
    res = run(["pairs", "--task", "answer tersely", "--n", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    pairs = load_pairs(out)
    assert [p.prompt for p in pairs] == ["What is the capital of Peru?", "Largest ocean?"]
    assert all(len(getattr(p, f).split()) < 80 for p in pairs for f in ("prompt", "chosen", "rejected"))
    first = anthropic_server.message_requests[0].body["messages"][0]["content"]
    assert "answer tersely" in first and "JSON array" in first
    second = anthropic_server.message_requests[1].body["messages"][0]["content"]
    assert "What is the capital of Peru?" in second  # later rounds are told what already exists
    assert "duplicate prompt" in res.stdout and "stopped early" in res.stdout
    res = run(["pairs", "--task", "answer tersely", "--n", "3", "--out", str(out)])
    assert res.exit_code == 2 and "--force" in res.stderr


def test_pairs_without_key_points_at_bundled_pairs(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    res = run(["pairs", "--task", "x", "--out", str(tmp_path / "p.jsonl")])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    assert "ANTHROPIC_API_KEY" in line and str(bundled_pairs_path("train")) in line
    assert Path(bundled_pairs_path("train")).is_file()

"""`rl-agent new` and `rl-agent run` as a user runs them: plan, refuse plainly, write spec.json, run it,
re-run an edited spec."""

from __future__ import annotations

import json


def test_a_task_that_needs_claude_gets_one_message_and_nothing_is_written(tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli("new", "Write better poems about the sea", "--offline", "--yes", "--run-dir", str(run_dir))
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert err.count("error:") == 1 and "needs Claude" in err and "ANTHROPIC_API_KEY" in err
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not run_dir.exists()


def test_a_checkable_task_is_planned_for_grpo_with_its_check_as_the_reward(tmp_path, cli):
    from rl_agent.agent.loop import algorithm_available

    run_dir = tmp_path / "run"
    task = "For addition problems with two-digit numbers, give the final answer after '####'."
    assert algorithm_available("grpo")
    proc = cli("new", task, "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["algorithm"] == "grpo" and spec["reward"]["source"] == "verifier"
    assert spec["grpo"]["reward"] == spec["reward"]["judge"] == "check" != spec["grpo"]["heldout_judge"]
    assert spec["check"]["recipe"] == "arithmetic" and (run_dir / spec["check"]["path"]).is_file()
    assert spec["needs"] == [] and "check proven" in proc.stdout
    assert not (run_dir / "run.json").exists()


def test_a_half_read_task_is_refused_not_planned_without_its_second_requirement(tmp_path, cli):
    """The recipes read "terse" but not "checked by a verifier": the rule-based planner must not plan it."""
    run_dir = tmp_path / "run"
    proc = cli("new", "Give the correct short answer, checked by a verifier", "--offline", "--yes",
               "--plan-only", "--run-dir", str(run_dir))
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert "needs Claude" in err and "Understood: answers must be terse" in err
    assert not run_dir.exists()


def test_new_plans_runs_and_run_reruns_an_edited_spec(tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli("new", "Make the answers terse and direct: no hedging.", "--offline", "--yes", "--steps", "80",
               "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    spec = json.loads((run_dir / "spec.json").read_text())
    state = json.loads((run_dir / "run.json").read_text())
    assert (spec["family"], spec["algorithm"], spec["check"]["recipe"]) == ("style", "dpo", "terse")
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"]["succeeded"] is True
    # spec.json follows the run: the steps asked for, or what a repair changed them to (and logged).
    assert spec["dpo"] == state["spec"]["dpo"]
    if (run_dir / "repairs.jsonl").exists():  # 80 steps may be too few: then the loop trained longer
        events = [json.loads(x) for x in (run_dir / "repairs.jsonl").read_text().splitlines()]
        assert [e for e in events if "outcome" in e][-1]["outcome"].startswith("fixed")
        assert "Repairs" in proc.stdout and any("spec.json updated" in c for e in events for c in e.get("changes", []))
    else:
        assert spec["dpo"]["steps"] == 80

    # Unchanged and complete: nothing runs.
    proc = cli("run", str(run_dir / "spec.json"), "--yes")
    assert proc.returncode == 0 and "unchanged" in proc.stdout

    # An invalid edit is refused by field name, and the run is left as it was.
    state_before = (run_dir / "run.json").read_text()
    bad = dict(spec, dpo=dict(spec["dpo"], steps=0))
    (run_dir / "spec.json").write_text(json.dumps(bad, indent=2))
    proc = cli("run", str(run_dir), "--yes")
    assert proc.returncode == 2 and "dpo.steps" in proc.stderr
    assert (run_dir / "run.json").read_text() == state_before

    # A changed success bar re-runs only the report.
    edited = dict(spec, success=dict(spec["success"], min_check_rate=0.5))
    (run_dir / "spec.json").write_text(json.dumps(edited, indent=2))
    proc = cli("run", str(run_dir / "spec.json"), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "min_check_rate" in proc.stdout and "report stage" in proc.stdout
    report = json.loads((run_dir / "report.json").read_text())
    assert "task check pass rate >= 0.5" in report["verdict"]["checks"]


def test_new_refuses_a_folder_that_already_holds_a_run(tmp_path, cli):
    run_dir = tmp_path / "run"
    assert cli("new", "be terse", "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir)).returncode == 0
    proc = cli("new", "be terse", "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir))
    assert proc.returncode == 2 and "already holds a run" in proc.stderr

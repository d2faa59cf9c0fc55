"""`rl-agent new` and `rl-agent run` as a user runs them: words without Claude are never guessed at (the recipes
are suggested, nothing is written), `--recipe/--set` plans and runs, spec.json is re-run after an edit."""

from __future__ import annotations

import json


def test_words_without_claude_are_not_guessed_the_recipes_are_suggested(tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli(
        "new",
        "Keep every answer short and never use bullet points",
        "--offline",
        "--yes",
        "--run-dir",
        str(run_dir),
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    out, err = " ".join(proc.stdout.split()), " ".join(proc.stderr.split())
    assert err.count("error:") == 1 and "nothing was planned" in err and "does not guess" in err
    assert "Suggestions only" in out and "rl-agent recipes" in out and "--task-dir" in out and "/rl-agent:new" in out
    # closest first by shared words: plain_text (bullet, point) and length (short) before the rest
    order = [
        line.split(":")[0].strip()
        for line in proc.stdout.splitlines()
        if line.startswith("  ") and not line.startswith("      ")
    ]
    assert set(order[:3]) >= {"plain_text", "length"} and len(order) == 10, order
    assert "rl-agent new --recipe plain_text --set ban=bullets" in out
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not run_dir.exists() and not (tmp_path / "runs").exists()


def test_without_a_key_words_are_not_guessed_either(tmp_path, cli):
    proc = cli("new", "Be terse.", "--yes", "--run-dir", str(tmp_path / "run"), env={"ANTHROPIC_API_KEY": ""})
    assert proc.returncode == 2 and "no ANTHROPIC_API_KEY" in proc.stdout and not (tmp_path / "run").exists()


def test_new_needs_exactly_one_kind_of_task(tmp_path, cli):
    proc = cli("new", "--offline", "--yes")
    assert proc.returncode == 2 and "exactly one of" in proc.stderr
    proc = cli("new", "Be terse", "--recipe", "terse", "--offline", "--yes")
    assert proc.returncode == 2 and "exactly one of" in proc.stderr and "--recipe" in proc.stderr
    proc = cli("new", "--set", "max=5", "--recipe", "length", "--offline", "--yes")
    assert proc.returncode == 2 and "comes before any --recipe" in proc.stderr


def test_a_parameter_mistake_names_the_parameter_and_writes_nothing(tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli("new", "--recipe", "length", "--set", "max=five", "--offline", "--yes", "--run-dir", str(run_dir))
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "parameter 'max' of recipe 'length'" in err and "whole number" in err
    assert not run_dir.exists()


def test_each_set_belongs_to_the_recipe_before_it(tmp_path, cli):
    """Two groups, each `--set` read in command-line order: one combined task whose check is both."""
    run_dir = tmp_path / "run"
    proc = cli(
        "new",
        "--recipe",
        "length",
        "--set",
        "max=25",
        "--recipe",
        "plain_text",
        "--set",
        "ban=bullets",
        "--offline",
        "--yes",
        "--plan-only",
        "--run-dir",
        str(run_dir),
    )
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["check"]["recipe"] == "length+plain_text" and spec["planned_by"] == "recipe"
    assert spec["check"]["params"]["parts"] == [
        {"recipe": "length", "params": {"max": 25, "unit": "words"}},
        {"recipe": "plain_text", "params": {"ban": "bullets", "elements": []}},
    ]
    assert "check proven" in proc.stdout and not (run_dir / "run.json").exists()
    task = json.loads((run_dir / "task.json").read_text())
    assert (task["algorithm"], task["check_kind"], task["recipe"]) == ("dpo", "program", "length+plain_text")


def test_a_checkable_task_is_planned_for_grpo_with_its_check_as_the_reward(tmp_path, cli):
    from rl_agent.agent.repair.loop import algorithm_available

    run_dir = tmp_path / "run"
    assert algorithm_available("grpo")
    proc = cli(
        "new",
        "--recipe",
        "arithmetic",
        "--set",
        "marker=####",
        "--set",
        "ops=+",
        "--set",
        "low=10",
        "--set",
        "high=99",
        "--offline",
        "--yes",
        "--plan-only",
        "--run-dir",
        str(run_dir),
    )
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["algorithm"] == "grpo" and spec["reward"]["source"] == "verifier"
    assert spec["grpo"]["reward"] == spec["reward"]["judge"] == "check" != spec["grpo"]["heldout_judge"]
    assert spec["check"]["recipe"] == "arithmetic" and (run_dir / spec["check"]["path"]).is_file()
    assert spec["check"]["params"]["ops"] == ["+"] and spec["check"]["params"]["low"] == 10
    assert spec["needs"] == [] and "check proven" in proc.stdout
    assert not (run_dir / "run.json").exists()


def test_new_plans_runs_and_run_reruns_an_edited_spec(tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli("new", "--recipe", "terse", "--offline", "--yes", "--steps", "100", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    spec = json.loads((run_dir / "spec.json").read_text())
    state = json.loads((run_dir / "run.json").read_text())
    assert (spec["family"], spec["algorithm"], spec["check"]["recipe"]) == ("style", "dpo", "terse")
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"]["succeeded"] is True
    # spec.json follows the run: the steps asked for, or what a repair changed them to (and logged).
    assert spec["dpo"] == state["spec"]["dpo"]
    if (run_dir / "repairs.jsonl").exists():  # 100 steps may be too few: then the loop trained longer
        events = [json.loads(x) for x in (run_dir / "repairs.jsonl").read_text().splitlines()]
        assert [e for e in events if "outcome" in e][-1]["outcome"].startswith("fixed")
        assert "Repairs" in proc.stdout and any("spec.json updated" in c for e in events for c in e.get("changes", []))
    else:
        assert spec["dpo"]["max_steps"] == 100

    # Unchanged and complete: nothing runs.
    proc = cli("run", str(run_dir / "spec.json"), "--yes")
    assert proc.returncode == 0 and "unchanged" in proc.stdout

    # An invalid edit is refused by field name, and the run is left as it was.
    state_before = (run_dir / "run.json").read_text()
    bad = dict(spec, dpo=dict(spec["dpo"], max_steps=0))
    (run_dir / "spec.json").write_text(json.dumps(bad, indent=2))
    proc = cli("run", str(run_dir), "--yes")
    assert proc.returncode == 2 and "dpo.max_steps" in proc.stderr
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
    args = ("new", "--recipe", "terse", "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir))
    assert cli(*args).returncode == 0
    proc = cli(*args)
    assert proc.returncode == 2 and "already holds a run" in proc.stderr

"""The task-folder contract as a user (or Claude Code) meets it: `rl-agent prove DIR` proves a hand-written folder
and names the example it gets wrong (exit 1) or the file and field that breaks the contract (exit 2);
`rl-agent new --task-dir DIR` copies the folder into the run folder, proves it and plans it; `rl-agent recipes`
lists every recipe with its parameters and an example command that plans."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects

CHECK = '''def check(prompt, output, reference=None):
    """1.0 for a one-line answer that says something and ends with a single '!'."""
    text = output.strip()
    if "\\n" in text or not text.endswith("!") or text.endswith("!!"):
        return 0.0
    return 1.0 if any(c.isalnum() for c in text) else 0.0
'''
GOOD = ["Rome!", "It is Rome!", "4!", "  Rome, of course!\n", "Boil water, add the egg and wait ten minutes!"]
BAD = ["Rome.", "Rome", "Rome!\nAnything else?", "!", "Rome!!"]


def jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def rows(split: str, algorithm: str = "dpo") -> list[dict]:
    out = []
    for _, _, r in iter_jsonl_objects(bundled_pairs_path(split)):
        ref = r.get("reference") or r["chosen"]
        good, bad = ref.rstrip(".") + "!", ref
        if algorithm == "kto" and split == "train":
            out += [
                {"prompt": r["prompt"], "completion": good, "label": True},
                {"prompt": r["prompt"], "completion": bad, "label": False},
            ]
        elif algorithm == "sft" and split == "train":
            out.append({"prompt": r["prompt"], "completion": good})
        else:
            out.append({"prompt": r["prompt"], "chosen": good, "rejected": bad, "reference": ref})
    return out


def write_folder(root: Path, algorithm: str = "dpo", check: str = CHECK, bad: list[str] = BAD) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "task.json").write_text(
        json.dumps(
            {
                "statement": "accepts a one-line answer ending with a single '!'",
                "algorithm": algorithm,
                "check_kind": "program",
            }
        )
    )
    (root / "check.py").write_text(check)
    q = "What is the capital of Italy?"
    (root / "examples.jsonl").write_text(
        jsonl(
            [{"kind": "good", "prompt": q, "output": o} for o in GOOD]
            + [{"kind": "bad", "prompt": q, "output": o} for o in bad]
        )
    )
    (root / "data/train.jsonl").write_text(jsonl(rows("train", algorithm)))
    (root / "data/heldout.jsonl").write_text(jsonl(rows("heldout", algorithm)))
    return root


def test_prove_passes_a_right_folder_and_names_the_example_a_wrong_check_gets_wrong(tmp_path, cli):
    folder = write_folder(tmp_path / "task")
    proc = cli("prove", str(folder))
    assert proc.returncode == 0 and "check proven: 5 good examples" in proc.stdout, proc.stderr
    (folder / "check.py").write_text(CHECK.replace('or text.endswith("!!")', ""))  # now "Rome!!" passes
    proc = cli("prove", str(folder))
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and "check NOT proven" in out
    # which example: kind and index, file and line, prompt, output, score and what was expected
    assert f"bad example 4 scored 1.00, needs <= 0.1 ({folder / 'examples.jsonl'}:10)" in out
    assert "prompt 'What is the capital of Italy?', output 'Rome!!'" in out
    assert len(re.findall(r"(?:good|bad) example \d+", out)) == 1  # only the one it got wrong
    (folder / "check.py").write_text("def check(prompt, output, reference=None):\n    return 1 / 0\n")
    proc = cli("prove", str(folder))
    assert proc.returncode == 1 and "ZeroDivisionError" in proc.stderr and "item 0" in proc.stderr


@pytest.mark.parametrize(
    "breakage,named",
    [
        (lambda d: (d / "task.json").unlink(), "task.json: missing"),
        (lambda d: (d / "task.json").write_text("{oops"), "task.json: not valid JSON"),
        (lambda d: (d / "task.json").write_text('{"statement": "x", "algorithm": "ppo"}'), "field 'algorithm'"),
        (lambda d: (d / "task.json").write_text('{"algorithm": "dpo"}'), "field 'statement': Field required"),
        (lambda d: (d / "task.json").write_text('{"statement": "x", "algorithm": "dpo", "notes": 1}'), "field 'notes'"),
        (
            lambda d: (d / "check.py").write_text("def check(prompt, output):\n    return 1.0\n"),
            "check.py: must define, at its top level, def check(prompt, output, reference=None)",
        ),
        (
            lambda d: (d / "check.py").write_text("def check(prompt, output, reference=None:\n"),
            "check.py: does not compile",
        ),
        (lambda d: (d / "check.py").unlink(), "check.py: missing"),
        (
            lambda d: (d / "examples.jsonl").write_text(
                '{"kind": "good", "prompt": "q", "output": "a!"}\n{"kind": "meh"}\n'
            ),
            "examples.jsonl:2: an example needs kind good|bad",
        ),
        (lambda d: (d / "data/train.jsonl").unlink(), "data/train.jsonl: missing"),
        (
            lambda d: (d / "data/heldout.jsonl").write_text(
                (d / "data/train.jsonl").read_text().splitlines()[0] + "\n" * 1 + (d / "data/heldout.jsonl").read_text()
            ),
            "held-out prompt also in training data",
        ),
        (
            lambda d: (d / "task.json").write_text(
                '{"statement": "x", "algorithm": "dpo", "check_kind": "claude_judge"}'
            ),
            "rubric.md: missing",
        ),
    ],
)
def test_prove_names_the_file_and_field_that_break_the_contract(breakage, named, tmp_path, cli):
    folder = write_folder(tmp_path / "task")
    breakage(folder)
    proc = cli("prove", str(folder))
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "not a task folder under the contract" in err and named in err, err


def test_new_task_dir_copies_the_folder_proves_and_plans_it(tmp_path, cli):
    folder = write_folder(tmp_path / "task")
    (folder / "notes.txt").write_text("not part of the contract")
    run_dir = tmp_path / "run"
    proc = cli("new", "--task-dir", str(folder), "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "check proven: 5 good examples all >= 0.9, 5 bad examples" in proc.stdout
    spec = json.loads((run_dir / "spec.json").read_text())
    assert (spec["planned_by"], spec["check"]["recipe"], spec["data"]["origin"]) == ("task_dir", "task_dir", "file")
    assert spec["task"] == spec["check"]["statement"] == "accepts a one-line answer ending with a single '!'"
    for rel in ("task.json", "check.py", "examples.jsonl", "data/train.jsonl", "data/heldout.jsonl"):
        assert (run_dir / rel).read_bytes() == (folder / rel).read_bytes(), rel
    assert not (run_dir / "notes.txt").exists() and not (run_dir / "run.json").exists()
    assert spec["check"]["path"] == "check.py" and spec["data"]["train_file"] == "data/train.jsonl"


def test_new_task_dir_refuses_a_folder_that_breaks_the_contract_and_writes_nothing(tmp_path, cli):
    folder = write_folder(tmp_path / "task")
    (folder / "examples.jsonl").write_text("{not json\n")
    proc = cli("new", "--task-dir", str(folder), "--offline", "--yes", "--run-dir", str(tmp_path / "run"))
    assert proc.returncode == 2 and "does not follow the contract" in proc.stderr and "examples.jsonl:1" in proc.stderr
    assert not (tmp_path / "run").exists()
    write_folder(folder, bad=["Rome."] * 4 + ["Rome!"])  # a bad example the check passes: not proven
    proc = cli("new", "--task-dir", str(folder), "--offline", "--yes", "--run-dir", str(tmp_path / "run2"))
    assert proc.returncode == 2 and "check NOT proven" in proc.stderr and "bad example 4" in proc.stderr
    assert not (tmp_path / "run2" / "run.json").exists()


@pytest.mark.parametrize("algorithm", ["sft", "kto"])
def test_a_task_folder_may_train_with_sft_or_kto(algorithm, tmp_path, cli):
    folder = write_folder(tmp_path / "task", algorithm=algorithm)
    assert cli("prove", str(folder)).returncode == 0
    run_dir = tmp_path / "run"
    proc = cli(
        "new", "--task-dir", str(folder), "--offline", "--yes", "--plan-only", "--steps", "5", "--run-dir", str(run_dir)
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    spec = json.loads((run_dir / "spec.json").read_text())
    assert (
        spec["algorithm"] == algorithm and spec[algorithm]["max_steps"] == 5 and spec["dpo"]
    )  # its own settings block


def test_recipes_lists_every_recipe_with_its_parameters_and_an_example_that_plans(cli):
    from rl_agent.kit.planning.recipes.library import RECIPES, parameters, plan_recipes

    proc = cli("recipes")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for module in RECIPES:
        assert f"{module.NAME}: {module.DESCRIPTION}" in " ".join(out.split())
        for p in parameters(module):
            assert f"  {p.name} (" in out, (module.NAME, p.name)
    examples = [line.strip().removeprefix("e.g. ") for line in out.splitlines() if line.strip().startswith("e.g. ")]
    assert len(examples) == len(RECIPES)
    assert 'rl-agent new --recipe prefix --set prefix="Answer: "' in examples
    assert "(whole number; required)" in out and "(true/false; default false)" in out
    for command in examples:  # each example is a command line that plans as it is written
        args = shlex.split(command)[2:]
        groups = []
        for flag, value in zip(args[0::2], args[1::2]):
            if flag == "--recipe":
                groups.append((value, []))
            else:
                groups[-1][1].append(value)
        assert plan_recipes(groups).recipe == groups[0][0], command


def test_every_command_in_the_skill_s_mapping_table_plans():
    """The phrasing -> recipe table Claude reads (skills/rl-agent/SKILL.md): every command in it is valid."""
    from rl_agent.kit.planning.recipes.library import plan_recipes
    from tests.support.cli import REPO

    text = (REPO / "skills/rl-agent/SKILL.md").read_text(encoding="utf-8")
    section = text[text.index("## Mapping words to recipes") :]
    commands = [
        line.split("| `", 1)[1].split("`")[0]
        for line in section.splitlines()
        if line.startswith("| ") and "| `--recipe" in line
    ]
    assert len(commands) >= 30
    for command in commands:
        args = shlex.split(command)
        groups = []
        for flag, value in zip(args[0::2], args[1::2]):
            if flag == "--recipe":
                groups.append((value, []))
            else:
                assert flag == "--set", command
                groups[-1][1].append(value)
        assert plan_recipes(groups).recipe == "+".join(n for n, _ in groups), command

"""The task suite: every phrasing plans to the right recipe with the right parameters, its check is proven
on its own good/bad examples, rejects generic bad answers, and agrees with its own training data; every
near-miss, negation, permission and combination is refused with what it understood and what it needs."""

from __future__ import annotations

import json

import pytest

from recipe_suite import PLANNED, REFUSED, generic_bad
from rl_agent.kit.planning.recipes import CheckItem, RecipeRefused, plan_and_prove, plan_recipe, run_check


def test_the_suite_is_big_enough_and_covers_every_recipe():
    from rl_agent.kit.planning.recipes.router import RECIPES

    assert len(PLANNED) >= 25 and len(REFUSED) >= 10
    assert {r for _, r, _ in PLANNED} == {m.NAME for m in RECIPES}


@pytest.mark.parametrize("task,recipe,params", PLANNED, ids=[t[:40] for t, _, _ in PLANNED])
def test_task_plans_and_its_check_is_proven(task, recipe, params, tmp_path):
    plan, proof = plan_and_prove(task, tmp_path)
    assert plan.recipe == recipe
    assert {k: plan.params[k] for k in params} == params
    assert proof.passed, proof.message()
    assert len(plan.good) >= 5 and len(plan.bad) >= 5
    assert plan.statement and plan.understood
    generic = generic_bad(recipe, plan.params)
    ref = plan.heldout[0].get("reference")
    scores = run_check(tmp_path, tmp_path / "check.py", [CheckItem(plan.heldout[0]["prompt"], g, ref) for g in generic])
    assert all(s == 0.0 for s in scores), list(zip(generic, scores))


@pytest.mark.parametrize("recipe", sorted({r for _, r, _ in PLANNED} - {"arithmetic", "list_transform"}))
def test_dpo_data_agrees_with_the_check(recipe, tmp_path):
    """Chosen answers pass the task's check, rejected ones fail it, and the chosen answer is the fact's
    reference answer in the required form (only the form differs)."""
    task = next(t for t, r, _ in PLANNED if r == recipe)
    plan = plan_recipe(task)
    plan.write(tmp_path)
    rows = plan.train + plan.heldout
    items = [CheckItem(r["prompt"], r[k], r["reference"]) for r in rows for k in ("chosen", "rejected")]
    scores = run_check(tmp_path, "check.py", items)
    assert scores[0::2] == [1.0] * len(rows) and scores[1::2] == [0.0] * len(rows)
    assert not {r["prompt"] for r in plan.train} & {r["prompt"] for r in plan.heldout}
    if recipe != "terse":  # terse keeps the bundled hedging answers as rejected
        low = [(r["chosen"].casefold(), r["rejected"].casefold(), r["reference"].casefold().rstrip(".")) for r in rows]
        assert all(ref in c and ref in rj for c, rj, ref in low)


@pytest.mark.parametrize("recipe", ["arithmetic", "list_transform"])
def test_grpo_data_is_seeded_disjoint_and_checkable(recipe, tmp_path):
    task = next(t for t, r, _ in PLANNED if r == recipe)
    plan = plan_recipe(task)
    assert plan.algorithm == "grpo" and plan_recipe(task).train == plan.train  # same seed, same data
    assert len(plan.train) >= 100 and len(plan.heldout) >= 20
    assert not {r["prompt"] for r in plan.train} & {r["prompt"] for r in plan.heldout}
    plan.write(tmp_path)
    marker = plan.params.get("marker", "")
    right = [CheckItem(r["prompt"], f"{marker} {r['reference']}", r["reference"]) for r in plan.heldout]
    wrong = [CheckItem(r["prompt"], f"{marker} {json.loads(r['reference']) + 1 if recipe == 'arithmetic' else '[]'}",
                       r["reference"]) for r in plan.heldout]
    none = [CheckItem(plan.heldout[0]["prompt"], right[0].output, None)]
    scores = run_check(tmp_path, "check.py", right + wrong + none)
    assert scores == [1.0] * len(right) + [0.0] * len(wrong) + [None]


def test_a_never_open_with_task_rejects_those_openers(tmp_path):
    """The planner bug this library replaces: 'never open with X' planned as 'always open with X'."""
    plan = plan_recipe('Never open an answer with "Sure" or "Certainly!"')
    plan.write(tmp_path)
    outs = ["Sure, Paris.", "sure paris", "Certainly! Paris.", "Paris.", "Surely it is Paris.", "Paris, sure."]
    scores = run_check(tmp_path, "check.py", [CheckItem("Capital of France?", o) for o in outs])
    assert scores == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_a_json_task_naming_two_keys_checks_both(tmp_path):
    plan = plan_recipe('Answer as a JSON object with keys "answer" and "confidence".')
    plan.write(tmp_path)
    outs = ['{"answer": "Paris"}', '{"confidence": 0.9}', '{"answer": "Paris", "confidence": 0.9}', "Paris"]
    scores = run_check(tmp_path, "check.py", [CheckItem("Capital of France?", o) for o in outs])
    assert scores == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("task,named", REFUSED, ids=[t[:40] for t, _ in REFUSED])
def test_uncertain_tasks_are_refused_with_what_was_understood(task, named):
    with pytest.raises(RecipeRefused) as e:
        plan_recipe(task)
    message = str(e.value)
    assert e.value.needs == ["claude"] and "ANTHROPIC_API_KEY" in message
    assert "Understood:" in message and "Would need:" in message
    assert named.lower() in message.lower()


def test_numbers_in_words_and_strict_limits_are_read_right():
    cases = {"Answer in at most seven words.": 7, "Use no more than twenty-one words.": 21,
             "Answers must be fewer than 12 words.": 11, "Reply in a single sentence.": 1,
             "Keep each answer to a maximum of three sentences.": 3}
    for task, n in cases.items():
        assert plan_recipe(task).params["max"] == n, task


@pytest.mark.parametrize("recipe", sorted({r for _, r, _ in PLANNED}))
def test_written_data_loads_with_the_pipeline_loaders(recipe, tmp_path):
    """The files a plan writes are what the DPO and GRPO pipelines already read (integration without glue)."""
    from rl_agent.kit.dataio import pairs as data
    from rl_agent.kit.dataio import prompts as grpo_data

    plan = plan_recipe(next(t for t, r, _ in PLANNED if r == recipe))
    files = plan.write(tmp_path)
    assert set(files) == {"check.py", "data/train.jsonl", "data/heldout.jsonl", "data/examples.jsonl"}
    assert all(tmp_path.resolve() in p.parents for p in files.values())
    if plan.algorithm == "dpo":
        train, held = data.load_pairs(files["data/train.jsonl"]), data.load_pairs(files["data/heldout.jsonl"])
        data.check_no_overlap(train, held, files["data/heldout.jsonl"])
    else:
        train = grpo_data.load_prompts(files["data/train.jsonl"])
        held = grpo_data.load_prompts(files["data/heldout.jsonl"])
        data.check_no_overlap(train, held, files["data/heldout.jsonl"])
        assert all(r.reference for r in train + held)
    kinds = [json.loads(x)["kind"] for x in files["data/examples.jsonl"].read_text().splitlines()]
    assert kinds.count("good") >= 5 and kinds.count("bad") >= 5


def test_refusals_quote_the_task_not_internal_markers():
    with pytest.raises(RecipeRefused) as e:
        plan_recipe("Answers may start with 'Sure'.")
    assert "«" not in str(e.value) and '"Sure"' in str(e.value)

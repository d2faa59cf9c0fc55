"""The recipe suite: every recipe with its parameters plans to a check proven on its own good/bad examples,
which rejects generic bad answers and agrees with its own training data; each check says no to answers that
break the task and yes to answers the task allows; recipes combine into one task whose check is all of them;
a parameter mistake is refused naming the parameter and the recipe."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import signal

import pytest

from rl_agent.kit.planning.recipes import CheckItem, RecipeError, arithmetic, prove_check, run_check
from rl_agent.kit.planning.recipes.library import RECIPES, plan_recipes
from tests.support.recipe_suite import COMBINED, COMBINED_REFUSED, FULL_RUN, PARAM_ERRORS, PLANNED, generic_bad


def plan_and_prove(groups, run_dir):
    plan = plan_recipes(groups)
    files = plan.write(run_dir)
    return plan, prove_check(run_dir, files["check.py"], plan.good, plan.bad)


def test_the_suite_covers_every_recipe():
    assert len(RECIPES) == 10 and len(PLANNED) >= 30
    assert {r for r, _, _ in PLANNED} == {m.NAME for m in RECIPES} == set(FULL_RUN)


@pytest.mark.parametrize("recipe,sets,params", PLANNED, ids=[f"{r}:{' '.join(s)[:30]}" for r, s, _ in PLANNED])
def test_recipe_plans_and_its_check_is_proven(recipe, sets, params, tmp_path):
    plan, proof = plan_and_prove([(recipe, sets)], tmp_path)
    assert plan.recipe == recipe
    assert {k: plan.params[k] for k in params} == params
    assert proof.passed, proof.message()
    assert len(plan.good) >= 5 and len(plan.bad) >= 5
    assert plan.statement and plan.understood
    generic = generic_bad(recipe, plan.params)
    ref = plan.heldout[0].get("reference")
    scores = run_check(tmp_path, tmp_path / "check.py", [CheckItem(plan.heldout[0]["prompt"], g, ref) for g in generic])
    assert all(s == 0.0 for s in scores), list(zip(generic, scores))


@pytest.mark.parametrize("recipe", sorted({r for r, _, _ in PLANNED} - {"arithmetic", "list_transform"}))
def test_dpo_data_agrees_with_the_check(recipe, tmp_path):
    """Chosen answers pass the task's check, rejected ones fail it, and the chosen answer is the fact's
    reference answer in the required form (only the form differs)."""
    sets = next(s for r, s, _ in PLANNED if r == recipe)
    plan = plan_recipes([(recipe, sets)])
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
    sets = FULL_RUN[recipe]
    plan = plan_recipes([(recipe, sets)])
    assert plan.algorithm == "grpo" and plan_recipes([(recipe, sets)]).train == plan.train  # same seed, same data
    assert len(plan.train) >= 100 and len(plan.heldout) >= 20
    assert not {r["prompt"] for r in plan.train} & {r["prompt"] for r in plan.heldout}
    plan.write(tmp_path)
    marker = plan.params.get("marker", "")
    right = [CheckItem(r["prompt"], f"{marker} {r['reference']}", r["reference"]) for r in plan.heldout]
    wrong = [
        CheckItem(
            r["prompt"],
            f"{marker} {json.loads(r['reference']) + 1 if recipe == 'arithmetic' else '[]'}",
            r["reference"],
        )
        for r in plan.heldout
    ]
    none = [CheckItem(plan.heldout[0]["prompt"], right[0].output, None)]
    scores = run_check(tmp_path, "check.py", right + wrong + none)
    assert scores == [1.0] * len(right) + [0.0] * len(wrong) + [None]


@pytest.mark.parametrize("recipe", sorted({r for r, _, _ in PLANNED}))
def test_the_written_task_folder_loads_with_the_pipeline_loaders(recipe, tmp_path):
    """The files a plan writes are a task folder under the contract, and what the DPO and GRPO pipelines read."""
    from rl_agent.kit.dataio import pairs as data
    from rl_agent.kit.dataio import prompts as grpo_data
    from rl_agent.kit.planning.authored import check_folder

    plan = plan_recipes([(recipe, next(s for r, s, _ in PLANNED if r == recipe))])
    files = plan.write(tmp_path)
    assert set(files) == {"task.json", "check.py", "data/train.jsonl", "data/heldout.jsonl", "examples.jsonl"}
    assert all(tmp_path.resolve() in p.parents for p in files.values())
    meta = check_folder(tmp_path)
    assert (meta.recipe, meta.algorithm, meta.check_kind, meta.statement) == (
        recipe,
        plan.algorithm,
        "program",
        plan.statement,
    )
    if plan.algorithm == "dpo":
        train, held = data.load_pairs(files["data/train.jsonl"]), data.load_pairs(files["data/heldout.jsonl"])
        data.check_no_overlap(train, held, files["data/heldout.jsonl"])
    else:
        train = grpo_data.load_prompts(files["data/train.jsonl"])
        held = grpo_data.load_prompts(files["data/heldout.jsonl"])
        data.check_no_overlap(train, held, files["data/heldout.jsonl"])
        assert all(r.reference for r in train + held)
    kinds = [json.loads(x)["kind"] for x in files["examples.jsonl"].read_text().splitlines()]
    assert kinds.count("good") >= 5 and kinds.count("bad") >= 5


# (recipe, --set values, answers the check must reject, answers the task allows and the check must accept)
SAYS_NO = [
    (
        "banned",
        ["openers=Sure", "openers=Certainly!"],
        ["Sure, Paris.", "sure paris", "Certainly! Paris."],
        ["Paris.", "Surely it is Paris.", "Paris, sure."],
    ),
    (
        "json_keys",
        ["keys=answer", "keys=confidence"],
        ['{"answer": "Paris"}', '{"confidence": 0.9}', "Paris"],
        ['{"answer": "Paris", "confidence": 0.9}'],
    ),
    (
        "plain_text",
        ["ban=elements", "elements=bold"],
        ["**Paris.**", "It is __Paris__."],
        ["Paris.", "- Paris\n- Lyon", "# Answer\n\nParis.", "`Paris`"],
    ),
    ("plain_text", ["ban=elements", "elements=table"], ["| city |\n|---|\n| Paris |"], ["**Paris.**", "- Paris"]),
    (
        "json_keys",
        ["keys=answer", "keys=source", "exact=true"],
        ['{"answer": "Paris", "source": "atlas", "mood": "happy"}', '{"answer": "Paris"}', "Paris."],
        ['{"answer": "Paris", "source": "atlas"}', '{"source": "atlas", "answer": "Paris"}'],
    ),
    (
        "json_keys",
        ["keys=answer", "keys=source"],
        ['{"answer": "Paris"}'],
        ['{"answer": "Paris", "source": "atlas", "mood": "happy"}'],
    ),
    (
        "closing",
        ["closing=Have a nice day."],
        ["Paris.", "Have a nice day. Paris."],
        ["Paris. Have a nice day.", "Paris.\nHave a nice day."],
    ),
    (
        "terse",
        ["bans=hedges"],
        ["I think it is Paris.", "Probably Paris."],
        ["Paris.", "Paris is the capital of France, on the Seine, and has been for a very long time indeed."],
    ),
    (
        "terse",
        ["bans=fillers"],
        ["Great question! Paris."],
        ["Paris.", "Paris, as far as I know it is the capital of France."],
    ),
    (
        "terse",
        ["bans=hedges", "bans=length"],
        ["Paris, which is the capital of France and its largest city, on the river Seine."],
        ["Paris."],
    ),
    ("prefix", ["prefix=Yes"], ["Yesterday it was Paris.", "Paris."], ["Yes, Paris.", "Yes Paris."]),
    ("closing", ["closing=done"], ["Paris is undone", "Paris."], ["Paris, done", "Paris. done"]),
    ("plain_text", ["ban=elements", "elements=numbered"], ["1. Paris\n2. Lyon"], ["- Paris\n- Lyon", "**Paris**"]),
    ("plain_text", ["ban=elements", "elements=code_block"], ["```\nParis\n```"], ["`Paris`", "- Paris"]),
    (
        "json_keys",
        ["keys=answer", "keys=confidence", 'types={"confidence": "number"}'],
        ['{"answer": "Paris", "confidence": "very"}'],
        ['{"answer": "Paris", "confidence": 0.9}', '{"answer": "Paris", "confidence": 1}'],
    ),
    (
        "plain_text",
        ["ban=elements", "elements=bullets", "elements=heading"],
        ["- Paris", "1. Paris", "# Paris"],
        ["**Paris**", "Paris."],
    ),
    ("closing", ["closing=?"], ["Paris.", "?"], ["Paris?", "Is it Paris?"]),
    ("prefix", ["prefix=>> "], [">>Paris.", "Paris."], [">> Paris."]),
    ("letter_case", ["case=lower"], ["Paris.", "PARIS", "42."], ["paris.", "paris, 100%."]),
    ("length", ["max=3"], ["It is Paris, France.", ""], ["Paris.", "It is Paris."]),
]


@pytest.mark.parametrize("recipe,sets,bad,allowed", SAYS_NO, ids=[f"{r}:{' '.join(s)[:30]}" for r, s, _, _ in SAYS_NO])
def test_the_check_rejects_what_breaks_the_task_and_nothing_more(recipe, sets, bad, allowed, tmp_path):
    plan, proof = plan_and_prove([(recipe, sets)], tmp_path)
    assert proof.passed, proof.message()
    q = "What is the capital of France?"
    scores = run_check(tmp_path, "check.py", [CheckItem(q, a, "Paris.") for a in bad + allowed])
    assert scores == [0.0] * len(bad) + [1.0] * len(allowed), list(zip(bad + allowed, scores))


@pytest.mark.parametrize(
    "groups,words", PARAM_ERRORS, ids=[f"{g[0][0]}:{' '.join(g[0][1])[:30]}" for g, _ in PARAM_ERRORS]
)
def test_a_parameter_mistake_is_refused_naming_the_parameter_and_recipe(groups, words):
    with pytest.raises(RecipeError) as e:
        plan_recipes(groups)
    assert all(w in str(e.value) for w in words), str(e.value)


# ---- combined recipes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("groups,accept,reject", COMBINED, ids=["+".join(n for n, _ in g) for g, _, _ in COMBINED])
def test_combined_recipes_are_one_check_proven_on_each_part_and_together(groups, accept, reject, tmp_path):
    plan, proof = plan_and_prove(groups, tmp_path)
    names = [n for n, _ in groups]
    assert plan.recipe == "+".join(names) and plan.algorithm == "dpo"
    assert [p["recipe"] for p in plan.params["parts"]] == names
    assert proof.passed, proof.message()
    assert all(f"[{n}]" in plan.statement for n in names)
    # combined bad examples: every part's own bad examples are in, and each part is broken on its own
    parts = [plan_recipes([g]) for g in groups]
    outputs = {b.output for b in plan.bad}
    assert all(b.output in outputs for p in parts for b in p.bad)
    assert len(plan.good) >= 5 and len(plan.bad) >= sum(len(p.bad) for p in parts) + len(parts)
    # the data agrees with the combined check
    rows = plan.train + plan.heldout
    scores = run_check(
        tmp_path,
        "check.py",
        [CheckItem(r["prompt"], r[k], r["reference"]) for r in rows for k in ("chosen", "rejected")],
    )
    assert scores[0::2] == [1.0] * len(rows) and scores[1::2] == [0.0] * len(rows)
    assert len(plan.train) >= 100 and not {r["prompt"] for r in plan.train} & {r["prompt"] for r in plan.heldout}
    # an answer passes only if every part passes
    q = "What is the capital of France?"
    scores = run_check(tmp_path, "check.py", [CheckItem(q, a, "Paris.") for a in accept + reject])
    assert scores == [1.0] * len(accept) + [0.0] * len(reject), list(zip(accept + reject, scores))


def test_a_combined_check_is_the_lowest_part_score_and_none_when_a_part_cannot_grade(tmp_path):
    from rl_agent.kit.planning.recipes import length, plain_text
    from rl_agent.kit.planning.recipes.compose import render_composed

    source = render_composed([(length, length.LengthParams(max=3)), (plain_text, plain_text.PlainTextParams())])
    never = "def _part_9_never(PARAMS):\n    def check(prompt, output, reference=None):\n        return None\n\n    return check\n"
    source = source.replace("\nCHECKS = [", "\n" + never + "\nCHECKS = [_part_9_never(None), ", 1)
    (tmp_path / "check.py").write_text(source, encoding="utf-8")
    assert run_check(tmp_path, "check.py", [CheckItem("q", "Paris.")]) == [None]
    (tmp_path / "check.py").write_text(
        render_composed([(length, length.LengthParams(max=3)), (plain_text, plain_text.PlainTextParams())]),
        encoding="utf-8",
    )
    assert run_check(tmp_path, "check.py", [CheckItem("q", o) for o in ("Paris.", "**Paris.**", "a b c d")]) == [
        1.0,
        0.0,
        0.0,
    ]


@pytest.mark.parametrize("groups,words", COMBINED_REFUSED, ids=["+".join(n for n, _ in g) for g, _ in COMBINED_REFUSED])
def test_parts_that_cannot_all_hold_are_refused_naming_the_part(groups, words):
    with pytest.raises(RecipeError) as e:
        plan_recipes(groups)
    assert all(w in str(e.value) for w in words), str(e.value)


# ---- arithmetic and lists: the generators --------------------------------------------------------------------


@contextlib.contextmanager
def within(seconds: int):
    """Fail (not hang) when the body runs longer than `seconds`: a probe once found a generator that never returned."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(
    "ops,low,high,terms",
    [
        (["+"], 1, 9, 2),
        (["*"], 1, 9, 2),
        (["-"], 1, 9, 2),
        (["/"], 1, 3, 2),
        (["+", "-"], 1, 9, 2),
        (["-"], 1, 21, 2),
        (["+"], 1, 2, 3),
    ],
)
def test_generate_returns_or_refuses_quickly_whatever_the_space(ops, low, high, terms):
    """Every problem space, even one smaller than the rows wanted, ends in data or a refusal, never a loop."""
    params = {
        "marker": "####",
        "ops": ops,
        "low": low,
        "high": high,
        "terms": terms,
        "seed": 0,
        "train": 200,
        "heldout": 40,
    }
    space = arithmetic.problem_count(params)
    with within(20):
        if space < 240:
            with pytest.raises(RecipeError, match="distinct problems"):
                arithmetic.generate(params)
            return
        train, held = arithmetic.generate(params)
    prompts = [r["prompt"] for r in train + held]
    assert len(train) == 200 and len(held) == 40 and len(set(prompts)) == 240


def test_a_small_problem_space_is_split_honestly(tmp_path):
    """All 81 single-digit sums are used once: training and held-out are disjoint, and the plan says so."""
    with within(30):
        plan, proof = plan_and_prove([("arithmetic", ["marker=####", "ops=+", "low=1", "high=9"])], tmp_path)
    assert proof.passed and (plan.params["train"], plan.params["heldout"]) == (65, 16)
    train, held = [r["prompt"] for r in plan.train], [r["prompt"] for r in plan.heldout]
    assert len(set(train)) + len(set(held)) == 81 == arithmetic.problem_count(plan.params)
    assert not set(train) & set(held)
    assert any("only 81 distinct problems" in n for n in plan.notes)
    sums = {tuple(int(x) for x in re.findall(r"\d+", r["prompt"])) for r in plan.train + plan.heldout}
    assert len(sums) == 81 and all(1 <= a <= 9 and 1 <= b <= 9 for a, b in sums)


def test_a_marker_that_reads_like_an_answer_still_rejects_the_unmarked_number(tmp_path):
    """'The answer is': the proof's unmarked bad answer must not hold the marker, or it proves nothing."""
    plan, proof = plan_and_prove([("arithmetic", ["marker=The answer is", "ops=+"])], tmp_path)
    assert proof.passed and all("The answer is" not in b.output for b in plan.bad[:1] + plan.bad[4:5])
    row = plan.heldout[0]
    outs = [
        f"The answer is {row['reference']}",
        f"Result = {row['reference']}",
        f"The answer is {int(row['reference']) + 1}",
    ]
    assert run_check(tmp_path, "check.py", [CheckItem(row["prompt"], o, row["reference"]) for o in outs]) == [
        1.0,
        0.0,
        0.0,
    ]


def test_all_four_operations_put_division_in_the_data():
    plan = plan_recipes([("arithmetic", ["marker=####", "ops=+", "ops=-", "ops=*", "ops=/"])])
    signs = {s for r in plan.train for s in ("+", "-", "\u00d7", "\u00f7") if f" {s} " in r["prompt"]}
    assert signs == {"+", "-", "\u00d7", "\u00f7"}


def test_the_list_order_is_the_result_s():
    for sets, want in [
        (["op=sort", "order=descending"], lambda xs: sorted(xs, reverse=True)),
        (["op=reverse"], lambda xs: xs[::-1]),
    ]:
        plan = plan_recipes([("list_transform", sets)])
        for r in plan.heldout:
            given = json.loads(r["prompt"][r["prompt"].index("[") : r["prompt"].index("]") + 1])
            assert json.loads(r["reference"]) == want(given), sets


@pytest.mark.parametrize(
    "recipe,digest",
    [
        ("arithmetic", "a958e7c40ecac132bd754521c5e3b5632dae66b9e68c8e7ca4ce15649b443cbd"),
        ("list_transform", "ad34272a27037c79c1bb6deb3f1a3f2988e23e6de815aec377fa90d154b9a333"),
    ],
)
def test_the_full_run_tasks_plan_the_data_they_always_did(recipe, digest):
    """Their recorded full-run figures were measured on exactly this data (seeded, so a change shows here)."""
    plan = plan_recipes([(recipe, FULL_RUN[recipe])])
    rows = json.dumps([plan.train, plan.heldout], sort_keys=True).encode()
    assert hashlib.sha256(rows).hexdigest() == digest
    assert plan.params == (
        {"marker": "####", "ops": ["+"], "low": 1, "high": 9, "terms": 3, "seed": 0, "train": 200, "heldout": 40}
        if recipe == "arithmetic"
        else {"op": "sort", "order": "ascending", "seed": 0, "train": 200, "heldout": 40}
    )

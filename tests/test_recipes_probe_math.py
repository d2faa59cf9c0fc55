"""The arithmetic and list recipes against the planner probe's findings (and new variants of each class):
a task is planned only with the parameters it asks for, or refused naming what was not read; planning never
hangs, however few distinct problems the operands allow; the full-run task plans exactly the data it did."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import signal

import pytest

from recipe_suite import FULL_RUN, planned_as_expected
from rl_agent.kit.planning.recipes import CheckItem, RecipeRefused, plan_and_prove, plan_recipe, run_check
from rl_agent.kit.planning.recipes import arithmetic


@contextlib.contextmanager
def within(seconds: int):
    """Fail (not hang) when the body runs longer than `seconds`: the probe found a generator that never returned."""
    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


DEFAULT_OPS = ["+", "-", "*"]
# (task, expected): a dict of parameters the plan must have, or a word the refusal must name.
ARITHMETIC_REPORT = [
    # 0: too few distinct problems for the default sizes (these used to loop forever)
    ("Addition of single-digit numbers; final answer after '####'.",
     {"ops": ["+"], "low": 1, "high": 9, "terms": 2, "train": 65, "heldout": 16}),
    ("Multiplication of one-digit numbers; end with 'Answer: N'.",
     {"marker": "Answer:", "ops": ["*"], "low": 1, "high": 9, "train": 65, "heldout": 16}),
    ("Addition of single-digit and two-digit numbers; final answer after '####'.", "one operand size"),
    # B: an operation read from an ordinary word, a dropped operation, operand specs
    ("Solve math problems. Give the final answer after '####' at all times.", {"marker": "####", "ops": DEFAULT_OPS}),
    ("Solve arithmetic problems and add 'Answer: N' at the end.", {"marker": "Answer:", "ops": DEFAULT_OPS}),
    ("Do arithmetic and add 'Result: N' at the end.", {"marker": "Result:", "ops": DEFAULT_OPS}),
    ("Solve math problems. Additionally, give the final answer after '####'.", {"ops": DEFAULT_OPS}),
    ("Solve arithmetic problems using all four operations; give the final answer after '####'.",
     {"ops": ["+", "-", "*", "/"]}),
    ("Multiplication of two-digit numbers by single-digit numbers; final answer after '####'.", "one operand size"),
    ("Addition of two or three numbers; final answer after '####'.", "two or three"),
    # I: a stated part the check would not enforce
    ("Solve arithmetic word problems; end with 'Answer: N'.", "word"),
    ("State the result first as 'Answer: N', then show your work on math problems.", "first"),
    ("Solve math problems and put the final answer after 'Answer:' on the first line.", "first line"),
    ("Solve subtraction problems; the final line must be 'Answer: N'.", "final line"),
    # a marker whose placeholder example used to make the proof fail
    ("Solve addition problems and end with 'The answer is X'.", {"marker": "The answer is", "ops": ["+"]}),
    # 2: in-library phrasings once refused
    ("Solve math problems. Mark the final answer with '####' at all times.", {"marker": "####", "ops": DEFAULT_OPS}),
    ("Solve math problems and write 'Answer:' before the final number.", {"marker": "Answer:", "ops": DEFAULT_OPS}),
    ("Multiply two-digit numbers by single-digit numbers; final answer after '####'.", "one operand size"),
    ("Add single-digit and two-digit numbers; final answer after '####'.", "one operand size"),
    ("Add two or three numbers; final answer after '####'.", "two or three"),
    ("Compute differences of two numbers; final answer after '####'.", {"ops": ["-"], "terms": 2}),
    ("Calculate products of three-digit numbers, giving the answer after '####'.",
     {"ops": ["*"], "low": 100, "high": 999}),
]
ARITHMETIC_VARIANTS = [
    ("Subtraction of one-digit numbers; final answer after '####'.", "45"),  # too few problems even to split
    ("Division of single-digit numbers; end with 'Answer: N'.", {"ops": ["/"], "low": 1, "high": 9, "train": 65}),
    ("Addition and subtraction of single-digit numbers; final answer after '####'.",
     {"ops": ["+", "-"], "low": 1, "high": 9, "train": 101, "heldout": 25}),
    ("Add two single-digit numbers; end with 'Answer: N'.", {"ops": ["+"], "terms": 2, "low": 1, "high": 9}),
    ("Multiply two-digit numbers; final answer after '####'.", {"ops": ["*"], "low": 10, "high": 99}),
    ("Solve math problems at all times; end with 'Answer: N'.", {"ops": DEFAULT_OPS}),
    ("Do maths. Additionally, end with 'Result: N'.", {"marker": "Result:", "ops": DEFAULT_OPS}),
    ("Solve math problems, and add 'Final: N' to the end of every answer.", {"marker": "Final:", "ops": DEFAULT_OPS}),
    ("Solve arithmetic problems; add the label 'Answer:' before the final number.", "add"),
    ("Solve problems using the four operations; final answer after '####'.", {"ops": ["+", "-", "*", "/"]}),
    ("Solve arithmetic problems with all operations; final answer after '####'.", "operations"),
    ("Multiply three-digit numbers by two-digit numbers; final answer after '####'.", "one operand size"),
    ("Addition of three or four numbers; end with 'Answer: N'.", "three or four"),
    ("Addition of 2 to 4 numbers; final answer after '####'.", "2 to 4"),
    ("Addition of numbers from 1 to 1000; final answer after '####'.", "numbers in"),
    ("Solve arithmetic problems; put 'Answer: N' on the last line.", "last line"),
    ("Solve arithmetic problems; begin your reply with 'Answer: N'.", "begin"),
    ("Solve arithmetic story problems; end with 'Answer: N'.", "story"),
    ("Solve math problems and end with 'The result is N'.", {"marker": "The result is"}),
    ("Answer questions about computers; end with 'Answer: N'.", "computers"),
    ("Solve math problems; end with 'Answer 1: N'.", "digits"),
    ("Solve arithmetic problems: show your work, then give the final answer after '####'.", {"marker": "####"}),
    ("Solve arithmetic problems: give the final answer after '####', then show your work.", "then"),
]
LIST_REPORT = [
    ("Sort a list of numbers given in descending order into ascending order.", "input's order"),
    ("Sort a list of numbers given in ascending order into descending order.", "input's order"),
    ("Sort a list of numbers given in reverse order.", "input's order"),
    ("Give the total number of items in a list of numbers.", "number of"),
    ("Sort a list of integers by their number of digits.", "digits"),
    ("Reverse the digits of each number in a list.", "digits"),
    ("Reverse each number in a list of numbers.", "each number"),
    ("Sum the digits of each number in a list.", "digits"),
    ("Remove duplicate digits from each number in a list.", "digits"),
    ("List the numbers from 1 to 10 in reverse order.", "a given list"),
    ("Sort a list of numbers and return only the smallest value.", "smallest"),
    ("Sort a list of numbers and return the first value.", "first"),
    ("Reverse the order of a list of numbers.", {"op": "reverse"}),
    ("Sort a list of numbers from smallest to largest.", {"op": "sort", "order": "ascending"}),
    ("Arrange a list of numbers in increasing order.", {"op": "sort", "order": "ascending"}),
]
LIST_VARIANTS = [
    ("Sort a list of numbers that is given in decreasing order into increasing order.", "input's order"),
    ("Sort a list of integers already in reverse order.", "input's order"),
    ("Reverse a list of numbers provided in ascending order.", "input's order"),
    ("Sort a list of numbers in ascending order, not descending.", "one order"),
    ("Double each number in a list of numbers.", "each number"),
    ("Square every number in a list of integers.", "every number"),
    ("Sort a list of numbers by the sum of their digits.", "digits"),
    ("Sort a list of numbers and give only the largest.", "largest"),
    ("Remove duplicates from a list of numbers and return the last one.", "last"),
    ("Sum a list of numbers and report how many there are.", "how many"),
    ("Count the numbers in a list.", "count"),
    ("List the integers from 1 to 20 in descending order.", "a given list"),
    ("Sort a list of 10 numbers.", "a given list"),
    ("Arrange a list of numbers.", "which transform"),
    ("Return an array of integers in reverse order.", {"op": "reverse"}),
    ("Sort a list of numbers from largest to smallest.", {"op": "sort", "order": "descending"}),
    ("Put a list of integers in decreasing order.", {"op": "sort", "order": "descending"}),
    ("Rearrange an array of numbers from lowest to highest.", {"op": "sort", "order": "ascending"}),
    ("Sort a list of numbers in reverse numerical order.", {"op": "sort", "order": "descending"}),
    ("Give the sum of a list of numbers.", {"op": "sum"}),
]
CASES = [("arithmetic", t, e) for t, e in ARITHMETIC_REPORT + ARITHMETIC_VARIANTS] + \
        [("list_transform", t, e) for t, e in LIST_REPORT + LIST_VARIANTS]


@pytest.mark.parametrize("recipe,task,expected", CASES, ids=[t[:50] for _, t, _ in CASES])
def test_each_task_is_planned_right_or_refused(recipe, task, expected, tmp_path):
    with within(30):
        plan = planned_as_expected(task, expected, tmp_path)
    assert plan is None or plan.recipe == recipe


def test_variants_are_at_least_as_many_as_the_report_strings():
    assert len(ARITHMETIC_VARIANTS) >= len(ARITHMETIC_REPORT) - 1 and len(LIST_VARIANTS) >= len(LIST_REPORT)


@pytest.mark.parametrize("ops,low,high,terms", [(["+"], 1, 9, 2), (["*"], 1, 9, 2), (["-"], 1, 9, 2),
                                                (["/"], 1, 3, 2), (["+", "-"], 1, 9, 2), (["-"], 1, 21, 2),
                                                (["+"], 1, 2, 3)])
def test_generate_returns_or_refuses_quickly_whatever_the_space(ops, low, high, terms):
    """Every problem space, even one smaller than the rows wanted, ends in data or a refusal, never a loop."""
    params = {"marker": "####", "ops": ops, "low": low, "high": high, "terms": terms, "seed": 0, "train": 200,
              "heldout": 40}
    space = arithmetic.problem_count(params)
    with within(20):
        if space < 240:
            with pytest.raises(RecipeRefused, match="distinct problems"):
                arithmetic.generate(params)
            return
        train, held = arithmetic.generate(params)
    prompts = [r["prompt"] for r in train + held]
    assert len(train) == 200 and len(held) == 40 and len(set(prompts)) == 240


def test_a_small_problem_space_is_split_honestly(tmp_path):
    """All 81 single-digit sums are used once: training and held-out are disjoint, and the plan says so."""
    with within(30):
        plan, proof = plan_and_prove("Addition of single-digit numbers; final answer after '####'.", tmp_path)
    assert proof.passed
    train, held = [r["prompt"] for r in plan.train], [r["prompt"] for r in plan.heldout]
    assert len(set(train)) + len(set(held)) == 81 == arithmetic.problem_count(plan.params)
    assert not set(train) & set(held)
    assert any("only 81 distinct problems" in n for n in plan.notes)
    sums = {tuple(int(x) for x in re.findall(r"\d+", r["prompt"])) for r in plan.train + plan.heldout}
    assert len(sums) == 81 and all(1 <= a <= 9 and 1 <= b <= 9 for a, b in sums)


def test_a_marker_that_reads_like_an_answer_still_rejects_the_unmarked_number(tmp_path):
    """'The answer is X': the proof's unmarked bad answer must not hold the marker, or it proves nothing."""
    plan, proof = plan_and_prove("Solve addition problems and end with 'The answer is X'.", tmp_path)
    assert proof.passed and all("The answer is" not in b.output for b in plan.bad[:1] + plan.bad[4:5])
    row = plan.heldout[0]
    outs = [f"The answer is {row['reference']}", f"Result = {row['reference']}", f"The answer is {int(row['reference']) + 1}"]
    assert run_check(tmp_path, "check.py", [CheckItem(row["prompt"], o, row["reference"]) for o in outs]) == [1.0, 0.0, 0.0]


def test_all_four_operations_puts_division_in_the_data():
    plan = plan_recipe("Solve arithmetic problems using all four operations; give the final answer after '####'.")
    signs = {s for r in plan.train for s in ("+", "-", "\u00d7", "\u00f7") if f" {s} " in r["prompt"]}
    assert signs == {"+", "-", "\u00d7", "\u00f7"}


def test_the_list_order_is_the_result_s_not_the_input_s(tmp_path):
    """A sort read as descending must give descending references; 'in reverse order' alone reverses."""
    for task, want in [("Sort a list of numbers from largest to smallest.", lambda xs: sorted(xs, reverse=True)),
                       ("Return an array of integers in reverse order.", lambda xs: xs[::-1])]:
        plan = plan_recipe(task)
        for r in plan.heldout:
            given = json.loads(r["prompt"][r["prompt"].index("["):r["prompt"].index("]") + 1])
            assert json.loads(r["reference"]) == want(given), task


@pytest.mark.parametrize("recipe,digest", [
    ("arithmetic", "a958e7c40ecac132bd754521c5e3b5632dae66b9e68c8e7ca4ce15649b443cbd"),
    ("list_transform", "ad34272a27037c79c1bb6deb3f1a3f2988e23e6de815aec377fa90d154b9a333"),
])
def test_the_full_run_tasks_plan_the_data_they_always_did(recipe, digest):
    """Their recorded full-run figures were measured on exactly this data (seeded, so a change shows here)."""
    plan = plan_recipe(FULL_RUN[recipe])
    rows = json.dumps([plan.train, plan.heldout], sort_keys=True).encode()
    assert hashlib.sha256(rows).hexdigest() == digest
    assert plan.params == ({"marker": "####", "ops": ["+"], "low": 1, "high": 9, "terms": 3, "seed": 0, "train": 200,
                            "heldout": 40} if recipe == "arithmetic" else
                           {"op": "sort", "order": "ascending", "seed": 0, "train": 200, "heldout": 40})

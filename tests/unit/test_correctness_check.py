"""The correctness check every verdict rests on must say "no" to wrong answers, including answers that
name the reference only to take it back (negated, or one of alternatives), and numeric answers whose final
number is another one; and it must still say "yes" to the same right answer written differently."""

from __future__ import annotations

import pytest

from rl_agent.runtime.correctness import contains_reference, correctness_score

SUM = "What is 3 + 4 + 2?"
ZEROS = "What is 9 + 0 + 0?"
LEGS = "How many legs does an insect have?"

WRONG = [
    ("February.", "Berlin.", None),
    ("Romania.", "Rome.", None),  # whole words only
    ("Berlin or Munich.", "Berlin.", None),
    ("Munich or Berlin.", "Berlin.", None),
    ("Either Berlin or Bonn.", "Berlin.", None),
    ("Berlin, or maybe Munich.", "Berlin.", None),
    ("Berlin/Munich", "Berlin.", None),
    ("Not Berlin.", "Berlin.", None),
    ("It isn't Berlin.", "Berlin.", None),
    ("Berlin is not the capital.", "Berlin.", None),
    ("Six or eight.", "Six.", LEGS),
    ("7 or 9", "9", SUM),
    ("It is 9. Or maybe 8.", "9", SUM),
    ("9 + 0 + 0 = 10", "9", ZEROS),  # restates the question's 9, answers 10
    ("It is 19.", "9", SUM),
    ("5 × 8.", "40.", "What is 5 times 8?"),
    ("#### 8", "9", SUM),
    ("The sum is 9 #### 8", "9", SUM),  # the marked final answer decides
    ("", "Berlin.", None),
]

RIGHT = [
    ("Berlin.", "Berlin.", None),
    ("berlin", "Berlin.", None),
    ("I think it is probably Berlin. Please double-check this, though.", "Berlin.", None),
    ("No, Berlin.", "Berlin.", None),
    ("Not Munich, Berlin.", "Berlin.", None),
    ("Berlin, not Munich.", "Berlin.", None),
    ('{"answer": "Berlin."}', "Berlin.", None),
    ("The Sahara.", "The Sahara.", None),
    ("Sahara", "The Sahara.", None),
    ("Six.", "Six.", LEGS),
    ("6 legs", "Six.", LEGS),
    ("Eight legs, no, six.", "Six.", LEGS),
    ("3 + 4 = 7. 7 + 2 = 9.", "9", SUM),
    ("It is 9, not 7.", "9", SUM),
    ("9.", "9", ZEROS),  # the answer is one of the question's own numbers
    ("In 1969, Apollo 11 landed.", "1969", "When did Apollo 11 land on the Moon?"),
    ("7 times 8 is 56.", "56.", "What is 7 times 8?"),
    ("Twenty-four.", "24", "What is 4 times 6?"),
    ("3 + 4 = 7, 7 + 2 = 9 #### 9", "9", SUM),
]


@pytest.mark.parametrize("answer, reference, prompt", WRONG)
def test_wrong_answers_are_not_correct(answer, reference, prompt):
    assert contains_reference(answer, reference, prompt) is False
    assert correctness_score(prompt or "", answer, reference)[0] == 0.0


@pytest.mark.parametrize("answer, reference, prompt", RIGHT)
def test_the_right_answer_written_differently_is_correct(answer, reference, prompt):
    assert contains_reference(answer, reference, prompt) is True
    assert correctness_score(prompt or "", answer, reference)[0] == 1.0


def test_without_a_reference_nothing_is_graded():
    assert correctness_score("q", "Berlin.", None)[0] is None
    assert correctness_score("q", "Berlin.", "  ")[0] is None
    assert contains_reference("Berlin.", "...") is False

"""The GRPO reward path without training: failures become None (never a made-up score) and are counted,
the bundled verifier accepts the task's own answers and rejects hedged ones, and the inlined scorer gives
the same scores as the kit's judge path."""

from __future__ import annotations

import json

import pytest

from rl_agent.kit.dataio.prompts import bundled_prompts_path
from rl_agent.kit.judges.factory import make_judge
from rl_agent.kit.judges.reward import JudgeReward
from rl_agent.runtime.reward import GuardedReward, LocalReward, coerce_score, completion_text
from rl_agent.runtime.verifiers import short_answer


def conv(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def test_completion_text_reads_plain_and_conversational_forms():
    assert completion_text("Paris.") == "Paris."
    assert completion_text(conv("Paris.")) == "Paris."
    assert completion_text([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]) == "Hi"
    assert completion_text(None) == ""


@pytest.mark.parametrize(
    "result, expected",
    [
        (1, (1.0, "", None)),
        (True, (1.0, "", None)),
        ((0.5, "half"), (0.5, "half", None)),
        ({"score": 0.25, "reason": "r"}, (0.25, "r", None)),
        (1.5, (None, "scorer returned 1.5, outside [0, 1]", "out_of_range")),
        (float("nan"), (None, "scorer returned nan, not a score", "malformed")),
        ("high", (None, "scorer returned 'high', not a score", "malformed")),
    ],
)
def test_coerce_score(result, expected):
    assert coerce_score(result) == expected


def test_a_failing_scorer_gives_none_and_is_counted_not_zero():
    def flaky(prompt, output, reference):
        if output == "boom":
            raise RuntimeError("verifier crashed")
        if output == "big":
            return 7
        return 1.0 if output == reference else 0.0

    reward = LocalReward(flaky, "flaky")
    logged = {}
    scores = reward(
        prompts=[conv("q")] * 4,
        completions=[conv("a"), conv("boom"), conv("big"), conv("b")],
        reference=["a", "a", "a", "a"],
        log_metric=lambda k, v: logged.setdefault(k, v),
    )
    assert scores == [1.0, None, None, 0.0]
    assert reward.stats() == {
        "graded": 2,
        "failed": 2,
        "failures": {"scorer_error": 1, "out_of_range": 1},
        "cost_usd": 0.0,
    }
    assert logged == {"flaky/failed": 2.0}


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_scorers_of_any_arity_get_what_they_ask_for(arity):
    seen = []

    def one(o):
        seen.append((o,))
        return 1.0

    def two(p, o):
        seen.append((p, o))
        return 1.0

    def three(p, o, r):
        seen.append((p, o, r))
        return 1.0

    reward = LocalReward({1: one, 2: two, 3: three}[arity], "s")
    assert reward(prompts=["P"], completions=["O"], reference=["R"]) == [1.0]
    assert seen == [{1: ("O",), 2: ("P", "O"), 3: ("P", "O", "R")}[arity]]


def test_reference_count_must_match():
    with pytest.raises(ValueError, match="references"):
        LocalReward(short_answer, "s")(prompts=["a", "b"], completions=["A.", "B."], reference=["A."])


def test_guarded_reward_turns_a_crashing_judge_into_counted_nones():
    class Broken:
        stats = LocalReward(short_answer, "x").stats

        def __call__(self, prompts, completions, **kw):
            raise TimeoutError("judge timed out")

    reward = GuardedReward(Broken(), "judge")
    assert reward(prompts=["a", "b", "c"], completions=["A.", "B.", "C."]) == [None, None, None]
    stats = reward.stats()
    assert stats["failures"] == {"exception": 3} and stats["failed"] == 3


def test_guarded_reward_keeps_the_kit_judge_reward_counts():
    inner = JudgeReward(make_judge("exact"), name="exact")
    reward = GuardedReward(inner, "exact")
    assert reward(prompts=["q", "q"], completions=["Paris.", "Rome."], reference=["Paris", None]) == [1.0, None]
    stats = reward.stats()
    assert stats["graded"] == 1 and stats["failures"] == {"missing_reference": 1}


@pytest.mark.parametrize(
    "text", ["Paris.", "Twenty-four.", "Leonardo da Vinci.", "100 degrees.", "H2O.", "The pound sterling."]
)
def test_short_answer_accepts_bare_answers(text):
    assert short_answer("q", text) == (1.0, "bare short answer")


@pytest.mark.parametrize(
    "text, why",
    [
        ("", "empty"),
        ("Great question! I think it is Paris.", "words"),
        ("Paris", "period"),
        ("Paris..", "period"),
        ("paris.", "capital"),
        ("Paris!.", "punctuation"),
        ("It is in France, Paris.", "words"),
    ],
)
def test_short_answer_rejects_everything_else_and_says_why(text, why):
    score, reason = short_answer("q", text)
    assert score == 0.0 and why in reason


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_bundled_task_data_fits_its_verifier(split):
    rows = [json.loads(line) for line in bundled_prompts_path("short_answer", split).read_text().splitlines()]
    assert all(short_answer(r["prompt"], r["reference"])[0] == 1.0 for r in rows)
    assert all(short_answer(r["prompt"], r["rejected"])[0] == 0.0 for r in rows if "rejected" in r)


def test_inlined_scorer_agrees_with_the_kit_judge_path():
    outputs = ["Paris.", "Great question! Paris.", "paris", "The blue whale.", "", "Seven. Eight. Nine. Ten."]
    local = LocalReward(short_answer, "short_answer")(prompts=["q"] * len(outputs), completions=outputs)
    judge = make_judge("python:rl_agent.runtime.verifiers:short_answer")
    kit = JudgeReward(judge)(prompts=["q"] * len(outputs), completions=outputs)
    assert local == kit == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]

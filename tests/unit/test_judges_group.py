"""Group grading against the scripted Messages API server: one request per prompt's group, the stable prefix
first with cache_control, the answers in a recorded shuffled order, the reply array validated (wrong count or
ids -> one stricter retry -> missing rewards, never zeros), and the grade cache in front."""

from __future__ import annotations

import json
import re

from rl_agent.kit.judges.base import GradeItem
from rl_agent.kit.judges.group import GroupJudge, position_means_from_log
from rl_agent.kit.judges.reward import JudgeReward
from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (pytest fixtures)
from tests.support.anthropic_server import Reply, default_score, group_answers

RUBRIC_TEXT = "Score 1 for an answer a patient teacher would give in at most two sentences; 0 for a rambling one."
ANSWERS = [
    "Water boils at 100 C.",
    "It boils at one hundred degrees, well, I think so, maybe, at sea level.",
    "100 C.",
    "Boiling happens when vapour pressure equals the air pressure, at 100 C at sea level.",
]


def judge(srv, key, tmp_path, **kw) -> GroupJudge:
    rubric = tmp_path / "rubric.md"
    rubric.write_text(RUBRIC_TEXT)
    return GroupJudge(
        rubric=rubric,
        api_key=key,
        base_url=srv.base_url,
        timeout=5.0,
        prompt_cache=True,
        log_path=tmp_path / "orders.jsonl",
        **kw,
    )


def test_one_request_per_group_prefix_first_with_cache_control_and_order_recorded(anthropic_server, fake_key, tmp_path):
    j = judge(anthropic_server, fake_key, tmp_path)
    groups = [
        [GradeItem("When does water boil?", a) for a in ANSWERS],
        [
            GradeItem("Why is the sky blue?", a)
            for a in ("Light scatters.", "Blue light scatters most, so the sky looks blue to us from the ground below.")
        ],
    ]
    grades = j.grade_groups(groups)
    reqs = anthropic_server.message_requests
    assert len(reqs) == 2  # one request per group, not one per completion
    by_prompt = {re.search(r"<prompt>\n(.*?)\n</prompt>", r.body["messages"][0]["content"]).group(1): r for r in reqs}
    body = by_prompt["When does water boil?"].body
    system = body["system"]
    assert len(system) == 1 and RUBRIC_TEXT in system[0]["text"] and system[0]["cache_control"] == {"type": "ephemeral"}
    user = body["messages"][0]["content"]
    assert user.count("When does water boil?") == 1 and RUBRIC_TEXT not in user  # the prompt once, rubric in prefix
    shown = group_answers(user)
    assert [i for i, _ in shown] == ["1", "2", "3", "4"]
    record = next(r for r in j.records if len(r.shown) == 4)
    assert [t for _, t in shown] == [ANSWERS[k] for k in record.shown]  # the recorded order is the order sent
    assert record.shown != [0, 1, 2, 3]  # shuffled (seeded: the same group is always shown the same way)
    assert [g.score for g in grades[0]] == [default_score(a) for a in ANSWERS]  # mapped back to the right answers
    logged = [json.loads(x) for x in (tmp_path / "orders.jsonl").read_text().splitlines()]
    assert sorted(len(r["shown"]) for r in logged) == [2, 4]
    assert j.stats.requests == 2 and j.stats.cache_control_requests == 2
    means = j.position_means()  # by shown position, from the recorded orders
    assert len(means) == 4 and means[3] == [g.score for g in grades[0]][record.shown[3]]
    assert position_means_from_log(tmp_path / "orders.jsonl") == means

    # The same groups again: served from the grade cache, nothing sent.
    j2 = judge(anthropic_server, fake_key, tmp_path, cache=tmp_path / "grades.sqlite3")
    j2.grade_groups(groups)
    n = len(anthropic_server.message_requests)
    again = j2.grade_groups(groups)
    assert len(anthropic_server.message_requests) == n and all(g.cached for g in again[0])


def test_wrong_count_or_ids_are_retried_then_missing_never_zero(anthropic_server, fake_key, tmp_path):
    j = judge(anthropic_server, fake_key, tmp_path)
    reward = JudgeReward(j)
    bad_count = [f"Short. {i} @@group-short@@" for i in range(2)]
    prompts = ["p1"] * 4 + ["p2"] * 2 + ["p3"] * 2
    completions = ANSWERS + bad_count + ["Ok.", "Ok then. @@group-badid@@"]
    scores = reward(prompts=prompts, completions=completions)
    assert scores[:4] == [default_score(a) for a in ANSWERS]
    assert scores[4:] == [None, None, None, None]  # missing, not 0
    assert reward.stats.failures == {"malformed": 4} and reward.stats.graded == 4
    retried = [r for r in anthropic_server.message_requests if len(r.body["messages"]) == 3]
    assert len(retried) == 2  # each bad group got exactly one stricter retry, naming the problem
    problems = " ".join(r.body["messages"][2]["content"] for r in retried)
    assert "it graded 1 answers, but 2 were shown" in problems and "'99' that was not shown" in problems
    assert j.stats.retries == 2 and j.stats.failures == {"malformed": 4}


def test_identical_completions_are_shown_once_and_share_a_score(anthropic_server, fake_key, tmp_path):
    j = judge(anthropic_server, fake_key, tmp_path)
    grades = j.grade_many([GradeItem("q", "Yes."), GradeItem("q", "Yes."), GradeItem("q", "Well, maybe yes I guess.")])
    assert len(group_answers(anthropic_server.message_requests[0].body["messages"][0]["content"])) == 2
    assert grades[0].score == grades[1].score == default_score("Yes.")


def test_a_prose_reply_is_missing_after_one_retry(anthropic_server, fake_key, tmp_path):
    anthropic_server.script(Reply.text_reply("All four answers look good."), Reply.text_reply("Really, all good."))
    grades = judge(anthropic_server, fake_key, tmp_path).grade_many([GradeItem("q", a) for a in ANSWERS])
    assert all(g.score is None and g.error == "malformed" for g in grades)
    assert len(anthropic_server.message_requests) == 2


def test_a_judge_that_favours_the_first_position_shows_in_the_position_means(anthropic_server, fake_key, tmp_path):
    """The shuffle keeps a position preference off any particular answer, and the recorded orders expose it."""
    from tests.support.anthropic_server import group_reply

    def first_favoured(body: dict) -> Reply:
        answers = group_answers(body["messages"][0]["content"])
        return group_reply(answers, lambda text: 1.0 if text == answers[0][1] else 0.0)

    anthropic_server.responder = first_favoured
    j = judge(anthropic_server, fake_key, tmp_path)
    groups = [[GradeItem(f"q{i}", a) for a in ANSWERS] for i in range(12)]
    grades = j.grade_groups(groups)
    means = j.position_means()
    assert means[0] == 1.0 and means[1:] == [0.0, 0.0, 0.0]  # plain to see in the report
    firsts = {ANSWERS[r.shown[0]] for r in j.records}
    assert len(firsts) > 1  # the favoured slot went to different answers, not always the same one
    per_answer = [sum(g[k].score for g in grades) / len(grades) for k in range(len(ANSWERS))]
    assert max(per_answer) < 1.0  # no answer won every group merely by where it was shown

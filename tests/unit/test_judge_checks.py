"""The judge is checked, not trusted: against a second reading before training (a lenient or inconsistent judge
stops the run and shows the answers the readings disagree on), on fixed anchors during training (drift is
flagged), and by a pairwise reading of the before/after (win rate in the report). All against the scripted
Messages API server, whose grades follow a real rule over the text it receives."""

from __future__ import annotations

import json
import re

import pytest

from rl_agent.kit.judges.agreement import judge_agreement, spearman
from rl_agent.kit.judges.base import GradeItem
from rl_agent.kit.judges.claude import ClaudeJudge
from rl_agent.kit.judges.drift import DRIFT_MAX, Anchor, AnchorWatch, drift_checks
from rl_agent.kit.pipeline.judged_winrate import judged_win_rate, win_rate_lines
from rl_agent.kit.pipeline.report import judge_lines
from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (pytest fixtures)
from tests.support.anthropic_server import Reply, default_responder, default_score
from tests.support.judged_task import BAD, GOOD, RUBRIC, SECOND_READING_MARK, inconsistent


def rubric_file(tmp_path):
    path = tmp_path / "rubric.md"
    path.write_text(RUBRIC)
    return path


ANSWERS = [
    "Paris.",
    "It is Paris, I think.",
    "Well, maybe it is Paris, but please check it yourself first.",
    "Rome.",
    "So, basically, I guess it might be Rome. I hope this helps!",
    "Rome, of course.",
    "Hmm, I'm not entirely sure, but I think it is most likely Rome. Please double-check.",
]


def test_spearman_handles_ties_and_flat_readings():
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 3], [5, 5, 6, 7]) == pytest.approx(1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_agreement_passes_a_consistent_judge_and_stops_an_inconsistent_one(anthropic_server, fake_key, tmp_path):
    items = [GradeItem(f"q{i}", a) for i, a in enumerate(ANSWERS)]
    opts = dict(api_key=fake_key, base_url=anthropic_server.base_url, timeout=5.0)
    first = [default_score(a) for a in ANSWERS]
    good = judge_agreement(items, first, rubric_file(tmp_path), **opts)
    assert good.passed and good.spearman == pytest.approx(1.0) and good.n == len(ANSWERS) and good.cost_usd > 0
    second_reading = [r for r in anthropic_server.message_requests]
    assert all(
        SECOND_READING_MARK in r.body["system"][0]["text"] and RUBRIC in r.body["system"][0]["text"]
        for r in second_reading
    )  # the same rubric under other instructions

    anthropic_server.responder = inconsistent
    backwards = [round(1 - s, 4) for s in first]  # what the training rubric's reading said
    bad = judge_agreement(items, backwards, rubric_file(tmp_path), **opts)
    assert not bad.passed and bad.spearman < 0 and len(bad.disagreements) == 3
    message = bad.message()
    assert "nothing was trained" in message and "Spearman -1.00 (minimum 0.6)" in message
    worst = bad.disagreements[0]
    assert abs(worst.training_rubric - worst.second_reading) > 0.5 and worst.output in message[:2000]


def test_drift_on_the_anchors_is_flagged(anthropic_server, fake_key, tmp_path):
    anchors = [Anchor("good", GradeItem("q", o)) for o in GOOD] + [Anchor("bad", GradeItem("q", o)) for o in BAD]
    judge = ClaudeJudge(
        rubric=rubric_file(tmp_path),
        calibration=False,
        api_key=fake_key,
        base_url=anthropic_server.base_url,
        timeout=5.0,
        cache=tmp_path / "grades.sqlite3",
    )
    watch = AnchorWatch(anchors, judge, every=5)
    watch.measure(0)
    watch.measure(5)
    steady = watch.summary()
    assert steady["max_drift"] == 0.0 and not steady["flagged"] and "held steady" in steady["message"]
    assert drift_checks(steady) == {f"judge steady on its anchors (drift <= {DRIFT_MAX})": True}

    def drifted(body: dict) -> Reply:  # the grader turned generous: every score 0.3 higher, capped at 1
        reply = json.loads(default_responder(body).content[0]["text"])
        return Reply.text_reply(json.dumps({"score": min(1.0, reply["score"] + 0.3), "reason": "generous"}))

    anthropic_server.responder = drifted
    n = len(anthropic_server.message_requests)
    watch.measure(10)
    assert len(anthropic_server.message_requests) == n + len(anchors)  # graded again even with a grade cache
    moved = watch.summary()
    assert moved["flagged"] and moved["max_drift"] > DRIFT_MAX and moved["readings"][-1]["bad"] == pytest.approx(0.3)
    assert "Judge drift" in moved["message"] and "by step 10" in moved["message"]
    assert drift_checks(moved) == {f"judge steady on its anchors (drift <= {DRIFT_MAX})": False}


def test_win_rate_counts_wins_ties_and_failures_and_shows_pairs(anthropic_server, fake_key, tmp_path):
    prompts = ["a", "b", "c", "d"]
    before = ["Well, I think it is maybe Paris, honestly.", "Rome.", "Perhaps it is Oslo, I guess.", "x"]
    after = ["Paris.", "Rome.", "Oslo.", "y @@prose@@"]
    anthropic_server.responder = lambda body: (
        Reply.text_reply("Both are fine.") if "@@prose@@" in json.dumps(body) else default_responder(body)
    )  # one pair the judge cannot decide
    win = judged_win_rate(
        rubric_file(tmp_path), prompts, before, after, api_key=fake_key, base_url=anthropic_server.base_url, timeout=5.0
    )
    assert (win["wins"], win["losses"], win["ties"], win["failed"]) == (2, 0, 1, 1)
    assert win["rate"] == round(2.5 / 3, 4) and win["cost_usd"] > 0 and win["failures"] == {"malformed": 1}
    assert [e["after"] for e in win["examples"]] == ["Paris.", "Oslo."]
    orders = {
        (re.search(r"<answer_a>\n(.*?)\n</answer_a>", r.body["messages"][0]["content"], re.DOTALL).group(1))
        for r in anthropic_server.message_requests
    }
    assert {"Paris.", before[0]} <= orders  # both orders were asked
    md = "\n".join(judge_lines({"task_check": {"win_rate": win}}))
    assert "Pairwise win rate of after over before:** 0.83 on 4 held-out prompts" in md
    assert (
        "2 wins, 0 losses, 1 ties, 1 failed" in md
        and "| a | Well, I think it is maybe Paris, honestly. | Paris. |" in md
    )
    assert win_rate_lines(None) == []

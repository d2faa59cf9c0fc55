"""The row kinds the tracks train on: pairs with an optional reference, unpaired feedback (KTO) and
completions (SFT). Bad rows are refused with the file and line; the bundled unpaired set is the terse
pairs taken apart, as tools/make_bundled_unpaired.py writes it."""

from __future__ import annotations

import json

import pytest

from rl_agent.kit.dataio.pairs import (
    PairFileError,
    bundled_pairs_path,
    load_completions,
    load_pairs,
    load_unpaired,
)


def write(tmp_path, rows, name="rows.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


PAIR = {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "I think maybe Paris, not sure."}


def test_pairs_keep_an_optional_reference_and_refuse_a_bad_one(tmp_path):
    pairs = load_pairs(write(tmp_path, [{**PAIR, "reference": "Paris"}, {**PAIR, "prompt": "Other?"}]))
    assert pairs[0].reference == "Paris" and pairs[0].to_dict()["reference"] == "Paris"
    assert pairs[1].reference is None and "reference" not in pairs[1].to_dict()
    with pytest.raises(PairFileError, match=r"rows.jsonl:2: field 'reference' must be a string"):
        load_pairs(write(tmp_path, [PAIR, {**PAIR, "prompt": "x", "reference": 3}]))
    with pytest.raises(PairFileError, match=r"rows.jsonl:1: field 'reference' is empty"):
        load_pairs(write(tmp_path, [{**PAIR, "reference": " "}]))


def test_unpaired_rows_need_a_boolean_label_and_both_labels(tmp_path):
    good = {"prompt": "Capital of France?", "completion": "Paris.", "label": True}
    bad = {"prompt": "Capital of France?", "completion": "Maybe Paris?", "label": False}
    assert [r.label for r in load_unpaired(write(tmp_path, [good, bad]))] == [True, False]
    with pytest.raises(PairFileError, match=r"rows.jsonl:2: field 'label' must be true or false"):
        load_unpaired(write(tmp_path, [good, {**bad, "label": "no"}]))
    with pytest.raises(PairFileError, match="every label is True"):
        load_unpaired(write(tmp_path, [good, {**good, "completion": "Paris!"}]))
    with pytest.raises(PairFileError, match=r"rows.jsonl:1: missing field 'completion'"):
        load_unpaired(write(tmp_path, [{"prompt": "p", "label": True}]))


def test_completions_take_prompt_completion_rows_or_the_chosen_side_of_pairs(tmp_path):
    rows = load_completions(write(tmp_path, [PAIR, {"prompt": "Two plus two?", "completion": "Four."}]))
    assert [(r.prompt, r.completion) for r in rows] == [("Capital of France?", "Paris."), ("Two plus two?", "Four.")]
    with pytest.raises(PairFileError, match=r"rows.jsonl:1: missing field 'completion'"):
        load_completions(write(tmp_path, [{"prompt": "p"}]))


def test_the_bundled_unpaired_set_is_the_terse_pairs_taken_apart():
    pairs = load_pairs(bundled_pairs_path("train"))
    rows = load_unpaired(bundled_pairs_path("train", "terse_unpaired"))
    expected = {(p.prompt, p.chosen, True) for p in pairs} | {(p.prompt, p.rejected, False) for p in pairs}
    assert {(r.prompt, r.completion, r.label) for r in rows} == expected and len(rows) == 2 * len(pairs)
    assert [r.label for r in rows[:10]] != [True, False] * 5  # shuffled, not interleaved

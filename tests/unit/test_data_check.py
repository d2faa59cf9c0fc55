"""`rl-agent check` and the data layer under `--data`: TRL's dataset types in the formats people have,
column mapping, and errors that name the file and the row. No training here (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rl_agent.kit.dataio.check import run_check
from rl_agent.kit.dataio.columns import parse_columns
from rl_agent.kit.dataio.sources import DataError
from rl_agent.kit.dataio.split import seeded_split, shared_prompts
from tests.support.cli import REPO

TERSE = REPO / "rl_agent" / "data" / "terse"


def terse_rows() -> list[dict]:
    """90 bundled pairs (70 training, 20 held-out): enough for every check, small enough to stay fast."""

    def read(name: str, n: int) -> list[dict]:
        return [json.loads(line) for line in (TERSE / name).read_text().splitlines() if line.strip()][:n]

    return read("train.jsonl", 70) + read("heldout.jsonl", 20)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_bundled_sets_check_clean(cli):
    proc = cli("check", str(TERSE / "train.jsonl"), "--heldout", str(TERSE / "heldout.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "type: preference, standard (strings)" in proc.stdout
    n_train, n_held = (
        sum(1 for x in (TERSE / f).read_text().splitlines() if x.strip()) for f in ("train.jsonl", "heldout.jsonl")
    )
    assert f"rows: {n_train} read, {n_train} usable" in proc.stdout
    assert f"rows: {n_held} read, {n_held} usable" in proc.stdout
    assert "prompts shared by train and held-out: none" in proc.stdout and "ready to train" in proc.stdout
    grpo = cli("check", str(REPO / "rl_agent/data/short_answer/train.jsonl"), "--algorithm", "grpo")
    assert grpo.returncode == 0, grpo.stderr
    assert "type: prompt-only" in grpo.stdout and "reference -> reference" in grpo.stdout
    kto = cli("check", str(REPO / "rl_agent/data/terse_unpaired/train.jsonl"), "--algorithm", "kto")
    assert kto.returncode == 0, kto.stderr
    assert "type: unpaired preference" in kto.stdout and "ready to train" in kto.stdout


def test_csv_with_other_column_names_is_recognised(tmp_path):
    import csv

    path = tmp_path / "feedback.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "good", "bad", "annotator"])
        for r in terse_rows():
            w.writerow([r["prompt"], r["chosen"], r["rejected"], "ann1"])
    report, train, held = run_check(path, heldout_share=0.2)
    assert report.train.kind == "preference, standard (strings)"
    assert {
        "question -> prompt (recognised)",
        "good -> chosen (recognised)",
        "bad -> rejected (recognised)",
        "not used: annotator",
    } <= set(report.train.mapping)
    assert report.ok and len(train) + len(held) == 90 and len(held) == 18
    assert not shared_prompts(train, held)
    assert set(train[0]) == {"prompt", "chosen", "rejected"}


def test_explicit_columns_override_recognition(tmp_path):
    rows = [{"q": r["prompt"], "answer_a": r["chosen"], "answer_b": r["rejected"]} for r in terse_rows()]
    path = write_jsonl(tmp_path / "ab.jsonl", rows)
    with pytest.raises(DataError, match="no prompt/chosen/rejected/completion column"):
        run_check(path)
    report, train, _ = run_check(path, columns="q=prompt,answer_a=chosen,answer_b=rejected")
    assert report.ok and "q -> prompt (--columns)" in report.train.mapping
    assert train[0]["chosen"] in {r["chosen"] for r in terse_rows()}
    with pytest.raises(DataError, match="target must be one of"):
        parse_columns("q=question")
    with pytest.raises(DataError, match="--columns names 'nope'"):
        run_check(path, columns="nope=prompt")


def test_conversational_jsonl_is_flattened_to_last_turns(tmp_path):
    rows = [
        {
            "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": r["prompt"]}],
            "chosen": [{"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "assistant", "content": r["rejected"]}],
        }
        for r in terse_rows()
    ]
    report, train, held = run_check(write_jsonl(tmp_path / "conv.jsonl", rows))
    assert report.train.kind == "preference, conversational (message lists)"
    assert report.ok and any("only the last user turn" in n for n in report.train.notes)
    originals = {r["prompt"]: r for r in terse_rows()}
    for row in train + held:
        assert row["chosen"] == originals[row["prompt"]]["chosen"]
    # implicit prompt: whole conversations in chosen/rejected
    implicit = [
        {
            "chosen": [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["chosen"]}],
            "rejected": [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["rejected"]}],
        }
        for r in terse_rows()
    ]
    report, train, _ = run_check(write_jsonl(tmp_path / "implicit.jsonl", implicit))
    assert report.train.kind.startswith("preference (implicit prompt)") and train[0]["prompt"] in originals


def test_parquet_and_unpaired_kto_data(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"prompt": r["prompt"], "completion": r[side], "label": side == "chosen"}
        for r in terse_rows()
        for side in ("chosen", "rejected")
    ]
    path = tmp_path / "thumbs.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    report, train, held = run_check(path, shape="unpaired", reader="kto")
    assert report.train.kind == "unpaired preference, standard (strings)" and report.ok
    assert {r["label"] for r in train} == {True, False}
    with pytest.raises(DataError, match="dpo trains on preference"):
        run_check(path, shape="pairs", reader="dpo")
    only_up = tmp_path / "up.parquet"
    pq.write_table(pa.Table.from_pylist([r for r in rows if r["label"]]), only_up)
    report, _, _ = run_check(only_up, shape="unpaired", reader="kto")
    assert not report.ok and "both desirable and undesirable" in report.errors[0]


BROKEN = {
    "bad_json.jsonl": (
        '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "d", "chosen": "e", "rejected": "f"}\n'
        '{"prompt": "g", "chosen": \n',
        r"bad_json.jsonl:3: not valid JSON",
    ),
    "ragged.csv": ("prompt,chosen,rejected\na,b,c\nd,e,f\ng,h,i,j\n", r"ragged.csv:4: more fields than the header"),
    "number_prompt.jsonl": (
        '{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": {"x": 1}, "chosen": "e", "rejected": "f"}\n',
        r"number_prompt.jsonl:2: column 'prompt' must be text",
    ),
    "bad_label.jsonl": (
        "".join(
            json.dumps({"prompt": f"p{i}", "completion": "c", "label": lab}) + "\n"
            for i, lab in enumerate([True, False, 1, 0, "maybe"])
        ),
        r"bad_label.jsonl:5: column 'label' must be true/false",
    ),
    "no_assistant.jsonl": (
        '{"prompt": "a", "chosen": [{"role": "assistant", "content": "b"}], "rejected": "c"}\n'
        '{"prompt": "d", "chosen": [{"role": "user", "content": "e"}], "rejected": "f"}\n',
        r"no_assistant.jsonl:2: column 'chosen' is a conversation with no assistant message",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_files_name_file_and_row(tmp_path, name):
    text, pattern = BROKEN[name]
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=pattern):
        run_check(path, shape="unpaired" if "label" in name else "pairs")


def test_broken_file_through_the_cli(tmp_path, cli):
    path = tmp_path / "ragged.csv"
    path.write_text(BROKEN["ragged.csv"][0])
    proc = cli("check", str(path))
    assert proc.returncode == 2 and f"{path}:4: more fields than the header" in proc.stderr


def test_check_says_no_to_data_that_would_train_on_nothing(tmp_path, cli):
    rows = terse_rows()
    same = [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["chosen"]} for r in rows]
    same[3] = rows[3]
    path = write_jsonl(tmp_path / "same.jsonl", same + [rows[3], {"prompt": " ", "chosen": "a", "rejected": "b"}])
    report, train, held = run_check(path)
    assert not report.ok and len(train) + len(held) == 1
    assert any("same.jsonl:1: chosen == rejected" in p for p in report.train.problems)
    assert any(p.endswith("same.jsonl:91: duplicate of " + str(path) + ":4") for p in report.train.problems)
    assert any("same.jsonl:92: empty prompt" in p for p in report.train.problems)
    proc = cli("check", str(path))
    assert proc.returncode == 1 and "NOT trainable" in proc.stdout and "same.jsonl:1: chosen == rejected" in proc.stdout
    # held-out prompts seen in training are refused too
    overlap = run_check(TERSE / "train.jsonl", heldout=TERSE / "train.jsonl")[0]
    assert not overlap.ok and len(overlap.shared_prompts) == overlap.train_rows > 0


def test_seeded_split_is_stable_and_keeps_prompts_on_one_side():
    rows = [{"prompt": f"q{i % 30}", "chosen": f"a{i}", "rejected": f"b{i}"} for i in range(90)]
    a = seeded_split(rows, 0.1, seed=1)
    assert a == seeded_split(rows, 0.1, seed=1) and a != seeded_split(rows, 0.1, seed=2)
    assert not shared_prompts(*a) and len(a[0]) + len(a[1]) == 90


def test_hub_id_without_network_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(
        DataError,
        match=r"no-such-owner/no-such-set \(split 'train'\): cannot load it from the "
        r"Hugging Face hub.*no network",
    ):
        run_check("no-such-owner/no-such-set")


def test_token_lengths_against_the_tokenizer(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    roomy = run_check(TERSE / "train.jsonl", tokenizer=tok, tokenizer_name="embedded", max_length=4096)[0].tokens
    assert roomy is not None and roomy.truncated_share == 0
    assert 10 < roomy.min <= roomy.median <= roomy.p95 <= roomy.max and roomy.min < roomy.max
    tight = run_check(TERSE / "train.jsonl", tokenizer=tok, tokenizer_name="embedded", max_length=roomy.median)[0]
    assert 0 < tight.tokens.truncated_share <= 0.5
    none_fit = run_check(TERSE / "train.jsonl", tokenizer=tok, tokenizer_name="embedded", max_length=8)[0]
    assert none_fit.tokens.truncated_share == 1 and any("exceed max_length 8" in a for a in none_fit.advice)

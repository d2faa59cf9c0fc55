"""The one JSON Lines reader (rl_agent/runtime/rows.py), shared by intake and the rendered scripts: tolerant of
encodings, line endings and common column names; strict, with file and line, about what it cannot read."""

import codecs
import json

import pytest

from rl_agent.kit.dataio.sources import DataError, load_source
from rl_agent.runtime.rows import RowsError, canonical_row, read_rows

ROWS = [
    {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Maybe Paris?"},
    {"prompt": "2 + 2?", "chosen": "4.", "rejected": "I think 4."},
]


def _write(path, text: str, encoding: str = "utf-8", bom: bytes = b""):
    path.write_bytes(bom + text.encode(encoding))
    return path


@pytest.mark.parametrize(
    "encoding,bom,newline",
    [
        ("utf-8", b"", "\n"),
        ("utf-8", codecs.BOM_UTF8, "\r\n"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\r\n"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "\r"),
    ],
)
def test_the_same_rows_whatever_the_encoding_and_line_endings(tmp_path, encoding, bom, newline):
    text = newline.join(json.dumps(r, ensure_ascii=False) for r in ROWS) + newline + newline
    path = _write(tmp_path / "pairs.jsonl", text, encoding, bom)
    assert read_rows(path, ("prompt", "chosen", "rejected")) == ROWS
    assert load_source(path).rows == ROWS  # intake reads the same file the same way


def test_common_column_names_are_read_as_the_canonical_ones(tmp_path):
    assert canonical_row({"Question": "q", "good": "a", "bad": "b"}) == {
        "Question": "q",
        "good": "a",
        "bad": "b",
        "prompt": "q",
        "chosen": "a",
        "rejected": "b",
    }
    assert canonical_row({"prompt": "p", "question": "q"})["prompt"] == "p"  # a canonical name present wins
    path = _write(tmp_path / "aliased.jsonl", json.dumps({"question": "q", "answer": "a"}) + "\n")
    assert read_rows(path, ("prompt", "completion"))[0]["completion"] == "a"


@pytest.mark.parametrize(
    "body,message",
    [
        (
            '{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "p", "chosen": "a"\n',
            "rows.jsonl:2: not valid JSON",
        ),
        ('["a list"]\n', "rows.jsonl:1: expected a JSON object, got list"),
        ('{"prompt": "p", "chosen": " ", "rejected": "b"}\n', "rows.jsonl:1: field 'chosen' missing or empty"),
    ],
)
def test_what_cannot_be_read_is_named_by_file_and_line(tmp_path, body, message):
    path = _write(tmp_path / "rows.jsonl", body)
    with pytest.raises(RowsError, match=message):
        read_rows(path, ("prompt", "chosen", "rejected"))


def test_bytes_that_are_not_text_and_missing_files_are_refused(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prompt": "café"}\n'.encode("latin-1"))
    with pytest.raises(RowsError, match="not UTF-8 text"):
        read_rows(path)
    with pytest.raises(DataError, match="not UTF-8 text"):
        load_source(path)
    with pytest.raises(RowsError, match="no such file"):
        read_rows(tmp_path / "nope.jsonl")

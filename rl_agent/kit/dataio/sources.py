"""Read a dataset from wherever the user has it: a local .jsonl/.json/.csv/.parquet file or a hub dataset id.

Every row keeps its location ("file:line" for JSON Lines and CSV, "file row N" otherwise), so any later
error can name the file and the row. A hub id goes through `datasets.load_dataset`; with no network that
fails with a message saying so, instead of a stack trace from deep inside the hub client.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import jsonl_objects
from rl_agent.runtime.rows import decode

LOCAL_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class DataError(RlAgentError, ValueError):
    """Data that cannot be used; the message names the file (or hub id) and the row."""


@dataclass
class LoadedSource:
    """Raw rows as read, each with where it came from."""

    name: str
    rows: list[dict]
    wheres: list[str]
    columns: list[str] = field(default_factory=list)


def load_source(source: str | Path, split: str = "train") -> LoadedSource:
    """Read SOURCE: an existing local file by its suffix, otherwise a Hugging Face hub dataset id."""
    text = str(source)
    path = Path(text).expanduser()
    if path.exists() or path.suffix.lower() in LOCAL_SUFFIXES or "\\" in text or text.startswith((".", "/", "~")):
        loaded = _load_local(path)
    elif _HUB_ID.match(text):
        loaded = _load_hub(text, split)
    else:
        raise DataError(f"{text}: no such file, and not a hub dataset id (owner/name)")
    if not loaded.rows:
        raise DataError(f"{loaded.name}: no rows")
    cols: dict[str, None] = {}
    for row in loaded.rows:
        cols.update(dict.fromkeys(row))
    loaded.columns = list(cols)
    return loaded


def _load_local(path: Path) -> LoadedSource:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _load_parquet(path)
    text = decode(path.read_bytes(), str(path), DataError)  # UTF-8 with or without a BOM, or UTF-16 with one
    if suffix == ".csv":
        return _load_csv(path, text)
    if suffix == ".json":
        return _load_json(path, text)
    if suffix == ".jsonl":
        return _load_jsonl(path, text)
    raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(LOCAL_SUFFIXES)}")


def _load_jsonl(path: Path, text: str) -> LoadedSource:
    rows = list(jsonl_objects(path, text, error=DataError))
    return LoadedSource(str(path), [r for _, _, r in rows], [w for _, w, _ in rows])


def _load_json(path: Path, text: str) -> LoadedSource:
    """A JSON array of objects, or an object holding one such array (e.g. {"data": [...]})."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{e.lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a JSON array of objects (or an object holding exactly one array)")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON array of objects, got {type(data).__name__}")
    wheres = [f"{path} row {i}" for i in range(1, len(data) + 1)]
    for where, row in zip(wheres, data):
        if not isinstance(row, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
    return LoadedSource(str(path), list(data), wheres)


def _load_csv(path: Path, text: str) -> LoadedSource:
    reader = csv.DictReader(text.splitlines(keepends=True))
    if not reader.fieldnames:
        raise DataError(f"{path}: no header row")
    rows, wheres = [], []
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise DataError(f"{where}: more fields than the header has ({len(reader.fieldnames)})")
            if any(v is None for v in row.values()):
                missing = [k for k, v in row.items() if v is None]
                raise DataError(f"{where}: fewer fields than the header has (no {', '.join(missing)})")
            if not any((v or "").strip() for v in row.values()):
                continue
            rows.append(dict(row))
            wheres.append(where)
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: unreadable CSV ({e})") from None
    return LoadedSource(str(path), rows, wheres)


def _load_parquet(path: Path) -> LoadedSource:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow comes with datasets
        raise DataError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as e:  # pyarrow raises several unrelated types for a damaged file
        raise DataError(f"{path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    return LoadedSource(str(path), rows, [f"{path} row {i}" for i in range(1, len(rows) + 1)])


def _load_hub(dataset_id: str, split: str) -> LoadedSource:
    try:
        from datasets import load_dataset
    except ImportError:
        raise DataError(
            f"{dataset_id}: loading a hub dataset needs the `datasets` package (pip install datasets)"
        ) from None
    try:
        ds = load_dataset(dataset_id, split=split)
    except Exception as e:  # network, auth, missing split: the hub client raises many types
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise DataError(
            f"{dataset_id} (split {split!r}): cannot load it from the Hugging Face hub: {reason}. "
            "With no network, download it elsewhere and pass the local .jsonl/.csv/.parquet file; "
            "check the id and --split otherwise"
        ) from None
    rows = [dict(r) for r in ds]
    return LoadedSource(
        f"{dataset_id}[{split}]", rows, [f"{dataset_id}[{split}] row {i}" for i in range(1, len(rows) + 1)]
    )

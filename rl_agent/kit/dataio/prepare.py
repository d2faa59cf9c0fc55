"""`--data` for setup: resolve the user's dataset into canonical train/held-out JSON Lines in the run folder.

The same check as `rl-agent check` runs first, so data that would train on nothing is refused before
anything trains. What was read and how it was mapped goes to data.json beside the files, for the model card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rl_agent.kit.dataio.check import CheckReport, run_check
from rl_agent.kit.dataio.sources import DataError

DATA_DIR = "data"
DATA_INFO = "data.json"


@dataclass
class PreparedData:
    train_file: Path
    heldout_file: Path
    report: CheckReport


def prepare_data(
    run_dir: Path,
    source: str,
    *,
    reader: str,
    train_kind: str,
    heldout_kind: str,
    validation: bool = False,
    columns: str | None = None,
    split: str = "train",
    heldout: str | None = None,
    heldout_share: float = 0.1,
    seed: int = 0,
) -> PreparedData:
    """Check the data, then write run_dir/data/{train,heldout}.jsonl; DataError when it cannot train.
    The rows take the shapes the track (`reader`) names: `train_kind` for training and `heldout_kind` for its
    evaluation."""
    report, train, held = run_check(
        source,
        columns=columns,
        split=split,
        heldout=heldout,
        heldout_share=heldout_share,
        shape=train_kind,
        heldout_shape=heldout_kind,
        reader=reader,
        validation=validation,
        seed=seed,
    )
    if not report.ok:
        raise DataError(f"{report.train.source}: " + "; ".join(report.errors))
    out = Path(run_dir) / DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, rows in (("train", train), ("heldout", held)):
        path = out / f"{name}.jsonl"
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(path)
        files[name] = path
    info = {
        "source": str(source),
        "split": split,
        "heldout": heldout,
        "heldout_share": None if heldout else heldout_share,
        "seed": seed,
        "check": report.to_dict(),
    }
    (out / DATA_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return PreparedData(files["train"], files["heldout"], report)

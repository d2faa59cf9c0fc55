"""`rl-agent check SOURCE`: the data check that `setup --data` also runs, as a report on its own."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.console import Console

from rl_agent.commands.setup import fail
from rl_agent.kit.dataio.check import load_tokenizer, run_check
from rl_agent.kit.dataio.sources import DataError
from rl_agent.kit.pipeline.selection import supports_selection
from rl_agent.kit.tracks.registry import DEFAULT_TRACK, TRACKS, get_track


def check(
    source: str = typer.Argument(..., help="A .jsonl/.json/.csv/.parquet file or a Hugging Face hub dataset id."),
    columns: Optional[str] = typer.Option(
        None, "--columns", help="Map column names: question=prompt,good=chosen,bad=rejected."
    ),
    split: str = typer.Option("train", "--split", help="Split of a hub dataset."),
    heldout: Optional[str] = typer.Option(None, "--heldout", help="Held-out data; default a seeded split of SOURCE."),
    heldout_share: float = typer.Option(
        0.1, "--heldout-share", min=0.01, max=0.9, help="Share held out when there is no --heldout."
    ),
    model: Optional[str] = typer.Option(
        None, "--model", help="Tokenizer for the length check: hub id, folder, or 'embedded'."
    ),
    max_length: Optional[int] = typer.Option(
        None, "--max-length", min=8, help="Tokens per row the trainer keeps (default 128 embedded, 512 otherwise)."
    ),
    algorithm: str = typer.Option(
        DEFAULT_TRACK, "--algorithm", help=f"{', '.join(TRACKS)}: which the rows are shaped and the size advice is for."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Check a dataset before training: type, rows, mapping, problems by row, overlap, token lengths, size advice."""
    try:
        track = get_track(algorithm)
        tokenizer = load_tokenizer(model) if model else None
        report, _, _ = run_check(
            source,
            columns=columns,
            split=split,
            heldout=heldout,
            heldout_share=heldout_share,
            shape=track.train_kind,
            reader=track.name,
            validation=supports_selection(track),
            tokenizer=tokenizer,
            tokenizer_name=model or "",
            max_length=max_length or (128 if model == "embedded" else 512),
        )
    except (DataError, ValueError) as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        console = Console()
        for line in report.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(check)

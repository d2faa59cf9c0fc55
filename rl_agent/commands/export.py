"""`rl-agent export RUN_DIR`: the trained model out of the run folder (merged, GGUF, on the hub) with a card."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from rl_agent.commands.setup import fail
from rl_agent.kit.export.card import render_card
from rl_agent.kit.export.gguf import GGUFError, export_gguf
from rl_agent.kit.export.hub import HubError, push_folder
from rl_agent.kit.export.merge import merge_run
from rl_agent.kit.export.rundir import RunDirError, read_run


def export(
    run_dir: Path = typer.Argument(..., help="A finished run folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write (default RUN_DIR/export)."),
    merge: bool = typer.Option(
        False, "--merge", help="Merge the LoRA adapter into the base model (plain transformers folder)."
    ),
    gguf: bool = typer.Option(
        False, "--gguf", help="Also write model.gguf with llama.cpp's converter (implies --merge)."
    ),
    llama_cpp: Optional[Path] = typer.Option(
        None, "--llama-cpp", help="A llama.cpp checkout (default $LLAMA_CPP_DIR)."
    ),
    push_to_hub: Optional[str] = typer.Option(
        None, "--push-to-hub", help="Upload the export to this hub repo (owner/name)."
    ),
    public: bool = typer.Option(
        False, "--public", help="With --push-to-hub: make a new repo public (default private)."
    ),
) -> None:
    """Export a run's model: the adapter or the merged model, a model card, optionally GGUF and a hub upload."""
    console = Console()
    try:
        run = read_run(run_dir)
    except RunDirError as e:
        raise fail(str(e)) from None
    out = (out or run.root / "export").resolve()
    if out.exists() and any(out.iterdir()):
        raise fail(f"{out} is not empty; choose another --out")
    merge = merge or gguf
    try:
        if merge:
            console.print(f"merging {run.adapter_dir} into {run.base_model} ...")
            merge_run(run, out)
        else:
            shutil.copytree(run.adapter_dir, out, dirs_exist_ok=True)
        (out / "README.md").write_text(render_card(run, merged=merge), encoding="utf-8")
        console.print(f"{'merged model' if merge else 'adapter'} and model card: {out}")
        if gguf:
            path = export_gguf(out, out / "model.gguf", llama_cpp_dir=llama_cpp)
            console.print(f"gguf: {path}")
        if push_to_hub:
            url = push_folder(out, push_to_hub, private=not public)
            console.print(f"pushed: {url}")
    except (RunDirError, GGUFError, HubError) as e:
        raise fail(str(e)) from None
    if run.report is None:
        console.print("note: the run has no report.json (it did not complete), so the card has no before/after")


def register(app: typer.Typer) -> None:
    app.command()(export)

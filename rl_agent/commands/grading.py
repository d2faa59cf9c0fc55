"""`rl-agent grade` and `rl-agent pairs` (placeholder while the grader lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("grade")
    def grade() -> None:
        """Grade outputs with a judge (work in progress)."""
        typer.echo("grade: not implemented yet", err=True)
        raise typer.Exit(code=2)

    @app.command("pairs")
    def pairs() -> None:
        """Generate preference pairs with Claude (work in progress)."""
        typer.echo("pairs: not implemented yet", err=True)
        raise typer.Exit(code=2)

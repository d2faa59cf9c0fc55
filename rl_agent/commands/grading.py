"""`rl-agent grade` (score outputs with a judge) and `rl-agent pairs` (Claude writes preference pairs).

User errors are one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def default_cache_path() -> Path:
    """$RL_AGENT_CACHE/grades.sqlite3 when set (shared with the rest of rl-agent's cache), else a
    project-local .rl-agent-cache/grades.sqlite3."""
    env = os.environ.get("RL_AGENT_CACHE")
    return (Path(env) if env else Path(".rl-agent-cache")) / "grades.sqlite3"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _usd(x: float) -> str:
    return f"${x:.4f}" if x < 10 else f"${x:,.2f}"


def register(app: typer.Typer) -> None:
    app.command("grade")(grade)
    app.command("pairs")(pairs)


def grade(
    file: Path = typer.Argument(..., help='JSON Lines input, one {"prompt", "output"[, "reference"]} per line.'),
    judge: str = typer.Option(
        "claude",
        "--judge",
        help="claude[:MODEL] | terse | exact | regex:PATTERN | "
        "json-schema:FILE.json | python:FILE.py:func | python:module:func",
    ),
    rubric: Optional[str] = typer.Option(None, "--rubric", help="'terse' (bundled) or a rubric text file."),
    model: str = typer.Option("claude-haiku-4-5", "--model", help="Claude model for the claude judge."),
    batch: bool = typer.Option(False, "--batch", help="Use the Message Batches API (50% cheaper, slower)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Stop cleanly before spending more (USD)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Estimate the cost and exit; sends nothing."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output file (default: FILE.graded.jsonl)."),
    calibration: str = typer.Option(
        "bundled", "--calibration", help="Graded examples in the cached prefix: bundled | none | FILE.jsonl."
    ),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Online requests in flight."),
    cache: Optional[Path] = typer.Option(
        None,
        "--cache",
        help="Grade cache (SQLite) so nothing is paid twice "
        "(default: $RL_AGENT_CACHE/grades.sqlite3, else .rl-agent-cache/grades.sqlite3).",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the grade cache."),
    timeout: float = typer.Option(60.0, "--timeout", help="Per-request timeout in seconds."),
    poll_interval: float = typer.Option(5.0, "--poll-interval", help="First batch poll delay (doubles, max 60s)."),
    count_tokens: bool = typer.Option(
        False,
        "--count-tokens",
        help="Measure the prompt prefix with the free count_tokens endpoint "
        "instead of estimating chars/4 (needs the key).",
    ),
) -> None:
    """Grade outputs with a judge; writes FILE.graded.jsonl and prints a summary."""
    from rl_agent.kit.judges.client import MissingAPIKey, resolve_api_key
    from rl_agent.kit.judges.factory import is_remote, make_judge
    from rl_agent.kit.judges.io import GradeInputError, graded_path, read_grade_inputs

    console = Console()
    try:
        rows = read_grade_inputs(file)
    except GradeInputError as e:
        raise _fail(str(e)) from None
    remote = is_remote(judge)
    if not remote and (batch or max_cost is not None):
        raise _fail("--batch and --max-cost apply to --judge claude only (offline judges are free)")
    if remote and (not dry_run or count_tokens):
        try:  # before anything is created on disk
            resolve_api_key()
        except MissingAPIKey as e:
            raise _fail(str(e)) from None
    options: dict = {}
    if remote:
        options = dict(
            model=model,
            rubric=rubric,
            concurrency=concurrency,
            timeout=timeout,
            max_cost=max_cost,
            cache=None if no_cache else (cache or default_cache_path()),
            poll_interval=poll_interval,
            calibration=True if calibration == "bundled" else False if calibration == "none" else calibration,
        )
    elif rubric is not None:
        raise _fail("--rubric applies to --judge claude only")
    try:
        the_judge = make_judge(judge, **options)
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from None
    items = [r.item for r in rows]

    if remote and count_tokens:
        try:
            the_judge.count_prefix_tokens()
        except Exception as e:  # an API error while counting: say so in one line, nothing was graded
            from rl_agent.kit.judges.client import classify_exception

            raise _fail(f"count_tokens failed: {classify_exception(e)[1]}") from None
    if dry_run:
        if remote:
            _print_estimate(console, the_judge, items)
        else:
            console.print(f"dry run: {len(items)} items; the {judge} judge runs locally and costs nothing.")
        return
    progress = Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=len(items) < 2,
        transient=True,
    )
    with progress:
        task = progress.add_task("grade", total=len(items))
        advance = lambda n: progress.advance(task, n)  # noqa: E731
        if not remote:
            grades = []
            for it in items:
                grades.append(the_judge.grade(it.prompt, it.output, it.reference))
                advance(1)
        elif batch:
            grades = the_judge.grade_batch(items, progress=advance)
        else:
            grades = the_judge.grade_many(items, progress=advance)

    out_path = out or graded_path(file)
    from rl_agent.kit.judges.io import ScoreSummary, write_graded

    write_graded(out_path, rows, grades, getattr(the_judge, "name", judge))
    summary = ScoreSummary.of(grades)
    report = {
        "input": str(file),
        "output": str(out_path),
        "judge": getattr(the_judge, "name", judge),
        "scores": summary.as_dict(),
    }
    if remote:
        report["run"] = the_judge.stats.as_dict()
        report["prompt_cache"] = the_judge.cache_note
        the_judge.close()
    summary_path = (
        out_path.with_name(out_path.name[: -len(".jsonl")] + ".summary.json")
        if out_path.name.endswith(".jsonl")
        else out_path.with_name(out_path.name + ".summary.json")
    )
    summary_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _print_summary(console, summary, report, max_cost)
    if summary.failures.get("auth"):
        raise _fail("the API rejected the key (authentication/permission error); check ANTHROPIC_API_KEY")
    if summary.graded == 0:
        raise typer.Exit(code=1)


def _print_estimate(console: Console, judge, items) -> None:  # type: ignore[no-untyped-def]
    est = judge.estimate(items)
    t = Table(title="dry run: cost estimate (nothing sent)", show_header=False)
    t.add_row("model", est.model + ("" if est.price_known else " (unknown price: priced as the dearest model)"))
    t.add_row("items to grade", f"{est.n_items} (+{est.n_cached} already in the grade cache)")
    t.add_row("prompt prefix", f"~{est.prefix_tokens} tokens; item ~{est.item_tokens}; reply ~{est.output_tokens}")
    t.add_row("prompt caching", judge.cache_note)
    t.add_row("naive (one call each, no caching)", _usd(est.naive_usd))
    t.add_row("online (with prompt caching)" if est.prompt_cache else "online", _usd(est.online_usd))
    t.add_row("--batch (50% off)", _usd(est.batch_usd))
    console.print(t)


def _print_summary(console: Console, s, report: dict, max_cost: float | None) -> None:  # type: ignore[no-untyped-def]
    t = Table(title=f"graded {report['input']} with {report['judge']}", show_header=False)
    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    t.add_row("items", str(s.n))
    t.add_row("graded", str(s.graded))
    failed = ", ".join(f"{k} {v}" for k, v in sorted(s.failures.items())) or "none"
    t.add_row("failed", f"{s.failed} ({failed})" if s.failed else "0")
    t.add_row("mean score", fmt(s.mean))
    t.add_row("spread", f"sd {fmt(s.stdev)}, min {fmt(s.min)}, max {fmt(s.max)}")
    run = report.get("run")
    if run:
        u = run["usage"]
        t.add_row(
            "cost", f"{_usd(run['cost_usd'])} ({run['requests']} API responses, {run['batch_requests']} in batches)"
        )
        t.add_row(
            "tokens",
            f"in {u['input_tokens']}, cache write {u['cache_creation_input_tokens']}, "
            f"cache read {u['cache_read_input_tokens']}, out {u['output_tokens']}",
        )
        t.add_row(
            "grade cache hits", f"{run['grade_cache_hits']} (+{run['duplicates']} repeats in the input, graded once)"
        )
        rate = run["prompt_cache_hit_rate"]
        t.add_row("prompt cache", report["prompt_cache"] + ("" if rate is None else f"; hit rate {rate:.0%}"))
        if run["cache_control_requests"] and not (u["cache_creation_input_tokens"] or u["cache_read_input_tokens"]):
            t.add_row("note", "the API reported no cache reads or writes: the real prefix is below the minimum")
    t.add_row("output", report["output"])
    console.print(t)
    if s.failures.get("budget"):
        console.print(
            f"[yellow]stopped at --max-cost ${max_cost}: {s.failures['budget']} items not graded; "
            f"{s.graded} grades kept (rerun to continue: graded items are cached)[/yellow]"
        )


def pairs(
    task: str = typer.Option(..., "--task", help="What the model should get better at, in a sentence or two."),
    n: int = typer.Option(60, "--n", min=1, help="Number of pairs to generate."),
    out: Path = typer.Option(Path("pairs.jsonl"), "--out", help="Where to write the pairs (JSON Lines)."),
    model: str = typer.Option("claude-haiku-4-5", "--model"),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Stop before spending more (USD)."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Claude writes prompt/chosen/rejected pairs for a task (validated, deduplicated, < 80 words each)."""
    from rl_agent.kit.dataio.pairs import PairFileError, bundled_pairs_path, load_pairs, write_pairs
    from rl_agent.kit.judges.client import MissingAPIKey, resolve_api_key
    from rl_agent.kit.planning.pairgen import MAX_WORDS, PairGenError, generate_pairs

    try:
        resolve_api_key()
    except MissingAPIKey:
        raise _fail(
            "generating pairs needs ANTHROPIC_API_KEY (Claude writes them); without a key, start from "
            f"the bundled pairs: {bundled_pairs_path('train')}"
        ) from None
    if out.exists() and not force:
        raise _fail(f"{out} exists; pass --force to overwrite it")
    try:
        result = generate_pairs(task, n, model=model, max_cost=max_cost)
    except (PairGenError, ValueError) as e:
        raise _fail(str(e)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    write_pairs(out, result.pairs)
    try:
        load_pairs(out)
    except PairFileError as e:  # should not happen: every pair was validated; say so rather than hide it
        raise _fail(f"generated file failed validation: {e}") from None
    console = Console()
    t = Table(title=f"pairs for: {task[:60]}", show_header=False)
    t.add_row("written", f"{len(result.pairs)} pairs to {out}")
    if result.dropped:
        t.add_row("dropped", ", ".join(f"{k}: {v}" for k, v in result.dropped.most_common()))
    t.add_row("limits", f"each field under {MAX_WORDS} words; prompts deduplicated")
    t.add_row("cost", f"{_usd(result.cost_usd)} ({result.requests} requests)")
    if result.stopped:
        t.add_row("stopped early", result.stopped)
    console.print(t)

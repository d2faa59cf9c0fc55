"""Grading benchmark: what the cost levers and the concurrent path buy, measured against the local server.

Grades N outputs (default 500, a share of them repeats) with the real anthropic client against
tests/support/anthropic_server.py running in its own process with injected latency, and prints, from one run:

  1. dollars with all levers (prompt cache + Message Batches + grade cache for repeats) divided by
     dollars for naive one-by-one calls (same model, same prompt, no caching, no batch);  target <= 0.15
  2. throughput (API calls per second) concurrent (AsyncAnthropic + Semaphore) divided by
     sequential one-by-one calls;                                                        target >= 20x
  3. GRPO-shaped grading, group vs per-item: P prompts x G completions (G = 4 and 8) graded one request per
     completion (ClaudeJudge) and one request per prompt's group (GroupJudge), same rubric and calibration
     prefix, both online with the prompt cache: dollars per completion, requests and wall time side by side.

Dollars come from the usage fields the server returns (its prompt-cache simulation follows the documented
rules: prefix >= the model's minimum, write on first sight, read after). Against the real API, cache hits
inside a batch are best-effort, so the real batch figure can be somewhat higher. Nothing is hard-coded.

    python bench/grading.py [--n 500] [--latency 0.25] [--concurrency 64] [--repeat-share 0.2]
                            [--sequential-sample 100] [--group-prompts 40] [--group-sizes 4,8]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rl_agent.kit.dataio.pairs import bundled_pairs_path  # noqa: E402
from rl_agent.kit.judges.base import Grade, GradeItem  # noqa: E402
from rl_agent.kit.judges.claude import ClaudeJudge  # noqa: E402
from rl_agent.kit.judges.engine import Call  # noqa: E402
from rl_agent.kit.judges.group import GroupJudge  # noqa: E402
from rl_agent.kit.judges.prompts import grader_item  # noqa: E402

FAKE_KEY = "sk-ant-bench-not-a-real-key"


def make_items(n: int, repeat_share: float, seed: int = 0) -> list[GradeItem]:
    """Realistic outputs from the bundled pairs (chosen and rejected answers), made unique, plus repeats."""
    rows = []
    for split in ("train", "heldout"):
        for line in bundled_pairs_path(split).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    rng = random.Random(seed)
    n_unique = max(1, round(n * (1 - repeat_share)))
    unique = []
    for i in range(n_unique):
        row = rows[i % len(rows)]
        answer = row["chosen"] if (i // len(rows)) % 2 == 0 else row["rejected"]
        unique.append(GradeItem(row["prompt"], answer if i < 2 * len(rows) else f"{answer} (variant {i})"))
    repeats = [rng.choice(unique) for _ in range(n - n_unique)]
    items = unique + repeats
    rng.shuffle(items)
    return items


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "support" / "anthropic_server.py"),
            "--port",
            "0",
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url = proc.stdout.readline().strip()
    if not base_url.startswith("http://"):
        proc.kill()
        raise SystemExit(f"test server did not start: {base_url!r}")
    return proc, base_url


def one_by_one(judge: ClaudeJudge, items: list[GradeItem]) -> list[Grade]:
    """Every output in its own request, repeats included: each call gets a distinct key, so nothing is
    de-duplicated (the judge has no grade cache and prompt caching off)."""
    calls = [Call(f"naive-{i}", grader_item(it.prompt, it.output, it.reference)) for i, it in enumerate(items)]
    results = judge.engine.run(calls)
    return [results[c.key] for c in calls]


def make_groups(n_prompts: int, size: int) -> list[list[GradeItem]]:
    """`n_prompts` bundled prompts, each with `size` distinct completions (its chosen and rejected answers and
    variants of them), as a GRPO step would hand them to the reward."""
    rows = [json.loads(x) for x in bundled_pairs_path("train").read_text(encoding="utf-8").splitlines() if x.strip()]
    groups = []
    for row in rows[:n_prompts]:
        base = [row["chosen"], row["rejected"]]
        outs = [base[k % 2] if k < 2 else f"{base[k % 2]} (take {k // 2})" for k in range(size)]
        groups.append([GradeItem(row["prompt"], o) for o in outs])
    return groups


def group_vs_item(common: dict, n_prompts: int, sizes: list[int], concurrency: int) -> list[str]:
    """Rows comparing per-item and group grading of the same GRPO-shaped batch, one pair of rows per G."""
    lines = []
    for size in sizes:
        groups = make_groups(n_prompts, size)
        flat = [it for g in groups for it in g]
        item = ClaudeJudge(concurrency=concurrency, **common)
        g_item, t_item = timed(lambda: item.grade_many(flat))
        group = GroupJudge(calibration=True, concurrency=concurrency, **common)
        g_group, t_group = timed(lambda: group.grade_groups(groups))
        n = len(flat)
        for name, judge, secs, grades in (
            ("per-item", item, t_item, g_item),
            ("group", group, t_group, [x for g in g_group for x in g]),
        ):
            s = judge.stats.as_dict()
            hits = "-" if s["prompt_cache_hit_rate"] is None else f"{s['prompt_cache_hit_rate']:.0%}"
            lines.append(
                f"G={size:<2} {name:<9} {n:>4} completions  ${s['cost_usd'] / n:.6f}/completion  "
                f"{s['requests']:>4} requests  {secs:>6.2f}s wall  failures {sum(not g.ok for g in grades)}  "
                f"prompt-cache hits {hits}"
            )
        ratio = group.stats.cost_usd / item.stats.cost_usd
        same = [a.score for a in g_item] == [x.score for g in g_group for x in g]  # the scripted grader is by text
        lines.append(
            f"G={size:<2} group / per-item: dollars {ratio:.3f}, requests "
            f"{group.stats.requests / item.stats.requests:.3f}, wall {t_group / t_item:.3f}; "
            f"same scores: {same}"
        )
    return lines


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description="grading cost/throughput benchmark against the local server")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument(
        "--latency",
        type=float,
        default=0.25,
        help="seconds the server waits per Messages call (real Haiku grading calls take longer)",
    )
    ap.add_argument(
        "--sequential-sample",
        type=int,
        default=100,
        help="unique outputs graded one at a time for the sequential rate (0: all)",
    )
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--repeat-share", type=float, default=0.2, help="share of outputs that repeat earlier ones")
    ap.add_argument("--model", default="claude-haiku-4-5")
    ap.add_argument("--group-prompts", type=int, default=40, help="prompts in the group-vs-per-item comparison")
    ap.add_argument("--group-sizes", default="4,8", help="completions per prompt (GRPO's num_generations)")
    args = ap.parse_args()

    items = make_items(args.n, args.repeat_share)
    n_unique = len({(i.prompt, i.output) for i in items})
    proc, base_url = start_server(args.latency)
    common = dict(api_key=FAKE_KEY, base_url=base_url, model=args.model, timeout=30.0, max_retries=2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # naive dollars: one call per output (repeats included), no prompt caching, no grade cache, no batch
            naive = ClaudeJudge(prompt_cache=False, concurrency=args.concurrency, **common)
            g_naive, t_naive = timed(lambda: one_by_one(naive, items))
            # throughput: sequential (one request at a time) on a sample, concurrent on everything; both
            # without any caching. Sequential time is latency-bound and linear in the item count.
            unique = list(dict.fromkeys(items))
            sample = unique[: args.sequential_sample] if args.sequential_sample else unique
            seq = ClaudeJudge(prompt_cache=False, concurrency=1, **common)
            g_seq, t_seq = timed(lambda: seq.grade_many(sample))
            conc = ClaudeJudge(prompt_cache=False, concurrency=args.concurrency, **common)
            g_conc, t_conc = timed(lambda: conc.grade_many(unique))
            # all levers: prompt cache on the rubric+calibration prefix, Message Batches, grade cache
            levers = ClaudeJudge(cache=Path(tmp) / "grades.sqlite3", poll_interval=0.2, **common)
            g_lev, t_lev = timed(lambda: levers.grade_batch(items))
            # informative: the online path with prompt cache + grade cache (what GRPO reward calls use)
            online = ClaudeJudge(cache=Path(tmp) / "online.sqlite3", concurrency=args.concurrency, **common)
            g_onl, t_onl = timed(lambda: online.grade_many(items))
            sizes = [int(x) for x in args.group_sizes.split(",") if x.strip()]
            grouped = group_vs_item(common, args.group_prompts, sizes, args.concurrency)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    def row(name: str, judge: ClaudeJudge, seconds: float, grades) -> str:  # type: ignore[no-untyped-def]
        s = judge.stats.as_dict()
        rate = s["prompt_cache_hit_rate"]
        return (
            f"{name:<40} ${s['cost_usd']:>8.4f}  {s['requests']:>4} API calls  {seconds:>6.2f}s  "
            f"{len(grades) / seconds:>6.1f} items/s  repeats not re-paid {s['grade_cache_hits'] + s['duplicates']:>3}  "
            f"prompt-cache hits {'-' if rate is None else f'{rate:.0%}'}  failures {sum(not g.ok for g in grades)}"
        )

    print(
        f"{args.n} outputs ({n_unique} unique), model {args.model}, server latency {args.latency}s, "
        f"concurrency {args.concurrency}"
    )
    print(f"prefix: {levers.cache_note}")
    print(row("naive (one call per output, no caching)", naive, t_naive, g_naive))
    print(row(f"sequential (no caching, {len(sample)} outputs)", seq, t_seq, g_seq))
    print(row("concurrent (no caching)", conc, t_conc, g_conc))
    print(row("all levers (cache+batch+grade cache)", levers, t_lev, g_lev))
    print(row("online levers (cache+grade cache)", online, t_onl, g_onl))
    cost_ratio = levers.stats.cost_usd / naive.stats.cost_usd
    speedup = (len(unique) / t_conc) / (len(sample) / t_seq)  # unique outputs graded per second
    same = all(a.score == b.score for a, b in zip(g_naive, g_lev))  # the levers must not change grades
    print(
        f"\ncost ratio, all levers / naive:            {cost_ratio:.3f}  (target <= 0.15)  "
        f"{'PASS' if cost_ratio <= 0.15 else 'MISS'}"
    )
    print(
        f"  without batches (online cache + grade cache) / naive: {online.stats.cost_usd / naive.stats.cost_usd:.3f}"
        "  (prompt-cache hits inside real batches are best-effort; this figure does not rely on them)"
    )
    print(
        f"throughput ratio, concurrent / sequential: {speedup:.1f}x  (target >= 20x)  "
        f"{'PASS' if speedup >= 20 else 'MISS'}"
    )
    print(f"same scores with and without levers: {same}")
    print(
        f"\nGRPO-shaped grading, {args.group_prompts} prompts x G completions, online with the prompt cache "
        "(no grade cache):"
    )
    for line in grouped:
        print(line)


if __name__ == "__main__":
    main()

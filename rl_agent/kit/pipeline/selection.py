"""Checkpoint selection: keep the best saved checkpoint on validation, not simply the last.

Why: a schedule that is right for one model over-trains another; somewhere along the way the task check has
risen and correctness has not yet fallen. Every checkpoint is scored on the validation prompts (carved from the
training side, dataio/validation.py) by the evaluation script's `--select` mode, the task check scores those
answers here, and the verdict's own rules (verdict.verdict_checks) are applied to each checkpoint against the
base model on the same prompts. The kept checkpoint is the one passing most rules, then with the best main
figure, then the best correctness; the earliest on ties. Its adapter becomes the run's adapter/. The held-out
test prompts are not read here: the before/after and the verdict judge the kept checkpoint on them afterwards.

Why the earliest on ties: it is the Trainer's own rule (load_best_model_at_end moves to a checkpoint only on a
strictly better metric), and equal figures on a small validation set say nothing either way. Measured both ways:
the offline demo (100 steps) keeps checkpoint 20 and answers 31 of 31 test prompts right, where the latest of
equals (checkpoint 100) answers 30; the terse fault runs (30 steps at 2e-3) answer 10 of 12 at checkpoint 15 and
12 of 12 at 30. Neither rule wins on evidence, so the kit keeps the convention.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.validation import VALIDATION_FILE
from rl_agent.kit.pipeline.run_folder import write_json_atomic
from rl_agent.kit.pipeline.verdict import verdict_checks
from rl_agent.kit.planning.check_kinds import PROGRAM, score
from rl_agent.runtime.check_runner import CheckItem, CheckPathError, CheckRunError

VALIDATION_OUTPUT = "validation.json"  # written by `evaluate.py --select`
SELECTION_FILE = "selection.json"
VALIDATION_PLOT = "validation.png"
ADAPTER_FILES = ("adapter_model.safetensors", "adapter_config.json")
CHECK_KEY = "task_check"  # verdict.TASK_CHECK.key
# On validation, correctness must not fall at all (the test verdict allows 0.05): picking the best of several
# checkpoints on a few dozen prompts flatters the one picked, so the choice asks for a margin the test then has.
VALIDATION_CORRECT_TOLERANCE = 0.0
SHARED_RULES = ("correct", "answers stop", "no template debris")  # the rules every verdict has (verdict.py)
SELECTING_EVAL = "evaluate.py.j2"  # the shared evaluation, whose --select mode scores checkpoints


class SelectionError(RlAgentError, RuntimeError):
    """Checkpoints could not be scored on validation; the message names what is missing."""


@dataclass
class Candidate:
    """One checkpoint's figures on validation and the verdict's rules on them."""

    step: int
    path: str
    figures: dict  # the evaluation's figures (no samples), plus task_check when the task has one
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [k for k, v in self.checks.items() if not v]


@dataclass
class Selection:
    """What was kept and why; selection.json, read by the report and by the tuner (agent/repair/tuning.py)."""

    kept_step: int | None
    passed: bool
    reason: str
    base: dict
    candidates: list[Candidate] = field(default_factory=list)
    validation_rows: int = 0
    seconds: float = 0.0

    @property
    def kept(self) -> Candidate | None:
        return next((c for c in self.candidates if c.step == self.kept_step), None)

    def to_dict(self) -> dict:
        return {**asdict(self), "kept": asdict(self.kept) if self.kept else None}

    @classmethod
    def from_dict(cls, data: dict) -> "Selection":
        cands = [Candidate(**c) for c in data.get("candidates", [])]
        return cls(
            data["kept_step"],
            data["passed"],
            data["reason"],
            data.get("base", {}),
            cands,
            data.get("validation_rows", 0),
            data.get("seconds", 0.0),
        )


def supports_selection(track) -> bool:
    """Tracks evaluated by the shared evaluation script (DPO, KTO, SFT) score their checkpoints on validation."""
    return track.eval_template == SELECTING_EVAL


def read_selection(root: Path) -> Selection | None:
    path = Path(root) / SELECTION_FILE
    if not path.is_file():
        return None
    return Selection.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _strip(side: dict) -> dict:
    return {k: v for k, v in side.items() if k != "samples"}


def _check_rates(root: Path, spec, sides: list[dict]) -> list[float] | None:
    """The task check's pass rate on each side's answers, in one sandboxed call (None: no program check)."""
    if not spec.check_file or spec.check_kind != PROGRAM:
        return None
    items = [CheckItem(s["prompt"], s["output"], None) for side in sides for s in side["samples"]]
    refs = [
        json.loads(ln).get("reference")
        for ln in (root / VALIDATION_FILE).read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    n = len(sides[0]["samples"])
    items = [CheckItem(it.prompt, it.output, refs[i % n] if refs else None) for i, it in enumerate(items)]
    try:
        scores = score(root, spec.check_file, items, PROGRAM).scores
    except (CheckRunError, CheckPathError) as e:
        raise SelectionError(f"the task check could not score the validation answers: {e}") from None
    rates = []
    for k in range(len(sides)):
        part = [x for x in scores[k * n : (k + 1) * n] if x is not None]
        rates.append(sum(x >= 0.9 for x in part) / len(part) if part else 0.0)
    return rates


def rank_key(c: Candidate, main: str) -> tuple:
    """More rules passed, then the main figure, then correctness (higher is better in each)."""
    value = c.figures.get(main)
    correct = c.figures.get("correct")
    return (
        sum(c.checks.values()),
        value if isinstance(value, (int, float)) else 0.0,
        correct if correct is not None else 0.0,
    )


def choose(candidates: list[Candidate], main: str) -> Candidate:
    """The best candidate by rank_key; the earliest step among equals."""
    best = None
    for c in sorted(candidates, key=lambda c: c.step):
        if best is None or rank_key(c, main) > rank_key(best, main):
            best = c
    return best


def evaluate_candidates(root: Path, spec, track, validation: dict) -> tuple[dict, list[Candidate], str]:
    """(base figures, every checkpoint as a Candidate with the verdict's rules, the main figure's key)."""

    sides = [validation["base"]] + [c["figures"] for c in validation["checkpoints"]]
    rates = _check_rates(root, spec, sides)
    base = track.clean_side(_strip(validation["base"]))
    if rates is not None:
        base[CHECK_KEY] = rates[0]
    main = CHECK_KEY if rates is not None else "judge_score"
    out = []
    for i, c in enumerate(validation["checkpoints"]):
        figs = track.clean_side(_strip(c["figures"]))
        if rates is not None:
            figs[CHECK_KEY] = rates[i + 1]
        report = {"before": dict(base), "after": figs, "model_source": spec.model_source}
        if figs.get("pref_accuracy") is None:  # no pairs on validation: rules on preference cannot be judged there
            report["after"] = {**figs, "pref_accuracy": 1.0}
        checks = verdict_checks(
            track, spec, report, c["figures"], has_check=rates is not None, tolerance=VALIDATION_CORRECT_TOLERANCE
        )
        if figs.get("pref_accuracy") is None:
            checks = {k: v for k, v in checks.items() if not k.startswith("pref_accuracy")}
        if spec.check_file and rates is None:  # a judged check (Claude) is not run per checkpoint: its other rules
            checks = {k: v for k, v in checks.items() if k.startswith(SHARED_RULES)}
        out.append(Candidate(c["step"], c["path"], figs, checks))
    return base, out, main


def select(root: Path, spec, track, validation: dict) -> Selection:
    """Choose among the scored checkpoints, copy the kept one's adapter into adapter/, write selection.json."""
    root = Path(root)
    base, candidates, main = evaluate_candidates(root, spec, track, validation)
    if not candidates:
        raise SelectionError("no checkpoint was scored on validation")
    kept = choose(candidates, main)
    last = max(c.step for c in candidates)
    if kept.passed:
        reason = (
            f"checkpoint {kept.step} passes every rule of the verdict on validation"
            + ("" if kept.step == last else f" with the best {main} (later checkpoints: no better)")
            + (
                "; the earliest of equals"
                if any(c.step > kept.step and rank_key(c, main) == rank_key(kept, main) for c in candidates)
                else ""
            )
        )
    else:
        reason = (
            f"no checkpoint passes every rule on validation; checkpoint {kept.step} comes closest (fails: "
            f"{'; '.join(kept.failed)})"
        )
    sel = Selection(
        kept.step,
        kept.passed,
        reason,
        base,
        candidates,
        len(validation["base"]["samples"]),
        round(validation.get("seconds", 0.0), 1),
    )
    adapter = root / "adapter"
    for name in ADAPTER_FILES:
        src = root / kept.path / name
        if not src.is_file():
            raise SelectionError(f"{src}: the kept checkpoint has no {name}")
        adapter.mkdir(exist_ok=True)
        shutil.copyfile(src, adapter / name)
    write_json_atomic(root / SELECTION_FILE, sel.to_dict())
    plot_curves(sel, root / VALIDATION_PLOT)
    return sel


CURVE_KEYS = (CHECK_KEY, "correct", "judge_score", "pref_accuracy")


def plot_curves(sel: Selection, png: Path) -> None:
    """Each figure on validation per checkpoint, the kept one marked (skipped quietly without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    steps = [c.step for c in sel.candidates]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    for key in CURVE_KEYS:
        values = [c.figures.get(key) for c in sel.candidates]
        if all(isinstance(v, (int, float)) for v in values):
            ax.plot(steps, values, marker=".", label=key)
    if sel.kept_step is not None:
        ax.axvline(sel.kept_step, color="grey", linestyle="--", label=f"kept: {sel.kept_step}")
    ax.set_xlabel("step")
    ax.set_ylabel("validation")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Checkpoints on validation")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def selection_table(sel: Selection) -> list[str]:
    """Markdown: each checkpoint's validation figures, the rules it fails, the kept one marked."""
    keys = [k for k in CURVE_KEYS if any(isinstance(c.figures.get(k), (int, float)) for c in sel.candidates)]
    keys += ["hedge_count"] if any("hedge_count" in c.figures for c in sel.candidates) else []
    lines = [
        "| checkpoint | " + " | ".join(keys) + " | verdict rules on validation |",
        "|---|" + "---|" * len(keys) + "---|",
        "| base | " + " | ".join(_fmt(sel.base.get(k)) for k in keys) + " | |",
    ]
    for c in sel.candidates:
        mark = " **(kept)**" if c.step == sel.kept_step else ""
        rules = "all pass" if c.passed else "fails: " + "; ".join(c.failed)
        lines.append(f"| {c.step}{mark} | " + " | ".join(_fmt(c.figures.get(k)) for k in keys) + f" | {rules} |")
    return lines


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def report_fields(sel: Selection, root: Path) -> dict:
    """What report.json carries about the selection (the kept checkpoint, why, and every checkpoint's figures)."""
    return {
        "plot": VALIDATION_PLOT if (Path(root) / VALIDATION_PLOT).is_file() else None,
        "kept_step": sel.kept_step,
        "passed_on_validation": sel.passed,
        "reason": sel.reason,
        "validation_rows": sel.validation_rows,
        "seconds": sel.seconds,
        "base": sel.base,
        "checkpoints": [{"step": c.step, "figures": c.figures, "checks": c.checks} for c in sel.candidates],
        "table": selection_table(sel),
    }


def markdown_section(report: dict) -> list[str]:
    """The report's section: which checkpoint was kept and why, each figure per checkpoint on validation, and
    the kept checkpoint's validation figures beside its test figures (the verdict is the test's)."""
    sel = report.get("selection")
    if not sel:
        return []
    kept = next((c for c in sel["checkpoints"] if c["step"] == sel["kept_step"]), None)
    lines = [
        "## Checkpoint selection (validation split)",
        "",
        f"Every saved checkpoint was scored on {sel['validation_rows']} validation prompts (taken from the "
        f"training side; never trained on, not the test prompts) in {sel['seconds']:.0f} s. Kept: "
        f"**checkpoint {sel['kept_step']}**, because {sel['reason']}.",
        "",
        *sel["table"],
        "",
    ]
    if kept:
        after = report.get("after", {})
        keys = [k for k in CURVE_KEYS + ("hedge_count",) if k in kept["figures"] or k in after]
        lines += ["| figure | kept checkpoint on validation | on held-out test (the verdict's) |", "|---|---|---|"]
        lines += [f"| {k} | {_fmt(kept['figures'].get(k))} | {_fmt(after.get(k))} |" for k in keys]
        lines += [""]
    if sel.get("plot"):
        lines += [f"![validation per checkpoint]({sel['plot']})", ""]
    return lines

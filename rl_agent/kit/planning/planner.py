"""The rule-based planner: a plain-English task -> a TaskSpec, for the task families the kit ships offline.

Families it covers without Claude:
- style (terse, direct, no hedging): DPO on the bundled terse pairs, judged by the offline terse judge;
- output format (JSON answers, a fixed prefix, all caps): DPO on pairs made by rule from the bundled
  prompts (the formatted answer is chosen, the plain one rejected), checked by a regex;
- checkable short answers: GRPO rewarded by the kit's verifier program (helper track: GRPO).
Anything else needs Claude (to write pairs or judge answers) and is refused with one clear message.

Why rules and not a model: offline there is no model that could plan, and a refusal that names what is
missing is better than a run that trains on data unrelated to the task. The user's text is only ever
data here: it is stored in the spec, and the one piece taken from it (a format prefix) goes into JSON
data files and an escaped regex, never into code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Literal

from rl_agent.kit.dataio.pairs import bundled_pairs_path, load_pairs
from rl_agent.kit.tracks.dpo import DPOSettings
from rl_agent.kit.planning.task_spec import (
    TASK_MAX_CHARS,
    DataPlan,
    HeldoutPlan,
    ModelPlan,
    RewardPlan,
    SuccessPlan,
    TaskSpec,
)

SHORT_ANSWER_VERIFIER = "python:rl_agent.kit.tracks.grpo_verifiers:short_answer"
GENERATED_TRAIN = "pairs/train.jsonl"
GENERATED_HELDOUT = "pairs/heldout.jsonl"
PREFIX_MAX_CHARS = 40
FORMAT_EMBEDDED_DPO = {"learning_rate": 2e-3, "steps": 120, "save_steps": 40}

FAMILIES_TEXT = ("terse/direct answers (bundled pairs), strict output formats (JSON answers, a fixed prefix, all "
                 "caps) and checkable short answers (verifier program)")


class PlanRefused(ValueError):
    """The offline planner cannot plan this task; the message says why and what would make it possible."""

    def __init__(self, message: str, needs: list[str]):
        super().__init__(message)
        self.needs = needs


@dataclass(frozen=True)
class ModelChoice:
    name: str = "embedded:tiny-qwen3"
    source: Literal["embedded", "hub", "local"] = "embedded"
    reason: str = "offline: the embedded tiny Qwen3"
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"


@dataclass
class Plan:
    """A TaskSpec plus the data files it needs written into the run folder (relative path -> JSONL rows)."""

    spec: TaskSpec
    files: dict[str, list[dict]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# ---- reading the task -------------------------------------------------------------------------------------

_TERSE = re.compile(
    r"\b(terse\w*|concise\w*|brief\w*|succinct\w*|to the point|direct(ly)?|blunt\w*|straight(forward)? answers?|"
    r"short(er)? (answers?|replies|responses)|no (hedg\w*|filler)|without (hedg\w*|filler)|hedg\w*|filler|"
    r"fewer words|less verbose|no fluff)\b"
)
_OPPOSITE = re.compile(
    r"(\bnot|n't|\bnever|\bless|\bstop being|\bavoid being|\binstead of being)\s+(\w+\s+){0,2}?(terse|concise|brief|"
    r"succinct|short|direct|blunt)\b|\b(more (detail|detailed|verbose|elaborate|thorough)|verbose|longer|"
    r"elaborate|in (depth|detail)|step[- ]by[- ]step)\b"
)
_CHECKABLE = re.compile(
    r"\b(verif\w+|checkable|check(ed)? (by|with) a program|reference answers?|exact(ly)? (answers?|match\w*)|"
    r"correct(ly)?|accura\w+|right answers?|rlvr|bare (short )?answers?|short[- ]answer format)\b"
)


@dataclass(frozen=True)
class FormatRecipe:
    """A strict output format the kit can teach offline: how to format an answer, and the regex checking it."""

    name: str
    describe: str
    make: Callable[[str], str]
    regex: str


def _json_recipe() -> FormatRecipe:
    return FormatRecipe("json", 'a JSON object {"answer": ...}', lambda a: json.dumps({"answer": a}),
                        r'\{"answer": ".+"\}')


def _upper_recipe() -> FormatRecipe:
    return FormatRecipe("uppercase", "all capital letters", lambda a: a.upper(), r"[^a-z]+")


def _prefix_recipe(prefix: str) -> FormatRecipe:
    return FormatRecipe("prefix", f"every answer starts with {prefix!r}", lambda a: f"{prefix} {a}",
                        re.escape(prefix) + r" .+")


_PREFIX = re.compile(
    r"\b(?:start|begin|prefix|open)\w*\s+(?:\w+\s+){0,3}?with\s+(?:the\s+(?:word|text|phrase)\s+)?"
    r"([\"'\u201c\u2018`])(?P<prefix>[^\"'\u201d\u2019`\n]{1,%d})[\"'\u201d\u2019`]" % PREFIX_MAX_CHARS,
    re.IGNORECASE,
)


def _format_recipe(text: str, low: str) -> FormatRecipe | None:
    m = _PREFIX.search(text)
    if m:
        prefix = " ".join(m.group("prefix").split())
        if prefix and all(ch.isprintable() for ch in prefix):
            return _prefix_recipe(prefix)
    if re.search(r"\bjson\b", low):
        return _json_recipe()
    if re.search(r"\b(all[- ]caps|upper[- ]?case|capital letters|in capitals)\b", low):
        return _upper_recipe()
    return None


def summarise(task: str, limit: int = 120) -> str:
    """The task as one printable line, for titles and reports (the full text stays in `task`)."""
    text = " ".join(task.split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def classify(task: str) -> tuple[str, FormatRecipe | None]:
    """(family, format recipe) for the task text: style | format | checkable | open."""
    low = unicodedata.normalize("NFKC", task).lower().replace("\u2019", "'")
    recipe = _format_recipe(task, low)
    if recipe:
        return "format", recipe
    if _OPPOSITE.search(low):
        return "open", None
    if _CHECKABLE.search(low):
        return "checkable", None
    if _TERSE.search(low):
        return "style", None
    return "open", None


# ---- planning ---------------------------------------------------------------------------------------------

def plan_task(
    task: str,
    *,
    model: ModelChoice | None = None,
    steps: int | None = None,
    grpo_available: bool = False,
    dpo_overrides: dict | None = None,
) -> Plan:
    """Plan `task`, or raise PlanRefused saying plainly what it needs (Claude, or the GRPO track)."""
    if not task or not task.strip():
        raise PlanRefused("the task is empty: describe in plain English what the model should do better", [])
    if len(task) > TASK_MAX_CHARS:
        raise PlanRefused(f"the task text is {len(task)} characters; keep it under {TASK_MAX_CHARS} (put examples "
                          "in a pairs file instead)", [])
    model = model or ModelChoice()
    family, recipe = classify(task)
    summary = summarise(task)
    dpo = DPOSettings.for_model(model.source, model.device)
    if steps:
        dpo.steps = steps
        dpo.save_steps = min(dpo.save_steps, max(1, steps // 2))
    if dpo_overrides:
        dpo = DPOSettings.model_validate({**dpo.model_dump(), **dpo_overrides})
    common = dict(task=task, summary=summary, model=ModelPlan(name=model.name, source=model.source,
                                                            reason=model.reason),
                  device=model.device, precision=model.precision, dpo=dpo)
    if family == "style":
        return _plan_terse(common)
    if family == "format":
        assert recipe is not None
        if model.source == "embedded" and not steps and not dpo_overrides:
            # New tokens to learn (braces, quotes, capitals): measured on the embedded model, JSON answers
            # need about 120 steps at 2e-3 (at 40 steps and 5e-4 the format rate stays near 0).
            common["dpo"] = DPOSettings.model_validate({**dpo.model_dump(), **FORMAT_EMBEDDED_DPO})
        return _plan_format(common, recipe)
    if family == "checkable":
        return _plan_checkable(common, model, steps, grpo_available)
    raise PlanRefused(
        f"the offline planner covers {FAMILIES_TEXT}; {summary!r} is none of these, so planning it needs "
        "Claude (to write preference pairs or to judge answers). Set ANTHROPIC_API_KEY and run without --offline.",
        ["claude"],
    )


def _plan_terse(common: dict) -> Plan:
    held = load_pairs(bundled_pairs_path("heldout"))
    spec = TaskSpec(
        family="style",
        algorithm="dpo",
        algorithm_reason="preference pairs exist (bundled terse/hedging pairs), so DPO learns the style offline",
        reward=RewardPlan(source="verifier", judge="terse",
                          reason="directness is checkable by a program: the offline terse-style judge counts "
                                 "hedges, filler and words"),
        rubric=["answers the question directly", "no hedging (I think, probably, maybe...)",
                "no filler openers or closers (Great question!, I hope this helps)", "as few words as needed"],
        data=DataPlan(origin="bundled", train_file="bundled:terse/train",
                      notes="prompt/chosen/rejected pairs: chosen is the terse answer, rejected the hedging one"),
        heldout=HeldoutPlan(file="bundled:terse/heldout", size=len(held)),
        success=SuccessPlan(description="held-out preference accuracy reaches the bar, the terse judge score "
                                        "rises and hedges fall, and tuned answers end on their own"),
        **common,
    )
    return Plan(spec)


def _plan_format(common: dict, recipe: FormatRecipe) -> Plan:
    rx = re.compile(recipe.regex)

    def pairs(split: str) -> list[dict]:
        """The bundled prompts, formatted answer chosen over the plain one; answers already in the format
        (e.g. "42." for all caps) teach nothing and are left out."""
        return [{"prompt": p.prompt, "chosen": recipe.make(p.chosen), "rejected": p.chosen}
                for p in load_pairs(bundled_pairs_path(split)) if not rx.fullmatch(p.chosen)]

    files = {GENERATED_TRAIN: pairs("train"), GENERATED_HELDOUT: pairs("heldout")}
    held = files[GENERATED_HELDOUT]
    spec = TaskSpec(
        family="format",
        algorithm="dpo",
        algorithm_reason="pairs can be generated by rule (the formatted answer is chosen, the plain one rejected)",
        reward=RewardPlan(source="verifier", judge=f"regex:{recipe.regex}",
                          reason=f"the format ({recipe.describe}) is checkable by a regex"),
        rubric=[f"the whole answer is {recipe.describe}", "the content is still the right short answer"],
        data=DataPlan(origin="rule-generated", train_file=GENERATED_TRAIN,
                      notes=f"the bundled prompts with answers rewritten as {recipe.describe}"),
        heldout=HeldoutPlan(file=GENERATED_HELDOUT, size=len(held)),
        success=SuccessPlan(format_regex=recipe.regex, min_format_rate=0.8,
                            description=f"held-out preference accuracy reaches the bar and at least 80% of tuned "
                                        f"answers are {recipe.describe}"),
        **common,
    )
    return Plan(spec, files)


def _plan_checkable(common: dict, model: ModelChoice, steps: int | None, grpo_available: bool) -> Plan:
    from rl_agent.kit.tracks.grpo_setup import grpo_settings

    grpo = grpo_settings(model.source, model.device, reward=SHORT_ANSWER_VERIFIER, max_cost=None, steps=steps)
    held_path = bundled_pairs_path("heldout").parent.parent / "short_answer" / "heldout.jsonl"
    size = sum(1 for line in held_path.read_text(encoding="utf-8").splitlines() if line.strip())
    spec = TaskSpec(
        family="checkable",
        algorithm="grpo",
        algorithm_reason="a program can check each answer, so online RL (GRPO) can reward the model directly",
        reward=RewardPlan(source="verifier", judge=SHORT_ANSWER_VERIFIER,
                          reason="the short-answer verifier checks the strict format: 1-3 words, capitalised, "
                                 "one final period"),
        rubric=["the bare answer only: one to three words", "starts with a capital letter or a digit",
                "ends in exactly one period"],
        data=DataPlan(origin="bundled", train_file="bundled:short_answer/train",
                      notes="prompts with reference answers; GRPO samples answers and the verifier scores them"),
        heldout=HeldoutPlan(file="bundled:short_answer/heldout", size=size),
        success=SuccessPlan(description=f"the verifier's pass rate on held-out prompts rises, and the held-out "
                                        f"judge ({grpo.heldout_judge}) training never optimised does not fall"),
        grpo=grpo,
        needs=[] if grpo_available else ["grpo"],
        **common,
    )
    return Plan(spec)


def write_plan_files(plan: Plan, run_dir) -> None:
    """Write the plan's generated data files into the run folder (never outside it)."""
    from pathlib import Path

    root = Path(run_dir).resolve()
    for rel, rows in plan.files.items():
        dest = (root / rel).resolve()
        if root not in dest.parents:
            raise ValueError(f"refusing to write {rel} outside the run folder {root}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(dest)

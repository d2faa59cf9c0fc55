"""The tools Claude writes a task folder with (planning/contract.py), for a task given in words.

Why these tools: they write exactly the task folder a recipe writes (check.py or a judge's rubric.md,
data/train.jsonl and data/heldout.jsonl, examples.jsonl, and task.json with the check in plain words) and
nothing else, at fixed names inside the run folder; they validate what they write the way the run will read
it (the check contract, the track's own data loaders and overlap check); and `finish`, which writes
task.json, is accepted only once `prove_check` passed on the files as they are now. Check programs run only in the sandbox (check_runner: own process, limits, no
API key); a judged check is scored by the Claude grader in this process. Text carrying the API key is
refused, every result is redacted, and each call is logged to authoring.jsonl in the run folder (calls the
session's path guard refuses too, marked refused_by "path guard").
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rl_agent.agent.claude.sdk_tools import (
    SERVER_NAME,
    ToolRefused,
    ToolResult,
    inside,
    mcp_server,
    redact,
    secrets_in_env,
    tool_names,
)
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import validate_data
from rl_agent.kit.planning.authored import JUDGED_ALGORITHMS
from rl_agent.kit.planning.check_kinds import JUDGE, PROGRAM, CheckKind, prove, read_examples
from rl_agent.kit.planning.contract import (
    ALGORITHMS,
    CHECK_FILE,
    EXAMPLES_FILE,
    HELDOUT_FILE,
    RUBRIC_FILE,
    TASK_FILE,
    TRAIN_FILE,
    TaskMeta,
    check_source_problem,
    meta_text,
)
from rl_agent.kit.planning.recipes.proof import MIN_EXAMPLES
from rl_agent.kit.spec import RunSpec
from rl_agent.runtime.check_runner import CheckItem, CheckPathError, CheckRunError

AUTHOR_LOG = "authoring.jsonl"
MAX_TEXT_CHARS = 40_000
MAX_STATEMENT_CHARS = 600


@dataclass
class AuthorTools:
    """Plain (synchronous) authoring tools on one run folder; `author_server` adapts them for the SDK."""

    run_dir: Path
    task: str
    kind: CheckKind | None = None
    algorithm: str | None = None
    statement: str | None = None
    proven: str | None = None  # fingerprint of the check and examples the last passing proof ran on
    last_proof: str = ""  # the last proof's message (a failing one names every example it got wrong)
    finished: bool = False
    calls: int = 0

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)

    # ---- writing --------------------------------------------------------------------------------------
    def write_check(self, code: str) -> ToolResult:
        """check.py: must compile and define check(prompt, output, reference=None) at its top level."""
        code = self._text(code, "code")
        problem = check_source_problem(code)
        if problem:
            raise ToolRefused(f"not written: check.py {problem}")
        self._write(CHECK_FILE, code if code.endswith("\n") else code + "\n")
        self.kind = PROGRAM
        return ToolResult(
            f"wrote check.py ({len(code.splitlines())} lines). Call prove_check to test it on the examples."
        )

    def write_rubric(self, rubric: str) -> ToolResult:
        """rubric.md: the check is then the Claude grader with this rubric (judged tasks)."""
        rubric = self._text(rubric, "rubric").strip()
        if len(rubric.split()) < 10:
            raise ToolRefused("not written: a rubric needs at least 10 words saying what scores 1 and what scores 0")
        self._write(RUBRIC_FILE, rubric + "\n")
        self.kind = JUDGE
        return ToolResult(f"wrote {RUBRIC_FILE}: the check is now the Claude judge with this rubric. Call prove_check.")

    def write_examples(self, good: list, bad: list) -> ToolResult:
        """examples.jsonl: at least 5 answers that do what the task asks and 5 that do not."""
        rows = []
        for kind, items in (("good", good), ("bad", bad)):
            if not isinstance(items, list) or len(items) < MIN_EXAMPLES:
                n = len(items) if isinstance(items, list) else 0
                raise ToolRefused(f"not written: {kind} needs a list of at least {MIN_EXAMPLES} examples, got {n}")
            rows += [{"kind": kind, **_item(f"{kind}[{i}]", it)} for i, it in enumerate(items)]
        self._write(EXAMPLES_FILE, _jsonl(rows))
        return ToolResult(f"wrote {EXAMPLES_FILE}: {len(good)} good, {len(bad)} bad examples")

    def write_data(self, algorithm: str, train: list, heldout: list) -> ToolResult:
        """data/train.jsonl and data/heldout.jsonl, validated by the track's own loaders and overlap check."""
        if algorithm not in ALGORITHMS:
            raise ToolRefused(
                "not written: algorithm must be dpo (preference pairs), grpo (prompts with references), "
                "sft (answers to imitate) or kto (answers labelled good or bad)"
            )
        for name, rows in (("train", train), ("heldout", heldout)):
            if not isinstance(rows, list) or not rows:
                raise ToolRefused(f"not written: {name} must be a non-empty list of objects")
            bad = next((i for i, r in enumerate(rows) if not isinstance(r, dict)), None)
            if bad is not None:
                raise ToolRefused(f"not written: {name}[{bad}] is not an object")
        self._write(TRAIN_FILE, _jsonl(train))
        self._write(HELDOUT_FILE, _jsonl(heldout))
        spec = RunSpec(
            model="authoring check",
            model_source="embedded",
            algorithm=algorithm,
            train_file=str(self.run_dir / TRAIN_FILE),
            heldout_file=str(self.run_dir / HELDOUT_FILE),
        )
        try:
            validate_data(spec)
        except (PairFileError, ValueError) as e:
            self.algorithm = None
            return ToolResult(
                f"data NOT usable: {e} (line n of a file is item n-1 of the list you passed); "
                "fix it and call write_data again",
                ok=False,
            )
        self.algorithm = algorithm
        return ToolResult(
            f"wrote {TRAIN_FILE} ({len(train)} rows) and {HELDOUT_FILE} ({len(heldout)} rows) for "
            f"{algorithm.upper()}; both pass the training pipeline's own checks"
        )

    def write_statement(self, statement: str) -> ToolResult:
        """The check in plain words a person can verify (task.json's statement; shown with the plan and in spec.json)."""
        statement = " ".join(self._text(statement, "statement").split())
        if not 10 <= len(statement) <= MAX_STATEMENT_CHARS:
            raise ToolRefused(f"not written: the statement must be 10 to {MAX_STATEMENT_CHARS} characters")
        self.statement = statement
        return ToolResult("statement recorded")

    # ---- proving and finishing ------------------------------------------------------------------------
    def prove_check(self) -> ToolResult:
        """Run the proof: every good example must score >= 0.9 and every bad one <= 0.1."""
        if self.kind is None:
            raise ToolRefused("write_check (or write_rubric for a judged task) first")
        examples = self.run_dir / EXAMPLES_FILE
        if not examples.is_file():
            raise ToolRefused("write_examples first")
        good, bad = read_examples(examples)
        path = RUBRIC_FILE if self.kind == JUDGE else CHECK_FILE
        try:
            proof = prove(self.run_dir, path, good, bad, self.kind)
        except (CheckRunError, CheckPathError) as e:
            self.proven, self.last_proof = None, f"check NOT proven: {e}"
            return ToolResult(self.last_proof + "\nFix the check and call prove_check again.", ok=False)
        self.last_proof = proof.message()
        self.proven = self._fingerprint() if proof.passed else None
        if proof.passed:
            return ToolResult(self.last_proof)
        return ToolResult(
            self.last_proof + "\nRewrite the check (or a wrong example) and call prove_check again.", ok=False
        )

    def finish(self) -> ToolResult:
        """Accepted only when the proof passed on the current files and the data and statement are written."""
        if self.proven is None or self.proven != self._fingerprint():
            raise ToolRefused(
                "not finished: the check is not proven on the current files; call prove_check until it passes"
            )
        missing = [what for what, ok in (("write_data", self.algorithm), ("write_statement", self.statement)) if not ok]
        if missing:
            raise ToolRefused(f"not finished: call {' and '.join(missing)} first")
        if self.kind == JUDGE and self.algorithm not in JUDGED_ALGORITHMS:
            raise ToolRefused(
                "not finished: a judged check trains with DPO (preference pairs) or GRPO (the judge as "
                "the online reward); call write_data with algorithm dpo or grpo"
            )
        meta = TaskMeta(statement=self.statement, algorithm=self.algorithm, check_kind=self.kind)
        self._write(TASK_FILE, meta_text(meta))
        self.finished = True
        return ToolResult("finished: the plan is complete and its check proven; rl-agent takes it from here")

    # ---- helpers --------------------------------------------------------------------------------------
    def _text(self, value: Any, name: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ToolRefused(f"not written: {name} must be a non-empty string")
        if len(value) > MAX_TEXT_CHARS:
            raise ToolRefused(f"not written: {name} is longer than {MAX_TEXT_CHARS} characters")
        self._no_secret(value)
        return value

    def _no_secret(self, text: str) -> None:
        if any(v in text for v in secrets_in_env()):
            raise ToolRefused("refused: the text contains an API key")

    def _write(self, rel: str, text: str) -> None:
        self._no_secret(text)
        dest = inside(self.run_dir, rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(dest)

    def _fingerprint(self) -> str:
        h = hashlib.sha256(str(self.kind).encode())
        for rel in (RUBRIC_FILE if self.kind == JUDGE else CHECK_FILE, EXAMPLES_FILE):
            p = self.run_dir / rel
            h.update(rel.encode() + b"\0" + (p.read_bytes() if p.is_file() else b"") + b"\0")
        return h.hexdigest()

    def log_refusal(self, tool: str, args: dict[str, Any], reason: str) -> None:
        """A call the session's path guard refused before it reached these tools, logged like the others."""
        self.log(tool.removeprefix(f"mcp__{SERVER_NAME}__"), args, ToolResult(reason, ok=False), by="path guard")

    def log(self, tool: str, args: dict[str, Any], result: ToolResult, by: str = "tool") -> None:
        """One line of authoring.jsonl: the call (long texts cut), whether it was accepted, the start of the reply."""
        self.calls += 1
        shown = {
            k: (v if len(json.dumps(v, ensure_ascii=False)) <= 2000 else f"({len(json.dumps(v))} chars)")
            for k, v in args.items()
        }
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "call": self.calls,
            "tool": tool,
            "args": shown,
            "ok": result.ok,
            "refused_by": None if result.ok else by,
            "result": result.text[:1500],
        }
        with open(self.run_dir / AUTHOR_LOG, "a", encoding="utf-8") as f:
            f.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")


def _item(where: str, it: Any) -> dict:
    if (
        not isinstance(it, dict)
        or not isinstance(it.get("prompt"), str)
        or not it["prompt"].strip()
        or not isinstance(it.get("output"), str)
    ):
        raise ToolRefused(f"not written: {where} needs a non-empty string prompt and a string output")
    ref = it.get("reference")
    if ref is not None and not isinstance(ref, str):
        raise ToolRefused(f"not written: {where}: reference must be a string or null")
    return CheckItem(it["prompt"], it["output"], ref).to_dict()


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


_ITEM = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string"},
        "output": {"type": "string"},
        "reference": {"type": ["string", "null"]},
    },
    "required": ["prompt", "output"],
}
_ROWS = {"type": "array", "items": {"type": "object"}}
AUTHOR_SPECS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (description, JSON schema, read-only)
    "write_check": (
        "Write check.py: standard-library Python defining check(prompt, output, reference=None) -> a score "
        "in [0, 1] (1: the output does what the task asks) or None (cannot grade).",
        {"type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]},
        False,
    ),
    "write_rubric": (
        "For a judged task (tone, empathy, kindness): write the rubric the Claude grader scores each "
        "answer with (what scores 1, what scores 0). Replaces check.py as the check.",
        {"type": "object", "properties": {"rubric": {"type": "string"}}, "required": ["rubric"]},
        False,
    ),
    "write_examples": (
        f"Write examples.jsonl: at least {MIN_EXAMPLES} good answers (do what the task asks) and "
        f"{MIN_EXAMPLES} bad ones (do not), each {{prompt, output, reference?}}.",
        {
            "type": "object",
            "properties": {"good": {"type": "array", "items": _ITEM}, "bad": {"type": "array", "items": _ITEM}},
            "required": ["good", "bad"],
        },
        False,
    ),
    "write_data": (
        "Write data/train.jsonl and data/heldout.jsonl. Training rows: dpo {prompt, chosen, rejected, "
        "reference?}; grpo {prompt, reference}; sft {prompt, completion}; kto {prompt, completion, label "
        "(true/false)}. Held-out rows: grpo {prompt, reference}; the others {prompt, chosen, rejected, "
        "reference?}. No prompt on both sides.",
        {
            "type": "object",
            "properties": {"algorithm": {"type": "string", "enum": list(ALGORITHMS)}, "train": _ROWS, "heldout": _ROWS},
            "required": ["algorithm", "train", "heldout"],
        },
        False,
    ),
    "write_statement": (
        "State the check in plain words a person can verify, e.g. 'accepts answers that ...' (task.json's statement).",
        {"type": "object", "properties": {"statement": {"type": "string"}}, "required": ["statement"]},
        False,
    ),
    "prove_check": (
        "Score the examples with the check: every good must score >= 0.9, every bad <= 0.1. Lists "
        "every example it got wrong.",
        {"type": "object", "properties": {}},
        True,
    ),
    "finish": (
        "Write task.json and hand the task folder over; accepted only once prove_check passed on the current "
        "check and examples.",
        {"type": "object", "properties": {}},
        False,
    ),
}


def author_tool_names() -> list[str]:
    return tool_names(AUTHOR_SPECS)


def author_server(tools: AuthorTools) -> Any:
    """The authoring tools as an in-process MCP server; unknown arguments are refused, every call is logged."""
    calls: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
        "write_check": lambda a: tools.write_check(a.get("code")),
        "write_rubric": lambda a: tools.write_rubric(a.get("rubric")),
        "write_examples": lambda a: tools.write_examples(a.get("good"), a.get("bad")),
        "write_data": lambda a: tools.write_data(a.get("algorithm"), a.get("train"), a.get("heldout")),
        "write_statement": lambda a: tools.write_statement(a.get("statement")),
        "prove_check": lambda a: tools.prove_check(),
        "finish": lambda a: tools.finish(),
    }

    def logged(name: str) -> Callable[[dict[str, Any]], ToolResult]:
        def call(args: dict[str, Any]) -> ToolResult:
            extra = sorted(set(args) - set(AUTHOR_SPECS[name][1]["properties"]))
            try:
                if extra:
                    raise ToolRefused(
                        f"refused: unknown argument(s) {', '.join(extra)}; files have fixed names inside the run folder"
                    )
                result = calls[name](args)
            except ToolRefused as e:
                result = ToolResult(str(e), ok=False)
            result = ToolResult(redact(result.text), result.ok)
            tools.log(name, args, result)
            return result

        return call

    return mcp_server(AUTHOR_SPECS, {n: logged(n) for n in AUTHOR_SPECS})

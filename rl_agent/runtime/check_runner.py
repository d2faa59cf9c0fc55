"""The check contract, and the runner that executes a check program in its own locked-down process.

Contract. A check program is one standalone Python file, `check.py`, standard library only, that defines

    def check(prompt: str, output: str, reference: str | None = None) -> float | None

returning a score in [0, 1] (1.0: the output does what the task asks; 0.0: it does not) or None when it
cannot grade this item (for example a correctness check given no reference). `True`/`False` count as
1.0/0.0. Anything else (a string, NaN, 1.5, an exception) is a bug in the check, reported naming the item.

Why a separate process: a check may be written by Claude or a person, so it runs with `python -I` (no
site packages of the user, no PYTHONPATH), with CPU, memory and file-size limits, a wall timeout per
item, cwd = the run folder, and an environment with no API key or any other *KEY*/*TOKEN*/*SECRET*
variable. Only a check.py inside the run folder is ever run.

Protocol: items go in as one JSON array on stdin; the driver answers one JSON line per item on the
original stdout (the check's own prints go to stderr), so a timeout or crash names the item it hit.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import resource
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MEMORY_MB = 512
STARTUP_TIMEOUT_S = 20.0
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH|ANTHROPIC", re.IGNORECASE)

_DRIVER = r"""
import importlib.util, json, os, sys
out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
def emit(row):
    out.write(json.dumps(row) + "\n")
    out.flush()
try:
    spec = importlib.util.spec_from_file_location("task_check", sys.argv[1])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fn = getattr(mod, "check", None)
    if not callable(fn):
        raise TypeError("check.py defines no function named check")
except BaseException as e:
    emit({"load_error": type(e).__name__ + ": " + str(e)[:300]})
    sys.exit(0)
emit({"ready": True})
items = json.load(sys.stdin)
for i, it in enumerate(items):
    try:
        v = fn(it["prompt"], it["output"], it.get("reference"))
        if v is None or isinstance(v, (bool, int, float)):
            emit({"i": i, "score": None if v is None else float(v)})
        else:
            emit({"i": i, "error": "returned " + type(v).__name__ + " " + repr(v)[:80] + ", not a float or None"})
    except BaseException as e:
        emit({"i": i, "error": "raised " + type(e).__name__ + ": " + str(e)[:300]})
"""


class CheckRunError(RuntimeError):
    """The check program failed (load error, crash, timeout, bad return value); the message names the item."""


class CheckPathError(ValueError):
    """The check path is not a file inside the run folder."""


@dataclass(frozen=True)
class CheckItem:
    """One thing to grade: the prompt, the model's output, and the reference answer if there is one."""

    prompt: str
    output: str
    reference: str | None = None

    def to_dict(self) -> dict:
        return {"prompt": self.prompt, "output": self.output, "reference": self.reference}


def check_env() -> dict[str, str]:
    """A minimal environment for the check: a few locale/path variables, never anything secret-looking."""
    return {k: v for k, v in os.environ.items() if k in _ENV_KEEP and not _SECRET_NAME.search(k)}


def resolve_check_path(run_dir: str | Path, check_path: str | Path) -> tuple[Path, Path]:
    """(run folder, check file) resolved; CheckPathError unless the file exists inside the run folder."""
    root = Path(run_dir).resolve()
    path = Path(check_path)
    path = (path if path.is_absolute() else root / path).resolve()
    if root not in path.parents:
        raise CheckPathError(f"refusing to run {check_path}: check programs run only from inside the run folder {root}")
    if not path.is_file():
        raise CheckPathError(f"{path}: no such check program")
    return root, path


def _limits(timeout_s: float, n_items: int, memory_mb: int):
    cpu = int(math.ceil(timeout_s * (n_items + 1) + STARTUP_TIMEOUT_S))

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _describe(i: int, item: CheckItem) -> str:
    return f"item {i} (prompt {item.prompt[:60]!r}, output {item.output[:60]!r})"


def _validate(i: int, item: CheckItem, row: dict) -> float | None:
    if "error" in row:
        raise CheckRunError(f"check.py failed on {_describe(i, item)}: {row['error']}")
    score = row.get("score")
    if score is None:
        return None
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise CheckRunError(f"check.py returned {score} on {_describe(i, item)}: a score must be in [0, 1] or None")
    return float(score)


def run_check(
    run_dir: str | Path,
    check_path: str | Path,
    items: Sequence[CheckItem],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> list[float | None]:
    """Scores for `items` from the check program, in order; CheckRunError naming the item on any failure."""
    root, path = resolve_check_path(run_dir, check_path)
    items = list(items)
    proc = subprocess.Popen(
        [sys.executable, "-I", "-c", _DRIVER, str(path)],
        cwd=root,
        env=check_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_limits(timeout_s, len(items), memory_mb),
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    stderr_tail: list[bytes] = []

    def read_out() -> None:
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    def read_err() -> None:
        for raw in proc.stderr:
            stderr_tail.append(raw)
            del stderr_tail[:-20]

    def feed() -> None:
        try:
            proc.stdin.write(json.dumps([it.to_dict() for it in items]).encode("utf-8"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    threads = [threading.Thread(target=t, daemon=True) for t in (read_out, read_err, feed)]
    for t in threads:
        t.start()
    scores: list[float | None] = []
    try:
        expect_ready = True
        while len(scores) < len(items) or expect_ready:
            where = "loading check.py" if expect_ready else _describe(len(scores), items[len(scores)])
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT_S if expect_ready else timeout_s)
            except queue.Empty:
                raise CheckRunError(f"check.py timed out ({timeout_s:g}s per item) on {where}") from None
            if line is None:
                proc.wait(timeout=5)
                for t in threads[:2]:
                    t.join(timeout=1)
                tail = b"".join(stderr_tail).decode("utf-8", "replace").strip()[-400:]
                raise CheckRunError(
                    f"check.py process ended (exit code {proc.returncode}) on {where}" + (f": {tail}" if tail else "")
                )
            row = json.loads(line)
            if expect_ready:
                if "load_error" in row:
                    raise CheckRunError(f"check.py could not be loaded: {row['load_error']}")
                expect_ready = False
                continue
            scores.append(_validate(len(scores), items[len(scores)], row))
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
        proc.wait()
    return scores

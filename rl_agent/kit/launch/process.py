"""Run a pipeline step as its own process, teeing its output to a log file and (filtered) to the console.

Why a separate process: rendered scripts are standalone programs, a crash or OOM in training cannot take
the CLI down with it, and the same script runs identically when a user launches it by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

# Library chatter that helps nobody watching a run; it still goes to the log file.
_QUIET = re.compile(r"(^\{.\w|Warning|warnings\.warn|^\s*warn\(|Loading weights|Writing model shards|^\s*$)")
_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_API_KEY")


@dataclass(frozen=True)
class StepResult:
    returncode: int
    log_path: Path
    tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def child_env(*, offline: bool, keep_secrets: bool = False, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a pipeline process: unbuffered, quiet tokenizers, hub off when offline, no API key
    unless the step grades with Claude (so a key can never end up in a training log by accident)."""
    env = dict(os.environ)
    env.update({"PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false", "HF_HUB_DISABLE_TELEMETRY": "1"})
    if offline:
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    if not keep_secrets:
        for k in _SECRET_ENV:
            env.pop(k, None)
    env.update(extra or {})
    return env


def run_step(
    cmd: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    env: dict[str, str],
    echo: Callable[[str], None] | None = None,
) -> StepResult:
    """Run `cmd`, append everything it prints to `log_path`, echo the interesting parts live."""
    echo = echo or (lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    tail: list[str] = []
    with open(log_path, "ab") as log:
        log.write(f"\n$ {' '.join(cmd)}\n".encode())
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        pending = b""
        try:
            while True:
                chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                pending += chunk
                *pieces, pending = re.split(rb"(?<=[\r\n])", pending)
                for piece in pieces:
                    text = piece.decode("utf-8", "replace")
                    tail.append(text)
                    if not _QUIET.search(text.strip("\r\n")):
                        echo(text)
            if pending:
                tail.append(pending.decode("utf-8", "replace"))
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    lines = "".join(tail[-400:]).replace("\r", "\n").splitlines()
    return StepResult(proc.returncode, log_path, "\n".join(line for line in lines if line.strip())[-4000:])

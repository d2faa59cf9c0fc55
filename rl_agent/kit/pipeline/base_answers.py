"""The base model's greedy answers to the held-out prompts, before anything trains.

Why: a plan's check is shown on what the model does today. If the base model already passes the task's
check, there is nothing to learn and no run is started. The answers are produced by the training
interpreter in its own process (it has torch); prompts go in as JSON on stdin, never into code.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.kit.launch.process import child_env
from rl_agent.kit.pipeline.render import install_runtime
from rl_agent.runtime import chat_format

# The same chat formatting as the rendered evaluation: the runtime copy the scripts use, from a temporary folder
# (the training interpreter need not have rl-agent installed).
_SCRIPT = r"""
import json, sys
job = json.load(sys.stdin)
sys.path.insert(0, job["runtime_parent"])
from rl_agent_runtime.chat_format import chat_prompt, prepare_tokenizer, stop_token_ids
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(job["model"])
prepare_tokenizer(tok)
tok.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(job["model"], dtype="auto")
model.eval()
outs = []
for start in range(0, len(job["prompts"]), 16):
    chunk = job["prompts"][start:start + 16]
    texts = [chat_prompt(tok, p, job["chat_kwargs"]) for p in chunk]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=job["max_new_tokens"], do_sample=False,
                             pad_token_id=tok.pad_token_id, eos_token_id=stop_token_ids(tok, model))
    width = enc["input_ids"].shape[1]
    outs += [tok.decode(o[width:], skip_special_tokens=True).strip() for o in out]
print("\n" + json.dumps({"answers": outs}))
"""


class BaseAnswerError(RlAgentError, RuntimeError):
    """The base model could not answer the held-out prompts; the message has the last error line."""


def base_answers(
    python: str,
    model: str,
    prompts: list[str],
    *,
    max_new_tokens: int,
    chat_kwargs: dict | None = None,
    offline: bool = True,
    timeout_s: float = 600,
) -> list[str]:
    """Greedy answers of `model` to `prompts` (as the evaluation generates them)."""
    kwargs = chat_format.CHAT_TEMPLATE_KWARGS if chat_kwargs is None else chat_kwargs
    with tempfile.TemporaryDirectory(prefix="rl-agent-runtime-") as parent:
        install_runtime(Path(parent))
        job = {
            "model": model,
            "prompts": prompts,
            "max_new_tokens": max_new_tokens,
            "chat_kwargs": kwargs,
            "runtime_parent": parent,
        }
        proc = subprocess.run(
            [python, "-c", _SCRIPT],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env=child_env(offline=offline),
            timeout=timeout_s,
        )
    last = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not last:
        err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise BaseAnswerError(
            f"the base model could not answer the held-out prompts: {err[-1] if err else 'no output'}"
        )
    return json.loads(last[-1])["answers"]


def read_prompts(path: Path) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]

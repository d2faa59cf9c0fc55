"""Push an exported folder to the Hugging Face hub with huggingface_hub, failing clearly without a token or
network (before any partial upload where possible)."""

from __future__ import annotations

import os
from pathlib import Path

from rl_agent.errors import RlAgentError


class HubError(RlAgentError, RuntimeError):
    """The push cannot happen; the message says why and what to do."""


def push_folder(folder: Path, repo_id: str, *, private: bool = True, token: str | None = None) -> str:
    """Create (if needed) the model repo and upload `folder`; returns the repo URL."""
    try:
        from huggingface_hub import HfApi, get_token
    except ImportError:
        raise HubError("--push-to-hub needs huggingface_hub (pip install huggingface_hub)") from None
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        raise HubError("HF_HUB_OFFLINE is set, so nothing can be pushed; unset it on a machine with network access")
    token = token or get_token()
    if not token:
        raise HubError(
            "no Hugging Face token: run `hf auth login` (or set HF_TOKEN) with a token that can write, "
            f"then re-run; the exported folder {folder} is kept"
        )
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="model",
            commit_message="Upload model exported by rl-agent",
        )
    except Exception as e:  # connection, auth and HTTP errors come as many types
        text = " ".join(str(e).split())[:300] or type(e).__name__
        network = any(
            w in text.lower()
            for w in (
                "connect",
                "resolve",
                "name or service",
                "timed out",
                "timeout",
                "network",
                "offline",
                "unreachable",
            )
        )
        why = "cannot reach the Hugging Face hub (no network?)" if network else "the hub refused the push"
        raise HubError(f"{why}: {text}; the exported folder {folder} is kept") from None
    return f"https://huggingface.co/{repo_id}"

"""Merge a run's LoRA adapter into its base model (PEFT merge_and_unload) and save a plain model folder.

The folder holds the weights, config, generation config and the tokenizer with its chat template, so
`AutoModelForCausalLM.from_pretrained(folder)` works with transformers alone: no peft, no rl-agent.
"""

from __future__ import annotations

from pathlib import Path

from rl_agent.kit.export.rundir import RunDir, RunDirError
from rl_agent.runtime.chat_format import prepare_tokenizer


def load_tuned(run: RunDir, device: str = "cpu"):
    """(base model with the adapter attached, tokenizer); `disable_adapter()` gives the base model back."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        base = AutoModelForCausalLM.from_pretrained(run.base_model, dtype="auto")
    except Exception as e:  # missing folder, offline hub: many types
        raise RunDirError(
            f"{run.root}: cannot load the base model {run.base_model!r} ({' '.join(str(e).split())[:200]})"
        ) from None
    tok_source = run.adapter_dir if (run.adapter_dir / "tokenizer_config.json").is_file() else run.base_model
    tokenizer = AutoTokenizer.from_pretrained(str(tok_source))
    prepare_tokenizer(tokenizer)  # the adapter's copy already has what training gave it; a bare base gets the same
    model = PeftModel.from_pretrained(base, str(run.adapter_dir)).to(device)
    model.eval()
    return model, tokenizer


def merge_run(run: RunDir, out: Path) -> Path:
    """Write the merged model and tokenizer (with chat template) to `out`; returns `out`."""
    model, tokenizer = load_tuned(run)
    merged = model.merge_and_unload()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    if not getattr(tokenizer, "chat_template", None):
        raise RunDirError(
            f"{run.root}: the tokenizer has no chat template; the merged model would not know "
            "the prompt format it was trained with"
        )
    return out

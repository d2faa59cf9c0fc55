"""The embedded default model: a tiny Qwen3-architecture causal LM built locally and deterministically.

Why: with no network and no hub, `rl-agent setup` must still train something real. We train a byte-level
BPE tokenizer on text the project ships, give it a Qwen-style chat template, initialise a few-million
parameter Qwen3 from a fixed seed and run a short SFT warm-up on the bundled prompts (answered both
tersely and hedgily, so the base model starts with no preference). The result is cached in the user
cache dir, keyed by a hash of everything that shapes it, so the second run reuses it.

Needs the training stack (torch, transformers, tokenizers); run it inside the training environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from rl_agent.kit.dataio.pairs import bundled_corpus_text, bundled_pairs_path, load_pairs

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@dataclass(frozen=True)
class TinyModelRecipe:
    """Everything that determines the embedded model; its hash names the cache folder."""

    vocab_size: int = 1024
    hidden_size: int = 192
    intermediate_size: int = 512
    num_hidden_layers: int = 4
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    head_dim: int = 32
    max_position_embeddings: int = 512
    warmup_steps: int = 240
    warmup_lr: float = 3e-3
    warmup_batch_size: int = 16
    seed: int = 1234
    version: int = 1

    def fingerprint(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True) + bundled_corpus_text()
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def default_cache_dir() -> Path:
    """Where built models live: $RL_AGENT_CACHE, else the platform's user cache dir."""
    env = os.environ.get("RL_AGENT_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rl-agent"))


def cached_model_dir(recipe: TinyModelRecipe | None = None, cache_dir: Path | None = None) -> Path:
    recipe = recipe or TinyModelRecipe()
    return (cache_dir or default_cache_dir()) / "models" / f"tiny-qwen3-{recipe.fingerprint()}"


def is_built(path: Path) -> bool:
    return (path / "BUILD_OK").is_file()


def _warmup_conversations() -> list[tuple[str, str]]:
    """Prompt/answer pairs for the warm-up: each bundled training prompt with both of its answers."""
    rows = load_pairs(bundled_pairs_path("train"))
    convs: list[tuple[str, str]] = []
    for r in rows:
        convs.append((r.prompt, r.chosen))
        convs.append((r.prompt, r.rejected))
    return convs


def train_tokenizer(recipe: TinyModelRecipe, out_dir: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=recipe.vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(bundled_corpus_text().splitlines(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        model_max_length=recipe.max_position_embeddings,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out_dir)
    return fast


def build_tiny_model(
    recipe: TinyModelRecipe | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Build (or reuse) the embedded default and return its folder.

    The folder is written to a temporary sibling and renamed into place, so a killed build never leaves
    a half-model that a later run would mistake for a finished one.
    """
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    recipe = recipe or TinyModelRecipe()
    final = cached_model_dir(recipe, cache_dir)
    if is_built(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=final.name + ".tmp-", dir=final.parent))
    try:
        random.seed(recipe.seed)
        torch.manual_seed(recipe.seed)
        tok = train_tokenizer(recipe, work)
        config = Qwen3Config(
            vocab_size=len(tok),
            hidden_size=recipe.hidden_size,
            intermediate_size=recipe.intermediate_size,
            num_hidden_layers=recipe.num_hidden_layers,
            num_attention_heads=recipe.num_attention_heads,
            num_key_value_heads=recipe.num_key_value_heads,
            head_dim=recipe.head_dim,
            max_position_embeddings=recipe.max_position_embeddings,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
            pad_token_id=tok.pad_token_id,
        )
        model = Qwen3ForCausalLM(config)
        _sft_warmup(model, tok, recipe, progress)
        model.generation_config.eos_token_id = config.eos_token_id
        model.generation_config.pad_token_id = config.pad_token_id
        model.save_pretrained(work, safe_serialization=True)
        (work / "recipe.json").write_text(json.dumps(asdict(recipe), indent=2))
        (work / "BUILD_OK").write_text("ok\n")
        if final.exists():  # a concurrent builder won the race; keep theirs
            shutil.rmtree(work, ignore_errors=True)
        else:
            os.replace(work, final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def _sft_warmup(model, tok, recipe: TinyModelRecipe, progress) -> None:
    """A short next-token warm-up on chat-formatted prompt/answer text so the model emits text."""
    import torch

    convs = _warmup_conversations()
    texts = [
        tok.apply_chat_template(
            [{"role": "user", "content": p}, {"role": "assistant", "content": a}], tokenize=False
        )
        for p, a in convs
    ]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    gen = torch.Generator().manual_seed(recipe.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.warmup_lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 20) * max(0.05, 1 - s / recipe.warmup_steps)
    )
    model.train()
    pad = tok.pad_token_id
    for step in range(recipe.warmup_steps):
        idx = torch.randint(len(enc), (recipe.warmup_batch_size,), generator=gen).tolist()
        batch = [enc[i] for i in idx]
        width = max(len(b) for b in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, b in enumerate(batch):
            ids[row, : len(b)] = torch.tensor(b)
            labels[row, : len(b)] = torch.tensor(b)
            mask[row, : len(b)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if progress:
            progress(step + 1, recipe.warmup_steps, loss.item())
    model.eval()


def _main() -> None:
    """`python -m rl_agent.kit.models.tiny --cache-dir DIR`: build or reuse, print JSON progress lines."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Build the embedded tiny Qwen3 model (or reuse the cached one).")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    recipe = TinyModelRecipe()
    target = cached_model_dir(recipe, args.cache_dir)
    print(json.dumps({"event": "start", "path": str(target), "cached": is_built(target)}), flush=True)

    def report(step: int, total: int, loss: float) -> None:
        print(json.dumps({"event": "progress", "step": step, "total": total, "loss": round(loss, 4)}), flush=True)

    path = build_tiny_model(recipe, args.cache_dir, progress=report)
    print(json.dumps({"event": "done", "path": str(path)}), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    _main()

"""Build the embedded default model that ships in the package (rl_agent/data/embedded_model/).

    python tools/build_embedded_model.py            # rebuild it (about 14 minutes on 2 CPU cores)
    python tools/build_embedded_model.py --check    # only evaluate the shipped model

Why shipped rather than built on first use: a model that knows its facts must see them many times, which
takes minutes, while `rl-agent setup --offline` must finish in under two. So the model is built here, once,
deterministically (fixed seeds, 2 threads, the same torch build gives the same weights), and the result
(about 8.5 MB) is package data. What it is:

- a Qwen3-architecture causal LM (2.1M parameters) with a byte-level BPE tokenizer trained on the same
  text, and a Qwen-style chat template;
- "pretrained" on a knowledge corpus the project ships (rl_agent/data/knowledge/facts.tsv: 407 facts,
  each as a statement and as a question answered tersely twice and hedgily three times, so the base model
  knows the answers in both styles and hedges about a third of them; a quarter of the facts have one
  hedge with the answer in Markdown bold) and on arithmetic (the addition table, and worked or
  guessed answers to three-number sums, see tools/make_arithmetic.py);
- and on format-literate documents (tools/pretraining_forms.py: each fact's answer also behind a label, in
  JSON, in another case, with a closing line, as a bullet), so a recipe's short run reaches forms the base
  model rarely writes; and on 600 sorted or reversed lists, half of them right (which the model memorised
  without learning to sort: see pretraining_forms.py);
- so that the DPO demo can change the style while the answers stay right, and GRPO's arithmetic task
  starts with the base model right on about half of held-out sums (measured: held-out facts 1.00 right,
  0.48 hedged; held-out sums 0.47).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

import make_arithmetic  # noqa: E402
import make_bundled_pairs  # noqa: E402
import pretraining_forms  # noqa: E402

from rl_agent.kit.models.tiny import CHAT_TEMPLATE  # noqa: E402  (one template for the build and the repairer)

OUT = ROOT / "rl_agent" / "data" / "embedded_model"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
RECIPE = {
    "vocab_size": 2048,
    "hidden_size": 192,
    "intermediate_size": 576,
    "num_hidden_layers": 4,
    "num_attention_heads": 6,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "max_position_embeddings": 512,
    "steps": 1200,
    "lr": 3e-3,
    "batch_size": 16,
    "row_tokens": 256,
    "seed": 1234,
    "threads": 2,
    "version": 3,
}


def chat(tok, prompt: str, answer: str) -> str:
    return tok.apply_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}], tokenize=False
    )


def warmup_documents() -> list[tuple[str, str | None]]:
    """(text, None) for plain statements, (prompt, answer) for conversations."""
    docs: list[tuple[str, str | None]] = []
    for i, fact in enumerate(make_bundled_pairs.load_facts()):
        q, a = fact["question"], fact["answer"]
        docs.append((fact["statement"], None))
        docs.append((q, a))
        docs.append((q, a))
        docs.append((q, make_bundled_pairs.hedged(i, a)))
        docs.append((q, make_bundled_pairs.hedged(i + 5, a)))
        third = make_bundled_pairs.hedged(i + 11, a)
        if i % 4 == 0:  # some hedges put the answer in Markdown bold, as chat models do
            third = bold_answer(third, a)
        docs.append((q, third))
    docs += pretraining_forms.form_documents(make_bundled_pairs.load_facts())
    docs += [(s, None) for s in make_arithmetic.addition_table()]
    docs += make_arithmetic.warmup_conversations()
    docs += pretraining_forms.list_documents(list_recipe_prompts())
    return docs


def bold_answer(hedge: str, answer: str) -> str:
    """The hedge with its answer in **bold** (the answer as hedged() wrote it: maybe lower-cased first)."""
    a = answer.rstrip(".")
    for form in (a, a[:1].lower() + a[1:]):
        if form and form in hedge:
            return hedge.replace(form, f"**{form}**", 1)
    return hedge


def list_recipe_prompts() -> set[tuple[int, ...]]:
    """Every list the list recipe's seeded generator uses, for each transform, so the warm-up avoids them."""
    from rl_agent.kit.planning.recipes import list_transform

    seen: set[tuple[int, ...]] = set()
    for op, order in (("sort", "ascending"), ("sort", "descending"), ("reverse", ""), ("unique", ""), ("sum", "")):
        train, heldout = list_transform.generate({"op": op, "order": order, "seed": 0, "train": 200, "heldout": 40})
        seen.update(tuple(list_transform.prompt_numbers(row["prompt"])) for row in train + heldout)
    return seen


def data_fingerprint(docs) -> str:
    return hashlib.sha256(json.dumps([RECIPE, docs]).encode()).hexdigest()[:16]


def train_tokenizer(texts: list[str], out_dir: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=RECIPE["vocab_size"],
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        model_max_length=RECIPE["max_position_embeddings"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out_dir)
    return fast


def build(out: Path, steps: int) -> None:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.set_num_threads(RECIPE["threads"])
    random.seed(RECIPE["seed"])
    torch.manual_seed(RECIPE["seed"])
    docs = warmup_documents()
    work = out.with_name(out.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    plain = [d[0] if d[1] is None else f"{d[0]}\n{d[1]}" for d in docs]
    tok = train_tokenizer(plain, work)
    texts = [d[0] + tok.eos_token if d[1] is None else chat(tok, d[0], d[1]) for d in docs]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=RECIPE["hidden_size"],
        intermediate_size=RECIPE["intermediate_size"],
        num_hidden_layers=RECIPE["num_hidden_layers"],
        num_attention_heads=RECIPE["num_attention_heads"],
        num_key_value_heads=RECIPE["num_key_value_heads"],
        head_dim=RECIPE["head_dim"],
        max_position_embeddings=RECIPE["max_position_embeddings"],
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.pad_token_id,
    )
    model = Qwen3ForCausalLM(config)
    print(
        f"{len(docs)} documents, {sum(map(len, enc))} tokens, {sum(p.numel() for p in model.parameters())} "
        f"parameters, {steps} steps",
        flush=True,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=RECIPE["lr"], weight_decay=0.01, betas=(0.9, 0.98))
    warm = 30
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    )
    gen = torch.Generator().manual_seed(RECIPE["seed"])
    stream: list[int] = []
    model.train()
    started = time.time()
    rows_needed = RECIPE["batch_size"] * RECIPE["row_tokens"]
    for step in range(steps):
        while len(stream) < rows_needed:  # documents packed end to end, reshuffled every epoch
            for i in torch.randperm(len(enc), generator=gen).tolist():
                stream += enc[i]
        ids = torch.tensor(stream[:rows_needed]).view(RECIPE["batch_size"], RECIPE["row_tokens"])
        stream = stream[rows_needed:]
        labels = ids
        mask = torch.ones_like(ids)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if (step + 1) % 20 == 0:
            print(f"step {step + 1}/{steps} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
    model.eval()
    model.generation_config.eos_token_id = config.eos_token_id
    model.generation_config.pad_token_id = config.pad_token_id
    model.generation_config.do_sample = False
    model.save_pretrained(work, safe_serialization=True)
    weights = hashlib.sha256((work / "model.safetensors").read_bytes()).hexdigest()
    (work / "recipe.json").write_text(
        json.dumps({**RECIPE, "steps": steps, "data": data_fingerprint(docs), "weights_sha256": weights}, indent=2)
        + "\n"
    )
    shutil.rmtree(out, ignore_errors=True)
    work.rename(out)


def generate(model, tok, prompts: list[str], max_new_tokens: int = 40, sample: bool = False) -> list[str]:
    import torch

    tok.padding_side = "left"
    texts = [
        tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
        for p in prompts
    ]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=sample,
            temperature=1.0 if sample else None,
            top_p=None,
            top_k=None,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
    return [tok.decode(o[enc["input_ids"].shape[1] :], skip_special_tokens=True).strip() for o in out]


def evaluate(path: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rl_agent.runtime.correctness import contains_reference
    from rl_agent.runtime.final_number import final_number, parse_final_number

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    rows = [json.loads(x) for x in open(ROOT / "rl_agent/data/terse/heldout.jsonl")]
    outs = generate(model, tok, [r["prompt"] for r in rows])
    correct = [contains_reference(o, r["reference"]) for o, r in zip(outs, rows)]
    hedged = sum(len(o.split()) > 3 for o in outs)
    for r, o, c in zip(rows, outs, correct):
        print(f"  [{'ok' if c else 'WRONG'}] {r['prompt']} -> {o}")
    train = [json.loads(x) for x in open(ROOT / "rl_agent/data/terse/train.jsonl")][::8]
    touts = generate(model, tok, [r["prompt"] for r in train])
    tcorrect = sum(contains_reference(o, r["chosen"]) for o, r in zip(touts, train)) / len(train)
    arith = [json.loads(x) for x in open(ROOT / "rl_agent/data/arithmetic/heldout.jsonl")]
    aouts = generate(model, tok, [r["prompt"] for r in arith], max_new_tokens=32)
    acc = [final_number(r["prompt"], o, r["reference"])[0] == 1.0 for o, r in zip(aouts, arith)]
    worked = [o.count("=") >= 2 for o in aouts]
    worked_right = sum(a for a, w in zip(acc, worked) if w) / max(1, sum(worked))
    for r, o in list(zip(arith, aouts))[:12]:
        print(f"  {r['prompt']} ({r['reference']}) -> {o}")
    souts = generate(model, tok, [r["prompt"] for r in arith] * 4, max_new_tokens=32, sample=True)
    s_acc = sum(final_number("", o, r["reference"])[0] == 1.0 for o, r in zip(souts, arith * 4)) / len(souts)
    s_fmt = sum(parse_final_number(o) is not None for o in souts) / len(souts)
    result = {
        "facts_heldout_correct": sum(correct) / len(rows),
        "facts_heldout_hedged": hedged / len(rows),
        "facts_train_correct": tcorrect,
        "arith_heldout_correct": sum(acc) / len(arith),
        "arith_worked_share": sum(worked) / len(arith),
        "arith_worked_right": worked_right,
        "arith_sampled_correct": s_acc,
        "arith_sampled_format": s_fmt,
    }
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only evaluate the shipped model")
    parser.add_argument("--steps", type=int, default=RECIPE["steps"])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not args.check:
        build(args.out, args.steps)
    evaluate(args.out)


if __name__ == "__main__":
    main()

"""Ask a model the way its family is used: thinking off, the family's own stop tokens, a plain template for a
base model that has none, and a check for template debris left in answers.

Why one module: the training scripts, the evaluation, the base-answer scoring, `try` and `export` must all
format a conversation the same way, or the tuned model is asked differently from how it learned. Families
differ where the embedded model never shows it: Qwen3's template opens a thinking block unless
`enable_thinking=False` is passed; Llama 3 has no pad token and ends a turn with `<|eot_id|>`, not its eos;
Gemma and Phi end turns with their own markers; GPT-2-style base models have no chat template at all.

Standard library only, and no imports of rl_agent: the rendered scripts carry a verbatim copy of this source
(they stay standalone), and the base-answer scorer runs it in the training interpreter.
"""

# Passed to every apply_chat_template call (TRL's own name for it). A template that does not read
# `enable_thinking` ignores it; Qwen3's then writes an empty think block, so the answer comes directly.
CHAT_TEMPLATE_KWARGS = {"enable_thinking": False}

# For a tokenizer that has ChatML's tokens but lost its template (a copied or hand-built model folder): ChatML.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# For a base model with no chat template: plain "Question:/Answer:" turns, each answer closed by eos so the
# model learns to stop. The generation prompt ("Answer:") is a prefix of the rendered answer turn, which
# TRL's preference formatting relies on.
PLAIN_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
    "{%- elif message['role'] == 'user' %}{{ 'Question: ' + message['content'] + '\\n' }}"
    "{%- else %}{{ 'Answer: ' + message['content'] + eos_token + '\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ 'Answer:' }}{%- endif %}"
)

# Tokens a family reserves for padding (Llama 3's <|finetune_right_pad_id|>): used before falling back to eos,
# so padding never reuses the token that ends a turn.
PAD_CANDIDATES = ("<|finetune_right_pad_id|>", "<pad>", "<|pad|>", "[PAD]")

# Turn and thinking markers of the common families: none of them belongs in an answer a user reads.
TEMPLATE_DEBRIS = (
    "<think>",
    "</think>",
    "<|im_start|>",
    "<|im_end|>",
    "<|begin_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
    "<|endoftext|>",
    "<|end_of_text|>",
)


def prepare_tokenizer(tokenizer):
    """Give the tokenizer what the pipeline needs (a chat template, a pad token); the notes say what was added."""
    notes = []
    if not getattr(tokenizer, "chat_template", None):
        vocab = tokenizer.get_vocab()
        if "<|im_start|>" in vocab and "<|im_end|>" in vocab:
            tokenizer.chat_template = CHATML_TEMPLATE
            notes.append("the tokenizer has ChatML tokens but no chat template: using the ChatML template")
        else:
            tokenizer.chat_template = PLAIN_CHAT_TEMPLATE
            notes.append("the model has no chat template (a base model): using a plain Question:/Answer: template")
    if tokenizer.pad_token is None:
        vocab = tokenizer.get_vocab()
        spare = next((t for t in PAD_CANDIDATES if t in vocab), None)  # a reserved pad, not an end-of-turn token
        tokenizer.pad_token = spare or tokenizer.eos_token
        notes.append(f"the tokenizer has no pad token: padding with {tokenizer.pad_token!r}")
    return notes


def chat_prompt(tokenizer, prompt, kwargs=None):
    """The text a model is asked with: one user turn and the generation prompt, thinking off."""
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}],
        tokenize=False,
        add_generation_prompt=True,
        **(CHAT_TEMPLATE_KWARGS if kwargs is None else kwargs),
    )


def chat_exchange(tokenizer, prompt, answer, kwargs=None):
    """The whole exchange (user turn and assistant answer) as the model is trained on it."""
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    return tokenizer.apply_chat_template(
        messages, tokenize=False, **(CHAT_TEMPLATE_KWARGS if kwargs is None else kwargs)
    )


def stop_token_ids(tokenizer, model=None):
    """Every token that ends an answer: the tokenizer's eos and the generation config's eos ids (Llama 3's
    <|eot_id|> and <|end_of_text|>, Gemma's <end_of_turn>), as TRL's GRPO trainer gathers them."""
    ids = []
    config = getattr(model, "generation_config", None)
    for value in (tokenizer.eos_token_id, getattr(config, "eos_token_id", None)):
        for i in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(i, int) and i not in ids:
                ids.append(i)
    return ids


def template_debris(text):
    """The turn or thinking markers found in an answer (empty when it is clean)."""
    return [marker for marker in TEMPLATE_DEBRIS if marker in text]

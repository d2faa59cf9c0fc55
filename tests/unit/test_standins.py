"""The family stand-ins are what they claim: the real model class, module names, special tokens, stop ids and
chat-template behaviour of each family, tiny enough for CPU tests, and (for `full`) the published shape.

Why these tests: pipelines break on what differs between families (Phi-3's fused projections, Llama 3.2's
missing pad token and several stop ids, Gemma's "model" role and system handling, Qwen3's think blocks,
GPT-2's missing template), so a stand-in that drifts from its family would let such breakage through. The
trained qwen3-thinking stand-in must really think by default and really not with enable_thinking=False.
"""

from __future__ import annotations

import json

import pytest

from tests.support.standins import FAMILIES, THINKING, build_standins, standin_dir  # noqa: F401  (standin_dir: fixture)

MSGS = [{"role": "user", "content": "What is the capital of France?"}]
ANSWERED = MSGS + [{"role": "assistant", "content": "Paris."}]
SYSTEM = [{"role": "system", "content": "Be brief."}]


def _load(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path).eval()


def _prompt(tok, messages, **kw):
    return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kw)


def _render(tok, messages, **kw):
    return tok.apply_chat_template(messages, tokenize=False, **kw)


# ---- every family: loads offline, is tiny, is the real class, generates and trains ----


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_standin_loads_generates_and_takes_a_training_step(standin_dir, family):
    import torch

    fam = build_standins.FAMILIES[family]
    path = standin_dir(family)
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
    ):
        assert (path / name).is_file(), name
    assert (path / "chat_template.jinja").is_file() == (fam.chat_template is not None)
    tok, model = _load(path)
    assert type(model).__name__ == fam.architecture
    assert type(model.config).__name__ == fam.config_class
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    assert model.config.vocab_size == len(tok)
    # the tokenizer AutoTokenizer picks encodes exactly like the one the builder made
    text = "Hello world 1969, <|im_start|>x <|end|>\n y<think>\n</think>  <start_of_turn>model\n"
    assert tok(text)["input_ids"] == build_standins.build_tokenizer(fam)(text)["input_ids"]

    if fam.chat_template:
        enc = tok.apply_chat_template(MSGS, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    else:
        enc = tok("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=5,
            min_new_tokens=5,
            do_sample=False,
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        )
    assert out.shape[1] == enc["input_ids"].shape[1] + 5

    model.train()
    ids = enc["input_ids"]
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    assert torch.isfinite(loss)


MODULES = {  # names a LoRA target list or a weight loader looks for, and names the family must NOT have
    "qwen3": (
        {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "q_norm", "k_norm"},
        {"qkv_proj", "c_attn"},
    ),
    "qwen2.5": ({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, {"q_norm", "qkv_proj"}),
    "smollm2": ({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, {"q_norm", "qkv_proj"}),
    "llama3.2": ({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, {"q_norm", "qkv_proj"}),
    "gemma3": (
        {
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
            "q_norm",
            "k_norm",
            "pre_feedforward_layernorm",
            "post_feedforward_layernorm",
        },
        {"qkv_proj"},
    ),
    "gemma2": (
        {"q_proj", "o_proj", "gate_proj", "pre_feedforward_layernorm", "post_feedforward_layernorm"},
        {"q_norm", "qkv_proj"},
    ),
    "phi3": (
        {"qkv_proj", "o_proj", "gate_up_proj", "down_proj"},
        {"q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"},
    ),
    "phi4-mini": ({"qkv_proj", "o_proj", "gate_up_proj", "down_proj"}, {"q_proj", "gate_proj"}),
    "gpt2-base": ({"c_attn", "c_proj", "c_fc", "wte", "wpe"}, {"q_proj", "o_proj", "down_proj"}),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_module_names_are_the_familys(standin_dir, family):
    _, model = _load(standin_dir(family))
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    present, absent = MODULES[family]
    assert present <= names, present - names
    assert not (absent & names), absent & names


def test_qwen_biases_and_head_dims_are_the_familys(standin_dir):
    _, qwen25 = _load(standin_dir("qwen2.5"))
    attn = qwen25.model.layers[0].self_attn
    assert attn.q_proj.bias is not None and attn.o_proj.bias is None  # Qwen2 has q/k/v biases
    _, qwen3 = _load(standin_dir("qwen3"))
    cfg = qwen3.config
    assert cfg.head_dim * cfg.num_attention_heads != cfg.hidden_size  # as Qwen3-0.6B: 16 x 128 != 1024
    assert cfg.tie_word_embeddings


# ---- special tokens and stop ids ----


def test_llama32_has_no_pad_ends_turns_with_eot_and_stops_on_three_ids(standin_dir):
    tok, model = _load(standin_dir("llama3.2"))
    ids = tok.convert_tokens_to_ids
    assert tok.pad_token is None and tok.pad_token_id is None
    assert tok.eos_token == "<|eot_id|>" and tok.bos_token == "<|begin_of_text|>"
    stops = [ids("<|end_of_text|>"), ids("<|eom_id|>"), ids("<|eot_id|>")]
    assert model.generation_config.eos_token_id == stops
    assert model.config.eos_token_id == stops
    assert ids("<|eot_id|>") != ids("<|end_of_text|>")
    # the tokenizer prepends bos AND the template writes one: the classic double-bos trap is reproduced
    assert tok("hi")["input_ids"][0] == ids("<|begin_of_text|>")
    prompt = _prompt(tok, MSGS, date_string="26 Jul 2024")
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n")
    assert "Today Date: 26 Jul 2024" in prompt and prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert tok(prompt)["input_ids"][:2] == [ids("<|begin_of_text|>")] * 2
    assert tok(prompt, add_special_tokens=False)["input_ids"].count(ids("<|begin_of_text|>")) == 1
    assert _render(tok, ANSWERED, date_string="26 Jul 2024").endswith("Paris.<|eot_id|>")


def test_gemma3_renames_assistant_folds_system_and_stops_on_end_of_turn(standin_dir):
    tok, model = _load(standin_dir("gemma3"))
    ids = tok.convert_tokens_to_ids
    assert (
        _prompt(tok, MSGS)
        == "<bos><start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n"
    )
    assert _render(tok, ANSWERED).endswith("<start_of_turn>model\nParis.<end_of_turn>\n")
    # Gemma 3 accepts a system message by prepending it to the first user turn (Gemma 2 refused it)
    assert "<start_of_turn>user\nBe brief.\n\nWhat is the capital" in _prompt(tok, SYSTEM + MSGS)
    assert "system" not in _prompt(tok, SYSTEM + MSGS)
    with pytest.raises(Exception, match="must alternate"):
        _prompt(tok, MSGS + MSGS)
    assert tok.eos_token == "<eos>" and tok.pad_token == "<pad>" and ids("<pad>") == 0
    assert model.generation_config.eos_token_id == [ids("<eos>"), ids("<end_of_turn>")]
    assert tok("hi")["input_ids"][0] == ids("<bos>")
    text = _render(tok, ANSWERED)
    assert (
        tok.decode(tok(text, add_special_tokens=False)["input_ids"], skip_special_tokens=True)
        == "user\nWhat is the capital of France?\nmodel\nParis.\n"
    )
    assert model.config.layer_types == ["sliding_attention", "full_attention"]


def test_gemma2_template_refuses_a_system_message(standin_dir):
    tok, model = _load(standin_dir("gemma2"))
    with pytest.raises(Exception, match="System role not supported"):
        _prompt(tok, SYSTEM + MSGS)
    assert _prompt(tok, MSGS).endswith("<start_of_turn>model\n")
    assert model.config.final_logit_softcapping == 30.0 and model.config.attn_logit_softcapping == 50.0


@pytest.mark.parametrize(
    "family,system",
    [
        ("qwen2.5", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
        ("smollm2", "You are a helpful AI assistant named SmolLM, trained by Hugging Face"),
    ],
)
def test_chatml_families_inject_their_default_system_prompt(standin_dir, family, system):
    tok, _ = _load(standin_dir(family))
    assert _prompt(tok, MSGS).startswith(f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n")
    given = _prompt(tok, SYSTEM + MSGS)
    assert given.startswith("<|im_start|>system\nBe brief.<|im_end|>\n") and system not in given
    assert tok.eos_token == "<|im_end|>"


def test_smollm2_pads_with_its_eos(standin_dir):
    tok, model = _load(standin_dir("smollm2"))
    assert tok.pad_token == tok.eos_token == "<|im_end|>" and tok.bos_token == "<|im_start|>"
    assert model.config.pad_token_id == model.config.eos_token_id == tok.eos_token_id
    assert [tok.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")] == [0, 1, 2]


def test_phi3_turns_end_with_end_while_eos_is_endoftext(standin_dir):
    tok, model = _load(standin_dir("phi3"))
    ids = tok.convert_tokens_to_ids
    assert tok.eos_token == tok.pad_token == "<|endoftext|>"
    assert model.generation_config.eos_token_id == [ids("<|endoftext|>"), ids("<|assistant|>"), ids("<|end|>")]
    assert (
        _prompt(tok, SYSTEM + MSGS)
        == "<|system|>\nBe brief.<|end|>\n<|user|>\nWhat is the capital of France?<|end|>\n<|assistant|>\n"
    )
    assert _render(tok, ANSWERED).endswith("<|assistant|>\nParis.<|end|>\n<|endoftext|>")
    # role tokens swallow the newline after them (rstrip), as in the real tokenizer
    assert tok.convert_ids_to_tokens(tok("<|user|>\nHi<|end|>\n")["input_ids"]) == ["<|user|>", "H", "i", "<|end|>"]
    assert model.config.tie_word_embeddings is False


def test_phi4_mini_template_has_no_newlines(standin_dir):
    tok, model = _load(standin_dir("phi4-mini"))
    assert _prompt(tok, MSGS) == "<|user|>What is the capital of France?<|end|><|assistant|>"
    ids = tok.convert_tokens_to_ids
    assert model.generation_config.eos_token_id == [ids("<|end|>"), ids("<|endoftext|>")]
    assert model.config.rope_parameters["partial_rotary_factor"] == 0.75


def test_gpt2_base_has_no_chat_template_and_no_pad(standin_dir):
    tok, model = _load(standin_dir("gpt2-base"))
    assert tok.chat_template is None and not (standin_dir("gpt2-base") / "chat_template.jinja").exists()
    with pytest.raises(ValueError):
        tok.apply_chat_template(MSGS, tokenize=False)
    assert tok.pad_token is None and tok.eos_token == tok.bos_token == "<|endoftext|>"
    assert tok.convert_tokens_to_ids("<|endoftext|>") == len(tok) - 1  # last, as 50256 is in GPT-2
    assert model.generation_config.eos_token_id == tok.eos_token_id


# ---- Qwen3: enable_thinking and the prefix property TRL's DPO relies on ----


def test_qwen3_template_thinks_by_default_and_not_when_told(standin_dir):
    tok, _ = _load(standin_dir("qwen3"))
    default = _prompt(tok, MSGS)
    off = _prompt(tok, MSGS, enable_thinking=False)
    assert default.endswith("<|im_start|>assistant\n") and "<think>" not in default
    assert off == default + "<think>\n\n</think>\n\n"
    assert _prompt(tok, MSGS, enable_thinking=True) == default
    assert not default.startswith("<|im_start|>system")  # Qwen3 has no default system prompt
    last = "<|im_start|>assistant\n<think>\n\n</think>\n\nParis.<|im_end|>\n"
    assert _render(tok, ANSWERED).endswith(last) and _render(tok, ANSWERED, enable_thinking=False).endswith(last)
    # reasoning in the last answer is kept, earlier turns lose theirs
    thought = MSGS + [{"role": "assistant", "content": "<think>\nRecall.\n</think>\n\nParis."}]
    assert _render(tok, thought).endswith("<|im_start|>assistant\n<think>\nRecall.\n</think>\n\nParis.<|im_end|>\n")
    two = thought + [{"role": "user", "content": "And Spain?"}, {"role": "assistant", "content": "Madrid."}]
    rendered = _render(tok, two)
    assert "Recall." not in rendered and "<|im_start|>assistant\nParis.<|im_end|>" in rendered
    assert rendered.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\nMadrid.<|im_end|>\n")
    # <think> is an added token but not a special one: skip_special_tokens keeps it, as in Qwen3
    ids = tok("<think>\nhmm\n</think>", add_special_tokens=False)["input_ids"]
    assert ids[0] == tok.convert_tokens_to_ids("<think>")
    assert tok.decode(ids, skip_special_tokens=True) == "<think>\nhmm\n</think>"


@pytest.mark.parametrize("family", [f for f in FAMILIES if build_standins.FAMILIES[f].chat_template])
def test_a_prompt_is_a_prefix_of_the_answered_conversation(standin_dir, family):
    """TRL's DPO/SFT split prompt and completion by this property, in text and in token ids."""
    tok, _ = _load(standin_dir(family))
    kws = [{"enable_thinking": False}, {}] if family == "qwen3" else [{}]
    if family == "llama3.2":
        kws = [{"date_string": "26 Jul 2024"}]
    for kw in kws:
        prompt, full = _prompt(tok, MSGS, **kw), _render(tok, ANSWERED, **kw)
        assert full.startswith(prompt), (family, kw)
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        assert tok(full, add_special_tokens=False)["input_ids"][: len(p_ids)] == p_ids, (family, kw)


# ---- full size: the published shape, counted without materialising weights ----


@pytest.mark.parametrize("family", FAMILIES)
def test_full_config_has_the_published_parameter_count(family):
    fam = build_standins.FAMILIES[family]
    n = build_standins.count_parameters(family, "full")
    assert abs(n - fam.published_params) / fam.published_params < 0.05, (n, fam.published_params)
    assert build_standins.make_config(family, "full").vocab_size >= len(build_standins.build_tokenizer(fam))


def test_the_published_counts_named_in_the_brief():
    assert abs(build_standins.count_parameters("qwen3") - 596_000_000) / 596e6 < 0.05
    assert abs(build_standins.count_parameters("smollm2") - 134_500_000) / 134.5e6 < 0.05


def test_tiny_builds_are_deterministic(tmp_path):
    for name in ("a", "b"):
        build_standins.build_standin("phi3", tmp_path / name, seed=3)
    for file in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    build_standins.build_standin("phi3", tmp_path / "c", seed=4)
    assert (tmp_path / "a" / "model.safetensors").read_bytes() != (tmp_path / "c" / "model.safetensors").read_bytes()


def test_unknown_family_or_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown family"):
        build_standins.build_standin("mistral", tmp_path / "x")
    with pytest.raises(ValueError, match="size"):
        build_standins.build_standin("qwen3", tmp_path / "x", size="huge")
    with pytest.raises(ValueError, match="tiny"):
        build_standins.build_standin(THINKING, tmp_path / "x", size="full")


# ---- the trained Qwen3 thinking stand-in ----


def test_thinking_standin_matches_its_recipe(standin_dir):
    import hashlib

    path = standin_dir(THINKING)
    recipe = json.loads((path / "recipe.json").read_text())
    assert recipe["weights_sha256"] == hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    # built from today's recipe and fact corpus (editing facts.tsv or the recipe without rebuilding shows here)
    assert recipe["data"] == build_standins.thinking_data_fingerprint()
    assert {k: recipe[k] for k in build_standins.THINKING_RECIPE} == build_standins.THINKING_RECIPE
    assert (path / "model.safetensors").stat().st_size < 12 * 1024 * 1024
    _, model = _load(path)
    assert type(model).__name__ == "Qwen3ForCausalLM"


@pytest.mark.slow  # generates 48 tokens six times: about 14 s on 2 busy cores
def test_thinking_standin_thinks_by_default_and_not_with_enable_thinking_false(standin_dir):
    import torch

    tok, model = _load(standin_dir(THINKING))
    rows = build_standins.heldout_questions()[:3]  # facts whose think/no-think format it never trained on

    def answer(question, **kw):
        enc = tok(
            _prompt(tok, [{"role": "user", "content": question}], **kw), return_tensors="pt", add_special_tokens=False
        )
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=48, do_sample=False, pad_token_id=tok.pad_token_id)
        return tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)

    for row in rows:
        ref = row["reference"].rstrip(".").lower()
        on = answer(row["prompt"])
        assert on.startswith("<think>\n") and "</think>" in on, on
        reasoning, final = on.removeprefix("<think>\n").split("</think>", 1)
        assert reasoning.strip(), on
        assert ref in final.lower(), on
        off = answer(row["prompt"], enable_thinking=False)
        assert "<think>" not in off and "</think>" not in off, off
        assert ref in off.lower(), off

"""How each family is asked (rl_agent/kit/models/chat_format.py), on the real tokenizers of the stand-ins: a
tokenizer that lost its ChatML template gets ChatML back, a base model the plain template, a missing pad token
a reserved pad token rather than the end-of-turn token, and generation stops at every end-of-turn id."""

from __future__ import annotations

import json
import shutil

from transformers import AutoModelForCausalLM, AutoTokenizer

from rl_agent.kit.models.tiny import embedded_model_dir
from rl_agent.runtime.chat_format import (
    CHATML_TEMPLATE,
    PLAIN_CHAT_TEMPLATE,
    chat_prompt,
    prepare_tokenizer,
    stop_token_ids,
    template_debris,
)
from tests.support.standins import standin_dir  # noqa: F401  (the session fixture that builds each stand-in once)


def test_a_chatml_tokenizer_without_its_template_gets_chatml_back(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(embedded_model_dir(), model)
    (model / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((model / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (model / "tokenizer_config.json").write_text(json.dumps(cfg))
    tok = AutoTokenizer.from_pretrained(model)
    assert not tok.chat_template
    notes = prepare_tokenizer(tok)
    assert tok.chat_template == CHATML_TEMPLATE and "ChatML" in notes[0]
    assert chat_prompt(tok, "Hi").endswith("<|im_start|>assistant\n")


def test_a_base_model_gets_the_plain_template_and_eos_as_pad(standin_dir):
    tok = AutoTokenizer.from_pretrained(standin_dir("gpt2-base"))
    notes = prepare_tokenizer(tok)
    assert tok.chat_template == PLAIN_CHAT_TEMPLATE and len(notes) == 2
    assert chat_prompt(tok, "What is 2 plus 2?") == "Question: What is 2 plus 2?\nAnswer:"
    assert tok.pad_token == tok.eos_token


def test_llama_pads_with_its_reserved_token_and_stops_at_every_end_of_turn(standin_dir):
    path = standin_dir("llama3.2")
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    prepare_tokenizer(tok)
    assert tok.pad_token == "<|finetune_right_pad_id|>" != tok.eos_token
    stops = {tok.convert_ids_to_tokens(i) for i in stop_token_ids(tok, model)}
    assert {"<|eot_id|>", "<|end_of_text|>"} <= stops


def test_the_debris_check_names_markers_and_passes_clean_answers():
    assert template_debris("<think>\nhm\n</think>\n\nParis.") == ["<think>", "</think>"]
    assert template_debris("Paris.<|im_end|>") == ["<|im_end|>"]
    assert template_debris("Paris.") == []

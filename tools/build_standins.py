"""Build architecture-true stand-ins for the model families users bring (no hub needed).

    python tools/build_standins.py --family qwen3 --out DIR               # tiny, random weights (about a second)
    python tools/build_standins.py --family qwen3 --size full --out DIR   # the published shape (Qwen3-0.6B)
    python tools/build_standins.py --all --out DIR                        # every random-weight family, one folder each
    python tools/build_standins.py --family qwen3-thinking                # the trained Qwen3 thinking stand-in
                                                                          # (a few minutes; into tests/data/standins/)

Why: the hub is unreachable here, and what breaks a training pipeline is rarely the trained weights. It is the
architecture (fused `qkv_proj`/`gate_up_proj` in Phi-3, GPT-2's `c_attn`, Qwen3's head_dim that is not
hidden/heads, Gemma's soft-capping and sliding layers), the tokenizer's special tokens (Llama 3.2 has no pad
token and ends a turn with `<|eot_id|>`, not its eos `<|end_of_text|>`; SmolLM2 and Phi-3 pad with their eos)
and the chat template (Qwen2.5 and SmolLM2 inject a default system prompt, Gemma renames "assistant" to
"model", Gemma 2 refuses a system message, Qwen3 thinks unless told not to, Llama 3.2 writes today's date into
every prompt, GPT-2 has no template at all). Each stand-in reproduces those with the real transformers model
class and config type, the real module names, the real special-token strings (marked special exactly where the
real tokenizer marks them) and a chat template that renders like the real one. Only the vocabulary is not the
real one: every tokenizer is the embedded model's byte-level BPE vocabulary (rl_agent/data/embedded_model/)
with the family's special tokens put where the family puts them (at the start of the vocabulary for
SmolLM2, Gemma and Phi-3, after the ordinary tokens for the others).

`size="tiny"` gives a few hundred thousand parameters (2 layers, hidden 32-64, the family's head/kv-head
ratio where it fits): it loads, generates and trains on a CPU in seconds. `size="full"` gives the published
shape (config and parameter count of the real checkpoint, random bf16 weights). Both are deterministic for a
seed. docs/standins.md describes each family.

`qwen3-thinking` is different: random weights cannot show what a family *does*, so that one starts from the
embedded model's trained weights (it knows the 407 facts of rl_agent/data/knowledge/facts.tsv), takes the
qwen3 tokenizer and template, and is trained for a few minutes to think by default and answer directly with
`enable_thinking=False`. It is committed in tests/data/standins/qwen3-thinking/ with a recipe.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMBEDDED = ROOT / "rl_agent" / "data" / "embedded_model"
BASE_TOKENIZER = EMBEDDED / "tokenizer.json"
THINKING = "qwen3-thinking"
THINKING_OUT = ROOT / "tests" / "data" / "standins" / THINKING
SIZES = ("tiny", "full")


@dataclass(frozen=True)
class Tok:
    """One added token: its text, whether the real tokenizer marks it special, and its rstrip flag."""

    content: str
    special: bool = True
    rstrip: bool = False


def _toks(*names: str, special: bool = True, rstrip: bool = False) -> tuple[Tok, ...]:
    return tuple(Tok(n, special, rstrip) for n in names)


# ---------------------------------------------------------------------------------------------------------
# Chat templates. Each renders like the family's published template (tokenizer_config.json / chat_template
# of the checkpoint named in the family); the Qwen3 one is written here from Qwen3's documented behaviour.
# ---------------------------------------------------------------------------------------------------------

QWEN_TOOLS_INTRO = (
    "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>"
)
QWEN_TOOLS_OUTRO = (
    "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": '
    "<args-json-object>}\\n</tool_call><|im_end|>\\n"
)

# Qwen3 (Qwen/Qwen3-0.6B): no default system prompt; an assistant turn after the last user query is rendered
# with its think block (an empty one when it has no reasoning), earlier turns without; the generation prompt is
# `<|im_start|>assistant\n` (the model opens <think> itself) or, with enable_thinking=False, that plus an
# empty think block, so a prompt is an exact prefix of the same conversation with its answer.
QWEN3_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}"
    '{{- "' + QWEN_TOOLS_INTRO + '" }}'
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    '{{- "' + QWEN_TOOLS_OUTRO + '" }}'
    "{%- elif messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- set ns = namespace(searching=true, last_query=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}"
    "{%- if ns.searching and message.role == 'user' and message.content is string"
    " and not (message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}"
    "{%- set ns.searching = false %}"
    "{%- set ns.last_query = messages|length - 1 - loop.index0 %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- for message in messages %}"
    "{%- if message.content is string %}{%- set content = message.content %}"
    "{%- else %}{%- set content = '' %}{%- endif %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set reasoning = '' %}"
    "{%- if message.reasoning_content is string %}"
    "{%- set reasoning = message.reasoning_content %}"
    "{%- elif '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{%- if loop.index0 > ns.last_query and (loop.last or reasoning) %}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}"
    "{%- else %}"
    "{{- '<|im_start|>assistant\\n' + content }}"
    "{%- endif %}"
    "{%- if message.tool_calls %}"
    "{%- for tool_call in message.tool_calls %}"
    "{%- if (loop.first and content) or not loop.first %}{{- '\\n' }}{%- endif %}"
    "{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}"
    '{{- \'<tool_call>\\n{"name": "\' + tool_call.name + \'", "arguments": \' }}'
    "{%- if tool_call.arguments is string %}{{- tool_call.arguments }}"
    "{%- else %}{{- tool_call.arguments | tojson }}{%- endif %}"
    "{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\\n<tool_response>\\n' + content + '\\n</tool_response>' }}"
    "{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)

QWEN25_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
# Qwen2.5-Instruct (Qwen/Qwen2.5-0.5B-Instruct): ChatML with a default system message when none is given.
QWEN25_TEMPLATE = (
    "{%- if tools %}"
    "{{- '<|im_start|>system\\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}"
    "{%- else %}{{- '" + QWEN25_SYSTEM + "' }}{%- endif %}"
    '{{- "\\n\\n' + QWEN_TOOLS_INTRO + '" }}'
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    '{{- "' + QWEN_TOOLS_OUTRO + '" }}'
    "{%- else %}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\n" + QWEN25_SYSTEM + "<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first)"
    " or (message.role == 'assistant' and not message.tool_calls) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{{- '<|im_start|>' + message.role }}"
    "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}"
    "{%- for tool_call in message.tool_calls %}"
    "{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}"
    '{{- \'\\n<tool_call>\\n{"name": "\' }}{{- tool_call.name }}{{- \'", "arguments": \' }}'
    "{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}"
    "{%- endfor %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != 'tool') %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}"
    "{%- if loop.last or (messages[loop.index0 + 1].role != 'tool') %}{{- '<|im_end|>\\n' }}{%- endif %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
# SmolLM2-Instruct (HuggingFaceTB/SmolLM2-135M-Instruct)
SMOLLM2_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\n" + SMOLLM2_SYSTEM + "<|im_end|>\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Llama 3.2 Instruct (meta-llama/Llama-3.2-1B-Instruct): bos in the template (and the tokenizer adds one too),
# a system header that always carries a knowledge cut-off and today's date, content trimmed, <|eot_id|> ends
# every turn; tools go into the first user message by default.
LLAMA32_TEMPLATE = (
    "{{- bos_token }}"
    "{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}"
    "{%- if not tools_in_user_message is defined %}{%- set tools_in_user_message = true %}{%- endif %}"
    "{%- if not date_string is defined %}"
    "{%- if strftime_now is defined %}{%- set date_string = strftime_now('%d %b %Y') %}"
    "{%- else %}{%- set date_string = '26 Jul 2024' %}{%- endif %}"
    "{%- endif %}"
    "{%- if not tools is defined %}{%- set tools = none %}{%- endif %}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content']|trim %}"
    "{%- set messages = messages[1:] %}"
    "{%- else %}"
    "{%- set system_message = '' %}"
    "{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}"
    "{%- if tools is not none %}{{- 'Environment: ipython\\n' }}{%- endif %}"
    "{{- 'Cutting Knowledge Date: December 2023\\n' }}"
    "{{- 'Today Date: ' + date_string + '\\n\\n' }}"
    "{%- if tools is not none and not tools_in_user_message %}"
    "{{- 'You have access to the following functions. To call a function, please respond with JSON for a "
    "function call.' }}"
    '{{- \'Respond in the format {"name": function name, "parameters": '
    "dictionary of argument name and its value}.' }}"
    "{{- 'Do not use variables.\\n\\n' }}"
    "{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\\n\\n' }}{%- endfor %}"
    "{%- endif %}"
    "{{- system_message }}"
    "{{- '<|eot_id|>' }}"
    "{%- if tools_in_user_message and not tools is none %}"
    "{%- if messages | length != 0 %}"
    "{%- set first_user_message = messages[0]['content']|trim %}"
    "{%- set messages = messages[1:] %}"
    "{%- else %}"
    '{{- raise_exception("Cannot put tools in the first user message when there\'s no first user message!") }}'
    "{%- endif %}"
    "{{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}"
    "{{- 'Given the following functions, please respond with a JSON for a function call ' }}"
    "{{- 'with its proper arguments that best answers the given prompt.\\n\\n' }}"
    '{{- \'Respond in the format {"name": function name, "parameters": '
    "dictionary of argument name and its value}.' }}"
    "{{- 'Do not use variables.\\n\\n' }}"
    "{%- for t in tools %}{{- t | tojson(indent=4) }}{{- '\\n\\n' }}{%- endfor %}"
    "{{- first_user_message + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n"
    "' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- elif 'tool_calls' in message %}"
    "{%- if not message.tool_calls|length == 1 %}"
    "{{- raise_exception('This model only supports single tool-calls at once!') }}"
    "{%- endif %}"
    "{%- set tool_call = message.tool_calls[0].function %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}"
    "{{- '{\"name\": \"' + tool_call.name + '\", ' }}"
    "{{- '\"parameters\": ' }}"
    "{{- tool_call.arguments | tojson }}"
    "{{- '}' }}"
    "{{- '<|eot_id|>' }}"
    "{%- elif message.role == 'tool' or message.role == 'ipython' %}"
    "{{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}"
    "{%- if message.content is mapping or message.content is iterable %}{{- message.content | tojson }}"
    "{%- else %}{{- message.content }}{%- endif %}"
    "{{- '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

# Gemma 3 (google/gemma-3-1b-it): bos in the template (and from the tokenizer), a system message is folded into
# the first user turn, roles must alternate, "assistant" is rendered "model", content trimmed.
GEMMA3_TEMPLATE = (
    "{{ bos_token }}\n"
    "{%- if messages[0]['role'] == 'system' -%}\n"
    "    {%- if messages[0]['content'] is string -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n"
    "    {%- else -%}\n"
    "        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\\n\\n' -%}\n"
    "    {%- endif -%}\n"
    "    {%- set loop_messages = messages[1:] -%}\n"
    "{%- else -%}\n"
    '    {%- set first_user_prefix = "" -%}\n'
    "    {%- set loop_messages = messages -%}\n"
    "{%- endif -%}\n"
    "{%- for message in loop_messages -%}\n"
    "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    '        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}\n'
    "    {%- endif -%}\n"
    "    {%- if (message['role'] == 'assistant') -%}\n"
    '        {%- set role = "model" -%}\n'
    "    {%- else -%}\n"
    "        {%- set role = message['role'] -%}\n"
    "    {%- endif -%}\n"
    "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
    "    {%- if message['content'] is string -%}\n"
    "        {{ message['content'] | trim }}\n"
    "    {%- elif message['content'] is iterable -%}\n"
    "        {%- for item in message['content'] -%}\n"
    "            {%- if item['type'] == 'image' -%}\n"
    "                {{ '<start_of_image>' }}\n"
    "            {%- elif item['type'] == 'text' -%}\n"
    "                {{ item['text'] | trim }}\n"
    "            {%- endif -%}\n"
    "        {%- endfor -%}\n"
    "    {%- else -%}\n"
    '        {{ raise_exception("Invalid content type") }}\n'
    "    {%- endif -%}\n"
    "    {{ '<end_of_turn>\\n' }}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "    {{'<start_of_turn>model\\n'}}\n"
    "{%- endif -%}\n"
)

# Gemma 2 (google/gemma-2-2b-it): as Gemma 3 but a system message is refused outright.
GEMMA2_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)

# Phi-3-mini-4k-instruct: newline after each role tag, <|end|> closes a turn, and a conversation rendered
# without a generation prompt ends with the eos token (<|endoftext|>).
PHI3_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"
)

# Phi-4-mini-instruct: the same tags with no newlines; tools ride on the system message.
PHI4_MINI_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and 'tools' in message and message['tools'] is not none %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|tool|>' + message['tools'] + '<|/tool|>' + '<|end|>' }}"
    "{% else %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}"
)

# ---------------------------------------------------------------------------------------------------------
# Special tokens, in the order (and with the flags) of the real tokenizers.
# ---------------------------------------------------------------------------------------------------------

CHATML_HEAD = _toks("<|endoftext|>", "<|im_start|>", "<|im_end|>")
QWEN25_TAIL = _toks(
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
) + _toks(
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    special=False,
)
QWEN3_TAIL = QWEN25_TAIL + _toks("<tool_response>", "</tool_response>", "<think>", "</think>", special=False)
SMOLLM2_HEAD = CHATML_HEAD + _toks(
    "<repo_name>",
    "<reponame>",
    "<file_sep>",
    "<filename>",
    "<gh_stars>",
    "<issue_start>",
    "<issue_comment>",
    "<issue_closed>",
    "<jupyter_start>",
    "<jupyter_text>",
    "<jupyter_code>",
    "<jupyter_output>",
    "<jupyter_script>",
    "<empty_output>",
)
LLAMA3_TAIL = _toks(
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eom_id|>",
    "<|eot_id|>",
    "<|python_tag|>",
)
GEMMA_HEAD = _toks("<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>", "<end_of_turn>")
GEMMA3_TAIL = _toks("<start_of_image>", "<end_of_image>", "<image_soft_token>")
PHI3_HEAD = _toks("<unk>", "<s>") + (Tok("</s>", special=False, rstrip=True),)
PHI3_TAIL = (Tok("<|endoftext|>"),) + _toks(
    "<|assistant|>",
    "<|placeholder1|>",
    "<|placeholder2|>",
    "<|placeholder3|>",
    "<|placeholder4|>",
    "<|system|>",
    "<|end|>",
    "<|placeholder5|>",
    "<|placeholder6|>",
    "<|user|>",
    rstrip=True,
)
PHI4_MINI_TAIL = _toks(
    "<|endoftext|>",
    "<|endofprompt|>",
    "<|assistant|>",
    "<|end|>",
    "<|user|>",
    "<|system|>",
    "<|tool|>",
    "<|/tool|>",
    "<|tool_call|>",
    "<|/tool_call|>",
    "<|tool_response|>",
    "<|tag|>",
)
GPT2_TAIL = _toks("<|endoftext|>")

E30 = 1000000000000000019884624838656  # what tokenizer_config.json says when a tokenizer sets no limit


@dataclass(frozen=True)
class Family:
    name: str
    stands_for: str  # the published checkpoint it reproduces
    architecture: str  # transformers model class
    config_class: str  # transformers config class
    tokenizer_builder: str  # "qwen2" | "gpt2" | "backend": the transformers tokenizer class that rebuilds it
    tokenizer_class: str  # written in tokenizer_config.json (the real one where it loads the same)
    head: tuple[Tok, ...]  # special tokens at the start of the vocabulary
    tail: tuple[Tok, ...]  # special tokens after the ordinary ones
    bos: str | None
    eos: str
    pad: str | None
    unk: str | None
    add_bos: bool  # the tokenizer itself prepends bos (post-processor)
    chat_template: str | None
    model_max_length: int
    config_tokens: dict  # config.json token ids, as token strings (a list for several)
    generation: dict  # generation_config.json, token ids as token strings
    tiny: dict
    full: dict
    published_params: int  # parameter count of the real checkpoint (tied embeddings counted once)
    notes: str = ""
    extra_tokenizer_config: dict = field(default_factory=dict)


def _gemma3_layers(n: int) -> list[str]:
    return ["sliding_attention" if (i + 1) % 6 else "full_attention" for i in range(n)]


def _gemma2_layers(n: int) -> list[str]:
    return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(n)]


LLAMA3_ROPE = {
    "rope_type": "llama3",
    "rope_theta": 500000.0,
    "factor": 32.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 8192,
}


def _longrope(rotary_dim: int) -> dict:
    # Phi-4-mini's longrope: the real short/long factor tables (48 numbers each) are not reproduced; ones keep
    # the mechanism (and its attention scaling) without pretending to know the published values.
    half = rotary_dim // 2
    return {
        "rope_type": "longrope",
        "rope_theta": 10000.0,
        "partial_rotary_factor": 0.75,
        "short_factor": [1.0] * half,
        "long_factor": [1.0] * half,
        "original_max_position_embeddings": 4096,
    }


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            name="qwen3",
            stands_for="Qwen/Qwen3-0.6B",
            architecture="Qwen3ForCausalLM",
            config_class="Qwen3Config",
            tokenizer_builder="qwen2",
            tokenizer_class="Qwen2Tokenizer",
            head=CHATML_HEAD,
            tail=QWEN3_TAIL,
            bos=None,
            eos="<|im_end|>",
            pad="<|endoftext|>",
            unk=None,
            add_bos=False,
            chat_template=QWEN3_TEMPLATE,
            model_max_length=131072,
            config_tokens={"bos_token_id": "<|endoftext|>", "eos_token_id": "<|im_end|>"},
            generation={
                "bos_token_id": "<|endoftext|>",
                "eos_token_id": ["<|im_end|>", "<|endoftext|>"],
                "pad_token_id": "<|endoftext|>",
                "do_sample": True,
                "temperature": 0.6,
                "top_k": 20,
                "top_p": 0.95,
            },
            tiny=dict(
                hidden_size=64,
                intermediate_size=192,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                head_dim=32,
                max_position_embeddings=40960,
                rope_theta=1000000.0,
                rms_norm_eps=1e-6,
                tie_word_embeddings=True,
                max_window_layers=2,
                attention_bias=False,
            ),
            full=dict(
                vocab_size=151936,
                hidden_size=1024,
                intermediate_size=3072,
                num_hidden_layers=28,
                num_attention_heads=16,
                num_key_value_heads=8,
                head_dim=128,
                max_position_embeddings=40960,
                rope_theta=1000000.0,
                rms_norm_eps=1e-6,
                tie_word_embeddings=True,
                max_window_layers=28,
                attention_bias=False,
            ),
            published_params=596_049_920,
            notes="thinks by default; enable_thinking=False puts an empty think block in the prompt; "
            "<think> is not special",
        ),
        Family(
            name="qwen2.5",
            stands_for="Qwen/Qwen2.5-0.5B-Instruct",
            architecture="Qwen2ForCausalLM",
            config_class="Qwen2Config",
            tokenizer_builder="qwen2",
            tokenizer_class="Qwen2Tokenizer",
            head=CHATML_HEAD,
            tail=QWEN25_TAIL,
            bos=None,
            eos="<|im_end|>",
            pad="<|endoftext|>",
            unk=None,
            add_bos=False,
            chat_template=QWEN25_TEMPLATE,
            model_max_length=131072,
            config_tokens={"bos_token_id": "<|endoftext|>", "eos_token_id": "<|im_end|>"},
            generation={
                "bos_token_id": "<|endoftext|>",
                "pad_token_id": "<|endoftext|>",
                "do_sample": True,
                "eos_token_id": ["<|im_end|>", "<|endoftext|>"],
                "repetition_penalty": 1.1,
                "temperature": 0.7,
                "top_p": 0.8,
                "top_k": 20,
            },
            tiny=dict(
                hidden_size=56,
                intermediate_size=304,
                num_hidden_layers=2,
                num_attention_heads=7,
                num_key_value_heads=1,
                max_position_embeddings=32768,
                rope_theta=1000000.0,
                rms_norm_eps=1e-6,
                tie_word_embeddings=True,
                sliding_window=32768,
                max_window_layers=2,
                use_sliding_window=False,
            ),
            full=dict(
                vocab_size=151936,
                hidden_size=896,
                intermediate_size=4864,
                num_hidden_layers=24,
                num_attention_heads=14,
                num_key_value_heads=2,
                max_position_embeddings=32768,
                rope_theta=1000000.0,
                rms_norm_eps=1e-6,
                tie_word_embeddings=True,
                sliding_window=32768,
                max_window_layers=21,
                use_sliding_window=False,
            ),
            published_params=494_032_768,
            notes="default system prompt injected; q/k/v projections have biases",
        ),
        Family(
            name="smollm2",
            stands_for="HuggingFaceTB/SmolLM2-135M-Instruct",
            architecture="LlamaForCausalLM",
            config_class="LlamaConfig",
            tokenizer_builder="gpt2",
            tokenizer_class="GPT2Tokenizer",
            head=SMOLLM2_HEAD,
            tail=(),
            bos="<|im_start|>",
            eos="<|im_end|>",
            pad="<|im_end|>",
            unk="<|endoftext|>",
            add_bos=False,
            chat_template=SMOLLM2_TEMPLATE,
            model_max_length=8192,
            config_tokens={"bos_token_id": "<|im_start|>", "eos_token_id": "<|im_end|>", "pad_token_id": "<|im_end|>"},
            generation={"bos_token_id": "<|im_start|>", "eos_token_id": "<|im_end|>", "pad_token_id": "<|im_end|>"},
            tiny=dict(
                hidden_size=48,
                intermediate_size=128,
                num_hidden_layers=2,
                num_attention_heads=3,
                num_key_value_heads=1,
                max_position_embeddings=8192,
                rope_theta=100000.0,
                rms_norm_eps=1e-5,
                tie_word_embeddings=True,
                initializer_range=0.041666666666666664,
            ),
            full=dict(
                vocab_size=49152,
                hidden_size=576,
                intermediate_size=1536,
                num_hidden_layers=30,
                num_attention_heads=9,
                num_key_value_heads=3,
                max_position_embeddings=8192,
                rope_theta=100000.0,
                rms_norm_eps=1e-5,
                tie_word_embeddings=True,
                initializer_range=0.041666666666666664,
            ),
            published_params=134_515_008,
            notes="pad is the eos (<|im_end|>): masking pad in labels also masks the end of every answer",
        ),
        Family(
            name="llama3.2",
            stands_for="meta-llama/Llama-3.2-1B-Instruct",
            architecture="LlamaForCausalLM",
            config_class="LlamaConfig",
            tokenizer_builder="backend",
            tokenizer_class="PreTrainedTokenizerFast",
            head=(),
            tail=LLAMA3_TAIL,
            bos="<|begin_of_text|>",
            eos="<|eot_id|>",
            pad=None,
            unk=None,
            add_bos=True,
            chat_template=LLAMA32_TEMPLATE,
            model_max_length=131072,
            config_tokens={
                "bos_token_id": "<|begin_of_text|>",
                "eos_token_id": ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"],
            },
            generation={
                "bos_token_id": "<|begin_of_text|>",
                "eos_token_id": ["<|end_of_text|>", "<|eom_id|>", "<|eot_id|>"],
                "do_sample": True,
                "temperature": 0.6,
                "top_p": 0.9,
            },
            tiny=dict(
                hidden_size=64,
                intermediate_size=256,
                num_hidden_layers=2,
                num_attention_heads=8,
                num_key_value_heads=2,
                head_dim=8,
                max_position_embeddings=131072,
                rms_norm_eps=1e-5,
                rope_scaling=dict(LLAMA3_ROPE),
                tie_word_embeddings=True,
                mlp_bias=False,
                attention_bias=False,
            ),
            full=dict(
                vocab_size=128256,
                hidden_size=2048,
                intermediate_size=8192,
                num_hidden_layers=16,
                num_attention_heads=32,
                num_key_value_heads=8,
                head_dim=64,
                max_position_embeddings=131072,
                rms_norm_eps=1e-5,
                rope_scaling=dict(LLAMA3_ROPE),
                tie_word_embeddings=True,
                mlp_bias=False,
                attention_bias=False,
            ),
            published_params=1_235_814_400,
            notes="no pad token; eos <|eot_id|> ends a turn, config/generation stop on three ids; "
            "bos from tokenizer AND template",
        ),
        Family(
            name="gemma3",
            stands_for="google/gemma-3-1b-it",
            architecture="Gemma3ForCausalLM",
            config_class="Gemma3TextConfig",
            tokenizer_builder="backend",
            tokenizer_class="TokenizersBackend",
            head=GEMMA_HEAD,
            tail=GEMMA3_TAIL,
            bos="<bos>",
            eos="<eos>",
            pad="<pad>",
            unk="<unk>",
            add_bos=True,
            chat_template=GEMMA3_TEMPLATE,
            model_max_length=E30,
            config_tokens={
                "bos_token_id": "<bos>",
                "eos_token_id": ["<eos>", "<end_of_turn>"],
                "pad_token_id": "<pad>",
            },
            generation={
                "bos_token_id": "<bos>",
                "eos_token_id": ["<eos>", "<end_of_turn>"],
                "pad_token_id": "<pad>",
                "cache_implementation": "hybrid",
                "do_sample": True,
                "top_k": 64,
                "top_p": 0.95,
            },
            tiny=dict(
                hidden_size=64,
                intermediate_size=384,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=1,
                head_dim=32,
                query_pre_attn_scalar=32,
                max_position_embeddings=32768,
                sliding_window=512,
                layer_types=["sliding_attention", "full_attention"],
                rope_theta=1000000.0,
                rope_local_base_freq=10000.0,
                rms_norm_eps=1e-6,
                hidden_activation="gelu_pytorch_tanh",
                final_logit_softcapping=None,
                attn_logit_softcapping=None,
                tie_word_embeddings=True,
            ),
            full=dict(
                vocab_size=262144,
                hidden_size=1152,
                intermediate_size=6912,
                num_hidden_layers=26,
                num_attention_heads=4,
                num_key_value_heads=1,
                head_dim=256,
                query_pre_attn_scalar=256,
                max_position_embeddings=32768,
                sliding_window=512,
                layer_types=_gemma3_layers(26),
                rope_theta=1000000.0,
                rope_local_base_freq=10000.0,
                rms_norm_eps=1e-6,
                hidden_activation="gelu_pytorch_tanh",
                final_logit_softcapping=None,
                attn_logit_softcapping=None,
                tie_word_embeddings=True,
            ),
            published_params=999_885_952,
            notes="assistant is 'model'; a system message is folded into the first user turn; stops on <end_of_turn>",
        ),
        Family(
            name="gemma2",
            stands_for="google/gemma-2-2b-it",
            architecture="Gemma2ForCausalLM",
            config_class="Gemma2Config",
            tokenizer_builder="backend",
            tokenizer_class="TokenizersBackend",
            head=GEMMA_HEAD,
            tail=(),
            bos="<bos>",
            eos="<eos>",
            pad="<pad>",
            unk="<unk>",
            add_bos=True,
            chat_template=GEMMA2_TEMPLATE,
            model_max_length=E30,
            config_tokens={
                "bos_token_id": "<bos>",
                "eos_token_id": ["<eos>", "<end_of_turn>"],
                "pad_token_id": "<pad>",
            },
            generation={
                "bos_token_id": "<bos>",
                "eos_token_id": ["<eos>", "<end_of_turn>"],
                "pad_token_id": "<pad>",
                "cache_implementation": "hybrid",
            },
            tiny=dict(
                hidden_size=64,
                intermediate_size=256,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                head_dim=32,
                query_pre_attn_scalar=32,
                max_position_embeddings=8192,
                sliding_window=4096,
                layer_types=_gemma2_layers(2),
                attn_logit_softcapping=50.0,
                final_logit_softcapping=30.0,
                rms_norm_eps=1e-6,
                hidden_activation="gelu_pytorch_tanh",
                rope_theta=10000.0,
                tie_word_embeddings=True,
            ),
            full=dict(
                vocab_size=256000,
                hidden_size=2304,
                intermediate_size=9216,
                num_hidden_layers=26,
                num_attention_heads=8,
                num_key_value_heads=4,
                head_dim=256,
                query_pre_attn_scalar=256,
                max_position_embeddings=8192,
                sliding_window=4096,
                layer_types=_gemma2_layers(26),
                attn_logit_softcapping=50.0,
                final_logit_softcapping=30.0,
                rms_norm_eps=1e-6,
                hidden_activation="gelu_pytorch_tanh",
                rope_theta=10000.0,
                tie_word_embeddings=True,
            ),
            published_params=2_614_341_888,
            notes="refuses a system message (raise_exception('System role not supported')); logit soft-capping",
        ),
        Family(
            name="phi3",
            stands_for="microsoft/Phi-3-mini-4k-instruct",
            architecture="Phi3ForCausalLM",
            config_class="Phi3Config",
            tokenizer_builder="backend",
            tokenizer_class="LlamaTokenizer",
            head=PHI3_HEAD,
            tail=PHI3_TAIL,
            bos="<s>",
            eos="<|endoftext|>",
            pad="<|endoftext|>",
            unk="<unk>",
            add_bos=False,
            chat_template=PHI3_TEMPLATE,
            model_max_length=4096,
            config_tokens={"bos_token_id": "<s>", "eos_token_id": "<|endoftext|>", "pad_token_id": "<|endoftext|>"},
            generation={
                "bos_token_id": "<s>",
                "eos_token_id": ["<|endoftext|>", "<|assistant|>", "<|end|>"],
                "pad_token_id": "<|endoftext|>",
            },
            tiny=dict(
                hidden_size=64,
                intermediate_size=176,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=4,
                max_position_embeddings=4096,
                original_max_position_embeddings=4096,
                rope_theta=10000.0,
                rms_norm_eps=1e-5,
                sliding_window=2047,
                tie_word_embeddings=False,
            ),
            full=dict(
                vocab_size=32064,
                hidden_size=3072,
                intermediate_size=8192,
                num_hidden_layers=32,
                num_attention_heads=32,
                num_key_value_heads=32,
                max_position_embeddings=4096,
                original_max_position_embeddings=4096,
                rope_theta=10000.0,
                rms_norm_eps=1e-5,
                sliding_window=2047,
                tie_word_embeddings=False,
            ),
            published_params=3_821_079_552,
            notes="fused qkv_proj and gate_up_proj; turns end with <|end|> but the tokenizer's eos is "
            "<|endoftext|> (= pad); "
            "role tokens swallow the whitespace after them (rstrip)",
        ),
        Family(
            name="phi4-mini",
            stands_for="microsoft/Phi-4-mini-instruct",
            architecture="Phi3ForCausalLM",
            config_class="Phi3Config",
            tokenizer_builder="gpt2",
            tokenizer_class="GPT2Tokenizer",
            head=(),
            tail=PHI4_MINI_TAIL,
            bos="<|endoftext|>",
            eos="<|endoftext|>",
            pad="<|endoftext|>",
            unk="<|endoftext|>",
            add_bos=False,
            chat_template=PHI4_MINI_TEMPLATE,
            model_max_length=131072,
            config_tokens={
                "bos_token_id": "<|endoftext|>",
                "eos_token_id": "<|endoftext|>",
                "pad_token_id": "<|endoftext|>",
            },
            generation={
                "bos_token_id": "<|endoftext|>",
                "eos_token_id": ["<|end|>", "<|endoftext|>"],
                "pad_token_id": "<|endoftext|>",
            },
            tiny=dict(
                hidden_size=48,
                intermediate_size=128,
                num_hidden_layers=2,
                num_attention_heads=3,
                num_key_value_heads=1,
                max_position_embeddings=131072,
                original_max_position_embeddings=4096,
                rope_scaling=_longrope(12),
                rms_norm_eps=1e-5,
                sliding_window=262144,
                tie_word_embeddings=True,
            ),
            full=dict(
                vocab_size=200064,
                hidden_size=3072,
                intermediate_size=8192,
                num_hidden_layers=32,
                num_attention_heads=24,
                num_key_value_heads=8,
                max_position_embeddings=131072,
                original_max_position_embeddings=4096,
                rope_scaling=_longrope(96),
                rms_norm_eps=1e-5,
                sliding_window=262144,
                tie_word_embeddings=True,
            ),
            published_params=3_836_021_760,
            notes="Phi3ForCausalLM with GQA, partial rotary (0.75) and tied embeddings; template without newlines",
        ),
        Family(
            name="gpt2-base",
            stands_for="openai-community/gpt2",
            architecture="GPT2LMHeadModel",
            config_class="GPT2Config",
            tokenizer_builder="gpt2",
            tokenizer_class="GPT2Tokenizer",
            head=(),
            tail=GPT2_TAIL,
            bos="<|endoftext|>",
            eos="<|endoftext|>",
            pad=None,
            unk="<|endoftext|>",
            add_bos=False,
            chat_template=None,
            model_max_length=1024,
            config_tokens={"bos_token_id": "<|endoftext|>", "eos_token_id": "<|endoftext|>"},
            generation={"bos_token_id": "<|endoftext|>", "eos_token_id": "<|endoftext|>"},
            tiny=dict(n_embd=64, n_layer=2, n_head=4, n_positions=1024, activation_function="gelu_new"),
            full=dict(
                vocab_size=50257, n_embd=768, n_layer=12, n_head=12, n_positions=1024, activation_function="gelu_new"
            ),
            published_params=124_439_808,
            notes="a base model: no chat template, no pad; Conv1D modules c_attn/c_proj/c_fc",
        ),
    ]
}

STANDINS = (*FAMILIES, THINKING)


# ---------------------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------------------


def _base_vocab(head: tuple[Tok, ...]) -> tuple[dict[str, int], list[tuple[str, str]], dict]:
    """The embedded tokenizer's ordinary tokens, renumbered after `head`, its merges, and its JSON."""
    base = json.loads(BASE_TOKENIZER.read_text(encoding="utf-8"))
    specials = {t["content"] for t in base["added_tokens"]}
    ordinary = sorted((i, t) for t, i in base["model"]["vocab"].items() if t not in specials)
    vocab = {t.content: i for i, t in enumerate(head)}
    for _, t in ordinary:
        vocab[t] = len(vocab)
    return vocab, [tuple(m) for m in base["model"]["merges"]], base


def build_tokenizer(fam: Family):
    """The family's tokenizer (a transformers tokenizer object; not yet saved)."""
    from tokenizers import AddedToken, Tokenizer
    from transformers import GPT2Tokenizer, Qwen2Tokenizer
    from transformers.tokenization_utils_tokenizers import TokenizersBackend

    vocab, merges, base = _base_vocab(fam.head)
    named = dict(
        bos_token=fam.bos,
        eos_token=fam.eos,
        pad_token=fam.pad,
        unk_token=fam.unk,
        model_max_length=fam.model_max_length,
    )
    if fam.tokenizer_builder == "qwen2":
        tok = Qwen2Tokenizer(vocab=vocab, merges=merges, **named)
    elif fam.tokenizer_builder == "gpt2":
        tok = GPT2Tokenizer(vocab=vocab, merges=merges, **named)
    else:
        spec = dict(base)
        spec["model"] = {**base["model"], "vocab": vocab, "merges": [list(m) for m in merges]}
        ids = list(range(len(fam.head))) + list(range(len(vocab), len(vocab) + len(fam.tail)))
        spec["added_tokens"] = [
            {
                "id": i,
                "content": t.content,
                "single_word": False,
                "lstrip": False,
                "rstrip": t.rstrip,
                "normalized": False,
                "special": t.special,
            }
            for i, t in zip(ids, fam.head + fam.tail)
        ]
        spec["post_processor"] = None
        tok = TokenizersBackend(
            tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
            add_bos_token=fam.add_bos,
            add_eos_token=False,
            **named,
        )
    for t in fam.head + fam.tail:  # one at a time: ids follow the family's order
        tok.add_tokens(
            [
                AddedToken(
                    t.content, special=t.special, rstrip=t.rstrip, lstrip=False, normalized=False, single_word=False
                )
            ]
        )
    expected = {t.content: i for i, t in enumerate(fam.head)}
    expected.update({t.content: len(vocab) + k for k, t in enumerate(fam.tail)})
    got = {t: tok.convert_tokens_to_ids(t) for t in expected}
    assert got == expected, f"{fam.name}: special token ids out of the family's order: {got}"
    if fam.add_bos:
        tok.add_bos_token = True
        tok.update_post_processor()
    if fam.chat_template is not None:
        tok.chat_template = fam.chat_template
    return tok


def _ids(tok, value):
    if value is None:
        return None
    if isinstance(value, list):
        return [tok.convert_tokens_to_ids(v) for v in value]
    return tok.convert_tokens_to_ids(value)


def _save_tokenizer(fam: Family, tok, out: Path) -> None:
    tok.save_pretrained(out)
    path = out / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = fam.tokenizer_class
    config.update(fam.extra_tokenizer_config)
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------


def make_config(family: str, size: str = "tiny", tok=None):
    """The family's transformers config for `size` (token ids from the stand-in tokenizer)."""
    import transformers

    fam = FAMILIES[family]
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    tok = tok if tok is not None else build_tokenizer(fam)
    kwargs = dict(fam.tiny if size == "tiny" else fam.full)
    if size == "tiny":
        kwargs["vocab_size"] = len(tok)
    elif kwargs["vocab_size"] < len(tok):
        raise ValueError(f"{family}: full vocab {kwargs['vocab_size']} < tokenizer length {len(tok)}")
    for key, value in fam.config_tokens.items():
        kwargs[key] = _ids(tok, value)
    kwargs.setdefault("pad_token_id", None)
    kwargs.setdefault("bos_token_id", None)
    config = getattr(transformers, fam.config_class)(**kwargs)
    config.architectures = [fam.architecture]
    config.dtype = "float32" if size == "tiny" else "bfloat16"
    return config


def count_parameters(family: str, size: str = "full") -> int:
    """Parameters of the family's model at `size`, counted on the meta device (nothing is materialised)."""
    import torch
    import transformers

    config = make_config(family, size)
    with torch.device("meta"):
        model = getattr(transformers, FAMILIES[family].architecture)(config)
    return sum(p.numel() for p in model.parameters())


def build_standin(family: str, out_dir: Path, size: str = "tiny", seed: int = 0) -> Path:
    """Write the stand-in for `family` at `size` into `out_dir` (replaced if present); returns out_dir.

    The folder loads offline with AutoModelForCausalLM / AutoTokenizer.from_pretrained. Same family, size and
    seed (and the same torch build) give byte-identical files. `qwen3-thinking` (tiny only) is trained: see
    build_thinking()."""
    out_dir = Path(out_dir)
    if family == THINKING:
        if size != "tiny":
            raise ValueError(f"{THINKING} exists only in size 'tiny'")
        return build_thinking(out_dir, seed=seed)
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(STANDINS)}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    import torch
    import transformers
    from transformers import GenerationConfig

    fam = FAMILIES[family]
    tok = build_tokenizer(fam)
    config = make_config(family, size, tok)
    dtype = torch.float32 if size == "tiny" else torch.bfloat16
    work = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = getattr(transformers, fam.architecture)(config)
    finally:
        torch.set_default_dtype(previous)
    model.eval()
    gen = {k: _ids(tok, v) if k.endswith("_token_id") else v for k, v in fam.generation.items()}
    model.generation_config = GenerationConfig(**gen)
    model.save_pretrained(work, safe_serialization=True)
    _save_tokenizer(fam, tok, work)
    (work / "standin.json").write_text(
        json.dumps(
            {
                "family": family,
                "size": size,
                "seed": seed,
                "stands_for": fam.stands_for,
                "parameters": sum(p.numel() for p in model.parameters()),
                "published_parameters": fam.published_params,
                "weights": "random (seeded); only the architecture, tokenizer and template are the family's",
                "notes": fam.notes,
            },
            indent=2,
        )
        + "\n"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    work.rename(out_dir)
    return out_dir


# ---------------------------------------------------------------------------------------------------------
# The trained Qwen3 thinking stand-in
# ---------------------------------------------------------------------------------------------------------

THINKING_RECIPE = {
    "base": "rl_agent/data/embedded_model",
    "tokenizer": "qwen3 stand-in tokenizer and chat template",
    "steps": 150,
    "lr": 1.5e-3,
    "warmup": 20,
    "batch_size": 32,
    "seed": 4321,
    "threads": 2,
    "loss": "completion only for conversations (prompt rendered with add_generation_prompt and the same "
    "enable_thinking); every token for the plain statements",
    "version": 3,
}
# The think block names what kind of question it is and how to answer (a small model cannot yet reason its
# way to a fact, but it can learn to open, fill and close a think block, then answer from the question).
TOPIC = {
    "capital": "This asks for a capital city.",
    "language": "This asks which language is spoken there.",
    "continent": "This asks for a continent.",
    "legs": "This asks how many legs an animal has.",
    "baby": "This asks what a young animal is called.",
    "element": "This asks for a chemical symbol.",
    "opposite": "This asks for an opposite.",
    "plural": "This asks for a plural form.",
    "past": "This asks for a past tense.",
    "color": "This asks for a color.",
    "calendar": "This asks about the calendar.",
    "times": "This asks for a product of two numbers.",
    "sound": "This asks what sound an animal makes.",
    "misc": "This is a general knowledge question.",
}
PLAN = [
    "I know this fact, so a short answer is enough.",
    "The user wants the answer itself, so I will keep it brief.",
    "I remember the answer; no need to explain.",
]


def _tools_path() -> None:
    tools = str(ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)


def thinking_conversations() -> list[dict]:
    """Training rows from the fact corpus: each fact's statement as plain text (so the knowledge stays), its
    question answered directly with thinking off (once tersely, twice hedged, as the embedded corpus mixes
    them), and, except for the held-out facts (the terse DPO task's held-out rows), its question answered
    after a short think block. So the check below asks questions never seen with a think block."""
    _tools_path()
    import make_bundled_pairs as pairs

    rows = []
    for i, fact in enumerate(pairs.load_facts()):
        q, a, s = fact["question"], fact["answer"], fact["statement"]
        rows.append({"text": s})
        rows.append({"prompt": q, "answer": a, "thinking": False})
        rows.append({"prompt": q, "answer": pairs.hedged(i + 3, a), "thinking": False})
        rows.append({"prompt": q, "answer": pairs.hedged(i + 8, a), "thinking": False})
        if not pairs.is_heldout(i):
            reasoning = f"{TOPIC[fact['category']]} {PLAN[i % len(PLAN)]}"
            rows.append({"prompt": q, "answer": f"<think>\n{reasoning}\n</think>\n\n{a}", "thinking": True})
    return rows


def heldout_questions() -> list[dict]:
    _tools_path()
    import make_bundled_pairs as pairs

    return [
        {"prompt": f["question"], "reference": f["answer"]}
        for i, f in enumerate(pairs.load_facts())
        if pairs.is_heldout(i)
    ]


def _encode_row(tok, row: dict) -> tuple[list[int], list[int]]:
    if "text" in row:
        ids = tok(row["text"] + tok.eos_token, add_special_tokens=False)["input_ids"]
        return ids, list(ids)
    msgs = [{"role": "user", "content": row["prompt"]}]
    kw = {} if row["thinking"] else {"enable_thinking": False}
    prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, **kw)
    full = tok.apply_chat_template(msgs + [{"role": "assistant", "content": row["answer"]}], tokenize=False, **kw)
    assert full.startswith(prompt), (prompt, full)
    full = full[: full.rindex("<|im_end|>") + len("<|im_end|>")]
    p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(full, add_special_tokens=False)["input_ids"]
    assert ids[: len(p_ids)] == p_ids, row
    return ids, [-100] * len(p_ids) + ids[len(p_ids) :]


def generate_answers(
    model, tok, prompts: list[str], enable_thinking: bool | None = None, max_new_tokens: int = 48
) -> list[str]:
    """Greedy answers through the chat template, decoded with skip_special_tokens=True (so a non-special
    <think> stays visible, as with the real Qwen3)."""
    import torch

    kw = {} if enable_thinking is None else {"enable_thinking": enable_thinking}
    side = tok.padding_side
    tok.padding_side = "left"
    texts = [
        tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True, **kw)
        for p in prompts
    ]
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    tok.padding_side = side
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=tok.pad_token_id,
        )
    return [tok.decode(o[enc["input_ids"].shape[1] :], skip_special_tokens=True) for o in out]


def evaluate_thinking(path: Path, verbose: bool = True) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    rows = heldout_questions()
    prompts = [r["prompt"] for r in rows]
    on = generate_answers(model, tok, prompts)
    off = generate_answers(model, tok, prompts, enable_thinking=False)

    def right(answer: str, ref: str) -> bool:
        return ref.rstrip(".").lower() in answer.split("</think>")[-1].lower()

    def thought(answer: str) -> bool:
        return (
            answer.startswith("<think>\n")
            and "</think>" in answer
            and len(answer.split("</think>")[0].removeprefix("<think>").strip()) > 0
        )

    result = {
        "heldout": len(rows),
        "thinking_on_thinks": sum(thought(a) for a in on) / len(rows),
        "thinking_on_right": sum(right(a, r["reference"]) for a, r in zip(on, rows)) / len(rows),
        "thinking_off_no_think": sum("<think>" not in a and "</think>" not in a for a in off) / len(rows),
        "thinking_off_right": sum(right(a, r["reference"]) for a, r in zip(off, rows)) / len(rows),
        "thinking_off_hedged": sum(len(a.split()) > 3 for a in off) / len(rows),
        "examples": [
            {"prompt": r["prompt"], "thinking": a, "no_thinking": b} for r, a, b in list(zip(rows, on, off))[:3]
        ],
    }
    if verbose:
        for r, a, b in zip(rows, on, off):
            print(f"Q: {r['prompt']} ({r['reference']})\n  on:  {a!r}\n  off: {b!r}")
        print(json.dumps({k: v for k, v in result.items() if k != "examples"}, indent=2))
    return result


def thinking_data_fingerprint(recipe: dict | None = None, rows: list[dict] | None = None) -> str:
    """A fingerprint of the recipe and the training rows (so a changed facts.tsv shows the model is stale)."""
    recipe = THINKING_RECIPE if recipe is None else recipe
    rows = thinking_conversations() if rows is None else rows
    return hashlib.sha256(json.dumps([recipe, rows]).encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_thinking(out_dir: Path = THINKING_OUT, steps: int | None = None, seed: int | None = None) -> Path:
    """Continue training the embedded model on the qwen3 template so that it thinks by default and answers
    directly with enable_thinking=False. Deterministic on one torch build (fixed seeds, 2 threads)."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    recipe = dict(THINKING_RECIPE)
    if steps is not None:
        recipe["steps"] = steps
    if seed is not None and seed != 0:
        recipe["seed"] = seed
    torch.set_num_threads(recipe["threads"])
    random.seed(recipe["seed"])
    torch.manual_seed(recipe["seed"])
    fam = FAMILIES["qwen3"]
    tok = build_tokenizer(fam)
    base_tok = json.loads(BASE_TOKENIZER.read_text(encoding="utf-8"))["model"]["vocab"]
    assert all(tok.convert_tokens_to_ids(t) == i for t, i in base_tok.items()), "qwen3 must extend the embedded ids"
    model = AutoModelForCausalLM.from_pretrained(EMBEDDED, dtype=torch.float32)
    model.resize_token_embeddings(len(tok), mean_resizing=True)
    cfg = model.config
    for key, value in fam.config_tokens.items():
        setattr(cfg, key, _ids(tok, value))
    cfg.pad_token_id = None

    rows = thinking_conversations()
    data = [_encode_row(tok, r) for r in rows]
    fingerprint = thinking_data_fingerprint(recipe, rows)
    n_steps, bs = recipe["steps"], recipe["batch_size"]
    opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=0.01, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            min(1.0, (s + 1) / recipe["warmup"]) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / n_steps))))
        ),
    )
    gen = torch.Generator().manual_seed(recipe["seed"])
    order: list[int] = []
    pad = tok.pad_token_id
    print(f"{len(rows)} rows, {sum(len(d[0]) for d in data)} tokens, {n_steps} steps", flush=True)
    started, cpu_started = time.time(), time.process_time()
    model.train()
    for step in range(n_steps):
        if len(order) < bs:
            order += torch.randperm(len(data), generator=gen).tolist()
        batch, order = [data[i] for i in order[:bs]], order[bs:]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([x + [pad] * (width - len(x)) for x, _ in batch])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if (step + 1) % 20 == 0:
            print(f"step {step + 1}/{n_steps} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
    model.eval()
    gen_cfg = {k: _ids(tok, v) if k.endswith("_token_id") else v for k, v in fam.generation.items()}
    model.generation_config = GenerationConfig(**gen_cfg)
    work = Path(out_dir).with_name(Path(out_dir).name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model.save_pretrained(work, safe_serialization=True)
    _save_tokenizer(fam, tok, work)
    train_seconds, train_cpu_seconds = round(time.time() - started), round(time.process_time() - cpu_started)
    result = evaluate_thinking(work, verbose=True)
    (work / "recipe.json").write_text(
        json.dumps(
            {
                **recipe,
                "family": THINKING,
                "stands_for": "Qwen/Qwen3-0.6B (behaviour: thinks unless enable_thinking=False)",
                "built_by": "python tools/build_standins.py --family qwen3-thinking",
                "base_weights_sha256": _sha256(EMBEDDED / "model.safetensors"),
                "data": fingerprint,
                "rows": len(rows),
                "train_wall_seconds": train_seconds,
                "train_cpu_seconds": train_cpu_seconds,
                "heldout_check": {k: v for k, v in result.items() if k != "examples"},
                "weights_sha256": _sha256(work / "model.safetensors"),
            },
            indent=2,
        )
        + "\n"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    work.rename(out_dir)
    return Path(out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=STANDINS)
    parser.add_argument("--all", action="store_true", help="every random-weight family (not qwen3-thinking)")
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="output folder (with --all: one sub-folder per family)")
    parser.add_argument("--steps", type=int, help="qwen3-thinking: training steps (default from the recipe)")
    parser.add_argument("--check", action="store_true", help="qwen3-thinking: only evaluate the committed model")
    args = parser.parse_args()
    if args.family == THINKING:
        out = args.out or THINKING_OUT
        if args.check:
            evaluate_thinking(out)
        else:
            started = time.time()
            build_thinking(out, steps=args.steps, seed=args.seed)
            print(f"built {out} in {time.time() - started:.0f} s")
        return
    if not (args.all or args.family) or not args.out:
        parser.error("give --family NAME --out DIR, or --all --out DIR")
    names = list(FAMILIES) if args.all else [args.family]
    for name in names:
        started = time.time()
        out = args.out / name if args.all else args.out
        build_standin(name, out, size=args.size, seed=args.seed)
        n = json.loads((out / "standin.json").read_text())["parameters"]
        print(f"{name} ({args.size}): {n:,} parameters -> {out} ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()

"""The model card (README.md) for an exported run: task, data, settings and the before/after table.

Everything comes from the run folder's own files (run.json, report.json, data/data.json), so the card
states what was measured, not what was hoped for. The YAML header follows the Hugging Face model-card
conventions (library_name, tags, base_model only when the base is a hub model).
"""

from __future__ import annotations

import json

from rl_agent.kit.export.rundir import RunDir


def _md(text: object) -> str:
    """One line of table-safe text."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return _md(value)


def before_after_rows(report: dict) -> list[tuple[str, object, object]]:
    """Every scalar figure both sides report, in the report's order."""
    before, after = report.get("before", {}), report.get("after", {})
    return [
        (k, before[k], after[k])
        for k in before
        if k in after and isinstance(before[k], (int, float)) and not isinstance(before[k], bool)
    ]


def render_card(run: RunDir, *, merged: bool) -> str:
    spec, report = run.spec, run.report or {}
    algorithm = run.algorithm.upper()
    header = ["---", "library_name: transformers", f"tags: [rl-agent, trl, {run.algorithm}, lora]"]
    if spec.get("model_source") == "hub":
        header.append(f"base_model: {json.dumps(spec['model'])}")
    header.append("---")
    lines = header + [
        "",
        f"# {algorithm} + LoRA fine-tune of {_md(spec.get('model', '?'))}",
        "",
        "Trained with rl-agent (Hugging Face TRL + PEFT).",
        "",
    ]
    lines += ["## Task", "", _md(spec.get("task", "")), ""]
    lines += ["## Data", ""]
    info = run.data_info()
    if info:
        chk = info.get("check", {})
        lines.append(f"- source: `{_md(info['source'])}`" + (f" (split {info['split']})" if info.get("split") else ""))
        lines.append(f"- type: {_md(chk.get('train', {}).get('kind', '?'))}")
        lines.append(
            f"- training rows: {chk.get('train_rows', '?')}; held-out rows: {chk.get('heldout_rows', '?')} "
            f"({_md(chk.get('heldout_from', ''))})"
        )
    else:
        lines.append(f"- training file: `{_md(spec.get('train_file', '?'))}`")
        lines.append(f"- held-out file: `{_md(spec.get('heldout_file', '?'))}`")
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in run.settings.items()]
    lines += ["", "## Before / after on held-out prompts", ""]
    rows = before_after_rows(report)
    if rows:
        lines += ["| figure | base model | tuned model |", "|---|---|---|"]
        lines += [f"| {k} | {_fmt(b)} | {_fmt(a)} |" for k, b, a in rows]
        verdict = report.get("verdict", {})
        if verdict:
            lines += [
                "",
                f"Verdict: {'succeeded' if verdict.get('succeeded') else 'did not succeed'} "
                f"({', '.join(f'{_md(c)}: {ok}' for c, ok in verdict.get('checks', {}).items())}).",
            ]
        lines += ["", f"Steps: {report.get('steps', '?')}; final training loss: {_fmt(report.get('final_loss', '?'))}."]
    else:
        lines.append("No report.json: the run did not complete, so there is no before/after.")
    lines += ["", "## Use", ""]
    if merged:
        lines += [
            "```python",
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            'model = AutoModelForCausalLM.from_pretrained("PATH_OR_REPO")',
            'tokenizer = AutoTokenizer.from_pretrained("PATH_OR_REPO")',
            'inputs = tokenizer.apply_chat_template([{"role": "user", "content": "Your question"}],',
            '                                       add_generation_prompt=True, return_tensors="pt", return_dict=True)',
            "print(tokenizer.decode(model.generate(**inputs, max_new_tokens=64)[0][inputs['input_ids'].shape[1]:]))",
            "```",
        ]
    else:
        lines.append(
            "This folder holds the LoRA adapter; load it on the base model with `peft.PeftModel.from_pretrained`."
        )
    return "\n".join(lines) + "\n"

"""Hostile task text in the recipe library: whatever the quotes hold (Jinja delimiters, Python code, shell
metacharacters, triple quotes, control characters), check.py compiles to the same program as for harmless
text, with the text only as a string inside PARAMS, and running the check executes none of it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rl_agent.kit.planning.recipes import RecipeRefused, plan_and_prove, plan_recipe, read_recipe


def payloads(marker: Path) -> dict[str, str]:
    m = str(marker)
    return {
        "jinja_expr": f"{{{{ cycler.__init__.__globals__.os.system('touch {m}') }}}}",
        "jinja_stmt": f"{{% set x = cycler.__init__.__globals__.os.system('touch {m}') %}}{{% endraw %}}",
        "python": f"__import__('os').system('touch {m}')",
        "triple_quotes": f"\\\"\\\"\\\"); __import__('pathlib').Path(r'{m}').touch(); (\\\"\\\"\\\"",
        "json_breakout": f'"}}); import os; os.system("touch {m}"); json.loads(("{{"',
        "shell": f"$(touch {m}); touch {m} && `touch {m}` | tee {m} > {m}",
        "repr_breakout": f"' + __import__('os').system('touch {m}') + '",
        "control": f"\x1b[31m\u202e os.system('touch {m}') \\x00",
    }


TEMPLATES = {
    "prefix": "Start every answer with \u201c{p}\u201d.",
    "banned": "Never start an answer with \u201c{p}\u201d.",
    "closing": "End every answer with the line \u201c{p}\u201d.",
    "json_keys": "Reply with a JSON object with the keys \u201canswer\u201d and \u201c{p}\u201d.",
}
HARMLESS = "Hello"


def _shape(source: str) -> str:
    """The check's AST with every string constant blanked: what it does, not what its strings say."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def _params_literal(source: str) -> dict:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PARAMS":
            return json.loads(ast.literal_eval(node.value.args[0]))
    raise AssertionError("no PARAMS")


@pytest.mark.parametrize("recipe", list(TEMPLATES))
@pytest.mark.parametrize("kind", list(payloads(Path("/x"))))
def test_quoted_hostile_text_is_data_in_the_check(recipe, kind, tmp_path):
    marker = tmp_path / "PWNED"
    payload = payloads(marker)[kind]
    task = TEMPLATES[recipe].format(p=payload)
    harmless = plan_recipe(TEMPLATES[recipe].format(p=HARMLESS))
    try:
        plan, proof = plan_and_prove(task, tmp_path / "run")
    except RecipeRefused as e:  # refusing is fine; executing is not
        assert "Understood" in str(e)
        assert not marker.exists()
        return
    assert plan.recipe == recipe
    compile(plan.check_source, "check.py", "exec")
    assert _shape(plan.check_source) == _shape(harmless.check_source)
    values = json.dumps(_params_literal(plan.check_source))
    assert "touch" in values  # the text is there, as a string value
    assert proof.passed, proof.message()  # running the check on its examples ran none of the text
    assert not marker.exists()


def test_hostile_prefix_is_kept_exactly_and_matched_literally(tmp_path):
    marker = tmp_path / "PWNED"
    payload = payloads(marker)["jinja_expr"]
    plan, proof = plan_and_prove(f'Start every answer with "{payload}"', tmp_path)
    assert plan.params["prefix"] == payload and proof.passed
    assert all(r["chosen"].startswith(payload) for r in plan.train)
    assert not marker.exists()


@pytest.mark.parametrize("kind", list(payloads(Path("/x"))))
def test_unquoted_hostile_text_is_refused_not_planned(kind, tmp_path):
    """Code outside quotes is a clause no recipe reads: refused, never half-planned."""
    text = "Be terse and direct. " + payloads(tmp_path / "PWNED")[kind]
    with pytest.raises(RecipeRefused):
        read_recipe(text)


def test_very_long_text_is_refused_or_planned_quickly():
    with pytest.raises(RecipeRefused, match="under 20000 characters"):
        read_recipe("Be terse. " + "A" * 20_000)
    long_quote = "x" * 500  # a quote longer than the reader takes is not a quote: nothing is guessed
    with pytest.raises(RecipeRefused):
        read_recipe(f'Start every answer with "{long_quote}"')
    with pytest.raises(RecipeRefused, match="raw") as e:  # a word no recipe reads, deep in a long clause
        read_recipe("Be terse " + "and direct " * 1500 + "{% raw %} {{ 7 * 7 }}")
    assert len(str(e.value)) < 1500  # the refusal quotes the task cut short


def test_most_hostile_quotes_are_planned_so_the_data_test_is_not_vacuous():
    planned = 0
    for payload in payloads(Path("/x")).values():
        for template in TEMPLATES.values():
            try:
                read_recipe(template.format(p=payload))
                planned += 1
            except RecipeRefused:
                pass
    assert planned >= 20

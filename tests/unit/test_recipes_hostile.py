"""Hostile parameter values in the recipe library: whatever a `--set` value holds (Jinja delimiters, Python
code, shell metacharacters, triple quotes, control characters), check.py compiles to the same program as for
harmless text, with the text only as a string inside PARAMS (or PARTS, for combined recipes), and running the
check executes none of it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rl_agent.kit.planning.recipes import RecipeError, prove_check
from rl_agent.kit.planning.recipes.library import plan_recipes


def payloads(marker: Path) -> dict[str, str]:
    m = str(marker)
    return {
        "jinja_expr": f"{{{{ cycler.__init__.__globals__.os.system('touch {m}') }}}}",
        "jinja_stmt": f"{{% set x = cycler.__init__.__globals__.os.system('touch {m}') %}}{{% endraw %}}",
        "python": f"__import__('os').system('touch {m}')",
        "triple_quotes": f'\\"\\"\\"); __import__(\'pathlib\').Path(r\'{m}\').touch(); (\\"\\"\\"',
        "json_breakout": f'"}}); import os; os.system("touch {m}"); json.loads(("{{"',
        "shell": f"$(touch {m}); touch {m} && `touch {m}` | tee {m} > {m}",
        "repr_breakout": f"' + __import__('os').system('touch {m}') + '",
        "control": f"\x1b[31m\u202e os.system('touch {m}') \\x00",
    }


# recipe -> the --set values with the payload in place of {p}
TEMPLATES = {
    "prefix": ["prefix={p}"],
    "banned": ["openers={p}"],
    "closing": ["closing={p}", "whole_line=true"],
    "json_keys": ["keys=answer", "keys={p}"],
}
HARMLESS = "Hello"


def _sets(recipe: str, p: str) -> list[str]:
    return [s.replace("{p}", p) for s in TEMPLATES[recipe]]


def _shape(source: str) -> str:
    """The check's AST with every string constant blanked: what it does, not what its strings say."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def _literal(source: str, name: str = "PARAMS"):
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return json.loads(ast.literal_eval(node.value.args[0]))
    raise AssertionError(f"no {name}")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in _strings(v)] if isinstance(value, list) else []


@pytest.mark.parametrize("recipe", list(TEMPLATES))
@pytest.mark.parametrize("kind", list(payloads(Path("/x"))))
def test_a_hostile_parameter_is_data_in_the_check(recipe, kind, tmp_path):
    marker = tmp_path / "PWNED"
    payload = payloads(marker)[kind]
    harmless = plan_recipes([(recipe, _sets(recipe, HARMLESS))])
    try:
        plan = plan_recipes([(recipe, _sets(recipe, payload))])
    except RecipeError as e:  # refusing is fine (a line break in a prefix); executing is not
        assert recipe in str(e)
        assert not marker.exists()
        return
    assert plan.recipe == recipe
    compile(plan.check_source, "check.py", "exec")
    assert _shape(plan.check_source) == _shape(harmless.check_source)
    assert payload in _strings(_literal(plan.check_source))  # there, as a string value
    files = plan.write(tmp_path / "run")
    assert prove_check(tmp_path / "run", files["check.py"], plan.good, plan.bad).passed  # ran none of the text
    assert not marker.exists()


def test_a_hostile_prefix_is_kept_exactly_and_matched_literally(tmp_path):
    marker = tmp_path / "PWNED"
    payload = payloads(marker)["jinja_expr"]
    plan = plan_recipes([("prefix", [f"prefix={payload}"])])
    files = plan.write(tmp_path)
    assert plan.params["prefix"] == payload and prove_check(tmp_path, files["check.py"], plan.good, plan.bad).passed
    assert all(r["chosen"].startswith(payload) for r in plan.train)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["jinja_expr", "python", "repr_breakout", "json_breakout"])
def test_a_hostile_parameter_in_a_combined_check_is_data(kind, tmp_path):
    """Combined recipes: each part's parameters go in PARTS, a JSON literal; the program is the harmless one."""
    marker = tmp_path / "PWNED"
    payload = payloads(marker)[kind]

    def groups(p):
        return [("banned", [f"phrases={p}"]), ("length", ["max=25"])]

    plan, harmless = plan_recipes(groups(payload)), plan_recipes(groups(HARMLESS))
    assert _shape(plan.check_source) == _shape(harmless.check_source)
    assert _literal(plan.check_source, "PARTS")[0]["params"]["phrases"] == [payload]
    files = plan.write(tmp_path / "run")
    assert prove_check(tmp_path / "run", files["check.py"], plan.good, plan.bad).passed
    assert not marker.exists()


def test_most_hostile_values_are_planned_so_the_data_test_is_not_vacuous():
    planned = 0
    for payload in payloads(Path("/x")).values():
        for recipe in TEMPLATES:
            try:
                plan_recipes([(recipe, _sets(recipe, payload))])
                planned += 1
            except RecipeError:
                pass
    assert planned >= 28

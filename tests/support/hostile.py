"""Hostile task texts (quotes, Jinja delimiters, Python, shell metacharacters, control characters, very long or
non-English text) and the two readings of a rendered script that must not change when one enters it: what the
script does (its AST, docstring blanked) and its CONFIG."""

from __future__ import annotations

import ast
from pathlib import Path

from rl_agent.kit.planning.task_spec import TASK_MAX_CHARS

SCRIPTS = ("train_dpo.py.j2", "evaluate.py.j2")


def payloads(marker: Path) -> dict[str, str]:
    m = str(marker)
    return {
        "triple_quotes": f'"""\nimport pathlib; pathlib.Path(r"{m}").touch()\n"""',
        "single_triple": f"'''; __import__('pathlib').Path(r'{m}').touch(); '''",
        "jinja_expr": f"{{{{ cycler.__init__.__globals__.os.system('touch {m}') }}}}",
        "jinja_stmt": f"{{% set x = cycler.__init__.__globals__.os.system('touch {m}') %}}{{% endraw %}}{{# c #}}",
        "shell": f"$(touch {m}); touch {m} && `touch {m}` | touch {m} > {m}",
        "backslash_newline": f'\\"\n\nimport os\nos.system("touch {m}")\n# \\',
        "braces_quotes": '}} {{ {% %} {"a": 1} \' " \\\' \\" \\n \\x00',
        "control_chars": f"\x00\r\x1b[31m\u202e\u2028\u2029 os.system('touch {m}')",
        "non_english": f"简洁地回答，不要含糊其辞。 Отвечай кратко. أجب باختصار. {{{{ '{m}' }}}}",
        "very_long": "A" * (TASK_MAX_CHARS - 200) + f'"""; open(r"{m}", "w")',
    }


def module_shape(source: str) -> str:
    """The script's AST with its docstring blanked: what the script does, not what it says."""
    tree = ast.parse(source)
    first = tree.body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    first.value.value = ""
    return ast.dump(tree)


def script_config(source: str) -> dict:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CONFIG":
            return ast.literal_eval(node.value)
    raise AssertionError("no CONFIG")

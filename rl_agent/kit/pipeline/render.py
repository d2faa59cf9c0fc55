"""Render pipeline scripts from the Jinja templates shipped in rl_agent/templates.

Safety: user text reaches a template only as data, through two filters. `py` turns a value into a Python
literal with repr() (a str literal cannot be escaped from), and `pycomment` flattens text to one printable
line for docstrings and comments. Templates themselves come only from the package, never from user input,
and StrictUndefined turns a missing variable into an error instead of an empty string in the script.
"""

from __future__ import annotations

import math
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from rl_agent import runtime
from rl_agent.runtime import RUNTIME_PACKAGE

_PY_SCALARS = (str, int, bool, type(None))


def py_literal(value: Any) -> str:
    """A Python source literal for plain data; anything else is refused rather than str()-ed."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"refusing to render non-finite float {value!r}")
        return repr(value)
    if isinstance(value, _PY_SCALARS):
        return repr(value)
    if isinstance(value, Path):
        return repr(str(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"refusing to render non-string key {k!r}")
            items.append(f"{py_literal(k)}: {py_literal(v)}")
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"refusing to render {type(value).__name__} into a script")


def py_comment(value: Any, limit: int = 200) -> str:
    """One printable line, safe inside a comment or a triple-quoted docstring."""
    text = " ".join(str(value).split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    text = text.replace('"""', "'''").replace("\\", "/")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def template_env() -> jinja2.Environment:
    root = resources.files("rl_agent") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["py"] = py_literal
    env.filters["pycomment"] = py_comment
    return env


def render_template(name: str, context: dict[str, Any]) -> str:
    return template_env().get_template(name).render(**context)


def install_runtime(folder: Path) -> Path:
    """Copy rl-agent's runtime (standard library only) into `folder` as rl_agent_runtime/, the package every
    rendered script imports its scoring and chat code from; replaced whole, so it always matches the kit."""
    dest = Path(folder) / RUNTIME_PACKAGE
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for src in sorted(Path(runtime.__file__).parent.glob("*.py")):
        shutil.copy2(src, tmp / src.name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    return dest


def write_rendered(name: str, context: dict[str, Any], dest: Path) -> Path:
    """Render `name` to `dest` atomically and check it compiles, so a broken render never lands; the runtime
    the script imports is installed beside it."""
    source = render_template(name, context)
    compile(source, str(dest), "exec")
    install_runtime(dest.parent)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.write_text(source, encoding="utf-8")
    tmp.replace(dest)
    return dest

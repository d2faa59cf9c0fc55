"""The package's imports run one way, down the layers below, with no cycle. Every import counts: at module
level, inside functions and under TYPE_CHECKING alike (a lazy import is still a dependency).

The layers, top to bottom (docs/development.md says the same):

    commands (and cli)  ->  agent  ->  kit: export -> pipeline -> planning -> spec -> tracks -> settings
    -> judges -> dataio -> tracking -> models -> launch  ->  runtime  ->  errors

A module may import its own layer or any layer below it, never one above. Importing a submodule also runs its
parent packages' __init__, which is not a dependency on them, so edges to one's own ancestors are not counted.
"""

import ast
from pathlib import Path

import rl_agent

ROOT = Path(rl_agent.__file__).resolve().parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("rl_agent.__main__", "rl_agent.cli", "rl_agent.commands"),
    ("rl_agent.agent",),
    ("rl_agent.kit.export",),
    ("rl_agent.kit.pipeline",),
    ("rl_agent.kit.planning",),
    ("rl_agent.kit.spec",),
    ("rl_agent.kit.tracks",),
    ("rl_agent.kit.settings",),
    ("rl_agent.kit.judges",),
    ("rl_agent.kit.dataio",),
    ("rl_agent.kit.tracking",),
    ("rl_agent.kit.models",),
    ("rl_agent.kit.launch",),
    ("rl_agent.runtime",),
    ("rl_agent.errors", "rl_agent.kit", "rl_agent"),  # package roots: docstrings and versions only
)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first import}, for every import statement anywhere."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                names = [f"{base}.{a.name}" for a in node.names]
                # `from pkg import submodule` depends on the submodule; `from pkg import name` on pkg itself
                targets = names if all(n in modules for n in names) else names + [base]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith("rl_agent") and not name.startswith(t + "."):
                    graph[name].setdefault(t, node.lineno)
    return graph


def layer_of(module: str) -> int:
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, rank = len(p), i
    assert rank is not None, f"{module} is in no layer: add it to LAYERS (and to docs/development.md)"
    return rank


def upward_edges(graph: dict[str, dict[str, int]]) -> list[str]:
    return [
        f"{m}:{line} imports {t} (a layer above)"
        for m, deps in sorted(graph.items())
        for t, line in sorted(deps.items())
        if layer_of(t) < layer_of(m)
    ]


def find_cycle(graph) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_cycle_and_no_upward_import():
    graph = import_graph()
    edges = sum(len(d) for d in graph.values())
    assert len(graph) > 80 and edges > 300, "the graph was not built"
    cycle = find_cycle(graph)
    up = upward_edges(graph)
    print(
        f"import graph: {len(graph)} modules, {edges} edges (all imports), "
        f"{0 if cycle is None else 1} cycle(s) found, {len(up)} upward edge(s)"
    )
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
    assert not up, "\n".join(up)


def test_the_checks_say_no(tmp_path):
    """A cycle, an upward import made inside a function and one under TYPE_CHECKING are all caught."""
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None
    pkg = tmp_path / "rl_agent"
    (pkg / "kit" / "dataio").mkdir(parents=True)
    (pkg / "agent").mkdir()
    for d in (pkg, pkg / "kit", pkg / "kit" / "dataio", pkg / "agent"):
        (d / "__init__.py").write_text("")
    (pkg / "agent" / "x.py").write_text("")
    (pkg / "kit" / "dataio" / "lazy.py").write_text("def f():\n    from rl_agent.agent import x\n")
    (pkg / "kit" / "dataio" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rl_agent.agent.x\n"
    )
    up = upward_edges(import_graph(pkg))
    assert up == [
        "rl_agent.kit.dataio.lazy:2 imports rl_agent.agent.x (a layer above)",
        "rl_agent.kit.dataio.typed:3 imports rl_agent.agent.x (a layer above)",
    ]


GENERIC = (
    "rl_agent.commands",
    "rl_agent.cli",
    "rl_agent.kit.pipeline",
    "rl_agent.kit.spec",
    "rl_agent.kit.models",
    "rl_agent.kit.dataio",
    "rl_agent.kit.judges",
    "rl_agent.kit.export",
)


def test_the_generic_machinery_names_no_track():
    """The commands, the stage driver, the report, the spec, export and the data/model layers reach tracks
    only through tracks.base and tracks.registry."""
    graph = import_graph()
    allowed = {"rl_agent.kit.tracks", "rl_agent.kit.tracks.base", "rl_agent.kit.tracks.registry"}
    leaks = {
        m: sorted(t for t in deps if t.startswith("rl_agent.kit.tracks") and t not in allowed)
        for m, deps in graph.items()
        if m.startswith(GENERIC)
    }
    leaks = {m: d for m, d in leaks.items() if d}
    assert not leaks, leaks

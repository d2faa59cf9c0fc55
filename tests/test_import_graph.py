"""The package's module-level imports form no cycle: data flows one way (commands -> agent/planning ->
pipeline -> tracks -> templates). Imports inside functions or under TYPE_CHECKING are not counted."""

import ast
from pathlib import Path

import rl_agent

ROOT = Path(rl_agent.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name and t.startswith("rl_agent"):
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and graph["rl_agent.kit.pipeline.driver"], "the graph was not built"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


GENERIC = ("rl_agent.commands", "rl_agent.cli", "rl_agent.kit.pipeline", "rl_agent.kit.spec", "rl_agent.kit.models",
           "rl_agent.kit.dataio", "rl_agent.kit.judges")


def test_the_generic_machinery_names_no_track():
    """The commands, the stage driver, the report, the spec and the data/model layers reach tracks only
    through tracks.base and tracks.registry (the planner, which picks an algorithm, is the exception)."""
    graph = import_graph()
    allowed = {"rl_agent.kit.tracks.base", "rl_agent.kit.tracks.registry"}
    leaks = {m: sorted(t for t in deps if t.startswith("rl_agent.kit.tracks.") and t not in allowed)
             for m, deps in graph.items() if m.startswith(GENERIC)}
    leaks = {m: d for m, d in leaks.items() if d}
    assert not leaks, leaks

"""The data layer has no import circles: every module imports, and the graph of imports inside
``scalelaw.data`` (at module level and inside functions alike) is acyclic."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import scalelaw.data

PACKAGE = "scalelaw.data"


def data_modules() -> dict[str, Path]:
    """Every module of scalelaw.data (packages by their __init__.py) and its source file."""
    root = Path(scalelaw.data.__file__).parent
    found = {PACKAGE: root / "__init__.py"}
    for info in pkgutil.walk_packages([str(root)], prefix=f"{PACKAGE}."):
        base = root.joinpath(*info.name.split(".")[2:])
        found[info.name] = base / "__init__.py" if info.ispkg else base.with_suffix(".py")
    return found


def imported(module: str, source: Path, known: set[str]) -> set[str]:
    """The modules of scalelaw.data that ``module`` imports anywhere in its source."""
    edges = set()
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        edges |= {name for name in names if name in known and name != module}
    return edges


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_every_data_module_imports() -> None:
    modules = data_modules()
    assert f"{PACKAGE}.readers.formats" in modules and f"{PACKAGE}.pipeline" in modules
    for name in modules:
        importlib.import_module(name)


def test_the_import_graph_of_the_data_layer_is_acyclic() -> None:
    modules = data_modules()
    known = set(modules)
    graph = {name: imported(name, path, known) - {PACKAGE} for name, path in modules.items()}
    assert graph[f"{PACKAGE}.pipeline"] >= {f"{PACKAGE}.readers.formats", f"{PACKAGE}.normalize"}
    assert find_cycle(graph) is None, f"import circle: {' -> '.join(find_cycle(graph) or [])}"


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_readers_do_not_reach_back_into_the_pipeline() -> None:
    """The format readers sit below the pipeline: none imports the pipeline steps that call them."""
    modules = data_modules()
    known = set(modules)
    above = {f"{PACKAGE}.{name}" for name in ("pipeline", "normalize", "merge", "metadata", "validate", "store")}
    for name, path in modules.items():
        if name.startswith(f"{PACKAGE}.readers"):
            assert not imported(name, path, known) & above, name

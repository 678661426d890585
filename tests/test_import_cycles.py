"""No module of the package imports itself back at load time, whatever is imported first.

A cycle of module-level imports works or fails by import order: ``missionctl replay`` imported
``services.usecases.replay`` first and died with "cannot import name … partially initialized
module", while every other entry point imported the dashboard first and worked. Importing each
of the package's modules in a fresh interpreter would take minutes; reading the imports does
not, and finds every such cycle, not only those an import order trips over.

The graph: each module's imports run at load time (not those inside functions or under
``TYPE_CHECKING``), with ``from package import name`` counting as an import of the package and,
when ``name`` is a module, of that module too; importing a module imports each package above
it, so ``a.b.c`` depends on ``a.b`` as well.
"""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import missionctl

SOURCE = Path(missionctl.__file__).parent.parent


def _modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    found = {}
    for path in SOURCE.joinpath("missionctl").rglob("*.py"):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _load_time_imports(statements: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements among ``statements`` that run when the module loads."""
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement
        elif isinstance(statement, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(statement.test):
                yield from _load_time_imports(statement.body)
            yield from _load_time_imports(statement.orelse)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _load_time_imports(block)
            for handler in statement.handlers:
                yield from _load_time_imports(handler.body)
        elif isinstance(statement, ast.With):
            yield from _load_time_imports(statement.body)


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that loading ``name`` imports directly, with their packages."""
    named: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for statement in _load_time_imports(ast.parse(path.read_text()).body):
        if isinstance(statement, ast.Import):
            named.update(alias.name for alias in statement.names)
            continue
        base = statement.module or ""
        if statement.level:
            above = package[: len(package) - statement.level + 1]
            base = ".".join([*above, base] if base else above)
        named.add(base)
        named.update(f"{base}.{alias.name}" for alias in statement.names)
    imported = set()
    for target in named:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            module = ".".join(parts[:end])
            # A package's own submodules import it first anyway: no edge back to it.
            if module in modules and module != name and not name.startswith(f"{module}."):
                imported.add(module)
    return imported


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back_at_load_time() -> None:
    modules = _modules()
    graph = {name: _imported(name, path, modules) for name, path in modules.items()}
    assert len(graph) > 400  # the whole package was read
    assert sum(len(imported) for imported in graph.values()) > 2000
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_the_cycle_replay_had() -> None:
    graph = {
        "missionctl.services.usecases.replay": {"missionctl.services.usecases.dashboard"},
        "missionctl.services.usecases.dashboard": {"missionctl.services.usecases.dashboard.runs"},
        "missionctl.services.usecases.dashboard.runs": {"missionctl.services.usecases.replay"},
        "missionctl.errors": set(),
    }
    assert _cycles(graph) == [sorted(graph)[1:]]


def test_replay_is_importable_first() -> None:
    """The module ``missionctl replay`` loads first, alone in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", "import missionctl.services.usecases.replay"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]

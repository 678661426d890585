"""The code stays readable: short modules and functions, simple control flow in the engine.

These are the limits CONTRIBUTING.md states. A function that outgrows them is split into named
steps rather than the limit raised. The SQL stays in ``repositories/``: services and the engine
build no statement.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit

SRC = Path(__file__).resolve().parents[1] / "src" / "missionctl"
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 80
MAX_COMPLEXITY = 20
"""Cyclomatic complexity as radon counts it (each boolean operator counts as a branch)."""
COMPLEXITY_PACKAGES = ("services", "engine")
MAX_TYPE_IGNORES = 10
NO_SQL_PACKAGES = ("services", "engine")
SESSION_TYPES = frozenset({"AsyncSession", "Session", "async_sessionmaker", "sessionmaker"})
"""What services and the engine may import from SQLAlchemy besides its exceptions (``exc``)."""


def _sources() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.relative_to(SRC).parts:
            yield path


def test_no_module_is_longer_than_1000_lines() -> None:
    too_long = [
        f"{path.relative_to(SRC)} ({lines})"
        for path in _sources()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, "split these by concept: " + "; ".join(too_long)


def test_no_function_is_longer_than_80_lines() -> None:
    too_long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({lines})")
    assert not too_long, "split these into named steps: " + "; ".join(too_long)


def test_services_and_the_engine_have_no_function_above_complexity_20() -> None:
    tangled = []
    for package in COMPLEXITY_PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            for block in cc_visit(path.read_text(encoding="utf-8")):
                if block.complexity > MAX_COMPLEXITY:
                    where = f"{path.relative_to(SRC)}:{block.lineno}"
                    tangled.append(f"{where} {block.name} ({block.complexity})")
    assert not tangled, "split these into named steps: " + "; ".join(tangled)


def test_type_ignores_stay_rare() -> None:
    ignores = [
        f"{path.relative_to(SRC)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "# type: ignore" in line
    ]
    assert len(ignores) <= MAX_TYPE_IGNORES, f"{len(ignores)} type: ignore comments: {ignores}"


def _sqlalchemy_imports(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """Each ``(line, module, name)`` the module imports (``import x`` imports ``*`` from ``x``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, "*"


def _builds_sql(module: str, name: str) -> bool:
    if module != "sqlalchemy" and not module.startswith("sqlalchemy."):
        return False
    if module.endswith(".exc"):
        return False  # exception classes, caught to translate errors
    return name not in SESSION_TYPES and not (module == "sqlalchemy" and name == "exc")


def test_services_and_the_engine_build_no_sql() -> None:
    builders = [
        f"{path.relative_to(SRC)}:{line} imports {name} from {module}"
        for package in NO_SQL_PACKAGES
        for path in sorted((SRC / package).rglob("*.py"))
        for line, module, name in _sqlalchemy_imports(ast.parse(path.read_text(encoding="utf-8")))
        if _builds_sql(module, name)
    ]
    assert not builders, "move these statements into repositories/: " + "; ".join(builders)

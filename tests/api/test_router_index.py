"""The index of which route modules serve which paths matches the routes themselves.

A command without a server includes only the modules ``MODULES_BY_SEGMENT`` names for the path
it asks for (ADR 0089): a module missing from the index would make its routes a 404 there.
"""

import importlib
import pkgutil
from collections import defaultdict

import missionctl.api.routes as routes
from missionctl.api.router import MODULES_BY_SEGMENT, ROUTE_MODULES, modules_serving

# Served outside /api/v1 (the liveness probe at /healthz).
OUTSIDE = {"health"}


def _served_segments() -> dict[str, set[str]]:
    served: dict[str, set[str]] = defaultdict(set)
    for module in ROUTE_MODULES:
        router = importlib.import_module(f"missionctl.api.routes.{module}").router
        for route in router.routes:
            served[route.path.strip("/").split("/", 1)[0]].add(module)
    return served


def test_every_route_module_is_under_the_api_router() -> None:
    modules = {info.name for info in pkgutil.iter_modules(routes.__path__)}
    assert modules - OUTSIDE == set(ROUTE_MODULES)


def test_each_segment_lists_exactly_the_modules_that_serve_it() -> None:
    assert {segment: set(found) for segment, found in MODULES_BY_SEGMENT.items()} == (
        _served_segments()
    )


def test_a_path_finds_its_modules_and_a_stranger_none() -> None:
    assert "artifacts" in modules_serving("/api/v1/runs/01/artifacts")
    assert modules_serving("/api/v1/nowhere") == ()
    assert modules_serving("/mcp") == ()

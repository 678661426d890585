"""The methods a path supports, read from the app's route table: ``Allow`` and ``OPTIONS``.

Starlette answers a method that a path does not support with 405 naming only the methods of
the first route whose path matched (``/api/v1/missions`` would say ``POST`` alone, though it
serves ``GET`` too), and answers ``OPTIONS`` the same way. The error handlers use
:func:`allowed_methods` instead, which consults every route.
"""

from collections.abc import Mapping
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp

# The order methods are listed in (others follow, by name).
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: ASGIApp, scope: Mapping[str, Any]) -> list[str]:
    """Every method some route of ``app`` serves at the request's path, then ``OPTIONS``.

    Empty when no route serves the path at all (a 404, not a 405). ``OPTIONS`` is listed
    because the error handlers answer it for every path a route serves.
    """
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path.removeprefix(root)
    methods: set[str] = set()
    for route in iter_route_contexts(getattr(app, "routes", ())):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= route.methods
    if not methods:
        return []
    methods.add("OPTIONS")
    return sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))

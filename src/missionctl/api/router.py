"""The /api/v1 router, and which of its modules serve which paths.

A server includes every module (``build_api_router()``). A command without a server (ADR 0089)
includes only the modules that serve the paths it asks for (``modules_serving``), so that it
imports what those need and nothing else; ``MODULES_BY_SEGMENT`` says which they are, and
``tests/api/test_router_index.py`` checks it against the routes themselves.
"""

import functools
import importlib

from fastapi import APIRouter

from missionctl.security.guard import GuardedRoute

ROUTE_MODULES: tuple[str, ...] = (
    "missions",
    "board",
    "epics",
    "register",
    "documents",
    "runs",
    "workflows",
    "artifacts",
    "me",
    "access",
    "approvals",
    "controls",
    "agents",
    "prices",
    "models",
    "spending_caps",
    "search",
    "memory",
    "system",
    "workers",
    "costs",
    "events",
    "audit",
    "palette",
    "webhooks",
    "callbacks",
    "calendar",
    "schedules",
    "specs",
    "templates",
    "analytics",
    "ids",
)
"""Every module of ``missionctl.api.routes`` under /api/v1, in the order they are matched."""

MODULES_BY_SEGMENT: dict[str, tuple[str, ...]] = {
    "agents": ("agents",),
    "analytics": ("analytics",),
    "approvals": ("approvals",),
    "artifacts": ("artifacts",),
    "audit": ("audit",),
    "board": ("board",),
    "calendar": ("calendar",),
    "callbacks": ("callbacks",),
    "controls": ("controls",),
    "costs": ("costs",),
    "emergency-stop": ("controls",),
    "epics": ("epics",),
    "events": ("events",),
    "followers": ("system",),
    "health": ("system",),
    "ids": ("ids",),
    "me": ("me",),
    "memory": ("memory",),
    "missions": (
        "missions",
        "register",
        "documents",
        "artifacts",
        "memory",
        "specs",
    ),
    "palette": ("palette",),
    "catalogue": ("models",),
    "models": ("models",),
    "prices": ("prices",),
    "spending-caps": ("spending_caps",),
    "runs": ("runs", "artifacts"),
    "schedules": ("calendar", "schedules"),
    "search": ("search",),
    "specs": ("specs",),
    "templates": ("templates",),
    "tokens": ("access",),
    "users": ("access",),
    "webhooks": ("webhooks",),
    "workers": ("workers",),
    "workflows": ("workflows",),
}
"""The modules serving the paths under /api/v1/<segment>/, by their first segment."""


def _router_of(module: str) -> APIRouter:
    router: APIRouter = importlib.import_module(f"missionctl.api.routes.{module}").router
    return router


@functools.cache
def build_api_router(modules: tuple[str, ...] = ROUTE_MODULES) -> APIRouter:
    """A router under /api/v1 holding ``modules``' routes, in ``ROUTE_MODULES``' order.

    Built once per set of modules in a process: building the routes is the dear part of
    making an app, and every app of the process (a server's, each test's) shares them.
    """
    router = APIRouter(route_class=GuardedRoute, prefix="/api/v1")
    for module in ROUTE_MODULES:
        if module in modules:
            router.include_router(_router_of(module))
    return router


def modules_serving(path: str) -> tuple[str, ...]:
    """The modules that may serve ``path`` (empty when it is not under /api/v1)."""
    prefix = "/api/v1/"
    if not path.startswith(prefix):
        return ()
    return MODULES_BY_SEGMENT.get(path.removeprefix(prefix).split("/", 1)[0], ())

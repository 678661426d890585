"""Server-rendered pages (Jinja2 + htmx).

``web_router`` holds every page route; ``STATIC_DIR`` is the folder ``create_app`` mounts at
``/static`` (the stylesheet, the small script of the UI and the vendored libraries).
"""

from pathlib import Path

from fastapi import APIRouter

from missionctl.security.guard import GuardedRoute
from missionctl.web.routes import (
    account_page,
    admin_pages,
    approvals,
    artifacts,
    auth,
    board_page,
    calendar_page,
    costs,
    diagram_page,
    documents_page,
    epics_page,
    events,
    governance,
    health,
    insights,
    memory,
    mission_list,
    mission_page,
    register,
    runs,
    schedules,
    search,
    sessions_page,
    specs_page,
    spending_caps_page,
    templates_page,
    trace_page,
    webhooks_page,
    workflows,
)

STATIC_DIR = Path(__file__).parent / "static"

web_router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
web_router.include_router(auth.router)
web_router.include_router(mission_list.router)
web_router.include_router(mission_page.router)
web_router.include_router(board_page.router)
web_router.include_router(epics_page.router)
web_router.include_router(register.router)
web_router.include_router(trace_page.router)
web_router.include_router(diagram_page.router)
web_router.include_router(documents_page.router)
web_router.include_router(runs.router)
web_router.include_router(artifacts.router)
web_router.include_router(governance.router)
web_router.include_router(spending_caps_page.router)
web_router.include_router(costs.router)
web_router.include_router(insights.router)
web_router.include_router(workflows.router)
web_router.include_router(approvals.router)
web_router.include_router(search.router)
web_router.include_router(memory.router)
web_router.include_router(health.router)
web_router.include_router(events.router)
web_router.include_router(webhooks_page.router)
web_router.include_router(schedules.router)
web_router.include_router(calendar_page.router)
web_router.include_router(specs_page.router)
web_router.include_router(templates_page.router)
web_router.include_router(sessions_page.router)
web_router.include_router(admin_pages.router)
web_router.include_router(account_page.router)

__all__ = ["STATIC_DIR", "web_router"]

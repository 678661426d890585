"""The /api/v1 router."""

from fastapi import APIRouter

from missionctl.api.routes import (
    access,
    agents,
    analytics,
    approvals,
    artifacts,
    audit,
    callbacks,
    controls,
    costs,
    diagrams,
    documents,
    events,
    me,
    memory,
    missions,
    packs,
    palette,
    prices,
    register,
    runs,
    schedules,
    search,
    specs,
    system,
    templates,
    tracemap,
    webhooks,
    workers,
    workflows,
)
from missionctl.security.guard import GuardedRoute

api_router = APIRouter(route_class=GuardedRoute, prefix="/api/v1")
api_router.include_router(missions.router)
api_router.include_router(packs.router)
api_router.include_router(register.router)
api_router.include_router(tracemap.router)
api_router.include_router(diagrams.router)
api_router.include_router(documents.router)
api_router.include_router(runs.router)
api_router.include_router(workflows.router)
api_router.include_router(artifacts.router)
api_router.include_router(me.router)
api_router.include_router(access.router)
api_router.include_router(approvals.router)
api_router.include_router(controls.router)
api_router.include_router(agents.router)
api_router.include_router(prices.router)
api_router.include_router(search.router)
api_router.include_router(memory.router)
api_router.include_router(system.router)
api_router.include_router(workers.router)
api_router.include_router(costs.router)
api_router.include_router(events.router)
api_router.include_router(audit.router)
api_router.include_router(palette.router)
api_router.include_router(webhooks.router)
api_router.include_router(callbacks.router)
api_router.include_router(schedules.router)
api_router.include_router(specs.router)
api_router.include_router(templates.router)
api_router.include_router(analytics.router)

"""The /api/v1 router."""

from fastapi import APIRouter

from missionctl.api.routes import access, artifacts, me, missions, runs

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(missions.router)
api_router.include_router(runs.router)
api_router.include_router(artifacts.router)
api_router.include_router(me.router)
api_router.include_router(access.router)

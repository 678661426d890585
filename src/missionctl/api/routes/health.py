"""``GET /healthz``: the database answers, its schema is current, and its disk has room."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from missionctl.api.deps import Context, public
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases.health import Check, check_health

router = APIRouter(route_class=GuardedRoute, tags=["health"])


class CheckRead(BaseModel):
    """One dependency: a status key and a sentence saying what it means."""

    status: str = Field(
        description="database: ok, degraded (writes refused a moment ago), unavailable or "
        "error; schema: current, behind or unknown."
    )
    detail: str


class VolumeRead(BaseModel):
    """Free space where the product writes (sizes in bytes; null when it cannot be read)."""

    name: str = Field(description="`data directory`, or `database` for a SQLite file's volume.")
    status: Literal["ok", "low", "full", "unknown"]
    free_bytes: int | None
    total_bytes: int | None


class DiskRead(BaseModel):
    """The volumes, and the worst of their statuses."""

    status: Literal["ok", "low", "full", "unknown"]
    free_min_bytes: int = Field(
        description="Under this a volume is low (MISSIONCTL_DISK_FREE_MIN_MB)."
    )
    volumes: list[VolumeRead]


class HealthRead(BaseModel):
    """Health report: 200 while the database answers and its schema is current, else 503."""

    status: Literal["ok", "degraded", "error"] = Field(
        description="ok; degraded (still serving: a disk low or full, writes refused a moment "
        "ago); error (503: the database does not answer or its schema is not current)."
    )
    database: CheckRead
    schema_: CheckRead = Field(alias="schema")
    disk: DiskRead
    version: str
    log_origin: str | None = Field(
        default=None,
        description="The hash of the event log's first event: which record this server keeps "
        "(a command on the same database links to it). Null while the log is empty.",
    )


# Public: load balancers and probes carry no credentials, and the answer reveals no data.
@router.get(
    "/healthz",
    response_model=HealthRead,
    responses={503: {"model": HealthRead}},
    dependencies=[public()],
)
async def healthz(ctx: Context, request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at head; 503 otherwise."""
    outages = getattr(request.app.state, "database_outages", None)
    health = await check_health(ctx, recent=outages.recent() if outages is not None else None)
    body = {
        "status": health.status,
        "database": _check(health.database),
        "schema": _check(health.schema),
        "disk": {
            "status": health.disk.status,
            "free_min_bytes": health.disk.free_min_bytes,
            "volumes": [
                {
                    "name": v.name,
                    "status": v.status,
                    "free_bytes": v.free_bytes,
                    "total_bytes": v.total_bytes,
                }
                for v in health.disk.volumes
            ],
        },
        "version": health.version,
        "log_origin": health.log_origin,
    }
    return JSONResponse(status_code=200 if health.ok else 503, content=body)


def _check(check: Check) -> dict[str, str]:
    return {"status": check.status, "detail": check.detail}

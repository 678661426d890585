"""``GET /healthz``: the database answers and its schema is current."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from missionctl.api.deps import Context, public
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases.health import check_health

router = APIRouter(route_class=GuardedRoute, tags=["health"])


class HealthRead(BaseModel):
    """Health report."""

    status: str
    database: str
    schema_: str = Field(alias="schema")
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
async def healthz(ctx: Context) -> JSONResponse:
    """200 when the database answers and its schema is at head; 503 otherwise."""
    health = await check_health(ctx)
    body = {
        "status": "ok" if health.ok else "error",
        "database": health.database,
        "schema": health.schema,
        "version": health.version,
        "log_origin": health.log_origin,
    }
    return JSONResponse(status_code=200 if health.ok else 503, content=body)

"""``/api/v1/costs``: tokens and spend of a run, a mission, a workflow or the whole system."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from missionctl.api.deps import Context, P, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.refusals import ORDER
from missionctl.schemas.costs import (
    MAX_BUCKETS,
    SCOPE_ID_MAX_CHARS,
    CostBreakdown,
    CostBucketSize,
    CostQuery,
    CostScope,
)
from missionctl.schemas.missions import NO_NUL_PATTERN
from missionctl.schemas.runs import not_a_number
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import costs as cost_service

router = APIRouter(
    route_class=GuardedRoute, prefix="/costs", tags=["costs"], responses=ERROR_RESPONSES
)

Time = Annotated[datetime | None, BeforeValidator(not_a_number)]


BUCKETS_RULE = ", ".join(f"at most {n:,} {size} buckets" for size, n in MAX_BUCKETS.items())


@router.get(
    "",
    response_model=CostBreakdown,
    dependencies=[requires(P.RUNS_READ)],
    openapi_extra=refusals(
        {
            **ORDER,
            "since": f"{ORDER['since']}; {BUCKETS_RULE}",
            "id": "given with scope run, mission or workflow, and only with them",
        }
    ),
)
async def read_costs(
    ctx: Context,
    scope: Annotated[CostScope, Query(description="What to add up")] = "system",
    id: Annotated[
        str | None,
        Query(
            max_length=SCOPE_ID_MAX_CHARS,
            pattern=NO_NUL_PATTERN,
            description="The run's or mission's id, or the workflow's name; none for `system`",
        ),
    ] = None,
    bucket: Annotated[CostBucketSize, Query(description="Time series buckets (UTC)")] = "hour",
    since: Annotated[
        Time, Query(description="Spend dated at or after (ISO 8601; UTC if no zone)")
    ] = None,
    until: Annotated[
        Time, Query(description="Spend dated before (ISO 8601; UTC if no zone)")
    ] = None,
) -> CostBreakdown:
    """Tokens and spend by agent, model, role and requirement, over time, with the burn rate.

    Without `since`/`until` the groups add up to what the scope was charged (a mission's and
    the system's include planning as the line `(outside runs)`). A task tracing several
    requirements has its cost split evenly between them. 422 names the field at fault: an
    unknown scope or bucket, an id that does not fit the scope, `since` not before `until`, a
    range of more buckets than one answer holds; 404 when the run, mission or workflow does
    not exist.
    """
    query = CostQuery(scope=scope, id=id, bucket=bucket, since=since, until=until)
    return await cost_service.read_costs(ctx, query=query)

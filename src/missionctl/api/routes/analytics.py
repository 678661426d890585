"""``/api/v1/analytics``: the product's own activity, and the insights written from it.

Funnel, trends and retention (ADR 0068); insights and the executive summary (ADR 0070).
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from missionctl.api.deps import Context, P, RuntimeDep, requires
from missionctl.api.errors import ERROR_RESPONSES
from missionctl.api.refusals import refusals
from missionctl.domain.access import ROLES
from missionctl.domain.analytics import PLANNERS, Grain
from missionctl.domain.refusals import WINDOW
from missionctl.schemas.analytics import (
    AnomaliesAnswer,
    DefinitionsAnswer,
    FunnelAnswer,
    InsightsAnswer,
    RetentionAnswer,
    TrendsAnswer,
)
from missionctl.security.guard import GuardedRoute
from missionctl.services.usecases import analytics as analytics_service
from missionctl.services.usecases import anomalies as anomalies_service
from missionctl.services.usecases import insights as insights_service

# Every route here reads the metrics; the declaration covers the whole router.
router = APIRouter(
    route_class=GuardedRoute,
    prefix="/analytics",
    tags=["analytics"],
    responses=ERROR_RESPONSES,
    dependencies=[requires(P.ANALYTICS_READ)],
)

# Days are read by the service (``parse_query``): a date of the years it can look around.
DAY_SCHEMA = {
    "format": "date",
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])-[0-9]{2}-[0-9]{2}$",
}
"""``analytics.FIRST_DAY`` (1970-01-01) to ``LAST_DAY`` (9998-12-31), as YYYY-MM-DD."""
Since = Annotated[
    str | None,
    Query(
        max_length=64,
        description="First UTC day, YYYY-MM-DD (default: 30 days to until)",
        json_schema_extra=DAY_SCHEMA,
    ),
]
Until = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Last UTC day, YYYY-MM-DD (default: today)",
        json_schema_extra=DAY_SCHEMA,
    ),
]
SEGMENT_PATTERN = (
    f"^(role:({'|'.join(role.value for role in ROLES)})|planner:({'|'.join(PLANNERS)})"
    "|workflow:[A-Za-z0-9][A-Za-z0-9._ -]{0,199})$"
)
"""The segments ``parse_query`` reads (``_segment``): a role, a planner, or a workflow's name."""
SegmentParam = Annotated[
    str | None,
    Query(
        max_length=240,
        description="role:NAME, workflow:NAME or planner:local|model (default: everything)",
        # For the document only: the service's own check words the 422 better.
        json_schema_extra={"pattern": SEGMENT_PATTERN},
    ),
]
GrainParam = Annotated[Grain, Query(description="Buckets: UTC days or ISO weeks")]
CompareParam = Annotated[
    Literal["previous"] | None,
    Query(
        description="previous: also answer for the range of equal length just before "
        "(meta.previous_range, and the answer's previous fields)"
    ),
]


@router.get(
    "/funnel",
    response_model=FunnelAnswer,
    openapi_extra=refusals({**WINDOW, "steps": "in the funnel's order, starting with signed_in"}),
)
async def read_funnel(
    ctx: Context,
    since: Since = None,
    until: Until = None,
    segment: SegmentParam = None,
    grain: GrainParam = "week",
    steps: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The steps to show, comma-separated, in the funnel's order and starting "
            "with signed_in (default: every step); a step left out widens the window of the "
            "next one shown by its own",
            json_schema_extra={"pattern": "^[a-z_]+(,[a-z_]+)+$"},
        ),
    ] = None,
    compare: CompareParam = None,
) -> FunnelAnswer:
    """The activation funnel per cohort of first sign-in.

    422 names the parameter at fault: a malformed day, `until` before `since`, more than 366
    days, an unknown segment, or steps that are unknown, fewer than two or out of order.
    """
    query = analytics_service.parse_query(since=since, until=until, segment=segment)
    return await analytics_service.read_funnel(
        ctx, query=query, grain=grain, steps=steps, compare=compare == "previous"
    )


@router.get("/trends", response_model=TrendsAnswer, openapi_extra=refusals(WINDOW))
async def read_trends(
    ctx: Context,
    since: Since = None,
    until: Until = None,
    segment: SegmentParam = None,
    grain: GrainParam = "day",
    compare: CompareParam = None,
) -> TrendsAnswer:
    """Active users, missions, runs, success rate, cost, tokens and run durations per bucket.

    422 as for the funnel.
    """
    query = analytics_service.parse_query(since=since, until=until, segment=segment)
    return await analytics_service.read_trends(
        ctx, query=query, grain=grain, compare=compare == "previous"
    )


@router.get("/retention", response_model=RetentionAnswer, openapi_extra=refusals(WINDOW))
async def read_retention(
    ctx: Context,
    since: Since = None,
    until: Until = None,
    segment: SegmentParam = None,
    grain: GrainParam = "week",
    compare: CompareParam = None,
) -> RetentionAnswer:
    """Cohorts by first mission and who came back after.

    By ISO week, each of the 8 weeks after (`weeks`); with `grain=day`, by UTC day, on days 1,
    7 and 30 after (`days`), a day not yet over being `null`, never 0. `summary` gives each
    column over the cohorts whose cell is known, weighted by their people. 422 as for the
    funnel.
    """
    query = analytics_service.parse_query(since=since, until=until, segment=segment)
    return await analytics_service.read_retention(
        ctx, query=query, grain=grain, compare=compare == "previous"
    )


@router.get("/insights", response_model=InsightsAnswer, openapi_extra=refusals(WINDOW))
async def read_insights(
    ctx: Context,
    runtime: RuntimeDep,
    since: Since = None,
    until: Until = None,
    segment: SegmentParam = None,
) -> InsightsAnswer:
    """An executive summary and what changed, why it matters, what to do and what to ask.

    The range is compared with the equally long range just before it.

    Written by the configured model from aggregates only (within `MISSIONCTL_INSIGHTS_MAX_TOKENS`
    and `MISSIONCTL_INSIGHTS_TIMEOUT_S`), or by the deterministic writer when none is configured
    or the model fails: `source` says which, `fallback_reason` why. 422 as for the funnel.
    """
    query = analytics_service.parse_query(since=since, until=until, segment=segment)
    return await insights_service.read_insights(ctx, query=query, llm=runtime.llm)


@router.get("/anomalies", response_model=AnomaliesAnswer, openapi_extra=refusals(WINDOW))
async def read_anomalies(
    ctx: Context, since: Since = None, until: Until = None, segment: SegmentParam = None
) -> AnomaliesAnswer:
    """Metrics that moved past their thresholds as of `until` (default: yesterday, UTC).

    Week over week, the day against its weekday-adjusted 14-day median, and weekly cohorts'
    retention against the cohorts before; most severe first. The detector looks back as far
    as it needs before `until`; `since` only names the range. 422 as for the funnel.
    """
    query = anomalies_service.parse_query(since=since, until=until, segment=segment)
    return await anomalies_service.read_anomalies(ctx, query=query)


@router.get("/definitions", response_model=DefinitionsAnswer)
async def read_definitions() -> DefinitionsAnswer:
    """What each metric means: label, definition, unit and the events it is computed from."""
    return analytics_service.read_definitions()

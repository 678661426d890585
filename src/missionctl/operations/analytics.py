"""Analytics: the product's own activity, its anomalies, and the insights written from it.

Funnel, trends and retention (ADR 0068); anomalies (ADR 0069); insights and the executive
summary (ADR 0070); orchestration's own success, clean runs and time to bootstrap (ADR
0116). Reading any of them needs ``analytics:read``. The range and the segment are read by
the use case (``services.usecases.analytics.parse_query``): a malformed day, ``until`` before
``since``, too long a range or an unknown segment is a 422 naming it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from missionctl.domain.access import ROLES
from missionctl.domain.access import Permission as P
from missionctl.domain.analytics import PLANNERS, Grain
from missionctl.domain.refusals import WINDOW
from missionctl.operations import Operation
from missionctl.schemas.analytics import (
    AnomaliesAnswer,
    DefinitionsAnswer,
    FunnelAnswer,
    InsightsAnswer,
    RetentionAnswer,
    TrendsAnswer,
)
from missionctl.schemas.orchestration import OrchestrationAnswer

_SERVICE = "missionctl.services.usecases.analytics"

# Days are read by the service (``parse_query``): a date of the years it can look around.
DAY_SCHEMA: JsonDict = {
    "format": "date",
    "pattern": "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])-[0-9]{2}-[0-9]{2}$",
}
"""``analytics.FIRST_DAY`` (1970-01-01) to ``LAST_DAY`` (9998-12-31), as YYYY-MM-DD."""
SEGMENT_PATTERN = (
    f"^(role:({'|'.join(role.value for role in ROLES)})|planner:({'|'.join(PLANNERS)})"
    "|workflow:[A-Za-z0-9][A-Za-z0-9._ -]{0,199})$"
)
"""The segments ``parse_query`` reads (``_segment``): a role, a planner, or a workflow's name."""
WORKFLOW_SEGMENT_PATTERN = "^workflow:[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$"
"""The one kind of segment the orchestration figures are counted by."""
_GRAIN = "Buckets: UTC days or ISO weeks"
_COMPARE = (
    "previous: also answer for the range of equal length just before (meta.previous_range, and "
    "the answer's previous fields)"
)


class RangeQuery(BaseModel):
    """The days to read and the people to count."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(
        None,
        max_length=64,
        description="First UTC day, YYYY-MM-DD (default: 30 days to until)",
        json_schema_extra=DAY_SCHEMA,
    )
    until: str | None = Field(
        None,
        max_length=64,
        description="Last UTC day, YYYY-MM-DD (default: today)",
        json_schema_extra=DAY_SCHEMA,
    )
    segment: str | None = Field(
        None,
        max_length=240,
        description="role:NAME, workflow:NAME or planner:local|model (default: everything)",
        # For the document only: the service's own check words the 422 better.
        json_schema_extra={"pattern": SEGMENT_PATTERN},
    )


class FunnelQuery(RangeQuery):
    """The funnel's range, buckets, steps and comparison."""

    grain: Grain = Field("week", description=_GRAIN)
    steps: str | None = Field(
        None,
        max_length=200,
        description="The steps to show, comma-separated, in the funnel's order and starting "
        "with signed_in (default: every step); a step left out widens the window of the next "
        "one shown by its own",
        json_schema_extra={"pattern": "^[a-z_]+(,[a-z_]+)+$"},
    )
    compare: Literal["previous"] | None = Field(None, description=_COMPARE)


class TrendsQuery(RangeQuery):
    """The trends' range, buckets and comparison."""

    grain: Grain = Field("day", description=_GRAIN)
    compare: Literal["previous"] | None = Field(None, description=_COMPARE)


class RetentionQuery(RangeQuery):
    """The retention's range, buckets and comparison."""

    grain: Grain = Field("week", description=_GRAIN)
    compare: Literal["previous"] | None = Field(None, description=_COMPARE)


class OrchestrationQuery(RangeQuery):
    """The orchestration figures' range, buckets and workflow."""

    segment: str | None = Field(
        None,
        max_length=240,
        description="workflow:NAME (default: every workflow); they are not counted by role or "
        "planner",
        # For the document only, as the range's: the service's check words the 422.
        json_schema_extra={"pattern": WORKFLOW_SEGMENT_PATTERN},
    )
    grain: Grain = Field("week", description=_GRAIN)


FUNNEL: Operation[FunnelAnswer] = Operation(
    name="read_funnel",
    doc="The activation funnel per cohort of first sign-in.\n\n"
    "422 names the parameter at fault: a malformed day, `until` before `since`, more than 366 "
    "days, an unknown segment, or steps that are unknown, fewer than two or out of order.",
    method="GET",
    path="/analytics/funnel",
    permission=P.ANALYTICS_READ,
    service=f"{_SERVICE}:ask_funnel",
    query=FunnelQuery,
    refusals={**WINDOW, "steps": "in the funnel's order, starting with signed_in"},
    output=FunnelAnswer,
    cli="analytics funnel",
)
TRENDS: Operation[TrendsAnswer] = Operation(
    name="read_trends",
    doc="Active users, missions, runs, success rate, cost, tokens and run durations per "
    "bucket.\n\n422 as for the funnel.",
    method="GET",
    path="/analytics/trends",
    permission=P.ANALYTICS_READ,
    service=f"{_SERVICE}:ask_trends",
    query=TrendsQuery,
    refusals=WINDOW,
    output=TrendsAnswer,
    cli="analytics trends",
)
RETENTION: Operation[RetentionAnswer] = Operation(
    name="read_retention",
    doc="Cohorts by first mission and who came back after.\n\n"
    "By ISO week, each of the 8 weeks after (`weeks`); with `grain=day`, by UTC day, on days 1, "
    "7 and 30 after (`days`), a day not yet over being `null`, never 0. `summary` gives each "
    "column over the cohorts whose cell is known, weighted by their people. 422 as for the "
    "funnel.",
    method="GET",
    path="/analytics/retention",
    permission=P.ANALYTICS_READ,
    service=f"{_SERVICE}:ask_retention",
    query=RetentionQuery,
    refusals=WINDOW,
    output=RetentionAnswer,
    cli="analytics retention",
)
INSIGHTS: Operation[InsightsAnswer] = Operation(
    name="read_insights",
    doc="An executive summary and what changed, why it matters, what to do and what to ask.\n\n"
    "The range is compared with the equally long range just before it.\n\n"
    "Written by the configured model from aggregates only (within "
    "`MISSIONCTL_INSIGHTS_MAX_TOKENS` and `MISSIONCTL_INSIGHTS_TIMEOUT_S`), or by the "
    "deterministic writer when none is configured or the model fails: `source` says which, "
    "`fallback_reason` why. 422 as for the funnel.",
    method="GET",
    path="/analytics/insights",
    permission=P.ANALYTICS_READ,
    service="missionctl.services.usecases.insights:ask_insights",
    query=RangeQuery,
    refusals=WINDOW,
    needs=("llm",),
    output=InsightsAnswer,
    cli="analytics insights",
)
ANOMALIES: Operation[AnomaliesAnswer] = Operation(
    name="read_anomalies",
    doc="Metrics that moved past their thresholds as of `until` (default: yesterday, UTC).\n\n"
    "Week over week, the day against its weekday-adjusted 14-day median, and weekly cohorts' "
    "retention against the cohorts before; most severe first. The detector looks back as far "
    "as it needs before `until`; `since` only names the range. 422 as for the funnel.",
    method="GET",
    path="/analytics/anomalies",
    permission=P.ANALYTICS_READ,
    service="missionctl.services.usecases.anomalies:ask_anomalies",
    query=RangeQuery,
    refusals=WINDOW,
    output=AnomaliesAnswer,
    cli="analytics anomalies",
)
ORCHESTRATION: Operation[OrchestrationAnswer] = Operation(
    name="read_orchestration",
    doc="How well orchestration went by itself: runs that completed without a manual fix-up, "
    "missions' time to bootstrap, duplicated edits and groundwork first.\n\nA run needed a "
    "fix-up when a person retried one of its steps, someone reran it or it is a rerun, or a "
    "merge in it was rejected; its share is over the runs that ended, by the day each ended, "
    "per bucket and per workflow. Time to bootstrap is a mission's hours from being created to "
    "its first run's start (median and p90), by the day it was created. Duplicated edits are "
    "the lines of coding steps' diffs that an earlier coding step of the same mission had "
    "changed, by the day each diff was recorded. Groundwork first is the share of "
    "implementation tasks that had their PRD, task list and (when the spec policy asks) an "
    "approved mini-spec before their work started, by the day it started. The segment may "
    "only name a workflow; 422 as for the funnel.",
    method="GET",
    path="/analytics/orchestration",
    permission=P.ANALYTICS_READ,
    service="missionctl.services.usecases.orchestration:ask_orchestration",
    query=OrchestrationQuery,
    refusals=WINDOW,
    output=OrchestrationAnswer,
    cli="analytics orchestration",
)
DEFINITIONS: Operation[DefinitionsAnswer] = Operation(
    name="read_definitions",
    doc="What each metric means: label, definition, unit and the events it is computed from.",
    method="GET",
    path="/analytics/definitions",
    permission=P.ANALYTICS_READ,
    service=f"{_SERVICE}:ask_definitions",
    output=DefinitionsAnswer,
    cli="analytics definitions",
)

OPERATIONS = (FUNNEL, TRENDS, RETENTION, INSIGHTS, ANOMALIES, ORCHESTRATION, DEFINITIONS)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""

"""Orchestration's own success: runs that completed without a hand, missions' time to start.

``read_orchestration`` reads, in one snapshot, the runs that ended in the range with their
fix-ups and the missions created in it with their first run's start
(``repositories.orchestration``), and makes the figures (``domain.orchestration``) over the
range, per day or week, and per workflow (ADR 0116). The facts are read from the runs and the
log directly, so the answer is current as of the snapshot (``meta.followed_to``: the log's head).
"""

from datetime import UTC, date, datetime, time, timedelta

from missionctl.domain.analytics import Grain, bucket_label
from missionctl.domain.orchestration import (
    FIX_UPS,
    Bootstrap,
    CleanRuns,
    EndedRun,
    MissionStart,
    bootstrap,
    bootstrap_by_bucket,
    clean_runs,
    clean_runs_by_bucket,
    clean_runs_by_workflow,
)
from missionctl.errors import Problem, ValidationFailed
from missionctl.repositories import events as event_repo
from missionctl.repositories import orchestration as repo
from missionctl.schemas.orchestration import (
    BootstrapBucket,
    BootstrapRead,
    CleanRunsBucket,
    CleanRunsRead,
    OrchestrationAnswer,
    WorkflowCleanRuns,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.analytics import AnalyticsQuery, answer_meta, parse_query


async def ask_orchestration(
    ctx: ServiceContext,
    *,
    since: str | None = None,
    until: str | None = None,
    segment: str | None = None,
    grain: Grain = "week",
) -> OrchestrationAnswer:
    """:func:`read_orchestration` of the range and segment as a URL gives them.

    Raises:
        ValidationFailed: as ``analytics.parse_query``; or a segment that is not a workflow's
            (these figures are of runs and missions, not of people or planners).
    """
    query = parse_query(since=since, until=until, segment=segment)
    if query.segment is not None and query.segment[0] != "workflow":
        raise ValidationFailed(
            [Problem("segment", "these figures are per workflow: give workflow:NAME, or none")]
        )
    return await read_orchestration(ctx, query=query, grain=grain)


def workflow_of(query: AnalyticsQuery) -> str | None:
    """The workflow ``query``'s segment names; ``None`` for every workflow, or another kind."""
    if query.segment is None or query.segment[0] != "workflow":
        return None
    return query.segment[1]


async def read_orchestration(
    ctx: ServiceContext, *, query: AnalyticsQuery, grain: Grain
) -> OrchestrationAnswer:
    """Clean runs and time to bootstrap over ``query``'s days, per ``grain`` and per workflow.

    Only a workflow segment narrows them (``workflow_of``): another kind reads every workflow,
    and ``meta.segment`` still names it, for the cockpit to say so.
    """
    since = datetime.combine(query.since, time.min, UTC)
    until = datetime.combine(query.until + timedelta(days=1), time.min, UTC)
    workflow = workflow_of(query)
    async with ctx.read() as session:
        head = await event_repo.read_head_seq(session)
        ended = await repo.read_ended_runs(session, since=since, until=until, workflow=workflow)
        starts = await repo.read_mission_starts(
            session, since=since, until=until, workflow=workflow
        )
    runs = [_ended_run(row) for row in ended]
    missions = [_mission_start(row) for row in starts]
    days = (query.since, query.until, grain)
    return OrchestrationAnswer(
        meta=answer_meta(query, grain, head),
        clean_runs=_clean_read(clean_runs(runs)),
        clean_runs_by_bucket=[
            CleanRunsBucket(
                start=day, label=bucket_label(day, grain), **_clean_read(f).model_dump()
            )
            for day, f in clean_runs_by_bucket(runs, *days)
        ],
        clean_runs_by_workflow=[
            WorkflowCleanRuns(workflow=name, **_clean_read(f).model_dump())
            for name, f in clean_runs_by_workflow(runs)
        ],
        bootstrap=_bootstrap_read(bootstrap(missions)),
        bootstrap_by_bucket=[
            BootstrapBucket(
                start=day, label=bucket_label(day, grain), **_bootstrap_read(f).model_dump()
            )
            for day, f in bootstrap_by_bucket(missions, *days)
        ],
    )


def _ended_run(row: repo.EndedRow) -> EndedRun:
    fix_ups = frozenset(kind for kind in FIX_UPS if getattr(row, kind))
    day = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
    return EndedRun(day, row.workflow, bool(row.completed), fix_ups, runs=row.runs)


def _mission_start(row: repo.StartRow) -> MissionStart:
    first = row.first_started_at
    hours = None if first is None else max(0.0, (first - row.created_at).total_seconds() / 3600)
    return MissionStart(row.created_at.date(), hours)


def _clean_read(figures: CleanRuns) -> CleanRunsRead:
    share = None if figures.share is None else round(figures.share, 4)
    return CleanRunsRead(ended=figures.ended, clean=figures.clean, share=share, fixes=figures.fixes)


def _bootstrap_read(figures: Bootstrap) -> BootstrapRead:
    return BootstrapRead(
        missions=figures.missions,
        bootstrapped=figures.bootstrapped,
        median_hours=figures.median_hours,
        p90_hours=figures.p90_hours,
    )

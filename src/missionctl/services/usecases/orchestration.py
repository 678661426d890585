"""Orchestration's own success: clean runs, time to start, duplicated edits, groundwork first.

``read_orchestration`` reads, in one snapshot, the runs that ended in the range with their
fix-ups, the missions created in it with their first run's start (ADR 0116), and the coding
steps' diffs and implementation work's starts the orchestration follower derived (ADR 0117;
caught up first) from ``repositories.orchestration``, and makes the figures
(``domain.orchestration``) over the range, per day or week, and per workflow. The answer is
current as of the snapshot (``meta.followed_to``: the log's head).
"""

from datetime import UTC, date, datetime, time, timedelta

from missionctl.domain.analytics import Grain, bucket_label
from missionctl.domain.orchestration import (
    FIX_UPS,
    Bootstrap,
    CleanRuns,
    DuplicatedEdits,
    Edits,
    EndedRun,
    Groundwork,
    GroundworkFirst,
    MissionStart,
    WorkStarted,
    bootstrap,
    bootstrap_by_bucket,
    by_workflow,
    clean_runs,
    clean_runs_by_bucket,
    clean_runs_by_workflow,
    duplicated_edits,
    duplicated_edits_by_bucket,
    groundwork_first,
    groundwork_first_by_bucket,
)
from missionctl.errors import Problem, ValidationFailed
from missionctl.repositories import events as event_repo
from missionctl.repositories import orchestration as repo
from missionctl.schemas.orchestration import (
    BootstrapBucket,
    BootstrapRead,
    CleanRunsBucket,
    CleanRunsRead,
    DuplicatedEditsBucket,
    DuplicatedEditsRead,
    GroundworkBucket,
    GroundworkRead,
    OrchestrationAnswer,
    WorkflowCleanRuns,
    WorkflowDuplicatedEdits,
    WorkflowGroundwork,
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
    span = repo.Span(since, until, workflow_of(query))
    await ctx.catch_up("orchestration")
    async with ctx.read() as session:
        head = await event_repo.read_head_seq(session)
        ended = await repo.read_ended_runs(session, span=span)
        starts = await repo.read_mission_starts(session, span=span)
        edited = await repo.read_edits(session, span=span)
        begun = await repo.read_work_starts(session, span=span)
    days = (query.since, query.until, grain)
    return OrchestrationAnswer.model_validate(
        {
            "meta": answer_meta(query, grain, head),
            **_clean_runs_part([_ended_run(row) for row in ended], days),
            **_bootstrap_part([_mission_start(row) for row in starts], days),
            **_edits_part([_edits(row) for row in edited], days),
            **_groundwork_part([_work_started(row) for row in begun], days),
        }
    )


Days = tuple[date, date, Grain]


def _clean_runs_part(runs: list[EndedRun], days: Days) -> dict[str, object]:
    grain = days[2]
    return {
        "clean_runs": _clean_read(clean_runs(runs)),
        "clean_runs_by_bucket": [
            CleanRunsBucket(
                start=day, label=bucket_label(day, grain), **_clean_read(f).model_dump()
            )
            for day, f in clean_runs_by_bucket(runs, *days)
        ],
        "clean_runs_by_workflow": [
            WorkflowCleanRuns(workflow=name, **_clean_read(f).model_dump())
            for name, f in clean_runs_by_workflow(runs)
        ],
    }


def _bootstrap_part(missions: list[MissionStart], days: Days) -> dict[str, object]:
    grain = days[2]
    return {
        "bootstrap": _bootstrap_read(bootstrap(missions)),
        "bootstrap_by_bucket": [
            BootstrapBucket(
                start=day, label=bucket_label(day, grain), **_bootstrap_read(f).model_dump()
            )
            for day, f in bootstrap_by_bucket(missions, *days)
        ],
    }


def _edits_part(edits: list[Edits], days: Days) -> dict[str, object]:
    grain = days[2]
    return {
        "duplicated_edits": _edits_read(duplicated_edits(edits)),
        "duplicated_edits_by_bucket": [
            DuplicatedEditsBucket(
                start=day, label=bucket_label(day, grain), **_edits_read(f).model_dump()
            )
            for day, f in duplicated_edits_by_bucket(edits, *days)
        ],
        "duplicated_edits_by_workflow": [
            WorkflowDuplicatedEdits(workflow=name, **_edits_read(f).model_dump())
            for name, f in by_workflow(edits, lambda e: e.workflow, duplicated_edits)
        ],
    }


def _groundwork_part(starts: list[WorkStarted], days: Days) -> dict[str, object]:
    grain = days[2]
    return {
        "groundwork": _groundwork_read(groundwork_first(starts)),
        "groundwork_by_bucket": [
            GroundworkBucket(
                start=day, label=bucket_label(day, grain), **_groundwork_read(f).model_dump()
            )
            for day, f in groundwork_first_by_bucket(starts, *days)
        ],
        "groundwork_by_workflow": [
            WorkflowGroundwork(workflow=name, **_groundwork_read(f).model_dump())
            for name, f in by_workflow(starts, lambda s: s.workflow, groundwork_first)
        ],
    }


def _day(value: object) -> date:
    """A grouped day as the dialect returns it (a date, or ISO text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _edits(row: repo.EditsRow) -> Edits:
    return Edits(
        _day(row.day),
        row.workflow,
        steps=int(row.steps),
        lines=int(row.lines or 0),
        repeated=int(row.repeated or 0),
        steps_repeating=int(row.steps_repeating or 0),
    )


def _work_started(row: repo.WorkStartRow) -> WorkStarted:
    groundwork = Groundwork(
        prd=bool(row.had_prd),
        task_list=bool(row.had_task_list),
        spec_required=bool(row.spec_required),
        spec=bool(row.had_spec),
    )
    return WorkStarted(_day(row.day), row.workflow, groundwork, tasks=int(row.tasks))


def _ended_run(row: repo.EndedRow) -> EndedRun:
    fix_ups = frozenset(kind for kind in FIX_UPS if getattr(row, kind))
    return EndedRun(_day(row.day), row.workflow, bool(row.completed), fix_ups, runs=row.runs)


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


def _edits_read(figures: DuplicatedEdits) -> DuplicatedEditsRead:
    share = None if figures.share is None else round(figures.share, 4)
    return DuplicatedEditsRead(
        steps=figures.steps,
        lines=figures.lines,
        duplicated=figures.duplicated,
        share=share,
        steps_repeating=figures.steps_repeating,
    )


def _groundwork_read(figures: GroundworkFirst) -> GroundworkRead:
    share = None if figures.share is None else round(figures.share, 4)
    return GroundworkRead(
        started=figures.started,
        prepared=figures.prepared,
        share=share,
        specs_required=figures.specs_required,
        missing=figures.missing,
    )

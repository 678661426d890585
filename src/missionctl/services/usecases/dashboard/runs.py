"""Run read models: the runs list (API and dashboard), a run with its steps, one step in full."""

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from missionctl.domain import events as ev
from missionctl.domain.outcomes import Outcome, run_outcomes
from missionctl.domain.states import ENDED_RUN_STATUSES, RunStatus
from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import events as event_repo
from missionctl.repositories import workflows as workflow_repo
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.dashboard import (
    DocumentLink,
    EventItem,
    LogLineItem,
    RunRow,
    RunRowPage,
    RunView,
    StepDetail,
)
from missionctl.schemas.runs import RunFilters, RunPage, RunRead, RunSummary
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import approvals as approval_service
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.services.usecases.attempts import read_step_attempts
from missionctl.services.usecases.dashboard.events import to_event_item
from missionctl.services.usecases.dashboard.tasks import (
    DONE,
    controls_for,
    headline_of,
    merge_tasks,
)
from missionctl.services.usecases.execution.types import DagCache
from missionctl.services.usecases.paging import keyset_cursor
from missionctl.services.usecases.routing import route_read

LOG_LIMIT = 2000
"""Log lines a step's detail shows (the newest are kept)."""

MODEL_INPUT_LIMIT = 20
"""``step.input`` events a step's detail shows (the newest attempts')."""

ARTIFACT_LIMIT = 500
"""Artifacts the run page lists (the oldest first)."""


async def read_runs(
    ctx: ServiceContext,
    *,
    filters: RunFilters | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RunPage:
    """A page of the runs matching ``filters``, newest first, with the total and next cursor.

    The one query behind ``GET /api/v1/runs`` and the Runs page. Keyset paging by id (UUIDv7,
    so creation order): runs created while a client pages are newer than its cursor, so they
    neither repeat nor push other runs off the pages that follow.

    Raises:
        ValidationFailed: ``limit`` is out of range, ``cursor`` is not one this list issued,
            or the time range is empty or out of range (every problem named by its field).
    """
    filters = _checked(filters or RunFilters(), limit=limit, cursor=cursor)
    before = keyset_cursor(limit=limit, cursor=cursor)
    async with ctx.read() as session:
        rows = await dashboard_repo.read_runs(
            session, filters=filters, before_id=before, limit=limit + 1
        )
        total = await dashboard_repo.count_runs(session, filters=filters)
        run_ids = [row.run.id for row in rows[:limit]]
        counts = await dashboard_repo.read_step_counts(session, run_ids=run_ids)
        outcomes = await dashboard_repo.read_step_outcomes(session, run_ids=run_ids)
    items = [
        _summary(row, counts.get(row.run.id, {}), outcomes.get(row.run.id, []))
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return RunPage(
        items=items, total=total, next_cursor=str(items[-1].id) if more and items else None
    )


async def list_runs(
    ctx: ServiceContext,
    *,
    status: RunStatus | None = None,
    mission_id: uuid.UUID | None = None,
    workflow: str | None = None,
    agent: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RunPage:
    """:func:`read_runs` with each filter the API's list takes as its own keyword.

    Raises:
        ValidationFailed: as :func:`read_runs`.
    """
    filters = RunFilters(
        status=status,
        mission_id=mission_id,
        workflow=workflow,
        agent=agent,
        created_after=created_after,
        created_before=created_before,
        q=q,
    )
    return await read_runs(ctx, filters=filters, limit=limit, cursor=cursor)


async def read_run_rows(
    ctx: ServiceContext,
    *,
    filters: RunFilters | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> RunRowPage:
    """``read_runs`` as the dashboard's lists show it (each run with its workflow and mission).

    Raises:
        ValidationFailed: as ``read_runs``.
    """
    page = await read_runs(ctx, filters=filters, limit=limit, cursor=cursor)
    items = [
        RunRow(
            run=RunRead.model_validate(item.model_dump(include=_RUN_FIELDS)),
            workflow=item.workflow,
            mission_title=item.mission_title,
            tasks_total=item.tasks_total,
            tasks_done=item.tasks_done,
        )
        for item in page.items
    ]
    return RunRowPage(items=items, total=page.total, next_cursor=page.next_cursor)


_RUN_FIELDS = set(RunRead.model_fields) - {"steps"}


def _summary(
    row: dashboard_repo.RunListRow,
    counts: dict[str, int],
    steps: list[dashboard_repo.StepOutcomeRow],
) -> RunSummary:
    read = run_service.to_run_read(row.run, [])
    outcomes, headline = run_outcomes(
        ((s.step_id, s.agent, cast("Outcome | None", s.outcome)) for s in steps),
        from_plan=row.from_plan,
        ended=row.run.status in ENDED_RUN_STATUSES,
    )
    return RunSummary(
        **read.model_dump(include=_RUN_FIELDS - {"outcomes", "headline"}),
        workflow=row.workflow,
        workflow_version=row.workflow_version,
        mission_title=row.mission_title,
        tasks_total=sum(counts.values()),
        tasks_done=sum(n for status, n in counts.items() if status in DONE),
        # A run without steps says nothing of what they produced, as a run read without them.
        outcomes=outcomes if steps else {},
        headline=headline if steps else "",
    )


def _checked(filters: RunFilters, *, limit: int, cursor: str | None) -> RunFilters:
    """``filters`` with its times in UTC (a time without a zone is UTC).

    Raises:
        ValidationFailed: a time is out of range or the range is empty, with the paging
            problems of ``keyset_cursor`` when there are some too.
    """
    problems: list[Problem] = []
    times: dict[str, datetime | None] = {}
    for name in ("created_after", "created_before", "started_after", "started_before"):
        value: datetime | None = getattr(filters, name)
        try:
            times[name] = _utc(value)
        except OverflowError:
            problems.append(Problem(name, "is out of range: give a time between years 1 and 9999"))
    for first, last in (("created_after", "created_before"), ("started_after", "started_before")):
        after, before = times.get(first), times.get(last)
        if after is not None and before is not None and after > before:
            problems.append(Problem(first, f"is later than {last}: swap the two"))
    if problems:
        try:
            keyset_cursor(limit=limit, cursor=cursor)
        except ValidationFailed as exc:
            problems += exc.problems
        raise ValidationFailed(problems)
    return filters.model_copy(update=times)


def _utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; a time without a zone is taken as UTC (raises ``OverflowError``)."""
    if value is None:
        return None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def read_run_view(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunView:
    """A run with its steps in workflow order, its mission and its controls.

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    async with ctx.read() as session:
        newest = await event_repo.read_newest_event(session, run_id=run_id)
    last_seq = newest.seq if newest is not None else 0
    run = await run_service.read_run(ctx, run_id=run_id)
    async with ctx.read() as session:
        workflow = await workflow_repo.read_workflow(session, workflow_id=run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        inputs = await dashboard_repo.read_run_inputs(session, run_id=run_id)
        name, version, definition = workflow.name, workflow.version, workflow.definition
        from_plan = workflow.plan_id is not None
        plan_version = None
        if workflow.plan_id is not None and run.mission_id is not None:
            plan_version = await dashboard_repo.read_plan_version(session, plan_id=workflow.plan_id)
    mission = (
        await mission_service.read_mission(ctx, mission_id=run.mission_id)
        if run.mission_id
        else None
    )
    plan = None
    if mission is not None and plan_version is not None:
        plan = await plan_service.read_plan(ctx, mission_id=mission.id, version=plan_version)
    tasks = merge_tasks(plan, run, list(definition.get("steps", [])))
    return RunView(
        run=run,
        workflow=name,
        workflow_version=version,
        mission=mission,
        tasks=tasks,
        controls=controls_for(mission, None, run),
        last_seq=last_seq,
        inputs=inputs,
        artifacts=await read_artifacts(ctx, run_id=run_id, limit=ARTIFACT_LIMIT),
        approvals=await pending_approvals(ctx, run_id=run_id),
        latest=to_event_item(newest) if newest is not None else None,
        headline=headline_of(run, from_plan=from_plan) or "",
    )


async def pending_approvals(ctx: ServiceContext, *, run_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The id of the approval each waiting step of the run waits for, by step id."""
    pending = await approval_service.list_approvals(ctx, state="pending", run_id=run_id)
    return {a.step_id: a.id for a in pending}


async def read_step_detail(
    ctx: ServiceContext, *, run_id: uuid.UUID, step_id: str, log_lines: int | None = None
) -> StepDetail:
    """One step of a run with its inputs, outputs, error, attempts, model inputs and log.

    ``log_lines`` keeps the newest lines of ``log_lines`` (``None``: every line of the newest
    ``LOG_LIMIT`` batches); ``log`` holds the batches themselves. ``attempts`` come from the
    run's events (``domain.replay``), ``model_inputs`` are the step's ``step.input`` events.
    ``approval_reason`` comes from the step's definition (its workflow version, parsed once per
    process).

    Raises:
        NotFound: no such run, or it has no such step (``field="step_id"``).
    """
    run = await run_service.read_run(ctx, run_id=run_id)
    step = next((s for s in run.steps if s.step_id == step_id), None)
    if step is None:
        raise NotFound(f"run {run_id} has no step {step_id!r}", field="step_id")
    async with ctx.read() as session:
        rows, total = await event_repo.read_step_events(
            session, run_id=run_id, step_id=step_id, type_=ev.STEP_LOG, limit=LOG_LIMIT
        )
        inputs, _ = await event_repo.read_step_events(
            session, run_id=run_id, step_id=step_id, type_=ev.STEP_INPUT, limit=MODEL_INPUT_LIMIT
        )
        routed, _ = await event_repo.read_step_events(
            session, run_id=run_id, step_id=step_id, type_=ev.STEP_ROUTED, limit=1
        )
        workflow = await workflow_repo.read_workflow(session, workflow_id=run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
    definition = DagCache(ctx.dags).of(workflow).steps.get(step_id)
    log = [to_event_item(row) for row in rows]
    lines = _log_lines(log)
    artifacts = await read_artifacts(ctx, run_id=run_id, limit=ARTIFACT_LIMIT)
    return StepDetail(
        run_id=run_id,
        step=step,
        log=log,
        log_total=total,
        documents=_documents(step.outputs, [a for a in artifacts if a.step_id == step_id]),
        approval_id=(await pending_approvals(ctx, run_id=run_id)).get(step_id),
        approval_reason=definition.approval_reason if definition is not None else None,
        attempts=await read_step_attempts(ctx, run_id=run_id, step_id=step_id),
        model_inputs=[to_event_item(row) for row in inputs],
        log_lines=lines if log_lines is None else lines[-log_lines:] if log_lines else [],
        log_lines_total=len(lines),
        route=route_read(routed[0].payload) if routed else None,
    )


def _log_lines(batches: list[EventItem]) -> list[LogLineItem]:
    """The lines of ``step.log`` batches, oldest first, each with its attempt."""
    return [
        LogLineItem(
            attempt=int(batch.payload.get("attempt", 0)),
            ts=batch.ts,
            level=str(line.get("level", "info")),
            message=str(line.get("message", "")),
        )
        for batch in batches
        for line in batch.payload.get("lines") or []
        if isinstance(line, dict)
    ]


def _documents(outputs: dict[str, Any], artifacts: list[ArtifactRead]) -> list[DocumentLink] | None:
    """The outputs' ``documents`` (the names agents list) matched to the step's artifacts."""
    names = outputs.get("documents")
    if not isinstance(names, list):
        return None
    by_name = {a.name: a for a in artifacts}
    # A document stored under another name (the run had its name already) is found by the
    # name its step asked for, and shown by the name it is stored under.
    by_asked = {a.asked_name: a for a in artifacts if a.asked_name}
    links = []
    for n in names:
        found = by_name.get(str(n)) or by_asked.get(str(n))
        links.append(DocumentLink(name=found.name if found else str(n), artifact=found))
    return links

"""Mission read models for the dashboard: the list with progress, and the mission cockpit."""

import contextlib
import re
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Event, Mission, Plan, Run, StepRun, Workflow
from missionctl.domain.states import MissionStatus, RunStatus
from missionctl.errors import (
    LLMOutputInvalid,
    LLMUnavailable,
    NotFound,
    Problem,
    ValidationFailed,
)
from missionctl.planning import LocalPlanner, Planner, PlanRejected
from missionctl.schemas.dashboard import (
    ArchitectureItem,
    EventItem,
    MissionRow,
    MissionRowPage,
    MissionView,
    Summary,
)
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.reports import ReportDecision, ReportNextStep, ReportRisk, RunReport
from missionctl.services import missions as mission_service
from missionctl.services import plans as plan_service
from missionctl.services import runs as run_service
from missionctl.services.artifacts import read_artifacts
from missionctl.services.context import ServiceContext
from missionctl.services.dashboard.events import to_event_item
from missionctl.services.dashboard.tasks import DONE, controls_for, merge_tasks
from missionctl.services.missions import to_mission_read
from missionctl.services.reports import (
    build_run_report,
    plan_decision_items,
    plan_next_step_items,
    plan_risk_items,
)
from missionctl.services.runtime import Runtime

AUDIT_PAGE = 50
"""Events the audit trail shows at first; older ones come with "Load older events"."""

MAX_AUDIT_PAGE = 500
ARTIFACT_LIMIT = 500
_PLANNING_FAILURES = (PlanRejected, LLMOutputInvalid, LLMUnavailable, ValidationFailed)
_STACK = re.compile(r"\bStack: (?:planner defaults: )?(?P<items>[^.]+)\.")
_SHAPE = re.compile(r"\bSuggested project shape: (?P<items>.+?)\.(?:\s|$)")


def planner_for(runtime: Runtime, *, use_model: bool) -> Planner:
    """The model's planner when asked for and configured, else the local one."""
    return runtime.planner if use_model and runtime.llm is not None else LocalPlanner()


async def launch_mission(
    ctx: ServiceContext, *, data: MissionCreate, actor: str, planner: Planner
) -> MissionRead:
    """Create a mission and plan it at once ("New mission" in the dashboard).

    A planner that gives up does not undo the mission: ``plan_mission`` records why (the
    mission is then ``failed`` with a ``plan.rejected`` event) and the mission page shows it.

    Returns:
        The mission as it is after planning (``planned``, ``failed``, or ``needs_clarification``
        when the planner asked questions instead).
    """
    mission = await mission_service.create_mission(ctx, data=data, actor=actor)
    # A failure is recorded by plan_mission and shown on the mission page.
    with contextlib.suppress(*_PLANNING_FAILURES):
        await plan_service.plan_mission(ctx, mission_id=mission.id, actor=actor, planner=planner)
    return await mission_service.read_mission(ctx, mission_id=mission.id)


async def read_mission_rows(
    ctx: ServiceContext,
    *,
    limit: int = 50,
    cursor: str | None = None,
    status: MissionStatus | None = None,
    q: str | None = None,
) -> MissionRowPage:
    """A page of the missions list: each mission with its progress and plan source.

    Progress is that of the mission's newest run (tasks succeeded or skipped of all); a
    mission planned but never run shows ``0`` of its plan's tasks.

    Raises:
        ValidationFailed: ``limit`` or ``cursor`` is invalid (see ``read_missions``).
    """
    page = await mission_service.read_missions(ctx, limit=limit, cursor=cursor, status=status, q=q)
    ids = [m.id for m in page.items]
    async with ctx.read() as session:
        plans = await _latest_plans(session, ids)
        runs = await _latest_runs(session, ids)
        counts = await step_counts(session, [run_id for run_id, _ in runs.values()])
    rows = []
    for mission in page.items:
        source, plan_tasks = plans.get(mission.id, (None, None))
        run_id, run_status = runs.get(mission.id, (None, None))
        by_status = counts.get(run_id, {}) if run_id else {}
        total = sum(by_status.values()) if run_id else plan_tasks
        rows.append(
            MissionRow(
                mission=mission,
                tasks_total=total,
                tasks_done=sum(n for s, n in by_status.items() if s in DONE),
                source=source,
                latest_run_id=run_id,
                latest_run_status=run_status,
            )
        )
    return MissionRowPage(items=rows, total=page.total, next_cursor=page.next_cursor)


async def _latest_plans(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, int]]:
    if not ids:
        return {}
    newest = (
        select(Plan.mission_id, func.max(Plan.version).label("version"))
        .where(Plan.mission_id.in_(ids))
        .group_by(Plan.mission_id)
        .subquery()
    )
    query = select(Plan.mission_id, Plan.source, func.json_array_length(Plan.tasks)).join(
        newest, (Plan.mission_id == newest.c.mission_id) & (Plan.version == newest.c.version)
    )
    return {row[0]: (row[1], int(row[2] or 0)) for row in await session.execute(query)}


async def _latest_runs(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[uuid.UUID, RunStatus]]:
    if not ids:
        return {}
    latest: dict[uuid.UUID, tuple[uuid.UUID, RunStatus]] = {}
    query = select(Run.mission_id, Run.id, Run.status).where(Run.mission_id.in_(ids))
    for mission_id, run_id, status in await session.execute(query.order_by(Run.id)):
        if mission_id is not None:  # ids grow with time: the newest run wins
            latest[mission_id] = (run_id, RunStatus(status))
    return latest


async def step_counts(
    session: AsyncSession, run_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """How many steps of each run have each status (inside the caller's read)."""
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    if run_ids:
        query = (
            select(StepRun.run_id, StepRun.status, func.count())
            .where(StepRun.run_id.in_(run_ids))
            .group_by(StepRun.run_id, StepRun.status)
        )
        for run_id, status, n in await session.execute(query):
            counts[run_id][status] = int(n)
    return counts


async def read_mission_view(
    ctx: ServiceContext, *, mission_id: uuid.UUID, audit_limit: int = AUDIT_PAGE
) -> MissionView:
    """Everything the mission page shows.

    The newest event of the mission is read first (``last_seq``) and the audit trail stops
    there, so a live stream that starts after ``last_seq`` neither repeats nor misses a line;
    the rest may already be newer, and the stream's next update brings it in line.

    The stepper shows the newest run when it runs the newest plan (or is newer than it); after
    a re-plan it shows the new plan's tasks, not started.

    Raises:
        NotFound: no such mission (``field="mission_id"``).
    """
    async with ctx.read() as session:
        last_seq = int(
            await session.scalar(select(func.max(Event.seq)).where(Event.mission_id == mission_id))
            or 0
        )
        row = await session.get(Mission, mission_id)
        if row is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        mission = to_mission_read(row)
        audit, audit_total = await _audit(session, mission_id, last_seq, audit_limit)
        runs = (
            await session.execute(
                select(Run.id, Workflow.plan_id, Workflow.definition)
                .join(Workflow, Workflow.id == Run.workflow_id)
                .where(Run.mission_id == mission_id)
                .order_by(Run.id.desc())
            )
        ).all()
        failed = mission.status == MissionStatus.failed
        problems = await _planning_problems(session, mission_id) if failed else []
    plan = await _read_plan(ctx, mission_id)
    latest_run_id = runs[0].id if runs else None
    run = report = None
    workflow_steps: list[dict[str, Any]] = []
    if runs and (plan is None or runs[0].plan_id == plan.id or runs[0].id > plan.id):
        run = await run_service.read_run(ctx, run_id=runs[0].id)
        workflow_steps = list(runs[0].definition.get("steps", []))
        report = await build_run_report(ctx, run_id=run.id)
    artifacts = await read_artifacts(ctx, mission_id=mission_id, limit=ARTIFACT_LIMIT)
    tasks = merge_tasks(plan, run, workflow_steps)
    architecture, stack, shape = _architecture(plan)
    risks, next_steps, decisions = _intelligence(plan, report)
    return MissionView(
        mission=mission,
        plan=plan,
        run=run,
        latest_run_id=latest_run_id,
        runs=len(runs),
        tasks=tasks,
        controls=controls_for(mission, plan, run, report=latest_run_id is not None),
        summary=Summary(
            run_status=run.status if run else None,
            risks=len(risks),
            next_steps=len(next_steps),
            tasks=len(tasks),
            tasks_done=sum(1 for t in tasks if t.status in DONE),
            artifacts=len(artifacts),
            input_tokens=mission.input_tokens,
            output_tokens=mission.output_tokens,
            cost_usd=mission.spent_usd,
            duration_s=report.outcome.duration_s if report else None,
        ),
        risks=risks,
        next_steps=next_steps,
        decisions=[d for d in decisions if d.title.lower() != "architecture"],
        architecture=architecture,
        stack=stack,
        project_shape=shape,
        artifacts=artifacts,
        audit=audit,
        audit_total=audit_total,
        planning_problems=problems,
        last_seq=last_seq,
    )


async def _read_plan(ctx: ServiceContext, mission_id: uuid.UUID) -> PlanRead | None:
    try:
        return await plan_service.read_plan(ctx, mission_id=mission_id)
    except NotFound:
        return None


async def _audit(
    session: AsyncSession, mission_id: uuid.UUID, last_seq: int, limit: int
) -> tuple[list[EventItem], int]:
    where = (Event.mission_id == mission_id) & (Event.seq <= last_seq)
    total = int(await session.scalar(select(func.count()).select_from(Event).where(where)) or 0)
    if limit <= 0:
        return [], total
    rows = await session.scalars(select(Event).where(where).order_by(Event.seq.desc()).limit(limit))
    return [to_event_item(row) for row in rows.all()], total


async def read_mission_audit(
    ctx: ServiceContext, *, mission_id: uuid.UUID, before_seq: int, limit: int = AUDIT_PAGE
) -> list[EventItem]:
    """The mission's events older than ``before_seq``, newest first ("Load older events").

    Raises:
        NotFound: no such mission.
        ValidationFailed: ``limit`` is not between 1 and 500.
    """
    if not 1 <= limit <= MAX_AUDIT_PAGE:
        raise ValidationFailed([Problem("limit", f"must be between 1 and {MAX_AUDIT_PAGE}")])
    await mission_service.read_mission(ctx, mission_id=mission_id)
    async with ctx.read() as session:
        rows = await session.scalars(
            select(Event)
            .where(Event.mission_id == mission_id, Event.seq < before_seq)
            .order_by(Event.seq.desc())
            .limit(limit)
        )
        return [to_event_item(row) for row in rows.all()]


async def _planning_problems(session: AsyncSession, mission_id: uuid.UUID) -> list[str]:
    row = await session.scalar(
        select(Event)
        .where(Event.mission_id == mission_id, Event.type.in_(("plan.created", "plan.rejected")))
        .order_by(Event.seq.desc())
        .limit(1)
    )
    if row is None or row.type != "plan.rejected":
        return []
    problems = row.payload.get("problems") or []
    return [str(p.get("message")) for p in problems if isinstance(p, dict)] or ["unknown"]


def _architecture(plan: PlanRead | None) -> tuple[list[ArchitectureItem], list[str], list[str]]:
    """The plan's architecture, stack and project shape, where the plan states them.

    Plans carry them as a decision titled "Architecture" (``Component: choice; …``) and as
    ``Stack: …`` and ``Suggested project shape: …`` sentences of the summary.
    """
    if plan is None:
        return [], [], []
    items: list[ArchitectureItem] = []
    decision = next((d for d in plan.decisions if d.title.lower() == "architecture"), None)
    if decision is not None:
        for part in decision.choice.rstrip(". ").split(";"):
            name, sep, detail = part.strip().partition(":")
            if name.strip():
                items.append(
                    ArchitectureItem(name=name.strip(), detail=detail.strip())
                    if sep
                    else ArchitectureItem(name="Component", detail=name.strip())
                )
    stack = _STACK.search(plan.summary)
    shape = _SHAPE.search(plan.summary)
    return (
        items,
        [s.strip() for s in stack["items"].split(",") if s.strip()] if stack else [],
        [s.strip() for s in shape["items"].split(",") if s.strip()] if shape else [],
    )


def _intelligence(
    plan: PlanRead | None, report: RunReport | None
) -> tuple[list[ReportRisk], list[ReportNextStep], list[ReportDecision]]:
    """Risks, next steps and decisions: the plan's, then what the run's steps reported.

    A run compiled from the plan already lists the plan's items first (its report does); a run
    of another workflow for the mission adds its steps' findings to the plan's.
    """
    risks: list[ReportRisk] = []
    steps: list[ReportNextStep] = []
    decisions: list[ReportDecision] = []
    if plan is not None and (report is None or report.plan is None):
        risks = plan_risk_items(plan.risks)
        steps = plan_next_step_items(plan.next_steps)
        decisions = plan_decision_items(plan.decisions)
    if report is not None:
        titles = {r.title.lower() for r in risks}
        texts = {n.text.lower() for n in steps}
        risks += [r for r in report.risks if r.title.lower() not in titles]
        steps += [n for n in report.next_steps if n.text.lower() not in texts]
        decisions = decisions or report.decisions
    return risks, steps, decisions

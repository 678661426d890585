"""Mission read models for the dashboard: the list with progress, and the mission cockpit."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.domain.states import MissionStatus, RunStatus
from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.reading import read_goal
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import events as event_repo
from missionctl.repositories import missions as mission_repo
from missionctl.repositories.dashboard import MissionRun
from missionctl.schemas.dashboard import (
    ArchitectureItem,
    EventItem,
    MissionRow,
    MissionRowPage,
    MissionView,
    PlanDraftView,
    Summary,
)
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.reports import ReportDecision, ReportNextStep, ReportRisk, RunReport
from missionctl.schemas.runs import RunRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases import tracemap as trace_service
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.services.usecases.dashboard.drafts import read_plan_draft
from missionctl.services.usecases.dashboard.events import to_event_item
from missionctl.services.usecases.dashboard.register import read_register_view
from missionctl.services.usecases.dashboard.tasks import (
    DONE,
    controls_for,
    headline_of,
    merge_tasks,
    run_to_show,
)
from missionctl.services.usecases.missions import to_mission_read
from missionctl.services.usecases.phases import read_phase_tracker
from missionctl.services.usecases.reports import (
    build_run_report,
    plan_decision_items,
    plan_next_step_items,
    plan_risk_items,
    ranked_next_steps,
)

AUDIT_PAGE = 50
"""Events the audit trail shows at first; older ones come with "Load older events"."""

MAX_AUDIT_PAGE = 500
ARTIFACT_LIMIT = 500
# A sentence ends at a full stop before a space or the end: "Next.js" and "Python 3.12" go on.
_STACK = re.compile(r"\bStack: (?:planner defaults: )?(?P<items>.+?)\.(?:\s|$)")
_SHAPE = re.compile(r"\bSuggested project shape: (?P<items>.+?)\.(?:\s|$)")


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
        plans = await dashboard_repo.read_latest_plans(session, mission_ids=ids)
        runs = await dashboard_repo.read_latest_runs(session, mission_ids=ids)
        run_ids = [run.id for run in runs.values()]
        counts = await dashboard_repo.read_step_counts(session, run_ids=run_ids)
    rows = [
        _mission_row(mission, plans.get(mission.id), runs.get(mission.id), counts)
        for mission in page.items
    ]
    return MissionRowPage(items=rows, total=page.total, next_cursor=page.next_cursor)


def _mission_row(
    mission: MissionRead,
    plan: dashboard_repo.PlanSummary | None,
    run: dashboard_repo.LatestRun | None,
    counts: dict[uuid.UUID, dict[str, int]],
) -> MissionRow:
    """A mission with the progress of its newest run, or else its plan's task count."""
    by_status = counts.get(run.id, {}) if run else {}
    return MissionRow(
        mission=mission,
        tasks_total=sum(by_status.values()) if run else (plan.tasks if plan else None),
        tasks_done=sum(n for s, n in by_status.items() if s in DONE),
        source=plan.source if plan else None,
        latest_run_id=run.id if run else None,
        latest_run_status=RunStatus(run.status) if run else None,
    )


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
    records = await _read_records(ctx, mission_id, audit_limit)
    mission = records.mission
    plan = await _read_plan(ctx, mission_id)
    shown = await _shown_run(ctx, plan, records.runs)
    report = shown.report
    artifacts = await read_artifacts(ctx, mission_id=mission_id, limit=ARTIFACT_LIMIT)
    tasks = merge_tasks(plan, shown.run, shown.steps)
    architecture, stack, shape = _architecture(plan)
    risks, next_steps, decisions = _intelligence(plan, report)
    latest_run_id = records.runs[0].id if records.runs else None
    register = await read_register_view(ctx, mission_id=mission_id)
    gaps = await trace_service.count_gaps(ctx, mission=mission, plan=plan) if plan else None
    phases = await read_phase_tracker(ctx, mission_id=mission_id)
    return MissionView(
        mission=mission,
        plan=plan,
        run=shown.run,
        latest_run_id=latest_run_id,
        runs=len(records.runs),
        tasks=tasks,
        controls=controls_for(mission, plan, shown.run, report=latest_run_id is not None),
        summary=Summary(
            run_status=shown.run.status if shown.run else None,
            risks=len(risks),
            next_steps=len(next_steps),
            tasks=len(tasks),
            tasks_done=sum(1 for t in tasks if t.status in DONE),
            artifacts=len(artifacts),
            input_tokens=mission.input_tokens,
            output_tokens=mission.output_tokens,
            cost_usd=mission.spent_usd,
            duration_s=report.outcome.duration_s if report else None,
            headline=headline_of(shown.run, from_plan=True),
        ),
        risks=risks,
        next_steps=next_steps,
        decisions=[d for d in decisions if d.title.lower() != "architecture"],
        architecture=architecture,
        stack=stack,
        project_shape=shape,
        artifacts=artifacts,
        audit=records.audit,
        audit_total=records.audit_total,
        planning_problems=records.problems,
        goal_constraints=goal_constraints(mission),
        last_seq=records.last_seq,
        last_activity_at=_last_activity(mission, records.runs),
        decision_log=register.decisions,
        risk_register=register.register,
        item_history=register.history,
        phases=phases,
        trace_gaps=gaps,
        draft=records.draft,
    )


def _last_activity(mission: MissionRead, runs: list[MissionRun]) -> datetime:
    """When the mission last changed, counting its runs' changes as its own.

    A run that ends does not always move its mission (of two runs at once, the one that ends
    second finds the mission completed or failed already), so the mission's own ``updated_at``
    alone can lag behind.
    """
    return max([mission.updated_at, *(run.updated_at for run in runs)])


@dataclass(frozen=True)
class _MissionRecords:
    """What the mission page reads of the mission in one snapshot."""

    last_seq: int
    mission: MissionRead
    audit: list[EventItem]
    audit_total: int
    runs: list[MissionRun]
    problems: list[str]
    draft: PlanDraftView | None = None


async def _read_records(
    ctx: ServiceContext, mission_id: uuid.UUID, audit_limit: int
) -> _MissionRecords:
    """The mission, its audit trail to its newest event, its runs, why planning failed, drafts.

    While the mission plans, what the model has drafted of the plan so far.

    Raises:
        NotFound: no such mission (``field="mission_id"``).
    """
    async with ctx.read() as session:
        last_seq = await event_repo.read_last_seq(session, mission_id=mission_id)
        row = await mission_repo.read_mission(session, mission_id=mission_id)
        if row is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        mission = to_mission_read(row)
        events, audit_total = await event_repo.read_audit_page(
            session, mission_id=mission_id, up_to=last_seq, limit=audit_limit
        )
        runs = await dashboard_repo.read_mission_runs(session, mission_id=mission_id)
        failed = mission.status == MissionStatus.failed
        problems = await _planning_problems(session, mission_id) if failed else []
        planning = mission.status == MissionStatus.planning
        draft = await read_plan_draft(session, mission_id=mission_id) if planning else None
    audit = [to_event_item(event) for event in events]
    return _MissionRecords(last_seq, mission, audit, audit_total, runs, problems, draft)


@dataclass(frozen=True)
class _ShownRun:
    """The run the mission page shows (if any), its workflow's steps and its report."""

    run: RunRead | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    report: RunReport | None = None


async def _shown_run(
    ctx: ServiceContext, plan: PlanRead | None, runs: list[MissionRun]
) -> _ShownRun:
    """The newest run, when it runs the newest plan or is newer than it; else none."""
    newest = run_to_show(plan, runs)
    if newest is None:
        return _ShownRun()
    run = await run_service.read_run(ctx, run_id=newest.id)
    # The page shows the report's findings and outcome, never its log tails.
    report = await build_run_report(ctx, run_id=run.id, log_tails=False)
    return _ShownRun(run, list(newest.definition.get("steps", [])), report)


async def _read_plan(ctx: ServiceContext, mission_id: uuid.UUID) -> PlanRead | None:
    try:
        return await plan_service.read_plan(ctx, mission_id=mission_id)
    except NotFound:
        return None


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
        rows = await event_repo.read_events_before(
            session, mission_id=mission_id, before_seq=before_seq, limit=limit
        )
        return [to_event_item(row) for row in rows]


async def _planning_problems(session: AsyncSession, mission_id: uuid.UUID) -> list[str]:
    """Why the mission's last planning failed (empty when it did not)."""
    row = await event_repo.read_newest_event(
        session, mission_id=mission_id, types=("plan.created", "plan.rejected")
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
    of another workflow for the mission adds its steps' findings to the plan's. Next steps come
    ranked as the run report ranks them (``reports.ranked_next_steps``): high priority first,
    in their order within one priority.
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
    # In the run report's order (high priority first, stable within one), whichever list won.
    return risks, ranked_next_steps(steps), decisions


def goal_constraints(mission: MissionRead) -> list[str]:
    """The bounds the mission's goal states in its own words, but those its constraints repeat.

    The same reading the local planner takes (``reading.read_goal``), so the page lists what the
    plan quotes among its constraints.
    """
    given = {c.strip().lower() for c in mission.constraints}
    reading = read_goal(goal=mission.goal, title=mission.title)
    return [c for c in reading.constraints if c.lower() not in given]

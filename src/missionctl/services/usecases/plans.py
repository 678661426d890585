"""Plan use cases: plan a mission (a new plan version), read a plan, run a mission's plan."""

import uuid
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Plan, Requirement
from missionctl.domain.budget import token_allowance
from missionctl.domain.money import micros_text
from missionctl.domain.plan_diff import diff_plans
from missionctl.domain.states import MISSION, MissionStatus, transition
from missionctl.errors import (
    Conflict,
    LLMOutputInvalid,
    LLMUnavailable,
    NotFound,
    Problem,
    ValidationFailed,
)
from missionctl.eventlog import NewEvent, append
from missionctl.llm import TokenLimitReached
from missionctl.planning import (
    LOCAL_SOURCE,
    ClarificationNeeded,
    LLMPlanner,
    Planner,
    PlannerResult,
    PlanningInput,
    PlanRejected,
    agent_kind_for,
    coding_inputs,
    compile_plan,
)
from missionctl.planning.coverage import as_plan_clauses, clause_traces
from missionctl.planning.recall import keep_offered
from missionctl.repositories import missions as mission_repo
from missionctl.repositories import plans as plan_repo
from missionctl.repositories import workflows as workflow_repo
from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import (
    PlanAgain,
    PlanClause,
    PlanDecision,
    PlanDiffChange,
    PlanDiffItem,
    PlanDiffRead,
    PlanDiffSection,
    PlanDraft,
    PlanNextStep,
    PlanPhase,
    PlanRead,
    PlanRequirement,
    PlanRisk,
    PlanTask,
    PlanVersionRead,
)
from missionctl.schemas.runs import RunRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases.clarifications import (
    answers_of,
    record_questions,
    resume_with_answers,
)
from missionctl.services.usecases.memory_recall import with_recollections
from missionctl.services.usecases.plan_drafts import DraftRecorder, drafting
from missionctl.services.usecases.pricing import charge_planning, resolve_price
from missionctl.services.usecases.runs import start_in
from missionctl.services.usecases.transitions import moved
from missionctl.services.usecases.workflows import (
    require_valid,
    save_version,
    version_race_as_conflict,
)


async def _mission_for_update(session: AsyncSession, mission_id: uuid.UUID) -> Mission:
    mission = await mission_repo.read_mission(session, mission_id=mission_id, for_update=True)
    if mission is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    return mission


async def plan_mission(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, planner: Planner
) -> PlanRead | ClarificationRead:
    """Plan (or re-plan) a mission: store a new plan version, or record why there is none.

    Three steps, so that no transaction is held open while a model thinks:
    1. the mission moves to ``planning`` (``mission.planning``);
    2. the planner runs, with every answer the user gave to a planner's questions;
    3. the plan, its requirements, risks, decisions and next steps are stored as version
       ``n + 1`` and the mission moves to ``planned`` (``plan.created``) — or, if the planner
       gave up, the mission moves to ``failed`` with the reasons (``plan.rejected``) and nothing
       is stored as a plan — or, if the planner asked questions instead, the mission waits for
       answers in ``needs_clarification`` (``mission.needs_clarification``) and the questions
       are returned.

    Raises:
        NotFound: no such mission.
        InvalidTransition: the mission cannot be planned now (e.g. it is running).
        PlanRejected | LLMOutputInvalid | LLMUnavailable: the planner failed (after step 3's
            record of it).
    """
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        rule = transition(MISSION, mission.status, MissionStatus.planning)
        mission.status = rule.target
        planning_input = PlanningInput.from_mission(
            mission, answers=answers_of(mission.clarifications)
        )
        await append(session, [moved(rule, actor=actor, mission_id=mission_id)])
    return await _plan_and_store(ctx, mission_id, actor, planner, planning_input)


async def answer_questions(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    actor: str,
    planner: Planner,
    answers: ClarificationAnswers,
) -> PlanRead | ClarificationRead:
    """Answer the questions a planner asked about a mission, and plan it with the answers.

    The answers are stored and recorded (``mission.answered``), the mission moves back to
    ``planning``, and steps 2 and 3 of :func:`plan_mission` follow: a plan, or new questions
    when the answers still leave the planner guessing.

    Raises:
        NotFound: no such mission.
        Conflict: the mission does not wait for answers; nothing changes.
        ValidationFailed: more answers than questions; nothing changes.
        PlanRejected | LLMOutputInvalid | LLMUnavailable: as :func:`plan_mission`.
    """
    planning_input = await resume_with_answers(
        ctx, mission_id=mission_id, actor=actor, answers=answers
    )
    return await _plan_and_store(ctx, mission_id, actor, planner, planning_input)


async def _plan_and_store(
    ctx: ServiceContext,
    mission_id: uuid.UUID,
    actor: str,
    planner: Planner,
    planning_input: PlanningInput,
) -> PlanRead | ClarificationRead:
    """Steps 2 and 3 of :func:`plan_mission`, for a mission already ``planning``."""
    # What similar finished missions decided and risked, for the planner to reuse and cite.
    planning_input = await with_recollections(
        ctx, mission_id=mission_id, planning_input=planning_input
    )
    try:
        # Every plan.drafted of this planning is recorded before what ends it.
        async with drafting(ctx, mission_id=mission_id, actor=actor) as recorder:
            result = await _plan_within_budget(ctx, mission_id, planner, planning_input, recorder)
    except ClarificationNeeded as asked:
        return await record_questions(ctx, mission_id=mission_id, actor=actor, asked=asked)
    except (PlanRejected, LLMOutputInvalid, LLMUnavailable, ValidationFailed) as exc:
        await _record_rejection(ctx, mission_id, actor, exc)
        raise
    offered = [past.mission_id for past in planning_input.recollections]
    draft, notes = keep_offered(result.draft, offered)  # a citation is of an offered mission
    if notes:
        result = replace(result, draft=draft, notes=(*result.notes, *notes))
    return await _store_plan(ctx, mission_id, actor, result, planning_input)


async def _plan_within_budget(
    ctx: ServiceContext,
    mission_id: uuid.UUID,
    planner: Planner,
    planning_input: PlanningInput,
    drafts: DraftRecorder,
) -> PlannerResult:
    """Plan under the mission's budget: a model's calls may spend at most what is left of it.

    A model planner tells ``drafts`` each phase and task as the model writes it
    (``plan.drafted``); the local planner writes its plan at once and drafts nothing.

    The local planner costs nothing. A model planner, for a mission with a budget, needs a
    price (bundled, or set with ``missionctl prices set``): without one nothing is sent. Its
    calls are limited to the tokens the rest of the budget pays for at the model's highest
    token price, so planning never spends past the budget; a request the rest cannot pay for
    is not sent.

    Raises:
        ValidationFailed: the model has no price (``model``).
        PlanRejected: the budget cannot pay for the next call (``budget_usd``); the calls
            already made are charged.
    """
    if not isinstance(planner, LLMPlanner):
        return await planner.plan(planning_input)
    async with ctx.read() as session:
        mission = await mission_repo.read_mission(session, mission_id=mission_id)
        assert mission is not None  # plan_mission locked it a moment ago
        budget = mission.budget_micros
        left = 0 if budget is None else max(0, budget - mission.spent_micros)
        price = None if budget is None else await resolve_price(session, model=planner.model)
    if budget is None:  # the read transaction is over: no snapshot is held while it plans
        return await planner.plan(planning_input, on_draft=drafts)
    if price is None:
        raise ValidationFailed(
            [
                Problem(
                    "model",
                    f"no price is known for model {planner.model!r}, so the mission's budget "
                    f"cannot be kept: set one with `missionctl prices set {planner.model} "
                    "--input <USD per million tokens> --output <USD per million tokens>` "
                    "(or on the Prices page), then plan again; nothing was sent to the model",
                )
            ]
        )
    try:
        return await planner.plan(
            planning_input, max_tokens=token_allowance(price, left), on_draft=drafts
        )
    except TokenLimitReached as exc:
        raise PlanRejected(
            [
                Problem(
                    "budget_usd",
                    f"the mission's budget has {micros_text(left)} left, which pays for "
                    f"{exc.limit} tokens of {planner.model}: {exc.message}; raise the budget",
                )
            ],
            usage=exc.usage,
            attempts=exc.attempts,
            model=planner.model,
        ) from None


async def _record_rejection(
    ctx: ServiceContext, mission_id: uuid.UUID, actor: str, exc: Exception
) -> None:
    problems: list[dict[str, Any]]
    if isinstance(exc, ValidationFailed):
        problems = [{"field": p.field, "message": p.message} for p in exc.problems]
    else:
        problems = [{"field": getattr(exc, "field", None), "message": str(exc)}]
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        charged = 0
        if isinstance(exc, PlanRejected):
            charged = await charge_planning(session, mission, model=exc.model, usage=exc.usage)
        rule = transition(MISSION, mission.status, MissionStatus.failed)
        mission.status = rule.target
        await append(
            session,
            [
                NewEvent(
                    type="plan.rejected",
                    actor=actor,
                    mission_id=mission_id,
                    payload={"problems": problems, "cost_micros": charged},
                ),
                moved(rule, actor=actor, mission_id=mission_id, reason="planning failed"),
            ],
        )


async def _store_plan(
    ctx: ServiceContext,
    mission_id: uuid.UUID,
    actor: str,
    result: PlannerResult,
    planning_input: PlanningInput,
) -> PlanRead:
    draft = result.draft
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        plan = await plan_repo.add_plan(
            session,
            mission_id=mission_id,
            source=result.source,
            draft=draft,
            validation=_validation(result, planning_input),
        )
        charged = 0
        if result.source != LOCAL_SOURCE:
            charged = await charge_planning(
                session, mission, model=result.source, usage=result.usage
            )
        rule = transition(MISSION, mission.status, MissionStatus.planned)
        mission.status = rule.target
        await session.flush()
        await append(
            session,
            [
                NewEvent(
                    type="plan.created",
                    actor=actor,
                    mission_id=mission_id,
                    payload={
                        "plan_id": str(plan.id),
                        "version": plan.version,
                        "source": plan.source,
                        "tasks": [t.key for t in draft.tasks],
                        "attempts": result.attempts,
                        "input_tokens": result.usage.input_tokens,
                        "output_tokens": result.usage.output_tokens,
                        "cost_micros": charged,
                    },
                ),
                moved(rule, actor=actor, mission_id=mission_id, plan_version=plan.version),
            ],
        )
        return await session.run_sync(_plan_read, plan)


def _validation(result: PlannerResult, planning_input: PlanningInput) -> dict[str, Any]:
    """What is stored with a plan about how it was made.

    The attempts, prompt version, temperature and seed sent (``None``: not sent), tokens and
    notes, and the goal's clauses with what keeps each (:mod:`missionctl.planning.coverage`).
    """
    traces = clause_traces(result.draft, planning_input)
    return {
        "clauses": [clause.model_dump(mode="json") for clause in as_plan_clauses(traces)],
        "ok": True,
        "problems": [],
        "attempts": result.attempts,
        "prompt_version": result.prompt_version,
        **result.sampling.record(),
        "input_tokens": result.usage.input_tokens,
        "output_tokens": result.usage.output_tokens,
        "notes": list(result.notes),
    }


def _plan_read(session: Session, plan: Plan) -> PlanRead:
    items = plan_repo.read_plan_items(session, plan_id=plan.id)
    return PlanRead(
        id=plan.id,
        mission_id=plan.mission_id,
        version=plan.version,
        source=plan.source,
        created_at=plan.created_at,
        notes=_planner_notes(plan),
        clauses=_clauses(plan),
        summary=plan.summary,
        # The rows were stored from a validated draft: validating them again types them.
        requirements=[_from_row(PlanRequirement, r) for r in items.requirements],
        phases=[PlanPhase.model_validate(p) for p in plan.phases],
        tasks=[PlanTask.model_validate(t) for t in plan.tasks],
        risks=[_from_row(PlanRisk, r) for r in items.risks],
        decisions=[_from_row(PlanDecision, d) for d in items.decisions],
        next_steps=[_from_row(PlanNextStep, n) for n in items.next_steps],
    )


_Item = TypeVar("_Item", PlanRequirement, PlanRisk, PlanDecision, PlanNextStep)
_COLUMNS = {"from_mission": "from_mission_id"}  # a plan item's field → its row's column


def _from_row(schema: type[_Item], row: object) -> _Item:
    """A stored plan item read into its schema (the row's other columns are left out)."""
    fields = {name: getattr(row, _COLUMNS.get(name, name)) for name in schema.model_fields}
    return schema.model_validate(fields)


def _planner_notes(plan: Plan) -> list[str]:
    """The planner's notes stored with ``plan`` (none for plans stored before there were)."""
    notes = (plan.validation or {}).get("notes")
    return [str(note) for note in notes] if isinstance(notes, list) else []


def _clauses(plan: Plan) -> list[PlanClause]:
    """The goal's clauses stored with ``plan`` (none for plans stored before they were)."""
    stored = (plan.validation or {}).get("clauses")
    return [PlanClause.model_validate(c) for c in stored] if isinstance(stored, list) else []


async def read_plan(
    ctx: ServiceContext, *, mission_id: uuid.UUID, version: int | None = None
) -> PlanRead:
    """A mission's plan: ``version``, or the newest.

    Raises:
        NotFound: no such mission, or it has no plan (of that version).
    """
    async with ctx.read() as session:
        if await mission_repo.read_mission(session, mission_id=mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        plan = await session.run_sync(plan_repo.read_plan, mission_id=mission_id, version=version)
        if plan is None:
            if version is None:
                raise NotFound(
                    f"mission {mission_id} has no plan yet; plan it first", field="mission_id"
                )
            raise NotFound(f"mission {mission_id} has no plan version {version}", field="version")
        return await session.run_sync(_plan_read, plan)


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The plan a run executes, as its steps read it (``StepContext.load_plan``)."""

    plan: PlanRead | None
    # Whether it is the plan the run's workflow version was compiled from: that one never
    # changes, so a reader may keep it. Otherwise it is the mission's newest plan.
    compiled: bool


async def read_planned(
    ctx: ServiceContext, *, mission_id: uuid.UUID, version: int | None, lacking: str
) -> tuple[MissionRead, PlanRead]:
    """A mission and its plan ``version`` (default: the newest), for what needs a plan.

    ``lacking`` finishes the refusal's sentence for a mission not planned yet ("so it has no
    execution pack").

    Raises:
        NotFound: no such mission (``field="mission_id"``), or no such plan version
            (``field="plan_version"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first.
    """
    mission = await mission_service.read_mission(ctx, mission_id=mission_id)
    async with ctx.read() as session:
        planned = await plan_repo.has_plan(session, mission_id=mission_id)
    if not planned:
        raise Conflict(
            f"mission {mission_id} has no plan yet, {lacking}; plan it first "
            f"(POST /api/v1/missions/{mission_id}/plan, `missionctl mission plan`, or Plan on "
            "its page)",
            field="mission_id",
        )
    try:
        plan = await read_plan(ctx, mission_id=mission_id, version=version)
    except NotFound as exc:  # the mission exists (read above): the version does not
        raise NotFound(exc.message, field="plan_version") from None
    return mission, plan


async def read_run_plan(
    ctx: ServiceContext, *, workflow_id: uuid.UUID, mission_id: uuid.UUID
) -> RunPlan:
    """The plan a run of ``workflow_id`` for ``mission_id`` executes.

    The plan its workflow version was compiled from; for a workflow not compiled from a plan,
    the mission's newest plan (``None`` when it has none).
    """
    async with ctx.read() as session:
        workflow = await workflow_repo.read_workflow(session, workflow_id=workflow_id)
        plan_id = workflow.plan_id if workflow is not None else None
        if plan_id is not None:
            plan = await plan_repo.read_plan_by_id(session, plan_id=plan_id)
            if plan is not None:
                return RunPlan(await session.run_sync(_plan_read, plan), compiled=True)
        newest = await session.run_sync(plan_repo.read_plan, mission_id=mission_id)
        read = None if newest is None else await session.run_sync(_plan_read, newest)
        return RunPlan(read, compiled=False)


async def run_mission(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    actor: str,
    trigger: str = "manual",
    budget_micros: int | None = None,
) -> RunRead:
    """Compile the mission's newest plan into a workflow version and start a run of it.

    Local plans run on the builtin specialists; model plans on LLM agents. The mission's budget
    (minus what planning already spent) caps the run, and ``budget_micros`` too when given.

    Raises:
        NotFound: no such mission.
        Conflict: the mission has no plan yet, or is not in a state that can run (plan it
            first).
    """

    def plan_and_start(session: Session) -> RunRead:
        return run_mission_in(
            session,
            ctx,
            mission_id=mission_id,
            actor=actor,
            trigger=trigger,
            budget_micros=budget_micros,
        )

    # One transaction reads the plan, saves the version compiled from it and starts its run: a
    # burst of run requests pays one transaction each, and a refused start leaves nothing.
    return await ctx.write_blocking(plan_and_start, side_by_side=True)


def run_mission_in(
    session: Session,
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    actor: str,
    trigger: str,
    budget_micros: int | None,
) -> RunRead:
    """``run_mission`` in the caller's blocking transaction (a schedule's firing is one).

    Raises:
        NotFound | Conflict | ValidationFailed: as ``run_mission`` and ``start_in``.
    """
    mission, plan = _runnable(session, mission_id)
    spec = compile_plan(
        _compilable(session, plan),
        mission_title=mission.title,
        mission_id=mission.id,
        agent_kind=agent_kind_for(plan.source),
        coding_agent=(mission.repository or {}).get("agent"),
        coding=coding_inputs(mission.repository),
        review=bool((mission.repository or {}).get("review")),
    )
    require_valid(spec)
    with version_race_as_conflict(spec.name):
        workflow = save_version(
            session, spec=spec, actor=actor, mission_id=mission_id, plan_id=plan.id
        )
    # The cap is the lowest of ``budget_micros`` and what is left of the mission's budget:
    # ``start_in`` applies both.
    return start_in(
        session,
        ctx,
        workflow,
        actor=actor,
        trigger=trigger,
        mission_id=mission_id,
        budget_micros=budget_micros,
        inputs=None,
    )


def _runnable(session: Session, mission_id: uuid.UUID) -> tuple[Mission, Plan]:
    """The mission and its newest plan, if the mission may run now.

    Raises:
        NotFound: no such mission.
        Conflict: the mission has no plan yet, or is not in a state that can run.
    """
    # Locked: two requests to run one mission must not both find it runnable (on SQLite the
    # write transaction serialises them already).
    mission = session.get(Mission, mission_id, with_for_update=True)
    if mission is None:
        raise NotFound(f"no mission with id {mission_id}", field="mission_id")
    newest = plan_repo.read_plan(session, mission_id=mission_id, version=None)
    if newest is None:  # the mission exists: it is its state that forbids running
        raise Conflict(
            f"mission {mission_id} has no plan yet; plan it first (POST "
            f"/api/v1/missions/{mission_id}/plan, or Plan on its page)",
            field="mission_id",
        )
    if not MISSION.can(mission.status, "running"):
        raise Conflict(
            f"mission {mission_id} is {mission.status}; plan it before running it",
            field="mission_id",
        )
    return mission, newest


def _compilable(session: Session, plan: Plan) -> PlanDraft:
    """What compiling reads of a stored plan: its tasks, phases and requirements.

    The plan rules check tasks' traces against the requirements; risks, decisions and next
    steps are not read, so that a run request makes no round trips it does not need.
    """
    requirements = plan_repo.read_plan_rows(session, model=Requirement, plan_id=plan.id)
    return PlanDraft.model_validate(
        {
            "summary": plan.summary,
            "requirements": [_from_row(PlanRequirement, row) for row in requirements],
            "phases": plan.phases,
            "tasks": plan.tasks,
        }
    )


# ---- Plan versions: planning again with a changed context, listing and comparing versions ----

MAX_LISTED_VERSIONS = 200
"""The newest plan versions :func:`list_plan_versions` returns (a mission rarely has more)."""


async def plan_again(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    actor: str,
    planner: Planner,
    changes: PlanAgain | None = None,
) -> PlanRead | ClarificationRead:
    """Plan a mission again (a new plan version), first replacing the context ``changes`` gives.

    The changed constraints and repository context are stored and recorded
    (``mission.context_changed``) only if the mission may be planned now, so a refused request
    changes nothing; then :func:`plan_mission` runs with them, and returns the new plan or the
    planner's questions.

    Raises:
        NotFound: no such mission.
        InvalidTransition: the mission cannot be planned now (e.g. it is running).
        PlanRejected | LLMOutputInvalid | LLMUnavailable: as :func:`plan_mission`.
    """
    if changes is not None:
        await _change_context(ctx, mission_id=mission_id, actor=actor, changes=changes)
    return await plan_mission(ctx, mission_id=mission_id, actor=actor, planner=planner)


async def _change_context(
    ctx: ServiceContext, *, mission_id: uuid.UUID, actor: str, changes: PlanAgain
) -> None:
    async with ctx.write() as session:
        mission = await _mission_for_update(session, mission_id)
        transition(MISSION, mission.status, MissionStatus.planning)  # refuse before changing
        payload: dict[str, Any] = {}
        if changes.constraints is not None and changes.constraints != list(mission.constraints):
            mission.constraints = list(changes.constraints)
            payload["constraints"] = mission.constraints
        if changes.repo_context is not None and changes.repo_context != mission.repo_context:
            mission.repo_context = changes.repo_context
            payload["repo_context"] = mission.repo_context
        if payload:
            event = NewEvent(
                type="mission.context_changed", actor=actor, mission_id=mission_id, payload=payload
            )
            await append(session, [event])


async def list_plan_versions(
    ctx: ServiceContext, *, mission_id: uuid.UUID
) -> list[PlanVersionRead]:
    """The mission's plan versions, newest first (at most :data:`MAX_LISTED_VERSIONS`).

    Raises:
        NotFound: no such mission.
    """
    async with ctx.read() as session:
        if await mission_repo.read_mission(session, mission_id=mission_id) is None:
            raise NotFound(f"no mission with id {mission_id}", field="mission_id")
        plans = await plan_repo.read_newest_plans(
            session, mission_id=mission_id, limit=MAX_LISTED_VERSIONS
        )
        reads = [await session.run_sync(_plan_read, plan) for plan in plans]
    return [
        PlanVersionRead(
            version=p.version,
            source=p.source,
            created_at=p.created_at,
            summary=p.summary,
            tasks=len(p.tasks),
            requirements=len(p.requirements),
            risks=len(p.risks),
            decisions=len(p.decisions),
        )
        for p in reads
    ]


async def compare_plans(
    ctx: ServiceContext, *, mission_id: uuid.UUID, version: int, base: int
) -> PlanDiffRead:
    """What changed from plan version ``base`` to plan version ``version`` of the mission.

    Raises:
        NotFound: no such mission, or no such version (``field`` names ``version`` or
            ``base``).
    """
    newer = await read_plan(ctx, mission_id=mission_id, version=version)
    try:
        older = await read_plan(ctx, mission_id=mission_id, version=base)
    except NotFound as exc:
        raise NotFound(str(exc), field="base") from None  # the mission exists: read above
    diff = diff_plans(
        older.model_dump(mode="json"),
        newer.model_dump(mode="json"),
        base_version=base,
        target_version=version,
    )
    return PlanDiffRead(
        base=diff.base,
        target=diff.target,
        same=diff.same,
        summary_changed=diff.summary_changed,
        sections=[
            PlanDiffSection(
                name=section.name,
                added=[PlanDiffItem(key=i.key, label=i.label) for i in section.added],
                removed=[PlanDiffItem(key=i.key, label=i.label) for i in section.removed],
                changed=[
                    PlanDiffChange(key=c.key, label=c.label, fields=list(c.fields))
                    for c in section.changed
                ],
            )
            for section in diff.sections
        ],
    )


__all__ = [
    "answer_questions",
    "compare_plans",
    "list_plan_versions",
    "plan_again",
    "plan_mission",
    "read_plan",
    "run_mission",
]

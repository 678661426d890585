"""A mission's traceability map: goal → requirements → tasks → artifacts, and its gaps.

``read_trace`` reads one plan version (default: the newest) and the runs compiled from it, then
builds the map with ``domain.tracemap.build_map`` (docs/traceability.md). A task's status is
its step's in the newest of those runs that has it; its artifacts are those its step produced
in any of them. Runs of other plan versions say nothing about this version's tasks.
"""

import uuid
from dataclasses import dataclass

from missionctl.domain.tracemap import (
    NOT_RUN,
    TraceArtifact,
    TraceClause,
    TraceDecision,
    TraceInput,
    TraceMap,
    TraceRequirement,
    TraceRisk,
    TraceTask,
    build_map,
    focus,
)
from missionctl.errors import NotFound
from missionctl.repositories import artifacts as artifact_repo
from missionctl.repositories import dashboard as dashboard_repo
from missionctl.repositories import register as register_repo
from missionctl.repositories import runs as run_repo
from missionctl.schemas.missions import MissionRead
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.tracemap import TraceEdgeRead, TraceGapRead, TraceMapRead, TraceNodeRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import plans as plan_service

MAX_ARTIFACTS_PER_RUN = 5000
"""Artifacts read per run (the artifacts list's own limit)."""


@dataclass(frozen=True, slots=True)
class MissionTrace:
    """A mission, the plan version mapped, how many runs it had, and the map."""

    mission: MissionRead
    plan: PlanRead
    runs: int
    map: TraceMap
    requirement: str | None = None


@dataclass(frozen=True, slots=True)
class _Executed:
    """What the runs of one plan version did: step statuses (newest run first) and artifacts."""

    runs: int
    status: dict[str, str]
    succeeded: set[str]
    artifacts: list[TraceArtifact]


async def read_trace(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    plan_version: int | None = None,
    requirement: str | None = None,
) -> MissionTrace:
    """The traceability map of ``mission_id``'s plan ``plan_version`` (default: the newest).

    ``requirement`` narrows the map to that requirement's path (``domain.tracemap.focus``).

    Raises:
        NotFound: no such mission (``field="mission_id"``), plan version
            (``field="plan_version"``) or requirement in it (``field="requirement"``).
        Conflict: the mission has no plan yet (``field="mission_id"``): plan it first, as for
            its execution pack.
    """
    mission, plan = await plan_service.read_planned(
        ctx, mission_id=mission_id, version=plan_version, lacking="so nothing to trace"
    )
    executed = await _read_executed(ctx, mission_id, plan.id)
    trace = build_map(trace_input(mission, plan, executed, await _read_risks(ctx, plan)))
    if requirement is not None:
        try:
            trace = focus(trace, requirement)
        except KeyError:
            raise NotFound(
                f"plan version {plan.version} has no requirement {requirement}; its "
                f"requirements are {', '.join(r.key for r in plan.requirements)}",
                field="requirement",
            ) from None
    return MissionTrace(mission, plan, executed.runs, trace, requirement)


async def count_gaps(ctx: ServiceContext, *, mission: MissionRead, plan: PlanRead) -> int:
    """How many gaps the map of ``plan`` (a version of ``mission``) has: the page header's flag."""
    executed = await _read_executed(ctx, mission.id, plan.id)
    return len(build_map(trace_input(mission, plan, executed, await _read_risks(ctx, plan))).gaps)


async def _read_risks(ctx: ServiceContext, plan: PlanRead) -> list[TraceRisk]:
    """The risk register's risks for ``plan`` (ADR 0051), with the tasks people linked to them.

    An empty list of mitigation tasks means none is named: the relevance rule then says which
    tasks a risk concerns (``domain.packs.relevant_items``).
    """
    async with ctx.read() as session:
        rows = await register_repo.read_plan_risks(
            session, mission_id=plan.mission_id, plan_id=plan.id
        )
    return [
        TraceRisk(
            r.title,
            r.description,
            r.severity,
            tuple(r.mitigation_tasks) or None,
            closed=r.status == "closed",
        )
        for r in rows
    ]


async def _read_executed(
    ctx: ServiceContext, mission_id: uuid.UUID, plan_id: uuid.UUID
) -> _Executed:
    """What the runs compiled from plan ``plan_id`` did, newest run first."""
    status: dict[str, str] = {}
    succeeded: set[str] = set()
    artifacts: list[TraceArtifact] = []
    async with ctx.read() as session:
        runs = [
            r.id
            for r in await dashboard_repo.read_mission_runs(session, mission_id=mission_id)
            if r.plan_id == plan_id
        ]
        for run_id in runs:
            for step in await run_repo.read_step_runs(session, run_id=run_id):
                status.setdefault(step.step_id, str(step.status))  # the newest run's wins
                if step.status == "succeeded":
                    succeeded.add(step.step_id)
            rows = await artifact_repo.read_artifacts_with_steps(
                session, limit=MAX_ARTIFACTS_PER_RUN, run_id=run_id
            )
            artifacts += [
                TraceArtifact(str(a.id), a.name, step_id, a.kind)
                for a, step_id in rows
                if step_id is not None
            ]
    return _Executed(len(runs), status, succeeded, artifacts)


def trace_input(
    mission: MissionRead, plan: PlanRead, executed: _Executed, risks: list[TraceRisk]
) -> TraceInput:
    """The domain's input: the plan's items, its register's risks and what its runs did."""
    phase_of = {key: phase.name for phase in plan.phases for key in phase.task_keys}
    return TraceInput(
        goal=mission.goal,
        requirements=[TraceRequirement(r.key, r.text, r.priority) for r in plan.requirements],
        clauses=[TraceClause(c.text, c.kind, c.requirements, c.tasks) for c in plan.clauses],
        tasks=[
            TraceTask(
                key=t.key,
                title=t.title,
                description=t.description,
                traces=tuple(t.traces),
                depends_on=tuple(t.depends_on),
                phase=phase_of.get(t.key),
                status=executed.status.get(t.key, NOT_RUN),
                succeeded=t.key in executed.succeeded,
            )
            for t in plan.tasks
        ],
        risks=risks,
        decisions=[TraceDecision(d.title, d.choice) for d in plan.decisions],
        artifacts=sorted(executed.artifacts, key=lambda a: (a.task_key, a.name, a.id)),
        runs=executed.runs,
    )


async def read_trace_map(
    ctx: ServiceContext,
    *,
    mission_id: uuid.UUID,
    plan_version: int | None = None,
    requirement: str | None = None,
) -> TraceMapRead:
    """The map of :func:`read_trace`, as ``GET /api/v1/missions/{id}/trace`` answers it.

    Raises:
        NotFound | Conflict: as :func:`read_trace`.
    """
    trace = await read_trace(
        ctx, mission_id=mission_id, plan_version=plan_version, requirement=requirement
    )
    return to_trace_read(trace)


def to_trace_read(trace: MissionTrace) -> TraceMapRead:
    """The map as ``GET /api/v1/missions/{id}/trace`` returns it."""
    at_fault = {gap.item for gap in trace.map.gaps}
    return TraceMapRead(
        mission_id=trace.mission.id,
        plan_version=trace.plan.version,
        requirement=trace.requirement,
        runs=trace.runs,
        nodes=[
            TraceNodeRead(
                id=n.id,
                kind=n.kind,
                key=n.key,
                label=n.label,
                status=n.status,
                detail=n.detail,
                gap=n.id in at_fault,
            )
            for n in trace.map.nodes
        ],
        edges=[
            TraceEdgeRead(kind=e.kind, source=e.source, target=e.target) for e in trace.map.edges
        ],
        gaps=[TraceGapRead(kind=g.kind, item=g.item, message=g.message) for g in trace.map.gaps],
    )


__all__ = ["MissionTrace", "count_gaps", "read_trace", "read_trace_map", "to_trace_read"]

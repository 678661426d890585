"""Workflow use cases: check a definition, save a version, list and read versions.

A workflow is identified by its ``name``; every save of a name adds a version (1, 2, …) and
never edits one, so a run pins exactly what it ran (``runs.workflow_id`` is a version's id).
Nothing invalid is stored: a save runs every check of ``services.usecases.workflow_checks`` first
and raises ``ValidationFailed`` with all the problems found.
"""

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from missionctl.db.models import Workflow
from missionctl.domain import events as ev
from missionctl.domain.addresses import Network
from missionctl.domain.coding import CodingCli, is_coding_agent
from missionctl.domain.governance import (
    CODING_RULE,
    Gate,
    ProgramRule,
    address_refusal,
    parse_repositories,
    repository_refusal,
    step_gate,
)
from missionctl.domain.workflows import LEGACY_APPROVALS, WorkflowDag, holds_template
from missionctl.errors import Conflict, NotFound, Problem, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import workflows as workflow_repo
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import (
    ApprovalPolicy,
    ProblemRead,
    WorkflowCheckRead,
    WorkflowGraph,
    WorkflowRead,
    WorkflowRunCreate,
    WorkflowSpec,
    WorkflowSummary,
)
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.runtime.offload import off_loop
from missionctl.services.usecases.agents import read_allowed_programs
from missionctl.services.usecases.execution.types import SHIPPED_CLIS, coding_clis
from missionctl.services.usecases.money import usd_to_micros
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflow_checks import (
    Syntax,
    WorkflowCheck,
    check_definition,
    check_spec,
    check_untrusted,
    value_problems,
    workflow_graph,
)


def stored_spec(definition: Mapping[str, Any]) -> WorkflowSpec:
    """A stored definition as a spec, with the approval policy the engine applies to it.

    A definition stored before approval policies existed has no ``approvals``; the engine runs
    it under ``LEGACY_APPROVALS`` (``WorkflowDag.from_definition``), not under the default a
    new spec gets, so the spec says so and every preview of it shows what the engine does.
    """
    spec = WorkflowSpec.model_validate(definition)
    if not definition.get("approvals"):
        legacy = ApprovalPolicy.model_validate(dict(LEGACY_APPROVALS))
        spec = spec.model_copy(update={"approvals": legacy})
    return spec


def to_workflow_read(workflow: Workflow) -> WorkflowRead:
    """Map the ORM row to the public contract (with its graph)."""
    spec = stored_spec(workflow.definition)
    # A stored version passed every check when it was saved: only its graph is needed here.
    layers, edges = workflow_graph(spec)
    return WorkflowRead(
        id=workflow.id,
        name=workflow.name,
        version=workflow.version,
        mission_id=workflow.mission_id,
        definition=spec,
        graph=WorkflowGraph(layers=layers, edges=[list(e) for e in edges]),
        created_by=workflow.created_by,
        created_at=workflow.created_at,
    )


def check_workflow(
    definition: str | Mapping[str, Any], *, syntax: Syntax = "yaml"
) -> WorkflowCheck:
    """Check a definition (YAML/JSON text or data) without saving it; see ``workflow_checks``."""
    return check_definition(definition, syntax=syntax)


def step_gates(
    spec: WorkflowSpec,
    programs: Mapping[str, ProgramRule],
    clis: Mapping[str, CodingCli] = SHIPPED_CLIS,
) -> dict[str, Gate]:
    """Whether each step will wait for a person, decided as the engine decides it.

    The engine's own reading of the definition as it is stored (``WorkflowDag.from_definition``,
    which resolves the approval policy) and its own decision (``domain.governance.step_gate``)
    on the stored inputs, the allow-list ``programs`` and the coding presets' command lines
    ``clis``: a ``command`` step whose program, network flag or environment holds a template
    is shown waiting, since its program is known only when it runs. A stored version's spec
    comes from :func:`stored_spec`.
    """
    definition = spec.model_dump(mode="json")
    # A gate does not depend on the graph, which an editor's draft may not have right yet.
    definition["steps"] = [{**raw, "depends_on": []} for raw in definition["steps"]]
    dag = WorkflowDag.from_definition(definition)
    return {
        step_id: step_gate(step, step.inputs, programs, rendered=False, clis=clis)
        for step_id, step in dag.steps.items()
    }


async def read_step_gates(ctx: ServiceContext, *, spec: WorkflowSpec) -> dict[str, Gate]:
    """:func:`step_gates` under the allow-list in force now."""
    return step_gates(spec, await read_allowed_programs(ctx), coding_clis(ctx.settings))


def validate_workflow(
    definition: str | Mapping[str, Any],
    *,
    syntax: Syntax = "yaml",
    programs: Mapping[str, ProgramRule] | None = None,
    clis: Mapping[str, CodingCli] = SHIPPED_CLIS,
) -> WorkflowCheckRead:
    """Check a definition without saving it, as the public contract (for an editor's preview).

    Never raises for a bad definition: ``valid`` is false and ``problems`` says why. The graph
    and the step preview are filled in as far as the definition could be read. Each step's
    ``gated`` is :func:`step_gates`' answer under ``programs``; without them (no database at
    hand) every ``command`` step is shown waiting, as it would under an empty allow-list.
    """
    return preview_of(check_definition(definition, syntax=syntax), programs or {}, clis)


def preview_of(
    check: WorkflowCheck, programs: Mapping[str, ProgramRule], clis: Mapping[str, CodingCli]
) -> WorkflowCheckRead:
    """:func:`validate_workflow`'s answer for a definition already checked."""
    spec = check.spec
    steps: list[dict[str, Any]] = []
    if spec is not None:
        gates = step_gates(spec, programs, clis)
        for step in spec.steps:
            gate = gates[step.id]
            steps.append(
                {
                    "id": step.id,
                    "agent": step.agent,
                    "risk_tier": gate.risk_tier,
                    "gated": gate.gated,
                    "gate_reason": gate.reason,
                    "when": step.when,
                }
            )
    return WorkflowCheckRead(
        valid=check.valid,
        problems=[ProblemRead(field=p.field, message=p.message) for p in check.problems],
        graph=WorkflowGraph(layers=check.layers, edges=[list(e) for e in check.edges]),
        name=None if spec is None else spec.name,
        steps=steps,
    )


async def preview_workflow(
    ctx: ServiceContext, *, definition: str | Mapping[str, Any], syntax: Syntax = "yaml"
) -> WorkflowCheckRead:
    """:func:`validate_workflow` under the allow-list in force now: what the engine would do."""
    programs = await read_allowed_programs(ctx)
    # A definition may be a megabyte: read and checked beside the event loop (ADR 0076).
    check = await check_untrusted(definition, syntax=syntax)
    return await off_loop(preview_of, check, programs, coding_clis(ctx.settings))


async def save_workflow(
    ctx: ServiceContext,
    *,
    definition: str | Mapping[str, Any],
    actor: str,
    syntax: Syntax = "yaml",
) -> WorkflowRead:
    """Check a definition (YAML/JSON text or data) and save it as the next version of its name.

    Args:
        ctx: The service context.
        definition: YAML or JSON text, or the parsed data.
        actor: Who saves it (recorded on the version and its ``workflow.saved`` event).
        syntax: How to parse text: ``"yaml"`` or strict ``"json"``.

    Raises:
        ValidationFailed: every problem found (syntax, schema, graph, agents, templates,
            conditions), each with its location; nothing is stored.
        Conflict: another save took the same version number (not expected: saves of one name
            are serialised).
    """
    check = await check_untrusted(definition, syntax=syntax)  # beside the loop (ADR 0076)
    if not check.valid:
        raise ValidationFailed(check.problems)
    assert check.spec is not None
    return await _store(ctx, spec=check.spec, actor=actor)


async def create_workflow(
    ctx: ServiceContext,
    *,
    spec: WorkflowSpec,
    actor: str,
    mission_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
) -> WorkflowRead:
    """Check ``spec`` and save it as the next version of its name.

    Raises:
        ValidationFailed: the definition breaks a graph, agent or expression rule (every
            problem is named); nothing is stored.
        Conflict: another save took the same version number (not expected: saves of one name
            are serialised).
    """
    require_valid(spec)
    return await _store(ctx, spec=spec, actor=actor, mission_id=mission_id, plan_id=plan_id)


async def _store(
    ctx: ServiceContext,
    *,
    spec: WorkflowSpec,
    actor: str,
    mission_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
) -> WorkflowRead:
    """Insert a checked ``spec`` as the next version of its name.

    Raises:
        ValidationFailed: a coding step names a repository that is not allowed, or a clone URL
            whose host spells a private address (:func:`repository_problems`).
    """
    networks = ctx.settings.http_agent.networks()

    def work(session: Session) -> WorkflowRead:
        problems = repository_problems(spec, allowed_repositories(session), networks)
        if problems:
            raise ValidationFailed(problems)
        saved = save_version(
            session, spec=spec, actor=actor, mission_id=mission_id, plan_id=plan_id
        )
        return to_workflow_read(saved)

    with version_race_as_conflict(spec.name):
        return await ctx.write_blocking(work, side_by_side=True)


def allowed_repositories(session: Session) -> tuple[str, ...]:
    """The repositories coding steps may work on, as stored now (empty: none)."""
    for row in blocking_repo.read_agent_rules(session):
        if row.name == CODING_RULE:
            return parse_repositories(row.config)
    return ()


def repository_problems(
    spec: WorkflowSpec, allowed: Sequence[str], networks: Sequence[Network]
) -> list[Problem]:
    """What is wrong with the repositories a workflow's coding steps name as written.

    Only a literal ``inputs.repository`` is judged here; one holding a template (and a step
    working on its mission's repository) is judged when the step is admitted. A clone URL whose
    host spells a loopback, private, link-local or reserved address is refused unless that
    network is allowed; any repository must be on the allowed list.
    """
    problems = []
    for index, step in enumerate(spec.steps):
        source = step.inputs.get("repository")
        if not is_coding_agent(step.agent) or not isinstance(source, str) or not source:
            continue
        if holds_template(source):
            continue
        field = f"steps.{index}.inputs.repository"
        problem = address_refusal(source, networks) or repository_refusal(source, allowed)
        if problem is not None:
            problems.append(Problem(field, problem))
    return problems


def require_valid(spec: WorkflowSpec) -> None:
    """Raise ``ValidationFailed`` with every problem of ``spec`` (see ``check_spec``), if any."""
    check = check_spec(spec)
    if check.problems:
        raise ValidationFailed(check.problems)


@contextmanager
def version_race_as_conflict(name: str) -> Iterator[None]:
    """Turn the unique (name, version) constraint's error into a ``Conflict`` on ``name``.

    Not expected: saves of one name are serialised (``repositories.workflows.add_version``).
    """
    try:
        yield
    except sa_exc.IntegrityError as exc:
        if not _lost_version_race(exc):
            raise
        raise Conflict(
            f"workflow {name!r} was saved by someone else at the same time; save it again",
            field="name",
        ) from None


def _lost_version_race(exc: sa_exc.IntegrityError) -> bool:
    """Whether ``exc`` is the unique (name, version) constraint (PostgreSQL, SQLite wording)."""
    text = str(exc.orig)
    return "uq_workflows_name_version" in text or "workflows.name, workflows.version" in text


def save_version(
    session: Session,
    *,
    spec: WorkflowSpec,
    actor: str,
    mission_id: uuid.UUID | None,
    plan_id: uuid.UUID | None,
) -> Workflow:
    """Insert a checked ``spec`` as the next version of its name, in the caller's transaction.

    Appends its ``workflow.saved`` event.
    """
    workflow = workflow_repo.add_version(
        session,
        name=spec.name,
        mission_id=mission_id,
        plan_id=plan_id,
        definition=spec.model_dump(mode="json"),
        budget_micros=None if spec.budget_usd is None else usd_to_micros(spec.budget_usd),
        max_concurrency=spec.max_concurrency,
        created_by=actor,
    )
    append_sync(
        session,
        [
            NewEvent(
                type=ev.WORKFLOW_SAVED,
                actor=actor,
                mission_id=mission_id,
                payload={
                    "workflow_id": str(workflow.id),
                    "name": workflow.name,
                    "version": workflow.version,
                    "steps": len(spec.steps),
                },
            )
        ],
    )
    return workflow


async def run_workflow(
    ctx: ServiceContext,
    *,
    workflow_id: uuid.UUID,
    actor: str,
    trigger: str,
    data: WorkflowRunCreate,
) -> RunRead:
    """Start a run of one workflow version (``runs.start_run``) with its inputs and cap.

    The run pins this version: saving the name again later does not change what it runs.

    Raises:
        NotFound: no such workflow version.
        ValidationFailed: inputs that are undeclared, missing, of the wrong type or not
            storable (fields ``inputs.<name>``).
    """
    problems = [
        Problem(f"inputs.{p.field}" if p.field else "inputs", p.message)
        for p in value_problems(data.inputs)
    ]
    if problems:
        raise ValidationFailed(problems)
    return await start_run(
        ctx,
        workflow_id=workflow_id,
        actor=actor,
        trigger=trigger,
        budget_micros=None if data.budget_usd is None else usd_to_micros(data.budget_usd),
        inputs=data.inputs,
    )


async def read_workflow(ctx: ServiceContext, *, workflow_id: uuid.UUID) -> WorkflowRead:
    """One workflow version.

    Raises:
        NotFound: no such workflow.
    """
    async with ctx.read() as session:
        workflow = await workflow_repo.read_workflow(session, workflow_id=workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow with id {workflow_id}", field="workflow_id")
        return to_workflow_read(workflow)


async def read_workflow_by_name(
    ctx: ServiceContext, *, name: str, version: int | None = None
) -> WorkflowRead:
    """A version of the workflow called ``name``: ``version``, or else the newest.

    Raises:
        NotFound: no workflow has that name, or it has no such version.
    """
    async with ctx.read() as session:
        workflow = await workflow_repo.read_workflow_by_name(session, name=name, version=version)
        if workflow is None:
            what = f"version {version} of workflow {name!r}" if version else f"workflow {name!r}"
            raise NotFound(f"no {what}", field="version" if version else "name")
        return to_workflow_read(workflow)


async def read_workflow_versions(ctx: ServiceContext, *, name: str) -> list[WorkflowSummary]:
    """Every version of the workflow called ``name``, newest first.

    Raises:
        NotFound: no workflow has that name.
    """
    async with ctx.read() as session:
        rows = await workflow_repo.read_versions(session, name=name)
        if not rows:
            raise NotFound(f"no workflow {name!r}", field="name")
        runs = await workflow_repo.count_runs(session, workflow_ids=[row.id for row in rows])
        return [_summary(row, versions=len(rows), runs=runs.get(row.id, 0)) for row in rows]


async def read_definition_schema(ctx: ServiceContext) -> dict[str, Any]:
    """The JSON Schema of a definition (``docs/workflow.schema.json`` holds it too)."""
    return WorkflowSpec.model_json_schema()


async def list_workflows(
    ctx: ServiceContext, *, include_plans: bool = False
) -> list[WorkflowSummary]:
    """The newest version of every workflow, by name.

    Workflows compiled from a mission's plan are left out unless ``include_plans``: they are
    listed on their mission.
    """
    async with ctx.read() as session:
        rows = await workflow_repo.read_newest_versions(session, include_plans=include_plans)
        ids = [row.workflow.id for row in rows]
        runs = await workflow_repo.count_runs(session, workflow_ids=ids)
        return [
            _summary(row.workflow, versions=row.versions, runs=runs.get(row.workflow.id, 0))
            for row in rows
        ]


def _summary(workflow: Workflow, *, versions: int, runs: int) -> WorkflowSummary:
    definition = workflow.definition
    return WorkflowSummary(
        id=workflow.id,
        name=workflow.name,
        version=workflow.version,
        versions=versions,
        description=str(definition.get("description") or ""),
        steps=len(definition.get("steps") or []),
        runs=runs,
        mission_id=workflow.mission_id,
        plan_id=workflow.plan_id,
        created_by=workflow.created_by,
        created_at=workflow.created_at,
    )

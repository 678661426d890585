"""The template gallery: list, read, save and delete templates, and use one (ADR 0065).

Shipped templates are the YAML files of ``missionctl.gallery`` and cannot be changed or
deleted; saved ones are rows of ``workflow_templates``, made from a workflow version (or from
the version a mission's newest run ran). Names are unique across both.

Using a template checks the inputs given against its declared ones, renders its body
(``gallery.render_template``), checks the result as any workflow is checked, and saves it as
a new workflow version, in one transaction that may also start its run. A mission may start
from a template instead of a plan: its workflow is then its own (``mission_id``, ADR 0046).
"""

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from missionctl.db.models import Mission, Workflow, WorkflowTemplate
from missionctl.domain import events as ev
from missionctl.domain.states import MISSION, MissionStatus, transition
from missionctl.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Problem,
    StateRefused,
    ValidationFailed,
)
from missionctl.eventlog import NewEvent, append_sync
from missionctl.gallery import SHIPPED, declared_inputs, render_template, sample_inputs
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import templates as template_repo
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.templates import (
    MAX_DEFINITION_CHARS,
    MissionFromTemplate,
    TemplatePhase,
    TemplateRead,
    TemplateSave,
    TemplateSpec,
    TemplateUse,
    TemplateUsed,
)
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases.money import usd_to_micros
from missionctl.services.usecases.runs import start_in
from missionctl.services.usecases.transitions import moved
from missionctl.services.usecases.workflow_checks import check_definition, value_problems
from missionctl.services.usecases.workflows import (
    save_version,
    stored_spec,
    version_race_as_conflict,
)

_MISSION_NAME_CHARS = 200
MAX_INPUT_CHARS = 50_000
"""The most a template's inputs may hold together (as JSON): they become workflow defaults."""


def _preview(template: TemplateSpec) -> tuple[list[TemplatePhase], list[str]]:
    """The steps of ``template`` in order, and its phases in the order they first appear."""
    steps: list[TemplatePhase] = []
    phases: list[str] = []
    for raw in template.workflow.get("steps") or []:
        if not isinstance(raw, Mapping):
            continue
        phase = raw.get("phase")
        if isinstance(phase, str) and phase not in phases:
            phases.append(phase)
        approvers = raw.get("approvers") or []
        steps.append(
            TemplatePhase(
                id=str(raw.get("id", "")),
                phase=phase if isinstance(phase, str) else None,
                agent=str(raw.get("agent", "")),
                gated=bool(raw.get("requires_approval")),
                approvers=[str(a) for a in approvers] if isinstance(approvers, list) else [],
            )
        )
    return steps, phases


def to_template_read(template: TemplateSpec, row: WorkflowTemplate | None = None) -> TemplateRead:
    """A template as the contract shows it (``row``: the saved row, for a saved template)."""
    steps, phases = _preview(template)
    return TemplateRead(
        name=template.name,
        title=template.title,
        description=template.description,
        category=template.category,
        source="shipped" if row is None else "saved",
        inputs=dict(template.inputs),
        workflow=dict(template.workflow),
        steps=steps,
        phases=phases,
        saved_by=None if row is None else row.saved_by,
        saved_at=None if row is None else row.saved_at,
    )


def _saved_spec(row: WorkflowTemplate) -> TemplateSpec:
    return TemplateSpec.model_validate(row.definition)


async def list_templates(ctx: ServiceContext, *, category: str | None = None) -> list[TemplateRead]:
    """The shipped templates then the saved ones, each by name; of ``category`` when given."""
    shipped = [
        to_template_read(t) for t in SHIPPED.values() if category is None or t.category == category
    ]
    async with ctx.read() as session:
        rows = await session.run_sync(
            lambda s: list(template_repo.read_templates(s, category=category))
        )
        saved = [to_template_read(_saved_spec(row), row) for row in rows]
    return shipped + saved


def _find(session: Session, name: str) -> tuple[TemplateSpec, WorkflowTemplate | None]:
    """The template called ``name`` and its row (``None`` when shipped).

    Raises:
        NotFound: no template has that name.
    """
    if name in SHIPPED:
        return SHIPPED[name], None
    row = template_repo.read_template(session, name=name)
    if row is None:
        raise NotFound(f"no template called {name!r}", field="name")
    return _saved_spec(row), row


async def read_template(ctx: ServiceContext, *, name: str) -> TemplateRead:
    """The template called ``name``, shipped or saved.

    Raises:
        NotFound: no template has that name.
    """
    async with ctx.read() as session:
        return await session.run_sync(lambda s: to_template_read(*_find(s, name)))


def check_template(template: TemplateSpec) -> list[Problem]:
    """Every problem of ``template``: rendered with sample inputs, it must be a valid workflow.

    A problem's field starts with ``workflow.`` (the body) or ``inputs.`` (a declaration).
    """
    body, problems = render_template(template, sample_inputs(template))
    if problems:
        return problems
    check = check_definition(body, syntax="json")
    return [
        Problem(f"workflow.{p.field}" if p.field else "workflow", p.message) for p in check.problems
    ]


async def save_template(ctx: ServiceContext, *, data: TemplateSave, actor: str) -> TemplateRead:
    """Save a workflow version (or the one a mission's newest run ran) as a template.

    The template declares the workflow's inputs and holds its definition; one made from a
    mission's workflow gets the template's name as its workflow name, since that workflow's
    own name belongs to the mission (ADR 0046). Records ``template.saved``.

    Raises:
        ValidationFailed: neither or both of ``workflow_id`` and ``mission_id``; a definition
            larger than ``MAX_DEFINITION_CHARS``.
        NotFound: no such workflow version or mission.
        Conflict: the name is taken (by a shipped or a saved template), or the mission never
            ran.
    """
    if (data.workflow_id is None) == (data.mission_id is None):
        raise ValidationFailed(
            [Problem("workflow_id", "give exactly one of workflow_id and mission_id")]
        )
    if data.name in SHIPPED:
        raise Conflict(f"{data.name!r} is a shipped template; choose another name", field="name")

    def work(session: Session) -> TemplateRead:
        workflow = _source_workflow(session, data)
        template = _template_of(workflow, data)
        return store_template(session, template, source_workflow_id=workflow.id, actor=actor)

    with name_race_as_conflict(data.name):
        return await ctx.write_blocking(work)


def store_template(
    session: Session, template: TemplateSpec, *, source_workflow_id: uuid.UUID, actor: str
) -> TemplateRead:
    """Save ``template`` as a row made from version ``source_workflow_id``; ``template.saved``.

    The caller has checked the name is free; a twin saving the same name at once fails on
    flush or commit (:func:`name_race_as_conflict` turns that into a Conflict).
    """
    row = WorkflowTemplate(
        name=template.name,
        title=template.title,
        category=template.category,
        definition=template.model_dump(mode="json"),
        source_workflow_id=source_workflow_id,
        saved_by=actor,
    )
    session.add(row)
    session.flush()
    append_sync(session, [_saved_event(row, template, actor)])
    return to_template_read(template, row)


def _source_workflow(session: Session, data: TemplateSave) -> Workflow:
    """The workflow version a save copies.

    Raises:
        NotFound: no such workflow version or mission.
        Conflict: a name already saved, or a mission that never ran.
    """
    if template_repo.read_template(session, name=data.name) is not None:
        raise Conflict(f"a template called {data.name!r} exists; choose another name", field="name")
    if data.workflow_id is not None:
        workflow = blocking_repo.read_workflow(session, workflow_id=data.workflow_id)
        if workflow is None:
            raise NotFound(f"no workflow with id {data.workflow_id}", field="workflow_id")
        return workflow
    assert data.mission_id is not None
    if session.get(Mission, data.mission_id) is None:
        raise NotFound(f"no mission with id {data.mission_id}", field="mission_id")
    workflow = template_repo.newest_run_workflow(session, mission_id=data.mission_id)
    if workflow is None:
        raise Conflict(
            f"mission {data.mission_id} has not run yet: run it, then save its workflow",
            field="mission_id",
        )
    return workflow


def _template_of(workflow: Workflow, data: TemplateSave) -> TemplateSpec:
    """The template a save makes of ``workflow``.

    Raises:
        ValidationFailed: the definition is larger than ``MAX_DEFINITION_CHARS``.
    """
    spec = stored_spec(workflow.definition).model_dump(mode="json")
    inputs = spec.pop("inputs", {})
    if workflow.mission_id is not None:
        spec["name"] = data.name
    if len(json.dumps(spec)) > MAX_DEFINITION_CHARS:
        raise ValidationFailed(
            [
                Problem(
                    "workflow_id",
                    f"the workflow's definition is larger than {MAX_DEFINITION_CHARS} "
                    "characters; a template is a recipe: save a smaller workflow",
                )
            ]
        )
    return TemplateSpec(
        name=data.name,
        title=data.title or workflow.name[:120],
        description=data.description
        if data.description is not None
        else str(spec.get("description") or "")[:2000],
        category=data.category,
        inputs=inputs,
        workflow=spec,
    )


def _saved_event(row: WorkflowTemplate, template: TemplateSpec, actor: str) -> NewEvent:
    return NewEvent(
        type=ev.TEMPLATE_SAVED,
        actor=actor,
        payload={
            "template_id": str(row.id),
            "name": row.name,
            "title": row.title,
            "category": row.category,
            "source_workflow_id": None
            if row.source_workflow_id is None
            else str(row.source_workflow_id),
            "steps": len(template.workflow.get("steps") or []),
        },
    )


@contextmanager
def name_race_as_conflict(name: str) -> Iterator[None]:
    """Turn the unique name constraint's error (two saves of one name at once) into a Conflict."""
    try:
        yield
    except sa_exc.IntegrityError as exc:
        if "workflow_templates" not in str(exc.orig):
            raise
        raise Conflict(
            f"a template called {name!r} was saved meanwhile; choose another name", field="name"
        ) from None


async def delete_template(ctx: ServiceContext, *, name: str, actor: str) -> None:
    """Delete the saved template ``name``; records ``template.deleted``.

    Raises:
        Conflict: ``name`` is a shipped template (part of the product, not deletable).
        NotFound: no saved template has that name.
    """
    if name in SHIPPED:
        raise Conflict(
            f"{name!r} is a shipped template and cannot be deleted; only saved ones can",
            field="name",
        )

    def work(session: Session) -> None:
        row = template_repo.read_template(session, name=name)
        if row is None or not template_repo.delete_template(session, template_id=row.id):
            raise NotFound(f"no saved template called {name!r}", field="name")
        payload = {"template_id": str(row.id), "name": row.name, "title": row.title}
        append_sync(session, [NewEvent(type=ev.TEMPLATE_DELETED, actor=actor, payload=payload)])

    await ctx.write_blocking(work)


def _render_checked(
    template: TemplateSpec, inputs: Mapping[str, Any], workflow_name: str | None
) -> WorkflowSpec:
    """``template`` rendered with ``inputs`` and checked as any workflow is.

    Raises:
        StateRefused: inputs the template does not take as given (``inputs.<name>``), and
            nothing else wrong.
        ValidationFailed: a value holding template markup (``inputs.<name>``), or a definition
            the checks refuse (``workflow.<path>``).
    """
    _refuse_unusable(inputs)
    body, problems = render_template(template, inputs, workflow_name=workflow_name)
    if problems:
        # Only what the template declares refuses them: 409; markup in a value, a rendered
        # field that fails: the request is wrong whatever the template (422).
        declared = problems == declared_inputs(template, inputs)[1]
        raise (StateRefused if declared else ValidationFailed)(problems)
    check = check_definition(body, syntax="json")
    if check.problems or check.spec is None:
        raise ValidationFailed(
            [
                Problem(f"workflow.{p.field}" if p.field else "workflow", p.message)
                for p in check.problems
            ]
        )
    return check.spec


def _refuse_unusable(inputs: Mapping[str, Any]) -> None:
    """Raise ``ValidationFailed`` for inputs no template could take (see ``_input_problems``)."""
    problems = _input_problems(inputs)
    if problems:
        raise ValidationFailed(problems)


def _input_problems(inputs: Mapping[str, Any]) -> list[Problem]:
    """Inputs no workflow could hold: unstorable, too deep, or larger than ``MAX_INPUT_CHARS``."""
    problems = [
        Problem(f"inputs.{p.field}" if p.field else "inputs", p.message)
        for p in value_problems(dict(inputs))
    ]
    if not problems and len(json.dumps(inputs, default=str)) > MAX_INPUT_CHARS:
        problems.append(
            Problem("inputs", f"the inputs are longer than {MAX_INPUT_CHARS} characters together")
        )
    return problems


async def use_template(
    ctx: ServiceContext, *, name: str, data: TemplateUse, actor: str, may_run: bool
) -> TemplateUsed:
    """Render the template ``name`` with ``data.inputs`` into a new workflow version.

    With ``data.start`` the version's run starts in the same transaction (the template's
    inputs are the workflow's defaults, so the run needs none); ``may_run`` says whether the
    caller holds ``runs:control``, which starting needs.

    Raises:
        PermissionDenied: ``data.start`` without ``may_run`` (nothing is saved).
        NotFound: no such template.
        ValidationFailed: bad inputs or a rendered definition the checks refuse.
        Conflict: another save took the same version number.
    """
    if data.start and not may_run:
        raise PermissionDenied(_RUN_NEEDS, field="start")
    _refuse_unusable(data.inputs)  # what no template could take is a 422, found or not

    def work(session: Session) -> TemplateUsed:
        template, _ = _find(session, name)
        spec = _render_checked(template, data.inputs, data.workflow_name)
        cap = None if data.budget_usd is None else usd_to_micros(data.budget_usd)
        return _save_and_start(
            session, ctx, template, spec, actor=actor, mission_id=None, start=data.start, cap=cap
        )

    return await ctx.write_blocking(work, side_by_side=True)


def _save_and_start(
    session: Session,
    ctx: ServiceContext,
    template: TemplateSpec,
    spec: WorkflowSpec,
    *,
    actor: str,
    mission_id: uuid.UUID | None,
    start: bool,
    cap: int | None,
) -> TemplateUsed:
    """Save ``spec`` as the next version of its name, and start its run when ``start``.

    Records ``template.used`` after the version's ``workflow.saved``.
    """
    with version_race_as_conflict(spec.name):
        workflow = save_version(
            session, spec=spec, actor=actor, mission_id=mission_id, plan_id=None
        )
    used = {
        "template": template.name,
        "workflow_id": str(workflow.id),
        "workflow_name": workflow.name,
        "version": workflow.version,
        "mission_id": None if mission_id is None else str(mission_id),
    }
    append_sync(
        session,
        [NewEvent(type=ev.TEMPLATE_USED, actor=actor, mission_id=mission_id, payload=used)],
    )
    run_id = None
    if start:
        run = start_in(
            session,
            ctx,
            workflow,
            actor=actor,
            trigger="manual",
            mission_id=mission_id,
            budget_micros=cap,
            inputs=None,
        )
        run_id = run.id
    return TemplateUsed(
        template=template.name,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        workflow_version=workflow.version,
        run_id=run_id,
        mission_id=mission_id,
    )


async def start_mission_from_template(
    ctx: ServiceContext, *, name: str, data: MissionFromTemplate, actor: str, may_run: bool
) -> TemplateUsed:
    """Create a mission whose workflow is the template rendered, and start its run.

    The template's ``goal`` input, when it declares one and it is not given, is the mission's
    goal. The inputs and the rendered workflow are checked before the mission is created, so
    a refusal leaves nothing. The mission goes ``draft → planning → planned`` (the template is
    its plan; the events name it) and ``running`` with its run, started at once (the mission
    page's Run compiles a plan, which such a mission has not: its run is started here). Its
    workflow is its own: named ``<title> · <end of its id>`` (ADR 0046). ``may_run`` says
    whether the caller holds ``runs:control``, which the run needs.

    Raises:
        PermissionDenied: not ``may_run`` (nothing is created).
        NotFound: no such template.
        ValidationFailed: bad inputs or a rendered definition the checks refuse.
    """
    if not may_run:
        raise PermissionDenied(_RUN_NEEDS, field="start")
    _refuse_unusable(data.inputs)
    spec_of = await _template_named(ctx, name)
    inputs = dict(data.inputs)
    if "goal" in spec_of.inputs and "goal" not in inputs:
        inputs["goal"] = data.goal
    _render_checked(spec_of, inputs, None)  # refuse before anything is written
    mission = await mission_service.create_mission(
        ctx,
        data=MissionCreate.model_validate(data.model_dump(include=_MISSION_FIELDS)),
        actor=actor,
    )

    def work(session: Session) -> TemplateUsed:
        row = session.get(Mission, mission.id, with_for_update=True)
        assert row is not None  # created above
        name = _mission_workflow_name(row.title, row.id)
        spec = _render_checked(spec_of, inputs, name)
        append_sync(session, _planned_by_template(row, spec_of.name, actor))
        return _save_and_start(
            session, ctx, spec_of, spec, actor=actor, mission_id=row.id, start=True, cap=None
        )

    return await ctx.write_blocking(work, side_by_side=True)


_MISSION_FIELDS = set(MissionCreate.model_fields)
_RUN_NEEDS = "starting a run needs runs:control"


async def _template_named(ctx: ServiceContext, name: str) -> TemplateSpec:
    async with ctx.read() as session:
        template, _ = await session.run_sync(lambda s: _find(s, name))
        return template


def _mission_workflow_name(title: str, mission_id: uuid.UUID) -> str:
    """``<title> · <last 8 hex digits of the id>``, as a mission's compiled workflow is named."""
    suffix = f" · {mission_id.hex[-8:]}"
    name = " ".join(title.replace("/", " / ").split()) or "Mission"
    room = _MISSION_NAME_CHARS - len(suffix)
    if len(name) > room:
        name = name[: room - 1].rstrip() + "…"
    return name + suffix


def _planned_by_template(mission: Mission, template: str, actor: str) -> list[NewEvent]:
    """Move the mission ``draft → planning → planned``: the template stands for its plan."""
    events = []
    for target in (MissionStatus.planning, MissionStatus.planned):
        rule = transition(MISSION, mission.status, target)
        mission.status = rule.target
        events.append(moved(rule, actor=actor, mission_id=mission.id, template=template))
    return events

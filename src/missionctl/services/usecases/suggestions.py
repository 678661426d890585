"""Workflow suggestions (ADR 0120): edits the history of a workflow says would help.

Open suggestions are derived from the newest version and the runs of the last
:data:`WINDOW_DAYS` days whenever they are read (``domain.suggestions``); applying one saves
its definition as the next version in one transaction, with a ``suggestion.applied`` event,
and keeps it so that the runs before and after show what it did. A ``template`` suggestion is
derived from the other workflows' newest versions; applying it saves the template instead, and
what it did is the number of workflows made from it since.
"""

import difflib
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from missionctl.db.models import Workflow
from missionctl.db.suggestions import AppliedSuggestion
from missionctl.db.types import utcnow
from missionctl.domain import events as ev
from missionctl.domain.suggestions import (
    MIN_RUNS,
    Suggestion,
    Templates,
    cheaper_models,
    steadier_models,
    suggest,
    suggest_templates,
)
from missionctl.errors import Conflict, NotFound, ValidationFailed
from missionctl.eventlog import NewEvent, append_sync
from missionctl.expressions.sandbox import (
    ExpressionError,
    References,
    check_condition,
    check_template,
    template_strings,
)
from missionctl.gallery import SHIPPED
from missionctl.repositories import execution as blocking_repo
from missionctl.repositories import suggestions as repo
from missionctl.repositories import workflows as workflow_repo
from missionctl.schemas.suggestions import (
    AppliedSuggestionRead,
    SuggestionRead,
    SuggestionsRead,
    VersionRunsRead,
)
from missionctl.schemas.templates import TemplateSpec
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases import templates as template_cases
from missionctl.services.usecases.money import micros_to_usd
from missionctl.services.usecases.routing import routing_in_force
from missionctl.services.usecases.workflows import (
    require_valid,
    save_version,
    version_race_as_conflict,
)

WINDOW_DAYS = 30
"""How far back the history goes: a month of runs, as routing's records."""


async def list_suggestions(ctx: ServiceContext, *, name: str) -> SuggestionsRead:
    """What the history suggests for the newest version of workflow ``name``, and what was applied.

    Raises:
        NotFound: no workflow has that name.
    """
    return await ctx.read_blocking(lambda session: _read(session, ctx, name))


def _read(session: Session, ctx: ServiceContext, name: str) -> SuggestionsRead:
    newest = workflow_repo.read_newest_sync(session, name=name)
    if newest is None:
        raise NotFound(f"no workflow {name!r}", field="name")
    since = utcnow() - timedelta(days=WINDOW_DAYS)
    history = repo.read_history(session, workflow=newest, since=since)
    found = [
        s
        for s in [
            *_suggested(session, ctx, newest.definition, history),
            *_templates(session, name, newest.definition),
        ]
        if _valid(s)
    ]
    return SuggestionsRead(
        workflow=name,
        workflow_id=newest.id,
        version=newest.version,
        runs=history.runs,
        window_days=WINDOW_DAYS,
        min_runs=MIN_RUNS,
        suggestions=[_suggestion_read(newest.definition, s) for s in found],
        applied=[_applied_read(session, row) for row in repo.read_applied(session, name=name)],
    )


def _suggested(
    session: Session, ctx: ServiceContext, definition: dict[str, Any], history: repo.History
) -> list[Suggestion]:
    roles = [
        s["agent"].removeprefix("llm:")
        for s in definition["steps"]
        if s["agent"].startswith("llm:")
    ]
    routing = routing_in_force(session, ctx, records=True) if roles else None
    # While routing is active it already sends each step where its record allows: a pin
    # would change nothing, and its cost figures would count the discount twice.
    cheaper = cheaper_models(routing, roles) if routing and not routing.active else {}
    # A steadier model is worth a pin whether routing is on or not: routing looks for the
    # cheapest model a role allows, not the one that fails least.
    steadier = steadier_models(routing, roles) if routing else {}
    reads = {step["id"]: step_reads(step) for step in definition["steps"]}
    return suggest(
        definition, history.runs, history.steps, cheaper, history.step_costs, reads, steadier
    )


def _templates(session: Session, name: str, definition: dict[str, Any]) -> list[Suggestion]:
    saved = repo.read_saved_templates(session)
    templates = Templates(work=saved.work, names=saved.names | frozenset(SHIPPED))
    reads = {step["id"]: _references(step)[1] for step in definition["steps"]}
    elsewhere = repo.read_other_steps(session, name=name)
    return suggest_templates(name, definition, elsewhere, templates, reads)


def step_reads(step: dict[str, Any]) -> frozenset[str] | None:
    """The steps whose outputs ``step``'s templates and condition name (``None``: unknown)."""
    return _references(step)[0]


def _references(step: dict[str, Any]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The steps and the workflow inputs ``step``'s templates and condition read.

    The steps are ``None`` when they cannot be told (a template that does not compile, or
    ``steps[name]`` with a name computed at run time); the inputs are those read by a literal
    key.
    """
    sources = [text for _, text in template_strings(step.get("inputs") or {})]
    refs: list[References] = []
    try:
        refs = [check_template(text) for text in sources]
        if step.get("when"):
            sources.append(step["when"])
            refs.append(check_condition(step["when"]))
    except ExpressionError:
        return None, frozenset(name for ref in refs for name in ref.inputs)
    inputs = frozenset(name for ref in refs for name in ref.inputs)
    found = frozenset(name for ref in refs for name in ref.steps)
    if not found and any("steps" in text for text in sources):
        return None, inputs
    return found, inputs


def _valid(suggestion: Suggestion) -> bool:
    """Whether the suggested definition is one that may be saved (it always should be)."""
    try:
        if suggestion.kind == "template":
            template = TemplateSpec.model_validate(dict(suggestion.definition))
            return not template_cases.check_template(template)
        require_valid(WorkflowSpec.model_validate(dict(suggestion.definition)))
    except (ValidationError, ValidationFailed):
        return False
    return True


def _compact(definition: Any, kind: str = "") -> list[str]:
    """The definition as YAML lines without the fields left at their defaults (a short diff)."""
    if kind == "template":
        data = TemplateSpec.model_validate(dict(definition)).model_dump(mode="json")
        body = WorkflowSpec.model_validate(data["workflow"])
        data["workflow"] = body.model_dump(mode="json", exclude_defaults=True)
    else:
        spec = WorkflowSpec.model_validate(dict(definition))
        data = spec.model_dump(mode="json", exclude_defaults=True)
    return list(yaml.safe_dump(data, sort_keys=False).splitlines(keepends=True))


def _suggestion_read(current: dict[str, Any], suggestion: Suggestion) -> SuggestionRead:
    if suggestion.kind == "template":  # a new template: nothing to compare it with
        after = _compact(suggestion.definition, "template")
        diff = "".join(difflib.unified_diff([], after, "no template", "suggested template"))
    else:
        before, after = _compact(current), _compact(suggestion.definition)
        diff = "".join(difflib.unified_diff(before, after, "newest", "suggested"))
    return SuggestionRead(
        key=suggestion.key,
        kind=suggestion.kind,
        step_id=suggestion.step_id,
        title=suggestion.title,
        why=suggestion.why,
        predicted=dict(suggestion.predicted),
        expected=expected_texts(suggestion.predicted),
        diff=diff,
        definition=dict(suggestion.definition),
    )


def _applied_read(session: Session, row: AppliedSuggestion) -> AppliedSuggestionRead:
    before = _version_runs(session, row.base_workflow_id, row.step_id)
    after = _version_runs(session, row.applied_workflow_id, row.step_id)
    uses = None
    if row.kind == "template":
        template = row.key.removeprefix("template-")
        uses = repo.count_template_uses(session, template=template, since=row.applied_at)
    return AppliedSuggestionRead(
        id=row.id,
        key=row.key,
        kind=row.kind,
        step_id=row.step_id,
        title=row.title,
        why=row.why,
        predicted=row.predicted,
        applied_by=row.applied_by,
        applied_at=row.applied_at,
        before=before,
        after=after,
        enough_runs=before.runs >= MIN_RUNS and after.runs >= MIN_RUNS,
        template_uses=uses,
    )


def _version_runs(session: Session, workflow_id: uuid.UUID, step_id: str) -> VersionRunsRead:
    workflow = blocking_repo.read_workflow(session, workflow_id=workflow_id)
    runs = repo.read_version_runs(session, workflow_id=workflow_id, step_id=step_id)
    cost = runs.step_cost_micros
    return VersionRunsRead(
        version=workflow.version if workflow else 0,
        runs=runs.runs,
        completed=runs.completed,
        median_duration_s=runs.median_duration_s,
        step_cost_usd=None if cost is None else micros_to_usd(round(cost)),
        step_retries_per_run=runs.step_retries_per_run,
    )


_EXPECTED = {
    "critical_path_s": ("critical path", "{:.2f} s"),
    "retries_per_run": ("retries per run", "{:g}"),
    "first_timeout_share": ("first attempts out of time", "{:.0%}"),
    "step_cost_usd": ("the step's cost per run", "${:.4g}"),
    "steps_to_write": ("steps a new workflow writes out", "{:d}"),
    "first_failure_share": ("first attempts that fail", "{:.0%}"),
}


def expected_texts(predicted: dict[str, Any] | Any) -> list[str]:
    """Each predicted ``[now, expected]`` figure in words: "critical path 0.41 s → 0.20 s"."""
    texts = []
    for figure, (now, then) in dict(predicted).items():
        label, form = _EXPECTED.get(figure, (figure, "{}"))
        texts.append(f"{label} {form.format(now)} → {form.format(then)}")
    return texts


async def apply_to_version(
    ctx: ServiceContext, *, workflow_id: uuid.UUID, key: str, actor: str
) -> AppliedSuggestionRead:
    """:func:`apply_suggestion` to the version ``workflow_id``, which must be its newest.

    Raises:
        NotFound: no such version (``workflow_id``), or it has no suggestion ``key``.
        Conflict: the version is not its workflow's newest (any more): nothing is saved.
    """
    async with ctx.read() as session:
        workflow = await workflow_repo.read_workflow(session, workflow_id=workflow_id)
    if workflow is None:
        raise NotFound(f"no workflow version with id {workflow_id}", field="workflow_id")
    return await apply_suggestion(
        ctx, name=workflow.name, key=key, actor=actor, version=workflow.version
    )


async def apply_suggestion(
    ctx: ServiceContext, *, name: str, key: str, actor: str, version: int | None = None
) -> AppliedSuggestionRead:
    """Save suggestion ``key``'s definition as the next version of ``name``, in one transaction.

    ``version``, when given, is the version the caller saw the suggestion for: it must still
    be the newest.

    Raises:
        NotFound: no workflow has that name, or the history no longer suggests ``key`` for its
            newest version (list the suggestions again).
        Conflict: another version was saved since the suggestion was read (two people applied
            at once), or ``version`` is not the newest: nothing is saved.
    """
    found = await list_suggestions(ctx, name=name)
    if version is not None and version != found.version:
        raise Conflict(
            f"version {version} of workflow {name!r} is not its newest ({found.version}); "
            "list the suggestions of the newest",
            field="workflow_id",
        )
    suggestion = next((s for s in found.suggestions if s.key == key), None)
    if suggestion is None:
        raise NotFound(
            f"workflow {name!r} version {found.version} has no suggestion {key!r}; list them "
            "again (`missionctl workflow suggestions NAME`)",
            field="key",
        )
    if suggestion.kind == "template":
        template = TemplateSpec.model_validate(suggestion.definition)
        with template_cases.name_race_as_conflict(template.name):
            return await ctx.write_blocking(
                partial(
                    _save_template,
                    suggestion=suggestion,
                    template=template,
                    name=name,
                    base=found.version,
                    actor=actor,
                ),
                side_by_side=True,
            )
    spec = WorkflowSpec.model_validate(suggestion.definition)
    require_valid(spec)
    with version_race_as_conflict(name):
        return await ctx.write_blocking(
            partial(
                _save_applied, suggestion=suggestion, spec=spec, base=found.version, actor=actor
            ),
            side_by_side=True,
        )


def _save_applied(
    session: Session, *, suggestion: SuggestionRead, spec: WorkflowSpec, base: int, actor: str
) -> AppliedSuggestionRead:
    """Save ``spec`` after version ``base`` of its workflow, keep the suggestion, append its event.

    Raises:
        Conflict: a version was saved after ``base`` (this transaction is then undone).
    """
    name = spec.name
    newest = workflow_repo.read_workflow_version_sync(session, name=name, version=base)
    assert newest is not None  # versions are never deleted
    saved = save_version(
        session, spec=spec, actor=actor, mission_id=newest.mission_id, plan_id=newest.plan_id
    )
    # Saving takes the name's versions in turn: a version saved since the suggestion was read
    # (a twin applying it at once) shows here, and this transaction is undone.
    if saved.version != base + 1:
        raise Conflict(
            f"workflow {name!r} changed since the suggestion was made (now version "
            f"{saved.version - 1}); list the suggestions again",
            field="key",
        )
    return _keep(session, suggestion, base=newest, applied=saved, actor=actor)


def _save_template(
    session: Session,
    *,
    suggestion: SuggestionRead,
    template: TemplateSpec,
    name: str,
    base: int,
    actor: str,
) -> AppliedSuggestionRead:
    """Save the template of a ``template`` suggestion, made from version ``base`` of ``name``.

    Raises:
        Conflict: a template of that name was saved meanwhile (on flush or commit, through
            ``name_race_as_conflict``).
    """
    source = workflow_repo.read_workflow_version_sync(session, name=name, version=base)
    assert source is not None  # versions are never deleted
    template_cases.store_template(session, template, source_workflow_id=source.id, actor=actor)
    return _keep(session, suggestion, base=source, applied=source, actor=actor)


def _keep(
    session: Session, suggestion: SuggestionRead, *, base: Workflow, applied: Workflow, actor: str
) -> AppliedSuggestionRead:
    """Keep ``suggestion`` as applied to ``base`` (making ``applied``); ``suggestion.applied``."""
    row = AppliedSuggestion(
        workflow=base.name,
        key=suggestion.key,
        kind=suggestion.kind,
        step_id=suggestion.step_id,
        title=suggestion.title,
        why=suggestion.why,
        predicted=suggestion.predicted,
        base_workflow_id=base.id,
        applied_workflow_id=applied.id,
        applied_by=actor,
    )
    session.add(row)
    session.flush()
    payload = {
        "workflow": base.name,
        "key": suggestion.key,
        "kind": suggestion.kind,
        "step_id": suggestion.step_id,
        "from_version": base.version,
        "version": applied.version,
        "predicted": suggestion.predicted,
    }
    append_sync(session, [NewEvent(type=ev.SUGGESTION_APPLIED, actor=actor, payload=payload)])
    return _applied_read(session, row)

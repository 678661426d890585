"""The workflows pages: the list, one version, and the editor with its check as you type.

A version's page shows its graph, definition, versions, recent runs and the Run form; the
editor writes a new workflow, or a new version of one.

Blocks rendered alone for htmx:

- ``pages/workflow_editor.html`` ``check_update``: the check of the text being typed (its
  problems, or "valid"), with the graph preview as an ``<hx-partial>``; ``workspace``: the
  editor, its check and preview after a save that was refused (422, the text kept as typed).
- ``pages/workflow.html`` ``run_form``: the Run form with the values typed and their errors (422).

Save and Run answer htmx with ``HX-Location`` (the workflow's page, the new run's page) and a
plain browser with a 303, so both work with JavaScript off.

A workflow's name is the rest of its URL (``/workflows/team/deploy``), as in the API: names may
hold slashes. ``/workflows/new`` is the editor, so a workflow named ``new`` has no page here.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.status import HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_CONTENT

from missionctl.domain.governance import Gate
from missionctl.errors import NotFound, Problem, ValidationFailed
from missionctl.schemas.dashboard import RunRow, TaskView
from missionctl.schemas.workflows import WorkflowRead, WorkflowRunCreate, WorkflowSpec
from missionctl.security.guard import GuardedRoute
from missionctl.services import ServiceContext
from missionctl.services.usecases import dashboard
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import runs as run_service
from missionctl.services.usecases import suggestions as suggestion_service
from missionctl.services.usecases import workflows as workflow_service
from missionctl.services.usecases.money import usd_to_micros
from missionctl.services.usecases.workflow_checks import (
    MAX_DEFINITION_BYTES,
    DocumentTooLarge,
    WorkflowCheck,
    check_untrusted,
    load_document,
    value_problems,
)
from missionctl.web.deps import Context, ControlRuns, Fragment, Identity, P, requires
from missionctl.web.forms import FORM_ERROR, FieldErrors
from missionctl.web.routes.approvals import pending_count
from missionctl.web.templating import open_page, render

LIST_PAGE = "pages/workflows.html"
PAGE = "pages/workflow.html"
EDITOR = "pages/workflow_editor.html"
WORKFLOWS_URL = "/workflows"
RECENT_RUNS = 10
RUNS_SCANNED = 200
"""How many of the newest runs the workflow page looks through for the workflow's own."""

# The identity of whoever saves a workflow (the editor's pages and its Save).
WriteWorkflows = Annotated[Identity, requires(P.WORKFLOWS_WRITE)]
Definition = Annotated[str, Form(max_length=2 * MAX_DEFINITION_BYTES)]

EXAMPLE = """\
# A workflow is a graph of steps. A step runs its agent once every step it
# depends on has succeeded; steps that depend on nothing in common run side by side.
# Steps whose risk_tier is `write` or `irreversible` wait for a person's approval
# (on the Approvals page) before they run; `read` steps run at once.
name: release-notes
description: Build and check a release, then publish its notes once someone approves.
inputs:
  version:
    type: string
    description: The version being released.
    default: "1.0.0"
steps:
  - id: build
    agent: command
    inputs:
      argv: ["echo", "building {{ inputs.version }}"]
  - id: check
    agent: builtin:sleep
    description: Give the build a moment to settle.
    inputs:
      seconds: 1
    depends_on: [build]
  - id: notes
    agent: builtin:noop
    inputs:
      description: Draft the notes of {{ inputs.version }}
    depends_on: [build]
  - id: publish
    agent: builtin:noop
    risk_tier: write
    inputs:
      description: Publish the notes of {{ inputs.version }}
    depends_on: [check, notes]
"""

_LINE = re.compile(r"^line (\d+), column (\d+)")
_STEP_FIELD = re.compile(r"^steps\.(\d+)(?:\.|$)")

router = APIRouter(route_class=GuardedRoute)


def workflow_url(name: str) -> str:
    """The page of the workflow called ``name`` (its newest version)."""
    return f"{WORKFLOWS_URL}/{quote(name)}"


def _go(fragment: bool, url: str) -> Response:
    """Open ``url``: htmx follows ``HX-Location`` (no reload), a plain browser a 303."""
    if fragment:
        return Response(status_code=200, headers={"HX-Location": open_page(url)})
    return RedirectResponse(url, status_code=HTTP_303_SEE_OTHER)


# --- The list ------------------------------------------------------------------------------


@router.get(WORKFLOWS_URL, dependencies=[requires(P.WORKFLOWS_READ)])
async def workflows_page(request: Request, ctx: Context) -> Response:
    """Every workflow by name, with its newest version, steps, runs and who saved it.

    The workflows that running a mission compiled from its plan are listed too, each marked so
    and linked to its mission (``missions``: their titles by id): they have pages of their own,
    and a list without them said "No workflows yet" after a mission had run.
    """
    workflows = await workflow_service.list_workflows(ctx, include_plans=True)
    from_plans = {w.mission_id for w in workflows if w.plan_id and w.mission_id}
    context = {
        "workflows": workflows,
        "missions": await mission_service.read_titles(ctx, mission_ids=from_plans),
        "pending_approvals": await pending_count(ctx),
    }
    return render(request, LIST_PAGE, context)


# --- The editor -----------------------------------------------------------------------------


@router.get(f"{WORKFLOWS_URL}/new")
async def new_workflow(request: Request, ctx: Context, who: WriteWorkflows) -> Response:
    """The editor, started with an example workflow to change."""
    return render(request, EDITOR, await _editor_context(ctx, text=EXAMPLE, editing=None))


@router.post(f"{WORKFLOWS_URL}/validate", dependencies=[requires(P.WORKFLOWS_READ)])
async def validate_workflow(
    request: Request,
    ctx: Context,
    fragment: Fragment,
    definition: Definition = "",
    editing: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check a definition without saving it: its problems, or its graph.

    htmx gets the check and the graph preview; a plain browser (the editor's Check button
    without JavaScript) the whole editor with them.
    """
    context = await _editor_context(
        ctx, text=definition, editing=editing or None, whole_page=not fragment
    )
    return render(request, EDITOR, context, block="check_update" if fragment else None)


@router.post(WORKFLOWS_URL)
async def save_workflow(
    request: Request,
    ctx: Context,
    who: WriteWorkflows,
    fragment: Fragment,
    definition: Definition = "",
    editing: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Save the definition as the next version of its name and open the workflow's page.

    A definition with problems is not stored: the editor comes back with the text as typed and
    every problem listed (422).
    """
    try:
        saved = await workflow_service.save_workflow(ctx, definition=definition, actor=who.actor)
    except ValidationFailed:
        context = await _editor_context(
            ctx, text=definition, editing=editing or None, saving=True, whole_page=not fragment
        )
        return render(
            request,
            EDITOR,
            context,
            block="workspace" if fragment else None,
            status_code=HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return _go(fragment, workflow_url(saved.name))


@router.get(WORKFLOWS_URL + "/{name:path}/edit")
async def edit_workflow(request: Request, ctx: Context, who: WriteWorkflows, name: str) -> Response:
    """The editor, holding the newest version's definition; saving adds a version.

    Raises:
        NotFound: no workflow has that name (a 404 page).
    """
    workflow = await workflow_service.read_workflow_by_name(ctx, name=name)
    context = await _editor_context(ctx, text=definition_yaml(workflow.definition), editing=name)
    return render(request, EDITOR, context)


# --- One workflow ---------------------------------------------------------------------------


@router.get(WORKFLOWS_URL + "/{name:path}", dependencies=[requires(P.WORKFLOWS_READ)])
async def workflow_page(
    request: Request,
    ctx: Context,
    name: str,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """One version of a workflow (the newest unless ``version``), with its Run form.

    Its graph, definition, versions and recent runs.

    Raises:
        NotFound: no such workflow or version (a 404 page).
    """
    workflow = await workflow_service.read_workflow_by_name(ctx, name=name, version=version)
    return render(request, PAGE, await _workflow_context(ctx, workflow))


@router.post(WORKFLOWS_URL + "/{name:path}/suggestions/{key}/apply")
async def apply_suggestion(
    request: Request,
    ctx: Context,
    who: WriteWorkflows,
    fragment: Fragment,
    name: str,
    key: Annotated[str, Path(max_length=300, pattern=r"^[a-z]+-[a-z0-9_.-]+$")],
) -> Response:
    """Save a suggestion as the workflow's next version and open its page.

    Raises:
        NotFound: the history no longer suggests it (a 404 page, or a toast).
        Conflict: another version was saved since (a 409 page, or a toast).
    """
    await suggestion_service.apply_suggestion(ctx, name=name, key=key, actor=who.actor)
    target = workflow_url(name)
    if fragment:  # a whole new page (the new version): htmx loads it as a browser would
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=HTTP_303_SEE_OTHER)


@router.post(WORKFLOWS_URL + "/{name:path}/run")
async def run_workflow(
    request: Request,
    ctx: Context,
    who: ControlRuns,
    fragment: Fragment,
    name: str,
    version: Annotated[int, Form(ge=1, le=2**31 - 1)],
    budget_usd: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Start a run of this version with the inputs of the form, and open the run's page.

    Inputs arrive as ``inputs.<name>`` fields, typed as the workflow declares them. Invalid
    inputs or budget start nothing: the form comes back with a message beside each (422).

    Raises:
        NotFound: no such workflow or version.
    """
    workflow = await workflow_service.read_workflow_by_name(ctx, name=name, version=version)
    form = await request.form()
    raw = {key: str(form.get(f"inputs.{key}", "")) for key in workflow.definition.inputs}
    inputs, errors = parse_inputs(workflow.definition, raw)
    budget = None
    try:
        run_create = WorkflowRunCreate.model_validate(
            {"inputs": inputs, "budget_usd": budget_usd.strip() or None}
        )
    except ValidationError:
        errors["budget_usd"] = "Enter a budget in US dollars, like 5 or 2.50 (up to $1,000,000)."
    else:
        budget = run_create.budget_usd
    if not errors:
        try:
            run = await run_service.start_run(
                ctx,
                workflow_id=workflow.id,
                actor=who.actor,
                trigger="manual",
                inputs=inputs,
                budget_micros=None if budget is None else usd_to_micros(budget),
            )
        except ValidationFailed as exc:
            errors = _run_errors(exc.problems)
        else:
            return _go(fragment, f"/runs/{run.id}")
    form_state = {"values": raw, "budget_usd": budget_usd, "errors": errors}
    unprocessable = HTTP_422_UNPROCESSABLE_CONTENT
    if fragment:
        context = {"workflow": workflow, "run_form": form_state}
        return render(request, PAGE, context, block="run_form", status_code=unprocessable)
    context = await _workflow_context(ctx, workflow, run_form=form_state)
    return render(request, PAGE, context, status_code=unprocessable)


# --- Helpers --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """YAML as people write it.

    Lists are indented under their key, and short lists of plain values fit on one line
    (``depends_on: [build, test]``).
    """

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    plain = all(isinstance(item, str | int | float | bool) for item in data)
    short = plain and sum(len(str(item)) + 2 for item in data) <= 60
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


_Dumper.add_representer(list, _represent_list)


def definition_yaml(spec: WorkflowSpec) -> str:
    """A definition as readable YAML: the fields in the contract's order, defaults left out."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    if spec.budget_usd is not None:
        data["budget_usd"] = _number(spec.budget_usd)
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return text


def _number(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def graph_of(spec: WorkflowSpec, gates: Mapping[str, Gate]) -> dict[str, Any]:
    """What the workflow graph macro draws: the steps as tasks, and each one's tier and gate.

    ``gates`` is ``workflow_service.read_step_gates``' answer: the engine's own decision.
    """
    tasks = [
        TaskView(key=step.id, title=step.id, agent=step.agent, depends_on=list(step.depends_on))
        for step in spec.steps
    ]
    marks = {
        step.id: {
            "agent": step.agent,
            "tier": gates[step.id].risk_tier,
            "gated": gates[step.id].gated,
            "when": step.when,
        }
        for step in spec.steps
    }
    return {"tasks": tasks, "marks": marks}


def _problem_rows(check: WorkflowCheck) -> list[dict[str, Any]]:
    """Problems as the editor lists them: field, message, and where to find it in the text.

    A problem in ``steps.<index>`` is shown by the step's id where it has one, else by the
    field's own ``steps.<index>`` (numbered from 0, as every field is), never as "step 3".
    """
    rows = []
    for problem in check.problems:
        line = _LINE.match(problem.message)
        step = _STEP_FIELD.match(problem.field or "")
        index = int(step.group(1)) if step else None
        step_id = None
        if index is not None and index < len(check.step_ids):
            step_id = check.step_ids[index]
        rows.append(
            {
                "field": problem.field or "definition",
                "message": problem.message,
                "line": int(line.group(1)) if line else None,
                "step_index": index,
                "step_id": step_id,
                "step_label": f"step {step_id}" if step_id else f"steps.{index}",
            }
        )
    return rows


async def _editor_context(
    ctx: ServiceContext,
    *,
    text: str,
    editing: str | None,
    saving: bool = False,
    whole_page: bool = True,
) -> dict[str, Any]:
    """The editor's context: the text, its check, the graph preview, what saving would do.

    ``whole_page`` adds what only the whole page shows (the sidebar's count of approvals), so
    that the check run at each pause in typing reads no more than it needs.
    """
    # Parsed and checked beside the event loop: the text may be a megabyte (ADR 0076).
    check: WorkflowCheck = await check_untrusted(text)
    spec = check.spec
    next_version = None
    if spec is not None:
        try:
            newest = await workflow_service.read_workflow_by_name(ctx, name=spec.name)
        except NotFound:
            next_version = 1
        else:
            next_version = newest.version + 1
    graph = None
    if spec is not None and check.layers:
        graph = graph_of(spec, await workflow_service.read_step_gates(ctx, spec=spec))
    return {
        "text": text,
        "editing": editing,
        "saving": saving,
        "check": {
            "valid": check.valid,
            "problems": _problem_rows(check),
            "name": spec.name if spec is not None else None,
            "steps": len(spec.steps) if spec is not None else 0,
            "layers": len(check.layers),
            "next_version": next_version,
            "gated": [k for k, m in graph["marks"].items() if m["gated"]] if graph else [],
        },
        "graph": graph,
        "pending_approvals": await pending_count(ctx) if whole_page else 0,
    }


async def _workflow_context(
    ctx: ServiceContext, workflow: WorkflowRead, run_form: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    versions = await workflow_service.read_workflow_versions(ctx, name=workflow.name)
    page = await dashboard.read_run_rows(ctx, limit=RUNS_SCANNED)
    ids = {v.id: v.version for v in versions}
    runs: list[RunRow] = [row for row in page.items if row.run.workflow_id in ids]
    suggestions = None
    if versions[0].version == workflow.version:
        suggestions = await suggestion_service.list_suggestions(ctx, name=workflow.name)
    return {
        "workflow": workflow,
        "suggestions": suggestions,
        "yaml": definition_yaml(workflow.definition),
        "graph": graph_of(
            workflow.definition,
            await workflow_service.read_step_gates(ctx, spec=workflow.definition),
        ),
        "versions": versions,
        "newest": versions[0].version,
        "version_of": ids,
        "runs": runs[:RECENT_RUNS],
        "runs_total": sum(v.runs for v in versions),
        "run_form": run_form
        or {"values": _default_values(workflow.definition), "budget_usd": "", "errors": {}},
        "pending_approvals": await pending_count(ctx),
    }


def _default_values(spec: WorkflowSpec) -> dict[str, str]:
    """The Run form's initial text per input: its default, as a person would type it."""
    values = {}
    for name, declared in spec.inputs.items():
        default = declared.default
        if default is None:
            values[name] = ""
        elif declared.type in ("array", "object"):
            values[name] = json.dumps(default)
        elif declared.type == "boolean":
            values[name] = "true" if default else "false"
        else:
            values[name] = str(default)
    return values


def parse_inputs(spec: WorkflowSpec, raw: Mapping[str, str]) -> tuple[dict[str, Any], FieldErrors]:
    """The Run form's text fields as the values of the declared input types.

    An empty field is left out (the input's default applies, or the service says it is
    required). A text that is not of the declared type gets a message for its field.
    """
    values: dict[str, Any] = {}
    errors: FieldErrors = {}
    for name, declared in spec.inputs.items():
        text = raw.get(name, "")
        if not text.strip():
            continue
        field = f"inputs.{name}"
        kind = declared.type
        try:
            if kind == "string":
                values[name] = text
            elif kind == "integer":
                values[name] = int(text.strip())
            elif kind == "number":
                number = float(text.strip())
                if not math.isfinite(number):
                    raise ValueError(text)
                values[name] = int(number) if number.is_integer() and "." not in text else number
            elif kind == "boolean":
                if text not in ("true", "false"):
                    raise ValueError(text)
                values[name] = text == "true"
            else:
                value = load_document(text, syntax="json")
                # What no database can store, or too deep to walk (this form does not go
                # through the API's run route, which checks the same).
                if problems := value_problems(value):
                    raise DocumentTooLarge(f"not accepted: {problems[0].message}")
                values[name] = value
        except DocumentTooLarge as exc:
            errors[field] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        except ValueError:
            errors[field] = {
                "integer": "Enter a whole number, like 3.",
                "number": "Enter a number, like 2.5.",
                "boolean": "Choose true or false.",
                "array": 'Enter a JSON list, like ["a", "b"].',
                "object": 'Enter a JSON object, like {"key": "value"}.',
            }[kind]
    return values, errors


def _run_errors(problems: Sequence[Problem]) -> FieldErrors:
    errors: FieldErrors = {}
    for problem in problems:
        field = problem.field or ""
        key = field if field.startswith("inputs.") else FORM_ERROR
        message = (
            problem.message if key != FORM_ERROR or not field else f"{field}: {problem.message}"
        )
        errors.setdefault(key, message[:1].upper() + message[1:])
    return errors


__all__ = ["EXAMPLE", "definition_yaml", "graph_of", "parse_inputs", "router", "workflow_url"]

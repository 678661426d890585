"""``missionctl templates …``: the template gallery (ADR 0065, docs/templates.md).

On the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (saving,
using and deleting there need an operator's token). ``use`` renders a template into a new
workflow version; with ``--mission GOAL`` it starts a mission from it instead of a plan. A run
started on the local database waits for an engine (``missionctl worker`` or a server).
"""

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._input_pairs import json_inputs
from missionctl.cli._runtime import console, report_validation_error

if TYPE_CHECKING:
    from missionctl.schemas.templates import TemplateRead, TemplateUsed

app = typer.Typer(
    help="Templates: workflows written once and used many times (SOP phases, release, data "
    "migration, bug triage, and the ones you save).",
    no_args_is_help=True,
)

OPTIONS = {
    "name": "NAME",
    "title": "--title",
    "description": "--description",
    "category": "--category",
    "workflow_id": "--workflow",
    "mission_id": "--mission",
    "inputs": "--input",
    "workflow_name": "--workflow-name",
    "goal": "--mission",
    "budget_usd": "--budget-usd",
}

TemplateName = Annotated[str, typer.Argument(help="The template's name (see `templates list`).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


@app.command("list")
def list_(
    category: Annotated[
        str | None, typer.Option("--category", help="Only the templates of this category.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List the shipped templates, then the saved ones."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import templates as ops
    from missionctl.schemas.templates import TemplateQuery

    with open_backend() as api:
        templates = api.call(ops.LIST, query=TemplateQuery.model_construct(category=category))
    if as_json:
        typer.echo("[" + ",".join(t.model_dump_json() for t in templates) + "]")
        return
    table = Table(title="Templates", box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("name", overflow="fold")
    for column in ("title", "category", "source", "phases"):
        table.add_column(column, overflow="fold")
    for t in templates:
        table.add_row(
            escape(t.name),
            escape(t.title),
            escape(t.category),
            t.source,
            escape(" → ".join(t.phases) or f"{len(t.steps)} steps"),
        )
    console.print(table)


def _print(template: "TemplateRead") -> None:
    console.print(
        f"[bold]{escape(template.title)}[/bold] ({escape(template.name)}, {template.source})"
    )
    if template.description:
        console.print(escape(template.description))
    for name, spec in template.inputs.items():
        need = "required" if spec.required else f"default {spec.default!r}"
        console.print(f"  input [bold]{escape(name)}[/bold] ({spec.type}, {escape(need)})")
    for number, step in enumerate(template.steps, start=1):
        gate = ""
        if step.gated:
            gate = f"  [yellow]gate: {escape(', '.join(step.approvers) or 'any approver')}[/yellow]"
        console.print(f"  {number}. {escape(step.phase or step.id)} · {escape(step.agent)}{gate}")


@app.command()
def show(name: TemplateName, as_json: AsJson = False) -> None:
    """Show a template: its inputs and its steps with their phases and gates."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import templates as ops

    with open_backend() as api:
        template = api.call(ops.READ, name=name)
    if as_json:
        typer.echo(template.model_dump_json())
        return
    _print(template)


@app.command()
def save(
    name: Annotated[str, typer.Argument(help="The new template's name: a-z, 0-9 and '-'.")],
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="A workflow version's id to save.")
    ] = None,
    mission: Annotated[
        str | None,
        typer.Option("--mission", help="A mission's id: the workflow its newest run ran."),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Default: the workflow's name.")
    ] = None,
    category: Annotated[str, typer.Option("--category", help="e.g. release.")] = "saved",
    as_json: AsJson = False,
) -> None:
    """Save a workflow version (--workflow) or a finished mission's workflow (--mission)."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import templates as ops
    from missionctl.schemas.templates import TemplateSave

    try:
        body = TemplateSave.model_validate(
            {
                "name": name,
                "title": title,
                "category": category,
                "workflow_id": workflow,
                "mission_id": mission,
            }
        )
    except ValidationError as exc:
        report_validation_error(exc, option_for=OPTIONS)
        return
    with open_backend() as api:
        saved = api.call(ops.SAVE, body=body)
    if as_json:
        typer.echo(saved.model_dump_json())
        return
    console.print(f"Saved template [bold]{escape(saved.name)}[/bold] ({len(saved.steps)} steps)")


@app.command()
def use(
    name: TemplateName,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", help="A template input, NAME=VALUE; repeat.")
    ] = None,
    mission: Annotated[
        str | None,
        typer.Option("--mission", help="Start a new mission with this goal from the template."),
    ] = None,
    start: Annotated[bool, typer.Option("--start", help="Also start a run of it.")] = False,
    workflow_name: Annotated[
        str | None, typer.Option("--workflow-name", help="Default: the template's.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Make a workflow version from a template (--start runs it), or a mission (--mission)."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import templates as ops
    from missionctl.schemas.templates import MissionFromTemplate, TemplateUse

    with open_backend() as api:
        declared = api.call(ops.READ, name=name).inputs
        given = json_inputs(inputs or [], {key: spec.type for key, spec in declared.items()})
        try:
            if mission is not None:
                order: Any = MissionFromTemplate.model_validate({"goal": mission, "inputs": given})
            else:
                order = TemplateUse.model_validate(
                    {"inputs": given, "start": start, "workflow_name": workflow_name}
                )
        except ValidationError as exc:
            report_validation_error(exc, option_for=OPTIONS)
            return
        op = ops.START_MISSION if isinstance(order, MissionFromTemplate) else ops.USE
        used = api.call(op, body=order, name=name)
    _print_used(used, as_json)


def _print_used(used: "TemplateUsed", as_json: bool) -> None:
    if as_json:
        typer.echo(used.model_dump_json())
        return
    console.print(
        f"Workflow [bold]{escape(used.workflow_name)}[/bold] v{used.workflow_version} "
        f"({used.workflow_id}) from template {escape(used.template)}"
    )
    if used.mission_id is not None:
        console.print(f"mission {used.mission_id}")
    if used.run_id is not None:
        console.print(f"run {used.run_id} started")


@app.command()
def delete(name: TemplateName) -> None:
    """Delete a saved template (shipped ones cannot be deleted)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import templates as ops

    with open_backend() as api:
        api.call(ops.DELETE, name=name)
    console.print(f"Deleted template {escape(name)}")

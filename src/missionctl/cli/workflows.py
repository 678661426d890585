"""``missionctl workflow …``: check, save, list, show and run workflow definitions.

Definitions are YAML or JSON files (``-`` reads standard input; a ``.json`` file is parsed as
strict JSON, anything else as YAML). Every command works on the local database as ``system``;
``run`` executes the run on an engine in this process, with a live table of its steps.
"""

# The engine, the services and settings are imported inside the functions that use them, so
# `missionctl --help` does not load them; annotations naming them stay strings.
from __future__ import annotations

import asyncio
import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from missionctl.cli._live import execute_live
from missionctl.cli._runtime import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    console,
    err_console,
    load_settings,
    report_validation_error,
    run_service,
)
from missionctl.errors import MissionControlError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from missionctl.schemas.runs import RunRead
    from missionctl.schemas.workflows import (
        WorkflowCheckRead,
        WorkflowRead,
        WorkflowRunCreate,
        WorkflowSpec,
    )
    from missionctl.services import ServiceContext
    from missionctl.services.workflow_checks import Syntax
    from missionctl.settings import Settings

app = typer.Typer(
    help="Check, save, list, show and run workflow definitions (YAML or JSON files) on the "
    "local database. See docs/workflows.md for the format.",
    no_args_is_help=True,
)

# Working on the local database directly is acting as the system itself (ADR 0010).
ACTOR = "system"

DefinitionFile = Annotated[
    Path,
    typer.Argument(
        help="A YAML or JSON file ('-' reads standard input).",
        allow_dash=True,
        dir_okay=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _read_definition(path: Path) -> tuple[str, Syntax]:
    """The file's text and how to parse it; exit 2 when it cannot be read."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except OSError as exc:
        err_console.print(f"[red]error:[/red] cannot read {escape(str(path))}: {exc.strerror}")
        raise typer.Exit(EXIT_INVALID) from exc
    except UnicodeDecodeError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(path))} is not UTF-8 text")
        raise typer.Exit(EXIT_INVALID) from exc
    return text, "json" if path.suffix.lower() == ".json" else "yaml"


def _print_layers(layers: list[list[str]]) -> None:
    for depth, layer in enumerate(layers, start=1):
        console.print(f"  {depth}. {escape(', '.join(layer))}", highlight=False)


def _print_problems(check: WorkflowCheckRead) -> None:
    for problem in check.problems:
        where = f"{problem.field}: " if problem.field else ""
        err_console.print(f"[red]{escape(where + problem.message)}[/red]", highlight=False)


@app.command()
def validate(file: DefinitionFile, as_json: AsJson = False) -> None:
    """Check a definition without saving it: OK with its steps and layers, or every problem.

    Exit code 0 when it is valid, 2 when it is not (each problem is printed as `field:
    message`). Needs no database.
    """
    from missionctl.services import workflows as workflow_service

    text, syntax = _read_definition(file)
    check = workflow_service.validate_workflow(text, syntax=syntax)
    if as_json:
        typer.echo(check.model_dump_json(indent=2))
    elif check.valid:
        layers = check.graph.layers
        console.print(
            f"[green]OK[/green] {escape(check.name or '')}: {len(check.steps)} steps in "
            f"{len(layers)} layers",
            highlight=False,
        )
        _print_layers(layers)
    else:
        count = len(check.problems)
        err_console.print(f"[red]{count} problem{'s' if count != 1 else ''}[/red]")
        _print_problems(check)
    if not check.valid:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def apply(file: DefinitionFile, as_json: AsJson = False) -> None:
    """Save a definition as the next version of its name (version 1 for a new name).

    Nothing is saved when it has problems: each is printed as `field: message`, exit 2.
    """
    from missionctl.services import workflows as workflow_service

    text, syntax = _read_definition(file)
    workflow = run_service(
        lambda ctx: workflow_service.save_workflow(ctx, definition=text, actor=ACTOR, syntax=syntax)
    )
    if as_json:
        typer.echo(workflow.model_dump_json(indent=2))
        return
    _print_saved(workflow)


def _print_saved(workflow: WorkflowRead) -> None:
    console.print(
        f"[green]saved[/green] {escape(workflow.name)} v{workflow.version}  "
        f"[dim]{workflow.id}[/dim]",
        highlight=False,
    )
    _print_layers(workflow.graph.layers)


@app.command("list")
def list_workflows(
    include_plans: Annotated[
        bool, typer.Option(help="Also list workflows compiled from missions' plans.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """List workflows: the newest version of each name."""
    from missionctl.services import workflows as workflow_service

    items = run_service(
        lambda ctx: workflow_service.list_workflows(ctx, include_plans=include_plans)
    )
    if as_json:
        typer.echo(json.dumps([json.loads(w.model_dump_json()) for w in items], indent=2))
        return
    if not items:
        console.print("no workflows yet — save one with: missionctl workflow apply FILE")
        return
    table = Table(title=f"Workflows ({len(items)})")
    table.add_column("id", no_wrap=True)
    for column in ("name", "version", "of", "steps", "runs", "saved"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            escape(item.name),
            str(item.version),
            str(item.versions),
            str(item.steps),
            str(item.runs),
            f"{item.created_at:%Y-%m-%d}",
        )
    console.print(table)


async def _find(ctx: ServiceContext, ref: str, version: int | None) -> WorkflowRead:
    """A workflow version by id, or by name (``version``, or else the newest)."""
    from missionctl.services import workflows as workflow_service

    try:
        workflow_id = uuid.UUID(ref)
    except ValueError:
        return await workflow_service.read_workflow_by_name(ctx, name=ref, version=version)
    try:
        workflow = await workflow_service.read_workflow(ctx, workflow_id=workflow_id)
    except NotFound:  # a workflow may be named like an id
        return await workflow_service.read_workflow_by_name(ctx, name=ref, version=version)
    if version is not None and version != workflow.version:
        raise NotFound(f"{ref} is version {workflow.version}, not {version}", field="version")
    return workflow


@app.command()
def show(
    name_or_id: Annotated[str, typer.Argument(help="The workflow's name, or a version's id.")],
    version: Annotated[
        int | None, typer.Option(min=1, help="Which version of the name (default: the newest).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the version (definition, graph) as JSON.")
    ] = False,
) -> None:
    """Show a workflow version: its definition as YAML (defaults left out) and its layers."""
    workflow = run_service(lambda ctx: _find(ctx, name_or_id, version))
    if as_json:
        typer.echo(workflow.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{escape(workflow.name)}[/bold] v{workflow.version}  [dim]{workflow.id}[/dim]",
        highlight=False,
    )
    console.print(
        f"saved {workflow.created_at:%Y-%m-%d %H:%M:%S}Z by {escape(workflow.created_by)}",
        highlight=False,
    )
    console.print()
    typer.echo(definition_yaml(workflow.definition))
    console.print("layers (steps in one layer may run in parallel):")
    _print_layers(workflow.graph.layers)


def definition_yaml(spec: WorkflowSpec) -> str:
    """``spec`` as YAML, without the fields left at their defaults (it means the same)."""
    import yaml

    data = spec.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip()


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """``["n=3", "flag=true", "name=ada"]`` → ``{"n": 3, "flag": True, "name": "ada"}``.

    Each value is read as YAML (``3`` an integer, ``true`` a boolean, ``[a, b]`` a list); one
    YAML cannot read stays the text given. Exit 2 for an item without ``=``, or one nested
    deeper than a definition may be.
    """
    from missionctl.services.workflow_checks import (
        DocumentSyntaxError,
        DocumentTooLarge,
        load_document,
    )

    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            err_console.print(f"[red]error:[/red] --input: expected key=value, got {pair!r}")
            raise typer.Exit(EXIT_INVALID)
        try:
            value = load_document(raw)
        except DocumentTooLarge as exc:
            err_console.print(
                f"[red]error:[/red] --input {escape(key.strip())}: {escape(str(exc))}"
            )
            raise typer.Exit(EXIT_INVALID) from None
        except DocumentSyntaxError:
            value = raw
        inputs[key.strip()] = value
    return inputs


@app.command()
def run(
    file_or_name: Annotated[
        str,
        typer.Argument(
            help="A definition file (saved first, as a new version), or the name or id of a "
            "saved workflow (its newest version for a name)."
        ),
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="A workflow input as key=value; the value is read as YAML (n=3 is a number, "
            "flag=true a boolean). Repeatable.",
        ),
    ] = None,
    budget_usd: Annotated[
        Decimal | None, typer.Option(help="Spending cap of this run in USD.")
    ] = None,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach", help="Start the run and return; an engine (serve, worker) runs it."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run as JSON (no live table).")
    ] = False,
) -> None:
    """Run a workflow here: save the file (if one is given), start a run, execute it.

    Without --detach an engine in this process runs it, drawing its steps live (status,
    elapsed time, tokens, cost) and naming the steps that wait for approval. Exit code 0 when
    the run completed, 1 when it did not (or no such workflow), 2 for an invalid definition or
    input; with --detach, 0 once the run is started.
    """
    from missionctl.schemas.workflows import WorkflowRunCreate

    try:
        data = WorkflowRunCreate(inputs=parse_inputs(inputs or []), budget_usd=budget_usd)
    except ValidationError as exc:
        report_validation_error(exc, option_for={"inputs": "--input", "budget_usd": "--budget-usd"})
        raise  # unreachable: report_validation_error exits
    source = Path(file_or_name)
    definition = _read_definition(source) if file_or_name == "-" or source.is_file() else None
    settings = load_settings()
    try:
        final = asyncio.run(
            _run(
                settings,
                file_or_name,
                definition,
                data,
                detach=detach,
                live=not as_json,
            )
        )
    except ValidationFailed as exc:
        for problem in exc.problems:
            where = f"{problem.field}: " if problem.field else ""
            err_console.print(f"[red]error:[/red] {escape(where + problem.message)}")
        raise typer.Exit(EXIT_INVALID) from exc
    except NotFound as exc:
        message = exc.message
        if definition is None and source.suffix.lower() in (".yaml", ".yml", ".json"):
            message = f"no file {file_or_name}, and no workflow of that name"
        err_console.print(f"[red]error:[/red] {escape(message)}")
        raise typer.Exit(EXIT_NOT_FOUND) from exc
    except MissionControlError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(EXIT_INVALID) from exc
    if as_json:
        typer.echo(final.model_dump_json(indent=2))
    else:
        _print_outcome(final, detached=detach)
    if not detach and final.status.value != "completed":
        raise typer.Exit(1)


async def _run(
    settings: Settings,
    ref: str,
    definition: tuple[str, Syntax] | None,
    data: WorkflowRunCreate,
    *,
    detach: bool,
    live: bool,
) -> RunRead:
    from missionctl.engine.worker import Engine, EngineConfig
    from missionctl.services import open_context
    from missionctl.services import workflows as workflow_service
    from missionctl.services.runtime import open_runtime

    async with open_context(settings) as ctx:
        if definition is not None:
            text, syntax = definition
            workflow = await workflow_service.save_workflow(
                ctx, definition=text, actor=ACTOR, syntax=syntax
            )
            if live:
                _print_saved(workflow)
        else:
            workflow = await _find(ctx, ref, None)
        run = await workflow_service.run_workflow(
            ctx, workflow_id=workflow.id, actor=ACTOR, trigger="cli", data=data
        )
        if live:
            console.print(
                f"run of {escape(workflow.name)} v{workflow.version}  [dim]{run.id}[/dim]",
                highlight=False,
            )
        if detach:
            return run
        async with open_runtime(settings) as runtime:
            engine = Engine(ctx, runtime.agents, config=EngineConfig.from_settings(settings.engine))
            return await execute_live(ctx, engine, run, live=live)


def _print_outcome(run: RunRead, *, detached: bool) -> None:
    if detached:
        console.print(
            f"started run [dim]{run.id}[/dim] ({run.status.value}); an engine (missionctl serve "
            "or worker) runs it",
            highlight=False,
        )
        return
    colour = "green" if run.status.value == "completed" else "red"
    console.print(
        Group(
            Text.assemble((f"run {run.status.value}", colour), "  ", (str(run.id), "dim")),
            Text(
                f"tokens in/out {run.input_tokens}/{run.output_tokens}  cost ${run.spent_usd:.4f}"
            ),
        )
    )
    if run.error:
        err_console.print(f"[red]{escape(run.error)}[/red]", highlight=False)
    for step in run.steps:
        if step.status.value == "failed" and step.error:
            err_console.print(f"[red]step {escape(step.step_id)} failed:[/red]", highlight=False)
            err_console.print(escape(step.error), highlight=False)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a definition (what docs/workflow.schema.json holds)."""
    from missionctl.schemas.workflows import WorkflowSpec

    typer.echo(json.dumps(WorkflowSpec.model_json_schema(), indent=2, ensure_ascii=False))


__all__ = ["app", "definition_yaml", "parse_inputs"]

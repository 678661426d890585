"""``missionctl workflow …``: check, save, list, show and run workflow definitions.

Definitions are YAML or JSON files (``-`` reads standard input; a ``.json`` file is parsed as
strict JSON, anything else as YAML). Every command works on the local database as ``system``,
or, with ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, on that server as the token
(``missionctl.cli._backend``). ``run`` executes the run on an engine in this process (or the
server's engine runs it), with a live table of its steps.
"""

# The engine, the services and settings are imported inside the functions that use them, so
# `missionctl --help` does not load them; annotations naming them stay strings.
from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    console,
    err_console,
    report_validation_error,
)
from missionctl.cli.runs import Detach, print_outcome

if TYPE_CHECKING:
    from missionctl.cli._backend import MissionControl
    from missionctl.schemas.workflows import WorkflowCheckRead, WorkflowRead, WorkflowSpec
    from missionctl.services.usecases.workflow_checks import Syntax

app = typer.Typer(
    help="Check, save, list, show and run workflow definitions (YAML or JSON files), on the "
    "local database or the server at MISSIONCTL_URL. See docs/workflows.md for the format.",
    no_args_is_help=True,
)

DefinitionFile = Annotated[
    Path,
    typer.Argument(
        help="A YAML or JSON file ('-' reads standard input).",
        allow_dash=True,
        dir_okay=False,
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
# What to do with a definition over the limit: the words of the parser's own limit error.
DEFINITION_FIX = "split it into smaller parts"


def _read_definition(path: Path) -> tuple[str, Syntax]:
    """The file's text and how to parse it; exit 2 when it cannot be read.

    Reading stops at the definition's limit (``cli._input_files``): ``-`` fed by an endless
    pipe, ``/dev/zero`` or a FIFO is refused as soon as it passes the limit, before any service
    is loaded.
    """
    from missionctl.cli._input_files import read_input_text
    from missionctl.domain.workflows import MAX_DEFINITION_BYTES

    text = read_input_text(path, limit=MAX_DEFINITION_BYTES, fix=DEFINITION_FIX, field="definition")
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
    message`). Needs no database locally; on a server, steps are also judged against its
    command agent's allow-list (whether each would wait for an approver).
    """
    from missionctl.cli._backend import open_backend

    text, syntax = _read_definition(file)
    with open_backend() as api:
        check = api.check_workflow(text, syntax)
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
    from missionctl.cli._backend import open_backend

    text, syntax = _read_definition(file)
    with open_backend() as api:
        workflow = api.save_workflow(text, syntax)
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
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workflows as ops

    with open_backend() as api:
        items = api.call(ops.LIST, query=ops.ListQuery(include_plans=include_plans))
    if as_json:
        typer.echo(json.dumps([json.loads(w.model_dump_json()) for w in items], indent=2))
        return
    if not items:
        console.print("no workflows yet — save one with: missionctl workflow apply FILE")
        return
    # Compact ("v2/3" for version 2 of 3; steps in --json) so that a whole id and name fit 80
    # columns.
    table = Table(title=f"Workflows ({len(items)})", title_justify="left", box=box.SIMPLE)
    table.add_column("id", no_wrap=True)
    table.add_column("name", overflow="fold", min_width=10)
    for column in ("v", "runs", "saved"):
        table.add_column(column, no_wrap=True)
    for item in items:
        table.add_row(
            str(item.id),
            escape(item.name),
            f"v{item.version}/{item.versions}",
            str(item.runs),
            f"{item.created_at:%Y-%m-%d}",
        )
    console.print(table)


def _find(api: MissionControl, ref: str, version: int | None) -> WorkflowRead:
    """A workflow version by id, or by name (``version``, or else the newest); exit 1 if none."""
    from missionctl.operations import workflows as ops

    # Built unchecked: the server checks the version and names it when it is out of range.
    by_name = ops.VersionQuery.model_construct(version=version)
    try:
        workflow_id = uuid.UUID(ref)
    except ValueError:
        return api.call(ops.BY_NAME, query=by_name, name=ref)
    workflow = api.call_or_none(ops.READ, workflow_id=workflow_id)
    if workflow is None:  # a workflow may be named like an id
        return api.call(ops.BY_NAME, query=by_name, name=ref)
    if version is not None and version != workflow.version:
        err_console.print(
            f"[red]error:[/red] version: {escape(ref)} is version {workflow.version}, not {version}"
        )
        raise typer.Exit(EXIT_NOT_FOUND)
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
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        workflow = _find(api, name_or_id, version)
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
    from missionctl.services.usecases.workflow_checks import (
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
    detach: Detach = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run as JSON (no live table).")
    ] = False,
) -> None:
    """Run a workflow: save the file (if one is given), start a run, follow it to its end.

    Without --detach an engine in this process runs it (on a server, the server's engine),
    drawing its steps live (status, elapsed time, tokens, cost) and naming the steps that
    wait for approval. Exit code 0 when the run completed, 1 when it did not (or no such
    workflow), 2 for an invalid definition or input; with --detach, 0 once the run is started.
    """
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import workflows as ops
    from missionctl.schemas.workflows import WorkflowRunCreate

    try:
        data = WorkflowRunCreate(inputs=parse_inputs(inputs or []), budget_usd=budget_usd)
    except ValidationError as exc:
        report_validation_error(exc, option_for={"inputs": "--input", "budget_usd": "--budget-usd"})
        raise  # unreachable: report_validation_error exits
    source = Path(file_or_name)
    definition = _read_definition(source) if file_or_name == "-" or source.is_file() else None
    live = not as_json
    with open_backend() as api:
        if definition is not None:
            workflow = api.save_workflow(*definition)
            if live:
                _print_saved(workflow)
        else:
            workflow = _saved_workflow(api, file_or_name, source)
        started = api.call(ops.RUN, body=data, workflow_id=workflow.id)
        if live:
            console.print(
                f"run of {escape(workflow.name)} v{workflow.version}  [dim]{started.id}[/dim]",
                highlight=False,
            )
        final = started if detach else api.follow(started, live=live)
    if as_json:
        typer.echo(final.model_dump_json(indent=2))
    else:
        print_outcome(final, detached=detach)
    if not detach and final.status.value != "completed":
        raise typer.Exit(1)


def _saved_workflow(api: MissionControl, ref: str, source: Path) -> WorkflowRead:
    """The saved workflow ``ref`` names; a missing file's name is reported as one (exit 1)."""
    from missionctl.operations import workflows as ops

    if source.suffix.lower() not in (".yaml", ".yml", ".json"):
        return _find(api, ref, None)
    workflow = api.call_or_none(ops.BY_NAME, name=ref)
    if workflow is None:
        err_console.print(f"[red]error:[/red] no file {escape(ref)}, and no workflow of that name")
        raise typer.Exit(EXIT_NOT_FOUND)
    return workflow


@app.command()
def versions(
    name: Annotated[str, typer.Argument(help="The workflow's name.")],
    as_json: AsJson = False,
) -> None:
    """List every version of a workflow, newest first (exit 1 for an unknown name)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workflows as ops

    with open_backend() as api:
        items = api.call(ops.VERSIONS, name=name)
    if as_json:
        typer.echo(json.dumps([json.loads(w.model_dump_json()) for w in items], indent=2))
        return
    table = Table(
        title=f"Versions of {escape(name)} ({len(items)})", title_justify="left", box=box.SIMPLE
    )
    table.add_column("id", no_wrap=True)
    for column in ("v", "runs", "saved"):
        table.add_column(column, no_wrap=True)
    table.add_column("by", overflow="fold", min_width=12)
    for item in items:
        table.add_row(
            str(item.id),
            str(item.version),
            str(item.runs),
            f"{item.created_at:%Y-%m-%d}",
            escape(item.created_by),
        )
    console.print(table)


@app.command()
def suggestions(
    name: Annotated[str, typer.Argument(help="The workflow's name.")],
    diff: Annotated[bool, typer.Option("--diff", help="Show each suggestion's diff.")] = False,
    as_json: AsJson = False,
) -> None:
    """What the last 30 days of a workflow suggest for its newest version, and what was applied.

    Each suggestion is a new version with one edit, or (`template-…`) a template of steps
    other workflows repeat: apply it with `missionctl workflow apply-suggestion NAME KEY`.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workflows as ops

    with open_backend() as api:
        found = api.call(ops.SUGGESTIONS, name=name)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{escape(name)}[/bold] version {found.version}: {found.runs} runs ended in the "
        f"last {found.window_days} days"
    )
    if not found.suggestions and found.runs < found.min_runs:
        console.print(f"Nothing to suggest before {found.min_runs} runs.")
    elif not found.suggestions:
        console.print("Nothing to suggest: the history shows no edit that would help.")
    for item in found.suggestions:
        console.print(f"\n[bold]{escape(item.key)}[/bold]: {escape(item.title)}")
        console.print(f"  {escape(item.why)}")
        for text in item.expected:
            console.print(f"  expected: {escape(text)}")
        if diff:
            console.print(escape(item.diff), highlight=False)
    for done in found.applied:
        if done.template_uses is not None:
            console.print(
                f"\napplied {escape(done.key)} (from v{done.before.version}, by "
                f"{escape(done.applied_by)}): used {done.template_uses} "
                f"time{'' if done.template_uses == 1 else 's'} since"
            )
            continue
        console.print(
            f"\napplied {escape(done.key)} (v{done.before.version} → v{done.after.version}, by "
            f"{escape(done.applied_by)}): runs {done.before.runs} → {done.after.runs}, median "
            f"{_seconds(done.before.median_duration_s)} → "
            f"{_seconds(done.after.median_duration_s)}, "
            f"step retries per run {_figure(done.before.step_retries_per_run)} → "
            f"{_figure(done.after.step_retries_per_run)}, step cost "
            f"{_figure(done.before.step_cost_usd)} → {_figure(done.after.step_cost_usd)} USD"
            + ("" if done.enough_runs else " (too few runs to say)")
        )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


@app.command("apply-suggestion")
def apply_suggestion(
    name: Annotated[str, typer.Argument(help="The workflow's name.")],
    key: Annotated[str, typer.Argument(help="The suggestion's key (`workflow suggestions`).")],
) -> None:
    """Save a suggestion as the workflow's next version, or a `template-…` one as a template.

    Exits 1 if it is no longer suggested.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import workflows as ops

    if not re.fullmatch(ops.SUGGESTION_KEY_PATTERN, key):
        err_console.print(
            f"[red]error:[/red] KEY {escape(key)!r} is not a suggestion's key (such as "
            "parallel-lint.fetch); `missionctl workflow suggestions NAME` lists them"
        )
        raise typer.Exit(EXIT_INVALID)

    with open_backend() as api:
        newest = api.call(ops.BY_NAME, name=name)
        done = api.call(ops.APPLY_SUGGESTION, workflow_id=newest.id, key=key)
    if done.template_uses is not None:
        console.print(
            f"applied {escape(done.key)}: saved the template "
            f"{escape(done.key.removeprefix('template-'))} (`missionctl templates show NAME`)"
        )
        return
    console.print(
        f"applied {escape(done.key)}: {escape(name)} version {done.after.version} "
        f"(from {done.before.version}); its runs will show whether it helped "
        f"(`missionctl workflow suggestions {escape(name)}`)"
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema of a definition (what docs/workflow.schema.json holds)."""
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        document = api.workflow_schema()
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


__all__ = ["app", "definition_yaml", "parse_inputs"]

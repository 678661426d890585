"""``missionctl models …``: the catalogue that model routing chooses from (docs/routing.md).

On the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (changing
a model there needs an admin's token).
"""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import console, report_validation_error

if TYPE_CHECKING:
    from missionctl.schemas.routing import CatalogueModelRead

app = typer.Typer(
    help="The model catalogue: which models routing may choose for llm: steps, and their tiers.",
    no_args_is_help=True,
)


def _known(value: object, unit: str = "") -> str:
    return "—" if value is None else f"{value:,}{unit}" if isinstance(value, int) else str(value)


def _row(model: "CatalogueModelRead") -> list[str]:
    tier = f"{model.tier} {model.tier_name}" if model.tier else "—"
    price = (
        f"${model.input_usd_per_mtok:g} / ${model.output_usd_per_mtok:g}"
        if model.input_usd_per_mtok is not None and model.output_usd_per_mtok is not None
        else "no price"
    )
    tools = {True: "yes", False: "no", None: "—"}[model.tool_use]
    name = escape(model.model) + (" [dim](default)[/dim]" if model.default else "")
    offered = {True: "yes", False: "no", None: "—"}[model.offered]
    return [
        name,
        "yes" if model.routable else "no",
        offered,
        tier,
        _known(model.context_tokens),
        tools,
        price,
        ", ".join(model.earned_roles) or "—",
        ", ".join(model.barred_roles) or "—",
    ]


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalogue as JSON.")] = False,
) -> None:
    """List the models routing may choose from, what it knows of each, and their records."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import models as ops

    with open_backend() as api:
        models = api.call(ops.LIST)
    if as_json:
        typer.echo("[" + ",".join(m.model_dump_json() for m in models) + "]")
        return
    table = Table(title="Model catalogue (price: USD per million input / output tokens)")
    for column in ("model", "routable", "offered", "tier", "context", "tools", "price", "earned"):
        table.add_column(column)
    table.add_column("barred")
    for model in models:
        table.add_row(*_row(model))
    console.print(table)
    if not any(m.routable and not m.default for m in models):
        console.print(
            "Routing is off: every llm: step runs on the configured model. Allow another "
            "model with `missionctl models set NAME --routable --tier N`."
        )


@app.command()
def sync() -> None:
    """Ask the configured endpoint which models it offers, and record it in the catalogue."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import models as ops

    with open_backend() as api:
        models = api.call(ops.SYNC)
    offered = [m.model for m in models if m.offered]
    console.print(
        f"the endpoint offers {len(offered)} model(s): {escape(', '.join(offered)) or 'none'}"
    )
    gone = [m.model for m in models if m.offered is False and m.routable]
    if gone:
        console.print(f"routable but not offered (routing skips them): {escape(', '.join(gone))}")


@app.command("set")
def set_(
    model: Annotated[str, typer.Argument(help="Model name, e.g. gpt-4o-mini.")],
    routable: Annotated[
        bool | None,
        typer.Option("--routable/--not-routable", help="Whether routing may choose it for a step."),
    ] = None,
    tier: Annotated[
        int | None, typer.Option(help="Quality tier: 1 economy, 2 standard, 3 frontier.")
    ] = None,
    context: Annotated[
        int | None,
        typer.Option(
            "--context",
            help="The most tokens a prompt may hold (default: the price table's figure).",
        ),
    ] = None,
    tools: Annotated[
        bool | None, typer.Option("--tools/--no-tools", help="Whether the model can call tools.")
    ] = None,
) -> None:
    """Set what routing knows of a model; options left out keep their value."""
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import models as ops
    from missionctl.schemas.routing import CatalogueChange

    given = {"routable": routable, "tier": tier, "context_tokens": context, "tool_use": tools}
    try:
        change = CatalogueChange.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        report_validation_error(
            exc,
            option_for={
                "routable": "--routable",
                "tier": "--tier",
                "context_tokens": "--context",
                "tool_use": "--tools",
            },
        )
        return
    with open_backend() as api:
        entry = api.call(ops.SET, body=change, model=model)
    console.print(_line(entry))


def _line(model: "CatalogueModelRead") -> str:
    """One model as a sentence: what routing now knows of it."""
    tier = f"tier {model.tier} ({model.tier_name})" if model.tier else "no tier"
    context = (
        f"context {model.context_tokens:,} tokens" if model.context_tokens else "context unknown"
    )
    tools = {True: "tool use", False: "no tool use", None: "tool use unknown"}[model.tool_use]
    state = "routable" if model.routable else "not routable"
    return f"[bold]{escape(model.model)}[/bold]: {state}, {tier}, {context}, {tools}"

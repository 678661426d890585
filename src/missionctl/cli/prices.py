"""``missionctl prices …``: the model price table budgets are checked against.

On the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN`` (setting
a price there needs an admin's token).
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import console, report_validation_error

if TYPE_CHECKING:
    from missionctl.schemas.prices import PriceRead

app = typer.Typer(
    help="Model prices (USD per million tokens): the bundled public list, with your overrides.",
    no_args_is_help=True,
)


NOT_SET = "cached input: not set; cached tokens are charged at the input price"


def _cached(price: "PriceRead") -> str:
    # The price row cannot hold "not set" (the column is NOT NULL), so an unset cached-input
    # price is stored as the input price; equal prices mean "no cache discount" either way.
    if price.cached_input_usd_per_mtok == price.input_usd_per_mtok:
        return "= input"
    return f"${price.cached_input_usd_per_mtok:g}"


def _print(price: "PriceRead", *, cached_given: bool = True) -> None:
    console.print(
        f"[bold]{escape(price.model)}[/bold]  input ${price.input_usd_per_mtok:g}  "
        f"cached input {_cached(price)}  "
        f"output ${price.output_usd_per_mtok:g} per million tokens  [dim]({price.source})[/dim]"
    )
    if not cached_given:
        console.print(NOT_SET)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print the prices as JSON.")] = False,
) -> None:
    """List the overridden models, the configured model and the common ones, at today's price."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import prices as ops

    with open_backend() as api:
        prices = api.call(ops.LIST)
    if as_json:
        typer.echo("[" + ",".join(p.model_dump_json() for p in prices) + "]")
        return
    table = Table(title="Model prices (USD per million tokens)")
    for column in ("model", "input", "cached input", "output", "source"):
        table.add_column(column)
    for price in prices:
        table.add_row(
            escape(price.model),
            f"${price.input_usd_per_mtok:g}",
            _cached(price),
            f"${price.output_usd_per_mtok:g}",
            price.source,
        )
    console.print(table)


@app.command()
def show(model: Annotated[str, typer.Argument(help="Model name, e.g. gpt-4o-mini.")]) -> None:
    """Show the price in force for a model and where it comes from."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import prices as ops

    with open_backend() as api:
        _print(api.call(ops.READ, model=model))


@app.command("set")
def set_(
    model: Annotated[str, typer.Argument(help="Model name.")],
    input_usd: Annotated[Decimal, typer.Option("--input", help="USD per million input tokens.")],
    output_usd: Annotated[Decimal, typer.Option("--output", help="USD per million output tokens.")],
    cached_usd: Annotated[
        Decimal | None,
        typer.Option(
            "--cached-input",
            help="USD per million cached input tokens. When not set, the model has no cache "
            "discount: cached tokens are charged at the input price.",
        ),
    ] = None,
) -> None:
    """Set a model's price from now on (an override of the bundled list).

    Without --cached-input: cached input: not set; cached tokens are charged at the input price.
    """
    from pydantic import ValidationError

    from missionctl.cli._backend import open_backend
    from missionctl.operations import prices as ops
    from missionctl.schemas.prices import PriceChange, PriceSet

    try:
        data = PriceSet(
            model=model,
            input_usd_per_mtok=input_usd,
            output_usd_per_mtok=output_usd,
            cached_input_usd_per_mtok=cached_usd,
        )
    except ValidationError as exc:
        report_validation_error(
            exc,
            option_for={
                "model": "MODEL",
                "input_usd_per_mtok": "--input",
                "output_usd_per_mtok": "--output",
                "cached_input_usd_per_mtok": "--cached-input",
            },
        )
        return
    change = PriceChange.model_validate(data.model_dump(exclude={"model"}))
    with open_backend() as api:
        price = api.call(ops.SET, body=change, model=data.model)
    _print(price, cached_given=cached_usd is not None)

"""``missionctl prices …``: the model price table budgets are checked against."""

from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from missionctl.cli._runtime import console, report_validation_error, run_service
from missionctl.services.pricing import PriceRead, PriceSet, read_price, set_price

app = typer.Typer(
    help="Model prices (USD per million tokens): the bundled public list, with your overrides.",
    no_args_is_help=True,
)


def _print(price: PriceRead) -> None:
    console.print(
        f"[bold]{price.model}[/bold]  input ${price.input_usd_per_mtok:g}  "
        f"cached input ${price.cached_input_usd_per_mtok:g}  "
        f"output ${price.output_usd_per_mtok:g} per million tokens  [dim]({price.source})[/dim]"
    )


@app.command()
def show(model: Annotated[str, typer.Argument(help="Model name, e.g. gpt-4o-mini.")]) -> None:
    """Show the price in force for a model and where it comes from."""
    _print(run_service(lambda ctx: read_price(ctx, model=model)))


@app.command("set")
def set_(
    model: Annotated[str, typer.Argument(help="Model name.")],
    input_usd: Annotated[Decimal, typer.Option("--input", help="USD per million input tokens.")],
    output_usd: Annotated[Decimal, typer.Option("--output", help="USD per million output tokens.")],
    cached_usd: Annotated[
        Decimal | None,
        typer.Option("--cached-input", help="USD per million cached input tokens."),
    ] = None,
) -> None:
    """Set a model's price from now on (an override of the bundled list)."""
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
    _print(run_service(lambda ctx: set_price(ctx, data=data, actor="system")))

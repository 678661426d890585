"""``missionctl config …``."""

import json
from typing import Annotated

import typer
from rich.table import Table

from missionctl.cli._runtime import console, load_settings

app = typer.Typer(help="Inspect settings.", no_args_is_help=True)


@app.command()
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print the effective settings (environment plus defaults), secrets masked."""
    grouped = load_settings().masked()
    if as_json:
        typer.echo(json.dumps(grouped, indent=2))
        return
    table = Table(title="Mission Control settings", show_lines=False)
    table.add_column("area", style="dim")
    table.add_column("variable")
    table.add_column("value")
    for area, values in grouped.items():
        for name, value in values.items():
            table.add_row(area, name, value)
    console.print(table)

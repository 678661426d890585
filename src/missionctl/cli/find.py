"""``missionctl find QUERY``: the command palette's search from the terminal (ADR 0062).

The same ranking as Ctrl-K on the pages (``GET /api/v1/palette``): missions, runs, workflows,
agents, workers, schedules, pages, and the actions the caller may take. A terminal cannot
click, so each item prints the page it leads to (for an action: the request that performs
it); the commands of each noun do the rest.
"""

# Schemas are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import console
from missionctl.domain.palette import DEFAULT_LIMIT, MAX_LIMIT

if TYPE_CHECKING:
    from missionctl.schemas.palette import PaletteItem


def _where(item: PaletteItem) -> str:
    """The page an item leads to, or for an action the request that performs it."""
    if item.action is None or item.action.method == "GET":
        return item.url if item.action is None else item.action.url
    return f"{item.action.method} {item.action.url}"


def find(
    query: Annotated[
        str,
        typer.Argument(
            help='A few letters of a name, in order (`bilpg` finds "billing page"); words '
            "separated by spaces must all match. Empty: the newest of each kind.",
            show_default=False,
        ),
    ] = "",
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_LIMIT, help="How many items.")
    ] = DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
) -> None:
    """Find missions, runs, workflows, agents, workers, schedules and pages, best match first.

    A run is found by its mission's title or its workflow's name. Actions (approve, cancel,
    run a workflow, emergency stop, …) are listed with the request that performs them, only
    those the caller's role allows: none for a viewer. Locally the caller is the system.
    Exits 2 when the query is over 100 characters or 6 words.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import palette as ops

    with open_backend() as api:
        page = api.call(ops.SEARCH, query=ops.PaletteQuery.model_construct(q=query, limit=limit))
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    if not page.items:
        console.print(f"nothing matches {escape(query)!r}", highlight=False)
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("where", no_wrap=True)  # whole, to be copied; the title folds instead
    for item in page.items:
        title = escape(item.title)
        if item.subtitle:
            title += f"\n[dim]{escape(item.subtitle)}[/dim]"
        table.add_row(item.kind, title, escape(_where(item)))
    console.print(table)

"""``missionctl search QUERY``: full-text search over step log lines, errors and run events.

Works on the local database as ``system``, or, with ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN``
set, on that server as the token (``GET /api/v1/search``, ADR 0027).
"""

# Schemas are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from missionctl.cli._ids import id_option
from missionctl.cli._runtime import console

if TYPE_CHECKING:
    from missionctl.schemas.search import SearchHit

# ``services.usecases.paging.MAX_PAGE_SIZE`` and ``domain.search.MAX_QUERY_CHARS``, spelt out so
# that ``--help`` imports neither (tests/cli/test_cli_parity.py checks that they agree).
MAX_PAGE_SIZE = 200
MAX_QUERY_CHARS = 500


class Kind(StrEnum):
    """``domain.search.SearchKind``, for ``--kind`` (checked equal by the parity test)."""

    log = "log"
    error = "error"
    event = "event"


def _line(hit: SearchHit) -> Text:
    """One result: where it is from, then its snippet with the matches in bold."""
    where = f"run {hit.run_id}"
    if hit.step_id:
        where += f" step {hit.step_id}"
    if hit.attempt:
        where += f" attempt {hit.attempt}"
    kind = hit.kind.value + (f"/{hit.level}" if hit.level else "")
    line = Text.assemble(
        (f"{hit.ts:%Y-%m-%d %H:%M:%S}Z ", "dim"), (f"{kind} ", "cyan"), (where, "dim"), "\n  "
    )
    for part in hit.snippet:
        line.append(part.text, style="bold reverse" if part.match else "")
    return line


def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all must match), "quoted phrases" (quote them for the shell too) and '
            "prefixes such as conn*.",
            show_default=False,
        ),
    ],
    kind: Annotated[Kind | None, typer.Option(help="Only log lines, errors or events.")] = None,
    run: Annotated[
        uuid.UUID | None, id_option("runs", help="Only this run's entries (its id)")
    ] = None,
    mission: Annotated[
        uuid.UUID | None,
        id_option("missions", help="Only the entries of this mission's runs (its id)"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE_SIZE, help="Page size.")] = 20,
    cursor: Annotated[
        str | None, typer.Option(help="`next_cursor` printed by the previous page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """Search step log lines, errors and run events, newest first (as the Search page).

    Exit 2 when the query cannot be searched; the message says how to fix it.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.domain.search import SearchKind
    from missionctl.operations import search as ops

    chosen = None if kind is None else SearchKind(kind.value)
    # Built unchecked: the server checks the query and names the field at fault (exit 2).
    asked = ops.SearchQuery.model_construct(
        q=query, kind=chosen, run_id=run, mission_id=mission, limit=limit, cursor=cursor
    )
    with open_backend() as api:
        page = api.call(ops.SEARCH, query=asked)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    if not page.items:
        console.print("nothing matches", highlight=False)
        return
    for hit in page.items:
        console.print(_line(hit), highlight=False)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}", highlight=False)

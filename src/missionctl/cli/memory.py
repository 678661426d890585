"""``missionctl memory search QUERY`` and ``memory similar MISSION``: mission memory (ADR 0055).

Works on the local database as ``system``, or, with ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN``
set, on that server as the token (``GET /api/v1/memory``, ADR 0027).
"""

# Schemas are imported where used, so `missionctl --help` stays fast.
from __future__ import annotations

import json
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from missionctl.cli._ids import id_argument
from missionctl.cli._runtime import console
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.schemas.memory import MemoryResult

# ``domain.memory.MAX_PAGE`` and ``domain.search.MAX_QUERY_CHARS``, spelt out so that
# ``--help`` imports neither.
MAX_PAGE = 50

app = typer.Typer(
    help="Search mission memory: what finished missions decided, risked and learned.",
    no_args_is_help=True,
)


class Kind(StrEnum):
    """``domain.memory.MemoryKind``, for ``--kind``."""

    summary = "summary"
    decision = "decision"
    risk = "risk"
    lesson = "lesson"
    document = "document"


def _result(result: MemoryResult) -> Text:
    """One mission: its title, outcome, cost and id, then each text that matched."""
    line = Text.assemble(
        (result.title, "bold"),
        f"  {result.outcome}  {usd_text(result.cost_usd)}  ",
        (str(result.mission_id), "dim"),
    )
    for hit in result.hits:
        line.append(f"\n  {hit.kind.value}: ", style="cyan")
        line.append(f"{hit.title} — ", style="dim")
        for part in hit.snippet:
            line.append(part.text, style="bold reverse" if part.match else "")
    return line


@app.command("search")
def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all must match, on their stems), "quoted phrases" (quote them for the '
            "shell too) and prefixes such as pay*.",
            show_default=False,
        ),
    ],
    kind: Annotated[
        Kind | None,
        typer.Option(help="Only summaries, decisions, risks, lessons or documents."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Missions per page.")] = 10,
    cursor: Annotated[
        str | None, typer.Option(help="`next_cursor` printed by the previous page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """Search finished missions' summaries, decisions, risks, lessons and documents.

    Missions come most relevant first, with outcome, cost and what matched (as the Memory
    page). Exit 2 when the query cannot be searched; the message says how to fix it.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.domain.memory import MemoryKind
    from missionctl.operations import memory as ops

    chosen = None if kind is None else MemoryKind(kind.value)
    # Built unchecked: the server checks the query and names the field at fault (exit 2).
    asked = ops.MemoryQuery.model_construct(q=query, kind=chosen, limit=limit, cursor=cursor)
    with open_backend() as api:
        page = api.call(ops.SEARCH, query=asked)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    held = f"{page.remembered} mission{'' if page.remembered == 1 else 's'} remembered"
    console.print(f"mode: {page.mode}; {held}", highlight=False)
    if not page.items:
        console.print("nothing remembered matches", highlight=False)
        return
    for result in page.items:
        console.print(_result(result), highlight=False)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}", highlight=False)


@app.command("similar")
def similar(
    mission: Annotated[uuid.UUID, id_argument("missions", "MISSION", "The mission's id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """The finished missions most like MISSION, with outcome, cost and lessons (its page's).

    None once the mission itself is finished. Exit 1 when there is no such mission.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import memory as ops

    with open_backend() as api:
        found = api.call(ops.SIMILAR, mission_id=mission)
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2))
        return
    if not found:
        console.print("no similar finished mission", highlight=False)
        return
    for past in found:
        line = Text.assemble(
            (past.title, "bold"),
            f"  {past.outcome}  {usd_text(past.cost_usd)}  ",
            (str(past.mission_id), "dim"),
        )
        for lesson in past.lessons:
            line.append(f"\n  lesson: {lesson}")
        console.print(line, highlight=False)

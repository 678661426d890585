"""``missionctl board``: every task of the newest missions by the state of its step.

The board of ``GET /api/v1/board`` and the ``/board`` page, as one table that fits 80 columns:
a row per task, grouped by column (planned, queued, running, awaiting approval, blocked,
failed, canceled or skipped, done), then a count per column. ``--json`` prints the API's answer.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import id_option
from missionctl.cli._runtime import console

if TYPE_CHECKING:
    from missionctl.schemas.board import BoardCard, BoardRead

# Widths that keep a row within 80 columns: a longer title or name is cut with "…".
_WIDTHS = {"state": 9, "mission": 17, "task": 26, "role": 9, "outcome": 10}
_STATE_STYLE = {
    "running": "cyan",
    "awaiting_approval": "yellow",
    "blocked": "magenta",
    "failed": "red",
    "canceled": "dim",
    "done": "green",
}
_SHORT_STATE = {"awaiting_approval": "approval"}
# Columns that hold two statuses: a row there says which of the two its step is.
_TWO_STATUSES = frozenset({"canceled"})
_LINE_WIDTH = 80


def board(
    mission: Annotated[
        uuid.UUID | None, id_option("missions", "--mission", help="One mission's tasks: its id")
    ] = None,
    epic: Annotated[
        str | None, typer.Option(help="The tasks of one epic's missions: its name or id.")
    ] = None,
    agent: Annotated[
        str | None, typer.Option(help="Tasks whose step runs with this agent, e.g. coding:codex.")
    ] = None,
    role: Annotated[str | None, typer.Option(help="Tasks of this role, e.g. backend.")] = None,
    outcome: Annotated[
        str | None,
        typer.Option(help="Tasks that ended so: built, changed, no_change, documented, …"),
    ] = None,
    missions: Annotated[
        int, typer.Option(help="How many of the newest missions to show (1-100).")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every task of the newest missions, in the column of its state.

    Columns: planned, queued, running, awaiting approval, blocked, failed, canceled or
    skipped, done (with the outcome the record gives it). The engine owns the states:
    approve, reject, retry and cancel with `missionctl approve`, `reject`, `runs retry` and
    `runs cancel`. Exits 1 for an unknown mission or epic, 2 for a bad filter.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.cli.epics import resolve_epic
    from missionctl.operations import board as ops
    from missionctl.schemas.board import BoardQuery

    # Not validated here: the API refuses a bad filter with a 422 naming it (exit 2).
    filters: dict[str, Any] = {
        "mission_id": mission,
        "agent": agent,
        "role": role,
        "outcome": outcome,
        "missions": missions,
    }
    with open_backend() as api:
        filters["epic_id"] = None if epic is None else resolve_epic(api, epic)
        found = api.call(ops.READ, query=BoardQuery.model_construct(**filters))
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    _print_board(found)


def _cut(text: str | None, width: int) -> str:
    """``text`` within ``width`` characters, cut with "…"; "—" for none."""
    if not text:
        return "—"
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def _print_board(found: BoardRead) -> None:
    cards = [card for column in found.columns for card in column.cards]
    if not cards:
        console.print("no task matches (plan a mission: `missionctl mission create GOAL`)")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, pad_edge=False)
    for name, width in _WIDTHS.items():
        table.add_column(name, no_wrap=True, max_width=width)
    for card in cards:
        style = _STATE_STYLE.get(card.column, "")
        table.add_row(
            f"[{style}]{_state(card)}[/{style}]" if style else _state(card),
            _cut(card.mission_title, _WIDTHS["mission"]),
            _cut(f"{card.key}: {card.title}", _WIDTHS["task"]),
            _cut(card.role, _WIDTHS["role"]),
            _cut(card.outcome, _WIDTHS["outcome"]),
        )
    console.print(table)
    counts = [f"{len(c.cards)} {c.label.lower()}" for c in found.columns if c.cards]
    more = ["(older missions left out: --missions N)"] if found.more_missions else []
    of = f"{found.missions} mission" + ("" if found.missions == 1 else "s")
    for line in _wrap(f"{len(cards)} tasks of {of}:", counts, more):
        console.print(line, highlight=False)


def _state(card: BoardCard) -> str:
    """The row's state: its column, shortened; in a column of two statuses, its step's own."""
    if card.column in _TWO_STATUSES and card.status is not None:
        return card.status.value
    return _SHORT_STATE.get(card.column, card.column)


def _wrap(head: str, counts: list[str], tail: list[str]) -> list[str]:
    """``head``, the ``counts`` joined by commas, then ``tail``, in lines of at most 80 characters.

    A line breaks between two counts, never inside one ("2 canceled or skipped" stays whole);
    the lines after the first are indented.
    """
    words = [f"{count}," for count in counts[:-1]] + counts[-1:] + tail
    lines = [head]
    for word in words:
        if len(lines[-1]) + 1 + len(word) <= _LINE_WIDTH:
            lines[-1] += " " + word
        else:
            lines.append("  " + word)
    return lines

"""``missionctl events``: the event log, the newest page of it or followed live.

The filters are the event feed's (``GET /api/v1/events`` and its live ``/stream``) and those
of ``missionctl audit search --kind events``. Following works on the local database through
``services.usecases.dashboard.follow_events`` and on a server by reading its Server-Sent Events
stream, which is reopened after the last event printed when the connection drops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from missionctl.cli._runtime import EXIT_INVALID, console, err_console
from missionctl.cli.audit import (
    MissionIdOpt,
    RunIdOpt,
    SeverityOpt,
    SinceOpt,
    TypeOpt,
    UntilOpt,
    event_cursor,
    event_filters,
    event_place,
    print_event_page,
)
from missionctl.cli.runs import MAX_SEQ

if TYPE_CHECKING:
    from missionctl.schemas.events import EventFeedItem

# ``schemas.events.MAX_FEED_PAGE``, spelt out so that ``--help`` imports no schema (the parity
# test checks they agree).
MAX_FEED_PAGE = 500
DEFAULT_PAGE = 50

WorkflowOpt = Annotated[
    str | None, typer.Option(help="Events of runs of this workflow (name, any version).")
]
AgentOpt = Annotated[
    str | None, typer.Option(help="Events of steps run by this agent, e.g. `command`.")
]
ActorOpt = Annotated[
    str | None, typer.Option(help="Events recorded by this actor, e.g. `system`, `user:ada`.")
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow",
        "-f",
        help="Print each new event as it happens, until Ctrl-C (which exits 0).",
    ),
]
AfterOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=MAX_SEQ,
        help="Only events after this seq (the oldest page after it). With --follow: start "
        "there instead of now.",
    ),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=MAX_FEED_PAGE, help=f"Page size (default {DEFAULT_PAGE}); not with --follow."
    ),
]
CursorOpt = Annotated[
    str | None,
    typer.Option(help="The next (older) page: the cursor the previous page printed."),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print the page as JSON; with --follow, one JSON event per line."),
]

_SEVERITY_STYLE = {"info": "cyan", "success": "green", "warning": "yellow", "error": "red"}


def events(
    follow: FollowOpt = False,
    type: TypeOpt = None,
    severity: SeverityOpt = None,
    run_id: RunIdOpt = None,
    mission_id: MissionIdOpt = None,
    workflow: WorkflowOpt = None,
    agent: AgentOpt = None,
    actor: ActorOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    after: AfterOpt = None,
    limit: LimitOpt = None,
    cursor: CursorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest events of the log matching the filters, or (--follow) each new one live.

    The filters combine with AND; --type and --severity repeat (any matches), and a type
    ending with a dot is a prefix (`step.`). Without --follow: a page, newest first, as
    `GET /api/v1/events` sends it. With --follow: one line per event as it happens, oldest
    first, until Ctrl-C; through a server (`GET /api/v1/events/stream`) a dropped connection
    is reopened and resumes after the last event printed, so none is lost or repeated.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations.events import LIST
    from missionctl.schemas.events import EventQuery

    filters = event_filters(
        type=type,
        severity=severity,
        run_id=run_id,
        mission_id=mission_id,
        workflow=workflow,
        agent=agent,
        actor=actor,
        since=since,
        until=until,
    )
    if follow:
        _refuse_paging_options(limit=limit, cursor=cursor)
    before = event_cursor(cursor)
    try:
        with open_backend() as api:
            if follow:
                # The newest of a one-event page of the unfiltered feed.
                start = api.call(LIST, query=EventQuery(limit=1)).newest if after is None else after
                err_console.print(
                    f"following events after seq {start} on {api.where}; Ctrl-C stops",
                    highlight=False,
                    soft_wrap=True,
                )
                api.follow_events(filters, after=start, emit=_json_line if as_json else _line)
                return
            query = EventQuery.of(filters, limit=limit or DEFAULT_PAGE, before=before, after=after)
            page = api.call(LIST, query=query)
    except KeyboardInterrupt:
        return  # Ctrl-C is how following ends: not a failure, nothing to say
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
    else:
        print_event_page(page)


def _refuse_paging_options(*, limit: int | None, cursor: str | None) -> None:
    given = [name for name, value in (("--limit", limit), ("--cursor", cursor)) if value]
    for name in given:
        err_console.print(
            f"[red]error:[/red] {name}: pages are not read with --follow; leave {name} out "
            "(--after SEQ starts following at an older event)"
        )
    if given:
        raise typer.Exit(EXIT_INVALID)


def _json_line(event: EventFeedItem) -> None:
    typer.echo(event.model_dump_json())


def _line(event: EventFeedItem) -> None:
    style = _SEVERITY_STYLE.get(event.severity, "default")
    console.print(
        f"{event.seq}  {event.ts:%Y-%m-%d %H:%M:%S}Z  [{style}]{event.severity:<7}[/{style}]  "
        f"{escape(event.type)}  {escape(event.actor)}  {escape(event_place(event))}",
        highlight=False,
        soft_wrap=True,
    )

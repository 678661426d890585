"""The plan's draft, printed as a model writes it: ``mission plan``, ``mission answer``, ``run``.

While a model plans, the planner appends a ``plan.drafted`` event for each phase and task as
soon as it is written whole (docs/events.md). A command that plans follows the mission's
events meanwhile and prints one compact line per drafted item, and a line when a reply sent
back starts the draft again; it stops at the event that ends the planning. The local planner
drafts nothing, so nothing is printed for it. The lines are a preview: the plan printed after
them is the plan.

In this process the events are followed on the command's own event loop while the request
that plans runs on it too (:func:`follow_drafts`); against a server, on a thread of its own
over ``GET /api/v1/events/stream`` (:class:`StreamedDrafts`). Either way a draft that cannot
be followed (a token that may not read events, a dropped stream) only leaves its lines out.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from missionctl.domain import events as ev

if TYPE_CHECKING:
    from missionctl.cli.remote import RemoteClient
    from missionctl.services import ServiceContext

DraftPrinter = Callable[[Mapping[str, Any]], None]
"""Prints what one ``plan.drafted`` payload says."""

# The events that end a planning: after one of them no draft of it can come.
PLANNING_ENDS = frozenset(
    {ev.MISSION_PLANNED, ev.MISSION_FAILED, ev.MISSION_NEEDS_CLARIFICATION, "plan.rejected"}
)
WATCHED = (ev.PLAN_DRAFTED, *sorted(PLANNING_ENDS))
"""The event types a command that plans follows."""

CONNECT_WAIT_S = 5.0
"""How long a command waits for the server's event stream to open before it plans anyway."""
END_WAIT_S = 3.0
"""How long a command waits, once its plan came, for the draft lines still on their way."""


def draft_line(payload: Mapping[str, Any]) -> str | None:
    """The Rich line of a ``plan.drafted`` payload (model text escaped), or ``None`` for none.

    ``  phase 1  Foundations  3 tasks`` / ``  task  2  Design the API  architect · after a, b``
    / a dim line when a new reply starts the draft again.
    """
    kind, item, index = payload.get("kind"), payload.get("item"), payload.get("index")
    if kind == "restart":
        return "[dim]  the draft was sent back; drafting again[/dim]"
    if kind not in ("phase", "task") or not isinstance(item, dict) or not isinstance(index, int):
        return None
    name = str(item.get("name" if kind == "phase" else "title") or item.get("key") or "untitled")
    head = f"  [cyan]{kind:<5}[/cyan] {index + 1:>2}  {escape(name)}"
    if kind == "phase":
        keys = item.get("task_keys")
        count = len(keys) if isinstance(keys, list) else 0
        return head + (f"  [dim]{count} task{'' if count == 1 else 's'}[/dim]" if count else "")
    details = [str(item["role"])] if item.get("role") else []
    after = item.get("depends_on")
    if isinstance(after, list) and after:
        details.append("after " + ", ".join(str(key) for key in after))
    return head + (f"  [dim]{escape(' · '.join(details))}[/dim]" if details else "")


def print_draft(payload: Mapping[str, Any]) -> None:
    """Print the line of a ``plan.drafted`` payload (nothing for one that says nothing)."""
    from missionctl.cli._runtime import console

    line = draft_line(payload)
    if line is not None:
        # One line per item, cut to the terminal: the plan printed after them says it all.
        console.print(line, highlight=False, no_wrap=True, overflow="ellipsis")


def _take(event_type: str, payload: Mapping[str, Any], printer: DraftPrinter) -> bool:
    """Print a draft event; whether to go on (``False`` once the planning ended)."""
    if event_type == ev.PLAN_DRAFTED:
        printer(payload)
    return event_type not in PLANNING_ENDS


async def follow_drafts(
    ctx: ServiceContext, *, mission_id: uuid.UUID, after_seq: int, printer: DraftPrinter
) -> None:
    """Print the mission's drafts after ``after_seq`` until its planning ends (in this process).

    Runs until an event that ends the planning; the caller cancels it when the planning ends
    without one (it was refused before it began).
    """
    from missionctl.schemas.events import EventFilters
    from missionctl.services.usecases.dashboard import follow_events

    filters = EventFilters(type=list(WATCHED))
    batches = follow_events(ctx, after_seq=after_seq, mission_id=mission_id, filters=filters)
    async for batch in batches:
        for item in batch.items:
            if not _take(item.type, item.payload, printer):
                return


class StreamedDrafts:
    """A mission's drafts followed from a server, on a thread of their own.

    ``start`` opens ``GET /api/v1/events/stream`` for the mission (from the newest event) and
    returns once it is open, or after :data:`CONNECT_WAIT_S`; ``finish`` waits up to ``wait_s``
    for the end of the planning and prints nothing after it returns. A stream that fails only
    leaves lines out.
    """

    def __init__(self, client: RemoteClient, mission_id: uuid.UUID, printer: DraftPrinter) -> None:
        self._client = client
        self._params = [("mission_id", str(mission_id)), *(("type", t) for t in WATCHED)]
        self._printer = printer
        self._opened = threading.Event()
        self._lock = threading.Lock()
        self._finished = False
        # A daemon: a stream still open when the command ends must not keep it running.
        self._thread = threading.Thread(target=self._follow, name="plan-drafts", daemon=True)

    def start(self) -> None:
        """Open the stream (its cursor is then the newest event) before the planning starts."""
        self._thread.start()
        self._opened.wait(CONNECT_WAIT_S)

    def finish(self, wait_s: float = END_WAIT_S) -> None:
        """Wait up to ``wait_s`` for the lines still to come; none is printed after this."""
        self._thread.join(wait_s)
        with self._lock:
            self._finished = True

    def _follow(self) -> None:
        try:
            self._client.read_stream(
                "/api/v1/events/stream", self._params, self._message, opened=self._opened.set
            )
        except Exception:  # a draft not followed leaves its lines out, no more
            pass
        finally:
            self._opened.set()

    def _message(self, data: str) -> bool:
        import json

        event = json.loads(data)
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        with self._lock:
            if self._finished:
                return False
            return _take(str(event.get("type")), payload, self._printer)

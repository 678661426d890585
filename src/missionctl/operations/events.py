"""The event log, searched a page at a time.

Reading it needs ``runs:read``. The filters arrive as the query's text, ``type`` and
``severity`` repeated for several, and the use case reads them (``schemas.events``): each one
at fault is a 422 naming it, in words that say the fix. The live stream stays a route of its
own (``api.routes.events``): it answers a stream, not a model.
"""

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import ORDER
from missionctl.operations import Operation
from missionctl.schemas.events import EventFeedPage, EventQuery

LIST: Operation[EventFeedPage] = Operation(
    name="list_events",
    doc="Events of the log, newest first, with keyset paging by `seq`; the filters combine "
    "with AND.\n\n"
    "Page back with `before=next_before`; poll for newer events with `after=newest`. 422 names "
    "the field at fault: a malformed id or type, a time not in ISO 8601, `since` after `until`, "
    "a `limit` out of 1..500.",
    method="GET",
    path="/events",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.event_feed:search_events",
    query=EventQuery,
    query_as="query",
    refusals=ORDER,
    output=EventFeedPage,
    cli="events",
)

OPERATIONS = (LIST,)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""

"""Search: step log lines, errors and run events' reasons, in full text (ADR 0047).

Searching needs ``runs:read``. The command palette's search of places and actions, which
filters by every permission of the caller, is still a route of its own (``api.routes.palette``).
"""

import uuid

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.refusals import SEARCH_RULE
from missionctl.domain.search import MAX_QUERY_CHARS, SearchKind
from missionctl.operations import Operation
from missionctl.schemas.paging import MAX_PAGE_SIZE, SEARCH_CURSOR
from missionctl.schemas.search import SearchPage


class SearchQuery(BaseModel):
    """What to look for, where, and which page."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        max_length=MAX_QUERY_CHARS,
        description='Words (all must match), "quoted phrases" and prefixes (`conn*`).',
    )
    kind: SearchKind | None = Field(None, description="Only this kind of entry")
    run_id: uuid.UUID | None = Field(None, description="Only this run's entries")
    mission_id: uuid.UUID | None = Field(
        None, description="Only the entries of this mission's runs"
    )
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(
        None,
        max_length=64,
        description="`next_cursor` of the previous page",
        json_schema_extra={"pattern": SEARCH_CURSOR},
    )


SEARCH: Operation[SearchPage] = Operation(
    name="search",
    doc="Search step log lines, errors and run events, newest first, matches highlighted.\n\n"
    "422 names the field at fault: a query with no word, too long, with too many terms or too "
    "short a prefix (the message says how to fix it), an unknown kind, a malformed id, a "
    "cursor this search did not issue.",
    method="GET",
    path="/search",
    permission=P.RUNS_READ,
    service="missionctl.services.usecases.search:search",
    query=SearchQuery,
    refusals={"q": SEARCH_RULE},
    output=SearchPage,
    cli="search",
)

OPERATIONS = (SEARCH,)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""

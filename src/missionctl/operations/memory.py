"""Mission memory: what finished missions decided, risked and learned (ADR 0055).

Searching it and recalling the missions most like one both need ``missions:read``, as the
missions they show do.
"""

from pydantic import BaseModel, ConfigDict, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.memory import MAX_PAGE, MemoryKind
from missionctl.domain.refusals import SEARCH_RULE
from missionctl.domain.search import MAX_QUERY_CHARS
from missionctl.operations import Operation
from missionctl.schemas.memory import MemoryPage, SimilarMission
from missionctl.schemas.paging import MEMORY_CURSOR


class MemoryQuery(BaseModel):
    """What to look for, and which page."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        max_length=MAX_QUERY_CHARS,
        description='Words (all must match, on their stems), "quoted phrases" and prefixes '
        "(`pay*`).",
    )
    kind: MemoryKind | None = Field(None, description="Only this kind of text")
    limit: int = Field(20, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        None,
        max_length=64,
        description="`next_cursor` of the previous page",
        json_schema_extra={"pattern": MEMORY_CURSOR},
    )


SEARCH: Operation[MemoryPage] = Operation(
    name="search_memory",
    doc="Search the finished missions' summaries, decisions, risks, lessons and documents.\n\n"
    "Missions come most relevant first, each with its outcome, cost, lessons and the texts "
    "that matched, matches marked. 422 names the field at fault: a query with no word, too "
    "long, with too many terms or too short a prefix (the message says how to fix it), an "
    "unknown kind, a cursor this search did not issue.",
    method="GET",
    path="/memory",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.memory:search_memory",
    query=MemoryQuery,
    refusals={"q": SEARCH_RULE},
    output=MemoryPage,
    cli="memory search",
)
SIMILAR: Operation[list[SimilarMission]] = Operation(
    name="similar_missions",
    doc="The finished missions most like this one, with outcome, cost and lessons (404: none)."
    "\n\nEmpty once the mission itself is finished.",
    method="GET",
    path="/missions/{mission_id}/similar",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.memory_recall:similar_missions",
    output=list[SimilarMission],
    cli="memory similar",
)

OPERATIONS = (SEARCH, SIMILAR)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""

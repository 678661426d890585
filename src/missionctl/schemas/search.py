"""The log search's results (``GET /api/v1/search``, the Search page, ``missionctl search``)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from missionctl.domain.search import SearchKind


class SnippetPart(BaseModel):
    """A piece of a result's text; ``match``: the piece is what the query found."""

    text: str
    match: bool = False


class SearchHit(BaseModel):
    """One log line, error or event reason that matched, and where it came from."""

    kind: SearchKind = Field(description="`log` (a step's log line), `error` or `event`.")
    level: str | None = Field(description="A log line's level (`info`, `error`…).")
    snippet: list[SnippetPart] = Field(
        description="The text around the first match, in pieces; those that matched have "
        "`match: true`. A cut is a piece `…`. Render every piece as text, never as markup."
    )
    ts: datetime
    seq: int = Field(description="The event's position in the log.")
    event_type: str = Field(description="The event the text is from, e.g. `step.log`.")
    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    step_id: str | None
    attempt: int | None
    url: str = Field(description="The page of the step (or of the run, for a run's event).")


class SearchPage(BaseModel):
    """One page of results, newest first."""

    items: list[SearchHit]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next (older) page; null on the last page."
    )

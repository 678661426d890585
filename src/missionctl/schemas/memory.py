"""Mission memory's results (``GET /api/v1/memory``, the Memory page, ``missionctl memory``)."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from missionctl.domain.memory import MemoryKind
from missionctl.schemas.search import SnippetPart

MemoryMode = Literal["full text", "semantic"]


class MemoryHit(BaseModel):
    """One remembered text of a mission that matched."""

    kind: MemoryKind = Field(
        description="`summary`, `decision`, `risk`, `lesson` (what its runs taught) or `document`."
    )
    title: str
    snippet: list[SnippetPart] = Field(
        description="The text around the first match, in pieces; those that matched have "
        "`match: true`. Render every piece as text, never as markup."
    )


class RememberedMission(BaseModel):
    """A finished mission memory holds: how it ended, what it cost, what it taught."""

    mission_id: uuid.UUID
    title: str
    outcome: str = Field(description="`completed`, `failed` or `canceled`.")
    cost_usd: float
    lessons: list[str] = Field(description="What its runs taught, one sentence each.")
    url: str = Field(description="The mission's page.")


class MemoryResult(RememberedMission):
    """A mission whose remembered texts matched the query, with those texts, best first."""

    hits: list[MemoryHit]


class MemoryPage(BaseModel):
    """One page of missions, most relevant first."""

    items: list[MemoryResult]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    mode: MemoryMode = Field(
        description="`semantic` when the local embedder is installed (the `semantic` extra), "
        "else `full text`."
    )
    remembered: int = Field(description="How many finished missions memory holds.")


class SimilarMission(RememberedMission):
    """A finished mission like the one on the page."""

    shared: list[str] = Field(description="Content words both missions' texts use.")

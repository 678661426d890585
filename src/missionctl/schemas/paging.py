"""The cursors lists hand out, as OpenAPI patterns: what the services read back.

A cursor is opaque to clients, but the document still says which texts a list reads, so that
a request it allows is not refused. Each pattern admits the empty text (no cursor: the first
page) and exactly the values the service accepts.
"""

from pydantic import BaseModel, ConfigDict, Field

MAX_PAGE_SIZE = 200
"""The most rows one page of a keyset-paged list (or of a log search) holds."""

_HEX = "[0-9A-Fa-f]"
ID_CURSOR = f"^({_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}})?$"
"""``services.usecases.paging.keyset_cursor``: the id of the previous page's last row."""
SEARCH_CURSOR = "^(0*[1-9][0-9]{0,17})?$"
"""``services.usecases.search``: a positive entry id (below 2**63)."""
MEMORY_CURSOR = "^(0*([1-9][0-9]{0,3}|10000))?$"
"""``services.usecases.memory``: a positive offset of at most ``MAX_OFFSET`` (10,000)."""


class KeysetQuery(BaseModel):
    """A page of a keyset-paged list: how many rows, and the cursor of the page before."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(
        None,
        max_length=64,
        description="`next_cursor` of the previous page",
        json_schema_extra={"pattern": ID_CURSOR},
    )

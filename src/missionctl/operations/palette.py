"""The command palette: one search over places and the actions the caller may take (ADR 0062).

Every signed-in role may search (``missions:read``); what each source returns is filtered by
the caller's own permissions in the use case (a viewer gets places, never actions), so it is
given the caller's identity whole.
"""

from pydantic import BaseModel, Field

from missionctl.domain.access import Permission as P
from missionctl.domain.palette import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY_CHARS
from missionctl.operations import Operation
from missionctl.schemas.palette import PalettePage


class PaletteQuery(BaseModel):
    """What to find, and how many items."""

    q: str = Field(
        "",
        max_length=MAX_QUERY_CHARS,
        description='A few letters of a name, in order (`bilpg` finds "billing page"); '
        "words separated by spaces must all match. Blank: the newest of each kind.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items, best first.")


SEARCH: Operation[PalettePage] = Operation(
    name="search_palette",
    doc="Places and the actions the caller may take, best match of `q` first.\n\n"
    "Missions, runs, workflows, agents, workers, schedules and pages, and the actions the "
    "caller's role allows (none for a viewer), ranked by a fuzzy match of `q`: whole name, "
    "prefix, word start, substring, initials, then letters in order. A run is found by its "
    "mission's title or its workflow's name.\n\n"
    "422 names the field: `q` over the limit or with too many words, `limit` out of range.",
    method="GET",
    path="/palette",
    permission=P.MISSIONS_READ,
    service="missionctl.services.usecases.palette:search_palette",
    query=PaletteQuery,
    needs=("identity",),
    output=PalettePage,
    cli="find",
)

OPERATIONS = (SEARCH,)
"""Every declared operation, for what checks or lists them all (tests, documentation)."""

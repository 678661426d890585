"""Full-text search over step log lines, errors and the reasons of run events (ADRs 0041, 0047)."""

import secrets
import uuid

from missionctl.domain.numbers import ascii_int
from missionctl.domain.search import (
    QueryRejected,
    SearchKind,
    Segment,
    marked_spans,
    parse_query,
    snippet,
)
from missionctl.errors import Problem, ValidationFailed
from missionctl.repositories.search import EntryFilters, FoundEntry, Markers, search_entries
from missionctl.schemas.search import SearchHit, SearchPage, SnippetPart
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.paging import MAX_PAGE_SIZE

MAX_CURSOR = 2**63 - 1


def _cursor(cursor: str | None) -> int | None:
    """The entry id a page starts below; raises ``ValueError`` for text no page issued."""
    if not cursor:
        return None
    entry_id = ascii_int(cursor)
    if entry_id is None or not 0 < entry_id <= MAX_CURSOR:
        raise ValueError(cursor)
    return entry_id


async def search(
    ctx: ServiceContext,
    *,
    q: str,
    kind: SearchKind | None = None,
    run_id: uuid.UUID | None = None,
    mission_id: uuid.UUID | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> SearchPage:
    """The entries matching ``q`` (see ``domain.search.parse_query``), newest first.

    The index is caught up with the log first (ADR 0047), so every event committed before the
    call can be found. Each hit carries a snippet with its matches marked, and the URL of its
    step's page.

    Raises:
        ValidationFailed: ``q`` cannot be searched (the message says why and how to fix it),
            ``limit`` is out of range, or ``cursor`` is not one a page issued (all reported).
    """
    problems: list[Problem] = []
    try:
        query = parse_query(q)
    except QueryRejected as exc:
        problems.append(Problem("q", str(exc)))
    if not 1 <= limit <= MAX_PAGE_SIZE:
        problems.append(Problem("limit", f"must be between 1 and {MAX_PAGE_SIZE}"))
    try:
        before = _cursor(cursor)
    except ValueError:
        problems.append(Problem("cursor", "is not a cursor from a previous page; omit it"))
    if problems:
        raise ValidationFailed(problems)
    # Fresh markers per search: no logged text can pass for one.
    nonce = secrets.token_hex(8)
    markers = Markers(start=f"mk{nonce}a", stop=f"mk{nonce}z")
    filters = EntryFilters(kind=kind, run_id=run_id, mission_id=mission_id)
    await ctx.catch_up("search")
    async with ctx.read() as session:
        found = await search_entries(
            session,
            query=query,
            filters=filters,
            markers=markers,
            before_id=before,
            limit=limit + 1,
        )
    items = [_hit(entry, markers) for entry in found[:limit]]
    more = len(found) > limit
    return SearchPage(items=items, next_cursor=str(found[limit - 1].id) if more else None)


def _segments(entry: FoundEntry, markers: Markers) -> list[Segment]:
    """The entry's snippet, matches marked; the spans of ``marked`` applied to ``body``.

    PostgreSQL marks the text as indexed, whose offsets are the body's (ASCII punctuation
    became spaces, one for one); the snippet always shows the stored text.
    """
    plain, spans = marked_spans(entry.marked, start=markers.start, stop=markers.stop)
    if len(plain) != len(entry.body):
        spans = []  # not the text it should be: show it unmarked rather than mark it wrong
    return snippet(entry.body, spans)


def _hit(entry: FoundEntry, markers: Markers) -> SearchHit:
    url = f"/runs/{entry.run_id}"
    if entry.step_id is not None:
        url += f"/steps/{entry.step_id}"
    return SearchHit(
        kind=SearchKind(entry.kind),
        level=entry.level,
        snippet=[SnippetPart(text=s.text, match=s.match) for s in _segments(entry, markers)],
        ts=entry.ts,
        seq=entry.seq,
        event_type=entry.type,
        run_id=entry.run_id,
        mission_id=entry.mission_id,
        step_id=entry.step_id,
        attempt=entry.attempt,
        url=url,
    )

"""Mission memory: what finished missions decided, risked and learned, searched and recalled.

A mission that ends (``completed``, ``failed``, ``canceled``) is remembered as entries (ADR
0055): its summary (title, goal, constraints, stack, outcome, cost), its decisions and risks,
the lessons of its runs (``domain.memory.lessons``) and its documents. The index follows the
log, off the engine's path (``services.followers.memory_index``); every memory read catches it
up first, so what was committed before a search is found.

Three readers: :func:`search_memory` (the Memory page, the API, the CLI),
:func:`similar_missions` (a mission's page) and :func:`recollections` (the planning service,
which hands them to the planners).
"""

import logging
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.domain.memory import FINISHED, MAX_PAGE, MemoryKind
from missionctl.domain.numbers import ascii_int
from missionctl.domain.search import QueryRejected, marked_spans, parse_query, snippet
from missionctl.errors import Problem, ValidationFailed
from missionctl.llm.embedding import load_embedder, similarities
from missionctl.repositories import memory as repo
from missionctl.schemas.memory import (
    MemoryHit,
    MemoryMode,
    MemoryPage,
    MemoryResult,
    RememberedMission,
)
from missionctl.schemas.search import SnippetPart
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.money import micros_to_usd

log = logging.getLogger(__name__)

MAX_OFFSET = 10_000
"""The deepest page a search cursor may ask for."""

HITS_PER_MISSION = 5
"""The most matching texts a result shows for one mission."""

SEMANTIC_MIN = 0.35
"""The least cosine similarity at which the embedder alone makes a mission similar."""


def mode() -> MemoryMode:
    """``semantic`` when the local embedder is installed, else ``full text``."""
    return "semantic" if load_embedder() is not None else "full text"


# --- search ---------------------------------------------------------------------------------


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    offset = ascii_int(cursor)
    if offset is None or not 0 < offset <= MAX_OFFSET:
        raise ValueError(cursor)
    return offset


async def search_memory(
    ctx: ServiceContext,
    *,
    q: str,
    kind: MemoryKind | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> MemoryPage:
    """The finished missions whose remembered texts match ``q``, most relevant first.

    ``q`` is the log search's language (``domain.search.parse_query``: words that must all
    match, "phrases", prefix*), matched on word stems. Each mission comes with its outcome,
    cost, lessons and up to ``HITS_PER_MISSION`` matching texts, matches marked. With the
    local embedder, a first page with room left is completed by the missions whose summaries
    mean the most the same (``SEMANTIC_MIN``).

    Raises:
        ValidationFailed: ``q`` cannot be searched, ``limit`` is out of range or ``cursor``
            is not one a page issued (all reported together); nothing is read.
    """
    problems: list[Problem] = []
    try:
        query = parse_query(q)
    except QueryRejected as exc:
        problems.append(Problem("q", str(exc)))
    if not 1 <= limit <= MAX_PAGE:
        problems.append(Problem("limit", f"must be between 1 and {MAX_PAGE}"))
    try:
        offset = _offset(cursor)
    except ValueError:
        problems.append(Problem("cursor", "is not a cursor from a previous page; omit it"))
    if problems:
        raise ValidationFailed(problems)
    nonce = secrets.token_hex(8)
    markers = repo.Markers(start=f"mk{nonce}a", stop=f"mk{nonce}z")
    await ctx.catch_up("memory")
    async with ctx.read() as session:
        ranked = await repo.rank_missions(
            session, query=query, kind=kind, offset=offset, limit=limit + 1
        )
        shown = [r.mission_id for r in ranked[:limit]]
        found = await repo.matching_entries(
            session, query=query, kind=kind, missions=shown, markers=markers
        )
        held = await repo.count_remembered(session)
        hits: dict[uuid.UUID, list[MemoryHit]] = {m: [] for m in shown}
        for entry in found:
            if len(hits[entry.mission_id]) < HITS_PER_MISSION:
                hits[entry.mission_id].append(_hit(entry, markers))
        if offset == 0 and len(shown) < limit and kind is None:
            await _semantic_extra(session, q, hits, limit)
        missions = await read_remembered(session, list(hits))
    items = [
        MemoryResult(**missions[m].model_dump(), hits=h) for m, h in hits.items() if m in missions
    ]
    more = len(ranked) > limit
    next_cursor = str(offset + limit) if more and offset + limit <= MAX_OFFSET else None
    return MemoryPage(items=items, next_cursor=next_cursor, mode=mode(), remembered=held)


def _hit(entry: repo.FoundEntry, markers: repo.Markers) -> MemoryHit:
    """The entry's snippet: its body's matches, or its title's when only the title matched."""
    text, spans = marked_spans(entry.marked_body, start=markers.start, stop=markers.stop)
    if not spans:
        title, title_spans = marked_spans(
            entry.marked_title, start=markers.start, stop=markers.stop
        )
        if title_spans and title == entry.title:
            text, spans = title, title_spans
        else:
            text = entry.body
    if text not in (entry.body, entry.title):
        text, spans = entry.body, []  # not the text it should be: unmarked rather than wrong
    parts = snippet(text, spans)
    return MemoryHit(
        kind=MemoryKind(entry.kind),
        title=entry.title,
        snippet=[SnippetPart(text=p.text, match=p.match) for p in parts],
    )


async def _semantic_extra(
    session: AsyncSession, q: str, hits: dict[uuid.UUID, list[MemoryHit]], limit: int
) -> None:
    """Complete ``hits`` with the summaries nearest to ``q`` in meaning (embedder only)."""
    embedder = load_embedder()
    if embedder is None:
        return
    wanted = embedder.embed([q])[0]
    summaries = await repo.summary_embeddings(session)
    scores = similarities(wanted, [vector for _, vector, _ in summaries])
    near = sorted(
        (
            (score, mission_id, body)
            for score, (mission_id, _, body) in zip(scores, summaries, strict=True)
        ),
        key=lambda item: -item[0],
    )
    for score, mission_id, body in near:
        if len(hits) >= limit or score < SEMANTIC_MIN:
            return
        if mission_id not in hits:
            part = SnippetPart(text=body[:240], match=False)
            hits[mission_id] = [MemoryHit(kind=MemoryKind.summary, title="Summary", snippet=[part])]


async def read_remembered(
    session: AsyncSession, mission_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RememberedMission]:
    """The missions' outcome, cost and lessons (those no longer finished are left out)."""
    rows = await repo.read_remembered(session, mission_ids=mission_ids)
    entries = await repo.read_entries(session, mission_ids=list(rows), kinds=(MemoryKind.lesson,))
    taught: dict[uuid.UUID, list[str]] = {}
    for mission_id, _kind, _title, body, _ref in entries:
        taught.setdefault(mission_id, []).append(body)
    return {
        row.id: RememberedMission(
            mission_id=row.id,
            title=row.title,
            outcome=row.status,
            cost_usd=micros_to_usd(row.spent_micros),
            lessons=taught.get(row.id, []),
            url=f"/missions/{row.id}",
        )
        for row in rows.values()
        if row.status in FINISHED
    }

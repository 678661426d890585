"""Mission memory: what finished missions decided, risked and learned, searched and recalled.

A mission that ends (``completed``, ``failed``, ``canceled``) is remembered as entries (ADR
0055): its summary (title, goal, constraints, stack, outcome, cost), its decisions and risks,
the lessons of its runs (``domain.memory.lessons``) and its documents. The index follows the
log, off the engine's path: :func:`catch_up` re-indexes every mission that an event since the
last call names (a mission that finished, a decision edited after), in transactions of at most
``INDEX_BATCH_EVENTS`` events; the server calls it every few seconds (:func:`memory_indexer`)
and every memory read calls it first, so what was committed before a search is found.

Three readers: :func:`search_memory` (the Memory page, the API, the CLI),
:func:`similar_missions` (a mission's page) and :func:`recollections` (the planning service,
which hands them to the planners).
"""

import logging
import secrets
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.domain.memory import (
    FINISHED,
    MemoryKind,
    RunFact,
    StepFact,
    lessons,
    usd,
)
from missionctl.domain.numbers import ascii_int
from missionctl.domain.search import QueryRejected, marked_spans, parse_query, snippet
from missionctl.errors import Problem, ValidationFailed
from missionctl.llm.embedding import Embedder, load_embedder, similarities
from missionctl.llm.redaction import redact
from missionctl.reading import find_technologies
from missionctl.repositories import memory as repo
from missionctl.schemas.memory import (
    MemoryHit,
    MemoryMode,
    MemoryPage,
    MemoryResult,
    RememberedMission,
)
from missionctl.schemas.search import SnippetPart
from missionctl.services.context import ServiceContext
from missionctl.services.money import micros_to_usd
from missionctl.services.periodic import repeating

log = logging.getLogger(__name__)

INDEX_BATCH_EVENTS = 5_000
"""Events read per indexing transaction: bounds how long one holds SQLite's write lock."""

INDEX_EVERY_S = 5.0
"""How often the server's memory indexer looks for new events."""

MAX_PAGE = 50
"""The most missions one page of a memory search holds."""

MAX_OFFSET = 10_000
"""The deepest page a search cursor may ask for."""

HITS_PER_MISSION = 5
"""The most matching texts a result shows for one mission."""

SEMANTIC_MIN = 0.35
"""The least cosine similarity at which the embedder alone makes a mission similar."""

GOAL_CHARS = 2_000


# --- indexing -------------------------------------------------------------------------------


def _entries(facts: repo.MissionFacts, embedder: Embedder | None) -> list[repo.NewEntry]:
    """What is remembered of a finished mission, every text redacted."""
    mission = facts.mission
    outcome = str(mission.status)
    stack = [
        tech.name for tech in find_technologies("\n".join((mission.goal, *mission.constraints)))
    ]
    summary = [f"{mission.title}. {mission.goal[:GOAL_CHARS]}"]
    if mission.constraints:
        summary.append("Constraints: " + "; ".join(mission.constraints))
    if stack:
        summary.append("Stack: " + ", ".join(stack))
    summary.append(f"Outcome: {outcome}; cost {usd(mission.spent_micros)}")
    entries = [repo.NewEntry(MemoryKind.summary, mission.title, "\n".join(summary))]
    entries += [
        repo.NewEntry(
            MemoryKind.decision,
            d.title,
            "\n".join([d.choice, *(f"Why: {r}" for r in d.reasons), d.context, d.consequences]),
            d.id,
        )
        for d in facts.decisions
    ]
    entries += [
        repo.NewEntry(
            MemoryKind.risk,
            r.title,
            f"{r.description}\nMitigation: {r.mitigation}\n{r.severity} severity, "
            f"{r.likelihood} likelihood; {r.status}",
            r.id,
        )
        for r in facts.risks
    ]
    entries += [
        repo.NewEntry(MemoryKind.lesson, lesson.split(":", 1)[0][:120], lesson)
        for lesson in lessons(outcome=outcome, spent_micros=mission.spent_micros, runs=_runs(facts))
    ]
    entries += [repo.NewEntry(MemoryKind.document, t, body) for t, body in facts.documents]
    entries = [
        repo.NewEntry(
            e.kind, redact(e.title.strip()) or e.kind.value, redact(e.body.strip()), e.ref_id
        )
        for e in entries
    ]
    if embedder is None:
        return entries
    vectors = embedder.embed([f"{e.title}\n{e.body}" for e in entries])
    return [
        repo.NewEntry(e.kind, e.title, e.body, e.ref_id, vector)
        for e, vector in zip(entries, vectors, strict=True)
    ]


def _runs(facts: repo.MissionFacts) -> list[RunFact]:
    steps: dict[uuid.UUID, list[StepFact]] = {}
    for row in facts.steps:
        fact = StepFact(row.step_id, str(row.status), row.attempt, row.cost_micros, row.error)
        steps.setdefault(row.run_id, []).append(fact)
    return [RunFact(str(run.status), tuple(steps.get(run.id, ())), run.error) for run in facts.runs]


async def catch_up(ctx: ServiceContext) -> int:
    """Re-index every mission the events appended since the last call name; the last seq read.

    Each batch is one write transaction on the blocking writer (it takes turns with the
    engine's ticks). A mission that is finished is remembered afresh; one that is not (it is
    planned or run again) is forgotten until it finishes. Raises what the database raises;
    the entries and the cursor commit together.
    """
    embedder = load_embedder()

    def batch(session: Session) -> tuple[int, int]:
        touched, upto, head = repo.missions_touched(session, max_events=INDEX_BATCH_EVENTS)
        for mission_id in touched:
            facts = repo.read_facts(session, mission_id=mission_id)
            entries = _entries(facts, embedder) if facts is not None else []
            repo.replace_entries(session, mission_id=mission_id, entries=entries)
        repo.advance(session, upto=upto)
        return upto, head

    while True:
        upto, head = await ctx.write_blocking(batch)
        if upto >= head:
            return upto


async def catch_up_quietly(ctx: ServiceContext) -> bool:
    """:func:`catch_up` if the log is ahead, logging instead of raising; whether it is current.

    A read finds first whether there is anything to do, so a search takes no write turn
    while the log stands still.
    """
    try:
        async with ctx.read() as session:
            if not await repo.behind(session):
                return True
        await catch_up(ctx)
    except Exception:
        log.warning("mission memory could not catch up with the log", exc_info=True)
        return False
    return True


def memory_indexer(
    ctx: ServiceContext, *, every_s: float = INDEX_EVERY_S
) -> AbstractAsyncContextManager[None]:
    """Catch memory up every ``every_s`` while the block runs (the server's lifespan)."""
    return repeating(lambda: catch_up(ctx), every_s=every_s, what="mission memory catching up")


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
    await catch_up_quietly(ctx)
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

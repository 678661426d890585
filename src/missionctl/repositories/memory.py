"""Mission memory's SQL: the entries of finished missions and their search.

The index (``memory_entries``, revision 0020, ADR 0055) follows the log like the log search
(ADR 0047): :func:`missions_named` reads which missions a window of events names and its
follower re-indexes those (:func:`replace_entries`) as it moves its cursor. This module is the
only one that reads or writes the index, with each dialect's own SQL behind one function per
question: FTS5 ``MATCH``, ``bm25()`` and
``highlight()`` on SQLite (Porter stems), ``tsvector @@ tsquery``, ``ts_rank_cd`` and
``ts_headline`` over English stems on PostgreSQL.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Decision, Document, Mission, Plan, Risk, Run, StepRun
from missionctl.db.plans import CUSTOM_PLANS
from missionctl.domain.memory import FINISHED, MemoryKind
from missionctl.domain.search import SearchQuery, Term

_METADATA = MetaData()
ENTRIES = Table(
    "memory_entries",
    _METADATA,
    Column("id", Integer, primary_key=True),
    Column("mission_id", Uuid, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("ref_id", Uuid),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("embedding", LargeBinary),
)
"""The entries (revision 0020): a table no ORM model maps (``UNMAPPED_TABLES``)."""

TITLE_CHARS = 300

MAX_RANKED = 2_000
"""The newest matching entries a search scores (see ``rank_missions``)."""


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to remember: what it is, its title and text, the item it comes from."""

    kind: MemoryKind
    title: str
    body: str
    ref_id: uuid.UUID | None = None
    embedding: bytes | None = None


class StepRow(NamedTuple):
    """A step of one of the mission's runs, as its lesson needs it."""

    run_id: uuid.UUID
    step_id: str
    status: str
    attempt: int
    cost_micros: int
    error: str | None


@dataclass(frozen=True, slots=True)
class MissionFacts:
    """What is remembered of a finished mission, read in the indexer's transaction."""

    mission: Mission
    decisions: Sequence[Decision]
    risks: Sequence[Risk]
    runs: Sequence[Run]
    steps: Sequence[StepRow]
    documents: Sequence[tuple[str, str]]


def _postgresql(session: Session | AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _custom_plans(session: AsyncSession) -> None:
    """On PostgreSQL, plan each statement for its words (``db.plans.CUSTOM_PLANS``).

    The generic plan ignores how rare the words are and walks every entry by id (75 ms at
    10,000 missions instead of 3, measured with ``bench/memory.py``).
    """
    await session.execute(CUSTOM_PLANS)


# --- indexing (blocking, in the indexer's write transaction) -------------------------------


def missions_named(session: Session, *, after: int, upto: int) -> list[uuid.UUID]:
    """The missions the events ``after < seq <= upto`` name, in id order."""
    rows = session.execute(
        text(
            "SELECT DISTINCT mission_id FROM events WHERE seq > :last AND seq <= :upto "
            "AND mission_id IS NOT NULL"
        ).columns(mission_id=Uuid),
        {"last": after, "upto": upto},
    )
    return sorted(row.mission_id for row in rows)


def read_facts(session: Session, *, mission_id: uuid.UUID) -> MissionFacts | None:
    """What memory keeps of ``mission_id``, or ``None`` unless it is finished.

    Its decisions and risks are those of its newest plan and those people added (the
    decision log's and risk register's, ADR 0051); its steps are every run's.
    """
    mission = session.get(Mission, mission_id)
    if mission is None or mission.status not in FINISHED:
        return None
    plan_id = session.scalar(
        select(Plan.id).where(Plan.mission_id == mission_id).order_by(Plan.version.desc()).limit(1)
    )
    decisions = _current(session, Decision, mission_id, plan_id)
    risks = _current(session, Risk, mission_id, plan_id)
    runs = session.scalars(select(Run).where(Run.mission_id == mission_id).order_by(Run.id)).all()
    steps = session.execute(
        select(
            StepRun.run_id,
            StepRun.step_id,
            StepRun.status,
            StepRun.attempt,
            StepRun.cost_micros + StepRun.earlier_cost_micros,
            StepRun.error,
        )
        .join(Run, Run.id == StepRun.run_id)
        .where(Run.mission_id == mission_id)
        .order_by(StepRun.run_id, StepRun.id)
    ).all()
    return MissionFacts(
        mission=mission,
        decisions=decisions,
        risks=risks,
        runs=runs,
        steps=[StepRow(*row) for row in steps],
        documents=mission_documents(session, mission_id=mission_id),
    )


def _current(
    session: Session, model: type[Decision] | type[Risk], mission_id: uuid.UUID, plan: Any
) -> Sequence[Any]:
    added = model.plan_id.is_(None)
    where = added if plan is None else (added | (model.plan_id == plan))
    query = select(model).where(model.mission_id == mission_id, where).order_by(model.id)
    return session.scalars(query).all()


def mission_documents(session: Session, *, mission_id: uuid.UUID) -> list[tuple[str, str]]:
    """The mission's documents memory indexes: ``(title, text)`` of each kind's newest version.

    Versions are never edited (ADR 0053), so the newest version of a kind is what the mission
    says of it; older versions are history, not memory.
    """
    newest = (
        select(Document.kind, func.max(Document.version).label("version"))
        .where(Document.mission_id == mission_id)
        .group_by(Document.kind)
        .subquery()
    )
    query = (
        select(Document.title, Document.body)
        .join(
            newest,
            (Document.kind == newest.c.kind) & (Document.version == newest.c.version),
        )
        .where(Document.mission_id == mission_id)
        .order_by(Document.kind)
    )
    return [(title, body) for title, body in session.execute(query)]


def replace_entries(
    session: Session, *, mission_id: uuid.UUID, entries: Sequence[NewEntry]
) -> None:
    """Forget what was remembered of ``mission_id`` and remember ``entries`` instead."""
    session.execute(delete(ENTRIES).where(ENTRIES.c.mission_id == mission_id))
    if not entries:
        return
    session.execute(
        insert(ENTRIES),
        [
            {
                "mission_id": mission_id,
                "kind": entry.kind.value,
                "ref_id": entry.ref_id,
                "title": entry.title[:TITLE_CHARS],
                "body": entry.body,
                "scope": f"k{entry.kind.value} m{mission_id.hex}",
                "embedding": entry.embedding,
            }
            for entry in entries
        ],
    )


def insert_entries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert prepared entry rows as they are (the benchmark's bulk seeding)."""
    session.execute(insert(ENTRIES), list(rows))


# --- reading ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Markers:
    """The texts the database puts before and after each match."""

    start: str
    stop: str


class FoundEntry(NamedTuple):
    """An entry that matched, its title and body with the matches between the markers."""

    id: int
    mission_id: uuid.UUID
    kind: str
    title: str
    body: str
    marked_title: str
    marked_body: str


class RankedMission(NamedTuple):
    """A mission and how well its entries matched (higher is better, on each dialect)."""

    mission_id: uuid.UUID
    score: float


class Remembered(NamedTuple):
    """A remembered mission's own facts."""

    id: uuid.UUID
    title: str
    status: str
    spent_micros: int


def _fts5_term(term: Term) -> str:
    # Words are letters and digits only (``parse_query``): a quoted string cannot break out.
    phrase = '"' + " ".join(term.words) + '"'
    return phrase + " *" if term.prefix else phrase


def _tsquery_term(term: Term) -> str:
    lexemes = [f"'{word}'" for word in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def _match(query: SearchQuery, kind: MemoryKind | None, missions: Sequence[uuid.UUID]) -> str:
    match = "{title body} : (" + " AND ".join(_fts5_term(t) for t in query.terms) + ")"
    if kind is not None:
        match += f' AND scope : "k{kind.value}"'
    if missions:
        match += " AND scope : (" + " OR ".join(f'"m{m.hex}"' for m in missions) + ")"
    return match


async def rank_missions(
    session: AsyncSession,
    *,
    query: SearchQuery,
    kind: MemoryKind | None,
    offset: int,
    limit: int,
) -> list[RankedMission]:
    """The missions whose entries match every term of ``query``, best first, a page of them.

    A mission's score is its best entry's (FTS5's ``bm25`` negated, title weighted 4;
    PostgreSQL's ``ts_rank_cd``, title weight A); ties go by mission id. Only the newest
    :data:`MAX_RANKED` matching entries are scored: a query that matches more texts than that
    says little, and scoring them all would cost time in proportion (ADR 0055).
    """
    if _postgresql(session):
        await _custom_plans(session)
        kind_filter = " AND kind = :kind" if kind is not None else ""
        statement = (
            "WITH q AS (SELECT to_tsquery('english', :tsquery) AS q), "
            "hits AS MATERIALIZED (SELECT id FROM memory_entries, q WHERE document @@ q.q"
            + kind_filter
            + " ORDER BY id DESC LIMIT :cap) "
            "SELECT e.mission_id AS mission_id, max(ts_rank_cd(e.document, q.q)) AS score "
            "FROM hits JOIN memory_entries AS e ON e.id = hits.id, q GROUP BY e.mission_id "
            "ORDER BY score DESC, e.mission_id LIMIT :limit OFFSET :offset"
        )
        params: dict[str, Any] = {
            "tsquery": " & ".join(_tsquery_term(t) for t in query.terms),
            "kind": kind.value if kind is not None else None,
        }
    else:
        # bm25() cannot be an aggregate's argument: the matches are scored first, apart; FTS5
        # walks them newest first and scores only those it returns.
        statement = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25(memory_fts, 4.0, 1.0, 0.0) "
            "AS rank FROM memory_fts WHERE memory_fts MATCH :match ORDER BY rowid DESC "
            "LIMIT :cap) SELECT e.mission_id AS mission_id, -min(hits.rank) AS score "
            "FROM hits JOIN memory_entries AS e ON e.id = hits.id GROUP BY e.mission_id "
            "ORDER BY score DESC, e.mission_id LIMIT :limit OFFSET :offset"
        )
        params = {"match": _match(query, kind, ())}
    params |= {"limit": limit, "offset": offset, "cap": MAX_RANKED}
    rows = await session.execute(text(statement).columns(mission_id=Uuid), params)
    return [RankedMission(row.mission_id, float(row.score)) for row in rows]


SNIPPET_WORDS = 40
"""Words of an entry's body around its matches that a search returns on SQLite (a body may be
a whole document: marking all of it cost more than the search)."""
MARKED_CHARS = 20_000
"""Characters of an entry's body PostgreSQL marks matches in, for the same reason (a match
further on still finds the entry; its snippet then comes from the title or the start)."""


async def matching_entries(
    session: AsyncSession,
    *,
    query: SearchQuery,
    kind: MemoryKind | None,
    missions: Sequence[uuid.UUID],
    markers: Markers,
) -> list[FoundEntry]:
    """The entries of ``missions`` matching ``query``, best first, matches marked."""
    if not missions:
        return []
    if _postgresql(session):
        await _custom_plans(session)
        marks = f"StartSel={markers.start}, StopSel={markers.stop}"
        statement = (
            "SELECT id, mission_id, kind, title, body, "
            "ts_headline('english', title, q, :options) AS marked_title, "
            "ts_headline('english', left(body, :chars), q, :options) AS marked_body "
            "FROM memory_entries, to_tsquery('english', :tsquery) AS q "
            "WHERE document @@ q AND mission_id IN :missions"
            + (" AND kind = :kind" if kind is not None else "")
            + " ORDER BY ts_rank_cd(document, q) DESC, id"
        )
        params: dict[str, Any] = {
            "options": f"HighlightAll=true, {marks}",
            # A body may be a whole document: its first part is marked, not all of it.
            "chars": MARKED_CHARS,
            "tsquery": " & ".join(_tsquery_term(t) for t in query.terms),
            "missions": list(missions),
            "kind": kind.value if kind is not None else None,
        }
        bound = text(statement).bindparams(bindparam("missions", expanding=True, type_=Uuid))
    else:
        statement = (
            "SELECT e.id AS id, e.mission_id AS mission_id, e.kind AS kind, e.title AS title, "
            "e.body AS body, highlight(memory_fts, 0, :start, :stop) AS marked_title, "
            "snippet(memory_fts, 1, :start, :stop, '…', :words) AS marked_body "
            "FROM memory_fts JOIN memory_entries AS e ON e.id = memory_fts.rowid "
            "WHERE memory_fts MATCH :match ORDER BY bm25(memory_fts, 4.0, 1.0, 0.0), e.id"
        )
        params = {
            "match": _match(query, kind, missions),
            "start": markers.start,
            "stop": markers.stop,
            "words": SNIPPET_WORDS,
        }
        bound = text(statement)
    rows = await session.execute(bound.columns(mission_id=Uuid), params)
    return [FoundEntry(*row) for row in rows]


async def similar_summaries(
    session: AsyncSession, *, words: Sequence[str], exclude: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, float, str]]:
    """The summaries sharing any of ``words``, most relevant first: (mission, score, body).

    ``words`` are letters and digits only (``domain.memory.significant_words``). Like a
    search, only the newest :data:`MAX_RANKED` summaries that share a word are scored.
    """
    if not words:
        return []
    if _postgresql(session):
        await _custom_plans(session)
        statement = (
            "WITH q AS (SELECT to_tsquery('english', :tsquery) AS q), "
            "hits AS MATERIALIZED (SELECT id FROM memory_entries, q WHERE document @@ q.q "
            "AND kind = 'summary' AND mission_id <> :exclude ORDER BY id DESC LIMIT :cap) "
            # ts_rank, not ts_rank_cd: cover density over an OR of many words costs three
            # times as much (128 ms against 42 for 2,000 summaries) and ranks alike here.
            "SELECT e.mission_id AS mission_id, ts_rank(e.document, q.q) AS score, "
            "e.body AS body FROM hits JOIN memory_entries AS e ON e.id = hits.id, q "
            "ORDER BY score DESC, e.mission_id LIMIT :limit"
        )
        params: dict[str, Any] = {"tsquery": " | ".join(f"'{w}'" for w in words)}
    else:
        statement = (
            "WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25(memory_fts, 4.0, 1.0, 0.0) "
            "AS rank FROM memory_fts WHERE memory_fts MATCH :match ORDER BY rowid DESC "
            "LIMIT :cap) SELECT e.mission_id AS mission_id, -hits.rank AS score, "
            "e.body AS body FROM hits JOIN memory_entries AS e ON e.id = hits.id "
            "WHERE e.mission_id <> :exclude ORDER BY hits.rank, e.mission_id LIMIT :limit"
        )
        ors = " OR ".join(f'"{w}"' for w in words)
        params = {"match": "{title body} : (" + ors + ') AND scope : "ksummary"'}
    params["cap"] = MAX_RANKED
    params |= {"exclude": exclude or uuid.UUID(int=0), "limit": limit}
    bound = text(statement).bindparams(bindparam("exclude", type_=Uuid))
    rows = await session.execute(bound.columns(mission_id=Uuid), params)
    return [(row.mission_id, float(row.score), row.body) for row in rows]


async def summary_embeddings(session: AsyncSession) -> list[tuple[uuid.UUID, bytes, str]]:
    """Every summary's embedding, with its mission and body (the semantic ranking's input)."""
    query = select(ENTRIES.c.mission_id, ENTRIES.c.embedding, ENTRIES.c.body).where(
        ENTRIES.c.kind == MemoryKind.summary.value, ENTRIES.c.embedding.is_not(None)
    )
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def read_remembered(
    session: AsyncSession, *, mission_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Remembered]:
    """The missions ``mission_ids``' title, status and cost, by id (unknown ones left out)."""
    if not mission_ids:
        return {}
    query = select(Mission.id, Mission.title, Mission.status, Mission.spent_micros).where(
        Mission.id.in_(mission_ids)
    )
    return {
        row[0]: Remembered(row[0], row[1], str(row[2]), row[3])
        for row in await session.execute(query)
    }


async def read_entries(
    session: AsyncSession, *, mission_ids: Sequence[uuid.UUID], kinds: Sequence[MemoryKind]
) -> list[tuple[uuid.UUID, str, str, str, uuid.UUID | None]]:
    """The entries of ``kinds`` of ``mission_ids``: (mission, kind, title, body, ref id)."""
    if not mission_ids:
        return []
    query = (
        select(
            ENTRIES.c.mission_id, ENTRIES.c.kind, ENTRIES.c.title, ENTRIES.c.body, ENTRIES.c.ref_id
        )
        .where(
            ENTRIES.c.mission_id.in_(mission_ids),
            ENTRIES.c.kind.in_([k.value for k in kinds]),
        )
        .order_by(ENTRIES.c.id)
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in await session.execute(query)]


async def count_remembered(session: AsyncSession) -> int:
    """How many missions memory holds: the finished ones (through the status index)."""
    query = select(func.count()).select_from(Mission).where(Mission.status.in_(FINISHED))
    return int((await session.execute(query)).scalar_one())


async def mission_titles(
    session: AsyncSession, *, mission_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The titles of ``mission_ids`` (unknown ids left out)."""
    if not mission_ids:
        return {}
    query = select(Mission.id, Mission.title).where(Mission.id.in_(set(mission_ids)))
    return {row[0]: row[1] for row in await session.execute(query)}


async def read_decision_rows(
    session: AsyncSession, *, ids: Sequence[uuid.UUID]
) -> Sequence[Decision]:
    """The decisions with these ids, in id order (unknown ids left out)."""
    if not ids:
        return ()
    query = select(Decision).where(Decision.id.in_(set(ids))).order_by(Decision.id)
    return (await session.scalars(query)).all()


async def read_risk_rows(session: AsyncSession, *, ids: Sequence[uuid.UUID]) -> Sequence[Risk]:
    """The risks with these ids, in id order (unknown ids left out)."""
    if not ids:
        return ()
    return (
        await session.scalars(select(Risk).where(Risk.id.in_(set(ids))).order_by(Risk.id))
    ).all()

"""Text search: the ``LIKE`` pattern of list search boxes, and the full-text log search.

The full-text index (``search_entries``, revisions 0011 and 0015, ADRs 0041 and 0047) follows
the log: ``index_events`` copies the entries of the events its follower has not read yet from
the ``search_entries_source`` view, which defines them. This module is the only one that
reads or writes the index, with each dialect's own SQL behind one function,
``search_entries``: FTS5 ``MATCH`` and ``highlight()`` on SQLite, ``tsvector @@ tsquery`` and
``ts_headline`` on PostgreSQL. Both return entries newest first (by id, which follows the
log's ``seq``) and the text with the matches between two markers.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from missionctl.db.models import Event
from missionctl.db.plans import CUSTOM_PLANS
from missionctl.domain.search import SearchKind, SearchQuery, Term

LINES_PER_EVENT = 65536
"""An entry's id is ``seq * LINES_PER_EVENT + line`` (revision 0011)."""

LOG_TYPE = "step.log"
ERROR_TYPES = (
    "step.failed",
    "step.retry_scheduled",
    "step.lease_expired",
    "run.completed",
    "run.failed",
    "run.canceled",
    "run.aborted",
)
REASON_TYPES = (
    "run.paused",
    "run.resumed",
    "step.canceled",
    "step.skipped",
    "step.held",
    "approval.approved",
    "approval.rejected",
)
SEARCHED_TYPES = (LOG_TYPE, *ERROR_TYPES, *REASON_TYPES)
"""The event types whose text is indexed (revision 0011 keeps its own copy)."""

_SQLITE_COLUMNS = "rowid, body, scope, kind, level, attempt"
_POSTGRESQL_COLUMNS = "id, seq, kind, level, attempt, run_id, mission_id, body"


def index_events(session: Session, *, after: int, upto: int) -> None:
    """Copy the entries of the events ``after < seq <= upto`` into ``search_entries``.

    In the caller's write transaction, which moves the index's cursor with them
    (``services.followers.search_index``).
    """
    columns = (
        _POSTGRESQL_COLUMNS if session.get_bind().dialect.name == "postgresql" else _SQLITE_COLUMNS
    )
    session.execute(
        text(
            f"INSERT INTO search_entries ({columns}) SELECT {columns} FROM search_entries_source "
            "WHERE event_seq > :last AND event_seq <= :upto ORDER BY 1"
        ),
        {"last": after, "upto": upto},
    )


def search_pattern(text: str) -> str:
    r"""The ``LIKE`` pattern (escape character ``\``) finding ``text`` anywhere in a column.

    Wildcards are escaped so that a search for "50%" or "a_b" means that text.
    """
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True, slots=True)
class EntryFilters:
    """What narrows a search; ``None`` means any."""

    kind: SearchKind | None = None
    run_id: uuid.UUID | None = None
    mission_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Markers:
    """The texts the database puts before and after each match."""

    start: str
    stop: str


class FoundEntry(NamedTuple):
    """An entry that matched, with its event's envelope."""

    id: int
    kind: str
    level: str | None
    attempt: int | None
    body: str
    marked: str  # ``body`` with the matches between the markers (see ``search_entries``)
    seq: int
    ts: datetime
    type: str
    run_id: uuid.UUID
    mission_id: uuid.UUID | None
    step_id: str | None


async def search_entries(
    session: AsyncSession,
    *,
    query: SearchQuery,
    filters: EntryFilters,
    markers: Markers,
    before_id: int | None,
    limit: int,
) -> list[FoundEntry]:
    """The newest ``limit`` entries matching ``query`` and ``filters``, below ``before_id``.

    ``marked`` is the entry's text with every match between ``markers``; on PostgreSQL it is
    the text as indexed (ASCII punctuation as spaces, same length and offsets as ``body``).
    """
    if session.get_bind().dialect.name == "postgresql":
        # A plan for these words, never the generic one of a prepared statement: whether to
        # walk the newest entries (a common word) or the GIN index (a rare one) depends on them.
        await session.execute(CUSTOM_PLANS)
        statement, params = _postgresql_search(query, filters, markers)
    else:
        statement, params = _sqlite_search(query, filters, markers)
    params |= {"before_id": before_id if before_id is not None else 2**63 - 1, "limit": limit}
    rows = (await session.execute(text(statement), params)).all()
    envelopes = await _envelopes(session, seqs=[row.id // LINES_PER_EVENT for row in rows])
    found: list[FoundEntry] = []
    for row in rows:
        event = envelopes[row.id // LINES_PER_EVENT]
        found.append(
            FoundEntry(
                row.id,
                row.kind,
                row.level,
                None if row.attempt is None else int(row.attempt),
                row.body,
                row.marked,
                event.seq,
                event.ts,
                event.type,
                event.run_id,
                event.mission_id,
                event.step_id,
            )
        )
    return found


async def _envelopes(session: AsyncSession, *, seqs: Sequence[int]) -> dict[int, Any]:
    """The events ``seqs`` (without their payloads, a log batch's may be large), by seq."""
    if not seqs:
        return {}
    rows = await session.execute(
        select(
            Event.seq, Event.ts, Event.type, Event.run_id, Event.mission_id, Event.step_id
        ).where(Event.seq.in_(set(seqs)))
    )
    return {row.seq: row for row in rows}


def _fts5_term(term: Term) -> str:
    # Words are letters and digits only (``parse_query``): a quoted string cannot break out.
    phrase = '"' + " ".join(term.words) + '"'
    return phrase + " *" if term.prefix else phrase


def _sqlite_search(
    query: SearchQuery, filters: EntryFilters, markers: Markers
) -> tuple[str, dict[str, Any]]:
    match = "body : (" + " AND ".join(_fts5_term(term) for term in query.terms) + ")"
    scope = []
    if filters.kind is not None:
        scope.append(f'"k{filters.kind.value}"')
    if filters.run_id is not None:
        scope.append(f'"r{filters.run_id.hex}"')
    if filters.mission_id is not None:
        scope.append(f'"m{filters.mission_id.hex}"')
    if scope:
        match += " AND scope : (" + " AND ".join(scope) + ")"
    # FTS5 walks the matches by rowid, newest first, and stops at the limit.
    statement = (
        "SELECT rowid AS id, kind, level, attempt, body, "
        "highlight(search_entries, 0, :start, :stop) AS marked "
        "FROM search_entries WHERE search_entries MATCH :match AND rowid < :before_id "
        "ORDER BY rowid DESC LIMIT :limit"
    )
    return statement, {"match": match, "start": markers.start, "stop": markers.stop}


def _tsquery_term(term: Term) -> str:
    # Words are letters and digits only (``parse_query``): no quote or operator reaches here.
    lexemes = [f"'{word}'" for word in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return " <-> ".join(lexemes)


def _postgresql_search(
    query: SearchQuery, filters: EntryFilters, markers: Markers
) -> tuple[str, dict[str, Any]]:
    conditions = ["document @@ to_tsquery('simple', :tsquery)", "id < :before_id"]
    params: dict[str, Any] = {
        "tsquery": " & ".join(_tsquery_term(term) for term in query.terms),
        "options": f"HighlightAll=true, StartSel={markers.start}, StopSel={markers.stop}",
    }
    for name, value in (
        ("kind", filters.kind),
        ("run_id", filters.run_id),
        ("mission_id", filters.mission_id),
    ):
        if value is not None:
            conditions.append(f"{name} = :{name}")
            params[name] = value.value if isinstance(value, SearchKind) else value
    # The page first, then the headlines of its rows only.
    statement = (
        "SELECT id, kind, level, attempt, body, ts_headline('simple', search_text(body), "
        "to_tsquery('simple', :tsquery), :options) AS marked FROM ("
        "SELECT id, kind, level, attempt, body FROM search_entries WHERE "
        + " AND ".join(conditions)
        + " ORDER BY id DESC LIMIT :limit) AS page ORDER BY id DESC"
    )
    return statement, params

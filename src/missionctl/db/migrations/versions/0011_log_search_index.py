"""Full-text search over step log lines, errors and the reasons of run events (ADR 0041).

``search_entries`` holds one entry per searchable text of an event of a run: each line of a
``step.log`` (kind ``log``), the ``error`` of a step or run event (kind ``error``), the
``reason`` of a run, step or approval event (kind ``event``). An entry's ``id`` is
``seq * 65536 + line`` (a log line's index in its batch; 0 for an error, 1 for a reason), so
entries sort in the log's order and a page's cursor is an id on both databases.

Triggers on ``events`` write the entries in the appending transaction: the index is never
behind the log, survives restarts and crashes with it, and covers every appender. Only the
types in ``SEARCHED_TYPES`` fire them (a comparison of the type per event on the hot path).
The upgrade indexes the events already in the log.

SQLite: an FTS5 table (``unicode61`` tokens: letters and digits; case folded). ``scope`` holds
the filters as tokens (``k<kind>``, ``r<run id>``, ``m<mission id>``) so that a filtered search
is one full-text lookup. PostgreSQL: a table whose ``document`` is a stored ``tsvector`` of the
text with ASCII punctuation turned into spaces (``search_text``), so that both databases split
``db.example.com:5432`` into the same words; a GIN index on it, and B-tree indexes for the run
and mission filters.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 07:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
# Lines past this index in one batch are not indexed: ids would run into the next event's.
LINES_PER_EVENT = 65536
# The characters ``search_text`` turns into spaces on PostgreSQL (SQLite's tokenizer already
# splits on them): every printable ASCII character that is neither a letter nor a digit.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


# PostgreSQL reads no string of a ``json`` value holding the escape ``\u0000`` (NUL cannot be
# text): the payload is indexed with each such escape replaced by ``\ufffd``. Both escapes are
# six characters of one shape, so the JSON stays valid whatever precedes them.
_NUL_ESCAPE, _REPLACEMENT_ESCAPE = "\\u0000", "\\ufffd"
# The event's attempt, when it is a small whole number (anything else would fail the cast).
_ATTEMPT = (
    "CASE WHEN json_typeof($5 -> 'attempt') = 'number' AND ($5 ->> 'attempt') ~ '^[0-9]{1,9}$' "
    "THEN ($5 ->> 'attempt')::integer END"
)


def _readable(payload: str) -> str:
    """SQL: the ``json`` value ``payload`` with every NUL escape replaced (see above)."""
    return (
        f"CASE WHEN strpos(({payload})::text, '{_NUL_ESCAPE}') = 0 THEN {payload} "
        f"ELSE replace(({payload})::text, '{_NUL_ESCAPE}', '{_REPLACEMENT_ESCAPE}')::json END"
    )


def _in_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _create_postgresql()
    else:
        _create_sqlite()


def _sqlite_selects(row: str, source: str) -> list[str]:
    """The rows that index an event, one SELECT per kind.

    Args:
        row: the event's name in the SELECTs (``NEW`` in the trigger, ``events`` in the backfill).
        source: what the SELECTs read besides a log batch's lines (``events`` or nothing).
    """

    def scope(kind: str) -> str:
        return f"'k{kind} r' || {row}.run_id || coalesce(' m' || {row}.mission_id, '')"

    # The attempt, when it is a whole number (the column is an integer's).
    attempt = (
        f"CASE WHEN json_type({row}.payload, '$.attempt') = 'integer' "
        f"THEN json_extract({row}.payload, '$.attempt') END"
    )
    events = f"{source}, " if source else ""
    where_events = f"{row}.run_id IS NOT NULL AND " if source else ""
    from_events = f"FROM {source} WHERE {where_events}" if source else "WHERE "
    return [
        f"SELECT {row}.seq * {LINES_PER_EVENT} + line.key, "
        "json_extract(line.value, '$.message'), "
        f"{scope('log')}, 'log', "
        f"substr(json_extract(line.value, '$.level'), 1, 16), {attempt} "
        f"FROM {events}json_each({row}.payload, '$.lines') AS line "
        f"WHERE {where_events}{row}.type = '{LOG_TYPE}' AND line.key < {LINES_PER_EVENT} "
        "AND line.type = 'object' AND json_type(line.value, '$.message') = 'text'",
        f"SELECT {row}.seq * {LINES_PER_EVENT}, json_extract({row}.payload, '$.error'), "
        f"{scope('error')}, 'error', NULL, {attempt} "
        f"{from_events}{row}.type IN ({_in_list(ERROR_TYPES)}) "
        f"AND json_type({row}.payload, '$.error') = 'text'",
        f"SELECT {row}.seq * {LINES_PER_EVENT} + 1, json_extract({row}.payload, '$.reason'), "
        f"{scope('event')}, 'event', NULL, {attempt} "
        f"{from_events}{row}.type IN ({_in_list(REASON_TYPES)}) "
        f"AND json_type({row}.payload, '$.reason') = 'text'",
    ]


_SQLITE_COLUMNS = "rowid, body, scope, kind, level, attempt"


def _create_sqlite() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE search_entries USING fts5("
        "body, scope, kind UNINDEXED, level UNINDEXED, attempt UNINDEXED, "
        "tokenize = 'unicode61 remove_diacritics 0')"
    )
    # The events already in the log, in id order (FTS5 builds its index fastest that way).
    union = " UNION ALL ".join(_sqlite_selects("events", "events"))
    op.execute(f"INSERT INTO search_entries ({_SQLITE_COLUMNS}) {union} ORDER BY 1")
    inserts = "; ".join(
        f"INSERT INTO search_entries ({_SQLITE_COLUMNS}) {select}"
        for select in _sqlite_selects("NEW", "")
    )
    op.execute(
        "CREATE TRIGGER events_search_entries AFTER INSERT ON events "
        f"WHEN NEW.type IN ({_in_list(SEARCHED_TYPES)}) AND NEW.run_id IS NOT NULL "
        f"BEGIN {inserts}; END"
    )


_PG_COLUMNS = "id, seq, kind, level, attempt, run_id, mission_id, body"


def _create_postgresql() -> None:
    punctuation = PUNCTUATION.replace("'", "''")
    op.execute(
        "CREATE FUNCTION search_text(body text) RETURNS text LANGUAGE sql IMMUTABLE "
        f"PARALLEL SAFE RETURN translate(body, '{punctuation}', '{' ' * len(PUNCTUATION)}')"
    )
    op.execute(
        """
        CREATE TABLE search_entries (
            id bigint PRIMARY KEY,
            seq bigint NOT NULL,
            kind varchar(8) NOT NULL,
            level varchar(16),
            attempt integer,
            run_id uuid NOT NULL,
            mission_id uuid,
            body text NOT NULL,
            document tsvector GENERATED ALWAYS AS
                (to_tsvector('simple'::regconfig, search_text(body))) STORED
        )
        """
    )
    # One definition of an event's entries, for the trigger and the backfill.
    op.execute(
        f"""
        CREATE FUNCTION search_entries_of(
            event_seq bigint, event_type text, event_run uuid, event_mission uuid,
            event_payload json
        ) RETURNS TABLE (
            id bigint, seq bigint, kind text, level text, attempt integer, run_id uuid,
            mission_id uuid, body text
        ) LANGUAGE sql STABLE AS $$
            SELECT $1 * {LINES_PER_EVENT} + line.n - 1, $1, 'log',
                left(line.value ->> 'level', 16),
                {_ATTEMPT}, $3, $4, line.value ->> 'message'
            FROM json_array_elements(CASE WHEN $2 = '{LOG_TYPE}'
                    AND json_typeof($5 -> 'lines') = 'array' THEN $5 -> 'lines' ELSE '[]' END)
                WITH ORDINALITY AS line (value, n)
            WHERE line.n <= {LINES_PER_EVENT} AND json_typeof(line.value) = 'object'
                AND json_typeof(line.value -> 'message') = 'string'
            UNION ALL
            SELECT $1 * {LINES_PER_EVENT}, $1, 'error', NULL, {_ATTEMPT}, $3, $4, $5 ->> 'error'
            WHERE $2 IN ({_in_list(ERROR_TYPES)}) AND json_typeof($5 -> 'error') = 'string'
            UNION ALL
            SELECT $1 * {LINES_PER_EVENT} + 1, $1, 'event', NULL, {_ATTEMPT}, $3, $4,
                $5 ->> 'reason'
            WHERE $2 IN ({_in_list(REASON_TYPES)}) AND json_typeof($5 -> 'reason') = 'string'
        $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION events_search_entries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_entries ({_PG_COLUMNS})
            SELECT * FROM search_entries_of(
                NEW.seq, NEW.type, NEW.run_id, NEW.mission_id, {_readable("NEW.payload")});
            RETURN NULL;
        END
        $$
        """
    )
    # The events already in the log; the indexes are built after, over all of them at once.
    op.execute(
        f"INSERT INTO search_entries ({_PG_COLUMNS}) SELECT entry.* FROM events, "
        "LATERAL search_entries_of(events.seq, events.type, events.run_id, events.mission_id, "
        f"{_readable('events.payload')}) AS entry "
        f"WHERE events.type IN ({_in_list(SEARCHED_TYPES)}) AND events.run_id IS NOT NULL"
    )
    op.execute(
        "CREATE TRIGGER events_search_entries AFTER INSERT ON events FOR EACH ROW "
        f"WHEN (NEW.type IN ({_in_list(SEARCHED_TYPES)}) AND NEW.run_id IS NOT NULL) "
        "EXECUTE FUNCTION events_search_entries()"
    )
    op.execute("CREATE INDEX ix_search_entries_document ON search_entries USING gin (document)")
    op.execute("CREATE INDEX ix_search_entries_run_id_id ON search_entries (run_id, id)")
    op.execute("CREATE INDEX ix_search_entries_mission_id_id ON search_entries (mission_id, id)")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_search_entries ON events")
        op.execute("DROP FUNCTION IF EXISTS events_search_entries()")
        op.execute("DROP FUNCTION IF EXISTS search_entries_of(bigint, text, uuid, uuid, json)")
        op.execute("DROP TABLE IF EXISTS search_entries")
        op.execute("DROP FUNCTION IF EXISTS search_text(text)")
        return
    op.execute("DROP TRIGGER IF EXISTS events_search_entries")
    op.execute("DROP TABLE IF EXISTS search_entries")

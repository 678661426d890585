"""Events are appended only at the chain head, and the database itself advances the head.

Until now the appender read the head (``event_log_head``), inserted the events and moved the
head; the database accepted any row. A row inserted past the head with ``seq = max(seq) + 1``
was therefore accepted, ignored by ``audit verify`` (which stopped at the head) and served as
an event; and every later append collided with it on ``seq``.

Now the database refuses an event unless its ``seq`` is the head's ``last_seq + 1`` and its
``prev_hash`` the head's ``last_hash`` (or, within one statement, the previous row's), and moves
the head itself. On SQLite a ``BEFORE INSERT`` row trigger checks each row against the head its
predecessor left and an ``AFTER INSERT`` row trigger moves the head, so the rows of one
``executemany`` follow each other. On
PostgreSQL one ``AFTER INSERT`` statement trigger checks every row the statement added and moves
the head once (the appender inserts a batch in one statement; see
``_create_postgresql_trigger``). The appender no longer updates the head.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT_HEAD_MESSAGE = (
    "events are appended only at the chain head: seq must be event_log_head.last_seq + 1 "
    "and prev_hash its last_hash"
)


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _create_postgresql_trigger()
        return
    # SQLite has row triggers only: the check before each row, the head's move after it (an
    # AFTER trigger runs only for a row that was inserted), so the rows of one executemany
    # follow each other. RAISE(FAIL), not ABORT: a refused row has changed nothing to undo,
    # and the appender's INSERT OR FAIL then needs no statement journal (SQLite writes one to
    # a temporary file per statement that could abort after a write, which made a wide tick's
    # appends three times slower).
    op.execute(
        "CREATE TRIGGER events_append_at_head BEFORE INSERT ON events "
        "WHEN NOT EXISTS (SELECT 1 FROM event_log_head WHERE id = 1 "
        "AND last_seq + 1 = NEW.seq AND last_hash = NEW.prev_hash) "
        f"BEGIN SELECT RAISE(FAIL, '{AT_HEAD_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER events_advance_head AFTER INSERT ON events "
        "BEGIN UPDATE event_log_head SET last_seq = NEW.seq, last_hash = NEW.hash "
        "WHERE id = 1; END"
    )


def _create_postgresql_trigger() -> None:
    """One trigger per statement: it checks every row the statement added, then moves the head.

    A row trigger costs a function call and a new version of the head's row per event: on
    batches of a hundred events or more that doubled an append's time. The appender inserts a
    batch in one statement, so this runs once per batch; a row inserted by hand is a statement
    of its own and is checked all the same. The head is locked first, so that two transactions
    that skip the appender's lock still cannot both extend it.
    """
    op.execute(
        f"""
        CREATE FUNCTION events_append_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            current_head record;
        BEGIN
            SELECT last_seq, last_hash INTO current_head
            FROM event_log_head WHERE id = 1 FOR UPDATE;
            IF EXISTS (
                SELECT 1 FROM (
                    SELECT seq, prev_hash,
                        lag(seq, 1, current_head.last_seq) OVER by_seq AS before_seq,
                        lag(hash, 1, current_head.last_hash) OVER by_seq AS before_hash
                    FROM added WINDOW by_seq AS (ORDER BY seq)
                ) AS linked
                WHERE seq IS DISTINCT FROM before_seq + 1
                    OR prev_hash IS DISTINCT FROM before_hash
            ) THEN
                RAISE EXCEPTION '{AT_HEAD_MESSAGE}'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            UPDATE event_log_head SET last_seq = last.seq, last_hash = last.hash
            FROM (SELECT seq, hash FROM added ORDER BY seq DESC LIMIT 1) AS last
            WHERE id = 1;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_append_at_head AFTER INSERT ON events "
        "REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_append_at_head()"
    )


def downgrade() -> None:
    # Revision 0005's appender moves the head itself; the triggers must not move it twice.
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_at_head ON events")
        op.execute("DROP FUNCTION IF EXISTS events_append_at_head()")
        return
    op.execute("DROP TRIGGER IF EXISTS events_append_at_head")
    op.execute("DROP TRIGGER IF EXISTS events_advance_head")

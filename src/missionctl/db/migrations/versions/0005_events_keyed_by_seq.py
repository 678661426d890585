"""Events keyed by seq alone: no unique index on hash; on SQLite, seq is the rowid.

Every event is inserted into each index of the events table, in the transaction of the state
change it records. Two of those indexes did no work:
- the unique index on ``hash``: nothing looks an event up by its hash, and a duplicate hash
  would take a SHA-256 collision (each hash covers the previous one and the event's ``seq``);
  ``missionctl audit verify`` recomputes the chain, which is what detects tampering. Its keys
  are random, so each event dirtied a different page of it, and on a large log cost a cache
  miss. With both gone, the engine's ticks write about half as many pages to SQLite's log on
  the wide workloads and a quarter fewer on a chain (``bench/ticks.py`` under ``strace``);
- on SQLite, the primary key on a ``BIGINT`` column: only a column declared exactly
  ``INTEGER`` is the table's rowid, so ``seq`` had an index of its own beside the rowid.

SQLite cannot drop a table's constraint or change a column's type in place: the table is
rebuilt (every event copied in one transaction) and its append-only triggers, which the
rebuild drops with the old table, are created again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "events are append-only: UPDATE, DELETE and TRUNCATE are not allowed"


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.drop_constraint("uq_events_hash", "events", type_="unique")
        return
    _drop_sqlite_triggers()
    with op.batch_alter_table("events", recreate="always") as batch_op:
        batch_op.drop_constraint("uq_events_hash", type_="unique")
        batch_op.alter_column(
            "seq", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
    _create_sqlite_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        op.create_unique_constraint("uq_events_hash", "events", ["hash"])
        return
    _drop_sqlite_triggers()
    with op.batch_alter_table("events", recreate="always") as batch_op:
        batch_op.alter_column(
            "seq", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.create_unique_constraint("uq_events_hash", ["hash"])
    _create_sqlite_triggers()


def _drop_sqlite_triggers() -> None:
    op.execute("DROP TRIGGER IF EXISTS events_no_update")
    op.execute("DROP TRIGGER IF EXISTS events_no_delete")


def _create_sqlite_triggers() -> None:
    # As revision 0001 creates them: the database itself refuses to change or remove events.
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )

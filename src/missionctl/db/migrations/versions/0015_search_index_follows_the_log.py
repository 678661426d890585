"""The search index follows the log instead of being written in the appending transaction
(ADR 0047, which changes ADR 0041).

Revision 0011's triggers ran on every insert into ``events``: the engine's appends paid for
them even when no text was indexed. This revision drops them and adds:

- ``search_entries_source``: a view of every entry that every searchable event yields, with
  the event's ``seq`` as ``event_seq`` — the one definition of what is indexed (the same
  selects as 0011's, over ``events``);
- ``search_progress``: one row holding the last ``seq`` whose entries are in
  ``search_entries``. The indexer (``repositories.search.index_new_events``) copies the
  view's rows past it, in batches of ``seq``, and moves it in the same transaction.

Events appended up to this upgrade were indexed by the triggers, so the cursor starts at the
log's head. The downgrade indexes what the cursor had not reached and restores the triggers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 10:00:00.000000
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _revision_0011() -> ModuleType:
    """Revision 0011, whose definition of an event's entries this one keeps."""
    path = Path(__file__).with_name("0011_log_search_index.py")
    spec = importlib.util.spec_from_file_location("missionctl_revision_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    r0011 = _revision_0011()
    op.execute("CREATE TABLE search_progress (id integer PRIMARY KEY, last_seq bigint NOT NULL)")
    op.execute(
        "INSERT INTO search_progress (id, last_seq) "
        "SELECT 1, coalesce(max(last_seq), 0) FROM event_log_head"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER events_search_entries ON events")
        op.execute("DROP FUNCTION events_search_entries()")
        op.execute(
            "CREATE VIEW search_entries_source AS SELECT events.seq AS event_seq, entry.* "
            "FROM events, LATERAL search_entries_of(events.seq, events.type, events.run_id, "
            f"events.mission_id, {r0011._readable('events.payload')}) AS entry "
            f"WHERE events.type IN ({r0011._in_list(r0011.SEARCHED_TYPES)}) "
            "AND events.run_id IS NOT NULL"
        )
        return
    op.execute("DROP TRIGGER events_search_entries")
    # Each select's first column is the entry's id; ``event_seq`` comes last (see below).
    selects = " UNION ALL ".join(
        select.replace(" FROM ", ", events.seq FROM ", 1)
        for select in r0011._sqlite_selects("events", "events")
    )
    op.execute(
        f"CREATE VIEW search_entries_source ({r0011._SQLITE_COLUMNS}, event_seq) AS {selects}"
    )


def downgrade() -> None:
    r0011 = _revision_0011()
    pending = "event_seq > (SELECT last_seq FROM search_progress WHERE id = 1)"
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"INSERT INTO search_entries ({r0011._PG_COLUMNS}) SELECT {r0011._PG_COLUMNS} "
            f"FROM search_entries_source WHERE {pending}"
        )
        op.execute("DROP VIEW search_entries_source")
        op.execute("DROP TABLE search_progress")
        _restore_postgresql_trigger(r0011)
        return
    op.execute(
        f"INSERT INTO search_entries ({r0011._SQLITE_COLUMNS}) SELECT {r0011._SQLITE_COLUMNS} "
        f"FROM search_entries_source WHERE {pending} ORDER BY 1"
    )
    op.execute("DROP VIEW search_entries_source")
    op.execute("DROP TABLE search_progress")
    inserts = "; ".join(
        f"INSERT INTO search_entries ({r0011._SQLITE_COLUMNS}) {select}"
        for select in r0011._sqlite_selects("NEW", "")
    )
    op.execute(
        "CREATE TRIGGER events_search_entries AFTER INSERT ON events "
        f"WHEN NEW.type IN ({r0011._in_list(r0011.SEARCHED_TYPES)}) AND NEW.run_id IS NOT NULL "
        f"BEGIN {inserts}; END"
    )


def _restore_postgresql_trigger(r0011: ModuleType) -> None:
    op.execute(
        f"""
        CREATE FUNCTION events_search_entries() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_entries ({r0011._PG_COLUMNS})
            SELECT * FROM search_entries_of(
                NEW.seq, NEW.type, NEW.run_id, NEW.mission_id, {r0011._readable("NEW.payload")});
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_search_entries AFTER INSERT ON events FOR EACH ROW "
        f"WHEN (NEW.type IN ({r0011._in_list(r0011.SEARCHED_TYPES)}) AND NEW.run_id IS NOT NULL) "
        "EXECUTE FUNCTION events_search_entries()"
    )

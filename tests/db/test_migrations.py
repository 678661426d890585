"""The one migration chain runs on both databases, both ways, and matches the ORM."""

import uuid
from typing import Any

import pytest
import sqlalchemy.exc
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from missionctl.db import Database
from missionctl.db.base import Base
from missionctl.db.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from missionctl.db.models import UNMAPPED_TABLES
from missionctl.eventlog import NewEvent, append, verify_chain

DOMAIN_TABLES = {
    "missions",
    "plans",
    "requirements",
    "risks",
    "decisions",
    "next_steps",
    "workflows",
    "runs",
    "step_runs",
    "events",
    "event_log_head",
    "artifacts",
    "agents",
    "approvals",
    "model_prices",
    "users",
    "api_tokens",
    "sign_in_links",
}


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        assert await current_revision(db) is None
        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
        assert await _tables(db) >= DOMAIN_TABLES

        await downgrade_database(db, "base")
        assert await current_revision(db) is None
        assert not (await _tables(db)) & DOMAIN_TABLES

        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
        assert await _tables(db) >= DOMAIN_TABLES
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_database(db)
        await upgrade_database(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


def _mapped(name: str | None, kind: str, _parents: object) -> bool:
    """Leave out the search index: it has no model, by design (``UNMAPPED_TABLES``)."""
    return kind != "table" or name not in UNMAPPED_TABLES


async def test_migrated_schema_matches_the_orm(empty_database_url: str) -> None:
    """A model change without its migration fails here, on each dialect."""
    db = Database(empty_database_url)
    try:
        await upgrade_database(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_name": _mapped}
                    ),
                    Base.metadata,
                )
            )
        assert diff == []
    finally:
        await db.dispose()


async def _index_columns(db: Database) -> list[list[str]]:
    """The column lists of every index of the events table, unique constraints included."""

    def read(sync: Any) -> list[list[str]]:
        found = inspect(sync)
        indexes = [list(index["column_names"]) for index in found.get_indexes("events")]
        uniques = [list(u["column_names"]) for u in found.get_unique_constraints("events")]
        return indexes + uniques

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_events_keyed_by_seq_keep_every_event_and_stay_append_only(
    empty_database_url: str,
) -> None:
    """Revision 0005 drops the index on hash (SQLite: rebuilds the table, seq as rowid)."""
    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0004")
        async with db.write() as session:
            await append(session, [NewEvent("test.happened", "system", {"n": n}) for n in range(5)])
            # Before revision 0006 the appender moved the head itself; today's relies on 0006's
            # triggers, which this schema does not have yet.
            await session.execute(
                text(
                    "UPDATE event_log_head SET last_seq = 5, "
                    "last_hash = (SELECT hash FROM events WHERE seq = 5) WHERE id = 1"
                )
            )
        assert ["hash"] in await _index_columns(db)

        await upgrade_database(db)
        assert ["hash"] not in await _index_columns(db)
        async with db.read() as session:
            report = await verify_chain(session)
            assert (report.ok, report.count) == (True, 5)
            if db.dialect == "sqlite":  # seq is the rowid itself, not a column beside it
                rows = await session.execute(text("SELECT rowid, seq FROM events"))
                assert all(rowid == seq for rowid, seq in rows)
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            async with db.write() as session:
                await session.execute(text("DELETE FROM events WHERE seq = 2"))
        async with db.write() as session:
            await append(session, [NewEvent("test.happened", "system", {"n": 5})])

        await downgrade_database(db, "0004")
        assert ["hash"] in await _index_columns(db)
        async with db.read() as session:
            report = await verify_chain(session)
            assert (report.ok, report.count) == (True, 6)
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"):
            async with db.write() as session:
                await session.execute(text("UPDATE events SET actor = 'user:x' WHERE seq = 1"))
    finally:
        await db.dispose()


async def _found(db: Database, word: str) -> list[str]:
    """The texts the search index finds for ``word``, newest first."""
    from tests.search.helpers import indexed_texts

    async with db.read() as session:
        return await indexed_texts(session, word)


async def _index(db: Database) -> None:
    """Catch the search index up with the log (ADR 0047), as a search does first."""
    from missionctl.repositories import followers
    from missionctl.repositories.search import index_events

    def index(session: Session) -> None:
        window = followers.claim(session, "search", max_events=1_000_000)
        index_events(session, after=window.after, upto=window.upto)
        followers.advance(session, "search", upto=window.upto)

    async with db.write() as session:
        await session.run_sync(index)


async def test_the_search_index_covers_events_written_before_it(empty_database_url: str) -> None:
    """Revision 0011 indexes the log it finds; the indexer indexes what is appended after."""
    db = Database(empty_database_url)
    run_id = uuid.uuid4()
    lines = [{"level": "info", "message": "gyroscope drift"}, {"level": "warn", "message": 7}]
    try:
        await upgrade_database(db, "0010")
        async with db.write() as session:
            await append(
                session,
                [
                    NewEvent("step.log", "system", {"attempt": 1, "lines": lines}, run_id=run_id),
                    NewEvent("step.failed", "system", {"error": "gyroscope lost"}, run_id=run_id),
                    NewEvent("step.log", "system", {"lines": "not a list"}, run_id=run_id),
                    NewEvent("mission.failed", "system", {"reason": "gyroscope"}),  # no run
                ],
            )
        await upgrade_database(db)
        assert await _found(db, "gyroscope") == ["gyroscope lost", "gyroscope drift"]
        async with db.write() as session:
            await append(
                session, [NewEvent("run.paused", "system", {"reason": "gyroscope"}, run_id=run_id)]
            )
        assert await _found(db, "gyroscope") == ["gyroscope lost", "gyroscope drift"]
        await _index(db)
        assert await _found(db, "gyroscope") == ["gyroscope", "gyroscope lost", "gyroscope drift"]

        await downgrade_database(db, "0010")
        async with db.write() as session:  # appends go on without the index
            await append(
                session, [NewEvent("step.failed", "system", {"error": "gyro"}, run_id=run_id)]
            )
        await upgrade_database(db)
        assert len(await _found(db, "gyro*")) == 4
        async with db.read() as session:
            assert (await verify_chain(session)).ok
    finally:
        await db.dispose()


async def test_going_back_to_search_triggers_indexes_what_the_indexer_had_not(
    empty_database_url: str,
) -> None:
    """Downgrading revision 0015 indexes the events past the cursor and restores the triggers."""
    db = Database(empty_database_url)
    run_id = uuid.uuid4()
    try:
        await upgrade_database(db)
        async with db.write() as session:
            await append(
                session, [NewEvent("step.failed", "system", {"error": "quasar one"}, run_id=run_id)]
            )
        await downgrade_database(db, "0014")
        assert await _found(db, "quasar") == ["quasar one"]
        async with db.write() as session:  # the triggers index appends again
            await append(
                session, [NewEvent("step.failed", "system", {"error": "quasar two"}, run_id=run_id)]
            )
        assert await _found(db, "quasar") == ["quasar two", "quasar one"]
        await upgrade_database(db)
        async with db.write() as session:
            await append(
                session,
                [NewEvent("step.failed", "system", {"error": "quasar three"}, run_id=run_id)],
            )
        await _index(db)
        assert await _found(db, "quasar") == ["quasar three", "quasar two", "quasar one"]
    finally:
        await db.dispose()


async def test_the_usage_sums_start_from_the_steps_already_there(empty_database_url: str) -> None:
    """Revision 0016 sums the step rows it finds; its triggers count what changes after."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, update

    from missionctl.db.models import StepRun
    from tests.db.test_usage_days import insert_bare_run
    from tests.support.consistency import usage_sums

    db = Database(empty_database_url)
    ended = datetime(2026, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)
    try:
        await upgrade_database(db, "0015")
        async with db.write() as session:
            run_id = await insert_bare_run(session)
            await session.execute(
                insert(StepRun),
                [
                    {
                        "id": uuid.uuid4(),
                        "run_id": run_id,
                        "step_id": f"s{i}",
                        "agent": agent,
                        "status": "succeeded",
                        "model": model,
                        "started_at": ended,
                        "ended_at": ended if i % 2 else None,
                        "input_tokens": 10 * i,
                        "cost_micros": i,
                        "earlier_cost_micros": 100,
                    }
                    for i, (agent, model) in enumerate(
                        [("llm:qa", "m"), ("llm:qa", "m"), ("llm:qa", None), ("command", None)]
                    )
                ]
                + [
                    {
                        "id": uuid.uuid4(),
                        "run_id": run_id,
                        "step_id": "never",
                        "agent": "llm:qa",
                        "status": "queued",
                    }
                ],
            )
        await upgrade_database(db)
        async with db.read() as session:
            kept, stepped = await usage_sums(session)
        assert kept == stepped and sum(v[0] for v in kept.values()) == 4
        async with db.write() as session:  # now the triggers count a change
            await session.execute(update(StepRun).values(cost_micros=StepRun.cost_micros + 1))
        await downgrade_database(db, "0015")
        assert {"usage_days", "usage_deltas"}.isdisjoint(await _tables(db))
        async with db.write() as session:  # no trigger left to fail without its table
            await session.execute(update(StepRun).values(cost_micros=StepRun.cost_micros + 1))
        await upgrade_database(db)
        async with db.read() as session:
            kept, stepped = await usage_sums(session)
        assert kept == stepped and kept[(ended.date(), "llm:qa", "m")] == [2, 10, 0, 205]
    finally:
        await db.dispose()


async def test_the_decision_log_numbers_and_accepts_the_planner_s_decisions(
    empty_database_url: str,
) -> None:
    """Revision 0018 keeps decisions and risks, numbering and dating decisions per mission."""
    from datetime import UTC, date, datetime

    from sqlalchemy import JSON, String, Uuid, column, insert, table

    from missionctl.db.models import Mission
    from missionctl.db.types import UTCDateTime
    from missionctl.domain.ids import new_id

    def old_table(name: str, *texts: str, lists: tuple[str, ...] = ()) -> Any:
        """The table as revision 0017 has it, with just the columns the test writes."""
        columns = [column("id", Uuid()), column("mission_id", Uuid())]
        columns += [column(n, String()) for n in texts] + [column(n, JSON()) for n in lists]
        return table(name, *columns, column("created_at", UTCDateTime()))

    decisions = old_table(
        "decisions", "title", "choice", lists=("reasons", "trade_offs", "alternatives")
    )
    risks = old_table(
        "risks", "title", "description", "severity", "likelihood", "mitigation", "status"
    )
    mission_ids = [uuid.uuid4(), uuid.uuid4()]
    created = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)

    def rows(sync: Any) -> list[Any]:
        query = "SELECT mission_id, title, number, status, decided_on, version FROM decisions"
        return list(sync.execute(text(query + " ORDER BY mission_id, number")).all())

    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0017")
        async with db.engine.begin() as conn:
            for mission_id in mission_ids:
                await conn.execute(
                    insert(Mission).values(
                        id=mission_id, title="t", goal="g", status="planned", created_by="system"
                    )
                )
                for title in ("first", "second"):
                    await conn.execute(
                        insert(decisions).values(
                            id=new_id(),  # UUIDv7, as stored: their order is creation order
                            mission_id=mission_id,
                            title=title,
                            choice="c",
                            reasons=["r"],
                            trade_offs=[],
                            alternatives=[],
                            created_at=created,
                        )
                    )
                await conn.execute(
                    insert(risks).values(
                        id=uuid.uuid4(),
                        mission_id=mission_id,
                        title="r",
                        description="d",
                        severity="high",
                        likelihood="low",
                        mitigation="m",
                        status="open",
                        created_at=created,
                    )
                )
        for _ in range(2):  # and again after going back down
            await upgrade_database(db)
            async with db.engine.connect() as conn:
                found = await conn.run_sync(rows)
                risks = (await conn.execute(text("SELECT owner, version FROM risks"))).all()
            assert [(r.title, r.number, r.status, r.version) for r in found] == [
                ("first", 1, "accepted", 1),
                ("second", 2, "accepted", 1),
            ] * 2
            assert {str(r.decided_on)[:10] for r in found} == {date(2026, 3, 4).isoformat()}
            assert [tuple(r) for r in risks] == [("", 1), ("", 1)]
            await downgrade_database(db, "0017")
            async with db.engine.connect() as conn:
                count = (await conn.execute(text("SELECT count(*) FROM decisions"))).scalar()
            assert count == 4
    finally:
        await db.dispose()

"""Prepared statements convert, bind and read exactly as SQLAlchemy would, on both backends."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from missionctl.db import Database
from missionctl.db.models import Mission
from missionctl.db.prepared import Prepared, in_list, in_params
from missionctl.db.types import UTCDateTime, utcnow
from missionctl.services import ServiceContext

_metadata = MetaData()
_things = Table(
    "prepared_things",
    _metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("data", JSON),
    Column("at", UTCDateTime()),
    Column("count", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow),
)
_INSERT = Prepared(
    insert(_things).values(
        id=bindparam("id"), name=bindparam("name"), data=bindparam("data"), at=bindparam("at")
    )
)
_ALL = Prepared(select(_things).order_by(_things.c.name))
_RENAME = Prepared(
    update(_things)
    .where(_things.c.id == bindparam("_id"), _things.c.name == bindparam("f_name"))
    .values(name=bindparam("v_name"))
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    with database.sync_engine.begin() as connection:
        _metadata.create_all(connection)
    yield database
    await database.dispose()


def _rows() -> list[dict[str, Any]]:
    at = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)
    return [
        {"id": uuid.uuid4(), "name": "a", "data": {"k": [1, "two", None]}, "at": at},
        {"id": uuid.uuid4(), "name": "b", "data": None, "at": None},
        {"id": uuid.uuid4(), "name": "c", "data": {"é": 1.5}, "at": at + timedelta(days=1)},
        # The first row's objects again, after others: each row gets its own values.
        {"id": uuid.uuid4(), "name": "d", "data": None, "at": at},
    ]


async def test_values_round_trip_as_sqlalchemy_reads_them(db: Database) -> None:
    rows = _rows()
    with db.write_sync() as session:
        assert _INSERT.run_many(session, rows) == 4
    with db.write_sync() as session:
        prepared = _ALL.all(session)
        # The reference: SQLAlchemy's own execution of the same query.
        reference = session.execute(select(_things).order_by(_things.c.name)).all()
    assert [tuple(row) for row in prepared] == [tuple(row) for row in reference]
    first = prepared[0]
    assert isinstance(first.id, uuid.UUID) and first.id == rows[0]["id"]
    assert first.at == rows[0]["at"] and first.at.tzinfo is not None
    assert first.data == {"k": [1, "two", None]}
    assert prepared[1].at is None
    assert prepared[2].data == {"é": 1.5}
    stored = [(row.id, row.name, row.data, row.at) for row in prepared]
    assert stored == [(row["id"], row["name"], row["data"], row["at"]) for row in rows]


async def test_scalars_read_the_first_column_converted_as_sqlalchemy_reads_it(
    db: Database,
) -> None:
    rows = _rows()
    stamps = Prepared(select(_things.c.at, _things.c.name).order_by(_things.c.name))
    with db.write_sync() as session:
        _INSERT.run_many(session, rows)
        found = stamps.scalars(session)
        reference = session.execute(stamps.statement).scalars().all()
    assert found == reference == [row["at"] for row in rows]
    assert found[0].tzinfo is not None
    with db.write_sync() as session:
        nobody = select(_things.c.name).where(_things.c.name == "nobody")
        assert Prepared(nobody).scalars(session) == []


async def test_python_defaults_are_computed_for_each_execution(db: Database) -> None:
    before = utcnow()
    with db.write_sync() as session:
        _INSERT.run_many(session, _rows())
        rows = _ALL.all(session)
    assert {row.count for row in rows} == {0}  # a scalar default
    assert all(row.updated_at >= before - timedelta(seconds=1) for row in rows)
    first = rows[0]
    with db.write_sync() as session:
        assert _RENAME.run(session, {"_id": first.id, "f_name": "a", "v_name": "z"}) == 1
        renamed = next(row for row in _ALL.all(session) if row.id == first.id)
    assert renamed.name == "z"
    assert renamed.updated_at >= first.updated_at  # onupdate ran


async def test_row_counts_show_a_guard_that_did_not_match(db: Database) -> None:
    rows = _rows()
    with db.write_sync() as session:
        _INSERT.run_many(session, rows)
        changes = [
            {"_id": rows[0]["id"], "f_name": "a", "v_name": "a2"},
            {"_id": rows[1]["id"], "f_name": "not-its-name", "v_name": "b2"},
        ]
        assert _RENAME.run_many(session, changes) == 1
        assert _RENAME.run(session, changes[1]) == 0


async def test_in_list_selects_the_given_values(db: Database) -> None:
    rows = _rows()
    picked = [rows[0]["id"], rows[2]["id"]]
    query = Prepared(select(_things.c.name).where(in_list(_things.c.id, "i", len(picked))))
    with db.write_sync() as session:
        _INSERT.run_many(session, rows)
        found = query.all(session, in_params("i", picked))
    assert sorted(row.name for row in found) == ["a", "c"]


async def test_async_sessions_use_it_through_run_sync(db: Database) -> None:
    async with db.write() as session:
        await session.run_sync(_INSERT.run_many, _rows())
    async with db.write() as session:
        names = await session.run_sync(lambda s: [row.name for row in _ALL.all(s)])
    assert names == ["a", "b", "c", "d"]


async def test_a_missing_parameter_is_named(db: Database) -> None:
    with (
        db.write_sync() as session,
        pytest.raises(KeyError, match="a value is required for bind parameter 'name'"),
    ):
        _INSERT.run(session, {"id": uuid.uuid4(), "data": None, "at": None})


def test_an_expanding_in_is_refused_with_the_alternative(tmp_path: Any) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    statement = Prepared(select(_things.c.id).where(_things.c.name.in_(["a", "b"])))
    with database.sync_engine.begin() as connection:
        _metadata.create_all(connection)
    with database.write_sync() as session, pytest.raises(ValueError, match="in_list"):
        statement.all(session)
    database.sync_engine.dispose()


async def test_objects_added_to_the_session_are_written_first(ctx: ServiceContext) -> None:
    count = Prepared(select(func.count()).select_from(Mission.__table__))

    def work(session: Session) -> int:
        session.add(Mission(title="t", goal="g", status="draft", created_by="user:x"))
        return int(count.all(session)[0][0])

    assert await ctx.write_blocking(work) == 1


async def test_ids_read_from_text_are_shared_and_stay_right_past_the_bound(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.write_sync() as session:
        _INSERT.run_many(session, _rows())
        first, second = _ALL.all(session), _ALL.all(session)
    assert [row.id for row in first] == [row.id for row in second]
    if db.dialect == "sqlite":  # stored as text: one object per id, however often it is read
        assert all(a.id is b.id for a, b in zip(first, second, strict=True))
    monkeypatch.setattr("missionctl.db.prepared._UUIDS_KEPT", 2)
    with db.write_sync() as session:
        again = _ALL.all(session)
    assert [row.id for row in again] == [row.id for row in first]

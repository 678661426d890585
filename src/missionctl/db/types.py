"""Column types that behave the same on SQLite and PostgreSQL."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import Date, DateTime, Dialect, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from missionctl.db.clock import CLOCK

# One encoder for the process: json.dumps with options builds a new encoder on every call,
# which the event log's hot path would pay thousands of times per second.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


class CanonicalJson(str):
    """Text ``canonical_json`` produced; serialising it again gives the same text back.

    Lets a value serialised once (an event payload, for its hash) be stored through a JSON
    column without being serialised a second time.
    """

    __slots__ = ()


def canonical_json(value: Any) -> CanonicalJson:
    """Serialise ``value`` to the one canonical JSON text used for storage and hashing.

    Keys sorted, no insignificant whitespace, non-ASCII kept as is, NaN/Infinity refused (they are
    not JSON). Both dialects store JSON columns as this text verbatim (PostgreSQL ``json``, not
    ``jsonb``, which would renormalise numbers), so what is read back re-serialises identically.
    A ``CanonicalJson`` is returned as it is: it already is that text.
    """
    if type(value) is CanonicalJson:
        return value
    if type(value) is dict and not value:
        # Most step runs start with no inputs and no outputs: skip the encoder's setup.
        return _EMPTY_OBJECT
    return CanonicalJson(_CANONICAL.encode(value))


_EMPTY_OBJECT = CanonicalJson("{}")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every dialect.

    SQLite has no time zone support, so values are stored as naive UTC and re-labelled UTC when
    read; PostgreSQL stores ``timestamptz``. Naive datetimes are refused on the way in because a
    silent local-time guess is how audit trails go wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC (naive on SQLite); refuse naive input."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Label the stored value UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, straight to the stored text: what SQLAlchemy writes, in one C call."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _sqlite_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, parse the stored text in one C call; anything unusual the usual way."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)
        assert fallback is not None

        def parse(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                return fallback(value)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)

        return parse


def _sqlite_text(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite ``DATETIME`` stores: ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC.

    The engine binds several timestamps per step; SQLAlchemy's own conversion formats each
    through a dict and ``%``, several times slower than ``isoformat``.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # An aware UTC value ends in "+00:00"; the stored text is naive.
    return value.isoformat(" ", "microseconds")[:-6]


_E = TypeVar("_E", bound=StrEnum)


class StatusColumn(TypeDecorator[_E], Generic[_E]):
    """A status stored as its plain string (``VARCHAR(20)``) and read back as the domain's enum.

    The stored values are the enum's values, exactly the strings written before the column was
    typed, so no migration is involved and a schema diff sees a ``VARCHAR(20)``. Writing takes
    a member or its string unchanged (a ``StrEnum`` is a ``str``); reading maps each string to
    its member with one dictionary lookup, because the engine reads statuses on its hot path.
    """

    impl = String(20)
    cache_ok = True

    def __init__(self, enum: type[_E]) -> None:
        super().__init__()
        self.enum = enum
        self._members: dict[str, _E] = {member.value: member for member in enum}

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """Map the stored string to its member; a string the enum does not know stays as read."""
        members = self._members

        def member(value: str | None) -> _E | str | None:
            return None if value is None else members.get(value, value)

        return member


class db_now(FunctionElement[datetime]):
    """The database server's current time with sub-second precision (not the transaction start)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(db_now)
def _db_now_default(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(db_now, "postgresql")
def _db_now_postgresql(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "clock_timestamp()"


@compiles(db_now, "sqlite")
def _db_now_sqlite(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    # CURRENT_TIMESTAMP on SQLite has whole-second precision; %f gives milliseconds.
    return "strftime('%Y-%m-%d %H:%M:%f', 'now')"


class utc_day_of(FunctionElement[date]):
    """The UTC day of a timestamp column (``UTCDateTime``), on either database."""

    inherit_cache = True
    name = "utc_day"
    type = Date()


@compiles(utc_day_of, "postgresql")
def _utc_day_postgresql(element: utc_day_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


@compiles(utc_day_of, "sqlite")
def _utc_day_sqlite(element: utc_day_of, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC ISO text (``UTCDateTime``): date() keeps its day, in ISO form.
    return f"date({compiler.process(element.clauses, **kw)})"


def utcnow() -> datetime:
    """The application clock, timezone-aware UTC: the moved clock's time while one is installed.

    See ``db.clock``: by default the machine's time.
    """
    moved = CLOCK.moved
    return datetime.now(UTC) if moved is None else moved

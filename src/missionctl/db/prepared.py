"""Core statements compiled once per dialect and run on the driver's cursor (ADR 0016).

The engine's tick runs a handful of small statements thousands of times a second. For those,
SQLAlchemy's per-execution work (an execution context, parameter and result processing set up
anew, result metadata, events) costs several times what the database itself does. A
``Prepared`` statement keeps what SQLAlchemy decides — the SQL text for the dialect, the order of
its parameters, the literal values it binds and every type's conversion in and out — but
computes it once per dialect and then calls the DBAPI cursor directly, inside the transaction
the caller's session already holds.

Only plain statements belong here: no ``expanding`` parameters (build one statement per list
length instead, see ``in_list``), and nothing that needs SQLAlchemy's execution events.
"""

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BindParameter, ColumnElement, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

_DRIVER_KEY = "missionctl.prepared.driver"
_REQUIRED = object()  # a bind parameter the caller must supply


_Bind = tuple[str, Callable[[Any], Any] | None, Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement as one dialect runs it."""

    sql: str
    positional: bool
    # (name, processor or None, default) per parameter, in the order the SQL wants them. The
    # processor is never given None unless the type stores None as something else (JSON).
    binds: tuple[_Bind, ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    row: Any  # a namedtuple class for result rows, or None
    # Columns whose value Python computes per execution (``default=`` / ``onupdate=`` callables,
    # e.g. ``updated_at``), by bind name.
    generated: tuple[tuple[str, Callable[[], Any]], ...]


class Prepared:
    """A Core statement run on the driver's cursor of the caller's transaction.

    Parameters are passed by the names of the statement's ``bindparam``s; literal values in the
    statement are bound as SQLAlchemy would bind them. Result rows are named tuples whose fields
    are the selected (or returned) columns' keys, converted by the columns' types.
    """

    def __init__(self, statement: Executable) -> None:
        """Wrap ``statement``; it is compiled on first use for each dialect."""
        self.statement = statement
        self._plans: dict[tuple[str, str], _Plan] = {}

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Execute once with ``params`` and return every row."""
        plan, cursor = self._cursor(session)
        cursor.execute(plan.sql, _bind(plan, _with_generated(plan), params or {}))
        return self._rows(plan, cursor)

    def first(self, session: Session, params: Mapping[str, Any] | None = None) -> Any | None:
        """Execute once and return the first row, or ``None``."""
        rows = self.all(session, params)
        return rows[0] if rows else None

    def run(self, session: Session, params: Mapping[str, Any] | None = None) -> int:
        """Execute once (a statement returning no rows); returns the row count."""
        plan, cursor = self._cursor(session)
        cursor.execute(plan.sql, _bind(plan, _with_generated(plan), params or {}))
        count: int = cursor.rowcount
        cursor.close()
        return count

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per parameter set (``executemany``); returns the total row count."""
        if not rows:
            return 0
        plan, cursor = self._cursor(session)
        binds = _with_generated(plan)  # one value per call, converted once, for every row
        cursor.executemany(plan.sql, [_bind(plan, binds, row) for row in rows])
        count: int = cursor.rowcount
        cursor.close()
        return count

    def _cursor(self, session: Session) -> tuple[_Plan, Any]:
        # As ``Session.execute`` would: objects added to the session are written first. (The
        # check first: a tick's session holds no objects, and a flush call is not free.)
        if len(session.identity_map) or session.new or session.deleted:
            session.flush()
        dialect, driver = driver_connection(session)
        # By driver too: conversions can differ between two drivers of one database.
        key = (dialect.name, dialect.driver)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _compile(self.statement, dialect)
        return plan, driver.cursor()

    @staticmethod
    def _rows(plan: _Plan, cursor: Any) -> list[Any]:
        if plan.row is None:
            cursor.close()
            return []
        raw = cursor.fetchall()
        cursor.close()
        processors = plan.results
        make = plan.row._make
        if not any(processors):
            return [make(row) for row in raw]
        return [
            make(
                value if process is None else process(value)
                for process, value in zip(processors, row, strict=True)
            )
            for row in raw
        ]


def _bind(plan: _Plan, binds: Sequence[_Bind], params: Mapping[str, Any]) -> Any:
    """The driver's parameters for one execution: converted, in the SQL's order."""
    values = []
    for name, process, default in binds:
        value = params.get(name, default)
        if value is _REQUIRED:
            raise KeyError(f"a value is required for bind parameter {name!r}")
        values.append(value if process is None else process(value))
    if plan.positional:
        return values
    return {name: value for (name, _, _), value in zip(binds, values, strict=True)}


def _with_generated(plan: _Plan) -> Sequence[_Bind]:
    """``plan.binds`` with this execution's generated values (e.g. ``updated_at``) as defaults."""
    if not plan.generated:
        return plan.binds
    made = {name: make() for name, make in plan.generated}
    return [
        (name, None, process(made[name]) if process else made[name])
        if name in made
        else (name, process, default)
        for name, process, default in plan.binds
    ]


def driver_connection(session: Session) -> tuple[Dialect, Any]:
    """The dialect and DBAPI connection of ``session``'s current transaction (cached on it)."""
    transaction = session.get_transaction()
    cached = session.info.get(_DRIVER_KEY)
    if cached is None or cached[0] is not transaction:
        connection = session.connection()
        driver = connection.connection.dbapi_connection
        cached = session.info[_DRIVER_KEY] = (session.get_transaction(), connection.dialect, driver)
    return cached[1], cached[2]


def in_list(column: ColumnElement[Any], name: str, size: int) -> ColumnElement[bool]:
    """``column IN (:name_0, …, :name_{size-1})``, typed as ``column``, for a known length."""
    return column.in_([bindparam(f"{name}_{i}", type_=column.type) for i in range(size)])


def in_params(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters for ``in_list(name, len(values))``."""
    return {f"{name}_{i}": value for i, value in enumerate(values)}


def _compile(statement: Executable, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if "POSTCOMPILE" in str(compiled):
        raise ValueError("an expanding IN cannot be prepared; use in_list() for each length")
    positional = bool(compiled.positional)
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    binds = []
    for name in names:
        parameter = compiled.binds[name]
        default = _REQUIRED if parameter.required else parameter.effective_value
        binds.append((name, _bind_processor(parameter, dialect), default))
    columns: Sequence[ColumnElement[Any]] = list(getattr(statement, "exported_columns", ()))
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    row = namedtuple("Row", [str(c.key) for c in columns], rename=True) if columns else None
    generated = []
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        source = column.default if column in compiled.insert_prefetch else column.onupdate
        if source is not None and source.is_scalar:
            generated.append((column.key, functools.partial(_constant, source.arg)))
        elif source is not None and source.is_callable:
            # SQLAlchemy wraps a zero-argument callable into one that takes a context.
            generated.append((column.key, functools.partial(source.arg, None)))
        else:
            raise ValueError(f"column {column.key!r} needs a default this cannot compute")
    return _Plan(str(compiled), positional, tuple(binds), results, row, tuple(generated))


def _constant(value: Any) -> Any:
    return value


def _bind_processor(parameter: BindParameter[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    kind = parameter.type.dialect_impl(dialect)
    processor: Callable[[Any], Any] | None = kind.bind_processor(dialect)
    if processor is None or isinstance(kind, JSON):
        return processor  # JSON stores None as the JSON ``null``: always convert
    convert = processor

    def skip_none(value: Any) -> Any:
        return None if value is None else convert(value)

    return skip_none

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

from sqlalchemy import JSON, BindParameter, ColumnElement, Uuid, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

_DRIVER_KEY = "missionctl.prepared.driver"

_Process = Callable[[Any], Any] | None
_NOTHING = object()
_NO_PARAMS: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement as one dialect runs it.

    The driver's parameters are a list in the SQL's order (a dict by ``names`` for named
    paramstyles). ``template`` holds the statement's literal values already converted; each
    execution fills the ``generated`` positions (Python-side ``default=`` / ``onupdate=``, e.g.
    ``updated_at``) once, and the ``slots`` from each parameter set. A processor is never given
    None unless the type stores None as something else (JSON).
    """

    sql: str
    positional: bool
    names: tuple[str, ...]
    template: tuple[Any, ...]
    slots: tuple[tuple[int, str, _Process], ...]
    generated: tuple[tuple[int, Callable[[], Any], _Process], ...]
    results: tuple[_Process, ...]
    row: Any  # a namedtuple class for result rows, or None
    # Parameter sets → the driver's parameters (``_converter``).
    convert: Callable[[Sequence[Mapping[str, Any]]], list[Any]]


class Prepared:
    """A Core statement run on the driver's cursor of the caller's transaction.

    Parameters are passed by the names of the statement's ``bindparam``s; literal values in the
    statement are constants, converted once and bound as SQLAlchemy would bind them, and
    Python-side column defaults are computed once per call. Result rows are named tuples whose
    fields are the selected (or returned) columns' keys, converted by the columns' types.
    Objects pending in the session are flushed first, as ``Session.execute`` would. Errors are
    the driver's own (``sqlite3.Error``, ``psycopg.Error``), not SQLAlchemy's wrappers.
    """

    def __init__(self, statement: Executable) -> None:
        """Wrap ``statement``; it is compiled on first use for each dialect."""
        self.statement = statement
        self._plans: dict[tuple[str, str], _Plan] = {}

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Execute once with ``params`` and return every row."""
        plan, cursor = self._cursor(session)
        cursor.execute(plan.sql, plan.convert((params or _NO_PARAMS,))[0])
        return self._rows(plan, cursor)

    def scalars(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Execute once and return the first column of every row, converted by its type.

        No row objects are made: for reads of many single values.
        """
        plan, cursor = self._cursor(session)
        cursor.execute(plan.sql, plan.convert((params or _NO_PARAMS,))[0])
        raw = cursor.fetchall()
        cursor.close()
        process = plan.results[0]
        if process is None:
            return [row[0] for row in raw]
        return [process(row[0]) for row in raw]

    def first(self, session: Session, params: Mapping[str, Any] | None = None) -> Any | None:
        """Execute once and return the first row, or ``None``."""
        rows = self.all(session, params)
        return rows[0] if rows else None

    def run(self, session: Session, params: Mapping[str, Any] | None = None) -> int:
        """Execute once (a statement returning no rows); returns the row count."""
        plan, cursor = self._cursor(session)
        cursor.execute(plan.sql, plan.convert((params or _NO_PARAMS,))[0])
        count: int = cursor.rowcount
        cursor.close()
        return count

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per parameter set (``executemany``); returns the total row count."""
        if not rows:
            return 0
        plan, cursor = self._cursor(session)
        cursor.executemany(plan.sql, plan.convert(rows))
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
    names = tuple(compiled.positiontup) if positional else tuple(compiled.binds)
    makers = _python_defaults(compiled)
    template: list[Any] = []
    slots = []
    generated = []
    for index, name in enumerate(names):
        parameter = compiled.binds[name]
        process = _bind_processor(parameter, dialect)
        if name in makers:
            generated.append((index, makers[name], process))
            template.append(None)
        elif parameter.required:
            slots.append((index, name, process))
            template.append(None)
        else:  # a literal of the statement, e.g. ``status = 'running'``: converted once
            value = parameter.effective_value
            template.append(value if process is None else process(value))
    columns: Sequence[ColumnElement[Any]] = list(getattr(statement, "exported_columns", ()))
    results = tuple(_result_processor(column, dialect) for column in columns)
    row = namedtuple("Row", [str(c.key) for c in columns], rename=True) if columns else None
    return _Plan(
        sql=str(compiled),
        positional=positional,
        names=names,
        template=tuple(template),
        slots=tuple(slots),
        generated=tuple(generated),
        results=results,
        row=row,
        convert=_converter(positional, names, template, slots, generated),
    )


def _result_processor(column: ColumnElement[Any], dialect: Dialect) -> _Process:
    process: _Process = column.type.dialect_impl(dialect).result_processor(dialect, None)
    if process is None or not isinstance(column.type, Uuid):
        return process
    return functools.partial(_interned_uuid, process)


# UUIDs read from text (SQLite stores them as hex), by that text: a tick reads the same run,
# workflow and step ids again and again. Sharing one object per value saves parsing it, and
# lets the engine's dicts keyed by those ids match by identity, without calling
# ``UUID.__eq__``. UUIDs are immutable, so sharing is safe; the bound keeps memory flat.
_UUIDS: dict[Any, Any] = {}
_UUIDS_KEPT = 16384


def _interned_uuid(process: Callable[[Any], Any], value: Any) -> Any:
    found = _UUIDS.get(value)
    if found is None:
        if value is None:
            return None
        if len(_UUIDS) >= _UUIDS_KEPT:
            _UUIDS.clear()
        found = _UUIDS[value] = process(value)
    return found


def _converter(
    positional: bool,
    names: Sequence[str],
    template: Sequence[Any],
    slots: Sequence[tuple[int, str, _Process]],
    generated: Sequence[tuple[int, Callable[[], Any], _Process]],
) -> Callable[[Sequence[Mapping[str, Any]]], list[Any]]:
    """A function from parameter sets to the driver's parameters: converted, in the SQL's order.

    Each parameter set fills the ``slots``; ``template`` supplies the literals and ``generated``
    values are made and converted once per call, so a batch shares them. The function raises
    ``KeyError`` naming the bind parameter a parameter set lacks.

    It is compiled from the statement's layout. The hot statements run thousands of times a
    second, and a loop over a statement's layout costs more than the straight-line code it
    stands for (SQLAlchemy compiles its own row processing the same way). The source is built
    only from positions and the ``repr`` of bind names; values reach it through its namespace.
    """
    namespace: dict[str, Any] = {"_NOTHING": _NOTHING, "_NAMES": frozenset(names)}
    head: list[str] = []
    loop: list[str] = []
    items = [f"_K{i}" for i in range(len(names))]
    for index, value in enumerate(template):
        namespace[f"_K{index}"] = value
    for index, make, process in generated:
        namespace[f"_M{index}"] = make
        head.append(f"    g{index} = _M{index}()")
        if process is not None:
            namespace[f"_P{index}"] = process
            head.append(f"    g{index} = _P{index}(g{index})")
        items[index] = f"g{index}"
    for index, name, process in slots:
        if process is None:
            items[index] = f"row[{name!r}]"
            continue
        # A batch often repeats one object in a column (the tick's time, a run's id): an
        # identical object is not converted again.
        namespace[f"_P{index}"] = process
        head.append(f"    l{index} = c{index} = _NOTHING")
        loop += [
            f"            v{index} = row[{name!r}]",
            f"            if v{index} is not l{index}:",
            f"                l{index} = v{index}",
            f"                c{index} = _P{index}(v{index})",
        ]
        items[index] = f"c{index}"
    if positional:
        built = "(" + "".join(f"{item}, " for item in items) + ")"
    else:
        pairs = zip(names, items, strict=True)
        built = "{" + ", ".join(f"{name!r}: {item}" for name, item in pairs) + "}"
    source = "\n".join(
        [
            "def convert(rows):",
            *head,
            "    out = []",
            "    append = out.append",
            "    try:",
            "        for row in rows:",
            *loop,
            f"            append({built})",
            "    except KeyError as exc:",
            "        if exc.args and exc.args[0] in _NAMES:",
            "            raise KeyError(",
            "                f'a value is required for bind parameter {exc.args[0]!r}'",
            "            ) from None",
            "        raise",
            "    return out",
        ]
    )
    exec(compile(source, "<prepared parameters>", "exec"), namespace)
    convert: Callable[[Sequence[Mapping[str, Any]]], list[Any]] = namespace["convert"]
    return convert


def _python_defaults(compiled: Any) -> dict[str, Callable[[], Any]]:
    """The values SQLAlchemy would compute in Python at execution, by bind name."""
    makers: dict[str, Callable[[], Any]] = {}
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        source = column.default if column in compiled.insert_prefetch else column.onupdate
        if source is not None and source.is_scalar:
            makers[column.key] = functools.partial(_constant, source.arg)
        elif source is not None and source.is_callable:
            # SQLAlchemy wraps a zero-argument callable into one that takes a context.
            makers[column.key] = functools.partial(source.arg, None)
        else:
            raise ValueError(f"column {column.key!r} needs a default this cannot compute")
    return makers


def _constant(value: Any) -> Any:
    return value


def _bind_processor(parameter: BindParameter[Any], dialect: Dialect) -> _Process:
    kind = parameter.type.dialect_impl(dialect)
    processor: Callable[[Any], Any] | None = kind.bind_processor(dialect)
    if processor is None or isinstance(kind, JSON):
        return processor  # JSON stores None as the JSON ``null``: always convert
    convert = processor

    def skip_none(value: Any) -> Any:
        return None if value is None else convert(value)

    return skip_none

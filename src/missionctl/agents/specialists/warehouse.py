"""The data model of a warehouse project: staging and mart models in the warehouse's types.

A dbt project, or a goal that names a warehouse (BigQuery, Snowflake, …), keeps no
application tables with uuid keys and indexes: it models its sources into marts. Each feature
of the goal becomes one mart (``fct_<feature>``) at the grain its words set ("cohort revenue":
by cohort month and months since start; otherwise by month), with the columns of the metrics it
names ("churn", "refund rates", "revenue"), typed in the warehouse's own types. The staging
models are those the metrics are computed from; the tests are dbt's: the grain unique and not
null, every rate between 0 and 1. The tables are data, in ``warehouses.yaml`` next to this
module, validated at import.
"""

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files

from pydantic import ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass as data_class

from missionctl.agents.specialists.brief import Brief
from missionctl.agents.specialists.markdown import bullets, section, table
from missionctl.reading import Feature, singular
from missionctl.schemas.datafiles import read_data_file

__all__ = ["Mart", "is_warehouse_project", "warehouse_marts", "write_warehouse_model"]

_STRICT = ConfigDict(extra="forbid")
_UNNAMED = "SQL"  # the types of a project that names no warehouse
_PORTABLE = ("text", "integer", "numeric", "money", "date", "timestamp", "boolean", "key")
_WORD = re.compile(r"[a-z0-9]+")
# A mart is named by its feature's words before any preposition ("daily revenue per region").
_NAME_END = re.compile(r"\s+(?:per|by|for|of|with|across|in|on|from|into|each|every)\b.*$")
# "revenue per region", "churn by plan": a dimension of the grain.
_DIMENSION = re.compile(r"\b(?:per|by|for each)\s+([a-z][a-z_]*)")
_MAX_NAME_WORDS = 4
_PERIODS = ("hour", "day", "week", "month", "quarter", "year")


@data_class(frozen=True, slots=True, config=_STRICT)
class Column:
    """A column of a model, in a portable type (``_PORTABLE``)."""

    name: str
    type: str
    note: str = ""
    range: bool = False  # a rate: tested to lie between 0 and 1
    grain: bool = False  # part of the grain of any mart that has it (a currency)


@data_class(frozen=True, slots=True, config=_STRICT)
class Warehouse:
    """A warehouse's column types and how its tables are partitioned."""

    partition: str
    types: dict[str, str]


@data_class(frozen=True, slots=True, config=_STRICT)
class Grain:
    """Words that set a mart's grain, and the grain's columns."""

    words: str
    columns: tuple[Column, ...]


@data_class(frozen=True, slots=True, config=_STRICT)
class Metric:
    """Words that name a measure, its columns and the staging models it comes from."""

    words: str
    sources: tuple[str, ...]
    columns: tuple[Column, ...]


@data_class(frozen=True, slots=True, config=_STRICT)
class WarehouseTables:
    """The contents of ``warehouses.yaml``."""

    warehouses: dict[str, Warehouse]
    grains: tuple[Grain, ...]
    metrics: tuple[Metric, ...]


@dataclass(frozen=True, slots=True)
class Mart:
    """One mart: its model name, the feature it answers, its grain and its columns."""

    name: str
    feature: Feature
    grain: tuple[Column, ...]
    columns: tuple[Column, ...]
    sources: tuple[str, ...]


_MONTH = (Column(name="month", type="date", note="first day of the month"),)


@cache
def _tables() -> WarehouseTables:
    tables = read_data_file(
        files(__name__.rpartition(".")[0]) / "warehouses.yaml", TypeAdapter(WarehouseTables)
    )
    for name, warehouse in tables.warehouses.items():
        missing = [t for t in _PORTABLE if t not in warehouse.types]
        if missing:
            raise ValueError(f"warehouses.yaml: {name} has no type for {', '.join(missing)}")
    return tables


def is_warehouse_project(brief: Brief) -> bool:
    """Whether the mission models data in a warehouse: it names dbt or a warehouse.

    A warehouse fed by devices ("parking sensor events into Snowflake") is one; the software
    of a device is not, whatever store its readings end up in.
    """
    if brief.reading.kind == "firmware":
        return False
    return any(t.category == "warehouse" or t.name == "dbt" for t in brief.reading.technologies)


def warehouse_marts(brief: Brief) -> list[Mart]:
    """The marts of a warehouse project: one per feature of the goal, each name once."""
    return _distinct([_mart(feature) for feature in brief.features])


def write_warehouse_model(brief: Brief) -> list[str]:
    """``data-model.md`` of a warehouse project: layers, models with typed columns, tests."""
    name, warehouse = _warehouse(brief)
    marts = warehouse_marts(brief)
    staging = sorted({source for mart in marts for source in mart.sources})
    lines = section(
        "Layers",
        table(
            ["Layer", "Models", "Materialised as"],
            [
                ("Staging", ", ".join(f"`{s}`" for s in staging) or "—", "views, one per source"),
                ("Marts", ", ".join(f"`{m.name}`" for m in marts) or "—", "incremental tables"),
            ],
        ),
    )
    lines += section("Types", [f"Columns are in {name}'s types."])
    for mart in marts:
        lines += _mart_section(mart, warehouse)
    lines += section("Tests", bullets(_tests(marts)))
    return lines + _requirements_served(brief, marts)


def _distinct(marts: list[Mart]) -> list[Mart]:
    """``marts`` with a number after a name an earlier one took (``fct_churn_2``)."""
    seen: dict[str, int] = {}
    result = []
    for mart in marts:
        seen[mart.name] = seen.get(mart.name, 0) + 1
        count = seen[mart.name]
        result.append(mart if count == 1 else replace(mart, name=f"{mart.name}_{count}"))
    return result


def _warehouse(brief: Brief) -> tuple[str, Warehouse]:
    """The warehouse the mission names, by name, with its types.

    A warehouse (BigQuery, Snowflake, …) named anywhere wins over a database; a database of
    the table (PostgreSQL, MySQL) holds the models when no warehouse is named ("a dbt project
    on Postgres"); with neither, the types are ANSI SQL's.
    """
    warehouses = _tables().warehouses
    named = [t for t in brief.reading.technologies if t.base in warehouses]
    chosen = next((t.base for t in named if t.category == "warehouse"), None) or next(
        (t.base for t in named), _UNNAMED
    )
    label = "the warehouse (none named: ANSI SQL)" if chosen == _UNNAMED else chosen
    return label, warehouses[chosen]


def _mart(feature: Feature) -> Mart:
    text = feature.phrase.lower()
    grain = next(
        (g.columns for g in _tables().grains if re.search(rf"\b(?:{g.words})\b", text)), _MONTH
    )
    metrics = [m for m in _tables().metrics if re.search(rf"\b(?:{m.words})\b", text)]
    columns: dict[str, Column] = {}
    for metric in metrics:
        for column in metric.columns:
            columns.setdefault(column.name, column)
    words = _WORD.findall(_NAME_END.sub("", text))[:_MAX_NAME_WORDS]
    name = "fct_" + "_".join(words)
    grain += tuple(c for c in columns.values() if c.grain)
    grain += _dimensions(text, {c.name for c in grain})
    columns = {key: c for key, c in columns.items() if not c.grain}
    if not columns:
        note = f"rows of “{feature.phrase}” in the grain"
        columns["row_count"] = Column(name="row_count", type="integer", note=note)
    sources = tuple(dict.fromkeys(s for m in metrics for s in m.sources)) or (
        f"stg_{words[-1] if words else 'source'}",
    )
    return Mart(name, feature, grain, tuple(columns.values()), sources)


def _dimensions(text: str, taken: set[str]) -> tuple[Column, ...]:
    """The dimensions "per <noun>" and "by <noun>" add to the grain, but for times and ``taken``."""
    times = {c.name for g in _tables().grains for c in g.columns} | set(_PERIODS)
    found = []
    for noun in _DIMENSION.findall(text):
        name = singular(noun)
        if name not in times and name not in taken:
            taken.add(name)
            found.append(Column(name=name, type="text", note=f"the {name} it is for"))
    return tuple(found)


def _mart_section(mart: Mart, warehouse: Warehouse) -> list[str]:
    grain = ", ".join(f"`{c.name}`" for c in mart.grain)
    rows = [
        (c.name, warehouse.types[c.type], "grain; not null" + (f"; {c.note}" if c.note else ""))
        for c in mart.grain
    ]
    rows += [(c.name, warehouse.types[c.type], c.note or "—") for c in mart.columns]
    partition = warehouse.partition.format(column=mart.grain[0].name)
    return section(
        f"`{mart.name}`",
        [
            f"Answers “{mart.feature.text}”. One row per {grain}; built from "
            f"{', '.join(f'`{s}`' for s in mart.sources)}. Partitioning: {partition}.",
            "",
            *table(["Column", "Type", "Notes"], rows),
        ],
        level=3,
    )


def _tests(marts: list[Mart]) -> list[str]:
    tests = []
    for mart in marts:
        grain = ", ".join(c.name for c in mart.grain)
        tests.append(f"`{mart.name}`: unique combination of ({grain}); not_null on each")
        tests += [
            f"`{mart.name}.{c.name}`: between 0 and 1 where not null"
            for c in mart.columns
            if c.range
        ]
    tests.append("Every staging model: its source key unique and not null")
    return tests


def _requirements_served(brief: Brief, marts: list[Mart]) -> list[str]:
    rows = []
    for mart in marts:
        keys = brief.requirements_for(mart.feature.text)
        if keys:
            rows.append((", ".join(keys), mart.feature.text, f"`{mart.name}`"))
    return section("Requirements it serves", table(["Keys", "Feature", "Model"], rows))

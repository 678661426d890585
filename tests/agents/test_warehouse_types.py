"""A data plan's model is in the types of the warehouse the goal names, whatever feeds it.

Goals of this file's own. The warehouse named (BigQuery, Snowflake, Redshift) sets every
column's type; a database the models live in (PostgreSQL) sets them when no warehouse is
named; a warehouse fed by sensors is still a warehouse, not a device; and nothing a run of a
BigQuery plan writes falls back to PostgreSQL's types.
"""

import re
from importlib.resources import files

import pytest
import yaml

from missionctl.planning import LocalPlanner
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.documents import generate_document
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.packs import build_pack
from missionctl.services.usecases.plans import plan_mission, read_plan
from tests.agents.test_specialists import documents, run_plan

ACTOR = "user:test"
PORTABLE = ("text", "integer", "numeric", "money", "date", "timestamp", "boolean", "key")
_POSTGRES_TYPES = re.compile(r"\b(?:uuid|timestamptz|jsonb|bigint)\b")


def mart(model: str, name: str) -> dict[str, str]:
    """The columns of mart ``name`` in a data model: column → type."""
    section = model.split(f"### `{name}`")[1].split("###")[0].split("## ")[0]
    found = re.findall(r"^\| (\w+) \| ([^|]+?) \|", section, re.MULTILINE)
    return {name: kind for name, kind in found if name != "Column"}


async def model_of(goal: str) -> str:
    return documents(await run_plan(goal))["data-model.md"]


def test_the_data_file_maps_every_portable_type_for_every_warehouse() -> None:
    text = files("missionctl.agents.specialists").joinpath("warehouses.yaml").read_text("utf-8")
    warehouses = yaml.safe_load(text)["warehouses"]
    assert {"BigQuery", "Snowflake", "Redshift", "PostgreSQL", "SQL"} <= set(warehouses)
    for name, warehouse in warehouses.items():
        assert set(PORTABLE) <= set(warehouse["types"]), name
    bigquery = warehouses["BigQuery"]["types"]
    named = ("text", "integer", "numeric", "date", "timestamp", "boolean")
    expected = ["STRING", "INT64", "NUMERIC", "DATE", "TIMESTAMP", "BOOL"]
    assert [bigquery[t] for t in named] == expected
    assert warehouses["Snowflake"]["types"]["timestamp"] == "TIMESTAMP_NTZ"


async def test_a_warehouse_fed_by_sensors_is_modelled_in_the_warehouse_not_on_a_device() -> None:
    model = await model_of(
        "Build a data pipeline that loads greenhouse sensor readings into Snowflake with hourly "
        "humidity per bay"
    )
    assert "Records on the device" not in model and "typedef struct" not in model
    assert "Columns are in Snowflake's types." in model
    humidity = mart(model, "fct_hourly_humidity")
    assert humidity["hour"] == "TIMESTAMP_NTZ" and humidity["bay"] == "VARCHAR"
    assert humidity["row_count"] == "NUMBER(38,0)"


async def test_redshift_columns_are_redshift_s() -> None:
    model = await model_of("Build a dbt project on Redshift with weekly signups per channel")
    assert "Columns are in Redshift's types." in model
    signups = mart(model, "fct_weekly_signups")
    assert signups == {"week_start": "DATE", "channel": "VARCHAR(256)", "signups": "BIGINT"}
    assert 'sort: "week_start"' in model


async def test_a_dbt_project_on_postgres_is_in_postgresql_types() -> None:
    model = await model_of(
        "Create a dbt project on Postgres 15 for a ski school with daily lesson revenue and weekly "
        "active users"
    )
    assert "Columns are in PostgreSQL's types." in model
    revenue = mart(model, "fct_daily_lesson_revenue")
    assert revenue["day"] == "date" and revenue["gross_revenue"] == "numeric(38,2)"
    assert mart(model, "fct_weekly_active_users")["active_users"] == "bigint"


async def test_the_warehouse_wins_over_the_database_the_data_comes_from() -> None:
    model = await model_of(
        "Build a dbt project that moves ticket orders from MySQL into BigQuery with daily revenue"
    )
    assert "Columns are in BigQuery's types." in model
    assert mart(model, "fct_daily_revenue")["gross_revenue"] == "NUMERIC"
    assert "VARCHAR(255)" not in model and "DATETIME" not in model


@pytest.mark.parametrize(
    "goal",
    [
        "Build a BigQuery pipeline for a ferry company that ingests ticket scans nightly, with "
        "weekly boardings per route and refund rates",
    ],
)
async def test_nothing_a_run_of_a_bigquery_plan_writes_is_in_postgresql_types(
    ctx: ServiceContext, goal: str
) -> None:
    constraint = "nightly build finishes within 30 minutes"
    mission = await create_mission(
        ctx, data=MissionCreate(goal=goal, constraints=[constraint]), actor=ACTOR
    )
    await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=LocalPlanner())
    plan = await read_plan(ctx, mission_id=mission.id)
    prd = await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    pack = await build_pack(ctx, mission_id=mission.id)
    docs = documents(await run_plan(goal, constraints=[constraint]))
    docs["prd"] = prd.body
    docs.update({f"pack/{f.path}": f.content.decode() for f in pack.files})

    # A data plan: its features are data work, and its model is BigQuery's.
    assert "data" in {t.role for t in plan.tasks} and "backend" not in {t.role for t in plan.tasks}
    model = docs["data-model.md"]
    assert "Columns are in BigQuery's types." in model
    boardings = mart(model, "fct_weekly_boardings")
    assert boardings["week_start"] == "DATE" and boardings["route"] == "STRING"
    assert mart(model, "fct_refund_rates")["refund_rate"] == "NUMERIC"
    leaks = {name: _POSTGRES_TYPES.findall(text) for name, text in docs.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    # The pipeline builds those marts, and each task touches its own, not application tables.
    pipeline = docs["pipeline.md"]
    assert "| `fct_weekly_boardings` | one row per week_start, route |" in pipeline
    spec = next(
        text
        for name, text in docs.items()
        if name.endswith("implementation.md") and ("Build weekly boardings per route" in text)
    )
    touched = spec.split("## Data it will touch")[1].split("##")[0]
    assert "`fct_weekly_boardings`" in touched and "fct_refund_rates" not in touched
    assert "/api/v1" not in "\n".join(docs.values())

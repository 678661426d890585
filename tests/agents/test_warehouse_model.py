"""A warehouse project's data model: marts at the grain the goal sets, in the warehouse's types.

Goals of this file's own. A dbt project or a goal naming a warehouse gets staging and mart
models, not application tables: no uuid keys, no indexes, no PostgreSQL types, and each
column in the types of the warehouse the goal names.
"""

import re

import pytest

from tests.agents.test_specialists import documents, run_plan

_POSTGRES_ONLY = re.compile(r"\b(?:uuid|timestamptz|bigint|jsonb?|primary key)\b")


def _mart(model: str, name: str) -> str:
    """The section of mart ``name`` in a data model."""
    return model.split(f"### `{name}`")[1].split("###")[0]


async def test_a_dbt_project_on_bigquery_models_marts_in_bigquery_types() -> None:
    goal = (
        "Create a dbt project on BigQuery that models subscription churn, cohort revenue and "
        "refund rates"
    )
    model = documents(await run_plan(goal))["data-model.md"]

    assert not _POSTGRES_ONLY.search(model)
    assert "Columns are in BigQuery's types." in model
    churn = _mart(model, "fct_subscription_churn")
    assert "| month | DATE | grain; not null;" in churn
    assert "| churned_subscriptions | INT64 |" in churn
    assert "| churn_rate | NUMERIC |" in churn
    assert 'partition_by: {field: "month", data_type: "date"}' in churn
    cohorts = _mart(model, "fct_cohort_revenue")
    assert "One row per `cohort_month`, `months_since_start`, `currency`" in cohorts
    assert "| refund_rate | NUMERIC |" in _mart(model, "fct_refund_rates")
    assert "`fct_refund_rates.refund_rate`: between 0 and 1 where not null" in model
    assert "`stg_subscriptions`" in model and "`stg_refunds`" in model
    # Every feature is answered by a mart, traced to its requirement.
    assert "| R1 | models subscription churn | `fct_subscription_churn` |" in model


async def test_the_grain_follows_the_goal_s_periods_and_dimensions() -> None:
    goal = (
        "Build a Snowflake warehouse with daily revenue per currency, weekly active users by "
        "country, and churn by plan"
    )
    model = documents(await run_plan(goal))["data-model.md"]

    assert "Columns are in Snowflake's types." in model
    assert "One row per `day`, `currency`" in _mart(model, "fct_daily_revenue")
    users = _mart(model, "fct_weekly_active_users")
    assert "One row per `week_start`, `country`" in users
    assert "| active_users | NUMBER(38,0) |" in users
    assert "One row per `month`, `plan`" in _mart(model, "fct_churn")
    assert 'cluster_by: ["day"]' in model


async def test_a_dbt_project_naming_no_warehouse_says_so_and_stays_portable() -> None:
    model = documents(await run_plan("Create a dbt project with order volumes per store"))[
        "data-model.md"
    ]
    assert "Columns are in the warehouse (none named: ANSI SQL)'s types." in model
    orders = _mart(model, "fct_order_volumes")
    assert "| store | VARCHAR | grain; not null;" in orders
    assert "| average_order_value | DECIMAL(38,2) |" in orders


@pytest.mark.parametrize(
    "goal",
    [
        "Create a dbt project on BigQuery with " + "churn, " * 300 + "revenue",
        "Create a dbt project on BigQuery with | pipes | and `ticks` per <b>region</b>",
    ],
)
async def test_odd_feature_lists_still_give_a_valid_model(goal: str) -> None:
    model = documents(await run_plan(goal))["data-model.md"]
    assert model.count("### `fct_") <= 10
    # The user's words never break a table: every row of a mart has its three cells.
    rows = [line for line in model.split("## Tests")[0].splitlines() if line.startswith("| ")]
    assert rows and all(len(re.findall(r"(?<!\\)\|", row)) == 4 for row in rows)

"""The demo history, written through the services: deterministic, visible, verifiable."""

import asyncio
from collections.abc import Coroutine
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.demo.seed import DemoSummary
from missionctl.errors import Conflict, ValidationFailed
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.analytics import (
    parse_query,
    read_funnel,
    read_retention,
    read_trends,
)
from missionctl.services.usecases.anomalies import read_anomalies
from missionctl.services.usecases.audit import verify_event_chain
from missionctl.services.usecases.identity import create_user
from missionctl.settings import Settings
from tests.support.demo import (
    CLI_SEED,
    DEMO_TODAY,
    SEEDING,
    SHARED_DAYS,
    SHORT_DAYS,
    CliSeeded,
    seed_context,
    seeded_arguments,
)

pytestmark = SEEDING


async def _answers(ctx: ServiceContext, days: int, today: date = DEMO_TODAY) -> dict[str, Any]:
    """The cockpit's three answers over the history ending before ``today``, without their
    generation times."""
    query = parse_query(since=str(today - timedelta(days=days + 7)), until=str(today), segment=None)
    answers = {
        "trends": await read_trends(ctx, query=query, grain="day"),
        "funnel": await read_funnel(ctx, query=query, grain="week"),
        "retention": await read_retention(ctx, query=query),
    }
    return {name: answer.model_dump(mode="json")["items"] for name, answer in answers.items()}


async def _found(settings: Settings) -> set[tuple[str, str, str]]:
    """The anomalies as of the history's last day: (metric, comparison, severity)."""
    query = parse_query(since=None, until=str(DEMO_TODAY - timedelta(days=1)), segment=None)
    async with open_context(settings) as ctx:
        answer = await read_anomalies(ctx, query=query)
    return {(a.metric, a.comparison, a.severity) for a in answer.items}


# The three injections, as the detector should report them: the success rate's fall and the
# cost spike critical, the dipped cohorts' retention a warning. The cost spike is also a
# week-over-week warning (three days of triple cost in a week), and the fall's last day is
# also far below the median of the days before: the same anomalies, each seen twice.
EXPECTED = {
    ("success_rate", "week_over_week", "critical"),
    ("success_rate", "day_vs_median", "critical"),
    ("cost_usd", "day_vs_median", "critical"),
    ("cost_usd", "week_over_week", "warning"),
    ("retention", "cohort_vs_prior", "warning"),
}


async def test_the_seeded_history_holds_its_three_anomalies_with_their_severities(
    demo_settings: Settings,
) -> None:
    assert await _found(demo_settings) == EXPECTED
    # The log is a valid chain whose timestamps never go back, all inside the history.
    async with open_context(demo_settings) as ctx:
        assert (await verify_event_chain(ctx)).ok
        async with ctx.read() as session:
            stamps = (await session.scalars(select(Event.ts).order_by(Event.seq))).all()
    assert stamps == sorted(stamps)
    assert stamps[0].date() == DEMO_TODAY - timedelta(days=SHARED_DAYS)
    assert stamps[-1].date() == DEMO_TODAY - timedelta(days=1)


async def test_without_its_anomalies_the_same_history_flags_nothing(
    plain_demo_settings: Settings,
) -> None:
    assert await _found(plain_demo_settings) == set()


# On PostgreSQL, against SQLite: the seeding is the same whatever the database (the other tests
# of the seeding run on SQLite, as a demo home is made). The SQLite side is the home that
# `missionctl demo seed` wrote for its own test, seeded once per session: a second SQLite seed
# of the same length here cost a quarter of a minute and showed nothing more.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_same_arguments_write_the_same_facts_on_either_database(
    ctx: ServiceContext, cli_seeded: CliSeeded
) -> None:
    """A PostgreSQL database seeded with the arguments the command's SQLite home records
    answers as that home does; of two seeds at once, the second is refused."""
    assert cli_seeded.exit_code == 0, cli_seeded.output
    written = await seeded_arguments(cli_seeded.settings)
    assert (written.days, written.seed_number, written.anomalies) == (SHORT_DAYS, CLI_SEED, True)

    def same() -> Coroutine[Any, Any, DemoSummary]:
        return seed_context(
            ctx,
            days=written.days,
            today=written.today,
            anomalies=written.anomalies,
            seed_number=written.seed_number,
        )

    # Two seeds at once: the moved clock is the process's, so the second is refused.
    first, second = await asyncio.gather(same(), same(), return_exceptions=True)
    refused = [r for r in (first, second) if isinstance(r, Conflict)]
    assert len(refused) == 1 and "another dated history" in refused[0].message
    summary = next(r for r in (first, second) if isinstance(r, DemoSummary))
    answers = await _answers(ctx, SHORT_DAYS, written.today)
    assert summary.runs == sum(i["runs_started"] for i in answers["trends"]) > 0
    # The SQLite database seeded alike answers alike (the facts, not the ids).
    async with open_context(cli_seeded.settings) as other:
        assert await _answers(other, SHORT_DAYS, written.today) == answers


async def test_a_log_that_holds_anything_is_refused_and_left_as_it_was(
    ctx: ServiceContext,
) -> None:
    await create_user(ctx, data=UserCreate(name="ada"), actor="system")
    async with ctx.read() as session:
        before = (await session.scalars(select(Event.seq))).all()
    with pytest.raises(Conflict, match="already holds 1 events") as refused:
        await seed_context(ctx, today=DEMO_TODAY)
    assert refused.value.field == "home"
    async with ctx.read() as session:
        assert (await session.scalars(select(Event.seq))).all() == before


@pytest.mark.parametrize("days", [27, 367])
async def test_a_length_outside_the_range_is_refused_before_anything_is_written(
    ctx: ServiceContext, days: int
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await seed_context(ctx, days=days, today=DEMO_TODAY)
    assert refused.value.problems[0].field == "days"
    async with ctx.read() as session:
        assert (await session.scalars(select(Event.seq))).all() == []

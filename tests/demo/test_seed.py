"""The demo history, written through the services: deterministic, visible, verifiable."""

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from missionctl.db.models import Event
from missionctl.errors import Conflict, ValidationFailed
from missionctl.schemas.identity import UserCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.analytics import parse_query, read_funnel, read_retention, read_trends
from missionctl.services.audit import verify_event_chain
from missionctl.services.identity import create_user
from missionctl.settings import Settings
from tests.support.demo import DEMO_DAYS, seed_context

# A fixed day, so that the cohorts' weeks fall the same whatever day the suite runs.
TODAY = date(2026, 3, 4)


async def _answers(ctx: ServiceContext, today: date) -> dict[str, Any]:
    """The cockpit's three answers over the history, without their generation times."""
    query = parse_query(
        since=str(today - timedelta(days=DEMO_DAYS + 7)), until=str(today), segment=None
    )
    answers = {
        "trends": await read_trends(ctx, query=query, grain="day"),
        "funnel": await read_funnel(ctx, query=query, grain="week"),
        "retention": await read_retention(ctx, query=query),
    }
    return {name: answer.model_dump(mode="json")["items"] for name, answer in answers.items()}


def _rate(items: list[dict[str, Any]]) -> float:
    ended = sum(i["runs_ended"] for i in items)
    completed = sum(round((i["success_rate"] or 0) * i["runs_ended"]) for i in items)
    return completed / ended


def _cost_per_run(items: list[dict[str, Any]]) -> float:
    return sum(i["cost_usd"] for i in items) / sum(i["runs_started"] for i in items)


def _week_one(retention: list[dict[str, Any]], weeks: set[str]) -> float:
    cohorts = [c for c in retention if c["users"] and c["weeks"][0]["complete"]]
    chosen = [c for c in cohorts if (c["cohort"] in weeks)]
    return sum(c["weeks"][0]["users"] for c in chosen) / sum(c["users"] for c in chosen)


def _injected_figures(answers: dict[str, Any], today: date) -> dict[str, float]:
    """Last 10 days' success against before, last 3 days' cost per run, dipped cohorts' week 1."""
    trends = [i for i in answers["trends"] if i["runs_started"]]
    last10 = [i for i in trends if i["start"] >= str(today - timedelta(days=10))]
    before10 = [i for i in trends if i["start"] < str(today - timedelta(days=10))]
    last3 = [i for i in trends if i["start"] >= str(today - timedelta(days=3))]
    before3 = [i for i in trends if i["start"] < str(today - timedelta(days=3))]
    monday = today - timedelta(days=today.weekday())
    dipped = {
        f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"
        for d in (monday - timedelta(weeks=3), monday - timedelta(weeks=4))
    }
    others = {c["cohort"] for c in answers["retention"]} - dipped
    return {
        "success_last10": _rate(last10),
        "success_before": _rate(before10),
        "cost_ratio": _cost_per_run(last3) / _cost_per_run(before3),
        "retention_ratio": _week_one(answers["retention"], dipped)
        / _week_one(answers["retention"], others),
    }


async def test_the_history_shows_its_three_anomalies_and_its_chain_verifies(
    ctx: ServiceContext, tmp_path: Path
) -> None:
    summary = await seed_context(ctx, today=TODAY)
    answers = await _answers(ctx, TODAY)
    figures = _injected_figures(answers, TODAY)
    assert figures["success_last10"] < figures["success_before"] - 0.12, figures
    assert 2.3 < figures["cost_ratio"] < 3.8, figures
    assert figures["retention_ratio"] < 0.7, figures
    assert summary.runs == sum(i["runs_started"] for i in answers["trends"])
    assert summary.people == answers["funnel"][0]["steps"][0]["users"] + sum(
        c["steps"][0]["users"] for c in answers["funnel"][1:]
    )
    # The log is a valid chain whose timestamps never go back, all inside the history.
    assert (await verify_event_chain(ctx)).ok
    async with ctx.read() as session:
        stamps = (await session.scalars(select(Event.ts).order_by(Event.seq))).all()
    assert stamps == sorted(stamps)
    assert stamps[0].date() == summary.first_day and stamps[-1].date() == summary.last_day
    # A second database seeded alike answers alike (the facts, not the ids).
    again = Settings(home=tmp_path / "again")
    async with open_context(again) as other:
        await seed_context(other, today=TODAY)
        assert await _answers(other, TODAY) == answers


async def test_without_anomalies_the_same_history_shows_none(ctx: ServiceContext) -> None:
    # Two seeds at once: the moved clock is the process's, so the second is refused.
    first, second = await asyncio.gather(
        seed_context(ctx, today=TODAY, anomalies=False),
        seed_context(ctx, today=TODAY, anomalies=False),
        return_exceptions=True,
    )
    refused = [r for r in (first, second) if isinstance(r, Conflict)]
    assert len(refused) == 1 and "another dated history" in refused[0].message
    figures = _injected_figures(await _answers(ctx, TODAY), TODAY)
    assert abs(figures["success_last10"] - figures["success_before"]) < 0.1, figures
    assert 0.7 < figures["cost_ratio"] < 1.4, figures
    assert figures["retention_ratio"] > 0.75, figures


async def test_a_log_that_holds_anything_is_refused_and_left_as_it_was(
    ctx: ServiceContext,
) -> None:
    await create_user(ctx, data=UserCreate(name="ada"), actor="system")
    async with ctx.read() as session:
        before = (await session.scalars(select(Event.seq))).all()
    with pytest.raises(Conflict, match="already holds 1 events") as refused:
        await seed_context(ctx, today=TODAY)
    assert refused.value.field == "home"
    async with ctx.read() as session:
        assert (await session.scalars(select(Event.seq))).all() == before


@pytest.mark.parametrize("days", [27, 367])
async def test_a_length_outside_the_range_is_refused_before_anything_is_written(
    ctx: ServiceContext, days: int
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await seed_context(ctx, days=days, today=TODAY)
    assert refused.value.problems[0].field == "days"
    async with ctx.read() as session:
        assert (await session.scalars(select(Event.seq))).all() == []

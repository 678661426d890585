"""``missionctl analytics …`` on the local database and through a server, with the same answers."""

import asyncio
from datetime import timedelta

import pytest

from missionctl.db.types import utcnow
from missionctl.services import open_context
from tests.analytics import history
from tests.analytics.anomaly_facts import write_history
from tests.analytics.history import Injection
from tests.cli.test_cli_both_ways import MODES, World, as_json, ok, world  # noqa: F401
from tests.cli.test_remote_cli import text


@pytest.mark.parametrize("mode", MODES)
def test_every_analytics_command_answers_locally_and_remotely(
    world: World,  # noqa: F811
    mode: str,
) -> None:
    trends = as_json(world.cli(mode, "analytics", "trends", "--grain", "week", "--json"))
    assert trends["meta"]["time_zone"] == "UTC" and trends["meta"]["grain"] == "week"
    funnel = as_json(
        world.cli(
            mode, "analytics", "funnel", "--since", "2026-01-05", "--until", "2026-01-18", "--json"
        )
    )
    assert [item["cohort"] for item in funnel["items"]] == ["2026-W02", "2026-W03"]
    retention = ok(world.cli(mode, "analytics", "retention"))
    assert "Weekly retention" in text(retention)
    definitions = ok(world.cli(mode, "analytics", "definitions"))
    assert "funnel.signed_in" in text(definitions)
    table = ok(world.cli(mode, "analytics", "trends", "--segment", "planner:local"))
    assert "Trends by day" in text(table)


@pytest.mark.parametrize("mode", MODES)
def test_orchestration_prints_clean_runs_and_time_to_bootstrap(
    world: World,  # noqa: F811
    mode: str,
) -> None:
    printed = text(ok(world.cli(mode, "analytics", "orchestration", "--grain", "day")))
    assert "Orchestration by day" in printed and "Clean runs by workflow" in printed
    assert (
        "Edits and groundwork by day" in printed and "Edits and groundwork by workflow" in printed
    )
    answer = as_json(
        world.cli(mode, "analytics", "orchestration", "--since", "2026-01-05", "--json")
    )
    assert answer["meta"]["grain"] == "week" and answer["clean_runs"]["share"] is None
    assert answer["duplicated_edits"]["share"] is None and answer["groundwork"]["started"] == 0
    bad = world.cli(mode, "analytics", "orchestration", "--segment", "role:admin")
    assert bad.exit_code == 2 and "segment" in text(bad) and "workflow:NAME" in text(bad)


@pytest.mark.parametrize("mode", MODES)
def test_insights_print_the_summary_and_sections_or_json(
    world: World,  # noqa: F811
    mode: str,
) -> None:
    printed = text(ok(world.cli(mode, "analytics", "insights", "--since", "2026-01-05")))
    assert "written by the deterministic writer" in printed
    for title in (
        "What changed",
        "Why it matters",
        "Suggested actions",
        "Questions to investigate",
    ):
        assert title in printed
    answer = as_json(world.cli(mode, "analytics", "insights", "--segment", "role:viewer", "--json"))
    assert answer["source"] == "deterministic" and answer["meta"]["segment"]["value"] == "viewer"
    assert answer["summary"] and answer["sections"]["what_changed"]
    bad = world.cli(mode, "analytics", "insights", "--until", "2026-13-01")
    assert bad.exit_code == 2 and "until" in text(bad) and "YYYY-MM-DD" in text(bad)


@pytest.mark.parametrize("mode", MODES)
def test_bad_options_are_named(world: World, mode: str) -> None:  # noqa: F811
    bad = world.cli(mode, "analytics", "trends", "--since", "2026-02-30")
    assert bad.exit_code == 2 and "since" in text(bad) and "YYYY-MM-DD" in text(bad)
    segment = world.cli(mode, "analytics", "funnel", "--segment", "role:king")
    assert segment.exit_code == 2 and "segment" in text(segment)


def test_rebuild_works_on_the_local_database_only(world: World) -> None:  # noqa: F811
    rebuilt = ok(world.cli("local", "analytics", "rebuild"))
    assert "rebuilt up to event" in text(rebuilt)
    refused = world.cli("remote", "analytics", "rebuild")
    assert refused.exit_code == 2 and "local database" in text(refused)


@pytest.mark.parametrize("mode", MODES)
def test_anomalies_answer_locally_and_remotely(world: World, mode: str) -> None:  # noqa: F811
    empty = ok(world.cli(mode, "analytics", "anomalies"))
    assert "nothing moved past its thresholds" in text(empty)
    answer = as_json(world.cli(mode, "analytics", "anomalies", "--until", "2026-11-22", "--json"))
    assert answer["meta"]["range"]["until"] == "2026-11-22" and answer["items"] == []
    bad = world.cli(mode, "analytics", "anomalies", "--segment", "role:king", token=world.viewer)
    assert bad.exit_code == 2 and "segment" in text(bad)


def test_notify_sends_a_seeded_anomaly_once_and_works_locally_only(
    world: World,  # noqa: F811
) -> None:
    async def seed() -> None:
        async with open_context(world.settings, upgrade=False) as ctx:
            yesterday = utcnow().date() - timedelta(days=1)
            days = history.days(4, as_of=yesterday, injection=Injection(cost_factor=6.0))
            await write_history(ctx, days)

    asyncio.run(seed())
    table = ok(world.cli("local", "analytics", "anomalies"))
    assert "critical" in text(table) and "Cost" in text(table)
    sent = ok(world.cli("local", "analytics", "notify"))
    assert "Sent" in text(sent) and "cost" in text(sent).lower()
    again = ok(world.cli("local", "analytics", "notify", "--json"))
    assert as_json(again) == []
    refused = world.cli("remote", "analytics", "notify")
    assert refused.exit_code == 2 and "local database" in text(refused)

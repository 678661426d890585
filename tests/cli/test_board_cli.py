"""``missionctl board`` in an 80-column terminal: a row per task by column, counts, filters,
a mission named by its first digits, and refusals with the exit codes the README documents."""

import asyncio
import json
import re
import uuid
from typing import Any

import pytest

from missionctl.cli.board import _wrap
from missionctl.services import open_context
from missionctl.services.usecases.runs import cancel_run
from missionctl.settings import Settings
from tests.engine.helpers import running_engine, wait_for_step
from tests.web.support import start_steps

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
STEPS = ("wrote", "never", "broken", "wait")
GOALS = (
    "A booking system for a community climbing wall with waivers and belay checks",
    "A Telegram bot that reminds allotment holders to water their plots",
)


def _planned(cli: Any, goal: str) -> str:
    made = cli("mission", "create", goal)
    assert made.exit_code == 0, made.output
    mission_id: str = UUID.findall(made.stdout)[0]
    planned = cli("mission", "plan", mission_id)
    assert planned.exit_code == 0, planned.output
    return mission_id


def test_the_board_fits_80_columns_and_counts_each_column(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    climbing = _planned(cli, GOALS[0])
    allotments = _planned(cli, GOALS[1])
    shown = cli("board")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), shown.stdout
    assert lines[0].split() == ["state", "mission", "task", "role", "outcome"]
    rows = [line for line in lines if line.startswith("planned")]
    as_json = json.loads(cli("board", "--json").stdout)
    planned = next(c for c in as_json["columns"] if c["name"] == "planned")["cards"]
    assert len(rows) == len(planned) > 0
    assert lines[-1] == f"{len(planned)} tasks of 2 missions: {len(planned)} planned"

    # One mission, named by the first digits that tell it apart; a role; both at once.
    length = next(n for n in range(4, 36) if climbing[:n] != allotments[:n]) + 1
    one = cli("board", "--mission", climbing[:length], "--json")
    assert one.exit_code == 0, one.output
    cards = [c for column in json.loads(one.stdout)["columns"] for c in column["cards"]]
    assert cards and {c["mission_id"] for c in cards} == {climbing}
    qa = cli("board", "--mission", climbing, "--role", "qa", "--json")
    cards = [c for column in json.loads(qa.stdout)["columns"] for c in column["cards"]]
    assert cards and {c["role"] for c in cards} == {"qa"}


def test_bad_filters_exit_2_and_an_unknown_mission_exits_1(cli: Any) -> None:
    _planned(cli, GOALS[1])
    bad = cli("board", "--outcome", "succeeded")
    assert bad.exit_code == 2 and "outcome" in bad.output, bad.output
    too_many = cli("board", "--missions", "101")
    assert too_many.exit_code == 2 and "missions" in too_many.output, too_many.output
    missing = cli("board", "--mission", "00000000-0000-4000-8000-000000000000")
    assert missing.exit_code == 1 and "no mission" in missing.output, missing.output
    nothing = cli("board", "--role", "astronaut")
    assert nothing.exit_code == 0 and "no task matches" in nothing.stdout


def _ended_every_way(settings: Settings, mission_id: str) -> None:
    """A run of the mission whose steps succeeded, were skipped, failed and were canceled."""
    steps = [
        {"id": "wrote", "agent": "builtin:noop"},
        {"id": "never", "agent": "builtin:noop", "depends_on": ["wrote"], "when": "false"},
        {"id": "broken", "agent": "builtin:fail", "inputs": {"retryable": False}},
        {"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 60}},
    ]

    async def go() -> None:
        async with open_context(settings, upgrade=False) as ctx:
            run = await start_steps(ctx, uuid.UUID(mission_id), steps)
            async with running_engine(ctx):
                for step_id, status in [("never", "skipped"), ("broken", "failed")]:
                    await wait_for_step(ctx, run.id, step_id, status)
                await wait_for_step(ctx, run.id, "wait", "running")
                await cancel_run(ctx, run_id=run.id, actor="user:test")

    asyncio.run(go())


def test_a_skipped_or_canceled_task_is_counted_apart_from_done_and_failed(
    cli: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _planned(cli, GOALS[0])
    _ended_every_way(settings, _planned(cli, GOALS[1]))
    shown = cli("board")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), shown.stdout
    # A row says what its step did: the canceled-or-skipped column names which of the two.
    states = {key: next(r for r in lines if f" {key}: " in r).split()[0] for key in STEPS}
    assert states == {"wrote": "done", "never": "skipped", "broken": "failed", "wait": "canceled"}
    columns = json.loads(cli("board", "--json").stdout)["columns"]
    planned = len(columns[0]["cards"])
    first = next(at for at, line in enumerate(lines) if " tasks of " in line)
    summary = " ".join(lines[first:])
    assert summary == (
        f"{planned + 4} tasks of 2 missions: {planned} planned, 1 failed, 2 canceled or "
        "skipped, 1 done"
    )


def test_the_counts_break_between_two_counts_within_80_columns() -> None:
    counts = [f"1234 {label}" for label in ("planned", "queued", "running", "awaiting approval")]
    counts += [f"1234 {label}" for label in ("blocked", "failed", "canceled or skipped", "done")]
    more = ["(older missions left out: --missions N)"]
    lines = _wrap("9872 tasks of 100 missions:", counts, more)
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines), lines
    assert " ".join(line.strip() for line in lines) == (
        "9872 tasks of 100 missions: " + ", ".join(counts) + " " + more[0]
    )
    assert all(line.startswith("  ") for line in lines[1:])

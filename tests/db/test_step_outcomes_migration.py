"""Revision 0032 fills in the outcome of the steps that ended before it, by the same rules."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from missionctl.db import Database
from missionctl.db.migrate import downgrade_database, upgrade_database
from missionctl.db.models import StepRun
from missionctl.domain.outcomes import step_outcome
from tests.db.test_usage_days import insert_bare_run

_FIGURES = ("estimate_micros", "input_tokens", "output_tokens", "cost_micros")
# The rows as the engine wrote them before 0032: no outcome column.
_OLD_STEPS = sa.table(
    "step_runs",
    sa.column("id", sa.Uuid()),
    sa.column("run_id", sa.Uuid()),
    sa.column("step_id", sa.String()),
    sa.column("attempt", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("agent", sa.String()),
    sa.column("risk_tier", sa.String()),
    sa.column("inputs", sa.JSON()),
    sa.column("outputs", sa.JSON()),
    *(sa.column(name, sa.BigInteger()) for name in _FIGURES),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
OLD_ROWS: list[tuple[str, str, str, dict[str, Any], str | None]] = [
    ("spec", "builtin:architect", "succeeded", {"documents": ["a.md"]}, "documented"),
    ("bare", "llm", "succeeded", {}, "documented"),
    ("draft", "llm:writer", "succeeded", {"text": "built it all"}, "documented"),
    ("code", "coding:claude", "succeeded", {"files_changed": ["a"], "tests_exit_code": 0}, "built"),
    ("untested", "coding:codex", "succeeded", {"files_changed": ["a"]}, "changed"),
    ("idle", "coding:aider", "succeeded", {"files_changed": []}, "no_change"),
    ("code-merge", "git:merge", "succeeded", {}, "merged"),
    ("shell", "command", "succeeded", {"exit_code": 0}, "ran"),
    ("broken", "command", "failed", {}, "failed"),
    ("never", "builtin:qa", "skipped", {}, "skipped"),
    ("stopped", "coding:claude", "canceled", {}, "canceled"),
    ("going", "coding:claude", "running", {}, None),
    ("behind", "builtin:qa", "blocked", {}, None),
]


async def test_the_outcomes_of_old_rows_are_derived_and_unended_rows_have_none(
    empty_database_url: str,
) -> None:
    db = Database(empty_database_url)
    try:
        await upgrade_database(db, "0031")
        async with db.write() as session:
            run_id = await insert_bare_run(session)
            # More coding rows than one batch of the backfill holds.
            coding = [
                (f"c{i}", "coding:claude", "succeeded", {"files_changed": ["x"] * (i % 2)}, None)
                for i in range(1100)
            ]
            await session.execute(
                sa.insert(_OLD_STEPS),
                [
                    {
                        "id": uuid.uuid4(),
                        "run_id": run_id,
                        "step_id": step_id,
                        "attempt": 1,
                        "status": status,
                        "agent": agent,
                        "risk_tier": "read",
                        "inputs": {},
                        "outputs": outputs,
                        **dict.fromkeys(_FIGURES, 0),
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for step_id, agent, status, outputs, _ in OLD_ROWS + coding
                ],
            )
        await upgrade_database(db)
        async with db.read() as session:
            found = dict((await session.execute(select(StepRun.step_id, StepRun.outcome))).all())
        assert {step_id: found[step_id] for step_id, *_ in OLD_ROWS} == {
            step_id: expected for step_id, *_, expected in OLD_ROWS
        }
        for _, agent, status, outputs, expected in OLD_ROWS:
            assert step_outcome(agent, status, outputs) == expected, "the rules agree"
        assert sum(found[f"c{i}"] == "changed" for i in range(1100)) == 550
        assert sum(found[f"c{i}"] == "no_change" for i in range(1100)) == 550

        await downgrade_database(db, "0031")
        async with db.write() as session:  # the usage triggers still work without the column
            await session.execute(sa.update(_OLD_STEPS).values(attempt=2))
        await upgrade_database(db)
    finally:
        await db.dispose()

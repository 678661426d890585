"""Artifact names are unique within a run, and within a mission's run of its plan.

The builtin specialists name their documents so that a plan's tasks never share one; whatever
another agent or program calls its files, the store gives a taken name its step's id (or a
counter), and a unique index refuses a duplicate that got past it. Existing duplicates are
renamed by the migration that adds the index.
"""

import collections
import sys
import uuid

import pytest
import sqlalchemy.exc
from sqlalchemy import select

from missionctl.db import Database
from missionctl.db.migrate import downgrade_database
from missionctl.db.models import Artifact
from missionctl.domain.artifact_names import distinct_name
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.artifacts import (
    NewArtifact,
    add_artifacts,
    put_blobs,
    read_artifacts,
)
from missionctl.settings import Settings
from tests.engine.helpers import allow, run_events, start, step, wait_for_run
from tests.services.helpers import engine_running, run_goal

# Fixture goals whose plans have two tasks of one role, and goals of our own.
GOALS = [
    "Write a command-line tool that converts CSV files to Parquet with schema inference",
    "Migrate a PostgreSQL 11 database of 2 TB to PostgreSQL 16 with under five minutes of downtime",
    "Build firmware for a battery-powered temperature logger that syncs over BLE",
    "Build an internal tool for HR onboarding with an approval flow and an audit trail",
    "Build a Kubernetes operator that backs up and restores Redis clusters",
]
WRITE_REPORT = (
    "import pathlib; d = pathlib.Path('artifacts/deep'); d.mkdir(parents=True); "
    "(d / 'report.md').write_text('# report')"
)


def test_the_naming_rule() -> None:
    assert distinct_name("test-plan.md", set(), owner="perf") == "test-plan.md"
    assert distinct_name("test-plan.md", {"test-plan.md"}, owner="perf") == "perf-test-plan.md"
    taken = {"test-plan.md", "perf-test-plan.md"}
    assert distinct_name("test-plan.md", taken, owner="perf") == "perf-test-plan-2.md"
    assert distinct_name("deep/out.txt", {"deep/out.txt"}, owner="b") == "deep/b-out.txt"
    assert distinct_name("report.md", {"report.md", "report-2.md"}) == "report-3.md"
    assert distinct_name(".env", {".env"}, owner="s") == "s-.env"
    long = "x" * 300
    assert len(distinct_name(long, {long}, owner="step")) == 300


@pytest.mark.timeout(300)
async def test_a_missions_run_has_no_two_artifacts_of_one_name(ctx: ServiceContext) -> None:
    for goal in GOALS:
        done = await run_goal(ctx, MissionCreate(goal=goal))
        assert done.status == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
        assert done.mission_id is not None
        stored = await read_artifacts(ctx, mission_id=done.mission_id)
        names = collections.Counter(a.name for a in stored)
        assert [n for n, count in names.items() if count > 1] == [], goal
        for step_run in done.steps:  # what each step says it wrote is what was stored
            mine = [a.name for a in stored if a.step_id == step_run.step_id]
            assert sorted(step_run.outputs["documents"]) == sorted(mine)


async def test_programs_writing_the_same_file_get_distinct_artifacts(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, sys.executable)
    argv = {"argv": [sys.executable, "-c", WRITE_REPORT]}
    run = await start(
        ctx,
        [
            step("first", "command", inputs=argv),
            step("second", "command", "first", inputs=argv),
            step("third", "command", "second", inputs=argv),
        ],
    )
    async with engine_running(ctx):
        done = await wait_for_run(ctx, run.id, within_s=60)
    assert done.status == "completed"
    stored = await read_artifacts(ctx, run_id=run.id)
    assert [(a.step_id, a.name) for a in stored] == [
        ("first", "deep/report.md"),
        ("second", "deep/second-report.md"),
        ("third", "deep/third-report.md"),
    ]
    events = await run_events(ctx, run.id)
    announced = [e.payload["name"] for e in events if e.type == "artifact.created"]
    assert announced == [a.name for a in stored]

    # Stored through the service, without a step: a counter.
    new = [NewArtifact("deep/report.md", "file", "text/markdown", b"# again")] * 2
    blobs = await put_blobs(ctx, new)
    async with ctx.db.write() as session:
        added = await add_artifacts(
            session, stored=list(zip(new, blobs, strict=True)), run_id=run.id, mission_id=None
        )
    assert [a.name for a in added] == ["deep/report-2.md", "deep/report-3.md"]


async def test_the_store_refuses_a_duplicate_name_in_a_run(ctx: ServiceContext) -> None:
    run = await start(ctx, [step("only")])
    row = {"run_id": run.id, "kind": "file", "name": "same.md", "media_type": "text/markdown"}
    row |= {"sha256": "0" * 64, "size": 0, "uri": "blob://none"}
    async with ctx.db.write() as session:
        session.add(Artifact(**row))
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        async with ctx.db.write() as session:
            session.add(Artifact(**row))
    async with ctx.db.write() as session:  # another run, or none, may use the name
        session.add(Artifact(**(row | {"run_id": None})))
        session.add(Artifact(**(row | {"run_id": None})))
    async with ctx.read() as session:
        names = (await session.scalars(select(Artifact.name))).all()
    assert names == ["same.md"] * 3


async def test_the_migration_renames_the_duplicates_already_stored(
    settings: Settings,
) -> None:
    async with open_context(settings) as ctx:  # a run made by today's code
        run = await start(ctx, [step("a"), step("b")])
    row = {"kind": "file", "media_type": "text/markdown", "sha256": "0" * 64, "size": 0}
    row |= {"uri": "blob://none", "run_id": run.id}
    db = Database(settings.database_url)
    try:  # back to before the rule: duplicates could be stored then
        await downgrade_database(db, "0006")
        async with db.write() as session:
            for name in ("test-plan.md", "test-plan.md", "test-plan.md", "report.md"):
                session.add(Artifact(id=uuid.uuid4(), name=name, **row))
                await session.flush()  # in this order
    finally:
        await db.dispose()
    async with open_context(settings) as ctx:  # upgrades to the head
        stored = await read_artifacts(ctx, run_id=run.id)
        assert sorted(a.name for a in stored) == [
            "report.md",
            "test-plan-2.md",
            "test-plan-3.md",
            "test-plan.md",
        ]

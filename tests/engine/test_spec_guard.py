"""The spec guard: risky tasks' work is held until a fresh mini-spec is approved (ADR 0066)."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from missionctl.agents.base import AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.db.models import Mission, Plan, Spec, Workflow
from missionctl.db.types import utcnow
from missionctl.errors import Conflict, PermissionDenied
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.specs import decide_spec, list_specs, marked_tasks, write_spec
from tests.engine.helpers import run_events, running_engine, step, wait_for_run, wait_for_step

TASKS = [
    {
        "key": "db-schema",
        "title": "Add the visits migration",
        "description": "Create the visits table.",
        "role": "backend",
    },
    {
        "key": "ui",
        "title": "Render the dashboard",
        "description": "The authority of the design team decides the colours.",
        "role": "frontend",
    },
]
AUTHOR = "user:ann"
APPROVER = "user:bob"


async def _mission(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    """A planned mission whose plan has a migration task and a harmless one."""
    async with ctx.write() as session:
        mission = Mission(
            title="Shortener", goal="Build a URL shortener", status="planned", created_by="t"
        )
        session.add(mission)
        await session.flush()
        plan = Plan(mission_id=mission.id, version=1, source="local", tasks=TASKS)
        session.add(plan)
        await session.flush()
        return mission.id, plan.id


async def _run(
    ctx: ServiceContext, mission: tuple[uuid.UUID, uuid.UUID], steps: list[dict[str, Any]]
) -> RunRead:
    """Save a workflow of the mission's plan as is (test agents need no catalog) and run it."""
    spec = WorkflowSpec.model_validate(
        {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": steps, "approvals": {"write": False}}
    )
    async with ctx.write() as session:
        workflow = Workflow(
            name=spec.name,
            version=1,
            mission_id=mission[0],
            plan_id=mission[1],
            definition=spec.model_dump(mode="json"),
            created_by="user:test",
        )
        session.add(workflow)
        await session.flush()
        workflow_id = workflow.id
    return await start_run(ctx, workflow_id=workflow_id, actor="user:test", mission_id=mission[0])


def _step(run: RunRead, step_id: str) -> Any:
    return next(s for s in run.steps if s.step_id == step_id)


async def _wait_held(ctx: ServiceContext, run_id: uuid.UUID, step_id: str) -> Any:
    for _ in range(300):
        found = _step(await read_run(ctx, run_id=run_id), step_id)
        if found.hold_reason:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"{step_id} was never held")


IMPLEMENT = {"phase": "Implementation", "risk_tier": "write"}


async def test_a_migration_task_waits_for_its_spec_then_runs(ctx: ServiceContext) -> None:
    mission = await _mission(ctx)
    run = await _run(
        ctx,
        mission,
        [
            step("design"),
            step("db-schema", "builtin:noop", "design", **IMPLEMENT),
            step("ui", "builtin:noop", "design", **IMPLEMENT),
        ],
    )
    async with running_engine(ctx):
        held = await _wait_held(ctx, run.id, "db-schema")
        await wait_for_step(ctx, run.id, "ui", "succeeded")
        assert held.status == "waiting"
        assert held.hold_reason == (
            "needs an approved mini-spec for task `db-schema`: migration (the title says "
            "“Add the visits migration”); no spec written yet"
        )
        await asyncio.sleep(0.3)  # ticks go by: still held, never queued
        assert _step(await read_run(ctx, run_id=run.id), "db-schema").status == "waiting"

        draft = await write_spec(
            ctx,
            mission_id=mission[0],
            task_key="db-schema",
            body="## Plan\nAdd.",
            actor=AUTHOR,
            user=AUTHOR,
        )
        held = await _wait_held(ctx, run.id, "db-schema")
        decided = await decide_spec(
            ctx, spec_id=draft.id, approve=True, actor=APPROVER, user=APPROVER
        )
        assert decided.status == "approved" and decided.released_steps == 1
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    assert _step(done, "db-schema").hold_reason is None
    types = [e.type for e in await run_events(ctx, run.id) if e.step_id == "db-schema"]
    assert types[:3] == ["step.held", "step.released", "step.queued"]


async def test_stale_rejected_and_other_task_specs_do_not_release(ctx: ServiceContext) -> None:
    mission = await _mission(ctx)
    other = await write_spec(
        ctx, mission_id=mission[0], task_key="ui", body="x", actor=AUTHOR, user=AUTHOR
    )
    await decide_spec(ctx, spec_id=other.id, approve=True, actor=APPROVER, user=APPROVER)
    rejected = await write_spec(
        ctx, mission_id=mission[0], task_key="db-schema", body="first", actor=AUTHOR, user=AUTHOR
    )
    await decide_spec(
        ctx, spec_id=rejected.id, approve=False, actor=APPROVER, user=APPROVER, reason="vague"
    )
    run = await _run(ctx, mission, [step("db-schema", "builtin:noop", **IMPLEMENT)])
    held = _step(run, "db-schema")
    assert held.status == "waiting" and "its spec was rejected" in held.hold_reason

    fresh = await write_spec(
        ctx, mission_id=mission[0], task_key="db-schema", body="second", actor=AUTHOR, user=AUTHOR
    )
    approved = await decide_spec(ctx, spec_id=fresh.id, approve=True, actor=APPROVER, user=APPROVER)
    assert approved.released_steps == 1
    async with ctx.write() as session:  # the approval is 41 days old now
        await session.execute(
            update(Spec).where(Spec.id == fresh.id).values(decided_at=utcnow() - timedelta(days=41))
        )
    stale = await _run(ctx, mission, [step("db-schema", "builtin:noop", **IMPLEMENT)])
    reason = _step(stale, "db-schema").hold_reason
    assert reason.endswith("spec approved 41 days ago is stale (max 30)")
    board = {t.task_key: t.status for t in await marked_tasks(ctx, mission_id=mission[0])}
    assert board == {"db-schema": "stale"}  # "authority" does not mark `ui` as "auth"
    async with running_engine(ctx):
        await wait_for_run(ctx, run.id)
    await _cancel_quietly(ctx, stale.id)


async def _cancel_quietly(ctx: ServiceContext, run_id: uuid.UUID) -> None:
    from missionctl.services.usecases.runs import cancel_run

    await cancel_run(ctx, run_id=run_id, actor="user:test")


async def test_decisions_are_made_once_by_someone_else(ctx: ServiceContext) -> None:
    mission = await _mission(ctx)
    draft = await write_spec(
        ctx, mission_id=mission[0], task_key="db-schema", body="b", actor=AUTHOR, user=AUTHOR
    )
    with pytest.raises(PermissionDenied, match="another approver"):
        await decide_spec(ctx, spec_id=draft.id, approve=True, actor=AUTHOR, user=AUTHOR)
    results = await asyncio.gather(
        decide_spec(ctx, spec_id=draft.id, approve=True, actor=APPROVER, user=APPROVER),
        decide_spec(ctx, spec_id=draft.id, approve=True, actor="user:cy", user="user:cy"),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "SpecRead"]
    with pytest.raises(Conflict, match="approved already"):
        await decide_spec(
            ctx, spec_id=draft.id, approve=False, actor=APPROVER, user=APPROVER, reason="no"
        )
    assert [s.status for s in await list_specs(ctx, mission_id=mission[0])] == ["approved"]


class _Coder:
    """A coding step that changed a migration file."""

    async def run(self, step: StepContext) -> AgentResult:
        return AgentResult(outputs={"files_changed": ["db/migrations/0003.sql"], "branch": "b"})


class _Merger:
    async def run(self, step: StepContext) -> AgentResult:
        return AgentResult(outputs={"merged": step.inputs["step"]})


async def test_a_merge_of_a_migration_diff_is_held_until_approved(ctx: ServiceContext) -> None:
    mission = await _mission(ctx)
    agents = AgentRegistry()
    agents.register("coding:test", _Coder())
    agents.register("git:merge", _Merger())
    run = await _run(
        ctx,
        mission,
        [
            step("code", "coding:test", inputs={"task_key": "ui"}),
            step("merge", "git:merge", "code", inputs={"step": "code"}),
        ],
    )
    async with running_engine(ctx, agents=agents):
        # Its CLI is no preset the rules know, so what it runs waits for an approver first.
        await wait_for_step(ctx, run.id, "code", "awaiting_approval")
        [ask] = [a for a in await list_approvals(ctx) if a.run_id == run.id]
        await decide_approval(ctx, ref=ask.id, approve=True, actor=APPROVER)
        held = await _wait_held(ctx, run.id, "merge")
        assert held.hold_reason.startswith(
            "needs an approved mini-spec for task `ui`: migration "
            '(path "db/migrations/0003.sql" matches "**/migrations/**")'
        )
        assert _step(await read_run(ctx, run_id=run.id), "code").status == "succeeded"
        draft = await write_spec(
            ctx, mission_id=mission[0], task_key="ui", body="m", actor=AUTHOR, user=AUTHOR
        )
        await decide_spec(ctx, spec_id=draft.id, approve=True, actor=APPROVER, user=APPROVER)
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    assert _step(done, "merge").outputs == {"merged": "code"}


async def test_two_engines_never_dispatch_a_held_step(ctx: ServiceContext) -> None:
    mission = await _mission(ctx)
    runs = [
        await _run(ctx, mission, [step("a"), step("db-schema", "builtin:noop", "a", **IMPLEMENT)])
        for _ in range(4)
    ]
    draft = await write_spec(
        ctx, mission_id=mission[0], task_key="db-schema", body="b", actor=AUTHOR, user=AUTHOR
    )
    async with running_engine(ctx, worker_id="e1"), running_engine(ctx, worker_id="e2"):
        for run in runs:
            await _wait_held(ctx, run.id, "db-schema")
        decided = await decide_spec(
            ctx, spec_id=draft.id, approve=True, actor=APPROVER, user=APPROVER
        )
        done = [await wait_for_run(ctx, run.id) for run in runs]
    assert decided.released_steps == 4
    assert {r.status for r in done} == {"completed"}
    for run in runs:
        started = [
            e
            for e in await run_events(ctx, run.id)
            if e.type == "step.started" and e.step_id == "db-schema"
        ]
        assert len(started) == 1


async def test_a_decision_waits_for_a_guard_that_judged_the_old_specs(
    ctx: ServiceContext, database_url: str
) -> None:
    """Another process's tick, holding the mission's spec lock, commits before a decision reads.

    Without the lock, a tick that found no spec for a task, and held its step, could commit
    after a decision that looked for held steps: the step would wait for ever.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns: there is no concurrent tick to wait for")
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from missionctl.repositories.specs import share_mission_specs

    mission = await _mission(ctx)
    draft = await write_spec(
        ctx, mission_id=mission[0], task_key="db-schema", body="b", actor=AUTHOR, user=AUTHOR
    )
    other = create_engine(database_url.replace("+asyncpg", "+psycopg"))
    try:
        with Session(other) as tick, tick.begin():
            share_mission_specs(tick, mission_id=mission[0])
            deciding = asyncio.create_task(
                decide_spec(ctx, spec_id=draft.id, approve=True, actor=APPROVER, user=APPROVER)
            )
            await asyncio.sleep(0.5)
            assert not deciding.done()  # it waits for the "tick" to commit
        decided = await asyncio.wait_for(deciding, 10)
    finally:
        other.dispose()
    assert decided.status == "approved"

"""The Mini-specs page and card: marked tasks, the hold reason on the step page, the forms."""

import uuid

import httpx2
from fastapi import FastAPI

from missionctl.db.models import Mission, Plan, Workflow
from missionctl.domain.access import Role
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import read_run, start_run
from tests.support.auth import bearer_headers

TASKS = [
    {
        "key": "db-schema",
        "title": "Add the visits migration",
        "description": "Create the table.",
        "role": "backend",
        "acceptance": ["the table exists"],
        "estimate_tokens": 0,
    }
]


def http(app: FastAPI, headers: dict[str, str]) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def _held_run(ctx: ServiceContext) -> tuple[uuid.UUID, uuid.UUID]:
    """A mission whose one implementation step is held for its migration task's spec."""
    spec = WorkflowSpec.model_validate(
        {
            "name": f"wf-{uuid.uuid4().hex[:8]}",
            "steps": [{"id": "db-schema", "agent": "builtin:noop", "phase": "implementation"}],
        }
    )
    async with ctx.write() as session:
        mission = Mission(title="Visits", goal="Count visits", status="planned", created_by="t")
        session.add(mission)
        await session.flush()
        plan = Plan(mission_id=mission.id, version=1, source="local", tasks=TASKS)
        session.add(plan)
        await session.flush()
        workflow = Workflow(
            name=spec.name,
            version=1,
            mission_id=mission.id,
            plan_id=plan.id,
            definition=spec.model_dump(mode="json"),
            created_by="user:test",
        )
        session.add(workflow)
        await session.flush()
        mission_id, workflow_id = mission.id, workflow.id
    run = await start_run(ctx, workflow_id=workflow_id, actor="user:t", mission_id=mission_id)
    return mission_id, run.id


async def test_the_page_shows_marked_tasks_and_the_step_its_hold(app: FastAPI) -> None:
    ctx = app.state.ctx
    mission_id, run_id = await _held_run(ctx)
    async with http(app, await bearer_headers(ctx, "vic", Role.VIEWER)) as viewer:
        page = await viewer.get(f"/missions/{mission_id}/specs")
        panel = await viewer.get(f"/missions/{mission_id}/specs", headers={"HX-Request": "true"})
        step = await viewer.get(f"/runs/{run_id}/steps/db-schema")
        refused = await viewer.post(
            f"/missions/{mission_id}/specs", data={"task_key": "db-schema", "body": "b"}
        )
    assert page.status_code == 200
    assert 'data-testid="marked-db-schema"' in page.text
    assert "migration (the title says “Add the visits migration”)" in page.text
    assert 'data-testid="marked-db-schema"' in page.text and ">Missing<" in page.text
    assert "<html" not in panel.text and 'data-testid="spec-panel"' in panel.text
    assert step.status_code == 200
    assert "needs an approved mini-spec for task `db-schema`" in step.text
    assert refused.status_code == 403


async def test_write_then_another_approves_and_the_step_is_queued(app: FastAPI) -> None:
    ctx = app.state.ctx
    mission_id, run_id = await _held_run(ctx)
    operator = await bearer_headers(ctx, "olga", Role.OPERATOR)
    approver = await bearer_headers(ctx, "abe", Role.APPROVER)
    hostile = '<script>alert("x")</script>'
    async with http(app, operator) as o, http(app, approver) as a:
        written = await o.post(
            f"/missions/{mission_id}/specs", data={"task_key": "db-schema", "body": hostile}
        )
        assert written.status_code == 303
        page = await o.get(f"/missions/{mission_id}/specs")
        assert hostile not in page.text and "&lt;script&gt;" in page.text
        assert 'data-testid="approve-' not in page.text, "an operator is offered no decision"
        page = await a.get(f"/missions/{mission_id}/specs")
        [spec_id] = {
            line.split('data-testid="approve-')[1].split('"')[0]
            for line in page.text.splitlines()
            if 'data-testid="approve-' in line
        }
        url = f"/missions/{mission_id}/specs/{spec_id}/decide"
        assert (await o.post(url, data={"decision": "approve"})).status_code == 403
        bad = await a.post(url, data={"decision": "reject", "reason": " "})
        assert bad.status_code == 422
        decided = await a.post(url, data={"decision": "approve"})
        assert decided.status_code == 303
        malformed = await a.post(
            f"/missions/{mission_id}/specs/nope/decide", data={"decision": "approve"}
        )
        assert malformed.status_code == 404
    step = next(s for s in (await read_run(ctx, run_id=run_id)).steps if s.step_id == "db-schema")
    assert step.status == "queued" and step.hold_reason is None


async def test_the_mission_page_loads_the_card_of_a_planned_mission(app: FastAPI) -> None:
    ctx = app.state.ctx
    goal = "A URL shortener with sign-in, API tokens and a database migration of the links"
    async with http(app, await bearer_headers(ctx)) as admin:
        mission = (await admin.post("/api/v1/missions", json={"goal": goal})).json()
        assert (await admin.post(f"/api/v1/missions/{mission['id']}/plan")).status_code == 201
        page = await admin.get(f"/missions/{mission['id']}")
        marked = (await admin.get(f"/api/v1/missions/{mission['id']}/specs/marked")).json()
        panel = await admin.get(f"/missions/{mission['id']}/specs", headers={"HX-Request": "true"})
    assert f'hx-get="/missions/{mission["id"]}/specs"' in page.text
    assert marked and {t["status"] for t in marked} == {"missing"}
    for task in marked:
        assert f'data-testid="marked-{task["task_key"]}"' in panel.text

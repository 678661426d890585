"""Four eyes on approvals: nobody approves a step of a run they started or a version they wrote.

The attack: an approver saved a workflow with a ``sh -c …`` step, started it and approved it
with the same token, and the run completed. An approval is a second person saying yes, so the
person who started the run or wrote its workflow version is refused (403 naming the rule);
another approver decides. An admin may override with a reason, which the decision's event
keeps and the approval shows. A run started by a schedule was started by nobody.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import start_run
from missionctl.settings import Settings
from tests.api.test_governance_api import Api, serve
from tests.engine.helpers import run_events, step


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serve(settings) as app, AsyncExitStack() as stack:
        yield Api(app, stack)


def _definition() -> dict[str, Any]:
    gated = step("deploy", "builtin:noop", risk_tier="write")
    return {"name": f"wf-{uuid.uuid4().hex[:8]}", "steps": [gated]}


async def _save(writer: httpx2.AsyncClient) -> str:
    saved = await writer.post("/api/v1/workflows", json=_definition())
    assert saved.status_code == 201, saved.text
    return str(saved.json()["id"])


async def _start(starter: httpx2.AsyncClient, workflow_id: str) -> str:
    started = await starter.post(f"/api/v1/workflows/{workflow_id}/runs")
    assert started.status_code == 202, started.text
    return str(started.json()["id"])


async def _pending(http: httpx2.AsyncClient, run_id: str) -> dict[str, Any]:
    [pending] = (await http.get("/api/v1/approvals", params={"run_id": run_id})).json()
    assert pending["state"] == "pending"
    return dict(pending)


def _message(response: httpx2.Response) -> str:
    return str(response.json()["error"]["message"])


async def _decisions(ctx: ServiceContext, run_id: str) -> list[Any]:
    events = await run_events(ctx, uuid.UUID(run_id))
    return [e for e in events if e.type in ("approval.approved", "approval.rejected")]


async def test_the_starter_and_the_writer_are_refused_and_another_approver_decides(
    ctx: ServiceContext, api: Api
) -> None:
    ann = await api.token("ann", Role.APPROVER)
    bob = await api.token("bob", Role.APPROVER)
    run_id = await _start(ann, await _save(bob))
    pending = await _pending(ann, run_id)
    assert (pending["version_written_by"], pending["run_started_by"]) == (
        "token:bob-token",
        "token:ann-token",
    )
    url = f"/api/v1/approvals/{pending['id']}"

    own_run = await ann.post(f"{url}/approve")
    assert own_run.status_code == 403, own_run.text
    assert "four eyes: ann started its run" in _message(own_run)
    own_version = await bob.post(f"{url}/approve", json={"reason": "looks fine"})
    assert own_version.status_code == 403, own_version.text
    assert "four eyes: bob wrote its workflow version" in _message(own_version)
    assert (await ann.get(url)).json()["state"] == "pending"  # nothing changed
    assert await _decisions(ctx, run_id) == []

    carl = await api.browser("carl", Role.APPROVER)
    decided = await carl.post(f"{url}/approve", json={"reason": "reviewed"})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["decision"], decided.json()["decided_by"]) == ("approved", "user:carl")
    assert decided.json()["override_reason"] is None
    [event] = await _decisions(ctx, run_id)
    assert event.actor == "user:carl" and "four_eyes_override" not in event.payload


async def test_one_person_writing_and_starting_may_still_reject_their_own_step(
    ctx: ServiceContext, api: Api
) -> None:
    ann = await api.token("ann", Role.APPROVER)
    run_id = await _start(ann, await _save(ann))
    url = f"/api/v1/approvals/{(await _pending(ann, run_id))['id']}"

    refused = await ann.post(f"{url}/approve")
    assert refused.status_code == 403
    assert "started its run and wrote its workflow version" in _message(refused)
    rejected = await ann.post(f"{url}/reject", json={"reason": "I got the target wrong"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["decision"] == "rejected"


async def test_an_admin_overrides_with_a_reason_that_is_recorded_and_shown(
    ctx: ServiceContext, api: Api
) -> None:
    root = await api.token("root", Role.ADMIN)
    ann = await api.token("ann", Role.APPROVER)
    run_id = await _start(root, await _save(root))
    url = f"/api/v1/approvals/{(await _pending(root, run_id))['id']}"

    assert (await root.post(f"{url}/approve")).status_code == 403  # even an admin needs a reason
    needless = await ann.post(f"{url}/approve", json={"override_reason": "just because"})
    assert needless.status_code == 422, needless.text
    assert needless.json()["error"]["details"][0]["field"] == "override_reason"
    assert await _decisions(ctx, run_id) == []

    why = "the release is blocked and the other approvers are away"
    decided = await root.post(f"{url}/approve", json={"override_reason": why})
    assert decided.status_code == 200, decided.text
    assert decided.json()["override_reason"] == why
    assert (await ann.get(url)).json()["override_reason"] == why
    [event] = await _decisions(ctx, run_id)
    assert event.actor == "token:root-token"
    assert event.payload["four_eyes_override"]["reason"] == why
    assert "root started its run" in event.payload["four_eyes_override"]["rule"]

    viewer = await api.browser("vic", Role.VIEWER)
    page = await viewer.get("/approvals", params={"tab": "decided"})
    assert page.status_code == 200 and f"four-eyes rule overridden: “{why}”" in page.text


async def test_only_an_admin_may_override(ctx: ServiceContext, api: Api) -> None:
    ann = await api.token("ann", Role.APPROVER)
    run_id = await _start(ann, await _save(ann))
    url = f"/api/v1/approvals/{(await _pending(ann, run_id))['id']}"

    refused = await ann.post(f"{url}/approve", json={"override_reason": "trust me"})
    assert refused.status_code == 403, refused.text
    assert "only an admin may override the four-eyes rule" in _message(refused)
    assert await _decisions(ctx, run_id) == []


async def test_a_run_a_schedule_started_was_started_by_nobody(
    ctx: ServiceContext, api: Api
) -> None:
    ann = await api.token("ann", Role.APPROVER)
    bob = await api.token("bob", Role.APPROVER)
    workflow_id = await _save(bob)
    run = await start_run(ctx, workflow_id=uuid.UUID(workflow_id), actor="schedule:nightly")
    pending = await _pending(ann, str(run.id))
    assert pending["run_started_by"] == "schedule:nightly"
    url = f"/api/v1/approvals/{pending['id']}"

    assert (await bob.post(f"{url}/approve")).status_code == 403  # bob still wrote it
    assert (await ann.post(f"{url}/approve")).status_code == 200


async def test_the_approvals_page_says_who_wrote_and_who_started(
    ctx: ServiceContext, api: Api
) -> None:
    ann = await api.browser("ann", Role.APPROVER)
    bob = await api.token("bob", Role.APPROVER)
    run_id = await _start(ann, await _save(bob))
    pending = await _pending(bob, run_id)

    page = await ann.get("/approvals")
    assert "version written by <strong>token:bob-token</strong>" in page.text
    assert "run started by <strong>user:ann</strong>" in page.text
    refused = await ann.post(
        f"/approvals/{pending['id']}/decide",
        data={"decision": "approve"},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 403
    assert "Four eyes: ann started its run" in refused.text


@pytest.mark.both_databases
async def test_two_approvers_deciding_at_once_record_one_decision(
    ctx: ServiceContext, api: Api
) -> None:
    ann = await api.token("ann", Role.APPROVER)
    bob = await api.token("bob", Role.APPROVER)
    carl = await api.token("carl", Role.APPROVER)
    run_id = await _start(ann, await _save(ann))
    url = f"/api/v1/approvals/{(await _pending(ann, run_id))['id']}"

    answers = await asyncio.gather(
        bob.post(f"{url}/approve", json={"reason": "bob read it"}),
        carl.post(f"{url}/reject", json={"reason": "carl did not"}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert "already" in _message(loser)
    [event] = await _decisions(ctx, run_id)
    winner = next(a for a in answers if a.status_code == 200).json()
    assert event.actor == winner["decided_by"]

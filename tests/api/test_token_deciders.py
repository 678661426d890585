"""A decision made with an API token records the token and the person who owns it.

The actor stays ``token:NAME`` (what acted); ``decided_by_user`` is its owner, in the approval,
in the decision's event (so the hash chain holds both), on the pages and in the CLI. Revision
0035 fills in the owner of decisions made before it.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import select

from missionctl.db.migrate import downgrade_database, upgrade_database
from missionctl.db.models import Approval
from missionctl.domain.access import Role
from missionctl.domain.four_eyes import decider_ids, decider_label
from missionctl.services import ServiceContext
from missionctl.settings import Settings
from tests.api.test_governance_api import Api, _gated, serve
from tests.engine.helpers import run_events, start, step


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serve(settings) as app, AsyncExitStack() as stack:
        yield Api(app, stack)


def test_both_show_and_a_person_signed_in_shows_once() -> None:
    assert decider_label("token:ci-bot", "alice") == "alice (token ci-bot)"
    assert decider_label("user:alice", "alice") == "alice"
    assert decider_label("system", None) == "system"
    assert decider_ids("token:ci-bot", "alice") == "token:ci-bot (alice)"
    assert decider_ids("user:alice", "alice") == "user:alice"


async def _decide_with_a_token(ctx: ServiceContext, api: Api) -> tuple[str, uuid.UUID]:
    """A gated step approved with an API token of ``ann``; (approval id, run id)."""
    run = await start(ctx, [_gated("push"), step("tag", "builtin:noop", "push")])
    ann = await api.token("ann", Role.APPROVER)
    [pending] = (await ann.get("/api/v1/approvals")).json()
    decided = await ann.post(f"/api/v1/approvals/{pending['id']}/approve", json={})
    assert decided.status_code == 200, decided.text
    return pending["id"], run.id


async def test_a_token_decision_records_the_token_and_its_owner(
    ctx: ServiceContext, api: Api
) -> None:
    approval_id, run_id = await _decide_with_a_token(ctx, api)
    viewer = await api.token("vic", Role.VIEWER)
    body = (await viewer.get(f"/api/v1/approvals/{approval_id}")).json()
    assert (body["decided_by"], body["decided_by_user"]) == ("token:ann-token", "ann")
    [approved] = [e for e in await run_events(ctx, run_id) if e.type == "approval.approved"]
    assert approved.actor == "token:ann-token"
    assert approved.payload["decided_by_user"] == "ann"
    # The lowest role sees both on the page; a replay of the run names both too.
    page = await viewer.get("/approvals", params={"tab": "decided"})
    assert "ann (token ann-token)" in page.text
    # The replay just after the decision: the decision, and its event's actor in the trail.
    replayed = await viewer.get(f"/runs/{run_id}/replay", params={"at": approved.seq})
    assert replayed.status_code == 200
    assert 'audit__actor">ann (token ann-token)<' in replayed.text
    state = await viewer.get(f"/api/v1/runs/{run_id}/state")
    assert state.status_code == 200, state.text
    [decision] = state.json()["approvals"]
    assert (decision["decided_by"], decision["decided_by_user"]) == ("token:ann-token", "ann")


async def test_revision_0035_fills_in_the_owner_of_earlier_decisions(
    ctx: ServiceContext, api: Api
) -> None:
    approval_id, _ = await _decide_with_a_token(ctx, api)
    await downgrade_database(ctx.db, "0034")
    await upgrade_database(ctx.db)
    async with ctx.db.read() as session:
        query = select(Approval.decided_by_user).where(Approval.id == uuid.UUID(approval_id))
        assert await session.scalar(query) == "ann"


async def test_two_token_owners_deciding_at_once_record_one_decision_with_its_owner(
    ctx: ServiceContext, api: Api
) -> None:
    await start(ctx, [_gated("push"), step("tag", "builtin:noop", "push")])
    ann = await api.token("ann", Role.APPROVER)
    bob = await api.token("bob", Role.APPROVER)
    [pending] = (await ann.get("/api/v1/approvals")).json()
    url = f"/api/v1/approvals/{pending['id']}/approve"
    answers = await asyncio.gather(ann.post(url, json={}), bob.post(url, json={}))
    assert sorted(a.status_code for a in answers) == [200, 409]
    won = next(a for a in answers if a.status_code == 200).json()
    assert won["decided_by"] == f"token:{won['decided_by_user']}-token"

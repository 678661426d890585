"""The Templates page and the phase tracker: cards with their steps, the forms for operators
only, a mission started from a card, refusals on the card, "Save as template", and the mission
page's phases with their gates."""

import asyncio
import re
import time
import uuid
from typing import Any

import httpx2

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.missions import read_missions
from tests.support.auth import bearer_headers

SOP_FORM = {"input.goal": "Add CSV export to the reports page", "input.approver": "alice"}


async def _as(ctx: ServiceContext, role: Role, name: str | None = None) -> dict[str, str]:
    return await bearer_headers(ctx, name or f"{role.value}-{uuid.uuid4().hex[:6]}", role)


async def _wait_page(client: httpx2.AsyncClient, url: str, done: Any, within_s: float = 30) -> str:
    deadline = time.monotonic() + within_s
    while True:
        html = (await client.get(url)).text
        if done(html):
            return html
        assert time.monotonic() < deadline, f"{url} never showed what was awaited"
        await asyncio.sleep(0.05)


def _phase(html: str, name: str) -> str:
    pattern = rf'<li class="phase-track__item[^"]*" data-phase="{name}".*?</li>'
    found = re.search(pattern, html, re.S)
    assert found is not None, name
    return found.group(0)


async def test_the_gallery_shows_a_card_per_template_and_forms_to_operators_only(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    html = (await client.get("/templates")).text
    cards = re.findall(r'<li class="card template-card" id="template-([a-z-]+)"', html)
    assert cards == ["bug-triage", "data-migration", "release-with-approval", "sop-phases"]
    assert 'href="/templates" aria-current="page"' in html
    sop = html[html.index('id="template-sop-phases"') :]
    for phase in ("Scaffold check", "PRD", "Task list", "Spec", "Action plan", "Review"):
        assert f'<span class="template-steps__phase">{phase}</span>' in sop
    assert 'data-control="start-mission"' in sop and 'name="input.approver"' in sop
    filtered = (await client.get("/templates", params={"category": "data"})).text
    assert re.findall(r'class="card template-card" id="template-([a-z-]+)"', filtered) == [
        "data-migration"
    ]
    viewer = (await client.get("/templates", headers=await _as(ctx, Role.VIEWER))).text
    assert "template-card" in viewer and 'data-control="start-mission"' not in viewer
    assert (await client.get("/templates", params={"category": "<x>"})).status_code == 422


async def test_a_mission_started_from_a_card_shows_its_phases_advancing_with_their_gates(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await _as(ctx, Role.APPROVER, "alice")
    started = await client.post("/templates/sop-phases/mission", data=SOP_FORM)
    assert started.status_code == 303, started.text[:500]
    page = started.headers["location"]
    assert page.startswith("/missions/")
    html = await _wait_page(
        client, page, lambda h: 'data-phase="PRD" data-state="waiting"' in h, within_s=60
    )
    assert 'data-testid="phase-tracker"' in html
    assert 'data-state="done"' in _phase(html, "Scaffold check")
    assert "scaffold-check.md" in _phase(html, "Scaffold check")
    assert "Waits for alice" in _phase(html, "PRD")
    assert 'data-state="pending"' in _phase(html, "Review")
    [waiting] = await list_approvals(ctx)
    await decide_approval(ctx, ref=waiting.id, approve=True, actor="user:alice")
    html = await _wait_page(client, page, lambda h: 'data-phase="PRD" data-state="done"' in h)
    assert "Approved by" in _phase(html, "PRD") and "alice" in _phase(html, "PRD")
    assert "prd.md" in _phase(html, "PRD")
    [mission] = (await read_missions(ctx)).items
    assert mission.goal == SOP_FORM["input.goal"]


async def test_refused_input_comes_back_on_its_card_and_starts_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    form = {"input.goal": "<script>alert(1)</script>", "input.approver": "Not a user"}
    refused = await client.post("/templates/sop-phases/mission", data=form)
    assert refused.status_code == 422
    card = refused.text[refused.text.index('id="template-sop-phases"') :]
    assert 'data-testid="template-error"' in card and "approvers" in card
    assert "<script>alert(1)</script>" not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card  # kept, as text
    assert (await read_missions(ctx)).total == 0
    viewer = await _as(ctx, Role.VIEWER)
    for path in ("/templates/sop-phases/mission", "/templates/sop-phases/workflow"):
        assert (await client.post(path, data=SOP_FORM, headers=viewer)).status_code == 403
    missing = await client.post("/templates/nope/mission", data=SOP_FORM)
    assert missing.status_code == 404


async def test_a_workflow_is_made_from_a_card_saved_as_a_template_and_deleted(
    client: httpx2.AsyncClient,
) -> None:
    made = await client.post(
        "/templates/release-with-approval/workflow",
        data={"input.version": "2.0.0", "input.approver": "alice"},
    )
    assert made.status_code == 303 and made.headers["location"] == "/workflows/release%202.0.0"
    workflow_page = (await client.get(made.headers["location"])).text
    assert 'data-testid="save-as-template"' in workflow_page
    workflow_id = re.search(r'name="workflow_id" value="([0-9a-f-]+)"', workflow_page)
    assert workflow_id is not None
    saved = await client.post(
        "/templates/save", data={"name": "my-release", "workflow_id": workflow_id.group(1)}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/templates#template-my-release"
    html = (await client.get("/templates")).text
    assert 'id="template-my-release"' in html and 'data-control="delete-template"' in html
    again = await client.post(
        "/templates/save", data={"name": "my-release", "workflow_id": workflow_id.group(1)}
    )
    assert again.status_code == 409
    bad = await client.post("/templates/save", data={"name": "Bad Name", "workflow_id": "x"})
    assert bad.status_code == 422
    assert (await client.post("/templates/sop-phases/delete")).status_code == 409
    assert (await client.post("/templates/my-release/delete")).status_code == 303
    assert 'id="template-my-release"' not in (await client.get("/templates")).text


async def test_a_rejected_gate_fails_its_phase_and_the_tracker_says_who_and_why(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    form = {"input.dataset": "orders", "input.approver": "alice"}
    started = await client.post("/templates/data-migration/mission", data=form)
    page = started.headers["location"]
    await _wait_page(client, page, lambda h: 'data-phase="Migrate" data-state="waiting"' in h)
    [waiting] = await list_approvals(ctx)
    await decide_approval(
        ctx, ref=waiting.id, approve=False, actor="user:alice", reason="backup <b>unchecked</b>"
    )
    html = await _wait_page(client, page, lambda h: 'data-phase="Migrate" data-state="failed"' in h)
    migrate = _phase(html, "Migrate")
    assert "Rejected by" in migrate and "alice" in migrate
    assert "backup &lt;b&gt;unchecked&lt;/b&gt;" in migrate
    assert 'data-state="blocked"' in _phase(html, "Verify")
    assert 'data-testid="save-as-template"' in html  # the run ended: it may be saved

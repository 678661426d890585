"""The approvals page through the app: the queue, what will run, approve and reject."""

import html as html_lib
import re
import uuid

import httpx2

from missionctl.domain.access import Role
from missionctl.schemas.runs import RunRead
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import list_approvals
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from tests.support.auth import bearer_headers
from tests.web.support import ACTOR, HTMX, wait_for_run


def text_of(html: str) -> str:
    """The page's words, tags removed, entities decoded and spaces collapsed."""
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))).strip()


async def as_role(ctx: ServiceContext, role: Role) -> dict[str, str]:
    return await bearer_headers(ctx, f"{role.value}-{uuid.uuid4().hex[:6]}", role)


async def gated_run(ctx: ServiceContext, name: str = "deploy") -> RunRead:
    """A run whose only step (a command line) waits for approval at once."""
    spec = WorkflowSpec.model_validate(
        {
            "name": name,
            "inputs": {"target": {"type": "string", "default": "staging"}},
            "steps": [
                {
                    "id": "push",
                    "agent": "command",
                    "risk_tier": "write",
                    "inputs": {"argv": ["echo", "deploy to {{ inputs.target }}"]},
                }
            ],
        }
    )
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
    return await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, inputs={"target": "prod"})


async def pending_id(ctx: ServiceContext, run: RunRead) -> uuid.UUID:
    [approval] = await list_approvals(ctx, state="pending", run_id=run.id)
    return approval.id


async def test_an_empty_queue_says_what_appears_here(client: httpx2.AsyncClient) -> None:
    response = await client.get("/approvals")

    assert response.status_code == 200
    assert "Nothing waits for approval" in text_of(response.text)
    assert 'href="/approvals" aria-current="page"' in response.text
    decided = await client.get("/approvals", params={"tab": "decided"})
    assert "No decisions yet" in text_of(decided.text)
    assert (await client.get("/approvals", params={"tab": "other"})).status_code == 422


async def test_a_gated_step_is_listed_with_exactly_what_will_run(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await gated_run(ctx)
    approval_id = await pending_id(ctx, run)

    response = await client.get("/approvals")

    html = response.text
    card = re.search(
        rf'<li class="card approval approval--pending" id="approval-{approval_id}".*?</li>',
        html,
        re.S,
    )
    assert card is not None
    words = text_of(card.group(0))
    assert "deploy" in words and "push" in words and "write" in words
    assert "agent command" in words
    assert "Will run echo 'deploy to prod'" in words  # rendered with the run's inputs
    assert f'href="/runs/{run.id}"' in card.group(0)
    assert "$0.00 Estimated cost" in words
    assert 'class="approval__inputs"' in card.group(0) and "argv" in words
    assert 'data-control="approve"' in card.group(0) and 'data-control="reject"' in card.group(0)
    assert 'id="pending-count" class="count"' in html and ">1</span>" in html
    assert re.search(r'id="nav-approvals-badge" class="nav__badge" title="1 waiting', html)
    # The workflows pages show the same badge.
    assert (
        'id="nav-approvals-badge" class="nav__badge" title="1'
        in (await client.get("/workflows")).text
    )


async def test_reject_without_a_reason_is_refused_and_the_page_says_why(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await gated_run(ctx)
    approval_id = await pending_id(ctx, run)
    url = f"/approvals/{approval_id}/decide"

    htmx = await client.post(url, data={"decision": "reject", "reason": "   "}, headers=HTMX)
    plain = await client.post(url, data={"decision": "reject"})

    assert htmx.status_code == plain.status_code == 422
    assert htmx.text.lstrip().startswith(
        f'<li class="card approval approval--pending" id="approval-{approval_id}"'
    )
    assert plain.text.lstrip().lower().startswith("<!doctype html>")
    for response in (htmx, plain):
        assert "A rejection needs a reason, so that others know why." in text_of(response.text)
        assert 'aria-invalid="true"' in response.text
    assert await pending_id(ctx, run) == approval_id  # still waiting


async def test_approve_queues_the_step_and_the_card_shows_the_decision(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await gated_run(ctx)
    approval_id = await pending_id(ctx, run)

    response = await client.post(
        f"/approvals/{approval_id}/decide",
        data={"decision": "approve", "reason": "checked the target"},
        headers=HTMX,
    )

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith(
        f'<li class="card approval approval--approved" id="approval-{approval_id}"'
    )
    assert "Approved by tester" in text_of(html)
    assert "“checked the target”" in text_of(html)
    assert 'data-control="approve"' not in html
    count = re.search(
        r'<hx-partial hx-target="#pending-count" hx-swap="outerHTML">(.*?)</hx-partial>', html
    )
    assert count is not None and '<span id="pending-count" class="count"' in count.group(1)
    assert ">0</span>" in count.group(1)
    assert (
        '<hx-partial hx-target="#toasts" hx-swap="beforeend">' in html and "Approved: push" in html
    )
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    # The decision is listed, and deciding again is refused with who decided.
    decided = text_of((await client.get("/approvals", params={"tab": "decided"})).text)
    assert "push write deploy · run" in decided and "Approved tester" in decided
    assert "checked the target" in decided
    again = await client.post(
        f"/approvals/{approval_id}/decide",
        data={"decision": "reject", "reason": "no"},
        headers=HTMX,
    )
    assert again.status_code == 409
    assert "Step 'push' was already approved by token:tester-" in text_of(again.text)
    assert re.search(r"approved by token:tester-\d+ \(tester\)", text_of(again.text))  # and whose


async def test_reject_with_a_reason_fails_the_step_and_records_it(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await gated_run(ctx)
    approval_id = await pending_id(ctx, run)

    response = await client.post(
        f"/approvals/{approval_id}/decide",
        data={"decision": "reject", "reason": "not on a Friday"},
    )

    assert response.status_code == 303 and response.headers["location"] == "/approvals"
    done = await wait_for_run(ctx, run.id)
    assert done.status == "failed"
    [decision] = await list_approvals(ctx, state="decided", run_id=run.id)
    assert (decision.decision, decision.reason) == ("rejected", "not on a Friday")
    page = text_of((await client.get("/approvals", params={"tab": "decided"})).text)
    assert "Rejected tester" in page and "not on a Friday" in page


async def test_a_viewer_reads_the_queue_but_cannot_decide(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await gated_run(ctx)
    approval_id = await pending_id(ctx, run)
    viewer = await as_role(ctx, Role.VIEWER)
    operator = await as_role(ctx, Role.OPERATOR)

    for headers in (viewer, operator):
        page = await client.get("/approvals", headers=headers)
        assert page.status_code == 200
        assert "echo" in page.text and 'data-control="approve"' not in page.text
        assert "Only an approver can decide these steps" in text_of(page.text)
        refused = await client.post(
            f"/approvals/{approval_id}/decide", data={"decision": "approve"}, headers=headers
        )
        assert refused.status_code == 403
    assert await pending_id(ctx, run) == approval_id
    approver = await as_role(ctx, Role.APPROVER)
    page = await client.get("/approvals", headers=approver)
    assert 'data-control="approve"' in page.text
    decided = await client.post(
        f"/approvals/{approval_id}/decide", data={"decision": "approve"}, headers=approver
    )
    assert decided.status_code == 303

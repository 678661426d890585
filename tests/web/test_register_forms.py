"""The mission page's decision log and risk register forms: add and edit with htmx or without
JavaScript, the heat map, an item's history, and refusals shown as toasts naming the field."""

import re

import httpx2

from missionctl.services import ServiceContext
from missionctl.services.usecases import decision_log, risk_register
from tests.web.support import HTMX, planned_mission


async def test_forms_add_and_edit_items_and_the_page_shows_them_with_their_history(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    base = f"/missions/{mission.id}"
    html = (await client.get(base)).text
    assert 'data-testid="heat-map"' in html and 'data-testid="add-decision"' in html

    added = await client.post(
        f"{base}/decisions",
        data={
            "title": "Keep aliases lower case",
            "status": "accepted",
            "decided_on": "",
            "deciders": "Ada, Bob",
            "choice": "Fold aliases to lower case",
            "reasons": "Fewer clashes\nSimpler links",
            "supersedes": "",
        },
    )  # no JavaScript: back to the section
    assert added.status_code == 303 and added.headers["location"].endswith("#decision-log")
    decision = (await decision_log.list_decisions(ctx, mission_id=mission.id))[-1]
    assert decision.deciders == ["Ada", "Bob"] and decision.reasons == [
        "Fewer clashes",
        "Simpler links",
    ]

    risk = (await risk_register.read_register(ctx, mission_id=mission.id)).risks[0]
    form = {
        "version": str(risk.version),
        "title": risk.title,
        "status": "closed",
        "owner": "Ada",
        "severity": risk.severity,
        "likelihood": risk.likelihood,
        "description": risk.description,
        "mitigation": risk.mitigation,
        "mitigation_tasks": "\n".join(risk.mitigation_tasks),  # as planned: unchanged
    }
    assert risk.mitigation_tasks, "the planner links the tasks that carry the mitigation"
    saved = await client.post(f"{base}/risks/{risk.id}", data=form, headers=HTMX)
    assert saved.status_code == 200 and "Risk saved" in saved.text
    stale = await client.post(f"{base}/risks/{risk.id}", data=form, headers=HTMX)
    assert stale.status_code == 409 and "version" in stale.text

    html = (await client.get(base)).text
    assert "1. " in html and "Keep aliases lower case" in html
    assert re.search(r'data-status="closed"', html)
    assert "History (1 change)" in html
    assert f"owner {risk.owner} → Ada, status open → closed" in html  # the planner named a role


async def test_a_refused_form_changes_nothing_and_names_the_field(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    before = await decision_log.list_decisions(ctx, mission_id=mission.id)
    refused = await client.post(
        f"/missions/{mission.id}/decisions",
        data={"title": "x" * 301, "choice": "c", "reasons": "r"},
        headers=HTMX,
    )
    assert refused.status_code == 422 and "title" in refused.text
    risk = (await risk_register.read_register(ctx, mission_id=mission.id)).risks[0]
    typo = await client.post(
        f"/missions/{mission.id}/risks/{risk.id}",
        data={"version": "1", "mitigation_tasks": "no-such-task"},
        headers=HTMX,
    )
    assert typo.status_code == 409 and "mitigation_tasks.0" in typo.text  # the plan refuses it
    assert await decision_log.list_decisions(ctx, mission_id=mission.id) == before
    missing = await client.post(f"/missions/{mission.id}/risks/not-an-id", data={"version": "1"})
    assert missing.status_code == 404


async def test_choosing_nothing_in_supersedes_on_the_edit_form_removes_the_link(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    base = f"/missions/{mission.id}"
    old = (await decision_log.list_decisions(ctx, mission_id=mission.id))[0]
    fields = {"title": "Use one queue", "status": "accepted", "choice": "One", "reasons": "r"}
    added = await client.post(
        f"{base}/decisions", data={**fields, "supersedes": str(old.id)}, headers=HTMX
    )
    assert added.status_code == 200
    new = (await decision_log.list_decisions(ctx, mission_id=mission.id))[-1]
    assert new.supersedes == old.id

    # The edit form posts every field; "Nothing" is the empty choice.
    edit = {**fields, "version": str(new.version), "supersedes": "", "decided_on": ""}
    saved = await client.post(f"{base}/decisions/{new.id}", data=edit, headers=HTMX)
    assert saved.status_code == 200, saved.text
    after = {d.id: d for d in await decision_log.list_decisions(ctx, mission_id=mission.id)}
    assert after[new.id].supersedes is None
    assert after[old.id].status == "accepted"  # no decision supersedes it any longer

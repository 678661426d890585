"""The epics pages: the list (tabs in the URL, "Late" and "Over budget", an empty state that says
how to make one) and an epic's roll-up; forms for operators only, each through the use cases
the API calls. A refused form names the field, keeps what was typed and changes nothing; a
viewer's post is a 403, a post without the session's CSRF token too; an archived epic is
read-only; an unknown or malformed id is the not-found page."""

import html as html_text
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx2
import pytest
from sqlalchemy import func, select

from missionctl.db.models import Event, Mission
from missionctl.domain.access import Role
from missionctl.domain.board import COLUMN_LABELS
from missionctl.schemas.epics import EpicCreate, EpicDetail, EpicRead
from missionctl.services import ServiceContext
from missionctl.services.usecases import epics
from missionctl.settings import Settings
from tests.engine.helpers import wait_for_run, wait_for_step
from tests.identity.helpers import add_user
from tests.support.auth import bearer_headers
from tests.web.admin_support import Site, running_site
from tests.web.support import ACTOR, planned_mission, start_steps

GOALS = (
    "A booking tool for a climbing gym's route-setting sessions",
    "An inventory sync between a bakery's till and its supplier orders",
)
# The controls only an operator gets, on the list and on an epic's page.
LIST_FORMS = ('id="epic-form"', 'data-control="create-epic"')
EPIC_FORMS = (
    'id="edit-epic"',
    'id="add-missions"',
    'data-control="remove-mission"',
    'data-control="archive-epic"',
)


async def _as(ctx: ServiceContext, role: Role, name: str | None = None) -> dict[str, str]:
    return await bearer_headers(ctx, name or f"{role.value}-{uuid.uuid4().hex[:6]}", role)


async def _epic(ctx: ServiceContext, name: str, *missions: uuid.UUID, **fields: object) -> EpicRead:
    data = EpicCreate.model_validate({"name": name, "mission_ids": list(missions), **fields})
    return await epics.create_epic(ctx, data=data, actor="user:tester")


async def _read(ctx: ServiceContext, epic: EpicRead) -> EpicDetail:
    return await epics.read_epic(ctx, epic_id=epic.id)


async def _event_count(ctx: ServiceContext, prefix: str = "") -> int:
    """How many events of types starting with ``prefix`` the log holds."""
    query = select(func.count()).select_from(Event).where(Event.type.startswith(prefix))
    async with ctx.read() as session:
        return int(await session.scalar(query) or 0)


async def _spend(ctx: ServiceContext, mission_id: uuid.UUID, micros: int) -> None:
    # What a model call would have cost, written straight to the row: the page only reads it.
    async with ctx.write() as session:
        mission = await session.get(Mission, mission_id)
        assert mission is not None
        mission.spent_micros = micros


def _error(html: str, field: str) -> str:
    """The message shown beside ``field``, or fails."""
    found = re.search(rf'id="field-{field}-error">.*?<span>(.*?)</span>', html, re.S)
    assert found, f"no error beside {field}"
    return html_text.unescape(found.group(1))


async def test_a_viewer_reads_both_pages_without_a_form_and_an_operator_gets_every_form(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOALS[0])
    epic = await _epic(ctx, "Spring launches", mission.id, description="Everything for spring")
    viewer = await _as(ctx, Role.VIEWER)
    operator = await _as(ctx, Role.OPERATOR, "olga")

    listed = await client.get("/epics", headers=viewer)
    assert listed.status_code == 200, listed.text
    assert f'href="/epics/{epic.id}"' in listed.text and "Spring launches" in listed.text
    assert f'href="/board?epic={epic.id}"' in listed.text
    assert re.search(r'href="/epics" aria-current="page"', listed.text), "the sidebar's link"
    assert not any(mark in listed.text for mark in LIST_FORMS)
    page = await client.get(f"/epics/{epic.id}", headers=viewer)
    assert page.status_code == 200, page.text
    assert f'href="/missions/{mission.id}"' in page.text
    assert re.search(rf'href="/board\?epic={epic.id}" data-testid="open-board"', page.text)
    assert not any(mark in page.text for mark in EPIC_FORMS)
    assert 'data-control="restore-epic"' not in page.text
    assert "<script>" not in listed.text + page.text and ' style="' not in page.text

    as_operator = (await client.get("/epics", headers=operator)).text
    assert all(mark in as_operator for mark in LIST_FORMS)
    assert re.search(r'name="owner" type="text" value="olga"', as_operator), "owner: oneself"
    epic_page = (await client.get(f"/epics/{epic.id}", headers=operator)).text
    assert all(mark in epic_page for mark in EPIC_FORMS)


async def test_the_list_keeps_its_tab_in_the_url_marks_late_and_over_budget_and_says_how_to_start(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    empty = (await client.get("/epics")).text
    assert (
        'data-testid="epics-empty"' in empty and "<code>missionctl epic create NAME</code>" in empty
    )
    mission = await planned_mission(ctx, GOALS[0])
    late = await _epic(ctx, "Late one", mission.id, target_date="2020-01-31", budget_usd="0.002")
    await _spend(ctx, mission.id, 2_900)  # $0.0029: a sub-cent amount reads as it is
    shelved = await _epic(ctx, "Shelved")
    await epics.archive_epic(ctx, epic_id=shelved.id, actor=ACTOR)

    html = (await client.get("/epics")).text
    row = re.search(r'<tr data-epic="Late one".*?</tr>', html, re.S)
    assert row is not None and "Shelved" not in html
    assert 'data-testid="late"' in row.group(0) and "31 Jan 2020" in row.group(0)
    assert 'data-over-budget="true"' in row.group(0) and "Over budget by $0.0009" in row.group(0)
    assert "$0.0029" in row.group(0) and "$0.00<" not in row.group(0)
    assert "<strong>1</strong> mission ·" in row.group(0) and '<svg class="stack"' in row.group(0)
    assert re.search(r'data-state="active" aria-current="page"', html)
    archived = (await client.get("/epics?state=archived")).text
    assert "Shelved" in archived and "Late one" not in archived
    assert re.search(r'data-state="archived" aria-current="page"', archived)
    assert "Archived</span>" in archived
    every = (await client.get("/epics?state=all")).text
    assert "Shelved" in every and "Late one" in every
    assert (await client.get("/epics?state=bogus")).status_code == 422
    page = (await client.get(f"/epics/{late.id}")).text
    assert 'data-testid="late"' in page
    assert re.search(r'data-testid="over-budget" title="[^"]*">Over budget<', page)
    assert 'data-budget="exceeded"' in page and "Over budget by $0.0009" in page


async def test_the_roll_up_shows_figures_tasks_by_column_risks_and_approvals_waiting(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    gym, bakery = [await planned_mission(ctx, goal) for goal in GOALS]
    epic = await _epic(ctx, "Gated", gym.id, budget_usd="5")
    run = await start_steps(
        ctx, gym.id, [{"id": "deploy", "agent": "builtin:noop", "risk_tier": "write"}]
    )
    await wait_for_step(ctx, run.id, "deploy", "awaiting_approval")
    detail = await _read(ctx, epic)
    html = (await client.get(f"/epics/{epic.id}")).text

    figures = dict(re.findall(r'data-figure="(\w+)"><span class="tile__value">(\d+)', html))
    assert figures["missions"] == "1" and figures["tasks"] == str(detail.tasks.total)
    for name in ("done", "failed", "awaiting_approval"):
        assert figures[name] == str(detail.tasks.by_column[name]), name
    shown = re.findall(r'data-column="(\w+)"><span[^>]*></span>([^<]+?) <strong>(\d+)', html)
    assert [(name, label) for name, label, _ in shown] == list(COLUMN_LABELS.items())
    assert {name: int(n) for name, _, n in shown} == detail.tasks.by_column
    assert detail.tasks.total > 0 and detail.missions == 1
    assert 'data-budget="ok"' in html and "$5.00" in html
    assert f'data-testid="risk-count">{detail.open_risks}<' in html and detail.open_risks > 0
    assert html.count('class="sev sev--') == len(detail.risks)
    assert 'data-testid="approval-count">1<' in html and "<code>deploy</code>" in html
    assert 'href="/approvals" data-testid="approvals-link"' in html
    # The add form offers the missions in no epic, and only those.
    assert f'name="mission_ids" value="{bakery.id}"' in html
    assert f'name="mission_ids" value="{gym.id}"' not in html

    await client.post(f"/api/v1/runs/{run.id}/cancel")
    await wait_for_run(ctx, run.id, within_s=30)


async def test_an_operator_makes_edits_fills_empties_archives_and_restores_an_epic(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOALS[0])
    operator = await _as(ctx, Role.OPERATOR, "olga")
    await add_user(ctx, "pat")
    made = await client.post(
        "/epics",
        headers=operator,
        data={
            "name": " Checkout ",
            "owner": "",
            "target_date": "",
            "budget_usd": "",
            "description": "",
        },
    )
    assert made.status_code == 303, made.text
    [epic] = await epics.list_epics(ctx)
    assert made.headers["location"] == f"/epics/{epic.id}"
    assert (epic.name, epic.owner, epic.budget_usd, epic.target_date) == (
        "Checkout",
        "olga",
        None,
        None,
    )

    edit = {
        "name": "Checkout revamp",
        "owner": "pat",
        "target_date": "2031-03-01",
        "budget_usd": "12.5",
        "description": "Line one\r\nLine two",
    }
    assert (
        await client.post(f"/epics/{epic.id}/edit", headers=operator, data=edit)
    ).status_code == 303
    edited = await _read(ctx, epic)
    assert (edited.name, edited.owner, edited.budget_usd) == ("Checkout revamp", "pat", 12.5)
    assert (edited.target_date, edited.description) == (date(2031, 3, 1), "Line one\nLine two")
    # Sent again as it is now, only what differs is a change: clearing the budget.
    again = {**edit, "budget_usd": "", "description": "Line one\nLine two"}
    assert (
        await client.post(f"/epics/{epic.id}/edit", headers=operator, data=again)
    ).status_code == 303
    saved = await client.get("/api/v1/events", params={"type": "epic.saved", "limit": 10})
    changes = sorted((e["seq"], e["payload"]["changed"]) for e in saved.json()["items"])
    assert [changed for _, changed in changes][1:] == [
        ["budget_usd", "description", "name", "owner", "target_date"],
        ["budget_usd"],
    ]
    page = (await client.get(f"/epics/{epic.id}", headers=operator)).text
    assert (
        'name="budget_usd" type="number" value=""' in page
        and "Line one\nLine two</textarea>" in page
    )

    added = await client.post(
        f"/epics/{epic.id}/missions", headers=operator, data={"mission_ids": [str(mission.id)]}
    )
    assert added.status_code == 303 and (await _read(ctx, epic)).missions == 1
    gone = await client.post(f"/epics/{epic.id}/missions/{mission.id}/remove", headers=operator)
    assert gone.status_code == 303 and (await _read(ctx, epic)).missions == 0

    assert (await client.post(f"/epics/{epic.id}/archive", headers=operator)).status_code == 303
    archived = (await client.get(f"/epics/{epic.id}", headers=operator)).text
    assert 'data-testid="archived"' in archived and 'data-control="restore-epic"' in archived
    assert not any(mark in archived for mark in EPIC_FORMS), "archived: read-only"
    refused = await client.post(
        f"/epics/{epic.id}/edit", headers=operator, data={**edit, "name": "X"}
    )
    assert refused.status_code == 409 and "is archived; restore it" in refused.text
    assert (await _read(ctx, epic)).name == "Checkout revamp"
    assert (await client.post(f"/epics/{epic.id}/restore", headers=operator)).status_code == 303
    assert not (await _read(ctx, epic)).archived


async def test_a_refused_form_names_the_field_keeps_the_input_and_changes_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOALS[0])
    first = await _epic(ctx, "First", mission.id)
    second = await _epic(ctx, "Second")
    before = await _event_count(ctx)
    typed = {"description": "Kept as typed", "budget_usd": "7", "target_date": "2030-01-02"}
    for change, status, field, words in [
        ({"name": "a\x00b"}, 422, "name", "Remove the NUL character"),
        ({"name": "Third", "owner": "nobody-here"}, 422, "owner", "No active user is called"),
        ({"name": "Third", "owner": "Robert'); DROP"}, 422, "owner", "sign-in name"),
        ({"name": "First"}, 409, "name", "exists already"),
        ({"name": "Third", "target_date": "next week"}, 422, "target_date", "YYYY-MM-DD"),
        ({"name": "Third", "budget_usd": "-1"}, 422, "budget_usd", "cannot be negative"),
        ({"name": "Third", "budget_usd": "0.0000001"}, 422, "budget_usd", "six decimal places"),
        ({"name": "<script>alert(1)</script>", "owner": "nobody"}, 422, "owner", "No active user"),
    ]:
        answer = await client.post("/epics", data={**typed, **change})
        assert answer.status_code == status, (change, answer.text[:300])
        assert words in _error(answer.text, field), (change, _error(answer.text, field))
        shown = {**typed, **change}["target_date"]
        kept = "Kept as typed</textarea>" in answer.text and f'value="{shown}"' in answer.text
        assert kept, change
        assert "<script>alert(1)</script>" not in answer.text and "\x00" not in answer.text
    assert [e.name for e in await epics.list_epics(ctx)] == ["First", "Second"]

    edit = {"name": "Second\x00", "owner": "tester", "description": "Typed here"}
    refused = await client.post(f"/epics/{second.id}/edit", data=edit)
    assert refused.status_code == 422 and "NUL" in _error(refused.text, "name")
    assert 'value="Second\ufffd"' in refused.text, "as typed, the NUL as a browser reads it"
    assert "Typed here</textarea>" in refused.text
    taken = await client.post(f"/epics/{second.id}/edit", data={**edit, "name": "First"})
    assert taken.status_code == 409 and "exists already" in _error(taken.text, "name")
    nobody = await client.post(
        f"/epics/{second.id}/edit", data={"name": "Second", "owner": "ghost"}
    )
    assert nobody.status_code == 422 and "ghost" in _error(nobody.text, "owner")

    moved = await client.post(
        f"/epics/{second.id}/missions", data={"mission_ids": [str(mission.id)]}
    )
    assert moved.status_code == 409 and "'First'" in _error(moved.text, "mission_ids")
    none = await client.post(f"/epics/{second.id}/missions", data={})
    assert none.status_code == 422 and "Tick at least one" in _error(none.text, "mission_ids")
    bogus = await client.post(f"/epics/{second.id}/missions", data={"mission_ids": ["nope"]})
    assert bogus.status_code == 422 and "Choose missions" in _error(bogus.text, "mission_ids")
    unknown = await client.post(f"/epics/{second.id}/missions/{uuid.uuid4()}/remove")
    assert unknown.status_code == 404 and 'data-testid="refusal"' in unknown.text

    assert await _event_count(ctx) == before, "a refused form changes nothing"
    assert ((await _read(ctx, first)).missions, (await _read(ctx, second)).missions) == (1, 0)
    assert (await _read(ctx, second)).description == ""


async def test_a_viewers_posts_are_refused_and_change_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOALS[0])
    epic = await _epic(ctx, "Viewed", mission.id)
    viewer = await _as(ctx, Role.VIEWER)
    before = await _event_count(ctx, "epic.")
    for path, data in [
        ("/epics", {"name": "Mine"}),
        (f"/epics/{epic.id}/edit", {"name": "Mine", "owner": "tester"}),
        (f"/epics/{epic.id}/missions", {"mission_ids": [str(mission.id)]}),
        (f"/epics/{epic.id}/missions/{mission.id}/remove", {}),
        (f"/epics/{epic.id}/archive", {}),
        (f"/epics/{epic.id}/restore", {}),
    ]:
        assert (await client.post(path, headers=viewer, data=data)).status_code == 403, path
    assert await _event_count(ctx, "epic.") == before
    assert [(e.name, e.missions) for e in await epics.list_epics(ctx)] == [("Viewed", 1)]


async def test_unknown_and_malformed_ids_are_the_not_found_page(
    client: httpx2.AsyncClient,
) -> None:
    for path in (f"/epics/{uuid.uuid4()}", "/epics/nope"):
        page = await client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 404 and "Not found" in page.text, path
        assert "<!doctype html>" in page.text.lower()
    refused = await client.post(f"/epics/{uuid.uuid4()}/archive")
    assert refused.status_code == 404 and "no epic with id" in refused.text


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    async with running_site(settings) as running:
        yield running


async def test_a_form_without_the_sessions_csrf_token_is_refused(site: Site) -> None:
    await add_user(site.ctx, "root", Role.OPERATOR)
    epic = await _epic(site.ctx, "Guarded", owner="root")
    async with site.browser() as browser:
        assert (await browser.sign_in("root")).status_code == 303
        assert 'name="csrf_token"' in (await browser.http.get("/epics")).text
        for path, data in (
            ("/epics", {"name": "Forged"}),
            (f"/epics/{epic.id}/archive", {}),
            (f"/epics/{epic.id}/edit", {"name": "Forged", "owner": "root"}),
        ):
            assert (await browser.http.post(path, data=data)).status_code == 403, path
            forged = await browser.http.post(path, data={**data, "csrf_token": "forged"})
            assert forged.status_code == 403, path
        assert [e.name for e in await epics.list_epics(site.ctx)] == ["Guarded"]
        csrf = await browser.csrf("/epics")
        made = await browser.http.post("/epics", data={"name": "Real", "csrf_token": csrf})
        assert made.status_code == 303
        [real] = [e for e in await epics.list_epics(site.ctx) if e.name == "Real"]
        assert real.owner == "root" and real.created_by == "user:root"

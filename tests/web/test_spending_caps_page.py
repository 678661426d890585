"""The spending caps page: everyone who reads prices sees the caps, only admins change them.

A refused form stores nothing and names the field at fault; hostile text comes back escaped.
"""

import re
import uuid
from decimal import Decimal

import httpx2
import pytest
from markupsafe import escape

from missionctl.domain.access import Role
from missionctl.domain.spending_caps import Period
from missionctl.schemas.spending_caps import SpendingCapRead, SpendingCapSet
from missionctl.services import ServiceContext
from missionctl.services.usecases.spending_caps import list_caps, set_cap
from tests.web.support import ACTOR, HTMX
from tests.web.test_governance_pages import as_role, text_of

URL = "/settings/spending-caps"
FORM_ACTION = 'action="/settings/spending-caps"'


async def a_cap(
    ctx: ServiceContext, agent: str = "*", period: Period = Period.day, usd: str = "5"
) -> SpendingCapRead:
    """A cap set through the use case, as an admin would."""
    data = SpendingCapSet(agent=agent, period=period, cap_usd=Decimal(usd))
    return await set_cap(ctx, data=data, actor=ACTOR)


def row_of(html: str, agent: str, period: str) -> str:
    """The table row of the cap on ``agent`` per ``period`` (fails when there is none)."""
    found = re.search(
        rf'<tr data-cap="[^"]+" data-agent="{re.escape(agent)}" data-period="{period}".*?</tr>',
        html,
        re.S,
    )
    assert found, f"no row for {agent} per {period}"
    return found.group()


def field_part(html: str, field: str) -> str:
    """The markup of the form's field ``field``, up to the next field."""
    return html.split(f'data-field="{field}"', 1)[1].split("data-field=", 1)[0]


async def test_a_viewer_reads_the_caps_without_a_form_and_may_not_change_them(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    cap = await a_cap(ctx)
    viewer = await as_role(ctx, Role.VIEWER)
    page = await client.get(URL, headers=viewer)
    assert page.status_code == 200
    row = text_of(row_of(page.text, "*", "day"))
    assert row.startswith("All agents * UTC day $0.00 spent of $5.00")
    assert "None" in row  # nothing held
    assert FORM_ACTION not in page.text
    assert 'data-control="remove-cap"' not in page.text
    assert 'href="/settings/spending-caps" aria-current="page"' in page.text  # its admin tab

    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        who = await as_role(ctx, role)
        form = {"agent": "llm:*", "period": "day", "cap_usd": "1"}
        assert (await client.post(URL, headers=who, data=form)).status_code == 403
        removed = await client.post(f"{URL}/{cap.id}/remove", headers=who)
        assert removed.status_code == 403
    [kept] = await list_caps(ctx)
    assert (kept.id, kept.agent, kept.cap_usd) == (cap.id, "*", 5.0)


async def test_an_admin_sets_changes_and_removes_a_cap(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    empty = await client.get(URL)
    assert empty.status_code == 200
    assert "No spending caps" in empty.text and "Set one with the form below." in empty.text
    assert FORM_ACTION in empty.text
    assert '<option value="llm:*">' in empty.text and '<option value="*">' in empty.text

    form = {"agent": " llm:* ", "period": "day", "cap_usd": "2.50"}
    saved = await client.post(URL, headers=HTMX, data=form)
    assert saved.status_code == 200
    assert "Cap saved" in saved.text and "llm:*: $2.50 per UTC day" in saved.text
    assert '<hx-partial hx-target="#cap-table"' in saved.text
    assert text_of(row_of(saved.text, "llm:*", "day")).startswith("llm:* UTC day $0.00 spent")

    changed = await client.post(URL, data={**form, "cap_usd": "7.5"})  # a plain form post
    assert changed.status_code == 303 and changed.headers["location"] == URL
    month = {"agent": "*", "period": "month", "cap_usd": "100"}
    assert (await client.post(URL, headers=HTMX, data=month)).status_code == 200
    caps = {(c.agent, c.period.value): c for c in await list_caps(ctx)}
    assert {key: c.cap_usd for key, c in caps.items()} == {
        ("llm:*", "day"): 7.5,
        ("*", "month"): 100.0,
    }
    page = (await client.get(URL)).text
    assert "$7.50" in row_of(page, "llm:*", "day")
    assert "All agents" in row_of(page, "*", "month")

    day = caps[("llm:*", "day")]
    removed = await client.post(f"{URL}/{day.id}/remove", headers=HTMX)
    assert removed.status_code == 200
    assert "Cap removed" in removed.text and "llm:* per UTC day is no longer capped" in removed.text
    assert 'data-agent="llm:*"' not in removed.text
    plain = await client.post(f"{URL}/{caps[('*', 'month')].id}/remove")
    assert plain.status_code == 303 and plain.headers["location"] == URL
    assert await list_caps(ctx) == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"agent": "nope:x"}, "agent", "No agent &#39;nope:x&#39;"),
        ({"agent": "Not An Agent"}, "agent", "Name an agent (llm:writer)"),
        ({"agent": ""}, "agent", "Name an agent"),
        ({"cap_usd": "-1"}, "cap_usd", "Enter more than $0."),
        ({"cap_usd": "0"}, "cap_usd", "Enter more than $0."),
        ({"cap_usd": "1000000.01"}, "cap_usd", "At most $1,000,000 per period."),
        ({"cap_usd": "99999999999999999999"}, "cap_usd", "At most $1,000,000"),
        ({"cap_usd": "1.1234567"}, "cap_usd", "Use at most six decimal places."),
        ({"cap_usd": "lots"}, "cap_usd", "Enter a number of US dollars"),
        ({"cap_usd": "NaN"}, "cap_usd", "Enter a number of US dollars"),
        ({"cap_usd": ""}, "cap_usd", "Enter what the agent&#39;s steps may spend"),
        ({"period": "week"}, "period", "Choose day or month"),
    ],
)
async def test_a_wrong_cap_is_refused_beside_its_field_and_nothing_is_stored(
    ctx: ServiceContext,
    client: httpx2.AsyncClient,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    data = {"agent": "llm:writer", "period": "day", "cap_usd": "5", **form}
    for headers in (HTMX, {}):
        response = await client.post(URL, headers=headers, data=data)
        assert response.status_code == 422
        html = response.text
        assert message in field_part(html, field), field_part(html, field)
        assert html.count('class="field__error"') == 1
        assert "Nothing was saved." in html
        assert f'value="{data["agent"]}"' in html  # kept as typed
    assert await list_caps(ctx) == []


async def test_hostile_agent_text_comes_back_escaped_and_cut_and_nothing_is_stored(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    script = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'
    for agent in (script, "llm:" + script, "a" * 10_000, "llm:" + "w" * 10_000):
        data = {"agent": agent, "period": "day", "cap_usd": "5"}
        response = await client.post(URL, headers=HTMX, data=data)
        assert response.status_code == 422
        html = response.text
        assert "<script>alert" not in html and "<img src=x" not in html
        if agent.endswith(script):  # kept as typed, escaped
            assert 'value="' + str(escape(agent)) + '"' in html
        assert "a" * 250 not in html and "w" * 250 not in html  # not echoed whole
        error = field_part(html, "agent")
        assert "Too long" in error or "Name an agent" in error
    assert await list_caps(ctx) == []


async def test_removing_a_cap_that_is_not_there_is_not_found(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await a_cap(ctx)
    ghost = await client.post(f"{URL}/{uuid.uuid4()}/remove", headers={"accept": "text/html"})
    assert ghost.status_code == 404
    assert "Not found" in ghost.text and "no spending cap" in ghost.text
    malformed = await client.post(f"{URL}/not-an-id/remove")
    assert malformed.status_code == 404
    toast = await client.post(f"{URL}/{uuid.uuid4()}/remove", headers=HTMX)
    assert toast.status_code == 404 and "no spending cap" in toast.text
    assert len(await list_caps(ctx)) == 1


async def test_the_settings_page_and_the_palette_lead_to_the_caps(
    client: httpx2.AsyncClient,
) -> None:
    settings = (await client.get("/settings")).text
    assert '<a class="card admin-card" href="/settings/spending-caps">' in settings
    assert "What agents may spend per UTC day or month." in settings
    assert 'class="admin-tabs__link" href="/settings/spending-caps"' in settings
    found = await client.get("/api/v1/palette", params={"q": "spending caps"})
    assert found.status_code == 200
    assert "/settings/spending-caps" in found.text

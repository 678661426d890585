"""Governance pages: the emergency stop in every page's header, agents, prices and budget bars."""

import asyncio
import re
import uuid
from decimal import Decimal

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases.agents import list_agents
from missionctl.services.usecases.audit import read_event_page
from missionctl.services.usecases.controls import engage_emergency_stop, read_controls
from missionctl.services.usecases.pricing import list_prices
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.web.templating import budget_gauge, mtok_usd, templates
from tests.support.auth import bearer_headers
from tests.web.conftest import LiveApp
from tests.web.support import ACTOR, HTMX, messages, start_steps, wait_for_run

STOP_BUTTON = 'data-control="emergency-stop"'
BANNER = 'data-testid="emergency-banner"'
RELEASE_BUTTON = 'data-control="emergency-release"'


def text_of(html: str) -> str:
    """The page's words, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


async def as_role(ctx: ServiceContext, role: Role) -> dict[str, str]:
    """Headers of a new user named after ``role``, acting with it."""
    return await bearer_headers(ctx, f"{role.value}-{uuid.uuid4().hex[:6]}", role)


# --- The emergency stop ----------------------------------------------------------------------


async def test_the_stop_button_is_in_the_header_of_those_who_may_press_it(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    for role, shown in (
        (Role.VIEWER, False),
        (Role.OPERATOR, True),
        (Role.APPROVER, True),  # approvers hold every operator permission
        (Role.ADMIN, True),
    ):
        headers = await as_role(ctx, role)
        for path in ("/missions", "/runs", "/agents", "/settings/prices"):
            html = (await client.get(path, headers=headers)).text
            assert (STOP_BUTTON in html) is shown, (role, path)
            assert BANNER not in html
    # The button only opens a confirmation: the form that posts is inside it, with a reason.
    html = (await client.get("/missions")).text
    assert 'popovertarget="estop-confirm"' in html
    assert re.search(
        r'<form method="post" action="/emergency-stop" hx-post="/emergency-stop"', html
    )
    assert 'name="reason"' in html and 'name="csrf_token"' in html


async def test_an_operator_stops_everything_and_only_an_admin_releases(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    operator = await as_role(ctx, Role.OPERATOR)
    viewer = await as_role(ctx, Role.VIEWER)

    refused = await client.post("/emergency-stop", headers=viewer, data={"reason": "no"})
    assert refused.status_code == 403
    assert not (await read_controls(ctx)).emergency_stop

    engaged = await client.post(
        "/emergency-stop",
        headers={**operator, **HTMX},
        data={"reason": "runaway costs on nightly", "back": "/runs"},
    )
    assert engaged.status_code == 200
    assert engaged.headers["HX-Refresh"] == "true"  # the whole page shows the new state
    controls = await read_controls(ctx)
    assert controls.emergency_stop and controls.reason == "runaway costs on nightly"

    for headers in (viewer, operator):
        for path in ("/missions", "/runs", "/agents", "/settings/prices"):
            html = (await client.get(path, headers=headers)).text
            assert BANNER in html, path
            words = text_of(html)
            assert "Emergency stop — all dispatch halted" in words
            assert "Engaged by operator-" in words
            assert "“runaway costs on nightly”" in words or "runaway costs on nightly" in words
            assert RELEASE_BUTTON not in html  # only admins may release
            assert STOP_BUTTON not in html  # it is on already
    assert RELEASE_BUTTON in (await client.get("/missions")).text  # the admin's

    again = await client.post("/emergency-stop", headers={**operator, **HTMX})
    assert again.status_code == 409  # a toast says it is on already
    assert "already on" in again.text

    not_admin = await client.post("/emergency-stop/release", headers=operator)
    assert not_admin.status_code == 403
    assert (await read_controls(ctx)).emergency_stop

    released = await client.post(
        "/emergency-stop/release", data={"reason": "fixed", "back": "/runs"}
    )
    assert released.status_code == 303 and released.headers["location"] == "/runs"
    assert not (await read_controls(ctx)).emergency_stop
    html = (await client.get("/missions", headers=operator)).text
    assert BANNER not in html and STOP_BUTTON in html

    events = [e for e in await read_event_page(ctx) if e.type.startswith("emergency.")]
    assert [e.type for e in events] == ["emergency.stopped", "emergency.released"]
    # The API tokens of the test act: the operator's, then the admin tester's.
    assert events[0].actor.startswith("token:operator-")
    assert events[0].payload["reason"] == "runaway costs on nightly"
    assert events[1].actor.startswith("token:tester-") and events[1].payload["reason"] == "fixed"


async def test_someone_not_signed_in_is_not_told_about_the_stop(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    await engage_emergency_stop(ctx, actor="user:olga", reason="secret incident")
    anonymous = {"Authorization": "", "Accept": "text/html"}
    for path in ("/no-such-page", f"/runs/{uuid.uuid4()}"):
        response = await client.get(path, headers=anonymous)
        assert response.status_code in (303, 404)
        assert BANNER not in response.text and "secret incident" not in response.text
    assert BANNER in (await client.get("/no-such-page", headers={"Accept": "text/html"})).text


async def test_a_plain_form_post_comes_back_to_its_page(client: httpx2.AsyncClient) -> None:
    response = await client.post("/emergency-stop", data={"back": "//evil.example/x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/missions"  # never off-site
    response = await client.post("/emergency-stop/release", data={"back": "/agents"})
    assert response.headers["location"] == "/agents"


async def test_an_open_run_page_hears_of_the_stop_through_its_stream(live_app: LiveApp) -> None:
    ctx = live_app.ctx
    steps = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 60}}]
    run = await start_steps(ctx, None, steps)
    await wait_for_run(ctx, run.id, lambda r: r.status == "running")
    page = (await live_app.http.get(f"/runs/{run.id}")).text
    assert STOP_BUTTON in page and BANNER not in page

    async with live_app.http.stream("GET", f"/runs/{run.id}/stream", headers=HTMX) as response:
        stream = messages(response)
        await engage_emergency_stop(ctx, actor="user:olga", reason="drill")
        async with asyncio.timeout(10):
            async for message in stream:
                if BANNER in message.text:
                    break
    # The bar is morphed in place, so a confirmation someone has open survives other updates.
    assert '<hx-partial hx-target="#emergency" hx-swap="outerMorph">' in message.text
    assert "Engaged by <strong>olga</strong>" in message.text
    await wait_for_run(ctx, run.id)


# --- Agents ----------------------------------------------------------------------------------


async def test_an_admin_disables_and_enables_an_agent_and_sets_its_tiers(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    name = "builtin:noop"
    page = (await client.get("/agents")).text
    assert f'data-agent="{name}" data-enabled="true"' in page
    assert 'data-agent="llm:*"' in page
    url = "/agents/builtin%3Anoop"
    assert f'hx-post="{url}"' in page

    disabled = await client.post(url, headers=HTMX, data={"enabled": "false"})
    assert disabled.status_code == 200
    assert f'data-agent="{name}" data-enabled="false"' in disabled.text  # the table again
    assert "builtin:noop disabled" in disabled.text  # and a toast
    agent = next(a for a in await list_agents(ctx) if a.name == name)
    assert not agent.enabled

    enabled = await client.post(url, data={"enabled": "true"})  # a plain form: back to the page
    assert enabled.status_code == 303 and enabled.headers["location"] == "/agents"
    assert next(a for a in await list_agents(ctx) if a.name == name).enabled

    form: dict[str, str | list[str]] = {"set_tiers": "1", "allowed_risk_tiers": ["read", "write"]}
    await client.post(url, headers=HTMX, data=form)
    agent = next(a for a in await list_agents(ctx) if a.name == name)
    assert agent.allowed_risk_tiers == ["read", "write"]
    every = ["read", "write", "irreversible"]
    await client.post(url, headers=HTMX, data={"set_tiers": "1", "allowed_risk_tiers": every})
    assert next(a for a in await list_agents(ctx) if a.name == name).allowed_risk_tiers == []

    none_ticked = await client.post(url, headers=HTMX, data={"set_tiers": "1"})
    assert none_ticked.status_code == 422
    assert "disable the agent" in none_ticked.text
    bad_tier = await client.post(url, headers=HTMX, data={**form, "allowed_risk_tiers": "all"})
    assert bad_tier.status_code == 422
    unknown = await client.post("/agents/nobody", headers=HTMX, data={"enabled": "false"})
    assert unknown.status_code == 404


async def test_non_admins_see_the_agents_read_only(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    operator = await as_role(ctx, Role.OPERATOR)
    page = await client.get("/agents", headers=operator)
    assert page.status_code == 200
    assert 'data-agent="builtin:noop"' in page.text
    assert 'name="set_tiers"' not in page.text and 'name="enabled"' not in page.text
    assert "Only an admin changes rules." in text_of(page.text)
    refused = await client.post("/agents/builtin%3Anoop", headers=operator, data={"enabled": "0"})
    assert refused.status_code == 403
    assert next(a for a in await list_agents(ctx) if a.name == "builtin:noop").enabled


# --- Prices ----------------------------------------------------------------------------------


async def test_an_admin_sets_a_price_and_the_table_shows_the_override(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    page = await client.get("/settings/prices")
    assert page.status_code == 200
    assert 'data-source="genai-prices"' in page.text  # the bundled data
    assert 'action="/settings/prices"' in page.text

    form = {"model": "acme-large", "input_usd_per_mtok": "1.5", "output_usd_per_mtok": "6"}
    saved = await client.post("/settings/prices", headers=HTMX, data=form)
    assert saved.status_code == 200
    assert "Price saved" in saved.text
    row = re.search(
        r'<tr data-model="acme-large" data-source="override">.*?</tr>', saved.text, re.S
    )
    assert row is not None
    # Cached input defaults to the input price.
    assert text_of(row.group()).startswith("acme-large $1.50 $1.50 $6.00 Override")

    listed = (await client.get("/settings/prices")).text
    assert '<tr data-model="acme-large" data-source="override">' in listed
    [price] = [p for p in await list_prices(ctx) if p.model == "acme-large"]
    assert (price.source, price.output_usd_per_mtok) == ("override", 6.0)


async def test_a_wrong_price_is_refused_beside_its_field_and_nothing_is_stored(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    form = {
        "model": "acme-bad",
        "input_usd_per_mtok": "-1",
        "cached_input_usd_per_mtok": "0.1234567",
        "output_usd_per_mtok": "lots",
    }
    for headers in (HTMX, {}):
        response = await client.post("/settings/prices", headers=headers, data=form)
        assert response.status_code == 422
        html = response.text
        for field, message in (
            ("input_usd_per_mtok", "A price cannot be negative."),
            ("cached_input_usd_per_mtok", "Use at most six decimal places."),
            ("output_usd_per_mtok", "Enter a number of US dollars"),
        ):
            part = html.split(f'data-field="{field}"', 1)[1].split("data-field=", 1)[0]
            assert message in part, field
        assert 'value="lots"' in html  # kept as typed
        assert "Nothing was saved." in html
    missing = await client.post("/settings/prices", headers=HTMX, data={"model": " "})
    assert "Name the model" in missing.text
    assert missing.text.count('class="field__error"') == 3
    assert not [p for p in await list_prices(ctx) if p.model.startswith("acme-")]


async def test_only_admins_set_prices(ctx: ServiceContext, client: httpx2.AsyncClient) -> None:
    viewer = await as_role(ctx, Role.VIEWER)
    page = await client.get("/settings/prices", headers=viewer)
    assert page.status_code == 200 and 'action="/settings/prices"' not in page.text
    form = {"model": "acme-x", "input_usd_per_mtok": "1", "output_usd_per_mtok": "1"}
    for role in (Role.VIEWER, Role.OPERATOR, Role.APPROVER):
        response = await client.post(
            "/settings/prices", headers=await as_role(ctx, role), data=form
        )
        assert response.status_code == 403
    assert not [p for p in await list_prices(ctx) if p.model == "acme-x"]


def test_prices_per_million_tokens_show_cents_at_least() -> None:
    assert [mtok_usd(v) for v in (2.5, 0.075, 10, 0.000125, 1250)] == [
        "$2.50",
        "$0.075",
        "$10.00",
        "$0.000125",
        "$1,250.00",
    ]


# --- Budget bars -----------------------------------------------------------------------------


async def test_the_run_page_shows_spent_against_the_cap(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    spec = WorkflowSpec.model_validate(
        {"name": "capped", "steps": [{"id": "a", "agent": "builtin:noop"}]}
    )
    workflow = await create_workflow(ctx, spec=spec, actor=ACTOR)
    capped = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, budget_micros=5_000_000)
    await wait_for_run(ctx, capped.id)

    html = (await client.get(f"/runs/{capped.id}")).text

    assert 'id="run-budget"' in html and 'data-budget="ok"' in html
    assert "$0.00 spent of $5.00" in text_of(html)
    assert '<progress class="budget__meter" value="0.0" max="5.0"' in html

    uncapped = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR)
    await wait_for_run(ctx, uncapped.id)
    html = (await client.get(f"/runs/{uncapped.id}")).text
    assert 'id="run-budget"' not in html and "No cap" in html


async def test_the_mission_page_shows_its_budget_bar(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Build a wiki", budget_usd=Decimal("12.5")), actor=ACTOR
    )
    html = (await client.get(f"/missions/{mission.id}")).text
    assert 'id="mission-budget"' in html and 'data-budget="ok"' in html
    assert "$0.00 spent of $12.50" in text_of(html)


@pytest.mark.parametrize(
    ("spent", "cap", "level", "percent", "note"),
    [
        (1.0, 10.0, "ok", "10 %", "$9.00 left."),
        (0.001, 10.0, "ok", "<1 %", "$10.00 left."),
        (8.0, 10.0, "warning", "80 %", "Nearing the cap: $2.00 left."),
        (10.0, 10.0, "exceeded", "100 %", "Cap reached: no budget left for this run."),
        (12.5, 10.0, "exceeded", "125 %", "Over the cap by $2.50: no budget left for this run."),
        (0.0, 0.0, "exceeded", "100 %", "Cap reached"),
    ],
)
def test_the_budget_bar_warns_at_80_percent_and_says_when_the_cap_is_used_up(
    spent: float, cap: float, level: str, percent: str, note: str
) -> None:
    gauge = budget_gauge(spent, cap)
    assert gauge is not None and (gauge.level, gauge.percent) == (level, percent)
    macro = templates.env.get_template("components/budget.html").module.budget_bar

    html = str(macro(spent, cap, "run"))

    assert f'class="budget budget--{level}"' in html
    assert note in text_of(html)
    assert gauge.meter_value <= gauge.meter_max  # the bar never overflows its track
    assert "style=" not in html


def test_without_a_cap_there_is_no_bar() -> None:
    assert budget_gauge(3, None) is None
    macro = templates.env.get_template("components/budget.html").module.budget_bar
    html = str(macro(3.0, None, "mission"))
    assert "<progress" not in html and "no cap on this mission" in text_of(html)

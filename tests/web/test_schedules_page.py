"""The schedules page: the list with next and last run and success rate, the add form and the
buttons for operators only, refusals beside the field, and hostile text shown as text."""

import re
import uuid

import httpx2

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.scheduler import fire_due
from missionctl.services.usecases.schedules import list_schedules
from tests.engine.helpers import wait_for_run
from tests.schedules.helpers import every_minute, minute, saved_workflow
from tests.support.auth import bearer_headers
from tests.web.support import HTMX

NEVER_SOON = "0 3 1 1 *"
BUTTONS = ("schedule-pause", "schedule-run-now", "schedule-delete", "add-schedule")


async def _as(ctx: ServiceContext, role: Role) -> dict[str, str]:
    return await bearer_headers(ctx, f"{role.value}-{uuid.uuid4().hex[:6]}", role)


async def test_the_list_shows_next_and_last_run_and_success_rate(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), overlap_policy="allow")
    for n in (1, 2):  # the app's engine runs them to the end
        [fired] = await fire_due(ctx, minute(n))
        assert fired.run_id is not None
        await wait_for_run(ctx, fired.run_id, within_s=30.0)
    html = (await client.get("/schedules")).text
    row = re.search(rf'<tr id="schedule-{schedule.id}".*?</tr>', html, re.S)
    assert row is not None
    assert "* * * * *" in row.group(0) and "UTC" in row.group(0)
    assert 'data-testid="success-rate">100%' in row.group(0)  # two runs ended, both completed
    assert f'href="/runs/{(await list_schedules(ctx))[0].last_run_id}"' in row.group(0)
    assert 'aria-current="page"' in html and 'href="/schedules"' in html


async def test_only_operators_get_the_form_and_the_buttons(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    schedule = await every_minute(ctx, await saved_workflow(ctx), cron=NEVER_SOON)
    viewer = await _as(ctx, Role.VIEWER)
    operator = await _as(ctx, Role.OPERATOR)
    seen = (await client.get("/schedules", headers=viewer)).text
    assert schedule.name in seen
    assert not any(f'data-control="{b}"' in seen for b in BUTTONS)
    shown = (await client.get("/schedules", headers=operator)).text
    assert all(f'data-control="{b}"' in shown for b in BUTTONS)
    for action in ("pause", "resume", "run-now", "delete"):
        refused = await client.post(f"/schedules/{schedule.id}/{action}", headers=viewer)
        assert refused.status_code == 403, action
    refused = await client.post("/schedules", headers=viewer, data={"name": "x"})
    assert refused.status_code == 403
    [kept] = await list_schedules(ctx)
    assert not kept.paused and kept.last_run_id is None


async def test_an_operator_adds_pauses_runs_and_deletes_a_schedule(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    workflow_id = await saved_workflow(ctx)
    operator = await _as(ctx, Role.OPERATOR)
    form = {
        "name": "weekday-report",
        "cron": "0 9 * * MON-FRI",
        "timezone": "Europe/Paris",
        "target": "workflow",
        "workflow_id": str(workflow_id),
        "budget_usd": "0.5",
        "misfire_policy": "run_once",
        "overlap_policy": "queue",
    }
    added = await client.post("/schedules", headers=operator, data=form)
    assert added.status_code == 303 and added.headers["location"] == "/schedules"
    [schedule] = await list_schedules(ctx)
    assert (schedule.timezone, schedule.misfire_policy) == ("Europe/Paris", "run_once")
    base = f"/schedules/{schedule.id}"
    assert (await client.post(f"{base}/pause", headers=operator)).status_code == 303
    assert (await list_schedules(ctx))[0].paused
    page = (await client.get("/schedules")).text
    assert 'data-control="schedule-resume"' in page and ">paused<" in page
    refreshed = await client.post(f"{base}/resume", headers={**operator, **HTMX})
    assert refreshed.headers.get("HX-Refresh") == "true"
    assert (await client.post(f"{base}/run-now", headers=operator)).status_code == 303
    assert (await list_schedules(ctx))[0].last_outcome == "started"
    assert (await client.post(f"{base}/delete", headers=operator)).status_code == 303
    assert await list_schedules(ctx) == []


async def test_bad_input_comes_back_beside_the_field_and_stores_nothing(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    workflow_id = str(await saved_workflow(ctx))
    base = {"name": "ok", "cron": NEVER_SOON, "timezone": "UTC", "workflow_id": workflow_id}
    for change, field, words in [
        ({"cron": "61 * * * *"}, "cron", "not a valid cron expression"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known IANA time zone"),
        ({"budget_usd": "-1"}, "budget_usd", "greater than or equal"),
        ({"name": "<script>alert(1)</script>"}, "name", "should match pattern"),
        ({"inputs": "[" * 5000}, "inputs", "JSON object"),
        ({"inputs": '{"a": 1}'}, "inputs", ""),  # undeclared: the workflow refuses it (409)
    ]:
        answer = await client.post("/schedules", data=base | change)
        expected = 409 if change == {"inputs": '{"a": 1}'} else 422
        assert answer.status_code == expected, (field, answer.text[:200])
        assert words in answer.text, (field, words)
        if field != "inputs" or words:
            assert f'id="field-{field}-error"' in answer.text or words in answer.text
        assert "<script>alert(1)</script>" not in answer.text
    assert await list_schedules(ctx) == []

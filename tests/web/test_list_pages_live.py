"""The Missions and Runs lists through the app: their live streams under the page's filters and
page, and the Runs page's filters (those of GET /api/v1/runs) kept in the URL."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx2

from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.missions import create_mission
from missionctl.web.live_lists import LIST_EVERY_S
from tests.web.conftest import LiveApp
from tests.web.support import HTMX, Message, messages, start_steps, wait_for_run


async def _next(stream: AsyncIterator[Message], within_s: float = 10) -> Message:
    message = await asyncio.wait_for(anext(stream), within_s)
    assert message.id is not None and message.id.isdigit(), message
    return message


async def _mission(ctx: ServiceContext, goal: str) -> uuid.UUID:
    return (await create_mission(ctx, data=MissionCreate(goal=goal), actor="user:cli")).id


def _stream_url(html: str) -> str:
    found = re.search(r'id="live" hx-sse:connect="([^"]+)"', html)
    assert found, "the page has no live element"
    return found.group(1).replace("&amp;", "&")


async def test_the_missions_list_streams_new_rows_within_its_search(live_app: LiveApp) -> None:
    http, ctx = live_app.http, live_app.ctx
    page = await http.get("/missions", params={"q": "kafka"})
    url = _stream_url(page.text)
    assert url.startswith("/missions/stream?q=kafka&after=")
    # A filter change (htmx) swaps in a live element whose stream follows the new filter.
    update = await http.get("/missions", params={"q": "slack"}, headers=HTMX)
    assert '<hx-partial hx-target="#live" hx-swap="outerHTML">' in update.text
    assert "/missions/stream?q=slack&amp;after=" in update.text

    async with http.stream("GET", url, headers=HTMX) as response:
        assert response.status_code == 200
        stream = messages(response)
        terraform = await _mission(ctx, "Write Terraform modules for the staging network")
        first = await _next(stream)
        # The list is read again with the page's search: the new mission is not in it.
        assert '<hx-partial hx-target="#mission-list" hx-swap="outerHTML">' in first.text
        assert str(terraform) not in first.text and "No missions match" in first.text
        assert '<span id="mission-count" class="count"' in first.text
        kafka = await _mission(ctx, "Build a Kafka consumer that archives audit events")
        second = await _next(stream)
        assert f'data-mission-id="{kafka}"' in second.text
        assert int(second.id or 0) > int(first.id or 0)


async def test_the_runs_list_streams_status_changes_and_keeps_its_filters(
    live_app: LiveApp,
) -> None:
    http, ctx = live_app.http, live_app.ctx
    page = await http.get("/runs", params={"status": "completed"})
    url = _stream_url(page.text)
    assert url.startswith("/runs/stream?status=completed&after=")
    async with http.stream("GET", url, headers=HTMX) as response:
        stream = messages(response)
        run = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
        await wait_for_run(ctx, run.id)
        seen = ""
        while f'data-run-id="{run.id}"' not in seen:
            seen = (await _next(stream)).text
        assert "badge--completed" in seen and ">1/1<" in seen
        assert '<hx-partial hx-target="#run-count" hx-swap="outerHTML">' in seen

    # The Last-Event-ID of a reconnection wins over the page's cursor: nothing new, no message.
    head = url.rsplit("after=", 1)[0] + "after=0"
    resumed = {**HTMX, "Last-Event-ID": str(2**62)}
    async with http.stream("GET", head, headers=resumed) as response:
        stream = messages(response)
        try:
            extra = await asyncio.wait_for(anext(stream), 1.5)
        except TimeoutError:
            extra = None
        assert extra is None


async def test_a_stream_of_changes_is_sent_at_a_bounded_rate_and_its_last_state_arrives(
    live_app: LiveApp,
) -> None:
    """A mission created every tenth of a second: the list is not read and sent for each."""
    http, ctx = live_app.http, live_app.ctx
    url = _stream_url((await http.get("/missions")).text)
    async with http.stream("GET", url, headers=HTMX) as response:
        stream = messages(response)
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n in range(25):
            last = await _mission(ctx, f"Build internal tool number {n} for the support team")
            await asyncio.sleep(0.1)
        sent = [await _next(stream)]
        while f'data-mission-id="{last}"' not in sent[-1].text:
            sent.append(await _next(stream))
        elapsed = loop.time() - started
    # At most one message an interval (arrival times can bunch on a loaded machine; their count
    # cannot grow), and the newest list arrives.
    assert len(sent) <= elapsed / LIST_EVERY_S + 2, (len(sent), elapsed)
    assert '<span id="mission-count" class="count"' in sent[-1].text


async def test_list_streams_refuse_what_the_lists_refuse(live_app: LiveApp) -> None:
    http = live_app.http
    for url in (
        "/missions/stream?cursor=nope",
        "/runs/stream?cursor=nope",
        "/runs/stream?status=done",
        "/runs/stream?mission_id=42",
    ):
        response = await http.get(url)
        assert response.status_code == 422, (url, response.text[:200])


async def test_the_runs_page_filters_like_the_api_and_keeps_them_in_its_stream(
    client: httpx2.AsyncClient,
) -> None:
    ctx: ServiceContext = client._transport.app.state.ctx  # type: ignore[attr-defined]
    for _ in range(3):
        await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
    wanted = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:sleep"}])
    await wait_for_run(ctx, wanted.id)
    page = await client.get("/runs", params={"agent": "builtin:sleep"})
    assert page.status_code == 200
    assert page.text.count("data-run-id=") == 1 and f'data-run-id="{wanted.id}"' in page.text
    assert 'value="builtin:sleep"' in page.text and "Clear filters" in page.text
    assert "/runs/stream?agent=builtin%3Asleep&amp;after=" in page.text

    others = await client.get("/runs", params={"agent": "builtin:noop"})
    assert others.text.count("data-run-id=") == 3 and str(wanted.id) not in others.text

    refused = await client.get("/runs", params={"status": "done"})
    assert refused.status_code == 422
    assert "status" in refused.text and "completed" in refused.text
    backwards = await client.get(
        "/runs", params={"created_after": "2026-02-01", "created_before": "2026-01-01"}
    )
    assert backwards.status_code == 422 and "created_after" in backwards.text
    fragment = await client.get("/runs", params={"q": "nothing like it"}, headers=HTMX)
    assert fragment.status_code == 200 and "<!doctype" not in fragment.text.lower()
    assert "No runs match" in fragment.text
    assert '<hx-partial hx-target="#live" hx-swap="outerHTML">' in fragment.text

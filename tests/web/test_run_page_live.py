"""The run page's cost and timeline over its live stream: redrawn as the run goes, at a bounded
rate, the running bar reaching "now", and the last state what a reload shows."""

import asyncio
import itertools
import re
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import pytest

from missionctl.domain.access import Role
from missionctl.services.usecases import dashboard
from missionctl.services.usecases.runs import cancel_run
from missionctl.web import sse
from tests.support.auth import bearer_headers
from tests.web.conftest import LiveApp
from tests.web.support import (
    ACTOR,
    HTMX,
    Inbox,
    Message,
    run_event_seqs,
    shown_parts,
    start_steps,
    wait_for_run,
)

TIMELINE = '<hx-partial hx-target="#run-timeline-chart" hx-swap="innerHTML">'
COST = '<hx-partial hx-target="#run-cost" hx-swap="outerHTML">'
STATE = 'hx-target="#run-status"'
NO_RUN = "0b9e8a4c-3f1d-4c2a-9d6e-7a5b1c2d3e4f"


def _partial(text: str, opening: str) -> str:
    """The content of the last ``<hx-partial>`` of ``text`` that starts with ``opening``."""
    start = text.rindex(opening) + len(opening)
    return " ".join(text[start : text.index("</hx-partial>", start)].split())


def _took(text: str, step: str) -> str:
    """The duration a timeline (in ``text``) writes after ``step``'s bar."""
    row = re.search(rf'data-step="{step}".*?class="chart__value"[^>]*>([^<]+)<', text)
    assert row is not None, text
    return row.group(1)


async def _quiet(inbox: Inbox, received: list[Message], quiet_s: float, within_s: float) -> None:
    """Read messages into ``received`` until none comes for ``quiet_s``."""
    async with asyncio.timeout(within_s):
        while (message := await inbox.next(quiet_s)) is not None:
            received.append(message)


async def test_a_running_steps_bar_grows_to_now_and_stops_when_the_step_ends(
    live_app: LiveApp,
) -> None:
    ctx = live_app.ctx
    steps = [{"id": "long", "agent": "builtin:sleep", "inputs": {"seconds": 30}}]
    run = await start_steps(ctx, None, steps)
    await wait_for_run(ctx, run.id, lambda r: r.steps[0].status == "running")
    after = (await run_event_seqs(ctx, run.id))[-1]
    url = f"/runs/{run.id}/stream?after={after}"
    received: list[Message] = []
    async with live_app.http.stream("GET", url, headers=HTMX) as response, Inbox(response) as inbox:
        # No event comes while the step sleeps, yet its bar is redrawn to now every second.
        async with asyncio.timeout(20):
            while len(ticks := [m for m in received if TIMELINE in m.text]) < 2:
                message = await inbox.next(10)
                assert message is not None, "the stream sent nothing"
                received.append(message)
        assert all(m.id is None and STATE not in m.text for m in ticks)  # no event, no read
        assert "chart__span--running" in ticks[0].text
        assert _took(ticks[0].text, "long") != _took(ticks[1].text, "long")

        await cancel_run(ctx, run_id=run.id, actor=ACTOR)
        received.clear()
        await _quiet(inbox, received, quiet_s=2.5 * sse.TICK_S, within_s=20)
    assert "Canceled" in shown_parts(received)["#run-status"], [m.text[:200] for m in received]
    ended = [
        i
        for i, m in enumerate(received)
        if TIMELINE in m.text and "chart__span--canceled" in _partial(m.text, TIMELINE)
    ]
    assert ended, [m.text[:200] for m in received]
    # The bar ended: nothing ticks after it, and the same timeline is not sent again.
    assert not [m for m in received[ended[0] + 1 :] if TIMELINE in m.text]


async def test_a_burst_of_steps_reads_the_state_at_a_bounded_rate_and_ends_as_a_reload(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = live_app.ctx
    reads: list[float] = []
    read_run_view = dashboard.read_run_view

    async def timed(*args: Any, **kwargs: Any) -> Any:
        reads.append(time.monotonic())
        return await read_run_view(*args, **kwargs)

    fan_out = [{"id": f"n{i}", "agent": "builtin:noop", "depends_on": ["gate"]} for i in range(30)]
    gate = {"id": "gate", "agent": "builtin:sleep", "inputs": {"seconds": 1}}
    run = await start_steps(ctx, None, [gate, *fan_out])
    monkeypatch.setattr(dashboard, "read_run_view", timed)
    received: list[Message] = []
    url = f"/runs/{run.id}/stream"
    async with live_app.http.stream("GET", url, headers=HTMX) as response, Inbox(response) as inbox:
        await wait_for_run(ctx, run.id)
        await _quiet(inbox, received, quiet_s=2.5 * sse.STATE_EVERY_S, within_s=30)
    monkeypatch.setattr(dashboard, "read_run_view", read_run_view)

    # The first read opened the stream; the state was read again at most twice a second.
    gaps = [later - earlier for earlier, later in itertools.pairwise(reads[1:])]
    assert len(reads) >= 3 and min(gaps) >= sse.STATE_EVERY_S - 0.01, gaps
    assert len(reads) - 1 < sum(1 for m in received if m.id is not None)  # fewer than events
    # What the stream left on the page is what a reload shows.
    page = (await live_app.http.get(f"/runs/{run.id}")).text
    live = shown_parts(received)
    assert live["#run-timeline-chart"].count("chart__span--succeeded") == 31
    shown = re.search(r'id="run-timeline-chart">(.*?)</div>\s*</section>', page, re.S)
    assert shown is not None and live["#run-timeline-chart"] == " ".join(shown.group(1).split())
    cost = re.search(r'(<section class="card" id="run-cost".*?</section>)', page, re.S)
    assert cost is not None and live["#run-cost"] == " ".join(cost.group(1).split())


async def test_a_viewer_reads_the_stream_with_its_cost_and_timeline(
    live_app: LiveApp,
) -> None:
    ctx = live_app.ctx
    run = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)
    viewer = await bearer_headers(ctx, "vic", Role.VIEWER)
    url = f"/runs/{run.id}/stream"
    async with live_app.http.stream("GET", url, headers={**HTMX, **viewer}) as response:
        assert response.status_code == 200
        async with Inbox(response) as inbox:
            message = await inbox.next(10)
            while message is not None and STATE not in message.text:
                message = await inbox.next(10)
    assert message is not None, "no state came"
    assert COST in message.text and TIMELINE in message.text
    assert 'data-step="only"' in _partial(message.text, TIMELINE)
    assert "builtin:noop" in _partial(message.text, COST)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/runs/{NO_RUN}/stream", 404),  # no such run
        ("/runs/nope/stream", 404),  # malformed: reads like an unknown one
        (f"/runs/{'9' * 5000}/stream", 404),
        (f"/runs/{NO_RUN}%00/stream", 404),
        (f"/runs/{NO_RUN}/stream?after=-1", 422),
        (f"/runs/{NO_RUN}/stream?after={2**63}", 422),
        (f"/runs/{NO_RUN}/stream?after=1e3", 422),
    ],
)
async def test_an_unknown_or_hostile_run_id_has_no_stream(
    client: httpx2.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path, headers=HTMX)
    assert response.status_code == status, response.text[:300]


async def test_an_absurd_last_event_id_is_capped_not_a_server_error(live_app: LiveApp) -> None:
    ctx = live_app.ctx
    run = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
    headers = {**HTMX, "Last-Event-ID": "9" * 400}
    async with live_app.http.stream("GET", f"/runs/{run.id}/stream", headers=headers) as response:
        assert response.status_code == 200


# --- until_due, the pacing under the streams ---------------------------------------------------


async def _slow_source(log: list[str]) -> AsyncGenerator[int, None]:
    try:
        for item in range(3):
            await asyncio.sleep(0.15)
            yield item
        await asyncio.sleep(60)
    finally:
        log.append("closed")


async def test_until_due_yields_none_at_deadlines_without_losing_or_cancelling_a_read() -> None:
    log: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.05
    got: list[int | None] = []
    paced = sse.until_due(_slow_source(log), lambda: deadline)
    async for item in paced:
        got.append(item)
        if item is None:
            deadline = loop.time() + 0.05  # the read under way goes on meanwhile
        if got[-3:] == [2, None, None]:
            break  # the source now sleeps for a minute
    assert [i for i in got if i is not None] == [0, 1, 2]
    assert got.count(None) >= 4  # ~ every 0.05 s while each item took 0.15 s
    await paced.aclose()  # closing cancels the read under way, and the source with it
    await asyncio.sleep(0.01)
    assert log == ["closed"]


async def test_until_due_without_a_deadline_waits_for_the_source_alone() -> None:
    log: list[str] = []
    paced = sse.until_due(_slow_source(log), lambda: None)
    assert [await anext(paced) for _ in range(3)] == [0, 1, 2]
    await paced.aclose()  # between reads: the source is closed directly
    assert log == ["closed"]

"""The Events page (filters in the URL, rows linking to what they concern, the live stream) and
the Audit page (run and event searches, export links)."""

import asyncio
import re
import uuid

from tests.api.test_event_feed_api import seed
from tests.web.conftest import LiveApp
from tests.web.support import HTMX


async def test_the_events_page_shows_filtered_rows_linking_to_their_run_and_step(
    live_app: LiveApp,
) -> None:
    client = live_app.http
    s = await seed(live_app.ctx)
    page = await client.get("/events", params={"type": "step.log", "severity": "error"})
    assert page.status_code == 200
    assert f'data-seq="{s.error_log}"' in page.text
    assert f'data-seq="{s.warning_log}"' not in page.text
    assert f'href="/runs/{s.release}/steps/only"' in page.text
    assert f'href="/runs/{s.release}"' in page.text
    assert 'value="step.log"' in page.text  # the form keeps the filter
    assert "/events/stream?type=step.log&amp;severity=error&amp;after=" in page.text
    bad = await client.get("/events", params={"since": "last week"})
    assert bad.status_code == 422 and "ISO 8601" in bad.text


async def test_the_events_stream_sends_rows_of_matching_events(live_app: LiveApp) -> None:
    s = await seed(live_app.ctx)
    url = f"/events/stream?type=step.log&after={s.warning_log}"
    async with live_app.http.stream("GET", url, headers=HTMX) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        got = ""
        while f'data-seq="{s.info_log}"' not in got:
            got += await asyncio.wait_for(anext(lines), 10)
        assert 'hx-target="#event-rows"' in got


async def test_the_audit_page_searches_runs_and_events(live_app: LiveApp) -> None:
    client = live_app.http
    s = await seed(live_app.ctx)
    runs = await client.get("/audit", params={"workflow": "nightly"})
    assert runs.status_code == 200
    assert f'href="/runs/{s.nightly}"' in runs.text and f"/runs/{s.release}" not in runs.text
    assert "/api/v1/audit/export?workflow=nightly&amp;kind=runs&amp;format=csv" in runs.text
    events = await client.get("/audit", params={"kind": "events", "severity": "warning"})
    assert f'data-seq="{s.warning_log}"' in events.text
    assert f'data-seq="{s.error_log}"' not in events.text
    unknown = await client.get("/audit", params={"run_id": str(uuid.uuid4()), "kind": "events"})
    assert unknown.status_code == 200 and "No events match" in unknown.text
    bad = await client.get("/audit", params={"status": "exploded"})
    assert bad.status_code == 422


def _row(html: str, event_type: str) -> str:
    """The newest row of an event of ``event_type``."""
    match = re.search(
        rf'<tr class="event-row[^"]*" data-seq="\d+" data-type="{event_type}">.*?</tr>', html, re.S
    )
    assert match is not None, f"no {event_type} row"
    return match.group(0)


async def test_rows_name_their_mission_and_run_and_keep_the_ids_at_hand(
    live_app: LiveApp,
) -> None:
    s = await seed(live_app.ctx)
    params = {"run_id": str(s.nightly), "type": "run.created"}
    events = await live_app.http.get("/events", params=params)
    audit = await live_app.http.get("/audit", params={**params, "kind": "events"})
    for page in (events, audit):
        assert page.status_code == 200
        row = _row(page.text, "run.created")  # the run of nightly for the mission "Ship the page"
        run = (
            f'<a class="event-row__subject" href="/runs/{s.nightly}" '
            f'title="Run {s.nightly}: nightly">'
        )
        assert f'{run}Run <span class="event-row__name">nightly</span></a>' in row
        mission = (
            f'<a class="event-row__subject" href="/missions/{s.mission_id}" '
            f'title="Mission {s.mission_id}: Ship the page">'
        )
        assert f'{mission}Mission <span class="event-row__name">Ship the page</span></a>' in row
        shown = re.sub(r'(href|title)="[^"]*"', "", row)  # the ids stay in links and titles only
        assert str(s.nightly)[:8] not in shown and str(s.mission_id)[:8] not in shown


async def test_live_rows_are_named_too(live_app: LiveApp) -> None:
    s = await seed(live_app.ctx)
    url = f"/events/stream?type=step.log&after={s.warning_log}"
    async with live_app.http.stream("GET", url, headers=HTMX) as response:
        lines = response.aiter_lines()
        got = ""
        row = f'data-seq="{s.info_log}"'
        while row not in got or got.rfind("</hx-partial>") < got.find(row):
            got += await asyncio.wait_for(anext(lines), 10)
    assert (
        f'title="Run {s.release}: release">Run <span class="event-row__name">release</span>' in got
    )

"""The system-health strip on every page, its refresh fragment, and the workers page."""

import asyncio
import re
import time

import httpx2

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers
from tests.web.support import HTMX
from tests.web.test_approvals_page import gated_run

PAGES = (
    "/missions",
    "/runs",
    "/workflows",
    "/approvals",
    "/agents",
    "/settings/prices",
    "/workers",
)


def figure(html: str, name: str) -> str:
    """The value the strip shows for ``name`` (its data-health attribute)."""
    found = re.search(
        rf'data-health="{name}"[^>]*>\s*<span class="health-strip__value">([^<]*)</span>', html
    )
    assert found, f"no {name} in the strip"
    return found.group(1)


async def test_every_page_shows_the_strip_with_links_where_one_goes_next(
    client: httpx2.AsyncClient,
) -> None:
    for path in PAGES:
        response = await client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert html.count('<section id="health-strip"') == 1, path
        assert 'hx-get="/health/strip"' in html
    assert 'href="/runs?status=running" data-health="queued"' in html
    assert 'href="/runs?status=failed" data-health="failed_24h"' in html
    assert 'href="/approvals" data-health="approvals"' in html
    assert 'href="/workers" data-health="workers"' in html
    assert figure(html, "workers") == "1"  # the embedded engine
    assert figure(html, "burn") == "$0.00"


async def test_a_page_without_a_signed_in_person_has_no_strip(client: httpx2.AsyncClient) -> None:
    anonymous = {"Authorization": ""}
    sign_in = await client.get("/sign-in", headers={**anonymous, "accept": "text/html"})
    assert sign_in.status_code == 200
    assert "health-strip" not in sign_in.text
    refused = await client.get("/health/strip", headers={**anonymous, **HTMX})
    assert refused.status_code == 401
    assert "health-strip" not in refused.text


async def test_the_refresh_brings_new_figures_and_the_approvals_badge(
    client: httpx2.AsyncClient,
) -> None:
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, "watcher", Role.VIEWER)
    first = await client.get("/health/strip", headers={**viewer, **HTMX})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    assert figure(first.text, "approvals") == "0"
    await gated_run(ctx)
    deadline = time.monotonic() + 10
    while True:  # the figures are kept a second
        fresh = await client.get("/health/strip", headers={**viewer, **HTMX})
        if figure(fresh.text, "approvals") == "1":
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert '<hx-partial hx-target="#health-strip" hx-swap="outerHTML">' in fresh.text
    assert '<hx-partial hx-target="#nav-approvals-badge" hx-swap="outerHTML">' in fresh.text
    assert re.search(r'id="nav-approvals-badge" class="nav__badge" title="1 waiting', fresh.text)
    assert "<html" not in fresh.text  # a fragment, not a page
    # Every page's sidebar badge now says so too, not only the pages that count approvals.
    page = await client.get("/agents")
    assert re.search(r'id="nav-approvals-badge" class="nav__badge" title="1 waiting', page.text)


async def test_the_workers_page_lists_the_engines(client: httpx2.AsyncClient) -> None:
    response = await client.get("/workers")
    assert response.status_code == 200
    table = re.search(r'data-testid="workers-table".*?</table>', response.text, re.S)
    assert table is not None
    assert "embedded" in table.group(0) and 'data-status="online"' in table.group(0)

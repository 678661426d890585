"""The agents page shows each agent's utilisation over the window of its URL."""

import re

import httpx2

from missionctl.services import ServiceContext
from tests.engine.helpers import start, step, wait_for_run


def _row(html: str, agent: str) -> str:
    found = re.search(rf'<tr data-utilisation="{re.escape(agent)}">(.*?)</tr>', html, re.S)
    assert found, f"no utilisation row for {agent}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


async def test_the_agents_page_shows_utilisation_and_refuses_an_unknown_window(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    run = await start(ctx, [step("ok"), step("bad", "builtin:fail", "ok")])
    await wait_for_run(ctx, run.id)  # the app's own engine runs it
    page = await client.get("/agents", params={"window": "1h"})
    assert page.status_code == 200
    assert "Utilisation, last 1h" in page.text
    assert _row(page.text, "builtin:noop").startswith("builtin:noop 1 0%")
    assert _row(page.text, "builtin:fail").startswith("builtin:fail 1 100%")
    assert 'title="Busy % is the seconds' in page.text  # the definition, as the tooltip
    assert 'aria-current="page">1h<' in page.text
    default = await client.get("/agents")
    assert "Utilisation, last 24h" in default.text
    refused = await client.get("/agents", params={"window": "2h"})
    assert refused.status_code == 422

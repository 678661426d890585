"""The agents page lists the allowed repositories; only an admin allows or disallows one."""

import httpx2

from missionctl.domain.access import Role
from missionctl.services import ServiceContext
from missionctl.services.usecases.agents import read_allowed_repositories
from tests.support.auth import bearer_headers
from tests.web.support import HTMX

URL = "/agents/coding:*"


async def test_an_admin_allows_and_disallows_a_repository_on_the_agents_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    empty = await client.get("/agents")
    assert "No repository is allowed" in empty.text and 'data-form="allow-repository"' in empty.text
    operator = await bearer_headers(ctx, "operator-repos", Role.OPERATOR)
    form = {"repository_action": "allow", "repository": "/srv/repos/"}
    refused = await client.post(URL, data=form, headers={**operator, **HTMX})
    assert refused.status_code == 403
    assert await read_allowed_repositories(ctx) == ()
    bad = await client.post(URL, data=form | {"repository": "srv/repos"}, headers=HTMX)
    assert bad.status_code == 422 and await read_allowed_repositories(ctx) == ()
    allowed = await client.post(URL, data=form, headers=HTMX)
    assert allowed.status_code == 200 and "/srv/repos allowed for coding steps" in allowed.text
    assert await read_allowed_repositories(ctx) == ("/srv/repos",)
    page = (await client.get("/agents", headers=operator)).text
    assert 'data-repository="/srv/repos"' in page and "disallow-repository" not in page
    gone = await client.post(URL, data={**form, "repository_action": "disallow"}, headers=HTMX)
    assert gone.status_code == 200 and await read_allowed_repositories(ctx) == ()

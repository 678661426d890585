"""GET /api/v1/search and the Search page: results, highlighting, access and hostile input."""

import httpx2
import pytest
from fastapi import FastAPI

from missionctl.domain.access import Role
from tests.search.helpers import failing_run
from tests.support.auth import bearer_headers

URL = "/api/v1/search"
HOSTILE_LINE = '<script>alert("x")</script> & the <b>turbine</b> stalled'


async def _client(app: FastAPI, role: Role | None = Role.VIEWER) -> httpx2.AsyncClient:
    headers = {} if role is None else await bearer_headers(app.state.ctx, f"u-{role}", role)
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def test_the_api_finds_a_line_and_the_lowest_role_may_search(app: FastAPI) -> None:
    run = await failing_run(app.state.ctx, HOSTILE_LINE)
    async with await _client(app) as viewer:  # the lowest role reads runs, so it may search
        response = await viewer.get(URL, params={"q": "turbine", "kind": "log"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_cursor"] is None
        [hit] = body["items"]
        assert (hit["kind"], hit["event_type"], hit["run_id"]) == ("log", "step.log", str(run.id))
        assert hit["url"] == f"/runs/{run.id}/steps/boom"
        assert [p["text"] for p in hit["snippet"] if p["match"]] == ["turbine"]
        assert "".join(p["text"] for p in hit["snippet"]) == f"attempt 1: {HOSTILE_LINE}"
        of_run = await viewer.get(URL, params={"q": "stalled", "run_id": str(run.id)})
        assert len(of_run.json()["items"]) == 2


async def test_an_anonymous_caller_is_refused(app: FastAPI) -> None:
    await failing_run(app.state.ctx, HOSTILE_LINE)
    async with await _client(app, role=None) as anonymous:
        for path in (URL, "/search"):
            response = await anonymous.get(path, params={"q": "turbine"})
            assert response.status_code in (401, 303), (path, response.status_code)
            assert "turbine" not in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x" * 10_000}, "q"),
        ({"q": '"'}, "q"),
        ({"q": "a*"}, "q"),
        ({}, "q"),
        ({"q": "turbine", "kind": "logs"}, "kind"),
        ({"q": "turbine", "run_id": "not-an-id"}, "run_id"),
        ({"q": "turbine", "limit": "0"}, "limit"),
        ({"q": "turbine", "cursor": "-1"}, "cursor"),
        ({"q": "turbine", "cursor": "99999999999999999999"}, "cursor"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    app: FastAPI, params: dict[str, str], field: str
) -> None:
    async with await _client(app) as viewer:
        response = await viewer.get(URL, params=params)
    assert response.status_code == 422, response.text
    assert field in response.text


async def test_the_page_marks_the_match_and_escapes_the_line(app: FastAPI) -> None:
    run = await failing_run(app.state.ctx, HOSTILE_LINE)
    async with await _client(app) as viewer:
        page = await viewer.get("/search", params={"q": "turbine", "kind": "log"})
        assert page.status_code == 200
        text = page.text
        assert "<mark>turbine</mark>" in text
        assert "&lt;script&gt;alert(" in text and "&lt;/script&gt; &amp; the &lt;b&gt;" in text
        assert '<script>alert("x")</script>' not in text and "<b>turbine" not in text
        assert f'href="/runs/{run.id}/steps/boom"' in text
        assert 'href="/search" aria-current="page"' in text  # the sidebar's entry

        refused = await viewer.get("/search", params={"q": '" :'})
        assert refused.status_code == 422 and "no word to search for" in refused.text
        fragment = await viewer.get("/search", params={"q": "a*"}, headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "at least 2 letters" in fragment.text
        empty = await viewer.get("/search")
        assert empty.status_code == 200 and "Search the logs" in empty.text

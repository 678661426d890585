"""The API refuses a query parameter it does not take, naming the ones it does.

A misspelt or unsupported filter (``GET /api/v1/audit/runs?q=llm``) used to be ignored, so
the answer was every run: a silent lie about what was searched. Every route under /api
refuses it with a 422 before it does any work; pages still ignore what they do not read.
"""

import asyncio
import re

from fastapi import FastAPI

from missionctl.domain.access import Role
from missionctl.security.guard import route_table
from missionctl.services import ServiceContext
from tests.api.test_event_feed_api import client_for
from tests.support.auth import bearer_headers

RUNS = "/api/v1/audit/runs"


async def test_an_unknown_filter_is_refused_with_the_filters_the_endpoint_takes(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    async with client_for(app, await bearer_headers(ctx)) as http:
        refused = await http.get(RUNS, params={"q": "llm"})
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert body["error"]["code"] == "validation_failed"
        assert body["error"]["field"] == "q"
        message = body["error"]["message"]
        assert message.startswith("q: is not a query parameter of this endpoint; it takes ")
        assert "workflow" in message and "status" in message
        # What it does take still works, and a known filter with an unknown one is refused.
        assert (await http.get(RUNS, params={"workflow": "nightly"})).status_code == 200
        both = await http.get(RUNS, params={"workflow": "nightly", "workflw": "x", "zz": "1"})
        assert both.status_code == 422
        assert [d["field"] for d in both.json()["error"]["details"]] == ["workflw", "zz"]
        # A route that takes none says so.
        none = await http.get("/api/v1/me", params={"verbose": "1"})
        assert none.status_code == 422
        assert "it takes no query parameter" in none.json()["error"]["message"]


async def test_every_api_route_refuses_an_unknown_parameter_before_any_work(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    gets = [
        route.path
        for route in route_table(app)
        if route.path.startswith("/api/") and "GET" in route.methods and "{" not in route.path
    ]
    assert len(gets) > 30
    async with client_for(app, await bearer_headers(ctx)) as http:
        for path in gets:
            answer = await http.get(path, params={"no_such_filter": "1"})
            assert answer.status_code == 422, (path, answer.status_code)
            assert answer.json()["error"]["field"] == "no_such_filter", path


async def test_the_lowest_role_and_hostile_names_get_the_same_clear_refusal(
    app: FastAPI,
) -> None:
    ctx: ServiceContext = app.state.ctx
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    async with client_for(app, viewer) as http:
        hostile = {
            "<script>alert(1)</script>": "1",
            "x" * 5000: "y",
            **{f"k{i}": "v" for i in range(500)},
        }
        answers = await asyncio.gather(*(http.get(RUNS, params=hostile) for _ in range(2)))
        for answer in answers:
            assert answer.status_code == 422
            error = answer.json()["error"]
            # At most twenty are named, and the answer stays small whatever was sent.
            assert len(error["details"]) <= 21
            assert len(answer.content) < 20_000
            assert re.search(r"is not a query parameter", error["message"])
        # Unauthenticated callers learn nothing about the parameters.
    async with client_for(app) as anonymous:
        assert (await anonymous.get(RUNS, params={"q": "llm"})).status_code == 401


async def test_pages_ignore_parameters_they_do_not_read(app: FastAPI) -> None:
    async with client_for(app) as http:
        page = await http.get("/sign-in", params={"utm_source": "newsletter"})
        assert page.status_code == 200


async def test_a_huge_unknown_name_is_not_sent_back_whole(app: FastAPI) -> None:
    ctx: ServiceContext = app.state.ctx
    names = {f"{n}{'x' * 1500}": "1" for n in range(25)}
    async with client_for(app, await bearer_headers(ctx)) as http:
        refused = await http.get(RUNS, params=names)
    assert refused.status_code == 422
    details = refused.json()["error"]["details"]
    assert len(details) == 20  # at most twenty names, each clipped
    assert all(len(d["field"]) <= 64 and d["field"].endswith("…") for d in details)
    assert len(refused.content) < 20_000

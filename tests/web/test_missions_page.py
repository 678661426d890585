"""The missions page through the app: whole pages, htmx fragments, and the form's validation."""

import json
import re

import httpx2
import pytest

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def form(**fields: str) -> dict[str, str]:
    base = {"goal": "", "title": "", "constraints": "", "repo_context": "", "budget_usd": ""}
    return base | fields


async def api_missions(client: httpx2.AsyncClient, **params: str) -> list[dict[str, object]]:
    response = await client.get("/api/v1/missions", params=params)
    assert response.status_code == 200
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_root_redirects_to_missions(client: httpx2.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/missions"


async def test_missions_page_is_a_whole_document_with_the_form_and_empty_state(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.get("/missions")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert '<form id="mission-form"' in html
    assert 'name="goal"' in html and "required" in html
    assert 'hx-post="/missions"' in html
    assert "No missions yet" in html
    assert 'id="mission-count" class="count"' in html
    assert '<script src="/static/vendor/htmx-4.0.1.min.js"' in html
    assert "HX-Request" in response.headers["vary"]


async def test_layout_has_no_inline_script_handler_or_style(client: httpx2.AsyncClient) -> None:
    await client.post("/missions", data=form(goal="Seed one mission"), headers=HTMX)
    html = (await client.get("/missions")).text

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler found"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute found"
    assert "<style" not in html


async def test_static_assets_are_served(client: httpx2.AsyncClient) -> None:
    for path in (
        "/static/css/app.css",
        "/static/js/app.js",
        "/static/vendor/htmx-4.0.1.min.js",
        "/static/img/favicon.svg",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path


async def test_posting_a_valid_form_with_htmx_creates_plans_and_opens_the_mission(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/missions",
        data=form(
            goal="Build a URL shortener with click analytics and custom aliases",
            title="URL shortener",
            constraints="No new runtime dependencies\n\n  Keep the API stable  \r\n",
            repo_context="FastAPI service, PostgreSQL",
            budget_usd="25.50",
        ),
        headers=HTMX,
    )

    assert response.status_code == 200
    [stored] = await api_missions(client)
    # htmx fetches the mission page and swaps it in (no reload), at the top, in the history.
    location = json.loads(response.headers["hx-location"])
    assert location == {"path": f"/missions/{stored['id']}", "swap": "innerHTML show:top"}
    assert response.text == ""
    assert stored["title"] == "URL shortener"
    assert stored["constraints"] == ["No new runtime dependencies", "Keep the API stable"]
    assert stored["repo_context"] == "FastAPI service, PostgreSQL"
    assert stored["budget_usd"] == 25.5
    assert stored["status"] == "planned"  # planned at once by the local engine
    assert stored["created_by"] == "token:tester-1"
    plan = (await client.get(f"/api/v1/missions/{stored['id']}/plan")).json()
    assert plan["source"] == "local" and plan["version"] == 1


async def test_blank_title_and_budget_mean_not_given(client: httpx2.AsyncClient) -> None:
    response = await client.post(
        "/missions", data=form(goal="Write a CLI that converts CSV to Parquet"), headers=HTMX
    )

    assert response.status_code == 200
    [stored] = await api_missions(client)
    assert stored["title"]  # derived from the goal
    assert stored["budget_usd"] is None
    assert stored["constraints"] == []


async def test_posting_an_empty_goal_answers_422_with_the_error_beside_the_goal(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/missions", data=form(goal="   ", title="Kept title", budget_usd="12"), headers=HTMX
    )

    assert response.status_code == 422
    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="mission-form"')
    assert 'class="field field--invalid" data-field="goal"' in html
    assert 'id="field-goal-error"' in html
    assert "Describe the goal" in html
    assert 'aria-invalid="true"' in html
    # What the user typed is kept.
    assert 'value="Kept title"' in html
    assert 'value="12"' in html
    assert await api_missions(client) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"budget_usd": "-1"}, "budget_usd", "cannot be negative"),
        ({"budget_usd": "lots"}, "budget_usd", "Enter an amount in US dollars"),
        ({"title": "t" * 201}, "title", "keep it under 200 characters"),
        ({"constraints": "ok\n" + "c" * 501}, "constraints", "Constraint 2 is too long"),
    ],
)
async def test_each_invalid_field_gets_its_own_message(
    client: httpx2.AsyncClient, fields: dict[str, str], field: str, message: str
) -> None:
    response = await client.post("/missions", data=form(goal="A fine goal", **fields), headers=HTMX)

    assert response.status_code == 422
    assert f'class="field field--invalid" data-field="{field}"' in response.text
    assert message in response.text
    assert 'class="field field--invalid" data-field="goal"' not in response.text
    assert await api_missions(client) == []


async def test_without_htmx_a_valid_post_redirects_to_the_mission(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post("/missions", data=form(goal="Build a Slack bot for incidents"))

    [stored] = await api_missions(client)
    assert response.status_code == 303
    assert response.headers["location"] == f"/missions/{stored['id']}"


async def test_the_model_is_offered_only_when_one_is_configured(
    client: httpx2.AsyncClient,
) -> None:
    page = (await client.get("/missions")).text
    assert 'name="engine" value="local"' in page
    assert 'value="model"' not in page  # no MISSIONCTL_LLM_MODEL in the tests

    response = await client.post(
        "/missions", data=form(goal="Build a gym booking app", engine="model"), headers=HTMX
    )
    assert response.status_code == 422
    assert 'class="field field--choice field--invalid" data-field="engine"' in response.text
    assert "No model is configured" in response.text
    assert await api_missions(client) == []


async def test_the_list_shows_progress_cost_update_and_source(client: httpx2.AsyncClient) -> None:
    await client.post("/missions", data=form(goal="Build a gym booking app"), headers=HTMX)
    draft = await client.post("/api/v1/missions", json={"goal": "A draft, never planned"})
    assert draft.status_code == 201

    html = (await client.get("/missions")).text
    for header in ("Mission", "Status", "Progress", "Cost", "Updated", "Source"):
        assert '<th scope="col"' in html and f">{header}</th>" in html
    planned_row = html.split('data-mission-id="')[2]  # newest first: the draft, then this one
    assert re.search(r'<progress class="meter" value="0" max="\d+">', planned_row)
    assert '<span class="source source--local"' in planned_row
    assert "$0.00" in planned_row
    draft_row = html.split('data-mission-id="')[1]
    assert "Not planned" in draft_row


async def test_without_htmx_an_invalid_post_shows_the_whole_page_with_errors(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post("/missions", data=form(goal="", title="Only a title"))

    assert response.status_code == 422
    html = response.text
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "Describe the goal" in html
    assert 'value="Only a title"' in html
    assert "No missions yet" in html
    assert await api_missions(client) == []


async def test_htmx_list_request_returns_only_the_list_fragment(client: httpx2.AsyncClient) -> None:
    await client.post("/missions", data=form(goal="Build a gym booking app"), headers=HTMX)

    response = await client.get("/missions", headers=HTMX)

    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and "<body" not in html
    assert html.lstrip().startswith('<div id="mission-list"')
    assert "Build a gym booking app" in html
    assert '<hx-partial hx-target="#mission-count"' in html
    assert 'id="mission-form"' not in html


async def test_history_restore_and_boosted_requests_get_the_whole_page(
    client: httpx2.AsyncClient,
) -> None:
    for headers in (
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-Request": "true", "HX-Request-Type": "full"},
    ):
        response = await client.get("/missions", headers=headers)
        assert response.text.lstrip().lower().startswith("<!doctype html>")


async def test_search_and_status_filter_the_list(client: httpx2.AsyncClient) -> None:
    for goal in ("Build a URL shortener", "Train a churn model", "Build a trivia game"):
        await client.post("/missions", data=form(goal=goal), headers=HTMX)

    found = (await client.get("/missions", params={"q": "churn"}, headers=HTMX)).text
    assert "Train a churn model" in found
    assert "URL shortener" not in found and "trivia" not in found

    page = (await client.get("/missions", params={"q": "build"})).text
    assert "URL shortener" in page and "trivia" in page and "churn" not in page
    assert 'value="build"' in page  # the search box shows the current search

    none = (await client.get("/missions", params={"q": "zebra"}, headers=HTMX)).text
    assert "No missions match" in none

    planned = (await client.get("/missions", params={"status": "planned"}, headers=HTMX)).text
    assert planned.count("data-mission-id=") == 3
    running = (await client.get("/missions", params={"status": "running"}, headers=HTMX)).text
    assert "data-mission-id=" not in running
    # An unknown status is no filter at all rather than an error.
    unknown = await client.get("/missions", params={"status": "bogus"}, headers=HTMX)
    assert unknown.status_code == 200
    assert unknown.text.count("data-mission-id=") == 3


async def test_user_input_is_escaped(client: httpx2.AsyncClient) -> None:
    await client.post(
        "/missions",
        data=form(goal="<script>alert(1)</script> goal", title="<b>bold</b>"),
        headers=HTMX,
    )

    html = (await client.get("/missions")).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


async def test_page_errors_are_html_for_browsers_and_json_for_the_api(
    client: httpx2.AsyncClient,
) -> None:
    browser = {"accept": "text/html,application/xhtml+xml"}
    bad_cursor = await client.get("/missions", params={"cursor": "zzz"}, headers=browser)
    assert bad_cursor.status_code == 422
    assert bad_cursor.headers["content-type"].startswith("text/html")
    assert "cursor" in bad_cursor.text and "<html" in bad_cursor.text

    missing = await client.get("/no-such-page", headers=browser)
    assert missing.status_code == 404 and "Not found" in missing.text

    fragment = await client.get(
        "/missions", params={"cursor": "zzz"}, headers={**browser, "hx-request": "true"}
    )
    assert fragment.status_code == 422 and "<html" not in fragment.text

    api = await client.get("/api/v1/missions", params={"cursor": "zzz"}, headers=browser)
    assert api.headers["content-type"] == "application/json"
    assert api.json()["error"]["field"] == "cursor"

"""Artifact viewers (Markdown sanitised, JSON folded, diffs coloured), run page and runs list."""

import json
import re
import uuid

import httpx2
import pytest

from missionctl.schemas.artifacts import ArtifactRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import NewArtifact, add_artifacts, put_blobs
from missionctl.web.viewers import render_markdown
from tests.web.support import HTMX, planned_mission, start_steps, wait_for_run

EVIL_MARKDOWN = """# Release notes

<script>alert(1)</script>

A [harmless link](https://example.com/docs) and a [trap](javascript:alert(1)).

<img src=x onerror=alert(2)> [data](data:text/html;base64,PHNjcmlwdD4=)

| Column | Value |
|--------|-------|
| a      | **1** |
"""


async def store(
    ctx: ServiceContext, mission_id: uuid.UUID | None, name: str, kind: str, media: str, body: bytes
) -> ArtifactRead:
    new = NewArtifact(name=name, kind=kind, media_type=media, content=body)
    [blob] = await put_blobs(ctx, [new])
    async with ctx.write() as session:
        [artifact] = await add_artifacts(
            session, stored=[(new, blob)], run_id=None, mission_id=mission_id
        )
    return artifact


async def test_markdown_with_scripts_and_javascript_links_renders_inert(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    artifact = await store(
        ctx, mission.id, "notes.md", "markdown", "text/markdown", EVIL_MARKDOWN.encode()
    )

    response = await client.get(f"/artifacts/{artifact.id}", headers=HTMX)

    assert response.status_code == 200
    html = response.text
    assert 'data-viewer="markdown"' in html
    assert "<h1>Release notes</h1>" in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not re.search(r"<[^>]*\bon[a-z]+=", html, re.IGNORECASE)  # no live handler anywhere
    assert not re.search(r'href="\s*(javascript|data):', html, re.IGNORECASE)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, inert
    assert '<a href="https://example.com/docs" rel="noopener noreferrer">harmless link</a>' in html
    assert "<table>" in html and "<strong>1</strong>" in html
    # The mission page lists it and links the viewer into its pane.
    page = (await client.get(f"/missions/{mission.id}")).text
    assert f'hx-get="/artifacts/{artifact.id}" hx-target="#artifact-viewer"' in page


def test_the_markdown_renderer_never_lets_active_content_through() -> None:
    for attack in (
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "![x](javascript:alert(1))",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ):
        html = str(render_markdown(attack)).lower()
        assert "<script" not in html and "<iframe" not in html, attack
        assert not re.search(r"<[^>]*\bstyle=", html), attack
        assert not re.search(r'<[^>]*\b(href|src)="\s*(javascript|vbscript)', html), attack


async def test_json_is_pretty_printed_and_collapsible(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    value = {"name": "<b>x</b>", "items": [1, 2.5, True, None], "nested": {"deep": {"deeper": {}}}}
    artifact = await store(
        ctx, None, "data.json", "json", "application/json", json.dumps(value).encode()
    )

    html = (await client.get(f"/artifacts/{artifact.id}", headers=HTMX)).text

    assert 'data-viewer="json"' in html
    assert html.count('<details class="json__node"') == 4  # root, items, nested, deep
    assert '<details class="json__node" open>' in html  # the top levels start open
    assert '<span class="json__key">&#34;name&#34;</span>' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert '<span class="json__literal">true</span>' in html
    assert '<span class="json__number">2.5</span>' in html


@pytest.mark.parametrize("depth", [900, 100_000])
async def test_json_nested_without_end_is_summarised_not_a_500(
    ctx: ServiceContext, client: httpx2.AsyncClient, depth: int
) -> None:
    """A program's JSON deep enough to exhaust the renderer's stack, or the parser's."""
    body = ("[" * depth + "1" + "]" * depth).encode()
    artifact = await store(ctx, None, "deep.json", "json", "application/json", body)

    response = await client.get(f"/artifacts/{artifact.id}", headers=HTMX)

    assert response.status_code == 200
    assert "nested deeper than 64 levels" in response.text or "Not valid JSON." in response.text


async def test_diffs_are_highlighted_and_other_files_offered_as_downloads(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    diff = b"--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n-old = 1\n+new = 2\n same\n"
    patch = await store(ctx, None, "fix.diff", "diff", "text/x-diff", diff)
    binary = await store(ctx, None, "logo.png", "file", "image/png", b"\x89PNG\r\n")

    html = (await client.get(f"/artifacts/{patch.id}", headers=HTMX)).text
    assert '<span class="diff__line diff__line--add">+new = 2</span>' in html
    assert '<span class="diff__line diff__line--del">-old = 1</span>' in html
    assert '<span class="diff__line diff__line--hunk">' in html

    html = (await client.get(f"/artifacts/{binary.id}", headers=HTMX)).text
    assert 'data-viewer="download"' in html
    assert f'href="/api/v1/artifacts/{binary.id}/content" download="logo.png"' in html
    whole = await client.get(f"/artifacts/{binary.id}")  # a page of its own without htmx
    assert whole.text.lstrip().lower().startswith("<!doctype html>")


async def test_the_run_page_shows_steps_with_attempts_timings_tokens_and_cost(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    steps = [
        {"id": "flaky", "agent": "builtin:fail", "inputs": {"fail_attempts": 1, "message": "boom"}},
        {"id": "after", "agent": "builtin:noop", "depends_on": ["flaky"]},
    ]
    run = await start_steps(ctx, None, steps)  # a workflow run without a mission
    await wait_for_run(ctx, run.id)

    html = (await client.get(f"/runs/{run.id}")).text

    assert 'id="run-status"><span class="badge badge--failed">' in html
    for header in ("Attempt", "Started", "Duration", "Tokens in / out", "Cost"):
        assert f">{header}</th>" in html
    assert 'id="step-row-flaky" class="step__row" data-task="flaky" data-status="failed"' in html
    assert 'data-control="retry-flaky"' in html
    assert '<svg class="graph"' in html
    assert html.count("hx-sse:connect=") == 1
    assert 'hx-get="/runs/' in html and 'hx-trigger="toggle once"' in html

    detail = (await client.get(f"/runs/{run.id}/steps/flaky", headers=HTMX)).text
    assert "<html" not in detail
    assert "boom" in detail  # the error
    assert 'class="log__line log__line--error"' in detail and "attempt 1: boom" in detail
    assert "fail_attempts" in detail  # the inputs
    whole = await client.get(f"/runs/{run.id}/steps/flaky")
    assert whole.text.lstrip().lower().startswith("<!doctype html>")
    missing = await client.get(f"/runs/{run.id}/steps/nope", headers={"accept": "text/html"})
    assert missing.status_code == 404


async def test_the_runs_list_shows_every_run_newest_first(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    assert "No runs yet" in (await client.get("/runs")).text
    mission = await planned_mission(ctx)
    first = await start_steps(ctx, mission.id, [{"id": "a", "agent": "builtin:noop"}])
    second = await start_steps(ctx, None, [{"id": "b", "agent": "builtin:noop"}])
    await wait_for_run(ctx, first.id)
    await wait_for_run(ctx, second.id)

    html = (await client.get("/runs")).text

    assert html.index(str(second.id)) < html.index(str(first.id))
    assert f'href="/missions/{mission.id}"' in html and "Workflow only" in html
    assert 'aria-current="page"' in html.split(">Runs</span>")[0].rsplit("<a", 1)[1]
    completed = (await client.get("/runs", params={"status": "failed"}, headers=HTMX)).text
    assert "No runs match" in completed and "<html" not in completed

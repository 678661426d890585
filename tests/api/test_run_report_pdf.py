"""The run report as a PDF: the same report as Markdown and JSON, opening with its headline.

An offline run documents every task and builds nothing; its PDF says so first, is an inert
attachment like every other download, and a viewer (the lowest role that reads runs) may
fetch it. A format the route does not know is refused, naming the ones it does.
"""

import asyncio
import io
import time
from typing import Any

import httpx2
import pypdf
import pytest

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

# Their subject is the PDF; the report's facts are tested on both databases (test_runs_api).
pytestmark = pytest.mark.one_database

GOAL = "A chess engine in Rust with a UCI interface and an opening book"


async def _ended_run(client: httpx2.AsyncClient) -> dict[str, Any]:
    mission = (await client.post("/api/v1/missions", json={"goal": GOAL})).json()
    assert (await client.post(f"/api/v1/missions/{mission['id']}/plan")).status_code == 201
    started = await client.post(f"/api/v1/missions/{mission['id']}/runs")
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while True:
        run = (await client.get(f"/api/v1/runs/{started.json()['id']}")).json()
        if run["status"] in {"completed", "failed"}:
            return run  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)


async def _downloads(client: httpx2.AsyncClient, run_id: str) -> list[dict[str, Any]]:
    answer = await client.get(f"/api/v1/runs/{run_id}/events", params={"limit": 1000})
    return [e for e in answer.json()["items"] if e["type"] == "report.downloaded"]


def _text(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


async def test_a_viewer_downloads_the_report_as_a_pdf_that_opens_with_its_headline(
    client: httpx2.AsyncClient,
) -> None:
    run = await _ended_run(client)
    ctx = client._transport.app.state.ctx  # type: ignore[attr-defined]
    viewer = await bearer_headers(ctx, "vera", Role.VIEWER)
    got = await client.get(
        f"/api/v1/runs/{run['id']}/report", params={"format": "pdf"}, headers=viewer
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert got.content.startswith(b"%PDF-")
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"run-{run['id']}-report.pdf" in disposition
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"

    text = _text(got.content)
    mission = (await client.get(f"/api/v1/missions/{run['mission_id']}")).json()
    # The title, then the headline: what the tasks produced, before anything else.
    title = " ".join(f"Run report — {mission['title']}".split())
    assert text.startswith(f"{title} {run['headline']}."), text[:400]
    assert "documented" in text and "succeeded" not in text

    # The download is recorded, as the Markdown one is: format pdf, by the viewer.
    downloads = await _downloads(client, run["id"])
    assert [e["payload"] for e in downloads] == [{"format": "pdf"}]
    assert downloads[0]["actor"].startswith("token:vera")


async def test_an_unknown_report_format_is_refused_naming_the_formats(
    client: httpx2.AsyncClient,
) -> None:
    run = await _ended_run(client)
    for hostile in ("docx", "PDF", "pdf\x00", "../report.pdf", ""):
        got = await client.get(f"/api/v1/runs/{run['id']}/report", params={"format": hostile})
        assert got.status_code == 422, (hostile, got.text)
        body = got.text
        assert "format" in body
        for name in ("json", "markdown", "pdf"):
            assert name in body, (hostile, body)
    assert await _downloads(client, run["id"]) == []  # nothing recorded

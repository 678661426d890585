"""``/api/v1/missions/{id}/documents``: generate, list, read, compare, export; who may do what,
and what is refused (unplanned, unknown kinds and versions, malformed, huge and hostile input),
and two generations at once.
"""

import asyncio
import io
import uuid
from collections.abc import AsyncIterator

import httpx2
import pypdf
import pytest
from fastapi import FastAPI

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.schemas.documents import DOCUMENT_KINDS
from missionctl.settings import Settings
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

GOAL = "Build a URL shortener with click analytics and custom aliases"
SECRET_KEY = "sk-proj-AbC123xyz_789"


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await assert_consistent(application.state.ctx)


def message(response: httpx2.Response) -> str:
    text: str = response.json()["error"]["message"]
    return text


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def planned(client: httpx2.AsyncClient, goal: str = GOAL) -> str:
    created = await client.post("/api/v1/missions", json={"goal": goal})
    assert created.status_code == 201, created.text
    mission_id: str = created.json()["id"]
    plan = await client.post(f"/api/v1/missions/{mission_id}/plan")
    assert plan.status_code == 201, plan.text
    return mission_id


async def test_generate_list_read_compare_and_export(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin)
        base = f"/api/v1/missions/{mission_id}/documents"
        for kind in DOCUMENT_KINDS:
            made = await admin.post(base, json={"kind": kind})
            assert made.status_code == 201, made.text
            assert made.json()["version"] == 1 and made.json()["writer"] == "local"
        again = await admin.post(base, json={"kind": "prd"})
        assert again.json()["version"] == 2
        listed = (await admin.get(base)).json()
        assert [k["kind"] for k in listed] == list(DOCUMENT_KINDS)
        assert [v["version"] for v in listed[0]["versions"]] == [2, 1]
        assert "body" not in listed[0]["versions"][0]
        latest = (await admin.get(f"{base}/prd")).json()
        assert latest["version"] == 2 and latest["body"].startswith("# Product requirements")
        first = (await admin.get(f"{base}/prd/versions/1")).json()
        assert first["body"] == latest["body"] and first["author"] == latest["author"]
        diff = (await admin.get(f"{base}/prd/compare", params={"base": 1, "target": 2})).json()
        assert diff["same"] and diff["added"] == 0 and diff["base"] == 1

        md = await admin.get(f"{base}/prd/versions/2/export", params={"format": "md"})
        assert md.headers["content-type"].startswith("text/markdown")
        assert md.text == latest["body"]
        assert 'filename="product-requirements-document-' in md.headers["content-disposition"]
        assert (
            md.headers["content-disposition"].endswith('-v2.md"')
            or "-v2.md" in md.headers["content-disposition"]
        )
        html = await admin.get(f"{base}/prd/versions/2/export", params={"format": "html"})
        assert html.headers["content-type"].startswith("text/html")
        assert html.text.startswith("<!doctype html>") and "<script" not in html.text
        pdf = await admin.get(f"{base}/prd/versions/2/export", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
        assert "Product requirements document" in text


async def test_a_viewer_reads_and_exports_but_may_not_generate(app: FastAPI) -> None:
    ctx = app.state.ctx
    async with (
        http(app, await bearer_headers(ctx)) as admin,
        http(app, await bearer_headers(ctx, "vera", Role.VIEWER)) as viewer,
        http(app) as anonymous,
    ):
        mission_id = await planned(admin)
        base = f"/api/v1/missions/{mission_id}/documents"
        refused = await viewer.post(base, json={"kind": "prd"})
        assert refused.status_code == 403 and "missions:write" in message(refused)
        assert (await anonymous.post(base, json={"kind": "prd"})).status_code == 401
        assert (await anonymous.get(base)).status_code == 401
        assert all(not k["versions"] for k in (await viewer.get(base)).json())
        await admin.post(base, json={"kind": "prd"})
        assert (await viewer.get(f"{base}/prd")).status_code == 200
        export = await viewer.get(f"{base}/prd/versions/1/export", params={"format": "pdf"})
        assert export.status_code == 200


async def test_bad_requests_name_the_field_and_change_nothing(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        created = await admin.post("/api/v1/missions", json={"goal": GOAL})
        draft = created.json()["id"]
        unplanned = await admin.post(f"/api/v1/missions/{draft}/documents", json={"kind": "prd"})
        assert unplanned.status_code == 409 and "plan it first" in message(unplanned)
        mission_id = await planned(admin)
        base = f"/api/v1/missions/{mission_id}/documents"
        cases = [
            {"kind": "memo"},
            {},
            {"kind": "prd", "extra": 1},
            {"kind": ["prd"]},
            {"kind": "x" * 100_000},
        ]
        for body in cases:
            bad = await admin.post(base, json=body)
            assert bad.status_code == 422, (body, bad.text)
            assert "kind" in bad.text or "extra" in bad.text
        deep: object = "prd"
        for _ in range(200):
            deep = {"kind": deep}
        assert (await admin.post(base, json=deep)).status_code in (413, 422)
        not_json = await admin.post(
            base, content=b"{kind: prd", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422
        assert all(not k["versions"] for k in (await admin.get(base)).json())
        none_yet = await admin.get(f"{base}/prd")
        assert none_yet.status_code == 404 and "generate it first" in message(none_yet)
        await admin.post(base, json={"kind": "prd"})
        missing = await admin.get(f"{base}/prd/versions/5")
        assert missing.status_code == 404 and "versions are 1 to 1" in message(missing)
        for path, params in [
            (f"{base}/prd/versions/0", None),
            (f"{base}/prd/versions/99999999999", None),
            (f"{base}/memo", None),
            (f"{base}/prd/versions/1/export", {"format": "docx"}),
            (f"{base}/prd/compare", {"base": 1}),
            (f"{base}/prd/compare", {"base": "one", "target": 1}),
        ]:
            answer = await admin.get(path, params=params)
            assert answer.status_code == 422, (path, params, answer.text)
        ghost = await admin.get(f"/api/v1/missions/{uuid.uuid4()}/documents")
        assert ghost.status_code == 404


async def test_a_secret_in_the_goal_never_leaves_the_server(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin, f"{GOAL}. Deploy with the key {SECRET_KEY} please.")
        base = f"/api/v1/missions/{mission_id}/documents"
        for kind in DOCUMENT_KINDS:
            made = await admin.post(base, json={"kind": kind})
            assert SECRET_KEY not in made.text
        for fmt in ("md", "html", "pdf"):
            exported = await admin.get(f"{base}/prd/versions/1/export", params={"format": fmt})
            assert SECRET_KEY.encode() not in exported.content
        events = (await admin.get("/api/v1/events", params={"mission_id": mission_id})).json()
        generated = [e for e in events["items"] if e["type"] == "document.generated"]
        assert len(generated) == len(DOCUMENT_KINDS)
        assert SECRET_KEY not in str(generated)


async def test_two_generations_at_once_both_land_with_their_own_version(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin)
        base = f"/api/v1/missions/{mission_id}/documents"
        answers = await asyncio.gather(
            *(admin.post(base, json={"kind": "engineering_plan"}) for _ in range(3))
        )
        assert [a.status_code for a in answers] == [201, 201, 201]
        assert sorted(a.json()["version"] for a in answers) == [1, 2, 3]

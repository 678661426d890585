"""A mission's diagrams over the API and on its pages: who may read them, what is refused,
hostile text escaped, and two readers at once."""

import asyncio
import uuid
import xml.etree.ElementTree as ET

import httpx2
from fastapi import FastAPI

from missionctl.domain.access import Role
from tests.support.auth import bearer_headers

HOSTILE = '<script>alert("x")</script> Ünïcødé 流水线 🚀'
PIPELINE = (
    "A nightly data pipeline that loads shop orders from Shopify into BigQuery and builds "
    "dashboards of repeat customers"
)


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def planned(client: httpx2.AsyncClient, goal: str, title: str | None = None) -> str:
    body = {"goal": goal, **({"title": title} if title else {})}
    mission = (await client.post("/api/v1/missions", json=body)).json()
    assert (await client.post(f"/api/v1/missions/{mission['id']}/plan")).status_code == 201
    return str(mission["id"])


async def test_a_viewer_reads_the_diagrams_as_json_svg_and_pages(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin, PIPELINE)
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    base = f"/api/v1/missions/{mission_id}/diagrams"
    async with http(app, viewer) as client, http(app) as anonymous:
        found = await client.get(base)
        svg = await client.get(f"{base}/deployment.svg")
        page = await client.get(f"/missions/{mission_id}/diagrams")
        panel = await client.get(f"/missions/{mission_id}/diagrams", headers={"HX-Request": "true"})
        mission_page = await client.get(f"/missions/{mission_id}")
        refused = await anonymous.get(base)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["source"] == "local" and body["plan_version"] == 1
    architecture = body["architecture"]
    assert architecture["groups"][0] == "Sources"
    assert any(c["technology"] == "BigQuery" for c in architecture["components"])
    assert any(c["tasks"] for c in architecture["components"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="deployment-v1.svg"' in svg.headers["content-disposition"]
    ET.fromstring(svg.text)
    assert page.status_code == 200 and 'data-testid="diagram-architecture"' in page.text
    assert "<html" not in panel.text and 'data-testid="diagram-panel"' in panel.text
    assert f'hx-get="/missions/{mission_id}/diagrams"' in mission_page.text
    assert refused.status_code == 401


async def test_unknown_unplanned_and_bad_requests_are_clear_errors(
    client: httpx2.AsyncClient,
) -> None:
    unknown = await client.get(f"/api/v1/missions/{uuid.uuid4()}/diagrams")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "mission_id"
    draft = (await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})).json()
    base = f"/api/v1/missions/{draft['id']}/diagrams"
    unplanned = await client.get(base)
    assert unplanned.status_code == 409 and "plan it first" in unplanned.json()["error"]["message"]
    page = await client.get(f"/missions/{draft['id']}")
    assert "system-diagrams" not in page.text  # nothing to draw before a plan
    assert (await client.post(f"/api/v1/missions/{draft['id']}/plan")).status_code == 201
    for bad in ("0", "x", str(2**31)):
        response = await client.get(base, params={"plan_version": bad})
        assert response.status_code == 422 and response.json()["error"]["field"] == "plan_version"
    missing = await client.get(base, params={"plan_version": 2})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "plan_version"
    wrong = await client.get(f"{base}/network.svg")
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "name"
    not_found_page = await client.get(f"/missions/{uuid.uuid4()}/diagrams")
    assert not_found_page.status_code == 404


async def test_hostile_titles_are_escaped_in_the_svg_and_the_page(
    client: httpx2.AsyncClient,
) -> None:
    mission_id = await planned(client, PIPELINE, title=HOSTILE)
    svg = await client.get(f"/api/v1/missions/{mission_id}/diagrams/architecture.svg")
    page = await client.get(f"/missions/{mission_id}/diagrams")
    root = ET.fromstring(svg.text)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert "<script>alert" not in svg.text and "<script>alert" not in page.text
    assert "&lt;script&gt;" in svg.text


async def test_two_readers_at_once_get_the_same_drawing(client: httpx2.AsyncClient) -> None:
    mission_id = await planned(client, PIPELINE)
    url = f"/api/v1/missions/{mission_id}/diagrams/architecture.svg"
    first, second = await asyncio.gather(client.get(url), client.get(url))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


# -- the product flow --------------------------------------------------------------------------

SHORTENER = "Build a URL shortener with click analytics and custom aliases"


async def test_a_viewer_reads_the_product_flow_as_json_and_svg(app: FastAPI) -> None:
    async with http(app, await bearer_headers(app.state.ctx)) as admin:
        mission_id = await planned(admin, SHORTENER)
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    base = f"/api/v1/missions/{mission_id}/diagrams"
    async with http(app, viewer) as client:
        found = await client.get(base)
        svg = await client.get(f"{base}/product_flow.svg")
        page = await client.get(f"/missions/{mission_id}/diagrams")
    assert found.status_code == 200, found.text
    flow = found.json()["product_flow"]
    assert flow["name"] == "product_flow" and flow["title"] == "Product flow"
    labels = [c["label"] for c in flow["components"]]
    assert labels == [
        "Open the URL shortener",
        "Sign in",
        "Shorten a URL",
        "Share the short link",
        "Visitor follows the link",
        "See click analytics",
    ]
    assert flow["groups"] == ["Start", "Sign in", "Do", "Share", "Others", "Review"]
    assert ["custom-aliases"] in [c["tasks"] for c in flow["components"]]
    assert len(flow["connections"]) == len(labels) - 1 and flow["notes"] == []
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="product_flow-v1.svg"' in svg.headers["content-disposition"]
    root = ET.fromstring(svg.text)
    assert "See click analytics" in ET.tostring(root, "unicode")
    assert page.status_code == 200 and 'data-testid="diagram-product_flow"' in page.text
    assert f"/api/v1/missions/{mission_id}/diagrams/product_flow.svg" in page.text


async def test_an_unknown_diagram_is_refused_by_its_name(client: httpx2.AsyncClient) -> None:
    mission_id = await planned(client, SHORTENER)
    for unknown in ("product-flow", "flow", "PRODUCT_FLOW"):
        wrong = await client.get(f"/api/v1/missions/{mission_id}/diagrams/{unknown}.svg")
        assert wrong.status_code == 422, wrong.text
        error = wrong.json()["error"]
        assert error["field"] == "name"
        assert "product_flow" in error["message"] and "architecture" in error["message"]


async def test_a_mission_saying_little_gets_a_short_flow_and_a_note(
    client: httpx2.AsyncClient,
) -> None:
    goal = "Add single sign-on with OIDC to an existing Django monolith"
    mission_id = await planned(client, goal)
    flow = (await client.get(f"/api/v1/missions/{mission_id}/diagrams")).json()["product_flow"]
    assert [c["label"] for c in flow["components"]] == ["Sign in"]  # no filler around it
    assert "names only 1 step of its users' journey" in flow["notes"][0]
    page = await client.get(f"/missions/{mission_id}/diagrams")
    assert 'data-testid="diagram-note"' in page.text and "names only 1 step" in page.text


async def test_hostile_goals_are_escaped_and_bounded_in_the_product_flow(
    client: httpx2.AsyncClient,
) -> None:
    huge = await client.post("/api/v1/missions", json={"goal": "x " * 5_000})
    assert huge.status_code == 422 and huge.json()["error"]["field"] == "goal"
    goal = (
        'A web app where tenants report repairs <script>alert("x")</script>, landlords assign '
        "contractors <img src=x onerror=y> and tenants rate the work. "
        + "Tenants and landlords keep every repair and its photos for years. "
        * 60
    )[:4_000]
    mission_id = await planned(client, goal, title=HOSTILE)
    svg = await client.get(f"/api/v1/missions/{mission_id}/diagrams/product_flow.svg")
    page = await client.get(f"/missions/{mission_id}/diagrams")
    assert svg.status_code == 200
    root = ET.fromstring(svg.text)  # well-formed
    elements = list(root.iter())
    assert not [e for e in elements if e.tag.endswith(("script", "img", "foreignObject"))]
    assert not [a for e in elements for a in e.attrib if a.startswith("on") or a == "style"]
    assert "<script>" not in svg.text and "<img" not in svg.text
    assert "<script>alert" not in page.text and "&lt;script&gt;" in svg.text
    assert len(root.findall(".//{http://www.w3.org/2000/svg}rect")) <= 14  # a box per step
    assert len(svg.text) < 40_000

"""``GET /api/v1/missions/{id}/trace`` and the Traceability page: who may read them, what is
refused, a planted gap on both, and hostile labels escaped."""

import dataclasses
import uuid

import httpx2
import pytest
from fastapi import FastAPI
from markupsafe import escape
from sqlalchemy import select

from missionctl.app import create_app
from missionctl.cli.missions import print_trace
from missionctl.db.models import Plan
from missionctl.domain.access import Role
from missionctl.planning import LocalPlanner, PlannerResult, PlanningInput
from missionctl.schemas.plans import PlanDraft
from missionctl.schemas.tracemap import TraceMapRead
from missionctl.services.usecases.documents import generate_document
from missionctl.settings import Settings
from tests.services.test_tracemap import GappedPlanner, planned
from tests.support.auth import bearer_headers
from tests.support.consistency import assert_consistent

HOSTILE = '<script>alert("x")</script> ' + "é" * 400 + " 地图 🚀"


@pytest.fixture
async def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await assert_consistent(application.state.ctx)


def http(app: FastAPI, headers: dict[str, str] | None = None) -> httpx2.AsyncClient:
    transport = httpx2.ASGITransport(app=app)
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


async def test_a_viewer_reads_the_map_with_its_gap_and_nobody_anonymous_does(app: FastAPI) -> None:
    mission = await planned(app.state.ctx, GappedPlanner())
    viewer = await bearer_headers(app.state.ctx, "vic", Role.VIEWER)
    async with http(app, viewer) as client, http(app) as anonymous:
        response = await client.get(f"/api/v1/missions/{mission.id}/trace")
        page = await client.get(f"/missions/{mission.id}/trace")
        mission_page = await client.get(f"/missions/{mission.id}")
        refused = await anonymous.get(f"/api/v1/missions/{mission.id}/trace")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"nodes", "edges", "gaps", "plan_version"} <= set(body)
    assert any(g["item"] == "requirement:R999" for g in body["gaps"])
    assert page.status_code == 200
    assert (
        'data-gap="untraced_requirement"' in page.text and 'data-testid="trace-graph"' in page.text
    )
    assert "Links can be exported as CSV" in page.text
    assert 'data-testid="trace-gaps-flag"' in mission_page.text
    assert f'href="/missions/{mission.id}/trace"' in mission_page.text
    assert refused.status_code == 401


async def test_unknown_unplanned_and_bad_queries_are_clear_errors(
    client: httpx2.AsyncClient,
) -> None:
    unknown = await client.get(f"/api/v1/missions/{uuid.uuid4()}/trace")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "mission_id"
    draft = (await client.post("/api/v1/missions", json={"goal": "Build a URL shortener"})).json()
    unplanned = await client.get(f"/api/v1/missions/{draft['id']}/trace")
    assert unplanned.status_code == 409 and "plan it first" in unplanned.json()["error"]["message"]
    mission_id = draft["id"]
    assert (await client.post(f"/api/v1/missions/{mission_id}/plan")).status_code == 201
    for bad in ("0", "-1", "x", str(2**31)):
        response = await client.get(
            f"/api/v1/missions/{mission_id}/trace", params={"plan_version": bad}
        )
        assert response.status_code == 422, bad
        assert response.json()["error"]["field"] == "plan_version", bad
    for bad in ("r1", "R", "<script>", "R1234"):
        response = await client.get(
            f"/api/v1/missions/{mission_id}/trace", params={"requirement": bad}
        )
        assert response.status_code == 422 and response.json()["error"]["field"] == "requirement"
    missing = await client.get(f"/api/v1/missions/{mission_id}/trace?plan_version=3")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "plan_version"
    narrowed = await client.get(f"/api/v1/missions/{mission_id}/trace?requirement=R1")
    assert narrowed.status_code == 200 and narrowed.json()["requirement"] == "R1"
    page = await client.get(f"/missions/{mission_id}/trace?requirement=R1")
    assert page.status_code == 200


async def test_hostile_labels_are_escaped_on_the_page(app: FastAPI) -> None:
    mission = await planned(
        app.state.ctx, GappedPlanner(HOSTILE), goal=f"Build a URL shortener {HOSTILE}"
    )
    async with http(app, await bearer_headers(app.state.ctx)) as client:
        api = await client.get(f"/api/v1/missions/{mission.id}/trace")
        page = await client.get(f"/missions/{mission.id}/trace")
    labels = {n["label"] for n in api.json()["nodes"]}
    assert any(HOSTILE in label for label in labels)
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert str(escape(HOSTILE)) in page.text  # whole in the table and in the tooltips


class ForgetfulPlanner:
    """The local planner's plan with every mention of "allergy labels" reworded away."""

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        result = await LocalPlanner().plan(mission)
        text = result.draft.model_dump_json().replace("llergy labels", "ood labels")
        return dataclasses.replace(result, draft=PlanDraft.model_validate_json(text))


ROTA = "Build a volunteer rota app for a food bank: shift sign-up, driver routes and allergy labels"


async def test_a_clause_the_plan_left_out_is_a_gap_on_the_api_the_page_the_prd_and_the_cli(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    mission = await planned(app.state.ctx, ForgetfulPlanner(), goal=ROTA)
    async with http(app, await bearer_headers(app.state.ctx, "vic", Role.VIEWER)) as client:
        body = (await client.get(f"/api/v1/missions/{mission.id}/trace")).json()
        page = (await client.get(f"/missions/{mission.id}/trace")).text
        plan_page = (await client.get(f"/missions/{mission.id}/plans/1")).text
    clauses = {n["label"]: n for n in body["nodes"] if n["kind"] == "clause"}
    assert list(clauses) == ["shift sign-up", "driver routes", "allergy labels"]
    assert clauses["allergy labels"]["status"] == "dropped" and clauses["allergy labels"]["gap"]
    assert [g["kind"] for g in body["gaps"]] == ["dropped_clause"]
    covers = {(e["source"], e["target"]) for e in body["edges"] if e["kind"] == "covers"}
    assert ("clause:C1", "requirement:R1") in covers
    assert not any(source == "clause:C3" for source, _ in covers)
    assert 'data-testid="trace-clauses"' in page and '<span class="muted">nothing</span>' in page
    assert "Gap: The goal says “allergy labels”" in page
    assert "Not understood" in plan_page and "1 of 3 clauses of the goal" in plan_page

    prd = await generate_document(
        app.state.ctx, mission_id=mission.id, kind="prd", actor="user:test", llm=None
    )
    assert "The goal says “allergy labels”, and no requirement keeps it" in prd.body

    print_trace(TraceMapRead.model_validate(body))
    shown = capsys.readouterr().out
    assert "Goal clauses kept: 2 of 3" in shown
    assert "! “allergy labels” (feature): kept by nothing" in shown
    assert "✓ “shift sign-up” (feature): kept by R1" in shown


async def test_a_plan_from_before_clauses_were_stored_maps_as_it_did(app: FastAPI) -> None:
    """A version whose stored validation has no clauses: no clause nodes, no clause gap."""
    mission = await planned(app.state.ctx)
    async with app.state.ctx.write() as session:
        row = await session.scalar(select(Plan).where(Plan.mission_id == mission.id))
        row.validation = {k: v for k, v in row.validation.items() if k != "clauses"}
    async with http(app, await bearer_headers(app.state.ctx)) as client:
        body = (await client.get(f"/api/v1/missions/{mission.id}/trace")).json()
        plan = (await client.get(f"/api/v1/missions/{mission.id}/plan")).json()
        plan_page = (await client.get(f"/missions/{mission.id}/plans/1")).text
    assert plan["clauses"] == []
    assert not any(n["kind"] == "clause" for n in body["nodes"])
    assert all(e["source"] == "goal:goal" for e in body["edges"] if e["target"].startswith("req"))
    assert 'data-testid="plan-coverage"' not in plan_page

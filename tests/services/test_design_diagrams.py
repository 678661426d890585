"""The technical design carries the mission's diagrams: described in its Markdown, drawn in its
HTML and PDF exports and in the studio, drawn by the model when it writes the design (falling
back to the local drawing and saying why), and then shown on the mission's diagrams."""

import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pypdf
import pytest

from missionctl.documents.export import body_html
from missionctl.llm import OpenAICompatibleClient
from missionctl.services import ServiceContext
from missionctl.services.usecases.diagrams import LOCAL_FLOW_NOTE, draw_flow, read_diagrams
from missionctl.services.usecases.documents import document_html, export_document, generate_document
from missionctl.services.usecases.plans import read_plan
from tests.services.test_documents import _timeout
from tests.services.test_tracemap import planned
from tests.support.openai_server import Content, Delay, ScriptedOpenAIServer, Usage

SHOP = "A web shop for a tea merchant: customers pay with Stripe and upload photos of their cups"
ACTOR = "user:writer"


@pytest.fixture
async def model(openai_server: ScriptedOpenAIServer) -> AsyncIterator[OpenAICompatibleClient]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url,
        api_key="k",
        model="design-model",
        timeout_s=5,
        max_retries=0,
    )
    yield client
    await client.aclose()


async def test_the_local_design_describes_and_its_exports_draw_both_diagrams(
    ctx: ServiceContext,
) -> None:
    mission = await planned(ctx, goal=SHOP)
    design = await generate_document(
        ctx, mission_id=mission.id, kind="technical_design", actor=ACTOR, llm=None
    )
    prd = await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    assert prd.diagrams is None
    assert design.diagrams is not None and design.diagrams.source == "local"
    body = design.body
    assert body.index("## Architecture") < body.index("### Architecture diagram")
    assert "| API service | FastAPI (Python) | Services |" in body
    assert "| Payment provider | Stripe | External |" in body
    assert "- API service: `" in body  # the tasks that build it
    assert "- API service → Payment provider (charges, webhooks)" in body

    html = (
        await export_document(
            ctx, mission_id=mission.id, kind="technical_design", version=1, format="html"
        )
    ).content.decode()
    heading = html.index("<h3>Architecture diagram</h3>")
    assert html.index('<figure class="diagram-figure">', heading) < html.index("<table", heading)
    assert html.count("<svg") == 2 and "<script" not in html
    assert document_html(design).count("<svg") == 2  # the studio draws them too

    pdf = (
        await export_document(
            ctx, mission_id=mission.id, kind="technical_design", version=1, format="pdf"
        )
    ).content
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    landscape = [p for p in pages if p.mediabox.width > p.mediabox.height]
    assert len(landscape) == 2  # one page per diagram
    drawn = landscape[0].extract_text()
    assert "Payment provider" in drawn and "API service" in drawn  # selectable text


def test_a_design_whose_headings_a_model_dropped_gets_its_diagrams_at_the_end() -> None:
    from missionctl.planning.base import PlanningInput
    from missionctl.planning.diagrams import draw_local
    from missionctl.planning.local import build_local_plan

    goal = PlanningInput(title="Tea shop", goal=SHOP)
    diagrams = draw_local(goal, build_local_plan(goal), plan_version=1)
    html = body_html("# Design\n\nNo diagram headings here.", diagrams)
    assert html.index("No diagram headings") < html.index("<h2>Diagrams</h2>")
    assert re.findall(r"<h3>(\w+) diagram</h3>", html) == ["Architecture", "Deployment"]
    assert html.count("<svg") == 2


def diagrams_reply() -> str:
    component = {"technology": "Go", "group": "Services"}
    return json.dumps(
        {
            "architecture": {
                "components": [
                    {
                        "key": "web",
                        "label": "Tea storefront",
                        "technology": "Svelte",
                        "group": "Clients",
                    },
                    {"key": "api", "label": "Orders service", **component},
                ],
                "connections": [{"source": "web", "target": "api", "label": "HTTPS"}],
            },
            "deployment": {
                "components": [{"key": "vm", "label": "One VM", **component}],
                "connections": [],
            },
        }
    )


def draft() -> str:
    return json.dumps({"sections": [{"title": "Overview", "body": "Model's design."}]})


async def test_the_model_draws_the_designs_diagrams_and_the_mission_shows_them(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx, goal=SHOP)
    openai_server.push(
        Content(diagrams_reply(), usage=Usage(500, 100)),
        Content(draft(), usage=Usage(900, 200)),
    )
    design = await generate_document(
        ctx, mission_id=mission.id, kind="technical_design", actor=ACTOR, llm=model
    )
    asked: list[Any] = [r.response_format for r in openai_server.chat_requests]
    assert [f["json_schema"]["name"] for f in asked] == ["diagrams", "document_draft"]
    assert design.writer == "design-model" and design.diagrams is not None
    assert design.diagrams.source == "design-model"
    assert (design.input_tokens, design.output_tokens) == (1400, 300)  # both calls counted
    # The model's design was told of its diagrams: they are part of the draft it rewrote.
    assert "Tea storefront" in openai_server.chat_requests[1].messages[1]["content"]
    shown = await read_diagrams(ctx, mission_id=mission.id)
    assert shown.diagrams.source == "design-model"
    assert [c.label for c in shown.diagrams.architecture.components] == [
        "Tea storefront",
        "Orders service",
    ]
    # The model drew the system diagrams only: the product flow is the local rules', saying so.
    assert set(asked[0]["json_schema"]["schema"]["properties"]) == {"architecture", "deployment"}
    local = draw_flow(shown.mission, shown.plan)
    assert shown.product_flow.components == local.components
    assert shown.product_flow.notes == (*local.notes, LOCAL_FLOW_NOTE)
    assert "Upload photos of their cups" in [c.label for c in local.components]
    html = document_html(design)
    assert "<h2>Diagrams</h2>" in html and "Tea storefront" in html  # the model cut the heading


async def test_a_model_too_slow_to_draw_leaves_the_local_drawing_and_says_so(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx, goal=SHOP)
    openai_server.push(Delay(3, Content(diagrams_reply())), Content(draft()))
    design = await generate_document(
        _timeout(ctx, 1.5),
        mission_id=mission.id,
        kind="technical_design",
        actor=ACTOR,
        llm=model,
    )
    assert design.diagrams is not None and design.diagrams.source == "local"
    assert design.diagrams.notes == [
        "Drawn by the local rules: the model did not answer within 0.5 s."
    ]
    plan = await read_plan(ctx, mission_id=mission.id, version=None)
    shown = await read_diagrams(ctx, mission_id=mission.id, plan_version=plan.version)
    assert shown.diagrams.source == "local" and shown.diagrams.notes == ()
    assert LOCAL_FLOW_NOTE not in shown.product_flow.notes

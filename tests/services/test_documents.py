"""The document studio's service on both databases: every kind by the local writer, versions and
their comparison, the register read (not only the plan), two generations at once, refusals, and
the model writer through the real ``openai`` SDK against the loopback server, with its timeout,
failures and hostile replies falling back to the local writer and saying why."""

import asyncio
import dataclasses
import io
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pypdf
import pytest

from missionctl.documents.catalog import catalog
from missionctl.documents.pack_documents import render_agents, task_entries
from missionctl.errors import Conflict, NotFound
from missionctl.llm import OpenAICompatibleClient
from missionctl.planning import LocalPlanner
from missionctl.schemas.documents import DOCUMENT_KINDS
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.prices import PriceSet
from missionctl.schemas.register import DecisionCreate, RiskCreate
from missionctl.services import ServiceContext
from missionctl.services.runtime.composition import build_agents
from missionctl.services.usecases.decision_log import add_decision
from missionctl.services.usecases.documents import (
    compare_documents,
    export_document,
    generate_document,
    list_documents,
    read_document,
    read_sources,
)
from missionctl.services.usecases.missions import create_mission, read_mission
from missionctl.services.usecases.plans import plan_mission, read_plan, run_mission
from missionctl.services.usecases.pricing import set_price
from missionctl.services.usecases.risk_register import add_risk
from missionctl.settings import DocumentsSettings
from tests.engine.helpers import running_engine, wait_for_run
from tests.services.test_tracemap import GOAL, planned
from tests.support.openai_server import Content, Delay, HTTPError, ScriptedOpenAIServer, Usage

ACTOR = "user:writer"
SECRET = "sk-proj-AbC123xyz_789"
MODEL = "scripted-model"


@pytest.fixture
async def model(openai_server: ScriptedOpenAIServer) -> AsyncIterator[OpenAICompatibleClient]:
    client = OpenAICompatibleClient(
        base_url=openai_server.base_url,
        api_key="sk-test",
        model=MODEL,
        timeout_s=5,
        max_retries=0,
    )
    yield client
    await client.aclose()


def _timeout(ctx: ServiceContext, seconds: float) -> ServiceContext:
    documents = DocumentsSettings(model_timeout_s=seconds)
    return dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(update={"documents": documents})
    )


def _draft(*sections: tuple[str, str]) -> str:
    return json.dumps({"sections": [{"title": t, "body": b} for t, b in sections]})


async def test_every_kind_is_written_locally_from_the_mission_plan_and_register(
    ctx: ServiceContext,
) -> None:
    mission = await planned(ctx)
    plan = await read_plan(ctx, mission_id=mission.id, version=None)
    await add_risk(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=RiskCreate(
            title="Vendor lock-in on the analytics store",
            description="Click analytics tie us to one store.",
            severity="medium",
            likelihood="low",
            mitigation="Keep an export path.",
        ),
    )
    await add_decision(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=DecisionCreate(
            title="Aliases are case-insensitive",
            choice="Store aliases lower-cased.",
            reasons=["People type them by hand"],
        ),
    )
    written = {
        kind: await generate_document(ctx, mission_id=mission.id, kind=kind, actor=ACTOR, llm=None)
        for kind in DOCUMENT_KINDS
    }
    for kind, document in written.items():
        assert (document.version, document.writer, document.notes) == (1, "local", []), kind
        assert document.author == ACTOR and document.plan_version == 1
        for section in catalog()[kind].sections:
            assert f"## {section}" in document.body, (kind, section)
    prd = written["prd"].body
    assert mission.title in prd and all(r.text in prd for r in plan.requirements)
    engineering = written["engineering_plan"].body
    assert "### M1:" in engineering and "### T-01 ·" in engineering
    assert engineering.count("estimate ") >= len(plan.tasks)
    assert engineering.count("- [ ] ") == sum(len(t.acceptance) for t in plan.tasks)
    agents = render_agents(await read_mission(ctx, mission_id=mission.id), plan, task_entries(plan))
    assert written["execution_pack"].body == agents  # the pack's own AGENTS.md, not a copy
    assert "Vendor lock-in on the analytics store" in written["risk_register"].body
    assert "Aliases are case-insensitive" in written["decision_log"].body
    assert "technical_design" in written and "## Architecture" in written["technical_design"].body


async def test_regenerating_adds_a_version_and_the_comparison_shows_what_changed(
    ctx: ServiceContext,
) -> None:
    mission = await planned(ctx)
    first = await generate_document(
        ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None
    )
    same = await generate_document(
        ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None
    )
    assert same.version == 2 and same.body == first.body
    unchanged = await compare_documents(
        ctx, mission_id=mission.id, kind="risk_register", base=1, target=2
    )
    assert unchanged.same and unchanged.added == unchanged.removed == 0
    await add_risk(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=RiskCreate(
            title="Alias squatting",
            description="People reserve famous aliases.",
            severity="high",
            likelihood="medium",
            mitigation="Reserve a deny list.",
        ),
    )
    await generate_document(ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None)
    diff = await compare_documents(
        ctx, mission_id=mission.id, kind="risk_register", base=1, target=3
    )
    assert not diff.same and diff.added > 0
    assert any(line.op == "added" and "Alias squatting" in line.text for line in diff.lines)
    listed = {
        k.kind: [v.version for v in k.versions]
        for k in await list_documents(ctx, mission_id=mission.id)
    }
    assert listed["risk_register"] == [3, 2, 1] and listed["prd"] == []
    assert list(listed) == list(DOCUMENT_KINDS)
    latest = await read_document(ctx, mission_id=mission.id, kind="risk_register", version=None)
    assert latest.version == 3


async def test_two_generations_at_once_take_consecutive_versions(ctx: ServiceContext) -> None:
    mission = await planned(ctx)
    both = await asyncio.gather(
        *(
            generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
            for _ in range(2)
        )
    )
    assert sorted(d.version for d in both) == [1, 2]


async def test_unplanned_unknown_and_missing_are_refused_and_change_nothing(
    ctx: ServiceContext,
) -> None:
    with pytest.raises(NotFound) as unknown:
        await generate_document(ctx, mission_id=uuid.uuid4(), kind="prd", actor=ACTOR, llm=None)
    assert unknown.value.field == "mission_id"
    draft = await create_mission(ctx, data=MissionCreate(goal=GOAL), actor=ACTOR)
    with pytest.raises(Conflict, match="plan it first"):
        await generate_document(ctx, mission_id=draft.id, kind="prd", actor=ACTOR, llm=None)
    assert all(not k.versions for k in await list_documents(ctx, mission_id=draft.id))
    mission = await planned(ctx)
    with pytest.raises(NotFound, match="generate it first") as none_yet:
        await read_document(ctx, mission_id=mission.id, kind="prd", version=None)
    assert none_yet.value.field == "kind"
    await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    with pytest.raises(NotFound, match="versions are 1 to 1") as missing:
        await read_document(ctx, mission_id=mission.id, kind="prd", version=7)
    assert missing.value.field == "version"


async def test_secrets_never_reach_a_version_or_its_exports(ctx: ServiceContext) -> None:
    mission = await planned(ctx, goal=f"{GOAL}. Use the key {SECRET} for the analytics API.")
    for kind in DOCUMENT_KINDS:
        document = await generate_document(
            ctx, mission_id=mission.id, kind=kind, actor=ACTOR, llm=None
        )
        assert SECRET not in document.body and SECRET not in document.title
    for fmt in ("md", "html"):
        exported = await export_document(
            ctx, mission_id=mission.id, kind="prd", version=1, format=fmt
        )
        assert SECRET.encode() not in exported.content


async def test_a_goal_full_of_non_latin_1_text_exports_to_a_readable_pdf(
    ctx: ServiceContext,
) -> None:
    goal = "Build a “café” finder — with naïve search, Ωμέγα labels, Привет and 日本 menus"
    mission = await planned(ctx, goal=goal)
    await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=None)
    pdf = await export_document(ctx, mission_id=mission.id, kind="prd", version=1, format="pdf")
    assert pdf.media_type == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf.name.endswith("-v1.pdf")
    text = " ".join(
        " ".join(page.extract_text().split())
        for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    )
    for words in ("“café” finder — with naïve search", "Ωμέγα", "Привет"):
        assert words in text
    html = await export_document(ctx, mission_id=mission.id, kind="prd", version=1, format="html")
    assert "日本" in html.content.decode() and html.media_type.startswith("text/html")


async def test_the_model_writes_through_the_sdk_and_its_tokens_are_recorded(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx)
    openai_server.push(
        Content(
            _draft(
                ("Summary", "A short, **clear** summary."),
                ("Requirements", f"- R1: links shorten. Key {SECRET}"),
                ("## Forged", "<script>alert(1)</script> [x](javascript:alert(1))"),
            ),
            usage=Usage(1200, 300),
        )
    )
    document = await generate_document(
        ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=model
    )
    assert (document.writer, document.notes) == (MODEL, [])
    assert (document.input_tokens, document.output_tokens) == (1200, 300)
    assert "A short, **clear** summary." in document.body
    assert SECRET not in document.body and "\n## Forged" not in document.body
    request = openai_server.chat_requests[0]
    assert "Product requirements document" in request.messages[0]["content"]
    assert mission.title in request.messages[1]["content"]  # the local draft is its facts
    html = await export_document(ctx, mission_id=mission.id, kind="prd", version=1, format="html")
    assert b"<script>" not in html.content and b'href="javascript' not in html.content
    after = await read_mission(ctx, mission_id=mission.id)
    assert (after.input_tokens, after.output_tokens) == (1200, 300)


async def test_a_model_past_its_deadline_gives_way_to_the_local_writer_and_says_so(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx)
    openai_server.push(Delay(3, Content(_draft(("Summary", "late")))))
    document = await generate_document(
        _timeout(ctx, 0.5), mission_id=mission.id, kind="prd", actor=ACTOR, llm=model
    )
    assert document.writer == "local"
    assert document.notes == [
        f"The model {MODEL} did not answer within 0.5 s; the local writer wrote this version."
    ]
    assert "## Features" in document.body and "late" not in document.body


async def test_a_failing_or_invalid_model_gives_way_to_the_local_writer(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx)
    openai_server.push(HTTPError(401, "invalid api key"))
    unavailable = await generate_document(
        ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=model
    )
    assert unavailable.writer == "local" and "was unavailable" in unavailable.notes[0]
    openai_server.push('{"sections": "not a list"}', '{"nothing": true}')
    invalid = await generate_document(
        ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=model
    )
    assert invalid.writer == "local" and invalid.version == 2
    assert "breaks the document's format" in invalid.notes[0]
    assert invalid.input_tokens > 0  # what the invalid replies cost is kept


async def test_a_budget_bounds_the_model_and_is_charged_what_it_spent(
    ctx: ServiceContext, openai_server: ScriptedOpenAIServer, model: OpenAICompatibleClient
) -> None:
    mission = await planned(ctx)
    capped = await create_mission(
        ctx, data=MissionCreate(goal=GOAL, budget_usd=Decimal("0.000001")), actor=ACTOR
    )
    await plan_mission(ctx, mission_id=capped.id, actor=ACTOR, planner=LocalPlanner())
    unpriced = await generate_document(
        ctx, mission_id=capped.id, kind="prd", actor=ACTOR, llm=model
    )
    assert unpriced.writer == "local" and "No price is known for the model" in unpriced.notes[0]
    assert openai_server.chat_requests == []  # nothing was sent
    await set_price(
        ctx,
        data=PriceSet(
            model=MODEL, input_usd_per_mtok=Decimal("10"), output_usd_per_mtok=Decimal("30")
        ),
        actor=ACTOR,
    )
    broke = await generate_document(ctx, mission_id=capped.id, kind="prd", actor=ACTOR, llm=model)
    assert broke.writer == "local" and "could not be paid for" in broke.notes[0]
    assert openai_server.chat_requests == []
    openai_server.push(Content(_draft(("Summary", "Paid for.")), usage=Usage(1000, 100)))
    paid = await generate_document(ctx, mission_id=mission.id, kind="prd", actor=ACTOR, llm=model)
    assert paid.writer == MODEL
    after = await read_mission(ctx, mission_id=mission.id)
    assert after.spent_usd == pytest.approx(0.013)  # 1,000 tokens at $10/M + 100 at $30/M


async def test_the_runs_outcome_reaches_the_brief(ctx: ServiceContext) -> None:
    mission = await planned(ctx)
    before = await generate_document(
        ctx, mission_id=mission.id, kind="executive_brief", actor=ACTOR, llm=None
    )
    assert "Not run yet." in before.body
    run = await run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    async with running_engine(ctx, agents=build_agents(None)):
        finished = await wait_for_run(ctx, run.id, within_s=60)
    assert finished.status == "completed", finished
    sources = await read_sources(ctx, mission_id=mission.id)
    [outcome] = sources.runs
    assert outcome.id == run.id and outcome.artifacts
    brief = await generate_document(
        ctx, mission_id=mission.id, kind="executive_brief", actor=ACTOR, llm=None
    )
    # The builtin specialists wrote documents: the brief says so, never "succeeded".
    tasks = len(outcome.task_outcomes)
    assert tasks and set(outcome.task_outcomes.values()) == {"documented"}
    progress = brief.body.split("## Progress\n\n", 1)[1]
    assert progress.startswith(f"**{tasks} tasks documented, 0 built: to build, give the mission")
    assert (
        f"Latest run `{run.id}`: completed; its {tasks} tasks: {tasks} documented; "
        f"{len(outcome.artifacts)} artifacts produced" in progress
    )
    assert "succeeded" not in brief.body
    pdf = await export_document(
        ctx, mission_id=mission.id, kind="executive_brief", version=brief.version, format="pdf"
    )
    text = " ".join(
        " ".join(page.extract_text().split())
        for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert f"Progress {tasks} tasks documented, 0 built: to build" in text
    assert f"its {tasks} tasks: {tasks} documented;" in text and "succeeded" not in text
    register = await generate_document(
        ctx, mission_id=mission.id, kind="risk_register", actor=ACTOR, llm=None
    )
    assert "The newest run reported no failure." in register.body

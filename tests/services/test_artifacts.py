"""Artifacts and run reports: reads, content integrity, runs without a mission, token totals,
idempotency per outcome, the errors that name their field, and redaction of what is stored."""

import json
import uuid

import pytest
from sqlalchemy import text

from missionctl.agents.base import AgentError, AgentResult, ArtifactOutput, StepContext
from missionctl.errors import Conflict, IntegrityError, NotFound, ValidationFailed
from missionctl.llm import LLMUsage
from missionctl.llm.redaction import register_secret
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import (
    NewArtifact,
    add_artifacts,
    put_blobs,
    read_artifact,
    read_artifact_content,
    read_artifacts,
)
from missionctl.services.usecases.missions import create_mission
from missionctl.services.usecases.reports import (
    build_run_report,
    render_report_markdown,
    write_run_report,
)
from missionctl.services.usecases.runs import read_run, retry_step
from tests.engine.helpers import start, step, wait_for_run
from tests.services.helpers import engine_running, event_types, specialist_registry


class TokenAgent:
    """Reports model usage, as an LLM agent would, and one JSON artifact."""

    async def run(self, step: StepContext) -> AgentResult:
        return AgentResult(
            outputs={"summary": f"counted for {step.step_id}"},
            usage=LLMUsage(input_tokens=120, output_tokens=30),
            risks=[{"title": "Tokens are not free", "severity": "low", "mitigation": "Cap it"}],
            # A plain string is accepted too, as hand-written agents may report.
            next_steps=[{"text": "Read the bill"}, "Plain strings are next steps too"],  # type: ignore[list-item]
        )


def product_step(step_id: str, *deps: str) -> dict[str, object]:
    inputs = {
        "title": "Scope the webhook relay",
        "goal": "Build a webhook relay that retries deliveries with exponential backoff",
        "acceptance": ["Retries are bounded"],
        "expected_artifacts": ["scope.md"],
    }
    return step(step_id, "builtin:product", *deps, inputs=inputs)


async def test_a_run_without_a_mission_gets_a_report_with_token_totals(
    ctx: ServiceContext,
) -> None:
    registry = specialist_registry()
    registry.register("llm:tokens", TokenAgent())
    run = await start(ctx, [product_step("scope"), step("count", "llm:tokens", "scope")])
    async with engine_running(ctx, registry):
        done = await wait_for_run(ctx, run.id, within_s=30)
    assert done.status == "completed" and done.mission_id is None
    assert (done.input_tokens, done.output_tokens) == (120, 30)

    written = await write_run_report(ctx, run_id=run.id)
    assert [(a.name, a.mission_id, a.step_id) for a in written] == [
        ("report.md", None, None),
        ("report.json", None, None),
    ]
    _, raw = await read_artifact_content(ctx, artifact_id=written[1].id)
    report = json.loads(raw)
    assert report["mission"] is None and report["plan"] is None
    assert report["totals"]["input_tokens"] == 120 and report["totals"]["output_tokens"] == 30
    assert [u["agent"] for u in report["usage"]] == ["builtin:product", "llm:tokens"]
    assert report["usage"][1]["input_tokens"] == 120
    assert {"title": "Tokens are not free", "severity": "low", "likelihood": None,
            "mitigation": "Cap it", "source": "count"} in report["risks"]  # fmt: skip
    texts = [n["text"] for n in report["next_steps"]]
    assert "Read the bill" in texts and "Plain strings are next steps too" in texts
    _, md = await read_artifact_content(ctx, artifact_id=written[0].id)
    assert md.decode().startswith("# Run report — wf-")
    assert "| **Total** | 2 | 120 | 30 | $0.00 |" in md.decode()

    scope = [a for a in await read_artifacts(ctx, run_id=run.id) if a.step_id == "scope"]
    assert [a.name for a in scope] == ["scope.md"]
    _, content = await read_artifact_content(ctx, artifact_id=scope[0].id)
    assert "webhook relay" in content.decode()


async def test_a_report_waits_for_the_run_to_end_and_follows_a_retry(
    ctx: ServiceContext,
) -> None:
    run = await start(
        ctx,
        [
            step("flaky", "builtin:fail", inputs={"fail_attempts": 1}, retry={"max_attempts": 1}),
            step("after", "builtin:noop", "flaky"),
        ],
    )
    with pytest.raises(Conflict) as caught:
        await write_run_report(ctx, run_id=run.id)
    assert caught.value.field == "run_id" and "running" in caught.value.message
    async with engine_running(ctx):
        failed = await wait_for_run(ctx, run.id)
        assert failed.status == "failed"
        first = await write_run_report(ctx, run_id=run.id)
        assert await write_run_report(ctx, run_id=run.id) == first
        report = await build_run_report(ctx, run_id=run.id)
        assert report.outcome.error and report.tasks[0].error == "failed on purpose"
        assert "Failures:" in render_report_markdown(report)
        await retry_step(ctx, run_id=run.id, step_id="flaky", actor="user:test")
        done = await wait_for_run(ctx, run.id, {"completed"})
    second = await write_run_report(ctx, run_id=done.id)
    assert {a.id for a in second}.isdisjoint({a.id for a in first})
    # Names are unique within a run: the report of the second outcome is numbered.
    assert [a.name for a in first] == ["report.md", "report.json"]
    assert [a.name for a in second] == ["report-2.md", "report-2.json"]
    _, raw = await read_artifact_content(ctx, artifact_id=second[1].id)
    assert json.loads(raw)["outcome"]["status"] == "completed"
    reports = [a for a in await read_artifacts(ctx, run_id=run.id) if a.kind == "report"]
    assert len(reports) == 4
    assert len(await event_types(ctx, run.id, "artifact.created")) == 4


async def test_artifacts_are_read_by_mission_run_and_id(ctx: ServiceContext) -> None:
    mission = await create_mission(
        ctx, data=MissionCreate(goal="Build a tiny wiki"), actor="user:test"
    )
    run = await start(ctx, [product_step("scope")])
    async with engine_running(ctx):
        await wait_for_run(ctx, run.id)
    [scope] = await read_artifacts(ctx, run_id=run.id)
    assert await read_artifacts(ctx) == [scope]
    assert await read_artifacts(ctx, mission_id=mission.id) == []  # the run is not the mission's
    assert await read_artifact(ctx, artifact_id=scope.id) == scope
    assert (scope.kind, scope.media_type, scope.step_id) == ("markdown", "text/markdown", "scope")
    found, content = await read_artifact_content(ctx, artifact_id=scope.id)
    assert found == scope and len(content) == scope.size
    assert (await read_run(ctx, run_id=run.id)).steps[0].outputs["documents"] == ["scope.md"]

    path = ctx.blobs.path(scope.sha256)
    path.write_bytes(content + b"tampered")
    with pytest.raises(IntegrityError, match="does not match"):
        await read_artifact_content(ctx, artifact_id=scope.id)
    path.unlink()
    with pytest.raises(IntegrityError, match="missing"):
        await read_artifact_content(ctx, artifact_id=scope.id)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda ctx, id_: read_artifacts(ctx, run_id=id_), "run_id"),
        (lambda ctx, id_: read_artifacts(ctx, mission_id=id_), "mission_id"),
        (lambda ctx, id_: read_artifact(ctx, artifact_id=id_), "artifact_id"),
        (lambda ctx, id_: read_artifact_content(ctx, artifact_id=id_), "artifact_id"),
        (lambda ctx, id_: build_run_report(ctx, run_id=id_), "run_id"),
        (lambda ctx, id_: write_run_report(ctx, run_id=id_), "run_id"),
    ],
)
async def test_unknown_ids_are_not_found_naming_the_field(
    ctx: ServiceContext, call: object, field: str
) -> None:
    with pytest.raises(NotFound) as caught:
        await call(ctx, uuid.uuid4())  # type: ignore[operator]
    assert caught.value.field == field


async def test_a_bad_limit_is_refused(ctx: ServiceContext) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await read_artifacts(ctx, limit=0)
    assert caught.value.field == "limit"


class LeakyAgent:
    """A hand-written agent that repeats a registered secret everywhere it can, then fails."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        # What a document may well say besides the secret; only the secret is removed.
        self.doc = f"# {secret}\nsend `Authorization: Bearer $TOKEN`\n".encode()

    async def run(self, step: StepContext) -> AgentResult:
        step.log(f"using {self.secret}")
        if step.step_id == "fails":
            raise AgentError(f"refused {self.secret}", retryable=False, outputs={"k": self.secret})
        return AgentResult(
            outputs={"token": self.secret, self.secret: [f"again {self.secret}"]},
            summary=f"done with {self.secret}",
            artifacts=[ArtifactOutput(f"{self.secret}.md", "markdown", "text/markdown", self.doc)],
            risks=[{"title": self.secret, "severity": "low", "mitigation": "none"}],
        )


async def test_whatever_an_agent_returns_is_recorded_redacted(ctx: ServiceContext) -> None:
    secret = f"leak-{uuid.uuid4().hex}"
    register_secret(secret)
    registry = specialist_registry()
    registry.register("llm:leaky", LeakyAgent(secret))
    run = await start(ctx, [step("works", "llm:leaky"), step("fails", "llm:leaky")])
    async with engine_running(ctx, registry):
        done = await wait_for_run(ctx, run.id)
    assert [s.status for s in done.steps] == ["succeeded", "failed"]
    written = await write_run_report(ctx, run_id=run.id)
    # Stored directly through the service too, as reports and uploads are.
    new = NewArtifact(f"{secret}.txt", "file", "text/plain", secret.encode(), {"why": secret})
    (blob,) = await put_blobs(ctx, [new])
    async with ctx.db.write() as session:
        (direct,) = await add_artifacts(
            session, stored=[(new, blob)], run_id=run.id, mission_id=None
        )

    assert direct.name == "[REDACTED].txt"
    assert "[REDACTED].md" in [a.name for a in await read_artifacts(ctx, run_id=run.id)]
    async with ctx.read() as session:
        rows = [
            repr(tuple(row))
            for table in ("events", "artifacts", "step_runs", "runs")
            for row in (await session.execute(text(f"SELECT * FROM {table}"))).all()
        ]
    blobs = [ctx.blobs.read_bytes(a.sha256) for a in [*written, direct]]
    assert secret not in "\n".join(rows)
    assert not any(secret.encode() in content for content in blobs)
    assert b"[REDACTED]" in blobs[-1]
    # The engine stores what an agent returns redacted too, exact secrets only.
    (document,) = [a for a in await read_artifacts(ctx, run_id=run.id) if a.kind == "markdown"]
    assert ctx.blobs.read_bytes(document.sha256) == (
        b"# [REDACTED]\nsend `Authorization: Bearer $TOKEN`\n"
    )

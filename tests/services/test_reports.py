"""End to end: a mission planned locally, run by the builtin specialists, reported; a retried
step's attempts and log tail in its report."""

import io
import json
import time
from dataclasses import dataclass

import httpx2
import pypdf
import pytest
from fastapi import FastAPI

from missionctl.agents.base import AgentError, AgentResult, StepContext
from missionctl.agents.registry import AgentRegistry
from missionctl.documents.export import body_html
from missionctl.domain.access import Role
from missionctl.eventlog import NewEvent, append
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.reports import REPORT_LOG_LINE_CHARS, REPORT_LOG_LINES
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from missionctl.services.usecases.attempts import read_step_attempts
from missionctl.services.usecases.plans import read_plan
from missionctl.services.usecases.reports import (
    build_run_report,
    render_report_markdown,
    render_report_pdf,
    write_run_report,
)
from missionctl.services.usecases.runs import read_run
from tests.engine.helpers import running_engine, start, wait_for_run
from tests.engine.helpers import step as step_spec
from tests.services.helpers import event_types, run_goal
from tests.support.auth import bearer_headers


@dataclass(frozen=True)
class Goal:
    """A mission to run and what its documents must show."""

    id: str
    data: MissionCreate
    subject: str
    words: tuple[str, ...]
    documents: tuple[str, ...]


GOALS = [
    Goal(
        "url-shortener",
        MissionCreate(goal="Build a URL shortener with click analytics and custom aliases"),
        "URL shortener",
        ("alias", "click analytics"),
        (
            "scope.md",
            "prd.md",
            "architecture.md",
            "data-model.md",
            "api-contract.md",
            "risk-review.md",
            "test-plan.md",
            "delivery-checklist.md",
            "custom-aliases-implementation.md",
        ),
    ),
    Goal(  # a product brief: the product this repository builds
        "seed-000-mission-control",
        MissionCreate(
            title="Codex Mission Control",
            goal="Build Codex Mission Control as a production-ready mission orchestration "
            "dashboard that accepts a software goal, generates a live execution plan, runs "
            "specialist tasks, and returns artifacts, logs, risks, and next steps.",
            constraints=[
                "Avoid mock demos. Make the MVP real end to end, keep the architecture "
                "extensible, and optimize for a strong judge-facing demo."
            ],
            repo_context="Greenfield Next.js application in a hackathon repo. We need a "
            "compelling UI, local persistence, route handlers, and OpenAI-backed planning.",
        ),
        "Codex Mission Control",
        ("execution plan", "specialist task", "artifact", "Avoid mock demos"),
        (
            "scope.md",
            "architecture.md",
            "data-model.md",
            "api-contract.md",
            "risk-review.md",
            "test-plan.md",
            "delivery-checklist.md",
        ),
    ),
    Goal(  # a product brief: a product analytics cockpit
        "seed-001-analytics-cockpit",
        MissionCreate(
            goal="Build a product analytics cockpit that shows activation funnel metrics, "
            "retention trends, anomaly alerts, AI-generated insights, and executive summary "
            "views for product leaders.",
            constraints=[
                "Focus on high-signal product metrics, anomaly detection narratives, and a crisp "
                "judge-facing dashboard. Avoid overbuilding data infrastructure."
            ],
            repo_context="Greenfield Next.js app with API routes, local persistence, "
            "chart-friendly architecture, and room for future event ingestion pipelines.",
        ),
        "product analytics cockpit",
        ("retention trends", "anomaly alerts", "product leaders"),
        ("metrics-spec.md", "architecture.md", "data-model.md", "api-contract.md", "test-plan.md"),
    ),
]


@pytest.mark.parametrize("goal", GOALS, ids=[g.id for g in GOALS])
async def test_a_mission_runs_on_the_specialists_and_gets_its_report(
    ctx: ServiceContext, goal: Goal
) -> None:
    done = await run_goal(ctx, goal.data)
    assert done.status == "completed", [(s.step_id, s.status, s.error) for s in done.steps]
    assert done.mission_id is not None
    succeeded = [s for s in done.steps if s.status == "succeeded"]
    assert len(succeeded) >= 6
    plan = await read_plan(ctx, mission_id=done.mission_id)
    assert [s.step_id for s in done.steps] == [t.key for t in plan.tasks]

    stored = await read_artifacts(ctx, run_id=done.id)
    names = {a.name for a in stored}
    assert set(goal.documents) <= names, sorted(names)
    for step in done.steps:  # what each step says it wrote is stored under its step id
        mine = {a.name for a in stored if a.step_id == step.step_id}
        assert set(step.outputs["documents"]) == mine
        assert step.outputs["summary"] and step.outputs["checks"]
    everything = ""
    for artifact in stored:
        _, content = await read_artifact_content(ctx, artifact_id=artifact.id)
        everything += content.decode()
    for word in goal.words:
        assert word.lower() in everything.lower(), word

    written = await write_run_report(ctx, run_id=done.id)
    assert [a.name for a in written] == ["report.md", "report.json"]
    assert [a.media_type for a in written] == ["text/markdown", "application/json"]
    assert {(a.kind, a.step_id, a.run_id, a.mission_id) for a in written} == {
        ("report", None, done.id, done.mission_id)
    }
    _, md_bytes = await read_artifact_content(ctx, artifact_id=written[0].id)
    markdown = md_bytes.decode()
    assert goal.subject in markdown
    for heading in ("Outcome", "Tasks", "Artifacts", "Risks", "Decisions", "Next steps"):
        assert f"\n## {heading}\n" in markdown
    assert "\n## Usage and cost\n" in markdown
    for task in plan.tasks:
        assert f"`{task.key}`" in markdown and task.title in markdown
    # Builtin specialists wrote documents: the report opens with that, and builds nothing.
    told = f"**{len(succeeded)} tasks documented, 0 built: to build"
    assert markdown.split("\n")[2].startswith(told), markdown[:300]
    assert f"- **Status:** completed ({len(succeeded)} documented)" in markdown
    assert "version 1 from the local planner" in markdown
    # Each decision with its reasons, as the JSON report has them.
    assert plan.decisions and all(d.reasons for d in plan.decisions)
    for decision in plan.decisions:
        assert f"- **{decision.title}:** {decision.choice}" in markdown
        assert f"  - Reasons: {'; '.join(decision.reasons)}\n" in markdown

    _, json_bytes = await read_artifact_content(ctx, artifact_id=written[1].id)
    report = json.loads(json_bytes)
    run = await read_run(ctx, run_id=done.id)
    assert report["totals"]["input_tokens"] == run.input_tokens
    assert report["totals"]["output_tokens"] == run.output_tokens
    assert report["totals"]["cost_usd"] == run.spent_usd
    assert report["totals"]["tasks_succeeded"] == len(succeeded)
    assert report["totals"]["artifacts"] == len(stored)
    assert report["mission"]["goal"] == goal.data.goal
    assert report["plan"] == {
        "id": str(plan.id),
        "version": 1,
        "source": "local",
        "summary": plan.summary,
    }
    assert [t["step_id"] for t in report["tasks"]] == [t.key for t in plan.tasks]
    assert {r["title"] for r in report["risks"]} >= {r.title for r in plan.risks}
    assert any(r["source"] != "plan" for r in report["risks"])
    assert any(n["source"] != "plan" for n in report["next_steps"])
    assert len(report["decisions"]) == len(plan.decisions)

    created = await event_types(ctx, done.id, "artifact.created")
    assert len(created) == len(stored) + 2
    reports = [e for e in created if e.payload["kind"] == "report"]
    assert [(e.actor, e.step_id, e.mission_id) for e in reports] == [
        ("system", None, done.mission_id)
    ] * 2
    assert [e.payload["artifact_id"] for e in reports] == [str(a.id) for a in written]
    assert reports[0].payload == {
        "artifact_id": str(written[0].id),
        "name": "report.md",
        "kind": "report",
        "sha256": written[0].sha256,
        "size": written[0].size,
    }

    again = await write_run_report(ctx, run_id=done.id)
    assert again == written
    assert len(await event_types(ctx, done.id, "artifact.created")) == len(created)
    rebuilt = await build_run_report(ctx, run_id=done.id)
    assert rebuilt.totals.artifacts == len(stored)  # reports never count themselves


LOGGED = 35
"""Lines the chatty step logs on each attempt: more than a report keeps."""
INJECTED = [
    "``` closing the fence? no: ````` is text too",
    "<script>alert('x')</script> and **bold** [link](http://example.invalid) | pipe",
]


class ChattyFlakyAgent:
    """Logs ``LOGGED`` lines (the last ones try to break out of a code block), then fails its
    first attempt with an error and succeeds on the next."""

    async def run(self, step: StepContext) -> AgentResult:
        for n in range(LOGGED - len(INJECTED)):
            step.log(f"attempt {step.attempt} line {n}")
        for line in INJECTED:
            step.log(line, level="warning")
        if step.attempt == 1:
            raise AgentError("disk full while writing out.bin", retryable=True)
        return AgentResult(outputs={"summary": "written"}, summary="written")


async def retried_chatty_run(ctx: ServiceContext) -> RunRead:
    """A run of one step that logs ``LOGGED`` lines per attempt and succeeds on its second."""
    agents = AgentRegistry()
    agents.register("llm:chatty", ChattyFlakyAgent())
    retry = {"max_attempts": 2, "backoff_s": 0, "jitter": False}
    run = await start(ctx, [step_spec("write", "llm:chatty", retry=retry)])
    async with running_engine(ctx, agents=agents):
        done = await wait_for_run(ctx, run.id)
    assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    return done


async def test_the_report_holds_each_attempt_and_the_tail_of_the_log(ctx: ServiceContext) -> None:
    done = await retried_chatty_run(ctx)
    report = await build_run_report(ctx, run_id=done.id)

    (task,) = report.tasks
    assert [(a.attempt, a.outcome, a.error) for a in task.attempts] == [
        (1, "failed", "disk full while writing out.bin"),
        (2, "succeeded", None),
    ]
    assert all(a.ended_at is not None and a.duration_ms is not None for a in task.attempts)
    # The one fold of the events: what the step page shows, without reading the log.
    assert task.attempts == await read_step_attempts(ctx, run_id=done.id, step_id="write")
    assert len(task.log_tail) == REPORT_LOG_LINES
    assert task.log_lines_omitted == 2 * LOGGED - REPORT_LOG_LINES
    expected = [f"attempt 2 line {n}" for n in range(LOGGED - len(INJECTED))] + INJECTED
    assert [line.message for line in task.log_tail] == expected[-REPORT_LOG_LINES:]
    assert {line.attempt for line in task.log_tail} == {2}
    assert [line.level for line in task.log_tail][-2:] == ["warning", "warning"]

    stored = json.loads(report.model_dump_json())["tasks"][0]
    assert stored["attempts"][0]["error"] == "disk full while writing out.bin"
    assert stored["attempts"][1]["outcome"] == "succeeded"
    assert stored["log_lines_omitted"] == 50 and len(stored["log_tail"]) == 20

    markdown = render_report_markdown(report)
    details = markdown.split("\n## Attempts and logs\n")[1].split("\n## ")[0]
    assert "### `write` — write" in details
    attempts = details.split("Attempts:\n\n")[1].split("\n\n")[0].splitlines()
    assert attempts[0].startswith("- **Attempt 1:** failed · ")
    assert attempts[0].endswith(" — disk full while writing out.bin")
    assert attempts[1].startswith("- **Attempt 2:** succeeded · ")
    assert f"Last {REPORT_LOG_LINES} log lines (50 earlier lines left out):" in details
    block = details.split("``````text\n")[1].split("\n``````\n")[0].splitlines()
    assert len(block) == REPORT_LOG_LINES  # the fence outlasts the log's longest run of `
    assert block[-1].endswith(f" warning {INJECTED[-1]}") and "line 15" in block[0]


async def test_log_content_stays_text_in_the_html_and_pdf_of_the_report(
    ctx: ServiceContext,
) -> None:
    done = await retried_chatty_run(ctx)
    report = await build_run_report(ctx, run_id=done.id)
    html = body_html(render_report_markdown(report))
    assert "<script>" not in html and "&lt;script&gt;" in html
    pre = html.split("<pre>")[1].split("</pre>")[0]  # every line in the one block
    assert pre.count("\n") == REPORT_LOG_LINES and "**bold**" in pre and "`````" in pre
    assert "<h2>Risks</h2>" in html  # what follows the block is still the report

    pages = pypdf.PdfReader(io.BytesIO(render_report_pdf(report))).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert "disk full while writing out.bin" in text
    assert "attempt 2 line 32" in text and "attempt 2 line 14" not in text


async def test_a_long_log_is_read_by_its_tail_cut_and_redacted(ctx: ServiceContext) -> None:
    run = await start(ctx, [step_spec("quiet")])
    async with running_engine(ctx):
        done = await wait_for_run(ctx, run.id)
    batches, per_batch = 100, 1000  # 100,000 lines
    long_line = "x" * (REPORT_LOG_LINE_CHARS * 4)
    async with ctx.write() as session:
        for b in range(batches):
            lines = [{"level": "info", "message": f"b{b} l{n}"} for n in range(per_batch)]
            if b == batches - 1:  # recorded unredacted: the report hides it anyway
                lines[-2:] = [
                    {"level": "info", "message": "key sk-abcdefgh12345678 leaked"},
                    {"level": "info", "message": long_line},
                ]
            payload = {"attempt": 1, "lines": lines}
            await append(session, [NewEvent("step.log", "system", payload, run_id=done.id,
                                            step_id="quiet")])  # fmt: skip
    started = time.monotonic()
    report = await build_run_report(ctx, run_id=done.id)
    assert time.monotonic() - started < 5
    (task,) = report.tasks
    assert len(task.log_tail) == REPORT_LOG_LINES
    assert task.log_lines_omitted == batches * per_batch - REPORT_LOG_LINES
    assert task.log_tail[0].message == f"b{batches - 1} l{per_batch - REPORT_LOG_LINES}"
    assert task.log_tail[-2].message == "key [REDACTED] leaked"
    assert task.log_tail[-1].message == "x" * (REPORT_LOG_LINE_CHARS - 1) + "…"
    assert len(report.model_dump_json()) < 40_000
    markdown = render_report_markdown(report)
    assert "sk-abcdefgh" not in markdown
    assert "(99980 earlier lines left out)" in markdown


async def test_a_viewer_fetches_the_attempts_and_log_tail_of_a_report(app: FastAPI) -> None:
    ctx = app.state.ctx  # the app runs no engine: the test's own runs the chatty agent
    done = await retried_chatty_run(ctx)
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
        url = f"/api/v1/runs/{done.id}/report"
        answer = await client.get(url, headers=viewer)
        markdown = await client.get(url, params={"format": "markdown"}, headers=viewer)
    assert answer.status_code == 200, answer.text
    (task,) = answer.json()["tasks"]
    assert [a["outcome"] for a in task["attempts"]] == ["failed", "succeeded"]
    assert task["attempts"][0]["error"] == "disk full while writing out.bin"
    assert len(task["log_tail"]) == REPORT_LOG_LINES and task["log_lines_omitted"] == 50
    assert markdown.status_code == 200
    assert "disk full while writing out.bin" in markdown.text
    assert "Last 20 log lines (50 earlier lines left out):" in markdown.text

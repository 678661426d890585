"""End to end: a mission planned locally, run by the builtin specialists, reported."""

import json
from dataclasses import dataclass

import pytest

from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.artifacts import read_artifact_content, read_artifacts
from missionctl.services.usecases.plans import read_plan
from missionctl.services.usecases.reports import build_run_report, write_run_report
from missionctl.services.usecases.runs import read_run
from tests.services.helpers import event_types, run_goal


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

"""The run page links what a run is made of: its workflow version, inputs, artifacts, the
documents each step wrote and the approval a waiting step waits for; and says each event in
words. The agents page lists the diagnostic agents, as the registry marks them, apart."""

import re
from datetime import UTC, datetime
from typing import Any

import httpx2

from missionctl.agents.diagnostic import NoopAgent
from missionctl.agents.registry import AgentRegistry
from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.approvals import decide_approval, list_approvals
from missionctl.services.usecases.artifacts import read_artifacts
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.workflows import create_workflow
from missionctl.web.audit import audit_lines
from tests.web.support import ACTOR, HTMX, planned_mission, start_steps, wait_for_run

RELEASE: dict[str, Any] = {
    "name": "release-notes",
    "inputs": {"version": {"type": "string", "required": True}},
    "steps": [
        {"id": "design", "agent": "builtin:architect", "inputs": {"title": "Design the API"}},
        {
            "id": "deploy",
            "agent": "command",
            "depends_on": ["design"],
            "inputs": {"argv": ["make", "deploy"]},
        },
    ],
}


async def test_a_paused_run_links_its_workflow_inputs_artifacts_documents_and_approval(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    workflow = await create_workflow(ctx, spec=WorkflowSpec.model_validate(RELEASE), actor=ACTOR)
    run = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR, inputs={"version": "9.9.1"})
    await wait_for_run(ctx, run.id, lambda r: r.status == "paused")
    [approval] = await list_approvals(ctx, run_id=run.id)
    artifacts = await read_artifacts(ctx, run_id=run.id)
    assert artifacts

    page = (await client.get(f"/runs/{run.id}")).text

    assert 'href="/workflows/release-notes?version=1"' in page
    assert '<span class="json__string">&#34;9.9.1&#34;</span>' in page  # the run's inputs
    for artifact in artifacts:
        assert f'href="/artifacts/{artifact.id}">{artifact.name}</a>' in page
    assert f'href="/approvals#approval-{approval.id}"' in page
    assert "Run paused: 1 step waits for approval" in page  # the newest event, in words
    assert "run.paused</span>" not in page
    assert re.search(r'<time datetime="[^"]+Z" title="[^"]+ UTC" data-time="clock">', page)

    design = (await client.get(f"/runs/{run.id}/steps/design", headers=HTMX)).text
    for artifact in artifacts:
        assert f'<a href="/artifacts/{artifact.id}" data-testid="document-link">' in design
    assert "&#34;summary&#34;" in design  # the other outputs still show, as a tree
    deploy = (await client.get(f"/runs/{run.id}/steps/deploy", headers=HTMX)).text
    assert f'href="/approvals#approval-{approval.id}"' in deploy


async def test_a_run_resumed_by_a_decision_says_so_not_retry_none(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "Publish the release notes of each version")
    steps = [{**RELEASE["steps"][0]}, {**RELEASE["steps"][1]}]
    run = await start_steps(ctx, mission.id, steps)
    await wait_for_run(ctx, run.id, lambda r: r.status == "paused")
    [approval] = await list_approvals(ctx, run_id=run.id)

    await decide_approval(ctx, ref=approval.id, approve=False, actor=ACTOR, reason="not today")
    await wait_for_run(ctx, run.id, lambda r: r.status in {"failed", "completed"})

    page = (await client.get(f"/missions/{mission.id}")).text
    trail = page.split('id="audit-trail"')[1]
    assert "Run resumed: approval decided" in trail
    assert "retry None" not in trail


def test_every_event_reads_as_a_sentence() -> None:
    def line(type_: str, **payload: Any) -> str:
        event = EventItem(
            seq=1, ts=datetime.now(UTC), type=type_, actor="system", run_id=None, step_id=None,
            payload=payload,
        )  # fmt: skip
        return audit_lines(event, {})[0].message

    assert line("run.paused", awaiting_approval=2) == "Run paused: 2 steps wait for approval"
    assert line("run.resumed", retried_step="deploy") == "Run resumed to retry deploy"
    assert line("approval.rejected", reason="too risky") == "Rejected: too risky"
    assert line("step.held", reason="agent disabled") == "Held: agent disabled"
    assert line("some.new_event") == "Some new event"  # never the bare type


async def test_the_agents_page_lists_diagnostic_agents_apart(
    client: httpx2.AsyncClient,
) -> None:
    page = (await client.get("/agents")).text
    main, _, rest = page.partition('data-testid="diagnostic-agents"')

    assert 'data-agent="command"' in main and 'data-agent="builtin:noop"' not in main
    diagnostic, _, _ = rest.partition('id="programs-heading"')
    for name in ("builtin:fail", "builtin:noop", "builtin:sleep"):
        assert f'data-agent="{name}"' in diagnostic
    assert 'data-agent="builtin:architect"' not in diagnostic
    assert "<details" in page and "<details open" not in page  # collapsed
    assert ">Save</button></noscript>" in page  # a change is saved as it is made
    flags = {a["name"]: a["diagnostic"] for a in (await client.get("/api/v1/agents")).json()}
    assert flags["builtin:noop"] and not flags["command"]  # the API says so too


def test_the_registry_marks_diagnostic_agents() -> None:
    registry = AgentRegistry()
    assert [n for n in registry.names() if registry.is_diagnostic(n)] == [
        "builtin:fail",
        "builtin:noop",
        "builtin:sleep",
    ]
    registry.register("builtin:noop", NoopAgent())  # replaced by a real one: no longer marked
    assert not registry.is_diagnostic("builtin:noop")


async def test_a_document_stored_under_another_name_is_linked_by_the_name_it_has(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    # Two architects write the same documents: the second step's are stored as "review-…".
    twice = {
        "name": "design-twice",
        "steps": [
            {"id": "design", "agent": "builtin:architect", "inputs": {"title": "Design the API"}},
            {
                "id": "review",
                "agent": "builtin:architect",
                "depends_on": ["design"],
                "inputs": {"title": "Design the API"},
            },
        ],
    }
    workflow = await create_workflow(ctx, spec=WorkflowSpec.model_validate(twice), actor=ACTOR)
    run = await start_run(ctx, workflow_id=workflow.id, actor=ACTOR)
    await wait_for_run(ctx, run.id, lambda r: r.status == "completed")
    renamed = [a for a in await read_artifacts(ctx, run_id=run.id) if a.step_id == "review"]
    assert renamed and all(a.name == f"review-{a.asked_name}" for a in renamed)

    review = (await client.get(f"/runs/{run.id}/steps/review", headers=HTMX)).text
    assert "(not stored)" not in review
    for artifact in renamed:
        assert (
            f'<a href="/artifacts/{artifact.id}" data-testid="document-link">{artifact.name}</a>'
        ) in review

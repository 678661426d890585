"""The mission page: its sections, its controls in every state, and the server refusing anyway."""

import dataclasses
import re
import uuid
from datetime import datetime
from html import unescape
from typing import Any

import httpx2
import pytest

from missionctl.errors import LLMUnavailable
from missionctl.planning import LocalPlanner, PlanningInput
from missionctl.planning.base import PlannerResult
from missionctl.schemas.missions import MissionCreate, MissionRead
from missionctl.schemas.plans import NextStepPriority, PlanNextStep
from missionctl.schemas.register import DecisionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases import decision_log
from missionctl.services.usecases import missions as mission_service
from missionctl.services.usecases import plans as plan_service
from tests.web.support import (
    ACTOR,
    HTMX,
    planned_mission,
    start_steps,
    wait_for_run,
)

SECTIONS = [
    "mission-overview",
    "stepper",
    "plan-graph",
    "task-timeline",
    "audit-trail",
    "artifacts",
    "final-summary",
    "risk-radar",
    "execution-path",
    "decision-log",
    "architecture",
    "project-shape",
]


def control(html: str, name: str) -> str:
    """The opening tag of a control's button."""
    match = re.search(rf'<(?:button|details)[^>]*data-control="{name}"[^>]*>', html)
    assert match, f"no {name} control"
    return match.group(0)


def enabled(html: str, name: str) -> bool:
    return " disabled" not in control(html, name)


async def page(client: httpx2.AsyncClient, mission_id: uuid.UUID) -> str:
    response = await client.get(f"/missions/{mission_id}")
    assert response.status_code == 200
    return response.text


async def test_the_page_shows_the_cockpit_sections_in_their_order(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, "Build a URL shortener with click analytics using FastAPI")

    html = await page(client, mission.id)

    positions = [html.index(f'id="{section}"') for section in SECTIONS]
    assert positions == sorted(positions)
    assert "Build a URL shortener with click analytics using FastAPI" in html
    assert "Local engine" in html and "plan v1" in html  # the source
    assert "Execution Stepper" in html and "Task Timeline" in html and "Risk Radar" in html
    assert html.count('class="stepper__item stepper__item--pending"') >= 6  # not started yet
    assert '<svg class="graph"' in html and 'class="graph__node graph__node--pending"' in html
    assert "Mission created" in html and "Plan v1 generated" in html  # the audit trail
    assert "FastAPI" in html.split('id="architecture"')[1]  # the stack
    assert "<code>" in html.split('id="project-shape"')[1]
    # One SSE connection, resuming after the newest event the page shows.
    assert html.count("hx-sse:connect=") == 1
    assert re.search(rf'hx-sse:connect="/missions/{mission.id}/stream\?after=\d+"', html)


async def test_a_draft_can_be_planned_but_not_run(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Write a CLI that converts CSV to Parquet"), actor=ACTOR
    )

    html = await page(client, mission.id)

    assert enabled(html, "plan") and "Plan again" not in html  # a draft is planned, not re-planned
    for name in ("run", "cancel", "rerun", "report"):
        assert not enabled(html, name), name
    assert 'title="Plan the mission first."' in control(html, "run")
    assert "No tasks yet" in html


async def test_a_planned_mission_can_run_and_plan_again(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)

    html = await page(client, mission.id)

    assert enabled(html, "plan") and enabled(html, "run")
    assert not enabled(html, "cancel") and not enabled(html, "rerun")
    assert "Plan again" in html


async def test_plan_again_adds_a_plan_version_with_the_same_engine(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    html = await page(client, mission.id)
    assert '<input type="hidden" name="engine" value="local">' in html  # planned locally before

    response = await client.post(
        f"/missions/{mission.id}/plan", data={"engine": "local"}, headers=HTMX
    )

    assert response.status_code == 200 and "Plan v2 ready" in response.text
    html = await page(client, mission.id)
    assert "plan v2" in html and "Plan v2 generated" in html


async def test_a_running_mission_can_only_be_canceled(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    run = await start_steps(
        ctx, mission.id, [{"id": "wait", "agent": "builtin:sleep", "inputs": {"seconds": 30}}]
    )
    await wait_for_run(ctx, run.id, lambda r: r.steps[0].status == "running")

    html = await page(client, mission.id)

    assert enabled(html, "cancel") and enabled(html, "report")
    assert not enabled(html, "plan") and not enabled(html, "run") and not enabled(html, "rerun")
    assert 'data-task="wait" data-status="running"' in html

    response = await client.post(f"/runs/{run.id}/cancel", headers=HTMX)
    assert response.status_code == 200 and "Run canceled" in response.text
    canceled = await page(client, mission.id)
    assert 'data-task="wait" data-status="canceled"' in canceled
    assert not enabled(canceled, "cancel") and not enabled(canceled, "run")
    # The run could be rerun, but its mission is canceled, which is final.
    assert 'title="A canceled mission does not run again."' in control(canceled, "rerun")


async def test_a_failed_task_can_be_retried_and_the_run_rerun(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    steps = [
        {"id": "flaky", "agent": "builtin:fail", "inputs": {"fail_attempts": 1}},
        {"id": "after", "agent": "builtin:noop", "depends_on": ["flaky"]},
    ]
    run = await start_steps(ctx, mission.id, steps)
    await wait_for_run(ctx, run.id)

    html = await page(client, mission.id)

    assert 'data-task="flaky" data-status="failed"' in html
    assert 'data-task="after" data-status="blocked"' in html
    assert enabled(html, "retry-flaky") and enabled(html, "rerun")
    assert 'data-control="retry-after"' not in html  # only failed tasks have Retry
    assert "Failed" in html.split('id="final-summary"')[1]

    response = await client.post(f"/runs/{run.id}/steps/flaky/retry", headers=HTMX)
    assert response.status_code == 200 and "attempt 2" in response.text
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"
    html = await page(client, mission.id)
    assert 'data-task="flaky" data-status="succeeded"' in html
    assert "attempt 2" in html.split('data-task="flaky"')[1].split("</li>")[0]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/missions/{mission}/run", 409, "has no plan yet; plan it first"),
        ("/runs/{run}/cancel", 409, "run cannot go from completed to canceled"),
        ("/runs/{run}/rerun", 409, "only a failed, canceled or aborted run"),
        ("/runs/{run}/steps/only/retry", 409, "only a failed step can be retried"),
    ],
)
async def test_the_server_refuses_what_the_state_does_not_allow_with_a_toast(
    ctx: ServiceContext, client: httpx2.AsyncClient, path: str, status: int, message: str
) -> None:
    draft = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Not planned yet"), actor=ACTOR
    )
    run = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)

    response = await client.post(path.format(mission=draft.id, run=run.id), headers=HTMX)

    assert response.status_code == status
    assert '<hx-partial hx-target="#toasts" hx-swap="beforeend">' in response.text
    assert "toast--error" in response.text and message in response.text


async def test_without_htmx_a_control_redirects_back_to_its_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)

    response = await client.post(f"/missions/{mission.id}/run")

    assert response.status_code == 303
    assert response.headers["location"] == f"/missions/{mission.id}"
    view = await client.get(f"/api/v1/missions/{mission.id}")
    assert view.json()["status"] in {"running", "completed"}


class _Unavailable:
    async def plan(self, mission: PlanningInput) -> object:
        raise LLMUnavailable("the model endpoint timed out 3 times")


async def test_a_planning_failure_is_shown_on_the_mission_page(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await mission_service.create_mission(
        ctx, data=MissionCreate(goal="Plan me with a model that is down"), actor=ACTOR
    )
    with pytest.raises(LLMUnavailable):
        await plan_service.plan_mission(
            ctx,
            mission_id=mission.id,
            actor=ACTOR,
            planner=_Unavailable(),  # type: ignore[arg-type]
        )

    html = await page(client, mission.id)

    assert "Planning failed, so there is no plan to run." in html
    assert "the model endpoint timed out 3 times" in html
    assert enabled(html, "plan") and not enabled(html, "run")


async def test_older_audit_events_load_on_demand(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    steps = [{"id": f"s{i:02d}", "agent": "builtin:noop"} for i in range(15)]
    run = await start_steps(ctx, mission.id, steps)
    await wait_for_run(ctx, run.id)

    html = await page(client, mission.id)
    shown = [int(s) for s in re.findall(r'class="audit__line" data-seq="(\d+)"', html)]
    assert len(set(shown)) == 50 and shown == sorted(shown, reverse=True)
    more = re.search(r'href="(/missions/[^"]+/audit\?before=(\d+))"', html)
    assert more and int(more.group(2)) == min(shown)

    older = await client.get(more.group(1), headers=HTMX)
    assert older.status_code == 200
    assert '<hx-partial hx-target="#audit-list" hx-swap="beforeend">' in older.text
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', older.text)]
    assert seqs and max(seqs) < min(shown)
    assert "Mission created" in older.text or 'id="audit-more"' in older.text

    # Opened in a new tab: the same events on a page with the layout, not a bare fragment.
    tab = await client.get(more.group(1), headers={"accept": "text/html"})
    assert tab.status_code == 200 and tab.text.lstrip().lower().startswith("<!doctype html")
    assert 'class="sidebar' in tab.text and "<hx-partial" not in tab.text
    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', tab.text)] == seqs
    assert f'href="/missions/{mission.id}#audit-trail"' in tab.text


async def test_an_unknown_mission_is_a_404_page(client: httpx2.AsyncClient) -> None:
    response = await client.get(f"/missions/{uuid.uuid4()}", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "no mission with id" in response.text


async def test_live_pages_have_no_inline_script_handler_or_style(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    run = await start_steps(ctx, mission.id, [{"id": "only", "agent": "builtin:noop"}])
    await wait_for_run(ctx, run.id)

    for path in (f"/missions/{mission.id}", f"/runs/{run.id}", "/runs", "/missions"):
        html = (await client.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, path
        assert "hx-on" not in html and "js:" not in html, path


def decision_titles(html: str) -> list[tuple[int, str]]:
    """The Decision Log's entries as shown: (number, title), in order."""
    section = html.split('id="decision-log"')[1].split("</section>")[0]
    return [
        (int(n), title)
        for n, title in re.findall(r'<h3 class="decision__title">(\d+)\. ([^<]*)</h3>', section)
    ]


async def test_the_decision_log_shows_every_decision_it_counts_numbered_without_gaps(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    log = await decision_log.list_decisions(ctx, mission_id=mission.id)
    assert any(d.title == "Architecture" for d in log)  # the one the page used to hide
    await decision_log.add_decision(
        ctx,
        mission_id=mission.id,
        actor=ACTOR,
        data=DecisionCreate(
            title="Hosting", choice="One small VM", reasons=["Cheap"], supersedes=log[1].id
        ),
    )

    html = await page(client, mission.id)

    shown = decision_titles(html)
    assert [n for n, _ in shown] == list(range(1, len(log) + 2))
    assert "Architecture" in {title for _, title in shown}
    assert shown[-1] == (len(log) + 1, "Hosting")
    badge = re.search(r'data-testid="decision-count">(\d+)<', html)
    assert badge and int(badge.group(1)) == len(shown)
    assert 'data-testid="decision-superseded">(1 superseded)<' in html


UNRANKED: tuple[tuple[NextStepPriority, str], ...] = (
    ("low", "L1"),
    ("medium", "M1"),
    ("high", "H1"),
    ("low", "L2"),
    ("high", "H2"),
)


class _UnrankedNextSteps:
    """The local planner's plan with its next steps ``UNRANKED``: in no order of priority."""

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        result = await LocalPlanner().plan(mission)
        steps = [PlanNextStep(text=f"Step {t}", priority=p) for p, t in UNRANKED]
        draft = result.draft.model_copy(update={"next_steps": steps})
        return dataclasses.replace(result, draft=draft)


def next_step_texts(html: str) -> list[str]:
    section = html.split('id="execution-path"')[1].split("</section>")[0]
    return [unescape(t) for t in re.findall(r'<span class="path__text">([^<]*)</span>', section)]


async def _planned_by(ctx: ServiceContext, goal: str, planner: Any) -> MissionRead:
    """A new mission with no budget, planned by ``planner``."""
    data = MissionCreate(goal=goal, budget_usd=None)
    mission = await mission_service.create_mission(ctx, data=data, actor=ACTOR)
    await plan_service.plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=planner)
    return mission


async def test_next_steps_are_shown_high_priority_first_as_the_run_report_lists_them(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await _planned_by(ctx, "Build a URL shortener", _UnrankedNextSteps())

    planned = next_step_texts(await page(client, mission.id))

    assert planned == ["Step H1", "Step H2", "Step M1", "Step L1", "Step L2"]
    # Once run, the page lists them as the run report (API, CLI, report files) does.
    run = await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    await wait_for_run(ctx, run.id)
    report = (await client.get(f"/api/v1/runs/{run.id}/report")).json()
    ran = next_step_texts(await page(client, mission.id))
    assert ran == [n["text"] for n in report["next_steps"]]
    assert [t for t in ran if t.startswith("Step ")] == planned


async def test_updated_is_the_latest_change_of_the_mission_or_its_runs(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx)
    slow = [{"id": "slow", "agent": "builtin:sleep", "inputs": {"seconds": 0.5}}]
    later = await start_steps(ctx, mission.id, slow)
    first = await start_steps(ctx, mission.id, [{"id": "quick", "agent": "builtin:noop"}])
    await wait_for_run(ctx, first.id)
    done = await wait_for_run(ctx, later.id)
    # The mission moved when the first run completed; the second one ending moves it no more.
    moved = (await mission_service.read_mission(ctx, mission_id=mission.id)).updated_at
    assert done.ended_at is not None and moved < done.ended_at

    html = await page(client, mission.id)

    updated = re.search(r'<span id="mission-updated">updated <time datetime="([^"]+)"', html)
    assert updated, "the header says when the mission was updated"
    shown = datetime.fromisoformat(updated.group(1))
    assert shown >= done.ended_at.replace(microsecond=done.ended_at.microsecond // 1000 * 1000)


def _constraints_column(html: str) -> str:
    """The text of the overview's constraints column, tags stripped."""
    column = html.split(">Constraints</h2>")[1].split("Repository context")[0]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", column)).split())


async def test_bounds_the_goal_states_are_listed_under_constraints_not_none_given(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    goal = "Build a ward round app for nurses, working offline on the ward, HIPAA applies"
    said = await planned_mission(ctx, goal)
    given = await mission_service.create_mission(
        ctx,
        data=MissionCreate(goal=goal, constraints=["HIPAA applies", "Runs on iPads"]),
        actor=ACTOR,
    )
    plain = await planned_mission(ctx, "Build a URL shortener")

    column = _constraints_column(await page(client, said.id))
    assert "None given." not in column
    assert column == (
        "None given separately; read from the goal: working offline on the ward HIPAA applies"
    )
    # The plan holds itself to the same bounds the page lists.
    plan = await plan_service.read_plan(ctx, mission_id=said.id)
    assert any("working offline on the ward" in r.text for r in plan.requirements)
    # A bound the mission's constraints already state is listed once, with them.
    column = _constraints_column(await page(client, given.id))
    assert column == "HIPAA applies Runs on iPads And from the goal: working offline on the ward"
    assert _constraints_column(await page(client, plain.id)) == "None given."


class _DottedStack:
    """The local planner's plan, its summary naming a stack whose names hold dots."""

    async def plan(self, mission: PlanningInput) -> PlannerResult:
        result = await LocalPlanner().plan(mission)
        summary = "A chat front end. Stack: Next.js, OpenAI, Python 3.12. Ships in a week."
        return dataclasses.replace(
            result, draft=result.draft.model_copy(update={"summary": summary})
        )


async def test_the_tech_stack_keeps_names_with_dots(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await _planned_by(ctx, "Build a chat front end", _DottedStack())

    section = (await page(client, mission.id)).split('id="architecture"')[1].split("</section>")[0]
    chips = re.findall(r'<span class="chip chip--accent">([^<]*)</span>', section)
    assert chips == ["Next.js", "OpenAI", "Python 3.12"]

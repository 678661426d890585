"""The Execution Stepper counts tasks that ended and colours its meter by what they produced.

An offline mission's builtin specialists document every task: "N of N tasks ended" with an
accent meter, never the green of a build, for a viewer too. Once a task's recorded outcome is
``built``, the meter turns green.
"""

import re

import httpx2
from sqlalchemy import update

from missionctl.db.models import StepRun
from missionctl.domain.access import Role
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from tests.services.helpers import run_goal
from tests.support.auth import bearer_headers


def _stepper_head(html: str) -> str:
    match = re.search(r'<section class="card" id="stepper".*?</header>', html, re.S)
    assert match, "no stepper"
    return " ".join(match.group(0).split())


async def test_documented_tasks_end_with_an_accent_meter_and_a_build_turns_it_green(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    done = await run_goal(ctx, MissionCreate(goal="Build a URL shortener with custom aliases"))
    tasks = len(done.steps)
    assert done.mission_id is not None and tasks >= 6
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    page = await client.get(f"/missions/{done.mission_id}", headers=viewer)
    assert page.status_code == 200, page.text
    head = _stepper_head(page.text)
    assert f"<strong>{tasks}</strong> of {tasks} tasks ended" in head
    assert 'class="meter meter--wide meter--outcome-documented"' in head
    assert f'value="{tasks}" max="{tasks}"' in head
    # The Report menu offers the report as a PDF beside Markdown and JSON.
    pdf = f'href="/api/v1/runs/{done.id}/report?format=pdf" download="run-{done.id}-report.pdf"'
    assert pdf in page.text

    # A coding step's verified change, as the recorder stores its outcome.
    async with ctx.write() as session:
        await session.execute(
            update(StepRun)
            .where(StepRun.run_id == done.id, StepRun.step_id == done.steps[0].step_id)
            .values(agent="coding:generic", outcome="built")
        )
    built = _stepper_head((await client.get(f"/missions/{done.mission_id}", headers=viewer)).text)
    assert 'meter--outcome-built" data-testid="stepper-meter" data-tone="built"' in built
    assert f"<strong>{tasks}</strong> of {tasks} tasks ended" in built

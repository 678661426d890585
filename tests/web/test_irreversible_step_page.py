"""A step's view says why the plan's irreversible task ran without an approval gate."""

import html

import httpx2

from missionctl.planning.compile import DOCUMENTS_ONLY_REASON
from missionctl.services import ServiceContext
from missionctl.services.usecases import plans as plan_service
from tests.web.support import ACTOR, HTMX, planned_mission, wait_for_run

GOAL = "Migrate our customer database from MySQL to PostgreSQL without downtime"


async def test_a_document_step_of_an_irreversible_task_shows_why_it_was_not_gated(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    mission = await planned_mission(ctx, GOAL)
    run = await plan_service.run_mission(ctx, mission_id=mission.id, actor=ACTOR)
    done = await wait_for_run(ctx, run.id)
    assert done.status == "completed"  # nothing waited: every step only wrote documents

    cutover = (await client.get(f"/runs/{run.id}/steps/cutover", headers=HTMX)).text
    assert 'data-testid="step-approval-reason"' in cutover
    assert html.escape(DOCUMENTS_ONLY_REASON) in cutover
    whole = (await client.get(f"/runs/{run.id}/steps/decommission")).text
    assert html.escape(DOCUMENTS_ONLY_REASON) in whole  # the whole page too, not only the block
    # A task the plan does not mark irreversible has nothing to explain.
    inventory = (await client.get(f"/runs/{run.id}/steps/inventory", headers=HTMX)).text
    assert 'data-testid="step-approval-reason"' not in inventory

"""The replay page says when a step's stored outputs no longer match what the chain recorded."""

import uuid
from typing import Any

from sqlalchemy import update

from missionctl.db.models import StepRun
from tests.web.conftest import LiveApp
from tests.web.support import start_steps, wait_for_run

CHANGED = "Stored outputs changed after the step ended"


async def test_a_changed_output_row_is_flagged_on_the_replay_page(live_app: LiveApp) -> None:
    ctx = live_app.ctx
    run = await start_steps(ctx, None, [{"id": "only", "agent": "builtin:noop"}])
    run = await wait_for_run(ctx, run.id)
    page = await live_app.http.get(f"/runs/{run.id}/replay")
    assert page.status_code == 200
    assert 'data-testid="outputs-verified"' in page.text and CHANGED not in page.text
    [stored] = [s.outputs for s in run.steps]

    await _set_outputs(live_app, run.id, {"forged": True})
    page = await live_app.http.get(f"/runs/{run.id}/replay")
    assert page.status_code == 200
    assert CHANGED in page.text and 'data-testid="outputs-changed"' in page.text
    await _set_outputs(live_app, run.id, stored)  # the suite's final check reads the row


async def _set_outputs(live_app: LiveApp, run_id: uuid.UUID, outputs: dict[str, Any]) -> None:
    async with live_app.ctx.db.write() as session:
        await session.execute(
            update(StepRun).where(StepRun.run_id == run_id).values(outputs=outputs)
        )

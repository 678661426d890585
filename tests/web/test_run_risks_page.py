"""The run page's Risk section and the feed's line for an alert (ADR 0118)."""

import re
import uuid
from datetime import UTC, datetime

import httpx2

from missionctl.schemas.dashboard import EventItem
from missionctl.schemas.risks import RunRisks
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import cancel_run
from missionctl.web.audit import audit_lines
from missionctl.web.templating import templates
from tests.engine.helpers import running_engine, start, step, wait_for_run

HOSTILE = "<img src=x onerror=alert(1)>"


async def test_the_run_page_shows_each_steps_chances_and_why(
    ctx: ServiceContext, client: httpx2.AsyncClient
) -> None:
    steps = [step("steady"), step("flaky", "builtin:fail", "steady")]
    async with running_engine(ctx):
        for _ in range(12):
            await wait_for_run(ctx, (await start(ctx, steps, name=HOSTILE)).id)
    await ctx.catch_up("risks")
    run = await start(ctx, steps, name=HOSTILE)
    await ctx.catch_up("risks")

    page = (await client.get(f"/runs/{run.id}")).text
    section = page.split('id="run-risks"')[1].split("</section>")[0]
    assert "1 at risk" in section
    flaky = re.search(r'<tr data-step="flaky" data-at-risk="true".*?</tr>', section, re.S)
    assert flaky is not None and "80%" in flaky.group(0) and "at risk" in flaky.group(0)
    assert "in the last 7 days failed 12 of 12 attempts (100%)" in flaky.group(0)
    steady = re.search(r'<tr data-step="steady" data-at-risk="false".*?</tr>', section, re.S)
    assert steady is not None and "12%" in steady.group(0)
    assert HOSTILE not in page  # the workflow's name in the reasons is text, never HTML

    # The insights cockpit's alerts panel lists such a step while its run goes on (this one
    # sleeps first), and no longer once the run has ended (as the run above has).
    slow = [step("steady", "builtin:sleep", inputs={"seconds": 30}), steps[1]]
    going = await start(ctx, slow, name=HOSTILE)
    await ctx.catch_up("risks")
    panel = (await client.get("/insights/panels/alerts")).text
    at_risk = panel.split('data-testid="steps-at-risk"')[1].split("</ul>")[0]
    assert f'data-run="{going.id}" data-step="flaky"' in at_risk
    assert re.search(r"8\d% to fail \(attempt 1\)", at_risk)  # the 13th failure in a row counts
    assert f'data-run="{run.id}"' not in at_risk and HOSTILE not in panel
    await cancel_run(ctx, run_id=going.id, actor="user:test")


def test_a_run_not_estimated_yet_says_so() -> None:
    # Drawn from the page's own block: the app's follower estimates a run within seconds, so
    # a request could not be sure to come before it.
    page = templates.env.get_template("pages/run.html")
    context = page.new_context({"risks": RunRisks(run_id=uuid.uuid4(), alert_at=0.5, steps=[])})
    drawn = "".join(page.blocks["run_risks"](context))
    assert "No estimate for this run yet" in drawn and "0 at risk" in drawn


def test_an_alert_reads_as_a_sentence() -> None:
    payload = {"attempt": 2, "chances": {"fail": 0.8}, "reasons": ["flaky failed 12 of 12"]}
    event = EventItem(
        seq=1, ts=datetime.now(UTC), type="step.at_risk", actor="system", run_id=None,
        step_id="flaky", payload=payload,
    )  # fmt: skip
    [line] = audit_lines(event, {})
    assert line.message == "At risk: 80% to fail (attempt 2): flaky failed 12 of 12"

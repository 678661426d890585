"""The insights say what the runs produced: tasks documented against tasks built.

On hand-made facts, the deterministic writer's sentence and action; then on both databases, a
real history: an offline mission whose builtin specialists only wrote documents, and the same
history once a coding step's verified change is recorded as the recorder records it.
"""

import re
from datetime import date, timedelta

import httpx2

from missionctl.db.models import StepRun
from missionctl.domain.access import Role
from missionctl.domain.events import OUTPUTS_DIGEST_KEY
from missionctl.domain.insights import (
    BUILD_ACTION,
    DayFigures,
    InsightFacts,
    TaskOutcomes,
    Window,
    funnel_shift,
    retention_shift,
    task_outcomes,
    trend_totals,
    write_insights,
)
from missionctl.domain.states import StepRunStatus
from missionctl.eventlog import NewEvent, append
from missionctl.eventlog.receipts import outputs_digest
from missionctl.schemas.insights import load_phrasebook
from missionctl.schemas.missions import MissionCreate
from missionctl.services import ServiceContext
from missionctl.services.usecases.analytics import AnalyticsQuery
from missionctl.services.usecases.insights import MODEL_ANSWERS, read_insights
from tests.services.helpers import run_goal
from tests.support.auth import bearer_headers
from tests.support.fixtures import PINNED_DAY

RANGE = Window(date(2026, 11, 1), date(2026, 11, 7))
PRIOR = "2026-10-25 to 2026-10-31"
CHANGE = {"files_changed": ["app.py"], "tests_exit_code": 0}


def _facts(tasks: TaskOutcomes, *, segment: tuple[str, str] | None = None) -> InsightFacts:
    days = [DayFigures(2, 3, 3, 1.0, 0.5, 900) for _ in range(7)]
    return InsightFacts(
        window=RANGE,
        segment=segment,
        funnel=funnel_shift([("signed_in", "Signed in")], [[0]], [[0]], settled=True),
        retention=retention_shift([1], [], []),
        totals=trend_totals(days, days, {}),
        tasks=tasks,
    )


def test_documented_tasks_without_a_build_are_told_with_how_to_build() -> None:
    written = write_insights(
        _facts(TaskOutcomes(documented=11, prior_documented=4)), load_phrasebook()
    )
    sentence = (
        "From 2026-11-01 to 2026-11-07, 11 tasks were documented and none built: the runs "
        f"wrote documents, not code (against 0 tasks built and 4 documented from {PRIOR})."
    )
    assert sentence in written.summary and written.what_changed[-1] == sentence
    assert written.suggested_actions[0] == BUILD_ACTION
    assert "coding agent" in BUILD_ACTION


def test_built_tasks_are_counted_and_no_build_action_is_suggested() -> None:
    tasks = task_outcomes(
        [DayFigures(1, 1, 1, 1.0, 0.0, 0, tasks_built=1, tasks_documented=2)] * 3,
        [DayFigures(1, 1, 1, 1.0, 0.0, 0, tasks_documented=5)],
    )
    assert tasks == TaskOutcomes(built=3, documented=6, prior_built=0, prior_documented=5)
    written = write_insights(_facts(tasks), load_phrasebook())
    sentence = (
        "From 2026-11-01 to 2026-11-07, 3 tasks were built (code changed and its tests passed) "
        f"and 6 documented, against 0 tasks built and 5 documented from {PRIOR}."
    )
    assert sentence in written.summary and sentence in written.what_changed
    assert BUILD_ACTION not in written.suggested_actions
    one = write_insights(_facts(TaskOutcomes(built=1)), load_phrasebook())
    assert "1 task was built" in one.summary


def test_a_segment_is_told_that_tasks_count_every_run_and_nothing_is_said_without_tasks() -> None:
    segmented = write_insights(
        _facts(TaskOutcomes(documented=2), segment=("role", "admin")), load_phrasebook()
    )
    assert "2 tasks were documented across every run (tasks are not segmented)" in (
        segmented.summary
    )
    silent = write_insights(_facts(TaskOutcomes()), load_phrasebook())
    assert "documented" not in silent.summary and BUILD_ACTION not in silent.suggested_actions


async def test_a_real_history_says_documented_then_how_many_were_built(
    ctx: ServiceContext,
) -> None:
    MODEL_ANSWERS.clear()
    done = await run_goal(ctx, MissionCreate(goal="Build a URL shortener with custom aliases"))
    documented = len(done.steps)
    today = PINNED_DAY
    query = AnalyticsQuery(today - timedelta(days=6), today)
    window = f"{query.since} to {query.until}"

    plain = await read_insights(ctx, query=query, anomalies=[], llm=None)
    said = f"From {window}, {documented} tasks were documented and none built"
    assert said in plain.summary, plain.summary
    assert any(said in line for line in plain.sections.what_changed)
    assert plain.sections.suggested_actions[0] == BUILD_ACTION

    # A coding step's verified change, recorded as the recorder records one (with the digest
    # of its outputs: the chain vouches for the row).
    async with ctx.write() as session:
        session.add(
            StepRun(
                run_id=done.id,
                step_id="build-api",
                status=StepRunStatus.succeeded,
                agent="coding:generic",
                outputs=CHANGE,
                outcome="built",
            )
        )
        await append(
            session,
            [
                NewEvent(
                    type="step.succeeded",
                    actor="system",
                    run_id=done.id,
                    step_id="build-api",
                    payload={
                        "status": "succeeded",
                        "attempt": 1,
                        "outcome": "built",
                        OUTPUTS_DIGEST_KEY: outputs_digest(CHANGE),
                    },
                )
            ],
        )
    built = await read_insights(ctx, query=query, anomalies=[], llm=None)
    assert f"From {window}, 1 task was built (code changed and its tests passed) and " in (
        built.summary
    )
    assert f"and {documented} documented" in built.summary
    assert BUILD_ACTION not in built.sections.suggested_actions


async def test_a_viewer_sees_the_built_and_documented_series_on_the_insights_page(
    client: httpx2.AsyncClient, ctx: ServiceContext
) -> None:
    MODEL_ANSWERS.clear()
    done = await run_goal(ctx, MissionCreate(goal="Build a URL shortener with custom aliases"))
    viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
    page = await client.get("/insights", params={"range": "7d"}, headers=viewer)
    assert page.status_code == 200, page.text
    chart = re.search(r'<svg[^>]*data-testid="trend-outcomes".*?</svg>', page.text, re.S)
    assert chart is not None, "no outcome chart"
    today = f"{PINNED_DAY} (UTC)"
    assert f"{today}: Tasks built 0<" in chart.group(0)
    assert f"{today}: Tasks documented {len(done.steps)}<" in chart.group(0)
    assert 'href="/insights/definitions#trends.tasks_documented"' in page.text
    # The deterministic summary says the same, for a viewer as for anyone.
    assert f"{len(done.steps)} tasks were documented and none built" in page.text

"""Workflow suggestions from real runs: what they predict, applying one, and what it then did.

The runs are real (the engine, builtin sleeps, a sandboxed command); the history is what they
left. A step that waits for one it never reads is suggested to run beside it; a step whose
first attempts run out of time a longer limit. Applying one saves the next version; the runs of
each version show the effect.
"""

import asyncio
import sys
import uuid
from typing import Any

import httpx2
import pytest

from missionctl.app import create_app
from missionctl.domain.access import Role
from missionctl.domain.suggestions import CheaperModel, SteadierModel, StepHistory, suggest
from missionctl.errors import Conflict, NotFound
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext
from missionctl.services.usecases.runs import start_run
from missionctl.services.usecases.suggestions import (
    apply_suggestion,
    apply_to_version,
    list_suggestions,
)
from missionctl.services.usecases.workflows import create_workflow, read_workflow_by_name
from missionctl.settings import Settings
from tests.engine.helpers import allow, running_engine, wait_for_run
from tests.suggestions.workflows import pipeline, warming
from tests.support.auth import bearer_headers

PIPELINE = pipeline(fetch_s=0.3, lint_s=0.3)
WARMING = warming(cold_s=0.8, warm_s=0.05, timeout_s=0.6, backoff_s=0.05)


async def _runs(ctx: ServiceContext, name: str, count: int) -> None:
    workflow = await read_workflow_by_name(ctx, name=name)
    for _ in range(count):
        run = await start_run(ctx, workflow_id=workflow.id, actor="user:test")
        done = await wait_for_run(ctx, run.id, within_s=30)
        assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    await ctx.catch_up("risks", quietly=False)


async def test_a_step_that_never_reads_its_predecessor_is_suggested_beside_it_and_runs_so(
    ctx: ServiceContext,
) -> None:
    await create_workflow(ctx, spec=WorkflowSpec.model_validate(PIPELINE), actor="user:test")
    async with running_engine(ctx):
        await _runs(ctx, "pipeline", 4)
        early = await list_suggestions(ctx, name="pipeline")
        assert (early.runs, early.suggestions) == (4, [])  # too few runs to say anything
        await _runs(ctx, "pipeline", 1)
        found = await list_suggestions(ctx, name="pipeline")
        [parallel] = found.suggestions
        assert parallel.key == "parallel-lint.fetch" and parallel.kind == "parallel"
        assert "lint (builtin:sleep) never reads fetch's outputs" in parallel.why
        before, after = parallel.predicted["critical_path_s"]
        # Two sleeps of 0.3 s one after the other, then side by side (a loaded machine adds).
        assert before >= 0.6 and after >= 0.3 and before - after >= 0.25
        assert "-  - fetch\n" in parallel.diff  # lint no longer waits for fetch
        # package reads lint's outputs: nothing suggests it stops waiting for lint.
        applied = await apply_suggestion(
            ctx, name="pipeline", key="parallel-lint.fetch", actor="user:test"
        )
        assert (applied.before.version, applied.after.version) == (1, 2)
        await _runs(ctx, "pipeline", 5)
    [done] = (await list_suggestions(ctx, name="pipeline")).applied
    assert done.enough_runs and (done.before.runs, done.after.runs) == (5, 5)
    assert done.before.median_duration_s is not None and done.after.median_duration_s is not None
    # Measured: the median run took about a sleep less.
    assert done.before.median_duration_s - done.after.median_duration_s > 0.2


async def test_a_step_whose_first_attempts_time_out_gets_a_longer_limit_and_no_more_retries(
    ctx: ServiceContext,
) -> None:
    await allow(ctx, sys.executable)
    await create_workflow(ctx, spec=WorkflowSpec.model_validate(WARMING), actor="user:test")
    async with running_engine(ctx):
        await _runs(ctx, "warming", 5)
        [timeout] = (await list_suggestions(ctx, name="warming")).suggestions
        assert timeout.key == "timeout-warm" and timeout.title == "Give warm 1.2 s instead of 0.6 s"
        assert timeout.why.startswith("5 of 5 first attempts of warm ran out of its 0.6 s")
        assert timeout.predicted["retries_per_run"] == [1.0, 0.0]
        await apply_suggestion(ctx, name="warming", key="timeout-warm", actor="user:test")
        await _runs(ctx, "warming", 5)
    [done] = (await list_suggestions(ctx, name="warming")).applied
    assert (done.before.step_retries_per_run, done.after.step_retries_per_run) == (1.0, 0.0)


async def test_applying_is_refused_when_the_suggestion_is_gone_or_the_workflow_moved_on(
    ctx: ServiceContext,
) -> None:
    await create_workflow(ctx, spec=WorkflowSpec.model_validate(PIPELINE), actor="user:test")
    with pytest.raises(NotFound) as gone:
        await apply_suggestion(ctx, name="pipeline", key="parallel-lint.fetch", actor="user:test")
    assert gone.value.field == "key"
    with pytest.raises(NotFound):
        await list_suggestions(ctx, name="no-such-workflow")
    async with running_engine(ctx):
        await _runs(ctx, "pipeline", 5)
    # A twin applies the same suggestion at once: one new version, the other refused.
    results = await _twice(ctx)
    assert sorted(type(r).__name__ for r in results) in (
        ["AppliedSuggestionRead", "Conflict"],
        ["AppliedSuggestionRead", "NotFound"],
    )
    assert (await read_workflow_by_name(ctx, name="pipeline")).version == 2
    # Applied to a version that is no longer the newest: refused, nothing saved.
    first = await read_workflow_by_name(ctx, name="pipeline", version=1)
    with pytest.raises(Conflict) as old:
        await apply_to_version(ctx, workflow_id=first.id, key="timeout-x", actor="user:test")
    assert old.value.field == "workflow_id"
    with pytest.raises(NotFound):
        await apply_to_version(ctx, workflow_id=uuid.uuid4(), key="timeout-x", actor="user:t")
    assert (await read_workflow_by_name(ctx, name="pipeline")).version == 2


async def _twice(ctx: ServiceContext) -> list[Any]:
    return list(
        await asyncio.gather(
            *(
                apply_suggestion(ctx, name="pipeline", key="parallel-lint.fetch", actor=f"user:{n}")
                for n in ("a", "b")
            ),
            return_exceptions=True,
        )
    )


def test_a_cheaper_model_is_suggested_for_an_unpinned_step_of_a_role_it_does_as_well() -> None:
    definition = {
        "name": "docs",
        "steps": [
            {"id": "notes", "agent": "llm:writer"},
            {"id": "design", "agent": "llm:architect"},
            {"id": "pinned", "agent": "llm:writer", "model": "gpt-4o"},
        ],
    }
    cheaper = {"writer": CheaperModel("gpt-4o-mini", "writer", "97% of 40 writer steps", 0.06)}
    found = suggest(definition, 5, {}, cheaper, {"notes": 100_000})
    assert [s.key for s in found] == ["model-notes"]
    assert found[0].predicted == {"step_cost_usd": [0.1, 0.006]}
    assert found[0].definition["steps"][0]["model"] == "gpt-4o-mini"
    assert suggest({**definition, "model": "gpt-4o"}, 5, {}, cheaper, {}) == []
    assert suggest(definition, 4, {"notes": StepHistory("notes")}, cheaper, {}) == []


async def test_a_viewer_reads_suggestions_but_may_not_apply_them(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        await create_workflow(ctx, spec=WorkflowSpec.model_validate(PIPELINE), actor="user:test")
        viewer = await bearer_headers(ctx, user="vera", role=Role.VIEWER)
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", headers=viewer
        ) as api:
            listed = await api.get("/api/v1/workflows/by-name/pipeline/suggestions")
            assert listed.status_code == 200 and listed.json()["min_runs"] == 5
            url = f"/api/v1/workflows/{listed.json()['workflow_id']}/suggestions/{{}}/apply"
            assert (await api.post(url.format("parallel-lint.fetch"))).status_code == 403
            for key in ["A" * 301, "x%20y", "%00"]:
                bad = await api.post(url.format(key))
                assert bad.status_code in (403, 404, 422), bad.text
            unknown = await api.get(f"/api/v1/workflows/by-name/{uuid.uuid4().hex}/suggestions")
            assert unknown.status_code == 404


def test_a_step_that_keeps_failing_is_moved_to_a_model_that_does_its_role_more_often() -> None:
    definition = {"name": "docs", "steps": [{"id": "notes", "agent": "llm:writer"}]}
    # 4 of 10 first attempts failed (1 of them ran out of time: the timeout rule's), 3 retries.
    failing = {"notes": StepHistory("notes", (), 10, 1, retries=3, first_failures=4)}
    steadier = {"writer": SteadierModel("gpt-4o", "writer", "95% of 40 writer steps", 0.25)}
    cheaper = {"writer": CheaperModel("gpt-4o-mini", "writer", "90% of 40", 0.06)}
    [found] = suggest(definition, 10, failing, cheaper, {}, None, steadier)
    assert (found.key, found.definition["steps"][0]["model"]) == ("model-notes", "gpt-4o")
    assert found.why.startswith("3 of 10 first attempts of notes failed and needed a retry")
    # 30 % of first attempts failed; at a quarter of the configured model's failure rate, 7.5 %.
    assert found.predicted == {
        "first_failure_share": [0.3, 0.075],
        "retries_per_run": [0.3, 0.075],
    }
    # A step that fails less than 30 % of its first attempts keeps its model (and may be
    # offered the cheaper one); a workflow that pins its model is its author's choice.
    steady = {"notes": StepHistory("notes", (), 10, 0, retries=2, first_failures=2)}
    assert [s.key for s in suggest(definition, 10, steady, cheaper, {}, None, steadier)] == [
        "model-notes"
    ]
    assert suggest(definition, 10, steady, cheaper, {}, None, steadier)[0].why.startswith(
        "gpt-4o-mini does writer steps as well"
    )
    pinned = {**definition, "model": "gpt-4o-mini"}
    assert suggest(pinned, 10, failing, cheaper, {}, None, steadier) == []

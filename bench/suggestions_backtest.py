"""Workflow suggestions, predicted and measured: apply each to a re-run and compare.

Run: ``PYTHONPATH=src:. .venv/bin/python bench/suggestions_backtest.py [--runs 10]``

In a new home, a real engine runs two workflows ``--runs`` times each:

- ``pipeline``: ``fetch`` then ``lint`` (both builtin sleeps; ``lint`` never reads ``fetch``),
  then ``package``, which reads ``lint``. Suggested: run ``lint`` beside ``fetch``.
- ``warming``: one sandboxed ``command`` step whose first attempt finds its workspace cold and
  runs past its limit, and whose retry finds it warm. Suggested: a longer limit.

It reads the suggestions (``GET /workflows/by-name/{name}/suggestions``' service), applies each,
runs each new version ``--runs`` times, and prints as JSON each suggestion's predicted figures
beside what the runs of the two versions measured (median run duration; the step's retries per
run).

Then three workflows that write out the same two steps: the template suggested for the first
is applied (saved), a fourth workflow is made from it and run ``--runs`` times; measured: the
steps that workflow needed written by hand, the template's uses, and its runs' outcome.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.suggestions.workflows import pipeline, warming

from missionctl.agents.registry import AgentRegistry
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.schemas.governance import AgentUpdate, AllowedProgram
from missionctl.schemas.templates import TemplateUse
from missionctl.schemas.workflows import WorkflowSpec
from missionctl.services import ServiceContext, open_context
from missionctl.services.usecases.agents import update_agent
from missionctl.services.usecases.runs import read_run, start_run
from missionctl.services.usecases.suggestions import apply_suggestion, list_suggestions
from missionctl.services.usecases.templates import use_template
from missionctl.services.usecases.workflows import create_workflow, read_workflow_by_name
from missionctl.settings import Settings

WORKFLOWS: list[dict[str, Any]] = [
    pipeline(fetch_s=0.6, lint_s=0.5),
    warming(cold_s=1.5, warm_s=0.1, timeout_s=1.0, backoff_s=0.1),
]
FAST = EngineConfig(concurrency=4, lease_s=5.0, heartbeat_s=0.5, poll_s=0.05)


async def _run(ctx: ServiceContext, name: str, count: int) -> None:
    workflow = await read_workflow_by_name(ctx, name=name)
    for _ in range(count):
        run = await start_run(ctx, workflow_id=workflow.id, actor="user:bench")
        deadline = time.monotonic() + 60
        while (done := await read_run(ctx, run_id=run.id)).status in ("pending", "running"):
            assert time.monotonic() < deadline, f"run {run.id} did not end"
            await asyncio.sleep(0.05)
        assert done.status == "completed", [(s.step_id, s.error) for s in done.steps]
    await ctx.catch_up("risks", quietly=False)


async def backtest(settings: Settings, runs: int) -> list[dict[str, Any]]:
    """Run, suggest, apply, run again; each suggestion's predicted and measured figures."""
    async with open_context(settings) as ctx:
        entry = AllowedProgram.model_validate({"tier": "read"})
        await update_agent(
            ctx,
            name="command",
            data=AgentUpdate(allowed_programs={sys.executable: entry}),
            actor="user:admin",
        )
        engine = Engine(
            ctx, AgentRegistry(), config=FAST, worker_id=f"bench-{uuid.uuid4().hex[:6]}"
        )
        stop = asyncio.Event()
        working = asyncio.create_task(engine.run(stop))
        try:
            for workflow in WORKFLOWS:
                spec = WorkflowSpec.model_validate(workflow)
                await create_workflow(ctx, spec=spec, actor="user:bench")
                await _run(ctx, spec.name, runs)
                for found in (await list_suggestions(ctx, name=spec.name)).suggestions:
                    await apply_suggestion(ctx, name=spec.name, key=found.key, actor="user:bench")
                await _run(ctx, spec.name, runs)
            templated = await _template_backtest(ctx, runs)
        finally:
            stop.set()
            await working
        results = []
        for workflow in WORKFLOWS:
            for done in (await list_suggestions(ctx, name=workflow["name"])).applied:
                results.append(
                    {
                        "workflow": workflow["name"],
                        "suggestion": done.key,
                        "why": done.why,
                        "predicted": done.predicted,
                        "measured": {
                            "runs": [done.before.runs, done.after.runs],
                            "median_run_s": [
                                _round(done.before.median_duration_s),
                                _round(done.after.median_duration_s),
                            ],
                            "step_retries_per_run": [
                                done.before.step_retries_per_run,
                                done.after.step_retries_per_run,
                            ],
                        },
                    }
                )
        return [*results, templated]


SHARED = [
    {"id": "checkout", "agent": "builtin:sleep", "inputs": {"seconds": 0.1}},
    {
        "id": "lint",
        "agent": "builtin:sleep",
        "depends_on": ["checkout"],
        "inputs": {"seconds": 0.2},
    },
]


async def _template_backtest(ctx: ServiceContext, runs: int) -> dict[str, Any]:
    """Three workflows repeat two steps: apply the template, make a fourth from it, run it."""
    for name in ("api", "web", "docs"):
        own = {"id": "ship", "agent": "builtin:noop", "inputs": {"value": name}}
        spec = WorkflowSpec.model_validate({"name": name, "steps": [*SHARED, own]})
        await create_workflow(ctx, spec=spec, actor="user:bench")
    [found] = (await list_suggestions(ctx, name="api")).suggestions
    await apply_suggestion(ctx, name="api", key=found.key, actor="user:bench")
    template = found.definition["name"]
    use = TemplateUse(workflow_name="cli")
    made = await use_template(ctx, name=template, data=use, actor="user:bench", may_run=False)
    await _run(ctx, made.workflow_name, runs)
    [done] = (await list_suggestions(ctx, name="api")).applied
    newest = await read_workflow_by_name(ctx, name=made.workflow_name)
    return {
        "workflow": "api",
        "suggestion": found.key,
        "why": found.why,
        "predicted": found.predicted,
        "measured": {
            "steps_written_by_hand": [len(SHARED), len(newest.definition.steps) - len(SHARED)],
            "template_uses": done.template_uses,
            "runs_of_the_workflow_made_from_it": runs,
            "completed": runs,  # `_run` fails the backtest on any run that does not complete
        },
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each version")
    given = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        results = asyncio.run(backtest(Settings(home=Path(home)), given.runs))
    report = {"benchmark": "suggestions_backtest", "runs_per_version": given.runs}
    print(json.dumps({**report, "suggestions": results}, indent=2))


if __name__ == "__main__":
    main()

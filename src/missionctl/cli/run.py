"""``missionctl run "GOAL"``: plan a goal and execute it here, with live progress."""

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from missionctl.cli._runtime import (
    EXIT_INVALID,
    console,
    err_console,
    load_settings,
    mission_from_options,
)
from missionctl.domain import events as ev
from missionctl.engine.worker import Engine, EngineConfig
from missionctl.errors import MissionControlError, ValidationFailed
from missionctl.schemas.missions import MissionCreate
from missionctl.schemas.plans import PlanRead
from missionctl.schemas.runs import RunRead
from missionctl.services import ServiceContext, open_context
from missionctl.services.artifacts import read_artifacts
from missionctl.services.missions import create_mission
from missionctl.services.plans import plan_mission, run_mission
from missionctl.services.reports import write_run_report
from missionctl.services.runs import read_run
from missionctl.services.runtime import Runtime, open_runtime
from missionctl.settings import Settings

# Working on the local database directly is acting as the system itself (ADR 0010); a
# remote CLI (MISSIONCTL_URL) acts as its token instead.
ACTOR = "system"
_ENDED = ("completed", "failed", "canceled", "aborted")
_RECHECK_S = 2.0
_STATUS_STYLE = {
    "succeeded": "green",
    "failed": "red",
    "running": "yellow",
    "queued": "cyan",
    "blocked": "magenta",
    "canceled": "dim",
}


def run(
    goal: Annotated[str, typer.Argument(help="The software goal, in plain words.")],
    title: Annotated[str | None, typer.Option(help="Short name (derived if omitted).")] = None,
    constraint: Annotated[
        list[str] | None, typer.Option("--constraint", "-c", help="A constraint; repeatable.")
    ] = None,
    repo_context: Annotated[str, typer.Option(help="What exists already.")] = "",
    budget_usd: Annotated[Decimal | None, typer.Option(help="Spending cap in USD.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcome as JSON (no live table).")
    ] = False,
) -> None:
    """Create a mission, plan it, run it on an engine in this process, and write its report.

    Without a model configured (MISSIONCTL_LLM_MODEL) this uses the local planner and the
    builtin specialists, offline. Exit code 0 when the run completed, 1 when it did not.
    """
    data = mission_from_options(
        goal=goal,
        title=title,
        constraints=constraint,
        repo_context=repo_context,
        budget_usd=budget_usd,
    )
    settings = load_settings()
    try:
        outcome = asyncio.run(_run(settings, data, live=not as_json))
    except ValidationFailed as exc:
        for problem in exc.problems:
            err_console.print(f"[red]error:[/red] {problem.field or ''} {problem.message}")
        raise typer.Exit(EXIT_INVALID) from exc
    except MissionControlError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(outcome, indent=2))
    else:
        _print_outcome(outcome)
    if outcome["run"]["status"] != "completed":
        raise typer.Exit(1)


async def _run(settings: Settings, data: MissionCreate, *, live: bool) -> dict[str, Any]:
    async with open_context(settings) as ctx, open_runtime(settings) as runtime:
        mission = await create_mission(ctx, data=data, actor=ACTOR)
        if live:
            console.print(f"[bold]{mission.title}[/bold]  [dim]{mission.id}[/dim]")
            console.print(f"planning with the {runtime.engine_label}…")
        plan = await plan_mission(ctx, mission_id=mission.id, actor=ACTOR, planner=runtime.planner)
        if live:
            console.print(f"plan v{plan.version} from {plan.source}: {len(plan.tasks)} tasks")
        run = await run_mission(ctx, mission_id=mission.id, actor=ACTOR, trigger="cli")
        final = await _execute(ctx, runtime, settings, run, plan, live=live)
        report = await write_run_report(ctx, run_id=run.id)
        artifacts = await read_artifacts(ctx, run_id=run.id)
        return {
            "mission": {"id": str(mission.id), "title": mission.title},
            "engine": runtime.engine_label,
            "plan": {"version": plan.version, "source": plan.source, "tasks": len(plan.tasks)},
            "run": json.loads(final.model_dump_json(exclude={"steps"})),
            "steps": [
                {"step": s.step_id, "status": s.status.value, "attempt": s.attempt}
                for s in final.steps
            ],
            "artifacts": [
                {"name": a.name, "kind": a.kind, "path": str(ctx.blobs.path(a.sha256))}
                for a in artifacts
            ],
            "report": [str(ctx.blobs.path(a.sha256)) for a in report],
        }


async def _execute(
    ctx: ServiceContext,
    runtime: Runtime,
    settings: Settings,
    run: RunRead,
    plan: PlanRead,
    *,
    live: bool,
) -> RunRead:
    """Run an engine here until the run ends, drawing its steps as they change."""
    engine = Engine(ctx, runtime.agents, config=EngineConfig.from_settings(settings.engine))
    stop = asyncio.Event()
    roles: dict[str, str] = {t.key: str(t.role) for t in plan.tasks}
    statuses = {s.step_id: (s.status.value, s.attempt) for s in run.steps}
    finished = {ev.RUN_COMPLETED, ev.RUN_FAILED, ev.RUN_CANCELED, ev.RUN_ABORTED}
    async with ctx.broadcaster.subscribe() as subscription:
        worker = asyncio.create_task(engine.run(stop))
        try:
            if run.status.value in _ENDED:
                return await read_run(ctx, run_id=run.id)
            display = Live(_table(statuses, roles), console=console) if live else None
            with display or contextlib.nullcontext():
                while True:
                    try:
                        async with asyncio.timeout(_RECHECK_S):
                            record = await subscription.get()
                    except TimeoutError:
                        # Another process may have ended the run (a cancel, the emergency
                        # stop): its events reach this process's subscribers only if they were
                        # written here, so look at the run itself now and then.
                        if (await read_run(ctx, run_id=run.id)).status.value in _ENDED:
                            break
                        continue
                    if record.run_id != run.id:
                        continue
                    if record.step_id and "status" in record.payload:
                        statuses[record.step_id] = (
                            str(record.payload["status"]),
                            int(record.payload.get("attempt", 1)),
                        )
                        if display is not None:
                            display.update(_table(statuses, roles))
                    if record.type in finished:
                        break
        finally:
            stop.set()
            await worker
    return await read_run(ctx, run_id=run.id)


def _table(statuses: dict[str, tuple[str, int]], roles: dict[str, str]) -> Table:
    done = sum(1 for status, _ in statuses.values() if status == "succeeded")
    table = Table(title=f"tasks {done}/{len(statuses)}", title_justify="left")
    for column in ("task", "role", "status", "attempt"):
        table.add_column(column)
    for step_id, (status, attempt) in statuses.items():
        style = _STATUS_STYLE.get(status, "")
        table.add_row(step_id, roles.get(step_id, ""), f"[{style}]{status}[/]", str(attempt))
    return table


def _print_outcome(outcome: dict[str, Any]) -> None:
    run_info = outcome["run"]
    colour = "green" if run_info["status"] == "completed" else "red"
    console.print(f"[{colour}]run {run_info['status']}[/{colour}]  [dim]{run_info['id']}[/dim]")
    if run_info.get("error"):
        console.print(f"[red]{run_info['error']}[/red]")
    console.print(
        f"tokens in/out {run_info['input_tokens']}/{run_info['output_tokens']}  "
        f"cost ${run_info['spent_usd']:.4f}  engine: {outcome['engine']}"
    )
    console.print(f"{len(outcome['artifacts'])} artifacts; report:")
    for path in outcome["report"]:
        console.print(f"  {path}")


__all__ = ["run"]

"""``missionctl run "GOAL"``: plan a goal, show the plan, execute it here with live progress."""

# The engine, the services and settings are imported inside the functions that use them, so
# `missionctl --help` does not load them; annotations naming them stay strings.
from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import (
    EXIT_INVALID,
    console,
    err_console,
    load_settings,
    mission_from_options,
    run_to_end,
)
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from missionctl.schemas.artifacts import ArtifactRead
    from missionctl.schemas.clarifications import ClarificationRead
    from missionctl.schemas.missions import MissionCreate, MissionRead
    from missionctl.schemas.plans import PlanRead
    from missionctl.services import ServiceContext
    from missionctl.settings import Settings

# Working on the local database directly is acting as the system itself (ADR 0010); a
# remote CLI (MISSIONCTL_URL) acts as its token instead.
ACTOR = "system"
_MAX_MODEL_CHARS = 200
T = TypeVar("T")


Goal = Annotated[str, typer.Argument(help="The software goal, in plain words.")]
Title = Annotated[str | None, typer.Option(help="Short name (derived if omitted).")]
Constraints = Annotated[
    list[str] | None,
    typer.Option("--constraint", "--constraints", "-c", help="A constraint; repeatable."),
]
RepoContext = Annotated[str, typer.Option(help="What exists already.")]
BudgetUsd = Annotated[
    Decimal | None,
    typer.Option(
        "--budget-usd",
        "--budget",
        help="Spending cap in USD: a plan estimated above it fails before any step runs, "
        "and spending that reaches it stops further steps.",
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        help="The model to plan and run with, instead of MISSIONCTL_LLM_MODEL (the endpoint "
        "and key still come from MISSIONCTL_LLM_BASE_URL and MISSIONCTL_LLM_API_KEY)."
    ),
]
Yes = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Run the plan without asking. Asked only when standard input is a terminal "
        "and the plan is shown (not with --json).",
    ),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the outcome as JSON (no plan, no live table).")
]


def run(
    goal: Goal,
    title: Title = None,
    constraint: Constraints = None,
    repo_context: RepoContext = "",
    budget_usd: BudgetUsd = None,
    model: Model = None,
    yes: Yes = False,
    as_json: AsJson = False,
) -> None:
    """Create a mission, plan it, show the plan, run it on an engine here, and write its report.

    Without a model (--model or MISSIONCTL_LLM_MODEL) this uses the local planner and the
    builtin specialists, offline: they write a specification for every task and build
    nothing. The live table shows each task's status, outcome (what it produced: documented,
    built, changed, no change, merged, ran, failed…), attempt, elapsed time, tokens and cost;
    the closing line says what the tasks produced, e.g. "run completed: 10 tasks documented,
    0 built: …". The report is written to MISSIONCTL_HOME/reports/<mission>/report.md
    and report.json; the run's web address is printed when a server is configured
    (MISSIONCTL_URL, else MISSIONCTL_SERVER_PUBLIC_URL) or one on this machine
    (MISSIONCTL_SERVER_PORT, `make run`'s) keeps the same data. Data: MISSIONCTL_HOME, else the
    nearest .missionctl here or above, else a new ./.missionctl. When the planner cannot plan
    the goal as written (it names nothing to plan, or the local planner meets a language other
    than English) it asks questions instead: they are printed with the command that answers
    them, and nothing runs. With a model, each phase and task of the plan is printed as soon as
    the model has written it (a draft; the plan shown after it is the plan). Exit code 0 when
    the run completed (or the plan was not run when asked), 1 when it did not complete (or the
    planner asked questions), 2 for invalid options.
    """
    data = mission_from_options(
        goal=goal,
        title=title,
        constraints=constraint,
        repo_context=repo_context,
        budget_usd=budget_usd,
    )
    settings = load_settings(create_home=True)
    if model is not None:
        settings = _with_model(settings, model)
    web = _web_address(settings)  # before any work: an invalid MISSIONCTL_URL exits 2 here
    # Asking needs someone to answer, and a plan to look at.
    ask = not yes and not as_json and sys.stdin.isatty()
    live = not as_json
    mission, planned, engine_label = run_to_end(_plan(settings, data, live=live))
    plan = _plan_or_stop(mission, planned, as_json=as_json)
    outcome: dict[str, Any] = {
        "mission": {"id": str(mission.id), "title": mission.title},
        "engine": engine_label,
        "plan": {"version": plan.version, "source": plan.source, "tasks": len(plan.tasks)},
        "run": None,
    }
    if ask and not _confirmed(mission, plan):
        return
    outcome |= run_to_end(_execute(settings, mission, plan, live=live, web=web))
    _report_outcome(outcome, as_json=as_json)


def _confirmed(mission: MissionRead, plan: PlanRead) -> bool:
    """Whether the person at the terminal wants the plan run (if not, says what is kept).

    Asked outside any event loop: there Ctrl-C ends the command at once. (Under asyncio.run
    it only cancels the main task, and the read of the terminal would go on waiting.)
    """
    if typer.confirm(f"Run these {len(plan.tasks)} tasks?", default=True):
        return True
    console.print(
        f"not run; the mission and its plan are kept: missionctl mission show {mission.id}",
        highlight=False,
    )
    return False


def _report_outcome(outcome: dict[str, Any], *, as_json: bool) -> None:
    """Print the outcome (as JSON, or for people); exit 1 unless the run completed."""
    if as_json:
        typer.echo(json.dumps(outcome, indent=2))
    else:
        _print_outcome(outcome)
    if outcome["run"]["status"] != "completed":
        raise typer.Exit(1)


def _web_address(settings: Settings) -> str | None:
    """The server's base URL people open: MISSIONCTL_URL, else the server's public URL."""
    from missionctl.cli.remote import load_remote_settings

    url = load_remote_settings().url or settings.server.public_url
    return url.rstrip("/") if url else None


def _with_model(settings: Settings, model: str) -> Settings:
    """``settings`` with ``model`` as the LLM model; an empty or overlong name exits 2."""
    model = model.strip()
    if not model or len(model) > _MAX_MODEL_CHARS:
        err_console.print(
            f"[red]error:[/red] --model: give a model name of 1-{_MAX_MODEL_CHARS} characters"
        )
        raise typer.Exit(EXIT_INVALID)
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": model})})


def _plan_or_stop(
    mission: MissionRead, planned: PlanRead | ClarificationRead, *, as_json: bool
) -> PlanRead:
    """The plan; or, when the planner asked questions instead (shown live), exit 1.

    With ``as_json`` the questions are printed as the outcome, with no plan and no run.
    """
    from missionctl.schemas.clarifications import ClarificationRead

    if not isinstance(planned, ClarificationRead):
        return planned
    if as_json:
        outcome = {
            "mission": {"id": str(mission.id), "title": mission.title},
            "status": planned.status.value,
            "reason": planned.reason,
            "questions": planned.questions,
            "plan": None,
            "run": None,
        }
        typer.echo(json.dumps(outcome, indent=2))
    raise typer.Exit(1)


async def _plan(
    settings: Settings, data: MissionCreate, *, live: bool
) -> tuple[MissionRead, PlanRead | ClarificationRead, str]:
    """Create the mission and plan it (shown when ``live``); with the planner's label.

    When ``live``, a model's draft is printed as it is written (``cli._drafts``).
    """
    from missionctl.services import open_context
    from missionctl.services.runtime.composition import open_runtime
    from missionctl.services.usecases.missions import create_mission
    from missionctl.services.usecases.plans import plan_mission

    async with open_context(settings) as ctx, open_runtime(settings) as runtime:
        mission = await create_mission(ctx, data=data, actor=ACTOR)
        if not live:
            plan = await plan_mission(
                ctx, mission_id=mission.id, actor=ACTOR, planner=runtime.planner
            )
            return mission, plan, runtime.engine_label
        console.print(f"[bold]{escape(mission.title)}[/bold]  [dim]{mission.id}[/dim]")
        console.print(f"planning with the {escape(runtime.engine_label)}…", highlight=False)
        async with _drafts_printed(ctx, mission.id):
            plan = await plan_mission(
                ctx, mission_id=mission.id, actor=ACTOR, planner=runtime.planner
            )
        print_planning_outcome(plan, mission.id)
        return mission, plan, runtime.engine_label


@asynccontextmanager
async def _drafts_printed(ctx: ServiceContext, mission_id: uuid.UUID) -> AsyncIterator[None]:
    """Around planning ``mission_id``: each draft printed as it comes, then those on their way."""
    import asyncio

    from missionctl.cli._drafts import END_WAIT_S, follow_drafts, print_draft
    from missionctl.services.usecases.dashboard import read_head_seq

    after = await read_head_seq(ctx)
    task = asyncio.create_task(
        follow_drafts(ctx, mission_id=mission_id, after_seq=after, printer=print_draft)
    )
    try:
        yield
        await asyncio.wait({task}, timeout=END_WAIT_S)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _execute(
    settings: Settings, mission: MissionRead, plan: PlanRead, *, live: bool, web: str | None
) -> dict[str, Any]:
    """Run the mission's plan on an engine here and write its report; the outcome's run part.

    The report is stored (artifacts) and copied to named files under the home
    (``reports/<mission slug>/``); ``report`` is None when those files cannot be written.
    ``url`` is the run's page under ``web``, else under the local server that keeps this
    database's record, if one answers (``cli._web_link``).
    """
    from missionctl.cli._live import execute_live
    from missionctl.cli._web_link import local_web_address
    from missionctl.engine.worker import Engine, EngineConfig
    from missionctl.services import open_context
    from missionctl.services.runtime.composition import open_runtime
    from missionctl.services.usecases.artifacts import read_artifacts
    from missionctl.services.usecases.health import log_origin
    from missionctl.services.usecases.plans import run_mission
    from missionctl.services.usecases.reports import write_run_report

    async with open_context(settings) as ctx, open_runtime(settings) as runtime:
        run = await run_mission(ctx, mission_id=mission.id, actor=ACTOR, trigger="cli")
        engine = Engine(ctx, runtime.agents, config=EngineConfig.from_settings(settings.engine))
        titles = {task.key: task.title for task in plan.tasks}
        final = await execute_live(ctx, engine, run, live=live, titles=titles)
        report = await write_run_report(ctx, run_id=run.id)
        artifacts = await read_artifacts(ctx, run_id=run.id)
        return {
            "run": json.loads(final.model_dump_json(exclude={"steps"})),
            "steps": [
                {
                    "step": s.step_id,
                    "status": s.status.value,
                    "outcome": s.outcome,
                    "attempt": s.attempt,
                }
                for s in final.steps
            ],
            "artifacts": [
                {"name": a.name, "kind": a.kind, "path": ctx.blobs.location(a.sha256)}
                for a in artifacts
            ],
            "report": _report_files(ctx, mission, report),
            "url": _run_page(web or local_web_address(settings, await log_origin(ctx)), run.id),
        }


def _run_page(base: str | None, run_id: object) -> str | None:
    return f"{base}/runs/{run_id}" if base else None


def _report_files(
    ctx: ServiceContext, mission: MissionRead, report: list[ArtifactRead]
) -> dict[str, str] | None:
    """Copy the stored report to its named files; their absolute paths, or None (warned)."""
    from missionctl.cli._report_files import write_report_files
    from missionctl.services.usecases.reports import REPORT_NAMES

    content = {a.name: ctx.blobs.read_bytes(a.sha256) for a in report}
    try:
        markdown, json_path = write_report_files(
            ctx.settings.home.absolute(),
            title=mission.title,
            mission_id=mission.id,
            markdown=content[REPORT_NAMES[0]],
            json_bytes=content[REPORT_NAMES[1]],
        )
    except OSError as exc:
        err_console.print(
            f"[yellow]warning:[/yellow] the report files could not be written "
            f"({escape(str(exc))}); the report is stored with the run's artifacts"
        )
        return None
    return {"markdown": str(markdown), "json": str(json_path)}


def print_planning_outcome(outcome: PlanRead | ClarificationRead, mission_id: object) -> None:
    """The plan (:func:`print_plan`), or the planner's questions and how to answer them."""
    from missionctl.schemas.clarifications import ClarificationRead

    if not isinstance(outcome, ClarificationRead):
        print_plan(outcome)
        return
    console.print(
        f"[yellow]the planner asks before it plans:[/yellow] {escape(outcome.reason)}",
        highlight=False,
    )
    for number, question in enumerate(outcome.questions, start=1):
        console.print(f"  {number}. {escape(question)}", highlight=False)
    slots = " ".join(f'"ANSWER {n}"' for n in range(1, len(outcome.questions) + 1))
    console.print(
        f"answer with: missionctl mission answer {mission_id} {slots}"
        + (' (an empty "" skips a question)' if len(outcome.questions) > 1 else ""),
        highlight=False,
        soft_wrap=True,  # one line, to be copied
    )


def print_plan(plan: PlanRead) -> None:
    """The plan as a person reviews it: summary, planner notes, tasks with their order, risks."""
    source = "local planner" if plan.source == "local" else f"model {plan.source}"
    console.print(
        f"plan v{plan.version} from the {escape(source)}: {len(plan.tasks)} tasks, "
        f"{len(plan.requirements)} requirements, {len(plan.risks)} risks",
        highlight=False,
    )
    console.print(escape(plan.summary), highlight=False)
    if plan.notes:  # what the planner repaired in a model's answer, or noticed
        console.print("planner notes:", highlight=False)
        for note in plan.notes:
            console.print(f"  - {escape(note)}", highlight=False)
    _print_requirements(plan)
    _print_clauses(plan)
    # Each task's key and title share a cell (the title beneath), so the table fits 80 columns
    # without cutting words: only that cell takes the width left, and a long key folds.
    tasks = Table(title="tasks", title_justify="left")
    tasks.add_column("task", ratio=1, overflow="fold")
    tasks.add_column("role", overflow="fold")
    tasks.add_column("depends on", overflow="fold")
    tasks.add_column("risk tier", overflow="fold")
    tasks.add_column("est. tokens", justify="right")
    for task in plan.tasks:
        tasks.add_row(
            f"[bold]{escape(task.key)}[/bold]\n{escape(task.title)}",
            task.role,
            escape(", ".join(task.depends_on)) or "-",
            task.risk_tier,
            f"{task.estimate_tokens:,}",
        )
    console.print(tasks)
    if plan.risks:
        risks = Table(title="risks", title_justify="left")
        for column in ("severity", "likelihood"):
            risks.add_column(column)
        for column in ("risk", "mitigation"):
            risks.add_column(column, ratio=1, overflow="fold")
        for risk in plan.risks:
            risks.add_row(
                risk.severity,
                risk.likelihood,
                escape(risk.title),
                escape(risk.mitigation),
            )
        console.print(risks)


def _print_requirements(plan: PlanRead) -> None:
    """The requirements under one heading per kind: features, then constraints, then qualities."""
    # Imported here, as the schemas are: the CLI starts without them.
    from missionctl.schemas.plans import REQUIREMENT_HEADINGS

    for kind, heading in REQUIREMENT_HEADINGS.items():
        of_kind = [r for r in plan.requirements if r.kind == kind]
        if of_kind:
            console.print(f"{heading.lower()}:", highlight=False)
        for requirement in of_kind:
            console.print(
                f"  {requirement.key} ({requirement.priority}) {escape(requirement.text)}",
                highlight=False,
            )


def _print_clauses(plan: PlanRead) -> None:
    """Whether the plan kept every clause of the goal; the clauses it did not, to clarify."""
    if not plan.clauses:
        return  # a version stored before clauses were checked
    left_out = [c for c in plan.clauses if not c.covered]
    if not left_out:
        console.print(
            f"Every clause of the goal is covered ({len(plan.clauses)} of {len(plan.clauses)}).",
            highlight=False,
        )
        return
    console.print(
        f"[yellow]Not understood: {len(left_out)} of {len(plan.clauses)} clauses of the goal are "
        "in no requirement.[/yellow] Say what each asks for (reword the goal or add a "
        "constraint), then plan again:",
        highlight=False,
    )
    for clause in left_out:
        console.print(f"  “{escape(clause.text)}” ({clause.kind})", highlight=False)


def _print_outcome(outcome: dict[str, Any]) -> None:
    run_info = outcome["run"]
    colour = "green" if run_info["status"] == "completed" else "red"
    # The status says the run ended; the headline says what its tasks produced (documents are
    # not software: an offline run's specialists write specifications).
    console.print(
        f"[{colour}]run {run_info['status']}:[/{colour}] {escape(run_info['headline'])}",
        highlight=False,
    )
    if run_info.get("error"):
        console.print(f"[red]{escape(run_info['error'])}[/red]", highlight=False)
    console.print(
        f"run [dim]{run_info['id']}[/dim]  "
        f"tokens in/out {run_info['input_tokens']}/{run_info['output_tokens']}  "
        f"cost {usd_text(run_info['spent_usd'])}  engine: {escape(outcome['engine'])}",
        highlight=False,
    )
    from missionctl.cli._closing import Closing, print_closing, shown_path

    report = outcome["report"]
    print_closing(
        Closing(
            artifacts=len(outcome["artifacts"]),
            report_markdown=shown_path(report["markdown"]) if report else None,
            report_json=shown_path(report["json"]) if report else None,
            url=outcome["url"],
        )
    )


__all__ = ["print_plan", "run"]

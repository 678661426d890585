"""``missionctl mission …``: create, list, show, plan and run missions, list their artifacts.

Plans have versions: ``plan`` adds one (optionally with changed constraints and repository
context), ``plans`` lists them, ``show-plan --version N`` shows one, ``plan-diff`` compares two.
A planner that cannot plan a mission as written asks questions instead; ``answer`` answers them
and plans with the answers.

With ``MISSIONCTL_URL`` and ``MISSIONCTL_TOKEN`` set, every command here goes through the
server's ``/api/v1/missions`` as ``token:NAME``; otherwise it works on the local database as
``system`` (``missionctl.cli._backend``). Both paths print the same output and exit codes.
"""

# Schemas, services and the engine are imported where used, so `missionctl --help` stays fast;
# annotations naming them stay strings.
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from missionctl.cli._ids import ID_CHARS, id_argument
from missionctl.cli._plan_version import MAX_PLAN_VERSION, plan_version_option
from missionctl.cli._runtime import (
    EXIT_INVALID,
    CodingOptions,
    console,
    err_console,
    mission_from_options,
    report_validation_error,
)
from missionctl.cli.artifacts import print_artifacts
from missionctl.cli.run import print_plan, print_planning_outcome
from missionctl.cli.runs import AsJson, Detach, print_outcome
from missionctl.domain.money import usd_text
from missionctl.domain.states import MissionStatus

if TYPE_CHECKING:
    from missionctl.schemas.clarifications import ClarificationAnswers, ClarificationRead
    from missionctl.schemas.diagrams import DiagramRead, PlanDiagramsRead
    from missionctl.schemas.missions import MissionRead, MissionRepositoryRead
    from missionctl.schemas.plans import PlanAgain, PlanDiffRead, PlanDiffSection, PlanRead
    from missionctl.schemas.tracemap import TraceMapRead

app = typer.Typer(
    help="Create, list, show, plan and run missions (on the server at MISSIONCTL_URL when it "
    "is set).",
    no_args_is_help=True,
)

MissionId = Annotated[uuid.UUID, id_argument("missions", "MISSION_ID", "The mission's id")]
# ``services.usecases.paging.MAX_PAGE_SIZE``, spelt out so that ``--help`` does not import the
# services (tests/cli/test_startup.py checks that the two agree).
MAX_PAGE_SIZE = 200
# ``--plan-version N`` of the commands that read one version of the plan (unset: the newest).
PlanVersionOpt = Annotated[int | None, plan_version_option()]
# Plan-again options → the field they set (a bad value is reported by its option).
_PLAN_AGAIN_OPTIONS = {"constraints": "--constraint", "repo_context": "--repo-context"}
_ANSWER_ARGUMENTS = {"answers": "ANSWER"}


def _print_mission(mission: MissionRead) -> None:
    budget = "uncapped" if mission.budget_usd is None else usd_text(mission.budget_usd)
    # Text users typed (possibly on another server) is escaped: Rich would read "[...]" as markup.
    console.print(f"[bold]{escape(mission.title)}[/bold]  [dim]{mission.id}[/dim]")
    console.print(f"status   {mission.status.value}")
    console.print(f"goal     {escape(mission.goal)}")
    if mission.constraints:
        console.print("constraints")
        for item in mission.constraints:
            console.print(f"  - {escape(item)}")
    if mission.repo_context:
        console.print(f"repo     {escape(mission.repo_context)}")
    if mission.repository:
        _print_repository(mission.repository)
    console.print(f"budget   {budget}   spent {usd_text(mission.spent_usd)}")
    console.print(
        f"created  {mission.created_at:%Y-%m-%d %H:%M:%S}Z by {escape(mission.created_by)}"
    )
    for round_ in mission.clarifications:
        console.print("asked    " + escape(round_.reason), highlight=False)
        for number, question in enumerate(round_.questions):
            answer = None if round_.answers is None else round_.answers[number]
            console.print(f"  {number + 1}. {escape(question)}", highlight=False)
            if answer is not None:
                console.print(f"     → {escape(answer) or '(not answered)'}", highlight=False)
    if mission.status.value == "needs_clarification":
        console.print(
            f"waiting for answers: missionctl mission answer {mission.id} ANSWER...",
            highlight=False,
        )


ModelEndpointOption = Annotated[
    str | None,
    typer.Option(
        "--model-endpoint",
        metavar="URL",
        help="The model endpoint the coding steps' CLI reaches (http or https base URL, no "
        "password in it); needs --model-secret and --coding-agent.",
        show_default=False,
    ),
]
ModelSecretOption = Annotated[
    str | None,
    typer.Option(
        "--model-secret",
        metavar="NAME",
        help="The NAME of the secret that holds the endpoint's key (the workers read "
        "MISSIONCTL_SECRET_<NAME>); never the key itself.",
        show_default=False,
    ),
]
ModelNameOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="NAME",
        help="The model the coding steps' CLI asks for (default: the CLI's own); needs "
        "--model-endpoint.",
        show_default=False,
    ),
]
TestCommandOption = Annotated[
    str | None,
    typer.Option(
        "--test-command",
        metavar="COMMAND",
        help="Run in each coding step's worktree after its CLI, one line split like a shell "
        'would ("python -m pytest -q"); the step counts as built only when it passes. '
        "Default: detected from the repository. Needs --coding-agent.",
        show_default=False,
    ),
]


def _check_coding_options(
    repository: str | None, coding_agent: str | None, coding: CodingOptions
) -> None:
    """Exit 2 naming the option when one is given without the options it needs."""
    needs = [
        (coding_agent is not None and repository is None, "--coding-agent needs --repository: "
         "name the repository its coding steps work on"),
        (coding.model_endpoint is not None and coding.model_secret is None, "--model-endpoint "
         "needs --model-secret NAME: the secret that holds the endpoint's key"),
        (coding.model_secret is not None and coding.model_endpoint is None, "--model-secret "
         "needs --model-endpoint URL: the endpoint the key is for"),
        (coding.model is not None and coding.model_endpoint is None, "--model needs "
         "--model-endpoint URL: the endpoint that serves it"),
        (coding != CodingOptions() and coding_agent is None, "--model-endpoint, --model-secret, "
         "--model, --test-command and --review are for coding steps: give --coding-agent too"),
    ]  # fmt: skip
    for missing, message in needs:
        if missing:
            err_console.print(f"[red]error:[/red] {escape(message)}")
            raise typer.Exit(EXIT_INVALID)


def _print_repository(repository: MissionRepositoryRead) -> None:
    """The repository line, and for a coding agent its model endpoint and test command."""
    agent = repository.agent or "no coding agent"
    console.print(
        f"code     {escape(repository.source)} @ {escape(repository.base)} ({escape(agent)})",
        highlight=False,
    )
    if repository.model is not None:
        named = f", model {repository.model.name}" if repository.model.name else ""
        console.print(
            f"model    {escape(repository.model.base_url)} (key: secret "
            f"{escape(repository.model.secret)}{escape(named)})",
            highlight=False,
        )
    if repository.agent is None:
        return
    from missionctl.domain.test_commands import NO_TEST_COMMAND, show_command

    note = f" ({repository.test_command_note})" if repository.test_command_note else ""
    if repository.test_command is None:
        console.print(f"tests    {escape(NO_TEST_COMMAND + note)}", highlight=False)
    else:
        line = show_command(repository.test_command)
        console.print(f"tests    {escape(line + note)}", highlight=False)
    if repository.review:
        console.print("review   each code task: build, tests, review, rework if asked, then merge")


@app.command()
def create(
    goal: Annotated[str, typer.Argument(help="The software goal, in plain words.")],
    title: Annotated[
        str | None, typer.Option(help="Short name (derived from the goal if omitted).")
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option("--constraint", "-c", help="A constraint; repeat for more."),
    ] = None,
    repo_context: Annotated[
        str, typer.Option(help="What exists already: repository, stack, conventions.")
    ] = "",
    budget_usd: Annotated[Decimal | None, typer.Option(help="Spending cap in US dollars.")] = None,
    repository: Annotated[
        str | None,
        typer.Option(
            help="The repository its coding steps work on: an absolute path on the machines "
            "that run steps, or a clone URL."
        ),
    ] = None,
    base: Annotated[
        str, typer.Option(help="The branch coding steps start from and merge back into.")
    ] = "main",
    coding_agent: Annotated[
        str | None,
        typer.Option(
            help="Run the plan's code tasks with this coding agent (coding:codex, "
            "coding:claude, coding:aider); needs --repository."
        ),
    ] = None,
    model_endpoint: ModelEndpointOption = None,
    model_secret: ModelSecretOption = None,
    model: ModelNameOption = None,
    test_command: TestCommandOption = None,
    review: Annotated[
        bool,
        typer.Option(
            "--review",
            help="The review loop: each code task is built, tested and reviewed (read-only; "
            "the verdict is shown on its merge's approval), and reworked when the reviewer "
            "requests changes, before its merge. Needs --coding-agent.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the mission as JSON.")] = False,
) -> None:
    """Create a mission (status draft).

    With --coding-agent and no --test-command, the test command is detected from the
    repository's base branch (pytest, npm test, cargo test, go test, mvn test, make test) and
    shown; a coding task counts as built only when it passes.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    coding = CodingOptions(model_endpoint, model_secret, model, test_command, review)
    _check_coding_options(repository, coding_agent, coding)
    data = mission_from_options(
        goal=goal,
        title=title,
        constraints=constraint,
        repo_context=repo_context,
        budget_usd=budget_usd,
        repository=repository,
        base=base,
        coding_agent=coding_agent,
        coding=coding,
    )
    with open_backend() as api:
        mission = api.call(ops.CREATE, body=data)
    if as_json:
        typer.echo(mission.model_dump_json(indent=2))
    else:
        console.print("[green]created[/green]")
        _print_mission(mission)


@app.command("list")
def list_missions(
    status: Annotated[
        MissionStatus | None, typer.Option(help="Only missions in this status.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in title or goal.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE_SIZE, help="Page size.")] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="`next_cursor` printed by the previous page.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    """List missions, newest first."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    # Built unchecked: the server checks the cursor and the text, and names the one at fault.
    query = ops.MissionQuery.model_construct(limit=limit, cursor=cursor, status=status, q=search)
    with open_backend() as api:
        page = api.call(ops.LIST, query=query)
    if as_json:
        typer.echo(page.model_dump_json(indent=2))
        return
    if not page.items:
        console.print('no missions yet — create one with: missionctl mission create "GOAL"')
        return
    table = Table(
        title=f"Missions ({page.total})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    # The whole id on a line of its own, at any width (every command takes it, or its first
    # digits); the title wraps beneath it.
    table.add_column("mission / title", min_width=ID_CHARS)
    for column in ("status", "budget", "created"):
        table.add_column(column)
    for mission in page.items:
        table.add_row(
            f"{mission.id}\n[dim]{escape(mission.title)}[/dim]",
            mission.status.value,
            "—" if mission.budget_usd is None else usd_text(mission.budget_usd),
            f"{mission.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
def show(mission_id: MissionId, as_json: AsJson = False) -> None:
    """Show one mission and a line about its newest plan (`mission show-plan` shows it all)."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    with open_backend() as api:
        mission = api.call(ops.READ, mission_id=mission_id)
        versions = api.call(ops.PLAN_VERSIONS, mission_id=mission_id)  # newest first
    if as_json:
        typer.echo(json.dumps(mission.model_dump(mode="json"), indent=2))
        return
    _print_mission(mission)
    if not versions:
        console.print("plan     none yet")
    else:
        newest = versions[0]
        source = "local planner" if newest.source == "local" else f"model {newest.source}"
        console.print(f"plan     v{newest.version} from the {escape(source)}, {newest.tasks} tasks")


def _plan_changes(constraints: list[str] | None, repo_context: str | None) -> PlanAgain | None:
    """What to change before planning again, or ``None``; a bad value names its option (exit 2)."""
    if constraints is None and repo_context is None:
        return None
    from pydantic import ValidationError

    from missionctl.schemas.plans import PlanAgain

    try:
        return PlanAgain(constraints=constraints, repo_context=repo_context)
    except ValidationError as exc:
        report_validation_error(exc, option_for=_PLAN_AGAIN_OPTIONS)
        raise  # unreachable: report_validation_error exits


@app.command()
def plan(
    mission_id: MissionId,
    constraint: Annotated[
        list[str] | None,
        typer.Option(
            "--constraint",
            "-c",
            help="A constraint; repeat for more. Replaces the mission's constraints before "
            "planning (default: keep them).",
        ),
    ] = None,
    repo_context: Annotated[
        str | None,
        typer.Option(
            help="What exists already: repository, stack, conventions. Replaces the mission's "
            "before planning (default: keep it).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Plan a mission (or plan it again): a new plan version, then `mission run` runs it.

    With --constraint or --repo-context the mission's context is changed first, so the new
    version is planned with it. Locally the planner the settings choose plans it
    (MISSIONCTL_LLM_*: a model, else the local planner); remotely the server's. When the
    planner cannot plan the mission as written (its goal names nothing to plan, the local
    planner meets a language other than English, or a model finds it too ambiguous to plan)
    it asks questions instead: they are printed with the `mission answer` command that
    answers them, and the exit code is 1. Exit 2 when an option is invalid, the mission cannot
    be planned now (e.g. it is running; nothing changes then) or the plan broke the rules
    (each reason is printed).

    While a model writes the plan, each phase and task is printed as soon as it is written (a
    draft; the plan printed after it is the plan). --json prints the outcome alone.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.cli._drafts import print_draft
    from missionctl.operations import missions as ops

    changes = _plan_changes(constraint, repo_context)
    with open_backend() as api, api.drafts_shown(mission_id, None if as_json else print_draft):
        planned = api.call(ops.PLAN_AGAIN, body=changes, mission_id=mission_id)
    _print_planned(planned, mission_id, as_json=as_json)


@app.command()
def answer(
    mission_id: MissionId,
    answers: Annotated[
        list[str],
        typer.Argument(
            metavar="ANSWER",
            help="One answer per question, in the questions' order (`mission show` lists "
            'them); "" skips a question.',
            show_default=False,
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Answer the planner's questions about a mission, and plan it with the answers.

    The answers reach the planner (the local planner reads them as the goal; a model reads
    them with it) each time the mission is planned. Prints the new plan, or the planner's next
    questions (exit 1) when the answers still leave it guessing. Exit 2 when the mission does
    not wait for answers (nothing changes then), no answer says anything, there are more
    answers than questions, or one is too long. A model's draft is printed as it is written,
    as for `mission plan`.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.cli._drafts import print_draft
    from missionctl.operations import missions as ops

    given = _answers(answers)
    with open_backend() as api, api.drafts_shown(mission_id, None if as_json else print_draft):
        planned = api.call(ops.ANSWER, body=given, mission_id=mission_id)
    _print_planned(planned, mission_id, as_json=as_json)


def _answers(answers: list[str]) -> ClarificationAnswers:
    """The answers as the contract takes them; a bad one names ANSWER (exit 2)."""
    from pydantic import ValidationError

    from missionctl.schemas.clarifications import ClarificationAnswers

    try:
        return ClarificationAnswers(answers=answers)
    except ValidationError as exc:
        report_validation_error(exc, option_for=_ANSWER_ARGUMENTS)
        raise  # unreachable: report_validation_error exits


def _print_planned(
    planned: PlanRead | ClarificationRead, mission_id: uuid.UUID, *, as_json: bool
) -> None:
    """The new plan and how to run it; or the planner's questions, then exit 1."""
    from missionctl.schemas.clarifications import ClarificationRead

    asked = isinstance(planned, ClarificationRead)
    if as_json:
        typer.echo(planned.model_dump_json(indent=2))
    else:
        print_planning_outcome(planned, mission_id)
        if not asked:
            console.print(f"run it with: missionctl mission run {mission_id}", highlight=False)
    if asked:
        raise typer.Exit(1)


@app.command("show-plan")
def show_plan(
    mission_id: MissionId,
    version: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_PLAN_VERSION, help="Which plan version (default: the newest)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show the whole of a mission's plan.

    Its summary, requirements, tasks (order, role, risk tier) and risks, as `mission plan`
    prints them; then its phases, each task's description, acceptance criteria and expected
    artifacts, its decisions with their reasons and trade-offs, and its next steps, highest
    priority first.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.cli._plan_details import print_plan_details
    from missionctl.operations import missions as ops

    with open_backend() as api:
        if version is None:
            found = api.call(ops.PLAN, mission_id=mission_id)
        else:
            found = api.call(ops.PLAN_VERSION, mission_id=mission_id, version=version)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    print_plan(found)
    print_plan_details(found)


@app.command()
def plans(mission_id: MissionId, as_json: AsJson = False) -> None:
    """List a mission's plan versions, newest first, with what each holds."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    with open_backend() as api:
        versions = api.call(ops.PLAN_VERSIONS, mission_id=mission_id)
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in versions], indent=2))
        return
    if not versions:
        console.print(
            f"mission {mission_id} has no plan yet — plan it with: "
            f"missionctl mission plan {mission_id}",
            highlight=False,
        )
        return
    table = Table(title=f"Plan versions ({len(versions)})", title_justify="left", box=box.SIMPLE)
    table.add_column("v", justify="right", no_wrap=True)
    table.add_column("planned", no_wrap=True)
    table.add_column("from", overflow="fold")
    table.add_column("holds", ratio=1, overflow="fold")
    for item in versions:
        source = "local planner" if item.source == "local" else f"model {item.source}"
        table.add_row(
            str(item.version),
            f"{item.created_at:%Y-%m-%d %H:%M}",
            escape(source),
            f"{item.tasks} tasks, {item.requirements} requirements, {item.risks} risks, "
            f"{item.decisions} decisions",
        )
    console.print(table)
    if len(versions) > 1:
        newest, previous = versions[0].version, versions[1].version
        console.print(
            f"compare with: missionctl mission plan-diff {mission_id} {newest} --base {previous}",
            highlight=False,
            soft_wrap=True,  # one line, to be copied
        )


PlanVersion = Annotated[
    int,
    typer.Argument(
        min=1, max=MAX_PLAN_VERSION, metavar="VERSION", help="The plan version to look at."
    ),
]


@app.command("plan-diff")
def plan_diff(
    mission_id: MissionId,
    version: PlanVersion,
    base: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_PLAN_VERSION,
            help="The version to compare it with (default: the one before VERSION).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Compare two plan versions: what changed from --base to VERSION.

    Prints whether the summary changed, and the tasks, requirements, risks and decisions
    added (+), removed (-) and changed (~, with the fields that differ). Exit 1 naming the
    version that does not exist.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    if base is None and version == 1:
        err_console.print(
            "[red]error:[/red] --base: version 1 has no version before it; give the version to "
            "compare it with (e.g. --base 2)",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    with open_backend() as api:
        query = ops.DiffQuery(base=base or version - 1)
        diff = api.call(ops.COMPARE, query=query, mission_id=mission_id, version=version)
    if as_json:
        typer.echo(diff.model_dump_json(indent=2))
    else:
        _print_diff(diff)


def _print_diff(diff: PlanDiffRead) -> None:
    """Each section's changes, one item a line (long ones wrap at the terminal's width)."""
    heading = f"plan v{diff.target} compared with v{diff.base}"
    if diff.same:
        console.print(f"{heading}: the same plan", highlight=False)
        return
    summary = "changed" if diff.summary_changed else "the same"
    console.print(heading, highlight=False)
    console.print(f"summary  {summary}", highlight=False)
    for section in diff.sections:
        _print_section(section)


def _print_section(section: PlanDiffSection) -> None:
    if not (section.added or section.removed or section.changed):
        console.print(f"{section.name}  the same", highlight=False)
        return
    # One row per item, its text folded under itself (not under the sign) at 80 columns.
    rows = Table.grid(padding=(0, 1))
    rows.add_column(width=1)
    rows.add_column(no_wrap=True)
    rows.add_column(ratio=1, overflow="fold")
    for item in section.added:
        rows.add_row("", "[green]+[/green]", _item_text(item.key, item.label))
    for item in section.removed:
        rows.add_row("", "[red]-[/red]", _item_text(item.key, item.label))
    for change in section.changed:
        fields = escape(", ".join(change.fields))
        rows.add_row("", "[yellow]~[/yellow]", _item_text(change.key, change.label, fields))
    console.print(f"[bold]{section.name}[/bold]", highlight=False)
    console.print(rows, highlight=False)


def _item_text(key: str, label: str, fields: str = "") -> str:
    """``key (fields): label``, as Rich markup with the user's text escaped.

    The key identifies the item; the label (a title, a text) says what it is, unless it is the
    key itself; ``fields`` are a changed item's differing fields (already escaped).
    """
    named = f"[bold]{escape(key)}[/bold]" + (f" [dim]({fields})[/dim]" if fields else "")
    return named if key == label else f"{named}: {escape(label)}"


@app.command("run")
def run_mission(mission_id: MissionId, detach: Detach = False, as_json: AsJson = False) -> None:
    """Run the mission's newest plan and follow it until it ends.

    Locally an engine in this process runs it (as `missionctl run` does); remotely the
    server's engine does and this reads it until it ends. It ends as `missionctl run` does:
    the artifacts' count, the report (files under MISSIONCTL_HOME/reports/<mission>/ when
    local; the commands that download it from a server) and the run's web address (the
    server's; locally, a server on this machine that keeps the same data). Exit 0 when the
    run completed, 1 when it did not (or no such mission), 2 when the mission has no plan yet
    or cannot run in its state; with --detach, 0 once the run is started.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.cli._closing import closing_of, print_closing
    from missionctl.operations import missions as ops

    with open_backend() as api:
        started = api.call(ops.RUN, mission_id=mission_id)
        if not as_json:
            console.print(f"run of mission {mission_id}  [dim]{started.id}[/dim]", highlight=False)
        final = started if detach else api.follow(started, live=not as_json)
        closing = None
        if not (as_json or detach):
            title = api.call(ops.READ, mission_id=mission_id).title
            closing = closing_of(api, final, title=title)
    if as_json:
        typer.echo(final.model_dump_json(indent=2))
    else:
        print_outcome(final, detached=detach)
    if closing is not None:
        print_closing(closing)
    if not detach and final.status.value != "completed":
        raise typer.Exit(1)


@app.command()
def artifacts(mission_id: MissionId, as_json: AsJson = False) -> None:
    """List every artifact of every run of a mission (reports included), oldest first."""
    from missionctl.cli._backend import open_backend
    from missionctl.operations import artifacts as ops

    with open_backend() as api:
        found = api.call(ops.MISSION_ARTIFACTS, mission_id=mission_id)
    print_artifacts(found, as_json=as_json, title=f"Artifacts of mission {mission_id}")


@app.command()
def trace(
    mission_id: MissionId,
    plan_version: PlanVersionOpt = None,
    as_json: AsJson = False,
) -> None:
    """Show a mission's traceability: its gaps, the goal's clauses, then each requirement.

    Each clause of the goal (a feature or constraint as the user wrote it) is listed with the
    requirements that keep it; each requirement with the tasks tracing it. A gap is a clause no
    requirement or acceptance criterion keeps, a requirement no task traces, a task that
    traces nothing, a task that succeeded without an artifact, or a high or critical risk
    without a mitigation task.
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    query = ops.TraceQuery(plan_version=plan_version)
    with open_backend() as api:
        found = api.call(ops.TRACE, query=query, mission_id=mission_id)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    else:
        print_trace(found)


@app.command()
def diagrams(
    mission_id: MissionId,
    plan_version: PlanVersionOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            file_okay=False,
            help="Write architecture.svg, deployment.svg and product_flow.svg into this directory.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show the architecture, deployment and product flow of what a mission's plan builds.

    The product flow is the journey of the software's user, a step per box, drawn from the
    mission's own words. Without options, each diagram's columns, components (with the plan
    tasks that build them), connections and notes; with -o DIR, the three diagrams as SVG files
    (architecture.svg, deployment.svg, product_flow.svg; DIR is created if missing).
    """
    from missionctl.cli._backend import open_backend
    from missionctl.operations import missions as ops

    query = ops.PlanVersionQuery(plan_version=plan_version)
    with open_backend() as api:
        found = api.call(ops.DIAGRAMS, query=query, mission_id=mission_id)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
    elif out is not None:
        write_diagrams(found, out)
    else:
        print_diagrams(found)


def _each_diagram(found: PlanDiagramsRead) -> tuple[DiagramRead, ...]:
    return (found.architecture, found.deployment, found.product_flow)


def write_diagrams(found: PlanDiagramsRead, out: Path) -> None:
    """Write each diagram of ``found`` into ``out`` as ``<name>.svg`` and say where."""
    from missionctl.domain.diagram_svg import render_svg
    from missionctl.schemas.diagrams import diagram_from_read

    out.mkdir(parents=True, exist_ok=True)
    for diagram in _each_diagram(found):
        path = out / f"{diagram.name}.svg"
        svg = render_svg(diagram_from_read(diagram), element_id=diagram.name)
        path.write_text(svg, encoding="utf-8")
        console.print(f"Wrote {escape(str(path))}")


def print_diagrams(found: PlanDiagramsRead) -> None:
    """Each diagram as text: its notes, its components column by column, its connections."""
    drawer = "the local rules" if found.source == "local" else f"the model {found.source}"
    console.print(f"Diagrams of plan v{found.plan_version}, drawn by {escape(drawer)}")
    for note in found.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    for diagram in _each_diagram(found):
        table = Table(title=diagram.title, box=box.SIMPLE, title_justify="left")
        for column in ("Column", "Component", "Technology", "Built by"):
            table.add_column(column)
        in_columns = sorted(diagram.components, key=lambda c: diagram.groups.index(c.group))
        for c in in_columns:
            table.add_row(
                escape(c.group), escape(c.label), escape(c.technology), escape(", ".join(c.tasks))
            )
        for note in diagram.notes:
            console.print(f"[yellow]{escape(note)}[/yellow]")
        console.print(table)
        labels = {c.key: c.label for c in diagram.components}
        for link in diagram.connections:
            what = f" ({link.label})" if link.label else ""
            console.print(
                f"  {escape(labels[link.source])} → {escape(labels[link.target])}{escape(what)}"
            )


def print_trace_clauses(found: TraceMapRead) -> None:
    """Each clause of the goal with the keys of what keeps it (nothing for an older plan)."""
    clauses = [n for n in found.nodes if n.kind == "clause"]
    if not clauses:
        return
    kept: dict[str, list[str]] = {}
    for edge in found.edges:
        if edge.kind == "covers":
            kept.setdefault(edge.source, []).append(edge.target.partition(":")[2])
    console.print(f"Goal clauses kept: {len(kept)} of {len(clauses)}")
    for node in clauses:
        by = kept.get(node.id)
        mark = "✓" if by else "[red]![/red]"
        where = f"kept by {', '.join(by)}" if by else "kept by nothing"
        console.print(f"  {mark} “{escape(node.label)}” ({escape(node.detail)}): {escape(where)}")


def print_trace(found: TraceMapRead) -> None:
    """The gaps, then one table row per requirement: its tasks, their status and artifacts."""
    labels = {n.id: n.label for n in found.nodes}
    console.print(f"Traceability of plan v{found.plan_version} · {found.runs} run(s)")
    for gap in found.gaps:
        console.print(f"[red]! {escape(gap.kind)}[/red] {escape(labels.get(gap.item, gap.item))}")
        console.print(f"  {escape(gap.message)}")
    if not found.gaps:
        console.print("No gaps.")
    print_trace_clauses(found)
    produced: dict[str, list[str]] = {}
    traced: dict[str, list[str]] = {}
    for edge in found.edges:
        if edge.kind == "produced":
            produced.setdefault(edge.source, []).append(labels.get(edge.target, edge.target))
        elif edge.kind == "traces" and edge.source.startswith("requirement:"):
            traced.setdefault(edge.source, []).append(edge.target)
    status = {n.id: n.status for n in found.nodes}
    table = Table(box=box.SIMPLE)
    for column in ("Requirement", "Task", "Status", "Artifacts"):
        table.add_column(column)
    for node in (n for n in found.nodes if n.kind == "requirement"):
        tasks = traced.get(node.id) or [""]
        for n, task in enumerate(tasks):
            table.add_row(
                escape(f"{node.key} {node.label}") if n == 0 else "",
                escape(labels.get(task, "(none)")),
                escape(status.get(task, "")),
                escape(", ".join(produced.get(task, []))),
            )
    console.print(table)

"""``missionctl analytics …``: the product's own activity, its anomalies and the insights on it.

Funnel, trends and retention (ADR 0068); anomalies (ADR 0069); insights and the executive
summary (ADR 0070); orchestration's clean runs, time to bootstrap (ADR 0116), duplicated
edits and groundwork first (ADR 0117).

On the local database, or on the server at ``MISSIONCTL_URL`` as ``MISSIONCTL_TOKEN``
(``GET /api/v1/analytics/…``, ADR 0068). ``rebuild`` works on the local database only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from missionctl.cli._runtime import EXIT_INVALID, console, err_console, load_settings
from missionctl.domain.money import usd_text

if TYPE_CHECKING:
    from pydantic import BaseModel

    from missionctl.operations import Operation, Out
    from missionctl.schemas.analytics import AnomalyItem
    from missionctl.schemas.orchestration import OrchestrationAnswer


app = typer.Typer(
    help="The product's own activity: funnel, trends, retention, anomalies, insights, and how "
    "well orchestration goes by itself (UTC).",
    no_args_is_help=True,
)

Since = Annotated[
    str | None, typer.Option("--since", help="First UTC day, YYYY-MM-DD (default: 30 days).")
]
Until = Annotated[
    str | None, typer.Option("--until", help="Last UTC day, YYYY-MM-DD (default: today).")
]
SegmentOption = Annotated[
    str | None,
    typer.Option("--segment", help="role:NAME, workflow:NAME or planner:local|model."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


def _read(op: Operation[Out], query: BaseModel | None = None) -> Out:
    """``op``'s answer; the query is checked by the server, which names a field at fault."""
    from missionctl.cli._backend import open_backend

    with open_backend() as api:
        return api.call(op, query=query)


def _emit(answer: BaseModel, table: Table, as_json: bool) -> None:
    if as_json:
        typer.echo(answer.model_dump_json())
    else:
        console.print(table)


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@app.command()
def trends(
    since: Since = None,
    until: Until = None,
    segment: SegmentOption = None,
    grain: Annotated[Literal["day", "week"], typer.Option("--grain")] = "day",
    as_json: AsJson = False,
) -> None:
    """Active people, missions, runs, success rate, cost, tokens and durations per bucket."""
    from missionctl.operations import analytics as ops

    query = ops.TrendsQuery.model_construct(since=since, until=until, segment=segment, grain=grain)
    answer = _read(ops.TRENDS, query)
    table = Table(title=f"Trends by {grain} (UTC)")
    for column in ("bucket", "active", "missions", "runs", "success", "cost", "tokens", "p50 s"):
        table.add_column(column)
    for i in answer.items:
        table.add_row(
            i.bucket,
            str(i.active_users),
            str(i.missions_created),
            str(i.runs_started),
            _number(i.success_rate),
            usd_text(i.cost_usd),
            str(i.tokens),
            _number(i.duration_p50_s, 1),
        )
    _emit(answer, table, as_json)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@app.command()
def orchestration(
    since: Since = None,
    until: Until = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="workflow:NAME (default: every workflow).")
    ] = None,
    grain: Annotated[Literal["day", "week"], typer.Option("--grain")] = "week",
    as_json: AsJson = False,
) -> None:
    """Clean runs, time to bootstrap, duplicated edits and groundwork first.

    A run needed a fix-up when a person retried one of its steps, someone reran it or it is
    itself a rerun, or a merge in it was rejected. Time to bootstrap: hours from a mission's
    creation to its first run's start. Duplicated edits: lines of coding steps' diffs that an
    earlier coding step of the mission had changed. Groundwork first: implementation tasks
    whose PRD, task list and required mini-spec came before their work. Per bucket, then per
    workflow.
    """
    from missionctl.operations import analytics as ops

    query = ops.OrchestrationQuery.model_construct(
        since=since, until=until, segment=segment, grain=grain
    )
    answer = _read(ops.ORCHESTRATION, query)
    table = Table(title=f"Orchestration by {grain} (UTC)")
    for column in ("bucket", "ended", "clean", "share", "missions", "started", "p50 h", "p90 h"):
        table.add_column(column)
    for runs, starts in zip(answer.clean_runs_by_bucket, answer.bootstrap_by_bucket, strict=True):
        table.add_row(
            runs.label,
            str(runs.ended),
            str(runs.clean),
            _share(runs.share),
            str(starts.missions),
            str(starts.bootstrapped),
            _number(starts.median_hours, 1),
            _number(starts.p90_hours, 1),
        )
    if as_json:
        typer.echo(answer.model_dump_json())
        return
    console.print(table)
    workflows = Table(title="Clean runs by workflow")
    for column in ("workflow", "ended", "clean", "share", "retried", "rerun", "merge rejected"):
        workflows.add_column(column)
    for item in answer.clean_runs_by_workflow:
        fixes = item.fixes
        workflows.add_row(
            escape(item.workflow),
            str(item.ended),
            str(item.clean),
            _share(item.share),
            *(str(fixes.get(kind, 0)) for kind in ("retried", "rerun", "merge_rejected")),
        )
    console.print(workflows)
    console.print(_work_table(answer))
    console.print(_work_by_workflow(answer))


def _work_table(answer: OrchestrationAnswer) -> Table:
    """Duplicated edits and groundwork first per bucket."""
    table = Table(title=f"Edits and groundwork by {answer.meta.grain} (UTC)")
    columns = ("bucket", "coding steps", "lines", "duplicated", "share", "tasks", "prepared")
    for column in (*columns, "share"):
        table.add_column(column)
    for edits, work in zip(
        answer.duplicated_edits_by_bucket, answer.groundwork_by_bucket, strict=True
    ):
        table.add_row(
            edits.label,
            str(edits.steps),
            str(edits.lines),
            str(edits.duplicated),
            _share(edits.share),
            str(work.started),
            str(work.prepared),
            _share(work.share),
        )
    return table


def _work_by_workflow(answer: OrchestrationAnswer) -> Table:
    """Duplicated edits and groundwork first per workflow (either, where it has it)."""
    table = Table(title="Edits and groundwork by workflow")
    columns = ("workflow", "lines", "duplicated", "share", "tasks", "prepared", "share")
    for column in (*columns, "lacking PRD", "task list", "spec"):
        table.add_column(column)
    edits = {item.workflow: item for item in answer.duplicated_edits_by_workflow}
    work = {item.workflow: item for item in answer.groundwork_by_workflow}
    for name in sorted(edits.keys() | work.keys()):
        e, w = edits.get(name), work.get(name)
        missing = w.missing if w else {}
        table.add_row(
            escape(name),
            *(("-", "-", "-") if e is None else (str(e.lines), str(e.duplicated), _share(e.share))),
            *(("-", "-", "-") if w is None else (str(w.started), str(w.prepared), _share(w.share))),
            *(str(missing.get(kind, "-")) for kind in ("prd", "task_list", "spec")),
        )
    return table


@app.command()
def funnel(
    since: Since = None,
    until: Until = None,
    segment: SegmentOption = None,
    grain: Annotated[Literal["day", "week"], typer.Option("--grain")] = "week",
    steps: Annotated[
        str | None,
        typer.Option(
            "--steps",
            help="Only these steps, comma-separated, in the funnel's order from signed_in "
            "(e.g. signed_in,ran,completed).",
            show_default=False,
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The activation funnel per cohort of first sign-in."""
    from missionctl.operations import analytics as ops

    query = ops.FunnelQuery.model_construct(
        since=since, until=until, segment=segment, grain=grain, steps=steps
    )
    answer = _read(ops.FUNNEL, query)
    table = Table(title=f"Activation funnel by {grain} of first sign-in (UTC)")
    table.add_column("cohort")
    for step in answer.items[0].steps if answer.items else []:
        table.add_column(escape(step.label))
    for item in answer.items:
        mark = "" if item.complete else " *"
        table.add_row(item.cohort + mark, *(str(step.users) for step in item.steps))
    _emit(answer, table, as_json)


@app.command()
def retention(
    since: Since = None,
    until: Until = None,
    segment: SegmentOption = None,
    grain: Annotated[Literal["day", "week"], typer.Option("--grain")] = "week",
    as_json: AsJson = False,
) -> None:
    """Cohorts by first mission, and who came back after.

    By ISO week, weeks 1-8 (* a week not over: people so far); with --grain day, by UTC day,
    on days 1, 7 and 30 (- a day not over yet: not known). The last row is each column over the
    cohorts known so far, weighted by their people.
    """
    from missionctl.operations import analytics as ops

    query = ops.RetentionQuery.model_construct(
        since=since, until=until, segment=segment, grain=grain
    )
    answer = _read(ops.RETENTION, query)
    daily = grain == "day"
    title = "Daily" if daily else "Weekly"
    table = Table(title=f"{title} retention by first mission (UTC)")
    table.add_column("cohort")
    table.add_column("people")
    for column in answer.summary:
        table.add_column(f"{'d' if daily else 'w'}{column.offset}")
    for item in answer.items:
        cells = (
            ["-" if c.users is None else str(c.users) for c in item.days]
            if daily
            else [f"{c.users}{'' if c.complete else '*'}" for c in item.weeks]
        )
        table.add_row(item.cohort, str(item.users), *cells)
    shares = ["-" if c.share is None else f"{c.share:.0%}" for c in answer.summary]
    table.add_row("all known", "", *shares)
    _emit(answer, table, as_json)


_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _anomaly_table(items: list[AnomalyItem], title: str) -> Table:
    table = Table(title=title)
    for column in ("severity", "metric", "change", "windows", "explanation"):
        table.add_column(column)
    for item in items:
        change = "-" if item.change_pct is None else f"{item.change_pct:+.0f}%"
        windows = (
            f"{item.current_window.since}…{item.current_window.until} vs "
            f"{item.baseline_window.since}…{item.baseline_window.until}"
        )
        style = _SEVERITY_STYLE.get(item.severity, "")
        table.add_row(
            f"[{style}]{item.severity}[/{style}]",
            escape(item.label),
            change,
            windows,
            escape(f"{item.explanation} Impact: {item.impact}."),
        )
    return table


@app.command()
def anomalies(
    since: Since = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="The day judged, YYYY-MM-DD (default: yesterday, UTC)."),
    ] = None,
    segment: SegmentOption = None,
    as_json: AsJson = False,
) -> None:
    """Metrics that moved past their thresholds, most severe first (schemas/analytics.yaml)."""
    from missionctl.operations import analytics as ops

    query = ops.RangeQuery.model_construct(since=since, until=until, segment=segment)
    answer = _read(ops.ANOMALIES, query)
    title = f"Anomalies as of {answer.meta.range.until} (UTC)"
    if not answer.items and not as_json:
        console.print(f"{title}: nothing moved past its thresholds")
        return
    _emit(answer, _anomaly_table(answer.items, title), as_json)


@app.command()
def notify(as_json: AsJson = False) -> None:
    """Run one pass of the anomaly notifier now (local database only); print what it sent.

    Each anomaly as of yesterday not announced before is appended once as
    analytics.anomaly_detected, which webhooks subscribed to it deliver.
    """
    import asyncio

    from missionctl.cli.remote import connect
    from missionctl.services import open_context
    from missionctl.services.usecases.anomalies import notify_anomalies

    if connect() is not None:
        err_console.print("[red]error:[/red] notify works on the local database; run it there")
        raise typer.Exit(EXIT_INVALID)

    async def go() -> list[AnomalyItem]:
        async with open_context(load_settings()) as ctx:
            return await notify_anomalies(ctx)

    sent = asyncio.run(go())
    if as_json:
        typer.echo(json.dumps([item.model_dump(mode="json") for item in sent]))
    elif sent:
        console.print(
            _anomaly_table(sent, f"Sent {len(sent)} anomal{'y' if len(sent) == 1 else 'ies'}")
        )
    else:
        console.print("nothing new to send")


@app.command()
def insights(
    since: Since = None, until: Until = None, segment: SegmentOption = None, as_json: AsJson = False
) -> None:
    """An executive summary and what changed, why it matters, what to do and what to ask.

    Against the equally long range just before; written by the configured model, or by the
    deterministic writer (the header says which, and why).
    """
    from missionctl.operations import analytics as ops

    query = ops.RangeQuery.model_construct(since=since, until=until, segment=segment)
    answer = _read(ops.INSIGHTS, query)
    if as_json:
        typer.echo(answer.model_dump_json())
        return
    window = f"{answer.meta.range.since} to {answer.meta.range.until} (UTC)"
    writer = f"the model {answer.model}" if answer.source == "model" else "the deterministic writer"
    note = f": {answer.fallback_reason}" if answer.fallback_reason else ""
    console.print(f"[bold]Insights, {window}[/bold], written by {escape(writer)}{escape(note)}")
    console.print(escape(answer.summary))
    for title, sentences in (
        ("What changed", answer.sections.what_changed),
        ("Why it matters", answer.sections.why_it_matters),
        ("Suggested actions", answer.sections.suggested_actions),
        ("Questions to investigate", answer.sections.questions_to_investigate),
    ):
        console.print(f"\n[bold]{title}[/bold]")
        for sentence in sentences:
            console.print(f"- {escape(sentence)}")


@app.command()
def definitions(as_json: AsJson = False) -> None:
    """What each metric means: label, unit, definition and the events it is computed from."""
    from missionctl.operations import analytics as ops

    answer = _read(ops.DEFINITIONS)
    table = Table(title="Metric definitions")
    for column in ("metric", "unit", "definition"):
        table.add_column(column)
    for item in answer.items:
        table.add_row(item.key, item.unit, escape(item.definition))
    _emit(answer, table, as_json)


@app.command()
def rebuild() -> None:
    """Empty the analytics facts and fold the whole event log again (local database only).

    Needed after the test-user patterns change; the facts follow the log on their own
    otherwise.
    """
    import asyncio

    from missionctl.cli.remote import connect
    from missionctl.services import open_context
    from missionctl.services.usecases import analytics

    if connect() is not None:
        err_console.print("[red]error:[/red] rebuild works on the local database; run it there")
        raise typer.Exit(EXIT_INVALID)

    async def go() -> int:
        async with open_context(load_settings()) as ctx:
            return await analytics.rebuild(ctx)

    console.print(f"analytics facts rebuilt up to event {asyncio.run(go())}")

"""Run reports: one document that says what a run did, produced, learned and cost.

``build_run_report`` reads a run (with its mission, plan, steps and artifacts, each step's
attempts and the tail of its log) into a ``RunReport``; ``render_report_markdown`` turns that
into Markdown (pure); ``write_run_report`` stores both as the run's ``report.md`` and
``report.json`` artifacts, once per run outcome (``report-2.md`` … for a later outcome: names
are unique within a run).
"""

import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import (
    Artifact,
    Event,
    Mission,
    Plan,
    Run,
    StepRun,
    Workflow,
)
from missionctl.db.types import utcnow
from missionctl.documents.export import to_pdf
from missionctl.domain.events import REPORT_DOWNLOADED, STEP_LOG
from missionctl.domain.money import usd_text
from missionctl.domain.outcomes import (
    BUILD_HINT,
    OUTCOME_LABELS,
    OUTCOMES,
    Outcome,
    run_outcomes,
    step_outcome,
)
from missionctl.domain.plans import next_step_rank
from missionctl.domain.replay import UNFOLDED_TYPES, replay_run_events
from missionctl.domain.states import ENDED_RUN_STATUSES
from missionctl.errors import Conflict, NotFound
from missionctl.eventlog import NewEvent, append
from missionctl.llm.redaction import redact
from missionctl.repositories import artifacts as artifact_repo
from missionctl.repositories import events as event_repo
from missionctl.repositories import missions as mission_repo
from missionctl.repositories import plans as plan_repo
from missionctl.repositories import runs as run_repo
from missionctl.repositories import workflows as workflow_repo
from missionctl.repositories.plans import PlanItems
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.plans import REQUIREMENT_HEADINGS
from missionctl.schemas.reports import (
    REPORT_LOG_LINE_CHARS,
    REPORT_LOG_LINES,
    ReportArtifact,
    ReportDecision,
    ReportLogLine,
    ReportMission,
    ReportNextStep,
    ReportOutcome,
    ReportPlan,
    ReportRequirement,
    ReportRisk,
    ReportTask,
    ReportTotals,
    ReportUsage,
    ReportWorkflow,
    RunReport,
)
from missionctl.schemas.runs import AttemptRead
from missionctl.services.runtime.context import ServiceContext
from missionctl.services.usecases.artifacts import (
    NewArtifact,
    add_artifacts,
    put_blobs,
    to_artifact_read,
)
from missionctl.services.usecases.attempts import attempt_reads
from missionctl.services.usecases.money import micros_to_usd

ENDED_STATUSES = ("completed", "failed", "aborted", "canceled")
REPORT_KIND = "report"
REPORT_NAMES = ("report.md", "report.json")
T = TypeVar("T")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    """Items of a step output list, strings read as ``{"text": …}``; anything else ignored."""
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            yield item
        elif isinstance(item, str) and item.strip():
            yield {"text": item, "title": item}


def _unique(items: list[T], key: Callable[[T], str]) -> list[T]:
    """``items`` without later duplicates (case-insensitive ``key``), in order."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if (k := " ".join(key(item).lower().split())) not in seen:
            seen.add(k)
            kept.append(item)
    return kept


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class StepFacts(Protocol):
    """What an outcome is derived from: a stored step run or its read model alike."""

    @property
    def step_id(self) -> str: ...
    @property
    def agent(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def outputs(self) -> dict[str, Any]: ...


def outcome_of(step: StepFacts) -> Outcome | None:
    """The step's outcome: the one stored with it when it has one, else derived from its facts.

    Runs recorded before outcomes were stored have none, so the derivation
    (``domain.outcomes.step_outcome``) reads their agent, status and outputs.
    """
    stored = getattr(step, "outcome", None)
    if isinstance(stored, str) and stored in OUTCOMES:
        return stored
    return step_outcome(step.agent, str(step.status), step.outputs)


def run_outcome_facts(
    steps: Iterable[StepFacts], *, from_plan: bool, ended: bool = False
) -> tuple[dict[str, int], str]:
    """A run's outcome counts (strongest first) and its headline, from its steps' outcomes.

    ``from_plan``: the run's workflow was compiled from a plan, so it is counted by task (a
    task's merge step is part of it); otherwise by step (``domain.outcomes.run_outcomes``).
    ``ended``: the run has ended.
    """
    counts, sentence = run_outcomes(
        ((s.step_id, s.agent, outcome_of(s)) for s in steps), from_plan=from_plan, ended=ended
    )
    return dict(counts.items()), sentence


SPECIFICATIONS_NOT_CODE: Final = (
    f"Builtin specialists wrote specifications, not code: {BUILD_HINT}."
)
"""The first next step of a run whose builtin specialists documented and nothing was built."""
_OUTCOME_SOURCE: Final = "outcomes"


def _outcome_next_steps(steps: list[StepRun], outcomes: dict[str, int]) -> list[ReportNextStep]:
    """What the outcomes themselves say to do next: build, when specialists only wrote specs."""
    specified = any(
        s.agent.partition(":")[0] == "builtin" and outcome_of(s) == "documented" for s in steps
    )
    if not specified or outcomes.get("built") or outcomes.get("changed"):
        return []
    return [ReportNextStep(text=SPECIFICATIONS_NOT_CODE, priority="high", source=_OUTCOME_SOURCE)]


async def build_run_report(
    ctx: ServiceContext, *, run_id: uuid.UUID, log_tails: bool = True
) -> RunReport:
    """Everything about a run in one ``RunReport`` (works for runs without a mission).

    Tasks come in workflow order; risks and next steps are the plan's followed by those the
    steps reported, without duplicates (same title / text); artifacts exclude run reports.
    ``log_tails=False`` leaves each task's log tail empty, for a reader that shows none (the
    mission page, whose live stream reads the report at every change: a run of 200 steps that
    logged would cost 200 more reads each time).

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    records = await _read_records(ctx, run_id, log_tails=log_tails)
    run, workflow, mission, plan = records.run, records.workflow, records.mission, records.plan
    steps = _in_workflow_order(records.steps, workflow.definition)
    tasks = [_task(step, records) for step in steps]
    items = records.plan_items
    counts, sentence = run_outcome_facts(
        steps, from_plan=workflow.plan_id is not None, ended=run.status in ENDED_RUN_STATUSES
    )
    risks = plan_risk_items(items.risks if items else []) + _step_risks(steps)
    next_steps = [
        *_outcome_next_steps(steps, counts),
        *plan_next_step_items(items.next_steps if items else []),
        *_step_next_steps(steps),
    ]
    duration = _seconds(run.started_at, run.ended_at)
    return RunReport(
        run_id=run.id,
        headline=sentence,
        workflow=ReportWorkflow(id=workflow.id, name=workflow.name, version=workflow.version),
        mission=ReportMission(id=mission.id, title=mission.title, goal=mission.goal)
        if mission
        else None,
        plan=ReportPlan(id=plan.id, version=plan.version, source=plan.source, summary=plan.summary)
        if plan
        else None,
        outcome=_outcome(run, steps, duration, counts),
        tasks=tasks,
        requirements=_requirements(plan, items),
        artifacts=records.artifacts,
        risks=_unique(risks, lambda r: r.title),
        next_steps=ranked_next_steps(_unique(next_steps, lambda n: n.text)),
        decisions=plan_decision_items(items.decisions if items else []),
        usage=_usage(steps),
        totals=ReportTotals(
            tasks=len(tasks),
            tasks_succeeded=sum(1 for t in tasks if t.status == "succeeded"),
            artifacts=len(records.artifacts),
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=micros_to_usd(run.spent_micros),
            duration_s=duration,
        ),
        generated_at=utcnow(),
    )


@dataclass(frozen=True)
class _Records:
    """What a report reads of a run, in one snapshot."""

    run: Run
    workflow: Workflow
    mission: Mission | None
    plan: Plan | None
    steps: list[StepRun]
    artifacts: list[ReportArtifact]
    plan_items: PlanItems | None
    attempts: dict[str, list[AttemptRead]]
    logs: dict[str, "_LogTail"]


async def _read_records(ctx: ServiceContext, run_id: uuid.UUID, *, log_tails: bool) -> _Records:
    """The run with its workflow, mission, plan (and its items), steps and artifacts.

    Each step's attempts come from the one fold of the run's events (``domain.replay``, as the
    replay and the step page rebuild them), read without the log and model-input events it never
    looks at; its log tail from its newest ``step.log`` events alone (``_log_tails``). So a step
    that logged 100,000 lines costs the report one count and ``REPORT_LOG_LINES`` events.

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    async with ctx.read() as session:
        run = await run_repo.read_run(session, run_id=run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        workflow = await workflow_repo.read_workflow(session, workflow_id=run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        mission = (
            await mission_repo.read_mission(session, mission_id=run.mission_id)
            if run.mission_id
            else None
        )
        plan = (
            await plan_repo.read_plan_by_id(session, plan_id=workflow.plan_id)
            if workflow.plan_id
            else None
        )
        steps = await run_repo.read_step_runs(session, run_id=run_id)
        rows = await artifact_repo.read_run_artifacts(session, run_id=run_id)
        items = await session.run_sync(plan_repo.read_plan_items, plan_id=plan.id) if plan else None
        events = await event_repo.read_run_events(session, run_id=run_id, excluding=UNFOLDED_TYPES)
        logs = await _log_tails(session, run_id) if log_tails else {}
    step_ids = {s.id: s.step_id for s in steps}
    artifacts = [_artifact(a, step_ids) for a in rows if not a.meta.get("report")]
    folded = replay_run_events(events).steps
    attempts = {step_id: attempt_reads(step) for step_id, step in folded.items()}
    return _Records(run, workflow, mission, plan, steps, artifacts, items, attempts, logs)


@dataclass(frozen=True)
class _LogTail:
    """A step's last log lines, oldest first, and how many earlier lines they leave out."""

    lines: list[ReportLogLine]
    omitted: int


async def _log_tails(session: AsyncSession, run_id: uuid.UUID) -> dict[str, _LogTail]:
    """The last ``REPORT_LOG_LINES`` lines of each step that logged, by step id.

    The database counts every step's lines; only each step's newest ``REPORT_LOG_LINES``
    ``step.log`` events are read. The engine writes an event per batch of at least one line,
    so those hold the tail.
    """
    tails: dict[str, _LogTail] = {}
    for step_id, total in (await event_repo.count_log_lines(session, run_id=run_id)).items():
        if total == 0:
            continue
        rows, _ = await event_repo.read_step_events(
            session, run_id=run_id, step_id=step_id, type_=STEP_LOG, limit=REPORT_LOG_LINES
        )
        # Cut before converting: a batch can hold thousands of lines, each redacted below.
        newest = [(row, line) for row in rows for line in _lines_of(row)][-REPORT_LOG_LINES:]
        kept = [_log_line(row, line) for row, line in newest]
        tails[step_id] = _LogTail(kept, max(0, total - len(kept)))
    return tails


def _lines_of(event: Event) -> list[dict[str, Any]]:
    """The lines of a ``step.log`` event (anything but an object in its list is no line)."""
    lines = event.payload.get("lines")
    return [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []


def _log_line(event: Event, line: dict[str, Any]) -> ReportLogLine:
    """One logged line as the report keeps it: redacted, then cut (a cut leaves no secret half)."""
    message = redact(str(line.get("message", "")))
    if len(message) > REPORT_LOG_LINE_CHARS:
        message = message[: REPORT_LOG_LINE_CHARS - 1] + "…"
    return ReportLogLine(
        attempt=int(event.payload.get("attempt", 0)),
        ts=event.ts,
        level=redact(str(line.get("level", "info"))),
        message=message,
    )


def _requirements(plan: Plan | None, items: PlanItems | None) -> list[ReportRequirement]:
    """The plan's requirements, each with the keys of the plan's tasks that trace it."""
    if plan is None or items is None:
        return []
    tracing: dict[str, list[str]] = {}
    for task in _dicts(plan.tasks):
        for key in task.get("traces") or []:
            tracing.setdefault(str(key), []).append(str(task.get("key")))
    return [
        ReportRequirement(
            key=r.key, text=r.text, priority=r.priority, kind=r.kind, tasks=tracing.get(r.key, [])
        )
        for r in items.requirements
    ]


def _artifact(artifact: Artifact, step_ids: dict[uuid.UUID, str]) -> ReportArtifact:
    """An artifact as the report lists it, with the id of the step that produced it."""
    return ReportArtifact(
        id=artifact.id,
        name=artifact.name,
        kind=artifact.kind,
        media_type=artifact.media_type,
        size=artifact.size,
        sha256=artifact.sha256,
        step_id=step_ids.get(artifact.step_run_id) if artifact.step_run_id else None,
    )


def _in_workflow_order(steps: list[StepRun], definition: dict[str, Any]) -> list[StepRun]:
    """``steps`` in the order the workflow defines them (steps it does not name last)."""
    order = {s.get("id"): n for n, s in enumerate(definition.get("steps", []))}
    return sorted(steps, key=lambda s: order.get(s.step_id, len(order)))


def _task(step: StepRun, records: _Records) -> ReportTask:
    """One step of the run as a report task: the documents it produced, attempts, log tail."""
    log = records.logs.get(step.step_id, _LogTail([], 0))
    return ReportTask(
        step_id=step.step_id,
        title=str(step.inputs.get("title") or step.step_id),
        role=_text(step.inputs.get("role")),
        agent=step.agent,
        status=step.status,
        outcome=outcome_of(step),
        attempt=step.attempt,
        risk_tier=step.risk_tier,
        duration_s=_seconds(step.started_at, step.ended_at),
        input_tokens=step.input_tokens,
        output_tokens=step.output_tokens,
        cost_usd=micros_to_usd(step.cost_micros),
        summary=_text(step.outputs.get("summary")),
        documents=[a.name for a in records.artifacts if a.step_id == step.step_id],
        error=step.error,
        attempts=records.attempts.get(step.step_id, []),
        log_tail=log.lines,
        log_lines_omitted=log.omitted,
    )


def _step_risks(steps: Iterable[StepRun]) -> list[ReportRisk]:
    """The risks the steps reported in their outputs (those with a title)."""
    return [
        ReportRisk(
            title=title,
            severity=_text(item.get("severity")),
            likelihood=_text(item.get("likelihood")),
            mitigation=_text(item.get("mitigation")) or "",
            source=step.step_id,
        )
        for step in steps
        for item in _dicts(step.outputs.get("risks"))
        if (title := _text(item.get("title")))
    ]


def _step_next_steps(steps: Iterable[StepRun]) -> list[ReportNextStep]:
    """The next steps the steps reported in their outputs (those with a text)."""
    return [
        ReportNextStep(text=text, priority=_text(item.get("priority")), source=step.step_id)
        for step in steps
        for item in _dicts(step.outputs.get("next_steps"))
        if (text := _text(item.get("text")))
    ]


def _outcome(
    run: Run, steps: Iterable[StepRun], duration: float | None, by_outcome: dict[str, int]
) -> ReportOutcome:
    return ReportOutcome(
        status=run.status,
        error=run.error,
        trigger=run.trigger,
        created_at=run.created_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        duration_s=duration,
        steps_by_status=dict(Counter(s.status for s in steps)),
        tasks_by_outcome=by_outcome,
    )


@dataclass
class _Usage:
    """What one agent's steps used: a running sum that adds each step to itself."""

    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0

    def add(self, step: StepRun) -> None:
        self.steps += 1
        self.input_tokens += step.input_tokens
        self.output_tokens += step.output_tokens
        self.cost_micros += step.cost_micros


def _usage(steps: Iterable[StepRun]) -> list[ReportUsage]:
    """Steps, tokens and cost per agent, by agent name."""
    by_agent: dict[str, _Usage] = {}
    for step in steps:
        by_agent.setdefault(step.agent, _Usage()).add(step)
    return [
        ReportUsage(
            agent=agent,
            steps=usage.steps,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=micros_to_usd(usage.cost_micros),
        )
        for agent, usage in sorted(by_agent.items())
    ]


def plan_risk_items(risks: Iterable[Any]) -> list[ReportRisk]:
    """A plan's risks (stored rows or ``PlanRisk``) as report items sourced from the plan."""
    return [
        ReportRisk(
            title=r.title,
            severity=r.severity,
            likelihood=r.likelihood,
            mitigation=r.mitigation,
            source="plan",
        )
        for r in risks
    ]


def plan_next_step_items(next_steps: Iterable[Any]) -> list[ReportNextStep]:
    """A plan's next steps as report items sourced from the plan."""
    return [ReportNextStep(text=n.text, priority=n.priority, source="plan") for n in next_steps]


def plan_decision_items(decisions: Iterable[Any]) -> list[ReportDecision]:
    """A plan's decisions as report items."""
    return [
        ReportDecision(
            title=d.title,
            choice=d.choice,
            reasons=d.reasons,
            trade_offs=d.trade_offs,
            alternatives=d.alternatives,
        )
        for d in decisions
    ]


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|") or "—"


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    if not rows:
        return ["_None._", ""]
    lines = [f"| {' | '.join(headers)} |", f"|{'|'.join('---' for _ in headers)}|"]
    return [*lines, *(f"| {' | '.join(_cell(v) for v in row)} |" for row in rows), ""]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KiB"


def ranked_next_steps(next_steps: list[ReportNextStep]) -> list[ReportNextStep]:
    """``next_steps`` high priority first, then medium (or none), then low; stable within each.

    What the outcomes say to do (building, when nothing was built) comes first of all.
    """
    return sorted(
        next_steps,
        key=lambda n: (n.source != _OUTCOME_SOURCE, next_step_rank(n.priority)),
    )


def outcome_breakdown(by_outcome: dict[str, int]) -> str:
    """``9 documented, 2 failed``: the outcome counts in words, strongest first."""
    known = [o for o in OUTCOMES if by_outcome.get(o)]
    return ", ".join(f"{by_outcome[o]} {OUTCOME_LABELS[o]}" for o in known) or "no task ended"


def _not_ended(report: RunReport) -> str:
    waiting = sum(1 for t in report.tasks if t.outcome is None)
    return f"; {waiting} not ended" if waiting else ""


def render_report_markdown(report: RunReport) -> str:
    """The report as Markdown: its sections from Outcome to Usage.

    Outcome, Tasks, Attempts and logs (only for tasks that were retried, failed or logged),
    Requirements (features, constraints and qualities apart), Artifacts, Risks, Decisions,
    Next steps, Usage and cost.

    A decision shows its choice, then its reasons, trade-offs and alternatives (as in JSON).

    Next steps are listed high priority first (stable within a priority). Pure: the same report
    always renders to the same text.
    """
    lines = [
        *_outcome_section(report),
        *_tasks_section(report),
        *_attempts_and_logs_section(report),
        *_requirements_section(report),
        "## Artifacts",
        "",
        *_table(
            ["Name", "Kind", "Size", "Step"],
            [[a.name, a.kind, _size(a.size), a.step_id or "—"] for a in report.artifacts],
        ),
        "## Risks",
        "",
        *_table(
            ["Risk", "Severity", "Likelihood", "Mitigation", "Source"],
            [
                [r.title, r.severity or "—", r.likelihood or "—", r.mitigation, r.source]
                for r in report.risks
            ],
        ),
        *_decisions_section(report),
        *_next_steps_section(report),
        *_usage_section(report),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _outcome_section(report: RunReport) -> list[str]:
    title = report.mission.title if report.mission else report.workflow.name
    outcome = report.outcome
    lines = [
        f"# Run report — {title}",
        "",
        f"**{report.headline}.**" if report.headline else "",
        "",
        f"_Run `{report.run_id}` of workflow “{report.workflow.name}” v{report.workflow.version};"
        f" generated {report.generated_at:%Y-%m-%d %H:%M} UTC._",
        "",
        "## Outcome",
        "",
        f"- **Status:** {outcome.status} ({outcome_breakdown(outcome.tasks_by_outcome)}"
        f"{_not_ended(report)})",
        f"- **Trigger:** {outcome.trigger} · **Duration:** {_duration(outcome.duration_s)}",
    ]
    if report.mission:
        lines.append(f"- **Goal:** {report.mission.goal}")
    if report.plan:
        engine = (
            "the local planner (no model)"
            if report.plan.source == "local"
            else f"the model {report.plan.source}"
        )
        lines.append(f"- **Plan:** version {report.plan.version} from {engine}")
    if outcome.error:
        lines.append(f"- **Error:** {outcome.error}")
    return [*lines, ""]


def _tasks_section(report: RunReport) -> list[str]:
    lines = ["## Tasks", ""]
    lines += _table(
        ["#", "Step", "Title", "Role", "Outcome", "Attempt", "Duration", "Tokens in / out", "Cost"],
        [
            [n, f"`{t.step_id}`", t.title, t.role or t.agent, _outcome_word(t), t.attempt,
             _duration(t.duration_s), f"{t.input_tokens} / {t.output_tokens}", usd_text(t.cost_usd)]
            for n, t in enumerate(report.tasks, 1)
        ],
    )  # fmt: skip
    failures = [f"- `{t.step_id}`: {t.error}" for t in report.tasks if t.error]
    if failures:
        lines += ["Failures:", "", *failures, ""]
    return lines


def _attempts_and_logs_section(report: RunReport) -> list[str]:
    """Per task that was retried, failed or logged: its attempts, then its last log lines.

    The attempts are listed when there was more than one or one ended with an error: a single
    clean attempt says nothing the Tasks table does not.
    """
    lines: list[str] = []
    for task in report.tasks:
        telling = len(task.attempts) > 1 or any(a.error for a in task.attempts)
        attempts = _attempt_lines(task.attempts) if telling else []
        log = _log_block(task)
        if attempts or log:
            lines += [f"### `{task.step_id}` — {_flat(task.title)}", "", *attempts, *log]
    return ["## Attempts and logs", "", *lines] if lines else []


def _flat(text: str) -> str:
    """``text`` on one line: a newline in it would end the list item or heading it is in."""
    return " ".join(text.split())


def _attempt_lines(attempts: list[AttemptRead]) -> list[str]:
    """``Attempts:`` and one list item per attempt: outcome, duration, start, error."""
    items = []
    for a in attempts:
        took = "—" if a.duration_ms is None else _duration(a.duration_ms / 1000)
        item = f"- **Attempt {a.attempt}:** {a.outcome or 'running'} · {took}"
        item += f" · started {a.started_at:%Y-%m-%d %H:%M:%S} UTC"
        items.append(item + (f" — {_flat(a.error)}" if a.error else ""))
    return ["Attempts:", "", *items, ""]


_BACKTICKS = re.compile(r"`+")


def _log_block(task: ReportTask) -> list[str]:
    """The task's log tail as a fenced block, headed by how many lines it shows and leaves out.

    The fence is longer than any run of backticks in the lines (at least three), so no line can
    close it: whatever the log holds (Markdown, HTML, fences) stays text in the block.
    """
    if not task.log_tail:
        return []
    # A message's own line breaks are shown, not taken: one logged line is one line of the block.
    body = [
        f"{line.ts:%H:%M:%S} {_flat(line.level)} {' ↵ '.join(line.message.splitlines())}"
        for line in task.log_tail
    ]
    longest = max((len(run) for line in body for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    shown = len(body)
    heading = f"Last {shown} log line{'s' if shown != 1 else ''}"
    if task.log_lines_omitted:
        left = task.log_lines_omitted
        heading += f" ({left} earlier line{'s' if left != 1 else ''} left out)"
    return [f"{heading}:", "", f"{fence}text", *body, fence, ""]


def _requirements_section(report: RunReport) -> list[str]:
    """The plan's requirements, features apart from the constraints every task honours."""
    if not report.requirements:
        return []
    lines = ["## Requirements", ""]
    for kind, heading in REQUIREMENT_HEADINGS.items():
        rows: list[list[object]] = [
            [r.key, r.priority, r.text, ", ".join(r.tasks) or "—"]
            for r in report.requirements
            if r.kind == kind
        ]
        if rows:
            lines += [
                f"### {heading}",
                "",
                *_table(["Key", "Priority", "Requirement", "Tasks"], rows),
            ]
    return lines


def _outcome_word(task: ReportTask) -> str:
    """The task's outcome in words; a task that has not ended shows its status."""
    if task.outcome in OUTCOME_LABELS:
        return OUTCOME_LABELS[cast(Outcome, task.outcome)]
    return task.status


def _decisions_section(report: RunReport) -> list[str]:
    lines = ["## Decisions", ""]
    for d in report.decisions:
        lines.append(f"- **{d.title}:** {d.choice}")
        if d.reasons:
            lines.append(f"  - Reasons: {'; '.join(d.reasons)}")
        if d.trade_offs:
            lines.append(f"  - Trade-offs: {'; '.join(d.trade_offs)}")
        if d.alternatives:
            lines.append(f"  - Alternatives: {'; '.join(d.alternatives)}")
    return lines + ([] if report.decisions else ["_None recorded._"])


def _next_steps_section(report: RunReport) -> list[str]:
    ranked = ranked_next_steps(report.next_steps)
    lines = ["", "## Next steps", ""]
    lines += [f"- [{n.priority or 'medium'}] {n.text} _({n.source})_" for n in ranked]
    return lines + ([] if ranked else ["_None._"])


def _usage_section(report: RunReport) -> list[str]:
    totals = report.totals
    rows: list[list[object]] = [
        [u.agent, u.steps, u.input_tokens, u.output_tokens, usd_text(u.cost_usd)]
        for u in report.usage
    ]
    rows.append(["**Total**", totals.tasks, totals.input_tokens, totals.output_tokens,
                 usd_text(totals.cost_usd)])  # fmt: skip
    headers = ["Agent", "Steps", "Input tokens", "Output tokens", "Cost (USD)"]
    return ["", "## Usage and cost", "", *_table(headers, rows)]


def _report_key(status: str, ended_at: datetime | None) -> dict[str, Any]:
    """What a report describes: the run's outcome. A new outcome (a retried run) gets a new one."""
    ended = ended_at.isoformat() if ended_at else None
    return {"report": True, "run_status": status, "run_ended_at": ended}


async def _existing_reports(session: AsyncSession, run: Run) -> list[ArtifactRead]:
    rows = await artifact_repo.read_run_artifacts(session, run_id=run.id, kind=REPORT_KIND)
    key = _report_key(run.status, run.ended_at)
    found = [a for a in rows if all(a.meta.get(k) == v for k, v in key.items())]
    return [to_artifact_read(a, None) for a in found]


async def write_run_report(ctx: ServiceContext, *, run_id: uuid.UUID) -> list[ArtifactRead]:
    """Store the run's report as ``report.md`` and ``report.json`` artifacts, once.

    Artifact names are unique within a run, so the report of a later outcome (the run was
    resumed and ended again) is ``report-2.md`` / ``report-2.json``, and so on.

    Both are stored in the blob store, then their ``Artifact`` rows (kind ``report``,
    ``step_run_id`` None, meta ``{"report": true, …}``) and one ``artifact.created`` event each
    (actor ``system``) are written in one transaction. Idempotent: when the run already has
    reports for its current outcome (status and end time), those are returned and nothing is
    written; a run that was retried and ended again gets fresh ones.

    Returns:
        The two artifacts, ``report.md`` first.

    Raises:
        NotFound: no such run (``field="run_id"``).
        Conflict: the run has not ended yet (``field="run_id"``).
    """
    async with ctx.read() as session:
        run = await run_repo.read_run(session, run_id=run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        if run.status not in ENDED_STATUSES:
            raise Conflict(
                f"run {run_id} is {run.status}; its report is written once it has ended",
                field="run_id",
            )
        existing = await _existing_reports(session, run)
    if existing:
        return existing
    report = await build_run_report(ctx, run_id=run_id)
    key = _report_key(report.outcome.status, report.outcome.ended_at)
    new = [
        NewArtifact(REPORT_NAMES[0], REPORT_KIND, "text/markdown", _markdown(report), key),
        NewArtifact(REPORT_NAMES[1], REPORT_KIND, "application/json", _json(report), key),
    ]
    blobs = await put_blobs(ctx, new)
    async with ctx.write() as session:
        run = await session.get(Run, run_id, with_for_update=True)
        assert run is not None  # runs are never deleted
        existing = await _existing_reports(session, run)  # a concurrent writer may have won
        if existing:
            return existing
        if _report_key(run.status, run.ended_at) != key:
            raise Conflict(
                f"run {run_id} changed while its report was being written; try again",
                field="run_id",
            )
        return await add_artifacts(
            session,
            stored=list(zip(new, blobs, strict=True)),
            run_id=run.id,
            mission_id=run.mission_id,
        )


UNREPORTED_LOOKBACK = timedelta(days=1)


async def unreported_runs(
    ctx: ServiceContext, *, ended_before: datetime, limit: int = 100
) -> list[uuid.UUID]:
    """Runs that ended before ``ended_before`` with no report of their outcome, oldest first.

    The engine that ends a run writes its report just after, in the background
    (``engine.hooks``): an engine killed in between leaves the run without one, and another
    engine's sweep finds it here. Runs created more than ``UNREPORTED_LOOKBACK`` ago are not
    looked at (the read stays on the index of creation times); at most ``limit`` are returned.
    """
    async with ctx.read() as session:
        return await run_repo.read_unreported_runs(
            session,
            statuses=ENDED_STATUSES,
            kind=REPORT_KIND,
            created_after=utcnow() - UNREPORTED_LOOKBACK,
            ended_before=ended_before,
            limit=limit,
        )


def render_report_pdf(report: RunReport) -> bytes:
    """The report as an A4 PDF of selectable text, opening with the same headline.

    The Markdown rendering, drawn by the documents' export (``documents.export.to_pdf``).
    """
    title = report.mission.title if report.mission else report.workflow.name
    return to_pdf(f"Run report — {title}", render_report_markdown(report))


def _markdown(report: RunReport) -> bytes:
    return render_report_markdown(report).encode("utf-8")


def _json(report: RunReport) -> bytes:
    return report.model_dump_json(indent=2).encode("utf-8")


__all__ = [
    "build_run_report",
    "render_report_markdown",
    "render_report_pdf",
    "unreported_runs",
    "write_run_report",
]


async def record_download(
    ctx: ServiceContext, *, report: RunReport, actor: str, format: str
) -> None:
    """Append ``report.downloaded`` for ``actor`` fetching ``report`` as a file (ADR 0068).

    The payload names the format only: the report's content is in its artifacts already.
    """
    mission_id = report.mission.id if report.mission is not None else None
    async with ctx.write() as session:
        await append(
            session,
            [
                NewEvent(
                    type=REPORT_DOWNLOADED,
                    actor=actor,
                    run_id=report.run_id,
                    mission_id=mission_id,
                    payload={"format": format},
                )
            ],
        )

"""Run reports: one document that says what a run did, produced, learned and cost.

``build_run_report`` reads a run (with its mission, plan, steps and artifacts) into a
``RunReport``; ``render_report_markdown`` turns that into Markdown (pure); ``write_run_report``
stores both as the run's ``report.md`` and ``report.json`` artifacts, once per run outcome
(``report-2.md`` … for a later outcome: names are unique within a run).
"""

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from missionctl.db.models import Artifact, Decision, Mission, NextStep, Plan, Risk, Run, Workflow
from missionctl.db.types import utcnow
from missionctl.errors import Conflict, NotFound
from missionctl.repositories import runs as run_repo
from missionctl.schemas.artifacts import ArtifactRead
from missionctl.schemas.reports import (
    ReportArtifact,
    ReportDecision,
    ReportMission,
    ReportNextStep,
    ReportOutcome,
    ReportPlan,
    ReportRisk,
    ReportTask,
    ReportTotals,
    ReportUsage,
    ReportWorkflow,
    RunReport,
)
from missionctl.services.artifacts import NewArtifact, add_artifacts, put_blobs, to_artifact_read
from missionctl.services.context import ServiceContext
from missionctl.services.money import micros_to_usd

ENDED_STATUSES = ("completed", "failed", "aborted", "canceled")
REPORT_KIND = "report"
REPORT_NAMES = ("report.md", "report.json")
T = TypeVar("T")


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


async def _rows(session: AsyncSession, model: Any, plan_id: uuid.UUID) -> list[Any]:
    query = select(model).where(model.plan_id == plan_id).order_by(model.id)
    return list((await session.scalars(query)).all())


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


async def build_run_report(ctx: ServiceContext, *, run_id: uuid.UUID) -> RunReport:
    """Everything about a run in one ``RunReport`` (works for runs without a mission).

    Tasks come in workflow order; risks and next steps are the plan's followed by those the
    steps reported, without duplicates (same title / text); artifacts exclude run reports.

    Raises:
        NotFound: no such run (``field="run_id"``).
    """
    async with ctx.read() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise NotFound(f"no run with id {run_id}", field="run_id")
        workflow = await session.get(Workflow, run.workflow_id)
        assert workflow is not None  # runs keep a foreign key to their workflow
        mission = await session.get(Mission, run.mission_id) if run.mission_id else None
        plan = await session.get(Plan, workflow.plan_id) if workflow.plan_id else None
        steps = await run_repo.read_step_runs(session, run_id=run_id)
        rows = (
            await session.execute(
                select(Artifact).where(Artifact.run_id == run_id).order_by(Artifact.id)
            )
        ).scalars()
        step_ids = {s.id: s.step_id for s in steps}
        artifacts = [
            ReportArtifact(
                id=a.id,
                name=a.name,
                kind=a.kind,
                media_type=a.media_type,
                size=a.size,
                sha256=a.sha256,
                step_id=step_ids.get(a.step_run_id) if a.step_run_id else None,
            )
            for a in rows
            if not a.meta.get("report")
        ]
        plan_risks = await _rows(session, Risk, plan.id) if plan else []
        plan_decisions = await _rows(session, Decision, plan.id) if plan else []
        plan_next = await _rows(session, NextStep, plan.id) if plan else []

    order = {s.get("id"): n for n, s in enumerate(workflow.definition.get("steps", []))}
    steps.sort(key=lambda s: order.get(s.step_id, len(order)))
    tasks = [
        ReportTask(
            step_id=s.step_id,
            title=str(s.inputs.get("title") or s.step_id),
            role=_text(s.inputs.get("role")),
            agent=s.agent,
            status=s.status,
            attempt=s.attempt,
            risk_tier=s.risk_tier,
            duration_s=_seconds(s.started_at, s.ended_at),
            input_tokens=s.input_tokens,
            output_tokens=s.output_tokens,
            cost_usd=micros_to_usd(s.cost_micros),
            summary=_text(s.outputs.get("summary")),
            documents=[a.name for a in artifacts if a.step_id == s.step_id],
            error=s.error,
        )
        for s in steps
    ]
    risks = plan_risk_items(plan_risks)
    next_steps = plan_next_step_items(plan_next)
    for s in steps:
        for item in _dicts(s.outputs.get("risks")):
            if title := _text(item.get("title")):
                risks.append(
                    ReportRisk(
                        title=title,
                        severity=_text(item.get("severity")),
                        likelihood=_text(item.get("likelihood")),
                        mitigation=_text(item.get("mitigation")) or "",
                        source=s.step_id,
                    )
                )
        for item in _dicts(s.outputs.get("next_steps")):
            if text := _text(item.get("text")):
                priority = _text(item.get("priority"))
                next_steps.append(ReportNextStep(text=text, priority=priority, source=s.step_id))
    usage: dict[str, list[int]] = {}
    for s in steps:
        totals = usage.setdefault(s.agent, [0, 0, 0, 0])
        for i, value in enumerate((1, s.input_tokens, s.output_tokens, s.cost_micros)):
            totals[i] += value
    duration = _seconds(run.started_at, run.ended_at)
    return RunReport(
        run_id=run.id,
        workflow=ReportWorkflow(id=workflow.id, name=workflow.name, version=workflow.version),
        mission=ReportMission(id=mission.id, title=mission.title, goal=mission.goal)
        if mission
        else None,
        plan=ReportPlan(id=plan.id, version=plan.version, source=plan.source, summary=plan.summary)
        if plan
        else None,
        outcome=ReportOutcome(
            status=run.status,
            error=run.error,
            trigger=run.trigger,
            created_at=run.created_at,
            started_at=run.started_at,
            ended_at=run.ended_at,
            duration_s=duration,
            steps_by_status=dict(Counter(s.status for s in steps)),
        ),
        tasks=tasks,
        artifacts=artifacts,
        risks=_unique(risks, lambda r: r.title),
        next_steps=_unique(next_steps, lambda n: n.text),
        decisions=plan_decision_items(plan_decisions),
        usage=[
            ReportUsage(
                agent=agent,
                steps=n,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                cost_usd=micros_to_usd(micros),
            )
            for agent, (n, tokens_in, tokens_out, micros) in sorted(usage.items())
        ],
        totals=ReportTotals(
            tasks=len(tasks),
            tasks_succeeded=sum(1 for t in tasks if t.status == "succeeded"),
            artifacts=len(artifacts),
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=micros_to_usd(run.spent_micros),
            duration_s=duration,
        ),
        generated_at=utcnow(),
    )


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


_RANK = {"high": 0, "medium": 1, "low": 2}


def _breakdown(by_status: dict[str, int]) -> str:
    others = {s: n for s, n in sorted(by_status.items()) if s != "succeeded"}
    return "; " + ", ".join(f"{n} {s}" for s, n in others.items()) if others else ""


def render_report_markdown(report: RunReport) -> str:
    """The report as Markdown: Outcome, Tasks, Artifacts, Risks, Decisions, Next steps, Usage.

    A decision shows its choice, then its reasons, trade-offs and alternatives (as in JSON).

    Next steps are listed high priority first (stable within a priority). Pure: the same report
    always renders to the same text.
    """
    title = report.mission.title if report.mission else report.workflow.name
    outcome, totals = report.outcome, report.totals
    lines = [f"# Run report — {title}", ""]
    lines += [
        f"_Run `{report.run_id}` of workflow “{report.workflow.name}” v{report.workflow.version};"
        f" generated {report.generated_at:%Y-%m-%d %H:%M} UTC._",
        "",
        "## Outcome",
        "",
        f"- **Status:** {outcome.status} ({totals.tasks_succeeded} of {totals.tasks} tasks "
        f"succeeded{_breakdown(outcome.steps_by_status)})",
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
    lines += ["", "## Tasks", ""]
    lines += _table(
        ["#", "Step", "Title", "Role", "Status", "Attempt", "Duration", "Tokens in / out", "Cost"],
        [
            [n, f"`{t.step_id}`", t.title, t.role or t.agent, t.status, t.attempt,
             _duration(t.duration_s), f"{t.input_tokens} / {t.output_tokens}", f"${t.cost_usd:.4f}"]
            for n, t in enumerate(report.tasks, 1)
        ],
    )  # fmt: skip
    failures = [f"- `{t.step_id}`: {t.error}" for t in report.tasks if t.error]
    if failures:
        lines += ["Failures:", "", *failures, ""]
    lines += ["## Artifacts", ""]
    lines += _table(
        ["Name", "Kind", "Size", "Step"],
        [[a.name, a.kind, _size(a.size), a.step_id or "—"] for a in report.artifacts],
    )
    lines += ["## Risks", ""]
    lines += _table(
        ["Risk", "Severity", "Likelihood", "Mitigation", "Source"],
        [
            [r.title, r.severity or "—", r.likelihood or "—", r.mitigation, r.source]
            for r in report.risks
        ],
    )
    lines += ["## Decisions", ""]
    for d in report.decisions:
        lines.append(f"- **{d.title}:** {d.choice}")
        if d.reasons:
            lines.append(f"  - Reasons: {'; '.join(d.reasons)}")
        if d.trade_offs:
            lines.append(f"  - Trade-offs: {'; '.join(d.trade_offs)}")
        if d.alternatives:
            lines.append(f"  - Alternatives: {'; '.join(d.alternatives)}")
    lines += ([] if report.decisions else ["_None recorded._"]) + ["", "## Next steps", ""]
    ranked = sorted(report.next_steps, key=lambda n: _RANK.get(n.priority or "medium", 1))
    lines += [f"- [{n.priority or 'medium'}] {n.text} _({n.source})_" for n in ranked]
    lines += [] if ranked else ["_None._"]
    lines += ["", "## Usage and cost", ""]
    rows: list[list[object]] = [
        [u.agent, u.steps, u.input_tokens, u.output_tokens, f"${u.cost_usd:.4f}"]
        for u in report.usage
    ]
    rows.append(["**Total**", totals.tasks, totals.input_tokens, totals.output_tokens,
                 f"${totals.cost_usd:.4f}"])  # fmt: skip
    lines += _table(["Agent", "Steps", "Input tokens", "Output tokens", "Cost (USD)"], rows)
    return "\n".join(lines).rstrip() + "\n"


def _report_key(status: str, ended_at: datetime | None) -> dict[str, Any]:
    """What a report describes: the run's outcome. A new outcome (a retried run) gets a new one."""
    ended = ended_at.isoformat() if ended_at else None
    return {"report": True, "run_status": status, "run_ended_at": ended}


async def _existing_reports(session: AsyncSession, run: Run) -> list[ArtifactRead]:
    rows = await session.scalars(
        select(Artifact)
        .where(Artifact.run_id == run.id, Artifact.kind == REPORT_KIND)
        .order_by(Artifact.id)
    )
    key = _report_key(run.status, run.ended_at)
    found = [a for a in rows.all() if all(a.meta.get(k) == v for k, v in key.items())]
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
        run = await session.get(Run, run_id)
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


def _markdown(report: RunReport) -> bytes:
    return render_report_markdown(report).encode("utf-8")


def _json(report: RunReport) -> bytes:
    return report.model_dump_json(indent=2).encode("utf-8")


__all__ = ["build_run_report", "render_report_markdown", "write_run_report"]
